/* SPDX-License-Identifier: MIT */
/*
 * Wiping and comparing secrets. Every layer uses these, the CLI included: a memset before
 * free is a dead store the compiler may drop, OPENSSL_cleanse is not.
 */
#ifndef SS_COMMON_WIPE_H
#define SS_COMMON_WIPE_H

#include <stddef.h>

void ss_wipe(void *p, size_t len);
/* Constant-time equality: 1 if equal. */
int ss_ct_equal(const void *a, const void *b, size_t len);

#endif
