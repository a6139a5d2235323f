/* SPDX-License-Identifier: MIT */
/*
 * silosec-knockd: single-packet authorization. Listens on UDP, validates each datagram
 * in the order of docs/PROTOCOL.md 14.5 and runs the configured action for knocks that
 * pass. Silent on the wire: nothing is ever sent back. Drops are counted per stable code
 * and logged at most once per LogInterval per code; SIGUSR1 logs all counters.
 *
 * Privilege separation (as OpenSSH does it): a child, unprivileged and under a tight
 * seccomp filter, receives and validates every datagram (it holds the server key and
 * writes the replay cache); for an accepted knock it sends a small request over a
 * socketpair to the parent, which checks again that this identity may run this action
 * and runs it. The parent restarts a child that dies, with a backoff, and audits it.
 * Only the parent holds the audit file: the child sends its refusals over the same
 * socketpair and the parent writes them (a compromised child cannot forge other lines).
 * SIGHUP reopens the audit file (log rotation).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>

#include <silosec/error.h>
#include <silosec/identity.h>
#include "knock/knock.h"

#include "actions.h"
#include "audit.h"
#include "kconf.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/ini.h"
#include "prefilter.h"
#include "daemon_args.h"
#include "sandbox.h"
#include "state.h"
#include "validate.h"

#define BATCH 64
/* Child exit status asking for an immediate restart (replay file compaction as root). */
#define EXIT_RESTART 3
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 60000

/*
 * What the child tells the parent about an accepted knock; the parent trusts none of it:
 * the knock itself is re-read from the evidence, whose signature the parent verifies.
 */
struct kreq {
	uint32_t magic;
	int32_t family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	ss_knock_evidence ev;
};
#define KREQ_MAGIC 0x4b524551u

/*
 * A refusal the child would audit, sent to the parent (which holds the audit file): only
 * fields, never a formatted line, so the child can only ever add "knock refuse" lines. The
 * counts are what the child's own rate limit held back for this source and overall.
 */
struct kaudit {
	uint32_t magic;
	int32_t code;	/* an SS_ERR_* code */
	int32_t family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t has_identity;
	uint8_t identity[SS_IDENTITY_LEN];
	char action[SS_KNOCK_MAX_ACTION + 1]; /* "" for none */
	uint64_t suppressed, suppressed_all;
};
#define KAUD_MAGIC 0x4b415544u

/*
 * The child's counters, sent to the parent (which writes the state file) at most once per
 * STATS_MS while they change, and on SIGUSR1. The child's word, as its log line always was.
 */
struct kstats {
	uint32_t magic;
	uint64_t accepted, drops[SS_KNOCK_DROP_COUNT], pk_ops, copies;
};
#define KSTAT_MAGIC 0x4b535441u
#define STATS_MS 1000

static bool log_stderr = true;

void ss_knock_log(int prio, const char *fmt, ...)
{
	static const char *const level[] = {"emerg",   "alert",	 "crit", "error",
					    "warning", "notice", "info", "debug"};
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_stderr)
		fprintf(stderr, "silosec-knockd: %s: %s\n", level[prio & 7], line);
	else
		syslog(prio, "%s", line);
}

static uint64_t wall_ms(void)
{
	return ss_wall_ns() / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: silosec-knockd -c FILE [-f] [-t] [--user NAME] [--audit PATH] "
		"[--no-sandbox]\n"
		"  -c, --config FILE   configuration (knockd.conf(5))\n"
		"  -f, --foreground    stay in the foreground and log to stderr\n"
		"  -t, --test          check the configuration and exit\n"
		"      --user NAME     the packet parser's user (default: silosec, else nobody)\n"
		"      --audit PATH    audit trail (JSON lines) to PATH, or - for stderr\n"
		"      --no-sandbox    debugging only: no privilege separation sandbox\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n"
		"usage: silosec-knockd -c FILE --list | --metrics\n"
		"      --list          what the running daemon has open, for whom, until when\n"
		"      --metrics       its counters in the Prometheus text format\n");
}

/* "host:port", "[v6]:port", numeric only: the daemon resolves no names. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[64];
	const char *port;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	unsigned long pn;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (!e || e[1] != ':' || (size_t)(e - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(e - s - 1));
		host[e - s - 1] = '\0';
		port = e + 2;
	} else {
		const char *c = strrchr(s, ':');

		if (!c || (size_t)(c - s) >= sizeof(host))
			return -1;
		memcpy(host, s, (size_t)(c - s));
		host[c - s] = '\0';
		port = c + 1;
	}
	errno = 0;
	pn = strtoul(port, &end, 10);
	if (!*port || *end || errno || pn < 1 || pn > 65535)
		return -1;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)pn);
		*sl = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)pn);
		*sl = sizeof(*s6);
		return 0;
	}
	return -1;
}

static int open_socket(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, off = 0, buf = 4 << 20;

	if (parse_listen(spec, &ss, &sl) < 0) {
		ss_knock_log(LOG_ERR, "Listen %s: not ADDRESS:PORT or [ADDRESS]:PORT", spec);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* [::] takes IPv4 too (mapped addresses), unless the system forbids it. */
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	/* Before bind, so no junk is ever queued; step 1 runs again in the daemon. */
	if (ss_knock_prefilter_attach(fd))
		ss_knock_log(LOG_WARNING, "Listen %s: kernel pre-filter not attached: %s", spec,
			     strerror(errno));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		goto fail;
	return fd;
