/* SPDX-License-Identifier: MIT */
/*
 * silosec cat: an encrypted, authenticated netcat between identities (secure streams,
 * docs/PROTOCOL.md section 13). One connection: stdin is sent, what arrives goes to
 * stdout; each direction ends with an authenticated close, so a cut connection is an
 * error and never a silently short file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "stream/stream.h"

#include "cli.h"
#include "common/clock.h"
#include "common/wipe.h"
#include "common/fdio.h"

#define IO_BUF (256 * 1024)
#define MAX_PEERS 64

struct opts {
	bool listen, progress, verbose, any;
	const char *key, *known_hosts, *addr;
	uint8_t peers[MAX_PEERS][SS_IDENTITY_LEN];
	size_t npeers;
	uint32_t frame;
	int timeout_s;
};

static void cat_usage(FILE *f)
{
	fprintf(f,
		"usage: %s cat [options] HOST:PORT\n"
		"       %s cat [options] -l [ADDR:]PORT\n"
		"  -k, --key FILE          private key (required)\n"
		"  -p, --peer IDENTITY     accept only this peer identity (repeatable)\n"
		"  -K, --known-hosts FILE  trust on first use: pin the peer's identity under\n"
		"                          HOST:PORT (listener: the client's address), then "
		"enforce it\n"
		"      --any               listener: accept any client identity (printed on "
		"stderr)\n"
		"  -l, --listen            wait for one connection on [ADDR:]PORT\n"
		"      --progress          show the transfer rate on stderr (terminal only)\n"
		"      --frame BYTES       payload bytes per frame (default 65536)\n"
		"  -w, --timeout TIME      connect and handshake timeout (default 10s; 30, 2m)\n"
		"  -v, --verbose           print the peer's identity and fingerprint\n"
		"  -h, --help, --version\n",
		prog, prog);
}

static int die(const char *what, int code)
{
	fprintf(stderr, "%s: cat: %s: %s (%s)\n", prog, what, ss_strerror(code), ss_err_name(code));
	return 1;
}

/* "host:port", "[v6]:port", or "port" (listening only). */
static int split_addr(const char *arg, char *host, size_t hostlen, const char **port)
{
	const char *colon = strrchr(arg, ':');
	size_t n;

	if (!colon) {
		host[0] = 0;
		*port = arg;
		return 0;
	}
	*port = colon + 1;
	n = (size_t)(colon - arg);
	if (n >= 2 && arg[0] == '[' && arg[n - 1] == ']') {
		arg++;
		n -= 2;
	}
	if (n >= hostlen)
		return -1;
	memcpy(host, arg, n);
	host[n] = 0;
	return 0;
}

/* A socket for the first address that use() takes (0), or -1 with the last errno. */
static int first_socket(const struct addrinfo *res,
			int (*use)(int fd, const struct addrinfo *ai, void *arg), void *arg)
{
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol),
		    err;

		if (fd < 0)
			continue;
		if (!use(fd, ai, arg))
			return fd;
		err = errno;
		close(fd);
		errno = err;
	}
	return -1;
}

static int connect_to(int fd, const struct addrinfo *ai, void *timeout_s)
{
	struct timeval tv = {.tv_sec = *(int *)timeout_s};

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return connect(fd, ai->ai_addr, ai->ai_addrlen);
}

/* "::" takes IPv4 too (mapped). */
static int listen_on(int fd, const struct addrinfo *ai, void *unused)
{
	int one = 1, zero = 0;

	(void)unused;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen))
		return -1;
	return listen(fd, 1);
}

static int tcp_connect(const char *arg, int timeout_s)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	const char *port;
	char host[256];
	int fd = -1, err;

	if (split_addr(arg, host, sizeof(host), &port) || !host[0]) {
		fprintf(stderr, "%s: cat: '%s': expected HOST:PORT\n", prog, arg);
		return -1;
	}
	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		fprintf(stderr, "%s: cat: %s: %s\n", prog, arg, gai_strerror(err));
		return -1;
	}
	fd = first_socket(res, connect_to, &timeout_s);
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr, "%s: cat: connecting to %s: %s\n", prog, arg, strerror(errno));
	return fd;
}

