/* SPDX-License-Identifier: MIT */
/* silosecd set-up and the peer table: configuration, run-time changes, reload. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <signal.h>
#include <linux/rtnetlink.h>

#include "ctllisten.h"
#include "ctlparse.h"
#include "daemon.h"
#include "log.h"
#include "netdev.h"
#include "offload.h"
#include "common/ini.h"
#include "relay.h"
#include "common/truststore.h"

static void clock_fn(void *arg, ss_time *now)
{
	(void)arg;
	now->mono_ns = ss_mono_ns();
	now->wall_ns = ss_wall_ns();
}

ss_dpeer *ss_daemon_find(ss_daemon *d, const uint8_t identity[SS_IDENTITY_LEN])
{
	ss_peer *sp = ss_peer_find(d->ctx, identity);

	return sp ? ss_peer_user(sp) : NULL;
}

static ss_dpeer *find_tofu(ss_daemon *d, const char *name)
{
	for (ss_dpeer *p = d->peers; p; p = p->next)
		if (p->tofu && !strcmp(p->name, name))
			return p;
	return NULL;
}

int ss_daemon_set_endpoint(ss_daemon *d, ss_dpeer *p, const char *endpoint, char *err,
			   size_t errlen)
{
	struct sockaddr_storage sa;
	ss_flow flow;
	/* Numeric only: names were resolved before the sandbox or by the CLI (resolve.c). */
	int ret = ss_endpoint_lookup(endpoint, true, &sa, err, errlen);

	if (ret)
		return ret;
	ss_flow_from_sockaddr(&flow, (struct sockaddr *)&sa, d->tr.port,
			      d->tr.kind == SS_TRANSPORT_UDP ? IPPROTO_UDP : SS_IP_PROTO);
	if (p->has_endpoint && !memcmp(&flow, &p->endpoint, sizeof(flow)))
		return 0;
	p->endpoint = flow;
	p->has_endpoint = true;
	ss_peer_set_flow(p->sp, &flow);
	/* Refused only by the allow list (a loopback Endpoint): it is still used. */
	if (p->cands && ss_cands_add(p->cands, &flow, SS_CAND_CONFIGURED))
		ss_log(LOG_DEBUG, "SS_ERR_CANDIDATE: Endpoint %s is not a candidate", endpoint);
	/* Sessions are bound to their flow: a moved peer needs a new handshake. */
	if (ss_peer_has_session(p->sp))
		ss_daemon_kick(d, p);
	return 0;
}

struct prefixes {
	ss_cidr c[256];
	size_t n;
	bool overflow;
};

static void collect(void *arg, int family, const uint8_t *addr, uint8_t prefix)
{
	struct prefixes *ps = arg;

	if (ps->n == sizeof(ps->c) / sizeof(ps->c[0])) {
		ps->overflow = true;
		return;
	}
	ps->c[ps->n].family = family;
	memset(ps->c[ps->n].addr, 0, 16);
	memcpy(ps->c[ps->n].addr, addr, family == AF_INET ? 4 : 16);
	ps->c[ps->n].prefix = prefix;
	ps->n++;
}

static bool cidr_in(const ss_cidr *c, const ss_cidr *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].family == c->family && set[i].prefix == c->prefix &&
		    !memcmp(set[i].addr, c->addr, c->family == AF_INET ? 4 : 16))
			return true;
	return false;
}

static void route_update(ss_daemon *d, const ss_cidr *c, bool add)
{
	ss_routes_update(d, c, add);
}

static void mask(ss_cidr *c)
{
	int n = c->family == AF_INET ? 4 : 16;

	for (int i = 0; i < n; i++) {
		int bits = c->prefix - i * 8;

		c->addr[i] = bits >= 8	? c->addr[i]
			     : bits > 0 ? c->addr[i] & (0xff << (8 - bits))
					: 0;
	}
}

