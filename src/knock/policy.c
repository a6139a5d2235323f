/* SPDX-License-Identifier: MIT */
/*
 * Server-side state of knock validation: per-source rate limiting before any crypto,
 * and the replay cache after it. Both are fixed-size: an attacker can fill them but
 * never grow them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <silosec/error.h>
#include "knock/knock.h"

#include "common/crypto.h"
#include "common/endian.h"
#include "common/ratelimit.h"

/*
 * ---- rate limit: the one per-source limiter (common/ratelimit.h): an IPv4 address or an
 * IPv6 /64 is one source, with a token bucket in a fixed table ----
 */
struct ss_knock_ratelimit {
	ss_rl *rl;
};

int ss_knock_ratelimit_new(ss_knock_ratelimit **out, uint32_t slots, uint32_t rate, uint32_t burst,
			   uint64_t seed)
{
	/* The seed comes from the daemon's randomness; spread over the mixer's two words. */
	ss_mix_key key = {{seed, ss_mix64(seed ^ UINT64_C(0x6b6e6f636b726c31))}};
	ss_knock_ratelimit *r;
	int ret;

	if (!out || !rate || !burst || slots > SS_RL_MAX_SLOTS)
		return SS_ERR_INVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return SS_ERR_NOMEM;
	ret = ss_rl_create(&r->rl, slots, rate, burst, &key);
	if (ret)
		free(r);
	else
		*out = r;
	return ret;
}

void ss_knock_ratelimit_free(ss_knock_ratelimit *r)
{
	if (!r)
		return;
	ss_rl_free(r->rl);
	free(r);
}

int ss_knock_ratelimit_check(ss_knock_ratelimit *r, int family, const uint8_t *addr,
			     uint64_t now_ns)
{
	ss_rl_key key;

	if (ss_rl_key_ip(&key, family, addr) || !ss_rl_ready(r->rl, &key, now_ns))
		return SS_ERR_KNOCK_RATE;
	return 0;
}

int ss_knock_ratelimit_take(ss_knock_ratelimit *r, int family, const uint8_t *addr, uint64_t now_ns)
{
	ss_rl_key key;

	if (ss_rl_key_ip(&key, family, addr) || !ss_rl_allow(r->rl, &key, now_ns))
		return SS_ERR_KNOCK_RATE;
	return 0;
}

/* ---- replay cache ---- */
#define RP_MAGIC "SSKNOCK1"
#define RP_MAGIC_LEN 8
#define RP_REC_LEN (SS_KNOCK_CHALLENGE_LEN + 8)
#define RP_MAX_CAPACITY (1u << 20)

struct rp_entry {
	uint8_t ch[SS_KNOCK_CHALLENGE_LEN];
	uint64_t expires_ms; /* 0 = never used; <= now = expired, slot reusable */
};

/*
 * Open addressing with linear probing over 2x capacity slots, indexed by challenge
 * bytes (random, and only inserted after the client's signature verified). Expired
 * entries keep chains intact and are reused in place; when too many slots are non-empty
 * the table is rebuilt with the live entries only.
 */
struct ss_knock_replay {
	struct rp_entry *e;
	uint32_t cap;  /* live entries allowed */
	uint32_t mask; /* slots - 1 */
	uint32_t used; /* non-empty slots */
	char *path;
	int fd;		    /* the file, open for appending; -1 without a path */
	uint32_t file_recs; /* records in the file, live or not */
};

static uint32_t rp_hash(const ss_knock_replay *r, const uint8_t ch[SS_KNOCK_CHALLENGE_LEN])
{
	return ss_load_be32(ch) & r->mask;
}

/* Slot holding ch (live), else NULL; *reuse receives the first reusable slot seen. */
static struct rp_entry *rp_find(const ss_knock_replay *r, const uint8_t ch[SS_KNOCK_CHALLENGE_LEN],
				uint64_t now_ms, struct rp_entry **reuse)
{
	uint32_t i = rp_hash(r, ch);

	*reuse = NULL;
	for (uint32_t n = 0; n <= r->mask; n++, i = (i + 1) & r->mask) {
		struct rp_entry *e = &r->e[i];

		if (!e->expires_ms) {
			if (!*reuse)
				*reuse = e;
			return NULL;
		}
		if (e->expires_ms <= now_ms) {
			if (!*reuse)
				*reuse = e;
			continue;
		}
		if (ss_ct_equal(e->ch, ch, SS_KNOCK_CHALLENGE_LEN))
			return e;
	}
	return NULL;
}

