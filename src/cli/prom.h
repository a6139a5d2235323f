/* SPDX-License-Identifier: MIT */
#ifndef SS_CLI_PROM_H
#define SS_CLI_PROM_H

#include <stdio.h>

/*
 * `silosec show --prometheus`: the control-socket "get" answers of n interfaces as
 * Prometheus text, every family once with its HELP and TYPE lines. answers[i] is NULL for
 * an interface whose daemon did not answer (silosec_interface_up 0). now: Unix seconds,
 * for the handshake ages. A pure function: no socket, no clock.
 */
int ss_prom_show(FILE *f, const char *const *names, const char *const *answers, size_t n,
		 unsigned long long now);

#endif
