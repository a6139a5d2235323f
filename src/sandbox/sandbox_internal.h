/* SPDX-License-Identifier: MIT */
/* Pieces of the real backend, split by mechanism. */
#ifndef SS_SANDBOX_INTERNAL_H
#define SS_SANDBOX_INTERNAL_H

#include "sandbox.h"

/* True in ASan builds, whose runtime needs a few more syscalls (see seccomp.c). */
bool ss_sandbox_sanitizer(void);

/*
 * A Landlock ruleset fd allowing only paths, or -1: *abi is then 0 when the kernel has no
 * Landlock (not an error: the daemon logs it) and > 0 when building the ruleset failed.
 */
int ss_landlock_build(const struct ss_sandbox_path *paths, size_t n,
		      enum ss_sandbox_profile profile, int *abi);
int ss_landlock_enforce(int ruleset);

/* Load the profile's filter; 0 or SS_ERR_SANDBOX. */
int ss_seccomp_load(enum ss_sandbox_profile profile, int *nsyscalls);

#endif
