/* SPDX-License-Identifier: MIT */
/*
 * Sandbox profiles: in a forked child, apply a profile, then make one system call. The
 * allowed ones must work; the forbidden ones must kill the child with SIGSYS (the filter's
 * default is to kill the process). Also the privilege drop (uid, capabilities,
 * NoNewPrivs) as /proc/self/status shows it, Landlock, and the null backend.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <stddef.h>

#include <silosec/error.h>

#include "daemon_args.h"
#include "helpers.h"
#include "sandbox.h"

typedef int (*probe_fn)(void);

static const struct ss_sandbox_policy base = {
	.nofile = 64,
	.memlock = 1 << 20,
};

/* Child: apply the profile, run the probe; exit 0 if it returned 0, 1 if not, 2 if apply
 * failed. Returns the raw wait status. */
static int run(const struct ss_sandbox_policy *pol, probe_fn probe)
{
	int status = -1;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (ss_sandbox_apply(pol, NULL, NULL))
			_exit(2);
		_exit(probe() == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static struct ss_sandbox_policy profile(enum ss_sandbox_profile p)
{
	struct ss_sandbox_policy pol = base;

	pol.profile = p;
	pol.no_fork = p != SS_SANDBOX_KNOCK_ACTIONS;
	pol.keep_root = p == SS_SANDBOX_KNOCK_ACTIONS;
	return pol;
}

static void expect_sigsys(enum ss_sandbox_profile p, probe_fn probe)
{
	struct ss_sandbox_policy pol = profile(p);
	int st = run(&pol, probe);

	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void expect_ok(enum ss_sandbox_profile p, probe_fn probe)
{
	struct ss_sandbox_policy pol = profile(p);
	int st = run(&pol, probe);

	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- probes ---- */

static int do_execve(void)
{
	char *argv[] = {"/bin/true", NULL}, *envp[] = {NULL};

	execve(argv[0], argv, envp);
	return -1;
}

static int do_fork_exec(void)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		do_execve();
		_exit(127);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -1;
}

static int do_ptrace(void)
{
	return (int)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static int do_packet_socket(void)
{
	return socket(AF_PACKET, SOCK_RAW, 0);
}

/* A resolver's sockets: silosecd does no name lookups once sandboxed (issue 13, item 11). */
static int do_inet_socket(void)
{
	return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) < 0 ? -1 : 0;
}

static int do_inet6_socket(void)
{
	return socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0) < 0 ? -1 : 0;
}

static int do_netlink_socket(void)
{
	return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0) < 0 ? -1 : 0;
}

static int do_mmap_exec(void)
{
	return mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
			       MAP_FAILED
		       ? -1
		       : 0;
}

static int do_mprotect_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	return mprotect(p, 4096, PROT_READ | PROT_EXEC);
}

static int do_fork(void)
{
	return (int)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) < 0 ? -1 : 0;
}

/* What every worker does all day: memory, time, randomness, plain I/O, a socket. */
static int do_daily(void)
{
	struct timespec ts;
	uint8_t b[16];
	char c = 'x';
	void *m = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *heap = malloc(1 << 20);
	int fd;

	if (m == MAP_FAILED || !heap || munmap(m, 1 << 16) < 0)
		return -1;
	free(heap);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0 || getrandom(b, sizeof(b), 0) != sizeof(b))
		return -1;
	/* syslog's reconnect */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	close(fd);
	return write(2, &c, 0) == 0 && getpid() > 0 ? 0 : -1;
}

/* /proc/self/status as the sandboxed process sees itself. */
static int do_status(void)
{
	char buf[4096], *l;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	if (!strstr(buf, "\nNoNewPrivs:\t1\n") || !strstr(buf, "\nSeccomp:\t2\n"))
		return -1;
	/* The tunnel profile keeps CAP_NET_ADMIN (bit 12) only. */
	l = strstr(buf, "\nCapEff:\t");
	if (!l || strtoull(l + 9, NULL, 16) != 1ULL << CAP_NET_ADMIN)
		return -1;
	l = strstr(buf, "\nUid:\t");
	return l && atoi(l + 6) != 0 ? 0 : -1;
}

static bool sanitizer_build(void)
{
	struct ss_sandbox_report rep;
	struct ss_sandbox_policy null = {.null_backend = true};

	assert_int_equal(ss_sandbox_apply(&null, &rep, NULL), 0);
	return rep.sanitizer;
}

/* The three daemon profiles; probe must be killed, or must work, under each. */
#define ALL_PROFILES SS_SANDBOX_TUNNEL, SS_SANDBOX_KNOCK_PARSER, SS_SANDBOX_KNOCK_ACTIONS
static const enum ss_sandbox_profile all_profiles[] = {ALL_PROFILES};

