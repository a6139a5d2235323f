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

/*
 * Per-peer reachability state while p is being reached (a punch, a query, the path of a
 * session) or is one of our introducers. Made on first use (ss_reach_ext: the timer pass,
 * handshakes, reachability messages, and once the first packet for a peer with no path
 * starts a query or punch; never for a packet of a session) and released once p is idle
 * again (ss_reach_trim): an idle configured peer carries none of it.
 */
typedef struct ss_preach_ext {
	uint8_t init[SS_INIT_LEN]; /* the latest INIT we made: punch rounds resend these bytes */
	bool has_init;
	bool fresh_wanted;  /* a punch round waits for the next INIT the core makes */
	bool has_path;	    /* path is the flow of the last session established (show, audit) */
	bool has_reflexive; /* p is our introducer and told us where it sees us */
	uint8_t q_tries;    /* p is a peer we look for: our QUERY (SS_QUERY_TRIES) */
	uint16_t rtt_ms;    /* to p, our introducer (capped at 60 s) */
	ss_flow path;
	ss_endpoint reflexive;
	uint32_t reg_txid, q_txid;
	uint64_t punch_started_ns; /* the last attempt (SS_PUNCH_PAIR_INTERVAL) */
	uint64_t reg_sent_ns, reg_next_ns;
	uint64_t reg_ok_ns; /* our last REGISTERED from p: how fresh reflexive is (HARD_NAT) */
	uint64_t q_sent_ns, q_negative_until;
} ss_preach_ext;

/* What every configured peer carries: its flags and two pointers (test_scale). */
typedef struct ss_preach {
	bool introducer; /* Introducer = yes: one of ours */
	bool introduce;	 /* Introduce = yes: we may introduce it */
	ss_preach_ext *x;
	/* we are p's introducer (Introduce = yes): its registration and its rates. Allocated
	 * only for such peers. */
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
/* p's reachability state to read: all zero while p has none. */
const ss_preach_ext *ss_reach_get(const struct ss_dpeer *p);
/* ... to change: made on first use; NULL when out of memory. */
ss_preach_ext *ss_reach_ext(struct ss_dpeer *p);
/* Wipe and free it (the peer is removed); reads see all zero again. */
void ss_reach_release(struct ss_dpeer *p);
/* p, an introducer of ours, is due to register at once (without state, it already is). */
void ss_reach_register_now(struct ss_dpeer *p);
/*
 * Timer pass (reachstate.c): release p's state once nothing needs it: no session, no handshake,
 * punch or query under way, not an introducer, and no pacing window (SS_PUNCH_PAIR_INTERVAL,
 * SS_PUNCH_RELAY_AFTER, SS_QUERY_NEGATIVE) still open.
 */
void ss_reach_trim(struct ss_dpeer *p, uint64_t now);
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
void ss_reach_on_init_made(struct ss_daemon *d, struct ss_dpeer *p, const uint8_t *pkt, size_t len,
			   const ss_flow *sent);
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
