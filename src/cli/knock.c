/* SPDX-License-Identifier: MIT */
/*
 * silosec knock: send one single-packet-authorization knock to a silosec-knockd.
 * The server never answers (by design), so this reports exactly what was sent; with
 * --wait-port it then polls the port the knock should have opened.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <silosec/error.h>
#include <silosec/identity.h>
#include "knock/knock.h"

#include "cli.h"
#include "common/clock.h"
#include "common/capability.h"
#include "common/ini.h"
#include "common/wipe.h"

#define MAX_PAYLOAD_FILE (SS_KNOCK_MAX_PAYLOAD + 1)

struct kopts {
	char *to, *target, *action, *key, *payload, *payload_file, *wait_port, *save;
	char *source; /* address to sign, or "any"; NULL = the local address towards the server */
	uint32_t duration;
	long long offset_ms;
	int family;
	double wait_s;
	bool quiet;
};

static void knock_usage(FILE *f)
{
	fprintf(f,
		"usage: %s knock [options] --to IDENTITY HOST[:PORT] ACTION\n"
		"       %s knock [options] --profile NAME [HOST[:PORT] [ACTION]]\n"
		"  -p, --to, --peer IDENTITY  the server's identity (base64)\n"
		"  -k, --key FILE           our private key (default ~/.config/silosec/knock.key)\n"
		"      --payload TEXT       payload for the action (at most %d bytes)\n"
		"  -P, --payload-file FILE  payload from a file ('-' = stdin)\n"
		"  -d, --duration TIME      ask for this long (30, 30s, 5m, 1h; the server caps "
		"it)\n"
		"      --wait-port [tcp/]PORT  afterwards, poll this TCP port until it accepts\n"
		"  -w, --wait TIME          how long --wait-port polls (default 5s)\n"
		"      --time-offset MS     add MS to our clock (a known skew to the server)\n"
		"  -n, --profile NAME       defaults from [NAME] in the profile file\n"
		"      --profiles FILE      profile file (default "
		"~/.config/silosec/knock.profiles)\n"
		"  -s, --source ADDR        sign ADDR as the knock's source (behind NAT: the\n"
		"                           public address); default: our address towards HOST\n"
		"      --any-source         sign no address (the server must allow it)\n"
		"                           (profile key: Source = ADDR or any)\n"
		"      --save-packet FILE   also write the datagram to FILE (tests, audits)\n"
		"  -4, --ipv4, -6, --ipv6   IPv4 or IPv6 only\n"
		"  -q, --quiet              no report\n"
		"  -h, --help, --version\n"
		"PORT defaults to %d. The server never replies: nothing is printed about success\n"
		"unless --wait-port is given.\n",
		prog, prog, SS_KNOCK_MAX_PAYLOAD, SS_KNOCK_DEFAULT_PORT);
}

static char *home_path(const char *rel)
{
	const char *h = getenv("HOME");
	char *p;

	if (!h)
		return NULL;
	p = malloc(strlen(h) + strlen(rel) + 2);
	if (p)
		sprintf(p, "%s/%s", h, rel);
	return p;
}

/* Profile stanzas, like fwknop's ~/.fwknoprc: [NAME] then Key = Value lines. */
struct profile {
	struct ss_ini ini;
	struct kopts *o;
	const char *name;
	bool found;
};

#define SEC_PROFILE 1
#define MAX_PROFILE_FILE ((size_t)1 << 20)

/* The command line wins over the profile, and a key's first line over a repeat. */
static int set_str(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct profile *pr = ctx;
	char **dst = (char **)(void *)((char *)pr->o + k->off);

	if (!*dst)
		*dst = strdup(v);
	return *dst ? 0 : SS_ERR_NOMEM;
}

static int set_duration(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct profile *pr = ctx;

	(void)k;
	if (!pr->o->duration && ss_duration_parse(v, &pr->o->duration))
		return ss_ini_fail(&pr->ini, pr->ini.line, SS_ERR_FORMAT,
				   "Duration: '%s' is not a duration (30, 30s, 5m, 1h)", v);
	return 0;
}

