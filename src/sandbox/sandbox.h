/* SPDX-License-Identifier: MIT */
/*
 * Process sandbox for the daemons: called once, after the privileged set-up (devices,
 * sockets, audit file open), it drops to an unprivileged user, keeps only the listed
 * capabilities, sets rlimits and PR_SET_NO_NEW_PRIVS, restricts the filesystem with
 * Landlock where the kernel has it, and loads a seccomp filter for the profile.
 *
 * Two backends: the real one, and a null one (policy.null_backend) for debugging that
 * changes nothing but still reports what it would have done. The library never prints;
 * the report says what was applied so the daemon can log it.
 */
#ifndef SS_SANDBOX_H
#define SS_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

/* The sandbox's code, in the isolation range -90..-99 (tunnel/isolation.h has the rest). */
enum ss_sandbox_err {
	SS_ERR_SANDBOX = -95, /* sandbox could not be set up, or a forbidden system call */
};

/* The user taken when none is given: SS_SANDBOX_USER if it exists, else this one. */
#define SS_SANDBOX_USER "silosec"
#define SS_SANDBOX_FALLBACK_USER "nobody"
/* OpenSSL secure heap for private keys (locked memory; RLIMIT_MEMLOCK must allow it). */
#define SS_SANDBOX_SECURE_HEAP (1 << 20)

enum ss_sandbox_profile {
	SS_SANDBOX_TUNNEL,	  /* silosecd: the whole daemon after set-up */
	SS_SANDBOX_KNOCK_PARSER,  /* silosec-knockd child: recv, validation, replay cache */
	SS_SANDBOX_KNOCK_ACTIONS, /* silosec-knockd parent: runs actions, stays root */
};

struct ss_sandbox_path {
	const char *path;
	bool write; /* create, write, rename and remove files in it (directories) */
	/*
	 * A log file's directory (reopened after rotation): create files in it and open them
	 * for writing, nothing else (no reading, removing, renaming or truncating). Ignored
	 * with write.
	 */
	bool log_dir;
};

struct ss_sandbox_policy {
	enum ss_sandbox_profile profile;
	bool null_backend;
	const char *user; /* NULL: the default above; ignored when keep_root */
	bool keep_root;	  /* stay uid 0 (only the capabilities below remain) */
	uint64_t caps;	  /* 1 << CAP_* kept effective and permitted; all others dropped */
	/*
	 * Landlock: the only paths reachable afterwards (plus what is already open). Where the
	 * kernel has no Landlock, the file-permission overrides among caps (DAC_OVERRIDE,
	 * DAC_READ_SEARCH, FOWNER, CHOWN) are dropped too: nothing would bound them to paths.
	 */
	bool landlock;
	const struct ss_sandbox_path *paths;
	size_t npaths;
	rlim_t nofile;	/* 0: leave as is */
	bool no_fork;	/* RLIMIT_NPROC 0 (the filter also refuses fork) */
	rlim_t fsize;	/* largest file it may write; 0: leave as is */
	rlim_t memlock; /* at least this much lockable memory for the key; 0: leave */
};

struct ss_sandbox_report {
	uid_t uid;
	gid_t gid;
	int landlock_abi; /* 0: not supported by the kernel (or not asked for) */
	int nsyscalls;	  /* allowed (allowlist) or refused (action runner) names */
	bool sanitizer;	  /* built with ASan: a few syscalls more are allowed */
	bool dac_dropped; /* Landlock asked for but unavailable: DAC capabilities dropped */
};

/*
 * Force what libraries load lazily (OpenSSL configuration and providers) while files and
 * PROT_EXEC mappings are still allowed, and set up OpenSSL's locked secure heap. Call before the
 * private key is loaded.
 */
int ss_sandbox_prepare(enum ss_sandbox_profile profile);

/* 0, or SS_ERR_SANDBOX (errno kept, *step names what failed) / SS_ERR_NOT_FOUND (user). */
int ss_sandbox_apply(const struct ss_sandbox_policy *p, struct ss_sandbox_report *rep,
		     const char **step);

/* Resolve the user the policy would take (for messages and chown decisions). */
int ss_sandbox_user(const char *name, uid_t *uid, gid_t *gid, const char **resolved);

/*
 * Syscall names, NULL-terminated: those both allowlists share, and each profile's own
 * (allowed in addition for TUNNEL and KNOCK_PARSER, refused for KNOCK_ACTIONS). mmap,
 * mprotect, socket and ioctl are allowed with argument checks, outside these lists.
 */
const char *const *ss_sandbox_common_syscalls(void);
const char *const *ss_sandbox_syscalls(enum ss_sandbox_profile profile);

#endif
