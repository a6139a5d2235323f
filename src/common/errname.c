/* SPDX-License-Identifier: MIT */
#include "common/errname.h"

/* Fixed slots: registration happens before main and nothing is ever freed. */
static struct {
	const ss_err_desc *table;
	size_t n;
} tables[SS_ERR_TABLES];
static size_t ntables;

void ss_err_register(const ss_err_desc *table, size_t n)
{
	if (ntables == SS_ERR_TABLES)
		return;
	tables[ntables].table = table;
	tables[ntables].n = n;
	ntables++;
}

const ss_err_desc *ss_err_find(int code)
{
	for (size_t t = 0; t < ntables; t++)
		for (size_t i = 0; i < tables[t].n; i++)
			if (tables[t].table[i].code == code)
				return &tables[t].table[i];
	return NULL;
}
