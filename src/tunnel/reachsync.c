/* SPDX-License-Identifier: MIT */
/*
 * `silosec syncconf` and the reachability keys (PROTOCOL.md 16): Introducer, Introduce
 * and Relay of each peer, LanDiscovery, AdvertiseLocal, Private and CandidateAllow of the
 * interface, applied to the running daemon without touching unchanged peers. What the
 * sandboxed daemon cannot do (open the LAN sockets it did not open at start) is refused
 * with an error line that names the key, never ignored.
 */
#include <stdlib.h>
#include <string.h>

#include "ctlparse.h"
#include "daemon.h"
#include "log.h"
#include "reach.h"
#include "relay.h"

/* p is one of our introducers no more: forget what it told us (show, HARD_NAT). */
static void introducer_off(ss_daemon *d, ss_dpeer *p)
{
	ss_preach_ext *x = p->reach.x; /* none: it told us nothing (the timer pass frees it) */

	if (x) {
		x->reg_txid = 0;
		x->has_reflexive = false;
		x->reg_ok_ns = 0;
		x->rtt_ms = 0;
	}
	ss_intro_hard_nat_update(d, ss_mono_ns());
}

int ss_reach_sync_peer(ss_daemon *d, ss_dpeer *p, const ss_conf_peer *cp)
{
	int ret;

	if (p->reach.introducer != cp->introducer) {
		p->reach.introducer = cp->introducer;
		if (cp->introducer)
			ss_reach_register_now(p); /* at once (ss_intro_tick) */
		else
			introducer_off(d, p);
		ss_daemon_touch(d, p);
	}
	/* Introduce = no frees the slot: its registration goes, its QUERYs are refused. */
	ret = ss_reach_set_introduce(p, cp->introduce);
	if (!ret && p->relay_mode != cp->relay) {
		bool ok_before = false, ok_after = false;

		for (ss_dpeer *i = d->peers; i; i = i->next)
			ok_before |= i->relay_mode == SS_CONF_RELAY_USE;
		ret = ss_relay_set_mode(d, p, cp->relay);
		for (ss_dpeer *i = d->peers; i; i = i->next)
			ok_after |= i->relay_mode == SS_CONF_RELAY_USE;
		/* RELAY_OK in our registrations follows our relays. */
		if (ok_before != ok_after)
			for (ss_dpeer *i = d->peers; i; i = i->next)
				if (i->reach.introducer) {
					ss_reach_register_now(i);
					ss_daemon_touch(d, i);
				}
	}
	return ret;
}

static void error_line(FILE *f, const char *msg)
{
	ss_log(LOG_WARNING, "SS_TUN_RELOAD: %s", msg);
	if (f)
		fprintf(f, "refused=%s\n", msg);
}

/* The introducers hear our new candidates or flags now, not in up to 20 s. */
static void register_again(ss_daemon *d)
{
	for (ss_dpeer *i = d->peers; i; i = i->next)
		if (i->reach.introducer) {
			ss_reach_register_now(i);
			ss_daemon_touch(d, i);
		}
}

static bool same_cidrs(const ss_conf *a, const ss_conf *b)
{
	return a->ncand_allow == b->ncand_allow &&
	       (!a->ncand_allow ||
		!memcmp(a->cand_allow, b->cand_allow, a->ncand_allow * sizeof(*a->cand_allow)));
}

static int sync_cand_allow(ss_daemon *d, const ss_conf *nc, FILE *f)
{
	ss_cidr *copy = NULL, *old = d->conf->cand_allow;
	size_t n = nc->ncand_allow, old_n = d->conf->ncand_allow;

	if (same_cidrs(d->conf, nc))
		return 0;
	if (n && !(copy = malloc(n * sizeof(*copy)))) {
		error_line(f, "CandidateAllow: not applied: out of memory");
		return SS_ERR_NOMEM;
	}
	if (n)
		memcpy(copy, nc->cand_allow, n * sizeof(*copy));
	d->conf->cand_allow = copy;
	d->conf->ncand_allow = n;
	if (ss_reach_set_policy(d)) {
		d->conf->cand_allow = old;
		d->conf->ncand_allow = old_n;
		free(copy);
		error_line(f, "CandidateAllow: not applied: more than 16 prefixes");
		return SS_ERR_INVAL;
	}
	free(old);
	/* Candidates already learned stay until they expire; new ones pass the new list. */
	return 0;
}

int ss_reach_sync_iface(ss_daemon *d, const ss_conf *nc, unsigned given, FILE *f)
{
	char err[256];
	int ret = 0, r;

	if (given & SS_SYNC_LAN_DISCOVERY) {
		r = ss_lan_set_mode(d, nc->lan_discovery, err, sizeof(err));
		if (r) {
			error_line(f, err);
			ret = r;
		} else {
			d->conf->lan_discovery = nc->lan_discovery;
		}
	}
	if ((given & SS_SYNC_ADVERTISE_LOCAL) && d->conf->advertise_local != nc->advertise_local) {
		d->conf->advertise_local = nc->advertise_local;
		register_again(d);
	}
	if ((given & SS_SYNC_PRIVATE) && d->conf->private_host != nc->private_host) {
		d->conf->private_host = nc->private_host;
		register_again(d);
	}
	if ((given & SS_SYNC_CAND_ALLOW) && (r = sync_cand_allow(d, nc, f)) != 0)
		ret = r;
	return ret;
}
