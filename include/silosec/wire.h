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

#endif
