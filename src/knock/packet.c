/* SPDX-License-Identifier: MIT */
/*
 * The knock packet: sealing (client) and the stateless validation steps (server).
 * Layout and labels: docs/PROTOCOL.md section 14 and include/silosec/knock.h.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/bn.h>
#include <openssl/sha.h>

#include <silosec/error.h>
#include "knock/knock.h"

#include "common/crypto.h"
#include "common/endian.h"
#include "evidence.h"

static const char LABEL_MAC[] = "silosec knock v1 mac";
static const char LABEL_SALT[] = "silosec knock v1 salt";
static const char LABEL_KEY[] = "silosec knock v1 key";
static const char LABEL_SIG[] = "silosec knock v1 signature";
#define LABEL_SIG_LEN (sizeof(LABEL_SIG) - 1)
#define SIGMSG_MAX (LABEL_SIG_LEN + SS_IDENTITY_LEN + SS_DH_LEN + SS_KNOCK_INNER_MAX)

/*
 * HMAC-SHA256 with the key absorbed once: a MAC starts from copies of the two pad
 * states. OpenSSL 3.0 allocates the provider's state at each copy (one small malloc and
 * free, about 15% of a junk datagram's MAC; no EVP digest path avoids it), not the
 * contexts, made once here; releases whose providers have a digest copyctx copy into
 * the existing state, allocation-free with this same code. The work
 * context makes a MAC check one caller at a time per state, as the knock daemon is.
 * The key derives from the server's public identity, so these states live outside the
 * server's locked memory without exposing a secret.
 */
struct mac_state {
	EVP_MD_CTX *inner, *outer, *work;
};

struct ss_knock_server {
	uint8_t identity[SS_IDENTITY_LEN];
	EVP_PKEY *xkey; /* X25519 image of the identity's private key */
	struct mac_state mac;
};

/* p = 2^255 - 19, little-endian conversion helpers for BIGNUM (which is big-endian). */
int ss_knock_ed25519_pk_to_x25519(uint8_t x[SS_DH_LEN], const uint8_t ed[SS_IDENTITY_LEN])
{
	BN_CTX *bc = BN_CTX_new();
	BIGNUM *p, *y, *num, *den, *u;
	uint8_t yb[32];
	int ret = SS_ERR_CRYPTO;

	if (!bc)
		return SS_ERR_CRYPTO;
	BN_CTX_start(bc);
	p = BN_CTX_get(bc);
	y = BN_CTX_get(bc);
	num = BN_CTX_get(bc);
	den = BN_CTX_get(bc);
	u = BN_CTX_get(bc);
	if (!u)
		goto out;
	/* The top bit is the sign of x, which the Montgomery u coordinate does not need. */
	memcpy(yb, ed, 32);
	yb[31] &= 0x7f;
	if (!BN_set_word(p, 1) || !BN_lshift(p, p, 255) || !BN_sub_word(p, 19) ||
	    !BN_lebin2bn(yb, 32, y))
		goto out;
	/* A non-canonical y (>= p) is rejected, as RFC 8032 decoding does. */
	if (BN_cmp(y, p) >= 0) {
		ret = SS_ERR_FORMAT;
		goto out;
	}
	if (!BN_copy(num, y) || !BN_add_word(num, 1) || !BN_mod(num, num, p, bc) || !BN_one(den) ||
	    !BN_mod_sub(den, den, y, p, bc))
		goto out;
	/* y = 1 is the identity point: 1 - y has no inverse. */
	if (BN_is_zero(den)) {
		ret = SS_ERR_FORMAT;
		goto out;
	}
	if (!BN_mod_inverse(den, den, p, bc) || !BN_mod_mul(u, num, den, p, bc) ||
	    BN_bn2lebinpad(u, x, SS_DH_LEN) != SS_DH_LEN)
		goto out;
	ret = 0;
out:
	BN_CTX_end(bc);
	BN_CTX_free(bc);
	return ret;
}

int ss_knock_ed25519_seed_to_x25519(uint8_t x[SS_DH_LEN], const uint8_t seed[SS_SEED_LEN])
{
	uint8_t h[SHA512_DIGEST_LENGTH];

	/* Ed25519's secret scalar is the clamped first half of SHA-512(seed) (RFC 8032). */
	if (!SHA512(seed, SS_SEED_LEN, h))
		return SS_ERR_CRYPTO;
	memcpy(x, h, SS_DH_LEN);
	x[0] &= 248;
	x[31] &= 127;
	x[31] |= 64;
	ss_wipe(h, sizeof(h));
	return 0;
}

