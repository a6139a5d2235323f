/* SPDX-License-Identifier: MIT */
/* Properties of parsed tunnel values the configuration and control-socket harnesses share. */
#ifndef SS_FUZZ_TUNNEL_H
#define SS_FUZZ_TUNNEL_H

#include <stdbool.h>

#include "common/capability.h"
#include "config.h"

/* Traps (a crash libFuzzer reports) unless cond holds. */
void fuzz_check(bool cond);
/* A CIDR the parser accepted is well formed and prints back to itself; else a trap. */
void fuzz_check_cidr(const ss_cidr *c);
/* An Allow rule the parser accepted is well formed and prints back to itself. */
void fuzz_check_rule(const ss_cap_rule *r);

#endif
