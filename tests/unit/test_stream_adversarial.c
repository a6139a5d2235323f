/* SPDX-License-Identifier: MIT */
/*
 * Secure streams under attack: every byte of the handshake and of a run of frames
 * flipped, frames dropped, duplicated, reordered, truncated at every length, spliced in
 * from another stream, a whole stream replayed, frames reflected, and authentic frames
 * that break the rules (crafted here with the keys, following PROTOCOL.md 13.3 as an
 * independent implementation). Each must stop the stream with an error after delivering
 * exactly the verified frames before the damage, and nothing else.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "pipe.h"

#include "stream/stream.h"

#include "common/endian.h"
#include "common/truststore.h"
#include "internal.h"
#include "../../src/stream/stream_internal.h"

static ss_identity *ida, *idb;

/* A final failure: neither success nor "call again". */
static bool is_error(int ret)
{
	return ret < 0 && ret != SS_ERR_AGAIN && ret != SS_ERR_PEER_SLOW;
}

static int setup(void **state)
{
	(void)state;
	ida = test_identity_seeded("adv a");
	idb = test_identity_seeded("adv b");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ss_identity_free(ida);
	ss_identity_free(idb);
	return 0;
}

static void cfg(ss_stream_config *c, bool initiator)
{
	memset(c, 0, sizeof(*c));
	c->identity = initiator ? ida : idb;
	c->initiator = initiator;
	c->peers = (const uint8_t(*)[SS_IDENTITY_LEN])ss_identity_public(initiator ? idb : ida);
	c->npeers = 1;
	c->timeout_ms = -1;
	c->max_frame = 64;
}

/* ---- a fixed-key sender and receivers: the frame layer alone ---- */

static const uint8_t K1[32] = {1, 2, 3}, K2[32] = {9, 8, 7};

static ss_stream *keyed(pipe_end *e, bool sender)
{
	ss_stream_config c;
	ss_stream *s;

	cfg(&c, sender);
	assert_int_equal(ss_stream_new_cb(&s, &c, pipe_read, pipe_write, e), 0);
	assert_int_equal(ss_stream_test_open(s, sender ? K1 : K2, sender ? K2 : K1), 0);
	return s;
}

/* The reference run: 4 messages in 6 frames, then the close. */
struct run {
	uint8_t wire[4096];
	size_t len;
	size_t frame_end[8];  /* wire offset after each frame */
	size_t frame_data[8]; /* payload bytes delivered once that frame verified */
	size_t nframes;
	uint8_t plain[1024];
	size_t plain_len;
};

static void reference(struct run *r)
{
	static const size_t sizes[] = {40, 100, 0, 130};
	pipe_buf in = {0}, out = {0};
	pipe_end e = {&in, &out};
	ss_stream *s = keyed(&e, true);
	size_t total = 0;

	memset(r, 0, sizeof(*r));
	for (size_t m = 0; m < 4; m++) {
		uint8_t msg[200];

		for (size_t i = 0; i < sizes[m]; i++)
			msg[i] = (uint8_t)(m * 50 + i);
		memcpy(r->plain + r->plain_len, msg, sizes[m]);
		r->plain_len += sizes[m];
		assert_int_equal(ss_stream_send(s, (uint32_t)m + 1, msg, sizes[m], NULL), 0);
		/* Frame boundaries: 64-byte frames. */
		for (size_t off = 0; off < sizes[m] || (off == 0 && sizes[m] == 0);) {
			size_t n = sizes[m] - off > 64 ? 64 : sizes[m] - off;

			total += n;
			r->frame_end[r->nframes] =
				(r->nframes ? r->frame_end[r->nframes - 1] : 0) + n + 48;
			r->frame_data[r->nframes++] = total;
			off += n;
			if (!n)
				break;
		}
	}
	assert_int_equal(ss_stream_close(s), 0);
	r->frame_end[r->nframes] = r->frame_end[r->nframes - 1] + 48;
	r->frame_data[r->nframes++] = total;
	assert_int_equal(out.len, r->frame_end[r->nframes - 1]);
	memcpy(r->wire, out.data, out.len);
	r->len = out.len;
	assert_int_equal(r->nframes, 8); /* 40 | 64 36 | 0 | 64 64 2 | close */
	ss_stream_free(s);
	free(out.data);
}

/* cmocka fixture: *state is a fresh reference run. */
static int ref_setup(void **state)
{
	struct run *r = malloc(sizeof(*r));

	if (!r)
		return -1;
	reference(r);
	*state = r;
	return 0;
}

static int ref_teardown(void **state)
{
	free(*state);
	return 0;
}

#define ref_test(fn) cmocka_unit_test_setup_teardown(fn, ref_setup, ref_teardown)

