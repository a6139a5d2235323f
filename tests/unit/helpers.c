/* SPDX-License-Identifier: MIT */
#include "helpers.h"
#include "adversary.h"
#include "drive.h"
#include "pipe.h"

#include <ftw.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/endian.h"
#include "internal.h"

void test_clock_fn(void *arg, ss_time *now)
{
	*now = ((test_clock *)arg)->now;
}

/* SHA-256 in counter mode over a labelled seed: reproducible "randomness". */
int test_rng_fn(void *arg, uint8_t *buf, size_t len)
{
	test_rng *r = arg;

	while (len > 0) {
		uint8_t ctr[8], block[32];
		size_t n = len < sizeof(block) ? len : sizeof(block);

		ss_store_be64(ctr, r->counter++);
		if (ss_sha256(block, r->seed, sizeof(r->seed), ctr, sizeof(ctr), NULL, 0))
			return -1;
		memcpy(buf, block, n);
		buf += n;
		len -= n;
	}
	return 0;
}

uint64_t test_rnd64(test_rng *r)
{
	uint8_t b[8];
	uint64_t v = 0;

	assert_int_equal(test_rng_fn(r, b, sizeof(b)), 0);
	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

void test_rng_init(test_rng *r, const char *label)
{
	assert_int_equal(ss_sha256(r->seed, label, strlen(label), NULL, 0, NULL, 0), 0);
	r->counter = 0;
}

void test_flow_v4(ss_flow *f, uint32_t local, uint16_t lport, uint32_t remote, uint16_t rport,
		  uint8_t proto)
{
	memset(f, 0, sizeof(*f));
	f->local_addr[10] = f->local_addr[11] = 0xff;
	f->remote_addr[10] = f->remote_addr[11] = 0xff;
	ss_store_be32(f->local_addr + 12, local);
	ss_store_be32(f->remote_addr + 12, remote);
	f->local_port = lport;
	f->remote_port = rport;
	f->proto = proto;
}

void test_flow_reverse(ss_flow *out, const ss_flow *in)
{
	ss_flow t = *in;

	memcpy(t.local_addr, in->remote_addr, 16);
	memcpy(t.remote_addr, in->local_addr, 16);
	t.local_port = in->remote_port;
	t.remote_port = in->local_port;
	*out = t;
}

ss_identity *test_identity_seeded(const char *seed_label)
{
	uint8_t seed[SS_SEED_LEN];
	ss_identity *id;

	assert_int_equal(ss_sha256(seed, seed_label, strlen(seed_label), NULL, 0, NULL, 0), 0);
	assert_int_equal(ss_identity_from_seed(&id, seed), 0);
	return id;
}

ss_identity *test_identity(const char *label)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s identity", label);
	return test_identity_seeded(buf);
}

void test_node_start(test_node *n, ss_ctx_config *cfg)
{
	n->clock.now.mono_ns = 1000 * SS_NS_PER_SEC;
	n->clock.now.wall_ns = UINT64_C(1790000000) * SS_NS_PER_SEC;
	cfg->identity = n->id;
	cfg->clock = test_clock_fn;
	cfg->clock_arg = &n->clock;
	if (!cfg->random) {
		cfg->random = test_rng_fn;
		cfg->random_arg = &n->rng;
	}
	assert_int_equal(ss_ctx_create(&n->ctx, cfg), 0);
}

static void node_create(test_node *n, const char *label, uint32_t max_peers, bool accept_anonymous)
{
	ss_ctx_config cfg = {.max_peers = max_peers, .accept_anonymous = accept_anonymous};
	char buf[64];

	memset(n, 0, sizeof(*n));
	n->id = test_identity(label);
	snprintf(buf, sizeof(buf), "%s rng", label);
	test_rng_init(&n->rng, buf);
	test_node_start(n, &cfg);
}

void test_node_init(test_node *n, const char *label, uint32_t max_peers)
{
	node_create(n, label, max_peers, false);
}

void test_node_init_anon(test_node *n, const char *label, bool accept_anonymous)
{
	node_create(n, label, 4, accept_anonymous);
}

void test_node_free(test_node *n)
{
	ss_ctx_free(n->ctx);
	ss_identity_free(n->id);
}

