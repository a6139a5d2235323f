/* SPDX-License-Identifier: MIT */
/*
 * Secure streams: handshake and peer policies, framing and message boundaries, the
 * seed-002 receive semantics (partial reads, timeouts, integrity failures), half-close,
 * truncation, key updates and non-blocking use.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"
#include "pipe.h"
#include "vecfile.h"

#include "stream/stream.h"

#include "../../src/stream/stream_internal.h"

typedef struct pair {
	ss_identity *ida, *idb, *idc;
	pipe_buf ab, ba;
	pipe_end ea, eb;
	ss_stream *a, *b; /* a initiates */
	test_rng rng;
} pair;

static void cfg_pinned(ss_stream_config *c, const ss_identity *self, const ss_identity *peer,
		       bool initiator)
{
	memset(c, 0, sizeof(*c));
	c->identity = self;
	c->initiator = initiator;
	c->peers = (const uint8_t(*)[SS_IDENTITY_LEN])ss_identity_public(peer);
	c->npeers = 1;
	c->timeout_ms = -1;
}

static void pair_setup(pair *p)
{
	memset(p, 0, sizeof(*p));
	p->ida = test_identity_seeded("stream a");
	p->idb = test_identity_seeded("stream b");
	p->idc = test_identity_seeded("stream c");
	p->ea.in = &p->ba;
	p->ea.out = &p->ab;
	p->eb.in = &p->ab;
	p->eb.out = &p->ba;
}

static void pair_create(pair *p, ss_stream_config *ca, ss_stream_config *cb)
{
	assert_int_equal(ss_stream_new_cb(&p->a, ca, pipe_read, pipe_write, &p->ea), 0);
	assert_int_equal(ss_stream_new_cb(&p->b, cb, pipe_read, pipe_write, &p->eb), 0);
}

/* Drive both handshakes until neither would block; returns a's and b's results. */
static void pair_handshake_rets(pair *p, int *ra, int *rb)
{
	for (int i = 0; i < 10; i++) {
		*ra = ss_stream_handshake(p->a);
		*rb = ss_stream_handshake(p->b);
		if (*ra != SS_ERR_AGAIN && *rb != SS_ERR_AGAIN)
			return;
	}
}

/* a and b, each pinned to the other, with those frame sizes; no handshake yet. */
static void pair_pinned(pair *p, uint32_t frame_a, uint32_t frame_b)
{
	ss_stream_config ca, cb;

	pair_setup(p);
	cfg_pinned(&ca, p->ida, p->idb, true);
	cfg_pinned(&cb, p->idb, p->ida, false);
	ca.max_frame = frame_a;
	cb.max_frame = frame_b;
	pair_create(p, &ca, &cb);
}

static void pair_open(pair *p, uint32_t frame_a, uint32_t frame_b)
{
	int ra, rb;

	pair_pinned(p, frame_a, frame_b);
	pair_handshake_rets(p, &ra, &rb);
	assert_int_equal(ra, 0);
	assert_int_equal(rb, 0);
}

static void pair_free(pair *p)
{
	ss_stream_free(p->a);
	ss_stream_free(p->b);
	ss_identity_free(p->ida);
	ss_identity_free(p->idb);
	ss_identity_free(p->idc);
	free(p->ab.data);
	free(p->ba.data);
}

/* cmocka fixture: *state is a pair opened with pair_open(p, 0, 0). */
static int open_setup(void **state)
{
	pair *p = malloc(sizeof(*p));

	if (!p)
		return -1;
	pair_open(p, 0, 0);
	*state = p;
	return 0;
}

static int open_teardown(void **state)
{
	pair_free(*state);
	free(*state);
	return 0;
}

#define open_test(fn) cmocka_unit_test_setup_teardown(fn, open_setup, open_teardown)

/* ss_stream_recv must return want_ret and deliver exactly want_got bytes. */
static void recv_expect(ss_stream *s, uint8_t *buf, size_t cap, int flags, int want_ret,
			size_t want_got, ss_stream_info *info)
{
	size_t got;

	assert_int_equal(ss_stream_recv(s, buf, cap, &got, info, flags), want_ret);
	assert_int_equal(got, want_got);
}

static void fill_pattern(uint8_t *b, size_t n, uint32_t salt)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 131 + salt + (i >> 9));
}

/* A pair with 1000-byte frames from a, and a's message of n patterned bytes (salt) sent. */
static void pair_open_sent(pair *p, uint8_t *msg, size_t n, uint32_t salt, uint32_t code)
{
	pair_open(p, 1000, 0);
	fill_pattern(msg, n, salt);
	assert_int_equal(ss_stream_send(p->a, code, msg, n, NULL), 0);
}

/* ---- handshake and policies ---- */

static void handshake_pinned(void **state)
{
	pair *p = *state;
	ss_stream_stats st;

	assert_memory_equal(ss_stream_peer_identity(p->a), ss_identity_public(p->idb), 32);
	assert_memory_equal(ss_stream_peer_identity(p->b), ss_identity_public(p->ida), 32);
	assert_false(ss_stream_peer_learned(p->a));
	/* INIT 176, RESPONSE 172, then the initiator's empty confirm frame. */
	ss_stream_get_stats(p->a, &st);
	assert_int_equal(st.wire_sent, SS_INIT_LEN + SS_STREAM_OVERHEAD);
	assert_int_equal(st.wire_received, SS_RESP_LEN);
	assert_int_equal(p->ab.data[0], SS_STREAM_MSG_INIT);
	assert_int_equal(p->ba.data[0], SS_STREAM_MSG_RESPONSE);
}

