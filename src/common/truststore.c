/* SPDX-License-Identifier: MIT */
/*
 * Trust on first use. The file decides which identity a name may present, so loading is
 * strict (anything doubtful is an error naming its line) and refuses a file that others
 * can write, and saving never leaves a partly written file under the real name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "common/truststore.h"

#define HEADER "# SiloSec trust store: NAME IDENTITY (managed by silosecd and silosec trust)\n"
#define BLANKS " \t"

/* Entry numbers + 1 by name, so that finding duplicates keeps loading linear. */
struct name_index {
	size_t *slots;
	size_t mask;
};

struct parser {
	ss_truststore *ts;
	struct name_index index;
	size_t line;
	char *err;
	size_t errlen;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int io_error(const char *path, char *err, size_t errlen)
{
	seterr(err, errlen, "%s: %s", path, strerror(errno));
	return SS_ERR_IO;
}

/*
 * Names are written bare, one entry per line: no blanks or control characters, and no
 * leading '#', which would read back as a comment. Other bytes (UTF-8) are allowed.
 */
static bool name_ok(const char *name, size_t len)
{
	if (len == 0 || len > SS_TRUST_NAME_MAX || name[0] == '#')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= ' ' || c == 0x7f)
			return false;
	}
	return true;
}

static ss_trust_entry *find_entry(const ss_truststore *ts, const char *name)
{
	for (size_t i = 0; i < ts->n; i++)
		if (!strcmp(ts->entries[i].name, name))
			return &ts->entries[i];
	return NULL;
}

/*
 * The public struct has no capacity field: the array holds n rounded up to a power of
 * two (at least 4), so it must grow only when n is 0 or such a power.
 */
static int reserve(ss_truststore *ts)
{
	size_t n = ts->n;
	void *p;

	if ((n > 0 && n < 4) || (n & (n - 1)))
		return 0;
	p = realloc(ts->entries, (n < 4 ? 4 : n * 2) * sizeof(*ts->entries));
	if (!p)
		return SS_ERR_NOMEM;
	ts->entries = p;
	return 0;
}

static int append(ss_truststore *ts, const char *name, const uint8_t identity[SS_IDENTITY_LEN])
{
	char *copy;

	if (reserve(ts))
		return SS_ERR_NOMEM;
	copy = strdup(name);
	if (!copy)
		return SS_ERR_NOMEM;
	ts->entries[ts->n].name = copy;
	memcpy(ts->entries[ts->n].identity, identity, SS_IDENTITY_LEN);
	ts->n++;
	return 0;
}

/* FNV-1a: the file is trusted (only its owner can write it), so no keyed hash is needed. */
static size_t name_hash(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	while (*s)
		h = (h ^ (unsigned char)*s++) * UINT64_C(0x100000001b3);
	return (size_t)h;
}

static size_t *index_slot(const struct name_index *ix, const ss_truststore *ts, const char *name)
{
	for (size_t i = name_hash(name) & ix->mask;; i = (i + 1) & ix->mask)
		if (!ix->slots[i] || !strcmp(ts->entries[ix->slots[i] - 1].name, name))
			return &ix->slots[i];
}

/* Make room for one more name, keeping at least half the slots free. */
static int index_reserve(struct name_index *ix, const ss_truststore *ts)
{
	struct name_index nx;
	size_t count = ix->slots ? ix->mask + 1 : 0;

	if ((ts->n + 1) * 2 <= count)
		return 0;
	count = count ? count * 2 : 16;
	nx.mask = count - 1;
	nx.slots = calloc(count, sizeof(*nx.slots));
	if (!nx.slots)
		return SS_ERR_NOMEM;
	for (size_t i = 0; i < ts->n; i++)
		*index_slot(&nx, ts, ts->entries[i].name) = i + 1;
	free(ix->slots);
	*ix = nx;
	return 0;
}

