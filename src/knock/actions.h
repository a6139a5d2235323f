/* SPDX-License-Identifier: MIT */
/* What an accepted knock does: commands (fork + execve), nftables sets, cycles. */
#ifndef SS_KNOCK_ACTIONS_H
#define SS_KNOCK_ACTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kconf.h"
#include "validate.h"

#define SS_KNOCK_MAX_CHILDREN 32
#define SS_KNOCK_MAX_PENDING 1024

struct ss_knock_actx;

/* Creates the nftables table when the configuration has open actions. */
int ss_knock_actions_init(struct ss_knock_actx **out, const ss_kconf *c, char *err,
			  size_t errlen) SS_WARN_UNUSED;
void ss_knock_actions_free(struct ss_knock_actx *a);

/* Run the action of an accepted knock from src (printable address). */
int ss_knock_actions_run(struct ss_knock_actx *a, const ss_knock_verdict *v, int family,
			 const uint8_t *addr, const char *src, uint64_t now_ms);
/* Reap children, kill overdue ones, run due close commands; ms until the next deadline. */
int64_t ss_knock_actions_tick(struct ss_knock_actx *a, uint64_t now_ms);
/* Shutdown: run every pending close command now, so nothing stays open by our hand. */
void ss_knock_actions_flush(struct ss_knock_actx *a, uint64_t now_ms);

/* Logging, provided by the daemon. */
void ss_knock_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
