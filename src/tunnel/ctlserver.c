/* SPDX-License-Identifier: MIT */
/*
 * The daemon's side of the control socket. "get" dumps the interface and every peer as
 * key=value lines; "set" changes peers at run time; "sync" takes a whole file's peers. One request
 * per connection; the socket is root-only (0600 in a 0700 directory) and the peer's uid is checked
 * too. Reading and parsing a request is ctlparse.c's; this file applies it to the daemon.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "ctlparse.h"
#include "common/ctlsock.h"
#include "daemon.h"
#include "log.h"
#include "relay.h"

struct out {
	FILE *f;
};

static void kv(FILE *f, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void kv(FILE *f, const char *key, const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "%s=", key);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

static void put_drops(FILE *f, const uint64_t *core, const uint64_t *tun)
{
	for (int i = 0; core && i < SS_DROP_COUNT; i++)
		if (core[i])
			kv(f, "drop", "%s:%llu", ss_err_name(SS_DROP_FIRST - i),
			   (unsigned long long)core[i]);
	for (int i = 0; i < SS_TUN_DROP_COUNT; i++)
		if (tun[i])
			kv(f, "drop", "%s:%llu", ss_tun_drop_names[i], (unsigned long long)tun[i]);
}

static void put_prefix(void *arg, int family, const uint8_t *addr, uint8_t prefix)
{
	ss_cidr c = {.family = family, .prefix = prefix};
	char buf[64];

	memcpy(c.addr, addr, family == AF_INET ? 4 : 16);
	ss_cidr_format(&c, buf, sizeof(buf));
	kv(arg, "allowed_ip", "%s", buf);
}

/* Allow rules, live grants, tracked connections and the last refused packet. */
static void put_access(ss_daemon *d, FILE *f, ss_dpeer *p, const uint8_t *id)
{
	char r[SS_CAP_RULE_STR], flow[128];
	uint64_t now = ss_mono_ns();
	ss_pkt_info pi;

	kv(f, "access", "%s", p->open ? "all" : p->has_allow ? "rules" : "none");
	for (size_t i = 0; i < p->nrules; i++) {
		ss_cap_rule_format(&p->rules[i], r, sizeof(r));
		kv(f, "allow", "%s", r);
	}
	/* Where each rule came from: "own RULE" or "group:NAME RULE" (Groups =). */
	for (size_t i = 0; p->groups && i < p->nrules; i++) {
		ss_cap_rule_format(&p->rules[i], r, sizeof(r));
		kv(f, "rule", "%s%s %s", p->origin && p->origin[i] ? "group:" : "own",
		   p->origin && p->origin[i] ? p->origin[i] : "", r);
	}
	for (int i = 0; id && i < SS_GRANT_MAX; i++) {
		const ss_grant *g = &d->grants->g[i];

		if (!g->used || g->expire_ns <= now || memcmp(g->identity, id, SS_IDENTITY_LEN))
			continue;
		ss_cap_rule_format(&g->rule, r, sizeof(r));
		kv(f, "grant", "%llu %s",
		   (unsigned long long)((g->expire_ns - now + SS_NS_PER_SEC - 1) / SS_NS_PER_SEC),
		   r);
	}
	kv(f, "conntrack", "%u", p->ct.entries);
	kv(f, "conntrack_budget", "%u", p->ct.budget);
	if (p->denied_ns && !ss_pkt_parse(p->denied_hdr, p->denied_len, &pi)) {
		ss_pkt_format(&pi, flow, sizeof(flow));
		kv(f, "last_denied", "%s", flow);
		kv(f, "last_denied_ago", "%llu",
		   (unsigned long long)((now - p->denied_ns) / SS_NS_PER_SEC));
	}
}

/* Relay = and the path the session uses (PROTOCOL.md 16.7): direct, or a circuit. */
static void put_path(FILE *f, const ss_dpeer *p)
{
	const ss_preach_ext *x = ss_reach_get(p);
	char desc[SS_FINGERPRINT_LEN + 16];

	if (p->relay_mode)
		kv(f, "relay", "%s", p->relay_mode == SS_CONF_RELAY_USE ? "yes" : "serve");
	if (!ss_peer_has_session(p->sp) || !x->has_path || !ss_flow_virtual(&x->path))
		return;
	ss_relay_describe(p, &x->path, desc, sizeof(desc));
	kv(f, "path", "%s", desc);
	kv(f, "relay_circuit", "%08x", ss_relay_flow_circuit(&x->path));
}

