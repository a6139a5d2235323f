/* SPDX-License-Identifier: MIT */
/*
 * Adversarial tests, Every message type at once (section 3.1, 10): versions, types, lengths, and
 * which drop counter each drop moves. The attacker's tools and the checks (expect_drop,
 * snap_take/snap_check, forgeries) are in adversary.h; the conventions are there too.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "adversary.h"

#include "common/crypto.h"
#include "common/endian.h"
#include "internal.h"

/* =========================================================================
 * version_and_type_*: invariants 2 and 10, section 3.1.
 * ========================================================================= */

struct target {
	const msg *m;
	test_node *to;
};

struct all_msgs {
	test_node b2; /* a second "bob" (same identity) that has not seen the INIT */
	msg init, resp, cookie, data, control;
	struct target t[5]; /* each message and its receiver (targets) */
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
	restarted_node(&m->b2, b, a);
	targets(m->t, m, a, b);
}

/* Every target is still accepted: nothing the test did before changed state. */
static void targets_still_accepted(struct all_msgs *m)
{
	for (int i = 0; i < 5; i++) {
		ss_result res;
		msg out;

		assert_code(consume(m->t[i].to, m->t[i].m, &out, &res), 0);
	}
	test_node_free(&m->b2);
}

/* m with byte pos set to v is dropped at to as malformed. */
static void expect_byte_malformed(test_node *to, const msg *m, size_t pos, uint8_t v)
{
	msg bad = *m;

	bad.b[pos] = v;
	expect_drop(to, &to->flow, bad.b, bad.len, SS_ERR_MALFORMED, NULL);
}

/* probe on each target, which must leave its receiver unchanged (snap_check). */
static void each_target(struct all_msgs *m, void (*probe)(const struct target *t))
{
	for (int i = 0; i < 5; i++) {
		struct snap s;

		snap_take(&s, m->t[i].to);
		probe(&m->t[i]);
		snap_check(&s, m->t[i].to, 0);
		snap_free(&s);
	}
}

static void wrong_type(const struct target *t)
{
	msg bad;

	for (int type = 0; type < 256; type++) {
		if (type >= SS_MSG_INIT && type <= SS_MSG_CONTROL)
			continue;
		/* Long enough for a relayed datagram (PROTOCOL.md 16.8): header and AEAD decide. */
		if (type == SS_MSG_RELAY && t->m->len >= SS_RELAY_MIN_LEN) {
			bad = *t->m;
			bad.b[0] = SS_MSG_RELAY;
			assert_code_in(drop_any(t->to, &t->to->flow, bad.b, bad.len, NULL),
				       SS_ERR_DECRYPT, SS_ERR_UNKNOWN_INDEX);
			continue;
		}
		expect_byte_malformed(t->to, t->m, 0, (uint8_t)type);
	}
	/* A valid type with another message's length. */
	for (int type = SS_MSG_INIT; type <= SS_MSG_CONTROL; type++) {
		int ret;

		if (type == t->m->b[0] || (type == SS_MSG_DATA && t->m->len >= 32))
			continue;
		bad = *t->m;
		bad.b[0] = (uint8_t)type;
		ret = drop_any(t->to, &t->to->flow, bad.b, bad.len, NULL);
		if (type == SS_MSG_CONTROL && bad.len == SS_DATA_OVERHEAD + SS_CTL_LEN)
			assert_code_in(ret, SS_ERR_DECRYPT, SS_ERR_UNKNOWN_INDEX);
		else
			assert_code(ret, SS_ERR_MALFORMED);
	}
}

static void version_and_type_every_type(void **state)
{
	struct all_msgs m;
	test_pair *pair = *state;

	all_msgs_make(&pair->a, &pair->b, &m);
	each_target(&m, wrong_type);
	targets_still_accepted(&m);
}

static void wrong_version(const struct target *t)
{
	static const uint8_t versions[] = {0, 1, 3, 4, 0x12, 0x20, 0x82, 0xff};

	for (size_t v = 0; v < sizeof(versions); v++)
		expect_byte_malformed(t->to, t->m, 1, versions[v]);
	/* Reserved bytes: each bit. */
	for (int pos = 2; pos < SS_PREFIX_LEN; pos++)
		for (int bit = 0; bit < 8; bit++)
			expect_byte_malformed(t->to, t->m, (size_t)pos, (uint8_t)(1u << bit));
}

