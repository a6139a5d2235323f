/* SPDX-License-Identifier: MIT */
/*
 * A configuration as silosec.conf text: what `silosec showconf` prints and SaveConfig
 * writes back. Parsing the output gives the same configuration (tests/unit/test_config.c);
 * the private key is only ever referenced by PrivateKeyFile, never written inline.
 */
#include <stdio.h>
#include <string.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "common/capability.h"
#include "config.h"

static void put_cidrs(FILE *f, const char *key, const ss_cidr *c, size_t n)
{
	char s[64];

	if (!n)
		return;
	fprintf(f, "%s = ", key);
	for (size_t i = 0; i < n; i++) {
		ss_cidr_format(&c[i], s, sizeof(s));
		fprintf(f, "%s%s", i ? ", " : "", s);
	}
	fputc('\n', f);
}

static void put_rules(FILE *f, bool has_allow, const ss_cap_rule *r, size_t n)
{
	char s[SS_CAP_RULE_STR];

	if (has_allow && !n)
		fputs("Allow = none\n", f);
	for (size_t i = 0; i < n; i++) {
		ss_cap_rule_format(&r[i], s, sizeof(s));
		fprintf(f, "Allow = %s\n", s);
	}
}

static void put_list(FILE *f, const char *key, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : key, v[i]);
	if (n)
		fputc('\n', f);
}

/* wg-quick's keys: routing, DNS and the hooks (verbatim, in order), so SaveConfig keeps them. */
static void put_host(const ss_conf *c, FILE *f)
{
	static const char *const hook_key[SS_HOOK_COUNT] = {"PreUp", "PostUp", "PreDown",
							    "PostDown"};

	if (c->table_mode == SS_TABLE_OFF)
		fputs("Table = off\n", f);
	else if (c->table_mode == SS_TABLE_NUM && c->table == SS_CONF_TABLE_MAIN)
		fputs("Table = main\n", f);
	else if (c->table_mode == SS_TABLE_NUM)
		fprintf(f, "Table = %u\n", c->table);
	if (c->fwmark)
		fprintf(f, "FwMark = 0x%x\n", c->fwmark);
	put_list(f, "DNS = ", c->dns_servers, c->ndns_servers);
	put_list(f, "DNS = ", c->dns_search, c->ndns_search);
	for (int h = 0; h < SS_HOOK_COUNT; h++)
		for (size_t i = 0; i < c->nhooks[h]; i++)
			fprintf(f, "%s = %s\n", hook_key[h], c->hooks[h][i]);
}

static void put_interface(const ss_conf *c, FILE *f)
{
	fprintf(f, "[Interface]\nName = %s\nPrivateKeyFile = %s\n", c->name, c->private_key_file);
	put_cidrs(f, "Address", c->addrs, c->naddrs);
	if (c->listen_port)
		fprintf(f, "ListenPort = %u\n", c->listen_port);
	if (c->transport != SS_TRANSPORT_UDP)
		fputs("Transport = ip\n", f);
	fprintf(f, "MTU = %u\n", c->mtu);
	if (c->trust_store)
		fprintf(f, "TrustStore = %s\n", c->trust_store);
	if (c->accept_anonymous)
		fputs("AcceptTofu = yes\n", f);
	fprintf(f, "Policy = %s\n", c->policy_allow ? "allow" : "deny");
	if (c->tun_ring)
		fputs("TunRing = yes\n", f);
	fprintf(f, "ConntrackPerPeer = %u\n", c->ct_per_peer);
	if (c->save_config)
		fputs("SaveConfig = yes\n", f);
	if (c->lan_discovery != SS_LAN_OFF)
		fprintf(f, "LanDiscovery = %s\n",
			c->lan_discovery == SS_LAN_MODE_OPEN ? "open" : "peers");
	put_cidrs(f, "CandidateAllow", c->cand_allow, c->ncand_allow);
	if (c->advertise_local)
		fputs("AdvertiseLocal = yes\n", f);
	if (c->private_host)
		fputs("Private = yes\n", f);
	put_host(c, f);
}

static void put_peer(const ss_conf_peer *p, FILE *f)
{
	char b64[SS_B64_KEY_LEN];

	fputs("\n[Peer]\n", f);
	if (p->label)
		fprintf(f, "Name = %s\n", p->label);
	if (p->tofu) {
		fputs("Identity = tofu\n", f);
	} else {
		ss_key_to_base64(p->identity, b64);
		fprintf(f, "Identity = %s\n", b64);
	}
	if (p->endpoint)
		fprintf(f, "Endpoint = %s\n", p->endpoint);
	put_cidrs(f, "AllowedIPs", p->allowed, p->nallowed);
	if (p->introducer)
		fputs("Introducer = yes\n", f);
	if (p->introduce)
		fputs("Introduce = yes\n", f);
	if (p->relay != SS_CONF_RELAY_NO)
		fprintf(f, "Relay = %s\n", p->relay == SS_CONF_RELAY_SERVE ? "serve" : "yes");
	if (p->keepalive)
		fprintf(f, "PersistentKeepalive = %u\n", p->keepalive);
	for (size_t i = 0; i < p->ngroups; i++)
		fprintf(f, "%s%s", i ? ", " : "Groups = ", p->groups[i]);
	if (p->ngroups)
		fputc('\n', f);
	/* Only its own rules: its groups' come back from the [Group] sections. */
	put_rules(f, p->own_allow, p->allow, p->nown);
}

int ss_conf_write(const ss_conf *c, FILE *f)
{
	if (!c || !f || !c->private_key_file)
		return SS_ERR_INVAL;
	put_interface(c, f);
	for (size_t i = 0; i < c->npeers; i++)
		put_peer(&c->peers[i], f);
	for (size_t i = 0; i < c->ngroups; i++) {
		fprintf(f, "\n[Group %s]\n", c->groups[i].name);
		put_rules(f, c->groups[i].has_allow, c->groups[i].allow, c->groups[i].nallow);
	}
	fflush(f);
	return ferror(f) ? SS_ERR_IO : 0;
}
