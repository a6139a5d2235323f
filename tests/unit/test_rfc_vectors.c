/* SPDX-License-Identifier: MIT */
/*
 * Published test vectors through the wrappers in crypto.h: RFC 5869 (HKDF-SHA256),
 * RFC 8032 section 7.1 (Ed25519), RFC 7748 sections 5.2 and 6.1 (X25519) and the
 * GCM specification's AES-256 test cases. Every value below was also recomputed with
 * independent code (Python hmac/hashlib, a pure-Python X25519 ladder) before pinning.
 */
#include <string.h>

#include <silosec/error.h>

#include "common/crypto.h"
#include "helpers.h"

/* Decode hex into out and assert it is exactly want bytes long. */
static void unhex(const char *hex, uint8_t *out, size_t want)
{
	size_t len;

	assert_int_equal(hex_decode(hex, out, want, &len), 0);
	assert_int_equal(len, want);
}

static int all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/* ---- RFC 5869 HKDF-SHA256, appendix A.1 to A.3 ---- */

struct hkdf_vector {
	const char *ikm, *salt, *info; /* hex; "" for empty */
	size_t ikmlen, saltlen, infolen, okmlen;
	const char *prk, *okm;
};

static const struct hkdf_vector hkdf_vectors[] = {
	{
		/* Test case 1: basic. */
		.ikm = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		.ikmlen = 22,
		.salt = "000102030405060708090a0b0c",
		.saltlen = 13,
		.info = "f0f1f2f3f4f5f6f7f8f9",
		.infolen = 10,
		.okmlen = 42,
		.prk = "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
		.okm = "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
		       "34007208d5b887185865",
	},
	{
		/* Test case 2: longer inputs and outputs. */
		.ikm = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		       "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
		       "404142434445464748494a4b4c4d4e4f",
		.ikmlen = 80,
		.salt = "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
			"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
			"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		.saltlen = 80,
		.info = "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
			"d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
			"f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		.infolen = 80,
		.okmlen = 82,
		.prk = "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
		.okm = "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
		       "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
		       "cc30c58179ec3e87c14c01d5c1f3434f1d87",
	},
	{
		/* Test case 3: zero-length salt and info. */
		.ikm = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		.ikmlen = 22,
		.salt = "",
		.saltlen = 0,
		.info = "",
		.infolen = 0,
		.okmlen = 42,
		.prk = "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
		.okm = "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
		       "9d201395faa4b61a96c8",
	},
};

static void rfc5869_hkdf(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hkdf_vectors) / sizeof(hkdf_vectors[0]); i++) {
		const struct hkdf_vector *v = &hkdf_vectors[i];
		uint8_t ikm[80], salt[80], info[80], prk[SS_HASH_LEN], okm[82];
		uint8_t want_prk[SS_HASH_LEN], want_okm[82], got_prk[SS_HASH_LEN], got_okm[82];

		unhex(v->ikm, ikm, v->ikmlen);
		unhex(v->salt, salt, v->saltlen);
		unhex(v->info, info, v->infolen);
		unhex(v->prk, want_prk, sizeof(want_prk));
		unhex(v->okm, want_okm, v->okmlen);

		memset(got_prk, 0xaa, sizeof(got_prk));
		assert_int_equal(ss_hkdf_extract(got_prk, v->saltlen ? salt : NULL, v->saltlen, ikm,
						 v->ikmlen),
				 0);
		assert_memory_equal(got_prk, want_prk, SS_HASH_LEN);
		memcpy(prk, got_prk, sizeof(prk));

		memset(got_okm, 0xaa, sizeof(got_okm));
		assert_int_equal(ss_hkdf_expand(got_okm, v->okmlen, prk, v->infolen ? info : NULL,
						v->infolen),
				 0);
		assert_memory_equal(got_okm, want_okm, v->okmlen);
		/* Nothing written past okmlen. */
		for (size_t j = v->okmlen; j < sizeof(got_okm); j++)
			assert_int_equal(got_okm[j], 0xaa);

		/* A shorter output is a prefix of the longer one. */
		assert_int_equal(ss_hkdf_expand(okm, 7, prk, info, v->infolen), 0);
		assert_memory_equal(okm, want_okm, 7);
	}
}

