/* SPDX-License-Identifier: MIT */
/* Handshake initiation parser. Bit 0 of the first byte asks for a valid mac1. */
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[SS_MAX_PACKET];

	fuzz_setup();
	if (size < 1 || size > sizeof(pkt))
		return 0;
	memcpy(pkt, data, size);
	if (size >= 2) {
		pkt[0] = SS_MSG_INIT;
		pkt[1] = SS_VERSION;
	}
	if ((data[0] & 1) && size == SS_INIT_LEN)
		fuzz_fix_mac1(pkt, SS_INIT_OFF_MAC1,
			      (data[0] & 2) ? fz_b.ctx->mac1_key_anon : fz_b.ctx->mac1_key_self);
	(void)fuzz_consume(&fz_b, pkt, size);
	return 0;
}