int ss_knock_mac_key(uint8_t key[SS_HASH_LEN], const uint8_t server[SS_IDENTITY_LEN])
{
	return ss_sha256(key, LABEL_MAC, sizeof(LABEL_MAC) - 1, server, SS_IDENTITY_LEN, NULL, 0);
}

static void mac_free(struct mac_state *m)
{
	EVP_MD_CTX_free(m->inner);
	EVP_MD_CTX_free(m->outer);
	EVP_MD_CTX_free(m->work);
	m->inner = m->outer = m->work = NULL;
}

/* One pad state: SHA-256 after the block key ^ pad. */
static bool mac_pad(EVP_MD_CTX *c, const uint8_t key[SS_HASH_LEN], uint8_t fill)
{
	uint8_t pad[SHA256_CBLOCK];
	bool ok;

	memset(pad, fill, sizeof(pad));
	for (size_t i = 0; i < SS_HASH_LEN; i++)
		pad[i] ^= key[i];
	ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) && EVP_DigestUpdate(c, pad, sizeof(pad));
	ss_wipe(pad, sizeof(pad));
	return ok;
}

static int mac_init(struct mac_state *m, const uint8_t server[SS_IDENTITY_LEN])
{
	uint8_t key[SS_HASH_LEN];
	int ret = SS_ERR_CRYPTO;

	m->inner = EVP_MD_CTX_new();
	m->outer = EVP_MD_CTX_new();
	m->work = EVP_MD_CTX_new();
	if (!m->inner || !m->outer || !m->work || ss_knock_mac_key(key, server))
		goto out;
	if (mac_pad(m->inner, key, 0x36) && mac_pad(m->outer, key, 0x5c))
		ret = 0;
out:
	ss_wipe(key, sizeof(key));
	if (ret)
		mac_free(m);
	return ret;
}

/* HMAC-SHA256 truncated to SS_MAC_LEN, from the precomputed pad states. */
static int mac_compute(const struct mac_state *m, const uint8_t *msg, size_t len,
		       uint8_t mac[SS_MAC_LEN])
{
	uint8_t h[SS_HASH_LEN];
	int ok;

	ok = EVP_MD_CTX_copy_ex(m->work, m->inner) && EVP_DigestUpdate(m->work, msg, len) &&
	     EVP_DigestFinal_ex(m->work, h, NULL);
	ok = ok && EVP_MD_CTX_copy_ex(m->work, m->outer) &&
	     EVP_DigestUpdate(m->work, h, sizeof(h)) && EVP_DigestFinal_ex(m->work, h, NULL);
	if (!ok)
		return SS_ERR_CRYPTO;
	memcpy(mac, h, SS_MAC_LEN);
	return 0;
}

/* The AEAD key of one knock: HKDF over the DH result, bound to server and ephemeral. */
static int derive_key(uint8_t key[SS_KEY_LEN], const uint8_t shared[SS_DH_LEN],
		      const uint8_t server[SS_IDENTITY_LEN], const uint8_t eph[SS_DH_LEN])
{
	uint8_t salt[SS_HASH_LEN], prk[SS_HASH_LEN];
	int ret;

	ret = ss_sha256(salt, LABEL_SALT, sizeof(LABEL_SALT) - 1, server, SS_IDENTITY_LEN, eph,
			SS_DH_LEN);
	if (!ret)
		ret = ss_hkdf_extract(prk, salt, sizeof(salt), shared, SS_DH_LEN);
	if (!ret)
		ret = ss_hkdf_expand(key, SS_KEY_LEN, prk, (const uint8_t *)LABEL_KEY,
				     sizeof(LABEL_KEY) - 1);
	ss_wipe(prk, sizeof(prk));
	return ret;
}

/* The signed message: label || server identity || ephemeral || inner without signature. */
static size_t sig_message(uint8_t *m, const uint8_t server[SS_IDENTITY_LEN],
			  const uint8_t eph[SS_DH_LEN], const uint8_t *inner, size_t len)
{
	memcpy(m, LABEL_SIG, LABEL_SIG_LEN);
	memcpy(m + LABEL_SIG_LEN, server, SS_IDENTITY_LEN);
	memcpy(m + LABEL_SIG_LEN + SS_IDENTITY_LEN, eph, SS_DH_LEN);
	memcpy(m + LABEL_SIG_LEN + SS_IDENTITY_LEN + SS_DH_LEN, inner, len);
	return LABEL_SIG_LEN + SS_IDENTITY_LEN + SS_DH_LEN + len;
}