static void rfc5869_hkdf_empty_salt_is_zeros(void **state)
{
	static const uint8_t zeros[SS_HASH_LEN];
	uint8_t ikm[22], a[SS_HASH_LEN], b[SS_HASH_LEN], want[SS_HASH_LEN];

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	unhex("19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04", want,
	      sizeof(want));
	/* RFC 5869 2.2: an absent salt is HashLen zero bytes. */
	assert_int_equal(ss_hkdf_extract(a, NULL, 0, ikm, sizeof(ikm)), 0);
	assert_int_equal(ss_hkdf_extract(b, zeros, sizeof(zeros), ikm, sizeof(ikm)), 0);
	assert_memory_equal(a, want, SS_HASH_LEN);
	assert_memory_equal(b, want, SS_HASH_LEN);
}

static void rfc5869_hkdf_expand_limits(void **state)
{
	uint8_t prk[SS_HASH_LEN] = {1}, big[255 * SS_HASH_LEN + 1];

	(void)state;
	assert_int_equal(ss_hkdf_expand(big, 0, prk, NULL, 0), SS_ERR_INVAL);
	assert_int_equal(ss_hkdf_expand(big, 255 * SS_HASH_LEN + 1, prk, NULL, 0), SS_ERR_INVAL);
	assert_int_equal(ss_hkdf_expand(big, 255 * SS_HASH_LEN, prk, NULL, 0), 0);
}

/* ---- RFC 8032 section 7.1, Ed25519 ---- */

struct ed25519_vector {
	const char *name;
	const char *secret, *public, *msg, *sig;
	size_t msglen;
};

static const struct ed25519_vector ed25519_vectors[] = {
	{
		.name = "TEST 1",
		.secret = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		.public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
		.msg = "",
		.msglen = 0,
		.sig = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
		       "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
	},
	{
		.name = "TEST 2",
		.secret = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		.public = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
		.msg = "72",
		.msglen = 1,
		.sig = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
		       "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
	},
	{
		.name = "TEST 3",
		.secret = "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
		.public = "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
		.msg = "af82",
		.msglen = 2,
		.sig = "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
		       "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
	},
	{
		.name = "TEST SHA(abc)",
		.secret = "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
		.public = "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
		/* SHA-512("abc") */
		.msg = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		       "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
		.msglen = 64,
		.sig = "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
		       "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
	},
};

static void rfc8032_ed25519(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ed25519_vectors) / sizeof(ed25519_vectors[0]); i++) {
		const struct ed25519_vector *v = &ed25519_vectors[i];
		/* Bits of R, of S, and the top bit of S (makes S >= L: non-canonical). */
		static const size_t sig_bits[] = {0, 7, 100, 256, 300, 511};
		uint8_t sk[SS_SEED_LEN], pk[SS_IDENTITY_LEN], got_pk[SS_IDENTITY_LEN];
		uint8_t msg[65], sig[SS_SIG_LEN], got_sig[SS_SIG_LEN], bad[SS_SIG_LEN];
		ss_identity *id;

		print_message("%s\n", v->name);
		unhex(v->secret, sk, sizeof(sk));
		unhex(v->public, pk, sizeof(pk));
		unhex(v->msg, msg, v->msglen);
		unhex(v->sig, sig, sizeof(sig));

		assert_int_equal(ss_ed25519_public(got_pk, sk), 0);
		assert_memory_equal(got_pk, pk, sizeof(pk));

		assert_int_equal(ss_identity_from_seed(&id, sk), 0);
		assert_memory_equal(ss_identity_public(id), pk, sizeof(pk));
		assert_int_equal(ss_identity_sign(id, msg, v->msglen, got_sig), 0);
		assert_memory_equal(got_sig, sig, sizeof(sig));
		ss_identity_free(id);

		assert_int_equal(ss_ed25519_verify(pk, msg, v->msglen, sig), 0);
		/* Real keys and signatures pass the small-order checks. */
		assert_int_equal(ss_identity_check_pub(pk), 0);
		assert_int_equal(ss_identity_verify(pk, msg, v->msglen, sig), 0);

		/* A flipped message bit, or one byte more, breaks the signature. */
		if (v->msglen > 0) {
			for (size_t b = 0; b<v->msglen * 8; b += v->msglen> 8 ? 37 : 1) {
				msg[b / 8] ^= (uint8_t)(1u << (b % 8));
				assert_int_equal(ss_ed25519_verify(pk, msg, v->msglen, sig),
						 SS_ERR_SIGNATURE);
				msg[b / 8] ^= (uint8_t)(1u << (b % 8));
			}
		}
		msg[v->msglen] = 0;
		assert_int_equal(ss_ed25519_verify(pk, msg, v->msglen + 1, sig), SS_ERR_SIGNATURE);

		/* A flipped signature bit. */
		for (size_t j = 0; j < sizeof(sig_bits) / sizeof(sig_bits[0]); j++) {
			size_t b = sig_bits[j];

			memcpy(bad, sig, sizeof(bad));
			bad[b / 8] ^= (uint8_t)(1u << (b % 8));
			assert_int_equal(ss_ed25519_verify(pk, msg, v->msglen, bad),
					 SS_ERR_SIGNATURE);
		}

		/* The right signature under another vector's key. */
		unhex(ed25519_vectors[(i + 1) % 4].public, got_pk, sizeof(got_pk));
		assert_int_equal(ss_ed25519_verify(got_pk, msg, v->msglen, sig), SS_ERR_SIGNATURE);
	}
}

