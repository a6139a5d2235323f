/* SPDX-License-Identifier: MIT */
/*
 * 10,000 configured peers: memory per idle peer within 2 KiB, and lookups (AllowedIPs,
 * identity), a received data packet and answering a handshake cost about what they cost
 * with 10 or 1,000 peers. Times are compared as ratios of medians of rounds, each the
 * cheapest over a few attempts (the machine is shared); never against absolute numbers.
 */
#include "helpers.h"

#include "../../bench/scale_impl.h"

#define BIG 10000
#define MAX_RATIO 3.0
#define ATTEMPTS 5

typedef struct costs {
	double aips, find, data, hs;
} costs;

static void measure(sc_world *w, costs *c)
{
	c->aips = sc_time_aips(w, 100000);
	c->find = sc_time_find(w, 100000);
	c->data = sc_time_data(w, 5000);
	c->hs = sc_time_handshake(w, 5);
	assert_true(c->aips > 0 && c->find > 0 && c->data > 0 && c->hs > 0);
}

static double worst(const costs *big, const costs *small, bool with_find)
{
	double r = big->aips / small->aips;

	if (big->data / small->data > r)
		r = big->data / small->data;
	if (big->hs / small->hs > r)
		r = big->hs / small->hs;
	if (with_find && big->find / small->find > r)
		r = big->find / small->find;
	return r;
}

static void idle_memory(void **state)
{
	sc_world w, k;

	(void)state;
	assert_int_equal(sc_build(&k, 1000, 1), 0);
	assert_int_equal(sc_build(&w, BIG, 2), 0);
	if (!w.idle_bytes) {
		/* A sanitizer's allocator keeps no malloc statistics: nothing to measure. */
		sc_free(&k);
		sc_free(&w);
		skip();
	}
	print_message("# %u peers: %.0f B per idle peer (%.0f B marginal), %zu B per session\n",
		      w.n, (double)w.idle_bytes / w.n,
		      (double)(w.idle_bytes - k.idle_bytes) / (w.n - k.n), w.session_bytes);
	/* Everything, the context's tables included, and each further peer. */
	assert_true(w.idle_bytes <= (size_t)w.n * 2048);
	assert_true(w.idle_bytes - k.idle_bytes <= (size_t)(w.n - k.n) * 2048);
	/* Session state is there once a handshake happened, not before. */
	assert_true(w.session_bytes > 0);
	sc_free(&k);
	sc_free(&w);
}

/*
 * A peer's reachability state (reach.h) is made on first use and given back by the timer
 * pass once nothing needs it: an idle peer pays only for the pointer.
 */
static void reach_state_released(void **state)
{
	const uint64_t t = 100 * SS_NS_PER_SEC;
	sc_world w;
	ss_dpeer *idle, *live;

	(void)state;
	assert_int_equal(sc_build(&w, 10, 6), 0);
	idle = w.dp[1];
	live = w.dp[w.n / 2]; /* has a session */
	assert_null(idle->reach.x);
	assert_int_equal(ss_reach_get(idle)->punch_started_ns, 0);
	/* A punch attempt paces the next one for SS_PUNCH_PAIR_INTERVAL: kept until then. */
	assert_non_null(ss_reach_ext(idle));
	idle->reach.x->punch_started_ns = t;
	ss_reach_trim(idle, t + SS_PUNCH_PAIR_INTERVAL - 1);
	assert_non_null(idle->reach.x);
	ss_reach_trim(idle, t + SS_PUNCH_PAIR_INTERVAL);
	assert_null(idle->reach.x);
	/* So does a negative answer to our QUERY, and a query under way. */
	ss_reach_ext(idle)->q_negative_until = t + SS_QUERY_NEGATIVE;
	ss_reach_trim(idle, t + 1);
	assert_non_null(idle->reach.x);
	idle->reach.x->q_negative_until = 0;
	idle->reach.x->q_tries = 1;
	ss_reach_trim(idle, t);
	assert_non_null(idle->reach.x);
	idle->reach.x->q_tries = 0;
	/* An introducer of ours keeps its registration. */
	idle->reach.introducer = true;
	ss_reach_trim(idle, t);
	assert_non_null(idle->reach.x);
	idle->reach.introducer = false;
	ss_reach_trim(idle, t);
	assert_null(idle->reach.x);
	/* A session keeps its path. */
	assert_true(ss_peer_has_session(live->sp));
	assert_non_null(ss_reach_ext(live));
	ss_reach_trim(live, t);
	assert_non_null(live->reach.x);
	ss_reach_release(live);
	assert_null(live->reach.x);
	sc_free(&w);
}

/* Keep the cheapest cost seen per operation: a load spike on this shared machine only
 * ever adds time, so the minimum over attempts is the closest to the real cost, and a
 * spike during one size's rounds no longer inflates that attempt's ratios. */
static void keep_min(costs *best, const costs *c)
{
	best->aips = c->aips < best->aips ? c->aips : best->aips;
	best->find = c->find < best->find ? c->find : best->find;
	best->data = c->data < best->data ? c->data : best->data;
	best->hs = c->hs < best->hs ? c->hs : best->hs;
}

static void flat_lookups(void **state)
{
	sc_world big, mid, small;
	costs b = {1e18, 1e18, 1e18, 1e18}, m = b, s = b, c;
	double r_small = 1e9, r_mid = 1e9;

	(void)state;
	assert_int_equal(sc_build(&small, 10, 3), 0);
	assert_int_equal(sc_build(&mid, 1000, 4), 0);
	assert_int_equal(sc_build(&big, BIG, 5), 0);
	for (int i = 0; i < ATTEMPTS && (r_small > MAX_RATIO || r_mid > MAX_RATIO); i++) {
		measure(&small, &c);
		keep_min(&s, &c);
		measure(&mid, &c);
		keep_min(&m, &c);
		measure(&big, &c);
		keep_min(&b, &c);
		/* From 10 peers every peer sits in the L1 cache; the identity lookup then
		 * pays cache misses at 10,000 that are no algorithmic growth, so it is held
		 * to the 1,000-peer cost instead. */
		r_small = worst(&b, &s, false);
		r_mid = worst(&b, &m, true);
		print_message("# ns at 10/1000/10000 peers: aips %.1f/%.1f/%.1f, identity "
			      "%.1f/%.1f/%.1f, data %.0f/%.0f/%.0f, handshake %.0f/%.0f/%.0f\n",
			      s.aips, m.aips, b.aips, s.find, m.find, b.find, s.data, m.data,
			      b.data, s.hs, m.hs, b.hs);
	}
	print_message("# worst ratio 10000/10 %.2f, 10000/1000 %.2f (limit %.1f)\n", r_small, r_mid,
		      MAX_RATIO);
	assert_true(r_small <= MAX_RATIO);
	assert_true(r_mid <= MAX_RATIO);
	sc_free(&small);
	sc_free(&mid);
	sc_free(&big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(idle_memory),
		cmocka_unit_test(reach_state_released),
		cmocka_unit_test(flat_lookups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
