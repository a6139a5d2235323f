/* SPDX-License-Identifier: MIT */
/*
 * Secure streams (docs/PROTOCOL.md section 13): the SiloSec v2 handshake carried over a
 * connected byte stream (TCP, a Unix socket, a pipe through SSH), then framed messages
 * sealed with AES-256-GCM under per-direction keys. Seed 002's semantics, with its
 * cryptography replaced.
 *
 * One stream is used by one thread at a time (the seed's SEND/RECV/WAIT states are not
 * concurrent). It works over a file descriptor (blocking, with a timeout, or
 * O_NONBLOCK from an event loop) or over caller callbacks. Every function returns 0 or a
 * negative code: the core's (silosec/error.h) or the stream's own below.
 */
#ifndef SS_STREAM_STREAM_H
#define SS_STREAM_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <silosec/error.h>
#include <silosec/identity.h>

/* The stream's codes: -60..-69 (silosec/error.h has the core's; docs/ERRORS.md all). */
enum ss_stream_err {
	SS_ERR_AGAIN = -60,	/* non-blocking: would block, call again when ready */
	SS_ERR_PEER_SLOW = -61, /* timeout: what was returned is verified, more is due */
	SS_ERR_TRUNCATED = -62, /* the transport ended without an authenticated close */
	SS_ERR_CLOSED = -63,	/* stream closed for sending, or dead after an error */
};

typedef struct ss_stream ss_stream;

/* Protocol limits (section 13). */
#define SS_STREAM_HDR_LEN 16			/* plaintext frame header */
#define SS_STREAM_SEALED_HDR_LEN 32		/* header ciphertext || tag */
#define SS_STREAM_OVERHEAD 48			/* sealed header + payload tag */
#define SS_STREAM_MAX_FRAME (UINT32_C(1) << 24) /* payload bytes in one frame */
#define SS_STREAM_DEFAULT_FRAME (64 * 1024)
#define SS_STREAM_DEFAULT_RECV_FRAME (1024 * 1024)
/* A direction updates its key after this many frames or payload bytes. */
#define SS_STREAM_REKEY_FRAMES (UINT32_C(1) << 24)
#define SS_STREAM_REKEY_BYTES (UINT64_C(1) << 34)
/* Sequence numbers never reach this under one key: the hard stop. */
#define SS_STREAM_SEQ_LIMIT UINT32_MAX

/* Frame flags (header bytes 12..15). */
#define SS_STREAM_F_MORE 1u	  /* the message continues in the next data frame */
#define SS_STREAM_F_CLOSE 2u	  /* authenticated end of this direction */
#define SS_STREAM_F_KEY_UPDATE 4u /* the sender's next frame uses the next key */
#define SS_STREAM_F_CONFIRM 8u	  /* the initiator's first frame: key confirmation */
#define SS_STREAM_F_ALL 15u

/*
 * Transport callbacks. read: put up to len bytes in buf and their number in *got; *got = 0
 * means end of stream. write: send up to len bytes, their number in *put. Both return 0,
 * SS_ERR_AGAIN (nothing possible now; the stream returns SS_ERR_AGAIN to its caller) or
 * SS_ERR_IO.
 */
typedef int (*ss_stream_read_fn)(void *arg, uint8_t *buf, size_t len, size_t *got);
typedef int (*ss_stream_write_fn)(void *arg, const uint8_t *buf, size_t len, size_t *put);

typedef struct ss_stream_config {
	const ss_identity *identity; /* borrowed; must outlive the stream */
	/* The initiator sends the INIT and its side is the seed's "top" half of the keys. */
	bool initiator;
	/*
	 * Peer authentication, one of: a set of allowed identities (one = pinned); or trust
	 * on first use against known_hosts, where peer_name (e.g. "host:port") is looked up,
	 * pinned on first contact and enforced afterwards; or, with neither, any identity
	 * (the caller must then check ss_stream_peer_identity itself). A small-order
	 * identity in peers makes creation fail (SS_ERR_BAD_KEY); one presented by the
	 * peer fails the handshake (SS_ERR_SIGNATURE).
	 */
	const uint8_t (*peers)[SS_IDENTITY_LEN];
	size_t npeers;
	const char *known_hosts;
	const char *peer_name;
	bool accept_any; /* required to allow "neither": no silent anonymity */
	/* Payload bytes per frame sent (0: SS_STREAM_DEFAULT_FRAME) and accepted. */
	uint32_t max_frame;
	uint32_t max_recv_frame; /* 0: SS_STREAM_DEFAULT_RECV_FRAME */
	/* Blocking fd use: give up waiting after this long (SS_ERR_PEER_SLOW); <0 never. */
	int timeout_ms;
	ss_random_fn random; /* NULL: ss_random_system */
	void *random_arg;
	/* Key update after this many frames (0: SS_STREAM_REKEY_FRAMES); for tests. */
	uint32_t rekey_frames;
	/* INIT timestamp in ns since 1970 (0: the wall clock); for test vectors. */
	uint64_t timestamp_ns;
} ss_stream_config;

