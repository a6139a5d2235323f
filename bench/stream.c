/* SPDX-License-Identifier: MIT */
/*
 * Secure streams against raw TCP and TLS 1.3 (OpenSSL libssl, TLS_AES_256_GCM_SHA384,
 * X25519, Ed25519 certificate verified by the client), all on loopback in one run:
 * bulk throughput one way, and handshake latency (connect until the client may send).
 * Receiver and sender are two threads of this process, as two processes would be.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/clock.h"
#include "stream/stream.h"

#define CHUNK (256 * 1024)

enum kind { RAW, TLS, SILO };
static const char *kind_name[] = {"raw TCP", "TLS 1.3 AES-256-GCM", "SiloSec stream"};

static struct {
	uint64_t bytes;
	int rounds, handshakes;
	uint32_t frame;
} opt = {1ull << 30, 3, 300, 0};

static ss_identity *id_srv, *id_cli;
static SSL_CTX *tls_srv, *tls_cli;

static void die(const char *what)
{
	fprintf(stderr, "bench_stream: %s: %s\n", what, strerror(errno));
	ERR_print_errors_fp(stderr);
	exit(1);
}

static int listener(uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 128) ||
	    getsockname(fd, (struct sockaddr *)&a, &l))
		die("listen");
	*port = ntohs(a.sin_port);
	return fd;
}

static int dial(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static ss_stream *silo(int fd, bool initiator)
{
	ss_stream_config c = {0};
	ss_stream *s;

	c.identity = initiator ? id_cli : id_srv;
	c.initiator = initiator;
	c.peers =
		(const uint8_t(*)[SS_IDENTITY_LEN])ss_identity_public(initiator ? id_srv : id_cli);
	c.npeers = 1;
	c.timeout_ms = -1;
	c.max_frame = opt.frame;
	if (ss_stream_new_fd(&s, &c, fd))
		die("ss_stream_new_fd");
	return s;
}

/* ---- the server thread: accepts, handshakes, and for throughput reads everything ---- */

struct srv {
	int lfd;
	enum kind kind;
	bool bulk;
	int count;
	double done_at;
	uint64_t got;
};

/* The TLS or SiloSec handshake on a connected socket (nothing for raw TCP). */
static void secure(enum kind k, int fd, bool initiator, ss_stream **s, SSL **ssl)
{
	if (k == TLS) {
		*ssl = SSL_new(initiator ? tls_cli : tls_srv);
		SSL_set_fd(*ssl, fd);
		if (initiator)
			SSL_set_tlsext_host_name(*ssl, "bench");
		if ((initiator ? SSL_connect(*ssl) : SSL_accept(*ssl)) != 1)
			die(initiator ? "SSL_connect" : "SSL_accept");
	} else if (k == SILO) {
		*s = silo(fd, initiator);
		if (ss_stream_handshake(*s))
			die(initiator ? "stream handshake" : "stream handshake (server)");
	}
}

static void release(ss_stream *s, SSL *ssl, int fd)
{
	ss_stream_free(s);
	if (ssl)
		SSL_free(ssl);
	close(fd);
}

static void *server(void *arg)
{
	struct srv *sv = arg;
	uint8_t *buf = malloc(SS_STREAM_DEFAULT_RECV_FRAME);

	for (int i = 0; i < sv->count; i++) {
		int fd = accept(sv->lfd, NULL, NULL), one = 1;
		ss_stream *s = NULL;
		SSL *ssl = NULL;
		uint64_t got = 0;

		if (fd < 0)
			die("accept");
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		secure(sv->kind, fd, false, &s, &ssl);
		while (sv->bulk) {
			size_t n = 0;
			int r;

			if (sv->kind == RAW) {
				ssize_t k = read(fd, buf, SS_STREAM_DEFAULT_RECV_FRAME);

				n = k > 0 ? (size_t)k : 0;
			} else if (sv->kind == TLS) {
				r = SSL_read(ssl, buf, SS_STREAM_DEFAULT_RECV_FRAME);
				n = r > 0 ? (size_t)r : 0;
			} else {
				ss_stream_info info;

				r = ss_stream_recv(s, buf, SS_STREAM_DEFAULT_RECV_FRAME, &n, &info,
						   0);
				if (r)
					die("stream recv");
				if (info.eof)
					n = 0;
			}
			if (!n)
				break;
			got += n;
		}
		sv->done_at = ss_mono_s();
		sv->got = got;
		/* Wait for the client's end so that close never races the handshake's tail. */
		if (!sv->bulk && read(fd, buf, 1) < 0)
			die("read");
		release(s, ssl, fd);
	}
	free(buf);
	return NULL;
}

