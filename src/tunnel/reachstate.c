/* SPDX-License-Identifier: MIT */
/*
 * A peer's reachability state (reach.h: ss_preach_ext) is made on first use and given
 * back once the peer is idle, so that the thousands of configured peers nobody talks to
 * carry a pointer, not a saved INIT, a path and the pacing of punches and queries
 * (test_scale, t_scale). Apart from reach.c, so that test_scale links it.
 */
#include <stdlib.h>

#include "common/wipe.h"
#include "daemon.h"
#include "reach.h"

/* Read by peers that never needed any reachability state: all zero. */
static const ss_preach_ext idle_ext;

const ss_preach_ext *ss_reach_get(const ss_dpeer *p)
{
	return p->reach.x ? p->reach.x : &idle_ext;
}

ss_preach_ext *ss_reach_ext(ss_dpeer *p)
{
	if (!p->reach.x)
		p->reach.x = calloc(1, sizeof(*p->reach.x));
	return p->reach.x;
}

void ss_reach_release(ss_dpeer *p)
{
	if (!p->reach.x)
		return;
	ss_wipe(p->reach.x, sizeof(*p->reach.x));
	free(p->reach.x);
	p->reach.x = NULL;
}

void ss_reach_register_now(ss_dpeer *p)
{
	if (p->reach.x)
		p->reach.x->reg_next_ns = 0;
}

/* Older than this, a timestamp in the state paces nothing any more. */
#define PACE_NS                                                                                    \
	(SS_PUNCH_PAIR_INTERVAL > SS_PUNCH_RELAY_AFTER ? SS_PUNCH_PAIR_INTERVAL                    \
						       : SS_PUNCH_RELAY_AFTER)

void ss_reach_trim(ss_dpeer *p, uint64_t now)
{
	const ss_preach_ext *x = p->reach.x;

	if (!x || p->reach.introducer || x->q_tries || now < x->q_negative_until ||
	    now - x->punch_started_ns < PACE_NS || now - x->q_sent_ns < PACE_NS)
		return;
	/* A session keeps its path (show, the audit of a change); a handshake or a punch
	 * under way, its INIT. */
	if (ss_peer_has_session(p->sp) || ss_peer_deadline(p->sp) != UINT64_MAX ||
	    (p->cands && ss_cands_punch_deadline(p->cands) != UINT64_MAX))
		return;
	ss_reach_release(p);
}
