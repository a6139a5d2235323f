/* SPDX-License-Identifier: MIT */
/*
 * LAN discovery (PROTOCOL.md 16.9, LanDiscovery in silosec.conf(5)): announcements by
 * IPv4 broadcast and IPv6 link-local multicast on every interface but the tunnel, and
 * the receiving side: on-link check, rate limits, ss_lan_recognise, then a candidate for
 * a configured peer or an entry of the open-mode table. Nothing is ever answered.
 */
#ifndef SS_TUNNEL_LAN_H
#define SS_TUNNEL_LAN_H

#include <stdint.h>
#include <stdio.h>

#include "common/ratelimit.h"
#include "config.h"
#include "lantable.h"

#define SS_LAN_MAX_IFACES 32 /* interfaces announced on */
#define SS_LAN_SRC_PER_SEC 4 /* announcements examined per source */
#define SS_LAN_SRC_BURST 8
#define SS_LAN_CHANGE_GAP (SS_NS_PER_SEC / 2) /* announcements after address changes */

/* Refused announcements, shown by `silosec show` as lan_drop=NAME:COUNT. */
enum ss_lan_drop {
	SS_LAN_D_MALFORMED = 0, /* SS_ERR_MALFORMED */
	SS_LAN_D_OFFLINK,	/* SS_TUN_LAN_OFFLINK: source not on-link, or on the tunnel */
	SS_LAN_D_RATE,		/* SS_ERR_REACH_RATE */
	SS_LAN_D_SPOOF,		/* SS_ERR_LAN_SPOOF: not recognised, stale, forged, replayed */
	SS_LAN_D_REFLECTION,	/* SS_ERR_REFLECTION: our own, looped back */
	SS_LAN_D_CANDIDATE,	/* SS_ERR_CANDIDATE: refused by the allow list */
	SS_LAN_D_COUNT,
};

typedef struct ss_lan {
	enum ss_lan_discovery mode;
	int fd4, fd6, nl; /* nl: rtnetlink for address dumps (opened before the sandbox) */
	ss_lan_prefix pfx[SS_LAN_MAX_PREFIXES];
	size_t npfx;
	uint32_t ifs4[SS_LAN_MAX_IFACES], ifs6[SS_LAN_MAX_IFACES];
	size_t nifs4, nifs6;
	uint64_t next_announce, last_announce;
	ss_rl_rate all; /* all sources: SS_LAN_PER_SEC, burst as much */
	uint64_t tat;
	ss_rl *rl; /* per source */
	ss_lan_table table;
	uint64_t announced, heard, recognised;
	uint64_t drops[SS_LAN_D_COUNT];
} ss_lan;

struct ss_daemon;

/* Before the sandbox: sockets, group memberships, the first interface list. */
int ss_lan_open(struct ss_daemon *d, char *err, size_t errlen);
void ss_lan_close(ss_lan *l);
/* Socket readable: fam 4 or 6. */
void ss_lan_read(struct ss_daemon *d, int fam);
/* Announce when due; returns the next deadline (UINT64_MAX when off). */
uint64_t ss_lan_tick(struct ss_daemon *d, uint64_t now);
/* Our addresses changed: new interface list, memberships, and an announcement soon. */
void ss_lan_addrs_changed(struct ss_daemon *d);
/*
 * LanDiscovery changed by syncconf: peers <-> open at once, off closes the sockets;
 * turning it on needs the sockets of the start (else SS_ERR_PERM, err says restart).
 */
int ss_lan_set_mode(struct ss_daemon *d, enum ss_lan_discovery mode, char *err, size_t errlen);
/* `get`: mode and counters; `discover`: the open-mode table. */
void ss_lan_show(struct ss_daemon *d, FILE *f);
void ss_lan_discover(struct ss_daemon *d, FILE *f);

#endif
