/* SPDX-License-Identifier: MIT */
/*
 * Data and control packets. Raw inputs exercise the header checks; with bit 0 of the
 * first byte the rest is sealed by the real sender as a control plaintext, so the
 * echo parser behind the AEAD is reached too; bit 2 makes it a relayed datagram.
 */
#include <string.h>

#include "common/endian.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[SS_MAX_PACKET];
	ss_session *s;
	size_t len;

	fuzz_setup();
	if (size < 1 || size > SS_MAX_PLAINTEXT)
		return 0;
	s = fz_a.peer->current;
	if ((data[0] & 1) && s && s->valid) {
		uint8_t type = (data[0] & 2) ? SS_MSG_CONTROL : SS_MSG_DATA;

		if (data[0] & 4) /* a relayed datagram (PROTOCOL.md 16.8) */
			type = SS_MSG_RELAY;

		if (ss_session_seal(fz_a.ctx, fz_a.peer, s, type, data + 1, size - 1, pkt,
				    sizeof(pkt), &len))
			return 0;
		(void)fuzz_consume(&fz_b, pkt, len);
		return 0;
	}
	memcpy(pkt, data, size);
	if (size >= SS_DATA_HDR_LEN && fz_b.peer->current) {
		pkt[0] = (data[0] & 4)	 ? SS_MSG_RELAY
			 : (data[0] & 2) ? SS_MSG_CONTROL
					 : SS_MSG_DATA;
		pkt[1] = SS_VERSION;
		ss_store_be32(pkt + SS_DATA_OFF_RECEIVER, fz_b.peer->current->local_index);
	}
	(void)fuzz_consume(&fz_b, pkt, size);
	return 0;
}
