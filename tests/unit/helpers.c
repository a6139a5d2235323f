/* SPDX-License-Identifier: MIT */
#include "helpers.h"
#include "drive.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/crypto.h"
#include "common/endian.h"
#include "internal.h"

void test_clock_fn(void *arg, ss_time *now)
{
	*now = ((test_clock *)arg)->now;
}

/* SHA-256 in counter mode over a labelled seed: reproducible "randomness". */
int test_rng_fn(void *arg, uint8_t *buf, size_t len)
{
	test_rng *r = arg;

	while (len > 0) {
		uint8_t ctr[8], block[32];
		size_t n = len < sizeof(block) ? len : sizeof(block);

		ss_store_be64(ctr, r->counter++);
		if (ss_sha256(block, r->seed, sizeof(r->seed), ctr, sizeof(ctr), NULL, 0))
			return -1;
		memcpy(buf, block, n);
		buf += n;
		len -= n;
	}
	return 0;
}

void test_rng_init(test_rng *r, const char *label)
{
	assert_int_equal(ss_sha256(r->seed, label, strlen(label), NULL, 0, NULL, 0), 0);
	r->counter = 0;
}

void test_flow_v4(ss_flow *f, uint32_t local, uint16_t lport, uint32_t remote, uint16_t rport,
		  uint8_t proto)
{
	memset(f, 0, sizeof(*f));
	f->local_addr[10] = f->local_addr[11] = 0xff;
	f->remote_addr[10] = f->remote_addr[11] = 0xff;
	ss_store_be32(f->local_addr + 12, local);
	ss_store_be32(f->remote_addr + 12, remote);
	f->local_port = lport;
	f->remote_port = rport;
	f->proto = proto;
}

void test_flow_reverse(ss_flow *out, const ss_flow *in)
{
	ss_flow t = *in;

	memcpy(t.local_addr, in->remote_addr, 16);
	memcpy(t.remote_addr, in->local_addr, 16);
	t.local_port = in->remote_port;
	t.remote_port = in->local_port;
	*out = t;
}

ss_identity *test_identity(const char *label)
{
	uint8_t seed[SS_SEED_LEN];
	ss_identity *id;
	char buf[64];

	snprintf(buf, sizeof(buf), "%s identity", label);
	assert_int_equal(ss_sha256(seed, buf, strlen(buf), NULL, 0, NULL, 0), 0);
	assert_int_equal(ss_identity_from_seed(&id, seed), 0);
	return id;
}

static void node_create(test_node *n, const char *label, uint32_t max_peers, bool accept_anonymous)
{
	ss_ctx_config cfg = {0};
	char buf[64];

	memset(n, 0, sizeof(*n));
	n->id = test_identity(label);
	snprintf(buf, sizeof(buf), "%s rng", label);
	test_rng_init(&n->rng, buf);
	n->clock.now.mono_ns = 1000 * SS_NS_PER_SEC;
	n->clock.now.wall_ns = UINT64_C(1790000000) * SS_NS_PER_SEC;
	cfg.identity = n->id;
	cfg.clock = test_clock_fn;
	cfg.clock_arg = &n->clock;
	cfg.random = test_rng_fn;
	cfg.random_arg = &n->rng;
	cfg.max_peers = max_peers;
	cfg.accept_anonymous = accept_anonymous;
	assert_int_equal(ss_ctx_create(&n->ctx, &cfg), 0);
}

void test_node_init(test_node *n, const char *label, uint32_t max_peers)
{
	node_create(n, label, max_peers, false);
}

void test_node_init_anon(test_node *n, const char *label, bool accept_anonymous)
{
	node_create(n, label, 4, accept_anonymous);
}

void test_node_free(test_node *n)
{
	ss_ctx_free(n->ctx);
	ss_identity_free(n->id);
}

void test_pair_init(test_node *a, test_node *b)
{
	test_node_init(a, "alice", 4);
	test_node_init(b, "bob", 4);
	assert_int_equal(ss_peer_add(a->ctx, ss_identity_public(b->id), &a->peer), 0);
	assert_int_equal(ss_peer_add(b->ctx, ss_identity_public(a->id), &b->peer), 0);
	test_flow_v4(&a->flow, 0x0a000001, 5000, 0x0a000002, 6000, 17);
	test_flow_reverse(&b->flow, &a->flow);
	ss_peer_set_flow(a->peer, &a->flow);
	ss_peer_set_flow(b->peer, &b->flow);
}

void test_pair_free(test_node *a, test_node *b)
{
	test_node_free(a);
	test_node_free(b);
}

void test_advance(test_node *a, test_node *b, uint64_t ns)
{
	a->clock.now.mono_ns += ns;
	a->clock.now.wall_ns += ns;
	if (b) {
		b->clock.now.mono_ns += ns;
		b->clock.now.wall_ns += ns;
	}
}

void test_handshake(test_node *a, test_node *b)
{
	struct hs_msgs m;

	handshake_capture(a, b, &m);
}

void test_send(test_node *from, test_node *to, const char *text)
{
	msg m;

	seal_str(from, text, &m);
	open_str(to, &m, text);
}

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

int hex_decode(const char *hex, uint8_t *out, size_t max, size_t *len)
{
	size_t n = 0;

	while (hex[0] && hex[1]) {
		unsigned v;

		if (hex[0] == ' ' || hex[0] == '\n') {
			hex++;
			continue;
		}
		if (n >= max || sscanf(hex, "%2x", &v) != 1)
			return -1;
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	*len = n;
	return 0;
}

void hex_encode(const uint8_t *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
	out[2 * len] = '\0';
}
