/* SPDX-License-Identifier: MIT */
/*
 * Core data structures. Everything a peer can need is allocated when it is added, except
 * its session slots and their cipher contexts: those come with its first handshake, so
 * thousands of configured but idle peers stay small (bench/scale).
 */
#ifndef SS_INTERNAL_H
#define SS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <silosec/core.h>

#include "common/crypto.h"
#include "common/ratelimit.h"
#include "core/hs.h" /* ss_hs_*, ss_mac1_key, ss_mac16: shared with the stream handshake */

/* ---- replay.c: RFC 6479 sliding window ---- */
typedef struct ss_replay {
	uint64_t next; /* 1 + highest counter accepted; 0 = nothing yet */
	uint64_t bits[SS_REPLAY_WORDS];
} ss_replay;

void ss_replay_init(ss_replay *r);
/* 0 if counter may be accepted, else SS_ERR_REPLAY / SS_ERR_TOO_OLD. Changes nothing. */
int ss_replay_check(const ss_replay *r, uint64_t counter) SS_WARN_UNUSED;
/* Record counter; only after the packet authenticated. */
void ss_replay_commit(ss_replay *r, uint64_t counter);

/* ---- table.c: open addressing, linear probing, backward-shift delete ---- */
typedef struct ss_table_slot {
	uint64_t key;
	void *val; /* NULL = empty */
	uint32_t aux;
} ss_table_slot;

typedef struct ss_table {
	ss_table_slot *slots;
	uint64_t seed;
	uint32_t mask;
	uint32_t count;
} ss_table;

int ss_table_init(ss_table *t, uint32_t max_entries, uint64_t seed) SS_WARN_UNUSED;
void ss_table_free(ss_table *t);
int ss_table_insert(ss_table *t, uint64_t key, void *val, uint32_t aux) SS_WARN_UNUSED;
/* Iterate entries with key: *pos starts at UINT32_MAX. */
ss_table_slot *ss_table_next(const ss_table *t, uint64_t key, uint32_t *pos);
void ss_table_remove(ss_table *t, uint64_t key, const void *val, uint32_t aux);
/* Change the aux of the entry (key, val, aux) in place: nothing moves, so it cannot fail. */
void ss_table_retag(ss_table *t, uint64_t key, const void *val, uint32_t aux, uint32_t new_aux);

/* ---- sessions ---- */
enum { SLOT_A = 0, SLOT_B, SLOT_C, SS_SESSION_SLOTS, SLOT_HANDSHAKE = SS_SESSION_SLOTS };

typedef struct ss_session {
	bool valid;
	bool initiator; /* we sent the INIT that made it */
	bool confirmed; /* the peer proved it holds the keys */
	uint8_t slot;
	uint32_t local_index;
	uint32_t remote_index;
	uint64_t created_ns;
	uint64_t epoch;
	ss_flow flow;
	ss_aead tx, rx;
	uint64_t tx_next;
	ss_replay rx_window;
	uint64_t rx_packets;
	bool echo_seen;
	uint64_t echo_counter, echo_rx_next, echo_rx_packets; /* last echo from the peer */
	uint64_t echo_sent_ns;				      /* our last echo */
	bool echo_pending;				      /* DATA received since */
} ss_session;

typedef struct ss_handshake {
	bool active;
	uint32_t index;
	EVP_PKEY *eph; /* our ephemeral X25519 key */
	uint8_t init[SS_INIT_LEN];
	uint8_t responder[SS_IDENTITY_LEN]; /* R* of the INIT: keys its mac1 and cookie reply */
	uint64_t sent_ns;
	uint64_t started_ns;
	uint64_t retry_ns; /* next retry deadline, jittered */
	ss_flow flow;
} ss_handshake;

