/* SPDX-License-Identifier: MIT */
/*
 * Time-limited grants: one extra capability rule for one identity, until a deadline.
 * The table belongs to the daemon, not to a peer, so grants outlive a reload or a
 * `silosec set` that recreates the peer. Fixed size: no allocation, bounded scans.
 */
#ifndef SS_TUNNEL_GRANT_H
#define SS_TUNNEL_GRANT_H

#include <stdbool.h>
#include <stdint.h>

#include <silosec/wire.h>

#include "common/capability.h"
#include "isolation.h"

#define SS_GRANT_MAX 256	   /* grants per interface */
#define SS_GRANT_MAX_SECONDS 86400 /* longest grant: 24 h */

typedef struct ss_grant {
	bool used;
	uint8_t identity[SS_IDENTITY_LEN];
	ss_cap_rule rule;
	uint64_t expire_ns;
} ss_grant;

typedef struct ss_grants {
	ss_grant g[SS_GRANT_MAX];
	uint32_t n; /* used entries */
} ss_grants;

/*
 * Grant rule to identity for seconds. The same identity and rule again sets the new
 * deadline. SS_ERR_GRANT_LIMIT: seconds is 0 or over SS_GRANT_MAX_SECONDS, or the table
 * is full.
 */
int ss_grant_add(ss_grants *t, const uint8_t identity[SS_IDENTITY_LEN], const ss_cap_rule *rule,
		 uint32_t seconds, uint64_t now_ns);
/* Remove identity's grants of rule (all of them if rule is NULL); the count removed. */
int ss_grant_revoke(ss_grants *t, const uint8_t identity[SS_IDENTITY_LEN], const ss_cap_rule *rule);
/* Does a live grant of identity admit the packet? */
bool ss_grant_match(const ss_grants *t, const uint8_t identity[SS_IDENTITY_LEN],
		    const ss_pkt_info *pi, uint64_t now_ns);
/* Remove expired grants, calling fn for each before it goes. */
typedef void (*ss_grant_fn)(void *arg, const ss_grant *g);
uint32_t ss_grant_expire(ss_grants *t, uint64_t now_ns, ss_grant_fn fn, void *arg);
/* Earliest deadline, UINT64_MAX if none. */
uint64_t ss_grant_next(const ss_grants *t);

#endif
