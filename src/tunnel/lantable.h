/* SPDX-License-Identifier: MIT */
/*
 * LAN discovery's pure parts (PROTOCOL.md 16.9), with no socket in sight: whether a
 * source is on-link, and the bounded table of unknown identities heard in open mode.
 * lan.c does the I/O; tests/unit/test_lantable.c drives these directly.
 */
#ifndef SS_TUNNEL_LANTABLE_H
#define SS_TUNNEL_LANTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <silosec/wire.h>

#define SS_LAN_MAX_PREFIXES 64 /* directly connected prefixes remembered */

/* A directly connected prefix: addr IPv4-mapped for IPv4 (len counts the 96 mapped bits). */
typedef struct ss_lan_prefix {
	uint32_t ifindex;
	uint8_t addr[16];
	uint8_t len;
} ss_lan_prefix;

/*
 * Whether addr (16 bytes, IPv4-mapped for IPv4), arriving on ifindex, is on-link: IPv6
 * link-local (fe80::/10) with a non-zero ifindex, or inside one of the prefixes of that
 * interface. Unspecified, multicast and broadcast sources never are.
 */
bool ss_lan_onlink(const ss_lan_prefix *p, size_t n, uint32_t ifindex, const uint8_t addr[16]);

/* An unknown identity heard in open mode: never a peer, never answered. */
typedef struct ss_lan_entry {
	bool used;
	uint8_t identity[SS_IDENTITY_LEN];
	uint8_t addr[16];
	uint16_t port;
	uint32_t ifindex;
	uint64_t first_ns, last_ns; /* monotonic */
} ss_lan_entry;

typedef struct ss_lan_table {
	ss_lan_entry e[SS_LAN_OPEN_TABLE];
} ss_lan_table;

/*
 * Remember (or refresh) identity heard at addr/port on ifindex at now_ns. A new identity
 * takes a free or expired entry, else replaces the least recently heard one: strangers
 * can churn the table but never grow it.
 */
void ss_lan_table_note(ss_lan_table *t, const uint8_t identity[SS_IDENTITY_LEN],
		       const uint8_t addr[16], uint16_t port, uint32_t ifindex, uint64_t now_ns);
/* Forget entries not heard for SS_LAN_LIFETIME; returns how many remain. */
size_t ss_lan_table_expire(ss_lan_table *t, uint64_t now_ns);

#endif
