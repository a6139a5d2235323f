/* SPDX-License-Identifier: MIT */
/*
 * Candidate flows of one peer and the punch schedule (PROTOCOL.md 16.5, 16.6). A
 * candidate is only a place to send an INIT: the handshake decides who answers there,
 * so everything here is bounded and cheap rather than trusted. The set is fixed-size;
 * what an introducer or a LAN says can never push out a path that carried a session.
 */
#include <stdlib.h>
#include <string.h>

#include <silosec/core.h>

#include "internal.h"

struct ss_cands {
	ss_ctx *ctx;
	uint8_t n;
	ss_cand_info c[SS_CAND_MAX];
	uint64_t lan_time; /* newest LAN announcement accepted for this peer */
	uint64_t reflexive_ns;
	bool reflexive_sent;
	struct {
		bool active, relay_sent, sent; /* sent: an INIT went out in this attempt */
		uint8_t round;		       /* next round to send */
		uint8_t fails;		       /* consecutive attempts that found no direct path */
		unsigned flags;
		uint64_t start_ns, fresh_ns, backoff_until;
	} p;
};

static bool in_prefix(const uint8_t a[16], const ss_prefix *p)
{
	unsigned full = p->len / 8, bits = p->len % 8;

	if (memcmp(a, p->addr, full))
		return false;
	return !bits || ((a[full] ^ p->addr[full]) & (uint8_t)(0xff << (8 - bits))) == 0;
}

int ss_ctx_set_candidate_policy(ss_ctx *ctx, const ss_prefix *allow, size_t n_allow,
				const uint8_t (*own)[16], size_t n_own)
{
	if (!ctx || n_allow > SS_CAND_ALLOW_MAX || n_own > SS_CAND_OWN_MAX || (n_allow && !allow) ||
	    (n_own && !own))
		return SS_ERR_INVAL;
	for (size_t i = 0; i < n_allow; i++)
		if (allow[i].len > 128)
			return SS_ERR_INVAL;
	memset(&ctx->cand_policy, 0, sizeof(ctx->cand_policy));
	if (n_allow)
		memcpy(ctx->cand_policy.allow, allow, n_allow * sizeof(*allow));
	if (n_own)
		memcpy(ctx->cand_policy.own, own, n_own * sizeof(*own));
	ctx->cand_policy.n_allow = (uint8_t)n_allow;
	ctx->cand_policy.n_own = (uint8_t)n_own;
	return 0;
}

int ss_cand_allowed(const ss_cand_policy *pol, const ss_flow *flow, enum ss_cand_source source)
{
	const uint8_t *a = flow->remote_addr;
	bool allowed = pol->n_allow == 0;

	/* Virtual flows are made by this host for its relay circuits, never learned. */
	if ((source == SS_CAND_RELAY) != (flow->proto == SS_RELAY_PROTO))
		return SS_ERR_CANDIDATE;
	if (source == SS_CAND_RELAY)
		return 0;
	if (flow->proto != 17 && flow->proto != 99 && flow->proto != 6)
		return SS_ERR_CANDIDATE;
	if (ss_reach_endpoint_check(a, flow->proto == 17 ? flow->remote_port : 1))
		return SS_ERR_CANDIDATE;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80 && source != SS_CAND_LAN)
		return SS_ERR_CANDIDATE;
	for (unsigned i = 0; i < pol->n_own; i++)
		if (!memcmp(a, pol->own[i], 16))
			return SS_ERR_CANDIDATE;
	for (unsigned i = 0; !allowed && i < pol->n_allow; i++)
		allowed = in_prefix(a, &pol->allow[i]);
	return allowed ? 0 : SS_ERR_CANDIDATE;
}

int ss_cands_create(ss_ctx *ctx, ss_cands **out)
{
	ss_cands *c;

	if (!ctx || !out)
		return SS_ERR_INVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return SS_ERR_NOMEM;
	c->ctx = ctx;
	*out = c;
	return 0;
}

void ss_cands_free(ss_cands *c)
{
	free(c);
}

static int find(const ss_cands *c, const ss_flow *flow)
{
	for (int i = 0; i < c->n; i++)
		if (ss_flow_equal(&c->c[i].flow, flow))
			return i;
	return -1;
}

static void drop(ss_cands *c, int i)
{
	c->c[i] = c->c[--c->n];
	memset(&c->c[c->n], 0, sizeof(c->c[c->n]));
}

