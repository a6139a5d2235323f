/* SPDX-License-Identifier: MIT */
/*
 * Control-socket requests (docs/PROTOCOL.md 15.5) from bytes to structs, with no daemon
 * in sight: reading one request off the socket, splitting off its verb, and parsing the
 * key=value bodies of "set", "grant" and "revoke". ctlserver.c applies the result; the
 * unit tests and tests/fuzz/fuzz_ctl.c drive these directly.
 */
#ifndef SS_TUNNEL_CTLPARSE_H
#define SS_TUNNEL_CTLPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <silosec/wire.h>

#include "common/capability.h"
#include "config.h"

#define SS_CTL_MAX_ALLOWED 256 /* allowed_ip lines in one set request */

enum ss_ctl_verb {
	SS_CTL_GET,
	SS_CTL_SET,
	SS_CTL_GRANT,
	SS_CTL_REVOKE,
};

/* One "set": what to change on one peer. Nothing here has touched a daemon yet. */
typedef struct ss_ctl_set_req {
	uint8_t identity[SS_IDENTITY_LEN];
	bool have_peer, remove, replace_allowed, have_keepalive, rekey, have_allow;
	bool reset_timestamp; /* forget the newest INIT timestamp (an existing peer only) */
	ss_cap_rule allow[SS_CAP_MAX_RULES];
	size_t nallow;
	char *endpoint; /* as written (checked when applied), or NULL */
	ss_cidr allowed[SS_CTL_MAX_ALLOWED];
	size_t nallowed;
	uint32_t keepalive;
} ss_ctl_set_req;

/* One "grant" or "revoke". The duration cap is checked when applied (it is audited). */
typedef struct ss_ctl_grant_req {
	uint8_t identity[SS_IDENTITY_LEN];
	bool have_peer, have_rule;
	ss_cap_rule rule;
	uint32_t seconds; /* 0 when not given */
} ss_ctl_grant_req;

/*
 * Read one request: up to an empty line or end of input, 2 s per read. Returns its
 * length (buf NUL-terminated), SS_ERR_IO on a read error or timeout, or SS_ERR_BUFFER
 * when cap - 1 bytes came without an empty line.
 */
ssize_t ss_ctl_read_request(int fd, char *buf, size_t cap);

/*
 * Split a request (len bytes in buf; buf[len] must be writable) into its verb and body,
 * cutting it at its empty line. 0, or SS_ERR_FORMAT with a message in err.
 */
int ss_ctl_split(char *buf, size_t len, enum ss_ctl_verb *verb, char **body, char *err,
		 size_t errlen);

/*
 * Parse a set body (modified in place). 0, or a negative code with a message naming the
 * offending line or key in err. After success, ss_ctl_set_req_clear releases r.
 */
int ss_ctl_parse_set(char *body, ss_ctl_set_req *r, char *err, size_t errlen);
void ss_ctl_set_req_clear(ss_ctl_set_req *r);

/* Parse a grant (grant true) or revoke body, like ss_ctl_parse_set; nothing to release. */
int ss_ctl_parse_grant(char *body, bool grant, ss_ctl_grant_req *r, char *err, size_t errlen);

#endif
