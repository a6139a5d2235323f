/* SPDX-License-Identifier: MIT */
/*
 * Functional tests of sessions and timers (docs/PROTOCOL.md sections 4.7, 5 and 7):
 * data of every size, buffers, counters, rekeying, handshake retries, keepalives,
 * crossing handshakes, deadlines, peer removal and a context with many peers.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "drive.h"

#include "common/crypto.h"
#include "common/endian.h"
#include "internal.h"

static uint8_t g_pt[SS_MAX_PLAINTEXT + 1];

static uint64_t now_of(const test_node *n)
{
	return n->clock.now.mono_ns;
}

static void set_time(test_node *a, test_node *b, uint64_t t)
{
	assert_true(t >= now_of(a));
	test_advance(a, b, t - now_of(a));
}

/* Deliver m from "from" to "to", and any answers back and forth; all must be accepted. */
static ss_result deliver(test_node *from, test_node *to, const msg *m)
{
	ss_result res, first = {0};
	msg *in = malloc(sizeof(*in)), *out = malloc(sizeof(*out));
	bool is_first = true;

	assert_non_null(in);
	assert_non_null(out);
	*in = *m;
	for (int depth = 0; depth < 4; depth++) {
		test_node *t;

		assert_code(consume(to, in, out, &res), 0);
		if (is_first)
			first = res;
		is_first = false;
		if (res.kind != SS_RESULT_REPLY)
			break;
		*in = *out;
		t = to;
		to = from;
		from = t;
	}
	free(in);
	free(out);
	return first;
}

/* Tick n until it has nothing more, delivering everything to its peer node. */
static int drain(test_node *n, test_node *peer)
{
	msg *m = malloc(sizeof(*m));
	int sent = 0;

	assert_non_null(m);
	while (tick(n, m) != SS_TICK_NONE) {
		deliver(n, peer, m);
		assert_true(++sent < 16);
	}
	free(m);
	return sent;
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 8));
}

/* =========================================================================
 * Data
 * ========================================================================= */

static void data_sizes_bidirectional(void **state)
{
	static const size_t sizes[] = {0,  1,	2,    15,   16,	  17,	 23,   24,
				       25, 100, 1420, 1500, 9000, 65534, 65535};
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg m;
	size_t len;

	test_handshake(a, b);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		test_node *from = (i % 2) ? b : a, *to = (i % 2) ? a : b;

		for (int dir = 0; dir < 2; dir++) {
			test_node *t = from;

			fill(g_pt, sizes[i], (unsigned)i);
			seal(from, g_pt, sizes[i], &m);
			assert_int_equal(m.b[0], SS_MSG_DATA);
			open_ok(to, &m, g_pt, sizes[i]);
			from = to;
			to = t;
		}
	}
	assert_code(ss_peer_seal(a->ctx, a->peer, g_pt, SS_MAX_PLAINTEXT + 1, m.b, sizeof(m.b),
				 &len, NULL),
		    SS_ERR_INVAL);
	assert_code(ss_peer_seal(a->ctx, a->peer, NULL, 1, m.b, sizeof(m.b), &len, NULL),
		    SS_ERR_INVAL);
}

