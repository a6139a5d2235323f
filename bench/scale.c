/* SPDX-License-Identifier: MIT */
/*
 * bench_scale: what a configured peer costs silosecd as the peer count grows.
 *
 * For 10, 1,000 and 10,000 configured peers (one /32 AllowedIPs each, one of them a real
 * initiator with an established session): malloc'd bytes per idle peer and for one
 * session, and per-operation times, median of rounds, for an AllowedIPs lookup, a peer
 * lookup by identity, a received data packet (index lookup, open, replay check),
 * answering a handshake INIT, and one timer pass over every peer. Run it with
 * bench/scale (writes bench/results/scale.txt) or directly: bench_scale [N...].
 * It reports; tests/unit/test_scale.c asserts the ratios.
 */
#include <stdio.h>
#include <stdlib.h>

#include "scale_impl.h"

int main(int argc, char **argv)
{
	static const uint32_t def[] = {10, 1000, 10000};
	uint32_t sizes[8], prev_n = 0;
	size_t prev_bytes = 0;
	int nsizes = 0;
	sc_world w;

	for (int i = 1; i < argc && nsizes < 8; i++)
		sizes[nsizes++] = (uint32_t)strtoul(argv[i], NULL, 10);
	if (!nsizes)
		for (; nsizes < 3; nsizes++)
			sizes[nsizes] = def[nsizes];
	printf("# bench_scale: sizeof core peer %zu B, tunnel peer %zu B, session %zu B "
	       "(x%d per peer), handshake %zu B\n",
	       sizeof(ss_peer), sizeof(ss_dpeer), sizeof(ss_session), SS_SESSION_SLOTS,
	       sizeof(ss_handshake));
	printf("# memory: malloc in-use bytes (mallinfo2): per idle peer with the context and its "
	       "tables (sized for peers + 1024) included, marginal = per peer added since the "
	       "previous row; per session: the responder's growth in its first handshake\n"
	       "# times: ns per operation, median of %d rounds: AllowedIPs lookup, peer lookup by "
	       "identity, a 64-byte data packet received (index lookup, open, replay check), "
	       "answering an INIT, one timer pass over all peers (us) as run_timers does it\n",
	       SC_ROUNDS);
	/* OpenSSL sets itself up lazily on the first handshake: not a session's cost. */
	if (sc_build(&w, 2, 1)) {
		fprintf(stderr, "bench_scale: warm-up failed\n");
		return 1;
	}
	sc_free(&w);
	printf("%8s %11s %11s %10s %8s %8s %8s %12s %13s\n", "peers", "B/idle peer", "(marginal)",
	       "B/session", "aips ns", "find ns", "data ns", "handshake ns", "timer pass us");
	for (int i = 0; i < nsizes; i++) {
		if (sc_build(&w, sizes[i], 42)) {
			fprintf(stderr, "bench_scale: setting up %u peers failed\n", sizes[i]);
			return 1;
		}
		printf("%8u %11.0f %11.0f %10zu %8.1f %8.1f %8.0f %12.0f %13.1f\n", w.n,
		       (double)w.idle_bytes / w.n,
		       w.n > prev_n ? ((double)w.idle_bytes - (double)prev_bytes) / (w.n - prev_n)
				    : 0.0,
		       w.session_bytes, sc_time_aips(&w, 200000), sc_time_find(&w, 200000),
		       sc_time_data(&w, 20000), sc_time_handshake(&w, 20),
		       sc_time_timer_pass(&w) / 1000.0);
		fflush(stdout);
		prev_n = w.n;
		prev_bytes = w.idle_bytes;
		sc_free(&w);
	}
	return 0;
}
