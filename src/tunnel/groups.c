/* SPDX-License-Identifier: MIT */
/*
 * Peer names and groups (silosec.conf(5)): a peer's effective Allow rules are its own
 * followed by those of each group it lists, as Nebula's firewall groups do. Each rule
 * keeps where it came from, so `silosec show` can say why a peer reaches something.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "common/capability.h"
#include "config.h"

#define LABEL_MAX 32

bool ss_conf_valid_label(const char *s)
{
	uint8_t key[SS_IDENTITY_LEN];
	size_t len = strlen(s);

	if (len == 0 || len > LABEL_MAX || !strcmp(s, "tofu") || !ss_key_from_base64(s, key))
		return false;
	return ss_conf_name_chars(s);
}

int ss_conf_add_group(ss_conf_peer *p, const char *name)
{
	char **ng = realloc(p->groups, (p->ngroups + 1) * sizeof(*ng));

	if (!ng)
		return SS_ERR_NOMEM;
	p->groups = ng;
	if (!(p->groups[p->ngroups] = strdup(name)))
		return SS_ERR_NOMEM;
	p->ngroups++;
	return 0;
}

long ss_conf_find_label(const ss_conf *c, const char *label)
{
	for (size_t i = 0; c && label && i < c->npeers; i++)
		if (c->peers[i].label && !strcmp(c->peers[i].label, label))
			return (long)i;
	return -1;
}

static int failf(char *err, size_t errlen, const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int failf(char *err, size_t errlen, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !errlen)
		return SS_ERR_FORMAT;
	n = snprintf(err, errlen, "%s:%u: ", file, line);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return SS_ERR_FORMAT;
}

static const ss_conf_group *find_group(const ss_conf *c, const char *name)
{
	for (size_t i = 0; i < c->ngroups; i++)
		if (!strcmp(c->groups[i].name, name))
			return &c->groups[i];
	return NULL;
}

static bool has_rule(const ss_conf_peer *p, const ss_cap_rule *r)
{
	for (size_t i = 0; i < p->nallow; i++)
		if (ss_cap_rule_equal(&p->allow[i], r))
			return true;
	return false;
}

/* Appends g's rules to p; a rule p already has keeps its first origin. */
static int add_group(ss_conf_peer *p, const ss_conf_group *g)
{
	if (!g->has_allow)
		return 0;
	p->has_allow = true;
	for (size_t i = 0; i < g->nallow; i++) {
		if (has_rule(p, &g->allow[i]))
			continue;
		if (p->nallow == SS_CAP_MAX_RULES)
			return SS_ERR_FORMAT;
		p->origin[p->nallow] = g->name;
		p->allow[p->nallow++] = g->allow[i];
	}
	return 0;
}

static int expand_peer(ss_conf_peer *p, const ss_conf *c, const char *file, char *err,
		       size_t errlen)
{
	p->nown = p->nallow;
	p->own_allow = p->has_allow;
	if (!p->ngroups)
		return 0;
	if ((!p->allow && !(p->allow = calloc(SS_CAP_MAX_RULES, sizeof(*p->allow)))) ||
	    (!p->origin && !(p->origin = calloc(SS_CAP_MAX_RULES, sizeof(*p->origin))))) {
		snprintf(err, errlen, "out of memory");
		return SS_ERR_NOMEM;
	}
	for (size_t j = 0; j < p->ngroups; j++) {
		const ss_conf_group *g = find_group(c, p->groups[j]);

		if (!g)
			return failf(err, errlen, file, p->groups_line,
				     "Groups: \"%s\" has no [Group %s] section", p->groups[j],
				     p->groups[j]);
		if (add_group(p, g))
			return failf(err, errlen, file, p->groups_line,
				     "Groups: more than %d Allow rules with those of group \"%s\"",
				     SS_CAP_MAX_RULES, g->name);
	}
	return 0;
}

int ss_conf_effective_rules(ss_conf *c, const char *file, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->npeers; i++) {
		int ret = expand_peer(&c->peers[i], c, file, err, errlen);

		if (ret)
			return ret;
	}
	return 0;
}
