/* SPDX-License-Identifier: MIT */
/* Capability rules (Allow =): parsing, formatting, matching, packets, grants, durations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <silosec/error.h>

#include "common/capability.h"
#include "grant.h"
#include "helpers.h"
#include "pkt_build.h"

static ss_cap_rule rule(const char *s)
{
	ss_cap_rule r;
	char err[160];

	if (ss_cap_rule_parse(s, &r, err, sizeof(err)))
		fail_msg("rule '%s': %s", s, err);
	return r;
}

static void roundtrip(const char *in, const char *want)
{
	ss_cap_rule r = rule(in);
	char buf[SS_CAP_RULE_STR];

	ss_cap_rule_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void parse_and_format(void **state)
{
	(void)state;
	roundtrip("tcp 22", "tcp 22");
	roundtrip("  TCP   8000-8080   to 10.0.0.1/32 ", "tcp 8000-8080 to 10.0.0.1/32");
	roundtrip("udp 53", "udp 53");
	roundtrip("icmp", "icmp");
	roundtrip("any", "any");
	roundtrip("any to 10.1.2.3/16", "any to 10.1.0.0/16");
	roundtrip("udp to fd00::1/64", "udp to fd00::/64");
	roundtrip("tcp 0-65535", "tcp");
	roundtrip("tcp 7-7", "tcp 7");
	/* knockd.conf's Open spelling is the same rule (one syntax everywhere). */
	roundtrip("tcp/22", "tcp 22");
	roundtrip("UDP/53-60 to 10.0.0.1/32", "udp 53-60 to 10.0.0.1/32");
}

/* Why a rule is refused, as the message says it before quoting the token. */
enum rule_refusal { NO_RULE, BAD_PROTO, BAD_PORT, PORTLESS, BAD_TO, TRAILING };

static void parse_errors(void **state)
{
	static const char *const why[] = {
		[NO_RULE] = "empty rule",
		[BAD_PROTO] = "expected tcp, udp, icmp or any, got",
		[BAD_PORT] = "expected PORT or PORT-PORT (0-65535), got",
		[PORTLESS] = "ports only go with tcp or udp, got",
		[BAD_TO] = "'to' needs ADDR/PREFIX, got",
		[TRAILING] = "unexpected",
	};
	static const struct {
		const char *rule;
		enum rule_refusal why;
		const char *token;
	} cases[] = {
		{"", NO_RULE, ""},
		{"ping", BAD_PROTO, "ping"},
		{"tcp 65536", BAD_PORT, "65536"},
		{"tcp 80-22", BAD_PORT, "80-22"},
		{"tcp -1", TRAILING, "-1"},
		{"tcp 22 80", TRAILING, "80"},
		{"icmp 8", PORTLESS, "8"},
		{"any 22", PORTLESS, "22"},
		{"tcp 22 to", BAD_TO, ""},
		{"tcp 22 to x", BAD_TO, "x"},
		{"tcp 22 from 10.0.0.1", TRAILING, "from"},
		{"tcp 2a", BAD_PORT, "2a"},
		{"tcp 22-", BAD_PORT, "22-"},
		{"tcp 1234567", BAD_PORT, "1234567"},
		{"udp 53 to 10.0.0.1/33", BAD_TO, "10.0.0.1/33"},
	};
	char err[160], want[160];
	ss_cap_rule r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (ss_cap_rule_parse(cases[i].rule, &r, err, sizeof(err)) != SS_ERR_FORMAT)
			fail_msg("'%s' parsed", cases[i].rule);
		snprintf(want, sizeof(want), "%s '%s'", why[cases[i].why], cases[i].token);
		if (strcmp(err, want))
			fail_msg("'%s': error '%s', want '%s'", cases[i].rule, err, want);
	}
	assert_int_equal(ss_cap_rule_parse("icmp 8", &r, err, sizeof(err)), SS_ERR_FORMAT);
	assert_string_equal(err, "ports only go with tcp or udp, got '8'");
}

static void lists(void **state)
{
	ss_cap_rule rules[4];
	char err[160];
	size_t n = 0;

	(void)state;
	assert_int_equal(ss_cap_list_parse("tcp 22, tcp 8000-8080 to 10.0.0.1/32,udp 53 , icmp",
					   rules, 4, &n, err, sizeof(err)),
			 0);
	assert_int_equal(n, 4);
	n = 0;
	assert_int_equal(ss_cap_list_parse("tcp 1, tcp 2, tcp 3, tcp 4, tcp 5", rules, 4, &n, err,
					   sizeof(err)),
			 SS_ERR_FORMAT);
	assert_string_equal(err, "more than 4 rules");
	n = 0;
	assert_int_equal(ss_cap_list_parse("tcp 22,,udp 53", rules, 4, &n, err, sizeof(err)),
			 SS_ERR_FORMAT);
	{
		ss_cap_rule want = rule("tcp 22");

		assert_true(ss_cap_rule_equal(&rules[0], &want));
	}
}

