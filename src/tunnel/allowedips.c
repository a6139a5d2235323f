/* SPDX-License-Identifier: MIT */
/*
 * Cryptokey routing as one open-addressing hash table per prefix length, per family.
 * A lookup masks the address to each length in use, longest first, and probes that
 * length's table: the cost depends on how many lengths are in use (at most 33 or 129),
 * never on how many prefixes or peers there are, and nothing is allocated.
 *
 * Addresses are kept as two host-order 64-bit words, IPv4 in the top 32 bits of the
 * first, so one masking rule serves both families.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/rand.h>

#include <silosec/error.h>

#include "allowedips.h"
#include "common/mix.h"

#define NLENS 129
#define MAP_WORDS ((NLENS + 63) / 64)
#define MIN_SLOTS 8

struct slot {
	uint64_t hi, lo;
	void *peer; /* NULL marks an empty slot */
};

/* Linear probing, load kept at or below 1/2 so probe runs stay short. */
struct table {
	struct slot *slots;
	size_t mask; /* slot count - 1 */
	size_t n;
};

struct family {
	int af;
	unsigned bits;
	uint64_t used[MAP_WORDS]; /* bit L set: lens[L] is not empty */
	struct table lens[NLENS];
};

struct ss_allowedips {
	/* Random, so which prefixes share a probe run cannot be arranged in advance. */
	uint64_t key[2];
	struct family v4, v6;
};

static size_t hash(const ss_allowedips *t, uint64_t hi, uint64_t lo)
{
	return (size_t)ss_mix64(ss_mix64(hi ^ t->key[0]) ^ lo ^ t->key[1]);
}

static uint64_t mask_hi(unsigned len)
{
	if (len == 0)
		return 0;
	return len >= 64 ? UINT64_MAX : UINT64_MAX << (64 - len);
}

static uint64_t mask_lo(unsigned len)
{
	return len <= 64 ? 0 : UINT64_MAX << (128 - len);
}

static size_t nslots(const struct table *tab)
{
	return tab->slots ? tab->mask + 1 : 0;
}