/* Listen on [ADDR:]PORT, accept one connection; its address goes to name. */
static int tcp_accept(const char *arg, char *name, size_t namelen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int lfd, fd, err;
	const char *port;
	char host[256];

	if (split_addr(arg, host, sizeof(host), &port)) {
		fprintf(stderr, "%s: cat: '%s': expected [ADDR:]PORT\n", prog, arg);
		return -1;
	}
	if (!host[0])
		hints.ai_family = AF_INET6; /* "::" with IPv4 mapped in: both families */
	err = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (err) {
		fprintf(stderr, "%s: cat: %s: %s\n", prog, arg, gai_strerror(err));
		return -1;
	}
	lfd = first_socket(res, listen_on, NULL);
	freeaddrinfo(res);
	if (lfd < 0) {
		fprintf(stderr, "%s: cat: listening on %s: %s\n", prog, arg, strerror(errno));
		return -1;
	}
	do
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		fprintf(stderr, "%s: cat: accept: %s\n", prog, strerror(errno));
	close(lfd);
	if (fd >= 0 && getnameinfo((struct sockaddr *)&ss, sl, name, (socklen_t)namelen, NULL, 0,
				   NI_NUMERICHOST))
		snprintf(name, namelen, "unknown");
	/* An IPv4 client on the dual-stack socket is named by its IPv4 address. */
	if (fd >= 0 && !strncmp(name, "::ffff:", 7) && strchr(name, '.'))
		memmove(name, name + 7, strlen(name + 7) + 1);
	return fd;
}

struct progress {
	bool on;
	double start, last;
	uint64_t last_bytes;
};

static void human(char *out, size_t len, double v)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(out, len, "%.1f %s", v, u[i]);
}

static void progress_show(struct progress *p, const ss_stream *s, bool final)
{
	char tx[32], rx[32], rate[32];
	ss_stream_stats st;
	double t = ss_mono_s();
	uint64_t total;

	if (!p->on || (!final && t - p->last < 0.5))
		return;
	ss_stream_get_stats(s, &st);
	total = st.bytes_sent + st.bytes_received;
	human(tx, sizeof(tx), (double)st.bytes_sent);
	human(rx, sizeof(rx), (double)st.bytes_received);
	human(rate, sizeof(rate),
	      final ? (double)total / (t - p->start > 0 ? t - p->start : 1)
		    : (double)(total - p->last_bytes) / (t - p->last));
	fprintf(stderr, "\r\033[Ksent %s, received %s, %s/s%s", tx, rx, rate, final ? "\n" : "");
	p->last = t;
	p->last_bytes = total;
}

