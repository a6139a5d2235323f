/* SPDX-License-Identifier: MIT */
/*
 * Control-socket requests without a daemon (ctlparse.h): reading one off a socket, the
 * verb line, and the set, grant and revoke bodies with every refusal and its message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <silosec/error.h>

#include "ctlparse.h"
#include "helpers.h"

/* base64 of 32 x 0x01 and 32 x 0x02 (test_config.c); the identity point, a weak key. */
#define K1 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define K2 "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
#define WEAK "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

/* A request in a heap buffer of its exact size, so ASan sees a read past it. */
static char *dup_req(const char *text, size_t len)
{
	char *buf = malloc(len + 1);

	assert_non_null(buf);
	memcpy(buf, text, len);
	buf[len] = '\0';
	return buf;
}

static int split(char *buf, size_t len, enum ss_ctl_verb *verb, char **body, char *err)
{
	memset(err, 0, SS_CONF_ERR_LEN);
	return ss_ctl_split(buf, len, verb, body, err, SS_CONF_ERR_LEN);
}

/* Split and parse "set\n" + body; r is left to the caller to clear. */
static int parse_set(const char *body, ss_ctl_set_req *r, char *err)
{
	char *text, *buf, *b;
	enum ss_ctl_verb verb;
	int ret;

	assert_true(asprintf(&text, "set\n%s\n", body) > 0);
	buf = dup_req(text, strlen(text));
	assert_int_equal(split(buf, strlen(buf), &verb, &b, err), 0);
	assert_int_equal(verb, SS_CTL_SET);
	ret = ss_ctl_parse_set(b, r, err, SS_CONF_ERR_LEN);
	free(buf);
	free(text);
	return ret;
}

static ss_ctl_set_req *set_ok(const char *body)
{
	ss_ctl_set_req *r = malloc(sizeof(*r));
	char err[SS_CONF_ERR_LEN];
	int ret;

	assert_non_null(r);
	ret = parse_set(body, r, err);
	if (ret)
		fail_msg("want success for\n%s\ngot %d: %s", body, ret, err);
	return r;
}

static void set_free(ss_ctl_set_req *r)
{
	ss_ctl_set_req_clear(r);
	free(r);
}

/* body sets a keepalive of want. */
static void keepalive_is(const char *body, uint16_t want)
{
	ss_ctl_set_req *r = set_ok(body);

	assert_true(r->have_keepalive);
	assert_int_equal(r->keepalive, want);
	set_free(r);
}

/* body sets an empty rule list (allow=none). */
static void allow_none(const char *body)
{
	ss_ctl_set_req *r = set_ok(body);

	assert_true(r->have_allow);
	assert_int_equal(r->nallow, 0);
	set_free(r);
}

/* Expects code and a message that contains want; nothing is left allocated. */
static void set_fails(const char *body, int code, const char *want)
{
	ss_ctl_set_req *r = malloc(sizeof(*r));
	char err[SS_CONF_ERR_LEN];
	int ret;

	assert_non_null(r);
	ret = parse_set(body, r, err);
	if (ret != code || !strstr(err, want))
		fail_msg("want %d \"%s\" for\n%s\ngot %d \"%s\"", code, want, body, ret, err);
	assert_null(r->endpoint);
	free(r);
}

static int parse_grant(const char *verb_line, const char *body, ss_ctl_grant_req *r, char *err)
{
	char *text, *buf, *b;
	enum ss_ctl_verb verb;
	bool grant = !strcmp(verb_line, "grant");
	int ret;

	assert_true(asprintf(&text, "%s\n%s\n", verb_line, body) > 0);
	buf = dup_req(text, strlen(text));
	assert_int_equal(split(buf, strlen(buf), &verb, &b, err), 0);
	assert_int_equal(verb, grant ? SS_CTL_GRANT : SS_CTL_REVOKE);
	ret = ss_ctl_parse_grant(b, grant, r, err, SS_CONF_ERR_LEN);
	free(buf);
	free(text);
	return ret;
}

static void grant_fails(const char *verb, const char *body, int code, const char *want)
{
	char err[SS_CONF_ERR_LEN];
	ss_ctl_grant_req r;
	int ret = parse_grant(verb, body, &r, err);

	if (ret != code || !strstr(err, want))
		fail_msg("want %d \"%s\" for %s\n%s\ngot %d \"%s\"", code, want, verb, body, ret,
			 err);
}

