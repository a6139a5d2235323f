/* SPDX-License-Identifier: MIT */
#include "helpers.h"

#include <stdio.h>
#include <string.h>

#include "common/crypto.h"
#include "common/endian.h"

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

void test_node_init(test_node *n, const char *label, uint32_t max_peers)
{
	uint8_t seed[32];
	ss_ctx_config cfg = {0};
	char buf[64];

	memset(n, 0, sizeof(*n));
	snprintf(buf, sizeof(buf), "%s identity", label);
	assert_int_equal(ss_sha256(seed, buf, strlen(buf), NULL, 0, NULL, 0), 0);
	assert_int_equal(ss_identity_from_seed(&n->id, seed), 0);
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
	assert_int_equal(ss_ctx_create(&n->ctx, &cfg), 0);
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
	uint8_t init[SS_MAX_PACKET], resp[SS_MAX_PACKET], ka[SS_MAX_PACKET];
	size_t init_len, len;
	enum ss_tick_kind kind;
	ss_result res;
	ss_flow f;

	ss_peer_want_handshake(a->peer);
	assert_int_equal(ss_peer_tick(a->ctx, a->peer, init, sizeof(init), &init_len, &f, &kind),
			 0);
	assert_int_equal(kind, SS_TICK_HANDSHAKE);
	assert_int_equal(init_len, SS_INIT_LEN);
	assert_int_equal(ss_ctx_consume(b->ctx, &b->flow, init, init_len, resp, sizeof(resp), &res),
			 0);
	assert_int_equal(res.kind, SS_RESULT_REPLY);
	assert_int_equal(res.len, SS_RESP_LEN);
	len = res.len;
	assert_int_equal(ss_ctx_consume(a->ctx, &a->flow, resp, len, ka, sizeof(ka), &res), 0);
	assert_true(res.flags & SS_RESULT_F_HANDSHAKE);
	assert_int_equal(res.kind, SS_RESULT_REPLY);
	len = res.len;
	assert_int_equal(ss_ctx_consume(b->ctx, &b->flow, ka, len, resp, sizeof(resp), &res), 0);
	assert_true(res.flags & SS_RESULT_F_HANDSHAKE);
	assert_true(res.flags & SS_RESULT_F_KEEPALIVE);
	assert_true(ss_peer_has_session(a->peer));
	assert_true(ss_peer_has_session(b->peer));
}

void test_send(test_node *from, test_node *to, const char *msg)
{
	uint8_t pkt[SS_MAX_PACKET], out[SS_MAX_PACKET];
	size_t len;
	ss_result res;

	assert_int_equal(ss_peer_seal(from->ctx, from->peer, (const uint8_t *)msg, strlen(msg), pkt,
				      sizeof(pkt), &len, NULL),
			 0);
	assert_int_equal(ss_ctx_consume(to->ctx, &to->flow, pkt, len, out, sizeof(out), &res), 0);
	assert_int_equal(res.kind, SS_RESULT_DATA);
	assert_int_equal(res.len, strlen(msg));
	assert_memory_equal(out, msg, res.len);
	assert_ptr_equal(res.peer, to->peer);
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
