/* SPDX-License-Identifier: MIT */
/*
 * Adversarial tests: one cmocka group per security goal or invariant of
 * docs/PROTOCOL.md (sections 1.1, 4 and 9). Every test drives two or three
 * deterministic engines (tests/unit/helpers.c) and plays the attacker by hand:
 * flipping, replaying, reflecting, splicing and forging messages.
 *
 * Conventions:
 *  - expect_drop() / drop_any() check the return code AND that exactly one drop
 *    counter moved, by one, in the right place (peer or context, section 10).
 *  - snap_take() / snap_check() compare the whole engine state (context, index and
 *    identity tables, every peer) before and after a message that must be dropped:
 *    "a dropped message changes no protocol state" (section 4).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "drive.h"

#include "common/crypto.h"
#include "common/endian.h"
#include "internal.h"

#define SNAP_MAX 8

static uint8_t g_out[SS_MAX_PACKET];
static const uint8_t zero_id[SS_IDENTITY_LEN];

/* ---- drop counters ---- */

struct drops {
	uint64_t ctx[SS_DROP_COUNT];
	size_t n;
	const ss_peer *ptr[SNAP_MAX];
	uint64_t peer[SNAP_MAX][SS_DROP_COUNT];
};

static void drops_take(struct drops *d, const ss_ctx *ctx)
{
	ss_ctx_stats cs;
	ss_peer_stats ps;

	ss_ctx_get_stats(ctx, &cs);
	memcpy(d->ctx, cs.drops, sizeof(d->ctx));
	d->n = 0;
	for (const ss_peer *p = ctx->peers; p; p = p->list_next) {
		assert_true(d->n < SNAP_MAX);
		ss_peer_get_stats(p, &ps);
		d->ptr[d->n] = p;
		memcpy(d->peer[d->n], ps.drops, sizeof(ps.drops));
		d->n++;
	}
}

/* Exactly one drop counter moved since *before, by one, at code's index. */
static void drops_assert_one(const struct drops *before, const ss_ctx *ctx, int code,
			     const ss_peer **where)
{
	struct drops now;
	int idx = ss_drop_index(code), moved = 0;

	assert_true(idx >= 0);
	drops_take(&now, ctx);
	assert_int_equal(now.n, before->n);
	for (int i = 0; i < SS_DROP_COUNT; i++) {
		if (now.ctx[i] == before->ctx[i])
			continue;
		if (i != idx || now.ctx[i] != before->ctx[i] + 1)
			fail_msg("context drop counter %s moved by %lld (dropped as %s)",
				 ss_err_name(SS_DROP_FIRST - i),
				 (long long)(now.ctx[i] - before->ctx[i]), ss_err_name(code));
		moved++;
		*where = NULL;
	}
	for (size_t p = 0; p < now.n; p++) {
		assert_ptr_equal(now.ptr[p], before->ptr[p]);
		for (int i = 0; i < SS_DROP_COUNT; i++) {
			if (now.peer[p][i] == before->peer[p][i])
				continue;
			if (i != idx || now.peer[p][i] != before->peer[p][i] + 1)
				fail_msg("peer drop counter %s moved by %lld (dropped as %s)",
					 ss_err_name(SS_DROP_FIRST - i),
					 (long long)(now.peer[p][i] - before->peer[p][i]),
					 ss_err_name(code));
			moved++;
			*where = now.ptr[p];
		}
	}
	if (moved != 1)
		fail_msg("%d drop counters moved for %s, want exactly 1", moved, ss_err_name(code));
}

/* ---- whole-state snapshots ---- */

struct snap {
	ss_ctx ctx;
	ss_table_slot *by_index, *by_identity;
	size_t n;
	const ss_peer *ptr[SNAP_MAX];
	ss_peer peer[SNAP_MAX];
};

enum { IGN_LOAD = 1, IGN_COOKIE_SECRET = 2 };

static ss_table_slot *dup_slots(const ss_table *t)
{
	size_t len = ((size_t)t->mask + 1) * sizeof(ss_table_slot);
	ss_table_slot *s = malloc(len);

	assert_non_null(s);
	memcpy(s, t->slots, len);
	return s;
}

static void snap_take(struct snap *s, const test_node *n)
{
	const ss_ctx *ctx = n->ctx;

	memcpy(&s->ctx, ctx, sizeof(*ctx));
	s->by_index = dup_slots(&ctx->by_index);
	s->by_identity = dup_slots(&ctx->by_identity);
	s->n = 0;
	for (const ss_peer *p = ctx->peers; p; p = p->list_next) {
		assert_true(s->n < SNAP_MAX);
		s->ptr[s->n] = p;
		memcpy(&s->peer[s->n], p, sizeof(*p));
		s->n++;
	}
}

static void snap_free(struct snap *s)
{
	free(s->by_index);
	free(s->by_identity);
}

/* Nothing but counters (and, if asked, load and cookie-secret bookkeeping) changed. */
static void snap_check(const struct snap *s, const test_node *n, unsigned ign)
{
	const ss_ctx *ctx = n->ctx;
	ss_ctx c0, c1;
	size_t i = 0;

	memcpy(&c0, &s->ctx, sizeof(c0));
	memcpy(&c1, ctx, sizeof(c1));
	memset(&c0.stats, 0, sizeof(c0.stats));
	memset(&c1.stats, 0, sizeof(c1.stats));
	if (ign & IGN_LOAD) {
		c0.load_tokens_ns = c1.load_tokens_ns = 0;
		c0.load_last_ns = c1.load_last_ns = 0;
	}
	if (ign & IGN_COOKIE_SECRET) {
		memset(c0.cookie_secret, 0, sizeof(c0.cookie_secret));
		memset(c1.cookie_secret, 0, sizeof(c1.cookie_secret));
		c0.cookie_secret_ns = c1.cookie_secret_ns = 0;
		c0.has_cookie_secret = c1.has_cookie_secret = false;
	}
	assert_memory_equal(&c0, &c1, sizeof(c0));
	assert_memory_equal(s->by_index, ctx->by_index.slots,
			    ((size_t)ctx->by_index.mask + 1) * sizeof(ss_table_slot));
	assert_memory_equal(s->by_identity, ctx->by_identity.slots,
			    ((size_t)ctx->by_identity.mask + 1) * sizeof(ss_table_slot));
	for (const ss_peer *p = ctx->peers; p; p = p->list_next, i++) {
		ss_peer p0, p1;

		assert_true(i < s->n);
		assert_ptr_equal(p, s->ptr[i]);
		memcpy(&p0, &s->peer[i], sizeof(p0));
		memcpy(&p1, p, sizeof(p1));
		memset(p0.stats.drops, 0, sizeof(p0.stats.drops));
		memset(p1.stats.drops, 0, sizeof(p1.stats.drops));
		assert_memory_equal(&p0, &p1, sizeof(p0));
	}
	assert_int_equal(i, s->n);
}

/* ---- consuming ---- */

/* Consume a message that must be dropped: no output, one counter. Returns the code. */
static int drop_any(test_node *n, const ss_flow *f, const uint8_t *p, size_t len,
		    const ss_peer **where)
{
	const ss_peer *w = NULL;
	struct drops d;
	ss_result res;
	int ret;

	drops_take(&d, n->ctx);
	ret = ss_ctx_consume(n->ctx, f, p, len, g_out, sizeof(g_out), &res);
	if (ret == 0)
		fail_msg("message accepted (kind %d, len %zu), want a drop", (int)res.kind,
			 res.len);
	if (ss_drop_index(ret) < 0)
		fail_msg("got %s (%d), which is not a drop code", ss_err_name(ret), ret);
	assert_int_equal(res.kind, SS_RESULT_NONE);
	assert_int_equal(res.len, 0);
	if (ret != SS_ERR_UNKNOWN_PEER)
		assert_memory_equal(res.identity, zero_id, SS_IDENTITY_LEN);
	drops_assert_one(&d, n->ctx, ret, &w);
	if (where)
		*where = w;
	return ret;
}

static void expect_drop(test_node *n, const ss_flow *f, const uint8_t *p, size_t len, int code,
			const ss_peer *attributed)
{
	const ss_peer *w;

	assert_code(drop_any(n, f, p, len, &w), code);
	assert_ptr_equal(w, attributed);
}

