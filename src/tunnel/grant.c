/* SPDX-License-Identifier: MIT */
#include "grant.h"

#include <string.h>

#include <silosec/core.h>
#include <silosec/error.h>

int ss_grant_add(ss_grants *t, const uint8_t identity[SS_IDENTITY_LEN], const ss_cap_rule *rule,
		 uint32_t seconds, uint64_t now_ns)
{
	ss_grant *slot = NULL;

	if (!seconds || seconds > SS_GRANT_MAX_SECONDS)
		return SS_ERR_GRANT_LIMIT;
	for (int i = 0; i < SS_GRANT_MAX; i++) {
		ss_grant *g = &t->g[i];

		if (g->used && !memcmp(g->identity, identity, SS_IDENTITY_LEN) &&
		    ss_cap_rule_equal(&g->rule, rule)) {
			slot = g;
			break;
		}
		if (!g->used && !slot)
			slot = g;
	}
	if (!slot)
		return SS_ERR_GRANT_LIMIT;
	if (!slot->used)
		t->n++;
	slot->used = true;
	memcpy(slot->identity, identity, SS_IDENTITY_LEN);
	slot->rule = *rule;
	slot->expire_ns = now_ns + (uint64_t)seconds * SS_NS_PER_SEC;
	return 0;
}

int ss_grant_revoke(ss_grants *t, const uint8_t identity[SS_IDENTITY_LEN], const ss_cap_rule *rule)
{
	int n = 0;

	for (int i = 0; i < SS_GRANT_MAX; i++) {
		ss_grant *g = &t->g[i];

		if (g->used && !memcmp(g->identity, identity, SS_IDENTITY_LEN) &&
		    (!rule || ss_cap_rule_equal(&g->rule, rule))) {
			memset(g, 0, sizeof(*g));
			t->n--;
			n++;
		}
	}
	return n;
}

bool ss_grant_match(const ss_grants *t, const uint8_t identity[SS_IDENTITY_LEN],
		    const ss_pkt_info *pi, uint64_t now_ns)
{
	uint32_t seen = 0;

	for (int i = 0; i < SS_GRANT_MAX && seen < t->n; i++) {
		const ss_grant *g = &t->g[i];

		if (!g->used)
			continue;
		seen++;
		if (g->expire_ns > now_ns && ss_cap_rule_match(&g->rule, pi) &&
		    !memcmp(g->identity, identity, SS_IDENTITY_LEN))
			return true;
	}
	return false;
}

uint32_t ss_grant_expire(ss_grants *t, uint64_t now_ns, ss_grant_fn fn, void *arg)
{
	uint32_t n = 0;

	for (int i = 0; i < SS_GRANT_MAX && t->n; i++) {
		ss_grant *g = &t->g[i];

		if (!g->used || g->expire_ns > now_ns)
			continue;
		if (fn)
			fn(arg, g);
		memset(g, 0, sizeof(*g));
		t->n--;
		n++;
	}
	return n;
}

uint64_t ss_grant_next(const ss_grants *t)
{
	uint64_t next = UINT64_MAX;

	for (int i = 0; i < SS_GRANT_MAX && t->n; i++)
		if (t->g[i].used && t->g[i].expire_ns < next)
			next = t->g[i].expire_ns;
	return next;
}
