/* SPDX-License-Identifier: MIT */
/*
 * Knock packets: the Ed25519 -> X25519 map against libsodium's published vectors, the
 * packet format (rebuilt here from docs/PROTOCOL.md section 14 with the primitives, not
 * with the code under test), and one test per rejection reason.
 */
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/sha.h>

#include <silosec/error.h>
#include "knock/knock.h"

#include "common/crypto.h"
#include "common/endian.h"
#include "evidence.h"
#include "helpers.h"
#include "kconf.h"
#include "prefilter.h"
#include "validate.h"

static void unhex(uint8_t *out, const char *hex, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* libsodium test/default/ed25519_convert.c and .exp */
static void test_map_vectors(void **state)
{
	uint8_t seed[32], pub[32], xpub[32], xpriv[32], want_pub[32], want_priv[32], ed[32];
	uint8_t derived[32];

	(void)state;
	unhex(seed, "421151a459faeade3d247115f94aedae42318124095afabe4d1451a559faedee", 32);
	unhex(ed, "b5076a8474a832daee4dd5b4040983b6623b5f344aca57d4d6ee4baf3f259e6e", 32);
	unhex(want_pub, "f1814f0e8ff1043d8a44d25babff3cedcae6c22c3edaa48f857ae70de2baae50", 32);
	unhex(want_priv, "8052030376d47112be7f73ed7a019293dd12ad910b654455798b4667d73de166", 32);
	assert_int_equal(ss_ed25519_public(pub, seed), 0);
	assert_memory_equal(pub, ed, 32);
	assert_int_equal(ss_knock_ed25519_pk_to_x25519(xpub, pub), 0);
	assert_memory_equal(xpub, want_pub, 32);
	assert_int_equal(ss_knock_ed25519_seed_to_x25519(xpriv, seed), 0);
	assert_memory_equal(xpriv, want_priv, 32);
	assert_int_equal(ss_x25519_public(derived, xpriv), 0);
	assert_memory_equal(derived, want_pub, 32);
}

/* For many identities, X25519(private image) equals the map of the public key. */
static void test_map_consistent(void **state)
{
	test_rng rng;

	(void)state;
	test_rng_init(&rng, "knock map");
	for (int i = 0; i < 64; i++) {
		uint8_t seed[32], pub[32], xpub[32], xpriv[32], derived[32];

		assert_int_equal(test_rng_fn(&rng, seed, sizeof(seed)), 0);
		assert_int_equal(ss_ed25519_public(pub, seed), 0);
		assert_int_equal(ss_knock_ed25519_pk_to_x25519(xpub, pub), 0);
		assert_int_equal(ss_knock_ed25519_seed_to_x25519(xpriv, seed), 0);
		assert_int_equal(ss_x25519_public(derived, xpriv), 0);
		assert_memory_equal(derived, xpub, 32);
	}
}

static void test_map_rejects(void **state)
{
	uint8_t ed[32] = {1}, x[32];

	(void)state;
	/* y = 1 (the neutral point), with either sign bit. */
	assert_int_equal(ss_knock_ed25519_pk_to_x25519(x, ed), SS_ERR_FORMAT);
	ed[31] = 0x80;
	assert_int_equal(ss_knock_ed25519_pk_to_x25519(x, ed), SS_ERR_FORMAT);
	/* y = p = 2^255 - 19: not canonical. */
	memset(ed, 0xff, 32);
	ed[0] = 0xed;
	ed[31] = 0x7f;
	assert_int_equal(ss_knock_ed25519_pk_to_x25519(x, ed), SS_ERR_FORMAT);
	/* y = 0 maps to u = 1. */
	memset(ed, 0, 32);
	assert_int_equal(ss_knock_ed25519_pk_to_x25519(x, ed), 0);
	assert_int_equal(x[0], 1);
}

/* ---- fixtures ---- */
struct fx {
	test_rng rng;
	ss_identity *server, *client, *other;
	ss_knock_server *srv;
	uint8_t pkt[SS_KNOCK_MAX_LEN + 64];
	size_t len;
	ss_knock_msg msg;
	uint8_t bind4[4]; /* the source seal_as signs; bumped per knock */
};

/* The source build_inner signs (the independent sealer's box). */
static const uint8_t spec_src[4] = {192, 0, 2, 33};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	test_rng_init(&f->rng, "knock");
	assert_int_equal(ss_identity_generate(&f->server, test_rng_fn, &f->rng), 0);
	assert_int_equal(ss_identity_generate(&f->client, test_rng_fn, &f->rng), 0);
	assert_int_equal(ss_identity_generate(&f->other, test_rng_fn, &f->rng), 0);
	assert_int_equal(ss_knock_server_new(&f->srv, f->server), 0);
	f->bind4[0] = 198;
	f->bind4[1] = 51;
	f->bind4[2] = 100;
	f->bind4[3] = 7;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ss_knock_server_free(f->srv);
	ss_identity_free(f->server);
	ss_identity_free(f->client);
	ss_identity_free(f->other);
	free(f);
	return 0;
}

/* ss_knock_seal of req from f's client to f's server, into f->pkt. */
static int seal_req(struct fx *f, const ss_knock_req *req)
{
	return ss_knock_seal(f->pkt, sizeof(f->pkt), &f->len, f->client,
			     ss_identity_public(f->server), req, test_rng_fn, &f->rng);
}

static void seal(struct fx *f, const char *action, const char *payload, uint64_t ts)
{
	ss_knock_req req = {
		.action = action,
		.payload = (const uint8_t *)payload,
		.payload_len = payload ? strlen(payload) : 0,
		.duration = 42,
		.timestamp_ms = ts,
		.src_family = AF_INET,
		.src_addr = spec_src,
	};

	assert_int_equal(seal_req(f, &req), 0);
}

static void test_roundtrip(void **state)
{
	struct fx *f = *state;

	seal(f, "ssh", "hello", 1700000000123ull);
	assert_int_equal(f->len, SS_KNOCK_OVERHEAD + SS_KNOCK_IN_VAR + 3 + 5 + SS_SIG_LEN);
	assert_int_equal(f->pkt[0], SS_MSG_KNOCK);
	assert_int_equal(f->pkt[1], SS_VERSION);
	assert_int_equal(ss_knock_check_size(f->pkt, f->len), 0);
	assert_int_equal(ss_knock_check_mac(f->srv, f->pkt, f->len), 0);
	assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg), 0);
	assert_string_equal(f->msg.action, "ssh");
	assert_int_equal(f->msg.payload_len, 5);
	assert_memory_equal(f->msg.payload, "hello", 5);
	assert_int_equal(f->msg.duration, 42);
	assert_int_equal(f->msg.timestamp_ms, 1700000000123ull);
	assert_memory_equal(f->msg.client, ss_identity_public(f->client), 32);
	assert_int_equal(f->msg.src_family, SS_KNOCK_SRC_IPV4);
	assert_memory_equal(f->msg.src_addr, spec_src, 4);
	/* Nothing in the datagram is the plaintext. */
	assert_null(memmem(f->pkt, f->len, "hello", 5));
	assert_null(memmem(f->pkt, f->len, ss_identity_public(f->client), 32));
}

/*
 * The privileged parent's re-check: the evidence the parser child forwards verifies
 * against the server identity, and any field a compromised child changes breaks it.
 */
static void test_evidence(void **state)
{
	struct fx *f = *state;
	const uint8_t *server = ss_identity_public(f->server);
	ss_knock_evidence ev, bad;
	ss_knock_msg m;

	seal(f, "ssh", "hello", 1700000000123ull);
	assert_int_equal(ss_knock_open_evidence(f->srv, f->pkt, f->len, &f->msg, &ev), 0);
	assert_int_equal(ev.ilen, f->len - SS_KNOCK_OVERHEAD);
	assert_int_equal(ss_knock_verify_evidence(server, &ev, &m), 0);
	assert_memory_equal(&m, &f->msg, sizeof(m));
	/* Every byte of the inner box and the ephemeral is covered. */
	for (size_t i = 0; i < (size_t)ev.ilen + SS_DH_LEN; i++) {
		bad = ev;
		if (i < ev.ilen)
			bad.inner[i] ^= 0x01;
		else
			bad.eph[i - ev.ilen] ^= 0x01;
		assert_int_not_equal(ss_knock_verify_evidence(server, &bad, &m), 0);
		assert_true(m.action[0] == '\0' && m.payload_len == 0);
	}
	/* Another server's knock, or a length out of bounds. */
	assert_int_equal(ss_knock_verify_evidence(ss_identity_public(f->other), &ev, &m),
			 SS_ERR_KNOCK_SIGNATURE);
	bad = ev;
	bad.ilen = SS_KNOCK_INNER_MAX + 1;
	assert_int_equal(ss_knock_verify_evidence(server, &bad, &m), SS_ERR_KNOCK_MALFORMED);
	bad.ilen = SS_KNOCK_INNER_MIN - 1;
	assert_int_equal(ss_knock_verify_evidence(server, &bad, &m), SS_ERR_KNOCK_MALFORMED);
	/* A knock that does not open gives no evidence. */
	f->pkt[f->len - 1] ^= 1;
	assert_int_not_equal(ss_knock_open_evidence(f->srv, f->pkt, f->len, &f->msg, &ev), 0);
	assert_int_equal(ev.ilen, 0);
}

static void test_limits(void **state)
{
	struct fx *f = *state;
	uint8_t big[SS_KNOCK_MAX_PAYLOAD + 1];
	char act[SS_KNOCK_MAX_ACTION + 2];
	ss_knock_req req = {.action = act, .payload = big};

	memset(big, 0xa5, sizeof(big));
	memset(act, 'a', sizeof(act));
	act[SS_KNOCK_MAX_ACTION] = '\0';
	req.payload_len = SS_KNOCK_MAX_PAYLOAD;
	assert_int_equal(seal_req(f, &req), 0);
	assert_int_equal(f->len, SS_KNOCK_MAX_LEN);
	assert_true(SS_KNOCK_MAX_LEN + 48 <= 1280); /* IPv6 minimum MTU with IPv6 + UDP headers */
	assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg), 0);
	assert_int_equal(f->msg.payload_len, SS_KNOCK_MAX_PAYLOAD);
	/* Over the limits: refused when sealing. */
	req.payload_len = SS_KNOCK_MAX_PAYLOAD + 1;
	assert_int_equal(seal_req(f, &req), SS_ERR_INVAL);
	req.payload_len = 0;
	act[SS_KNOCK_MAX_ACTION] = 'a';
	act[SS_KNOCK_MAX_ACTION + 1] = '\0';
	assert_int_equal(seal_req(f, &req), SS_ERR_INVAL);
	req.action = "a b";
	assert_int_equal(seal_req(f, &req), SS_ERR_INVAL);
	req.action = "";
	assert_int_equal(seal_req(f, &req), SS_ERR_INVAL);
	/* Smallest knock: one-letter action, no payload. */
	req.action = "x";
	assert_int_equal(seal_req(f, &req), 0);
	assert_int_equal(f->len, SS_KNOCK_MIN_LEN);
	assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg), 0);
	/* Output buffer too small. */
	assert_int_equal(ss_knock_seal(f->pkt, SS_KNOCK_MIN_LEN - 1, &f->len, f->client,
				       ss_identity_public(f->server), &req, test_rng_fn, &f->rng),
			 SS_ERR_BUFFER);
}

