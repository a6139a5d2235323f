/* SPDX-License-Identifier: MIT */
/*
 * silosec show / set / trust: the daemon's control socket rendered for people (like
 * wg show) or as JSON, run-time peer changes, and the TOFU trust store.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <silosec/core.h>

#include "cli.h"
#include "common/capability.h"
#include "config.h"
#include "ctlparse.h"
#include "common/ctlclient.h"
#include "common/ctlsock.h"
#include "grant.h"
#include "common/truststore.h"

/* Why the control socket could not be reached (err: an errno), the same for every verb. */
static void connect_failed(const char *iface, int err)
{
	char path[128];

	ss_ctl_path(iface, path, sizeof(path));
	if (err == ENOENT || err == ECONNREFUSED)
		fprintf(stderr,
			"%s: %s: no silosecd is running for interface %s (start it: silosecd -c "
			"FILE, or systemctl start silosec@%s)\n",
			prog, path, iface, iface);
	else
		fprintf(stderr, "%s: %s: %s%s\n", prog, path, strerror(err),
			err == EACCES ? " (the control socket is root only)" : "");
}

/* Send a request, return the whole answer (malloc'd) or NULL with a message printed. */
static char *transact(const char *iface, const char *req)
{
	size_t len = 0, cap = 65536;
	char *buf;
	int fd;

	fd = ss_ctl_connect(iface);
	if (fd < 0) {
		connect_failed(iface, -fd);
		return NULL;
	}
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req) || shutdown(fd, SHUT_WR) < 0) {
		fprintf(stderr, "%s: %s: sending request: %s\n", prog, iface, strerror(errno));
		close(fd);
		return NULL;
	}
	buf = malloc(cap);
	for (;;) {
		ssize_t n;

		if (!buf)
			break;
		if (len + 1 == cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!buf) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return NULL;
	}
	buf[len] = 0;
	if (!strncmp(buf, "error=", 6)) {
		char *nl = strchr(buf, '\n');

		if (nl)
			*nl = 0;
		fprintf(stderr, "%s: %s: %s\n", prog, iface, buf + 6);
		free(buf);
		return NULL;
	}
	if (!strstr(buf, "end\n")) {
		fprintf(stderr, "%s: %s: truncated answer from the daemon\n", prog, iface);
		free(buf);
		return NULL;
	}
	return buf;
}

char *cli_transact(const char *iface, const char *req)
{
	return transact(iface, req);
}

/* ---- show: human ---- */

static void human_bytes(unsigned long long b, char *out, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)b;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u)
		snprintf(out, len, "%.2f %s (%llu B)", v, unit[u], b);
	else
		snprintf(out, len, "%llu B", b);
}

static void human_ago(unsigned long long t, char *out, size_t len)
{
	long long ago = (long long)time(NULL) - (long long)t;

	if (!t)
		snprintf(out, len, "never");
	else if (ago < 120)
		snprintf(out, len, "%lld second%s ago", ago < 0 ? 0 : ago, ago == 1 ? "" : "s");
	else if (ago < 7200)
		snprintf(out, len, "%lld minutes, %lld seconds ago", ago / 60, ago % 60);
	else
		snprintf(out, len, "%lld hours, %lld minutes ago", ago / 3600, ago % 3600 / 60);
}

struct peer_view {
	char identity[64], tofu[300], endpoint[80], allowed[2048], drops[2048];
	char access[16], allow[2048], grants[2048], last_denied[160];
	char name[40], groups[512], rules[4096];
	char path[96], cands[2048], reflexive[80], introducer[8], introduce[8], relay[16];
	unsigned long long rx, tx, rxp, txp, hs, ka, latest, epoch, queued, ct, ct_budget;
	unsigned long long denied_ago;
	bool session;
};

static void append(char *dst, size_t cap, const char *sep, const char *s)
{
	size_t n = strlen(dst);

	snprintf(dst + n, cap - n, "%s%s", n ? sep : "", s);
}

