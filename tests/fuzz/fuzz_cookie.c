/* SPDX-License-Identifier: MIT */
/* Cookie reply parser, aimed at A's pending INIT. */
#include <string.h>

#include "common/endian.h"
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
		pkt[0] = SS_MSG_COOKIE;
		pkt[1] = SS_VERSION;
	}
	if ((data[0] & 1) && size == SS_COOKIE_MSG_LEN && fz_a.peer->hs.active)
		ss_store_be32(pkt + SS_COOKIE_OFF_RECEIVER, fz_a.peer->hs.index);
	(void)fuzz_consume(&fz_a, pkt, size);
	return 0;
}
