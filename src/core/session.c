/* SPDX-License-Identifier: MIT */
/*
 * Sessions (epochs): per-direction AES-256-GCM keys, counter nonces, the replay
 * window, and the rules that retire an epoch. Nothing here allocates but
 * ss_session_alloc_slots, once per peer, when its first handshake starts, and
 * ss_session_alloc_stage, once per context.
 */
#include <stdlib.h>
#include <string.h>

#include <silosec/core.h>

#include "common/endian.h"
#include "internal.h"

void ss_session_clear(ss_ctx *ctx, ss_peer *peer, ss_session *s)
{
	ss_aead tx = s->tx, rx = s->rx;
	uint8_t slot = s->slot;

	if (s->valid)
		ss_index_release(ctx, peer, slot, s->local_index);
	if (peer->current == s)
		peer->current = NULL;
	if (peer->previous == s)
		peer->previous = NULL;
	if (peer->next == s)
		peer->next = NULL;
	/* Resetting a cipher context cleanses and frees its expanded key schedule. */
	if (s->valid) {
		EVP_CIPHER_CTX_reset(tx.c);
		EVP_CIPHER_CTX_reset(rx.c);
	}
	ss_wipe(s, sizeof(*s));
	s->tx = tx;
	s->rx = rx;
	s->slot = slot;
}

int ss_session_alloc_stage(ss_ctx *ctx)
{
	int ret = ss_aead_init(&ctx->stage_tx);

	return ret ? ret : ss_aead_init(&ctx->stage_rx);
}

void ss_session_free_stage(ss_ctx *ctx)
{
	ss_aead_free(&ctx->stage_tx);
	ss_aead_free(&ctx->stage_rx);
}

void ss_session_unstage(ss_ctx *ctx)
{
	/* Resetting a cipher context cleanses and frees its expanded key schedule. */
	EVP_CIPHER_CTX_reset(ctx->stage_tx.c);
	EVP_CIPHER_CTX_reset(ctx->stage_rx.c);
}

int ss_session_stage(ss_ctx *ctx, const uint8_t k_send[SS_KEY_LEN],
		     const uint8_t k_recv[SS_KEY_LEN])
{
	int ret = ss_aead_setkeys(&ctx->stage_tx, &ctx->stage_rx, k_send, k_recv);

	if (ret)
		ss_session_unstage(ctx);
	return ret;
}

/* s was cleared, so its cipher pair holds no key: the stage gets it for the next handshake. */
void ss_session_install(ss_ctx *ctx, ss_session *s)
{
	ss_aead tx = s->tx, rx = s->rx;

	s->tx = ctx->stage_tx;
	s->rx = ctx->stage_rx;
	ctx->stage_tx = tx;
	ctx->stage_rx = rx;
	s->valid = true;
	s->tx_next = 0;
	s->rx_packets = 0;
	ss_replay_init(&s->rx_window);
}

int ss_session_alloc_slots(ss_peer *peer)
{
	ss_session *slots;

	if (peer->slots)
		return 0;
	slots = calloc(SS_SESSION_SLOTS, sizeof(*slots));
	if (!slots)
		return SS_ERR_NOMEM;
	peer->slots = slots;
	for (int i = 0; i < SS_SESSION_SLOTS; i++) {
		slots[i].slot = (uint8_t)i;
		if (ss_aead_init(&slots[i].tx) || ss_aead_init(&slots[i].rx)) {
			ss_session_free_slots(peer->ctx, peer);
			return SS_ERR_NOMEM;
		}
	}
	return 0;
}

void ss_session_free_slots(ss_ctx *ctx, ss_peer *peer)
{
	if (!peer->slots)
		return;
	for (int i = 0; i < SS_SESSION_SLOTS; i++) {
		ss_session_clear(ctx, peer, &peer->slots[i]);
		ss_aead_free(&peer->slots[i].tx);
		ss_aead_free(&peer->slots[i].rx);
	}
	ss_wipe(peer->slots, SS_SESSION_SLOTS * sizeof(*peer->slots));
	free(peer->slots);
	peer->slots = NULL;
}

