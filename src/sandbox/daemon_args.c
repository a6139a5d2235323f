/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_args.h"

static int bad_usage(const char *what, const char *arg)
{
	if (what)
		fprintf(stderr, "%s: %s%s%s%s\n", program_invocation_short_name, what,
			arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
	fprintf(stderr, "%s: see '%s --help'\n", program_invocation_short_name,
		program_invocation_short_name);
	return 2;
}

int ss_daemon_args_parse(int argc, char **argv, struct ss_daemon_args *a, void (*usage)(FILE *f))
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"foreground", no_argument, NULL, 'f'},
		{"test", no_argument, NULL, 't'},	  {"check", no_argument, NULL, 't'},
		{"user", required_argument, NULL, 'u'},	  {"audit", required_argument, NULL, 'a'},
		{"no-sandbox", no_argument, NULL, 'N'},	  {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},	  {NULL, 0, NULL, 0},
	};
	int opt;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:fthV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			a->path = optarg;
			break;
		case 'f':
			a->foreground = true;
			break;
		case 't':
			a->check = true;
			break;
		case 'u':
			a->user = optarg;
			break;
		case 'a':
			a->audit = optarg;
			break;
		case 'N':
			a->no_sandbox = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("%s %s\n", program_invocation_short_name, SS_RELEASE);
			return 1;
		default: /* getopt named the option */
			return bad_usage(NULL, NULL);
		}
	}
	if (optind != argc)
		return bad_usage("unexpected argument", argv[optind]);
	if (!a->path)
		return bad_usage("missing -c FILE (the configuration file)", NULL);
	return 0;
}

char *ss_path_dir(const char *path)
{
	char buf[PATH_MAX], *copy, *dir;

	if (!path)
		return NULL;
	copy = strdup(realpath(path, buf) ? buf : path);
	if (!copy)
		return NULL;
	dir = strdup(dirname(copy));
	free(copy);
	return dir;
}
