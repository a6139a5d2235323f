/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_args.h"

int ss_daemon_args_parse(int argc, char **argv, struct ss_daemon_args *a, void (*usage)(FILE *f))
{
	static const struct option longopts[] = {
		{"user", required_argument, NULL, 'u'},
		{"audit", required_argument, NULL, 'a'},
		{"no-sandbox", no_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:fth", longopts, NULL)) != -1) {
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
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!a->path || optind != argc) {
		usage(stderr);
		return 2;
	}
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