int ss_daemon_set_allowed(ss_daemon *d, ss_dpeer *p, const ss_cidr *c, size_t n, char *err,
			  size_t errlen)
{
	struct prefixes *old = calloc(1, sizeof(*old));
	ss_cidr *masked = calloc(n ? n : 1, sizeof(*masked));
	int ret = 0;

	if (!old || !masked) {
		ret = SS_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		masked[i] = c[i];
		mask(&masked[i]);
	}
	ss_allowedips_walk_peer(d->aips, p, collect, old);
	ss_allowedips_remove_peer(d->aips, p);
	for (size_t i = 0; i < old->n; i++)
		if (!cidr_in(&old->c[i], masked, n))
			route_update(d, &old->c[i], false);
	for (size_t i = 0; i < n; i++) {
		ret = ss_allowedips_insert(d->aips, masked[i].family, masked[i].addr,
					   masked[i].prefix, p);
		if (ret) {
			snprintf(err, errlen, "allowed IPs: %s", ss_strerror(ret));
			goto out;
		}
		route_update(d, &masked[i], true);
	}
out:
	free(old);
	free(masked);
	return ret;
}

void ss_daemon_set_keepalive(ss_daemon *d, ss_dpeer *p, uint32_t seconds)
{
	p->keepalive = seconds;
	ss_peer_set_keepalive(p->sp, seconds);
	ss_daemon_touch(d, p);
}

/* Who this peer reaches when it has no Allow: the interface's Policy decides. */
static void update_access(ss_daemon *d, ss_dpeer *p)
{
	p->open = !p->has_allow && d->conf->policy_allow;
	p->ct.budget = d->conf->ct_per_peer;
}

int ss_daemon_set_caps(ss_daemon *d, ss_dpeer *p, bool has_allow, const ss_cap_rule *rules,
		       size_t n)
{
	ss_cap_rule *copy = NULL;

	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return SS_ERR_NOMEM;
		memcpy(copy, rules, n * sizeof(*copy));
	}
	free(p->rules);
	/* New rules from `set` are the peer's own; a sync sets origins again after this. */
	for (size_t i = 0; p->origin && i < p->nrules; i++)
		free(p->origin[i]);
	free(p->origin);
	p->origin = NULL;
	p->rules = copy;
	p->nrules = n;
	p->has_allow = has_allow;
	update_access(d, p);
	return 0;
}

void ss_daemon_warn_unreachable(ss_daemon *d, ss_dpeer *p)
{
	char f[SS_FINGERPRINT_LEN];
	const uint8_t *id = ss_peer_identity(p->sp);

	if (p->has_allow || d->conf->policy_allow)
		return;
	if (id)
		ss_fingerprint(id, f);
	ss_log(LOG_WARNING,
	       "SS_ERR_CAP_DENIED: peer %s has no Allow and Policy = deny: it reaches nothing on "
	       "this host except replies to connections this host opens (add Allow = ...)",
	       id	 ? f
	       : p->name ? p->name
			 : "(tofu)");
}

int ss_daemon_grant(ss_daemon *d, const uint8_t identity[SS_IDENTITY_LEN], const ss_cap_rule *rule,
		    uint32_t seconds)
{
	char detail[SS_CAP_RULE_STR + 32], r[SS_CAP_RULE_STR];
	uint64_t now = ss_mono_ns();
	int ret = ss_grant_add(d->grants, identity, rule, seconds, now);

	ss_cap_rule_format(rule, r, sizeof(r));
	snprintf(detail, sizeof(detail), "%s for %u s", r, seconds);
	ss_daemon_audit(d, "grant", ret ? "refuse" : "create", ret, identity, NULL, detail);
	if (ret)
		return ret;
	ss_log(LOG_NOTICE, "SS_TUN_GRANT: granted %s", detail);
	if (now + (uint64_t)seconds * SS_NS_PER_SEC < d->next_deadline)
		d->next_deadline = now + (uint64_t)seconds * SS_NS_PER_SEC;
	return 0;
}

int ss_daemon_revoke(ss_daemon *d, const uint8_t identity[SS_IDENTITY_LEN], const ss_cap_rule *rule)
{
	char r[SS_CAP_RULE_STR] = "all grants";
	int n = ss_grant_revoke(d->grants, identity, rule);

	if (rule)
		ss_cap_rule_format(rule, r, sizeof(r));
	if (!n)
		return SS_ERR_NOT_FOUND;
	ss_log(LOG_NOTICE, "SS_TUN_GRANT: revoked %s (%d)", r, n);
	ss_daemon_audit(d, "grant", "revoke", 0, identity, NULL, r);
	return 0;
}