/* Action names are what operators type in knockd.conf: [A-Za-z0-9._-]. */
static bool action_name_ok(const char *a, size_t len)
{
	if (len < 1 || len > SS_KNOCK_MAX_ACTION)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = a[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static const uint8_t V4MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/*
 * An address as the box stores it: one canonical form per address, so the daemon's
 * compare is a memcmp and a v4-mapped IPv6 source matches the IPv4 a client signed.
 */
static int canon_source(int family, const uint8_t *addr, uint8_t *fam,
			uint8_t out[SS_KNOCK_SRC_ADDR_LEN])
{
	memset(out, 0, SS_KNOCK_SRC_ADDR_LEN);
	if (family == AF_UNSPEC) {
		*fam = SS_KNOCK_SRC_ANY;
		return 0;
	}
	if (!addr)
		return SS_ERR_INVAL;
	if (family == AF_INET) {
		*fam = SS_KNOCK_SRC_IPV4;
		memcpy(out, addr, 4);
		return 0;
	}
	if (family != AF_INET6)
		return SS_ERR_INVAL;
	if (!memcmp(addr, V4MAPPED, sizeof(V4MAPPED))) {
		*fam = SS_KNOCK_SRC_IPV4;
		memcpy(out, addr + 12, 4);
		return 0;
	}
	*fam = SS_KNOCK_SRC_IPV6;
	memcpy(out, addr, 16);
	return 0;
}

/* A knock request checked, in the form the inner box carries it. */
struct seal_req {
	size_t alen, ilen, total;
	uint8_t src_fam, src[SS_KNOCK_SRC_ADDR_LEN];
};

/* Nothing secret is touched before the request passes. */
static int seal_check(const ss_knock_req *req, size_t outcap, struct seal_req *r)
{
	if (!req->action || (req->payload_len && !req->payload))
		return SS_ERR_INVAL;
	r->alen = strlen(req->action);
	if (!action_name_ok(req->action, r->alen) || req->payload_len > SS_KNOCK_MAX_PAYLOAD ||
	    canon_source(req->src_family, req->src_addr, &r->src_fam, r->src))
		return SS_ERR_INVAL;
	r->ilen = SS_KNOCK_IN_VAR + r->alen + req->payload_len + SS_SIG_LEN;
	r->total = SS_KNOCK_OVERHEAD + r->ilen;
	return outcap < r->total ? SS_ERR_BUFFER : 0;
}

/* The inner box's plaintext up to the signature; the challenge is the second random draw. */
static int inner_build(uint8_t *inner, const ss_identity *client, const ss_knock_req *req,
		       const struct seal_req *r, ss_random_fn rnd, void *rnd_arg)
{
	int ret;

	inner[SS_KNOCK_IN_VERSION] = SS_KNOCK_VERSION;
	inner[SS_KNOCK_IN_FLAGS] = 0;
	inner[SS_KNOCK_IN_ACTION_LEN] = (uint8_t)r->alen;
	ss_store_be16(inner + SS_KNOCK_IN_PAYLOAD_LEN, (uint16_t)req->payload_len);
	ss_store_be32(inner + SS_KNOCK_IN_DURATION, req->duration);
	ss_store_be64(inner + SS_KNOCK_IN_TIMESTAMP, req->timestamp_ms);
	memcpy(inner + SS_KNOCK_IN_CLIENT, ss_identity_public(client), SS_IDENTITY_LEN);
	ret = rnd(rnd_arg, inner + SS_KNOCK_IN_CHALLENGE, SS_KNOCK_CHALLENGE_LEN);
	if (ret)
		return ret;
	inner[SS_KNOCK_IN_SRC_FAMILY] = r->src_fam;
	memcpy(inner + SS_KNOCK_IN_SRC_ADDR, r->src, SS_KNOCK_SRC_ADDR_LEN);
	memcpy(inner + SS_KNOCK_IN_VAR, req->action, r->alen);
	if (req->payload_len)
		memcpy(inner + SS_KNOCK_IN_VAR + r->alen, req->payload, req->payload_len);
	return 0;
}

/* The signed inner box, encrypted under a key from DH(ephemeral, server), into out. */
static int box_seal(uint8_t *out, EVP_PKEY *ek, const uint8_t server_x[SS_DH_LEN],
		    const uint8_t server[SS_IDENTITY_LEN], const uint8_t *inner, size_t ilen)
{
	uint8_t shared[SS_DH_LEN], key[SS_KEY_LEN], nonce[SS_NONCE_LEN] = {0};
	int ret;

	ret = ss_x25519_derive(shared, ek, server_x);
	if (!ret)
		ret = derive_key(key, shared, server, out + SS_KNOCK_OFF_EPHEMERAL);
	/* Each key seals exactly one message (the ephemeral is fresh), so a zero nonce is safe. */
	if (!ret)
		ret = ss_aead_seal_once(key, nonce, out, SS_KNOCK_HDR_LEN, inner, ilen,
					out + SS_KNOCK_OFF_BOX);
	ss_wipe(shared, sizeof(shared));
	ss_wipe(key, sizeof(key));
	return ret;
}

/* The outer MAC over all before it: its key derives from the server's public identity. */
static int outer_mac(uint8_t *out, size_t total, const uint8_t server[SS_IDENTITY_LEN])
{
	struct mac_state ms = {0};
	int ret;

	ret = mac_init(&ms, server);
	if (!ret)
		ret = mac_compute(&ms, out, total - SS_MAC_LEN, out + total - SS_MAC_LEN);
	mac_free(&ms);
	return ret;
}

int ss_knock_seal(uint8_t *out, size_t outcap, size_t *outlen, const ss_identity *client,
		  const uint8_t server[SS_IDENTITY_LEN], const ss_knock_req *req, ss_random_fn rnd,
		  void *rnd_arg)
{
	uint8_t eph_priv[SS_DH_LEN], server_x[SS_DH_LEN];
	uint8_t inner[SS_KNOCK_INNER_MAX], sigmsg[SIGMSG_MAX];
	uint8_t *eph;
	struct seal_req r;
	EVP_PKEY *ek = NULL;
	size_t slen;
	int ret;

	if (!out || !outlen || !client || !server || !req || !rnd)
		return SS_ERR_INVAL;
	ret = seal_check(req, outcap, &r);
	if (ret)
		return ret;
	eph = out + SS_KNOCK_OFF_EPHEMERAL;
	/* A small-order server key maps to a low-order X25519 point: no secret to share. */
	ret = ss_identity_check_pub(server);
	if (!ret)
		ret = ss_knock_ed25519_pk_to_x25519(server_x, server);
	if (!ret)
		ret = rnd(rnd_arg, eph_priv, sizeof(eph_priv));
	if (ret)
		goto out;
	out[0] = SS_MSG_KNOCK;
	out[1] = SS_VERSION;
	out[2] = 0;
	out[3] = 0;
	ret = ss_x25519_keypair(&ek, eph, eph_priv);
	if (!ret)
		ret = inner_build(inner, client, req, &r, rnd, rnd_arg);
	if (ret)
		goto out;
	slen = sig_message(sigmsg, server, eph, inner, r.ilen - SS_SIG_LEN);
	ret = ss_identity_sign(client, sigmsg, slen, inner + r.ilen - SS_SIG_LEN);
	if (!ret)
		ret = box_seal(out, ek, server_x, server, inner, r.ilen);
	if (!ret)
		ret = outer_mac(out, r.total, server);
	if (!ret)
		*outlen = r.total;
out:
	EVP_PKEY_free(ek);
	ss_wipe(eph_priv, sizeof(eph_priv));
	ss_wipe(inner, sizeof(inner));
	ss_wipe(sigmsg, sizeof(sigmsg));
	return ret;
}

int ss_knock_server_new(ss_knock_server **out, const ss_identity *id)
{
	ss_knock_server *s;
	uint8_t seed[SS_SEED_LEN], xpriv[SS_DH_LEN];
	int ret;

	if (!out || !id)
		return SS_ERR_INVAL;
	s = ss_secret_alloc(sizeof(*s));
	if (!s)
		return SS_ERR_NOMEM;
	memcpy(s->identity, ss_identity_public(id), SS_IDENTITY_LEN);
	ss_identity_seed(id, seed);
	ret = ss_knock_ed25519_seed_to_x25519(xpriv, seed);
	if (!ret) {
		s->xkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, xpriv, SS_DH_LEN);
		if (!s->xkey)
			ret = SS_ERR_CRYPTO;
	}
	if (!ret)
		ret = mac_init(&s->mac, s->identity);
	ss_wipe(seed, sizeof(seed));
	ss_wipe(xpriv, sizeof(xpriv));
	if (ret)
		ss_knock_server_free(s);
	else
		*out = s;
	return ret;
}

void ss_knock_server_free(ss_knock_server *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->xkey);
	mac_free(&s->mac);
	ss_secret_free(s, sizeof(*s));
}

