/* SPDX-License-Identifier: MIT */
/*
 * systemd's readiness protocol, without libsystemd: one datagram "READY=1" to the unix
 * socket named by $NOTIFY_SOCKET ("@name" is abstract). The socket is connected before
 * the sandbox (the filter and Landlock allow no new sockets to arbitrary paths); the
 * datagram is sent once the interface is up, from the main process (NotifyAccess=main).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

int ss_notify_open(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len;
	int fd;

	if (!path || !*path)
		return -1;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path)) {
		errno = EINVAL;
		return -2;
	}
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -2;
	if (connect(fd, (struct sockaddr *)&sa,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0) {
		close(fd);
		return -2;
	}
	/* Children (there are none, but hooks may be one day) must not notify for us. */
	unsetenv("NOTIFY_SOCKET");
	return fd;
}

int ss_notify_send(int fd, const char *state)
{
	if (fd < 0)
		return 0;
	return send(fd, state, strlen(state), MSG_NOSIGNAL) < 0 ? -errno : 0;
}