/* ---- throughput: best of rounds, seconds for opt.bytes ---- */

static double throughput(enum kind k)
{
	uint8_t *buf = malloc(CHUNK);
	double best = 1e9;

	memset(buf, 0x5a, CHUNK);
	for (int r = 0; r < opt.rounds; r++) {
		struct srv sv = {.kind = k, .bulk = true, .count = 1};
		uint16_t port;
		pthread_t th;
		ss_stream *s = NULL;
		SSL *ssl = NULL;
		double t0;
		int fd;

		sv.lfd = listener(&port);
		pthread_create(&th, NULL, server, &sv);
		fd = dial(port);
		secure(k, fd, true, &s, &ssl);
		t0 = ss_mono_s();
		for (uint64_t sent = 0; sent < opt.bytes; sent += CHUNK) {
			if (k == RAW) {
				for (size_t off = 0; off < CHUNK;) {
					ssize_t n = write(fd, buf + off, CHUNK - off);

					if (n <= 0)
						die("write");
					off += (size_t)n;
				}
			} else if (k == TLS) {
				if (SSL_write(ssl, buf, CHUNK) != CHUNK)
					die("SSL_write");
			} else if (ss_stream_send(s, 0, buf, CHUNK, NULL)) {
				die("stream send");
			}
		}
		if (k == TLS)
			SSL_shutdown(ssl);
		else if (k == SILO && ss_stream_close(s))
			die("stream close");
		shutdown(fd, SHUT_WR);
		pthread_join(th, NULL);
		if (sv.got != opt.bytes) {
			fprintf(stderr, "bench_stream: %s: received %llu of %llu bytes\n",
				kind_name[k], (unsigned long long)sv.got,
				(unsigned long long)opt.bytes);
			exit(1);
		}
		if (sv.done_at - t0 < best)
			best = sv.done_at - t0;
		release(s, ssl, fd);
		close(sv.lfd);
	}
	free(buf);
	return best;
}

/* ---- handshake latency: connect() until the client can send, median in us ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double handshake(enum kind k, double *p90)
{
	struct srv sv = {.kind = k, .bulk = false, .count = opt.handshakes};
	double *t = calloc((size_t)opt.handshakes, sizeof(double)), med;
	uint16_t port;
	pthread_t th;

	sv.lfd = listener(&port);
	pthread_create(&th, NULL, server, &sv);
	for (int i = 0; i < opt.handshakes; i++) {
		double t0 = ss_mono_s();
		int fd = dial(port);
		ss_stream *s = NULL;
		SSL *ssl = NULL;

		secure(k, fd, true, &s, &ssl);
		t[i] = (ss_mono_s() - t0) * 1e6;
		release(s, ssl, fd);
	}
	pthread_join(th, NULL);
	close(sv.lfd);
	qsort(t, (size_t)opt.handshakes, sizeof(double), cmp_double);
	med = t[opt.handshakes / 2];
	*p90 = t[opt.handshakes * 9 / 10];
	free(t);
	return med;
}

/* TLS 1.3 only, AES-256-GCM only, X25519, a fresh Ed25519 certificate the client pins. */
static void tls_setup(void)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	X509 *x = X509_new();
	X509_NAME *n;

	if (!pk || !x)
		die("keygen");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pk);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"bench", -1, -1,
				   0);
	X509_set_issuer_name(x, n);
	if (!X509_sign(x, pk, NULL))
		die("X509_sign");
	tls_srv = SSL_CTX_new(TLS_server_method());
	tls_cli = SSL_CTX_new(TLS_client_method());
	for (int i = 0; i < 2; i++) {
		SSL_CTX *c = i ? tls_cli : tls_srv;

		SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
		SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION);
		SSL_CTX_set_ciphersuites(c, "TLS_AES_256_GCM_SHA384");
		SSL_CTX_set1_groups_list(c, "X25519");
		/* Full handshakes only: no tickets, no resumption. */
		SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
	}
	SSL_CTX_set_num_tickets(tls_srv, 0);
	if (SSL_CTX_use_certificate(tls_srv, x) != 1 || SSL_CTX_use_PrivateKey(tls_srv, pk) != 1)
		die("server certificate");
	X509_STORE_add_cert(SSL_CTX_get_cert_store(tls_cli), x);
	SSL_CTX_set_verify(tls_cli, SSL_VERIFY_PEER, NULL);
	X509_free(x);
	EVP_PKEY_free(pk);
}