static void test_reject_size(void **state)
{
	struct fx *f = *state;
	uint8_t junk[2048] = {SS_MSG_KNOCK, SS_VERSION};

	assert_int_equal(ss_knock_check_size(junk, 0), SS_ERR_KNOCK_SIZE);
	assert_int_equal(ss_knock_check_size(junk, SS_KNOCK_MIN_LEN - 1), SS_ERR_KNOCK_SIZE);
	assert_int_equal(ss_knock_check_size(junk, SS_KNOCK_MAX_LEN + 1), SS_ERR_KNOCK_SIZE);
	assert_int_equal(ss_knock_check_size(junk, sizeof(junk)), SS_ERR_KNOCK_SIZE);
	assert_int_equal(ss_knock_open(f->srv, junk, sizeof(junk), &f->msg), SS_ERR_KNOCK_SIZE);
	/* Right size, but junk: the MAC stops it. */
	assert_int_equal(ss_knock_check_size(junk, SS_KNOCK_MIN_LEN), 0);
	assert_int_equal(ss_knock_open(f->srv, junk, SS_KNOCK_MIN_LEN, &f->msg), SS_ERR_KNOCK_MAC);
}

static void test_reject_prefix(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 4; i++) {
		seal(f, "ssh", NULL, 1);
		f->pkt[i] ^= 0x10;
		assert_int_equal(ss_knock_check_size(f->pkt, f->len), SS_ERR_KNOCK_MALFORMED);
		assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg),
				 SS_ERR_KNOCK_MALFORMED);
	}
}

static void test_reject_mac(void **state)
{
	struct fx *f = *state;
	ss_knock_server *other;

	seal(f, "ssh", "x", 1);
	/* Every byte after the prefix is covered: flip each in turn. */
	for (size_t i = 4; i < f->len; i++) {
		f->pkt[i] ^= 1;
		assert_int_equal(ss_knock_check_mac(f->srv, f->pkt, f->len), SS_ERR_KNOCK_MAC);
		assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg), SS_ERR_KNOCK_MAC);
		f->pkt[i] ^= 1;
	}
	/* Truncated: the MAC no longer matches. */
	assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len - 1, &f->msg), SS_ERR_KNOCK_MAC);
	/* A knock for another server is dropped before any public-key work. */
	assert_int_equal(ss_knock_server_new(&other, f->other), 0);
	assert_int_equal(ss_knock_check_mac(other, f->pkt, f->len), SS_ERR_KNOCK_MAC);
	assert_int_equal(ss_knock_open(other, f->pkt, f->len, &f->msg), SS_ERR_KNOCK_MAC);
	ss_knock_server_free(other);
}

/* The outer MAC, computed from the spec: HMAC-SHA256(SHA-256(label || server), ...)[0..16]. */
static void fix_mac(struct fx *f)
{
	uint8_t key[32], mac[32];
	static const char label[] = "silosec knock v1 mac";

	assert_int_equal(
		ss_sha256(key, label, strlen(label), ss_identity_public(f->server), 32, NULL, 0),
		0);
	assert_int_equal(ss_hmac_sha256(mac, key, 32, f->pkt, f->len - SS_MAC_LEN), 0);
	memcpy(f->pkt + f->len - SS_MAC_LEN, mac, SS_MAC_LEN);
}

static void test_reject_decrypt(void **state)
{
	struct fx *f = *state;
	/* A point of order 8 on Curve25519 (RFC 7748 / Bernstein's list). */
	uint8_t low[32];

	seal(f, "ssh", "x", 1);
	fix_mac(f);
	assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg), 0);
	/* Ciphertext, tag and ephemeral each protected by the AEAD once the MAC is right. */
	f->pkt[SS_KNOCK_OFF_BOX + 3] ^= 0x80;
	fix_mac(f);
	assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg), SS_ERR_KNOCK_DECRYPT);
	f->pkt[SS_KNOCK_OFF_BOX + 3] ^= 0x80;
	f->pkt[f->len - SS_MAC_LEN - 1] ^= 1; /* tag */
	fix_mac(f);
	assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg), SS_ERR_KNOCK_DECRYPT);
	f->pkt[f->len - SS_MAC_LEN - 1] ^= 1;
	f->pkt[SS_KNOCK_OFF_EPHEMERAL + 5] ^= 4;
	fix_mac(f);
	assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg), SS_ERR_KNOCK_DECRYPT);
	/* Low-order ephemerals give an all-zero secret and are refused. */
	unhex(low, "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", 32);
	memcpy(f->pkt + SS_KNOCK_OFF_EPHEMERAL, low, 32);
	fix_mac(f);
	assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg), SS_ERR_KNOCK_DECRYPT);
	memset(f->pkt + SS_KNOCK_OFF_EPHEMERAL, 0, 32);
	fix_mac(f);
	assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg), SS_ERR_KNOCK_DECRYPT);
}

/*
 * Seal an arbitrary inner box exactly as section 14 says, with the primitives only:
 * eph = X25519(r), salt = SHA-256(label || server || eph), key = HKDF(salt, DH, label),
 * AES-256-GCM with a zero nonce and the 36-byte header as AAD, then the outer MAC.
 * If sign is set, the last 64 bytes of inner get the signature by signer.
 */
static void raw_seal(struct fx *f, uint8_t *inner, size_t ilen, const ss_identity *signer)
{
	static const char lsalt[] = "silosec knock v1 salt", lkey[] = "silosec knock v1 key";
	static const char lsig[] = "silosec knock v1 signature";
	uint8_t r[32], eph[32], xs[32], shared[32], salt[32], prk[32], key[32], nonce[12] = {0};
	uint8_t sm[1024];
	size_t sl = 0;

	assert_int_equal(test_rng_fn(&f->rng, r, 32), 0);
	assert_int_equal(ss_x25519_public(eph, r), 0);
	assert_int_equal(ss_knock_ed25519_pk_to_x25519(xs, ss_identity_public(f->server)), 0);
	assert_int_equal(ss_x25519(shared, r, xs), 0);
	if (signer) {
		memcpy(sm, lsig, strlen(lsig));
		sl = strlen(lsig);
		memcpy(sm + sl, ss_identity_public(f->server), 32);
		memcpy(sm + sl + 32, eph, 32);
		memcpy(sm + sl + 64, inner, ilen - SS_SIG_LEN);
		sl += 64 + ilen - SS_SIG_LEN;
		assert_int_equal(ss_identity_sign(signer, sm, sl, inner + ilen - SS_SIG_LEN), 0);
	}
	assert_int_equal(
		ss_sha256(salt, lsalt, strlen(lsalt), ss_identity_public(f->server), 32, eph, 32),
		0);
	assert_int_equal(ss_hkdf_extract(prk, salt, 32, shared, 32), 0);
	assert_int_equal(ss_hkdf_expand(key, 32, prk, (const uint8_t *)lkey, strlen(lkey)), 0);
	f->pkt[0] = SS_MSG_KNOCK;
	f->pkt[1] = SS_VERSION;
	f->pkt[2] = f->pkt[3] = 0;
	memcpy(f->pkt + 4, eph, 32);
	assert_int_equal(ss_aead_seal_once(key, nonce, f->pkt, 36, inner, ilen, f->pkt + 36), 0);
	f->len = 36 + ilen + SS_TAG_LEN + SS_MAC_LEN;
	fix_mac(f);
}

/*
 * A valid inner box: version 2, action, payload, fields as in the spec (offsets written
 * out from the table, not taken from knock.h). Bound to IPv4 spec_src.
 */
static size_t build_inner(uint8_t *in, const uint8_t client[32], const char *action,
			  const char *payload)
{
	size_t al = strlen(action), pl = strlen(payload);

	memset(in, 0, SS_KNOCK_INNER_MAX);
	in[0] = 2;
	in[1] = 0;
	in[2] = (uint8_t)al;
	ss_store_be16(in + 3, (uint16_t)pl);
	ss_store_be32(in + 5, 7);
	ss_store_be64(in + 9, 123456);
	memcpy(in + 17, client, 32);
	memset(in + 49, 0x5a, 16);
	in[65] = 4;
	memcpy(in + 66, spec_src, 4);
	memcpy(in + 82, action, al);
	memcpy(in + 82 + al, payload, pl);
	return 82 + al + pl + SS_SIG_LEN;
}

/* The independent sealer agrees with the library: the spec text is enough to interoperate. */
static void test_spec_interop(void **state)
{
	struct fx *f = *state;
	uint8_t in[SS_KNOCK_INNER_MAX];
	size_t il = build_inner(in, ss_identity_public(f->client), "web", "pl");

	raw_seal(f, in, il, f->client);
	assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg), 0);
	assert_string_equal(f->msg.action, "web");
	assert_int_equal(f->msg.duration, 7);
	assert_int_equal(f->msg.timestamp_ms, 123456);
	assert_memory_equal(f->msg.payload, "pl", 2);
	assert_int_equal(f->msg.challenge[0], 0x5a);
	assert_int_equal(f->msg.src_family, 4);
	assert_memory_equal(f->msg.src_addr, spec_src, 4);
	/* The spec's sizes: 82 fixed bytes, 198 + 17 = 215 to 741 + 17 = 758 in all. */
	assert_int_equal(SS_KNOCK_MIN_LEN, 215);
	assert_int_equal(SS_KNOCK_MAX_LEN, 758);
}

/* Seal in (il bytes) as the client, then open it at the server. */
static int reseal_open(struct fx *f, uint8_t *in, size_t il)
{
	raw_seal(f, in, il, f->client);
	return ss_knock_open(f->srv, f->pkt, f->len, &f->msg);
}

