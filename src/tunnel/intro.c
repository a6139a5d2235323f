/* SPDX-License-Identifier: MIT */
/* Introducers in silosecd (PROTOCOL.md 16.4). */
#include "daemon.h"
#include "intro.h"

void ss_intro_control(ss_daemon *d, ss_dpeer *p, const ss_flow *flow, const uint8_t *pt, size_t len)
{
	(void)flow;
	(void)pt;
	(void)len;
	ss_reach_drop(d, p, SS_ERR_REACH_DENIED);
}

int ss_intro_query(ss_daemon *d, ss_dpeer *p)
{
	(void)d;
	(void)p;
	return SS_ERR_NOT_FOUND;
}
