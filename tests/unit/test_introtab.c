/* SPDX-License-Identifier: MIT */
/*
 * An introducer's table and rates without a daemon (introtab.h; PROTOCOL.md 16.4, 16.10):
 * registrations expire, introductions need both peers allowed and a live registration,
 * one per (requester, target) per SS_PUNCH_PAIR_INTERVAL, SS_PUNCH_PER_REQUESTER a second
 * per requester and SS_PUNCH_TOTAL in all; ANSWER and PUNCH carry what 16.4 says and
 * pass the core's layout checks; the nearer side waits half the RTT difference.
 */
#include <string.h>

#include "helpers.h"
#include "introtab.h"

#define S SS_NS_PER_SEC

static ss_endpoint ep(uint8_t last, uint16_t port)
{
	ss_endpoint e = {.port = port};

	e.addr[10] = e.addr[11] = 0xff;
	e.addr[12] = 198;
	e.addr[13] = 51;
	e.addr[14] = 100;
	e.addr[15] = last;
	return e;
}

static void reg_of(ss_intro_reg *r, uint8_t last, uint16_t rtt, uint8_t flags, uint64_t now)
{
	ss_reach_msg m = {.type = SS_CTL_REGISTER, .txid = 7, .rtt_ms = rtt, .flags = flags};
	ss_endpoint seen = ep(last, 40000);

	m.n_cand = 1;
	m.cand[0] = ep(last, 51820);
	assert_int_equal(ss_intro_register(r, &m, &seen, now), 0);
}

static void registration_expires(void **state)
{
	ss_intro_reg r;
	ss_reach_msg bad = {.type = SS_CTL_QUERY};
	ss_endpoint e = ep(1, 1);

	(void)state;
	assert_int_equal(ss_intro_register(&r, &bad, &e, 0), SS_ERR_INVAL);
	reg_of(&r, 10, 20, 0, 100 * S);
	assert_true(ss_intro_reg_live(&r, 100 * S + SS_REGISTRATION_LIFETIME - 1));
	assert_false(ss_intro_reg_live(&r, 100 * S + SS_REGISTRATION_LIFETIME));
	assert_false(ss_intro_reg_live(NULL, 0));
}

static void decide_needs_both_allowed_and_registered(void **state)
{
	uint8_t t[SS_IDENTITY_LEN] = {1};
	ss_intro_rate rq = {0};
	ss_intro_reg treg = {0};
	uint64_t g = 0, now = 1000 * S;

	(void)state;
	assert_int_equal(ss_intro_decide(true, true, &treg, &rq, &g, t, now), SS_ERR_REACH_DENIED);
	reg_of(&treg, 20, 10, 0, now);
	assert_int_equal(ss_intro_decide(false, true, &treg, &rq, &g, t, now), SS_ERR_REACH_DENIED);
	assert_int_equal(ss_intro_decide(true, false, &treg, &rq, &g, t, now), SS_ERR_REACH_DENIED);
	assert_int_equal(ss_intro_decide(true, true, NULL, &rq, &g, t, now), SS_ERR_REACH_DENIED);
	/* Refusals charge nothing. */
	assert_int_equal(rq.tat_ns, 0);
	assert_int_equal(g, 0);
	assert_int_equal(ss_intro_decide(true, true, &treg, &rq, &g, t, now), 0);
	/* Expired registration. */
	assert_int_equal(ss_intro_decide(true, true, &treg, &rq, &g, (uint8_t[32]){2},
					 now + SS_REGISTRATION_LIFETIME),
			 SS_ERR_REACH_DENIED);
}

