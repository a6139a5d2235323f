/* SPDX-License-Identifier: MIT */
/*
 * splitmix64's finaliser: every input bit flips each output bit with probability ~1/2.
 * The tunnel's hash tables (AllowedIPs, the handshake rate limiter, conntrack) feed it
 * keys XORed with a secret per-run seed, so an outsider cannot aim many keys at one
 * bucket.
 */
#ifndef SS_TUNNEL_MIX_H
#define SS_TUNNEL_MIX_H

#include <stdint.h>

static inline uint64_t ss_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

#endif
