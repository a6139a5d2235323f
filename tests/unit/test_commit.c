/* SPDX-License-Identifier: MIT */
/*
 * The handshake commit is all or nothing (issue 12, item 6): when any step of the
 * responder's ss_handshake_consume_init or the initiator's ss_handshake_consume_response
 * fails, the peer's sessions (current, previous, next, their indices and counters), its
 * handshake, identity and stats, and the index and identity tables are exactly as before,
 * and the same packet, or a later handshake, still goes through.
 *
 * Failures come by real means, with no hook in the library, so nothing here can be
 * triggered from the wire except what the wire can do anyway:
 *  - OpenSSL allocates through CRYPTO_set_mem_functions, and the test refuses every
 *    allocation from the n-th on, for n = 0, 1, ... until the packet goes through without
 *    reaching the limit. That fails each allocating step in turn: the peer's first session
 *    slots, macs, signature checks, key derivation and both staged session keys.
 *  - The context's random source (ss_ctx_config.random) fails at its n-th call (the new
 *    index, then the response's ephemeral), or returns an index already in use every
 *    time, so that index allocation gives up.
 *  - A validly signed INIT whose ephemeral is a low-order point fails the Diffie-Hellman
 *    after the responder allocated an index.
 * The initiator's index changes owner by an in-place retag, which cannot fail, so there
 * is no table insert left to make fail. A TOFU peer learning its identity, the initiator's
 * last fallible step, has no real way to fail today (ss_sha256 does not allocate, a known
 * identity is refused earlier, the identity table holds max_peers): initiator_tofu shows
 * the earlier failures leave it unlearned, and reaches it too once hashing allocates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include <cmocka.h>

#include "common/crypto.h"
#include "common/endian.h"
#include "adversary.h"
#include "internal.h"

/* ---- allocation failures ---- */

static long alloc_left = -1; /* allocations still granted; -1 = no limit */
static long alloc_refused;

static bool alloc_granted(void)
{
	if (alloc_left == 0) {
		alloc_refused++;
		return false;
	}
	if (alloc_left > 0)
		alloc_left--;
	return true;
}

static void *t_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return alloc_granted() ? malloc(n) : NULL;
}

static void *t_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return alloc_granted() ? realloc(p, n) : NULL;
}

static void t_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

/* ---- deterministic nodes ---- */

typedef struct rng {
	uint64_t state;
	long calls, fail_at; /* fail_at: the call that fails, -1 none */
	bool fixed;	     /* 4-byte draws (indices) all return index */
	uint32_t index;
} rng;

/* A test_node whose random source is rng, not test_rng (which hashes through OpenSSL). */
typedef struct node {
	test_node t;
	rng rng;
} node;

/* splitmix64: no OpenSSL, so allocation failures never reach the random source. */
static int rng_fn(void *arg, uint8_t *buf, size_t len)
{
	rng *r = arg;

	if (r->calls++ == r->fail_at)
		return -1;
	if (len == 4 && r->fixed) {
		ss_store_be32(buf, r->index);
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));

		z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
		z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
		buf[i] = (uint8_t)((z ^ (z >> 31)) >> 56);
	}
	return 0;
}

static void node_init(node *n, const char *label, uint8_t tag, bool accept_anonymous)
{
	ss_ctx_config cfg = {.random = rng_fn,
			     .random_arg = &n->rng,
			     .max_peers = 4,
			     .accept_anonymous = accept_anonymous};

	memset(n, 0, sizeof(*n));
	n->t.id = test_identity(label);
	n->rng = (rng){.state = tag, .fail_at = -1};
	test_node_start(&n->t, &cfg);
	/* Many tries of one INIT at one instant must not turn into cookie replies. */
	ss_ctx_set_under_load(n->t.ctx, false);
}

/* a knows b; b knows a, or (tofu) only that someone will answer. */
static void pair_init(node *a, node *b, bool tofu)
{
	node_init(a, "alice", 0xa1, tofu);
	node_init(b, "bob", 0xb2, false);
	assert_int_equal(ss_peer_add(a->t.ctx, ss_identity_public(b->t.id), &a->t.peer), 0);
	if (tofu)
		assert_int_equal(ss_peer_add_tofu(b->t.ctx, NULL, &b->t.peer), 0);
	else
		assert_int_equal(ss_peer_add(b->t.ctx, ss_identity_public(a->t.id), &b->t.peer), 0);
	test_pair_flows(&a->t, &b->t);
}

