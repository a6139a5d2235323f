/* SPDX-License-Identifier: MIT */
/*
 * Configuration text: ss_conf_parse on arbitrary bytes, then the promises a daemon relies
 * on when it accepts a file (valid name and ranges, endpoints that pass the syntax check,
 * CIDRs that print and parse back to themselves). Also ss_cidr_parse and
 * ss_endpoint_check on the raw input. No file I/O, no DNS.
 *
 * The capability parser (Allow = rules, silosec grant) is fuzzed both ways: through the
 * file and as a raw rule list, where every accepted rule must print and parse back to
 * itself; the raw bytes are also parsed as an inner IP packet and matched against them.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <silosec/error.h>

#include "fuzz_tunnel.h"
#include "common/capability.h"
#include "config.h"
#include "hooks.h"

#define FILE_NAME "fuzz.conf"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *name)
{
	size_t len = strlen(name);

	fuzz_check(len >= 1 && len <= SS_CONF_IFNAME_MAX);
	fuzz_check(strcmp(name, ".") && strcmp(name, ".."));
	fuzz_check(
		strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
		len);
}

static void check_peers(const ss_conf *c)
{
	fuzz_check(c->npeers <= SS_CONF_MAX_PEERS);
	for (size_t i = 0; i < c->npeers; i++) {
		const ss_conf_peer *p = &c->peers[i];

		fuzz_check(p->line >= 1);
		fuzz_check(!p->tofu || p->endpoint);
		fuzz_check(!p->endpoint || ss_endpoint_check(p->endpoint) == 0);
		fuzz_check(p->keepalive <= 65535);
		fuzz_check(!p->nallowed == !p->allowed);
		for (size_t j = 0; j < p->nallowed; j++)
			fuzz_check_cidr(&p->allowed[j]);
		fuzz_check(p->nallow <= SS_CAP_MAX_RULES);
		fuzz_check(!p->nallow || p->has_allow);
		fuzz_check(p->nown <= p->nallow);
		fuzz_check(!p->label || ss_conf_valid_label(p->label));
		/* Rules past the peer's own came from one of its groups. */
		for (size_t j = p->nown; j < p->nallow; j++)
			fuzz_check(p->origin && p->origin[j]);
		for (size_t j = 0; j < p->nallow; j++)
			fuzz_check_rule(&p->allow[j]);
		/* Quadratic, but fuzz inputs hold few peers. */
		for (size_t j = 0; j < i && !p->tofu; j++)
			fuzz_check(c->peers[j].tofu ||
				   memcmp(c->peers[j].identity, p->identity, SS_IDENTITY_LEN));
	}
}

/* wg-quick's keys: bounded lists, servers that are addresses, hooks that expand. */
static void check_host_keys(const ss_conf *c)
{
	/* Every %i in a longest line becomes a longest name: 4096 / 2 * 15 bytes. */
	static char out[8 * SS_CONF_MAX_LINE];
	ss_cidr cidr;

	fuzz_check(c->table_mode == SS_TABLE_AUTO || c->table_mode == SS_TABLE_OFF ||
		   (c->table_mode == SS_TABLE_NUM && c->table >= 1));
	fuzz_check(c->ndns_servers <= SS_CONF_MAX_DNS && c->ndns_search <= SS_CONF_MAX_DNS);
	for (size_t i = 0; i < c->ndns_servers; i++)
		fuzz_check(ss_cidr_parse(c->dns_servers[i], &cidr) == 0);
	for (size_t i = 0; i < c->ndns_search; i++)
		fuzz_check(c->dns_search[i][0] && !strpbrk(c->dns_search[i], " ,/;\n"));
	for (int h = 0; h < SS_HOOK_COUNT; h++) {
		fuzz_check(c->nhooks[h] <= SS_CONF_MAX_HOOKS);
		for (size_t i = 0; i < c->nhooks[h]; i++)
			fuzz_check(c->hooks[h][i][0] &&
				   ss_hook_expand(c->hooks[h][i], c->name, out, sizeof(out)) == 0);
	}
	fuzz_check(!ss_conf_fwmark(c) ==
		   (!c->fwmark && (c->table_mode != SS_TABLE_AUTO || !ss_conf_full_tunnel(c))));
}