/* Inner plaintexts for "ssh" with one byte changed, each malformed. */
static const struct {
	size_t off;
	uint8_t val;
} inner_pokes[] = {
	{0, 1},	     /* inner version 1 (no source field) */
	{0, 3},	     /* inner version 3 */
	{65, 5},     /* source: unknown family */
	{66 + 4, 1}, /* source: stray bytes after the IPv4 address */
	{65, 0},     /* source: any, but an address present */
	{1, 1},	     /* reserved flags */
	{2, 0},	     /* action length 0 */
};

/* Source: v4-mapped as IPv6 is malformed, while a real IPv6 address and "any" are not. */
static void malformed_inner_source(struct fx *f, const uint8_t *c)
{
	uint8_t in[SS_KNOCK_INNER_MAX];
	size_t il;

	il = build_inner(in, c, "ssh", "");
	in[65] = 6;
	memset(in + 66, 0, 16);
	in[66 + 10] = in[66 + 11] = 0xff;
	memcpy(in + 66 + 12, spec_src, 4);
	assert_int_equal(reseal_open(f, in, il), SS_ERR_KNOCK_MALFORMED);
	il = build_inner(in, c, "ssh", "");
	in[65] = 6;
	memset(in + 66, 0x20, 16);
	assert_int_equal(reseal_open(f, in, il), 0);
	assert_int_equal(f->msg.src_family, 6);
	il = build_inner(in, c, "ssh", "");
	in[65] = 0;
	memset(in + 66, 0, 16);
	assert_int_equal(reseal_open(f, in, il), 0);
	assert_int_equal(f->msg.src_family, 0);
}

static void test_reject_malformed_inner(void **state)
{
	static const char *const bad_actions[] = {
		"abcdefghijklmnopqrstuvwxyzabcdefg", /* over the length limit */
		"s/h", "s h",			     /* outside [A-Za-z0-9._-] */
	};
	struct fx *f = *state;
	const uint8_t *c = ss_identity_public(f->client);
	uint8_t in[SS_KNOCK_INNER_MAX];
	size_t il;

	for (size_t i = 0; i < sizeof(inner_pokes) / sizeof(inner_pokes[0]); i++) {
		il = build_inner(in, c, "ssh", "");
		in[inner_pokes[i].off] = inner_pokes[i].val;
		assert_int_equal(reseal_open(f, in, il), SS_ERR_KNOCK_MALFORMED);
	}
	malformed_inner_source(f, c);
	for (size_t i = 0; i < sizeof(bad_actions) / sizeof(bad_actions[0]); i++) {
		il = build_inner(in, c, bad_actions[i], "");
		assert_int_equal(reseal_open(f, in, il), SS_ERR_KNOCK_MALFORMED);
	}
	/* lengths that disagree with the box */
	il = build_inner(in, c, "ssh", "abc");
	ss_store_be16(in + 3, 4);
	assert_int_equal(reseal_open(f, in, il), SS_ERR_KNOCK_MALFORMED);
	il = build_inner(in, c, "ssh", "abc");
	ss_store_be16(in + 3, 2);
	assert_int_equal(reseal_open(f, in, il), SS_ERR_KNOCK_MALFORMED);
}

static void test_reject_signature(void **state)
{
	struct fx *f = *state;
	uint8_t in[SS_KNOCK_INNER_MAX];
	size_t il = build_inner(in, ss_identity_public(f->client), "ssh", "");

	/* unsigned (zero signature) */
	raw_seal(f, in, il, NULL);
	assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg), SS_ERR_KNOCK_SIGNATURE);
	/* signed by someone else claiming to be the client */
	raw_seal(f, in, il, f->other);
	assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg), SS_ERR_KNOCK_SIGNATURE);
	{
		uint8_t in2[SS_KNOCK_INNER_MAX];
		size_t il2 = build_inner(in2, ss_identity_public(f->client), "ssh", "");

		raw_seal(f, in2, il2, f->client);
		/* Signature over one ephemeral does not hold under another: reseal the same box. */
		raw_seal(f, in2, il2, NULL);
		assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg),
				 SS_ERR_KNOCK_SIGNATURE);
		/* The source address is signed: rewriting it (to the attacker's) breaks it. */
		raw_seal(f, in2, il2, f->client);
		assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg), 0);
		in2[66 + 3] ^= 0x40;
		raw_seal(f, in2, il2, NULL);
		assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg),
				 SS_ERR_KNOCK_SIGNATURE);
	}
}

static void test_time_window(void **state)
{
	ss_knock_msg m = {.timestamp_ms = 1000000};

	(void)state;
	assert_int_equal(ss_knock_check_time(&m, 1000000, 30000), 0);
	assert_int_equal(ss_knock_check_time(&m, 1030000, 30000), 0);
	assert_int_equal(ss_knock_check_time(&m, 970000, 30000), 0);
	assert_int_equal(ss_knock_check_time(&m, 1030001, 30000), SS_ERR_KNOCK_TIME);
	assert_int_equal(ss_knock_check_time(&m, 969999, 30000), SS_ERR_KNOCK_TIME);
	m.timestamp_ms = UINT64_MAX;
	assert_int_equal(ss_knock_check_time(&m, 1000000, 30000), SS_ERR_KNOCK_TIME);
	m.timestamp_ms = 0;
	assert_int_equal(ss_knock_check_time(&m, 1000000, 30000), SS_ERR_KNOCK_TIME);
}

/* 1 in the kernel: the socket filter passes what step 1 passes and counts the rest. */
static void test_prefilter(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	uint8_t d[SS_KNOCK_MAX_LEN + 2] = {SS_MSG_KNOCK, SS_VERSION, 0, 0}, got[1024];
	const size_t lens[] = {SS_KNOCK_MIN_LEN - 1, SS_KNOCK_MIN_LEN, 300, SS_KNOCK_MAX_LEN,
			       SS_KNOCK_MAX_LEN + 1};
	int rx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0),
	    tx = socket(AF_INET, SOCK_DGRAM, 0);
	size_t n = 0;
	ssize_t r;

	(void)state;
	assert_true(rx >= 0 && tx >= 0);
	assert_int_equal(ss_knock_prefilter_attach(rx), 0);
	assert_int_equal(bind(rx, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(rx, (struct sockaddr *)&a, &al), 0);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		assert_int_equal(sendto(tx, d, lens[i], 0, (struct sockaddr *)&a, sizeof(a)),
				 (ssize_t)lens[i]);
	/* Wrong type, version, or a reserved byte set: each dropped. */
	for (int b = 0; b < 4; b++) {
		d[b] ^= 0x40;
		assert_int_equal(sendto(tx, d, 300, 0, (struct sockaddr *)&a, sizeof(a)), 300);
		d[b] ^= 0x40;
	}
	while ((r = recv(rx, got, sizeof(got), 0)) > 0) {
		assert_int_equal(ss_knock_check_size(got, (size_t)r), 0);
		n++;
	}
	assert_int_equal(n, 3);
	assert_int_equal(ss_knock_prefilter_drops(rx), 6);
	close(rx);
	close(tx);
}