/* Blocking-style handshake on the non-blocking socket, bounded by the timeout. */
static int handshake(ss_stream *s, int fd, int timeout_s)
{
	double deadline = ss_mono_s() + timeout_s;
	int ret;

	while ((ret = ss_stream_handshake(s)) == SS_ERR_AGAIN) {
		struct pollfd p = {.fd = fd, .events = ss_stream_want_write(s) ? POLLOUT : POLLIN};
		double left = deadline - ss_mono_s();

		if (left <= 0)
			return SS_ERR_PEER_SLOW;
		if (poll(&p, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR)
			return SS_ERR_IO;
	}
	return ret;
}

/*
 * The data loop moves each direction through OPEN -> DRAINING -> CLOSED. Sending (stdin
 * to the peer): OPEN while stdin gives data; DRAINING once stdin ended and our
 * authenticated close is queued; CLOSED when it is out and the socket is shut for
 * writing. Receiving (the peer to stdout) has no draining step: what verifies is
 * written at once, and the peer's authenticated close makes it CLOSED.
 */
enum dir_state { DIR_OPEN, DIR_DRAINING, DIR_CLOSED };

/* A local failure (poll, stdin, stdout), already reported; stream errors are negative. */
#define PUMP_FAILED 1

struct pump {
	ss_stream *s;
	int fd;
	enum dir_state tx, rx;
	uint8_t *in, *out; /* plaintext: wiped before they are freed */
	size_t in_len, in_off;
	struct progress pr;
};

static bool pump_done(const struct pump *p)
{
	return p->tx == DIR_CLOSED && p->rx == DIR_CLOSED && !ss_stream_want_write(p->s);
}

/* Stdin is read only once what was read before has gone into the stream. */
static int pump_poll(const struct pump *p, struct pollfd fds[2])
{
	bool pending = p->in_off < p->in_len;

	fds[0] = (struct pollfd){.fd = STDIN_FILENO};
	fds[1] = (struct pollfd){.fd = p->fd};
	if (p->tx == DIR_OPEN && !pending)
		fds[0].events = POLLIN;
	else
		fds[0].fd = -1;
	fds[1].events = (short)((p->rx == DIR_OPEN ? POLLIN : 0) |
				(ss_stream_want_write(p->s) || pending ? POLLOUT : 0));
	if (poll(fds, 2, p->pr.on ? 500 : -1) < 0 && errno != EINTR) {
		fprintf(stderr, "%s: cat: poll: %s\n", prog, strerror(errno));
		return PUMP_FAILED;
	}
	return 0;
}

static int tx_read(struct pump *p, bool *eof)
{
	ssize_t n = read(STDIN_FILENO, p->in, IO_BUF);

	if (n < 0 && errno != EINTR && errno != EAGAIN) {
		fprintf(stderr, "%s: cat: stdin: %s\n", prog, strerror(errno));
		return PUMP_FAILED;
	}
	*eof = n == 0;
	if (n > 0) {
		p->in_off = 0;
		p->in_len = (size_t)n;
	}
	return 0;
}

static int again_is_ok(int ret)
{
	return ret == SS_ERR_AGAIN ? 0 : ret;
}

/* What stdin gave goes into the stream; otherwise what the stream holds goes out. */
static int tx_send(struct pump *p)
{
	size_t sent;
	int ret;

	if (p->in_off < p->in_len) {
		ret = ss_stream_send(p->s, 0, p->in + p->in_off, p->in_len - p->in_off, &sent);
		p->in_off += sent;
		return again_is_ok(ret);
	}
	if (ss_stream_want_write(p->s))
		return again_is_ok(ss_stream_flush(p->s));
	return 0;
}

/* OPEN -> DRAINING: stdin ended, our authenticated close is queued. */
static int tx_end(struct pump *p)
{
	int ret = again_is_ok(ss_stream_close(p->s));

	if (!ret)
		p->tx = DIR_DRAINING;
	return ret;
}

/* DRAINING -> CLOSED: the close frame is out, a plain FIN follows. */
static void tx_drained(struct pump *p)
{
	if (p->tx == DIR_DRAINING && !ss_stream_want_write(p->s)) {
		shutdown(p->fd, SHUT_WR);
		p->tx = DIR_CLOSED;
	}
}

/* OPEN -> CLOSED on the peer's authenticated close. */
static int rx_recv(struct pump *p)
{
	while (p->rx == DIR_OPEN) {
		ss_stream_info info;
		size_t got;
		int ret =
			ss_stream_recv(p->s, p->out, SS_STREAM_DEFAULT_RECV_FRAME, &got, &info, 0);

		/* Whatever came back verified is written, even next to an error. */
		if (got && ss_write_all(STDOUT_FILENO, p->out, got)) {
			fprintf(stderr, "%s: cat: stdout: %s\n", prog, strerror(errno));
			return PUMP_FAILED;
		}
		if (info.eof)
			p->rx = DIR_CLOSED;
		if (ret)
			return again_is_ok(ret);
	}
	return 0;
}

/* One round after poll: read, send, close, shut, receive, in that order. */
static int pump_step(struct pump *p, const struct pollfd fds[2])
{
	bool eof = false;
	int ret;

	progress_show(&p->pr, p->s, false);
	if (fds[0].revents && (ret = tx_read(p, &eof)))
		return ret;
	if ((ret = tx_send(p)))
		return ret;
	/* Stdin is read only when nothing is pending, so at its end all was sent. */
	if (eof && (ret = tx_end(p)))
		return ret;
	tx_drained(p);
	if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) && (ret = rx_recv(p)))
		return ret;
	/* Receiving flushes pending output too: our close may have gone out there. */
	tx_drained(p);
	return 0;
}

static void pump_report(struct pump *p, int ret)
{
	ss_stream_stats st;

	ss_stream_get_stats(p->s, &st);
	progress_show(&p->pr, p->s, true);
	if (ret == SS_ERR_TRUNCATED)
		fprintf(stderr,
			"%s: cat: connection cut before the peer's authenticated close: "
			"output incomplete (%llu bytes verified)\n",
			prog, (unsigned long long)st.bytes_received);
	else if (ret == SS_ERR_DECRYPT || ret == SS_ERR_MALFORMED)
		fprintf(stderr,
			"%s: cat: integrity failure: %s (%s); stream aborted after %llu "
			"verified bytes\n",
			prog, ss_strerror(ret), ss_err_name(ret),
			(unsigned long long)st.bytes_received);
	else
		die("stream", ret);
}

/*
 * Stdin to the stream, the stream to stdout, until both directions have ended with an
 * authenticated close. Returns the exit status.
 */