static const struct ss_ini_key profile_keys[] = {
	{"To", SEC_PROFILE, true, set_str, offsetof(struct kopts, to)},
	{"Host", SEC_PROFILE, true, set_str, offsetof(struct kopts, target)},
	{"Action", SEC_PROFILE, true, set_str, offsetof(struct kopts, action)},
	{"Key", SEC_PROFILE, true, set_str, offsetof(struct kopts, key)},
	{"Payload", SEC_PROFILE, true, set_str, offsetof(struct kopts, payload)},
	{"WaitPort", SEC_PROFILE, true, set_str, offsetof(struct kopts, wait_port)},
	{"Source", SEC_PROFILE, true, set_str, offsetof(struct kopts, source)},
	{"Duration", SEC_PROFILE, true, set_duration, 0},
};

/* Other profiles' stanzas are only checked for their shape. */
static int profile_section(void *ctx, char *name, int *kind)
{
	struct profile *pr = ctx;

	*kind = strcmp(name, pr->name) ? SS_INI_IGNORE : SEC_PROFILE;
	pr->found |= *kind == SEC_PROFILE;
	return 0;
}

static const struct ss_ini_dialect profile_dialect = {
	.keys = profile_keys,
	.nkeys = sizeof(profile_keys) / sizeof(profile_keys[0]),
	.max_line = 4096,
	.initial_section = SS_INI_IGNORE,
	.section = profile_section,
};

static int load_profile(const char *file, const char *name, struct kopts *o)
{
	char err[512], *text;
	struct profile pr = {
		.ini = {.file = file, .err = err, .errlen = sizeof(err)}, .o = o, .name = name};
	size_t len;
	int fd = open(file, O_RDONLY | O_CLOEXEC), ret = SS_ERR_IO;

	pr.ini.ctx = &pr;
	if (fd >= 0) {
		int saved;

		ret = ss_ini_read_fd(fd, MAX_PROFILE_FILE, &text, &len);
		saved = errno;
		close(fd);
		errno = saved;
	}
	if (ret) {
		fprintf(stderr, "%s: knock: %s: %s\n", prog, file,
			ret == SS_ERR_IO       ? strerror(errno)
			: ret == SS_ERR_FORMAT ? "larger than 1 MiB"
					       : ss_strerror(ret));
		return -1;
	}
	ret = ss_ini_parse(&pr.ini, &profile_dialect, text, len);
	ss_wipe(text, len); /* Payload = may be a secret */
	free(text);
	if (ret)
		fprintf(stderr, "%s: knock: %s\n", prog, err);
	else if (!pr.found)
		fprintf(stderr, "%s: knock: %s: no profile [%s]\n", prog, file, name);
	return ret || !pr.found ? -1 : 0;
}

