/* SPDX-License-Identifier: MIT */
/* Context and peer lifetime, index and identity tables, counters. */
#include <stdlib.h>
#include <string.h>

#include <silosec/core.h>

#include "common/endian.h"
#include "internal.h"

void ss_now(ss_ctx *ctx, ss_time *t)
{
	ctx->clock(ctx->clock_arg, t);
}

uint64_t ss_ctx_mono(ss_ctx *ctx)
{
	ss_time t;

	ctx->clock(ctx->clock_arg, &t);
	return t.mono_ns;
}

int ss_rand(ss_ctx *ctx, void *buf, size_t len)
{
	return ctx->random(ctx->random_arg, buf, len) ? SS_ERR_CRYPTO : 0;
}

uint64_t ss_identity_key(const uint8_t id[SS_IDENTITY_LEN])
{
	return ss_load_be64(id) ^ ss_load_be64(id + 8);
}

int ss_mac1_key(uint8_t out[SS_HASH_LEN], const uint8_t id[SS_IDENTITY_LEN])
{
	static const char label[] = SS_LABEL_MAC1;

	return ss_sha256(out, label, sizeof(label) - 1, id, SS_IDENTITY_LEN, NULL, 0);
}

int ss_cookie_key(uint8_t out[SS_HASH_LEN], const uint8_t id[SS_IDENTITY_LEN])
{
	static const char label[] = SS_LABEL_COOKIE_KEY;

	return ss_sha256(out, label, sizeof(label) - 1, id, SS_IDENTITY_LEN, NULL, 0);
}

int ss_mac16(uint8_t out[SS_MAC_LEN], const uint8_t *key, size_t keylen, const uint8_t *msg,
	     size_t len)
{
	uint8_t full[SS_HASH_LEN];
	int ret = ss_hmac_sha256(full, key, keylen, msg, len);

	memcpy(out, full, SS_MAC_LEN);
	ss_wipe(full, sizeof(full));
	return ret;
}

void ss_count_drop(ss_ctx *ctx, ss_peer *peer, int code)
{
	int i = ss_drop_index(code);

	if (i < 0)
		return;
	if (peer)
		peer->stats.drops[i]++;
	else
		ctx->stats.drops[i]++;
}

/*
 * The per-source table of INITs under load (PROTOCOL 7.4), keyed one-way from the seeds the
 * context drew already: a draw of its own would change every random stream after it
 * (tests/vectors).
 */
static int source_rl_create(ss_ctx *ctx, const uint64_t seeds[2])
{
	static const char label[] = "SiloSec v2 source limiter";
	uint8_t h[SS_HASH_LEN];
	ss_mix_key key;
	int ret;

	ret = ss_sha256(h, label, sizeof(label) - 1, seeds, 2 * sizeof(seeds[0]), NULL, 0);
	memcpy(&key, h, sizeof(key));
	if (!ret)
		ret = ss_rl_create(&ctx->source_rl, SS_LOAD_SOURCE_SLOTS,
				   SS_LOAD_SOURCE_INITS_PER_SEC, SS_LOAD_SOURCE_BURST, &key);
	if (!ret)
		ret = ss_rl_rate_init(&ctx->proven_rate, SS_LOAD_PROVEN_INITS_PER_SEC,
				      SS_LOAD_PROVEN_BURST);
	ss_wipe(h, sizeof(h));
	ss_wipe(&key, sizeof(key));
	return ret;
}

