/* SPDX-License-Identifier: MIT */
/*
 * SiloSec knock: single-packet authorization. One UDP datagram, sealed to the server's
 * identity (ephemeral X25519 against the X25519 image of its Ed25519 key, HKDF-SHA256,
 * AES-256-GCM) and signed by the client's Ed25519 identity. docs/PROTOCOL.md section 14
 * is the normative text; the offsets and sizes here must agree with it.
 *
 * The library is sans-IO like the core: callers pass time and randomness.
 */
#ifndef SS_KNOCK_KNOCK_H
#define SS_KNOCK_KNOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <silosec/error.h>
#include <silosec/identity.h>
#include <silosec/wire.h>

/*
 * The knock's codes (silosec/error.h has the core's; docs/ERRORS.md all): drop reasons
 * -70..-89, in validation order up to -81; later codes are appended (-82 is checked
 * between -76 and -77, -83 just before -77, -84 between -73 and -74).
 */
enum ss_knock_err {
	SS_ERR_KNOCK_SIZE = -70,	/* datagram shorter or longer than any knock */
	SS_ERR_KNOCK_MALFORMED = -71,	/* wrong type, version, reserved bytes or lengths */
	SS_ERR_KNOCK_RATE = -72,	/* source over its token-bucket rate */
	SS_ERR_KNOCK_MAC = -73,		/* outer MAC wrong: junk or not for this server */
	SS_ERR_KNOCK_DECRYPT = -74,	/* AEAD authentication failed */
	SS_ERR_KNOCK_SIGNATURE = -75,	/* client signature invalid */
	SS_ERR_KNOCK_UNKNOWN_ID = -76,	/* client identity not in the configuration */
	SS_ERR_KNOCK_TIME = -77,	/* timestamp outside the window */
	SS_ERR_KNOCK_REPLAY = -78,	/* challenge already seen */
	SS_ERR_KNOCK_REPLAY_FULL = -79, /* replay cache full of live entries: fail closed */
	SS_ERR_KNOCK_ACTION = -80,	/* identity may not run this action */
	SS_ERR_KNOCK_PAYLOAD = -81,	/* payload refused (not printable ASCII) */
	SS_ERR_KNOCK_SOURCE = -82,	/* sent from another address than the signed one */
	SS_ERR_KNOCK_CLOCK = -83,	/* our wall clock stepped back past the newest knock */
	SS_ERR_KNOCK_BUSY = -84,	/* over the daemon-wide public-key budget */
};

#define SS_KNOCK_DROP_FIRST SS_ERR_KNOCK_SIZE
#define SS_KNOCK_DROP_LAST SS_ERR_KNOCK_BUSY
#define SS_KNOCK_DROP_COUNT (SS_KNOCK_DROP_FIRST - SS_KNOCK_DROP_LAST + 1)

#define SS_MSG_KNOCK 6
/*
 * Inner format version. 2 added the signed source address (offset 65): a version-1 box,
 * which bound no address, is refused as malformed.
 */
#define SS_KNOCK_VERSION 2

/* Outer packet. */
#define SS_KNOCK_OFF_EPHEMERAL 4
#define SS_KNOCK_OFF_BOX 36 /* AES-256-GCM ciphertext || tag */
#define SS_KNOCK_HDR_LEN 36 /* prefix + ephemeral: the AEAD's associated data */

/* Inner (plaintext) fields, offsets into the decrypted box. */
#define SS_KNOCK_IN_VERSION 0
#define SS_KNOCK_IN_FLAGS 1
#define SS_KNOCK_IN_ACTION_LEN 2
#define SS_KNOCK_IN_PAYLOAD_LEN 3 /* 2 bytes */
#define SS_KNOCK_IN_DURATION 5	  /* 4 bytes: seconds asked for, 0 = the action's default */
#define SS_KNOCK_IN_TIMESTAMP 9	  /* 8 bytes: Unix time in milliseconds */
#define SS_KNOCK_IN_CLIENT 17	  /* 32 bytes: client Ed25519 identity */
#define SS_KNOCK_IN_CHALLENGE 49  /* 16 random bytes */
#define SS_KNOCK_IN_SRC_FAMILY 65 /* 1 byte: SS_KNOCK_SRC_* */
#define SS_KNOCK_IN_SRC_ADDR 66	  /* 16 bytes: IPv4 in the first 4, the rest zero */
#define SS_KNOCK_IN_VAR 82	  /* action name, payload, then the 64-byte signature */
#define SS_KNOCK_CHALLENGE_LEN 16
#define SS_KNOCK_SRC_ADDR_LEN 16

