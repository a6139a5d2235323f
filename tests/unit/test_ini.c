/* SPDX-License-Identifier: MIT */
/*
 * The common INI lexer on its own, with a small dialect: [A] (Name once, List repeated),
 * [B] (Item once; the section repeats), [Skip] (ignored). Every error names FILE:LINE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <silosec/error.h>

#include "common/ini.h"
#include "helpers.h"

#define MAX_LINE 64

enum { SEC_A = 1, SEC_B };
enum { K_NAME, K_LIST, K_ITEM, K_COUNT };

struct rec {
	struct ss_ini ini;
	char got[512]; /* "sec:key=value;" per call, in order */
	unsigned ends; /* end_section calls */
	bool quoted;   /* describe: the older "unknown key 'X'" wording */
};

static void append(struct rec *r, const char *fmt, const char *a, const char *b)
{
	size_t n = strlen(r->got);

	snprintf(r->got + n, sizeof(r->got) - n, fmt, a, b);
}

static int set_any(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct rec *r = ctx;

	if (!strcmp(val, "bad"))
		return ss_ini_fail(&r->ini, r->ini.line, SS_ERR_FORMAT, "%s: \"%s\" refused",
				   k->name, val);
	append(r, "%s=%s;", k->name, val);
	return 0;
}

static const struct ss_ini_key keys[K_COUNT] = {
	[K_NAME] = {"Name", SEC_A, false, set_any, 0},
	[K_LIST] = {"List", SEC_A, true, set_any, 0},
	[K_ITEM] = {"Item", SEC_B, false, set_any, 0},
};

static const char *const names[] = {[SEC_A] = "[A]", [SEC_B] = "[B]"};

static int section(void *ctx, char *name, int *kind)
{
	struct rec *r = ctx;

	if (!strcmp(name, "A"))
		*kind = SEC_A;
	else if (!strcmp(name, "B"))
		*kind = SEC_B;
	else if (!strcmp(name, "Skip"))
		*kind = SS_INI_IGNORE;
	else
		return ss_ini_fail(&r->ini, r->ini.line, SS_ERR_FORMAT, "unknown section [%s]",
				   name);
	append(r, "%s%s|", r->ini.label, "");
	return 0;
}

static int end_section(void *ctx)
{
	struct rec *r = ctx;

	r->ends++;
	/* A section-wide check: [A] needs Name. */
	if (r->ini.sec == SEC_A && !ss_ini_seen(&r->ini, K_NAME))
		return ss_ini_fail(&r->ini, r->ini.sec_line, SS_ERR_FORMAT, "[A] needs Name");
	return 0;
}

static int describe(struct ss_ini *ini, const struct ss_ini_fault *f)
{
	struct rec *r = ini->ctx;

	if (!r->quoted || f->kind != SS_INI_UNKNOWN_KEY)
		return 1;
	return ss_ini_fail(ini, ini->line, SS_ERR_FORMAT, "unknown key '%s' in %s", f->text,
			   ini->label);
}

static struct ss_ini_dialect dialect(bool inline_comments, bool letters_only)
{
	return (struct ss_ini_dialect){
		.keys = keys,
		.nkeys = K_COUNT,
		.max_line = MAX_LINE,
		.inline_comments = inline_comments,
		.letters_only = letters_only,
		.initial_section = SS_INI_NONE,
		.first_sections = "[A] or [B]",
		.section_names = names,
		.nsection_names = 3,
		.section = section,
		.end_section = end_section,
		.describe = describe,
	};
}

static int run_len(struct rec *r, const struct ss_ini_dialect *d, const char *text, size_t len,
		   char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->ini = (struct ss_ini){.file = "t.ini", .err = err, .errlen = errlen, .ctx = r};
	if (err && errlen)
		err[0] = '\0';
	return ss_ini_parse(&r->ini, d, text, len);
}

static void expect_ok(const struct ss_ini_dialect *d, const char *text, const char *want)
{
	struct rec r;
	char err[256];

	if (run_len(&r, d, text, strlen(text), err, sizeof(err)))
		fail_msg("unexpected error for\n%s\n: %s", text, err);
	assert_string_equal(r.got, want);
}

