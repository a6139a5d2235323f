/* SPDX-License-Identifier: MIT */
/* Key files: the only file I/O in libsilosec, kept outside the sans-IO core. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "common/crypto.h"

int ss_random_system(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	while (len > 0) {
		ssize_t n = getrandom(buf, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return SS_ERR_IO;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int ss_keyfile_save_fd(int fd, const ss_identity *id)
{
	uint8_t seed[SS_SEED_LEN];
	char line[SS_B64_KEY_LEN + 1];
	size_t len, off = 0;
	int ret = 0;

	ss_identity_seed(id, seed);
	ss_key_to_base64(seed, line);
	len = strlen(line);
	line[len++] = '\n';
	while (off < len) {
		ssize_t n = write(fd, line + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = SS_ERR_IO;
			break;
		}
		off += (size_t)n;
	}
	ss_wipe(seed, sizeof(seed));
	ss_wipe(line, sizeof(line));
	return ret;
}

int ss_keyfile_save(const char *path, const ss_identity *id)
{
	int fd, ret;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno == EEXIST ? SS_ERR_EXISTS : SS_ERR_IO;
	ret = ss_keyfile_save_fd(fd, id);
	if (fsync(fd) < 0 && !ret)
		ret = SS_ERR_IO;
	if (close(fd) < 0 && !ret)
		ret = SS_ERR_IO;
	if (ret)
		unlink(path);
	return ret;
}

int ss_keyfile_load_fd(int fd, ss_identity **out)
{
	uint8_t seed[SS_SEED_LEN];
	char buf[128];
	size_t len = 0;
	int ret;

	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = SS_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf) - 1) {
			ret = SS_ERR_FORMAT;
			goto out;
		}
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		ret = SS_ERR_FORMAT;
		goto out;
	}
	/*
	 * Exactly one key, optionally followed by one LF (as genkey writes it); a CR before
	 * it is left in place, so the base64 decoder refuses a CRLF file (PROTOCOL 12).
	 */
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	ret = ss_key_from_base64(buf, seed);
	if (!ret)
		ret = ss_identity_from_seed(out, seed);
out:
	ss_wipe(buf, sizeof(buf));
	ss_wipe(seed, sizeof(seed));
	return ret;
}

int ss_keyfile_load(const char *path, ss_identity **out)
{
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return SS_ERR_IO;
	if (fstat(fd, &st) < 0) {
		ret = SS_ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = SS_ERR_FORMAT;
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		ret = SS_ERR_PERM;
		goto out;
	}
	ret = ss_keyfile_load_fd(fd, out);
out:
	close(fd);
	return ret;
}
