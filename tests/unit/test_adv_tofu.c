/* SPDX-License-Identifier: MIT */
/*
 * Adversarial tests, Trust on first use (section 4.3): what a TOFU initiator learns, and what it
 * refuses to. The attacker's tools and the checks (expect_drop, snap_take/snap_check, forgeries)
 * are in adversary.h; the conventions are there too.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "adversary.h"

#include "common/crypto.h"
#include "common/endian.h"
#include "internal.h"

static void tofu_initiator(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	ss_result res;
	msg init, resp, ka;

	assert_null(ss_peer_identity(a->peer));
	start_init(a, &init);
	respond(b, &init, &resp);
	assert_code(consume(a, &resp, &ka, &res), 0);
	assert_true(res.flags & SS_RESULT_F_HANDSHAKE);
	assert_true(res.flags & SS_RESULT_F_LEARNED);
	assert_memory_equal(res.identity, ss_identity_public(b->id), SS_IDENTITY_LEN);
	assert_non_null(ss_peer_identity(a->peer));
	assert_memory_equal(ss_peer_identity(a->peer), ss_identity_public(b->id), SS_IDENTITY_LEN);
	assert_ptr_equal(ss_peer_find(a->ctx, ss_identity_public(b->id)), a->peer);
	confirm(b, &ka);
	test_send(a, b, "learned");
	test_send(b, a, "learned");
	/* Pinned now: the next INIT is addressed to B's identity, not anonymous. */
	test_advance(a, b, SS_NS_PER_SEC);
	start_init(a, &init);
	{
		msg want = init;

		remac_init(want.b, ss_identity_public(b->id));
		assert_memory_equal(want.b + SS_INIT_OFF_MAC1, init.b + SS_INIT_OFF_MAC1,
				    SS_MAC_LEN);
	}
	respond(b, &init, &resp);
	assert_code(consume(a, &resp, &ka, &res), 0);
	assert_false(res.flags & SS_RESULT_F_LEARNED);
}

static void tofu_initiator_not_accepted(void **state)
{
	test_node a, b;
	msg init;

	(void)state;
	tofu_pair_init(&a, &b, false);
	start_init(&a, &init);
	expect_drop_unchanged(&b, &b.flow, init.b, init.len, SS_ERR_MAC1, NULL, 0);
	test_pair_free(&a, &b);
}

/* A pins pin (NULL: learns on first use) with ss_peer_add_tofu; B knows A. */
static void tofu_pinned_pair(test_node *a, test_node *b, const uint8_t *pin)
{
	test_node_init_anon(a, "alice", false);
	test_node_init_anon(b, "bob", true);
	assert_int_equal(ss_peer_add_tofu(a->ctx, pin, &a->peer), 0);
	assert_int_equal(ss_peer_add(b->ctx, ss_identity_public(a->id), &b->peer), 0);
	test_pair_flows(a, b);
}

/* init's mac1 is keyed for an anonymous responder. */
static void assert_init_anonymous(const msg *init)
{
	static const uint8_t anon[SS_IDENTITY_LEN];
	msg want = *init;

	remac_init(want.b, anon);
	assert_memory_equal(want.b + SS_INIT_OFF_MAC1, init->b + SS_INIT_OFF_MAC1, SS_MAC_LEN);
}

/*
 * ss_peer_add_tofu: INITs stay anonymous even when pinned, so a responder whose key
 * changed still answers and the change is caught (SS_ERR_IDENTITY), not hidden as a
 * timeout behind a mac1 drop.
 */
static void tofu_pinned(void **state)
{
	ss_identity *carol = test_identity("carol"), *bob = test_identity("bob");
	test_node a, b;
	ss_result res;
	msg init, resp, ka;

	(void)state;
	/* Pinned to the right identity (bob's node has the same): works, INIT anonymous. */
	tofu_pinned_pair(&a, &b, ss_identity_public(bob));
	start_init(&a, &init);
	assert_init_anonymous(&init);
	respond(&b, &init, &resp);
	assert_code(consume(&a, &resp, &ka, &res), 0);
	assert_true(res.flags & SS_RESULT_F_HANDSHAKE);
	assert_false(res.flags & SS_RESULT_F_LEARNED);
	confirm(&b, &ka);
	test_send(&a, &b, "pinned");
	test_pair_free(&a, &b);

	/* Pinned to carol, bob answers: refused, nothing learned or changed. */
	tofu_pinned_pair(&a, &b, ss_identity_public(carol));
	start_init(&a, &init);
	respond(&b, &init, &resp);
	expect_drop_unchanged(&a, &a.flow, resp.b, resp.len, SS_ERR_IDENTITY, a.peer, 0);
	assert_memory_equal(ss_peer_identity(a.peer), ss_identity_public(carol), SS_IDENTITY_LEN);
	assert_false(ss_peer_has_session(a.peer));
	test_pair_free(&a, &b);

	/* Unpinned: learns, and later INITs are still anonymous. */
	tofu_pinned_pair(&a, &b, NULL);
	start_init(&a, &init);
	respond(&b, &init, &resp);
	assert_code(consume(&a, &resp, &ka, &res), 0);
	assert_true(res.flags & SS_RESULT_F_LEARNED);
	confirm(&b, &ka);
	test_advance(&a, &b, SS_NS_PER_SEC);
	start_init(&a, &init);
	assert_init_anonymous(&init);
	test_pair_free(&a, &b);
	ss_identity_free(carol);
	ss_identity_free(bob);
}

