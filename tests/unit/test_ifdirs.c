/* SPDX-License-Identifier: MIT */
/*
 * One directory per interface (ifdirs.h): the Landlock paths silosecd takes for an
 * interface name only that interface's run, state and log directories, and, applied in a
 * forked child, they keep it away from another interface's socket, trail, trust store and
 * key while its own still work (issue 13, item 10).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "helpers.h"
#include "ifdirs.h"

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

/* Nothing granted to ss0 is, or holds, anything of ss1's or the shared bases. */
static void paths_per_interface(void **state)
{
	struct ss_ifdirs a, b;

	(void)state;
	setenv("SILOSEC_RUN_DIR", "/r", 1);
	setenv("SILOSEC_STATE_DIR", "/s", 1);
	assert_int_equal(ss_ifdirs_init(&a, "ss0", "/s/ss0/a.trust", "/l/ss0/audit.jsonl"), 0);
	assert_int_equal(ss_ifdirs_init(&b, "ss1", "/s/ss1/a.trust", "/l/ss1/audit.jsonl"), 0);
	unsetenv("SILOSEC_RUN_DIR");
	unsetenv("SILOSEC_STATE_DIR");
	assert_int_equal(a.npaths, 6);
	assert_string_equal(a.paths[0].path, "/r/ss0");
	assert_true(a.paths[0].write);
	assert_string_equal(a.paths[1].path, "/s/ss0");
	assert_true(a.paths[1].write);
	assert_string_equal(a.paths[2].path, "/s/ss0");
	assert_string_equal(a.paths[3].path, "/l/ss0/audit.jsonl");
	assert_string_equal(a.paths[4].path, "/l/ss0");
	assert_true(a.paths[4].log_dir && !a.paths[4].write);
	assert_string_equal(a.paths[5].path, "/dev/null");
	for (size_t i = 0; i < a.npaths; i++) {
		const char *p = a.paths[i].path;

		assert_false(under(p, "/r/ss1") || under(p, "/s/ss1") || under(p, "/l/ss1"));
		/* Not a shared parent, which would reach every interface. */
		assert_true(strcmp(p, "/r") && strcmp(p, "/s") && strcmp(p, "/l"));
		for (size_t j = 0; j < b.npaths; j++)
			assert_true(!strcmp(p, "/dev/null") || strcmp(p, b.paths[j].path));
	}
	ss_ifdirs_free(&a);
	ss_ifdirs_free(&b);
	/* No trust store, the trail on stderr: nothing granted for them. */
	assert_int_equal(ss_ifdirs_init(&a, "ss0", NULL, NULL), 0);
	assert_null(a.paths[2].path);
	assert_null(a.paths[3].path);
	assert_null(a.paths[4].path);
	ss_ifdirs_free(&a);
}

static char root[PATH_MAX];

static void make(const char *rel, bool dir)
{
	char p[PATH_MAX + 64];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (dir) {
		assert_int_equal(mkdir(p, 0700), 0);
		return;
	}
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x\n", 2), 2);
	close(fd);
}

static const char *at(const char *rel)
{
	static char p[4][PATH_MAX + 64];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", root, rel);
	return p[i];
}

/* In the sandboxed child: each probe's number is its exit code when it goes wrong. */
static int probes(void)
{
	int fd;

	/* Another interface's: socket, trail, trust store, and any configuration or key. */
	if (unlink(at("run/ss1/ctl.sock")) == 0 || errno != EACCES)
		return 10;
	if (open(at("log/ss1/audit.jsonl"), O_WRONLY | O_APPEND | O_CLOEXEC) >= 0)
		return 11;
	if (open(at("state/ss1/a.trust"), O_RDONLY | O_CLOEXEC) >= 0)
		return 12;
	if (open(at("state/ss1/new"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600) >= 0)
		return 13;
	if (open(at("etc/ss1.key"), O_RDONLY | O_CLOEXEC) >= 0 ||
	    open(at("etc/ss0.key"), O_RDONLY | O_CLOEXEC) >= 0)
		return 14;
	/* Its own: the trust store's atomic update, the trail, the socket's removal. */
	fd = open(at("state/ss0/a.trust.tmp"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return 20;
	close(fd);
	if (rename(at("state/ss0/a.trust.tmp"), at("state/ss0/a.trust")) < 0)
		return 21;
	fd = open(at("log/ss0/audit.jsonl"), O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 || write(fd, "y\n", 2) != 2)
		return 22;
	close(fd);
	if (unlink(at("run/ss0/ctl.sock")) < 0)
		return 23;
	return 0;
}

static void landlock_keeps_instances_apart(void **state)
{
	static const char *const dirs[] = {"run",	"run/ss0",   "run/ss1", "state",
					   "state/ss0", "state/ss1", "log",	"log/ss0",
					   "log/ss1",	"etc"};
	static const char *const files[] = {"run/ss0/ctl.sock",	   "run/ss1/ctl.sock",
					    "state/ss0/a.trust",   "state/ss1/a.trust",
					    "log/ss0/audit.jsonl", "log/ss1/audit.jsonl",
					    "etc/ss0.key",	   "etc/ss1.key"};
	struct ss_sandbox_policy pol = {
		.profile = SS_SANDBOX_TUNNEL, .keep_root = true, .landlock = true, .nofile = 64};
	struct ss_ifdirs x;
	int st = -1;
	pid_t pid;

	(void)state;
	if (syscall(SYS_landlock_create_ruleset, NULL, 0, 1U) <= 0)
		skip();
	snprintf(root, sizeof(root), "/tmp/ss-ifdirs-XXXXXX");
	assert_non_null(mkdtemp(root));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		make(dirs[i], true);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		make(files[i], false);
	setenv("SILOSEC_RUN_DIR", at("run"), 1);
	setenv("SILOSEC_STATE_DIR", at("state"), 1);
	assert_int_equal(
		ss_ifdirs_init(&x, "ss0", at("state/ss0/a.trust"), at("log/ss0/audit.jsonl")), 0);
	unsetenv("SILOSEC_RUN_DIR");
	unsetenv("SILOSEC_STATE_DIR");
	pol.paths = x.paths;
	pol.npaths = x.npaths;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(ss_sandbox_apply(&pol, NULL, NULL) ? 2 : probes());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	ss_ifdirs_free(&x);
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		assert_int_equal(system(cmd), 0);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("child: status 0x%x (exit %d)", st, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(paths_per_interface),
		cmocka_unit_test(landlock_keeps_instances_apart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