/* ---- RFC 7748, X25519 ---- */

static void rfc7748_scalarmult(void **state)
{
	static const struct {
		const char *scalar, *u, *out;
	} v[] = {
		{
			"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
			"e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
			"c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
		},
		{
			/* The input u has its top bit set: it must be masked. */
			"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
			"e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
			"95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
		},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t k[SS_DH_LEN], u[SS_DH_LEN], want[SS_DH_LEN], got[SS_DH_LEN];

		unhex(v[i].scalar, k, sizeof(k));
		unhex(v[i].u, u, sizeof(u));
		unhex(v[i].out, want, sizeof(want));
		assert_int_equal(ss_x25519(got, k, u), 0);
		assert_memory_equal(got, want, sizeof(want));
	}
}

static void rfc7748_iterated(void **state)
{
	uint8_t k[SS_DH_LEN] = {9}, u[SS_DH_LEN] = {9}, r[SS_DH_LEN];
	uint8_t want1[SS_DH_LEN], want1000[SS_DH_LEN];

	(void)state;
	unhex("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079", want1,
	      sizeof(want1));
	unhex("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51", want1000,
	      sizeof(want1000));
	for (int i = 1; i <= 1000; i++) {
		assert_int_equal(ss_x25519(r, k, u), 0);
		memcpy(u, k, sizeof(u));
		memcpy(k, r, sizeof(k));
		if (i == 1)
			assert_memory_equal(k, want1, sizeof(k));
	}
	assert_memory_equal(k, want1000, sizeof(k));
}

static void rfc7748_dh(void **state)
{
	uint8_t a[SS_DH_LEN], b[SS_DH_LEN], pa[SS_DH_LEN], pb[SS_DH_LEN], k[SS_DH_LEN];
	uint8_t got[SS_DH_LEN], base[SS_DH_LEN] = {9};

	(void)state;
	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a, sizeof(a));
	unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", pa, sizeof(pa));
	unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b, sizeof(b));
	unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", pb, sizeof(pb));
	unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", k, sizeof(k));

	assert_int_equal(ss_x25519_public(got, a), 0);
	assert_memory_equal(got, pa, sizeof(pa));
	assert_int_equal(ss_x25519_public(got, b), 0);
	assert_memory_equal(got, pb, sizeof(pb));
	/* The public key is X25519(k, 9). */
	assert_int_equal(ss_x25519(got, a, base), 0);
	assert_memory_equal(got, pa, sizeof(pa));

	assert_int_equal(ss_x25519(got, a, pb), 0);
	assert_memory_equal(got, k, sizeof(k));
	assert_int_equal(ss_x25519(got, b, pa), 0);
	assert_memory_equal(got, k, sizeof(k));
}

