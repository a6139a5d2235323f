/* SPDX-License-Identifier: MIT */
/*
 * Adversarial tests, DATA messages and keepalives (section 3.6, 7): tampering, replay, reflection,
 * epochs, the replay window, counter limits, expiry and flow binding. The attacker's tools and the
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
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg d, ka;

	test_handshake(a, b);
	seal_str(a, pt, &d);
	tamper_data_common(a, b, &d, pt, strlen(pt));
	/* The other direction, and an empty keepalive. */
	seal_str(b, pt, &d);
	tamper_data_common(b, a, &d, pt, strlen(pt));
	seal(a, NULL, 0, &ka);
	tamper_data_common(a, b, &ka, NULL, 0);
}

static void replay_data(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	struct snap s;
	msg d1, d2;

	seal_str(a, "once", &d1);
	seal_str(a, "twice", &d2);
	open_str(b, &d1, "once");
	open_str(b, &d2, "twice");
	snap_take(&s, b);
	expect_drop(b, &b->flow, d1.b, d1.len, SS_ERR_REPLAY, b->peer);
	expect_drop(b, &b->flow, d2.b, d2.len, SS_ERR_REPLAY, b->peer);
	snap_check(&s, b, 0);
	snap_free(&s);
	seal_str(b, "back", &d1);
	open_str(a, &d1, "back");
	expect_drop(a, &a->flow, d1.b, d1.len, SS_ERR_REPLAY, a->peer);
}

static void replay_keepalive(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	struct hs_msgs h;
	msg ka;

	handshake_capture(a, b, &h);
	expect_drop_unchanged(b, &b->flow, h.ka.b, h.ka.len, SS_ERR_REPLAY, b->peer, 0);
	seal(b, NULL, 0, &ka);
	open_ok(a, &ka, NULL, 0);
	expect_drop(a, &a->flow, ka.b, ka.len, SS_ERR_REPLAY, a->peer);
}

static void reflect_data(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg d;

	seal_str(a, "to bob", &d);
	reflect_packet(a, b, &d);
	open_str(b, &d, "to bob");
	seal_str(b, "to alice", &d);
	reflect_packet(b, a, &d);
	open_str(a, &d, "to alice");
}

/* =========================================================================
 * old_epoch: invariant 5, epoch isolation.
 * ========================================================================= */

