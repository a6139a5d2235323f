/* SPDX-License-Identifier: MIT */
/*
 * Reachability control plaintexts (PROTOCOL.md 16.2). Any input the decoder accepts must
 * encode back to the same bytes, and feeding it to a candidate set must stay bounded.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ss_cands *cands;
	uint8_t again[SS_REACH_LEN];
	ss_reach_msg m;

	fuzz_setup();
	if (!cands && ss_cands_create(fz_a.ctx, &cands))
		abort();
	if (ss_reach_decode(data, size, &m))
		return 0;
	if (size != SS_REACH_LEN || m.n_cand > SS_REACH_MAX_CAND || ss_reach_encode(&m, again) ||
	    memcmp(again, data, SS_REACH_LEN))
		abort();
	for (uint8_t i = 0; i < m.n_cand; i++) {
		ss_flow f = {.remote_port = m.cand[i].port, .local_port = 51999, .proto = 17};

		memcpy(f.remote_addr, m.cand[i].addr, 16);
		(void)ss_cands_add(cands, &f, SS_CAND_INTRODUCER);
	}
	if (ss_cands_count(cands) > SS_CAND_MAX)
		abort();
	return 0;
}
