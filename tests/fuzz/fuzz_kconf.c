/* SPDX-License-Identifier: MIT */
/*
 * knockd.conf text: ss_kconf_parse on arbitrary bytes (no file I/O: key and replay files
 * are only named here). Refusals must name the file; an accepted configuration must keep
 * the promises the daemon relies on: at least one listener within the table, a positive
 * rate and burst, a window, and every client's actions resolvable by name.
 */
#include <string.h>

#include <silosec/error.h>

#include "kconf.h"

#define FILE_NAME "fuzz-knockd.conf"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	ss_kconf *c = NULL;

	memset(err, 0, sizeof(err));
	if (ss_kconf_parse((const char *)data, size, FILE_NAME, &c, err, sizeof(err))) {
		check(c == NULL);
		check(memchr(err, '\0', sizeof(err)) != NULL);
		check(strstr(err, FILE_NAME) != NULL);
		return 0;
	}
	check(c != NULL && c->private_key_file != NULL);
	check(c->nlisten >= 1 && c->nlisten <= SS_KCONF_MAX_LISTEN);
	check(c->rate > 0 && c->burst > 0 && c->window_ms > 0);
	for (size_t i = 0; i < c->nclients; i++) {
		check(ss_kconf_client(c, c->clients[i].identity) != NULL);
		for (size_t j = 0; j < c->clients[i].nactions; j++)
			check(c->clients[i].actions[j] < c->nactions);
	}
	ss_kconf_free(c);
	return 0;
}