/* Where p is reached: the path in use, the candidates, what an introducer reports. */
static void put_reach(FILE *f, ss_dpeer *p)
{
	const ss_preach_ext *x = ss_reach_get(p);
	uint64_t now = ss_mono_ns();
	size_t n = p->cands ? ss_cands_count(p->cands) : 0;
	char a[64], c[32];
	ss_cand_info ci;
	ss_flow fl;

	if (ss_peer_has_session(p->sp) && x->has_path && !ss_flow_virtual(&x->path)) {
		ss_flow_format(&x->path, a, sizeof(a));
		kv(f, "path", "direct %s", a);
	}
	for (size_t i = 0; i < n; i++) {
		if (ss_cands_get(p->cands, i, &ci))
			continue;
		ss_flow_format(&ci.flow, a, sizeof(a));
		if (ci.confirmed_ns)
			snprintf(c, sizeof(c), "%llu",
				 (unsigned long long)((now - ci.confirmed_ns) / SS_NS_PER_SEC));
		else
			snprintf(c, sizeof(c), "never");
		kv(f, "candidate", "%s %s confirmed %s", ss_reach_source_name(ci.source), a, c);
	}
	if (p->reach.introducer && x->has_reflexive) {
		ss_flow_from_endpoint(&fl, &x->reflexive, 0, 17);
		ss_flow_format(&fl, a, sizeof(a));
		kv(f, "reflexive", "%s", a);
		kv(f, "introducer_rtt_ms", "%u", x->rtt_ms);
	}
}

static void put_peer(ss_daemon *d, FILE *f, ss_dpeer *p)
{
	const uint8_t *id = ss_peer_identity(p->sp);
	char b64[SS_B64_KEY_LEN], a[64];
	ss_peer_stats st;

	ss_peer_get_stats(p->sp, &st);
	if (id) {
		ss_key_to_base64(id, b64);
		kv(f, "peer", "%s", b64);
	} else {
		kv(f, "peer", "tofu");
	}
	if (p->label)
		kv(f, "name", "%s", p->label);
	if (p->groups)
		kv(f, "groups", "%s", p->groups);
	if (p->tofu)
		kv(f, "tofu", "%s %s", p->name, p->tofu_pinned ? "pinned" : "unpinned");
	if (p->has_endpoint) {
		ss_flow_format(&p->endpoint, a, sizeof(a));
		kv(f, "endpoint", "%s", a);
	}
	ss_allowedips_walk_peer(d->aips, p, put_prefix, f);
	kv(f, "persistent_keepalive", "%u", p->keepalive);
	kv(f, "session", "%s", ss_peer_has_session(p->sp) ? "yes" : "no");
	kv(f, "latest_handshake", "%llu",
	   (unsigned long long)(st.last_handshake_wall_ns / SS_NS_PER_SEC));
	kv(f, "epoch", "%llu", (unsigned long long)st.epoch);
	kv(f, "handshakes", "%llu", (unsigned long long)st.handshakes_completed);
	kv(f, "rx_bytes", "%llu", (unsigned long long)st.bytes_opened);
	kv(f, "tx_bytes", "%llu", (unsigned long long)st.bytes_sealed);
	kv(f, "rx_packets", "%llu", (unsigned long long)st.packets_opened);
	kv(f, "tx_packets", "%llu", (unsigned long long)st.packets_sealed);
	kv(f, "queued", "%u", p->qlen);
	if (p->reach.introducer)
		kv(f, "introducer", "yes");
	if (p->reach.introduce)
		kv(f, "introduce", "yes");
	put_reach(f, p);
	put_path(f, p);
	put_access(d, f, p, id);
	put_drops(f, st.drops, p->drops);
}