/* Under load: the INIT is answered with a COOKIE REPLY, counted as SS_ERR_COOKIE. */
static void expect_cookie_reply(test_node *n, const ss_flow *f, const msg *init, msg *out)
{
	ss_ctx_stats before, after;
	const ss_peer *w = NULL;
	struct drops d;
	ss_result res;

	drops_take(&d, n->ctx);
	ss_ctx_get_stats(n->ctx, &before);
	assert_code(consume_on(n, f, init, out, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_REPLY);
	assert_int_equal(res.len, SS_COOKIE_MSG_LEN);
	assert_int_equal(out->b[0], SS_MSG_COOKIE);
	assert_memory_equal(out->b + SS_COOKIE_OFF_RECEIVER, init->b + SS_INIT_OFF_SENDER, 4);
	drops_assert_one(&d, n->ctx, SS_ERR_COOKIE, &w);
	assert_null(w);
	ss_ctx_get_stats(n->ctx, &after);
	assert_int_equal(after.cookies_sent, before.cookies_sent + 1);
}

/* A CONTROL packet with any 24-byte plaintext, authenticated on n's current session. */
static void seal_control(test_node *n, const uint8_t pt[SS_CTL_LEN], msg *m)
{
	assert_code(ss_session_seal(n->ctx, n->peer, n->peer->current, SS_MSG_CONTROL, pt,
				    SS_CTL_LEN, m->b, sizeof(m->b), &m->len),
		    0);
}

static void forge_echo(test_node *n, uint64_t rx_next, uint64_t rx_packets, msg *m)
{
	uint8_t pt[SS_CTL_LEN] = {SS_CTL_ECHO};

	ss_store_be64(pt + SS_CTL_OFF_RX_NEXT, rx_next);
	ss_store_be64(pt + SS_CTL_OFF_RX_PACKETS, rx_packets);
	seal_control(n, pt, m);
}

/* ---- nodes and forgeries ---- */

/* A (TOFU peer towards B, identity unknown) and B (accepts anonymous INITs, knows A). */
static void tofu_pair_init(test_node *a, test_node *b, bool b_accepts_anonymous)
{
	test_node_init_anon(a, "alice", false);
	test_node_init_anon(b, "bob", b_accepts_anonymous);
	assert_int_equal(ss_peer_add(a->ctx, NULL, &a->peer), 0);
	assert_int_equal(ss_peer_add(b->ctx, ss_identity_public(a->id), &b->peer), 0);
	test_flow_v4(&a->flow, 0x0a000001, 5000, 0x0a000002, 6000, 17);
	test_flow_reverse(&b->flow, &a->flow);
	ss_peer_set_flow(a->peer, &a->flow);
	ss_peer_set_flow(b->peer, &b->flow);
}

/* The identity point (y = 1), of order 1: anyone can sign as it (section 12). */
static const uint8_t identity_point[SS_IDENTITY_LEN] = {1};

/*
 * R = the identity, S = 0: under identity_point, [S]B = R + [k]A holds for every
 * message; under the other small-order keys for a fraction of messages.
 */
static void universal_sig(uint8_t sig[SS_SIG_LEN])
{
	memset(sig, 0, SS_SIG_LEN);
	sig[0] = 1;
}

/* Recompute mac1 the way anyone can: its key derives from the public R* or I. */
static void remac_init(uint8_t *init, const uint8_t *responder)
{
	uint8_t key[SS_HASH_LEN];

	assert_int_equal(ss_mac1_key(key, responder), 0);
	assert_int_equal(
		ss_mac16(init + SS_INIT_OFF_MAC1, key, sizeof(key), init, SS_INIT_OFF_MAC1), 0);
}

static void remac_resp(uint8_t *resp, const uint8_t *initiator)
{
	uint8_t key[SS_HASH_LEN];

	assert_int_equal(ss_mac1_key(key, initiator), 0);
	assert_int_equal(
		ss_mac16(resp + SS_RESP_OFF_MAC1, key, sizeof(key), resp, SS_RESP_OFF_MAC1), 0);
}

/*
 * A RESPONSE to init built from section 3.3/3.4 by hand: identity field ident, signed
 * by signer (NULL: the universal signature R = identity, S = 0), fresh ephemeral from
 * label, mac1 for initiator. With ident = signer = the real responder this is a genuine
 * RESPONSE (the tests check that as a control).
 */
static void forge_response(msg *m, const uint8_t *init, const uint8_t *ident,
			   const ss_identity *signer, const uint8_t *initiator, const char *label)
{
	static const char lsig[] = SS_LABEL_SIG_RESP, lt[] = SS_LABEL_TRANSCRIPT,
			  lc[] = SS_LABEL_KEY_CONFIRM;
	static const uint8_t zero_nonce[SS_NONCE_LEN];
	uint8_t sigmsg[sizeof(lsig) - 1 + SS_HASH_LEN + SS_RESP_OFF_SIG];
	uint8_t eph[SS_DH_LEN], dh[SS_DH_LEN], th[SS_HASH_LEN], prk[SS_HASH_LEN], kc[SS_KEY_LEN];
	uint8_t *resp = m->b;
	size_t n = sizeof(lsig) - 1;

	assert_int_equal(ss_sha256(eph, label, strlen(label), NULL, 0, NULL, 0), 0);
	resp[0] = SS_MSG_RESPONSE;
	resp[1] = SS_VERSION;
	resp[2] = resp[3] = 0;
	ss_store_be32(resp + SS_RESP_OFF_SENDER, 0x5eed0001);
	memcpy(resp + SS_RESP_OFF_RECEIVER, init + SS_INIT_OFF_SENDER, 4);
	memcpy(resp + SS_RESP_OFF_IDENTITY, ident, SS_IDENTITY_LEN);
	assert_int_equal(ss_x25519_public(resp + SS_RESP_OFF_EPHEMERAL, eph), 0);
	memcpy(sigmsg, lsig, n);
	assert_int_equal(ss_sha256(sigmsg + n, init, SS_INIT_OFF_MAC1, NULL, 0, NULL, 0), 0);
	memcpy(sigmsg + n + SS_HASH_LEN, resp, SS_RESP_OFF_SIG);
	if (signer)
		assert_int_equal(
			ss_identity_sign(signer, sigmsg, sizeof(sigmsg), resp + SS_RESP_OFF_SIG),
			0);
	else
		universal_sig(resp + SS_RESP_OFF_SIG);
	assert_int_equal(ss_x25519(dh, eph, init + SS_INIT_OFF_EPHEMERAL), 0);
	assert_int_equal(ss_sha256(th, lt, sizeof(lt) - 1, init, SS_INIT_OFF_MAC1, resp,
				   SS_RESP_OFF_CONFIRM),
			 0);
	assert_int_equal(ss_hkdf_extract(prk, th, sizeof(th), dh, sizeof(dh)), 0);
	assert_int_equal(ss_hkdf_expand(kc, sizeof(kc), prk, (const uint8_t *)lc, sizeof(lc) - 1),
			 0);
	assert_int_equal(ss_aead_seal_once(kc, zero_nonce, resp, SS_RESP_OFF_CONFIRM, NULL, 0,
					   resp + SS_RESP_OFF_CONFIRM),
			 0);
	remac_resp(resp, initiator);
	m->len = SS_RESP_LEN;
}

/* A COOKIE REPLY for init, boxed under H(LABEL_COOKIE_KEY || key_id) with aad = aad_mac1. */
static void forge_cookie(msg *m, const uint8_t *init, const uint8_t *key_id,
			 const uint8_t *aad_mac1)
{
	static const uint8_t cookie[SS_COOKIE_LEN] = {0xc0, 0x0c, 0x1e};
	uint8_t key[SS_HASH_LEN];

	m->b[0] = SS_MSG_COOKIE;
	m->b[1] = SS_VERSION;
	m->b[2] = m->b[3] = 0;
	memcpy(m->b + SS_COOKIE_OFF_RECEIVER, init + SS_INIT_OFF_SENDER, 4);
	memset(m->b + SS_COOKIE_OFF_NONCE, 0x42, SS_NONCE_LEN);
	assert_int_equal(ss_cookie_key(key, key_id), 0);
	assert_int_equal(ss_aead_seal_once(key, m->b + SS_COOKIE_OFF_NONCE, aad_mac1, SS_MAC_LEN,
					   cookie, sizeof(cookie), m->b + SS_COOKIE_OFF_BOX),
			 0);
	m->len = SS_COOKIE_MSG_LEN;
}

static void copy_flip(msg *dst, const msg *src, size_t pos, uint8_t mask)
{
	dst->len = src->len;
	memcpy(dst->b, src->b, src->len);
	dst->b[pos] ^= mask;
}

static const uint8_t masks[] = {0x01, 0x80};

static bool code_in(int code, const int *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (code == set[i])
			return true;
	return false;
}

#define assert_code_in(got, ...)                                                                   \
	do {                                                                                       \
		const int set_[] = {__VA_ARGS__};                                                  \
		int g_ = (got);                                                                    \
		if (!code_in(g_, set_, sizeof(set_) / sizeof(set_[0])))                            \
			fail_msg("%s:%d: unexpected %s (%d)", __FILE__, __LINE__, ss_err_name(g_), \
				 g_);                                                              \
	} while (0)

/* =========================================================================
 * tamper_every_byte_*: invariants 1, 2, 12. Every byte of every message, one bit
 * flipped (0x01 and 0x80): dropped, nothing answered, nothing changed, and the
 * untampered message is still accepted afterwards.
 * ========================================================================= */

static void tamper_every_byte_init(void **state)
{
	const uint64_t token = SS_NS_PER_SEC / SS_LOAD_INITS_PER_SEC;
	test_node a, b;
	struct snap s;
	msg init, bad, out;

	(void)state;
	test_pair_init(&a, &b);
	start_init(&a, &init);
	snap_take(&s, &b);

	/*
	 * mac2 (160..175) is only read by a responder under load (section 4.2 step 3), and
	 * the RESPONSE binds init[0..144) only; a flipped mac2 is covered by the under-load
	 * variant below.
	 */
	for (size_t pos = 0; pos < SS_INIT_OFF_MAC2; pos++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			copy_flip(&bad, &init, pos, masks[m]);
			assert_code(drop_any(&b, &b.flow, bad.b, bad.len, NULL),
				    pos < SS_PREFIX_LEN ? SS_ERR_MALFORMED : SS_ERR_MAC1);
			snap_check(&s, &b, 0);
		}
	}

	/*
	 * The mac1 key is public: an attacker recomputes mac1 after the flip. Every byte of
	 * init[0..144) must still be caught by a later check. These INITs spend load tokens
	 * (section 4, bookkeeping), so let the bucket refill by one token per attempt.
	 */
	for (size_t pos = 0; pos < SS_INIT_OFF_MAC1; pos++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			int ret;

			copy_flip(&bad, &init, pos, masks[m]);
			remac_init(bad.b, ss_identity_public(b.id));
			test_advance(&b, NULL, token);
			ret = drop_any(&b, &b.flow, bad.b, bad.len, NULL);
			if (pos < SS_PREFIX_LEN)
				assert_code(ret, SS_ERR_MALFORMED);
			else
				assert_code(ret, SS_ERR_SIGNATURE);
			snap_check(&s, &b, IGN_LOAD);
		}
	}
	snap_free(&s);

	respond(&b, &init, &out);
	test_pair_free(&a, &b);
}

/* Under load, mac2 is checked too: every flip gets a drop or a stateless COOKIE REPLY. */
static void tamper_every_byte_init_under_load(void **state)
{
	test_node a, b;
	struct snap s;
	msg init, cookie, bad, out;
	ss_result res;

	(void)state;
	test_pair_init(&a, &b);
	ss_ctx_set_under_load(b.ctx, true);
	start_init(&a, &init);
	expect_cookie_reply(&b, &b.flow, &init, &cookie);
	assert_code(consume(&a, &cookie, &out, &res), 0);
	test_advance(&a, &b, SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
	assert_int_equal(tick(&a, &init), SS_TICK_HANDSHAKE);
	assert_false(ss_ct_equal(init.b + SS_INIT_OFF_MAC2, zero_id, SS_MAC_LEN));

	snap_take(&s, &b);
	for (size_t pos = 0; pos < SS_INIT_LEN; pos++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			copy_flip(&bad, &init, pos, masks[m]);
			if (pos < SS_PREFIX_LEN) {
				expect_drop(&b, &b.flow, bad.b, bad.len, SS_ERR_MALFORMED, NULL);
			} else if (pos < SS_INIT_OFF_MAC2) {
				expect_drop(&b, &b.flow, bad.b, bad.len, SS_ERR_MAC1, NULL);
			} else {
				expect_cookie_reply(&b, &b.flow, &bad, &out);
				assert_null(b.peer->next);
			}
			snap_check(&s, &b, IGN_COOKIE_SECRET);
		}
	}
	snap_free(&s);
	respond(&b, &init, &out);
	test_pair_free(&a, &b);
}

static void tamper_every_byte_response(void **state)
{
	test_node a, b;
	struct snap s;
	msg init, resp, bad, ka;

	(void)state;
	test_pair_init(&a, &b);
	start_init(&a, &init);
	respond(&b, &init, &resp);
	snap_take(&s, &a);
	for (size_t pos = 0; pos < SS_RESP_LEN; pos++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			copy_flip(&bad, &resp, pos, masks[m]);
			expect_drop(&a, &a.flow, bad.b, bad.len,
				    pos < SS_PREFIX_LEN ? SS_ERR_MALFORMED : SS_ERR_MAC1, NULL);
			snap_check(&s, &a, 0);
		}
	}
	/* With mac1 recomputed: each field fails its own check (section 4.3). */
	for (size_t pos = 0; pos < SS_RESP_OFF_MAC1; pos++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			int want = SS_ERR_SIGNATURE;
			const ss_peer *attr = a.peer;

			copy_flip(&bad, &resp, pos, masks[m]);
			remac_resp(bad.b, ss_identity_public(a.id));
			if (pos < SS_PREFIX_LEN) {
				want = SS_ERR_MALFORMED;
				attr = NULL;
			} else if (pos >= SS_RESP_OFF_RECEIVER && pos < SS_RESP_OFF_IDENTITY) {
				want = SS_ERR_UNKNOWN_INDEX;
				attr = NULL;
			} else if (pos >= SS_RESP_OFF_IDENTITY && pos < SS_RESP_OFF_EPHEMERAL) {
				want = SS_ERR_IDENTITY;
			} else if (pos >= SS_RESP_OFF_CONFIRM) {
				want = SS_ERR_CONFIRM;
			}
			expect_drop(&a, &a.flow, bad.b, bad.len, want, attr);
			snap_check(&s, &a, 0);
		}
	}
	snap_free(&s);
	assert_true(a.peer->hs.active);
	assert_false(ss_peer_has_session(a.peer));
	finish(&a, &resp, &ka);
	confirm(&b, &ka);
	test_pair_free(&a, &b);
}

static void tamper_every_byte_cookie(void **state)
{
	test_node a, b;
	struct snap s;
	msg init, cookie, bad, out;
	ss_result res;

	(void)state;
	test_pair_init(&a, &b);
	ss_ctx_set_under_load(b.ctx, true);
	start_init(&a, &init);
	expect_cookie_reply(&b, &b.flow, &init, &cookie);
	snap_take(&s, &a);
	for (size_t pos = 0; pos < SS_COOKIE_MSG_LEN; pos++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			copy_flip(&bad, &cookie, pos, masks[m]);
			if (pos < SS_PREFIX_LEN)
				expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_MALFORMED, NULL);
			else if (pos < SS_COOKIE_OFF_NONCE)
				expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_UNKNOWN_INDEX,
					    NULL);
			else
				expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_DECRYPT, a.peer);
			snap_check(&s, &a, 0);
		}
	}
	snap_free(&s);
	assert_false(a.peer->has_cookie);
	assert_code(consume(&a, &cookie, &out, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_NONE);
	assert_true(a.peer->has_cookie);
	test_pair_free(&a, &b);
}

static void tamper_data_common(test_node *from, test_node *to, const msg *good, const void *pt,
			       size_t ptlen)
{
	struct snap s;
	msg bad;

	snap_take(&s, to);
	for (size_t pos = 0; pos < good->len; pos++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			const ss_peer *w;
			int ret;

			copy_flip(&bad, good, pos, masks[m]);
			ret = drop_any(to, &to->flow, bad.b, bad.len, &w);
			if (pos < SS_PREFIX_LEN) {
				/* DATA <-> CONTROL by a flipped type: length or tag. */
				assert_code_in(ret, SS_ERR_MALFORMED, SS_ERR_DECRYPT);
			} else if (pos < SS_DATA_OFF_COUNTER) {
				assert_code(ret, SS_ERR_UNKNOWN_INDEX);
				assert_null(w);
			} else if (pos < SS_DATA_HDR_LEN) {
				assert_code_in(ret, SS_ERR_DECRYPT, SS_ERR_REPLAY, SS_ERR_EXPIRED,
					       SS_ERR_TOO_OLD);
				assert_ptr_equal(w, to->peer);
			} else {
				assert_code(ret, SS_ERR_DECRYPT);
				assert_ptr_equal(w, to->peer);
			}
			snap_check(&s, to, 0);
		}
	}
	snap_free(&s);
	(void)from;
	open_ok(to, good, pt, ptlen);
}

static void tamper_every_byte_data(void **state)
{
	static const char pt[] = "an IP packet of the tunnel, 60 bytes or so, for flipping";
	test_node a, b;
	msg d, ka;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	seal_str(&a, pt, &d);
	tamper_data_common(&a, &b, &d, pt, strlen(pt));
	/* The other direction, and an empty keepalive. */
	seal_str(&b, pt, &d);
	tamper_data_common(&b, &a, &d, pt, strlen(pt));
	seal(&a, NULL, 0, &ka);
	tamper_data_common(&a, &b, &ka, NULL, 0);
	test_pair_free(&a, &b);
}