/*
 * Read s to the end through buf; *total: the verified bytes delivered, checked against
 * r's plaintext if r is given. Returns the final status.
 */
static int drain(ss_stream *s, uint8_t *buf, size_t cap, const struct run *r, size_t *total)
{
	*total = 0;
	for (;;) {
		ss_stream_info info;
		size_t got;
		int ret = ss_stream_recv(s, buf, cap, &got, &info, SS_STREAM_RECV_ALL);

		if (r) {
			assert_true(*total + got <= r->plain_len);
			assert_memory_equal(buf, r->plain + *total, got);
		}
		*total += got;
		if (ret || info.eof)
			return ret;
	}
}

/*
 * A fresh receiver (its rx_seq set, if given) fed wire, read to the end in cap-byte reads
 * (drain, checked against r if given).
 */
static int receive(const uint8_t *wire, size_t len, const uint64_t *rx_seq, size_t cap,
		   const struct run *r, size_t *delivered)
{
	pipe_buf in = {0}, out = {0};
	pipe_end e = {&in, &out};
	ss_stream *s = keyed(&e, false);
	uint8_t buf[1024];
	int ret;

	assert_true(cap <= sizeof(buf));
	if (rx_seq)
		s->rx_seq = *rx_seq;
	pipe_put(&in, wire, len);
	in.eof = true;
	ret = drain(s, buf, cap, r, delivered);
	ss_stream_free(s);
	free(in.data);
	free(out.data);
	return ret;
}

/*
 * Feed wire to a fresh receiver; read to the end. Returns the final status (0 only for
 * an authenticated close) and the verified bytes delivered, checked against plain.
 */
static int consume_all(const struct run *r, const uint8_t *wire, size_t len, size_t *delivered)
{
	return receive(wire, len, NULL, 1024, r, delivered);
}

/* Payload bytes that are delivered when the damage is at wire offset pos. */
static size_t verified_before(const struct run *r, size_t pos)
{
	size_t i = 0;

	while (i < r->nframes && r->frame_end[i] <= pos)
		i++;
	return i ? r->frame_data[i - 1] : 0;
}

/* wire (len bytes) must stop the receiver with code after exactly the frames before cut. */
static void expect_stop(const struct run *r, const uint8_t *wire, size_t len, int code, size_t cut)
{
	size_t d;

	assert_int_equal(consume_all(r, wire, len, &d), code);
	assert_int_equal(d, verified_before(r, cut));
}

/* Where frame f begins on the wire. */
static size_t frame_start(const struct run *r, size_t f)
{
	return f ? r->frame_end[f - 1] : 0;
}

static void reference_roundtrip(void **state)
{
	const struct run *r = *state;
	size_t d;

	assert_int_equal(consume_all(r, r->wire, r->len, &d), 0);
	assert_int_equal(d, r->plain_len);
}

static void flip_every_byte(void **state)
{
	const struct run *r = *state;
	uint8_t w[4096];

	for (size_t i = 0; i < r->len; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			memcpy(w, r->wire, r->len);
			w[i] ^= (uint8_t)(1u << bit);
			expect_stop(r, w, r->len, SS_ERR_DECRYPT, i);
		}
	}
}

static void drop_each_frame(void **state)
{
	const struct run *r = *state;
	uint8_t w[4096];

	for (size_t f = 0; f < r->nframes; f++) {
		size_t a = frame_start(r, f), b = r->frame_end[f];

		memcpy(w, r->wire, a);
		memcpy(w + a, r->wire + b, r->len - b);
		/* The close dropped is a truncation. */
		expect_stop(r, w, r->len - (b - a),
			    f == r->nframes - 1 ? SS_ERR_TRUNCATED : SS_ERR_DECRYPT, a);
	}
}

static void duplicate_each_frame(void **state)
{
	const struct run *r = *state;
	uint8_t w[8192];

	for (size_t f = 0; f < r->nframes - 1; f++) {
		size_t a = frame_start(r, f), b = r->frame_end[f];

		memcpy(w, r->wire, b);
		memcpy(w + b, r->wire + a, b - a);
		memcpy(w + b + (b - a), r->wire + b, r->len - b);
		expect_stop(r, w, r->len + (b - a), SS_ERR_DECRYPT, b);
	}
}

static void swap_adjacent_frames(void **state)
{
	const struct run *r = *state;
	uint8_t w[4096];

	for (size_t f = 0; f + 1 < r->nframes; f++) {
		size_t a = frame_start(r, f), b = r->frame_end[f], c = r->frame_end[f + 1];

		memcpy(w, r->wire, a);
		memcpy(w + a, r->wire + b, c - b);
		memcpy(w + a + (c - b), r->wire + a, b - a);
		memcpy(w + c, r->wire + c, r->len - c);
		expect_stop(r, w, r->len, SS_ERR_DECRYPT, a);
	}
}