static void peer_unknown_before_confirm(void **state)
{
	pair p;

	(void)state;
	pair_pinned(&p, 0, 0);
	assert_int_equal(ss_stream_handshake(p.a), SS_ERR_AGAIN); /* INIT sent */
	assert_int_equal(ss_stream_handshake(p.b), SS_ERR_AGAIN); /* RESPONSE sent */
	/* The responder does not name the initiator until the confirm frame proves it. */
	assert_null(ss_stream_peer_identity(p.b));
	assert_int_equal(ss_stream_handshake(p.a), 0);
	assert_non_null(ss_stream_peer_identity(p.a));
	assert_int_equal(ss_stream_handshake(p.b), 0);
	assert_non_null(ss_stream_peer_identity(p.b));
	pair_free(&p);
}

/* Create both ends from ca and cb, run the handshake; each end must end with its code. */
static void pair_handshake_expect(pair *p, ss_stream_config *ca, ss_stream_config *cb, int want_a,
				  int want_b)
{
	int ra, rb;

	pair_create(p, ca, cb);
	pair_handshake_rets(p, &ra, &rb);
	assert_int_equal(ra, want_a);
	assert_int_equal(rb, want_b);
}

/*
 * a accepts a set of two: c and (b_in_set) b or else a stranger; b is pinned to a. The
 * handshake's results must be want_a and want_b.
 */
static void set_handshake(pair *p, uint8_t set[2][SS_IDENTITY_LEN], bool b_in_set, int want_a,
			  int want_b)
{
	ss_stream_config ca, cb;

	pair_setup(p);
	memcpy(set[0], ss_identity_public(p->idc), 32);
	if (b_in_set)
		memcpy(set[1], ss_identity_public(p->idb), 32);
	else
		memset(set[1], 7, 32);
	cfg_pinned(&ca, p->ida, p->idb, true);
	ca.peers = (const uint8_t(*)[SS_IDENTITY_LEN])set;
	ca.npeers = 2;
	cfg_pinned(&cb, p->idb, p->ida, false);
	pair_handshake_expect(p, &ca, &cb, want_a, want_b);
}

static void handshake_allowed_set(void **state)
{
	uint8_t set[2][SS_IDENTITY_LEN];
	pair p;

	(void)state;
	/* A set means an anonymous INIT: mac1 keyed for "any responder". */
	set_handshake(&p, set, true, 0, 0);
	assert_memory_equal(ss_stream_peer_identity(p.a), ss_identity_public(p.idb), 32);
	pair_free(&p);
}

static void handshake_client_wrong_set(void **state)
{
	uint8_t set[2][SS_IDENTITY_LEN];
	pair p;

	(void)state;
	/* never confirmed */
	set_handshake(&p, set, false, SS_ERR_IDENTITY, SS_ERR_AGAIN);
	assert_null(ss_stream_peer_identity(p.a));
	assert_null(ss_stream_peer_identity(p.b));
	/* Fail closed: dead for good. */
	assert_int_equal(ss_stream_handshake(p.a), SS_ERR_IDENTITY);
	assert_int_equal(ss_stream_send(p.a, 1, "x", 1, NULL), SS_ERR_IDENTITY);
	pair_free(&p);
}

static void handshake_client_wrong_pin(void **state)
{
	ss_stream_config ca, cb;
	pair p;

	(void)state;
	pair_setup(&p);
	cfg_pinned(&ca, p.ida, p.idc, true); /* expects c, talks to b */
	cfg_pinned(&cb, p.idb, p.ida, false);
	/* mac1 is keyed to c: b drops the INIT at once. */
	pair_handshake_expect(&p, &ca, &cb, SS_ERR_AGAIN, SS_ERR_MAC1);
	pair_free(&p);
}

static void handshake_server_unknown_client(void **state)
{
	ss_stream_config ca, cb;
	pair p;

	(void)state;
	pair_setup(&p);
	cfg_pinned(&ca, p.ida, p.idb, true);
	cfg_pinned(&cb, p.idb, p.idc, false); /* b only accepts c */
	pair_handshake_expect(&p, &ca, &cb, SS_ERR_AGAIN, SS_ERR_UNKNOWN_PEER);
	assert_int_equal(p.ba.len, 0); /* silent: no RESPONSE */
	pair_free(&p);
}

static void handshake_accept_any(void **state)
{
	ss_stream_config ca, cb;
	pair p;

	(void)state;
	pair_setup(&p);
	cfg_pinned(&ca, p.ida, p.idb, true);
	memset(&cb, 0, sizeof(cb));
	cb.identity = p.idb;
	cb.timeout_ms = -1;
	/* No policy at all is refused... */
	assert_int_equal(ss_stream_new_cb(&p.b, &cb, pipe_read, pipe_write, &p.eb), SS_ERR_INVAL);
	cb.accept_any = true; /* ...unless asked for */
	pair_handshake_expect(&p, &ca, &cb, 0, 0);
	assert_memory_equal(ss_stream_peer_identity(p.b), ss_identity_public(p.ida), 32);
	pair_free(&p);
}

static void handshake_reflection(void **state)
{
	ss_stream_config ca, cb;
	int ra, rb;
	pair p;

	(void)state;
	pair_setup(&p);
	/* Both ends use identity a: a host talking to itself. */
	memset(&ca, 0, sizeof(ca));
	ca.identity = p.ida;
	ca.initiator = true;
	ca.accept_any = true;
	ca.timeout_ms = -1;
	cb = ca;
	cb.initiator = false;
	pair_create(&p, &ca, &cb);
	pair_handshake_rets(&p, &ra, &rb);
	assert_int_equal(rb, SS_ERR_REFLECTION);
	pair_free(&p);
}

