/* SPDX-License-Identifier: MIT */
/* Cryptokey routing table: longest-prefix match against a brute-force reference model. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <silosec/error.h>

#include "allowedips.h"
#include "helpers.h"

/* Peers are only compared by address: any distinct objects will do. */
#define NPEERS 10000
static int peers[NPEERS];

static ss_allowedips *new_table(void)
{
	ss_allowedips *t;

	assert_int_equal(ss_allowedips_create(&t), 0);
	return t;
}

/* cmocka fixture: *state is an empty table, freed even when the test fails. */
static int table_setup(void **state)
{
	*state = new_table();
	return 0;
}

static int table_teardown(void **state)
{
	ss_allowedips_free(*state);
	return 0;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static unsigned max_prefix(int family)
{
	return family == AF_INET ? 32 : 128;
}

static void parse(int family, const char *text, uint8_t *addr)
{
	assert_int_equal(inet_pton(family, text, addr), 1);
}

static void insert(ss_allowedips *t, int family, const char *text, uint8_t prefix, void *peer)
{
	uint8_t addr[16];

	parse(family, text, addr);
	assert_int_equal(ss_allowedips_insert(t, family, addr, prefix, peer), 0);
}

static void *lookup(const ss_allowedips *t, int family, const char *text)
{
	uint8_t addr[16];

	parse(family, text, addr);
	return ss_allowedips_lookup(t, family, addr);
}

static void mask_addr(uint8_t *addr, size_t len, unsigned prefix)
{
	for (size_t i = 0; i < len; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * i : 0;

		addr[i] &= (uint8_t)(0xff00 >> keep);
	}
}

/* ---- what walk_peer reports ---- */

struct walked {
	int family;
	uint8_t addr[16];
	uint8_t prefix;
};

struct walk_log {
	struct walked *items;
	size_t n, cap;
};

static void walk_record(void *arg, int family, const uint8_t *addr, uint8_t prefix)
{
	struct walk_log *log = arg;

	if (log->n == log->cap) {
		log->cap = log->cap ? log->cap * 2 : 16;
		log->items = realloc(log->items, log->cap * sizeof(*log->items));
		assert_non_null(log->items);
	}
	memset(&log->items[log->n], 0, sizeof(log->items[0]));
	log->items[log->n].family = family;
	memcpy(log->items[log->n].addr, addr, addr_len(family));
	log->items[log->n].prefix = prefix;
	log->n++;
}

static struct walk_log walk(const ss_allowedips *t, const void *peer)
{
	struct walk_log log = {0};

	ss_allowedips_walk_peer(t, peer, walk_record, &log);
	return log;
}

/* How many prefixes peer owns in t. */
static size_t walk_count(const ss_allowedips *t, const void *peer)
{
	struct walk_log log = walk(t, peer);

	free(log.items);
	return log.n;
}

/* v4 before v6, shorter before longer, as the header promises. */
static void assert_walk_order(const struct walk_log *log)
{
	for (size_t i = 1; i < log->n; i++) {
		const struct walked *a = &log->items[i - 1], *b = &log->items[i];

		if (a->family == b->family)
			assert_true(a->prefix <= b->prefix);
		else
			assert_true(a->family == AF_INET && b->family == AF_INET6);
	}
}

static int walk_has(const struct walk_log *log, int family, const uint8_t *addr, uint8_t prefix)
{
	int found = 0;

	for (size_t i = 0; i < log->n; i++)
		if (log->items[i].family == family && log->items[i].prefix == prefix &&
		    !memcmp(log->items[i].addr, addr, addr_len(family)))
			found++;
	return found;
}

/* ---- reference model: a plain list, searched exhaustively ---- */

struct ref_entry {
	int family;
	uint8_t addr[16]; /* masked */
	uint8_t prefix;
	void *peer;
};

struct ref {
	struct ref_entry *e;
	size_t n;
};

static struct ref_entry *ref_find(const struct ref *r, int family, const uint8_t *masked,
				  uint8_t prefix)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->e[i].family == family && r->e[i].prefix == prefix &&
		    !memcmp(r->e[i].addr, masked, 16))
			return &r->e[i];
	return NULL;
}

