/* SPDX-License-Identifier: MIT */
/*
 * The common INI lexer on arbitrary bytes, under each dialect switch (the first byte picks
 * inline comments, letters-only keys, the initial section). Promises checked: a refusal is
 * one terminated "FILE:LINE: " message with a line that exists; every value a setter sees is
 * non-empty, trimmed, without NUL or newline and within the line limit; a key that does not
 * repeat reaches its setter at most once per section; keys never arrive outside a section.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <silosec/error.h>

#include "common/ini.h"

#define FILE_NAME "fuzz.ini"
#define MAX_LINE 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { SEC_A = 1, SEC_B };
enum { K_ONE, K_MANY, K_OTHER, K_COUNT };

struct state {
	struct ss_ini ini;
	unsigned calls[K_COUNT]; /* in the current section */
	unsigned sections;
};

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int set(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct state *s = ctx;
	size_t len = strlen(val);
	size_t idx = (size_t)k->off;

	check(s->ini.sec == k->section);
	check(len > 0 && len <= MAX_LINE);
	check(!blank(val[0]) && !blank(val[len - 1]));
	check(!strchr(val, '\n'));
	check(ss_ini_seen(&s->ini, idx) == s->ini.line);
	check(k->repeats || s->calls[idx] == 0);
	s->calls[idx]++;
	/* Every value also goes through the shared yes/no parser: accepted only whole. */
	{
		bool b = false;

		if (!ss_ini_bool(val, &b))
			check(len <= 5 &&
			      (b ? strchr("yYtTo1", val[0]) : strchr("nNfFo0", val[0])));
	}
	/* Setters may refuse: the lexer must stop there. */
	return val[0] == '!' ? ss_ini_fail(&s->ini, s->ini.line, SS_ERR_FORMAT, "refused") : 0;
}

static const struct ss_ini_key keys[K_COUNT] = {
	[K_ONE] = {"One", SEC_A, false, set, K_ONE},
	[K_MANY] = {"Many", SEC_A, true, set, K_MANY},
	[K_OTHER] = {"One", SEC_B, false, set, K_OTHER},
};

static const char *const names[] = {[SEC_A] = "[A]", [SEC_B] = "[B]"};

static int section(void *ctx, char *name, int *kind)
{
	struct state *s = ctx;

	check(!strchr(name, ']') && !strchr(name, '\n'));
	memset(s->calls, 0, sizeof(s->calls));
	s->sections++;
	if (!strcasecmp(name, "A"))
		*kind = SEC_A;
	else if (!strcasecmp(name, "B"))
		*kind = SEC_B;
	else if (!strcmp(name, "skip"))
		*kind = SS_INI_IGNORE;
	else
		return ss_ini_fail(&s->ini, s->ini.line, SS_ERR_FORMAT, "unknown section");
	return 0;
}

static unsigned lines_in(const uint8_t *data, size_t size)
{
	unsigned n = 0;

	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n + 1;
}

/* "fuzz.ini:LINE: " with 1 <= LINE <= the number of lines. */
static void check_error(const char *err, size_t errlen, const uint8_t *data, size_t size)
{
	const char *p = err + strlen(FILE_NAME ":");
	unsigned long line;
	char *end;

	check(memchr(err, '\0', errlen) != NULL);
	check(!strncmp(err, FILE_NAME ":", strlen(FILE_NAME ":")));
	line = strtoul(p, &end, 10);
	check(end != p && end[0] == ':' && end[1] == ' ');
	check(line >= 1 && line <= lines_in(data, size));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ss_ini_dialect d = {
		.keys = keys,
		.nkeys = K_COUNT,
		.max_line = MAX_LINE,
		.section_names = names,
		.nsection_names = 3,
		.section = section,
	};
	struct state s;
	char err[128];
	int ret;

	if (size < 1)
		return 0;
	d.inline_comments = data[0] & 1;
	d.letters_only = data[0] & 2;
	d.initial_section = data[0] & 4 ? SS_INI_IGNORE : SS_INI_NONE;
	if (data[0] & 8)
		d.section_names = NULL;
	memset(&s, 0, sizeof(s));
	memset(err, 'x', sizeof(err));
	s.ini = (struct ss_ini){.file = FILE_NAME, .err = err, .errlen = sizeof(err), .ctx = &s};
	ret = ss_ini_parse(&s.ini, &d, (const char *)data + 1, size - 1);
	check(s.ini.seen == NULL);
	if (ret) {
		check(ret == SS_ERR_FORMAT);
		check_error(err, sizeof(err), data + 1, size - 1);
	} else {
		check(s.ini.line <= lines_in(data + 1, size - 1));
	}
	return 0;
}
