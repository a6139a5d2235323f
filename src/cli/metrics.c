/* SPDX-License-Identifier: MIT */
/*
 * silosec show --prometheus [--output FILE]: every interface's counters in the Prometheus
 * text format (prom.c), to stdout or atomically into FILE for node_exporter's textfile
 * collector (written beside it, then renamed: the collector never reads half a file).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "common/ctlsock.h"
#include "prom.h"

#define MAX_IFACES 64

/* The interfaces with a control socket in the run directory, as `show` lists them. */
static size_t list_ifaces(char names[][64], size_t cap)
{
	const char *dir = getenv("SILOSEC_RUN_DIR");
	struct dirent *e;
	size_t n = 0;
	DIR *dp = opendir(dir && *dir ? dir : SS_CTL_DIR);

	while (dp && n < cap && (e = readdir(dp))) {
		char path[PATH_MAX];

		if (e->d_name[0] == '.' || strlen(e->d_name) >= 64 ||
		    ss_ctl_path(e->d_name, path, sizeof(path)) || access(path, F_OK))
			continue;
		snprintf(names[n++], 64, "%s", e->d_name);
	}
	if (dp)
		closedir(dp);
	return n;
}

/* FILE.tmp.PID in FILE's directory, mode 0644 (the collector is not root), then rename. */
static int write_atomic(const char *out, const char *const *names, const char *const *answers,
			size_t n)
{
	char tmp[PATH_MAX];
	int fd, ret = 0;
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", out, (long)getpid()) >= (int)sizeof(tmp)) {
		fprintf(stderr, "%s: --output: path too long\n", prog);
		return 1;
	}
	errno = 0;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f || fchmod(fd, 0644) < 0 ||
	    ss_prom_show(f, names, answers, n, (unsigned long long)time(NULL)) || fflush(f) ||
	    fsync(fd) < 0)
		ret = errno ? errno : EIO;
	if (f ? fclose(f) : (fd >= 0 ? close(fd) : 0))
		ret = ret ? ret : errno;
	if (!ret && rename(tmp, out) < 0)
		ret = errno;
	if (ret) {
		fprintf(stderr, "%s: %s: %s\n", prog, out, strerror(ret));
		unlink(tmp);
		return 1;
	}
	return 0;
}

int show_prometheus(const char *iface, const char *output)
{
	static char names[MAX_IFACES][64];
	const char *np[MAX_IFACES], *answers[MAX_IFACES] = {0};
	size_t n = 0;
	int ret = 0;

	if (iface)
		snprintf(names[n++], sizeof(names[0]), "%s", iface);
	else
		n = list_ifaces(names, MAX_IFACES);
	for (size_t i = 0; i < n; i++) {
		np[i] = names[i];
		answers[i] = cli_transact(names[i], "get\n\n");
		if (!answers[i])
			ret = 1; /* said why; its silosec_interface_up is 0 */
	}
	if (output) {
		ret |= write_atomic(output, np, answers, n);
	} else if (ss_prom_show(stdout, np, answers, n, (unsigned long long)time(NULL)) ||
		   fflush(stdout)) {
		fprintf(stderr, "%s: writing metrics: %s\n", prog, strerror(errno));
		ret = 1;
	}
	for (size_t i = 0; i < n; i++)
		free((char *)answers[i]);
	return ret;
}
