/* SPDX-License-Identifier: MIT */
/*
 * Candidate flows and hole punching in silosecd (PROTOCOL.md 16.5, 16.6). A candidate is
 * only a place to send an INIT: the core's allow list admits it, the punch schedule
 * (ss_cands_punch_step) says when, and the handshake decides who is there. The INIT copies
 * of one round are the same bytes, so a responder accepts one and drops the rest as stale.
 */
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <netinet/in.h>

#include "daemon.h"
#include "log.h"
#include "reach.h"
#include "relay.h"

void ss_reach_drop(ss_daemon *d, ss_dpeer *p, int code)
{
	int i = ss_drop_index(code);

	if (i < 0)
		return;
	if (p)
		ss_peer_count_drop(p->sp, code); /* shown with the core's drops for p */
	else
		d->reach_drops[i]++;
}

/*
 * A peer's candidate set is made when it is first needed (a candidate offered, a
 * handshake, a punch), seeded with its Endpoint: an idle configured peer costs none of
 * it, which keeps a configured peer under 2 KiB (t_scale).
 */
int ss_reach_peer_init(ss_daemon *d, ss_dpeer *p)
{
	(void)d;
	p->cands = NULL;
	return 0;
}

ss_cands *ss_reach_cands(ss_daemon *d, ss_dpeer *p)
{
	if (p->cands)
		return p->cands;
	if (ss_cands_create(d->ctx, &p->cands)) {
		p->cands = NULL;
		return NULL;
	}
	/* Refused only by the allow list (a loopback Endpoint): it is still used. */
	if (p->has_endpoint && ss_cands_add(p->cands, &p->endpoint, SS_CAND_CONFIGURED))
		ss_log(LOG_DEBUG, "SS_ERR_CANDIDATE: a peer's Endpoint is not a candidate");
	return p->cands;
}

int ss_reach_set_introduce(ss_dpeer *p, bool introduce)
{
	p->reach.introduce = introduce;
	if (!introduce) {
		free(p->reach.slot);
		p->reach.slot = NULL;
	} else if (!p->reach.slot && !(p->reach.slot = calloc(1, sizeof(*p->reach.slot)))) {
		p->reach.introduce = false;
		return SS_ERR_NOMEM;
	}
	return 0;
}

void ss_reach_peer_free(ss_dpeer *p)
{
	(void)ss_reach_set_introduce(p, false);
	ss_cands_free(p->cands);
	p->cands = NULL;
	ss_reach_release(p);
}

bool ss_reach_has_candidates(ss_dpeer *p)
{
	return p->cands && ss_cands_count(p->cands) > 0;
}

/* Every candidate gets the same INIT; virtual flows go through xmit like any other. */
static bool same_dest(const ss_flow *a, const ss_flow *b)
{
	return a->proto == b->proto && a->remote_port == b->remote_port &&
	       !memcmp(a->remote_addr, b->remote_addr, sizeof(a->remote_addr));
}

/* The INIT to every candidate but sent, the flow that already carried this copy. */
static void send_copies(ss_daemon *d, ss_dpeer *p, const uint8_t *init, const ss_flow *sent)
{
	size_t n = ss_cands_count(p->cands);
	ss_cand_info ci;

	for (size_t i = 0; i < n; i++)
		if (!ss_cands_get(p->cands, i, &ci) && (!sent || !same_dest(&ci.flow, sent)))
			ss_daemon_xmit(d, p, &ci.flow, init, SS_INIT_LEN);
}

/* The next INIT should be a new one (a round at least 0.5 s after the last). */
static void want_fresh(ss_daemon *d, ss_dpeer *p)
{
	ss_preach_ext *x = ss_reach_ext(p);

	if (x)
		x->fresh_wanted = true;
	/* Moves a pending retry forward (never sooner than a responder accepts it)... */
	ss_peer_restart_handshake(p->sp, false);
	/* ...or asks for the first one; a completed handshake clears the wish. */
	ss_peer_want_handshake(p->sp);
	ss_daemon_touch(d, p);
}

static bool punching(const ss_dpeer *p)
{
	return p->cands && ss_cands_punch_deadline(p->cands) != UINT64_MAX;
}

int ss_reach_punch(ss_daemon *d, ss_dpeer *p, uint16_t delay_ms, unsigned flags)
{
	uint64_t now = ss_mono_ns();
	ss_preach_ext *x;
	ss_cand_info ci;
	int ret;

	if (!ss_reach_has_candidates(p))
		return SS_ERR_NOT_FOUND;
	if (punching(p))
		return 0;
	if (!(x = ss_reach_ext(p)))
		return SS_ERR_NOMEM;
	/* One attempt per peer per SS_PUNCH_PAIR_INTERVAL: a lying introducer gets no more. */
	if (x->punch_started_ns && now - x->punch_started_ns < SS_PUNCH_PAIR_INTERVAL)
		return SS_ERR_REACH_RATE;
	/* The core makes INITs only for a peer with a flow: the first candidate will do. */
	if (!p->has_endpoint && !ss_cands_get(p->cands, 0, &ci))
		ss_peer_set_flow(p->sp, &ci.flow);
	ret = ss_cands_punch_start(p->cands, delay_ms, flags);
	if (ret)
		return ret;
	x->punch_started_ns = now;
	ss_daemon_touch(d, p);
	return 0;
}