/* ss_ctx_consume at n; the reply (if any) in reply. */
static int take(node *n, const msg *m, msg *reply)
{
	ss_result res;

	return consume(&n->t, m, reply, &res);
}

static void handshake(node *a, node *b)
{
	struct hs_msgs m;

	test_advance(&a->t, &b->t, SS_REKEY_TIMEOUT);
	handshake_capture(&a->t, &b->t, &m);
}

/* Data both ways, then a fresh handshake each way, then data again. */
static void check_works(node *a, node *b)
{
	test_send(&a->t, &b->t, "ping");
	test_send(&b->t, &a->t, "ping");
	handshake(a, b);
	handshake(b, a);
	test_send(&a->t, &b->t, "ping");
	test_send(&b->t, &a->t, "ping");
}

/* ---- snapshots: what a failed commit must leave untouched ---- */

/* adversary.h's whole-engine snapshot, and the peer's session slots it does not follow. */
typedef struct csnap {
	struct snap s;
	ss_peer peer;
	ss_session slots[SS_SESSION_SLOTS];
} csnap;

static void csnap_take(csnap *s, const node *n)
{
	const ss_peer *p = n->t.peer;

	snap_take(&s->s, &n->t);
	memcpy(&s->peer, p, sizeof(s->peer));
	if (p->slots)
		memcpy(s->slots, p->slots, sizeof(s->slots));
}

static int slot_of(const ss_peer *p, const ss_session *s)
{
	return s ? (int)(s - p->slots) : -1;
}

/* The fields the issue names, one by one, so a failure reads plainly. */
static void check_sessions(const csnap *s, const ss_peer *p)
{
	assert_ptr_equal(p->slots, s->peer.slots);
	assert_int_equal(slot_of(p, p->current), slot_of(p, s->peer.current));
	assert_int_equal(slot_of(p, p->previous), slot_of(p, s->peer.previous));
	assert_int_equal(slot_of(p, p->next), slot_of(p, s->peer.next));
	for (int i = 0; p->slots && i < SS_SESSION_SLOTS; i++) {
		const ss_session *now = &p->slots[i], *was = &s->slots[i];

		assert_int_equal(now->valid, was->valid);
		assert_int_equal(now->local_index, was->local_index);
		assert_int_equal(now->remote_index, was->remote_index);
		assert_int_equal(now->tx_next, was->tx_next);
		assert_int_equal(now->rx_packets, was->rx_packets);
		assert_int_equal(now->epoch, was->epoch);
	}
	assert_int_equal(p->hs.active, s->peer.hs.active);
	assert_int_equal(p->hs.index, s->peer.hs.index);
	assert_int_equal(p->has_identity, s->peer.has_identity);
	assert_int_equal(p->stats.handshakes_completed, s->peer.stats.handshakes_completed);
	assert_int_equal(p->stats.handshakes_responded, s->peer.stats.handshakes_responded);
	assert_int_equal(p->stats.epoch, s->peer.stats.epoch);
}

/*
 * Then every byte (snap_check), but for drop counters and the load bucket, which a drop
 * may move, and the slots' bytes; frees the snapshot.
 */
static void csnap_check(csnap *s, const node *n)
{
	const ss_peer *p = n->t.peer;

	check_sessions(s, p);
	snap_check(&s->s, &n->t, IGN_LOAD);
	if (p->slots)
		assert_memory_equal(s->slots, p->slots, sizeof(s->slots));
	snap_free(&s->s);
}

/* Staged keys never outlive the call that staged them. */
static void assert_stage_empty(const node *n)
{
	assert_null(EVP_CIPHER_CTX_get0_cipher(n->t.ctx->stage_tx.c));
	assert_null(EVP_CIPHER_CTX_get0_cipher(n->t.ctx->stage_rx.c));
}

/* A RESPONSE whose mac1 checks: the responder got past building it. */
static bool response_built(const node *initiator, const msg *reply)
{
	uint8_t mac[SS_MAC_LEN];

	if (reply->b[0] != SS_MSG_RESPONSE)
		return false;
	assert_int_equal(ss_mac16(mac, initiator->t.ctx->mac1_key_self, SS_HASH_LEN, reply->b,
				  SS_RESP_OFF_MAC1),
			 0);
	return !memcmp(mac, reply->b + SS_RESP_OFF_MAC1, SS_MAC_LEN);
}

enum fault { FAULT_ALLOC, FAULT_RANDOM };

