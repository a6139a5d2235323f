/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <linux/virtio_net.h>

#include "offload.h"

/* Newer than the uapi headers of Debian 12 (Linux 6.1); the values are ABI. */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

#define PROTO_TCP 6
#define PROTO_UDP 17
#define UDP_HDR 8

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

/* One UDP GSO super-packet into datagrams of gso_size payload bytes (the last shorter). */
static int uso_split(const uint8_t *p, size_t len, const struct virtio_net_hdr *h, uint8_t *scratch,
		     size_t cap, ss_seg_fn fn, void *arg)
{
	int v4 = p[0] >> 4 == 4;
	size_t l4 = h->csum_start, hdr = l4 + UDP_HDR, mss = h->gso_size, payload, off;
	uint16_t id;
	int n = 0;

	if (len < (v4 ? 28u : 48u) || (v4 ? (p[0] & 15) * 4u : 40u) != l4 || hdr > len || !mss ||
	    (v4 ? p[9] : p[6]) != PROTO_UDP)
		return -1;
	payload = len - hdr;
	id = get16(p + 4);
	for (off = 0; off < payload; off += mss, n++) {
		size_t plen = payload - off < mss ? payload - off : mss, slen = hdr + plen;
		uint8_t *s = scratch, *udp = scratch + l4;
		uint16_t c;

		if (slen > cap)
			return -1;
		memcpy(s, p, hdr);
		memcpy(s + hdr, p + hdr + off, plen);
		if (v4) {
			put16(s + 2, (uint16_t)slen);
			put16(s + 4, (uint16_t)(id + n));
			put16(s + 10, 0);
			put16(s + 10, ss_inet_csum(s, l4, 0));
		} else {
			put16(s + 4, (uint16_t)(slen - 40));
		}
		put16(udp + 4, (uint16_t)(slen - l4));
		put16(udp + 6, 0);
		c = ss_inet_csum(udp, slen - l4, pseudo(s, PROTO_UDP, slen - l4));
		put16(udp + 6, c ? c : 0xffff); /* 0 would mean "no checksum" */
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
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		return uso_split(p, len, &h, scratch, scratch_cap, fn, arg);
	default:
		return -1;
	}
}

/* ---- receive side: join segments ---- */

void ss_gro_init(ss_gro *g)
{
	g->len = 0;
	g->nseg = 0;
	g->uso = false;
}

void ss_gro_set_uso(ss_gro *g, bool on)
{
	g->uso = on;
}

/* A plain data segment we may join: TCP without IP options or fragments, ACK (+PSH). */
static int joinable(const uint8_t *p, size_t len, size_t *l4, size_t *hdr)
{
	uint8_t flags;

	if (len >= 20 && p[0] == 0x45) {
		if (p[9] != 6 || (p[6] & 0x3f) || p[7] || (size_t)get16(p + 2) != len)
			return 0;
		*l4 = 20;
	} else if (len >= 40 && p[0] >> 4 == 6) {
		if (p[6] != 6 || (size_t)get16(p + 4) + 40 != len)
			return 0;
		*l4 = 40;
	} else {
		return 0;
	}
	if (*l4 + 20 > len)
		return 0;
	*hdr = *l4 + (size_t)(p[*l4 + 12] >> 4) * 4;
	flags = p[*l4 + 13];
	return *hdr >= *l4 + 20 && *hdr < len && (flags == 0x10 || flags == 0x18);
}