static int trust_lookup(ss_daemon *d, const char *name, uint8_t id[SS_IDENTITY_LEN], char *err,
			size_t errlen)
{
	ss_truststore *ts;
	int ret;

	if (!d->conf->trust_store) {
		snprintf(err, errlen,
			 "peer %s uses Identity = tofu but [Interface] has no TrustStore", name);
		return SS_ERR_INVAL;
	}
	ret = ss_trust_load(d->conf->trust_store, &ts, err, errlen);
	if (ret)
		return ret;
	ret = ss_trust_lookup(ts, name, id);
	ss_trust_free(ts);
	return ret;
}

int ss_daemon_add_peer(ss_daemon *d, const ss_conf_peer *cp, ss_dpeer **out, char *err,
		       size_t errlen)
{
	uint8_t pinned[SS_IDENTITY_LEN];
	const uint8_t *id = cp->identity;
	ss_dpeer *p;
	int ret;

	p = calloc(1, sizeof(*p));
	if (!p || (cp->endpoint && !(p->name = strdup(cp->endpoint)))) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return SS_ERR_NOMEM;
	}
	p->tofu = cp->tofu;
	if (p->tofu) {
		ret = trust_lookup(d, p->name, pinned, err, errlen);
		if (ret && ret != SS_ERR_NOT_FOUND)
			goto fail;
		p->tofu_pinned = !ret;
		id = p->tofu_pinned ? pinned : NULL;
	}
	ret = p->tofu ? ss_peer_add_tofu(d->ctx, id, &p->sp) : ss_peer_add(d->ctx, id, &p->sp);
	if (ret) {
		snprintf(err, errlen, "adding peer: %s", ss_strerror(ret));
		goto fail;
	}
	ss_peer_set_user(p->sp, p);
	if (ss_reach_peer_init(d, p)) {
		ss_peer_remove(d->ctx, p->sp);
		snprintf(err, errlen, "out of memory");
		ret = SS_ERR_NOMEM;
		goto fail;
	}
	/* Keep the file's order: show lists peers as configured. */
	*d->peers_tail = p;
	d->peers_tail = &p->next;
	d->npeers++;
	if (cp->endpoint) {
		ret = ss_daemon_set_endpoint(d, p, cp->resolved ? cp->resolved : cp->endpoint, err,
					     errlen);
		if (ret)
			goto fail_linked;
	}
	ret = ss_daemon_set_allowed(d, p, cp->allowed, cp->nallowed, err, errlen);
	if (ret)
		goto fail_linked;
	ss_daemon_set_keepalive(d, p, cp->keepalive);
	p->reach.introducer = cp->introducer;
	ret = ss_reach_set_introduce(p, cp->introduce);
	if (!ret)
		ret = ss_relay_set_mode(d, p, cp->relay);
	if (!ret)
		ret = ss_daemon_set_caps(d, p, cp->has_allow, cp->allow, cp->nallow);
	if (!ret)
		ret = ss_daemon_set_meta(p, cp);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		goto fail_linked;
	}
	/* A peer with PersistentKeepalive is brought up at once, like WireGuard does. */
	if (cp->keepalive && p->has_endpoint)
		ss_daemon_kick(d, p);
	ss_daemon_touch(d, p); /* an introducer is registered with at once */
	if (out)
		*out = p;
	return 0;
fail_linked:
	ss_daemon_remove_peer(d, p);
	return ret;
fail:
	free(p->name);
	free(p);
	return ret;
}

void ss_daemon_remove_peer(ss_daemon *d, ss_dpeer *p)
{
	ss_dpeer **pp;
	char err[64];

	for (pp = &d->peers; *pp && *pp != p; pp = &(*pp)->next)
		;
	if (!*pp)
		return;
	ss_daemon_tun_flush(d);
	*pp = p->next;
	if (d->peers_tail == &p->next)
		d->peers_tail = pp;
	d->npeers--;
	(void)ss_daemon_set_allowed(d, p, NULL, 0, err, sizeof(err));
	while (p->qhead) {
		ss_qpkt *q = p->qhead;

		p->qhead = q->next;
		free(q);
		d->queued--;
	}
	if (d->ct)
		ss_ct_forget(d->ct, &p->ct);
	ss_relay_forget(d, p);
	ss_peer_remove(d->ctx, p->sp);
	ss_reach_peer_free(p);
	free(p->rules);
	ss_daemon_free_meta(p);
	free(p->name);
	free(p);
}

