/* SPDX-License-Identifier: MIT */
/*
 * `silosec trust pin|forget` on a running daemon (issue 15 item 5): root edits the
 * TrustStore in the daemon's state directory, then sends "trust name=ENDPOINT". The
 * daemon re-reads the pin for that one TOFU peer and replaces only that peer's core
 * state: its next handshake uses (or learns) the new identity, and every other peer
 * keeps its session.
 */
#include <stdio.h>
#include <string.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "common/truststore.h"
#include "daemon.h"
#include "log.h"

static ss_dpeer *find_tofu(ss_daemon *d, const char *name)
{
	for (ss_dpeer *p = d->peers; p; p = p->next)
		if (p->tofu && p->name && !strcmp(p->name, name))
			return p;
	return NULL;
}

/* The store's pin for name: 0 (in id), SS_ERR_NOT_FOUND, or an error with err set. */
static int lookup(ss_daemon *d, const char *name, uint8_t id[SS_IDENTITY_LEN], char *err,
		  size_t errlen)
{
	ss_truststore *ts;
	int ret = ss_trust_load(d->conf->trust_store, &ts, err, errlen);

	if (ret)
		return ret;
	ret = ss_trust_lookup(ts, name, id);
	ss_trust_free(ts);
	return ret;
}

/* A new core peer for p, whose old one is removed (a pointer the core no longer lists). */
static int attach(ss_daemon *d, ss_dpeer *p, const uint8_t *pin)
{
	ss_peer *np;
	int ret = ss_peer_add_tofu(d->ctx, pin, &np);

	if (ret)
		return ret;
	p->sp = np;
	ss_peer_set_user(np, p);
	if (p->has_endpoint)
		ss_peer_set_flow(np, &p->endpoint);
	ss_peer_set_keepalive(np, p->keepalive);
	p->tofu_pinned = pin != NULL;
	return 0;
}

int ss_daemon_trust_reload(ss_daemon *d, const char *name, char *err, size_t errlen)
{
	uint8_t pin[SS_IDENTITY_LEN], old[SS_IDENTITY_LEN];
	const uint8_t *cur;
	ss_dpeer *p = d->conf->trust_store ? find_tofu(d, name) : NULL;
	bool had;
	int ret;

	if (!p) {
		snprintf(err, errlen,
			 "SS_ERR_NOT_FOUND: no Identity = tofu peer with Endpoint %.64s", name);
		return SS_ERR_NOT_FOUND;
	}
	ret = lookup(d, name, pin, err, errlen);
	if (ret && ret != SS_ERR_NOT_FOUND)
		return ret;
	cur = ss_peer_identity(p->sp);
	if (cur && !ret && !memcmp(cur, pin, SS_IDENTITY_LEN))
		return 0; /* already the identity in use: keep its session */
	if (!cur && ret && !p->tofu_pinned)
		return 0; /* nothing pinned, nothing learned: nothing to undo */
	had = cur != NULL;
	if (had)
		memcpy(old, cur, SS_IDENTITY_LEN);
	ss_daemon_tun_flush(d);
	ss_peer_remove(d->ctx, p->sp);
	if (attach(d, p, ret ? NULL : pin)) {
		snprintf(err, errlen, "out of memory");
		/* Put the old pin back; without even that, the peer cannot stay. */
		if (attach(d, p, had ? old : NULL))
			ss_daemon_remove_peer(d, p);
		return SS_ERR_NOMEM;
	}
	ss_daemon_audit(d, "tofu_pin", ret ? "forget" : "pin", 0, ret ? (had ? old : NULL) : pin,
			NULL, name);
	ss_log(LOG_NOTICE, "SS_TUN_TRUSTSTORE: %s %s by silosec trust; other peers untouched", name,
	       ret ? "forgotten" : "re-pinned");
	if (p->has_endpoint)
		ss_daemon_kick(d, p);
	return 0;
}