static void print_peer(const struct peer_view *v)
{
	char a[64], b[64], f[SS_FINGERPRINT_LEN];
	uint8_t id[SS_IDENTITY_LEN];

	printf("\npeer: %s\n", v->identity);
	if (!ss_key_from_base64(v->identity, id)) {
		ss_fingerprint(id, f);
		printf("  fingerprint: %s\n", f);
	}
	if (*v->name)
		printf("  name: %s\n", v->name);
	if (*v->groups)
		printf("  groups: %s\n", v->groups);
	if (*v->tofu)
		printf("  trust on first use: %s\n", v->tofu);
	if (*v->endpoint)
		printf("  endpoint: %s\n", v->endpoint);
	if (*v->introducer)
		printf("  introducer: yes%s%s\n", *v->reflexive ? ", sees us at " : "",
		       v->reflexive);
	if (*v->introduce)
		printf("  introduce: yes (we introduce it to our other such peers)\n");
	if (*v->path)
		printf("  path: %s\n", v->path);
	if (*v->cands)
		printf("  candidates: %s\n", v->cands);
	if (*v->relay)
		printf("  relay: %s\n",
		       !strcmp(v->relay, "yes") ? "may carry our traffic" : "we carry its traffic");
	printf("  allowed ips: %s\n", *v->allowed ? v->allowed : "(none)");
	if (!strcmp(v->access, "all"))
		printf("  allow: everything (no Allow, Policy = allow)\n");
	else if (!strcmp(v->access, "none") || (!strcmp(v->access, "rules") && !*v->allow))
		printf("  allow: nothing%s\n", !strcmp(v->access, "none")
						       ? " (no Allow, Policy = deny)"
						       : " (Allow = none)");
	else if (*v->rules)
		printf("  allow: %s\n", v->rules);
	else if (*v->access)
		printf("  allow: %s\n", v->allow);
	if (*v->grants)
		printf("  grants: %s\n", v->grants);
	if (v->ct)
		printf("  tracked connections: %llu of %llu\n", v->ct, v->ct_budget);
	if (*v->last_denied)
		printf("  last denied: %s (%llu second%s ago)\n", v->last_denied, v->denied_ago,
		       v->denied_ago == 1 ? "" : "s");
	human_ago(v->latest, a, sizeof(a));
	printf("  latest handshake: %s%s\n", a, v->session ? "" : " (no session)");
	human_bytes(v->rx, a, sizeof(a));
	human_bytes(v->tx, b, sizeof(b));
	printf("  transfer: %s received, %s sent\n", a, b);
	printf("  packets: %llu received, %llu sent; %llu handshake%s\n", v->rxp, v->txp, v->hs,
	       v->hs == 1 ? "" : "s");
	if (v->ka)
		printf("  persistent keepalive: every %llu seconds\n", v->ka);
	if (v->queued)
		printf("  queued for handshake: %llu packets\n", v->queued);
	if (*v->drops)
		printf("  dropped: %s\n", v->drops);
}

/* "SECONDS RULE" -> "RULE (SECONDS s left)" */
static void grant_field(struct peer_view *v, const char *val)
{
	const char *sp = strchr(val, ' ');
	char g[SS_CAP_RULE_STR + 32];

	snprintf(g, sizeof(g), "%s (%.*s s left)", sp ? sp + 1 : val, sp ? (int)(sp - val) : 0,
		 val);
	append(v->grants, sizeof(v->grants), ", ", g);
}

/* "own RULE" -> "RULE (own)", "group:ci RULE" -> "RULE (group ci)" */
static void rule_field(struct peer_view *v, const char *val)
{
	const char *sp = strchr(val, ' ');
	char r[SS_CAP_RULE_STR + 64];

	if (!sp)
		return;
	if (!strncmp(val, "group:", 6))
		snprintf(r, sizeof(r), "%s (group %.*s)", sp + 1, (int)(sp - val - 6), val + 6);
	else
		snprintf(r, sizeof(r), "%s (own)", sp + 1);
	append(v->rules, sizeof(v->rules), ", ", r);
}

/* One key of a "show" answer: text kept (or appended to a list), or a number. */
struct peer_key {
	const char *key;
	char *text;
	size_t cap;
	bool list;
	unsigned long long *num;
};