/* Make the k-th OpenSSL allocation (and all after it) or the k-th random draw fail. */
static void fault_arm(node *n, enum fault f, long k)
{
	if (f == FAULT_ALLOC) {
		alloc_refused = 0;
		alloc_left = k;
	} else {
		n->rng.calls = 0;
		n->rng.fail_at = k;
	}
}

/* Whether the fault was reached. */
static bool fault_disarm(node *n, enum fault f, long k)
{
	if (f == FAULT_ALLOC) {
		alloc_left = -1;
		ERR_clear_error();
		return alloc_refused > 0;
	}
	n->rng.fail_at = -1;
	return n->rng.calls > k;
}

/*
 * Inject fault f at k = 0, 1, ... until m goes through without reaching it; every run that
 * reached it must fail and change nothing. Returns how many runs failed; *built tells
 * whether one failed after the RESPONSE was complete (at the staged keys).
 */
static long sweep(node *to, const node *from, const msg *m, msg *reply, enum fault f, bool *built)
{
	*built = false;
	for (long k = 0;; k++) {
		csnap s;
		int ret;

		csnap_take(&s, to);
		memset(reply, 0, sizeof(*reply));
		fault_arm(to, f, k);
		ret = take(to, m, reply);
		if (!fault_disarm(to, f, k)) {
			snap_free(&s.s);
			assert_int_equal(ret, 0);
			return k;
		}
		if (!ret)
			fail_msg("fault %d reached at %ld, yet the packet was accepted", f, k);
		*built |= response_built(from, reply);
		csnap_check(&s, to);
		assert_stage_empty(to);
	}
}

/* Every candidate index is taken: allocation gives up after its retries. */
static void fail_index(node *to, const msg *m, uint32_t taken)
{
	msg reply;
	csnap s;

	csnap_take(&s, to);
	to->rng.fixed = true;
	to->rng.index = taken;
	assert_int_equal(take(to, m, &reply), SS_ERR_FULL);
	to->rng.fixed = false;
	csnap_check(&s, to);
}

