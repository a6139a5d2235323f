/* SPDX-License-Identifier: MIT */
/*
 * silosecd: one SiloSec tunnel interface. Reads its configuration, resolves its endpoints,
 * creates the TUN device, sockets and control socket, then moves packets until SIGTERM.
 * SIGHUP only reopens the audit file after a log rotation; the file is re-applied by
 * `silosec syncconf` (root reads it and sends the peers over the control socket).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <linux/capability.h>

#include "audit.h"
#include "common/ctlsock.h"
#include "daemon.h"
#include "log.h"
#include "daemon_args.h"
#include "ifdirs.h"
#include "notify.h"
#include "sandbox.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: silosecd -c FILE [-f] [-t] [--user NAME] [--audit PATH] [--no-sandbox]\n"
		"  -c, --config FILE   tunnel configuration (silosec.conf(5))\n"
		"  -f, --foreground    stay in the foreground and log to stderr\n"
		"  -t, --test          check the configuration and exit\n"
		"      --user NAME     run as NAME after set-up (default: silosec, else nobody)\n"
		"      --audit PATH    audit trail (JSON lines) to PATH, or - for stderr\n"
		"      --no-sandbox    debugging only: keep root, no seccomp or Landlock\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n");
}

/* Secrets live in this process: no core dumps, no ptrace by other users. */
static void harden(void)
{
	struct rlimit rl = {0, 0};

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Fork; the parent exits once the child reports it is up (or why it is not). */
static int daemonize(int *ready_fd)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 && c == 0 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	*ready_fd = p[1];
	return 0;
}

/*
 * What silosecd keeps after set-up, and why: only CAP_NET_ADMIN. `silosec set` and
 * `silosec syncconf` add and remove routes for AllowedIPs over the rtnetlink socket, and
 * the kernel checks the capability on each message. Nothing needs a file-permission
 * override: the daemon no longer reads its (root-only) configuration after start
 * (syncconf hands it the parsed file), and what it writes (TOFU pins, the control
 * socket's removal, a rotated audit file) lives in its interface's own directories,
 * which the privileged set-up gives to the daemon's user (dirs.c).
 */
static uint64_t tunnel_caps(const ss_daemon *d)
{
	(void)d;
	return 1ULL << CAP_NET_ADMIN;
}

/* Give the interface's run, state and (per-interface) log directories to the user. */
static int own_dirs(const ss_daemon *d, const struct ss_daemon_args *o, const char **step)
{
	char run[PATH_MAX], state[PATH_MAX], *adir = ss_path_dir(o->audit);
	const char *resolved;
	uid_t uid = 0;
	gid_t gid = 0;
	int ret = 0;

	if (!o->no_sandbox && ss_sandbox_user(o->user, &uid, &gid, &resolved)) {
		free(adir);
		return SS_ERR_NOT_FOUND;
	}
	if (ss_run_dir(d->conf->name, run, sizeof(run)) ||
	    ss_state_dir(d->conf->name, state, sizeof(state))) {
		errno = ENAMETOOLONG;
		ret = SS_ERR_SANDBOX;
	}
	*step = "run directory";
	if (!ret && ss_ifdir_own(run, uid, gid))
		ret = SS_ERR_SANDBOX;
	if (!ret && (*step = "state directory", ss_ifdir_own(state, uid, gid)))
		ret = SS_ERR_SANDBOX;
	if (!ret && adir && ss_ifdir_is_own_log(o->audit, d->conf->name) &&
	    (*step = "log directory", ss_ifdir_own(adir, uid, gid)))
		ret = SS_ERR_SANDBOX;
	free(adir);
	return ret;
}

/* What this instance can reach, for the log (and t_sandbox's two-instance check). */
static void log_paths(const struct ss_ifdirs *x)
{
	char line[1024] = "";
	size_t n = 0;

	for (size_t i = 0; i < x->npaths && n < sizeof(line); i++)
		if (x->paths[i].path)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %s (%s)",
					      x->paths[i].path,
					      x->paths[i].write	    ? "rw"
					      : x->paths[i].log_dir ? "create"
								    : "r");
	ss_log(LOG_INFO, "sandbox: Landlock paths:%s", line);
}

static int sandbox(const ss_daemon *d, const struct ss_daemon_args *o)
{
	const char *audit = o->audit && strcmp(o->audit, "-") ? o->audit : NULL;
	struct ss_sandbox_report rep;
	struct ss_ifdirs x;
	const char *step = "";
	int ret = own_dirs(d, o, &step);

	if (!ret && ss_ifdirs_init(&x, d->conf->name, d->conf->trust_store, audit)) {
		step = "paths";
		ret = SS_ERR_SANDBOX;
	}
	if (!ret) {
		/* This interface's own directories only, never another's (ifdirs.h). */
		struct ss_sandbox_policy pol = {
			.profile = SS_SANDBOX_TUNNEL,
			.null_backend = o->no_sandbox,
			.user = o->user,
			.caps = tunnel_caps(d),
			.landlock = true,
			.paths = x.paths,
			.npaths = x.npaths,
			.nofile = 4096,
			.no_fork = true,
			.memlock = 2 * SS_SANDBOX_SECURE_HEAP,
		};

		ret = ss_sandbox_apply(&pol, &rep, &step);
		if (!ret && !o->no_sandbox)
			log_paths(&x);
		ss_ifdirs_free(&x);
	}
	if (ret) {
		ss_log(LOG_ERR, "%s: sandbox: %s failed: %s", ss_err_name(SS_ERR_SANDBOX), step,
		       ret == SS_ERR_NOT_FOUND ? "no such user" : strerror(errno));
		return ret;
	}
	if (o->no_sandbox)
		ss_log(LOG_WARNING, "SS_ERR_SANDBOX: --no-sandbox: running as root with every "
				    "capability, no seccomp filter, no Landlock (debugging only)");
	else
		ss_log(LOG_INFO, "sandbox: uid %u gid %u, seccomp %d syscalls%s, Landlock %s%d",
		       rep.uid, rep.gid, rep.nsyscalls, rep.sanitizer ? " (+ASan runtime)" : "",
		       rep.landlock_abi ? "ABI " : "unavailable ", rep.landlock_abi);
	return 0;
}

