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

/*
 * A zeroed block for long-term secrets, kept out of swap where the system lets it (best
 * effort: RLIMIT_MEMLOCK may refuse, which is not fatal). NULL when out of memory.
 */
void *ss_secret_alloc(size_t len);
/* Wipes, unlocks and frees a block of ss_secret_alloc; NULL is ignored. */
void ss_secret_free(void *p, size_t len);

#endif
