/* SPDX-License-Identifier: MIT */
/*
 * Trust store files. Besides not crashing, the parser must only accept what saving can
 * write back: every name it returns is one that pin accepts, once. (Saving itself is not
 * run here: it fsyncs, which would slow the fuzzer to a crawl.)
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/truststore.h"

static char path[] = "/tmp/fuzz_trust_XXXXXX";
static int fd = -1;

static void remove_file(void)
{
	unlink(path);
}

/* One file for the whole run: the loader takes a path, and creating files is slow. */
static void put_input(const uint8_t *data, size_t size)
{
	if (fd < 0) {
		fd = mkstemp(path);
		if (fd < 0)
			abort();
		atexit(remove_file);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
}

static void check_accepted(const ss_truststore *ts)
{
	uint8_t id[SS_IDENTITY_LEN];
	ss_truststore *again;

	if (ss_trust_load("/nonexistent/fuzz_trust", &again, NULL, 0))
		abort();
	for (size_t i = 0; i < ts->n; i++) {
		const ss_trust_entry *e = &ts->entries[i];

		if (ss_trust_pin(again, e->name, e->identity) || again->n != i + 1)
			__builtin_trap();
		if (ss_trust_lookup(ts, e->name, id) || memcmp(id, e->identity, sizeof(id)))
			__builtin_trap();
	}
	ss_trust_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ss_truststore *ts;
	char err[512];

	put_input(data, size);
	if (ss_trust_load(path, &ts, err, sizeof(err))) {
		/* Errors are "FILE:..." and leave nothing behind. */
		if (ts || strncmp(err, path, strlen(path)))
			__builtin_trap();
		return 0;
	}
	if (err[0])
		__builtin_trap();
	check_accepted(ts);
	ss_trust_free(ts);
	return 0;
}