/* ---- set-up ---- */

/* Before touching the TUN device or the port: a second daemon must not disturb the first. */
static int check_not_running(ss_daemon *d, char *err, size_t errlen)
{
	char path[128];
	int fd = ss_ctl_connect(d->conf->name);

	if (fd < 0)
		return 0;
	close(fd);
	ss_ctl_path(d->conf->name, path, sizeof(path));
	snprintf(err, errlen, "a silosecd for %s is already running (%s answers)", d->conf->name,
		 path);
	return SS_ERR_EXISTS;
}

static int load_identity(ss_daemon *d, char *err, size_t errlen)
{
	return ss_conf_load_identity(d->conf, &d->id, err, errlen);
}

/*
 * TunRing = yes: outgoing packets through a packet ring (tunring.h). Otherwise, or when it
 * cannot be had (no CAP_NET_RAW/CAP_BPF, no AF_PACKET), TUN is read one packet at a time;
 * a drop-all filter an earlier daemon left on a persistent TUN device is removed first, or
 * nothing would be read. Opened before the link is up, so that nothing the host sends
 * right away (IPv6 neighbour discovery, early traffic) is left in the TUN queue.
 */
static void open_ring(ss_daemon *d)
{
	int ret;

	if (!d->conf->tun_ring || getenv("SILOSEC_NO_RING")) {
		ss_tunring_reset_tun(d->tun);
		return;
	}
	ret = ss_tunring_open(&d->ring, d->tun, d->ifindex, d->offload);
	if (ret) {
		ss_tunring_reset_tun(d->tun);
		ss_log(LOG_NOTICE, "no packet ring on %s (%s): reading TUN one packet at a time",
		       d->conf->name, strerror(-ret));
	}
}

static int setup_netdev(ss_daemon *d, char *err, size_t errlen)
{
	char a[64];
	int ret;

	d->offload = !getenv("SILOSEC_NO_OFFLOAD");
	d->tun = ss_tun_open(d->conf->name, &d->offload);
	if (d->tun < 0) {
		snprintf(err, errlen, "creating TUN device %s: %s", d->conf->name,
			 strerror(-d->tun));
		return SS_ERR_IO;
	}
	/* Decrypted UDP datagrams of one flow go back in one write when TUN takes USO. */
	ss_gro_set_uso(d->gro, ss_tun_uso(d->tun));
	d->nl = ss_nl_open();
	d->ifindex = ss_nl_ifindex(d->conf->name);
	if (d->nl < 0 || d->ifindex < 0) {
		snprintf(err, errlen, "rtnetlink: %s", strerror(d->nl < 0 ? -d->nl : -d->ifindex));
		return SS_ERR_IO;
	}
	for (size_t i = 0; i < d->conf->naddrs; i++) {
		ret = ss_nl_addr_add(d->nl, d->ifindex, &d->conf->addrs[i]);
		if (ret) {
			ss_cidr_format(&d->conf->addrs[i], a, sizeof(a));
			snprintf(err, errlen, "adding address %s to %s: %s", a, d->conf->name,
				 strerror(-ret));
			return SS_ERR_IO;
		}
	}
	open_ring(d);
	ret = ss_nl_link_up(d->nl, d->ifindex, d->conf->mtu);
	if (ret) {
		snprintf(err, errlen, "bringing %s up with MTU %u: %s", d->conf->name, d->conf->mtu,
			 strerror(-ret));
		return SS_ERR_IO;
	}
	/* Bound while the device was down, the ring's socket holds ENETDOWN: clear it. */
	ss_tunring_clear_error(&d->ring);
	return 0;
}

