/* SPDX-License-Identifier: MIT */
/*
 * Reachability control plaintexts (PROTOCOL.md 16.2). The raw input is decoded as is;
 * then it is laid into a 212-byte plaintext with a valid subtype and candidate count,
 * so the field rules behind the length check are explored too. Whatever the decoder
 * accepts must encode back to the same bytes, and a candidate set fed from it stays
 * bounded.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static void check(const uint8_t *pt, size_t len, ss_cands *cands)
{
	uint8_t again[SS_REACH_LEN];
	ss_reach_msg m;

	if (ss_reach_decode(pt, len, &m))
		return;
	if (len != SS_REACH_LEN || m.n_cand > SS_REACH_MAX_CAND || ss_reach_encode(&m, again) ||
	    memcmp(again, pt, SS_REACH_LEN))
		abort();
	for (uint8_t i = 0; i < m.n_cand; i++) {
		ss_flow f = {.remote_port = m.cand[i].port, .local_port = 51999, .proto = 17};

		memcpy(f.remote_addr, m.cand[i].addr, 16);
		(void)ss_cands_add(cands, &f, SS_CAND_INTRODUCER);
	}
	if (ss_cands_count(cands) > SS_CAND_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ss_cands *cands;
	uint8_t pt[SS_REACH_LEN] = {0};

	fuzz_setup();
	if (!cands && ss_cands_create(fz_a.ctx, &cands))
		abort();
	check(data, size, cands);
	if (size < 4)
		return 0;
	memcpy(pt, data, size < sizeof(pt) ? size : sizeof(pt));
	pt[0] = (uint8_t)(SS_CTL_REGISTER + data[0] % (SS_CTL_RELAY_CLOSE - SS_CTL_REGISTER + 1));
	pt[2] = (uint8_t)(data[2] % (SS_REACH_MAX_CAND + 1));
	pt[3] = 0;
	check(pt, sizeof(pt), cands);
	return 0;
}
