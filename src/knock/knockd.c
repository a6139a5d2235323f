/* SPDX-License-Identifier: MIT */
/*
 * silosec-knockd: single-packet authorization. Listens on UDP, validates each datagram
 * in the order of docs/PROTOCOL.md 14.5 and runs the configured action for knocks that
 * pass. Silent on the wire: nothing is ever sent back. Drops are counted per stable code
 * and logged at most once per LogInterval per code; SIGUSR1 logs all counters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <silosec/error.h>
#include <silosec/identity.h>
#include <silosec/knock.h>

#include "actions.h"
#include "kconf.h"
#include "crypto.h"
#include "validate.h"

#define BATCH 64

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

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t wall_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000ull + (uint64_t)t.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: silosec-knockd -c FILE [-f] [-t]\n"
		   "  -c FILE   configuration (knockd.conf(5))\n"
		   "  -f        stay in the foreground and log to stderr\n"
		   "  -t        check the configuration and exit\n");
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
	if (code <= SS_ERR_KNOCK_UNKNOWN_ID)
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
		     code <= SS_ERR_KNOCK_TIME && v->msg.action[0] ? " action " : "",
		     code <= SS_ERR_KNOCK_TIME ? v->msg.action : "", signed_src,
		     (unsigned long long)ls->since[idx], ls->since[idx] == 1 ? "" : "s",
		     c->log_interval);
	ls->since[idx] = 0;
	ls->last_ms[idx] = now_ms ? now_ms : 1;
}

static void log_counters(const ss_knock_validator *v)
{
	char line[768];
	size_t off = 0;

	off += (size_t)snprintf(line, sizeof(line), "counters: accepted %llu",
				(unsigned long long)v->accepted);
	for (int i = 0; i < SS_KNOCK_DROP_COUNT && off < sizeof(line); i++)
		off += (size_t)snprintf(line + off, sizeof(line) - off, ", %s %llu",
					ss_err_name(SS_KNOCK_DROP_FIRST - i),
					(unsigned long long)v->drops[i]);
	ss_knock_log(LOG_INFO, "%s", line);
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	char *abs_path = NULL;
	bool foreground = false, test_only = false;
	char err[SS_KCONF_ERR_LEN];
	struct pollfd pfd[SS_KCONF_MAX_LISTEN + 1];
	struct ss_knock_actx *actx = NULL;
	ss_knock_validator val;
	ss_identity *id = NULL;
	struct logstate ls;
	ss_kconf *conf = NULL;
	struct rlimit core = {0, 0};
	uint64_t rl_seed;
	sigset_t mask;
	size_t nfd = 0;
	int opt, ret = 1, sfd = -1;
	bool running = true, have_val = false, child_exited = false;
	uint64_t next_tick = 0;

	while ((opt = getopt(argc, argv, "c:fth")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 't':
			test_only = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 2;
	}
	/* The server key lives in this process: no core dumps, no ptrace. */
	setrlimit(RLIMIT_CORE, &core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	log_stderr = foreground || test_only;
	if (!log_stderr)
		openlog("silosec-knockd", LOG_PID, LOG_DAEMON);
	memset(&ls, 0, sizeof(ls));

	/* Paths in the file resolve against its directory; daemon() later changes to /. */
	abs_path = realpath(path, NULL);
	if (ss_kconf_load(abs_path ? abs_path : path, &conf, err, sizeof(err))) {
		ss_knock_log(LOG_ERR, "%s", err);
		free(abs_path);
		return 1;
	}
	if (ss_keyfile_load(conf->private_key_file, &id) != 0) {
		ss_knock_log(LOG_ERR, "%s: cannot load the private key (mode 0600, one base64 key)",
			     conf->private_key_file);
		goto out;
	}
	if (test_only) {
		char pub[SS_B64_KEY_LEN];

		ss_key_to_base64(ss_identity_public(id), pub);
		printf("%s: ok: identity %s, %zu actions, %zu clients\n", path, pub, conf->nactions,
		       conf->nclients);
		ret = 0;
		goto out;
	}
	if (ss_random_system(NULL, (uint8_t *)&rl_seed, sizeof(rl_seed)) ||
	    ss_knock_validator_init(&val, conf, id, rl_seed, wall_ms())) {
		ss_knock_log(LOG_ERR,
			     "cannot start: replay file %s unreadable, corrupt or over "
			     "ReplayCapacity",
			     conf->replay_file ? conf->replay_file : "(none)");
		goto out;
	}
	have_val = true;
	if (ss_knock_actions_init(&actx, conf, err, sizeof(err))) {
		ss_knock_log(LOG_ERR, "%s", err);
		goto out;
	}
	for (size_t i = 0; i < conf->nlisten; i++) {
		int fd = open_socket(conf->listen[i]);

		if (fd < 0)
			goto out;
		pfd[nfd].fd = fd;
		pfd[nfd++].events = POLLIN;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		goto out;
	pfd[nfd].fd = sfd;
	pfd[nfd].events = POLLIN;
	if (!foreground && daemon(0, 0) < 0)
		goto out;
	{
		char pub[SS_B64_KEY_LEN];

		ss_key_to_base64(ss_identity_public(id), pub);
		ss_knock_log(LOG_NOTICE, "listening as %s on %zu socket(s), window %llu ms", pub,
			     conf->nlisten, (unsigned long long)conf->window_ms);
	}

	while (running) {
		uint64_t t = wall_ms();
		int n;

		/* Timers and children only when due or signalled: a flood must not pay for them. */
		if (t >= next_tick || child_exited) {
			next_tick = t + (uint64_t)ss_knock_actions_tick(actx, t);
			child_exited = false;
		}
		n = poll(pfd, nfd + 1, next_tick > t ? (int)(next_tick - t) : 0);

		if (n < 0 && errno != EINTR)
			break;
		if (pfd[nfd].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
					running = false;
				else if (si.ssi_signo == SIGCHLD)
					child_exited = true;
				else if (si.ssi_signo == SIGUSR1)
					log_counters(&val);
				else if (si.ssi_signo == SIGHUP)
					ss_knock_log(LOG_NOTICE,
						     "SIGHUP: restart the daemon to reload "
						     "(the replay cache persists)");
			}
		}
		for (size_t i = 0; i < nfd; i++) {
			struct mmsghdr mm[BATCH];
			struct iovec iov[BATCH];
			struct sockaddr_storage from[BATCH];
			static uint8_t bufs[BATCH][SS_KNOCK_MAX_LEN + 1];
			int got;

			if (!(pfd[i].revents & POLLIN))
				continue;
			for (int k = 0; k < BATCH; k++) {
				iov[k].iov_base = bufs[k];
				iov[k].iov_len = sizeof(bufs[k]);
				memset(&mm[k].msg_hdr, 0, sizeof(mm[k].msg_hdr));
				mm[k].msg_hdr.msg_iov = &iov[k];
				mm[k].msg_hdr.msg_iovlen = 1;
				mm[k].msg_hdr.msg_name = &from[k];
				mm[k].msg_hdr.msg_namelen = sizeof(from[k]);
			}
			got = recvmmsg(pfd[i].fd, mm, BATCH, MSG_DONTWAIT, NULL);
			for (int k = 0; k < got; k++) {
				ss_knock_verdict v;
				uint8_t addr[16];
				char src[INET6_ADDRSTRLEN];
				int fam, r;
				/* Longer than any knock: recorded as too long, not truncated. */
				size_t len = mm[k].msg_hdr.msg_flags & MSG_TRUNC ? SIZE_MAX
										 : mm[k].msg_len;

				source(&from[k], &fam, addr, src, sizeof(src));
				r = ss_knock_validate(&val, bufs[k], len, fam, addr, mono_ns(),
						      wall_ms(), &v);
				if (r) {
					log_drop(&ls, conf, r, src, &v, wall_ms());
					continue;
				}
				{
					char cid[SS_B64_KEY_LEN], fp[SS_FINGERPRINT_LEN];

					ss_key_to_base64(v.msg.client, cid);
					ss_fingerprint(v.msg.client, fp);
					ss_knock_log(LOG_NOTICE,
						     "knock accepted: client %s (%s, %s) action %s "
						     "from %s, "
						     "payload %zu bytes, duration %u s",
						     v.client->name, fp, cid, v.action->name, src,
						     v.msg.payload_len, v.duration);
				}
				(void)ss_knock_actions_run(actx, &v, fam, addr, src, wall_ms());
				next_tick = 0;
				ss_wipe(&v, sizeof(v));
			}
		}
	}
	ss_knock_actions_flush(actx, wall_ms());
	log_counters(&val);
	ret = 0;
out:
	for (size_t i = 0; i < nfd; i++)
		close(pfd[i].fd);
	if (sfd >= 0)
		close(sfd);
	ss_knock_actions_free(actx);
	if (have_val)
		ss_knock_validator_free(&val);
	ss_identity_free(id);
	ss_kconf_free(conf);
	free(abs_path);
	return ret;
}
