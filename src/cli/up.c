/* SPDX-License-Identifier: MIT */
/*
 * `silosec up`, `silosec down` and `silosec hook`: what wg-quick does around the daemon,
 * done here by root and never by the sandboxed silosecd. Up: PreUp, the daemon (its
 * routes and rules; it exits its parent only once the interface is up), DNS, PostUp.
 * Down: PreDown, the daemon stopped (it removes its routes and rules), DNS undone,
 * PostDown. `hook` runs one of those steps alone, for the systemd unit's Exec lines.
 * The file `up` used is recorded as ss_ctl_dir()/IFACE.up, beside (not in) the
 * interface's run directory: that one belongs to the daemon's user, and root must not
 * run hooks from a file the daemon could name.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "common/ctlsock.h"
#include "config.h"
#include "hooks.h"

#ifndef SS_SBINDIR
#define SS_SBINDIR "/usr/local/sbin"
#endif
#define STOP_TIMEOUT_MS 10000

enum stage { PRE_UP, POST_UP, PRE_DOWN, POST_DOWN };
static const char *const stage_names[] = {"pre-up", "post-up", "pre-down", "post-down"};
static const char *const hook_keys[] = {"PreUp", "PostUp", "PreDown", "PostDown"};

static bool quiet; /* run(): the command's stderr to /dev/null */

/* Runs argv (stdin from text when not NULL); its exit status, or -1. */
static int run(char *const argv[], const char *text)
{
	int p[2] = {-1, -1}, status;
	pid_t pid;

	/* A command that exits without reading its input must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (text && pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = quiet ? open("/dev/null", O_WRONLY) : -1;

		if (null >= 0)
			dup2(null, 2);
		if (text) {
			dup2(p[0], 0);
			close(p[0]);
			close(p[1]);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s: %s\n", prog, argv[0], strerror(errno));
		_exit(127);
	}
	if (text) {
		close(p[0]);
		if (write(p[1], text, strlen(text)) < 0)
			status = -1;
		close(p[1]);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Every line of one hook key, in order; stops at the first failure. */
static int run_hooks(const ss_conf *c, enum ss_hook h)
{
	for (size_t i = 0; i < c->nhooks[h]; i++) {
		char cmd[SS_CONF_MAX_LINE + 256];
		char *argv[] = {"/bin/sh", "-c", cmd, NULL};
		int st;

		if (ss_hook_expand(c->hooks[h][i], c->name, cmd, sizeof(cmd))) {
			fprintf(stderr, "%s: %s: too long after %%i expansion\n", prog,
				hook_keys[h]);
			return -1;
		}
		fprintf(stderr, "[#] %s\n", cmd);
		st = run(argv, NULL);
		if (st) {
			fprintf(stderr, "%s: %s = %s: exit status %d\n", prog, hook_keys[h],
				c->hooks[h][i], st);
			return -1;
		}
	}
	return 0;
}

static bool in_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	for (const char *s = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"; *s;) {
		size_t n = strcspn(s, ":");

		if (n &&
		    (size_t)snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, s, name) < sizeof(buf) &&
		    !access(buf, X_OK))
			return true;
		s += n + (s[n] == ':');
	}
	return false;
}

/* systemd-resolved when it runs, else resolvconf (openresolv, or resolved's shim). */
static int dns_resolvectl(const ss_conf *c, bool set)
{
	char *argv[4 + SS_CONF_MAX_DNS] = {"resolvectl", set ? "dns" : "revert", (char *)c->name};
	int st;

	if (!set)
		return run(argv, NULL);
	for (size_t i = 0; i < c->ndns_servers; i++)
		argv[3 + i] = c->dns_servers[i];
	st = run(argv, NULL);
	if (st || !c->ndns_search)
		return st;
	argv[1] = "domain";
	for (size_t i = 0; i <= c->ndns_search; i++)
		argv[3 + i] = i < c->ndns_search ? c->dns_search[i] : NULL;
	return run(argv, NULL);
}