static int tofu_run(pair *p, const char *path, const ss_identity *server, bool *learned)
{
	ss_stream_config ca, cb;
	int ra, rb;

	p->ab.len = p->ab.off = p->ba.len = p->ba.off = 0;
	memset(&ca, 0, sizeof(ca));
	ca.identity = p->ida;
	ca.initiator = true;
	ca.known_hosts = path;
	ca.peer_name = "example.org:4000";
	ca.timeout_ms = -1;
	cfg_pinned(&cb, server, p->ida, false);
	pair_create(p, &ca, &cb);
	pair_handshake_rets(p, &ra, &rb);
	*learned = ss_stream_peer_learned(p->a);
	ss_stream_free(p->a);
	ss_stream_free(p->b);
	p->a = p->b = NULL;
	return ra;
}

static void handshake_tofu(void **state)
{
	char path[] = "/tmp/ss-stream-known-XXXXXX", b64[SS_B64_KEY_LEN], line[400];
	bool learned;
	FILE *f;
	pair p;
	int fd;

	(void)state;
	pair_setup(&p);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	assert_int_equal(tofu_run(&p, path, p.idb, &learned), 0);
	assert_true(learned);
	f = fopen(path, "r");
	assert_non_null(f);
	line[fread(line, 1, sizeof(line) - 1, f)] = 0;
	fclose(f);
	ss_key_to_base64(ss_identity_public(p.idb), b64);
	assert_non_null(strstr(line, "example.org:4000"));
	assert_non_null(strstr(line, b64));
	/* Same identity again: accepted, nothing new learned. */
	assert_int_equal(tofu_run(&p, path, p.idb, &learned), 0);
	assert_false(learned);
	/* Another identity at that name: refused. */
	assert_int_equal(tofu_run(&p, path, p.idc, &learned), SS_ERR_IDENTITY);
	assert_false(learned);
	unlink(path);
	pair_free(&p);
}

/* The listener pins its clients by a name the caller gives (cat: the client's address). */
static void handshake_tofu_responder(void **state)
{
	char path[] = "/tmp/ss-stream-known-XXXXXX";
	ss_stream_config ca, cb;
	int ra, rb, fd;
	pair p;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	for (int round = 0; round < 3; round++) {
		pair_setup(&p);
		/* Rounds 0 and 1: client a; round 2: client c at the same name. */
		cfg_pinned(&ca, round == 2 ? p.idc : p.ida, p.idb, true);
		memset(&cb, 0, sizeof(cb));
		cb.identity = p.idb;
		cb.known_hosts = path;
		cb.peer_name = "192.0.2.7";
		cb.timeout_ms = -1;
		pair_create(&p, &ca, &cb);
		pair_handshake_rets(&p, &ra, &rb);
		if (round < 2) {
			assert_int_equal(ra, 0);
			assert_int_equal(rb, 0);
			assert_int_equal(ss_stream_peer_learned(p.b), round == 0);
		} else {
			/* Answered: only its confirm frame proves c holds the key (PROTOCOL 13.2).
			 */
			assert_int_equal(rb, SS_ERR_IDENTITY);
			assert_int_equal(p.ba.len, SS_RESP_LEN);
			assert_null(ss_stream_peer_identity(p.b));
		}
		pair_free(&p);
	}
	unlink(path);
}

/* Both ends on O_NONBLOCK sockets in one thread, as in an event loop. */
static void nonblocking_fds(void **state)
{
	size_t n = 3 << 20, off = 0, sent, got, total = 0;
	uint8_t *msg = malloc(n), *buf = malloc(1 << 20);
	ss_stream_config ca, cb;
	ss_stream_info info;
	ss_stream *a, *b;
	int sv[2], ra, rb, spins = 0;
	pair p;

	(void)state;
	pair_setup(&p);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	cfg_pinned(&ca, p.ida, p.idb, true);
	cfg_pinned(&cb, p.idb, p.ida, false);
	assert_int_equal(ss_stream_new_fd(&a, &ca, sv[0]), 0);
	assert_int_equal(ss_stream_new_fd(&b, &cb, sv[1]), 0);
	do {
		ra = ss_stream_handshake(a);
		rb = ss_stream_handshake(b);
		assert_true(spins++ < 100);
	} while (ra == SS_ERR_AGAIN || rb == SS_ERR_AGAIN);
	assert_int_equal(ra, 0);
	assert_int_equal(rb, 0);
	fill_pattern(msg, n, 33);
	/* 3 MiB cannot fit in the socket buffer: send and receive take turns. */
	while (off < n || ss_stream_want_write(a) || total < n) {
		if (off < n) {
			ra = ss_stream_send(a, 4, msg + off, n - off, &sent);
			assert_true(ra == 0 || ra == SS_ERR_AGAIN);
			off += sent;
		} else if (ss_stream_want_write(a)) {
			ra = ss_stream_flush(a);
			assert_true(ra == 0 || ra == SS_ERR_AGAIN);
		}
		rb = ss_stream_recv(b, buf, 1 << 20, &got, &info, 0);
		assert_true(rb == 0 || rb == SS_ERR_AGAIN);
		assert_memory_equal(buf, msg + total, got);
		total += got;
		assert_true(spins++ < 100000);
	}
	assert_true(info.end);
	assert_int_equal(total, n);
	ss_stream_free(a);
	ss_stream_free(b);
	close(sv[0]);
	close(sv[1]);
	free(msg);
	free(buf);
	pair_free(&p);
}

