/* SPDX-License-Identifier: MIT */
/*
 * The outer transport: UDP (one dual-stack socket) or raw IP protocol 99 (one socket per
 * family). Both carry the same SiloSec v2 packets; the flow handed to the core names
 * the remote address, our port and the protocol, with the local address left zero.
 */
#ifndef SS_TUNNEL_TRANSPORT_H
#define SS_TUNNEL_TRANSPORT_H

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
} ss_transport_socks;

int ss_transport_open(ss_transport_socks *t, enum ss_transport kind, uint16_t port);
void ss_transport_close(ss_transport_socks *t);

/*
 * Batches: one sendmmsg/recvmmsg per up to SS_BATCH packets instead of a system call
 * each (the data path's main cost is the syscall, not the cipher).
 */
#define SS_BATCH 32

typedef struct ss_txbatch {
	size_t slot; /* bytes per queued packet */
	unsigned n;
	int fd;
	uint8_t *bufs; /* SS_BATCH * slot */
	struct mmsghdr msgs[SS_BATCH];
	struct iovec iov[SS_BATCH];
	struct sockaddr_storage addrs[SS_BATCH];
} ss_txbatch;

typedef struct ss_rxbatch {
	size_t slot;
	uint8_t *bufs;
	struct mmsghdr msgs[SS_BATCH];
	struct iovec iov[SS_BATCH];
	struct sockaddr_storage addrs[SS_BATCH];
	ss_flow flows[SS_BATCH];
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
 * Receive up to SS_BATCH packets from socket i: returns the count (0 if none), or
 * -errno. Packet k is rx->iov[k].iov_base with length rx->msgs[k].msg_len (after the
 * IPv4 header of raw sockets is stripped; a datagram longer than the slot has length
 * slot + 1, so the core sees it as oversized) and flow rx->flows[k].
 */
int ss_transport_recv_batch(const ss_transport_socks *t, int i, ss_rxbatch *rx);

/* sockaddr <-> flow; the flow's local part is our port only. */
void ss_flow_from_sockaddr(ss_flow *f, const struct sockaddr *sa, uint16_t local_port,
			   uint8_t proto);
socklen_t ss_flow_to_sockaddr(const ss_flow *f, struct sockaddr_storage *ss);
/* "192.0.2.1:51999" / "[2001:db8::1]:51999" (no port for raw IP); 64 bytes is enough. */
void ss_flow_format(const ss_flow *f, char *buf, size_t len);

#endif