static void test_ratelimit(void **state)
{
	ss_knock_ratelimit *r;
	uint8_t a[4] = {198, 51, 100, 1}, b[4] = {198, 51, 100, 2};
	uint8_t v6a[16] = {0xfd, 0, 0, 1}, v6b[16] = {0xfd, 0, 0, 1};
	uint64_t t = 5000000000ull;

	(void)state;
	assert_int_equal(ss_knock_ratelimit_new(&r, 64, 10, 5, 1234), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(ss_knock_ratelimit_take(r, AF_INET, a, t), 0);
	assert_int_equal(ss_knock_ratelimit_take(r, AF_INET, a, t), SS_ERR_KNOCK_RATE);
	/* Another source is not affected. */
	assert_int_equal(ss_knock_ratelimit_take(r, AF_INET, b, t), 0);
	/* One token back after 1/rate seconds, not more. */
	t += 100000000ull;
	assert_int_equal(ss_knock_ratelimit_take(r, AF_INET, a, t), 0);
	assert_int_equal(ss_knock_ratelimit_take(r, AF_INET, a, t), SS_ERR_KNOCK_RATE);
	/* IPv6 sources share a bucket per /64. */
	v6b[15] = 9;
	for (int i = 0; i < 5; i++)
		assert_int_equal(ss_knock_ratelimit_take(r, AF_INET6, i & 1 ? v6a : v6b, t), 0);
	assert_int_equal(ss_knock_ratelimit_take(r, AF_INET6, v6b, t), SS_ERR_KNOCK_RATE);
	v6b[7] = 1; /* another /64 */
	assert_int_equal(ss_knock_ratelimit_take(r, AF_INET6, v6b, t), 0);
	/* A million spoofed sources: memory stays the same, each new source gets its burst. */
	for (uint32_t i = 0; i < 1000000; i++) {
		uint8_t s[4];

		ss_store_be32(s, 0x0a000000u + i);
		assert_int_equal(ss_knock_ratelimit_take(r, AF_INET, s, t), 0);
	}
	assert_int_equal(ss_knock_ratelimit_take(r, AF_UNIX, a, t), SS_ERR_KNOCK_RATE);
	ss_knock_ratelimit_free(r);
	assert_int_equal(ss_knock_ratelimit_new(&r, 64, 0, 5, 0), SS_ERR_INVAL);
}

/* Both clocks of the replay cache, advancing together: t ms on each. */
#define MONO(t) ((uint64_t)(t)*1000000ull)

static int rp_check(const ss_knock_replay *r, const uint8_t *ch, uint64_t exp, uint64_t t)
{
	return ss_knock_replay_check(r, ch, exp, t, MONO(t));
}

static int rp_add(ss_knock_replay *r, const uint8_t *ch, uint64_t exp, uint64_t t)
{
	return ss_knock_replay_add(r, ch, exp, t, MONO(t));
}

static void test_replay_cache(void **state)
{
	ss_knock_replay *r;
	uint8_t c1[16] = {1}, c2[16] = {2}, c3[16] = {3};

	(void)state;
	assert_int_equal(ss_knock_replay_new(&r, 2, NULL, 1000, MONO(1000)), 0);
	assert_int_equal(rp_check(r, c1, 5000, 1000), 0);
	assert_int_equal(rp_add(r, c1, 5000, 1000), 0);
	assert_int_equal(rp_check(r, c1, 5000, 1000), SS_ERR_KNOCK_REPLAY);
	assert_int_equal(rp_add(r, c1, 5000, 1000), SS_ERR_KNOCK_REPLAY);
	assert_int_equal(rp_add(r, c2, 9000, 1000), 0);
	/* Full of live entries: fail closed rather than forget one. */
	assert_int_equal(rp_check(r, c3, 9000, 1000), SS_ERR_KNOCK_REPLAY_FULL);
	assert_int_equal(rp_add(r, c3, 9000, 1000), SS_ERR_KNOCK_REPLAY_FULL);
	/* c1's window passes; its challenge is still known until its slot is reused ... */
	assert_int_equal(rp_check(r, c1, 5000, 5000), SS_ERR_KNOCK_REPLAY);
	assert_int_equal(rp_add(r, c3, 9000, 5000), 0);
	assert_int_equal(rp_check(r, c2, 9000, 5000), SS_ERR_KNOCK_REPLAY);
	assert_int_equal(rp_check(r, c3, 9000, 5000), SS_ERR_KNOCK_REPLAY);
	/* ... and then by the floor: no knock whose window ended by 5000 passes. */
	assert_int_equal(rp_check(r, c1, 5000, 5000), SS_ERR_KNOCK_REPLAY);
	ss_knock_replay_free(r);
	assert_int_equal(ss_knock_replay_new(&r, 0, NULL, 0, 0), SS_ERR_INVAL);
}

/*
 * Issue 13, finding 6: the wall clock steps back by more than the window after a knock's
 * entry was forgotten. With fixed clocks: the captured knock stays refused.
 */
static void test_replay_clock_step_back(void **state)
{
	const uint64_t w = 30000, t = 1700000000000ull, m = MONO(777);
	uint8_t k[16] = {1}, k2[16] = {1, 0, 0, 0, 2}, k3[16] = {7};
	ss_knock_replay *r;

	(void)state;
	assert_int_equal(ss_knock_replay_new(&r, 2, NULL, t, m), 0);
	/* k, stamped t, accepted at t. */
	assert_int_equal(ss_knock_replay_add(r, k, t + w + 1, t, m), 0);
	assert_int_equal(ss_knock_replay_check_clock(r, t, w), 0);
	/* 61 s later on both clocks k2 (same chain) takes k's slot: k is forgotten. */
	assert_int_equal(
		ss_knock_replay_add(r, k2, t + 61000 - w + w + 1, t + 61000, m + MONO(61000)), 0);
	/* The wall clock steps back to t; the monotonic one goes on. */
	assert_int_equal(ss_knock_replay_check(r, k, t + w + 1, t, m + MONO(62000)),
			 SS_ERR_KNOCK_REPLAY);
	assert_int_equal(ss_knock_replay_add(r, k, t + w + 1, t, m + MONO(62000)),
			 SS_ERR_KNOCK_REPLAY);
	/* k2 was stamped t + 31 s: a clock at t is 31 s behind it. */
	assert_int_equal(ss_knock_replay_check_clock(r, t, w), SS_ERR_KNOCK_CLOCK);
	assert_int_equal(ss_knock_replay_check_clock(r, t + 1000, w), 0);
	/* A stepped-forward wall clock does not end an entry early: mono still holds it. */
	assert_int_equal(ss_knock_replay_add(r, k3, t + 62000 + w + 1, t + 62000, m + MONO(62000)),
			 0);
	assert_int_equal(
		ss_knock_replay_check(r, k3, t + 62000 + w + 1, t + 999999, m + MONO(62001)),
		SS_ERR_KNOCK_REPLAY);
	ss_knock_replay_free(r);
}

static void test_replay_persist(void **state)
{
	char dir[] = "/tmp/ss-knock-test.XXXXXX", path[64], tmp[80];
	ss_knock_replay *r;
	uint8_t c1[16] = {1}, c2[16] = {2}, fresh[16] = {0x42};
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/replay", dir);
	assert_int_equal(ss_knock_replay_new(&r, 16, path, 1000, MONO(1000)), 0);
	assert_int_equal(rp_add(r, c1, 5000, 1000), 0);
	assert_int_equal(rp_add(r, c2, 2000, 1000), 0);
	ss_knock_replay_free(r);
	/* A restart (the monotonic clock starts again) still knows c1 and c2 ... */
	assert_int_equal(ss_knock_replay_new(&r, 16, path, 1500, 0), 0);
	assert_int_equal(ss_knock_replay_check(r, c1, 5000, 1500, 0), SS_ERR_KNOCK_REPLAY);
	assert_int_equal(ss_knock_replay_check(r, c2, 2000, 1500, 0), SS_ERR_KNOCK_REPLAY);
	ss_knock_replay_free(r);
	/* More live entries than the capacity: refuse to start. */
	assert_int_equal(ss_knock_replay_new(&r, 1, path, 1500, 0), SS_ERR_FULL);
	/* An append cut short by a crash (a partial last record) is ignored. */
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\1\2\3\4\5", 5), 5);
	close(fd);
	/* ... and what expired meanwhile is not loaded, but still refused by the floor. */
	assert_int_equal(ss_knock_replay_new(&r, 1, path, 3000, 0), 0);
	assert_int_equal(ss_knock_replay_count(r), 1);
	assert_int_equal(ss_knock_replay_check(r, c1, 5000, 3000, 0), SS_ERR_KNOCK_REPLAY);
	assert_int_equal(ss_knock_replay_check(r, c2, 2000, 3000, 0), SS_ERR_KNOCK_REPLAY);
	/* Many appends: the file is compacted and still holds every live entry. */
	ss_knock_replay_free(r);
	assert_int_equal(ss_knock_replay_new(&r, 16, path, 3000, MONO(3000)), 0);
	for (int i = 0; i < 100; i++) {
		uint8_t c[16] = {9, (uint8_t)i};

		assert_int_equal(rp_add(r, c, 3000 + 10 * (uint64_t)i + 5, 3000 + 10 * (uint64_t)i),
				 0);
	}
	ss_knock_replay_free(r);
	assert_int_equal(ss_knock_replay_new(&r, 16, path, 3990, 0), 0);
	assert_int_equal(ss_knock_replay_count(r), 2); /* {9, 99} and c1 */
	{
		uint8_t c[16] = {9, 99}, old[16] = {9, 50};

		assert_int_equal(ss_knock_replay_check(r, c, 3995, 3990, 0), SS_ERR_KNOCK_REPLAY);
		assert_int_equal(ss_knock_replay_check(r, old, 3505, 3990, 0), SS_ERR_KNOCK_REPLAY);
		assert_int_equal(ss_knock_replay_check(r, fresh, 9000, 3990, 0), 0);
	}
	ss_knock_replay_free(r);
	/* The floor survives a restart with the wall clock stepped back (format 2). */
	assert_int_equal(ss_knock_replay_new(&r, 16, path, 100, 0), 0);
	assert_int_equal(ss_knock_replay_check(r, c1, 5000, 100, 0), SS_ERR_KNOCK_REPLAY);
	assert_int_equal(ss_knock_replay_check_clock(r, 100, 10), SS_ERR_KNOCK_CLOCK);
	ss_knock_replay_free(r);
	/* A version-1 file (records only) still loads. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	{
		uint8_t v1[8 + 24] = "SSKNOCK1";

		memcpy(v1 + 8, c1, 16);
		v1[8 + 16 + 6] = 0x13; /* expires 0x1388 = 5000 */
		v1[8 + 16 + 7] = 0x88;
		assert_int_equal(write(fd, v1, sizeof(v1)), (ssize_t)sizeof(v1));
	}
	close(fd);
	assert_int_equal(ss_knock_replay_new(&r, 16, path, 1000, 0), 0);
	assert_int_equal(ss_knock_replay_count(r), 1);
	assert_int_equal(ss_knock_replay_check(r, c1, 5000, 1000, 0), SS_ERR_KNOCK_REPLAY);
	ss_knock_replay_free(r);
	/* A corrupt file is refused, not ignored. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "garbage!x", 9), 9);
	close(fd);
	assert_int_equal(ss_knock_replay_new(&r, 16, path, 1000, 0), SS_ERR_FORMAT);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	unlink(path);
	rmdir(dir);
}

static void base64_is(const char *in, size_t len, const char *want)
{
	char out[16];

	ss_knock_base64((const uint8_t *)in, len, out);
	assert_string_equal(out, want);
}

static void test_base64(void **state)
{
	(void)state;
	base64_is("", 0, "");
	base64_is("f", 1, "Zg==");
	base64_is("fo", 2, "Zm8=");
	base64_is("foo", 3, "Zm9v");
	base64_is("foobar", 6, "Zm9vYmFy");
	base64_is("\xff\xfe", 2, "//4=");
}

static void test_error_names(void **state)
{
	(void)state;
	for (int c = SS_KNOCK_DROP_FIRST; c >= SS_KNOCK_DROP_LAST; c--) {
		assert_string_not_equal(ss_err_name(c), "SS_ERR_UNKNOWN");
		assert_non_null(strstr(ss_strerror(c), "knock"));
	}
	assert_string_equal(ss_err_name(SS_ERR_KNOCK_REPLAY), "SS_ERR_KNOCK_REPLAY");
	assert_int_equal(SS_ERR_KNOCK_SIZE, -70);
	assert_int_equal(SS_ERR_KNOCK_PAYLOAD, -81);
	assert_int_equal(SS_ERR_KNOCK_SOURCE, -82);
	assert_int_equal(SS_ERR_KNOCK_CLOCK, -83);
	assert_int_equal(SS_ERR_KNOCK_BUSY, -84);
	assert_int_equal(SS_KNOCK_DROP_LAST, SS_ERR_KNOCK_BUSY);
}

/* ---- knockd.conf ---- */
static int parse(const char *text, ss_kconf **c, char *err)
{
	return ss_kconf_parse(text, strlen(text), "/etc/silosec/knockd.conf", c, err,
			      SS_KCONF_ERR_LEN);
}

static const char conf_ok[] = "# comment\n"
			      "[Server]\n"
			      "PrivateKeyFile = server.key\n"
			      "Listen = [::]:62201\n"
			      "Listen = 0.0.0.0:62202\n"
			      "Window = 10\n"
			      "ReplayFile = /var/lib/silosec/knock.replay\n"
			      "RateLimit = 3\n"
			      "Burst = 4\n"
			      "\n"
			      "[Client alice]\n"
			      "Identity = %s\n"
			      "Actions = ssh, note\n"
			      "AllowAnySource = yes\n"
			      "[Action ssh]\n"
			      "Type = open\n"
			      "Open = tcp/22, udp/60000-61000\n"
			      "Duration = 30\n"
			      "MaxDuration = 120\n"
			      "[Action note]\n"
			      "Type = command\n"
			      "Command = /usr/local/bin/note --tag knock\n"
			      "Payload = ascii\n"
			      "User = nobody\n"
			      "[Action cyc]\n"
			      "Type = cycle\n"
			      "Command = /bin/true\n"
			      "CloseCommand = /bin/false\n"
			      "Duration = 5\n";

static void conf_text(char *buf, size_t len, const char *tmpl, const uint8_t id[32])
{
	char b64[SS_B64_KEY_LEN];

	ss_key_to_base64(id, b64);
	snprintf(buf, len, tmpl, b64);
}

static void test_conf_ok(void **state)
{
	struct fx *f = *state;
	char text[2048], err[SS_KCONF_ERR_LEN];
	const ss_kaction *a;
	const ss_kclient *cl;
	ss_kconf *c;

	conf_text(text, sizeof(text), conf_ok, ss_identity_public(f->client));
	assert_int_equal(parse(text, &c, err), 0);
	assert_string_equal(c->private_key_file, "/etc/silosec/server.key");
	assert_string_equal(c->replay_file, "/var/lib/silosec/knock.replay");
	assert_int_equal(c->nlisten, 2);
	assert_int_equal(c->window_ms, 10000);
	assert_int_equal(c->rate, 3);
	assert_int_equal(c->burst, 4);
	assert_true(c->guard);
	assert_int_equal(c->nactions, 3);
	cl = ss_kconf_client(c, ss_identity_public(f->client));
	assert_non_null(cl);
	assert_string_equal(cl->name, "alice");
	assert_true(cl->allow_any_source);
	assert_null(ss_kconf_client(c, ss_identity_public(f->other)));
	a = ss_kconf_allowed(c, cl, "ssh");
	assert_non_null(a);
	assert_int_equal(a->type, SS_KACT_OPEN);
	assert_int_equal(a->nports, 2);
	assert_int_equal(a->ports[1].proto, IPPROTO_UDP);
	assert_int_equal(a->ports[1].lo, 60000);
	assert_int_equal(a->ports[1].hi, 61000);
	assert_int_equal(a->max_duration, 120);
	a = ss_kconf_allowed(c, cl, "note");
	assert_non_null(a);
	assert_string_equal(a->argv[0], "/usr/local/bin/note");
	assert_string_equal(a->argv[2], "knock");
	assert_null(a->argv[3]);
	assert_int_equal(a->payload, SS_KPAY_ASCII);
	assert_int_equal(a->timeout, 30);
	assert_null(ss_kconf_allowed(c, cl, "cyc")); /* defined but not listed for alice */
	ss_kconf_free(c);
}

/* Type = grant: interface, canonical rule, duration and cap. */
static void test_conf_grant(void **state)
{
	static const char text[] =
		"[Server]\nPrivateKeyFile = k\n[Action ssh]\nType = grant\n"
		"Interface = ss0\nRule =  TCP 22  to 10.77.0.1/24\nDuration = 300\n"
		"MaxDuration = 3600\n";
	char err[SS_KCONF_ERR_LEN];
	ss_kconf *c;

	(void)state;
	assert_int_equal(ss_kconf_parse(text, strlen(text), "knockd.conf", &c, err, sizeof(err)),
			 0);
	assert_int_equal(c->actions[0].type, SS_KACT_GRANT);
	assert_string_equal(c->actions[0].iface, "ss0");
	assert_string_equal(c->actions[0].rule, "tcp 22 to 10.77.0.0/24");
	assert_int_equal(c->actions[0].duration, 300);
	assert_int_equal(c->actions[0].max_duration, 3600);
	ss_kconf_free(c);
}

/* One rule syntax (issue 15, item 8): Open and Rule take "tcp/22" and "tcp 22" alike. */
static void test_conf_one_rule_syntax(void **state)
{
	static const char *const open_forms[] = {
		"tcp/22, udp/60000-61000", "tcp 22, udp 60000-61000", "TCP 22,udp/60000-61000"};
	static const char *const rule_forms[] = {"tcp/22 to 10.77.0.1/24",
						 "tcp 22 to 10.77.0.1/24"};
	char text[512], err[SS_KCONF_ERR_LEN];
	ss_kconf *c;

	(void)state;
	for (size_t i = 0; i < sizeof(open_forms) / sizeof(open_forms[0]); i++) {
		snprintf(text, sizeof(text),
			 "[Server]\nPrivateKeyFile = k\n[Action a]\nType = open\nOpen = %s\n"
			 "Duration = 5m\nMaxDuration = 1h\n",
			 open_forms[i]);
		if (parse(text, &c, err))
			fail_msg("Open = %s: %s", open_forms[i], err);
		assert_int_equal(c->actions[0].nports, 2);
		assert_int_equal(c->actions[0].ports[0].proto, IPPROTO_TCP);
		assert_int_equal(c->actions[0].ports[0].lo, 22);
		assert_int_equal(c->actions[0].ports[0].hi, 22);
		assert_int_equal(c->actions[0].ports[1].proto, IPPROTO_UDP);
		assert_int_equal(c->actions[0].ports[1].lo, 60000);
		assert_int_equal(c->actions[0].ports[1].hi, 61000);
		/* Durations take units (5m = 300 s) like everywhere else. */
		assert_int_equal(c->actions[0].duration, 300);
		assert_int_equal(c->actions[0].max_duration, 3600);
		ss_kconf_free(c);
	}
	for (size_t i = 0; i < sizeof(rule_forms) / sizeof(rule_forms[0]); i++) {
		snprintf(text, sizeof(text),
			 "[Server]\nPrivateKeyFile = k\n[Action g]\nType = grant\n"
			 "Interface = ss0\nRule = %s\nDuration = 60\n",
			 rule_forms[i]);
		if (parse(text, &c, err))
			fail_msg("Rule = %s: %s", rule_forms[i], err);
		assert_string_equal(c->actions[0].rule, "tcp 22 to 10.77.0.0/24");
		ss_kconf_free(c);
	}
	/* What a port opening cannot mean is refused, naming the entry. */
	assert_int_not_equal(
		parse("[Server]\nPrivateKeyFile = k\n[Action a]\nType = open\nOpen = tcp\n", &c,
		      err),
		0);
	assert_non_null(strstr(err, "Open: 'tcp' needs ports"));
	assert_int_not_equal(parse("[Server]\nPrivateKeyFile = k\n[Action a]\nType = open\n"
				   "Open = tcp 22 to 10.0.0.1/32\n",
				   &c, err),
			     0);
	assert_non_null(strstr(err, "'to' does not go with Open"));
}

/* The one yes/no parser: any case, and 1/0, as in silosec.conf. */
static void test_conf_bool_forms(void **state)
{
	static const struct {
		const char *v;
		bool want;
	} forms[] = {{"yes", true}, {"YES", true}, {"True", true},   {"on", true},   {"1", true},
		     {"no", false}, {"No", false}, {"FALSE", false}, {"off", false}, {"0", false}};
	char text[256], err[SS_KCONF_ERR_LEN];
	ss_kconf *c;

	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		snprintf(text, sizeof(text),
			 "[Server]\nPrivateKeyFile = k\n[Client c]\nIdentity = %s\n"
			 "AllowAnySource = %s\nActions = a\n[Action a]\nType = command\n"
			 "Command = /bin/true\n",
			 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", forms[i].v);
		if (parse(text, &c, err))
			fail_msg("AllowAnySource = %s: %s", forms[i].v, err);
		assert_int_equal(c->clients[0].allow_any_source, forms[i].want);
		ss_kconf_free(c);
	}
}

#define ZERO_B64 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

/* Each broken line: the error names the file, the line and the problem. */
static const struct {
	const char *text, *want;
} conf_error_cases[] = {
	{"[Server]\nPrivateKeyFile = k\nBogus = 1\n", "knockd.conf:3: unknown key 'Bogus'"},
	{"[Server]\nPrivateKeyFile = k\nWindow = 0\n", ":3: Window: '0' is not in 1..3600"},
	{"[Server]\nPrivateKeyFile = k\nWindow = 5\nWindow = 6\n",
	 ":4: Window set twice in this section (first on line 3)"},
	{"[Server]\nPrivateKeyFile = k\n[Action a]\nType = grant\n",
	 ":3: [Action a] Type = grant needs Interface, Rule and Duration"},
	{"[Server]\nPrivateKeyFile = k\n[Action a]\nType = grant\nInterface = ss0\nRule = "
	 "ssh\n",
	 ":6: Rule: expected tcp, udp, icmp or any, got 'ssh'"},
	{"[Server]\nPrivateKeyFile = k\n[Action a]\nType = grant\nInterface = ../x\n",
	 ":5: Interface: '../x' is not an interface name"},
	{"[Server]\nPrivateKeyFile = k\n[Action a]\nType = grant\nInterface = ss0\nRule = "
	 "tcp 22\nDuration = 90000\n",
	 ":3: [Action a] Type = grant: Duration and MaxDuration are at most 86400 s"},
	{"[Server]\nPrivateKeyFile = k\n[Action a]\nType = grant\nInterface = ss0\nRule = "
	 "tcp 22\nDuration = 60\nOpen = tcp/22\n",
	 ":3: [Action a] Type = grant runs no command and opens no port"},
	{"[Server]\nPrivateKeyFile = k\n[Action a]\nType = knock\n",
	 ":4: Type: 'knock' is not command, open, cycle or grant"},
	{"[Server]\nPrivateKeyFile = k\n[Action a]\nType = open\nOpen = tcp/0\n",
	 ":5: Open: 'tcp/0' needs ports in 1..65535"},
	{"[Server]\nPrivateKeyFile = k\n[Action a]\nType = open\nOpen = tcp/90-80\n",
	 ":5: Open: expected PORT or PORT-PORT"},
	{"[Server]\nPrivateKeyFile = k\n[Action a]\nType = open\nOpen = icmp/1\n",
	 ":5: Open: ports only go with tcp or udp"},
	{"[Server]\nPrivateKeyFile = k\n[Action a]\nType = command\nCommand = rm -rf /\n",
	 ":5: Command: needs an absolute program path"},
	{"[Server]\nPrivateKeyFile = k\n[Action a]\nType = command\nCommand = /bin/sh -c "
	 "'x;y'\n",
	 ":5: Command: ''x;y'': no shell"},
	{"[Server]\nPrivateKeyFile = k\n[Action a]\nType = command\n",
	 ":3: [Action a] Type = command needs Command"},
	{"[Server]\nPrivateKeyFile = k\n[Action a]\nType = open\nOpen = tcp/22\nDuration = "
	 "60\nMaxDuration = 30\n",
	 ":3: [Action a] Duration is over MaxDuration"},
	{"[Server]\nPrivateKeyFile = k\n[Client c]\nIdentity = nope\n",
	 ":4: Identity: 'nope' is not a base64 identity"},
	/* y = 0, a point of order 4: any knock would verify under it. */
	{"[Server]\nPrivateKeyFile = k\n[Client c]\nIdentity = " ZERO_B64 "\n",
	 ":4: Identity: '" ZERO_B64 "' is a weak key (small-order or non-canonical point)"},
	{"[Server]\nPrivateKeyFile = k\n[Client c]\nIdentity = "
	 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\nActions = x\n",
	 ":5: [Client c]: no [Action x]"},
	{"[Server]\nPrivateKeyFile = k\n[Action a b]\n", ":3: action name 'a b'"},
	{"[Server]\n[Client c]\nIdentity = AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n"
	 "Actions = a\n[Action a]\nType = command\nCommand = /bin/true\n",
	 ":1: [Server] needs PrivateKeyFile"},
	{"Window = 3\n", ":1: 'Window' outside any section"},
	{"[Server]\nPrivateKeyFile = k\n[Nope]\n", ":3: unknown section [Nope]"},
	{"[Server]\nPrivateKeyFile = k\nNftTable = a-b\n", ":3: NftTable"},
	{"[Server]\nPrivateKeyFile = k\n[Action a]\nType = command\nCommand = /x\nPayload "
	 "= "
	 "raw\n",
	 ":6: Payload: 'raw' is not base64, ascii or none"},
	{"[Server]\nPrivateKeyFile = k\n[Client c]\nAllowAnySource = maybe\n",
	 ":4: AllowAnySource: 'maybe' is not yes/no, true/false, on/off or 1/0"},
	{"[Server]\nPrivateKeyFile = k\n[Client c]\nAllowAnySource = no\n"
	 "AllowAnySource = no\n",
	 ":5: AllowAnySource set twice"},
	{"[Server]\nPrivateKeyFile = k\nAllowAnySource = yes\n",
	 ":3: unknown key 'AllowAnySource' in [Server]"},
};

static void test_conf_errors(void **state)
{
	char err[SS_KCONF_ERR_LEN];
	ss_kconf *c = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(conf_error_cases) / sizeof(conf_error_cases[0]); i++) {
		int ret = parse(conf_error_cases[i].text, &c, err);

		if (ret != SS_ERR_FORMAT || !strstr(err, conf_error_cases[i].want))
			fail_msg("case %zu: got %d '%s', want '%s'", i, ret, err,
				 conf_error_cases[i].want);
	}
	/* Two clients with one identity. */
	assert_int_equal(
		parse("[Server]\nPrivateKeyFile = k\n[Action a]\nType = command\nCommand "
		      "= /x\n[Client c]\nIdentity = "
		      "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\nActions = a\n[Client "
		      "d]\nIdentity = AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\nActions = a\n",
		      &c, err),
		SS_ERR_FORMAT);
	assert_non_null(strstr(err, ":10: identity already used by [Client c] on line 6"));
}

