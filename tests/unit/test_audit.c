/* SPDX-License-Identifier: MIT */
/*
 * Audit trail: JSON shape and escaping, per-source rate limit, file mode and appends,
 * reopening after a rotation (and keeping the old file when that fails), relayed lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "audit.h"
#include "helpers.h"
#include "knock/knock.h"

#define MS 1000000ull

static struct sockaddr_in v4(const char *a, uint16_t port)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

static void format_fields(void **state)
{
	uint8_t pub[SS_IDENTITY_LEN];
	char fp[SS_FINGERPRINT_LEN], line[SS_AUDIT_LINE_MAX];
	struct sockaddr_in a = v4("192.0.2.7", 51820);
	struct ss_audit_rec r = {.event = "handshake",
				 .decision = "refuse",
				 .code = SS_ERR_SIGNATURE,
				 .identity = pub,
				 .peer = (struct sockaddr *)&a,
				 .iface = "ss0",
				 .detail = "quote \" backslash \\ newline \n bell \a"};
	int n;

	(void)state;
	memset(pub, 0x42, sizeof(pub));
	ss_fingerprint(pub, fp);
	assert_int_equal(ss_audit_open("-", "silosecd"), 0);
	n = ss_audit_format(line, sizeof(line), &r, 0);
	assert_true(n > 0);
	assert_int_equal(line[n - 1], '\n');
	assert_int_equal(strchr(line, '\n'), line + n - 1);
	assert_non_null(strstr(line, "\"daemon\":\"silosecd\""));
	assert_non_null(strstr(line, "\"event\":\"handshake\""));
	assert_non_null(strstr(line, "\"decision\":\"refuse\""));
	assert_non_null(strstr(line, "\"code\":\"SS_ERR_SIGNATURE\""));
	assert_non_null(strstr(line, fp));
	assert_non_null(strstr(line, "\"peer\":\"192.0.2.7:51820\""));
	assert_non_null(strstr(line, "quote \\\" backslash \\\\ newline \\u000a bell \\u0007"));
	assert_null(strstr(line, "suppressed"));
	assert_memory_equal(line, "{\"time\":\"", 9);
}

static void format_too_small(void **state)
{
	char line[40];
	struct ss_audit_rec r = {.event = "knock", .decision = "accept"};

	(void)state;
	assert_int_equal(ss_audit_format(line, sizeof(line), &r, 0), SS_ERR_BUFFER);
}

static size_t count_lines(const char *path, const char *needle)
{
	char buf[SS_AUDIT_LINE_MAX];
	size_t n = 0;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f))
		if (!needle || strstr(buf, needle))
			n++;
	fclose(f);
	return n;
}

static void rate_limit_per_source(void **state)
{
	char path[] = "/tmp/ss_audit_XXXXXX";
	int fd = mkstemp(path);
	struct sockaddr_in flood = v4("198.51.100.1", 1), other = v4("198.51.100.2", 1);
	struct ss_audit_rec r = {.event = "knock", .decision = "refuse", .code = SS_ERR_KNOCK_MAC};
	struct stat st;
	uint64_t t = 5000 * MS;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	assert_int_equal(ss_audit_open(path, "silosec-knockd"), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	r.peer = (struct sockaddr *)&flood;
	for (int i = 0; i < 10000; i++)
		ss_audit(&r, t);
	assert_int_equal(count_lines(path, NULL), SS_AUDIT_BURST);
	/* Another source is not starved by the flood. */
	r.peer = (struct sockaddr *)&other;
	ss_audit(&r, t);
	assert_int_equal(count_lines(path, "198.51.100.2"), 1);
	/* After a second the flooder gets SS_AUDIT_RATE lines; the first reports the rest. */
	r.peer = (struct sockaddr *)&flood;
	for (int i = 0; i < 100; i++)
		ss_audit(&r, t + 1000 * MS);
	assert_int_equal(count_lines(path, "198.51.100.1"), SS_AUDIT_BURST + SS_AUDIT_RATE);
	assert_int_equal(count_lines(path, "\"suppressed\":9980"), 1);
	/* Reopening appends. */
	assert_int_equal(ss_audit_open(path, "silosec-knockd"), 0);
	r.peer = (struct sockaddr *)&other;
	ss_audit(&r, t + 2000 * MS);
	assert_int_equal(count_lines(path, NULL), SS_AUDIT_BURST + SS_AUDIT_RATE + 2);
	ss_audit_close();
	unlink(path);
}

