/* SPDX-License-Identifier: MIT */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/endian.h"

struct fuzz_node fz_a, fz_b;
uint8_t fz_out[SS_MAX_PACKET];

static void clock_fn(void *arg, ss_time *now)
{
	*now = ((struct fuzz_node *)arg)->now;
}

static int rng_fn(void *arg, uint8_t *buf, size_t len)
{
	struct fuzz_node *n = arg;

	while (len) {
		uint8_t ctr[8], block[32];
		size_t k = len < 32 ? len : 32;

		ss_store_be64(ctr, n->rng_ctr++);
		if (ss_sha256(block, n->rng_seed, 32, ctr, 8, NULL, 0))
			return -1;
		memcpy(buf, block, k);
		buf += k;
		len -= k;
	}
	return 0;
}

static void die_if(int cond)
{
	if (cond)
		abort();
}

static void node_init(struct fuzz_node *n, uint8_t tag)
{
	ss_ctx_config cfg = {0};
	uint8_t seed[32];

	memset(seed, tag, sizeof(seed));
	memset(n->rng_seed, tag ^ 0x5a, sizeof(n->rng_seed));
	die_if(ss_identity_from_seed(&n->id, seed) != 0);
	n->now.mono_ns = 1000 * SS_NS_PER_SEC;
	n->now.wall_ns = UINT64_C(1790000000) * SS_NS_PER_SEC;
	cfg.identity = n->id;
	cfg.clock = clock_fn;
	cfg.clock_arg = n;
	cfg.random = rng_fn;
	cfg.random_arg = n;
	cfg.max_peers = 4;
	cfg.accept_anonymous = true;
	die_if(ss_ctx_create(&n->ctx, &cfg) != 0);
	n->flow.proto = 17;
	n->flow.local_port = tag;
	n->flow.remote_port = tag ^ 3;
	n->flow.local_addr[15] = tag;
	n->flow.remote_addr[15] = tag ^ 3;
}

int fuzz_consume(struct fuzz_node *n, const uint8_t *pkt, size_t len)
{
	ss_result res;
	int ret = ss_ctx_consume(n->ctx, &n->flow, pkt, len, fz_out, sizeof(fz_out), &res);

	/* Contract: a drop produces nothing to send or deliver. */
	if (ret)
		die_if(res.kind != SS_RESULT_NONE || res.len != 0);
	else
		die_if(res.len > sizeof(fz_out));
	return ret;
}

void fuzz_fix_mac1(uint8_t *pkt, size_t mac_off, const uint8_t key[SS_HASH_LEN])
{
	die_if(ss_mac16(pkt + mac_off, key, SS_HASH_LEN, pkt, mac_off) != 0);
}

static size_t tick(struct fuzz_node *n)
{
	enum ss_tick_kind kind;
	size_t len;

	die_if(ss_peer_tick(n->ctx, n->peer, fz_out, sizeof(fz_out), &len, NULL, &kind) != 0);
	return len;
}

void fuzz_setup(void)
{
	static int done;
	static uint8_t pkt[SS_MAX_PACKET];
	size_t len;

	if (done)
		return;
	done = 1;
	node_init(&fz_a, 1);
	node_init(&fz_b, 2);
	/* Flows mirror each other: A's local is B's remote. */
	fz_b.flow.local_port = fz_a.flow.remote_port;
	fz_b.flow.remote_port = fz_a.flow.local_port;
	memcpy(fz_b.flow.local_addr, fz_a.flow.remote_addr, 16);
	memcpy(fz_b.flow.remote_addr, fz_a.flow.local_addr, 16);
	die_if(ss_peer_add(fz_a.ctx, ss_identity_public(fz_b.id), &fz_a.peer) != 0);
	die_if(ss_peer_add(fz_b.ctx, ss_identity_public(fz_a.id), &fz_b.peer) != 0);
	ss_peer_set_flow(fz_a.peer, &fz_a.flow);
	ss_peer_set_flow(fz_b.peer, &fz_b.flow);
	ss_ctx_set_under_load(fz_a.ctx, false);
	ss_ctx_set_under_load(fz_b.ctx, false);
	ss_peer_want_handshake(fz_a.peer);
	len = tick(&fz_a);
	memcpy(pkt, fz_out, len);
	die_if(fuzz_consume(&fz_b, pkt, len) != 0);
	memcpy(pkt, fz_out, SS_RESP_LEN);
	die_if(fuzz_consume(&fz_a, pkt, SS_RESP_LEN) != 0);
	memcpy(pkt, fz_out, SS_DATA_OVERHEAD);
	die_if(fuzz_consume(&fz_b, pkt, SS_DATA_OVERHEAD) != 0);
	/* Leave an INIT pending at A so responses and cookies have an index to hit. */
	fz_a.now.mono_ns += SS_NS_PER_SEC;
	ss_peer_want_handshake(fz_a.peer);
	die_if(tick(&fz_a) != SS_INIT_LEN);
}

uint8_t *fuzz_packet(const uint8_t *data, size_t size, uint8_t type)
{
	static uint8_t pkt[SS_MAX_PACKET];

	fuzz_setup();
	if (size < 1 || size > sizeof(pkt))
		return NULL;
	memcpy(pkt, data, size);
	if (size >= 2) {
		pkt[0] = type;
		pkt[1] = SS_VERSION;
	}
	return pkt;
}
