/* SPDX-License-Identifier: MIT */
/*
 * The tunnel's isolation codes: -90..-99, shared with the sandbox (SS_ERR_SANDBOX, -95,
 * in sandbox/sandbox.h). silosec/error.h has the core's codes; docs/ERRORS.md lists all.
 */
#ifndef SS_TUNNEL_ISOLATION_H
#define SS_TUNNEL_ISOLATION_H

#include <silosec/error.h>

enum ss_isolation_err {
	SS_ERR_CAP_DENIED = -90,  /* no Allow rule or grant lets this peer reach this address */
	SS_ERR_CT_FULL = -91,	  /* peer's connection-tracking budget is used up */
	SS_ERR_GRANT_LIMIT = -92, /* grant refused: over the duration cap or the grant table full */
};

#endif
