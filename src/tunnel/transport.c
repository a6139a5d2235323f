/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>

#include "common/endian.h"
#include "transport.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int set_buffers(int fd)
{
	int size = 4 << 20;

	/* Bursts from TUN outpace one wakeup; a larger buffer loses fewer packets. The
	 * FORCE variants pass net.core.rmem_max (we have CAP_NET_ADMIN at set-up). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	return fd;
}

/* UDP GSO (4.18+) and GRO (5.0+) when the kernel has them; SILOSEC_NO_UDP_GSO: neither. */
static void set_offloads(ss_transport_socks *t, int fd)
{
	int zero = 0, one = 1;

	if (getenv("SILOSEC_NO_UDP_GSO"))
		return;
	t->gso = setsockopt(fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof(zero)) == 0;
	t->gro = setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0;
}

static int open_udp(ss_transport_socks *t, uint16_t port)
{
	struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	struct sockaddr_in sa4 = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd, off = 0;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		/* One dual-stack socket: IPv4 peers appear as IPv4-mapped addresses. */
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0 ||
		    bind(fd, (struct sockaddr *)&sa6, sizeof(sa6)) < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
	} else {
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (bind(fd, (struct sockaddr *)&sa4, sizeof(sa4)) < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
	}
	t->fd[0] = set_buffers(fd);
	set_offloads(t, fd);
	return 0;
}

static int open_raw(ss_transport_socks *t)
{
	t->fd[0] = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, SS_IP_PROTO);
	if (t->fd[0] < 0)
		return -errno;
	t->fd[1] = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, SS_IP_PROTO);
	set_buffers(t->fd[0]);
	if (t->fd[1] >= 0)
		set_buffers(t->fd[1]);
	return 0;
}

int ss_transport_open(ss_transport_socks *t, enum ss_transport kind, uint16_t port)
{
	t->kind = kind;
	t->port = kind == SS_TRANSPORT_UDP ? port : 0;
	t->fd[0] = t->fd[1] = -1;
	t->gso = t->gro = false;
	return kind == SS_TRANSPORT_UDP ? open_udp(t, port) : open_raw(t);
}

void ss_transport_close(ss_transport_socks *t)
{
	for (int i = 0; i < 2; i++) {
		if (t->fd[i] >= 0)
			close(t->fd[i]);
		t->fd[i] = -1;
	}
}

void ss_flow_from_sockaddr(ss_flow *f, const struct sockaddr *sa, uint16_t local_port,
			   uint8_t proto)
{
	memset(f, 0, sizeof(*f));
	f->proto = proto;
	f->local_port = local_port;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		memcpy(f->remote_addr, v4mapped, sizeof(v4mapped));
		memcpy(f->remote_addr + 12, &s4->sin_addr, 4);
		f->remote_port = proto == IPPROTO_UDP ? ntohs(s4->sin_port) : 0;
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		memcpy(f->remote_addr, &s6->sin6_addr, 16);
		f->remote_port = proto == IPPROTO_UDP ? ntohs(s6->sin6_port) : 0;
		/* A link-local address means nothing without its link: the flow keeps it. */
		if (ss_flow_link_local(f))
			ss_store_be32(f->local_addr + 12, s6->sin6_scope_id);
	}
}

bool ss_flow_link_local(const ss_flow *f)
{
	return f->remote_addr[0] == 0xfe && (f->remote_addr[1] & 0xc0) == 0x80;
}

static int is_v4(const ss_flow *f)
{
	return !memcmp(f->remote_addr, v4mapped, sizeof(v4mapped));
}

socklen_t ss_flow_to_sockaddr(const ss_flow *f, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (is_v4(f) && f->proto == SS_IP_PROTO) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, f->remote_addr + 12, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	memcpy(&s6->sin6_addr, f->remote_addr, 16);
	s6->sin6_port = htons(f->remote_port);
	if (ss_flow_link_local(f))
		s6->sin6_scope_id = ss_load_be32(f->local_addr + 12);
	return sizeof(*s6);
}

void ss_flow_format(const ss_flow *f, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (is_v4(f))
		inet_ntop(AF_INET, f->remote_addr + 12, a, sizeof(a));
	else
		inet_ntop(AF_INET6, f->remote_addr, a, sizeof(a));
	if (f->proto != IPPROTO_UDP)
		snprintf(buf, len, "%s", a);
	else if (is_v4(f))
		snprintf(buf, len, "%s:%u", a, f->remote_port);
	else if (ss_flow_link_local(f))
		snprintf(buf, len, "[%s%%%u]:%u", a, (unsigned)ss_load_be32(f->local_addr + 12),
			 f->remote_port);
	else
		snprintf(buf, len, "[%s]:%u", a, f->remote_port);
}

/* ---- batches ---- */

