/* SPDX-License-Identifier: MIT */
/*
 * Stateless cookies (invariant 8). Under load a responder answers an INIT that lacks a
 * valid mac2 with a cookie bound to the sender's address, and keeps nothing: only an
 * initiator that can receive at that address can prove reachability with mac2.
 */
#include <string.h>
#include <sys/socket.h>

#include <silosec/core.h>

#include "common/endian.h"
#include "internal.h"

static const uint8_t zero_id[SS_IDENTITY_LEN];

bool ss_cookie_under_load(ss_ctx *ctx, uint64_t now_ns)
{
	const uint64_t cost = SS_NS_PER_SEC / SS_LOAD_INITS_PER_SEC;
	const uint64_t cap = SS_LOAD_BURST * cost;

	if (ctx->force_load >= 0)
		return ctx->force_load;
	/* Token bucket kept as time credit: each INIT that reaches this point costs one. */
	if (ctx->load_last_ns != UINT64_MAX && now_ns > ctx->load_last_ns) {
		uint64_t credit = now_ns - ctx->load_last_ns;

		ctx->load_tokens_ns =
			credit >= cap - ctx->load_tokens_ns ? cap : ctx->load_tokens_ns + credit;
	}
	ctx->load_last_ns = now_ns;
	if (ctx->load_tokens_ns < cost)
		return true;
	ctx->load_tokens_ns -= cost;
	return false;
}

/*
 * A source that proved with mac2 that it receives at its address still costs a signature
 * check per INIT: each source (an IPv4 address or IPv6 /64, common/ratelimit.h) gets its
 * own bucket, and all of them together one more, so that many sources, each within its
 * own, cannot buy unbounded signature work. Only such INITs are charged: a spoofer cannot
 * drain the bucket of the address he forges (he cannot compute its mac2).
 */
int ss_cookie_admit(ss_ctx *ctx, const ss_flow *flow, uint64_t now_ns)
{
	ss_rl_key k;

	/* remote_addr holds IPv4 as v4-mapped IPv6, which the key counts as IPv4. */
	(void)ss_rl_key_ip(&k, AF_INET6, flow->remote_addr);
	/* The source's own first: one over its limit takes nothing from the others. */
	if (!ss_rl_allow(ctx->source_rl, &k, now_ns) ||
	    !ss_rl_bucket_take(&ctx->proven_rate, &ctx->proven_tat, now_ns))
		return SS_ERR_RATE_LIMIT;
	return 0;
}

static int cookie_for(ss_ctx *ctx, const ss_flow *flow, uint64_t now_ns,
		      uint8_t cookie[SS_COOKIE_LEN])
{
	uint8_t src[19];
	int ret;

	if (!ctx->has_cookie_secret ||
	    now_ns - ctx->cookie_secret_ns >= SS_COOKIE_SECRET_LIFETIME) {
		ret = ss_rand(ctx, ctx->cookie_secret, sizeof(ctx->cookie_secret));
		if (ret)
			return ret;
		ctx->cookie_secret_ns = now_ns;
		ctx->has_cookie_secret = true;
	}
	memcpy(src, flow->remote_addr, 16);
	ss_store_be16(src + 16, flow->remote_port);
	src[18] = flow->proto;
	return ss_mac16(cookie, ctx->cookie_secret, sizeof(ctx->cookie_secret), src, sizeof(src));
}

int ss_cookie_check_mac2(ss_ctx *ctx, const ss_flow *flow, const uint8_t *init, uint64_t now_ns)
{
	uint8_t cookie[SS_COOKIE_LEN], mac[SS_MAC_LEN];
	int ret;

	ret = cookie_for(ctx, flow, now_ns, cookie);
	if (!ret)
		ret = ss_mac16(mac, cookie, sizeof(cookie), init, SS_INIT_OFF_MAC2);
	if (!ret && !ss_ct_equal(mac, init + SS_INIT_OFF_MAC2, SS_MAC_LEN))
		ret = SS_ERR_COOKIE;
	ss_wipe(cookie, sizeof(cookie));
	return ret;
}

