/* SPDX-License-Identifier: MIT */
/*
 * Reachability control plaintexts (PROTOCOL.md 16.2): bytes to struct and back. Every
 * subtype has one size and a rule for each field, so a field a subtype does not use must
 * be zero: nothing unchecked can ride along, and a parser bug has nowhere to hide.
 */
#include <string.h>

#include <silosec/core.h>

#include "common/endian.h"
#include "internal.h"

enum { ZERO = 0, SET, ANY };

struct rule {
	uint8_t txid, circuit, delay, rtt, subject, observed;
	uint8_t cand_min, cand_max, flags;
};

#define F_TARGET (SS_REACH_F_HARD_NAT | SS_REACH_F_PRIVATE | SS_REACH_F_RELAY_OK)
static const struct rule rules[] = {
	[SS_CTL_REGISTER] = {SET, ZERO, ZERO, ANY, ZERO, ZERO, 0, SS_REACH_MAX_CAND,
			     SS_REACH_F_ALL},
	[SS_CTL_REGISTERED] = {SET, ZERO, ZERO, ZERO, ZERO, SET, 0, 0, 0},
	[SS_CTL_QUERY] = {SET, ZERO, ZERO, ANY, SET, ZERO, 0, 0, 0},
	[SS_CTL_ANSWER] = {SET, ZERO, ANY, ZERO, SET, SET, 0, SS_REACH_MAX_CAND, F_TARGET},
	[SS_CTL_PUNCH] = {SET, ZERO, ANY, ZERO, SET, SET, 1, SS_REACH_MAX_CAND,
			  SS_REACH_F_HARD_NAT | SS_REACH_F_RELAY_OK},
	[SS_CTL_RELAY_OPEN] = {SET, ZERO, ZERO, ZERO, SET, ZERO, 0, 0, 0},
	[SS_CTL_RELAY_OFFER] = {SET, SET, ZERO, ZERO, SET, ZERO, 0, 0, 0},
	[SS_CTL_RELAY_ACCEPT] = {SET, SET, ZERO, ZERO, SET, ZERO, 0, 0, 0},
	[SS_CTL_RELAY_CLOSE] = {ANY, SET, ZERO, ZERO, SET, ZERO, 0, 0, 0},
};

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static bool fits(uint8_t rule, bool nonzero)
{
	return rule == ANY || (rule == SET) == nonzero;
}

/* Endpoints no host may be reached at, whatever the allow list says. */
int ss_reach_endpoint_check(const uint8_t addr[16], uint16_t port)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t loop6[16] = {[15] = 1};

	if (port == 0 || all_zero(addr, 16) || !memcmp(addr, loop6, 16) || addr[0] == 0xff)
		return SS_ERR_CANDIDATE;
	if (!memcmp(addr, mapped, 12)) {
		const uint8_t *v4 = addr + 12;

		if (v4[0] == 0 || v4[0] == 127 || (v4[0] & 0xf0) == 0xe0 || all_zero(v4, 4) ||
		    (v4[0] == 255 && v4[1] == 255 && v4[2] == 255 && v4[3] == 255))
			return SS_ERR_CANDIDATE;
	}
	return 0;
}

static void load_ep(const uint8_t *p, ss_endpoint *ep)
{
	memcpy(ep->addr, p, 16);
	ep->port = ss_load_be16(p + 16);
}

static void store_ep(uint8_t *p, const ss_endpoint *ep)
{
	memcpy(p, ep->addr, 16);
	ss_store_be16(p + 16, ep->port);
}