/* Spoofed sources: every packet from a new address must not mean a new line. */
static void rate_limit_all_sources(void **state)
{
	char path[] = "/tmp/ss_audit_XXXXXX";
	int fd = mkstemp(path);
	struct ss_audit_rec r = {.event = "knock", .decision = "refuse", .code = SS_ERR_KNOCK_MAC};
	struct sockaddr_in s = v4("10.0.0.0", 1);
	uint64_t t = 9000 * MS;
	uint32_t a;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ss_audit_open(path, "silosec-knockd"), 0);
	r.peer = (struct sockaddr *)&s;
	for (uint32_t i = 0; i < 100000; i++) {
		a = htonl(0x0a000000u + i);
		memcpy(&s.sin_addr, &a, 4);
		ss_audit(&r, t);
	}
	assert_int_equal(count_lines(path, NULL), SS_AUDIT_ALL_BURST);
	/* What is not a refusal still gets through. */
	r.decision = "accept";
	r.code = 0;
	a = htonl(0xc0000201u);
	memcpy(&s.sin_addr, &a, 4);
	ss_audit(&r, t);
	assert_int_equal(count_lines(path, "\"accept\""), 1);
	/* A second later the flood gets SS_AUDIT_ALL_RATE lines; the first counts the rest. */
	r.decision = "refuse";
	r.code = SS_ERR_KNOCK_MAC;
	for (uint32_t i = 0; i < 1000; i++) {
		a = htonl(0x0b000000u + i);
		memcpy(&s.sin_addr, &a, 4);
		ss_audit(&r, t + 1000 * MS);
	}
	assert_int_equal(count_lines(path, NULL), SS_AUDIT_ALL_BURST + 1 + SS_AUDIT_ALL_RATE);
	assert_int_equal(count_lines(path, "\"suppressed_all_sources\":99500"), 1);
	ss_audit_close();
	unlink(path);
}

static void write_line(const char *event, uint64_t t)
{
	struct ss_audit_rec r = {.event = event, .decision = "accept"};

	ss_audit(&r, t);
}

/* logrotate renames the file; SIGHUP reopens the path: new lines go to the new file. */
static void reopen_after_rename(void **state)
{
	char dir[] = "/tmp/ss_audit_dir_XXXXXX", path[PATH_MAX], old[PATH_MAX + 8];
	char cwd[PATH_MAX];
	struct stat st;
	uint64_t t = 20000 * MS;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.jsonl", dir);
	snprintf(old, sizeof(old), "%s.1", path);
	assert_int_equal(ss_audit_open(path, "silosecd"), 0);
	assert_string_equal(ss_audit_path(), path);
	write_line("before_rotation", t);
	/* Not rotated: nothing to do. */
	assert_int_equal(ss_audit_reopen(), 0);
	assert_int_equal(rename(path, old), 0);
	write_line("before_sighup", t);
	assert_int_equal(ss_audit_reopen(), 1);
	write_line("after_sighup", t);
	assert_int_equal(count_lines(old, NULL), 2);
	assert_int_equal(count_lines(old, "before_sighup"), 1);
	assert_int_equal(count_lines(path, NULL), 1);
	assert_int_equal(count_lines(path, "after_sighup"), 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Removed instead of renamed: created again. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ss_audit_reopen(), 1);
	write_line("after_unlink", t);
	assert_int_equal(count_lines(path, "after_unlink"), 1);
	unlink(path);
	/* A relative path is kept absolute: the daemons chdir("/") after opening it. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(ss_audit_open("rel.jsonl", "silosecd"), 0);
	assert_int_equal(chdir("/"), 0);
	snprintf(path, sizeof(path), "%s/rel.jsonl", dir);
	assert_string_equal(ss_audit_path(), path);
	assert_int_equal(rename(path, old), 0);
	assert_int_equal(ss_audit_reopen(), 1);
	write_line("relative", t);
	assert_int_equal(count_lines(path, "relative"), 1);
	assert_int_equal(chdir(cwd), 0);
	ss_audit_close();
	assert_null(ss_audit_path());
	/* stderr: nothing to reopen. */
	assert_int_equal(ss_audit_open("-", "silosecd"), 0);
	assert_int_equal(ss_audit_reopen(), 0);
	assert_int_equal(ss_audit_fd(), 2);
	unlink(path);
	unlink(old);
	rmdir(dir);
}

/*
 * The path cannot be opened (here its directory is gone; for the daemons, usually a
 * root-owned directory without a pre-created file): the old descriptor stays, and the
 * trail itself says why, so no line is lost.
 */
