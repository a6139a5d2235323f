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
 * Receive one packet from socket i (non-blocking): returns its length, 0 if nothing is
 * waiting, or -errno. The IPv4 header raw sockets deliver is stripped.
 */
ssize_t ss_transport_recv(const ss_transport_socks *t, int i, uint8_t *buf, size_t cap,
			  ss_flow *flow);
/* Send to the flow's remote end; returns 0 or -errno. */
int ss_transport_send(const ss_transport_socks *t, const ss_flow *flow, const uint8_t *pkt,
		      size_t len);

/* sockaddr <-> flow; the flow's local part is our port only. */
void ss_flow_from_sockaddr(ss_flow *f, const struct sockaddr *sa, uint16_t local_port,
			   uint8_t proto);
socklen_t ss_flow_to_sockaddr(const ss_flow *f, struct sockaddr_storage *ss);
/* "192.0.2.1:51999" / "[2001:db8::1]:51999" (no port for raw IP); 64 bytes is enough. */
void ss_flow_format(const ss_flow *f, char *buf, size_t len);

#endif