/*
 * The signed source: the daemon acts only for a datagram from this address, so a knock
 * seen on the path cannot be re-sent from elsewhere. ANY binds nothing and is accepted
 * only for a [Client] with AllowAnySource = yes. Only the canonical form is valid: IPv4
 * is never written v4-mapped, unused address bytes are zero.
 */
#define SS_KNOCK_SRC_ANY 0
#define SS_KNOCK_SRC_IPV4 4
#define SS_KNOCK_SRC_IPV6 6

#define SS_KNOCK_MAX_ACTION 32
#define SS_KNOCK_MAX_PAYLOAD 512

#define SS_KNOCK_INNER_MIN (SS_KNOCK_IN_VAR + 1 + SS_SIG_LEN)
#define SS_KNOCK_INNER_MAX                                                                         \
	(SS_KNOCK_IN_VAR + SS_KNOCK_MAX_ACTION + SS_KNOCK_MAX_PAYLOAD + SS_SIG_LEN)
#define SS_KNOCK_OVERHEAD (SS_KNOCK_HDR_LEN + SS_TAG_LEN + SS_MAC_LEN)
#define SS_KNOCK_MIN_LEN (SS_KNOCK_OVERHEAD + SS_KNOCK_INNER_MIN)
#define SS_KNOCK_MAX_LEN (SS_KNOCK_OVERHEAD + SS_KNOCK_INNER_MAX) /* 758 bytes < 1280 */

/*
 * The daemon-wide budget of public-key work (step 3c, PROTOCOL 14.6): a token bucket of
 * SS_KNOCK_PK_BURST datagrams refilled at SS_KNOCK_PK_RATE a second, taken before the
 * X25519 step. The per-source limit cannot bound a spoofer (every source is new), and
 * one datagram's X25519 + AES-GCM + Ed25519 costs about 140 us: 1000/s keeps the parser
 * at about a seventh of one core, far from the ~7000/s that saturate it, and still
 * hundreds of times what people knocking by hand send.
 */
#define SS_KNOCK_PK_RATE 1000
#define SS_KNOCK_PK_BURST 100
/*
 * The cache of opened datagrams (step 3b): entries in sets of SS_KNOCK_SEEN_WAYS. An
 * insertion follows a budget token, so an attacker churns the table at most at
 * SS_KNOCK_PK_RATE entries a second (about 4 s for all of it).
 */
#define SS_KNOCK_SEEN_SLOTS 4096
#define SS_KNOCK_SEEN_WAYS 4

#define SS_KNOCK_DEFAULT_PORT 62201
#define SS_KNOCK_DEFAULT_WINDOW_MS 30000

/* A knock after it opened, authenticated and parsed. */
typedef struct ss_knock_msg {
	uint8_t flags;
	uint32_t duration; /* seconds asked for, 0 = default */
	uint64_t timestamp_ms;
	uint8_t client[SS_IDENTITY_LEN];
	uint8_t challenge[SS_KNOCK_CHALLENGE_LEN];
	uint8_t src_family;			 /* SS_KNOCK_SRC_* */
	uint8_t src_addr[SS_KNOCK_SRC_ADDR_LEN]; /* canonical, as on the wire */
	char action[SS_KNOCK_MAX_ACTION + 1];	 /* NUL-terminated */
	uint8_t payload[SS_KNOCK_MAX_PAYLOAD];
	size_t payload_len;
} ss_knock_msg;

/* What a client asks for. */
typedef struct ss_knock_req {
	const char *action;
	const uint8_t *payload;
	size_t payload_len;
	uint32_t duration;
	uint64_t timestamp_ms;
	/*
	 * The address the server will see the knock come from: AF_INET (4 bytes),
	 * AF_INET6 (16 bytes; v4-mapped is signed as IPv4) or AF_UNSPEC for "any".
	 */
	int src_family;
	const uint8_t *src_addr;
} ss_knock_req;