fail:
	ss_knock_log(LOG_ERR, "Listen %s: %s", spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Source address as (family, bytes, text); IPv4-mapped IPv6 counts as IPv4. */
static void source(const struct sockaddr_storage *ss, int *family, uint8_t addr[16], char *txt,
		   size_t tl)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			*family = AF_INET;
			memcpy(addr, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			*family = AF_INET6;
			memcpy(addr, s6->sin6_addr.s6_addr, 16);
		}
	} else {
		*family = AF_INET;
		memcpy(addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
	inet_ntop(*family, addr, txt, (socklen_t)tl);
}

struct logstate {
	uint64_t last_ms[SS_KNOCK_DROP_COUNT];
	uint64_t since[SS_KNOCK_DROP_COUNT]; /* drops not logged since the last line */
};

static void log_drop(struct logstate *ls, const ss_kconf *c, int code, const char *src,
		     const ss_knock_verdict *v, uint64_t now_ms)
{
	int idx = ss_knock_drop_index(code);
	char id[SS_B64_KEY_LEN] = "", signed_src[INET6_ADDRSTRLEN + 16] = "";

	if (idx < 0) {
		ss_knock_log(LOG_ERR, "knock from %s: %s (%s)", src, ss_strerror(code),
			     ss_err_name(code));
		return;
	}
	ls->since[idx]++;
	if (ls->last_ms[idx] && now_ms - ls->last_ms[idx] < (uint64_t)c->log_interval * 1000)
		return;
	/* Identity and action are known (and authenticated) from the signature on. */
	if (ss_knock_drop_signed(code))
		ss_key_to_base64(v->msg.client, id);
	/* Which address the knock was bound to tells a NAT mistake from a re-sent copy. */
	if (code == SS_ERR_KNOCK_SOURCE) {
		char a[INET6_ADDRSTRLEN] = "?";

		if (v->msg.src_family == SS_KNOCK_SRC_ANY)
			strcpy(a, "any");
		else
			inet_ntop(v->msg.src_family == SS_KNOCK_SRC_IPV4 ? AF_INET : AF_INET6,
				  v->msg.src_addr, a, sizeof(a));
		snprintf(signed_src, sizeof(signed_src), " signed for %s", a);
	}
	ss_knock_log(LOG_NOTICE, "drop %s (%d): %s; from %s%s%s%s%s%s; %llu such drop%s in %u s",
		     ss_err_name(code), code, ss_strerror(code), src, *id ? " identity " : "", id,
		     *id && code <= SS_ERR_KNOCK_TIME && v->msg.action[0] ? " action " : "",
		     *id && code <= SS_ERR_KNOCK_TIME ? v->msg.action : "", signed_src,
		     (unsigned long long)ls->since[idx], ls->since[idx] == 1 ? "" : "s",
		     c->log_interval);
	ls->since[idx] = 0;
	ls->last_ms[idx] = now_ms ? now_ms : 1;
}

/* kernel_drops: what the sockets' pre-filter (or a full buffer) dropped before us. */
static void log_counters(const ss_knock_validator *v, uint64_t kernel_drops)
{
	char line[1024];
	size_t off = 0;

	off += (size_t)snprintf(line, sizeof(line), "counters: accepted %llu",
				(unsigned long long)v->accepted);
	for (int i = 0; i < SS_KNOCK_DROP_COUNT && off < sizeof(line); i++)
		off += (size_t)snprintf(line + off, sizeof(line) - off, ", %s %llu",
					ss_err_name(SS_KNOCK_DROP_FIRST - i),
					(unsigned long long)v->drops[i]);
	/* How much public-key work ran, and how many copies the cache spared it (14.5 3b). */
	if (off < sizeof(line))
		snprintf(line + off, sizeof(line) - off,
			 ", dropped in kernel %llu, public-key operations %llu, copies dropped "
			 "before X25519 %llu",
			 (unsigned long long)kernel_drops, (unsigned long long)v->pk_ops,
			 (unsigned long long)v->copies);
	ss_knock_log(LOG_INFO, "%s", line);
}

/* ---- audit: one line per knock decision ---- */

static void to_sockaddr(int family, const uint8_t *addr, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)family;
	if (family == AF_INET)
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, addr, 4);
	else
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, addr, 16);
}

struct knock_rec {
	struct ss_audit_rec r;
	struct sockaddr_storage ss;
	char detail[160];
};

static const struct ss_audit_rec *knock_rec(struct knock_rec *k, const char *decision, int code,
					    const uint8_t *identity, int family,
					    const uint8_t *addr, const char *action,
					    const char *why)
{
	memset(&k->r, 0, sizeof(k->r));
	k->r.event = "knock";
	k->r.decision = decision;
	k->r.code = code;
	k->r.identity = identity;
	k->r.detail = k->detail;
	to_sockaddr(family, addr, &k->ss);
	k->r.peer = (const struct sockaddr *)&k->ss;
	snprintf(k->detail, sizeof(k->detail), "%s%s%s%s", action && *action ? "action " : "",
		 action ? action : "", why && action && *action ? "; " : "", why ? why : "");
	return &k->r;
}

static void audit_knock(const char *decision, int code, const uint8_t *identity, int family,
			const uint8_t *addr, const char *action, const char *why)
{
	struct knock_rec k;

	ss_audit(knock_rec(&k, decision, code, identity, family, addr, action, why), ss_mono_ns());
}

/*
 * A refusal in the child: identity and action only once the signature vouches for them.
 * The child's rate limit decides whether it is worth a message; the parent writes it.
 */
static void audit_drop(int sock, int code, const ss_knock_verdict *v, int family,
		       const uint8_t *addr)
{
	bool signed_ok = ss_knock_drop_signed(code);
	const char *action = code <= SS_ERR_KNOCK_TIME && signed_ok ? v->msg.action : NULL;
	struct knock_rec k;
	struct kaudit a;

	memset(&a, 0, sizeof(a));
	if (!ss_audit_admit(knock_rec(&k, "refuse", code, signed_ok ? v->msg.client : NULL, family,
				      addr, action, NULL),
			    ss_mono_ns(), &a.suppressed, &a.suppressed_all))
		return;
	a.magic = KAUD_MAGIC;
	a.code = code;
	a.family = family;
	memcpy(a.addr, addr, family == AF_INET ? 4 : 16);
	if (signed_ok) {
		a.has_identity = 1;
		memcpy(a.identity, v->msg.client, sizeof(a.identity));
	}
	if (action)
		snprintf(a.action, sizeof(a.action), "%s", action);
	if (send(sock, &a, sizeof(a), MSG_NOSIGNAL) != (ssize_t)sizeof(a))
		_exit(1); /* the parent is gone */
}