static void old_epoch(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	ss_peer_stats st;
	msg old_a, old_b1, old_b2, init, resp, ka, d;

	ss_peer_get_stats(a->peer, &st);
	assert_int_equal(st.epoch, 1);
	ss_peer_get_stats(b->peer, &st);
	assert_int_equal(st.epoch, 1);
	seal_str(a, "old a", &old_a);
	seal_str(b, "old b1", &old_b1);
	seal_str(b, "old b2", &old_b2);

	test_advance(a, b, 2 * SS_HANDSHAKE_MIN_INTERVAL);
	start_init(a, &init);
	respond(b, &init, &resp);
	/* B keeps sending on its current session until the new one is confirmed. */
	seal_str(b, "still old", &d);
	assert_int_equal(ss_load_be32(d.b + SS_DATA_OFF_RECEIVER),
			 ss_load_be32(old_b1.b + SS_DATA_OFF_RECEIVER));
	finish(a, &resp, &ka);
	ss_peer_get_stats(a->peer, &st);
	assert_int_equal(st.epoch, 2);
	/* A's old session is "previous": receive-only until the new epoch delivers. */
	assert_non_null(a->peer->previous);
	open_str(a, &d, "still old");
	seal_str(a, "new a", &d);
	assert_int_equal(ss_load_be64(d.b + SS_DATA_OFF_COUNTER), 1);
	confirm(b, &ka);
	ss_peer_get_stats(b->peer, &st);
	assert_int_equal(st.epoch, 2);
	open_str(b, &d, "new a");
	/* B destroyed the old epoch on confirmation. */
	assert_code_in(drop_any(b, &b->flow, old_a.b, old_a.len, NULL), SS_ERR_UNKNOWN_INDEX,
		       SS_ERR_EXPIRED);
	test_send(b, a, "new b");
	assert_null(a->peer->previous);
	assert_code_in(drop_any(a, &a->flow, old_b1.b, old_b1.len, NULL), SS_ERR_UNKNOWN_INDEX,
		       SS_ERR_EXPIRED);
	assert_code_in(drop_any(a, &a->flow, old_b2.b, old_b2.len, NULL), SS_ERR_UNKNOWN_INDEX,
		       SS_ERR_EXPIRED);
	/* Indices of destroyed sessions are gone: one live index per side. */
	assert_int_equal(a->ctx->by_index.count, 1);
	assert_int_equal(b->ctx->by_index.count, 1);
	test_send(a, b, "epoch 2");
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
	expect_drop_unchanged(&b, &b.flow, m.b, m.len, SS_ERR_TOO_OLD, b.peer, 0);
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
		msg out;
		int ret;

		sealed_at(pk, i, &m);
		ret = consume(&b, &m, &out, &res);
		if (ret) {
			assert_code(ret, SS_ERR_REPLAY);
		} else {
			ss_store_be64(pt, i);
			assert_memory_equal(out.b, pt, sizeof(pt));
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
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg m, late;
	uint64_t c;

	test_handshake(a, b);
	for (size_t j = 0; j < sizeof(jumps) / sizeof(jumps[0]); j++) {
		seal_str(a, "late", &late);
		c = a->peer->current->tx_next;
		a->peer->current->tx_next = c - 1 + jumps[j];
		seal_str(a, "jump", &m);
		open_str(b, &m, "jump");
		if (jumps[j] < SS_REPLAY_WINDOW) {
			open_str(b, &late, "late");
		} else {
			expect_drop(b, &b->flow, late.b, late.len, SS_ERR_TOO_OLD, b->peer);
		}
		/* Every counter just below the new top that was never sent is still fresh. */
		for (uint64_t k = 1; k <= 3 && k < jumps[j]; k++) {
			a->peer->current->tx_next = a->peer->current->tx_next - 1 - k;
			seal_str(a, "gap", &m);
			open_str(b, &m, "gap");
			a->peer->current->tx_next += k;
		}
	}
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
	test_pair *pair = *state;
	test_node *a = &pair->a;
	msg m;
	size_t len;

	a->peer->current->tx_next = SS_REJECT_AFTER_MESSAGES - 1;
	seal_str(a, "last", &m);
	/* PROTOCOL.md 3.6, 4.7, 7.1 and section 10: an exhausted counter is its own code. */
	assert_code(ss_peer_seal(a->ctx, a->peer, (const uint8_t *)"x", 1, m.b, sizeof(m.b), &len,
				 NULL),
		    SS_ERR_KEY_EXHAUSTED);
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
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg early, m;
	size_t len;
	uint64_t created;

	created = a->peer->current->created_ns;
	assert_int_equal(created, b->peer->current->created_ns);
	test_advance(a, b, SS_REJECT_AFTER_TIME - 1);
	seal_str(a, "sealed in time", &early);
	test_send(a, b, "still alive");
	test_send(b, a, "still alive");
	test_advance(a, b, 1);
	assert_code(ss_peer_seal(a->ctx, a->peer, (const uint8_t *)"x", 1, m.b, sizeof(m.b), &len,
				 NULL),
		    SS_ERR_NO_SESSION);
	assert_code(ss_peer_seal(b->ctx, b->peer, (const uint8_t *)"x", 1, m.b, sizeof(m.b), &len,
				 NULL),
		    SS_ERR_NO_SESSION);
	expect_drop_unchanged(b, &b->flow, early.b, early.len, SS_ERR_EXPIRED, b->peer, 0);
	/* Once the timers ran, the session and its keys are gone. */
	while (tick(b, &m) != SS_TICK_NONE)
		;
	assert_false(ss_peer_has_session(b->peer));
	for (int i = 0; i < SS_SESSION_SLOTS; i++)
		assert_false(b->peer->slots[i].valid);
	assert_int_equal(b->ctx->by_index.count, b->peer->hs.active ? 1 : 0);
	assert_code_in(drop_any(b, &b->flow, early.b, early.len, NULL), SS_ERR_UNKNOWN_INDEX,
		       SS_ERR_EXPIRED);
}

/* =========================================================================
 * flow_binding*: invariant 9.
 * ========================================================================= */

/* Change one element of the flow: remote port or address, protocol, local port or address. */
static void flow_change(ss_flow *f, int k)
{
	switch (k) {
	case 0:
		f->remote_port++;
		break;
	case 1:
		f->remote_addr[15] ^= 1;
		break;
	case 2:
		f->proto = 99;
		break;
	case 3:
		f->local_port++;
		break;
	default:
		f->local_addr[15] ^= 1;
		break;
	}
}

static void flow_binding(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	struct snap s;
	ss_flow f;
	msg d, echo;

	seal_str(a, "bound", &d);
	snap_take(&s, b);
	for (int k = 0; k < 5; k++) {
		f = b->flow;
		flow_change(&f, k);
		expect_drop(b, &f, d.b, d.len, SS_ERR_FLOW, b->peer);
	}
	test_flow_v4(&f, 0, 6000, 0x0a000001, 5000, 17); /* local address unknown */
	expect_drop(b, &f, d.b, d.len, SS_ERR_FLOW, b->peer);
	snap_check(&s, b, 0);
	snap_free(&s);
	open_str(b, &d, "bound");

	/* CONTROL too. */
	assert_int_equal(tick(b, &echo), SS_TICK_ECHO);
	f = a->flow;
	flow_change(&f, 0);
	expect_drop(a, &f, echo.b, echo.len, SS_ERR_FLOW, a->peer);
}

static void flow_binding_roaming(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	ss_flow old_a, old_b, f;
	msg d, old_d;
	size_t len;

	seal_str(a, "from the old address", &old_d);
	old_a = a->flow;
	old_b = b->flow;

	/* A moves to 10.0.0.7:5001 and re-handshakes from there. */
	test_advance(a, b, 2 * SS_HANDSHAKE_MIN_INTERVAL);
	test_flow_v4(&a->flow, 0x0a000007, 5001, 0x0a000002, 6000, 17);
	test_flow_reverse(&b->flow, &a->flow);
	ss_peer_set_flow(a->peer, &a->flow);
	test_handshake(a, b);

	seal_str(a, "from the new address", &d);
	expect_drop(b, &old_b, d.b, d.len, SS_ERR_FLOW, b->peer);
	open_str(b, &d, "from the new address");
	assert_code_in(drop_any(b, &old_b, old_d.b, old_d.len, NULL), SS_ERR_UNKNOWN_INDEX,
		       SS_ERR_EXPIRED);
	assert_code(
		ss_peer_seal(b->ctx, b->peer, (const uint8_t *)"hi", 2, d.b, sizeof(d.b), &len, &f),
		0);
	d.len = len;
	assert_true(ss_flow_equal(&f, &b->flow));
	expect_drop(a, &old_a, d.b, d.len, SS_ERR_FLOW, a->peer);
	open_ok(a, &d, "hi", 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {pair_test(tamper_every_byte_data),
					   session_test(replay_data),
					   pair_test(replay_keepalive),
					   session_test(reflect_data),
					   session_test(old_epoch),
					   session_test(expired_session),
					   cmocka_unit_test(window_exceed),
					   pair_test(window_exceed_jump),
					   cmocka_unit_test(wrap_attempt),
					   session_test(wrap_attempt_exhausted_code),
					   cmocka_unit_test(wrap_attempt_rekey_after_messages),
					   session_test(flow_binding),
					   session_test(flow_binding_roaming)};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
