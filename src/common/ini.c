/* SPDX-License-Identifier: MIT */
/*
 * The INI lexer shared by every configuration file (see ini.h). Lines are copied into one
 * buffer that is wiped at the end: silosec.conf lines may hold PrivateKey in clear.
 */
#include "common/ini.h"
#include "common/wipe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <silosec/error.h>

int ss_ini_vfail(struct ss_ini *ini, unsigned line, int code, const char *fmt, va_list ap)
{
	int n;

	if (!ini->err || !ini->errlen)
		return code;
	n = snprintf(ini->err, ini->errlen, "%s:%u: ", ini->file, line);
	if (n >= 0 && (size_t)n < ini->errlen)
		vsnprintf(ini->err + n, ini->errlen - (size_t)n, fmt, ap);
	return code;
}

int ss_ini_fail(struct ss_ini *ini, unsigned line, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = ss_ini_vfail(ini, line, code, fmt, ap);
	va_end(ap);
	return code;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

char *ss_ini_trim(char *s)
{
	char *end = s + strlen(s);

	while (is_blank(*s))
		s++;
	while (end > s && is_blank(end[-1]))
		end--;
	*end = '\0';
	return s;
}

unsigned ss_ini_seen(const struct ss_ini *ini, size_t key)
{
	return ini->seen && key < ini->d->nkeys ? ini->seen[key] : 0;
}

static const char *section_name(const struct ss_ini *ini, int kind)
{
	const struct ss_ini_dialect *d = ini->d;

	if (kind <= 0 || (size_t)kind >= d->nsection_names || !d->section_names[kind])
		return "?";
	return d->section_names[kind];
}

int ss_ini_describe(struct ss_ini *ini, const struct ss_ini_fault *f)
{
	const unsigned ln = ini->line;

	switch (f->kind) {
	case SS_INI_LONG_LINE:
		return ss_ini_fail(ini, ln, SS_ERR_FORMAT, "line longer than %zu bytes",
				   ini->d->max_line);
	case SS_INI_NUL:
		return ss_ini_fail(ini, ln, SS_ERR_FORMAT, "NUL byte in line");
	case SS_INI_BAD_HEADER:
		return ss_ini_fail(ini, ln, SS_ERR_FORMAT,
				   "section header \"%s\" is not of the form [Name]", f->text);
	case SS_INI_NO_EQUALS:
		return ss_ini_fail(ini, ln, SS_ERR_FORMAT,
				   "expected \"Key = Value\" or \"[Section]\"");
	case SS_INI_BAD_KEY_NAME:
		return ss_ini_fail(ini, ln, SS_ERR_FORMAT,
				   "expected \"Key = Value\" with a key name%s",
				   ini->d->letters_only ? " of letters only" : "");
	case SS_INI_OUTSIDE:
		if (!ini->d->first_sections)
			return ss_ini_fail(ini, ln, SS_ERR_FORMAT, "%s: key outside of a section",
					   f->text);
		return ss_ini_fail(ini, ln, SS_ERR_FORMAT,
				   "%s: key outside of a section (%s must come first)", f->text,
				   ini->d->first_sections);
	case SS_INI_UNKNOWN_KEY:
		return ss_ini_fail(ini, ln, SS_ERR_FORMAT, "%s: unknown key in %s", f->text,
				   ini->label);
	case SS_INI_WRONG_SECTION:
		return ss_ini_fail(ini, ln, SS_ERR_FORMAT, "%s: belongs in %s, not in %s",
				   f->key->name, section_name(ini, f->key->section), ini->label);
	case SS_INI_DUPLICATE:
		return ss_ini_fail(ini, ln, SS_ERR_FORMAT, "%s: duplicate key (first on line %u)",
				   f->key->name, f->first_line);
	case SS_INI_EMPTY_VALUE:
		return ss_ini_fail(ini, ln, SS_ERR_FORMAT, "%s: empty value", f->key->name);
	}
	return SS_ERR_FORMAT;
}

static int fault(struct ss_ini *ini, enum ss_ini_fault_kind kind, const char *text,
		 const struct ss_ini_key *key, unsigned first_line)
{
	const struct ss_ini_fault f = {kind, text, key, first_line};
	int ret = ini->d->describe ? ini->d->describe(ini, &f) : 1;

	return ret == 1 ? ss_ini_describe(ini, &f) : ret;
}

static bool all_letters(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return false;
	return true;
}

/* An entry for this section first, so two sections may share a key name. */
static const struct ss_ini_key *find_key(const struct ss_ini *ini, const char *name)
{
	const struct ss_ini_key *other = NULL;

	for (size_t i = 0; i < ini->d->nkeys; i++) {
		const struct ss_ini_key *k = &ini->d->keys[i];

		if (strcasecmp(name, k->name))
			continue;
		if (k->section == ini->sec)
			return k;
		other = other ? other : k;
	}
	return other;
}

/* A name that fails letters_only is never echoed: it may be a secret missing its '='. */
static int assignment(struct ss_ini *ini, char *s, char *eq)
{
	const struct ss_ini_key *k;
	char *name, *val;
	size_t idx;

	*eq = '\0';
	name = ss_ini_trim(s);
	val = ss_ini_trim(eq + 1);
	if (!*name || (ini->d->letters_only && !all_letters(name)))
		return fault(ini, SS_INI_BAD_KEY_NAME, NULL, NULL, 0);
	if (ini->sec == SS_INI_IGNORE)
		return 0;
	if (ini->sec == SS_INI_NONE)
		return fault(ini, SS_INI_OUTSIDE, name, NULL, 0);
	k = find_key(ini, name);
	if (!k)
		return fault(ini, SS_INI_UNKNOWN_KEY, name, NULL, 0);
	if (k->section != ini->sec)
		return fault(ini, ini->d->section_names ? SS_INI_WRONG_SECTION : SS_INI_UNKNOWN_KEY,
			     name, k, 0);
	idx = (size_t)(k - ini->d->keys);
	if (!k->repeats && ini->seen[idx])
		return fault(ini, SS_INI_DUPLICATE, name, k, ini->seen[idx]);
	if (!*val)
		return fault(ini, SS_INI_EMPTY_VALUE, name, k, 0);
	ini->seen[idx] = ini->line;
	return k->set(ini->ctx, k, val);
}

/* Only blanks or a comment may follow the ']'. */
static int header(struct ss_ini *ini, char *s)
{
	char *close = strchr(s, ']');
	const char *after = close ? close + 1 : NULL;
	int ret;

	while (after && is_blank(*after))
		after++;
	if (!close || (*after && *after != '#' && *after != ';'))
		return fault(ini, SS_INI_BAD_HEADER, s, NULL, 0);
	*close = '\0';
	if (ini->d->end_section && (ret = ini->d->end_section(ini->ctx)))
		return ret;
	memset(ini->seen, 0, ini->d->nkeys * sizeof(*ini->seen));
	ini->sec_line = ini->line;
	snprintf(ini->label, sizeof(ini->label), "[%s]", s + 1);
	return ini->d->section(ini->ctx, s + 1, &ini->sec);
}

static int line(struct ss_ini *ini, char *buf)
{
	char *s, *eq;

	if (ini->d->inline_comments && (s = strchr(buf, '#')))
		*s = '\0';
	s = ss_ini_trim(buf);
	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return header(ini, s);
	eq = strchr(s, '=');
	if (!eq)
		return fault(ini, SS_INI_NO_EQUALS, s, NULL, 0);
	return assignment(ini, s, eq);
}

static int lines(struct ss_ini *ini, const char *text, size_t len, char *buf)
{
	size_t off = 0;
	int ret = 0;

	while (!ret && off < len) {
		const char *start = text + off, *nl = memchr(start, '\n', len - off);
		size_t n = nl ? (size_t)(nl - start) : len - off;

		ini->line++;
		off += n + 1;
		if (n > ini->d->max_line)
			return fault(ini, SS_INI_LONG_LINE, NULL, NULL, 0);
		if (memchr(start, '\0', n))
			return fault(ini, SS_INI_NUL, NULL, NULL, 0);
		memcpy(buf, start, n);
		buf[n] = '\0';
		ret = line(ini, buf);
	}
	if (!ret && ini->d->end_section)
		ret = ini->d->end_section(ini->ctx);
	return ret;
}

int ss_ini_parse(struct ss_ini *ini, const struct ss_ini_dialect *d, const char *text, size_t len)
{
	char *buf;
	int ret;

	ini->d = d;
	ini->line = 0;
	ini->sec = d->initial_section;
	ini->sec_line = 0;
	snprintf(ini->label, sizeof(ini->label), "%s", "(no section)");
	if (!text && len)
		return ss_ini_fail(ini, 0, SS_ERR_INVAL, "invalid argument");
	ini->seen = calloc(d->nkeys ? d->nkeys : 1, sizeof(*ini->seen));
	buf = malloc(d->max_line + 1);
	if (!ini->seen || !buf)
		ret = ss_ini_fail(ini, 0, SS_ERR_NOMEM, "out of memory");
	else
		ret = lines(ini, text, len, buf);
	if (buf)
		ss_wipe(buf, d->max_line + 1);
	free(buf);
	free(ini->seen);
	ini->seen = NULL;
	return ret;
}

/* Growing by copy, not realloc, so no freed block keeps a copy of the key. */
static int grow_secret(char **buf, size_t *cap, size_t len, size_t max)
{
	size_t ncap = *cap > max / 2 ? max + 1 : *cap * 2;
	char *q = malloc(ncap);

	if (!q)
		return SS_ERR_NOMEM;
	memcpy(q, *buf, len);
	ss_wipe(*buf, len);
	free(*buf);
	*buf = q;
	*cap = ncap;
	return 0;
}

/*
 * The size from fstat is a hint (the file may grow, or be a pipe): reading stops at
 * max + 1 bytes so an oversized file is refused, not truncated.
 */
int ss_ini_read_fd(int fd, size_t max, char **out, size_t *outlen)
{
	struct stat st;
	size_t cap = 4096, len = 0;
	char *buf;
	int ret = 0, saved;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((uint64_t)st.st_size > max)
			return SS_ERR_FORMAT;
		cap = (size_t)st.st_size + 1;
	}
	buf = malloc(cap);
	if (!buf)
		return SS_ERR_NOMEM;
	while (!ret) {
		ssize_t r;

		if (len == cap) {
			ret = cap > max ? SS_ERR_FORMAT : grow_secret(&buf, &cap, len, max);
			continue;
		}
		r = read(fd, buf + len, cap - len);
		if (r == 0) {
			*out = buf;
			*outlen = len;
			return 0;
		}
		if (r > 0)
			len += (size_t)r;
		else if (errno != EINTR)
			ret = SS_ERR_IO;
	}
	saved = errno; /* read()'s, for the message */
	ss_wipe(buf, len);
	free(buf);
	errno = saved;
	return ret;
}

int ss_ini_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
			*out = !strcasecmp(s, yes[i]);
			return 0;
		}
	}
	return SS_ERR_FORMAT;
}

bool ss_ini_file_has_cr(const char *path)
{
	char buf[256];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 && memchr(buf, '\r', (size_t)n) != NULL;
}
