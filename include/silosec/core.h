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
	SS_RESULT_CONTROL,  /* out holds a reachability plaintext (SS_REACH_LEN) from res.peer */
	SS_RESULT_RELAY,    /* out holds u32 circuit || a relayed datagram from res.peer */
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
/* Count a drop the caller attributes to peer (silosecd's reachability refusals) in its
 * stats.drops: no per-peer counters of the caller's own. code: a negative SS_ERR_*. */
void ss_peer_count_drop(ss_peer *peer, int code);
void ss_ctx_get_stats(const ss_ctx *ctx, ss_ctx_stats *out);
bool ss_peer_has_session(const ss_peer *peer);

/*
 * Reachability (docs/PROTOCOL.md 16). Introducer and relay messages are CONTROL
 * plaintexts of SS_REACH_LEN bytes sealed on an existing session: encode one, seal it
 * with ss_peer_seal_reach; ss_ctx_consume hands a received one back as SS_RESULT_CONTROL
 * (already checked by ss_reach_decode). An endpoint is an address (IPv4-mapped for
 * IPv4) and a port; only the address and port of a candidate travel on the wire.
 */
typedef struct ss_endpoint {
	uint8_t addr[16];
	uint16_t port;
} ss_endpoint;

typedef struct ss_reach_msg {
	uint8_t type;  /* SS_CTL_REGISTER .. SS_CTL_RELAY_CLOSE */
	uint8_t flags; /* SS_REACH_F_* */
	uint8_t n_cand;
	uint32_t txid, circuit;
	uint16_t delay_ms, rtt_ms;
	uint8_t subject[SS_IDENTITY_LEN];
	ss_endpoint observed;
	ss_endpoint cand[SS_REACH_MAX_CAND];
} ss_reach_msg;

/* 0, SS_ERR_MALFORMED (layout or field rules) or SS_ERR_CANDIDATE (an endpoint never valid). */
int ss_reach_encode(const ss_reach_msg *m, uint8_t out[SS_REACH_LEN]) SS_WARN_UNUSED;
int ss_reach_decode(const uint8_t *pt, size_t len, ss_reach_msg *m) SS_WARN_UNUSED;
int ss_peer_seal_reach(ss_ctx *ctx, ss_peer *peer, const uint8_t pt[SS_REACH_LEN], uint8_t *out,
		       size_t out_cap, size_t *out_len, ss_flow *flow_out) SS_WARN_UNUSED;

/*
 * Relayed datagrams (PROTOCOL.md 16.8): a whole SiloSec message (types 1 to 5) sealed as
 * type 8 on the session with a relay hop, tagged with its circuit. ss_ctx_consume returns
 * SS_RESULT_RELAY; the caller checks the circuit, then forwards (a relay) or passes the
 * inner datagram to ss_ctx_consume with the circuit's virtual flow (an end host).
 */
int ss_peer_seal_relay(ss_ctx *ctx, ss_peer *hop, uint32_t circuit, const uint8_t *inner,
		       size_t len, uint8_t *out, size_t out_cap, size_t *out_len,
		       ss_flow *flow_out) SS_WARN_UNUSED;
/* The virtual flow a session through relay (its identity) and circuit is bound to. */
void ss_relay_flow(ss_flow *out, const uint8_t relay[SS_IDENTITY_LEN], uint32_t circuit);

/*
 * Candidate flows of one peer (at most SS_CAND_MAX), their sources and the punch schedule.
 * The context holds the allow list every candidate passes: endpoints inside one of the
 * allow prefixes (all, if none is set) and none of this host's own addresses.
 */
typedef struct ss_prefix {
	uint8_t addr[16]; /* IPv4 as IPv4-mapped: 10.0.0.0/8 is ::ffff:10.0.0.0/104 */
	uint8_t len;	  /* 0..128 */
} ss_prefix;
int ss_ctx_set_candidate_policy(ss_ctx *ctx, const ss_prefix *allow, size_t n_allow,
				const uint8_t (*own)[16], size_t n_own) SS_WARN_UNUSED;

enum ss_cand_source {
	SS_CAND_CONFIGURED = 1, /* Endpoint in the configuration: never evicted or expired */
	SS_CAND_INTRODUCER,	/* from an ANSWER or PUNCH */
	SS_CAND_PEER_REFLEXIVE, /* the source of a verified INIT or RESPONSE */
	SS_CAND_LAN,		/* from a recognised LAN announcement */
	SS_CAND_RELAY,		/* a relay circuit's virtual flow */
};
typedef struct ss_cand_info {
	ss_flow flow;
	enum ss_cand_source source;
	uint64_t added_ns, seen_ns, confirmed_ns; /* monotonic; confirmed 0 = never */
} ss_cand_info;