static int check_fields(const uint8_t *pt, const struct rule *r)
{
	uint8_t n = pt[SS_REACH_OFF_NCAND];
	const uint8_t *unused = pt + SS_REACH_OFF_CAND + (size_t)n * SS_REACH_EP_LEN;

	if (pt[3] || (pt[SS_REACH_OFF_FLAGS] & ~r->flags) || n < r->cand_min || n > r->cand_max)
		return SS_ERR_MALFORMED;
	if (!fits(r->txid, ss_load_be32(pt + SS_REACH_OFF_TXID) != 0) ||
	    !fits(r->circuit, ss_load_be32(pt + SS_REACH_OFF_CIRCUIT) != 0) ||
	    !fits(r->delay, ss_load_be16(pt + SS_REACH_OFF_DELAY) != 0) ||
	    !fits(r->rtt, ss_load_be16(pt + SS_REACH_OFF_RTT) != 0) ||
	    !fits(r->subject, !all_zero(pt + SS_REACH_OFF_SUBJECT, SS_IDENTITY_LEN)) ||
	    !fits(r->observed, !all_zero(pt + SS_REACH_OFF_OBSERVED, SS_REACH_EP_LEN)))
		return SS_ERR_MALFORMED;
	if (ss_load_be16(pt + SS_REACH_OFF_DELAY) > SS_PUNCH_MAX_DELAY_MS)
		return SS_ERR_MALFORMED;
	/* Two reserved bytes after observed, and the candidate slots past n_cand. */
	if (!all_zero(pt + SS_REACH_OFF_OBSERVED + SS_REACH_EP_LEN, 2) ||
	    !all_zero(unused, (size_t)(pt + SS_REACH_LEN - unused)))
		return SS_ERR_MALFORMED;
	return 0;
}

/* A link-local address means nothing without its link: LAN discovery only (16.9). */
static int wire_endpoint(const uint8_t *ep)
{
	if (ep[0] == 0xfe && (ep[1] & 0xc0) == 0x80)
		return SS_ERR_CANDIDATE;
	return ss_reach_endpoint_check(ep, ss_load_be16(ep + 16));
}

static int check_endpoints(const uint8_t *pt, const struct rule *r)
{
	int ret = 0;

	if (r->observed == SET)
		ret = wire_endpoint(pt + SS_REACH_OFF_OBSERVED);
	for (uint8_t i = 0; !ret && i < pt[SS_REACH_OFF_NCAND]; i++) {
		const uint8_t *c = pt + SS_REACH_OFF_CAND + (size_t)i * SS_REACH_EP_LEN;

		ret = wire_endpoint(c);
		for (uint8_t j = 0; !ret && j < i; j++)
			if (!memcmp(c, pt + SS_REACH_OFF_CAND + (size_t)j * SS_REACH_EP_LEN,
				    SS_REACH_EP_LEN))
				ret = SS_ERR_MALFORMED; /* one endpoint, one slot */
	}
	return ret;
}

int ss_reach_decode(const uint8_t *pt, size_t len, ss_reach_msg *m)
{
	const struct rule *r;
	int ret;

	if (!pt || !m)
		return SS_ERR_INVAL;
	if (len != SS_REACH_LEN || pt[0] < SS_CTL_REGISTER || pt[0] > SS_CTL_RELAY_CLOSE)
		return SS_ERR_MALFORMED;
	r = &rules[pt[0]];
	ret = check_fields(pt, r);
	if (!ret)
		ret = check_endpoints(pt, r);
	if (ret)
		return ret;
	memset(m, 0, sizeof(*m));
	m->type = pt[0];
	m->flags = pt[SS_REACH_OFF_FLAGS];
	m->n_cand = pt[SS_REACH_OFF_NCAND];
	m->txid = ss_load_be32(pt + SS_REACH_OFF_TXID);
	m->circuit = ss_load_be32(pt + SS_REACH_OFF_CIRCUIT);
	m->delay_ms = ss_load_be16(pt + SS_REACH_OFF_DELAY);
	m->rtt_ms = ss_load_be16(pt + SS_REACH_OFF_RTT);
	memcpy(m->subject, pt + SS_REACH_OFF_SUBJECT, SS_IDENTITY_LEN);
	load_ep(pt + SS_REACH_OFF_OBSERVED, &m->observed);
	for (uint8_t i = 0; i < m->n_cand; i++)
		load_ep(pt + SS_REACH_OFF_CAND + (size_t)i * SS_REACH_EP_LEN, &m->cand[i]);
	return 0;
}

