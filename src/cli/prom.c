/* SPDX-License-Identifier: MIT */
/*
 * Metrics in the Prometheus text format, built from the same answers `show --json` reads:
 * no daemon code and no listener; node_exporter's textfile collector or any scraper that
 * runs the command reads them. Names follow the Prometheus conventions (silosec_ prefix,
 * _total for counters, base units); peers are labelled by fingerprint.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <silosec/identity.h>

#include "common/prom.h"
#include "prom.h"

/* One answer split into key=value pairs; peer records begin at each "peer" key. */
struct answer {
	char *buf;
	char **k, **v;
	size_t n;
	const char *iface;
};

enum scope { IFACE, PEER };
enum kind {
	NUM,   /* the key's value */
	DROP,  /* "drop=NAME:N" lines, labelled reason */
	INFO,  /* 1, the value as a label */
	AGE,   /* now - value, absent when the value is 0 */
	FLAG,  /* "yes" -> 1 */
	COUNT, /* how many lines have the key */
};

static const struct fdef {
	const char *name, *type, *help, *key;
	enum scope scope;
	enum kind kind;
	const char *label;
} fdefs[] = {
	{"silosec_peers", "gauge", "Peers configured on the interface.", "peer_count", IFACE, NUM,
	 NULL},
	{"silosec_cookies_sent_total", "counter", "Cookie replies sent (handshakes under load).",
	 "cookies_sent", IFACE, NUM, NULL},
	{"silosec_conntrack_entries", "gauge", "Connections tracked, all peers.", "conntrack_total",
	 IFACE, NUM, NULL},
	{"silosec_grants", "gauge", "Live time-limited grants, all peers.", "grants_total", IFACE,
	 NUM, NULL},
	{"silosec_ring_drops_total", "counter", "Outgoing packets lost in a full TUN packet ring.",
	 "ring_drops", IFACE, NUM, NULL},
	{"silosec_drops_total", "counter",
	 "Packets dropped that no peer can be blamed for, by reason (SS_ERR_* or SS_TUN_*).",
	 "drop", IFACE, DROP, NULL},
	{"silosec_peer_receive_bytes_total", "counter",
	 "Plaintext bytes received from the peer (after decryption).", "rx_bytes", PEER, NUM, NULL},
	{"silosec_peer_transmit_bytes_total", "counter",
	 "Plaintext bytes sent to the peer (before encryption).", "tx_bytes", PEER, NUM, NULL},
	{"silosec_peer_receive_packets_total", "counter", "Data packets received from the peer.",
	 "rx_packets", PEER, NUM, NULL},
	{"silosec_peer_transmit_packets_total", "counter", "Data packets sent to the peer.",
	 "tx_packets", PEER, NUM, NULL},
	{"silosec_peer_handshakes_total", "counter",
	 "Handshakes completed with the peer (sessions established).", "handshakes", PEER, NUM,
	 NULL},
	{"silosec_peer_session", "gauge", "1 while the peer has an established session.", "session",
	 PEER, FLAG, NULL},
	{"silosec_peer_last_handshake_seconds", "gauge",
	 "Unix time of the last completed handshake, 0 if none.", "latest_handshake", PEER, NUM,
	 NULL},
	{"silosec_peer_last_handshake_age_seconds", "gauge",
	 "Seconds since the last completed handshake when the metrics were written (absent if "
	 "none).",
	 "latest_handshake", PEER, AGE, NULL},
	{"silosec_peer_queued_packets", "gauge", "Packets queued until a handshake completes.",
	 "queued", PEER, NUM, NULL},
	{"silosec_peer_conntrack_entries", "gauge", "Connections tracked for the peer.",
	 "conntrack", PEER, NUM, NULL},
	{"silosec_peer_grants", "gauge", "Live time-limited grants for the peer.", "grant", PEER,
	 COUNT, NULL},
	{"silosec_peer_drops_total", "counter",
	 "Packets from or to the peer dropped, by reason (SS_ERR_* or SS_TUN_*).", "drop", PEER,
	 DROP, NULL},
	{"silosec_peer_endpoint_info", "gauge", "The peer's current endpoint (value 1).",
	 "endpoint", PEER, INFO, "endpoint"},
	{"silosec_peer_path_info", "gauge", "How the peer is reached (value 1).", "path", PEER,
	 INFO, "path"},
};