int ss_txbatch_init(ss_txbatch *b, size_t slot)
{
	memset(b, 0, sizeof(*b));
	b->slot = slot;
	b->fd = -1;
	b->bufs = malloc(SS_TX_BATCH * slot);
	return b->bufs ? 0 : -ENOMEM;
}

void ss_txbatch_free(ss_txbatch *b)
{
	free(b->bufs);
	b->bufs = NULL;
}

int ss_rxbatch_init(ss_rxbatch *b, size_t slot)
{
	memset(b, 0, sizeof(*b));
	b->slot = slot;
	/* Room for a whole GRO message; a longer datagram than slot shows its real length. */
	b->cap = slot + 1 > SS_GRO_BUF ? slot + 1 : SS_GRO_BUF;
	b->vlen = SS_BATCH;
	b->bufs = malloc(SS_BATCH * b->cap);
	return b->bufs ? 0 : -ENOMEM;
}

void ss_rxbatch_free(ss_rxbatch *b)
{
	free(b->bufs);
	b->bufs = NULL;
}

static int tx_fd(const ss_transport_socks *t, const struct sockaddr_storage *ss)
{
	return t->kind == SS_TRANSPORT_IP && ss->ss_family == AF_INET6 ? t->fd[1] : t->fd[0];
}

/* Message m carries several datagrams: tell the kernel where to cut. */
static void set_segment(ss_txbatch *b, unsigned m)
{
	struct msghdr *h = &b->msgs[m].msg_hdr;
	struct cmsghdr *c;

	if (b->nseg[m] < 2)
		return;
	h->msg_control = b->ctl[m].buf;
	h->msg_controllen = sizeof(b->ctl[m].buf);
	c = CMSG_FIRSTHDR(h);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
	memcpy(CMSG_DATA(c), &b->seg[m], sizeof(uint16_t));
}

/* The kernel refused a GSO message (e.g. a datagram over the path MTU): one by one. */
static unsigned send_each(ss_txbatch *b, unsigned m, int *err)
{
	const struct msghdr *h = &b->msgs[m].msg_hdr;
	unsigned failed = 0;

	for (size_t i = 0; i < h->msg_iovlen; i++)
		if (sendto(b->fd, h->msg_iov[i].iov_base, h->msg_iov[i].iov_len, 0, h->msg_name,
			   h->msg_namelen) < 0) {
			*err = errno;
			failed++;
		}
	return failed;
}

unsigned ss_transport_flush(ss_txbatch *b, int *err)
{
	unsigned done = 0, failed = 0;

	for (unsigned m = 0; m < b->nmsg; m++)
		set_segment(b, m);
	while (done < b->nmsg) {
		int n = sendmmsg(b->fd, b->msgs + done, b->nmsg - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && b->nseg[done] > 1) {
			/* EIO: the device cannot segment; no more GSO on this socket. */
			if (errno == EIO)
				b->gso_off = true;
			failed += send_each(b, done, err);
			done++;
			continue;
		}
		if (n < 0) {
			/* The first message was refused: count it and go on with the rest. */
			*err = errno;
			failed++;
			done++;
			continue;
		}
		done += (unsigned)n;
	}
	b->n = b->nmsg = 0;
	return failed;
}

/* Whether a datagram of len bytes to ss may ride along in message m (UDP GSO). */
static bool joins(const ss_txbatch *b, unsigned m, const struct sockaddr_storage *ss, socklen_t sl,
		  size_t len)
{
	return !b->closed[m] && len && len <= b->seg[m] && b->nseg[m] < SS_GSO_SEGS &&
	       ((size_t)b->nseg[m] + 1) * b->seg[m] <= SS_GSO_BYTES &&
	       b->msgs[m].msg_hdr.msg_namelen == sl && !memcmp(&b->addrs[m], ss, sl);
}

static void new_msg(ss_txbatch *b, unsigned k, const struct sockaddr_storage *ss, socklen_t sl)
{
	unsigned m = b->nmsg++;

	b->addrs[m] = *ss;
	memset(&b->msgs[m], 0, sizeof(b->msgs[m]));
	b->msgs[m].msg_hdr.msg_name = &b->addrs[m];
	b->msgs[m].msg_hdr.msg_namelen = sl;
	b->msgs[m].msg_hdr.msg_iov = &b->iov[k];
	b->msgs[m].msg_hdr.msg_iovlen = 1;
	b->seg[m] = (uint16_t)b->iov[k].iov_len;
	b->nseg[m] = 1;
	b->closed[m] = false;
}

