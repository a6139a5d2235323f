/* SPDX-License-Identifier: MIT */
/*
 * The SiloSec v2 handshake carried over a stream (docs/PROTOCOL.md 13.2): the INIT and
 * RESPONSE of sections 3.2 and 3.3 byte for byte, signatures, transcript and key schedule
 * unchanged, but with the types 6 and 7. The type byte is signed and hashed into the
 * transcript, so a stream handshake can never be accepted by a datagram responder or
 * the reverse. There are no cookies (the connection already proves reachability) and no
 * timestamp check (a replayed INIT gets a RESPONSE nobody can confirm). SS_ERR_IDENTITY,
 * the "identity changed" verdict, comes only after the peer proved it holds the key.
 */
#include <string.h>
#include <time.h>

#include <silosec/core.h>

#include "common/clock.h"
#include "common/endian.h"
#include "core/hs.h"
#include "stream_internal.h"
#include "common/truststore.h"

static const uint8_t zero_id[SS_IDENTITY_LEN];
static const uint8_t zero_nonce[SS_NONCE_LEN];

static bool prefix_ok(const uint8_t *p, uint8_t type)
{
	return p[0] == type && p[1] == SS_VERSION && p[2] == 0 && p[3] == 0;
}

static int rnd(ss_stream *s, void *buf, size_t len)
{
	return s->random(s->random_arg, buf, len) ? SS_ERR_CRYPTO : 0;
}

/*
 * The peer policy. Pinned set: membership. known_hosts: the name's pin must match; an
 * unknown name is pinned, but only with commit (once the peer is fully authenticated).
 */
int ss_stream_check_peer(ss_stream *s, const uint8_t id[SS_IDENTITY_LEN], bool commit)
{
	uint8_t pinned[SS_IDENTITY_LEN];
	ss_truststore *ts = NULL;
	char err[256];
	int ret;

	if (!memcmp(id, ss_identity_public(s->id), SS_IDENTITY_LEN))
		return SS_ERR_REFLECTION;
	if (s->npeers) {
		for (size_t i = 0; i < s->npeers; i++)
			if (!memcmp(s->peers[i], id, SS_IDENTITY_LEN))
				return 0;
		return s->initiator ? SS_ERR_IDENTITY : SS_ERR_UNKNOWN_PEER;
	}
	if (!s->known_hosts)
		return s->accept_any ? 0 : SS_ERR_UNKNOWN_PEER;
	if (ss_trust_load(s->known_hosts, &ts, err, sizeof(err)))
		return SS_ERR_IO;
	ret = ss_trust_lookup(ts, s->peer_name, pinned);
	if (!ret) {
		ret = memcmp(pinned, id, SS_IDENTITY_LEN) ? SS_ERR_IDENTITY : 0;
	} else if (ret == SS_ERR_NOT_FOUND) {
		ret = 0;
		if (commit) {
			ret = ss_trust_pin(ts, s->peer_name, id);
			if (!ret)
				ret = ss_trust_save(ts) ? SS_ERR_IO : 0;
			if (!ret)
				s->learned = true;
		} else {
			s->pin_pending = true;
		}
	}
	ss_trust_free(ts);
	return ret;
}

/* R*: the one pinned identity; anonymous for a set or trust on first use (13.2). */
static const uint8_t *expected_responder(const ss_stream *s)
{
	return s->npeers == 1 ? s->peers[0] : zero_id;
}

