/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "audit.h"

struct bucket {
	uint64_t key;
	uint64_t last_ns;
	uint32_t tokens; /* scaled by 1000 */
	uint32_t suppressed;
};

static struct {
	int fd; /* -1: detached, nothing is written */
	char daemon[32];
	char path[PATH_MAX]; /* absolute, for reopening; empty for stderr */
	struct bucket slots[SS_AUDIT_SLOTS];
	struct bucket all;   /* refusals and drops from every source together */
	struct bucket relay; /* lines another process admitted (ss_audit_relayed) */
} au = {.fd = 2};

/*
 * Non-blocking, so that a FIFO without a reader at the path fails (ENXIO) instead of
 * stalling the daemon; the flag is cleared again, it means nothing for a regular file.
 */
static int open_trail(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		      0600);

	if (fd >= 0 && fcntl(fd, F_SETFL, O_APPEND) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* The path kept for reopening: absolute, since the daemons may chdir("/") later. */
static int keep_path(const char *path)
{
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/')
		n = snprintf(au.path, sizeof(au.path), "%s", path);
	else if (getcwd(cwd, sizeof(cwd)))
		n = snprintf(au.path, sizeof(au.path), "%s/%s", cwd, path);
	else
		return -1;
	if (n < 0 || (size_t)n >= sizeof(au.path)) {
		au.path[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int ss_audit_open(const char *path, const char *daemon)
{
	int fd = 2;

	snprintf(au.daemon, sizeof(au.daemon), "%s", daemon ? daemon : "silosec");
	if (path && strcmp(path, "-") != 0) {
		char saved[PATH_MAX];

		memcpy(saved, au.path, sizeof(saved));
		if (keep_path(path) < 0) {
			memcpy(au.path, saved, sizeof(saved));
			return SS_ERR_IO;
		}
		fd = open_trail(au.path);
		if (fd < 0) {
			int e = errno;

			memcpy(au.path, saved, sizeof(saved));
			errno = e;
			return SS_ERR_IO;
		}
	} else {
		au.path[0] = '\0';
	}
	if (au.fd > 2)
		close(au.fd);
	au.fd = fd;
	return 0;
}

/*
 * The new file must be a plain file of this process's user with one name. Another
 * process that may write in the directory (a second silosecd, as the same user) could
 * otherwise plant the file between logrotate's rename and the reload, keep a descriptor
 * to it, and edit the trail behind the daemon; or link another daemon's trail there.
 */
static bool trail_is_ours(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	       st.st_nlink == 1;
}

int ss_audit_reopen(void)
{
	struct stat cur, now;
	struct timespec t;
	int fd, e;

	if (!au.path[0] || au.fd < 0)
		return 0;
	/* Not renamed or removed since: nothing to do (and no need for write access). */
	if (fstat(au.fd, &cur) == 0 && stat(au.path, &now) == 0 && cur.st_dev == now.st_dev &&
	    cur.st_ino == now.st_ino)
		return 0;
	fd = open_trail(au.path);
	if (fd >= 0 && !trail_is_ours(fd)) {
		close(fd);
		fd = -1;
		errno = EPERM;
	}
	if (fd >= 0) {
		if (au.fd > 2)
			close(au.fd);
		au.fd = fd;
		return 1;
	}
	e = errno;
	{
		/* Said in the trail too, which goes on in the old file: the gap is explained. */
		char detail[PATH_MAX + 160];
		struct ss_audit_rec r = {.event = "audit_reopen",
					 .decision = "keep_old_file",
					 .code = SS_ERR_IO,
					 .detail = detail};

		snprintf(detail, sizeof(detail),
			 "cannot reopen %s: %s; writing on to the file open before", au.path,
			 strerror(e));
		clock_gettime(CLOCK_MONOTONIC, &t);
		ss_audit(&r, (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec);
	}
	errno = e;
	return SS_ERR_IO;
}

const char *ss_audit_path(void)
{
	return au.path[0] ? au.path : NULL;
}

int ss_audit_fd(void)
{
	return au.fd;
}

void ss_audit_detach(void)
{
	if (au.fd > 2)
		close(au.fd);
	au.fd = -1;
	au.path[0] = '\0';
}

void ss_audit_close(void)
{
	if (au.fd > 2)
		close(au.fd);
	au.fd = 2;
	au.path[0] = '\0';
}

/* FNV-1a: the table only spreads sources, an attacker choosing collisions gains nothing
 * beyond sharing a bucket with another flooder. */
static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t source_key(const struct ss_audit_rec *r)
{
	uint64_t h = 0xcbf29ce484222325ull;

	if (r->peer && r->peer->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)r->peer;
		return fnv(&s->sin_addr, sizeof(s->sin_addr), h) | 1;
	}
	if (r->peer && r->peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)r->peer;
		return fnv(&s->sin6_addr, sizeof(s->sin6_addr), h) | 1;
	}
	return fnv(r->event, strlen(r->event), h) | 1;
}

static void refill(struct bucket *b, uint64_t now_ns, uint64_t rate, uint32_t burst)
{
	uint64_t add = (now_ns - b->last_ns) * rate / 1000000ull;

	b->last_ns = now_ns;
	if (add > burst * 1000ull - b->tokens)
		b->tokens = burst * 1000;
	else
		b->tokens += (uint32_t)add;
}

/*
 * Refusals and drops are mostly caused by unauthenticated traffic whose source address is
 * spoofable: a flood from ever-new addresses gets a fresh bucket per packet, so the
 * per-source limit alone bounds nothing. They also share one bucket for the whole process.
 */
static bool shared_limit(const struct ss_audit_rec *r)
{
	return r->decision && (!strcmp(r->decision, "refuse") || !strcmp(r->decision, "drop"));
}

/*
 * Whether bucket b, owned by key (a source; 1 for the process-wide buckets), has a token;
 * the caller takes it. A slot taken over by another source starts full, and the previous
 * owner's suppressed count is lost with it. Counts the line as suppressed if not.
 */
static bool bucket_ready(struct bucket *b, uint64_t key, uint64_t now_ns, uint64_t rate,
			 uint32_t burst)
{
	if (b->key != key) {
		memset(b, 0, sizeof(*b));
		b->key = key;
		b->tokens = burst * 1000;
		b->last_ns = now_ns;
	}
	refill(b, now_ns, rate, burst);
	if (b->tokens < 1000) {
		b->suppressed++;
		return false;
	}
	return true;
}

/* Returns 1 if the line may be written; *suppressed gets the count to report. */
static int admit(const struct ss_audit_rec *r, uint64_t now_ns, uint64_t *suppressed,
		 uint64_t *suppressed_all)
{
	uint64_t key = source_key(r);
	struct bucket *b = &au.slots[key % SS_AUDIT_SLOTS];

	if (!bucket_ready(b, key, now_ns, SS_AUDIT_RATE, SS_AUDIT_BURST))
		return 0;
	if (shared_limit(r)) {
		if (!bucket_ready(&au.all, 1, now_ns, SS_AUDIT_ALL_RATE, SS_AUDIT_ALL_BURST))
			return 0;
		au.all.tokens -= 1000;
		*suppressed_all = au.all.suppressed;
		au.all.suppressed = 0;
	}
	b->tokens -= 1000;
	*suppressed = b->suppressed;
	b->suppressed = 0;
	return 1;
}

struct out {
	char *buf;
	size_t len, pos;
	int overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->pos + n >= o->len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->buf + o->pos, s, n);
	o->pos += n;
}

static void puts_raw(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_str(struct out *o, const char *key, const char *val)
{
	char esc[8];

	puts_raw(o, ",\"");
	puts_raw(o, key);
	puts_raw(o, "\":\"");
	for (const unsigned char *c = (const unsigned char *)val; *c; c++) {
		if (*c == '"' || *c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*c;
			put(o, esc, 2);
		} else if (*c < 0x20 || *c >= 0x7f) {
			/* Non-ASCII too: a log line from the wire must stay printable. */
			snprintf(esc, sizeof(esc), "\\u%04x", *c);
			put(o, esc, 6);
		} else {
			put(o, (const char *)c, 1);
		}
	}
	puts_raw(o, "\"");
}

static void put_addr(struct out *o, const struct sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN], line[INET6_ADDRSTRLEN + 16];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;
		inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
		snprintf(line, sizeof(line), "%s:%u", host, ntohs(s->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)sa;
		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
		snprintf(line, sizeof(line), "[%s]:%u", host, ntohs(s->sin6_port));
	} else {
		return;
	}
	put_str(o, "peer", line);
}

static int format(char *buf, size_t len, const struct ss_audit_rec *r, uint64_t suppressed,
		  uint64_t suppressed_all)
{
	struct out o = {.buf = buf, .len = len};
	struct timespec ts;
	struct tm tm;
	char head[96], fp[SS_FINGERPRINT_LEN];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(head, sizeof(head), "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\"",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 ts.tv_nsec / 1000000);
	puts_raw(&o, head);
	put_str(&o, "daemon", au.daemon[0] ? au.daemon : "silosec");
	if (r->iface)
		put_str(&o, "iface", r->iface);
	put_str(&o, "event", r->event);
	put_str(&o, "decision", r->decision);
	put_str(&o, "code", ss_err_name(r->code));
	if (r->identity) {
		ss_fingerprint(r->identity, fp);
		put_str(&o, "identity", fp);
	}
	if (r->peer)
		put_addr(&o, r->peer);
	if (r->detail)
		put_str(&o, "detail", r->detail);
	if (suppressed) {
		snprintf(head, sizeof(head), ",\"suppressed\":%llu",
			 (unsigned long long)suppressed);
		puts_raw(&o, head);
	}
	if (suppressed_all) {
		snprintf(head, sizeof(head), ",\"suppressed_all_sources\":%llu",
			 (unsigned long long)suppressed_all);
		puts_raw(&o, head);
	}
	puts_raw(&o, "}\n");
	if (o.overflow)
		return SS_ERR_BUFFER;
	buf[o.pos] = '\0';
	return (int)o.pos;
}

int ss_audit_format(char *buf, size_t len, const struct ss_audit_rec *r, uint64_t suppressed)
{
	return format(buf, len, r, suppressed, 0);
}

static void emit(const struct ss_audit_rec *r, uint64_t suppressed, uint64_t suppressed_all)
{
	char line[SS_AUDIT_LINE_MAX];
	int n;

	if (au.fd < 0)
		return;
	n = format(line, sizeof(line), r, suppressed, suppressed_all);
	if (n < 0) {
		/* Too long: drop the free text rather than the decision. */
		struct ss_audit_rec short_rec = *r;
		short_rec.detail = "(detail too long)";
		n = format(line, sizeof(line), &short_rec, suppressed, suppressed_all);
		if (n < 0)
			return;
	}
	/* One write per line: O_APPEND keeps lines whole between processes. */
	while (write(au.fd, line, (size_t)n) < 0 && errno == EINTR)
		;
}

void ss_audit(const struct ss_audit_rec *r, uint64_t now_ns)
{
	uint64_t suppressed = 0, suppressed_all = 0;

	if (au.fd < 0 || !admit(r, now_ns, &suppressed, &suppressed_all))
		return;
	emit(r, suppressed, suppressed_all);
}

int ss_audit_admit(const struct ss_audit_rec *r, uint64_t now_ns, uint64_t *suppressed,
		   uint64_t *suppressed_all)
{
	*suppressed = *suppressed_all = 0;
	return admit(r, now_ns, suppressed, suppressed_all);
}

void ss_audit_relayed(const struct ss_audit_rec *r, uint64_t now_ns, uint64_t suppressed,
		      uint64_t suppressed_all)
{
	if (!bucket_ready(&au.relay, 1, now_ns, SS_AUDIT_RELAY_RATE, SS_AUDIT_RELAY_BURST))
		return;
	au.relay.tokens -= 1000;
	/*
	 * What the ceiling held back is reported as the child's own cross-source count is.
	 * The child's counts are its word: clamped, so that a made-up one cannot wrap the sum
	 * and hide what the ceiling dropped.
	 */
	if (suppressed > SS_AUDIT_RELAY_MAX_CLAIM)
		suppressed = SS_AUDIT_RELAY_MAX_CLAIM;
	if (suppressed_all > SS_AUDIT_RELAY_MAX_CLAIM)
		suppressed_all = SS_AUDIT_RELAY_MAX_CLAIM;
	suppressed_all += au.relay.suppressed;
	au.relay.suppressed = 0;
	emit(r, suppressed, suppressed_all);
}
