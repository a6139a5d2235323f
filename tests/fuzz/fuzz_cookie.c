/* SPDX-License-Identifier: MIT */
/* Cookie reply parser, aimed at A's pending INIT. */
#include "common/endian.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pkt = fuzz_packet(data, size, SS_MSG_COOKIE);

	if (!pkt)
		return 0;
	if ((data[0] & 1) && size == SS_COOKIE_MSG_LEN && fz_a.peer->hs.active)
		ss_store_be32(pkt + SS_COOKIE_OFF_RECEIVER, fz_a.peer->hs.index);
	(void)fuzz_consume(&fz_a, pkt, size);
	return 0;
}
