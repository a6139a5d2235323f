/* SPDX-License-Identifier: MIT */
/* The tunnel configuration file: CIDRs, endpoints, the happy path and every error. */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <silosec/error.h>

#include "config.h"
#include "hooks.h"
#include "common/capability.h"
#include "common/ctlsock.h"
#include "helpers.h"

/* base64 of bytes 0..31, of 32 x 0x01 and of 32 x 0x02 (Python base64). */
#define K0 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define K1 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define K2 "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
/* Two lines: a minimal valid [Interface]. */
#define IFACE "[Interface]\nPrivateKey = " K0 "\n"
#define TS "TrustStore = t\n"

static ss_conf *parse_ok_as(const char *text, const char *name)
{
	char err[SS_CONF_ERR_LEN];
	ss_conf *c = NULL;
	int ret = ss_conf_parse(text, strlen(text), name, &c, err, sizeof(err));

	if (ret)
		fail_msg("unexpected error %d: %s", ret, err);
	assert_non_null(c);
	assert_string_equal(err, "");
	return c;
}

static ss_conf *parse_ok(const char *text)
{
	return parse_ok_as(text, "test.conf");
}

/*
 * Parses text as "test.conf", expects SS_ERR_FORMAT with a message that starts with
 * "test.conf:LINE: " and contains want (the key, or what is wrong for keyless errors).
 */
static void expect_error_len(const char *text, size_t len, unsigned line, const char *want)
{
	char err[SS_CONF_ERR_LEN], prefix[32];
	ss_conf *c = (ss_conf *)&c; /* must be reset to NULL */
	int ret = ss_conf_parse(text, len, "test.conf", &c, err, sizeof(err));

	if (ret != SS_ERR_FORMAT)
		fail_msg("want SS_ERR_FORMAT for\n%s\ngot %d: %s", text, ret, ret ? err : "");
	assert_null(c);
	snprintf(prefix, sizeof(prefix), "test.conf:%u: ", line);
	if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, want))
		fail_msg("want \"%s...%s\" for\n%s\ngot \"%s\"", prefix, want, text, err);
}

static void expect_error(const char *text, unsigned line, const char *want)
{
	expect_error_len(text, strlen(text), line, want);
}

static void assert_cidr(const ss_cidr *c, const char *want)
{
	char buf[64];

	ss_cidr_format(c, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* ---- ss_cidr_parse / ss_cidr_format ---- */

static void cidr_parse_valid(void **state)
{
	static const struct {
		const char *in, *out;
		int family;
		unsigned prefix;
	} ok[] = {
		{"10.9.0.1/24", "10.9.0.1/24", AF_INET, 24},
		{"10.9.0.1", "10.9.0.1/32", AF_INET, 32},
		{"0.0.0.0/0", "0.0.0.0/0", AF_INET, 0},
		{"255.255.255.255/32", "255.255.255.255/32", AF_INET, 32},
		{"192.0.2.7/08", "192.0.2.7/8", AF_INET, 8},
		{"fd00:9::1/64", "fd00:9::1/64", AF_INET6, 64},
		{"fd00:9::1", "fd00:9::1/128", AF_INET6, 128},
		{"::/0", "::/0", AF_INET6, 0},
		{"FD00:0:0::2/128", "fd00::2/128", AF_INET6, 128},
		{"::ffff:192.0.2.1/96", "::ffff:192.0.2.1/96", AF_INET6, 96},
	};
	ss_cidr c;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		memset(&c, 0xaa, sizeof(c));
		assert_int_equal(ss_cidr_parse(ok[i].in, &c), 0);
		assert_int_equal(c.family, ok[i].family);
		assert_int_equal(c.prefix, ok[i].prefix);
		assert_cidr(&c, ok[i].out);
	}
	/* Host bits are kept as written; the address bytes are network order. */
	assert_int_equal(ss_cidr_parse("10.9.0.1/24", &c), 0);
	assert_memory_equal(c.addr, "\x0a\x09\x00\x01", 4);
	assert_int_equal(ss_cidr_parse("fd00:9::1/64", &c), 0);
	assert_memory_equal(c.addr, "\xfd\x00\x00\x09\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
}

static void cidr_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"/24",
		"10.9.0.1/",
		"10.9.0.1/33",
		"10.9.0.1/-1",
		"10.9.0.1/+8",
		"10.9.0.1/ 8",
		" 10.9.0.1",
		"10.9.0.1 ",
		"10.9.0.1/8 ",
		"10.9.0/24",
		"10.9.0.256",
		"10.9.0.1.1",
		"fd00::1/129",
		"fd00::1/1000",
		"fd00:::1/64",
		"fd00::1%eth0",
		"10.9.0.1/24/8",
		"10.9.0.1/0x10",
		"host.name/24",
		"10.9.0.1/0008",
		"[fd00::1]/64",
		"1.2.3.4,5.6.7.8",
	};
	ss_cidr c = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ss_cidr_parse(bad[i], &c) != SS_ERR_FORMAT)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(ss_cidr_parse(NULL, &c), SS_ERR_FORMAT);
	assert_int_equal(ss_cidr_parse("10.0.0.1", NULL), SS_ERR_FORMAT);
	/* An address longer than any textual IPv6 address. */
	assert_int_equal(ss_cidr_parse("0000:0000:0000:0000:0000:0000:0000:0000:0000/64", &c),
			 SS_ERR_FORMAT);
}

