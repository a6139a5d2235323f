/* SPDX-License-Identifier: MIT */
/*
 * Relay circuits in silosecd (PROTOCOL.md 16.7, 16.8). As a relay, this host carries
 * type-8 datagrams between two of its peers, opening each on one hop session and sealing
 * the same inner bytes on the other: the inner datagram is the two ends' own end-to-end
 * message, which nothing here can open. As an end host, it asks one of its relays for a
 * circuit to a peer it cannot reach directly and runs the ordinary session over the
 * circuit's virtual flow. Every refusal is silent and counted.
 */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "circuit.h"
#include "common/endian.h"
#include "log.h"
#include "relay.h"

struct ss_relay {
	ss_circuits serve; /* circuits we carry */
	ss_circuits ends;  /* circuits our relays opened for us */
	uint8_t *in, *out; /* an inner datagram; a sealed hop packet */
};

int ss_relay_init(ss_daemon *d)
{
	struct ss_relay *r = calloc(1, sizeof(*r));
	bool serve = false;

	if (!r)
		return SS_ERR_NOMEM;
	d->relay = r;
	for (size_t i = 0; i < d->conf->npeers; i++)
		serve |= d->conf->peers[i].relay == SS_CONF_RELAY_SERVE;
	r->in = malloc(SS_MAX_PACKET + 64);
	r->out = malloc(SS_MAX_PACKET + 64);
	if (!r->in || !r->out ||
	    ss_circuits_init(&r->serve, serve ? SS_RELAY_MAX_CIRCUITS : 1, SS_RELAY_RATE,
			     SS_RELAY_BURST) ||
	    ss_circuits_init(&r->ends, SS_RELAY_END_MAX, SS_RELAY_RATE, SS_RELAY_BURST))
		return SS_ERR_NOMEM;
	return 0;
}

void ss_relay_free(ss_daemon *d)
{
	struct ss_relay *r = d->relay;

	if (!r)
		return;
	ss_circuits_free(&r->serve);
	ss_circuits_free(&r->ends);
	free(r->in);
	free(r->out);
	free(r);
	d->relay = NULL;
}

static uint32_t random_u32(void)
{
	uint8_t b[4] = {0};

	(void)ss_random_system(NULL, b, sizeof(b));
	return ss_load_be32(b);
}

static uint32_t random_txid(void)
{
	uint32_t t;

	while (!(t = random_u32()))
		;
	return t;
}

static void refuse(ss_daemon *d, ss_dpeer *p, int code)
{
	ss_reach_drop(d, p, code);
}

/* Seal m on our session with hop and send it; false when there is no session (yet). */
static bool send_msg(ss_daemon *d, ss_dpeer *hop, ss_reach_msg *m)
{
	uint8_t pt[SS_REACH_LEN];
	ss_flow flow;
	size_t olen;

	if (ss_reach_encode(m, pt))
		return false;
	if (ss_peer_seal_reach(d->ctx, hop->sp, pt, d->relay->out, SS_MAX_PACKET, &olen, &flow)) {
		ss_daemon_touch(d, hop);
		return false;
	}
	ss_daemon_xmit(d, hop, &flow, d->relay->out, olen);
	return true;
}

static void send_close(ss_daemon *d, ss_dpeer *to, uint32_t circuit, const uint8_t *other)
{
	ss_reach_msg m = {.type = SS_CTL_RELAY_CLOSE, .circuit = circuit, .txid = random_txid()};

	if (!other)
		return;
	memcpy(m.subject, other, SS_IDENTITY_LEN);
	(void)send_msg(d, to, &m);
}

static const uint8_t *ident(const ss_dpeer *p)
{
	return ss_peer_identity(p->sp);
}

/* ---- the relay's side ---- */