static int pump(ss_stream *s, int fd, const struct opts *o)
{
	struct pump p = {.s = s, .fd = fd, .tx = DIR_OPEN, .rx = DIR_OPEN};
	struct pollfd fds[2];
	int ret = 0;

	p.in = malloc(IO_BUF);
	p.out = malloc(SS_STREAM_DEFAULT_RECV_FRAME);
	p.pr.on = o->progress && isatty(STDERR_FILENO);
	p.pr.start = p.pr.last = ss_mono_s();
	if (!p.in || !p.out) {
		fprintf(stderr, "%s: cat: out of memory\n", prog);
		ret = PUMP_FAILED;
	}
	while (!ret && !pump_done(&p)) {
		ret = pump_poll(&p, fds);
		if (!ret)
			ret = pump_step(&p, fds);
	}
	if (ret && ret != PUMP_FAILED)
		pump_report(&p, ret);
	else if (!ret)
		progress_show(&p.pr, s, true);
	if (p.in)
		ss_wipe(p.in, IO_BUF);
	if (p.out)
		ss_wipe(p.out, SS_STREAM_DEFAULT_RECV_FRAME);
	free(p.in);
	free(p.out);
	return ret ? 1 : 0;
}

static int add_peer(struct opts *o, const char *arg)
{
	if (o->npeers == MAX_PEERS) {
		fprintf(stderr, "%s: cat: at most %d --peer\n", prog, MAX_PEERS);
		return 2;
	}
	if (ss_key_from_base64(arg, o->peers[o->npeers])) {
		fprintf(stderr, "%s: cat: --peer '%s' is not an identity\n", prog, arg);
		return 2;
	}
	if (ss_identity_check_pub(o->peers[o->npeers])) {
		fprintf(stderr, "%s: cat: --peer '%s': %s\n", prog, arg,
			ss_strerror(SS_ERR_BAD_KEY));
		return 2;
	}
	o->npeers++;
	return 0;
}

/* A whole decimal number in 1..max, or -1 after saying so: "--frame: 1 to N bytes". */
static long in_range(const char *arg, long max, const char *opt, const char *unit)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*end || v < 1 || v > max) {
		fprintf(stderr, "%s: cat: %s: 1 to %ld %s\n", prog, opt, max, unit);
		return -1;
	}
	return v;
}

/* The switch an option without argument turns on, if it is one. */
static bool *flag_of(struct opts *o, int c)
{
	switch (c) {
	case 'l':
		return &o->listen;
	case 'P':
		return &o->progress;
	case 'v':
		return &o->verbose;
	case 'A':
		return &o->any;
	default:
		return NULL;
	}
}

/* One option: 0, 2 on a usage error, -1 after --help. */
static int apply_opt(struct opts *o, int c, const char *arg)
{
	bool *flag = flag_of(o, c);
	long v;

	if (flag) {
		*flag = true;
		return 0;
	}
	switch (c) {
	case 'k':
		o->key = arg;
		return 0;
	case 'p':
		return add_peer(o, arg);
	case 'K':
		o->known_hosts = arg;
		return 0;
	case 'f':
		v = in_range(arg, SS_STREAM_DEFAULT_RECV_FRAME, "--frame", "bytes");
		if (v < 0)
			return 2;
		o->frame = (uint32_t)v;
		return 0;
	case 'w': {
		double t = cli_seconds("cat: --timeout", arg, 86400);

		/* Whole seconds: a fraction rounds up, so 0.5 is not "no timeout". */
		o->timeout_s = (int)t + (t > (int)t);
		return t > 0 ? 0 : 2;
	}
	case 'h':
		cat_usage(stdout);
		return -1;
	case 'V':
		cli_version();
		return -1;
	default: /* getopt named the option */
		return cli_see_help("cat");
	}
}