static void tamper_every_byte_control(void **state)
{
	test_node a, b;
	msg d, echo;
	struct snap s;
	msg bad, out;
	ss_result res;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	seal_str(&a, "data", &d);
	open_str(&b, &d, "data");
	assert_int_equal(tick(&b, &echo), SS_TICK_ECHO);
	assert_int_equal(echo.len, SS_DATA_OVERHEAD + SS_CTL_LEN);
	snap_take(&s, &a);
	for (size_t pos = 0; pos < echo.len; pos++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			const ss_peer *w;
			int ret;

			copy_flip(&bad, &echo, pos, masks[m]);
			ret = drop_any(&a, &a.flow, bad.b, bad.len, &w);
			if (pos < SS_PREFIX_LEN)
				assert_code_in(ret, SS_ERR_MALFORMED, SS_ERR_DECRYPT);
			else if (pos < SS_DATA_OFF_COUNTER)
				assert_code(ret, SS_ERR_UNKNOWN_INDEX);
			else if (pos < SS_DATA_HDR_LEN)
				assert_code_in(ret, SS_ERR_DECRYPT, SS_ERR_REPLAY, SS_ERR_EXPIRED,
					       SS_ERR_TOO_OLD);
			else
				assert_code(ret, SS_ERR_DECRYPT);
			snap_check(&s, &a, 0);
		}
	}
	snap_free(&s);
	assert_code(consume(&a, &echo, &out, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_NONE);
	assert_true(ss_peer_has_session(a.peer));
	test_pair_free(&a, &b);
}

/* =========================================================================
 * replay_*: handshake replay resistance (section 1.1), invariant 3.
 * ========================================================================= */

static void replay_init(void **state)
{
	test_node a, b;
	struct snap s;
	msg init, resp, ka;
	int ret;

	(void)state;
	test_pair_init(&a, &b);
	start_init(&a, &init);
	respond(&b, &init, &resp);
	snap_take(&s, &b);
	ret = drop_any(&b, &b.flow, init.b, init.len, NULL);
	assert_code_in(ret, SS_ERR_STALE, SS_ERR_RATE_LIMIT);
	snap_check(&s, &b, IGN_LOAD);
	snap_free(&s);

	test_advance(&a, &b, 2 * SS_HANDSHAKE_MIN_INTERVAL);
	snap_take(&s, &b);
	expect_drop(&b, &b.flow, init.b, init.len, SS_ERR_STALE, b.peer);
	snap_check(&s, &b, IGN_LOAD);
	snap_free(&s);

	/* After the handshake completed, a replayed INIT still changes nothing. */
	finish(&a, &resp, &ka);
	confirm(&b, &ka);
	test_advance(&a, &b, 10 * SS_NS_PER_SEC);
	expect_drop(&b, &b.flow, init.b, init.len, SS_ERR_STALE, b.peer);
	assert_null(b.peer->next);
	test_send(&a, &b, "still the first epoch");
	test_send(&b, &a, "still the first epoch");
	test_pair_free(&a, &b);
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

	test_node_init(&b2, "bob", 4);
	b2.clock = b.clock;
	assert_int_equal(ss_peer_add(b2.ctx, ss_identity_public(a.id), &b2.peer), 0);
	b2.flow = b.flow;
	ss_peer_set_flow(b2.peer, &b2.flow);
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

static void replay_response(void **state)
{
	test_node a, b;
	struct hs_msgs h;
	struct snap s;

	(void)state;
	test_pair_init(&a, &b);
	handshake_capture(&a, &b, &h);
	snap_take(&s, &a);
	assert_code(drop_any(&a, &a.flow, h.resp.b, h.resp.len, NULL), SS_ERR_UNKNOWN_INDEX);
	snap_check(&s, &a, 0);
	snap_free(&s);
	test_send(&a, &b, "one session");
	test_send(&b, &a, "one session");
	test_pair_free(&a, &b);
}

static void replay_data(void **state)
{
	test_node a, b;
	struct snap s;
	msg d1, d2;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	seal_str(&a, "once", &d1);
	seal_str(&a, "twice", &d2);
	open_str(&b, &d1, "once");
	open_str(&b, &d2, "twice");
	snap_take(&s, &b);
	expect_drop(&b, &b.flow, d1.b, d1.len, SS_ERR_REPLAY, b.peer);
	expect_drop(&b, &b.flow, d2.b, d2.len, SS_ERR_REPLAY, b.peer);
	snap_check(&s, &b, 0);
	snap_free(&s);
	seal_str(&b, "back", &d1);
	open_str(&a, &d1, "back");
	expect_drop(&a, &a.flow, d1.b, d1.len, SS_ERR_REPLAY, a.peer);
	test_pair_free(&a, &b);
}

static void replay_keepalive(void **state)
{
	test_node a, b;
	struct hs_msgs h;
	struct snap s;
	msg ka;

	(void)state;
	test_pair_init(&a, &b);
	handshake_capture(&a, &b, &h);
	snap_take(&s, &b);
	expect_drop(&b, &b.flow, h.ka.b, h.ka.len, SS_ERR_REPLAY, b.peer);
	snap_check(&s, &b, 0);
	snap_free(&s);
	seal(&b, NULL, 0, &ka);
	open_ok(&a, &ka, NULL, 0);
	expect_drop(&a, &a.flow, ka.b, ka.len, SS_ERR_REPLAY, a.peer);
	test_pair_free(&a, &b);
}

static void replay_cookie(void **state)
{
	test_node a, b;
	struct snap s;
	msg init, cookie, out, resp, ka;
	uint8_t stored[SS_COOKIE_LEN];
	ss_result res;
	int ret;

	(void)state;
	test_pair_init(&a, &b);
	ss_ctx_set_under_load(b.ctx, true);
	start_init(&a, &init);
	expect_cookie_reply(&b, &b.flow, &init, &cookie);
	assert_code(consume(&a, &cookie, &out, &res), 0);
	assert_true(a.peer->has_cookie);
	memcpy(stored, a.peer->cookie, sizeof(stored));

	/*
	 * A duplicate while the INIT is still outstanding: section 4.4 lets it open again
	 * (the same cookie replaces itself); whatever the code, it must not change the
	 * cookie the next INIT will use.
	 */
	test_advance(&a, &b, SS_NS_PER_SEC);
	ret = ss_ctx_consume(a.ctx, &a.flow, cookie.b, cookie.len, g_out, sizeof(g_out), &res);
	assert_true(ret == 0 || ss_drop_index(ret) >= 0);
	assert_int_equal(res.kind, SS_RESULT_NONE);
	assert_memory_equal(a.peer->cookie, stored, sizeof(stored));

	/* The retry replaces the outstanding INIT: the old reply finds nothing now. */
	test_advance(&a, &b, SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
	assert_int_equal(tick(&a, &init), SS_TICK_HANDSHAKE);
	snap_take(&s, &a);
	expect_drop(&a, &a.flow, cookie.b, cookie.len, SS_ERR_UNKNOWN_INDEX, NULL);
	snap_check(&s, &a, 0);
	snap_free(&s);

	respond(&b, &init, &resp);
	finish(&a, &resp, &ka);
	confirm(&b, &ka);
	assert_code(drop_any(&a, &a.flow, cookie.b, cookie.len, NULL), SS_ERR_UNKNOWN_INDEX);
	test_pair_free(&a, &b);
}

/* =========================================================================
 * reflect_*: reflection resistance (section 4.6).
 * ========================================================================= */

static void reflect_init(void **state)
{
	test_node a, b, x;
	struct snap s;
	msg init;

	(void)state;
	test_pair_init(&a, &b);
	start_init(&a, &init);
	snap_take(&s, &a);
	expect_drop(&a, &a.flow, init.b, init.len, SS_ERR_MAC1, NULL);
	snap_check(&s, &a, 0);
	snap_free(&s);
	test_pair_free(&a, &b);

	/* An anonymous INIT reflected to a host that accepts anonymous INITs. */
	test_node_init_anon(&x, "xavier", true);
	assert_int_equal(ss_peer_add(x.ctx, NULL, &x.peer), 0);
	test_flow_v4(&x.flow, 0x0a000009, 5000, 0x0a000002, 6000, 17);
	ss_peer_set_flow(x.peer, &x.flow);
	start_init(&x, &init);
	snap_take(&s, &x);
	expect_drop(&x, &x.flow, init.b, init.len, SS_ERR_REFLECTION, NULL);
	snap_check(&s, &x, IGN_LOAD);
	snap_free(&s);
	test_node_free(&x);
}

static void reflect_response(void **state)
{
	test_node a, b;
	struct snap s;
	msg init, resp, ka;

	(void)state;
	test_pair_init(&a, &b);
	start_init(&a, &init);
	respond(&b, &init, &resp);
	snap_take(&s, &b);
	expect_drop(&b, &b.flow, resp.b, resp.len, SS_ERR_MAC1, NULL);
	snap_check(&s, &b, 0);
	snap_free(&s);
	finish(&a, &resp, &ka);
	confirm(&b, &ka);
	test_pair_free(&a, &b);
}

static void reflect_cookie(void **state)
{
	test_node a, b;
	msg init, cookie, out;
	ss_result res;

	(void)state;
	test_pair_init(&a, &b);
	ss_ctx_set_under_load(b.ctx, true);
	start_init(&a, &init);
	expect_cookie_reply(&b, &b.flow, &init, &cookie);
	expect_drop(&b, &b.flow, cookie.b, cookie.len, SS_ERR_UNKNOWN_INDEX, NULL);
	assert_code(consume(&a, &cookie, &out, &res), 0);
	test_pair_free(&a, &b);
}

/*
 * A packet sent back to its sender: its index is the peer's (UNKNOWN_INDEX). Even an
 * attacker who rewrites it to the sender's own index, or a chance collision, cannot
 * make it open: the two directions use different keys (v1 correction 1).
 */
static void reflect_packet(test_node *a, test_node *b, const msg *p)
{
	uint8_t nonce[SS_NONCE_LEN] = {0}, pt[SS_MAX_PACKET];
	ss_session *own = a->peer->current;
	struct snap s;
	msg bad;

	(void)b;
	snap_take(&s, a);
	expect_drop(a, &a->flow, p->b, p->len, SS_ERR_UNKNOWN_INDEX, NULL);
	bad = *p;
	ss_store_be32(bad.b + SS_DATA_OFF_RECEIVER, own->local_index);
	assert_code_in(drop_any(a, &a->flow, bad.b, bad.len, NULL), SS_ERR_DECRYPT, SS_ERR_REPLAY);
	snap_check(&s, a, 0);
	snap_free(&s);
	/* The chance-collision case, exactly: the unchanged header under our receive key. */
	memcpy(nonce + 4, p->b + SS_DATA_OFF_COUNTER, 8);
	assert_code(ss_aead_open(&own->rx, nonce, p->b, SS_DATA_HDR_LEN, p->b + SS_DATA_HDR_LEN,
				 p->len - SS_DATA_OVERHEAD, pt),
		    SS_ERR_DECRYPT);
}

static void reflect_data(void **state)
{
	test_node a, b;
	msg d;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	seal_str(&a, "to bob", &d);
	reflect_packet(&a, &b, &d);
	open_str(&b, &d, "to bob");
	seal_str(&b, "to alice", &d);
	reflect_packet(&b, &a, &d);
	open_str(&a, &d, "to alice");
	test_pair_free(&a, &b);
}

static void reflect_control(void **state)
{
	test_node a, b;
	msg d, echo, out;
	ss_result res;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	seal_str(&b, "to alice", &d);
	open_str(&a, &d, "to alice");
	assert_int_equal(tick(&a, &echo), SS_TICK_ECHO);
	reflect_packet(&a, &b, &echo);
	assert_code(consume(&b, &echo, &out, &res), 0);
	test_pair_free(&a, &b);
}

/* =========================================================================
 * swap_identity_* / misbinding_*: mutual authentication, no misbinding.
 * ========================================================================= */

static void swap_identity_init(void **state)
{
	ss_identity *carol = test_identity("carol");
	ss_peer *bc;
	test_node a, b;
	struct snap s;
	msg init, bad, resp;

	(void)state;
	test_pair_init(&a, &b);
	assert_int_equal(ss_peer_add(b.ctx, ss_identity_public(carol), &bc), 0);
	start_init(&a, &init);
	bad = init;
	memcpy(bad.b + SS_INIT_OFF_IDENTITY, ss_identity_public(carol), SS_IDENTITY_LEN);
	remac_init(bad.b, ss_identity_public(b.id));
	snap_take(&s, &b);
	expect_drop(&b, &b.flow, bad.b, bad.len, SS_ERR_SIGNATURE, bc);
	/* Or to an identity B does not know: still the signature, not UNKNOWN_PEER. */
	bad.b[SS_INIT_OFF_IDENTITY] ^= 0x20;
	remac_init(bad.b, ss_identity_public(b.id));
	expect_drop(&b, &b.flow, bad.b, bad.len, SS_ERR_SIGNATURE, NULL);
	snap_check(&s, &b, IGN_LOAD);
	snap_free(&s);
	respond(&b, &init, &resp);
	ss_identity_free(carol);
	test_pair_free(&a, &b);
}

static void swap_identity_response(void **state)
{
	ss_identity *carol = test_identity("carol");
	const uint8_t *ia;
	test_node a, b;
	struct snap s;
	msg init, bad, ka;

	(void)state;
	test_pair_init(&a, &b);
	ia = ss_identity_public(a.id);
	start_init(&a, &init);
	snap_take(&s, &a);
	/* Carol answers A's INIT as herself: A expects B. */
	forge_response(&bad, init.b, ss_identity_public(carol), carol, ia, "carol eph");
	expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_IDENTITY, a.peer);
	/* Carol claims to be B but can only sign with her own key. */
	forge_response(&bad, init.b, ss_identity_public(b.id), carol, ia, "carol eph");
	expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_SIGNATURE, a.peer);
	/* B's genuine signature, but a confirm tag computed for another ephemeral. */
	forge_response(&bad, init.b, ss_identity_public(b.id), b.id, ia, "bob eph");
	bad.b[SS_RESP_OFF_EPHEMERAL] ^= 1;
	remac_resp(bad.b, ia);
	expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_SIGNATURE, a.peer);
	snap_check(&s, &a, 0);
	snap_free(&s);
	/* Control: the same construction by B itself is a valid RESPONSE. */
	forge_response(&bad, init.b, ss_identity_public(b.id), b.id, ia, "bob eph");
	finish(&a, &bad, &ka);
	ss_identity_free(carol);
	test_pair_free(&a, &b);
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

