/* SPDX-License-Identifier: MIT */
/*
 * Traffic for bench/knock: pre-built datagrams in a file (u16 big-endian length, bytes),
 * sent paced to a daemon so that the daemon's CPU time per datagram can be measured,
 * and an in-process measurement of the validation pipeline.
 *
 *   bench_knock gen-valid SERVER_ID CLIENT_KEY N OUT [SOURCE]
 *                                                      N knocks for action "bench",
 *                                                      bound to SOURCE (127.0.0.1)
 *   bench_knock gen-junk N LEN OUT [raw]               N random datagrams (knock prefix,
 *                                                      or none with raw)
 *   bench_knock append-raw OUT < line-per-packet        fwknop's base64 packets
 *   bench_knock send FILE HOST PORT PPS                paced (PPS 0 = as fast as possible)
 *   bench_knock inproc SECONDS                         ss_knock_validate, no I/O
 *   bench_knock probe SERVER_ID CLIENT_KEY PORT PPS SECONDS
 *                                                      knocks sealed at send time, from
 *                                                      127.0.0.1 to 127.0.0.1:PORT, paced
 *   bench_knock copies FILE PORT PPS SECONDS [fresh SERVER_ID]
 *                                                      copies of FILE's first datagram to
 *                                                      127.0.0.1:PORT, each from another
 *                                                      spoofed source in 127.1.0.0/16
 *                                                      (raw socket: root); fresh: each
 *                                                      with another ephemeral and its
 *                                                      outer MAC made anew (the key is
 *                                                      public), so no two are alike
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <silosec/error.h>
#include <silosec/identity.h>
#include "knock/knock.h"

#include "common/clock.h"
#include "common/crypto.h"
#include "kconf.h"
#include "validate.h"

static uint64_t wall_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void put(FILE *f, const uint8_t *p, size_t len)
{
	uint8_t l[2] = {(uint8_t)(len >> 8), (uint8_t)len};

	if (fwrite(l, 1, 2, f) != 2 || fwrite(p, 1, len, f) != len) {
		perror("write");
		exit(1);
	}
}

/*
 * Knocks are bound to the address "send" will use: 127.0.0.1 unless given (bench/knock
 * sends over loopback, and binds fwknop's knocks to the same address with -a).
 */
static int gen_valid(const char *sid, const char *keyfile, long n, const char *out,
		     const char *source)
{
	uint8_t server[32], pkt[SS_KNOCK_MAX_LEN], src[16];
	int fam = AF_INET;
	ss_identity *id;
	FILE *f = fopen(out, "wb");
	size_t len;

	if (inet_pton(AF_INET, source, src) != 1) {
		fam = AF_INET6;
		if (inet_pton(AF_INET6, source, src) != 1)
			return 1;
	}
	if (!f || ss_key_from_base64(sid, server) || ss_keyfile_load(keyfile, &id))
		return 1;
	for (long i = 0; i < n; i++) {
		ss_knock_req req = {.action = "bench",
				    .timestamp_ms = wall_ms(),
				    .src_family = fam,
				    .src_addr = src};

		if (ss_knock_seal(pkt, sizeof(pkt), &len, id, server, &req, ss_random_system, NULL))
			return 1;
		put(f, pkt, len);
	}
	ss_identity_free(id);
	return fclose(f) ? 1 : 0;
}

static int gen_junk(long n, long len, const char *out, int raw)
{
	uint8_t pkt[1500];
	FILE *f = fopen(out, "wb");

	if (!f || len < 4 || len > (long)sizeof(pkt))
		return 1;
	for (long i = 0; i < n; i++) {
		if (ss_random_system(NULL, pkt, (size_t)len))
			return 1;
		/* Past the prefix check: junk that costs the knock daemon the most. */
		if (raw && pkt[0] == SS_MSG_KNOCK)
			pkt[0] ^= 0x80;
		if (raw)
			goto out;
		pkt[0] = SS_MSG_KNOCK;
		pkt[1] = SS_VERSION;
		pkt[2] = pkt[3] = 0;
	out:
		put(f, pkt, (size_t)len);
	}
	return fclose(f) ? 1 : 0;
}

static int append_raw(const char *out)
{
	char line[2048];
	FILE *f = fopen(out, "ab");

	if (!f)
		return 1;
	while (fgets(line, sizeof(line), stdin)) {
		size_t l = strcspn(line, "\r\n");

		if (l)
			put(f, (const uint8_t *)line, l);
	}
	return fclose(f) ? 1 : 0;
}