static void rfc7748_low_order_rejected(void **state)
{
	/* u-coordinates of small order, and non-canonical encodings of some of them. */
	static const char *const points[] = {
		"0000000000000000000000000000000000000000000000000000000000000000", /* 0 */
		"0100000000000000000000000000000000000000000000000000000000000000", /* 1 */
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", /* order 8 */
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", /* order 8 */
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p - 1 */
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p */
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p + 1 */
		"0000000000000000000000000000000000000000000000000000000000000080", /* 0, bit 255 */
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
	};
	static const uint8_t zero[SS_DH_LEN];
	uint8_t priv[SS_DH_LEN], peer[SS_DH_LEN], out[SS_DH_LEN];

	(void)state;
	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", priv,
	      sizeof(priv));
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		unhex(points[i], peer, sizeof(peer));
		memset(out, 0x55, sizeof(out));
		assert_int_equal(ss_x25519(out, priv, peer), SS_ERR_CRYPTO);
		/* Wiped on failure (issue 13, finding 8): nothing of a result is left. */
		assert_memory_equal(out, zero, sizeof(out));
	}
}

/* ---- AES-256-GCM, GCM specification (McGrew & Viega) test cases 13, 14 and 16 ---- */

struct gcm {
	uint8_t key[SS_KEY_LEN], iv[SS_NONCE_LEN], aad[32], pt[64], want[64 + SS_TAG_LEN];
	size_t aadlen, len;
	ss_aead enc, dec;
};

/* ct (len bytes and a tag) must not open: rejected, and the output wiped. */
static void gcm_open_fails(struct gcm *g, const uint8_t *ct)
{
	uint8_t back[64];

	memset(back, 0xee, sizeof(back));
	assert_int_equal(ss_aead_open(&g->dec, g->iv, g->aad, g->aadlen, ct, g->len, back),
			 SS_ERR_DECRYPT);
	assert_true(all_zero(back, g->len));
}

/* Twice on one context: only the nonce is set per call. */
static void gcm_roundtrip(struct gcm *g)
{
	uint8_t out[64 + SS_TAG_LEN], back[64];

	for (int round = 0; round < 2; round++) {
		memset(out, 0xee, sizeof(out));
		assert_int_equal(
			ss_aead_seal(&g->enc, g->iv, g->aad, g->aadlen, g->pt, g->len, out), 0);
		assert_memory_equal(out, g->want, g->len + SS_TAG_LEN);
		memset(back, 0xee, sizeof(back));
		assert_int_equal(ss_aead_open(&g->dec, g->iv, g->aad, g->aadlen, out, g->len, back),
				 0);
		if (g->len)
			assert_memory_equal(back, g->pt, g->len);
	}
}

/* Flipped tag byte, ciphertext byte, AAD byte, nonce byte; then the context still works. */
static void gcm_tampered(struct gcm *g)
{
	uint8_t buf[64 + SS_TAG_LEN], back[64];
	size_t len = g->len, aadlen = g->aadlen;

	for (size_t i = 0; i < SS_TAG_LEN; i += 5) {
		memcpy(buf, g->want, len + SS_TAG_LEN);
		buf[len + i] ^= 0x01;
		gcm_open_fails(g, buf);
	}
	if (len) {
		memcpy(buf, g->want, len + SS_TAG_LEN);
		buf[len / 2] ^= 0x80;
		gcm_open_fails(g, buf);
	}
	if (aadlen) {
		g->aad[aadlen - 1] ^= 0x01;
		assert_int_equal(ss_aead_open(&g->dec, g->iv, g->aad, aadlen, g->want, len, back),
				 SS_ERR_DECRYPT);
		g->aad[aadlen - 1] ^= 0x01;
		/* Dropping the AAD altogether. */
		assert_int_equal(ss_aead_open(&g->dec, g->iv, NULL, 0, g->want, len, back),
				 SS_ERR_DECRYPT);
	}
	g->iv[0] ^= 0x01;
	assert_int_equal(ss_aead_open(&g->dec, g->iv, g->aad, aadlen, g->want, len, back),
			 SS_ERR_DECRYPT);
	g->iv[0] ^= 0x01;
	assert_int_equal(ss_aead_open(&g->dec, g->iv, g->aad, aadlen, g->want, len, back), 0);
	if (len)
		assert_memory_equal(back, g->pt, len);
}

