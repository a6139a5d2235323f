/* SPDX-License-Identifier: MIT */
/*
 * Adversarial tests, RESPONSE messages (section 3.3, 4.3): tampering, replay, reflection, identity
 * swaps, misbinding and small-order responders. The attacker's tools and the checks (expect_drop,
 * snap_take/snap_check, forgeries) are in adversary.h; the conventions are there too.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "adversary.h"

#include "common/crypto.h"
#include "common/endian.h"
#include "internal.h"

static void tamper_every_byte_response(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	struct snap s;
	msg init, resp, bad, ka;

	start_init(a, &init);
	respond(b, &init, &resp);
	snap_take(&s, a);
	for (size_t pos = 0; pos < SS_RESP_LEN; pos++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			copy_flip(&bad, &resp, pos, masks[m]);
			expect_drop(a, &a->flow, bad.b, bad.len,
				    pos < SS_PREFIX_LEN ? SS_ERR_MALFORMED : SS_ERR_MAC1, NULL);
			snap_check(&s, a, 0);
		}
	}
	/* With mac1 recomputed: each field fails its own check (section 4.3). */
	for (size_t pos = 0; pos < SS_RESP_OFF_MAC1; pos++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			int want = SS_ERR_SIGNATURE;
			const ss_peer *attr = a->peer;

			copy_flip(&bad, &resp, pos, masks[m]);
			remac_resp(bad.b, ss_identity_public(a->id));
			if (pos < SS_PREFIX_LEN) {
				want = SS_ERR_MALFORMED;
				attr = NULL;
			} else if (pos >= SS_RESP_OFF_RECEIVER && pos < SS_RESP_OFF_IDENTITY) {
				want = SS_ERR_UNKNOWN_INDEX;
				attr = NULL;
			} else if (pos >= SS_RESP_OFF_CONFIRM) {
				want = SS_ERR_CONFIRM;
			}
			expect_drop(a, &a->flow, bad.b, bad.len, want, attr);
			snap_check(&s, a, 0);
		}
	}
	snap_free(&s);
	assert_true(a->peer->hs.active);
	assert_false(ss_peer_has_session(a->peer));
	finish(a, &resp, &ka);
	confirm(b, &ka);
}

static void replay_response(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	struct hs_msgs h;
	struct snap s;

	handshake_capture(a, b, &h);
	snap_take(&s, a);
	assert_code(drop_any(a, &a->flow, h.resp.b, h.resp.len, NULL), SS_ERR_UNKNOWN_INDEX);
	snap_check(&s, a, 0);
	snap_free(&s);
	test_send(a, b, "one session");
	test_send(b, a, "one session");
}

static void reflect_response(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg init, resp, ka;

	start_init(a, &init);
	respond(b, &init, &resp);
	expect_drop_unchanged(b, &b->flow, resp.b, resp.len, SS_ERR_MAC1, NULL, 0);
	finish(a, &resp, &ka);
	confirm(b, &ka);
}

/* A RESPONSE to a's init forged for ident, signed by signer: dropped at a as code. */
static void forged_dropped(test_node *a, const msg *init, const uint8_t *ident,
			   const ss_identity *signer, const char *eph, int code)
{
	msg bad;

	forge_response(&bad, init->b, ident, signer, ss_identity_public(a->id), eph);
	expect_drop(a, &a->flow, bad.b, bad.len, code, a->peer);
}

/* Control: the same construction by B itself is a valid RESPONSE. */
static void genuine_finishes(test_node *a, const test_node *b, const msg *init)
{
	msg resp, ka;

	forge_response(&resp, init->b, ss_identity_public(b->id), b->id, ss_identity_public(a->id),
		       "bob eph");
	finish(a, &resp, &ka);
}

