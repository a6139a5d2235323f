/* SPDX-License-Identifier: MIT */
/*
 * Candidate sets and the punch schedule (PROTOCOL.md 16.5, 16.6), on the fixed clock:
 * the allow list, the bound of 8 and what may be replaced, peer-reflexive candidates
 * from verified handshakes only, expiry, and every step of the punch schedule.
 */
#include <stdlib.h>
#include <string.h>

#include "drive.h"
#include "helpers.h"
#include "internal.h"

#define MS (SS_NS_PER_SEC / 1000)

typedef struct fixture {
	test_node a, b;
	ss_cands *c; /* A's candidates for B */
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	test_pair_init(&f->a, &f->b);
	assert_code(ss_cands_create(f->a.ctx, &f->c), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	ss_cands_free(f->c);
	test_pair_free(&f->a, &f->b);
	free(f);
	return 0;
}

static ss_flow udp4(uint32_t remote, uint16_t port)
{
	ss_flow fl;

	test_flow_v4(&fl, 0, 51999, remote, port, 17);
	return fl;
}

static ss_flow udp6(uint16_t first, uint8_t last)
{
	ss_flow fl;

	memset(&fl, 0, sizeof(fl));
	fl.remote_addr[0] = (uint8_t)(first >> 8);
	fl.remote_addr[1] = (uint8_t)first;
	fl.remote_addr[15] = last;
	fl.remote_port = 51999;
	fl.local_port = 51999;
	fl.proto = 17;
	return fl;
}

static ss_prefix prefix4(uint32_t addr, uint8_t len)
{
	ss_prefix p = {.len = (uint8_t)(96 + len)};

	p.addr[10] = p.addr[11] = 0xff;
	p.addr[12] = (uint8_t)(addr >> 24);
	p.addr[13] = (uint8_t)(addr >> 16);
	p.addr[14] = (uint8_t)(addr >> 8);
	p.addr[15] = (uint8_t)addr;
	return p;
}

static void allow_list(void **state)
{
	fixture *f = *state;
	ss_prefix allow[2] = {prefix4(0xc6336400, 24), prefix4(0x0a000000, 8)}; /* 198.51.100/24 */
	uint8_t own[1][16];
	ss_flow fl;

	/* Never: loopback, multicast, broadcast, unspecified, port 0, link-local from afar. */
	assert_code(ss_cands_add(f->c, &(ss_flow){0}, SS_CAND_INTRODUCER), SS_ERR_CANDIDATE);
	fl = udp4(0x7f000001, 51999);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_CONFIGURED), SS_ERR_CANDIDATE);
	fl = udp4(0xe00000fb, 51999);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_INTRODUCER), SS_ERR_CANDIDATE);
	fl = udp4(0xffffffff, 51999);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_LAN), SS_ERR_CANDIDATE);
	fl = udp4(0xc6336401, 0);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_INTRODUCER), SS_ERR_CANDIDATE);
	fl = udp6(0, 1);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_INTRODUCER), SS_ERR_CANDIDATE);
	fl = udp6(0xff02, 1);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_INTRODUCER), SS_ERR_CANDIDATE);
	fl = udp6(0xfe80, 9);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_INTRODUCER), SS_ERR_CANDIDATE);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_LAN), 0);
	/* Virtual flows only for relays, and relays only virtual flows. */
	fl = udp4(0xc6336401, 51999);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_RELAY), SS_ERR_CANDIDATE);
	fl.proto = SS_RELAY_PROTO;
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_INTRODUCER), SS_ERR_CANDIDATE);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_RELAY), 0);
	/* With an allow list: inside it only; never this host's own addresses. */
	fl = udp4(0xc6336401, 51999);
	memcpy(own[0], fl.remote_addr, 16);
	assert_code(ss_ctx_set_candidate_policy(f->a.ctx, allow, 2, (const uint8_t(*)[16])own, 1),
		    0);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_INTRODUCER), SS_ERR_CANDIDATE);
	fl = udp4(0xc6336402, 51999);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_INTRODUCER), 0);
	fl = udp4(0x0a090807, 51999);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_PEER_REFLEXIVE), 0);
	fl = udp4(0xc6336501, 51999); /* 198.51.101.1: outside */
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_INTRODUCER), SS_ERR_CANDIDATE);
	fl = udp6(0x2001, 1);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_INTRODUCER), SS_ERR_CANDIDATE);
	assert_int_equal(ss_cands_count(f->c), 4);
	/* A bad policy changes nothing. */
	allow[0].len = 129;
	assert_code(ss_ctx_set_candidate_policy(f->a.ctx, allow, 1, NULL, 0), SS_ERR_INVAL);
	assert_code(ss_ctx_set_candidate_policy(f->a.ctx, allow, SS_CAND_ALLOW_MAX + 1, NULL, 0),
		    SS_ERR_INVAL);
}

