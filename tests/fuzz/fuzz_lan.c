/* SPDX-License-Identifier: MIT */
/*
 * LAN announcements (PROTOCOL.md 16.9) at a node that knows one identity. With bit 0 of
 * the first byte the input is laid over a genuine announcement of that peer (the type,
 * version and length fixed), so the tag and signature checks are reached too.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[SS_LAN_OPEN_LEN + 64];
	ss_lan_info info;
	size_t len = 0;
	int ret;

	fuzz_setup();
	if (size < 1 || size > sizeof(pkt))
		return 0;
	if (data[0] & 1) {
		enum ss_lan_mode mode = (data[0] & 2) ? SS_LAN_OPEN : SS_LAN_PEERS;

		if (ss_lan_build(fz_a.ctx, mode, 51999, pkt, sizeof(pkt), &len))
			abort();
		for (size_t i = 1; i < size && i < len; i++)
			pkt[i] ^= data[i];
		pkt[1] = SS_VERSION;
	} else {
		memcpy(pkt, data, size);
		len = size;
	}
	ret = ss_lan_recognise(fz_b.ctx, pkt, len, &info);
	if (ret && (info.peer || info.port || info.time_ns))
		abort();
	if (!ret && info.mode == SS_LAN_PEERS && info.peer != fz_b.peer)
		abort();
	return 0;
}
