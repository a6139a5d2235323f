/* SPDX-License-Identifier: MIT */
/*
 * Adversarial tests, CONTROL messages (section 3.7, 4.5): tampering, reflection and echo
 * divergence. The attacker's tools and the checks (expect_drop, snap_take/snap_check, forgeries)
 * are in adversary.h; the conventions are there too.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "adversary.h"

#include "common/crypto.h"
#include "common/endian.h"
#include "internal.h"

static void tamper_every_byte_control(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg d, echo;
	struct snap s;
	msg bad, out;
	ss_result res;

	seal_str(a, "data", &d);
	open_str(b, &d, "data");
	assert_int_equal(tick(b, &echo), SS_TICK_ECHO);
	assert_int_equal(echo.len, SS_DATA_OVERHEAD + SS_CTL_LEN);
	snap_take(&s, a);
	for (size_t pos = 0; pos < echo.len; pos++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			const ss_peer *w;
			int ret;

			copy_flip(&bad, &echo, pos, masks[m]);
			ret = drop_any(a, &a->flow, bad.b, bad.len, &w);
			if (pos < SS_PREFIX_LEN)
				assert_code_in(ret, SS_ERR_MALFORMED, SS_ERR_DECRYPT);
			else if (pos < SS_DATA_OFF_COUNTER)
				assert_code(ret, SS_ERR_UNKNOWN_INDEX);
			else if (pos < SS_DATA_HDR_LEN)
				assert_code_in(ret, SS_ERR_DECRYPT, SS_ERR_REPLAY, SS_ERR_EXPIRED,
					       SS_ERR_TOO_OLD);
			else
				assert_code(ret, SS_ERR_DECRYPT);
			snap_check(&s, a, 0);
		}
	}
	snap_free(&s);
	assert_code(consume(a, &echo, &out, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_NONE);
	assert_true(ss_peer_has_session(a->peer));
}

static void reflect_control(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg d, echo, out;
	ss_result res;

	seal_str(b, "to alice", &d);
	open_str(a, &d, "to alice");
	assert_int_equal(tick(a, &echo), SS_TICK_ECHO);
	reflect_packet(a, b, &echo);
	assert_code(consume(b, &echo, &out, &res), 0);
}

/* =========================================================================
 * echo_divergence_*: invariant 7.
 * ========================================================================= */

static void echo_divergence_normal(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg d, echo, out;
	ss_result res;

	for (int i = 0; i < 3; i++) {
		seal_str(a, "data", &d);
		open_str(b, &d, "data");
	}
	assert_int_equal(tick(b, &echo), SS_TICK_ECHO);
	assert_int_equal(tick(b, &out), SS_TICK_NONE);
	assert_code(consume(a, &echo, &out, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_NONE);
	assert_int_equal(res.flags, 0);
	assert_true(ss_peer_has_session(a->peer));
	assert_true(a->peer->current->echo_seen);
	assert_int_equal(a->peer->current->echo_rx_next, 4);
	assert_int_equal(a->peer->current->echo_rx_packets, 4);
	/* Loss and reordering only make echoed values smaller: still fine. */
	seal_str(a, "lost", &d);
	seal_str(a, "arrives", &d);
	open_str(b, &d, "arrives");
	test_advance(a, b, SS_ECHO_INTERVAL);
	assert_int_equal(tick(b, &echo), SS_TICK_ECHO);
	assert_code(consume(a, &echo, &out, &res), 0);
	assert_int_equal(a->peer->current->echo_rx_next, 6);
	assert_int_equal(a->peer->current->echo_rx_packets, 5);
	test_send(a, b, "after the echo");
}

static void echo_divergence_ahead(void **state)
{
	/* Echoed values relative to what A actually sent. */
	static const struct {
		int64_t next_rel, pkts_rel;
	} cases[] = {
		{1, 0},	 /* rx_next beyond the send counter */
		{5, 5},	 /* both beyond */
		{0, 1},	 /* rx_packets beyond */
		{-1, 0}, /* rx_packets > rx_next */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		test_node a, b;
		uint64_t sent;
		msg d, echo;

		test_pair_init(&a, &b);
		test_handshake(&a, &b);
		seal_str(&a, "x", &d);
		open_str(&b, &d, "x");
		sent = a.peer->current->tx_next;
		forge_echo(&b, (uint64_t)((int64_t)sent + cases[i].next_rel),
			   (uint64_t)((int64_t)sent + cases[i].pkts_rel), &echo);
		expect_divergence(&a, &b, &echo);
		test_pair_free(&a, &b);
	}
}

static void echo_divergence_regression(void **state)
{
	static const uint64_t later[][2] = {{2, 2}, {4, 3}, {3, 3}};

	(void)state;
	for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
		test_node a, b;
		msg d, echo, out;
		ss_result res;

		test_pair_init(&a, &b);
		test_handshake(&a, &b);
		for (int k = 0; k < 3; k++) {
			seal_str(&a, "x", &d);
			open_str(&b, &d, "x");
		}
		forge_echo(&b, 4, 4, &echo);
		assert_code(consume(&a, &echo, &out, &res), 0);
		forge_echo(&b, later[i][0], later[i][1], &echo);
		expect_divergence(&a, &b, &echo);
		test_pair_free(&a, &b);
	}
}

