/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "crypto.h"
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
	id = calloc(1, sizeof(*id));
	if (!id)
		return SS_ERR_NOMEM;
	/* Best effort: keep the long-term seed out of swap; failure (RLIMIT_MEMLOCK) is not fatal.
	 */
	(void)mlock(id, sizeof(*id));
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
	ss_wipe(id, sizeof(*id));
	(void)munlock(id, sizeof(*id));
	free(id);
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

int ss_identity_verify(const uint8_t pub[SS_IDENTITY_LEN], const uint8_t *msg, size_t len,
		       const uint8_t sig[SS_SIG_LEN])
{
	return ss_ed25519_verify(pub, msg, len, sig);
}
