/* SPDX-License-Identifier: MIT */
/*
 * The signed 1-RTT handshake (docs/PROTOCOL.md, "Handshake"). Incoming messages are
 * checked cheapest first: length, mac1, load and cookie, index or identity, timestamp
 * and flood limit, and only then signature, Diffie-Hellman and key confirmation; a
 * RESPONSE's identity is compared with the pin only after all of them (PROTOCOL 4.3).
 * Peer state changes only after every check passed, and then all or nothing: build_*
 * does every step that can fail (and undoes its own on failure), commit_* only steps
 * that cannot.
 */
#include <string.h>

#include <silosec/core.h>

#include "common/endian.h"
#include "internal.h"

static const uint8_t zero_id[SS_IDENTITY_LEN];
static const uint8_t zero_nonce[SS_NONCE_LEN];

void ss_hs_put_prefix(uint8_t *p, uint8_t type)
{
	p[0] = type;
	p[1] = SS_VERSION;
	p[2] = 0;
	p[3] = 0;
}

/* sig_I over LABEL_SIG_INIT || R || init[0..80). */
size_t ss_hs_init_sig_msg(uint8_t *buf, const uint8_t *responder, const uint8_t *init)
{
	static const char label[] = SS_LABEL_SIG_INIT;
	size_t n = sizeof(label) - 1;

	memcpy(buf, label, n);
	memcpy(buf + n, responder, SS_IDENTITY_LEN);
	memcpy(buf + n + SS_IDENTITY_LEN, init, SS_INIT_OFF_SIG);
	return n + SS_IDENTITY_LEN + SS_INIT_OFF_SIG;
}

/* sig_R over LABEL_SIG_RESP || H(init[0..144)) || resp[0..76). */
int ss_hs_resp_sig_msg(uint8_t *buf, size_t *len, const uint8_t *init, const uint8_t *resp)
{
	static const char label[] = SS_LABEL_SIG_RESP;
	size_t n = sizeof(label) - 1;
	int ret;

	memcpy(buf, label, n);
	ret = ss_sha256(buf + n, init, SS_INIT_OFF_MAC1, NULL, 0, NULL, 0);
	memcpy(buf + n + SS_HASH_LEN, resp, SS_RESP_OFF_SIG);
	*len = n + SS_HASH_LEN + SS_RESP_OFF_SIG;
	return ret;
}

int ss_hs_derive_keys(ss_hs_keys *k, const uint8_t dh[SS_DH_LEN], const uint8_t *init,
		      const uint8_t *resp)
{
	static const char lt[] = SS_LABEL_TRANSCRIPT, li[] = SS_LABEL_KEY_I2R,
			  lr[] = SS_LABEL_KEY_R2I, lc[] = SS_LABEL_KEY_CONFIRM;
	uint8_t th[SS_HASH_LEN], prk[SS_HASH_LEN];
	int ret;

	ret = ss_sha256(th, lt, sizeof(lt) - 1, init, SS_INIT_OFF_MAC1, resp, SS_RESP_OFF_CONFIRM);
	if (!ret)
		ret = ss_hkdf_extract(prk, th, sizeof(th), dh, SS_DH_LEN);
	if (!ret)
		ret = ss_hkdf_expand(k->i2r, SS_KEY_LEN, prk, (const uint8_t *)li, sizeof(li) - 1);
	if (!ret)
		ret = ss_hkdf_expand(k->r2i, SS_KEY_LEN, prk, (const uint8_t *)lr, sizeof(lr) - 1);
	if (!ret)
		ret = ss_hkdf_expand(k->confirm, SS_KEY_LEN, prk, (const uint8_t *)lc,
				     sizeof(lc) - 1);
	ss_wipe(prk, sizeof(prk));
	ss_wipe(th, sizeof(th));
	return ret;
}

int ss_hs_resp_seal(const ss_identity *id, EVP_PKEY *eph, const uint8_t *init, uint8_t *resp,
		    ss_hs_keys *k)
{
	uint8_t dh[SS_DH_LEN], sigbuf[160];
	size_t n;
	int ret = ss_hs_resp_sig_msg(sigbuf, &n, init, resp);

	if (!ret)
		ret = ss_identity_sign(id, sigbuf, n, resp + SS_RESP_OFF_SIG);
	if (!ret && ss_x25519_derive(dh, eph, init + SS_INIT_OFF_EPHEMERAL))
		ret = SS_ERR_MALFORMED; /* a signed low-order ephemeral: misbehaving peer */
	if (!ret)
		ret = ss_hs_derive_keys(k, dh, init, resp);
	if (!ret)
		ret = ss_aead_seal_once(k->confirm, zero_nonce, resp, SS_RESP_OFF_CONFIRM, NULL, 0,
					resp + SS_RESP_OFF_CONFIRM);
	ss_wipe(dh, sizeof(dh));
	return ret;
}