static void bounded_at_eight(void **state)
{
	fixture *f = *state;
	ss_cand_info info;
	ss_flow fl;

	fl = udp4(0xc6336401, 51999);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_CONFIGURED), 0);
	for (uint32_t i = 2; i <= 8; i++) {
		test_advance(&f->a, NULL, MS);
		fl = udp4(0xc6336400 + i, 51999);
		assert_code(ss_cands_add(f->c, &fl, SS_CAND_INTRODUCER), 0);
	}
	assert_int_equal(ss_cands_count(f->c), SS_CAND_MAX);
	/* .2 is refreshed, so .3 is now the least recently seen: it goes. */
	test_advance(&f->a, NULL, MS);
	fl = udp4(0xc6336402, 51999);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_INTRODUCER), 0);
	assert_int_equal(ss_cands_count(f->c), SS_CAND_MAX);
	fl = udp4(0xc6336409, 51999);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_INTRODUCER), 0);
	assert_int_equal(ss_cands_count(f->c), SS_CAND_MAX);
	for (size_t i = 0; i < SS_CAND_MAX; i++) {
		assert_code(ss_cands_get(f->c, i, &info), 0);
		assert_true(info.flow.remote_addr[15] != 3);
	}
	assert_code(ss_cands_get(f->c, SS_CAND_MAX, &info), SS_ERR_NOT_FOUND);
	/* Confirmed paths and configured endpoints stay: a lying introducer cannot flush them. */
	for (uint32_t i = 1; i <= 9; i++) {
		fl = udp4(0xc6336400 + i, 51999);
		if (i != 3)
			assert_code(ss_cands_confirm(f->c, &fl), 0);
	}
	fl = udp4(0xc6336403, 51999);
	assert_code(ss_cands_confirm(f->c, &fl), SS_ERR_NOT_FOUND);
	assert_code(ss_cands_add(f->c, &fl, SS_CAND_INTRODUCER), SS_ERR_FULL);
	assert_int_equal(ss_cands_count(f->c), SS_CAND_MAX);
}

static void expiry(void **state)
{
	fixture *f = *state;
	ss_flow conf = udp4(0xc6336401, 51999), intro = udp4(0xc6336402, 51999);
	ss_flow lan = udp4(0xc0a80102, 51999), used = udp4(0xc6336403, 51999);

	assert_code(ss_cands_add(f->c, &conf, SS_CAND_CONFIGURED), 0);
	assert_code(ss_cands_add(f->c, &intro, SS_CAND_INTRODUCER), 0);
	assert_code(ss_cands_add_lan(f->c, &lan, 5), 0);
	assert_code(ss_cands_add(f->c, &used, SS_CAND_PEER_REFLEXIVE), 0);
	assert_int_equal(ss_cands_count(f->c), 4);
	test_advance(&f->a, NULL, SS_LAN_LIFETIME - 1);
	assert_code(ss_cands_confirm(f->c, &used), 0);
	assert_int_equal(ss_cands_count(f->c), 4);
	test_advance(&f->a, NULL, 1);
	assert_int_equal(ss_cands_count(f->c), 3); /* the LAN one */
	test_advance(&f->a, NULL, SS_CAND_LIFETIME - SS_LAN_LIFETIME);
	assert_int_equal(ss_cands_count(f->c), 2); /* the introducer's */
	test_advance(&f->a, NULL, SS_LAN_LIFETIME);
	assert_int_equal(ss_cands_count(f->c), 1); /* confirmed, then silent for its lifetime */
	test_advance(&f->a, NULL, 1000 * SS_NS_PER_SEC);
	assert_int_equal(ss_cands_count(f->c), 1); /* configured: forever */
	/* A LAN announcement is accepted only if newer than the last one from that peer. */
	assert_code(ss_cands_add_lan(f->c, &lan, 5), SS_ERR_LAN_SPOOF);
	assert_code(ss_cands_add_lan(f->c, &lan, 4), SS_ERR_LAN_SPOOF);
	assert_code(ss_cands_add_lan(f->c, &lan, 6), 0);
}