/* A: "carry me to B" (16.7 step 2). */
static void on_open(ss_daemon *d, ss_dpeer *a, const ss_reach_msg *m)
{
	ss_dpeer *b = ss_daemon_find(d, m->subject);
	ss_reach_msg offer = {.type = SS_CTL_RELAY_OFFER};
	ss_circuit *c;
	int ret;

	if (a->relay_mode != SS_CONF_RELAY_SERVE || !b || b == a || b->tofu ||
	    b->relay_mode != SS_CONF_RELAY_SERVE || !ss_peer_has_session(b->sp)) {
		refuse(d, a, SS_ERR_REACH_DENIED);
		return;
	}
	ret = ss_circuits_open(&d->relay->serve, a, b, random_u32() | 0x80000000u, ss_mono_ns(),
			       &c);
	if (ret) {
		refuse(d, a, SS_ERR_REACH_RATE);
		return;
	}
	c->txid[0] = m->txid;
	c->txid[1] = offer.txid = random_txid();
	offer.circuit = c->id;
	memcpy(offer.subject, ident(a), SS_IDENTITY_LEN);
	if (!send_msg(d, b, &offer))
		ss_circuits_remove(&d->relay->serve, c);
}

/* B agreed (step 4): the circuit opens, and A hears of it. */
static bool on_accept_at_relay(ss_daemon *d, ss_dpeer *b, const ss_reach_msg *m)
{
	ss_circuit *c = ss_circuits_find(&d->relay->serve, m->circuit);
	ss_reach_msg acc = {.type = SS_CTL_RELAY_ACCEPT, .circuit = m->circuit};
	ss_dpeer *a;

	if (!c || c->state != SS_CIRC_PENDING || c->end[1] != b || c->txid[1] != m->txid)
		return false;
	a = c->end[0];
	if (memcmp(m->subject, ident(a), SS_IDENTITY_LEN))
		return false;
	c->state = SS_CIRC_OPEN;
	c->last_ns = ss_mono_ns();
	acc.txid = c->txid[0];
	memcpy(acc.subject, ident(b), SS_IDENTITY_LEN);
	(void)send_msg(d, a, &acc);
	ss_log(LOG_INFO, "SS_TUN_RELAY: circuit %08x open", c->id);
	return true;
}

/* Either end closes: the other end hears it from us. */
static bool on_close_at_relay(ss_daemon *d, ss_dpeer *p, const ss_reach_msg *m)
{
	ss_circuit *c = ss_circuits_find(&d->relay->serve, m->circuit);
	ss_dpeer *other;

	if (!c || (c->end[0] != p && c->end[1] != p))
		return false;
	other = c->end[0] == p ? c->end[1] : c->end[0];
	if (c->state == SS_CIRC_OPEN)
		send_close(d, other, c->id, ident(p));
	ss_circuits_remove(&d->relay->serve, c);
	return true;
}

/* ---- an end host's side ---- */

/* New handshakes go through the circuit; with restart, one in flight elsewhere is abandoned. */
static void end_circuit_use(ss_daemon *d, ss_dpeer *hop, ss_dpeer *peer, uint32_t circuit,
			    bool restart)
{
	const ss_preach_ext *x = ss_reach_get(peer);
	bool in_flight = peer->hs_since_ns && x->has_init;
	ss_flow vflow;

	peer->relay_via = hop;
	peer->relay_circuit = circuit;
	ss_relay_flow(&vflow, ident(hop), circuit);
	ss_peer_set_flow(peer->sp, &vflow);
	/*
	 * The INIT in flight goes through the circuit at once (16.7 step 4), the same bytes
	 * as its direct copies: the restart below may not make a new one before
	 * SS_RESTART_INIT_SPACING (0.6 s) after it, most of the 1.5 s first-reply target.
	 */
	if (in_flight)
		ss_daemon_xmit(d, peer, &vflow, x->init, SS_INIT_LEN);
	if (restart || !peer->on_circuit) {
		ss_peer_restart_handshake(peer->sp, false);
		peer->hs_since_ns = ss_mono_ns();
	}
	peer->on_circuit = true;
	ss_daemon_kick(d, peer);
}