static int open_events(ss_daemon *d)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
				 .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR};

	d->nl_events = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (d->nl_events < 0 || bind(d->nl_events, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

static int watch(ss_daemon *d, int fd, uint32_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};

	return fd < 0 ? 0 : epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int setup_loop(ss_daemon *d, char *err, size_t errlen)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->ctl = ss_ctl_listen(d->conf->name);
	if (d->ctl < 0) {
		char path[128];

		ss_ctl_path(d->conf->name, path, sizeof(path));
		snprintf(err, errlen, "control socket %s: %s", path,
			 d->ctl == -EADDRINUSE ? "a daemon for this interface is running"
					       : strerror(-d->ctl));
		return SS_ERR_IO;
	}
	if (open_events(d) < 0)
		ss_log(LOG_WARNING, "no address-change events (%s): roaming relies on timers",
		       strerror(errno));
	if (d->sigfd < 0 || d->epfd < 0 || watch(d, d->ring.fd >= 0 ? d->ring.fd : d->tun, 1) ||
	    watch(d, d->tr.fd[0], 2) || watch(d, d->tr.fd[1], 3) || watch(d, d->ctl, 4) ||
	    watch(d, d->sigfd, 5) || watch(d, d->nl_events, 6) || watch(d, d->lan.fd4, 7) ||
	    watch(d, d->lan.fd6, 8)) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		return SS_ERR_IO;
	}
	return 0;
}

static int setup_core(ss_daemon *d, char *err, size_t errlen)
{
	ss_ctx_config cc = {
		.identity = d->id,
		.clock = clock_fn,
		.random = ss_random_system,
		.max_peers = (uint32_t)(d->conf->npeers + 1024),
		.accept_anonymous = d->conf->accept_anonymous,
	};
	int ret = ss_ctx_create(&d->ctx, &cc);

	if (!ret)
		ret = ss_allowedips_create(&d->aips);
	if (ret)
		snprintf(err, errlen, "initializing: %s", ss_strerror(ret));
	d->buf_in = malloc(SS_MAX_PACKET + 64);
	d->seg = malloc(SS_MAX_PLAINTEXT);
	d->gro = malloc(sizeof(*d->gro));
	if (d->gro)
		ss_gro_init(d->gro);
	d->buf_out = malloc(SS_MAX_PACKET + 64);
	d->grants = calloc(1, sizeof(*d->grants));
	if (!ret) {
		uint64_t seed = 0;

		(void)ss_random_system(NULL, (uint8_t *)&seed, sizeof(seed));
		ret = ss_ct_create(&d->ct, SS_CT_DEFAULT_SIZE, seed);
	}
	if (!ret && (ss_txbatch_init(&d->txb, d->conf->mtu + SS_DATA_OVERHEAD + 64) ||
		     ss_rxbatch_init(&d->rxb, SS_MAX_PACKET) || !d->buf_in || !d->buf_out ||
		     !d->seg || !d->gro || !d->grants)) {
		snprintf(err, errlen, "out of memory");
		ret = SS_ERR_NOMEM;
	}
	return ret;
}

static int setup_transport(ss_daemon *d, char *err, size_t errlen)
{
	uint16_t port = d->conf->listen_port ? d->conf->listen_port : SS_CONF_DEFAULT_PORT;
	int ret = ss_transport_open(&d->tr, d->conf->transport, port);

	if (!ret && (ret = ss_routes_mark(d)) != 0) {
		snprintf(err, errlen, "FwMark %u on the transport: %s", ss_conf_fwmark(d->conf),
			 strerror(-ret));
		return SS_ERR_IO;
	}
	if (ret)
		snprintf(err, errlen, "%s socket%s: %s",
			 d->conf->transport == SS_TRANSPORT_UDP ? "UDP" : "raw IP protocol 99",
			 d->conf->transport == SS_TRANSPORT_UDP ? " (ListenPort)" : "",
			 strerror(-ret));
	return ret ? SS_ERR_IO : 0;
}

