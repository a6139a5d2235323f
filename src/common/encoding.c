/* SPDX-License-Identifier: MIT */
/* base64 for keys and the base32 fingerprint. */
#include <string.h>

#include <openssl/evp.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "common/crypto.h"

void ss_key_to_base64(const uint8_t key[32], char out[SS_B64_KEY_LEN])
{
	EVP_EncodeBlock((unsigned char *)out, key, 32);
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int ss_key_from_base64(const char *in, uint8_t key[32])
{
	uint8_t buf[33];
	int ret = SS_ERR_FORMAT;

	if (!in || strlen(in) != SS_B64_KEY_LEN - 1 || in[43] != '=')
		return SS_ERR_FORMAT;
	for (int i = 0; i < 43; i++)
		if (b64_value(in[i]) < 0)
			return SS_ERR_FORMAT;
	/*
	 * The last character carries 4 bits of key and 2 padding bits; non-zero padding
	 * bits would give two spellings of one key.
	 */
	if (b64_value(in[42]) & 3)
		return SS_ERR_FORMAT;
	if (EVP_DecodeBlock(buf, (const unsigned char *)in, 44) == 33) {
		memcpy(key, buf, 32);
		ret = 0;
	}
	ss_wipe(buf, sizeof(buf));
	return ret;
}

void ss_fingerprint(const uint8_t pub[SS_IDENTITY_LEN], char out[SS_FINGERPRINT_LEN])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	static const char label[] = SS_LABEL_FINGERPRINT;
	uint8_t h[SS_HASH_LEN];
	size_t o = 0;

	if (ss_sha256(h, label, sizeof(label) - 1, pub, SS_IDENTITY_LEN, NULL, 0)) {
		memset(out, 0, SS_FINGERPRINT_LEN);
		return;
	}
	/* 15 bytes = 120 bits = 24 base32 digits, grouped by four for reading aloud. */
	for (int i = 0; i < 24; i++) {
		int bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned v = (unsigned)h[byte] << 8 | (byte + 1 < 15 ? h[byte + 1] : 0);

		if (i && i % 4 == 0)
			out[o++] = '-';
		out[o++] = alphabet[(v >> (11 - shift)) & 31];
	}
	out[o] = '\0';
}