/* Copy n bytes of src into dst as a string, if it fits. */
static int copy_part(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

/* HOST, HOST:PORT, [V6], [V6]:PORT, or a bare IPv6 address. */
static int split_target(const char *t, char *host, size_t hl, char *port, size_t pl)
{
	const char *c;

	snprintf(port, pl, "%d", SS_KNOCK_DEFAULT_PORT);
	if (t[0] == '[') {
		const char *e = strchr(t, ']');

		if (!e || (e[1] && e[1] != ':'))
			return -1;
		if (copy_part(host, hl, t + 1, (size_t)(e - t - 1)))
			return -1;
		return e[1] == ':' ? copy_part(port, pl, e + 2, strlen(e + 2)) : 0;
	}
	c = strchr(t, ':');
	if (c && strchr(c + 1, ':')) /* bare IPv6 */
		return copy_part(host, hl, t, strlen(t));
	if (c)
		return copy_part(host, hl, t, (size_t)(c - t)) ||
		       copy_part(port, pl, c + 1, strlen(c + 1));
	return copy_part(host, hl, t, strlen(t));
}

/*
 * The address to sign: ADDR or "any" as given, else the one the kernel picked for the
 * connected socket, which is the one the server sees unless a NAT rewrites it.
 */
static int pick_source(int fd, const char *given, int *family, uint8_t addr[16])
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (given) {
		if (!strcmp(given, "any")) {
			*family = AF_UNSPEC;
			return 0;
		}
		if (inet_pton(AF_INET, given, addr) == 1) {
			*family = AF_INET;
			return 0;
		}
		if (inet_pton(AF_INET6, given, addr) == 1) {
			*family = AF_INET6;
			return 0;
		}
		fprintf(stderr, "%s: knock: --source '%s' is not an IPv4 or IPv6 address\n", prog,
			given);
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		fprintf(stderr, "%s: knock: cannot learn our address: %s\n", prog, strerror(errno));
		return -1;
	}
	if (ss.ss_family == AF_INET) {
		*family = AF_INET;
		memcpy(addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else {
		*family = AF_INET6;
		memcpy(addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	}
	return 0;
}

/* Poll a TCP port until a connection is accepted or the time is up. */
static int wait_port(const struct sockaddr *sa, socklen_t sl, const char *spec, double limit,
		     bool quiet)
{
	struct sockaddr_storage ss;
	const char *p = spec;
	unsigned long port;
	char *end;
	double t0 = ss_mono_s();

	if (!strncmp(p, "tcp/", 4))
		p += 4;
	port = strtoul(p, &end, 10);
	if (*end || port < 1 || port > 65535) {
		fprintf(stderr, "%s: knock: --wait-port '%s': need [tcp/]PORT\n", prog, spec);
		return 2;
	}
	memcpy(&ss, sa, sl);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	do {
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		struct pollfd pf = {.fd = fd, .events = POLLOUT};
		int e = 0;
		socklen_t el = sizeof(e);

		if (fd < 0)
			return 1;
		if (connect(fd, (struct sockaddr *)&ss, sl) == 0 ||
		    (errno == EINPROGRESS && poll(&pf, 1, 300) == 1 &&
		     getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0)) {
			close(fd);
			if (!quiet)
				printf("port tcp/%lu reachable after %.1f s\n", port,
				       ss_mono_s() - t0);
			return 0;
		}
		close(fd);
		usleep(200000);
	} while (ss_mono_s() - t0 < limit);
	if (!quiet)
		printf("port tcp/%lu not reachable within %.1f s\n", port, limit);
	return 1;
}

static int read_payload_file(const char *path, uint8_t *buf, size_t *len)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + got, MAX_PAYLOAD_FILE - got)) > 0) {
		got += (size_t)n;
		if (got == MAX_PAYLOAD_FILE)
			break;
	}
	if (fd)
		close(fd);
	if (n < 0 || got > SS_KNOCK_MAX_PAYLOAD)
		return -1;
	*len = got;
	return 0;
}

/* Everything one knock needs, filled step by step: parse, resolve, seal, send, report. */
struct knock {
	struct kopts o;
	const char *profile, *profiles;
	bool any_source, wait_given;
	int exit; /* the status if a step stops */
	/* resolve */
	uint8_t server[SS_IDENTITY_LEN];
	ss_identity *id;
	uint8_t payload[MAX_PAYLOAD_FILE];
	size_t plen;
	char port[16];
	struct addrinfo *ai;
	int fd;
	uint8_t src[16];
	int src_family;
	char srctxt[INET6_ADDRSTRLEN];
	/* seal */
	ss_knock_req req;
	uint8_t pkt[SS_KNOCK_MAX_LEN];
	size_t len;
};