static int send_file(const char *file, const char *host, const char *port, double pps)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai;
	FILE *f = fopen(file, "rb");
	uint8_t l[2], pkt[2048];
	long sent = 0;
	double t0, t;
	int fd;

	if (!f || getaddrinfo(host, port, &hints, &ai))
		return 1;
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	t0 = ss_mono_s();
	while (fread(l, 1, 2, f) == 2) {
		size_t len = (size_t)l[0] << 8 | l[1];

		if (len > sizeof(pkt) || fread(pkt, 1, len, f) != len)
			return 1;
		if (pps > 0)
			while (ss_mono_s() - t0 < (double)sent / pps)
				;
		if (sendto(fd, pkt, len, 0, ai->ai_addr, ai->ai_addrlen) < 0)
			perror("sendto");
		sent++;
	}
	t = ss_mono_s() - t0;
	printf("sent %ld datagrams in %.3f s (%.0f/s)\n", sent, t, (double)sent / t);
	freeaddrinfo(ai);
	close(fd);
	fclose(f);
	return 0;
}

/* Sleep until t0 + secs (monotonic): pacing without burning the core the daemon needs. */
static void sleep_until(double t)
{
	double d = t - ss_mono_s();
	struct timespec ts;

	if (d <= 0)
		return;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

static int loopback_socket(const char *port, struct sockaddr_in *to)
{
	struct sockaddr_in from = {.sin_family = AF_INET};
	int fd;

	memset(to, 0, sizeof(*to));
	to->sin_family = AF_INET;
	to->sin_port = htons((uint16_t)atoi(port));
	to->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	from.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0)
		return -1;
	return fd;
}

/*
 * Valid knocks at a low rate, each sealed when it is sent, with that time in ms as its
 * payload: the action the daemon runs sees it (SILOSEC_KNOCK_PAYLOAD_ASCII), so
 * bench/knock gets each knock's latency.
 */
static int probe(const char *sid, const char *keyfile, const char *port, double pps, double secs)
{
	static const uint8_t src[4] = {127, 0, 0, 1};
	uint8_t server[32], pkt[SS_KNOCK_MAX_LEN];
	struct sockaddr_in to;
	ss_identity *id;
	double t0 = ss_mono_s();
	long sent = 0;
	size_t len;
	int fd = loopback_socket(port, &to);

	if (fd < 0 || ss_key_from_base64(sid, server) || ss_keyfile_load(keyfile, &id))
		return 1;
	while (ss_mono_s() - t0 < secs) {
		char ms[24];
		ss_knock_req req = {.action = "bench",
				    .payload = (const uint8_t *)ms,
				    .timestamp_ms = wall_ms(),
				    .src_family = AF_INET,
				    .src_addr = src};

		req.payload_len = (size_t)snprintf(ms, sizeof(ms), "%llu",
						   (unsigned long long)req.timestamp_ms);

		if (ss_knock_seal(pkt, sizeof(pkt), &len, id, server, &req, ss_random_system, NULL))
			return 1;
		if (sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			perror("sendto");
		sent++;
		sleep_until(t0 + (double)sent / pps);
	}
	printf("%ld\n", sent);
	ss_identity_free(id);
	close(fd);
	return 0;
}

#define COPY_BATCH 64

/* One raw IPv4/UDP datagram: the kernel fills in the IP checksum and length, UDP's is 0. */
static size_t spoofed(uint8_t *out, const uint8_t *pkt, size_t len, uint32_t src, uint16_t port)
{
	struct iphdr *ip = (struct iphdr *)out;
	struct udphdr *udp = (struct udphdr *)(out + sizeof(*ip));

	memset(out, 0, sizeof(*ip) + sizeof(*udp));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = htonl(src);
	ip->daddr = htonl(INADDR_LOOPBACK);
	udp->source = htons(40000);
	udp->dest = htons(port);
	udp->len = htons((uint16_t)(sizeof(*udp) + len));
	memcpy(out + sizeof(*ip) + sizeof(*udp), pkt, len);
	return sizeof(*ip) + sizeof(*udp) + len;
}

static int read_first(const char *file, uint8_t *pkt, size_t cap, size_t *len)
{
	FILE *f = fopen(file, "rb");
	uint8_t l[2];
	int ok;

	if (!f)
		return 1;
	ok = fread(l, 1, 2, f) == 2 && (*len = (size_t)l[0] << 8 | l[1]) <= cap &&
	     fread(pkt, 1, *len, f) == *len;
	fclose(f);
	return ok ? 0 : 1;
}

/* Another ephemeral (its first bytes a counter) under a valid outer MAC. */
static int fresh(uint8_t *pkt, size_t len, uint32_t n, const uint8_t key[SS_HASH_LEN])
{
	uint8_t mac[SS_HASH_LEN];

	memcpy(pkt + SS_KNOCK_OFF_EPHEMERAL, &n, sizeof(n));
	if (ss_hmac_sha256(mac, key, SS_HASH_LEN, pkt, len - SS_MAC_LEN))
		return 1;
	memcpy(pkt + len - SS_MAC_LEN, mac, SS_MAC_LEN);
	return 0;
}

/*
 * The flood of issue 13, finding 4: one sealed knock sent again and again, each copy from
 * another source address (127.1.0.0/16 is loopback: the kernel delivers them), so the
 * per-source limit never sees a source twice in a burst. Paced in batches of a
 * millisecond or so with sendmmsg, to leave the shared cores to the daemon.
 */
static int copies(const char *file, const char *port, double pps, double secs,
		  const uint8_t *mac_key)
{
	static uint8_t raw[COPY_BATCH][SS_KNOCK_MAX_LEN + 28];
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct mmsghdr mm[COPY_BATCH];
	struct iovec iov[COPY_BATCH];
	uint8_t pkt[SS_KNOCK_MAX_LEN];
	double t0 = ss_mono_s();
	long sent = 0;
	uint32_t n = 0;
	size_t len;
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW), batch = (int)(pps / 1000) + 1, r;

	if (fd < 0 || read_first(file, pkt, sizeof(pkt), &len)) {
		perror("copies");
		return 1;
	}
	batch = batch > COPY_BATCH ? COPY_BATCH : batch;
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(mm, 0, sizeof(mm));
	while (ss_mono_s() - t0 < secs) {
		for (int k = 0; k < batch; k++, n++) {
			if (mac_key && fresh(pkt, len, n, mac_key))
				return 1;
			iov[k].iov_base = raw[k];
			iov[k].iov_len = spoofed(raw[k], pkt, len, 0x7f010000u | (n & 0xffff),
						 (uint16_t)atoi(port));
			mm[k].msg_hdr.msg_iov = &iov[k];
			mm[k].msg_hdr.msg_iovlen = 1;
			mm[k].msg_hdr.msg_name = &to;
			mm[k].msg_hdr.msg_namelen = sizeof(to);
		}
		r = sendmmsg(fd, mm, (unsigned)batch, 0);
		sent += r > 0 ? r : 0;
		sleep_until(t0 + (double)sent / pps);
	}
	printf("%ld copies in %.1f s\n", sent, ss_mono_s() - t0);
	close(fd);
	return 0;
}

