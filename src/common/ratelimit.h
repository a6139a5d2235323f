/* SPDX-License-Identifier: MIT */
/*
 * The one per-source rate limiter: the tunnel's handshake limit, the knock daemon and the
 * audit trail all use it, so a source means the same thing everywhere.
 *
 * Source key. An IPv4 address is one source. An IPv6 source is its /64: a host or a home
 * network is normally given a whole /64 and can send from any of its 2^64 addresses, so
 * keying by the full address would give it as many buckets as it likes. An IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) is the IPv4 address it maps: the tunnel keeps every
 * address in that 16-byte form, and keying it by /64 would put every IPv4 host in one
 * bucket. A family tag in the key keeps IPv4, IPv6 and named sources (the audit trail's
 * records without an address) from ever colliding.
 *
 * Bucket. A token bucket of `burst` tokens refilled at `per_sec` tokens a second, kept as
 * one timestamp (GCRA: the theoretical arrival time, tat). Time is passed in by the caller
 * as monotonic nanoseconds, so tests are deterministic. A source never seen has a full
 * bucket; a refusal costs nothing.
 *
 * Table. A fixed number of entries, allocated once (or given by the caller), in sets of
 * SS_RL_WAYS found by the keyed hash of common/mix.h: a lookup compares at most
 * SS_RL_WAYS keys and nothing is allocated on the packet path.
 *
 * Eviction rule. A new source takes an empty way of its set, else the way whose bucket is
 * fullest (smallest tat: it refilled longest ago; the first such way on a tie). The table
 * is never "full" for a new source: it is always admitted, with a full bucket.
 * Why this cannot be turned against a victim: an evicted source only loses its record of
 * past use, and when it comes back it gets a full bucket, so eviction can only make the
 * limiter more lenient for the evicted source, never deny it; and the only way to drain a
 * bucket is to send from that source. Why it gives an attacker little: to get fresh tokens
 * for his own drained source he must push it out with SS_RL_WAYS other sources of the same
 * set that are even more drained, each of which he paid a burst to drain. The set a source
 * lands in depends on the secret key, so he cannot pick sources that share a set; churn
 * starts only when he holds about as many distinct sources (IPv4 addresses, IPv6 /64s) as
 * the table has entries, and then each still gets no more than a burst each time it is
 * evicted. Evicting the fullest way first is also what keeps the drained buckets of a
 * flooder in the table while a flood of never-charged spoofed sources comes and goes.
 */
#ifndef SS_COMMON_RATELIMIT_H
#define SS_COMMON_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/mix.h"

#define SS_RL_WAYS 4
#define SS_RL_MAX_SLOTS (1u << 22)

/* Family tags; 0 marks an empty entry. */
enum { SS_RL_TAG_NONE = 0, SS_RL_TAG_V4 = 4, SS_RL_TAG_V6 = 6, SS_RL_TAG_NAME = 0x4e };

typedef struct ss_rl_key {
	uint64_t tag; /* SS_RL_TAG_* */
	uint64_t val; /* IPv4 address, IPv6 /64 prefix, or keyed hash of a name */
} ss_rl_key;

/* Refill parameters of a bucket: one token per interval_ns, tolerance_ns = burst - 1 tokens. */
typedef struct ss_rl_rate {
	uint64_t interval_ns, tolerance_ns;
} ss_rl_rate;

typedef struct ss_rl_entry {
	ss_rl_key key;
	uint64_t tat;	     /* theoretical arrival time, ns; <= now means a full bucket */
	uint64_t suppressed; /* for the caller (refusals not yet reported); 0 for a new source */
} ss_rl_entry;

typedef struct ss_rl {
	ss_rl_entry *slots;
	uint32_t mask; /* of set indices */
	bool owned;    /* slots allocated by ss_rl_create */
	ss_rl_rate rate;
	ss_mix_key key;
} ss_rl;

/* per_sec and burst at least 1: 0 or SS_ERR_INVAL. */
int ss_rl_rate_init(ss_rl_rate *r, uint32_t per_sec, uint32_t burst);
/* Whether a bucket at *tat has a token at now_ns; ss_rl_bucket_take also takes it. */
bool ss_rl_bucket_ready(const ss_rl_rate *r, uint64_t tat, uint64_t now_ns);
bool ss_rl_bucket_take(const ss_rl_rate *r, uint64_t *tat, uint64_t now_ns);

/*
 * The source key of an address: family AF_INET (addr 4 bytes) or AF_INET6 (addr 16
 * bytes; IPv4-mapped counts as IPv4). 0, or SS_ERR_INVAL for another family.
 */
int ss_rl_key_ip(ss_rl_key *k, int family, const uint8_t *addr);
/* A source named by a string (under the table's key, so names cannot be aimed either). */
void ss_rl_key_name(const ss_rl *rl, const char *name, ss_rl_key *k);

/*
 * A table over caller storage: nslots a power of two, SS_RL_WAYS to SS_RL_MAX_SLOTS;
 * key NULL draws a random one. 0, SS_ERR_INVAL, or SS_ERR_CRYPTO if no randomness.
 */
int ss_rl_init(ss_rl *rl, ss_rl_entry *slots, uint32_t nslots, uint32_t per_sec, uint32_t burst,
	       const ss_mix_key *key);
/* The same with the table allocated here (nslots rounded up to a power of two). */
int ss_rl_create(ss_rl **out, uint32_t nslots, uint32_t per_sec, uint32_t burst,
		 const ss_mix_key *key);
void ss_rl_free(ss_rl *rl);

/* The source's entry; a new one (eviction rule above) if create, else NULL when absent. */
ss_rl_entry *ss_rl_lookup(ss_rl *rl, const ss_rl_key *k, bool create);
/* Whether the source has a token at now_ns, without taking it or adding an entry. */
bool ss_rl_ready(ss_rl *rl, const ss_rl_key *k, uint64_t now_ns);
/* Take a token for the source (adding its entry): false when it has none left. */
bool ss_rl_allow(ss_rl *rl, const ss_rl_key *k, uint64_t now_ns);

#endif