static void peer_field(struct peer_view *v, const char *k, const char *val)
{
	const struct peer_key keys[] = {
		{"peer", .text = v->identity, .cap = sizeof(v->identity)},
		{"tofu", .text = v->tofu, .cap = sizeof(v->tofu)},
		{"endpoint", .text = v->endpoint, .cap = sizeof(v->endpoint)},
		{"relay", .text = v->relay, .cap = sizeof(v->relay)},
		{"allowed_ip", .text = v->allowed, .cap = sizeof(v->allowed), .list = true},
		{"drop", .text = v->drops, .cap = sizeof(v->drops), .list = true},
		{"access", .text = v->access, .cap = sizeof(v->access)},
		{"allow", .text = v->allow, .cap = sizeof(v->allow), .list = true},
		{"name", .text = v->name, .cap = sizeof(v->name)},
		{"groups", .text = v->groups, .cap = sizeof(v->groups)},
		{"last_denied", .text = v->last_denied, .cap = sizeof(v->last_denied)},
		{"last_denied_ago", .num = &v->denied_ago},
		{"conntrack", .num = &v->ct},
		{"conntrack_budget", .num = &v->ct_budget},
		{"rx_bytes", .num = &v->rx},
		{"tx_bytes", .num = &v->tx},
		{"rx_packets", .num = &v->rxp},
		{"tx_packets", .num = &v->txp},
		{"handshakes", .num = &v->hs},
		{"persistent_keepalive", .num = &v->ka},
		{"latest_handshake", .num = &v->latest},
		{"queued", .num = &v->queued},
		{"path", .text = v->path, .cap = sizeof(v->path)},
		{"candidate", .text = v->cands, .cap = sizeof(v->cands), .list = true},
		{"reflexive", .text = v->reflexive, .cap = sizeof(v->reflexive)},
		{"introducer", .text = v->introducer, .cap = sizeof(v->introducer)},
		{"introduce", .text = v->introduce, .cap = sizeof(v->introduce)},
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct peer_key *pk = &keys[i];

		if (strcmp(k, pk->key))
			continue;
		if (pk->num)
			*pk->num = strtoull(val, NULL, 10);
		else if (pk->list)
			append(pk->text, pk->cap, ", ", val);
		else
			snprintf(pk->text, pk->cap, "%s", val);
		return;
	}
	if (!strcmp(k, "rule"))
		rule_field(v, val);
	else if (!strcmp(k, "grant"))
		grant_field(v, val);
	else if (!strcmp(k, "session"))
		v->session = !strcmp(val, "yes");
}

static void iface_field(const char *k, const char *val, char *drops, size_t dcap)
{
	uint8_t id[SS_IDENTITY_LEN];
	char f[SS_FINGERPRINT_LEN];

	if (!strcmp(k, "interface")) {
		printf("interface: %s\n", val);
	} else if (!strcmp(k, "identity")) {
		printf("  identity: %s\n", val);
		if (!ss_key_from_base64(val, id)) {
			ss_fingerprint(id, f);
			printf("  fingerprint: %s\n", f);
		}
	} else if (!strcmp(k, "transport")) {
		printf("  transport: %s\n", !strcmp(val, "ip") ? "raw IP protocol 99" : "udp");
	} else if (!strcmp(k, "policy")) {
		printf("  policy for peers without Allow: %s\n", val);
	} else if (!strcmp(k, "tun_reads")) {
		printf("  reading %s: %s\n", "TUN",
		       !strcmp(val, "ring") ? "packet ring" : "one read() per packet");
	} else if (!strcmp(k, "relay_circuits") || !strcmp(k, "relay_bytes")) {
		printf("  relay %s: %s\n", k[6] == 'c' ? "circuits" : "bytes carried", val);
	} else if (!strcmp(k, "ring_drops")) {
		printf("  dropped (ring full): %s\n", val);
	} else if (!strcmp(k, "listen_port") || !strcmp(k, "mtu") || !strcmp(k, "peer_count") ||
		   !strcmp(k, "cookies_sent")) {
		printf("  %s: %s\n",
		       !strcmp(k, "listen_port")    ? "listening port"
		       : !strcmp(k, "cookies_sent") ? "cookie replies sent"
		       : !strcmp(k, "peer_count")   ? "peers"
						    : k,
		       val);
	} else if (!strcmp(k, "drop")) {
		append(drops, dcap, ", ", val);
	} else if (!strcmp(k, "hard_nat")) {
		printf("  NAT: maps per destination (introducers see different ports)\n");
	} else if (!strcmp(k, "private")) {
		printf("  private: introducers never give out our addresses\n");
	} else if (!strcmp(k, "lan_discovery")) {
		printf("  LAN discovery: %s\n", val);
	} else if (!strncmp(k, "lan_", 4)) {
		printf("  LAN %s: %s\n",
		       !strcmp(k, "lan_drop")	     ? "announcement refused"
		       : !strcmp(k, "lan_announced") ? "announcements sent"
		       : !strcmp(k, "lan_heard")     ? "announcements heard"
						     : "announcements recognised",
		       val);
	}
}

