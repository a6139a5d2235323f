/* SPDX-License-Identifier: MIT */
#ifndef SILOSEC_ERROR_H
#define SILOSEC_ERROR_H

/*
 * Every libsilosec function returns 0 or one of these negative codes. The values are
 * stable: logs and the audit trail print them, so they are never renumbered.
 * Codes from SS_ERR_MALFORMED on are reasons a packet was dropped.
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
	SS_ERR_RATE_LIMIT = -38,    /* handshakes from this peer too frequent */
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
	/*
	 * Knock (silosec-knockd) drop reasons: -70..-89, in validation order up to -81;
	 * later codes are appended (-82 is checked between -76 and -77).
	 */
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
	/* Secure streams (silosec/stream.h): -60..-69. */
	SS_ERR_AGAIN = -60,	/* non-blocking: would block, call again when ready */
	SS_ERR_PEER_SLOW = -61, /* timeout: what was returned is verified, more is due */
	SS_ERR_TRUNCATED = -62, /* the transport ended without an authenticated close */
	SS_ERR_CLOSED = -63,	/* stream closed for sending, or dead after an error */
	/* Isolation (capabilities, grants, sandbox): -90..-99. */
	SS_ERR_CAP_DENIED = -90,  /* no Allow rule or grant lets this peer reach this address */
	SS_ERR_CT_FULL = -91,	  /* peer's connection-tracking budget is used up */
	SS_ERR_GRANT_LIMIT = -92, /* grant refused: over the duration cap or the grant table full */
	SS_ERR_SANDBOX = -95,	  /* sandbox could not be set up, or a forbidden system call */
};

#define SS_DROP_FIRST SS_ERR_MALFORMED
#define SS_DROP_LAST SS_ERR_KEY_EXHAUSTED
#define SS_DROP_COUNT (SS_DROP_FIRST - SS_DROP_LAST + 1)
#define SS_KNOCK_DROP_FIRST SS_ERR_KNOCK_SIZE
#define SS_KNOCK_DROP_LAST SS_ERR_KNOCK_SOURCE
#define SS_KNOCK_DROP_COUNT (SS_KNOCK_DROP_FIRST - SS_KNOCK_DROP_LAST + 1)

/* Index into a drop-counter array for a drop code, or -1 if code is not a drop. */
int ss_drop_index(int code);

/* Short stable name, e.g. "SS_ERR_REPLAY". */
const char *ss_err_name(int code);

/* One-line human description. */
const char *ss_strerror(int code);

#endif
