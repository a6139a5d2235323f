/* SPDX-License-Identifier: MIT */
/* Handshake response parser, aimed at A's pending INIT. */
#include "common/endian.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pkt = fuzz_packet(data, size, SS_MSG_RESPONSE);

	if (!pkt)
		return 0;
	if ((data[0] & 1) && size == SS_RESP_LEN && fz_a.peer->hs.active) {
		ss_store_be32(pkt + SS_RESP_OFF_RECEIVER, fz_a.peer->hs.index);
		fuzz_fix_mac1(pkt, SS_RESP_OFF_MAC1, fz_a.ctx->mac1_key_self);
	}
	(void)fuzz_consume(&fz_a, pkt, size);
	return 0;
}