static void expire(ss_cands *c, uint64_t now)
{
	for (int i = c->n - 1; i >= 0; i--) {
		const ss_cand_info *e = &c->c[i];
		uint64_t last = e->seen_ns > e->confirmed_ns ? e->seen_ns : e->confirmed_ns;
		uint64_t life = e->source == SS_CAND_LAN ? SS_LAN_LIFETIME : SS_CAND_LIFETIME;

		if (e->source != SS_CAND_CONFIGURED && now - last >= life)
			drop(c, i);
	}
}

/* The least recently seen candidate nobody vouches for: not configured, never confirmed. */
static int victim(const ss_cands *c)
{
	int v = -1;

	for (int i = 0; i < c->n; i++) {
		const ss_cand_info *e = &c->c[i];

		if (e->source == SS_CAND_CONFIGURED || e->confirmed_ns)
			continue;
		if (v < 0 || e->seen_ns < c->c[v].seen_ns)
			v = i;
	}
	return v;
}

int ss_cands_add(ss_cands *c, const ss_flow *flow, enum ss_cand_source source)
{
	uint64_t now;
	int i;

	if (!c || !flow || source < SS_CAND_CONFIGURED || source > SS_CAND_RELAY)
		return SS_ERR_INVAL;
	if (ss_cand_allowed(&c->ctx->cand_policy, flow, source))
		return SS_ERR_CANDIDATE;
	now = ss_ctx_mono(c->ctx);
	expire(c, now);
	i = find(c, flow);
	if (i < 0 && c->n == SS_CAND_MAX) {
		i = victim(c);
		if (i < 0)
			return SS_ERR_FULL; /* all configured or proven: keep them */
		drop(c, i);
		i = -1;
	}
	if (i < 0) {
		i = c->n++;
		memset(&c->c[i], 0, sizeof(c->c[i]));
		c->c[i].flow = *flow;
		c->c[i].source = source;
		c->c[i].added_ns = now;
	} else if (source == SS_CAND_CONFIGURED) {
		c->c[i].source = source; /* the operator's word outranks a learned one */
	}
	c->c[i].seen_ns = now;
	return 0;
}

int ss_cands_add_lan(ss_cands *c, const ss_flow *flow, uint64_t announce_ns)
{
	int ret;

	if (!c || !flow)
		return SS_ERR_INVAL;
	if (announce_ns <= c->lan_time)
		return SS_ERR_LAN_SPOOF;
	ret = ss_cands_add(c, flow, SS_CAND_LAN);
	if (!ret)
		c->lan_time = announce_ns;
	return ret;
}

int ss_cands_observe(ss_cands *c, const ss_flow *flow, uint8_t msg_type, int ret, bool *resend)
{
	bool verified = (msg_type == SS_MSG_INIT && (ret == 0 || ret == SS_ERR_UNEXPECTED)) ||
			(msg_type == SS_MSG_RESPONSE && ret == 0);
	uint64_t now;
	int err;

	if (!c || !flow || !resend)
		return SS_ERR_INVAL;
	*resend = false;
	if (!verified || find(c, flow) >= 0)
		return 0;
	err = ss_cands_add(c, flow, SS_CAND_PEER_REFLEXIVE);
	if (err)
		return err;
	/* Only an INIT the tie-break dropped leaves our own INIT waiting for that flow. */
	now = ss_ctx_mono(c->ctx);
	if (ret == SS_ERR_UNEXPECTED &&
	    (!c->reflexive_sent || now - c->reflexive_ns >= SS_CAND_REFLEXIVE_GAP)) {
		c->reflexive_sent = true;
		c->reflexive_ns = now;
		*resend = true;
	}
	return 0;
}

int ss_cands_confirm(ss_cands *c, const ss_flow *flow)
{
	int i;

	if (!c || !flow)
		return SS_ERR_INVAL;
	i = find(c, flow);
	if (i < 0)
		return SS_ERR_NOT_FOUND;
	c->c[i].confirmed_ns = ss_ctx_mono(c->ctx);
	c->c[i].seen_ns = c->c[i].confirmed_ns;
	return 0;
}

size_t ss_cands_count(ss_cands *c)
{
	if (!c)
		return 0;
	expire(c, ss_ctx_mono(c->ctx));
	return c->n;
}

