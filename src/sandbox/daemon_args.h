/* SPDX-License-Identifier: MIT */
/*
 * The command line both daemons share: -c/--config FILE, -f/--foreground, -t/--test,
 * --user, --audit, --no-sandbox, -h/--help, -V/--version.
 * The options that decide the confinement live here, next to it, so both daemons spell
 * and check them the same way.
 */
#ifndef SS_SANDBOX_DAEMON_ARGS_H
#define SS_SANDBOX_DAEMON_ARGS_H

#include <stdbool.h>
#include <stdio.h>

struct ss_daemon_args {
	const char *path;  /* -c: configuration file (required) */
	const char *user;  /* --user: NULL = the default (silosec, else nobody) */
	const char *audit; /* --audit: path, "-" for stderr, NULL = not asked */
	bool foreground;   /* -f */
	bool check;	   /* -t: check the configuration and exit */
	bool no_sandbox;   /* --no-sandbox: debugging only */
};

/*
 * Parse argv. 0: parsed. 1: -h/--help or --version answered on stdout (exit 0). 2: bad
 * usage, said on stderr naming the culprit (exit 2). usage prints the daemon's own text.
 */
int ss_daemon_args_parse(int argc, char **argv, struct ss_daemon_args *a, void (*usage)(FILE *f));

/*
 * The directory holding path (through realpath when the file exists, so symlinks are
 * resolved while the daemon may still look everywhere); malloc'd, NULL if path is NULL or
 * out of memory.
 */
char *ss_path_dir(const char *path);

#endif
