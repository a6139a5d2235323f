/* SPDX-License-Identifier: MIT */
/*
 * The RFC 6479 replay window in replay.c. Boundary, from the code: with next = 1 +
 * highest accepted, a counter c < next is too old when next - c > SS_REPLAY_WINDOW, so
 * highest - (SS_REPLAY_WINDOW - 1) is the oldest counter still tracked and
 * highest - SS_REPLAY_WINDOW is the first one refused as SS_ERR_TOO_OLD.
 */
#include <stdlib.h>
#include <string.h>

#include <silosec/error.h>

#include "helpers.h"
#include "internal.h"

#define W ((uint64_t)SS_REPLAY_WINDOW)

/* check() is documented to change nothing: verify it on every call. */
static int check(const ss_replay *r, uint64_t counter)
{
	ss_replay before = *r;
	int ret = ss_replay_check(r, counter);

	assert_memory_equal(&before, r, sizeof(before));
	return ret;
}

/* Check then commit, as the session code does; returns the check result. */
static int check_commit(ss_replay *r, uint64_t counter)
{
	int ret = check(r, counter);

	if (ret == 0)
		ss_replay_commit(r, counter);
	return ret;
}

static void replay_window_size(void **state)
{
	(void)state;
	assert_int_equal(SS_REPLAY_WINDOW, 2112);
	assert_int_equal(SS_REPLAY_WINDOW, (SS_REPLAY_WORDS - 1) * 64);
}

static void replay_counter_zero_first(void **state)
{
	ss_replay r;

	(void)state;
	ss_replay_init(&r);
	assert_int_equal(r.next, 0);
	/* A fresh window accepts anything, 0 included. */
	assert_int_equal(check(&r, 0), 0);
	assert_int_equal(check(&r, 1), 0);
	assert_int_equal(check(&r, UINT64_C(1) << 40), 0);
	ss_replay_commit(&r, 0);
	assert_int_equal(check(&r, 0), SS_ERR_REPLAY);
	assert_int_equal(check(&r, 1), 0);
	assert_int_equal(check_commit(&r, 1), 0);
	assert_int_equal(check(&r, 1), SS_ERR_REPLAY);
	assert_int_equal(check(&r, 0), SS_ERR_REPLAY);
}

static void replay_in_order(void **state)
{
	ss_replay r;

	(void)state;
	ss_replay_init(&r);
	for (uint64_t c = 0; c < 20000; c++) {
		assert_int_equal(check_commit(&r, c), 0);
		assert_int_equal(check(&r, c), SS_ERR_REPLAY);
		assert_int_equal(r.next, c + 1);
	}
	/* Everything still in the window is a replay, everything left of it too old. */
	for (uint64_t c = 0; c < 20000; c++) {
		int want = 20000 - c > W ? SS_ERR_TOO_OLD : SS_ERR_REPLAY;

		assert_int_equal(check(&r, c), want);
	}
	assert_int_equal(check(&r, 20000), 0);
	assert_int_equal(check(&r, UINT64_MAX - 1), 0);
}

static void replay_out_of_order(void **state)
{
	ss_replay r;

	(void)state;
	ss_replay_init(&r);
	assert_int_equal(check_commit(&r, 5000), 0);
	/* Every older counter within the window, backwards, each accepted once. */
	for (uint64_t c = 4999; c > 5000 - W; c--) {
		assert_int_equal(check_commit(&r, c), 0);
		assert_int_equal(check(&r, c), SS_ERR_REPLAY);
		assert_int_equal(r.next, 5001);
	}
	for (uint64_t c = 5000 - (W - 1); c <= 5000; c++)
		assert_int_equal(check(&r, c), SS_ERR_REPLAY);
	for (uint64_t c = 0; c <= 5000 - W; c++)
		assert_int_equal(check(&r, c), SS_ERR_TOO_OLD);

	/* Interleaved: evens first, then odds, across many words. */
	ss_replay_init(&r);
	for (uint64_t c = 0; c < 1500; c += 2)
		assert_int_equal(check_commit(&r, c), 0);
	for (uint64_t c = 1; c < 1500; c += 2)
		assert_int_equal(check_commit(&r, c), 0);
	for (uint64_t c = 0; c < 1500; c++)
		assert_int_equal(check(&r, c), SS_ERR_REPLAY);
	assert_int_equal(check(&r, 1500), 0);
}

