/* SPDX-License-Identifier: MIT */
/*
 * Audit trail: one JSON object per line for every security decision the daemons take
 * (handshakes, TOFU pins, capability denials, grants, knocks, sandbox violations).
 *
 * Lines carry no secret: identities appear only as their short fingerprint. Output goes to
 * an append-only file opened before the daemon drops privileges, or to stderr; after a log
 * rotation (SIGHUP) the daemons reopen it by its path. Each source gets a token bucket of
 * the one rate limiter (common/ratelimit.h: a remote IPv4 address or IPv6 /64, or the event
 * name for records without an address), so a flood costs a bounded number of lines; the
 * next line let through for that source says how many were suppressed. Refusals and drops
 * also share one process-wide bucket (spoofed sources), reported as "suppressed_all_sources".
 */
#ifndef SS_AUDIT_H
#define SS_AUDIT_H

#include <stdint.h>
#include <sys/socket.h>

/* Lines per second and burst per source. */
#define SS_AUDIT_RATE 5
#define SS_AUDIT_BURST 20
#define SS_AUDIT_SLOTS 1024 /* entries of the per-source table (its eviction rule applies) */
/*
 * Refusals and drops of all sources together (their source addresses may be spoofed, so
 * per-source buckets alone do not bound a flood from ever-new addresses). Accepts, grants
 * and expiries are not counted here: a flood of junk cannot hide them.
 */
#define SS_AUDIT_ALL_RATE 50
#define SS_AUDIT_ALL_BURST 500
/*
 * Lines another process admitted and handed over (the knock parser child's refusals):
 * a ceiling above what that process's own limit lets through, so that a compromised
 * child cannot flood the trail.
 */
#define SS_AUDIT_RELAY_RATE (2 * SS_AUDIT_ALL_RATE)
#define SS_AUDIT_RELAY_BURST (2 * SS_AUDIT_ALL_BURST)
/* A relayed line's own suppressed counts are capped at this (a second of a 10 Gbit/s flood). */
#define SS_AUDIT_RELAY_MAX_CLAIM 20000000ull
#define SS_AUDIT_LINE_MAX 1024

struct ss_audit_rec {
	const char *event;	     /* e.g. "handshake", "tofu_pin", "cap_denied", "knock" */
	const char *decision;	     /* e.g. "accept", "refuse", "drop", "create", "expire" */
	int code;		     /* SS_ERR_* (0 for accepts); written as its stable name */
	const uint8_t *identity;     /* 32-byte Ed25519 public key, or NULL */
	const struct sockaddr *peer; /* remote (outer) address, or NULL */
	const char *iface;	     /* interface or daemon instance, or NULL */
	const char *detail;	     /* free text without secrets, or NULL; JSON-escaped */
	const char *name;	     /* the peer's Name = (next to its fingerprint), or NULL */
};

/*
 * Open the trail. path NULL or "-" means stderr; otherwise the file is created 0600 and
 * opened O_APPEND. Returns 0 or SS_ERR_IO (errno kept). Safe to call again (reopens).
 */
int ss_audit_open(const char *path, const char *daemon);
/*
 * Log rotation (SIGHUP): if the file at the path given to ss_audit_open is no longer the
 * one open (renamed or removed), open the path anew (O_APPEND | O_CREAT, 0600) and write
 * there. Returns 1 (reopened), 0 (same file, or stderr: nothing to do) or SS_ERR_IO (errno
 * kept): then the old descriptor stays in use and an "audit_reopen" line saying why is
 * written to it, so no line is lost; the caller logs the failure too.
 */
int ss_audit_reopen(void);
/* The absolute path reopened by ss_audit_reopen, or NULL (stderr). */
const char *ss_audit_path(void);
/*
 * ss_audit_reopen for a daemon's SIGHUP, its outcome told through the daemon's logger:
 * "reopened" at ok_prio, a failure as a warning (the library itself never prints).
 */
void ss_audit_reopen_logged(void (*log)(int prio, const char *fmt, ...), int ok_prio);
/* Write one record unless its source is over its rate; now_ns is CLOCK_MONOTONIC. */
void ss_audit(const struct ss_audit_rec *r, uint64_t now_ns);
/*
 * Format a record into buf (NUL-terminated, newline included); returns the length or
 * SS_ERR_BUFFER. Used by ss_audit and by tests; no rate limit.
 */
int ss_audit_format(char *buf, size_t len, const struct ss_audit_rec *r, uint64_t suppressed);
/*
 * Privilege separation: a sandboxed child must not hold the trail (it could write any
 * line). ss_audit_detach closes it in the child; ss_audit then writes nothing. The child
 * asks ss_audit_admit (its rate limit, 1 = let through, with the counts to report) and
 * sends the record's fields to its parent, which checks them and calls ss_audit_relayed:
 * the line is written with the child's counts, under the SS_AUDIT_RELAY_* ceiling.
 */
void ss_audit_detach(void);
int ss_audit_admit(const struct ss_audit_rec *r, uint64_t now_ns, uint64_t *suppressed,
		   uint64_t *suppressed_all);
void ss_audit_relayed(const struct ss_audit_rec *r, uint64_t now_ns, uint64_t suppressed,
		      uint64_t suppressed_all);
/* The file descriptor the trail writes to (-1 once detached). */
int ss_audit_fd(void);
void ss_audit_close(void);

#endif
