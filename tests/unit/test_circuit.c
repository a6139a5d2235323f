/* SPDX-License-Identifier: MIT */
/*
 * The relay circuit table (src/tunnel/circuit.c, PROTOCOL.md 16.7, 16.10): bounds per
 * identity and in all, ids that find their slot, pending and idle expiry, the byte and
 * inner-INIT rates. Pure functions on a fixed clock: no daemon, no sockets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <silosec/error.h>

#include "circuit.h"

#define T0 (1000 * SS_NS_PER_SEC)

static int owners[SS_RELAY_MAX_CIRCUITS + 8];

static void per_identity_bound(void **state)
{
	ss_circuits t;
	ss_circuit *c;
	uint32_t i;

	(void)state;
	assert_int_equal(ss_circuits_init(&t, SS_RELAY_MAX_CIRCUITS, SS_RELAY_RATE, SS_RELAY_BURST),
			 0);
	for (i = 0; i < SS_RELAY_MAX_PER_IDENTITY; i++)
		assert_int_equal(
			ss_circuits_open(&t, &owners[0], &owners[1 + i], (i + 1) << 16, T0, &c), 0);
	/* A, as requester or as the other end, holds no more. */
	assert_int_equal(ss_circuits_open(&t, &owners[0], &owners[100], 7u << 16, T0, &c),
			 SS_ERR_REACH_RATE);
	assert_int_equal(ss_circuits_open(&t, &owners[100], &owners[0], 7u << 16, T0, &c),
			 SS_ERR_REACH_RATE);
	assert_int_equal(ss_circuits_count(&t, &owners[0]), SS_RELAY_MAX_PER_IDENTITY);
	/* Others are not affected; one closes and A may open again. */
	assert_int_equal(ss_circuits_open(&t, &owners[100], &owners[101], 7u << 16, T0, &c), 0);
	ss_circuits_remove(&t, ss_circuits_find(&t, (1u << 16) | ((1u << 16) & 1023)));
	assert_int_equal(ss_circuits_count(&t, &owners[0]), SS_RELAY_MAX_PER_IDENTITY - 1);
	assert_int_equal(ss_circuits_open(&t, &owners[0], &owners[100], 9u << 16, T0, &c), 0);
	ss_circuits_free(&t);
}

static void total_bound_and_ids(void **state)
{
	ss_circuits t;
	ss_circuit *c;

	(void)state;
	assert_int_equal(ss_circuits_init(&t, SS_RELAY_MAX_CIRCUITS, SS_RELAY_RATE, SS_RELAY_BURST),
			 0);
	/* Pairs of distinct owners: only the total limits. Every id finds its circuit. */
	for (uint32_t i = 0; i < SS_RELAY_MAX_CIRCUITS; i++) {
		assert_int_equal(
			ss_circuits_open(&t, &owners[i], &owners[i + 1], 0x5a5a0000u + i, T0, &c),
			0);
		assert_true(c->id != 0);
		assert_ptr_equal(ss_circuits_find(&t, c->id), c);
		assert_ptr_equal(c->end[0], &owners[i]);
	}
	assert_int_equal(t.n, SS_RELAY_MAX_CIRCUITS);
	assert_int_equal(ss_circuits_open(&t, &owners[3], &owners[7], 0x77770000u, T0, &c),
			 SS_ERR_REACH_RATE);
	assert_null(ss_circuits_find(&t, 0x12345678)); /* a guessed id */
	assert_int_equal(ss_circuits_open(&t, &owners[3], &owners[7], 5, T0, &c), SS_ERR_INVAL);
	ss_circuits_free(&t);
}

static int expired;

static void count_expired(void *arg, ss_circuit *c)
{
	(void)arg;
	(void)c;
	expired++;
}

static void expiry(void **state)
{
	ss_circuits t;
	ss_circuit *pending, *open, *busy;
	uint32_t ids[3];

	(void)state;
	assert_int_equal(ss_circuits_init(&t, 64, SS_RELAY_RATE, SS_RELAY_BURST), 0);
	assert_int_equal(ss_circuits_open(&t, &owners[0], &owners[1], 1u << 8, T0, &pending), 0);
	assert_int_equal(ss_circuits_open(&t, &owners[0], &owners[2], 2u << 8, T0, &open), 0);
	assert_int_equal(ss_circuits_open(&t, &owners[0], &owners[3], 3u << 8, T0, &busy), 0);
	ids[0] = pending->id, ids[1] = open->id, ids[2] = busy->id;
	open->state = busy->state = SS_CIRC_OPEN;
	expired = 0;
	ss_circuits_expire(&t, T0 + SS_RELAY_PENDING - 1, SS_RELAY_IDLE, count_expired, NULL);
	assert_int_equal(expired, 0);
	ss_circuits_expire(&t, T0 + SS_RELAY_PENDING, SS_RELAY_IDLE, count_expired, NULL);
	assert_int_equal(expired, 1); /* the offer nobody accepted */
	assert_null(ss_circuits_find(&t, ids[0]));
	/* Traffic keeps a circuit; silence for SS_RELAY_IDLE reclaims it. */
	assert_int_equal(ss_circuits_charge(&t, ss_circuits_find(&t, ids[2]), 100, false,
					    T0 + SS_RELAY_IDLE - 1),
			 0);
	ss_circuits_expire(&t, T0 + SS_RELAY_IDLE, SS_RELAY_IDLE, count_expired, NULL);
	assert_int_equal(expired, 2);
	assert_null(ss_circuits_find(&t, ids[1]));
	assert_non_null(ss_circuits_find(&t, ids[2]));
	ss_circuits_forget(&t, &owners[3], count_expired, NULL);
	assert_int_equal(expired, 3);
	assert_int_equal(t.n, 0);
	ss_circuits_free(&t);
}