static bool allows(const char *list, const uint8_t *pkt, size_t len)
{
	ss_cap_rule rules[16];
	ss_pkt_info pi;
	char err[160];
	size_t n = 0;

	if (ss_cap_list_parse(list, rules, 16, &n, err, sizeof(err)))
		fail_msg("%s: %s", list, err);
	assert_int_equal(ss_pkt_parse(pkt, len, &pi), 0);
	return ss_cap_match(rules, n, &pi);
}

/* Rule lists and whether each admits a TCP SYN 10.0.0.2:40000 -> 10.0.0.1:22. */
static const struct {
	const char *list;
	bool want;
} tcp22_cases[] = {
	{"tcp 22", true},
	{"udp 22", false},
	{"tcp 80", false},
	{"tcp 20-30", true},
	{"tcp", true},
	{"any", true},
	{"icmp", false},
	{"tcp 22 to 10.0.0.1/32", true},
	{"tcp 22 to 10.0.0.0/8", true},
	{"tcp 22 to 10.0.0.3/32", false},
	{"tcp 22 to fd00::/8", false},
	{"tcp 80, udp 53", false},
	{"tcp 80, udp 53, tcp 22", true},
};

static void matching(void **state)
{
	uint8_t b[64];
	size_t n;

	(void)state;
	n = pkt4(b, "10.0.0.2", "10.0.0.1", 6, 40000, 22, 0x02);
	for (size_t i = 0; i < sizeof(tcp22_cases) / sizeof(tcp22_cases[0]); i++)
		if (allows(tcp22_cases[i].list, b, n) != tcp22_cases[i].want)
			fail_msg("'%s' %s TCP to port 22", tcp22_cases[i].list,
				 tcp22_cases[i].want ? "does not allow" : "allows");
	n = icmp4(b, "10.0.0.2", "10.0.0.1", 8, 7);
	assert_true(allows("icmp", b, n));
	assert_false(allows("tcp, udp", b, n));
	n = pkt6(b, "fd00::2", "fd00::1", 58, 0, 0);
	assert_true(allows("icmp", b, n));
	n = pkt6(b, "fd00::2", "fd00::1", 17, 5353, 53);
	assert_true(allows("udp 53 to fd00::1/128", b, n));
	assert_false(allows("udp 53 to 10.0.0.1/32", b, n));
	/* A TCP header cut short carries no ports: only port-less rules admit it. */
	n = pkt4(b, "10.0.0.2", "10.0.0.1", 6, 40000, 22, 0);
	assert_false(allows("tcp 22", b, 22));
	assert_true(allows("tcp", b, 22));
}

static void fragments(void **state)
{
	uint8_t b[128];
	size_t n = pkt4(b, "10.0.0.2", "10.0.0.1", 17, 1, 53, 0);
	ss_pkt_info pi;

	(void)state;
	/* A later fragment: its "ports" are payload, so a port rule must not match. */
	b[6] = 0x00;
	b[7] = 0x10;
	assert_false(allows("udp 53", b, n));
	assert_true(allows("udp", b, n));
	/* IPv6 with a fragment header (offset 8) before UDP. */
	memset(b, 0, sizeof(b));
	b[0] = 0x60;
	b[6] = 44;
	b[40] = 17;
	b[42] = 0;
	b[43] = 8;
	b[48] = 0;
	b[49] = 1;
	b[50] = 0;
	b[51] = 53;
	inet_pton(AF_INET6, "fd00::2", b + 8);
	inet_pton(AF_INET6, "fd00::1", b + 24);
	assert_int_equal(ss_pkt_parse(b, 56, &pi), 0);
	assert_int_equal(pi.proto, 17);
	assert_true(pi.later_frag);
	assert_false(allows("udp 53", b, 56));
	/* First fragment (offset 0): ports are real. */
	b[43] = 0;
	assert_true(allows("udp 53", b, 56));
	/* Extension header running past the packet. */
	b[41] = 200;
	b[6] = 60;
	assert_int_equal(ss_pkt_parse(b, 56, &pi), SS_ERR_MALFORMED);
}

