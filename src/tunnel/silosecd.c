/* SPDX-License-Identifier: MIT */
/*
 * silosecd: one SiloSec tunnel interface. Reads its configuration, creates the TUN
 * device, sockets and control socket, then moves packets until SIGTERM. SIGHUP reloads
 * the peers from the file without dropping the sessions of unchanged peers.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "daemon.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: silosecd -c FILE [-f]\n"
		   "  -c FILE   tunnel configuration (silosec.conf(5))\n"
		   "  -f        stay in the foreground and log to stderr\n"
		   "  -t        check the configuration and exit\n");
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

int main(int argc, char **argv)
{
	char err[SS_CONF_ERR_LEN], ident[64];
	const char *path = NULL;
	bool foreground = false, check = false;
	int opt, ready = -1, ret;
	ss_daemon d;
	ss_conf *conf;

	while ((opt = getopt(argc, argv, "c:fth")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 't':
			check = true;
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
	harden();
	ret = ss_conf_load(path, &conf, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "silosecd: %s\n", err);
		return 1;
	}
	if (check) {
		printf("%s: ok (interface %s, %zu peers)\n", path, conf->name, conf->npeers);
		ss_conf_free(conf);
		return 0;
	}
	snprintf(ident, sizeof(ident), "silosecd[%s]", conf->name);
	if (!foreground && daemonize(&ready) < 0) {
		fprintf(stderr, "silosecd: fork: %s\n", strerror(errno));
		return 1;
	}
	ss_log_init(foreground ? ident : "silosecd", foreground);
	ret = ss_daemon_init(&d, conf, path, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "silosecd: %s\n", err);
		if (!foreground)
			ss_log(LOG_ERR, "%s", err);
		ss_daemon_free(&d);
		return 1;
	}
	ss_log(LOG_NOTICE, "SS_TUN_UP: interface %s up, %u peers, %s transport", d.conf->name,
	       d.npeers, d.tr.kind == SS_TRANSPORT_UDP ? "udp" : "ip");
	if (ready >= 0) {
		char ok = 0;

		if (write(ready, &ok, 1) != 1)
			return 1;
		close(ready);
		if (!freopen("/dev/null", "r", stdin) || !freopen("/dev/null", "w", stdout) ||
		    !freopen("/dev/null", "w", stderr))
			return 1;
	}
	ret = ss_daemon_run(&d);
	ss_log(LOG_NOTICE, "SS_TUN_DOWN: interface %s stopping", d.conf->name);
	ss_daemon_free(&d);
	return ret ? 1 : 0;
}