bool ss_reach_want_path(ss_daemon *d, ss_dpeer *p)
{
	const ss_preach_ext *x = ss_reach_get(p);
	uint64_t now = ss_mono_ns();

	if (punching(p))
		return true;
	/* Within the pair interval the last attempt's candidates are all we have. */
	if (x->punch_started_ns && now - x->punch_started_ns < SS_PUNCH_PAIR_INTERVAL)
		return ss_reach_has_candidates(p) || x->q_tries;
	/* Ask again rather than punch alone: the other side punches only when told to. */
	if (!ss_intro_query(d, p))
		return true;
	if (ss_reach_has_candidates(p)) {
		(void)ss_reach_punch(d, p, 0, 0);
		return true;
	}
	return false;
}

int ss_daemon_offer_candidate(ss_daemon *d, ss_dpeer *p, const ss_flow *flow,
			      enum ss_cand_source src)
{
	ss_cands *c = ss_reach_cands(d, p);
	int ret = c ? ss_cands_add(c, flow, src) : SS_ERR_NOMEM;

	if (ret) {
		ss_reach_drop(d, p, ret);
		return ret;
	}
	if (ss_peer_has_session(p->sp))
		return 0;
	if (!p->has_endpoint && !punching(p))
		ss_peer_set_flow(p->sp, flow);
	if (p->qhead || p->keepalive)
		(void)ss_reach_punch(d, p, 0, 0);
	ss_daemon_touch(d, p);
	return 0;
}

void ss_reach_on_init_made(ss_daemon *d, ss_dpeer *p, const uint8_t *pkt, size_t len,
			   const ss_flow *sent)
{
	ss_preach_ext *x;

	if (len != SS_INIT_LEN || pkt[0] != SS_MSG_INIT)
		return;
	/* Out of memory: no copy to resend, so every punch round asks for a fresh INIT. */
	if (!(x = ss_reach_ext(p)))
		return;
	memcpy(x->init, pkt, SS_INIT_LEN);
	x->has_init = true;
	if (x->fresh_wanted || punching(p)) {
		x->fresh_wanted = false;
		send_copies(d, p, x->init, sent);
	}
}

const char *ss_reach_source_name(enum ss_cand_source s)
{
	switch (s) {
	case SS_CAND_CONFIGURED:
		return "configured";
	case SS_CAND_INTRODUCER:
		return "introducer";
	case SS_CAND_PEER_REFLEXIVE:
		return "peer-reflexive";
	case SS_CAND_LAN:
		return "lan";
	case SS_CAND_RELAY:
		return "relay";
	}
	return "?";
}

static enum ss_cand_source source_of(ss_dpeer *p, const ss_flow *flow)
{
	size_t n = p->cands ? ss_cands_count(p->cands) : 0;
	ss_cand_info ci;

	for (size_t i = 0; i < n; i++)
		if (!ss_cands_get(p->cands, i, &ci) && !memcmp(&ci.flow, flow, sizeof(*flow)))
			return ci.source;
	return 0;
}

void ss_reach_on_handshake(ss_daemon *d, ss_dpeer *p, const ss_flow *flow)
{
	enum ss_cand_source src;
	char detail[160], a[96];
	ss_preach_ext *x;

	if (!ss_reach_cands(d, p) || !(x = ss_reach_ext(p)))
		return;
	if (ss_cands_confirm(p->cands, flow) == SS_ERR_NOT_FOUND &&
	    !ss_cands_add(p->cands, flow, SS_CAND_PEER_REFLEXIVE) &&
	    ss_cands_confirm(p->cands, flow))
		return; /* cannot happen: just added */
	if (flow->proto != SS_RELAY_PROTO)
		ss_cands_punch_done(p->cands);
	x->fresh_wanted = false;
	ss_intro_on_handshake(d, p);
	if (x->has_path && !memcmp(&x->path, flow, sizeof(*flow)))
		return;
	src = source_of(p, flow);
	x->path = *flow;
	x->has_path = true;
	if (ss_flow_virtual(flow))
		ss_relay_describe(p, flow, a, sizeof(a));
	else
		ss_flow_format(flow, a, sizeof(a));
	snprintf(detail, sizeof(detail), "path %s (%s)", a,
		 src ? ss_reach_source_name(src) : "unknown");
	ss_daemon_audit(d, "path", "change", 0, ss_peer_identity(p->sp), flow, detail);
}

