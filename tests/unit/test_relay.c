/* SPDX-License-Identifier: MIT */
/*
 * Relayed datagrams (PROTOCOL.md 16.8): Alice and Bob run their own session through a
 * relay that holds none of its keys. The relay sees ciphertext only; whatever it does to
 * a datagram (flip bits, replay, switch circuits, deliver it off the circuit) is dropped.
 */
#include <stdlib.h>
#include <string.h>

#include "common/endian.h"
#include "drive.h"
#include "helpers.h"
#include "internal.h"

#define CIRCUIT 0x0c1c0c1c

typedef struct fixture {
	test_node a, r, b;
	ss_peer *a_r, *r_a, *r_b, *b_r, *a_b, *b_a;
	ss_flow va, vb; /* the circuit's virtual flow as Alice and Bob see it */
} fixture;

static ss_peer *add(test_node *n, test_node *other)
{
	ss_peer *p;

	assert_code(ss_peer_add(n->ctx, ss_identity_public(other->id), &p), 0);
	ss_peer_set_flow(p, &n->flow);
	return p;
}

/* One hop: x and y handshake with x->peer and y->peer pointing at each other. */
static void hop(test_node *x, ss_peer *xp, test_node *y, ss_peer *yp)
{
	x->peer = xp;
	y->peer = yp;
	test_handshake(x, y);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	test_node_init(&f->a, "alice", 4);
	test_node_init(&f->r, "relay", 4);
	test_node_init(&f->b, "bob", 4);
	test_flow_v4(&f->a.flow, 0x0a000001, 51999, 0xc6336401, 51999, 17);
	test_flow_v4(&f->b.flow, 0x0a000002, 51999, 0xc6336401, 51999, 17);
	test_flow_v4(&f->r.flow, 0xc6336401, 51999, 0x0a000009, 51999, 17);
	f->a_r = add(&f->a, &f->r);
	f->r_a = add(&f->r, &f->a);
	f->r_b = add(&f->r, &f->b);
	f->b_r = add(&f->b, &f->r);
	f->a_b = add(&f->a, &f->b);
	f->b_a = add(&f->b, &f->a);
	hop(&f->a, f->a_r, &f->r, f->r_a);
	hop(&f->b, f->b_r, &f->r, f->r_b);
	ss_relay_flow(&f->va, ss_identity_public(f->r.id), CIRCUIT);
	f->vb = f->va;
	ss_peer_set_flow(f->a_b, &f->va);
	ss_peer_set_flow(f->b_a, &f->vb);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	test_node_free(&f->a);
	test_node_free(&f->r);
	test_node_free(&f->b);
	free(f);
	return 0;
}

