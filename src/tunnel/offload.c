/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <linux/virtio_net.h>

#include "offload.h"

static uint32_t sum16(const uint8_t *b, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t ss_inet_csum(const uint8_t *buf, size_t len, uint32_t sum)
{
	return (uint16_t)~fold(sum16(buf, len, sum));
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Sum of the TCP/UDP pseudo-header for an L4 segment of l4len bytes. */
static uint32_t pseudo(const uint8_t *ip, uint8_t proto, size_t l4len)
{
	if (ip[0] >> 4 == 4)
		return sum16(ip + 12, 8, 0) + proto + (uint32_t)l4len;
	return sum16(ip + 8, 32, 0) + proto + (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
}

/* The kernel left the checksum at csum_start + csum_offset partial (pseudo-header only). */
static int finish_csum(uint8_t *p, size_t len, size_t start, size_t off)
{
	if (start >= len || start + off + 2 > len)
		return -1;
	put16(p + start + off, ss_inet_csum(p + start, len - start, 0));
	return 0;
}

struct tso {
	size_t l4, hdr, mss;
	int v4;
};

static int tso_check(const uint8_t *p, size_t len, const struct virtio_net_hdr *h, struct tso *t)
{
	t->v4 = p[0] >> 4 == 4;
	t->l4 = h->csum_start;
	t->mss = h->gso_size;
	if (len < 40 || (t->v4 ? (p[0] & 15) * 4u : 40u) != t->l4 || t->l4 + 20 > len || !t->mss)
		return -1;
	if ((t->v4 && p[9] != 6) || (!t->v4 && p[6] != 6))
		return -1; /* extension headers are never offloaded to us */
	t->hdr = t->l4 + (size_t)(p[t->l4 + 12] >> 4) * 4;
	return t->hdr > len || t->hdr < t->l4 + 20 ? -1 : 0;
}

static int tso_split(const uint8_t *p, size_t len, const struct virtio_net_hdr *h, uint8_t *scratch,
		     size_t cap, ss_seg_fn fn, void *arg)
{
	struct tso t;
	size_t payload, off;
	uint32_t seq;
	uint16_t id;
	int n = 0;

	if (tso_check(p, len, h, &t))
		return -1;
	payload = len - t.hdr;
	seq = get32(p + t.l4 + 4);
	id = get16(p + 4);
	for (off = 0; off < payload; off += t.mss, n++) {
		size_t plen = payload - off < t.mss ? payload - off : t.mss;
		uint8_t *s = scratch, *tcp = scratch + t.l4;
		size_t slen = t.hdr + plen;

		if (slen > cap)
			return -1;
		memcpy(s, p, t.hdr);
		memcpy(s + t.hdr, p + t.hdr + off, plen);
		if (t.v4) {
			put16(s + 2, (uint16_t)slen);
			put16(s + 4, (uint16_t)(id + n));
			put16(s + 10, 0);
			put16(s + 10, ss_inet_csum(s, t.l4, 0));
		} else {
			put16(s + 4, (uint16_t)(slen - 40));
		}
		put32(tcp + 4, seq + (uint32_t)off);
		/* FIN and PSH belong to the last segment, CWR to the first only. */
		if (off + plen < payload)
			tcp[13] &= (uint8_t)~0x09;
		if (off)
			tcp[13] &= (uint8_t)~0x80;
		put16(tcp + 16, 0);
		put16(tcp + 16, ss_inet_csum(tcp, slen - t.l4, pseudo(s, 6, slen - t.l4)));
		fn(arg, s, slen);
	}
	return n;
}

int ss_offload_split(uint8_t *pkt, size_t len, uint8_t *scratch, size_t scratch_cap, ss_seg_fn fn,
		     void *arg)
{
	struct virtio_net_hdr h;
	uint8_t *p = pkt + SS_VNET_HDR_LEN;

	if (len < SS_VNET_HDR_LEN + 1)
		return -1;
	memcpy(&h, pkt, sizeof(h));
	len -= SS_VNET_HDR_LEN;
	switch (h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		if ((h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
		    finish_csum(p, len, h.csum_start, h.csum_offset))
			return -1;
		fn(arg, p, len);
		return 1;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return tso_split(p, len, &h, scratch, scratch_cap, fn, arg);
	default:
		return -1;
	}
}
