/* SPDX-License-Identifier: MIT */
/*
 * Control-socket requests (docs/PROTOCOL.md 15.5): ss_ctl_split and the set, grant,
 * revoke and sync parsers on arbitrary bytes, as silosecd runs them on what a client sends.
 * An accepted sync must write (ss_ctl_format_sync) and read back to the same peers.
 *
 * The first byte picks how the rest is used: as the whole request, or as the body of a
 * set, grant or revoke whose first line already names a valid peer, so the fuzzer reaches
 * the other keys without first having to find a base64 identity. Refusals must say why;
 * an accepted request must keep the promises ctlserver.c relies on (a usable identity,
 * counts within the arrays, CIDRs and rules that print and parse back to themselves) and
 * must print into a request that parses to the same thing.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "fuzz_tunnel.h"
#include "ctlparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* base64 of 32 x 0x01: a valid identity (test_config.c's K1). */
#define PEER "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="

static const char *const prefixes[] = {
	"",
	"set\npeer=" PEER "\n",
	"grant\npeer=" PEER "\n",
	"revoke\npeer=" PEER "\n",
	"sync\nidentity=" PEER "\n",
	"trust\nname=",
	"discover\n\n",
};

/* An accepted identity is 32 bytes written as canonical base64 in a peer= line. */
static void check_identity(const uint8_t id[SS_IDENTITY_LEN], const char *req)
{
	char b64[SS_B64_KEY_LEN], line[SS_B64_KEY_LEN + 8];

	fuzz_check(ss_identity_check_pub(id) == 0);
	ss_key_to_base64(id, b64);
	snprintf(line, sizeof(line), "peer=%s", b64);
	fuzz_check(strstr(req, line) != NULL);
}

static void check_refusal(int ret, const char *err, size_t errlen)
{
	fuzz_check(ret == SS_ERR_FORMAT || ret == SS_ERR_BAD_KEY || ret == SS_ERR_NOMEM);
	fuzz_check(memchr(err, '\0', errlen) != NULL);
	fuzz_check(err[0] != '\0');
}

static void check_set(const ss_ctl_set_req *r, const char *req, size_t size)
{
	fuzz_check(r->have_peer);
	check_identity(r->identity, req);
	fuzz_check(r->nallowed <= SS_CTL_MAX_ALLOWED);
	for (size_t i = 0; i < r->nallowed; i++)
		fuzz_check_cidr(&r->allowed[i]);
	fuzz_check(r->nallow <= SS_CAP_MAX_RULES);
	fuzz_check(r->have_allow || r->nallow == 0);
	for (size_t i = 0; i < r->nallow; i++)
		fuzz_check_rule(&r->allow[i]);
	fuzz_check(r->keepalive <= 65535 && (r->have_keepalive || r->keepalive == 0));
	if (r->endpoint) {
		char *line;

		/* Bounded by the request, one line of it, as written. */
		fuzz_check(strlen(r->endpoint) < size && !strchr(r->endpoint, '\n'));
		fuzz_check(asprintf(&line, "endpoint=%s", r->endpoint) > 0);
		fuzz_check(strstr(req, line) != NULL);
		free(line);
	}
}

/* The request a client would send for r; allowed_ip lines imply replace, so it comes after. */
static char *print_set(const ss_ctl_set_req *r)
{
	char *out = NULL, b64[SS_B64_KEY_LEN], buf[SS_CAP_RULE_STR];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	fuzz_check(f != NULL);
	ss_key_to_base64(r->identity, b64);
	fprintf(f, "set\npeer=%s\n", b64);
	/* Any value but "true" clears a flag: print a few of them. */
	fprintf(f, "remove=%s\nrekey=%s\n", r->remove ? "true" : "no", r->rekey ? "true" : "0");
	fprintf(f, "reset_timestamp=%s\n", r->reset_timestamp ? "true" : "TRUE");
	if (r->endpoint)
		fprintf(f, "endpoint=%s\n", r->endpoint);
	for (size_t i = 0; i < r->nallowed; i++) {
		ss_cidr_format(&r->allowed[i], buf, sizeof(buf));
		fprintf(f, "allowed_ip=%s\n", buf);
	}
	fprintf(f, "replace_allowed_ips=%s\n", r->replace_allowed ? "true" : "false");
	if (r->have_keepalive)
		fprintf(f, "persistent_keepalive=%u\n", r->keepalive);
	if (r->have_allow)
		fputs(r->nallow ? "allow=" : "allow=none", f);
	for (size_t i = 0; i < r->nallow; i++) {
		ss_cap_rule_format(&r->allow[i], buf, sizeof(buf));
		fprintf(f, "%s%s", i ? ", " : "", buf);
	}
	fputs(r->have_allow ? "\n\n" : "\n", f); /* the allow line's end, the empty line */
	fuzz_check(fclose(f) == 0);
	return out;
}

