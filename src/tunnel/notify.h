/* SPDX-License-Identifier: MIT */
/* sd_notify(3)'s protocol, the part silosecd needs (notify.c). */
#ifndef SS_TUNNEL_NOTIFY_H
#define SS_TUNNEL_NOTIFY_H

/* Connects to $NOTIFY_SOCKET: the fd, -1 when unset, -2 on error (errno set). */
int ss_notify_open(void);
/* Sends state ("READY=1"); fd < 0 does nothing. 0 or -errno. */
int ss_notify_send(int fd, const char *state);

#endif