static void swap_identity_response(void **state)
{
	ss_identity *carol = test_identity("carol");
	const uint8_t *ia;
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	struct snap s;
	msg init, bad;

	ia = ss_identity_public(a->id);
	start_init(a, &init);
	snap_take(&s, a);
	/* Carol answers A's INIT as herself: A expects B. */
	forged_dropped(a, &init, ss_identity_public(carol), carol, "carol eph", SS_ERR_IDENTITY);
	/*
	 * Carol's identity without her key (garbage signature): a forgery, not an identity
	 * change, so no "identity changed" alert (issue 13, finding 5).
	 */
	forge_response(&bad, init.b, ss_identity_public(carol), carol, ia, "carol eph");
	memset(bad.b + SS_RESP_OFF_SIG, 0xa5, SS_SIG_LEN);
	remac_resp(bad.b, ia);
	expect_drop(a, &a->flow, bad.b, bad.len, SS_ERR_SIGNATURE, a->peer);
	/* Carol claims to be B but can only sign with her own key. */
	forged_dropped(a, &init, ss_identity_public(b->id), carol, "carol eph", SS_ERR_SIGNATURE);
	/* B's genuine signature, but a confirm tag computed for another ephemeral. */
	forge_response(&bad, init.b, ss_identity_public(b->id), b->id, ia, "bob eph");
	bad.b[SS_RESP_OFF_EPHEMERAL] ^= 1;
	remac_resp(bad.b, ia);
	expect_drop(a, &a->flow, bad.b, bad.len, SS_ERR_SIGNATURE, a->peer);
	snap_check(&s, a, 0);
	snap_free(&s);
	genuine_finishes(a, b, &init);
	ss_identity_free(carol);
}

static void misbinding_response(void **state)
{
	test_node a, b, c;
	ss_peer *bc;
	struct snap s;
	msg init1, init2, resp1, resp_c, init_c, bad, resp2, ka;

	(void)state;
	test_pair_init(&a, &b);
	test_node_init(&c, "carol", 4);
	assert_int_equal(ss_peer_add(c.ctx, ss_identity_public(b.id), &c.peer), 0);
	assert_int_equal(ss_peer_add(b.ctx, ss_identity_public(c.id), &bc), 0);
	test_flow_v4(&c.flow, 0x0a000003, 7000, 0x0a000002, 6000, 17);
	ss_peer_set_flow(c.peer, &c.flow);

	start_init(&a, &init1);
	respond(&b, &init1, &resp1);
	start_init(&c, &init_c);
	{
		ss_flow bf;
		ss_result res;

		test_flow_reverse(&bf, &c.flow);
		assert_code(consume_on(&b, &bf, &init_c, &resp_c, &res), 0);
		assert_int_equal(res.len, SS_RESP_LEN);
	}
	/* A retries: INIT2 replaces INIT1. */
	test_advance(&a, &b, SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
	assert_int_equal(tick(&a, &init2), SS_TICK_HANDSHAKE);
	assert_memory_not_equal(init1.b + SS_INIT_OFF_SENDER, init2.b + SS_INIT_OFF_SENDER, 4);

	snap_take(&s, &a);
	expect_drop(&a, &a.flow, resp1.b, resp1.len, SS_ERR_UNKNOWN_INDEX, NULL);
	/* B's genuine RESPONSE to INIT1 spliced onto INIT2. */
	bad = resp1;
	memcpy(bad.b + SS_RESP_OFF_RECEIVER, init2.b + SS_INIT_OFF_SENDER, 4);
	remac_resp(bad.b, ss_identity_public(a.id));
	expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_SIGNATURE, a.peer);
	/* B's genuine RESPONSE to Carol's INIT spliced onto A's. */
	bad = resp_c;
	memcpy(bad.b + SS_RESP_OFF_RECEIVER, init2.b + SS_INIT_OFF_SENDER, 4);
	remac_resp(bad.b, ss_identity_public(a.id));
	expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_SIGNATURE, a.peer);
	snap_check(&s, &a, 0);
	snap_free(&s);

	respond(&b, &init2, &resp2);
	finish(&a, &resp2, &ka);
	confirm(&b, &ka);
	test_send(&a, &b, "bound to the right INIT");
	test_node_free(&c);
	test_pair_free(&a, &b);
}

/*
 * A trust-on-first-use initiator answered by a small-order identity with the universal
 * signature (and a correct confirm tag: the attacker knows its ephemeral) neither
 * learns it nor completes; the genuine responder still can.
 */
static void small_order_identity_response(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	struct snap s;
	msg init;

	start_init(a, &init);
	snap_take(&s, a);
	forged_dropped(a, &init, identity_point, NULL, "mallory eph", SS_ERR_SIGNATURE);
	snap_check(&s, a, 0);
	snap_free(&s);
	assert_null(ss_peer_identity(a->peer));
	assert_null(ss_peer_find(a->ctx, identity_point));
	genuine_finishes(a, b, &init);
	assert_memory_equal(ss_peer_identity(a->peer), ss_identity_public(b->id), SS_IDENTITY_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		pair_test(tamper_every_byte_response), pair_test(replay_response),
		pair_test(reflect_response),	       pair_test(swap_identity_response),
		cmocka_unit_test(misbinding_response), tofu_test(small_order_identity_response)};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