static bool cidr_equal(const ss_cidr *a, const ss_cidr *b)
{
	return a->family == b->family && a->prefix == b->prefix &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static void check_set_reparse(const ss_ctl_set_req *r, ss_ctl_set_req *back)
{
	char *text = print_set(r), *body, err[SS_CONF_ERR_LEN];
	enum ss_ctl_verb verb;

	fuzz_check(ss_ctl_split(text, strlen(text), &verb, &body, err, sizeof(err)) == 0);
	fuzz_check(verb == SS_CTL_SET);
	fuzz_check(ss_ctl_parse_set(body, back, err, sizeof(err)) == 0);
	fuzz_check(!memcmp(back->identity, r->identity, SS_IDENTITY_LEN));
	fuzz_check(back->remove == r->remove && back->rekey == r->rekey);
	fuzz_check(back->reset_timestamp == r->reset_timestamp);
	fuzz_check(back->replace_allowed == r->replace_allowed);
	fuzz_check(back->have_keepalive == r->have_keepalive && back->keepalive == r->keepalive);
	fuzz_check(!back->endpoint == !r->endpoint);
	fuzz_check(!r->endpoint || !strcmp(back->endpoint, r->endpoint));
	fuzz_check(back->nallowed == r->nallowed);
	for (size_t i = 0; i < r->nallowed; i++)
		fuzz_check(cidr_equal(&back->allowed[i], &r->allowed[i]));
	fuzz_check(back->have_allow == r->have_allow && back->nallow == r->nallow);
	for (size_t i = 0; i < r->nallow; i++)
		fuzz_check(ss_cap_rule_equal(&back->allow[i], &r->allow[i]));
	ss_ctl_set_req_clear(back);
	free(text);
}

static void fuzz_set(char *body, const char *req, size_t size)
{
	ss_ctl_set_req *r = malloc(sizeof(*r)), *back = malloc(sizeof(*r));
	char err[SS_CONF_ERR_LEN];
	int ret;

	fuzz_check(r && back);
	memset(err, 0, sizeof(err));
	ret = ss_ctl_parse_set(body, r, err, sizeof(err));
	if (ret) {
		check_refusal(ret, err, sizeof(err));
		fuzz_check(r->endpoint == NULL);
	} else {
		check_set(r, req, size);
		check_set_reparse(r, back);
		ss_ctl_set_req_clear(r);
	}
	free(back);
	free(r);
}

/* Plain seconds only go up to 9 digits; larger accepted values are whole minutes. */
static void print_seconds(char *buf, size_t len, uint32_t s)
{
	if (s < 1000000000)
		snprintf(buf, len, "%u", s);
	else
		snprintf(buf, len, "%um", s / 60);
}

static void check_grant_reparse(const ss_ctl_grant_req *r, bool grant)
{
	char text[256], rule[SS_CAP_RULE_STR] = "", secs[16] = "", b64[SS_B64_KEY_LEN];
	char err[SS_CONF_ERR_LEN], *body;
	ss_ctl_grant_req back;
	enum ss_ctl_verb verb;
	int n;

	ss_key_to_base64(r->identity, b64);
	if (r->have_rule)
		ss_cap_rule_format(&r->rule, rule, sizeof(rule));
	if (r->seconds)
		print_seconds(secs, sizeof(secs), r->seconds);
	n = snprintf(text, sizeof(text), "%s\npeer=%s\n%s%s%s%s%s%s\n", grant ? "grant" : "revoke",
		     b64, r->have_rule ? "rule=" : "", rule, r->have_rule ? "\n" : "",
		     r->seconds ? "seconds=" : "", secs, r->seconds ? "\n" : "");
	fuzz_check(n > 0 && (size_t)n < sizeof(text));
	fuzz_check(ss_ctl_split(text, (size_t)n, &verb, &body, err, sizeof(err)) == 0);
	fuzz_check(verb == (grant ? SS_CTL_GRANT : SS_CTL_REVOKE));
	fuzz_check(ss_ctl_parse_grant(body, grant, &back, err, sizeof(err)) == 0);
	fuzz_check(!memcmp(back.identity, r->identity, SS_IDENTITY_LEN));
	fuzz_check(back.have_rule == r->have_rule && back.seconds == r->seconds);
	fuzz_check(!r->have_rule || ss_cap_rule_equal(&back.rule, &r->rule));
}

static void fuzz_grant(char *body, bool grant, const char *req)
{
	char err[SS_CONF_ERR_LEN];
	ss_ctl_grant_req r;
	int ret;

	memset(err, 0, sizeof(err));
	ret = ss_ctl_parse_grant(body, grant, &r, err, sizeof(err));
	if (ret) {
		check_refusal(ret, err, sizeof(err));
		return;
	}
	fuzz_check(r.have_peer);
	check_identity(r.identity, req);
	fuzz_check(!grant || (r.have_rule && r.seconds > 0));
	if (r.have_rule)
		fuzz_check_rule(&r.rule);
	check_grant_reparse(&r, grant);
}

static bool str_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void check_sync_peer(const ss_conf_peer *a, const ss_conf_peer *b)
{
	fuzz_check(a->tofu == b->tofu);
	fuzz_check(a->tofu || !memcmp(a->identity, b->identity, SS_IDENTITY_LEN));
	fuzz_check(a->tofu || ss_identity_check_pub(a->identity) == 0);
	fuzz_check(str_equal(a->endpoint, b->endpoint) && str_equal(a->resolved, b->resolved));
	fuzz_check(a->nallowed == b->nallowed);
	for (size_t i = 0; i < a->nallowed; i++) {
		fuzz_check_cidr(&a->allowed[i]);
		fuzz_check(cidr_equal(&a->allowed[i], &b->allowed[i]));
	}
	fuzz_check(a->has_allow == b->has_allow && a->nallow == b->nallow);
	fuzz_check(a->nallow <= SS_CAP_MAX_RULES);
	for (size_t i = 0; i < a->nallow; i++) {
		fuzz_check_rule(&a->allow[i]);
		fuzz_check(ss_cap_rule_equal(&a->allow[i], &b->allow[i]));
	}
	fuzz_check(a->keepalive == b->keepalive && a->keepalive <= 65535);
	fuzz_check(a->introducer == b->introducer && a->introduce == b->introduce);
	fuzz_check(a->relay == b->relay && a->relay <= SS_CONF_RELAY_SERVE);
	/* As in the file: a TOFU peer is never an introducer or a relay. */
	fuzz_check(!a->tofu || (!a->introducer && a->relay == SS_CONF_RELAY_NO));
}

/* The interface's reachability keys travel whole (the writer always writes them). */
static void check_sync_reach(const ss_ctl_sync_req *a, const ss_ctl_sync_req *b)
{
	const unsigned keys = SS_SYNC_LAN_DISCOVERY | SS_SYNC_ADVERTISE_LOCAL | SS_SYNC_CAND_ALLOW |
			      SS_SYNC_PRIVATE;

	fuzz_check((b->given & keys) == keys);
	fuzz_check(a->conf->lan_discovery == b->conf->lan_discovery);
	fuzz_check(a->conf->lan_discovery <= SS_LAN_MODE_OPEN);
	fuzz_check(a->conf->advertise_local == b->conf->advertise_local);
	fuzz_check(a->conf->private_host == b->conf->private_host);
	fuzz_check(a->conf->ncand_allow == b->conf->ncand_allow);
	fuzz_check(a->conf->ncand_allow <= SS_CAND_ALLOW_MAX);
	for (size_t i = 0; i < a->conf->ncand_allow; i++) {
		fuzz_check_cidr(&a->conf->cand_allow[i]);
		fuzz_check(cidr_equal(&a->conf->cand_allow[i], &b->conf->cand_allow[i]));
	}
}

static void fuzz_sync(char *body)
{
	char err[SS_CONF_ERR_LEN], *text, *b;
	ss_ctl_sync_req r, back;
	enum ss_ctl_verb verb;
	int ret;

	memset(err, 0, sizeof(err));
	ret = ss_ctl_parse_sync(body, &r, err, sizeof(err));
	if (ret) {
		check_refusal(ret, err, sizeof(err));
		fuzz_check(r.conf == NULL);
		return;
	}
	/* Without identity= the daemon compares no key; the writer always writes one. */
	if (!(r.given & SS_SYNC_IDENTITY)) {
		ss_ctl_sync_req_clear(&r);
		return;
	}
	text = ss_ctl_format_sync(r.conf, r.identity);
	fuzz_check(text != NULL);
	fuzz_check(ss_ctl_split(text, strlen(text), &verb, &b, err, sizeof(err)) == 0);
	fuzz_check(verb == SS_CTL_SYNC);
	fuzz_check(ss_ctl_parse_sync(b, &back, err, sizeof(err)) == 0);
	fuzz_check(back.conf->npeers == r.conf->npeers);
	for (size_t i = 0; i < r.conf->npeers; i++)
		check_sync_peer(&r.conf->peers[i], &back.conf->peers[i]);
	fuzz_check(back.conf->policy_allow == r.conf->policy_allow);
	check_sync_reach(&r, &back);
	ss_ctl_sync_req_clear(&back);
	ss_ctl_sync_req_clear(&r);
	free(text);
}

/* trust: one name=HOST:PORT line, copied whole into name, or a refusal that says why. */
static void fuzz_trust(char *body)
{
	char name[300], err[SS_CONF_ERR_LEN]; /* as ctlserver.c gives it */
	int ret;

	memset(err, 0, sizeof(err));
	ret = ss_ctl_parse_trust(body, name, sizeof(name), err, sizeof(err));
	if (ret) {
		check_refusal(ret, err, sizeof(err));
		return;
	}
	fuzz_check(memchr(name, '\0', sizeof(name)) != NULL);
	fuzz_check(ss_endpoint_check(name) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *prefix;
	char *buf, *req, *body, err[SS_CONF_ERR_LEN];
	enum ss_ctl_verb verb;
	size_t len;
	int ret;

	if (size == 0)
		return 0;
	prefix = prefixes[data[0] % (sizeof(prefixes) / sizeof(prefixes[0]))];
	len = strlen(prefix) + size - 1;
	/* Exactly sized, so ASan sees any read past the request; req keeps the original. */
	buf = malloc(len + 1);
	req = malloc(len + 1);
	fuzz_check(buf && req);
	memcpy(buf, prefix, strlen(prefix));
	memcpy(buf + strlen(prefix), data + 1, size - 1);
	buf[len] = '\0';
	memcpy(req, buf, len + 1);
	memset(err, 0, sizeof(err));
	ret = ss_ctl_split(buf, len, &verb, &body, err, sizeof(err));
	if (ret) {
		fuzz_check(ret == SS_ERR_FORMAT);
		check_refusal(ret, err, sizeof(err));
	} else {
		fuzz_check(body >= buf && body <= buf + len && strlen(body) <= len);
		if (verb == SS_CTL_SET)
			fuzz_set(body, req, len);
		else if (verb == SS_CTL_GRANT || verb == SS_CTL_REVOKE)
			fuzz_grant(body, verb == SS_CTL_GRANT, req);
		else if (verb == SS_CTL_SYNC)
			fuzz_sync(body);
		else if (verb == SS_CTL_TRUST)
			fuzz_trust(body);
		else
			fuzz_check(verb == SS_CTL_GET || verb == SS_CTL_DISCOVER);
	}
	free(req);
	free(buf);
	return 0;
}
