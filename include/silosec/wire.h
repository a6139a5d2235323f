/* SPDX-License-Identifier: MIT */
/*
 * Every SiloSec v2 wire size, offset, label and limit, in one place.
 * docs/PROTOCOL.md is the normative text; this header must agree with it.
 * All multi-byte integers on the wire are big-endian (network byte order).
 */
#ifndef SILOSEC_WIRE_H
#define SILOSEC_WIRE_H

#include <stdint.h>

#define SS_VERSION 2

/* Message types (byte 0). */
#define SS_MSG_INIT 1
#define SS_MSG_RESPONSE 2
#define SS_MSG_COOKIE 3
#define SS_MSG_DATA 4
#define SS_MSG_CONTROL 5
#define SS_MSG_RELAY 8	   /* relay hop: a sealed SiloSec datagram between two peers */
#define SS_MSG_LAN_PEERS 9 /* LAN announcement, tagged for peers that know the identity */
#define SS_MSG_LAN_OPEN 10 /* LAN announcement, identity in the clear, signed */

/* Primitive sizes. */
#define SS_KEY_LEN 32
#define SS_IDENTITY_LEN 32 /* Ed25519 public key */
#define SS_SEED_LEN 32	   /* Ed25519 private seed */
#define SS_SIG_LEN 64
#define SS_DH_LEN 32 /* X25519 public key and shared secret */
#define SS_HASH_LEN 32
#define SS_TAG_LEN 16
#define SS_NONCE_LEN 12
#define SS_MAC_LEN 16
#define SS_COOKIE_LEN 16

/* Common 4-byte prefix: type, version, two reserved zero bytes. */
#define SS_PREFIX_LEN 4

/* Handshake initiation (initiator -> responder), 176 bytes. */
#define SS_INIT_OFF_SENDER 4
#define SS_INIT_OFF_IDENTITY 8
#define SS_INIT_OFF_EPHEMERAL 40
#define SS_INIT_OFF_TIMESTAMP 72
#define SS_INIT_OFF_SIG 80
#define SS_INIT_OFF_MAC1 144
#define SS_INIT_OFF_MAC2 160
#define SS_INIT_LEN 176

/* Handshake response (responder -> initiator), 172 bytes. */
#define SS_RESP_OFF_SENDER 4
#define SS_RESP_OFF_RECEIVER 8
#define SS_RESP_OFF_IDENTITY 12
#define SS_RESP_OFF_EPHEMERAL 44
#define SS_RESP_OFF_SIG 76
#define SS_RESP_OFF_CONFIRM 140
#define SS_RESP_OFF_MAC1 156
#define SS_RESP_LEN 172

/* Cookie reply (responder under load -> initiator), 52 bytes. */
#define SS_COOKIE_OFF_RECEIVER 4
#define SS_COOKIE_OFF_NONCE 8
#define SS_COOKIE_OFF_BOX 20 /* encrypted cookie || tag */
#define SS_COOKIE_MSG_LEN 52

/* Data and control packets: 16-byte header (the AEAD AAD), then ciphertext || tag. */
#define SS_DATA_OFF_RECEIVER 4
#define SS_DATA_OFF_COUNTER 8
#define SS_DATA_HDR_LEN 16
#define SS_DATA_OVERHEAD (SS_DATA_HDR_LEN + SS_TAG_LEN)
#define SS_DATA_MIN_LEN SS_DATA_OVERHEAD
#define SS_MAX_PLAINTEXT 65535
#define SS_MAX_PACKET (SS_MAX_PLAINTEXT + SS_DATA_OVERHEAD)

/* Control plaintext (inside a type-5 packet), 24 bytes. */
#define SS_CTL_ECHO 1
#define SS_CTL_OFF_TYPE 0
#define SS_CTL_OFF_RX_NEXT 8
#define SS_CTL_OFF_RX_PACKETS 16
#define SS_CTL_LEN 24

/*
 * Reachability control plaintexts (PROTOCOL.md 16): one size for every subtype, so the
 * length of a CONTROL packet tells an observer only "echo" or "reachability".
 */