/* Same connection, same header apart from sequence number and checksum, next in order. */
static int continues(const ss_gro *g, const uint8_t *p, size_t len, size_t l4, size_t hdr)
{
	const uint8_t *q = g->buf + SS_VNET_HDR_LEN;
	size_t plen = len - hdr;

	if (g->proto != PROTO_TCP || g->closed || l4 != g->l4 || hdr != g->hdr || plen > g->mss ||
	    g->len + plen > SS_GRO_MAX || get32(p + l4 + 4) != g->next_seq)
		return 0;
	if (l4 == 20 ? memcmp(p + 8, q + 8, 2) || memcmp(p + 12, q + 12, 8) || p[1] != q[1] ||
			       (p[6] & 0x40) != (q[6] & 0x40)
		     : memcmp(p, q, 4) || memcmp(p + 6, q + 6, 34))
		return 0;
	/* Ports, ack, flags (PSH only on the last) window, urgent, options. */
	return !memcmp(p + l4, q + l4, 4) && !memcmp(p + l4 + 8, q + l4 + 8, 5) &&
	       (p[l4 + 13] == 0x10 || p[l4 + 13] == 0x18) && !memcmp(p + l4 + 14, q + l4 + 14, 2) &&
	       !memcmp(p + l4 + 18, q + l4 + 18, hdr - l4 - 18);
}

/* A UDP datagram we may join: no IP options or fragments, consistent lengths, a payload
 * and a checksum that is present and right. The kernel computes fresh checksums for
 * what we join, so joining a damaged datagram would repair it instead of dropping it. */
static int udp_joinable(const uint8_t *p, size_t len, size_t *l4)
{
	if (len >= 20 + UDP_HDR && p[0] == 0x45) {
		if (p[9] != PROTO_UDP || (p[6] & 0x3f) || p[7] || (size_t)get16(p + 2) != len)
			return 0;
		*l4 = 20;
	} else if (len >= 40 + UDP_HDR && p[0] >> 4 == 6) {
		if (p[6] != PROTO_UDP || (size_t)get16(p + 4) + 40 != len)
			return 0;
		*l4 = 40;
	} else {
		return 0;
	}
	if ((size_t)get16(p + *l4 + 4) != len - *l4 || len == *l4 + UDP_HDR || !get16(p + *l4 + 6))
		return 0;
	return fold(sum16(p + *l4, len - *l4, pseudo(p, PROTO_UDP, len - *l4))) == 0xffff;
}

/* Same 5-tuple and IP header (but lengths, ID and checksum), next IPv4 ID, room left. */
static int udp_continues(const ss_gro *g, const uint8_t *p, size_t len, size_t l4)
{
	const uint8_t *q = g->buf + SS_VNET_HDR_LEN;
	size_t plen = len - l4 - UDP_HDR;

	if (g->proto != PROTO_UDP || g->closed || l4 != g->l4 || plen > g->mss ||
	    g->len + plen > SS_GRO_MAX || g->nseg >= SS_GRO_UDP_SEGS)
		return 0;
	/* The kernel numbers the IPv4 IDs of the datagrams it cuts out consecutively. */
	if (l4 == 20 ? get16(p + 4) != g->next_id || p[1] != q[1] || p[6] != q[6] ||
			       memcmp(p + 8, q + 8, 2) || memcmp(p + 12, q + 12, 8)
		     : memcmp(p, q, 4) || memcmp(p + 6, q + 6, 34))
		return 0;
	return !memcmp(p + l4, q + l4, 4);
}

/* The joined packet's IP length (and IPv4 header checksum); l4 20 means IPv4. */
static void ip_total(uint8_t *p, size_t l4, size_t len)
{
	if (l4 == 20) {
		put16(p + 2, (uint16_t)len);
		put16(p + 10, 0);
		put16(p + 10, ss_inet_csum(p, 20, 0));
	} else {
		put16(p + 4, (uint16_t)(len - 40));
	}
}

static void udp_header(ss_gro *g, struct virtio_net_hdr *h)
{
	uint8_t *p = g->buf + SS_VNET_HDR_LEN;
	size_t tl = g->len - g->l4;

	ip_total(p, g->l4, g->len);
	/* The kernel rewrites length and checksum per datagram from these totals. */
	put16(p + g->l4 + 4, (uint16_t)tl);
	put16(p + g->l4 + 6, fold(pseudo(p, PROTO_UDP, tl)));
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	h->hdr_len = (uint16_t)(g->l4 + UDP_HDR);
	h->gso_size = (uint16_t)g->mss;
	h->csum_start = (uint16_t)g->l4;
	h->csum_offset = 6;
}