static void cidr_format_edges(void **state)
{
	ss_cidr c = {0};
	char buf[64];

	(void)state;
	assert_int_equal(ss_cidr_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", &c), 0);
	assert_cidr(&c, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	/* Truncates, always terminated. */
	memset(buf, 'x', sizeof(buf));
	ss_cidr_format(&c, buf, 8);
	assert_string_equal(buf, "ffff:ff");
	c.family = 12345;
	ss_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "?");
}

/* ---- ss_endpoint_check ---- */

static void endpoint_check(void **state)
{
	static const char *const ok[] = {
		"192.0.2.1:51999", "[2001:db8::1]:51999", "host.name:51999",	"h:1", "h:65535",
		"[::1]:1",	   "x-y_z.example:80",	  "[::ffff:1.2.3.4]:9",
	};
	static const char *const bad[] = {
		"",
		"host",
		":51999",
		"host:",
		"host:0",
		"host:65536",
		"host:99999999",
		"host:port",
		"host:-1",
		"host:+80",
		"host: 80",
		"ho st:80",
		"ho\tst:80",
		"2001:db8::1:51999",
		"::1:80",
		"[2001:db8::1]",
		"[2001:db8::1]51999",
		"[2001:db8::1]:",
		"[2001:db8::1:51999",
		"[]:80",
		"[192.0.2.1]:80",
		"[host.name]:80",
		"[::1]:80:80",
		"host]:80",
	};
	char longhost[300];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (ss_endpoint_check(ok[i]))
			fail_msg("refused \"%s\"", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ss_endpoint_check(bad[i]) != SS_ERR_FORMAT)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(ss_endpoint_check(NULL), SS_ERR_FORMAT);

	/* DNS names are at most 253 characters. */
	memset(longhost, 'a', 253);
	strcpy(longhost + 253, ":80");
	assert_int_equal(ss_endpoint_check(longhost), 0);
	memset(longhost, 'a', 254);
	strcpy(longhost + 254, ":80");
	assert_int_equal(ss_endpoint_check(longhost), SS_ERR_FORMAT);
}

/* ---- parsing ---- */

static void parse_all_keys(void **state)
{
	static const char text[] = "# SiloSec tunnel ; with a comment\n"
				   "; another comment\n"
				   "\n"
				   "[Interface]\n"
				   "Name = ss0\n"
				   "PrivateKey = " K0 "\n"
				   "Address = 10.9.0.1/24, fd00:9::1/64\n"
				   "ListenPort = 51000\n"
				   "Transport = ip\n"
				   "MTU = 1400\n"
				   "TrustStore = /var/lib/silosec/ss0.trust\n"
				   "AcceptTofu = yes\n"
				   "\n"
				   "[Peer]\n"
				   "Identity = " K1 "\n"
				   "Endpoint = 192.0.2.1:51999\n"
				   "AllowedIPs = 10.9.0.2/32, fd00:9::2/128\n"
				   "PersistentKeepalive = 25\n"
				   "[Peer]\n"
				   "Identity = tofu\n"
				   "Endpoint = [2001:db8::1]:51999\n"
				   "[Peer]\n"
				   "Identity = " K2 "\n"
				   "Endpoint = host.name:51999\n"
				   "AllowedIPs = 10.9.0.3\n"
				   "PersistentKeepalive = off\n";
	uint8_t seed[32], one[32], two[32];
	ss_conf *c = parse_ok_as(text, "/etc/silosec/other.conf");

	(void)state;
	for (int i = 0; i < 32; i++) {
		seed[i] = (uint8_t)i;
		one[i] = 1;
		two[i] = 2;
	}
	assert_string_equal(c->path, "/etc/silosec/other.conf");
	assert_string_equal(c->name, "ss0");
	assert_null(c->private_key_file);
	assert_true(c->has_private_key);
	assert_memory_equal(c->private_key, seed, 32);
	assert_int_equal(c->naddrs, 2);
	assert_cidr(&c->addrs[0], "10.9.0.1/24");
	assert_cidr(&c->addrs[1], "fd00:9::1/64");
	assert_int_equal(c->listen_port, 51000);
	assert_int_equal(c->transport, SS_TRANSPORT_IP);
	assert_int_equal(c->mtu, 1400);
	assert_string_equal(c->trust_store, "/var/lib/silosec/ss0.trust");
	assert_true(c->accept_anonymous);

	assert_int_equal(c->npeers, 3);
	assert_int_equal(c->peers[0].line, 14);
	assert_false(c->peers[0].tofu);
	assert_memory_equal(c->peers[0].identity, one, 32);
	assert_string_equal(c->peers[0].endpoint, "192.0.2.1:51999");
	assert_int_equal(c->peers[0].nallowed, 2);
	assert_cidr(&c->peers[0].allowed[0], "10.9.0.2/32");
	assert_cidr(&c->peers[0].allowed[1], "fd00:9::2/128");
	assert_int_equal(c->peers[0].keepalive, 25);

	assert_int_equal(c->peers[1].line, 19);
	assert_true(c->peers[1].tofu);
	assert_string_equal(c->peers[1].endpoint, "[2001:db8::1]:51999");
	assert_int_equal(c->peers[1].nallowed, 0);
	assert_null(c->peers[1].allowed);
	assert_int_equal(c->peers[1].keepalive, 0);

	assert_int_equal(c->peers[2].line, 22);
	assert_false(c->peers[2].tofu);
	assert_memory_equal(c->peers[2].identity, two, 32);
	assert_string_equal(c->peers[2].endpoint, "host.name:51999");
	assert_int_equal(c->peers[2].nallowed, 1);
	assert_cidr(&c->peers[2].allowed[0], "10.9.0.3/32");
	assert_int_equal(c->peers[2].keepalive, 0);
	ss_conf_free(c);
}

static void parse_defaults(void **state)
{
	ss_conf *c = parse_ok_as("[Interface]\nPrivateKeyFile = /k\n", "ss9.conf");

	(void)state;
	assert_string_equal(c->name, "ss9");
	assert_string_equal(c->private_key_file, "/k");
	assert_false(c->has_private_key);
	assert_int_equal(c->naddrs, 0);
	assert_int_equal(c->listen_port, 0);
	assert_int_equal(c->transport, SS_TRANSPORT_UDP);
	assert_int_equal(c->mtu, SS_CONF_DEFAULT_MTU);
	assert_null(c->trust_store);
	assert_false(c->accept_anonymous);
	assert_int_equal(c->npeers, 0);
	ss_conf_free(c);

	/* A [Peer] may come before [Interface]; a peer needs no AllowedIPs or Endpoint. */
	c = parse_ok("[Peer]\nIdentity = " K1 "\n" IFACE);
	assert_int_equal(c->npeers, 1);
	assert_int_equal(c->peers[0].line, 1);
	assert_null(c->peers[0].endpoint);
	assert_int_equal(c->peers[0].nallowed, 0);
	ss_conf_free(c);
}

static void parse_default_name(void **state)
{
	static const struct {
		const char *file, *name;
	} ok[] = {
		{"ss0.conf", "ss0"},
		{"/etc/silosec/wg-home.conf", "wg-home"},
		{"dir.d/tun_1", "tun_1"},
		{"x/a.b.conf", "a.b"},
		{"fifteen-chars-x.conf", "fifteen-chars-x"},
		{"ss0.conf.conf", "ss0.conf"},
	};
	static const char *const bad[] = {
		"sixteen-chars-xx.conf", "/etc/silosec/", "/etc/silosec/..",
		"my tunnel.conf",	 "tün.conf",
	};
	ss_conf *c;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		c = parse_ok_as(IFACE, ok[i].file);
		assert_string_equal(c->name, ok[i].name);
		ss_conf_free(c);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[SS_CONF_ERR_LEN], prefix[PATH_MAX];
		int ret = ss_conf_parse(IFACE, strlen(IFACE), bad[i], &c, err, sizeof(err));

		assert_int_equal(ret, SS_ERR_FORMAT);
		assert_null(c);
		snprintf(prefix, sizeof(prefix), "%s:1: Name: ", bad[i]);
		if (strncmp(err, prefix, strlen(prefix)))
			fail_msg("want \"%s...\", got \"%s\"", prefix, err);
	}
	/* Name = wins over the file name, and an unnamed text needs it. */
	c = parse_ok_as(IFACE "Name = given\n", "sixteen-chars-xx.conf");
	assert_string_equal(c->name, "given");
	ss_conf_free(c);
	c = parse_ok_as(IFACE "Name = given\n", NULL);
	assert_string_equal(c->name, "given");
	assert_null(c->path);
	ss_conf_free(c);
	assert_int_equal(ss_conf_parse(IFACE, strlen(IFACE), NULL, &c, NULL, 0), SS_ERR_FORMAT);
}

static void parse_relative_paths(void **state)
{
	static const struct {
		const char *file, *value, *want;
	} cases[] = {
		{"/etc/silosec/ss0.conf", "node.key", "/etc/silosec/node.key"},
		{"/etc/silosec/ss0.conf", "keys/node.key", "/etc/silosec/keys/node.key"},
		{"/etc/silosec/ss0.conf", "../node.key", "/etc/silosec/../node.key"},
		{"/etc/silosec/ss0.conf", "/abs/node.key", "/abs/node.key"},
		{"conf/ss0.conf", "node.key", "conf/node.key"},
		{"/ss0.conf", "node.key", "/node.key"},
		/* No directory in the name: relative to the cwd, as written. */
		{"ss0.conf", "node.key", "node.key"},
	};
	char text[256];
	ss_conf *c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[Interface]\nPrivateKeyFile = %s\n", cases[i].value);
		c = parse_ok_as(text, cases[i].file);
		assert_string_equal(c->private_key_file, cases[i].want);
		ss_conf_free(c);
	}
}

/*
 * A relative TrustStore is in the interface's own state directory (the daemon's user owns
 * it, so pins are saved without CAP_DAC_OVERRIDE), wherever the file is; absolute stays.
 */
static void parse_trust_store_in_state_dir(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{IFACE "Name = ss3\nTrustStore = a.trust\n", "/st/ss3/a.trust"},
		{IFACE "TrustStore = sub/a.trust\nName = ss4\n", "/st/ss4/sub/a.trust"},
		{IFACE "TrustStore = /abs/a.trust\n", "/abs/a.trust"},
	};
	ss_conf *c;

	(void)state;
	setenv("SILOSEC_STATE_DIR", "/st", 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = parse_ok_as(cases[i].text, "/etc/silosec/x.conf");
		assert_string_equal(c->trust_store, cases[i].want);
		ss_conf_free(c);
	}
	unsetenv("SILOSEC_STATE_DIR");
	c = parse_ok_as(IFACE "TrustStore = t\n", "/etc/silosec/ss5.conf");
	assert_string_equal(c->trust_store, SS_STATE_DIR "/ss5/t");
	ss_conf_free(c);
}

static void parse_repeats_append(void **state)
{
	ss_conf *c = parse_ok(IFACE "Address = 10.0.0.1/24\n"
				    "Address = fd00::1/64, 10.1.0.1/16\n"
				    "Address=10.2.0.1\n"
				    "[Peer]\nIdentity = " K1 "\n"
				    "AllowedIPs = 10.0.0.2/32\n"
				    "AllowedIPs = 10.0.1.0/24,10.0.2.0/24 , fd00::2/128\n"
				    "[Peer]\nIdentity = " K2 "\n"
				    "AllowedIPs = 10.0.3.0/24\n");

	(void)state;
	assert_int_equal(c->naddrs, 4);
	assert_cidr(&c->addrs[0], "10.0.0.1/24");
	assert_cidr(&c->addrs[1], "fd00::1/64");
	assert_cidr(&c->addrs[2], "10.1.0.1/16");
	assert_cidr(&c->addrs[3], "10.2.0.1/32");
	assert_int_equal(c->peers[0].nallowed, 4);
	assert_cidr(&c->peers[0].allowed[0], "10.0.0.2/32");
	assert_cidr(&c->peers[0].allowed[1], "10.0.1.0/24");
	assert_cidr(&c->peers[0].allowed[2], "10.0.2.0/24");
	assert_cidr(&c->peers[0].allowed[3], "fd00::2/128");
	assert_int_equal(c->peers[1].nallowed, 1);
	assert_cidr(&c->peers[1].allowed[0], "10.0.3.0/24");
	ss_conf_free(c);
}

static void parse_many_items(void **state)
{
	/* Enough items to grow the arrays several times. */
	size_t cap = 64 * 1024, off = 0;
	char *text = malloc(cap);
	ss_conf *c;

	(void)state;
	assert_non_null(text);
	off += (size_t)snprintf(text + off, cap - off, IFACE "[Peer]\nIdentity = " K1 "\n");
	for (int i = 0; i < 1000; i++)
		off += (size_t)snprintf(text + off, cap - off, "AllowedIPs = 10.%d.%d.0/24\n",
					i / 256, i % 256);
	c = parse_ok(text);
	assert_int_equal(c->peers[0].nallowed, 1000);
	assert_cidr(&c->peers[0].allowed[999], "10.3.231.0/24");
	ss_conf_free(c);
	free(text);
}