static void check_conf(const ss_conf *c)
{
	bool v6 = false;

	fuzz_check(c->path && !strcmp(c->path, FILE_NAME));
	check_name(c->name);
	fuzz_check(c->has_private_key != !!c->private_key_file);
	fuzz_check(c->transport == SS_TRANSPORT_UDP || c->transport == SS_TRANSPORT_IP);
	for (size_t i = 0; i < c->naddrs; i++) {
		fuzz_check_cidr(&c->addrs[i]);
		v6 |= c->addrs[i].family == AF_INET6;
	}
	fuzz_check(c->mtu >= (v6 ? 1280u : 576u) && c->mtu <= 65535);
	fuzz_check(c->ct_per_peer >= 1 && c->ct_per_peer <= 1000000);
	check_peers(c);
	check_host_keys(c);
}

/* A rule list from the raw input; the raw bytes as a packet must not crash the matcher. */
static void check_rules(const char *s, const uint8_t *data, size_t size)
{
	ss_cap_rule rules[SS_CAP_MAX_RULES];
	char err[160];
	ss_pkt_info pi;
	size_t n = 0;
	uint32_t secs;

	if (ss_cap_list_parse(s, rules, SS_CAP_MAX_RULES, &n, err, sizeof(err)) == 0)
		for (size_t i = 0; i < n; i++)
			fuzz_check_rule(&rules[i]);
	fuzz_check(n <= SS_CAP_MAX_RULES);
	if (ss_pkt_parse(data, size, &pi) == 0) {
		fuzz_check(pi.family == 4 || pi.family == 6);
		fuzz_check(!pi.inner ||
			   (pi.inner >= data && pi.inner + pi.inner_len <= data + size));
		(void)ss_cap_match(rules, n, &pi);
	}
	if (ss_duration_parse(s, &secs) == 0)
		fuzz_check(secs > 0);
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
		fuzz_check_cidr(&c);
	check_rules(s, data, size);
	/* Anything accepted holds no space and ends in a port. */
	if (ss_endpoint_check(s) == 0)
		fuzz_check(!strchr(s, ' ') && strrchr(s, ':') && strrchr(s, ':')[1]);
}

/* showconf and SaveConfig: what ss_conf_write prints parses, and prints the same again. */
static void check_round_trip(const ss_conf *c)
{
	char *a = NULL, *b = NULL, err[SS_CONF_ERR_LEN];
	size_t alen = 0, blen = 0;
	ss_conf *again = NULL;
	FILE *f;

	if (!c->private_key_file || !(f = open_memstream(&a, &alen)))
		return;
	fuzz_check(ss_conf_write(c, f) == 0);
	fclose(f);
	fuzz_check(ss_conf_parse(a, alen, FILE_NAME, &again, err, sizeof(err)) == 0);
	fuzz_check(again->npeers == c->npeers && again->ngroups == c->ngroups);
	f = open_memstream(&b, &blen);
	if (f) {
		fuzz_check(ss_conf_write(again, f) == 0);
		fclose(f);
		fuzz_check(alen == blen && !memcmp(a, b, alen));
	}
	ss_conf_free(again);
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[SS_CONF_ERR_LEN];
	ss_conf *conf = (ss_conf *)err;
	int ret;

	check_strings(data, size);
	ret = ss_conf_parse((const char *)data, size, FILE_NAME, &conf, err, sizeof(err));
	if (ret) {
		fuzz_check(ret == SS_ERR_FORMAT || ret == SS_ERR_NOMEM);
		fuzz_check(!conf);
		fuzz_check(!strncmp(err, FILE_NAME ":", strlen(FILE_NAME) + 1));
		fuzz_check(memchr(err, '\0', sizeof(err)));
		return 0;
	}
	fuzz_check(conf);
	check_conf(conf);
	check_round_trip(conf);
	ss_conf_free(conf);
	return 0;
}