int ss_daemon_init(ss_daemon *d, ss_conf *conf, const char *conf_path, char *err, size_t errlen)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->conf = conf;
	d->conf_path = conf_path;
	d->tun = d->nl = d->nl_events = d->ctl = d->epfd = d->sigfd = -1;
	d->ring.fd = -1;
	d->tr.fd[0] = d->tr.fd[1] = -1;
	d->lan.fd4 = d->lan.fd6 = d->lan.nl = -1;
	d->next_deadline = UINT64_MAX;
	d->peers_tail = &d->peers;
	ret = check_not_running(d, err, errlen);
	if (!ret)
		ret = load_identity(d, err, errlen);
	if (!ret)
		ret = setup_core(d, err, errlen);
	if (!ret && ss_relay_init(d)) {
		snprintf(err, errlen, "out of memory");
		ret = SS_ERR_NOMEM;
	}
	if (!ret)
		ret = setup_transport(d, err, errlen);
	if (!ret)
		ret = setup_netdev(d, err, errlen);
	if (!ret && ss_reach_setup(d)) {
		snprintf(err, errlen, "candidate policy: too many CandidateAllow prefixes");
		ret = SS_ERR_INVAL;
	}
	if (!ret)
		ret = ss_lan_open(d, err, errlen);
	for (size_t i = 0; !ret && i < conf->npeers; i++) {
		char e[SS_CONF_ERR_LEN];

		ss_dpeer *p = NULL;

		ret = ss_daemon_add_peer(d, &conf->peers[i], &p, e, sizeof(e));
		if (!ret)
			ss_daemon_warn_unreachable(d, p);
		if (ret)
			snprintf(err, errlen, "%s:%u: %s", conf->path, conf->peers[i].line, e);
	}
	if (!ret)
		ret = setup_loop(d, err, errlen);
	return ret;
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

void ss_daemon_free(ss_daemon *d)
{
	char path[128];

	while (d->peers)
		ss_daemon_remove_peer(d, d->peers);
	ss_routes_cleanup(d);
	if (d->ctl >= 0 && !ss_ctl_path(d->conf->name, path, sizeof(path)))
		unlink(path);
	/* The TUN device goes away with its fd; its filter needs no reset (nor may it: seccomp). */
	ss_tunring_close(&d->ring, -1);
	close_fd(d->tun);
	close_fd(d->nl);
	close_fd(d->nl_events);
	close_fd(d->ctl);
	close_fd(d->epfd);
	close_fd(d->sigfd);
	ss_transport_close(&d->tr);
	ss_relay_free(d);
	ss_lan_close(&d->lan);
	ss_allowedips_free(d->aips);
	ss_ctx_free(d->ctx);
	ss_identity_free(d->id);
	free(d->buf_in);
	free(d->buf_out);
	free(d->seg);
	free(d->gro);
	free(d->grants);
	ss_ct_free(d->ct);
	ss_txbatch_free(&d->txb);
	ss_rxbatch_free(&d->rxb);
	ss_conf_free(d->conf);
	memset(d, 0, sizeof(*d));
}

/* ---- syncconf: apply a file root parsed, keeping sessions of unchanged peers ---- */

static void note(FILE *f, const char *key, const char *fmt, const char *a, const char *b)
{
	char msg[SS_CONF_ERR_LEN + 64];

	snprintf(msg, sizeof(msg), fmt, a, b);
	ss_log(LOG_WARNING, "SS_TUN_RELOAD: %s", msg);
	if (f)
		fprintf(f, "%s=%s\n", key, msg);
}

static bool same_addrs(const ss_conf *a, const ss_conf *b)
{
	return a->naddrs == b->naddrs &&
	       (!a->naddrs || !memcmp(a->addrs, b->addrs, a->naddrs * sizeof(*a->addrs)));
}

/*
 * [Interface] keys the running daemon cannot take (its key, sockets, device, trust
 * store): named in a warning each and left as they run; [Peer] changes still apply.
 */