static void replay_boundary(void **state)
{
	(void)state;
	/* Every alignment of the highest counter within a word, and a few words over. */
	for (uint64_t h = 3 * W; h < 3 * W + 3 * 64; h++) {
		ss_replay r;

		/* Only h seen: h - (W - 1) is the oldest acceptable counter. */
		ss_replay_init(&r);
		ss_replay_commit(&r, h);
		assert_int_equal(check(&r, h), SS_ERR_REPLAY);
		assert_int_equal(check(&r, h - (W - 1)), 0);
		assert_int_equal(check(&r, h - W), SS_ERR_TOO_OLD);
		assert_int_equal(check(&r, h - W - 1), SS_ERR_TOO_OLD);
		assert_int_equal(check(&r, 0), SS_ERR_TOO_OLD);

		/* The oldest slot really is tracked: after a commit it is a replay... */
		ss_replay_commit(&r, h - (W - 1));
		assert_int_equal(check(&r, h - (W - 1)), SS_ERR_REPLAY);
		assert_int_equal(check(&r, h - (W - 2)), 0);
		/* ...and moving the top by one pushes it out. */
		assert_int_equal(check_commit(&r, h + 1), 0);
		assert_int_equal(check(&r, h - (W - 1)), SS_ERR_TOO_OLD);
		assert_int_equal(check(&r, h - (W - 2)), 0);
		assert_int_equal(check(&r, h), SS_ERR_REPLAY);

		/* A full window: everything from h - (W - 1) to h is a replay. */
		ss_replay_init(&r);
		for (uint64_t c = h - W - 64; c <= h; c++)
			ss_replay_commit(&r, c);
		for (uint64_t c = h - (W - 1); c <= h; c++)
			assert_int_equal(check(&r, c), SS_ERR_REPLAY);
		for (uint64_t c = h - W - 64; c <= h - W; c++)
			assert_int_equal(check(&r, c), SS_ERR_TOO_OLD);
	}
}

static void replay_first_counter_large(void **state)
{
	ss_replay r;

	(void)state;
	ss_replay_init(&r);
	assert_int_equal(check_commit(&r, 5000), 0);
	assert_int_equal(check(&r, 0), SS_ERR_TOO_OLD);
	assert_int_equal(check(&r, 5000 - W), SS_ERR_TOO_OLD);
	/* None of the never-seen counters in the window reads as a replay. */
	for (uint64_t c = 5000 - (W - 1); c < 5000; c++)
		assert_int_equal(check(&r, c), 0);
}

static void replay_big_jumps(void **state)
{
	/* Jump sizes around every interesting size: word, window, ring, many rings. */
	static const uint64_t jumps[] = {
		1,
		2,
		63,
		64,
		65,
		127,
		128,
		1000,
		W - 64,
		W - 1,
		W,
		W + 1,
		W + 63,
		W + 64,
		W + 65,
		SS_REPLAY_WORDS * 64 - 1,
		SS_REPLAY_WORDS * 64,
		SS_REPLAY_WORDS * 64 + 1,
		2 * SS_REPLAY_WORDS * 64,
		2 * SS_REPLAY_WORDS * 64 + 7,
		100000,
		UINT64_C(1) << 40,
	};

	(void)state;
	for (size_t j = 0; j < sizeof(jumps) / sizeof(jumps[0]); j++) {
		for (uint64_t start = 5000; start < 5000 + 64; start += 13) {
			uint64_t top = start + jumps[j];
			ss_replay r;

			/* A full window below start: every bit of the ring is set. */
			ss_replay_init(&r);
			for (uint64_t c = start - 2200; c <= start; c++)
				ss_replay_commit(&r, c);
			assert_int_equal(check_commit(&r, top), 0);
			assert_int_equal(r.next, top + 1);
			/* Within the new window: committed ones replay, the rest is fresh. */
			for (uint64_t c = top > W - 1 ? top - (W - 1) : 0; c < top; c++) {
				int want = c <= start && c >= start - 2200 ? SS_ERR_REPLAY : 0;

				assert_int_equal(check(&r, c), want);
			}
			assert_int_equal(check(&r, top), SS_ERR_REPLAY);
			if (top >= W)
				assert_int_equal(check(&r, top - W), SS_ERR_TOO_OLD);
			if (start < top - (W - 1))
				assert_int_equal(check(&r, start), SS_ERR_TOO_OLD);
		}
	}
}

static void replay_ring_aliasing(void **state)
{
	/* Counters exactly one ring apart share a bit; the old one must not leak. */
	const uint64_t ring = SS_REPLAY_WORDS * 64;

	(void)state;
	for (uint64_t base = 0; base < 200; base += 7) {
		for (uint64_t k = 1; k <= 3; k++) {
			uint64_t top;
			ss_replay r;

			ss_replay_init(&r);
			ss_replay_commit(&r, base);
			ss_replay_commit(&r, base + 1);
			assert_int_equal(check_commit(&r, base + k * ring + 5), 0);
			assert_int_equal(check(&r, base + k * ring), 0);
			assert_int_equal(check(&r, base + k * ring + 1), 0);
			assert_int_equal(check(&r, base + k * ring + 5), SS_ERR_REPLAY);
			/* And a jump that lands the top in the word just behind base's slot. */
			ss_replay_init(&r);
			for (uint64_t c = base; c < base + 64; c++)
				ss_replay_commit(&r, c);
			top = base + k * ring - 64;
			assert_int_equal(check_commit(&r, top), 0);
			for (uint64_t c = top - (W - 1); c < top; c++)
				assert_int_equal(check(&r, c), c < base + 64 ? SS_ERR_REPLAY : 0);
		}
	}
}

