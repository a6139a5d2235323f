/* SPDX-License-Identifier: MIT */
/* TUN offload requests (virtio header + packet) as the kernel could hand them over. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "offload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ss_gro gro;

static void written(void *arg, const uint8_t *pkt, size_t len, void *owner)
{
	size_t *total = arg;

	(void)owner;
	for (size_t i = 0; i < len; i += 512)
		*total += pkt[i];
}

/* Each segment is also fed to the joiner, as the receive side would. */
static void sink(void *arg, const uint8_t *pkt, size_t len)
{
	size_t *total = arg;

	/* Every segment must lie inside what the caller can read. */
	for (size_t i = 0; i < len; i += 512)
		*total += pkt[i];
	*total += len;
	ss_gro_add(&gro, pkt, len, NULL, written, arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t scratch[65536];
	uint8_t *buf;
	size_t total = 0;

	if (size > 70000)
		return 0;
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	ss_gro_init(&gro);
	ss_gro_set_uso(&gro, size & 1);
	(void)ss_offload_split(buf, size, scratch, sizeof(scratch), sink, &total);
	ss_gro_flush(&gro, written, &total);
	/* The same bytes as a run of packets [len16][packet] straight into the joiner, as
	 * decrypted datagrams would come (TCP and UDP joining, both orders of owners). */
	ss_gro_set_uso(&gro, true);
	for (size_t off = 0; off + 2 <= size;) {
		size_t n = (size_t)data[off] << 8 | data[off + 1];

		off += 2;
		if (n > size - off)
			n = size - off;
		ss_gro_add(&gro, buf + off, n, (void *)(n & 1), written, &total);
		off += n;
	}
	ss_gro_flush(&gro, written, &total);
	free(buf);
	return 0;
}
