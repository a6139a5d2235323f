/* SPDX-License-Identifier: MIT */
/*
 * silosec: key tool (genkey, pubkey, fingerprint), the tunnel's control (show, set,
 * trust; see ctl.c), and a self-contained two-node demo of the core over loopback UDP.
 */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <silosec/core.h>

#include "cli.h"
#include "common/clock.h"

const char *prog = "silosec";

static void usage(FILE *f);

static int fail(const char *what, int code)
{
	fprintf(stderr, "%s: %s: %s (%s)\n", prog, what, ss_strerror(code), ss_err_name(code));
	return 1;
}

static int cmd_genkey(int argc, char **argv)
{
	ss_identity *id;
	int ret;

	ret = ss_identity_generate(&id, ss_random_system, NULL);
	if (ret)
		return fail("generating key", ret);
	if (argc > 1) {
		ret = ss_keyfile_save(argv[1], id);
		if (ret == SS_ERR_EXISTS)
			fprintf(stderr, "%s: %s: file exists, not overwriting a key\n", prog,
				argv[1]);
		else if (ret)
			fprintf(stderr, "%s: %s: %s\n", prog, argv[1],
				ret == SS_ERR_IO ? strerror(errno) : ss_strerror(ret));
	} else {
		if (isatty(STDOUT_FILENO))
			fprintf(stderr, "%s: warning: writing a private key to a terminal\n", prog);
		/* Like wg genkey: whoever redirects stdout must protect the file (umask 077). */
		ret = ss_keyfile_save_fd(STDOUT_FILENO, id);
		if (ret)
			fprintf(stderr, "%s: writing key: %s\n", prog, strerror(errno));
	}
	ss_identity_free(id);
	return ret ? 1 : 0;
}

/* The key from FILE, or from stdin without one (or with "-"). */
static int cmd_pubkey(int argc, char **argv)
{
	const char *file = argc > 1 && strcmp(argv[1], "-") ? argv[1] : NULL;
	char b64[SS_B64_KEY_LEN];
	ss_identity *id;
	int ret;

	ret = file ? ss_keyfile_load(file, &id) : ss_keyfile_load_fd(STDIN_FILENO, &id);
	if (ret == SS_ERR_FORMAT && !file) {
		fprintf(stderr, "%s: stdin: not a SiloSec private key (expected one base64 line)\n",
			prog);
		return 1;
	}
	if (ret && file) {
		cli_key_error("pubkey", file, ret);
		return 1;
	}
	if (ret)
		return fail("reading key from stdin", ret);
	ss_key_to_base64(ss_identity_public(id), b64);
	printf("%s\n", b64);
	ss_identity_free(id);
	return 0;
}

static int cmd_fingerprint(int argc, char **argv)
{
	char fp[SS_FINGERPRINT_LEN];
	uint8_t pub[SS_IDENTITY_LEN];

	(void)argc; /* exactly one argument: checked by the dispatcher */
	if (ss_key_from_base64(argv[1], pub)) {
		fprintf(stderr, "%s: '%s' is not an identity (44 characters of base64)\n", prog,
			argv[1]);
		return 1;
	}
	ss_fingerprint(pub, fp);
	printf("%s\n", fp);
	return 0;
}

/* ---- demo: two nodes, two UDP sockets, one poll loop ---- */

struct node {
	const char *name;
	ss_identity *id;
	ss_ctx *ctx;
	ss_peer *peer;
	int fd;
	struct sockaddr_in addr;
};

static void sys_clock(void *arg, ss_time *t)
{
	(void)arg;
	t->mono_ns = ss_mono_ns();
	t->wall_ns = ss_wall_ns();
}

static void flow_of(ss_flow *f, const struct sockaddr_in *local, const struct sockaddr_in *remote)
{
	memset(f, 0, sizeof(*f));
	f->local_addr[10] = f->local_addr[11] = 0xff;
	f->remote_addr[10] = f->remote_addr[11] = 0xff;
	memcpy(f->local_addr + 12, &local->sin_addr, 4);
	memcpy(f->remote_addr + 12, &remote->sin_addr, 4);
	f->local_port = ntohs(local->sin_port);
	f->remote_port = ntohs(remote->sin_port);
	f->proto = IPPROTO_UDP;
}

