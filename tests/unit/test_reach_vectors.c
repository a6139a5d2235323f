/* SPDX-License-Identifier: MIT */
/*
 * Reachability vectors (PROTOCOL.md 16.14): every reachability plaintext from fixed
 * inputs, a REGISTER sealed on the session of handshake.vec, and a LAN announcement of
 * each mode, compared with the pinned tests/vectors/reach.vec. SS_VECTOR_WRITE=1
 * rewrites the file (review the diff!).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drive.h"
#include "helpers.h"
#include "vecfile.h"

static vec_set vec;

static void emit(const char *key, const uint8_t *data, size_t len)
{
	vec_emit(&vec, key, data, len);
}

/* The nodes of handshake.vec: same seeds, same random streams. */
static void node(test_node *n, const char *label)
{
	ss_ctx_config cfg = {0};
	uint8_t seed[SS_SEED_LEN];

	memset(n, 0, sizeof(*n));
	vec_node_keys(label, seed, &n->rng);
	assert_int_equal(ss_identity_from_seed(&n->id, seed), 0);
	cfg.max_peers = 2;
	test_node_start(n, &cfg);
}

static ss_endpoint v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	ss_endpoint ep = {
		.addr = {[10] = 0xff, [11] = 0xff, [12] = a, [13] = b, [14] = c, [15] = d},
		.port = port};
	return ep;
}

static ss_endpoint doc6(uint8_t last, uint16_t port)
{
	ss_endpoint ep = {.addr = {0x20, 0x01, 0x0d, 0xb8, [15] = last}, .port = port};
	return ep;
}

static void emit_msg(const char *key, const ss_reach_msg *m)
{
	uint8_t pt[SS_REACH_LEN];

	assert_code(ss_reach_encode(m, pt), 0);
	emit(key, pt, sizeof(pt));
}

static void introducer_msgs(const uint8_t *alice, const uint8_t *bob)
{
	ss_reach_msg m = {
		.type = SS_CTL_REGISTER, .flags = SS_REACH_F_RELAY_OK, .txid = 0x11223344};

	m.rtt_ms = 23;
	m.n_cand = 2;
	m.cand[0] = v4(192, 0, 2, 10, 51999);
	m.cand[1] = doc6(0x10, 51999);
	emit_msg("reach.register", &m);
	m = (ss_reach_msg){.type = SS_CTL_REGISTERED, .txid = 0x11223344};
	m.observed = v4(198, 51, 100, 7, 40001);
	emit_msg("reach.registered", &m);
	m = (ss_reach_msg){.type = SS_CTL_QUERY, .txid = 0x55667788, .rtt_ms = 23};
	memcpy(m.subject, bob, SS_IDENTITY_LEN);
	emit_msg("reach.query", &m);
	m.type = SS_CTL_ANSWER;
	m.rtt_ms = 0;
	m.flags = SS_REACH_F_HARD_NAT;
	m.delay_ms = 12;
	m.observed = v4(198, 51, 100, 7, 40001);
	m.n_cand = 2;
	m.cand[0] = v4(203, 0, 113, 9, 51999);
	m.cand[1] = v4(192, 0, 2, 20, 51999);
	emit_msg("reach.answer", &m);
	m = (ss_reach_msg){.type = SS_CTL_PUNCH, .txid = 0x99aabbcc, .n_cand = 2};
	memcpy(m.subject, alice, SS_IDENTITY_LEN);
	m.observed = v4(203, 0, 113, 9, 51999);
	m.cand[0] = v4(198, 51, 100, 7, 40001);
	m.cand[1] = v4(192, 0, 2, 10, 51999);
	emit_msg("reach.punch", &m);
}