struct ss_peer {
	/* The small fields sit together, so that a configured peer has no holes (test_scale). */
	ss_ctx *ctx;
	uint8_t identity[SS_IDENTITY_LEN];
	uint8_t mac1_key[SS_HASH_LEN]; /* for the INITs we send to this peer */
	uint8_t cookie[SS_COOKIE_LEN];
	bool has_identity;
	bool tofu; /* initiations stay anonymous; the answer is checked against identity */
	bool has_cookie;
	bool has_flow;
	bool want_handshake;
	bool rx_data_pending; /* data received and nothing sent since */
	ss_flow flow;
	uint32_t keepalive_s;
	uint64_t cookie_ns;
	uint64_t rx_timestamp; /* greatest INIT timestamp accepted from the peer */
	uint64_t rx_init_ns;   /* when we accepted it (flood limit) */
	uint64_t tx_timestamp; /* greatest we sent */
	ss_handshake hs;
	ss_session *slots; /* SS_SESSION_SLOTS of them; NULL until the first handshake */
	ss_session *current, *previous, *next;
	uint64_t last_tx_ns, last_rx_ns, last_hs_ns;
	/* ss_peer_restart_handshake: no INIT before this; when the one before the last left */
	uint64_t hs_not_before_ns, prev_hs_ns;
	ss_peer_stats stats;
	void *user;
	ss_peer *list_next;
};

/* candidates.c: the allow list every candidate passes (ss_ctx_set_candidate_policy). */
typedef struct ss_cand_policy {
	ss_prefix allow[SS_CAND_ALLOW_MAX];
	uint8_t own[SS_CAND_OWN_MAX][16];
	uint8_t n_allow, n_own;
} ss_cand_policy;

struct ss_ctx {
	const ss_identity *id;
	uint8_t mac1_key_self[SS_HASH_LEN];
	uint8_t mac1_key_anon[SS_HASH_LEN];
	uint8_t cookie_key_self[SS_HASH_LEN];
	ss_clock_fn clock;
	void *clock_arg;
	ss_random_fn random;
	void *random_arg;
	bool accept_anonymous;
	uint32_t max_peers;
	uint32_t npeers;
	ss_peer *peers;
	ss_table by_identity;
	ss_table by_index;
	uint8_t cookie_secret[SS_HASH_LEN];
	uint64_t cookie_secret_ns;
	bool has_cookie_secret;
	uint64_t load_tokens_ns; /* token bucket stored as time credit */
	uint64_t load_last_ns;
	int force_load; /* -1 automatic, 0 off, 1 on */
	/* Under load, INITs with a valid mac2: per source, and all together (SS_LOAD_*). */
	ss_rl *source_rl;
	ss_rl_rate proven_rate;
	uint64_t proven_tat;
	/* Keys of the session a handshake is building, swapped into its slot on commit. */
	ss_aead stage_tx, stage_rx;
	ss_ctx_stats stats;
	ss_cand_policy cand_policy;
};

/* ctx.c */
void ss_now(ss_ctx *ctx, ss_time *t);
uint64_t ss_ctx_mono(ss_ctx *ctx);
int ss_rand(ss_ctx *ctx, void *buf, size_t len) SS_WARN_UNUSED;
uint64_t ss_identity_key(const uint8_t id[SS_IDENTITY_LEN]);
int ss_index_alloc(ss_ctx *ctx, ss_peer *peer, uint32_t slot, uint32_t *out) SS_WARN_UNUSED;
void ss_index_release(ss_ctx *ctx, ss_peer *peer, uint32_t slot, uint32_t index);
/* Give index, which names peer's slot from, to slot to; cannot fail. */
void ss_index_move(ss_ctx *ctx, ss_peer *peer, uint32_t index, uint32_t from, uint32_t to);
ss_peer *ss_index_lookup(ss_ctx *ctx, uint32_t index, uint32_t *slot);
void ss_count_drop(ss_ctx *ctx, ss_peer *peer, int code);
int ss_peer_learn_identity(ss_ctx *ctx, ss_peer *peer, const uint8_t *identity) SS_WARN_UNUSED;
int ss_cookie_key(uint8_t out[SS_HASH_LEN], const uint8_t id[SS_IDENTITY_LEN]) SS_WARN_UNUSED;

/* session.c */
void ss_session_clear(ss_ctx *ctx, ss_peer *peer, ss_session *s);
/*
 * A handshake keys its new session in two steps, so that a failure leaves every session as
 * it was: ss_session_stage keys the context's spare cipher pair (may fail, touches no
 * session), ss_session_install swaps that pair into a cleared slot (cannot fail), and
 * ss_session_unstage forgets staged keys when a later step failed.
 */
int ss_session_stage(ss_ctx *ctx, const uint8_t k_send[SS_KEY_LEN],
		     const uint8_t k_recv[SS_KEY_LEN]) SS_WARN_UNUSED;