/* ---- the daemon's validation order, one test per rejection reason ---- */
struct vfx {
	struct fx *f;
	ss_kconf *c;
	ss_knock_validator v;
	uint8_t src[4];
	uint64_t mono, wall;
	ss_knock_verdict out;
};

static void vsetup(struct vfx *x, struct fx *f, uint32_t replay_cap)
{
	char text[2048], err[SS_KCONF_ERR_LEN];

	memset(x, 0, sizeof(*x));
	x->f = f;
	conf_text(text, sizeof(text),
		  "[Server]\nPrivateKeyFile = k\nRateLimit = 1\nBurst = 3\nReplayCapacity = 16\n"
		  "[Client alice]\nIdentity = %s\nActions = ssh, note, quiet\n"
		  "[Action ssh]\nType = open\nOpen = tcp/22\nDuration = 30\nMaxDuration = 60\n"
		  "[Action note]\nType = command\nCommand = /bin/true\nPayload = ascii\n"
		  "[Action quiet]\nType = command\nCommand = /bin/true\nPayload = none\n"
		  "[Action admin]\nType = command\nCommand = /bin/true\n",
		  ss_identity_public(f->client));
	assert_int_equal(parse(text, &x->c, err), 0);
	x->c->replay_capacity = replay_cap;
	assert_int_equal(ss_knock_validator_init(&x->v, x->c, f->server, 99, 0, 0), 0);
	x->src[0] = 198;
	x->src[1] = 51;
	x->src[2] = 100;
	x->src[3] = 7;
	x->mono = 1000000000ull;
	x->wall = 1700000000000ull;
}