static uint32_t rp_live(const ss_knock_replay *r, uint64_t now_ms)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i <= r->mask; i++)
		n += r->e[i].expires_ms > now_ms;
	return n;
}

/* Rehash the live entries into a clean table. */
static int rp_rebuild(ss_knock_replay *r, uint64_t now_ms)
{
	struct rp_entry *old = r->e, *reuse;

	r->e = calloc((size_t)r->mask + 1, sizeof(*r->e));
	if (!r->e) {
		r->e = old;
		return SS_ERR_NOMEM;
	}
	r->used = 0;
	for (uint32_t i = 0; i <= r->mask; i++) {
		if (old[i].expires_ms <= now_ms)
			continue;
		(void)rp_find(r, old[i].ch, now_ms, &reuse);
		*reuse = old[i];
		r->used++;
	}
	free(old);
	return 0;
}

static int rp_insert(ss_knock_replay *r, const uint8_t ch[SS_KNOCK_CHALLENGE_LEN],
		     uint64_t expires_ms, uint64_t now_ms)
{
	struct rp_entry *reuse;
	int ret;

	if (r->used >= r->cap + r->cap / 2) {
		ret = rp_rebuild(r, now_ms);
		if (ret)
			return ret;
	}
	if (rp_find(r, ch, now_ms, &reuse))
		return SS_ERR_KNOCK_REPLAY;
	if (r->used >= r->cap && rp_live(r, now_ms) >= r->cap)
		return SS_ERR_KNOCK_REPLAY_FULL;
	if (!reuse)
		return SS_ERR_KNOCK_REPLAY_FULL;
	if (!reuse->expires_ms)
		r->used++;
	memcpy(reuse->ch, ch, SS_KNOCK_CHALLENGE_LEN);
	reuse->expires_ms = expires_ms;
	return 0;
}

static int rp_load(ss_knock_replay *r, uint64_t now_ms)
{
	uint8_t hdr[RP_MAGIC_LEN], rec[RP_REC_LEN];
	uint32_t n = 0;
	ssize_t got;

	(void)n;
	int fd, ret = 0;

	fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : SS_ERR_IO;
	got = read(fd, hdr, sizeof(hdr));
	if (got == 0)
		goto out; /* empty file: nothing recorded */
	if (got != (ssize_t)sizeof(hdr) || memcmp(hdr, RP_MAGIC, RP_MAGIC_LEN)) {
		ret = SS_ERR_FORMAT;
		goto out;
	}
	while ((got = read(fd, rec, sizeof(rec))) == (ssize_t)sizeof(rec)) {
		uint64_t exp = ss_load_be64(rec + SS_KNOCK_CHALLENGE_LEN);

		if (exp <= now_ms)
			continue;
		ret = rp_insert(r, rec, exp, now_ms);
		if (ret == SS_ERR_KNOCK_REPLAY) { /* appended twice before a compaction */
			ret = 0;
			continue;
		}
		/* More live entries than we now hold: refuse to start rather than forget any. */
		if (ret == SS_ERR_KNOCK_REPLAY_FULL)
			ret = SS_ERR_FULL;
		if (ret)
			goto out;
		n++;
	}
	/*
	 * A short last record is an append cut by a crash: its knock never got past the
	 * replay step (the action runs only after the append is synced), so it is dropped.
	 */
	if (got < 0)
		ret = SS_ERR_IO;
out:
	close(fd);
	return ret;
}

/* The rename is durable only once the directory entry is on disk. */
static int sync_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, ret = 0;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return SS_ERR_IO;
	if (fsync(fd) != 0)
		ret = SS_ERR_IO;
	close(fd);
	return ret;
}