static void assert_cidr(const ss_cidr *c, const char *want)
{
	char buf[64];

	ss_cidr_format(c, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void assert_rule(const ss_cap_rule *r, const char *want)
{
	char buf[SS_CAP_RULE_STR];

	ss_cap_rule_format(r, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* ---- the verb line ---- */

/* A literal and its length, NULs inside included. */
#define L(s) s, sizeof(s) - 1

static void split_verbs(void **state)
{
	static const struct {
		const char *req;
		size_t len;
		enum ss_ctl_verb verb;
		const char *body;
	} ok[] = {
		{L("get\n\n"), SS_CTL_GET, ""},
		{L("get"), SS_CTL_GET, ""},
		{L("get\nignored=1\n"), SS_CTL_GET, "ignored=1\n"},
		{L("set\npeer=" K1 "\n\n"), SS_CTL_SET, "peer=" K1 "\n"},
		{L("set\n"), SS_CTL_SET, ""},
		{L("grant\nrule=any\n\n"), SS_CTL_GRANT, "rule=any\n"},
		{L("revoke\npeer=x"), SS_CTL_REVOKE, "peer=x"},
		{L("discover\n\n"), SS_CTL_DISCOVER, ""},
		/* The request ends at its empty line; a NUL after it is not part of it. */
		{L("set\npeer=" K1 "\n\nremove=true\n\0x"), SS_CTL_SET, "peer=" K1 "\n"},
	};
	char err[SS_CONF_ERR_LEN], *body;
	enum ss_ctl_verb verb;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *buf = dup_req(ok[i].req, ok[i].len);

		if (split(buf, ok[i].len, &verb, &body, err))
			fail_msg("'%s': %s", ok[i].req, err);
		assert_int_equal(verb, ok[i].verb);
		assert_string_equal(body, ok[i].body);
		free(buf);
	}
}

static void split_refusals(void **state)
{
	static const struct {
		const char *req;
		size_t len;
		const char *want;
	} bad[] = {
		{L(""), "unknown request ''"},
		{L("\n\n"), "unknown request ''"},
		{L("GET\n\n"), "unknown request 'GET'"},
		{L("get \n\n"), "unknown request 'get '"},
		{L("set"), "unknown request 'set'"}, /* set, grant and revoke need a body */
		{L("grant"), "unknown request 'grant'"},
		{L("revoke"), "unknown request 'revoke'"},
		{L("set\r\npeer=x\n"), "unknown request 'set\r'"},
		{L("0123456789012345678901234567890123456789\n"),
		 "unknown request '01234567890123456789012345678901'"},
		/* A NUL would cut "/24" to "/2" unseen. */
		{L("get\0\n\n"), "request holds a NUL byte"},
		{L("set\npeer=" K1 "\nallowed_ip=10.0.0.0/2\0"
		   "4\n\n"),
		 "request holds a NUL byte"},
	};
	char err[SS_CONF_ERR_LEN], *body;
	enum ss_ctl_verb verb;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *buf = dup_req(bad[i].req, bad[i].len);

		assert_int_equal(split(buf, bad[i].len, &verb, &body, err), SS_ERR_FORMAT);
		assert_string_equal(err, bad[i].want);
		free(buf);
	}
}

/* ---- set ---- */

static void set_every_key(void **state)
{
	ss_ctl_set_req *r = set_ok("peer=" K1 "\n"
				   "endpoint=192.0.2.1:51999\n"
				   "allowed_ip=10.0.0.1/24\n"
				   "allowed_ip=fd00::2\n"
				   "persistent_keepalive=25\n"
				   "allow=tcp 22, udp 53 to 10.0.0.0/8, icmp\n"
				   "rekey=true\n"
				   "reset_timestamp=true\n");

	(void)state;
	assert_true(r->have_peer);
	for (int i = 0; i < SS_IDENTITY_LEN; i++)
		assert_int_equal(r->identity[i], 1);
	assert_string_equal(r->endpoint, "192.0.2.1:51999");
	assert_int_equal(r->nallowed, 2);
	assert_cidr(&r->allowed[0], "10.0.0.1/24"); /* host bits as written */
	assert_cidr(&r->allowed[1], "fd00::2/128");
	assert_true(r->replace_allowed);
	assert_true(r->have_keepalive);
	assert_int_equal(r->keepalive, 25);
	assert_true(r->have_allow);
	assert_int_equal(r->nallow, 3);
	assert_rule(&r->allow[0], "tcp 22");
	assert_rule(&r->allow[1], "udp 53 to 10.0.0.0/8");
	assert_rule(&r->allow[2], "icmp");
	assert_true(r->rekey);
	assert_true(r->reset_timestamp);
	assert_false(r->remove);
	set_free(r);
}

static void set_minimal_and_flags(void **state)
{
	ss_ctl_set_req *r = set_ok("peer=" K2);

	(void)state;
	assert_null(r->endpoint);
	assert_false(r->remove || r->rekey || r->replace_allowed || r->have_keepalive ||
		     r->have_allow || r->reset_timestamp);
	assert_int_equal(r->nallowed + r->nallow, 0);
	set_free(r);
	/* Only "true" sets a flag; replace with no allowed_ip means an empty list. */
	r = set_ok("peer=" K2 "\nremove=true\nrekey=yes\nreplace_allowed_ips=true\n"
		   "reset_timestamp=1");
	assert_true(r->remove && !r->rekey && r->replace_allowed && !r->reset_timestamp);
	assert_int_equal(r->nallowed, 0);
	set_free(r);
	/* The peer need not come first. */
	keepalive_is("persistent_keepalive=off\npeer=" K2 "\n", 0);
	keepalive_is("peer=" K2 "\npersistent_keepalive=65535\nallow=none", 65535);
	allow_none("peer=" K2 "\npersistent_keepalive=65535\nallow=none");
}

/* Repeated keys: the last endpoint= and allow= win, allowed_ip= appends. */
static void set_repeated_keys(void **state)
{
	ss_ctl_set_req *r = set_ok("peer=" K1 "\nendpoint=a:1\nendpoint=[fd00::1]:2\n"
				   "allow=tcp 22\nallow=udp 53\nallowed_ip=10.0.0.1\n"
				   "allowed_ip=10.0.0.2\n");

	(void)state;
	assert_string_equal(r->endpoint, "[fd00::1]:2");
	assert_int_equal(r->nallow, 1);
	assert_rule(&r->allow[0], "udp 53");
	assert_int_equal(r->nallowed, 2);
	set_free(r);
	/* "allow=none" after rules leaves none (it used to keep the earlier ones). */
	allow_none("peer=" K1 "\nallow=tcp 22, tcp 80\nallow=none\n");
	/* A later replace_allowed_ips=false drops the list, as before. */
	r = set_ok("peer=" K1 "\nallowed_ip=10.0.0.1\nreplace_allowed_ips=false\n");
	assert_false(r->replace_allowed);
	set_free(r);
}

static void set_errors(void **state)
{
	static const struct {
		const char *body;
		const char *want;
	} format_errors[] = {
		{"", "set: no peer given"},
		{"endpoint=192.0.2.1:1\nrekey=true", "set: no peer given"},
		{"peer=" K1 "\nremove", "malformed line 'remove'"},
		{"peer=nope", "peer: 'nope' is not a base64 identity (one per request)"},
		{"peer=" K1 "\npeer=" K2,
		 "peer: '" K2 "' is not a base64 identity (one per request)"},
		{"peer=" K1 "=", "is not a base64 identity"},
		{"peer=" K1 "\nallowed_ip=10.0.0.0/33",
		 "allowed-ips: '10.0.0.0/33' is not an address/prefix"},
		{"peer=" K1 "\nallowed_ip=", "allowed-ips: '' is not an address/prefix"},
		{"peer=" K1 "\nallow=tcp 70000", "allow: expected PORT or PORT-PORT"},
		{"peer=" K1 "\nallow=", "allow: empty rule"},
		{"peer=" K1 "\nallow=tcp 22,", "allow: empty rule"},
		{"peer=" K1 "\nallow=icmp 5", "allow: ports only go with"},
		{"peer=" K1 "\npersistent_keepalive=65536",
		 "persistent-keepalive: '65536' is not 0..65535 or off"},
		{"peer=" K1 "\npersistent_keepalive=",
		 "persistent-keepalive: '' is not 0..65535 or off"},
		{"peer=" K1 "\npersistent_keepalive=12x", "'12x' is not"},
		{"peer=" K1 "\npersistent_keepalive=-1", "'-1' is not"},
		{"peer=" K1 "\npersistent_keepalive=99999999999999999999999",
		 "is not 0..65535 or off"},
		{"peer=" K1 "\nbogus=1", "unknown key 'bogus'"},
		{"peer=" K1 "\nPeer=" K1, "unknown key 'Peer'"},
		{"peer=" K1 "\n=1", "unknown key ''"},
		{"peer=" K1 "\nrekey =true", "unknown key 'rekey '"},
		{"peer=" K1 "\nreset-timestamp=true", "unknown key 'reset-timestamp'"},
		{"peer=" K1 "\nreset_timestamp", "malformed line 'reset_timestamp'"},
		/* Refused after an endpoint= was kept: it is released (ASan checks the leak). */
		{"peer=" K1 "\nendpoint=a:1\nbogus=1", "unknown key 'bogus'"},
		{"endpoint=a:1", "set: no peer given"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(format_errors) / sizeof(format_errors[0]); i++)
		set_fails(format_errors[i].body, SS_ERR_FORMAT, format_errors[i].want);
	set_fails("peer=" WEAK, SS_ERR_BAD_KEY,
		  "SS_ERR_BAD_KEY: peer '" WEAK "' has small order or is not canonical");
}

/* The first refusal is the one reported; nothing after it is looked at. */
static void set_first_error_wins(void **state)
{
	(void)state;
	set_fails("peer=" K1 "\nbogus=1\nallowed_ip=x\nno-equals", SS_ERR_FORMAT,
		  "unknown key 'bogus'");
	set_fails("no-equals\npeer=nope", SS_ERR_FORMAT, "malformed line 'no-equals'");
}

static void set_allowed_bound(void **state)
{
	size_t cap = (SS_CTL_MAX_ALLOWED + 2) * 32, n = 0;
	char *body = malloc(cap);
	ss_ctl_set_req *r;

	(void)state;
	assert_non_null(body);
	n += (size_t)snprintf(body + n, cap - n, "peer=%s\n", K1);
	for (int i = 0; i < SS_CTL_MAX_ALLOWED; i++)
		n += (size_t)snprintf(body + n, cap - n, "allowed_ip=10.%d.%d.0/24\n", i / 256,
				      i % 256);
	r = set_ok(body);
	assert_int_equal(r->nallowed, SS_CTL_MAX_ALLOWED);
	assert_cidr(&r->allowed[SS_CTL_MAX_ALLOWED - 1], "10.0.255.0/24");
	set_free(r);
	snprintf(body + n, cap - n, "allowed_ip=fd00::1\n");
	set_fails(body, SS_ERR_FORMAT, "allowed-ips: more than 256 entries");
	free(body);
}

static void set_allow_bound(void **state)
{
	char body[SS_CAP_MAX_RULES * 16 + 128];
	size_t n = 0;
	ss_ctl_set_req *r;

	(void)state;
	n += (size_t)snprintf(body + n, sizeof(body) - n, "peer=%s\nallow=", K1);
	for (int i = 0; i < SS_CAP_MAX_RULES; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%stcp %d", i ? ", " : "",
				      1000 + i);
	r = set_ok(body);
	assert_int_equal(r->nallow, SS_CAP_MAX_RULES);
	assert_rule(&r->allow[SS_CAP_MAX_RULES - 1], "tcp 1063");
	set_free(r);
	snprintf(body + n, sizeof(body) - n, ", udp 53");
	set_fails(body, SS_ERR_FORMAT, "allow: more than 64 rules");
}

/* Over-long lines: values are kept whole, messages are cut to fit err and terminated. */
static void set_long_lines(void **state)
{
	size_t big = 60000;
	char *val = malloc(big + 1), *body = malloc(big + 64), err[SS_CONF_ERR_LEN];
	ss_ctl_set_req *r;

	(void)state;
	assert_true(val && body);
	memset(val, 'a', big);
	val[big] = '\0';
	/* An endpoint is checked when applied, so a long one parses as written. */
	snprintf(body, big + 64, "peer=%s\nendpoint=%s:1", K1, val);
	r = set_ok(body);
	assert_int_equal(strlen(r->endpoint), big + 2);
	set_free(r);

	snprintf(body, big + 64, "peer=%s\n%s", K1, val);
	set_fails(body, SS_ERR_FORMAT, "malformed line 'aaaa");
	r = malloc(sizeof(*r));
	assert_non_null(r);
	assert_int_equal(parse_set(body, r, err), SS_ERR_FORMAT);
	assert_int_equal(strlen(err), strlen("malformed line ''") + 64);
	free(r);

	snprintf(body, big + 64, "peer=%s", val);
	set_fails(body, SS_ERR_FORMAT, "peer: 'aaaa");
	snprintf(body, big + 64, "peer=%s\n%s=1", K1, val);
	set_fails(body, SS_ERR_FORMAT, "unknown key 'aaaa");
	r = malloc(sizeof(*r));
	assert_non_null(r);
	assert_int_equal(parse_set(body, r, err), SS_ERR_FORMAT);
	assert_int_equal(strlen(err), SS_CONF_ERR_LEN - 1);
	free(r);
	snprintf(body, big + 64, "peer=%s\nallow=tcp %s", K1, val);
	set_fails(body, SS_ERR_FORMAT, "allow: rule too long");
	free(body);
	free(val);
}

/* ---- grant / revoke ---- */

static void grant_good(void **state)
{
	char err[SS_CONF_ERR_LEN];
	ss_ctl_grant_req r;

	(void)state;
	assert_int_equal(parse_grant("grant",
				     "peer=" K1 "\nrule=tcp 8000-8080 to fd00::1/64\nseconds=5m",
				     &r, err),
			 0);
	assert_true(r.have_peer && r.have_rule);
	assert_int_equal(r.identity[31], 1);
	assert_rule(&r.rule, "tcp 8000-8080 to fd00::/64");
	assert_int_equal(r.seconds, 300);
	/* The cap is the daemon's to check (it audits the refusal). */
	assert_int_equal(parse_grant("grant", "seconds=2d\nrule=any\npeer=" K2, &r, err), 0);
	assert_int_equal(r.seconds, 2 * 86400);
	/* A repeated seconds= wins, but not after the empty line that ends the request. */
	assert_int_equal(
		parse_grant("grant", "peer=" K2 "\nrule=icmp\nseconds=1h\nseconds=30s", &r, err),
		0);
	assert_int_equal(r.seconds, 30);
	assert_int_equal(
		parse_grant("grant", "peer=" K2 "\nrule=icmp\nseconds=1h\n\nseconds=30s", &r, err),
		0);
	assert_int_equal(r.seconds, 3600);
	assert_int_equal(parse_grant("revoke", "peer=" K1, &r, err), 0);
	assert_false(r.have_rule);
	assert_int_equal(parse_grant("revoke", "peer=" K1 "\nrule=udp 53", &r, err), 0);
	assert_true(r.have_rule);
	assert_rule(&r.rule, "udp 53");
}

static void grant_errors(void **state)
{
	(void)state;
	grant_fails("grant", "", SS_ERR_FORMAT, "grant: needs peer=, rule= and seconds=");
	grant_fails("grant", "peer=" K1 "\nrule=any", SS_ERR_FORMAT,
		    "grant: needs peer=, rule= and seconds=");
	grant_fails("grant", "peer=" K1 "\nseconds=1", SS_ERR_FORMAT,
		    "grant: needs peer=, rule= and seconds=");
	grant_fails("grant", "rule=any\nseconds=1", SS_ERR_FORMAT,
		    "grant: needs peer=, rule= and seconds=");
	grant_fails("revoke", "rule=any", SS_ERR_FORMAT, "revoke: needs peer=");
	grant_fails("grant", "peer=nope", SS_ERR_FORMAT, "peer: 'nope' is not a base64 identity");
	grant_fails("revoke", "peer=" K1 "\npeer=" K1, SS_ERR_FORMAT,
		    "peer: '" K1 "' is not a base64 identity");
	grant_fails("revoke", "peer=" WEAK, SS_ERR_BAD_KEY, "SS_ERR_BAD_KEY: peer '" WEAK "'");
	grant_fails("grant", "peer=" K1 "\nrule=tcp 1\nrule=tcp 1", SS_ERR_FORMAT,
		    "rule: one per request");
	grant_fails("grant", "peer=" K1 "\nrule=smtp", SS_ERR_FORMAT,
		    "rule: expected tcp, udp, icmp or any, got");
	grant_fails("grant", "peer=" K1 "\nrule=tcp 22, udp 53", SS_ERR_FORMAT, "rule: ");
	grant_fails("grant", "peer=" K1 "\nrule=any\nseconds=0", SS_ERR_FORMAT,
		    "seconds: '0' is not a duration");
	grant_fails("grant", "peer=" K1 "\nrule=any\nseconds=5w", SS_ERR_FORMAT,
		    "seconds: '5w' is not a duration");
	grant_fails("grant", "peer=" K1 "\nrule=any\nseconds=", SS_ERR_FORMAT,
		    "seconds: '' is not a duration");
	grant_fails("grant", "peer=" K1 "\nfor=1h", SS_ERR_FORMAT, "unknown key 'for'");
	grant_fails("grant", "peer=" K1 "\nrule", SS_ERR_FORMAT, "malformed line 'rule'");
	/* Long values and keys are cut in the message. */
	grant_fails("grant", "peer=" K1 K1 K1, SS_ERR_FORMAT,
		    "peer: '" K1 "AQEBAQEBAQEBAQEBAQEB' is not");
	grant_fails("grant", "0123456789012345678901234567890123456789=1", SS_ERR_FORMAT,
		    "unknown key '01234567890123456789012345678901'");
	grant_fails("grant",
		    "peer=" K1 "\nrule=any\nseconds=1234567890123456789012345678901234567890",
		    SS_ERR_FORMAT, "seconds: '12345678901234567890123456789012' is not");
}

/* ---- reading from the socket ---- */

/* ---- sync ---- */

static int parse_sync(const char *req, ss_ctl_sync_req *r, char *err)
{
	char *buf = dup_req(req, strlen(req)), *b;
	enum ss_ctl_verb verb;
	int ret;

	assert_int_equal(split(buf, strlen(buf), &verb, &b, err), 0);
	assert_int_equal(verb, SS_CTL_SYNC);
	ret = ss_ctl_parse_sync(b, r, err, SS_CONF_ERR_LEN);
	free(buf);
	return ret;
}

/*
 * What `silosec syncconf` sends is what the daemon gets: a parsed file, resolved, written
 * and read back, peer for peer; a TOFU peer keeps its name as written and gets the address.
 */
static void sync_round_trip(void **state)
{
	static const char text[] = "[Interface]\nPrivateKey = " K1 "\nAddress = 10.1.0.1/24\n"
				   "ListenPort = 5000\nTrustStore = /t/x\nPolicy = allow\n"
				   "ConntrackPerPeer = 77\n"
				   "[Peer]\nIdentity = " K2 "\nEndpoint = 192.0.2.7:9\n"
				   "AllowedIPs = 10.1.0.2/32, fd00::/64\nAllow = tcp 22, udp 53\n"
				   "PersistentKeepalive = 25\n"
				   "[Peer]\nIdentity = tofu\nEndpoint = peer.example:51999\n"
				   "AllowedIPs = 10.1.0.3/32\nAllow = none\n";
	char err[SS_CONF_ERR_LEN], *req, a[64];
	uint8_t id[SS_IDENTITY_LEN];
	ss_ctl_sync_req r;
	ss_conf *c;

	(void)state;
	assert_int_equal(ss_conf_parse(text, strlen(text), "x.conf", &c, err, sizeof(err)), 0);
	/* What ss_conf_resolve would leave (no DNS in a unit test). */
	c->peers[0].resolved = strdup("192.0.2.7:9");
	c->peers[1].resolved = strdup("[2001:db8::5]:51999");
	memset(id, 7, sizeof(id));
	req = ss_ctl_format_sync(c, id);
	assert_non_null(req);
	assert_int_equal(parse_sync(req, &r, err), 0);
	assert_memory_equal(r.identity, id, SS_IDENTITY_LEN);
	assert_int_equal(r.given, SS_SYNC_IDENTITY | SS_SYNC_TRANSPORT | SS_SYNC_LISTEN_PORT |
					  SS_SYNC_MTU | SS_SYNC_ADDRESS | SS_SYNC_TRUST_STORE |
					  SS_SYNC_ACCEPT_TOFU | SS_SYNC_TUN_RING | SS_SYNC_POLICY |
					  SS_SYNC_CT_PER_PEER | SS_SYNC_LAN_DISCOVERY |
					  SS_SYNC_ADVERTISE_LOCAL | SS_SYNC_CAND_ALLOW |
					  SS_SYNC_PRIVATE);
	assert_int_equal(r.conf->listen_port, 5000);
	assert_int_equal(r.conf->mtu, c->mtu);
	assert_int_equal(r.conf->naddrs, 1);
	assert_cidr(&r.conf->addrs[0], "10.1.0.1/24");
	assert_string_equal(r.conf->trust_store, "/t/x");
	assert_true(r.conf->policy_allow);
	assert_int_equal(r.conf->ct_per_peer, 77);
	assert_int_equal(r.conf->npeers, 2);
	assert_false(r.conf->peers[0].tofu);
	assert_memory_equal(r.conf->peers[0].identity, c->peers[0].identity, SS_IDENTITY_LEN);
	assert_string_equal(r.conf->peers[0].resolved, "192.0.2.7:9");
	assert_int_equal(r.conf->peers[0].nallowed, 2);
	assert_cidr(&r.conf->peers[0].allowed[1], "fd00::/64");
	assert_true(r.conf->peers[0].has_allow);
	assert_int_equal(r.conf->peers[0].nallow, 2);
	assert_rule(&r.conf->peers[0].allow[1], "udp 53");
	assert_int_equal(r.conf->peers[0].keepalive, 25);
	assert_true(r.conf->peers[1].tofu);
	assert_string_equal(r.conf->peers[1].endpoint, "peer.example:51999");
	assert_string_equal(r.conf->peers[1].resolved, "[2001:db8::5]:51999");
	assert_true(r.conf->peers[1].has_allow);
	assert_int_equal(r.conf->peers[1].nallow, 0);
	ss_cidr_format(&r.conf->peers[1].allowed[0], a, sizeof(a));
	assert_string_equal(a, "10.1.0.3/32");
	ss_ctl_sync_req_clear(&r);
	free(req);
	ss_conf_free(c);
}

static void sync_errors(void **state)
{
	static const struct {
		const char *body, *want;
	} cases[] = {
		{"bogus=1", "unknown key 'bogus'"},
		{"identity=nope", "identity: 'nope' is not a base64 identity"},
		{"transport=tcp", "transport: 'tcp' is not udp or ip"},
		{"listen_port=65536", "listen_port: '65536' is not 0..65535"},
		{"mtu=-1", "mtu: '-1' is not"},
		{"address=10.0.0.0/33", "address: '10.0.0.0/33' is not an address/prefix"},
		{"accept_tofu=1", "accept_tofu: '1' is not yes or no"},
		{"policy=maybe", "policy: 'maybe' is not allow or deny"},
		{"peer=nope", "peer: 'nope' is not a base64 identity"},
		{"tofu=no-port", "tofu: 'no-port' is not HOST:PORT"},
		{"peer=" K1 "\nendpoint=x", "endpoint: 'x' is not ADDRESS:PORT"},
		{"peer=" K1 "\nallowed_ip=1.2.3.4/40", "allowed_ip: '1.2.3.4/40' is not"},
		{"peer=" K1 "\nallow=tcp 70000", "allow: expected PORT"},
		{"peer=" K1 "\npersistent_keepalive=x", "persistent-keepalive: 'x' is not"},
		/* After the first peer, interface keys are unknown: no silent reordering. */
		{"peer=" K1 "\npolicy=allow", "unknown key 'policy'"},
		{"peer=" K1 "\nendpoint=192.0.2.1:1\ntofu=a:1\nbogus=2", "unknown key 'bogus'"},
		{"lan_discovery=on", "lan_discovery: 'on' is not off, peers or open"},
		{"advertise_local=1", "advertise_local: '1' is not yes or no"},
		{"private=maybe", "private: 'maybe' is not yes or no"},
		{"candidate_allow=10.0.0.0/33", "candidate_allow: '10.0.0.0/33' is not"},
		{"peer=" K1 "\nrelay=always", "relay: 'always' is not yes, serve or no"},
		{"peer=" K1 "\nintroduce=y", "introduce: 'y' is not yes or no"},
		/* A TOFU peer is never trusted with metadata, as in the file. */
		{"tofu=a:1\nrelay=serve", "relay: 'serve' is not yes, serve or no (a tofu peer"},
		{"tofu=a:1\nintroducer=yes", "introducer: needs a configured identity"},
		/* Interface keys after a peer are unknown there, as the others. */
		{"peer=" K1 "\nlan_discovery=open", "unknown key 'lan_discovery'"},
	};
	char err[SS_CONF_ERR_LEN], *req;
	ss_ctl_sync_req r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(asprintf(&req, "sync\n%s\n\n", cases[i].body) > 0);
		int ret = parse_sync(req, &r, err);

		if (ret != SS_ERR_FORMAT || !strstr(err, cases[i].want))
			fail_msg("want \"%s\" for\n%s\ngot %d \"%s\"", cases[i].want, cases[i].body,
				 ret, err);
		assert_null(r.conf);
		free(req);
	}
	assert_int_equal(parse_sync("sync\npeer=" WEAK "\n\n", &r, err), SS_ERR_BAD_KEY);
	/* An empty sync is a file with no peers: every peer goes. */
	assert_int_equal(parse_sync("sync\npolicy=deny\n\n", &r, err), 0);
	assert_int_equal(r.conf->npeers, 0);
	assert_int_equal(r.given, SS_SYNC_POLICY);
	ss_ctl_sync_req_clear(&r);
}

/* Names, groups and where each rule came from travel with a sync (show and audit use them). */
static void sync_names_and_groups(void **state)
{
	static const char text[] =
		"[Interface]\nPrivateKey = " K1 "\n"
		"[Peer]\nName = bob\nIdentity = " K2 "\nGroups = ci, ops\n"
		"Allow = icmp\n"
		"[Group ci]\nAllow = tcp 22\n[Group ops]\nAllow = udp 53, icmp\n";
	char err[SS_CONF_ERR_LEN], *req;
	uint8_t id[SS_IDENTITY_LEN];
	ss_ctl_sync_req r;
	ss_conf *c;
	const ss_conf_peer *p;

	(void)state;
	memset(id, 7, sizeof(id));
	assert_int_equal(ss_conf_parse(text, strlen(text), "x.conf", &c, err, sizeof(err)), 0);
	req = ss_ctl_format_sync(c, id);
	assert_non_null(req);
	assert_non_null(strstr(req, "name=bob\ngroups=ci,ops\nallow=icmp\n"
				    "group_allow=ci tcp 22\ngroup_allow=ops udp 53\n"));
	assert_int_equal(parse_sync(req, &r, err), 0);
	p = &r.conf->peers[0];
	assert_string_equal(p->label, "bob");
	assert_int_equal(p->ngroups, 2);
	assert_int_equal(p->nown, 1);
	assert_int_equal(p->nallow, 3);
	assert_null(p->origin[0]);
	assert_string_equal(p->origin[1], "ci");
	assert_string_equal(p->origin[2], "ops");
	assert_rule(&p->allow[2], "udp 53");
	ss_ctl_sync_req_clear(&r);
	free(req);
	ss_conf_free(c);
	/* A group rule must name one of the peer's groups. */
	assert_int_equal(
		parse_sync("sync\npeer=" K2 "\ngroups=a\ngroup_allow=b tcp 1\n\n", &r, err),
		SS_ERR_FORMAT);
	assert_non_null(strstr(err, "not one of the peer's groups"));
	assert_int_equal(parse_sync("sync\npeer=" K2 "\nname=" K1 "\n\n", &r, err), SS_ERR_FORMAT);
}

/*
 * Introducer, Introduce and Relay per peer, and the interface's reachability keys, travel
 * with a sync (they were read only at start); CandidateAllow "none" is a list of none.
 */
static void sync_reach_keys(void **state)
{
	static const char text[] = "[Interface]\nPrivateKey = " K1 "\nLanDiscovery = open\n"
				   "AdvertiseLocal = yes\nPrivate = yes\n"
				   "CandidateAllow = 192.0.2.0/24, 2001:db8::/32\n"
				   "[Peer]\nIdentity = " K2 "\nEndpoint = 192.0.2.7:9\n"
				   "Introducer = yes\nRelay = yes\n"
				   "[Peer]\nIdentity = " K1 "\nIntroduce = yes\nRelay = serve\n";
	char err[SS_CONF_ERR_LEN], *req, a[64];
	uint8_t id[SS_IDENTITY_LEN];
	ss_ctl_sync_req r;
	ss_conf *c;

	(void)state;
	memset(id, 7, sizeof(id));
	assert_int_equal(ss_conf_parse(text, strlen(text), "x.conf", &c, err, sizeof(err)), 0);
	c->peers[0].resolved = strdup("192.0.2.7:9");
	req = ss_ctl_format_sync(c, id);
	assert_non_null(req);
	assert_int_equal(parse_sync(req, &r, err), 0);
	assert_int_equal(r.conf->lan_discovery, SS_LAN_MODE_OPEN);
	assert_true(r.conf->advertise_local);
	assert_true(r.conf->private_host);
	assert_int_equal(r.conf->ncand_allow, 2);
	ss_cidr_format(&r.conf->cand_allow[1], a, sizeof(a));
	assert_string_equal(a, "2001:db8::/32");
	assert_true(r.conf->peers[0].introducer);
	assert_false(r.conf->peers[0].introduce);
	assert_int_equal(r.conf->peers[0].relay, SS_CONF_RELAY_USE);
	assert_false(r.conf->peers[1].introducer);
	assert_true(r.conf->peers[1].introduce);
	assert_int_equal(r.conf->peers[1].relay, SS_CONF_RELAY_SERVE);
	ss_ctl_sync_req_clear(&r);
	free(req);
	/* The defaults are written too: a key turned off in the file turns it off. */
	c->lan_discovery = SS_LAN_OFF;
	c->advertise_local = c->private_host = false;
	c->ncand_allow = 0;
	c->peers[0].introducer = false;
	c->peers[0].relay = SS_CONF_RELAY_NO;
	req = ss_ctl_format_sync(c, id);
	assert_non_null(strstr(req, "lan_discovery=off\nadvertise_local=no\nprivate=no\n"
				    "candidate_allow=none\n"));
	assert_non_null(strstr(req, "introducer=no\nintroduce=no\nrelay=no\n"));
	assert_int_equal(parse_sync(req, &r, err), 0);
	assert_int_equal(r.given & SS_SYNC_CAND_ALLOW, SS_SYNC_CAND_ALLOW);
	assert_int_equal(r.conf->ncand_allow, 0);
	assert_int_equal(r.conf->lan_discovery, SS_LAN_OFF);
	assert_false(r.conf->peers[0].introducer);
	ss_ctl_sync_req_clear(&r);
	free(req);
	ss_conf_free(c);
	/* At most SS_CAND_ALLOW_MAX prefixes, as in the file. */
	req = strdup("sync\n");
	for (int i = 0; i <= SS_CAND_ALLOW_MAX; i++) {
		char *n;

		assert_true(asprintf(&n, "%scandidate_allow=10.%d.0.0/16\n", req, i) > 0);
		free(req);
		req = n;
	}
	assert_int_equal(parse_sync(req, &r, err), SS_ERR_FORMAT);
	assert_non_null(strstr(err, "one too many"));
	free(req);
}

static void trust_request(void **state)
{
	char body[] = "name=198.51.2.2:51003\n", name[300], err[SS_CONF_ERR_LEN];
	char two[] = "name=a:1\nname=b:2\n", bad[] = "name=nope\n", none[] = "";

	(void)state;
	assert_int_equal(ss_ctl_parse_trust(body, name, sizeof(name), err, sizeof(err)), 0);
	assert_string_equal(name, "198.51.2.2:51003");
	assert_int_equal(ss_ctl_parse_trust(two, name, sizeof(name), err, sizeof(err)),
			 SS_ERR_FORMAT);
	assert_int_equal(ss_ctl_parse_trust(bad, name, sizeof(name), err, sizeof(err)),
			 SS_ERR_FORMAT);
	assert_int_equal(ss_ctl_parse_trust(none, name, sizeof(name), err, sizeof(err)),
			 SS_ERR_FORMAT);
	assert_non_null(strstr(err, "name= is missing"));
}

/* A sync longer than SS_CTL_MAX_REQUEST: the server goes on reading into a larger buffer. */
static void read_more_continues(void **state)
{
	int sv[2];
	char *buf = malloc(64);
	ssize_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], "sync\npolicy=allow\n\n", 20), 20);
	close(sv[1]);
	n = ss_ctl_read_request(sv[0], buf, 8);
	assert_int_equal(n, SS_ERR_BUFFER);
	buf = realloc(buf, 64);
	n = ss_ctl_read_more(sv[0], buf, 7, 64);
	assert_int_equal(n, 20);
	assert_string_equal(buf, "sync\npolicy=allow\n\n");
	close(sv[0]);
	free(buf);
}

