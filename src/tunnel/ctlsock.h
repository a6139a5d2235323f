/* SPDX-License-Identifier: MIT */
/*
 * The control socket: /run/silosec/IFACE.sock (directory 0700, socket 0600, root only).
 * A request is a verb line ("get" or "set") and key=value lines up to an empty line; the
 * answer is key=value lines ending with "end" or "error=MESSAGE". docs/silosec.8 and
 * docs/PROTOCOL.md ("Control socket") list the keys.
 */
#ifndef SS_TUNNEL_CTLSOCK_H
#define SS_TUNNEL_CTLSOCK_H

#include <stddef.h>

#define SS_CTL_DIR "/run/silosec"
#define SS_CTL_MAX_REQUEST (64 * 1024)

/* Path of the socket for iface; SS_CTL_DIR can be overridden by $SILOSEC_RUN_DIR. */
int ss_ctl_path(const char *iface, char *buf, size_t len);
/* Daemon: create the directory and a listening socket; returns fd or -errno. */
int ss_ctl_listen(const char *iface);
/* Client: connect; returns fd or -errno. */
int ss_ctl_connect(const char *iface);

#endif