static void pair_interval(void **state)
{
	uint8_t t[SS_IDENTITY_LEN] = {1};
	ss_intro_rate rq = {0};
	ss_intro_reg treg;
	uint64_t g = 0, now = 1000 * S;

	(void)state;
	reg_of(&treg, 20, 10, 0, now);
	assert_int_equal(ss_intro_decide(true, true, &treg, &rq, &g, t, now), 0);
	assert_int_equal(ss_intro_decide(true, true, &treg, &rq, &g, t, now + S),
			 SS_ERR_REACH_RATE);
	assert_int_equal(
		ss_intro_decide(true, true, &treg, &rq, &g, t, now + SS_PUNCH_PAIR_INTERVAL), 0);
}

static void per_requester_and_total_rates(void **state)
{
	uint8_t t[SS_IDENTITY_LEN] = {0};
	ss_intro_rate rq = {0}, other[20];
	ss_intro_reg treg;
	uint64_t g = 0, now = 1000 * S;
	int ok = 0;

	(void)state;
	reg_of(&treg, 20, 10, 0, now);
	/* Distinct targets: only the bucket limits. A second's burst, then refused. */
	for (int i = 0; i < 30; i++) {
		t[0] = (uint8_t)(i + 1);
		ok += ss_intro_decide(true, true, &treg, &rq, &g, t, now) == 0;
	}
	assert_int_equal(ok, SS_PUNCH_PER_REQUESTER);
	/* The requester bucket refills at its rate. */
	t[0] = 200;
	assert_int_equal(ss_intro_decide(true, true, &treg, &rq, &g, t, now + S / 10), 0);
	/* In all: SS_PUNCH_TOTAL a second over every requester. */
	memset(other, 0, sizeof(other));
	g = 0;
	ok = 0;
	for (int r = 0; r < 20; r++)
		for (int i = 0; i < SS_PUNCH_PER_REQUESTER; i++) {
			t[0] = (uint8_t)i;
			t[1] = (uint8_t)r;
			ok += ss_intro_decide(true, true, &treg, &other[r], &g, t, now) == 0;
		}
	assert_int_equal(ok, SS_PUNCH_TOTAL);
}

static void build_answer_and_punch(void **state)
{
	uint8_t r_id[SS_IDENTITY_LEN], t_id[SS_IDENTITY_LEN], pt[SS_REACH_LEN];
	ss_reach_msg q = {.type = SS_CTL_QUERY, .txid = 99, .rtt_ms = 10}, a, p, back;
	ss_intro_reg rreg, treg;
	ss_endpoint r_seen = ep(10, 40000);

	(void)state;
	memset(r_id, 0xaa, sizeof(r_id));
	memset(t_id, 0xbb, sizeof(t_id));
	memcpy(q.subject, t_id, SS_IDENTITY_LEN);
	reg_of(&rreg, 10, 10, SS_REACH_F_HARD_NAT, 0);
	reg_of(&treg, 20, 50, SS_REACH_F_RELAY_OK, 0);
	ss_intro_build(&q, &r_seen, &rreg, &treg, r_id, 5, &a, &p);
	assert_int_equal(a.type, SS_CTL_ANSWER);
	assert_int_equal(a.txid, 99);
	assert_memory_equal(a.subject, t_id, SS_IDENTITY_LEN);
	assert_memory_equal(&a.observed, &r_seen, sizeof(r_seen));
	assert_int_equal(a.n_cand, 2);
	assert_memory_equal(&a.cand[0], &treg.reflexive, sizeof(ss_endpoint));
	assert_int_equal(a.flags, SS_REACH_F_RELAY_OK);
	/* R is nearer (10 ms against 50 ms): R waits half the difference. */
	assert_int_equal(a.delay_ms, 20);
	assert_int_equal(p.delay_ms, 0);
	assert_int_equal(p.type, SS_CTL_PUNCH);
	assert_int_equal(p.txid, 5);
	assert_memory_equal(p.subject, r_id, SS_IDENTITY_LEN);
	assert_memory_equal(&p.cand[0], &r_seen, sizeof(r_seen));
	assert_int_equal(p.flags, SS_REACH_F_HARD_NAT);
	/* Both pass the core's layout rules. */
	assert_int_equal(ss_reach_encode(&a, pt), 0);
	assert_int_equal(ss_reach_decode(pt, sizeof(pt), &back), 0);
	assert_int_equal(ss_reach_encode(&p, pt), 0);
	assert_int_equal(ss_reach_decode(pt, sizeof(pt), &back), 0);
	/* PRIVATE: no candidates to R; R's own still go to T. No registration of R: its
	 * reflexive endpoint alone. */
	treg.flags = SS_REACH_F_PRIVATE;
	ss_intro_build(&q, &r_seen, NULL, &treg, r_id, 5, &a, &p);
	assert_int_equal(a.n_cand, 0);
	assert_int_equal(a.flags, SS_REACH_F_PRIVATE);
	assert_int_equal(p.n_cand, 1);
	assert_int_equal(ss_reach_encode(&a, pt), 0);
}