#define INPROC_N 20000

static const uint8_t INPROC_SRC[4] = {10, 0, 0, 1};

/* A server and a client identity, and a config allowing the client's "bench" action. */
static int inproc_config(ss_identity **server, ss_identity **client, ss_kconf **c)
{
	char text[512], err[SS_KCONF_ERR_LEN], b64[SS_B64_KEY_LEN];
	uint8_t seed[32] = {1}, seed2[32] = {2};

	if (ss_identity_from_seed(server, seed) || ss_identity_from_seed(client, seed2))
		return 1;
	ss_key_to_base64(ss_identity_public(*client), b64);
	snprintf(text, sizeof(text),
		 "[Server]\nPrivateKeyFile = k\nRateLimit = 1000000\nBurst = 1000000\n"
		 "ReplayCapacity = 65536\nWindow = 3600\n[Client c]\nIdentity = %s\nActions = "
		 "bench\n"
		 "[Action bench]\nType = command\nCommand = /bin/true\n",
		 b64);
	return ss_kconf_parse(text, strlen(text), "bench", c, err, sizeof(err)) ? 1 : 0;
}

/* A validator whose rate limit is effectively off (1 ns per token), to time the later stages. */
static int inproc_validator(ss_knock_validator *v, ss_kconf *c, const ss_identity *server)
{
	if (ss_knock_validator_init(v, c, server, 1, wall_ms(), 0))
		return 1;
	v->rl = NULL;
	ss_knock_validator_free(v);
	c->rate = 1000000000;
	c->burst = 1000000000;
	if (ss_knock_validator_init(v, c, server, 1, wall_ms(), 0))
		return 1;
	/* And the global public-key budget, which would hold a loop at 1000 knocks a second. */
	return ss_rl_rate_init(&v->pk_rate, 1000000000, 1000000000) ? 1 : 0;
}

static int seal_valid(uint8_t (*pkts)[SS_KNOCK_MAX_LEN], size_t *lens, const ss_identity *client,
		      const ss_identity *server)
{
	for (long i = 0; i < INPROC_N; i++) {
		ss_knock_req req = {.action = "bench",
				    .timestamp_ms = wall_ms(),
				    .src_family = AF_INET,
				    .src_addr = INPROC_SRC};

		if (ss_knock_seal(pkts[i], SS_KNOCK_MAX_LEN, &lens[i], client,
				  ss_identity_public(server), &req, ss_random_system, NULL))
			return 1;
	}
	return 0;
}

