/* SPDX-License-Identifier: MIT */
/*
 * Scale measurements shared by bench/scale (which prints them) and tests/unit/test_scale.c
 * (which asserts on their ratios): one responder "daemon" with N configured peers, each
 * as silosecd holds it (core peer, tunnel peer with its Endpoint name and one AllowedIPs
 * prefix, the AllowedIPs entry), and one real initiator among them.
 *
 * Memory is malloc's own count (mallinfo2 in-use bytes, OpenSSL's allocations included),
 * so it is exact and independent of page granularity. Times are per operation, median of
 * several rounds; callers compare them between sizes, never against a constant.
 */
#ifndef SS_BENCH_SCALE_IMPL_H
#define SS_BENCH_SCALE_IMPL_H

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <silosec/core.h>

#include "allowedips.h"
#include "daemon.h"
#include "common/clock.h"
#include "common/endian.h"
#include "internal.h"
#include "node.h"

#define SC_ROUNDS 7

typedef struct sc_world {
	uint32_t n;
	sc_node a, b; /* a initiates; b holds n configured peers, a among them */
	ss_allowedips *aips;
	ss_dpeer **dp;
	uint8_t (*ids)[SS_IDENTITY_LEN];
	size_t idle_bytes;    /* malloc'd for the n configured peers (b's context included) */
	size_t session_bytes; /* b's growth for one established session */
	size_t b_growth;      /* b's allocations during the last handshake */
} sc_world;

static inline size_t sc_heap(void)
{
	return mallinfo2().uordblks;
}

/* Peer i's tunnel address: 10.0.0.0/8 and up, one /32 each. */
static inline void sc_addr(uint32_t i, uint8_t out[4])
{
	ss_store_be32(out, 0x0a000000u + i + 1);
}

/* As ss_daemon_add_peer holds a configured peer: the tunnel peer, its Endpoint text,
 * its AllowedIPs copy and entry, the core peer. */
static inline int sc_add_peer(sc_world *w, uint32_t i, const uint8_t *identity)
{
	ss_dpeer *p = calloc(1, sizeof(*p));
	char name[64];

	if (!p)
		return -1;
	snprintf(name, sizeof(name), "198.51.%u.%u:51820", (i >> 8) & 255, i & 255);
	p->name = strdup(name);
	p->allowed = calloc(1, sizeof(*p->allowed));
	if (!p->name || !p->allowed || ss_peer_add(w->b.ctx, identity, &p->sp))
		return -1;
	p->nallowed = 1;
	p->allowed->family = AF_INET;
	p->allowed->prefix = 32;
	sc_addr(i, p->allowed->addr);
	ss_peer_set_user(p->sp, p);
	w->dp[i] = p;
	return ss_allowedips_insert(w->aips, AF_INET, p->allowed->addr, 32, p);
}

static inline void sc_advance(sc_world *w, uint64_t ns)
{
	w->a.now.mono_ns += ns;
	w->a.now.wall_ns += ns;
	w->b.now.mono_ns += ns;
	w->b.now.wall_ns += ns;
}

/* A full handshake a -> b; returns b's time for consuming the INIT (ns), 0 on error. */
static inline uint64_t sc_handshake(sc_world *w)
{
	static uint8_t init[SS_MAX_PACKET], resp[SS_MAX_PACKET], ka[SS_MAX_PACKET],
		out[SS_MAX_PACKET];
	enum ss_tick_kind kind;
	size_t init_len;
	ss_result res;
	ss_flow f;
	uint64_t t0, t1;
	size_t h0, h1, h2;

	sc_advance(w, SS_NS_PER_SEC);
	ss_peer_want_handshake(w->a.peer);
	if (ss_peer_tick(w->a.ctx, w->a.peer, init, sizeof(init), &init_len, &f, &kind) ||
	    kind != SS_TICK_HANDSHAKE)
		return 0;
	h0 = sc_heap();
	t0 = ss_mono_ns();
	if (ss_ctx_consume(w->b.ctx, &w->b.flow, init, init_len, resp, sizeof(resp), &res) ||
	    res.kind != SS_RESULT_REPLY)
		return 0;
	t1 = ss_mono_ns();
	h1 = sc_heap();
	if (ss_ctx_consume(w->a.ctx, &w->a.flow, resp, res.len, ka, sizeof(ka), &res))
		return 0;
	h2 = sc_heap();
	if (ss_ctx_consume(w->b.ctx, &w->b.flow, ka, res.len, out, sizeof(out), &res))
		return 0;
	/* Only b's own allocations: a's happen in between. */
	w->b_growth = (h1 - h0) + (sc_heap() - h2);
	return t1 - t0 ? t1 - t0 : 1;
}

static inline void sc_free(sc_world *w)
{
	for (uint32_t i = 0; w->dp && i < w->n; i++) {
		if (!w->dp[i])
			continue;
		free(w->dp[i]->name);
		free(w->dp[i]->allowed);
		free(w->dp[i]);
	}
	free(w->dp);
	free(w->ids);
	if (w->aips)
		ss_allowedips_free(w->aips);
	if (w->a.ctx)
		ss_ctx_free(w->a.ctx);
	if (w->b.ctx)
		ss_ctx_free(w->b.ctx);
	ss_identity_free(w->a.id);
	ss_identity_free(w->b.id);
	memset(w, 0, sizeof(*w));
}