static void do_get(ss_daemon *d, FILE *f)
{
	char b64[SS_B64_KEY_LEN];
	uint64_t relay_bytes;
	uint32_t circuits;
	ss_ctx_stats cs;

	ss_ctx_get_stats(d->ctx, &cs);
	ss_key_to_base64(ss_identity_public(d->id), b64);
	kv(f, "interface", "%s", d->conf->name);
	kv(f, "identity", "%s", b64);
	kv(f, "transport", "%s", d->tr.kind == SS_TRANSPORT_UDP ? "udp" : "ip");
	if (d->tr.kind == SS_TRANSPORT_UDP)
		kv(f, "listen_port", "%u", d->tr.port);
	kv(f, "mtu", "%u", d->conf->mtu);
	kv(f, "peer_count", "%u", d->npeers);
	kv(f, "cookies_sent", "%llu", (unsigned long long)cs.cookies_sent);
	kv(f, "policy", "%s", d->conf->policy_allow ? "allow" : "deny");
	kv(f, "conntrack_total", "%u", ss_ct_count(d->ct));
	kv(f, "grants_total", "%u", d->grants->n);
	kv(f, "tun_reads", "%s", d->ring.fd >= 0 ? "ring" : "read");
	if (d->ring.fd >= 0)
		kv(f, "ring_drops", "%llu", (unsigned long long)ss_tunring_drops(&d->ring));
	ss_relay_stats(d, &circuits, &relay_bytes);
	if (circuits || relay_bytes)
		kv(f, "relay_circuits", "%u", circuits);
	if (circuits)
		kv(f, "relay_bytes", "%llu", (unsigned long long)relay_bytes);
	for (int i = 0; i < SS_DROP_COUNT; i++)
		cs.drops[i] += d->reach_drops[i];
	put_drops(f, cs.drops, d->drops);
	ss_lan_show(d, f);
	if (d->reach.hard_nat)
		kv(f, "hard_nat", "yes");
	if (d->conf->private_host)
		kv(f, "private", "yes");
	for (ss_dpeer *p = d->peers; p; p = p->next)
		put_peer(d, f, p);
	fputs("end\n", f);
}

/* The one-line answer to set, grant and revoke. */
static void reply(FILE *f, int ret, const char *err)
{
	if (ret)
		kv(f, "error", "%s", err);
	else
		fputs("end\n", f);
}

/* ---- set ---- */

/*
 * Issue 13 finding 7: an initiator whose clock once ran far ahead is refused
 * (SS_ERR_STALE) once its clock is corrected; forgetting the timestamp readmits it
 * without a restart. Audited: it reopens one replay (PROTOCOL.md 4.2, step 6).
 */
static void reset_timestamp(ss_daemon *d, ss_dpeer *p, const uint8_t *id)
{
	uint64_t was = ss_peer_forget_timestamp(p->sp) / SS_NS_PER_SEC;
	char detail[96], f[SS_FINGERPRINT_LEN];

	snprintf(detail, sizeof(detail), "newest INIT timestamp %llu (Unix s) forgotten",
		 (unsigned long long)was);
	ss_daemon_audit(d, "timestamp_reset", "accept", 0, id, NULL, detail);
	ss_fingerprint(id, f);
	ss_log(LOG_NOTICE, "SS_TUN_SET: peer %s: %s by the control socket", f, detail);
}

/* The settings of a peer that exists by now. */
static int apply_set_rest(ss_daemon *d, ss_dpeer *p, ss_ctl_set_req *r, char *err, size_t errlen)
{
	int ret;

	if (r->replace_allowed) {
		ret = ss_daemon_set_allowed(d, p, r->allowed, r->nallowed, err, errlen);
		if (ret)
			return ret;
	}
	if (r->have_keepalive)
		ss_daemon_set_keepalive(d, p, r->keepalive);
	if (r->have_allow && ss_daemon_set_caps(d, p, true, r->allow, r->nallow)) {
		snprintf(err, errlen, "out of memory");
		return SS_ERR_NOMEM;
	}
	if (!r->have_allow && !p->has_allow)
		ss_daemon_warn_unreachable(d, p);
	if (r->reset_timestamp)
		reset_timestamp(d, p, r->identity);
	if (r->rekey)
		ss_daemon_kick(d, p);
	return 0;
}

