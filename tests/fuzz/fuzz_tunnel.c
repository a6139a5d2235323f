/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <sys/socket.h>

#include "fuzz_tunnel.h"

void fuzz_check(bool cond)
{
	if (!cond)
		__builtin_trap();
}

void fuzz_check_cidr(const ss_cidr *c)
{
	char buf[64];
	ss_cidr back;

	fuzz_check(c->family == AF_INET || c->family == AF_INET6);
	fuzz_check(c->prefix <= (c->family == AF_INET ? 32 : 128));
	if (c->family == AF_INET)
		for (int i = 4; i < 16; i++)
			fuzz_check(c->addr[i] == 0);
	ss_cidr_format(c, buf, sizeof(buf));
	fuzz_check(ss_cidr_parse(buf, &back) == 0);
	fuzz_check(back.family == c->family && back.prefix == c->prefix);
	fuzz_check(!memcmp(back.addr, c->addr, sizeof(c->addr)));
}

void fuzz_check_rule(const ss_cap_rule *r)
{
	char buf[SS_CAP_RULE_STR];
	ss_cap_rule back;

	fuzz_check(r->proto == SS_CAP_ANY || r->proto == SS_CAP_TCP || r->proto == SS_CAP_UDP ||
		   r->proto == SS_CAP_ICMP);
	fuzz_check(r->port_lo <= r->port_hi);
	fuzz_check(r->proto == SS_CAP_TCP || r->proto == SS_CAP_UDP ||
		   (r->port_lo == 0 && r->port_hi == 65535));
	if (r->has_dst)
		fuzz_check_cidr(&r->dst);
	ss_cap_rule_format(r, buf, sizeof(buf));
	fuzz_check(ss_cap_rule_parse(buf, &back, NULL, 0) == 0);
	fuzz_check(ss_cap_rule_equal(r, &back));
}