static void expect_err_len(const struct ss_ini_dialect *d, const char *text, size_t len,
			   const char *want)
{
	struct rec r;
	char err[256];
	int ret = run_len(&r, d, text, len, err, sizeof(err));

	if (ret != SS_ERR_FORMAT || strcmp(err, want))
		fail_msg("want %d \"%s\"\ngot  %d \"%s\"", SS_ERR_FORMAT, want, ret, err);
}

static void expect_err(const struct ss_ini_dialect *d, const char *text, const char *want)
{
	expect_err_len(d, text, strlen(text), want);
}

static void end_section_calls(void **state)
{
	struct ss_ini_dialect d = dialect(false, true);
	struct rec r;
	static const char text[] = "[A]\nName = x\n[B]\n[B]\n";

	(void)state;
	assert_int_equal(run_len(&r, &d, text, strlen(text), NULL, 0), 0);
	assert_int_equal(r.ends, 4); /* before each header and at the end */
	assert_int_equal(r.ini.line, 4);
	assert_null(r.ini.seen);
}

/* The caller's wording, where its users know another one; misplaced keys. */
static void caller_wording(void **state)
{
	struct ss_ini_dialect d = dialect(false, true);
	struct rec r;
	char err[256];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.quoted = true;
	r.ini = (struct ss_ini){.file = "t.ini", .err = err, .errlen = sizeof(err), .ctx = &r};
	assert_int_equal(ss_ini_parse(&r.ini, &d, "[A]\nFoo = 1\n", 12), SS_ERR_FORMAT);
	assert_string_equal(err, "t.ini:2: unknown key 'Foo' in [A]");
	/* Without section names to point to, a misplaced key is just unknown here. */
	d.section_names = NULL;
	d.nsection_names = 0;
	expect_err(&d, "[A]\nItem = 1\n", "t.ini:2: Item: unknown key in [A]");
}

