/* SPDX-License-Identifier: MIT */
/*
 * What must happen before the filter: OpenSSL reads its configuration and loads its
 * providers the first time an algorithm is fetched (files, and on some systems
 * dlopen with PROT_EXEC mappings). That is forced here so that, later, only
 * already-loaded code runs. (No resolver: no profile looks names up once filtered.)
 */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <silosec/error.h>

#include "sandbox.h"

static const char *const ciphers[] = {"AES-256-GCM", NULL};
static const char *const digests[] = {"SHA256", "SHA512", NULL};
static const char *const keys[] = {"X25519", "ED25519", NULL};
static const char *const kdfs[] = {"HKDF", NULL};
static const char *const macs[] = {"HMAC", NULL};

static int fetch_all(void)
{
	int ok = 1;

	for (const char *const *n = ciphers; *n; n++) {
		EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, *n, NULL);

		ok &= c != NULL;
		EVP_CIPHER_free(c);
	}
	for (const char *const *n = digests; *n; n++) {
		EVP_MD *m = EVP_MD_fetch(NULL, *n, NULL);

		ok &= m != NULL;
		EVP_MD_free(m);
	}
	for (const char *const *n = keys; *n; n++) {
		EVP_PKEY_CTX *k = EVP_PKEY_CTX_new_from_name(NULL, *n, NULL);

		ok &= k != NULL;
		EVP_PKEY_CTX_free(k);
	}
	for (const char *const *n = kdfs; *n; n++) {
		EVP_KDF *k = EVP_KDF_fetch(NULL, *n, NULL);

		ok &= k != NULL;
		EVP_KDF_free(k);
	}
	for (const char *const *n = macs; *n; n++) {
		EVP_MAC *m = EVP_MAC_fetch(NULL, *n, NULL);

		ok &= m != NULL;
		EVP_MAC_free(m);
	}
	return ok ? 0 : -1;
}

int ss_sandbox_prepare(enum ss_sandbox_profile profile)
{
	uint8_t b[16];

	/*
	 * OpenSSL keeps private keys (the identity's EVP_PKEY copy, ephemerals) in its secure
	 * heap when there is one: locked, guard-paged and left out of core dumps. Must come
	 * before the key is loaded. Failure (no mlock) leaves the ordinary heap.
	 */
	if (!CRYPTO_secure_malloc_initialized())
		(void)CRYPTO_secure_malloc_init(SS_SANDBOX_SECURE_HEAP, 16);
	if (!OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_ADD_ALL_CIPHERS |
					 OPENSSL_INIT_ADD_ALL_DIGESTS,
				 NULL))
		return SS_ERR_SANDBOX;
	/* The DRBG opens its entropy source (getrandom) on first use. */
	if (fetch_all() < 0 || RAND_bytes(b, sizeof(b)) != 1 || RAND_priv_bytes(b, sizeof(b)) != 1)
		return SS_ERR_SANDBOX;
	OPENSSL_cleanse(b, sizeof(b));
	/* No resolver to warm: silosecd looks names up before its filter, never after. */
	(void)profile;
	return 0;
}