int ss_knock_check_size(const uint8_t *pkt, size_t len)
{
	if (!pkt || len < SS_KNOCK_MIN_LEN || len > SS_KNOCK_MAX_LEN)
		return SS_ERR_KNOCK_SIZE;
	if (pkt[0] != SS_MSG_KNOCK || pkt[1] != SS_VERSION || pkt[2] || pkt[3])
		return SS_ERR_KNOCK_MALFORMED;
	return 0;
}

int ss_knock_check_mac(const ss_knock_server *s, const uint8_t *pkt, size_t len)
{
	uint8_t mac[SS_MAC_LEN];

	if (len < SS_MAC_LEN || mac_compute(&s->mac, pkt, len - SS_MAC_LEN, mac))
		return SS_ERR_KNOCK_MAC;
	return ss_ct_equal(mac, pkt + len - SS_MAC_LEN, SS_MAC_LEN) ? 0 : SS_ERR_KNOCK_MAC;
}

/* Parse a decrypted inner box; the signature is checked by the caller. */
static int parse_inner(const uint8_t *in, size_t ilen, ss_knock_msg *m)
{
	const uint8_t *src = in + SS_KNOCK_IN_SRC_ADDR;
	uint8_t fam;
	size_t alen, plen, used;

	if (in[SS_KNOCK_IN_VERSION] != SS_KNOCK_VERSION || in[SS_KNOCK_IN_FLAGS] != 0)
		return SS_ERR_KNOCK_MALFORMED;
	/* ilen >= SS_KNOCK_INNER_MIN (checked on the outer length) covers the fixed fields. */
	fam = in[SS_KNOCK_IN_SRC_FAMILY];
	if (fam == SS_KNOCK_SRC_ANY)
		used = 0;
	else if (fam == SS_KNOCK_SRC_IPV4)
		used = 4;
	else if (fam == SS_KNOCK_SRC_IPV6 && memcmp(src, V4MAPPED, sizeof(V4MAPPED)))
		used = 16;
	else /* unknown family, or IPv4 written as v4-mapped IPv6: not canonical */
		return SS_ERR_KNOCK_MALFORMED;
	for (size_t i = used; i < SS_KNOCK_SRC_ADDR_LEN; i++)
		if (src[i])
			return SS_ERR_KNOCK_MALFORMED;
	alen = in[SS_KNOCK_IN_ACTION_LEN];
	plen = ss_load_be16(in + SS_KNOCK_IN_PAYLOAD_LEN);
	if (alen < 1 || alen > SS_KNOCK_MAX_ACTION || plen > SS_KNOCK_MAX_PAYLOAD ||
	    SS_KNOCK_IN_VAR + alen + plen + SS_SIG_LEN != ilen)
		return SS_ERR_KNOCK_MALFORMED;
	if (!action_name_ok((const char *)in + SS_KNOCK_IN_VAR, alen))
		return SS_ERR_KNOCK_MALFORMED;
	m->flags = in[SS_KNOCK_IN_FLAGS];
	m->duration = ss_load_be32(in + SS_KNOCK_IN_DURATION);
	m->timestamp_ms = ss_load_be64(in + SS_KNOCK_IN_TIMESTAMP);
	memcpy(m->client, in + SS_KNOCK_IN_CLIENT, SS_IDENTITY_LEN);
	memcpy(m->challenge, in + SS_KNOCK_IN_CHALLENGE, SS_KNOCK_CHALLENGE_LEN);
	m->src_family = fam;
	memcpy(m->src_addr, src, SS_KNOCK_SRC_ADDR_LEN);
	memcpy(m->action, in + SS_KNOCK_IN_VAR, alen);
	m->action[alen] = '\0';
	memcpy(m->payload, in + SS_KNOCK_IN_VAR + alen, plen);
	m->payload_len = plen;
	return 0;
}