void test_pair_flows(test_node *a, test_node *b)
{
	test_flow_v4(&a->flow, 0x0a000001, 5000, 0x0a000002, 6000, 17);
	test_flow_reverse(&b->flow, &a->flow);
	if (a->peer)
		ss_peer_set_flow(a->peer, &a->flow);
	if (b->peer)
		ss_peer_set_flow(b->peer, &b->flow);
}

void test_pair_link(test_node *a, test_node *b)
{
	assert_int_equal(ss_peer_add(a->ctx, ss_identity_public(b->id), &a->peer), 0);
	assert_int_equal(ss_peer_add(b->ctx, ss_identity_public(a->id), &b->peer), 0);
	test_pair_flows(a, b);
}

void test_pair_init(test_node *a, test_node *b)
{
	test_node_init(a, "alice", 4);
	test_node_init(b, "bob", 4);
	test_pair_link(a, b);
}

void test_pair_free(test_node *a, test_node *b)
{
	test_node_free(a);
	test_node_free(b);
}

int test_pair_setup(void **state)
{
	test_pair *p = calloc(1, sizeof(*p));

	if (!p)
		return -1;
	test_pair_init(&p->a, &p->b);
	*state = p;
	return 0;
}

int test_session_setup(void **state)
{
	int ret = test_pair_setup(state);
	test_pair *p = *state;

	if (ret == 0)
		test_handshake(&p->a, &p->b);
	return ret;
}

int test_pair_teardown(void **state)
{
	test_pair *p = *state;

	test_pair_free(&p->a, &p->b);
	free(p);
	return 0;
}

void test_advance(test_node *a, test_node *b, uint64_t ns)
{
	a->clock.now.mono_ns += ns;
	a->clock.now.wall_ns += ns;
	if (b) {
		b->clock.now.mono_ns += ns;
		b->clock.now.wall_ns += ns;
	}
}

void test_handshake(test_node *a, test_node *b)
{
	struct hs_msgs m;

	handshake_capture(a, b, &m);
}

void test_send(test_node *from, test_node *to, const char *text)
{
	msg m;

	seal_str(from, text, &m);
	open_str(to, &m, text);
}

int consume_on(test_node *n, const ss_flow *f, const msg *in, msg *out, ss_result *res)
{
	int ret = ss_ctx_consume(n->ctx, f, in->b, in->len, out->b, sizeof(out->b), res);

	out->len = ret ? 0 : res->len;
	return ret;
}

int consume(test_node *n, const msg *in, msg *out, ss_result *res)
{
	return consume_on(n, &n->flow, in, out, res);
}

void start_init(test_node *a, msg *init)
{
	enum ss_tick_kind kind;
	ss_flow f;

	ss_peer_want_handshake(a->peer);
	assert_code(ss_peer_tick(a->ctx, a->peer, init->b, sizeof(init->b), &init->len, &f, &kind),
		    0);
	assert_int_equal(kind, SS_TICK_HANDSHAKE);
	assert_int_equal(init->len, SS_INIT_LEN);
	assert_true(ss_flow_equal(&f, &a->flow));
}