/* ---- the parser child: recv and validation, no privileges ---- */

struct parser {
	const struct ss_daemon_args *o;
	const ss_kconf *conf;
	ss_knock_validator val;
	struct logstate ls;
	struct pollfd pfd[SS_KCONF_MAX_LISTEN + 2];
	size_t nlisten;
	int sock, sfd;
	uint64_t stats_ms; /* when the counters last went to the parent */
	bool stats_dirty;
};

static void send_stats(struct parser *p)
{
	struct kstats st = {.magic = KSTAT_MAGIC,
			    .accepted = p->val.accepted,
			    .pk_ops = p->val.pk_ops,
			    .copies = p->val.copies};

	memcpy(st.drops, p->val.drops, sizeof(st.drops));
	if (send(p->sock, &st, sizeof(st), MSG_NOSIGNAL) != (ssize_t)sizeof(st))
		_exit(1); /* the parent is gone */
	p->stats_ms = ss_mono_ns() / 1000000;
	p->stats_dirty = false;
}

/* The poll timeout: until the changed counters are due, else none. */
static int stats_due(struct parser *p)
{
	uint64_t now = ss_mono_ns() / 1000000;

	if (!p->stats_dirty)
		return -1;
	if (now >= p->stats_ms + STATS_MS) {
		send_stats(p);
		return -1;
	}
	return (int)(p->stats_ms + STATS_MS - now);
}

static void handle_packet(struct parser *p, const uint8_t *buf, size_t len,
			  const struct sockaddr_storage *from)
{
	struct kreq req;
	ss_knock_verdict v;
	char src[INET6_ADDRSTRLEN];
	int fam, r;

	memset(&req, 0, sizeof(req));
	source(from, &fam, req.addr, src, sizeof(src));
	r = ss_knock_validate(&p->val, buf, len, fam, req.addr, ss_mono_ns(), wall_ms(), &v);
	if (r) {
		log_drop(&p->ls, p->conf, r, src, &v, wall_ms());
		audit_drop(p->sock, r, &v, fam, req.addr);
		/* Not a bad knock but our replay file: a fresh child compacts it as root. */
		if (ss_knock_drop_index(r) < 0)
			_exit(EXIT_RESTART);
		return;
	}
	req.magic = KREQ_MAGIC;
	req.family = fam;
	req.ev = v.ev;
	if (send(p->sock, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req))
		_exit(1); /* the parent is gone */
	ss_wipe(&req, sizeof(req));
	ss_wipe(&v, sizeof(v));
}

static void parser_recv(struct parser *p, int fd)
{
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage from[BATCH];
	static uint8_t bufs[BATCH][SS_KNOCK_MAX_LEN + 1];
	int got;

	for (int k = 0; k < BATCH; k++) {
		iov[k].iov_base = bufs[k];
		iov[k].iov_len = sizeof(bufs[k]);
		memset(&mm[k].msg_hdr, 0, sizeof(mm[k].msg_hdr));
		mm[k].msg_hdr.msg_iov = &iov[k];
		mm[k].msg_hdr.msg_iovlen = 1;
		mm[k].msg_hdr.msg_name = &from[k];
		mm[k].msg_hdr.msg_namelen = sizeof(from[k]);
	}
	got = recvmmsg(fd, mm, BATCH, MSG_DONTWAIT, NULL);
	for (int k = 0; k < got; k++) {
		/* Longer than any knock: recorded as too long, not truncated. */
		size_t len = mm[k].msg_hdr.msg_flags & MSG_TRUNC ? SIZE_MAX : mm[k].msg_len;

		handle_packet(p, bufs[k], len, &from[k]);
	}
}

/* 1 to go on, 0 to exit. */
static int parser_signals(struct parser *p)
{
	struct signalfd_siginfo si;

	while (read(p->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		uint64_t kd = 0;

		for (size_t i = 0; i < p->nlisten; i++)
			kd += ss_knock_prefilter_drops(p->pfd[i].fd);
		log_counters(&p->val, kd);
		send_stats(p);
		if (si.ssi_signo != SIGUSR1)
			return 0;
	}
	return 1;
}

static void parser_loop(struct parser *p)
{
	size_t n = p->nlisten;

	p->pfd[n].fd = p->sock;
	p->pfd[n].events = POLLIN;
	p->pfd[n + 1].fd = p->sfd;
	p->pfd[n + 1].events = POLLIN;
	for (;;) {
		if (poll(p->pfd, n + 2, stats_due(p)) < 0 && errno != EINTR)
			return;
		/* The parent never writes: readable or hung up means it is gone. */
		if (p->pfd[n].revents)
			return;
		if ((p->pfd[n + 1].revents & POLLIN) && !parser_signals(p))
			return;
		for (size_t i = 0; i < n; i++)
			if (p->pfd[i].revents & POLLIN) {
				parser_recv(p, p->pfd[i].fd);
				p->stats_dirty = true;
			}
		(void)stats_due(p);
	}
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Everything but stdio and keep[] is closed: no nftables socket, no parent ends. */
static void close_others(int *keep, size_t n)
{
	unsigned lo = 3;

	qsort(keep, n, sizeof(*keep), cmp_int);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 3)
			continue;
		if ((unsigned)keep[i] > lo)
			syscall(SYS_close_range, lo, (unsigned)keep[i] - 1, 0U);
		lo = (unsigned)keep[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0U, 0U);
}

/*
 * The child keeps no capability and reaches, through Landlock, only the replay file's
 * directory (compaction writes a new file there and renames it). The listening sockets,
 * the socketpair and the replay file stay open from before the drop; the audit file does
 * not (refusals go to the parent, audit_drop).
 */
static int parser_sandbox(const struct parser *p)
{
	char *rdir = ss_path_dir(p->conf->replay_file);
	const struct ss_sandbox_path paths[] = {{rdir, true, false}};
	struct ss_sandbox_policy pol = {
		.profile = SS_SANDBOX_KNOCK_PARSER,
		.null_backend = p->o->no_sandbox,
		.user = p->o->user,
		.landlock = true,
		.paths = paths,
		.npaths = rdir ? 1 : 0,
		.nofile = 64,
		.no_fork = true,
		.memlock = 2 * SS_SANDBOX_SECURE_HEAP,
	};
	struct ss_sandbox_report rep;
	const char *step = "";
	int ret = ss_sandbox_apply(&pol, &rep, &step);

	free(rdir);
	if (ret)
		ss_knock_log(LOG_ERR, "%s: parser sandbox: %s failed: %s",
			     ss_err_name(SS_ERR_SANDBOX), step,
			     ret == SS_ERR_NOT_FOUND ? "no such user" : strerror(errno));
	else if (!p->o->no_sandbox)
		ss_knock_log(
			LOG_INFO,
			"parser: uid %u, no capabilities, seccomp %d syscalls%s, Landlock %s%d",
			rep.uid, rep.nsyscalls, rep.sanitizer ? " (+ASan runtime)" : "",
			rep.landlock_abi ? "ABI " : "unavailable ", rep.landlock_abi);
	return ret;
}

/* A signalfd for sigs[0..n); block: block them here first, else the caller already has. */
static int signals_fd(const int *sigs, size_t n, bool block)
{
	sigset_t mask;

	sigemptyset(&mask);
	for (size_t i = 0; i < n; i++)
		sigaddset(&mask, sigs[i]);
	if (block)
		sigprocmask(SIG_BLOCK, &mask, NULL);
	return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

static int parser_signalfd(void)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGUSR1};

	return signals_fd(sigs, sizeof(sigs) / sizeof(sigs[0]), false);
}