/* Byte loops rather than <endian.h>, which src/core/endian.h shadows on some include paths. */
static uint64_t load_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void store_be(uint8_t *p, unsigned n, uint64_t v)
{
	for (unsigned i = n; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
}

static void load_addr(const struct family *f, const uint8_t *addr, uint64_t *hi, uint64_t *lo)
{
	if (f->bits == 32) {
		*hi = load_be(addr, 4) << 32;
		*lo = 0;
		return;
	}
	*hi = load_be(addr, 8);
	*lo = load_be(addr + 8, 8);
}

static void store_addr(const struct family *f, uint64_t hi, uint64_t lo, uint8_t *addr)
{
	if (f->bits == 32) {
		store_be(addr, 4, hi >> 32);
		return;
	}
	store_be(addr, 8, hi);
	store_be(addr + 8, 8, lo);
}

/* The slot holding (hi, lo), or the empty slot where it would go. The table is never full. */
static struct slot *find(const ss_allowedips *t, const struct table *tab, uint64_t hi, uint64_t lo)
{
	size_t i = hash(t, hi, lo) & tab->mask;

	for (;; i = (i + 1) & tab->mask) {
		struct slot *s = &tab->slots[i];

		if (!s->peer || (s->hi == hi && s->lo == lo))
			return s;
	}
}

static int resize(const ss_allowedips *t, struct table *tab, size_t count)
{
	struct table nt = {.mask = count - 1, .n = tab->n};

	nt.slots = calloc(count, sizeof(*nt.slots));
	if (!nt.slots)
		return SS_ERR_NOMEM;
	for (size_t i = 0; i < nslots(tab); i++)
		if (tab->slots[i].peer)
			*find(t, &nt, tab->slots[i].hi, tab->slots[i].lo) = tab->slots[i];
	free(tab->slots);
	*tab = nt;
	return 0;
}

/*
 * Backward-shift deletion: pull later entries of the probe run into the hole so that
 * lookups never need tombstones and probe runs do not grow with churn.
 */
static void erase(const ss_allowedips *t, struct table *tab, size_t i)
{
	size_t j = i;

	for (;;) {
		struct slot *s;
		size_t home;

		j = (j + 1) & tab->mask;
		s = &tab->slots[j];
		if (!s->peer)
			break;
		home = hash(t, s->hi, s->lo) & tab->mask;
		/* s may fill the hole only if the hole lies on its probe path from home. */
		if (((j - home) & tab->mask) >= ((j - i) & tab->mask)) {
			tab->slots[i] = *s;
			i = j;
		}
	}
	tab->slots[i].peer = NULL;
	tab->n--;
}

/* After deletions: drop an empty length from the bitmap, give back memory from a sparse table. */
static void tidy(const ss_allowedips *t, struct family *f, unsigned len)
{
	struct table *tab = &f->lens[len];
	size_t want = MIN_SLOTS;

	if (!tab->n) {
		free(tab->slots);
		memset(tab, 0, sizeof(*tab));
		f->used[len / 64] &= ~(UINT64_C(1) << (len % 64));
		return;
	}
	if (tab->n * 8 >= nslots(tab))
		return;
	while (want < tab->n * 4)
		want *= 2;
	/* Best effort: a failed shrink leaves a correct, merely larger table. */
	if (want < nslots(tab))
		resize(t, tab, want);
}

static struct family *family_of(ss_allowedips *t, int af)
{
	if (af == AF_INET)
		return &t->v4;
	return af == AF_INET6 ? &t->v6 : NULL;
}

int ss_allowedips_create(ss_allowedips **out)
{
	ss_allowedips *t;

	if (!out)
		return SS_ERR_INVAL;
	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return SS_ERR_NOMEM;
	if (RAND_bytes((unsigned char *)t->key, sizeof(t->key)) != 1) {
		free(t);
		return SS_ERR_CRYPTO;
	}
	t->v4.af = AF_INET;
	t->v4.bits = 32;
	t->v6.af = AF_INET6;
	t->v6.bits = 128;
	*out = t;
	return 0;
}

void ss_allowedips_free(ss_allowedips *t)
{
	if (!t)
		return;
	for (unsigned len = 0; len < NLENS; len++) {
		free(t->v4.lens[len].slots);
		free(t->v6.lens[len].slots);
	}
	free(t);
}

int ss_allowedips_insert(ss_allowedips *t, int family, const uint8_t *addr, uint8_t prefix,
			 void *peer)
{
	struct family *f = t ? family_of(t, family) : NULL;
	struct table *tab;
	struct slot *s;
	uint64_t hi, lo;
	int ret;

	if (!f || !addr || !peer || prefix > f->bits)
		return SS_ERR_INVAL;
	tab = &f->lens[prefix];
	if ((tab->n + 1) * 2 > nslots(tab)) {
		ret = resize(t, tab, nslots(tab) ? nslots(tab) * 2 : MIN_SLOTS);
		if (ret)
			return ret;
	}
	load_addr(f, addr, &hi, &lo);
	hi &= mask_hi(prefix);
	lo &= mask_lo(prefix);
	s = find(t, tab, hi, lo);
	if (!s->peer) {
		s->hi = hi;
		s->lo = lo;
		tab->n++;
		f->used[prefix / 64] |= UINT64_C(1) << (prefix % 64);
	}
	s->peer = peer;
	return 0;
}

int ss_allowedips_remove(ss_allowedips *t, int family, const uint8_t *addr, uint8_t prefix)
{
	struct family *f = t ? family_of(t, family) : NULL;
	struct table *tab;
	struct slot *s;
	uint64_t hi, lo;

	if (!f || !addr || prefix > f->bits)
		return SS_ERR_INVAL;
	tab = &f->lens[prefix];
	if (!tab->n)
		return SS_ERR_NOT_FOUND;
	load_addr(f, addr, &hi, &lo);
	s = find(t, tab, hi & mask_hi(prefix), lo & mask_lo(prefix));
	if (!s->peer)
		return SS_ERR_NOT_FOUND;
	erase(t, tab, (size_t)(s - tab->slots));
	tidy(t, f, prefix);
	return 0;
}

static void remove_peer_len(ss_allowedips *t, struct family *f, unsigned len, const void *peer)
{
	struct table *tab = &f->lens[len];
	size_t i = 0;

	/*
	 * erase() may pull a later entry into slot i, so look at i again after a removal.
	 * Entries it pulls across the end of the array were already looked at.
	 */
	while (tab->n && i < nslots(tab)) {
		if (tab->slots[i].peer == peer)
			erase(t, tab, i);
		else
			i++;
	}
	tidy(t, f, len);
}

void ss_allowedips_remove_peer(ss_allowedips *t, const void *peer)
{
	if (!t || !peer)
		return;
	for (unsigned len = 0; len <= 32; len++)
		if (t->v4.lens[len].n)
			remove_peer_len(t, &t->v4, len, peer);
	for (unsigned len = 0; len <= 128; len++)
		if (t->v6.lens[len].n)
			remove_peer_len(t, &t->v6, len, peer);
}

void *ss_allowedips_lookup(const ss_allowedips *t, int family, const uint8_t *addr)
{
	const struct family *f;
	uint64_t hi, lo;

	if (!t || !addr)
		return NULL;
	if (family == AF_INET)
		f = &t->v4;
	else if (family == AF_INET6)
		f = &t->v6;
	else
		return NULL;
	load_addr(f, addr, &hi, &lo);
	for (int w = MAP_WORDS - 1; w >= 0; w--) {
		for (uint64_t bits = f->used[w]; bits;) {
			unsigned b = 63 - (unsigned)__builtin_clzll(bits);
			unsigned len = (unsigned)w * 64 + b;
			void *peer =
				find(t, &f->lens[len], hi & mask_hi(len), lo & mask_lo(len))->peer;

			if (peer)
				return peer;
			bits &= ~(UINT64_C(1) << b);
		}
	}
	return NULL;
}

/*
 * Within one length the order is the table's, which depends on the random key. fn must
 * not change the table: an insert or removal may move entries under the walk.
 */
static void walk_family(const struct family *f, const void *peer, ss_allowedips_fn fn, void *arg)
{
	uint8_t addr[16];

	for (unsigned len = 0; len <= f->bits; len++) {
		const struct table *tab = &f->lens[len];

		for (size_t i = 0; i < nslots(tab); i++) {
			if (tab->slots[i].peer != peer)
				continue;
			store_addr(f, tab->slots[i].hi, tab->slots[i].lo, addr);
			fn(arg, f->af, addr, (uint8_t)len);
		}
	}
}

void ss_allowedips_walk_peer(const ss_allowedips *t, const void *peer, ss_allowedips_fn fn,
			     void *arg)
{
	if (!t || !peer || !fn)
		return;
	walk_family(&t->v4, peer, fn, arg);
	walk_family(&t->v6, peer, fn, arg);
}
