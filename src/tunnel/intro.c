/* SPDX-License-Identifier: MIT */
/*
 * Introducers in silosecd (PROTOCOL.md 16.4). As a host: REGISTER with each introducer
 * every SS_REGISTER_INTERVAL (the NAT keepalive too), QUERY them for a peer with no path,
 * and punch on ANSWER or PUNCH. As an introducer: one registration per configured peer,
 * ANSWER and PUNCH sent together. Refusals are silent and counted (SS_ERR_REACH_*).
 */
#include <string.h>

#include "daemon.h"
#include "intro.h"
#include "log.h"
#include "relay.h"

static uint32_t txid_new(void)
{
	uint32_t t = 0;

	while (!t)
		if (ss_random_system(NULL, (uint8_t *)&t, sizeof(t)))
			t = 1;
	return t;
}

/* Seal m on p's session and queue it; 0 or the core's refusal (no session). */
static int send_reach(ss_daemon *d, ss_dpeer *p, const ss_reach_msg *m)
{
	uint8_t pt[SS_REACH_LEN], out[SS_REACH_CONTROL_LEN + 64];
	size_t olen;
	ss_flow flow;
	int ret = ss_reach_encode(m, pt);

	if (!ret)
		ret = ss_peer_seal_reach(d->ctx, p->sp, pt, out, sizeof(out), &olen, &flow);
	if (!ret)
		ss_daemon_xmit(d, p, &flow, out, olen);
	return ret;
}

/* What a REGISTER says of us (16.2): HARD_NAT, PRIVATE, RELAY_OK (a relay of ours). */
static uint8_t our_flags(const ss_daemon *d)
{
	uint8_t f = (d->reach.hard_nat ? SS_REACH_F_HARD_NAT : 0) |
		    (d->conf->private_host ? SS_REACH_F_PRIVATE : 0);

	for (const ss_dpeer *i = d->peers; i && !(f & SS_REACH_F_RELAY_OK); i = i->next)
		if (i->relay_mode == SS_CONF_RELAY_USE)
			f |= SS_REACH_F_RELAY_OK;
	return f;
}

static void do_register(ss_daemon *d, ss_dpeer *p, uint64_t now)
{
	ss_preach_ext *x = ss_reach_ext(p);
	ss_reach_msg m = {.type = SS_CTL_REGISTER};

	if (!x)
		return;
	m.rtt_ms = x->rtt_ms;
	x->reg_next_ns = now + SS_REGISTER_INTERVAL;
	m.txid = txid_new();
	m.flags = our_flags(d);
	if (d->conf->advertise_local) {
		m.n_cand = d->reach.nlocal;
		memcpy(m.cand, d->reach.local, d->reach.nlocal * sizeof(m.cand[0]));
	}
	if (send_reach(d, p, &m))
		return;
	x->reg_txid = m.txid;
	x->reg_sent_ns = now;
}

void ss_intro_on_handshake(ss_daemon *d, ss_dpeer *p)
{
	if (p->reach.introducer)
		do_register(d, p, ss_mono_ns());
}

static void query_send(ss_daemon *d, ss_dpeer *t, uint64_t now)
{
	ss_reach_msg m = {.type = SS_CTL_QUERY};
	ss_preach_ext *x = ss_reach_ext(t);
	unsigned k = 0, n = 0;
	ss_dpeer *via = NULL;

	if (!x)
		return;
	for (ss_dpeer *i = d->peers; i; i = i->next)
		if (i->reach.introducer && i != t && ss_peer_has_session(i->sp))
			n++;
	/* Introducers in configured order, one per try. */
	for (ss_dpeer *i = d->peers; n && i; i = i->next)
		if (i->reach.introducer && i != t && ss_peer_has_session(i->sp) &&
		    k++ == x->q_tries % n)
			via = i;
	x->q_tries++;
	x->q_sent_ns = now;
	if (!via)
		return;
	m.txid = x->q_txid = txid_new();
	m.rtt_ms = ss_reach_get(via)->rtt_ms;
	memcpy(m.subject, ss_peer_identity(t->sp), SS_IDENTITY_LEN);
	(void)send_reach(d, via, &m);
}