int ss_ctx_create(ss_ctx **out, const ss_ctx_config *cfg)
{
	static const uint8_t anon[SS_IDENTITY_LEN];
	uint64_t seeds[2];
	ss_ctx *ctx;
	int ret;

	if (!out || !cfg || !cfg->identity || !cfg->clock || !cfg->random || !cfg->max_peers ||
	    cfg->max_peers > (1u << 24))
		return SS_ERR_INVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return SS_ERR_NOMEM;
	ctx->id = cfg->identity;
	ctx->clock = cfg->clock;
	ctx->clock_arg = cfg->clock_arg;
	ctx->random = cfg->random;
	ctx->random_arg = cfg->random_arg;
	ctx->accept_anonymous = cfg->accept_anonymous;
	ctx->max_peers = cfg->max_peers;
	ctx->force_load = -1;
	ctx->load_tokens_ns = SS_LOAD_BURST * (SS_NS_PER_SEC / SS_LOAD_INITS_PER_SEC);
	ret = ss_rand(ctx, seeds, sizeof(seeds));
	if (ret)
		goto fail;
	ret = ss_mac1_key(ctx->mac1_key_self, ss_identity_public(ctx->id));
	if (!ret)
		ret = ss_mac1_key(ctx->mac1_key_anon, anon);
	if (!ret)
		ret = ss_cookie_key(ctx->cookie_key_self, ss_identity_public(ctx->id));
	if (!ret)
		ret = ss_table_init(&ctx->by_identity, cfg->max_peers, seeds[0]);
	if (!ret)
		ret = ss_table_init(&ctx->by_index, cfg->max_peers * (SS_SESSION_SLOTS + 1),
				    seeds[1]);
	if (!ret)
		ret = ss_session_alloc_stage(ctx);
	if (!ret)
		ret = source_rl_create(ctx, seeds);
	if (ret)
		goto fail;
	ctx->load_last_ns = UINT64_MAX;
	*out = ctx;
	return 0;
fail:
	ss_ctx_free(ctx);
	return ret;
}

static void peer_destroy(ss_ctx *ctx, ss_peer *peer)
{
	ss_handshake_clear(ctx, peer);
	ss_session_free_slots(ctx, peer);
	ss_wipe(peer, sizeof(*peer));
	free(peer);
}

void ss_ctx_free(ss_ctx *ctx)
{
	if (!ctx)
		return;
	while (ctx->peers)
		ss_peer_remove(ctx, ctx->peers);
	ss_table_free(&ctx->by_identity);
	ss_table_free(&ctx->by_index);
	ss_session_free_stage(ctx);
	ss_rl_free(ctx->source_rl);
	ss_wipe(ctx, sizeof(*ctx));
	free(ctx);
}

void ss_ctx_set_under_load(ss_ctx *ctx, bool on)
{
	ctx->force_load = on ? 1 : 0;
}

/* All or nothing: a TOFU peer learns its identity as the last step of a handshake commit. */
static int peer_set_identity(ss_ctx *ctx, ss_peer *peer, const uint8_t *identity)
{
	static const uint8_t anon[SS_IDENTITY_LEN];
	uint8_t mac1_key[SS_HASH_LEN];
	int ret;

	/* A TOFU peer is asked anonymously even once pinned, so a changed key answers. */
	ret = ss_mac1_key(mac1_key, identity && !peer->tofu ? identity : anon);
	if (!ret && identity)
		ret = ss_table_insert(&ctx->by_identity, ss_identity_key(identity), peer, 0);
	if (ret)
		return ret;
	memcpy(peer->mac1_key, mac1_key, SS_HASH_LEN);
	if (!identity)
		return 0;
	memcpy(peer->identity, identity, SS_IDENTITY_LEN);
	peer->has_identity = true;
	return 0;
}

/* A TOFU peer learns the identity that completed its handshake. */
int ss_peer_learn_identity(ss_ctx *ctx, ss_peer *peer, const uint8_t *identity)
{
	if (ss_peer_find(ctx, identity))
		return SS_ERR_EXISTS;
	return peer_set_identity(ctx, peer, identity);
}

int ss_peer_add(ss_ctx *ctx, const uint8_t identity[SS_IDENTITY_LEN], ss_peer **out)
{
	ss_peer *peer;
	int ret;

	if (!ctx || !out)
		return SS_ERR_INVAL;
	/* Anyone can sign as a small-order key: trusting one would trust everybody. */
	if (identity && ss_identity_check_pub(identity))
		return SS_ERR_BAD_KEY;
	if (ctx->npeers >= ctx->max_peers)
		return SS_ERR_FULL;
	if (identity && ss_peer_find(ctx, identity))
		return SS_ERR_EXISTS;
	if (identity && !memcmp(identity, ss_identity_public(ctx->id), SS_IDENTITY_LEN))
		return SS_ERR_INVAL;
	peer = calloc(1, sizeof(*peer));
	if (!peer)
		return SS_ERR_NOMEM;
	peer->ctx = ctx;
	ret = peer_set_identity(ctx, peer, identity);
	if (ret)
		goto fail;
	peer->list_next = ctx->peers;
	ctx->peers = peer;
	ctx->npeers++;
	*out = peer;
	return 0;
fail:
	peer_destroy(ctx, peer);
	return ret;
}