unsigned ss_transport_queue(const ss_transport_socks *t, ss_txbatch *b, const ss_flow *flow,
			    const uint8_t *pkt, size_t len, int *err)
{
	struct sockaddr_storage ss;
	socklen_t sl = ss_flow_to_sockaddr(flow, &ss);
	unsigned failed = 0, m;
	int fd = tx_fd(t, &ss);
	unsigned k;

	if (fd < 0) {
		*err = EAFNOSUPPORT;
		return 1;
	}
	/* Packets to one fd stay in order: a batch never mixes sockets. */
	if (b->n && (b->fd != fd || b->n == SS_TX_BATCH))
		failed += ss_transport_flush(b, err);
	if (len > b->slot) {
		failed += ss_transport_flush(b, err);
		if (sendto(fd, pkt, len, 0, (struct sockaddr *)&ss, sl) < 0) {
			*err = errno;
			failed++;
		}
		return failed;
	}
	k = b->n++;
	b->fd = fd;
	memcpy(b->bufs + k * b->slot, pkt, len);
	b->iov[k].iov_base = b->bufs + k * b->slot;
	b->iov[k].iov_len = len;
	m = b->nmsg - 1;
	/* Only ever onto the last message: per-destination order is the queue's order. */
	if (t->gso && !b->gso_off && b->nmsg && joins(b, m, &ss, sl, len)) {
		b->msgs[m].msg_hdr.msg_iovlen++;
		b->nseg[m]++;
		b->closed[m] = len < b->seg[m];
		return failed;
	}
	new_msg(b, k, &ss, sl);
	return failed;
}

static void strip_ipv4(struct mmsghdr *m, struct iovec *iov)
{
	uint8_t *buf = iov->iov_base;
	size_t n = m->msg_len, hl;

	hl = n >= 20 ? (size_t)(buf[0] & 0x0f) * 4 : 0;
	if (hl < 20 || n < hl) {
		m->msg_len = 0; /* not even an IP header: the core drops it as malformed */
		return;
	}
	memmove(buf, buf + hl, n - hl);
	m->msg_len = (unsigned)(n - hl);
}

/* The segment size of a GRO message, 0 if it is a single datagram. */
static size_t gro_size(struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		int v;

		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(v))) {
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			return v > 0 ? (size_t)v : 0;
		}
	}
	return 0;
}

/* Cut message k back into its datagrams (one, without GRO); returns the new np. */
static int add_packets(ss_rxbatch *rx, int k, int np, size_t seg)
{
	uint8_t *p = rx->iov[k].iov_base;
	size_t len = rx->msgs[k].msg_len;

	if (!seg || seg > len)
		seg = len;
	/* An empty datagram is still one packet (the core drops it). A full table drops
	 * the rest, as a full socket buffer would have. */
	for (size_t off = 0; (off < len || off == 0) && np < SS_RX_PKTS; off += seg) {
		rx->pkt[np] = p + off;
		rx->len[np] = (uint32_t)(len - off < seg ? len - off : seg);
		rx->msg[np++] = (uint8_t)k;
		if (!seg)
			break;
	}
	return np;
}

/*
 * With GRO one message may carry 64 datagrams: ask for as many messages as make about
 * SS_BATCH packets, as without GRO. The caller's per-wakeup budget then still bounds the
 * work per wakeup, and a burst handed to a local receiver stays as large as it was.
 */
static void adapt_vlen(ss_rxbatch *rx, int n, int np)
{
	unsigned v;

	if (n <= 0 || np <= n) {
		rx->vlen = n > 0 && (unsigned)n == rx->vlen && rx->vlen < SS_BATCH ? rx->vlen * 2
										   : rx->vlen;
		return;
	}
	v = (unsigned)((size_t)SS_BATCH * (size_t)n / (size_t)np);
	rx->vlen = v ? v : 1;
}

int ss_transport_recv_batch(const ss_transport_socks *t, int i, ss_rxbatch *rx)
{
	uint8_t proto = t->kind == SS_TRANSPORT_UDP ? IPPROTO_UDP : SS_IP_PROTO;
	int n, np = 0;

	for (int k = 0; k < SS_BATCH; k++) {
		struct msghdr *h = &rx->msgs[k].msg_hdr;

		rx->iov[k].iov_base = rx->bufs + (size_t)k * rx->cap;
		rx->iov[k].iov_len = rx->cap;
		memset(h, 0, sizeof(*h));
		h->msg_name = &rx->addrs[k];
		h->msg_namelen = sizeof(rx->addrs[k]);
		h->msg_iov = &rx->iov[k];
		h->msg_iovlen = 1;
		if (t->gro) {
			h->msg_control = rx->ctl[k].buf;
			h->msg_controllen = sizeof(rx->ctl[k].buf);
		}
	}
	n = recvmmsg(t->fd[i], rx->msgs, rx->vlen, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	for (int k = 0; k < n; k++) {
		if (t->kind == SS_TRANSPORT_IP && rx->addrs[k].ss_family == AF_INET)
			strip_ipv4(&rx->msgs[k], &rx->iov[k]);
		ss_flow_from_sockaddr(&rx->flows[k], (struct sockaddr *)&rx->addrs[k], t->port,
				      proto);
		np = add_packets(rx, k, np, t->gro ? gro_size(&rx->msgs[k].msg_hdr) : 0);
	}
	adapt_vlen(rx, n, np);
	return np;
}