static int parse_error(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int parse_error(struct parser *p, const char *fmt, ...)
{
	char msg[SS_TRUST_NAME_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	seterr(p->err, p->errlen, "%s:%zu: %s", p->ts->path, p->line, msg);
	return SS_ERR_FORMAT;
}

static int out_of_memory(struct parser *p)
{
	seterr(p->err, p->errlen, "%s: %s", p->ts->path, strerror(ENOMEM));
	return SS_ERR_NOMEM;
}

static int add_entry(struct parser *p, const char *name, const char *key)
{
	uint8_t identity[SS_IDENTITY_LEN];
	size_t *slot;

	if (!name_ok(name, strlen(name)))
		return parse_error(p, "control character in name");
	if (ss_key_from_base64(key, identity))
		return parse_error(p, "identity is not the base64 of a %d-byte key",
				   SS_IDENTITY_LEN);
	if (index_reserve(&p->index, p->ts))
		return out_of_memory(p);
	slot = index_slot(&p->index, p->ts, name);
	if (*slot)
		return parse_error(p, "duplicate name \"%s\"", name);
	if (append(p->ts, name, identity))
		return out_of_memory(p);
	*slot = p->ts->n;
	return 0;
}

/* One line as getline() read it, with its newline (if any) and any NUL bytes. */
static int parse_line(struct parser *p, char *line, size_t len)
{
	char *name, *key, *end;
	size_t name_len;

	if (len && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len && line[len - 1] == '\r')
		line[--len] = '\0';
	if (memchr(line, '\0', len))
		return parse_error(p, "NUL byte");
	name = line + strspn(line, BLANKS);
	if (!*name || *name == '#')
		return 0;
	name_len = strcspn(name, BLANKS);
	key = name + name_len + strspn(name + name_len, BLANKS);
	if (!*key)
		return parse_error(p, "missing identity after the name");
	end = key + strcspn(key, BLANKS);
	if (end[strspn(end, BLANKS)])
		return parse_error(p, "extra field after the identity");
	if (name_len > SS_TRUST_NAME_MAX)
		return parse_error(p, "name longer than %d bytes", SS_TRUST_NAME_MAX);
	name[name_len] = '\0';
	*end = '\0';
	return add_entry(p, name, key);
}

static int parse(struct parser *p, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int ret = 0;

	while (!ret && (len = getline(&line, &cap, f)) >= 0) {
		p->line++;
		ret = parse_line(p, line, (size_t)len);
	}
	if (!ret && ferror(f))
		ret = io_error(p->ts->path, p->err, p->errlen);
	free(line);
	free(p->index.slots);
	return ret;
}

static int check_file(const char *path, int fd, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return io_error(path, err, errlen);
	if (!S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		return SS_ERR_IO;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		seterr(err, errlen,
		       "%s: writable by group or others, who could pin their own key "
		       "for any name; fix with: chmod 600 %s",
		       path, path);
		return SS_ERR_PERM;
	}
	return 0;
}

/* Takes fd. */
static int read_store(ss_truststore *ts, int fd, char *err, size_t errlen)
{
	struct parser p = {.ts = ts, .err = err, .errlen = errlen};
	FILE *f;
	int ret;

	ret = check_file(ts->path, fd, err, errlen);
	if (ret) {
		close(fd);
		return ret;
	}
	f = fdopen(fd, "r");
	if (!f) {
		ret = io_error(ts->path, err, errlen);
		close(fd);
		return ret;
	}
	ret = parse(&p, f);
	fclose(f);
	return ret;
}

int ss_trust_load(const char *path, ss_truststore **out, char *err, size_t errlen)
{
	ss_truststore *ts;
	int fd, ret;

	seterr(err, errlen, "%s", "");
	if (!out)
		return SS_ERR_INVAL;
	*out = NULL;
	if (!path)
		return SS_ERR_INVAL;
	ts = calloc(1, sizeof(*ts));
	if (!ts || !(ts->path = strdup(path))) {
		free(ts);
		return SS_ERR_NOMEM;
	}
	/* O_NONBLOCK: a FIFO planted at path must not hang the daemon before check_file. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		ret = errno == ENOENT ? 0 : io_error(path, err, errlen);
	else
		ret = read_store(ts, fd, err, errlen);
	if (ret)
		ss_trust_free(ts);
	else
		*out = ts;
	return ret;
}

void ss_trust_free(ss_truststore *ts)
{
	if (!ts)
		return;
	for (size_t i = 0; i < ts->n; i++)
		free(ts->entries[i].name);
	free(ts->entries);
	free(ts->path);
	free(ts);
}

int ss_trust_lookup(const ss_truststore *ts, const char *name, uint8_t identity[SS_IDENTITY_LEN])
{
	const ss_trust_entry *e;

	if (!ts || !name)
		return SS_ERR_INVAL;
	e = find_entry(ts, name);
	if (!e)
		return SS_ERR_NOT_FOUND;
	if (identity)
		memcpy(identity, e->identity, SS_IDENTITY_LEN);
	return 0;
}

int ss_trust_pin(ss_truststore *ts, const char *name, const uint8_t identity[SS_IDENTITY_LEN])
{
	const ss_trust_entry *e;

	if (!ts || !name || !identity || !name_ok(name, strnlen(name, SS_TRUST_NAME_MAX + 1)))
		return SS_ERR_INVAL;
	e = find_entry(ts, name);
	if (e)
		return memcmp(e->identity, identity, SS_IDENTITY_LEN) ? SS_ERR_EXISTS : 0;
	return append(ts, name, identity);
}

int ss_trust_forget(ss_truststore *ts, const char *name)
{
	ss_trust_entry *e;

	if (!ts || !name)
		return SS_ERR_INVAL;
	e = find_entry(ts, name);
	if (!e)
		return SS_ERR_NOT_FOUND;
	free(e->name);
	/* Keep the order: the file stays in the order names were first seen. */
	memmove(e, e + 1, (size_t)(ts->entries + ts->n - (e + 1)) * sizeof(*e));
	ts->n--;
	return 0;
}

static int write_entries(const ss_truststore *ts, FILE *f)
{
	char b64[SS_B64_KEY_LEN];

	if (fputs(HEADER, f) == EOF)
		return SS_ERR_IO;
	for (size_t i = 0; i < ts->n; i++) {
		ss_key_to_base64(ts->entries[i].identity, b64);
		if (fprintf(f, "%s %s\n", ts->entries[i].name, b64) < 0)
			return SS_ERR_IO;
	}
	return 0;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/*
 * Root (`silosec trust`) saving in a directory that is silosecd's (its state directory):
 * the new file is the daemon's too, or the daemon could no longer read or replace it.
 */
static int keep_owner(const char *path, int fd)
{
	char *dir;
	struct stat st;
	int ret = 0;

	if (geteuid())
		return 0;
	dir = dir_of(path);
	if (!dir)
		return -1;
	if (!stat(dir, &st) && st.st_uid && fchown(fd, st.st_uid, st.st_gid) < 0)
		ret = -1;
	free(dir);
	return ret;
}

/* Takes fd. The data must be on disk before the rename makes it the store. */
static int write_file(const ss_truststore *ts, int fd)
{
	FILE *f;
	int ret;

	if (fchmod(fd, 0600) < 0 || keep_owner(ts->path, fd) < 0 || !(f = fdopen(fd, "w"))) {
		close(fd);
		return SS_ERR_IO;
	}
	ret = write_entries(ts, f);
	if (!ret && (fflush(f) == EOF || fsync(fileno(f)) < 0))
		ret = SS_ERR_IO;
	if (fclose(f) == EOF && !ret)
		ret = SS_ERR_IO;
	return ret;
}

/* Makes the rename itself durable. */
static int sync_dir(const char *path)
{
	char *dir = dir_of(path);
	int fd, ret = 0;

	if (!dir)
		return SS_ERR_NOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return SS_ERR_IO;
	/* EINVAL: the file system cannot sync directories; there is nothing more to do. */
	if (fsync(fd) < 0 && errno != EINVAL)
		ret = SS_ERR_IO;
	close(fd);
	return ret;
}

int ss_trust_save(const ss_truststore *ts)
{
	char *tmp;
	int fd, ret, saved;

	if (!ts || !ts->path)
		return SS_ERR_INVAL;
	if (asprintf(&tmp, "%s.tmp.XXXXXX", ts->path) < 0)
		return SS_ERR_NOMEM;
	/* Same directory as path, so that rename() replaces it in one step. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		free(tmp);
		return SS_ERR_IO;
	}
	ret = write_file(ts, fd);
	if (!ret && rename(tmp, ts->path) < 0)
		ret = SS_ERR_IO;
	if (ret) {
		saved = errno;
		unlink(tmp);
		errno = saved;
	} else {
		/* An error here means the new file is in place but may not survive a crash. */
		ret = sync_dir(ts->path);
	}
	free(tmp);
	return ret;
}