/* In the child after fork; never returns. */
static void run_parser(const struct ss_daemon_args *o, const ss_kconf *conf, const ss_identity *id,
		       const int *lfd, size_t nlisten, int sock)
{
	static struct parser p;
	int keep[SS_KCONF_MAX_LISTEN + 3];
	size_t nk = 0;
	uint64_t seed;

	memset(&p, 0, sizeof(p));
	p.o = o;
	p.conf = conf;
	p.sock = sock;
	p.nlisten = nlisten;
	/* syslog reconnects by itself; its descriptor must not be reused under it. */
	closelog();
	/* The trail is the parent's: the child writes no line itself. */
	ss_audit_detach();
	p.sfd = parser_signalfd();
	for (size_t i = 0; i < nlisten; i++) {
		p.pfd[i].fd = lfd[i];
		p.pfd[i].events = POLLIN;
		keep[nk++] = lfd[i];
	}
	keep[nk++] = sock;
	keep[nk++] = p.sfd;
	close_others(keep, nk);
	/* The replay file is loaded and compacted here, still as root. */
	if (p.sfd < 0 || ss_random_system(NULL, (uint8_t *)&seed, sizeof(seed)) ||
	    ss_knock_validator_init(&p.val, conf, id, seed, wall_ms(), ss_mono_ns())) {
		ss_knock_log(LOG_ERR,
			     "cannot start: replay file %s unreadable, corrupt or over "
			     "ReplayCapacity",
			     conf->replay_file ? conf->replay_file : "(none)");
		_exit(1);
	}
	if (parser_sandbox(&p))
		_exit(1);
	/* One byte: up and sandboxed. */
	if (send(sock, "", 1, MSG_NOSIGNAL) != 1)
		_exit(1);
	parser_loop(&p);
	_exit(0);
}

/* ---- the parent: re-checks requests and runs actions ---- */

struct parent {
	const struct ss_daemon_args *o;
	const ss_kconf *conf;
	const ss_identity *id;
	struct ss_knock_actx *actx;
	int lfd[SS_KCONF_MAX_LISTEN];
	size_t nlisten;
	int sock;	       /* our end of the socketpair with the current child, or -1 */
	ss_knock_replay *seen; /* challenges the parent has acted on (no file) */
	pid_t child;
	uint64_t started_ms, restart_ms, backoff_ms;
	/* The state file: --list and --metrics read it. base: counters of earlier children. */
	ss_knock_state *st;
	const char *state_path;
	struct kstats base, last;
	uint64_t saved_ms;
	bool state_dirty, stats_pending, state_failed;
};

static bool printable(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return true;
}

/*
 * The child is the part exposed to the network: what it sends is checked again. The knock
 * is parsed anew from the evidence and its client signature verified (a compromised child
 * cannot make one up or change a field), then checked against our own copy of the
 * configuration (identity known, action allowed for it, signed source, time window,
 * payload rule) and our own replay cache; the duration is recomputed here.
 */
static int recheck(const struct parent *P, const struct kreq *q, ss_knock_verdict *v)
{
	const ss_knock_msg *m = &v->msg;
	int ret;

	memset(v, 0, sizeof(*v));
	if (q->magic != KREQ_MAGIC || (q->family != AF_INET && q->family != AF_INET6))
		return SS_ERR_KNOCK_MALFORMED;
	ret = ss_knock_verify_evidence(ss_identity_public(P->id), &q->ev, &v->msg);
	if (ret)
		return ret;
	v->client = ss_kconf_client(P->conf, m->client);
	if (!v->client)
		return SS_ERR_KNOCK_UNKNOWN_ID;
	ret = ss_knock_check_source(m, q->family, q->addr, v->client->allow_any_source);
	if (!ret)
		ret = ss_knock_check_time(m, wall_ms(), P->conf->window_ms);
	if (ret)
		return ret;
	v->action = ss_kconf_allowed(P->conf, v->client, m->action);
	if (!v->action)
		return SS_ERR_KNOCK_ACTION;
	if ((v->action->payload == SS_KPAY_NONE && m->payload_len) ||
	    (v->action->payload == SS_KPAY_ASCII && !printable(m->payload, m->payload_len)))
		return SS_ERR_KNOCK_PAYLOAD;
	/* Last, so only a knock about to run uses up its challenge. */
	ret = ss_knock_replay_add(P->seen, m->challenge, m->timestamp_ms + P->conf->window_ms + 1,
				  wall_ms(), ss_mono_ns());
	if (ret)
		return ret;
	v->duration = m->duration ? m->duration : v->action->duration;
	if (v->duration > v->action->max_duration)
		v->duration = v->action->max_duration;
	return 0;
}