static void show_human(char *answer)
{
	struct peer_view *v = NULL;
	char drops[2048] = "", *save, *line;

	for (line = strtok_r(answer, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq = 0;
		if (!strcmp(line, "peer")) {
			if (!v && *drops)
				printf("  dropped (no peer): %s\n", drops);
			if (v)
				print_peer(v);
			else
				v = malloc(sizeof(*v));
			if (!v)
				return;
			memset(v, 0, sizeof(*v));
		}
		if (v)
			peer_field(v, line, eq + 1);
		else
			iface_field(line, eq + 1, drops, sizeof(drops));
	}
	if (v)
		print_peer(v);
	else if (*drops)
		printf("  dropped (no peer): %s\n", drops);
	free(v);
}

/* ---- show: JSON ---- */

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Names, keys and addresses stay strings even when they look like numbers. */
static bool string_key(const char *k)
{
	static const char *const keys[] = {
		"interface",	 "identity",   "transport",  "peer",	    "tofu",
		"endpoint",	 "allowed_ip", "allow",	     "last_denied", "access",
		"policy",	 "tun_reads",  "name",	     "groups",	    "path",
		"candidate",	 "reflexive",  "introducer", "relay",	    "relay_circuit",
		"lan_discovery", "introduce",  "hard_nat",   "private"};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

static void json_value(const char *k, const char *val)
{
	if (!strcmp(k, "session"))
		fputs(!strcmp(val, "yes") ? "true" : "false", stdout);
	else if (!string_key(k) && all_digits(val) && strlen(val) < 20)
		fputs(val, stdout);
	else
		json_str(val);
}

/*
 * Repeated keys are contiguous runs in the answer: allowed_ip and allow become arrays,
 * grant an array of {rule, remaining}, drop an object of counters.
 */
static const struct run {
	const char *key, *json;
	char open, close;
} runs[] = {
	{"allowed_ip", "allowed_ips", '[', ']'},
	{"allow", "allow", '[', ']'},
	{"rule", "rules", '[', ']'},
	{"grant", "grants", '[', ']'},
	{"drop", "drops", '{', '}'},
	{"candidate", "candidates", '[', ']'},
	{"lan_drop", "lan_drops", '{', '}'},
};

struct json_state {
	const struct run *open; /* the run being written, or NULL */
	bool first_field, in_peer, first_peer;
};

static const struct run *run_of(const char *k)
{
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		if (!strcmp(k, runs[i].key))
			return &runs[i];
	return NULL;
}

static void json_close_run(struct json_state *st)
{
	if (st->open)
		putchar(st->open->close);
	st->open = NULL;
}

static void json_run_item(const char *k, const char *val)
{
	bool counter = !strcmp(k, "drop") || !strcmp(k, "lan_drop");
	const char *sep = strchr(val, counter ? ':' : ' ');
	char name[128];

	if (counter) {
		sep = strrchr(val, ':');
		snprintf(name, sizeof(name), "%.*s", sep ? (int)(sep - val) : 0, val);
		json_str(name);
		printf(":%s", sep ? sep + 1 : "0");
	} else if (!strcmp(k, "rule")) {
		fputs("{\"origin\":", stdout);
		snprintf(name, sizeof(name), "%.*s", sep ? (int)(sep - val) : 0, val);
		json_str(name);
		fputs(",\"rule\":", stdout);
		json_str(sep ? sep + 1 : val);
		putchar('}');
	} else if (!strcmp(k, "grant")) {
		fputs("{\"rule\":", stdout);
		json_str(sep ? sep + 1 : val);
		printf(",\"remaining\":%.*s}", sep ? (int)(sep - val) : 1, sep ? val : "0");
	} else {
		json_str(val);
	}
}

static void json_field(struct json_state *st, const char *k, const char *val)
{
	const struct run *run = run_of(k);

	if (st->open && st->open != run)
		json_close_run(st);
	if (run && st->open) {
		putchar(',');
	} else {
		if (!st->first_field)
			putchar(',');
		st->first_field = false;
		json_str(run ? run->json : k);
		putchar(':');
		if (run) {
			putchar(run->open);
			st->open = run;
		}
	}
	if (run)
		json_run_item(k, val);
	else
		json_value(k, val);
}

static void show_json(char *answer)
{
	struct json_state st = {.first_field = true, .first_peer = true};
	char *save, *line;

	putchar('{');
	for (line = strtok_r(answer, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq = 0;
		if (!strcmp(line, "peer")) {
			json_close_run(&st);
			if (st.in_peer)
				putchar('}');
			else
				fputs(st.first_field ? "\"peers\":[" : ",\"peers\":[", stdout);
			if (!st.first_peer)
				putchar(',');
			putchar('{');
			st.first_peer = false;
			st.in_peer = true;
			st.first_field = true;
		}
		json_field(&st, line, eq + 1);
	}
	json_close_run(&st);
	fputs(st.in_peer ? "}]}" : ",\"peers\":[]}", stdout);
}

static int show_one(const char *iface, bool json, const char *sep)
{
	char *answer = transact(iface, "get\n\n");

	if (!answer)
		return 1;
	fputs(sep, stdout);
	if (json)
		show_json(answer);
	else
		show_human(answer);
	free(answer);
	return 0;
}

static int show_all(bool json)
{
	const char *dir = getenv("SILOSEC_RUN_DIR");
	struct dirent *e;
	int ret = 0, n = 0;
	DIR *dp;

	dp = opendir(dir && *dir ? dir : SS_CTL_DIR);
	if (json)
		putchar('[');
	/* One directory per interface, with its socket in it. */
	while (dp && (e = readdir(dp))) {
		char name[64], path[PATH_MAX];

		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(name) ||
		    ss_ctl_path(e->d_name, path, sizeof(path)) || access(path, F_OK))
			continue;
		snprintf(name, sizeof(name), "%s", e->d_name);
		if (show_one(name, json, n ? (json ? "," : "\n") : ""))
			ret = 1;
		else
			n++;
	}
	if (dp)
		closedir(dp);
	if (json)
		puts("]");
	if (!n && !ret)
		fprintf(stderr, "%s: no silosecd is running\n", prog);
	return n ? ret : 1;
}

int cmd_show(int argc, char **argv)
{
	const char *iface = NULL, *output = NULL;
	bool json = false, prom = false;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--prometheus"))
			prom = true;
		else if (!strcmp(argv[i], "--output") && i + 1 < argc)
			output = argv[++i];
		else if (!iface && argv[i][0] != '-')
			iface = argv[i];
		else if (argv[i][0] == '-')
			return fprintf(stderr, "%s show: unknown option '%s'\n", prog, argv[i]),
			       cli_see_help("show");
		else
			return cli_extra("show", argv[i]);
	}
	if ((output && !prom) || (json && prom)) {
		fprintf(stderr, "%s show: --output goes with --prometheus, not with --json\n",
			prog);
		return cli_see_help("show");
	}
	if (prom)
		return show_prometheus(iface, output);
	if (!iface)
		return show_all(json);
	ret = show_one(iface, json, "");
	if (json && !ret)
		putchar('\n');
	return ret;
}

/* ---- discover: identities heard on the LAN in open mode ---- */

static void print_discovered(char *val, int *n)
{
	char *save, *fp = strtok_r(val, " ", &save), *b64 = strtok_r(NULL, " ", &save);
	char *addr = strtok_r(NULL, " ", &save), *ifx = strtok_r(NULL, " ", &save);
	char *age = strtok_r(NULL, " ", &save);

	if (!age)
		return;
	if (!(*n)++)
		printf("%-29s  %-44s  %-28s  %s  %s\n", "FINGERPRINT", "IDENTITY", "ADDRESS",
		       "IFINDEX", "HEARD");
	printf("%-29s  %-44s  %-28s  %-7s  %ss ago\n", fp, b64, addr, ifx, age);
}

/* Never pins anything: the operator adds a [Peer] for an identity he checked. */
int cmd_discover(int argc, char **argv)
{
	char *answer, *save, *line;
	bool open_mode = false;
	int n = 0;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: %s discover IFACE\n", prog);
		return 2;
	}
	answer = transact(argv[1], "discover\n\n");
	if (!answer)
		return 1;
	for (line = strtok_r(answer, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "discovered=", 11))
			print_discovered(line + 11, &n);
		else if (!strcmp(line, "lan_discovery=open"))
			open_mode = true;
	}
	if (!open_mode)
		fprintf(stderr,
			"%s: %s: LanDiscovery is not open: unknown identities are not "
			"listed\n",
			prog, argv[1]);
	else if (!n)
		printf("no unknown identities heard on the LAN\n");
	free(answer);
	return 0;
}