/* EVP_PKEY_free cleanses the ephemeral secret. */
static void hs_wipe(ss_peer *peer)
{
	EVP_PKEY_free(peer->hs.eph);
	ss_wipe(&peer->hs, sizeof(peer->hs));
}

void ss_handshake_clear(ss_ctx *ctx, ss_peer *peer)
{
	if (peer->hs.active)
		ss_index_release(ctx, peer, SLOT_HANDSHAKE, peer->hs.index);
	hs_wipe(peer);
}

int ss_handshake_create_init(ss_ctx *ctx, ss_peer *peer, uint8_t *out, size_t out_cap,
			     size_t *out_len)
{
	const uint8_t *responder = peer->has_identity && !peer->tofu ? peer->identity : zero_id;
	uint8_t eph[SS_DH_LEN], sigbuf[160];
	EVP_PKEY *eph_key = NULL;
	uint64_t started;
	uint32_t index;
	ss_time now;
	int ret;

	if (out_cap < SS_INIT_LEN)
		return SS_ERR_BUFFER;
	if (!peer->has_flow)
		return SS_ERR_INVAL;
	/* A peer's first handshake brings its session state (none while it is idle). */
	ret = ss_session_alloc_slots(peer);
	if (ret)
		return ret;
	ss_now(ctx, &now);
	started = peer->hs.active ? peer->hs.started_ns : now.mono_ns;
	ss_handshake_clear(ctx, peer);
	ret = ss_rand(ctx, eph, sizeof(eph));
	if (ret)
		goto out;
	ret = ss_index_alloc(ctx, peer, SLOT_HANDSHAKE, &index);
	if (ret)
		goto out;
	ss_hs_put_prefix(out, SS_MSG_INIT);
	ss_store_be32(out + SS_INIT_OFF_SENDER, index);
	memcpy(out + SS_INIT_OFF_IDENTITY, ss_identity_public(ctx->id), SS_IDENTITY_LEN);
	ret = ss_x25519_keypair(&eph_key, out + SS_INIT_OFF_EPHEMERAL, eph);
	if (ret)
		goto fail_index;
	/* Strictly increasing even if the wall clock steps back. */
	peer->tx_timestamp =
		now.wall_ns > peer->tx_timestamp ? now.wall_ns : peer->tx_timestamp + 1;
	ss_store_be64(out + SS_INIT_OFF_TIMESTAMP, peer->tx_timestamp);
	ret = ss_identity_sign(ctx->id, sigbuf, ss_hs_init_sig_msg(sigbuf, responder, out),
			       out + SS_INIT_OFF_SIG);
	if (!ret)
		ret = ss_mac16(out + SS_INIT_OFF_MAC1, peer->mac1_key, SS_HASH_LEN, out,
			       SS_INIT_OFF_MAC1);
	if (!ret)
		ret = ss_cookie_add_mac2(peer, out, now.mono_ns);
	if (ret)
		goto fail_index;
	peer->hs.active = true;
	peer->hs.index = index;
	peer->hs.eph = eph_key;
	eph_key = NULL;
	memcpy(peer->hs.init, out, SS_INIT_LEN);
	memcpy(peer->hs.responder, responder, SS_IDENTITY_LEN);
	peer->hs.sent_ns = now.mono_ns;
	peer->hs.started_ns = started;
	peer->hs.flow = peer->flow;
	peer->prev_hs_ns = peer->last_hs_ns;
	peer->last_hs_ns = now.mono_ns;
	peer->stats.handshakes_initiated++;
	*out_len = SS_INIT_LEN;
	goto out;
fail_index:
	ss_index_release(ctx, peer, SLOT_HANDSHAKE, index);
out:
	EVP_PKEY_free(eph_key);
	ss_wipe(eph, sizeof(eph));
	return ret;
}

/*
 * Verify(pk, m, s) of section 2 for a handshake: on the wire, a signature by a refused
 * (small-order or non-canonical) identity is an invalid signature, which has a drop
 * counter.
 */