static void ref_insert(struct ref *r, int family, const uint8_t *addr, uint8_t prefix, void *peer)
{
	uint8_t m[16] = {0};
	struct ref_entry *e;

	memcpy(m, addr, addr_len(family));
	mask_addr(m, 16, prefix);
	e = ref_find(r, family, m, prefix);
	if (!e) {
		r->e = realloc(r->e, (r->n + 1) * sizeof(*r->e));
		assert_non_null(r->e);
		e = &r->e[r->n++];
		e->family = family;
		memcpy(e->addr, m, 16);
		e->prefix = prefix;
	}
	e->peer = peer;
}

static int ref_remove(struct ref *r, int family, const uint8_t *addr, uint8_t prefix)
{
	uint8_t m[16] = {0};
	struct ref_entry *e;

	memcpy(m, addr, addr_len(family));
	mask_addr(m, 16, prefix);
	e = ref_find(r, family, m, prefix);
	if (!e)
		return SS_ERR_NOT_FOUND;
	*e = r->e[--r->n];
	return 0;
}

static void ref_remove_peer(struct ref *r, const void *peer)
{
	for (size_t i = 0; i < r->n;)
		if (r->e[i].peer == peer)
			r->e[i] = r->e[--r->n];
		else
			i++;
}

static void *ref_lookup(const struct ref *r, int family, const uint8_t *addr)
{
	const struct ref_entry *best = NULL;
	uint8_t m[16];

	for (size_t i = 0; i < r->n; i++) {
		if (r->e[i].family != family || (best && best->prefix >= r->e[i].prefix))
			continue;
		memset(m, 0, sizeof(m));
		memcpy(m, addr, addr_len(family));
		mask_addr(m, 16, r->e[i].prefix);
		if (!memcmp(m, r->e[i].addr, 16))
			best = &r->e[i];
	}
	return best ? best->peer : NULL;
}

/* Every peer's walk is exactly its entries in the model, each once, in order. */
static void ref_check_walks(const ss_allowedips *t, const struct ref *r, size_t npeers)
{
	size_t total = 0;

	for (size_t p = 0; p < npeers; p++) {
		struct walk_log log = walk(t, &peers[p]);

		assert_walk_order(&log);
		for (size_t i = 0; i < log.n; i++) {
			struct ref_entry *e = ref_find(r, log.items[i].family, log.items[i].addr,
						       log.items[i].prefix);

			assert_non_null(e);
			assert_ptr_equal(e->peer, &peers[p]);
			assert_int_equal(walk_has(&log, e->family, e->addr, e->prefix), 1);
		}
		total += log.n;
		free(log.items);
	}
	assert_int_equal(total, r->n);
}

/* ---- fast deterministic randomness for the model tests ---- */

static uint64_t rnd_state;

static void rnd_seed(const char *label)
{
	test_rng r;

	test_rng_init(&r, label);
	assert_int_equal(test_rng_fn(&r, (uint8_t *)&rnd_state, sizeof(rnd_state)), 0);
}