void ss_session_install(ss_ctx *ctx, ss_session *s);
void ss_session_unstage(ss_ctx *ctx);
int ss_session_alloc_stage(ss_ctx *ctx) SS_WARN_UNUSED;
void ss_session_free_stage(ss_ctx *ctx);
bool ss_session_usable_tx(const ss_session *s, uint64_t now_ns);
/* Whether sending on s should start a new handshake (send.c). */
bool ss_session_need_rekey(const ss_session *s, uint64_t now_ns);
int ss_session_open_packet(ss_ctx *ctx, const ss_flow *flow, const uint8_t *pkt, size_t len,
			   uint8_t *out, size_t out_cap, ss_result *res) SS_WARN_UNUSED;
int ss_session_seal(ss_ctx *ctx, ss_peer *peer, ss_session *s, uint8_t type, const uint8_t *pt,
		    size_t len, uint8_t *out, size_t out_cap, size_t *out_len) SS_WARN_UNUSED;
ss_session *ss_session_free_slot(ss_peer *peer);
/* The peer's session slots, allocated once, when its first handshake starts. */
int ss_session_alloc_slots(ss_peer *peer) SS_WARN_UNUSED;
void ss_session_free_slots(ss_ctx *ctx, ss_peer *peer);

/* handshake.c */
int ss_handshake_create_init(ss_ctx *ctx, ss_peer *peer, uint8_t *out, size_t out_cap,
			     size_t *out_len) SS_WARN_UNUSED;
int ss_handshake_consume_init(ss_ctx *ctx, const ss_flow *flow, const uint8_t *pkt, size_t len,
			      uint8_t *out, size_t out_cap, ss_result *res) SS_WARN_UNUSED;
int ss_handshake_consume_response(ss_ctx *ctx, const ss_flow *flow, const uint8_t *pkt, size_t len,
				  ss_result *res) SS_WARN_UNUSED;
void ss_handshake_clear(ss_ctx *ctx, ss_peer *peer);

/* cookie.c */
bool ss_cookie_under_load(ss_ctx *ctx, uint64_t now_ns);
/* Under load, an INIT whose mac2 is valid: 0, or SS_ERR_RATE_LIMIT (source or all over). */
int ss_cookie_admit(ss_ctx *ctx, const ss_flow *flow, uint64_t now_ns) SS_WARN_UNUSED;
int ss_cookie_check_mac2(ss_ctx *ctx, const ss_flow *flow, const uint8_t *init,
			 uint64_t now_ns) SS_WARN_UNUSED;
int ss_cookie_create_reply(ss_ctx *ctx, const ss_flow *flow, const uint8_t *init, uint8_t *out,
			   size_t out_cap, size_t *out_len, uint64_t now_ns) SS_WARN_UNUSED;
int ss_cookie_consume_reply(ss_ctx *ctx, const uint8_t *pkt, size_t len,
			    ss_result *res) SS_WARN_UNUSED;
int ss_cookie_add_mac2(ss_peer *peer, uint8_t *init, uint64_t now_ns) SS_WARN_UNUSED;

/* control.c */
int ss_control_handle(ss_ctx *ctx, ss_peer *peer, ss_session *s, const uint8_t *pt, size_t len,
		      uint64_t counter) SS_WARN_UNUSED;
bool ss_control_echo_due(const ss_session *s, uint64_t now_ns);
uint64_t ss_control_echo_deadline(const ss_session *s);
int ss_control_create_echo(ss_ctx *ctx, ss_peer *peer, ss_session *s, uint8_t *out, size_t out_cap,
			   size_t *out_len) SS_WARN_UNUSED;

/* reach.c */
int ss_reach_endpoint_check(const uint8_t addr[16], uint16_t port) SS_WARN_UNUSED;

int ss_cand_allowed(const ss_cand_policy *pol, const ss_flow *flow,
		    enum ss_cand_source source) SS_WARN_UNUSED;

static inline bool ss_flow_equal(const ss_flow *a, const ss_flow *b)
{
	return a->proto == b->proto && a->local_port == b->local_port &&
	       a->remote_port == b->remote_port &&
	       __builtin_memcmp(a->local_addr, b->local_addr, 16) == 0 &&
	       __builtin_memcmp(a->remote_addr, b->remote_addr, 16) == 0;
}

#endif
