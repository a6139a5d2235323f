/* SPDX-License-Identifier: MIT */
/*
 * Thin wrappers over OpenSSL libcrypto 3: every primitive SiloSec uses, and nothing
 * written by hand. All return 0 or a negative ss_err.
 */
#ifndef SS_CRYPTO_H
#define SS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <silosec/identity.h>
#include <silosec/wire.h>

#include "common/wipe.h"

/* SHA-256 over up to three pieces (any may be NULL/0). */
int ss_sha256(uint8_t out[SS_HASH_LEN], const void *a, size_t alen, const void *b, size_t blen,
	      const void *c, size_t clen) SS_WARN_UNUSED;
int ss_hmac_sha256(uint8_t out[SS_HASH_LEN], const uint8_t *key, size_t keylen, const uint8_t *msg,
		   size_t len) SS_WARN_UNUSED;

/* RFC 5869. */
int ss_hkdf_extract(uint8_t prk[SS_HASH_LEN], const uint8_t *salt, size_t saltlen,
		    const uint8_t *ikm, size_t ikmlen) SS_WARN_UNUSED;
int ss_hkdf_expand(uint8_t *okm, size_t okmlen, const uint8_t prk[SS_HASH_LEN], const uint8_t *info,
		   size_t infolen) SS_WARN_UNUSED;

/* RFC 7748. */
int ss_x25519_public(uint8_t pub[SS_DH_LEN], const uint8_t priv[SS_DH_LEN]) SS_WARN_UNUSED;
/*
 * An ephemeral kept as an EVP_PKEY from key generation to derivation: importing the raw
 * private key again would make OpenSSL recompute the public key (half a DH's cost).
 */
int ss_x25519_keypair(EVP_PKEY **key, uint8_t pub[SS_DH_LEN],
		      const uint8_t priv[SS_DH_LEN]) SS_WARN_UNUSED;
int ss_x25519_derive(uint8_t shared[SS_DH_LEN], EVP_PKEY *key,
		     const uint8_t peer[SS_DH_LEN]) SS_WARN_UNUSED;
/* Fails (SS_ERR_CRYPTO) on an all-zero result (low-order peer point). */
int ss_x25519(uint8_t shared[SS_DH_LEN], const uint8_t priv[SS_DH_LEN],
	      const uint8_t peer[SS_DH_LEN]) SS_WARN_UNUSED;

/* RFC 8032 Ed25519 on raw keys. */
int ss_ed25519_public(uint8_t pub[SS_IDENTITY_LEN], const uint8_t seed[SS_SEED_LEN]) SS_WARN_UNUSED;
int ss_ed25519_sign(uint8_t sig[SS_SIG_LEN], EVP_PKEY *key, const uint8_t *msg,
		    size_t len) SS_WARN_UNUSED;
int ss_ed25519_verify(const uint8_t pub[SS_IDENTITY_LEN], const uint8_t *msg, size_t len,
		      const uint8_t sig[SS_SIG_LEN]) SS_WARN_UNUSED;

/*
 * AES-256-GCM with the key schedule done once (ss_aead_setkey) and only the nonce
 * set per packet: no allocation or key expansion on the packet path.
 */
typedef struct ss_aead {
	EVP_CIPHER_CTX *c;
} ss_aead;

int ss_aead_init(ss_aead *a) SS_WARN_UNUSED;
void ss_aead_free(ss_aead *a);
/* A context either seals (enc = 1) or opens (enc = 0) under one key. */
int ss_aead_setkey(ss_aead *a, const uint8_t key[SS_KEY_LEN], int enc) SS_WARN_UNUSED;
/* The two directions of a session: tx seals under k_send, rx opens under k_recv. */
int ss_aead_setkeys(ss_aead *tx, ss_aead *rx, const uint8_t k_send[SS_KEY_LEN],
		    const uint8_t k_recv[SS_KEY_LEN]) SS_WARN_UNUSED;
/* out receives len bytes of ciphertext followed by the 16-byte tag. */
int ss_aead_seal(ss_aead *a, const uint8_t nonce[SS_NONCE_LEN], const uint8_t *aad, size_t aadlen,
		 const uint8_t *pt, size_t len, uint8_t *out) SS_WARN_UNUSED;
/* in is len bytes of ciphertext followed by the tag; out receives len bytes. */
int ss_aead_open(ss_aead *a, const uint8_t nonce[SS_NONCE_LEN], const uint8_t *aad, size_t aadlen,
		 const uint8_t *in, size_t len, uint8_t *out) SS_WARN_UNUSED;

/* One-shot AES-256-GCM for handshake-time use (allocates inside OpenSSL). */
int ss_aead_seal_once(const uint8_t key[SS_KEY_LEN], const uint8_t nonce[SS_NONCE_LEN],
		      const uint8_t *aad, size_t aadlen, const uint8_t *pt, size_t len,
		      uint8_t *out) SS_WARN_UNUSED;
int ss_aead_open_once(const uint8_t key[SS_KEY_LEN], const uint8_t nonce[SS_NONCE_LEN],
		      const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len,
		      uint8_t *out) SS_WARN_UNUSED;

#endif
