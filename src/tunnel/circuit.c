/* SPDX-License-Identifier: MIT */
/*
 * The circuit table. Fixed size, allocated once: strangers cannot grow it (only configured
 * peers may ask for a circuit), and each identity holds at most SS_RELAY_MAX_PER_IDENTITY.
 * At a relay the low bits of an id are its slot, so the data path finds a circuit with
 * one comparison; the upper bits are random, so an end cannot guess another's circuit.
 */
#include <stdlib.h>
#include <string.h>

#include <silosec/error.h>

#include "circuit.h"

int ss_circuits_init(ss_circuits *t, uint32_t cap, uint64_t rate, uint64_t burst)
{
	memset(t, 0, sizeof(*t));
	if (!cap || (cap & (cap - 1)) || !rate || !burst)
		return SS_ERR_INVAL;
	t->c = calloc(cap, sizeof(*t->c));
	if (!t->c)
		return SS_ERR_NOMEM;
	t->cap = cap;
	t->rate = rate;
	t->burst = burst;
	return 0;
}

void ss_circuits_free(ss_circuits *t)
{
	free(t->c);
	memset(t, 0, sizeof(*t));
}

uint32_t ss_circuits_count(const ss_circuits *t, const void *owner)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < t->cap && owner; i++)
		if (t->c[i].state && (t->c[i].end[0] == owner || t->c[i].end[1] == owner))
			n++;
	return n;
}

static void fill(ss_circuits *t, ss_circuit *c, uint32_t id, void *x, void *y, uint64_t now)
{
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->state = SS_CIRC_PENDING;
	c->end[0] = x;
	c->end[1] = y;
	c->created_ns = c->last_ns = c->tokens_ns = c->init_ns = now;
	c->tokens = t->burst;
	c->init_milli = SS_RELAY_INITS_PER_SEC * 1000;
	t->n++;
}

int ss_circuits_open(ss_circuits *t, void *a, void *b, uint32_t rnd, uint64_t now, ss_circuit **out)
{
	uint32_t mask = t->cap - 1, start = rnd & mask;

	if (!(rnd & ~mask))
		return SS_ERR_INVAL;
	if (t->n >= t->cap || t->n >= SS_RELAY_MAX_CIRCUITS ||
	    ss_circuits_count(t, a) >= SS_RELAY_MAX_PER_IDENTITY ||
	    ss_circuits_count(t, b) >= SS_RELAY_MAX_PER_IDENTITY)
		return SS_ERR_REACH_RATE;
	for (uint32_t k = 0; k < t->cap; k++) {
		uint32_t slot = (start + k) & mask;

		if (t->c[slot].state)
			continue;
		fill(t, &t->c[slot], (rnd & ~mask) | slot, a, b, now);
		*out = &t->c[slot];
		return 0;
	}
	return SS_ERR_REACH_RATE;
}

ss_circuit *ss_circuits_find(ss_circuits *t, uint32_t id)
{
	ss_circuit *c = t->cap ? &t->c[id & (t->cap - 1)] : NULL;

	return c && c->state && c->id == id ? c : NULL;
}

/* End hosts: ids are the relays' choice; probing starts at the id's home slot. */
ss_circuit *ss_circuits_find_end(ss_circuits *t, const void *hop, uint32_t id)
{
	uint32_t mask = t->cap - 1, seen = 0;

	for (uint32_t k = 0; k < t->cap && seen < t->n; k++) {
		ss_circuit *c = &t->c[(id + k) & mask];

		if (!c->state)
			continue;
		if (c->id == id && c->end[0] == hop)
			return c;
		seen++;
	}
	return NULL;
}

int ss_circuits_add(ss_circuits *t, uint32_t id, void *hop, void *peer, uint64_t now,
		    ss_circuit **out)
{
	uint32_t mask = t->cap - 1;

	if (!id)
		return SS_ERR_INVAL;
	if (ss_circuits_find_end(t, hop, id))
		return SS_ERR_EXISTS;
	if (t->n >= t->cap)
		return SS_ERR_FULL;
	for (uint32_t k = 0; k < t->cap; k++) {
		ss_circuit *c = &t->c[(id + k) & mask];

		if (c->state)
			continue;
		fill(t, c, id, hop, peer, now);
		*out = c;
		return 0;
	}
	return SS_ERR_FULL;
}

/* A token bucket refilled at rate per second up to cap; elapsed time capped to avoid overflow. */
static void refill(uint64_t *tokens, uint64_t *since, uint64_t rate, uint64_t cap, uint64_t now)
{
	uint64_t dt = now > *since ? now - *since : 0;

	if (dt >= SS_NS_PER_SEC || *tokens + rate * dt / SS_NS_PER_SEC >= cap)
		*tokens = cap;
	else
		*tokens += rate * dt / SS_NS_PER_SEC;
	/* Keep the remainder: small packets at high rates would otherwise never refill. */
	if (*tokens == cap || rate * dt / SS_NS_PER_SEC)
		*since = now;
}

int ss_circuits_charge(ss_circuits *t, ss_circuit *c, size_t len, bool init, uint64_t now)
{
	refill(&c->tokens, &c->tokens_ns, t->rate, t->burst, now);
	refill(&c->init_milli, &c->init_ns, SS_RELAY_INITS_PER_SEC * 1000,
	       SS_RELAY_INITS_PER_SEC * 1000, now);
	if (c->tokens < len || (init && c->init_milli < 1000)) {
		c->refused++;
		return SS_ERR_RELAY;
	}
	c->tokens -= len;
	if (init)
		c->init_milli -= 1000;
	c->bytes += len;
	c->packets++;
	c->last_ns = now;
	return 0;
}

void ss_circuits_remove(ss_circuits *t, ss_circuit *c)
{
	if (!c->state)
		return;
	memset(c, 0, sizeof(*c));
	t->n--;
}

void ss_circuits_expire(ss_circuits *t, uint64_t now, uint64_t idle_ns, ss_circuit_fn fn, void *arg)
{
	for (uint32_t i = 0; i < t->cap && t->n; i++) {
		ss_circuit *c = &t->c[i];
		bool due =
			(c->state == SS_CIRC_PENDING && now - c->created_ns >= SS_RELAY_PENDING) ||
			(c->state == SS_CIRC_OPEN && now - c->last_ns >= idle_ns);

		if (!due)
			continue;
		if (fn)
			fn(arg, c);
		ss_circuits_remove(t, c);
	}
}

void ss_circuits_forget(ss_circuits *t, const void *owner, ss_circuit_fn fn, void *arg)
{
	for (uint32_t i = 0; i < t->cap && t->n; i++) {
		ss_circuit *c = &t->c[i];

		if (!c->state || (c->end[0] != owner && c->end[1] != owner))
			continue;
		if (fn)
			fn(arg, c);
		ss_circuits_remove(t, c);
	}
}
