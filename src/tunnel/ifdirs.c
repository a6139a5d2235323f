/* SPDX-License-Identifier: MIT */
/*
 * The interface's own directories, made over to the daemon's user before it drops
 * privileges: its run directory (the control socket, removed at exit), its state
 * directory (relative TrustStore: pins saved by a rename there) and, when it is named
 * after the interface as LogsDirectory=silosec/%i makes it, the audit file's directory
 * (a rotated file is created there). The daemon then needs no file-permission override,
 * and Landlock keeps each instance to its own three (silosecd.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/ctlsock.h"
#include "daemon_args.h"
#include "ifdirs.h"

/* The base (/run/silosec, /var/lib/silosec, ...) lets the daemon through, no more. */
static int base_dir(const char *dir)
{
	char *copy = strdup(dir), *slash;
	struct stat st;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	slash = strrchr(copy, '/');
	if (slash && slash != copy) {
		*slash = '\0';
		if (mkdir(copy, 0711) < 0 && errno != EEXIST)
			ret = -errno;
		else if (!stat(copy, &st) && !st.st_uid && (st.st_mode & 0011) != 0011 &&
			 chmod(copy, (st.st_mode & 07777) | 0011) < 0)
			ret = -errno;
	}
	free(copy);
	return ret;
}

int ss_ifdir_own(const char *dir, uid_t uid, gid_t gid)
{
	int ret = base_dir(dir);

	if (ret)
		return ret;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (chown(dir, uid, gid) < 0 || chmod(dir, 0700) < 0)
		return -errno;
	return 0;
}

bool ss_ifdir_is_own_log(const char *audit, const char *iface)
{
	const char *end, *start;

	if (!audit || !strcmp(audit, "-"))
		return false;
	end = strrchr(audit, '/');
	if (!end || end == audit)
		return false;
	for (start = end; start > audit && start[-1] != '/'; start--)
		;
	return (size_t)(end - start) == strlen(iface) && !strncmp(start, iface, strlen(iface));
}

int ss_ifdirs_init(struct ss_ifdirs *x, const char *iface, const char *trust_store,
		   const char *audit)
{
	memset(x, 0, sizeof(*x));
	if (ss_run_dir(iface, x->run, sizeof(x->run)) ||
	    ss_state_dir(iface, x->state, sizeof(x->state)))
		return -ENAMETOOLONG;
	x->tdir = ss_path_dir(trust_store);
	x->adir = ss_path_dir(audit);
	if ((trust_store && !x->tdir) || (audit && !x->adir)) {
		ss_ifdirs_free(x);
		return -ENOMEM;
	}
	/*
	 * Write: the run and state directories (socket removal, the trust store's rename),
	 * an absolute TrustStore's directory, the audit file; create and write only: the
	 * audit file's directory (reopened after rotation). Not the configuration or key
	 * files (read before the sandbox), nor the resolver's files (no lookups after it).
	 */
	x->paths[x->npaths++] = (struct ss_sandbox_path){x->run, true, false};
	x->paths[x->npaths++] = (struct ss_sandbox_path){x->state, true, false};
	x->paths[x->npaths++] = (struct ss_sandbox_path){x->tdir, true, false};
	x->paths[x->npaths++] = (struct ss_sandbox_path){audit, true, false};
	x->paths[x->npaths++] = (struct ss_sandbox_path){x->adir, false, true};
	x->paths[x->npaths++] = (struct ss_sandbox_path){"/dev/null", true, false};
	return 0;
}

void ss_ifdirs_free(struct ss_ifdirs *x)
{
	free(x->tdir);
	free(x->adir);
	x->tdir = x->adir = NULL;
	x->npaths = 0;
}
