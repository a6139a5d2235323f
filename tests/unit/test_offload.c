/* SPDX-License-Identifier: MIT */
/* TUN offloads: TSO super-packets cut into segments with correct headers and checksums. */
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <string.h>
#include <linux/virtio_net.h>

#include "helpers.h"
#include "offload.h"
#include "transport.h"

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

/* A zeroed packet of len bytes with its IP header: 10.77.0.1 -> .2, or fd00::1 -> ::2. */
static void ip_header(uint8_t *p, int v6, size_t len, uint8_t proto)
{
	memset(p, 0, len);
	if (v6) {
		p[0] = 0x60;
		p[4] = (uint8_t)((len - 40) >> 8);
		p[5] = (uint8_t)(len - 40);
		p[6] = proto;
		p[7] = 64;
		p[8] = 0xfd;
		p[23] = 1;
		p[24] = 0xfd;
		p[39] = 2;
		return;
	}
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, "\x0a\x4d\x00\x01\x0a\x4d\x00\x02", 8);
}

static size_t build(uint8_t *buf, int v6, size_t payload, uint16_t mss, uint8_t gso, uint8_t flags)
{
	struct virtio_net_hdr h = {0};
	uint8_t *p = buf + SS_VNET_HDR_LEN;
	size_t l4 = v6 ? 40 : 20, len = l4 + 20 + payload;

	ip_header(p, v6, len, 6);
	if (!v6) {
		p[4] = 0x12;
		p[5] = 0x34;
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

/* ---- joining on the way back ---- */

struct writes {
	int n;
	size_t len[16];
	uint8_t pkt[16][8192];
	uint8_t *big; /* the last write, whole */
	size_t big_len;
};

static void wcollect(void *arg, const uint8_t *pkt, size_t len, void *owner)
{
	struct writes *w = arg;

	(void)owner;
	assert_true(w->n < 16);
	w->len[w->n] = len;
	if (len <= sizeof(w->pkt[0]))
		memcpy(w->pkt[w->n], pkt, len);
	free(w->big);
	w->big = malloc(len);
	memcpy(w->big, pkt, len);
	w->big_len = len;
	w->n++;
}

/* The buffers of a join test: segments in, writes out, the joiner, segments split again. */
struct join {
	struct segs *s, *again;
	struct writes *w;
	ss_gro *g;
};

static struct join join_new(void)
{
	struct join j = {calloc(1, sizeof(*j.s)), calloc(1, sizeof(*j.again)),
			 calloc(1, sizeof(*j.w)), malloc(sizeof(*j.g))};

	assert_true(j.s && j.again && j.w && j.g);
	return j;
}

static void join_free(struct join *j)
{
	free(j->w->big);
	free(j->w);
	free(j->g);
	free(j->s);
	free(j->again);
}

/* j's one write splits again into count segments, the same bytes as j->s's. */
static void resplit_same(struct join *j, int count)
{
	static uint8_t scratch[65536];

	memset(j->again, 0, sizeof(*j->again));
	assert_int_equal(ss_offload_split(j->w->big, j->w->big_len, scratch, sizeof(scratch),
					  collect, j->again),
			 count);
	for (int i = 0; i < count; i++) {
		assert_int_equal(j->again->len[i], j->s->len[i]);
		assert_memory_equal(j->again->pkt[i], j->s->pkt[i], j->s->len[i]);
	}
}

/* Split a TSO packet, join the segments again: the same bytes come out. */
static void join_roundtrip(void **state)
{
	static uint8_t buf[70000], scratch[65536];
	struct join j = join_new();
	struct segs *s = j.s, *again = j.again;
	struct writes *w = j.w;
	ss_gro *g = j.g;
	size_t len;

	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		memset(s, 0, sizeof(*s));
		memset(again, 0, sizeof(*again));
		w->n = 0;
		ss_gro_init(g);
		len = build(buf, v6, 3500, 1000,
			    v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4, 0x18);
		assert_int_equal(ss_offload_split(buf, len, scratch, sizeof(scratch), collect, s),
				 4);
		for (int i = 0; i < s->n; i++)
			ss_gro_add(g, s->pkt[i], s->len[i], s, wcollect, w);
		ss_gro_flush(g, wcollect, w);
		/* One write: the last segment is shorter and carries PSH, so it closes the run. */
		assert_int_equal(w->n, 1);
		/* IPv4 IDs are the first segment's plus i either way. */
		resplit_same(&j, 4);
	}
	join_free(&j);
}

/* Out of order, another connection, SYN, or another owner: written separately. */
static void join_refuses(void **state)
{
	static uint8_t buf[70000], scratch[65536];
	struct join j = join_new();
	struct segs *s = j.s;
	struct writes *w = j.w;
	ss_gro *g = j.g;
	uint8_t other[2048];
	size_t len;
	int owner_a, owner_b;

	(void)state;
	len = build(buf, 0, 4000, 1000, VIRTIO_NET_HDR_GSO_TCPV4, 0x10);
	assert_int_equal(ss_offload_split(buf, len, scratch, sizeof(scratch), collect, s), 4);
	ss_gro_init(g);
	/* 0, 2: a gap. */
	ss_gro_add(g, s->pkt[0], s->len[0], &owner_a, wcollect, w);
	ss_gro_add(g, s->pkt[2], s->len[2], &owner_a, wcollect, w);
	ss_gro_flush(g, wcollect, w);
	assert_int_equal(w->n, 2);
	/* 0, 1 from different owners. */
	w->n = 0;
	ss_gro_add(g, s->pkt[0], s->len[0], &owner_a, wcollect, w);
	ss_gro_add(g, s->pkt[1], s->len[1], &owner_b, wcollect, w);
	ss_gro_flush(g, wcollect, w);
	assert_int_equal(w->n, 2);
	/* 0, then 1 with another source port, then 1 with SYN set. */
	w->n = 0;
	ss_gro_add(g, s->pkt[0], s->len[0], &owner_a, wcollect, w);
	memcpy(other, s->pkt[1], s->len[1]);
	other[20] ^= 1;
	ss_gro_add(g, other, s->len[1], &owner_a, wcollect, w);
	ss_gro_flush(g, wcollect, w);
	assert_int_equal(w->n, 2);
	w->n = 0;
	ss_gro_add(g, s->pkt[0], s->len[0], &owner_a, wcollect, w);
	memcpy(other, s->pkt[1], s->len[1]);
	other[20 + 13] |= 0x02;
	ss_gro_add(g, other, s->len[1], &owner_a, wcollect, w);
	ss_gro_flush(g, wcollect, w);
	assert_int_equal(w->n, 2);
	/* A lone segment is written as it came, with an empty virtio header. */
	w->n = 0;
	ss_gro_add(g, s->pkt[3], s->len[3], &owner_a, wcollect, w);
	ss_gro_flush(g, wcollect, w);
	assert_int_equal(w->n, 1);
	assert_int_equal(w->len[0], SS_VNET_HDR_LEN + s->len[3]);
	assert_memory_equal(w->pkt[0] + SS_VNET_HDR_LEN, s->pkt[3], s->len[3]);
	join_free(&j);
}

/* ---- UDP: datagrams joined into one USO write, cut back by the kernel (or split) ---- */

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/* A UDP datagram with a valid checksum: IPv4 ID id, payload bytes from seed. */
static size_t dgram(uint8_t *p, int v6, size_t payload, uint16_t id, uint8_t seed)
{
	size_t l4 = v6 ? 40 : 20, len = l4 + 8 + payload, ul = len - l4;
	uint32_t sum;
	uint16_t c;

	ip_header(p, v6, len, 17);
	if (!v6) {
		p[4] = (uint8_t)(id >> 8);
		p[5] = (uint8_t)id;
		p[6] = 0x40; /* DF */
		c = ss_inet_csum(p, 20, 0);
		p[10] = (uint8_t)(c >> 8);
		p[11] = (uint8_t)c;
	}
	p[l4] = 0xa0;
	p[l4 + 1] = 0x01;
	p[l4 + 2] = 0x14;
	p[l4 + 3] = 0x51;
	p[l4 + 4] = (uint8_t)(ul >> 8);
	p[l4 + 5] = (uint8_t)ul;
	for (size_t i = 0; i < payload; i++)
		p[l4 + 8 + i] = (uint8_t)(i * 13 + seed);
	sum = 17 + (uint32_t)ul;
	for (size_t i = v6 ? 8 : 12; i < (v6 ? 40u : 20u); i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	c = ss_inet_csum(p + l4, ul, sum);
	c = c ? c : 0xffff;
	p[l4 + 6] = (uint8_t)(c >> 8);
	p[l4 + 7] = (uint8_t)c;
	return len;
}

/* n datagrams of size payload (the last: last bytes), consecutive IDs from 0x4000. */
static void dgrams(struct segs *s, int v6, int n, size_t payload, size_t last)
{
	s->n = n;
	for (int i = 0; i < n; i++)
		s->len[i] = dgram(s->pkt[i], v6, i == n - 1 ? last : payload,
				  (uint16_t)(0x4000 + i), (uint8_t)i);
}

static int add_all(ss_gro *g, struct segs *s, struct writes *w)
{
	w->n = 0;
	for (int i = 0; i < s->n; i++)
		ss_gro_add(g, s->pkt[i], s->len[i], s, wcollect, w);
	ss_gro_flush(g, wcollect, w);
	return w->n;
}

/* Join 11 datagrams (the last shorter) into one USO write; split: the same bytes. */
static void uso_roundtrip(void **state)
{
	struct join j = join_new();
	struct segs *s = j.s;
	struct writes *w = j.w;
	ss_gro *g = j.g;
	struct virtio_net_hdr h;

	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		size_t l4 = v6 ? 40 : 20;

		for (size_t last = 1; last <= 64; last += 63) {
			ss_gro_init(g);
			ss_gro_set_uso(g, true);
			dgrams(s, v6, 11, 64, last);
			assert_int_equal(add_all(g, s, w), 1);
			memcpy(&h, w->big, sizeof(h));
			assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
			assert_int_equal(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
			assert_int_equal(h.gso_size, 64);
			assert_int_equal(h.hdr_len, l4 + 8);
			assert_int_equal(h.csum_start, l4);
			assert_int_equal(h.csum_offset, 6);
			assert_int_equal(w->big_len, SS_VNET_HDR_LEN + l4 + 8 + 10 * 64 + last);
			resplit_same(&j, 11);
		}
	}
	join_free(&j);
}

/* Without USO, or when anything differs, datagrams go out one by one. */
static void uso_refuses(void **state)
{
	struct join j = join_new();
	struct segs *s = j.s;
	struct writes *w = j.w;
	ss_gro *g = j.g;
	int owner_b;

	(void)state;
	ss_gro_init(g);
	dgrams(s, 0, 5, 64, 64);
	assert_int_equal(add_all(g, s, w), 5); /* USO off: the kernel could not take it */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(w->len[i], SS_VNET_HDR_LEN + s->len[i]);
		assert_memory_equal(w->pkt[i] + SS_VNET_HDR_LEN, s->pkt[i], s->len[i]);
	}
	ss_gro_set_uso(g, true);
	s->pkt[2][20 + 8] ^= 1; /* damaged: written alone, for the kernel to drop */
	assert_int_equal(add_all(g, s, w), 3);
	assert_int_equal(w->len[1], SS_VNET_HDR_LEN + s->len[2]);
	dgrams(s, 0, 5, 64, 64);
	s->pkt[2][26] = s->pkt[2][27] = 0; /* no checksum: joining would invent one */
	assert_int_equal(add_all(g, s, w), 3);
	dgrams(s, 0, 5, 64, 64);
	s->pkt[3][5] ^= 0x10; /* IPv4 ID out of sequence */
	s->pkt[3][10] ^= 0x10;
	assert_int_equal(add_all(g, s, w), 3); /* 0-2, 3, and 4 (not 3's successor) */
	dgrams(s, 1, 5, 64, 64);
	s->pkt[3][40 + 3] ^= 1; /* another destination port */
	s->pkt[3][40 + 7] ^= 1;
	assert_int_equal(add_all(g, s, w), 3);
	dgrams(s, 0, 5, 64, 64);
	s->len[1] = dgram(s->pkt[1], 0, 32, 0x4001, 1); /* shorter: ends the run */
	assert_int_equal(add_all(g, s, w), 2);
	s->len[1] = dgram(s->pkt[1], 0, 65, 0x4001, 1); /* longer: starts another */
	assert_int_equal(add_all(g, s, w), 3);
	dgrams(s, 0, 5, 64, 64);
	s->pkt[2][6] |= 0x20; /* a fragment */
	s->pkt[2][10] = s->pkt[2][11] = 0;
	assert_int_equal(add_all(g, s, w), 3);
	/* Another owner (peer) in the middle. */
	dgrams(s, 0, 4, 64, 64);
	w->n = 0;
	ss_gro_add(g, s->pkt[0], s->len[0], s, wcollect, w);
	ss_gro_add(g, s->pkt[1], s->len[1], &owner_b, wcollect, w);
	ss_gro_flush(g, wcollect, w);
	assert_int_equal(w->n, 2);
	/* At most SS_GRO_UDP_SEGS datagrams per write. */
	s = realloc(s, sizeof(*s));
	j.s = s;
	w->n = 0;
	for (int i = 0; i <= SS_GRO_UDP_SEGS; i++) {
		uint8_t d[256];
		size_t len = dgram(d, 0, 64, (uint16_t)(0x4000 + i), (uint8_t)i);

		ss_gro_add(g, d, len, s, wcollect, w);
	}
	ss_gro_flush(g, wcollect, w);
	assert_int_equal(w->n, 2);
	join_free(&j);
}

/* UDP GSO packets the kernel hands over: cut into datagrams; malformed ones refused. */
static void uso_split_malformed(void **state)
{
	static uint8_t buf[4096], scratch[65536];
	struct segs *s = calloc(1, sizeof(*s));
	struct virtio_net_hdr h = {0};
	size_t len = dgram(buf + SS_VNET_HDR_LEN, 0, 1000, 7, 0);

	(void)state;
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	h.gso_size = 300;
	h.hdr_len = 28;
	h.csum_start = 20;
	h.csum_offset = 6;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(
		ss_offload_split(buf, SS_VNET_HDR_LEN + len, scratch, sizeof(scratch), collect, s),
		4);
	assert_int_equal(s->len[3], 28 + 100);
	h.gso_size = 0;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(
		ss_offload_split(buf, SS_VNET_HDR_LEN + len, scratch, sizeof(scratch), collect, s),
		-1);
	h.gso_size = 300;
	h.csum_start = 24; /* not where the IPv4 header ends */
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(
		ss_offload_split(buf, SS_VNET_HDR_LEN + len, scratch, sizeof(scratch), collect, s),
		-1);
	h.csum_start = 20;
	memcpy(buf, &h, sizeof(h));
	buf[SS_VNET_HDR_LEN + 9] = 6; /* not UDP */
	assert_int_equal(
		ss_offload_split(buf, SS_VNET_HDR_LEN + len, scratch, sizeof(scratch), collect, s),
		-1);
	free(s);
}

/* UDP GSO out, GRO in, over loopback: the same datagrams arrive, in order, each apart. */
static void transport_gso_loopback(void **state)
{
	static ss_txbatch tx;
	static ss_rxbatch rx;
	ss_transport_socks a, b;
	ss_flow to = {0};
	uint8_t pkt[300];
	int err = 0, got = 0, sizes[40];

	(void)state;
	assert_int_equal(ss_transport_open(&a, SS_TRANSPORT_UDP, 0), 0);
	assert_int_equal(ss_transport_open(&b, SS_TRANSPORT_UDP, 0), 0);
	if (!a.gso || !b.gro) {
		ss_transport_close(&a);
		ss_transport_close(&b);
		skip(); /* kernel without UDP GSO/GRO */
	}
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		assert_int_equal(getsockname(b.fd[0], (struct sockaddr *)&ss, &sl), 0);
		to.proto = IPPROTO_UDP;
		to.remote_addr[15] = 1; /* ::1 */
		to.remote_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	assert_int_equal(ss_txbatch_init(&tx, 400), 0);
	assert_int_equal(ss_rxbatch_init(&rx, 2048), 0);
	/* 20 of 100 bytes, one of 40 (ends that run), 19 of 300 (a new run). */
	for (int i = 0; i < 40; i++) {
		sizes[i] = i < 20 ? 100 : i == 20 ? 40 : 300;
		memset(pkt, i, sizeof(pkt));
		assert_int_equal(ss_transport_queue(&a, &tx, &to, pkt, (size_t)sizes[i], &err), 0);
	}
	assert_true(tx.nmsg < 40); /* joined */
	assert_int_equal(ss_transport_flush(&tx, &err), 0);
	for (int tries = 0; got < 40 && tries < 1000; tries++) {
		int n = ss_transport_recv_batch(&b, 0, &rx);

		assert_true(n >= 0);
		for (int k = 0; k < n; k++, got++) {
			assert_true(got < 40);
			assert_int_equal(rx.len[k], sizes[got]);
			assert_int_equal(rx.pkt[k][0], got);
			assert_int_equal(rx.pkt[k][rx.len[k] - 1], got);
		}
		if (!n)
			usleep(1000);
	}
	assert_int_equal(got, 40);
	ss_txbatch_free(&tx);
	ss_rxbatch_free(&rx);
	ss_transport_close(&a);
	ss_transport_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tso_v4),
		cmocka_unit_test(tso_v6),
		cmocka_unit_test(needs_csum_only),
		cmocka_unit_test(malformed),
		cmocka_unit_test(join_roundtrip),
		cmocka_unit_test(join_refuses),
		cmocka_unit_test(uso_roundtrip),
		cmocka_unit_test(uso_refuses),
		cmocka_unit_test(uso_split_malformed),
		cmocka_unit_test(transport_gso_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