static void parse_case_insensitive(void **state)
{
	ss_conf *c = parse_ok("[INTERFACE]\n"
			      "privatekey = " K0 "\n"
			      "NAME = Ab0\n"
			      "address = 10.0.0.1/24\n"
			      "LISTENPORT = 7\n"
			      "transport = UDP\n"
			      "mtu = 1500\n"
			      "truststore = t\n"
			      "ACCEPTTOFU = On\n"
			      "[pEEr]\n"
			      "IDENTITY = TOFU\n"
			      "endpoint = Host.Name:7\n"
			      "allowedips = 10.0.0.2\n"
			      "persistentkeepalive = OFF\n"
			      "[peer]\n"
			      "Identity = " K1 "\n"
			      "PersistentKeepAlive = 0\n");

	(void)state;
	/* Keys are case-insensitive; values that are names are kept as written. */
	assert_string_equal(c->name, "Ab0");
	assert_true(c->has_private_key);
	assert_int_equal(c->naddrs, 1);
	assert_int_equal(c->listen_port, 7);
	assert_int_equal(c->transport, SS_TRANSPORT_UDP);
	assert_int_equal(c->mtu, 1500);
	assert_string_equal(c->trust_store, SS_STATE_DIR "/Ab0/t");
	assert_true(c->accept_anonymous);
	assert_int_equal(c->npeers, 2);
	assert_true(c->peers[0].tofu);
	assert_string_equal(c->peers[0].endpoint, "Host.Name:7");
	assert_int_equal(c->peers[0].nallowed, 1);
	assert_int_equal(c->peers[0].keepalive, 0);
	assert_false(c->peers[1].tofu);
	ss_conf_free(c);
}

static void parse_booleans_and_numbers(void **state)
{
	static const struct {
		const char *val;
		bool want;
	} bools[] = {
		{"yes", true},	  {"true", true}, {"on", true}, {"1", true},   {"no", false},
		{"false", false}, {"off", false}, {"0", false}, {"YES", true}, {"False", false},
	};
	char text[256];
	ss_conf *c;

	(void)state;
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		snprintf(text, sizeof(text), IFACE "AcceptTofu = %s\n", bools[i].val);
		c = parse_ok(text);
		assert_int_equal(c->accept_anonymous, bools[i].want);
		ss_conf_free(c);
	}
	c = parse_ok(IFACE "ListenPort = 1\nMTU = 576\nAddress = 10.0.0.1\n"
			   "[Peer]\nIdentity = " K1 "\nPersistentKeepalive = 65535\n");
	assert_int_equal(c->listen_port, 1);
	assert_int_equal(c->mtu, 576);
	assert_int_equal(c->peers[0].keepalive, 65535);
	ss_conf_free(c);
	/* Durations take units, as everywhere (issue 15, item 8). */
	c = parse_ok(IFACE "[Peer]\nIdentity = " K1 "\nPersistentKeepalive = 1m\n");
	assert_int_equal(c->peers[0].keepalive, 60);
	ss_conf_free(c);
	c = parse_ok(IFACE "ListenPort = 65535\nMTU = 65535\n");
	assert_int_equal(c->listen_port, 65535);
	assert_int_equal(c->mtu, 65535);
	ss_conf_free(c);
	/* 1280 is the IPv6 minimum, whichever order MTU and Address come in. */
	c = parse_ok(IFACE "MTU = 1280\nAddress = 10.0.0.1/24, fd00::1/64\n");
	assert_int_equal(c->mtu, 1280);
	ss_conf_free(c);
}

static void parse_whitespace_and_comments(void **state)
{
	ss_conf *c = parse_ok("# CRLF line ends, tabs, comments everywhere\r\n"
			      "  [Interface]   # trailing comment\r\n"
			      "\tPrivateKey\t=\t" K0 "\t# base64 never holds '#'\r\n"
			      "Name=ss1#glued comment\r\n"
			      "   ; indented semicolon comment\r\n"
			      "   # indented hash comment\r\n"
			      "\r\n"
			      "\t\t\n"
			      "[Peer]\r\n"
			      "Identity = " K1 "\r\n"
			      "Endpoint = h:1 # remote");

	(void)state;
	assert_string_equal(c->name, "ss1");
	assert_true(c->has_private_key);
	assert_string_equal(c->peers[0].endpoint, "h:1");
	ss_conf_free(c);
}

static void parse_line_limits(void **state)
{
	static char text[sizeof(IFACE) + SS_CONF_MAX_LINE + 64];
	const size_t off = sizeof(IFACE) - 1;

	(void)state;
	/* A comment line of exactly SS_CONF_MAX_LINE bytes is fine. */
	memcpy(text, IFACE, off);
	memset(text + off, '#', SS_CONF_MAX_LINE);
	strcpy(text + off + SS_CONF_MAX_LINE, "\nName = ok\n");
	ss_conf_free(parse_ok(text));

	/* One more byte is not, even in a comment. */
	memset(text + off, '#', SS_CONF_MAX_LINE + 1);
	strcpy(text + off + SS_CONF_MAX_LINE + 1, "\nName = ok\n");
	expect_error(text, 3, "longer than 4096");
	/* The last line, without a newline. */
	text[off + SS_CONF_MAX_LINE + 1] = '\0';
	expect_error(text, 3, "longer than 4096");

	/* NUL bytes, in a value or in a comment. */
	expect_error_len(IFACE "Name = s\0s0\n", strlen(IFACE) + 12, 3, "NUL");
	expect_error_len(IFACE "# \0\n", strlen(IFACE) + 4, 3, "NUL");
	expect_error_len("\0", 1, 1, "NUL");
}

static void parse_peer_limit(void **state)
{
	static const char peer[] = "[Peer]\nIdentity = tofu\nEndpoint = h:1\n";
	size_t n = SS_CONF_MAX_PEERS + 1, len = strlen(IFACE TS) + n * strlen(peer);
	char *text = malloc(len + 1), *p = text;
	ss_conf *c;

	(void)state;
	assert_non_null(text);
	p += sprintf(p, IFACE TS);
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s", peer);
	/* Exactly SS_CONF_MAX_PEERS parse; one more is refused at its header. */
	assert_int_equal(ss_conf_parse(text, len - strlen(peer), "test.conf", &c, NULL, 0), 0);
	assert_int_equal(c->npeers, SS_CONF_MAX_PEERS);
	assert_int_equal(c->peers[SS_CONF_MAX_PEERS - 1].line, 4 + 3 * (SS_CONF_MAX_PEERS - 1));
	ss_conf_free(c);
	expect_error(text, 4 + 3 * SS_CONF_MAX_PEERS, "[Peer]: more than 100000 peers");
	free(text);
}

/* Each single-valued key, given twice: refused on the second line, naming the key. */
static void error_duplicate_keys(void **state)
{
	static const struct {
		const char *section, *line1, *line2, *key;
	} dup[] = {
		{IFACE, "Name = a", "name = b", "Name"},
		{"[Interface]\n", "PrivateKey = " K0, "PrivateKey = " K0, "PrivateKey"},
		{"[Interface]\n", "PrivateKeyFile = a", "PrivateKeyFile = a", "PrivateKeyFile"},
		{IFACE, "ListenPort = 1", "ListenPort = 1", "ListenPort"},
		{IFACE, "Transport = udp", "Transport = ip", "Transport"},
		{IFACE, "MTU = 1420", "MTU = 1420", "MTU"},
		{IFACE, "TrustStore = a", "TrustStore = b", "TrustStore"},
		{IFACE, "AcceptTofu = yes", "AcceptTofu = no", "AcceptTofu"},
		{IFACE "[Peer]\n", "Identity = " K1, "Identity = " K2, "Identity"},
		{IFACE "[Peer]\nIdentity = " K1 "\n", "Endpoint = a:1", "ENDPOINT = b:2",
		 "Endpoint"},
		{IFACE "[Peer]\nIdentity = " K1 "\n", "PersistentKeepalive = 1",
		 "PersistentKeepalive = off", "PersistentKeepalive"},
	};
	char text[512], want[64];

	(void)state;
	for (size_t i = 0; i < sizeof(dup) / sizeof(dup[0]); i++) {
		unsigned line = 2;

		for (const char *s = dup[i].section; *s; s++)
			line += *s == '\n';
		snprintf(text, sizeof(text), "%s%s\n%s\n", dup[i].section, dup[i].line1,
			 dup[i].line2);
		snprintf(want, sizeof(want), "%s: duplicate key (first on line %u)", dup[i].key,
			 line - 1);
		expect_error(text, line, want);
	}
	/* Single-valued per section: two peers may each have an Endpoint. */
	ss_conf_free(parse_ok(IFACE "[Peer]\nIdentity = " K1 "\nEndpoint = a:1\n"
				    "[Peer]\nIdentity = " K2 "\nEndpoint = a:1\n"));
}

