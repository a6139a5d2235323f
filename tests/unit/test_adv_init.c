/* SPDX-License-Identifier: MIT */
/*
 * Adversarial tests, INIT messages (section 3.2, 4.2): tampering, replay, reflection, identity
 * swaps, small-order keys, unknown peers and the per-peer rate limit. The attacker's tools and the
 * checks (expect_drop, snap_take/snap_check, forgeries) are in adversary.h; the conventions are
 * there too.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "adversary.h"

#include "common/crypto.h"
#include "common/endian.h"
#include "internal.h"

/* =========================================================================
 * tamper_every_byte_*: invariants 1, 2, 12. Every byte of every message, one bit
 * flipped (0x01 and 0x80): dropped, nothing answered, nothing changed, and the
 * untampered message is still accepted afterwards.
 * ========================================================================= */

static void flipped_init_dropped(test_node *b, const msg *bad, size_t pos)
{
	assert_code(drop_any(b, &b->flow, bad->b, bad->len, NULL),
		    pos < SS_PREFIX_LEN ? SS_ERR_MALFORMED : SS_ERR_MAC1);
}

/*
 * The mac1 key is public: an attacker recomputes mac1 after the flip. These INITs spend
 * load tokens (section 4, bookkeeping), so the bucket refills by one token per attempt.
 */
static void remaced_init_dropped(test_node *b, const msg *bad, size_t pos)
{
	msg m = *bad;
	int ret;

	remac_init(m.b, ss_identity_public(b->id));
	test_advance(b, NULL, SS_NS_PER_SEC / SS_LOAD_INITS_PER_SEC);
	ret = drop_any(b, &b->flow, m.b, m.len, NULL);
	if (pos < SS_PREFIX_LEN)
		assert_code(ret, SS_ERR_MALFORMED);
	else
		assert_code(ret, SS_ERR_SIGNATURE);
}

static void tamper_every_byte_init(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg init, out;

	start_init(a, &init);
	/*
	 * mac2 (160..175) is only read by a responder under load (section 4.2 step 3), and
	 * the RESPONSE binds init[0..144) only; a flipped mac2 is covered by the under-load
	 * variant below.
	 */
	flip_each(b, &init, 0, SS_INIT_OFF_MAC2, flipped_init_dropped, 0);
	/* With mac1 recomputed, every byte of init[0..144) must still be caught later. */
	flip_each(b, &init, 0, SS_INIT_OFF_MAC1, remaced_init_dropped, IGN_LOAD);
	respond(b, &init, &out);
}

static void flipped_init_under_load(test_node *b, const msg *bad, size_t pos)
{
	msg out;

	if (pos < SS_PREFIX_LEN) {
		expect_drop(b, &b->flow, bad->b, bad->len, SS_ERR_MALFORMED, NULL);
	} else if (pos < SS_INIT_OFF_MAC2) {
		expect_drop(b, &b->flow, bad->b, bad->len, SS_ERR_MAC1, NULL);
	} else {
		expect_cookie_reply(b, &b->flow, bad, &out);
		assert_null(b->peer->next);
	}
}

/* Under load, mac2 is checked too: every flip gets a drop or a stateless COOKIE REPLY. */
static void tamper_every_byte_init_under_load(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg init, out;

	cookie_retry(a, b, &init);
	flip_each(b, &init, 0, SS_INIT_LEN, flipped_init_under_load, IGN_COOKIE_SECRET);
	respond(b, &init, &out);
}

/* =========================================================================
 * replay_*: handshake replay resistance (section 1.1), invariant 3.
 * ========================================================================= */

static void replay_init(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	struct snap s;
	msg init, resp, ka;
	int ret;

	start_init(a, &init);
	respond(b, &init, &resp);
	snap_take(&s, b);
	ret = drop_any(b, &b->flow, init.b, init.len, NULL);
	assert_code_in(ret, SS_ERR_STALE, SS_ERR_RATE_LIMIT);
	snap_check(&s, b, IGN_LOAD);
	snap_free(&s);

	test_advance(a, b, 2 * SS_HANDSHAKE_MIN_INTERVAL);
	expect_drop_unchanged(b, &b->flow, init.b, init.len, SS_ERR_STALE, b->peer, IGN_LOAD);

	/* After the handshake completed, a replayed INIT still changes nothing. */
	finish(a, &resp, &ka);
	confirm(b, &ka);
	test_advance(a, b, 10 * SS_NS_PER_SEC);
	expect_drop(b, &b->flow, init.b, init.len, SS_ERR_STALE, b->peer);
	assert_null(b->peer->next);
	test_send(a, b, "still the first epoch");
	test_send(b, a, "still the first epoch");
}

/*
 * Section 4.2 step 6: a responder that lost its stored timestamps (restart) may accept a
 * recorded INIT once more, but that yields only an unconfirmed "next" session: nobody
 * without the initiator's ephemeral secret can confirm it, the responder never sends
 * on it, and the initiator's next genuine INIT replaces it.
 */