static int apply_set(ss_daemon *d, ss_ctl_set_req *r, char *err, size_t errlen)
{
	ss_conf_peer cp = {0};
	ss_dpeer *p = ss_daemon_find(d, r->identity);
	int ret;

	/* All or nothing: check what can fail before a new peer exists. */
	if (r->endpoint && !p && ss_endpoint_check(r->endpoint)) {
		snprintf(err, errlen, "endpoint '%s': expected HOST:PORT or [V6]:PORT",
			 r->endpoint);
		return SS_ERR_FORMAT;
	}
	if (r->remove) {
		if (!p) {
			snprintf(err, errlen, "no such peer");
			return SS_ERR_NOT_FOUND;
		}
		ss_daemon_remove_peer(d, p);
		ss_log(LOG_NOTICE, "SS_TUN_SET: peer removed by the control socket");
		return 0;
	}
	/* A timestamp is forgotten only for a peer that has one: no peer is added for it. */
	if (r->reset_timestamp && !p) {
		snprintf(err, errlen, "SS_ERR_NOT_FOUND: no such peer (reset-timestamp adds none)");
		return SS_ERR_NOT_FOUND;
	}
	if (!p) {
		memcpy(cp.identity, r->identity, SS_IDENTITY_LEN);
		ret = ss_daemon_add_peer(d, &cp, &p, err, errlen);
		if (ret)
			return ret;
		ret = r->endpoint ? ss_daemon_set_endpoint(d, p, r->endpoint, err, errlen) : 0;
		if (ret) {
			ss_daemon_remove_peer(d, p);
			return ret;
		}
		ss_log(LOG_NOTICE, "SS_TUN_SET: peer added by the control socket");
	} else if (r->endpoint) {
		ret = ss_daemon_set_endpoint(d, p, r->endpoint, err, errlen);
		if (ret)
			return ret;
	}
	return apply_set_rest(d, p, r, err, errlen);
}

static void do_set(ss_daemon *d, char *body, FILE *f)
{
	/* Heap, not stack: 256 prefixes and 64 rules. */
	ss_ctl_set_req *r = calloc(1, sizeof(*r));
	char err[SS_CONF_ERR_LEN] = "out of memory";
	int ret = r ? ss_ctl_parse_set(body, r, err, sizeof(err)) : SS_ERR_NOMEM;

	if (!ret)
		ret = apply_set(d, r, err, sizeof(err));
	reply(f, ret, err);
	if (r)
		ss_ctl_set_req_clear(r);
	free(r);
}

/* ---- grant / revoke ---- */

static int apply_grant(ss_daemon *d, ss_ctl_grant_req *r, bool grant, char *err, size_t errlen)
{
	int ret;

	if (grant && !ss_daemon_find(d, r->identity)) {
		snprintf(err, errlen, "SS_ERR_NOT_FOUND: no such peer");
		return SS_ERR_NOT_FOUND;
	}
	if (grant && r->seconds > SS_GRANT_MAX_SECONDS) {
		snprintf(err, errlen, "SS_ERR_GRANT_LIMIT: %u s is over the cap of %u s",
			 r->seconds, SS_GRANT_MAX_SECONDS);
		ss_daemon_audit(d, "grant", "refuse", SS_ERR_GRANT_LIMIT, r->identity, NULL,
				"duration over the cap");
		return SS_ERR_GRANT_LIMIT;
	}
	ret = grant ? ss_daemon_grant(d, r->identity, &r->rule, r->seconds)
		    : ss_daemon_revoke(d, r->identity, r->have_rule ? &r->rule : NULL);
	if (ret == SS_ERR_GRANT_LIMIT)
		snprintf(err, errlen, "SS_ERR_GRANT_LIMIT: the grant table is full (%d)",
			 SS_GRANT_MAX);
	else if (ret == SS_ERR_NOT_FOUND)
		snprintf(err, errlen, "SS_ERR_NOT_FOUND: no such grant");
	return ret;
}

static void do_grant(ss_daemon *d, char *body, FILE *f, bool grant)
{
	ss_ctl_grant_req r;
	char err[SS_CONF_ERR_LEN] = "";
	int ret = ss_ctl_parse_grant(body, grant, &r, err, sizeof(err));

	if (!ret)
		ret = apply_grant(d, &r, grant, err, sizeof(err));
	reply(f, ret, err);
}