static int rp_save(ss_knock_replay *r, uint64_t now_ms)
{
	char tmp[PATH_MAX];
	uint8_t rec[RP_REC_LEN];
	FILE *f;
	int fd, ret = SS_ERR_IO;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", r->path) >= sizeof(tmp))
		return SS_ERR_INVAL;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return SS_ERR_IO;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		goto out;
	}
	if (fwrite(RP_MAGIC, 1, RP_MAGIC_LEN, f) != RP_MAGIC_LEN)
		goto close;
	for (uint32_t i = 0; i <= r->mask; i++) {
		if (r->e[i].expires_ms <= now_ms)
			continue;
		memcpy(rec, r->e[i].ch, SS_KNOCK_CHALLENGE_LEN);
		ss_store_be64(rec + SS_KNOCK_CHALLENGE_LEN, r->e[i].expires_ms);
		if (fwrite(rec, 1, sizeof(rec), f) != sizeof(rec))
			goto close;
	}
	/* The new file must be on disk before it replaces the old one. */
	if (fflush(f) == 0 && fsync(fd) == 0)
		ret = 0;
close:
	if (fclose(f) != 0)
		ret = SS_ERR_IO;
	if (!ret && rename(tmp, r->path) != 0)
		ret = SS_ERR_IO;
	if (!ret)
		ret = sync_dir(r->path);
	if (!ret) {
		/* Later knocks are appended to the new file. */
		if (r->fd >= 0)
			close(r->fd);
		r->fd = open(r->path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
		if (r->fd < 0)
			ret = SS_ERR_IO;
		r->file_recs = rp_live(r, now_ms);
	}
out:
	if (ret)
		unlink(tmp);
	return ret;
}

int ss_knock_replay_new(ss_knock_replay **out, uint32_t capacity, const char *path, uint64_t now_ms)
{
	ss_knock_replay *r;
	int ret = 0;

	if (!out || !capacity || capacity > RP_MAX_CAPACITY)
		return SS_ERR_INVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return SS_ERR_NOMEM;
	r->cap = capacity;
	r->fd = -1;
	r->mask = 1;
	while (r->mask + 1 < 2 * capacity)
		r->mask = r->mask << 1 | 1;
	r->e = calloc((size_t)r->mask + 1, sizeof(*r->e));
	if (!r->e) {
		free(r);
		return SS_ERR_NOMEM;
	}
	if (path) {
		r->path = strdup(path);
		if (!r->path) {
			ss_knock_replay_free(r);
			return SS_ERR_NOMEM;
		}
		ret = rp_load(r, now_ms);
		/* Start from a compact file holding the live entries only. */
		if (!ret)
			ret = rp_save(r, now_ms);
	}
	if (ret)
		ss_knock_replay_free(r);
	else
		*out = r;
	return ret;
}

void ss_knock_replay_free(ss_knock_replay *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->e);
	free(r->path);
	free(r);
}

int ss_knock_replay_check(const ss_knock_replay *r, const uint8_t ch[SS_KNOCK_CHALLENGE_LEN],
			  uint64_t now_ms)
{
	struct rp_entry *reuse;

	if (rp_find(r, ch, now_ms, &reuse))
		return SS_ERR_KNOCK_REPLAY;
	if (r->used >= r->cap && rp_live(r, now_ms) >= r->cap)
		return SS_ERR_KNOCK_REPLAY_FULL;
	return 0;
}

int ss_knock_replay_add(ss_knock_replay *r, const uint8_t ch[SS_KNOCK_CHALLENGE_LEN],
			uint64_t expires_ms, uint64_t now_ms)
{
	uint8_t rec[RP_REC_LEN];
	int ret = rp_insert(r, ch, expires_ms, now_ms);

	if (ret || !r->path)
		return ret;
	/* Rewrite the file once appends have doubled it; else append one record. */
	if (r->file_recs >= 2 * r->cap)
		return rp_save(r, now_ms);
	memcpy(rec, ch, SS_KNOCK_CHALLENGE_LEN);
	ss_store_be64(rec + SS_KNOCK_CHALLENGE_LEN, expires_ms);
	/* On disk before the caller acts on the knock: a crash cannot reopen a replay. */
	if (write(r->fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec) || fdatasync(r->fd) != 0)
		return SS_ERR_IO;
	r->file_recs++;
	return 0;
}

uint32_t ss_knock_replay_count(const ss_knock_replay *r)
{
	uint32_t n = 0;

	/* Every recorded entry, expired or not, until a rebuild drops it. */
	for (uint32_t i = 0; i <= r->mask; i++)
		n += r->e[i].expires_ms != 0;
	return n;
}