static void reopen_failure_keeps_old_fd(void **state)
{
	char dir[] = "/tmp/ss_audit_dir_XXXXXX", moved[64], path[PATH_MAX], inmoved[PATH_MAX];
	uint64_t t = 30000 * MS;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(moved, sizeof(moved), "%s.moved", dir);
	snprintf(path, sizeof(path), "%s/a.jsonl", dir);
	snprintf(inmoved, sizeof(inmoved), "%s/a.jsonl", moved);
	assert_int_equal(ss_audit_open(path, "silosec-knockd"), 0);
	fd = ss_audit_fd();
	write_line("first", t);
	assert_int_equal(rename(dir, moved), 0);
	errno = 0;
	assert_int_equal(ss_audit_reopen(), SS_ERR_IO);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(ss_audit_fd(), fd);
	write_line("second", t);
	assert_int_equal(count_lines(inmoved, NULL), 3);
	assert_int_equal(count_lines(inmoved, "\"event\":\"audit_reopen\",\"decision\":"
					      "\"keep_old_file\",\"code\":\"SS_ERR_IO\""),
			 1);
	assert_int_equal(count_lines(inmoved, path), 1);
	assert_int_equal(count_lines(inmoved, "second"), 1);
	/* A FIFO without a reader at the path fails at once rather than blocking. */
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(ss_audit_reopen(), SS_ERR_IO);
	assert_int_equal(errno, ENXIO);
	assert_int_equal(ss_audit_fd(), fd);
	/* Once the path works again, the next SIGHUP moves over. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ss_audit_reopen(), 1);
	write_line("third", t);
	assert_int_equal(count_lines(path, NULL), 1);
	assert_int_equal(count_lines(inmoved, "third"), 0);
	ss_audit_close();
	unlink(path);
	unlink(inmoved);
	rmdir(dir);
	rmdir(moved);
}

/*
 * A file planted at the path between the rename and SIGHUP is not adopted: one with a
 * second name (a hard link to another daemon's trail), or, as root, one of another user.
 */
static void reopen_refuses_planted_file(void **state)
{
	char dir[] = "/tmp/ss_audit_dir_XXXXXX", path[PATH_MAX], other[PATH_MAX + 8];
	uint64_t t = 35000 * MS;
	int fd, old;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.jsonl", dir);
	snprintf(other, sizeof(other), "%s/b.jsonl", dir);
	assert_int_equal(ss_audit_open(path, "silosecd"), 0);
	old = ss_audit_fd();
	assert_int_equal(unlink(path), 0);
	fd = open(other, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(link(other, path), 0);
	assert_int_equal(ss_audit_reopen(), SS_ERR_IO);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ss_audit_fd(), old);
	write_line("not_in_b", t);
	assert_int_equal(count_lines(other, NULL), 0);
	assert_int_equal(unlink(path), 0);
	if (geteuid() == 0) {
		fd = open(path, O_WRONLY | O_CREAT, 0600);
		assert_true(fd >= 0);
		assert_int_equal(fchown(fd, 65534, 65534), 0);
		close(fd);
		assert_int_equal(ss_audit_reopen(), SS_ERR_IO);
		assert_int_equal(ss_audit_fd(), old);
		assert_int_equal(unlink(path), 0);
	}
	/* A file of its own is taken. */
	assert_int_equal(ss_audit_reopen(), 1);
	ss_audit_close();
	unlink(path);
	unlink(other);
	rmdir(dir);
}

/*
 * The knock parser child: detached (no descriptor, ss_audit writes nothing), it only asks
 * its rate limit; the parent writes what it relays, under a ceiling of its own.
 */
static void detach_and_relay(void **state)
{
	char path[] = "/tmp/ss_audit_XXXXXX";
	int fd = mkstemp(path);
	struct sockaddr_in src = v4("203.0.113.9", 1);
	struct ss_audit_rec r = {.event = "knock",
				 .decision = "refuse",
				 .code = SS_ERR_KNOCK_MAC,
				 .peer = (struct sockaddr *)&src};
	uint64_t t = 40000 * MS, sup, sup_all;
	int admitted = 0;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ss_audit_open(path, "silosec-knockd"), 0);
	ss_audit_detach();
	assert_int_equal(ss_audit_fd(), -1);
	assert_null(ss_audit_path());
	assert_int_equal(ss_audit_reopen(), 0);
	ss_audit(&r, t);
	assert_int_equal(count_lines(path, NULL), 0);
	for (int i = 0; i < 100; i++)
		admitted += ss_audit_admit(&r, t, &sup, &sup_all);
	assert_int_equal(admitted, SS_AUDIT_BURST);
	assert_int_equal(ss_audit_admit(&r, t + 1000 * MS, &sup, &sup_all), 1);
	assert_int_equal(sup, 100 - SS_AUDIT_BURST);
	/* The parent: relayed lines carry the child's counts, up to the ceiling. */
	assert_int_equal(ss_audit_open(path, "silosec-knockd"), 0);
	for (int i = 0; i < 10000; i++)
		ss_audit_relayed(&r, t, 0, 0);
	assert_int_equal(count_lines(path, NULL), SS_AUDIT_RELAY_BURST);
	ss_audit_relayed(&r, t + 1000 * MS, 3, 7);
	assert_int_equal(count_lines(path, "\"suppressed\":3,\"suppressed_all_sources\":9007"), 1);
	ss_audit_close();
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_fields),
		cmocka_unit_test(format_too_small),
		cmocka_unit_test(rate_limit_per_source),
		cmocka_unit_test(rate_limit_all_sources),
		cmocka_unit_test(reopen_after_rename),
		cmocka_unit_test(reopen_failure_keeps_old_fd),
		cmocka_unit_test(reopen_refuses_planted_file),
		cmocka_unit_test(detach_and_relay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
