/* SPDX-License-Identifier: MIT */
/*
 * The daemon's full validation pipeline for one datagram, in the order of seed 003 and
 * docs/PROTOCOL.md 14.5: size, rate limit, outer MAC, the cache of opened datagrams, the
 * global public-key budget, decrypt, signature, known
 * identity, signed source address, our own clock, timestamp window, replay cache, then whether the
 * identity may run the action. Sans-IO (the caller passes clocks) so every rejection is
 * unit-tested.
 */
#ifndef SS_KNOCK_VALIDATE_H
#define SS_KNOCK_VALIDATE_H

#include <silosec/error.h>
#include "knock/knock.h"

#include "common/ratelimit.h"

#include "evidence.h"
#include "kconf.h"

typedef struct ss_knock_validator {
	const ss_kconf *conf;
	ss_knock_server *srv;
	ss_knock_ratelimit *rl;
	ss_knock_replay *rp;
	ss_knock_seen *seen;		     /* step 3b */
	ss_rl_rate pk_rate;		     /* step 3c: the daemon-wide public-key budget */
	uint64_t pk_tat;		     /* its bucket (GCRA) */
	uint64_t drops[SS_KNOCK_DROP_COUNT]; /* by -(code - SS_KNOCK_DROP_FIRST) */
	uint64_t accepted;
	uint64_t pk_ops; /* datagrams that reached X25519 */
	uint64_t copies; /* drops decided from the cache of opened datagrams, before X25519 */
} ss_knock_validator;

typedef struct ss_knock_verdict {
	ss_knock_msg msg;
	const ss_kclient *client;
	const ss_kaction *action;
	uint32_t duration;    /* seconds, after the action's cap */
	ss_knock_evidence ev; /* for the privileged re-check (evidence.h) */
} ss_knock_verdict;

/* rl_seed keys the rate-limit hash; replay file from conf (may be NULL), loaded at both clocks. */
int ss_knock_validator_init(ss_knock_validator *v, const ss_kconf *conf, const ss_identity *id,
			    uint64_t rl_seed, uint64_t wall_ms, uint64_t mono_ns) SS_WARN_UNUSED;
void ss_knock_validator_free(ss_knock_validator *v);

/*
 * 0 and *out filled if the knock must run its action; otherwise a SS_ERR_KNOCK_* code
 * (counted in v->drops) or another negative code for a local failure (replay file).
 * mono_ns drives the rate limiter and the replay cache's lifetimes, wall_ms the timestamp
 * window.
 */
int ss_knock_validate(ss_knock_validator *v, const uint8_t *pkt, size_t len, int family,
		      const uint8_t *addr, uint64_t mono_ns, uint64_t wall_ms,
		      ss_knock_verdict *out) SS_WARN_UNUSED;

/* Drops decided after the signature verified: identity (and action) are authenticated. */
static inline bool ss_knock_drop_signed(int code)
{
	return code <= SS_ERR_KNOCK_UNKNOWN_ID && code >= SS_ERR_KNOCK_CLOCK;
}

static inline int ss_knock_drop_index(int code)
{
	if (code > SS_KNOCK_DROP_FIRST || code < SS_KNOCK_DROP_LAST)
		return -1;
	return SS_KNOCK_DROP_FIRST - code;
}

#endif