int ss_cookie_create_reply(ss_ctx *ctx, const ss_flow *flow, const uint8_t *init, uint8_t *out,
			   size_t out_cap, size_t *out_len, uint64_t now_ns)
{
	uint8_t cookie[SS_COOKIE_LEN], anon_key[SS_HASH_LEN], mac[SS_MAC_LEN];
	const uint8_t *key = ctx->cookie_key_self;
	int ret;

	if (out_cap < SS_COOKIE_MSG_LEN)
		return SS_ERR_BUFFER;
	/* An anonymous initiator cannot know our cookie key; it used the all-zero one. */
	ret = ss_mac16(mac, ctx->mac1_key_self, SS_HASH_LEN, init, SS_INIT_OFF_MAC1);
	if (ret)
		return ret;
	if (!ss_ct_equal(mac, init + SS_INIT_OFF_MAC1, SS_MAC_LEN)) {
		ret = ss_cookie_key(anon_key, zero_id);
		if (ret)
			return ret;
		key = anon_key;
	}
	ret = cookie_for(ctx, flow, now_ns, cookie);
	if (ret)
		goto out;
	out[0] = SS_MSG_COOKIE;
	out[1] = SS_VERSION;
	out[2] = out[3] = 0;
	memcpy(out + SS_COOKIE_OFF_RECEIVER, init + SS_INIT_OFF_SENDER, 4);
	ret = ss_rand(ctx, out + SS_COOKIE_OFF_NONCE, SS_NONCE_LEN);
	if (!ret)
		ret = ss_aead_seal_once(key, out + SS_COOKIE_OFF_NONCE, init + SS_INIT_OFF_MAC1,
					SS_MAC_LEN, cookie, SS_COOKIE_LEN, out + SS_COOKIE_OFF_BOX);
	if (!ret)
		*out_len = SS_COOKIE_MSG_LEN;
out:
	ss_wipe(cookie, sizeof(cookie));
	return ret;
}

int ss_cookie_consume_reply(ss_ctx *ctx, const uint8_t *pkt, size_t len, ss_result *res)
{
	uint8_t cookie[SS_COOKIE_LEN], key[SS_HASH_LEN];
	ss_peer *peer;
	uint32_t slot;
	ss_time now;
	int ret;

	if (len != SS_COOKIE_MSG_LEN)
		return SS_ERR_MALFORMED;
	peer = ss_index_lookup(ctx, ss_load_be32(pkt + SS_COOKIE_OFF_RECEIVER), &slot);
	res->peer = peer;
	if (!peer || slot != SLOT_HANDSHAKE || !peer->hs.active)
		return SS_ERR_UNKNOWN_INDEX;
	/*
	 * The responder boxed it under the R* our INIT's mac1 was keyed with, which for a
	 * TOFU peer is 0^32 even once its identity is known: not the peer's identity.
	 */
	ret = ss_cookie_key(key, peer->hs.responder);
	if (ret)
		return ret;
	ret = ss_aead_open_once(key, pkt + SS_COOKIE_OFF_NONCE, peer->hs.init + SS_INIT_OFF_MAC1,
				SS_MAC_LEN, pkt + SS_COOKIE_OFF_BOX, SS_COOKIE_LEN, cookie);
	if (ret)
		goto out;
	ss_now(ctx, &now);
	memcpy(peer->cookie, cookie, SS_COOKIE_LEN);
	peer->cookie_ns = now.mono_ns;
	peer->has_cookie = true;
out:
	ss_wipe(cookie, sizeof(cookie));
	return ret;
}

int ss_cookie_add_mac2(ss_peer *peer, uint8_t *init, uint64_t now_ns)
{
	if (!peer->has_cookie || now_ns - peer->cookie_ns >= SS_COOKIE_LIFETIME) {
		memset(init + SS_INIT_OFF_MAC2, 0, SS_MAC_LEN);
		return 0;
	}
	return ss_mac16(init + SS_INIT_OFF_MAC2, peer->cookie, SS_COOKIE_LEN, init,
			SS_INIT_OFF_MAC2);
}
