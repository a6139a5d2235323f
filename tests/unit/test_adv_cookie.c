/* SPDX-License-Identifier: MIT */
/*
 * Adversarial tests, COOKIE REPLY messages and the responder under load (sections 3.5, 4.4
 * and 7.4). The attacker's tools and the checks (expect_drop, snap_take/snap_check, forgeries)
 * are in adversary.h; the conventions are there too.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "adversary.h"

#include "common/crypto.h"
#include "common/endian.h"
#include "internal.h"

static void tamper_every_byte_cookie(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	struct snap s;
	msg init, cookie, bad, out;
	ss_result res;

	cookie_pending(a, b, &init, &cookie);
	snap_take(&s, a);
	for (size_t pos = 0; pos < SS_COOKIE_MSG_LEN; pos++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			copy_flip(&bad, &cookie, pos, masks[m]);
			if (pos < SS_PREFIX_LEN)
				expect_drop(a, &a->flow, bad.b, bad.len, SS_ERR_MALFORMED, NULL);
			else if (pos < SS_COOKIE_OFF_NONCE)
				expect_drop(a, &a->flow, bad.b, bad.len, SS_ERR_UNKNOWN_INDEX,
					    NULL);
			else
				expect_drop(a, &a->flow, bad.b, bad.len, SS_ERR_DECRYPT, a->peer);
			snap_check(&s, a, 0);
		}
	}
	snap_free(&s);
	assert_false(a->peer->has_cookie);
	assert_code(consume(a, &cookie, &out, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_NONE);
	assert_true(a->peer->has_cookie);
}

static void replay_cookie(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg init, cookie, out, resp, ka;
	uint8_t stored[SS_COOKIE_LEN];
	ss_result res;
	int ret;

	cookie_pending(a, b, &init, &cookie);
	assert_code(consume(a, &cookie, &out, &res), 0);
	assert_true(a->peer->has_cookie);
	memcpy(stored, a->peer->cookie, sizeof(stored));

	/*
	 * A duplicate while the INIT is still outstanding: section 4.4 lets it open again
	 * (the same cookie replaces itself); whatever the code, it must not change the
	 * cookie the next INIT will use.
	 */
	test_advance(a, b, SS_NS_PER_SEC);
	ret = consume(a, &cookie, &out, &res);
	assert_true(ret == 0 || ss_drop_index(ret) >= 0);
	assert_int_equal(res.kind, SS_RESULT_NONE);
	assert_memory_equal(a->peer->cookie, stored, sizeof(stored));

	/* The retry replaces the outstanding INIT: the old reply finds nothing now. */
	test_advance(a, b, SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
	assert_int_equal(tick(a, &init), SS_TICK_HANDSHAKE);
	expect_drop_unchanged(a, &a->flow, cookie.b, cookie.len, SS_ERR_UNKNOWN_INDEX, NULL, 0);

	respond(b, &init, &resp);
	finish(a, &resp, &ka);
	confirm(b, &ka);
	assert_code(drop_any(a, &a->flow, cookie.b, cookie.len, NULL), SS_ERR_UNKNOWN_INDEX);
}

static void reflect_cookie(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg init, cookie, out;
	ss_result res;

	cookie_pending(a, b, &init, &cookie);
	expect_drop(b, &b->flow, cookie.b, cookie.len, SS_ERR_UNKNOWN_INDEX, NULL);
	assert_code(consume(a, &cookie, &out, &res), 0);
}

/* =========================================================================
 * cookie_under_load*: invariants 8 and 11.
 * ========================================================================= */

