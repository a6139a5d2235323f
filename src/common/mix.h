/* SPDX-License-Identifier: MIT */
/*
 * The one hash mixer for the tables that remote input fills (AllowedIPs, conntrack, the
 * per-source rate limiter): splitmix64's finaliser, in which every input bit flips each
 * output bit with probability ~1/2, applied to keys XORed with a secret drawn at init.
 *
 * Why keyed: the keys of these tables are source addresses and ports that an attacker
 * chooses. With a public hash he could compute offline a set of sources that all land in
 * one bucket, and turn a constant-time lookup into a long probe run, or (in the rate
 * limiter) keep evicting one set. With a random per-run key he cannot tell which of his
 * sources collide, so aiming at one bucket costs as many sources as filling the table.
 * This is not a cryptographic PRF (SipHash would be): the tables do not rely on the key
 * alone, each bounds its probe length so that even a collision costs only a few compares.
 */
#ifndef SS_COMMON_MIX_H
#define SS_COMMON_MIX_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/random.h>

typedef struct ss_mix_key {
	uint64_t k[2];
} ss_mix_key;

static inline uint64_t ss_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

/* Two words under the key: the form AllowedIPs and the rate limiter use. */
static inline uint64_t ss_mix_keyed(const ss_mix_key *key, uint64_t a, uint64_t b)
{
	return ss_mix64(ss_mix64(a ^ key->k[0]) ^ b ^ key->k[1]);
}

/*
 * A fresh key from the kernel's random source (getrandom, which the sandbox allows; it
 * blocks only before the kernel's pool is first seeded, as every other key drawn does).
 * 0, or -1 if it fails.
 */
static inline int ss_mix_key_random(ss_mix_key *key)
{
	ssize_t n;

	do
		n = getrandom(key, sizeof(*key), 0);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*key) ? 0 : -1;
}

#endif