int ss_hs_verify(const uint8_t *pub, const uint8_t *msg, size_t len, const uint8_t *sig)
{
	int ret = ss_identity_verify(pub, msg, len, sig);

	return ret == SS_ERR_BAD_KEY ? SS_ERR_SIGNATURE : ret;
}

static int verify_init_sig(ss_ctx *ctx, const uint8_t *pkt, bool anonymous)
{
	uint8_t sigbuf[160];
	size_t n =
		ss_hs_init_sig_msg(sigbuf, anonymous ? zero_id : ss_identity_public(ctx->id), pkt);

	return ss_hs_verify(pkt + SS_INIT_OFF_IDENTITY, sigbuf, n, pkt + SS_INIT_OFF_SIG);
}

/* mac1 must be keyed by our identity, or by "anyone" when we accept TOFU initiators. */
static int check_init_mac1(ss_ctx *ctx, const uint8_t *pkt, bool *anonymous)
{
	uint8_t mac[SS_MAC_LEN];
	int ret;

	ret = ss_mac16(mac, ctx->mac1_key_self, SS_HASH_LEN, pkt, SS_INIT_OFF_MAC1);
	if (ret)
		return ret;
	*anonymous = false;
	if (ss_ct_equal(mac, pkt + SS_INIT_OFF_MAC1, SS_MAC_LEN))
		return 0;
	if (!ctx->accept_anonymous)
		return SS_ERR_MAC1;
	ret = ss_mac16(mac, ctx->mac1_key_anon, SS_HASH_LEN, pkt, SS_INIT_OFF_MAC1);
	if (ret)
		return ret;
	*anonymous = true;
	return ss_ct_equal(mac, pkt + SS_INIT_OFF_MAC1, SS_MAC_LEN) ? 0 : SS_ERR_MAC1;
}

/*
 * Under load, an INIT without a valid mac2 gets a cookie reply (*answered) and goes no
 * further; one with a valid mac2 passes its source's and the global limit (WireGuard's
 * order). Not under load, nothing is charged per source.
 */
static int answer_under_load(ss_ctx *ctx, const ss_flow *flow, const uint8_t *pkt, uint8_t *out,
			     size_t out_cap, uint64_t now_ns, ss_result *res, bool *answered)
{
	int ret;

	*answered = false;
	if (!ss_cookie_under_load(ctx, now_ns))
		return 0;
	if (!ss_cookie_check_mac2(ctx, flow, pkt, now_ns))
		return ss_cookie_admit(ctx, flow, now_ns);
	ret = ss_cookie_create_reply(ctx, flow, pkt, out, out_cap, &res->len, now_ns);
	if (ret)
		return ret;
	ss_count_drop(ctx, NULL, SS_ERR_COOKIE);
	ctx->stats.cookies_sent++;
	res->kind = SS_RESULT_REPLY;
	*answered = true;
	return 0;
}

/* Who sent it, and is it newer than the last INIT we accepted from them, and not too soon. */
static int check_initiator(ss_ctx *ctx, const uint8_t *pkt, bool anonymous, uint64_t now_ns,
			   ss_result *res, ss_peer **out)
{
	const uint8_t *identity = pkt + SS_INIT_OFF_IDENTITY;
	ss_peer *peer;
	int ret;

	if (!memcmp(identity, ss_identity_public(ctx->id), SS_IDENTITY_LEN))
		return SS_ERR_REFLECTION;
	peer = ss_peer_find(ctx, identity);
	if (!peer) {
		/* Report the identity only once it is proven, so a caller may pin it. */
		ret = verify_init_sig(ctx, pkt, anonymous);
		if (ret)
			return ret;
		memcpy(res->identity, identity, SS_IDENTITY_LEN);
		return SS_ERR_UNKNOWN_PEER;
	}
	res->peer = peer;
	if (ss_load_be64(pkt + SS_INIT_OFF_TIMESTAMP) <= peer->rx_timestamp)
		return SS_ERR_STALE;
	if (peer->rx_init_ns && now_ns - peer->rx_init_ns < SS_HANDSHAKE_MIN_INTERVAL)
		return SS_ERR_RATE_LIMIT;
	*out = peer;
	return 0;
}