static void version_and_type_version(void **state)
{
	struct all_msgs m;
	test_pair *pair = *state;
	test_node *b = &pair->b;
	msg bad;

	all_msgs_make(&pair->a, b, &m);
	each_target(&m, wrong_version);
	/* v1 traffic (section 8): version first, type second; its 144-byte RESPONSE. */
	bad = m.data;
	bad.b[0] = 0x01;
	bad.b[1] = 0x03;
	expect_drop(b, &b->flow, bad.b, bad.len, SS_ERR_MALFORMED, NULL);
	bad = m.init;
	bad.b[0] = 0x01;
	bad.b[1] = 0x01;
	expect_drop(b, &b->flow, bad.b, bad.len, SS_ERR_MALFORMED, NULL);
	bad = m.init;
	bad.len = 144;
	expect_drop(b, &b->flow, bad.b, bad.len, SS_ERR_MALFORMED, NULL);
	targets_still_accepted(&m);
}

/* Every length but the right one, each in a buffer of exactly that size. */
static void truncated(const struct target *t)
{
	size_t full = t->m->len;

	for (size_t len = 0; len <= full + 16; len++) {
		uint8_t *p;
		int ret;

		if (len == full)
			continue;
		p = malloc(len ? len : 1);
		assert_non_null(p);
		memcpy(p, t->m->b, len < full ? len : full);
		if (len > full)
			memset(p + full, 0, len - full);
		ret = drop_any(t->to, &t->to->flow, p, len, NULL);
		if (t->m->b[0] == SS_MSG_DATA && len >= SS_DATA_MIN_LEN)
			assert_code(ret, SS_ERR_DECRYPT); /* another valid DATA length */
		else
			assert_code(ret, SS_ERR_MALFORMED);
		free(p);
	}
}

/*
 * Every truncated (and some extended) length. Each copy lives in a heap block of
 * exactly that size so that ASan or valgrind reports any read past the end.
 * (This caught an INIT timestamp read before the length check, under ASan.)
 */
static void version_and_type_truncated(void **state)
{
	struct all_msgs m;
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;

	all_msgs_make(a, b, &m);
	each_target(&m, truncated);
	/* Longer than any DATA packet can be. */
	{
		uint8_t *p = calloc(1, SS_MAX_PACKET + 1);

		assert_non_null(p);
		memcpy(p, m.data.b, SS_DATA_HDR_LEN);
		expect_drop(b, &b->flow, p, SS_MAX_PACKET + 1, SS_ERR_MALFORMED, NULL);
		free(p);
	}
	targets_still_accepted(&m);
}

/* No plaintext path: raw IP, or a DATA header followed by cleartext, is never delivered. */
static void version_and_type_no_plaintext(void **state)
{
	static const uint8_t ipv4[28] = {0x45, 0,    0,	   28,	 0x12, 0x34, 0x40, 0, 64, 17,
					 0,    0,    10,   0,	 0,    1,    10,   0, 0,  2,
					 0x13, 0x88, 0x17, 0x70, 0,    8,    0,	   0};
	static const uint8_t ipv6[48] = {0x60, 0, 0, 0, 0, 8, 17, 64};
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg d, fake;
	const char *clear = "GET / HTTP/1.0\r\n\r\n plus some bytes to pass the length";

	test_handshake(a, b);
	expect_drop(b, &b->flow, ipv4, sizeof(ipv4), SS_ERR_MALFORMED, NULL);
	expect_drop(b, &b->flow, ipv6, sizeof(ipv6), SS_ERR_MALFORMED, NULL);
	seal_str(a, "x", &d);
	memcpy(fake.b, d.b, SS_DATA_HDR_LEN);
	memcpy(fake.b + SS_DATA_HDR_LEN, clear, strlen(clear));
	fake.len = SS_DATA_HDR_LEN + strlen(clear);
	expect_drop(b, &b->flow, fake.b, fake.len, SS_ERR_DECRYPT, b->peer);
	/* Zero tag, zero key material: still nothing. */
	memset(fake.b + SS_DATA_HDR_LEN, 0, SS_TAG_LEN);
	fake.len = SS_DATA_OVERHEAD;
	expect_drop(b, &b->flow, fake.b, fake.len, SS_ERR_DECRYPT, b->peer);
	open_str(b, &d, "x");
}

/* =========================================================================
 * drops_counted*: section 10.
 * ========================================================================= */

/* drops_counted: two nodes after one handshake, and the drops each should have counted. */
struct drops_case {
	test_node a, b;
	ss_identity *carol;
	struct hs_msgs h;
	msg m, init, out;
	int drops_a, drops_b;
};