static void error_structure(void **state)
{
	(void)state;
	/* Keys before any section. */
	expect_error("Name = ss0\n" IFACE, 1, "Name: key outside of a section");
	expect_error("# c\nListenPort = 1\n" IFACE, 2, "ListenPort: key outside");
	/* Unknown sections and malformed headers. */
	expect_error(IFACE "[WireGuard]\n", 3, "unknown section \"[WireGuard]\"");
	expect_error(IFACE "[]\n", 3, "unknown section \"[]\"");
	expect_error(IFACE "[ Peer ]\n", 3, "unknown section \"[ Peer ]\"");
	expect_error(IFACE "[Peer] x\n", 3, "\"[Peer] x\" is not of the form [Name]");
	expect_error(IFACE "[Peer\n", 3, "\"[Peer\" is not of the form [Name]");
	expect_error(IFACE "[Peer]]\n", 3, "is not of the form [Name]");
	/* Unknown keys, and keys in the wrong section. */
	expect_error(IFACE "Foo = 1\n", 3, "Foo: unknown key in [Interface]");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nPublicKey = " K1 "\n", 5,
		     "PublicKey: unknown key in [Peer]");
	expect_error(IFACE "Endpoint = h:1\n", 3,
		     "Endpoint: belongs in [Peer], not in [Interface]");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nmtu = 1400\n", 5,
		     "MTU: belongs in [Interface], not in [Peer]");
	/* Lines that are not Key = Value. */
	expect_error(IFACE "Name ss0\n", 3, "expected \"Key = Value\" or \"[Section]\"");
	expect_error(IFACE "= ss0\n", 3, "key name of letters only");
	expect_error(IFACE "Listen Port = 1\n", 3, "key name of letters only");
	expect_error(IFACE "Name =\n", 3, "Name: empty value");
	expect_error(IFACE "Name = # comment only\n", 3, "Name: empty value");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nAllowedIPs =\n", 5,
		     "AllowedIPs: empty value");
	/* A second [Interface], and none at all. */
	expect_error(IFACE "[interface]\n", 3,
		     "[Interface]: second [Interface] section (first on line 1)");
	expect_error("[Peer]\nIdentity = " K1 "\n", 2, "missing [Interface] section");
	expect_error("[Peer]\nIdentity = " K1 "\n# trailing\n\n", 4, "missing [Interface]");
	expect_error("", 1, "missing [Interface]");
	expect_error("\n\n# nothing\n", 3, "missing [Interface]");
}

static void error_allow_key(void **state)
{
	static const char text[] = IFACE "[Peer]\nIdentity = " K1 "\nAllow = ping\n";
	char err[SS_CONF_ERR_LEN];
	ss_conf *c;

	(void)state;
	assert_int_equal(ss_conf_parse(text, strlen(text), "test.conf", &c, err, sizeof(err)),
			 SS_ERR_FORMAT);
	assert_string_equal(err, "test.conf:5: Allow: expected tcp, udp, icmp or any, got 'ping'");
	expect_error(IFACE "ALLOW = *\n", 3, "Allow: belongs in [Peer]");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nAllow = tcp 22, icmp 7\n", 5,
		     "Allow: ports only go with tcp or udp, got '7'");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nAllow = tcp 80-22\n", 5,
		     "Allow: expected PORT or PORT-PORT");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nAllow = tcp 22 to\n", 5,
		     "Allow: 'to' needs ADDR/PREFIX");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nAllow = tcp 22,\n", 5, "Allow: empty rule");
	expect_error(IFACE "Policy = maybe\n", 3, "Policy: \"maybe\" is neither allow nor deny");
	expect_error(IFACE "ConntrackPerPeer = 0\n", 3, "ConntrackPerPeer");
	expect_error(IFACE "TunRing = sometimes\n", 3, "TunRing: \"sometimes\" is not yes/no");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nTunRing = no\n", 5, "TunRing");
}

/* The TUN packet ring is off unless TunRing asks for it (silosecd(8): it costs isolation). */
static void tun_ring_key(void **state)
{
	ss_conf *c;

	(void)state;
	c = parse_ok(IFACE);
	assert_false(c->tun_ring);
	ss_conf_free(c);
	c = parse_ok(IFACE "TunRing = yes\n");
	assert_true(c->tun_ring);
	ss_conf_free(c);
	c = parse_ok(IFACE "tunring = Off\n");
	assert_false(c->tun_ring);
	ss_conf_free(c);
}

/* Relay = yes|serve|no (PROTOCOL.md 16.7); relayed interfaces default to SS_RELAY_MTU. */
static void relay_key(void **state)
{
	ss_conf *c;

	(void)state;
	c = parse_ok(IFACE "[Peer]\nIdentity = " K1 "\nRelay = yes\n[Peer]\nIdentity = " K2
			   "\nrelay = Serve\n");
	assert_int_equal(c->peers[0].relay, SS_CONF_RELAY_USE);
	assert_int_equal(c->peers[1].relay, SS_CONF_RELAY_SERVE);
	assert_int_equal(c->mtu, SS_RELAY_MTU);
	ss_conf_free(c);
	c = parse_ok(IFACE "MTU = 1500\n[Peer]\nIdentity = " K1 "\nRelay = yes\n");
	assert_int_equal(c->mtu, 1500); /* an explicit MTU stays */
	ss_conf_free(c);
	c = parse_ok(IFACE "[Peer]\nIdentity = " K1 "\nRelay = no\n[Peer]\nIdentity = " K2
			   "\nRelay = serve\n");
	assert_int_equal(c->peers[0].relay, SS_CONF_RELAY_NO);
	assert_int_equal(c->mtu, SS_CONF_DEFAULT_MTU); /* serving adds nothing to our packets */
	ss_conf_free(c);
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nRelay = maybe\n", 5,
		     "Relay: \"maybe\" is not yes, serve or no");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nRelay = yes\nRelay = no\n", 6, "Relay");
	expect_error(IFACE TS "[Peer]\nIdentity = tofu\nEndpoint = 1.2.3.4:5\nRelay = yes\n", 7,
		     "Relay: needs a configured Identity, not tofu");
	expect_error(IFACE "Relay = yes\n", 3, "Relay");
}

/* PROTOCOL.md 16.4, 16.6: introducers are configured identities, never TOFU. */
static void reach_keys(void **state)
{
	ss_conf *c;

	(void)state;
	c = parse_ok(IFACE "[Peer]\nIdentity = " K1 "\n");
	assert_false(c->peers[0].introducer);
	assert_false(c->peers[0].introduce);
	assert_false(c->advertise_local);
	assert_int_equal(c->ncand_allow, 0);
	ss_conf_free(c);
	c = parse_ok(IFACE "AdvertiseLocal = yes\nCandidateAllow = 198.51.100.0/24, 10.0.0.0/8\n"
			   "CandidateAllow = fd00::/8\n[Peer]\nIdentity = " K1
			   "\nIntroducer = yes\n[Peer]\nIdentity = " K2 "\nIntroduce = yes\n");
	assert_true(c->advertise_local);
	assert_int_equal(c->ncand_allow, 3);
	assert_cidr(&c->cand_allow[2], "fd00::/8");
	assert_true(c->peers[0].introducer);
	assert_false(c->peers[0].introduce);
	assert_false(c->peers[1].introducer);
	assert_true(c->peers[1].introduce);
	ss_conf_free(c);
	expect_error(IFACE TS "[Peer]\nIdentity = tofu\nEndpoint = 192.0.2.1:1\n"
			      "Introducer = yes\n",
		     7, "Introducer: an introducer needs a configured Identity");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nIntroducer = maybe\n", 5,
		     "Introducer: \"maybe\" is not yes/no");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nIntroduce = 2\n", 5, "Introduce:");
	expect_error(IFACE "CandidateAllow = 10.0.0.0/33\n", 3, "CandidateAllow:");
	expect_error(IFACE "CandidateAllow = 1.0.0.0/8, 2.0.0.0/8, 3.0.0.0/8, 4.0.0.0/8, "
			   "5.0.0.0/8, 6.0.0.0/8, 7.0.0.0/8, 8.0.0.0/8, 9.0.0.0/8, 10.0.0.0/8, "
			   "11.0.0.0/8, 12.0.0.0/8, 13.0.0.0/8, 14.0.0.0/8, 15.0.0.0/8, "
			   "16.0.0.0/8, 17.0.0.0/8\n",
		     3, "CandidateAllow: more than 16 prefixes");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nAdvertiseLocal = yes\n", 5,
		     "AdvertiseLocal");
}

/* LAN discovery is off unless asked for; "peers" and "open" are its modes (16.9). */
static void lan_discovery_key(void **state)
{
	ss_conf *c;

	(void)state;
	c = parse_ok(IFACE);
	assert_int_equal(c->lan_discovery, SS_LAN_OFF);
	ss_conf_free(c);
	c = parse_ok(IFACE "LanDiscovery = peers\n");
	assert_int_equal(c->lan_discovery, SS_LAN_MODE_PEERS);
	ss_conf_free(c);
	c = parse_ok(IFACE "landiscovery = Open\n");
	assert_int_equal(c->lan_discovery, SS_LAN_MODE_OPEN);
	ss_conf_free(c);
	c = parse_ok(IFACE "LanDiscovery = off\n");
	assert_int_equal(c->lan_discovery, SS_LAN_OFF);
	ss_conf_free(c);
	expect_error(IFACE "LanDiscovery = yes\n", 3,
		     "LanDiscovery: \"yes\" is not off, peers or open");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nLanDiscovery = peers\n", 5, "LanDiscovery");
}

