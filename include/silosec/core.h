/* SPDX-License-Identifier: MIT */
/*
 * The sans-IO SiloSec v2 engine. It never touches a socket, a clock or a global: the
 * caller hands in packets, the 5-tuple they arrived on, buffers, and (through the
 * context) the time and a random source. It hands back packets to send and plaintext
 * to deliver. Nothing on the data path allocates.
 */
#ifndef SILOSEC_CORE_H
#define SILOSEC_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <silosec/error.h>
#include <silosec/identity.h>
#include <silosec/wire.h>

typedef struct ss_ctx ss_ctx;
typedef struct ss_peer ss_peer;

/* Monotonic nanoseconds (timers) and wall-clock nanoseconds since 1970 (timestamps). */
typedef struct ss_time {
	uint64_t mono_ns;
	uint64_t wall_ns;
} ss_time;
typedef void (*ss_clock_fn)(void *arg, ss_time *now);

/*
 * A 5-tuple seen from this host. IPv4 addresses are stored as IPv4-mapped IPv6.
 * A caller that does not know its local address leaves it zero, consistently.
 */
typedef struct ss_flow {
	uint8_t local_addr[16];
	uint8_t remote_addr[16];
	uint16_t local_port;
	uint16_t remote_port;
	uint8_t proto; /* 17 for UDP, 99 for raw IP, 6 for a stream over TCP */
} ss_flow;

typedef struct ss_ctx_config {
	const ss_identity *identity; /* borrowed; must outlive the context */
	ss_clock_fn clock;
	void *clock_arg;
	ss_random_fn random;
	void *random_arg;
	uint32_t max_peers;
	/*
	 * Accept initiations whose mac1 is keyed for "any responder" (the initiator
	 * pins us on first use). Such packets cost a signature check before they can be
	 * attributed, so they still pass the load limiter and cookies.
	 */
	bool accept_anonymous;
} ss_ctx_config;

int ss_ctx_create(ss_ctx **out, const ss_ctx_config *cfg) SS_WARN_UNUSED;
void ss_ctx_free(ss_ctx *ctx);

/* Force cookie demands on or off (the daemon's own load signal); default automatic. */
void ss_ctx_set_under_load(ss_ctx *ctx, bool on);

/*
 * Peers. identity NULL makes a trust-on-first-use peer: the first responder identity
 * that completes a handshake it initiates is learned (see SS_RESULT_F_LEARNED). A
 * small-order identity is refused (SS_ERR_BAD_KEY, ss_identity_check_pub), here and
 * for ss_peer_add_tofu; on the wire, handshakes signed by one are SS_ERR_SIGNATURE.
 */
int ss_peer_add(ss_ctx *ctx, const uint8_t identity[SS_IDENTITY_LEN], ss_peer **out) SS_WARN_UNUSED;
/*
 * A trust-on-first-use peer: our initiations do not name it (anonymous mac1, responder
 * left zero in the signed message), so whatever identity answers is revealed. With
 * pinned set, a different answering identity is refused (SS_ERR_IDENTITY); with NULL
 * the first one is learned; unlike ss_peer_add(ctx, NULL, ...), whose INITs name the
 * identity once it is learned, a TOFU peer's INITs stay anonymous.
 */
int ss_peer_add_tofu(ss_ctx *ctx, const uint8_t pinned[SS_IDENTITY_LEN],
		     ss_peer **out) SS_WARN_UNUSED;
void ss_peer_remove(ss_ctx *ctx, ss_peer *peer);
ss_peer *ss_peer_find(ss_ctx *ctx, const uint8_t identity[SS_IDENTITY_LEN]);
/* NULL for a TOFU peer that has not completed a handshake yet. */
const uint8_t *ss_peer_identity(const ss_peer *peer);
/* The flow new handshakes from us go out on; also re-bound by the daemon on roaming. */
void ss_peer_set_flow(ss_peer *peer, const ss_flow *flow);
void ss_peer_set_keepalive(ss_peer *peer, uint32_t seconds);
/*
 * Forget the greatest INIT timestamp accepted from peer, so that an initiator whose clock
 * once ran far ahead (and was corrected, or who restarted) is accepted again without
 * restarting this side. Returns the forgotten value (wall-clock ns, 0 if none). Until the
 * next INIT is accepted, one recorded INIT may be accepted again (PROTOCOL.md 4.2).
 */
uint64_t ss_peer_forget_timestamp(ss_peer *peer);
void ss_peer_set_user(ss_peer *peer, void *user);
void *ss_peer_user(const ss_peer *peer);

