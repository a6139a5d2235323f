/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "adversary.h"
#include "helpers.h"

static void handshake_and_data(void **state)
{
	test_node a, b;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	test_send(&a, &b, "hello bob");
	test_send(&b, &a, "hello alice");
	test_pair_free(&a, &b);
}

/*
 * Issue 13 (review): B pins A on first use (ss_peer_add_tofu) and A knows B. B's RESPONSE
 * to A's INIT must carry mac1 keyed by A's identity I (section 3.3), not by the anonymous
 * key B uses for its own INITs to A, or A drops it (SS_ERR_MAC1) and only B can initiate.
 */
static void tofu_responder_answers(void **state)
{
	test_node a, b;
	msg init, resp, want, ka;

	(void)state;
	test_node_init_anon(&a, "alice", false);
	test_node_init_anon(&b, "bob", true);
	assert_int_equal(ss_peer_add(a.ctx, ss_identity_public(b.id), &a.peer), 0);
	assert_int_equal(ss_peer_add_tofu(b.ctx, ss_identity_public(a.id), &b.peer), 0);
	test_pair_flows(&a, &b);
	start_init(&a, &init);
	respond(&b, &init, &resp);
	want = resp;
	remac_resp(want.b, ss_identity_public(a.id));
	assert_memory_equal(resp.b + SS_RESP_OFF_MAC1, want.b + SS_RESP_OFF_MAC1, SS_MAC_LEN);
	finish(&a, &resp, &ka);
	confirm(&b, &ka);
	test_send(&a, &b, "answered");
	test_send(&b, &a, "answered");
	test_pair_free(&a, &b);
}

/*
 * Issue 13, finding 7: B accepted an INIT from A stamped ten years ahead (A's clock was
 * wrong). A's clock is corrected and A restarts, so its INITs carry the true time: B
 * refuses every one as SS_ERR_STALE until B forgets the poisoned timestamp; then A is
 * accepted, while B's session and rate limit were left as they were.
 */
static void forget_poisoned_timestamp(void **state)
{
	const uint64_t ahead = UINT64_C(10) * 365 * 86400 * SS_NS_PER_SEC;
	test_node a, b, a2;
	msg init, resp, ka, d;
	size_t len;

	(void)state;
	test_pair_init(&a, &b);
	a.clock.now.wall_ns += ahead;
	test_handshake(&a, &b);

	test_node_init(&a2, "alice", 4);
	a2.clock = a.clock;
	a2.clock.now.wall_ns -= ahead;
	assert_int_equal(ss_peer_add(a2.ctx, ss_identity_public(b.id), &a2.peer), 0);
	a2.flow = a.flow;
	ss_peer_set_flow(a2.peer, &a2.flow);
	test_advance(&a2, &b, SS_HANDSHAKE_MIN_INTERVAL);
	start_init(&a2, &init);
	expect_drop(&b, &b.flow, init.b, init.len, SS_ERR_STALE, b.peer);
	test_advance(&a2, &b, SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
	assert_int_equal(tick(&a2, &init), SS_TICK_HANDSHAKE);
	expect_drop(&b, &b.flow, init.b, init.len, SS_ERR_STALE, b.peer);

	assert_true(ss_peer_forget_timestamp(b.peer) > a2.clock.now.wall_ns + ahead / 2);
	assert_int_equal(ss_peer_forget_timestamp(b.peer), 0);
	/* The session stands: B still sends on it (A, not restarted, still opens it). */
	assert_true(ss_peer_has_session(b.peer));
	seal_str(&b, "still up", &d);
	open_str(&a, &d, "still up");

	/* The refused INIT was never accepted, so it is accepted now, once. */
	respond(&b, &init, &resp);
	finish(&a2, &resp, &ka);
	confirm(&b, &ka);
	test_send(&a2, &b, "clock fixed");
	test_send(&b, &a2, "clock fixed");
	/* The rate limit was not reset: a replay right away is refused by either check. */
	assert_code_in(drop_any(&b, &b.flow, init.b, init.len, NULL), SS_ERR_STALE,
		       SS_ERR_RATE_LIMIT);
	assert_code(
		ss_peer_seal(b.ctx, b.peer, (const uint8_t *)"x", 1, d.b, sizeof(d.b), &len, NULL),
		0);
	test_node_free(&a2);
	test_pair_free(&a, &b);
}

/* The rate limit is not part of what is forgotten. */
static void forget_keeps_rate_limit(void **state)
{
	test_node a, b;
	msg init;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	assert_true(ss_peer_forget_timestamp(b.peer) > 0);
	start_init(&a, &init);
	expect_drop(&b, &b.flow, init.b, init.len, SS_ERR_RATE_LIMIT, b.peer);
	test_pair_free(&a, &b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handshake_and_data),
		cmocka_unit_test(tofu_responder_answers),
		cmocka_unit_test(forget_poisoned_timestamp),
		cmocka_unit_test(forget_keeps_rate_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