static void truncate_every_length(void **state)
{
	const struct run *r = *state;
	size_t d;

	for (size_t l = 0; l < r->len; l++) {
		expect_stop(r, r->wire, l, SS_ERR_TRUNCATED, l);
	}
	assert_int_equal(consume_all(r, r->wire, r->len, &d), 0);
}

static void reflect_own_frames(void **state)
{
	pipe_buf in = {0}, out = {0};
	pipe_end e = {&in, &out};
	ss_stream *s = keyed(&e, true);
	uint8_t buf[64];
	size_t got;

	(void)state;
	assert_int_equal(ss_stream_send(s, 1, "hello", 5, NULL), 0);
	/* What a sent comes back to a: the other direction's key does not open it. */
	pipe_put(&in, out.data, out.len);
	assert_int_equal(ss_stream_recv(s, buf, sizeof(buf), &got, NULL, 0), SS_ERR_DECRYPT);
	assert_int_equal(got, 0);
	ss_stream_free(s);
	free(in.data);
	free(out.data);
}

/* ---- crafted authentic frames that break the rules ---- */

static size_t craft(uint8_t *o, const uint8_t key[32], uint64_t nonce_seq, uint32_t len,
		    uint32_t code, uint32_t seq_field, uint32_t flags, const uint8_t *payload)
{
	uint8_t hdr[16], nonce[12] = {0};
	ss_aead a;

	ss_store_be32(hdr, len);
	ss_store_be32(hdr + 4, code);
	ss_store_be32(hdr + 8, seq_field);
	ss_store_be32(hdr + 12, flags);
	assert_int_equal(ss_aead_init(&a), 0);
	assert_int_equal(ss_aead_setkey(&a, key, 1), 0);
	ss_store_be64(nonce + 4, nonce_seq);
	assert_int_equal(ss_aead_seal(&a, nonce, NULL, 0, hdr, 16, o), 0);
	nonce[0] = 1;
	assert_int_equal(ss_aead_seal(&a, nonce, hdr, 16, payload, len, o + 32), 0);
	ss_aead_free(&a);
	return 48 + len;
}

/* Receiver for fixed keys fed with crafted bytes; returns the status of reading it all. */
static int feed(const uint8_t *w, size_t len, size_t *delivered, uint64_t rx_seq)
{
	return receive(w, len, &rx_seq, 256, NULL, delivered);
}

static void crafted_reference_matches(void **state)
{
	const struct run *r = *state;
	uint8_t w[1024];
	size_t n = 0, d;

	/* The first message, rebuilt from the specification, byte for byte. */
	n = craft(w, K1, 1, 40, 1, 1, 0, r->plain);
	assert_memory_equal(w, r->wire, n);
	n += craft(w + n, K1, 2, 0, 0, 2, SS_STREAM_F_CLOSE, NULL);
	assert_int_equal(feed(w, n, &d, 1), 0);
	assert_int_equal(d, 40);
}

