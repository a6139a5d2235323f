/* SPDX-License-Identifier: MIT */
/*
 * Per-source token buckets for handshake initiations, in bounded memory. Each source
 * address (IPv4-mapped or IPv6) gets SS_RL_PER_SEC initiations per second with a burst of
 * SS_RL_BURST; sources beyond the table's capacity evict the least recently seen of a
 * small probe window, which only ever makes the limiter more lenient, never stuck.
 */
#ifndef SS_TUNNEL_RATELIMIT_H
#define SS_TUNNEL_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define SS_RL_PER_SEC 20
#define SS_RL_BURST 5
#define SS_RL_SLOTS 4096 /* power of two: 4096 * 32 bytes = 128 KiB */
#define SS_RL_PROBE 4

typedef struct ss_rl_slot {
	uint8_t addr[16];
	uint64_t last_ns;   /* 0 = empty */
	uint64_t tokens_ns; /* credit in nanoseconds; one initiation costs 1 s / PER_SEC */
} ss_rl_slot;

typedef struct ss_ratelimit {
	uint64_t seed;
	ss_rl_slot slots[SS_RL_SLOTS];
} ss_ratelimit;

void ss_rl_init(ss_ratelimit *rl, uint64_t seed);
/* true if an initiation from addr may go on at now_ns (and charges it). */
bool ss_rl_allow(ss_ratelimit *rl, const uint8_t addr[16], uint64_t now_ns);

#endif