static void malformed(void **state)
{
	uint8_t b[64] = {0};
	ss_pkt_info pi;

	(void)state;
	assert_int_equal(ss_pkt_parse(b, 0, &pi), SS_ERR_MALFORMED);
	b[0] = 0x45;
	assert_int_equal(ss_pkt_parse(b, 19, &pi), SS_ERR_MALFORMED);
	b[0] = 0x4f; /* IHL 60 > 40 */
	assert_int_equal(ss_pkt_parse(b, 40, &pi), SS_ERR_MALFORMED);
	b[0] = 0x60;
	assert_int_equal(ss_pkt_parse(b, 39, &pi), SS_ERR_MALFORMED);
	b[0] = 0x50;
	assert_int_equal(ss_pkt_parse(b, 40, &pi), SS_ERR_MALFORMED);
}

static void format_flow(void **state)
{
	uint8_t b[64];
	ss_pkt_info pi;
	char s[128];

	(void)state;
	pkt4(b, "10.0.0.2", "10.0.0.1", 6, 40000, 80, 0);
	assert_int_equal(ss_pkt_parse(b, 40, &pi), 0);
	ss_pkt_format(&pi, s, sizeof(s));
	assert_string_equal(s, "tcp 10.0.0.2:40000 -> 10.0.0.1:80");
	icmp4(b, "10.0.0.2", "10.0.0.1", 8, 1);
	assert_int_equal(ss_pkt_parse(b, 40, &pi), 0);
	ss_pkt_format(&pi, s, sizeof(s));
	assert_string_equal(s, "icmp type 8 10.0.0.2 -> 10.0.0.1");
}

static void durations(void **state)
{
	uint32_t s;

	(void)state;
	assert_int_equal(ss_duration_parse("300", &s), 0);
	assert_int_equal(s, 300);
	assert_int_equal(ss_duration_parse("30s", &s), 0);
	assert_int_equal(s, 30);
	assert_int_equal(ss_duration_parse("5m", &s), 0);
	assert_int_equal(s, 300);
	assert_int_equal(ss_duration_parse("2h", &s), 0);
	assert_int_equal(s, 7200);
	assert_int_equal(ss_duration_parse("1d", &s), 0);
	assert_int_equal(s, 86400);
	assert_int_equal(ss_duration_parse("5 m", &s), SS_ERR_FORMAT);
	assert_int_equal(ss_duration_parse("5ms", &s), SS_ERR_FORMAT);
	assert_int_equal(ss_duration_parse("1h", &s), 0);
	assert_int_equal(s, 3600);
	assert_int_equal(ss_duration_parse("2d", &s), 0);
	assert_int_equal(s, 172800);
	static const char *const bad[] = {"",	 "0",  "0s",  "m",	     "5x",
					  "5mm", "-1", "1 h", "99999999999", "4294967296"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ss_duration_parse(bad[i], &s) != SS_ERR_FORMAT)
			fail_msg("'%s' parsed", bad[i]);
}

static void grants(void **state)
{
	ss_grants *t = calloc(1, sizeof(*t));
	uint8_t a[SS_IDENTITY_LEN] = {1}, b2[SS_IDENTITY_LEN] = {2}, pkt[64];
	ss_cap_rule ssh = rule("tcp 22"), web = rule("tcp 80");
	ss_pkt_info pi;
	uint64_t sec = 1000000000ull, now = 100 * sec;
	int expired = 0;

	(void)state;
	assert_non_null(t);
	pkt4(pkt, "10.0.0.2", "10.0.0.1", 6, 40000, 22, 0);
	assert_int_equal(ss_pkt_parse(pkt, 40, &pi), 0);
	assert_false(ss_grant_match(t, a, &pi, now));
	assert_int_equal(ss_grant_add(t, a, &ssh, 0, now), SS_ERR_GRANT_LIMIT);
	assert_int_equal(ss_grant_add(t, a, &ssh, SS_GRANT_MAX_SECONDS + 1, now),
			 SS_ERR_GRANT_LIMIT);
	assert_int_equal(ss_grant_add(t, a, &ssh, 3, now), 0);
	assert_true(ss_grant_match(t, a, &pi, now));
	assert_false(ss_grant_match(t, b2, &pi, now)); /* one identity only */
	assert_int_equal(ss_grant_next(t), now + 3 * sec);
	/* The same grant again moves its deadline instead of taking a second slot. */
	assert_int_equal(ss_grant_add(t, a, &ssh, 10, now), 0);
	assert_int_equal(t->n, 1);
	assert_int_equal(ss_grant_add(t, a, &web, 10, now), 0);
	assert_int_equal(t->n, 2);
	assert_true(ss_grant_match(t, a, &pi, now + 9 * sec));
	assert_false(ss_grant_match(t, a, &pi, now + 10 * sec));
	assert_int_equal(ss_grant_revoke(t, a, &web), 1);
	assert_int_equal(ss_grant_revoke(t, a, &web), 0);
	assert_int_equal(ss_grant_expire(t, now + 5 * sec, NULL, NULL), 0);
	assert_int_equal(ss_grant_expire(t, now + 10 * sec, NULL, NULL), 1);
	assert_int_equal(t->n, 0);
	assert_int_equal(ss_grant_next(t), UINT64_MAX);
	/* Bounded: the table refuses the grant after the last slot. */
	for (int i = 0; i < SS_GRANT_MAX; i++) {
		ss_cap_rule r = rule("udp");

		r.port_lo = r.port_hi = (uint16_t)(i + 1);
		assert_int_equal(ss_grant_add(t, b2, &r, 60, now), 0);
	}
	assert_int_equal(ss_grant_add(t, a, &ssh, 60, now), SS_ERR_GRANT_LIMIT);
	assert_int_equal(ss_grant_revoke(t, b2, NULL), SS_GRANT_MAX);
	assert_int_equal(ss_grant_add(t, a, &ssh, 60, now), 0);
	(void)expired;
	free(t);
}

