/* SPDX-License-Identifier: MIT */
/*
 * Timers: when to start or retry a handshake, when to send keepalives and echoes,
 * when an epoch is retired.
 */
#include <silosec/core.h>

#include "common/endian.h"
#include "internal.h"

static void retire_expired(ss_ctx *ctx, ss_peer *peer, uint64_t now_ns)
{
	for (int i = 0; peer->slots && i < SS_SESSION_SLOTS; i++) {
		ss_session *s = &peer->slots[i];

		if (s->valid && now_ns - s->created_ns >= SS_REJECT_AFTER_TIME)
			ss_session_clear(ctx, peer, s);
	}
}

/* A peer that just initiated towards us gets REKEY_TIMEOUT to confirm before we cross it. */
static bool waiting_for_initiator(const ss_peer *peer, uint64_t now_ns)
{
	return peer->next && now_ns - peer->next->created_ns < SS_REKEY_TIMEOUT;
}

static int jitter(ss_ctx *ctx, uint64_t *out)
{
	uint8_t r[4];
	int ret = ss_rand(ctx, r, sizeof(r));

	*out = ret ? 0 : ss_load_be32(r) % SS_REKEY_JITTER_MAX;
	return ret;
}

static int tick_handshake(ss_ctx *ctx, ss_peer *peer, uint64_t now, uint8_t *out, size_t cap,
			  size_t *out_len, bool *sent)
{
	uint64_t j;
	int ret;

	*sent = false;
	if (peer->hs.active) {
		if (now < peer->hs.retry_ns)
			return 0;
		if (now - peer->hs.started_ns >= SS_REKEY_ATTEMPT_TIME) {
			/* Give up until new traffic asks again. */
			ss_handshake_clear(ctx, peer);
			peer->want_handshake = false;
			return 0;
		}
	} else if (!peer->want_handshake || !peer->has_flow || waiting_for_initiator(peer, now) ||
		   now < peer->hs_not_before_ns) {
		return 0;
	}
	ret = ss_handshake_create_init(ctx, peer, out, cap, out_len);
	if (ret)
		return ret;
	ret = jitter(ctx, &j);
	if (ret)
		return ret;
	peer->hs.retry_ns = now + SS_REKEY_TIMEOUT + j;
	peer->want_handshake = false;
	*sent = true;
	return 0;
}

static bool keepalive_due(const ss_peer *peer, uint64_t now)
{
	uint64_t ka = (uint64_t)peer->keepalive_s * SS_NS_PER_SEC;

	if (peer->rx_data_pending && now - peer->last_rx_ns >= SS_KEEPALIVE_TIMEOUT)
		return true;
	return ka && now - peer->last_tx_ns >= ka;
}

int ss_peer_tick(ss_ctx *ctx, ss_peer *peer, uint8_t *out, size_t out_cap, size_t *out_len,
		 ss_flow *flow_out, enum ss_tick_kind *kind)
{
	ss_session *cur;
	uint64_t now;
	bool sent;
	int ret;

	if (!ctx || !peer || !out || !out_len || !kind)
		return SS_ERR_INVAL;
	*out_len = 0;
	*kind = SS_TICK_NONE;
	now = ss_ctx_mono(ctx);
	retire_expired(ctx, peer, now);
	if (peer->has_cookie && now - peer->cookie_ns >= SS_COOKIE_LIFETIME) {
		ss_wipe(peer->cookie, sizeof(peer->cookie));
		peer->has_cookie = false;
	}
	ret = tick_handshake(ctx, peer, now, out, out_cap, out_len, &sent);
	if (ret || sent) {
		if (sent) {
			*kind = SS_TICK_HANDSHAKE;
			if (flow_out)
				*flow_out = peer->hs.flow;
		}
		return ret;
	}
	cur = peer->current;
	if (!ss_session_usable_tx(cur, now) || cur->tx_next >= SS_REJECT_AFTER_MESSAGES)
		return 0;
	if (ss_control_echo_due(cur, now)) {
		ret = ss_control_create_echo(ctx, peer, cur, out, out_cap, out_len);
		*kind = SS_TICK_ECHO;
	} else if (keepalive_due(peer, now)) {
		/*
		 * A keepalive keeps the key fresh as data does (WireGuard's keep_key_fresh), so
		 * that PersistentKeepalive alone rekeys before the session ages out instead of
		 * letting it lapse at SS_REJECT_AFTER_TIME; the next tick sends the INIT.
		 */
		if (ss_session_need_rekey(cur, now))
			peer->want_handshake = true;
		ret = ss_session_seal(ctx, peer, cur, SS_MSG_DATA, NULL, 0, out, out_cap, out_len);
		*kind = SS_TICK_KEEPALIVE;
	} else {
		return 0;
	}
	if (ret) {
		*kind = SS_TICK_NONE;
		*out_len = 0;
	} else if (flow_out) {
		*flow_out = cur->flow;
	}
	return ret;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

uint64_t ss_peer_deadline(const ss_peer *peer)
{
	uint64_t d = UINT64_MAX;
	const ss_session *cur = peer->current;

	if (peer->hs.active)
		d = min64(d, peer->hs.retry_ns);
	else if (peer->want_handshake && peer->has_flow)
		d = max64(peer->next ? peer->next->created_ns + SS_REKEY_TIMEOUT : 0,
			  peer->hs_not_before_ns);
	for (int i = 0; peer->slots && i < SS_SESSION_SLOTS; i++)
		if (peer->slots[i].valid)
			d = min64(d, peer->slots[i].created_ns + SS_REJECT_AFTER_TIME);
	if (cur && cur->valid && cur->confirmed) {
		d = min64(d, ss_control_echo_deadline(cur));
		if (peer->rx_data_pending)
			d = min64(d, peer->last_rx_ns + SS_KEEPALIVE_TIMEOUT);
		if (peer->keepalive_s)
			d = min64(d,
				  peer->last_tx_ns + (uint64_t)peer->keepalive_s * SS_NS_PER_SEC);
	}
	if (peer->has_cookie)
		d = min64(d, peer->cookie_ns + SS_COOKIE_LIFETIME);
	return d;
}