static void byte_rate(void **state)
{
	ss_circuits t;
	ss_circuit *c;
	uint64_t now = T0, sent = 0;

	(void)state;
	/* 1 MB/s, 64 KB burst: the burst passes at once, then the rate holds. */
	assert_int_equal(ss_circuits_init(&t, 16, 1000000, 65536), 0);
	assert_int_equal(ss_circuits_open(&t, &owners[0], &owners[1], 1u << 4, now, &c), 0);
	while (!ss_circuits_charge(&t, c, 1000, false, now))
		sent += 1000;
	assert_int_equal(sent, 65000);
	assert_int_equal(c->refused, 1);
	/* One second of 1000-byte datagrams every 100 us: 1 MB/s gets through, no more. */
	sent = 0;
	for (int i = 1; i <= 10000; i++)
		if (!ss_circuits_charge(&t, c, 1000, false, now + (uint64_t)i * 100000))
			sent += 1000;
	assert_true(sent >= 990000 && sent <= 1001000);
	assert_int_equal(c->bytes, 65000 + sent);
	ss_circuits_free(&t);
}

static void init_rate(void **state)
{
	ss_circuits t;
	ss_circuit *c;
	int ok = 0;

	(void)state;
	assert_int_equal(ss_circuits_init(&t, 16, SS_RELAY_RATE, SS_RELAY_BURST), 0);
	assert_int_equal(ss_circuits_open(&t, &owners[0], &owners[1], 1u << 4, T0, &c), 0);
	for (int i = 0; i < 20; i++)
		ok += !ss_circuits_charge(&t, c, 176, true, T0);
	assert_int_equal(ok, SS_RELAY_INITS_PER_SEC);
	/* Data still flows while INITs are refused. */
	assert_int_equal(ss_circuits_charge(&t, c, 1400, false, T0), 0);
	/* A second later the INIT bucket is full again. */
	ok = 0;
	for (int i = 0; i < 20; i++)
		ok += !ss_circuits_charge(&t, c, 176, true, T0 + SS_NS_PER_SEC);
	assert_int_equal(ok, SS_RELAY_INITS_PER_SEC);
	ss_circuits_free(&t);
}

static void end_host_table(void **state)
{
	ss_circuits t;
	ss_circuit *c, *d;

	(void)state;
	assert_int_equal(ss_circuits_init(&t, 4, SS_RELAY_RATE, SS_RELAY_BURST), 0);
	/* Two relays may pick the same id: the hop tells them apart. */
	assert_int_equal(ss_circuits_add(&t, 0x100, &owners[0], &owners[5], T0, &c), 0);
	assert_int_equal(ss_circuits_add(&t, 0x100, &owners[1], &owners[6], T0, &d), 0);
	assert_int_equal(ss_circuits_add(&t, 0x100, &owners[1], &owners[6], T0, &d), SS_ERR_EXISTS);
	assert_ptr_equal(ss_circuits_find_end(&t, &owners[0], 0x100), c);
	assert_ptr_equal(ss_circuits_find_end(&t, &owners[1], 0x100), d);
	assert_null(ss_circuits_find_end(&t, &owners[2], 0x100));
	assert_int_equal(ss_circuits_add(&t, 7, &owners[0], &owners[5], T0, &c), 0);
	assert_int_equal(ss_circuits_add(&t, 9, &owners[0], &owners[5], T0, &c), 0);
	assert_int_equal(ss_circuits_add(&t, 11, &owners[0], &owners[5], T0, &c), SS_ERR_FULL);
	assert_int_equal(ss_circuits_add(&t, 0, &owners[0], &owners[5], T0, &c), SS_ERR_INVAL);
	ss_circuits_remove(&t, ss_circuits_find_end(&t, &owners[0], 0x100));
	assert_ptr_equal(ss_circuits_find_end(&t, &owners[1], 0x100), d);
	ss_circuits_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(per_identity_bound),
		cmocka_unit_test(total_bound_and_ids),
		cmocka_unit_test(expiry),
		cmocka_unit_test(byte_rate),
		cmocka_unit_test(init_rate),
		cmocka_unit_test(end_host_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
