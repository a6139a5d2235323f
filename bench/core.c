/* SPDX-License-Identifier: MIT */
/*
 * bench_core: how close the SiloSec core gets to the cost of the cryptography it uses.
 *
 * In one run, with CLOCK_MONOTONIC, best of N rounds (each item runs once per round, so
 * a noisy moment spoils one round of everything rather than every round of one thing).
 * Within a round every item is timed in short slices and the round reports their
 * median, which discards the slices the scheduler gave to someone else. Measured:
 *
 *   1. the full handshake per role through the public API (two in-process nodes on a
 *      fake clock that advances 1 s per handshake, cookies forced off on the
 *      responder);
 *   2. the limit: every primitive operation each role performs, called through the
 *      raw OpenSSL EVP API with algorithms fetched once and contexts reused, run as
 *      one sequence per role interleaved with the handshakes (and, for the breakdown,
 *      each timed alone);
 *   3. the data path: ss_peer_seal / ss_ctx_consume against a pre-keyed
 *      EVP_CIPHER_CTX doing AES-256-GCM on the same sizes and packet layout.
 *
 * It reports; it does not assert timing. Exit status 1 means something failed.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/opensslv.h>
#include <openssl/params.h>

#include <silosec/core.h>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/endian.h"
#include "internal.h"
#include "node.h"

/* ------------------------------------------------------------------ utilities */

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "bench_core: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ERR_print_errors_fp(stderr);
	exit(1);
}

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			die(__VA_ARGS__);                                                          \
	} while (0)

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	CHECK(p, "out of memory (%zu bytes)", n);
	return p;
}

/* Defeats dead-code elimination of results we do not otherwise use. */
static volatile uint8_t sink;

/* ------------------------------------------------------------------ settings */

static unsigned n_rounds = 5;
static uint64_t round_ns = 300 * 1000 * 1000;
static int detail;
static int verbose;
/* --only: run one group (for profiling); the others report nothing. */
static const char *only;

static int want(const char *group)
{
	return !only || !strcmp(only, group);
}

static double best(const double *v, unsigned n)
{
	double b = v[0];

	for (unsigned i = 1; i < n; i++)
		if (v[i] < b)
			b = v[i];
	return b;
}

/*
 * Samples of one quantity within a round: each a short slice (tens of microseconds)
 * timed alone. A round reports their median, so the few slices during which the
 * scheduler ran something else (milliseconds each) do not count; the run reports the
 * best round.
 */
typedef struct samples {
	double *v;
	size_t n, cap;
} samples;

static void sample_add(samples *s, double x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 4096;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		CHECK(s->v, "out of memory");
	}
	s->v[s->n++] = x;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of the samples; empties the set for the next round. */
static double sample_median(samples *s)
{
	double m;

	CHECK(s->n > 0, "no samples");
	qsort(s->v, s->n, sizeof(*s->v), cmp_double);
	m = s->n % 2 ? s->v[s->n / 2] : (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
	s->n = 0;
	return m;
}

static samples S_a, S_b, S_c, S_d;

#define SLICE_NS 20000u /* target length of one timed slice */

typedef void (*op_fn)(void *arg);

/* One round of a simple op: slices of enough calls to last SLICE_NS; ns per op. */
static double run_round(op_fn fn, void *arg)
{
	uint64_t start = ss_mono_ns(), t0, dt;
	unsigned batch = 1;

	/* Calibrate (not sampled). */
	for (;;) {
		t0 = ss_mono_ns();
		for (unsigned i = 0; i < batch; i++)
			fn(arg);
		dt = ss_mono_ns() - t0;
		if (dt >= SLICE_NS || batch >= 65536)
			break;
		batch *= 2;
	}
	do {
		t0 = ss_mono_ns();
		for (unsigned i = 0; i < batch; i++)
			fn(arg);
		dt = ss_mono_ns() - t0;
		sample_add(&S_a, (double)dt / batch);
	} while (t0 + dt - start < round_ns);
	return sample_median(&S_a);
}

/* ------------------------------------------------------------------ two nodes */

typedef sc_node node;

static void node_init(node *n, uint64_t seed)
{
	CHECK(sc_node_init(n, seed, 4) == 0, "node init");
}

/* A initiates, B responds. */
static node A, B;

static void pair_init(void)
{
	node_init(&A, 0x616c696365);
	node_init(&B, 0x626f62);
	CHECK(ss_peer_add(A.ctx, ss_identity_public(B.id), &A.peer) == 0, "ss_peer_add");
	CHECK(ss_peer_add(B.ctx, ss_identity_public(A.id), &B.peer) == 0, "ss_peer_add");
	sc_flow_v4(&A.flow, 0x0a000001, 5000, 0x0a000002, 6000);
	sc_flow_v4(&B.flow, 0x0a000002, 6000, 0x0a000001, 5000);
	ss_peer_set_flow(A.peer, &A.flow);
	ss_peer_set_flow(B.peer, &B.flow);
	/* Many INITs per second from one peer would otherwise trip the token bucket. */
	ss_ctx_set_under_load(B.ctx, false);
}

static void pair_free(void)
{
	ss_ctx_free(A.ctx);
	ss_ctx_free(B.ctx);
	ss_identity_free(A.id);
	ss_identity_free(B.id);
}

static void advance(uint64_t ns)
{
	A.now.mono_ns += ns;
	A.now.wall_ns += ns;
	B.now.mono_ns += ns;
	B.now.wall_ns += ns;
}

static uint8_t pkt_init[SS_MAX_PACKET], pkt_resp[SS_MAX_PACKET], pkt_ka[SS_MAX_PACKET],
	pkt_out[SS_MAX_PACKET];

/*
 * One full handshake; adds each role's time. The clock moves by more than
 * SS_HANDSHAKE_MIN_INTERVAL first, so the responder neither rate-limits the INIT nor
 * sees a stale timestamp.
 */
static void handshake(uint64_t *t_ini, uint64_t *t_resp)
{
	uint64_t t0, t1, t2, t3, t4;
	size_t init_len, resp_len, ka_len;
	enum ss_tick_kind kind;
	ss_result res;
	ss_flow f;
	int r1, r2, r3, r4;

	advance(SS_NS_PER_SEC);
	t0 = ss_mono_ns();
	ss_peer_want_handshake(A.peer);
	r1 = ss_peer_tick(A.ctx, A.peer, pkt_init, sizeof(pkt_init), &init_len, &f, &kind);
	t1 = ss_mono_ns();
	CHECK(r1 == 0 && kind == SS_TICK_HANDSHAKE && init_len == SS_INIT_LEN,
	      "initiator tick: %s, kind %d", ss_err_name(r1), (int)kind);
	r2 = ss_ctx_consume(B.ctx, &B.flow, pkt_init, init_len, pkt_resp, sizeof(pkt_resp), &res);
	t2 = ss_mono_ns();
	CHECK(r2 == 0 && res.kind == SS_RESULT_REPLY && res.len == SS_RESP_LEN,
	      "responder consume INIT: %s", ss_err_name(r2));
	resp_len = res.len;
	r3 = ss_ctx_consume(A.ctx, &A.flow, pkt_resp, resp_len, pkt_ka, sizeof(pkt_ka), &res);
	t3 = ss_mono_ns();
	CHECK(r3 == 0 && res.kind == SS_RESULT_REPLY && (res.flags & SS_RESULT_F_HANDSHAKE),
	      "initiator consume RESPONSE: %s", ss_err_name(r3));
	ka_len = res.len;
	r4 = ss_ctx_consume(B.ctx, &B.flow, pkt_ka, ka_len, pkt_out, sizeof(pkt_out), &res);
	t4 = ss_mono_ns();
	CHECK(r4 == 0 && (res.flags & SS_RESULT_F_HANDSHAKE) && (res.flags & SS_RESULT_F_KEEPALIVE),
	      "responder consume keepalive: %s", ss_err_name(r4));
	*t_ini += (t1 - t0) + (t3 - t2);
	*t_resp += (t2 - t1) + (t4 - t3);
}

/* ------------------------------------------------------------------ bare primitives */

/* Message sizes exactly as the protocol has them. */
#define INIT_SIG_MSG_LEN (sizeof(SS_LABEL_SIG_INIT) - 1 + SS_IDENTITY_LEN + SS_INIT_OFF_SIG)
#define RESP_SIG_MSG_LEN (sizeof(SS_LABEL_SIG_RESP) - 1 + SS_HASH_LEN + SS_RESP_OFF_SIG)
#define TRANSCRIPT_LEN (sizeof(SS_LABEL_TRANSCRIPT) - 1 + SS_INIT_OFF_MAC1 + SS_RESP_OFF_CONFIRM)

static const char label_i2r[] = SS_LABEL_KEY_I2R, label_r2i[] = SS_LABEL_KEY_R2I,
		  label_confirm[] = SS_LABEL_KEY_CONFIRM;

static struct bare {
	uint64_t rng;
	EVP_MD *sha256;
	EVP_MD_CTX *md;
	EVP_MAC *hmac;
	EVP_MAC_CTX *mac;
	EVP_KDF *hkdf;
	EVP_KDF_CTX *kdf;
	EVP_CIPHER *gcm;
	EVP_CIPHER_CTX *confirm_enc, *confirm_dec; /* re-keyed per handshake */
	EVP_CIPHER_CTX *sess_tx, *sess_rx;	   /* re-keyed per handshake */
	EVP_CIPHER_CTX *ka_enc, *ka_dec;	   /* pre-keyed */
	EVP_MD_CTX *sig;
	EVP_PKEY *ed_self; /* our identity, kept for the process lifetime */
	EVP_PKEY *ed_peer; /* the peer's public identity, cached */
	EVP_PKEY *x_eph;   /* our ephemeral, kept from keygen to derive */
	uint8_t ed_peer_pub[SS_IDENTITY_LEN];
	uint8_t x_peer_pub[SS_DH_LEN];
	uint8_t x_eph_priv[SS_DH_LEN];
	uint8_t msg_init[INIT_SIG_MSG_LEN], sig_init[SS_SIG_LEN];
	uint8_t msg_resp[RESP_SIG_MSG_LEN], sig_resp[SS_SIG_LEN];
	uint8_t init_pkt[SS_INIT_LEN], resp_pkt[SS_RESP_LEN];
	uint8_t transcript[TRANSCRIPT_LEN];
	uint8_t key[SS_KEY_LEN], key2[SS_KEY_LEN], dh[SS_DH_LEN];
	uint8_t confirm_tag[SS_TAG_LEN]; /* valid tag over resp[0..140) under key */
	uint8_t ka_pkt[SS_DATA_OVERHEAD];
} P;

static const uint8_t zero_nonce[SS_NONCE_LEN];

/* A signed handshake message, as the sign and verify measurements take it. */
struct signed_msg {
	const uint8_t *msg;
	size_t len;
	const uint8_t *sig;
};

static struct signed_msg signed_init = {P.msg_init, sizeof(P.msg_init), P.sig_init},
			 signed_resp = {P.msg_resp, sizeof(P.msg_resp), P.sig_resp};

static EVP_PKEY *ed25519_private(uint64_t *rng)
{
	uint8_t seed[SS_SEED_LEN];
	EVP_PKEY *k;

	sc_fill(rng, seed, sizeof(seed));
	k = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, seed, sizeof(seed));
	CHECK(k, "ED25519 key");
	return k;
}