/* =========================================================================
 * old_epoch: invariant 5, epoch isolation.
 * ========================================================================= */

static void old_epoch(void **state)
{
	test_node a, b;
	ss_peer_stats st;
	msg old_a, old_b1, old_b2, init, resp, ka, d;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	ss_peer_get_stats(a.peer, &st);
	assert_int_equal(st.epoch, 1);
	ss_peer_get_stats(b.peer, &st);
	assert_int_equal(st.epoch, 1);
	seal_str(&a, "old a", &old_a);
	seal_str(&b, "old b1", &old_b1);
	seal_str(&b, "old b2", &old_b2);

	test_advance(&a, &b, 2 * SS_HANDSHAKE_MIN_INTERVAL);
	start_init(&a, &init);
	respond(&b, &init, &resp);
	/* B keeps sending on its current session until the new one is confirmed. */
	seal_str(&b, "still old", &d);
	assert_int_equal(ss_load_be32(d.b + SS_DATA_OFF_RECEIVER),
			 ss_load_be32(old_b1.b + SS_DATA_OFF_RECEIVER));
	finish(&a, &resp, &ka);
	ss_peer_get_stats(a.peer, &st);
	assert_int_equal(st.epoch, 2);
	/* A's old session is "previous": receive-only until the new epoch delivers. */
	assert_non_null(a.peer->previous);
	open_str(&a, &d, "still old");
	seal_str(&a, "new a", &d);
	assert_int_equal(ss_load_be64(d.b + SS_DATA_OFF_COUNTER), 1);
	confirm(&b, &ka);
	ss_peer_get_stats(b.peer, &st);
	assert_int_equal(st.epoch, 2);
	open_str(&b, &d, "new a");
	/* B destroyed the old epoch on confirmation. */
	assert_code_in(drop_any(&b, &b.flow, old_a.b, old_a.len, NULL), SS_ERR_UNKNOWN_INDEX,
		       SS_ERR_EXPIRED);
	test_send(&b, &a, "new b");
	assert_null(a.peer->previous);
	assert_code_in(drop_any(&a, &a.flow, old_b1.b, old_b1.len, NULL), SS_ERR_UNKNOWN_INDEX,
		       SS_ERR_EXPIRED);
	assert_code_in(drop_any(&a, &a.flow, old_b2.b, old_b2.len, NULL), SS_ERR_UNKNOWN_INDEX,
		       SS_ERR_EXPIRED);
	/* Indices of destroyed sessions are gone: one live index per side. */
	assert_int_equal(a.ctx->by_index.count, 1);
	assert_int_equal(b.ctx->by_index.count, 1);
	test_send(&a, &b, "epoch 2");
	test_pair_free(&a, &b);
}

/* =========================================================================
 * window_exceed: invariant 4 at the session level.
 * ========================================================================= */

static void sealed_at(uint8_t (*pk)[SS_DATA_OVERHEAD + 8], size_t i, msg *m)
{
	m->len = SS_DATA_OVERHEAD + 8;
	memcpy(m->b, pk[i], m->len);
}

static void window_exceed(void **state)
{
	const size_t n = SS_REPLAY_WINDOW + 1;
	uint8_t(*pk)[SS_DATA_OVERHEAD + 8] = calloc(n, sizeof(*pk));
	test_node a, b;
	struct snap s;
	uint8_t pt[8];
	msg m;

	(void)state;
	assert_non_null(pk);
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	for (size_t i = 0; i < n; i++) {
		ss_store_be64(pt, i);
		seal(&a, pt, sizeof(pt), &m);
		memcpy(pk[i], m.b, m.len);
	}
	/* Counter N + SS_REPLAY_WINDOW first ... */
	sealed_at(pk, n - 1, &m);
	ss_store_be64(pt, n - 1);
	open_ok(&b, &m, pt, sizeof(pt));
	/* ... then counter N is left of the window ... */
	sealed_at(pk, 0, &m);
	snap_take(&s, &b);
	expect_drop(&b, &b.flow, m.b, m.len, SS_ERR_TOO_OLD, b.peer);
	snap_check(&s, &b, 0);
	snap_free(&s);
	/* ... and N + 1 is the oldest counter inside it (section 7.5). */
	sealed_at(pk, 1, &m);
	ss_store_be64(pt, 1);
	open_ok(&b, &m, pt, sizeof(pt));
	expect_drop(&b, &b.flow, m.b, m.len, SS_ERR_REPLAY, b.peer);

	/* Out of order inside the window: each accepted exactly once. */
	for (size_t k = 0; k < 64; k++) {
		size_t i = (k % 2) ? n - 2 - k : 2 + k * 31;

		sealed_at(pk, i, &m);
		ss_store_be64(pt, i);
		open_ok(&b, &m, pt, sizeof(pt));
		expect_drop(&b, &b.flow, m.b, m.len, SS_ERR_REPLAY, b.peer);
	}
	for (size_t i = n - 1; i-- > 1;) {
		ss_result res;
		int ret;

		sealed_at(pk, i, &m);
		ret = ss_ctx_consume(b.ctx, &b.flow, m.b, m.len, g_out, sizeof(g_out), &res);
		if (ret) {
			assert_code(ret, SS_ERR_REPLAY);
		} else {
			ss_store_be64(pt, i);
			assert_memory_equal(g_out, pt, sizeof(pt));
		}
	}
	for (size_t i = 1; i < n; i++) {
		sealed_at(pk, i, &m);
		expect_drop(&b, &b.flow, m.b, m.len, SS_ERR_REPLAY, b.peer);
	}
	test_pair_free(&a, &b);
	free(pk);
}

/* Jumps ahead by exactly one ring and more: stale ring bits must not look like replays. */
static void window_exceed_jump(void **state)
{
	static const uint64_t jumps[] = {1,
					 63,
					 64,
					 SS_REPLAY_WINDOW - 1,
					 SS_REPLAY_WINDOW,
					 SS_REPLAY_WORDS * 64,
					 SS_REPLAY_WORDS * 64 + 1,
					 UINT64_C(1) << 40};
	test_node a, b;
	msg m, late;
	uint64_t c;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	for (size_t j = 0; j < sizeof(jumps) / sizeof(jumps[0]); j++) {
		seal_str(&a, "late", &late);
		c = a.peer->current->tx_next;
		a.peer->current->tx_next = c - 1 + jumps[j];
		seal_str(&a, "jump", &m);
		open_str(&b, &m, "jump");
		if (jumps[j] < SS_REPLAY_WINDOW) {
			open_str(&b, &late, "late");
		} else {
			expect_drop(&b, &b.flow, late.b, late.len, SS_ERR_TOO_OLD, b.peer);
		}
		/* Every counter just below the new top that was never sent is still fresh. */
		for (uint64_t k = 1; k <= 3 && k < jumps[j]; k++) {
			a.peer->current->tx_next = a.peer->current->tx_next - 1 - k;
			seal_str(&a, "gap", &m);
			open_str(&b, &m, "gap");
			a.peer->current->tx_next += k;
		}
	}
	test_pair_free(&a, &b);
}

/* =========================================================================
 * wrap_attempt_*: invariants 3 and 6, counters never wrap.
 * ========================================================================= */

static void seal_raw_counter(test_node *n, uint64_t counter, msg *m)
{
	ss_session *s = n->peer->current;
	uint8_t nonce[SS_NONCE_LEN] = {0};

	m->b[0] = SS_MSG_DATA;
	m->b[1] = SS_VERSION;
	m->b[2] = m->b[3] = 0;
	ss_store_be32(m->b + SS_DATA_OFF_RECEIVER, s->remote_index);
	ss_store_be64(m->b + SS_DATA_OFF_COUNTER, counter);
	ss_store_be64(nonce + 4, counter);
	m->b[SS_DATA_HDR_LEN] = 'x';
	assert_int_equal(ss_aead_seal(&s->tx, nonce, m->b, SS_DATA_HDR_LEN, m->b + SS_DATA_HDR_LEN,
				      1, m->b + SS_DATA_HDR_LEN),
			 0);
	m->len = SS_DATA_OVERHEAD + 1;
}

static void wrap_attempt(void **state)
{
	test_node a, b;
	struct snap s;
	msg m, late;
	size_t len = 12345;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	a.peer->current->tx_next = SS_REJECT_AFTER_MESSAGES - 1;
	seal_str(&a, "last", &m);
	assert_int_equal(ss_load_be64(m.b + SS_DATA_OFF_COUNTER), SS_REJECT_AFTER_MESSAGES - 1);
	open_str(&b, &m, "last");
	/* The sender stops: no packet, no counter spent, a handshake requested. */
	assert_true(ss_peer_seal(a.ctx, a.peer, (const uint8_t *)"x", 1, m.b, sizeof(m.b), &len,
				 NULL) < 0);
	assert_int_equal(len, 12345);
	assert_int_equal(a.peer->current->tx_next, SS_REJECT_AFTER_MESSAGES);
	assert_int_equal(tick(&a, &m), SS_TICK_HANDSHAKE);

	/* An authentic packet with a counter at or beyond the limit is dropped. */
	test_pair_free(&a, &b);
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	seal_str(&a, "x", &late);
	snap_take(&s, &b);
	seal_raw_counter(&a, SS_REJECT_AFTER_MESSAGES, &m);
	expect_drop(&b, &b.flow, m.b, m.len, SS_ERR_EXPIRED, b.peer);
	seal_raw_counter(&a, UINT64_MAX, &m);
	expect_drop(&b, &b.flow, m.b, m.len, SS_ERR_EXPIRED, b.peer);
	snap_check(&s, &b, 0);
	snap_free(&s);
	open_str(&b, &late, "x");
	seal_raw_counter(&a, SS_REJECT_AFTER_MESSAGES - 1, &m);
	open_ok(&b, &m, "x", 1);
	test_pair_free(&a, &b);
}

/* Section 4.7: exhaustion of the send counter is SS_ERR_KEY_EXHAUSTED. */
static void wrap_attempt_exhausted_code(void **state)
{
	test_node a, b;
	msg m;
	size_t len;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	a.peer->current->tx_next = SS_REJECT_AFTER_MESSAGES - 1;
	seal_str(&a, "last", &m);
	/* PROTOCOL.md 3.6, 4.7, 7.1 and section 10: an exhausted counter is its own code. */
	assert_code(
		ss_peer_seal(a.ctx, a.peer, (const uint8_t *)"x", 1, m.b, sizeof(m.b), &len, NULL),
		SS_ERR_KEY_EXHAUSTED);
	test_pair_free(&a, &b);
}