void ss_reach_observe(ss_daemon *d, ss_dpeer *p, const ss_flow *flow, uint8_t type, int ret)
{
	const ss_preach_ext *x = ss_reach_get(p);
	bool resend = false;
	int r;

	if ((type != SS_MSG_INIT && type != SS_MSG_RESPONSE) || !ss_reach_cands(d, p))
		return;
	r = ss_cands_observe(p->cands, flow, type, ret, &resend);
	if (r)
		ss_reach_drop(d, p, r);
	/* A crossing INIT from a mapping nobody predicted: ours goes back through it. */
	if (resend && x->has_init)
		ss_daemon_xmit(d, p, flow, x->init, SS_INIT_LEN);
}

void ss_reach_tick(ss_daemon *d, ss_dpeer *p, uint64_t now)
{
	const ss_preach_ext *x;
	enum ss_punch_action a;

	ss_intro_tick(d, p, now);
	while (p->cands && (a = ss_cands_punch_step(p->cands)) != SS_PUNCH_NONE) {
		switch (a) {
		case SS_PUNCH_SEND:
			x = ss_reach_get(p);
			if (x->has_init && !x->fresh_wanted) {
				send_copies(d, p, x->init, NULL);
				break;
			}
			want_fresh(d, p);
			break;
		case SS_PUNCH_SEND_FRESH:
			want_fresh(d, p);
			break;
		case SS_PUNCH_GIVE_UP:
			ss_log(LOG_INFO, "SS_TUN_PUNCH: no direct path to a peer this time");
			(void)ss_relay_fallback(d, p);
			break;
		case SS_PUNCH_RELAY: /* a circuit joins the candidates (relay.c) */
			(void)ss_relay_fallback(d, p);
			break;
		case SS_PUNCH_NONE:
			break;
		}
	}
}

uint64_t ss_reach_deadline(const ss_daemon *d, const ss_dpeer *p)
{
	uint64_t a = p->cands ? ss_cands_punch_deadline(p->cands) : UINT64_MAX,
		 b = ss_intro_deadline(p);

	(void)d;
	/*
	 * A peer found through an introducer: notice on time that its session went silent
	 * (its NAT mapping may be gone), so that tick_peer asks the introducers again.
	 */
	if (!p->name && ss_peer_has_session(p->sp) && p->last_tx_data_ns > p->last_rx_ns &&
	    p->last_rx_ns + SS_STALE_AFTER + 1 < b)
		b = p->last_rx_ns + SS_STALE_AFTER + 1;
	return a < b ? a : b;
}

static void mapped(uint8_t out[16], const struct sockaddr *sa)
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
}

/* Our own addresses are never candidates; with AdvertiseLocal they are our candidates. */
static void local_addrs(ss_daemon *d, uint8_t (*own)[16], size_t *n_own)
{
	struct ifaddrs *ifa = NULL;
	ss_endpoint e = {.port = d->tr.port};

	*n_own = 0;
	if (getifaddrs(&ifa))
		return;
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr ||
		    (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		mapped(e.addr, i->ifa_addr);
		if (*n_own < SS_CAND_OWN_MAX)
			memcpy(own[(*n_own)++], e.addr, 16);
		/* All of them: AdvertiseLocal may be turned on later (syncconf), when
		 * getifaddrs' netlink socket is refused by the sandbox. */
		if (d->reach.nlocal < SS_REACH_MAX_CAND && !(i->ifa_flags & IFF_LOOPBACK) &&
		    !(e.addr[0] == 0xfe && (e.addr[1] & 0xc0) == 0x80) &&
		    strcmp(i->ifa_name, d->conf->name))
			d->reach.local[d->reach.nlocal++] = e;
	}
	freeifaddrs(ifa);
}

int ss_reach_setup(ss_daemon *d)
{
	size_t n_own;

	d->reach.proto = d->tr.kind == SS_TRANSPORT_UDP ? 17 : 99;
	local_addrs(d, d->reach.own, &n_own);
	d->reach.n_own = (uint8_t)n_own;
	return ss_reach_set_policy(d);
}

int ss_reach_set_policy(ss_daemon *d)
{
	ss_prefix allow[SS_CAND_ALLOW_MAX];
	size_t n = d->conf->ncand_allow;

	for (size_t i = 0; i < n && i < SS_CAND_ALLOW_MAX; i++) {
		const ss_cidr *c = &d->conf->cand_allow[i];

		memset(&allow[i], 0, sizeof(allow[i]));
		if (c->family == AF_INET) {
			allow[i].addr[10] = allow[i].addr[11] = 0xff;
			memcpy(allow[i].addr + 12, c->addr, 4);
			allow[i].len = (uint8_t)(96 + c->prefix);
		} else {
			memcpy(allow[i].addr, c->addr, 16);
			allow[i].len = c->prefix;
		}
	}
	return ss_ctx_set_candidate_policy(d->ctx, allow, n, (const uint8_t(*)[16])d->reach.own,
					   d->reach.n_own);
}