/* Headers that would send an admitted packet elsewhere, or hide its protocol. */
static void header_tricks(void **state)
{
	uint8_t b[256];
	size_t n;
	ss_pkt_info pi;

	(void)state;
	/* IPv4 with loose source routing (LSRR): refused, whatever the rules. */
	memset(b, 0, sizeof(b));
	n = pkt4(b + 4, "10.0.0.2", "10.0.0.1", 17, 1, 53, 0);
	memmove(b, b + 4, 20);
	b[0] = 0x46;
	b[3] = (uint8_t)(n + 4);
	b[20] = 0x83;
	b[21] = 3;
	b[22] = 4;
	b[23] = 0;
	assert_int_equal(ss_pkt_parse(b, n + 4, &pi), SS_ERR_MALFORMED);
	b[20] = 0x89; /* SSRR */
	assert_int_equal(ss_pkt_parse(b, n + 4, &pi), SS_ERR_MALFORMED);
	b[21] = 9; /* option longer than the header */
	b[20] = 0x07;
	assert_int_equal(ss_pkt_parse(b, n + 4, &pi), SS_ERR_MALFORMED);
	/* NOPs and end of list are fine, and the ports behind the options are read. */
	b[20] = 1;
	b[21] = 1;
	b[22] = 1;
	b[23] = 0;
	assert_true(allows("udp 53", b, n + 4));

	/* IPv6 routing header with segments left: the rules saw only the first hop. */
	memset(b, 0, sizeof(b));
	pkt6(b, "fd00::2", "fd00::1", 43, 0, 0);
	b[40] = 17; /* next header */
	b[41] = 0;  /* 8 bytes */
	b[42] = 4;  /* segment routing */
	b[43] = 1;  /* segments left */
	b[48] = 0;
	b[49] = 1;
	b[50] = 0;
	b[51] = 53;
	assert_int_equal(ss_pkt_parse(b, 68, &pi), SS_ERR_MALFORMED);
	b[43] = 0; /* all segments done: this host is the destination */
	assert_true(allows("udp 53", b, 68));

	/* More extension headers than are walked: refused, not taken for the protocol. */
	memset(b, 0, sizeof(b));
	pkt6(b, "fd00::2", "fd00::1", 60, 0, 0);
	for (int k = 0; k < 12; k++)
		b[40 + 8 * k] = k < 11 ? 60 : 17;
	b[40 + 8 * 12 + 3] = 53;
	assert_int_equal(ss_pkt_parse(b, 40 + 8 * 13, &pi), SS_ERR_MALFORMED);

	/* A later fragment's payload is not walked as headers. */
	memset(b, 0, sizeof(b));
	pkt6(b, "fd00::2", "fd00::1", 44, 0, 0);
	b[40] = 17;
	b[43] = 8;   /* offset 8 */
	b[48] = 60;  /* payload that looks like a header... */
	b[49] = 200; /* ...running past the packet */
	assert_int_equal(ss_pkt_parse(b, 64, &pi), 0);
	assert_true(pi.later_frag);
	assert_int_equal(pi.proto, 17);
	assert_true(allows("udp", b, 64));
	assert_false(allows("udp 53", b, 64));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_and_format),
		cmocka_unit_test(parse_errors),
		cmocka_unit_test(lists),
		cmocka_unit_test(matching),
		cmocka_unit_test(fragments),
		cmocka_unit_test(malformed),
		cmocka_unit_test(header_tricks),
		cmocka_unit_test(format_flow),
		cmocka_unit_test(durations),
		cmocka_unit_test(grants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