static void config_checks(void **state)
{
	ss_stream_config c;
	ss_stream *s;
	pair p;

	(void)state;
	pair_setup(&p);
	cfg_pinned(&c, p.ida, p.idb, true);
	c.rekey_frames = 1;
	assert_int_equal(ss_stream_new_cb(&s, &c, pipe_read, pipe_write, &p.ea), SS_ERR_INVAL);
	c.rekey_frames = 0;
	c.max_frame = SS_STREAM_MAX_FRAME + 1;
	assert_int_equal(ss_stream_new_cb(&s, &c, pipe_read, pipe_write, &p.ea), SS_ERR_INVAL);
	c.max_frame = 0;
	c.known_hosts = "/tmp/x"; /* needs a name */
	assert_int_equal(ss_stream_new_cb(&s, &c, pipe_read, pipe_write, &p.ea), SS_ERR_INVAL);
	c.known_hosts = NULL;
	assert_int_equal(ss_stream_new_cb(&s, &c, NULL, pipe_write, &p.ea), SS_ERR_INVAL);
	assert_int_equal(ss_stream_new_fd(&s, &c, -1), SS_ERR_INVAL);
	pair_free(&p);
}

/* ---- framing ---- */

static void small_message(void **state)
{
	pair *p = *state;
	ss_stream_info info;
	uint8_t buf[64];

	assert_int_equal(ss_stream_send(p->a, 0xdeadbeef, "hello", 5, NULL), 0);
	recv_expect(p->b, buf, sizeof(buf), 0, 0, 5, &info);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(info.code, 0xdeadbeef);
	assert_true(info.end);
	assert_false(info.eof);
	/* And the other way. */
	assert_int_equal(ss_stream_send(p->b, 7, "world!", 6, NULL), 0);
	recv_expect(p->a, buf, sizeof(buf), 0, 0, 6, &info);
	assert_int_equal(info.code, 7);
	/* Nothing more: non-blocking transport says so, stream still fine. */
	recv_expect(p->a, buf, sizeof(buf), 0, SS_ERR_AGAIN, 0, &info);
	assert_int_equal(ss_stream_send(p->b, 8, "x", 1, NULL), 0);
	recv_expect(p->a, buf, sizeof(buf), 0, 0, 1, &info);
}

static void frame_wire_size(void **state)
{
	size_t before;
	pair p;

	(void)state;
	pair_open(&p, 1000, 0);
	before = p.ab.len;
	assert_int_equal(ss_stream_send(p.a, 1, (const uint8_t[1000]){0}, 1000, NULL), 0);
	assert_int_equal(p.ab.len - before, 1000 + SS_STREAM_OVERHEAD);
	before = p.ab.len;
	assert_int_equal(ss_stream_send(p.a, 1, (const uint8_t[1001]){0}, 1001, NULL), 0);
	assert_int_equal(p.ab.len - before, 1001 + 2 * SS_STREAM_OVERHEAD);
	before = p.ab.len;
	assert_int_equal(ss_stream_send(p.a, 1, NULL, 0, NULL), 0);
	assert_int_equal(p.ab.len - before, SS_STREAM_OVERHEAD);
	pair_free(&p);
}

static void large_message_reassembled(void **state)
{
	size_t n = 10007;
	ss_stream_info info;
	ss_stream_stats st;
	uint8_t *msg = malloc(n), *buf = malloc(n + 100);
	pair p;

	(void)state;
	pair_open_sent(&p, msg, n, 3, 42);
	recv_expect(p.b, buf, n + 100, SS_STREAM_RECV_ALL, 0, n, &info);
	assert_memory_equal(buf, msg, n);
	assert_int_equal(info.code, 42);
	assert_true(info.end);
	ss_stream_get_stats(p.b, &st);
	assert_int_equal(st.frames_received, 1 + 11); /* confirm + ceil(10007 / 1000) */
	free(msg);
	free(buf);
	pair_free(&p);
}

static void partial_frame_boundary(void **state)
{
	uint8_t msg[3000], buf[3000];
	ss_stream_info info;
	pair p;

	(void)state;
	pair_open_sent(&p, msg, sizeof(msg), 9, 5);
	/* 2500 bytes asked: the last whole frame that fits ends at 2000; not an error. */
	recv_expect(p.b, buf, 2500, SS_STREAM_RECV_ALL, 0, 2000, &info);
	assert_false(info.end);
	assert_int_equal(info.code, 5);
	assert_memory_equal(buf, msg, 2000);
	recv_expect(p.b, buf, 2500, SS_STREAM_RECV_ALL, 0, 1000, &info);
	assert_true(info.end);
	assert_int_equal(info.code, 5);
	assert_memory_equal(buf, msg + 2000, 1000);
	pair_free(&p);
}

static void buffer_too_small(void **state)
{
	uint8_t msg[1000], buf[1000];
	ss_stream_info info;
	pair p;

	(void)state;
	pair_open_sent(&p, msg, sizeof(msg), 1, 5);
	recv_expect(p.b, buf, 999, 0, SS_ERR_BUFFER, 0, &info);
	assert_int_equal(info.need, 1000);
	/* Not fatal, nothing lost. */
	recv_expect(p.b, buf, 1000, 0, 0, 1000, &info);
	assert_memory_equal(buf, msg, 1000);
	pair_free(&p);
}

static void recv_without_all_returns_early(void **state)
{
	uint8_t msg[3000], buf[3000];
	ss_stream_info info;
	pair p;

	(void)state;
	pair_open(&p, 1000, 0);
	fill_pattern(msg, sizeof(msg), 2);
	/* Only the first frame and a half are on the wire so far. */
	p.ab.limited = true;
	p.ab.write_limit = 1000 + SS_STREAM_OVERHEAD + 500;
	assert_int_equal(ss_stream_send(p.a, 5, msg, sizeof(msg), NULL), SS_ERR_AGAIN);
	recv_expect(p.b, buf, sizeof(buf), 0, 0, 1000, &info);
	assert_false(info.end);
	/* With RECV_ALL on a non-blocking transport: what verified, and SS_ERR_AGAIN. */
	recv_expect(p.b, buf, sizeof(buf), SS_STREAM_RECV_ALL, SS_ERR_AGAIN, 0, &info);
	p.ab.limited = false;
	assert_int_equal(ss_stream_flush(p.a), 0);
	assert_int_equal(ss_stream_send(p.a, 5, msg + 2000, 1000, NULL), 0);
	recv_expect(p.b, buf, sizeof(buf), SS_STREAM_RECV_ALL, 0, 2000, &info);
	assert_true(info.end);
	assert_memory_equal(buf, msg + 1000, 2000);
	pair_free(&p);
}

