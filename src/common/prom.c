/* SPDX-License-Identifier: MIT */
#include "common/prom.h"

void ss_prom_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* HELP text escapes backslash and newline only (a quote is literal there). */
static void help_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

void ss_prom_sample(FILE *f, struct ss_prom_family *fam, const struct ss_prom_label *labels,
		    size_t nlabels, const char *value)
{
	if (!fam->started) {
		fprintf(f, "# HELP %s ", fam->name);
		help_text(f, fam->help);
		fprintf(f, "\n# TYPE %s %s\n", fam->name, fam->type);
		fam->started = true;
	}
	fputs(fam->name, f);
	for (size_t i = 0; i < nlabels && i < SS_PROM_MAX_LABELS; i++) {
		fprintf(f, "%c%s=\"", i ? ',' : '{', labels[i].name);
		ss_prom_escape(f, labels[i].value);
		fputc('"', f);
	}
	fprintf(f, "%s %s\n", nlabels ? "}" : "", value);
}

void ss_prom_sample_u64(FILE *f, struct ss_prom_family *fam, const struct ss_prom_label *labels,
			size_t nlabels, unsigned long long value)
{
	char v[24];

	snprintf(v, sizeof(v), "%llu", value);
	ss_prom_sample(f, fam, labels, nlabels, v);
}
