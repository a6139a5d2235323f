/* SPDX-License-Identifier: MIT */
/*
 * silosec-knockd's state file (src/knock/state.c): what is open and the counters, written
 * by the parent, read by --list and --metrics. Round trip, replacement and eviction,
 * expiry, the list's columns and the metrics' families, refusals of foreign files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <silosec/error.h>

#include "helpers.h"
#include "state.h"
#include "validate.h"

static ss_knock_opening opening(const char *action, const char *src, uint8_t id, uint64_t expires)
{
	ss_knock_opening o;

	memset(&o, 0, sizeof(o));
	snprintf(o.action, sizeof(o.action), "%s", action);
	snprintf(o.client, sizeof(o.client), "carol");
	snprintf(o.source, sizeof(o.source), "%s", src);
	snprintf(o.what, sizeof(o.what), "tcp/8080, udp/9000-9001");
	memset(o.identity, id, sizeof(o.identity));
	o.opened_s = 1000;
	o.expires_s = expires;
	return o;
}

__attribute__((noinline)) static char *render(void (*fn)(FILE *, const ss_knock_state *, uint64_t),
					      const ss_knock_state *s, uint64_t now)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	fn(f, s, now);
	fclose(f);
	return text;
}

static void metrics_up(FILE *f, const ss_knock_state *s, uint64_t now)
{
	ss_knock_state_metrics(f, s, true, now);
}

static void test_round_trip(void **state)
{
	ss_knock_state *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	ss_knock_opening o = opening("web", "198.51.1.2", 1, 1030);
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	a->pid = 42;
	a->started_s = 900;
	a->accepted = 7;
	a->drops[ss_knock_drop_index(SS_ERR_KNOCK_MAC)] = 240641;
	a->pk_ops = 14;
	a->actions = 3;
	ss_knock_state_add(a, &o);
	f = open_memstream(&text, &len);
	ss_knock_state_format(f, a);
	fclose(f);
	assert_int_equal(ss_knock_state_parse(text, b), 0);
	assert_int_equal(b->pid, 42);
	assert_int_equal(b->accepted, 7);
	assert_int_equal(b->drops[ss_knock_drop_index(SS_ERR_KNOCK_MAC)], 240641);
	assert_int_equal(b->nopen, 1);
	assert_memory_equal(&a->open[0], &b->open[0], sizeof(a->open[0]));
	free(text);
	free(a);
	free(b);
}

static void test_replace_evict_expire(void **state)
{
	ss_knock_state *s = calloc(1, sizeof(*s));
	ss_knock_opening o;

	(void)state;
	o = opening("web", "198.51.1.2", 1, 1030);
	ss_knock_state_add(s, &o);
	/* The same knock again refreshes its line, as nftables replaces the element. */
	o.expires_s = 1060;
	ss_knock_state_add(s, &o);
	assert_int_equal(s->nopen, 1);
	assert_int_equal(s->open[0].expires_s, 1060);
	/* Full: the soonest to expire goes. */
	for (int i = 1; i < SS_KNOCK_STATE_MAX_OPEN; i++) {
		char src[32];

		snprintf(src, sizeof(src), "10.0.%d.%d", i / 256, i % 256);
		o = opening("web", src, 2, 2000 + (uint64_t)i);
		ss_knock_state_add(s, &o);
	}
	assert_int_equal(s->nopen, SS_KNOCK_STATE_MAX_OPEN);
	o = opening("web", "192.0.2.9", 3, 5000);
	ss_knock_state_add(s, &o);
	assert_int_equal(s->nopen, SS_KNOCK_STATE_MAX_OPEN);
	for (size_t i = 0; i < s->nopen; i++)
		assert_int_not_equal(s->open[i].expires_s, 1060);
	assert_false(ss_knock_state_expire(s, 1999));
	assert_true(ss_knock_state_expire(s, 4999));
	assert_int_equal(s->nopen, 1);
	assert_string_equal(s->open[0].source, "192.0.2.9");
	free(s);
}

static void test_list(void **state)
{
	ss_knock_state *s = calloc(1, sizeof(*s));
	ss_knock_opening o = opening("web", "198.51.1.2", 1, 1030);
	char fp[SS_FINGERPRINT_LEN], *text;

	(void)state;
	ss_knock_state_add(s, &o);
	ss_fingerprint(o.identity, fp);
	text = render(ss_knock_state_list, s, 1025);
	assert_non_null(strstr(text, "ACTION"));
	assert_non_null(strstr(text, fp));
	assert_non_null(strstr(text, "198.51.1.2"));
	assert_non_null(strstr(text, "1970-01-01 00:17:10")); /* 1030 s, UTC */
	assert_non_null(strstr(text, " 5s  tcp/8080, udp/9000-9001\n"));
	free(text);
	/* Expired but not yet pruned (the daemon died): not shown. */
	text = render(ss_knock_state_list, s, 1030);
	assert_non_null(strstr(text, "(nothing open)\n"));
	free(text);
	free(s);
}

static void test_metrics(void **state)
{
	ss_knock_state *s = calloc(1, sizeof(*s));
	ss_knock_opening o = opening("web", "198.51.1.2", 1, 1030);
	const char *first;
	char *text;

	(void)state;
	s->accepted = 3;
	ss_knock_state_add(s, &o);
	text = render(metrics_up, s, 1000);
	assert_non_null(strstr(text, "# TYPE silosec_knockd_accepted_total counter\n"
				     "silosec_knockd_accepted_total 3\n"));
	assert_non_null(strstr(text, "silosec_knockd_open 1\n"));
	assert_non_null(strstr(text, "silosec_knockd_up 1\n"));
	/* Every drop code, zeros included, under one header. */
	assert_non_null(
		strstr(text, "silosec_knockd_drops_total{reason=\"SS_ERR_KNOCK_BUSY\"} 0\n"));
	assert_non_null(
		strstr(text, "silosec_knockd_drops_total{reason=\"SS_ERR_KNOCK_SIZE\"} 0\n"));
	first = strstr(text, "# TYPE silosec_knockd_drops_total");
	assert_non_null(first);
	assert_null(strstr(first + 1, "# TYPE silosec_knockd_drops_total"));
	free(text);
	text = render(metrics_up, s, 1031);
	assert_non_null(strstr(text, "silosec_knockd_open 0\n"));
	free(text);
	free(s);
}

static void test_refusals(void **state)
{
	ss_knock_state *s = calloc(1, sizeof(*s));

	(void)state;
	assert_int_equal(ss_knock_state_parse("version=2\nend\n", s), SS_ERR_FORMAT);
	assert_int_equal(ss_knock_state_parse("version=1\naccepted=1\n", s), SS_ERR_FORMAT);
	assert_int_equal(ss_knock_state_parse("version=1\nopen=1 2 web\nend\n", s), SS_ERR_FORMAT);
	assert_int_equal(ss_knock_state_parse("garbage\nend\n", s), SS_ERR_FORMAT);
	assert_int_equal(ss_knock_state_parse("version=1\nend\n", s), 0);
	assert_int_equal(ss_knock_state_load("/nonexistent/state", s), SS_ERR_NOT_FOUND);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip), cmocka_unit_test(test_replace_evict_expire),
		cmocka_unit_test(test_list),	   cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