int ss_stream_hs_init(ss_stream *s, uint8_t out[SS_INIT_LEN])
{
	uint8_t eph[SS_DH_LEN], sigbuf[160], mac1_key[SS_HASH_LEN];
	uint64_t wall = ss_wall_ns();
	int ret;

	ss_hs_put_prefix(out, SS_STREAM_MSG_INIT);
	ret = rnd(s, out + SS_INIT_OFF_SENDER, 4);
	if (!ret)
		ret = rnd(s, eph, sizeof(eph));
	if (ret)
		goto out;
	memcpy(out + SS_INIT_OFF_IDENTITY, ss_identity_public(s->id), SS_IDENTITY_LEN);
	EVP_PKEY_free(s->eph);
	s->eph = NULL;
	ret = ss_x25519_keypair(&s->eph, out + SS_INIT_OFF_EPHEMERAL, eph);
	if (ret)
		goto out;
	ss_store_be64(out + SS_INIT_OFF_TIMESTAMP, s->timestamp_ns ? s->timestamp_ns : wall);
	ret = ss_identity_sign(s->id, sigbuf,
			       ss_hs_init_sig_msg(sigbuf, expected_responder(s), out),
			       out + SS_INIT_OFF_SIG);
	if (!ret)
		ret = ss_mac1_key(mac1_key, expected_responder(s));
	if (!ret)
		ret = ss_mac16(out + SS_INIT_OFF_MAC1, mac1_key, SS_HASH_LEN, out,
			       SS_INIT_OFF_MAC1);
	memset(out + SS_INIT_OFF_MAC2, 0, SS_MAC_LEN);
	memcpy(s->init, out, SS_INIT_LEN);
out:
	ss_wipe(eph, sizeof(eph));
	return ret;
}

/* msg's mac1 (at off, over msg[0..off)) keyed for id: 0, SS_ERR_MAC1 or a crypto error. */
static int check_mac1(const uint8_t *msg, size_t off, const uint8_t *id)
{
	uint8_t key[SS_HASH_LEN], mac[SS_MAC_LEN];
	int ret = ss_mac1_key(key, id);

	if (!ret)
		ret = ss_mac16(mac, key, SS_HASH_LEN, msg, off);
	if (ret)
		return ret;
	return ss_ct_equal(mac, msg + off, SS_MAC_LEN) ? 0 : SS_ERR_MAC1;
}

/* mac1 keyed by our identity (pinned initiator) or by "anyone" (set or TOFU initiator). */
static int check_init_mac1(ss_stream *s, const uint8_t *init, const uint8_t **rstar)
{
	int ret = check_mac1(init, SS_INIT_OFF_MAC1, ss_identity_public(s->id));

	if (!ret)
		*rstar = ss_identity_public(s->id);
	else if (ret == SS_ERR_MAC1 && !(ret = check_mac1(init, SS_INIT_OFF_MAC1, zero_id)))
		*rstar = zero_id;
	return ret;
}

int ss_stream_hs_respond(ss_stream *s, const uint8_t init[SS_INIT_LEN], uint8_t resp[SS_RESP_LEN])
{
	uint8_t eph[SS_DH_LEN], sigbuf[160], mac1_key[SS_HASH_LEN];
	const uint8_t *identity = init + SS_INIT_OFF_IDENTITY;
	const uint8_t *rstar = NULL;
	EVP_PKEY *eph_key = NULL;
	ss_hs_keys k;
	int ret;

	memset(&k, 0, sizeof(k));
	/* No cookies on a stream: mac2 must be zero, so that no byte of the INIT is free. */
	if (!prefix_ok(init, SS_STREAM_MSG_INIT) ||
	    !ss_ct_equal(init + SS_INIT_OFF_MAC2, zero_id, SS_MAC_LEN))
		return SS_ERR_MALFORMED;
	ret = check_init_mac1(s, init, &rstar);
	if (ret)
		return ret;
	if (!memcmp(identity, ss_identity_public(s->id), SS_IDENTITY_LEN))
		return SS_ERR_REFLECTION;
	ret = ss_hs_verify(identity, sigbuf, ss_hs_init_sig_msg(sigbuf, rstar, init),
			   init + SS_INIT_OFF_SIG);
	if (ret)
		return ret;
	/*
	 * A pinned name presenting another identity is an "identity changed" verdict, which
	 * needs a completed handshake: this INIT may be another client's, replayed (no
	 * timestamp check here). It is answered; the confirm frame decides (stream.c).
	 */
	ret = ss_stream_check_peer(s, identity, false);
	if (ret && ret != SS_ERR_IDENTITY)
		return ret;

	ss_hs_put_prefix(resp, SS_STREAM_MSG_RESPONSE);
	memcpy(resp + SS_RESP_OFF_RECEIVER, init + SS_INIT_OFF_SENDER, 4);
	memcpy(resp + SS_RESP_OFF_IDENTITY, ss_identity_public(s->id), SS_IDENTITY_LEN);
	ret = rnd(s, resp + SS_RESP_OFF_SENDER, 4);
	if (!ret)
		ret = rnd(s, eph, sizeof(eph));
	if (!ret)
		ret = ss_x25519_keypair(&eph_key, resp + SS_RESP_OFF_EPHEMERAL, eph);
	if (!ret)
		ret = ss_hs_resp_seal(s->id, eph_key, init, resp, &k);
	if (!ret)
		ret = ss_mac1_key(mac1_key, identity);
	if (!ret)
		ret = ss_mac16(resp + SS_RESP_OFF_MAC1, mac1_key, SS_HASH_LEN, resp,
			       SS_RESP_OFF_MAC1);
	if (!ret)
		ret = ss_stream_set_keys(s, k.r2i, k.i2r);
	if (!ret) {
		memcpy(s->peer_id, identity, SS_IDENTITY_LEN);
		s->have_peer = false; /* authenticated only by the confirm frame */
	}
	EVP_PKEY_free(eph_key);
	ss_wipe(eph, sizeof(eph));
	ss_wipe(&k, sizeof(k));
	return ret;
}