void ss_intro_on_stale(ss_daemon *d, ss_dpeer *p)
{
	ss_preach_ext *x = p->reach.x; /* none: nothing to forget */

	if (x) {
		x->q_tries = 0;
		x->q_negative_until = 0;
		x->punch_started_ns = 0;
	}
	(void)ss_intro_query(d, p);
}

int ss_intro_query(ss_daemon *d, ss_dpeer *p)
{
	const ss_preach_ext *x = ss_reach_get(p);
	uint64_t now = ss_mono_ns();
	bool any = false;

	if (p->reach.introducer || !ss_peer_identity(p->sp))
		return SS_ERR_NOT_FOUND;
	for (ss_dpeer *i = d->peers; i && !any; i = i->next)
		any = i->reach.introducer;
	if (!any || now < x->q_negative_until)
		return SS_ERR_NOT_FOUND;
	if (x->q_tries && x->q_tries <= SS_QUERY_TRIES)
		return 0; /* under way */
	if (p->reach.x)
		p->reach.x->q_tries = 0;
	query_send(d, p, now);
	ss_daemon_touch(d, p);
	return 0;
}

/* The introducer's session is the NAT mapping: keep it up, like a keepalive. */
static void keep_registered(ss_daemon *d, ss_dpeer *p, ss_preach_ext *x, uint64_t now)
{
	if (!ss_peer_has_session(p->sp)) {
		/* Checked again every second; the core paces the handshakes. */
		x->reg_next_ns = now + SS_NS_PER_SEC;
		if (p->has_endpoint)
			ss_peer_want_handshake(p->sp);
	} else if (x->reg_txid && now - x->reg_sent_ns >= SS_QUERY_TIMEOUT) {
		/* Unanswered: the introducer may have restarted; a new session, then
		 * register again (ss_intro_on_handshake). */
		x->reg_txid = 0;
		x->reg_next_ns = now + SS_REGISTER_INTERVAL;
		ss_peer_restart_handshake(p->sp, false);
		ss_daemon_touch(d, p);
	} else if (now >= x->reg_next_ns) {
		do_register(d, p, now);
	}
}

void ss_intro_tick(ss_daemon *d, ss_dpeer *p, uint64_t now)
{
	ss_preach_ext *x = p->reach.introducer ? ss_reach_ext(p) : p->reach.x;

	if (!x)
		return; /* neither an introducer nor being looked for */
	if (p->reach.introducer)
		keep_registered(d, p, x, now);
	if (x->q_tries && now - x->q_sent_ns >= SS_QUERY_TIMEOUT) {
		if (ss_peer_has_session(p->sp) || ss_reach_has_candidates(p)) {
			x->q_tries = 0;
		} else if (x->q_tries >= SS_QUERY_TRIES) {
			x->q_tries = 0;
			x->q_negative_until = now + SS_QUERY_NEGATIVE;
		} else {
			query_send(d, p, now);
		}
	}
}

uint64_t ss_intro_deadline(const ss_dpeer *p)
{
	const ss_preach_ext *x = ss_reach_get(p);
	uint64_t t = UINT64_MAX;

	/* An introducer with no state yet is due at once: the tick makes it. */
	if (p->reach.introducer)
		t = x->reg_txid ? x->reg_sent_ns + SS_QUERY_TIMEOUT : x->reg_next_ns;
	if (x->q_tries && x->q_sent_ns + SS_QUERY_TIMEOUT < t)
		t = x->q_sent_ns + SS_QUERY_TIMEOUT;
	return t;
}

/* ---- as an introducer ---- */

