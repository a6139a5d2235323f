/* SPDX-License-Identifier: MIT */
/*
 * What a running peer is called and where its rules came from (Name =, Groups =,
 * [Group NAME]): kept for show and the audit trail; access itself only reads p->rules.
 */
#include <stdlib.h>
#include <string.h>

#include <silosec/error.h>

#include "daemon.h"

void ss_daemon_free_meta(ss_dpeer *p)
{
	if (p->origin)
		for (size_t i = 0; i < p->nrules; i++)
			free(p->origin[i]);
	free(p->origin);
	free(p->label);
	free(p->groups);
	p->origin = NULL;
	p->label = p->groups = NULL;
}

static char *join(char *const *v, size_t n)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	s = calloc(1, len);
	for (size_t i = 0; s && i < n; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, v[i]);
	}
	return s;
}

/* After ss_daemon_set_caps(cp->allow): p->rules are cp->allow, in the same order. */
int ss_daemon_set_meta(ss_dpeer *p, const ss_conf_peer *cp)
{
	bool any = false;

	ss_daemon_free_meta(p);
	if (cp->label && !(p->label = strdup(cp->label)))
		return SS_ERR_NOMEM;
	if (cp->ngroups && !(p->groups = join(cp->groups, cp->ngroups)))
		return SS_ERR_NOMEM;
	for (size_t i = 0; cp->origin && i < p->nrules; i++)
		any |= cp->origin[i] != NULL;
	if (!any)
		return 0;
	p->origin = calloc(p->nrules, sizeof(*p->origin));
	if (!p->origin)
		return SS_ERR_NOMEM;
	for (size_t i = 0; i < p->nrules; i++)
		if (cp->origin[i] && !(p->origin[i] = strdup(cp->origin[i])))
			return SS_ERR_NOMEM;
	return 0;
}

ss_dpeer *ss_daemon_find_label(ss_daemon *d, const char *label)
{
	for (ss_dpeer *p = d->peers; p; p = p->next)
		if (p->label && !strcmp(p->label, label))
			return p;
	return NULL;
}
