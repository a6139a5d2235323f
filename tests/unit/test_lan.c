/* SPDX-License-Identifier: MIT */
/*
 * LAN announcements (PROTOCOL.md 16.9): a peers-mode tag only a host that knows the
 * identity recognises, an open-mode announcement whose signature must verify, and the
 * time window both share.
 */
#include <stdlib.h>
#include <string.h>

#include "common/endian.h"
#include "drive.h"
#include "helpers.h"

typedef struct fixture {
	test_node a, b; /* know each other */
	test_node c;	/* a stranger to both */
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	test_pair_init(&f->a, &f->b);
	test_node_init(&f->c, "carol", 4);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	test_node_free(&f->c);
	test_pair_free(&f->a, &f->b);
	free(f);
	return 0;
}

static size_t build(test_node *n, enum ss_lan_mode mode, uint8_t *out)
{
	size_t len = 0;

	assert_code(ss_lan_build(n->ctx, mode, 51999, out, SS_LAN_OPEN_LEN, &len), 0);
	return len;
}

static void peers_mode(void **state)
{
	fixture *f = *state;
	uint8_t pkt[SS_LAN_OPEN_LEN];
	ss_lan_info info;
	size_t len = build(&f->a, SS_LAN_PEERS, pkt);

	assert_int_equal(len, SS_LAN_PEERS_LEN);
	assert_int_equal(pkt[0], SS_MSG_LAN_PEERS);
	/* Strangers learn no identity: it is not in the packet. */
	assert_null(memmem(pkt, len, ss_identity_public(f->a.id), SS_IDENTITY_LEN));
	assert_code(ss_lan_recognise(f->b.ctx, pkt, len, &info), 0);
	assert_int_equal(info.mode, SS_LAN_PEERS);
	assert_int_equal(info.port, 51999);
	assert_int_equal(info.time_ns, f->a.clock.now.wall_ns);
	assert_memory_equal(info.identity, ss_identity_public(f->a.id), SS_IDENTITY_LEN);
	assert_ptr_equal(info.peer, f->b.peer);
	/* Carol does not know Alice: nothing to recognise. */
	assert_code(ss_lan_recognise(f->c.ctx, pkt, len, &info), SS_ERR_LAN_SPOOF);
	assert_null(info.peer);
	/* Our own, looped back. */
	assert_code(ss_lan_recognise(f->a.ctx, pkt, len, &info), SS_ERR_REFLECTION);
	/* The tag covers the port and the time. */
	pkt[SS_LAN_OFF_PORT + 1] ^= 1;
	assert_code(ss_lan_recognise(f->b.ctx, pkt, len, &info), SS_ERR_LAN_SPOOF);
	pkt[SS_LAN_OFF_PORT + 1] ^= 1;
	pkt[SS_LAN_OFF_TIME + 7] ^= 1;
	assert_code(ss_lan_recognise(f->b.ctx, pkt, len, &info), SS_ERR_LAN_SPOOF);
	pkt[SS_LAN_OFF_TIME + 7] ^= 1;
	/* Two announcements a second apart share no bytes of tag. */
	{
		uint8_t later[SS_LAN_OPEN_LEN];

		test_advance(&f->a, NULL, SS_NS_PER_SEC);
		build(&f->a, SS_LAN_PEERS, later);
		assert_memory_not_equal(later + SS_LAN_OFF_ID, pkt + SS_LAN_OFF_ID, 32);
	}
}

static void open_mode(void **state)
{
	fixture *f = *state;
	uint8_t pkt[SS_LAN_OPEN_LEN];
	ss_lan_info info;
	size_t len = build(&f->a, SS_LAN_OPEN, pkt);

	assert_int_equal(len, SS_LAN_OPEN_LEN);
	assert_code(ss_lan_recognise(f->b.ctx, pkt, len, &info), 0);
	assert_ptr_equal(info.peer, f->b.peer);
	/* A stranger sees the identity, verified, with no peer: listed, never trusted. */
	assert_code(ss_lan_recognise(f->c.ctx, pkt, len, &info), 0);
	assert_int_equal(info.mode, SS_LAN_OPEN);
	assert_null(info.peer);
	assert_memory_equal(info.identity, ss_identity_public(f->a.id), SS_IDENTITY_LEN);
	assert_code(ss_lan_recognise(f->a.ctx, pkt, len, &info), SS_ERR_REFLECTION);
	/* Forged signature, altered port, another identity under Alice's signature. */
	pkt[SS_LAN_OFF_SIG + 5] ^= 0x10;
	assert_code(ss_lan_recognise(f->c.ctx, pkt, len, &info), SS_ERR_LAN_SPOOF);
	pkt[SS_LAN_OFF_SIG + 5] ^= 0x10;
	pkt[SS_LAN_OFF_PORT] ^= 1;
	assert_code(ss_lan_recognise(f->c.ctx, pkt, len, &info), SS_ERR_LAN_SPOOF);
	pkt[SS_LAN_OFF_PORT] ^= 1;
	memcpy(pkt + SS_LAN_OFF_ID, ss_identity_public(f->b.id), SS_IDENTITY_LEN);
	assert_code(ss_lan_recognise(f->c.ctx, pkt, len, &info), SS_ERR_LAN_SPOOF);
	assert_code(ss_lan_recognise(f->a.ctx, pkt, len, &info), SS_ERR_LAN_SPOOF);
}

