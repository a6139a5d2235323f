/* SPDX-License-Identifier: MIT */
/*
 * Protocol vectors: a whole deterministic exchange (fixed seeds, fixed clocks, a
 * recorded random stream) is regenerated and compared with the pinned file
 * tests/vectors/handshake.vec, so any change to the wire format or key schedule
 * shows up as a diff. SS_VECTOR_WRITE=1 rewrites the file (review the diff!).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "vecfile.h"

struct recorder {
	test_rng rng;
	const char *name;
	int draws;
};

static vec_set vec;

static void emit(const char *key, const uint8_t *data, size_t len)
{
	vec_emit(&vec, key, data, len);
}

static void emit_u64(const char *key, uint64_t v)
{
	vec_emitf(&vec, "%s = %llu", key, (unsigned long long)v);
}

static int recording_rng(void *arg, uint8_t *buf, size_t len)
{
	struct recorder *r = arg;
	char key[64];
	int ret = test_rng_fn(&r->rng, buf, len);

	snprintf(key, sizeof(key), "%s.random[%d]", r->name, r->draws++);
	emit(key, buf, len);
	return ret;
}

static void node(test_node *n, struct recorder *rec, const char *label)
{
	ss_ctx_config cfg = {0};
	uint8_t seed[SS_SEED_LEN];
	char buf[64];

	memset(n, 0, sizeof(*n));
	vec_node_keys(label, seed, &rec->rng);
	snprintf(buf, sizeof(buf), "%s.seed", label);
	emit(buf, seed, sizeof(seed));
	assert_int_equal(ss_identity_from_seed(&n->id, seed), 0);
	snprintf(buf, sizeof(buf), "%s.identity", label);
	emit(buf, ss_identity_public(n->id), SS_IDENTITY_LEN);
	rec->name = label;
	cfg.random = recording_rng;
	cfg.random_arg = rec;
	cfg.max_peers = 2;
	test_node_start(n, &cfg);
}

static size_t consume(test_node *n, const uint8_t *pkt, size_t len, uint8_t *out, ss_result *res)
{
	assert_int_equal(ss_ctx_consume(n->ctx, &n->flow, pkt, len, out, SS_MAX_PACKET, res), 0);
	return res->len;
}

static void tick_expect(test_node *n, uint8_t *pkt, size_t *len, enum ss_tick_kind want)
{
	enum ss_tick_kind kind;

	assert_int_equal(ss_peer_tick(n->ctx, n->peer, pkt, SS_MAX_PACKET, len, NULL, &kind), 0);
	assert_int_equal(kind, want);
}

static void generate(void)
{
	static uint8_t p1[SS_MAX_PACKET], p2[SS_MAX_PACKET], p3[SS_MAX_PACKET];
	static const char a2b[] = "SiloSec v2 vector: alice to bob";
	static const char b2a[] = "SiloSec v2 vector: bob to alice";
	struct recorder ra = {0}, rb = {0};
	char fp[SS_FINGERPRINT_LEN];
	test_node a, b;
	ss_result res;
	size_t len;

	vec.n = 0;
	node(&a, &ra, "alice");
	node(&b, &rb, "bob");
	ss_fingerprint(ss_identity_public(a.id), fp);
	vec_emitf(&vec, "alice.fingerprint = %s", fp);
	emit_u64("time.wall_ns", a.clock.now.wall_ns);
	emit_u64("time.mono_ns", a.clock.now.mono_ns);
	test_pair_link(&a, &b);

	/* 1. Handshake: INIT, RESPONSE, confirming keepalive. */
	ss_peer_want_handshake(a.peer);
	tick_expect(&a, p1, &len, SS_TICK_HANDSHAKE);
	emit("msg.init", p1, len);
	len = consume(&b, p1, len, p2, &res);
	emit("msg.response", p2, len);
	len = consume(&a, p2, len, p3, &res);
	emit("msg.keepalive_a2b", p3, len);
	consume(&b, p3, len, p1, &res);

	/* 2. Data both ways, then bob's echo of what it received. */
	assert_int_equal(ss_peer_seal(a.ctx, a.peer, (const uint8_t *)a2b, strlen(a2b), p1,
				      sizeof(p1), &len, NULL),
			 0);
	emit("msg.data_a2b", p1, len);
	consume(&b, p1, len, p2, &res);
	assert_int_equal(ss_peer_seal(b.ctx, b.peer, (const uint8_t *)b2a, strlen(b2a), p1,
				      sizeof(p1), &len, NULL),
			 0);
	emit("msg.data_b2a", p1, len);
	consume(&a, p1, len, p2, &res);
	tick_expect(&b, p1, &len, SS_TICK_ECHO);
	emit("msg.echo_b2a", p1, len);
	consume(&a, p1, len, p2, &res);

	/* 3. Bob under load: alice's next INIT earns a cookie, the retry carries mac2. */
	test_advance(&a, &b, 130 * SS_NS_PER_SEC);
	ss_ctx_set_under_load(b.ctx, true);
	ss_peer_want_handshake(a.peer);
	tick_expect(&a, p1, &len, SS_TICK_HANDSHAKE);
	emit("load.init", p1, len);
	len = consume(&b, p1, len, p2, &res);
	assert_int_equal(len, SS_COOKIE_MSG_LEN);
	emit("load.cookie", p2, len);
	consume(&a, p2, len, p3, &res);
	test_advance(&a, &b, 6 * SS_NS_PER_SEC);
	tick_expect(&a, p1, &len, SS_TICK_HANDSHAKE);
	emit("load.init_with_mac2", p1, len);
	len = consume(&b, p1, len, p2, &res);
	assert_int_equal(len, SS_RESP_LEN);
	emit("load.response", p2, len);

	for (int i = 0; i < 2; i++) {
		test_node *n = i ? &b : &a;

		ss_ctx_free(n->ctx);
		ss_identity_free(n->id);
	}
}

static void vectors_match_pinned_file(void **state)
{
	(void)state;
	generate();
	vec_check_pinned(&vec, "handshake.vec",
			 "# SiloSec v2 protocol vectors (docs/PROTOCOL.md, \"Test vectors\").\n"
			 "# Regenerate: SS_VECTOR_WRITE=1 build/tests/test_vectors\n");
}

/* The pinned messages must also be accepted by a fresh responder built from the seeds. */
static void pinned_init_verifies(void **state)
{
	static uint8_t init[SS_INIT_LEN];
	uint8_t id[SS_IDENTITY_LEN];
	size_t len = 0;

	(void)state;
	vec_pinned_bytes("handshake.vec", "msg.init", init, sizeof(init), &len);
	vec_pinned_bytes("handshake.vec", "alice.identity", id, sizeof(id), &(size_t){0});
	assert_int_equal(len, SS_INIT_LEN);
	assert_memory_equal(init + SS_INIT_OFF_IDENTITY, id, SS_IDENTITY_LEN);
	assert_int_equal(init[0], SS_MSG_INIT);
	assert_int_equal(init[1], SS_VERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vectors_match_pinned_file),
		cmocka_unit_test(pinned_init_verifies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