/* Valid knocks per second through the full pipeline, or -1 if one is refused. */
static double valid_rate(ss_knock_validator *v, uint8_t (*pkts)[SS_KNOCK_MAX_LEN],
			 const size_t *lens, double secs)
{
	ss_knock_verdict out;
	double t0 = ss_mono_s();
	long done;

	for (done = 0; done < INPROC_N && ss_mono_s() - t0 < secs; done++)
		if (ss_knock_validate(v, pkts[done], lens[done], AF_INET, INPROC_SRC, 0, wall_ms(),
				      &out))
			return -1;
	return (double)done / (ss_mono_s() - t0);
}

/* Junk datagrams dropped per second, or -1 if one is accepted. */
static double junk_rate(ss_knock_validator *v, const uint8_t *junk, size_t len, double secs)
{
	ss_knock_verdict out;
	double t0 = ss_mono_s();
	long done;

	for (done = 0; ss_mono_s() - t0 < secs; done += 1000)
		for (long i = 0; i < 1000; i++)
			if (ss_knock_validate(v, junk, len, AF_INET, INPROC_SRC, 0, 0, &out) == 0)
				return -1;
	return (double)done / (ss_mono_s() - t0);
}

/* The pipeline alone: what one core can validate, without sockets or a replay file. */
static int inproc(double secs)
{
	uint8_t(*pkts)[SS_KNOCK_MAX_LEN] = malloc((size_t)INPROC_N * sizeof(*pkts)), junk[300];
	size_t *lens = malloc((size_t)INPROC_N * sizeof(*lens));
	ss_identity *server, *client;
	ss_knock_validator v;
	ss_kconf *c;
	double rate;

	if (inproc_config(&server, &client, &c) || inproc_validator(&v, c, server) ||
	    seal_valid(pkts, lens, client, server))
		return 1;
	rate = valid_rate(&v, pkts, lens, secs);
	if (rate < 0)
		return 1;
	printf("inproc valid: %.0f knocks/s (full pipeline, no replay file)\n", rate);
	ss_random_system(NULL, junk, sizeof(junk));
	junk[0] = SS_MSG_KNOCK;
	junk[1] = SS_VERSION;
	junk[2] = junk[3] = 0;
	rate = junk_rate(&v, junk, sizeof(junk), secs / 2);
	if (rate < 0)
		return 1;
	printf("inproc junk, MAC check (rate limit off): %.0f/s\n", rate);
	ss_knock_validator_free(&v);
	c->rate = 2;
	c->burst = 5;
	if (ss_knock_validator_init(&v, c, server, 1, wall_ms(), 0))
		return 1;
	rate = junk_rate(&v, junk, sizeof(junk), secs / 2);
	if (rate < 0)
		return 1;
	printf("inproc junk, one source over its rate limit: %.0f/s\n", rate);
	ss_knock_validator_free(&v);
	ss_kconf_free(c);
	free(pkts);
	free(lens);
	ss_identity_free(server);
	ss_identity_free(client);
	return 0;
}

int main(int argc, char **argv)
{
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "gen-valid"))
		return gen_valid(argv[2], argv[3], atol(argv[4]), argv[5],
				 argc == 7 ? argv[6] : "127.0.0.1");
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "gen-junk"))
		return gen_junk(atol(argv[2]), atol(argv[3]), argv[4],
				argc == 6 && !strcmp(argv[5], "raw"));
	if (argc == 3 && !strcmp(argv[1], "append-raw"))
		return append_raw(argv[2]);
	if (argc == 6 && !strcmp(argv[1], "send"))
		return send_file(argv[2], argv[3], argv[4], atof(argv[5]));
	if (argc == 7 && !strcmp(argv[1], "probe"))
		return probe(argv[2], argv[3], argv[4], atof(argv[5]), atof(argv[6]));
	if (argc == 6 && !strcmp(argv[1], "copies"))
		return copies(argv[2], argv[3], atof(argv[4]), atof(argv[5]), NULL);
	if (argc == 8 && !strcmp(argv[1], "copies") && !strcmp(argv[6], "fresh")) {
		uint8_t server[32], key[SS_HASH_LEN];

		if (ss_key_from_base64(argv[7], server) || ss_knock_mac_key(key, server))
			return 1;
		return copies(argv[2], argv[3], atof(argv[4]), atof(argv[5]), key);
	}
	if (argc == 3 && !strcmp(argv[1], "inproc"))
		return inproc(atof(argv[2]));
	fprintf(stderr, "usage: see bench/knock.c\n");
	return 2;
}
