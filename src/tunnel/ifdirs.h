/* SPDX-License-Identifier: MIT */
/* The interface's own run, state and log directories (ifdirs.c). */
#ifndef SS_TUNNEL_IFDIRS_H
#define SS_TUNNEL_IFDIRS_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Create dir 0700 owned by uid:gid (its parent 0711 when created; a root-owned parent
 * that others cannot pass through gets search permission). 0 or -errno.
 */
int ss_ifdir_own(const char *dir, uid_t uid, gid_t gid);
/* Whether the audit path's directory is named after iface (.../IFACE/FILE). */
bool ss_ifdir_is_own_log(const char *audit, const char *iface);

#endif
