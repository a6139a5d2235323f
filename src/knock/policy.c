/* SPDX-License-Identifier: MIT */
/*
 * Server-side state of knock validation: per-source rate limiting before any crypto,
 * and the replay cache after it. Both are fixed-size: an attacker can fill them but
 * never grow them.
 */
#include <errno.h>
#include <stdbool.h>
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
#define RP_MAGIC_V1 "SSKNOCK1" /* records only */
#define RP_MAGIC "SSKNOCK2"    /* then the floor (be64), then records */
#define RP_MAGIC_LEN 8
#define RP_REC_LEN (SS_KNOCK_CHALLENGE_LEN + 8)
#define RP_MAX_CAPACITY (1u << 20)
#define RP_NS_PER_MS 1000000ull

/*
 * An entry lives until its knock's window has passed on the wall clock (expires_ms, the
 * persisted value) and its lifetime has passed on the monotonic clock (mono_ns): a wall
 * clock stepped forward cannot end it early, one stepped back cannot end it either.
 */
struct rp_entry {
	uint8_t ch[SS_KNOCK_CHALLENGE_LEN];
	uint64_t expires_ms; /* 0 = never used */
	uint64_t mono_ns;
};

/*
 * Open addressing with linear probing over 2x capacity slots, indexed by challenge
 * bytes (random, and only inserted after the client's signature verified). Entries that
 * have gone keep chains intact and are reused in place; when too many slots are
 * non-empty the table is rebuilt with the live entries only. Whatever is forgotten
 * raises the floor: a knock whose window ends at or before it could be one forgotten,
 * and is refused (PROTOCOL 14.6).
 */
struct ss_knock_replay {
	struct rp_entry *e;
	uint32_t cap;	    /* live entries allowed */
	uint32_t mask;	    /* slots - 1 */
	uint32_t used;	    /* non-empty slots */
	uint64_t floor_ms;  /* greatest expires_ms forgotten */
	uint64_t newest_ms; /* greatest expires_ms recorded */
	char *path;
	int fd;		    /* the file, open for appending; -1 without a path */
	uint32_t file_recs; /* records in the file, live or not */
};

static bool rp_gone(const struct rp_entry *e, uint64_t wall_ms, uint64_t mono_ns)
{
	return e->expires_ms <= wall_ms && e->mono_ns <= mono_ns;
}

static void rp_forget(ss_knock_replay *r, uint64_t expires_ms)
{
	if (expires_ms > r->floor_ms)
		r->floor_ms = expires_ms;
}

static uint32_t rp_hash(const ss_knock_replay *r, const uint8_t ch[SS_KNOCK_CHALLENGE_LEN])
{
	return ss_load_be32(ch) & r->mask;
}

/*
 * Slot holding ch, else NULL; *reuse receives the first reusable slot seen. A challenge
 * is random per knock, so one seen again is a replay even if its entry has gone.
 */
static struct rp_entry *rp_find(const ss_knock_replay *r, const uint8_t ch[SS_KNOCK_CHALLENGE_LEN],
				uint64_t wall_ms, uint64_t mono_ns, struct rp_entry **reuse)
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
		if (ss_ct_equal(e->ch, ch, SS_KNOCK_CHALLENGE_LEN))
			return e;
		if (!*reuse && rp_gone(e, wall_ms, mono_ns))
			*reuse = e;
	}
	return NULL;
}

static uint32_t rp_live(const ss_knock_replay *r, uint64_t wall_ms, uint64_t mono_ns)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i <= r->mask; i++)
		n += r->e[i].expires_ms && !rp_gone(&r->e[i], wall_ms, mono_ns);
	return n;
}

/* Rehash the live entries into a clean table. */
static int rp_rebuild(ss_knock_replay *r, uint64_t wall_ms, uint64_t mono_ns)
{
	struct rp_entry *old = r->e, *reuse;

	r->e = calloc((size_t)r->mask + 1, sizeof(*r->e));
	if (!r->e) {
		r->e = old;
		return SS_ERR_NOMEM;
	}
	r->used = 0;
	for (uint32_t i = 0; i <= r->mask; i++) {
		if (!old[i].expires_ms)
			continue;
		if (rp_gone(&old[i], wall_ms, mono_ns)) {
			rp_forget(r, old[i].expires_ms);
			continue;
		}
		(void)rp_find(r, old[i].ch, wall_ms, mono_ns, &reuse);
		*reuse = old[i];
		r->used++;
	}
	free(old);
	return 0;
}

static int rp_insert(ss_knock_replay *r, const uint8_t ch[SS_KNOCK_CHALLENGE_LEN],
		     uint64_t expires_ms, uint64_t wall_ms, uint64_t mono_ns)
{
	struct rp_entry *reuse;
	int ret;

	if (r->used >= r->cap + r->cap / 2) {
		ret = rp_rebuild(r, wall_ms, mono_ns);
		if (ret)
			return ret;
	}
	if (rp_find(r, ch, wall_ms, mono_ns, &reuse))
		return SS_ERR_KNOCK_REPLAY;
	if (r->used >= r->cap && rp_live(r, wall_ms, mono_ns) >= r->cap)
		return SS_ERR_KNOCK_REPLAY_FULL;
	if (!reuse)
		return SS_ERR_KNOCK_REPLAY_FULL;
	if (!reuse->expires_ms)
		r->used++;
	else
		rp_forget(r, reuse->expires_ms);
	memcpy(reuse->ch, ch, SS_KNOCK_CHALLENGE_LEN);
	reuse->expires_ms = expires_ms;
	/* As long on the monotonic clock as the window has left on the wall clock. */
	reuse->mono_ns = mono_ns + (expires_ms > wall_ms ? expires_ms - wall_ms : 0) * RP_NS_PER_MS;
	if (expires_ms > r->newest_ms)
		r->newest_ms = expires_ms;
	return 0;
}