/* Parse and verify a decrypted inner box (ilen already within the inner bounds). */
static int check_inner(const uint8_t server[SS_IDENTITY_LEN], const uint8_t *eph,
		       const uint8_t *inner, size_t ilen, ss_knock_msg *msg)
{
	uint8_t sigmsg[SIGMSG_MAX];
	size_t slen;
	int ret = parse_inner(inner, ilen, msg);

	if (!ret) {
		slen = sig_message(sigmsg, server, eph, inner, ilen - SS_SIG_LEN);
		if (ss_identity_verify(msg->client, sigmsg, slen, inner + ilen - SS_SIG_LEN))
			ret = SS_ERR_KNOCK_SIGNATURE;
		ss_wipe(sigmsg, sizeof(sigmsg));
	}
	if (ret)
		ss_wipe(msg, sizeof(*msg));
	return ret;
}

int ss_knock_verify_evidence(const uint8_t server[SS_IDENTITY_LEN], const ss_knock_evidence *ev,
			     ss_knock_msg *msg)
{
	if (!server || !ev || !msg)
		return SS_ERR_INVAL;
	memset(msg, 0, sizeof(*msg));
	if (ev->ilen < SS_KNOCK_INNER_MIN || ev->ilen > SS_KNOCK_INNER_MAX)
		return SS_ERR_KNOCK_MALFORMED;
	return check_inner(server, ev->eph, ev->inner, ev->ilen, msg);
}

