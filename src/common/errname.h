/* SPDX-License-Identifier: MIT */
/*
 * Names of error codes owned by the layers above the core. include/silosec/error.h holds
 * the core's codes; streams, knocks, the tunnel and the sandbox each own a range and a
 * table of names, which their library registers when it is linked in (errors.c of each
 * layer, linked whole by its meson dependency). ss_err_name and ss_strerror look here for
 * any code the core does not know, so CLIs and daemons name every code they can meet.
 */
#ifndef SS_COMMON_ERRNAME_H
#define SS_COMMON_ERRNAME_H

#include <stddef.h>

#define SS_ERR_TABLES 8 /* registered tables at most: one per layer */

typedef struct ss_err_desc {
	int code;
	const char *name;
	const char *text;
} ss_err_desc;

/* From a constructor, before main: not thread-safe. A table past SS_ERR_TABLES is ignored. */
void ss_err_register(const ss_err_desc *table, size_t n);
/* The registered entry for code, or NULL. */
const ss_err_desc *ss_err_find(int code);

#endif
