/* SPDX-License-Identifier: MIT */
/*
 * Blocking fd I/O shared by the control socket's two ends and `silosec cat`: a whole
 * buffer written, one read with a deadline appended to a text buffer.
 */
#ifndef SS_COMMON_FDIO_H
#define SS_COMMON_FDIO_H

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#include <silosec/error.h>

/* 0, or SS_ERR_IO (errno set, or 0 for a write of nothing); EINTR is retried. */
static inline int ss_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return SS_ERR_IO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * One read appended at buf + *len (needs *len + 1 < cap), NUL-terminated, after waiting at
 * most timeout_ms for data: the count read (0 at EOF), or SS_ERR_IO (errno ETIMEDOUT when
 * nothing came). EINTR is retried.
 */
static inline ssize_t ss_read_append(int fd, char *buf, size_t *len, size_t cap, int timeout_ms)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&pfd, 1, timeout_ms) <= 0) {
			errno = ETIMEDOUT;
			return SS_ERR_IO;
		}
		n = read(fd, buf + *len, cap - 1 - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return SS_ERR_IO;
		buf[*len + (size_t)n] = '\0';
		*len += (size_t)n;
		return n;
	}
}

#endif
