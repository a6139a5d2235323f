/* SPDX-License-Identifier: MIT */
#include "common/crypto.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include <silosec/error.h>

void ss_wipe(void *p, size_t len)
{
	if (p && len)
		OPENSSL_cleanse(p, len);
}

int ss_ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void *ss_secret_alloc(size_t len)
{
	void *p = calloc(1, len);

	if (p)
		(void)mlock(p, len);
	return p;
}

void ss_secret_free(void *p, size_t len)
{
	if (!p)
		return;
	ss_wipe(p, len);
	(void)munlock(p, len);
	free(p);
}

/*
 * SHA-256 fetched once: EVP_sha256() would look the implementation up again at every
 * init (measured: 806 ns against 342 ns per short hash). OpenSSL 3.0 has no
 * allocation-free EVP digest (init and copy both allocate the provider's state), and no
 * caller is on the packet path: handshakes, setup, fingerprints and knock key
 * derivation, each of which allocates for its public-key work anyway.
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int ss_sha256(uint8_t out[SS_HASH_LEN], const void *a, size_t alen, const void *b, size_t blen,
	      const void *c, size_t clen)
{
	EVP_MD_CTX *s;
	int ok;

	if (pthread_once(&sha256_once, sha256_fetch) || !sha256_md)
		return SS_ERR_CRYPTO;
	s = EVP_MD_CTX_new();
	/* Freeing the context cleanses OpenSSL's copy of the state. */
	ok = s && EVP_DigestInit_ex(s, sha256_md, NULL) &&
	     (!alen || EVP_DigestUpdate(s, a, alen)) && (!blen || EVP_DigestUpdate(s, b, blen)) &&
	     (!clen || EVP_DigestUpdate(s, c, clen)) && EVP_DigestFinal_ex(s, out, NULL);
	EVP_MD_CTX_free(s);
	return ok ? 0 : SS_ERR_CRYPTO;
}

int ss_hmac_sha256(uint8_t out[SS_HASH_LEN], const uint8_t *key, size_t keylen, const uint8_t *msg,
		   size_t len)
{
	unsigned int outlen = SS_HASH_LEN;

	if (!HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &outlen) || outlen != SS_HASH_LEN)
		return SS_ERR_CRYPTO;
	return 0;
}

static int hkdf(int mode, uint8_t *out, size_t outlen, const uint8_t *salt, size_t saltlen,
		const uint8_t *key, size_t keylen, const uint8_t *info, size_t infolen)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	int ret = SS_ERR_CRYPTO;

	if (!pctx)
		return SS_ERR_CRYPTO;
	if (EVP_PKEY_derive_init(pctx) <= 0 || EVP_PKEY_CTX_hkdf_mode(pctx, mode) <= 0 ||
	    EVP_PKEY_CTX_set_hkdf_md(pctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set1_hkdf_key(pctx, key, (int)keylen) <= 0)
		goto out;
	/* OpenSSL rejects a zero-length salt; RFC 5869 says it means HashLen zeros. */
	if (mode == EVP_PKEY_HKDEF_MODE_EXTRACT_ONLY && saltlen > 0 &&
	    EVP_PKEY_CTX_set1_hkdf_salt(pctx, salt, (int)saltlen) <= 0)
		goto out;
	if (infolen > 0 && EVP_PKEY_CTX_add1_hkdf_info(pctx, info, (int)infolen) <= 0)
		goto out;
	if (EVP_PKEY_derive(pctx, out, &outlen) <= 0)
		goto out;
	ret = 0;
out:
	EVP_PKEY_CTX_free(pctx);
	return ret;
}

int ss_hkdf_extract(uint8_t prk[SS_HASH_LEN], const uint8_t *salt, size_t saltlen,
		    const uint8_t *ikm, size_t ikmlen)
{
	static const uint8_t zeros[SS_HASH_LEN];

	if (saltlen == 0) {
		salt = zeros;
		saltlen = sizeof(zeros);
	}
	return hkdf(EVP_PKEY_HKDEF_MODE_EXTRACT_ONLY, prk, SS_HASH_LEN, salt, saltlen, ikm, ikmlen,
		    NULL, 0);
}

