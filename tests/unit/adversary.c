/* SPDX-License-Identifier: MIT */
#include "adversary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/endian.h"
#include "internal.h"

static uint8_t g_out[SS_MAX_PACKET];
const uint8_t zero_id[SS_IDENTITY_LEN];

/* ---- drop counters ---- */

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

static ss_table_slot *dup_slots(const ss_table *t)
{
	size_t len = ((size_t)t->mask + 1) * sizeof(ss_table_slot);
	ss_table_slot *s = malloc(len);

	assert_non_null(s);
	memcpy(s, t->slots, len);
	return s;
}

void snap_take(struct snap *s, const test_node *n)
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

void snap_free(struct snap *s)
{
	free(s->by_index);
	free(s->by_identity);
}

/* Nothing but counters (and, if asked, load and cookie-secret bookkeeping) changed. */
void snap_check(const struct snap *s, const test_node *n, unsigned ign)
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
		c0.proven_tat = c1.proven_tat = 0;
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
int drop_any(test_node *n, const ss_flow *f, const uint8_t *p, size_t len, const ss_peer **where)
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

void expect_drop(test_node *n, const ss_flow *f, const uint8_t *p, size_t len, int code,
		 const ss_peer *attributed)
{
	const ss_peer *w;

	assert_code(drop_any(n, f, p, len, &w), code);
	assert_ptr_equal(w, attributed);
}

void expect_drop_unchanged(test_node *n, const ss_flow *f, const uint8_t *p, size_t len, int code,
			   const ss_peer *attributed, unsigned ign)
{
	struct snap s;

	snap_take(&s, n);
	expect_drop(n, f, p, len, code, attributed);
	snap_check(&s, n, ign);
	snap_free(&s);
}

/* Under load: the INIT is answered with a COOKIE REPLY, counted as SS_ERR_COOKIE. */
void expect_cookie_reply(test_node *n, const ss_flow *f, const msg *init, msg *out)
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

void restarted_node(test_node *b2, const test_node *b, const test_node *a)
{
	test_node_init(b2, "bob", 4);
	b2->clock = b->clock;
	assert_int_equal(ss_peer_add(b2->ctx, ss_identity_public(a->id), &b2->peer), 0);
	b2->flow = b->flow;
	ss_peer_set_flow(b2->peer, &b2->flow);
}

void cookie_pending(test_node *a, test_node *b, msg *init, msg *cookie)
{
	ss_ctx_set_under_load(b->ctx, true);
	start_init(a, init);
	expect_cookie_reply(b, &b->flow, init, cookie);
}

void cookie_retry(test_node *a, test_node *b, msg *init)
{
	ss_result res;
	msg cookie, out;

	cookie_pending(a, b, init, &cookie);
	assert_code(consume(a, &cookie, &out, &res), 0);
	assert_true(a->peer->has_cookie);
	test_advance(a, b, SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
	assert_int_equal(tick(a, init), SS_TICK_HANDSHAKE);
	assert_false(ss_ct_equal(init->b + SS_INIT_OFF_MAC2, zero_id, SS_MAC_LEN));
}

/* A CONTROL packet with any 24-byte plaintext, authenticated on n's current session. */
void seal_control(test_node *n, const uint8_t pt[SS_CTL_LEN], msg *m)
{
	assert_code(ss_session_seal(n->ctx, n->peer, n->peer->current, SS_MSG_CONTROL, pt,
				    SS_CTL_LEN, m->b, sizeof(m->b), &m->len),
		    0);
}

void forge_echo(test_node *n, uint64_t rx_next, uint64_t rx_packets, msg *m)
{
	uint8_t pt[SS_CTL_LEN] = {SS_CTL_ECHO};

	ss_store_be64(pt + SS_CTL_OFF_RX_NEXT, rx_next);
	ss_store_be64(pt + SS_CTL_OFF_RX_PACKETS, rx_packets);
	seal_control(n, pt, m);
}

/* ---- nodes and forgeries ---- */

/* A (TOFU peer towards B, identity unknown) and B (accepts anonymous INITs, knows A). */
void tofu_pair_init(test_node *a, test_node *b, bool b_accepts_anonymous)
{
	test_node_init_anon(a, "alice", false);
	test_node_init_anon(b, "bob", b_accepts_anonymous);
	assert_int_equal(ss_peer_add(a->ctx, NULL, &a->peer), 0);
	assert_int_equal(ss_peer_add(b->ctx, ss_identity_public(a->id), &b->peer), 0);
	test_pair_flows(a, b);
}

int tofu_setup(void **state)
{
	test_pair *p = calloc(1, sizeof(*p));

	if (!p)
		return -1;
	tofu_pair_init(&p->a, &p->b, true);
	*state = p;
	return 0;
}

/* The identity point (y = 1), of order 1: anyone can sign as it (section 12). */
const uint8_t identity_point[SS_IDENTITY_LEN] = {1};

/*
 * R = the identity, S = 0: under identity_point, [S]B = R + [k]A holds for every
 * message; under the other small-order keys for a fraction of messages.
 */
void universal_sig(uint8_t sig[SS_SIG_LEN])
{
	memset(sig, 0, SS_SIG_LEN);
	sig[0] = 1;
}

/* Recompute mac1 the way anyone can: its key derives from the public R* or I. */
void remac_init(uint8_t *init, const uint8_t *responder)
{
	uint8_t key[SS_HASH_LEN];

	assert_int_equal(ss_mac1_key(key, responder), 0);
	assert_int_equal(
		ss_mac16(init + SS_INIT_OFF_MAC1, key, sizeof(key), init, SS_INIT_OFF_MAC1), 0);
}

void remac_resp(uint8_t *resp, const uint8_t *initiator)
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
void forge_response(msg *m, const uint8_t *init, const uint8_t *ident, const ss_identity *signer,
		    const uint8_t *initiator, const char *label)
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
void forge_cookie(msg *m, const uint8_t *init, const uint8_t *key_id, const uint8_t *aad_mac1)
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

void copy_flip(msg *dst, const msg *src, size_t pos, uint8_t mask)
{
	dst->len = src->len;
	memcpy(dst->b, src->b, src->len);
	dst->b[pos] ^= mask;
}

void flip_each(test_node *n, const msg *src, size_t from, size_t to, flip_probe probe, unsigned ign)
{
	struct snap s;
	msg bad;

	snap_take(&s, n);
	for (size_t pos = from; pos < to; pos++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			copy_flip(&bad, src, pos, masks[m]);
			probe(n, &bad, pos);
			snap_check(&s, n, ign);
		}
	}
	snap_free(&s);
}

const uint8_t masks[2] = {0x01, 0x80};

bool adv_code_in(int code, const int *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (code == set[i])
			return true;
	return false;
}

/*
 * A packet sent back to its sender: its index is the peer's (UNKNOWN_INDEX). Even an
 * attacker who rewrites it to the sender's own index, or a chance collision, cannot
 * make it open: the two directions use different keys (v1 correction 1).
 */
void reflect_packet(test_node *a, test_node *b, const msg *p)
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

void expect_divergence(test_node *a, test_node *b, const msg *echo)
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

void seal_raw_counter(test_node *n, uint64_t counter, msg *m)
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
