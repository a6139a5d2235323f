/* SPDX-License-Identifier: MIT */
/* Connection tracker: replies pass, strangers do not, budgets and timeouts hold. */
#include <stdlib.h>
#include <string.h>

#include <silosec/core.h>
#include <silosec/error.h>

#include "conntrack.h"
#include "helpers.h"
#include "pkt_build.h"

#define SEC 1000000000ull
#define US "10.0.0.1"	/* this host */
#define THEM "10.0.0.2" /* the peer */

static ss_pkt_info info(const uint8_t *b, size_t n)
{
	ss_pkt_info pi;

	assert_int_equal(ss_pkt_parse(b, n, &pi), 0);
	return pi;
}

/* The packet of n bytes at b at now: tracked as sent by o, or (reply) checked as a reply. */
static int ct_check(ss_ct *ct, ss_ct_owner *o, const uint8_t *b, size_t n, bool reply, uint64_t now)
{
	ss_pkt_info pi = info(b, n);

	return reply ? ss_ct_reply(ct, &pi, o, now) : ss_ct_track(ct, &pi, o, now);
}

static int track_at(ss_ct *ct, ss_ct_owner *o, const uint8_t *b, size_t n)
{
	return ct_check(ct, o, b, n, false, SEC);
}

static bool reply_at(ss_ct *ct, ss_ct_owner *o, const uint8_t *b, size_t n)
{
	return ct_check(ct, o, b, n, true, SEC);
}

/* A UDP/TCP packet from us to the peer (out) or back (in). */
static int out(ss_ct *ct, ss_ct_owner *o, uint8_t proto, uint16_t sp, uint16_t dp, uint8_t fl,
	       uint64_t now)
{
	uint8_t b[64];

	return ct_check(ct, o, b, pkt4(b, US, THEM, proto, sp, dp, fl), false, now);
}

static bool in(ss_ct *ct, ss_ct_owner *o, uint8_t proto, uint16_t sp, uint16_t dp, uint8_t fl,
	       uint64_t now)
{
	uint8_t b[64];

	return ct_check(ct, o, b, pkt4(b, THEM, US, proto, sp, dp, fl), true, now);
}

struct ct_args {
	uint32_t size;
	uint64_t seed;
};

/* cmocka fixture: *state comes in as the test's ct_args and leaves as its table. */
static int ct_setup(void **state)
{
	const struct ct_args *args = *state;
	ss_ct *ct;

	assert_int_equal(ss_ct_create(&ct, args->size, args->seed), 0);
	*state = ct;
	return 0;
}

static int ct_teardown(void **state)
{
	ss_ct_free(*state);
	return 0;
}

#define ct_test(fn, args)                                                                          \
	cmocka_unit_test_prestate_setup_teardown(fn, ct_setup, ct_teardown, (void *)(args))

static void replies_pass(void **state)
{
	ss_ct_owner o = {.budget = 100}, other = {.budget = 100};
	uint64_t now = 10 * SEC;
	ss_ct *ct = *state;

	assert_false(in(ct, &o, 6, 80, 40000, 0x12, now));
	assert_int_equal(out(ct, &o, 6, 40000, 80, 0x02, now), 0);
	assert_int_equal(o.entries, 1);
	assert_true(in(ct, &o, 6, 80, 40000, 0x12, now));
	/* Not the reverse tuple, not this peer, not another protocol. */
	assert_false(in(ct, &o, 6, 80, 40001, 0x10, now));
	assert_false(in(ct, &o, 6, 81, 40000, 0x10, now));
	assert_false(in(ct, &o, 17, 80, 40000, 0, now));
	assert_false(in(ct, &other, 6, 80, 40000, 0x10, now));
	/* Tracking the same flow again (every TSO segment, retransmissions) adds nothing. */
	assert_int_equal(out(ct, &o, 6, 40000, 80, 0x10, now), 0);
	assert_int_equal(o.entries, 1);
	assert_int_equal(ss_ct_count(ct), 1);
	/* UDP. */
	assert_int_equal(out(ct, &o, 17, 5000, 53, 0, now), 0);
	assert_true(in(ct, &o, 17, 53, 5000, 0, now));
	ss_ct_forget(ct, &o);
	assert_int_equal(o.entries, 0);
	assert_int_equal(ss_ct_count(ct), 0);
	assert_false(in(ct, &o, 6, 80, 40000, 0x10, now));
}

static void icmp(void **state)
{
	ss_ct_owner o = {.budget = 10};
	uint8_t b[128];
	ss_pkt_info pi;
	ss_ct *ct = *state;
	size_t n;

	n = icmp4(b, US, THEM, 8, 77);
	assert_int_equal(track_at(ct, &o, b, n), 0);
	n = icmp4(b, THEM, US, 0, 77);
	assert_true(reply_at(ct, &o, b, n));
	n = icmp4(b, THEM, US, 0, 78);
	assert_false(reply_at(ct, &o, b, n));
	/* An echo request from the peer is no reply. */
	n = icmp4(b, THEM, US, 8, 77);
	assert_false(reply_at(ct, &o, b, n));
	/* An ICMP error quoting a UDP packet we sent passes; one quoting another does not. */
	assert_int_equal(out(ct, &o, 17, 6000, 9999, 0, SEC), 0);
	icmp4(b, THEM, US, 3, 0);
	pkt4(b + 28, US, THEM, 17, 6000, 9999, 0);
	b[3] = 68;
	pi = info(b, 68);
	assert_non_null(pi.inner);
	assert_true(ss_ct_reply(ct, &pi, &o, SEC));
	pkt4(b + 28, US, THEM, 17, 6000, 9998, 0);
	assert_false(reply_at(ct, &o, b, 68));
	/* The quoted packet must be one we sent (its source is us). */
	pkt4(b + 28, "10.9.9.9", THEM, 17, 6000, 9999, 0);
	assert_false(reply_at(ct, &o, b, 68));
}