static void expect_sigsys_in_all(probe_fn probe)
{
	for (size_t i = 0; i < sizeof(all_profiles) / sizeof(all_profiles[0]); i++)
		expect_sigsys(all_profiles[i], probe);
}

/* ---- tests ---- */

/* A case of probes and the profiles that must kill them (killed) or let them work. */
struct verdicts {
	probe_fn probes[2]; /* the second may be NULL */
	bool killed;
	size_t n;
	enum ss_sandbox_profile in[3];
};

static const struct verdicts allowed_calls_work = {{do_daily}, false, 3, {ALL_PROFILES}};
static const struct verdicts execve_kills = {
	{do_execve}, true, 2, {SS_SANDBOX_TUNNEL, SS_SANDBOX_KNOCK_PARSER}};
/* The action runner must still start commands (they inherit its deny list). */
static const struct verdicts actions_may_exec = {
	{do_fork_exec}, false, 1, {SS_SANDBOX_KNOCK_ACTIONS}};
static const struct verdicts packet_socket_kills = {{do_packet_socket}, true, 3, {ALL_PROFILES}};
/* The transport's inet sockets are opened before the filter; no new ones after it. */
static const struct verdicts inet_sockets_kill = {
	{do_inet_socket, do_inet6_socket}, true, 2, {SS_SANDBOX_TUNNEL, SS_SANDBOX_KNOCK_PARSER}};
static const struct verdicts netlink_socket_kills = {
	{do_netlink_socket}, true, 2, {SS_SANDBOX_TUNNEL, SS_SANDBOX_KNOCK_PARSER}};
static const struct verdicts exec_mappings_kill = {
	{do_mmap_exec, do_mprotect_exec}, true, 2, {SS_SANDBOX_TUNNEL, SS_SANDBOX_KNOCK_PARSER}};

static void check_verdicts(void **state)
{
	const struct verdicts *v = *state;

	for (size_t i = 0; i < 2 && v->probes[i]; i++) {
		for (size_t j = 0; j < v->n; j++) {
			if (v->killed)
				expect_sigsys(v->in[j], v->probes[i]);
			else
				expect_ok(v->in[j], v->probes[i]);
		}
	}
}

/* LeakSanitizer's exit-time scan needs ptrace and clone: sanitizer builds allow them. */
static void ptrace_and_fork_kill(void **state)
{
	(void)state;
	if (sanitizer_build())
		skip();
	expect_sigsys_in_all(do_ptrace);
	expect_sigsys(SS_SANDBOX_TUNNEL, do_fork);
	expect_sigsys(SS_SANDBOX_KNOCK_PARSER, do_fork);
}

