/* SPDX-License-Identifier: MIT */
/* Per-source handshake rate limiting: burst, refill, independence, bounded memory. */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "ratelimit.h"

#define MS 1000000ull

static void addr_n(uint8_t a[16], uint32_t n)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	a[12] = (uint8_t)(n >> 24);
	a[13] = (uint8_t)(n >> 16);
	a[14] = (uint8_t)(n >> 8);
	a[15] = (uint8_t)n;
}

static void burst_then_refill(void **state)
{
	ss_ratelimit *rl = malloc(sizeof(*rl));
	uint8_t a[16];
	uint64_t t = 1000 * MS;

	(void)state;
	ss_rl_init(rl, 42);
	addr_n(a, 1);
	for (int i = 0; i < SS_RL_BURST; i++)
		assert_true(ss_rl_allow(rl, a, t));
	assert_false(ss_rl_allow(rl, a, t));
	assert_false(ss_rl_allow(rl, a, t + 10 * MS));
	/* One initiation's worth of credit comes back every 1000 / PER_SEC ms. */
	assert_true(ss_rl_allow(rl, a, t + 1000 * MS / SS_RL_PER_SEC + 1));
	assert_false(ss_rl_allow(rl, a, t + 1000 * MS / SS_RL_PER_SEC + 2));
	/* A long pause refills up to the burst, not beyond. */
	t += 3600 * 1000 * MS;
	for (int i = 0; i < SS_RL_BURST; i++)
		assert_true(ss_rl_allow(rl, a, t));
	assert_false(ss_rl_allow(rl, a, t));
	free(rl);
}

static void sustained_rate(void **state)
{
	ss_ratelimit *rl = malloc(sizeof(*rl));
	uint64_t t = 5000 * MS;
	uint8_t a[16];
	int allowed = 0;

	(void)state;
	ss_rl_init(rl, 7);
	addr_n(a, 9);
	/* 10 seconds at 1000 attempts per second. */
	for (int i = 0; i < 10000; i++)
		allowed += ss_rl_allow(rl, a, t + (uint64_t)i * MS);
	assert_in_range(allowed, 10 * SS_RL_PER_SEC, 10 * SS_RL_PER_SEC + SS_RL_BURST + 1);
	free(rl);
}

static void sources_independent(void **state)
{
	ss_ratelimit *rl = malloc(sizeof(*rl));
	uint8_t a[16], b[16];

	(void)state;
	ss_rl_init(rl, 3);
	addr_n(a, 1);
	addr_n(b, 2);
	for (int i = 0; i < 100; i++)
		(void)ss_rl_allow(rl, a, 1 * MS);
	assert_false(ss_rl_allow(rl, a, 1 * MS));
	assert_true(ss_rl_allow(rl, b, 1 * MS));
	free(rl);
}

/* Many more sources than slots: memory stays fixed and nobody is locked out. */
static void bounded_and_lenient(void **state)
{
	ss_ratelimit *rl = malloc(sizeof(*rl));
	uint8_t a[16], victim[16];

	(void)state;
	ss_rl_init(rl, 11);
	addr_n(victim, 0xdead);
	for (int i = 0; i < SS_RL_BURST; i++)
		assert_true(ss_rl_allow(rl, victim, 1 * MS));
	assert_false(ss_rl_allow(rl, victim, 1 * MS));
	for (uint32_t n = 0; n < 20 * SS_RL_SLOTS; n++) {
		addr_n(a, 0x01000000 + n);
		(void)ss_rl_allow(rl, a, 2 * MS + n);
	}
	/* The victim's entry may have been evicted: that resets it to a full burst, which
	 * is the safe direction; it must never deny a fresh source. */
	addr_n(a, 0x7f000001);
	assert_true(ss_rl_allow(rl, a, 3 * MS + 20 * SS_RL_SLOTS));
	assert_int_equal(sizeof(*rl), sizeof(uint64_t) + SS_RL_SLOTS * sizeof(ss_rl_slot));
	free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_refill),
		cmocka_unit_test(sustained_rate),
		cmocka_unit_test(sources_independent),
		cmocka_unit_test(bounded_and_lenient),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