ss_session *ss_session_free_slot(ss_peer *peer)
{
	/* An unconfirmed responder session is replaced by a newer one. */
	if (peer->next)
		return peer->next;
	for (int i = 0; i < SS_SESSION_SLOTS; i++) {
		ss_session *s = &peer->slots[i];

		if (s != peer->current && s != peer->previous)
			return s;
	}
	return &peer->slots[0]; /* unreachable: three slots, two named */
}

bool ss_session_usable_tx(const ss_session *s, uint64_t now_ns)
{
	return s && s->valid && s->confirmed && now_ns - s->created_ns < SS_REJECT_AFTER_TIME;
}

static void make_nonce(uint8_t nonce[SS_NONCE_LEN], uint64_t counter)
{
	memset(nonce, 0, 4);
	ss_store_be64(nonce + 4, counter);
}

int ss_session_seal(ss_ctx *ctx, ss_peer *peer, ss_session *s, uint8_t type, const uint8_t *pt,
		    size_t len, uint8_t *out, size_t out_cap, size_t *out_len)
{
	uint8_t nonce[SS_NONCE_LEN];
	int ret;

	if (len > SS_MAX_PLAINTEXT)
		return SS_ERR_INVAL;
	if (out_cap < len + SS_DATA_OVERHEAD)
		return SS_ERR_BUFFER;
	if (s->tx_next >= SS_REJECT_AFTER_MESSAGES)
		return SS_ERR_KEY_EXHAUSTED;
	out[0] = type;
	out[1] = SS_VERSION;
	out[2] = out[3] = 0;
	ss_store_be32(out + SS_DATA_OFF_RECEIVER, s->remote_index);
	ss_store_be64(out + SS_DATA_OFF_COUNTER, s->tx_next);
	make_nonce(nonce, s->tx_next);
	ret = ss_aead_seal(&s->tx, nonce, out, SS_DATA_HDR_LEN, pt, len, out + SS_DATA_HDR_LEN);
	if (ret)
		return ret;
	/* A counter is spent even if the caller never sends: nonces are never reused. */
	s->tx_next++;
	peer->last_tx_ns = ss_ctx_mono(ctx);
	peer->rx_data_pending = false;
	if (type != SS_MSG_CONTROL) {
		peer->stats.packets_sealed++;
		peer->stats.bytes_sealed += len;
	}
	*out_len = len + SS_DATA_OVERHEAD;
	return 0;
}

static int check_alive(const ss_peer *peer, const ss_session *s, uint64_t counter, uint64_t now_ns)
{
	if (s != peer->current && s != peer->previous && s != peer->next)
		return SS_ERR_EXPIRED;
	if (now_ns - s->created_ns >= SS_REJECT_AFTER_TIME || counter >= SS_REJECT_AFTER_MESSAGES)
		return SS_ERR_EXPIRED;
	return 0;
}

/* The peer proved it holds this session's keys: old epochs end now (invariant 5). */
static void promote(ss_ctx *ctx, ss_peer *peer, ss_session *s, const ss_time *now, ss_result *res)
{
	if (s == peer->next) {
		if (peer->current)
			ss_session_clear(ctx, peer, peer->current);
		if (peer->previous)
			ss_session_clear(ctx, peer, peer->previous);
		peer->next = NULL;
		peer->current = s;
		s->confirmed = true;
		s->epoch = ++peer->stats.epoch;
		peer->flow = s->flow;
		peer->has_flow = true;
		peer->stats.handshakes_completed++;
		peer->stats.last_handshake_wall_ns = now->wall_ns;
		res->flags |= SS_RESULT_F_HANDSHAKE;
	} else if (s == peer->current && peer->previous) {
		ss_session_clear(ctx, peer, peer->previous);
	}
}