/* A TOFU peer must not learn its own identity or another configured peer's. */
static void tofu_initiator_identity_checks(void **state)
{
	ss_identity *carol = test_identity("carol");
	const uint8_t *ia;
	ss_peer *ac;
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	struct snap s;
	msg init, bad, ka;

	ia = ss_identity_public(a->id);
	assert_int_equal(ss_peer_add(a->ctx, ss_identity_public(carol), &ac), 0);
	start_init(a, &init);
	snap_take(&s, a);
	forge_response(&bad, init.b, ss_identity_public(carol), carol, ia, "carol eph");
	expect_drop(a, &a->flow, bad.b, bad.len, SS_ERR_IDENTITY, a->peer);
	forge_response(&bad, init.b, ia, a->id, ia, "alice eph");
	expect_drop(a, &a->flow, bad.b, bad.len, SS_ERR_REFLECTION, a->peer);
	snap_check(&s, a, 0);
	snap_free(&s);
	assert_null(ss_peer_identity(a->peer));
	forge_response(&bad, init.b, ss_identity_public(b->id), b->id, ia, "bob eph");
	finish(a, &bad, &ka);
	assert_memory_equal(ss_peer_identity(a->peer), ss_identity_public(b->id), SS_IDENTITY_LEN);
	ss_identity_free(carol);
}

/*
 * An "identity changed" verdict makes the daemon tell the operator to forget a pin, so it
 * needs the key (issue 13, finding 5): a RESPONSE carrying another identity is checked for
 * its signature and confirm tag first, and only a fully verified one is SS_ERR_IDENTITY.
 */
static void tofu_identity_change_needs_key(void **state)
{
	ss_identity *carol = test_identity("carol"), *bob = test_identity("bob");
	const uint8_t *ia, *ic = ss_identity_public(carol);
	test_node a, b;
	struct snap s;
	msg init, bad, resp, ka;

	(void)state;
	tofu_pinned_pair(&a, &b, ss_identity_public(bob));
	ia = ss_identity_public(a.id);
	start_init(&a, &init);
	snap_take(&s, &a);
	/* Carol's identity with a garbage signature: a forgery, not a key change. */
	forge_response(&bad, init.b, ic, carol, ia, "carol eph");
	memset(bad.b + SS_RESP_OFF_SIG, 0x5a, SS_SIG_LEN);
	remac_resp(bad.b, ia);
	expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_SIGNATURE, a.peer);
	/* One bit of a real signature flipped. */
	forge_response(&bad, init.b, ic, carol, ia, "carol eph");
	bad.b[SS_RESP_OFF_SIG + 9] ^= 0x10;
	remac_resp(bad.b, ia);
	expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_SIGNATURE, a.peer);
	/* Carol's good signature, but no key confirmation. */
	forge_response(&bad, init.b, ic, carol, ia, "carol eph");
	bad.b[SS_RESP_OFF_CONFIRM + 3] ^= 1;
	remac_resp(bad.b, ia);
	expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_CONFIRM, a.peer);
	snap_check(&s, &a, 0);
	snap_free(&s);
	/* Fully verified: now the changed identity is reported, and still refused. */
	forge_response(&bad, init.b, ic, carol, ia, "carol eph");
	expect_drop_unchanged(&a, &a.flow, bad.b, bad.len, SS_ERR_IDENTITY, a.peer, 0);
	assert_memory_equal(ss_peer_identity(a.peer), ss_identity_public(bob), SS_IDENTITY_LEN);
	respond(&b, &init, &resp);
	finish(&a, &resp, &ka);
	test_pair_free(&a, &b);
	ss_identity_free(carol);
	ss_identity_free(bob);
}

/*
 * The responder's side of finding 5: an INIT signed by an identity it does not know is
 * reported with SS_RESULT_F_REACHABLE only when its mac2 proves a cookie round trip from
 * that source address, so a spoofed INIT cannot make the daemon raise an alert.
 */
static void unknown_init_reachability(void **state)
{
	test_node a, b;
	ss_result res;
	ss_flow other;
	msg init, out;

	(void)state;
	test_pair_init_oneway(&a, &b);
	start_init(&a, &init);
	assert_code(consume(&b, &init, &out, &res), SS_ERR_UNKNOWN_PEER);
	assert_false(res.flags & SS_RESULT_F_REACHABLE);
	/* A cookie round trip: the retried INIT carries mac2 for A's address. */
	test_advance(&a, &b, SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
	cookie_retry(&a, &b, &init);
	assert_code(consume(&b, &init, &out, &res), SS_ERR_UNKNOWN_PEER);
	assert_true(res.flags & SS_RESULT_F_REACHABLE);
	assert_memory_equal(res.identity, ss_identity_public(a.id), SS_IDENTITY_LEN);
	ss_ctx_set_under_load(b.ctx, false);
	assert_code(consume(&b, &init, &out, &res), SS_ERR_UNKNOWN_PEER);
	assert_true(res.flags & SS_RESULT_F_REACHABLE);
	/* The same INIT from another address: its mac2 proves nothing there. */
	other = b.flow;
	other.remote_addr[15] ^= 1;
	assert_code(consume_on(&b, &other, &init, &out, &res), SS_ERR_UNKNOWN_PEER);
	assert_false(res.flags & SS_RESULT_F_REACHABLE);
	test_pair_free(&a, &b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {tofu_test(tofu_initiator),
					   cmocka_unit_test(tofu_initiator_not_accepted),
					   tofu_test(tofu_initiator_identity_checks),
					   cmocka_unit_test(tofu_pinned),
					   cmocka_unit_test(tofu_identity_change_needs_key),
					   cmocka_unit_test(unknown_init_reachability)};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