static void wrap_attempt_rekey_after_messages(void **state)
{
	test_node a, b;
	msg m;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	a.peer->current->tx_next = SS_REKEY_AFTER_MESSAGES - 2;
	seal_str(&a, "a", &m);
	open_str(&b, &m, "a");
	assert_int_equal(tick(&a, &m), SS_TICK_NONE);
	seal_str(&a, "b", &m);
	open_str(&b, &m, "b");
	seal_str(&a, "c", &m);
	open_str(&b, &m, "c");
	assert_int_equal(ss_load_be64(m.b + SS_DATA_OFF_COUNTER), SS_REKEY_AFTER_MESSAGES);
	assert_int_equal(tick(&a, &m), SS_TICK_HANDSHAKE);

	/* Either role: the responder too. */
	test_pair_free(&a, &b);
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	b.peer->current->tx_next = SS_REKEY_AFTER_MESSAGES;
	seal_str(&b, "r", &m);
	open_str(&a, &m, "r");
	while (tick(&b, &m) == SS_TICK_ECHO)
		;
	assert_true(b.peer->hs.active);
	test_pair_free(&a, &b);
}

/* =========================================================================
 * expired_session: invariant 6, SS_REJECT_AFTER_TIME.
 * ========================================================================= */

static void expired_session(void **state)
{
	test_node a, b;
	struct snap s;
	msg early, m;
	size_t len;
	uint64_t created;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	created = a.peer->current->created_ns;
	assert_int_equal(created, b.peer->current->created_ns);
	test_advance(&a, &b, SS_REJECT_AFTER_TIME - 1);
	seal_str(&a, "sealed in time", &early);
	test_send(&a, &b, "still alive");
	test_send(&b, &a, "still alive");
	test_advance(&a, &b, 1);
	assert_code(
		ss_peer_seal(a.ctx, a.peer, (const uint8_t *)"x", 1, m.b, sizeof(m.b), &len, NULL),
		SS_ERR_NO_SESSION);
	assert_code(
		ss_peer_seal(b.ctx, b.peer, (const uint8_t *)"x", 1, m.b, sizeof(m.b), &len, NULL),
		SS_ERR_NO_SESSION);
	snap_take(&s, &b);
	expect_drop(&b, &b.flow, early.b, early.len, SS_ERR_EXPIRED, b.peer);
	snap_check(&s, &b, 0);
	snap_free(&s);
	/* Once the timers ran, the session and its keys are gone. */
	while (tick(&b, &m) != SS_TICK_NONE)
		;
	assert_false(ss_peer_has_session(b.peer));
	for (int i = 0; i < SS_SESSION_SLOTS; i++)
		assert_false(b.peer->slots[i].valid);
	assert_int_equal(b.ctx->by_index.count, b.peer->hs.active ? 1 : 0);
	assert_code_in(drop_any(&b, &b.flow, early.b, early.len, NULL), SS_ERR_UNKNOWN_INDEX,
		       SS_ERR_EXPIRED);
	test_pair_free(&a, &b);
}

/* =========================================================================
 * flow_binding*: invariant 9.
 * ========================================================================= */

static void flow_binding(void **state)
{
	test_node a, b;
	struct snap s;
	ss_flow f;
	msg d, echo;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	seal_str(&a, "bound", &d);
	snap_take(&s, &b);
	f = b.flow;
	f.remote_port++;
	expect_drop(&b, &f, d.b, d.len, SS_ERR_FLOW, b.peer);
	f = b.flow;
	f.remote_addr[15] ^= 1;
	expect_drop(&b, &f, d.b, d.len, SS_ERR_FLOW, b.peer);
	f = b.flow;
	f.proto = 99;
	expect_drop(&b, &f, d.b, d.len, SS_ERR_FLOW, b.peer);
	f = b.flow;
	f.local_port++;
	expect_drop(&b, &f, d.b, d.len, SS_ERR_FLOW, b.peer);
	f = b.flow;
	f.local_addr[15] ^= 1;
	expect_drop(&b, &f, d.b, d.len, SS_ERR_FLOW, b.peer);
	test_flow_v4(&f, 0, 6000, 0x0a000001, 5000, 17); /* local address unknown */
	expect_drop(&b, &f, d.b, d.len, SS_ERR_FLOW, b.peer);
	snap_check(&s, &b, 0);
	snap_free(&s);
	open_str(&b, &d, "bound");

	/* CONTROL too. */
	assert_int_equal(tick(&b, &echo), SS_TICK_ECHO);
	f = a.flow;
	f.remote_port++;
	expect_drop(&a, &f, echo.b, echo.len, SS_ERR_FLOW, a.peer);
	test_pair_free(&a, &b);
}

static void flow_binding_roaming(void **state)
{
	test_node a, b;
	ss_flow old_a, old_b, f;
	msg d, old_d;
	size_t len;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	seal_str(&a, "from the old address", &old_d);
	old_a = a.flow;
	old_b = b.flow;

	/* A moves to 10.0.0.7:5001 and re-handshakes from there. */
	test_advance(&a, &b, 2 * SS_HANDSHAKE_MIN_INTERVAL);
	test_flow_v4(&a.flow, 0x0a000007, 5001, 0x0a000002, 6000, 17);
	test_flow_reverse(&b.flow, &a.flow);
	ss_peer_set_flow(a.peer, &a.flow);
	test_handshake(&a, &b);

	seal_str(&a, "from the new address", &d);
	expect_drop(&b, &old_b, d.b, d.len, SS_ERR_FLOW, b.peer);
	open_str(&b, &d, "from the new address");
	assert_code_in(drop_any(&b, &old_b, old_d.b, old_d.len, NULL), SS_ERR_UNKNOWN_INDEX,
		       SS_ERR_EXPIRED);
	assert_code(
		ss_peer_seal(b.ctx, b.peer, (const uint8_t *)"hi", 2, d.b, sizeof(d.b), &len, &f),
		0);
	d.len = len;
	assert_true(ss_flow_equal(&f, &b.flow));
	expect_drop(&a, &old_a, d.b, d.len, SS_ERR_FLOW, a.peer);
	open_ok(&a, &d, "hi", 2);
	test_pair_free(&a, &b);
}

/* =========================================================================
 * cookie_under_load*: invariants 8 and 11.
 * ========================================================================= */

static void cookie_under_load(void **state)
{
	test_node a, b;
	struct snap s;
	ss_peer_stats st;
	ss_flow other;
	msg init, cookie, out, init2, resp, ka;
	ss_result res;

	(void)state;
	test_pair_init(&a, &b);
	ss_ctx_set_under_load(b.ctx, true);
	start_init(&a, &init);
	assert_memory_equal(init.b + SS_INIT_OFF_MAC2, zero_id, SS_MAC_LEN);
	snap_take(&s, &b);
	expect_cookie_reply(&b, &b.flow, &init, &cookie);
	/* Nothing allocated for the sender: no session, no index, no timestamp. */
	snap_check(&s, &b, IGN_COOKIE_SECRET);
	snap_free(&s);
	assert_null(b.peer->next);
	assert_int_equal(b.ctx->by_index.count, 0);
	ss_peer_get_stats(b.peer, &st);
	assert_int_equal(st.handshakes_responded, 0);

	assert_code(consume(&a, &cookie, &out, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_NONE);
	assert_ptr_equal(res.peer, a.peer);
	/* Not resent at once; the retry carries mac2. */
	assert_int_equal(tick(&a, &init2), SS_TICK_NONE);
	test_advance(&a, &b, SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
	assert_int_equal(tick(&a, &init2), SS_TICK_HANDSHAKE);
	assert_memory_not_equal(init2.b + SS_INIT_OFF_MAC2, zero_id, SS_MAC_LEN);

	/* mac2 is bound to the source: from another flow it earns another cookie. */
	other = b.flow;
	other.remote_port = 6001;
	snap_take(&s, &b);
	expect_cookie_reply(&b, &other, &init2, &out);
	other = b.flow;
	other.remote_addr[15] ^= 0x40;
	expect_cookie_reply(&b, &other, &init2, &out);
	other = b.flow;
	other.proto = 99;
	expect_cookie_reply(&b, &other, &init2, &out);
	snap_check(&s, &b, 0);
	snap_free(&s);

	respond(&b, &init2, &resp);
	finish(&a, &resp, &ka);
	confirm(&b, &ka);
	test_send(&a, &b, "through the cookie");
	test_send(&b, &a, "through the cookie");
	test_pair_free(&a, &b);
}

static void cookie_under_load_forged_reply(void **state)
{
	ss_identity *carol = test_identity("carol");
	test_node a, b;
	struct snap s;
	msg init, other_init, cookie, bad, out;
	ss_result res;

	(void)state;
	test_pair_init(&a, &b);
	ss_ctx_set_under_load(b.ctx, true);
	start_init(&a, &init);
	expect_cookie_reply(&b, &b.flow, &init, &cookie);
	snap_take(&s, &a);
	/* Wrong key: boxed for another responder identity. */
	forge_cookie(&bad, init.b, ss_identity_public(carol), init.b + SS_INIT_OFF_MAC1);
	expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_DECRYPT, a.peer);
	/* Wrong key: the anonymous one, for a peer with a configured identity. */
	forge_cookie(&bad, init.b, zero_id, init.b + SS_INIT_OFF_MAC1);
	expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_DECRYPT, a.peer);
	/* Right key, but bound to another INIT's mac1 (an off-path guess). */
	other_init = init;
	other_init.b[SS_INIT_OFF_MAC1] ^= 1;
	forge_cookie(&bad, init.b, ss_identity_public(b.id), other_init.b + SS_INIT_OFF_MAC1);
	expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_DECRYPT, a.peer);
	snap_check(&s, &a, 0);
	snap_free(&s);
	assert_false(a.peer->has_cookie);
	/* Control: the construction itself is right. */
	forge_cookie(&bad, init.b, ss_identity_public(b.id), init.b + SS_INIT_OFF_MAC1);
	assert_code(consume(&a, &bad, &out, &res), 0);
	assert_true(a.peer->has_cookie);
	ss_identity_free(carol);
	test_pair_free(&a, &b);
}

static void cookie_under_load_automatic(void **state)
{
	const uint64_t token = SS_NS_PER_SEC / SS_LOAD_INITS_PER_SEC;
	test_node a, b;
	msg init, resp, cookie;
	ss_result res;

	(void)state;
	test_pair_init(&a, &b);
	start_init(&a, &init);
	/* The bucket starts full: SS_LOAD_BURST INITs pass mac1 without cookies ... */
	respond(&b, &init, &resp);
	for (int i = 1; i < SS_LOAD_BURST; i++)
		assert_code_in(drop_any(&b, &b.flow, init.b, init.len, NULL), SS_ERR_STALE,
			       SS_ERR_RATE_LIMIT);
	/* ... the next one in no time is answered with a cookie, and allocates nothing. */
	expect_cookie_reply(&b, &b.flow, &init, &cookie);
	expect_cookie_reply(&b, &b.flow, &init, &cookie);
	/* Junk that fails mac1 spends no token and gets no cookie. */
	init.b[SS_INIT_OFF_MAC1] ^= 1;
	expect_drop(&b, &b.flow, init.b, init.len, SS_ERR_MAC1, NULL);
	init.b[SS_INIT_OFF_MAC1] ^= 1;
	/* One token's worth of time buys exactly one more INIT. */
	test_advance(&b, NULL, token);
	expect_drop(&b, &b.flow, init.b, init.len, SS_ERR_STALE, b.peer);
	expect_cookie_reply(&b, &b.flow, &init, &cookie);
	/* A second refills the bucket. */
	test_advance(&b, NULL, SS_NS_PER_SEC);
	for (int i = 0; i < SS_LOAD_BURST; i++)
		expect_drop(&b, &b.flow, init.b, init.len, SS_ERR_STALE, b.peer);
	expect_cookie_reply(&b, &b.flow, &init, &cookie);
	/* Forcing off ignores the bucket. */
	ss_ctx_set_under_load(b.ctx, false);
	expect_drop(&b, &b.flow, init.b, init.len, SS_ERR_STALE, b.peer);
	(void)res;
	test_pair_free(&a, &b);
}

