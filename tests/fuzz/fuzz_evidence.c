/* SPDX-License-Identifier: MIT */
/*
 * Knock evidence as the privileged knock parent receives it from the sandboxed parser
 * child, which may be compromised: arbitrary ephemeral key, length and inner box. The
 * parser and the signature check must stay in bounds whatever the length claims, and
 * nothing random may ever verify (that would be a forged client signature).
 *
 * The client key is inside the box: this harness once found within minutes that
 * OpenSSL's Ed25519 verification accepts a universal signature (R = identity, S = 0)
 * under a small-order public key. ss_identity_verify now refuses small-order and
 * non-canonical keys and small-order R before OpenSSL (PROTOCOL.md section 12), so the
 * assertion holds again.
 */
#include <string.h>

#include <silosec/error.h>

#include "evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t server[SS_IDENTITY_LEN] = {
		0x3d, 0x40, 0x17, 0xc3, 0xe8, 0x43, 0x89, 0x5a, 0x92, 0xb7, 0x0a,
		0xa7, 0x4d, 0x1b, 0x7e, 0xbc, 0x9c, 0x98, 0x2c, 0xcf, 0x2e, 0xc4,
		0x96, 0x8c, 0xc0, 0xcd, 0x55, 0xf1, 0x2a, 0xf4, 0x66, 0x0c,
	};
	ss_knock_evidence ev;
	ss_knock_msg msg;
	size_t n;

	memset(&ev, 0, sizeof(ev));
	if (size < 2 + SS_DH_LEN)
		return 0;
	/* The claimed length comes from the input too, and may lie. */
	ev.ilen = (uint16_t)(data[0] | data[1] << 8);
	memcpy(ev.eph, data + 2, SS_DH_LEN);
	n = size - 2 - SS_DH_LEN;
	memcpy(ev.inner, data + 2 + SS_DH_LEN, n < sizeof(ev.inner) ? n : sizeof(ev.inner));
	if (ss_knock_verify_evidence(server, &ev, &msg) == 0)
		__builtin_trap();
	return 0;
}
