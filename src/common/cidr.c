/* SPDX-License-Identifier: MIT */
#include "common/cidr.h"
#include "common/decimal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <silosec/error.h>

int ss_cidr_parse(const char *s, ss_cidr *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash;
	uint32_t prefix, max;
	size_t len;
	ss_cidr c = {0};

	if (!s || !out)
		return SS_ERR_FORMAT;
	slash = strchr(s, '/');
	len = slash ? (size_t)(slash - s) : strlen(s);
	if (len == 0 || len >= sizeof(addr))
		return SS_ERR_FORMAT;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, c.addr) == 1) {
		c.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c.addr) == 1) {
		c.family = AF_INET6;
		max = 128;
	} else {
		return SS_ERR_FORMAT;
	}
	prefix = max;
	if (slash && (strlen(slash + 1) > 3 || ss_decimal_parse(slash + 1, max, &prefix)))
		return SS_ERR_FORMAT;
	c.prefix = (uint8_t)prefix;
	*out = c;
	return 0;
}

void ss_cidr_format(const ss_cidr *c, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	if (!len)
		return;
	if (!c || (c->family != AF_INET && c->family != AF_INET6) ||
	    !inet_ntop(c->family, c->addr, addr, sizeof(addr))) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%s/%u", addr, c->prefix);
}

/* Why s is not a valid endpoint, or NULL if it is. */
