/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus text exposition format (version 0.0.4), for `silosec show --prometheus`
 * and `silosec-knockd --metrics`: one "# HELP" and one "# TYPE" line per family, before
 * its first sample, and label values escaped. Writes to a caller's FILE; never prints.
 */
#ifndef SS_COMMON_PROM_H
#define SS_COMMON_PROM_H

#include <stdbool.h>
#include <stdio.h>

/* A metric family being written: its header goes out with the first sample. */
struct ss_prom_family {
	const char *name, *type, *help; /* type: "counter" or "gauge" */
	bool started;
};

/* Up to SS_PROM_MAX_LABELS name/value pairs; names are [a-zA-Z_][a-zA-Z0-9_]*. */
#define SS_PROM_MAX_LABELS 4
struct ss_prom_label {
	const char *name, *value;
};

/* One sample of fam: value is an integer in decimal text (counters and gauges alike). */
void ss_prom_sample(FILE *f, struct ss_prom_family *fam, const struct ss_prom_label *labels,
		    size_t nlabels, const char *value);
void ss_prom_sample_u64(FILE *f, struct ss_prom_family *fam, const struct ss_prom_label *labels,
			size_t nlabels, unsigned long long value);

/* A label value as the format wants it: backslash, double quote and newline escaped. */
void ss_prom_escape(FILE *f, const char *s);

#endif