/* What an action opened, in the words of its configuration. */
static void opening_what(const ss_kaction *act, char *out, size_t len)
{
	size_t off = 0;

	out[0] = 0;
	if (act->type == SS_KACT_GRANT) {
		snprintf(out, len, "%s on %s", act->rule, act->iface);
		return;
	}
	for (size_t i = 0; i < act->nports && off < len; i++) {
		const ss_kport *pt = &act->ports[i];
		const char *proto = pt->proto == IPPROTO_TCP ? "tcp" : "udp";

		if (pt->lo == pt->hi)
			off += (size_t)snprintf(out + off, len - off, "%s%s/%u", i ? ", " : "",
						proto, pt->lo);
		else
			off += (size_t)snprintf(out + off, len - off, "%s%s/%u-%u", i ? ", " : "",
						proto, pt->lo, pt->hi);
	}
	if (!act->nports)
		snprintf(out, len, "cycle (close command pending)");
}

/* Open, cycle and grant actions hold something open until the knock's duration ends. */
static void record_opening(struct parent *P, const ss_knock_verdict *v, const char *src)
{
	uint64_t now = wall_ms() / 1000;
	ss_knock_opening o;

	if (v->action->type == SS_KACT_COMMAND)
		return;
	memset(&o, 0, sizeof(o));
	snprintf(o.action, sizeof(o.action), "%s", v->action->name);
	snprintf(o.client, sizeof(o.client), "%s", v->client->name);
	snprintf(o.source, sizeof(o.source), "%s", src);
	opening_what(v->action, o.what, sizeof(o.what));
	memcpy(o.identity, v->msg.client, SS_IDENTITY_LEN);
	o.opened_s = now;
	o.expires_s = now + v->duration;
	ss_knock_state_add(P->st, &o);
}

/* Written after each change, atomically; a failure is logged once, then retried. */
static void save_state(struct parent *P)
{
	ss_knock_state *st = P->st;

	st->accepted = P->base.accepted + P->last.accepted;
	st->pk_ops = P->base.pk_ops + P->last.pk_ops;
	st->copies = P->base.copies + P->last.copies;
	for (int i = 0; i < SS_KNOCK_DROP_COUNT; i++)
		st->drops[i] = P->base.drops[i] + P->last.drops[i];
	st->kernel_drops = 0;
	for (size_t i = 0; i < P->nlisten; i++)
		st->kernel_drops += ss_knock_prefilter_drops(P->lfd[i]);
	st->updated_s = wall_ms() / 1000;
	if (ss_knock_state_save(P->state_path, st)) {
		if (!P->state_failed)
			ss_knock_log(LOG_WARNING, "StateFile %s: %s (--list and --metrics stale)",
				     P->state_path, strerror(errno));
		P->state_failed = true;
		return;
	}
	P->state_failed = false;
	P->state_dirty = P->stats_pending = false;
	P->saved_ms = wall_ms();
}

/* A child's counters are summed into base when it goes, so totals never go back. */
static void child_counters_gone(struct parent *P)
{
	P->base.accepted += P->last.accepted;
	P->base.pk_ops += P->last.pk_ops;
	P->base.copies += P->last.copies;
	for (int i = 0; i < SS_KNOCK_DROP_COUNT; i++)
		P->base.drops[i] += P->last.drops[i];
	memset(&P->last, 0, sizeof(P->last));
	P->state_dirty = true;
}

static void handle_request(struct parent *P, const struct kreq *q)
{
	char src[INET6_ADDRSTRLEN], cid[SS_B64_KEY_LEN], fp[SS_FINGERPRINT_LEN], why[64];
	ss_knock_verdict v;
	int ret = recheck(P, q, &v);

	inet_ntop(q->family == AF_INET6 ? AF_INET6 : AF_INET, q->addr, src, sizeof(src));
	if (ret) {
		ss_knock_log(LOG_WARNING,
			     "%s: request from the parser child for %s refused by the re-check",
			     ss_err_name(ret), src);
		audit_knock("refuse", ret, v.client ? v.msg.client : NULL, q->family, q->addr, NULL,
			    "refused by the privileged re-check");
		P->st->refused++;
		P->state_dirty = true;
		ss_wipe(&v, sizeof(v));
		return;
	}
	ss_key_to_base64(v.msg.client, cid);
	ss_fingerprint(v.msg.client, fp);
	ss_knock_log(LOG_NOTICE,
		     "knock accepted: client %s (%s, %s) action %s from %s, payload %zu bytes, "
		     "duration %u s",
		     v.client->name, fp, cid, v.action->name, src, v.msg.payload_len, v.duration);
	snprintf(why, sizeof(why), "duration %u s", v.duration);
	audit_knock("accept", 0, v.msg.client, q->family, q->addr, v.action->name, why);
	P->st->actions++;
	if (ss_knock_actions_run(P->actx, &v, q->family, q->addr, src, wall_ms()))
		P->st->action_failures++;
	else
		record_opening(P, &v, src);
	P->state_dirty = true;
	ss_wipe(&v, sizeof(v));
}

static int spawn_parser(struct parent *P)
{
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (pid == 0) {
		close(sp[0]);
		run_parser(P->o, P->conf, P->id, P->lfd, P->nlisten, sp[1]);
	}
	close(sp[1]);
	if (fcntl(sp[0], F_SETFL, O_NONBLOCK) < 0) {
		close(sp[0]);
		return -1;
	}
	P->sock = sp[0];
	P->child = pid;
	P->started_ms = wall_ms();
	return 0;
}

/* The first child must come up, or the daemon does not start. */
static int wait_ready(struct parent *P)
{
	struct pollfd pfd = {.fd = P->sock, .events = POLLIN};
	char c;

	if (poll(&pfd, 1, 30000) != 1 || recv(P->sock, &c, 1, 0) != 1)
		return -1;
	return 0;
}

/*
 * A refusal the child audits: written here, from fields checked again (the child is
 * untrusted), under the relay ceiling. Identity and action are the child's word, as they
 * always were for refusals; nothing here is acted on.
 */
