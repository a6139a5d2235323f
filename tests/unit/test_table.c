/* SPDX-License-Identifier: MIT */
/*
 * The fixed-size hash table in table.c: linear probing, several entries per key, and
 * backward-shift deletion. Home slots are learned through the public API (the slot a
 * key lands in when the table is empty), so the tests can build colliding probe runs
 * without copying the hash function.
 */
#include <stdlib.h>
#include <string.h>

#include <silosec/error.h>

#include "helpers.h"
#include "internal.h"

#define SEED UINT64_C(0x5eed5eed12345678)

static uint32_t capacity(const ss_table *t)
{
	return t->mask + 1;
}

/* The home slot of key: where it lands in an empty table of the same shape. */
static uint32_t home_of(ss_table *scratch, uint64_t key)
{
	static char token;
	uint32_t pos = UINT32_MAX;

	assert_int_equal(scratch->count, 0);
	assert_int_equal(ss_table_insert(scratch, key, &token, 0), 0);
	assert_non_null(ss_table_next(scratch, key, &pos));
	ss_table_remove(scratch, key, &token, 0);
	assert_int_equal(scratch->count, 0);
	return pos;
}

/* Find the slot holding (key, val, aux), or NULL. */
static ss_table_slot *find(const ss_table *t, uint64_t key, const void *val, uint32_t aux)
{
	uint32_t pos = UINT32_MAX;
	ss_table_slot *s;

	while ((s = ss_table_next(t, key, &pos)))
		if (s->val == val && s->aux == aux)
			return s;
	return NULL;
}

static unsigned count_key(const ss_table *t, uint64_t key)
{
	uint32_t pos = UINT32_MAX;
	unsigned n = 0;

	while (ss_table_next(t, key, &pos))
		n++;
	return n;
}

/*
 * The linear-probing invariant that backward shift must preserve: every entry sits
 * at the end of an unbroken run of occupied slots starting at its home.
 */
static void check_invariant(const ss_table *t, ss_table *scratch)
{
	uint32_t used = 0;

	for (uint32_t i = 0; i <= t->mask; i++) {
		uint32_t h;

		if (!t->slots[i].val)
			continue;
		used++;
		h = home_of(scratch, t->slots[i].key);
		for (uint32_t j = h; j != i; j = (j + 1) & t->mask)
			assert_non_null(t->slots[j].val);
	}
	assert_int_equal(used, t->count);
}

static void table_sizes_and_full(void **state)
{
	static const uint32_t sizes[] = {1, 2, 7, 8, 9, 16, 17, 100, 1000, 4096};
	static char tokens[4097];

	(void)state;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint32_t max = sizes[k], n = 0;
		ss_table t;

		assert_int_equal(ss_table_init(&t, max, SEED), 0);
		/* Power of two, at least 16 and at least twice the requested entries. */
		assert_int_equal(capacity(&t) & (capacity(&t) - 1), 0);
		assert_true(capacity(&t) >= 16);
		assert_true(capacity(&t) >= 2 * max);
		assert_int_equal(t.count, 0);

		/* Inserts succeed until the table is half full, then SS_ERR_FULL. */
		while (ss_table_insert(&t, n * UINT64_C(0x100000001), &tokens[n], n) == 0)
			n++;
		assert_int_equal(n, capacity(&t) / 2);
		assert_true(n >= max);
		assert_int_equal(t.count, n);
		assert_int_equal(ss_table_insert(&t, 999999, &tokens[0], 0), SS_ERR_FULL);
		assert_int_equal(t.count, n);
		for (uint32_t i = 0; i < n; i++)
			assert_non_null(find(&t, i * UINT64_C(0x100000001), &tokens[i], i));
		assert_null(ss_table_next(&t, 999999, &(uint32_t){UINT32_MAX}));

		/* One removal makes room for exactly one more. */
		ss_table_remove(&t, 0, &tokens[0], 0);
		assert_int_equal(t.count, n - 1);
		assert_null(find(&t, 0, &tokens[0], 0));
		assert_int_equal(ss_table_insert(&t, 999999, &tokens[0], 7), 0);
		assert_int_equal(ss_table_insert(&t, 1000000, &tokens[1], 7), SS_ERR_FULL);
		assert_non_null(find(&t, 999999, &tokens[0], 7));
		ss_table_free(&t);
		assert_null(t.slots);
	}
}

