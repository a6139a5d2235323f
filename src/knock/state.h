/* SPDX-License-Identifier: MIT */
/*
 * What silosec-knockd has open and its counters, as the root parent writes them to its
 * state file (StateFile, knockd.conf(5)) after every change: atomically (a new file
 * renamed over the old), mode 0600. `silosec-knockd --list` and `--metrics` read that
 * file: no socket, no listener, nothing the parser child can reach.
 */
#ifndef SS_KNOCK_STATE_H
#define SS_KNOCK_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <silosec/identity.h>
#include "knock/knock.h"

#define SS_KNOCK_STATE_DEFAULT "/run/silosec-knockd/state"
#define SS_KNOCK_STATE_MAX_OPEN 256 /* beyond, the soonest to expire is forgotten */
#define SS_KNOCK_STATE_WHAT 160

/* One thing a knock opened, until expires_s (Unix seconds). */
typedef struct ss_knock_opening {
	char action[SS_KNOCK_MAX_ACTION + 1];
	char client[65]; /* SS_KCONF_NAME_MAX + 1 */
	char source[64];
	char what[SS_KNOCK_STATE_WHAT]; /* "tcp/8080, udp/53" or "tcp 22 on ss0" */
	uint8_t identity[SS_IDENTITY_LEN];
	uint64_t opened_s, expires_s;
} ss_knock_opening;

typedef struct ss_knock_state {
	long pid;
	uint64_t started_s, updated_s;
	/* The parser child's counters, summed over every child the daemon ran. */
	uint64_t accepted, drops[SS_KNOCK_DROP_COUNT], pk_ops, copies;
	/* The parent's own. */
	uint64_t kernel_drops, refused, actions, action_failures, parser_restarts;
	ss_knock_opening open[SS_KNOCK_STATE_MAX_OPEN];
	size_t nopen;
} ss_knock_state;

/* The same action, source and identity again replaces the entry (a knock refreshes it). */
void ss_knock_state_add(ss_knock_state *s, const ss_knock_opening *o);
/* Forget what expired by now_s; true if anything did. */
bool ss_knock_state_expire(ss_knock_state *s, uint64_t now_s);

void ss_knock_state_format(FILE *f, const ss_knock_state *s);
/* 0, or SS_ERR_FORMAT for a file this version did not write. */
int ss_knock_state_parse(const char *text, ss_knock_state *s);
/* Atomic: PATH.tmp written, then renamed. Creates PATH's directory (0700) if missing. */
int ss_knock_state_save(const char *path, const ss_knock_state *s);
/* SS_ERR_NOT_FOUND when there is no file; SS_ERR_IO with errno otherwise. */
int ss_knock_state_load(const char *path, ss_knock_state *s);

/* --list: what is open, for whom, until when (absolute and remaining), as of now_s. */
void ss_knock_state_list(FILE *f, const ss_knock_state *s, uint64_t now_s);
/* --metrics: Prometheus text. up: the daemon that wrote the file is running. */
void ss_knock_state_metrics(FILE *f, const ss_knock_state *s, bool up, uint64_t now_s);

#endif
