/* SPDX-License-Identifier: MIT */
/* The daemon's side of the control socket (common/ctlsock.h has where it lives). */
#ifndef SS_TUNNEL_CTLLISTEN_H
#define SS_TUNNEL_CTLLISTEN_H

#include "common/ctlsock.h"

/* ss_ctl_dir() (0711) and the interface's run directory in it (0700); 0 or -errno. */
int ss_ctl_mkdirs(const char *iface);
/* Create the directories and a listening socket; returns fd or -errno. */
int ss_ctl_listen(const char *iface);

#endif