static void table_many_keys(void **state)
{
	enum { N = 5000 };
	uint64_t *keys = calloc(N, sizeof(*keys));
	static char tokens[N];
	ss_table t;
	test_rng r;

	(void)state;
	assert_non_null(keys);
	test_rng_init(&r, "table many");
	assert_int_equal(ss_table_init(&t, N, SEED), 0);
	for (int i = 0; i < N; i++) {
		/* Distinct keys (sequential high half), random low half. */
		keys[i] = (uint64_t)i << 40 | (test_rnd64(&r) & 0xffffffffff);
		assert_int_equal(ss_table_insert(&t, keys[i], &tokens[i], (uint32_t)i), 0);
	}
	assert_int_equal(t.count, N);
	for (int i = 0; i < N; i++) {
		uint32_t pos = UINT32_MAX;
		ss_table_slot *s = ss_table_next(&t, keys[i], &pos);

		assert_non_null(s);
		assert_int_equal(s->key, keys[i]);
		assert_ptr_equal(s->val, &tokens[i]);
		assert_int_equal(s->aux, i);
		assert_ptr_equal(s, &t.slots[pos]);
		assert_null(ss_table_next(&t, keys[i], &pos));
	}
	/* Keys never inserted. */
	for (int i = 0; i < 1000; i++) {
		uint32_t pos = UINT32_MAX;

		assert_null(ss_table_next(&t, (uint64_t)(N + i) << 40 | (uint64_t)i, &pos));
	}
	/* Remove every other one; the rest stay. */
	for (int i = 0; i < N; i += 2)
		ss_table_remove(&t, keys[i], &tokens[i], (uint32_t)i);
	assert_int_equal(t.count, N / 2);
	for (int i = 0; i < N; i++)
		assert_true((find(&t, keys[i], &tokens[i], (uint32_t)i) != NULL) == (i % 2 == 1));
	ss_table_free(&t);
	free(keys);
}

static void table_duplicate_keys(void **state)
{
	static char tokens[8];
	ss_table t;
	uint32_t pos;
	ss_table_slot *s;
	unsigned seen;

	(void)state;
	assert_int_equal(ss_table_init(&t, 32, SEED), 0);
	/* One key, five values, interleaved with other keys. */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(ss_table_insert(&t, 42, &tokens[i], (uint32_t)(100 + i)), 0);
		assert_int_equal(ss_table_insert(&t, 1000 + (uint64_t)i, &tokens[i], 0), 0);
	}
	/* Same key and value, another aux. */
	assert_int_equal(ss_table_insert(&t, 42, &tokens[0], 7), 0);

	seen = 0;
	pos = UINT32_MAX;
	while ((s = ss_table_next(&t, 42, &pos))) {
		int i = (int)((char *)s->val - tokens);

		assert_int_equal(s->key, 42);
		assert_true(i >= 0 && i < 5);
		if (s->aux == 7) {
			assert_int_equal(i, 0);
			seen |= 1u << 5;
		} else {
			assert_int_equal(s->aux, 100 + i);
			assert_false(seen & 1u << i);
			seen |= 1u << i;
		}
	}
	assert_int_equal(seen, 0x3f);
	/* The iterator stays NULL once exhausted. */
	assert_null(ss_table_next(&t, 42, &pos));

	/* Remove the middle value: the others still iterate. */
	ss_table_remove(&t, 42, &tokens[2], 102);
	assert_int_equal(count_key(&t, 42), 5);
	assert_null(find(&t, 42, &tokens[2], 102));
	/* Removal matches the aux too: (42, tokens[0], 7) and (42, tokens[0], 100) differ. */
	ss_table_remove(&t, 42, &tokens[0], 7);
	assert_non_null(find(&t, 42, &tokens[0], 100));
	assert_null(find(&t, 42, &tokens[0], 7));
	/* Removing what is not there changes nothing. */
	ss_table_remove(&t, 42, &tokens[0], 7);
	ss_table_remove(&t, 42, &tokens[6], 100);
	ss_table_remove(&t, 43, &tokens[0], 100);
	assert_int_equal(count_key(&t, 42), 4);
	assert_int_equal(t.count, 9);
	for (int i = 0; i < 5; i++)
		assert_non_null(find(&t, 1000 + (uint64_t)i, &tokens[i], 0));

	/* Exact duplicates are two entries; each remove takes one. */
	assert_int_equal(ss_table_insert(&t, 42, &tokens[1], 101), 0);
	assert_int_equal(count_key(&t, 42), 5);
	ss_table_remove(&t, 42, &tokens[1], 101);
	assert_non_null(find(&t, 42, &tokens[1], 101));
	ss_table_remove(&t, 42, &tokens[1], 101);
	assert_null(find(&t, 42, &tokens[1], 101));
	assert_int_equal(count_key(&t, 42), 3);
	ss_table_free(&t);
}

