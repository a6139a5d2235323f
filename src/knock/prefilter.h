/* SPDX-License-Identifier: MIT */
/*
 * Step 1 of knock validation (size, type, version, reserved bytes) as a classic BPF
 * socket filter, so the kernel drops junk before it is queued: the daemon is not woken,
 * no copy, no system call. The kernel counts what the filter drops in the socket's
 * drop counter (SO_MEMINFO), together with receive-buffer overflows; the daemon still
 * runs the same check itself (ss_knock_check_size), so behaviour does not depend on
 * the filter being attached.
 */
#ifndef SS_KNOCK_PREFILTER_H
#define SS_KNOCK_PREFILTER_H

#include <stdint.h>

/* Attach the filter to a UDP socket: 0 or SS_ERR_IO (errno kept). */
int ss_knock_prefilter_attach(int fd);
/* Datagrams the kernel dropped for this socket (filter or full buffer), or 0. */
uint64_t ss_knock_prefilter_drops(int fd);

#endif