static void cookie_under_load(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	struct snap s;
	ss_peer_stats st;
	ss_flow other;
	msg init, cookie, out, init2, resp, ka;
	ss_result res;

	ss_ctx_set_under_load(b->ctx, true);
	start_init(a, &init);
	assert_memory_equal(init.b + SS_INIT_OFF_MAC2, zero_id, SS_MAC_LEN);
	snap_take(&s, b);
	expect_cookie_reply(b, &b->flow, &init, &cookie);
	/* Nothing allocated for the sender: no session, no index, no timestamp. */
	snap_check(&s, b, IGN_COOKIE_SECRET);
	snap_free(&s);
	assert_null(b->peer->next);
	assert_int_equal(b->ctx->by_index.count, 0);
	ss_peer_get_stats(b->peer, &st);
	assert_int_equal(st.handshakes_responded, 0);

	assert_code(consume(a, &cookie, &out, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_NONE);
	assert_ptr_equal(res.peer, a->peer);
	/* Not resent at once; the retry carries mac2. */
	assert_int_equal(tick(a, &init2), SS_TICK_NONE);
	test_advance(a, b, SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
	assert_int_equal(tick(a, &init2), SS_TICK_HANDSHAKE);
	assert_memory_not_equal(init2.b + SS_INIT_OFF_MAC2, zero_id, SS_MAC_LEN);

	/* mac2 is bound to the source: from another flow it earns another cookie. */
	other = b->flow;
	other.remote_port = 6001;
	snap_take(&s, b);
	expect_cookie_reply(b, &other, &init2, &out);
	other = b->flow;
	other.remote_addr[15] ^= 0x40;
	expect_cookie_reply(b, &other, &init2, &out);
	other = b->flow;
	other.proto = 99;
	expect_cookie_reply(b, &other, &init2, &out);
	snap_check(&s, b, 0);
	snap_free(&s);

	respond(b, &init2, &resp);
	finish(a, &resp, &ka);
	confirm(b, &ka);
	test_send(a, b, "through the cookie");
	test_send(b, a, "through the cookie");
}

static void cookie_under_load_forged_reply(void **state)
{
	ss_identity *carol = test_identity("carol");
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	struct snap s;
	msg init, other_init, cookie, bad, out;
	ss_result res;

	cookie_pending(a, b, &init, &cookie);
	snap_take(&s, a);
	/* Wrong key: boxed for another responder identity. */
	forge_cookie(&bad, init.b, ss_identity_public(carol), init.b + SS_INIT_OFF_MAC1);
	expect_drop(a, &a->flow, bad.b, bad.len, SS_ERR_DECRYPT, a->peer);
	/* Wrong key: the anonymous one, for a peer with a configured identity. */
	forge_cookie(&bad, init.b, zero_id, init.b + SS_INIT_OFF_MAC1);
	expect_drop(a, &a->flow, bad.b, bad.len, SS_ERR_DECRYPT, a->peer);
	/* Right key, but bound to another INIT's mac1 (an off-path guess). */
	other_init = init;
	other_init.b[SS_INIT_OFF_MAC1] ^= 1;
	forge_cookie(&bad, init.b, ss_identity_public(b->id), other_init.b + SS_INIT_OFF_MAC1);
	expect_drop(a, &a->flow, bad.b, bad.len, SS_ERR_DECRYPT, a->peer);
	snap_check(&s, a, 0);
	snap_free(&s);
	assert_false(a->peer->has_cookie);
	/* Control: the construction itself is right. */
	forge_cookie(&bad, init.b, ss_identity_public(b->id), init.b + SS_INIT_OFF_MAC1);
	assert_code(consume(a, &bad, &out, &res), 0);
	assert_true(a->peer->has_cookie);
	ss_identity_free(carol);
}

static void cookie_under_load_automatic(void **state)
{
	const uint64_t token = SS_NS_PER_SEC / SS_LOAD_INITS_PER_SEC;
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg init, resp, cookie;
	ss_result res;

	start_init(a, &init);
	/* The bucket starts full: SS_LOAD_BURST INITs pass mac1 without cookies ... */
	respond(b, &init, &resp);
	for (int i = 1; i < SS_LOAD_BURST; i++)
		assert_code_in(drop_any(b, &b->flow, init.b, init.len, NULL), SS_ERR_STALE,
			       SS_ERR_RATE_LIMIT);
	/* ... the next one in no time is answered with a cookie, and allocates nothing. */
	expect_cookie_reply(b, &b->flow, &init, &cookie);
	expect_cookie_reply(b, &b->flow, &init, &cookie);
	/* Junk that fails mac1 spends no token and gets no cookie. */
	init.b[SS_INIT_OFF_MAC1] ^= 1;
	expect_drop(b, &b->flow, init.b, init.len, SS_ERR_MAC1, NULL);
	init.b[SS_INIT_OFF_MAC1] ^= 1;
	/* One token's worth of time buys exactly one more INIT. */
	test_advance(b, NULL, token);
	expect_drop(b, &b->flow, init.b, init.len, SS_ERR_STALE, b->peer);
	expect_cookie_reply(b, &b->flow, &init, &cookie);
	/* A second refills the bucket. */
	test_advance(b, NULL, SS_NS_PER_SEC);
	for (int i = 0; i < SS_LOAD_BURST; i++)
		expect_drop(b, &b->flow, init.b, init.len, SS_ERR_STALE, b->peer);
	expect_cookie_reply(b, &b->flow, &init, &cookie);
	/* Forcing off ignores the bucket. */
	ss_ctx_set_under_load(b->ctx, false);
	expect_drop(b, &b->flow, init.b, init.len, SS_ERR_STALE, b->peer);
	(void)res;
}

/*
 * Under load: A's INIT earns a cookie, A retries with mac2, B answers, A completes (and
 * learns B's identity when learned) and B is confirmed.
 */
static void handshake_through_cookie(test_node *a, test_node *b, bool learned)
{
	msg init, resp, ka;
	ss_result res;

	cookie_retry(a, b, &init);
	respond(b, &init, &resp);
	assert_code(consume(a, &resp, &ka, &res), 0);
	assert_true(res.flags & SS_RESULT_F_HANDSHAKE);
	assert_int_equal(!!(res.flags & SS_RESULT_F_LEARNED), learned);
	confirm(b, &ka);
}

/* A TOFU initiator cannot know the responder's cookie key: the anonymous one is used. */
static void cookie_under_load_anonymous(void **state)
{
	test_pair *pair = *state;

	handshake_through_cookie(&pair->a, &pair->b, true);
}

/*
 * Finding 1 of issue 13: a peer added with ss_peer_add_tofu sends anonymous INITs even
 * once it knows the responder's identity, so the responder seals the cookie under the
 * anonymous key; the initiator must open it with the R* it sent, not with the identity.
 */
static void tofu_node_pair(test_node *a, test_node *b, const uint8_t *pin)
{
	test_node_init_anon(a, "alice", false);
	test_node_init_anon(b, "bob", true);
	assert_int_equal(ss_peer_add_tofu(a->ctx, pin, &a->peer), 0);
	assert_int_equal(ss_peer_add(b->ctx, ss_identity_public(a->id), &b->peer), 0);
	test_pair_flows(a, b);
}

/* Under load B answers with a cookie; A opens it, retries with mac2 and completes. */
static void through_cookie(test_node *a, test_node *b)
{
	handshake_through_cookie(a, b, false);
	test_send(a, b, "through the cookie");
	test_send(b, a, "through the cookie");
}

static void cookie_under_load_tofu_pinned(void **state)
{
	ss_identity *bob = test_identity("bob");
	test_node a, b;

	(void)state;
	tofu_node_pair(&a, &b, ss_identity_public(bob));
	through_cookie(&a, &b);
	test_pair_free(&a, &b);
	ss_identity_free(bob);
}

static void cookie_under_load_tofu_learned(void **state)
{
	test_node a, b;
	msg init, resp, ka;
	ss_result res;

	(void)state;
	tofu_node_pair(&a, &b, NULL);
	start_init(&a, &init);
	respond(&b, &init, &resp);
	assert_code(consume(&a, &resp, &ka, &res), 0);
	assert_true(res.flags & SS_RESULT_F_LEARNED);
	confirm(&b, &ka);
	test_advance(&a, &b, SS_REKEY_TIMEOUT);
	through_cookie(&a, &b);
	test_pair_free(&a, &b);
}

/* =========================================================================
 * Issue 13, findings 2 and 3: what a source is charged for under load (section 7.4).
 * ========================================================================= */

/* mac2 as the cookie of flow f would make it (section 3.5), with B's live cookie secret. */
static void put_mac2(const test_node *b, const ss_flow *f, msg *init)
{
	uint8_t src[19], cookie[SS_COOKIE_LEN];

	assert_true(b->ctx->has_cookie_secret);
	memcpy(src, f->remote_addr, 16);
	ss_store_be16(src + 16, f->remote_port);
	src[18] = f->proto;
	assert_int_equal(ss_mac16(cookie, b->ctx->cookie_secret, sizeof(b->ctx->cookie_secret), src,
				  sizeof(src)),
			 0);
	assert_int_equal(ss_mac16(init->b + SS_INIT_OFF_MAC2, cookie, sizeof(cookie), init->b,
				  SS_INIT_OFF_MAC2),
			 0);
}

/*
 * The finding's attacker: A's INIT with a newer timestamp, mac1 right (its key is public),
 * the signature wrong; mac2 for f when f is given. It reaches B's signature check.
 */
static void forge_init(const test_node *b, const msg *init, uint64_t ts, const ss_flow *f, msg *out)
{
	*out = *init;
	ss_store_be64(out->b + SS_INIT_OFF_TIMESTAMP, ts);
	remac_init(out->b, ss_identity_public(b->id));
	memset(out->b + SS_INIT_OFF_MAC2, 0, SS_MAC_LEN);
	if (f)
		put_mac2(b, f, out);
}

/* B's flow from another source: IPv4 10.9.x.y, or fd00:9:0:hi::lo (/64 hi). */
static void source_v4(const test_node *b, uint32_t n, ss_flow *f)
{
	*f = b->flow;
	ss_store_be32(f->remote_addr + 12, 0x0a090000u | (n & 0xffff));
}

static void source_v6(const test_node *b, uint16_t hi, uint32_t lo, ss_flow *f)
{
	static const uint8_t prefix[6] = {0xfd, 0x00, 0x00, 0x09, 0x00, 0x00};

	*f = b->flow;
	memset(f->remote_addr, 0, 16);
	memcpy(f->remote_addr, prefix, sizeof(prefix));
	ss_store_be16(f->remote_addr + 6, hi);
	ss_store_be32(f->remote_addr + 12, lo);
}

/* Forged INITs from f: how many reached the signature check; the others were limited. */
static int forged_from(test_node *b, const msg *init, uint64_t *ts, const ss_flow *f, int n)
{
	const ss_peer *w;
	int verified = 0;
	msg m;

	for (int i = 0; i < n; i++) {
		int ret;

		forge_init(b, init, ++*ts, f, &m);
		ret = drop_any(b, f, m.b, m.len, &w);
		if (ret == SS_ERR_SIGNATURE) {
			assert_ptr_equal(w, b->peer);
			verified++;
		} else {
			assert_code(ret, SS_ERR_RATE_LIMIT);
			assert_null(w);
		}
	}
	return verified;
}

/* B under load with a live cookie secret (a cookie reply made it); A's INIT in init. */
static void loaded(test_node *a, test_node *b, msg *init)
{
	msg cookie;

	cookie_pending(a, b, init, &cookie);
}

/*
 * Finding 2: junk from A's address and port (a spoofer's: one byte, a wrong mac1, or an
 * INIT without mac2, which he can send but not complete) costs a counted drop and nothing
 * of A's: at once after a flood of it, A's own INIT goes through, under load and not.
 */
static void spoofed_junk_blocks_nobody(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	const uint8_t one[1] = {SS_MSG_INIT};
	uint64_t ts = b->clock.now.wall_ns + 1000 * SS_NS_PER_SEC;
	struct hs_msgs m;
	msg init, bad, out, resp, ka;

	ss_ctx_set_under_load(b->ctx, false);
	forge_init(b, &(msg){.len = SS_INIT_LEN, .b = {SS_MSG_INIT, SS_VERSION}}, 1, NULL, &bad);
	bad.b[SS_INIT_OFF_MAC1] ^= 1;
	for (int i = 0; i < 1000; i++) {
		expect_drop(b, &b->flow, one, sizeof(one), SS_ERR_MALFORMED, NULL);
		expect_drop(b, &b->flow, bad.b, bad.len, SS_ERR_MAC1, NULL);
	}
	handshake_capture(a, b, &m);

	/* Under load: the same, and INITs without a valid mac2 earn cookies, nothing else. */
	ss_ctx_set_under_load(b->ctx, true);
	for (int i = 0; i < 1000; i++) {
		expect_drop(b, &b->flow, one, sizeof(one), SS_ERR_MALFORMED, NULL);
		forge_init(b, &m.init, ++ts, NULL, &bad);
		expect_cookie_reply(b, &b->flow, &bad, &out);
		bad.b[SS_INIT_OFF_MAC2] ^= 1; /* a guessed mac2 */
		expect_cookie_reply(b, &b->flow, &bad, &out);
		bad.b[SS_INIT_OFF_MAC1] ^= 1;
		expect_drop(b, &b->flow, bad.b, bad.len, SS_ERR_MAC1, NULL);
	}
	test_advance(a, b, SS_REKEY_TIMEOUT);
	cookie_retry(a, b, &init);
	respond(b, &init, &resp);
	finish(a, &resp, &ka);
	confirm(b, &ka);
}

/* The per-source bucket: only under load, only for a valid mac2, refilled by time. */
static void source_limit_under_load_only(void **state)
{
	const uint64_t token = SS_NS_PER_SEC / SS_LOAD_SOURCE_INITS_PER_SEC;
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	uint64_t ts = b->clock.now.wall_ns + 1000 * SS_NS_PER_SEC;
	ss_flow y;
	msg init, bad, out;

	loaded(a, b, &init);
	/* Not under load no source is charged: all of them reach the signature. */
	ss_ctx_set_under_load(b->ctx, false);
	assert_int_equal(forged_from(b, &init, &ts, &b->flow, 50), 50);
	ss_ctx_set_under_load(b->ctx, true);
	/* INITs without a valid mac2 from source y earn cookies and leave its bucket full ... */
	source_v4(b, 7, &y);
	for (int i = 0; i < 100; i++) {
		forge_init(b, &init, ++ts, NULL, &bad);
		expect_cookie_reply(b, &y, &bad, &out);
	}
	/* ... so its burst is whole; one more in no time is refused, and refused again. */
	assert_int_equal(forged_from(b, &init, &ts, &y, SS_LOAD_SOURCE_BURST + 3),
			 SS_LOAD_SOURCE_BURST);
	/* Another source is not affected; a token's worth of time buys y one more. */
	assert_int_equal(forged_from(b, &init, &ts, &b->flow, SS_LOAD_SOURCE_BURST),
			 SS_LOAD_SOURCE_BURST);
	test_advance(a, b, token);
	assert_int_equal(forged_from(b, &init, &ts, &y, 3), 1);
	/* The port is no part of a source. */
	y.remote_port++;
	assert_int_equal(forged_from(b, &init, &ts, &y, 1), 0);
}

/* Finding 3: a /64 is one source, however many of its addresses send. */
static void one_ipv6_64_one_source(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	uint64_t ts = b->clock.now.wall_ns + 1000 * SS_NS_PER_SEC;
	int verified = 0;
	ss_flow f;
	msg init;

	loaded(a, b, &init);
	for (uint32_t i = 1; i <= 1000; i++) {
		source_v6(b, 1, i * 7919, &f);
		verified += forged_from(b, &init, &ts, &f, 1);
	}
	assert_int_equal(verified, SS_LOAD_SOURCE_BURST);
	/* The /64 next to it has a bucket of its own. */
	source_v6(b, 2, 1, &f);
	assert_int_equal(forged_from(b, &init, &ts, &f, SS_LOAD_SOURCE_BURST),
			 SS_LOAD_SOURCE_BURST);
}

/*
 * Finding 3: sources that each stay within their own bucket still meet one global bucket,
 * so the signature checks that INITs with a valid mac2 buy are bounded per second.
 */
static void proven_inits_capped(void **state)
{
	const uint64_t ms = SS_NS_PER_SEC / 1000;
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	uint64_t ts = b->clock.now.wall_ns + 1000 * SS_NS_PER_SEC;
	uint32_t src = 0;
	int verified = 0;
	ss_flow f;
	msg init;

	loaded(a, b, &init);
	/* In no time: the burst, then nothing, however many sources. */
	for (int i = 0; i < 2 * SS_LOAD_PROVEN_BURST; i++) {
		source_v4(b, src++, &f);
		verified += forged_from(b, &init, &ts, &f, 1);
	}
	assert_int_equal(verified, SS_LOAD_PROVEN_BURST);
	/* Over one second, 8 fresh sources a millisecond: the rate, give or take one. */
	verified = 0;
	for (int t = 0; t < 1000; t++) {
		test_advance(a, b, ms);
		for (int i = 0; i < 8; i++) {
			source_v4(b, src++, &f);
			verified += forged_from(b, &init, &ts, &f, 1);
		}
	}
	print_message("%d of %u forged INITs reached the signature check in 1 s\n", verified,
		      8000u);
	assert_in_range(verified, SS_LOAD_PROVEN_INITS_PER_SEC - 1,
			SS_LOAD_PROVEN_INITS_PER_SEC + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {pair_test(tamper_every_byte_cookie),
					   pair_test(replay_cookie),
					   pair_test(reflect_cookie),
					   pair_test(cookie_under_load),
					   pair_test(cookie_under_load_forged_reply),
					   pair_test(cookie_under_load_automatic),
					   tofu_test(cookie_under_load_anonymous),
					   cmocka_unit_test(cookie_under_load_tofu_pinned),
					   cmocka_unit_test(cookie_under_load_tofu_learned),
					   pair_test(spoofed_junk_blocks_nobody),
					   pair_test(source_limit_under_load_only),
					   pair_test(one_ipv6_64_one_source),
					   pair_test(proven_inits_capped)};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