static void vfree(struct vfx *x)
{
	ss_knock_validator_free(&x->v);
	ss_kconf_free(x->c);
}

static int vrun_from(struct vfx *x, int family, const uint8_t *addr)
{
	x->mono += 1000000000ull; /* a token back per call: reused sources are not throttled */
	return ss_knock_validate(&x->v, x->f->pkt, x->f->len, family, addr, x->mono, x->wall,
				 &x->out);
}

/* From the address the last seal_as signed: only the rate test reuses a source. */
static int vrun(struct vfx *x)
{
	memcpy(x->src, x->f->bind4, 4);
	return vrun_from(x, AF_INET, x->src);
}

static void seal_src(struct fx *f, const ss_identity *who, const char *action, const char *payload,
		     uint64_t ts, uint32_t duration, int family, const uint8_t *addr)
{
	ss_knock_req req = {.action = action,
			    .payload = (const uint8_t *)payload,
			    .payload_len = payload ? strlen(payload) : 0,
			    .duration = duration,
			    .timestamp_ms = ts,
			    .src_family = family,
			    .src_addr = addr};

	assert_int_equal(ss_knock_seal(f->pkt, sizeof(f->pkt), &f->len, who,
				       ss_identity_public(f->server), &req, test_rng_fn, &f->rng),
			 0);
}

/* Bound to a fresh IPv4 source each time, so the rate limit stays out of the way. */
static void seal_as(struct fx *f, const ss_identity *who, const char *action, const char *payload,
		    uint64_t ts, uint32_t duration)
{
	f->bind4[3]++;
	seal_src(f, who, action, payload, ts, duration, AF_INET, f->bind4);
}

static void test_validate_order(void **state)
{
	struct fx *f = *state;
	struct vfx x;

	vsetup(&x, f, 16);
	/* Accepted; duration: the default, then capped at MaxDuration. */
	seal_as(f, f->client, "ssh", NULL, x.wall, 0);
	assert_int_equal(vrun(&x), 0);
	assert_int_equal(x.out.duration, 30);
	assert_string_equal(x.out.client->name, "alice");
	seal_as(f, f->client, "ssh", NULL, x.wall, 3600);
	assert_int_equal(vrun(&x), 0);
	assert_int_equal(x.out.duration, 60);
	seal_as(f, f->client, "ssh", NULL, x.wall, 5);
	assert_int_equal(vrun(&x), 0);
	assert_int_equal(x.out.duration, 5);
	/* 1. size */
	f->len = 10;
	assert_int_equal(vrun(&x), SS_ERR_KNOCK_SIZE);
	/* 3. MAC */
	seal_as(f, f->client, "ssh", NULL, x.wall, 0);
	f->pkt[50] ^= 1;
	assert_int_equal(vrun(&x), SS_ERR_KNOCK_MAC);
	/* 4. decrypt */
	f->pkt[50] ^= 1;
	f->pkt[SS_KNOCK_OFF_BOX] ^= 1;
	fix_mac(f);
	assert_int_equal(vrun(&x), SS_ERR_KNOCK_DECRYPT);
	/* 6. unknown identity (validly signed by a stranger) */
	seal_as(f, f->other, "ssh", NULL, x.wall, 0);
	assert_int_equal(vrun(&x), SS_ERR_KNOCK_UNKNOWN_ID);
	/* 7. timestamp: just inside, then just outside, both ways */
	seal_as(f, f->client, "ssh", NULL, x.wall - 30000, 0);
	assert_int_equal(vrun(&x), 0);
	seal_as(f, f->client, "ssh", NULL, x.wall - 30001, 0);
	assert_int_equal(vrun(&x), SS_ERR_KNOCK_TIME);
	seal_as(f, f->client, "ssh", NULL, x.wall + 30001, 0);
	assert_int_equal(vrun(&x), SS_ERR_KNOCK_TIME);
	/* 8. replay: the same datagram again, from the address it is bound to */
	seal_as(f, f->client, "ssh", NULL, x.wall, 0);
	assert_int_equal(vrun(&x), 0);
	assert_int_equal(vrun(&x), SS_ERR_KNOCK_REPLAY);
	/* A stale knock is rejected by time before it can touch the replay cache. */
	x.wall += 31000;
	assert_int_equal(vrun(&x), SS_ERR_KNOCK_TIME);
	/* 9. action not listed for the identity, or not defined at all */
	seal_as(f, f->client, "admin", NULL, x.wall, 0);
	assert_int_equal(vrun(&x), SS_ERR_KNOCK_ACTION);
	seal_as(f, f->client, "nosuch", NULL, x.wall, 0);
	assert_int_equal(vrun(&x), SS_ERR_KNOCK_ACTION);
	/* payload policies */
	seal_as(f, f->client, "note", "printable text", x.wall, 0);
	assert_int_equal(vrun(&x), 0);
	seal_as(f, f->client, "note", "bell\a", x.wall, 0);
	assert_int_equal(vrun(&x), SS_ERR_KNOCK_PAYLOAD);
	seal_as(f, f->client, "quiet", "x", x.wall, 0);
	assert_int_equal(vrun(&x), SS_ERR_KNOCK_PAYLOAD);
	seal_as(f, f->client, "quiet", NULL, x.wall, 0);
	assert_int_equal(vrun(&x), 0);
	/* Every drop was counted under its code. */
	assert_int_equal(x.v.drops[ss_knock_drop_index(SS_ERR_KNOCK_SIZE)], 1);
	assert_int_equal(x.v.drops[ss_knock_drop_index(SS_ERR_KNOCK_TIME)], 3);
	assert_int_equal(x.v.drops[ss_knock_drop_index(SS_ERR_KNOCK_ACTION)], 2);
	assert_int_equal(x.v.drops[ss_knock_drop_index(SS_ERR_KNOCK_PAYLOAD)], 2);
	assert_int_equal(x.v.accepted, 7);
	vfree(&x);
}

