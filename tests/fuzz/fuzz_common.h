/* SPDX-License-Identifier: MIT */
/*
 * Shared set-up for the libFuzzer harnesses: two nodes with an established session,
 * deterministic time and randomness. Harnesses may repair MACs so the fuzzer reaches
 * the parsers behind them instead of stalling at the first check.
 */
#ifndef SS_FUZZ_COMMON_H
#define SS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <silosec/core.h>

#include "internal.h"

struct fuzz_node {
	ss_identity *id;
	ss_ctx *ctx;
	ss_peer *peer;
	ss_time now;
	uint8_t rng_seed[32];
	uint64_t rng_ctr;
	ss_flow flow;
};

extern struct fuzz_node fz_a, fz_b;
extern uint8_t fz_out[SS_MAX_PACKET];

/* Build A and B once, handshake them; A has a fresh pending INIT towards B after. */
void fuzz_setup(void);
/* Consume a packet on node n, checking the API contract on the result. */
int fuzz_consume(struct fuzz_node *n, const uint8_t *pkt, size_t len);
/*
 * After fuzz_setup: data copied into a packet buffer with its type and version fixed,
 * so the fuzzer explores the parser of that message type. NULL if size is 0 or too big.
 */
uint8_t *fuzz_packet(const uint8_t *data, size_t size, uint8_t type);
void fuzz_fix_mac1(uint8_t *pkt, size_t mac_off, const uint8_t key[SS_HASH_LEN]);

#endif
