/* SPDX-License-Identifier: MIT */
/*
 * Actions. Commands are run with fork + execve, never a shell: argv comes from the
 * configuration only, and everything the client sent reaches the child through its
 * environment, the payload base64-encoded. Firewall access goes through an nftables set
 * with per-element timeouts, so the kernel closes it even if the daemon dies.
 */
#include "actions.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#ifdef SS_HAVE_NFTABLES
#include <nftables/libnftables.h>
#endif

#include "common/crypto.h"
#include "common/ctlclient.h"

struct child {
	pid_t pid; /* 0 = free */
	uint64_t deadline_ms;
	char what[80];
};

struct pending {
	bool used;
	uint64_t due_ms;
	const ss_kaction *act;
	ss_knock_verdict *v; /* the knock, for the close phase's environment */
	char src[64];
};

struct ss_knock_actx {
	const ss_kconf *conf;
	struct child children[SS_KNOCK_MAX_CHILDREN];
	struct pending *pend;
#ifdef SS_HAVE_NFTABLES
	struct nft_ctx *nft;
#endif
};

static void free_env(char **env)
{
	if (!env)
		return;
	for (char **e = env; *e; e++) {
		ss_wipe(*e, strlen(*e));
		free(*e);
	}
	free(env);
}

#ifdef SS_HAVE_NFTABLES
static int nft_run(struct ss_knock_actx *a, const char *cmd, bool quiet)
{
	int rc = nft_run_cmd_from_buffer(a->nft, cmd);
	const char *e = nft_ctx_get_error_buffer(a->nft);

	if (rc && !quiet)
		ss_knock_log(LOG_ERR, "nftables: %s: %s", cmd, e ? e : "failed");
	return rc ? SS_ERR_IO : 0;
}

static int nft_setup(struct ss_knock_actx *a, char *err, size_t errlen)
{
	const ss_kconf *c = a->conf;
	char *buf;
	/* Each guard line is at most "add element inet " + table + " guard { udp . 65535-65535
	 * }\n": 64 bytes plus the table name. */
	size_t line = strlen(c->nft_table) + 64;
	size_t cap = 4096 + 3 * line, off = 0;
	bool any = false;
	int ret;

	a->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!a->nft)
		return SS_ERR_NOMEM;
	nft_ctx_buffer_output(a->nft);
	nft_ctx_buffer_error(a->nft);
	buf = malloc(cap);
	if (!buf)
		return SS_ERR_NOMEM;
	/* Start from a known state: whatever an earlier run left is replaced. */
	off += (size_t)snprintf(
		buf + off, cap - off,
		"add table inet %s\ndelete table inet %s\n"
		"table inet %s {\n"
		" set allow4 { type ipv4_addr . inet_proto . inet_service; flags "
		"interval,timeout; }\n"
		" set allow6 { type ipv6_addr . inet_proto . inet_service; flags "
		"interval,timeout; }\n"
		" set guard { type inet_proto . inet_service; flags interval; }\n"
		" chain input { type filter hook input priority -10; policy accept;\n"
		"  ct state established,related accept\n"
		"  ip saddr . meta l4proto . th dport @allow4 accept\n"
		"  ip6 saddr . meta l4proto . th dport @allow6 accept\n",
		c->nft_table, c->nft_table, c->nft_table);
	if (c->guard)
		off += (size_t)snprintf(buf + off, cap - off,
					"  meta l4proto . th dport @guard drop\n");
	off += (size_t)snprintf(buf + off, cap - off, " }\n}\n");
	for (size_t i = 0; i < c->nactions; i++)
		if (c->actions[i].type == SS_KACT_OPEN)
			cap += c->actions[i].nports * line;
	{
		char *nb = realloc(buf, cap);

		if (!nb) {
			free(buf);
			return SS_ERR_NOMEM;
		}
		buf = nb;
	}
	for (size_t i = 0; i < c->nactions; i++) {
		const ss_kaction *act = &c->actions[i];

		if (act->type != SS_KACT_OPEN)
			continue;
		for (size_t j = 0; j < act->nports; j++) {
			const ss_kport *p = &act->ports[j];

			int n = snprintf(buf + off, cap - off,
					 "add element inet %s guard { %s . %u-%u }\n", c->nft_table,
					 p->proto == IPPROTO_TCP ? "tcp" : "udp", p->lo, p->hi);

			/* Sized above; a miscount must fail, never write past the buffer. */
			if (n < 0 || (size_t)n >= cap - off) {
				free(buf);
				snprintf(err, errlen, "nftables: rule buffer too small");
				return SS_ERR_INVAL;
			}
			off += (size_t)n;
			any = true;
		}
	}
	(void)any;
	ret = nft_run(a, buf, true);
	if (ret)
		snprintf(err, errlen, "nftables: cannot create table inet %s: %s", c->nft_table,
			 nft_ctx_get_error_buffer(a->nft));
	free(buf);
	return ret;
}