static void delay_capped(void **state)
{
	(void)state;
	assert_int_equal(ss_intro_delay(10, 10), 0);
	assert_int_equal(ss_intro_delay(50, 10), 0);
	assert_int_equal(ss_intro_delay(10, 60000), SS_PUNCH_MAX_DELAY_MS);
}

/*
 * HARD_NAT (16.4 item 2): one address seen with two ports by two introducers; one
 * report, equal ports, or different addresses (another route or family) are not enough.
 */
static void hard_nat_from_two_reports(void **state)
{
	ss_endpoint seen[3] = {ep(10, 40000), ep(10, 40000), ep(20, 41000)};

	(void)state;
	assert_false(ss_intro_hard_nat(seen, 0));
	assert_false(ss_intro_hard_nat(seen, 1));
	/* Endpoint-independent mapping: every introducer sees the same port. */
	assert_false(ss_intro_hard_nat(seen, 2));
	/* Another public address (a second uplink): no conclusion. */
	assert_false(ss_intro_hard_nat(seen, 3));
	/* masquerade random: a second destination, a second port. */
	seen[1].port = 40001;
	assert_true(ss_intro_hard_nat(seen, 2));
	assert_true(ss_intro_hard_nat(seen, 3));
	/* Any pair will do, not only neighbours. */
	seen[1] = ep(30, 40000);
	seen[2] = ep(10, 5);
	assert_true(ss_intro_hard_nat(seen, 3));
}

/* Relay at once only when both sides map per destination and a relay can carry them. */
static void both_hard_goes_to_the_relay(void **state)
{
	const uint8_t h = SS_REACH_F_HARD_NAT, ok = SS_REACH_F_RELAY_OK;
	const unsigned relay_now = SS_PUNCH_F_RELAY_OK | SS_PUNCH_F_BOTH_HARD;

	(void)state;
	assert_int_equal(ss_intro_punch_flags(h | ok, true, true), relay_now);
	/* PRIVATE changes nothing here: it only withholds candidates. */
	assert_int_equal(ss_intro_punch_flags(h | ok | SS_REACH_F_PRIVATE, true, true), relay_now);
	assert_int_equal(ss_intro_punch_flags(h | ok, false, true), 0); /* we map as one */
	assert_int_equal(ss_intro_punch_flags(ok, true, true), 0);	/* the peer does */
	assert_int_equal(ss_intro_punch_flags(h, true, true), 0);	/* no relayed path there */
	assert_int_equal(ss_intro_punch_flags(h | ok, true, false), 0); /* no relay here */
	assert_int_equal(ss_intro_punch_flags(0, false, false), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(registration_expires),
		cmocka_unit_test(decide_needs_both_allowed_and_registered),
		cmocka_unit_test(pair_interval),
		cmocka_unit_test(per_requester_and_total_rates),
		cmocka_unit_test(build_answer_and_punch),
		cmocka_unit_test(delay_capped),
		cmocka_unit_test(hard_nat_from_two_reports),
		cmocka_unit_test(both_hard_goes_to_the_relay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
