/* SPDX-License-Identifier: MIT */
/*
 * `silosec show --prometheus` without a daemon (src/cli/prom.c, src/common/prom.c): control
 * answers in, Prometheus text out. Each family's HELP and TYPE once, before its samples,
 * across interfaces; values as the answers give them; drops labelled by reason; label
 * values escaped; a daemon that did not answer is silosec_interface_up 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <silosec/identity.h>

#include "common/prom.h"
#include "helpers.h"
#include "prom.h"

#define K1 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define K2 "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="

static const char ANSWER_A[] = "interface=ss0\n"
			       "identity=" K1 "\n"
			       "transport=udp\n"
			       "listen_port=51001\n"
			       "peer_count=1\n"
			       "cookies_sent=3\n"
			       "conntrack_total=2\n"
			       "grants_total=1\n"
			       "drop=SS_TUN_NO_ROUTE:7\n"
			       "peer=" K2 "\n"
			       "endpoint=198.51.1.2:51002\n"
			       "session=yes\n"
			       "latest_handshake=1000\n"
			       "handshakes=2\n"
			       "rx_bytes=640\n"
			       "tx_bytes=1280\n"
			       "rx_packets=5\n"
			       "tx_packets=10\n"
			       "queued=0\n"
			       "grant=30 tcp 22\n"
			       "conntrack=2\n"
			       "drop=SS_ERR_REPLAY:4\n"
			       "drop=SS_TUN_SPOOFED:1\n"
			       "end\n";

/* A second interface: a peer never reached, an endpoint that needs escaping. */
static const char ANSWER_B[] = "interface=ss1\n"
			       "identity=" K2 "\n"
			       "transport=ip\n"
			       "peer_count=1\n"
			       "cookies_sent=0\n"
			       "peer=" K1 "\n"
			       "endpoint=we\"ird\\end\n"
			       "session=no\n"
			       "latest_handshake=0\n"
			       "handshakes=0\n"
			       "rx_bytes=0\n"
			       "tx_bytes=0\n"
			       "end\n";

static char *render(const char *const *names, const char *const *answers, size_t n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(ss_prom_show(f, names, answers, n, 1060), 0);
	fclose(f);
	return text;
}

static size_t occurrences(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void fp(const char *b64, char out[SS_FINGERPRINT_LEN])
{
	uint8_t id[SS_IDENTITY_LEN];

	assert_int_equal(ss_key_from_base64(b64, id), 0);
	ss_fingerprint(id, out);
}

/* LINE is in text as a whole line. */
static void has_line(const char *text, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[len] == '\n')
			return;
	fail_msg("missing line: %s\n--- in ---\n%s", line, text);
}

static void test_values(void **state)
{
	const char *names[] = {"ss0"}, *answers[] = {ANSWER_A};
	char f1[SS_FINGERPRINT_LEN], f2[SS_FINGERPRINT_LEN], line[256];
	char *text = render(names, answers, 1);

	(void)state;
	fp(K1, f1);
	fp(K2, f2);
	has_line(text, "silosec_interface_up{interface=\"ss0\"} 1");
	snprintf(line, sizeof(line),
		 "silosec_interface_info{interface=\"ss0\",fingerprint=\"%s\",transport=\"udp\"} 1",
		 f1);
	has_line(text, line);
	has_line(text, "silosec_cookies_sent_total{interface=\"ss0\"} 3");
	has_line(text, "silosec_drops_total{interface=\"ss0\",reason=\"SS_TUN_NO_ROUTE\"} 7");
#define PEER_LINE(metric, value)                                                                   \
	do {                                                                                       \
		snprintf(line, sizeof(line), metric "{interface=\"ss0\",peer=\"%s\"} " value, f2); \
		has_line(text, line);                                                              \
	} while (0)
	PEER_LINE("silosec_peer_receive_bytes_total", "640");
	PEER_LINE("silosec_peer_transmit_bytes_total", "1280");
	PEER_LINE("silosec_peer_receive_packets_total", "5");
	PEER_LINE("silosec_peer_transmit_packets_total", "10");
	PEER_LINE("silosec_peer_handshakes_total", "2");
	PEER_LINE("silosec_peer_session", "1");
	PEER_LINE("silosec_peer_last_handshake_seconds", "1000");
	PEER_LINE("silosec_peer_last_handshake_age_seconds", "60");
	PEER_LINE("silosec_peer_grants", "1");
	PEER_LINE("silosec_peer_conntrack_entries", "2");
	snprintf(line, sizeof(line),
		 "silosec_peer_drops_total{interface=\"ss0\",peer=\"%s\",reason=\"SS_ERR_REPLAY\"} "
		 "4",
		 f2);
	has_line(text, line);
	snprintf(line, sizeof(line),
		 "silosec_peer_endpoint_info{interface=\"ss0\",peer=\"%s\",endpoint=\"198.51.1.2:"
		 "51002\"} 1",
		 f2);
	has_line(text, line);
	has_line(text, "# TYPE silosec_peer_receive_bytes_total counter");
	has_line(text, "# TYPE silosec_peer_session gauge");
	/* No path line in the answer: no path family at all, not an empty header. */
	assert_null(strstr(text, "silosec_peer_path_info"));
	free(text);
}

/* Every family's header once, before its first sample; samples of a family together. */
static void test_families_once(void **state)
{
	const char *names[] = {"ss0", "ss1"}, *answers[] = {ANSWER_A, ANSWER_B};
	char *text = render(names, answers, 2), *copy = strdup(text), *save;
	char seen[64][96];
	size_t nseen = 0;
	char current[96] = "";

	(void)state;
	assert_int_equal(occurrences(text, "# HELP silosec_peer_receive_bytes_total "), 1);
	assert_int_equal(occurrences(text, "# TYPE silosec_peer_receive_bytes_total "), 1);
	assert_int_equal(occurrences(text, "# TYPE silosec_interface_up "), 1);
	assert_int_equal(occurrences(text, "silosec_peer_receive_bytes_total{"), 2);
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[96];

		if (l[0] == '#') {
			if (!strncmp(l, "# TYPE ", 7)) {
				sscanf(l + 7, "%95s", name);
				for (size_t i = 0; i < nseen; i++)
					assert_string_not_equal(seen[i], name);
				assert_true(nseen < 64);
				snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
				snprintf(current, sizeof(current), "%s", name);
			}
			continue;
		}
		sscanf(l, "%95[^{ ]", name);
		assert_string_equal(name, current);
	}
	/* A peer that never completed a handshake has no age sample. */
	assert_int_equal(occurrences(text, "silosec_peer_last_handshake_age_seconds{"), 1);
	free(copy);
	free(text);
}

static void test_escaping(void **state)
{
	const char *names[] = {"ss0", "ss1"}, *answers[] = {ANSWER_A, ANSWER_B};
	char *text = render(names, answers, 2), *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_non_null(strstr(text, "endpoint=\"we\\\"ird\\\\end\"} 1\n"));
	free(text);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	ss_prom_escape(f, "a\\b\"c\nd");
	fclose(f);
	assert_string_equal(out, "a\\\\b\\\"c\\nd");
	free(out);
}

/* A daemon that did not answer is there, as down; the others are written. */
static void test_down(void **state)
{
	const char *names[] = {"ss0", "gone"}, *answers[] = {ANSWER_A, NULL};
	char *text = render(names, answers, 2);

	(void)state;
	has_line(text, "silosec_interface_up{interface=\"ss0\"} 1");
	has_line(text, "silosec_interface_up{interface=\"gone\"} 0");
	assert_null(strstr(text, "interface=\"gone\",fingerprint"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_families_once),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