static void crafted_rule_breaks(void **state)
{
	uint8_t w[1024], p[64] = {0};
	size_t n, d;

	(void)state;
	/* The seq field disagrees with the (implicit) sequence number. */
	n = craft(w, K1, 1, 4, 1, 2, 0, p);
	assert_int_equal(feed(w, n, &d, 1), SS_ERR_MALFORMED);
	/* Reserved flag bits. */
	n = craft(w, K1, 1, 4, 1, 1, 16, p);
	assert_int_equal(feed(w, n, &d, 1), SS_ERR_MALFORMED);
	/* A close carrying data, a key update with a code, two control flags at once. */
	n = craft(w, K1, 1, 4, 0, 1, SS_STREAM_F_CLOSE, p);
	assert_int_equal(feed(w, n, &d, 1), SS_ERR_MALFORMED);
	n = craft(w, K1, 1, 0, 5, 1, SS_STREAM_F_KEY_UPDATE, p);
	assert_int_equal(feed(w, n, &d, 1), SS_ERR_MALFORMED);
	n = craft(w, K1, 1, 0, 0, 1, SS_STREAM_F_CLOSE | SS_STREAM_F_KEY_UPDATE, p);
	assert_int_equal(feed(w, n, &d, 1), SS_ERR_MALFORMED);
	/* A confirm frame once the stream is open. */
	n = craft(w, K1, 1, 0, 0, 1, SS_STREAM_F_CONFIRM, p);
	assert_int_equal(feed(w, n, &d, 1), SS_ERR_MALFORMED);
	/* Longer than the receiver accepts (1 MiB default), seen in the header alone. */
	n = craft(w, K1, 1, 0, 1, 1, 0, p);
	ss_store_be32(w, 0); /* (ciphertext now garbage: must fail, never allocate) */
	assert_int_equal(feed(w, n, &d, 1), SS_ERR_DECRYPT);
	/* A message re-coded halfway, and a close in the middle of a message. */
	n = craft(w, K1, 1, 4, 1, 1, SS_STREAM_F_MORE, p);
	n += craft(w + n, K1, 2, 4, 2, 2, 0, p);
	assert_int_equal(feed(w, n, &d, 1), SS_ERR_MALFORMED);
	assert_int_equal(d, 4);
	n = craft(w, K1, 1, 4, 1, 1, SS_STREAM_F_MORE, p);
	n += craft(w + n, K1, 2, 0, 0, 2, SS_STREAM_F_CLOSE, p);
	assert_int_equal(feed(w, n, &d, 1), SS_ERR_MALFORMED);
	/* At the per-key frame limit only a key update is allowed... */
	n = craft(w, K1, SS_STREAM_REKEY_FRAMES, 4, 1, SS_STREAM_REKEY_FRAMES, 0, p);
	assert_int_equal(feed(w, n, &d, SS_STREAM_REKEY_FRAMES), SS_ERR_MALFORMED);
	/* ...and after it, frames use the next key from seq 1. */
	{
		static const char label[] = SS_STREAM_LABEL_KEY_UPDATE;
		uint8_t k2[32];

		assert_int_equal(
			ss_hkdf_expand(k2, 32, K1, (const uint8_t *)label, sizeof(label) - 1), 0);
		n = craft(w, K1, SS_STREAM_REKEY_FRAMES, 0, 0, SS_STREAM_REKEY_FRAMES,
			  SS_STREAM_F_KEY_UPDATE, p);
		n += craft(w + n, k2, 1, 4, 1, 1, 0, p);
		n += craft(w + n, k2, 2, 0, 0, 2, SS_STREAM_F_CLOSE, p);
		assert_int_equal(feed(w, n, &d, SS_STREAM_REKEY_FRAMES), 0);
		assert_int_equal(d, 4);
		/* The old key after the update: refused. */
		n = craft(w, K1, SS_STREAM_REKEY_FRAMES, 0, 0, SS_STREAM_REKEY_FRAMES,
			  SS_STREAM_F_KEY_UPDATE, p);
		n += craft(w + n, K1, 1, 4, 1, 1, 0, p);
		assert_int_equal(feed(w, n, &d, SS_STREAM_REKEY_FRAMES), SS_ERR_DECRYPT);
	}
}

static void oversized_frame(void **state)
{
	uint8_t *w = malloc(2 << 20), *p = calloc(1, (1 << 20) + 1);
	size_t n, d;

	(void)state;
	n = craft(w, K1, 1, (1 << 20) + 1, 1, 1, 0, p);
	assert_int_equal(feed(w, n, &d, 1), SS_ERR_MALFORMED);
	free(w);
	free(p);
}

/* ---- whole handshakes: splicing, replay, flipped handshake bytes ---- */

typedef struct hpair {
	pipe_buf ab, ba;
	pipe_end ea, eb;
	ss_stream *a, *b;
} hpair;

/* h's two ends wired to each other, each stream created, both handshakes started. */
static void hpair_start(hpair *h)
{
	ss_stream_config ca, cb;

	memset(h, 0, sizeof(*h));
	h->ea.in = &h->ba;
	h->ea.out = &h->ab;
	h->eb.in = &h->ab;
	h->eb.out = &h->ba;
	cfg(&ca, true);
	cfg(&cb, false);
	assert_int_equal(ss_stream_new_cb(&h->a, &ca, pipe_read, pipe_write, &h->ea), 0);
	assert_int_equal(ss_stream_new_cb(&h->b, &cb, pipe_read, pipe_write, &h->eb), 0);
	assert_int_equal(ss_stream_handshake(h->a), SS_ERR_AGAIN);
	assert_int_equal(ss_stream_handshake(h->b), SS_ERR_AGAIN);
}

/* hpair_start, and both handshakes completed. */
static void hpair_open(hpair *h)
{
	hpair_start(h);
	assert_int_equal(ss_stream_handshake(h->a), 0);
	assert_int_equal(ss_stream_handshake(h->b), 0);
}

static void hpair_free(hpair *h)
{
	ss_stream_free(h->a);
	ss_stream_free(h->b);
	free(h->ab.data);
	free(h->ba.data);
}

