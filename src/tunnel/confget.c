/* SPDX-License-Identifier: MIT */
/*
 * The peers of a running daemon, from its "get" answer (PROTOCOL.md 15.5), as
 * configuration: what `silosec showconf` and SaveConfig write. No daemon in sight: the
 * unit tests feed it answers.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "common/capability.h"
#include "config.h"

static int nomem(char *err, size_t errlen)
{
	snprintf(err, errlen, "out of memory");
	return SS_ERR_NOMEM;
}

static int add_rule(ss_conf_peer *p, const char *val, bool own, char *err, size_t errlen)
{
	char why[160];

	if (!p->allow && !(p->allow = calloc(SS_CAP_MAX_RULES, sizeof(*p->allow))))
		return nomem(err, errlen);
	if (p->nallow == SS_CAP_MAX_RULES ||
	    ss_cap_rule_parse(val, &p->allow[p->nallow], why, sizeof(why))) {
		snprintf(err, errlen, "rule '%.64s': %s", val,
			 p->nallow == SS_CAP_MAX_RULES ? "too many" : why);
		return SS_ERR_FORMAT;
	}
	p->nallow++;
	if (own)
		p->nown = p->nallow;
	return 0;
}

static int split_groups(ss_conf_peer *p, char *val, char *err, size_t errlen)
{
	for (char *save, *g = strtok_r(val, ",", &save); g; g = strtok_r(NULL, ",", &save))
		if (ss_conf_add_group(p, g))
			return nomem(err, errlen);
	return 0;
}

/* "rule=own RULE" / "rule=group:NAME RULE": only a peer's own rules are its to write. */
static int peer_rule(ss_conf_peer *p, char *val, char *err, size_t errlen)
{
	char *sp = strchr(val, ' ');

	if (!sp)
		return 0;
	*sp = '\0';
	if (strcmp(val, "own"))
		return 0;
	return add_rule(p, sp + 1, true, err, errlen);
}

static int peer_line(ss_conf_peer *p, const char *k, char *val, char *err, size_t errlen)
{
	ss_cidr c, *na;

	if (!strcmp(k, "tofu")) {
		char *sp = strchr(val, ' ');

		if (sp)
			*sp = '\0';
		p->tofu = true;
		free(p->endpoint);
		return (p->endpoint = strdup(val)) ? 0 : nomem(err, errlen);
	}
	if (!strcmp(k, "endpoint") && !p->tofu)
		return (p->endpoint = strdup(val)) ? 0 : nomem(err, errlen);
	if (!strcmp(k, "name"))
		return (p->label = strdup(val)) ? 0 : nomem(err, errlen);
	if (!strcmp(k, "groups"))
		return split_groups(p, val, err, errlen);
	if (!strcmp(k, "persistent_keepalive"))
		p->keepalive = (uint32_t)strtoul(val, NULL, 10);
	if (!strcmp(k, "access"))
		p->own_allow = p->has_allow = !strcmp(val, "rules");
	/* Without groups every rule is the peer's own; with them, rule= lines say whose. */
	if (!strcmp(k, "allow") && !p->ngroups)
		return add_rule(p, val, true, err, errlen);
	if (!strcmp(k, "rule"))
		return peer_rule(p, val, err, errlen);
	if (strcmp(k, "allowed_ip"))
		return 0;
	if (ss_cidr_parse(val, &c)) {
		snprintf(err, errlen, "allowed_ip '%.64s' is not an address/prefix", val);
		return SS_ERR_FORMAT;
	}
	if (!(na = realloc(p->allowed, (p->nallowed + 1) * sizeof(*na))))
		return nomem(err, errlen);
	p->allowed = na;
	p->allowed[p->nallowed++] = c;
	return 0;
}

static int new_peer(ss_conf *c, const char *val, char *err, size_t errlen)
{
	ss_conf_peer *np = realloc(c->peers, (c->npeers + 1) * sizeof(*np));

	if (!np)
		return nomem(err, errlen);
	c->peers = np;
	memset(&c->peers[c->npeers], 0, sizeof(*np));
	c->npeers++;
	if (strcmp(val, "tofu") && ss_key_from_base64(val, c->peers[c->npeers - 1].identity)) {
		snprintf(err, errlen, "peer '%.64s' is not a base64 identity", val);
		return SS_ERR_FORMAT;
	}
	return 0;
}

/* A peer with groups but no own rule= lines may still have had "Allow = none". */
static void finish_peer(ss_conf_peer *p)
{
	if (p->ngroups)
		p->own_allow = p->nown > 0;
	p->nallow = p->nown;
}

/* A peer's reachability keys in the file (PROTOCOL.md 16): what start or syncconf applied. */
struct reach_keys {
	uint8_t identity[SS_IDENTITY_LEN];
	bool introducer, introduce;
	uint8_t relay;
};

static struct reach_keys *save_reach_keys(const ss_conf *c, size_t *n)
{
	struct reach_keys *k = calloc(c->npeers ? c->npeers : 1, sizeof(*k));

	*n = 0;
	for (size_t i = 0; k && i < c->npeers; i++) {
		const ss_conf_peer *p = &c->peers[i];

		if (p->tofu || (!p->introducer && !p->introduce && !p->relay))
			continue;
		memcpy(k[*n].identity, p->identity, SS_IDENTITY_LEN);
		k[*n].introducer = p->introducer;
		k[*n].introduce = p->introduce;
		k[(*n)++].relay = p->relay;
	}
	return k;
}

/* The running peers keep the file's Introducer, Introduce and Relay: SaveConfig keeps them. */
static void restore_reach_keys(ss_conf *c, const struct reach_keys *k, size_t n)
{
	for (size_t i = 0; i < c->npeers; i++)
		for (size_t j = 0; !c->peers[i].tofu && j < n; j++)
			if (!memcmp(c->peers[i].identity, k[j].identity, SS_IDENTITY_LEN)) {
				c->peers[i].introducer = k[j].introducer;
				c->peers[i].introduce = k[j].introduce;
				c->peers[i].relay = k[j].relay;
			}
}

int ss_conf_peers_from_get(ss_conf *c, char *answer, char *err, size_t errlen)
{
	ss_conf_peer *cur = NULL;
	struct reach_keys *keys;
	size_t nkeys;
	int ret = 0;

	keys = save_reach_keys(c, &nkeys);
	if (!keys)
		return nomem(err, errlen);
	for (size_t i = 0; i < c->npeers; i++) {
		/* The file's peers are replaced: free them as ss_conf_free would. */
		ss_conf_peer *p = &c->peers[i];

		free(p->endpoint), free(p->resolved), free(p->allowed), free(p->allow);
		free(p->origin), free(p->label);
		for (size_t j = 0; j < p->ngroups; j++)
			free(p->groups[j]);
		free(p->groups);
	}
	c->npeers = 0;
	for (char *save, *l = strtok_r(answer, "\n", &save); l && !ret;
	     l = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(l, '=');

		if (!eq)
			continue;
		*eq = '\0';
		if (!strcmp(l, "peer")) {
			if (cur)
				finish_peer(cur);
			ret = new_peer(c, eq + 1, err, errlen);
			cur = ret ? NULL : &c->peers[c->npeers - 1];
		} else if (cur) {
			ret = peer_line(cur, l, eq + 1, err, errlen);
		}
	}
	if (cur && !ret)
		finish_peer(cur);
	if (!ret)
		restore_reach_keys(c, keys, nkeys);
	free(keys);
	return ret;
}