/* The circuit's virtual flow joins the peer's candidates (16.6, source relay). */
static int end_circuit_add(ss_daemon *d, ss_dpeer *hop, ss_dpeer *peer, uint32_t circuit)
{
	ss_circuit *c;
	ss_flow vflow;
	int ret = ss_circuits_add(&d->relay->ends, circuit, hop, peer, ss_mono_ns(), &c);

	if (ret == SS_ERR_EXISTS)
		return 0;
	if (ret)
		return ret;
	c->state = SS_CIRC_OPEN;
	ss_relay_flow(&vflow, ident(hop), circuit);
	(void)ss_daemon_offer_candidate(d, peer, &vflow, SS_CAND_RELAY);
	return 0;
}

/* R offers a circuit from A (step 3): only from one of our relays, for one of our peers. */
static void on_offer(ss_daemon *d, ss_dpeer *r, const ss_reach_msg *m)
{
	ss_dpeer *a = ss_daemon_find(d, m->subject);
	ss_reach_msg acc = {.type = SS_CTL_RELAY_ACCEPT, .txid = m->txid, .circuit = m->circuit};

	if (r->relay_mode != SS_CONF_RELAY_USE || !a || a == r || a->tofu) {
		refuse(d, r, SS_ERR_REACH_DENIED);
		return;
	}
	if (end_circuit_add(d, r, a, m->circuit)) {
		refuse(d, r, SS_ERR_REACH_RATE);
		return;
	}
	memcpy(acc.subject, m->subject, SS_IDENTITY_LEN);
	(void)send_msg(d, r, &acc);
	/* A path where there was none: our own traffic to A may take it too. */
	if (!ss_peer_has_session(a->sp)) {
		ss_flow vflow;

		a->relay_via = r;
		a->relay_circuit = m->circuit;
		ss_relay_flow(&vflow, ident(r), m->circuit);
		if (!a->has_endpoint)
			ss_peer_set_flow(a->sp, &vflow);
		/*
		 * Punching too: our INIT in flight crosses A's on the circuit at once. Should the
		 * tie-break (5.4) drop A's, ours is the one answered, without waiting for our
		 * next round (up to 0.8 s later).
		 */
		if (a->hs_since_ns && ss_reach_get(a)->has_init)
			ss_daemon_xmit(d, a, &vflow, ss_reach_get(a)->init, SS_INIT_LEN);
	}
}

/* Our RELAY_OPEN was accepted: send the pending INIT through the circuit. */
static bool on_accept_at_end(ss_daemon *d, ss_dpeer *r, const ss_reach_msg *m)
{
	ss_dpeer *b = ss_daemon_find(d, m->subject);

	if (r->relay_mode != SS_CONF_RELAY_USE || !b || !b->relay_asked_ns || b->relay_ask != r ||
	    b->relay_txid != m->txid)
		return false;
	b->relay_asked_ns = 0;
	b->relay_txid = 0;
	b->relay_tries = 0;
	if (end_circuit_add(d, r, b, m->circuit)) {
		refuse(d, r, SS_ERR_REACH_RATE);
		return true;
	}
	end_circuit_use(d, r, b, m->circuit, true);
	return true;
}

static bool on_close_at_end(ss_daemon *d, ss_dpeer *r, const ss_reach_msg *m)
{
	ss_circuit *c = ss_circuits_find_end(&d->relay->ends, r, m->circuit);
	ss_dpeer *peer;

	if (!c)
		return false;
	peer = c->end[1];
	if (peer->relay_via == r && peer->relay_circuit == m->circuit)
		peer->relay_circuit = 0;
	ss_circuits_remove(&d->relay->ends, c);
	return true;
}

