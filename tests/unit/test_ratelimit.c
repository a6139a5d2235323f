/* SPDX-License-Identifier: MIT */
/*
 * The one per-source rate limiter (common/ratelimit.h): source keys (IPv4 per address,
 * IPv6 per /64, v4-mapped as IPv4), the bucket on a fixed clock, the table's eviction rule
 * and its behaviour when full. The numbers tested are the core's for INITs under load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <silosec/error.h>
#include <silosec/wire.h>

#include "helpers.h"
#include "common/ratelimit.h"

#define MS 1000000ull
#define RATE SS_LOAD_SOURCE_INITS_PER_SEC
#define BURST SS_LOAD_SOURCE_BURST

static const ss_mix_key test_key = {{0x0123456789abcdefull, 0xfedcba9876543210ull}};

static ss_rl *table(uint32_t nslots)
{
	ss_rl *rl = NULL;

	assert_int_equal(ss_rl_create(&rl, nslots, RATE, BURST, &test_key), 0);
	return rl;
}

static ss_rl_key key_of(const char *text)
{
	uint8_t a[16];
	ss_rl_key k;
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(family, text, a), 1);
	assert_int_equal(ss_rl_key_ip(&k, family, a), 0);
	return k;
}

static bool allow(ss_rl *rl, const char *text, uint64_t now)
{
	ss_rl_key k = key_of(text);

	return ss_rl_allow(rl, &k, now);
}

static void burst_then_refill(void **state)
{
	ss_rl *rl = table(SS_LOAD_SOURCE_SLOTS);
	uint64_t t = 1000 * MS;

	(void)state;
	for (int i = 0; i < BURST; i++)
		assert_true(allow(rl, "192.0.2.1", t));
	assert_false(allow(rl, "192.0.2.1", t));
	assert_false(allow(rl, "192.0.2.1", t + 10 * MS));
	/* One initiation's worth of credit comes back every 1000 / RATE ms. */
	assert_true(allow(rl, "192.0.2.1", t + 1000 * MS / RATE + 1));
	assert_false(allow(rl, "192.0.2.1", t + 1000 * MS / RATE + 2));
	/* A long pause refills up to the burst, not beyond. */
	t += 3600 * 1000 * MS;
	for (int i = 0; i < BURST; i++)
		assert_true(allow(rl, "192.0.2.1", t));
	assert_false(allow(rl, "192.0.2.1", t));
	ss_rl_free(rl);
}

static void sustained_rate(void **state)
{
	ss_rl *rl = table(SS_LOAD_SOURCE_SLOTS);
	uint64_t t = 5000 * MS;
	int allowed = 0;

	(void)state;
	/* 10 seconds at 1000 attempts per second. */
	for (int i = 0; i < 10000; i++)
		allowed += allow(rl, "198.51.100.9", t + (uint64_t)i * MS);
	assert_in_range(allowed, 10 * RATE, 10 * RATE + BURST + 1);
	ss_rl_free(rl);
}

/* Looking does not charge: the knock daemon and the audit trail look first, take later. */
static void ready_does_not_charge(void **state)
{
	ss_rl *rl = table(64);
	ss_rl_key k = key_of("203.0.113.5");

	(void)state;
	for (int i = 0; i < 100; i++)
		assert_true(ss_rl_ready(rl, &k, 1 * MS));
	assert_null(ss_rl_lookup(rl, &k, false));
	for (int i = 0; i < BURST; i++)
		assert_true(ss_rl_allow(rl, &k, 1 * MS));
	assert_false(ss_rl_ready(rl, &k, 1 * MS));
	assert_false(ss_rl_allow(rl, &k, 1 * MS));
	ss_rl_free(rl);
}

/* After drained empties its bucket, same shares it and both others still have theirs. */
static void one_source_apart(const char *drained, const char *same, const char *other1,
			     const char *other2)
{
	ss_rl *rl = table(SS_LOAD_SOURCE_SLOTS);

	for (int i = 0; i < BURST; i++)
		assert_true(allow(rl, drained, 1 * MS));
	assert_false(allow(rl, drained, 1 * MS));
	assert_false(allow(rl, same, 1 * MS));
	assert_true(allow(rl, other1, 1 * MS));
	assert_true(allow(rl, other2, 1 * MS));
	ss_rl_free(rl);
}