static int verify_init(ss_ctx *ctx, ss_peer *peer, const uint8_t *pkt, bool anonymous,
		       uint64_t now_ns)
{
	int ret = verify_init_sig(ctx, pkt, anonymous);

	if (ret)
		return ret;
	/*
	 * Crossing initiations: the smaller identity's handshake wins, so both converge. Only
	 * while ours is fresh: one unanswered for SS_REKEY_TIMEOUT is not crossing theirs, the
	 * peer cannot answer it (e.g. a TOFU peer that has not learned us), and holding out
	 * would lock both sides out until our attempts give up.
	 */
	if (peer->hs.active && now_ns - peer->hs.started_ns < SS_REKEY_TIMEOUT &&
	    memcmp(ss_identity_public(ctx->id), pkt + SS_INIT_OFF_IDENTITY, SS_IDENTITY_LEN) < 0)
		return SS_ERR_UNEXPECTED;
	return 0;
}

/* Build the response for a verified INIT, deriving the keys; nothing is committed. */
static int build_response(ss_ctx *ctx, const uint8_t *init, uint32_t index, uint8_t *resp,
			  ss_hs_keys *k)
{
	uint8_t eph[SS_DH_LEN], mac1_key[SS_HASH_LEN];
	EVP_PKEY *eph_key = NULL;
	int ret;

	ss_hs_put_prefix(resp, SS_MSG_RESPONSE);
	ss_store_be32(resp + SS_RESP_OFF_SENDER, index);
	memcpy(resp + SS_RESP_OFF_RECEIVER, init + SS_INIT_OFF_SENDER, 4);
	memcpy(resp + SS_RESP_OFF_IDENTITY, ss_identity_public(ctx->id), SS_IDENTITY_LEN);
	ret = ss_rand(ctx, eph, sizeof(eph));
	if (!ret)
		ret = ss_x25519_keypair(&eph_key, resp + SS_RESP_OFF_EPHEMERAL, eph);
	if (!ret)
		ret = ss_hs_resp_seal(ctx->id, eph_key, init, resp, k);
	/*
	 * Keyed by the I we just verified (section 3.3), not by peer->mac1_key: that keys our
	 * own INITs, and for a TOFU peer it is the anonymous key, which I drops at mac1.
	 */
	if (!ret)
		ret = ss_mac1_key(mac1_key, init + SS_INIT_OFF_IDENTITY);
	if (!ret)
		ret = ss_mac16(resp + SS_RESP_OFF_MAC1, mac1_key, SS_HASH_LEN, resp,
			       SS_RESP_OFF_MAC1);
	EVP_PKEY_free(eph_key);
	ss_wipe(eph, sizeof(eph));
	return ret;
}

/*
 * Everything of the responder's commit that can fail, with nothing of the peer's changed
 * (the new index names a slot, but no packet can reach it before the commit): on failure
 * the steps done are undone, so the peer is exactly as before.
 */
static int build_responder(ss_ctx *ctx, ss_peer *peer, const uint8_t *init, uint8_t *resp,
			   ss_hs_keys *k, ss_session **slot, uint32_t *index)
{
	bool fresh = !peer->slots;
	ss_session *s;
	int ret;

	/* Only an authenticated INIT from a configured peer costs memory. */
	ret = ss_session_alloc_slots(peer);
	if (ret)
		return ret;
	s = ss_session_free_slot(peer);
	ret = ss_index_alloc(ctx, peer, s->slot, index);
	if (ret)
		goto fail_slots;
	ret = build_response(ctx, init, *index, resp, k);
	if (!ret)
		ret = ss_session_stage(ctx, k->r2i, k->i2r);
	if (!ret) {
		*slot = s;
		return 0;
	}
	ss_index_release(ctx, peer, s->slot, *index);
fail_slots:
	if (fresh)
		ss_session_free_slots(ctx, peer);
	return ret;
}

/* Nothing here can fail (as WireGuard's wg_noise_handshake_begin_session). */
static void commit_responder(ss_ctx *ctx, ss_peer *peer, const ss_flow *flow, const uint8_t *init,
			     ss_session *s, uint32_t index, const ss_time *now)
{
	/* An unconfirmed session we answered before is replaced. */
	ss_session_clear(ctx, peer, s);
	ss_session_install(ctx, s);
	s->local_index = index;
	s->remote_index = ss_load_be32(init + SS_INIT_OFF_SENDER);
	s->created_ns = now->mono_ns;
	s->flow = *flow;
	s->initiator = false;
	s->confirmed = false;
	peer->next = s;
	ss_handshake_clear(ctx, peer);
	peer->rx_timestamp = ss_load_be64(init + SS_INIT_OFF_TIMESTAMP);
	peer->rx_init_ns = now->mono_ns;
	peer->stats.handshakes_responded++;
}

