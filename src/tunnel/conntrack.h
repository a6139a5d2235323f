/* SPDX-License-Identifier: MIT */
/*
 * A small connection tracker: packets this host sends into the tunnel create entries, so
 * the peer's replies (the reverse 5-tuple, ICMP echo replies, ICMP errors quoting our
 * packet) are admitted without an Allow rule.
 *
 * Bounded: the table is allocated once (ss_ct_create) with a fixed number of entries,
 * chained in a keyed hash, and every owner (peer) has a budget of entries; nothing is
 * allocated on the packet path. Entries expire per protocol; TCP entries are shortened
 * once a FIN or RST is seen.
 */
#ifndef SS_TUNNEL_CONNTRACK_H
#define SS_TUNNEL_CONNTRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/capability.h"
#include "isolation.h"

#define SS_CT_DEFAULT_SIZE 32768 /* entries in the table, shared by all peers */
#define SS_CT_DEFAULT_PER_PEER 4096

/* Timeouts (seconds). */
#define SS_CT_TCP_SYN 60	   /* we sent, nothing came back yet */
#define SS_CT_TCP_ESTABLISHED 3600 /* both directions seen */
#define SS_CT_TCP_CLOSING 10	   /* FIN or RST seen */
#define SS_CT_UDP 60
#define SS_CT_ICMP 30

/* Per-peer accounting, embedded in the peer. */
typedef struct ss_ct_owner {
	uint32_t entries;
	uint32_t budget;
} ss_ct_owner;

typedef struct ss_ct ss_ct;

/* size entries (rounded up to a power of two); seed keys the hash. */
int ss_ct_create(ss_ct **out, uint32_t size, uint64_t seed);
void ss_ct_free(ss_ct *ct);

/*
 * An outbound packet (parsed by ss_pkt_parse) to owner: create or refresh its entry.
 * 0, SS_ERR_CT_FULL (owner's budget or the table is used up), SS_ERR_INVAL (nothing to
 * track: a later fragment, a protocol without ports other than ICMP echo).
 */
int ss_ct_track(ss_ct *ct, const ss_pkt_info *pi, ss_ct_owner *owner, uint64_t now_ns);
/* An inbound packet from owner: is it a reply to a tracked flow? Refreshes the entry. */
bool ss_ct_reply(ss_ct *ct, const ss_pkt_info *pi, const ss_ct_owner *owner, uint64_t now_ns);
/* Drop expired entries; returns how many. */
uint32_t ss_ct_expire(ss_ct *ct, uint64_t now_ns);
/* Drop every entry of owner (the peer is going away). */
void ss_ct_forget(ss_ct *ct, ss_ct_owner *owner);
uint32_t ss_ct_count(const ss_ct *ct);

#endif
