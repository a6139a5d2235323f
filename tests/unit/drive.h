/* SPDX-License-Identifier: MIT */
/*
 * Handshake-driving steps shared by the core suites (session, handshake, adversarial):
 * each step drives one message through a test_node and asserts it was accepted the
 * way the protocol says. Defined in drive.c.
 */
#ifndef SS_TEST_DRIVE_H
#define SS_TEST_DRIVE_H

#include <stdbool.h>

#include "helpers.h"

#define assert_code(got, want)                                                                     \
	do {                                                                                       \
		int g_ = (got), w_ = (want);                                                       \
		if (g_ != w_)                                                                      \
			fail_msg("%s:%d: got %s (%d), want %s (%d)", __FILE__, __LINE__,           \
				 ss_err_name(g_), g_, ss_err_name(w_), w_);                        \
	} while (0)

typedef struct msg {
	size_t len;
	uint8_t b[SS_MAX_PACKET];
} msg;

struct hs_msgs {
	msg init, resp, ka;
};

/* ss_ctx_consume of in at n, arriving on n's own flow (consume) or on f (consume_on). */
int consume(test_node *n, const msg *in, msg *out, ss_result *res);
int consume_on(test_node *n, const ss_flow *f, const msg *in, msg *out, ss_result *res);

/* a's INIT, b's RESPONSE to it, a's confirming keepalive, b's acceptance of that. */
void start_init(test_node *a, msg *init);
void respond(test_node *b, const msg *init, msg *resp);
void finish(test_node *a, const msg *resp, msg *ka);
void confirm(test_node *b, const msg *ka);
/* The last three steps: b answers a's init, a confirms, b accepts the confirmation. */
void complete(test_node *a, test_node *b, const msg *init);
/* The four steps above, keeping the messages for replays. */
void handshake_capture(test_node *a, test_node *b, struct hs_msgs *m);

void seal(test_node *n, const void *pt, size_t len, msg *m);
void seal_str(test_node *n, const char *s, msg *m);
/* m must open at n (on n's flow) and deliver exactly pt; len 0 is a keepalive. */
void open_ok(test_node *n, const msg *m, const void *pt, size_t len);
void open_str(test_node *n, const msg *m, const char *s);
/* ss_peer_tick; a packet it returns goes out on the flow of the handshake or session. */
enum ss_tick_kind tick(test_node *n, msg *m);

/* Every drop counter of ctx and of its peers, summed. */
int total_drops(const ss_ctx *ctx);

#endif