static void iface_changed(ss_daemon *d, const ss_ctl_sync_req *r, FILE *f)
{
	const ss_conf *a = d->conf, *b = r->conf;
	static const char *const fmt = "%s changed in the file: restart silosecd to apply it%s";
	const struct {
		unsigned key;
		const char *name;
		bool changed;
	} keys[] = {
		{SS_SYNC_IDENTITY, "PrivateKey",
		 memcmp(r->identity, ss_identity_public(d->id), SS_IDENTITY_LEN) != 0},
		{SS_SYNC_TRANSPORT, "Transport", a->transport != b->transport},
		{SS_SYNC_LISTEN_PORT, "ListenPort", a->listen_port != b->listen_port},
		{SS_SYNC_MTU, "MTU", a->mtu != b->mtu},
		{SS_SYNC_ADDRESS, "Address", !same_addrs(a, b)},
		{SS_SYNC_TRUST_STORE, "TrustStore",
		 strcmp(a->trust_store ? a->trust_store : "",
			b->trust_store ? b->trust_store : "") != 0},
		{SS_SYNC_ACCEPT_TOFU, "AcceptTofu", a->accept_anonymous != b->accept_anonymous},
		{SS_SYNC_TUN_RING, "TunRing", a->tun_ring != b->tun_ring},
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((r->given & keys[i].key) && keys[i].changed)
			note(f, "warning", fmt, keys[i].name, "; applying [Peer] changes only");
}

static ss_dpeer *match(ss_daemon *d, const ss_conf_peer *cp)
{
	return cp->tofu ? find_tofu(d, cp->endpoint) : ss_daemon_find(d, cp->identity);
}

static int apply_peer(ss_daemon *d, ss_dpeer *p, const ss_conf_peer *cp, char *err, size_t errlen)
{
	int ret = 0;

	if (cp->endpoint)
		ret = ss_daemon_set_endpoint(d, p, cp->resolved ? cp->resolved : cp->endpoint, err,
					     errlen);
	if (!ret)
		ret = ss_daemon_set_allowed(d, p, cp->allowed, cp->nallowed, err, errlen);
	if (!ret) {
		ss_daemon_set_keepalive(d, p, cp->keepalive);
		ret = ss_reach_sync_peer(d, p, cp);
	}
	if (!ret)
		ret = ss_daemon_set_caps(d, p, cp->has_allow, cp->allow, cp->nallow);
	if (!ret && ss_daemon_set_meta(p, cp)) {
		snprintf(err, errlen, "out of memory");
		ret = SS_ERR_NOMEM;
	}
	return ret;
}

/* Add, change and keep the peers of nc; those it lacks go afterwards. */
static void sync_peers(ss_daemon *d, const ss_conf *nc, FILE *f)
{
	char err[SS_CONF_ERR_LEN], line[24];
	ss_dpeer *p;
	int ret;

	for (p = d->peers; p; p = p->next)
		p->seen = false;
	for (size_t i = 0; i < nc->npeers; i++) {
		const ss_conf_peer *cp = &nc->peers[i];

		p = match(d, cp);
		if (p) {
			/* A peer that exists stays, even if part of its new settings failed. */
			p->seen = true;
			ret = apply_peer(d, p, cp, err, sizeof(err));
		} else {
			ret = ss_daemon_add_peer(d, cp, &p, err, sizeof(err));
			if (!ret)
				p->seen = true;
		}
		snprintf(line, sizeof(line), "%zu", i + 1);
		if (ret)
			note(f, "peer_error", "peer %s of the file: %s", line, err);
	}
	for (ss_dpeer *next, *q = d->peers; q; q = next) {
		next = q->next;
		if (!q->seen)
			ss_daemon_remove_peer(d, q);
	}
}

int ss_daemon_sync(ss_daemon *d, const ss_ctl_sync_req *r, FILE *f)
{
	const ss_conf *nc = r->conf;

	iface_changed(d, r, f);
	sync_peers(d, nc, f);
	/* LanDiscovery, AdvertiseLocal, Private, CandidateAllow: refused= lines when refused. */
	(void)ss_reach_sync_iface(d, nc, r->given, f);
	/* Policy and ConntrackPerPeer apply at once; grants live on in d->grants. */
	if (r->given & SS_SYNC_POLICY)
		d->conf->policy_allow = nc->policy_allow;
	if (r->given & SS_SYNC_CT_PER_PEER)
		d->conf->ct_per_peer = nc->ct_per_peer;
	for (ss_dpeer *p = d->peers; p; p = p->next) {
		update_access(d, p);
		ss_daemon_warn_unreachable(d, p);
	}
	ss_log(LOG_NOTICE, "SS_TUN_RELOAD: %s reloaded by syncconf: %u peers", d->conf->name,
	       d->npeers);
	return 0;
}
