/* SPDX-License-Identifier: MIT */
/*
 * Landlock: after enforcement the process reaches only the listed paths (already open
 * descriptors keep working). The ruleset handles every filesystem right the running
 * kernel knows, so anything not granted below is refused. Older kernels (no Landlock)
 * get no ruleset; the caller logs that and the other layers still apply.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/landlock.h>

#include "sandbox_internal.h"

/* Rights newer than the build host's header (Debian 12 ships ABI 3). */
#define LL_TRUNCATE (1ULL << 14)
#define LL_IOCTL_DEV (1ULL << 15)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

/* The ABI 6 layout; older kernels take the shorter prefix. */
struct ll_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define LL_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_WRITE                                                                                   \
	(LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_FILE |                          \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LL_TRUNCATE)
#define LL_LOG_DIR (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG)
#define LL_FILE_ONLY                                                                               \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                              \
	 LANDLOCK_ACCESS_FS_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV)

static uint64_t handled_for(int abi)
{
	uint64_t h = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0-12 */

	if (abi >= 2)
		h |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		h |= LL_TRUNCATE;
	if (abi >= 5)
		h |= LL_IOCTL_DEV;
	return h;
}

static int add_path(int ruleset, const struct ss_sandbox_path *sp, uint64_t handled)
{
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int fd, ret;

	fd = open(sp->path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1; /* not there: nothing to grant */
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	pb.parent_fd = fd;
	if (sp->write)
		pb.allowed_access = LL_READ | LL_WRITE;
	else if (sp->log_dir)
		pb.allowed_access = LL_LOG_DIR;
	else
		pb.allowed_access = LL_READ;
	if (!S_ISDIR(st.st_mode))
		pb.allowed_access &= LL_FILE_ONLY;
	pb.allowed_access &= handled;
	ret = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(fd);
	return ret < 0 ? -1 : 0;
}

static const struct ss_sandbox_path proc = {"/proc", false, false};

int ss_landlock_build(const struct ss_sandbox_path *paths, size_t n,
		      enum ss_sandbox_profile profile, int *abi)
{
	struct ll_attr attr;
	size_t size = 2 * sizeof(uint64_t);
	int ruleset;

	(void)profile;
	*abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (*abi <= 0) {
		*abi = 0;
		return -1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = handled_for(*abi);
	/* ABI 6: no signals to, nor abstract sockets of, processes outside the sandbox. */
	if (*abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	} else if (*abi < 4) {
		size = sizeof(uint64_t);
	}
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (paths[i].path && add_path(ruleset, &paths[i], attr.handled_access_fs) < 0) {
			close(ruleset);
			return -1;
		}
	}
	/* LeakSanitizer lists threads and mappings in /proc/self at exit. */
	if (ss_sandbox_sanitizer() && add_path(ruleset, &proc, attr.handled_access_fs) < 0) {
		close(ruleset);
		return -1;
	}
	return ruleset;
}

int ss_landlock_enforce(int ruleset)
{
	return (int)syscall(SYS_landlock_restrict_self, ruleset, 0);
}
