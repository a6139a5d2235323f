/* SPDX-License-Identifier: MIT */
/*
 * The daemon's side of the control socket. "get" dumps the interface and every peer as
 * key=value lines; "set" changes peers at run time. One request per connection; the
 * socket is root-only (0600 in a 0700 directory) and the peer's uid is checked too.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "ctlsock.h"
#include "daemon.h"
#include "log.h"

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
	put_access(d, f, p, id);
	put_drops(f, st.drops, p->drops);
}

static void do_get(ss_daemon *d, FILE *f)
{
	char b64[SS_B64_KEY_LEN];
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
	put_drops(f, cs.drops, d->drops);
	for (ss_dpeer *p = d->peers; p; p = p->next)
		put_peer(d, f, p);
	fputs("end\n", f);
}

/* ---- set ---- */

struct set_req {
	uint8_t identity[SS_IDENTITY_LEN];
	bool have_peer, remove, replace_allowed, have_keepalive, rekey, have_allow;
	ss_cap_rule allow[SS_CAP_MAX_RULES];
	size_t nallow;
	char *endpoint;
	ss_cidr allowed[256];
	size_t nallowed;
	uint32_t keepalive;
};

static int parse_set_line(struct set_req *r, char *key, char *val, char *err, size_t errlen)
{
	if (!strcmp(key, "peer")) {
		if (r->have_peer || ss_key_from_base64(val, r->identity)) {
			snprintf(err, errlen,
				 "peer: '%s' is not a base64 identity (one per request)", val);
			return -1;
		}
		r->have_peer = true;
	} else if (!strcmp(key, "remove")) {
		r->remove = !strcmp(val, "true");
	} else if (!strcmp(key, "rekey")) {
		r->rekey = !strcmp(val, "true");
	} else if (!strcmp(key, "endpoint")) {
		free(r->endpoint);
		r->endpoint = strdup(val);
	} else if (!strcmp(key, "replace_allowed_ips")) {
		r->replace_allowed = !strcmp(val, "true");
	} else if (!strcmp(key, "allowed_ip")) {
		if (r->nallowed == sizeof(r->allowed) / sizeof(r->allowed[0]) ||
		    ss_cidr_parse(val, &r->allowed[r->nallowed])) {
			snprintf(err, errlen, "allowed-ips: '%s' is not an address/prefix", val);
			return -1;
		}
		r->nallowed++;
		r->replace_allowed = true;
	} else if (!strcmp(key, "allow")) {
		char why[160];

		r->have_allow = true;
		if (strcmp(val, "none") && ss_cap_list_parse(val, r->allow, SS_CAP_MAX_RULES,
							     &r->nallow, why, sizeof(why))) {
			snprintf(err, errlen, "allow: %s", why);
			return -1;
		}
	} else if (!strcmp(key, "persistent_keepalive")) {
		char *end;
		unsigned long v = strtoul(val, &end, 10);

		if (!strcmp(val, "off"))
			v = 0;
		else if (*end || !*val || v > 65535) {
			snprintf(err, errlen, "persistent-keepalive: '%s' is not 0..65535 or off",
				 val);
			return -1;
		}
		r->keepalive = (uint32_t)v;
		r->have_keepalive = true;
	} else {
		snprintf(err, errlen, "unknown key '%s'", key);
		return -1;
	}
	return 0;
}

static int apply_set(ss_daemon *d, struct set_req *r, char *err, size_t errlen)
{
	ss_conf_peer cp = {0};
	ss_dpeer *p;

	if (!r->have_peer) {
		snprintf(err, errlen, "set: no peer given");
		return -1;
	}
	p = ss_daemon_find(d, r->identity);
	/* All or nothing: check what can fail before a new peer exists. */
	if (r->endpoint && !p && ss_endpoint_check(r->endpoint)) {
		snprintf(err, errlen, "endpoint '%s': expected HOST:PORT or [V6]:PORT",
			 r->endpoint);
		return -1;
	}
	if (r->remove) {
		if (!p) {
			snprintf(err, errlen, "no such peer");
			return -1;
		}
		ss_daemon_remove_peer(d, p);
		ss_log(LOG_NOTICE, "SS_TUN_SET: peer removed by the control socket");
		return 0;
	}
	if (!p) {
		memcpy(cp.identity, r->identity, SS_IDENTITY_LEN);
		if (ss_daemon_add_peer(d, &cp, &p, err, errlen))
			return -1;
		if (r->endpoint && ss_daemon_set_endpoint(d, p, r->endpoint, err, errlen)) {
			ss_daemon_remove_peer(d, p);
			return -1;
		}
		ss_log(LOG_NOTICE, "SS_TUN_SET: peer added by the control socket");
	} else if (r->endpoint && ss_daemon_set_endpoint(d, p, r->endpoint, err, errlen)) {
		return -1;
	}
	if (r->replace_allowed && ss_daemon_set_allowed(d, p, r->allowed, r->nallowed, err, errlen))
		return -1;
	if (r->have_keepalive)
		ss_daemon_set_keepalive(d, p, r->keepalive);
	if (r->have_allow && ss_daemon_set_caps(d, p, true, r->allow, r->nallow)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!r->have_allow && !p->has_allow)
		ss_daemon_warn_unreachable(d, p);
	if (r->rekey)
		ss_daemon_kick(d, p);
	return 0;
}

