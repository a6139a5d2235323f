/* SPDX-License-Identifier: MIT */
/*
 * Relay circuits (PROTOCOL.md 16.7, 16.10) as a fixed table with no daemon in sight: the
 * bounds (in all, per identity), the pending and idle timeouts, and the per-circuit rates
 * (inner bytes, inner INITs). A relay owns circuits between two of its peers; an end host
 * records the circuits its relays opened for it. Owners are opaque pointers (peers).
 */
#ifndef SS_TUNNEL_CIRCUIT_H
#define SS_TUNNEL_CIRCUIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <silosec/wire.h>

#define SS_RELAY_PENDING (SS_QUERY_TIMEOUT * SS_QUERY_TRIES) /* an offer unanswered */
#define SS_RELAY_END_MAX 256				     /* circuits an end host holds */

enum ss_circ_state { SS_CIRC_FREE = 0, SS_CIRC_PENDING, SS_CIRC_OPEN };

typedef struct ss_circuit {
	uint32_t id;
	uint8_t state;
	/* At a relay: [0] the requester A, [1] the other end B. At an end: [0] the hop, [1] the
	 * peer. */
	void *end[2];
	uint32_t txid[2]; /* at a relay: A's RELAY_OPEN, ours in the RELAY_OFFER to B */
	uint64_t created_ns, last_ns;
	uint64_t tokens, tokens_ns;   /* inner bytes */
	uint64_t init_milli, init_ns; /* inner INITs, thousandths */
	uint64_t bytes, packets;      /* carried */
	uint64_t refused;	      /* over a rate */
} ss_circuit;

typedef struct ss_circuits {
	ss_circuit *c;
	uint32_t cap; /* a power of two */
	uint32_t n;
	uint64_t rate, burst; /* bytes per second and bucket size, per circuit */
} ss_circuits;

int ss_circuits_init(ss_circuits *t, uint32_t cap, uint64_t rate, uint64_t burst);
void ss_circuits_free(ss_circuits *t);
/* Circuits with owner at either end. */
uint32_t ss_circuits_count(const ss_circuits *t, const void *owner);

/*
 * Relay: a pending circuit from a to b with an id made of rnd and its slot (unique here,
 * found without a search). SS_ERR_REACH_RATE past SS_RELAY_MAX_PER_IDENTITY for either
 * end or when the table is full; SS_ERR_INVAL for rnd that gives no upper bits.
 */
int ss_circuits_open(ss_circuits *t, void *a, void *b, uint32_t rnd, uint64_t now,
		     ss_circuit **out);
ss_circuit *ss_circuits_find(ss_circuits *t, uint32_t id);

/* End host: the circuit id its relay hop chose, towards peer (SS_ERR_FULL, SS_ERR_EXISTS). */
int ss_circuits_add(ss_circuits *t, uint32_t id, void *hop, void *peer, uint64_t now,
		    ss_circuit **out);
ss_circuit *ss_circuits_find_end(ss_circuits *t, const void *hop, uint32_t id);

/*
 * A datagram of len inner bytes on an open circuit: 0, or SS_ERR_RELAY when over the
 * byte rate or (init: an inner INIT) over SS_RELAY_INITS_PER_SEC. Refreshes last_ns.
 */
int ss_circuits_charge(ss_circuits *t, ss_circuit *c, size_t len, bool init, uint64_t now);
void ss_circuits_remove(ss_circuits *t, ss_circuit *c);

/*
 * Circuits due to go: pending past SS_RELAY_PENDING, open and idle past idle_ns. fn sees
 * each before it is freed.
 */
typedef void (*ss_circuit_fn)(void *arg, ss_circuit *c);
void ss_circuits_expire(ss_circuits *t, uint64_t now, uint64_t idle_ns, ss_circuit_fn fn,
			void *arg);
/* Every circuit with owner at either end (the peer is going away); fn as above. */
void ss_circuits_forget(ss_circuits *t, const void *owner, ss_circuit_fn fn, void *arg);

#endif
