/* SPDX-License-Identifier: MIT */
/*
 * Reachability control messages (PROTOCOL.md 16.2, 16.3): every subtype round-trips,
 * every field rule refuses, and the messages travel sealed on a session as CONTROL.
 */
#include <string.h>

#include "common/endian.h"
#include "drive.h"
#include "helpers.h"
#include "internal.h"

static void ep4(ss_endpoint *ep, uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr[10] = ep->addr[11] = 0xff;
	ep->addr[12] = a;
	ep->addr[13] = b;
	ep->addr[14] = c;
	ep->addr[15] = d;
	ep->port = port;
}

static void ep6(ss_endpoint *ep, uint16_t first, uint8_t last, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ss_store_be16(ep->addr, first);
	ep->addr[15] = last;
	ep->port = port;
}

/* A valid message of each subtype, with every field its rules allow filled in. */
static void valid_msg(ss_reach_msg *m, uint8_t type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->txid = 0x01020304;
	if (type >= SS_CTL_QUERY)
		memset(m->subject, 0xab, sizeof(m->subject));
	switch (type) {
	case SS_CTL_REGISTER:
		m->flags = SS_REACH_F_ALL;
		m->rtt_ms = 42;
		m->n_cand = 2;
		ep4(&m->cand[0], 192, 168, 1, 10, 51999);
		ep6(&m->cand[1], 0x2001, 7, 51999);
		break;
	case SS_CTL_REGISTERED:
		ep4(&m->observed, 198, 51, 100, 10, 40000);
		break;
	case SS_CTL_QUERY:
		m->rtt_ms = 17;
		break;
	case SS_CTL_ANSWER:
	case SS_CTL_PUNCH:
		m->flags = SS_REACH_F_HARD_NAT | SS_REACH_F_RELAY_OK;
		m->delay_ms = 25;
		ep4(&m->observed, 198, 51, 100, 10, 40000);
		m->n_cand = SS_REACH_MAX_CAND;
		for (int i = 0; i < SS_REACH_MAX_CAND; i++)
			ep4(&m->cand[i], 198, 51, 100, (uint8_t)(20 + i), 51999);
		break;
	case SS_CTL_RELAY_OFFER:
	case SS_CTL_RELAY_ACCEPT:
	case SS_CTL_RELAY_CLOSE:
		m->circuit = 0xc1c1c1c1;
		break;
	default:
		break;
	}
}

static void round_trip(void **state)
{
	uint8_t pt[SS_REACH_LEN];
	ss_reach_msg m, back;

	(void)state;
	assert_int_equal(SS_REACH_LEN, 212);
	assert_int_equal(SS_REACH_CONTROL_LEN, 244);
	for (uint8_t t = SS_CTL_REGISTER; t <= SS_CTL_RELAY_CLOSE; t++) {
		valid_msg(&m, t);
		assert_code(ss_reach_encode(&m, pt), 0);
		assert_int_equal(pt[0], t);
		assert_int_equal(ss_load_be32(pt + SS_REACH_OFF_TXID), m.txid);
		assert_code(ss_reach_decode(pt, sizeof(pt), &back), 0);
		assert_memory_equal(&m, &back, sizeof(m));
	}
}

static void refuse_length_and_type(void **state)
{
	uint8_t pt[SS_REACH_LEN + 1] = {0};
	ss_reach_msg m;
	static const uint8_t bad_types[] = {0, SS_CTL_ECHO, SS_CTL_RELAY_CLOSE + 1, 0x80, 0xff};

	(void)state;
	valid_msg(&m, SS_CTL_QUERY);
	assert_code(ss_reach_encode(&m, pt), 0);
	assert_code(ss_reach_decode(pt, SS_REACH_LEN - 1, &m), SS_ERR_MALFORMED);
	assert_code(ss_reach_decode(pt, SS_REACH_LEN + 1, &m), SS_ERR_MALFORMED);
	assert_code(ss_reach_decode(pt, 0, &m), SS_ERR_MALFORMED);
	assert_code(ss_reach_decode(pt, SS_CTL_LEN, &m), SS_ERR_MALFORMED);
	assert_code(ss_reach_decode(NULL, SS_REACH_LEN, &m), SS_ERR_INVAL);
	for (size_t i = 0; i < sizeof(bad_types); i++) {
		pt[0] = bad_types[i];
		assert_code(ss_reach_decode(pt, SS_REACH_LEN, &m), SS_ERR_MALFORMED);
	}
}