/* ---- set ---- */

static int set_usage(void)
{
	fprintf(stderr,
		"usage: %s set IFACE peer IDENTITY [remove] [rekey] [reset-timestamp]\n"
		"         [endpoint HOST:PORT]\n"
		"         [allowed-ips CIDR[,CIDR...]] [persistent-keepalive TIME|off]\n"
		"         [allow 'RULE[, RULE...]'|none]\n"
		"         [peer IDENTITY ...]\n",
		prog);
	return 2;
}

static int append_req(char *req, size_t cap, const char *k, const char *v)
{
	size_t n = strlen(req);
	int w = snprintf(req + n, cap - n, "%s=%s\n", k, v);

	return w < 0 || (size_t)w >= cap - n ? -1 : 0;
}

static int add_allowed(char *req, size_t cap, const char *list)
{
	char *copy = strdup(list), *save, *tok;
	int ret = copy ? 0 : -1;

	if (!ret)
		ret = append_req(req, cap, "replace_allowed_ips", "true");
	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		ss_cidr c;

		while (*tok == ' ')
			tok++;
		if (ss_cidr_parse(tok, &c)) {
			fprintf(stderr, "%s: allowed-ips: '%s' is not an address/prefix\n", prog,
				tok);
			ret = 1;
			break;
		}
		ret = append_req(req, cap, "allowed_ip", tok);
	}
	free(copy);
	return ret;
}