/* b with n configured peers (a is peer n / 2), a with b; one session established. */
static inline int sc_build(sc_world *w, uint32_t n, uint64_t seed)
{
	uint32_t me = n / 2;
	size_t h0;
	uint64_t s = seed;

	memset(w, 0, sizeof(*w));
	w->n = n;
	w->dp = calloc(n, sizeof(*w->dp));
	w->ids = malloc((size_t)n * SS_IDENTITY_LEN);
	if (!w->dp || !w->ids || sc_node_init(&w->a, seed ^ 0xa11ce, 4))
		return -1;
	for (uint32_t i = 0; i < n; i++)
		for (size_t k = 0; k < SS_IDENTITY_LEN; k += 8) {
			uint64_t v = sc_rand(&s);

			memcpy(w->ids[i] + k, &v, 8);
		}
	memcpy(w->ids[me], ss_identity_public(w->a.id), SS_IDENTITY_LEN);
	/* Everything b allocates for its peers, as silosecd sizes it (npeers + 1024). */
	h0 = sc_heap();
	if (sc_node_init(&w->b, seed ^ 0xb0b, n + 1024) || ss_allowedips_create(&w->aips))
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (sc_add_peer(w, i, w->ids[i]))
			return -1;
	w->idle_bytes = sc_heap() - h0;
	w->b.peer = w->dp[me]->sp;
	if (ss_peer_add(w->a.ctx, ss_identity_public(w->b.id), &w->a.peer))
		return -1;
	sc_flow_v4(&w->a.flow, 0, 51820, 0xc6330102, 51820);
	sc_flow_v4(&w->b.flow, 0, 51820, 0xc6330101, 51820);
	ss_peer_set_flow(w->a.peer, &w->a.flow);
	ss_ctx_set_under_load(w->b.ctx, false);
	if (!sc_handshake(w))
		return -1;
	w->session_bytes = w->b_growth;
	return ss_peer_has_session(w->b.peer) ? 0 : -1;
}

static inline int sc_cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static inline double sc_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), sc_cmp);
	return v[n / 2];
}

static volatile uintptr_t sc_sink;

/* ns per allowedips lookup of a random configured peer's address. */
static inline double sc_time_aips(sc_world *w, uint32_t ops)
{
	double r[SC_ROUNDS];
	uint64_t s = 7;

	for (int k = 0; k < SC_ROUNDS; k++) {
		uint64_t t0 = ss_mono_ns();

		for (uint32_t i = 0; i < ops; i++) {
			uint8_t a[4];

			sc_addr((uint32_t)(sc_rand(&s) % w->n), a);
			sc_sink += (uintptr_t)ss_allowedips_lookup(w->aips, AF_INET, a);
		}
		r[k] = (double)(ss_mono_ns() - t0) / ops;
	}
	return sc_median(r, SC_ROUNDS);
}

/* ns per peer lookup by identity (handshakes and the control socket use it). */
static inline double sc_time_find(sc_world *w, uint32_t ops)
{
	double r[SC_ROUNDS];
	uint64_t s = 9;

	for (int k = 0; k < SC_ROUNDS; k++) {
		uint64_t t0 = ss_mono_ns();

		for (uint32_t i = 0; i < ops; i++)
			sc_sink += (uintptr_t)ss_peer_find(w->b.ctx, w->ids[sc_rand(&s) % w->n]);
		r[k] = (double)(ss_mono_ns() - t0) / ops;
	}
	return sc_median(r, SC_ROUNDS);
}

/* ns per data packet b receives (receiver index lookup + open + replay check). */
static inline double sc_time_data(sc_world *w, uint32_t ops)
{
	static uint8_t pkt[256], out[SS_MAX_PACKET];
	double r[SC_ROUNDS];
	uint8_t pt[64] = {0x45};
	size_t len;
	ss_result res;

	for (int k = 0; k < SC_ROUNDS; k++) {
		uint64_t total = 0;

		for (uint32_t i = 0; i < ops; i++) {
			uint64_t t0;

			if (ss_peer_seal(w->a.ctx, w->a.peer, pt, sizeof(pt), pkt, sizeof(pkt),
					 &len, NULL))
				return -1;
			t0 = ss_mono_ns();
			if (ss_ctx_consume(w->b.ctx, &w->b.flow, pkt, len, out, sizeof(out), &res))
				return -1;
			total += ss_mono_ns() - t0;
		}
		r[k] = (double)total / ops;
	}
	return sc_median(r, SC_ROUNDS);
}

/* ns for b to answer one INIT (identity lookup, signature, DH, new session). */
static inline double sc_time_handshake(sc_world *w, int ops)
{
	double r[SC_ROUNDS];

	for (int k = 0; k < SC_ROUNDS; k++) {
		uint64_t total = 0;

		for (int i = 0; i < ops; i++) {
			uint64_t t = sc_handshake(w);

			if (!t)
				return -1;
			total += t;
		}
		r[k] = (double)total / ops;
	}
	return sc_median(r, SC_ROUNDS);
}

/* ns for one timer pass over all n peers as silosecd's run_timers does it when nothing
 * is due (deadline and keepalive checks per peer). */
static inline double sc_time_timer_pass(sc_world *w)
{
	double r[SC_ROUNDS];
	uint64_t now = w->b.now.mono_ns;

	for (int k = 0; k < SC_ROUNDS; k++) {
		uint64_t t0 = ss_mono_ns(), next = UINT64_MAX;

		for (uint32_t i = 0; i < w->n; i++) {
			const ss_dpeer *p = w->dp[i];
			uint64_t dl = ss_peer_deadline(p->sp);

			if (dl <= now || (p->keepalive && !ss_peer_has_session(p->sp)))
				sc_sink++;
			if (dl < next)
				next = dl;
		}
		sc_sink += next;
		r[k] = (double)(ss_mono_ns() - t0);
	}
	return sc_median(r, SC_ROUNDS);
}

#endif