static void ed_sign(uint8_t sig[SS_SIG_LEN], EVP_PKEY *k, const uint8_t *msg, size_t len)
{
	size_t siglen = SS_SIG_LEN;

	CHECK(EVP_DigestSignInit_ex(P.sig, NULL, NULL, NULL, NULL, k, NULL) == 1 &&
		      EVP_DigestSign(P.sig, sig, &siglen, msg, len) == 1 && siglen == SS_SIG_LEN,
	      "Ed25519 sign");
}

static void ed_verify(EVP_PKEY *k, const uint8_t *msg, size_t len, const uint8_t sig[SS_SIG_LEN])
{
	CHECK(EVP_DigestVerifyInit_ex(P.sig, NULL, NULL, NULL, NULL, k, NULL) == 1 &&
		      EVP_DigestVerify(P.sig, sig, SS_SIG_LEN, msg, len) == 1,
	      "Ed25519 verify");
}

static void x25519_keygen(EVP_PKEY **out, uint8_t pub[SS_DH_LEN])
{
	size_t len = SS_DH_LEN;

	sc_fill(&P.rng, P.x_eph_priv, sizeof(P.x_eph_priv));
	*out = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, P.x_eph_priv, SS_DH_LEN);
	CHECK(*out && EVP_PKEY_get_raw_public_key(*out, pub, &len) == 1 && len == SS_DH_LEN,
	      "X25519 keygen");
}

static void x25519_derive(uint8_t shared[SS_DH_LEN], EVP_PKEY *priv, const uint8_t peer[SS_DH_LEN])
{
	static const uint8_t zero[SS_DH_LEN];
	EVP_PKEY *p = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer, SS_DH_LEN);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
	size_t len = SS_DH_LEN;

	CHECK(p && c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, p) == 1 &&
		      EVP_PKEY_derive(c, shared, &len) == 1 && len == SS_DH_LEN,
	      "X25519 derive");
	CHECK(CRYPTO_memcmp(shared, zero, SS_DH_LEN) != 0, "X25519 low-order result");
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(p);
}

static void sha256(uint8_t out[SS_HASH_LEN], const uint8_t *msg, size_t len)
{
	unsigned n = SS_HASH_LEN;

	CHECK(EVP_DigestInit_ex2(P.md, P.sha256, NULL) == 1 &&
		      EVP_DigestUpdate(P.md, msg, len) == 1 &&
		      EVP_DigestFinal_ex(P.md, out, &n) == 1,
	      "SHA-256");
}

static void hmac(uint8_t out[SS_HASH_LEN], const uint8_t key[SS_HASH_LEN], const uint8_t *msg,
		 size_t len)
{
	size_t n = 0;

	CHECK(EVP_MAC_init(P.mac, key, SS_HASH_LEN, NULL) == 1 &&
		      EVP_MAC_update(P.mac, msg, len) == 1 &&
		      EVP_MAC_final(P.mac, out, &n, SS_HASH_LEN) == 1 && n == SS_HASH_LEN,
	      "HMAC-SHA256");
}