static int do_open(struct ss_knock_actx *a, const ss_knock_verdict *v, int family, const char *src)
{
	const ss_kaction *act = v->action;
	const char *set = family == AF_INET ? "allow4" : "allow6";
	char cmd[256];
	int ret = 0;

	for (size_t i = 0; i < act->nports; i++) {
		const ss_kport *p = &act->ports[i];
		const char *proto = p->proto == IPPROTO_TCP ? "tcp" : "udp";

		/* add does not refresh a live element's timeout: replace it. */
		snprintf(cmd, sizeof(cmd), "delete element inet %s %s { %s . %s . %u-%u }",
			 a->conf->nft_table, set, src, proto, p->lo, p->hi);
		(void)nft_run(a, cmd, true);
		snprintf(cmd, sizeof(cmd), "add element inet %s %s { %s . %s . %u-%u timeout %us }",
			 a->conf->nft_table, set, src, proto, p->lo, p->hi, v->duration);
		if (nft_run(a, cmd, false))
			ret = SS_ERR_IO;
	}
	return ret;
}
#endif

int ss_knock_actions_init(struct ss_knock_actx **out, const ss_kconf *c, char *err, size_t errlen)
{
	struct ss_knock_actx *a = calloc(1, sizeof(*a));
	bool need_nft = false;
	int ret = 0;

	if (!a)
		return SS_ERR_NOMEM;
	a->conf = c;
	a->pend = calloc(SS_KNOCK_MAX_PENDING, sizeof(*a->pend));
	if (!a->pend) {
		free(a);
		return SS_ERR_NOMEM;
	}
	for (size_t i = 0; i < c->nactions; i++)
		need_nft |= c->actions[i].type == SS_KACT_OPEN;
	if (need_nft) {
#ifdef SS_HAVE_NFTABLES
		ret = nft_setup(a, err, errlen);
#else
		snprintf(err, errlen, "open actions need libnftables, not in this build");
		ret = SS_ERR_INVAL;
#endif
	}
	if (ret) {
		ss_knock_actions_free(a);
		return ret;
	}
	*out = a;
	return 0;
}

void ss_knock_actions_free(struct ss_knock_actx *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < SS_KNOCK_MAX_PENDING; i++)
		if (a->pend[i].v) {
			ss_wipe(a->pend[i].v, sizeof(*a->pend[i].v));
			free(a->pend[i].v);
		}
	free(a->pend);
#ifdef SS_HAVE_NFTABLES
	if (a->nft)
		nft_ctx_free(a->nft);
#endif
	free(a);
}

static int env_add(char **env, size_t *n, const char *k, const char *v)
{
	size_t len = strlen(k) + strlen(v) + 2;

	env[*n] = malloc(len);
	if (!env[*n])
		return SS_ERR_NOMEM;
	snprintf(env[*n], len, "%s=%s", k, v);
	(*n)++;
	return 0;
}

/* The child's whole environment: nothing of the daemon's leaks into it. */
static char **build_env(const ss_knock_verdict *v, const char *src, const char *phase,
			const ss_kport *port)
{
	char b64[4 * ((SS_KNOCK_MAX_PAYLOAD + 2) / 3) + 1], id[SS_B64_KEY_LEN], num[32];
	char ascii[SS_KNOCK_MAX_PAYLOAD + 1];
	char **env = calloc(16, sizeof(char *));
	size_t n = 0;
	int ret = 0;

	if (!env)
		return NULL;
	ss_key_to_base64(v->msg.client, id);
	ss_knock_base64(v->msg.payload, v->msg.payload_len, b64);
	ret |= env_add(env, &n, "PATH",
		       "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	ret |= env_add(env, &n, "SILOSEC_KNOCK_IDENTITY", id);
	ret |= env_add(env, &n, "SILOSEC_KNOCK_CLIENT", v->client->name);
	ret |= env_add(env, &n, "SILOSEC_KNOCK_ACTION", v->action->name);
	ret |= env_add(env, &n, "SILOSEC_KNOCK_SOURCE", src);
	ret |= env_add(env, &n, "SILOSEC_KNOCK_PAYLOAD", b64);
	if (v->action->payload == SS_KPAY_ASCII) {
		/* Validated printable ASCII before we got here. */
		memcpy(ascii, v->msg.payload, v->msg.payload_len);
		ascii[v->msg.payload_len] = '\0';
		ret |= env_add(env, &n, "SILOSEC_KNOCK_PAYLOAD_ASCII", ascii);
		ss_wipe(ascii, sizeof(ascii));
	}
	snprintf(num, sizeof(num), "%u", v->duration);
	ret |= env_add(env, &n, "SILOSEC_KNOCK_DURATION", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)(v->msg.timestamp_ms / 1000));
	ret |= env_add(env, &n, "SILOSEC_KNOCK_TIMESTAMP", num);
	ret |= env_add(env, &n, "SILOSEC_KNOCK_PHASE", phase);
	if (port) {
		ret |= env_add(env, &n, "SILOSEC_KNOCK_PROTO",
			       port->proto == IPPROTO_TCP ? "tcp" : "udp");
		if (port->lo == port->hi)
			snprintf(num, sizeof(num), "%u", port->lo);
		else
			snprintf(num, sizeof(num), "%u-%u", port->lo, port->hi);
		ret |= env_add(env, &n, "SILOSEC_KNOCK_PORT", num);
	}
	ss_wipe(b64, sizeof(b64));
	if (ret) {
		free_env(env);
		return NULL;
	}
	return env;
}