void ss_peer_remove(ss_ctx *ctx, ss_peer *peer)
{
	ss_peer **pp;

	for (pp = &ctx->peers; *pp && *pp != peer; pp = &(*pp)->list_next)
		;
	if (!*pp)
		return;
	*pp = peer->list_next;
	ctx->npeers--;
	if (peer->has_identity)
		ss_table_remove(&ctx->by_identity, ss_identity_key(peer->identity), peer, 0);
	peer_destroy(ctx, peer);
}

int ss_peer_add_tofu(ss_ctx *ctx, const uint8_t pinned[SS_IDENTITY_LEN], ss_peer **out)
{
	int ret = ss_peer_add(ctx, pinned, out);

	if (ret)
		return ret;
	(*out)->tofu = true;
	return ss_mac1_key((*out)->mac1_key, (const uint8_t[SS_IDENTITY_LEN]){0});
}

ss_peer *ss_peer_find(ss_ctx *ctx, const uint8_t identity[SS_IDENTITY_LEN])
{
	uint64_t key = ss_identity_key(identity);
	uint32_t pos = UINT32_MAX;
	ss_table_slot *s;

	while ((s = ss_table_next(&ctx->by_identity, key, &pos))) {
		ss_peer *p = s->val;

		if (!memcmp(p->identity, identity, SS_IDENTITY_LEN))
			return p;
	}
	return NULL;
}

const uint8_t *ss_peer_identity(const ss_peer *peer)
{
	return peer->has_identity ? peer->identity : NULL;
}

void ss_peer_set_flow(ss_peer *peer, const ss_flow *flow)
{
	peer->flow = *flow;
	peer->has_flow = true;
}

void ss_peer_set_keepalive(ss_peer *peer, uint32_t seconds)
{
	peer->keepalive_s = seconds;
}

/*
 * Only the replay floor goes (PROTOCOL.md 4.2, step 6): the INIT rate limit, the
 * sessions and the timestamps we send stay, so this is no more than a restart would
 * reopen, and less (a restart also forgets the rate limit).
 */
uint64_t ss_peer_forget_timestamp(ss_peer *peer)
{
	uint64_t was = peer->rx_timestamp;

	peer->rx_timestamp = 0;
	return was;
}

void ss_peer_set_user(ss_peer *peer, void *user)
{
	peer->user = user;
}

void *ss_peer_user(const ss_peer *peer)
{
	return peer->user;
}

void ss_peer_get_stats(const ss_peer *peer, ss_peer_stats *out)
{
	*out = peer->stats;
}

void ss_peer_count_drop(ss_peer *peer, int code)
{
	ss_count_drop(peer->ctx, peer, code);
}

void ss_ctx_get_stats(const ss_ctx *ctx, ss_ctx_stats *out)
{
	*out = ctx->stats;
}

bool ss_peer_has_session(const ss_peer *peer)
{
	return peer->current && peer->current->valid;
}

int ss_index_alloc(ss_ctx *ctx, ss_peer *peer, uint32_t slot, uint32_t *out)
{
	/* Random indices: an off-path attacker cannot guess a live one. */
	for (int tries = 0; tries < 16; tries++) {
		uint32_t idx, pos = UINT32_MAX;
		uint8_t r[4];
		int ret = ss_rand(ctx, r, sizeof(r));

		if (ret)
			return ret;
		idx = ss_load_be32(r);
		if (ss_table_next(&ctx->by_index, idx, &pos))
			continue;
		ret = ss_table_insert(&ctx->by_index, idx, peer, slot);
		if (ret)
			return ret;
		*out = idx;
		return 0;
	}
	return SS_ERR_FULL;
}

void ss_index_release(ss_ctx *ctx, ss_peer *peer, uint32_t slot, uint32_t index)
{
	ss_table_remove(&ctx->by_index, index, peer, slot);
}

void ss_index_move(ss_ctx *ctx, ss_peer *peer, uint32_t index, uint32_t from, uint32_t to)
{
	ss_table_retag(&ctx->by_index, index, peer, from, to);
}

ss_peer *ss_index_lookup(ss_ctx *ctx, uint32_t index, uint32_t *slot)
{
	uint32_t pos = UINT32_MAX;
	ss_table_slot *s = ss_table_next(&ctx->by_index, index, &pos);

	if (!s)
		return NULL;
	*slot = s->aux;
	return s->val;
}