/* Gather keys whose home is want, from a sequence of candidates. */
static unsigned keys_with_home(ss_table *scratch, uint32_t want, uint64_t *out, unsigned n,
			       uint64_t *next_candidate)
{
	unsigned got = 0;

	for (unsigned tries = 0; got < n && tries < 1000000; tries++) {
		uint64_t k = (*next_candidate)++;

		if (home_of(scratch, k) == want)
			out[got++] = k;
	}
	return got;
}

static void table_probe_chains(void **state)
{
	static const uint32_t starts[] = {0, 5, 30, 60, 61, 62, 63};
	static char tokens[64];
	ss_table t, scratch;

	(void)state;
	assert_int_equal(ss_table_init(&t, 32, SEED), 0);
	assert_int_equal(ss_table_init(&scratch, 32, SEED), 0);
	assert_int_equal(capacity(&t), 64);

	/*
	 * For several starting homes (including the last slots, so runs wrap to slot 0):
	 * A keys with home h, B keys with home h+1, C keys with home h+3, interleaved into
	 * one long run. Then remove each member in turn from a fresh copy and check every
	 * other member is still found and the run is intact.
	 */
	for (size_t si = 0; si < sizeof(starts) / sizeof(starts[0]); si++) {
		uint32_t h = starts[si];
		uint64_t a[4], b[3], c[3], cand = 1, order[10];
		void *vals[10];
		unsigned n = 0;

		assert_int_equal(keys_with_home(&scratch, h, a, 4, &cand), 4);
		assert_int_equal(keys_with_home(&scratch, (h + 1) & t.mask, b, 3, &cand), 3);
		assert_int_equal(keys_with_home(&scratch, (h + 3) & t.mask, c, 3, &cand), 3);
		order[n++] = a[0];
		order[n++] = b[0];
		order[n++] = a[1];
		order[n++] = c[0];
		order[n++] = b[1];
		order[n++] = a[2];
		order[n++] = c[1];
		order[n++] = b[2];
		order[n++] = a[3];
		order[n++] = c[2];

		for (unsigned victim = 0; victim < n; victim++) {
			assert_int_equal(t.count, 0);
			for (unsigned i = 0; i < n; i++) {
				vals[i] = &tokens[i];
				assert_int_equal(ss_table_insert(&t, order[i], vals[i], i), 0);
			}
			/* One run of n slots from h. */
			for (unsigned i = 0; i < n; i++)
				assert_non_null(t.slots[(h + i) & t.mask].val);
			assert_null(t.slots[(h + n) & t.mask].val);
			check_invariant(&t, &scratch);

			ss_table_remove(&t, order[victim], vals[victim], victim);
			assert_int_equal(t.count, n - 1);
			assert_null(find(&t, order[victim], vals[victim], victim));
			for (unsigned i = 0; i < n; i++)
				if (i != victim)
					assert_non_null(find(&t, order[i], vals[i], i));
			check_invariant(&t, &scratch);
			/* Shifted back: the run is one shorter, with no hole in it. */
			for (unsigned i = 0; i < n - 1; i++)
				assert_non_null(t.slots[(h + i) & t.mask].val);
			assert_null(t.slots[(h + n - 1) & t.mask].val);

			for (unsigned i = 0; i < n; i++)
				if (i != victim)
					ss_table_remove(&t, order[i], vals[i], i);
		}
	}
	ss_table_free(&scratch);
	ss_table_free(&t);
}

/* ---- randomized comparison against a reference array ---- */

typedef struct ref_entry {
	uint64_t key;
	void *val;
	uint32_t aux;
} ref_entry;

static void compare(const ss_table *t, const ref_entry *ref, size_t nref, const uint64_t *pool,
		    size_t npool)
{
	assert_int_equal(t->count, nref);
	for (size_t k = 0; k < npool; k++) {
		unsigned want = 0;

		for (size_t i = 0; i < nref; i++)
			if (ref[i].key == pool[k])
				want++;
		assert_int_equal(count_key(t, pool[k]), want);
	}
	for (size_t i = 0; i < nref; i++) {
		unsigned dup = 0, found = 0;
		uint32_t pos = UINT32_MAX;
		ss_table_slot *s;

		/* Multiset equality: as many matching slots as matching reference entries. */
		for (size_t j = 0; j < nref; j++)
			if (ref[j].key == ref[i].key && ref[j].val == ref[i].val &&
			    ref[j].aux == ref[i].aux)
				dup++;
		while ((s = ss_table_next(t, ref[i].key, &pos)))
			if (s->val == ref[i].val && s->aux == ref[i].aux)
				found++;
		assert_int_equal(found, dup);
	}
}