void ss_relay_control(ss_daemon *d, ss_dpeer *p, const ss_reach_msg *m)
{
	bool ok = true;

	switch (m->type) {
	case SS_CTL_RELAY_OPEN:
		on_open(d, p, m);
		break;
	case SS_CTL_RELAY_OFFER:
		on_offer(d, p, m);
		break;
	case SS_CTL_RELAY_ACCEPT:
		ok = on_accept_at_relay(d, p, m) || on_accept_at_end(d, p, m);
		break;
	case SS_CTL_RELAY_CLOSE:
		ok = on_close_at_relay(d, p, m) || on_close_at_end(d, p, m);
		break;
	default:
		refuse(d, p, SS_ERR_REACH_DENIED);
	}
	if (!ok)
		refuse(d, p, SS_ERR_UNEXPECTED);
}

/* ---- relayed datagrams ---- */

static void forward(ss_daemon *d, ss_dpeer *from, ss_circuit *c, const uint8_t *inner, size_t len)
{
	ss_dpeer *to = c->end[0] == from ? c->end[1] : c->end[0];
	ss_flow flow;
	size_t olen;

	if (ss_circuits_charge(&d->relay->serve, c, len, inner[0] == SS_MSG_INIT, ss_mono_ns())) {
		refuse(d, from, SS_ERR_RELAY);
		return;
	}
	/* The same circuit and inner bytes, sealed for the other hop: never opened here. */
	if (ss_peer_seal_relay(d->ctx, to->sp, c->id, inner, len, d->relay->out, SS_MAX_PACKET,
			       &olen, &flow)) {
		refuse(d, from, SS_ERR_RELAY);
		return;
	}
	ss_daemon_xmit(d, to, &flow, d->relay->out, olen);
}

void ss_relay_datagram(ss_daemon *d, ss_dpeer *p, const uint8_t *pt, size_t len)
{
	uint32_t id = ss_load_be32(pt + SS_RELAY_OFF_CIRCUIT);
	const uint8_t *inner = pt + SS_RELAY_INNER_OFF;
	size_t ilen = len - SS_RELAY_INNER_OFF;
	ss_circuit *c = ss_circuits_find(&d->relay->serve, id);
	ss_flow vflow;

	if (c && c->state == SS_CIRC_OPEN && (c->end[0] == p || c->end[1] == p)) {
		forward(d, p, c, inner, ilen);
		return;
	}
	c = ss_circuits_find_end(&d->relay->ends, p, id);
	if (!c ||
	    ss_circuits_charge(&d->relay->ends, c, ilen, inner[0] == SS_MSG_INIT, ss_mono_ns())) {
		refuse(d, p, SS_ERR_RELAY);
		return;
	}
	/* The engine opens it on the circuit's own flow: end to end, as if it came directly. */
	memcpy(d->relay->in, inner, ilen);
	ss_relay_flow(&vflow, ident(p), id);
	ss_daemon_inbound(d, &vflow, d->relay->in, ilen);
}

static ss_dpeer *hop_of(ss_daemon *d, const ss_flow *f)
{
	for (ss_dpeer *p = d->peers; p; p = p->next) {
		const uint8_t *id = ident(p);

		if (p->relay_mode == SS_CONF_RELAY_USE && id &&
		    !memcmp(id, f->remote_addr + 8, 4) && ss_load_be16(id + 4) == f->remote_port)
			return p;
	}
	return NULL;
}

void ss_relay_xmit(ss_daemon *d, const ss_flow *flow, const uint8_t *pkt, size_t len)
{
	uint32_t id = ss_load_be32(flow->remote_addr + 12);
	ss_dpeer *hop = hop_of(d, flow);
	ss_circuit *c = hop ? ss_circuits_find_end(&d->relay->ends, hop, id) : NULL;
	ss_flow hflow;
	size_t olen;

	if (!c || ss_peer_seal_relay(d->ctx, hop->sp, id, pkt, len, d->relay->out, SS_MAX_PACKET,
				     &olen, &hflow)) {
		ss_reach_drop(d, c ? c->end[1] : NULL, SS_ERR_RELAY);
		return;
	}
	c->last_ns = ss_mono_ns();
	c->bytes += len;
	c->packets++;
	ss_daemon_xmit(d, hop, &hflow, d->relay->out, olen);
}

