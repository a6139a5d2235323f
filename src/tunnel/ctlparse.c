/* SPDX-License-Identifier: MIT */
/*
 * Control-socket requests from bytes to structs (ctlparse.h). Kept apart from
 * ctlserver.c so the parsers can be unit-tested and fuzzed without a daemon.
 */
#include "ctlparse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "common/fdio.h"

#define READ_TIMEOUT_MS 2000

ssize_t ss_ctl_read_request(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	while (len + 1 < cap) {
		/* The empty line may straddle two reads: look from the last old byte. */
		size_t from = len ? len - 1 : 0;
		ssize_t n = ss_read_append(fd, buf, &len, cap, READ_TIMEOUT_MS);

		if (n <= 0)
			return n < 0 ? n : (ssize_t)len;
		if (memmem(buf + from, len - from, "\n\n", 2))
			return (ssize_t)len;
	}
	/* Full without its end: a cut request could mean something else ("/24" as "/2"). */
	return SS_ERR_BUFFER;
}

static const struct {
	const char *name;
	enum ss_ctl_verb verb;
	bool body; /* needs key=value lines after the verb line */
} verbs[] = {
	{"get", SS_CTL_GET, false},
	{"set", SS_CTL_SET, true},
	{"grant", SS_CTL_GRANT, true},
	{"revoke", SS_CTL_REVOKE, true},
};

int ss_ctl_split(char *buf, size_t len, enum ss_ctl_verb *verb, char **body, char *err,
		 size_t errlen)
{
	char *end = memmem(buf, len, "\n\n", 2);

	/* The request ends at its empty line: whatever follows is not part of it. */
	if (end)
		len = (size_t)(end - buf) + 1;
	/* A NUL would silently cut a value short; refuse rather than guess. */
	if (memchr(buf, '\0', len)) {
		snprintf(err, errlen, "request holds a NUL byte");
		return SS_ERR_FORMAT;
	}
	buf[len] = '\0';
	*body = strchr(buf, '\n');
	if (*body)
		*(*body)++ = '\0';
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(buf, verbs[i].name) || (verbs[i].body && !*body))
			continue;
		*verb = verbs[i].verb;
		if (!*body)
			*body = buf + len;
		return 0;
	}
	snprintf(err, errlen, "unknown request '%.32s'", buf);
	return SS_ERR_FORMAT;
}

typedef int (*kv_fn)(void *req, char *key, char *val, char *err, size_t errlen);