static void read_request_ends(void **state)
{
	char buf[64];
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* The empty line ends it without waiting for the client to close. */
	assert_int_equal(write(sv[1], "get\n\n", 5), 5);
	assert_int_equal(ss_ctl_read_request(sv[0], buf, sizeof(buf)), 5);
	assert_string_equal(buf, "get\n\n");
	/* Or end of input. */
	assert_int_equal(write(sv[1], "set\npeer=x\n", 11), 11);
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(ss_ctl_read_request(sv[0], buf, sizeof(buf)), 11);
	assert_string_equal(buf, "set\npeer=x\n");
	close(sv[0]);
	close(sv[1]);
}

/* What ss_ctl_read_request makes of req, written on a fresh socket pair. */
static int read_sent(const char *req, char *buf, size_t cap)
{
	size_t n = strlen(req);
	int sv[2], ret;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], req, n), (ssize_t)n);
	ret = ss_ctl_read_request(sv[0], buf, cap);
	close(sv[0]);
	close(sv[1]);
	return ret;
}

/* A request that fills the buffer without its end is refused, never cut. */
static void read_request_too_long(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(read_sent("set\nallowed_ip=10.0.0.0/24\n\n", buf, sizeof(buf)),
			 SS_ERR_BUFFER);
	/* One byte less than the buffer, ending in the empty line, fits. */
	assert_int_equal(read_sent("set\npeer=abcd\n\n", buf, sizeof(buf)), 15);
}

