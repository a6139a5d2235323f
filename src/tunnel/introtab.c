/* SPDX-License-Identifier: MIT */
/* An introducer's table and rates (introtab.h; PROTOCOL.md 16.4, 16.10). */
#include <string.h>

#include "introtab.h"

void ss_endpoint_from_flow(ss_endpoint *e, const ss_flow *f)
{
	memcpy(e->addr, f->remote_addr, 16);
	e->port = f->remote_port;
}

void ss_flow_from_endpoint(ss_flow *f, const ss_endpoint *e, uint16_t local_port, uint8_t proto)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->remote_addr, e->addr, 16);
	f->remote_port = e->port;
	f->local_port = local_port;
	f->proto = proto;
}

int ss_intro_register(ss_intro_reg *r, const ss_reach_msg *m, const ss_endpoint *reflexive,
		      uint64_t now_ns)
{
	if (!r || !m || !reflexive || m->type != SS_CTL_REGISTER || m->n_cand > SS_REACH_MAX_CAND)
		return SS_ERR_INVAL;
	memset(r, 0, sizeof(*r));
	r->valid = true;
	r->at_ns = now_ns;
	r->reflexive = *reflexive;
	r->flags = m->flags;
	r->rtt_ms = m->rtt_ms;
	r->n_cand = m->n_cand;
	memcpy(r->cand, m->cand, m->n_cand * sizeof(m->cand[0]));
	return 0;
}

bool ss_intro_reg_live(const ss_intro_reg *r, uint64_t now_ns)
{
	return r && r->valid && now_ns - r->at_ns < SS_REGISTRATION_LIFETIME;
}

/* GCRA with a burst of one second's worth: refused requests are not charged. */
static bool gcra(uint64_t *tat, uint64_t per_sec, uint64_t now_ns)
{
	uint64_t step = SS_NS_PER_SEC / per_sec, t = *tat > now_ns ? *tat : now_ns;

	if (t + step - now_ns > SS_NS_PER_SEC)
		return false;
	*tat = t + step;
	return true;
}

static int pair_slot(ss_intro_rate *rq, const uint8_t t_id[SS_IDENTITY_LEN], uint64_t now_ns,
		     bool *recent)
{
	int oldest = 0;

	*recent = false;
	for (int i = 0; i < SS_INTRO_PAIRS; i++) {
		if (rq->pair[i].at_ns && !memcmp(rq->pair[i].tag, t_id, 8)) {
			*recent = now_ns - rq->pair[i].at_ns < SS_PUNCH_PAIR_INTERVAL;
			return i;
		}
		if (rq->pair[i].at_ns < rq->pair[oldest].at_ns)
			oldest = i;
	}
	return oldest;
}

int ss_intro_decide(bool r_ok, bool t_ok, const ss_intro_reg *treg, ss_intro_rate *rq,
		    uint64_t *global_tat, const uint8_t t_id[SS_IDENTITY_LEN], uint64_t now_ns)
{
	uint64_t rt, gt;
	bool recent;
	int slot;

	if (!r_ok || !t_ok || !ss_intro_reg_live(treg, now_ns))
		return SS_ERR_REACH_DENIED;
	slot = pair_slot(rq, t_id, now_ns, &recent);
	if (recent)
		return SS_ERR_REACH_RATE;
	/* Both buckets or neither: a refusal by one costs nothing in the other. */
	rt = rq->tat_ns;
	gt = *global_tat;
	if (!gcra(&rt, SS_PUNCH_PER_REQUESTER, now_ns) || !gcra(&gt, SS_PUNCH_TOTAL, now_ns))
		return SS_ERR_REACH_RATE;
	rq->tat_ns = rt;
	*global_tat = gt;
	memcpy(rq->pair[slot].tag, t_id, 8);
	rq->pair[slot].at_ns = now_ns;
	return 0;
}

uint16_t ss_intro_delay(uint16_t rtt_near, uint16_t rtt_far)
{
	unsigned d = rtt_far > rtt_near ? (unsigned)(rtt_far - rtt_near) / 2 : 0;

	return (uint16_t)(d > SS_PUNCH_MAX_DELAY_MS ? SS_PUNCH_MAX_DELAY_MS : d);
}

/* The reflexive endpoint first, then the registered candidates that differ from it. */
static uint8_t fill_cands(ss_endpoint out[SS_REACH_MAX_CAND], const ss_endpoint *first,
			  const ss_intro_reg *reg)
{
	uint8_t n = 0;

	out[n++] = *first;
	for (unsigned i = 0; reg && i < reg->n_cand && n < SS_REACH_MAX_CAND; i++)
		if (memcmp(&reg->cand[i], first, sizeof(*first)))
			out[n++] = reg->cand[i];
	return n;
}

void ss_intro_build(const ss_reach_msg *query, const ss_endpoint *r_seen, const ss_intro_reg *rreg,
		    const ss_intro_reg *treg, const uint8_t r_id[SS_IDENTITY_LEN],
		    uint32_t punch_txid, ss_reach_msg *answer, ss_reach_msg *punch)
{
	uint16_t r_rtt = query->rtt_ms, t_rtt = treg->rtt_ms;
	const uint8_t share = SS_REACH_F_HARD_NAT | SS_REACH_F_RELAY_OK;

	memset(answer, 0, sizeof(*answer));
	memset(punch, 0, sizeof(*punch));
	answer->type = SS_CTL_ANSWER;
	answer->txid = query->txid;
	memcpy(answer->subject, query->subject, SS_IDENTITY_LEN);
	answer->observed = *r_seen;
	answer->flags = treg->flags & (share | SS_REACH_F_PRIVATE);
	/* PRIVATE: T alone decides whether to call R; R learns nothing of T's addresses. */
	if (!(treg->flags & SS_REACH_F_PRIVATE))
		answer->n_cand = fill_cands(answer->cand, &treg->reflexive, treg);
	punch->type = SS_CTL_PUNCH;
	punch->txid = punch_txid;
	memcpy(punch->subject, r_id, SS_IDENTITY_LEN);
	punch->observed = treg->reflexive;
	punch->flags = rreg ? rreg->flags & share : 0;
	punch->n_cand = fill_cands(punch->cand, r_seen, rreg);
	/* Unknown RTTs (0) mean no delay: both start at once. */
	if (r_rtt && t_rtt) {
		if (r_rtt < t_rtt)
			answer->delay_ms = ss_intro_delay(r_rtt, t_rtt);
		else
			punch->delay_ms = ss_intro_delay(t_rtt, r_rtt);
	}
}

bool ss_intro_hard_nat(const ss_endpoint *seen, size_t n)
{
	/* Different addresses say nothing: another route, interface or family. */
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (!memcmp(seen[i].addr, seen[j].addr, sizeof(seen[i].addr)) &&
			    seen[i].port != seen[j].port)
				return true;
	return false;
}

unsigned ss_intro_punch_flags(uint8_t flags, bool our_hard_nat, bool relay_here)
{
	bool relay = relay_here && (flags & SS_REACH_F_RELAY_OK);

	if (relay && our_hard_nat && (flags & SS_REACH_F_HARD_NAT))
		return SS_PUNCH_F_RELAY_OK | SS_PUNCH_F_BOTH_HARD;
	/* Otherwise the rounds; relay.c opens a circuit after SS_PUNCH_RELAY_AFTER. */
	return 0;
}