static void messages_not_merged(void **state)
{
	pair *p = *state;
	ss_stream_info info;
	uint8_t buf[100];

	assert_int_equal(ss_stream_send(p->a, 1, "one", 3, NULL), 0);
	assert_int_equal(ss_stream_send(p->a, 2, NULL, 0, NULL), 0);
	assert_int_equal(ss_stream_send(p->a, 3, "three", 5, NULL), 0);
	recv_expect(p->b, buf, sizeof(buf), SS_STREAM_RECV_ALL, 0, 3, &info);
	assert_int_equal(info.code, 1);
	assert_true(info.end);
	/* An empty message is delivered as such. */
	recv_expect(p->b, buf, sizeof(buf), SS_STREAM_RECV_ALL, 0, 0, &info);
	assert_int_equal(info.code, 2);
	assert_true(info.end);
	assert_false(info.eof);
	recv_expect(p->b, buf, sizeof(buf), SS_STREAM_RECV_ALL, 0, 5, &info);
	assert_int_equal(info.code, 3);
}

static void nonblocking_send_resumes(void **state)
{
	size_t n = 50000, sent, total = 0;
	uint8_t *msg = malloc(n), *buf = malloc(n);
	ss_stream_info info;
	int ret, rounds = 0;
	pair p;

	(void)state;
	pair_open(&p, 4096, 0);
	fill_pattern(msg, n, 77);
	p.ab.limited = true;
	do {
		p.ab.write_limit = 3000; /* the transport takes 3000 bytes per round */
		ret = ss_stream_send(p.a, 9, msg + total, n - total, &sent);
		total += sent;
		if (ret == SS_ERR_AGAIN && total < n)
			/* Another code while the message is unfinished is refused. */
			assert_int_equal(ss_stream_send(p.a, 10, msg, 1, &sent), SS_ERR_INVAL);
		rounds++;
	} while (ret == SS_ERR_AGAIN && total < n);
	while (ss_stream_want_write(p.a)) {
		p.ab.write_limit = 3000;
		ret = ss_stream_flush(p.a);
		assert_true(ret == 0 || ret == SS_ERR_AGAIN);
	}
	assert_true(rounds > 10);
	assert_int_equal(total, n);
	recv_expect(p.b, buf, n, SS_STREAM_RECV_ALL, 0, n, &info);
	assert_true(info.end);
	assert_memory_equal(buf, msg, n);
	free(msg);
	free(buf);
	pair_free(&p);
}

/* ---- close, truncation, integrity ---- */

static void close_half(void **state)
{
	pair *p = *state;
	ss_stream_info info;
	uint8_t buf[16];
	size_t got;

	assert_int_equal(ss_stream_send(p->a, 1, "last", 4, NULL), 0);
	assert_int_equal(ss_stream_close(p->a), 0);
	assert_int_equal(ss_stream_send(p->a, 1, "more", 4, NULL), SS_ERR_CLOSED);
	assert_int_equal(ss_stream_close(p->a), 0); /* idempotent */
	recv_expect(p->b, buf, sizeof(buf), 0, 0, 4, &info);
	recv_expect(p->b, buf, sizeof(buf), 0, 0, 0, &info);
	assert_true(info.eof);
	assert_int_equal(ss_stream_recv(p->b, buf, sizeof(buf), &got, &info, 0), 0);
	assert_true(info.eof);
	/* Half-close: b still talks to a. */
	assert_int_equal(ss_stream_send(p->b, 2, "reply", 5, NULL), 0);
	assert_int_equal(ss_stream_close(p->b), 0);
	recv_expect(p->a, buf, sizeof(buf), 0, 0, 5, &info);
	assert_int_equal(ss_stream_recv(p->a, buf, sizeof(buf), &got, &info, 0), 0);
	assert_true(info.eof);
}

static void truncation_detected(void **state)
{
	pair *p = *state;
	ss_stream_info info;
	uint8_t buf[16];
	size_t got;

	assert_int_equal(ss_stream_send(p->a, 1, "data", 4, NULL), 0);
	p->ab.eof = true; /* the transport ends; no close frame */
	recv_expect(p->b, buf, sizeof(buf), 0, 0, 4, &info);
	recv_expect(p->b, buf, sizeof(buf), 0, SS_ERR_TRUNCATED, 0, &info);
	assert_false(info.eof);
	/* Dead for good, also for sending. */
	assert_int_equal(ss_stream_recv(p->b, buf, sizeof(buf), &got, &info, 0), SS_ERR_TRUNCATED);
	assert_int_equal(ss_stream_send(p->b, 1, "x", 1, NULL), SS_ERR_TRUNCATED);
}

static void truncated_handshake(void **state)
{
	pair p;

	(void)state;
	pair_pinned(&p, 0, 0);
	assert_int_equal(ss_stream_handshake(p.a), SS_ERR_AGAIN);
	p.ab.len = 100; /* INIT cut short, then the connection ends */
	p.ab.eof = true;
	assert_int_equal(ss_stream_handshake(p.b), SS_ERR_TRUNCATED);
	assert_null(ss_stream_peer_identity(p.b));
	pair_free(&p);
}