#define SS_CTL_REGISTER 2
#define SS_CTL_REGISTERED 3
#define SS_CTL_QUERY 4
#define SS_CTL_ANSWER 5
#define SS_CTL_PUNCH 6
#define SS_CTL_RELAY_OPEN 7
#define SS_CTL_RELAY_OFFER 8
#define SS_CTL_RELAY_ACCEPT 9
#define SS_CTL_RELAY_CLOSE 10
#define SS_REACH_OFF_FLAGS 1
#define SS_REACH_OFF_NCAND 2
#define SS_REACH_OFF_TXID 4
#define SS_REACH_OFF_CIRCUIT 8
#define SS_REACH_OFF_DELAY 12
#define SS_REACH_OFF_RTT 14
#define SS_REACH_OFF_SUBJECT 16
#define SS_REACH_OFF_OBSERVED 48
#define SS_REACH_OFF_CAND 68
#define SS_REACH_EP_LEN 18 /* address (16, IPv4-mapped) || port (2) */
#define SS_REACH_MAX_CAND 8
#define SS_REACH_LEN (SS_REACH_OFF_CAND + SS_REACH_MAX_CAND * SS_REACH_EP_LEN) /* 212 */
#define SS_REACH_CONTROL_LEN (SS_DATA_OVERHEAD + SS_REACH_LEN)		       /* 244 */
#define SS_REACH_F_HARD_NAT 1u /* sender's NAT maps per destination (symmetric) */
#define SS_REACH_F_PRIVATE 2u  /* never disclose the sender's candidates to a querier */
#define SS_REACH_F_RELAY_OK 4u /* the sender accepts a relayed path */
#define SS_REACH_F_ALL 7u

/* Relay hop (type 8): header(16) || Seal(circuit u32 || inner datagram) || tag. */
#define SS_RELAY_OFF_CIRCUIT 0 /* in the plaintext */
#define SS_RELAY_INNER_OFF 4
#define SS_RELAY_OVERHEAD (SS_DATA_OVERHEAD + SS_RELAY_INNER_OFF) /* 36 */
#define SS_RELAY_MIN_LEN (SS_RELAY_OVERHEAD + SS_DATA_MIN_LEN)
#define SS_RELAY_MAX_INNER (SS_MAX_PACKET - SS_RELAY_OVERHEAD)
#define SS_RELAY_PROTO 253		    /* virtual flows of relayed sessions (RFC 3692) */
#define SS_RELAY_MAX_CIRCUITS 1024	    /* per relay */
#define SS_RELAY_MAX_PER_IDENTITY 16	    /* circuits one identity may hold at a relay */
#define SS_RELAY_IDLE (180 * SS_NS_PER_SEC) /* circuit reclaimed after this silence */
#define SS_RELAY_RATE (1024u << 20)	    /* bytes/s per circuit */
#define SS_RELAY_BURST (4u << 20)	    /* bytes */
#define SS_RELAY_INITS_PER_SEC 5	    /* inner INITs per circuit */
#define SS_RELAY_MTU 1380		    /* tunnel MTU on a relayed 1500-byte path */

/* LAN announcements (types 9 and 10), to UDP SS_LAN_PORT. */
#define SS_LAN_PORT 51998
#define SS_LAN_GROUP6 "ff12::5ec:1998" /* link-local scope; IPv4: 255.255.255.255 */
#define SS_LAN_OFF_PORT 4
#define SS_LAN_OFF_TIME 8
#define SS_LAN_OFF_ID 16 /* tag (peers) or identity (open) */
#define SS_LAN_OFF_SIG 48
#define SS_LAN_PEERS_LEN 48
#define SS_LAN_OPEN_LEN 112
#define SS_LAN_MAX_SKEW (120 * SS_NS_PER_SEC) /* |sender time - our wall clock| */
#define SS_LAN_INTERVAL (30 * SS_NS_PER_SEC)
#define SS_LAN_LIFETIME (90 * SS_NS_PER_SEC) /* a LAN candidate not heard again expires */
#define SS_LAN_OPEN_TABLE 64		     /* unknown identities remembered (open mode) */
#define SS_LAN_PER_SEC 64		     /* announcements examined per second, all sources */
#define SS_LABEL_LAN_TAG "SiloSec v2 lan tag"
#define SS_LABEL_LAN_SIG "SiloSec v2 lan signature"