static void splice_from_other_stream(void **state)
{
	hpair h1, h2;
	uint8_t buf[64];
	size_t start1, start2, got;

	(void)state;
	hpair_open(&h1);
	hpair_open(&h2);
	/* Same identities, same position, same sizes: only the session keys differ. */
	assert_int_equal(ss_stream_send(h1.a, 1, "first", 5, NULL), 0);
	start1 = h1.ab.len;
	start2 = h2.ab.len;
	assert_int_equal(ss_stream_send(h1.a, 1, "AAAAA", 5, NULL), 0);
	assert_int_equal(ss_stream_send(h2.a, 1, "BBBBB", 5, NULL), 0);
	memcpy(h1.ab.data + start1, h2.ab.data + start2, 48 + 5);
	assert_int_equal(ss_stream_recv(h1.b, buf, sizeof(buf), &got, NULL, 0), 0);
	assert_int_equal(got, 5);
	assert_memory_equal(buf, "first", 5);
	assert_int_equal(ss_stream_recv(h1.b, buf, sizeof(buf), &got, NULL, 0), SS_ERR_DECRYPT);
	assert_int_equal(got, 0);
	hpair_free(&h1);
	hpair_free(&h2);
}

static void replay_whole_stream(void **state)
{
	ss_stream_config cb;
	pipe_buf in = {0}, out = {0};
	pipe_end e = {&in, &out};
	uint8_t buf[64];
	ss_stream *b2;
	size_t got;
	hpair h;

	(void)state;
	hpair_open(&h);
	assert_int_equal(ss_stream_send(h.a, 1, "transfer 100", 12, NULL), 0);
	assert_int_equal(ss_stream_close(h.a), 0);
	/* Everything a sent (INIT, confirm, data, close), replayed to a fresh responder. */
	cfg(&cb, false);
	assert_int_equal(ss_stream_new_cb(&b2, &cb, pipe_read, pipe_write, &e), 0);
	pipe_put(&in, h.ab.data, h.ab.len);
	in.eof = true;
	assert_int_equal(ss_stream_recv(b2, buf, sizeof(buf), &got, NULL, 0), SS_ERR_DECRYPT);
	assert_int_equal(got, 0);
	assert_null(ss_stream_peer_identity(b2));
	assert_int_equal(out.len, SS_RESP_LEN); /* it answered, as any responder would */
	ss_stream_free(b2);
	free(in.data);
	free(out.data);
	hpair_free(&h);
}

static void replay_response(void **state)
{
	ss_stream_config ca;
	pipe_buf in = {0}, out = {0};
	pipe_end e = {&in, &out};
	ss_stream *a2;
	hpair h;

	(void)state;
	hpair_open(&h);
	/* An old RESPONSE answers a new INIT: the index and the transcript differ. */
	cfg(&ca, true);
	assert_int_equal(ss_stream_new_cb(&a2, &ca, pipe_read, pipe_write, &e), 0);
	pipe_put(&in, h.ba.data, SS_RESP_LEN);
	assert_int_equal(ss_stream_handshake(a2), SS_ERR_UNKNOWN_INDEX);
	/* Even with the index patched to match, the signature does not. */
	ss_stream_free(a2);
	pipe_reset(&in);
	pipe_reset(&out);
	assert_int_equal(ss_stream_new_cb(&a2, &ca, pipe_read, pipe_write, &e), 0);
	assert_int_equal(ss_stream_handshake(a2), SS_ERR_AGAIN);
	pipe_put(&in, h.ba.data, SS_RESP_LEN);
	memcpy(in.data + SS_RESP_OFF_RECEIVER, out.data + SS_INIT_OFF_SENDER, 4);
	assert_int_not_equal(ss_stream_handshake(a2), 0);
	assert_null(ss_stream_peer_identity(a2));
	ss_stream_free(a2);
	free(in.data);
	free(out.data);
	hpair_free(&h);
}

static void flip_every_init_byte(void **state)
{
	ss_stream_config ca, cb;
	uint8_t init[SS_INIT_LEN];
	pipe_buf in = {0}, out = {0};
	pipe_end e = {&in, &out};
	ss_stream *a, *b;

	(void)state;
	cfg(&ca, true);
	cfg(&cb, false);
	assert_int_equal(ss_stream_new_cb(&a, &ca, pipe_read, pipe_write, &e), 0);
	assert_int_equal(ss_stream_handshake(a), SS_ERR_AGAIN);
	memcpy(init, out.data, SS_INIT_LEN);
	ss_stream_free(a);
	for (size_t i = 0; i < SS_INIT_LEN; i++) {
		pipe_reset(&in);
		pipe_reset(&out);
		pipe_put(&in, init, SS_INIT_LEN);
		in.data[i] ^= 0x40;
		assert_int_equal(ss_stream_new_cb(&b, &cb, pipe_read, pipe_write, &e), 0);
		assert_true(is_error(ss_stream_handshake(b)));
		assert_int_equal(out.len, 0); /* silent: no RESPONSE */
		ss_stream_free(b);
	}
	/* A datagram INIT (type 1) is not a stream INIT. */
	pipe_reset(&in);
	pipe_put(&in, init, SS_INIT_LEN);
	in.data[0] = SS_MSG_INIT;
	assert_int_equal(ss_stream_new_cb(&b, &cb, pipe_read, pipe_write, &e), 0);
	assert_int_equal(ss_stream_handshake(b), SS_ERR_MALFORMED);
	ss_stream_free(b);
	free(in.data);
	free(out.data);
}

