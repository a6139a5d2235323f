/* SPDX-License-Identifier: MIT */
/* Trust store: pinning semantics, the file format, permissions and atomic saving. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "helpers.h"
#include "common/truststore.h"

#define HEADER "# SiloSec trust store: NAME IDENTITY (managed by silosecd and silosec trust)\n"

static void identity_of(uint8_t id[SS_IDENTITY_LEN], unsigned n)
{
	for (unsigned i = 0; i < SS_IDENTITY_LEN; i++)
		id[i] = (uint8_t)(n * 131 + i * 7 + 1);
}

static void b64_of(char out[SS_B64_KEY_LEN], unsigned n)
{
	uint8_t id[SS_IDENTITY_LEN];

	identity_of(id, n);
	ss_key_to_base64(id, out);
}

/* Leftover temporary files in dir: a failed save must not leave any. */
static int count_temps(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".tmp."))
			n++;
	closedir(d);
	return n;
}

static ss_truststore *load_ok(const char *path)
{
	ss_truststore *ts = NULL;
	char err[512];

	assert_int_equal(ss_trust_load(path, &ts, err, sizeof(err)), 0);
	assert_non_null(ts);
	assert_string_equal(err, "");
	assert_string_equal(ts->path, path);
	return ts;
}

/* ---- pinning in memory ---- */

static void missing_file_is_empty(void **state)
{
	char path[PATH_MAX], buf[256];
	uint8_t id[SS_IDENTITY_LEN];
	ss_truststore *ts;

	test_tmp_path(path, state, "known_peers");
	ts = load_ok(path);
	assert_int_equal(ts->n, 0);
	assert_int_equal(ss_trust_lookup(ts, "vpn.example.com:51820", id), SS_ERR_NOT_FOUND);

	/* Saving the empty store writes just the header. */
	assert_int_equal(ss_trust_save(ts), 0);
	assert_int_equal(test_read_file(path, buf, sizeof(buf)), strlen(HEADER));
	assert_string_equal(buf, HEADER);
	ss_trust_free(ts);
	ts = load_ok(path);
	assert_int_equal(ts->n, 0);
	ss_trust_free(ts);

	/* A missing directory reads as empty too, but cannot be saved into. */
	test_tmp_path(path, state, "no/such/dir/known_peers");
	ts = load_ok(path);
	assert_int_equal(ss_trust_save(ts), SS_ERR_IO);
	ss_trust_free(ts);
	ss_trust_free(NULL);
}