int ss_hkdf_expand(uint8_t *okm, size_t okmlen, const uint8_t prk[SS_HASH_LEN], const uint8_t *info,
		   size_t infolen)
{
	if (okmlen == 0 || okmlen > 255 * SS_HASH_LEN)
		return SS_ERR_INVAL;
	return hkdf(EVP_PKEY_HKDEF_MODE_EXPAND_ONLY, okm, okmlen, NULL, 0, prk, SS_HASH_LEN, info,
		    infolen);
}

int ss_x25519_keypair(EVP_PKEY **key, uint8_t pub[SS_DH_LEN], const uint8_t priv[SS_DH_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, SS_DH_LEN);
	size_t len = SS_DH_LEN;

	if (!k || EVP_PKEY_get_raw_public_key(k, pub, &len) != 1 || len != SS_DH_LEN) {
		EVP_PKEY_free(k);
		return SS_ERR_CRYPTO;
	}
	*key = k;
	return 0;
}

int ss_x25519_public(uint8_t pub[SS_DH_LEN], const uint8_t priv[SS_DH_LEN])
{
	EVP_PKEY *k;
	int ret = ss_x25519_keypair(&k, pub, priv);

	if (!ret)
		EVP_PKEY_free(k);
	return ret;
}

int ss_x25519_derive(uint8_t shared[SS_DH_LEN], EVP_PKEY *key, const uint8_t peer[SS_DH_LEN])
{
	static const uint8_t zero[SS_DH_LEN];
	EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, SS_DH_LEN);
	EVP_PKEY_CTX *c = NULL;
	size_t len = SS_DH_LEN;
	int ret = SS_ERR_CRYPTO;

	if (!p || !(c = EVP_PKEY_CTX_new(key, NULL)))
		goto out;
	if (EVP_PKEY_derive_init(c) <= 0 || EVP_PKEY_derive_set_peer(c, p) <= 0 ||
	    EVP_PKEY_derive(c, shared, &len) <= 0 || len != SS_DH_LEN)
		goto out;
	/* A low-order point yields zero; RFC 7748 section 6.1 says to abort. */
	if (!ss_ct_equal(shared, zero, SS_DH_LEN))
		ret = 0;
out:
	/* A failed derive may have written part of a secret: the caller gets nothing. */
	if (ret)
		ss_wipe(shared, SS_DH_LEN);
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(p);
	return ret;
}

int ss_x25519(uint8_t shared[SS_DH_LEN], const uint8_t priv[SS_DH_LEN],
	      const uint8_t peer[SS_DH_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, SS_DH_LEN);
	int ret = k ? ss_x25519_derive(shared, k, peer) : SS_ERR_CRYPTO;

	EVP_PKEY_free(k);
	return ret;
}

int ss_ed25519_public(uint8_t pub[SS_IDENTITY_LEN], const uint8_t seed[SS_SEED_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, SS_SEED_LEN);
	size_t len = SS_IDENTITY_LEN;
	int ret = SS_ERR_CRYPTO;

	if (k && EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == SS_IDENTITY_LEN)
		ret = 0;
	EVP_PKEY_free(k);
	return ret;
}

int ss_ed25519_sign(uint8_t sig[SS_SIG_LEN], EVP_PKEY *key, const uint8_t *msg, size_t len)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	size_t siglen = SS_SIG_LEN;
	int ret = SS_ERR_CRYPTO;

	if (m && EVP_DigestSignInit(m, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestSign(m, sig, &siglen, msg, len) == 1 && siglen == SS_SIG_LEN)
		ret = 0;
	EVP_MD_CTX_free(m);
	return ret;
}

int ss_ed25519_verify(const uint8_t pub[SS_IDENTITY_LEN], const uint8_t *msg, size_t len,
		      const uint8_t sig[SS_SIG_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, SS_IDENTITY_LEN);
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int ret = SS_ERR_CRYPTO;

	if (k && m && EVP_DigestVerifyInit(m, NULL, NULL, NULL, k) == 1)
		ret = EVP_DigestVerify(m, sig, SS_SIG_LEN, msg, len) == 1 ? 0 : SS_ERR_SIGNATURE;
	EVP_MD_CTX_free(m);
	EVP_PKEY_free(k);
	return ret;
}