static void allow_and_policy(void **state)
{
	ss_conf *c;

	(void)state;
	c = parse_ok(IFACE "Policy = allow\nConntrackPerPeer = 16\n[Peer]\nIdentity = " K1
			   "\nAllow = tcp 22, udp 53\nallow = icmp, any to 10.0.0.0/8\n"
			   "[Peer]\nIdentity = " K2 "\n");
	assert_true(c->policy_allow);
	assert_int_equal(c->ct_per_peer, 16);
	assert_true(c->peers[0].has_allow);
	assert_int_equal(c->peers[0].nallow, 4);
	assert_int_equal(c->peers[0].allow_line, 8);
	assert_false(c->peers[1].has_allow);
	assert_int_equal(c->peers[1].nallow, 0);
	ss_conf_free(c);
	c = parse_ok(IFACE "[Peer]\nIdentity = " K1 "\nAllow = none\n");
	assert_false(c->policy_allow);
	assert_int_equal(c->ct_per_peer, SS_CONF_DEFAULT_CT_PER_PEER);
	assert_true(c->peers[0].has_allow);
	assert_int_equal(c->peers[0].nallow, 0);
	ss_conf_free(c);
}

/* ss_conf_lint: collects "LINE: message" lines for the assertions. */
struct lint_out {
	char text[2048];
	size_t len;
};

static void lint_collect(void *arg, unsigned line, const char *msg)
{
	struct lint_out *o = arg;

	o->len +=
		(size_t)snprintf(o->text + o->len, sizeof(o->text) - o->len, "%u: %s\n", line, msg);
}

static size_t lint(const char *text, const uint8_t *own, struct lint_out *o)
{
	ss_conf *c = parse_ok(text);
	size_t n;

	memset(o, 0, sizeof(*o));
	n = ss_conf_lint(c, own, lint_collect, o);
	ss_conf_free(c);
	return n;
}

static void lint_warnings(void **state)
{
	struct lint_out o;
	uint8_t own[32];

	(void)state;
	/* Clean: Allow under deny, a /0 with the automatic table, disjoint prefixes. */
	assert_int_equal(lint(IFACE
			      "[Peer]\nName = a\nIdentity = " K1
			      "\nAllowedIPs = 0.0.0.0/0\nAllow = tcp 22\n[Peer]\nIdentity = " K2
			      "\nAllowedIPs = fd00::2/128\nAllow = none\n",
			      NULL, &o),
			 0);
	/* Policy = deny and no Allow: named by Name, else by fingerprint. */
	assert_int_equal(lint(IFACE "[Peer]\nName = bob\nIdentity = " K1 "\n", NULL, &o), 1);
	assert_non_null(strstr(o.text, "3: peer bob has no Allow and Policy = deny"));
	assert_int_equal(lint(IFACE "Policy = allow\n[Peer]\nIdentity = " K1 "\n", NULL, &o), 0);
	/* A group's Allow counts. */
	assert_int_equal(lint(IFACE "[Group g]\nAllow = tcp 22\n[Peer]\nIdentity = " K1
				    "\nGroups = g\n",
			      NULL, &o),
			 0);
	/* This host's own identity. */
	memset(own, 1, sizeof(own));
	assert_int_equal(
		lint(IFACE "[Peer]\nName = me\nIdentity = " K1 "\nAllow = none\n", own, &o), 1);
	assert_non_null(strstr(o.text, "peer me is this host's own identity"));
	/* A /0 with Table = off or a number. */
	assert_int_equal(lint(IFACE "Table = off\n[Peer]\nName = gw\nIdentity = " K1
				    "\nAllowedIPs = ::/0\nAllow = none\n",
			      NULL, &o),
			 1);
	assert_non_null(strstr(o.text, "4: peer gw: AllowedIPs ::/0 with Table = off"));
	assert_int_equal(lint(IFACE "Table = 100\n[Peer]\nIdentity = " K1
				    "\nAllowedIPs = 0.0.0.0/0\nAllow = none\n",
			      NULL, &o),
			 1);
	/* Overlap: one prefix contains the other; neighbours do not overlap. */
	assert_int_equal(lint(IFACE "[Peer]\nName = a\nIdentity = " K1
				    "\nAllowedIPs = 10.1.0.0/16\nAllow = none\n[Peer]\nName = b\n"
				    "Identity = " K2 "\nAllowedIPs = 10.1.2.3/32\nAllow = none\n",
			      NULL, &o),
			 1);
	assert_non_null(strstr(o.text, "8: peer b: AllowedIPs 10.1.2.3/32 overlaps 10.1.0.0/16 "
				       "of peer a (line 3)"));
	assert_int_equal(lint(IFACE "[Peer]\nIdentity = " K1
				    "\nAllowedIPs = 10.1.0.0/24\nAllow = none\n[Peer]\n"
				    "Identity = " K2 "\nAllowedIPs = 10.1.1.0/25\nAllow = none\n",
			      NULL, &o),
			 0);
}

static void error_interface_keys(void **state)
{
	(void)state;
	/* Private key: exactly one of the two. */
	expect_error("[Interface]\nName = ss0\n[Peer]\nIdentity = " K1 "\n", 1,
		     "[Interface]: needs PrivateKey or PrivateKeyFile");
	expect_error("[Interface]\nName = ss0\n", 1, "needs PrivateKey or PrivateKeyFile");
	expect_error("[Interface]\nPrivateKey = " K0 "\nPrivateKeyFile = k\n", 3,
		     "PrivateKeyFile: PrivateKey and PrivateKeyFile are exclusive (the other is "
		     "on line 2)");
	expect_error("[Interface]\nPrivateKeyFile = k\nPrivateKey = " K0 "\n", 3,
		     "PrivateKey: PrivateKey and PrivateKeyFile are exclusive");
	/* Name. */
	expect_error(IFACE "Name = .\n", 3, "Name: \".\" is not an interface name");
	expect_error(IFACE "Name = ..\n", 3, "Name: \"..\"");
	expect_error(IFACE "Name = sixteen-chars-xx\n", 3, "Name: \"sixteen-chars-xx\"");
	expect_error(IFACE "Name = my tun\n", 3, "Name: \"my tun\"");
	expect_error(IFACE "Name = a/b\n", 3, "Name: \"a/b\"");
	/* Address. */
	expect_error(IFACE "Address = 10.0.0.1/33\n", 3, "Address: \"10.0.0.1/33\" is not");
	expect_error(IFACE "Address = fd00::1/129\n", 3, "Address: \"fd00::1/129\"");
	expect_error(IFACE "Address = bogus\n", 3, "Address: \"bogus\"");
	expect_error(IFACE "Address = 10.0.0.1/24,,10.0.0.2\n", 3, "Address: empty item");
	expect_error(IFACE "Address = 10.0.0.1/24,\n", 3, "Address: empty item");
	expect_error(IFACE "Address = , 10.0.0.1/24\n", 3, "Address: empty item");
	expect_error(IFACE "Address = 10.0.0.1/24 10.0.0.2/24\n", 3,
		     "Address: \"10.0.0.1/24 10.0.0.2/24\"");
	/* ListenPort. */
	expect_error(IFACE "ListenPort = 0\n", 3, "ListenPort: \"0\" is not a port");
	expect_error(IFACE "ListenPort = 65536\n", 3, "ListenPort: \"65536\"");
	expect_error(IFACE "ListenPort = -1\n", 3, "ListenPort: \"-1\"");
	expect_error(IFACE "ListenPort = 0x10\n", 3, "ListenPort: \"0x10\"");
	expect_error(IFACE "ListenPort = 99999999999999999999\n", 3, "ListenPort: \"9999");
	/* Transport. */
	expect_error(IFACE "Transport = tcp\n", 3, "Transport: \"tcp\" is not udp or ip");
	/* MTU: the IPv6 minimum is checked at the end, reported on the MTU line. */
	expect_error(IFACE "MTU = 575\n", 3, "MTU: \"575\"");
	expect_error(IFACE "MTU = 65536\n", 3, "MTU: \"65536\"");
	expect_error(IFACE "MTU = big\n", 3, "MTU: \"big\"");
	expect_error(IFACE "MTU = 1279\nAddress = 10.0.0.1/24\nAddress = fd00::1/64\n", 3,
		     "MTU: 1279 is below 1280");
	expect_error(IFACE "Address = fd00::1/64\nMTU = 576\n", 4, "MTU: 576 is below 1280");
	/* AcceptTofu. */
	expect_error(IFACE "AcceptTofu = maybe\n", 3, "AcceptTofu: \"maybe\"");
	expect_error(IFACE "AcceptTofu = y\n", 3, "AcceptTofu: \"y\"");
}

static void error_private_key_not_echoed(void **state)
{
	/* The last character has non-zero padding bits: a near-miss key. */
	static const char *const texts[] = {
		"[Interface]\nPrivateKey = AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n",
		"[Interface]\nPrivateKey = AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
		"[Interface]\nPrivateKey = AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==\n",
		/* '=' forgotten: the key's own padding becomes the separator. */
		"[Interface]\nPrivateKey AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
		"[Interface]\nPrivateKey: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
		"[Interface]\nPrivateKey AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
	};
	char err[SS_CONF_ERR_LEN];
	ss_conf *c;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(ss_conf_parse(texts[i], strlen(texts[i]), "test.conf", &c, err,
					       sizeof(err)),
				 SS_ERR_FORMAT);
		assert_true(!strncmp(err, "test.conf:2: ", 13));
		if (strstr(err, "AAECAwQF"))
			fail_msg("secret echoed: %s", err);
	}
	expect_error(texts[0], 2, "PrivateKey: value is not a base64 32-byte key");
	expect_error("[Interface]\nPrivateKey = " K0 "\nPrivateKey = " K1 "\n", 3,
		     "PrivateKey: duplicate key");
}