/* Introducers and punching (PROTOCOL.md 16.4, 16.5). */
#define SS_REGISTER_INTERVAL (20 * SS_NS_PER_SEC)
#define SS_REGISTRATION_LIFETIME (60 * SS_NS_PER_SEC)
#define SS_QUERY_TIMEOUT (1 * SS_NS_PER_SEC)
#define SS_QUERY_TRIES 3
#define SS_QUERY_NEGATIVE (10 * SS_NS_PER_SEC)
#define SS_PUNCH_PAIR_INTERVAL (5 * SS_NS_PER_SEC) /* introducer: one PUNCH per (R, T) */
#define SS_PUNCH_PER_REQUESTER 10		   /* introducer: QUERYs per second per peer */
#define SS_PUNCH_TOTAL 100			   /* introducer: PUNCHes per second in all */
#define SS_PUNCH_MAX_DELAY_MS 2000		   /* delay_ms above this is refused */
#define SS_PUNCH_ROUNDS 7			   /* at 0, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2 s */
#define SS_PUNCH_FIRST_GAP (SS_NS_PER_SEC / 10)
#define SS_PUNCH_GIVE_UP_AFTER (5 * SS_NS_PER_SEC) /* after the start: no direct path */
#define SS_PUNCH_RELAY_AFTER (1 * SS_NS_PER_SEC)
#define SS_PUNCH_MAX_FAILS 3
#define SS_PUNCH_BACKOFF (600 * SS_NS_PER_SEC)
#define SS_UPGRADE_INTERVAL (15 * SS_NS_PER_SEC)
#define SS_CAND_MAX 8
#define SS_CAND_LIFETIME (120 * SS_NS_PER_SEC)	   /* unconfirmed learned candidates expire */
#define SS_CAND_REFLEXIVE_GAP (SS_NS_PER_SEC / 10) /* resend to a new peer-reflexive flow */
#define SS_CAND_ALLOW_MAX 16			   /* CIDRs in the candidate allow list */
#define SS_CAND_OWN_MAX 16			   /* own addresses refused as candidates */

/* Domain-separation labels (ASCII, no terminator on the wire or in hashes). */
#define SS_LABEL_SIG_INIT "SiloSec v2 initiation signature"
#define SS_LABEL_SIG_RESP "SiloSec v2 response signature"
#define SS_LABEL_TRANSCRIPT "SiloSec v2 transcript"
#define SS_LABEL_KEY_I2R "SiloSec v2 key i2r"
#define SS_LABEL_KEY_R2I "SiloSec v2 key r2i"
#define SS_LABEL_KEY_CONFIRM "SiloSec v2 key confirm"
#define SS_LABEL_MAC1 "SiloSec v2 mac1"
#define SS_LABEL_COOKIE_KEY "SiloSec v2 cookie key"
#define SS_LABEL_FINGERPRINT "SiloSec v2 fingerprint"

/* Replay window: RFC 6479 ring of 64-bit words; one word is the moving slack. */
#define SS_REPLAY_WORDS 34
#define SS_REPLAY_WINDOW ((SS_REPLAY_WORDS - 1) * 64) /* 2112 packets */

/* Limits on one session (epoch). */
#define SS_REKEY_AFTER_MESSAGES (UINT64_C(1) << 48)
#define SS_REJECT_AFTER_MESSAGES ((UINT64_C(1) << 48) + (UINT64_C(1) << 32))

/* Timers, nanoseconds. */
#define SS_NS_PER_SEC UINT64_C(1000000000)
#define SS_REKEY_AFTER_TIME (120 * SS_NS_PER_SEC)
#define SS_REJECT_AFTER_TIME (180 * SS_NS_PER_SEC)
#define SS_REKEY_TIMEOUT (5 * SS_NS_PER_SEC)
#define SS_REKEY_JITTER_MAX (SS_NS_PER_SEC / 3)
#define SS_REKEY_ATTEMPT_TIME (90 * SS_NS_PER_SEC)
#define SS_KEEPALIVE_TIMEOUT (10 * SS_NS_PER_SEC)
#define SS_ECHO_INTERVAL (1 * SS_NS_PER_SEC)
#define SS_COOKIE_SECRET_LIFETIME (120 * SS_NS_PER_SEC)
#define SS_COOKIE_LIFETIME (SS_COOKIE_SECRET_LIFETIME - 5 * SS_NS_PER_SEC)
#define SS_HANDSHAKE_MIN_INTERVAL (SS_NS_PER_SEC / 2) /* per peer, accepted inits */
/* A restarted handshake (ss_peer_restart_handshake) waits this long after the last INIT. */
#define SS_RESTART_INIT_SPACING (SS_HANDSHAKE_MIN_INTERVAL + SS_NS_PER_SEC / 10)

/* Responder load: token bucket of handshake initiations; empty => demand cookies. */
#define SS_LOAD_INITS_PER_SEC 256
#define SS_LOAD_BURST 64
/*
 * Under load, INITs with a valid mac2 (PROTOCOL 7.4): per source (an IPv4 address or an
 * IPv6 /64, in a fixed table of SS_LOAD_SOURCE_SLOTS buckets), then all sources together;
 * over either they are dropped (SS_ERR_RATE_LIMIT) before any signature is checked.
 */
#define SS_LOAD_SOURCE_INITS_PER_SEC 20
#define SS_LOAD_SOURCE_BURST 5
#define SS_LOAD_SOURCE_SLOTS 4096
#define SS_LOAD_PROVEN_INITS_PER_SEC 2048
#define SS_LOAD_PROVEN_BURST 256

#endif