static int node_open(struct node *n, const char *name)
{
	socklen_t len = sizeof(n->addr);
	ss_ctx_config cfg = {0};
	int ret;

	n->name = name;
	ret = ss_identity_generate(&n->id, ss_random_system, NULL);
	if (ret)
		return fail("generating identity", ret);
	cfg.identity = n->id;
	cfg.clock = sys_clock;
	cfg.random = ss_random_system;
	cfg.max_peers = 1;
	ret = ss_ctx_create(&n->ctx, &cfg);
	if (ret)
		return fail("creating context", ret);
	n->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&n->addr, 0, sizeof(n->addr));
	n->addr.sin_family = AF_INET;
	n->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (n->fd < 0 || bind(n->fd, (struct sockaddr *)&n->addr, sizeof(n->addr)) < 0 ||
	    getsockname(n->fd, (struct sockaddr *)&n->addr, &len) < 0) {
		fprintf(stderr, "%s: demo socket: %s\n", prog, strerror(errno));
		return 1;
	}
	return 0;
}

static int node_meet(struct node *n, const struct node *other)
{
	char b64[SS_B64_KEY_LEN], fp[SS_FINGERPRINT_LEN];
	ss_flow f;
	int ret;

	ret = ss_peer_add(n->ctx, ss_identity_public(other->id), &n->peer);
	if (ret)
		return fail("adding peer", ret);
	flow_of(&f, &n->addr, &other->addr);
	ss_peer_set_flow(n->peer, &f);
	ss_key_to_base64(ss_identity_public(n->id), b64);
	ss_fingerprint(ss_identity_public(n->id), fp);
	printf("%-5s identity %s  fingerprint %s  udp 127.0.0.1:%u\n", n->name, b64, fp,
	       ntohs(n->addr.sin_port));
	return 0;
}

static void node_send(struct node *n, const struct node *to, const uint8_t *pkt, size_t len)
{
	if (sendto(n->fd, pkt, len, 0, (const struct sockaddr *)&to->addr, sizeof(to->addr)) < 0)
		fprintf(stderr, "%s: %s: sendto: %s\n", prog, n->name, strerror(errno));
}

/* Drain timers: handshake initiations, keepalives, echoes. */
static int node_tick(struct node *n, const struct node *to, uint8_t *buf, size_t cap)
{
	enum ss_tick_kind kind;
	size_t len;
	int ret;

	do {
		ret = ss_peer_tick(n->ctx, n->peer, buf, cap, &len, NULL, &kind);
		if (ret)
			return fail("timer", ret);
		if (len) {
			if (kind == SS_TICK_HANDSHAKE)
				printf("%-5s -> handshake initiation (%zu bytes)\n", n->name, len);
			node_send(n, to, buf, len);
		}
	} while (len);
	return 0;
}

/* Receive one datagram; returns 1 when a message was delivered. */
static int node_receive(struct node *n, const struct node *from, uint8_t *in, uint8_t *out,
			size_t cap)
{
	ss_result res;
	ssize_t got;
	ss_flow f;
	int ret;

	got = recv(n->fd, in, cap, 0);
	if (got < 0)
		return 0;
	flow_of(&f, &n->addr, &from->addr);
	ret = ss_ctx_consume(n->ctx, &f, in, (size_t)got, out, cap, &res);
	if (ret) {
		printf("%-5s dropped a packet: %s\n", n->name, ss_err_name(ret));
		return 0;
	}
	if (res.flags & SS_RESULT_F_HANDSHAKE) {
		ss_peer_stats st;

		ss_peer_get_stats(n->peer, &st);
		printf("%-5s session established with peer (epoch %llu)\n", n->name,
		       (unsigned long long)st.epoch);
	}
	if (res.kind == SS_RESULT_REPLY) {
		printf("%-5s -> %s (%zu bytes)\n", n->name,
		       res.len == SS_RESP_LEN ? "handshake response" : "confirmation", res.len);
		node_send(n, from, out, res.len);
	}
	if (res.kind == SS_RESULT_DATA) {
		printf("%-5s <- \"%.*s\"\n", n->name, (int)res.len, (const char *)out);
		return 1;
	}
	return 0;
}

static void node_close(struct node *n)
{
	if (n->fd >= 0)
		close(n->fd);
	ss_ctx_free(n->ctx);
	ss_identity_free(n->id);
}

