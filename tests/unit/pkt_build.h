/* SPDX-License-Identifier: MIT */
/* Tiny IPv4/IPv6 packet builders for the capability and conntrack tests. */
#ifndef SS_TEST_PKT_BUILD_H
#define SS_TEST_PKT_BUILD_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

/* Source and destination port, big-endian, at the start of the L4 header l4. */
static inline void put_ports(uint8_t *l4, uint16_t sport, uint16_t dport)
{
	l4[0] = (uint8_t)(sport >> 8);
	l4[1] = (uint8_t)sport;
	l4[2] = (uint8_t)(dport >> 8);
	l4[3] = (uint8_t)dport;
}

/* IPv4 header + 20 bytes of L4; returns the length. */
static inline size_t pkt4(uint8_t *b, const char *src, const char *dst, uint8_t proto,
			  uint16_t sport, uint16_t dport, uint8_t flags)
{
	memset(b, 0, 60);
	b[0] = 0x45;
	b[3] = 40;
	b[8] = 64;
	b[9] = proto;
	inet_pton(AF_INET, src, b + 12);
	inet_pton(AF_INET, dst, b + 16);
	put_ports(b + 20, sport, dport);
	b[33] = flags;
	return 40;
}

/* ICMPv4: type, identifier. */
static inline size_t icmp4(uint8_t *b, const char *src, const char *dst, uint8_t type, uint16_t id)
{
	size_t n = pkt4(b, src, dst, 1, 0, 0, 0);

	b[20] = type;
	b[21] = 0;
	b[24] = (uint8_t)(id >> 8);
	b[25] = (uint8_t)id;
	return n;
}

/* IPv6 header + 20 bytes of L4 (no extension headers). */
static inline size_t pkt6(uint8_t *b, const char *src, const char *dst, uint8_t proto,
			  uint16_t sport, uint16_t dport)
{
	memset(b, 0, 60);
	b[0] = 0x60;
	b[5] = 20;
	b[6] = proto;
	b[7] = 64;
	inet_pton(AF_INET6, src, b + 8);
	inet_pton(AF_INET6, dst, b + 24);
	put_ports(b + 40, sport, dport);
	return 60;
}

#endif