static int do_set(ss_daemon *d, char *body, FILE *f)
{
	struct set_req *r = calloc(1, sizeof(*r));
	char err[SS_CONF_ERR_LEN] = "";
	char *save, *line;
	int ret = 0;

	if (!r)
		return -1;
	for (line = strtok_r(body, "\n", &save); line && !ret; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (!eq) {
			snprintf(err, sizeof(err), "malformed line '%.64s'", line);
			ret = -1;
			break;
		}
		*eq = 0;
		ret = parse_set_line(r, line, eq + 1, err, sizeof(err));
	}
	if (!ret)
		ret = apply_set(d, r, err, sizeof(err));
	if (ret)
		kv(f, "error", "%s", err);
	else
		fputs("end\n", f);
	free(r->endpoint);
	free(r);
	return ret;
}

/* ---- grant / revoke ---- */

struct grant_req {
	uint8_t identity[SS_IDENTITY_LEN];
	bool have_peer, have_rule;
	ss_cap_rule rule;
	uint32_t seconds;
};

static int parse_grant_line(struct grant_req *r, const char *key, const char *val, char *err,
			    size_t errlen)
{
	char why[160];

	if (!strcmp(key, "peer")) {
		if (r->have_peer || ss_key_from_base64(val, r->identity)) {
			snprintf(err, errlen, "peer: '%.64s' is not a base64 identity", val);
			return -1;
		}
		r->have_peer = true;
	} else if (!strcmp(key, "rule")) {
		if (r->have_rule || ss_cap_rule_parse(val, &r->rule, why, sizeof(why))) {
			snprintf(err, errlen, "rule: %s", r->have_rule ? "one per request" : why);
			return -1;
		}
		r->have_rule = true;
	} else if (!strcmp(key, "seconds")) {
		if (ss_duration_parse(val, &r->seconds)) {
			snprintf(err, errlen, "seconds: '%.32s' is not a duration", val);
			return -1;
		}
	} else {
		snprintf(err, errlen, "unknown key '%.32s'", key);
		return -1;
	}
	return 0;
}

static int apply_grant(ss_daemon *d, struct grant_req *r, bool grant, char *err, size_t errlen)
{
	int ret;

	if (!r->have_peer || (grant && (!r->have_rule || !r->seconds))) {
		snprintf(err, errlen, "%s: needs peer=%s", grant ? "grant" : "revoke",
			 grant ? ", rule= and seconds=" : "");
		return -1;
	}
	if (grant && !ss_daemon_find(d, r->identity)) {
		snprintf(err, errlen, "SS_ERR_NOT_FOUND: no such peer");
		return -1;
	}
	if (grant && r->seconds > SS_GRANT_MAX_SECONDS) {
		snprintf(err, errlen, "SS_ERR_GRANT_LIMIT: %u s is over the cap of %u s",
			 r->seconds, SS_GRANT_MAX_SECONDS);
		ss_daemon_audit(d, "grant", "refuse", SS_ERR_GRANT_LIMIT, r->identity, NULL,
				"duration over the cap");
		return -1;
	}
	ret = grant ? ss_daemon_grant(d, r->identity, &r->rule, r->seconds)
		    : ss_daemon_revoke(d, r->identity, r->have_rule ? &r->rule : NULL);
	if (ret == SS_ERR_GRANT_LIMIT)
		snprintf(err, errlen, "SS_ERR_GRANT_LIMIT: the grant table is full (%d)",
			 SS_GRANT_MAX);
	else if (ret == SS_ERR_NOT_FOUND)
		snprintf(err, errlen, "SS_ERR_NOT_FOUND: no such grant");
	return ret ? -1 : 0;
}

static void do_grant(ss_daemon *d, char *body, FILE *f, bool grant)
{
	struct grant_req r = {0};
	char err[SS_CONF_ERR_LEN] = "";
	char *save, *line;
	int ret = 0;

	for (line = strtok_r(body, "\n", &save); line && !ret; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (!eq) {
			snprintf(err, sizeof(err), "malformed line '%.64s'", line);
			ret = -1;
			break;
		}
		*eq = 0;
		ret = parse_grant_line(&r, line, eq + 1, err, sizeof(err));
	}
	if (!ret)
		ret = apply_grant(d, &r, grant, err, sizeof(err));
	if (ret)
		kv(f, "error", "%s", err);
	else
		fputs("end\n", f);
}

/* Read the request: up to an empty line or EOF, with a deadline. */
static ssize_t read_request(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	while (len + 1 < cap) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&pfd, 1, 2000) <= 0)
			return -1;
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
		buf[len] = 0;
		if (strstr(buf, "\n\n"))
			break;
	}
	buf[len] = 0;
	return (ssize_t)len;
}

void ss_ctl_serve(ss_daemon *d, int fd)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	char *buf, *body;
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
	if (!buf || !f || read_request(fd, buf, SS_CTL_MAX_REQUEST) < 0)
		goto out;
	body = strchr(buf, '\n');
	if (body)
		*body++ = 0;
	if (!strcmp(buf, "get"))
		do_get(d, f);
	else if (!strcmp(buf, "set") && body)
		do_set(d, body, f);
	else if ((!strcmp(buf, "grant") || !strcmp(buf, "revoke")) && body)
		do_grant(d, body, f, !strcmp(buf, "grant"));
	else
		kv(f, "error", "unknown request '%.32s'", buf);
out:
	if (f)
		fclose(f);
	else if (wfd >= 0)
		close(wfd);
	free(buf);
}
