/* SPDX-License-Identifier: MIT */
/* Introducers in silosecd (PROTOCOL.md 16.4): registering, querying, introducing. */
#ifndef SS_TUNNEL_INTRO_H
#define SS_TUNNEL_INTRO_H

#include <stddef.h>
#include <stdint.h>

#include <silosec/core.h>

#define SS_HARD_NAT_INTRODUCERS 16 /* introducers' reports compared for HARD_NAT */

struct ss_daemon;
struct ss_dpeer;

/* A reachability plaintext p sealed on its session (SS_RESULT_CONTROL). */
void ss_intro_control(struct ss_daemon *d, struct ss_dpeer *p, const ss_flow *flow,
		      const uint8_t *pt, size_t len);
/* Ask the introducers where p is: 0 if a QUERY is (or was just) under way. */
int ss_intro_query(struct ss_daemon *d, struct ss_dpeer *p);

/* p's session went silent (SS_STALE_AFTER): its NAT mapping may be gone, ask again. */
void ss_intro_on_stale(struct ss_daemon *d, struct ss_dpeer *p);
/* Registration, query retries and keeping introducer sessions up (timer pass). */
void ss_intro_tick(struct ss_daemon *d, struct ss_dpeer *p, uint64_t now);
uint64_t ss_intro_deadline(const struct ss_dpeer *p);
/* A session with p came up: register at once if p is an introducer. */
void ss_intro_on_handshake(struct ss_daemon *d, struct ss_dpeer *p);

#endif