/*
 * Whether the INIT's mac2 proves a cookie round trip from this source. Only with a live
 * cookie secret, so that asking never draws randomness or rotates the secret.
 */
static bool source_proven(ss_ctx *ctx, const ss_flow *flow, const uint8_t *pkt, uint64_t now_ns)
{
	return ctx->has_cookie_secret &&
	       now_ns - ctx->cookie_secret_ns < SS_COOKIE_SECRET_LIFETIME &&
	       !ss_cookie_check_mac2(ctx, flow, pkt, now_ns);
}

/* Checked cheapest first: length, mac1, load, sender, timestamp and rate, then signature. */
int ss_handshake_consume_init(ss_ctx *ctx, const ss_flow *flow, const uint8_t *pkt, size_t len,
			      uint8_t *out, size_t out_cap, ss_result *res)
{
	bool anonymous, answered;
	ss_hs_keys k;
	ss_session *s;
	ss_peer *peer;
	uint32_t index;
	ss_time now;
	int ret;

	if (len != SS_INIT_LEN)
		return SS_ERR_MALFORMED;
	if (out_cap < SS_RESP_LEN)
		return SS_ERR_BUFFER;
	ret = check_init_mac1(ctx, pkt, &anonymous);
	if (ret)
		return ret;
	ss_now(ctx, &now);
	ret = answer_under_load(ctx, flow, pkt, out, out_cap, now.mono_ns, res, &answered);
	if (ret || answered)
		return ret;
	ret = check_initiator(ctx, pkt, anonymous, now.mono_ns, res, &peer);
	/* A verified but unknown identity may be a changed key: say whether the source is real. */
	if (ret == SS_ERR_UNKNOWN_PEER && source_proven(ctx, flow, pkt, now.mono_ns))
		res->flags |= SS_RESULT_F_REACHABLE;
	if (!ret)
		ret = verify_init(ctx, peer, pkt, anonymous, now.mono_ns);
	if (ret)
		return ret;
	ret = build_responder(ctx, peer, pkt, out, &k, &s, &index);
	if (!ret) {
		commit_responder(ctx, peer, flow, pkt, s, index, &now);
		res->kind = SS_RESULT_REPLY;
		res->len = SS_RESP_LEN;
	}
	ss_wipe(&k, sizeof(k));
	return ret;
}

/*
 * For a TOFU peer any identity may answer, except ours or another configured peer's. Only
 * for a verified RESPONSE: SS_ERR_IDENTITY raises an "identity changed" alert, which a
 * forger without the key must not be able to trigger (PROTOCOL 4.3).
 */
static int check_responder(ss_ctx *ctx, ss_peer *peer, const uint8_t *identity)
{
	if (peer->has_identity)
		return memcmp(identity, peer->identity, SS_IDENTITY_LEN) ? SS_ERR_IDENTITY : 0;
	return ss_peer_find(ctx, identity) ? SS_ERR_IDENTITY : 0;
}

/* Verify a RESPONSE against our pending INIT and derive the keys; nothing is committed. */
static int verify_response(ss_peer *peer, const uint8_t *pkt, ss_hs_keys *k)
{
	uint8_t dh[SS_DH_LEN], sigbuf[160], empty[1];
	size_t n;
	int ret;

	ret = ss_hs_resp_sig_msg(sigbuf, &n, peer->hs.init, pkt);
	if (ret)
		return ret;
	ret = ss_hs_verify(pkt + SS_RESP_OFF_IDENTITY, sigbuf, n, pkt + SS_RESP_OFF_SIG);
	if (ret)
		return ret;
	if (ss_x25519_derive(dh, peer->hs.eph, pkt + SS_RESP_OFF_EPHEMERAL))
		return SS_ERR_MALFORMED;
	ret = ss_hs_derive_keys(k, dh, peer->hs.init, pkt);
	ss_wipe(dh, sizeof(dh));
	if (ret)
		return ret;
	ret = ss_aead_open_once(k->confirm, zero_nonce, pkt, SS_RESP_OFF_CONFIRM,
				pkt + SS_RESP_OFF_CONFIRM, 0, empty);
	return ret == SS_ERR_DECRYPT ? SS_ERR_CONFIRM : ret;
}

