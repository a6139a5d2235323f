/* SPDX-License-Identifier: MIT */
/*
 * silosec-knockd's state file (src/knock/state.c) on arbitrary bytes: what --list and
 * --metrics read. An accepted file keeps its promises (openings within the table, every
 * one formatted again and parsed back the same), and --list and --metrics render it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ss_knock_state a, b;
	char *text = malloc(size + 1), *out = NULL;
	size_t len = 0;
	FILE *f;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (ss_knock_state_parse(text, &a)) {
		free(text);
		return 0;
	}
	check(a.nopen <= SS_KNOCK_STATE_MAX_OPEN);
	f = open_memstream(&out, &len);
	ss_knock_state_list(f, &a, 1000);
	ss_knock_state_metrics(f, &a, true, 1000);
	fclose(f);
	free(out);
	out = NULL;
	f = open_memstream(&out, &len);
	ss_knock_state_format(f, &a);
	fclose(f);
	check(ss_knock_state_parse(out, &b) == 0);
	check(b.nopen == a.nopen && b.accepted == a.accepted);
	free(out);
	free(text);
	return 0;
}