static void data_buffer_too_small(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	ss_result res;
	msg m, out, init;
	uint64_t next;
	size_t len = 7;
	int drops;

	start_init(a, &init);
	/* INIT: the RESPONSE would not fit; nothing happens. */
	assert_code(
		ss_ctx_consume(b->ctx, &b->flow, init.b, init.len, out.b, SS_RESP_LEN - 1, &res),
		SS_ERR_BUFFER);
	assert_null(b->peer->next);
	assert_int_equal(b->peer->rx_timestamp, 0);
	assert_int_equal(b->ctx->by_index.count, 0);
	complete(a, b, &init);

	/* Sealing: a counter is not spent when the output does not fit. */
	fill(g_pt, 1420, 1);
	next = a->peer->current->tx_next;
	assert_code(ss_peer_seal(a->ctx, a->peer, g_pt, 1420, m.b, 1420 + SS_DATA_OVERHEAD - 1,
				 &len, NULL),
		    SS_ERR_BUFFER);
	assert_int_equal(len, 7);
	assert_int_equal(a->peer->current->tx_next, next);
	assert_code(ss_peer_seal(a->ctx, a->peer, g_pt, 1420, m.b, 1420 + SS_DATA_OVERHEAD, &m.len,
				 NULL),
		    0);
	assert_int_equal(ss_load_be64(m.b + SS_DATA_OFF_COUNTER), next);

	/* Opening: too small for the plaintext; not a drop, nothing changes. */
	drops = total_drops(b->ctx);
	assert_code(ss_ctx_consume(b->ctx, &b->flow, m.b, m.len, out.b, 1419, &res), SS_ERR_BUFFER);
	assert_int_equal(res.kind, SS_RESULT_NONE);
	assert_int_equal(total_drops(b->ctx), drops);
	assert_code(ss_ctx_consume(b->ctx, &b->flow, m.b, m.len, out.b, 1420, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_DATA);
	assert_memory_equal(out.b, g_pt, 1420);
}

/*
 * A RESPONSE consumed with no room for the confirming keepalive must fail without
 * consuming the handshake, like an INIT without room for the RESPONSE.
 */
static void data_buffer_too_small_response(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	ss_result res;
	msg init, resp, ka;

	start_init(a, &init);
	respond(b, &init, &resp);
	assert_code(ss_ctx_consume(a->ctx, &a->flow, resp.b, resp.len, ka.b, SS_DATA_OVERHEAD - 1,
				   &res),
		    SS_ERR_BUFFER);
	/* Too small for the confirming keepalive: refused before anything commits. */
	assert_true(a->peer->hs.active);
	assert_false(ss_peer_has_session(a->peer));
	finish(a, &resp, &ka);
	confirm(b, &ka);
}

static void stats_exact(void **state)
{
	static const size_t a_sizes[] = {10, 0, 1420, 65535}, b_sizes[] = {1, 2, 3};
	ss_peer_stats sa, sb, sa0, sb0;
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg init, resp, ka, m, out;
	uint64_t a_wall, b_wall, bytes = 0;
	ss_result res;

	start_init(a, &init);
	test_advance(a, b, 3000);
	respond(b, &init, &resp);
	test_advance(a, b, 3000);
	finish(a, &resp, &ka);
	a_wall = a->clock.now.wall_ns;
	test_advance(a, b, 3000);
	confirm(b, &ka);
	b_wall = b->clock.now.wall_ns;

	ss_peer_get_stats(a->peer, &sa);
	ss_peer_get_stats(b->peer, &sb);
	assert_int_equal(sa.handshakes_initiated, 1);
	assert_int_equal(sa.handshakes_responded, 0);
	assert_int_equal(sa.handshakes_completed, 1);
	assert_int_equal(sa.epoch, 1);
	assert_int_equal(sa.last_handshake_wall_ns, a_wall);
	assert_int_equal(sb.handshakes_initiated, 0);
	assert_int_equal(sb.handshakes_responded, 1);
	assert_int_equal(sb.handshakes_completed, 1);
	assert_int_equal(sb.epoch, 1);
	assert_int_equal(sb.last_handshake_wall_ns, b_wall);
	/* The confirming keepalive is an (empty) DATA packet. */
	assert_int_equal(sa.packets_sealed, 1);
	assert_int_equal(sa.bytes_sealed, 0);
	assert_int_equal(sb.packets_opened, 1);
	assert_int_equal(sb.bytes_opened, 0);
	assert_int_equal(sa.packets_opened + sa.bytes_opened + sb.packets_sealed + sb.bytes_sealed,
			 0);

	sa0 = sa;
	sb0 = sb;
	for (size_t i = 0; i < sizeof(a_sizes) / sizeof(a_sizes[0]); i++) {
		fill(g_pt, a_sizes[i], (unsigned)i);
		seal(a, g_pt, a_sizes[i], &m);
		open_ok(b, &m, g_pt, a_sizes[i]);
		bytes += a_sizes[i];
	}
	/* Neither a failed seal, a dropped replay nor an ECHO counts as data. */
	assert_code(ss_peer_seal(a->ctx, a->peer, g_pt, 100, m.b, 10, &m.len, NULL), SS_ERR_BUFFER);
	{
		msg d;

		seal(a, "dup", 3, &d);
		open_ok(b, &d, "dup", 3);
		bytes += 3;
		assert_code(consume(b, &d, &out, &res), SS_ERR_REPLAY);
	}
	assert_int_equal(tick(b, &m), SS_TICK_ECHO);
	assert_code(consume(a, &m, &out, &res), 0);
	for (size_t i = 0; i < sizeof(b_sizes) / sizeof(b_sizes[0]); i++) {
		seal(b, g_pt, b_sizes[i], &m);
		open_ok(a, &m, g_pt, b_sizes[i]);
	}
	ss_peer_get_stats(a->peer, &sa);
	ss_peer_get_stats(b->peer, &sb);
	assert_int_equal(sa.packets_sealed - sa0.packets_sealed, 5);
	assert_int_equal(sa.bytes_sealed - sa0.bytes_sealed, bytes);
	assert_int_equal(sb.packets_opened - sb0.packets_opened, 5);
	assert_int_equal(sb.bytes_opened - sb0.bytes_opened, bytes);
	assert_int_equal(sb.packets_sealed - sb0.packets_sealed, 3);
	assert_int_equal(sb.bytes_sealed - sb0.bytes_sealed, 6);
	assert_int_equal(sa.packets_opened - sa0.packets_opened, 3);
	assert_int_equal(sa.bytes_opened - sa0.bytes_opened, 6);
	assert_int_equal(sb.drops[ss_drop_index(SS_ERR_REPLAY)], 1);
}

/* =========================================================================
 * Rekeying and handshake retries
 * ========================================================================= */

static void rekey_after_time(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	ss_peer_stats st;
	msg m, init;
	uint64_t t0;

	t0 = a->peer->current->created_ns;
	/* One nanosecond before: sending does not ask for a handshake ... */
	set_time(a, b, t0 + SS_REKEY_AFTER_TIME - 1);
	seal(a, "early", 5, &m);
	open_ok(b, &m, "early", 5);
	assert_int_equal(tick(a, &m), SS_TICK_NONE);
	/* ... an idle session is not rekeyed ... */
	test_advance(a, b, 1);
	assert_int_equal(tick(a, &m), SS_TICK_NONE);
	/* ... sending on one at least SS_REKEY_AFTER_TIME old is. */
	seal(a, "due", 3, &m);
	open_ok(b, &m, "due", 3);
	assert_int_equal(tick(a, &init), SS_TICK_HANDSHAKE);
	/* The old session carries data while the handshake is pending. */
	seal(a, "meanwhile", 9, &m);
	open_ok(b, &m, "meanwhile", 9);
	complete(a, b, &init);
	ss_peer_get_stats(a->peer, &st);
	assert_int_equal(st.epoch, 2);
	ss_peer_get_stats(b->peer, &st);
	assert_int_equal(st.epoch, 2);
	assert_int_equal(a->peer->current->created_ns, t0 + SS_REKEY_AFTER_TIME);
	seal(b, "new", 3, &m);
	open_ok(a, &m, "new", 3);
	assert_int_equal(a->ctx->by_index.count, 1);
	assert_int_equal(b->ctx->by_index.count, 1);
	/* The new session is not due for rekeying (A only owes B an ECHO). */
	seal(a, "x", 1, &m);
	{
		enum ss_tick_kind k;

		while ((k = tick(a, &m)) != SS_TICK_NONE)
			assert_int_equal(k, SS_TICK_ECHO);
	}
}

/* The responder steps in only SS_REKEY_AFTER_TIME + 2 * SS_REKEY_TIMEOUT (section 4.7). */
static void rekey_after_time_responder(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	ss_peer_stats st;
	enum ss_tick_kind k;
	msg m, init;
	uint64_t t0;

	t0 = b->peer->current->created_ns;
	set_time(a, b, t0 + SS_REKEY_AFTER_TIME + 2 * SS_REKEY_TIMEOUT - 1);
	seal(b, "x", 1, &m);
	open_ok(a, &m, "x", 1);
	while ((k = tick(b, &m)) != SS_TICK_NONE)
		assert_int_equal(k, SS_TICK_ECHO);
	test_advance(a, b, 1);
	seal(b, "y", 1, &m);
	open_ok(a, &m, "y", 1);
	assert_int_equal(tick(b, &init), SS_TICK_HANDSHAKE);
	complete(b, a, &init);
	ss_peer_get_stats(b->peer, &st);
	assert_int_equal(st.epoch, 2);
	assert_int_equal(st.handshakes_initiated, 1);
	assert_true(b->peer->current->initiator);
	assert_false(a->peer->current->initiator);
	seal(a, "roles swapped", 13, &m);
	open_ok(b, &m, "roles swapped", 13);
}

static void handshake_retry_when_response_lost(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg init1, init2, resp1, resp2, ka, m;
	uint64_t t0, d;

	start_init(a, &init1);
	t0 = now_of(a);
	respond(b, &init1, &resp1); /* lost */
	d = ss_peer_deadline(a->peer);
	assert_true(d >= t0 + SS_REKEY_TIMEOUT);
	assert_true(d < t0 + SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
	set_time(a, b, d - 1);
	assert_int_equal(tick(a, &m), SS_TICK_NONE);
	test_advance(a, b, 1);
	assert_int_equal(tick(a, &init2), SS_TICK_HANDSHAKE);
	/* A fresh INIT: new index, new ephemeral, later timestamp. */
	assert_memory_not_equal(init1.b + SS_INIT_OFF_SENDER, init2.b + SS_INIT_OFF_SENDER, 4);
	assert_memory_not_equal(init1.b + SS_INIT_OFF_EPHEMERAL, init2.b + SS_INIT_OFF_EPHEMERAL,
				SS_DH_LEN);
	assert_true(ss_load_be64(init2.b + SS_INIT_OFF_TIMESTAMP) >
		    ss_load_be64(init1.b + SS_INIT_OFF_TIMESTAMP));
	assert_int_equal(a->ctx->by_index.count, 1);
	respond(b, &init2, &resp2);
	{
		ss_result res;
		msg out;

		/* The answer to the abandoned INIT finds nothing. */
		assert_code(consume(a, &resp1, &out, &res), SS_ERR_UNKNOWN_INDEX);
	}
	finish(a, &resp2, &ka);
	confirm(b, &ka);
	test_send(a, b, "after a retry");
	test_send(b, a, "after a retry");
	{
		ss_peer_stats st;

		ss_peer_get_stats(a->peer, &st);
		assert_int_equal(st.handshakes_initiated, 2);
		assert_int_equal(st.handshakes_completed, 1);
		ss_peer_get_stats(b->peer, &st);
		assert_int_equal(st.handshakes_responded, 2);
	}
}

static void handshake_give_up(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg m;
	uint64_t t0, last, iv[32];
	int inits = 1, distinct = 0;
	size_t len;

	start_init(a, &m);
	t0 = last = now_of(a);
	for (;;) {
		uint64_t d = ss_peer_deadline(a->peer);

		assert_true(d != UINT64_MAX);
		assert_true(d > now_of(a));
		set_time(a, b, d);
		if (tick(a, &m) != SS_TICK_HANDSHAKE)
			break;
		assert_true(inits < 32);
		iv[inits - 1] = now_of(a) - last;
		last = now_of(a);
		inits++;
		assert_true(now_of(a) - t0 < SS_REKEY_ATTEMPT_TIME);
		assert_int_equal(a->ctx->by_index.count, 1);
	}
	assert_true(now_of(a) - t0 >= SS_REKEY_ATTEMPT_TIME);
	/* 90 s of retries every 5 s plus a jitter in [0, 1/3 s). */
	assert_true(inits >= 17 && inits <= 19);
	for (int i = 0; i < inits - 1; i++) {
		assert_true(iv[i] >= SS_REKEY_TIMEOUT);
		assert_true(iv[i] < SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
		if (i && iv[i] != iv[0])
			distinct++;
	}
	assert_true(distinct > 0); /* jitter drawn anew for each INIT */
	{
		ss_peer_stats st;

		ss_peer_get_stats(a->peer, &st);
		assert_int_equal(st.handshakes_initiated, (uint64_t)inits);
	}
	/* Given up: pending state wiped, nothing scheduled. */
	assert_false(a->peer->hs.active);
	assert_int_equal(a->ctx->by_index.count, 0);
	assert_int_equal(ss_peer_deadline(a->peer), UINT64_MAX);
	test_advance(a, b, 60 * SS_NS_PER_SEC);
	assert_int_equal(tick(a, &m), SS_TICK_NONE);
	/* New traffic starts a new attempt at once. */
	assert_code(ss_peer_seal(a->ctx, a->peer, (const uint8_t *)"q", 1, m.b, sizeof(m.b), &len,
				 NULL),
		    SS_ERR_NO_SESSION);
	assert_true(ss_peer_deadline(a->peer) <= now_of(a));
	assert_int_equal(tick(a, &m), SS_TICK_HANDSHAKE);
	assert_int_equal(a->peer->hs.started_ns, now_of(a));
}

/*
 * Issue 14 item 6 (roaming): a local address changed. With the session's handshake long
 * past, the new INIT goes out at once; the peer accepts it and the session moves.
 */
static void restart_handshake_now(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg init;

	drain(b, a);
	test_advance(a, b, 10 * SS_NS_PER_SEC);
	assert_int_equal(tick(a, &init), SS_TICK_NONE);
	ss_peer_restart_handshake(a->peer, false);
	assert_true(ss_peer_deadline(a->peer) <= now_of(a));
	assert_int_equal(tick(a, &init), SS_TICK_HANDSHAKE);
	complete(a, b, &init);
	test_send(a, b, "moved");
	test_send(b, a, "moved");
}

/*
 * An INIT in flight (sent from the old address; its RESPONSE is lost) is not waited out
 * for SS_REKEY_TIMEOUT: the next goes SS_RESTART_INIT_SPACING after it, late enough for
 * the peer's SS_HANDSHAKE_MIN_INTERVAL, and is accepted.
 */
static void restart_handshake_in_flight(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg init, resp;
	uint64_t t;

	drain(b, a);
	test_advance(a, b, 10 * SS_NS_PER_SEC);
	start_init(a, &init);
	t = now_of(a);
	respond(b, &init, &resp); /* lost on its way back */
	test_advance(a, b, SS_NS_PER_SEC / 100);
	ss_peer_restart_handshake(a->peer, false);
	assert_int_equal(ss_peer_deadline(a->peer), t + SS_RESTART_INIT_SPACING);
	set_time(a, b, t + SS_RESTART_INIT_SPACING - 1);
	assert_int_equal(tick(a, &init), SS_TICK_NONE);
	test_advance(a, b, 1);
	assert_int_equal(tick(a, &init), SS_TICK_HANDSHAKE);
	complete(a, b, &init);
	test_send(a, b, "moved");
}

/*
 * The latest INIT never left (the daemon saw its send fail: the old address was gone and
 * the new one not there yet): the peer cannot have seen it, so the spacing counts from
 * the INIT before it, here long past, and the new INIT goes at once. After an INIT the
 * peer accepted, an unsent one does not shorten the spacing.
 */
static void restart_handshake_unsent(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg init;
	uint64_t t;

	drain(b, a);
	test_advance(a, b, 10 * SS_NS_PER_SEC);
	start_init(a, &init); /* refused by the socket */
	test_advance(a, b, SS_NS_PER_SEC / 10);
	ss_peer_restart_handshake(a->peer, true);
	assert_true(ss_peer_deadline(a->peer) <= now_of(a));
	assert_int_equal(tick(a, &init), SS_TICK_HANDSHAKE);
	t = now_of(a);
	complete(a, b, &init);
	drain(a, b);
	drain(b, a);
	test_advance(a, b, SS_NS_PER_SEC / 10);
	start_init(a, &init); /* refused by the socket */
	ss_peer_restart_handshake(a->peer, true);
	assert_int_equal(ss_peer_deadline(a->peer), t + SS_RESTART_INIT_SPACING);
	set_time(a, b, t + SS_RESTART_INIT_SPACING);
	assert_int_equal(tick(a, &init), SS_TICK_HANDSHAKE);
	complete(a, b, &init);
}

/*
 * A handshake that just completed (from the old address, the new one arriving right
 * after): the next INIT waits for the spacing too, where one sent at once would be
 * refused as too frequent. A peer with no session and no handshake is left alone.
 */
static void restart_handshake_after_completed(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg init;
	uint64_t t;

	drain(b, a);
	test_advance(a, b, 10 * SS_NS_PER_SEC);
	start_init(a, &init);
	t = now_of(a);
	complete(a, b, &init);
	drain(a, b);
	drain(b, a);
	ss_peer_restart_handshake(a->peer, false);
	assert_int_equal(ss_peer_deadline(a->peer), t + SS_RESTART_INIT_SPACING);
	assert_int_equal(tick(a, &init), SS_TICK_NONE);
	set_time(a, b, t + SS_RESTART_INIT_SPACING);
	assert_int_equal(tick(a, &init), SS_TICK_HANDSHAKE);
	complete(a, b, &init);
	/* No session, no handshake: nothing to restart. */
	ss_peer_remove(a->ctx, a->peer);
	assert_int_equal(ss_peer_add(a->ctx, ss_identity_public(b->id), &a->peer), 0);
	ss_peer_set_flow(a->peer, &a->flow);
	ss_peer_restart_handshake(a->peer, false);
	assert_int_equal(ss_peer_deadline(a->peer), UINT64_MAX);
	assert_int_equal(tick(a, &init), SS_TICK_NONE);
}

/* =========================================================================
 * Keepalives
 * ========================================================================= */

/*
 * Passive keepalive: A accepted DATA and sent nothing since. Here the DATA arrives on
 * A's "previous" session just after a rekey, so no ECHO on "current" is due and the
 * keepalive is the only acknowledgement (section 7.3).
 */
static void passive_keepalive(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg init, resp, ka, old, m;
	uint64_t t;

	drain(b, a);
	test_advance(a, b, SS_NS_PER_SEC);
	start_init(a, &init);
	respond(b, &init, &resp);
	seal(b, "on the old epoch", 16, &old);
	finish(a, &resp, &ka);
	open_ok(a, &old, "on the old epoch", 16);
	t = now_of(a);
	assert_int_equal(ss_peer_deadline(a->peer), t + SS_KEEPALIVE_TIMEOUT);
	set_time(a, b, t + SS_KEEPALIVE_TIMEOUT - 1);
	assert_int_equal(tick(a, &m), SS_TICK_NONE);
	test_advance(a, b, 1);
	assert_int_equal(tick(a, &m), SS_TICK_KEEPALIVE);
	assert_int_equal(m.len, SS_DATA_OVERHEAD);
	assert_int_equal(ss_load_be32(m.b + SS_DATA_OFF_RECEIVER), a->peer->current->remote_index);
	assert_int_equal(tick(a, &init), SS_TICK_NONE);
	confirm(b, &ka);
	open_ok(b, &m, NULL, 0);
	/* Keepalives never answer keepalives: B only echoes, A stays quiet. */
	for (int step = 0; step < 30; step++) {
		enum ss_tick_kind k;

		while ((k = tick(b, &m)) != SS_TICK_NONE) {
			assert_int_equal(k, SS_TICK_ECHO);
			deliver(b, a, &m);
		}
		assert_int_equal(tick(a, &m), SS_TICK_NONE);
		test_advance(a, b, SS_NS_PER_SEC);
	}
}

/* The usual case: B's ECHO for A's DATA is the acknowledgement; no keepalive follows. */
static void passive_keepalive_echo_acknowledges(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	enum ss_tick_kind k;
	msg m;
	int echoes = 0, keepalives = 0;

	drain(b, a);
	seal(a, "ping", 4, &m);
	open_ok(b, &m, "ping", 4);
	for (int step = 0; step < 40; step++) {
		while ((k = tick(b, &m)) != SS_TICK_NONE) {
			echoes += k == SS_TICK_ECHO;
			keepalives += k == SS_TICK_KEEPALIVE;
			deliver(b, a, &m);
		}
		assert_int_equal(tick(a, &m), SS_TICK_NONE);
		test_advance(a, b, SS_NS_PER_SEC / 2);
	}
	assert_int_equal(echoes, 1);
	assert_int_equal(keepalives, 0);
}

static void persistent_keepalive(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	msg m;
	uint64_t t;

	drain(b, a);
	t = now_of(a);
	assert_int_equal(ss_peer_deadline(a->peer),
			 a->peer->current->created_ns + SS_REJECT_AFTER_TIME);
	ss_peer_set_keepalive(a->peer, 25);
	assert_int_equal(ss_peer_deadline(a->peer), t + 25 * SS_NS_PER_SEC);
	set_time(a, b, t + 25 * SS_NS_PER_SEC - 1);
	assert_int_equal(tick(a, &m), SS_TICK_NONE);
	test_advance(a, b, 1);
	assert_int_equal(tick(a, &m), SS_TICK_KEEPALIVE);
	open_ok(b, &m, NULL, 0);
	drain(b, a);
	assert_int_equal(tick(a, &m), SS_TICK_NONE);
	t = now_of(a);
	assert_int_equal(ss_peer_deadline(a->peer), t + 25 * SS_NS_PER_SEC);
	/* Sending data resets the timer. */
	test_advance(a, b, 10 * SS_NS_PER_SEC);
	seal(a, "data", 4, &m);
	open_ok(b, &m, "data", 4);
	drain(b, a);
	t = now_of(a);
	assert_int_equal(ss_peer_deadline(a->peer), t + 25 * SS_NS_PER_SEC);
	set_time(a, b, t + 25 * SS_NS_PER_SEC);
	assert_int_equal(tick(a, &m), SS_TICK_KEEPALIVE);
	open_ok(b, &m, NULL, 0);
	/* Off again. */
	ss_peer_set_keepalive(a->peer, 0);
	assert_int_equal(ss_peer_deadline(a->peer),
			 a->peer->current->created_ns + SS_REJECT_AFTER_TIME);
	test_advance(a, b, 30 * SS_NS_PER_SEC);
	assert_int_equal(tick(a, &m), SS_TICK_NONE);
	/* No keepalive without a usable session. */
	ss_peer_set_keepalive(a->peer, 1);
	set_time(a, b, a->peer->current->created_ns + SS_REJECT_AFTER_TIME);
	assert_int_equal(tick(a, &m), SS_TICK_NONE);
	assert_false(ss_peer_has_session(a->peer));
}

/* n can send on its current session now (PROTOCOL.md 4.7), without sealing anything. */
static bool can_send(const test_node *n)
{
	const ss_session *s = n->peer->current;

	return s && s->valid && s->confirmed && now_of(n) - s->created_ns < SS_REJECT_AFTER_TIME;
}

/*
 * Issue 14 item 5: with PersistentKeepalive on one side (ka) and no traffic at all, the
 * keepalives rekey the session before it ages out, so both sides can send at every
 * moment of ten minutes and the keepalives never stop. Before, the session lapsed at
 * SS_REJECT_AFTER_TIME and the keepalives with it.
 */
static void keepalive_forever(test_node *ka, test_node *other)
{
	test_node *a = ka, *b = other;
	ss_peer_stats st;
	uint64_t end, last_ka = now_of(a);
	int keepalives = 0;
	msg m;

	ss_peer_set_keepalive(ka->peer, 25);
	end = now_of(a) + 600 * SS_NS_PER_SEC;
	while (now_of(a) < end) {
		enum ss_tick_kind k;

		for (int n = 0; (k = tick(ka, &m)) != SS_TICK_NONE; n++) {
			assert_true(n < 4);
			if (k == SS_TICK_KEEPALIVE) {
				keepalives++;
				last_ka = now_of(a);
			}
			deliver(ka, other, &m);
		}
		drain(other, ka);
		assert_true(can_send(a) && can_send(b));
		assert_true(now_of(a) - last_ka <= 26 * SS_NS_PER_SEC);
		test_advance(a, b, SS_NS_PER_SEC);
	}
	ss_peer_get_stats(ka->peer, &st);
	assert_true(keepalives >= 600 / 26);
	assert_true(st.epoch >= 5);
	assert_int_equal(total_drops(a->ctx) + total_drops(b->ctx), 0);
}

static void persistent_keepalive_forever(void **state)
{
	test_pair *pair = *state;

	keepalive_forever(&pair->a, &pair->b);
}

/* The same with the keepalive on the responder of the first session. */
static void persistent_keepalive_forever_responder(void **state)
{
	test_pair *pair = *state;

	keepalive_forever(&pair->b, &pair->a);
}

/* =========================================================================
 * Simultaneous initiation (section 5.4)
 * ========================================================================= */

static bool converged(const test_node *a, const test_node *b)
{
	const ss_session *sa = a->peer->current, *sb = b->peer->current;

	return sa && sb && sa->valid && sb->valid && sa->confirmed && sb->confirmed &&
	       sa->remote_index == sb->local_index && sb->remote_index == sa->local_index;
}

struct queue {
	int n;
	msg *m[8];
};

static void push(struct queue *q, const msg *m)
{
	assert_true(q->n < 8);
	q->m[q->n] = malloc(sizeof(msg));
	assert_non_null(q->m[q->n]);
	*q->m[q->n++] = *m;
}

/* Deliver the oldest message of q to "to"; a reply goes to "back". */
static void pop_deliver(struct queue *q, test_node *to, struct queue *back)
{
	ss_result res;
	msg *out = malloc(sizeof(*out));
	int ret;

	assert_non_null(out);
	assert_true(q->n > 0);
	ret = consume(to, q->m[0], out, &res);
	/* A crossing INIT may lose the tie-break; nothing else may be dropped. */
	if (ret)
		assert_code(ret, SS_ERR_UNEXPECTED);
	else if (res.kind == SS_RESULT_REPLY)
		push(back, out);
	free(q->m[0]);
	memmove(q->m, q->m + 1, (size_t)(q->n - 1) * sizeof(q->m[0]));
	q->n--;
	free(out);
}

/* Both initiate at the same instant; sched says whose inbound message is delivered next. */
static void crossing(const char *sched, bool rounds)
{
	struct queue to_a = {0}, to_b = {0};
	test_node a, b, *winner;
	msg m;

	test_pair_init(&a, &b);
	ss_peer_want_handshake(a.peer);
	ss_peer_want_handshake(b.peer);
	assert_int_equal(tick(&a, &m), SS_TICK_HANDSHAKE);
	push(&to_b, &m);
	assert_int_equal(tick(&b, &m), SS_TICK_HANDSHAKE);
	push(&to_a, &m);
	if (rounds) {
		/* Cross-deliver both INITs, then the responses, then the keepalives. */
		while (to_a.n || to_b.n) {
			struct queue na = {0}, nb = {0};

			while (to_b.n)
				pop_deliver(&to_b, &b, &na);
			while (to_a.n)
				pop_deliver(&to_a, &a, &nb);
			to_a = na;
			to_b = nb;
		}
	} else {
		for (const char *p = sched; *p && (to_a.n || to_b.n); p++) {
			if (*p == 'a' && to_a.n)
				pop_deliver(&to_a, &a, &to_b);
			else if (*p == 'b' && to_b.n)
				pop_deliver(&to_b, &b, &to_a);
		}
		while (to_a.n || to_b.n) {
			if (to_a.n)
				pop_deliver(&to_a, &a, &to_b);
			if (to_b.n)
				pop_deliver(&to_b, &b, &to_a);
		}
	}
	assert_true(converged(&a, &b));
	assert_false(a.peer->hs.active);
	assert_false(b.peer->hs.active);
	/* The smaller identity's handshake won. */
	winner = memcmp(ss_identity_public(a.id), ss_identity_public(b.id), SS_IDENTITY_LEN) < 0
			 ? &a
			 : &b;
	assert_true(winner->peer->current->initiator);
	test_send(&a, &b, "converged");
	test_send(&b, &a, "converged");
	{
		ss_peer_stats sa, sb;

		ss_peer_get_stats(a.peer, &sa);
		ss_peer_get_stats(b.peer, &sb);
		assert_int_equal(sa.epoch, 1);
		assert_int_equal(sb.epoch, 1);
	}
	assert_int_equal(a.ctx->by_index.count, 1);
	assert_int_equal(b.ctx->by_index.count, 1);
	test_pair_free(&a, &b);
}

/*
 * The smaller identity keeps initiating into the void (its INITs are lost, or the
 * peer cannot answer them); once its attempt is older than SS_REKEY_TIMEOUT, the
 * larger identity's INIT is answered instead of losing the tie-break forever.
 */
static void stale_initiation_yields(void **state)
{
	test_node a, b, *lo, *hi;
	ss_result res;
	msg m, out, ka;

	(void)state;
	test_pair_init(&a, &b);
	lo = memcmp(ss_identity_public(a.id), ss_identity_public(b.id), SS_IDENTITY_LEN) < 0 ? &a
											     : &b;
	hi = lo == &a ? &b : &a;
	ss_peer_want_handshake(lo->peer);
	assert_int_equal(tick(lo, &m), SS_TICK_HANDSHAKE); /* lost */
	/* A crossing INIT while ours is fresh loses the tie-break, as before. */
	ss_peer_want_handshake(hi->peer);
	assert_int_equal(tick(hi, &m), SS_TICK_HANDSHAKE);
	assert_code(consume(lo, &m, &out, &res), SS_ERR_UNEXPECTED);
	/* Ours goes unanswered past SS_REKEY_TIMEOUT (retries included). */
	test_advance(&a, &b, SS_REKEY_TIMEOUT + SS_NS_PER_SEC);
	(void)tick(lo, &m);
	assert_true(lo->peer->hs.active);
	(void)tick(hi, &m);
	assert_int_equal(m.b[0], SS_MSG_INIT);
	assert_code(consume(lo, &m, &out, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_REPLY);
	assert_false(lo->peer->hs.active);
	assert_code(consume(hi, &out, &ka, &res), 0);
	assert_true(res.flags & SS_RESULT_F_HANDSHAKE);
	test_send(hi, lo, "yielded");
	test_send(lo, hi, "yielded");
	test_pair_free(&a, &b);
}

static void simultaneous_initiation(void **state)
{
	(void)state;
	crossing(NULL, true);
}

/* Other interleavings of the same four to six messages. */
static void simultaneous_initiation_orders(void **state)
{
	static const char *const scheds[] = {"ab",   "ba",   "aabb", "bbaa", "abab",
					     "baba", "aaab", "bbba", "abba", "baab"};

	(void)state;
	for (size_t i = 0; i < sizeof(scheds) / sizeof(scheds[0]); i++)
		crossing(scheds[i], false);
}

/* =========================================================================
 * Deadlines
 * ========================================================================= */

static void deadline_sane(void **state)
{
	test_node a, b, c;
	ss_peer *cp;
	msg m;
	uint64_t d;

	(void)state;
	/* A peer without a flow never schedules anything, even if a handshake is wanted. */
	test_node_init(&c, "carol", 4);
	assert_int_equal(ss_peer_add(c.ctx, NULL, &cp), 0);
	assert_int_equal(ss_peer_deadline(cp), UINT64_MAX);
	ss_peer_want_handshake(cp);
	assert_int_equal(ss_peer_deadline(cp), UINT64_MAX);
	c.peer = cp;
	assert_int_equal(tick(&c, &m), SS_TICK_NONE);
	test_node_free(&c);

	test_pair_init(&a, &b);
	assert_int_equal(ss_peer_deadline(a.peer), UINT64_MAX);
	assert_int_equal(ss_peer_deadline(b.peer), UINT64_MAX);
	assert_int_equal(tick(&a, &m), SS_TICK_NONE);
	ss_peer_want_handshake(a.peer);
	assert_true(ss_peer_deadline(a.peer) <= now_of(&a));
	test_handshake(&a, &b);
	d = ss_peer_deadline(a.peer);
	assert_true(d > now_of(&a) && d != UINT64_MAX);
	assert_true(d <= a.peer->current->created_ns + SS_REJECT_AFTER_TIME);
	/* B owes an ECHO for the keepalive: due now. */
	assert_true(ss_peer_deadline(b.peer) <= now_of(&b));
	drain(&b, &a);
	d = ss_peer_deadline(b.peer);
	assert_true(d > now_of(&b) && d != UINT64_MAX);
	/* When the sessions expire, nothing is left. */
	set_time(&a, &b, a.peer->current->created_ns + SS_REJECT_AFTER_TIME);
	assert_true(ss_peer_deadline(a.peer) <= now_of(&a));
	assert_int_equal(tick(&a, &m), SS_TICK_NONE);
	assert_int_equal(tick(&b, &m), SS_TICK_NONE);
	assert_false(ss_peer_has_session(a.peer));
	assert_false(ss_peer_has_session(b.peer));
	assert_int_equal(ss_peer_deadline(a.peer), UINT64_MAX);
	assert_int_equal(ss_peer_deadline(b.peer), UINT64_MAX);
	assert_int_equal(a.ctx->by_index.count, 0);
	assert_int_equal(b.ctx->by_index.count, 0);
	test_pair_free(&a, &b);
}

/*
 * Ten minutes of traffic both ways every 250 ms with timers run at their deadlines:
 * every packet arrives, sessions roll over every two minutes without a single drop,
 * and after each round of ticks no deadline is already in the past (no busy loop).
 */
static void long_run(void **state)
{
	const uint64_t step = SS_NS_PER_SEC / 4;
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	ss_peer_stats sa, sb;
	msg m;
	uint64_t end;
	int n = 0;

	test_handshake(a, b);
	end = now_of(a) + 600 * SS_NS_PER_SEC;
	while (now_of(a) < end) {
		test_node *dirs[2][2] = {{a, b}, {b, a}};
		char text[32];

		for (int i = 0; i < 2; i++) {
			test_node *from = dirs[i][0], *to = dirs[i][1];
			ss_result res;
			int len = snprintf(text, sizeof(text), "packet %d", n++);

			seal(from, text, (size_t)len, &m);
			res = deliver(from, to, &m);
			assert_int_equal(res.kind, SS_RESULT_DATA);
		}
		for (int i = 0; i < 2; i++) {
			drain(dirs[i][0], dirs[i][1]);
			assert_true(ss_peer_deadline(dirs[i][0]->peer) > now_of(dirs[i][0]));
		}
		test_advance(a, b, step);
	}
	ss_peer_get_stats(a->peer, &sa);
	ss_peer_get_stats(b->peer, &sb);
	assert_true(sa.epoch >= 5);
	assert_int_equal(sa.epoch, sb.epoch);
	assert_int_equal(sa.handshakes_initiated, sa.epoch);
	assert_int_equal(total_drops(a->ctx), 0);
	assert_int_equal(total_drops(b->ctx), 0);
	assert_int_equal(a->ctx->by_index.count, 1);
	assert_int_equal(b->ctx->by_index.count, 1);
}

/* =========================================================================
 * Peers
 * ========================================================================= */

static void peer_removal_frees_indices(void **state)
{
	test_pair *pair = *state;
	test_node *a = &pair->a, *b = &pair->b;
	ss_result res;
	msg d, from_b, out;

	seal(a, "old", 3, &d);
	seal(b, "old", 3, &from_b);
	assert_int_equal(b->ctx->by_index.count, 1);
	ss_peer_remove(b->ctx, b->peer);
	assert_int_equal(b->ctx->by_index.count, 0);
	assert_int_equal(b->ctx->by_identity.count, 0);
	assert_int_equal(b->ctx->npeers, 0);
	assert_null(b->ctx->peers);
	assert_null(ss_peer_find(b->ctx, ss_identity_public(a->id)));
	assert_code(consume(b, &d, &out, &res), SS_ERR_UNKNOWN_INDEX);
	assert_int_equal(ss_peer_add(b->ctx, ss_identity_public(a->id), &b->peer), 0);
	ss_peer_set_flow(b->peer, &b->flow);
	assert_ptr_equal(ss_peer_find(b->ctx, ss_identity_public(a->id)), b->peer);
	assert_code(consume(b, &d, &out, &res), SS_ERR_UNKNOWN_INDEX);
	assert_false(ss_peer_has_session(b->peer));
	test_advance(a, b, SS_NS_PER_SEC);
	test_handshake(a, b);
	assert_code(consume(b, &d, &out, &res), SS_ERR_UNKNOWN_INDEX);
	test_send(a, b, "re-added");
	test_send(b, a, "re-added");
	assert_code(consume(a, &from_b, &out, &res), SS_ERR_UNKNOWN_INDEX);
}

/* n's one index goes with its peer: m, addressed to it, then finds nothing. */
static void remove_pending_peer(test_node *n, const msg *m)
{
	ss_result res;
	msg out;

	assert_int_equal(n->ctx->by_index.count, 1);
	ss_peer_remove(n->ctx, n->peer);
	assert_int_equal(n->ctx->by_index.count, 0);
	assert_code(consume(n, m, &out, &res), SS_ERR_UNKNOWN_INDEX);
}

static void peer_removal_pending_handshake(void **state)
{
	test_node a, b;
	msg init, resp, ka;

	(void)state;
	test_pair_init(&a, &b);
	start_init(&a, &init);
	respond(&b, &init, &resp);
	remove_pending_peer(&a, &resp);

	/* Removing the responder's peer drops its unconfirmed session too. */
	test_pair_free(&a, &b);
	test_pair_init(&a, &b);
	start_init(&a, &init);
	respond(&b, &init, &resp);
	finish(&a, &resp, &ka);
	remove_pending_peer(&b, &ka);
	test_pair_free(&a, &b);
}

static void many_peers(void **state)
{
	enum { N = 10000, COLL = 64 };
	uint8_t(*ids)[SS_IDENTITY_LEN] = malloc((N + COLL) * sizeof(*ids));
	ss_peer **peers = calloc(N + COLL, sizeof(*peers));
	test_node n;
	ss_peer *p;

	(void)state;
	assert_non_null(ids);
	assert_non_null(peers);
	test_node_init(&n, "many", N + COLL);
	for (int i = 0; i < N; i++)
		assert_int_equal(test_rng_fn(&n.rng, ids[i], SS_IDENTITY_LEN), 0);
	/* COLL identities with one ss_identity_key(): same table home, different keys. */
	for (int j = 0; j < COLL; j++) {
		uint8_t mask[8];

		memcpy(ids[N + j], ids[0], SS_IDENTITY_LEN);
		ss_store_be64(mask, UINT64_C(0x0101010101010101) * (uint64_t)(j + 1));
		for (int k = 0; k < 8; k++) {
			ids[N + j][k] ^= mask[k];
			ids[N + j][8 + k] ^= mask[k];
		}
		ids[N + j][31] ^= (uint8_t)j;
		assert_int_equal(ss_identity_key(ids[N + j]), ss_identity_key(ids[0]));
	}
	for (int i = 0; i < N + COLL; i++)
		assert_int_equal(ss_peer_add(n.ctx, ids[i], &peers[i]), 0);
	assert_int_equal(n.ctx->npeers, N + COLL);
	for (int i = 0; i < N + COLL; i++) {
		p = ss_peer_find(n.ctx, ids[i]);
		assert_ptr_equal(p, peers[i]);
		assert_memory_equal(ss_peer_identity(p), ids[i], SS_IDENTITY_LEN);
	}
	/* Full, duplicate, own identity. */
	{
		uint8_t extra[SS_IDENTITY_LEN];

		assert_int_equal(test_rng_fn(&n.rng, extra, sizeof(extra)), 0);
		assert_code(ss_peer_add(n.ctx, extra, &p), SS_ERR_FULL);
		ss_peer_remove(n.ctx, peers[7]);
		assert_code(ss_peer_add(n.ctx, ids[8], &p), SS_ERR_EXISTS);
		assert_code(ss_peer_add(n.ctx, ss_identity_public(n.id), &p), SS_ERR_INVAL);
		assert_int_equal(ss_peer_add(n.ctx, ids[7], &peers[7]), 0);
	}
	/* Remove half (and every other colliding one), find the rest. */
	for (int i = 0; i < N + COLL; i += 2)
		ss_peer_remove(n.ctx, peers[i]);
	assert_int_equal(n.ctx->npeers, (N + COLL) / 2);
	assert_int_equal(n.ctx->by_identity.count, (N + COLL) / 2);
	for (int i = 0; i < N + COLL; i++) {
		p = ss_peer_find(n.ctx, ids[i]);
		if (i % 2) {
			assert_ptr_equal(p, peers[i]);
			assert_memory_equal(ss_peer_identity(p), ids[i], SS_IDENTITY_LEN);
		} else {
			assert_null(p);
		}
	}
	/* And they can come back. */
	for (int i = 0; i < N + COLL; i += 2)
		assert_int_equal(ss_peer_add(n.ctx, ids[i], &peers[i]), 0);
	for (int i = 0; i < N + COLL; i++)
		assert_ptr_equal(ss_peer_find(n.ctx, ids[i]), peers[i]);
	test_node_free(&n);
	free(peers);
	free(ids);
}

int main(void)
{
	const struct CMUnitTest data[] = {
		pair_test(data_sizes_bidirectional),
		pair_test(data_buffer_too_small),
		pair_test(data_buffer_too_small_response),
		pair_test(stats_exact),
	};
	const struct CMUnitTest rekey[] = {
		session_test(rekey_after_time),
		session_test(rekey_after_time_responder),
		pair_test(handshake_retry_when_response_lost),
		pair_test(handshake_give_up),
		session_test(restart_handshake_now),
		session_test(restart_handshake_in_flight),
		session_test(restart_handshake_unsent),
		session_test(restart_handshake_after_completed),
		cmocka_unit_test(simultaneous_initiation),
		cmocka_unit_test(stale_initiation_yields),
		cmocka_unit_test(simultaneous_initiation_orders),
	};
	const struct CMUnitTest timers[] = {
		session_test(passive_keepalive),
		session_test(passive_keepalive_echo_acknowledges),
		session_test(persistent_keepalive),
		session_test(persistent_keepalive_forever),
		session_test(persistent_keepalive_forever_responder),
		cmocka_unit_test(deadline_sane),
		pair_test(long_run),
	};
	const struct CMUnitTest peers[] = {
		session_test(peer_removal_frees_indices),
		cmocka_unit_test(peer_removal_pending_handshake),
		cmocka_unit_test(many_peers),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("data", data, NULL, NULL);
	failed += cmocka_run_group_tests_name("handshakes", rekey, NULL, NULL);
	failed += cmocka_run_group_tests_name("timers", timers, NULL, NULL);
	failed += cmocka_run_group_tests_name("peers", peers, NULL, NULL);
	return failed;
}
