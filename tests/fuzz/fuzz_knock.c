/* SPDX-License-Identifier: MIT */
/*
 * The knock parser: ss_knock_open on arbitrary datagrams. The first input byte picks a
 * mode: raw (the fuzzer must get past the outer MAC by itself) or MAC repaired, so the
 * fuzzer reaches decryption, or XORed over a valid knock, or (mode 3) taken as the
 * inner plaintext and sealed exactly as PROTOCOL.md 14 says, so the inner parser and
 * the signature check see arbitrary bytes.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/hmac.h>

#include <silosec/error.h>
#include "knock/knock.h"

#include "common/crypto.h"

static ss_identity *server, *client;
static ss_knock_server *srv;
static uint8_t mac_key[SS_HASH_LEN];
static uint8_t valid[SS_KNOCK_MAX_LEN];
static size_t valid_len;

static int det_rng(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	return 0;
}

/* Seal arbitrary inner bytes to the server (docs/PROTOCOL.md 14.3), no signature fix-up. */
static size_t seal_inner(uint8_t *pkt, const uint8_t *in, size_t ilen)
{
	static const char lsalt[] = "silosec knock v1 salt", lkey[] = "silosec knock v1 key";
	uint8_t r[32], xs[32], shared[32], salt[32], prk[32], key[32], nonce[12] = {0};

	memset(r, 7, sizeof(r));
	pkt[0] = SS_MSG_KNOCK;
	pkt[1] = SS_VERSION;
	pkt[2] = pkt[3] = 0;
	if (ss_x25519_public(pkt + 4, r) ||
	    ss_knock_ed25519_pk_to_x25519(xs, ss_identity_public(server)) ||
	    ss_x25519(shared, r, xs) ||
	    ss_sha256(salt, lsalt, strlen(lsalt), ss_identity_public(server), 32, pkt + 4, 32) ||
	    ss_hkdf_extract(prk, salt, 32, shared, 32) ||
	    ss_hkdf_expand(key, 32, prk, (const uint8_t *)lkey, strlen(lkey)) ||
	    ss_aead_seal_once(key, nonce, pkt, 36, in, ilen, pkt + 36))
		abort();
	return 36 + ilen + SS_TAG_LEN + SS_MAC_LEN;
}

static void setup(void)
{
	uint8_t seed[SS_SEED_LEN];
	static const uint8_t src[4] = {192, 0, 2, 1};
	ss_knock_req req = {.action = "ssh",
			    .payload = (const uint8_t *)"pl",
			    .payload_len = 2,
			    .src_family = AF_INET,
			    .src_addr = src};

	memset(seed, 1, sizeof(seed));
	if (ss_identity_from_seed(&server, seed))
		abort();
	memset(seed, 2, sizeof(seed));
	if (ss_identity_from_seed(&client, seed) || ss_knock_server_new(&srv, server) ||
	    ss_knock_mac_key(mac_key, ss_identity_public(server)) ||
	    ss_knock_seal(valid, sizeof(valid), &valid_len, client, ss_identity_public(server),
			  &req, det_rng, NULL))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pkt[2048];
	ss_knock_msg m;
	int mode, ret;

	if (!srv)
		setup();
	if (size < 1 || size - 1 > sizeof(pkt))
		return 0;
	mode = data[0] % 4;
	size--;
	memcpy(pkt, data + 1, size);
	if (mode == 3) {
		uint8_t in[SS_KNOCK_INNER_MAX];

		if (size > sizeof(in))
			return 0;
		memcpy(in, pkt, size);
		size = seal_inner(pkt, in, size);
	}
	if (mode == 2 && size <= valid_len) {
		/* XOR the input over a valid knock: mutations of a real packet. */
		uint8_t tmp[SS_KNOCK_MAX_LEN];

		memcpy(tmp, valid, valid_len);
		for (size_t i = 0; i < size; i++)
			tmp[i] ^= pkt[i];
		memcpy(pkt, tmp, valid_len);
		size = valid_len;
	}
	if (mode != 0 && size >= SS_MAC_LEN) {
		uint8_t mac[SS_HASH_LEN];
		unsigned int ml = sizeof(mac);

		if (HMAC(EVP_sha256(), mac_key, sizeof(mac_key), pkt, size - SS_MAC_LEN, mac, &ml))
			memcpy(pkt + size - SS_MAC_LEN, mac, SS_MAC_LEN);
	}
	ret = ss_knock_open(srv, pkt, size, &m);
	/* Contract: 0 or a knock drop code, and a parsed message only on success. */
	if (ret != 0 && (ret > SS_KNOCK_DROP_FIRST || ret < SS_KNOCK_DROP_LAST))
		abort();
	if (ret == 0 && (m.action[0] == '\0' || m.payload_len > SS_KNOCK_MAX_PAYLOAD ||
			 strlen(m.action) > SS_KNOCK_MAX_ACTION))
		abort();
	if (ret != 0 && (m.payload_len != 0 || m.action[0] != '\0'))
		abort();
	if (ret == 0) {
		/* An opened knock's source is canonical, and any sender compares cleanly. */
		size_t used = m.src_family == SS_KNOCK_SRC_IPV4	  ? 4
			      : m.src_family == SS_KNOCK_SRC_IPV6 ? 16
								  : 0;
		int r4, r6;

		if (m.src_family != SS_KNOCK_SRC_ANY && !used)
			abort();
		for (size_t i = used; i < SS_KNOCK_SRC_ADDR_LEN; i++)
			if (m.src_addr[i])
				abort();
		r4 = ss_knock_check_source(&m, AF_INET, m.challenge, false);
		r6 = ss_knock_check_source(&m, AF_INET6, m.src_addr, data[0] & 4);
		if ((r4 && r4 != SS_ERR_KNOCK_SOURCE) || (r6 && r6 != SS_ERR_KNOCK_SOURCE))
			abort();
		/* The signed address always matches itself. */
		if (used &&
		    ss_knock_check_source(&m, used == 4 ? AF_INET : AF_INET6, m.src_addr, false))
			abort();
	}
	return 0;
}
