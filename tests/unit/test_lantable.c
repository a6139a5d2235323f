/* SPDX-License-Identifier: MIT */
/*
 * LAN discovery without a socket (lantable.h): which sources are on-link, and the
 * open-mode table of unknown identities, bounded, least recently heard replaced first,
 * expiring after SS_LAN_LIFETIME; and link-local flows, which keep their interface.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "helpers.h"
#include "lantable.h"
#include "transport.h"

#define SEC SS_NS_PER_SEC

static void v4(uint8_t out[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	static const uint8_t m[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memcpy(out, m, 12);
	out[12] = a;
	out[13] = b;
	out[14] = c;
	out[15] = d;
}

static void v6(uint8_t out[16], uint16_t first, uint8_t last)
{
	memset(out, 0, 16);
	out[0] = (uint8_t)(first >> 8);
	out[1] = (uint8_t)first;
	out[15] = last;
}

static void onlink(void **state)
{
	ss_lan_prefix p[2] = {{.ifindex = 2, .len = 96 + 24}, {.ifindex = 3, .len = 64}};
	uint8_t a[16];

	(void)state;
	v4(p[0].addr, 192, 168, 1, 0);
	v6(p[1].addr, 0x2001, 0);
	v4(a, 192, 168, 1, 77);
	assert_true(ss_lan_onlink(p, 2, 2, a));
	/* The right prefix on the wrong interface is not on-link. */
	assert_false(ss_lan_onlink(p, 2, 3, a));
	assert_false(ss_lan_onlink(p, 2, 0, a));
	v4(a, 192, 168, 2, 77);
	assert_false(ss_lan_onlink(p, 2, 2, a));
	v4(a, 10, 0, 0, 1);
	assert_false(ss_lan_onlink(p, 2, 2, a));
	/* Sources no host sends from. */
	v4(a, 0, 0, 0, 0);
	assert_false(ss_lan_onlink(p, 2, 2, a));
	v4(a, 255, 255, 255, 255);
	assert_false(ss_lan_onlink(p, 2, 2, a));
	v4(a, 224, 0, 0, 1);
	assert_false(ss_lan_onlink(p, 2, 2, a));
	/* IPv6: inside the /64 of its interface, or link-local with a scope. */
	v6(a, 0x2001, 9);
	assert_true(ss_lan_onlink(p, 2, 3, a));
	assert_false(ss_lan_onlink(p, 2, 2, a));
	v6(a, 0x2002, 9);
	assert_false(ss_lan_onlink(p, 2, 3, a));
	v6(a, 0xfe80, 9);
	assert_true(ss_lan_onlink(p, 2, 7, a));
	assert_true(ss_lan_onlink(NULL, 0, 7, a));
	assert_false(ss_lan_onlink(p, 2, 0, a));
	v6(a, 0xff02, 1);
	assert_false(ss_lan_onlink(p, 2, 3, a));
	v6(a, 0, 0);
	assert_false(ss_lan_onlink(p, 2, 3, a));
}

static void id_of(uint8_t id[SS_IDENTITY_LEN], unsigned n)
{
	memset(id, 0, SS_IDENTITY_LEN);
	memcpy(id, &n, sizeof(n));
}

static size_t count(const ss_lan_table *t)
{
	size_t n = 0;

	for (size_t i = 0; i < SS_LAN_OPEN_TABLE; i++)
		n += t->e[i].used;
	return n;
}

static const ss_lan_entry *find(const ss_lan_table *t, unsigned n)
{
	uint8_t id[SS_IDENTITY_LEN];

	id_of(id, n);
	for (size_t i = 0; i < SS_LAN_OPEN_TABLE; i++)
		if (t->e[i].used && !memcmp(t->e[i].identity, id, SS_IDENTITY_LEN))
			return &t->e[i];
	return NULL;
}