/* One byte changed at off in an otherwise valid message of type t must be refused. */
static void refuse_byte(uint8_t t, size_t off, uint8_t val, int want)
{
	uint8_t pt[SS_REACH_LEN];
	ss_reach_msg m;

	valid_msg(&m, t);
	assert_code(ss_reach_encode(&m, pt), 0);
	pt[off] = val;
	assert_code(ss_reach_decode(pt, sizeof(pt), &m), want);
}

static void refuse_field_rules(void **state)
{
	(void)state;
	refuse_byte(SS_CTL_REGISTER, 3, 1, SS_ERR_MALFORMED); /* reserved */
	refuse_byte(SS_CTL_REGISTER, SS_REACH_OFF_CIRCUIT, 1, SS_ERR_MALFORMED);
	refuse_byte(SS_CTL_REGISTER, SS_REACH_OFF_DELAY + 1, 1, SS_ERR_MALFORMED);
	refuse_byte(SS_CTL_REGISTER, SS_REACH_OFF_SUBJECT + 31, 1, SS_ERR_MALFORMED);
	refuse_byte(SS_CTL_REGISTER, SS_REACH_OFF_OBSERVED, 1, SS_ERR_MALFORMED);
	refuse_byte(SS_CTL_REGISTER, SS_REACH_OFF_FLAGS, 8, SS_ERR_MALFORMED);
	refuse_byte(SS_CTL_REGISTERED, SS_REACH_OFF_NCAND, 1, SS_ERR_MALFORMED);
	refuse_byte(SS_CTL_REGISTERED, SS_REACH_OFF_FLAGS, SS_REACH_F_HARD_NAT, SS_ERR_MALFORMED);
	refuse_byte(SS_CTL_REGISTERED, SS_REACH_OFF_RTT, 1, SS_ERR_MALFORMED);
	refuse_byte(SS_CTL_PUNCH, SS_REACH_OFF_FLAGS, SS_REACH_F_PRIVATE, SS_ERR_MALFORMED);
	refuse_byte(SS_CTL_PUNCH, SS_REACH_OFF_NCAND, 0, SS_ERR_MALFORMED);    /* nobody to punch */
	refuse_byte(SS_CTL_PUNCH, SS_REACH_OFF_CAND - 1, 1, SS_ERR_MALFORMED); /* reserved */
	refuse_byte(SS_CTL_RELAY_OPEN, SS_REACH_OFF_CIRCUIT, 1, SS_ERR_MALFORMED);
	refuse_byte(SS_CTL_RELAY_OPEN, SS_REACH_OFF_NCAND, 1, SS_ERR_MALFORMED);
	/* A slot past n_cand carries nothing. */
	refuse_byte(SS_CTL_REGISTER, SS_REACH_LEN - 1, 1, SS_ERR_MALFORMED);
}