/*
 * RFC 7748 section 4.1 birational map: the X25519 public key of an Ed25519 identity,
 * u = (1 + y) / (1 - y) mod p. Fails (SS_ERR_FORMAT) on a non-canonical y or y = 1.
 */
int ss_knock_ed25519_pk_to_x25519(uint8_t x[SS_DH_LEN],
				  const uint8_t ed[SS_IDENTITY_LEN]) SS_WARN_UNUSED;
/* The matching X25519 private key: the clamped first half of SHA-512(seed). */
int ss_knock_ed25519_seed_to_x25519(uint8_t x[SS_DH_LEN],
				    const uint8_t seed[SS_SEED_LEN]) SS_WARN_UNUSED;

/* The outer MAC key for a server: SHA-256(label || server identity). */
int ss_knock_mac_key(uint8_t key[SS_HASH_LEN],
		     const uint8_t server[SS_IDENTITY_LEN]) SS_WARN_UNUSED;

/*
 * Seal a knock to server; *outlen receives the datagram length. A server identity that
 * ss_identity_check_pub refuses is SS_ERR_BAD_KEY.
 */
int ss_knock_seal(uint8_t *out, size_t outcap, size_t *outlen, const ss_identity *client,
		  const uint8_t server[SS_IDENTITY_LEN], const ss_knock_req *req, ss_random_fn rnd,
		  void *rnd_arg) SS_WARN_UNUSED;

/* Server side: keys derived once from its identity. Opaque. */
typedef struct ss_knock_server ss_knock_server;

int ss_knock_server_new(ss_knock_server **out, const ss_identity *id) SS_WARN_UNUSED;
void ss_knock_server_free(ss_knock_server *s);

/* The validation steps, in the order the daemon runs them. Each changes no state. */
/* 1. Length, type, version and reserved bytes: SS_ERR_KNOCK_SIZE / SS_ERR_KNOCK_MALFORMED. */
int ss_knock_check_size(const uint8_t *pkt, size_t len) SS_WARN_UNUSED;
/* 3. The outer MAC (no public-key work): SS_ERR_KNOCK_MAC. */
int ss_knock_check_mac(const ss_knock_server *s, const uint8_t *pkt, size_t len) SS_WARN_UNUSED;
/*
 * 4-5. Decrypt (SS_ERR_KNOCK_DECRYPT), parse (SS_ERR_KNOCK_MALFORMED) and verify the
 * client's signature (SS_ERR_KNOCK_SIGNATURE). Runs steps 1 and 3 again itself, so it
 * is safe on any input. msg is zeroed on failure.
 */
int ss_knock_open(const ss_knock_server *s, const uint8_t *pkt, size_t len,
		  ss_knock_msg *msg) SS_WARN_UNUSED;
/*
 * 6b. The datagram's source (family AF_INET or AF_INET6, addr 4 or 16 bytes; v4-mapped
 * IPv6 counts as IPv4) equals the signed one, or the knock says "any" and allow_any is
 * set: else SS_ERR_KNOCK_SOURCE.
 */
int ss_knock_check_source(const ss_knock_msg *m, int family, const uint8_t *addr,
			  bool allow_any) SS_WARN_UNUSED;
/* 7. |now - timestamp| within window_ms: SS_ERR_KNOCK_TIME. */
int ss_knock_check_time(const ss_knock_msg *m, uint64_t now_ms, uint64_t window_ms) SS_WARN_UNUSED;

/* ---- per-source token buckets with bounded memory (step 2) ---- */
typedef struct ss_knock_ratelimit ss_knock_ratelimit;

/* slots: table size (rounded up to a power of two); rate per second, burst tokens. */
int ss_knock_ratelimit_new(ss_knock_ratelimit **out, uint32_t slots, uint32_t rate, uint32_t burst,
			   uint64_t seed) SS_WARN_UNUSED;
void ss_knock_ratelimit_free(ss_knock_ratelimit *r);
/*
 * Whether a source (family AF_INET or AF_INET6, addr 4 or 16 bytes; IPv6 is limited per
 * /64) has a token left, without taking it: 0 or SS_ERR_KNOCK_RATE. Step 2 only looks;
 * the token is taken after the outer MAC, so junk sent in a client's name cannot drain
 * that client's bucket.
 */
