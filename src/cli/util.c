/* SPDX-License-Identifier: MIT */
/*
 * What every subcommand says the same way: --version, an unknown option or an extra
 * argument (named, with where to look), a key file that cannot be read, a duration.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <silosec/error.h>

#include "cli.h"
#include "common/capability.h"
#include "common/ini.h"

int cli_version(void)
{
	printf("%s %s\n", prog, SS_RELEASE);
	return 0;
}

int cli_see_help(const char *cmd)
{
	fprintf(stderr, "%s: see '%s %s --help'\n", prog, prog, cmd);
	return 2;
}

int cli_extra(const char *cmd, const char *arg)
{
	fprintf(stderr, "%s %s: unexpected argument '%s'\n", prog, cmd, arg);
	return cli_see_help(cmd);
}

double cli_seconds(const char *what, const char *arg, unsigned max)
{
	uint32_t secs;
	char *end;
	double v = strtod(arg, &end);

	/* Fractions only without a unit ("0.5"); otherwise the duration syntax (5s, 2m). */
	if (end != arg && !*end && v > 0 && v <= max)
		return v;
	if (!ss_duration_parse(arg, &secs) && secs <= max)
		return secs;
	fprintf(stderr, "%s: %s: '%s' is not a duration of at most %u s (2, 0.5, 30s, 5m)\n", prog,
		what, arg, max);
	return -1;
}

void cli_key_error(const char *cmd, const char *path, int ret)
{
	int saved = errno;

	if (ret == SS_ERR_IO)
		fprintf(stderr, "%s: %s: %s: %s\n", prog, cmd, path, strerror(saved));
	else if (ret == SS_ERR_FORMAT && ss_ini_file_has_cr(path))
		fprintf(stderr,
			"%s: %s: %s: not a SiloSec private key: it has Windows line endings "
			"(CRLF); convert it with 'dos2unix %s' or 'tr -d \"\\r\"'\n",
			prog, cmd, path, path);
	else if (ret == SS_ERR_FORMAT)
		fprintf(stderr,
			"%s: %s: %s: not a SiloSec private key (expected one base64 line, as "
			"'%s genkey' writes)\n",
			prog, cmd, path, prog);
	else if (ret == SS_ERR_PERM)
		fprintf(stderr, "%s: %s: %s: %s; run 'chmod 600 %s'\n", prog, cmd, path,
			ss_strerror(ret), path);
	else
		fprintf(stderr, "%s: %s: %s: %s (%s)\n", prog, cmd, path, ss_strerror(ret),
			ss_err_name(ret));
}