static int cmd_demo(int argc, char **argv)
{
	static uint8_t in[SS_MAX_PACKET], out[SS_MAX_PACKET];
	struct node a = {.fd = -1}, b = {.fd = -1};
	int count = argc > 1 ? atoi(argv[1]) : 5, delivered = 0, sent = 0, rc = 1;
	ss_peer_stats sa, sb;
	char msg[64];

	if (count <= 0 || count > 1000000) {
		fprintf(stderr, "%s: demo: COUNT must be 1..1000000\n", prog);
		return 2;
	}
	if (node_open(&a, "alice") || node_open(&b, "bob") || node_meet(&a, &b) ||
	    node_meet(&b, &a))
		goto out;
	for (int rounds = 0; rounds < 10000 && delivered < count; rounds++) {
		struct pollfd p[2] = {{a.fd, POLLIN, 0}, {b.fd, POLLIN, 0}};
		size_t len;

		if (sent < count) {
			int n = snprintf(msg, sizeof(msg), "message %d from alice", sent + 1);
			int ret = ss_peer_seal(a.ctx, a.peer, (uint8_t *)msg, (size_t)n, out,
					       sizeof(out), &len, NULL);

			if (ret == 0) {
				node_send(&a, &b, out, len);
				sent++;
			} else if (ret != SS_ERR_NO_SESSION) {
				fail("sealing", ret);
				goto out;
			}
		}
		if (node_tick(&a, &b, out, sizeof(out)) || node_tick(&b, &a, out, sizeof(out)))
			goto out;
		if (poll(p, 2, 200) < 0)
			goto out;
		if (p[0].revents & POLLIN)
			node_receive(&a, &b, in, out, sizeof(out));
		if (p[1].revents & POLLIN)
			delivered += node_receive(&b, &a, in, out, sizeof(out));
	}
	ss_peer_get_stats(a.peer, &sa);
	ss_peer_get_stats(b.peer, &sb);
	printf("alice sealed %llu packets / %llu bytes; bob opened %llu packets / %llu bytes\n",
	       (unsigned long long)sa.packets_sealed, (unsigned long long)sa.bytes_sealed,
	       (unsigned long long)sb.packets_opened, (unsigned long long)sb.bytes_opened);
	if (delivered == count && sb.bytes_opened == sa.bytes_sealed) {
		printf("demo: OK, %d messages delivered over an authenticated AES-256-GCM "
		       "session\n",
		       delivered);
		rc = 0;
	} else {
		fprintf(stderr, "demo: FAILED, %d of %d messages delivered\n", delivered, count);
	}
out:
	node_close(&a);
	node_close(&b);
	return rc;
}