int ss_knock_ratelimit_check(ss_knock_ratelimit *r, int family, const uint8_t *addr,
			     uint64_t now_ns) SS_WARN_UNUSED;
/* Take a token for a source: 0 or SS_ERR_KNOCK_RATE. */
int ss_knock_ratelimit_take(ss_knock_ratelimit *r, int family, const uint8_t *addr,
			    uint64_t now_ns) SS_WARN_UNUSED;

/* ---- replay cache keyed by the challenge (step 8) ---- */
typedef struct ss_knock_replay ss_knock_replay;

/*
 * path may be NULL (no persistence); an existing file (format 1 or 2) is loaded. Entries
 * live until their knock's window has passed on both clocks: wall_ms (ms since 1970)
 * and mono_ns (a monotonic clock); what is forgotten raises a floor that refuses every
 * knock whose window ended no later (PROTOCOL 14.6). Callers pass both clocks.
 */
int ss_knock_replay_new(ss_knock_replay **out, uint32_t capacity, const char *path,
			uint64_t wall_ms, uint64_t mono_ns) SS_WARN_UNUSED;
void ss_knock_replay_free(ss_knock_replay *r);
/*
 * For a knock whose window ends at expires_ms (timestamp + window + 1): SS_ERR_KNOCK_REPLAY
 * if seen or at or below the floor, SS_ERR_KNOCK_REPLAY_FULL if full of live entries, else 0.
 */
int ss_knock_replay_check(const ss_knock_replay *r, const uint8_t ch[SS_KNOCK_CHALLENGE_LEN],
			  uint64_t expires_ms, uint64_t wall_ms, uint64_t mono_ns) SS_WARN_UNUSED;
/* Record ch (as replay_check) and append it to the file, synced, before the caller acts. */
int ss_knock_replay_add(ss_knock_replay *r, const uint8_t ch[SS_KNOCK_CHALLENGE_LEN],
			uint64_t expires_ms, uint64_t wall_ms, uint64_t mono_ns) SS_WARN_UNUSED;
/*
 * 7a. SS_ERR_KNOCK_CLOCK while our wall clock is behind the newest recorded knock's
 * timestamp by more than window_ms: it stepped back, and knocks wait until it catches up.
 */
int ss_knock_replay_check_clock(const ss_knock_replay *r, uint64_t wall_ms,
				uint64_t window_ms) SS_WARN_UNUSED;
uint32_t ss_knock_replay_count(const ss_knock_replay *r);

/*
 * ---- cache of opened datagrams (step 3b) ----
 * What steps 4-5 (X25519, AEAD, signature) made of one exact datagram, keyed by its
 * ephemeral, outer MAC and length: a failure code, or the opened knock's fields (no
 * payload, no evidence). A copy of the datagram then costs the outer MAC and a lookup:
 * the caller re-runs steps 6-8 on the cached fields and drops it there, or, if the copy
 * would now be accepted, opens it anew (the parent needs fresh evidence). An accelerator,
 * never an authority: an entry is written only after the public-key step ran on that
 * very datagram, and losing one costs only that work again. No allocation per datagram.
 */
typedef struct ss_knock_seen ss_knock_seen;

int ss_knock_seen_new(ss_knock_seen **out, uint32_t slots, uint64_t seed) SS_WARN_UNUSED;
void ss_knock_seen_free(ss_knock_seen *c);
/*
 * For a datagram whose outer MAC verified: 1 with *code (0: opened, msg filled but for
 * payload) if this exact datagram was opened before, else 0.
 */
int ss_knock_seen_find(const ss_knock_seen *c, const uint8_t *pkt, size_t len, int *code,
		       ss_knock_msg *msg);
/* Record what the public-key step made of pkt: code 0 with msg, or its drop code. */
void ss_knock_seen_put(ss_knock_seen *c, const uint8_t *pkt, size_t len, int code,
		       const ss_knock_msg *msg);

/* base64 (standard, padded) of any length; out must hold 4 * ((len + 2) / 3) + 1 bytes. */
void ss_knock_base64(const uint8_t *in, size_t len, char *out);

#endif