static void privileges_dropped(void **state)
{
	struct ss_sandbox_policy pol = profile(SS_SANDBOX_TUNNEL);
	int st;

	(void)state;
	if (geteuid() != 0)
		skip();
	pol.caps = 1ULL << CAP_NET_ADMIN;
	st = run(&pol, do_status);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* CapEff as the sandboxed process sees it. */
static uint64_t cap_eff(void)
{
	char buf[4096], *l;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return UINT64_MAX;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return UINT64_MAX;
	buf[n] = 0;
	l = strstr(buf, "\nCapEff:\t");
	return l ? strtoull(l + 9, NULL, 16) : UINT64_MAX;
}

/* A kernel without Landlock, as far as this process can tell: the call fails ENOSYS. */
static int hide_landlock(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_landlock_create_ruleset, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

/*
 * The file-permission overrides are kept only where Landlock bounds them to the policy's
 * paths: without Landlock they would open every file on the system.
 */
static void dac_caps_need_landlock(void **state)
{
	const uint64_t dac = 1ULL << CAP_DAC_OVERRIDE | 1ULL << CAP_DAC_READ_SEARCH;
	struct ss_sandbox_policy pol = profile(SS_SANDBOX_TUNNEL);
	int st = -1;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();
	static const struct ss_sandbox_path proc[] = {{"/proc", false, false}};

	pol.caps = 1ULL << CAP_NET_ADMIN | dac;
	pol.landlock = true;
	pol.paths = proc; /* for /proc/self/status */
	pol.npaths = 1;
	for (int hidden = 0; hidden < 2; hidden++) {
		if (!hidden && syscall(SYS_landlock_create_ruleset, NULL, 0, 1U) <= 0)
			continue;
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct ss_sandbox_report rep;
			uint64_t want = hidden ? 1ULL << CAP_NET_ADMIN : pol.caps;

			if (hidden && hide_landlock() < 0)
				_exit(3);
			if (ss_sandbox_apply(&pol, &rep, NULL))
				_exit(2);
			_exit(cap_eff() == want && rep.dac_dropped == (bool)hidden ? 0 : 1);
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
}

/* A thread that existed before the filter gets it too (TSYNC). */
static atomic_int go;

static void *late_exec(void *arg)
{
	char *argv[] = {(char *)"/bin/true", NULL};

	(void)arg;
	while (!atomic_load(&go))
		;
	execve(argv[0], argv, argv + 1);
	return NULL;
}

static void threads_filtered_too(void **state)
{
	struct ss_sandbox_policy pol = profile(SS_SANDBOX_TUNNEL);
	int st = -1;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pthread_t t;

		if (pthread_create(&t, NULL, late_exec, NULL))
			_exit(3);
		if (ss_sandbox_apply(&pol, NULL, NULL))
			_exit(2);
		atomic_store(&go, 1);
		pthread_join(t, NULL);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static char lldir[64];

static int do_landlock(void)
{
	char path[96];
	int fd;

	/* Outside the granted directory: refused (EACCES), not killed. */
	if (open("/etc/passwd", O_RDONLY | O_CLOEXEC) >= 0 || errno != EACCES)
		return -1;
	snprintf(path, sizeof(path), "%s/new", lldir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	close(fd);
	return unlink(path);
}

/*
 * Skips without Landlock; else lldir, a fresh directory whose modes allow the child (no
 * longer root) everything, so that only Landlock may refuse.
 */
static void lldir_create(void)
{
	if (syscall(SYS_landlock_create_ruleset, NULL, 0, 1U) <= 0)
		skip();
	snprintf(lldir, sizeof(lldir), "/tmp/ss-sandbox-XXXXXX");
	assert_non_null(mkdtemp(lldir));
	assert_int_equal(chmod(lldir, 0777), 0);
}

static void landlock_limits_paths(void **state)
{
	struct ss_sandbox_policy pol = profile(SS_SANDBOX_KNOCK_PARSER);
	struct ss_sandbox_path paths[1];
	int st;

	(void)state;
	lldir_create();
	paths[0].path = lldir;
	paths[0].write = true;
	paths[0].log_dir = false;
	pol.landlock = true;
	pol.paths = paths;
	pol.npaths = 1;
	st = run(&pol, do_landlock);
	rmdir(lldir);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* A log directory: a rotated audit file may be created and written, nothing else. */
static int do_log_dir(void)
{
	char path[96], other[96], renamed[96];
	int fd;

	if (open("/etc/passwd", O_RDONLY | O_CLOEXEC) >= 0 || errno != EACCES)
		return -1;
	snprintf(path, sizeof(path), "%s/new", lldir);
	snprintf(other, sizeof(other), "%s/old", lldir);
	snprintf(renamed, sizeof(renamed), "%s/renamed", lldir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "x\n", 2) != 2)
		return -2;
	close(fd);
	/* Reading, removing and renaming stay refused, in the new file and the others. */
	if (open(other, O_RDONLY | O_CLOEXEC) >= 0 || errno != EACCES)
		return -3;
	if (open(path, O_RDONLY | O_CLOEXEC) >= 0 || errno != EACCES)
		return -4;
	if (unlink(other) == 0 || unlink(path) == 0)
		return -5;
	if (rename(other, renamed) == 0)
		return -6;
	return 0;
}

static void landlock_log_dir(void **state)
{
	struct ss_sandbox_policy pol = profile(SS_SANDBOX_KNOCK_PARSER);
	struct ss_sandbox_path paths[1] = {{NULL, false, true}};
	char path[96];
	struct stat sb;
	int st, fd;

	(void)state;
	lldir_create();
	snprintf(path, sizeof(path), "%s/old", lldir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0666), 0);
	close(fd);
	paths[0].path = lldir;
	pol.landlock = true;
	pol.paths = paths;
	pol.npaths = 1;
	st = run(&pol, do_log_dir);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/new", lldir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 2);
	unlink(path);
	rmdir(lldir);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void null_backend_changes_nothing(void **state)
{
	struct ss_sandbox_policy pol = profile(SS_SANDBOX_TUNNEL);
	int st;

	(void)state;
	pol.null_backend = true;
	st = run(&pol, do_fork_exec);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void unknown_user_refused(void **state)
{
	struct ss_sandbox_policy pol = profile(SS_SANDBOX_TUNNEL);
	uid_t uid;
	gid_t gid;

	(void)state;
	assert_int_equal(ss_sandbox_user("no-such-user-ss", &uid, &gid, NULL), SS_ERR_NOT_FOUND);
	assert_int_equal(ss_sandbox_user(NULL, &uid, &gid, NULL), 0);
	assert_true(uid != 0);
	if (geteuid() != 0)
		return;
	pol.user = "no-such-user-ss";
	assert_int_equal(WEXITSTATUS(run(&pol, do_daily)), 2);
}

/*
 * A normal exit() after the drop: under ASan, LeakSanitizer's scan runs then (a tracer
 * clone, ptrace, /proc/self) and must neither be killed nor hang.
 */
static void normal_exit_survives(void **state)
{
	for (int p = SS_SANDBOX_TUNNEL; p <= SS_SANDBOX_KNOCK_ACTIONS; p++) {
		struct ss_sandbox_policy pol = profile((enum ss_sandbox_profile)p);
		int st = 0, i;
		pid_t pid;

		(void)state;
		pol.landlock = true; /* no paths: nothing reachable, as tight as it gets */
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (ss_sandbox_apply(&pol, NULL, NULL))
				_exit(2);
			free(malloc(64));
			exit(0);
		}
		for (i = 0; i < 200 && waitpid(pid, &st, WNOHANG) == 0; i++)
			usleep(50000);
		if (i == 200) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			fail_msg("profile %d: exit() hung after the sandbox", p);
		}
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
}

static void syscall_lists(void **state)
{
	(void)state;
	for (int p = SS_SANDBOX_TUNNEL - 1; p <= SS_SANDBOX_KNOCK_ACTIONS; p++) {
		const char *const *l = p < SS_SANDBOX_TUNNEL
					       ? ss_sandbox_common_syscalls()
					       : ss_sandbox_syscalls((enum ss_sandbox_profile)p);
		bool exec = false;

		assert_non_null(l);
		for (; *l; l++)
			exec |= !strcmp(*l, "execve") || !strcmp(*l, "execveat");
		assert_false(exec);
	}
}

static int usage_calls;
static void count_usage(FILE *f)
{
	(void)f;
	usage_calls++;
}

static int parse(struct ss_daemon_args *a, char *const *argv)
{
	char *v[16];
	int n = 0;

	for (; argv[n]; n++)
		v[n] = argv[n];
	v[n] = NULL;
	return ss_daemon_args_parse(n, v, a, count_usage);
}

/* Both daemons' shared command line. */
static void daemon_args(void **state)
{
	struct ss_daemon_args a;
	char *full[] = {"d", "-f",	"-t", "-c",	      "x.conf", "--user",
			"u", "--audit", "-",  "--no-sandbox", NULL};
	char *no_c[] = {"d", "-f", NULL}, *extra[] = {"d", "-c", "x", "y", NULL};
	char *help[] = {"d", "--help", NULL}, *unknown[] = {"d", "-c", "x", "--nope", NULL};
	char *longs[] = {"d", "--foreground", "--test", "--config", "y.conf", NULL};
	char *version[] = {"d", "--version", NULL};

	(void)state;
	opterr = 0;
	assert_int_equal(parse(&a, full), 0);
	assert_string_equal(a.path, "x.conf");
	assert_string_equal(a.user, "u");
	assert_string_equal(a.audit, "-");
	assert_true(a.foreground && a.check && a.no_sandbox);
	usage_calls = 0;
	assert_int_equal(parse(&a, no_c), 2);
	assert_int_equal(parse(&a, extra), 2);
	assert_int_equal(parse(&a, unknown), 2);
	/* Usage errors name the culprit and point at --help instead of printing it all. */
	assert_int_equal(usage_calls, 0);
	assert_int_equal(parse(&a, help), 1);
	assert_int_equal(usage_calls, 1);
	assert_int_equal(parse(&a, longs), 0);
	assert_string_equal(a.path, "y.conf");
	assert_true(a.foreground && a.check && !a.no_sandbox);
	assert_int_equal(parse(&a, version), 1);
	assert_int_equal(usage_calls, 1);
	assert_null(ss_path_dir(NULL));
	char *d = ss_path_dir("/nonexistent-dir/file.conf");
	assert_string_equal(d, "/nonexistent-dir");
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(daemon_args),
		{"allowed_calls_work", check_verdicts, NULL, NULL, (void *)&allowed_calls_work},
		{"execve_kills", check_verdicts, NULL, NULL, (void *)&execve_kills},
		{"actions_may_exec", check_verdicts, NULL, NULL, (void *)&actions_may_exec},
		{"packet_socket_kills", check_verdicts, NULL, NULL, (void *)&packet_socket_kills},
		{"exec_mappings_kill", check_verdicts, NULL, NULL, (void *)&exec_mappings_kill},
		{"inet_sockets_kill", check_verdicts, NULL, NULL, (void *)&inet_sockets_kill},
		{"netlink_socket_kills", check_verdicts, NULL, NULL, (void *)&netlink_socket_kills},
		cmocka_unit_test(ptrace_and_fork_kill),
		cmocka_unit_test(privileges_dropped),
		cmocka_unit_test(landlock_limits_paths),
		cmocka_unit_test(landlock_log_dir),
		cmocka_unit_test(dac_caps_need_landlock),
		cmocka_unit_test(threads_filtered_too),
		cmocka_unit_test(null_backend_changes_nothing),
		cmocka_unit_test(unknown_user_refused),
		cmocka_unit_test(normal_exit_survives),
		cmocka_unit_test(syscall_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