static void hkdf_step(uint8_t out[SS_HASH_LEN], int mode, const uint8_t *salt_or_info, size_t sl,
		      const uint8_t key[SS_HASH_LEN])
{
	OSSL_PARAM p[4];

	p[0] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, SS_HASH_LEN);
	p[2] = OSSL_PARAM_construct_octet_string(
		mode == EVP_KDF_HKDF_MODE_EXTRACT_ONLY ? OSSL_KDF_PARAM_SALT : OSSL_KDF_PARAM_INFO,
		(void *)salt_or_info, sl);
	p[3] = OSSL_PARAM_construct_end();
	CHECK(EVP_KDF_derive(P.kdf, out, SS_HASH_LEN, p) == 1, "HKDF");
}

/* Session keys: one encrypting and one decrypting context, re-keyed (no reallocation). */
static void session_setkeys(EVP_CIPHER_CTX *tx, EVP_CIPHER_CTX *rx, const uint8_t *k1,
			    const uint8_t *k2)
{
	CHECK(EVP_EncryptInit_ex(tx, NULL, NULL, k1, NULL) == 1 &&
		      EVP_DecryptInit_ex(rx, NULL, NULL, k2, NULL) == 1,
	      "AES-256-GCM key setup");
}

/* key NULL: the context is already keyed; only the nonce is set. */
static void gcm_seal(EVP_CIPHER_CTX *c, const uint8_t *key, const uint8_t nonce[SS_NONCE_LEN],
		     const uint8_t *aad, size_t aadlen, const uint8_t *pt, size_t len, uint8_t *out)
{
	int n;

	CHECK(EVP_EncryptInit_ex(c, NULL, NULL, key, nonce) == 1 &&
		      (!aadlen || EVP_EncryptUpdate(c, NULL, &n, aad, (int)aadlen) == 1) &&
		      (!len || EVP_EncryptUpdate(c, out, &n, pt, (int)len) == 1) &&
		      EVP_EncryptFinal_ex(c, out + len, &n) == 1 &&
		      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SS_TAG_LEN, out + len) == 1,
	      "AES-256-GCM seal");
}

static int gcm_open(EVP_CIPHER_CTX *c, const uint8_t *key, const uint8_t nonce[SS_NONCE_LEN],
		    const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len, uint8_t *out)
{
	int n;

	if (EVP_DecryptInit_ex(c, NULL, NULL, key, nonce) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SS_TAG_LEN, (void *)(in + len)) != 1 ||
	    (aadlen && EVP_DecryptUpdate(c, NULL, &n, aad, (int)aadlen) != 1) ||
	    (len && EVP_DecryptUpdate(c, out, &n, in, (int)len) != 1))
		die("AES-256-GCM open");
	return EVP_DecryptFinal_ex(c, out + len, &n) == 1;
}

static EVP_CIPHER_CTX *gcm_ctx(int enc, const uint8_t key[SS_KEY_LEN])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	CHECK(c && EVP_CipherInit_ex(c, P.gcm, NULL, key, NULL, enc) == 1, "AES-256-GCM context");
	return c;
}

static void bare_init(void)
{
	OSSL_PARAM p[2];
	size_t len = SS_IDENTITY_LEN;
	EVP_PKEY *peer_priv, *x_peer;
	uint8_t tmp[SS_HASH_LEN];

	P.rng = 0x7072696d;
	CHECK((P.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) && (P.md = EVP_MD_CTX_new()),
	      "SHA256 fetch");
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
	p[1] = OSSL_PARAM_construct_end();
	CHECK((P.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) && (P.mac = EVP_MAC_CTX_new(P.hmac)) &&
		      EVP_MAC_CTX_set_params(P.mac, p) == 1,
	      "HMAC fetch");
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
	CHECK((P.hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) && (P.kdf = EVP_KDF_CTX_new(P.hkdf)) &&
		      EVP_KDF_CTX_set_params(P.kdf, p) == 1,
	      "HKDF fetch");
	CHECK((P.gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL)), "AES-256-GCM fetch");
	CHECK((P.sig = EVP_MD_CTX_new()), "EVP_MD_CTX_new");

	sc_fill(&P.rng, P.key, sizeof(P.key));
	sc_fill(&P.rng, P.key2, sizeof(P.key2));
	sc_fill(&P.rng, P.dh, sizeof(P.dh));
	sc_fill(&P.rng, P.init_pkt, sizeof(P.init_pkt));
	sc_fill(&P.rng, P.resp_pkt, sizeof(P.resp_pkt));
	sc_fill(&P.rng, P.transcript, sizeof(P.transcript));
	sc_fill(&P.rng, P.msg_init, sizeof(P.msg_init));
	sc_fill(&P.rng, P.msg_resp, sizeof(P.msg_resp));
	P.confirm_enc = gcm_ctx(1, P.key);
	P.confirm_dec = gcm_ctx(0, P.key);
	P.sess_tx = gcm_ctx(1, P.key);
	P.sess_rx = gcm_ctx(0, P.key2);
	P.ka_enc = gcm_ctx(1, P.key);
	P.ka_dec = gcm_ctx(0, P.key);

	/* Keys, and valid signatures and tags to check (the full verification path). */
	P.ed_self = ed25519_private(&P.rng);
	peer_priv = ed25519_private(&P.rng);
	CHECK(EVP_PKEY_get_raw_public_key(peer_priv, P.ed_peer_pub, &len) == 1, "Ed25519 public");
	P.ed_peer = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, P.ed_peer_pub, len);
	CHECK(P.ed_peer, "Ed25519 public key");
	ed_sign(P.sig_init, peer_priv, P.msg_init, sizeof(P.msg_init));
	ed_sign(P.sig_resp, peer_priv, P.msg_resp, sizeof(P.msg_resp));
	EVP_PKEY_free(peer_priv);
	x25519_keygen(&x_peer, P.x_peer_pub);
	EVP_PKEY_free(x_peer);
	x25519_keygen(&P.x_eph, tmp);
	gcm_seal(P.confirm_enc, NULL, zero_nonce, P.resp_pkt, SS_RESP_OFF_CONFIRM, NULL, 0,
		 P.confirm_tag);
	sc_fill(&P.rng, P.ka_pkt, SS_DATA_HDR_LEN);
	gcm_seal(P.ka_enc, NULL, zero_nonce, P.ka_pkt, SS_DATA_HDR_LEN, NULL, 0,
		 P.ka_pkt + SS_DATA_HDR_LEN);
}

static void bare_free(void)
{
	EVP_MD_CTX_free(P.md);
	EVP_MD_free(P.sha256);
	EVP_MAC_CTX_free(P.mac);
	EVP_MAC_free(P.hmac);
	EVP_KDF_CTX_free(P.kdf);
	EVP_KDF_free(P.hkdf);
	EVP_CIPHER_CTX_free(P.confirm_enc);
	EVP_CIPHER_CTX_free(P.confirm_dec);
	EVP_CIPHER_CTX_free(P.sess_tx);
	EVP_CIPHER_CTX_free(P.sess_rx);
	EVP_CIPHER_CTX_free(P.ka_enc);
	EVP_CIPHER_CTX_free(P.ka_dec);
	EVP_CIPHER_free(P.gcm);
	EVP_MD_CTX_free(P.sig);
	EVP_PKEY_free(P.ed_self);
	EVP_PKEY_free(P.ed_peer);
	EVP_PKEY_free(P.x_eph);
}