/* A flood of identities churns the table but never grows it; the oldest go first. */
static void bounded_lru(void **state)
{
	ss_lan_table *t = calloc(1, sizeof(*t));
	uint8_t id[SS_IDENTITY_LEN], a[16];
	uint64_t now = 1000 * SEC;

	(void)state;
	assert_non_null(t);
	v4(a, 192, 168, 1, 5);
	for (unsigned i = 0; i < SS_LAN_OPEN_TABLE; i++) {
		id_of(id, i);
		ss_lan_table_note(t, id, a, 51999, 2, now + i);
	}
	assert_int_equal(count(t), SS_LAN_OPEN_TABLE);
	/* Heard again: refreshed in place, address updated, first_ns kept. */
	id_of(id, 0);
	a[15] = 6;
	ss_lan_table_note(t, id, a, 4000, 2, now + 100);
	assert_int_equal(count(t), SS_LAN_OPEN_TABLE);
	assert_int_equal(find(t, 0)->port, 4000);
	assert_int_equal(find(t, 0)->addr[15], 6);
	assert_true(find(t, 0)->first_ns == now);
	/* A new one replaces the least recently heard: 1, not the refreshed 0. */
	id_of(id, 1000);
	ss_lan_table_note(t, id, a, 51999, 2, now + 101);
	assert_int_equal(count(t), SS_LAN_OPEN_TABLE);
	assert_non_null(find(t, 0));
	assert_null(find(t, 1));
	assert_non_null(find(t, 1000));
	for (unsigned i = 0; i < 10000; i++) {
		id_of(id, 2000 + i);
		ss_lan_table_note(t, id, a, 51999, 2, now + 200 + i);
	}
	assert_int_equal(count(t), SS_LAN_OPEN_TABLE);
	assert_non_null(find(t, 2000 + 9999));
	assert_null(find(t, 0));
	free(t);
}

static void expiry(void **state)
{
	ss_lan_table *t = calloc(1, sizeof(*t));
	uint8_t id[SS_IDENTITY_LEN], a[16];
	uint64_t now = 1000 * SEC;

	(void)state;
	assert_non_null(t);
	v4(a, 192, 168, 1, 5);
	id_of(id, 1);
	ss_lan_table_note(t, id, a, 51999, 2, now);
	id_of(id, 2);
	ss_lan_table_note(t, id, a, 51999, 2, now + 30 * SEC);
	assert_int_equal(ss_lan_table_expire(t, now + SS_LAN_LIFETIME - 1), 2);
	assert_int_equal(ss_lan_table_expire(t, now + SS_LAN_LIFETIME), 1);
	assert_null(find(t, 1));
	/* Heard again before its lifetime ends: it lives on from then. */
	ss_lan_table_note(t, id, a, 51999, 2, now + 100 * SEC);
	assert_int_equal(ss_lan_table_expire(t, now + 30 * SEC + SS_LAN_LIFETIME), 1);
	assert_int_equal(ss_lan_table_expire(t, now + 100 * SEC + SS_LAN_LIFETIME), 0);
	free(t);
}

/* A link-local flow keeps its interface both ways; any other flow has no scope. */
static void link_local_flow(void **state)
{
	struct sockaddr_in6 sa = {
		.sin6_family = AF_INET6, .sin6_port = htons(51002), .sin6_scope_id = 7};
	struct sockaddr_storage out;
	ss_flow f, g;
	char buf[80];

	(void)state;
	inet_pton(AF_INET6, "fe80::1", &sa.sin6_addr);
	ss_flow_from_sockaddr(&f, (struct sockaddr *)&sa, 51001, 17);
	assert_true(ss_flow_link_local(&f));
	assert_int_equal(ss_flow_to_sockaddr(&f, &out), sizeof(sa));
	assert_int_equal(((struct sockaddr_in6 *)&out)->sin6_scope_id, 7);
	ss_flow_format(&f, buf, sizeof(buf));
	assert_string_equal(buf, "[fe80::1%7]:51002");
	/* The same address on another link is another flow. */
	sa.sin6_scope_id = 8;
	ss_flow_from_sockaddr(&g, (struct sockaddr *)&sa, 51001, 17);
	assert_memory_not_equal(&f, &g, sizeof(f));
	inet_pton(AF_INET6, "fd00:9::2", &sa.sin6_addr);
	ss_flow_from_sockaddr(&g, (struct sockaddr *)&sa, 51001, 17);
	assert_false(ss_flow_link_local(&g));
	assert_int_equal(ss_flow_to_sockaddr(&g, &out), sizeof(sa));
	assert_int_equal(((struct sockaddr_in6 *)&out)->sin6_scope_id, 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(g.local_addr[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(onlink),
		cmocka_unit_test(bounded_lru),
		cmocka_unit_test(expiry),
		cmocka_unit_test(link_local_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