/* Encoding checks by decoding what it wrote: one set of rules, in one place. */
int ss_reach_encode(const ss_reach_msg *m, uint8_t out[SS_REACH_LEN])
{
	ss_reach_msg check;
	int ret;

	if (!m || !out)
		return SS_ERR_INVAL;
	if (m->n_cand > SS_REACH_MAX_CAND)
		return SS_ERR_MALFORMED;
	memset(out, 0, SS_REACH_LEN);
	out[0] = m->type;
	out[SS_REACH_OFF_FLAGS] = m->flags;
	out[SS_REACH_OFF_NCAND] = m->n_cand;
	ss_store_be32(out + SS_REACH_OFF_TXID, m->txid);
	ss_store_be32(out + SS_REACH_OFF_CIRCUIT, m->circuit);
	ss_store_be16(out + SS_REACH_OFF_DELAY, m->delay_ms);
	ss_store_be16(out + SS_REACH_OFF_RTT, m->rtt_ms);
	memcpy(out + SS_REACH_OFF_SUBJECT, m->subject, SS_IDENTITY_LEN);
	store_ep(out + SS_REACH_OFF_OBSERVED, &m->observed);
	for (uint8_t i = 0; i < m->n_cand; i++)
		store_ep(out + SS_REACH_OFF_CAND + (size_t)i * SS_REACH_EP_LEN, &m->cand[i]);
	ret = ss_reach_decode(out, SS_REACH_LEN, &check);
	if (ret)
		memset(out, 0, SS_REACH_LEN);
	return ret;
}

int ss_peer_seal_reach(ss_ctx *ctx, ss_peer *peer, const uint8_t pt[SS_REACH_LEN], uint8_t *out,
		       size_t out_cap, size_t *out_len, ss_flow *flow_out)
{
	ss_reach_msg check;
	ss_session *s;
	int ret;

	if (!ctx || !peer || !pt || !out || !out_len)
		return SS_ERR_INVAL;
	ret = ss_reach_decode(pt, SS_REACH_LEN, &check);
	if (ret)
		return ret;
	s = peer->current;
	if (!ss_session_usable_tx(s, ss_ctx_mono(ctx))) {
		peer->want_handshake = true;
		return SS_ERR_NO_SESSION;
	}
	if (s->tx_next >= SS_REJECT_AFTER_MESSAGES)
		return SS_ERR_KEY_EXHAUSTED;
	ret = ss_session_seal(ctx, peer, s, SS_MSG_CONTROL, pt, SS_REACH_LEN, out, out_cap,
			      out_len);
	if (!ret && flow_out)
		*flow_out = s->flow;
	return ret;
}

int ss_peer_seal_relay(ss_ctx *ctx, ss_peer *hop, uint32_t circuit, const uint8_t *inner,
		       size_t len, uint8_t *out, size_t out_cap, size_t *out_len, ss_flow *flow_out)
{
	ss_session *s;
	int ret;

	if (!ctx || !hop || !inner || !out || !out_len || circuit == 0)
		return SS_ERR_INVAL;
	if (len < SS_DATA_MIN_LEN || len > SS_RELAY_MAX_INNER || inner[0] < SS_MSG_INIT ||
	    inner[0] > SS_MSG_CONTROL)
		return SS_ERR_RELAY;
	if (out_cap < len + SS_RELAY_OVERHEAD)
		return SS_ERR_BUFFER;
	s = hop->current;
	if (!ss_session_usable_tx(s, ss_ctx_mono(ctx))) {
		hop->want_handshake = true;
		return SS_ERR_NO_SESSION;
	}
	/* The plaintext is built where the ciphertext goes: sealed in place, nothing copied twice.
	 */
	memmove(out + SS_DATA_HDR_LEN + SS_RELAY_INNER_OFF, inner, len);
	ss_store_be32(out + SS_DATA_HDR_LEN + SS_RELAY_OFF_CIRCUIT, circuit);
	ret = ss_session_seal(ctx, hop, s, SS_MSG_RELAY, out + SS_DATA_HDR_LEN,
			      SS_RELAY_INNER_OFF + len, out, out_cap, out_len);
	if (!ret && flow_out)
		*flow_out = s->flow;
	return ret;
}

void ss_relay_flow(ss_flow *out, const uint8_t relay[SS_IDENTITY_LEN], uint32_t circuit)
{
	memset(out, 0, sizeof(*out));
	out->remote_addr[0] = 0x01; /* 100::/64, the RFC 6666 discard prefix */
	memcpy(out->remote_addr + 8, relay, 4);
	ss_store_be32(out->remote_addr + 12, circuit);
	out->remote_port = ss_load_be16(relay + 4);
	out->proto = SS_RELAY_PROTO;
}