/* Each bare_* op is one primitive operation exactly as the protocol needs it. */

static void bare_x25519_keygen(void *arg)
{
	uint8_t pub[SS_DH_LEN];
	EVP_PKEY *k;

	(void)arg;
	x25519_keygen(&k, pub);
	EVP_PKEY_free(k); /* an optimal core frees it after the derive instead */
	sink ^= pub[0];
}

static void bare_x25519_derive(void *arg)
{
	uint8_t shared[SS_DH_LEN];

	(void)arg;
	x25519_derive(shared, P.x_eph, P.x_peer_pub);
	sink ^= shared[0];
}

static void bare_sign(void *arg)
{
	const struct signed_msg *m = arg;
	uint8_t sig[SS_SIG_LEN];

	ed_sign(sig, P.ed_self, m->msg, m->len);
	sink ^= sig[0];
}

static void bare_verify(void *arg)
{
	const struct signed_msg *m = arg;

	ed_verify(P.ed_peer, m->msg, m->len, m->sig);
}

static void bare_hkdf(void *arg)
{
	uint8_t prk[SS_HASH_LEN], k[3][SS_KEY_LEN];

	(void)arg;
	hkdf_step(prk, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, P.transcript, SS_HASH_LEN, P.dh);
	hkdf_step(k[0], EVP_KDF_HKDF_MODE_EXPAND_ONLY, (const uint8_t *)label_i2r,
		  sizeof(label_i2r) - 1, prk);
	hkdf_step(k[1], EVP_KDF_HKDF_MODE_EXPAND_ONLY, (const uint8_t *)label_r2i,
		  sizeof(label_r2i) - 1, prk);
	hkdf_step(k[2], EVP_KDF_HKDF_MODE_EXPAND_ONLY, (const uint8_t *)label_confirm,
		  sizeof(label_confirm) - 1, prk);
	sink ^= k[0][0] ^ k[1][0] ^ k[2][0];
}

static void bare_sha_init(void *arg)
{
	uint8_t h[SS_HASH_LEN];

	(void)arg;
	sha256(h, P.init_pkt, SS_INIT_OFF_MAC1);
	sink ^= h[0];
}

static void bare_sha_transcript(void *arg)
{
	uint8_t h[SS_HASH_LEN];

	(void)arg;
	sha256(h, P.transcript, sizeof(P.transcript));
	sink ^= h[0];
}

static void bare_hmac_init(void *arg)
{
	uint8_t h[SS_HASH_LEN];

	(void)arg;
	hmac(h, P.key, P.init_pkt, SS_INIT_OFF_MAC1);
	sink ^= h[0];
}

static void bare_hmac_resp(void *arg)
{
	uint8_t h[SS_HASH_LEN];

	(void)arg;
	hmac(h, P.key, P.resp_pkt, SS_RESP_OFF_MAC1);
	sink ^= h[0];
}

static void bare_confirm_seal(void *arg)
{
	uint8_t tag[SS_TAG_LEN];

	(void)arg;
	gcm_seal(P.confirm_enc, P.key, zero_nonce, P.resp_pkt, SS_RESP_OFF_CONFIRM, NULL, 0, tag);
	sink ^= tag[0];
}

static void bare_confirm_open(void *arg)
{
	uint8_t in[SS_TAG_LEN], out[1];

	(void)arg;
	memcpy(in, P.confirm_tag, SS_TAG_LEN);
	CHECK(gcm_open(P.confirm_dec, P.key, zero_nonce, P.resp_pkt, SS_RESP_OFF_CONFIRM, in, 0,
		       out),
	      "confirm tag");
}

static void bare_session_keys(void *arg)
{
	(void)arg;
	session_setkeys(P.sess_tx, P.sess_rx, P.key, P.key2);
}

static void bare_ka_seal(void *arg)
{
	uint8_t pkt[SS_DATA_OVERHEAD];

	(void)arg;
	memcpy(pkt, P.ka_pkt, SS_DATA_HDR_LEN);
	gcm_seal(P.ka_enc, NULL, zero_nonce, pkt, SS_DATA_HDR_LEN, NULL, 0, pkt + SS_DATA_HDR_LEN);
	sink ^= pkt[SS_DATA_HDR_LEN];
}

static void bare_ka_open(void *arg)
{
	uint8_t out[1];

	(void)arg;
	CHECK(gcm_open(P.ka_dec, NULL, zero_nonce, P.ka_pkt, SS_DATA_HDR_LEN,
		       P.ka_pkt + SS_DATA_HDR_LEN, 0, out),
	      "keepalive tag");
}

/* --------------------------------------------------- the same ops through ss_* (--detail) */

static struct wrap {
	ss_identity *self;
	uint8_t x_priv[SS_DH_LEN];
	ss_aead tx, rx, ka_enc, ka_dec;
} W;

static void wrap_init(void)
{
	uint8_t seed[SS_SEED_LEN];

	sc_fill(&P.rng, seed, sizeof(seed));
	CHECK(ss_identity_from_seed(&W.self, seed) == 0, "ss_identity_from_seed");
	sc_fill(&P.rng, W.x_priv, sizeof(W.x_priv));
	CHECK(!ss_aead_init(&W.tx) && !ss_aead_init(&W.rx) && !ss_aead_init(&W.ka_enc) &&
		      !ss_aead_init(&W.ka_dec) && !ss_aead_setkey(&W.ka_enc, P.key, 1) &&
		      !ss_aead_setkey(&W.ka_dec, P.key, 0) && !ss_aead_setkey(&W.tx, P.key, 1) &&
		      !ss_aead_setkey(&W.rx, P.key2, 0),
	      "ss_aead");
}

static void wrap_free(void)
{
	ss_identity_free(W.self);
	ss_aead_free(&W.tx);
	ss_aead_free(&W.rx);
	ss_aead_free(&W.ka_enc);
	ss_aead_free(&W.ka_dec);
}

static void wrap_x25519_keygen(void *arg)
{
	uint8_t priv[SS_DH_LEN], pub[SS_DH_LEN];

	(void)arg;
	sc_fill(&P.rng, priv, sizeof(priv));
	CHECK(ss_x25519_public(pub, priv) == 0, "ss_x25519_public");
	sink ^= pub[0];
}

static void wrap_x25519_derive(void *arg)
{
	uint8_t shared[SS_DH_LEN];

	(void)arg;
	CHECK(ss_x25519(shared, W.x_priv, P.x_peer_pub) == 0, "ss_x25519");
	sink ^= shared[0];
}

static void wrap_sign(void *arg)
{
	const struct signed_msg *m = arg;
	uint8_t sig[SS_SIG_LEN];

	CHECK(ss_identity_sign(W.self, m->msg, m->len, sig) == 0, "ss_identity_sign");
	sink ^= sig[0];
}

static void wrap_verify(void *arg)
{
	const struct signed_msg *m = arg;

	CHECK(ss_identity_verify(P.ed_peer_pub, m->msg, m->len, m->sig) == 0, "ss_identity_verify");
}

