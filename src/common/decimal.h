/* SPDX-License-Identifier: MIT */
/*
 * Numbers as configuration files and address prefixes write them: decimal digits only,
 * no sign, no blanks, no hex, so "0x10", "+5" and " 5" are refused rather than guessed at.
 */
#ifndef SS_COMMON_DECIMAL_H
#define SS_COMMON_DECIMAL_H

#include <stdint.h>

/* At most max; 0 or -1 (empty, not a digit, or over max). */
int ss_decimal_parse(const char *s, uint32_t max, uint32_t *out);

#endif
