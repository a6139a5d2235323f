/* SPDX-License-Identifier: MIT */
/*
 * The outer transport: UDP (one dual-stack socket) or raw IP protocol 99 (one socket per
 * family). Both carry the same SiloSec v2 packets; the flow handed to the core names
 * the remote address, our port and the protocol, with the local address left zero.
 */
#ifndef SS_TUNNEL_TRANSPORT_H
#define SS_TUNNEL_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <silosec/core.h>

#include "config.h"

#define SS_IP_PROTO 99

typedef struct ss_transport_socks {
	enum ss_transport kind;
	uint16_t port; /* UDP: bound port */
	int fd[2];     /* UDP: fd[0] only; IP: fd[0] IPv4, fd[1] IPv6 (-1 if unavailable) */
	bool gso;      /* UDP: the socket takes UDP_SEGMENT (several datagrams per send) */
	bool gro;      /* UDP: UDP_GRO is on (one receive may carry several datagrams) */
} ss_transport_socks;

int ss_transport_open(ss_transport_socks *t, enum ss_transport kind, uint16_t port);
void ss_transport_close(ss_transport_socks *t);

/*
 * Batches: one sendmmsg/recvmmsg per up to SS_BATCH messages instead of a system call
 * each (the data path's main cost is the syscall, not the cipher). Over UDP, runs of
 * packets to one destination of one size (the last may be shorter) share one message
 * with UDP_SEGMENT, and UDP_GRO hands such runs over in one piece: the kernel crosses
 * its stack once per run instead of once per packet. What reaches the wire is
 * unchanged: the same datagrams, each sealed on its own.
 */
#define SS_BATCH 32
#define SS_TX_BATCH 64	   /* packets queued per flush */
#define SS_GSO_SEGS 64	   /* UDP_MAX_SEGMENTS of older kernels */
#define SS_GSO_BYTES 65000 /* a GSO message's payload must fit one IP packet */
#define SS_GRO_BUF 65536   /* one received GRO message */
#define SS_RX_PKTS (SS_BATCH * SS_GSO_SEGS)

typedef union ss_gso_ctl {
	char buf[CMSG_SPACE(sizeof(uint16_t))];
	struct cmsghdr align;
} ss_gso_ctl;

typedef union ss_gro_ctl {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
} ss_gro_ctl;

typedef struct ss_txbatch {
	size_t slot; /* bytes per queued packet */
	unsigned n;  /* packets queued */
	unsigned nmsg;
	int fd;
	bool gso_off;  /* the kernel refused a GSO send: one datagram per message from now on */
	uint8_t *bufs; /* SS_TX_BATCH * slot */
	struct iovec iov[SS_TX_BATCH];
	/* Per message: */
	struct mmsghdr msgs[SS_TX_BATCH];
	struct sockaddr_storage addrs[SS_TX_BATCH];
	uint16_t seg[SS_TX_BATCH]; /* datagram size */
	uint8_t nseg[SS_TX_BATCH]; /* datagrams */
	bool closed[SS_TX_BATCH];  /* a shorter datagram ended it */
	ss_gso_ctl ctl[SS_TX_BATCH];
} ss_txbatch;

typedef struct ss_rxbatch {
	size_t slot;
	size_t cap;    /* bytes per message buffer */
	unsigned vlen; /* messages asked for: about SS_BATCH packets per call with GRO */
	uint8_t *bufs;
	struct mmsghdr msgs[SS_BATCH];
	struct iovec iov[SS_BATCH];
	struct sockaddr_storage addrs[SS_BATCH];
	ss_gro_ctl ctl[SS_BATCH];
	ss_flow flows[SS_BATCH];
	/* The received packets, GRO messages cut back into their datagrams: */
	uint8_t *pkt[SS_RX_PKTS];
	uint32_t len[SS_RX_PKTS];
	uint8_t msg[SS_RX_PKTS]; /* which message (flow) */
} ss_rxbatch;

int ss_txbatch_init(ss_txbatch *b, size_t slot);
void ss_txbatch_free(ss_txbatch *b);
int ss_rxbatch_init(ss_rxbatch *b, size_t slot);
void ss_rxbatch_free(ss_rxbatch *b);

/* Queue a copy of pkt for the flow; a packet too large for a slot is sent at once.
 * Returns the number of packets the socket refused (sending may happen here). */
unsigned ss_transport_queue(const ss_transport_socks *t, ss_txbatch *b, const ss_flow *flow,
			    const uint8_t *pkt, size_t len, int *err);
/* Send what is queued; returns the number of packets the socket refused. */
unsigned ss_transport_flush(ss_txbatch *b, int *err);
/*
 * Receive up to SS_BATCH messages from socket i: returns the number of packets (0 if
 * none), or -errno. Packet k is rx->pkt[k] with length rx->len[k] (after the IPv4
 * header of raw sockets is stripped; a datagram longer than the slot is longer than
 * SS_MAX_PACKET, so the core sees it as oversized) from ss_rxbatch_flow(rx, k).
 */
int ss_transport_recv_batch(const ss_transport_socks *t, int i, ss_rxbatch *rx);

static inline const ss_flow *ss_rxbatch_flow(const ss_rxbatch *rx, int k)
{
	return &rx->flows[rx->msg[k]];
}

/* sockaddr <-> flow; the flow's local part is our port only. */
void ss_flow_from_sockaddr(ss_flow *f, const struct sockaddr *sa, uint16_t local_port,
			   uint8_t proto);
socklen_t ss_flow_to_sockaddr(const ss_flow *f, struct sockaddr_storage *ss);
/* IPv6 link-local: the flow's local_addr[12..16) holds the interface (scope id). */
bool ss_flow_link_local(const ss_flow *f);
/* "192.0.2.1:51999" / "[2001:db8::1]:51999" (no port for raw IP); 64 bytes is enough. */
void ss_flow_format(const ss_flow *f, char *buf, size_t len);

#endif