static void ipv4_per_address(void **state)
{
	(void)state;
	/* The neighbours, in the same /24 and /31, have their own buckets. */
	one_source_apart("10.0.0.1", "10.0.0.1", "10.0.0.0", "10.0.0.2");
}

/* The test: 1,000 addresses of one /64 are one source with one bucket. */
static void one_ipv6_64_one_bucket(void **state)
{
	ss_rl *rl = table(SS_LOAD_SOURCE_SLOTS);
	uint8_t a[16];
	ss_rl_key k, first;
	int allowed = 0, used = 0;

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1:2::", a), 1);
	for (uint64_t i = 0; i < 1000; i++) {
		uint64_t host = ss_mix64(i + 1); /* spread over the low 64 bits */

		memcpy(a + 8, &host, 8);
		assert_int_equal(ss_rl_key_ip(&k, AF_INET6, a), 0);
		if (i == 0)
			first = k;
		assert_memory_equal(&k, &first, sizeof(k));
		allowed += ss_rl_allow(rl, &k, 7 * MS);
	}
	assert_int_equal(allowed, BURST);
	/* One entry for all of them: the table holds no other source. */
	for (uint32_t i = 0; i < SS_LOAD_SOURCE_SLOTS; i++)
		used += rl->slots[i].key.tag != SS_RL_TAG_NONE;
	assert_int_equal(used, 1);
	ss_rl_free(rl);
}

static void ipv6_other_64s_apart(void **state)
{
	ss_rl *rl = table(SS_LOAD_SOURCE_SLOTS);
	char text[64];

	(void)state;
	one_source_apart("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:3::1",
			 "2001:db8:1:1:ffff:ffff:ffff:ffff");
	/* A thousand /64s, each with a full burst. */
	for (int i = 0; i < 1000; i++) {
		snprintf(text, sizeof(text), "2001:db9:0:%x::1", i);
		for (int j = 0; j < BURST; j++)
			assert_true(allow(rl, text, 2 * MS));
	}
	ss_rl_free(rl);
}

/*
 * Decided: an IPv4-mapped IPv6 address is the IPv4 address (the tunnel stores every
 * address in that form), so each mapped address has its own bucket, shared with the same
 * address seen as AF_INET. IPv4 and IPv6 keys never collide (family tag).
 */
static void v4_mapped_is_ipv4(void **state)
{
	ss_rl_key v4 = key_of("0.0.0.0"), v6 = key_of("::");

	(void)state;
	one_source_apart("192.0.2.7", "::ffff:192.0.2.7", "::ffff:192.0.2.8", "::ffff:192.0.2.6");
	/* Nor is ::ffff:0:0/96 the ::/64: the same key value, another family. */
	one_source_apart("::ffff:0.0.0.0", "0.0.0.0", "::1", "::2:0:0:0:1");
	assert_int_not_equal(v4.tag, v6.tag);
	assert_int_equal(v4.val, v6.val);
}

/* Fill one set (a table of SS_RL_WAYS entries is one set) with known drain levels. */
static ss_rl *one_set(const char *const src[SS_RL_WAYS], const int takes[SS_RL_WAYS])
{
	ss_rl *rl = table(SS_RL_WAYS);

	for (int w = 0; w < SS_RL_WAYS; w++)
		for (int i = 0; i < takes[w]; i++)
			assert_true(allow(rl, src[w], 1 * MS));
	return rl;
}

static bool present(ss_rl *rl, const char *text)
{
	ss_rl_key k = key_of(text);

	return ss_rl_lookup(rl, &k, false) != NULL;
}

