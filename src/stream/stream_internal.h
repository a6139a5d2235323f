/* SPDX-License-Identifier: MIT */
/* Secure streams: state shared by the frame layer (stream.c) and the handshake. */
#ifndef SS_STREAM_INTERNAL_H
#define SS_STREAM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "stream/stream.h"
#include <silosec/wire.h>

#include "common/crypto.h"

/* Handshake messages on a stream: the v2 INIT and RESPONSE layouts with their own types. */
#define SS_STREAM_MSG_INIT 6
#define SS_STREAM_MSG_RESPONSE 7
#define SS_STREAM_LABEL_KEY_UPDATE "SiloSec v2 stream key update"

enum ss_stream_state {
	ST_START = 0,
	ST_SEND_INIT,	 /* initiator: INIT queued */
	ST_WAIT_RESP,	 /* initiator: waiting for the RESPONSE */
	ST_WAIT_INIT,	 /* responder: waiting for the INIT */
	ST_WAIT_CONFIRM, /* responder: RESPONSE queued, waiting for the confirm frame */
	ST_OPEN,
};

struct ss_stream {
	const ss_identity *id;
	bool initiator;
	uint8_t (*peers)[SS_IDENTITY_LEN];
	size_t npeers;
	char *known_hosts, *peer_name;
	bool accept_any;
	uint32_t max_frame, max_recv_frame, rekey_frames;
	uint64_t timestamp_ns;
	int timeout_ms;
	ss_random_fn random;
	void *random_arg;

	/* Transport. */
	int fd;
	bool nonblock, is_socket;
	ss_stream_read_fn rd;
	ss_stream_write_fn wr;
	void *arg;

	enum ss_stream_state state;
	int dead; /* sticky fatal error, 0 while usable */
	bool tx_closed, rx_closed;

	/* Handshake. */
	EVP_PKEY *eph;
	uint8_t init[SS_INIT_LEN];
	uint8_t peer_id[SS_IDENTITY_LEN];
	bool have_peer, learned, pin_pending;

	/* Per-direction keys: raw key kept for the next key update, expanded context. */
	ss_aead tx, rx;
	uint8_t tx_key[SS_KEY_LEN], rx_key[SS_KEY_LEN];
	uint64_t tx_seq, rx_seq;     /* next to seal / expected; from 1 under each key */
	uint64_t tx_bytes, rx_bytes; /* payload under the current key */

	/* Message state: a message spans frames while MORE is set. */
	bool tx_mid, rx_mid;
	uint32_t tx_code, rx_code;

	/* The received frame whose header is open and whose payload is pending. */
	bool rx_hdr;
	uint8_t rx_hdr_pt[SS_STREAM_HDR_LEN];
	uint32_t rx_len, rx_fcode, rx_flags;

	/* Buffers: valid input is in[in_off .. in_off + in_len), output out[out_off .. out_len). */
	uint8_t *in, *out;
	size_t in_cap, in_off, in_len;
	size_t out_cap, out_off, out_len;

	ss_stream_stats stats;
};

/* handshake.c */
int ss_stream_hs_init(ss_stream *s, uint8_t out[SS_INIT_LEN]) SS_WARN_UNUSED;
int ss_stream_hs_respond(ss_stream *s, const uint8_t init[SS_INIT_LEN],
			 uint8_t resp[SS_RESP_LEN]) SS_WARN_UNUSED;
int ss_stream_hs_finish(ss_stream *s, const uint8_t resp[SS_RESP_LEN]) SS_WARN_UNUSED;
/* Peer policy: pinned set, known_hosts, or any. commit: write a new known_hosts pin. */
int ss_stream_check_peer(ss_stream *s, const uint8_t id[SS_IDENTITY_LEN],
			 bool commit) SS_WARN_UNUSED;

/* stream.c */
int ss_stream_set_keys(ss_stream *s, const uint8_t k_send[SS_KEY_LEN],
		       const uint8_t k_recv[SS_KEY_LEN]) SS_WARN_UNUSED;
/* For tests and fuzzing: skip the handshake and open the stream with these keys. */
int ss_stream_test_open(ss_stream *s, const uint8_t k_send[SS_KEY_LEN],
			const uint8_t k_recv[SS_KEY_LEN]) SS_WARN_UNUSED;

#endif
