/* SPDX-License-Identifier: MIT */
/*
 * The monotonic and wall clocks in nanoseconds, for the daemons, the stream library and
 * the CLI. The core never reads a clock: time comes in through its context (ss_clock_fn).
 */
#ifndef SS_COMMON_CLOCK_H
#define SS_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t ss_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

/* The monotonic clock in seconds: the CLI's and the benchmarks' timeouts and rates. */
static inline double ss_mono_s(void)
{
	return (double)ss_mono_ns() / 1e9;
}

/* Wall time since the epoch: handshake timestamps and knock windows, never intervals. */
static inline uint64_t ss_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

#endif