/* The header: version 1 has records only; version 2 keeps the floor across restarts. */
static int rp_load_header(ss_knock_replay *r, int fd, bool *empty)
{
	uint8_t hdr[RP_MAGIC_LEN + 8];
	ssize_t got = read(fd, hdr, RP_MAGIC_LEN);

	*empty = got == 0;
	if (*empty)
		return 0;
	if (got == RP_MAGIC_LEN && !memcmp(hdr, RP_MAGIC_V1, RP_MAGIC_LEN))
		return 0;
	if (got != RP_MAGIC_LEN || memcmp(hdr, RP_MAGIC, RP_MAGIC_LEN) ||
	    read(fd, hdr + RP_MAGIC_LEN, 8) != 8)
		return SS_ERR_FORMAT;
	rp_forget(r, ss_load_be64(hdr + RP_MAGIC_LEN));
	return 0;
}

/*
 * The monotonic clock does not survive a reboot, so a record's wall-clock window end is
 * what is kept: a record whose window has passed is forgotten into the floor, the others
 * get the rest of their window on our monotonic clock.
 */
static int rp_load(ss_knock_replay *r, uint64_t wall_ms, uint64_t mono_ns)
{
	uint8_t rec[RP_REC_LEN];
	ssize_t got;
	bool empty;
	int fd, ret;

	fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : SS_ERR_IO;
	ret = rp_load_header(r, fd, &empty);
	if (ret || empty)
		goto out;
	while ((got = read(fd, rec, sizeof(rec))) == (ssize_t)sizeof(rec)) {
		uint64_t exp = ss_load_be64(rec + SS_KNOCK_CHALLENGE_LEN);

		if (exp > r->newest_ms)
			r->newest_ms = exp;
		if (exp <= wall_ms) {
			rp_forget(r, exp);
			continue;
		}
		ret = rp_insert(r, rec, exp, wall_ms, mono_ns);
		if (ret == SS_ERR_KNOCK_REPLAY) { /* appended twice before a compaction */
			ret = 0;
			continue;
		}
		/* More live entries than we now hold: refuse to start rather than forget any. */
		if (ret == SS_ERR_KNOCK_REPLAY_FULL)
			ret = SS_ERR_FULL;
		if (ret)
			goto out;
	}
	/*
	 * A short last record is an append cut by a crash: its knock never got past the
	 * replay step (the action runs only after the append is synced), so it is dropped.
	 */
	if (got < 0)
		ret = SS_ERR_IO;
out:
	close(fd);
	if (r->floor_ms > r->newest_ms)
		r->newest_ms = r->floor_ms;
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

static int rp_save(ss_knock_replay *r, uint64_t wall_ms, uint64_t mono_ns)
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
	/* What the file stops holding is kept as the floor. */
	for (uint32_t i = 0; i <= r->mask; i++)
		if (r->e[i].expires_ms && rp_gone(&r->e[i], wall_ms, mono_ns))
			rp_forget(r, r->e[i].expires_ms);
	memcpy(rec, RP_MAGIC, RP_MAGIC_LEN);
	ss_store_be64(rec + RP_MAGIC_LEN, r->floor_ms);
	if (fwrite(rec, 1, RP_MAGIC_LEN + 8, f) != RP_MAGIC_LEN + 8)
		goto close;
	for (uint32_t i = 0; i <= r->mask; i++) {
		if (!r->e[i].expires_ms || rp_gone(&r->e[i], wall_ms, mono_ns))
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
		r->file_recs = rp_live(r, wall_ms, mono_ns);
	}
out:
	if (ret)
		unlink(tmp);
	return ret;
}

int ss_knock_replay_new(ss_knock_replay **out, uint32_t capacity, const char *path,
			uint64_t wall_ms, uint64_t mono_ns)
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
		ret = rp_load(r, wall_ms, mono_ns);
		/* Start from a compact file holding the live entries only. */
		if (!ret)
			ret = rp_save(r, wall_ms, mono_ns);
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
			  uint64_t expires_ms, uint64_t wall_ms, uint64_t mono_ns)
{
	struct rp_entry *reuse;

	if (expires_ms <= r->floor_ms || rp_find(r, ch, wall_ms, mono_ns, &reuse))
		return SS_ERR_KNOCK_REPLAY;
	if (r->used >= r->cap && rp_live(r, wall_ms, mono_ns) >= r->cap)
		return SS_ERR_KNOCK_REPLAY_FULL;
	return 0;
}

int ss_knock_replay_check_clock(const ss_knock_replay *r, uint64_t wall_ms, uint64_t window_ms)
{
	/* newest_ms is the newest knock's timestamp + window + 1. */
	return wall_ms + 2 * window_ms + 1 < r->newest_ms ? SS_ERR_KNOCK_CLOCK : 0;
}

int ss_knock_replay_add(ss_knock_replay *r, const uint8_t ch[SS_KNOCK_CHALLENGE_LEN],
			uint64_t expires_ms, uint64_t wall_ms, uint64_t mono_ns)
{
	uint8_t rec[RP_REC_LEN];
	int ret;

	if (expires_ms <= r->floor_ms)
		return SS_ERR_KNOCK_REPLAY;
	ret = rp_insert(r, ch, expires_ms, wall_ms, mono_ns);
	if (ret || !r->path)
		return ret;
	/* Rewrite the file once appends have doubled it; else append one record. */
	if (r->file_recs >= 2 * r->cap)
		return rp_save(r, wall_ms, mono_ns);
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
