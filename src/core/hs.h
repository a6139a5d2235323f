/* SPDX-License-Identifier: MIT */
/*
 * The core's declared internal API for the layers built on its handshake (src/stream):
 * the signed messages, the key schedule and mac1, exactly as the tunnel handshake uses
 * them, so a stream handshake and a tunnel handshake cannot drift apart. Nothing else of
 * the core is visible outside src/core (tests/check_layers.py). Not part of the public,
 * installed API: the wire format may change these with the protocol version.
 */
#ifndef SS_CORE_HS_H
#define SS_CORE_HS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <silosec/identity.h>
#include <silosec/wire.h>

typedef struct ss_hs_keys {
	uint8_t i2r[SS_KEY_LEN];
	uint8_t r2i[SS_KEY_LEN];
	uint8_t confirm[SS_KEY_LEN];
} ss_hs_keys;

/* LABEL_SIG_INIT || R* || init[0..80) into buf (143 bytes); returns its length. */
size_t ss_hs_init_sig_msg(uint8_t *buf, const uint8_t *responder, const uint8_t *init);
/* LABEL_SIG_RESP || H(init[0..144)) || resp[0..76) into buf (137 bytes). */
int ss_hs_resp_sig_msg(uint8_t *buf, size_t *len, const uint8_t *init, const uint8_t *resp);
/* The 4-byte prefix of a message: type, version, two reserved zero bytes. */
void ss_hs_put_prefix(uint8_t *p, uint8_t type);
/*
 * The responder's half once resp[0..SS_RESP_OFF_SIG) is written: signs it as id, derives
 * the keys from eph and the initiator's ephemeral, and writes the confirm tag. A
 * low-order initiator ephemeral is SS_ERR_MALFORMED. resp's mac1 is the caller's.
 */
int ss_hs_resp_seal(const ss_identity *id, EVP_PKEY *eph, const uint8_t *init, uint8_t *resp,
		    ss_hs_keys *k) SS_WARN_UNUSED;
/* ss_identity_verify, with a small-order identity reported as SS_ERR_SIGNATURE. */
int ss_hs_verify(const uint8_t *pub, const uint8_t *msg, size_t len,
		 const uint8_t *sig) SS_WARN_UNUSED;
/* HKDF-SHA256 from dh, salted with H(LABEL_TRANSCRIPT || init[0..144) || resp[0..140)). */
int ss_hs_derive_keys(ss_hs_keys *k, const uint8_t dh[SS_DH_LEN], const uint8_t *init,
		      const uint8_t *resp) SS_WARN_UNUSED;

/* The mac1 key for messages to the holder of identity id. */
int ss_mac1_key(uint8_t out[SS_HASH_LEN], const uint8_t id[SS_IDENTITY_LEN]) SS_WARN_UNUSED;
/* Mac over msg[0..len) truncated to SS_MAC_LEN. */
int ss_mac16(uint8_t out[SS_MAC_LEN], const uint8_t *key, size_t keylen, const uint8_t *msg,
	     size_t len) SS_WARN_UNUSED;

#endif
