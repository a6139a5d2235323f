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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handshake_and_data),
		cmocka_unit_test(tofu_responder_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
