/* SPDX-License-Identifier: MIT */
#include "conntrack.h"
#include "common/mix.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <silosec/core.h>
#include <silosec/error.h>

#define NIL UINT32_MAX
#define IPPROTO_ICMPV6_ 58

enum { ST_NEW, ST_REPLIED, ST_CLOSING };

struct key {
	uint8_t local[16], remote[16];
	uint16_t lport, rport;
	uint8_t family, proto;
	uint8_t pad[2]; /* zero: keys are compared and hashed as bytes */
};

struct entry {
	struct key k;
	uint32_t next;
	uint8_t state;
	ss_ct_owner *owner; /* NULL: free */
	uint64_t expire_ns;
};

struct ss_ct {
	uint32_t mask, count, free_head;
	uint64_t seed;
	uint32_t *buckets;
	struct entry *e;
};

int ss_ct_create(ss_ct **out, uint32_t size, uint64_t seed)
{
	uint32_t n = 16;
	ss_ct *ct;

	while (n < size && n < (1u << 24))
		n <<= 1;
	ct = calloc(1, sizeof(*ct));
	if (!ct)
		return SS_ERR_NOMEM;
	ct->buckets = malloc(n * sizeof(*ct->buckets));
	ct->e = calloc(n, sizeof(*ct->e));
	if (!ct->buckets || !ct->e) {
		ss_ct_free(ct);
		return SS_ERR_NOMEM;
	}
	ct->mask = n - 1;
	ct->seed = seed;
	for (uint32_t i = 0; i < n; i++) {
		ct->buckets[i] = NIL;
		ct->e[i].next = i + 1 < n ? i + 1 : NIL;
	}
	ct->free_head = 0;
	*out = ct;
	return 0;
}

void ss_ct_free(ss_ct *ct)
{
	if (!ct)
		return;
	free(ct->buckets);
	free(ct->e);
	free(ct);
}

uint32_t ss_ct_count(const ss_ct *ct)
{
	return ct->count;
}

static uint32_t bucket_of(const ss_ct *ct, const struct key *k)
{
	uint64_t w[5], h = ct->seed;

	memcpy(w, k, sizeof(w));
	for (int i = 0; i < 5; i++)
		h = ss_mix64(h ^ w[i]);
	return (uint32_t)h & ct->mask;
}

static void key_set(struct key *k, const ss_pkt_info *pi, const uint8_t *local,
		    const uint8_t *remote, uint16_t lport, uint16_t rport)
{
	size_t alen = pi->family == 4 ? 4 : 16;

	memset(k, 0, sizeof(*k));
	memcpy(k->local, local, alen);
	memcpy(k->remote, remote, alen);
	k->lport = lport;
	k->rport = rport;
	k->family = pi->family;
	k->proto = pi->proto;
}

static bool is_icmp(uint8_t proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6_;
}

static bool echo_request(const ss_pkt_info *pi)
{
	return pi->icmp_type == (pi->proto == IPPROTO_ICMP ? 8 : 128);
}

static bool echo_reply(const ss_pkt_info *pi)
{
	return pi->icmp_type == (pi->proto == IPPROTO_ICMP ? 0 : 129);
}

/* The key of an outbound packet: our side is the source. */
static int out_key(const ss_pkt_info *pi, struct key *k)
{
	if (pi->later_frag)
		return SS_ERR_INVAL;
	if (is_icmp(pi->proto)) {
		if (!pi->has_ports || !echo_request(pi))
			return SS_ERR_INVAL;
		key_set(k, pi, pi->src, pi->dst, pi->sport, 0);
	} else if (pi->proto == IPPROTO_TCP || pi->proto == IPPROTO_UDP) {
		if (!pi->has_ports)
			return SS_ERR_INVAL;
		key_set(k, pi, pi->src, pi->dst, pi->sport, pi->dport);
	} else {
		key_set(k, pi, pi->src, pi->dst, 0, 0);
	}
	return 0;
}

static struct entry *find(ss_ct *ct, const struct key *k, uint32_t b)
{
	for (uint32_t i = ct->buckets[b]; i != NIL; i = ct->e[i].next)
		if (!memcmp(&ct->e[i].k, k, sizeof(*k)))
			return &ct->e[i];
	return NULL;
}

static uint64_t timeout_ns(const struct entry *e)
{
	uint32_t s;

	if (e->k.proto == IPPROTO_TCP)
		s = e->state == ST_CLOSING   ? SS_CT_TCP_CLOSING
		    : e->state == ST_REPLIED ? SS_CT_TCP_ESTABLISHED
					     : SS_CT_TCP_SYN;
	else
		s = is_icmp(e->k.proto) ? SS_CT_ICMP : SS_CT_UDP;
	return (uint64_t)s * SS_NS_PER_SEC;
}

