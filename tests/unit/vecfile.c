/* SPDX-License-Identifier: MIT */
/* Pinned vector files: see vecfile.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "helpers.h"
#include "vecfile.h"

static const char *pinned_path(const char *name)
{
	static char path[4096];
	const char *dir = getenv("SS_VECTOR_DIR");

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/vectors", name);
	return path;
}

void vec_node_keys(const char *label, uint8_t seed[SS_SEED_LEN], test_rng *rng)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s identity", label);
	assert_int_equal(ss_sha256(seed, buf, strlen(buf), NULL, 0, NULL, 0), 0);
	snprintf(buf, sizeof(buf), "%s rng", label);
	test_rng_init(rng, buf);
}

void vec_emit(vec_set *v, const char *key, const uint8_t *data, size_t len)
{
	char hex[2 * VEC_MAX_BYTES + 1];

	assert_true(len <= VEC_MAX_BYTES);
	hex_encode(data, len, hex);
	vec_emitf(v, "%s = %s", key, hex);
}

void vec_emitf(vec_set *v, const char *fmt, ...)
{
	va_list ap;

	assert_true(v->n < VEC_MAX_LINES);
	va_start(ap, fmt);
	vsnprintf(v->line[v->n++], VEC_LINE_LEN, fmt, ap);
	va_end(ap);
}

static void write_pinned(const vec_set *v, const char *name, const char *header)
{
	FILE *f = fopen(pinned_path(name), "w");

	assert_non_null(f);
	fputs(header, f);
	for (int i = 0; i < v->n; i++)
		fprintf(f, "%s\n", v->line[i]);
	fclose(f);
}

void vec_check_pinned(const vec_set *v, const char *name, const char *header)
{
	char line[VEC_LINE_LEN + 2];
	FILE *f;
	int i = 0;

	if (getenv("SS_VECTOR_WRITE")) {
		write_pinned(v, name, header);
		return;
	}
	f = fopen(pinned_path(name), "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		assert_true(i < v->n);
		if (strcmp(line, v->line[i]))
			fail_msg("%s: vector %d differs:\n  pinned:    %s\n  generated: %s", name,
				 i, line, v->line[i]);
		i++;
	}
	fclose(f);
	assert_int_equal(i, v->n);
}

void vec_pinned_value(const char *name, const char *key, char *out, size_t cap)
{
	char line[VEC_LINE_LEN + 2];
	size_t klen = strlen(key);
	bool found = false;
	FILE *f = fopen(pinned_path(name), "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, key, klen) && !strncmp(line + klen, " = ", 3)) {
			assert_true(strlen(line + klen + 3) < cap);
			strcpy(out, line + klen + 3);
			found = true;
		}
	}
	fclose(f);
	if (!found)
		fail_msg("%s has no %s", name, key);
}

void vec_pinned_bytes(const char *name, const char *key, uint8_t *out, size_t max, size_t *len)
{
	char hex[VEC_LINE_LEN];

	vec_pinned_value(name, key, hex, sizeof(hex));
	assert_int_equal(hex_decode(hex, out, max, len), 0);
}