static void wrap_hkdf(void *arg)
{
	uint8_t prk[SS_HASH_LEN], k[3][SS_KEY_LEN];

	(void)arg;
	CHECK(!ss_hkdf_extract(prk, P.transcript, SS_HASH_LEN, P.dh, SS_DH_LEN) &&
		      !ss_hkdf_expand(k[0], SS_KEY_LEN, prk, (const uint8_t *)label_i2r,
				      sizeof(label_i2r) - 1) &&
		      !ss_hkdf_expand(k[1], SS_KEY_LEN, prk, (const uint8_t *)label_r2i,
				      sizeof(label_r2i) - 1) &&
		      !ss_hkdf_expand(k[2], SS_KEY_LEN, prk, (const uint8_t *)label_confirm,
				      sizeof(label_confirm) - 1),
	      "ss_hkdf");
	sink ^= k[0][0] ^ k[1][0] ^ k[2][0];
}

static void wrap_sha_init(void *arg)
{
	uint8_t h[SS_HASH_LEN];

	(void)arg;
	CHECK(ss_sha256(h, P.init_pkt, SS_INIT_OFF_MAC1, NULL, 0, NULL, 0) == 0, "ss_sha256");
	sink ^= h[0];
}

static void wrap_sha_transcript(void *arg)
{
	uint8_t h[SS_HASH_LEN];

	(void)arg;
	CHECK(ss_sha256(h, P.transcript, sizeof(SS_LABEL_TRANSCRIPT) - 1,
			P.transcript + sizeof(SS_LABEL_TRANSCRIPT) - 1, SS_INIT_OFF_MAC1,
			P.transcript + TRANSCRIPT_LEN - SS_RESP_OFF_CONFIRM,
			SS_RESP_OFF_CONFIRM) == 0,
	      "ss_sha256");
	sink ^= h[0];
}

static void wrap_hmac_init(void *arg)
{
	uint8_t m[SS_MAC_LEN];

	(void)arg;
	CHECK(ss_mac16(m, P.key, SS_HASH_LEN, P.init_pkt, SS_INIT_OFF_MAC1) == 0, "ss_mac16");
	sink ^= m[0];
}

static void wrap_hmac_resp(void *arg)
{
	uint8_t m[SS_MAC_LEN];

	(void)arg;
	CHECK(ss_mac16(m, P.key, SS_HASH_LEN, P.resp_pkt, SS_RESP_OFF_MAC1) == 0, "ss_mac16");
	sink ^= m[0];
}

static void wrap_confirm_seal(void *arg)
{
	uint8_t tag[SS_TAG_LEN];

	(void)arg;
	CHECK(ss_aead_seal_once(P.key, zero_nonce, P.resp_pkt, SS_RESP_OFF_CONFIRM, NULL, 0, tag) ==
		      0,
	      "ss_aead_seal_once");
	sink ^= tag[0];
}

static void wrap_confirm_open(void *arg)
{
	uint8_t out[1];

	(void)arg;
	CHECK(ss_aead_open_once(P.key, zero_nonce, P.resp_pkt, SS_RESP_OFF_CONFIRM, P.confirm_tag,
				0, out) == 0,
	      "ss_aead_open_once");
}

/* As ss_session_clear + ss_session_install do it. */
static void wrap_session_keys(void *arg)
{
	(void)arg;
	EVP_CIPHER_CTX_reset(W.tx.c);
	EVP_CIPHER_CTX_reset(W.rx.c);
	CHECK(!ss_aead_setkey(&W.tx, P.key, 1) && !ss_aead_setkey(&W.rx, P.key2, 0),
	      "ss_aead_setkey");
}

static void wrap_ka_seal(void *arg)
{
	uint8_t pkt[SS_DATA_OVERHEAD];

	(void)arg;
	memcpy(pkt, P.ka_pkt, SS_DATA_HDR_LEN);
	CHECK(ss_aead_seal(&W.ka_enc, zero_nonce, pkt, SS_DATA_HDR_LEN, NULL, 0,
			   pkt + SS_DATA_HDR_LEN) == 0,
	      "ss_aead_seal");
	sink ^= pkt[SS_DATA_HDR_LEN];
}

static void wrap_ka_open(void *arg)
{
	uint8_t out[1];

	(void)arg;
	CHECK(ss_aead_open(&W.ka_dec, zero_nonce, P.ka_pkt, SS_DATA_HDR_LEN,
			   P.ka_pkt + SS_DATA_HDR_LEN, 0, out) == 0,
	      "ss_aead_open");
}

/* An operation and what it works on. */
struct op {
	op_fn fn;
	void *arg;
};

/* Which role performs an op, and how many times per handshake. */
typedef struct prim {
	const char *name;
	struct op bare, wrap;
	unsigned ini, resp;
	double r_bare[16], r_wrap[16];
	double bare_ns, wrap_ns;
} prim;

static prim prims[] = {
	{.name = "X25519 keygen (pub from priv)",
	 .bare = {bare_x25519_keygen, NULL},
	 .wrap = {wrap_x25519_keygen, NULL},
	 .ini = 1,
	 .resp = 1},
	{.name = "X25519 derive",
	 .bare = {bare_x25519_derive, NULL},
	 .wrap = {wrap_x25519_derive, NULL},
	 .ini = 1,
	 .resp = 1},
	{.name = "Ed25519 sign, 143 B (INIT)",
	 .bare = {bare_sign, &signed_init},
	 .wrap = {wrap_sign, &signed_init},
	 .ini = 1,
	 .resp = 0},
	{.name = "Ed25519 sign, 137 B (RESPONSE)",
	 .bare = {bare_sign, &signed_resp},
	 .wrap = {wrap_sign, &signed_resp},
	 .ini = 0,
	 .resp = 1},
	{.name = "Ed25519 verify, 143 B (INIT)",
	 .bare = {bare_verify, &signed_init},
	 .wrap = {wrap_verify, &signed_init},
	 .ini = 0,
	 .resp = 1},
	{.name = "Ed25519 verify, 137 B (RESPONSE)",
	 .bare = {bare_verify, &signed_resp},
	 .wrap = {wrap_verify, &signed_resp},
	 .ini = 1,
	 .resp = 0},
	{.name = "HKDF-SHA256 extract + 3 expands",
	 .bare = {bare_hkdf, NULL},
	 .wrap = {wrap_hkdf, NULL},
	 .ini = 1,
	 .resp = 1},
	{.name = "SHA-256 144 B (H(init) in sig_R)",
	 .bare = {bare_sha_init, NULL},
	 .wrap = {wrap_sha_init, NULL},
	 .ini = 1,
	 .resp = 1},
	{.name = "SHA-256 305 B (transcript)",
	 .bare = {bare_sha_transcript, NULL},
	 .wrap = {wrap_sha_transcript, NULL},
	 .ini = 1,
	 .resp = 1},
	{.name = "HMAC-SHA256 144 B (INIT mac1)",
	 .bare = {bare_hmac_init, NULL},
	 .wrap = {wrap_hmac_init, NULL},
	 .ini = 1,
	 .resp = 1},
	{.name = "HMAC-SHA256 156 B (RESPONSE mac1)",
	 .bare = {bare_hmac_resp, NULL},
	 .wrap = {wrap_hmac_resp, NULL},
	 .ini = 1,
	 .resp = 1},
	{.name = "AES-GCM confirm seal (key+AAD 140)",
	 .bare = {bare_confirm_seal, NULL},
	 .wrap = {wrap_confirm_seal, NULL},
	 .ini = 0,
	 .resp = 1},
	{.name = "AES-GCM confirm open (key+AAD 140)",
	 .bare = {bare_confirm_open, NULL},
	 .wrap = {wrap_confirm_open, NULL},
	 .ini = 1,
	 .resp = 0},
	{.name = "AES-GCM session keys (tx + rx)",
	 .bare = {bare_session_keys, NULL},
	 .wrap = {wrap_session_keys, NULL},
	 .ini = 1,
	 .resp = 1},
	{.name = "AES-GCM keepalive seal (0 B)",
	 .bare = {bare_ka_seal, NULL},
	 .wrap = {wrap_ka_seal, NULL},
	 .ini = 1,
	 .resp = 0},
	{.name = "AES-GCM keepalive open (0 B)",
	 .bare = {bare_ka_open, NULL},
	 .wrap = {wrap_ka_open, NULL},
	 .ini = 0,
	 .resp = 1},
};
#define N_PRIMS (sizeof(prims) / sizeof(prims[0]))

