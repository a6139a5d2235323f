/* SPDX-License-Identifier: MIT */
/*
 * The interface's own run, state and log directories (ifdirs.c), and the Landlock paths
 * they make: one silosecd instance reaches its own three and nothing of another's.
 */
#ifndef SS_TUNNEL_IFDIRS_H
#define SS_TUNNEL_IFDIRS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "sandbox.h"

#define SS_IFDIRS_MAX_PATHS 6

/* The paths of one interface's sandbox; ss_ifdirs_free releases them. */
struct ss_ifdirs {
	char run[PATH_MAX];   /* ss_run_dir(iface) */
	char state[PATH_MAX]; /* ss_state_dir(iface) */
	char *tdir;	      /* the trust store's directory, or NULL */
	char *adir;	      /* the audit file's directory, or NULL */
	struct ss_sandbox_path paths[SS_IFDIRS_MAX_PATHS];
	size_t npaths;
};

/*
 * Fill x for iface: write its run and state directories and the trust store's (when
 * trust_store is given), the audit file (audit: a path, or NULL for none or stderr) and
 * create-and-write-only its directory, /dev/null. 0, or -ENAMETOOLONG / -ENOMEM.
 */
int ss_ifdirs_init(struct ss_ifdirs *x, const char *iface, const char *trust_store,
		   const char *audit);
void ss_ifdirs_free(struct ss_ifdirs *x);

/*
 * Create dir 0700 owned by uid:gid (its parent 0711 when created; a root-owned parent
 * that others cannot pass through gets search permission). 0 or -errno.
 */
int ss_ifdir_own(const char *dir, uid_t uid, gid_t gid);
/* Whether the audit path's directory is named after iface (.../IFACE/FILE). */
bool ss_ifdir_is_own_log(const char *audit, const char *iface);

#endif
