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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <silosec/error.h>
#include <silosec/identity.h>
#include <silosec/knock.h>

#include "cli.h"

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
		"  -t, --to IDENTITY        the server's identity (base64)\n"
		"  -k, --key FILE           our private key (default ~/.config/silosec/knock.key)\n"
		"  -p, --payload TEXT       payload for the action (at most %d bytes)\n"
		"  -P, --payload-file FILE  payload from a file ('-' = stdin)\n"
		"  -d, --duration SECONDS   ask for this long (the server caps it)\n"
		"  -w, --wait-port [tcp/]PORT  afterwards, poll this TCP port until it accepts\n"
		"      --wait SECONDS       how long --wait-port polls (default 5)\n"
		"      --time-offset MS     add MS to our clock (a known skew to the server)\n"
		"  -n, --profile NAME       defaults from [NAME] in the profile file\n"
		"      --profiles FILE      profile file (default "
		"~/.config/silosec/knock.profiles)\n"
		"  -s, --source ADDR        sign ADDR as the knock's source (behind NAT: the\n"
		"                           public address); default: our address towards HOST\n"
		"      --any-source         sign no address (the server must allow it)\n"
		"                           (profile key: Source = ADDR or any)\n"
		"      --save-packet FILE   also write the datagram to FILE (tests, audits)\n"
		"  -4, -6                   IPv4 or IPv6 only\n"
		"  -q, --quiet              no report\n"
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

static void set(char **dst, const char *v)
{
	if (*dst)
		return; /* the command line wins over the profile */
	*dst = strdup(v);
}

