/* SPDX-License-Identifier: MIT */
/*
 * Secure stream frame parser, after a completed handshake (fixed keys). The input either
 * is the wire itself (raw mode: nothing can authenticate, nothing may come out), or
 * describes frames that the harness seals with the right key, with any header values,
 * sequence fields and flags, optionally corrupted afterwards, so the fuzzer reaches the
 * checks behind the AEAD. Read with buffer sizes and flags from the input. Only
 * authenticated bytes may come out, never more than was sealed; an error is final.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream/stream.h"

#include "common/endian.h"
#include "fuzz_common.h"
#include "../../src/stream/stream_internal.h"

struct src {
	const uint8_t *data;
	size_t len, off, chunk;
};

static int rd(void *arg, uint8_t *buf, size_t len, size_t *got)
{
	struct src *s = arg;
	size_t n = s->len - s->off;

	/* Dribble the input in small pieces to exercise every partial-frame path. */
	if (n > s->chunk)
		n = s->chunk;
	if (n > len)
		n = len;
	memcpy(buf, s->data + s->off, n);
	s->off += n;
	*got = n;
	return 0;
}

static int wr(void *arg, const uint8_t *buf, size_t len, size_t *put)
{
	(void)arg;
	(void)buf;
	*put = len;
	return 0;
}

static ss_identity *id;
static uint8_t wire[1 << 17];

/* Seal frames described by 8-byte records: len(2) code(1) flags(1) seq+(1) flip(2) pad. */
static size_t build(const uint8_t *d, size_t n, const uint8_t key[32], size_t *sealed)
{
	static const uint8_t zero[4096];
	size_t w = 0;
	uint64_t seq = 1;
	ss_aead a;

	*sealed = 0;
	if (ss_aead_init(&a) || ss_aead_setkey(&a, key, 1))
		abort();
	for (; n >= 8 && w + 48 + 4096 <= sizeof(wire); d += 8, n -= 8) {
		uint32_t len = ss_load_be16(d) % 4096, flip = ss_load_be16(d + 5);
		uint8_t hdr[16], nonce[12] = {0};

		ss_store_be32(hdr, len);
		ss_store_be32(hdr + 4, d[2] & 3);
		ss_store_be32(hdr + 8, (uint32_t)(seq + (d[4] & 1 ? d[4] >> 1 : 0)));
		ss_store_be32(hdr + 12, d[3] & (d[7] & 1 ? 0xff : 0x0f));
		ss_store_be64(nonce + 4, seq);
		if (ss_aead_seal(&a, nonce, NULL, 0, hdr, 16, wire + w))
			abort();
		nonce[0] = 1;
		if (ss_aead_seal(&a, nonce, hdr, 16, zero, len, wire + w + 32))
			abort();
		if (flip && flip % 64 == 0)
			wire[w + (flip / 64) % (48 + len)] ^= 1;
		*sealed += len;
		w += 48 + len;
		seq++;
	}
	ss_aead_free(&a);
	return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t k1[32] = {1}, k2[32] = {2};
	static uint8_t buf[4096];
	ss_stream_config cfg = {0};
	struct src src;
	ss_stream *s;
	int last = 0;

	if (!id && ss_identity_from_seed(&id, k1))
		abort();
	size_t sealed = 0, total = 0;

	if (size < 2)
		return 0;
	if (data[0] & 0x80) {
		src.data = data + 2;
		src.len = size - 2;
	} else {
		src.len = build(data + 2, size - 2, k2, &sealed);
		src.data = wire;
	}
	src.off = 0;
	src.chunk = 1 + data[0] % 64;
	cfg.identity = id;
	cfg.accept_any = true;
	cfg.max_recv_frame = 2048;
	if (ss_stream_new_cb(&s, &cfg, rd, wr, &src))
		abort();
	if (ss_stream_test_open(s, k2, k1))
		abort();
	for (int i = 0; i < 64; i++) {
		size_t cap = 1 + (size_t)(data[1] * 16 + i) % sizeof(buf), got = 99;
		ss_stream_info info;
		int ret = ss_stream_recv(s, buf, cap, &got, &info, i & 1 ? SS_STREAM_RECV_ALL : 0);

		if (got > cap)
			abort();
		total += got;
		/* Random bytes never authenticate; sealed frames carry zeros only. */
		if (total > sealed || (got && buf[0] != 0) || (got && buf[got - 1] != 0))
			abort();
		if (last && ret != last)
			abort(); /* dead streams stay dead with the same code */
		if (ret && ret != SS_ERR_BUFFER)
			last = ret;
		if (info.eof)
			break;
	}
	ss_stream_free(s);
	return 0;
}