int ss_knock_open(const ss_knock_server *s, const uint8_t *pkt, size_t len, ss_knock_msg *msg)
{
	return ss_knock_open_evidence(s, pkt, len, msg, NULL);
}

int ss_knock_open_evidence(const ss_knock_server *s, const uint8_t *pkt, size_t len,
			   ss_knock_msg *msg, ss_knock_evidence *ev)
{
	uint8_t shared[SS_DH_LEN], key[SS_KEY_LEN], inner[SS_KNOCK_INNER_MAX];
	uint8_t nonce[SS_NONCE_LEN] = {0};
	const uint8_t *eph;
	size_t ilen;
	int ret;

	if (!s || !msg)
		return SS_ERR_INVAL;
	memset(msg, 0, sizeof(*msg));
	if (ev)
		memset(ev, 0, sizeof(*ev));
	ret = ss_knock_check_size(pkt, len);
	if (!ret)
		ret = ss_knock_check_mac(s, pkt, len);
	if (ret)
		return ret;
	eph = pkt + SS_KNOCK_OFF_EPHEMERAL;
	ilen = len - SS_KNOCK_OVERHEAD;

	/* A low-order ephemeral gives an all-zero secret, which the wrapper refuses. */
	if (ss_x25519_derive(shared, s->xkey, eph) || derive_key(key, shared, s->identity, eph) ||
	    ss_aead_open_once(key, nonce, pkt, SS_KNOCK_HDR_LEN, pkt + SS_KNOCK_OFF_BOX, ilen,
			      inner)) {
		ret = SS_ERR_KNOCK_DECRYPT;
		goto out;
	}
	ret = check_inner(s->identity, eph, inner, ilen, msg);
	if (!ret && ev) {
		memcpy(ev->eph, eph, SS_DH_LEN);
		ev->ilen = (uint16_t)ilen;
		memcpy(ev->inner, inner, ilen);
	}
out:
	if (ret)
		ss_wipe(msg, sizeof(*msg));
	if (ret && ev)
		ss_wipe(ev, sizeof(*ev));
	ss_wipe(shared, sizeof(shared));
	ss_wipe(key, sizeof(key));
	ss_wipe(inner, sizeof(inner));
	return ret;
}

int ss_knock_check_source(const ss_knock_msg *m, int family, const uint8_t *addr, bool allow_any)
{
	uint8_t fam, a[SS_KNOCK_SRC_ADDR_LEN];

	if (m->src_family == SS_KNOCK_SRC_ANY)
		return allow_any ? 0 : SS_ERR_KNOCK_SOURCE;
	/* Not a literal compare: a dual-stack socket reports IPv4 senders v4-mapped. */
	if (family == AF_UNSPEC || canon_source(family, addr, &fam, a))
		return SS_ERR_KNOCK_SOURCE;
	return fam == m->src_family && !memcmp(a, m->src_addr, SS_KNOCK_SRC_ADDR_LEN)
		       ? 0
		       : SS_ERR_KNOCK_SOURCE;
}

int ss_knock_check_time(const ss_knock_msg *m, uint64_t now_ms, uint64_t window_ms)
{
	uint64_t d = m->timestamp_ms > now_ms ? m->timestamp_ms - now_ms : now_ms - m->timestamp_ms;

	return d <= window_ms ? 0 : SS_ERR_KNOCK_TIME;
}

void ss_knock_base64(const uint8_t *in, size_t len, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = i + 1 < len ? a[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}