static int check_allow(const char *list)
{
	ss_cap_rule rules[SS_CAP_MAX_RULES];
	char why[160];
	size_t n = 0;

	if (!strcmp(list, "none") ||
	    !ss_cap_list_parse(list, rules, SS_CAP_MAX_RULES, &n, why, sizeof(why)))
		return 0;
	fprintf(stderr, "%s: allow: %s\n", prog, why);
	return 1;
}

/* Durations take units here as in the file (25s, 1m); the daemon takes seconds. */
static int add_keepalive(char *req, size_t cap, const char *v)
{
	uint32_t secs;
	char num[16];

	if (strspn(v, "0123456789") != strlen(v) && strcmp(v, "off") &&
	    !ss_duration_parse(v, &secs)) {
		snprintf(num, sizeof(num), "%u", secs);
		v = num;
	}
	return append_req(req, cap, "persistent_keepalive", v);
}

/* Resolved here, as root: the sandboxed daemon takes addresses only. */
static int add_endpoint(char *req, size_t cap, const char *v)
{
	char a[SS_ENDPOINT_MAX], err[SS_CONF_ERR_LEN];

	if (ss_endpoint_resolve(v, a, sizeof(a), err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	return append_req(req, cap, "endpoint", a);
}

static int send_set(const char *iface, const char *req)
{
	char *answer = transact(iface, req);

	free(answer);
	return answer ? 0 : 1;
}

/* One request per peer: a new peer whose settings fail is not left behind. */
static int set_peer(const char *iface, int argc, char **argv, int *i)
{
	char req[16384] = "set\n";
	uint8_t id[SS_IDENTITY_LEN];

	char b64[SS_B64_KEY_LEN];

	if (*i + 1 >= argc) {
		fprintf(stderr, "%s: set: 'peer' needs a base64 identity or a peer name\n", prog);
		return 1;
	}
	if (cli_peer_identity(iface, argv[*i + 1], id))
		return 1;
	ss_key_to_base64(id, b64);
	append_req(req, sizeof(req), "peer", b64);
	for (*i += 2; *i < argc && strcmp(argv[*i], "peer"); (*i)++) {
		const char *k = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
		int ret;

		if (!strcmp(k, "remove") || !strcmp(k, "rekey")) {
			if (append_req(req, sizeof(req), k, "true"))
				return 1;
			continue;
		}
		if (!strcmp(k, "reset-timestamp")) {
			if (append_req(req, sizeof(req), "reset_timestamp", "true"))
				return 1;
			continue;
		}
		if (!v) {
			fprintf(stderr, "%s set: '%s' is not a keyword, or its value is missing\n",
				prog, k);
			return set_usage();
		}
		if (!strcmp(k, "endpoint"))
			ret = add_endpoint(req, sizeof(req), v);
		else if (!strcmp(k, "allowed-ips"))
			ret = add_allowed(req, sizeof(req), v);
		else if (!strcmp(k, "persistent-keepalive"))
			ret = add_keepalive(req, sizeof(req), v);
		else if (!strcmp(k, "allow"))
			ret = check_allow(v) ? 1 : append_req(req, sizeof(req), "allow", v);
		else
			return fprintf(stderr, "%s set: unknown keyword '%s'\n", prog, k),
			       set_usage();
		if (ret)
			return 1;
		(*i)++;
	}
	strcat(req, "\n");
	return send_set(iface, req);
}

int cmd_set(int argc, char **argv)
{
	int i = 2;

	if (argc < 4 || strcmp(argv[2], "peer"))
		return set_usage();
	while (i < argc) {
		int ret = set_peer(argv[1], argc, argv, &i);

		if (ret)
			return ret;
	}
	return 0;
}

/* ---- syncconf ---- */

/* The file's own key, for the daemon to tell whether PrivateKey changed. */
static int file_identity(const ss_conf *conf, uint8_t pub[SS_IDENTITY_LEN])
{
	ss_identity *id = NULL;
	int ret = conf->has_private_key ? ss_identity_from_seed(&id, conf->private_key)
					: ss_keyfile_load(conf->private_key_file, &id);

	if (ret && conf->has_private_key)
		fprintf(stderr, "%s: PrivateKey: %s\n", prog, ss_strerror(ret));
	else if (ret)
		cli_key_error("syncconf", conf->private_key_file, ret);
	if (ret)
		return 1;
	memcpy(pub, ss_identity_public(id), SS_IDENTITY_LEN);
	ss_identity_free(id);
	return 0;
}

/* A refused peer, "peer N of the file: WHY", named by its FILE:LINE. */
static void peer_error(const ss_conf *conf, const char *msg)
{
	size_t n = 0;
	int off = 0;

	if (sscanf(msg, "peer %zu of the file: %n", &n, &off) == 1 && off && n >= 1 &&
	    n <= conf->npeers)
		fprintf(stderr, "%s: %s:%u: %s\n", prog, conf->path, conf->peers[n - 1].line,
			msg + off);
	else
		fprintf(stderr, "%s: %s: %s\n", prog, conf->name, msg);
}

/* Warnings, refused peers and refused keys come back as warning=, peer_error= and refused=. */
static int sync_answer(const ss_conf *conf, char *answer)
{
	int ret = 0;

	for (char *save, *l = strtok_r(answer, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, "warning=", 8)) {
			fprintf(stderr, "%s: %s: %s\n", prog, conf->name, l + 8);
		} else if (!strncmp(l, "peer_error=", 11)) {
			peer_error(conf, l + 11);
			ret = 1;
		} else if (!strncmp(l, "refused=", 8)) {
			/* An [Interface] key the running daemon refused (the rest applied). */
			fprintf(stderr, "%s: %s: %s\n", prog, conf->name, l + 8);
			ret = 1;
		}
	}
	return ret;
}

/*
 * Root reads the file (silosecd cannot: it is root's, and the daemon has dropped
 * privileges), resolves the endpoints, and hands the daemon the parsed result.
 */
int cmd_syncconf(int argc, char **argv)
{
	char err[SS_CONF_ERR_LEN], *req = NULL, *answer = NULL;
	uint8_t pub[SS_IDENTITY_LEN];
	ss_conf *conf = NULL;
	int ret = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: %s syncconf IFACE FILE\n", prog);
		return 2;
	}
	if (ss_conf_load(argv[2], &conf, err, sizeof(err)) ||
	    ss_conf_resolve(conf, err, sizeof(err))) {
		fprintf(stderr, "%s: %s; the running configuration is kept\n", prog, err);
		goto out;
	}
	if (strcmp(conf->name, argv[1])) {
		fprintf(stderr, "%s: %s configures interface %s, not %s\n", prog, argv[2],
			conf->name, argv[1]);
		goto out;
	}
	if (file_identity(conf, pub))
		goto out;
	req = ss_ctl_format_sync(conf, pub);
	if (!req) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	answer = transact(argv[1], req);
	ret = answer ? sync_answer(conf, answer) : 1;
out:
	free(answer);
	free(req);
	ss_conf_free(conf);
	return ret;
}