static void time_window(void **state)
{
	fixture *f = *state;
	uint8_t peers[SS_LAN_OPEN_LEN], open[SS_LAN_OPEN_LEN];
	size_t plen = build(&f->a, SS_LAN_PEERS, peers), olen = build(&f->a, SS_LAN_OPEN, open);
	ss_lan_info info;

	test_advance(&f->b, &f->c, SS_LAN_MAX_SKEW);
	assert_code(ss_lan_recognise(f->b.ctx, peers, plen, &info), 0);
	assert_code(ss_lan_recognise(f->c.ctx, open, olen, &info), 0);
	test_advance(&f->b, &f->c, 1);
	assert_code(ss_lan_recognise(f->b.ctx, peers, plen, &info), SS_ERR_LAN_SPOOF);
	assert_code(ss_lan_recognise(f->c.ctx, open, olen, &info), SS_ERR_LAN_SPOOF);
	/* From the future too. */
	f->b.clock.now.wall_ns = f->a.clock.now.wall_ns - SS_LAN_MAX_SKEW - 1;
	assert_code(ss_lan_recognise(f->b.ctx, peers, plen, &info), SS_ERR_LAN_SPOOF);
	f->b.clock.now.wall_ns += 1;
	assert_code(ss_lan_recognise(f->b.ctx, peers, plen, &info), 0);
}

static void malformed(void **state)
{
	fixture *f = *state;
	uint8_t pkt[SS_LAN_OPEN_LEN + 1] = {0};
	ss_lan_info info;
	size_t len = build(&f->a, SS_LAN_PEERS, pkt);

	assert_code(ss_lan_recognise(f->b.ctx, pkt, len - 1, &info), SS_ERR_MALFORMED);
	assert_code(ss_lan_recognise(f->b.ctx, pkt, len + 1, &info), SS_ERR_MALFORMED);
	assert_code(ss_lan_recognise(f->b.ctx, pkt, 3, &info), SS_ERR_MALFORMED);
	assert_code(ss_lan_recognise(f->b.ctx, pkt, SS_LAN_OPEN_LEN, &info), SS_ERR_MALFORMED);
	for (size_t off = 1; off < SS_LAN_OFF_PORT + 4; off++) {
		if (off == SS_LAN_OFF_PORT || off == SS_LAN_OFF_PORT + 1)
			continue;
		pkt[off] ^= 0x40;
		assert_code(ss_lan_recognise(f->b.ctx, pkt, len, &info), SS_ERR_MALFORMED);
		pkt[off] ^= 0x40;
	}
	pkt[0] = SS_MSG_INIT;
	assert_code(ss_lan_recognise(f->b.ctx, pkt, len, &info), SS_ERR_MALFORMED);
	pkt[0] = SS_MSG_LAN_PEERS;
	ss_store_be16(pkt + SS_LAN_OFF_PORT, 0);
	assert_code(ss_lan_recognise(f->b.ctx, pkt, len, &info), SS_ERR_MALFORMED);
	assert_code(ss_lan_build(f->a.ctx, SS_LAN_PEERS, 0, pkt, sizeof(pkt), &len), SS_ERR_INVAL);
	assert_code(ss_lan_build(f->a.ctx, SS_LAN_OPEN, 1, pkt, SS_LAN_OPEN_LEN - 1, &len),
		    SS_ERR_BUFFER);
	assert_code(ss_lan_build(f->a.ctx, (enum ss_lan_mode)3, 1, pkt, sizeof(pkt), &len),
		    SS_ERR_INVAL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(peers_mode),
		T(open_mode),
		T(time_window),
		T(malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