static int relay_audit(const struct kaudit *a)
{
	char action[sizeof(a->action)];
	struct knock_rec k;

	if (a->magic != KAUD_MAGIC || (a->family != AF_INET && a->family != AF_INET6) ||
	    a->code >= 0 || !strcmp(ss_err_name(a->code), "SS_ERR_UNKNOWN") ||
	    a->has_identity > 1 || !memchr(a->action, '\0', sizeof(a->action)))
		return -1;
	memcpy(action, a->action, sizeof(action));
	ss_audit_relayed(knock_rec(&k, "refuse", a->code, a->has_identity ? a->identity : NULL,
				   a->family, a->addr, action, NULL),
			 ss_mono_ns(), a->suppressed, a->suppressed_all);
	return 0;
}

/* Returns how many messages it read. */
static int parser_read(struct parent *P)
{
	union {
		struct kreq q;
		struct kaudit a;
		struct kstats s;
	} m;
	ssize_t n = -1;
	int bad_logged = 0, i;

	/*
	 * At most BATCH messages a wakeup: a child sending without pause
	 * must not keep the parent from its signals and timers (epoll brings it back).
	 */
	for (i = 0; i < BATCH && (n = recv(P->sock, &m, sizeof(m), MSG_DONTWAIT | MSG_TRUNC)) > 0;
	     i++) {
		int bad = 0;

		if (n == (ssize_t)sizeof(m.q) && m.q.magic == KREQ_MAGIC)
			handle_request(P, &m.q);
		else if (n == (ssize_t)sizeof(m.a) && m.a.magic == KAUD_MAGIC)
			bad = relay_audit(&m.a);
		else if (n == (ssize_t)sizeof(m.s) && m.s.magic == KSTAT_MAGIC) {
			P->last = m.s;
			P->stats_pending = true; /* written at most once per STATS_MS */
		} else if (n != 1)		 /* 1: the "ready" byte of a restarted child */
			bad = 1;
		if (bad && !bad_logged++)
			ss_knock_log(LOG_WARNING, "%s: malformed request from the parser child",
				     ss_err_name(SS_ERR_SANDBOX));
		ss_wipe(&m, sizeof(m));
	}
	if (n == 0) { /* the child is gone; SIGCHLD says how */
		close(P->sock);
		P->sock = -1;
	}
	return i;
}

static void audit_violation(pid_t pid, int status)
{
	char detail[160];
	struct ss_audit_rec r = {.event = "sandbox_violation",
				 .decision = "restart",
				 .code = SS_ERR_SANDBOX,
				 .iface = "parser",
				 .detail = detail};

	if (WIFSIGNALED(status))
		snprintf(detail, sizeof(detail), "parser child %d killed by signal %d%s", (int)pid,
			 WTERMSIG(status),
			 WTERMSIG(status) == SIGSYS ? " (forbidden system call)" : "");
	else
		snprintf(detail, sizeof(detail), "parser child %d exited with status %d", (int)pid,
			 WEXITSTATUS(status));
	ss_audit(&r, ss_mono_ns());
	ss_knock_log(LOG_ERR, "%s: %s; restarting it", ss_err_name(SS_ERR_SANDBOX), detail);
}

/* The child is reaped by pid: command children are actions.c's. */
static void reap_parser(struct parent *P, bool running)
{
	uint64_t now = wall_ms();
	pid_t pid = P->child;
	int status;

	if (pid <= 0 || waitpid(pid, &status, WNOHANG) != pid)
		return;
	/* What it sent before it died, its audit lines among them, is still queued. */
	while (P->sock >= 0 && parser_read(P) == BATCH)
		;
	if (P->sock >= 0) {
		close(P->sock);
		P->sock = -1;
	}
	P->child = 0;
	child_counters_gone(P);
	if (!running)
		return;
	P->st->parser_restarts++;
	if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_RESTART) {
		ss_knock_log(LOG_NOTICE, "parser child restarting to compact the replay file");
		P->restart_ms = now;
		return;
	}
	audit_violation(pid, status);
	/* A child that ran a while earns a quick restart; one that keeps dying, less so. */
	if (now - P->started_ms > BACKOFF_MAX_MS)
		P->backoff_ms = BACKOFF_MIN_MS;
	P->restart_ms = now + P->backoff_ms;
	P->backoff_ms = P->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : P->backoff_ms * 2;
}

static void maybe_restart(struct parent *P)
{
	if (P->child || wall_ms() < P->restart_ms)
		return;
	if (spawn_parser(P) < 0) {
		ss_knock_log(LOG_ERR, "parser child: fork: %s", strerror(errno));
		P->restart_ms = wall_ms() + P->backoff_ms;
	}
}

static void stop_parser(struct parent *P)
{
	int status;

	if (P->child <= 0)
		return;
	kill(P->child, SIGTERM);
	(void)waitpid(P->child, &status, 0);
	P->child = 0;
}

/*
 * The parent stays root: it runs operator commands (as root or their User=), edits
 * nftables and talks to silosecd's control socket. It keeps only the capabilities those
 * need and a seccomp deny list (its command children inherit both, and NoNewPrivs).
 */
static int parent_sandbox(const struct ss_daemon_args *o)
{
	struct ss_sandbox_policy pol = {
		.profile = SS_SANDBOX_KNOCK_ACTIONS,
		.null_backend = o->no_sandbox,
		.keep_root = true,
		.caps = 1ULL << CAP_NET_ADMIN | 1ULL << CAP_NET_RAW | 1ULL << CAP_SETUID |
			1ULL << CAP_SETGID | 1ULL << CAP_SETPCAP | 1ULL << CAP_KILL |
			1ULL << CAP_DAC_OVERRIDE | 1ULL << CAP_DAC_READ_SEARCH | 1ULL << CAP_CHOWN |
			1ULL << CAP_FOWNER,
		.memlock = 2 * SS_SANDBOX_SECURE_HEAP,
	};
	struct ss_sandbox_report rep;
	const char *step = "";
	int ret = ss_sandbox_apply(&pol, &rep, &step);

	if (ret)
		ss_knock_log(LOG_ERR, "%s: sandbox: %s failed: %s", ss_err_name(SS_ERR_SANDBOX),
			     step, strerror(errno));
	else if (o->no_sandbox)
		ss_knock_log(LOG_WARNING,
			     "SS_ERR_SANDBOX: --no-sandbox: the parser child keeps root and "
			     "every capability, no seccomp filter, no Landlock (debugging only)");
	else
		ss_knock_log(LOG_INFO, "action runner: uid 0, seccomp deny list (%d)",
			     rep.nsyscalls);
	return ret;
}

