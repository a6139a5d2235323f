/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctllisten.h"

int ss_ctl_mkdirs(const char *iface)
{
	char dir[PATH_MAX];

	if (ss_run_dir(iface, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	if ((mkdir(ss_ctl_dir(), 0711) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0700) < 0 && errno != EEXIST))
		return -errno;
	return 0;
}

int ss_ctl_listen(const char *iface)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd, ret;

	ret = ss_ctl_addr(iface, &sa);
	if (ret)
		return ret;
	/* The base only lets the daemon through; the interface's directory is its own. */
	ret = ss_ctl_mkdirs(iface);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A stale socket from a daemon that died; a live one would answer connect(). */
	ret = ss_ctl_connect(iface);
	if (ret >= 0) {
		close(ret);
		close(fd);
		return -EADDRINUSE;
	}
	unlink(sa.sun_path);
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret < 0 || listen(fd, 16) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}