/* A random walk's table, its reference copy and its key pool. */
struct walk {
	ss_table t, scratch;
	ref_entry *ref;
	uint64_t *pool;
	size_t npool, nref, full_hits, max_seen;
};

static char walk_tokens[16];

/* A key pool crowded onto few homes: half on four adjacent homes, half anywhere. */
static void walk_pool(struct walk *w, test_rng *r)
{
	uint32_t base = (uint32_t)test_rnd64(r) & w->t.mask;
	uint64_t cand = 1;
	size_t n = 0;

	while (n < w->npool / 2) {
		uint32_t want = (base + (uint32_t)(n % 4)) & w->t.mask;

		assert_int_equal(keys_with_home(&w->scratch, want, &w->pool[n], 1, &cand), 1);
		n++;
	}
	for (; n < w->npool; n++)
		w->pool[n] = test_rnd64(r);
}

/* One random operation on the table and the reference alike. */
static void walk_step(struct walk *w, uint64_t x)
{
	unsigned kind = (unsigned)(x % 100);
	uint64_t y = x >> 8;

	if (kind < 55) {
		/* Insert; a few (key, val) collisions happen on purpose (few tokens). */
		ref_entry e = {
			.key = w->pool[y % w->npool],
			.val = &walk_tokens[(y >> 16) % sizeof(walk_tokens)],
			.aux = (uint32_t)((y >> 24) % 4),
		};
		int ret = ss_table_insert(&w->t, e.key, e.val, e.aux);

		if (w->nref < capacity(&w->t) / 2) {
			assert_int_equal(ret, 0);
			w->ref[w->nref++] = e;
		} else {
			assert_int_equal(ret, SS_ERR_FULL);
			w->full_hits++;
		}
	} else if (kind < 90 && w->nref > 0) {
		/* Remove an existing entry (the first matching one in the reference). */
		size_t i = y % w->nref;
		ref_entry e = w->ref[i];

		ss_table_remove(&w->t, e.key, e.val, e.aux);
		w->ref[i] = w->ref[--w->nref];
	} else {
		/* Remove something absent: a pool key with an aux never used. */
		ss_table_remove(&w->t, w->pool[y % w->npool], &walk_tokens[0], 99);
	}
	if (w->nref > w->max_seen)
		w->max_seen = w->nref;
}

/* ops random operations; a full comparison every `every` of them. */
static void run_random(const char *label, uint32_t max_entries, size_t npool, int ops, int every)
{
	struct walk w = {.npool = npool};
	test_rng r;

	test_rng_init(&r, label);
	assert_int_equal(ss_table_init(&w.t, max_entries, SEED), 0);
	assert_int_equal(ss_table_init(&w.scratch, max_entries, SEED), 0);
	w.ref = calloc(capacity(&w.t), sizeof(*w.ref));
	w.pool = calloc(npool, sizeof(*w.pool));
	assert_non_null(w.ref);
	assert_non_null(w.pool);
	walk_pool(&w, &r);
	for (int op = 0; op < ops; op++) {
		walk_step(&w, test_rnd64(&r));
		if (op % every == 0 || w.nref == capacity(&w.t) / 2)
			compare(&w.t, w.ref, w.nref, w.pool, npool);
		if (op % 97 == 0)
			check_invariant(&w.t, &w.scratch);
	}
	compare(&w.t, w.ref, w.nref, w.pool, npool);
	check_invariant(&w.t, &w.scratch);
	print_message("%s: capacity %u, %zu ops hit SS_ERR_FULL, peak %zu entries\n", label,
		      capacity(&w.t), w.full_hits, w.max_seen);
	/* The walk reached the load limit. */
	assert_true(w.full_hits > 0);

	free(w.pool);
	free(w.ref);
	ss_table_free(&w.scratch);
	ss_table_free(&w.t);
}

static void table_random_vs_reference(void **state)
{
	(void)state;
	run_random("table small", 8, 12, 20000, 1);
	run_random("table medium", 64, 40, 20000, 3);
	run_random("table large", 300, 200, 10000, 97);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_sizes_and_full),	     cmocka_unit_test(table_many_keys),
		cmocka_unit_test(table_duplicate_keys),	     cmocka_unit_test(table_probe_chains),
		cmocka_unit_test(table_random_vs_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
