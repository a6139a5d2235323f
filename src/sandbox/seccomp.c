/* SPDX-License-Identifier: MIT */
/*
 * seccomp-BPF filters (libseccomp). The tunnel daemon and the knock parser get an
 * allowlist whose default is to kill the whole process; the knock action runner, which
 * must fork and execute the operator's commands, gets a deny list of what neither it nor
 * those commands ever need. Only the native architecture is accepted: a syscall made
 * through another ABI (e.g. i386 int 0x80 on x86-64) kills the process too.
 *
 * Every entry and why it is there: docs/silosecd.8 and docs/silosec-knockd.8, SANDBOX.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <termios.h>

#include <silosec/error.h>

#include "sandbox_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define SS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SS_ASAN 1
#endif
#endif

bool ss_sandbox_sanitizer(void)
{
#ifdef SS_ASAN
	return true;
#else
	return false;
#endif
}

/* clang-format off */
/* Both allowlists: memory, time, randomness, plain I/O on open descriptors, exit. */
static const char *const common_calls[] = {
	"read", "write", "readv", "writev", "pread64", "close", "fstat", "newfstatat", "statx",
	"lseek", "fcntl", "dup", "brk", "munmap", "mremap", "madvise", "futex", "exit",
	"exit_group", "munlock", "rt_sigreturn", "rt_sigprocmask", "clock_gettime",
	"gettimeofday", "getrandom", "getpid", "gettid", "restart_syscall", "getuid",
	"geteuid", "getgid", "getegid", "openat", "fsync", "fdatasync", "rename", "renameat",
	"renameat2", "unlink", "unlinkat", "connect", "sendto", "sendmsg", "recvfrom",
	"recvmsg", "recvmmsg", "poll", "ppoll", NULL,
};

/* silosecd, in addition: the event loop, batched sends, control connections, stdio. */
static const char *const tunnel_calls[] = {
	"epoll_wait", "epoll_pwait", "epoll_ctl", "sendmmsg", "accept4", "fchmod", "shutdown",
	"getsockname", "getsockopt", "setsockopt", "dup2", "dup3", NULL,
};

/* The knock parser, in addition: its sockets' kernel drop counts (SO_MEMINFO). */
static const char *const parser_calls[] = {"getsockopt", NULL};

/* The action runner: refused even though it may run commands. */
static const char *const actions_denied[] = {
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"mount", "umount2", "pivot_root", "chroot", "swapon", "swapoff", "reboot", "bpf",
	"perf_event_open", "keyctl", "add_key", "request_key", "userfaultfd",
	"open_by_handle_at", "name_to_handle_at", "unshare", "setns", "iopl", "ioperm", "acct",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "quotactl", "uselib",
	"personality", "fanotify_init", "move_mount", "open_tree", "fsopen", "fsmount",
	"fspick", "mount_setattr", "process_vm_readv", "process_vm_writev", "lookup_dcookie",
	"vm86", "vm86old", "sysfs", "_sysctl", "syslog", "ptrace",
	/* Reaching into other processes, and io_uring, whose operations seccomp cannot see. */
	"pidfd_getfd", "kcmp", "io_uring_setup", "io_uring_enter", "io_uring_register", NULL,
};
/* clang-format on */

/*
 * AddressSanitizer's runtime: its allocator and error reports (sigaltstack, rlimits,
 * /proc/self/maps via open), and LeakSanitizer's exit-time scan, which
 * clones a tracer thread that ptrace()s the others and toggles PR_SET_DUMPABLE.
 */
/* clang-format off */
static const char *const asan_calls[] = {
	"open", "stat", "lstat", "sigaltstack", "prctl", "prlimit64", "getrlimit", "setrlimit",
	"readlink", "readlinkat", "sched_yield", "clone", "clone3", "ptrace", "wait4",
	"waitid", "getppid", "mincore", "rt_sigaction", "getdents64", "getdents", "sched_getaffinity",
	"uname", "tgkill", "kill", "nanosleep", "clock_nanosleep", "pipe", "pipe2", "dup2",
	"dup3", "set_robust_list", "rseq", "set_tid_address", "access", "faccessat",
	"faccessat2", NULL,
};
/* clang-format on */

