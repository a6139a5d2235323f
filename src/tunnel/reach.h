/* SPDX-License-Identifier: MIT */
/*
 * silosecd's side of reachability (PROTOCOL.md 16): each peer's candidate flows and the
 * punch schedule that sends the pending INIT to all of them (reach.c), introducers
 * (intro.c). The core decides what a candidate or a reachability message is; this
 * layer only moves them between the peer table, the timers and the sockets.
 */
#ifndef SS_TUNNEL_REACH_H
#define SS_TUNNEL_REACH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <silosec/core.h>
#include <silosec/wire.h>

#include "config.h"
#include "introtab.h"

struct ss_daemon;
struct ss_dpeer;

/* Per-peer reachability state, kept in ss_dpeer. */
typedef struct ss_preach {
	uint8_t init[SS_INIT_LEN]; /* the latest INIT we made: punch rounds resend these bytes */
	bool has_init;
	bool fresh_wanted;   /* a punch round waits for the next INIT the core makes */
	bool path_confirmed; /* the last session's flow was confirmed in the candidate set */
	ss_flow path;	     /* flow of the last session established (for show and audit) */
	bool has_path;
	uint64_t punch_started_ns, punch_ok_ns; /* the last attempt, for show */
	uint32_t drops[SS_DROP_COUNT];		/* reachability drops attributed to this peer */
	bool introducer;			/* Introducer = yes: one of ours */
	bool introduce;				/* Introduce = yes: we may introduce it */
	/* p is our introducer: our registration with it. */
	uint32_t reg_txid;
	uint64_t reg_sent_ns, reg_next_ns, reg_ok_ns;
	bool has_reflexive;
	ss_endpoint reflexive; /* where p sees us */
	uint16_t rtt_ms;
	/* p is a peer we look for: our QUERY. */
	uint32_t q_txid;
	uint64_t q_sent_ns, q_negative_until;
	uint8_t q_tries;
	/* we are p's introducer (Introduce = yes): its registration and its rates. Allocated
	 * only for such peers: an idle peer costs under 2 KiB in all (test_scale). */
	struct ss_intro_slot *slot;
} ss_preach;

typedef struct ss_intro_slot {
	ss_intro_reg reg;
	ss_intro_rate rate;
} ss_intro_slot;

/* Interface-wide reachability state, kept in ss_daemon. */
typedef struct ss_dreach {
	uint64_t intro_tat; /* introductions in all (SS_PUNCH_TOTAL) */
	ss_endpoint local[SS_REACH_MAX_CAND];
	uint8_t nlocal; /* our addresses with the listen port (sent with AdvertiseLocal) */
	uint8_t proto;	/* transport protocol of our flows */
	bool hard_nat;	/* two introducers saw different ports: HARD_NAT (16.4 item 2) */
	uint8_t own[SS_CAND_OWN_MAX][16]; /* our addresses at start: never candidates */
	uint8_t n_own;
} ss_dreach;

/* Candidate policy and local addresses, once before the sandbox. */
int ss_reach_setup(struct ss_daemon *d);
/* CandidateAllow again (syncconf), with the addresses of the start; 0 or SS_ERR_INVAL. */
int ss_reach_set_policy(struct ss_daemon *d);
/*
 * syncconf's reachability keys: Introducer, Introduce and Relay of an existing peer
 * (0 or SS_ERR_NOMEM), and LanDiscovery, AdvertiseLocal, Private and CandidateAllow of
 * the interface (a refused= line on f for each that cannot apply; 0 or the last refusal).
 */
int ss_reach_sync_peer(struct ss_daemon *d, struct ss_dpeer *p, const ss_conf_peer *cp);
int ss_reach_sync_iface(struct ss_daemon *d, const ss_conf *nc, unsigned given, FILE *f);
/* Re-evaluate HARD_NAT from the introducers' reports; register again when it changes. */
void ss_intro_hard_nat_update(struct ss_daemon *d, uint64_t now);

/* Created with the peer (ss_daemon_add_peer) and freed with it. */
int ss_reach_peer_init(struct ss_daemon *d, struct ss_dpeer *p);
void ss_reach_peer_free(struct ss_dpeer *p);
/* p's candidate set, made (with its Endpoint) on first use; NULL when out of memory. */
ss_cands *ss_reach_cands(struct ss_daemon *d, struct ss_dpeer *p);
/* Introduce = yes|no for p: allocates or frees its introducer slot; 0 or SS_ERR_NOMEM. */
int ss_reach_set_introduce(struct ss_dpeer *p, bool introduce);

/*
 * Offer a flow where p may be reached: it enters p's candidate set through the allow list
 * (0, SS_ERR_CANDIDATE or SS_ERR_FULL, counted for p), and, while p has no session, the
 * next handshake attempt goes to it: a punch attempt starts (or, if one is under way,
 * only gains the candidate) when there is something to send (queued packets,
 * PersistentKeepalive, an introduction).
 */
int ss_daemon_offer_candidate(struct ss_daemon *d, struct ss_dpeer *p, const ss_flow *flow,
			      enum ss_cand_source src);
/* Start a punch attempt now (after delay_ms): an introduction or a pending packet. */
int ss_reach_punch(struct ss_daemon *d, struct ss_dpeer *p, uint16_t delay_ms, unsigned flags);

/* Hooks of the data path (daemon.c). */
void ss_reach_on_init_made(struct ss_daemon *d, struct ss_dpeer *p, const uint8_t *pkt, size_t len);
void ss_reach_on_handshake(struct ss_daemon *d, struct ss_dpeer *p, const ss_flow *flow);
/* An INIT or RESPONSE for p was consumed with verdict ret: peer-reflexive candidates. */
void ss_reach_observe(struct ss_daemon *d, struct ss_dpeer *p, const ss_flow *flow, uint8_t type,
		      int ret);
/* Due punch rounds; called from the timer pass before the core's own tick. */
void ss_reach_tick(struct ss_daemon *d, struct ss_dpeer *p, uint64_t now);
uint64_t ss_reach_deadline(const struct ss_daemon *d, const struct ss_dpeer *p);
/* Does p have somewhere to send an INIT (an endpoint or a candidate)? */
bool ss_reach_has_candidates(struct ss_dpeer *p);
const char *ss_reach_source_name(enum ss_cand_source s);
/*
 * p has a packet to send and no session or endpoint: punch to its candidates or ask the
 * introducers; false if there is nowhere to ask (the packet is dropped).
 */
bool ss_reach_want_path(struct ss_daemon *d, struct ss_dpeer *p);
/* Count a reachability drop for p (or the interface when p is NULL). */
void ss_reach_drop(struct ss_daemon *d, struct ss_dpeer *p, int code);

#include "intro.h"

#endif
