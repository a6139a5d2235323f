/* SPDX-License-Identifier: MIT */
/*
 * Configuration text: ss_conf_parse on arbitrary bytes, then the promises a daemon relies
 * on when it accepts a file (valid name and ranges, endpoints that pass the syntax check,
 * CIDRs that print and parse back to themselves). Also ss_cidr_parse and
 * ss_endpoint_check on the raw input. No file I/O, no DNS.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <silosec/error.h>

#include "config.h"

#define FILE_NAME "fuzz.conf"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

static void check_cidr(const ss_cidr *c)
{
	char buf[64];
	ss_cidr back;

	check(c->family == AF_INET || c->family == AF_INET6);
	check(c->prefix <= (c->family == AF_INET ? 32 : 128));
	if (c->family == AF_INET)
		for (int i = 4; i < 16; i++)
			check(c->addr[i] == 0);
	ss_cidr_format(c, buf, sizeof(buf));
	check(ss_cidr_parse(buf, &back) == 0);
	check(back.family == c->family && back.prefix == c->prefix);
	check(!memcmp(back.addr, c->addr, sizeof(c->addr)));
}

static void check_name(const char *name)
{
	size_t len = strlen(name);

	check(len >= 1 && len <= SS_CONF_IFNAME_MAX);
	check(strcmp(name, ".") && strcmp(name, ".."));
	check(strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
	      len);
}

static void check_peers(const ss_conf *c)
{
	check(c->npeers <= SS_CONF_MAX_PEERS);
	for (size_t i = 0; i < c->npeers; i++) {
		const ss_conf_peer *p = &c->peers[i];

		check(p->line >= 1);
		check(!p->tofu || p->endpoint);
		check(!p->endpoint || ss_endpoint_check(p->endpoint) == 0);
		check(p->keepalive <= 65535);
		check(!p->nallowed == !p->allowed);
		for (size_t j = 0; j < p->nallowed; j++)
			check_cidr(&p->allowed[j]);
		/* Quadratic, but fuzz inputs hold few peers. */
		for (size_t j = 0; j < i && !p->tofu; j++)
			check(c->peers[j].tofu ||
			      memcmp(c->peers[j].identity, p->identity, SS_IDENTITY_LEN));
	}
}

static void check_conf(const ss_conf *c)
{
	bool v6 = false;

	check(c->path && !strcmp(c->path, FILE_NAME));
	check_name(c->name);
	check(c->has_private_key != !!c->private_key_file);
	check(c->transport == SS_TRANSPORT_UDP || c->transport == SS_TRANSPORT_IP);
	for (size_t i = 0; i < c->naddrs; i++) {
		check_cidr(&c->addrs[i]);
		v6 |= c->addrs[i].family == AF_INET6;
	}
	check(c->mtu >= (v6 ? 1280u : 576u) && c->mtu <= 65535);
	check_peers(c);
}

/* The standalone parsers on the raw input as a string. */
static void check_strings(const uint8_t *data, size_t size)
{
	char s[512];
	ss_cidr c;

	if (size >= sizeof(s) || memchr(data, '\0', size))
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ss_cidr_parse(s, &c) == 0)
		check_cidr(&c);
	/* Anything accepted holds no space and ends in a port. */
	if (ss_endpoint_check(s) == 0)
		check(!strchr(s, ' ') && strrchr(s, ':') && strrchr(s, ':')[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[SS_CONF_ERR_LEN];
	ss_conf *conf = (ss_conf *)err;
	int ret;

	check_strings(data, size);
	ret = ss_conf_parse((const char *)data, size, FILE_NAME, &conf, err, sizeof(err));
	if (ret) {
		check(ret == SS_ERR_FORMAT || ret == SS_ERR_NOMEM);
		check(!conf);
		check(!strncmp(err, FILE_NAME ":", strlen(FILE_NAME) + 1));
		check(memchr(err, '\0', sizeof(err)));
		return 0;
	}
	check(conf);
	check_conf(conf);
	ss_conf_free(conf);
	return 0;
}