/* ---- sync ---- */

static void do_sync(ss_daemon *d, char *body, FILE *f)
{
	char err[SS_CONF_ERR_LEN] = "";
	ss_ctl_sync_req r;
	int ret = ss_ctl_parse_sync(body, &r, err, sizeof(err));

	if (ret) {
		ss_log(LOG_ERR, "SS_TUN_RELOAD: syncconf refused: %s", err);
		reply(f, ret, err);
		return;
	}
	ret = ss_daemon_sync(d, &r, f);
	reply(f, ret, "");
	ss_ctl_sync_req_clear(&r);
}

/* ---- trust ---- */

static void do_trust(ss_daemon *d, char *body, FILE *f)
{
	char err[SS_CONF_ERR_LEN] = "", name[300];
	int ret = ss_ctl_parse_trust(body, name, sizeof(name), err, sizeof(err));

	if (!ret)
		ret = ss_daemon_trust_reload(d, name, err, sizeof(err));
	reply(f, ret, err);
}

/* Parse and answer one request; a read that fails or times out gets no answer. */
static void serve(ss_daemon *d, char *buf, ssize_t len, FILE *f)
{
	char err[SS_CONF_ERR_LEN];
	enum ss_ctl_verb verb;
	char *body;

	if (len == SS_ERR_BUFFER) {
		kv(f, "error", "request over %d bytes",
		   !strncmp(buf, "sync\n", 5) ? SS_CTL_MAX_SYNC - 1 : SS_CTL_MAX_REQUEST - 1);
		return;
	}
	if (len < 0)
		return;
	if (ss_ctl_split(buf, (size_t)len, &verb, &body, err, sizeof(err))) {
		kv(f, "error", "%s", err);
		return;
	}
	if (verb == SS_CTL_GET)
		do_get(d, f);
	else if (verb == SS_CTL_SET)
		do_set(d, body, f);
	else if (verb == SS_CTL_SYNC)
		do_sync(d, body, f);
	else if (verb == SS_CTL_TRUST)
		do_trust(d, body, f);
	else if (verb == SS_CTL_DISCOVER) {
		ss_lan_discover(d, f);
		fputs("end\n", f);
	} else
		do_grant(d, body, f, verb == SS_CTL_GRANT);
}

/*
 * Discard what an over-long request left queued (bounded, never waiting): closing on
 * unread data resets the connection, and the client would not read why it was refused.
 */
static void drain(int fd, char *buf, size_t cap)
{
	for (int i = 0; i < 64 && recv(fd, buf, cap, MSG_DONTWAIT) > 0; i++)
		;
}

/* Only a sync (a whole file's peers) may be longer than SS_CTL_MAX_REQUEST. */
static ssize_t read_sync(int fd, char **buf)
{
	char *nb = realloc(*buf, SS_CTL_MAX_SYNC);

	if (!nb)
		return SS_ERR_BUFFER;
	*buf = nb;
	return ss_ctl_read_more(fd, nb, SS_CTL_MAX_REQUEST - 1, SS_CTL_MAX_SYNC);
}

void ss_ctl_serve(ss_daemon *d, int fd)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	char *buf;
	ssize_t len;
	FILE *f;
	int wfd;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || cred.uid != 0) {
		static const char deny[] =
			"error=permission denied: the control socket is root only\n";

		(void)!write(fd, deny, sizeof(deny) - 1);
		return;
	}
	buf = malloc(SS_CTL_MAX_REQUEST);
	wfd = dup(fd);
	f = wfd >= 0 ? fdopen(wfd, "w") : NULL;
	if (buf && f) {
		len = ss_ctl_read_request(fd, buf, SS_CTL_MAX_REQUEST);
		if (len == SS_ERR_BUFFER && !strncmp(buf, "sync\n", 5))
			len = read_sync(fd, &buf);
		if (len == SS_ERR_BUFFER)
			drain(fd, buf, SS_CTL_MAX_REQUEST);
		serve(d, buf, len, f);
	}
	if (f)
		fclose(f);
	else if (wfd >= 0)
		close(wfd);
	free(buf);
}