/* ---- when to use a relay, and when to leave it ---- */

/* Ask our first relay with a session for a circuit to p (16.7 step 1). */
static void ask(ss_daemon *d, ss_dpeer *p, uint64_t now)
{
	ss_reach_msg m = {.type = SS_CTL_RELAY_OPEN};

	uint64_t wait = p->relay_tries >= SS_QUERY_TRIES ? SS_QUERY_NEGATIVE : SS_QUERY_TIMEOUT;

	/* Unanswered three times: the relays will not (or cannot) carry us there for now. */
	if (p->relay_asked_ns && now - p->relay_asked_ns < wait)
		return;
	if (p->relay_tries >= SS_QUERY_TRIES)
		p->relay_tries = 0;
	memcpy(m.subject, ident(p), SS_IDENTITY_LEN);
	for (ss_dpeer *r = d->peers; r; r = r->next) {
		if (r == p || r->relay_mode != SS_CONF_RELAY_USE)
			continue;
		if (!ss_peer_has_session(r->sp)) {
			ss_daemon_kick(d, r); /* asked again on the next pass */
			continue;
		}
		m.txid = random_txid();
		if (!send_msg(d, r, &m))
			continue;
		p->relay_ask = r;
		p->relay_tries++;
		p->relay_txid = m.txid;
		p->relay_asked_ns = now;
		if (now + SS_QUERY_TIMEOUT < d->next_deadline)
			d->next_deadline = now + SS_QUERY_TIMEOUT;
		return;
	}
}

static bool has_relay(const ss_daemon *d, const ss_dpeer *p)
{
	if (!ident(p) || p->tofu || p->relay_mode == SS_CONF_RELAY_USE)
		return false;
	for (ss_dpeer *r = d->peers; r; r = r->next)
		if (r != p && r->relay_mode == SS_CONF_RELAY_USE)
			return true;
	return false;
}

bool ss_relay_possible(const ss_daemon *d, const ss_dpeer *p)
{
	return has_relay(d, p);
}

/* The circuit p's handshakes would use, if it is still there. */
static bool circuit_alive(ss_daemon *d, ss_dpeer *p)
{
	return p->relay_circuit &&
	       ss_circuits_find_end(&d->relay->ends, p->relay_via, p->relay_circuit);
}

bool ss_relay_fallback(ss_daemon *d, ss_dpeer *p)
{
	if (!has_relay(d, p))
		return false;
	if (circuit_alive(d, p))
		end_circuit_use(d, p->relay_via, p, p->relay_circuit, false);
	else
		ask(d, p, ss_mono_ns());
	return true;
}

/*
 * Relayed and busy: try a direct path, through the introducers (QUERY, then a punch) or
 * at the peer's known endpoint. The relayed session stays current until one works.
 */
static void upgrade(ss_daemon *d, ss_dpeer *p, uint64_t now)
{
	p->upgrade_ns = now;
	if (!ss_intro_query(d, p) || !p->has_endpoint)
		return;
	p->on_circuit = false;
	ss_peer_set_flow(p->sp, &p->endpoint);
	ss_peer_restart_handshake(p->sp, false);
	ss_daemon_kick(d, p);
}

/* The end of the time an introduction or punch under way has to find a direct path. */
static uint64_t early_until(const ss_dpeer *p)
{
	const ss_preach_ext *x = ss_reach_get(p);
	uint64_t a = x->punch_started_ns ? x->punch_started_ns + SS_PUNCH_RELAY_AFTER : 0,
		 b = x->q_sent_ns ? x->q_sent_ns + SS_PUNCH_RELAY_AFTER : 0;

	return a > b ? a : b;
}