static void integrity_failure_keeps_verified(void **state)
{
	uint8_t msg[5000], buf[5000];
	ss_stream_info info;
	size_t start;
	pair p;

	(void)state;
	pair_open(&p, 1000, 0);
	fill_pattern(msg, sizeof(msg), 5);
	start = p.ab.len;
	assert_int_equal(ss_stream_send(p.a, 5, msg, sizeof(msg), NULL), 0);
	/* Corrupt one payload byte of the third frame. */
	p.ab.data[start + 2 * (1000 + SS_STREAM_OVERHEAD) + SS_STREAM_SEALED_HDR_LEN + 10] ^= 1;
	recv_expect(p.b, buf, sizeof(buf), SS_STREAM_RECV_ALL, SS_ERR_DECRYPT, 2000, &info);
	assert_memory_equal(buf, msg, 2000);
	/* Nothing unauthenticated was left in the buffer either. */
	for (size_t i = 2000; i < 3000; i++)
		assert_int_equal(buf[i], 0);
	recv_expect(p.b, buf, sizeof(buf), 0, SS_ERR_DECRYPT, 0, &info);
	pair_free(&p);
}

static void key_update_epochs(void **state)
{
	ss_stream_config ca, cb;
	ss_stream_stats sa, sb;
	ss_stream_info info;
	uint8_t buf[64];
	size_t got;
	pair p;

	(void)state;
	pair_setup(&p);
	cfg_pinned(&ca, p.ida, p.idb, true);
	cfg_pinned(&cb, p.idb, p.ida, false);
	ca.rekey_frames = 4;
	cb.rekey_frames = 2;
	pair_handshake_expect(&p, &ca, &cb, 0, 0);
	for (uint32_t i = 0; i < 20; i++) {
		char m[16];
		int n = snprintf(m, sizeof(m), "msg %u", i);

		assert_int_equal(ss_stream_send(p.a, i, m, (size_t)n, NULL), 0);
		assert_int_equal(ss_stream_send(p.b, i, m, (size_t)n, NULL), 0);
		recv_expect(p.b, buf, sizeof(buf), 0, 0, (size_t)n, &info);
		assert_memory_equal(buf, m, (size_t)n);
		assert_int_equal(info.code, i);
		assert_int_equal(ss_stream_recv(p.a, buf, sizeof(buf), &got, &info, 0), 0);
		assert_memory_equal(buf, m, got);
	}
	ss_stream_get_stats(p.a, &sa);
	ss_stream_get_stats(p.b, &sb);
	/*
	 * a: seq 1 is the confirm, 4 the KEY_UPDATE: 2 data frames under the first key, 3
	 * under each later one, so 20 messages take 6 updates. b: 1 per key, 19 updates.
	 */
	assert_int_equal(sa.tx_epoch, 6);
	assert_int_equal(sb.rx_epoch, 6);
	assert_int_equal(sb.tx_epoch, 19);
	assert_int_equal(sa.rx_epoch, 19);
	pair_free(&p);
}

/* ---- over a real socket: blocking fd with a timeout (PEER_SLOW) ---- */

typedef struct sock_end {
	int fd;
	size_t write_limit;
} sock_end;

static int sock_write(void *arg, const uint8_t *buf, size_t len, size_t *put)
{
	sock_end *e = arg;
	size_t n = len < e->write_limit ? len : e->write_limit;
	ssize_t w;

	*put = 0;
	if (!n)
		return SS_ERR_AGAIN;
	w = write(e->fd, buf, n);
	if (w < 0)
		return errno == EAGAIN ? SS_ERR_AGAIN : SS_ERR_IO;
	e->write_limit -= (size_t)w;
	*put = (size_t)w;
	return 0;
}

static int sock_read(void *arg, uint8_t *buf, size_t len, size_t *got)
{
	sock_end *e = arg;
	ssize_t r = read(e->fd, buf, len);

	*got = 0;
	if (r < 0)
		return errno == EAGAIN ? SS_ERR_AGAIN : SS_ERR_IO;
	*got = (size_t)r;
	return 0;
}

static void peer_slow_timeout(void **state)
{
	ss_stream_config ca, cb;
	uint8_t msg[3000], buf[3000];
	ss_stream_info info;
	ss_stream *a, *b;
	sock_end eb;
	size_t got;
	pair p;
	int sv[2];

	(void)state;
	pair_setup(&p);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	eb.fd = sv[1];
	eb.write_limit = SIZE_MAX;
	cfg_pinned(&ca, p.ida, p.idb, true);
	ca.timeout_ms = 100;
	cfg_pinned(&cb, p.idb, p.ida, false);
	cb.max_frame = 1000;
	assert_int_equal(ss_stream_new_fd(&a, &ca, sv[0]), 0);
	assert_int_equal(ss_stream_new_cb(&b, &cb, sock_read, sock_write, &eb), 0);
	/* a is blocking with a timeout: a slow handshake is PEER_SLOW and resumable. */
	assert_int_equal(ss_stream_handshake(a), SS_ERR_PEER_SLOW);
	assert_int_equal(ss_stream_handshake(b), SS_ERR_AGAIN);
	assert_int_equal(ss_stream_handshake(a), 0);
	assert_int_equal(ss_stream_handshake(b), 0);

	fill_pattern(msg, sizeof(msg), 11);
	eb.write_limit = 1000 + SS_STREAM_OVERHEAD + 700; /* one frame and a half */
	assert_int_equal(ss_stream_send(b, 3, msg, sizeof(msg), NULL), SS_ERR_AGAIN);
	recv_expect(a, buf, sizeof(buf), SS_STREAM_RECV_ALL, SS_ERR_PEER_SLOW, 1000, &info);
	assert_memory_equal(buf, msg, 1000);
	assert_int_equal(info.code, 3);
	/* Nothing at all within the timeout: PEER_SLOW with nothing. */
	recv_expect(a, buf, sizeof(buf), SS_STREAM_RECV_ALL, SS_ERR_PEER_SLOW, 0, &info);
	/* The stream is still usable: the rest arrives. */
	eb.write_limit = SIZE_MAX;
	assert_int_equal(ss_stream_flush(b), 0);
	assert_int_equal(ss_stream_send(b, 3, msg + 2000, 1000, NULL), 0);
	recv_expect(a, buf, sizeof(buf), SS_STREAM_RECV_ALL, 0, 2000, &info);
	assert_true(info.end);
	assert_memory_equal(buf, msg + 1000, 2000);
	/* The transport closing without a close frame: truncated. */
	close(sv[1]);
	assert_int_equal(ss_stream_recv(a, buf, sizeof(buf), &got, &info, 0), SS_ERR_TRUNCATED);
	ss_stream_free(a);
	ss_stream_free(b);
	close(sv[0]);
	pair_free(&p);
}

