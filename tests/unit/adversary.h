/* SPDX-License-Identifier: MIT */
/*
 * The attacker's tools for the adversarial suites (test_adv_*.c), one per message type,
 * each playing the attacker by hand against two or three deterministic engines:
 * flipping, replaying, reflecting, splicing and forging messages (docs/PROTOCOL.md
 * sections 1.1, 4 and 9). Defined in adversary.c.
 *
 * Conventions:
 *  - expect_drop() / drop_any() check the return code AND that exactly one drop
 *    counter moved, by one, in the right place (peer or context, section 10).
 *  - snap_take() / snap_check() compare the whole engine state (context, index and
 *    identity tables, every peer) before and after a message that must be dropped:
 *    "a dropped message changes no protocol state" (section 4).
 */
#ifndef SS_TEST_ADVERSARY_H
#define SS_TEST_ADVERSARY_H

#include <stdbool.h>

#include "drive.h"
#include "internal.h"

#define SNAP_MAX 8

extern const uint8_t zero_id[SS_IDENTITY_LEN];
/* The identity point (y = 1), of order 1: anyone can sign as it (section 12). */
extern const uint8_t identity_point[SS_IDENTITY_LEN];
/* The bits every tamper test flips, one at a time, in every byte. */
extern const uint8_t masks[2];

struct drops {
	uint64_t ctx[SS_DROP_COUNT];
	size_t n;
	const ss_peer *ptr[SNAP_MAX];
	uint64_t peer[SNAP_MAX][SS_DROP_COUNT];
};

struct snap {
	ss_ctx ctx;
	ss_table_slot *by_index, *by_identity;
	size_t n;
	const ss_peer *ptr[SNAP_MAX];
	ss_peer peer[SNAP_MAX];
};

/* What snap_check may ignore besides the counters. */
enum { IGN_LOAD = 1, IGN_COOKIE_SECRET = 2 };

void snap_take(struct snap *s, const test_node *n);
void snap_free(struct snap *s);
/* Nothing but counters (and, if asked, load and cookie-secret bookkeeping) changed. */
void snap_check(const struct snap *s, const test_node *n, unsigned ign);

/* Consume a message that must be dropped: no output, one counter. Returns the code. */
int drop_any(test_node *n, const ss_flow *f, const uint8_t *p, size_t len, const ss_peer **where);
/* Dropped as code, counted at attributed (NULL: at the context). */
void expect_drop(test_node *n, const ss_flow *f, const uint8_t *p, size_t len, int code,
		 const ss_peer *attributed);
/* expect_drop, and nothing at n changed but what ign allows (snap_check). */
void expect_drop_unchanged(test_node *n, const ss_flow *f, const uint8_t *p, size_t len, int code,
			   const ss_peer *attributed, unsigned ign);
/* Under load: the INIT is answered with a COOKIE REPLY, counted as SS_ERR_COOKIE. */
void expect_cookie_reply(test_node *n, const ss_flow *f, const msg *init, msg *out);

/* b2: B after a restart (same identity, clock and flow, knows A), with no state. */
void restarted_node(test_node *b2, const test_node *b, const test_node *a);
/* B under load answers A's INIT with a COOKIE REPLY (expect_cookie_reply). */
void cookie_pending(test_node *a, test_node *b, msg *init, msg *cookie);
/* Then A takes the COOKIE REPLY and retries: init is its new INIT, carrying a mac2. */
void cookie_retry(test_node *a, test_node *b, msg *init);

/* A CONTROL packet with any 24-byte plaintext, authenticated on n's current session. */
void seal_control(test_node *n, const uint8_t pt[SS_CTL_LEN], msg *m);
void forge_echo(test_node *n, uint64_t rx_next, uint64_t rx_packets, msg *m);
/* A DATA packet "x" with any counter, on n's current session. */
void seal_raw_counter(test_node *n, uint64_t counter, msg *m);

/* A (TOFU peer towards B, identity unknown) and B (accepts anonymous INITs, knows A). */
void tofu_pair_init(test_node *a, test_node *b, bool b_accepts_anonymous);
/* cmocka fixture: a test_pair from tofu_pair_init(a, b, true); test_pair_teardown frees it. */
int tofu_setup(void **state);
#define tofu_test(fn) cmocka_unit_test_setup_teardown(fn, tofu_setup, test_pair_teardown)

/* R = the identity, S = 0: valid under identity_point for every message. */
void universal_sig(uint8_t sig[SS_SIG_LEN]);
/* Recompute mac1 the way anyone can: its key derives from the public R* or I. */
void remac_init(uint8_t *init, const uint8_t *responder);
void remac_resp(uint8_t *resp, const uint8_t *initiator);
/* A RESPONSE to init built by hand (section 3.3/3.4); signer NULL: universal_sig. */
void forge_response(msg *m, const uint8_t *init, const uint8_t *ident, const ss_identity *signer,
		    const uint8_t *initiator, const char *label);
/* A COOKIE REPLY for init, boxed under H(LABEL_COOKIE_KEY || key_id) with aad = aad_mac1. */
void forge_cookie(msg *m, const uint8_t *init, const uint8_t *key_id, const uint8_t *aad_mac1);
void copy_flip(msg *dst, const msg *src, size_t pos, uint8_t mask);
/*
 * Each byte of src in [from, to), with each of masks flipped in turn, given to probe, which
 * must see it dropped at n; after each, nothing at n changed but what ign allows.
 */
typedef void (*flip_probe)(test_node *n, const msg *bad, size_t pos);
void flip_each(test_node *n, const msg *src, size_t from, size_t to, flip_probe probe,
	       unsigned ign);

/* p sent back to its sender a: dropped, also with a's own index (section 4.6). */
void reflect_packet(test_node *a, test_node *b, const msg *p);
/* echo makes a drop its session as diverged and start a new handshake (section 4.5). */
void expect_divergence(test_node *a, test_node *b, const msg *echo);

bool adv_code_in(int code, const int *set, size_t n);

#define assert_code_in(got, ...)                                                                   \
	do {                                                                                       \
		const int set_[] = {__VA_ARGS__};                                                  \
		int g_ = (got);                                                                    \
		if (!adv_code_in(g_, set_, sizeof(set_) / sizeof(set_[0])))                        \
			fail_msg("%s:%d: unexpected %s (%d)", __FILE__, __LINE__, ss_err_name(g_), \
				 g_);                                                              \
	} while (0)

#endif
