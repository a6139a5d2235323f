/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static struct {
	char ident[64];
	bool to_stderr;
	uint64_t last_ns[SS_LOG_BUCKETS];
	uint64_t suppressed[SS_LOG_BUCKETS];
} lg;

void ss_log_init(const char *ident, bool to_stderr)
{
	snprintf(lg.ident, sizeof(lg.ident), "%s", ident);
	lg.to_stderr = to_stderr;
	if (!to_stderr)
		openlog(lg.ident, LOG_PID, LOG_DAEMON);
}

static void vlog(int prio, const char *fmt, va_list ap)
{
	static const char *const level[] = {"emerg",   "alert",	 "crit", "error",
					    "warning", "notice", "info", "debug"};
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (lg.to_stderr)
		fprintf(stderr, "%s: %s: %s\n", lg.ident, level[prio & 7], line);
	else
		syslog(prio, "%s", line);
}

void ss_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(prio, fmt, ap);
	va_end(ap);
}

void ss_log_limited(enum ss_log_bucket b, uint64_t now_ns, int prio, const char *fmt, ...)
{
	va_list ap;

	if (lg.last_ns[b] && now_ns - lg.last_ns[b] < 1000000000ull) {
		lg.suppressed[b]++;
		return;
	}
	lg.last_ns[b] = now_ns ? now_ns : 1;
	if (lg.suppressed[b]) {
		ss_log(prio, "(%llu similar messages suppressed)",
		       (unsigned long long)lg.suppressed[b]);
		lg.suppressed[b] = 0;
	}
	va_start(ap, fmt);
	vlog(prio, fmt, ap);
	va_end(ap);
}