int main(int argc, char **argv)
{
	double t[3], hs[3], p90[3];
	uint8_t seed[32];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			opt.bytes = 64ull << 20;
			opt.rounds = 1;
			opt.handshakes = 40;
		} else if (!strcmp(argv[i], "--bytes") && i + 1 < argc) {
			opt.bytes = strtoull(argv[++i], NULL, 10) / CHUNK * CHUNK;
		} else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
			opt.rounds = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--handshakes") && i + 1 < argc) {
			opt.handshakes = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--frame") && i + 1 < argc) {
			opt.frame = (uint32_t)atoi(argv[++i]);
		} else {
			printf("usage: bench_stream [--quick] [--bytes N] [--rounds N] "
			       "[--handshakes N] [--frame BYTES]\n");
			return !strcmp(argv[i], "--help") ? 0 : 2;
		}
	}
	if (opt.bytes < CHUNK || opt.rounds < 1 || opt.handshakes < 2)
		return 2;
	memset(seed, 1, sizeof(seed));
	if (ss_identity_from_seed(&id_srv, seed))
		return 1;
	memset(seed, 2, sizeof(seed));
	if (ss_identity_from_seed(&id_cli, seed))
		return 1;
	tls_setup();
	for (int k = 0; k < 3; k++) {
		fprintf(stderr, "%s...\n", kind_name[k]);
		t[k] = throughput((enum kind)k);
		hs[k] = handshake((enum kind)k, &p90[k]);
	}
	printf("SiloSec stream benchmark: %s; loopback TCP, one process, two threads\n",
	       OpenSSL_version(OPENSSL_VERSION));
	printf("Throughput: %llu MiB one way, %d KiB writes, best of %d; SiloSec frames of %u "
	       "bytes, TLS records of 16 KiB\n",
	       (unsigned long long)(opt.bytes >> 20), CHUNK / 1024, opt.rounds,
	       opt.frame ? opt.frame : SS_STREAM_DEFAULT_FRAME);
	for (int k = 0; k < 3; k++)
		printf("  %-22s %9.1f MiB/s\n", kind_name[k], (double)opt.bytes / t[k] / 1048576);
	printf("Handshake: connect() until the client may send, %d sequential, median (p90)\n",
	       opt.handshakes);
	printf("  %-22s %9.1f us (%.1f)   TCP connect only\n", kind_name[0], hs[0], p90[0]);
	printf("  %-22s %9.1f us (%.1f)   server authenticated (Ed25519 certificate)\n",
	       kind_name[1], hs[1], p90[1]);
	printf("  %-22s %9.1f us (%.1f)   both authenticated (Ed25519 identities)\n", kind_name[2],
	       hs[2], p90[2]);
	printf("ratio throughput stream/TLS %.2fx (target >= 1.0), stream/raw %.2fx\n", t[1] / t[2],
	       t[0] / t[2]);
	printf("ratio handshake latency TLS/stream %.2fx (> 1: the stream is faster)\n",
	       hs[1] / hs[2]);
	SSL_CTX_free(tls_srv);
	SSL_CTX_free(tls_cli);
	ss_identity_free(id_srv);
	ss_identity_free(id_cli);
	return 0;
}