/* One row per case: got is what the setters saw, or NULL and err is the message. */
static const struct syntax_case {
	bool inline_comments, letters_only;
	const char *text, *got, *err;
} syntax_cases[] = {
	/* Sections and keys; names case-insensitive, the setter sees the table's spelling. */
	{false, true, "", "", ""},
	{false, true, "[A]\nName = x\nList = 1\nList = 2\n[B]\nItem = y\n[B]\nItem = z\n",
	 "[A]|Name=x;List=1;List=2;[B]|Item=y;[B]|Item=z;", ""},
	{false, true, "[A]\nNAME = x\nlist = 1\n", "[A]|Name=x;List=1;", ""},
	{false, true, "[A]\nName = x\n[Skip]\nAnything = at all\nName = y\n[B]\nItem = 1\n",
	 "[A]|Name=x;[Skip]|[B]|Item=1;", ""},
	{false, true, "[A]\nName = x\n[C]\n", NULL, "t.ini:3: unknown section [C]"},
	{false, true, "[A]\n", NULL, "t.ini:1: [A] needs Name"},
	{false, true, "[A]\n[B]\n", NULL, "t.ini:1: [A] needs Name"},
	/* Repeats: from the table, per section; a setter refuses with its own message. */
	{false, true, "[A]\nName = x\nname = y\n", NULL,
	 "t.ini:3: Name: duplicate key (first on line 2)"},
	{false, true, "[B]\nItem = 1\n\n# c\nItem = 1\n", NULL,
	 "t.ini:5: Item: duplicate key (first on line 2)"},
	{false, true, "[B]\nItem = bad\n", NULL, "t.ini:2: Item: \"bad\" refused"},
	/* Unknown, misplaced, outside, empty, shapeless (checked even where ignored). */
	{false, true, "[A]\nFoo = 1\n", NULL, "t.ini:2: Foo: unknown key in [A]"},
	{false, true, "[A]\nItem = 1\n", NULL, "t.ini:2: Item: belongs in [B], not in [A]"},
	{false, true, "Name = x\n[A]\n", NULL,
	 "t.ini:1: Name: key outside of a section ([A] or [B] must come first)"},
	{false, true, "[A]\nName =\n", NULL, "t.ini:2: Name: empty value"},
	{false, true, "[A]\nName x\n", NULL, "t.ini:2: expected \"Key = Value\" or \"[Section]\""},
	{false, true, "[Skip]\nno equals\n", NULL,
	 "t.ini:2: expected \"Key = Value\" or \"[Section]\""},
	/* Headers: blanks around, a comment after; the name reaches the callback as written. */
	{false, true, "  [B]  \nItem=1\n", "[B]|Item=1;", ""},
	{false, true, "[B] # note\n[B] ; note\n", "[B]|[B]|", ""},
	{false, true, "[B] x\n", NULL,
	 "t.ini:1: section header \"[B] x\" is not of the form [Name]"},
	{false, true, "[B\n", NULL, "t.ini:1: section header \"[B\" is not of the form [Name]"},
	{false, true, "[B]]\n", NULL, "t.ini:1: section header \"[B]]\" is not of the form [Name]"},
	{false, true, "[ B ]\n", NULL, "t.ini:1: unknown section [ B ]"},
	/* Comments, blank lines, tabs, CR, VT and FF around keys and values. */
	{false, true, "# c\n; c\n\t# c\n\n[B]\r\n\t Item \t=\t a b \r\n", "[B]|Item=a b;", ""},
	{false, true, "[B]\nItem = \v\fx\f\v\n", "[B]|Item=x;", ""},
	/* '#' mid-line is data unless the dialect says otherwise. */
	{false, true, "[B]\nItem = a # b\n", "[B]|Item=a # b;", ""},
	{true, true, "[B] # c\nItem = a # b\n", "[B]|Item=a;", ""},
	{true, true, "[B]\nItem = # only a comment\n", NULL, "t.ini:2: Item: empty value"},
	/* No continuation lines: the backslash stays, the next line stands alone. */
	{false, true, "[A]\nName = a \\\nList = b\n", "[A]|Name=a \\;List=b;", ""},
	{false, true, "[B]\nItem = a=b==\n", "[B]|Item=a=b==;", ""},
	/* Missing final newline, and CRLF files. */
	{false, true, "[B]\nItem = last", "[B]|Item=last;", ""},
	{false, true, "[B]\r\nItem = crlf\r\n", "[B]|Item=crlf;", ""},
	{false, true, "\n\n[A]\nName = x\nFoo = 1", NULL, "t.ini:5: Foo: unknown key in [A]"},
	/* A secret missing its '=' must never be echoed as a key name. */
	{false, true, "[A]\nSecretAAAA+/9 = x\n", NULL,
	 "t.ini:2: expected \"Key = Value\" with a key name of letters only"},
	{false, true, "[A]\n= x\n", NULL,
	 "t.ini:2: expected \"Key = Value\" with a key name of letters only"},
	{false, false, "[A]\n= x\n", NULL, "t.ini:2: expected \"Key = Value\" with a key name"},
	{false, false, "[A]\nNa me = x\n", NULL, "t.ini:2: Na me: unknown key in [A]"},
};

static void line_syntax(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(syntax_cases) / sizeof(syntax_cases[0]); i++) {
		const struct syntax_case *c = &syntax_cases[i];
		struct ss_ini_dialect d = dialect(c->inline_comments, c->letters_only);

		if (c->got)
			expect_ok(&d, c->text, c->got);
		else
			expect_err(&d, c->text, c->err);
	}
}

