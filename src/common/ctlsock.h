/* SPDX-License-Identifier: MIT */
/*
 * The control socket: /run/silosec/IFACE.sock (directory 0700, socket 0600, root only).
 * A request is a verb line ("get" or "set") and key=value lines up to an empty line; the
 * answer is key=value lines ending with "end" or "error=MESSAGE". docs/silosec.8 and
 * docs/PROTOCOL.md ("Control socket") list the keys.
 * Here is what both ends share (where the socket lives) and the client's connect; the
 * daemon's listening side is tunnel/ctllisten.h.
 */
#ifndef SS_COMMON_CTLSOCK_H
#define SS_COMMON_CTLSOCK_H

#include <stddef.h>

#define SS_CTL_DIR "/run/silosec"
#define SS_CTL_MAX_REQUEST (64 * 1024)

struct sockaddr_un;

/* SS_CTL_DIR, or $SILOSEC_RUN_DIR when set and not empty. */
const char *ss_ctl_dir(void);
/* Path of the socket for iface, in ss_ctl_dir(); 0 or -ENAMETOOLONG. */
int ss_ctl_path(const char *iface, char *buf, size_t len);
/* The socket address for iface; 0 or -ENAMETOOLONG. */
int ss_ctl_addr(const char *iface, struct sockaddr_un *sa);
/* Client: connect; returns fd or -errno. */
int ss_ctl_connect(const char *iface);

#endif