static int dns_resolvconf(const ss_conf *c, bool set)
{
	char text[SS_CONF_MAX_DNS * 280 + 16] = "";
	char *add[] = {"resolvconf", "-a", (char *)c->name, "-m", "0", "-x", NULL};
	char *del[] = {"resolvconf", "-d", (char *)c->name, "-f", NULL};
	size_t n = 0;

	if (!set)
		return run(del, NULL);
	for (size_t i = 0; i < c->ndns_servers; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "nameserver %s\n",
				      c->dns_servers[i]);
	if (c->ndns_search)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "search");
	for (size_t i = 0; i < c->ndns_search; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " %s", c->dns_search[i]);
	if (c->ndns_search)
		snprintf(text + n, sizeof(text) - n, "\n");
	return run(add, text);
}

static int dns(const ss_conf *c, bool set)
{
	int st;

	if (!c->ndns_servers && !c->ndns_search)
		return 0;
	if (!access("/run/systemd/resolve", F_OK) && in_path("resolvectl")) {
		st = dns_resolvectl(c, set);
	} else if (in_path("resolvconf")) {
		st = dns_resolvconf(c, set);
	} else {
		fprintf(stderr,
			"%s: DNS = needs systemd-resolved (resolvectl) or resolvconf "
			"(e.g. Debian's openresolv); found neither\n",
			prog);
		return -1;
	}
	if (st)
		fprintf(stderr, "%s: %s DNS for %s: exit status %d\n", prog,
			set ? "setting" : "removing", c->name, st);
	return st ? -1 : 0;
}

/* IFACE: /etc/silosec/IFACE.conf ($SILOSEC_CONF_DIR); with '/' or ".conf": a file. */
static void conf_path(const char *arg, char *out, size_t cap)
{
	const char *dir = getenv("SILOSEC_CONF_DIR");
	size_t len = strlen(arg);

	if (strchr(arg, '/') || (len > 5 && !strcmp(arg + len - 5, ".conf")))
		snprintf(out, cap, "%s", arg);
	else
		snprintf(out, cap, "%s/%s.conf", dir && *dir ? dir : "/etc/silosec", arg);
}

static int record_path(const char *iface, char *out, size_t cap)
{
	return (size_t)snprintf(out, cap, "%s/%s.up", ss_ctl_dir(), iface) < cap ? 0 : -1;
}

/* The file `up` recorded for iface, else what conf_path makes of it. */
static void recorded_conf(const char *arg, char *out, size_t cap)
{
	char rec[PATH_MAX];
	FILE *f;

	conf_path(arg, out, cap);
	if (strchr(arg, '/') || record_path(arg, rec, sizeof(rec)) || !(f = fopen(rec, "re")))
		return;
	if (fgets(out, (int)cap, f))
		out[strcspn(out, "\n")] = '\0';
	else
		conf_path(arg, out, cap);
	fclose(f);
}

static int record(const ss_conf *c, const char *path, bool keep)
{
	char rec[PATH_MAX], abs[PATH_MAX];
	FILE *f;

	if (record_path(c->name, rec, sizeof(rec)))
		return -1;
	if (!keep)
		return unlink(rec) < 0 && errno != ENOENT ? -1 : 0;
	if (!realpath(path, abs))
		return -1;
	mkdir(ss_ctl_dir(), 0755);
	f = fopen(rec, "we");
	if (!f)
		return -1;
	fprintf(f, "%s\n", abs);
	return fclose(f);
}