static void long_lines(void **state)
{
	struct ss_ini_dialect d = dialect(false, true);
	char text[3 * MAX_LINE], want[64];
	size_t n;

	(void)state;
	/* Exactly MAX_LINE bytes is fine, one more is not; a comment counts too. */
	n = (size_t)snprintf(text, sizeof(text), "[B]\nItem = ");
	memset(text + n, 'x', MAX_LINE - 7);
	text[n + MAX_LINE - 7] = '\0';
	assert_int_equal(strlen(text + 4), MAX_LINE);
	{
		struct rec r;

		assert_int_equal(run_len(&r, &d, text, strlen(text), NULL, 0), 0);
	}
	strcat(text, "y\n");
	snprintf(want, sizeof(want), "t.ini:2: line longer than %d bytes", MAX_LINE);
	expect_err(&d, text, want);
	memset(text, '#', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	snprintf(want, sizeof(want), "t.ini:1: line longer than %d bytes", MAX_LINE);
	expect_err(&d, text, want);
}

static void nul_bytes(void **state)
{
	struct ss_ini_dialect d = dialect(false, true);

	(void)state;
	expect_err_len(&d, "[B]\nItem = a\0b\n", 15, "t.ini:2: NUL byte in line");
	expect_err_len(&d, "[B]\n# \0\n", 8, "t.ini:2: NUL byte in line");
	expect_err_len(&d, "\0", 1, "t.ini:1: NUL byte in line");
	/* After the last newline: still a line. */
	expect_err_len(&d, "[B]\n\0", 5, "t.ini:2: NUL byte in line");
}

static void error_buffer(void **state)
{
	struct ss_ini_dialect d = dialect(false, true);
	struct rec r;
	char err[12];

	(void)state;
	/* err may be NULL; a short buffer is truncated and terminated. */
	assert_int_equal(run_len(&r, &d, "[A]\nFoo = 1\n", 12, NULL, 0), SS_ERR_FORMAT);
	memset(err, 'x', sizeof(err));
	assert_int_equal(run_len(&r, &d, "[A]\nFoo = 1\n", 12, err, sizeof(err)), SS_ERR_FORMAT);
	assert_string_equal(err, "t.ini:2: Fo");
	assert_int_equal(run_len(&r, &d, NULL, 1, err, sizeof(err)), SS_ERR_INVAL);
	assert_int_equal(run_len(&r, &d, NULL, 0, err, sizeof(err)), 0);
}

static void trim(void **state)
{
	char a[] = " \t\r\v\fx y\f\v\r\t ", b[] = "   ", c[] = "x";

	(void)state;
	assert_string_equal(ss_ini_trim(a), "x y");
	assert_string_equal(ss_ini_trim(b), "");
	assert_string_equal(ss_ini_trim(c), "x");
}

/* A pipe has no size to trust: reading stops at max + 1 bytes. */
static void read_fd(void **state)
{
	char big[5000], *out = NULL;
	size_t len = 0;
	int fds[2];

	(void)state;
	memset(big, 'a', sizeof(big));
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], big, sizeof(big)), (ssize_t)sizeof(big));
	close(fds[1]);
	assert_int_equal(ss_ini_read_fd(fds[0], sizeof(big), &out, &len), 0);
	close(fds[0]);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(out, big, len);
	free(out);

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], big, sizeof(big)), (ssize_t)sizeof(big));
	close(fds[1]);
	assert_int_equal(ss_ini_read_fd(fds[0], sizeof(big) - 1, &out, &len), SS_ERR_FORMAT);
	close(fds[0]);
	assert_int_equal(ss_ini_read_fd(-1, 10, &out, &len), SS_ERR_IO);
}

/* The one yes/no of knockd.conf and silosec.conf (docs: knockd.conf(5), silosec.conf(5)). */
static void bool_forms(void **state)
{
	static const char *const yes[] = {"yes", "Yes", "TRUE", "on", "On", "1"};
	static const char *const no[] = {"no", "NO", "false", "Off", "0"};
	static const char *const bad[] = {"", "y", "n", "yess", "2", "01", "enabled", " yes"};
	bool b;

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = false;
		assert_int_equal(ss_ini_bool(yes[i], &b), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		b = true;
		assert_int_equal(ss_ini_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = true;
		assert_int_equal(ss_ini_bool(bad[i], &b), SS_ERR_FORMAT);
		assert_true(b); /* untouched */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(end_section_calls),
		cmocka_unit_test(caller_wording),
		cmocka_unit_test(line_syntax),
		cmocka_unit_test(long_lines),
		cmocka_unit_test(nul_bytes),
		cmocka_unit_test(error_buffer),
		cmocka_unit_test(trim),
		cmocka_unit_test(read_fd),
		cmocka_unit_test(bool_forms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