static void flip_every_response_byte(void **state)
{
	for (size_t i = 0; i < SS_RESP_LEN; i++) {
		hpair h;
		int ret;

		(void)state;
		hpair_start(&h);
		h.ba.data[i] ^= 0x02;
		ret = ss_stream_handshake(h.a);
		assert_true(is_error(ret));
		assert_null(ss_stream_peer_identity(h.a));
		assert_int_equal(h.ab.len, SS_INIT_LEN); /* no confirm frame went out */
		hpair_free(&h);
	}
}

/*
 * Each handshake check reports its own code: the fields are changed and then re-MACed
 * (and re-signed where the test holds the key) so that the check behind them is reached.
 */
static void remac(uint8_t *msg, size_t off, const uint8_t *id)
{
	uint8_t key[SS_HASH_LEN];

	assert_int_equal(ss_mac1_key(key, id), 0);
	assert_int_equal(ss_mac16(msg + off, key, SS_HASH_LEN, msg, off), 0);
}

/*
 * A fresh responder with configuration cb fed len bytes of wire (then end of input when
 * eof): its handshake result, and whether it wrote a RESPONSE.
 */
static int respond_with(const ss_stream_config *cb, const uint8_t *wire, size_t len, bool eof,
			bool *answered)
{
	pipe_buf in = {0}, out = {0};
	pipe_end e = {&in, &out};
	ss_stream *b;
	int ret;

	assert_int_equal(ss_stream_new_cb(&b, cb, pipe_read, pipe_write, &e), 0);
	pipe_put(&in, wire, len);
	in.eof = eof;
	ret = ss_stream_handshake(b);
	if (answered)
		*answered = out.len >= SS_RESP_LEN;
	ss_stream_free(b);
	free(in.data);
	free(out.data);
	return ret;
}

static int respond_to(const uint8_t *init)
{
	ss_stream_config cb;

	cfg(&cb, false);
	return respond_with(&cb, init, SS_INIT_LEN, false, NULL);
}

/*
 * Run a fresh handshake, change the RESPONSE (its byte at pos XORed with x, then edit if
 * given, then mac1 recomputed), return the initiator's result.
 */
static int finish_with(size_t pos, uint8_t x, void (*edit)(uint8_t *resp, const uint8_t *init))
{
	hpair h;
	int ret;

	hpair_start(&h);
	h.ba.data[pos] ^= x;
	if (edit)
		edit(h.ba.data, h.ab.data);
	remac(h.ba.data, SS_RESP_OFF_MAC1, ss_identity_public(ida));
	ret = ss_stream_handshake(h.a);
	hpair_free(&h);
	return ret;
}

/* A datagram RESPONSE's type. */
static void edit_type(uint8_t *r, const uint8_t *init)
{
	(void)init;
	r[0] = SS_MSG_RESPONSE;
}

/* A low-order ephemeral, properly signed by the real responder: dh = 0 is refused. */
static void edit_low_order(uint8_t *r, const uint8_t *init)
{
	static const char label[] = SS_LABEL_SIG_RESP;
	uint8_t msg[160];
	size_t n = sizeof(label) - 1;

	memset(r + SS_RESP_OFF_EPHEMERAL, 0, SS_DH_LEN);
	memcpy(msg, label, n);
	assert_int_equal(ss_sha256(msg + n, init, SS_INIT_OFF_MAC1, NULL, 0, NULL, 0), 0);
	memcpy(msg + n + SS_HASH_LEN, r, SS_RESP_OFF_SIG);
	assert_int_equal(
		ss_identity_sign(idb, msg, n + SS_HASH_LEN + SS_RESP_OFF_SIG, r + SS_RESP_OFF_SIG),
		0);
}