/* ---- grant / revoke ---- */

static int grant_usage(void)
{
	fprintf(stderr,
		"usage: %s grant IFACE IDENTITY RULE --for DURATION\n"
		"       %s revoke IFACE IDENTITY [RULE]\n"
		"RULE is 'PROTO [PORT|PORT-PORT] [to ADDR/PREFIX]' (PROTO: tcp, udp, icmp, any);\n"
		"DURATION is seconds or 30s, 5m, 1h (at most 24h)\n",
		prog, prog);
	return 2;
}

static int grant_args(int argc, char **argv, uint8_t id[SS_IDENTITY_LEN], ss_cap_rule *rule,
		      int rule_at)
{
	char why[160];

	if (cli_peer_identity(argv[1], argv[2], id))
		return 1;
	if (rule_at < argc && ss_cap_rule_parse(argv[rule_at], rule, why, sizeof(why))) {
		fprintf(stderr, "%s: rule: %s\n", prog, why);
		return 1;
	}
	return 0;
}

static int ctl_result(const char *iface, int ret, const char *err)
{
	char path[128];
	int saved = errno;

	if (!ret)
		return 0;
	if (ret == SS_ERR_INVAL) {
		fprintf(stderr, "%s: %s: %s\n", prog, iface, err);
	} else if (ret == SS_ERR_IO && !*err) {
		connect_failed(iface, saved);
	} else {
		ss_ctl_path(iface, path, sizeof(path));
		fprintf(stderr, "%s: %s: %s\n", prog, path,
			ret == SS_ERR_IO ? strerror(errno) : ss_strerror(ret));
	}
	return 1;
}

int cmd_grant(int argc, char **argv)
{
	uint8_t id[SS_IDENTITY_LEN];
	char err[SS_CONF_ERR_LEN];
	ss_cap_rule rule;
	uint32_t secs;

	if (argc == 4) {
		fprintf(stderr, "%s: grant: missing --for DURATION (30s, 5m, 1h; at most 24h)\n",
			prog);
		return 2;
	}
	if (argc != 6 || strcmp(argv[4], "--for"))
		return grant_usage();
	if (grant_args(argc, argv, id, &rule, 3))
		return 1;
	if (ss_duration_parse(argv[5], &secs)) {
		fprintf(stderr, "%s: --for: '%s' is not a duration (300, 30s, 5m, 1h)\n", prog,
			argv[5]);
		return 1;
	}
	if (secs > SS_GRANT_MAX_SECONDS) {
		fprintf(stderr, "%s: SS_ERR_GRANT_LIMIT: %s is over the cap of 24h\n", prog,
			argv[5]);
		return 1;
	}
	return ctl_result(argv[1], ss_ctl_grant(argv[1], id, argv[3], secs, err, sizeof(err)), err);
}