static void pin_lookup_forget(void **state)
{
	uint8_t a[SS_IDENTITY_LEN], b[SS_IDENTITY_LEN], got[SS_IDENTITY_LEN];
	ss_truststore *ts;

	(void)state;
	identity_of(a, 1);
	identity_of(b, 2);
	ts = load_ok("/nonexistent-silosec-test/known_peers");

	/* New name: pinned. */
	assert_int_equal(ss_trust_pin(ts, "hub.example.net:51820", a), 0);
	assert_int_equal(ts->n, 1);
	assert_int_equal(ss_trust_lookup(ts, "hub.example.net:51820", got), 0);
	assert_memory_equal(got, a, SS_IDENTITY_LEN);
	assert_int_equal(ss_trust_lookup(ts, "hub.example.net:51820", NULL), 0);

	/* Same name, same identity: nothing to do. */
	assert_int_equal(ss_trust_pin(ts, "hub.example.net:51820", a), 0);
	assert_int_equal(ts->n, 1);

	/* Same name, another identity: refused, the pin stays. */
	assert_int_equal(ss_trust_pin(ts, "hub.example.net:51820", b), SS_ERR_EXISTS);
	assert_int_equal(ss_trust_lookup(ts, "hub.example.net:51820", got), 0);
	assert_memory_equal(got, a, SS_IDENTITY_LEN);

	/* Names are compared exactly. */
	assert_int_equal(ss_trust_lookup(ts, "HUB.example.net:51820", got), SS_ERR_NOT_FOUND);
	assert_int_equal(ss_trust_lookup(ts, "hub.example.net", got), SS_ERR_NOT_FOUND);
	assert_int_equal(ss_trust_pin(ts, "hub.example.net", b), 0);
	assert_int_equal(ts->n, 2);

	/* Forget, then the name may be pinned to a new identity. */
	assert_int_equal(ss_trust_forget(ts, "hub.example.net:51820"), 0);
	assert_int_equal(ss_trust_forget(ts, "hub.example.net:51820"), SS_ERR_NOT_FOUND);
	assert_int_equal(ss_trust_lookup(ts, "hub.example.net:51820", got), SS_ERR_NOT_FOUND);
	assert_int_equal(ts->n, 1);
	assert_string_equal(ts->entries[0].name, "hub.example.net");
	assert_int_equal(ss_trust_pin(ts, "hub.example.net:51820", b), 0);
	assert_int_equal(ss_trust_lookup(ts, "hub.example.net:51820", got), 0);
	assert_memory_equal(got, b, SS_IDENTITY_LEN);

	assert_int_equal(ss_trust_lookup(NULL, "x", got), SS_ERR_INVAL);
	assert_int_equal(ss_trust_lookup(ts, NULL, got), SS_ERR_INVAL);
	assert_int_equal(ss_trust_pin(NULL, "x", a), SS_ERR_INVAL);
	assert_int_equal(ss_trust_pin(ts, "x", NULL), SS_ERR_INVAL);
	assert_int_equal(ss_trust_forget(NULL, "x"), SS_ERR_INVAL);
	assert_int_equal(ss_trust_forget(ts, NULL), SS_ERR_INVAL);
	assert_int_equal(ss_trust_save(NULL), SS_ERR_INVAL);
	ss_trust_free(ts);
	assert_int_equal(ss_trust_load(NULL, &ts, NULL, 0), SS_ERR_INVAL);
	assert_null(ts);
	assert_int_equal(ss_trust_load("x", NULL, NULL, 0), SS_ERR_INVAL);
}

static void invalid_names(void **state)
{
	static const char *const bad[] = {
		"",	 "a b",	 "a\tb",  "a\nb",  "a\rb",  "\x01",
		"x\x7f", "a\vb", "#host", " host", "host ",
	};
	static const char *const good[] = {
		"a", "a#b", "[2001:db8::1]:51820", "10.0.0.1:51820", "h\xc3\xa9llo.example", "x=y",
	};
	char longest[SS_TRUST_NAME_MAX + 2];
	uint8_t id[SS_IDENTITY_LEN];
	ss_truststore *ts;

	(void)state;
	identity_of(id, 3);
	ts = load_ok("/nonexistent-silosec-test/known_peers");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ss_trust_pin(ts, bad[i], id), SS_ERR_INVAL);
	assert_int_equal(ts->n, 0);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(ss_trust_pin(ts, good[i], id), 0);

	memset(longest, 'n', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	assert_int_equal(ss_trust_pin(ts, longest, id), SS_ERR_INVAL);
	longest[SS_TRUST_NAME_MAX] = '\0';
	assert_int_equal(ss_trust_pin(ts, longest, id), 0);
	assert_int_equal(ts->n, sizeof(good) / sizeof(good[0]) + 1);
	ss_trust_free(ts);
}

/* ---- the file ---- */

