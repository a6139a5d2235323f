/* SPDX-License-Identifier: MIT */
/* Handshake initiation parser. Bit 0 of the first byte asks for a valid mac1. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pkt = fuzz_packet(data, size, SS_MSG_INIT);

	if (!pkt)
		return 0;
	if ((data[0] & 1) && size == SS_INIT_LEN)
		fuzz_fix_mac1(pkt, SS_INIT_OFF_MAC1,
			      (data[0] & 2) ? fz_b.ctx->mac1_key_anon : fz_b.ctx->mac1_key_self);
	(void)fuzz_consume(&fz_b, pkt, size);
	return 0;
}
