/* SPDX-License-Identifier: MIT */
/*
 * silosecd's relay circuits (PROTOCOL.md 16.7, 16.8): serving as a relay between two of
 * our peers (Relay = serve on both), and reaching a peer through one of our relays
 * (Relay = yes) when it has no direct path. daemon.c calls in at a few points.
 */
#ifndef SS_TUNNEL_RELAY_H
#define SS_TUNNEL_RELAY_H

#include "daemon.h"

int ss_relay_init(ss_daemon *d);
void ss_relay_free(ss_daemon *d);
/* A reachability plaintext of a RELAY_* subtype from p (SS_RESULT_CONTROL). */
void ss_relay_control(ss_daemon *d, ss_dpeer *p, const ss_reach_msg *m);
/* A type-8 datagram from hop p (SS_RESULT_RELAY): forward it, or open it on its circuit. */
void ss_relay_datagram(ss_daemon *d, ss_dpeer *p, const uint8_t *pt, size_t len);
/* Send pkt on a virtual flow: sealed for the circuit's hop. */
void ss_relay_xmit(ss_daemon *d, const ss_flow *flow, const uint8_t *pkt, size_t len);
/* May p be reached through a relay (one is configured)? Asks for a circuit if so. */
bool ss_relay_fallback(ss_daemon *d, ss_dpeer *p);
/* Timer pass for p: relay fallback after failed handshakes, upgrades to a direct path. */
void ss_relay_tick_peer(ss_daemon *d, ss_dpeer *p, uint64_t now);
/* A session with p was established on flow: record the path, audit a change. */
void ss_relay_path(ss_daemon *d, ss_dpeer *p, const ss_flow *flow);
/* The circuit of a virtual flow, and "relay via FINGERPRINT" for show and audit. */
uint32_t ss_relay_flow_circuit(const ss_flow *f);
void ss_relay_describe(const ss_dpeer *p, const ss_flow *f, char *buf, size_t len);
/* Circuits due to go, closed; returns the next time to call. */
uint64_t ss_relay_sweep(ss_daemon *d, uint64_t now);
void ss_relay_forget(ss_daemon *d, ss_dpeer *p);
/*
 * Relay = for p (enum ss_conf_relay), at start or by syncconf: serve grows the table if
 * needed; leaving serve closes the circuits carried for p (both ends told), leaving yes
 * closes ours through p and sends the peers on them to another path. 0 or SS_ERR_NOMEM.
 */
int ss_relay_set_mode(ss_daemon *d, ss_dpeer *p, uint8_t mode);
/* Could a relay carry p (one is configured, p is not one, nor TOFU)? */
bool ss_relay_possible(const ss_daemon *d, const ss_dpeer *p);
/* Circuits carried here (and their bytes), and at this end for p. */
void ss_relay_stats(ss_daemon *d, uint32_t *circuits, uint64_t *bytes);

static inline bool ss_flow_virtual(const ss_flow *f)
{
	return f->proto == SS_RELAY_PROTO;
}

#endif
