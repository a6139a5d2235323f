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
#include <silosec/knock.h>

#include "common/crypto.h"
#include "common/endian.h"

/* ---- rate limit: GCRA (a token bucket kept as one timestamp) in a 4-way set cache ---- */
#define RL_WAYS 4
#define RL_MAX_SLOTS (1u << 22)

struct rl_slot {
	uint64_t key[2];
	uint64_t tat; /* theoretical arrival time; 0 = empty */
};

struct ss_knock_ratelimit {
	struct rl_slot *slots;
	uint32_t mask; /* of set indices */
	uint64_t interval_ns, tolerance_ns, seed;
};

int ss_knock_ratelimit_new(ss_knock_ratelimit **out, uint32_t slots, uint32_t rate, uint32_t burst,
			   uint64_t seed)
{
	ss_knock_ratelimit *r;
	uint32_t n = RL_WAYS;

	if (!out || !rate || !burst || slots > RL_MAX_SLOTS)
		return SS_ERR_INVAL;
	while (n < slots)
		n <<= 1;
	r = calloc(1, sizeof(*r));
	if (!r)
		return SS_ERR_NOMEM;
	r->slots = calloc(n, sizeof(*r->slots));
	if (!r->slots) {
		free(r);
		return SS_ERR_NOMEM;
	}
	r->mask = n / RL_WAYS - 1;
	r->interval_ns = 1000000000ull / rate;
	r->tolerance_ns = r->interval_ns * (burst - 1);
	r->seed = seed;
	*out = r;
	return 0;
}

void ss_knock_ratelimit_free(ss_knock_ratelimit *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r);
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static int source_key(int family, const uint8_t *addr, uint64_t key[2])
{
	/* An IPv6 host usually owns a whole /64: limiting per address would be no limit. */
	if (family == AF_INET) {
		key[0] = 0x400000000ull | ss_load_be32(addr);
		key[1] = 0;
	} else if (family == AF_INET6) {
		key[0] = ss_load_be64(addr);
		key[1] = 6;
	} else {
		return SS_ERR_KNOCK_RATE;
	}
	return 0;
}

/* The source's slot, or NULL if it has none and create is false. */
static struct rl_slot *lookup(ss_knock_ratelimit *r, const uint64_t key[2], bool create)
{
	/* Keyed with a secret seed so an outsider cannot aim many sources at one set. */
	uint64_t h = mix(key[0] ^ r->seed) ^ mix(key[1] + (r->seed << 1 | 1));
	struct rl_slot *set = &r->slots[(h & r->mask) * RL_WAYS], *victim;

	for (int i = 0; i < RL_WAYS; i++)
		if (set[i].tat && set[i].key[0] == key[0] && set[i].key[1] == key[1])
			return &set[i];
	if (!create)
		return NULL;
	/* New source: take an empty slot or the one whose bucket refilled longest ago. */
	victim = &set[0];
	for (int i = 1; i < RL_WAYS; i++)
		if (set[i].tat < victim->tat)
			victim = &set[i];
	victim->key[0] = key[0];
	victim->key[1] = key[1];
	victim->tat = 0;
	return victim;
}

int ss_knock_ratelimit_check(ss_knock_ratelimit *r, int family, const uint8_t *addr,
			     uint64_t now_ns)
{
	uint64_t key[2];
	struct rl_slot *s;

	if (source_key(family, addr, key))
		return SS_ERR_KNOCK_RATE;
	s = lookup(r, key, false);
	now_ns += 1; /* 0 marks an empty slot */
	if (s && s->tat > now_ns && s->tat - now_ns > r->tolerance_ns)
		return SS_ERR_KNOCK_RATE;
	return 0;
}

int ss_knock_ratelimit_take(ss_knock_ratelimit *r, int family, const uint8_t *addr, uint64_t now_ns)
{
	uint64_t key[2], tat;
	struct rl_slot *s;

	if (source_key(family, addr, key))
		return SS_ERR_KNOCK_RATE;
	s = lookup(r, key, true);
	now_ns += 1; /* 0 marks an empty slot */
	tat = s->tat > now_ns ? s->tat : now_ns;
	if (tat - now_ns > r->tolerance_ns)
		return SS_ERR_KNOCK_RATE;
	s->tat = tat + r->interval_ns;
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
	int ret;

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
		if (ret) {
			ss_knock_replay_free(r);
			return ret;
		}
	}
	*out = r;
	return 0;
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