/* The empty line split over two writes still ends the request (no 2 s wait). */
static void read_request_split_end(void **state)
{
	char buf[64], c;
	int sv[2];
	pid_t pid;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		if (write(sv[1], "get\n", 4) != 4)
			_exit(1);
		usleep(200 * 1000);
		if (write(sv[1], "\n", 1) != 1)
			_exit(1);
		/* Stay open until the parent is done: only the empty line may end the read. */
		_exit(read(sv[1], &c, 1) == 0 ? 0 : 1);
	}
	close(sv[1]);
	assert_int_equal(ss_ctl_read_request(sv[0], buf, sizeof(buf)), 5);
	close(sv[0]);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
}

static void read_request_silent_client(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(read_sent("get\n", buf, sizeof(buf)), SS_ERR_IO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(split_verbs),
		cmocka_unit_test(split_refusals),
		cmocka_unit_test(set_every_key),
		cmocka_unit_test(set_minimal_and_flags),
		cmocka_unit_test(set_repeated_keys),
		cmocka_unit_test(set_errors),
		cmocka_unit_test(set_first_error_wins),
		cmocka_unit_test(set_allowed_bound),
		cmocka_unit_test(set_allow_bound),
		cmocka_unit_test(set_long_lines),
		cmocka_unit_test(grant_good),
		cmocka_unit_test(grant_errors),
		cmocka_unit_test(sync_round_trip),
		cmocka_unit_test(sync_errors),
		cmocka_unit_test(sync_names_and_groups),
		cmocka_unit_test(sync_reach_keys),
		cmocka_unit_test(trust_request),
		cmocka_unit_test(read_more_continues),
		cmocka_unit_test(read_request_ends),
		cmocka_unit_test(read_request_too_long),
		cmocka_unit_test(read_request_split_end),
		cmocka_unit_test(read_request_silent_client),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