/* Results of consuming a packet from the wire. */
enum ss_result_kind {
	SS_RESULT_NONE = 0, /* consumed; nothing to do */
	SS_RESULT_REPLY,    /* out holds a packet to send back on the same flow */
	SS_RESULT_DATA,	    /* out holds authenticated plaintext from res.peer */
};
#define SS_RESULT_F_HANDSHAKE 1u /* a session with res.peer was established */
#define SS_RESULT_F_LEARNED 2u	 /* a TOFU peer learned res.identity */
#define SS_RESULT_F_KEEPALIVE 4u /* the packet was an (empty) keepalive */
#define SS_RESULT_F_REKEY 8u	 /* the engine wants a new handshake: call ss_peer_tick */
/*
 * With SS_ERR_UNKNOWN_PEER: the INIT carried a valid mac2, so its source address proved
 * it receives (a cookie round trip). Without it the source may be spoofed: a caller must
 * not raise an "identity changed" alert on such an INIT (docs/PROTOCOL.md 4.3).
 */
#define SS_RESULT_F_REACHABLE 16u

typedef struct ss_result {
	enum ss_result_kind kind;
	unsigned flags;
	ss_peer *peer;
	size_t len;
	/* Signed, verified identity: set for SS_ERR_UNKNOWN_PEER so a caller can pin it. */
	uint8_t identity[SS_IDENTITY_LEN];
} ss_result;

/*
 * Handle one packet from the wire. Returns 0, or the negative drop reason (the
 * packet changed no state and deserves no answer). out needs SS_MAX_PACKET bytes
 * or at least len bytes for data.
 */
int ss_ctx_consume(ss_ctx *ctx, const ss_flow *flow, const uint8_t *pkt, size_t len, uint8_t *out,
		   size_t out_cap, ss_result *res) SS_WARN_UNUSED;

/*
 * Seal plaintext for peer into out (len + SS_DATA_OVERHEAD bytes). SS_ERR_NO_SESSION
 * means a handshake is needed: ss_peer_tick will produce it; the caller keeps the
 * packet. *flow_out, if not NULL, receives the flow to send on.
 */
int ss_peer_seal(ss_ctx *ctx, ss_peer *peer, const uint8_t *pt, size_t len, uint8_t *out,
		 size_t out_cap, size_t *out_len, ss_flow *flow_out) SS_WARN_UNUSED;

/* Start a handshake now (e.g. when a packet is queued). */
void ss_peer_want_handshake(ss_peer *peer);
/*
 * Our end of the peer's flow moved (a local address came or went): start a new handshake
 * at once, abandoning one in flight (its INIT left from where we were, and its RESPONSE
 * may never arrive), but no sooner than SS_RESTART_INIT_SPACING after our previous INIT,
 * which the peer would refuse as too frequent (SS_HANDSHAKE_MIN_INTERVAL). With
 * last_unsent, the caller knows our latest INIT never left this host (its send failed:
 * no address, no route), so the spacing counts from the INIT before it. A peer with
 * neither a session nor a handshake in flight is left alone.
 */
void ss_peer_restart_handshake(ss_peer *peer, bool last_unsent);

/*
 * Timers. Call when ss_peer_deadline() has passed (or any time): each call returns at
 * most one packet to send in out (*out_len > 0) with its flow. Call again until
 * *out_len is 0.
 */
enum ss_tick_kind {
	SS_TICK_NONE = 0,
	SS_TICK_HANDSHAKE, /* a handshake initiation */
	SS_TICK_KEEPALIVE, /* an empty data packet */
	SS_TICK_ECHO,	   /* a control packet echoing our receive state */
};
int ss_peer_tick(ss_ctx *ctx, ss_peer *peer, uint8_t *out, size_t out_cap, size_t *out_len,
		 ss_flow *flow_out, enum ss_tick_kind *kind) SS_WARN_UNUSED;
/* Monotonic time of the next timer event, UINT64_MAX if none. */
uint64_t ss_peer_deadline(const ss_peer *peer);

/* Counters. */
typedef struct ss_peer_stats {
	uint64_t handshakes_initiated;
	uint64_t handshakes_completed; /* sessions established, either role */
	uint64_t handshakes_responded;
	uint64_t packets_sealed, bytes_sealed; /* plaintext bytes */
	uint64_t packets_opened, bytes_opened;
	uint64_t last_handshake_wall_ns;
	uint64_t epoch; /* sessions established so far with this peer */
	uint64_t drops[SS_DROP_COUNT];
} ss_peer_stats;

typedef struct ss_ctx_stats {
	uint64_t cookies_sent;
	uint64_t drops[SS_DROP_COUNT]; /* drops not attributable to a peer */
} ss_ctx_stats;

void ss_peer_get_stats(const ss_peer *peer, ss_peer_stats *out);
void ss_ctx_get_stats(const ss_ctx *ctx, ss_ctx_stats *out);
bool ss_peer_has_session(const ss_peer *peer);

#endif