static void refuse_delay_and_counts(void **state)
{
	uint8_t pt[SS_REACH_LEN];
	ss_reach_msg m;

	(void)state;
	/* Transaction ids, subjects, circuits and observed addresses a subtype needs. */
	valid_msg(&m, SS_CTL_REGISTER);
	m.txid = 0;
	assert_code(ss_reach_encode(&m, pt), SS_ERR_MALFORMED);
	valid_msg(&m, SS_CTL_RELAY_CLOSE);
	m.txid = 0; /* a relay may close a circuit nobody asked about */
	assert_code(ss_reach_encode(&m, pt), 0);
	valid_msg(&m, SS_CTL_QUERY);
	memset(m.subject, 0, sizeof(m.subject));
	assert_code(ss_reach_encode(&m, pt), SS_ERR_MALFORMED);
	valid_msg(&m, SS_CTL_RELAY_ACCEPT);
	m.circuit = 0;
	assert_code(ss_reach_encode(&m, pt), SS_ERR_MALFORMED);
	valid_msg(&m, SS_CTL_REGISTERED);
	memset(&m.observed, 0, sizeof(m.observed));
	assert_code(ss_reach_encode(&m, pt), SS_ERR_MALFORMED);
	valid_msg(&m, SS_CTL_PUNCH);
	m.delay_ms = SS_PUNCH_MAX_DELAY_MS;
	assert_code(ss_reach_encode(&m, pt), 0);
	m.delay_ms = SS_PUNCH_MAX_DELAY_MS + 1;
	assert_code(ss_reach_encode(&m, pt), SS_ERR_MALFORMED);
	assert_true(pt[0] == 0); /* a refused encoding leaves nothing behind */
	valid_msg(&m, SS_CTL_PUNCH);
	m.n_cand = SS_REACH_MAX_CAND + 1;
	assert_code(ss_reach_encode(&m, pt), SS_ERR_MALFORMED);
	valid_msg(&m, SS_CTL_PUNCH);
	assert_code(ss_reach_encode(&m, pt), 0);
	pt[SS_REACH_OFF_NCAND] = SS_REACH_MAX_CAND + 1;
	assert_code(ss_reach_decode(pt, sizeof(pt), &m), SS_ERR_MALFORMED);
	pt[SS_REACH_OFF_NCAND] = 0xff;
	assert_code(ss_reach_decode(pt, sizeof(pt), &m), SS_ERR_MALFORMED);
	/* Two slots for one endpoint. */
	valid_msg(&m, SS_CTL_ANSWER);
	m.cand[3] = m.cand[1];
	assert_code(ss_reach_encode(&m, pt), SS_ERR_MALFORMED);
}

static void refuse_endpoints(void **state)
{
	ss_endpoint bad[10];
	uint8_t pt[SS_REACH_LEN];
	ss_reach_msg m;

	(void)state;
	ep4(&bad[0], 127, 0, 0, 1, 51999);	 /* loopback */
	ep4(&bad[1], 224, 0, 0, 251, 51999);	 /* multicast */
	ep4(&bad[2], 255, 255, 255, 255, 51999); /* broadcast */
	ep4(&bad[3], 0, 0, 0, 0, 51999);	 /* unspecified */
	ep4(&bad[4], 198, 51, 100, 1, 0);	 /* port 0 */
	ep6(&bad[5], 0, 1, 51999);		 /* ::1 */
	ep6(&bad[6], 0xff02, 1, 51999);		 /* multicast */
	ep6(&bad[7], 0, 0, 51999);		 /* :: */
	ep6(&bad[8], 0xfe80, 1, 51999);		 /* link-local: LAN discovery only */
	ep4(&bad[9], 0, 1, 2, 3, 51999);	 /* 0.0.0.0/8 */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		valid_msg(&m, SS_CTL_ANSWER);
		m.cand[5] = bad[i];
		assert_code(ss_reach_encode(&m, pt), SS_ERR_CANDIDATE);
		/* The same bytes from the wire. */
		valid_msg(&m, SS_CTL_ANSWER);
		assert_code(ss_reach_encode(&m, pt), 0);
		memcpy(pt + SS_REACH_OFF_CAND + 5 * SS_REACH_EP_LEN, bad[i].addr, 16);
		ss_store_be16(pt + SS_REACH_OFF_CAND + 5 * SS_REACH_EP_LEN + 16, bad[i].port);
		assert_code(ss_reach_decode(pt, sizeof(pt), &m), SS_ERR_CANDIDATE);
		valid_msg(&m, SS_CTL_REGISTERED);
		m.observed = bad[i];
		assert_code(ss_reach_encode(&m, pt), SS_ERR_CANDIDATE);
	}
}

