/* SPDX-License-Identifier: MIT */
/* Identities, base64 keys, fingerprints, key files and error names. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/sha.h>

#include <silosec/error.h>
#include <silosec/identity.h>
#include "knock/knock.h"
#include "stream/stream.h"

#include "config.h"
#include "common/crypto.h"
#include "helpers.h"
#include "kconf.h"

/* RFC 8032 7.1 TEST 1: a fixed key pair to pin encodings against. */
static const char test1_seed_hex[] =
	"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char test1_pub_hex[] =
	"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
/* base64(seed), computed independently (Python base64). */
static const char test1_seed_b64[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
/*
 * base32(SHA-256("SiloSec v2 fingerprint" || pub)[0..15)), lowercase, grouped by four;
 * computed independently with Python hashlib and base64.b32encode.
 */
static const char test1_fingerprint[] = "ahnx-5uye-ibm6-ktyz-25c5-dmbn";
static const char test2_pub_hex[] =
	"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
static const char test2_fingerprint[] = "g7y2-y4zp-l54j-yp7k-7txa-p2n3";

static void unhex(const char *hex, uint8_t *out, size_t want)
{
	size_t len;

	assert_int_equal(hex_decode(hex, out, want, &len), 0);
	assert_int_equal(len, want);
}

static ss_identity *test1_identity(void)
{
	uint8_t seed[SS_SEED_LEN];
	ss_identity *id;

	unhex(test1_seed_hex, seed, sizeof(seed));
	assert_int_equal(ss_identity_from_seed(&id, seed), 0);
	return id;
}

/* ---- identities ---- */

static void identity_from_seed_deterministic(void **state)
{
	uint8_t seed[SS_SEED_LEN], pub[SS_IDENTITY_LEN], back[SS_SEED_LEN];
	ss_identity *a, *b, *c;

	(void)state;
	unhex(test1_seed_hex, seed, sizeof(seed));
	unhex(test1_pub_hex, pub, sizeof(pub));
	assert_int_equal(ss_identity_from_seed(&a, seed), 0);
	assert_int_equal(ss_identity_from_seed(&b, seed), 0);
	assert_ptr_not_equal(a, b);
	assert_memory_equal(ss_identity_public(a), pub, SS_IDENTITY_LEN);
	assert_memory_equal(ss_identity_public(b), pub, SS_IDENTITY_LEN);
	ss_identity_seed(a, back);
	assert_memory_equal(back, seed, SS_SEED_LEN);

	seed[31] ^= 1;
	assert_int_equal(ss_identity_from_seed(&c, seed), 0);
	assert_memory_not_equal(ss_identity_public(c), pub, SS_IDENTITY_LEN);

	assert_int_equal(ss_identity_from_seed(NULL, seed), SS_ERR_INVAL);
	assert_int_equal(ss_identity_from_seed(&c, NULL), SS_ERR_INVAL);
	ss_identity_free(a);
	ss_identity_free(b);
	ss_identity_free(c);
	ss_identity_free(NULL);
}

static int failing_rng(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	memset(buf, 0, len);
	return -1;
}

static void identity_generate(void **state)
{
	uint8_t seed[SS_SEED_LEN], back[SS_SEED_LEN];
	ss_identity *a, *b, *c, *ref, *none = NULL;
	test_rng r;

	(void)state;
	/* The seed is the first 32 bytes the random source hands out. */
	test_rng_init(&r, "identity generate");
	assert_int_equal(test_rng_fn(&r, seed, sizeof(seed)), 0);
	assert_int_equal(ss_identity_from_seed(&ref, seed), 0);

	test_rng_init(&r, "identity generate");
	assert_int_equal(ss_identity_generate(&a, test_rng_fn, &r), 0);
	assert_memory_equal(ss_identity_public(a), ss_identity_public(ref), SS_IDENTITY_LEN);
	ss_identity_seed(a, back);
	assert_memory_equal(back, seed, SS_SEED_LEN);

	/* The next call draws fresh bytes: a different key. */
	assert_int_equal(ss_identity_generate(&b, test_rng_fn, &r), 0);
	assert_memory_not_equal(ss_identity_public(a), ss_identity_public(b), SS_IDENTITY_LEN);

	/* Same label, same stream: same first key. */
	test_rng_init(&r, "identity generate");
	assert_int_equal(ss_identity_generate(&c, test_rng_fn, &r), 0);
	assert_memory_equal(ss_identity_public(a), ss_identity_public(c), SS_IDENTITY_LEN);

	assert_int_equal(ss_identity_generate(&none, failing_rng, NULL), SS_ERR_CRYPTO);
	assert_null(none);
	assert_int_equal(ss_identity_generate(&none, NULL, NULL), SS_ERR_INVAL);
	assert_null(none);

	ss_identity_free(a);
	ss_identity_free(b);
	ss_identity_free(c);
	ss_identity_free(ref);
}

static void identity_sign_verify(void **state)
{
	uint8_t msg[300], sig[SS_SIG_LEN], sig2[SS_SIG_LEN];
	ss_identity *a, *b;
	test_rng r;

	(void)state;
	test_rng_init(&r, "identity sign");
	assert_int_equal(ss_identity_generate(&a, test_rng_fn, &r), 0);
	assert_int_equal(ss_identity_generate(&b, test_rng_fn, &r), 0);
	assert_int_equal(test_rng_fn(&r, msg, sizeof(msg)), 0);

	for (size_t len = 0; len <= sizeof(msg); len += len < 70 ? 1 : 23) {
		const uint8_t *pa = ss_identity_public(a), *pb = ss_identity_public(b);

		assert_int_equal(ss_identity_sign(a, msg, len, sig), 0);
		assert_int_equal(ss_identity_verify(pa, msg, len, sig), 0);
		/* Ed25519 is deterministic. */
		assert_int_equal(ss_identity_sign(a, msg, len, sig2), 0);
		assert_memory_equal(sig, sig2, SS_SIG_LEN);
		/* Another signer, another key, another message, a damaged signature. */
		assert_int_equal(ss_identity_sign(b, msg, len, sig2), 0);
		assert_memory_not_equal(sig, sig2, SS_SIG_LEN);
		assert_int_equal(ss_identity_verify(pb, msg, len, sig), SS_ERR_SIGNATURE);
		assert_int_equal(ss_identity_verify(pa, msg, len, sig2), SS_ERR_SIGNATURE);
		assert_int_equal(ss_identity_verify(pb, msg, len, sig2), 0);
		if (len) {
			msg[len - 1] ^= 0x20;
			assert_int_equal(ss_identity_verify(pa, msg, len, sig), SS_ERR_SIGNATURE);
			msg[len - 1] ^= 0x20;
		}
		sig[len % SS_SIG_LEN] ^= 0x04;
		assert_int_equal(ss_identity_verify(pa, msg, len, sig), SS_ERR_SIGNATURE);
	}
	ss_identity_free(a);
	ss_identity_free(b);
}

/* ---- small-order and non-canonical keys ---- */

/*
 * libsodium's ge25519_has_small_order blocklist, sign bit clear: y = 0 (order 4), 1 (the
 * identity, order 1), the two y of the points of order 8, p - 1 (order 2), p and p + 1
 * (non-canonical 0 and 1). Each was checked independently (Python, RFC 8032 arithmetic)
 * to satisfy 8P = identity, and the five canonical y to cover all eight torsion points.
 */
static const char *const small_order_hex[] = {
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};
#define N_SMALL_ORDER (2 * sizeof(small_order_hex) / sizeof(small_order_hex[0]))

/* Encoding i of N_SMALL_ORDER: each blocklisted y with the sign bit clear, then set. */
static void small_order_point(size_t i, uint8_t out[32])
{
	unhex(small_order_hex[i / 2], out, 32);
	if (i % 2)
		out[31] |= 0x80;
}

static void small_order_keys_refused(void **state)
{
	uint8_t pub[SS_IDENTITY_LEN], sig[SS_SIG_LEN], msg[40];
	test_rng r;

	(void)state;
	test_rng_init(&r, "small order");
	for (size_t i = 0; i < N_SMALL_ORDER; i++) {
		small_order_point(i, pub);
		assert_int_equal(ss_identity_check_pub(pub), SS_ERR_BAD_KEY);
		/* Universal signatures: R of small order, S = 0, on any message. */
		for (size_t m = 0; m < 16; m++) {
			assert_int_equal(test_rng_fn(&r, msg, sizeof(msg)), 0);
			for (size_t j = 0; j < N_SMALL_ORDER; j++) {
				memset(sig, 0, sizeof(sig));
				small_order_point(j, sig);
				assert_int_equal(ss_identity_verify(pub, msg, m, sig),
						 SS_ERR_BAD_KEY);
			}
		}
	}
	/*
	 * Why the check exists: under the identity key, R = identity and S = 0 satisfy RFC
	 * 8032's [S]B = R + [k]A (O = O + O) for every message, and OpenSSL accepts it.
	 */
	small_order_point(2, pub);
	memset(sig, 0, sizeof(sig));
	sig[0] = 1;
	for (size_t m = 0; m < sizeof(msg); m++) {
		assert_int_equal(ss_ed25519_verify(pub, msg, m, sig), 0);
		assert_int_equal(ss_identity_verify(pub, msg, m, sig), SS_ERR_BAD_KEY);
	}
	assert_int_equal(ss_identity_check_pub(NULL), SS_ERR_INVAL);
}

static void non_canonical_keys_refused(void **state)
{
	uint8_t pub[SS_IDENTITY_LEN], sig[SS_SIG_LEN] = {0};
	ss_identity *id;
	test_rng r;

	(void)state;
	/* y = p .. 2^255 - 1, either sign bit. */
	for (unsigned lo = 0xed; lo <= 0xff; lo++) {
		memset(pub, 0xff, sizeof(pub));
		pub[0] = (uint8_t)lo;
		pub[31] = 0x7f;
		assert_int_equal(ss_identity_check_pub(pub), SS_ERR_BAD_KEY);
		assert_int_equal(ss_identity_verify(pub, NULL, 0, sig), SS_ERR_BAD_KEY);
		pub[31] = 0xff;
		assert_int_equal(ss_identity_check_pub(pub), SS_ERR_BAD_KEY);
	}
	/* y = p - 2 is canonical and not of small order: the check lets it through. */
	memset(pub, 0xff, sizeof(pub));
	pub[0] = 0xeb;
	pub[31] = 0x7f;
	assert_int_equal(ss_identity_check_pub(pub), 0);
	/* Real keys pass. */
	unhex(test1_pub_hex, pub, sizeof(pub));
	assert_int_equal(ss_identity_check_pub(pub), 0);
	unhex(test2_pub_hex, pub, sizeof(pub));
	assert_int_equal(ss_identity_check_pub(pub), 0);
	test_rng_init(&r, "canonical");
	for (int i = 0; i < 200; i++) {
		assert_int_equal(ss_identity_generate(&id, test_rng_fn, &r), 0);
		assert_int_equal(ss_identity_check_pub(ss_identity_public(id)), 0);
		ss_identity_free(id);
	}
}

/*
 * A valid RFC 8032 signature whose R is the identity: R = [r]B with r = 0, so S = k * a
 * mod L, k = SHA-512(R || A || msg). Only the key's owner can make it (and it reveals
 * a = S / k), but the equation holds and OpenSSL accepts it.
 */
static void sign_identity_r(const uint8_t seed[SS_SEED_LEN], const uint8_t pub[SS_IDENTITY_LEN],
			    const uint8_t *msg, size_t len, uint8_t sig[SS_SIG_LEN])
{
	uint8_t h[SHA512_DIGEST_LENGTH], k[SHA512_DIGEST_LENGTH], buf[64 + 64];
	BN_CTX *bc = BN_CTX_new();
	BIGNUM *a = BN_new(), *kk = BN_new(), *l = NULL, *s = BN_new();

	assert_true(len <= 64);
	assert_non_null(SHA512(seed, SS_SEED_LEN, h));
	h[0] &= 248;
	h[31] &= 127;
	h[31] |= 64;
	memset(sig, 0, SS_SIG_LEN);
	sig[0] = 1;
	memcpy(buf, sig, 32);
	memcpy(buf + 32, pub, 32);
	memcpy(buf + 64, msg, len);
	assert_non_null(SHA512(buf, 64 + len, k));
	assert_true(bc && a && kk && s);
	assert_true(
		BN_hex2bn(&l, "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed"));
	assert_non_null(BN_lebin2bn(h, 32, a));
	assert_non_null(BN_lebin2bn(k, sizeof(k), kk));
	assert_int_equal(BN_mod_mul(s, kk, a, l, bc), 1);
	assert_int_equal(BN_bn2lebinpad(s, sig + 32, 32), 32);
	BN_free(a);
	BN_free(kk);
	BN_free(l);
	BN_free(s);
	BN_CTX_free(bc);
	ss_wipe(h, sizeof(h));
}

static void small_order_r_refused(void **state)
{
	uint8_t seed[SS_SEED_LEN], pub[SS_IDENTITY_LEN], msg[48], sig[SS_SIG_LEN];
	ss_identity *id = test1_identity();
	test_rng r;

	(void)state;
	unhex(test1_seed_hex, seed, sizeof(seed));
	unhex(test1_pub_hex, pub, sizeof(pub));
	test_rng_init(&r, "small order R");
	for (size_t m = 0; m < sizeof(msg); m++) {
		assert_int_equal(test_rng_fn(&r, msg, sizeof(msg)), 0);
		/* The normal signature verifies. */
		assert_int_equal(ss_identity_sign(id, msg, m, sig), 0);
		assert_int_equal(ss_identity_verify(pub, msg, m, sig), 0);
		/* The owner's R = identity signature: valid for OpenSSL, refused here. */
		sign_identity_r(seed, pub, msg, m, sig);
		assert_int_equal(ss_ed25519_verify(pub, msg, m, sig), 0);
		assert_int_equal(ss_identity_verify(pub, msg, m, sig), SS_ERR_SIGNATURE);
		/* Any small-order R, whatever S. */
		for (size_t j = 0; j < N_SMALL_ORDER; j++) {
			small_order_point(j, sig);
			assert_int_equal(ss_identity_verify(pub, msg, m, sig), SS_ERR_SIGNATURE);
		}
	}
	ss_identity_free(id);
	ss_wipe(seed, sizeof(seed));
}

static int no_read(void *arg, uint8_t *buf, size_t len, size_t *got)
{
	(void)arg, (void)buf, (void)len, (void)got;
	return SS_ERR_IO;
}

static int no_write(void *arg, const uint8_t *buf, size_t len, size_t *put)
{
	(void)arg, (void)buf, (void)len, (void)put;
	return SS_ERR_IO;
}

/* The protocol core: a configured or a pinned TOFU peer. */
static void key_path_core(test_node *n, const uint8_t *key, bool weak)
{
	ss_peer *p = NULL;

	if (!weak) {
		assert_int_equal(ss_peer_add(n->ctx, key, &p), 0);
		assert_ptr_equal(ss_peer_find(n->ctx, key), p);
		return;
	}
	assert_int_equal(ss_peer_add(n->ctx, key, &p), SS_ERR_BAD_KEY);
	assert_int_equal(ss_peer_add_tofu(n->ctx, key, &p), SS_ERR_BAD_KEY);
	assert_null(p);
	assert_null(ss_peer_find(n->ctx, key));
}

/* silosec.conf: Identity of a [Peer]. */
static void key_path_conf(const uint8_t *key, bool weak)
{
	char b64[SS_B64_KEY_LEN], text[256], err[SS_CONF_ERR_LEN], want[128];
	ss_conf *c = NULL;

	ss_key_to_base64(key, b64);
	snprintf(text, sizeof(text), "[Interface]\nPrivateKey = %s\n[Peer]\nIdentity = %s\n",
		 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", b64);
	if (!weak) {
		assert_int_equal(ss_conf_parse(text, strlen(text), "t.conf", &c, err, sizeof(err)),
				 0);
		ss_conf_free(c);
		return;
	}
	assert_int_equal(ss_conf_parse(text, strlen(text), "t.conf", &c, err, sizeof(err)),
			 SS_ERR_BAD_KEY);
	assert_null(c);
	snprintf(want, sizeof(want),
		 "t.conf:4: Identity: \"%s\" is a weak key (small-order or non-canonical "
		 "point)",
		 b64);
	assert_string_equal(err, want);
}

/* knockd.conf: Identity of a [Client]. */
static void key_path_kconf(const uint8_t *key, bool weak)
{
	char b64[SS_B64_KEY_LEN], text[256], err[SS_CONF_ERR_LEN];
	ss_kconf *kc = NULL;

	ss_key_to_base64(key, b64);
	snprintf(text, sizeof(text),
		 "[Server]\nPrivateKeyFile = k\n[Client c]\nIdentity = %s\nActions = a\n"
		 "[Action a]\nType = command\nCommand = /bin/true\n",
		 b64);
	if (!weak) {
		assert_int_equal(
			ss_kconf_parse(text, strlen(text), "k.conf", &kc, err, sizeof(err)), 0);
		ss_kconf_free(kc);
		return;
	}
	assert_int_equal(ss_kconf_parse(text, strlen(text), "k.conf", &kc, err, sizeof(err)),
			 SS_ERR_FORMAT);
	assert_null(kc);
	assert_non_null(strstr(err, "k.conf:4: Identity: '"));
	assert_non_null(strstr(err, "' is a weak key (small-order or non-canonical point)"));
}

/* A stream's allowed peers, and a knock client's server key. */
static void key_path_stream_knock(ss_identity *me, test_node *n, const uint8_t *key, bool weak)
{
	uint8_t out[SS_KNOCK_MAX_LEN];
	ss_stream_config scfg = {0};
	ss_knock_req req = {.action = "open"};
	ss_stream *st = NULL;
	size_t len;

	scfg.identity = me;
	scfg.npeers = 1;
	scfg.peers = (const uint8_t(*)[SS_IDENTITY_LEN])key;
	assert_int_equal(ss_stream_new_cb(&st, &scfg, no_read, no_write, NULL),
			 weak ? SS_ERR_BAD_KEY : 0);
	if (weak)
		assert_null(st);
	else
		ss_stream_free(st);
	assert_int_equal(ss_knock_seal(out, sizeof(out), &len, me, key, &req, test_rng_fn, &n->rng),
			 weak ? SS_ERR_BAD_KEY : 0);
}

static void key_paths(ss_identity *me, test_node *n, const uint8_t *key, bool weak)
{
	key_path_core(n, key, weak);
	key_path_conf(key, weak);
	key_path_kconf(key, weak);
	key_path_stream_knock(me, n, key, weak);
}

/* Every place that takes an identity from a file, the command line or an API refuses. */
static void small_order_key_paths(void **state)
{
	uint8_t keys[N_SMALL_ORDER + 1][SS_IDENTITY_LEN];
	ss_identity *me = test1_identity();
	test_node n;

	(void)state;
	for (size_t i = 0; i < N_SMALL_ORDER; i++)
		small_order_point(i, keys[i]);
	/* And one non-canonical key that is not on the blocklist: y = p + 2. */
	memset(keys[N_SMALL_ORDER], 0xff, SS_IDENTITY_LEN);
	keys[N_SMALL_ORDER][0] = 0xef;
	keys[N_SMALL_ORDER][31] = 0x7f;

	test_node_init(&n, "paths", 4);
	for (size_t i = 0; i < N_SMALL_ORDER + 1; i++)
		key_paths(me, &n, keys[i], true);
	/* Controls: a real identity passes every one of these paths. */
	unhex(test2_pub_hex, keys[0], SS_IDENTITY_LEN);
	key_paths(me, &n, keys[0], false);
	ss_identity_free(me);
	test_node_free(&n);
}

/* ---- base64 ---- */

static void base64_roundtrip(void **state)
{
	uint8_t key[32], back[32];
	char b64[SS_B64_KEY_LEN + 8];
	test_rng r;

	(void)state;
	unhex(test1_seed_hex, key, sizeof(key));
	memset(b64, '#', sizeof(b64));
	ss_key_to_base64(key, b64);
	assert_string_equal(b64, test1_seed_b64);
	for (size_t i = SS_B64_KEY_LEN; i < sizeof(b64); i++)
		assert_int_equal(b64[i], '#');
	assert_int_equal(ss_key_from_base64(test1_seed_b64, back), 0);
	assert_memory_equal(back, key, 32);

	memset(key, 0, sizeof(key));
	ss_key_to_base64(key, b64);
	assert_string_equal(b64, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	memset(key, 0xff, sizeof(key));
	ss_key_to_base64(key, b64);
	assert_string_equal(b64, "//////////////////////////////////////////8=");
	assert_int_equal(ss_key_from_base64(b64, back), 0);
	assert_memory_equal(back, key, 32);

	test_rng_init(&r, "base64");
	for (int i = 0; i < 2000; i++) {
		assert_int_equal(test_rng_fn(&r, key, sizeof(key)), 0);
		ss_key_to_base64(key, b64);
		assert_int_equal(strlen(b64), SS_B64_KEY_LEN - 1);
		assert_int_equal(b64[43], '=');
		memset(back, 0, sizeof(back));
		assert_int_equal(ss_key_from_base64(b64, back), 0);
		assert_memory_equal(back, key, 32);
	}
}

static void base64_rejects(void **state)
{
	/* Grouped by why each is refused; a failure names the group. */
	static const struct {
		const char *why;
		const char *text[8];
	} groups[] = {
		{"wrong length (43 and 45 characters; 31 or 33 bytes; blanks count)",
		 {"", "=", "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
		  "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A==",
		  "AnWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=",
		  "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\n",
		  " nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="}},
		{"wrong length (42 characters and two pads; 44 without)",
		 {"nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2==",
		  "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2AA"}},
		{"invalid character (URL-safe alphabet, space, punctuation, pad inside, non-ASCII)",
		 {"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=",
		  "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyu-2A=",
		  "nWGxne/9WmC6hEr0kuwsx RJxWl7MmkZcDusAxyuf2A=",
		  "nWGxne/9WmC6hEr0kuwsx*RJxWl7MmkZcDusAxyuf2A=",
		  "nWGxne/9WmC6hEr0kuwsx=RJxWl7MmkZcDusAxyuf2A=",
		  "nWGxne/9WmC6hEr0kuwsx\nRJxWl7MmkZcDusAxyuf2A=",
		  "\xa9WGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="}},
		{"non-canonical: the last character's two padding bits are not zero",
		 {"nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2B=",
		  "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2C=",
		  "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2D=",
		  "//////////////////////////////////////////9=",
		  "//////////////////////////////////////////+=",
		  "///////////////////////////////////////////="}},
	};
	uint8_t key[32];
	size_t n = 0;

	(void)state;
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (size_t i = 0; i < 8 && groups[g].text[i]; i++, n++)
			if (ss_key_from_base64(groups[g].text[i], key) != SS_ERR_FORMAT)
				fail_msg("%s: '%s' decoded", groups[g].why, groups[g].text[i]);
	/* Every case above ran: none hides behind a NULL. */
	assert_int_equal(n, 22);
	assert_int_equal(ss_key_from_base64(NULL, key), SS_ERR_FORMAT);

	/* Changing the last character by a multiple of 4 is another, canonical key. */
	assert_int_equal(ss_key_from_base64("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2E=", key),
			 0);
	assert_int_equal(key[31], 0x61);
}

/* ---- fingerprints ---- */

static void check_fingerprint_format(const char *fp)
{
	assert_int_equal(strlen(fp), SS_FINGERPRINT_LEN - 1);
	for (int i = 0; i < SS_FINGERPRINT_LEN - 1; i++) {
		if (i % 5 == 4)
			assert_int_equal(fp[i], '-');
		else
			assert_true((fp[i] >= 'a' && fp[i] <= 'z') ||
				    (fp[i] >= '2' && fp[i] <= '7'));
	}
}

static void fingerprint(void **state)
{
	uint8_t pub[SS_IDENTITY_LEN], pub2[SS_IDENTITY_LEN];
	char fp[SS_FINGERPRINT_LEN + 8], fp2[SS_FINGERPRINT_LEN];
	int seen[32] = {0};
	test_rng r;

	(void)state;
	unhex(test1_pub_hex, pub, sizeof(pub));
	memset(fp, '#', sizeof(fp));
	ss_fingerprint(pub, fp);
	check_fingerprint_format(fp);
	assert_string_equal(fp, test1_fingerprint);
	for (size_t i = SS_FINGERPRINT_LEN; i < sizeof(fp); i++)
		assert_int_equal(fp[i], '#');
	/* Stable. */
	ss_fingerprint(pub, fp2);
	assert_string_equal(fp2, test1_fingerprint);

	unhex(test2_pub_hex, pub2, sizeof(pub2));
	ss_fingerprint(pub2, fp2);
	check_fingerprint_format(fp2);
	assert_string_equal(fp2, test2_fingerprint);
	assert_string_not_equal(fp, fp2);

	/* Any single bit of the key changes it. */
	for (int b = 0; b < 256; b += 17) {
		pub[b / 8] ^= (uint8_t)(1u << (b % 8));
		ss_fingerprint(pub, fp2);
		check_fingerprint_format(fp2);
		assert_string_not_equal(fp2, test1_fingerprint);
		pub[b / 8] ^= (uint8_t)(1u << (b % 8));
	}

	/* Random keys: always well formed, and every base32 digit shows up somewhere. */
	test_rng_init(&r, "fingerprint");
	for (int i = 0; i < 500; i++) {
		assert_int_equal(test_rng_fn(&r, pub, sizeof(pub)), 0);
		ss_fingerprint(pub, fp2);
		check_fingerprint_format(fp2);
		for (int j = 0; fp2[j]; j++) {
			const char *a = "abcdefghijklmnopqrstuvwxyz234567";

			if (fp2[j] != '-')
				seen[strchr(a, fp2[j]) - a] = 1;
		}
	}
	for (int j = 0; j < 32; j++)
		assert_true(seen[j]);
}

/* ---- key files ---- */

static void keyfile_save_load(void **state)
{
	char path[PATH_MAX], buf[256], want[SS_B64_KEY_LEN + 1];
	ss_identity *id = test1_identity(), *back = NULL;
	struct stat st;
	mode_t old = umask(0);

	/* Even with a permissive umask the file is created 0600. */
	test_tmp_path(path, state, "key");
	assert_int_equal(ss_keyfile_save(path, id), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);

	/* One base64 seed and a newline. */
	snprintf(want, sizeof(want), "%s\n", test1_seed_b64);
	assert_int_equal(test_read_file(path, buf, sizeof(buf)), strlen(want));
	assert_string_equal(buf, want);

	assert_int_equal(ss_keyfile_load(path, &back), 0);
	assert_non_null(back);
	assert_memory_equal(ss_identity_public(back), ss_identity_public(id), SS_IDENTITY_LEN);
	ss_identity_free(back);

	/* Never overwrites. */
	assert_int_equal(ss_keyfile_save(path, id), SS_ERR_EXISTS);
	assert_int_equal(test_read_file(path, buf, sizeof(buf)), strlen(want));
	assert_string_equal(buf, want);

	ss_identity_free(id);
}

static void keyfile_save_refuses_existing(void **state)
{
	char path[PATH_MAX], link_path[PATH_MAX], buf[64];
	ss_identity *id = test1_identity();
	struct stat st;

	(void)state;
	test_tmp_path(path, state, "other");
	test_write_file(path, "precious\n", 9, 0600);
	assert_int_equal(ss_keyfile_save(path, id), SS_ERR_EXISTS);
	assert_int_equal(test_read_file(path, buf, sizeof(buf)), 9);
	assert_string_equal(buf, "precious\n");

	/* A dangling symlink is not followed to create its target. */
	test_tmp_path(link_path, state, "link");
	test_tmp_path(path, state, "target");
	assert_int_equal(symlink(path, link_path), 0);
	assert_int_equal(ss_keyfile_save(link_path, id), SS_ERR_EXISTS);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(errno, ENOENT);

	/* No such directory. */
	test_tmp_path(path, state, "missing/key");
	assert_int_equal(ss_keyfile_save(path, id), SS_ERR_IO);

	ss_identity_free(id);
}

static void keyfile_permissions(void **state)
{
	static const mode_t refused[] = {0640, 0604, 0620, 0602, 0610, 0601, 0644, 0660, 0666};
	static const mode_t allowed[] = {0600, 0400, 0700};
	char path[PATH_MAX], line[SS_B64_KEY_LEN + 1];
	ss_identity *id = NULL;

	test_tmp_path(path, state, "perm");
	snprintf(line, sizeof(line), "%s\n", test1_seed_b64);
	test_write_file(path, line, strlen(line), 0600);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(chmod(path, refused[i]), 0);
		assert_int_equal(ss_keyfile_load(path, &id), SS_ERR_PERM);
		assert_null(id);
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		uint8_t pub[SS_IDENTITY_LEN];

		assert_int_equal(chmod(path, allowed[i]), 0);
		assert_int_equal(ss_keyfile_load(path, &id), 0);
		unhex(test1_pub_hex, pub, sizeof(pub));
		assert_memory_equal(ss_identity_public(id), pub, SS_IDENTITY_LEN);
		ss_identity_free(id);
		id = NULL;
	}
}

static void keyfile_contents(void **state)
{
	struct content {
		const char *text;
		int want;
	};
	char k[SS_B64_KEY_LEN], two[3 * SS_B64_KEY_LEN], nl[SS_B64_KEY_LEN + 1];
	char crlf[SS_B64_KEY_LEN + 2], nlnl[SS_B64_KEY_LEN + 2], lead[SS_B64_KEY_LEN + 2];
	char sp[SS_B64_KEY_LEN + 2], big[200];
	char path[PATH_MAX];
	uint8_t pub[SS_IDENTITY_LEN];
	const struct content cases[] = {
		{k, 0},
		{nl, 0},
		{crlf, SS_ERR_FORMAT}, /* PROTOCOL 12: one LF only (issue 13, finding 8) */
		{"", SS_ERR_FORMAT},
		{"\n", SS_ERR_FORMAT},
		{"garbage\n", SS_ERR_FORMAT},
		{"-----BEGIN PRIVATE KEY-----\n", SS_ERR_FORMAT},
		{two, SS_ERR_FORMAT},
		{nlnl, SS_ERR_FORMAT},
		{lead, SS_ERR_FORMAT},
		{sp, SS_ERR_FORMAT},
		{big, SS_ERR_FORMAT},
		{"nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2B=\n", SS_ERR_FORMAT},
	};

	memcpy(k, test1_seed_b64, sizeof(k));
	snprintf(two, sizeof(two), "%s\n%s\n", k, k);
	snprintf(nl, sizeof(nl), "%s\n", k);
	snprintf(crlf, sizeof(crlf), "%s\r\n", k);
	snprintf(nlnl, sizeof(nlnl), "%s\n\n", k);
	snprintf(lead, sizeof(lead), "\n%s", k);
	snprintf(sp, sizeof(sp), "%s ", k);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';

	unhex(test1_pub_hex, pub, sizeof(pub));
	test_tmp_path(path, state, "contents");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ss_identity *id = NULL;

		print_message("case %zu\n", i);
		unlink(path);
		test_write_file(path, cases[i].text, strlen(cases[i].text), 0600);
		assert_int_equal(ss_keyfile_load(path, &id), cases[i].want);
		if (cases[i].want == 0) {
			assert_memory_equal(ss_identity_public(id), pub, SS_IDENTITY_LEN);
			ss_identity_free(id);
		} else {
			assert_null(id);
		}
	}

	/* Not a regular file; not there at all. */
	{
		ss_identity *id = NULL;

		assert_int_equal(ss_keyfile_load((const char *)*state, &id), SS_ERR_FORMAT);
		test_tmp_path(path, state, "nonexistent");
		assert_int_equal(ss_keyfile_load(path, &id), SS_ERR_IO);
		assert_null(id);
	}
}

static void keyfile_fd_roundtrip(void **state)
{
	ss_identity *id = test1_identity(), *back = NULL;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(ss_keyfile_save_fd(p[1], id), 0);
	close(p[1]);
	assert_int_equal(ss_keyfile_load_fd(p[0], &back), 0);
	close(p[0]);
	assert_memory_equal(ss_identity_public(back), ss_identity_public(id), SS_IDENTITY_LEN);
	ss_identity_free(back);
	ss_identity_free(id);
}

/* ---- error codes ---- */

#define ERR(x)                                                                                     \
	{                                                                                          \
		x, #x                                                                              \
	}

static const struct {
	int code;
	const char *name;
} all_errors[] = {
	ERR(SS_OK),
	ERR(SS_ERR_INVAL),
	ERR(SS_ERR_NOMEM),
	ERR(SS_ERR_CRYPTO),
	ERR(SS_ERR_IO),
	ERR(SS_ERR_PERM),
	ERR(SS_ERR_FORMAT),
	ERR(SS_ERR_BUFFER),
	ERR(SS_ERR_NO_SESSION),
	ERR(SS_ERR_EXISTS),
	ERR(SS_ERR_NOT_FOUND),
	ERR(SS_ERR_FULL),
	ERR(SS_ERR_BAD_KEY),
	ERR(SS_ERR_MALFORMED),
	ERR(SS_ERR_MAC1),
	ERR(SS_ERR_COOKIE),
	ERR(SS_ERR_UNKNOWN_INDEX),
	ERR(SS_ERR_UNKNOWN_PEER),
	ERR(SS_ERR_STALE),
	ERR(SS_ERR_RATE_LIMIT),
	ERR(SS_ERR_SIGNATURE),
	ERR(SS_ERR_IDENTITY),
	ERR(SS_ERR_CONFIRM),
	ERR(SS_ERR_DECRYPT),
	ERR(SS_ERR_REPLAY),
	ERR(SS_ERR_TOO_OLD),
	ERR(SS_ERR_EXPIRED),
	ERR(SS_ERR_FLOW),
	ERR(SS_ERR_DIVERGENCE),
	ERR(SS_ERR_REFLECTION),
	ERR(SS_ERR_UNEXPECTED),
	ERR(SS_ERR_KEY_EXHAUSTED),
	ERR(SS_ERR_REACH_DENIED),
	ERR(SS_ERR_REACH_RATE),
	ERR(SS_ERR_CANDIDATE),
	ERR(SS_ERR_LAN_SPOOF),
	ERR(SS_ERR_RELAY),
};

static void error_names(void **state)
{
	static const int unknown[] = {1, -13, -20, -31, -56, -100, INT_MIN, INT_MAX};
	int used[SS_DROP_COUNT] = {0};

	(void)state;
	assert_int_equal(SS_DROP_COUNT, SS_ERR_MALFORMED - SS_ERR_RELAY + 1);
	for (size_t i = 0; i < sizeof(all_errors) / sizeof(all_errors[0]); i++) {
		assert_string_equal(ss_err_name(all_errors[i].code), all_errors[i].name);
		assert_non_null(ss_strerror(all_errors[i].code));
		assert_string_not_equal(ss_strerror(all_errors[i].code), "unknown error");
		assert_true(strlen(ss_strerror(all_errors[i].code)) > 0);
	}

	/* Every drop code, by range: named, described, one distinct counter slot each. */
	for (int code = SS_ERR_MALFORMED; code >= SS_DROP_LAST; code--) {
		int idx = ss_drop_index(code);

		assert_string_not_equal(ss_err_name(code), "SS_ERR_UNKNOWN");
		assert_string_not_equal(ss_strerror(code), "unknown error");
		assert_true(idx >= 0 && idx < SS_DROP_COUNT);
		assert_int_equal(used[idx], 0);
		used[idx] = 1;
	}
	for (int i = 0; i < SS_DROP_COUNT; i++)
		assert_int_equal(used[i], 1);
	assert_int_equal(ss_drop_index(SS_DROP_FIRST), 0);
	assert_int_equal(ss_drop_index(SS_DROP_LAST), SS_DROP_COUNT - 1);

	/* Codes that are not drops. */
	for (int code = 5; code > SS_ERR_MALFORMED; code--)
		assert_int_equal(ss_drop_index(code), -1);
	for (int code = SS_DROP_LAST - 1; code > SS_DROP_LAST - 100; code--)
		assert_int_equal(ss_drop_index(code), -1);
	assert_int_equal(ss_drop_index(INT_MIN), -1);
	assert_int_equal(ss_drop_index(INT_MAX), -1);

	/* Unassigned codes. */
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		assert_string_equal(ss_err_name(unknown[i]), "SS_ERR_UNKNOWN");
		assert_string_equal(ss_strerror(unknown[i]), "unknown error");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(identity_from_seed_deterministic),
		cmocka_unit_test(identity_generate),
		cmocka_unit_test(identity_sign_verify),
		cmocka_unit_test(small_order_keys_refused),
		cmocka_unit_test(non_canonical_keys_refused),
		cmocka_unit_test(small_order_r_refused),
		cmocka_unit_test(small_order_key_paths),
		cmocka_unit_test(base64_roundtrip),
		cmocka_unit_test(base64_rejects),
		cmocka_unit_test(fingerprint),
		cmocka_unit_test_setup_teardown(keyfile_save_load, test_tmpdir_setup,
						test_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(keyfile_save_refuses_existing, test_tmpdir_setup,
						test_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(keyfile_permissions, test_tmpdir_setup,
						test_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(keyfile_contents, test_tmpdir_setup,
						test_tmpdir_teardown),
		cmocka_unit_test(keyfile_fd_roundtrip),
		cmocka_unit_test(error_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