/* In the child, after fork: async-signal-safe calls only, then execve. */
static void child_exec(const ss_kaction *act, char **argv, char **env, const struct passwd *pw)
{
	struct rlimit core = {0, 0}, nofile = {256, 256}, fsize = {64 << 20, 64 << 20};
	struct rlimit cpu = {act->timeout + 1, act->timeout + 2};
	sigset_t none;
	int fd;

	setpgid(0, 0); /* so a timeout kills what the command started too */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		if (fd > 2)
			close(fd);
	}
	/* Only stdin, stdout and stderr reach the command: no sockets, no key file. */
	syscall(SYS_close_range, 3U, ~0U, 0U);
	setrlimit(RLIMIT_CORE, &core);
	setrlimit(RLIMIT_NOFILE, &nofile);
	setrlimit(RLIMIT_FSIZE, &fsize);
	setrlimit(RLIMIT_CPU, &cpu);
	umask(077);
	if (pw) {
		if (setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid))
			_exit(126);
		if (chdir(pw->pw_dir) < 0 && chdir("/") < 0)
			_exit(126);
	} else if (chdir("/") < 0) {
		_exit(126);
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	execve(argv[0], argv, env);
	_exit(127);
}

static int spawn(struct ss_knock_actx *a, const ss_kaction *act, char **argv, char **env,
		 const char *what, uint64_t now_ms)
{
	struct passwd *pw = NULL;
	struct child *slot = NULL;
	pid_t pid;

	for (size_t i = 0; i < SS_KNOCK_MAX_CHILDREN; i++)
		if (!a->children[i].pid) {
			slot = &a->children[i];
			break;
		}
	if (!slot) {
		ss_knock_log(LOG_WARNING,
			     "action %s: %d commands already running, not started (%s)", act->name,
			     SS_KNOCK_MAX_CHILDREN, ss_err_name(SS_ERR_FULL));
		return SS_ERR_FULL;
	}
	if (act->user) {
		pw = getpwnam(act->user);
		if (!pw) {
			ss_knock_log(LOG_ERR, "action %s: no user %s, not started", act->name,
				     act->user);
			return SS_ERR_NOT_FOUND;
		}
	}
	pid = fork();
	if (pid < 0) {
		ss_knock_log(LOG_ERR, "action %s: fork: %s", act->name, strerror(errno));
		return SS_ERR_IO;
	}
	if (pid == 0)
		child_exec(act, argv, env, pw);
	slot->pid = pid;
	slot->deadline_ms = now_ms + (uint64_t)act->timeout * 1000;
	snprintf(slot->what, sizeof(slot->what), "%s", what);
	return 0;
}

/* A command action, or one phase of a cycle: once, or once per Open entry. */
static int run_phase(struct ss_knock_actx *a, const ss_knock_verdict *v, const char *src,
		     const char *phase, char **argv, uint64_t now_ms)
{
	const ss_kaction *act = v->action;
	size_t n = act->nports ? act->nports : 1;
	char what[80];
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		char **env = build_env(v, src, phase, act->nports ? &act->ports[i] : NULL);

		if (!env)
			return SS_ERR_NOMEM;
		snprintf(what, sizeof(what), "action %s (%s) for %s", act->name, phase, src);
		ret |= spawn(a, act, argv, env, what, now_ms);
		free_env(env);
	}
	return ret ? SS_ERR_IO : 0;
}

/*
 * Type = grant: ask silosecd, over its control socket, to let the knocking identity reach
 * the action's Rule for the knock's duration. The tunnel identity is the knock identity.
 */
static int do_grant(const ss_knock_verdict *v, const char *src)
{
	const ss_kaction *act = v->action;
	char err[256], f[SS_FINGERPRINT_LEN];
	int ret = ss_ctl_grant(act->iface, v->msg.client, act->rule, v->duration, err, sizeof(err));

	ss_fingerprint(v->msg.client, f);
	if (!ret)
		ss_knock_log(LOG_NOTICE, "action %s: granted %s on %s to %s (from %s) for %u s",
			     act->name, act->rule, act->iface, f, src, v->duration);
	else
		ss_knock_log(LOG_WARNING, "action %s: grant of %s on %s to %s refused: %s",
			     act->name, act->rule, act->iface, f,
			     ret == SS_ERR_INVAL ? err
			     : ret == SS_ERR_IO	 ? strerror(errno)
						 : ss_strerror(ret));
	return ret;
}