/*
 * Each role's bare operations in protocol order, run as one sequence (the same cold
 * start between handshakes as the real thing). X25519 keygen frees its key at once
 * and the derive uses a long-lived one: the same work as keeping the ephemeral.
 */
static const struct op seq_initiator[] = {
	/* INIT */
	{bare_x25519_keygen, NULL},
	{bare_sign, &signed_init},
	{bare_hmac_init, NULL},
	/* consume RESPONSE, send keepalive */
	{bare_hmac_resp, NULL},
	{bare_sha_init, NULL},
	{bare_verify, &signed_resp},
	{bare_x25519_derive, NULL},
	{bare_sha_transcript, NULL},
	{bare_hkdf, NULL},
	{bare_confirm_open, NULL},
	{bare_session_keys, NULL},
	{bare_ka_seal, NULL},
};
static const struct op seq_responder[] = {
	/* consume INIT, send RESPONSE */
	{bare_hmac_init, NULL},
	{bare_verify, &signed_init},
	{bare_x25519_keygen, NULL},
	{bare_sha_init, NULL},
	{bare_sign, &signed_resp},
	{bare_x25519_derive, NULL},
	{bare_sha_transcript, NULL},
	{bare_hkdf, NULL},
	{bare_confirm_seal, NULL},
	{bare_hmac_resp, NULL},
	{bare_session_keys, NULL},
	/* consume keepalive */
	{bare_ka_open, NULL},
};

static uint64_t run_seq(const struct op *seq, size_t n)
{
	uint64_t t0 = ss_mono_ns();

	for (size_t i = 0; i < n; i++)
		seq[i].fn(seq[i].arg);
	return ss_mono_ns() - t0;
}

/*
 * Handshakes interleaved with the bare sequences of both roles, so that whatever else
 * the machine does in a round slows both sides of the ratio alike.
 */
static void handshake_round(double *ini, double *resp, double *bare_ini, double *bare_resp)
{
	uint64_t start = ss_mono_ns();

	do {
		uint64_t ti = 0, tr = 0;

		handshake(&ti, &tr);
		sample_add(&S_a, (double)ti);
		sample_add(&S_b, (double)tr);
		sample_add(&S_c, (double)run_seq(seq_initiator,
						 sizeof(seq_initiator) / sizeof(seq_initiator[0])));
		sample_add(&S_d, (double)run_seq(seq_responder,
						 sizeof(seq_responder) / sizeof(seq_responder[0])));
	} while (ss_mono_ns() - start < 2 * round_ns);
	*ini = sample_median(&S_a);
	*resp = sample_median(&S_b);
	*bare_ini = sample_median(&S_c);
	*bare_resp = sample_median(&S_d);
}

/* ------------------------------------------------------------------ data path */

static const size_t sizes[] = {64, 1420, 16384};
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

enum { D_OURS_SEAL, D_BARE_SEAL, D_OURS_OPEN, D_BARE_OPEN, D_KINDS };

static struct data {
	uint8_t *pt, *out, *batch;
	size_t batch_cap;
	EVP_CIPHER_CTX *enc, *dec;
	uint64_t bare_counter;
	double r[N_SIZES][D_KINDS][16];
	double ns[N_SIZES][D_KINDS];
} D;

static size_t stride_of(size_t size)
{
	return (size + SS_DATA_OVERHEAD + 63) & ~(size_t)63;
}

/* Distinct packets per open pass: up to 4096, at most ~8 MiB, at least 256; n % 64 == 0. */
static size_t batch_of(size_t size)
{
	size_t n = ((8u << 20) / stride_of(size)) & ~(size_t)63;

	return n > 4096 ? 4096 : n < 256 ? 256 : n;
}

static void data_init(void)
{
	uint8_t key[SS_KEY_LEN];
	size_t cap = 0;

	for (size_t i = 0; i < N_SIZES; i++) {
		size_t c = batch_of(sizes[i]) * stride_of(sizes[i]);

		cap = c > cap ? c : cap;
	}
	D.batch_cap = cap;
	D.batch = xmalloc(cap);
	D.pt = xmalloc(SS_MAX_PLAINTEXT);
	D.out = xmalloc(SS_MAX_PACKET);
	sc_fill(&P.rng, D.pt, SS_MAX_PLAINTEXT);
	sc_fill(&P.rng, key, sizeof(key));
	D.enc = gcm_ctx(1, key);
	D.dec = gcm_ctx(0, key);
}

static void data_free(void)
{
	free(D.batch);
	free(D.pt);
	free(D.out);
	EVP_CIPHER_CTX_free(D.enc);
	EVP_CIPHER_CTX_free(D.dec);
}

/* A data packet as the wire has it: header (the AAD), ciphertext, tag. */
static void bare_seal_packet(size_t size, uint8_t *pkt)
{
	uint8_t nonce[SS_NONCE_LEN] = {0};
	uint64_t ctr = D.bare_counter++;

	pkt[0] = SS_MSG_DATA;
	pkt[1] = SS_VERSION;
	pkt[2] = pkt[3] = 0;
	ss_store_be32(pkt + SS_DATA_OFF_RECEIVER, 0x12345678);
	ss_store_be64(pkt + SS_DATA_OFF_COUNTER, ctr);
	ss_store_be64(nonce + 4, ctr);
	gcm_seal(D.enc, NULL, nonce, pkt, SS_DATA_HDR_LEN, D.pt, size, pkt + SS_DATA_HDR_LEN);
}

static void bare_open_packet(size_t size, const uint8_t *pkt)
{
	uint8_t nonce[SS_NONCE_LEN] = {0};

	memcpy(nonce + 4, pkt + SS_DATA_OFF_COUNTER, 8);
	if (!gcm_open(D.dec, NULL, nonce, pkt, SS_DATA_HDR_LEN, pkt + SS_DATA_HDR_LEN, size, D.out))
		die("bare open: tag mismatch");
}

static void ours_seal_packet(size_t size, uint8_t *pkt)
{
	size_t len;
	int r = ss_peer_seal(A.ctx, A.peer, D.pt, size, pkt, SS_MAX_PACKET, &len, NULL);

	CHECK(r == 0 && len == size + SS_DATA_OVERHEAD, "ss_peer_seal: %s", ss_err_name(r));
}

