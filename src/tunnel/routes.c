/* SPDX-License-Identifier: MIT */
/*
 * Where AllowedIPs routes go (Table =) and the full tunnel: wg-quick's recipe. A /0 in
 * Table = auto goes into its own table MARK, reached by `not fwmark MARK table MARK`,
 * with `table main suppress_prefixlength 0` first so that the main table's specific
 * routes still win; the transport sockets carry SO_MARK = MARK, so the tunnel's own
 * packets skip that table and never loop back into the tunnel.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon.h"
#include "log.h"
#include "netdev.h"

/* 0: no route for c (Table = off, or a /0 without a mark on the transport). */
static uint32_t table_for(const ss_daemon *d, const ss_cidr *c)
{
	switch (d->conf->table_mode) {
	case SS_TABLE_OFF:
		return 0;
	case SS_TABLE_NUM:
		return d->conf->table;
	case SS_TABLE_AUTO:
		break;
	}
	if (c->prefix)
		return SS_CONF_TABLE_MAIN;
	return d->fwmark;
}

static int full_rules(ss_daemon *d, int family)
{
	bool *done = &d->full_rules[family == AF_INET6];
	int ret;

	if (*done)
		return 0;
	ret = ss_nl_full_tunnel_rules(d->nl, family, d->fwmark, true);
	if (!ret)
		*done = true;
	return ret;
}

void ss_routes_update(ss_daemon *d, const ss_cidr *c, bool add)
{
	uint32_t table = table_for(d, c);
	char a[64];
	int ret = 0;

	ss_cidr_format(c, a, sizeof(a));
	if (!table) {
		/* Without the mark, a default route would capture the tunnel's own packets. */
		if (add && !c->prefix && d->conf->table_mode == SS_TABLE_AUTO)
			ss_log(LOG_WARNING,
			       "SS_TUN_ROUTE: no route for %s: a full tunnel needs it in the "
			       "file at start (or FwMark =), so the transport is marked",
			       a);
		return;
	}
	if (add && !c->prefix && d->conf->table_mode == SS_TABLE_AUTO)
		ret = full_rules(d, c->family);
	if (!ret)
		ret = add ? ss_nl_route_add(d->nl, d->ifindex, c, table)
			  : ss_nl_route_del(d->nl, d->ifindex, c, table);
	if (ret)
		ss_log(LOG_WARNING, "SS_TUN_ROUTE: %s route %s (table %u): %s",
		       add ? "adding" : "removing", a, table, strerror(-ret));
}

void ss_routes_cleanup(ss_daemon *d)
{
	for (int i = 0; i < 2; i++) {
		int ret;

		if (!d->full_rules[i] || d->nl < 0)
			continue;
		ret = ss_nl_full_tunnel_rules(d->nl, i ? AF_INET6 : AF_INET, d->fwmark, false);
		if (ret)
			ss_log(LOG_WARNING, "SS_TUN_ROUTE: removing the full tunnel's rules: %s",
			       strerror(-ret));
		d->full_rules[i] = false;
	}
}

int ss_routes_mark(ss_daemon *d)
{
	d->fwmark = ss_conf_fwmark(d->conf);
	if (!d->fwmark)
		return 0;
	for (int i = 0; i < 2; i++)
		if (d->tr.fd[i] >= 0 &&
		    setsockopt(d->tr.fd[i], SOL_SOCKET, SO_MARK, &d->fwmark, sizeof(d->fwmark)) < 0)
			return -errno;
	return 0;
}