/* from seals inner on its hop; the relay opens it and seals it again for to's hop. */
static void through_relay(fixture *f, ss_peer *from_hop, test_node *from, ss_peer *relay_to,
			  const msg *inner, msg *at_to)
{
	ss_result res;
	msg hop1, opened;

	assert_code(ss_peer_seal_relay(from->ctx, from_hop, CIRCUIT, inner->b, inner->len, hop1.b,
				       sizeof(hop1.b), &hop1.len, NULL),
		    0);
	assert_int_equal(hop1.b[0], SS_MSG_RELAY);
	assert_int_equal(hop1.len, inner->len + SS_RELAY_OVERHEAD);
	assert_code(consume(&f->r, &hop1, &opened, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_RELAY);
	assert_int_equal(ss_load_be32(opened.b), CIRCUIT);
	assert_int_equal(res.len, inner->len + SS_RELAY_INNER_OFF);
	assert_code(ss_peer_seal_relay(f->r.ctx, relay_to, ss_load_be32(opened.b),
				       opened.b + SS_RELAY_INNER_OFF, res.len - SS_RELAY_INNER_OFF,
				       at_to->b, sizeof(at_to->b), &at_to->len, NULL),
		    0);
}

/* At an end host: open the hop, hand the inner datagram to the engine on the virtual flow. */
static int deliver(test_node *n, const ss_flow *vflow, const msg *hop_pkt, msg *out, ss_result *res)
{
	msg inner;

	assert_code(consume(n, hop_pkt, &inner, res), 0);
	assert_int_equal(res->kind, SS_RESULT_RELAY);
	inner.len = res->len - SS_RELAY_INNER_OFF;
	memmove(inner.b, inner.b + SS_RELAY_INNER_OFF, inner.len);
	return consume_on(n, vflow, &inner, out, res);
}

/* Alice's handshake and data reach Bob through the relay: an end-to-end session. */
static void relayed_session(fixture *f)
{
	ss_result res;
	msg inner, hop_pkt, out;
	ss_flow fl;

	ss_peer_want_handshake(f->a_b);
	assert_code(ss_peer_tick(f->a.ctx, f->a_b, inner.b, sizeof(inner.b), &inner.len, &fl,
				 &(enum ss_tick_kind){0}),
		    0);
	assert_true(ss_flow_equal(&fl, &f->va));
	through_relay(f, f->a_r, &f->a, f->r_b, &inner, &hop_pkt);
	assert_code(deliver(&f->b, &f->vb, &hop_pkt, &out, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_REPLY); /* the RESPONSE */
	through_relay(f, f->b_r, &f->b, f->r_a, &out, &hop_pkt);
	assert_code(deliver(&f->a, &f->va, &hop_pkt, &out, &res), 0);
	assert_true(res.flags & SS_RESULT_F_HANDSHAKE);
	through_relay(f, f->a_r, &f->a, f->r_b, &out, &hop_pkt); /* the confirming keepalive */
	assert_code(deliver(&f->b, &f->vb, &hop_pkt, &out, &res), 0);
	assert_true(ss_peer_has_session(f->a_b) && ss_peer_has_session(f->b_a));
}

static void end_to_end(void **state)
{
	fixture *f = *state;
	static const char text[] = "relayed but end to end";
	ss_result res;
	msg inner, hop_pkt, out;
	ss_flow fl;

	relayed_session(f);
	assert_code(ss_peer_seal(f->a.ctx, f->a_b, (const uint8_t *)text, sizeof(text), inner.b,
				 sizeof(inner.b), &inner.len, &fl),
		    0);
	assert_true(ss_flow_equal(&fl, &f->va)); /* bound to the circuit */
	through_relay(f, f->a_r, &f->a, f->r_b, &inner, &hop_pkt);
	/* The relay's view is ciphertext: neither hop carries the plaintext. */
	assert_null(memmem(hop_pkt.b, hop_pkt.len, text, sizeof(text) - 1));
	assert_code(deliver(&f->b, &f->vb, &hop_pkt, &out, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_DATA);
	assert_ptr_equal(res.peer, f->b_a);
	assert_memory_equal(out.b, text, sizeof(text));
}

static void relay_cannot_tamper(void **state)
{
	fixture *f = *state;
	ss_flow other, direct;
	ss_result res;
	msg inner, hop_pkt, out;

	relayed_session(f);
	seal_str(&(test_node){.ctx = f->a.ctx, .peer = f->a_b}, "x", &inner);
	/* A bit flipped by the relay: Bob's end-to-end key refuses it. */
	inner.b[inner.len - 1] ^= 1;
	through_relay(f, f->a_r, &f->a, f->r_b, &inner, &hop_pkt);
	assert_code(deliver(&f->b, &f->vb, &hop_pkt, &out, &res), SS_ERR_DECRYPT);
	inner.b[inner.len - 1] ^= 1;
	/* Delivered through another circuit, or directly: another flow. */
	ss_relay_flow(&other, ss_identity_public(f->r.id), CIRCUIT + 1);
	through_relay(f, f->a_r, &f->a, f->r_b, &inner, &hop_pkt);
	assert_code(deliver(&f->b, &other, &hop_pkt, &out, &res), SS_ERR_FLOW);
	test_flow_v4(&direct, 0x0a000002, 51999, 0xcb007101, 51999, 17);
	assert_code(consume_on(&f->b, &direct, &inner, &out, &res), SS_ERR_FLOW);
	/* The genuine copy passes once; the relay replaying it, re-sealed, does not. */
	through_relay(f, f->a_r, &f->a, f->r_b, &inner, &hop_pkt);
	assert_code(deliver(&f->b, &f->vb, &hop_pkt, &out, &res), 0);
	through_relay(f, f->a_r, &f->a, f->r_b, &inner, &hop_pkt);
	assert_code(deliver(&f->b, &f->vb, &hop_pkt, &out, &res), SS_ERR_REPLAY);
}

static void hop_refusals(void **state)
{
	fixture *f = *state;
	uint8_t junk[SS_DATA_MIN_LEN] = {SS_MSG_LAN_PEERS, SS_VERSION};
	ss_session *s = f->a_r->current;
	ss_result res;
	msg hop_pkt, out, inner;

	/* A hop needs its own session. */
	memset(&inner, 0, sizeof(inner));
	inner.b[0] = SS_MSG_DATA;
	inner.len = SS_DATA_MIN_LEN;
	assert_code(ss_peer_seal_relay(f->a.ctx, f->a_b, CIRCUIT, inner.b, inner.len, hop_pkt.b,
				       sizeof(hop_pkt.b), &hop_pkt.len, NULL),
		    SS_ERR_NO_SESSION);
	/* The hop window: a replayed hop packet is dropped before the relay forwards it. */
	relayed_session(f);
	seal_str(&(test_node){.ctx = f->a.ctx, .peer = f->a_b}, "x", &inner);
	assert_code(ss_peer_seal_relay(f->a.ctx, f->a_r, CIRCUIT, inner.b, inner.len, hop_pkt.b,
				       sizeof(hop_pkt.b), &hop_pkt.len, NULL),
		    0);
	assert_code(consume(&f->r, &hop_pkt, &out, &res), 0);
	assert_code(consume(&f->r, &hop_pkt, &out, &res), SS_ERR_REPLAY);
	/* Nothing but the tunnel's own messages is relayed, in either direction. */
	assert_code(ss_peer_seal_relay(f->a.ctx, f->a_r, CIRCUIT, junk, sizeof(junk), hop_pkt.b,
				       sizeof(hop_pkt.b), &hop_pkt.len, NULL),
		    SS_ERR_RELAY);
	assert_code(ss_peer_seal_relay(f->a.ctx, f->a_r, 0, inner.b, inner.len, hop_pkt.b,
				       sizeof(hop_pkt.b), &hop_pkt.len, NULL),
		    SS_ERR_INVAL);
	{
		uint8_t pt[SS_RELAY_INNER_OFF + sizeof(junk)] = {0};

		memcpy(pt + SS_RELAY_INNER_OFF, junk, sizeof(junk));
		assert_code(ss_session_seal(f->a.ctx, f->a_r, s, SS_MSG_RELAY, pt, sizeof(pt),
					    hop_pkt.b, sizeof(hop_pkt.b), &hop_pkt.len),
			    0);
		assert_code(consume(&f->r, &hop_pkt, &out, &res), SS_ERR_RELAY);
		/* Not committed: that counter is still free at the relay. */
		assert_code(ss_replay_check(&f->r_a->current->rx_window,
					    ss_load_be64(hop_pkt.b + SS_DATA_OFF_COUNTER)),
			    0);
	}
	hop_pkt.len = SS_RELAY_MIN_LEN - 1;
	assert_code(consume(&f->r, &hop_pkt, &out, &res), SS_ERR_MALFORMED);
}

static void virtual_flow(void **state)
{
	fixture *f = *state;
	const uint8_t *rid = ss_identity_public(f->r.id);

	(void)state;
	assert_int_equal(f->va.proto, SS_RELAY_PROTO);
	assert_int_equal(f->va.remote_addr[0], 0x01);
	assert_memory_equal(f->va.remote_addr + 8, rid, 4);
	assert_int_equal(ss_load_be32(f->va.remote_addr + 12), CIRCUIT);
	assert_int_equal(f->va.remote_port, ss_load_be16(rid + 4));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(end_to_end),
		T(relay_cannot_tamper),
		T(hop_refusals),
		T(virtual_flow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
