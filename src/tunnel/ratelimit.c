/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "ratelimit.h"
#include "common/mix.h"

#define COST_NS (1000000000ull / SS_RL_PER_SEC)
#define MAX_NS (COST_NS * SS_RL_BURST)

void ss_rl_init(ss_ratelimit *rl, uint64_t seed)
{
	memset(rl, 0, sizeof(*rl));
	rl->seed = seed;
}

static uint32_t slot_of(const ss_ratelimit *rl, const uint8_t addr[16])
{
	uint64_t a, b;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	return (uint32_t)(ss_mix64(ss_mix64(a ^ rl->seed) ^ b) & (SS_RL_SLOTS - 1));
}

static ss_rl_slot *find(ss_ratelimit *rl, const uint8_t addr[16])
{
	uint32_t i = slot_of(rl, addr);
	ss_rl_slot *victim = NULL;

	for (int k = 0; k < SS_RL_PROBE; k++) {
		ss_rl_slot *s = &rl->slots[(i + (uint32_t)k) & (SS_RL_SLOTS - 1)];

		if (s->last_ns && !memcmp(s->addr, addr, 16))
			return s;
		if (!victim || s->last_ns < victim->last_ns)
			victim = s;
	}
	memcpy(victim->addr, addr, 16);
	victim->last_ns = 0;
	victim->tokens_ns = MAX_NS;
	return victim;
}

bool ss_rl_allow(ss_ratelimit *rl, const uint8_t addr[16], uint64_t now_ns)
{
	ss_rl_slot *s = find(rl, addr);

	if (s->last_ns) {
		uint64_t t = s->tokens_ns + (now_ns > s->last_ns ? now_ns - s->last_ns : 0);

		s->tokens_ns = t > MAX_NS ? MAX_NS : t;
	}
	/* now_ns 0 would read as "empty": a clock that starts at 0 is nudged. */
	s->last_ns = now_ns ? now_ns : 1;
	if (s->tokens_ns < COST_NS)
		return false;
	s->tokens_ns -= COST_NS;
	return true;
}