static void note_flags(struct entry *e, const ss_pkt_info *pi)
{
	/* FIN 0x01, RST 0x04: the connection is ending, keep it only briefly. */
	if (pi->proto == IPPROTO_TCP && (pi->tcp_flags & 0x05))
		e->state = ST_CLOSING;
}

static struct entry *insert(ss_ct *ct, const struct key *k, uint32_t b, ss_ct_owner *owner)
{
	struct entry *e;
	uint32_t i = ct->free_head;

	if (i == NIL)
		return NULL;
	e = &ct->e[i];
	ct->free_head = e->next;
	e->k = *k;
	e->owner = owner;
	e->state = ST_NEW;
	e->next = ct->buckets[b];
	ct->buckets[b] = i;
	ct->count++;
	owner->entries++;
	return e;
}

int ss_ct_track(ss_ct *ct, const ss_pkt_info *pi, ss_ct_owner *owner, uint64_t now_ns)
{
	struct key k;
	struct entry *e;
	uint32_t b;

	if (out_key(pi, &k))
		return SS_ERR_INVAL;
	b = bucket_of(ct, &k);
	e = find(ct, &k, b);
	if (e && e->owner != owner) {
		/*
		 * AllowedIPs moved to another peer: the flow now belongs to the new one, within
		 * its budget. Left with the old owner it only expires: cryptokey routing no longer
		 * lets the old peer send from that address.
		 */
		if (owner->entries >= owner->budget)
			return SS_ERR_CT_FULL;
		e->owner->entries--;
		owner->entries++;
		e->owner = owner;
	}
	if (e && e->expire_ns <= now_ns)
		e->state = ST_NEW;
	if (!e) {
		if (owner->entries >= owner->budget)
			return SS_ERR_CT_FULL;
		e = insert(ct, &k, b, owner);
		if (!e)
			return SS_ERR_CT_FULL;
	}
	note_flags(e, pi);
	e->expire_ns = now_ns + timeout_ns(e);
	return 0;
}

/* The key an inbound reply would have been created under. */
static int reply_key(const ss_pkt_info *pi, struct key *k)
{
	ss_pkt_info q;

	if (pi->later_frag)
		return SS_ERR_INVAL;
	if (!is_icmp(pi->proto)) {
		if ((pi->proto == IPPROTO_TCP || pi->proto == IPPROTO_UDP) && !pi->has_ports)
			return SS_ERR_INVAL;
		key_set(k, pi, pi->dst, pi->src, pi->dport, pi->sport);
		return 0;
	}
	if (!pi->has_ports)
		return SS_ERR_INVAL;
	if (echo_reply(pi)) {
		key_set(k, pi, pi->dst, pi->src, pi->dport, 0);
		return 0;
	}
	/* An ICMP error quotes the packet we sent: that packet's own key. */
	if (!pi->inner || ss_pkt_parse(pi->inner, pi->inner_len, &q) || q.family != pi->family ||
	    memcmp(q.src, pi->dst, pi->family == 4 ? 4 : 16))
		return SS_ERR_INVAL;
	if (is_icmp(q.proto) && !echo_request(&q))
		return SS_ERR_INVAL; /* never an error about an error */
	return out_key(&q, k);
}

bool ss_ct_reply(ss_ct *ct, const ss_pkt_info *pi, const ss_ct_owner *owner, uint64_t now_ns)
{
	struct key k;
	struct entry *e;

	if (reply_key(pi, &k))
		return false;
	e = find(ct, &k, bucket_of(ct, &k));
	if (!e || e->owner != owner || e->expire_ns <= now_ns)
		return false;
	if (pi->inner)
		return true; /* an error says nothing about the connection's state */
	if (e->state == ST_NEW)
		e->state = ST_REPLIED;
	note_flags(e, pi);
	e->expire_ns = now_ns + timeout_ns(e);
	return true;
}

static void unlink_at(ss_ct *ct, uint32_t *link)
{
	uint32_t i = *link;
	struct entry *e = &ct->e[i];

	*link = e->next;
	e->owner->entries--;
	e->owner = NULL;
	e->next = ct->free_head;
	ct->free_head = i;
	ct->count--;
}

static uint32_t sweep(ss_ct *ct, uint64_t now_ns, const ss_ct_owner *only)
{
	uint32_t n = 0;

	if (!ct->count)
		return 0;
	for (uint32_t b = 0; b <= ct->mask; b++) {
		uint32_t *link = &ct->buckets[b];

		while (*link != NIL) {
			struct entry *e = &ct->e[*link];

			if (only ? e->owner == only : e->expire_ns <= now_ns) {
				unlink_at(ct, link);
				n++;
			} else {
				link = &e->next;
			}
		}
	}
	return n;
}

uint32_t ss_ct_expire(ss_ct *ct, uint64_t now_ns)
{
	return sweep(ct, now_ns, NULL);
}

void ss_ct_forget(ss_ct *ct, ss_ct_owner *owner)
{
	(void)sweep(ct, 0, owner);
}