/* An older ECHO overtaken by a newer one is accepted, not evaluated (section 4.5). */
static void echo_divergence_reordered(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg d, e1, e2, out;
	ss_result res;

	for (int k = 0; k < 3; k++) {
		seal_str(a, "x", &d);
		open_str(b, &d, "x");
	}
	forge_echo(b, 2, 2, &e1);
	forge_echo(b, 4, 4, &e2);
	assert_code(consume(a, &e2, &out, &res), 0);
	assert_code(consume(a, &e1, &out, &res), 0);
	assert_true(ss_peer_has_session(a->peer));
	assert_int_equal(a->peer->current->echo_rx_next, 4);
	expect_drop(a, &a->flow, e1.b, e1.len, SS_ERR_REPLAY, a->peer);
	test_send(a, b, "x");
}

/* Authenticated CONTROL plaintexts with an unknown type or reserved bits set. */
static void echo_divergence_malformed_plaintext(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	struct snap s;
	uint8_t pt[SS_CTL_LEN];
	msg m, d;

	seal_str(a, "x", &d);
	open_str(b, &d, "x");
	snap_take(&s, a);
	memset(pt, 0, sizeof(pt));
	pt[0] = 2;
	seal_control(b, pt, &m);
	expect_drop(a, &a->flow, m.b, m.len, SS_ERR_MALFORMED, a->peer);
	for (int i = 1; i < SS_CTL_OFF_RX_NEXT; i++) {
		memset(pt, 0, sizeof(pt));
		pt[0] = SS_CTL_ECHO;
		pt[i] = 0x80;
		seal_control(b, pt, &m);
		expect_drop(a, &a->flow, m.b, m.len, SS_ERR_MALFORMED, a->peer);
	}
	snap_check(&s, a, 0);
	snap_free(&s);
	test_send(a, b, "still fine");
}

/*
 * Section 7.3: an ECHO is due only after DATA was accepted; received CONTROL packets do
 * not make one due, "so echoes never answer echoes". One DATA packet must cause one
 * ECHO, not an endless exchange.
 */
static void echo_divergence_no_echo_storm(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	int echoes = 0;
	msg d, m, out;
	ss_result res;

	seal_str(a, "one", &d);
	open_str(b, &d, "one");
	for (int step = 0; step < 20; step++) {
		test_node *n[2] = {a, b}, *peer[2] = {b, a};

		for (int i = 0; i < 2; i++) {
			enum ss_tick_kind k;

			while ((k = tick(n[i], &m)) != SS_TICK_NONE) {
				if (k == SS_TICK_ECHO)
					echoes++;
				assert_code(consume(peer[i], &m, &out, &res), 0);
			}
		}
		test_advance(a, b, SS_ECHO_INTERVAL);
	}
	assert_int_equal(echoes, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {session_test(tamper_every_byte_control),
					   session_test(reflect_control),
					   session_test(echo_divergence_normal),
					   cmocka_unit_test(echo_divergence_ahead),
					   cmocka_unit_test(echo_divergence_regression),
					   session_test(echo_divergence_reordered),
					   session_test(echo_divergence_malformed_plaintext),
					   session_test(echo_divergence_no_echo_storm)};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