static void save_load_roundtrip(void **state)
{
	char path[PATH_MAX], name[SS_TRUST_NAME_MAX + 1], *want, *buf;
	uint8_t id[SS_IDENTITY_LEN];
	ss_truststore *ts, *back;
	size_t off;
	struct stat st;
	mode_t old;
	int cwd;

	test_tmp_path(path, state, "known_peers");
	ts = load_ok(path);
	/* Enough entries to grow every array a few times. */
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "peer-%u.example.org:%u", i, 51820 + i % 7);
		identity_of(id, i);
		assert_int_equal(ss_trust_pin(ts, name, id), 0);
	}
	memset(name, 'z', SS_TRUST_NAME_MAX);
	name[SS_TRUST_NAME_MAX] = '\0';
	identity_of(id, 5000);
	assert_int_equal(ss_trust_pin(ts, name, id), 0);
	assert_int_equal(ss_trust_pin(ts, "[2001:db8::1]:51820", id), 0);
	assert_int_equal(ss_trust_forget(ts, "peer-500.example.org:51823"), 0);

	/* Even with a permissive umask the file is 0600. */
	old = umask(0);
	assert_int_equal(ss_trust_save(ts), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_temps(*state), 0);

	/* Exactly the header, then "NAME BASE64" in pinning order. */
	want = malloc(400 * ts->n + sizeof(HEADER));
	buf = malloc(400 * ts->n + sizeof(HEADER));
	assert_non_null(want);
	assert_non_null(buf);
	off = (size_t)sprintf(want, "%s", HEADER);
	for (size_t i = 0; i < ts->n; i++) {
		char b64[SS_B64_KEY_LEN];

		ss_key_to_base64(ts->entries[i].identity, b64);
		off += (size_t)sprintf(want + off, "%s %s\n", ts->entries[i].name, b64);
	}
	assert_int_equal(test_read_file(path, buf, 400 * ts->n + sizeof(HEADER)), off);
	assert_string_equal(buf, want);

	back = load_ok(path);
	assert_int_equal(back->n, ts->n);
	for (size_t i = 0; i < ts->n; i++) {
		assert_string_equal(back->entries[i].name, ts->entries[i].name);
		assert_memory_equal(back->entries[i].identity, ts->entries[i].identity,
				    SS_IDENTITY_LEN);
	}
	assert_int_equal(ss_trust_lookup(back, "peer-500.example.org:51823", id), SS_ERR_NOT_FOUND);

	/* Saving over a looser file leaves it 0600; a relative path works too. */
	assert_int_equal(chmod(path, 0644), 0);
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(cwd >= 0);
	assert_int_equal(chdir(*state), 0);
	free(back->path);
	back->path = strdup("known_peers");
	assert_int_equal(ss_trust_save(back), 0);
	assert_int_equal(fchdir(cwd), 0);
	close(cwd);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(test_read_file(path, buf, 400 * ts->n + sizeof(HEADER)), off);
	assert_string_equal(buf, want);

	free(want);
	free(buf);
	ss_trust_free(ts);
	ss_trust_free(back);
}

/* "@" and "!" stand for two valid identities, "~" for a NUL byte. */
static size_t expand(const char *tmpl, char *out, size_t cap)
{
	char k1[SS_B64_KEY_LEN], k2[SS_B64_KEY_LEN];
	size_t len = 0;

	b64_of(k1, 1);
	b64_of(k2, 2);
	for (; *tmpl; tmpl++) {
		const char *piece = *tmpl == '@' ? k1 : *tmpl == '!' ? k2 : NULL;

		if (piece) {
			assert_true(len + strlen(piece) < cap);
			memcpy(out + len, piece, strlen(piece));
			len += strlen(piece);
		} else {
			assert_true(len + 1 < cap);
			out[len++] = *tmpl == '~' ? '\0' : *tmpl;
		}
	}
	out[len] = '\0';
	return len;
}

