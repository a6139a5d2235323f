/* SPDX-License-Identifier: MIT */
#include "helpers.h"
#include "drive.h"

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

void test_pair_init_oneway(test_node *a, test_node *b)
{
	test_node_init(a, "alice", 4);
	test_node_init(b, "bob", 4);
	assert_int_equal(ss_peer_add(a->ctx, ss_identity_public(b->id), &a->peer), 0);
	test_pair_flows(a, b);
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