/*
 * Create a stream over a connected fd (not closed by ss_stream_free) or over callbacks.
 * With an O_NONBLOCK fd (or callbacks returning SS_ERR_AGAIN) every call may return
 * SS_ERR_AGAIN: wait for the fd (ss_stream_want_write says for which direction) and call
 * again.
 */
int ss_stream_new_fd(ss_stream **out, const ss_stream_config *cfg, int fd) SS_WARN_UNUSED;
int ss_stream_new_cb(ss_stream **out, const ss_stream_config *cfg, ss_stream_read_fn rd,
		     ss_stream_write_fn wr, void *arg) SS_WARN_UNUSED;
void ss_stream_free(ss_stream *s);

/*
 * Run the handshake (also done implicitly by the first send or recv). 0 when the peer is
 * authenticated: for the responder, once the initiator proved it holds the keys.
 * SS_ERR_UNKNOWN_PEER: the peer is not allowed; SS_ERR_IDENTITY: it differs from the
 * pinned or known identity; SS_ERR_SIGNATURE, SS_ERR_CONFIRM, SS_ERR_MAC1, ...: forged
 * or corrupted handshake. Failures are final.
 */
int ss_stream_handshake(ss_stream *s) SS_WARN_UNUSED;
/* The authenticated peer identity, NULL before the handshake completed. */
const uint8_t *ss_stream_peer_identity(const ss_stream *s);
/* True if this handshake pinned a new identity in known_hosts. */
bool ss_stream_peer_learned(const ss_stream *s);

/*
 * Send one message of any size with a 32-bit code, split into frames of at most
 * max_frame bytes. Blocking: returns when all is written. Non-blocking: SS_ERR_AGAIN with
 * *sent < len bytes consumed; call again with the rest and the same code to continue the
 * same message (sent may be NULL in blocking use).
 */
int ss_stream_send(ss_stream *s, uint32_t code, const void *buf, size_t len,
		   size_t *sent) SS_WARN_UNUSED;
/* Write out sealed bytes still queued (non-blocking use); 0 when none are left. */
int ss_stream_flush(ss_stream *s) SS_WARN_UNUSED;
bool ss_stream_want_write(const ss_stream *s);
/* Authenticated close of our direction (half-close); the peer may go on sending. */
int ss_stream_close(ss_stream *s) SS_WARN_UNUSED;

typedef struct ss_stream_info {
	uint32_t code; /* of the message the returned bytes belong to */
	bool end;      /* the returned bytes include the message's last frame */
	bool eof;      /* the peer closed its direction (authenticated) */
	size_t need;   /* with SS_ERR_BUFFER: the next frame's payload length */
} ss_stream_info;

#define SS_STREAM_RECV_ALL 1u /* wait to fill buf (to a frame boundary) or the message end */

/*
 * Receive authenticated bytes of one message into buf: whole frames only, never past the
 * message's end. Without SS_STREAM_RECV_ALL it returns once at least one frame arrived;
 * with it, when the next frame would not fit, or at the message's end. *got is always the
 * number of verified bytes placed in buf, whatever the return value:
 *   0                  got bytes (possibly 0 for an empty message, or at eof);
 *   SS_ERR_PEER_SLOW   the timeout passed first (the stream stays usable);
 *   SS_ERR_AGAIN       non-blocking, nothing more now (stream usable);
 *   SS_ERR_BUFFER      the next frame (info->need bytes) is larger than cap (usable);
 *   SS_ERR_DECRYPT, SS_ERR_MALFORMED, SS_ERR_TRUNCATED, SS_ERR_IO: the stream is dead
 *                      and every later call returns the same code (fail closed).
 */
int ss_stream_recv(ss_stream *s, void *buf, size_t cap, size_t *got, ss_stream_info *info,
		   unsigned flags) SS_WARN_UNUSED;

typedef struct ss_stream_stats {
	uint64_t frames_sent, frames_received;
	uint64_t bytes_sent, bytes_received; /* payload */
	uint64_t wire_sent, wire_received;   /* including handshake and overhead */
	uint32_t tx_epoch, rx_epoch;	     /* key updates so far */
} ss_stream_stats;
void ss_stream_get_stats(const ss_stream *s, ss_stream_stats *out);

#endif