static void on_register(ss_daemon *d, ss_dpeer *p, const ss_flow *flow, const ss_reach_msg *m)
{
	ss_reach_msg r = {.type = SS_CTL_REGISTERED, .txid = m->txid};
	ss_endpoint seen;

	if (!p->reach.introduce || !p->reach.slot) {
		ss_reach_drop(d, p, SS_ERR_REACH_DENIED);
		return;
	}
	ss_endpoint_from_flow(&seen, flow);
	(void)ss_intro_register(&p->reach.slot->reg, m, &seen, ss_mono_ns());
	r.observed = seen;
	(void)send_reach(d, p, &r);
}

static void on_query(ss_daemon *d, ss_dpeer *r, const ss_flow *flow, const ss_reach_msg *m)
{
	ss_dpeer *t = ss_daemon_find(d, m->subject);
	uint64_t now = ss_mono_ns();
	ss_reach_msg answer, punch;
	ss_endpoint seen;
	int ret;

	/* Introduce = yes is what gives a peer its slot: without one, the decision is no. */
	if (!r->reach.slot) {
		ss_reach_drop(d, r, SS_ERR_REACH_DENIED);
		return;
	}
	ret = ss_intro_decide(r->reach.introduce, t && t != r && t->reach.slot,
			      t && t->reach.slot ? &t->reach.slot->reg : NULL, &r->reach.slot->rate,
			      &d->reach.intro_tat, m->subject, now);
	if (!ret && !ss_peer_has_session(t->sp))
		ret = SS_ERR_REACH_DENIED;
	if (ret) {
		ss_reach_drop(d, r, ret);
		return;
	}
	ss_endpoint_from_flow(&seen, flow);
	ss_intro_build(m, &seen,
		       ss_intro_reg_live(&r->reach.slot->reg, now) ? &r->reach.slot->reg : NULL,
		       &t->reach.slot->reg, ss_peer_identity(r->sp), txid_new(), &answer, &punch);
	/* Together, so that both sides' first rounds cross. */
	if (!send_reach(d, t, &punch))
		(void)send_reach(d, r, &answer);
}

/* ---- as a host ---- */

static void on_registered(ss_daemon *d, ss_dpeer *p, const ss_reach_msg *m)
{
	ss_preach_ext *x = p->reach.x; /* none: no REGISTER of ours is waiting */
	uint64_t now = ss_mono_ns(), rtt;

	if (!p->reach.introducer) {
		ss_reach_drop(d, p, SS_ERR_REACH_DENIED);
		return;
	}
	if (!x || !x->reg_txid || m->txid != x->reg_txid) {
		ss_reach_drop(d, p, SS_ERR_UNEXPECTED);
		return;
	}
	x->reg_txid = 0;
	rtt = (now - x->reg_sent_ns) / 1000000;
	x->rtt_ms = (uint16_t)(rtt ? (rtt < 60000 ? rtt : 60000) : 1);
	x->reflexive = m->observed;
	x->has_reflexive = true;
	x->reg_ok_ns = now;
	ss_intro_hard_nat_update(d, now);
}

void ss_intro_hard_nat_update(ss_daemon *d, uint64_t now)
{
	ss_endpoint seen[SS_HARD_NAT_INTRODUCERS];
	size_t n = 0;
	bool hard;

	for (ss_dpeer *i = d->peers; i && n < SS_HARD_NAT_INTRODUCERS; i = i->next)
		if (i->reach.introducer && ss_reach_get(i)->has_reflexive &&
		    now - ss_reach_get(i)->reg_ok_ns < SS_REGISTRATION_LIFETIME)
			seen[n++] = ss_reach_get(i)->reflexive;
	hard = ss_intro_hard_nat(seen, n);
	if (hard == d->reach.hard_nat)
		return;
	d->reach.hard_nat = hard;
	ss_log(LOG_NOTICE, "SS_TUN_NAT: %s",
	       hard ? "our NAT maps per destination (HARD_NAT): "
		      "peers behind one too are reached by relay"
		    : "our NAT no longer maps per destination");
	/* The introducers hear it now, not in up to SS_REGISTER_INTERVAL. */
	for (ss_dpeer *i = d->peers; i; i = i->next)
		if (i->reach.introducer) {
			ss_reach_register_now(i);
			ss_daemon_touch(d, i);
		}
}