int ss_knock_actions_run(struct ss_knock_actx *a, const ss_knock_verdict *v, int family,
			 const uint8_t *addr, const char *src, uint64_t now_ms)
{
	const ss_kaction *act = v->action;
	int ret = 0;

	(void)addr;
	switch (act->type) {
	case SS_KACT_COMMAND:
		ret = run_phase(a, v, src, "run", act->argv, now_ms);
		break;
	case SS_KACT_GRANT:
		ret = do_grant(v, src);
		break;
	case SS_KACT_OPEN:
#ifdef SS_HAVE_NFTABLES
		ret = do_open(a, v, family, src);
		if (!ret)
			ss_knock_log(LOG_NOTICE, "action %s: opened for %s for %u s", act->name,
				     src, v->duration);
#else
		(void)family;
		ret = SS_ERR_INVAL;
#endif
		break;
	case SS_KACT_CYCLE: {
		struct pending *p = NULL;

		for (size_t i = 0; i < SS_KNOCK_MAX_PENDING; i++)
			if (!a->pend[i].used) {
				p = &a->pend[i];
				break;
			}
		/* No room to remember the close: do not open either. */
		if (!p) {
			ss_knock_log(LOG_WARNING, "action %s: %d cycles pending, refused (%s)",
				     act->name, SS_KNOCK_MAX_PENDING, ss_err_name(SS_ERR_FULL));
			return SS_ERR_FULL;
		}
		ret = run_phase(a, v, src, "open", act->argv, now_ms);
		p->used = true;
		p->act = act;
		p->due_ms = now_ms + (uint64_t)v->duration * 1000;
		/* The close phase needs the knock's details later: keep a copy of the verdict. */
		p->v = malloc(sizeof(*p->v));
		if (!p->v) {
			p->used = false;
			return SS_ERR_NOMEM;
		}
		*p->v = *v;
		snprintf(p->src, sizeof(p->src), "%s", src);
		break;
	}
	}
	return ret;
}

static void run_close(struct ss_knock_actx *a, struct pending *p, uint64_t now_ms)
{
	(void)run_phase(a, p->v, p->src, "close", p->act->close_argv, now_ms);
	ss_wipe(p->v, sizeof(*p->v));
	free(p->v);
	p->v = NULL;
	p->used = false;
}

int64_t ss_knock_actions_tick(struct ss_knock_actx *a, uint64_t now_ms)
{
	int64_t next = 1000;
	int status;

	/* By pid: the daemon's packet-parser child is not ours to reap. */
	for (size_t i = 0; i < SS_KNOCK_MAX_CHILDREN; i++) {
		struct child *c = &a->children[i];

		if (!c->pid || waitpid(c->pid, &status, WNOHANG) != c->pid)
			continue;
		if (WIFEXITED(status))
			ss_knock_log(WEXITSTATUS(status) ? LOG_WARNING : LOG_INFO,
				     "%s: exited with status %d", c->what, WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			ss_knock_log(LOG_WARNING, "%s: killed by signal %d", c->what,
				     WTERMSIG(status));
		c->pid = 0;
	}
	for (size_t i = 0; i < SS_KNOCK_MAX_CHILDREN; i++) {
		struct child *c = &a->children[i];

		if (!c->pid)
			continue;
		if (now_ms >= c->deadline_ms) {
			ss_knock_log(LOG_WARNING, "%s: timed out, killing it", c->what);
			kill(-c->pid, SIGKILL);
			kill(c->pid, SIGKILL);
			c->deadline_ms = now_ms + 1000; /* reaped on the next tick */
		} else if ((int64_t)(c->deadline_ms - now_ms) < next) {
			next = (int64_t)(c->deadline_ms - now_ms);
		}
	}
	for (size_t i = 0; i < SS_KNOCK_MAX_PENDING; i++) {
		struct pending *p = &a->pend[i];

		if (!p->used)
			continue;
		if (now_ms >= p->due_ms)
			run_close(a, p, now_ms);
		else if ((int64_t)(p->due_ms - now_ms) < next)
			next = (int64_t)(p->due_ms - now_ms);
	}
	return next;
}

void ss_knock_actions_flush(struct ss_knock_actx *a, uint64_t now_ms)
{
	for (size_t i = 0; i < SS_KNOCK_MAX_PENDING; i++)
		if (a->pend[i].used)
			run_close(a, &a->pend[i], now_ms);
}