static void handshake_specific_failures(void **state)
{
	uint8_t init[SS_INIT_LEN];
	pipe_buf in = {0}, out = {0};
	pipe_end e = {&in, &out};
	ss_stream_config ca;
	ss_stream *a;

	(void)state;
	cfg(&ca, true);
	assert_int_equal(ss_stream_new_cb(&a, &ca, pipe_read, pipe_write, &e), 0);
	assert_int_equal(ss_stream_handshake(a), SS_ERR_AGAIN);
	memcpy(init, out.data, SS_INIT_LEN);
	ss_stream_free(a);
	free(in.data);
	free(out.data);
	assert_int_equal(respond_to(init), SS_ERR_AGAIN); /* the unmodified INIT is fine */

	init[SS_INIT_OFF_SIG] ^= 1; /* signature broken, mac1 repaired */
	remac(init, SS_INIT_OFF_MAC1, ss_identity_public(idb));
	assert_int_equal(respond_to(init), SS_ERR_SIGNATURE);
	init[SS_INIT_OFF_SIG] ^= 1;
	init[SS_INIT_OFF_MAC1] ^= 1; /* mac1 for nobody */
	assert_int_equal(respond_to(init), SS_ERR_MAC1);
	remac(init, SS_INIT_OFF_MAC1, ss_identity_public(idb));
	init[SS_INIT_OFF_MAC2 + 3] = 1; /* no cookies on streams */
	assert_int_equal(respond_to(init), SS_ERR_MALFORMED);
	init[SS_INIT_OFF_MAC2 + 3] = 0;
	/* The identity point (small order) with the universal signature R = identity, S = 0. */
	memcpy(init + SS_INIT_OFF_IDENTITY, (const uint8_t[SS_IDENTITY_LEN]){1}, SS_IDENTITY_LEN);
	memset(init + SS_INIT_OFF_SIG, 0, SS_SIG_LEN);
	init[SS_INIT_OFF_SIG] = 1;
	remac(init, SS_INIT_OFF_MAC1, ss_identity_public(idb));
	assert_int_equal(respond_to(init), SS_ERR_SIGNATURE);
	/* b's own identity as the initiator (mac1 and signature would not matter). */
	memcpy(init + SS_INIT_OFF_IDENTITY, ss_identity_public(idb), 32);
	remac(init, SS_INIT_OFF_MAC1, ss_identity_public(idb));
	assert_int_equal(respond_to(init), SS_ERR_REFLECTION);

	assert_int_equal(finish_with(SS_RESP_OFF_SIG, 1, NULL), SS_ERR_SIGNATURE);
	assert_int_equal(finish_with(SS_RESP_OFF_CONFIRM, 1, NULL), SS_ERR_CONFIRM);
	assert_int_equal(finish_with(0, 0, edit_type), SS_ERR_MALFORMED);
	assert_int_equal(finish_with(SS_RESP_OFF_RECEIVER, 1, NULL), SS_ERR_UNKNOWN_INDEX);
	assert_int_equal(finish_with(0, 0, edit_low_order), SS_ERR_MALFORMED);
}

/* Another identity, with a signature nobody made. */
static void edit_other_identity(uint8_t *r, const uint8_t *init)
{
	ss_identity *idc = test_identity_seeded("adv c");

	(void)init;
	memcpy(r + SS_RESP_OFF_IDENTITY, ss_identity_public(idc), SS_IDENTITY_LEN);
	memset(r + SS_RESP_OFF_SIG, 0x5a, SS_SIG_LEN);
	ss_identity_free(idc);
}

/*
 * "Identity changed" needs the key (issue 13, finding 5): a RESPONSE naming another identity
 * with a garbage signature is a forgery (SS_ERR_SIGNATURE), not SS_ERR_IDENTITY.
 */
static void forged_identity_change_response(void **state)
{
	(void)state;
	assert_int_equal(finish_with(0, 0, edit_other_identity), SS_ERR_SIGNATURE);
}

/* Responder pinning its clients by name in known_hosts (cat -l --known-hosts). */
static void name_pinning_responder(ss_stream_config *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	c->identity = idb;
	c->known_hosts = path;
	c->peer_name = "192.0.2.7";
	c->timeout_ms = -1;
	c->max_frame = 64;
}

/* The responder's answer to the bytes in wire (then end of input). */
static int respond_pinned(const char *path, const uint8_t *wire, size_t len, bool *answered)
{
	ss_stream_config cb;

	name_pinning_responder(&cb, path);
	return respond_with(&cb, wire, len, true, answered);
}

/*
 * The responder's side: a stream INIT carries no timestamp a responder checks, so another
 * client's captured INIT replayed under a pinned name must not be reported as an identity
 * change; only an initiator that completes the handshake (its confirm frame) is.
 */