typedef struct ss_cands ss_cands;
int ss_cands_create(ss_ctx *ctx, ss_cands **out) SS_WARN_UNUSED;
void ss_cands_free(ss_cands *c);
/* Add or refresh; SS_ERR_CANDIDATE (allow list) or SS_ERR_FULL (nothing may be evicted). */
int ss_cands_add(ss_cands *c, const ss_flow *flow, enum ss_cand_source source) SS_WARN_UNUSED;
/* As ss_cands_add for a LAN announcement: its time must be newer (SS_ERR_LAN_SPOOF). */
int ss_cands_add_lan(ss_cands *c, const ss_flow *flow, uint64_t announce_ns) SS_WARN_UNUSED;
/*
 * After ss_ctx_consume of an INIT or RESPONSE with verdict ret: a verified one (0, or the
 * tie-break's SS_ERR_UNEXPECTED for an INIT) from a flow not in the set adds it as
 * peer-reflexive; *resend says to send the pending INIT there now (rate-limited).
 */
int ss_cands_observe(ss_cands *c, const ss_flow *flow, uint8_t msg_type, int ret,
		     bool *resend) SS_WARN_UNUSED;
/* A session was established on flow: it is confirmed now (SS_ERR_NOT_FOUND if absent). */
int ss_cands_confirm(ss_cands *c, const ss_flow *flow) SS_WARN_UNUSED;
size_t ss_cands_count(ss_cands *c); /* drops expired candidates first */
int ss_cands_get(const ss_cands *c, size_t i, ss_cand_info *out) SS_WARN_UNUSED;

/* Hole punching: send the INIT to every candidate on a fixed schedule (PROTOCOL.md 16.5). */
#define SS_PUNCH_F_RELAY_OK 1u	/* a relay may carry this peer */
#define SS_PUNCH_F_BOTH_HARD 2u /* both sides behind endpoint-dependent NATs: relay at once */
enum ss_punch_action {
	SS_PUNCH_NONE = 0,
	SS_PUNCH_SEND,	     /* send the pending INIT (same bytes) to every candidate */
	SS_PUNCH_SEND_FRESH, /* make a new INIT (ss_peer_want_handshake), then as SEND */
	SS_PUNCH_RELAY,	     /* open a relay circuit and add it as a candidate */
	SS_PUNCH_GIVE_UP,    /* no direct path this time */
};
int ss_cands_punch_start(ss_cands *c, uint16_t delay_ms, unsigned flags) SS_WARN_UNUSED;
/* The next due action (call until SS_PUNCH_NONE); the schedule runs on the ctx clock. */
enum ss_punch_action ss_cands_punch_step(ss_cands *c);
uint64_t ss_cands_punch_deadline(const ss_cands *c); /* UINT64_MAX when idle */
void ss_cands_punch_done(ss_cands *c);		     /* a direct session is up */

/*
 * LAN announcements (PROTOCOL.md 16.9), sent to UDP SS_LAN_PORT. SS_LAN_PEERS carries a
 * tag only a host that knows our identity can recognise; SS_LAN_OPEN our identity, signed.
 * Recognising yields the identity (and its peer, if configured) and the sender's port and
 * time; the caller checks the source is on-link and feeds ss_cands_add_lan.
 */
enum ss_lan_mode { SS_LAN_PEERS = SS_MSG_LAN_PEERS, SS_LAN_OPEN = SS_MSG_LAN_OPEN };
typedef struct ss_lan_info {
	enum ss_lan_mode mode;
	uint16_t port;
	uint64_t time_ns;
	uint8_t identity[SS_IDENTITY_LEN];
	ss_peer *peer; /* NULL: an identity we do not know (open mode only) */
} ss_lan_info;
int ss_lan_build(ss_ctx *ctx, enum ss_lan_mode mode, uint16_t port, uint8_t *out, size_t out_cap,
		 size_t *out_len) SS_WARN_UNUSED;
int ss_lan_recognise(ss_ctx *ctx, const uint8_t *pkt, size_t len, ss_lan_info *info) SS_WARN_UNUSED;

#endif