static void replay_init_after_restart(void **state)
{
	test_node a, b, b2;
	msg init, resp, d;
	size_t len;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	test_advance(&a, &b, SS_NS_PER_SEC);
	start_init(&a, &init); /* recorded by the attacker, never delivered */

	restarted_node(&b2, &b, &a);
	respond(&b2, &init, &resp);
	assert_non_null(b2.peer->next);
	assert_false(ss_peer_has_session(b2.peer));
	assert_code(ss_peer_seal(b2.ctx, b2.peer, (const uint8_t *)"x", 1, d.b, sizeof(d.b), &len,
				 NULL),
		    SS_ERR_NO_SESSION);
	/* A second replay is stale again. */
	test_advance(&b2, NULL, SS_NS_PER_SEC);
	expect_drop(&b2, &b2.flow, init.b, init.len, SS_ERR_STALE, b2.peer);
	/* A's genuine next INIT replaces the replayed "next" and completes. */
	test_advance(&a, &b2, SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
	assert_int_equal(tick(&a, &init), SS_TICK_HANDSHAKE);
	respond(&b2, &init, &resp);
	finish(&a, &resp, &d);
	confirm(&b2, &d);
	test_send(&a, &b2, "after the restart");
	test_send(&b2, &a, "after the restart");
	test_node_free(&b2);
	test_pair_free(&a, &b);
}

/* =========================================================================
 * reflect_*: reflection resistance (section 4.6).
 * ========================================================================= */

static void reflect_init(void **state)
{
	test_node a, b, x;
	msg init;

	(void)state;
	test_pair_init(&a, &b);
	start_init(&a, &init);
	expect_drop_unchanged(&a, &a.flow, init.b, init.len, SS_ERR_MAC1, NULL, 0);
	test_pair_free(&a, &b);

	/* An anonymous INIT reflected to a host that accepts anonymous INITs. */
	test_node_init_anon(&x, "xavier", true);
	assert_int_equal(ss_peer_add(x.ctx, NULL, &x.peer), 0);
	test_flow_v4(&x.flow, 0x0a000009, 5000, 0x0a000002, 6000, 17);
	ss_peer_set_flow(x.peer, &x.flow);
	start_init(&x, &init);
	expect_drop_unchanged(&x, &x.flow, init.b, init.len, SS_ERR_REFLECTION, NULL, IGN_LOAD);
	test_node_free(&x);
}

/* =========================================================================
 * swap_identity_* / misbinding_*: mutual authentication, no misbinding.
 * ========================================================================= */

static void swap_identity_init(void **state)
{
	ss_identity *carol = test_identity("carol");
	ss_peer *bc;
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	struct snap s;
	msg init, bad, resp;

	assert_int_equal(ss_peer_add(b->ctx, ss_identity_public(carol), &bc), 0);
	start_init(a, &init);
	bad = init;
	memcpy(bad.b + SS_INIT_OFF_IDENTITY, ss_identity_public(carol), SS_IDENTITY_LEN);
	remac_init(bad.b, ss_identity_public(b->id));
	snap_take(&s, b);
	expect_drop(b, &b->flow, bad.b, bad.len, SS_ERR_SIGNATURE, bc);
	/* Or to an identity B does not know: still the signature, not UNKNOWN_PEER. */
	bad.b[SS_INIT_OFF_IDENTITY] ^= 0x20;
	remac_init(bad.b, ss_identity_public(b->id));
	expect_drop(b, &b->flow, bad.b, bad.len, SS_ERR_SIGNATURE, NULL);
	snap_check(&s, b, IGN_LOAD);
	snap_free(&s);
	respond(b, &init, &resp);
	ss_identity_free(carol);
}

/* =========================================================================
 * unknown_peer, rate_limit
 * ========================================================================= */

static void unknown_peer(void **state)
{
	test_node a, b;
	struct snap s;
	const ss_peer *w;
	ss_result res;
	msg init, bad, out, resp, ka;
	int ret;

	(void)state;
	test_pair_init_oneway(&a, &b);
	start_init(&a, &init);

	/* A bad signature is reported as such, without an identity. */
	bad = init;
	bad.b[SS_INIT_OFF_SIG + 7] ^= 4;
	remac_init(bad.b, ss_identity_public(b.id));
	snap_take(&s, &b);
	expect_drop(&b, &b.flow, bad.b, bad.len, SS_ERR_SIGNATURE, NULL);
	assert_code(ss_ctx_consume(b.ctx, &b.flow, bad.b, bad.len, out.b, sizeof(out.b), &res),
		    SS_ERR_SIGNATURE);
	assert_memory_equal(res.identity, zero_id, SS_IDENTITY_LEN);

	/* A good one: the verified identity is reported, nothing is allocated. */
	ret = drop_any(&b, &b.flow, init.b, init.len, &w);
	assert_code(ret, SS_ERR_UNKNOWN_PEER);
	assert_null(w);
	assert_code(ss_ctx_consume(b.ctx, &b.flow, init.b, init.len, out.b, sizeof(out.b), &res),
		    SS_ERR_UNKNOWN_PEER);
	assert_memory_equal(res.identity, ss_identity_public(a.id), SS_IDENTITY_LEN);
	assert_null(res.peer);
	assert_int_equal(res.kind, SS_RESULT_NONE);
	snap_check(&s, &b, IGN_LOAD);
	snap_free(&s);

	/* The caller pins it; the same INIT is now accepted. */
	assert_int_equal(ss_peer_add(b.ctx, res.identity, &b.peer), 0);
	respond(&b, &init, &resp);
	finish(&a, &resp, &ka);
	confirm(&b, &ka);
	test_send(&a, &b, "pinned");
	test_pair_free(&a, &b);
}

/*
 * Section 12: an INIT whose identity is a small-order point, with the universal
 * signature, is SS_ERR_SIGNATURE, named or anonymous, and no identity is reported for
 * pinning (OpenSSL alone would verify it and report the identity point).
 */
static void small_order_identity_init(void **state)
{
	static const uint8_t y_order8[SS_IDENTITY_LEN] = {
		0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
		0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
		0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
	};
	uint8_t weak[4][SS_IDENTITY_LEN] = {{0}, {1}, {0}, {0}}, sigbuf[160];
	test_node a, b;
	struct snap s;
	ss_result res;
	msg init, bad, out;

	(void)state;
	memcpy(weak[2], y_order8, SS_IDENTITY_LEN);
	memcpy(weak[3], y_order8, SS_IDENTITY_LEN);
	weak[3][31] |= 0x80;
	test_node_init_anon(&a, "alice", false);
	test_node_init_anon(&b, "bob", true);
	assert_int_equal(ss_peer_add(a.ctx, ss_identity_public(b.id), &a.peer), 0);
	test_pair_flows(&a, &b);
	start_init(&a, &init);
	snap_take(&s, &b);
	for (size_t i = 0; i < 4; i++) {
		for (int anon = 0; anon < 2; anon++) {
			const uint8_t *rstar = anon ? zero_id : ss_identity_public(b.id);
			size_t n;

			bad = init;
			memcpy(bad.b + SS_INIT_OFF_IDENTITY, weak[i], SS_IDENTITY_LEN);
			universal_sig(bad.b + SS_INIT_OFF_SIG);
			remac_init(bad.b, rstar);
			n = ss_hs_init_sig_msg(sigbuf, rstar, bad.b);
			if (i == 1)
				assert_int_equal(ss_ed25519_verify(weak[i], sigbuf, n,
								   bad.b + SS_INIT_OFF_SIG),
						 0);
			expect_drop(&b, &b.flow, bad.b, bad.len, SS_ERR_SIGNATURE, NULL);
			assert_code(ss_ctx_consume(b.ctx, &b.flow, bad.b, bad.len, out.b,
						   sizeof(out.b), &res),
				    SS_ERR_SIGNATURE);
			assert_memory_equal(res.identity, zero_id, SS_IDENTITY_LEN);
		}
	}
	snap_check(&s, &b, IGN_LOAD);
	snap_free(&s);
	/* Nor can a caller configure such a peer to accept it later. */
	for (size_t i = 0; i < 4; i++) {
		ss_peer *p = NULL;

		assert_code(ss_peer_add(b.ctx, weak[i], &p), SS_ERR_BAD_KEY);
		assert_null(p);
	}
	test_pair_free(&a, &b);
}

static void rate_limit(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg init1, init2, init3, resp;

	start_init(a, &init1);
	respond(b, &init1, &resp);
	/* A second fresh, valid INIT shortly after (a retry forced early). */
	test_advance(a, b, SS_HANDSHAKE_MIN_INTERVAL / 5);
	assert_code(ss_handshake_create_init(a->ctx, a->peer, init2.b, sizeof(init2.b), &init2.len),
		    0);
	assert_true(ss_load_be64(init2.b + SS_INIT_OFF_TIMESTAMP) >
		    ss_load_be64(init1.b + SS_INIT_OFF_TIMESTAMP));
	expect_drop_unchanged(b, &b->flow, init2.b, init2.len, SS_ERR_RATE_LIMIT, b->peer,
			      IGN_LOAD);
	/* Just before the interval: still limited; at it: accepted (the drop changed nothing). */
	test_advance(a, b, SS_HANDSHAKE_MIN_INTERVAL - SS_HANDSHAKE_MIN_INTERVAL / 5 - 1);
	expect_drop(b, &b->flow, init2.b, init2.len, SS_ERR_RATE_LIMIT, b->peer);
	test_advance(a, b, 1);
	respond(b, &init2, &resp);
	/* And the interval starts again from this acceptance. */
	assert_code(ss_handshake_create_init(a->ctx, a->peer, init3.b, sizeof(init3.b), &init3.len),
		    0);
	expect_drop(b, &b->flow, init3.b, init3.len, SS_ERR_RATE_LIMIT, b->peer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {pair_test(tamper_every_byte_init),
					   pair_test(tamper_every_byte_init_under_load),
					   pair_test(replay_init),
					   cmocka_unit_test(replay_init_after_restart),
					   cmocka_unit_test(reflect_init),
					   pair_test(swap_identity_init),
					   cmocka_unit_test(unknown_peer),
					   cmocka_unit_test(small_order_identity_init),
					   pair_test(rate_limit)};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