/* B's INIT reaches A from an address A never heard of: a peer-reflexive candidate. */
static void reflexive_from_verified_init_only(void **state)
{
	fixture *f = *state;
	ss_flow nat = udp4(0xcb007101, 40001); /* B's new mapping, as A sees it */
	ss_cand_info info;
	ss_result res;
	bool resend;
	msg init, out;

	start_init(&f->b, &init);
	/* Forged copies and junk from that address add nothing. */
	init.b[SS_INIT_OFF_SIG] ^= 1;
	assert_code(consume_on(&f->a, &nat, &init, &out, &res), SS_ERR_MAC1);
	assert_code(ss_cands_observe(f->c, &nat, SS_MSG_INIT, SS_ERR_MAC1, &resend), 0);
	assert_code(ss_cands_observe(f->c, &nat, SS_MSG_INIT, SS_ERR_SIGNATURE, &resend), 0);
	assert_code(ss_cands_observe(f->c, &nat, SS_MSG_INIT, SS_ERR_STALE, &resend), 0);
	assert_code(ss_cands_observe(f->c, &nat, SS_MSG_DATA, 0, &resend), 0);
	assert_code(ss_cands_observe(f->c, &nat, SS_MSG_RESPONSE, SS_ERR_UNEXPECTED, &resend), 0);
	assert_int_equal(ss_cands_count(f->c), 0);
	init.b[SS_INIT_OFF_SIG] ^= 1;
	/* The verified INIT: A answers it and learns the flow. */
	assert_code(consume_on(&f->a, &nat, &init, &out, &res), 0);
	assert_code(ss_cands_observe(f->c, &nat, SS_MSG_INIT, 0, &resend), 0);
	assert_false(resend); /* A answered: nothing of its own to resend */
	assert_int_equal(ss_cands_count(f->c), 1);
	assert_code(ss_cands_get(f->c, 0, &info), 0);
	assert_int_equal(info.source, SS_CAND_PEER_REFLEXIVE);
	assert_true(ss_flow_equal(&info.flow, &nat));
	assert_int_equal(info.confirmed_ns, 0);
	/* Seen again: still one. */
	assert_code(ss_cands_observe(f->c, &nat, SS_MSG_INIT, 0, &resend), 0);
	assert_int_equal(ss_cands_count(f->c), 1);
}

/*
 * Crossing INITs: the host with the smaller identity drops the other's (the tie-break,
 * SS_ERR_UNEXPECTED) after verifying it, learns the flow it came from (a symmetric NAT's
 * fresh mapping) and re-sends its own INIT there at once.
 */
