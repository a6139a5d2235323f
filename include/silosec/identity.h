/* SPDX-License-Identifier: MIT */
#ifndef SILOSEC_IDENTITY_H
#define SILOSEC_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include <silosec/wire.h>

#define SS_WARN_UNUSED __attribute__((warn_unused_result))

/* base64 of 32 bytes, with padding, plus NUL. */
#define SS_B64_KEY_LEN 45
/* Fingerprint: 24 base32 characters in six groups of four, plus NUL. */
#define SS_FINGERPRINT_LEN 30

/* An Ed25519 key pair. Opaque; the private half lives in locked memory. */
typedef struct ss_identity ss_identity;

/* Caller-supplied randomness: fill buf with len unpredictable bytes; return 0 or <0. */
typedef int (*ss_random_fn)(void *arg, uint8_t *buf, size_t len);

int ss_identity_generate(ss_identity **out, ss_random_fn rnd, void *rnd_arg) SS_WARN_UNUSED;
int ss_identity_from_seed(ss_identity **out, const uint8_t seed[SS_SEED_LEN]) SS_WARN_UNUSED;
void ss_identity_free(ss_identity *id);

const uint8_t *ss_identity_public(const ss_identity *id);
/* The 32-byte private seed; for saving the key file only. */
void ss_identity_seed(const ss_identity *id, uint8_t seed[SS_SEED_LEN]);

/*
 * A public identity is refused (SS_ERR_BAD_KEY) if its encoding is not canonical or it
 * is a point of small order (order 1, 2, 4 or 8, either sign bit): under such a key a
 * signature can be forged for any message. Every place that accepts an identity from
 * a file, the command line or the wire calls this.
 */
int ss_identity_check_pub(const uint8_t pub[SS_IDENTITY_LEN]) SS_WARN_UNUSED;

/*
 * Sign msg; verify a signature by a public identity. Verification refuses a key that
 * ss_identity_check_pub refuses (SS_ERR_BAD_KEY) and a signature whose R has small
 * order (SS_ERR_SIGNATURE) before it asks OpenSSL.
 */
int ss_identity_sign(const ss_identity *id, const uint8_t *msg, size_t len,
		     uint8_t sig[SS_SIG_LEN]) SS_WARN_UNUSED;
int ss_identity_verify(const uint8_t pub[SS_IDENTITY_LEN], const uint8_t *msg, size_t len,
		       const uint8_t sig[SS_SIG_LEN]) SS_WARN_UNUSED;

/* base64 (standard alphabet, padded) of a 32-byte key; decode rejects anything else. */
void ss_key_to_base64(const uint8_t key[32], char out[SS_B64_KEY_LEN]);
int ss_key_from_base64(const char *in, uint8_t key[32]) SS_WARN_UNUSED;

/* Short string to compare out of band: "abcd-efgh-ijkl-mnop-qrst-uvwx". */
void ss_fingerprint(const uint8_t pub[SS_IDENTITY_LEN], char out[SS_FINGERPRINT_LEN]);

/*
 * Key files hold the base64 seed and a newline. Saving creates the file 0600 and fails if
 * it exists. Loading refuses a file readable or writable by group or others
 * (SS_ERR_PERM) and anything but one base64 key (SS_ERR_FORMAT).
 */
int ss_keyfile_save(const char *path, const ss_identity *id) SS_WARN_UNUSED;
int ss_keyfile_save_fd(int fd, const ss_identity *id) SS_WARN_UNUSED;
int ss_keyfile_load(const char *path, ss_identity **out) SS_WARN_UNUSED;
int ss_keyfile_load_fd(int fd, ss_identity **out) SS_WARN_UNUSED;

/* Defaults for programs (not used by the core itself): OS randomness and clocks. */
int ss_random_system(void *arg, uint8_t *buf, size_t len);

#endif