static void error_peer_keys(void **state)
{
	(void)state;
	/* Identity: missing, malformed, duplicated, tofu without an endpoint. */
	expect_error(IFACE "[Peer]\nEndpoint = h:1\n[Peer]\nIdentity = " K1 "\n", 3,
		     "[Peer]: Identity is missing");
	expect_error(IFACE "[Peer]\nAllowedIPs = 10.0.0.2/32\n", 3, "[Peer]: Identity is missing");
	expect_error(IFACE "[Peer]\n", 3, "[Peer]: Identity is missing");
	expect_error(IFACE "[Peer]\nIdentity = notakey\n", 4,
		     "Identity: \"notakey\" is neither tofu nor a base64 32-byte key");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "x\n", 4, "Identity: \"" K1 "x\"");
	expect_error(IFACE "[Peer]\nIdentity = tofus\n", 4, "Identity: \"tofus\"");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\n"
			   "[Peer]\nIdentity = " K2 "\n"
			   "[Peer]\n# the same again\nIdentity = " K1 "\n"
			   "[Peer]\nIdentity = " K2 "\n",
		     9, "Identity: \"" K1 "\" is already the identity of the peer on line 3");
	expect_error(IFACE "[Peer]\nIdentity = tofu\n", 3,
		     "[Peer]: Identity = tofu needs an Endpoint");
	expect_error(IFACE "[Peer]\nIdentity = tofu\nAllowedIPs = 10.0.0.2\n[Peer]\nIdentity = " K1
			   "\n",
		     3, "Identity = tofu needs an Endpoint");
	/* Several TOFU peers do not collide on their (unset) identity. */
	ss_conf_free(parse_ok(IFACE "TrustStore = t\n[Peer]\nIdentity = tofu\nEndpoint = a:1\n"
				    "[Peer]\nIdentity = tofu\nEndpoint = b:1\n"));
	/* TOFU pins go to the TrustStore: without one the peer could never be pinned. */
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\n[Peer]\nIdentity = tofu\nEndpoint = a:1\n",
		     5, "Identity = tofu needs TrustStore");
	/* Endpoint. */
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nEndpoint = 2001:db8::1:51999\n", 5,
		     "Endpoint: \"2001:db8::1:51999\": an IPv6 address needs brackets");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nEndpoint = h:0\n", 5,
		     "Endpoint: \"h:0\": port must be a number 1..65535");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nEndpoint = host\n", 5,
		     "Endpoint: \"host\": expected HOST:PORT");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nEndpoint = [fd00::1\n", 5,
		     "Endpoint: \"[fd00::1\": missing ']'");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nEndpoint = [h]:1\n", 5,
		     "Endpoint: \"[h]:1\": not an IPv6 address");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nEndpoint = a b:1\n", 5,
		     "Endpoint: \"a b:1\": host contains a space");
	/* AllowedIPs. */
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nAllowedIPs = 10.0.0.2/32, 10.0.0.3/40\n", 5,
		     "AllowedIPs: \"10.0.0.3/40\"");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nAllowedIPs = fd00::/200\n", 5,
		     "AllowedIPs: \"fd00::/200\"");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nAllowedIPs = 10.0.0.2/32,,\n", 5,
		     "AllowedIPs: empty item");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nAllowedIPs = 10.0.0.2/32\n"
			   "AllowedIPs = 10.0.0.x\n",
		     6, "AllowedIPs: \"10.0.0.x\"");
	/* PersistentKeepalive. */
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nPersistentKeepalive = 65536\n", 5,
		     "PersistentKeepalive: \"65536\"");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nPersistentKeepalive = never\n", 5,
		     "PersistentKeepalive: \"never\"");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nPersistentKeepalive = 25x\n", 5,
		     "PersistentKeepalive: \"25x\"");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nPersistentKeepalive = 2d\n", 5,
		     "PersistentKeepalive: \"2d\" is not off or a duration of 0..65535 seconds");
}

static void error_buffer_handling(void **state)
{
	static const char text[] = IFACE "Foo = 1\n";
	char err[16];
	ss_conf *c;

	(void)state;
	/* err may be NULL; a short buffer is truncated and terminated. */
	assert_int_equal(ss_conf_parse(text, strlen(text), "test.conf", &c, NULL, 0),
			 SS_ERR_FORMAT);
	assert_null(c);
	memset(err, 'x', sizeof(err));
	assert_int_equal(ss_conf_parse(text, strlen(text), "test.conf", &c, err, sizeof(err)),
			 SS_ERR_FORMAT);
	assert_string_equal(err, "test.conf:3: Fo");
	memset(err, 'x', sizeof(err));
	assert_int_equal(ss_conf_parse(text, strlen(text), "a-very-long-file-name.conf", &c, err,
				       sizeof(err)),
			 SS_ERR_FORMAT);
	assert_string_equal(err, "a-very-long-fil");
	/* Length, not NUL, ends the text. */
	c = parse_ok_as(IFACE "Name = ab", "x.conf");
	ss_conf_free(c);
	assert_int_equal(ss_conf_parse(IFACE "Name = ab\nFoo", strlen(IFACE) + 9, "t", &c, NULL, 0),
			 0);
	assert_string_equal(c->name, "ab");
	ss_conf_free(c);
	assert_int_equal(ss_conf_parse(text, strlen(text), "test.conf", NULL, NULL, 0),
			 SS_ERR_INVAL);
	assert_int_equal(ss_conf_parse(NULL, 1, "test.conf", &c, NULL, 0), SS_ERR_INVAL);
	ss_conf_free(NULL);
}

/* ---- ss_conf_load ---- */

static int tmpdir_setup(void **state)
{
	char *dir = strdup("/tmp/ss_test_config_XXXXXX");

	if (!dir || !mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int tmpdir_teardown(void **state)
{
	char *dir = *state, path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d) {
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (unlink(path) < 0)
				rmdir(path);
		}
		closedir(d);
	}
	rmdir(dir);
	free(dir);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void load_resolves_and_names(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX], want[PATH_MAX], err[SS_CONF_ERR_LEN];
	ss_conf *c;

	snprintf(path, sizeof(path), "%s/ss7.conf", dir);
	write_file(path, "[Interface]\n"
			 "PrivateKeyFile = node.key\n"
			 "TrustStore = trust/ss7.trust\n"
			 "Address = 10.7.0.1/24\n"
			 "[Peer]\n"
			 "Identity = tofu\n"
			 "Endpoint = peer.example:51999\n");
	assert_int_equal(ss_conf_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(c->path, path);
	assert_string_equal(c->name, "ss7");
	snprintf(want, sizeof(want), "%s/node.key", dir);
	assert_string_equal(c->private_key_file, want);
	assert_string_equal(c->trust_store, SS_STATE_DIR "/ss7/trust/ss7.trust");
	assert_int_equal(c->npeers, 1);
	ss_conf_free(c);

	/* No ".conf": the whole base name; inline key; absolute paths untouched. */
	snprintf(path, sizeof(path), "%s/tun-b", dir);
	write_file(path, IFACE "TrustStore = /var/lib/silosec/b.trust\n");
	assert_int_equal(ss_conf_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c->name, "tun-b");
	assert_true(c->has_private_key);
	assert_null(c->private_key_file);
	assert_string_equal(c->trust_store, "/var/lib/silosec/b.trust");
	ss_conf_free(c);
}

static void load_errors(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX], want[PATH_MAX + 64], err[SS_CONF_ERR_LEN];
	ss_conf *c = (ss_conf *)&c;
	int fd;

	/* Content errors carry the path and line. */
	snprintf(path, sizeof(path), "%s/bad.conf", dir);
	write_file(path, IFACE "\n\nListenPort = 0\n");
	assert_int_equal(ss_conf_load(path, &c, err, sizeof(err)), SS_ERR_FORMAT);
	assert_null(c);
	snprintf(want, sizeof(want), "%s:5: ListenPort: \"0\"", path);
	assert_true(!strncmp(err, want, strlen(want)));

	/* File errors: "FILE: strerror". */
	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	assert_int_equal(ss_conf_load(path, &c, err, sizeof(err)), SS_ERR_IO);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
	assert_int_equal(ss_conf_load(dir, &c, err, sizeof(err)), SS_ERR_IO);
	snprintf(want, sizeof(want), "%s: Is a directory", dir);
	assert_string_equal(err, want);

	/* Over 16 MiB is refused (sparse: nothing is written), exactly 16 MiB is read. */
	snprintf(path, sizeof(path), "%s/huge.conf", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (16 << 20) + 1), 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(ss_conf_load(path, &c, err, sizeof(err)), SS_ERR_FORMAT);
	snprintf(want, sizeof(want), "%s: larger than 16 MiB", path);
	assert_string_equal(err, want);
	assert_null(c);
	assert_int_equal(truncate(path, 16 << 20), 0);
	assert_int_equal(ss_conf_load(path, &c, err, sizeof(err)), SS_ERR_FORMAT);
	snprintf(want, sizeof(want), "%s:1: ", path);
	assert_true(!strncmp(err, want, strlen(want)));

	assert_int_equal(ss_conf_load(NULL, &c, err, sizeof(err)), SS_ERR_INVAL);
	assert_int_equal(ss_conf_load(path, NULL, NULL, 0), SS_ERR_INVAL);
}