/* Sealed on a session: B gets the plaintext back as SS_RESULT_CONTROL, checked. */
static void sealed_on_session(void **state)
{
	test_pair *p = *state;
	uint8_t pt[SS_REACH_LEN];
	ss_reach_msg m, back;
	ss_result res;
	ss_flow f;
	msg pkt, out;

	valid_msg(&m, SS_CTL_REGISTER);
	assert_code(ss_reach_encode(&m, pt), 0);
	assert_code(ss_peer_seal_reach(p->a.ctx, p->a.peer, pt, pkt.b, sizeof(pkt.b), &pkt.len, &f),
		    0);
	assert_int_equal(pkt.len, SS_REACH_CONTROL_LEN);
	assert_int_equal(pkt.b[0], SS_MSG_CONTROL);
	assert_true(memmem(pkt.b, pkt.len, m.cand[0].addr, 16) == NULL); /* sealed */
	assert_code(consume(&p->b, &pkt, &out, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_CONTROL);
	assert_ptr_equal(res.peer, p->b.peer);
	assert_int_equal(res.len, SS_REACH_LEN);
	assert_memory_equal(out.b, pt, SS_REACH_LEN);
	assert_code(ss_reach_decode(out.b, res.len, &back), 0);
	assert_memory_equal(&m, &back, sizeof(m));
	/* Replayed: the window has it. */
	assert_code(consume(&p->b, &pkt, &out, &res), SS_ERR_REPLAY);
	/* Echoes still work beside it. */
	test_send(&p->a, &p->b, "after reach");
}

/* A sealed plaintext that breaks a field rule is dropped after decryption, before commit. */
static void sealed_invalid_dropped(void **state)
{
	test_pair *p = *state;
	uint8_t pt[SS_REACH_LEN];
	ss_peer_stats st;
	ss_reach_msg m;
	ss_result res;
	msg pkt, out;

	valid_msg(&m, SS_CTL_QUERY);
	assert_code(ss_reach_encode(&m, pt), 0);
	pt[3] = 1;
	assert_code(
		ss_peer_seal_reach(p->a.ctx, p->a.peer, pt, pkt.b, sizeof(pkt.b), &pkt.len, NULL),
		SS_ERR_MALFORMED);
	assert_code(ss_session_seal(p->a.ctx, p->a.peer, p->a.peer->current, SS_MSG_CONTROL, pt,
				    sizeof(pt), pkt.b, sizeof(pkt.b), &pkt.len),
		    0);
	assert_code(consume(&p->b, &pkt, &out, &res), SS_ERR_MALFORMED);
	assert_int_equal(res.kind, SS_RESULT_NONE);
	ss_peer_get_stats(p->b.peer, &st);
	assert_int_equal(st.drops[ss_drop_index(SS_ERR_MALFORMED)], 1);
	/* Not committed: the counter is still free in B's window. */
	assert_code(ss_replay_check(&p->b.peer->current->rx_window,
				    ss_load_be64(pkt.b + SS_DATA_OFF_COUNTER)),
		    0);
	/* Any other CONTROL size is refused before the index lookup. */
	pkt.len = SS_REACH_CONTROL_LEN - 1;
	assert_code(consume(&p->b, &pkt, &out, &res), SS_ERR_MALFORMED);
}

static void seal_needs_session(void **state)
{
	test_pair *p = *state;
	uint8_t pt[SS_REACH_LEN];
	ss_reach_msg m;
	msg pkt;

	valid_msg(&m, SS_CTL_RELAY_OPEN);
	assert_code(ss_reach_encode(&m, pt), 0);
	assert_code(
		ss_peer_seal_reach(p->a.ctx, p->a.peer, pt, pkt.b, sizeof(pkt.b), &pkt.len, NULL),
		SS_ERR_NO_SESSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),	      cmocka_unit_test(refuse_length_and_type),
		cmocka_unit_test(refuse_field_rules), cmocka_unit_test(refuse_delay_and_counts),
		cmocka_unit_test(refuse_endpoints),   session_test(sealed_on_session),
		session_test(sealed_invalid_dropped), pair_test(seal_needs_session),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
