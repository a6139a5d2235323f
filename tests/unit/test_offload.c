/* SPDX-License-Identifier: MIT */
/* TUN offloads: TSO super-packets cut into segments with correct headers and checksums. */
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_net.h>

#include "helpers.h"
#include "offload.h"

#define MAXSEG 64

struct segs {
	int n;
	size_t len[MAXSEG];
	uint8_t pkt[MAXSEG][2048];
};

static void collect(void *arg, const uint8_t *pkt, size_t len)
{
	struct segs *s = arg;

	assert_true(s->n < MAXSEG && len <= sizeof(s->pkt[0]));
	memcpy(s->pkt[s->n], pkt, len);
	s->len[s->n++] = len;
}

static size_t build(uint8_t *buf, int v6, size_t payload, uint16_t mss, uint8_t gso, uint8_t flags)
{
	struct virtio_net_hdr h = {0};
	uint8_t *p = buf + SS_VNET_HDR_LEN;
	size_t l4 = v6 ? 40 : 20, len = l4 + 20 + payload;

	memset(p, 0, len);
	if (v6) {
		p[0] = 0x60;
		p[4] = (uint8_t)((len - 40) >> 8);
		p[5] = (uint8_t)(len - 40);
		p[6] = 6;
		p[7] = 64;
		p[8] = 0xfd;
		p[23] = 1;
		p[24] = 0xfd;
		p[39] = 2;
	} else {
		p[0] = 0x45;
		p[2] = (uint8_t)(len >> 8);
		p[3] = (uint8_t)len;
		p[4] = 0x12;
		p[5] = 0x34;
		p[8] = 64;
		p[9] = 6;
		memcpy(p + 12, "\x0a\x4d\x00\x01\x0a\x4d\x00\x02", 8);
	}
	p[l4] = 0x13; /* ports */
	p[l4 + 2] = 0x14;
	memcpy(p + l4 + 4, "\xff\xff\xff\x00", 4); /* seq close to wrapping */
	p[l4 + 12] = 5 << 4;
	p[l4 + 13] = flags;
	for (size_t i = 0; i < payload; i++)
		p[l4 + 20 + i] = (uint8_t)(i * 7 + 3);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_type = gso;
	h.gso_size = mss;
	h.hdr_len = (uint16_t)(l4 + 20);
	h.csum_start = (uint16_t)l4;
	h.csum_offset = 16;
	memcpy(buf, &h, sizeof(h));
	return SS_VNET_HDR_LEN + len;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A valid TCP checksum sums, with the pseudo-header, to all ones. */
static void check_tcp_csum(const uint8_t *p, size_t len, int v6)
{
	size_t l4 = v6 ? 40 : 20, tl = len - l4;
	uint8_t ph[40];
	uint32_t sum;
	size_t phl;

	if (v6) {
		memcpy(ph, p + 8, 32);
		ph[32] = (uint8_t)(tl >> 24);
		ph[33] = (uint8_t)(tl >> 16);
		ph[34] = (uint8_t)(tl >> 8);
		ph[35] = (uint8_t)tl;
		memset(ph + 36, 0, 3);
		ph[39] = 6;
		phl = 40;
	} else {
		memcpy(ph, p + 12, 8);
		ph[8] = 0;
		ph[9] = 6;
		ph[10] = (uint8_t)(tl >> 8);
		ph[11] = (uint8_t)tl;
		phl = 12;
	}
	sum = (uint16_t)~ss_inet_csum(ph, phl, 0);
	assert_int_equal(ss_inet_csum(p + l4, tl, sum), 0);
}

static void split_case(int v6)
{
	static uint8_t buf[70000], scratch[65536];
	struct segs *s = calloc(1, sizeof(*s));
	size_t l4 = v6 ? 40 : 20, off = 0, len;
	int n;

	len = build(buf, v6, 3500, 1000, v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4,
		    0x18 | 0x01 | 0x80); /* ACK PSH FIN CWR */
	n = ss_offload_split(buf, len, scratch, sizeof(scratch), collect, s);
	assert_int_equal(n, 4);
	assert_int_equal(s->n, 4);
	for (int i = 0; i < 4; i++) {
		const uint8_t *p = s->pkt[i];
		size_t plen = i < 3 ? 1000 : 500;

		assert_int_equal(s->len[i], l4 + 20 + plen);
		if (v6) {
			assert_int_equal(p[4] << 8 | p[5], 20 + plen);
		} else {
			assert_int_equal(p[2] << 8 | p[3], s->len[i]);
			assert_int_equal(p[4] << 8 | p[5], 0x1234 + i);
			assert_int_equal(ss_inet_csum(p, 20, 0), 0);
		}
		assert_int_equal(be32(p + l4 + 4), 0xffffff00u + (uint32_t)(i * 1000));
		assert_int_equal(p[l4 + 13] & 0x09, i == 3 ? 0x09 : 0);
		assert_int_equal(p[l4 + 13] & 0x80, i == 0 ? 0x80 : 0);
		assert_int_equal(p[l4 + 13] & 0x10, 0x10);
		check_tcp_csum(p, s->len[i], v6);
		for (size_t k = 0; k < plen; k++)
			assert_int_equal(p[l4 + 20 + k], (uint8_t)((off + k) * 7 + 3));
		off += plen;
	}
	free(s);
}

static void tso_v4(void **state)
{
	(void)state;
	split_case(0);
}

static void tso_v6(void **state)
{
	(void)state;
	split_case(1);
}

/* No segmentation: the partial checksum is completed, the packet passed through. */
static void needs_csum_only(void **state)
{
	static uint8_t buf[4096], scratch[65536];
	struct segs *s = calloc(1, sizeof(*s));
	size_t len = build(buf, 0, 300, 0, VIRTIO_NET_HDR_GSO_NONE, 0x10);
	uint8_t *p = buf + SS_VNET_HDR_LEN;
	uint16_t partial;
	uint8_t ph[12];

	(void)state;
	/* The kernel leaves the pseudo-header sum in the field. */
	memcpy(ph, p + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)(320 >> 8); /* TCP length: 20 + 300 */
	ph[11] = (uint8_t)320;
	partial = (uint16_t)~ss_inet_csum(ph, 12, 0);
	p[20 + 16] = (uint8_t)(partial >> 8);
	p[20 + 17] = (uint8_t)partial;
	assert_int_equal(ss_offload_split(buf, len, scratch, sizeof(scratch), collect, s), 1);
	assert_int_equal(s->len[0], 340);
	check_tcp_csum(s->pkt[0], s->len[0], 0);
	free(s);
}

static void malformed(void **state)
{
	static uint8_t buf[4096], scratch[65536];
	struct segs *s = calloc(1, sizeof(*s));
	size_t len;

	(void)state;
	assert_int_equal(ss_offload_split(buf, 5, scratch, sizeof(scratch), collect, s), -1);
	/* gso_size 0, a csum_start beyond the packet, an unknown GSO type. */
	len = build(buf, 0, 3000, 0, VIRTIO_NET_HDR_GSO_TCPV4, 0x10);
	assert_int_equal(ss_offload_split(buf, len, scratch, sizeof(scratch), collect, s), -1);
	len = build(buf, 0, 300, 0, VIRTIO_NET_HDR_GSO_NONE, 0x10);
	buf[6] = 0xff; /* csum_start low byte */
	buf[7] = 0xff;
	assert_int_equal(ss_offload_split(buf, len, scratch, sizeof(scratch), collect, s), -1);
	len = build(buf, 0, 300, 100, 0x77, 0x10);
	assert_int_equal(ss_offload_split(buf, len, scratch, sizeof(scratch), collect, s), -1);
	/* A scratch too small for one segment refuses instead of overflowing. */
	len = build(buf, 0, 3000, 1400, VIRTIO_NET_HDR_GSO_TCPV4, 0x10);
	assert_int_equal(ss_offload_split(buf, len, scratch, 100, collect, s), -1);
	assert_int_equal(s->n, 0);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tso_v4),
		cmocka_unit_test(tso_v6),
		cmocka_unit_test(needs_csum_only),
		cmocka_unit_test(malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
