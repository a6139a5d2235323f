/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/ctlsock.h"

const char *ss_ctl_dir(void)
{
	const char *d = getenv("SILOSEC_RUN_DIR");

	return d && *d ? d : SS_CTL_DIR;
}

int ss_ctl_path(const char *iface, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s/" SS_CTL_SOCK_NAME, ss_ctl_dir(), iface);

	return n < 0 || (size_t)n >= len || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path)
		       ? -ENAMETOOLONG
		       : 0;
}

int ss_run_dir(const char *iface, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", ss_ctl_dir(), iface);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

const char *ss_state_base(void)
{
	const char *d = getenv("SILOSEC_STATE_DIR");

	return d && *d ? d : SS_STATE_DIR;
}

int ss_state_dir(const char *iface, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", ss_state_base(), iface);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int ss_ctl_addr(const char *iface, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	return ss_ctl_path(iface, sa->sun_path, sizeof(sa->sun_path));
}

int ss_ctl_connect(const char *iface)
{
	struct sockaddr_un sa;
	int fd, ret;

	ret = ss_ctl_addr(iface, &sa);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}