static void load_from_pipe(void **state)
{
	/* No size from fstat: the buffer grows while reading. */
	static const char head[] = IFACE "[Peer]\nIdentity = " K1 "\n";
	char path[PATH_MAX], err[SS_CONF_ERR_LEN];
	ss_conf *c;
	pid_t pid;
	int status;
	FILE *f;

	snprintf(path, sizeof(path), "%s/pipe.conf", (const char *)*state);
	assert_int_equal(mkfifo(path, 0600), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		f = fopen(path, "w");
		if (!f)
			_exit(1);
		fputs(head, f);
		for (int i = 0; i < 5000; i++)
			fprintf(f, "AllowedIPs = 10.%d.%d.0/24 # padding padding\n", i / 256,
				i % 256);
		_exit(fclose(f) ? 1 : 0);
	}
	assert_int_equal(ss_conf_load(path, &c, err, sizeof(err)), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_string_equal(c->name, "pipe");
	assert_int_equal(c->peers[0].nallowed, 5000);
	ss_conf_free(c);
}

/* wg-quick's keys: Table, FwMark, DNS and the four hooks (kept verbatim, in order). */
static void wgquick_keys(void **state)
{
	ss_conf *c;

	(void)state;
	c = parse_ok(IFACE
		     "Table = 1234\nFwMark = 0xca6c\nDNS = 10.0.0.53, fd00::53, corp.example\n"
		     "DNS = lab.example\nPreUp = echo %i > /tmp/x\nPreUp = true\n"
		     "PostDown = ip link del dummy-%i\n");
	assert_int_equal(c->table_mode, SS_TABLE_NUM);
	assert_int_equal(c->table, 1234);
	assert_int_equal(c->fwmark, 0xca6c);
	assert_int_equal(c->ndns_servers, 2);
	assert_string_equal(c->dns_servers[0], "10.0.0.53");
	assert_string_equal(c->dns_servers[1], "fd00::53");
	assert_int_equal(c->ndns_search, 2);
	assert_string_equal(c->dns_search[0], "corp.example");
	assert_string_equal(c->dns_search[1], "lab.example");
	assert_int_equal(c->nhooks[SS_HOOK_PRE_UP], 2);
	assert_string_equal(c->hooks[SS_HOOK_PRE_UP][0], "echo %i > /tmp/x");
	assert_string_equal(c->hooks[SS_HOOK_PRE_UP][1], "true");
	assert_int_equal(c->nhooks[SS_HOOK_POST_UP], 0);
	assert_string_equal(c->hooks[SS_HOOK_POST_DOWN][0], "ip link del dummy-%i");
	ss_conf_free(c);
	c = parse_ok(IFACE "Table = off\nFwMark = off\n");
	assert_int_equal(c->table_mode, SS_TABLE_OFF);
	assert_int_equal(c->fwmark, 0);
	ss_conf_free(c);
	c = parse_ok(IFACE "Table = main\nFwMark = 51820\n");
	assert_int_equal(c->table_mode, SS_TABLE_NUM);
	assert_int_equal(c->table, SS_CONF_TABLE_MAIN);
	assert_int_equal(c->fwmark, 51820);
	ss_conf_free(c);
}

static void wgquick_key_errors(void **state)
{
	(void)state;
	expect_error(IFACE "Table = 0\n", 3, "Table: \"0\" is not auto, off, main");
	expect_error(IFACE "Table = big\n", 3, "Table:");
	expect_error(IFACE "Table = 4294967296\n", 3, "Table:");
	expect_error(IFACE "Table = auto\nTable = off\n", 4, "Table");
	expect_error(IFACE "FwMark = -1\n", 3, "FwMark: \"-1\" is not off or a mark");
	expect_error(IFACE "FwMark = 0x100000000\n", 3, "FwMark:");
	expect_error(IFACE "FwMark = 12ab\n", 3, "FwMark:");
	expect_error(IFACE "DNS = 10.0.0.0/8\n", 3, "DNS: \"10.0.0.0/8\" is neither");
	expect_error(IFACE "DNS = 10.0.0.1,\n", 3, "DNS: \"\" is neither");
	expect_error(IFACE "DNS = bad;name\n", 3, "DNS:");
	expect_error("[Peer]\nPreUp = true\n", 2, "PreUp");
}

/* The mark goes on the transport only for a full tunnel in Table = auto, or when given. */
static void full_tunnel_mark(void **state)
{
	static const struct {
		const char *text;
		uint32_t mark;
	} cases[] = {
		{IFACE "[Peer]\nIdentity = " K1 "\nAllowedIPs = 10.0.0.0/8\n", 0},
		{IFACE "[Peer]\nIdentity = " K1 "\nAllowedIPs = 0.0.0.0/0\n",
		 SS_CONF_TABLE_DEFAULT},
		{IFACE "[Peer]\nIdentity = " K1 "\nAllowedIPs = 10.0.0.0/8, ::/0\n",
		 SS_CONF_TABLE_DEFAULT},
		{IFACE "FwMark = 7\n[Peer]\nIdentity = " K1 "\nAllowedIPs = 0.0.0.0/0\n", 7},
		{IFACE "FwMark = 7\n", 7},
		{IFACE "Table = off\n[Peer]\nIdentity = " K1 "\nAllowedIPs = 0.0.0.0/0\n", 0},
		{IFACE "Table = 9\n[Peer]\nIdentity = " K1 "\nAllowedIPs = ::/0\n", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ss_conf *c = parse_ok(cases[i].text);

		if (ss_conf_fwmark(c) != cases[i].mark)
			fail_msg("case %zu: mark %u, want %u", i, ss_conf_fwmark(c), cases[i].mark);
		ss_conf_free(c);
	}
}

static void hook_expansion(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(ss_hook_expand("ip link set %i up; echo %i", "ss0", out, sizeof(out)), 0);
	assert_string_equal(out, "ip link set ss0 up; echo ss0");
	assert_int_equal(ss_hook_expand("100%% %d %", "ss0", out, sizeof(out)), 0);
	assert_string_equal(out, "100%% %d %");
	assert_int_equal(ss_hook_expand("%%i", "ss0", out, sizeof(out)), 0);
	assert_string_equal(out, "%ss0");
	assert_int_equal(ss_hook_expand("%i", "ss0", out, 4), 0);
	assert_string_equal(out, "ss0");
	assert_int_equal(ss_hook_expand("%i", "ss0", out, 3), SS_ERR_BUFFER);
	assert_int_equal(ss_hook_expand("abc", "ss0", out, 3), SS_ERR_BUFFER);
	assert_int_equal(ss_hook_expand("", "ss0", out, 1), 0);
	assert_string_equal(out, "");
}

/* Issue 15 items 6 and 7: peer names, Groups and [Group NAME] sections. */
#define GROUPED                                                                                    \
	"[Interface]\nPrivateKeyFile = /k\n"                                                       \
	"[Peer]\nName = alice\nIdentity = " K1 "\nGroups = admins, ci\nAllow = tcp 22\n"           \
	"[Peer]\nName = bob\nIdentity = " K2 "\nGroups = ci\n"                                     \
	"[Group admins]\nAllow = tcp 22, tcp 443\n"                                                \
	"[group ci]\nAllow = udp 53\n"

static void names_and_groups(void **state)
{
	ss_conf *c = parse_ok(GROUPED);
	char r[SS_CAP_RULE_STR];
	const ss_conf_peer *a = &c->peers[0], *b = &c->peers[1];

	(void)state;
	assert_string_equal(a->label, "alice");
	assert_int_equal(ss_conf_find_label(c, "bob"), 1);
	assert_int_equal(ss_conf_find_label(c, "carol"), -1);
	assert_int_equal(c->ngroups, 2);
	assert_string_equal(c->groups[1].name, "ci");
	/* Own rules first, then each group's in Groups = order; a repeat keeps its origin. */
	assert_int_equal(a->nown, 1);
	assert_int_equal(a->nallow, 3);
	assert_null(a->origin[0]);
	ss_cap_rule_format(&a->allow[1], r, sizeof(r));
	assert_string_equal(r, "tcp 443");
	assert_string_equal(a->origin[1], "admins");
	ss_cap_rule_format(&a->allow[2], r, sizeof(r));
	assert_string_equal(r, "udp 53");
	assert_string_equal(a->origin[2], "ci");
	/* A peer with no Allow of its own gets its groups' rules. */
	assert_true(b->has_allow);
	assert_false(b->own_allow);
	assert_int_equal(b->nown, 0);
	assert_int_equal(b->nallow, 1);
	assert_string_equal(b->origin[0], "ci");
	ss_conf_free(c);
}

static void names_and_groups_errors(void **state)
{
	(void)state;
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nName = " K2 "\n", 5, "Name: \"");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nName = a b\n", 5, "not a peer name");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nName = x\n[Peer]\nIdentity = " K2
			   "\nName = x\n",
		     8, "already the name of the peer on line 3");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nGroups = ops\n", 5,
		     "Groups: \"ops\" has no [Group ops] section");
	expect_error(IFACE "[Peer]\nIdentity = " K1 "\nGroups = a,,b\n", 5, "not a group name");
	expect_error(IFACE "[Group a]\nAllow = tcp 99999\n", 4, "Allow: ");
	expect_error(IFACE "[Group a]\n[Group a]\n", 4, "second section of that name");
	expect_error(IFACE "[Group]\n", 3, "unknown section");
	expect_error(IFACE "[Group a]\nEndpoint = h:1\n", 4, "Endpoint");
	expect_error(IFACE "SaveConfig = yes\n", 1, "SaveConfig: needs PrivateKeyFile");
	expect_error(IFACE "SaveConfig = maybe\n", 3, "SaveConfig");
	{
		/* Own rules plus the group's over 64: refused at the Groups line. */
		char text[4096] = IFACE "[Peer]\nIdentity = " K1 "\nGroups = g\nAllow = tcp 1";

		for (int i = 2; i <= 40; i++)
			sprintf(text + strlen(text), ", tcp %d", i);
		strcat(text, "\n[Group g]\nAllow = udp 1");
		for (int i = 2; i <= 30; i++)
			sprintf(text + strlen(text), ", udp %d", i);
		strcat(text, "\n");
		expect_error(text, 5, "Groups: more than 64 Allow rules with those of group \"g\"");
	}
}