/* The body grammar shared by set, grant and revoke: KEY=VALUE lines, empty ones skipped. */
static int for_each_kv(char *body, kv_fn fn, void *req, char *err, size_t errlen)
{
	char *save, *line;

	for (line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		int ret;

		if (!eq) {
			snprintf(err, errlen, "malformed line '%.64s'", line);
			return SS_ERR_FORMAT;
		}
		*eq = '\0';
		ret = fn(req, line, eq + 1, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* Decode a peer= value; the same refusal of weak keys as the configuration file. */
static int parse_identity(const char *val, uint8_t id[SS_IDENTITY_LEN], char *err, size_t errlen)
{
	if (ss_key_from_base64(val, id))
		return SS_ERR_FORMAT;
	if (ss_identity_check_pub(id)) {
		snprintf(err, errlen,
			 "SS_ERR_BAD_KEY: peer '%.64s' has small order or is not canonical", val);
		return SS_ERR_BAD_KEY;
	}
	return 0;
}

/* ---- set ---- */

static int set_peer(ss_ctl_set_req *r, const char *val, char *err, size_t errlen)
{
	int ret = r->have_peer ? SS_ERR_FORMAT : parse_identity(val, r->identity, err, errlen);

	if (ret == SS_ERR_FORMAT)
		snprintf(err, errlen, "peer: '%s' is not a base64 identity (one per request)", val);
	if (!ret)
		r->have_peer = true;
	return ret;
}

static int set_allowed_ip(ss_ctl_set_req *r, const char *val, char *err, size_t errlen)
{
	if (r->nallowed == SS_CTL_MAX_ALLOWED) {
		snprintf(err, errlen, "allowed-ips: more than %d entries", SS_CTL_MAX_ALLOWED);
		return SS_ERR_FORMAT;
	}
	if (ss_cidr_parse(val, &r->allowed[r->nallowed])) {
		snprintf(err, errlen, "allowed-ips: '%s' is not an address/prefix", val);
		return SS_ERR_FORMAT;
	}
	r->nallowed++;
	r->replace_allowed = true;
	return 0;
}

/* The last allow= line wins, as endpoint= does: "allow=none" must not keep earlier rules. */
static int set_allow(ss_ctl_set_req *r, const char *val, char *err, size_t errlen)
{
	char why[160];

	r->have_allow = true;
	r->nallow = 0;
	if (strcmp(val, "none") &&
	    ss_cap_list_parse(val, r->allow, SS_CAP_MAX_RULES, &r->nallow, why, sizeof(why))) {
		snprintf(err, errlen, "allow: %s", why);
		return SS_ERR_FORMAT;
	}
	return 0;
}

static int set_keepalive(ss_ctl_set_req *r, const char *val, char *err, size_t errlen)
{
	char *end;
	unsigned long v = strtoul(val, &end, 10);

	if (!strcmp(val, "off")) {
		v = 0;
	} else if (*end || !*val || v > 65535) {
		snprintf(err, errlen, "persistent-keepalive: '%s' is not 0..65535 or off", val);
		return SS_ERR_FORMAT;
	}
	r->keepalive = (uint32_t)v;
	r->have_keepalive = true;
	return 0;
}

static int set_endpoint(ss_ctl_set_req *r, const char *val, char *err, size_t errlen)
{
	free(r->endpoint);
	r->endpoint = strdup(val);
	if (r->endpoint)
		return 0;
	snprintf(err, errlen, "out of memory");
	return SS_ERR_NOMEM;
}

static int set_line(void *req, char *key, char *val, char *err, size_t errlen)
{
	ss_ctl_set_req *r = req;

	/* Flags: only "true" sets one (PROTOCOL.md 15.5); any other value clears it. */
	if (!strcmp(key, "remove"))
		r->remove = !strcmp(val, "true");
	else if (!strcmp(key, "rekey"))
		r->rekey = !strcmp(val, "true");
	else if (!strcmp(key, "reset_timestamp"))
		r->reset_timestamp = !strcmp(val, "true");
	else if (!strcmp(key, "replace_allowed_ips"))
		r->replace_allowed = !strcmp(val, "true");
	else if (!strcmp(key, "peer"))
		return set_peer(r, val, err, errlen);
	else if (!strcmp(key, "endpoint"))
		return set_endpoint(r, val, err, errlen);
	else if (!strcmp(key, "allowed_ip"))
		return set_allowed_ip(r, val, err, errlen);
	else if (!strcmp(key, "allow"))
		return set_allow(r, val, err, errlen);
	else if (!strcmp(key, "persistent_keepalive"))
		return set_keepalive(r, val, err, errlen);
	else {
		snprintf(err, errlen, "unknown key '%s'", key);
		return SS_ERR_FORMAT;
	}
	return 0;
}

void ss_ctl_set_req_clear(ss_ctl_set_req *r)
{
	free(r->endpoint);
	r->endpoint = NULL;
}

int ss_ctl_parse_set(char *body, ss_ctl_set_req *r, char *err, size_t errlen)
{
	int ret;

	memset(r, 0, sizeof(*r));
	ret = for_each_kv(body, set_line, r, err, errlen);
	if (!ret && !r->have_peer) {
		snprintf(err, errlen, "set: no peer given");
		ret = SS_ERR_FORMAT;
	}
	if (ret)
		ss_ctl_set_req_clear(r);
	return ret;
}

/* ---- grant / revoke ---- */

static int grant_line(void *req, char *key, char *val, char *err, size_t errlen)
{
	ss_ctl_grant_req *r = req;
	char why[160];
	int ret;

	if (!strcmp(key, "peer")) {
		ret = r->have_peer ? SS_ERR_FORMAT : parse_identity(val, r->identity, err, errlen);
		if (ret == SS_ERR_FORMAT)
			snprintf(err, errlen, "peer: '%.64s' is not a base64 identity", val);
		if (!ret)
			r->have_peer = true;
		return ret;
	}
	if (!strcmp(key, "rule")) {
		if (r->have_rule || ss_cap_rule_parse(val, &r->rule, why, sizeof(why))) {
			snprintf(err, errlen, "rule: %s", r->have_rule ? "one per request" : why);
			return SS_ERR_FORMAT;
		}
		r->have_rule = true;
		return 0;
	}
	if (!strcmp(key, "seconds")) {
		if (!ss_duration_parse(val, &r->seconds))
			return 0;
		snprintf(err, errlen, "seconds: '%.32s' is not a duration", val);
		return SS_ERR_FORMAT;
	}
	snprintf(err, errlen, "unknown key '%.32s'", key);
	return SS_ERR_FORMAT;
}

int ss_ctl_parse_grant(char *body, bool grant, ss_ctl_grant_req *r, char *err, size_t errlen)
{
	int ret;

	memset(r, 0, sizeof(*r));
	ret = for_each_kv(body, grant_line, r, err, errlen);
	if (ret)
		return ret;
	if (!r->have_peer || (grant && (!r->have_rule || !r->seconds))) {
		snprintf(err, errlen, "%s: needs peer=%s", grant ? "grant" : "revoke",
			 grant ? ", rule= and seconds=" : "");
		return SS_ERR_FORMAT;
	}
	return 0;
}