static void timeouts(void **state)
{
	ss_ct_owner o = {.budget = 10};
	ss_ct *ct = *state;
	uint64_t t = 100 * SEC;

	assert_int_equal(out(ct, &o, 17, 1, 2, 0, t), 0);
	assert_true(in(ct, &o, 17, 2, 1, 0, t + (SS_CT_UDP - 1) * SEC));
	/* The reply refreshed it. */
	assert_true(in(ct, &o, 17, 2, 1, 0, t + (2 * SS_CT_UDP - 2) * SEC));
	assert_false(in(ct, &o, 17, 2, 1, 0, t + (3 * SS_CT_UDP) * SEC));
	assert_int_equal(ss_ct_expire(ct, t + 3 * SS_CT_UDP * SEC), 1);
	assert_int_equal(o.entries, 0);
	/* TCP: short before the answer, long once established, short after FIN/RST. */
	assert_int_equal(out(ct, &o, 6, 1000, 22, 0x02, t), 0);
	assert_false(in(ct, &o, 6, 22, 1000, 0x12, t + SS_CT_TCP_SYN * SEC));
	assert_int_equal(out(ct, &o, 6, 1000, 22, 0x02, t), 0);
	assert_true(in(ct, &o, 6, 22, 1000, 0x12, t + 1 * SEC));
	assert_true(in(ct, &o, 6, 22, 1000, 0x10, t + 1000 * SEC));
	assert_true(in(ct, &o, 6, 22, 1000, 0x11, t + 1001 * SEC)); /* FIN */
	assert_true(in(ct, &o, 6, 22, 1000, 0x10, t + 1005 * SEC));
	assert_false(in(ct, &o, 6, 22, 1000, 0x10, t + (1005 + SS_CT_TCP_CLOSING) * SEC));
}

static void budgets(void **state)
{
	ss_ct_owner a = {.budget = 8}, b = {.budget = 8};
	uint64_t now = SEC;
	ss_ct *ct = *state;

	for (uint16_t i = 0; i < 8; i++)
		assert_int_equal(out(ct, &a, 17, 1000 + i, 53, 0, now), 0);
	/* a's budget is used up: a's new flows are refused, b's are not. */
	assert_int_equal(out(ct, &a, 17, 2000, 53, 0, now), SS_ERR_CT_FULL);
	assert_int_equal(a.entries, 8);
	assert_int_equal(out(ct, &b, 17, 3000, 53, 0, now), 0);
	assert_true(in(ct, &b, 17, 53, 3000, 0, now));
	/* A flow moving to a full owner (AllowedIPs moved) does not exceed its budget. */
	assert_int_equal(out(ct, &a, 17, 3000, 53, 0, now), SS_ERR_CT_FULL);
	assert_int_equal(a.entries, 8);
	assert_int_equal(b.entries, 1);
	/* The table itself is bounded too (16 entries). */
	b.budget = 100;
	for (uint16_t i = 1; i < 8; i++)
		assert_int_equal(out(ct, &b, 17, 3000 + i, 53, 0, now), 0);
	assert_int_equal(ss_ct_count(ct), 16);
	assert_int_equal(out(ct, &b, 17, 4000, 53, 0, now), SS_ERR_CT_FULL);
	/* Expiry gives the room back. */
	assert_int_equal(ss_ct_expire(ct, now + (SS_CT_UDP + 1) * SEC), 16);
	assert_int_equal(a.entries, 0);
	assert_int_equal(out(ct, &a, 17, 2000, 53, 0, now + 100 * SEC), 0);
}

static void untrackable(void **state)
{
	ss_ct_owner o = {.budget = 8};
	uint8_t b[64];
	ss_ct *ct = *state;

	pkt4(b, US, THEM, 17, 1, 2, 0);
	b[7] = 0x10; /* later fragment */
	assert_int_equal(track_at(ct, &o, b, 40), SS_ERR_INVAL);
	icmp4(b, US, THEM, 0, 5); /* an echo reply we send creates nothing */
	assert_int_equal(track_at(ct, &o, b, 40), SS_ERR_INVAL);
	/* IPv6 works the same way. */
	pkt6(b, "fd00::1", "fd00::2", 6, 1234, 443);
	assert_int_equal(track_at(ct, &o, b, 60), 0);
	pkt6(b, "fd00::2", "fd00::1", 6, 443, 1234);
	assert_true(reply_at(ct, &o, b, 60));
	assert_int_equal(o.entries, 1);
}

int main(void)
{
	/* Each test's table size and hash seed: the fixture creates its table. */
	static const struct ct_args replies = {64, 42}, icmps = {16, 1}, timers = {16, 2},
				    budget = {16, 3}, untracked = {16, 4};
	const struct CMUnitTest tests[] = {
		ct_test(replies_pass, &replies),  ct_test(icmp, &icmps),
		ct_test(timeouts, &timers),	  ct_test(budgets, &budget),
		ct_test(untrackable, &untracked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