int ss_cands_get(const ss_cands *c, size_t i, ss_cand_info *out)
{
	if (!c || !out)
		return SS_ERR_INVAL;
	if (i >= c->n)
		return SS_ERR_NOT_FOUND;
	*out = c->c[i];
	return 0;
}

/* ---- punch schedule: rounds at 0, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2 s after the start ---- */

static uint64_t round_at(const ss_cands *c, uint8_t round)
{
	return c->p.start_ns + (round ? SS_PUNCH_FIRST_GAP << (round - 1) : 0);
}

/* Both behind endpoint-dependent NATs, or too many recent failures: straight to a relay. */
static bool direct(const ss_cands *c)
{
	return !(c->p.flags & SS_PUNCH_F_BOTH_HARD) && c->p.start_ns >= c->p.backoff_until;
}

static uint64_t relay_at(const ss_cands *c)
{
	return direct(c) ? c->p.start_ns + SS_PUNCH_RELAY_AFTER : c->p.start_ns;
}

static uint64_t give_up_at(const ss_cands *c)
{
	return direct(c) ? c->p.start_ns + SS_PUNCH_GIVE_UP_AFTER : c->p.start_ns;
}

int ss_cands_punch_start(ss_cands *c, uint16_t delay_ms, unsigned flags)
{
	if (!c || delay_ms > SS_PUNCH_MAX_DELAY_MS ||
	    (flags & ~(SS_PUNCH_F_RELAY_OK | SS_PUNCH_F_BOTH_HARD)))
		return SS_ERR_INVAL;
	c->p.active = true;
	c->p.relay_sent = false;
	c->p.sent = false;
	c->p.round = 0;
	c->p.flags = flags;
	c->p.start_ns = ss_ctx_mono(c->ctx) + delay_ms * (SS_NS_PER_SEC / 1000);
	return 0;
}

static enum ss_punch_action send_round(ss_cands *c, uint64_t now)
{
	uint64_t at;
	bool fresh;

	/* Rounds missed by a late caller collapse into one: never a burst of copies. */
	while (c->p.round + 1 < SS_PUNCH_ROUNDS && now >= round_at(c, c->p.round + 1))
		c->p.round++;
	at = round_at(c, c->p.round);
	/* A responder accepts one INIT per SS_HANDSHAKE_MIN_INTERVAL: repeat it until then. */
	fresh = !c->p.sent || at - c->p.fresh_ns >= SS_HANDSHAKE_MIN_INTERVAL;
	if (fresh)
		c->p.fresh_ns = at;
	c->p.sent = true;
	c->p.round++;
	return fresh ? SS_PUNCH_SEND_FRESH : SS_PUNCH_SEND;
}

enum ss_punch_action ss_cands_punch_step(ss_cands *c)
{
	uint64_t now;

	if (!c || !c->p.active)
		return SS_PUNCH_NONE;
	now = ss_ctx_mono(c->ctx);
	if ((c->p.flags & SS_PUNCH_F_RELAY_OK) && !c->p.relay_sent && now >= relay_at(c)) {
		c->p.relay_sent = true;
		return SS_PUNCH_RELAY;
	}
	if (direct(c) && c->p.round < SS_PUNCH_ROUNDS && now >= round_at(c, c->p.round))
		return send_round(c, now);
	if (now < give_up_at(c))
		return SS_PUNCH_NONE;
	c->p.active = false;
	if (direct(c) && ++c->p.fails >= SS_PUNCH_MAX_FAILS) {
		c->p.fails = 0;
		c->p.backoff_until = now + SS_PUNCH_BACKOFF;
	}
	return SS_PUNCH_GIVE_UP;
}

uint64_t ss_cands_punch_deadline(const ss_cands *c)
{
	uint64_t t;

	if (!c || !c->p.active)
		return UINT64_MAX;
	t = give_up_at(c);
	if ((c->p.flags & SS_PUNCH_F_RELAY_OK) && !c->p.relay_sent && relay_at(c) < t)
		t = relay_at(c);
	if (direct(c) && c->p.round < SS_PUNCH_ROUNDS && round_at(c, c->p.round) < t)
		t = round_at(c, c->p.round);
	return t;
}

void ss_cands_punch_done(ss_cands *c)
{
	if (!c)
		return;
	c->p.active = false;
	c->p.fails = 0;
	c->p.backoff_until = 0;
}
