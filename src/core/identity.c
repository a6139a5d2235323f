/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "common/crypto.h"
#include "internal.h"

struct ss_identity {
	uint8_t seed[SS_SEED_LEN];
	uint8_t pub[SS_IDENTITY_LEN];
	EVP_PKEY *pkey;
};

int ss_identity_from_seed(ss_identity **out, const uint8_t seed[SS_SEED_LEN])
{
	ss_identity *id;
	int ret;

	if (!out || !seed)
		return SS_ERR_INVAL;
	id = ss_secret_alloc(sizeof(*id));
	if (!id)
		return SS_ERR_NOMEM;
	memcpy(id->seed, seed, SS_SEED_LEN);
	ret = ss_ed25519_public(id->pub, seed);
	if (ret)
		goto fail;
	id->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, SS_SEED_LEN);
	if (!id->pkey) {
		ret = SS_ERR_CRYPTO;
		goto fail;
	}
	*out = id;
	return 0;
fail:
	ss_identity_free(id);
	return ret;
}

int ss_identity_generate(ss_identity **out, ss_random_fn rnd, void *rnd_arg)
{
	uint8_t seed[SS_SEED_LEN];
	int ret;

	if (!rnd)
		return SS_ERR_INVAL;
	ret = rnd(rnd_arg, seed, sizeof(seed));
	if (ret == 0)
		ret = ss_identity_from_seed(out, seed);
	else
		ret = SS_ERR_CRYPTO;
	ss_wipe(seed, sizeof(seed));
	return ret;
}

void ss_identity_free(ss_identity *id)
{
	if (!id)
		return;
	EVP_PKEY_free(id->pkey);
	ss_secret_free(id, sizeof(*id));
}

const uint8_t *ss_identity_public(const ss_identity *id)
{
	return id->pub;
}

void ss_identity_seed(const ss_identity *id, uint8_t seed[SS_SEED_LEN])
{
	memcpy(seed, id->seed, SS_SEED_LEN);
}

int ss_identity_sign(const ss_identity *id, const uint8_t *msg, size_t len, uint8_t sig[SS_SIG_LEN])
{
	return ss_ed25519_sign(sig, id->pkey, msg, len);
}

/*
 * y >= 2^255 - 256 (sign bit cleared): bytes 1..30 are 0xff, byte 31 is 0x7f. The
 * encodings near p = 2^255 - 19 are told apart by byte 0 alone.
 */
static bool near_p(const uint8_t p[32])
{
	if ((p[31] & 0x7f) != 0x7f)
		return false;
	for (int i = 1; i < 31; i++)
		if (p[i] != 0xff)
			return false;
	return true;
}

/*
 * The points of order 1, 2, 4 and 8, by the y coordinate of their encoding (sign bit
 * cleared), as libsodium's ge25519_has_small_order lists them: y = 0 (order 4), 1 (the
 * identity), the two y of the four points of order 8, and (near_p, byte 0 0xec..0xee)
 * p - 1 (order 2), and p and p + 1, the non-canonical encodings of 0 and 1 (no other
 * torsion y is below 19, so no other has one). Each was checked to satisfy 8P = identity.
 */
static const uint8_t small_order[][32] = {
	{0x00},
	{0x01},
	{0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
	 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
	 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
	{0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
	 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
	 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
};

/*
 * Whatever the sign bit: it only picks x or -x, both of small order, and a decoder that
 * accepts x = 0 with the bit set (OpenSSL does) reads "-0" as the same point. Public
 * inputs only, so no constant time.
 */
static bool has_small_order(const uint8_t p[32])
{
	for (size_t i = 0; i < sizeof(small_order) / sizeof(small_order[0]); i++)
		if (!memcmp(p, small_order[i], 31) && (p[31] & 0x7f) == small_order[i][31])
			return true;
	return near_p(p) && p[0] >= 0xec && p[0] <= 0xee;
}

/* y < p = 2^255 - 19: y >= p would be a second encoding of y - p < 19. */
static bool is_canonical(const uint8_t p[32])
{
	return !near_p(p) || p[0] < 0xed;
}

int ss_identity_check_pub(const uint8_t pub[SS_IDENTITY_LEN])
{
	if (!pub)
		return SS_ERR_INVAL;
	return is_canonical(pub) && !has_small_order(pub) ? 0 : SS_ERR_BAD_KEY;
}

int ss_identity_verify(const uint8_t pub[SS_IDENTITY_LEN], const uint8_t *msg, size_t len,
		       const uint8_t sig[SS_SIG_LEN])
{
	int ret = ss_identity_check_pub(pub);

	/*
	 * Before OpenSSL, which accepts "universal" signatures (R of small order, S = 0)
	 * under a small-order key: R = identity verifies every message under the identity
	 * point. Anyone could sign as such a key.
	 */
	if (ret)
		return ret;
	/*
	 * An honest R = rB, with r = H(prefix || msg) mod L, has small order only if r = 0
	 * (probability 2^-252): a small-order R appears only in crafted signatures, such as
	 * the universal ones above. libsodium refuses it too; it costs seven comparisons.
	 */
	if (has_small_order(sig))
		return SS_ERR_SIGNATURE;
	return ss_ed25519_verify(pub, msg, len, sig);
}