/* The replay file is checked once here so that a corrupt one stops the start. */
static int check_replay(const ss_kconf *conf, const ss_identity *id)
{
	ss_knock_validator val;

	if (ss_knock_validator_init(&val, conf, id, 0, wall_ms(), ss_mono_ns())) {
		ss_knock_log(LOG_ERR,
			     "cannot start: replay file %s unreadable, corrupt or over "
			     "ReplayCapacity",
			     conf->replay_file ? conf->replay_file : "(none)");
		return -1;
	}
	ss_knock_validator_free(&val);
	return 0;
}

static int parent_signalfd(void)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGCHLD, SIGUSR1, SIGHUP};

	return signals_fd(sigs, sizeof(sigs) / sizeof(sigs[0]), true);
}

/*
 * Log rotation: the audit file is opened anew if it was renamed (the parent is root, and
 * the only writer). If that fails, the old file stays in use and says so.
 */
static void sighup(void)
{
	ss_audit_reopen_logged(ss_knock_log, LOG_NOTICE);
	ss_knock_log(LOG_NOTICE, "SIGHUP: restart the daemon to reload the configuration "
				 "(the replay cache persists)");
}

/* 1 while running. */
static int parent_signals(struct parent *P, int sfd, bool *child_exited)
{
	struct signalfd_siginfo si;
	int running = 1;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			running = 0;
		else if (si.ssi_signo == SIGCHLD)
			*child_exited = true;
		else if (si.ssi_signo == SIGUSR1 && P->child > 0)
			kill(P->child, SIGUSR1); /* the counters are the child's */
		else if (si.ssi_signo == SIGHUP)
			sighup();
	}
	return running;
}

static void parent_loop(struct parent *P, int sfd)
{
	uint64_t next_tick = 0;
	bool running = true, child_exited = false;

	while (running) {
		struct pollfd pfd[2] = {{.fd = sfd, .events = POLLIN},
					{.fd = P->sock, .events = POLLIN}};
		uint64_t t = wall_ms(), due;
		int n;

		if (t >= next_tick || child_exited) {
			reap_parser(P, true);
			next_tick = t + (uint64_t)ss_knock_actions_tick(P->actx, t);
			child_exited = false;
			if (ss_knock_state_expire(P->st, t / 1000))
				P->state_dirty = true;
		}
		if (P->state_dirty || (P->stats_pending && t >= P->saved_ms + STATS_MS))
			save_state(P);
		maybe_restart(P);
		due = P->child ? next_tick
			       : (next_tick < P->restart_ms ? next_tick : P->restart_ms);
		n = poll(pfd, P->sock >= 0 ? 2 : 1, due > t ? (int)(due - t) : 0);
		if (n < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN)
			running = parent_signals(P, sfd, &child_exited);
		if (P->sock >= 0 && pfd[1].revents) {
			parser_read(P);
			next_tick = 0;
		}
	}
}

static int open_listeners(struct parent *P)
{
	for (size_t i = 0; i < P->conf->nlisten; i++) {
		int fd = open_socket(P->conf->listen[i]);

		if (fd < 0)
			return -1;
		P->lfd[P->nlisten++] = fd;
	}
	return 0;
}

static void announce(const ss_kconf *conf, const ss_identity *id)
{
	char pub[SS_B64_KEY_LEN];

	ss_key_to_base64(ss_identity_public(id), pub);
	ss_knock_log(LOG_NOTICE, "listening as %s on %zu socket(s), window %llu ms", pub,
		     conf->nlisten, (unsigned long long)conf->window_ms);
}

static int start(struct parent *P, const struct ss_daemon_args *o, int *sfd)
{
	char err[SS_KCONF_ERR_LEN];

	if (check_replay(P->conf, P->id))
		return -1;
	if (ss_knock_replay_new(&P->seen, P->conf->replay_capacity, NULL, wall_ms(),
				ss_mono_ns())) {
		ss_knock_log(LOG_ERR, "cannot allocate the replay cache");
		return -1;
	}
	if (o->audit && ss_audit_open(o->audit, "silosec-knockd")) {
		ss_knock_log(LOG_ERR, "--audit %s: %s", o->audit, strerror(errno));
		return -1;
	}
	if (ss_knock_actions_init(&P->actx, P->conf, err, sizeof(err))) {
		ss_knock_log(LOG_ERR, "%s", err);
		return -1;
	}
	if (open_listeners(P) < 0)
		return -1;
	*sfd = parent_signalfd();
	if (*sfd < 0 || (!o->foreground && daemon(0, 0) < 0))
		return -1;
	if (parent_sandbox(o))
		return -1;
	if (spawn_parser(P) < 0 || wait_ready(P) < 0) {
		ss_knock_log(LOG_ERR, "%s: the packet parser child did not start",
			     ss_err_name(SS_ERR_SANDBOX));
		return -1;
	}
	announce(P->conf, P->id);
	return 0;
}

/*
 * The cycles' close commands just ran; nftables elements and silosecd's grants stay until
 * they expire: --list keeps showing those, with a warning that the daemon is gone.
 */
static void state_at_exit(struct parent *P)
{
	ss_knock_state *st = P->st;
	size_t kept = 0;

	for (size_t i = 0; i < st->nopen; i++) {
		const ss_kaction *act = NULL;

		for (size_t j = 0; j < P->conf->nactions; j++)
			if (!strcmp(P->conf->actions[j].name, st->open[i].action))
				act = &P->conf->actions[j];
		if (!act || act->type != SS_KACT_CYCLE)
			st->open[kept++] = st->open[i];
	}
	st->nopen = kept;
	save_state(P);
}