void ss_gro_flush(ss_gro *g, ss_write_fn fn, void *arg)
{
	struct virtio_net_hdr h = {0};
	uint8_t *p = g->buf + SS_VNET_HDR_LEN;

	if (!g->len)
		return;
	if (g->nseg > 1 && g->proto == PROTO_UDP) {
		udp_header(g, &h);
	} else if (g->nseg > 1) {
		size_t tl = g->len - g->l4;

		ip_total(p, g->l4, g->len);
		/* Partial checksum: the pseudo-header sum, completed by the kernel if needed. */
		put16(p + g->l4 + 16, fold(pseudo(p, 6, tl)));
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.gso_type = g->l4 == 20 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
		h.hdr_len = (uint16_t)g->hdr;
		h.gso_size = (uint16_t)g->mss;
		h.csum_start = (uint16_t)g->l4;
		h.csum_offset = 16;
	}
	memcpy(g->buf, &h, sizeof(h));
	fn(arg, g->buf, SS_VNET_HDR_LEN + g->len, g->owner);
	g->len = 0;
	g->nseg = 0;
}

static void start(ss_gro *g, const uint8_t *pkt, size_t len, void *owner, uint8_t proto)
{
	memcpy(g->buf + SS_VNET_HDR_LEN, pkt, len);
	g->len = len;
	g->nseg = 1;
	g->closed = false;
	g->owner = owner;
	g->proto = proto;
}

/* Appends the payload to the packet being built, or flushes that and starts anew. */
static void join_or_start(ss_gro *g, bool joins, const uint8_t *pkt, size_t len, size_t l4,
			  size_t hdr, void *owner, uint8_t proto, ss_write_fn fn, void *arg)
{
	if (joins) {
		memcpy(g->buf + SS_VNET_HDR_LEN + g->len, pkt + hdr, len - hdr);
		g->len += len - hdr;
		g->nseg++;
		return;
	}
	ss_gro_flush(g, fn, arg);
	start(g, pkt, len, owner, proto);
	g->l4 = l4;
	g->hdr = hdr;
	g->mss = len - hdr;
}

static void tcp_add(ss_gro *g, const uint8_t *pkt, size_t len, size_t l4, size_t hdr, void *owner,
		    ss_write_fn fn, void *arg)
{
	bool joins = g->len && owner == g->owner && continues(g, pkt, len, l4, hdr);

	join_or_start(g, joins, pkt, len, l4, hdr, owner, PROTO_TCP, fn, arg);
	/* PSH (only ever on the last) travels with the joined header, as in GRO. */
	if (joins)
		g->buf[SS_VNET_HDR_LEN + l4 + 13] |= pkt[l4 + 13];
	g->next_seq = get32(pkt + l4 + 4) + (uint32_t)(len - hdr);
	if (len - hdr < g->mss || pkt[l4 + 13] & 0x08)
		g->closed = true;
}

static void udp_add(ss_gro *g, const uint8_t *pkt, size_t len, size_t l4, void *owner,
		    ss_write_fn fn, void *arg)
{
	size_t hdr = l4 + UDP_HDR;

	join_or_start(g, g->len && owner == g->owner && udp_continues(g, pkt, len, l4), pkt, len,
		      l4, hdr, owner, PROTO_UDP, fn, arg);
	g->next_id = (uint16_t)(get16(pkt + 4) + 1);
	/* Only the last datagram of a GSO packet may be shorter. */
	if (len - hdr < g->mss)
		g->closed = true;
}

void ss_gro_add(ss_gro *g, const uint8_t *pkt, size_t len, void *owner, ss_write_fn fn, void *arg)
{
	size_t l4, hdr;

	if (len > SS_GRO_MAX)
		return;
	if (joinable(pkt, len, &l4, &hdr)) {
		tcp_add(g, pkt, len, l4, hdr, owner, fn, arg);
	} else if (g->uso && udp_joinable(pkt, len, &l4)) {
		udp_add(g, pkt, len, l4, owner, fn, arg);
	} else {
		ss_gro_flush(g, fn, arg);
		start(g, pkt, len, owner, 0);
		ss_gro_flush(g, fn, arg);
	}
}