int cmd_revoke(int argc, char **argv)
{
	uint8_t id[SS_IDENTITY_LEN];
	char err[SS_CONF_ERR_LEN];
	ss_cap_rule rule;

	if (argc != 3 && argc != 4)
		return grant_usage();
	if (grant_args(argc, argv, id, &rule, 3))
		return 1;
	return ctl_result(argv[1],
			  ss_ctl_revoke(argv[1], id, argc == 4 ? argv[3] : NULL, err, sizeof(err)),
			  err);
}

/* ---- trust ---- */

static int trust_usage(void)
{
	fprintf(stderr,
		"usage: %s trust STORE|CONFIG list\n"
		"       %s trust STORE|CONFIG pin NAME IDENTITY\n"
		"       %s trust STORE|CONFIG forget NAME\n",
		prog, prog, prog);
	return 2;
}

/* A *.conf argument means "the TrustStore of that tunnel". */
static char *store_path(const char *arg)
{
	char err[SS_CONF_ERR_LEN];
	size_t len = strlen(arg);
	ss_conf *conf;
	char *path;

	if (len < 5 || strcmp(arg + len - 5, ".conf"))
		return strdup(arg);
	if (ss_conf_load(arg, &conf, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return NULL;
	}
	path = conf->trust_store ? strdup(conf->trust_store) : NULL;
	if (!conf->trust_store)
		fprintf(stderr, "%s: %s: no TrustStore in [Interface]\n", prog, arg);
	ss_conf_free(conf);
	return path;
}

static int trust_list(const ss_truststore *ts)
{
	char b64[SS_B64_KEY_LEN], f[SS_FINGERPRINT_LEN];

	for (size_t i = 0; i < ts->n; i++) {
		ss_key_to_base64(ts->entries[i].identity, b64);
		ss_fingerprint(ts->entries[i].identity, f);
		printf("%s %s %s\n", ts->entries[i].name, b64, f);
	}
	return 0;
}

static int trust_change(ss_truststore *ts, int argc, char **argv)
{
	uint8_t id[SS_IDENTITY_LEN];
	char iface[SS_CONF_IFNAME_MAX + 1] = "";
	int ret;

	if (argc >= 4 && cli_trust_target(argv[1], (const char **)&argv[3], iface, sizeof(iface)))
		return 1;
	if (!strcmp(argv[2], "pin") && argc == 5) {
		if (ss_key_from_base64(argv[4], id)) {
			fprintf(stderr, "%s: '%s' is not a base64 identity\n", prog, argv[4]);
			return 1;
		}
		ret = ss_trust_pin(ts, argv[3], id);
		if (ret == SS_ERR_EXISTS) {
			fprintf(stderr,
				"%s: %s is pinned to another identity; 'forget' it first if the "
				"change is expected\n",
				prog, argv[3]);
			return 1;
		}
	} else if (!strcmp(argv[2], "forget") && argc == 4) {
		ret = ss_trust_forget(ts, argv[3]);
		if (ret == SS_ERR_NOT_FOUND) {
			fprintf(stderr, "%s: %s: no such name in %s\n", prog, argv[3], ts->path);
			return 1;
		}
	} else {
		return trust_usage();
	}
	if (!ret)
		ret = ss_trust_save(ts);
	if (ret) {
		fprintf(stderr, "%s: %s: %s\n", prog, ts->path,
			ret == SS_ERR_IO ? strerror(errno) : ss_strerror(ret));
		return 1;
	}
	/* The running daemon applies it at the peer's next handshake: no restart. */
	return cli_trust_notify(iface, argv[3]);
}

int cmd_trust(int argc, char **argv)
{
	char err[SS_CONF_ERR_LEN];
	ss_truststore *ts;
	char *path;
	int ret;

	if (argc < 3)
		return trust_usage();
	/* The arguments each verb takes; anything after them is named, not ignored. */
	for (int i = 0; i < 3; i++)
		if (!strcmp(argv[2], (const char *[]){"list", "forget", "pin"}[i]) && argc > 3 + i)
			return cli_extra("trust", argv[3 + i]);
	path = store_path(argv[1]);
	if (!path)
		return 1;
	ret = ss_trust_load(path, &ts, err, sizeof(err));
	free(path);
	if (ret) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	if (!strcmp(argv[2], "list") && argc == 3)
		ret = trust_list(ts);
	else
		ret = trust_change(ts, argc, argv);
	ss_trust_free(ts);
	return ret;
}
