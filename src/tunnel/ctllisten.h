/* SPDX-License-Identifier: MIT */
/* The daemon's side of the control socket (common/ctlsock.h has where it lives). */
#ifndef SS_TUNNEL_CTLLISTEN_H
#define SS_TUNNEL_CTLLISTEN_H

#include "common/ctlsock.h"

/* Create the directory and a listening socket; returns fd or -errno. */
int ss_ctl_listen(const char *iface);

#endif