/* Profile stanzas, like fwknop's ~/.fwknoprc: [NAME] then Key = Value lines. */
static int load_profile(const char *file, const char *name, struct kopts *o)
{
	FILE *f = fopen(file, "r");
	char line[1024];
	unsigned ln = 0;
	bool in = false, found = false;

	if (!f) {
		fprintf(stderr, "%s: knock: %s: %s\n", prog, file, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *eq, *k, *v, *e;

		ln++;
		s[strcspn(s, "\r\n")] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		if (*s == '[') {
			e = strchr(s, ']');
			if (!e) {
				fprintf(stderr, "%s: knock: %s:%u: bad section header\n", prog,
					file, ln);
				fclose(f);
				return -1;
			}
			*e = '\0';
			in = !strcmp(s + 1, name);
			found |= in;
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			fprintf(stderr, "%s: knock: %s:%u: expected Key = Value\n", prog, file, ln);
			fclose(f);
			return -1;
		}
		if (!in)
			continue;
		*eq = '\0';
		k = s;
		v = eq + 1;
		for (e = eq - 1; e >= k && (*e == ' ' || *e == '\t'); e--)
			*e = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
			e[-1] = '\0';
		if (!strcasecmp(k, "To"))
			set(&o->to, v);
		else if (!strcasecmp(k, "Host"))
			set(&o->target, v);
		else if (!strcasecmp(k, "Action"))
			set(&o->action, v);
		else if (!strcasecmp(k, "Key"))
			set(&o->key, v);
		else if (!strcasecmp(k, "Payload"))
			set(&o->payload, v);
		else if (!strcasecmp(k, "WaitPort"))
			set(&o->wait_port, v);
		else if (!strcasecmp(k, "Source"))
			set(&o->source, v);
		else if (!strcasecmp(k, "Duration")) {
			if (!o->duration)
				o->duration = (uint32_t)strtoul(v, NULL, 10);
		} else {
			fprintf(stderr, "%s: knock: %s:%u: unknown key '%s'\n", prog, file, ln, k);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	if (!found) {
		fprintf(stderr, "%s: knock: %s: no profile [%s]\n", prog, file, name);
		return -1;
	}
	return 0;
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

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Poll a TCP port until a connection is accepted or the time is up. */
static int wait_port(const struct sockaddr *sa, socklen_t sl, const char *spec, double limit,
		     bool quiet)
{
	struct sockaddr_storage ss;
	const char *p = spec;
	unsigned long port;
	char *end;
	double t0 = now_s();

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
				printf("port tcp/%lu reachable after %.1f s\n", port, now_s() - t0);
			return 0;
		}
		close(fd);
		usleep(200000);
	} while (now_s() - t0 < limit);
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

int cmd_knock(int argc, char **argv)
{
	static const struct option lo[] = {
		{"to", required_argument, NULL, 't'},
		{"key", required_argument, NULL, 'k'},
		{"payload", required_argument, NULL, 'p'},
		{"payload-file", required_argument, NULL, 'P'},
		{"duration", required_argument, NULL, 'd'},
		{"wait-port", required_argument, NULL, 'w'},
		{"wait", required_argument, NULL, 'W'},
		{"time-offset", required_argument, NULL, 'O'},
		{"profile", required_argument, NULL, 'n'},
		{"profiles", required_argument, NULL, 'F'},
		{"quiet", no_argument, NULL, 'q'},
		{"save-packet", required_argument, NULL, 'S'},
		{"source", required_argument, NULL, 's'},
		{"any-source", no_argument, NULL, 'A'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct kopts o = {.wait_s = 5};
	const char *profile = NULL, *profiles = NULL;
	uint8_t server[SS_IDENTITY_LEN], pkt[SS_KNOCK_MAX_LEN], payload[MAX_PAYLOAD_FILE];
	char host[256], port[16], addr[INET6_ADDRSTRLEN], sid[SS_B64_KEY_LEN];
	char srctxt[INET6_ADDRSTRLEN] = "any";
	uint8_t src[16] = {0};
	int src_family = AF_UNSPEC;
	bool any_source = false;
	char sfp[SS_FINGERPRINT_LEN], cfp[SS_FINGERPRINT_LEN], when[64];
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai = NULL;
	ss_identity *id = NULL;
	size_t plen = 0, len = 0;
	ss_knock_req req;
	struct timespec ts;
	struct tm tm;
	time_t secs;
	int c, fd = -1, ret = 1, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:k:p:P:d:w:n:s:q46h", lo, NULL)) != -1) {
		switch (c) {
		case 't':
			o.to = strdup(optarg);
			break;
		case 'k':
			o.key = strdup(optarg);
			break;
		case 'p':
			o.payload = strdup(optarg);
			break;
		case 'P':
			o.payload_file = strdup(optarg);
			break;
		case 'd':
			o.duration = (uint32_t)strtoul(optarg, NULL, 10);
			if (!o.duration) {
				fprintf(stderr, "%s: knock: --duration needs seconds > 0\n", prog);
				goto out;
			}
			break;
		case 'w':
			o.wait_port = strdup(optarg);
			break;
		case 'W':
			o.wait_s = strtod(optarg, NULL);
			break;
		case 'O':
			o.offset_ms = strtoll(optarg, NULL, 10);
			break;
		case 'n':
			profile = optarg;
			break;
		case 'F':
			profiles = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'S':
			o.save = strdup(optarg);
			break;
		case 's':
			free(o.source);
			o.source = strdup(optarg);
			break;
		case 'A':
			any_source = true;
			break;
		case '4':
			o.family = AF_INET;
			break;
		case '6':
			o.family = AF_INET6;
			break;
		case 'h':
			knock_usage(stdout);
			ret = 0;
			goto out;
		default:
			knock_usage(stderr);
			ret = 2;
			goto out;
		}
	}
	if (optind < argc)
		o.target = strdup(argv[optind++]);
	if (optind < argc)
		o.action = strdup(argv[optind++]);
	if (optind < argc) {
		knock_usage(stderr);
		ret = 2;
		goto out;
	}
	if (any_source && o.source && strcmp(o.source, "any")) {
		fprintf(stderr, "%s: knock: --source and --any-source exclude each other\n", prog);
		goto out;
	}
	/* Before the profile, so the command line wins over its Source. */
	if (any_source) {
		free(o.source);
		o.source = strdup("any");
	}
	if (profile) {
		char *def =
			profiles ? strdup(profiles) : home_path(".config/silosec/knock.profiles");

		r = def ? load_profile(def, profile, &o) : -1;
		free(def);
		if (r)
			goto out;
	}
	if (!o.key)
		o.key = home_path(".config/silosec/knock.key");
	if (!o.to || !o.target || !o.action || !o.key) {
		knock_usage(stderr);
		ret = 2;
		goto out;
	}
	if (ss_key_from_base64(o.to, server)) {
		fprintf(stderr, "%s: knock: --to '%s' is not a base64 identity\n", prog, o.to);
		goto out;
	}
	if (ss_identity_check_pub(server)) {
		fprintf(stderr, "%s: knock: --to '%s': %s\n", prog, o.to,
			ss_strerror(SS_ERR_BAD_KEY));
		goto out;
	}
	r = ss_keyfile_load(o.key, &id);
	if (r) {
		fprintf(stderr, "%s: knock: %s: %s\n", prog, o.key, ss_strerror(r));
		goto out;
	}
	if (o.payload && o.payload_file) {
		fprintf(stderr, "%s: knock: --payload and --payload-file exclude each other\n",
			prog);
		goto out;
	}
	if (o.payload) {
		plen = strlen(o.payload);
		if (plen > SS_KNOCK_MAX_PAYLOAD) {
			fprintf(stderr, "%s: knock: payload over %d bytes\n", prog,
				SS_KNOCK_MAX_PAYLOAD);
			goto out;
		}
		memcpy(payload, o.payload, plen);
	} else if (o.payload_file && read_payload_file(o.payload_file, payload, &plen)) {
		fprintf(stderr, "%s: knock: %s: unreadable or over %d bytes\n", prog,
			o.payload_file, SS_KNOCK_MAX_PAYLOAD);
		goto out;
	}
	if (split_target(o.target, host, sizeof(host), port, sizeof(port))) {
		fprintf(stderr, "%s: knock: '%s' is not HOST[:PORT]\n", prog, o.target);
		goto out;
	}
	hints.ai_family = o.family;
	r = getaddrinfo(host, port, &hints, &ai);
	if (r) {
		fprintf(stderr, "%s: knock: %s: %s\n", prog, o.target, gai_strerror(r));
		goto out;
	}

	/* Connected first: the source the kernel picks for it is the one the knock is bound to. */
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		fprintf(stderr, "%s: knock: %s: %s\n", prog, o.target, strerror(errno));
		goto out;
	}
	if (pick_source(fd, o.source, &src_family, src))
		goto out;
	if (src_family != AF_UNSPEC) {
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		/* Shown as the server will compare it: v4-mapped is IPv4. */
		if (src_family == AF_INET6 && !memcmp(src, mapped, sizeof(mapped)))
			inet_ntop(AF_INET, src + 12, srctxt, sizeof(srctxt));
		else
			inet_ntop(src_family, src, srctxt, sizeof(srctxt));
	}

	clock_gettime(CLOCK_REALTIME, &ts);
	req = (ss_knock_req){
		.action = o.action,
		.payload = payload,
		.payload_len = plen,
		.duration = o.duration,
		.timestamp_ms = (uint64_t)((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
					   o.offset_ms),
		.src_family = src_family,
		.src_addr = src,
	};
	r = ss_knock_seal(pkt, sizeof(pkt), &len, id, server, &req, ss_random_system, NULL);
	if (r) {
		fprintf(stderr, "%s: knock: cannot seal: %s%s\n", prog, ss_strerror(r),
			r == SS_ERR_INVAL ? " (action must be 1-32 of [A-Za-z0-9._-])" : "");
		goto out;
	}
	if (o.save) {
		FILE *sf = fopen(o.save, "wb");
		bool ok = sf && fwrite(pkt, 1, len, sf) == len;

		if (sf && fclose(sf) != 0)
			ok = false;
		if (!ok) {
			fprintf(stderr, "%s: knock: %s: cannot write\n", prog, o.save);
			goto out;
		}
	}
	if (send(fd, pkt, len, 0) != (ssize_t)len) {
		fprintf(stderr, "%s: knock: send to %s: %s\n", prog, o.target, strerror(errno));
		goto out;
	}
	if (!o.quiet) {
		const void *a =
			ai->ai_family == AF_INET
				? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
				: (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;

		inet_ntop(ai->ai_family, a, addr, sizeof(addr));
		ss_key_to_base64(server, sid);
		ss_fingerprint(server, sfp);
		ss_fingerprint(ss_identity_public(id), cfp);
		secs = (time_t)(req.timestamp_ms / 1000);
		gmtime_r(&secs, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		printf("knock sent: %zu bytes over UDP/IPv%d to %s port %s\n", len,
		       ai->ai_family == AF_INET ? 4 : 6, addr, port);
		printf("  server    %s (%s)\n", sid, sfp);
		printf("  client    %s\n", cfp);
		printf("  source    %s%s\n", srctxt,
		       src_family == AF_UNSPEC
			       ? " (any address: only if the server allows it for us)"
			       : " (the server acts only for a knock from this address)");
		printf("  action    %s\n", o.action);
		printf("  payload   %zu bytes\n", plen);
		if (o.duration)
			printf("  duration  %u s asked (the server caps it)\n", o.duration);
		else
			printf("  duration  the action's default\n");
		printf("  timestamp %s.%03uZ%s (the server accepts it within its window, "
		       "default 30 s)\n",
		       when, (unsigned)(req.timestamp_ms % 1000),
		       o.offset_ms ? " (offset applied)" : "");
		printf("The server never replies; it logs why a knock was dropped.\n");
		fflush(stdout);
	}
	ret = 0;
	if (o.wait_port)
		ret = wait_port(ai->ai_addr, ai->ai_addrlen, o.wait_port, o.wait_s, o.quiet);
out:
	if (fd >= 0)
		close(fd);
	if (ai)
		freeaddrinfo(ai);
	ss_identity_free(id);
	if (o.payload)
		memset(o.payload, 0, strlen(o.payload));
	memset(payload, 0, sizeof(payload));
	free(o.to);
	free(o.target);
	free(o.action);
	free(o.key);
	free(o.payload);
	free(o.payload_file);
	free(o.wait_port);
	free(o.save);
	free(o.source);
	return ret;
}