static ss_conf *load(const char *path)
{
	char err[SS_CONF_ERR_LEN];
	ss_conf *c = NULL;

	if (ss_conf_load(path, &c, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return NULL;
	}
	return c;
}

/*
 * wg-quick's sysctl for a full tunnel: reverse-path checks see the fwmark, so replies to
 * the marked transport pass strict rp_filter. Left set on down, as wg-quick leaves it.
 */
static void src_valid_mark(const ss_conf *c)
{
	int fd;

	if (c->table_mode != SS_TABLE_AUTO || !ss_conf_full_tunnel(c))
		return;
	fd = open("/proc/sys/net/ipv4/conf/all/src_valid_mark", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1\n", 2) != 2)
		fprintf(stderr, "%s: net.ipv4.conf.all.src_valid_mark=1: %s\n", prog,
			strerror(errno));
	if (fd >= 0)
		close(fd);
}

static bool full_family(const ss_conf *c, int family)
{
	for (size_t i = 0; i < c->npeers; i++)
		for (size_t j = 0; j < c->peers[i].nallowed; j++)
			if (!c->peers[i].allowed[j].prefix &&
			    c->peers[i].allowed[j].family == family)
				return true;
	return false;
}

/* One family's table of fw_text(); the number of bytes written. */
static size_t fw_family(const ss_conf *c, int family, uint32_t mark, char *t, size_t cap)
{
	const char *fam = family == AF_INET6 ? "ip6" : "ip";
	const char *l4 = c->transport == SS_TRANSPORT_IP ? "99" : "udp";
	size_t n = 0;

	n += (size_t)snprintf(t + n, cap - n,
			      "add table %s silosec-%s\n"
			      "delete table %s silosec-%s\n"
			      "table %s silosec-%s {\n"
			      " chain preraw { type filter hook prerouting priority raw;\n",
			      fam, c->name, fam, c->name, fam, c->name);
	for (size_t i = 0; i < c->naddrs && n < cap; i++) {
		char a[64];

		if (c->addrs[i].family != family)
			continue;
		ss_cidr_format(&c->addrs[i], a, sizeof(a));
		a[strcspn(a, "/")] = '\0';
		n += (size_t)snprintf(t + n, cap - n,
				      "  iifname != \"%s\" %s daddr %s fib saddr type != local "
				      "counter drop\n",
				      c->name, fam, a);
	}
	if (n < cap)
		n += (size_t)snprintf(
			t + n, cap - n,
			" }\n chain premangle { type filter hook prerouting priority "
			"mangle; meta l4proto %s meta mark set ct mark; }\n"
			" chain postmangle { type filter hook postrouting priority "
			"mangle; meta l4proto %s meta mark 0x%x ct mark set meta mark; }\n"
			"}\n",
			l4, l4, mark);
	return n;
}

/*
 * wg-quick's nftables table for a full tunnel, per family with a /0: preraw drops packets
 * for the tunnel's own addresses that arrive on any other interface (another host on the
 * LAN could otherwise reach services bound to them); the mangle chains copy the
 * transport's fwmark into conntrack and back, so replies to it pass strict rp_filter
 * (with src_valid_mark). Removed on down, also after a killed daemon.
 */
static void firewall(const ss_conf *c, bool add)
{
	char text[8192];
	char *nft[] = {"nft", "-f", "-", NULL};
	int fams[] = {AF_INET, AF_INET6};

	if (c->table_mode != SS_TABLE_AUTO || !ss_conf_full_tunnel(c))
		return;
	for (int i = 0; i < 2; i++) {
		const char *fam = i ? "ip6" : "ip";
		char name[64];
		char *del[] = {"nft", "delete", "table", (char *)fam, name, NULL};
		size_t n;

		snprintf(name, sizeof(name), "silosec-%s", c->name);
		if (!add || !full_family(c, fams[i])) {
			quiet = true;
			(void)run(del, NULL); /* absent after a clean down: no error */
			quiet = false;
			continue;
		}
		n = fw_family(c, fams[i], ss_conf_fwmark(c), text, sizeof(text));
		if (n >= sizeof(text) || run(nft, text))
			fprintf(stderr,
				"%s: the full tunnel's nftables table %s %s: not installed\n", prog,
				fam, name);
	}
}

/*
 * A daemon that did not stop cleanly (killed, crashed) left its full-tunnel rules:
 * remove them as wg-quick's down does. Absent ones are no error (quietly).
 */
static void leftover_rules(const ss_conf *c)
{
	uint32_t mark = ss_conf_fwmark(c);
	char m[16];

	if (c->table_mode != SS_TABLE_AUTO || !ss_conf_full_tunnel(c))
		return;
	snprintf(m, sizeof(m), "%u", mark);
	quiet = true;
	for (int i = 0; i < 2; i++) {
		char *fam = i ? "-6" : "-4";
		char *inv[] = {"ip", fam, "rule", "del", "not", "fwmark", m, "table", m, NULL};
		char *sup[] = {"ip", fam, "rule", "del", "table", "main", "suppress_prefixlength",
			       "0",  NULL};

		for (int n = 0; n < 16 && run(inv, NULL) == 0; n++)
			;
		for (int n = 0; n < 16 && run(sup, NULL) == 0; n++)
			;
	}
	quiet = false;
}

/*
 * One step of up or down. A failing Pre* hook is fatal (up or down stops there); a
 * failing Post* hook is reported and the step goes on; DNS that cannot be set fails up.
 */
static int stage(const ss_conf *c, enum stage s)
{
	switch (s) {
	case PRE_UP:
		return run_hooks(c, SS_HOOK_PRE_UP);
	case POST_UP:
		src_valid_mark(c);
		firewall(c, true);
		if (dns(c, true))
			return -1;
		(void)run_hooks(c, SS_HOOK_POST_UP); /* reported; the interface stays up */
		return 0;
	case PRE_DOWN:
		return run_hooks(c, SS_HOOK_PRE_DOWN);
	case POST_DOWN: {
		int ret = dns(c, false);

		leftover_rules(c);
		firewall(c, false);
		(void)run_hooks(c, SS_HOOK_POST_DOWN);
		return ret;
	}
	}
	return -1;
}

/* silosecd forks; its parent exits 0 only once the interface is up (silosecd(8)). */
static int start_daemon(const char *path, int argc, char **argv)
{
	const char *env = getenv("SILOSECD");
	char **av = calloc((size_t)argc + 4, sizeof(*av));
	int st;

	if (!av)
		return -1;
	av[0] = (char *)(env && *env ? env : SS_SBINDIR "/silosecd");
	av[1] = "-c";
	av[2] = (char *)path;
	for (int i = 0; i < argc; i++)
		av[3 + i] = argv[i];
	fprintf(stderr, "[#] %s -c %s%s\n", av[0], path, argc ? " ..." : "");
	st = run(av, NULL);
	free(av);
	if (st)
		fprintf(stderr, "%s: silosecd exited with status %d\n", prog, st);
	return st ? -1 : 0;
}

/* The daemon's pid from its control socket (SO_PEERCRED); SIGTERM, then wait for it. */
static int stop_daemon(const char *iface)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct pollfd pfd = {.events = POLLIN};
	int fd = ss_ctl_connect(iface);

	if (fd < 0) {
		fprintf(stderr, "%s: %s: no silosecd is running (%s)\n", prog, iface,
			strerror(-fd));
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (pfd.fd = (int)syscall(SYS_pidfd_open, cred.pid, 0)) < 0) {
		fprintf(stderr, "%s: %s: finding the daemon: %s\n", prog, iface, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (syscall(SYS_pidfd_send_signal, pfd.fd, SIGTERM, NULL, 0) < 0 && errno != ESRCH) {
		fprintf(stderr, "%s: %s: stopping pid %d: %s\n", prog, iface, (int)cred.pid,
			strerror(errno));
		close(pfd.fd);
		return -1;
	}
	if (poll(&pfd, 1, STOP_TIMEOUT_MS) != 1) {
		fprintf(stderr, "%s: %s: pid %d still running after %d s\n", prog, iface,
			(int)cred.pid, STOP_TIMEOUT_MS / 1000);
		close(pfd.fd);
		return -1;
	}
	close(pfd.fd);
	return 0;
}

static int up_usage(const char *cmd)
{
	/* Asked for, it is the answer (stdout); otherwise it explains a refusal (stderr). */
	fprintf(!strcmp(cmd, "-h") ? stdout : stderr,
		"usage: %s up IFACE|FILE [SILOSECD-OPTIONS]\n"
		"       %s down IFACE|FILE\n"
		"       %s hook IFACE|FILE pre-up|post-up|pre-down|post-down\n",
		prog, prog, prog);
	return !strcmp(cmd, "-h") ? 0 : 2;
}

static bool is_help(int argc, char **argv)
{
	return argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"));
}

int cmd_up(int argc, char **argv)
{
	char path[PATH_MAX];
	ss_conf *c;
	int fd;

	if (is_help(argc, argv))
		return up_usage("-h");
	if (argc < 2)
		return up_usage("");
	if (!strcmp(argv[1], "--version"))
		return cli_version();
	if (argv[1][0] == '-') {
		fprintf(stderr,
			"%s up: unknown option '%s' (silosecd's options go after IFACE|FILE)\n",
			prog, argv[1]);
		return 2;
	}
	conf_path(argv[1], path, sizeof(path));
	if (!(c = load(path)))
		return 1;
	fd = ss_ctl_connect(c->name);
	if (fd >= 0) {
		close(fd);
		fprintf(stderr, "%s: %s is already up\n", prog, c->name);
		ss_conf_free(c);
		return 1;
	}
	if (stage(c, PRE_UP) || start_daemon(path, argc - 2, argv + 2)) {
		ss_conf_free(c);
		return 1;
	}
	if (record(c, path, true))
		fprintf(stderr, "%s: recording %s for down: %s\n", prog, path, strerror(errno));
	if (stage(c, POST_UP)) {
		/* A half-up interface is worse than none: undo it (PreDown is not for this). */
		stop_daemon(c->name);
		dns(c, false);
		record(c, path, false);
		ss_conf_free(c);
		return 1;
	}
	ss_conf_free(c);
	return 0;
}

/*
 * SaveConfig = yes: the running peers go back to the file before the daemon stops, as
 * wg-quick's down does; a failure stops `down`, so `set` changes are never lost silently.
 */
static int save_config(const ss_conf *c, const char *path)
{
	char *argv[] = {"saveconf", (char *)c->name, (char *)path, NULL};
	int fd;

	if (!c->save_config)
		return 0;
	/* A daemon that died has nothing to save; down still cleans up after it. */
	fd = ss_ctl_connect(c->name);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: no running silosecd, nothing saved to %s\n", prog, c->name,
			path);
		return 0;
	}
	close(fd);
	return cmd_saveconf(3, argv);
}

int cmd_down(int argc, char **argv)
{
	char path[PATH_MAX];
	ss_conf *c;
	int ret;

	if (is_help(argc, argv))
		return up_usage("-h");
	if (argc != 2)
		return up_usage("");
	recorded_conf(argv[1], path, sizeof(path));
	if (!(c = load(path)))
		return 1;
	if (stage(c, PRE_DOWN) || save_config(c, path)) {
		ss_conf_free(c);
		return 1;
	}
	ret = stop_daemon(c->name);
	ret = stage(c, POST_DOWN) ? -1 : ret;
	record(c, path, false);
	ss_conf_free(c);
	return ret ? 1 : 0;
}

int cmd_hook(int argc, char **argv)
{
	char path[PATH_MAX];
	ss_conf *c;
	int ret = -1;

	if (is_help(argc, argv))
		return up_usage("-h");
	if (argc != 3)
		return up_usage("");
	recorded_conf(argv[1], path, sizeof(path));
	for (int s = PRE_UP; s <= POST_DOWN; s++) {
		if (strcmp(argv[2], stage_names[s]))
			continue;
		if (!(c = load(path)))
			return 1;
		ret = stage(c, (enum stage)s);
		ss_conf_free(c);
		return ret ? 1 : 0;
	}
	fprintf(stderr, "%s: hook: unknown stage '%s'\n", prog, argv[2]);
	return up_usage("");
}