/* --list and --metrics (1, 2): taken out of argv before the daemon's own options. */
static int strip_mode(int *argc, char **argv)
{
	int mode = 0, j = 1;

	for (int i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--list"))
			mode |= 1;
		else if (!strcmp(argv[i], "--metrics"))
			mode |= 2;
		else
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	*argc = j;
	return mode;
}

static const char *state_path(const ss_kconf *conf)
{
	return conf->state_file ? conf->state_file : SS_KNOCK_STATE_DEFAULT;
}

/* --list, --metrics: read what the running daemon (same configuration) last wrote. */
static int read_state(const char *conf_path, int mode)
{
	char err[SS_KCONF_ERR_LEN], *abs_path = realpath(conf_path, NULL);
	ss_knock_state *st = calloc(1, sizeof(*st));
	ss_kconf *conf = NULL;
	int ret = 1, r;
	bool up;

	if (!st || ss_kconf_load(abs_path ? abs_path : conf_path, &conf, err, sizeof(err))) {
		fprintf(stderr, "silosec-knockd: %s\n", st ? err : "out of memory");
		goto out;
	}
	r = ss_knock_state_load(state_path(conf), st);
	if (r) {
		fprintf(stderr, "silosec-knockd: %s: %s\n", state_path(conf),
			r == SS_ERR_NOT_FOUND ? "no state file: is silosec-knockd running with "
						"this configuration?"
			: r == SS_ERR_IO      ? strerror(errno)
					      : "not a state file of this version");
		goto out;
	}
	up = st->pid > 0 && (kill((pid_t)st->pid, 0) == 0 || errno == EPERM);
	if (!up)
		fprintf(stderr,
			"silosec-knockd: warning: the daemon that wrote %s (pid %ld) is not "
			"running; this is its last state\n",
			state_path(conf), st->pid);
	if (mode & 1)
		ss_knock_state_list(stdout, st, wall_ms() / 1000);
	if (mode & 2)
		ss_knock_state_metrics(stdout, st, up, wall_ms() / 1000);
	ret = fflush(stdout) ? 1 : 0;
out:
	ss_kconf_free(conf);
	free(abs_path);
	free(st);
	return ret;
}

/* Start, run until SIGTERM, close what cycles opened; 0 if it ran. */
static int serve(struct parent *P, const struct ss_daemon_args *o, int *sfd)
{
	int ret = 1;

	P->st = calloc(1, sizeof(*P->st));
	P->state_path = state_path(P->conf);
	if (P->st && start(P, o, sfd) == 0) {
		P->st->pid = (long)getpid(); /* after daemon() */
		P->st->started_s = wall_ms() / 1000;
		save_state(P);
		parent_loop(P, *sfd);
		ret = 0;
	}
	stop_parser(P);
	if (P->actx)
		ss_knock_actions_flush(P->actx, wall_ms());
	if (P->st && P->st->pid)
		state_at_exit(P);
	free(P->st);
	P->st = NULL;
	return ret;
}

int main(int argc, char **argv)
{
	static struct parent P;
	char *abs_path = NULL;
	char err[SS_KCONF_ERR_LEN];
	ss_identity *id = NULL;
	ss_kconf *conf = NULL;
	struct ss_daemon_args o;
	int ret, sfd = -1, mode = strip_mode(&argc, argv);

	P.sock = -1;
	ret = ss_daemon_args_parse(argc, argv, &o, usage);
	if (ret)
		return ret == 1 ? 0 : ret;
	if (mode)
		return read_state(o.path, mode);
	ret = 1;
	/* The server key lives in this process: no core dumps, no ptrace. */
	setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	log_stderr = o.foreground || o.check;
	if (!log_stderr)
		openlog("silosec-knockd", LOG_PID, LOG_DAEMON);
	/* Before the key is loaded: OpenSSL's secure heap and providers. */
	if (ss_sandbox_prepare(SS_SANDBOX_KNOCK_PARSER)) {
		ss_knock_log(LOG_ERR, "%s: cannot initialise OpenSSL", ss_err_name(SS_ERR_SANDBOX));
		return 1;
	}
	/* Paths in the file resolve against its directory; daemon() later changes to /. */
	abs_path = realpath(o.path, NULL);
	if (ss_kconf_load(abs_path ? abs_path : o.path, &conf, err, sizeof(err))) {
		ss_knock_log(LOG_ERR, "%s", err);
		free(abs_path);
		return 1;
	}
	ret = ss_keyfile_load(conf->private_key_file, &id);
	if (ret) {
		ss_knock_log(LOG_ERR, "%s: cannot load the private key: %s", conf->private_key_file,
			     ret == SS_ERR_IO	  ? strerror(errno)
			     : ret == SS_ERR_PERM ? "readable by group or others (chmod 600 it)"
			     : ss_ini_file_has_cr(conf->private_key_file)
				     ? "Windows line endings (CRLF); convert with dos2unix"
				     : "not one base64 key line, as silosec genkey writes");
		ret = 1;
		goto out;
	}
	if (o.check) {
		char pub[SS_B64_KEY_LEN];

		ss_key_to_base64(ss_identity_public(id), pub);
		printf("%s: ok: identity %s, %zu actions, %zu clients\n", o.path, pub,
		       conf->nactions, conf->nclients);
		ret = 0;
		goto out;
	}
	memset(&P, 0, sizeof(P));
	P.o = &o;
	P.conf = conf;
	P.id = id;
	P.sock = -1;
	P.backoff_ms = BACKOFF_MIN_MS;
	ret = serve(&P, &o, &sfd);
out:
	for (size_t i = 0; i < P.nlisten; i++)
		close(P.lfd[i]);
	if (sfd >= 0)
		close(sfd);
	if (P.sock >= 0)
		close(P.sock);
	ss_knock_actions_free(P.actx);
	ss_knock_replay_free(P.seen);
	ss_identity_free(id);
	ss_kconf_free(conf);
	free(abs_path);
	ss_audit_close();
	return ret;
}