static uint64_t rnd(void)
{
	uint64_t z = (rnd_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static unsigned rnd_below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/*
 * Addresses near a few bases, so random prefixes nest and overlap instead of being
 * disjoint; prefix lengths cluster around a few values so lengths share tables.
 */
static void rnd_addr(int family, uint8_t *addr)
{
	size_t len = addr_len(family);

	for (size_t i = 0; i < len; i++)
		addr[i] = (uint8_t)rnd();
	switch (rnd_below(4)) {
	case 0:
		break;
	case 1:
		memset(addr, 0, len / 2);
		break;
	default:
		addr[0] = 10;
		addr[1] = (uint8_t)rnd_below(4);
		break;
	}
}

static uint8_t rnd_prefix(int family)
{
	static const uint8_t common4[] = {0, 8, 16, 24, 32};
	static const uint8_t common6[] = {0, 16, 32, 48, 64, 96, 128};

	if (rnd_below(3))
		return (uint8_t)rnd_below(max_prefix(family) + 1);
	if (family == AF_INET)
		return common4[rnd_below(sizeof(common4))];
	return common6[rnd_below(sizeof(common6))];
}

static void check_lookups(const ss_allowedips *t, const struct ref *r, int family, int count)
{
	uint8_t addr[16];

	for (int i = 0; i < count; i++) {
		/* Half the probes fall inside a stored prefix, host bits random. */
		if (r->n && rnd_below(2)) {
			const struct ref_entry *e = &r->e[rnd_below((unsigned)r->n)];

			rnd_addr(family, addr);
			if (e->family == family) {
				for (size_t b = 0; b < addr_len(family); b++) {
					uint8_t m[1] = {0xff};

					mask_addr(m, 1, e->prefix > 8 * b ? e->prefix - 8 * b : 0);
					addr[b] =
						(uint8_t)((e->addr[b] & m[0]) | (addr[b] & ~m[0]));
				}
			}
		} else {
			rnd_addr(family, addr);
		}
		assert_ptr_equal(ss_allowedips_lookup(t, family, addr),
				 ref_lookup(r, family, addr));
	}
}

static void model_run(const char *label, int ops, size_t npeers)
{
	ss_allowedips *t = new_table();
	struct ref r = {0};
	uint8_t addr[16];

	rnd_seed(label);
	for (int op = 0; op < ops; op++) {
		int family = rnd_below(2) ? AF_INET : AF_INET6;
		unsigned what = rnd_below(100);
		uint8_t prefix = rnd_prefix(family);
		void *peer = &peers[rnd_below((unsigned)npeers)];

		rnd_addr(family, addr);
		if (what < 60) {
			assert_int_equal(ss_allowedips_insert(t, family, addr, prefix, peer), 0);
			ref_insert(&r, family, addr, prefix, peer);
		} else if (what < 75 && r.n) {
			/* Remove something that exists, addressed with different host bits. */
			struct ref_entry e = r.e[rnd_below((unsigned)r.n)];

			memcpy(addr, e.addr, 16);
			if (e.prefix < max_prefix(e.family))
				addr[addr_len(e.family) - 1] |= 1;
			assert_int_equal(ss_allowedips_remove(t, e.family, addr, e.prefix), 0);
			assert_int_equal(ref_remove(&r, e.family, addr, e.prefix), 0);
		} else if (what < 90) {
			assert_int_equal(ss_allowedips_remove(t, family, addr, prefix),
					 ref_remove(&r, family, addr, prefix));
		} else if (what < 92) {
			ss_allowedips_remove_peer(t, peer);
			ref_remove_peer(&r, peer);
		} else {
			check_lookups(t, &r, AF_INET, 20);
			check_lookups(t, &r, AF_INET6, 20);
		}
	}
	check_lookups(t, &r, AF_INET, 2000);
	check_lookups(t, &r, AF_INET6, 2000);
	ref_check_walks(t, &r, npeers);
	ss_allowedips_free(t);
	free(r.e);
}

/* ---- tests ---- */

static void create_and_bad_arguments(void **state)
{
	uint8_t addr[16] = {10};
	ss_allowedips *t;

	(void)state;
	assert_int_equal(ss_allowedips_create(NULL), SS_ERR_INVAL);
	t = new_table();
	assert_null(ss_allowedips_lookup(t, AF_INET, addr));
	assert_null(ss_allowedips_lookup(t, AF_INET6, addr));
	assert_null(ss_allowedips_lookup(t, AF_UNIX, addr));
	assert_null(ss_allowedips_lookup(t, AF_INET, NULL));
	assert_null(ss_allowedips_lookup(NULL, AF_INET, addr));

	assert_int_equal(ss_allowedips_insert(t, AF_INET, addr, 33, &peers[0]), SS_ERR_INVAL);
	assert_int_equal(ss_allowedips_insert(t, AF_INET6, addr, 129, &peers[0]), SS_ERR_INVAL);
	assert_int_equal(ss_allowedips_insert(t, AF_UNIX, addr, 8, &peers[0]), SS_ERR_INVAL);
	assert_int_equal(ss_allowedips_insert(t, AF_INET, NULL, 8, &peers[0]), SS_ERR_INVAL);
	assert_int_equal(ss_allowedips_insert(t, AF_INET, addr, 8, NULL), SS_ERR_INVAL);
	assert_int_equal(ss_allowedips_insert(NULL, AF_INET, addr, 8, &peers[0]), SS_ERR_INVAL);
	assert_int_equal(ss_allowedips_remove(t, AF_INET, addr, 33), SS_ERR_INVAL);
	assert_int_equal(ss_allowedips_remove(t, AF_UNIX, addr, 8), SS_ERR_INVAL);
	assert_int_equal(ss_allowedips_remove(t, AF_INET, NULL, 8), SS_ERR_INVAL);
	assert_int_equal(ss_allowedips_remove(t, AF_INET, addr, 8), SS_ERR_NOT_FOUND);
	assert_null(ss_allowedips_lookup(t, AF_INET, addr));

	/* The longest legal prefixes work. */
	assert_int_equal(ss_allowedips_insert(t, AF_INET, addr, 32, &peers[1]), 0);
	assert_int_equal(ss_allowedips_insert(t, AF_INET6, addr, 128, &peers[2]), 0);
	assert_ptr_equal(ss_allowedips_lookup(t, AF_INET, addr), &peers[1]);
	assert_ptr_equal(ss_allowedips_lookup(t, AF_INET6, addr), &peers[2]);

	ss_allowedips_remove_peer(t, NULL);
	ss_allowedips_remove_peer(NULL, &peers[1]);
	ss_allowedips_walk_peer(t, &peers[1], NULL, NULL);
	ss_allowedips_walk_peer(NULL, &peers[1], walk_record, NULL);
	ss_allowedips_free(t);
	ss_allowedips_free(NULL);
}

/* Routes (peer index), then lookups and the peer index each must find (0: none). */
struct prefix_case {
	int family;
	const char *addr;
	uint8_t prefix;
	int peer;
};

static const struct prefix_case lpm_routes[] = {
	{AF_INET, "10.0.0.0", 8, 1},	       {AF_INET, "10.1.0.0", 16, 2},
	{AF_INET, "10.1.2.0", 24, 3},	       {AF_INET, "10.1.2.3", 32, 4},
	{AF_INET, "10.1.2.128", 25, 5},	       {AF_INET6, "2001:db8::", 32, 6},
	{AF_INET6, "2001:db8:1::", 48, 7},     {AF_INET6, "2001:db8:1:2::", 64, 8},
	{AF_INET6, "2001:db8:1:2::1", 128, 9}, {AF_INET6, "2001:db8:1:2:8000::", 65, 10},
};

static const struct prefix_case lpm_lookups[] = {
	{AF_INET, "10.200.0.1", 0, 1},
	{AF_INET, "10.1.200.1", 0, 2},
	{AF_INET, "10.1.2.4", 0, 3},
	{AF_INET, "10.1.2.3", 0, 4},
	{AF_INET, "10.1.2.200", 0, 5},
	{AF_INET, "11.0.0.1", 0, 0},
	{AF_INET, "9.255.255.255", 0, 0},
	{AF_INET6, "2001:db8:ffff::1", 0, 6},
	{AF_INET6, "2001:db8:1:ffff::1", 0, 7},
	{AF_INET6, "2001:db8:1:2::2", 0, 8},
	{AF_INET6, "2001:db8:1:2::1", 0, 9},
	{AF_INET6, "2001:db8:1:2:ffff::1", 0, 10},
	{AF_INET6, "2001:db9::1", 0, 0},
	/* Families are separate: 10.0.0.0/8 says nothing about ::ffff:10.0.0.1 or 0a00::. */
	{AF_INET6, "::ffff:10.0.0.1", 0, 0},
	{AF_INET6, "a00::1", 0, 0},
};

static void longest_prefix_wins(void **state)
{
	ss_allowedips *t = *state;

	for (size_t i = 0; i < sizeof(lpm_routes) / sizeof(lpm_routes[0]); i++) {
		const struct prefix_case *c = &lpm_routes[i];

		insert(t, c->family, c->addr, c->prefix, &peers[c->peer]);
	}
	for (size_t i = 0; i < sizeof(lpm_lookups) / sizeof(lpm_lookups[0]); i++) {
		const struct prefix_case *c = &lpm_lookups[i];
		void *got = lookup(t, c->family, c->addr);

		if (got != (c->peer ? &peers[c->peer] : NULL))
			fail_msg("%s: found peer %td, want %d", c->addr,
				 got ? (int *)got - peers : -1, c->peer);
	}
}

static void host_bits_are_masked(void **state)
{
	ss_allowedips *t = *state;
	uint8_t want4[4], want6[16];
	struct walk_log log;

	insert(t, AF_INET, "10.1.2.3", 8, &peers[1]);
	insert(t, AF_INET, "192.168.77.77", 20, &peers[1]);
	insert(t, AF_INET6, "2001:db8:abcd:ef01:2345:6789:abcd:ef01", 35, &peers[1]);
	assert_ptr_equal(lookup(t, AF_INET, "10.99.99.99"), &peers[1]);
	assert_ptr_equal(lookup(t, AF_INET, "192.168.64.1"), &peers[1]);
	assert_ptr_equal(lookup(t, AF_INET, "192.168.79.255"), &peers[1]);
	assert_null(lookup(t, AF_INET, "192.168.80.0"));
	assert_ptr_equal(lookup(t, AF_INET6, "2001:db8:b000::"), &peers[1]);
	assert_null(lookup(t, AF_INET6, "2001:db8:c000::"));

	log = walk(t, &peers[1]);
	assert_int_equal(log.n, 3);
	parse(AF_INET, "10.0.0.0", want4);
	assert_int_equal(walk_has(&log, AF_INET, want4, 8), 1);
	parse(AF_INET, "192.168.64.0", want4);
	assert_int_equal(walk_has(&log, AF_INET, want4, 20), 1);
	parse(AF_INET6, "2001:db8:a000::", want6);
	assert_int_equal(walk_has(&log, AF_INET6, want6, 35), 1);
	free(log.items);

	/* The same prefix spelled with other host bits is the same entry. */
	insert(t, AF_INET, "10.255.0.1", 8, &peers[2]);
	assert_ptr_equal(lookup(t, AF_INET, "10.1.2.3"), &peers[2]);
	parse(AF_INET, "10.7.7.7", want4);
	assert_int_equal(ss_allowedips_remove(t, AF_INET, want4, 8), 0);
	assert_null(lookup(t, AF_INET, "10.1.2.3"));
}

static void default_routes(void **state)
{
	ss_allowedips *t = *state;
	uint8_t any[16] = {0};

	insert(t, AF_INET, "1.2.3.4", 0, &peers[1]);
	assert_ptr_equal(lookup(t, AF_INET, "0.0.0.0"), &peers[1]);
	assert_ptr_equal(lookup(t, AF_INET, "255.255.255.255"), &peers[1]);
	assert_null(lookup(t, AF_INET6, "::"));
	insert(t, AF_INET6, "::", 0, &peers[2]);
	assert_ptr_equal(lookup(t, AF_INET6, "ffff::1"), &peers[2]);
	assert_ptr_equal(lookup(t, AF_INET, "8.8.8.8"), &peers[1]);

	/* A more specific route beats the default; the default catches the rest. */
	insert(t, AF_INET, "10.0.0.0", 8, &peers[3]);
	assert_ptr_equal(lookup(t, AF_INET, "10.0.0.1"), &peers[3]);
	assert_ptr_equal(lookup(t, AF_INET, "11.0.0.1"), &peers[1]);

	/* Moving the default to another peer. */
	insert(t, AF_INET, "0.0.0.0", 0, &peers[4]);
	assert_ptr_equal(lookup(t, AF_INET, "11.0.0.1"), &peers[4]);
	assert_ptr_equal(lookup(t, AF_INET, "10.0.0.1"), &peers[3]);

	assert_int_equal(ss_allowedips_remove(t, AF_INET, any, 0), 0);
	assert_null(lookup(t, AF_INET, "11.0.0.1"));
	assert_ptr_equal(lookup(t, AF_INET, "10.0.0.1"), &peers[3]);
	assert_int_equal(ss_allowedips_remove(t, AF_INET, any, 0), SS_ERR_NOT_FOUND);
	assert_ptr_equal(lookup(t, AF_INET6, "ffff::1"), &peers[2]);
}

static void insert_replaces_owner(void **state)
{
	ss_allowedips *t = *state;

	insert(t, AF_INET, "10.0.0.0", 24, &peers[1]);
	insert(t, AF_INET, "10.0.1.0", 24, &peers[1]);
	insert(t, AF_INET, "10.0.0.0", 24, &peers[2]);
	assert_ptr_equal(lookup(t, AF_INET, "10.0.0.9"), &peers[2]);
	assert_ptr_equal(lookup(t, AF_INET, "10.0.1.9"), &peers[1]);
	assert_int_equal(walk_count(t, &peers[1]), 1);
	assert_int_equal(walk_count(t, &peers[2]), 1);

	/* Inserting again for the same owner changes nothing, in particular adds no copy. */
	insert(t, AF_INET, "10.0.0.0", 24, &peers[2]);
	assert_int_equal(walk_count(t, &peers[2]), 1);

	/* The old owner leaving does not take the moved prefix with it. */
	ss_allowedips_remove_peer(t, &peers[1]);
	assert_ptr_equal(lookup(t, AF_INET, "10.0.0.9"), &peers[2]);
	assert_null(lookup(t, AF_INET, "10.0.1.9"));
}

static void remove_one_and_peer(void **state)
{
	ss_allowedips *t = *state;
	uint8_t addr[16];

	insert(t, AF_INET, "10.0.0.0", 8, &peers[1]);
	insert(t, AF_INET, "10.1.0.0", 16, &peers[2]);
	insert(t, AF_INET6, "fd00::", 8, &peers[1]);
	insert(t, AF_INET6, "fd00:1::", 32, &peers[2]);
	insert(t, AF_INET6, "fd00:1::7", 128, &peers[1]);

	/* Removing needs the exact length: a longer or shorter one is another prefix. */
	parse(AF_INET, "10.1.0.0", addr);
	assert_int_equal(ss_allowedips_remove(t, AF_INET, addr, 17), SS_ERR_NOT_FOUND);
	assert_int_equal(ss_allowedips_remove(t, AF_INET, addr, 15), SS_ERR_NOT_FOUND);
	assert_int_equal(ss_allowedips_remove(t, AF_INET, addr, 16), 0);
	assert_int_equal(ss_allowedips_remove(t, AF_INET, addr, 16), SS_ERR_NOT_FOUND);
	assert_ptr_equal(lookup(t, AF_INET, "10.1.0.1"), &peers[1]);

	ss_allowedips_remove_peer(t, &peers[3]); /* owns nothing */
	ss_allowedips_remove_peer(t, &peers[1]);
	assert_null(lookup(t, AF_INET, "10.1.0.1"));
	assert_null(lookup(t, AF_INET6, "fd00::1"));
	assert_ptr_equal(lookup(t, AF_INET6, "fd00:1::7"), &peers[2]);
	assert_int_equal(walk_count(t, &peers[1]), 0);
	assert_int_equal(walk_count(t, &peers[2]), 1);

	/* Emptied lengths are usable again. */
	insert(t, AF_INET, "10.0.0.0", 8, &peers[3]);
	assert_ptr_equal(lookup(t, AF_INET, "10.1.0.1"), &peers[3]);
}

static void walk_order(void **state)
{
	static const struct {
		int family;
		const char *addr;
		uint8_t prefix;
	} routes[] = {
		{AF_INET6, "2001:db8::1", 128},
		{AF_INET, "10.1.2.3", 32},
		{AF_INET6, "::", 0},
		{AF_INET, "10.1.0.0", 16},
		{AF_INET6, "2001:db8::", 32},
		{AF_INET, "0.0.0.0", 0},
		{AF_INET, "10.9.0.0", 16},
		{AF_INET6, "2001:db8:1::", 64},
		{AF_INET, "172.16.0.0", 12},
		{AF_INET6, "2001:db8:2::", 64},
	};
	static const int order_family[] = {AF_INET,  AF_INET,  AF_INET,	 AF_INET,  AF_INET,
					   AF_INET6, AF_INET6, AF_INET6, AF_INET6, AF_INET6};
	static const uint8_t order_prefix[] = {0, 12, 16, 16, 32, 0, 32, 64, 64, 128};
	ss_allowedips *t = *state;
	uint8_t addr[16];
	struct walk_log log;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		insert(t, routes[i].family, routes[i].addr, routes[i].prefix, &peers[1]);
	insert(t, AF_INET, "10.3.0.0", 16, &peers[2]);
	log = walk(t, &peers[1]);
	assert_int_equal(log.n, 10);
	for (size_t i = 0; i < log.n; i++) {
		assert_int_equal(log.items[i].family, order_family[i]);
		assert_int_equal(log.items[i].prefix, order_prefix[i]);
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		parse(routes[i].family, routes[i].addr, addr);
		assert_int_equal(walk_has(&log, routes[i].family, addr, routes[i].prefix), 1);
	}
	free(log.items);
}

static void model_v4_and_v6(void **state)
{
	(void)state;
	model_run("allowedips model few peers", 20000, 8);
	model_run("allowedips model many peers", 20000, 500);
}

/* Many entries in few lengths: tables grow, shrink and delete inside long probe runs. */
static void model_churn(void **state)
{
	ss_allowedips *t = new_table();
	struct ref r = {0};
	uint8_t addr[16];

	(void)state;
	rnd_seed("allowedips churn");
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 3000; i++) {
			int family = i % 2 ? AF_INET : AF_INET6;
			uint8_t prefix = family == AF_INET ? 32 : 128;
			void *peer = &peers[rnd_below(64)];

			rnd_addr(family, addr);
			if (i % 7 == 0)
				prefix = family == AF_INET ? 24 : 64;
			assert_int_equal(ss_allowedips_insert(t, family, addr, prefix, peer), 0);
			ref_insert(&r, family, addr, prefix, peer);
		}
		check_lookups(t, &r, AF_INET, 1000);
		check_lookups(t, &r, AF_INET6, 1000);
		/* Take most peers out again, so the tables shrink. */
		for (int p = 0; p < 60; p++) {
			ss_allowedips_remove_peer(t, &peers[(p + round) % 64]);
			ref_remove_peer(&r, &peers[(p + round) % 64]);
		}
		check_lookups(t, &r, AF_INET, 1000);
		check_lookups(t, &r, AF_INET6, 1000);
	}
	ref_check_walks(t, &r, 64);
	ss_allowedips_free(t);
	free(r.e);
}