int ss_stream_hs_finish(ss_stream *s, const uint8_t resp[SS_RESP_LEN])
{
	uint8_t dh[SS_DH_LEN], sigbuf[160], empty[1];
	const uint8_t *identity = resp + SS_RESP_OFF_IDENTITY;
	ss_hs_keys k;
	size_t n;
	int ret;

	memset(&k, 0, sizeof(k));
	if (!prefix_ok(resp, SS_STREAM_MSG_RESPONSE))
		return SS_ERR_MALFORMED;
	ret = check_mac1(resp, SS_RESP_OFF_MAC1, ss_identity_public(s->id));
	if (ret)
		return ret;
	if (memcmp(resp + SS_RESP_OFF_RECEIVER, s->init + SS_INIT_OFF_SENDER, 4))
		return SS_ERR_UNKNOWN_INDEX;
	if (!memcmp(identity, ss_identity_public(s->id), SS_IDENTITY_LEN))
		return SS_ERR_REFLECTION;
	/* The identity is judged against the pins only once signature and confirm verified. */
	ret = ss_hs_resp_sig_msg(sigbuf, &n, s->init, resp);
	if (!ret)
		ret = ss_hs_verify(identity, sigbuf, n, resp + SS_RESP_OFF_SIG);
	if (ret)
		return ret;
	if (ss_x25519_derive(dh, s->eph, resp + SS_RESP_OFF_EPHEMERAL))
		return SS_ERR_MALFORMED;
	ret = ss_hs_derive_keys(&k, dh, s->init, resp);
	ss_wipe(dh, sizeof(dh));
	if (!ret) {
		ret = ss_aead_open_once(k.confirm, zero_nonce, resp, SS_RESP_OFF_CONFIRM,
					resp + SS_RESP_OFF_CONFIRM, 0, empty);
		if (ret == SS_ERR_DECRYPT)
			ret = SS_ERR_CONFIRM;
	}
	/* Fully authenticated: only now may a first-use identity be written down. */
	if (!ret)
		ret = ss_stream_check_peer(s, identity, true);
	if (!ret)
		ret = ss_stream_set_keys(s, k.i2r, k.r2i);
	if (!ret) {
		memcpy(s->peer_id, identity, SS_IDENTITY_LEN);
		s->have_peer = true;
	}
	EVP_PKEY_free(s->eph);
	s->eph = NULL;
	ss_wipe(&k, sizeof(k));
	return ret;
}