static void replayed_init_no_identity_alert(void **state)
{
	char path[] = "/tmp/ss-stream-adv-known-XXXXXX";
	ss_identity *idc = test_identity_seeded("adv c");
	const uint8_t(*pb)[SS_IDENTITY_LEN] =
		(const uint8_t(*)[SS_IDENTITY_LEN])ss_identity_public(idb);
	ss_stream_config ca, cb;
	uint8_t pinned[SS_IDENTITY_LEN];
	ss_truststore *ts;
	char err[256];
	bool answered;
	hpair h;
	int fd, ret;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	/* a (ida) is pinned under the name on first use. */
	memset(&h, 0, sizeof(h));
	h.ea.in = &h.ba;
	h.ea.out = &h.ab;
	h.eb.in = &h.ab;
	h.eb.out = &h.ba;
	cfg(&ca, true);
	name_pinning_responder(&cb, path);
	assert_int_equal(ss_stream_new_cb(&h.a, &ca, pipe_read, pipe_write, &h.ea), 0);
	assert_int_equal(ss_stream_new_cb(&h.b, &cb, pipe_read, pipe_write, &h.eb), 0);
	assert_int_equal(ss_stream_handshake(h.a), SS_ERR_AGAIN);
	assert_int_equal(ss_stream_handshake(h.b), SS_ERR_AGAIN);
	assert_int_equal(ss_stream_handshake(h.a), 0);
	assert_int_equal(ss_stream_handshake(h.b), 0);
	assert_true(ss_stream_peer_learned(h.b));
	hpair_free(&h);
	/* c's genuine INIT, captured and replayed under that name: no identity verdict. */
	cfg(&ca, true);
	ca.identity = idc;
	ca.peers = pb;
	memset(&h, 0, sizeof(h));
	h.ea.in = &h.ba;
	h.ea.out = &h.ab;
	assert_int_equal(ss_stream_new_cb(&h.a, &ca, pipe_read, pipe_write, &h.ea), 0);
	assert_int_equal(ss_stream_handshake(h.a), SS_ERR_AGAIN);
	assert_int_equal(h.ab.len, SS_INIT_LEN);
	ret = respond_pinned(path, h.ab.data, SS_INIT_LEN, &answered);
	assert_true(is_error(ret));
	assert_int_not_equal(ret, SS_ERR_IDENTITY);
	/* With a forged confirm frame after it: still not an identity verdict. */
	{
		uint8_t wire[SS_INIT_LEN + SS_STREAM_SEALED_HDR_LEN + SS_TAG_LEN];

		memcpy(wire, h.ab.data, SS_INIT_LEN);
		memset(wire + SS_INIT_LEN, 0x33, sizeof(wire) - SS_INIT_LEN);
		ret = respond_pinned(path, wire, sizeof(wire), &answered);
		assert_true(is_error(ret));
		assert_int_not_equal(ret, SS_ERR_IDENTITY);
	}
	ss_stream_free(h.a);
	free(h.ab.data);
	free(h.ba.data);
	/* c itself, completing the handshake: now the change is reported, after its confirm. */
	memset(&h, 0, sizeof(h));
	h.ea.in = &h.ba;
	h.ea.out = &h.ab;
	h.eb.in = &h.ab;
	h.eb.out = &h.ba;
	assert_int_equal(ss_stream_new_cb(&h.a, &ca, pipe_read, pipe_write, &h.ea), 0);
	assert_int_equal(ss_stream_new_cb(&h.b, &cb, pipe_read, pipe_write, &h.eb), 0);
	assert_int_equal(ss_stream_handshake(h.a), SS_ERR_AGAIN);
	assert_int_equal(ss_stream_handshake(h.b), SS_ERR_AGAIN);
	assert_int_equal(ss_stream_handshake(h.a), 0);
	assert_int_equal(ss_stream_handshake(h.b), SS_ERR_IDENTITY);
	assert_null(ss_stream_peer_identity(h.b));
	hpair_free(&h);
	/* The pin is unchanged throughout. */
	assert_int_equal(ss_trust_load(path, &ts, err, sizeof(err)), 0);
	assert_int_equal(ss_trust_lookup(ts, "192.0.2.7", pinned), 0);
	assert_memory_equal(pinned, ss_identity_public(ida), SS_IDENTITY_LEN);
	ss_trust_free(ts);
	unlink(path);
	ss_identity_free(idc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ref_test(reference_roundtrip),
		ref_test(flip_every_byte),
		ref_test(drop_each_frame),
		ref_test(duplicate_each_frame),
		ref_test(swap_adjacent_frames),
		ref_test(truncate_every_length),
		cmocka_unit_test(reflect_own_frames),
		ref_test(crafted_reference_matches),
		cmocka_unit_test(crafted_rule_breaks),
		cmocka_unit_test(oversized_frame),
		cmocka_unit_test(splice_from_other_stream),
		cmocka_unit_test(replay_whole_stream),
		cmocka_unit_test(replay_response),
		cmocka_unit_test(flip_every_init_byte),
		cmocka_unit_test(flip_every_response_byte),
		cmocka_unit_test(handshake_specific_failures),
		cmocka_unit_test(forged_identity_change_response),
		cmocka_unit_test(replayed_init_no_identity_alert),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