/* Whom to trust is said exactly one way. */
static int check_trust(const struct opts *o)
{
	if (!o->npeers && !o->known_hosts && !(o->any && o->listen)) {
		fprintf(stderr,
			"%s: cat: say whom to trust: --peer IDENTITY or --known-hosts FILE%s\n",
			prog, o->listen ? " (or --any)" : "");
		return 2;
	}
	if (o->npeers && o->known_hosts) {
		fprintf(stderr, "%s: cat: --peer and --known-hosts exclude each other\n", prog);
		return 2;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"key", required_argument, NULL, 'k'},
		{"peer", required_argument, NULL, 'p'},
		{"known-hosts", required_argument, NULL, 'K'},
		{"listen", no_argument, NULL, 'l'},
		{"progress", no_argument, NULL, 'P'},
		{"frame", required_argument, NULL, 'f'},
		{"timeout", required_argument, NULL, 'w'},
		{"verbose", no_argument, NULL, 'v'},
		{"any", no_argument, NULL, 'A'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c, ret;

	o->timeout_s = 10;
	optind = 1;
	while ((c = getopt_long(argc, argv, "k:p:K:lw:vhV", lo, NULL)) != -1) {
		ret = apply_opt(o, c, optarg);
		if (ret)
			return ret;
	}
	if (optind < argc - 1)
		return cli_extra("cat", argv[optind + 1]);
	if (optind == argc || !o->key) {
		fprintf(stderr, "%s: cat: missing %s; see '%s cat --help'\n", prog,
			!o->key ? "our private key: --key FILE" : "HOST:PORT (or -l [ADDR:]PORT)",
			prog);
		return 2;
	}
	o->addr = argv[optind];
	return check_trust(o);
}

/* The TCP connection, made or accepted; name becomes the peer's name for messages. */
static int open_connection(const struct opts *o, char *name, size_t namelen)
{
	int fd, one = 1;

	snprintf(name, namelen, "%s", o->addr);
	fd = o->listen ? tcp_accept(o->addr, name, namelen) : tcp_connect(o->addr, o->timeout_s);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static int open_stream(ss_stream **s, const struct opts *o, ss_identity *id, const char *name,
		       int fd)
{
	ss_stream_config cfg = {0};

	cfg.identity = id;
	cfg.initiator = !o->listen;
	cfg.peers = (const uint8_t(*)[SS_IDENTITY_LEN])o->peers;
	cfg.npeers = o->npeers;
	cfg.known_hosts = o->known_hosts;
	cfg.peer_name = name;
	cfg.accept_any = o->any;
	cfg.max_frame = o->frame;
	cfg.timeout_ms = -1;
	return ss_stream_new_fd(s, &cfg, fd);
}

static void handshake_failed(const struct opts *o, const char *name, int ret)
{
	if (ret == SS_ERR_IDENTITY)
		fprintf(stderr,
			"%s: cat: %s: authentication failed: the peer's identity is not "
			"the "
			"one expected%s (SS_ERR_IDENTITY)\n",
			prog, name,
			o->known_hosts ? " (it changed since it was pinned: possible "
					 "attack; `silosec trust FILE forget NAME` if expected)"
				       : "");
	else if (ret == SS_ERR_TRUNCATED)
		fprintf(stderr,
			"%s: cat: %s: handshake failed: the peer closed the connection "
			"(it does not accept our identity, or is not SiloSec)\n",
			prog, name);
	else if (ret == SS_ERR_MAC1 && o->listen)
		fprintf(stderr,
			"%s: cat: %s: authentication failed: the client expects another "
			"identity than ours (SS_ERR_MAC1)\n",
			prog, name);
	else if (ret == SS_ERR_PEER_SLOW)
		fprintf(stderr, "%s: cat: %s: handshake timed out\n", prog, name);
	else
		fprintf(stderr, "%s: cat: %s: authentication failed: %s (%s)\n", prog, name,
			ss_strerror(ret), ss_err_name(ret));
}

static void announce_peer(const ss_stream *s, const struct opts *o, const char *name)
{
	char b64[SS_B64_KEY_LEN], fp[SS_FINGERPRINT_LEN];

	ss_key_to_base64(ss_stream_peer_identity(s), b64);
	ss_fingerprint(ss_stream_peer_identity(s), fp);
	if (ss_stream_peer_learned(s))
		fprintf(stderr, "%s: cat: %s: new identity %s (%s) pinned in %s\n", prog, name, b64,
			fp, o->known_hosts);
	else if (o->verbose || (o->any && !o->npeers && !o->known_hosts))
		fprintf(stderr, "%s: cat: %s: peer %s (%s)\n", prog, name, b64, fp);
}

int cmd_cat(int argc, char **argv)
{
	struct opts o = {0};
	ss_identity *id = NULL;
	ss_stream *s = NULL;
	char name[300];
	int fd = -1, ret, status = 1;

	ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret < 0 ? 0 : ret;
	ret = ss_keyfile_load(o.key, &id);
	if (ret) {
		cli_key_error("cat", o.key, ret);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	fd = open_connection(&o, name, sizeof(name));
	if (fd < 0)
		goto out;
	ret = open_stream(&s, &o, id, name, fd);
	if (ret) {
		die("creating stream", ret);
		goto out;
	}
	ret = handshake(s, fd, o.timeout_s);
	if (ret) {
		handshake_failed(&o, name, ret);
		goto out;
	}
	announce_peer(s, &o, name);
	status = pump(s, fd, &o);
out:
	ss_stream_free(s);
	if (fd >= 0)
		close(fd);
	ss_identity_free(id);
	return status;
}