/*
 * The subcommands. Those without own_opts get -h/--help, --version, unknown options and
 * argument counts checked here, before they run; opts lists the options they take
 * themselves ("--for=" takes a value). A new subcommand is one row.
 */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args, *help;
	int min, max; /* positional arguments; max -1: the command checks them */
	const char *const *opts;
	bool own_opts; /* parses its own options (getopt_long), --help included */
} commands[] = {
	{"genkey", cmd_genkey, "[FILE]",
	 "write a new private key (base64) to stdout, or to FILE (created 0600)", 0, 1, NULL,
	 false},
	{"pubkey", cmd_pubkey, "[FILE]",
	 "print the identity of the private key in FILE or on stdin", 0, 1, NULL, false},
	{"fingerprint", cmd_fingerprint, "IDENTITY", "print the short form to compare out of band",
	 1, 1, NULL, false},
	{"show", cmd_show, "[IFACE] [--json | --prometheus [--output FILE]]",
	 "interfaces, peers, handshakes, transfer and drops (--prometheus: as metrics)", 0, 1,
	 (const char *const[]){"*", NULL}, false},
	{"set", cmd_set, "IFACE peer IDENTITY ...", "add, change or remove a peer at run time", 3,
	 -1, NULL, false},
	{"syncconf", cmd_syncconf, "IFACE FILE", "apply FILE's peers to the running daemon (root)",
	 2, 2, NULL, false},
	{"showconf", cmd_showconf, "IFACE [FILE]",
	 "the running configuration as a silosec.conf (root)", 1, 2, NULL, false},
	{"saveconf", cmd_saveconf, "IFACE [FILE]",
	 "with SaveConfig = yes, write the running configuration to FILE (root)", 1, 2, NULL,
	 false},
	{"trust", cmd_trust, "STORE|CONF list|pin|forget ...",
	 "list, pin or forget trust-on-first-use identities", 2, 4, NULL, false},
	{"grant", cmd_grant, "IFACE IDENTITY RULE --for DURATION",
	 "let one peer reach RULE (e.g. 'tcp 22' or 'tcp/22') for a while (30s, 5m, 1h)", 3, 3,
	 (const char *const[]){"--for=", NULL}, false},
	{"revoke", cmd_revoke, "IFACE IDENTITY [RULE]", "withdraw grants before they expire", 2, 3,
	 NULL, false},
	{"cat", cmd_cat, "[options] HOST:PORT | -l [ADDR:]PORT",
	 "encrypted, authenticated netcat to an identity (stdin/stdout)", 0, -1, NULL, true},
	{"knock", cmd_knock, "[options] --to IDENTITY HOST[:PORT] ACTION",
	 "send one single-packet-authorization knock to a silosec-knockd", 0, -1, NULL, true},
	{"demo", cmd_demo, "[COUNT]", "two nodes on 127.0.0.1: handshake and COUNT messages", 0, 1,
	 NULL, false},
	{"up", cmd_up, "IFACE|FILE [silosecd options]",
	 "PreUp, silosecd, DNS, PostUp (without systemd)", 1, -1, NULL, true},
	{"down", cmd_down, "IFACE", "PreDown, stop silosecd, undo DNS and routes, PostDown", 1, 1,
	 NULL, false},
	{"hook", cmd_hook, "IFACE STAGE",
	 "one of those steps alone: pre-up, post-up, pre-down, post-down", 2, 2, NULL, false},
	{"discover", cmd_discover, "IFACE", "identities announced on the LAN (LanDiscovery = open)",
	 1, 1, NULL, false},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: %s <command> [args]    (%s <command> --help for one command)\n", prog,
		prog);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s %s\n      %s\n", commands[i].name, commands[i].args,
			commands[i].help);
	fprintf(f, "  --version\n");
}

static void command_usage(const struct command *c, FILE *f)
{
	fprintf(f, "usage: %s %s %s\n  %s\n", prog, c->name, c->args, c->help);
}

/*
 * An option the command takes: 0 no, 1 yes, 2 yes and it takes a value. "*": the command
 * reads (and refuses, by name) its options itself.
 */
static int known_opt(const struct command *c, const char *arg)
{
	if (c->opts && !strcmp(c->opts[0], "*"))
		return 1;
	for (const char *const *o = c->opts; o && *o; o++) {
		size_t n = strcspn(*o, "=");

		if (!strncmp(arg, *o, n) && !arg[n])
			return (*o)[n] ? 2 : 1;
	}
	return 0;
}

/* -1: go on and run it; otherwise the exit status. */
static int check_args(const struct command *c, int argc, char **argv)
{
	int npos = 0, k = 0;
	bool opts = true;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (opts && !strcmp(a, "--")) {
			opts = false;
		} else if (opts && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
			command_usage(c, stdout);
			return 0;
		} else if (opts && !strcmp(a, "--version")) {
			return cli_version();
		} else if (opts && a[0] == '-' && a[1] && !(k = known_opt(c, a))) {
			fprintf(stderr, "%s %s: unknown option '%s'\n", prog, c->name, a);
			return cli_see_help(c->name);
		} else if (opts && a[0] == '-' && a[1]) {
			i += k == 2;
		} else if (++npos > c->max && c->max >= 0) {
			return cli_extra(c->name, a);
		}
	}
	if (npos >= c->min)
		return -1;
	fprintf(stderr, "%s %s: missing arguments\n", prog, c->name);
	command_usage(c, stderr);
	return 2;
}

int main(int argc, char **argv)
{
	static char self[64];

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct command *c = &commands[i];
		int ret;

		if (strcmp(argv[1], c->name))
			continue;
		ret = c->own_opts ? -1 : check_args(c, argc - 1, argv + 1);
		if (ret >= 0)
			return ret;
		/* getopt_long names unknown options after argv[0]: "silosec knock: ..." */
		snprintf(self, sizeof(self), "%s %s", prog, c->name);
		argv[1] = self;
		return c->run(argc - 1, argv + 1);
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cli_version();
	fprintf(stderr, "%s: unknown command '%s'\n", prog, argv[1]);
	usage(stderr);
	return 2;
}