static int allow_names(scmp_filter_ctx ctx, const char *const *names, uint32_t action, int *n)
{
	for (; *names; names++) {
		int nr = seccomp_syscall_resolve_name(*names);

		if (nr == __NR_SCMP_ERROR)
			continue; /* not a syscall on this architecture */
		if (seccomp_rule_add(ctx, action, nr, 0) < 0)
			return -1;
		(*n)++;
	}
	return 0;
}

/* Memory may be mapped and re-protected, never executable: no code can be added. */
static int no_exec(scmp_filter_ctx ctx)
{
	struct scmp_arg_cmp noexec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);

	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, noexec) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1, noexec) < 0)
		return -1;
	return 0;
}

static int allow_socket(scmp_filter_ctx ctx, int family)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)family, 0));
}

/*
 * Sockets: only syslog's reconnect (AF_UNIX). Every other socket is opened before the
 * filter; silosecd resolves host names before it too (or root's CLI does), so no
 * profile needs a resolver's inet or netlink sockets.
 */
static int sockets(scmp_filter_ctx ctx, enum ss_sandbox_profile profile)
{
	(void)profile;
	if (allow_socket(ctx, AF_UNIX) < 0)
		return -1;
	/* FIONREAD (a byte count, nothing more), TCGETS (stdio's isatty on a new stream). */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
			     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)FIONREAD, 0)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
			     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)TCGETS, 0)) < 0)
		return -1;
	return 0;
}

static int build_allowlist(scmp_filter_ctx ctx, enum ss_sandbox_profile profile, int *n)
{
	const char *const *names = profile == SS_SANDBOX_TUNNEL ? tunnel_calls : parser_calls;

	if (allow_names(ctx, common_calls, SCMP_ACT_ALLOW, n) < 0 ||
	    allow_names(ctx, names, SCMP_ACT_ALLOW, n) < 0 || no_exec(ctx) < 0 ||
	    sockets(ctx, profile) < 0)
		return -1;
	*n += 4; /* mmap, mprotect, socket, ioctl (argument-filtered) */
	if (ss_sandbox_sanitizer() && allow_names(ctx, asan_calls, SCMP_ACT_ALLOW, n) < 0)
		return -1;
	return 0;
}

static int build_denylist(scmp_filter_ctx ctx, int *n)
{
	const char *const *names = actions_denied;
	int nr;

	for (; *names; names++) {
		nr = seccomp_syscall_resolve_name(*names);
		/* LeakSanitizer's exit-time scan ptrace()s the process's own threads. */
		if (nr == __NR_SCMP_ERROR || (ss_sandbox_sanitizer() && nr == SCMP_SYS(ptrace)))
			continue;
		if (seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0) < 0)
			return -1;
		(*n)++;
	}
	/* Raw link-layer access: never needed, the usual sniffing/spoofing tool. */
	if (seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(socket), 1,
			     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)AF_PACKET, 0)) < 0)
		return -1;
	(*n)++;
	return 0;
}

int ss_seccomp_load(enum ss_sandbox_profile profile, int *nsyscalls)
{
	bool deny = profile == SS_SANDBOX_KNOCK_ACTIONS;
	scmp_filter_ctx ctx = seccomp_init(deny ? SCMP_ACT_ALLOW : SCMP_ACT_KILL_PROCESS);
	int ret = SS_ERR_SANDBOX;

	*nsyscalls = 0;
	if (!ctx)
		return SS_ERR_SANDBOX;
	/* seccomp_init adds the native architecture only; any other ABI kills. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0)
		goto out;
	/* Every thread of the process, should a library ever have started one before us. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0)
		goto out;
	if (deny ? build_denylist(ctx, nsyscalls) : build_allowlist(ctx, profile, nsyscalls))
		goto out;
	if (seccomp_load(ctx) == 0)
		ret = 0;
out:
	seccomp_release(ctx);
	return ret;
}

const char *const *ss_sandbox_common_syscalls(void)
{
	return common_calls;
}

const char *const *ss_sandbox_syscalls(enum ss_sandbox_profile profile)
{
	switch (profile) {
	case SS_SANDBOX_TUNNEL:
		return tunnel_calls;
	case SS_SANDBOX_KNOCK_PARSER:
		return parser_calls;
	default:
		return actions_denied;
	}
}