void respond(test_node *b, const msg *init, msg *resp)
{
	ss_result res;

	assert_code(consume(b, init, resp, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_REPLY);
	assert_int_equal(res.len, SS_RESP_LEN);
	assert_ptr_equal(res.peer, b->peer);
}

void finish(test_node *a, const msg *resp, msg *ka)
{
	ss_result res;

	assert_code(consume(a, resp, ka, &res), 0);
	assert_true(res.flags & SS_RESULT_F_HANDSHAKE);
	assert_int_equal(res.kind, SS_RESULT_REPLY);
	assert_int_equal(res.len, SS_DATA_OVERHEAD);
}

void confirm(test_node *b, const msg *ka)
{
	ss_result res;
	msg out;

	assert_code(consume(b, ka, &out, &res), 0);
	assert_true(res.flags & SS_RESULT_F_HANDSHAKE);
	assert_true(res.flags & SS_RESULT_F_KEEPALIVE);
}

void handshake_capture(test_node *a, test_node *b, struct hs_msgs *m)
{
	start_init(a, &m->init);
	respond(b, &m->init, &m->resp);
	finish(a, &m->resp, &m->ka);
	confirm(b, &m->ka);
	assert_true(ss_peer_has_session(a->peer));
	assert_true(ss_peer_has_session(b->peer));
}

void seal(test_node *n, const void *pt, size_t len, msg *m)
{
	assert_code(ss_peer_seal(n->ctx, n->peer, pt, len, m->b, sizeof(m->b), &m->len, NULL), 0);
	assert_int_equal(m->len, len + SS_DATA_OVERHEAD);
}

void seal_str(test_node *n, const char *s, msg *m)
{
	seal(n, s, strlen(s), m);
}

void open_ok(test_node *n, const msg *m, const void *pt, size_t len)
{
	ss_result res;
	msg out;

	assert_code(consume(n, m, &out, &res), 0);
	assert_ptr_equal(res.peer, n->peer);
	if (len == 0) {
		assert_int_equal(res.kind, SS_RESULT_NONE);
		assert_true(res.flags & SS_RESULT_F_KEEPALIVE);
	} else {
		assert_int_equal(res.kind, SS_RESULT_DATA);
		assert_int_equal(res.len, len);
		assert_memory_equal(out.b, pt, len);
	}
}

void open_str(test_node *n, const msg *m, const char *s)
{
	open_ok(n, m, s, strlen(s));
}

enum ss_tick_kind tick(test_node *n, msg *m)
{
	enum ss_tick_kind kind;
	ss_flow f;

	assert_code(ss_peer_tick(n->ctx, n->peer, m->b, sizeof(m->b), &m->len, &f, &kind), 0);
	if (kind == SS_TICK_NONE)
		assert_int_equal(m->len, 0);
	else
		assert_true(ss_flow_equal(&f, kind == SS_TICK_HANDSHAKE ? &n->peer->hs.flow
									: &n->peer->current->flow));
	return kind;
}

int total_drops(const ss_ctx *ctx)
{
	ss_ctx_stats cs;
	uint64_t sum = 0;

	ss_ctx_get_stats(ctx, &cs);
	for (int i = 0; i < SS_DROP_COUNT; i++)
		sum += cs.drops[i];
	for (const ss_peer *p = ctx->peers; p; p = p->list_next) {
		ss_peer_stats ps;

		ss_peer_get_stats(p, &ps);
		for (int i = 0; i < SS_DROP_COUNT; i++)
			sum += ps.drops[i];
	}
	return (int)sum;
}

int pipe_read(void *arg, uint8_t *buf, size_t len, size_t *got)
{
	pipe_buf *p = ((pipe_end *)arg)->in;
	size_t n = p->len - p->off;

	*got = 0;
	if (!n)
		return p->eof ? 0 : SS_ERR_AGAIN;
	n = n < len ? n : len;
	memcpy(buf, p->data + p->off, n);
	p->off += n;
	*got = n;
	return 0;
}

void pipe_put(pipe_buf *p, const uint8_t *buf, size_t len)
{
	if (p->len + len > p->cap) {
		p->cap = (p->len + len) * 2 + 64;
		p->data = realloc(p->data, p->cap);
		assert_non_null(p->data);
	}
	if (len)
		memcpy(p->data + p->len, buf, len);
	p->len += len;
}

int pipe_write(void *arg, const uint8_t *buf, size_t len, size_t *put)
{
	pipe_buf *p = ((pipe_end *)arg)->out;
	size_t n = p->limited && p->write_limit < len ? p->write_limit : len;

	*put = 0;
	if (p->limited && !n)
		return SS_ERR_AGAIN;
	pipe_put(p, buf, n);
	if (p->limited)
		p->write_limit -= n;
	*put = n;
	return 0;
}

void pipe_reset(pipe_buf *p)
{
	p->len = p->off = 0;
	p->eof = false;
}

int test_tmpdir_setup(void **state)
{
	char *dir = strdup("/tmp/ss_test_XXXXXX");

	if (!dir || !mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* Depth first, so each directory is empty when its turn comes; links are not followed. */
static void remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int test_tmpdir_teardown(void **state)
{
	remove_tree(*state);
	free(*state);
	return 0;
}

void test_tmp_path(char *out, void **state, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", (const char *)*state, name);
}

void test_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

size_t test_read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	assert_true(fd >= 0);
	while ((n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	assert_true(n == 0);
	buf[len] = '\0';
	close(fd);
	return len;
}

int hex_decode(const char *hex, uint8_t *out, size_t max, size_t *len)
{
	size_t n = 0;

	while (hex[0] && hex[1]) {
		unsigned v;

		if (hex[0] == ' ' || hex[0] == '\n') {
			hex++;
			continue;
		}
		if (n >= max || sscanf(hex, "%2x", &v) != 1)
			return -1;
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	*len = n;
	return 0;
}

void hex_encode(const uint8_t *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
	out[2 * len] = '\0';
}

/* ==== The adversarial suites' harness (adversary.h) ==== */

static uint8_t g_out[SS_MAX_PACKET];
const uint8_t zero_id[SS_IDENTITY_LEN];

/* ---- drop counters ---- */

static void drops_take(struct drops *d, const ss_ctx *ctx)
{
	ss_ctx_stats cs;
	ss_peer_stats ps;

	ss_ctx_get_stats(ctx, &cs);
	memcpy(d->ctx, cs.drops, sizeof(d->ctx));
	d->n = 0;
	for (const ss_peer *p = ctx->peers; p; p = p->list_next) {
		assert_true(d->n < SNAP_MAX);
		ss_peer_get_stats(p, &ps);
		d->ptr[d->n] = p;
		memcpy(d->peer[d->n], ps.drops, sizeof(ps.drops));
		d->n++;
	}
}

/* Exactly one drop counter moved since *before, by one, at code's index. */
static void drops_assert_one(const struct drops *before, const ss_ctx *ctx, int code,
			     const ss_peer **where)
{
	struct drops now;
	int idx = ss_drop_index(code), moved = 0;

	assert_true(idx >= 0);
	drops_take(&now, ctx);
	assert_int_equal(now.n, before->n);
	for (int i = 0; i < SS_DROP_COUNT; i++) {
		if (now.ctx[i] == before->ctx[i])
			continue;
		if (i != idx || now.ctx[i] != before->ctx[i] + 1)
			fail_msg("context drop counter %s moved by %lld (dropped as %s)",
				 ss_err_name(SS_DROP_FIRST - i),
				 (long long)(now.ctx[i] - before->ctx[i]), ss_err_name(code));
		moved++;
		*where = NULL;
	}
	for (size_t p = 0; p < now.n; p++) {
		assert_ptr_equal(now.ptr[p], before->ptr[p]);
		for (int i = 0; i < SS_DROP_COUNT; i++) {
			if (now.peer[p][i] == before->peer[p][i])
				continue;
			if (i != idx || now.peer[p][i] != before->peer[p][i] + 1)
				fail_msg("peer drop counter %s moved by %lld (dropped as %s)",
					 ss_err_name(SS_DROP_FIRST - i),
					 (long long)(now.peer[p][i] - before->peer[p][i]),
					 ss_err_name(code));
			moved++;
			*where = now.ptr[p];
		}
	}
	if (moved != 1)
		fail_msg("%d drop counters moved for %s, want exactly 1", moved, ss_err_name(code));
}

/* ---- whole-state snapshots ---- */

static ss_table_slot *dup_slots(const ss_table *t)
{
	size_t len = ((size_t)t->mask + 1) * sizeof(ss_table_slot);
	ss_table_slot *s = malloc(len);

	assert_non_null(s);
	memcpy(s, t->slots, len);
	return s;
}

void snap_take(struct snap *s, const test_node *n)
{
	const ss_ctx *ctx = n->ctx;

	memcpy(&s->ctx, ctx, sizeof(*ctx));
	s->by_index = dup_slots(&ctx->by_index);
	s->by_identity = dup_slots(&ctx->by_identity);
	s->n = 0;
	for (const ss_peer *p = ctx->peers; p; p = p->list_next) {
		assert_true(s->n < SNAP_MAX);
		s->ptr[s->n] = p;
		memcpy(&s->peer[s->n], p, sizeof(*p));
		s->n++;
	}
}

void snap_free(struct snap *s)
{
	free(s->by_index);
	free(s->by_identity);
}

/* Nothing but counters (and, if asked, load and cookie-secret bookkeeping) changed. */
void snap_check(const struct snap *s, const test_node *n, unsigned ign)
{
	const ss_ctx *ctx = n->ctx;
	ss_ctx c0, c1;
	size_t i = 0;

	memcpy(&c0, &s->ctx, sizeof(c0));
	memcpy(&c1, ctx, sizeof(c1));
	memset(&c0.stats, 0, sizeof(c0.stats));
	memset(&c1.stats, 0, sizeof(c1.stats));
	if (ign & IGN_LOAD) {
		c0.load_tokens_ns = c1.load_tokens_ns = 0;
		c0.load_last_ns = c1.load_last_ns = 0;
	}
	if (ign & IGN_COOKIE_SECRET) {
		memset(c0.cookie_secret, 0, sizeof(c0.cookie_secret));
		memset(c1.cookie_secret, 0, sizeof(c1.cookie_secret));
		c0.cookie_secret_ns = c1.cookie_secret_ns = 0;
		c0.has_cookie_secret = c1.has_cookie_secret = false;
	}
	assert_memory_equal(&c0, &c1, sizeof(c0));
	assert_memory_equal(s->by_index, ctx->by_index.slots,
			    ((size_t)ctx->by_index.mask + 1) * sizeof(ss_table_slot));
	assert_memory_equal(s->by_identity, ctx->by_identity.slots,
			    ((size_t)ctx->by_identity.mask + 1) * sizeof(ss_table_slot));
	for (const ss_peer *p = ctx->peers; p; p = p->list_next, i++) {
		ss_peer p0, p1;

		assert_true(i < s->n);
		assert_ptr_equal(p, s->ptr[i]);
		memcpy(&p0, &s->peer[i], sizeof(p0));
		memcpy(&p1, p, sizeof(p1));
		memset(p0.stats.drops, 0, sizeof(p0.stats.drops));
		memset(p1.stats.drops, 0, sizeof(p1.stats.drops));
		assert_memory_equal(&p0, &p1, sizeof(p0));
	}
	assert_int_equal(i, s->n);
}

/* ---- consuming ---- */

/* Consume a message that must be dropped: no output, one counter. Returns the code. */
int drop_any(test_node *n, const ss_flow *f, const uint8_t *p, size_t len, const ss_peer **where)
{
	const ss_peer *w = NULL;
	struct drops d;
	ss_result res;
	int ret;

	drops_take(&d, n->ctx);
	ret = ss_ctx_consume(n->ctx, f, p, len, g_out, sizeof(g_out), &res);
	if (ret == 0)
		fail_msg("message accepted (kind %d, len %zu), want a drop", (int)res.kind,
			 res.len);
	if (ss_drop_index(ret) < 0)
		fail_msg("got %s (%d), which is not a drop code", ss_err_name(ret), ret);
	assert_int_equal(res.kind, SS_RESULT_NONE);
	assert_int_equal(res.len, 0);
	if (ret != SS_ERR_UNKNOWN_PEER)
		assert_memory_equal(res.identity, zero_id, SS_IDENTITY_LEN);
	drops_assert_one(&d, n->ctx, ret, &w);
	if (where)
		*where = w;
	return ret;
}

void expect_drop(test_node *n, const ss_flow *f, const uint8_t *p, size_t len, int code,
		 const ss_peer *attributed)
{
	const ss_peer *w;

	assert_code(drop_any(n, f, p, len, &w), code);
	assert_ptr_equal(w, attributed);
}

void expect_drop_unchanged(test_node *n, const ss_flow *f, const uint8_t *p, size_t len, int code,
			   const ss_peer *attributed, unsigned ign)
{
	struct snap s;

	snap_take(&s, n);
	expect_drop(n, f, p, len, code, attributed);
	snap_check(&s, n, ign);
	snap_free(&s);
}

/* Under load: the INIT is answered with a COOKIE REPLY, counted as SS_ERR_COOKIE. */
void expect_cookie_reply(test_node *n, const ss_flow *f, const msg *init, msg *out)
{
	ss_ctx_stats before, after;
	const ss_peer *w = NULL;
	struct drops d;
	ss_result res;

	drops_take(&d, n->ctx);
	ss_ctx_get_stats(n->ctx, &before);
	assert_code(consume_on(n, f, init, out, &res), 0);
	assert_int_equal(res.kind, SS_RESULT_REPLY);
	assert_int_equal(res.len, SS_COOKIE_MSG_LEN);
	assert_int_equal(out->b[0], SS_MSG_COOKIE);
	assert_memory_equal(out->b + SS_COOKIE_OFF_RECEIVER, init->b + SS_INIT_OFF_SENDER, 4);
	drops_assert_one(&d, n->ctx, SS_ERR_COOKIE, &w);
	assert_null(w);
	ss_ctx_get_stats(n->ctx, &after);
	assert_int_equal(after.cookies_sent, before.cookies_sent + 1);
}

void restarted_node(test_node *b2, const test_node *b, const test_node *a)
{
	test_node_init(b2, "bob", 4);
	b2->clock = b->clock;
	assert_int_equal(ss_peer_add(b2->ctx, ss_identity_public(a->id), &b2->peer), 0);
	b2->flow = b->flow;
	ss_peer_set_flow(b2->peer, &b2->flow);
}

void cookie_pending(test_node *a, test_node *b, msg *init, msg *cookie)
{
	ss_ctx_set_under_load(b->ctx, true);
	start_init(a, init);
	expect_cookie_reply(b, &b->flow, init, cookie);
}

/* A CONTROL packet with any 24-byte plaintext, authenticated on n's current session. */
void seal_control(test_node *n, const uint8_t pt[SS_CTL_LEN], msg *m)
{
	assert_code(ss_session_seal(n->ctx, n->peer, n->peer->current, SS_MSG_CONTROL, pt,
				    SS_CTL_LEN, m->b, sizeof(m->b), &m->len),
		    0);
}

void forge_echo(test_node *n, uint64_t rx_next, uint64_t rx_packets, msg *m)
{
	uint8_t pt[SS_CTL_LEN] = {SS_CTL_ECHO};

	ss_store_be64(pt + SS_CTL_OFF_RX_NEXT, rx_next);
	ss_store_be64(pt + SS_CTL_OFF_RX_PACKETS, rx_packets);
	seal_control(n, pt, m);
}

/* ---- nodes and forgeries ---- */

/* A (TOFU peer towards B, identity unknown) and B (accepts anonymous INITs, knows A). */
void tofu_pair_init(test_node *a, test_node *b, bool b_accepts_anonymous)
{
	test_node_init_anon(a, "alice", false);
	test_node_init_anon(b, "bob", b_accepts_anonymous);
	assert_int_equal(ss_peer_add(a->ctx, NULL, &a->peer), 0);
	assert_int_equal(ss_peer_add(b->ctx, ss_identity_public(a->id), &b->peer), 0);
	test_pair_flows(a, b);
}

int tofu_setup(void **state)
{
	test_pair *p = calloc(1, sizeof(*p));

	if (!p)
		return -1;
	tofu_pair_init(&p->a, &p->b, true);
	*state = p;
	return 0;
}

/* The identity point (y = 1), of order 1: anyone can sign as it (section 12). */
const uint8_t identity_point[SS_IDENTITY_LEN] = {1};

/*
 * R = the identity, S = 0: under identity_point, [S]B = R + [k]A holds for every
 * message; under the other small-order keys for a fraction of messages.
 */
void universal_sig(uint8_t sig[SS_SIG_LEN])
{
	memset(sig, 0, SS_SIG_LEN);
	sig[0] = 1;
}

/* Recompute mac1 the way anyone can: its key derives from the public R* or I. */
void remac_init(uint8_t *init, const uint8_t *responder)
{
	uint8_t key[SS_HASH_LEN];

	assert_int_equal(ss_mac1_key(key, responder), 0);
	assert_int_equal(
		ss_mac16(init + SS_INIT_OFF_MAC1, key, sizeof(key), init, SS_INIT_OFF_MAC1), 0);
}

void remac_resp(uint8_t *resp, const uint8_t *initiator)
{
	uint8_t key[SS_HASH_LEN];

	assert_int_equal(ss_mac1_key(key, initiator), 0);
	assert_int_equal(
		ss_mac16(resp + SS_RESP_OFF_MAC1, key, sizeof(key), resp, SS_RESP_OFF_MAC1), 0);
}

/*
 * A RESPONSE to init built from section 3.3/3.4 by hand: identity field ident, signed
 * by signer (NULL: the universal signature R = identity, S = 0), fresh ephemeral from
 * label, mac1 for initiator. With ident = signer = the real responder this is a genuine
 * RESPONSE (the tests check that as a control).
 */
void forge_response(msg *m, const uint8_t *init, const uint8_t *ident, const ss_identity *signer,
		    const uint8_t *initiator, const char *label)
{
	static const char lsig[] = SS_LABEL_SIG_RESP, lt[] = SS_LABEL_TRANSCRIPT,
			  lc[] = SS_LABEL_KEY_CONFIRM;
	static const uint8_t zero_nonce[SS_NONCE_LEN];
	uint8_t sigmsg[sizeof(lsig) - 1 + SS_HASH_LEN + SS_RESP_OFF_SIG];
	uint8_t eph[SS_DH_LEN], dh[SS_DH_LEN], th[SS_HASH_LEN], prk[SS_HASH_LEN], kc[SS_KEY_LEN];
	uint8_t *resp = m->b;
	size_t n = sizeof(lsig) - 1;

	assert_int_equal(ss_sha256(eph, label, strlen(label), NULL, 0, NULL, 0), 0);
	resp[0] = SS_MSG_RESPONSE;
	resp[1] = SS_VERSION;
	resp[2] = resp[3] = 0;
	ss_store_be32(resp + SS_RESP_OFF_SENDER, 0x5eed0001);
	memcpy(resp + SS_RESP_OFF_RECEIVER, init + SS_INIT_OFF_SENDER, 4);
	memcpy(resp + SS_RESP_OFF_IDENTITY, ident, SS_IDENTITY_LEN);
	assert_int_equal(ss_x25519_public(resp + SS_RESP_OFF_EPHEMERAL, eph), 0);
	memcpy(sigmsg, lsig, n);
	assert_int_equal(ss_sha256(sigmsg + n, init, SS_INIT_OFF_MAC1, NULL, 0, NULL, 0), 0);
	memcpy(sigmsg + n + SS_HASH_LEN, resp, SS_RESP_OFF_SIG);
	if (signer)
		assert_int_equal(
			ss_identity_sign(signer, sigmsg, sizeof(sigmsg), resp + SS_RESP_OFF_SIG),
			0);
	else
		universal_sig(resp + SS_RESP_OFF_SIG);
	assert_int_equal(ss_x25519(dh, eph, init + SS_INIT_OFF_EPHEMERAL), 0);
	assert_int_equal(ss_sha256(th, lt, sizeof(lt) - 1, init, SS_INIT_OFF_MAC1, resp,
				   SS_RESP_OFF_CONFIRM),
			 0);
	assert_int_equal(ss_hkdf_extract(prk, th, sizeof(th), dh, sizeof(dh)), 0);
	assert_int_equal(ss_hkdf_expand(kc, sizeof(kc), prk, (const uint8_t *)lc, sizeof(lc) - 1),
			 0);
	assert_int_equal(ss_aead_seal_once(kc, zero_nonce, resp, SS_RESP_OFF_CONFIRM, NULL, 0,
					   resp + SS_RESP_OFF_CONFIRM),
			 0);
	remac_resp(resp, initiator);
	m->len = SS_RESP_LEN;
}

/* A COOKIE REPLY for init, boxed under H(LABEL_COOKIE_KEY || key_id) with aad = aad_mac1. */
void forge_cookie(msg *m, const uint8_t *init, const uint8_t *key_id, const uint8_t *aad_mac1)
{
	static const uint8_t cookie[SS_COOKIE_LEN] = {0xc0, 0x0c, 0x1e};
	uint8_t key[SS_HASH_LEN];

	m->b[0] = SS_MSG_COOKIE;
	m->b[1] = SS_VERSION;
	m->b[2] = m->b[3] = 0;
	memcpy(m->b + SS_COOKIE_OFF_RECEIVER, init + SS_INIT_OFF_SENDER, 4);
	memset(m->b + SS_COOKIE_OFF_NONCE, 0x42, SS_NONCE_LEN);
	assert_int_equal(ss_cookie_key(key, key_id), 0);
	assert_int_equal(ss_aead_seal_once(key, m->b + SS_COOKIE_OFF_NONCE, aad_mac1, SS_MAC_LEN,
					   cookie, sizeof(cookie), m->b + SS_COOKIE_OFF_BOX),
			 0);
	m->len = SS_COOKIE_MSG_LEN;
}

void copy_flip(msg *dst, const msg *src, size_t pos, uint8_t mask)
{
	dst->len = src->len;
	memcpy(dst->b, src->b, src->len);
	dst->b[pos] ^= mask;
}

const uint8_t masks[2] = {0x01, 0x80};

bool adv_code_in(int code, const int *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (code == set[i])
			return true;
	return false;
}

/*
 * A packet sent back to its sender: its index is the peer's (UNKNOWN_INDEX). Even an
 * attacker who rewrites it to the sender's own index, or a chance collision, cannot
 * make it open: the two directions use different keys (v1 correction 1).
 */
void reflect_packet(test_node *a, test_node *b, const msg *p)
{
	uint8_t nonce[SS_NONCE_LEN] = {0}, pt[SS_MAX_PACKET];
	ss_session *own = a->peer->current;
	struct snap s;
	msg bad;

	(void)b;
	snap_take(&s, a);
	expect_drop(a, &a->flow, p->b, p->len, SS_ERR_UNKNOWN_INDEX, NULL);
	bad = *p;
	ss_store_be32(bad.b + SS_DATA_OFF_RECEIVER, own->local_index);
	assert_code_in(drop_any(a, &a->flow, bad.b, bad.len, NULL), SS_ERR_DECRYPT, SS_ERR_REPLAY);
	snap_check(&s, a, 0);
	snap_free(&s);
	/* The chance-collision case, exactly: the unchanged header under our receive key. */
	memcpy(nonce + 4, p->b + SS_DATA_OFF_COUNTER, 8);
	assert_code(ss_aead_open(&own->rx, nonce, p->b, SS_DATA_HDR_LEN, p->b + SS_DATA_HDR_LEN,
				 p->len - SS_DATA_OVERHEAD, pt),
		    SS_ERR_DECRYPT);
}

void expect_divergence(test_node *a, test_node *b, const msg *echo)
{
	uint32_t idx = a->peer->current->local_index;
	ss_result res;
	msg out, d;
	int ret;

	ret = ss_ctx_consume(a->ctx, &a->flow, echo->b, echo->len, out.b, sizeof(out.b), &res);
	assert_code(ret, SS_ERR_DIVERGENCE);
	assert_int_equal(res.kind, SS_RESULT_NONE);
	assert_true(res.flags & SS_RESULT_F_REKEY);
	assert_false(ss_peer_has_session(a->peer));
	/* Keys wiped and index released: B's packets on it find nothing. */
	{
		uint32_t slot;

		assert_null(ss_index_lookup(a->ctx, idx, &slot));
	}
	seal_str(b, "on a dead session", &d);
	expect_drop(a, &a->flow, d.b, d.len, SS_ERR_UNKNOWN_INDEX, NULL);
	if (!a->peer->hs.active)
		assert_int_equal(tick(a, &out), SS_TICK_HANDSHAKE);
	assert_true(a->peer->hs.active);
}

void seal_raw_counter(test_node *n, uint64_t counter, msg *m)
{
	ss_session *s = n->peer->current;
	uint8_t nonce[SS_NONCE_LEN] = {0};

	m->b[0] = SS_MSG_DATA;
	m->b[1] = SS_VERSION;
	m->b[2] = m->b[3] = 0;
	ss_store_be32(m->b + SS_DATA_OFF_RECEIVER, s->remote_index);
	ss_store_be64(m->b + SS_DATA_OFF_COUNTER, counter);
	ss_store_be64(nonce + 4, counter);
	m->b[SS_DATA_HDR_LEN] = 'x';
	assert_int_equal(ss_aead_seal(&s->tx, nonce, m->b, SS_DATA_HDR_LEN, m->b + SS_DATA_HDR_LEN,
				      1, m->b + SS_DATA_HDR_LEN),
			 0);
	m->len = SS_DATA_OVERHEAD + 1;
}