/* An ANSWER or a PUNCH: t's candidates, then punch after delay_ms. */
static void introduced(ss_daemon *d, ss_dpeer *via, ss_dpeer *t, const ss_reach_msg *m)
{
	ss_flow f;
	unsigned flags = 0;
	int ret;

	for (unsigned i = 0; i < m->n_cand; i++) {
		ss_flow_from_endpoint(&f, &m->cand[i], d->tr.port, d->reach.proto);
		/* Refusals (the allow list, a full set) are counted and left out; the punch
		 * below starts after delay_ms, not at once as an offer would. */
		ret = ss_reach_cands(d, t) ? ss_cands_add(t->cands, &f, SS_CAND_INTRODUCER)
					   : SS_ERR_NOMEM;
		if (ret)
			ss_reach_drop(d, t, ret);
	}
	(void)via;
	/* Even with a session: we ask only when our path failed, and so does the requester. */
	if (!m->n_cand) {
		/* PRIVATE (16.4 item 5): t has our candidates in its PUNCH and calls us. */
		if (m->flags & SS_REACH_F_PRIVATE)
			ss_log(LOG_INFO, "SS_TUN_INTRODUCED: answer for a private peer: no "
					 "addresses, waiting for it to call");
		return;
	}
	/*
	 * Both behind NATs that map per destination, and a relay for both: no port could be
	 * guessed, so no rounds; the circuit is asked for at once (16.5, relay fallback).
	 */
	flags = ss_intro_punch_flags(m->flags, d->reach.hard_nat, ss_relay_possible(d, t));
	ss_log(LOG_INFO, "SS_TUN_INTRODUCED: %s for a peer: %u candidates, %s after %u ms",
	       m->type == SS_CTL_ANSWER ? "answer" : "punch", m->n_cand,
	       flags ? "both behind hard NATs: relay at once, no punch rounds," : "punching",
	       m->delay_ms);
	if (ss_reach_punch(d, t, m->delay_ms, flags) == SS_ERR_REACH_RATE)
		ss_reach_drop(d, t, SS_ERR_REACH_RATE);
}

static void on_answer(ss_daemon *d, ss_dpeer *p, const ss_reach_msg *m)
{
	ss_dpeer *t = ss_daemon_find(d, m->subject);

	if (!p->reach.introducer) {
		ss_reach_drop(d, p, SS_ERR_REACH_DENIED);
		return;
	}
	if (!t || !t->reach.x || !t->reach.x->q_txid || t->reach.x->q_txid != m->txid) {
		ss_reach_drop(d, p, SS_ERR_UNEXPECTED);
		return;
	}
	t->reach.x->q_txid = 0;
	t->reach.x->q_tries = 0;
	introduced(d, p, t, m);
}

static void on_punch(ss_daemon *d, ss_dpeer *p, const ss_reach_msg *m)
{
	ss_dpeer *t = ss_daemon_find(d, m->subject);

	if (!p->reach.introducer || !t || t == p) {
		ss_reach_drop(d, p, SS_ERR_REACH_DENIED);
		return;
	}
	introduced(d, p, t, m);
}

void ss_intro_control(ss_daemon *d, ss_dpeer *p, const ss_flow *flow, const uint8_t *pt, size_t len)
{
	ss_reach_msg m;

	if (ss_reach_decode(pt, len, &m))
		return; /* the core checked it already */
	switch (m.type) {
	case SS_CTL_REGISTER:
		on_register(d, p, flow, &m);
		break;
	case SS_CTL_REGISTERED:
		on_registered(d, p, &m);
		break;
	case SS_CTL_QUERY:
		on_query(d, p, flow, &m);
		break;
	case SS_CTL_ANSWER:
		on_answer(d, p, &m);
		break;
	case SS_CTL_PUNCH:
		on_punch(d, p, &m);
		break;
	default:
		/* Relay circuits (7..10) are relay.c's. */
		ss_reach_drop(d, p, SS_ERR_REACH_DENIED);
		break;
	}
}