/* The rule: an empty way, else the fullest bucket (smallest tat); the first on a tie. */
static void eviction_rule(void **state)
{
	const char *const src[SS_RL_WAYS] = {"10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4"};
	const int takes[SS_RL_WAYS] = {4, 2, 5, 3};
	ss_rl *rl = one_set(src, takes);

	(void)state;
	for (int w = 0; w < SS_RL_WAYS; w++)
		assert_true(present(rl, src[w]));
	/* 10.1.0.2 (two tokens taken) is the fullest: it goes. */
	assert_true(allow(rl, "10.9.0.1", 1 * MS));
	assert_false(present(rl, "10.1.0.2"));
	assert_true(present(rl, "10.1.0.1") && present(rl, "10.1.0.3") && present(rl, "10.1.0.4"));
	/* Next the newcomer (one token taken), not the drained 10.1.0.3. */
	assert_true(allow(rl, "10.9.0.2", 1 * MS));
	assert_false(present(rl, "10.9.0.1"));
	/* A flood of new sources never pushes out a drained one, which stays refused. */
	for (int i = 0; i < 1000; i++) {
		char text[32];

		snprintf(text, sizeof(text), "172.16.%d.%d", i >> 8, i & 0xff);
		assert_true(allow(rl, text, 1 * MS));
	}
	assert_true(present(rl, "10.1.0.3"));
	assert_false(allow(rl, "10.1.0.3", 1 * MS));
	ss_rl_free(rl);
}

/* Full table: a new source is admitted with a full burst; memory does not change. */
static void table_full(void **state)
{
	const char *const src[SS_RL_WAYS] = {"10.2.0.1", "10.2.0.2", "10.2.0.3", "10.2.0.4"};
	const int takes[SS_RL_WAYS] = {5, 5, 5, 5};
	ss_rl *rl = one_set(src, takes);
	ss_rl_entry *slots = rl->slots;

	(void)state;
	for (int w = 0; w < SS_RL_WAYS; w++)
		assert_false(allow(rl, src[w], 1 * MS));
	for (int i = 0; i < BURST; i++)
		assert_true(allow(rl, "10.2.0.5", 1 * MS));
	assert_false(allow(rl, "10.2.0.5", 1 * MS));
	/* The evicted one (the first, on the tie) comes back with a full burst: lenient. */
	assert_false(present(rl, "10.2.0.1"));
	assert_true(allow(rl, "10.2.0.1", 1 * MS));
	assert_ptr_equal(rl->slots, slots);
	assert_int_equal(rl->mask, 0);
	ss_rl_free(rl);
}

static void names_and_bad_input(void **state)
{
	ss_rl *rl = table(64), *other = NULL;
	ss_rl_key a, b, c;
	ss_rl_entry store[8];
	ss_rl st;
	uint8_t addr[16] = {0};

	(void)state;
	ss_rl_key_name(rl, "handshake", &a);
	ss_rl_key_name(rl, "handshake", &b);
	ss_rl_key_name(rl, "handshakf", &c);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(a.tag, SS_RL_TAG_NAME);
	assert_int_not_equal(a.val, c.val);
	assert_int_equal(ss_rl_key_ip(&a, AF_UNIX, addr), SS_ERR_INVAL);
	assert_int_equal(ss_rl_init(&st, store, 6, RATE, BURST, &test_key), SS_ERR_INVAL);
	assert_int_equal(ss_rl_init(&st, store, 8, 0, BURST, &test_key), SS_ERR_INVAL);
	assert_int_equal(ss_rl_init(&st, store, 8, RATE, 0, &test_key), SS_ERR_INVAL);
	assert_int_equal(ss_rl_init(&st, store, 8, RATE, BURST, NULL), 0);
	assert_int_equal(ss_rl_create(&other, SS_RL_MAX_SLOTS + 1, RATE, BURST, NULL),
			 SS_ERR_INVAL);
	/* Rounded up to a power of two. */
	assert_int_equal(ss_rl_create(&other, 5, RATE, BURST, NULL), 0);
	assert_int_equal(other->mask, 1);
	ss_rl_free(other);
	ss_rl_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_refill),
		cmocka_unit_test(sustained_rate),
		cmocka_unit_test(ready_does_not_charge),
		cmocka_unit_test(ipv4_per_address),
		cmocka_unit_test(one_ipv6_64_one_bucket),
		cmocka_unit_test(ipv6_other_64s_apart),
		cmocka_unit_test(v4_mapped_is_ipv4),
		cmocka_unit_test(eviction_rule),
		cmocka_unit_test(table_full),
		cmocka_unit_test(names_and_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