static void test_validate_rate_and_full(void **state)
{
	struct fx *f = *state;
	struct vfx x;

	vsetup(&x, f, 2);
	/*
	 * 2. The rate limit is looked up before the MAC but only MAC-valid datagrams pay:
	 * junk sent in a client's name (a spoofed source) cannot drain its bucket.
	 */
	memset(f->pkt, 0, sizeof(f->pkt));
	f->pkt[0] = SS_MSG_KNOCK;
	f->pkt[1] = SS_VERSION;
	f->len = 300;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ss_knock_validate(&x.v, f->pkt, f->len, AF_INET, x.src, x.mono,
						   x.wall, &x.out),
				 SS_ERR_KNOCK_MAC);
	seal_src(f, f->client, "ssh", NULL, x.wall, 0, AF_INET, x.src);
	assert_int_equal(
		ss_knock_validate(&x.v, f->pkt, f->len, AF_INET, x.src, x.mono, x.wall, &x.out), 0);
	/* MAC-valid knocks (here a stranger's) pay for their public-key work... */
	for (int i = 0; i < 2; i++) {
		seal_src(f, f->other, "ssh", NULL, x.wall, 0, AF_INET, x.src);
		assert_int_equal(ss_knock_validate(&x.v, f->pkt, f->len, AF_INET, x.src, x.mono,
						   x.wall, &x.out),
				 SS_ERR_KNOCK_UNKNOWN_ID);
	}
	/* ... so the source is now over its rate, checked before the MAC ... */
	assert_int_equal(
		ss_knock_validate(&x.v, f->pkt, f->len, AF_INET, x.src, x.mono, x.wall, &x.out),
		SS_ERR_KNOCK_RATE);
	/* ... even for a valid knock from that source, until its bucket refills. */
	seal_src(f, f->client, "ssh", NULL, x.wall, 0, AF_INET, x.src);
	assert_int_equal(
		ss_knock_validate(&x.v, f->pkt, f->len, AF_INET, x.src, x.mono, x.wall, &x.out),
		SS_ERR_KNOCK_RATE);
	x.mono += 1000000000ull;
	assert_int_equal(
		ss_knock_validate(&x.v, f->pkt, f->len, AF_INET, x.src, x.mono, x.wall, &x.out), 0);
	/* Replay cache of 2, full of live entries (the two valid knocks): fail closed. */
	x.mono += 1000000000ull;
	seal_as(f, f->client, "ssh", NULL, x.wall, 0);
	assert_int_equal(vrun(&x), SS_ERR_KNOCK_REPLAY_FULL);
	/* Once the window has passed (on both clocks), entries expire and knocks work again. */
	x.wall += 31000;
	x.mono += 31000000000ull;
	seal_as(f, f->client, "ssh", NULL, x.wall, 0);
	assert_int_equal(vrun(&x), 0);
	vfree(&x);
}

/*
 * Issue 13, finding 6, through the whole pipeline with fixed clocks: a captured knock is
 * replayed after its entry was forgotten and the wall clock stepped back into its window.
 */
static void test_validate_clock_step_back(void **state)
{
	struct fx *f = *state;
	uint8_t k[sizeof(f->pkt)], src_k[4];
	size_t klen;
	struct vfx x;
	uint64_t t;

	vsetup(&x, f, 1);
	t = x.wall;
	seal_as(f, f->client, "ssh", NULL, t, 0);
	memcpy(k, f->pkt, f->len);
	klen = f->len;
	memcpy(src_k, f->bind4, 4);
	assert_int_equal(vrun(&x), 0);
	/* 61 s later on both clocks, a knock stamped 30 s behind takes the only slot. */
	x.wall += 61000;
	x.mono += 61000000000ull;
	seal_as(f, f->client, "ssh", NULL, x.wall - 30000, 0);
	assert_int_equal(vrun(&x), 0);
	/* The wall clock steps back into k's window; the captured copy comes again. */
	memcpy(f->pkt, k, klen);
	f->len = klen;
	x.wall = t + 5000;
	assert_int_equal(vrun_from(&x, AF_INET, src_k), SS_ERR_KNOCK_REPLAY);
	/* Further back, behind the newest knock by more than the window: all knocks wait. */
	x.wall = t;
	assert_int_equal(vrun_from(&x, AF_INET, src_k), SS_ERR_KNOCK_CLOCK);
	seal_as(f, f->client, "ssh", NULL, t, 0);
	assert_int_equal(vrun(&x), SS_ERR_KNOCK_CLOCK);
	/* Once the clock has caught up, fresh knocks work again. */
	x.wall = t + 62000;
	seal_as(f, f->client, "ssh", NULL, x.wall, 0);
	assert_int_equal(vrun(&x), 0);
	vfree(&x);
}

/*
 * The same across a restart: the replay file drops the forgotten entry, and its floor (file
 * format 2) keeps the captured knock refused when the clock then steps back.
 */
static void test_validate_clock_step_back_restart(void **state)
{
	char dir[] = "/tmp/ss-knock-step.XXXXXX", path[64], tmp[80];
	struct fx *f = *state;
	uint8_t k[sizeof(f->pkt)], src_k[4];
	size_t klen;
	struct vfx x;
	uint64_t t;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/replay", dir);
	vsetup(&x, f, 16);
	ss_knock_validator_free(&x.v);
	x.c->replay_file = strdup(path);
	t = x.wall;
	assert_int_equal(ss_knock_validator_init(&x.v, x.c, f->server, 99, t, x.mono), 0);
	seal_as(f, f->client, "ssh", NULL, t, 0);
	memcpy(k, f->pkt, f->len);
	klen = f->len;
	memcpy(src_k, f->bind4, 4);
	assert_int_equal(vrun(&x), 0);
	/* Restarted 61 s later (a new monotonic clock); then the wall clock steps back. */
	ss_knock_validator_free(&x.v);
	x.mono = 5;
	assert_int_equal(ss_knock_validator_init(&x.v, x.c, f->server, 99, t + 61000, x.mono), 0);
	memcpy(f->pkt, k, klen);
	f->len = klen;
	x.wall = t + 5000;
	assert_int_equal(vrun_from(&x, AF_INET, src_k), SS_ERR_KNOCK_REPLAY);
	vfree(&x);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	unlink(path);
	rmdir(dir);
}

/* 5. signature: a knock whose signature does not verify never reaches the identity check. */
static void test_validate_signature(void **state)
{
	struct fx *f = *state;
	uint8_t in[SS_KNOCK_INNER_MAX];
	struct vfx x;
	size_t il;

	vsetup(&x, f, 16);
	il = build_inner(in, ss_identity_public(f->client), "ssh", "");
	ss_store_be64(in + 9, x.wall);
	raw_seal(f, in, il, f->other);
	assert_int_equal(vrun_from(&x, AF_INET, spec_src), SS_ERR_KNOCK_SIGNATURE);
	raw_seal(f, in, il, f->client);
	assert_int_equal(vrun_from(&x, AF_INET, spec_src), 0);
	/* 4b. inner format errors are MALFORMED after decryption */
	in[1] = 0x80;
	raw_seal(f, in, il, f->client);
	assert_int_equal(vrun_from(&x, AF_INET, spec_src), SS_ERR_KNOCK_MALFORMED);
	vfree(&x);
}

static const uint8_t spoofed_src[4] = {203, 0, 113, 66};

/* The captured copy arrives first, from the attacker, several times. */
static void source_captured_copy(struct vfx *x)
{
	for (int i = 0; i < 3; i++)
		assert_int_equal(vrun_from(x, AF_INET, spoofed_src), SS_ERR_KNOCK_SOURCE);
	assert_int_equal(ss_knock_replay_count(x->v.rp), 0);
	/* ... the drop is logged with the signed address and action, never the payload */
	assert_string_equal(x->out.msg.action, "ssh");
	assert_int_equal(x->out.msg.src_family, SS_KNOCK_SRC_IPV4);
	assert_null(x->out.client);
	/* The real client's copy still works, once. */
	assert_int_equal(vrun(x), 0);
	assert_int_equal(vrun(x), SS_ERR_KNOCK_REPLAY);
	assert_int_equal(vrun_from(x, AF_INET, spoofed_src), SS_ERR_KNOCK_SOURCE);
}

/* IPv4: the same address in another family or a neighbour is no match; v4-mapped is. */
static void source_ipv4(struct fx *f, struct vfx *x)
{
	uint8_t mapped[16] = {0}, v6b[16];

	seal_as(f, f->client, "ssh", NULL, x->wall, 0);
	memcpy(v6b, f->bind4, 4);
	memset(v6b + 4, 0, 12);
	assert_int_equal(vrun_from(x, AF_INET6, v6b), SS_ERR_KNOCK_SOURCE);
	memcpy(x->src, f->bind4, 4);
	x->src[3] ^= 1;
	assert_int_equal(vrun_from(x, AF_INET, x->src), SS_ERR_KNOCK_SOURCE);
	/* A dual-stack socket reports the IPv4 sender v4-mapped: that is the same address. */
	mapped[10] = mapped[11] = 0xff;
	memcpy(mapped + 12, f->bind4, 4);
	assert_int_equal(vrun_from(x, AF_INET6, mapped), 0);
	/* A v4-mapped address given to the sealer is signed as IPv4. */
	f->bind4[3]++;
	memcpy(mapped + 12, f->bind4, 4);
	seal_src(f, f->client, "ssh", NULL, x->wall, 0, AF_INET6, mapped);
	assert_int_equal(ss_knock_open(f->srv, f->pkt, f->len, &f->msg), 0);
	assert_int_equal(f->msg.src_family, SS_KNOCK_SRC_IPV4);
	assert_memory_equal(f->msg.src_addr, f->bind4, 4);
	assert_int_equal(vrun(x), 0);
}