static const struct option knock_opts[] = {
	{"to", required_argument, NULL, 'p'},
	{"peer", required_argument, NULL, 'p'},
	{"key", required_argument, NULL, 'k'},
	{"payload", required_argument, NULL, 'Y'},
	{"payload-file", required_argument, NULL, 'P'},
	{"duration", required_argument, NULL, 'd'},
	{"wait-port", required_argument, NULL, 'w' + 256},
	{"version", no_argument, NULL, 'V'},
	{"wait", required_argument, NULL, 'w'},
	{"time-offset", required_argument, NULL, 'O'},
	{"profile", required_argument, NULL, 'n'},
	{"profiles", required_argument, NULL, 'F'},
	{"quiet", no_argument, NULL, 'q'},
	{"save-packet", required_argument, NULL, 'S'},
	{"source", required_argument, NULL, 's'},
	{"any-source", no_argument, NULL, 'A'},
	{"ipv4", no_argument, NULL, '4'},
	{"ipv6", no_argument, NULL, '6'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* The string options, by letter. */
static const struct {
	int c;
	size_t off;
} str_opts[] = {
	{'p', offsetof(struct kopts, to)},
	{'k', offsetof(struct kopts, key)},
	{'Y', offsetof(struct kopts, payload)},
	{'P', offsetof(struct kopts, payload_file)},
	{'w' + 256, offsetof(struct kopts, wait_port)},
	{'S', offsetof(struct kopts, save)},
	{'s', offsetof(struct kopts, source)},
};

static char **str_opt(struct kopts *o, int c)
{
	for (size_t i = 0; i < sizeof(str_opts) / sizeof(str_opts[0]); i++)
		if (str_opts[i].c == c)
			return (char **)(void *)((char *)o + str_opts[i].off);
	return NULL;
}

/* One option; false stops the command with k->exit. */
static bool parse_opt(struct knock *k, int c)
{
	char **str = str_opt(&k->o, c);

	if (str) {
		free(*str); /* the last one given wins */
		*str = strdup(optarg);
		return true;
	}
	switch (c) {
	case 'd':
		if (!ss_duration_parse(optarg, &k->o.duration))
			return true;
		fprintf(stderr, "%s: knock: --duration: '%s' is not a duration (30, 30s, 5m, 1h)\n",
			prog, optarg);
		k->exit = 2;
		return false;
	case 'w':
		k->wait_given = true;
		k->o.wait_s = cli_seconds("knock: --wait", optarg, 3600);
		k->exit = k->o.wait_s > 0 ? k->exit : 2;
		return k->o.wait_s > 0;
	case 'O':
		k->o.offset_ms = strtoll(optarg, NULL, 10);
		return true;
	case 'n':
		k->profile = optarg;
		return true;
	case 'F':
		k->profiles = optarg;
		return true;
	case 'q':
		k->o.quiet = true;
		return true;
	case 'A':
		k->any_source = true;
		return true;
	case '4':
	case '6':
		k->o.family = c == '4' ? AF_INET : AF_INET6;
		return true;
	case 'h':
		knock_usage(stdout);
		k->exit = 0;
		return false;
	case 'V':
		k->exit = cli_version();
		return false;
	default: /* getopt named the option */
		k->exit = cli_see_help("knock");
		return false;
	}
}

/* The profile fills in what the command line left out. */
static bool apply_profile(struct knock *k)
{
	char *def;
	int r;

	if (!k->profile)
		return true;
	def = k->profiles ? strdup(k->profiles) : home_path(".config/silosec/knock.profiles");
	r = def ? load_profile(def, k->profile, &k->o) : -1;
	free(def);
	return r == 0;
}

/* What is still missing after the command line and the profile, said plainly. */
static bool knock_complete(struct knock *k)
{
	const char *miss = !k->o.to ? "the server's identity: --to IDENTITY (or --profile NAME)"
			   : !k->o.target ? "the server: HOST[:PORT]"
			   : !k->o.action ? "the action: ACTION (an [Action NAME] of the server)"
			   : !k->o.key	  ? "our key: --key FILE (HOME is not set)"
					  : NULL;

	if (!miss)
		return true;
	fprintf(stderr, "%s: knock: missing %s; see '%s knock --help'\n", prog, miss, prog);
	k->exit = 2;
	return false;
}

static bool knock_parse(struct knock *k, int argc, char **argv)
{
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:k:P:d:w:n:s:q46hV", knock_opts, NULL)) != -1)
		if (!parse_opt(k, c))
			return false;
	if (optind < argc)
		k->o.target = strdup(argv[optind++]);
	if (optind < argc)
		k->o.action = strdup(argv[optind++]);
	if (optind < argc) {
		k->exit = cli_extra("knock", argv[optind]);
		return false;
	}
	if (k->any_source && k->o.source && strcmp(k->o.source, "any")) {
		fprintf(stderr, "%s: knock: --source and --any-source exclude each other\n", prog);
		return false;
	}
	/* Before the profile, so the command line wins over its Source. */
	if (k->any_source) {
		free(k->o.source);
		k->o.source = strdup("any");
	}
	if (!apply_profile(k))
		return false;
	if (k->wait_given && !k->o.wait_port) {
		fprintf(stderr,
			"%s: knock: --wait says how long --wait-port polls; add --wait-port "
			"PORT\n",
			prog);
		k->exit = 2;
		return false;
	}
	if (!k->o.key)
		k->o.key = home_path(".config/silosec/knock.key");
	return knock_complete(k);
}

static bool resolve_payload(struct knock *k)
{
	const struct kopts *o = &k->o;

	if (o->payload && o->payload_file) {
		fprintf(stderr, "%s: knock: --payload and --payload-file exclude each other\n",
			prog);
		return false;
	}
	if (o->payload) {
		k->plen = strlen(o->payload);
		if (k->plen > SS_KNOCK_MAX_PAYLOAD) {
			fprintf(stderr, "%s: knock: payload over %d bytes\n", prog,
				SS_KNOCK_MAX_PAYLOAD);
			return false;
		}
		memcpy(k->payload, o->payload, k->plen);
	} else if (o->payload_file && read_payload_file(o->payload_file, k->payload, &k->plen)) {
		fprintf(stderr, "%s: knock: %s: unreadable or over %d bytes\n", prog,
			o->payload_file, SS_KNOCK_MAX_PAYLOAD);
		return false;
	}
	return true;
}

/* Keys and payload: the server's identity, ours, what the action gets. */
static bool resolve_keys(struct knock *k)
{
	int r;

	if (ss_key_from_base64(k->o.to, k->server)) {
		fprintf(stderr, "%s: knock: --to '%s' is not a base64 identity\n", prog, k->o.to);
		return false;
	}
	if (ss_identity_check_pub(k->server)) {
		fprintf(stderr, "%s: knock: --to '%s': %s\n", prog, k->o.to,
			ss_strerror(SS_ERR_BAD_KEY));
		return false;
	}
	r = ss_keyfile_load(k->o.key, &k->id);
	if (r) {
		cli_key_error("knock", k->o.key, r);
		return false;
	}
	return resolve_payload(k);
}

/* Shown as the server will compare it: v4-mapped is IPv4. */
static void format_source(struct knock *k)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	snprintf(k->srctxt, sizeof(k->srctxt), "any");
	if (k->src_family == AF_INET6 && !memcmp(k->src, mapped, sizeof(mapped)))
		inet_ntop(AF_INET, k->src + 12, k->srctxt, sizeof(k->srctxt));
	else if (k->src_family != AF_UNSPEC)
		inet_ntop(k->src_family, k->src, k->srctxt, sizeof(k->srctxt));
}

/* The server's address, a socket connected to it, the source address to sign. */
static bool resolve_peer(struct knock *k)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_family = k->o.family};
	char host[256];
	int r;

	if (split_target(k->o.target, host, sizeof(host), k->port, sizeof(k->port))) {
		fprintf(stderr, "%s: knock: '%s' is not HOST[:PORT]\n", prog, k->o.target);
		return false;
	}
	r = getaddrinfo(host, k->port, &hints, &k->ai);
	if (r) {
		k->ai = NULL;
		fprintf(stderr, "%s: knock: %s: %s\n", prog, k->o.target, gai_strerror(r));
		return false;
	}
	/* Connected first: the source the kernel picks for it is the one the knock is bound to. */
	k->fd = socket(k->ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (k->fd < 0 || connect(k->fd, k->ai->ai_addr, k->ai->ai_addrlen) < 0) {
		fprintf(stderr, "%s: knock: %s: %s\n", prog, k->o.target, strerror(errno));
		return false;
	}
	if (pick_source(k->fd, k->o.source, &k->src_family, k->src))
		return false;
	format_source(k);
	return true;
}