static void reflexive_from_tie_break(void **state)
{
	fixture *f = *state;
	bool a_wins = memcmp(ss_identity_public(f->a.id), ss_identity_public(f->b.id),
			     SS_IDENTITY_LEN) < 0;
	test_node *win = a_wins ? &f->a : &f->b, *lose = a_wins ? &f->b : &f->a;
	ss_flow nat = udp4(0xcb007101, 40001);
	ss_cands *c;
	ss_result res;
	bool resend;
	msg mine, theirs, out;

	assert_code(ss_cands_create(win->ctx, &c), 0);
	start_init(win, &mine);
	start_init(lose, &theirs);
	assert_code(consume_on(win, &nat, &theirs, &out, &res), SS_ERR_UNEXPECTED);
	assert_code(ss_cands_observe(c, &nat, SS_MSG_INIT, SS_ERR_UNEXPECTED, &resend), 0);
	assert_true(resend);
	assert_int_equal(ss_cands_count(c), 1);
	/* Our INIT, re-sent on that flow, is answered there: the session binds to it. */
	assert_code(consume_on(lose, &lose->flow, &mine, &out, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_REPLY);
	assert_code(consume_on(win, &nat, &out, &theirs, &res), 0);
	assert_true(res.flags & SS_RESULT_F_HANDSHAKE);
	assert_code(ss_cands_confirm(c, &nat), 0);
	assert_true(ss_flow_equal(&win->peer->current->flow, &nat));
	ss_cands_free(c);
}

/* An INIT the tie-break drops still names a flow: resend ours there, at most every 100 ms. */
static void reflexive_resend_rate(void **state)
{
	fixture *f = *state;
	ss_flow x = udp4(0xcb007101, 40001), y = udp4(0xcb007101, 40002);
	ss_flow z = udp4(0xcb007101, 40003);
	bool resend;

	assert_code(ss_cands_observe(f->c, &x, SS_MSG_INIT, SS_ERR_UNEXPECTED, &resend), 0);
	assert_true(resend);
	test_advance(&f->a, NULL, SS_CAND_REFLEXIVE_GAP - 1);
	assert_code(ss_cands_observe(f->c, &y, SS_MSG_INIT, SS_ERR_UNEXPECTED, &resend), 0);
	assert_false(resend);
	test_advance(&f->a, NULL, 1);
	assert_code(ss_cands_observe(f->c, &z, SS_MSG_INIT, SS_ERR_UNEXPECTED, &resend), 0);
	assert_true(resend);
	assert_int_equal(ss_cands_count(f->c), 3);
	/* A verified RESPONSE from a new flow is learned too. */
	x.remote_port = 40004;
	assert_code(ss_cands_observe(f->c, &x, SS_MSG_RESPONSE, 0, &resend), 0);
	assert_false(resend);
	assert_int_equal(ss_cands_count(f->c), 4);
}

static void expect_step(fixture *f, enum ss_punch_action want)
{
	assert_int_equal(ss_cands_punch_step(f->c), want);
}

/* Advance A's clock to the punch deadline, which must be offset ns after base. */
static void to_deadline(fixture *f, uint64_t base, uint64_t offset)
{
	uint64_t d = ss_cands_punch_deadline(f->c);

	assert_true(d == base + offset);
	f->a.clock.now.mono_ns = d;
}

static void punch_schedule(void **state)
{
	fixture *f = *state;
	uint64_t t0 = f->a.clock.now.mono_ns, start = t0 + 30 * MS;
	static const uint64_t at_ms[] = {100, 200, 400, 800, 1600, 3200};
	static const enum ss_punch_action what[] = {SS_PUNCH_SEND,	 SS_PUNCH_SEND,
						    SS_PUNCH_SEND,	 SS_PUNCH_SEND_FRESH,
						    SS_PUNCH_SEND_FRESH, SS_PUNCH_SEND_FRESH};

	assert_int_equal(ss_cands_punch_deadline(f->c), UINT64_MAX);
	expect_step(f, SS_PUNCH_NONE);
	assert_code(ss_cands_punch_start(f->c, SS_PUNCH_MAX_DELAY_MS + 1, 0), SS_ERR_INVAL);
	assert_code(ss_cands_punch_start(f->c, 30, 0), 0);
	expect_step(f, SS_PUNCH_NONE); /* the introducer's delay first */
	to_deadline(f, start, 0);
	expect_step(f, SS_PUNCH_SEND_FRESH);
	expect_step(f, SS_PUNCH_NONE);
	for (size_t i = 0; i < sizeof(at_ms) / sizeof(at_ms[0]); i++) {
		to_deadline(f, start, at_ms[i] * MS);
		expect_step(f, what[i]);
		expect_step(f, SS_PUNCH_NONE);
	}
	to_deadline(f, start, SS_PUNCH_GIVE_UP_AFTER);
	expect_step(f, SS_PUNCH_GIVE_UP);
	expect_step(f, SS_PUNCH_NONE);
	assert_int_equal(ss_cands_punch_deadline(f->c), UINT64_MAX);
}

static void punch_late_caller_and_relay(void **state)
{
	fixture *f = *state;
	uint64_t t0 = f->a.clock.now.mono_ns;

	assert_code(ss_cands_punch_start(f->c, 0, SS_PUNCH_F_RELAY_OK), 0);
	/* Called late, at 0.9 s: one send for the five rounds that were due, not five. */
	f->a.clock.now.mono_ns = t0 + 900 * MS;
	expect_step(f, SS_PUNCH_SEND_FRESH);
	expect_step(f, SS_PUNCH_NONE);
	to_deadline(f, t0, SS_PUNCH_RELAY_AFTER);
	expect_step(f, SS_PUNCH_RELAY);
	expect_step(f, SS_PUNCH_NONE);
	to_deadline(f, t0, 1600 * MS);
	expect_step(f, SS_PUNCH_SEND_FRESH);
	/* A direct session came up: the schedule stops. */
	ss_cands_punch_done(f->c);
	expect_step(f, SS_PUNCH_NONE);
	assert_int_equal(ss_cands_punch_deadline(f->c), UINT64_MAX);
}

static void punch_both_hard(void **state)
{
	fixture *f = *state;

	assert_code(ss_cands_punch_start(f->c, 500, SS_PUNCH_F_RELAY_OK | SS_PUNCH_F_BOTH_HARD), 0);
	f->a.clock.now.mono_ns += 500 * MS;
	expect_step(f, SS_PUNCH_RELAY);
	expect_step(f, SS_PUNCH_GIVE_UP); /* no INIT to guessed ports */
	expect_step(f, SS_PUNCH_NONE);
}

/* Three attempts without a direct path: ten minutes of relay only. */
static void punch_backoff(void **state)
{
	fixture *f = *state;

	for (int i = 0; i < SS_PUNCH_MAX_FAILS; i++) {
		assert_code(ss_cands_punch_start(f->c, 0, 0), 0);
		expect_step(f, SS_PUNCH_SEND_FRESH);
		f->a.clock.now.mono_ns += SS_PUNCH_GIVE_UP_AFTER;
		expect_step(f, SS_PUNCH_SEND_FRESH); /* the 3.2 s round */
		expect_step(f, SS_PUNCH_GIVE_UP);
	}
	assert_code(ss_cands_punch_start(f->c, 0, SS_PUNCH_F_RELAY_OK), 0);
	expect_step(f, SS_PUNCH_RELAY);
	expect_step(f, SS_PUNCH_GIVE_UP);
	assert_code(ss_cands_punch_start(f->c, 0, 0), 0);
	expect_step(f, SS_PUNCH_GIVE_UP);
	f->a.clock.now.mono_ns += SS_PUNCH_BACKOFF;
	assert_code(ss_cands_punch_start(f->c, 0, 0), 0);
	expect_step(f, SS_PUNCH_SEND_FRESH);
	/* Success resets the count. */
	ss_cands_punch_done(f->c);
	for (int i = 0; i < SS_PUNCH_MAX_FAILS - 1; i++) {
		assert_code(ss_cands_punch_start(f->c, 0, 0), 0);
		f->a.clock.now.mono_ns += SS_PUNCH_GIVE_UP_AFTER;
		expect_step(f, SS_PUNCH_SEND_FRESH);
		expect_step(f, SS_PUNCH_GIVE_UP);
	}
	assert_code(ss_cands_punch_start(f->c, 0, 0), 0);
	expect_step(f, SS_PUNCH_SEND_FRESH);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(allow_list),
		T(bounded_at_eight),
		T(expiry),
		T(reflexive_from_verified_init_only),
		T(reflexive_from_tie_break),
		T(reflexive_resend_rate),
		T(punch_schedule),
		T(punch_late_caller_and_relay),
		T(punch_both_hard),
		T(punch_backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