static void parse_accepts(void **state)
{
	static const char tmpl[] = "# comment\n"
				   "\n"
				   "   \t\n"
				   "   # indented comment\n"
				   "plain @\n"
				   "  indented\t\t!  \n"
				   "crlf @\r\n"
				   "has#hash !\n"
				   "last-no-newline @";
	static const struct {
		const char *name;
		unsigned id;
	} want[] = {
		{"plain", 1}, {"indented", 2}, {"crlf", 1}, {"has#hash", 2}, {"last-no-newline", 1},
	};
	char path[PATH_MAX], text[1024];
	uint8_t id[SS_IDENTITY_LEN], got[SS_IDENTITY_LEN];
	ss_truststore *ts;

	test_tmp_path(path, state, "known_peers");
	test_write_file(path, text, expand(tmpl, text, sizeof(text)), 0600);
	ts = load_ok(path);
	assert_int_equal(ts->n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < ts->n; i++) {
		assert_string_equal(ts->entries[i].name, want[i].name);
		identity_of(id, want[i].id);
		assert_int_equal(ss_trust_lookup(ts, want[i].name, got), 0);
		assert_memory_equal(got, id, SS_IDENTITY_LEN);
	}
	ss_trust_free(ts);

	/* An empty file and a header-only file are empty stores. */
	test_write_file(path, "", 0, 0600);
	ts = load_ok(path);
	assert_int_equal(ts->n, 0);
	ss_trust_free(ts);
	test_write_file(path, HEADER, strlen(HEADER), 0600);
	ts = load_ok(path);
	assert_int_equal(ts->n, 0);
	ss_trust_free(ts);
}

static const struct {
	const char *tmpl;
	unsigned line;
	const char *msg;
} parse_error_cases[] = {
	{"a @\nb @\na !\n", 3, "duplicate name \"a\""},
	{"a @\nb @\na @\n", 3, "duplicate name \"a\""},
	{"# c\n\nhost not-base64\n", 3, "identity is not the base64 of a 32-byte key"},
	{"host AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", 1, "identity is not"},
	{"host AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", 1, "identity is not"},
	{"host @=\n", 1, "identity is not"},
	{"host @\r\r\n", 1, "identity is not"},
	{"host @ extra\n", 1, "extra field after the identity"},
	{"ok @\nhost @ # trailing comments are not comments\n", 2, "extra field"},
	{"host\t@\t!\n", 1, "extra field"},
	{"\n\nhostonly\n", 3, "missing identity after the name"},
	{"hostonly  \t \n", 1, "missing identity"},
	{"a @\nb", 2, "missing identity"},
	{"@\n", 1, "missing identity"},
	{"a @\nb~c @\n", 2, "NUL byte"},
	{"a @\n~\n", 2, "NUL byte"},
	{"a @~\n", 1, "NUL byte"},
	{"# ~\n", 1, "NUL byte"},
	{"a\x01"
	 "b @\n",
	 1, "control character in name"},
	{"a\vb @\n", 1, "control character in name"},
	{"a\x7f @\n", 1, "control character in name"},
	{"a\rb @\n", 1, "control character in name"},
};

static void parse_errors(void **state)
{

	char path[PATH_MAX], text[1024], err[512], prefix[PATH_MAX + 32];
	ss_truststore sentinel, *ts;

	test_tmp_path(path, state, "known_peers");
	for (size_t i = 0; i < sizeof(parse_error_cases) / sizeof(parse_error_cases[0]); i++) {
		test_write_file(path, text, expand(parse_error_cases[i].tmpl, text, sizeof(text)),
				0600);
		memset(err, 'x', sizeof(err));
		ts = &sentinel;
		assert_int_equal(ss_trust_load(path, &ts, err, sizeof(err)), SS_ERR_FORMAT);
		assert_null(ts);
		/* "FILE:LINE: message" */
		snprintf(prefix, sizeof(prefix), "%s:%u: ", path, parse_error_cases[i].line);
		if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, parse_error_cases[i].msg))
			fail_msg("case %zu: got \"%s\", want \"%s%s\"", i, err, prefix,
				 parse_error_cases[i].msg);
	}

	/* Name length: 255 bytes is fine, 256 is not. */
	{
		char b64[SS_B64_KEY_LEN];
		size_t len;

		b64_of(b64, 1);
		memset(text, 'n', SS_TRUST_NAME_MAX);
		len = (size_t)sprintf(text + SS_TRUST_NAME_MAX, " %s\n", b64) + SS_TRUST_NAME_MAX;
		test_write_file(path, text, len, 0600);
		ts = load_ok(path);
		assert_int_equal(ts->n, 1);
		ss_trust_free(ts);

		memset(text, 'n', SS_TRUST_NAME_MAX + 1);
		len = (size_t)sprintf(text + SS_TRUST_NAME_MAX + 1, " %s\n", b64) +
		      SS_TRUST_NAME_MAX + 1;
		test_write_file(path, text, len, 0600);
		assert_int_equal(ss_trust_load(path, &ts, err, sizeof(err)), SS_ERR_FORMAT);
		snprintf(prefix, sizeof(prefix), "%s:1: name longer than 255 bytes", path);
		assert_string_equal(err, prefix);
	}

	/* A short error buffer is truncated, not overrun; none at all is fine. */
	test_write_file(path, "x\n", 2, 0600);
	memset(err, 'x', sizeof(err));
	assert_int_equal(ss_trust_load(path, &ts, err, 8), SS_ERR_FORMAT);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(err[8], 'x');
	assert_int_equal(ss_trust_load(path, &ts, NULL, 0), SS_ERR_FORMAT);
}