static void relay_msgs(const uint8_t *alice, const uint8_t *bob)
{
	ss_reach_msg m = {.type = SS_CTL_RELAY_OPEN, .txid = 0x0badcafe};

	memcpy(m.subject, bob, SS_IDENTITY_LEN);
	emit_msg("reach.relay_open", &m);
	m = (ss_reach_msg){.type = SS_CTL_RELAY_OFFER, .txid = 0x0c0ffee0, .circuit = 0xdeadbeef};
	memcpy(m.subject, alice, SS_IDENTITY_LEN);
	emit_msg("reach.relay_offer", &m);
	m.type = SS_CTL_RELAY_ACCEPT;
	emit_msg("reach.relay_accept", &m);
	m = (ss_reach_msg){.type = SS_CTL_RELAY_CLOSE, .circuit = 0xdeadbeef};
	memcpy(m.subject, bob, SS_IDENTITY_LEN);
	emit_msg("reach.relay_close", &m);
}

static void generate(void)
{
	static uint8_t p1[SS_MAX_PACKET], p2[SS_MAX_PACKET];
	uint8_t pt[SS_REACH_LEN];
	test_node a, b;
	ss_reach_msg m = {.type = SS_CTL_REGISTER, .txid = 1};
	ss_result res;
	size_t len;

	vec.n = 0;
	node(&a, "alice");
	node(&b, "bob");
	test_pair_link(&a, &b);
	introducer_msgs(ss_identity_public(a.id), ss_identity_public(b.id));
	relay_msgs(ss_identity_public(a.id), ss_identity_public(b.id));

	/* handshake.vec's handshake; then alice's REGISTER is her packet with counter 1. */
	ss_peer_want_handshake(a.peer);
	assert_code(
		ss_peer_tick(a.ctx, a.peer, p1, sizeof(p1), &len, NULL, &(enum ss_tick_kind){0}),
		0);
	emit("msg.init", p1, len);
	assert_code(ss_ctx_consume(b.ctx, &b.flow, p1, len, p2, sizeof(p2), &res), 0);
	len = res.len;
	assert_code(ss_ctx_consume(a.ctx, &a.flow, p2, len, p1, sizeof(p1), &res), 0);
	assert_code(ss_ctx_consume(b.ctx, &b.flow, p1, res.len, p2, sizeof(p2), &res), 0);
	assert_code(ss_reach_encode(&m, pt), 0);
	emit("control.register_plaintext", pt, sizeof(pt));
	assert_code(ss_peer_seal_reach(a.ctx, a.peer, pt, p1, sizeof(p1), &len, NULL), 0);
	emit("control.register_a2b", p1, len);
	assert_code(ss_ctx_consume(b.ctx, &b.flow, p1, len, p2, sizeof(p2), &res), 0);
	assert_int_equal(res.kind, SS_RESULT_CONTROL);

	assert_code(ss_lan_build(a.ctx, SS_LAN_PEERS, 51999, p1, sizeof(p1), &len), 0);
	emit("lan.peers_alice", p1, len);
	assert_code(ss_lan_build(a.ctx, SS_LAN_OPEN, 51999, p1, sizeof(p1), &len), 0);
	emit("lan.open_alice", p1, len);
	test_pair_free(&a, &b);
}

static void vectors_match_pinned_file(void **state)
{
	(void)state;
	generate();
	vec_check_pinned(&vec, "reach.vec",
			 "# SiloSec v2 reachability vectors (docs/PROTOCOL.md 16.14).\n"
			 "# Identities, random streams and times are those of handshake.vec.\n"
			 "# Regenerate: SS_VECTOR_WRITE=1 build/tests/test_reach_vectors\n");
}

/* The pinned INIT is handshake.vec's: the sealed REGISTER rides that session. */
static void same_session_as_handshake_vec(void **state)
{
	char init[VEC_LINE_LEN];

	(void)state;
	vec_pinned_value("handshake.vec", "msg.init", init, sizeof(init));
	generate();
	assert_true(!strncmp(vec.line[9], "msg.init = ", 11));
	assert_string_equal(vec.line[9] + 11, init);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vectors_match_pinned_file),
		cmocka_unit_test(same_session_as_handshake_vec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