/* What an opened packet of this type and plaintext length hands the caller. */
static void set_result(ss_peer *peer, uint8_t type, size_t ctlen, ss_result *res)
{
	if (type == SS_MSG_RELAY) {
		res->kind = SS_RESULT_RELAY;
		res->len = ctlen;
	} else if (type == SS_MSG_CONTROL && ctlen == SS_REACH_LEN) {
		res->kind = SS_RESULT_CONTROL;
		res->len = ctlen;
	} else if (type == SS_MSG_CONTROL) {
		res->kind = SS_RESULT_NONE;
	} else if (ctlen == 0) {
		res->flags |= SS_RESULT_F_KEEPALIVE;
		res->kind = SS_RESULT_NONE;
	} else {
		peer->rx_data_pending = true;
		res->kind = SS_RESULT_DATA;
		res->len = ctlen;
	}
}

int ss_session_open_packet(ss_ctx *ctx, const ss_flow *flow, const uint8_t *pkt, size_t len,
			   uint8_t *out, size_t out_cap, ss_result *res)
{
	uint8_t nonce[SS_NONCE_LEN];
	uint64_t counter;
	size_t ctlen;
	ss_session *s;
	ss_peer *peer;
	uint32_t slot;
	ss_time now;
	int ret;

	if (len < SS_DATA_MIN_LEN || len > SS_MAX_PACKET)
		return SS_ERR_MALFORMED;
	counter = ss_load_be64(pkt + SS_DATA_OFF_COUNTER);
	ctlen = len - SS_DATA_OVERHEAD;
	if (pkt[0] == SS_MSG_CONTROL && ctlen != SS_CTL_LEN && ctlen != SS_REACH_LEN)
		return SS_ERR_MALFORMED;
	if (pkt[0] == SS_MSG_RELAY && len < SS_RELAY_MIN_LEN)
		return SS_ERR_MALFORMED;
	peer = ss_index_lookup(ctx, ss_load_be32(pkt + SS_DATA_OFF_RECEIVER), &slot);
	res->peer = peer;
	if (!peer || slot >= SS_SESSION_SLOTS || !peer->slots || !peer->slots[slot].valid)
		return SS_ERR_UNKNOWN_INDEX;
	s = &peer->slots[slot];
	ss_now(ctx, &now);
	ret = check_alive(peer, s, counter, now.mono_ns);
	if (!ret)
		ret = ss_replay_check(&s->rx_window, counter);
	if (!ret && !ss_flow_equal(flow, &s->flow))
		ret = SS_ERR_FLOW;
	if (!ret && out_cap < ctlen)
		ret = SS_ERR_BUFFER;
	if (ret)
		return ret;
	make_nonce(nonce, counter);
	ret = ss_aead_open(&s->rx, nonce, pkt, SS_DATA_HDR_LEN, pkt + SS_DATA_HDR_LEN, ctlen, out);
	if (ret)
		return ret;
	if (pkt[0] == SS_MSG_CONTROL) {
		ret = ss_control_handle(ctx, peer, s, out, ctlen, counter);
		if (ret == SS_ERR_DIVERGENCE) {
			ss_session_clear(ctx, peer, s);
			peer->want_handshake = true;
			res->flags |= SS_RESULT_F_REKEY;
		}
		if (ret)
			return ret;
	}
	/* A relayed datagram carries a SiloSec message of the tunnel's own types, nothing else. */
	if (pkt[0] == SS_MSG_RELAY &&
	    (out[SS_RELAY_INNER_OFF] < SS_MSG_INIT || out[SS_RELAY_INNER_OFF] > SS_MSG_CONTROL))
		return SS_ERR_RELAY;
	ss_replay_commit(&s->rx_window, counter);
	s->rx_packets++;
	peer->last_rx_ns = now.mono_ns;
	if (pkt[0] != SS_MSG_CONTROL) {
		s->echo_pending = true;
		peer->stats.packets_opened++;
		peer->stats.bytes_opened += ctlen;
	}
	promote(ctx, peer, s, &now, res);
	set_result(peer, pkt[0], ctlen, res);
	if (peer->want_handshake)
		res->flags |= SS_RESULT_F_REKEY;
	return 0;
}