static void ten_thousand_peers(void **state)
{
	ss_allowedips *t = *state;
	uint8_t addr4[4], addr6[16] = {0xfd, 0x00, 0x51, 0x10};

	/* Each peer: 10.x.y.0/24 (hub-and-spoke LAN) and fd00:5110::x:y/128. */
	for (unsigned i = 0; i < NPEERS; i++) {
		addr4[0] = 10;
		addr4[1] = (uint8_t)(i >> 8);
		addr4[2] = (uint8_t)i;
		addr4[3] = 0;
		addr6[14] = (uint8_t)(i >> 8);
		addr6[15] = (uint8_t)i;
		assert_int_equal(ss_allowedips_insert(t, AF_INET, addr4, 24, &peers[i]), 0);
		assert_int_equal(ss_allowedips_insert(t, AF_INET6, addr6, 128, &peers[i]), 0);
	}
	insert(t, AF_INET, "10.0.0.0", 8, &peers[0]);
	for (unsigned i = 0; i < NPEERS; i++) {
		addr4[1] = (uint8_t)(i >> 8);
		addr4[2] = (uint8_t)i;
		addr4[3] = (uint8_t)(i * 7);
		addr6[14] = (uint8_t)(i >> 8);
		addr6[15] = (uint8_t)i;
		assert_ptr_equal(ss_allowedips_lookup(t, AF_INET, addr4), &peers[i]);
		assert_ptr_equal(ss_allowedips_lookup(t, AF_INET6, addr6), &peers[i]);
	}
	assert_ptr_equal(lookup(t, AF_INET, "10.200.0.1"), &peers[0]);
	assert_null(lookup(t, AF_INET6, "fd00:5110::1:0:0"));

	/* Every odd peer leaves; the /8 takes over their /24s. */
	for (unsigned i = 1; i < NPEERS; i += 2)
		ss_allowedips_remove_peer(t, &peers[i]);
	for (unsigned i = 0; i < NPEERS; i++) {
		addr4[1] = (uint8_t)(i >> 8);
		addr4[2] = (uint8_t)i;
		addr6[14] = (uint8_t)(i >> 8);
		addr6[15] = (uint8_t)i;
		assert_ptr_equal(ss_allowedips_lookup(t, AF_INET, addr4), &peers[i % 2 ? 0 : i]);
		if (i % 2)
			assert_null(ss_allowedips_lookup(t, AF_INET6, addr6));
		else
			assert_ptr_equal(ss_allowedips_lookup(t, AF_INET6, addr6), &peers[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_and_bad_arguments),
		cmocka_unit_test_setup_teardown(longest_prefix_wins, table_setup, table_teardown),
		cmocka_unit_test_setup_teardown(host_bits_are_masked, table_setup, table_teardown),
		cmocka_unit_test_setup_teardown(default_routes, table_setup, table_teardown),
		cmocka_unit_test_setup_teardown(insert_replaces_owner, table_setup, table_teardown),
		cmocka_unit_test_setup_teardown(remove_one_and_peer, table_setup, table_teardown),
		cmocka_unit_test_setup_teardown(walk_order, table_setup, table_teardown),
		cmocka_unit_test(model_v4_and_v6),
		cmocka_unit_test(model_churn),
		cmocka_unit_test_setup_teardown(ten_thousand_peers, table_setup, table_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