static bool knock_seal(struct knock *k)
{
	struct timespec ts;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	k->req = (ss_knock_req){
		.action = k->o.action,
		.payload = k->payload,
		.payload_len = k->plen,
		.duration = k->o.duration,
		.timestamp_ms = (uint64_t)((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
					   k->o.offset_ms),
		.src_family = k->src_family,
		.src_addr = k->src,
	};
	r = ss_knock_seal(k->pkt, sizeof(k->pkt), &k->len, k->id, k->server, &k->req,
			  ss_random_system, NULL);
	if (r)
		fprintf(stderr, "%s: knock: cannot seal: %s%s\n", prog, ss_strerror(r),
			r == SS_ERR_INVAL ? " (action must be 1-32 of [A-Za-z0-9._-])" : "");
	return r == 0;
}

static bool knock_send(struct knock *k)
{
	if (k->o.save) {
		FILE *sf = fopen(k->o.save, "wb");
		bool ok = sf && fwrite(k->pkt, 1, k->len, sf) == k->len;

		if (sf && fclose(sf) != 0)
			ok = false;
		if (!ok) {
			fprintf(stderr, "%s: knock: %s: cannot write\n", prog, k->o.save);
			return false;
		}
	}
	if (send(k->fd, k->pkt, k->len, 0) != (ssize_t)k->len) {
		fprintf(stderr, "%s: knock: send to %s: %s\n", prog, k->o.target, strerror(errno));
		return false;
	}
	return true;
}

/* What was sent: the server never replies, so this is all the user learns. */
static void knock_report(const struct knock *k)
{
	const struct addrinfo *ai = k->ai;
	const void *a = ai->ai_family == AF_INET
				? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
				: (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
	char addr[INET6_ADDRSTRLEN], sid[SS_B64_KEY_LEN], when[64];
	char sfp[SS_FINGERPRINT_LEN], cfp[SS_FINGERPRINT_LEN];
	time_t secs = (time_t)(k->req.timestamp_ms / 1000);
	struct tm tm;

	inet_ntop(ai->ai_family, a, addr, sizeof(addr));
	ss_key_to_base64(k->server, sid);
	ss_fingerprint(k->server, sfp);
	ss_fingerprint(ss_identity_public(k->id), cfp);
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	printf("knock sent: %zu bytes over UDP/IPv%d to %s port %s\n", k->len,
	       ai->ai_family == AF_INET ? 4 : 6, addr, k->port);
	printf("  server    %s (%s)\n", sid, sfp);
	printf("  client    %s\n", cfp);
	printf("  source    %s%s\n", k->srctxt,
	       k->src_family == AF_UNSPEC
		       ? " (any address: only if the server allows it for us)"
		       : " (the server acts only for a knock from this address)");
	printf("  action    %s\n", k->o.action);
	printf("  payload   %zu bytes\n", k->plen);
	if (k->o.duration)
		printf("  duration  %u s asked (the server caps it)\n", k->o.duration);
	else
		printf("  duration  the action's default\n");
	printf("  timestamp %s.%03uZ%s (the server accepts it within its window, "
	       "default 30 s)\n",
	       when, (unsigned)(k->req.timestamp_ms % 1000),
	       k->o.offset_ms ? " (offset applied)" : "");
	printf("The server never replies; it logs why a knock was dropped.\n");
	fflush(stdout);
}

/* The payload is the action's secret input: wiped, never just freed. */
static void knock_free(struct knock *k)
{
	struct kopts *o = &k->o;

	if (k->fd >= 0)
		close(k->fd);
	if (k->ai)
		freeaddrinfo(k->ai);
	ss_identity_free(k->id);
	if (o->payload)
		ss_wipe(o->payload, strlen(o->payload));
	ss_wipe(k->payload, sizeof(k->payload));
	free(o->to);
	free(o->target);
	free(o->action);
	free(o->key);
	free(o->payload);
	free(o->payload_file);
	free(o->wait_port);
	free(o->save);
	free(o->source);
}

int cmd_knock(int argc, char **argv)
{
	struct knock k = {.o = {.wait_s = 5}, .exit = 1, .fd = -1, .src_family = AF_UNSPEC};
	int ret;

	if (knock_parse(&k, argc, argv) && resolve_keys(&k) && resolve_peer(&k) && knock_seal(&k) &&
	    knock_send(&k)) {
		if (!k.o.quiet)
			knock_report(&k);
		ret = 0;
		if (k.o.wait_port)
			ret = wait_port(k.ai->ai_addr, k.ai->ai_addrlen, k.o.wait_port, k.o.wait_s,
					k.o.quiet);
	} else {
		ret = k.exit;
	}
	knock_free(&k);
	return ret;
}