/* A TOFU initiator cannot know the responder's cookie key: the anonymous one is used. */
static void cookie_under_load_anonymous(void **state)
{
	test_node a, b;
	msg init, cookie, out, resp, ka;
	ss_result res;

	(void)state;
	tofu_pair_init(&a, &b, true);
	ss_ctx_set_under_load(b.ctx, true);
	start_init(&a, &init);
	expect_cookie_reply(&b, &b.flow, &init, &cookie);
	assert_code(consume(&a, &cookie, &out, &res), 0);
	assert_true(a.peer->has_cookie);
	test_advance(&a, &b, SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
	assert_int_equal(tick(&a, &init), SS_TICK_HANDSHAKE);
	respond(&b, &init, &resp);
	assert_code(consume(&a, &resp, &ka, &res), 0);
	assert_true(res.flags & SS_RESULT_F_LEARNED);
	confirm(&b, &ka);
	test_pair_free(&a, &b);
}

/* =========================================================================
 * echo_divergence_*: invariant 7.
 * ========================================================================= */

static void echo_divergence_normal(void **state)
{
	test_node a, b;
	msg d, echo, out;
	ss_result res;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	for (int i = 0; i < 3; i++) {
		seal_str(&a, "data", &d);
		open_str(&b, &d, "data");
	}
	assert_int_equal(tick(&b, &echo), SS_TICK_ECHO);
	assert_int_equal(tick(&b, &out), SS_TICK_NONE);
	assert_code(consume(&a, &echo, &out, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_NONE);
	assert_int_equal(res.flags, 0);
	assert_true(ss_peer_has_session(a.peer));
	assert_true(a.peer->current->echo_seen);
	assert_int_equal(a.peer->current->echo_rx_next, 4);
	assert_int_equal(a.peer->current->echo_rx_packets, 4);
	/* Loss and reordering only make echoed values smaller: still fine. */
	seal_str(&a, "lost", &d);
	seal_str(&a, "arrives", &d);
	open_str(&b, &d, "arrives");
	test_advance(&a, &b, SS_ECHO_INTERVAL);
	assert_int_equal(tick(&b, &echo), SS_TICK_ECHO);
	assert_code(consume(&a, &echo, &out, &res), 0);
	assert_int_equal(a.peer->current->echo_rx_next, 6);
	assert_int_equal(a.peer->current->echo_rx_packets, 5);
	test_send(&a, &b, "after the echo");
	test_pair_free(&a, &b);
}

static void expect_divergence(test_node *a, test_node *b, const msg *echo)
{
	uint32_t idx = a->peer->current->local_index;
	ss_result res;
	msg out, d;
	int ret;

	ret = ss_ctx_consume(a->ctx, &a->flow, echo->b, echo->len, out.b, sizeof(out.b), &res);
	assert_code(ret, SS_ERR_DIVERGENCE);
	assert_int_equal(res.kind, SS_RESULT_NONE);
	assert_true(res.flags & SS_RESULT_F_REKEY);
	assert_false(ss_peer_has_session(a->peer));
	/* Keys wiped and index released: B's packets on it find nothing. */
	{
		uint32_t slot;

		assert_null(ss_index_lookup(a->ctx, idx, &slot));
	}
	seal_str(b, "on a dead session", &d);
	expect_drop(a, &a->flow, d.b, d.len, SS_ERR_UNKNOWN_INDEX, NULL);
	if (!a->peer->hs.active)
		assert_int_equal(tick(a, &out), SS_TICK_HANDSHAKE);
	assert_true(a->peer->hs.active);
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
	test_node a, b;
	msg d, e1, e2, out;
	ss_result res;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	for (int k = 0; k < 3; k++) {
		seal_str(&a, "x", &d);
		open_str(&b, &d, "x");
	}
	forge_echo(&b, 2, 2, &e1);
	forge_echo(&b, 4, 4, &e2);
	assert_code(consume(&a, &e2, &out, &res), 0);
	assert_code(consume(&a, &e1, &out, &res), 0);
	assert_true(ss_peer_has_session(a.peer));
	assert_int_equal(a.peer->current->echo_rx_next, 4);
	expect_drop(&a, &a.flow, e1.b, e1.len, SS_ERR_REPLAY, a.peer);
	test_send(&a, &b, "x");
	test_pair_free(&a, &b);
}

/* Authenticated CONTROL plaintexts with an unknown type or reserved bits set. */
static void echo_divergence_malformed_plaintext(void **state)
{
	test_node a, b;
	struct snap s;
	uint8_t pt[SS_CTL_LEN];
	msg m, d;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	seal_str(&a, "x", &d);
	open_str(&b, &d, "x");
	snap_take(&s, &a);
	memset(pt, 0, sizeof(pt));
	pt[0] = 2;
	seal_control(&b, pt, &m);
	expect_drop(&a, &a.flow, m.b, m.len, SS_ERR_MALFORMED, a.peer);
	for (int i = 1; i < SS_CTL_OFF_RX_NEXT; i++) {
		memset(pt, 0, sizeof(pt));
		pt[0] = SS_CTL_ECHO;
		pt[i] = 0x80;
		seal_control(&b, pt, &m);
		expect_drop(&a, &a.flow, m.b, m.len, SS_ERR_MALFORMED, a.peer);
	}
	snap_check(&s, &a, 0);
	snap_free(&s);
	test_send(&a, &b, "still fine");
	test_pair_free(&a, &b);
}

/*
 * Section 7.3: an ECHO is due only after DATA was accepted; received CONTROL packets do
 * not make one due, "so echoes never answer echoes". One DATA packet must cause one
 * ECHO, not an endless exchange.
 */
static void echo_divergence_no_echo_storm(void **state)
{
	test_node a, b;
	int echoes = 0;
	msg d, m, out;
	ss_result res;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	seal_str(&a, "one", &d);
	open_str(&b, &d, "one");
	for (int step = 0; step < 20; step++) {
		test_node *n[2] = {&a, &b}, *peer[2] = {&b, &a};

		for (int i = 0; i < 2; i++) {
			enum ss_tick_kind k;

			while ((k = tick(n[i], &m)) != SS_TICK_NONE) {
				if (k == SS_TICK_ECHO)
					echoes++;
				assert_code(consume(peer[i], &m, &out, &res), 0);
			}
		}
		test_advance(&a, &b, SS_ECHO_INTERVAL);
	}
	assert_int_equal(echoes, 1);
	test_pair_free(&a, &b);
}

/* =========================================================================
 * version_and_type_*: invariants 2 and 10, section 3.1.
 * ========================================================================= */

struct all_msgs {
	test_node b2; /* a second "bob" (same identity) that has not seen the INIT */
	msg init, resp, cookie, data, control;
};

/* One genuine example of each message type, none consumed yet by its receiver. */
static void all_msgs_make(test_node *a, test_node *b, struct all_msgs *m)
{
	msg d;

	test_handshake(a, b);
	seal_str(b, "to alice", &d);
	open_str(a, &d, "to alice");
	assert_int_equal(tick(a, &m->control), SS_TICK_ECHO);
	seal_str(a, "some data for bob", &m->data);
	test_advance(a, b, 2 * SS_HANDSHAKE_MIN_INTERVAL);
	start_init(a, &m->init);
	ss_ctx_set_under_load(b->ctx, true);
	expect_cookie_reply(b, &b->flow, &m->init, &m->cookie);
	ss_ctx_set_under_load(b->ctx, false);
	respond(b, &m->init, &m->resp);
	test_node_init(&m->b2, "bob", 4);
	m->b2.clock = b->clock;
	assert_int_equal(ss_peer_add(m->b2.ctx, ss_identity_public(a->id), &m->b2.peer), 0);
	m->b2.flow = b->flow;
	ss_peer_set_flow(m->b2.peer, &m->b2.flow);
}

struct target {
	const msg *m;
	test_node *to;
};

/* In the order in which they can all still be accepted. */
static void targets(struct target t[5], struct all_msgs *m, test_node *a, test_node *b)
{
	t[0] = (struct target){&m->init, &m->b2};
	t[1] = (struct target){&m->cookie, a};
	t[2] = (struct target){&m->resp, a};
	t[3] = (struct target){&m->data, b};
	t[4] = (struct target){&m->control, b};
}

/* Every target is still accepted: nothing the test did before changed state. */
static void targets_still_accepted(struct target t[5], struct all_msgs *m)
{
	for (int i = 0; i < 5; i++) {
		ss_result res;
		msg out;

		assert_code(consume(t[i].to, t[i].m, &out, &res), 0);
	}
	test_node_free(&m->b2);
}

static void version_and_type_every_type(void **state)
{
	struct all_msgs m;
	struct target t[5];
	test_node a, b;
	msg bad;

	(void)state;
	test_pair_init(&a, &b);
	all_msgs_make(&a, &b, &m);
	targets(t, &m, &a, &b);
	for (int i = 0; i < 5; i++) {
		struct snap s;

		snap_take(&s, t[i].to);
		for (int type = 0; type < 256; type++) {
			if (type >= SS_MSG_INIT && type <= SS_MSG_CONTROL)
				continue;
			bad = *t[i].m;
			bad.b[0] = (uint8_t)type;
			expect_drop(t[i].to, &t[i].to->flow, bad.b, bad.len, SS_ERR_MALFORMED,
				    NULL);
		}
		/* A valid type with another message's length. */
		for (int type = SS_MSG_INIT; type <= SS_MSG_CONTROL; type++) {
			int ret;

			if (type == t[i].m->b[0] || (type == SS_MSG_DATA && t[i].m->len >= 32))
				continue;
			bad = *t[i].m;
			bad.b[0] = (uint8_t)type;
			ret = drop_any(t[i].to, &t[i].to->flow, bad.b, bad.len, NULL);
			if (type == SS_MSG_CONTROL && bad.len == SS_DATA_OVERHEAD + SS_CTL_LEN)
				assert_code_in(ret, SS_ERR_DECRYPT, SS_ERR_UNKNOWN_INDEX);
			else
				assert_code(ret, SS_ERR_MALFORMED);
		}
		snap_check(&s, t[i].to, 0);
		snap_free(&s);
	}
	targets_still_accepted(t, &m);
	test_pair_free(&a, &b);
}

static void version_and_type_version(void **state)
{
	static const uint8_t versions[] = {0, 1, 3, 4, 0x12, 0x20, 0x82, 0xff};
	struct all_msgs m;
	struct target t[5];
	test_node a, b;
	msg bad;

	(void)state;
	test_pair_init(&a, &b);
	all_msgs_make(&a, &b, &m);
	targets(t, &m, &a, &b);
	for (int i = 0; i < 5; i++) {
		struct snap s;

		snap_take(&s, t[i].to);
		for (size_t v = 0; v < sizeof(versions); v++) {
			bad = *t[i].m;
			bad.b[1] = versions[v];
			expect_drop(t[i].to, &t[i].to->flow, bad.b, bad.len, SS_ERR_MALFORMED,
				    NULL);
		}
		/* Reserved bytes: each bit. */
		for (int pos = 2; pos < SS_PREFIX_LEN; pos++) {
			for (int bit = 0; bit < 8; bit++) {
				bad = *t[i].m;
				bad.b[pos] = (uint8_t)(1u << bit);
				expect_drop(t[i].to, &t[i].to->flow, bad.b, bad.len,
					    SS_ERR_MALFORMED, NULL);
			}
		}
		snap_check(&s, t[i].to, 0);
		snap_free(&s);
	}
	/* v1 traffic (section 8): version first, type second; its 144-byte RESPONSE. */
	bad = m.data;
	bad.b[0] = 0x01;
	bad.b[1] = 0x03;
	expect_drop(&b, &b.flow, bad.b, bad.len, SS_ERR_MALFORMED, NULL);
	bad = m.init;
	bad.b[0] = 0x01;
	bad.b[1] = 0x01;
	expect_drop(&b, &b.flow, bad.b, bad.len, SS_ERR_MALFORMED, NULL);
	bad = m.init;
	bad.len = 144;
	expect_drop(&b, &b.flow, bad.b, bad.len, SS_ERR_MALFORMED, NULL);
	targets_still_accepted(t, &m);
	test_pair_free(&a, &b);
}

/*
 * Every truncated (and some extended) length. Each copy lives in a heap block of
 * exactly that size so that ASan or valgrind reports any read past the end.
 * (This caught an INIT timestamp read before the length check, under ASan.)
 */
static void version_and_type_truncated(void **state)
{
	struct all_msgs m;
	struct target t[5];
	test_node a, b;

	(void)state;
	test_pair_init(&a, &b);
	all_msgs_make(&a, &b, &m);
	targets(t, &m, &a, &b);
	for (int i = 0; i < 5; i++) {
		struct snap s;
		size_t full = t[i].m->len;

		snap_take(&s, t[i].to);
		for (size_t len = 0; len <= full + 16; len++) {
			uint8_t *p;
			int ret;

			if (len == full)
				continue;
			p = malloc(len ? len : 1);
			assert_non_null(p);
			memcpy(p, t[i].m->b, len < full ? len : full);
			if (len > full)
				memset(p + full, 0, len - full);
			ret = drop_any(t[i].to, &t[i].to->flow, p, len, NULL);
			if (t[i].m->b[0] == SS_MSG_DATA && len >= SS_DATA_MIN_LEN)
				assert_code(ret, SS_ERR_DECRYPT); /* another valid DATA length */
			else
				assert_code(ret, SS_ERR_MALFORMED);
			free(p);
		}
		snap_check(&s, t[i].to, 0);
		snap_free(&s);
	}
	/* Longer than any DATA packet can be. */
	{
		uint8_t *p = calloc(1, SS_MAX_PACKET + 1);

		assert_non_null(p);
		memcpy(p, m.data.b, SS_DATA_HDR_LEN);
		expect_drop(&b, &b.flow, p, SS_MAX_PACKET + 1, SS_ERR_MALFORMED, NULL);
		free(p);
	}
	targets_still_accepted(t, &m);
	test_pair_free(&a, &b);
}

/* No plaintext path: raw IP, or a DATA header followed by cleartext, is never delivered. */
static void version_and_type_no_plaintext(void **state)
{
	static const uint8_t ipv4[28] = {0x45, 0,    0,	   28,	 0x12, 0x34, 0x40, 0, 64, 17,
					 0,    0,    10,   0,	 0,    1,    10,   0, 0,  2,
					 0x13, 0x88, 0x17, 0x70, 0,    8,    0,	   0};
	static const uint8_t ipv6[48] = {0x60, 0, 0, 0, 0, 8, 17, 64};
	test_node a, b;
	msg d, fake;
	const char *clear = "GET / HTTP/1.0\r\n\r\n plus some bytes to pass the length";

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	expect_drop(&b, &b.flow, ipv4, sizeof(ipv4), SS_ERR_MALFORMED, NULL);
	expect_drop(&b, &b.flow, ipv6, sizeof(ipv6), SS_ERR_MALFORMED, NULL);
	seal_str(&a, "x", &d);
	memcpy(fake.b, d.b, SS_DATA_HDR_LEN);
	memcpy(fake.b + SS_DATA_HDR_LEN, clear, strlen(clear));
	fake.len = SS_DATA_HDR_LEN + strlen(clear);
	expect_drop(&b, &b.flow, fake.b, fake.len, SS_ERR_DECRYPT, b.peer);
	/* Zero tag, zero key material: still nothing. */
	memset(fake.b + SS_DATA_HDR_LEN, 0, SS_TAG_LEN);
	fake.len = SS_DATA_OVERHEAD;
	expect_drop(&b, &b.flow, fake.b, fake.len, SS_ERR_DECRYPT, b.peer);
	open_str(&b, &d, "x");
	test_pair_free(&a, &b);
}

/* =========================================================================
 * unknown_peer, tofu_initiator, rate_limit
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
	test_node_init(&a, "alice", 4);
	test_node_init(&b, "bob", 4);
	assert_int_equal(ss_peer_add(a.ctx, ss_identity_public(b.id), &a.peer), 0);
	test_flow_v4(&a.flow, 0x0a000001, 5000, 0x0a000002, 6000, 17);
	test_flow_reverse(&b.flow, &a.flow);
	ss_peer_set_flow(a.peer, &a.flow);
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
	test_flow_v4(&a.flow, 0x0a000001, 5000, 0x0a000002, 6000, 17);
	test_flow_reverse(&b.flow, &a.flow);
	ss_peer_set_flow(a.peer, &a.flow);
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

/*
 * A trust-on-first-use initiator answered by a small-order identity with the universal
 * signature (and a correct confirm tag: the attacker knows its ephemeral) neither
 * learns it nor completes; the genuine responder still can.
 */
static void small_order_identity_response(void **state)
{
	const uint8_t *ia;
	test_node a, b;
	struct snap s;
	msg init, bad, ka;

	(void)state;
	tofu_pair_init(&a, &b, true);
	ia = ss_identity_public(a.id);
	start_init(&a, &init);
	snap_take(&s, &a);
	forge_response(&bad, init.b, identity_point, NULL, ia, "mallory eph");
	expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_SIGNATURE, a.peer);
	snap_check(&s, &a, 0);
	snap_free(&s);
	assert_null(ss_peer_identity(a.peer));
	assert_null(ss_peer_find(a.ctx, identity_point));
	forge_response(&bad, init.b, ss_identity_public(b.id), b.id, ia, "bob eph");
	finish(&a, &bad, &ka);
	assert_memory_equal(ss_peer_identity(a.peer), ss_identity_public(b.id), SS_IDENTITY_LEN);
	test_pair_free(&a, &b);
}

static void tofu_initiator(void **state)
{
	test_node a, b;
	ss_result res;
	msg init, resp, ka;

	(void)state;
	tofu_pair_init(&a, &b, true);
	assert_null(ss_peer_identity(a.peer));
	start_init(&a, &init);
	respond(&b, &init, &resp);
	assert_code(consume(&a, &resp, &ka, &res), 0);
	assert_true(res.flags & SS_RESULT_F_HANDSHAKE);
	assert_true(res.flags & SS_RESULT_F_LEARNED);
	assert_memory_equal(res.identity, ss_identity_public(b.id), SS_IDENTITY_LEN);
	assert_non_null(ss_peer_identity(a.peer));
	assert_memory_equal(ss_peer_identity(a.peer), ss_identity_public(b.id), SS_IDENTITY_LEN);
	assert_ptr_equal(ss_peer_find(a.ctx, ss_identity_public(b.id)), a.peer);
	confirm(&b, &ka);
	test_send(&a, &b, "learned");
	test_send(&b, &a, "learned");
	/* Pinned now: the next INIT is addressed to B's identity, not anonymous. */
	test_advance(&a, &b, SS_NS_PER_SEC);
	start_init(&a, &init);
	{
		msg want = init;

		remac_init(want.b, ss_identity_public(b.id));
		assert_memory_equal(want.b + SS_INIT_OFF_MAC1, init.b + SS_INIT_OFF_MAC1,
				    SS_MAC_LEN);
	}
	respond(&b, &init, &resp);
	assert_code(consume(&a, &resp, &ka, &res), 0);
	assert_false(res.flags & SS_RESULT_F_LEARNED);
	test_pair_free(&a, &b);
}

static void tofu_initiator_not_accepted(void **state)
{
	test_node a, b;
	struct snap s;
	msg init;

	(void)state;
	tofu_pair_init(&a, &b, false);
	start_init(&a, &init);
	snap_take(&s, &b);
	expect_drop(&b, &b.flow, init.b, init.len, SS_ERR_MAC1, NULL);
	snap_check(&s, &b, 0);
	snap_free(&s);
	test_pair_free(&a, &b);
}

/*
 * ss_peer_add_tofu: INITs stay anonymous even when pinned, so a responder whose key
 * changed still answers and the change is caught (SS_ERR_IDENTITY), not hidden as a
 * timeout behind a mac1 drop.
 */
static void tofu_pinned(void **state)
{
	ss_identity *carol = test_identity("carol");
	uint8_t anon[SS_IDENTITY_LEN] = {0};
	test_node a, b;
	struct snap s;
	ss_result res;
	msg init, resp, ka, want;

	(void)state;
	/* Pinned to the right identity: works, and the INIT is anonymous. */
	test_node_init_anon(&a, "alice", false);
	test_node_init_anon(&b, "bob", true);
	assert_int_equal(ss_peer_add_tofu(a.ctx, ss_identity_public(b.id), &a.peer), 0);
	assert_int_equal(ss_peer_add(b.ctx, ss_identity_public(a.id), &b.peer), 0);
	test_flow_v4(&a.flow, 0x0a000001, 5000, 0x0a000002, 6000, 17);
	test_flow_reverse(&b.flow, &a.flow);
	ss_peer_set_flow(a.peer, &a.flow);
	ss_peer_set_flow(b.peer, &b.flow);
	start_init(&a, &init);
	want = init;
	remac_init(want.b, anon);
	assert_memory_equal(want.b + SS_INIT_OFF_MAC1, init.b + SS_INIT_OFF_MAC1, SS_MAC_LEN);
	respond(&b, &init, &resp);
	assert_code(consume(&a, &resp, &ka, &res), 0);
	assert_true(res.flags & SS_RESULT_F_HANDSHAKE);
	assert_false(res.flags & SS_RESULT_F_LEARNED);
	confirm(&b, &ka);
	test_send(&a, &b, "pinned");
	test_pair_free(&a, &b);

	/* Pinned to carol, bob answers: refused, nothing learned or changed. */
	test_node_init_anon(&a, "alice", false);
	test_node_init_anon(&b, "bob", true);
	assert_int_equal(ss_peer_add_tofu(a.ctx, ss_identity_public(carol), &a.peer), 0);
	assert_int_equal(ss_peer_add(b.ctx, ss_identity_public(a.id), &b.peer), 0);
	ss_peer_set_flow(a.peer, &a.flow);
	ss_peer_set_flow(b.peer, &b.flow);
	start_init(&a, &init);
	respond(&b, &init, &resp);
	snap_take(&s, &a);
	expect_drop(&a, &a.flow, resp.b, resp.len, SS_ERR_IDENTITY, a.peer);
	snap_check(&s, &a, 0);
	snap_free(&s);
	assert_memory_equal(ss_peer_identity(a.peer), ss_identity_public(carol), SS_IDENTITY_LEN);
	assert_false(ss_peer_has_session(a.peer));
	test_pair_free(&a, &b);

	/* Unpinned: learns, and later INITs are still anonymous. */
	test_node_init_anon(&a, "alice", false);
	test_node_init_anon(&b, "bob", true);
	assert_int_equal(ss_peer_add_tofu(a.ctx, NULL, &a.peer), 0);
	assert_int_equal(ss_peer_add(b.ctx, ss_identity_public(a.id), &b.peer), 0);
	ss_peer_set_flow(a.peer, &a.flow);
	ss_peer_set_flow(b.peer, &b.flow);
	start_init(&a, &init);
	respond(&b, &init, &resp);
	assert_code(consume(&a, &resp, &ka, &res), 0);
	assert_true(res.flags & SS_RESULT_F_LEARNED);
	confirm(&b, &ka);
	test_advance(&a, &b, SS_NS_PER_SEC);
	start_init(&a, &init);
	want = init;
	remac_init(want.b, anon);
	assert_memory_equal(want.b + SS_INIT_OFF_MAC1, init.b + SS_INIT_OFF_MAC1, SS_MAC_LEN);
	test_pair_free(&a, &b);
	ss_identity_free(carol);
}

/* A TOFU peer must not learn its own identity or another configured peer's. */
static void tofu_initiator_identity_checks(void **state)
{
	ss_identity *carol = test_identity("carol");
	const uint8_t *ia;
	ss_peer *ac;
	test_node a, b;
	struct snap s;
	msg init, bad, ka;

	(void)state;
	tofu_pair_init(&a, &b, true);
	ia = ss_identity_public(a.id);
	assert_int_equal(ss_peer_add(a.ctx, ss_identity_public(carol), &ac), 0);
	start_init(&a, &init);
	snap_take(&s, &a);
	forge_response(&bad, init.b, ss_identity_public(carol), carol, ia, "carol eph");
	expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_IDENTITY, a.peer);
	forge_response(&bad, init.b, ia, a.id, ia, "alice eph");
	expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_REFLECTION, a.peer);
	snap_check(&s, &a, 0);
	snap_free(&s);
	assert_null(ss_peer_identity(a.peer));
	forge_response(&bad, init.b, ss_identity_public(b.id), b.id, ia, "bob eph");
	finish(&a, &bad, &ka);
	assert_memory_equal(ss_peer_identity(a.peer), ss_identity_public(b.id), SS_IDENTITY_LEN);
	ss_identity_free(carol);
	test_pair_free(&a, &b);
}

