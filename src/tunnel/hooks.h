/* SPDX-License-Identifier: MIT */
/* PreUp/PostUp/PreDown/PostDown: the command as the shell gets it (hooks.c). */
#ifndef SS_TUNNEL_HOOKS_H
#define SS_TUNNEL_HOOKS_H

#include <stddef.h>

/*
 * Every "%i" in cmd becomes iface, as in wg-quick (no other escapes: "%%i" is "%" and
 * the name). 0, or SS_ERR_BUFFER when out (cap bytes) is too small.
 */
int ss_hook_expand(const char *cmd, const char *iface, char *out, size_t cap);

#endif
