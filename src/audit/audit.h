/* SPDX-License-Identifier: MIT */
/*
 * Audit trail: one JSON object per line for every security decision the daemons take
 * (handshakes, TOFU pins, capability denials, grants, knocks, sandbox violations).
 *
 * Lines carry no secret: identities appear only as their short fingerprint. Output goes to
 * an append-only file opened before the daemon drops privileges, or to stderr. Each source
 * (remote address, or the event name for records without one) gets a token bucket, so a
 * flood costs a bounded number of lines; the next line let through for that source says how
 * many were suppressed. Refusals and drops also share one process-wide bucket (spoofed
 * sources), reported as "suppressed_all_sources".
 */
#ifndef SS_AUDIT_H
#define SS_AUDIT_H

#include <stdint.h>
#include <sys/socket.h>

/* Lines per second and burst per source. */
#define SS_AUDIT_RATE 5
#define SS_AUDIT_BURST 20
#define SS_AUDIT_SLOTS 1024
/*
 * Refusals and drops of all sources together (their source addresses may be spoofed, so
 * per-source buckets alone do not bound a flood from ever-new addresses). Accepts, grants
 * and expiries are not counted here: a flood of junk cannot hide them.
 */
#define SS_AUDIT_ALL_RATE 50
#define SS_AUDIT_ALL_BURST 500
#define SS_AUDIT_LINE_MAX 1024

struct ss_audit_rec {
	const char *event;	     /* e.g. "handshake", "tofu_pin", "cap_denied", "knock" */
	const char *decision;	     /* e.g. "accept", "refuse", "drop", "create", "expire" */
	int code;		     /* SS_ERR_* (0 for accepts); written as its stable name */
	const uint8_t *identity;     /* 32-byte Ed25519 public key, or NULL */
	const struct sockaddr *peer; /* remote (outer) address, or NULL */
	const char *iface;	     /* interface or daemon instance, or NULL */
	const char *detail;	     /* free text without secrets, or NULL; JSON-escaped */
};

/*
 * Open the trail. path NULL or "-" means stderr; otherwise the file is created 0600 and
 * opened O_APPEND. Returns 0 or SS_ERR_IO (errno kept). Safe to call again (reopens).
 */
int ss_audit_open(const char *path, const char *daemon);
/* Write one record unless its source is over its rate; now_ns is CLOCK_MONOTONIC. */
void ss_audit(const struct ss_audit_rec *r, uint64_t now_ns);
/*
 * Format a record into buf (NUL-terminated, newline included); returns the length or
 * SS_ERR_BUFFER. Used by ss_audit and by tests; no rate limit.
 */
int ss_audit_format(char *buf, size_t len, const struct ss_audit_rec *r, uint64_t suppressed);
/* The file descriptor the trail writes to (for sandboxes that must keep it open). */
int ss_audit_fd(void);
void ss_audit_close(void);

#endif