/*
 * Fall back to a relay when handshakes found no direct path for SS_PUNCH_GIVE_UP_AFTER;
 * while relayed and busy, try the direct path every SS_UPGRADE_INTERVAL (16.5). A failed
 * try comes back here as a handshake that went unanswered, and returns to the circuit.
 */
void ss_relay_tick_peer(ss_daemon *d, ss_dpeer *p, uint64_t now)
{
	bool busy = p->qhead || p->keepalive ||
		    (p->last_tx_data_ns && now - p->last_tx_data_ns < SS_UPGRADE_INTERVAL);
	bool stuck = p->hs_since_ns && now - p->hs_since_ns >= SS_PUNCH_GIVE_UP_AFTER;

	/* An introduction or punch under way gets SS_PUNCH_RELAY_AFTER to find a direct path. */
	uint64_t early = early_until(p);

	if (!busy || !has_relay(d, p))
		return;
	if (!ss_peer_has_session(p->sp) && !p->has_endpoint && !circuit_alive(d, p)) {
		if (now >= early)
			ask(d, p, now);
		else if (early < d->next_deadline)
			d->next_deadline = early; /* ask on time, not on the next 1 s pass */
	} else if (stuck && circuit_alive(d, p) && !p->on_circuit) {
		end_circuit_use(d, p->relay_via, p, p->relay_circuit, true);
	} else if (stuck &&
		   (!circuit_alive(d, p) || now - p->hs_since_ns >= 3 * SS_PUNCH_GIVE_UP_AFTER)) {
		p->relay_circuit = 0; /* that circuit carries nothing: ask for another */
		p->on_circuit = false;
		ask(d, p, now);
	} else if (p->relayed && ss_peer_has_session(p->sp) && p->last_tx_data_ns &&
		   now - p->last_tx_data_ns < SS_UPGRADE_INTERVAL &&
		   now - p->upgrade_ns >= SS_UPGRADE_INTERVAL) {
		upgrade(d, p, now);
	}
	if (now + SS_QUERY_TIMEOUT < d->next_deadline)
		d->next_deadline = now + SS_QUERY_TIMEOUT;
}

/* The audit line and show are reach.c's and ctlserver.c's; this keeps the relay state. */
void ss_relay_path(ss_daemon *d, ss_dpeer *p, const ss_flow *flow)
{
	bool virt = ss_flow_virtual(flow);
	ss_dpeer *hop = virt ? hop_of(d, flow) : NULL;

	p->hs_since_ns = 0;
	if (virt) {
		p->upgrade_ns = ss_mono_ns();
		p->on_circuit = true;
		if (hop) {
			p->relay_via = hop;
			p->relay_circuit = ss_load_be32(flow->remote_addr + 12);
		}
	}
	if (virt != p->relayed)
		ss_log(LOG_INFO, "SS_TUN_PATH: a session %s", virt ? "through a relay" : "direct");
	p->relayed = virt;
}

uint32_t ss_relay_flow_circuit(const ss_flow *f)
{
	return ss_load_be32(f->remote_addr + 12);
}

void ss_relay_describe(const ss_dpeer *p, const ss_flow *f, char *buf, size_t len)
{
	char fp[SS_FINGERPRINT_LEN];

	if (p->relay_via && p->relay_circuit == ss_relay_flow_circuit(f) && ident(p->relay_via)) {
		ss_fingerprint(ident(p->relay_via), fp);
		snprintf(buf, len, "relay via %s", fp);
	} else {
		snprintf(buf, len, "relay (circuit %08x)", ss_relay_flow_circuit(f));
	}
}

static void serve_expired(void *arg, ss_circuit *c)
{
	ss_daemon *d = arg;
	ss_dpeer *a = c->end[0], *b = c->end[1];

	if (c->state != SS_CIRC_OPEN)
		return;
	send_close(d, a, c->id, ident(b));
	send_close(d, b, c->id, ident(a));
}

