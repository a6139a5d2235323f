/* SPDX-License-Identifier: MIT */
/*
 * RFC 6479 anti-replay window: a ring of 64-bit words where the block ahead of the
 * highest counter is cleared lazily, so checking is O(1) and memory is fixed.
 * Counters are stored as given; "next" is one past the highest accepted so that a
 * fresh window accepts counter 0.
 */
#include <string.h>

#include <silosec/error.h>

#include "internal.h"

void ss_replay_init(ss_replay *r)
{
	memset(r, 0, sizeof(*r));
}

static bool bit_set(const ss_replay *r, uint64_t counter)
{
	uint64_t word = (counter / 64) % SS_REPLAY_WORDS;

	return r->bits[word] >> (counter % 64) & 1;
}

int ss_replay_check(const ss_replay *r, uint64_t counter)
{
	/* next = counter + 1 must not wrap; sessions stop long before this anyway. */
	if (counter == UINT64_MAX)
		return SS_ERR_EXPIRED;
	if (counter >= r->next)
		return 0;
	if (r->next - counter > SS_REPLAY_WINDOW)
		return SS_ERR_TOO_OLD;
	return bit_set(r, counter) ? SS_ERR_REPLAY : 0;
}

void ss_replay_commit(ss_replay *r, uint64_t counter)
{
	if (counter >= r->next) {
		uint64_t new_top = counter / 64;

		if (r->next == 0 || new_top - (r->next - 1) / 64 >= SS_REPLAY_WORDS) {
			memset(r->bits, 0, sizeof(r->bits));
		} else {
			/* Clear the words the window slides over; they held counters a ring ago. */
			for (uint64_t w = (r->next - 1) / 64 + 1; w <= new_top; w++)
				r->bits[w % SS_REPLAY_WORDS] = 0;
		}
		r->next = counter + 1;
	}
	r->bits[(counter / 64) % SS_REPLAY_WORDS] |= UINT64_C(1) << (counter % 64);
}