/*
 * Everything of the initiator's commit that can fail. Learning a TOFU peer's identity comes
 * last, so no step after it can fail and it needs no undo.
 */
static int build_initiator(ss_ctx *ctx, ss_peer *peer, const uint8_t *resp, const ss_hs_keys *k,
			   ss_result *res)
{
	const uint8_t *identity = resp + SS_RESP_OFF_IDENTITY;
	int ret = ss_session_stage(ctx, k->i2r, k->r2i);

	if (ret || peer->has_identity)
		return ret;
	ret = ss_peer_learn_identity(ctx, peer, identity);
	if (ret) {
		ss_session_unstage(ctx);
		return ret;
	}
	res->flags |= SS_RESULT_F_LEARNED;
	memcpy(res->identity, identity, SS_IDENTITY_LEN);
	return 0;
}

/* Nothing here can fail (as WireGuard's wg_noise_handshake_begin_session). */
static void commit_initiator(ss_ctx *ctx, ss_peer *peer, const ss_flow *flow, const uint8_t *resp)
{
	ss_session *s;
	ss_time now;

	ss_now(ctx, &now);
	/* Our own completed handshake supersedes one we answered but nobody confirmed. */
	if (peer->next)
		ss_session_clear(ctx, peer, peer->next);
	/* The new epoch replaces current at once; the old one may only still receive. */
	if (peer->previous)
		ss_session_clear(ctx, peer, peer->previous);
	peer->previous = peer->current;
	peer->current = NULL;
	s = ss_session_free_slot(peer);
	ss_session_clear(ctx, peer, s);
	ss_session_install(ctx, s);
	/* The handshake's index now names the session. */
	ss_index_move(ctx, peer, peer->hs.index, SLOT_HANDSHAKE, s->slot);
	s->local_index = peer->hs.index;
	s->remote_index = ss_load_be32(resp + SS_RESP_OFF_SENDER);
	s->created_ns = now.mono_ns;
	s->flow = *flow;
	s->initiator = true;
	s->confirmed = true;
	s->epoch = ++peer->stats.epoch;
	peer->current = s;
	hs_wipe(peer);
	peer->want_handshake = false;
	peer->flow = *flow;
	peer->has_flow = true;
	peer->stats.handshakes_completed++;
	peer->stats.last_handshake_wall_ns = now.wall_ns;
}

/* Length, mac1, our pending handshake's index, and not our own identity reflected. */
static int check_response(ss_ctx *ctx, const uint8_t *pkt, size_t len, ss_result *res,
			  ss_peer **out)
{
	uint8_t mac[SS_MAC_LEN];
	ss_peer *peer;
	uint32_t slot;
	int ret;

	if (len != SS_RESP_LEN)
		return SS_ERR_MALFORMED;
	ret = ss_mac16(mac, ctx->mac1_key_self, SS_HASH_LEN, pkt, SS_RESP_OFF_MAC1);
	if (ret)
		return ret;
	if (!ss_ct_equal(mac, pkt + SS_RESP_OFF_MAC1, SS_MAC_LEN))
		return SS_ERR_MAC1;
	peer = ss_index_lookup(ctx, ss_load_be32(pkt + SS_RESP_OFF_RECEIVER), &slot);
	res->peer = peer;
	if (!peer || slot != SLOT_HANDSHAKE || !peer->hs.active || !peer->slots)
		return SS_ERR_UNKNOWN_INDEX;
	*out = peer;
	if (!peer->has_identity &&
	    !memcmp(pkt + SS_RESP_OFF_IDENTITY, ss_identity_public(ctx->id), SS_IDENTITY_LEN))
		return SS_ERR_REFLECTION;
	return 0;
}

int ss_handshake_consume_response(ss_ctx *ctx, const ss_flow *flow, const uint8_t *pkt, size_t len,
				  ss_result *res)
{
	ss_hs_keys k;
	ss_peer *peer;
	int ret;

	ret = check_response(ctx, pkt, len, res, &peer);
	if (ret)
		return ret;
	ret = verify_response(peer, pkt, &k);
	if (!ret)
		ret = check_responder(ctx, peer, pkt + SS_RESP_OFF_IDENTITY);
	if (!ret)
		ret = build_initiator(ctx, peer, pkt, &k, res);
	if (!ret) {
		commit_initiator(ctx, peer, flow, pkt);
		res->flags |= SS_RESULT_F_HANDSHAKE;
	}
	ss_wipe(&k, sizeof(k));
	return ret;
}