static void ours_open_packet(size_t size, const uint8_t *pkt)
{
	ss_result res;
	int r = ss_ctx_consume(B.ctx, &B.flow, pkt, size + SS_DATA_OVERHEAD, D.out, SS_MAX_PACKET,
			       &res);

	CHECK(r == 0 && res.kind == SS_RESULT_DATA && res.len == size, "ss_ctx_consume: %s",
	      ss_err_name(r));
}

/*
 * One round for one size; ours and bare alternate in short slices so noise hits both.
 * Seal: the same plaintext into the same output buffer, each packet a new counter.
 * Open: seal a batch of distinct packets (untimed), open them in order (timed). Ours
 * needs new counters every pass (replay window); bare gets the same treatment so the
 * caches see the same pattern.
 */
static void data_round(size_t si, unsigned r)
{
	const size_t size = sizes[si], n = batch_of(size), stride = stride_of(size);
	const unsigned k = size <= 256 ? 64 : size <= 2048 ? 32 : 8; /* packets per slice */
	samples *seal[2] = {&S_a, &S_b}, *open[2] = {&S_c, &S_d};
	uint64_t timed = 0;

	while (timed < 2 * round_ns) {
		for (int ours = 0; ours < 2; ours++) {
			uint64_t t0 = ss_mono_ns(), dt;

			for (unsigned i = 0; i < k; i++) {
				if (ours)
					ours_seal_packet(size, D.out);
				else
					bare_seal_packet(size, D.out);
			}
			dt = ss_mono_ns() - t0;
			timed += dt;
			sample_add(seal[ours], (double)dt / k);
		}
	}
	timed = 0;
	while (timed < 2 * round_ns) {
		for (int ours = 0; ours < 2; ours++) {
			for (size_t i = 0; i < n; i++) {
				if (ours)
					ours_seal_packet(size, D.batch + i * stride);
				else
					bare_seal_packet(size, D.batch + i * stride);
			}
			for (size_t i = 0; i < n; i += k) {
				uint64_t t0 = ss_mono_ns(), dt;

				for (size_t j = i; j < i + k; j++) {
					if (ours)
						ours_open_packet(size, D.batch + j * stride);
					else
						bare_open_packet(size, D.batch + j * stride);
				}
				dt = ss_mono_ns() - t0;
				timed += dt;
				sample_add(open[ours], (double)dt / k);
			}
		}
	}
	D.r[si][D_BARE_SEAL][r] = sample_median(&S_a);
	D.r[si][D_OURS_SEAL][r] = sample_median(&S_b);
	D.r[si][D_BARE_OPEN][r] = sample_median(&S_c);
	D.r[si][D_OURS_OPEN][r] = sample_median(&S_d);
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_core [--quick] [--detail] [--verbose] [--rounds N] [--round-ms MS]\n"
		"                  [--only GROUP]\n"
		"  --quick      3 rounds of 30 ms (CI smoke; numbers are noisy)\n"
		"  --detail     also time each primitive through the core's ss_* wrappers\n"
		"  --verbose    print every round's numbers to stderr (to judge the noise)\n"
		"  --rounds N   rounds per measurement, best kept (default 5, max 16)\n"
		"  --round-ms M length of one round in ms (default 300)\n"
		"  --only G     run one group: handshake, primitives or data (for profiling;\n"
		"               no ratios are printed)\n");
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			n_rounds = 3;
			round_ns = 30 * 1000 * 1000;
		} else if (!strcmp(argv[i], "--detail")) {
			detail = 1;
		} else if (!strcmp(argv[i], "--verbose")) {
			verbose = 1;
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = argv[++i];
			if (strcmp(only, "handshake") && strcmp(only, "primitives") &&
			    strcmp(only, "data")) {
				usage(stderr);
				exit(1);
			}
		} else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
			long v = strtol(argv[++i], NULL, 10);

			if (v < 1 || v > 16) {
				usage(stderr);
				exit(1);
			}
			n_rounds = (unsigned)v;
		} else if (!strcmp(argv[i], "--round-ms") && i + 1 < argc) {
			long v = strtol(argv[++i], NULL, 10);

			if (v < 1 || v > 60000) {
				usage(stderr);
				exit(1);
			}
			round_ns = (uint64_t)v * 1000 * 1000;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			exit(0);
		} else {
			usage(stderr);
			exit(1);
		}
	}
}

/* Per round: each role's handshake, ours and the bare sequence of its primitives. */
struct hs_rounds {
	double ini[16], resp[16], seq_ini[16], seq_resp[16];
};

/* The best round of each. */
struct hs_best {
	double ini, resp, bini, bresp;
};

static void fresh_handshake(void)
{
	uint64_t ti = 0, tr = 0;

	handshake(&ti, &tr);
}

static void print_round(const struct hs_rounds *h, unsigned r)
{
	if (want("handshake"))
		fprintf(stderr,
			"  handshake us: ours ini %.1f resp %.1f, bare ini %.1f "
			"resp %.1f\n",
			h->ini[r] / 1e3, h->resp[r] / 1e3, h->seq_ini[r] / 1e3,
			h->seq_resp[r] / 1e3);
	for (size_t s = 0; s < N_SIZES && want("data"); s++)
		fprintf(stderr,
			"  %5zu B ns: seal ours %.1f bare %.1f, open ours %.1f "
			"bare %.1f\n",
			sizes[s], D.r[s][D_OURS_SEAL][r], D.r[s][D_BARE_SEAL][r],
			D.r[s][D_OURS_OPEN][r], D.r[s][D_BARE_OPEN][r]);
}

static void run_rounds(struct hs_rounds *h)
{
	/* Warm up every path once (page faults, lazy provider loading). */
	fresh_handshake();
	fresh_handshake();
	for (unsigned r = 0; r < n_rounds; r++) {
		fprintf(stderr, "round %u/%u...\n", r + 1, n_rounds);
		if (want("handshake"))
			handshake_round(&h->ini[r], &h->resp[r], &h->seq_ini[r], &h->seq_resp[r]);
		for (size_t i = 0; i < N_PRIMS && want("primitives"); i++) {
			prims[i].r_bare[r] = run_round(prims[i].bare.fn, prims[i].bare.arg);
			if (detail)
				prims[i].r_wrap[r] = run_round(prims[i].wrap.fn, prims[i].wrap.arg);
		}
		/* A fresh session; the fake clock then stays still for the whole data path. */
		fresh_handshake();
		for (size_t s = 0; s < N_SIZES && want("data"); s++)
			data_round(s, r);
		if (verbose)
			print_round(h, r);
	}
}

/* Sanity: every handshake completed, no packet was dropped. */
static void check_no_drops(void)
{
	ss_peer_stats st;

	ss_peer_get_stats(B.peer, &st);
	for (int i = 0; i < SS_DROP_COUNT; i++)
		CHECK(st.drops[i] == 0, "responder dropped packets: %s",
		      ss_err_name(SS_DROP_FIRST - i));
	ss_peer_get_stats(A.peer, &st);
	for (int i = 0; i < SS_DROP_COUNT; i++)
		CHECK(st.drops[i] == 0, "initiator dropped packets: %s",
		      ss_err_name(SS_DROP_FIRST - i));
}