static void rate_limit(void **state)
{
	test_node a, b;
	struct snap s;
	msg init1, init2, init3, resp;

	(void)state;
	test_pair_init(&a, &b);
	start_init(&a, &init1);
	respond(&b, &init1, &resp);
	/* A second fresh, valid INIT shortly after (a retry forced early). */
	test_advance(&a, &b, SS_HANDSHAKE_MIN_INTERVAL / 5);
	assert_code(ss_handshake_create_init(a.ctx, a.peer, init2.b, sizeof(init2.b), &init2.len),
		    0);
	assert_true(ss_load_be64(init2.b + SS_INIT_OFF_TIMESTAMP) >
		    ss_load_be64(init1.b + SS_INIT_OFF_TIMESTAMP));
	snap_take(&s, &b);
	expect_drop(&b, &b.flow, init2.b, init2.len, SS_ERR_RATE_LIMIT, b.peer);
	snap_check(&s, &b, IGN_LOAD);
	snap_free(&s);
	/* Just before the interval: still limited; at it: accepted (the drop changed nothing). */
	test_advance(&a, &b, SS_HANDSHAKE_MIN_INTERVAL - SS_HANDSHAKE_MIN_INTERVAL / 5 - 1);
	expect_drop(&b, &b.flow, init2.b, init2.len, SS_ERR_RATE_LIMIT, b.peer);
	test_advance(&a, &b, 1);
	respond(&b, &init2, &resp);
	/* And the interval starts again from this acceptance. */
	assert_code(ss_handshake_create_init(a.ctx, a.peer, init3.b, sizeof(init3.b), &init3.len),
		    0);
	expect_drop(&b, &b.flow, init3.b, init3.len, SS_ERR_RATE_LIMIT, b.peer);
	test_pair_free(&a, &b);
}

/* =========================================================================
 * drops_counted*: section 10.
 * ========================================================================= */

