/* SPDX-License-Identifier: MIT */
/*
 * The cache of opened datagrams (knock.h, PROTOCOL 14.5 step 3b). Issue 13, finding 4:
 * copies of one sealed knock sent from spoofed sources each passed the per-source limit
 * (every source was new) and the public outer MAC, and cost X25519 + AES-GCM + Ed25519
 * before 6b refused them; here a copy costs the MAC and one set of compares.
 *
 * Why an entry cannot be turned against a real knock: it is written only after the
 * public-key step ran on this exact datagram (its ephemeral, its outer MAC over all of it,
 * its length), so what it says is what opening that datagram says. A different datagram
 * with the same key would need a second preimage of the 128-bit MAC, and planting an
 * entry for a knock not yet sent would need its ephemeral, which only the client knows.
 * Nothing after the open step is cached: the caller re-runs identity, source, clock,
 * time and replay on the cached fields, so a copy gets the verdict the full pipeline
 * would give, and the real client's own copy, arriving after spoofed copies were refused
 * for their source, is still opened and accepted. Evicting an entry (the keyed set index
 * keeps an attacker from aiming at one) only makes the next copy pay the public-key
 * step again, under the global budget.
 */
#include <stdlib.h>
#include <string.h>

#include "knock/knock.h"

#include "common/endian.h"
#include "common/mix.h"

struct seen_entry {
	uint8_t eph[SS_DH_LEN];
	uint8_t tag[SS_MAC_LEN];
	uint16_t len; /* 0: empty */
	int8_t code;
	uint8_t src_family;
	uint32_t stamp; /* insertion order: the oldest way of a set goes first */
	uint64_t timestamp_ms;
	uint8_t src_addr[SS_KNOCK_SRC_ADDR_LEN];
	uint8_t client[SS_IDENTITY_LEN];
	uint8_t challenge[SS_KNOCK_CHALLENGE_LEN];
	char action[SS_KNOCK_MAX_ACTION + 1];
};

struct ss_knock_seen {
	struct seen_entry *slots;
	uint32_t mask; /* of set indices */
	uint32_t stamp;
	ss_mix_key key;
};

int ss_knock_seen_new(ss_knock_seen **out, uint32_t slots, uint64_t seed)
{
	ss_knock_seen *c;
	uint32_t n = SS_KNOCK_SEEN_WAYS;

	if (!out || slots > (1u << 20))
		return SS_ERR_INVAL;
	while (n < slots)
		n <<= 1;
	c = calloc(1, sizeof(*c));
	if (c)
		c->slots = calloc(n, sizeof(*c->slots));
	if (!c || !c->slots) {
		free(c);
		return SS_ERR_NOMEM;
	}
	c->mask = n / SS_KNOCK_SEEN_WAYS - 1;
	/* Another key than the rate limiter's, from the same per-run seed. */
	c->key.k[0] = ss_mix64(seed ^ UINT64_C(0x6b6e6f636b736e30));
	c->key.k[1] = ss_mix64(seed ^ UINT64_C(0x6b6e6f636b736e31));
	*out = c;
	return 0;
}

void ss_knock_seen_free(ss_knock_seen *c)
{
	if (!c)
		return;
	free(c->slots);
	free(c);
}

static struct seen_entry *set_of(const ss_knock_seen *c, const uint8_t *pkt, size_t len)
{
	uint64_t h = ss_mix_keyed(&c->key, ss_load_be64(pkt + len - SS_MAC_LEN),
				  ss_load_be64(pkt + SS_KNOCK_OFF_EPHEMERAL));

	return &c->slots[(h & c->mask) * SS_KNOCK_SEEN_WAYS];
}

static bool same(const struct seen_entry *e, const uint8_t *pkt, size_t len)
{
	return e->len == len && !memcmp(e->tag, pkt + len - SS_MAC_LEN, SS_MAC_LEN) &&
	       !memcmp(e->eph, pkt + SS_KNOCK_OFF_EPHEMERAL, SS_DH_LEN);
}

int ss_knock_seen_find(const ss_knock_seen *c, const uint8_t *pkt, size_t len, int *code,
		       ss_knock_msg *m)
{
	const struct seen_entry *set;

	if (!c || len < SS_KNOCK_MIN_LEN || len > SS_KNOCK_MAX_LEN)
		return 0;
	set = set_of(c, pkt, len);
	for (int w = 0; w < SS_KNOCK_SEEN_WAYS; w++) {
		const struct seen_entry *e = &set[w];

		if (!same(e, pkt, len))
			continue;
		*code = e->code;
		if (e->code)
			return 1;
		m->timestamp_ms = e->timestamp_ms;
		memcpy(m->client, e->client, SS_IDENTITY_LEN);
		memcpy(m->challenge, e->challenge, SS_KNOCK_CHALLENGE_LEN);
		m->src_family = e->src_family;
		memcpy(m->src_addr, e->src_addr, SS_KNOCK_SRC_ADDR_LEN);
		memcpy(m->action, e->action, sizeof(m->action));
		return 1;
	}
	return 0;
}

/* The way for pkt: its own entry, an empty way, else the oldest. */
static struct seen_entry *way_for(ss_knock_seen *c, const uint8_t *pkt, size_t len)
{
	struct seen_entry *set = set_of(c, pkt, len), *old = &set[0];

	for (int w = 0; w < SS_KNOCK_SEEN_WAYS; w++) {
		if (same(&set[w], pkt, len) || !set[w].len)
			return &set[w];
		if ((int32_t)(set[w].stamp - old->stamp) < 0)
			old = &set[w];
	}
	return old;
}

void ss_knock_seen_put(ss_knock_seen *c, const uint8_t *pkt, size_t len, int code,
		       const ss_knock_msg *m)
{
	struct seen_entry *e;

	if (!c || len < SS_KNOCK_MIN_LEN || len > SS_KNOCK_MAX_LEN || code < INT8_MIN || code > 0)
		return;
	e = way_for(c, pkt, len);
	memset(e, 0, sizeof(*e));
	memcpy(e->eph, pkt + SS_KNOCK_OFF_EPHEMERAL, SS_DH_LEN);
	memcpy(e->tag, pkt + len - SS_MAC_LEN, SS_MAC_LEN);
	e->len = (uint16_t)len;
	e->code = (int8_t)code;
	e->stamp = c->stamp++;
	if (code)
		return;
	e->timestamp_ms = m->timestamp_ms;
	memcpy(e->client, m->client, SS_IDENTITY_LEN);
	memcpy(e->challenge, m->challenge, SS_KNOCK_CHALLENGE_LEN);
	e->src_family = m->src_family;
	memcpy(e->src_addr, m->src_addr, SS_KNOCK_SRC_ADDR_LEN);
	memcpy(e->action, m->action, sizeof(e->action));
}
