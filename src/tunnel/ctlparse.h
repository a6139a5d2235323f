/* SPDX-License-Identifier: MIT */
/*
 * Control-socket requests (docs/PROTOCOL.md 15.5) from bytes to structs, with no daemon
 * in sight: reading one request off the socket, splitting off its verb, and parsing the
 * key=value bodies of "set", "grant", "revoke" and "sync" (and writing "sync" bodies). ctlserver.c
 * applies the result; the unit tests and tests/fuzz/fuzz_ctl.c drive these directly.
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
/* A sync carries a whole file's peers: it may grow past SS_CTL_MAX_REQUEST up to this. */
#define SS_CTL_MAX_SYNC (16 * 1024 * 1024)

enum ss_ctl_verb {
	SS_CTL_GET,
	SS_CTL_SET,
	SS_CTL_GRANT,
	SS_CTL_REVOKE,
	SS_CTL_SYNC,
	SS_CTL_TRUST,
	SS_CTL_DISCOVER, /* the open-mode LAN table (`silosec discover`) */
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

/* Interface settings a sync names (ss_ctl_sync_req.given). */
enum ss_ctl_sync_key {
	SS_SYNC_IDENTITY = 1 << 0,
	SS_SYNC_TRANSPORT = 1 << 1,
	SS_SYNC_LISTEN_PORT = 1 << 2,
	SS_SYNC_MTU = 1 << 3,
	SS_SYNC_ADDRESS = 1 << 4,
	SS_SYNC_TRUST_STORE = 1 << 5,
	SS_SYNC_ACCEPT_TOFU = 1 << 6,
	SS_SYNC_TUN_RING = 1 << 7,
	SS_SYNC_POLICY = 1 << 8,
	SS_SYNC_CT_PER_PEER = 1 << 9,
	SS_SYNC_LAN_DISCOVERY = 1 << 10,
	SS_SYNC_ADVERTISE_LOCAL = 1 << 11,
	SS_SYNC_CAND_ALLOW = 1 << 12,
	SS_SYNC_PRIVATE = 1 << 13,
};

/*
 * One "sync" (`silosec syncconf`): a configuration file parsed and resolved by root, as
 * conf. Its peers have endpoint (a tofu peer's name as written, else the address) and
 * resolved (the numeric address); of the interface, only the keys in given were sent.
 */
typedef struct ss_ctl_sync_req {
	ss_conf *conf;
	uint8_t identity[SS_IDENTITY_LEN]; /* the file's public key */
	unsigned given;			   /* enum ss_ctl_sync_key */
} ss_ctl_sync_req;

/*
 * Read one request: up to an empty line or end of input, 2 s per read. Returns its
 * length (buf NUL-terminated), SS_ERR_IO on a read error or timeout, or SS_ERR_BUFFER
 * when cap - 1 bytes came without an empty line.
 */
ssize_t ss_ctl_read_request(int fd, char *buf, size_t cap);
/* Go on reading a request of which len bytes are in buf (now cap bytes, grown for sync). */
ssize_t ss_ctl_read_more(int fd, char *buf, size_t len, size_t cap);

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

/*
 * Parse a sync body (modified in place) into r, like ss_ctl_parse_set; after success,
 * ss_ctl_sync_req_clear releases r. Endpoints must be numeric by then (checked when
 * applied: the daemon does no name lookups).
 */
int ss_ctl_parse_sync(char *body, ss_ctl_sync_req *r, char *err, size_t errlen);
void ss_ctl_sync_req_clear(ss_ctl_sync_req *r);

/*
 * Parse a trust body ("name=ENDPOINT": the TOFU peer whose TrustStore pin changed) into
 * name (cap bytes). 0, or SS_ERR_FORMAT with a message in err.
 */
int ss_ctl_parse_trust(char *body, char *name, size_t cap, char *err, size_t errlen);

/*
 * The "sync" request (verb line to empty line) for a parsed configuration whose peers are
 * resolved (ss_conf_resolve); identity is the file's public key. malloc'd, NULL when out
 * of memory.
 */
char *ss_ctl_format_sync(const ss_conf *c, const uint8_t identity[SS_IDENTITY_LEN]);

#endif