/* IPv6: exact address only (not the /64 the rate limiter uses). */
static void source_ipv6(struct fx *f, struct vfx *x)
{
	uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8}, v6b[16];

	v6[15] = 1;
	seal_src(f, f->client, "ssh", NULL, x->wall, 0, AF_INET6, v6);
	memcpy(v6b, v6, 16);
	v6b[15] = 2;
	assert_int_equal(vrun_from(x, AF_INET6, v6b), SS_ERR_KNOCK_SOURCE);
	assert_int_equal(vrun_from(x, AF_INET, v6), SS_ERR_KNOCK_SOURCE);
	assert_int_equal(vrun_from(x, AF_INET6, v6), 0);
}

/* "any", and where the source check sits in the validation order. */
static void source_any_and_order(struct fx *f, struct vfx *x)
{
	/* "any": refused unless the client has AllowAnySource = yes. */
	seal_src(f, f->client, "ssh", NULL, x->wall, 0, AF_UNSPEC, NULL);
	assert_int_equal(vrun_from(x, AF_INET, spoofed_src), SS_ERR_KNOCK_SOURCE);
	x->c->clients[0].allow_any_source = true;
	assert_int_equal(vrun_from(x, AF_INET, spoofed_src), 0);
	assert_int_equal(vrun_from(x, AF_INET, spoofed_src), SS_ERR_KNOCK_REPLAY);
	/* ... and allowing "any" does not loosen a knock bound to an address. */
	seal_as(f, f->client, "ssh", NULL, x->wall, 0);
	assert_int_equal(vrun_from(x, AF_INET, spoofed_src), SS_ERR_KNOCK_SOURCE);
	assert_int_equal(vrun(x), 0);
	/* Source drops come after identity: a stranger's knock is still UNKNOWN_ID. */
	seal_as(f, f->other, "ssh", NULL, x->wall, 0);
	assert_int_equal(vrun_from(x, AF_INET, spoofed_src), SS_ERR_KNOCK_UNKNOWN_ID);
	/* ... and before time: a stale copy from elsewhere is a source drop. */
	seal_as(f, f->client, "ssh", NULL, x->wall - 60000, 0);
	assert_int_equal(vrun_from(x, AF_INET, spoofed_src), SS_ERR_KNOCK_SOURCE);
}

/* Bad arguments to the sealer. */
static void source_bad_seal_args(struct fx *f)
{
	ss_knock_req req = {.action = "ssh", .src_family = AF_INET, .src_addr = NULL};

	assert_int_equal(seal_req(f, &req), SS_ERR_INVAL);
	req.src_family = AF_UNIX;
	req.src_addr = spoofed_src;
	assert_int_equal(seal_req(f, &req), SS_ERR_INVAL);
}

/*
 * 6b. The knock is bound to its signed source. A copy re-sent from another address (an
 * on-path observer, or one that blocks and forwards) is dropped before the time and
 * replay checks, so it neither opens anything nor burns the real client's challenge.
 */
static void test_validate_source(void **state)
{
	struct fx *f = *state;
	struct vfx x;

	vsetup(&x, f, 16);
	seal_as(f, f->client, "ssh", NULL, x.wall, 0);
	source_captured_copy(&x);
	source_ipv4(f, &x);
	source_ipv6(f, &x);
	source_any_and_order(f, &x);
	assert_int_equal(x.v.drops[ss_knock_drop_index(SS_ERR_KNOCK_SOURCE)], 11);
	assert_int_equal(x.v.accepted, 6);
	source_bad_seal_args(f);
	vfree(&x);
}

/* A flood: each datagram from another spoofed source, all in the same instant. */
static int vrun_spoofed(struct vfx *x, int i)
{
	uint8_t a[4] = {203, 1, (uint8_t)(i >> 8), (uint8_t)i};

	return ss_knock_validate(&x->v, x->f->pkt, x->f->len, AF_INET, a, x->mono, x->wall,
				 &x->out);
}

/* After the one copy that paid for it, copies of a sealed knock cost no public-key work. */
static void copies_of_accepted(struct fx *f, struct vfx *x)
{
	/* The real client's own copy is opened anew (its evidence) and accepted, once. */
	assert_int_equal(vrun(x), 0);
	assert_int_equal(x->v.pk_ops, 2);
	assert_true(x->out.ev.ilen > 0);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(vrun(x), SS_ERR_KNOCK_REPLAY);
		assert_int_equal(vrun_spoofed(x, 3000 + i), SS_ERR_KNOCK_SOURCE);
	}
	/* Past its window the verdict is the pipeline's own: time, before replay. */
	x->wall += 31000;
	assert_int_equal(vrun(x), SS_ERR_KNOCK_TIME);
	x->wall -= 31000;
	assert_int_equal(x->v.pk_ops, 2);
	/* A junk box under a valid MAC (the MAC key is public): opened once, refused. */
	f->pkt[SS_KNOCK_OFF_BOX] ^= 1;
	fix_mac(f);
	for (int i = 0; i < 100; i++)
		assert_int_equal(vrun_spoofed(x, 4000 + i), SS_ERR_KNOCK_DECRYPT);
	assert_int_equal(x->v.pk_ops, 3);
	assert_int_equal(x->v.drops[ss_knock_drop_index(SS_ERR_KNOCK_DECRYPT)], 100);
}

/*
 * Issue 13, finding 4: copies of one sealed knock from spoofed sources each passed the
 * per-source limit and the public outer MAC, and cost X25519 + AES-GCM + Ed25519 before
 * 6b refused them. The cache of opened datagrams makes every copy after the first cost
 * the MAC only, with the verdict the full pipeline gives.
 */
static void test_validate_copies(void **state)
{
	struct fx *f = *state;
	struct vfx x;

	vsetup(&x, f, 16);
	seal_as(f, f->client, "ssh", NULL, x.wall, 0);
	for (int i = 0; i < 2000; i++)
		assert_int_equal(vrun_spoofed(&x, i), SS_ERR_KNOCK_SOURCE);
	assert_int_equal(x.v.pk_ops, 1);
	assert_int_equal(x.v.copies, 1999);
	assert_int_equal(x.v.drops[ss_knock_drop_index(SS_ERR_KNOCK_SOURCE)], 2000);
	assert_int_equal(ss_knock_replay_count(x.v.rp), 0);
	/* The drop log still names the signed identity, action and address. */
	assert_memory_equal(x.out.msg.client, ss_identity_public(f->client), SS_IDENTITY_LEN);
	assert_string_equal(x.out.msg.action, "ssh");
	assert_memory_equal(x.out.msg.src_addr, f->bind4, 4);
	assert_null(x.out.client);
	copies_of_accepted(f, &x);
	vfree(&x);
}

/* MAC-valid datagrams with fresh ephemerals: each is new to the cache. */
static int fresh_junk(struct vfx *x, uint32_t n)
{
	ss_store_be32(x->f->pkt + SS_KNOCK_OFF_EPHEMERAL, n);
	fix_mac(x->f);
	return vrun_spoofed(x, (int)(n & 0xffff));
}

/*
 * 3c. The global budget: the public-key step runs at most SS_KNOCK_PK_BURST times at
 * once and SS_KNOCK_PK_RATE a second, whatever the sources; a valid knock gets in as
 * soon as it refills, and its copies need no budget.
 */
static void test_validate_budget(void **state)
{
	struct fx *f = *state;
	uint64_t ops;
	struct vfx x;
	uint32_t n = 0;

	vsetup(&x, f, 16);
	seal_as(f, f->other, "ssh", NULL, x.wall, 0);
	for (int i = 0; i < SS_KNOCK_PK_BURST + 100; i++)
		assert_int_equal(fresh_junk(&x, n++),
				 i < SS_KNOCK_PK_BURST ? SS_ERR_KNOCK_DECRYPT : SS_ERR_KNOCK_BUSY);
	assert_int_equal(x.v.pk_ops, SS_KNOCK_PK_BURST);
	assert_int_equal(x.v.drops[ss_knock_drop_index(SS_ERR_KNOCK_BUSY)], 100);
	/* A valid knock in the same instant waits for the budget too ... */
	seal_as(f, f->client, "ssh", NULL, x.wall, 0);
	memcpy(x.src, f->bind4, 4);
	assert_int_equal(
		ss_knock_validate(&x.v, f->pkt, f->len, AF_INET, x.src, x.mono, x.wall, &x.out),
		SS_ERR_KNOCK_BUSY);
	/* ... and gets in once it refills (vrun_from is 1 s later). */
	assert_int_equal(vrun_from(&x, AF_INET, x.src), 0);
	/* Offered 2000 fresh datagrams a second for 2 s, the step runs at the budget's rate. */
	seal_as(f, f->other, "ssh", NULL, x.wall, 0);
	ops = x.v.pk_ops;
	for (int i = 0; i < 4000; i++) {
		x.mono += 500000;
		(void)fresh_junk(&x, n++);
	}
	assert_true(x.v.pk_ops - ops <= 2 * SS_KNOCK_PK_RATE + SS_KNOCK_PK_BURST);
	assert_true(x.v.pk_ops - ops >= 2 * SS_KNOCK_PK_RATE - 1);
	/* A fresh valid knock right after is accepted: the flood spent the budget, not more. */
	x.mono += 1000000;
	seal_as(f, f->client, "ssh", NULL, x.wall, 0);
	memcpy(x.src, f->bind4, 4);
	assert_int_equal(
		ss_knock_validate(&x.v, f->pkt, f->len, AF_INET, x.src, x.mono, x.wall, &x.out), 0);
	vfree(&x);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_vectors),
		cmocka_unit_test(test_map_consistent),
		cmocka_unit_test(test_map_rejects),
		T(test_roundtrip),
		T(test_evidence),
		T(test_limits),
		T(test_reject_size),
		T(test_reject_prefix),
		T(test_reject_mac),
		T(test_reject_decrypt),
		T(test_spec_interop),
		T(test_reject_malformed_inner),
		T(test_reject_signature),
		cmocka_unit_test(test_time_window),
		cmocka_unit_test(test_prefilter),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_replay_cache),
		cmocka_unit_test(test_replay_persist),
		cmocka_unit_test(test_replay_clock_step_back),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_error_names),
		T(test_conf_ok),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_conf_grant),
		cmocka_unit_test(test_conf_one_rule_syntax),
		cmocka_unit_test(test_conf_bool_forms),
		T(test_validate_order),
		T(test_validate_rate_and_full),
		T(test_validate_clock_step_back),
		T(test_validate_clock_step_back_restart),
		T(test_validate_signature),
		T(test_validate_source),
		T(test_validate_copies),
		T(test_validate_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
