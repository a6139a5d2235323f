/* SPDX-License-Identifier: MIT */
/*
 * The control socket: /run/silosec/IFACE/ctl.sock (socket 0600, root only; the directory
 * is the interface's own, 0700, given to the daemon's user). Each interface also has its
 * own state directory, /var/lib/silosec/IFACE (relative TrustStore paths).
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
#define SS_STATE_DIR "/var/lib/silosec"
#define SS_CTL_SOCK_NAME "ctl.sock"
#define SS_CTL_MAX_REQUEST (64 * 1024)

struct sockaddr_un;

/* SS_CTL_DIR, or $SILOSEC_RUN_DIR when set and not empty. */
const char *ss_ctl_dir(void);
/* Path of the socket for iface, ss_ctl_dir()/IFACE/ctl.sock; 0 or -ENAMETOOLONG. */
int ss_ctl_path(const char *iface, char *buf, size_t len);
/* The interface's run directory, ss_ctl_dir()/IFACE; 0 or -ENAMETOOLONG. */
int ss_run_dir(const char *iface, char *buf, size_t len);
/* SS_STATE_DIR, or $SILOSEC_STATE_DIR when set and not empty. */
const char *ss_state_base(void);
/* The interface's state directory, ss_state_base()/IFACE; 0 or -ENAMETOOLONG. */
int ss_state_dir(const char *iface, char *buf, size_t len);
/* The socket address for iface; 0 or -ENAMETOOLONG. */
int ss_ctl_addr(const char *iface, struct sockaddr_un *sa);
/* Client: connect; returns fd or -errno. */
int ss_ctl_connect(const char *iface);

#endif
