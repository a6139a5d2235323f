/* SPDX-License-Identifier: MIT */
#include "common/ratelimit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <silosec/error.h>

#include "common/endian.h"

int ss_rl_rate_init(ss_rl_rate *r, uint32_t per_sec, uint32_t burst)
{
	if (!per_sec || !burst)
		return SS_ERR_INVAL;
	r->interval_ns = 1000000000ull / per_sec;
	r->tolerance_ns = r->interval_ns * (burst - 1);
	return 0;
}

bool ss_rl_bucket_ready(const ss_rl_rate *r, uint64_t tat, uint64_t now_ns)
{
	/* tat - now is the debt; up to tolerance of it leaves one token. */
	return tat <= now_ns || tat - now_ns <= r->tolerance_ns;
}

bool ss_rl_bucket_take(const ss_rl_rate *r, uint64_t *tat, uint64_t now_ns)
{
	if (!ss_rl_bucket_ready(r, *tat, now_ns))
		return false;
	*tat = (*tat > now_ns ? *tat : now_ns) + r->interval_ns;
	return true;
}

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int ss_rl_key_ip(ss_rl_key *k, int family, const uint8_t *addr)
{
	if (family == AF_INET6 && !memcmp(addr, v4_mapped, sizeof(v4_mapped))) {
		family = AF_INET;
		addr += sizeof(v4_mapped);
	}
	if (family == AF_INET) {
		k->tag = SS_RL_TAG_V4;
		k->val = ss_load_be32(addr);
	} else if (family == AF_INET6) {
		k->tag = SS_RL_TAG_V6;
		k->val = ss_load_be64(addr); /* the /64 */
	} else {
		return SS_ERR_INVAL;
	}
	return 0;
}

void ss_rl_key_name(const ss_rl *rl, const char *name, ss_rl_key *k)
{
	size_t n = strlen(name);
	uint64_t h = n;

	for (size_t i = 0; i < n; i += 8) {
		uint64_t w = 0;

		memcpy(&w, name + i, n - i < 8 ? n - i : 8);
		h = ss_mix_keyed(&rl->key, h, w);
	}
	k->tag = SS_RL_TAG_NAME;
	k->val = h;
}

int ss_rl_init(ss_rl *rl, ss_rl_entry *slots, uint32_t nslots, uint32_t per_sec, uint32_t burst,
	       const ss_mix_key *key)
{
	int ret;

	if (!slots || nslots < SS_RL_WAYS || nslots > SS_RL_MAX_SLOTS || (nslots & (nslots - 1)))
		return SS_ERR_INVAL;
	memset(rl, 0, sizeof(*rl));
	ret = ss_rl_rate_init(&rl->rate, per_sec, burst);
	if (ret)
		return ret;
	if (key)
		rl->key = *key;
	else if (ss_mix_key_random(&rl->key))
		return SS_ERR_CRYPTO;
	memset(slots, 0, (size_t)nslots * sizeof(*slots));
	rl->slots = slots;
	rl->mask = nslots / SS_RL_WAYS - 1;
	return 0;
}

int ss_rl_create(ss_rl **out, uint32_t nslots, uint32_t per_sec, uint32_t burst,
		 const ss_mix_key *key)
{
	uint32_t n = SS_RL_WAYS;
	ss_rl *rl;
	ss_rl_entry *slots;
	int ret;

	if (!out || nslots > SS_RL_MAX_SLOTS)
		return SS_ERR_INVAL;
	while (n < nslots)
		n <<= 1;
	rl = malloc(sizeof(*rl));
	slots = calloc(n, sizeof(*slots));
	ret = rl && slots ? ss_rl_init(rl, slots, n, per_sec, burst, key) : SS_ERR_NOMEM;
	if (ret) {
		free(slots);
		free(rl);
		return ret;
	}
	rl->owned = true;
	*out = rl;
	return 0;
}

void ss_rl_free(ss_rl *rl)
{
	if (!rl || !rl->owned)
		return;
	free(rl->slots);
	free(rl);
}

ss_rl_entry *ss_rl_lookup(ss_rl *rl, const ss_rl_key *k, bool create)
{
	uint64_t h = ss_mix_keyed(&rl->key, k->tag, k->val);
	ss_rl_entry *set = &rl->slots[(h & rl->mask) * SS_RL_WAYS], *victim;

	for (int i = 0; i < SS_RL_WAYS; i++)
		if (set[i].key.tag == k->tag && set[i].key.val == k->val)
			return &set[i];
	if (!create)
		return NULL;
	/* The eviction rule of the header: an empty way, else the fullest bucket. */
	victim = &set[0];
	for (int i = 0; i < SS_RL_WAYS; i++) {
		if (set[i].key.tag == SS_RL_TAG_NONE) {
			victim = &set[i];
			break;
		}
		if (set[i].tat < victim->tat)
			victim = &set[i];
	}
	victim->key = *k;
	victim->tat = 0;
	victim->suppressed = 0;
	return victim;
}

bool ss_rl_ready(ss_rl *rl, const ss_rl_key *k, uint64_t now_ns)
{
	const ss_rl_entry *e = ss_rl_lookup(rl, k, false);

	return !e || ss_rl_bucket_ready(&rl->rate, e->tat, now_ns);
}

bool ss_rl_allow(ss_rl *rl, const ss_rl_key *k, uint64_t now_ns)
{
	return ss_rl_bucket_take(&rl->rate, &ss_rl_lookup(rl, k, true)->tat, now_ns);
}