/* ---- randomized comparison against a trivially correct model ---- */

/* A set of accepted counters (open addressing, stores counter + 1) and the highest. */
typedef struct model {
	uint64_t *slots;
	size_t mask;
	size_t count;
	bool any;
	uint64_t highest;
} model;

static size_t model_hash(const model *m, uint64_t c)
{
	return (size_t)((c * UINT64_C(0x9e3779b97f4a7c15)) >> 20) & m->mask;
}

static bool model_has(const model *m, uint64_t c)
{
	for (size_t i = model_hash(m, c); m->slots[i]; i = (i + 1) & m->mask)
		if (m->slots[i] == c + 1)
			return true;
	return false;
}

static void model_add(model *m, uint64_t c)
{
	size_t i;

	for (i = model_hash(m, c); m->slots[i]; i = (i + 1) & m->mask)
		if (m->slots[i] == c + 1)
			return;
	assert_true(m->count < m->mask / 2);
	m->slots[i] = c + 1;
	m->count++;
	if (!m->any || c > m->highest)
		m->highest = c;
	m->any = true;
}

static int model_check(const model *m, uint64_t c)
{
	if (!m->any || c > m->highest)
		return 0;
	if (m->highest - c >= W)
		return SS_ERR_TOO_OLD;
	return model_has(m, c) ? SS_ERR_REPLAY : 0;
}

/* h - d, or 0 rather than wrapping around. */
static uint64_t behind(uint64_t h, uint64_t d)
{
	return h >= d ? h - d : 0;
}

static void run_model(const char *label, uint64_t base, int ops)
{
	/* Recently accepted counters, replayed on purpose. */
	uint64_t recent[64] = {0};
	size_t nrecent = 0;
	size_t counts[3] = {0};
	ss_replay r;
	model m = {0};
	test_rng rng;

	m.mask = (1u << 20) - 1;
	m.slots = calloc(m.mask + 1, sizeof(*m.slots));
	assert_non_null(m.slots);
	test_rng_init(&rng, label);
	ss_replay_init(&r);

	for (int op = 0; op < ops; op++) {
		uint64_t x = test_rnd64(&rng), h = m.any ? m.highest : base, c;
		unsigned kind = (unsigned)(x % 1000);
		uint64_t y = x >> 10;
		int want, got;

		if (kind < 350)
			c = h + 1;
		else if (kind < 500)
			c = h + 2 + y % 200;
		else if (kind < 540)
			c = h + 64 + y % 2200;
		else if (kind < 545)
			c = h + W + y % 100000;
		else if (kind < 745)
			c = behind(h, y % (W + 64));
		else if (kind < 855)
			c = nrecent ? recent[y % (nrecent < 64 ? nrecent : 64)] : h;
		else if (kind < 900)
			c = behind(h, y % 10000);
		else if (kind < 950)
			c = behind(h, W - 2 + y % 4); /* straddle the edge */
		else
			c = behind(h, y % 64);
		if (!m.any && c < base)
			c = base;

		want = model_check(&m, c);
		got = check(&r, c);
		assert_int_equal(got, want);
		counts[want == 0 ? 0 : want == SS_ERR_REPLAY ? 1 : 2]++;
		/* One in ten accepted packets fails authentication and is not committed. */
		if (want == 0 && y % 10 != 0) {
			ss_replay_commit(&r, c);
			model_add(&m, c);
			recent[nrecent++ % 64] = c;
			assert_int_equal(r.next, m.highest + 1);
			assert_int_equal(check(&r, c), SS_ERR_REPLAY);
		}
		/* Now and then, sweep the whole window. */
		if (op % 20000 == 19999) {
			for (uint64_t k = 0; k < W + 8 && k <= m.highest; k++)
				assert_int_equal(check(&r, m.highest - k),
						 model_check(&m, m.highest - k));
		}
	}
	print_message("%s: %zu accepted, %zu replays, %zu too old\n", label, counts[0], counts[1],
		      counts[2]);
	/* The mix exercised every outcome. */
	assert_true(counts[0] > (size_t)ops / 10);
	assert_true(counts[1] > (size_t)ops / 20);
	assert_true(counts[2] > (size_t)ops / 50);
	free(m.slots);
}

static void replay_random_vs_model(void **state)
{
	(void)state;
	run_model("replay model 0", 0, 200000);
	run_model("replay model 1", (UINT64_C(1) << 47) + 12345, 200000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(replay_window_size),
		cmocka_unit_test(replay_counter_zero_first),
		cmocka_unit_test(replay_in_order),
		cmocka_unit_test(replay_out_of_order),
		cmocka_unit_test(replay_boundary),
		cmocka_unit_test(replay_first_counter_large),
		cmocka_unit_test(replay_big_jumps),
		cmocka_unit_test(replay_ring_aliasing),
		cmocka_unit_test(replay_random_vs_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
