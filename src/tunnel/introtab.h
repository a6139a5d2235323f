/* SPDX-License-Identifier: MIT */
/*
 * An introducer's decisions (PROTOCOL.md 16.4, 16.10) with no daemon in sight: one
 * registration per configured peer, the rates of introductions, and the ANSWER and PUNCH
 * an introduction sends. silosecd (intro.c) keeps these in its peer table; the unit test
 * drives them on a fixed clock.
 */
#ifndef SS_TUNNEL_INTROTAB_H
#define SS_TUNNEL_INTROTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <silosec/core.h>
#include <silosec/wire.h>

#define SS_INTRO_PAIRS 8 /* recent targets remembered per requester (pair interval) */

/* A peer's registration at this introducer. */
typedef struct ss_intro_reg {
	bool valid;
	uint64_t at_ns; /* last REGISTER */
	ss_endpoint reflexive;
	uint8_t flags;
	uint16_t rtt_ms;
	uint8_t n_cand;
	ss_endpoint cand[SS_REACH_MAX_CAND];
} ss_intro_reg;

/* What the introducer remembers of one requester's introductions. */
typedef struct ss_intro_rate {
	uint64_t tat_ns; /* GCRA: SS_PUNCH_PER_REQUESTER a second */
	struct {
		uint8_t tag[8]; /* first bytes of the target's identity */
		uint64_t at_ns;
	} pair[SS_INTRO_PAIRS];
} ss_intro_rate;

/* Record a REGISTER (m) that arrived on reflexive; 0 or SS_ERR_INVAL. */
int ss_intro_register(ss_intro_reg *r, const ss_reach_msg *m, const ss_endpoint *reflexive,
		      uint64_t now_ns);
bool ss_intro_reg_live(const ss_intro_reg *r, uint64_t now_ns);

/*
 * May requester R be introduced to target T now? r_ok, t_ok: both are peers with
 * Introduce = yes; treg: T's registration. 0 (the rates are charged), SS_ERR_REACH_DENIED
 * or SS_ERR_REACH_RATE (nothing charged).
 */
int ss_intro_decide(bool r_ok, bool t_ok, const ss_intro_reg *treg, ss_intro_rate *rq,
		    uint64_t *global_tat, const uint8_t t_id[SS_IDENTITY_LEN], uint64_t now_ns);

/*
 * The ANSWER to R (query: R's QUERY, r_seen: R's endpoint as the introducer sees it,
 * rreg: R's registration or NULL) and the PUNCH to T, timed so their first rounds cross.
 */
void ss_intro_build(const ss_reach_msg *query, const ss_endpoint *r_seen, const ss_intro_reg *rreg,
		    const ss_intro_reg *treg, const uint8_t r_id[SS_IDENTITY_LEN],
		    uint32_t punch_txid, ss_reach_msg *answer, ss_reach_msg *punch);

/* delay for the side nearer the introducer: half the RTT difference, capped. */
uint16_t ss_intro_delay(uint16_t rtt_near, uint16_t rtt_far);

/*
 * HARD_NAT (PROTOCOL.md 16.4 item 2): our endpoints as n introducers see them (one local
 * port: ours); true when two show one address with different ports, i.e. our NAT gave
 * each destination its own mapping.
 */
bool ss_intro_hard_nat(const ss_endpoint *seen, size_t n);

/*
 * The punch flags (core.h SS_PUNCH_F_*) for an ANSWER or PUNCH with the peer's flags: both
 * sides HARD_NAT, the peer RELAY_OK and a relay here (relay_here) give a relay at once and
 * no rounds (16.5); anything less, the ordinary rounds (0).
 */
unsigned ss_intro_punch_flags(uint8_t flags, bool our_hard_nat, bool relay_here);

void ss_endpoint_from_flow(ss_endpoint *e, const ss_flow *f);
void ss_flow_from_endpoint(ss_flow *f, const ss_endpoint *e, uint16_t local_port, uint8_t proto);

#endif
