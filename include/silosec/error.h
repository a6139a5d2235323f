/* SPDX-License-Identifier: MIT */
#ifndef SILOSEC_ERROR_H
#define SILOSEC_ERROR_H

/*
 * Every libsilosec function returns 0 or one of these negative codes. The values are
 * stable: logs and the audit trail print them, so they are never renumbered.
 * Codes from SS_ERR_MALFORMED on are reasons a packet was dropped.
 *
 * The layers built on the core own the other ranges, in their own headers: secure streams
 * -60..-69 (src/stream/stream.h), knocks -70..-89 (src/knock/knock.h), isolation -90..-99
 * (src/tunnel/isolation.h, src/sandbox/sandbox.h). A program that links a layer gets its
 * names from ss_err_name and ss_strerror too; docs/ERRORS.md lists every code.
 */
enum ss_err {
	SS_OK = 0,
	SS_ERR_INVAL = -1,	    /* bad argument */
	SS_ERR_NOMEM = -2,	    /* allocation failed (configuration path only) */
	SS_ERR_CRYPTO = -3,	    /* the crypto library failed */
	SS_ERR_IO = -4,		    /* file I/O failed (errno kept) */
	SS_ERR_PERM = -5,	    /* key file readable by group or others */
	SS_ERR_FORMAT = -6,	    /* bad base64, key or file contents */
	SS_ERR_BUFFER = -7,	    /* output buffer too small */
	SS_ERR_NO_SESSION = -8,	    /* no usable session: handshake needed */
	SS_ERR_EXISTS = -9,	    /* already present */
	SS_ERR_NOT_FOUND = -10,	    /* no such item */
	SS_ERR_FULL = -11,	    /* table full */
	SS_ERR_BAD_KEY = -12,	    /* Ed25519 public key of small order or not canonical */
	SS_ERR_MALFORMED = -32,	    /* wrong length, type, version or reserved bits */
	SS_ERR_MAC1 = -33,	    /* mac1 wrong: junk or not meant for us */
	SS_ERR_COOKIE = -34,	    /* under load and mac2 missing or wrong */
	SS_ERR_UNKNOWN_INDEX = -35, /* no session or handshake has this index */
	SS_ERR_UNKNOWN_PEER = -36,  /* signed by an identity we do not know */
	SS_ERR_STALE = -37,	    /* handshake timestamp not newer: replay */
	SS_ERR_RATE_LIMIT = -38,    /* handshakes from this peer or source too frequent */
	SS_ERR_SIGNATURE = -39,	    /* Ed25519 signature invalid */
	SS_ERR_IDENTITY = -40,	    /* identity differs from the one expected */
	SS_ERR_CONFIRM = -41,	    /* key confirmation tag invalid */
	SS_ERR_DECRYPT = -42,	    /* AEAD authentication failed */
	SS_ERR_REPLAY = -43,	    /* counter already received */
	SS_ERR_TOO_OLD = -44,	    /* counter left of the replay window */
	SS_ERR_EXPIRED = -45,	    /* session past its time or message limit, or old epoch */
	SS_ERR_FLOW = -46,	    /* packet arrived on another 5-tuple than its session */
	SS_ERR_DIVERGENCE = -47,    /* echoed counter state contradicts ours */
	SS_ERR_REFLECTION = -48,    /* our own message sent back to us */
	SS_ERR_UNEXPECTED = -49,    /* valid format but no handshake waiting for it */
	SS_ERR_KEY_EXHAUSTED = -50, /* send counter reached its hard limit */
	SS_ERR_REACH_DENIED = -51,  /* introduction or relay not allowed for this peer */
	SS_ERR_REACH_RATE = -52,    /* reachability message over its rate limit */
	SS_ERR_CANDIDATE = -53,	    /* candidate endpoint refused by the allow list */
	SS_ERR_LAN_SPOOF = -54,	    /* LAN announcement not recognised, stale or forged */
	SS_ERR_RELAY = -55,	    /* relayed datagram for no circuit, or of a refused type */
};

#define SS_DROP_FIRST SS_ERR_MALFORMED
#define SS_DROP_LAST SS_ERR_RELAY
#define SS_DROP_COUNT (SS_DROP_FIRST - SS_DROP_LAST + 1)

/* Index into a drop-counter array for a drop code, or -1 if code is not a drop. */
int ss_drop_index(int code);

/* Short stable name, e.g. "SS_ERR_REPLAY"; "SS_ERR_UNKNOWN" for a code nobody named. */
const char *ss_err_name(int code);

/* One-line human description. */
const char *ss_strerror(int code);

#endif