/* Not attributable: counted at B's context. */
static void drops_at_context(struct drops_case *c)
{
	static const uint8_t junk[3];
	test_node *b = &c->b;
	msg bad;

	expect_drop(b, &b->flow, junk, sizeof(junk), SS_ERR_MALFORMED, NULL);
	bad = c->h.init;
	bad.b[SS_INIT_OFF_MAC1] ^= 1;
	expect_drop(b, &b->flow, bad.b, bad.len, SS_ERR_MAC1, NULL);
	seal_str(&c->a, "x", &c->m);
	bad = c->m;
	bad.b[SS_DATA_OFF_RECEIVER] ^= 1;
	expect_drop(b, &b->flow, bad.b, bad.len, SS_ERR_UNKNOWN_INDEX, NULL);
	bad = c->h.init;
	memcpy(bad.b + SS_INIT_OFF_IDENTITY, ss_identity_public(b->id), SS_IDENTITY_LEN);
	remac_init(bad.b, ss_identity_public(b->id));
	expect_drop(b, &b->flow, bad.b, bad.len, SS_ERR_REFLECTION, NULL);
	bad = c->h.init;
	memcpy(bad.b + SS_INIT_OFF_IDENTITY, ss_identity_public(c->carol), SS_IDENTITY_LEN);
	remac_init(bad.b, ss_identity_public(b->id));
	expect_drop(b, &b->flow, bad.b, bad.len, SS_ERR_SIGNATURE, NULL);
	c->drops_b += 5;
}

/* Attributable to A at B: its handshake messages and its session's packets. */
static void drops_at_peer(struct drops_case *c)
{
	test_node *a = &c->a, *b = &c->b;
	msg m2, bad;
	ss_flow f;

	expect_drop(b, &b->flow, c->h.init.b, c->h.init.len, SS_ERR_STALE, b->peer);
	expect_drop(b, &b->flow, c->h.ka.b, c->h.ka.len, SS_ERR_REPLAY, b->peer);
	f = b->flow;
	f.remote_port = 1;
	expect_drop(b, &f, c->m.b, c->m.len, SS_ERR_FLOW, b->peer);
	bad = c->m;
	bad.b[bad.len - 1] ^= 1;
	expect_drop(b, &b->flow, bad.b, bad.len, SS_ERR_DECRYPT, b->peer);
	open_str(b, &c->m, "x");
	a->peer->current->tx_next += SS_REPLAY_WINDOW + 10;
	seal_str(a, "y", &m2);
	open_str(b, &m2, "y");
	expect_drop(b, &b->flow, m2.b, m2.len, SS_ERR_REPLAY, b->peer);
	expect_drop(b, &b->flow, c->m.b, c->m.len, SS_ERR_TOO_OLD, b->peer);
	seal_raw_counter(a, SS_REJECT_AFTER_MESSAGES, &m2);
	expect_drop(b, &b->flow, m2.b, m2.len, SS_ERR_EXPIRED, b->peer);
	c->drops_b += 7;
}

/* Attributable to A at B: INITs limited by rate, or badly signed by a known identity. */
static void drops_at_peer_init(struct drops_case *c)
{
	test_node *a = &c->a, *b = &c->b;
	msg *init = &c->init, bad;

	test_advance(a, b, SS_NS_PER_SEC);
	assert_code(ss_handshake_create_init(a->ctx, a->peer, init->b, sizeof(init->b), &init->len),
		    0);
	respond(b, init, &c->out);
	assert_code(ss_handshake_create_init(a->ctx, a->peer, init->b, sizeof(init->b), &init->len),
		    0);
	expect_drop(b, &b->flow, init->b, init->len, SS_ERR_RATE_LIMIT, b->peer);
	test_advance(a, b, SS_NS_PER_SEC);
	bad = *init;
	bad.b[SS_INIT_OFF_SIG] ^= 1;
	remac_init(bad.b, ss_identity_public(b->id));
	expect_drop(b, &b->flow, bad.b, bad.len, SS_ERR_SIGNATURE, b->peer);
	c->drops_b += 2;
}

/* Attributable to B at A (its pending INIT and its session). */
static void drops_at_initiator(struct drops_case *c)
{
	test_node *a = &c->a, *b = &c->b;
	msg bad, m2;

	forge_response(&bad, c->init.b, ss_identity_public(c->carol), c->carol,
		       ss_identity_public(a->id), "carol eph");
	expect_drop(a, &a->flow, bad.b, bad.len, SS_ERR_IDENTITY, a->peer);
	respond(b, &c->init, &c->out);
	bad = c->out;
	bad.b[SS_RESP_OFF_CONFIRM] ^= 1;
	remac_resp(bad.b, ss_identity_public(a->id));
	expect_drop(a, &a->flow, bad.b, bad.len, SS_ERR_CONFIRM, a->peer);
	/* B's current is still the first session (its new one is unconfirmed), as is A's. */
	forge_echo(b, UINT64_C(1) << 40, 0, &m2);
	expect_divergence(a, b, &m2); /* SS_ERR_DIVERGENCE, then SS_ERR_UNKNOWN_INDEX */
	c->drops_a += 4;
}