/* Blocking fds on both ends, one thread each: a 4 MiB message and back. */
struct thr {
	int fd;
	const ss_identity *self, *peer;
	int ret;
	size_t got;
	uint8_t *buf;
	size_t cap;
};

static void *echo_server(void *arg)
{
	struct thr *t = arg;
	ss_stream_config c;
	ss_stream_info info;
	ss_stream *s;

	cfg_pinned(&c, t->self, t->peer, false);
	c.timeout_ms = 10000;
	t->ret = ss_stream_new_fd(&s, &c, t->fd);
	if (t->ret)
		return NULL;
	t->ret = ss_stream_recv(s, t->buf, t->cap, &t->got, &info, SS_STREAM_RECV_ALL);
	if (!t->ret)
		t->ret = ss_stream_send(s, info.code + 1, t->buf, t->got, NULL);
	if (!t->ret)
		t->ret = ss_stream_close(s);
	ss_stream_free(s);
	return NULL;
}

static void blocking_threads(void **state)
{
	size_t n = 4 << 20, got;
	uint8_t *msg = malloc(n), *back = malloc(n);
	struct thr t = {.buf = malloc(n), .cap = n};
	ss_stream_info info;
	ss_stream_config c;
	pthread_t th;
	ss_stream *a;
	pair p;
	int sv[2];

	(void)state;
	pair_setup(&p);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	t.fd = sv[1];
	t.self = p.idb;
	t.peer = p.ida;
	assert_int_equal(pthread_create(&th, NULL, echo_server, &t), 0);
	cfg_pinned(&c, p.ida, p.idb, true);
	c.timeout_ms = 10000;
	assert_int_equal(ss_stream_new_fd(&a, &c, sv[0]), 0);
	fill_pattern(msg, n, 21);
	assert_int_equal(ss_stream_send(a, 100, msg, n, NULL), 0);
	recv_expect(a, back, n, SS_STREAM_RECV_ALL, 0, n, &info);
	assert_int_equal(info.code, 101);
	assert_memory_equal(back, msg, n);
	assert_int_equal(ss_stream_recv(a, back, n, &got, &info, 0), 0);
	assert_true(info.eof);
	pthread_join(th, NULL);
	assert_int_equal(t.ret, 0);
	ss_stream_free(a);
	close(sv[0]);
	close(sv[1]);
	free(msg);
	free(back);
	free(t.buf);
	pair_free(&p);
}

/* ---- tests/vectors/stream.vec: the library against an independent implementation ---- */

static void stream_vectors(void **state)
{
	static uint8_t expect[4096], wire_k[32], last_update[32];
	const char *dir = getenv("SS_VECTOR_DIR");
	uint8_t msg[100], buf[256];
	size_t elen = 0, n, got, total = 0;
	ss_stream_info info;
	ss_stream_config c;
	char path[512], line[2048];
	int frames = 0, counted = 0;
	ss_stream *s;
	FILE *f;
	pair p;

	(void)state;
	snprintf(path, sizeof(path), "%s/stream.vec", dir ? dir : "tests/vectors");
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *eq = strstr(line, " = ");

		if (line[0] == '#' || !eq)
			continue;
		*eq = 0;
		eq[strcspn(eq + 3, "\n") + 3] = 0;
		if (!strcmp(line, "k_send")) {
			assert_int_equal(hex_decode(eq + 3, wire_k, 32, &n), 0);
		} else if (!strcmp(line, "k_send_after_update")) {
			assert_int_equal(hex_decode(eq + 3, last_update, 32, &n), 0);
		} else if (!strcmp(line, "frames")) {
			frames = atoi(eq + 3);
		} else if (!strncmp(line, "frame", 5) && !strstr(line, "_header")) {
			assert_int_equal(
				hex_decode(eq + 3, expect + elen, sizeof(expect) - elen, &n), 0);
			elen += n;
			counted++;
		}
	}
	fclose(f);
	assert_int_equal(frames, 7);
	assert_int_equal(counted, frames);

	pair_setup(&p);
	cfg_pinned(&c, p.ida, p.idb, true);
	c.max_frame = 64;
	c.rekey_frames = 3;
	assert_int_equal(ss_stream_new_cb(&s, &c, pipe_read, pipe_write, &p.ea), 0);
	assert_int_equal(ss_stream_test_open(s, wire_k, wire_k), 0);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	assert_int_equal(ss_stream_send(s, 0x01020304, "hello, stream", 13, NULL), 0);
	assert_int_equal(ss_stream_send(s, 7, NULL, 0, NULL), 0);
	assert_int_equal(ss_stream_send(s, 9, msg, sizeof(msg), NULL), 0);
	assert_int_equal(ss_stream_close(s), 0);
	assert_int_equal(p.ab.len, elen);
	assert_memory_equal(p.ab.data, expect, elen);
	assert_memory_equal(s->tx_key, last_update, 32);
	ss_stream_free(s);

	/* And the receiving side reads the vector back. */
	assert_int_equal(ss_stream_new_cb(&s, &c, pipe_read, pipe_write, &p.eb), 0);
	assert_int_equal(ss_stream_test_open(s, wire_k, wire_k), 0);
	for (;;) {
		assert_int_equal(ss_stream_recv(s, buf, sizeof(buf), &got, &info, 0), 0);
		if (info.eof)
			break;
		total += got;
	}
	assert_int_equal(total, 13 + 0 + 100);
	ss_stream_free(s);
	pair_free(&p);
}

