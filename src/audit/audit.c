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
#include <syslog.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "audit.h"
#include "common/ratelimit.h"

/*
 * The buckets are those of the one rate limiter (common/ratelimit.h): per source in its
 * fixed table, and two process-wide ones kept as a bare entry (tat and suppressed count).
 */
static struct {
	int fd; /* -1: detached, nothing is written */
	char daemon[32];
	char path[PATH_MAX]; /* absolute, for reopening; empty for stderr */
	ss_rl_entry slots[SS_AUDIT_SLOTS];
	ss_rl src; /* per source, over slots; src.slots NULL until limiter_init */
	ss_rl_rate all_rate, relay_rate;
	ss_rl_entry all;   /* refusals and drops from every source together */
	ss_rl_entry relay; /* lines another process admitted (ss_audit_relayed) */
} au = {.fd = 2};

/*
 * Once, before the first line (ss_audit_open calls it before the daemons sandbox
 * themselves; a forked child inherits the table and its key).
 */
static void limiter_init(void)
{
	ss_mix_key key;

	if (au.src.slots)
		return;
	if (ss_mix_key_random(&key)) {
		/* Only if the kernel has no randomness to give: still not known from outside. */
		struct timespec t;

		clock_gettime(CLOCK_MONOTONIC, &t);
		key.k[0] = (uint64_t)t.tv_sec << 32 ^ (uint64_t)t.tv_nsec;
		key.k[1] = (uint64_t)getpid();
	}
	(void)ss_rl_init(&au.src, au.slots, SS_AUDIT_SLOTS, SS_AUDIT_RATE, SS_AUDIT_BURST, &key);
	(void)ss_rl_rate_init(&au.all_rate, SS_AUDIT_ALL_RATE, SS_AUDIT_ALL_BURST);
	(void)ss_rl_rate_init(&au.relay_rate, SS_AUDIT_RELAY_RATE, SS_AUDIT_RELAY_BURST);
}

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

	limiter_init();
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

/* The remote address (IPv4, or IPv6 by /64), else the event name. */
static void source_key(const struct ss_audit_rec *r, ss_rl_key *k)
{
	if (r->peer && r->peer->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)r->peer;

		(void)ss_rl_key_ip(k, AF_INET, (const uint8_t *)&s->sin_addr);
		return;
	}
	if (r->peer && r->peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)r->peer;

		(void)ss_rl_key_ip(k, AF_INET6, s->sin6_addr.s6_addr);
		return;
	}
	ss_rl_key_name(&au.src, r->event, k);
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
 * Whether bucket b has a token (the caller takes it); counts the line as suppressed if
 * not. A source whose entry was evicted starts full, and its suppressed count is lost
 * with the entry.
 */
static bool bucket_ready(const ss_rl_rate *rate, ss_rl_entry *b, uint64_t now_ns)
{
	if (ss_rl_bucket_ready(rate, b->tat, now_ns))
		return true;
	b->suppressed++;
	return false;
}

/* Take bucket b's token (ready before); returns the suppressed count to report. */
static uint64_t bucket_take(const ss_rl_rate *rate, ss_rl_entry *b, uint64_t now_ns)
{
	uint64_t n = b->suppressed;

	(void)ss_rl_bucket_take(rate, &b->tat, now_ns);
	b->suppressed = 0;
	return n;
}

/* Returns 1 if the line may be written; *suppressed gets the count to report. */
static int admit(const struct ss_audit_rec *r, uint64_t now_ns, uint64_t *suppressed,
		 uint64_t *suppressed_all)
{
	ss_rl_entry *b;
	ss_rl_key key;

	limiter_init();
	source_key(r, &key);
	b = ss_rl_lookup(&au.src, &key, true);
	if (!bucket_ready(&au.src.rate, b, now_ns))
		return 0;
	if (shared_limit(r)) {
		if (!bucket_ready(&au.all_rate, &au.all, now_ns))
			return 0;
		*suppressed_all = bucket_take(&au.all_rate, &au.all, now_ns);
	}
	*suppressed = bucket_take(&au.src.rate, b, now_ns);
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
	if (r->name)
		put_str(&o, "name", r->name);
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
	uint64_t held_back;

	limiter_init();
	if (!bucket_ready(&au.relay_rate, &au.relay, now_ns))
		return;
	held_back = bucket_take(&au.relay_rate, &au.relay, now_ns);
	/*
	 * What the ceiling held back is reported as the child's own cross-source count is.
	 * The child's counts are its word: clamped, so that a made-up one cannot wrap the sum
	 * and hide what the ceiling dropped.
	 */
	if (suppressed > SS_AUDIT_RELAY_MAX_CLAIM)
		suppressed = SS_AUDIT_RELAY_MAX_CLAIM;
	if (suppressed_all > SS_AUDIT_RELAY_MAX_CLAIM)
		suppressed_all = SS_AUDIT_RELAY_MAX_CLAIM;
	suppressed_all += held_back;
	emit(r, suppressed, suppressed_all);
}

void ss_audit_reopen_logged(void (*log)(int prio, const char *fmt, ...), int ok_prio)
{
	int ret = ss_audit_reopen();

	if (ret > 0)
		log(ok_prio, "SIGHUP: audit trail %s reopened", ss_audit_path());
	else if (ret < 0)
		log(LOG_WARNING,
		    "%s: SIGHUP: cannot reopen the audit trail %s: %s; still writing to the file "
		    "open before (renamed or removed), no line is lost",
		    ss_err_name(SS_ERR_IO), ss_audit_path(), strerror(errno));
}