static void permission_refused(void **state)
{
	static const mode_t refused[] = {0620, 0602, 0622, 0660, 0606, 0666, 0664, 0646, 0777};
	static const mode_t allowed[] = {0600, 0400, 0644, 0640, 0604, 0700};
	char path[PATH_MAX], text[256], err[1024], want[PATH_MAX + 16];
	ss_truststore *ts;

	test_tmp_path(path, state, "known_peers");
	snprintf(want, sizeof(want), "chmod 600 %s", path);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		test_write_file(path, text, expand("a @\n", text, sizeof(text)), refused[i]);
		assert_int_equal(ss_trust_load(path, &ts, err, sizeof(err)), SS_ERR_PERM);
		assert_null(ts);
		assert_int_equal(strncmp(err, path, strlen(path)), 0);
		assert_non_null(strstr(err, "writable by group or others"));
		assert_non_null(strstr(err, want));
	}
	/* Readable is fine: identities are public. */
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		test_write_file(path, text, expand("a @\n", text, sizeof(text)), allowed[i]);
		ts = load_ok(path);
		assert_int_equal(ts->n, 1);
		ss_trust_free(ts);
	}
	/* Permissions come before contents: a bad file that others can write says so. */
	test_write_file(path, "garbage\n", 8, 0666);
	assert_int_equal(ss_trust_load(path, &ts, err, sizeof(err)), SS_ERR_PERM);
}

static void load_io_errors(void **state)
{
	char path[PATH_MAX], want[PATH_MAX + 64], err[1024];
	ss_truststore *ts;

	/* A directory, a FIFO (must not block): not a store. */
	test_tmp_path(path, state, "dir");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(ss_trust_load(path, &ts, err, sizeof(err)), SS_ERR_IO);
	assert_null(ts);
	snprintf(want, sizeof(want), "%s: not a regular file", path);
	assert_string_equal(err, want);

	test_tmp_path(path, state, "fifo");
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(ss_trust_load(path, &ts, err, sizeof(err)), SS_ERR_IO);
	snprintf(want, sizeof(want), "%s: not a regular file", path);
	assert_string_equal(err, want);

	/* Other open errors: "FILE: strerror". */
	test_tmp_path(path, state, "file");
	test_write_file(path, "", 0, 0600);
	test_tmp_path(path, state, "file/known_peers");
	assert_int_equal(ss_trust_load(path, &ts, err, sizeof(err)), SS_ERR_IO);
	snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOTDIR));
	assert_string_equal(err, want);
}

/* ---- saving never damages the old file ---- */

static ss_truststore *store_with(const char *path, unsigned count)
{
	char name[32];
	uint8_t id[SS_IDENTITY_LEN];
	ss_truststore *ts = load_ok(path);

	for (unsigned i = 0; i < count; i++) {
		snprintf(name, sizeof(name), "peer%u:51820", i);
		identity_of(id, i);
		assert_int_equal(ss_trust_pin(ts, name, id), 0);
	}
	return ts;
}

/*
 * `silosec trust` (root) saving in silosecd's state directory, which the daemon's user
 * owns: the new store is that user's too, or the daemon (no CAP_DAC_OVERRIDE) could no
 * longer read it or pin. In a root-owned directory it stays root's.
 */