/* Randomness replayed from the vector file, in the order it is drawn. */
struct rand_queue {
	uint8_t data[64];
	size_t len, off;
};

static int queue_rng(void *arg, uint8_t *buf, size_t len)
{
	struct rand_queue *q = arg;

	assert_true(q->off + len <= q->len);
	memcpy(buf, q->data + q->off, len);
	q->off += len;
	return 0;
}

static void stream_handshake_vector(void **state)
{
	uint8_t seed[32], init[SS_INIT_LEN], resp[SS_RESP_LEN], ki2r[32], kr2i[32], conf[48];
	struct rand_queue qa = {0}, qb = {0};
	ss_stream_config ca, cb;
	char num[32];
	uint64_t ts;
	size_t n;
	pair p;

	(void)state;
	pair_setup(&p);
	ss_identity_free(p.ida);
	ss_identity_free(p.idb);
	vec_pinned_bytes("stream.vec", "hs_initiator_seed", seed, 32, &n);
	assert_int_equal(ss_identity_from_seed(&p.ida, seed), 0);
	vec_pinned_bytes("stream.vec", "hs_responder_seed", seed, 32, &n);
	assert_int_equal(ss_identity_from_seed(&p.idb, seed), 0);
	vec_pinned_value("stream.vec", "hs_timestamp", num, sizeof(num));
	ts = strtoull(num, NULL, 10);
	vec_pinned_bytes("stream.vec", "hs_rand_initiator", qa.data, sizeof(qa.data), &qa.len);
	vec_pinned_bytes("stream.vec", "hs_rand_responder", qb.data, sizeof(qb.data), &qb.len);
	vec_pinned_bytes("stream.vec", "hs_init", init, sizeof(init), &n);
	assert_int_equal(n, SS_INIT_LEN);
	vec_pinned_bytes("stream.vec", "hs_response", resp, sizeof(resp), &n);
	assert_int_equal(n, SS_RESP_LEN);
	vec_pinned_bytes("stream.vec", "hs_k_i2r", ki2r, 32, &n);
	vec_pinned_bytes("stream.vec", "hs_k_r2i", kr2i, 32, &n);
	vec_pinned_bytes("stream.vec", "hs_confirm_frame", conf, sizeof(conf), &n);
	assert_int_equal(n, 48);

	cfg_pinned(&ca, p.ida, p.idb, true);
	ca.random = queue_rng;
	ca.random_arg = &qa;
	ca.timestamp_ns = ts;
	cfg_pinned(&cb, p.idb, p.ida, false);
	cb.random = queue_rng;
	cb.random_arg = &qb;
	pair_handshake_expect(&p, &ca, &cb, 0, 0);
	assert_int_equal(p.ab.len, SS_INIT_LEN + 48);
	assert_memory_equal(p.ab.data, init, SS_INIT_LEN);
	assert_memory_equal(p.ab.data + SS_INIT_LEN, conf, 48);
	assert_int_equal(p.ba.len, SS_RESP_LEN);
	assert_memory_equal(p.ba.data, resp, SS_RESP_LEN);
	assert_memory_equal(p.a->tx_key, ki2r, 32);
	assert_memory_equal(p.a->rx_key, kr2i, 32);
	assert_memory_equal(p.b->tx_key, kr2i, 32);
	assert_memory_equal(p.b->rx_key, ki2r, 32);
	pair_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		open_test(handshake_pinned),
		cmocka_unit_test(peer_unknown_before_confirm),
		cmocka_unit_test(handshake_allowed_set),
		cmocka_unit_test(handshake_client_wrong_set),
		cmocka_unit_test(handshake_client_wrong_pin),
		cmocka_unit_test(handshake_server_unknown_client),
		cmocka_unit_test(handshake_accept_any),
		cmocka_unit_test(handshake_reflection),
		cmocka_unit_test(handshake_tofu),
		cmocka_unit_test(handshake_tofu_responder),
		cmocka_unit_test(nonblocking_fds),
		cmocka_unit_test(config_checks),
		open_test(small_message),
		cmocka_unit_test(frame_wire_size),
		cmocka_unit_test(large_message_reassembled),
		cmocka_unit_test(partial_frame_boundary),
		cmocka_unit_test(buffer_too_small),
		cmocka_unit_test(recv_without_all_returns_early),
		open_test(messages_not_merged),
		cmocka_unit_test(nonblocking_send_resumes),
		open_test(close_half),
		open_test(truncation_detected),
		cmocka_unit_test(truncated_handshake),
		cmocka_unit_test(integrity_failure_keeps_verified),
		cmocka_unit_test(key_update_epochs),
		cmocka_unit_test(peer_slow_timeout),
		cmocka_unit_test(blocking_threads),
		cmocka_unit_test(stream_vectors),
		cmocka_unit_test(stream_handshake_vector),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