/* In place (in and out alias), and the one-shot variants agree. */
static void gcm_in_place_and_once(struct gcm *g)
{
	uint8_t out[64 + SS_TAG_LEN], back[64], buf[64 + SS_TAG_LEN];
	size_t len = g->len, aadlen = g->aadlen;

	memcpy(buf, g->pt, len);
	assert_int_equal(ss_aead_seal(&g->enc, g->iv, g->aad, aadlen, buf, len, buf), 0);
	assert_memory_equal(buf, g->want, len + SS_TAG_LEN);
	assert_int_equal(ss_aead_open(&g->dec, g->iv, g->aad, aadlen, buf, len, buf), 0);
	if (len)
		assert_memory_equal(buf, g->pt, len);

	assert_int_equal(ss_aead_seal_once(g->key, g->iv, g->aad, aadlen, g->pt, len, out), 0);
	assert_memory_equal(out, g->want, len + SS_TAG_LEN);
	assert_int_equal(ss_aead_open_once(g->key, g->iv, g->aad, aadlen, out, len, back), 0);
	if (len)
		assert_memory_equal(back, g->pt, len);
	out[len] ^= 0x40;
	memset(back, 0xee, sizeof(back));
	assert_int_equal(ss_aead_open_once(g->key, g->iv, g->aad, aadlen, out, len, back),
			 SS_ERR_DECRYPT);
	assert_true(all_zero(back, len));
}

static void gcm_vector(const char *key_hex, const char *iv_hex, const char *aad_hex, size_t aadlen,
		       const char *pt_hex, size_t len, const char *ct_hex, const char *tag_hex)
{
	struct gcm g = {.aadlen = aadlen, .len = len};

	unhex(key_hex, g.key, sizeof(g.key));
	unhex(iv_hex, g.iv, sizeof(g.iv));
	unhex(aad_hex, g.aad, aadlen);
	unhex(pt_hex, g.pt, len);
	unhex(ct_hex, g.want, len);
	unhex(tag_hex, g.want + len, SS_TAG_LEN);
	assert_int_equal(ss_aead_init(&g.enc), 0);
	assert_int_equal(ss_aead_init(&g.dec), 0);
	assert_int_equal(ss_aead_setkey(&g.enc, g.key, 1), 0);
	assert_int_equal(ss_aead_setkey(&g.dec, g.key, 0), 0);
	gcm_roundtrip(&g);
	gcm_tampered(&g);
	gcm_in_place_and_once(&g);
	ss_aead_free(&g.enc);
	ss_aead_free(&g.dec);
}

static void gcm_aes256_test_case_16(void **state)
{
	(void)state;
	gcm_vector("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
		   "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2", 20,
		   "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
		   "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
		   60,
		   "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
		   "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
		   "76fc6ece0f4e1768cddf8853bb2d551b");
}

static void gcm_aes256_test_cases_13_14(void **state)
{
	static const char zkey[] =
		"0000000000000000000000000000000000000000000000000000000000000000";

	(void)state;
	/* Empty plaintext, no AAD: a bare tag. */
	gcm_vector(zkey, "000000000000000000000000", "", 0, "", 0, "",
		   "530f8afbc74536b9a963b4f1c4cb738b");
	gcm_vector(zkey, "000000000000000000000000", "", 0, "00000000000000000000000000000000", 16,
		   "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc5869_hkdf),
		cmocka_unit_test(rfc5869_hkdf_empty_salt_is_zeros),
		cmocka_unit_test(rfc5869_hkdf_expand_limits),
		cmocka_unit_test(rfc8032_ed25519),
		cmocka_unit_test(rfc7748_scalarmult),
		cmocka_unit_test(rfc7748_iterated),
		cmocka_unit_test(rfc7748_dh),
		cmocka_unit_test(rfc7748_low_order_rejected),
		cmocka_unit_test(gcm_aes256_test_case_16),
		cmocka_unit_test(gcm_aes256_test_cases_13_14),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