static void drops_counted(void **state)
{
	ss_identity *carol = test_identity("carol");
	static const uint8_t junk[3];
	int drops_a = 0, drops_b = 0;
	test_node a, b;
	ss_peer_stats pa, pb;
	ss_ctx_stats ca, cb;
	struct hs_msgs h;
	msg m, m2, init, bad, out;
	ss_result res;
	ss_flow f;

	(void)state;
	test_pair_init(&a, &b);
	handshake_capture(&a, &b, &h);

	/* Not attributable: counted at B's context. */
	expect_drop(&b, &b.flow, junk, sizeof(junk), SS_ERR_MALFORMED, NULL);
	drops_b++;
	bad = h.init;
	bad.b[SS_INIT_OFF_MAC1] ^= 1;
	expect_drop(&b, &b.flow, bad.b, bad.len, SS_ERR_MAC1, NULL);
	drops_b++;
	seal_str(&a, "x", &m);
	bad = m;
	bad.b[SS_DATA_OFF_RECEIVER] ^= 1;
	expect_drop(&b, &b.flow, bad.b, bad.len, SS_ERR_UNKNOWN_INDEX, NULL);
	drops_b++;
	bad = h.init;
	memcpy(bad.b + SS_INIT_OFF_IDENTITY, ss_identity_public(b.id), SS_IDENTITY_LEN);
	remac_init(bad.b, ss_identity_public(b.id));
	expect_drop(&b, &b.flow, bad.b, bad.len, SS_ERR_REFLECTION, NULL);
	drops_b++;
	bad = h.init;
	memcpy(bad.b + SS_INIT_OFF_IDENTITY, ss_identity_public(carol), SS_IDENTITY_LEN);
	remac_init(bad.b, ss_identity_public(b.id));
	expect_drop(&b, &b.flow, bad.b, bad.len, SS_ERR_SIGNATURE, NULL);
	drops_b++;

	/* Attributable to A at B. */
	expect_drop(&b, &b.flow, h.init.b, h.init.len, SS_ERR_STALE, b.peer);
	drops_b++;
	expect_drop(&b, &b.flow, h.ka.b, h.ka.len, SS_ERR_REPLAY, b.peer);
	drops_b++;
	f = b.flow;
	f.remote_port = 1;
	expect_drop(&b, &f, m.b, m.len, SS_ERR_FLOW, b.peer);
	drops_b++;
	bad = m;
	bad.b[bad.len - 1] ^= 1;
	expect_drop(&b, &b.flow, bad.b, bad.len, SS_ERR_DECRYPT, b.peer);
	drops_b++;
	open_str(&b, &m, "x");
	a.peer->current->tx_next += SS_REPLAY_WINDOW + 10;
	seal_str(&a, "y", &m2);
	open_str(&b, &m2, "y");
	expect_drop(&b, &b.flow, m2.b, m2.len, SS_ERR_REPLAY, b.peer);
	drops_b++;
	expect_drop(&b, &b.flow, m.b, m.len, SS_ERR_TOO_OLD, b.peer);
	drops_b++;
	seal_raw_counter(&a, SS_REJECT_AFTER_MESSAGES, &m2);
	expect_drop(&b, &b.flow, m2.b, m2.len, SS_ERR_EXPIRED, b.peer);
	drops_b++;
	test_advance(&a, &b, SS_NS_PER_SEC);
	assert_code(ss_handshake_create_init(a.ctx, a.peer, init.b, sizeof(init.b), &init.len), 0);
	respond(&b, &init, &out);
	assert_code(ss_handshake_create_init(a.ctx, a.peer, init.b, sizeof(init.b), &init.len), 0);
	expect_drop(&b, &b.flow, init.b, init.len, SS_ERR_RATE_LIMIT, b.peer);
	drops_b++;
	test_advance(&a, &b, SS_NS_PER_SEC);
	bad = init;
	bad.b[SS_INIT_OFF_SIG] ^= 1;
	remac_init(bad.b, ss_identity_public(b.id));
	expect_drop(&b, &b.flow, bad.b, bad.len, SS_ERR_SIGNATURE, b.peer);
	drops_b++;

	/* Attributable to B at A (its pending INIT and its session). */
	forge_response(&bad, init.b, ss_identity_public(carol), carol, ss_identity_public(a.id),
		       "carol eph");
	expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_IDENTITY, a.peer);
	drops_a++;
	respond(&b, &init, &out);
	bad = out;
	bad.b[SS_RESP_OFF_CONFIRM] ^= 1;
	remac_resp(bad.b, ss_identity_public(a.id));
	expect_drop(&a, &a.flow, bad.b, bad.len, SS_ERR_CONFIRM, a.peer);
	drops_a++;
	/* B's current is still the first session (its new one is unconfirmed), as is A's. */
	forge_echo(&b, UINT64_C(1) << 40, 0, &m2);
	expect_divergence(&a, &b, &m2); /* SS_ERR_DIVERGENCE, then SS_ERR_UNKNOWN_INDEX */
	drops_a += 2;

	/* SS_ERR_COOKIE is counted at the context, and answered. */
	ss_ctx_set_under_load(b.ctx, true);
	test_advance(&a, &b, SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
	assert_int_equal(tick(&a, &init), SS_TICK_HANDSHAKE);
	expect_cookie_reply(&b, &b.flow, &init, &out);
	drops_b++;

	/* Errors that are not drop reasons are not counted. */
	assert_code(ss_ctx_consume(b.ctx, &b.flow, init.b, init.len, out.b, 10, &res),
		    SS_ERR_BUFFER);
	assert_code(ss_ctx_consume(b.ctx, NULL, init.b, init.len, out.b, sizeof(out.b), &res),
		    SS_ERR_INVAL);

	assert_int_equal(total_drops(a.ctx), drops_a);
	assert_int_equal(total_drops(b.ctx), drops_b);
	ss_peer_get_stats(a.peer, &pa);
	ss_peer_get_stats(b.peer, &pb);
	ss_ctx_get_stats(a.ctx, &ca);
	ss_ctx_get_stats(b.ctx, &cb);
	assert_int_equal(pa.drops[ss_drop_index(SS_ERR_DIVERGENCE)], 1);
	assert_int_equal(ca.drops[ss_drop_index(SS_ERR_UNKNOWN_INDEX)], 1);
	assert_int_equal(pb.drops[ss_drop_index(SS_ERR_REPLAY)], 2);
	assert_int_equal(pb.drops[ss_drop_index(SS_ERR_SIGNATURE)], 1);
	assert_int_equal(cb.drops[ss_drop_index(SS_ERR_SIGNATURE)], 1);
	assert_int_equal(cb.drops[ss_drop_index(SS_ERR_COOKIE)], 1);
	assert_int_equal(cb.cookies_sent, 1);
	assert_int_equal(ss_drop_index(SS_ERR_BUFFER), -1);
	assert_int_equal(ss_drop_index(SS_OK), -1);
	assert_int_equal(ss_drop_index(SS_ERR_MALFORMED), 0);
	assert_int_equal(ss_drop_index(SS_ERR_KEY_EXHAUSTED), SS_DROP_COUNT - 1);
	for (int code = SS_DROP_FIRST; code >= SS_DROP_LAST; code--)
		assert_string_not_equal(ss_err_name(code), "SS_ERR_UNKNOWN");
	ss_identity_free(carol);
	test_pair_free(&a, &b);
}

/*
 * Section 10: a drop is counted at the peer when its receiver index resolved to that
 * peer's handshake or session. A duplicate RESPONSE (index now names a session) and a
 * DATA packet sent to a pending INIT's index both resolve to a peer.
 */
static void drops_counted_resolved_index(void **state)
{
	const ss_peer *w[3];
	test_node a, b;
	struct hs_msgs h;
	msg init, d;

	(void)state;
	test_pair_init(&a, &b);
	handshake_capture(&a, &b, &h);
	/* A duplicate RESPONSE: its index now names A's session. */
	assert_code(drop_any(&a, &a.flow, h.resp.b, h.resp.len, &w[0]), SS_ERR_UNKNOWN_INDEX);
	/* A COOKIE REPLY for the completed INIT: same index. */
	forge_cookie(&d, h.init.b, ss_identity_public(b.id), h.init.b + SS_INIT_OFF_MAC1);
	assert_code(drop_any(&a, &a.flow, d.b, d.len, &w[1]), SS_ERR_UNKNOWN_INDEX);
	/* DATA addressed to the index of A's pending INIT. */
	test_advance(&a, &b, SS_NS_PER_SEC);
	start_init(&a, &init);
	seal_str(&b, "to the pending index", &d);
	ss_store_be32(d.b + SS_DATA_OFF_RECEIVER, a.peer->hs.index);
	assert_code(drop_any(&a, &a.flow, d.b, d.len, &w[2]), SS_ERR_UNKNOWN_INDEX);
	/* An index that resolves to the peer, but to the wrong kind of entry: the peer's. */
	for (int i = 0; i < 3; i++)
		if (w[i] != a.peer)
			fail_msg("case %d counted at %s, want the peer", i,
				 w[i] ? "another peer" : "the context");
	test_pair_free(&a, &b);
}

int main(void)
{
	const struct CMUnitTest tamper[] = {
		cmocka_unit_test(tamper_every_byte_init),
		cmocka_unit_test(tamper_every_byte_init_under_load),
		cmocka_unit_test(tamper_every_byte_response),
		cmocka_unit_test(tamper_every_byte_cookie),
		cmocka_unit_test(tamper_every_byte_data),
		cmocka_unit_test(tamper_every_byte_control),
	};
	const struct CMUnitTest replay[] = {
		cmocka_unit_test(replay_init),	    cmocka_unit_test(replay_init_after_restart),
		cmocka_unit_test(replay_response),  cmocka_unit_test(replay_data),
		cmocka_unit_test(replay_keepalive), cmocka_unit_test(replay_cookie),
	};
	const struct CMUnitTest reflect[] = {
		cmocka_unit_test(reflect_init),	   cmocka_unit_test(reflect_response),
		cmocka_unit_test(reflect_cookie),  cmocka_unit_test(reflect_data),
		cmocka_unit_test(reflect_control),
	};
	const struct CMUnitTest identity[] = {
		cmocka_unit_test(swap_identity_init),
		cmocka_unit_test(swap_identity_response),
		cmocka_unit_test(misbinding_response),
		cmocka_unit_test(unknown_peer),
		cmocka_unit_test(tofu_initiator),
		cmocka_unit_test(tofu_initiator_not_accepted),
		cmocka_unit_test(tofu_initiator_identity_checks),
		cmocka_unit_test(tofu_pinned),
		cmocka_unit_test(small_order_identity_init),
		cmocka_unit_test(small_order_identity_response),
	};
	const struct CMUnitTest epochs[] = {
		cmocka_unit_test(old_epoch),
		cmocka_unit_test(expired_session),
	};
	const struct CMUnitTest counters[] = {
		cmocka_unit_test(window_exceed),
		cmocka_unit_test(window_exceed_jump),
		cmocka_unit_test(wrap_attempt),
		cmocka_unit_test(wrap_attempt_exhausted_code),
		cmocka_unit_test(wrap_attempt_rekey_after_messages),
	};
	const struct CMUnitTest flows[] = {
		cmocka_unit_test(flow_binding),
		cmocka_unit_test(flow_binding_roaming),
	};
	const struct CMUnitTest cookies[] = {
		cmocka_unit_test(cookie_under_load),
		cmocka_unit_test(cookie_under_load_forged_reply),
		cmocka_unit_test(cookie_under_load_automatic),
		cmocka_unit_test(cookie_under_load_anonymous),
	};
	const struct CMUnitTest echo[] = {
		cmocka_unit_test(echo_divergence_normal),
		cmocka_unit_test(echo_divergence_ahead),
		cmocka_unit_test(echo_divergence_regression),
		cmocka_unit_test(echo_divergence_reordered),
		cmocka_unit_test(echo_divergence_malformed_plaintext),
		cmocka_unit_test(echo_divergence_no_echo_storm),
	};
	const struct CMUnitTest version[] = {
		cmocka_unit_test(version_and_type_every_type),
		cmocka_unit_test(version_and_type_version),
		cmocka_unit_test(version_and_type_truncated),
		cmocka_unit_test(version_and_type_no_plaintext),
	};
	const struct CMUnitTest dos[] = {
		cmocka_unit_test(rate_limit),
	};
	const struct CMUnitTest drops[] = {
		cmocka_unit_test(drops_counted),
		cmocka_unit_test(drops_counted_resolved_index),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("tamper_every_byte", tamper, NULL, NULL);
	failed += cmocka_run_group_tests_name("replay", replay, NULL, NULL);
	failed += cmocka_run_group_tests_name("reflect", reflect, NULL, NULL);
	failed += cmocka_run_group_tests_name("identity_binding", identity, NULL, NULL);
	failed += cmocka_run_group_tests_name("epoch_isolation", epochs, NULL, NULL);
	failed += cmocka_run_group_tests_name("counters", counters, NULL, NULL);
	failed += cmocka_run_group_tests_name("flow_binding", flows, NULL, NULL);
	failed += cmocka_run_group_tests_name("cookie_under_load", cookies, NULL, NULL);
	failed += cmocka_run_group_tests_name("echo_divergence", echo, NULL, NULL);
	failed += cmocka_run_group_tests_name("version_and_type", version, NULL, NULL);
	failed += cmocka_run_group_tests_name("rate_limit", dos, NULL, NULL);
	failed += cmocka_run_group_tests_name("drops_counted", drops, NULL, NULL);
	return failed;
}
