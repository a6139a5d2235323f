/* SPDX-License-Identifier: MIT */
/*
 * One protocol node for the benchmarks (bench/core, bench/scale, and tests/unit/test_scale.c
 * through scale_impl.h): a core context on a fake clock and a reproducible RNG, and the
 * UDP flows it is given.
 */
#ifndef SS_BENCH_NODE_H
#define SS_BENCH_NODE_H

#include <stdint.h>
#include <string.h>

#include <silosec/core.h>

#include "common/endian.h"

typedef struct sc_node {
	ss_identity *id;
	ss_ctx *ctx;
	ss_peer *peer; /* the other node, as this node knows it */
	ss_time now;   /* fake clock */
	uint64_t rng;
	ss_flow flow; /* as seen from this node */
} sc_node;

/* splitmix64: fast and reproducible; the benchmark must not measure its RNG. */
static inline uint64_t sc_rand(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static inline void sc_fill(uint64_t *s, uint8_t *buf, size_t len)
{
	while (len > 0) {
		uint64_t v = sc_rand(s);
		size_t n = len < 8 ? len : 8;

		memcpy(buf, &v, n);
		buf += n;
		len -= n;
	}
}

static inline void sc_clock(void *arg, ss_time *now)
{
	*now = ((const sc_node *)arg)->now;
}

static inline int sc_random(void *arg, uint8_t *buf, size_t len)
{
	sc_fill(&((sc_node *)arg)->rng, buf, len);
	return 0;
}

/* 0, or -1 if the identity or the context could not be made. */
static inline int sc_node_init(sc_node *n, uint64_t seed, uint32_t max_peers)
{
	uint8_t sk[SS_SEED_LEN];

	memset(n, 0, sizeof(*n));
	n->rng = seed;
	sc_fill(&n->rng, sk, sizeof(sk));
	if (ss_identity_from_seed(&n->id, sk))
		return -1;
	n->now.mono_ns = 1000 * SS_NS_PER_SEC;
	n->now.wall_ns = UINT64_C(1790000000) * SS_NS_PER_SEC;
	return ss_ctx_create(&n->ctx, &(ss_ctx_config){.identity = n->id,
						       .clock = sc_clock,
						       .clock_arg = n,
						       .random = sc_random,
						       .random_arg = n,
						       .max_peers = max_peers})
		       ? -1
		       : 0;
}

/* ::ffff:a.b.c.d */
static inline void sc_v4_mapped(uint8_t addr[16], uint32_t v4)
{
	memset(addr, 0, 10);
	addr[10] = addr[11] = 0xff;
	ss_store_be32(addr + 12, v4);
}

/* A UDP flow between two IPv4 addresses; local 0 leaves the local address unspecified (::). */
static inline void sc_flow_v4(ss_flow *f, uint32_t local, uint16_t lport, uint32_t remote,
			      uint16_t rport)
{
	memset(f, 0, sizeof(*f));
	if (local)
		sc_v4_mapped(f->local_addr, local);
	sc_v4_mapped(f->remote_addr, remote);
	f->local_port = lport;
	f->remote_port = rport;
	f->proto = 17;
}

#endif