/* The INIT from fails at Diffie-Hellman: a low-order ephemeral, signed and mac'd right. */
static void fail_low_order(node *to, node *from)
{
	static const char label[] = SS_LABEL_SIG_INIT;
	uint8_t sigbuf[sizeof(label) - 1 + SS_IDENTITY_LEN + SS_INIT_OFF_SIG];
	msg init, reply;
	csnap s;

	test_advance(&from->t, &to->t, SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
	start_init(&from->t, &init);
	memset(init.b + SS_INIT_OFF_EPHEMERAL, 0, SS_DH_LEN);
	memcpy(sigbuf, label, sizeof(label) - 1);
	memcpy(sigbuf + sizeof(label) - 1, ss_identity_public(to->t.id), SS_IDENTITY_LEN);
	memcpy(sigbuf + sizeof(label) - 1 + SS_IDENTITY_LEN, init.b, SS_INIT_OFF_SIG);
	assert_int_equal(
		ss_identity_sign(from->t.id, sigbuf, sizeof(sigbuf), init.b + SS_INIT_OFF_SIG), 0);
	assert_int_equal(ss_mac16(init.b + SS_INIT_OFF_MAC1, from->t.peer->mac1_key, SS_HASH_LEN,
				  init.b, SS_INIT_OFF_MAC1),
			 0);
	csnap_take(&s, to);
	assert_int_equal(take(to, &init, &reply), SS_ERR_MALFORMED);
	csnap_check(&s, to);
	assert_stage_empty(to);
}

/*
 * b ends with current (its own handshake), previous (a's before it) and next (an INIT of
 * a's it answered, unconfirmed): every slot taken, a's handshake still waiting.
 */
static void fill_slots(node *a, node *b)
{
	msg init, resp;

	handshake(a, b);
	handshake(b, a);
	test_advance(&a->t, &b->t, SS_REKEY_TIMEOUT);
	start_init(&a->t, &init);
	assert_int_equal(take(b, &init, &resp), 0);
	assert_non_null(b->t.peer->current);
	assert_non_null(b->t.peer->previous);
	assert_non_null(b->t.peer->next);
}

/* ---- the responder: consume_init ---- */

static void responder(node *a, node *b)
{
	msg init, resp, ka, none;
	bool built;

	fail_low_order(b, a);
	test_advance(&a->t, &b->t, SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
	start_init(&a->t, &init);
	if (b->t.peer->current)
		fail_index(b, &init, b->t.peer->current->local_index);
	assert_true(sweep(b, a, &init, &resp, FAULT_ALLOC, &built) > 0);
	assert_true(built);
	/* b answered that INIT; a retries with a new one, for the random source to fail. */
	test_advance(&a->t, &b->t, SS_REKEY_TIMEOUT + SS_REKEY_JITTER_MAX);
	start_init(&a->t, &init);
	/* The index, then the ephemeral. */
	assert_int_equal(sweep(b, a, &init, &resp, FAULT_RANDOM, &built), 2);
	assert_int_equal(take(a, &resp, &ka), 0);
	assert_int_equal(take(b, &ka, &none), 0);
	check_works(a, b);
}

/* ---- the initiator: consume_response ---- */

static void initiator(node *a, node *b)
{
	msg init, resp, ka, none;
	bool built;

	/* a's INIT (if fill_slots left one) is no longer fresh, so b's does not cross it. */
	test_advance(&a->t, &b->t, SS_REKEY_TIMEOUT);
	start_init(&b->t, &init);
	assert_int_equal(take(a, &init, &resp), 0);
	assert_true(sweep(b, a, &resp, &ka, FAULT_ALLOC, &built) > 0);
	assert_int_equal(take(a, &ka, &none), 0);
	check_works(a, b);
}

typedef struct scenario {
	bool tofu;     /* b pins a on first use: learning a's identity is part of the commit */
	bool full;     /* b's three slots are taken: current, previous and next */
	bool initiate; /* b initiates (consume_response), else b responds (consume_init) */
} scenario;

static void run(void **state)
{
	const scenario *sc = *state;
	node a, b;

	pair_init(&a, &b, sc->tofu);
	if (sc->full)
		fill_slots(&a, &b);
	else
		assert_null(b.t.peer->slots);
	if (sc->initiate)
		initiator(&a, &b);
	else
		responder(&a, &b);
	assert_true(b.t.peer->has_identity);
	test_pair_free(&a.t, &b.t);
}

/*
 * OpenSSL remembers an algorithm it failed to fetch as unsupported, so every algorithm is
 * fetched once, with allocations granted, before any is refused.
 */
static int warm_up(void **state)
{
	node a, b;

	(void)state;
	pair_init(&a, &b, true);
	handshake(&b, &a);
	check_works(&a, &b);
	test_pair_free(&a.t, &b.t);
	return 0;
}

/*
 * ss_x25519_derive hands back nothing when it fails (issue 13, finding 8): each OpenSSL
 * allocation it makes is refused in turn, and every failed run must leave shared zero.
 */
static void x25519_wipes_on_failure(void **state)
{
	static const uint8_t zero[SS_DH_LEN];
	uint8_t priv[SS_DH_LEN] = {0x77}, pub[SS_DH_LEN], other[SS_DH_LEN] = {0x85};
	uint8_t theirs[SS_DH_LEN], shared[SS_DH_LEN];
	EVP_PKEY *key = NULL;
	long failed = 0;

	(void)state;
	assert_int_equal(ss_x25519_keypair(&key, pub, priv), 0);
	assert_int_equal(ss_x25519_public(theirs, other), 0);
	for (long k = 0;; k++) {
		int ret;

		memset(shared, 0x55, sizeof(shared));
		alloc_refused = 0;
		alloc_left = k;
		ret = ss_x25519_derive(shared, key, theirs);
		alloc_left = -1;
		ERR_clear_error();
		if (!alloc_refused) {
			assert_int_equal(ret, 0);
			break;
		}
		assert_int_not_equal(ret, 0);
		assert_memory_equal(shared, zero, sizeof(shared));
		failed++;
	}
	assert_true(failed > 0);
	EVP_PKEY_free(key);
}

int main(void)
{
	static const scenario responder_first = {0}, responder_full = {.full = true},
			      initiator_tofu = {.tofu = true, .initiate = true},
			      initiator_full = {.full = true, .initiate = true};
	const struct CMUnitTest tests[] = {
		{"responder_first", run, NULL, NULL, (void *)&responder_first},
		{"responder_slots_full", run, NULL, NULL, (void *)&responder_full},
		{"initiator_tofu", run, NULL, NULL, (void *)&initiator_tofu},
		{"initiator_slots_full", run, NULL, NULL, (void *)&initiator_full},
		cmocka_unit_test(x25519_wipes_on_failure),
	};

	/* Before OpenSSL allocates anything, or it keeps its own allocator. */
	if (getenv("NOHOOK"))
		return cmocka_run_group_tests(tests, NULL, NULL);
	if (!CRYPTO_set_mem_functions(t_malloc, t_realloc, t_free))
		return 1;
	return cmocka_run_group_tests(tests, warm_up, NULL);
}
