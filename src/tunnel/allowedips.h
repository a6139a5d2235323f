/* SPDX-License-Identifier: MIT */
/*
 * Cryptokey routing table: longest-prefix match from an inner IP address to the peer
 * that owns it, IPv4 and IPv6. One owner per prefix (inserting a prefix another peer
 * holds moves it, as in WireGuard). Lookup cost does not grow with the number of
 * prefixes: one hash probe per prefix length in use.
 */
#ifndef SS_TUNNEL_ALLOWEDIPS_H
#define SS_TUNNEL_ALLOWEDIPS_H

#include <stdint.h>

typedef struct ss_allowedips ss_allowedips;

int ss_allowedips_create(ss_allowedips **out);
void ss_allowedips_free(ss_allowedips *t);
/* family AF_INET (4-byte addr) or AF_INET6 (16 bytes); host bits are ignored. */
int ss_allowedips_insert(ss_allowedips *t, int family, const uint8_t *addr, uint8_t prefix,
			 void *peer);
int ss_allowedips_remove(ss_allowedips *t, int family, const uint8_t *addr, uint8_t prefix);
void ss_allowedips_remove_peer(ss_allowedips *t, const void *peer);
/* The owner of the longest prefix containing addr, or NULL. */
void *ss_allowedips_lookup(const ss_allowedips *t, int family, const uint8_t *addr);

typedef void (*ss_allowedips_fn)(void *arg, int family, const uint8_t *addr, uint8_t prefix);
/* Calls fn for each prefix owned by peer (masked address), v4 first, shortest first. */
void ss_allowedips_walk_peer(const ss_allowedips *t, const void *peer, ss_allowedips_fn fn,
			     void *arg);

#endif
