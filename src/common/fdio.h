/* SPDX-License-Identifier: MIT */
/*
 * Writing a whole buffer to a blocking fd: the control-socket client and `silosec cat`.
 */
#ifndef SS_COMMON_FDIO_H
#define SS_COMMON_FDIO_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
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

#endif