static void end_expired(void *arg, ss_circuit *c)
{
	ss_daemon *d = arg;
	ss_dpeer *hop = c->end[0], *peer = c->end[1];

	send_close(d, hop, c->id, ident(peer));
	if (peer->relay_via == hop && peer->relay_circuit == c->id) {
		peer->relay_circuit = 0;
		peer->on_circuit = false;
	}
}

uint64_t ss_relay_sweep(ss_daemon *d, uint64_t now)
{
	struct ss_relay *r = d->relay;

	ss_circuits_expire(&r->serve, now, SS_RELAY_IDLE, serve_expired, d);
	ss_circuits_expire(&r->ends, now, SS_RELAY_IDLE, end_expired, d);
	return now + (r->serve.n ? SS_NS_PER_SEC : 5 * SS_NS_PER_SEC);
}

static void forget_serve(void *arg, ss_circuit *c)
{
	serve_expired(arg, c);
}

void ss_relay_forget(ss_daemon *d, ss_dpeer *p)
{
	struct ss_relay *r = d->relay;

	if (!r)
		return;
	ss_circuits_forget(&r->serve, p, forget_serve, d);
	ss_circuits_forget(&r->ends, p, NULL, NULL);
	for (ss_dpeer *q = d->peers; q; q = q->next) {
		if (q->relay_ask == p) {
			q->relay_ask = NULL;
			q->relay_asked_ns = 0;
		}
		if (q->relay_via == p) {
			q->relay_via = NULL;
			q->relay_circuit = 0;
		}
	}
}

void ss_relay_stats(ss_daemon *d, uint32_t *circuits, uint64_t *bytes)
{
	const ss_circuits *t = &d->relay->serve;

	*circuits = t->n;
	*bytes = 0;
	for (uint32_t i = 0; i < t->cap; i++)
		*bytes += t->c[i].bytes;
}

/* ---- Relay = changed at run time (syncconf) ---- */

/* A serve peer needs the full table; a daemon started with none has a one-slot table. */
static int serve_table(struct ss_relay *r)
{
	ss_circuits t;

	if (r->serve.cap >= SS_RELAY_MAX_CIRCUITS)
		return 0;
	if (ss_circuits_init(&t, SS_RELAY_MAX_CIRCUITS, SS_RELAY_RATE, SS_RELAY_BURST))
		return SS_ERR_NOMEM;
	/* Nothing to carry over: without serve peers no circuit was ever opened here. */
	ss_circuits_free(&r->serve);
	r->serve = t;
	return 0;
}

/* p stopped being one of our relays: its circuits close, and peers on them look again. */
static void stop_using(ss_daemon *d, ss_dpeer *hop)
{
	uint64_t now = ss_mono_ns();

	ss_circuits_forget(&d->relay->ends, hop, end_expired, d);
	for (ss_dpeer *q = d->peers; q; q = q->next) {
		if (q->relay_ask == hop) {
			q->relay_ask = NULL;
			q->relay_asked_ns = 0;
			q->relay_txid = 0;
		}
		if (q->relay_via != hop)
			continue;
		q->relay_via = NULL;
		q->relay_circuit = 0;
		q->on_circuit = false;
		/* Its session rides a circuit that is gone: a direct path, or another relay. */
		if (q->relayed)
			upgrade(d, q, now);
		ss_daemon_touch(d, q);
	}
}

int ss_relay_set_mode(ss_daemon *d, ss_dpeer *p, uint8_t mode)
{
	uint8_t old = p->relay_mode;

	if (old == mode)
		return 0;
	if (mode == SS_CONF_RELAY_SERVE && serve_table(d->relay))
		return SS_ERR_NOMEM;
	p->relay_mode = mode;
	if (old == SS_CONF_RELAY_SERVE)
		ss_circuits_forget(&d->relay->serve, p, forget_serve, d);
	else if (old == SS_CONF_RELAY_USE)
		stop_using(d, p);
	return 0;
}