static void best_of_rounds(const struct hs_rounds *h, struct hs_best *b)
{
	b->ini = best(h->ini, n_rounds);
	b->resp = best(h->resp, n_rounds);
	b->bini = best(h->seq_ini, n_rounds);
	b->bresp = best(h->seq_resp, n_rounds);
	for (size_t i = 0; i < N_PRIMS; i++) {
		prims[i].bare_ns = best(prims[i].r_bare, n_rounds);
		if (detail)
			prims[i].wrap_ns = best(prims[i].r_wrap, n_rounds);
	}
	for (size_t s = 0; s < N_SIZES; s++)
		for (int k = 0; k < D_KINDS; k++)
			D.ns[s][k] = best(D.r[s][k], n_rounds);
}

static void report_handshake(const struct hs_best *b)
{
	printf("\nHandshake per role: ours = the full protocol through the public API;\n"
	       "bare = the role's primitive operations (table below) run as one sequence,\n"
	       "interleaved with ours handshake by handshake\n");
	printf("  %-10s %10s %10s %10s %10s %7s\n", "role", "ours us", "ours hs/s", "bare us",
	       "bare hs/s", "ratio");
	printf("  %-10s %10.2f %10.0f %10.2f %10.0f %7.3f\n", "initiator", b->ini / 1e3,
	       1e9 / b->ini, b->bini / 1e3, 1e9 / b->bini, b->ini / b->bini);
	printf("  %-10s %10.2f %10.0f %10.2f %10.0f %7.3f\n", "responder", b->resp / 1e3,
	       1e9 / b->resp, b->bresp / 1e3, 1e9 / b->bresp, b->resp / b->bresp);
	printf("  initiator = INIT (ss_peer_tick) + consume RESPONSE (incl. sealing the "
	       "keepalive);\n"
	       "  responder = consume INIT (-> RESPONSE) + consume the keepalive.\n"
	       "  Fake clock +1 s per handshake; cookies off on the responder.\n");
}

/* One sum row: the bare (and, with --detail, wrapped) cost of a role's primitives. */
static void print_sum(const char *label, double sum, double wsum)
{
	printf("  %-36s %10.2f %5s %5s", label, sum / 1e3, "", "");
	if (detail)
		printf(" %10.2f %7.2f", wsum / 1e3, wsum / sum);
}

static void report_primitives(const struct hs_best *b)
{
	double sum_ini = 0, sum_resp = 0, wsum_ini = 0, wsum_resp = 0;

	printf("\nPrimitive operations, each timed alone in a loop: raw OpenSSL EVP, algorithms\n"
	       "fetched once, contexts and long-term keys (own and peer's) reused; ini/resp =\n"
	       "times per handshake for each role%s\n",
	       detail ? "; ss_* = the same operation through the core's wrappers" : "");
	printf("  %-36s %10s %5s %5s", "operation", "bare us", "ini", "resp");
	if (detail)
		printf(" %10s %7s", "ss_* us", "ss/bare");
	printf("\n");
	for (size_t i = 0; i < N_PRIMS; i++) {
		sum_ini += prims[i].ini * prims[i].bare_ns;
		sum_resp += prims[i].resp * prims[i].bare_ns;
		wsum_ini += detail ? prims[i].ini * prims[i].wrap_ns : 0;
		wsum_resp += detail ? prims[i].resp * prims[i].wrap_ns : 0;
		printf("  %-36s %10.3f %5u %5u", prims[i].name, prims[i].bare_ns / 1e3,
		       prims[i].ini, prims[i].resp);
		if (detail)
			printf(" %10.3f %7.2f", prims[i].wrap_ns / 1e3,
			       prims[i].wrap_ns / prims[i].bare_ns);
		printf("\n");
	}
	print_sum("sum, initiator (cf. bare above)", sum_ini, wsum_ini);
	printf("\n");
	print_sum("sum, responder (cf. bare above)", sum_resp, wsum_resp);
	printf("\n");
	if (detail)
		printf("  handshake time not in the ss_* sum (protocol glue): initiator %.2f us, "
		       "responder %.2f us\n",
		       (b->ini - wsum_ini) / 1e3, (b->resp - wsum_resp) / 1e3);
}

static void report_data(void)
{
	printf("\nData path (MB = 10^6 plaintext bytes; ours = ss_peer_seal / ss_ctx_consume,\n"
	       "bare = AES-256-GCM on a pre-keyed EVP_CIPHER_CTX, same 16-byte AAD and layout)\n");
	printf("  %-5s %6s %10s %10s %11s %10s %10s %11s %7s\n", "op", "bytes", "ours ns",
	       "ours MB/s", "ours pkt/s", "bare ns", "bare MB/s", "bare pkt/s", "ratio");
	for (int op = 0; op < 2; op++) {
		int ko = op ? D_OURS_OPEN : D_OURS_SEAL, kb = op ? D_BARE_OPEN : D_BARE_SEAL;

		for (size_t s = 0; s < N_SIZES; s++) {
			double o = D.ns[s][ko], b = D.ns[s][kb];

			printf("  %-5s %6zu %10.1f %10.1f %11.0f %10.1f %10.1f %11.0f %7.3f\n",
			       op ? "open" : "seal", sizes[s], o, (double)sizes[s] * 1e3 / o,
			       1e9 / o, b, (double)sizes[s] * 1e3 / b, 1e9 / b, o / b);
		}
	}
	printf("  Ours and bare alternate. open: batches of up to 4096 distinct packets\n"
	       "  (<= 8 MiB), sealed untimed, opened in order.\n");
}

/* The lines scripts parse: '^ratio NAME VALUE'. */
static void report_ratios(const struct hs_best *b)
{
	printf("\nratio handshake_initiator %.3f (target <= 1.30)\n", b->ini / b->bini);
	printf("ratio handshake_responder %.3f (target <= 1.30)\n", b->resp / b->bresp);
	for (int op = 0; op < 2; op++) {
		int ko = op ? D_OURS_OPEN : D_OURS_SEAL, kb = op ? D_BARE_OPEN : D_BARE_SEAL;

		for (size_t s = 0; s < N_SIZES; s++)
			printf("ratio %s_%zu %.3f (%s)\n", op ? "open" : "seal", sizes[s],
			       D.ns[s][ko] / D.ns[s][kb],
			       sizes[s] == 1420 ? "target <= 1.15" : "no target");
	}
}

static void free_all(void)
{
	free(S_a.v);
	free(S_b.v);
	free(S_c.v);
	free(S_d.v);
	data_free();
	if (detail)
		wrap_free();
	bare_free();
	pair_free();
}

int main(int argc, char **argv)
{
	struct hs_rounds h;
	struct hs_best b;

	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	pair_init();
	bare_init();
	if (detail)
		wrap_init();
	data_init();

	printf("SiloSec core benchmark: %s; best of %u rounds x %" PRIu64
	       " ms, CLOCK_MONOTONIC%s\n",
	       OpenSSL_version(OPENSSL_VERSION), n_rounds, round_ns / 1000000,
	       detail ? "; --detail" : "");
	fflush(stdout);
	run_rounds(&h);
	check_no_drops();
	if (only) {
		printf("--only %s: measured, not reported\n", only);
	} else {
		best_of_rounds(&h, &b);
		report_handshake(&b);
		report_primitives(&b);
		report_data();
		report_ratios(&b);
	}
	free_all();
	return 0;
}
