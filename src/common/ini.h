/* SPDX-License-Identifier: MIT */
/*
 * One INI lexer for every configuration file (silosec.conf, knockd.conf, the knock
 * client's profiles). The caller describes its file with a key table and a section
 * callback; the lexer splits lines, trims, finds the key, refuses unknown, misplaced and
 * repeated keys, and calls the key's setter. It never prints: errors are written to the
 * caller's buffer as "FILE:LINE: message" and returned as negative codes.
 *
 * Syntax shared by all files: one "Key = Value" or "[Section]" per line, blanks around
 * both ignored; a line whose first non-blank is '#' or ';' is a comment; no line
 * continuation (a trailing '\' is part of the value). Dialects differ only where the
 * files always did: '#' may also start a comment mid-line (silosec.conf), key names may
 * be restricted to letters (so a stray secret is never echoed as a "key").
 */
#ifndef SS_COMMON_INI_H
#define SS_COMMON_INI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Section kinds are the caller's small positive numbers; these two are the lexer's. */
#define SS_INI_NONE 0	 /* before the first header: a key there is an error */
#define SS_INI_IGNORE -1 /* keys are checked for "Key = Value" shape, then skipped */

#define SS_INI_LABEL_MAX 96

struct ss_ini_key {
	const char *name; /* matched case-insensitively */
	int section;	  /* the kind of section it belongs in */
	bool repeats;	  /* lists: every other key may appear once per section */
	int (*set)(void *ctx, const struct ss_ini_key *k, char *val);
	size_t off; /* for a shared setter: where the value goes in the caller's struct */
};

/* What the lexer itself refuses; setters and section callbacks report their own. */
enum ss_ini_fault_kind {
	SS_INI_LONG_LINE,
	SS_INI_NUL,
	SS_INI_BAD_HEADER,
	SS_INI_NO_EQUALS,
	SS_INI_BAD_KEY_NAME,
	SS_INI_OUTSIDE,
	SS_INI_UNKNOWN_KEY,
	SS_INI_WRONG_SECTION,
	SS_INI_DUPLICATE,
	SS_INI_EMPTY_VALUE,
};

struct ss_ini_fault {
	enum ss_ini_fault_kind kind;
	const char *text;	      /* the key or header as written (never for BAD_KEY_NAME) */
	const struct ss_ini_key *key; /* WRONG_SECTION, DUPLICATE, EMPTY_VALUE */
	unsigned first_line;	      /* DUPLICATE: where the key was first set */
};

struct ss_ini;

struct ss_ini_dialect {
	const struct ss_ini_key *keys;
	size_t nkeys;
	size_t max_line;      /* longer lines are refused */
	bool inline_comments; /* '#' anywhere starts a comment */
	bool letters_only;    /* key names are [A-Za-z]+ */
	int initial_section;  /* SS_INI_NONE or SS_INI_IGNORE */
	/* "[Interface] or [Peer]": the hint for a key before any section */
	const char *first_sections;
	/* By kind: "[Interface]", for "belongs in"; NULL: a misplaced key is unknown. */
	const char *const *section_names;
	size_t nsection_names;
	/*
	 * name: the text between the brackets, as written. Sets *kind (> 0 or
	 * SS_INI_IGNORE); may rewrite ini->label, which starts as "[name]".
	 */
	int (*section)(void *ctx, char *name, int *kind);
	/* Checks that need the whole section: before each header and at the end. */
	int (*end_section)(void *ctx);
	/* Wording a file's users already know; NULL or returning 1: ss_ini_describe. */
	int (*describe)(struct ss_ini *ini, const struct ss_ini_fault *f);
};

struct ss_ini {
	/* Set by the caller. */
	const char *file; /* for messages */
	char *err;	  /* may be NULL */
	size_t errlen;
	void *ctx; /* passed to every callback */
	/* Lexer state, for callbacks to read. */
	const struct ss_ini_dialect *d;
	unsigned line; /* the current line; after ss_ini_parse, the number of lines */
	int sec;       /* kind of the current section */
	unsigned sec_line;
	char label[SS_INI_LABEL_MAX]; /* "[Peer]", "[Action ssh]": the section in messages */
	unsigned *seen;		      /* by key index: line set in this section, or 0 */
};

/*
 * Runs the dialect over text (not NUL-terminated; a NUL byte in it is an error). The
 * last line needs no newline. Returns 0 or the first error's code, after end_section
 * for the last section.
 */
int ss_ini_parse(struct ss_ini *ini, const struct ss_ini_dialect *d, const char *text, size_t len);

/* Writes "FILE:LINE: message" into ini->err; returns code. */
int ss_ini_fail(struct ss_ini *ini, unsigned line, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int ss_ini_vfail(struct ss_ini *ini, unsigned line, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
/* The default wording of a fault, at the current line. Returns SS_ERR_FORMAT. */
int ss_ini_describe(struct ss_ini *ini, const struct ss_ini_fault *f);

/* Line the key (by index in the table) was set on in the current section, or 0. */
unsigned ss_ini_seen(const struct ss_ini *ini, size_t key);

/* Strips blanks (space, tab, CR, VT, FF) at both ends, in place. */
char *ss_ini_trim(char *s);

/*
 * Reads a whole file of at most max bytes. Grows by copy and wipes what it drops, so no
 * freed block keeps a copy of a key in the file. 0, SS_ERR_IO (errno kept),
 * SS_ERR_FORMAT (over max) or SS_ERR_NOMEM. The caller wipes and frees *out.
 */
int ss_ini_read_fd(int fd, size_t max, char **out, size_t *outlen);

/*
 * The one yes/no of every configuration file: yes/true/on/1 and no/false/off/0, in any
 * case. 0, or SS_ERR_FORMAT for anything else (*out untouched).
 */
int ss_ini_bool(const char *s, bool *out);
/*
 * Does the file at path have a CR in its first 256 bytes? The usual reason a key or a file
 * copied from Windows is refused, worth naming in the message.
 */
bool ss_ini_file_has_cr(const char *path);

#define SS_INI_BOOL_FORMS "yes/no, true/false, on/off or 1/0"

#endif
