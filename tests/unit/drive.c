/* SPDX-License-Identifier: MIT */
#include "drive.h"

#include <string.h>

#include "internal.h"

int consume_on(test_node *n, const ss_flow *f, const msg *in, msg *out, ss_result *res)
{
	int ret = ss_ctx_consume(n->ctx, f, in->b, in->len, out->b, sizeof(out->b), res);

	out->len = ret ? 0 : res->len;
	return ret;
}

int consume(test_node *n, const msg *in, msg *out, ss_result *res)
{
	return consume_on(n, &n->flow, in, out, res);
}

void start_init(test_node *a, msg *init)
{
	enum ss_tick_kind kind;
	ss_flow f;

	ss_peer_want_handshake(a->peer);
	assert_code(ss_peer_tick(a->ctx, a->peer, init->b, sizeof(init->b), &init->len, &f, &kind),
		    0);
	assert_int_equal(kind, SS_TICK_HANDSHAKE);
	assert_int_equal(init->len, SS_INIT_LEN);
	assert_true(ss_flow_equal(&f, &a->flow));
}

void respond(test_node *b, const msg *init, msg *resp)
{
	ss_result res;

	assert_code(consume(b, init, resp, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_REPLY);
	assert_int_equal(res.len, SS_RESP_LEN);
	assert_ptr_equal(res.peer, b->peer);
}

void finish(test_node *a, const msg *resp, msg *ka)
{
	ss_result res;

	assert_code(consume(a, resp, ka, &res), 0);
	assert_true(res.flags & SS_RESULT_F_HANDSHAKE);
	assert_int_equal(res.kind, SS_RESULT_REPLY);
	assert_int_equal(res.len, SS_DATA_OVERHEAD);
}

void confirm(test_node *b, const msg *ka)
{
	ss_result res;
	msg out;

	assert_code(consume(b, ka, &out, &res), 0);
	assert_true(res.flags & SS_RESULT_F_HANDSHAKE);
	assert_true(res.flags & SS_RESULT_F_KEEPALIVE);
}

void complete(test_node *a, test_node *b, const msg *init)
{
	msg resp, ka;

	respond(b, init, &resp);
	finish(a, &resp, &ka);
	confirm(b, &ka);
}

void handshake_capture(test_node *a, test_node *b, struct hs_msgs *m)
{
	start_init(a, &m->init);
	respond(b, &m->init, &m->resp);
	finish(a, &m->resp, &m->ka);
	confirm(b, &m->ka);
	assert_true(ss_peer_has_session(a->peer));
	assert_true(ss_peer_has_session(b->peer));
}

void seal(test_node *n, const void *pt, size_t len, msg *m)
{
	assert_code(ss_peer_seal(n->ctx, n->peer, pt, len, m->b, sizeof(m->b), &m->len, NULL), 0);
	assert_int_equal(m->len, len + SS_DATA_OVERHEAD);
}

void seal_str(test_node *n, const char *s, msg *m)
{
	seal(n, s, strlen(s), m);
}

void open_ok(test_node *n, const msg *m, const void *pt, size_t len)
{
	ss_result res;
	msg out;

	assert_code(consume(n, m, &out, &res), 0);
	assert_ptr_equal(res.peer, n->peer);
	if (len == 0) {
		assert_int_equal(res.kind, SS_RESULT_NONE);
		assert_true(res.flags & SS_RESULT_F_KEEPALIVE);
	} else {
		assert_int_equal(res.kind, SS_RESULT_DATA);
		assert_int_equal(res.len, len);
		assert_memory_equal(out.b, pt, len);
	}
}

void open_str(test_node *n, const msg *m, const char *s)
{
	open_ok(n, m, s, strlen(s));
}

enum ss_tick_kind tick(test_node *n, msg *m)
{
	enum ss_tick_kind kind;
	ss_flow f;

	assert_code(ss_peer_tick(n->ctx, n->peer, m->b, sizeof(m->b), &m->len, &f, &kind), 0);
	if (kind == SS_TICK_NONE)
		assert_int_equal(m->len, 0);
	else
		assert_true(ss_flow_equal(&f, kind == SS_TICK_HANDSHAKE ? &n->peer->hs.flow
									: &n->peer->current->flow));
	return kind;
}

int total_drops(const ss_ctx *ctx)
{
	ss_ctx_stats cs;
	uint64_t sum = 0;

	ss_ctx_get_stats(ctx, &cs);
	for (int i = 0; i < SS_DROP_COUNT; i++)
		sum += cs.drops[i];
	for (const ss_peer *p = ctx->peers; p; p = p->list_next) {
		ss_peer_stats ps;

		ss_peer_get_stats(p, &ps);
		for (int i = 0; i < SS_DROP_COUNT; i++)
			sum += ps.drops[i];
	}
	return (int)sum;
}