int ss_aead_init(ss_aead *a)
{
	a->c = EVP_CIPHER_CTX_new();
	return a->c ? 0 : SS_ERR_NOMEM;
}

void ss_aead_free(ss_aead *a)
{
	/* EVP_CIPHER_CTX_free cleanses the expanded key schedule. */
	EVP_CIPHER_CTX_free(a->c);
	a->c = NULL;
}

int ss_aead_setkey(ss_aead *a, const uint8_t key[SS_KEY_LEN], int enc)
{
	if (EVP_CipherInit_ex(a->c, EVP_aes_256_gcm(), NULL, key, NULL, enc) != 1)
		return SS_ERR_CRYPTO;
	return 0;
}

int ss_aead_setkeys(ss_aead *tx, ss_aead *rx, const uint8_t k_send[SS_KEY_LEN],
		    const uint8_t k_recv[SS_KEY_LEN])
{
	int ret = ss_aead_setkey(tx, k_send, 1);

	return ret ? ret : ss_aead_setkey(rx, k_recv, 0);
}

int ss_aead_seal(ss_aead *a, const uint8_t nonce[SS_NONCE_LEN], const uint8_t *aad, size_t aadlen,
		 const uint8_t *pt, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c = a->c;
	int n;

	if (len > INT32_MAX || aadlen > INT32_MAX)
		return SS_ERR_INVAL;
	if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, nonce) != 1)
		return SS_ERR_CRYPTO;
	if (aadlen && EVP_EncryptUpdate(c, NULL, &n, aad, (int)aadlen) != 1)
		return SS_ERR_CRYPTO;
	if (len && EVP_EncryptUpdate(c, out, &n, pt, (int)len) != 1)
		return SS_ERR_CRYPTO;
	if (EVP_EncryptFinal_ex(c, out + len, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SS_TAG_LEN, out + len) != 1)
		return SS_ERR_CRYPTO;
	return 0;
}

int ss_aead_open(ss_aead *a, const uint8_t nonce[SS_NONCE_LEN], const uint8_t *aad, size_t aadlen,
		 const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c = a->c;
	uint8_t tag[SS_TAG_LEN];
	int n;

	if (len > INT32_MAX || aadlen > INT32_MAX)
		return SS_ERR_INVAL;
	memcpy(tag, in + len, SS_TAG_LEN); /* in and out may alias */
	if (EVP_DecryptInit_ex(c, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SS_TAG_LEN, tag) != 1)
		return SS_ERR_CRYPTO;
	if (aadlen && EVP_DecryptUpdate(c, NULL, &n, aad, (int)aadlen) != 1)
		return SS_ERR_CRYPTO;
	if (len && EVP_DecryptUpdate(c, out, &n, in, (int)len) != 1)
		return SS_ERR_CRYPTO;
	if (EVP_DecryptFinal_ex(c, out + len, &n) != 1) {
		/* Never hand out unauthenticated plaintext. */
		ss_wipe(out, len);
		return SS_ERR_DECRYPT;
	}
	return 0;
}

static int aead_once(int enc, const uint8_t key[SS_KEY_LEN], const uint8_t nonce[SS_NONCE_LEN],
		     const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len, uint8_t *out)
{
	ss_aead a;
	int ret;

	ret = ss_aead_init(&a);
	if (ret)
		return ret;
	ret = ss_aead_setkey(&a, key, enc);
	if (!ret)
		ret = enc ? ss_aead_seal(&a, nonce, aad, aadlen, in, len, out)
			  : ss_aead_open(&a, nonce, aad, aadlen, in, len, out);
	ss_aead_free(&a);
	return ret;
}

int ss_aead_seal_once(const uint8_t key[SS_KEY_LEN], const uint8_t nonce[SS_NONCE_LEN],
		      const uint8_t *aad, size_t aadlen, const uint8_t *pt, size_t len,
		      uint8_t *out)
{
	return aead_once(1, key, nonce, aad, aadlen, pt, len, out);
}

int ss_aead_open_once(const uint8_t key[SS_KEY_LEN], const uint8_t nonce[SS_NONCE_LEN],
		      const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len,
		      uint8_t *out)
{
	return aead_once(0, key, nonce, aad, aadlen, in, len, out);
}