/* Parse, write, parse again: the same configuration, and no inline key in the text. */
static void write_round_trip(void **state)
{
	static const char text[] =
		"[Interface]\nName = wg9\nPrivateKeyFile = /etc/k\nAddress = 10.0.0.1/24, "
		"fd00::1/64\n"
		"ListenPort = 5000\nMTU = 1400\nTrustStore = /t\nAcceptTofu = yes\n"
		"Policy = allow\nConntrackPerPeer = 7\nSaveConfig = yes\n"
		"Table = 77\nFwMark = 0x1f\nDNS = 10.0.0.53, corp.example\nPreUp = echo %i\n"
		"PreUp = true\nPostDown = logger down %i\n"
		"LanDiscovery = open\nCandidateAllow = 198.51.100.0/24\nAdvertiseLocal = yes\n"
		"[Peer]\nName = alice\nIdentity = " K1 "\nEndpoint = 192.0.2.1:5000\n"
		"AllowedIPs = 10.0.0.2/32\nPersistentKeepalive = 25\nGroups = ci\nAllow = none\n"
		"Introducer = yes\nRelay = yes\n"
		"[Peer]\nIdentity = tofu\nEndpoint = host.example:1\nAllow = tcp 22 to "
		"10.0.0.1/32\n"
		"[Peer]\nIdentity = " K2 "\nIntroduce = yes\nRelay = serve\n"
		"[Group ci]\nAllow = udp 53, icmp\n";
	char *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;
	ss_conf *a = parse_ok(text), *b;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	assert_int_equal(ss_conf_write(a, f), 0);
	fclose(f);
	assert_null(strstr(out, "PrivateKey ="));
	b = parse_ok(out);
	f = open_memstream(&out2, &len2);
	assert_int_equal(ss_conf_write(b, f), 0);
	fclose(f);
	assert_string_equal(out, out2);
	assert_string_equal(b->name, "wg9");
	assert_true(b->save_config && b->accept_anonymous && b->policy_allow);
	assert_int_equal(b->npeers, 3);
	assert_int_equal(b->peers[0].keepalive, 25);
	assert_true(b->peers[0].own_allow);
	assert_int_equal(b->peers[0].nown, 0);
	assert_int_equal(b->peers[0].nallow, 2);
	assert_true(b->peers[1].tofu);
	assert_string_equal(b->peers[1].endpoint, "host.example:1");
	assert_int_equal(b->peers[1].nallow, 1);
	assert_false(b->peers[2].has_allow);
	assert_int_equal(b->naddrs, 2);
	assert_int_equal(b->ct_per_peer, 7);
	/* Reachability keys survive SaveConfig too. */
	assert_int_equal(b->lan_discovery, SS_LAN_MODE_OPEN);
	assert_int_equal(b->ncand_allow, 1);
	assert_true(b->advertise_local);
	assert_true(b->peers[0].introducer);
	assert_int_equal(b->peers[0].relay, SS_CONF_RELAY_USE);
	assert_true(b->peers[2].introduce);
	assert_int_equal(b->peers[2].relay, SS_CONF_RELAY_SERVE);
	/* wg-quick's keys survive SaveConfig. */
	assert_int_equal(b->table, 77);
	assert_int_equal(b->fwmark, 0x1f);
	assert_string_equal(b->dns_servers[0], "10.0.0.53");
	assert_string_equal(b->dns_search[0], "corp.example");
	assert_int_equal(b->nhooks[SS_HOOK_PRE_UP], 2);
	assert_string_equal(b->hooks[SS_HOOK_POST_DOWN][0], "logger down %i");
	/* An inline key is never written. */
	ss_conf_free(a);
	a = parse_ok(IFACE);
	assert_int_equal(ss_conf_write(a, stdout), SS_ERR_INVAL);
	ss_conf_free(a);
	ss_conf_free(b);
	free(out);
	free(out2);
}

/* A daemon's "get" answer as configuration: only each peer's own rules, names, groups. */
static void peers_from_get(void **state)
{
	char answer[] = "interface=ss0\nidentity=" K0 "\nmtu=1420\ndrop=SS_X:1\n"
			"peer=" K1 "\nname=bob\ngroups=ci\nendpoint=192.0.2.1:5\n"
			"allowed_ip=10.0.0.2/32\npersistent_keepalive=9\naccess=rules\n"
			"allow=icmp\nallow=tcp 22\nrule=own icmp\nrule=group:ci tcp 22\n"
			"session=yes\n"
			"peer=" K2 "\ntofu=host.example:1 pinned\nendpoint=192.0.2.9:1\n"
			"persistent_keepalive=0\naccess=rules\n"
			"peer=tofu\ntofu=other.example:2 unpinned\naccess=none\nend\n";
	char err[SS_CONF_ERR_LEN], *out = NULL;
	size_t len = 0;
	ss_conf *c = parse_ok(GROUPED), *d;
	FILE *f;

	(void)state;
	c->peers[0].introducer = true; /* the file's, kept for the running peer K1 */
	c->peers[0].relay = SS_CONF_RELAY_SERVE;
	assert_int_equal(ss_conf_peers_from_get(c, answer, err, sizeof(err)), 0);
	assert_true(c->peers[0].introducer);
	assert_int_equal(c->peers[0].relay, SS_CONF_RELAY_SERVE);
	assert_int_equal(c->peers[1].relay, SS_CONF_RELAY_NO); /* a TOFU peer: not the file's K2 */
	c->trust_store = strdup("/t"); /* the running peers have TOFU ones */
	assert_int_equal(c->npeers, 3);
	assert_string_equal(c->peers[0].label, "bob");
	assert_int_equal(c->peers[0].nallow, 1); /* tcp 22 is the group's */
	assert_int_equal(c->peers[0].keepalive, 9);
	assert_string_equal(c->peers[0].endpoint, "192.0.2.1:5");
	assert_true(c->peers[1].tofu);
	assert_string_equal(c->peers[1].endpoint, "host.example:1");
	assert_true(c->peers[1].own_allow); /* Allow = none */
	assert_false(c->peers[2].has_allow);
	f = open_memstream(&out, &len);
	assert_int_equal(ss_conf_write(c, f), 0);
	fclose(f);
	/* The text parses, and bob's groups give him tcp 22 again. */
	d = parse_ok(out);
	assert_int_equal(d->peers[0].nallow, 2);
	assert_string_equal(d->peers[0].origin[1], "ci");
	assert_int_equal(d->peers[1].nallow, 0);
	assert_true(d->peers[1].has_allow);
	ss_conf_free(d);
	ss_conf_free(c);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cidr_parse_valid),
		cmocka_unit_test(cidr_parse_invalid),
		cmocka_unit_test(cidr_format_edges),
		cmocka_unit_test(endpoint_check),
		cmocka_unit_test(parse_all_keys),
		cmocka_unit_test(names_and_groups),
		cmocka_unit_test(names_and_groups_errors),
		cmocka_unit_test(write_round_trip),
		cmocka_unit_test(peers_from_get),
		cmocka_unit_test(parse_defaults),
		cmocka_unit_test(parse_default_name),
		cmocka_unit_test(parse_relative_paths),
		cmocka_unit_test(parse_trust_store_in_state_dir),
		cmocka_unit_test(parse_repeats_append),
		cmocka_unit_test(parse_many_items),
		cmocka_unit_test(parse_case_insensitive),
		cmocka_unit_test(parse_booleans_and_numbers),
		cmocka_unit_test(parse_whitespace_and_comments),
		cmocka_unit_test(parse_line_limits),
		cmocka_unit_test(parse_peer_limit),
		cmocka_unit_test(error_duplicate_keys),
		cmocka_unit_test(error_structure),
		cmocka_unit_test(error_allow_key),
		cmocka_unit_test(error_interface_keys),
		cmocka_unit_test(error_private_key_not_echoed),
		cmocka_unit_test(error_peer_keys),
		cmocka_unit_test(allow_and_policy),
		cmocka_unit_test(lint_warnings),
		cmocka_unit_test(tun_ring_key),
		cmocka_unit_test(lan_discovery_key),
		cmocka_unit_test(wgquick_keys),
		cmocka_unit_test(wgquick_key_errors),
		cmocka_unit_test(full_tunnel_mark),
		cmocka_unit_test(hook_expansion),
		cmocka_unit_test(relay_key),
		cmocka_unit_test(reach_keys),
		cmocka_unit_test(error_buffer_handling),
		cmocka_unit_test_setup_teardown(load_resolves_and_names, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(load_errors, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(load_from_pipe, tmpdir_setup, tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