static void print_warning(void *arg, unsigned line, const char *msg)
{
	fprintf(stderr, "silosecd: %s:%u: warning: %s\n", (const char *)arg, line, msg);
}

/* -t: the configuration, the key it names, and what would surprise; exit status. */
static int check(ss_conf *conf, const char *path)
{
	char err[SS_CONF_ERR_LEN];
	ss_identity *id = NULL;
	int ret;

	ret = ss_conf_load_identity(conf, &id, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "silosecd: %s\n", err);
		ss_conf_free(conf);
		return 1;
	}
	ss_conf_lint(conf, ss_identity_public(id), print_warning, (void *)path);
	printf("%s: ok (interface %s, %zu peer%s)\n", path, conf->name, conf->npeers,
	       conf->npeers == 1 ? "" : "s");
	ss_identity_free(id);
	ss_conf_free(conf);
	return 0;
}

/*
 * Device, addresses, routes and sockets exist: units after us may use them (systemd's
 * READY=1), and the parent of a daemonized silosecd may exit 0. -1 on a broken parent pipe.
 */
static int tell_ready(int notify, int ready)
{
	char ok = 0;

	if (ss_notify_send(notify, "READY=1"))
		ss_log(LOG_WARNING, "NOTIFY_SOCKET: READY=1: %s", strerror(errno));
	if (ready < 0)
		return 0;
	if (write(ready, &ok, 1) != 1)
		return -1;
	close(ready);
	if (!freopen("/dev/null", "r", stdin) || !freopen("/dev/null", "w", stdout) ||
	    !freopen("/dev/null", "w", stderr))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	char err[SS_CONF_ERR_LEN], ident[64];
	struct ss_daemon_args o;
	int ready = -1, notify, ret;
	ss_daemon d;
	ss_conf *conf;

	ret = ss_daemon_args_parse(argc, argv, &o, usage);
	if (ret)
		return ret == 1 ? 0 : ret;
	harden();
	/* Before the key is loaded: OpenSSL's secure heap and providers. */
	if (ss_sandbox_prepare(SS_SANDBOX_TUNNEL)) {
		fprintf(stderr, "silosecd: %s: cannot initialise OpenSSL\n",
			ss_err_name(SS_ERR_SANDBOX));
		return 1;
	}
	ret = ss_conf_load(o.path, &conf, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "silosecd: %s\n", err);
		return 1;
	}
	if (o.check)
		return check(conf, o.path);
	/* Every name lookup happens here, before the sandbox: the filter has no resolver. */
	ret = ss_conf_resolve(conf, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "silosecd: %s\n", err);
		ss_conf_free(conf);
		return 1;
	}
	snprintf(ident, sizeof(ident), "silosecd[%s]", conf->name);
	if (o.audit && ss_audit_open(o.audit, ident)) {
		fprintf(stderr, "silosecd: --audit %s: %s\n", o.audit, strerror(errno));
		ss_conf_free(conf);
		return 1;
	}
	if (!o.foreground && daemonize(&ready) < 0) {
		fprintf(stderr, "silosecd: fork: %s\n", strerror(errno));
		return 1;
	}
	ss_log_init(o.foreground ? ident : "silosecd", o.foreground);
	notify = ss_notify_open();
	if (notify == -2)
		ss_log(LOG_WARNING, "NOTIFY_SOCKET: %s (no readiness notification)",
		       strerror(errno));
	ret = ss_daemon_init(&d, conf, o.path, err, sizeof(err));
	if (!ret && sandbox(&d, &o)) {
		snprintf(err, sizeof(err), "%s: cannot set up the sandbox (--no-sandbox to debug)",
			 ss_err_name(SS_ERR_SANDBOX));
		ret = SS_ERR_SANDBOX;
	}
	if (ret) {
		fprintf(stderr, "silosecd: %s\n", err);
		if (!o.foreground)
			ss_log(LOG_ERR, "%s", err);
		ss_daemon_free(&d);
		return 1;
	}
	ss_log(LOG_NOTICE, "SS_TUN_UP: interface %s up, %u peers, %s transport", d.conf->name,
	       d.npeers, d.tr.kind == SS_TRANSPORT_UDP ? "udp" : "ip");
	if (tell_ready(notify, ready))
		return 1;
	ret = ss_daemon_run(&d);
	ss_log(LOG_NOTICE, "SS_TUN_DOWN: interface %s stopping", d.conf->name);
	(void)ss_notify_send(notify, "STOPPING=1");
	ss_daemon_free(&d);
	ss_audit_close();
	return ret ? 1 : 0;
}
