/* SPDX-License-Identifier: MIT */
/*
 * Daemon logging: stderr (journald) in the foreground, syslog otherwise. Every line that
 * reports a decision carries a stable code (an SS_ERR_* name or a SS_TUN_* name).
 */
#ifndef SS_TUNNEL_LOG_H
#define SS_TUNNEL_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

/* Rate-limit buckets for the hot path: one line per second per bucket. */
enum ss_log_bucket {
	SS_LOG_WIRE_DROP = 0,
	SS_LOG_TUN_DROP,
	SS_LOG_SEND_FAIL,
	SS_LOG_UNKNOWN_PEER,
	SS_LOG_ALERT,
	SS_LOG_BUCKETS,
};

void ss_log_init(const char *ident, bool to_stderr);
void ss_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* At most one line per second per bucket; the next line says how many were suppressed. */
void ss_log_limited(enum ss_log_bucket b, uint64_t now_ns, int prio, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
