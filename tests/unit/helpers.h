/* SPDX-License-Identifier: MIT */
/* Deterministic clock and randomness, and a two-node harness for core tests. */
#ifndef SS_TEST_HELPERS_H
#define SS_TEST_HELPERS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <setjmp.h>

#include <cmocka.h>

#include <silosec/core.h>

typedef struct test_clock {
	ss_time now;
} test_clock;

typedef struct test_rng {
	uint8_t seed[32];
	uint64_t counter;
} test_rng;

void test_clock_fn(void *arg, ss_time *now);
int test_rng_fn(void *arg, uint8_t *buf, size_t len);
void test_rng_init(test_rng *r, const char *label);
/* The next 8 bytes of r, big-endian. */
uint64_t test_rnd64(test_rng *r);

typedef struct test_node {
	ss_identity *id;
	ss_ctx *ctx;
	ss_peer *peer; /* the other node */
	test_clock clock;
	test_rng rng;
	ss_flow flow; /* as seen from this node */
} test_node;

/* Two nodes A (10.0.0.1:5000) and B (10.0.0.2:6000) that know each other. */
void test_pair_init(test_node *a, test_node *b);
/* The same two nodes, but only A knows B (B has no peer: A is a stranger to it). */
void test_pair_init_oneway(test_node *a, test_node *b);
void test_pair_free(test_node *a, test_node *b);
/* A's and B's flows as test_pair_init sets them, on their peers if they have them. */
void test_pair_flows(test_node *a, test_node *b);
/* Each node adds the other as a peer (known identity), with those flows. */
void test_pair_link(test_node *a, test_node *b);
/* The identity derived from label, as test_node_init derives its nodes' identities. */
ss_identity *test_identity(const char *label);
/* The identity whose seed is SHA-256(seed_label). */
ss_identity *test_identity_seeded(const char *seed_label);
void test_node_init(test_node *n, const char *label, uint32_t max_peers);
/* A node like test_node_init's (4 peers, no peer added) that may accept anonymous INITs. */
void test_node_init_anon(test_node *n, const char *label, bool accept_anonymous);
void test_node_free(test_node *n);
/* Given n->id: the fixed clock, cfg's identity, clock and (unless set) n's rng; the ctx. */
void test_node_start(test_node *n, ss_ctx_config *cfg);
void test_advance(test_node *a, test_node *b, uint64_t ns);

/* cmocka fixture: *state is a test_pair set up by test_pair_init, freed by the teardown. */
typedef struct test_pair {
	test_node a, b;
} test_pair;
int test_pair_setup(void **state);
/* The same, after a completed handshake (test_handshake). */
int test_session_setup(void **state);
int test_pair_teardown(void **state);
/* Cases that start from those fixtures, for the CMUnitTest tables. */
#define pair_test(fn) cmocka_unit_test_setup_teardown(fn, test_pair_setup, test_pair_teardown)
#define session_test(fn) cmocka_unit_test_setup_teardown(fn, test_session_setup, test_pair_teardown)

/* Run a full handshake a -> b -> a (-> b keepalive); asserts success. */
void test_handshake(test_node *a, test_node *b);
/* Seal on from, open on to, assert the plaintext arrives. */
void test_send(test_node *from, test_node *to, const char *text);

void test_flow_v4(ss_flow *f, uint32_t local, uint16_t lport, uint32_t remote, uint16_t rport,
		  uint8_t proto);
void test_flow_reverse(ss_flow *out, const ss_flow *in);

/*
 * cmocka fixtures: *state is a fresh directory under /tmp, removed with all it holds.
 * test_tmp_path() names a file in it (out has PATH_MAX bytes).
 */
int test_tmpdir_setup(void **state);
int test_tmpdir_teardown(void **state);
void test_tmp_path(char *out, void **state, const char *name);
/* Whole-file helpers that assert success; read_file NUL-terminates within cap. */
void test_write_file(const char *path, const void *data, size_t len, mode_t mode);
size_t test_read_file(const char *path, char *buf, size_t cap);

int hex_decode(const char *hex, uint8_t *out, size_t max, size_t *len);
void hex_encode(const uint8_t *in, size_t len, char *out);

#endif
