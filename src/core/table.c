/* SPDX-License-Identifier: MIT */
/*
 * A fixed-size hash table: open addressing with linear probing and backward-shift
 * deletion, sized once at context creation, so lookups on the packet path never
 * allocate and never rehash.
 */
#include <stdlib.h>

#include <silosec/error.h>

#include "internal.h"

static uint32_t home(const ss_table *t, uint64_t key)
{
	uint64_t h = (key ^ t->seed) * UINT64_C(0x9e3779b97f4a7c15);

	h ^= h >> 29;
	h *= UINT64_C(0xbf58476d1ce4e5b9);
	h ^= h >> 32;
	return (uint32_t)h & t->mask;
}

int ss_table_init(ss_table *t, uint32_t max_entries, uint64_t seed)
{
	uint32_t cap = 16;

	if (max_entries > (UINT32_MAX >> 3))
		return SS_ERR_INVAL;
	/* Load factor at most one half keeps probe sequences short. */
	while (cap < max_entries * 2u) {
		if (cap > (UINT32_MAX >> 2))
			return SS_ERR_INVAL;
		cap <<= 1;
	}
	t->slots = calloc(cap, sizeof(*t->slots));
	if (!t->slots)
		return SS_ERR_NOMEM;
	t->mask = cap - 1;
	t->count = 0;
	t->seed = seed;
	return 0;
}

void ss_table_free(ss_table *t)
{
	free(t->slots);
	t->slots = NULL;
}

int ss_table_insert(ss_table *t, uint64_t key, void *val, uint32_t aux)
{
	uint32_t i;

	if (t->count >= (t->mask + 1) / 2)
		return SS_ERR_FULL;
	for (i = home(t, key); t->slots[i].val; i = (i + 1) & t->mask)
		;
	t->slots[i].key = key;
	t->slots[i].val = val;
	t->slots[i].aux = aux;
	t->count++;
	return 0;
}

ss_table_slot *ss_table_next(const ss_table *t, uint64_t key, uint32_t *pos)
{
	uint32_t i = *pos == UINT32_MAX ? home(t, key) : ((*pos + 1) & t->mask);

	for (; t->slots[i].val; i = (i + 1) & t->mask) {
		if (t->slots[i].key == key) {
			*pos = i;
			return &t->slots[i];
		}
	}
	return NULL;
}

/* The entry (key, val, aux), or NULL; *pos receives its position. */
static ss_table_slot *find(const ss_table *t, uint64_t key, const void *val, uint32_t aux,
			   uint32_t *pos)
{
	ss_table_slot *s;

	*pos = UINT32_MAX;
	while ((s = ss_table_next(t, key, pos)))
		if (s->val == val && s->aux == aux)
			return s;
	return NULL;
}

void ss_table_retag(ss_table *t, uint64_t key, const void *val, uint32_t aux, uint32_t new_aux)
{
	uint32_t pos;
	ss_table_slot *s = find(t, key, val, aux, &pos);

	if (s)
		s->aux = new_aux;
}

void ss_table_remove(ss_table *t, uint64_t key, const void *val, uint32_t aux)
{
	uint32_t pos, i, j;

	if (!find(t, key, val, aux, &pos))
		return;
	/* Backward shift: pull later members of the probe run into the hole. */
	i = pos;
	for (j = (i + 1) & t->mask; t->slots[j].val; j = (j + 1) & t->mask) {
		uint32_t h = home(t, t->slots[j].key);

		/* Move j to i unless its home lies cyclically in (i, j]. */
		if (((j - h) & t->mask) >= ((j - i) & t->mask)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	/* All zero, as calloc left it: an insert undone by a remove leaves the same bytes. */
	t->slots[i].val = NULL;
	t->slots[i].key = 0;
	t->slots[i].aux = 0;
	t->count--;
}