static void root_save_keeps_daemon_owner(void **state)
{
	const char *dir = *state;
	char sub[PATH_MAX], path[PATH_MAX + 16];
	ss_truststore *ts;
	struct stat st;

	if (geteuid()) {
		skip();
		return;
	}
	snprintf(sub, sizeof(sub), "%s/ss0", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(chown(sub, 4242, 4343), 0);
	snprintf(path, sizeof(path), "%s/a.trust", sub);
	ts = store_with(path, 2);
	assert_int_equal(ss_trust_save(ts), 0);
	ss_trust_free(ts);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 4242);
	assert_int_equal(st.st_gid, 4343);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(path, sizeof(path), "%s/b.trust", dir);
	ts = store_with(path, 1);
	assert_int_equal(ss_trust_save(ts), 0);
	ss_trust_free(ts);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(count_temps(sub), 0);
}

/* Root ignores directory permissions, so failures are injected in ways that bind root too. */
static void save_failure_keeps_old(void **state)
{
	char path[PATH_MAX], inner[PATH_MAX], old[4096], now[4096], name[256];
	ss_truststore *ts;
	size_t old_len;
	pid_t pid;
	int status;

	test_tmp_path(path, state, "known_peers");
	ts = store_with(path, 3);
	assert_int_equal(ss_trust_save(ts), 0);
	ss_trust_free(ts);
	old_len = test_read_file(path, old, sizeof(old));

	/*
	 * Out of space halfway through writing (RLIMIT_FSIZE stands in for a full disk).
	 * In a child, so that the limit cannot touch the test's own output.
	 */
	ts = store_with(path, 200);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = {1024, 1024};

		signal(SIGXFSZ, SIG_IGN);
		_exit(setrlimit(RLIMIT_FSIZE, &rl) == 0 && ss_trust_save(ts) == SS_ERR_IO ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(test_read_file(path, now, sizeof(now)), old_len);
	assert_string_equal(now, old);
	assert_int_equal(count_temps(*state), 0);
	ss_trust_free(ts);

	/* The temporary name does not fit: nothing is written. */
	memset(name, 'l', 250);
	name[250] = '\0';
	test_tmp_path(path, state, name);
	test_write_file(path, old, old_len, 0600);
	ts = store_with(path, 5);
	assert_int_equal(ss_trust_save(ts), SS_ERR_IO);
	assert_int_equal(test_read_file(path, now, sizeof(now)), old_len);
	assert_string_equal(now, old);
	assert_int_equal(count_temps(*state), 0);
	ss_trust_free(ts);

	/* rename() fails: PATH is a non-empty directory. It and its contents survive. */
	test_tmp_path(path, state, "is_a_dir");
	ts = store_with(path, 5);
	assert_int_equal(mkdir(path, 0700), 0);
	test_tmp_path(inner, state, "is_a_dir/precious");
	test_write_file(inner, "precious\n", 9, 0600);
	assert_int_equal(ss_trust_save(ts), SS_ERR_IO);
	assert_int_equal(test_read_file(inner, now, sizeof(now)), 9);
	assert_string_equal(now, "precious\n");
	assert_int_equal(count_temps(*state), 0);
	assert_int_equal(count_temps(path), 0);
	ss_trust_free(ts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(missing_file_is_empty, test_tmpdir_setup,
						test_tmpdir_teardown),
		cmocka_unit_test(pin_lookup_forget),
		cmocka_unit_test(invalid_names),
		cmocka_unit_test_setup_teardown(save_load_roundtrip, test_tmpdir_setup,
						test_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(parse_accepts, test_tmpdir_setup,
						test_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(parse_errors, test_tmpdir_setup,
						test_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(permission_refused, test_tmpdir_setup,
						test_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(load_io_errors, test_tmpdir_setup,
						test_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(save_failure_keeps_old, test_tmpdir_setup,
						test_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(root_save_keeps_daemon_owner, test_tmpdir_setup,
						test_tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