/* SS_ERR_COOKIE is counted at the context, and answered; other errors are not drops. */
static void drops_cookie_and_non_drops(struct drops_case *c)
{
	test_node *a = &c->a, *b = &c->b;
	ss_result res;

	ss_ctx_set_under_load(b->ctx, true);
	test_advance(a, b, SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
	assert_int_equal(tick(a, &c->init), SS_TICK_HANDSHAKE);
	expect_cookie_reply(b, &b->flow, &c->init, &c->out);
	c->drops_b++;
	assert_code(ss_ctx_consume(b->ctx, &b->flow, c->init.b, c->init.len, c->out.b, 10, &res),
		    SS_ERR_BUFFER);
	assert_code(ss_ctx_consume(b->ctx, NULL, c->init.b, c->init.len, c->out.b, sizeof(c->out.b),
				   &res),
		    SS_ERR_INVAL);
}

static void drops_check_totals(const struct drops_case *c)
{
	ss_peer_stats pa, pb;
	ss_ctx_stats ca, cb;

	assert_int_equal(total_drops(c->a.ctx), c->drops_a);
	assert_int_equal(total_drops(c->b.ctx), c->drops_b);
	ss_peer_get_stats(c->a.peer, &pa);
	ss_peer_get_stats(c->b.peer, &pb);
	ss_ctx_get_stats(c->a.ctx, &ca);
	ss_ctx_get_stats(c->b.ctx, &cb);
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
	assert_int_equal(ss_drop_index(SS_ERR_RELAY), SS_DROP_COUNT - 1);
	for (int code = SS_DROP_FIRST; code >= SS_DROP_LAST; code--)
		assert_string_not_equal(ss_err_name(code), "SS_ERR_UNKNOWN");
}

static void drops_counted(void **state)
{
	struct drops_case *c = calloc(1, sizeof(*c));

	(void)state;
	assert_non_null(c);
	c->carol = test_identity("carol");
	test_pair_init(&c->a, &c->b);
	handshake_capture(&c->a, &c->b, &c->h);
	drops_at_context(c);
	drops_at_peer(c);
	drops_at_peer_init(c);
	drops_at_initiator(c);
	drops_cookie_and_non_drops(c);
	drops_check_totals(c);
	ss_identity_free(c->carol);
	test_pair_free(&c->a, &c->b);
	free(c);
}

/*
 * Section 10: a drop is counted at the peer when its receiver index resolved to that
 * peer's handshake or session. A duplicate RESPONSE (index now names a session) and a
 * DATA packet sent to a pending INIT's index both resolve to a peer.
 */
static void drops_counted_resolved_index(void **state)
{
	const ss_peer *w[3];
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	struct hs_msgs h;
	msg init, d;

	handshake_capture(a, b, &h);
	/* A duplicate RESPONSE: its index now names A's session. */
	assert_code(drop_any(a, &a->flow, h.resp.b, h.resp.len, &w[0]), SS_ERR_UNKNOWN_INDEX);
	/* A COOKIE REPLY for the completed INIT: same index. */
	forge_cookie(&d, h.init.b, ss_identity_public(b->id), h.init.b + SS_INIT_OFF_MAC1);
	assert_code(drop_any(a, &a->flow, d.b, d.len, &w[1]), SS_ERR_UNKNOWN_INDEX);
	/* DATA addressed to the index of A's pending INIT. */
	test_advance(a, b, SS_NS_PER_SEC);
	start_init(a, &init);
	seal_str(b, "to the pending index", &d);
	ss_store_be32(d.b + SS_DATA_OFF_RECEIVER, a->peer->hs.index);
	assert_code(drop_any(a, &a->flow, d.b, d.len, &w[2]), SS_ERR_UNKNOWN_INDEX);
	/* An index that resolves to the peer, but to the wrong kind of entry: the peer's. */
	for (int i = 0; i < 3; i++)
		if (w[i] != a->peer)
			fail_msg("case %d counted at %s, want the peer", i,
				 w[i] ? "another peer" : "the context");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		pair_test(version_and_type_every_type), pair_test(version_and_type_version),
		pair_test(version_and_type_truncated),	pair_test(version_and_type_no_plaintext),
		cmocka_unit_test(drops_counted),	pair_test(drops_counted_resolved_index)};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