static bool digits(const char *s)
{
	if (!*s || strlen(s) > 20)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int split(struct answer *a, const char *name, const char *text)
{
	size_t cap = 1;

	memset(a, 0, sizeof(*a));
	a->iface = name;
	if (!text)
		return 0;
	a->buf = strdup(text);
	for (const char *p = text; *p; p++)
		cap += *p == '\n';
	a->k = calloc(cap, sizeof(char *));
	a->v = calloc(cap, sizeof(char *));
	if (!a->buf || !a->k || !a->v)
		return -1;
	for (char *save, *l = strtok_r(a->buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(l, '=');

		if (!eq)
			continue;
		*eq = 0;
		a->k[a->n] = l;
		a->v[a->n++] = eq + 1;
		if (!strcmp(l, "interface"))
			a->iface = eq + 1;
	}
	return 0;
}

static void answer_free(struct answer *a)
{
	free(a->buf);
	free(a->k);
	free(a->v);
}

/* The peer label: its fingerprint, the form operators compare out of band. */
static void peer_label(const char *b64, char *out, size_t len)
{
	uint8_t id[SS_IDENTITY_LEN];
	char f[SS_FINGERPRINT_LEN];

	if (ss_key_from_base64(b64, id)) {
		snprintf(out, len, "%s", b64);
		return;
	}
	ss_fingerprint(id, f);
	snprintf(out, len, "%s", f);
}

/* The samples of one family within one record, lines [from, to) of an answer. */
static void record(FILE *f, struct ss_prom_family *fam, const struct fdef *d,
		   const struct answer *a, size_t from, size_t to, struct ss_prom_label *l,
		   size_t nl, unsigned long long now)
{
	unsigned long long count = 0;

	for (size_t i = from; i < to; i++) {
		const char *v = a->v[i], *colon;
		char reason[128];

		if (strcmp(a->k[i], d->key))
			continue;
		count++;
		if (d->kind == DROP && (colon = strrchr(v, ':')) && digits(colon + 1)) {
			snprintf(reason, sizeof(reason), "%.*s", (int)(colon - v), v);
			l[nl] = (struct ss_prom_label){"reason", reason};
			ss_prom_sample(f, fam, l, nl + 1, colon + 1);
		} else if (d->kind == INFO) {
			l[nl] = (struct ss_prom_label){d->label, v};
			ss_prom_sample(f, fam, l, nl + 1, "1");
		} else if (d->kind == FLAG) {
			ss_prom_sample(f, fam, l, nl, !strcmp(v, "yes") ? "1" : "0");
		} else if (d->kind == AGE && digits(v) && strtoull(v, NULL, 10)) {
			unsigned long long t = strtoull(v, NULL, 10);

			ss_prom_sample_u64(f, fam, l, nl, now > t ? now - t : 0);
		} else if (d->kind == NUM && digits(v)) {
			ss_prom_sample(f, fam, l, nl, v);
		}
		if (d->kind != DROP && d->kind != INFO && d->kind != COUNT)
			break;
	}
	if (d->kind == COUNT)
		ss_prom_sample_u64(f, fam, l, nl, count);
}

static void family(FILE *f, const struct fdef *d, const struct answer *as, size_t n,
		   unsigned long long now)
{
	struct ss_prom_family fam = {d->name, d->type, d->help, false};
	struct ss_prom_label l[SS_PROM_MAX_LABELS];
	char peer[SS_FINGERPRINT_LEN + 64];

	for (size_t i = 0; i < n; i++) {
		const struct answer *a = &as[i];
		size_t start = 0;

		l[0] = (struct ss_prom_label){"interface", a->iface};
		/* The interface's own record ends at the first peer. */
		while (start < a->n && strcmp(a->k[start], "peer"))
			start++;
		if (d->scope == IFACE) {
			record(f, &fam, d, a, 0, start, l, 1, now);
			continue;
		}
		while (start < a->n) {
			size_t end = start + 1;

			while (end < a->n && strcmp(a->k[end], "peer"))
				end++;
			peer_label(a->v[start], peer, sizeof(peer));
			l[1] = (struct ss_prom_label){"peer", peer};
			record(f, &fam, d, a, start + 1, end, l, 2, now);
			start = end;
		}
	}
}

/* silosec_interface_up and silosec_interface_info, from the interface records. */
static void interfaces(FILE *f, const struct answer *as, size_t n)
{
	struct ss_prom_family up = {"silosec_interface_up", "gauge",
				    "1 if the interface's silosecd answered on its control socket.",
				    false};
	struct ss_prom_family info = {
		"silosec_interface_info", "gauge",
		"The interface's identity (fingerprint) and transport (value 1).", false};

	/* Two passes: a family's samples stay together. */
	for (size_t i = 0; i < n; i++) {
		struct ss_prom_label l[1] = {{"interface", as[i].iface}};

		ss_prom_sample(f, &up, l, 1, as[i].buf ? "1" : "0");
	}
	for (size_t i = 0; i < n; i++) {
		struct ss_prom_label l[3] = {{"interface", as[i].iface}};
		const char *id = "", *tr = "";
		char fp[SS_FINGERPRINT_LEN + 64];

		if (!as[i].buf)
			continue;
		for (size_t j = 0; j < as[i].n && strcmp(as[i].k[j], "peer"); j++) {
			if (!strcmp(as[i].k[j], "identity"))
				id = as[i].v[j];
			else if (!strcmp(as[i].k[j], "transport"))
				tr = as[i].v[j];
		}
		peer_label(id, fp, sizeof(fp));
		l[1] = (struct ss_prom_label){"fingerprint", fp};
		l[2] = (struct ss_prom_label){"transport", tr};
		ss_prom_sample(f, &info, l, 3, "1");
	}
}

int ss_prom_show(FILE *f, const char *const *names, const char *const *answers, size_t n,
		 unsigned long long now)
{
	struct answer *as = calloc(n ? n : 1, sizeof(*as));
	int ret = as ? 0 : -1;

	for (size_t i = 0; i < n && !ret; i++)
		ret = split(&as[i], names[i], answers[i]);
	if (!ret) {
		interfaces(f, as, n);
		for (size_t d = 0; d < sizeof(fdefs) / sizeof(fdefs[0]); d++)
			family(f, &fdefs[d], as, n, now);
	}
	for (size_t i = 0; as && i < n; i++)
		answer_free(&as[i]);
	free(as);
	return ret;
}
