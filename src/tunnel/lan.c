/* SPDX-License-Identifier: MIT */
/*
 * LAN discovery's I/O (lan.h). An announcement only ever yields a candidate address for
 * a configured peer, or a line in the open-mode table for the operator to look at: the
 * handshake decides who is there, and nothing is sent back, so a flood costs us bounded
 * CPU (SS_LAN_PER_SEC examined) and memory (SS_LAN_OPEN_TABLE entries), and amplifies
 * nothing.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "common/endian.h"
#include "daemon.h"
#include "lan.h"
#include "log.h"

static const char *const drop_names[SS_LAN_D_COUNT] = {
	"SS_ERR_MALFORMED", "SS_TUN_LAN_OFFLINK", "SS_ERR_REACH_RATE",
	"SS_ERR_LAN_SPOOF", "SS_ERR_REFLECTION",  "SS_ERR_CANDIDATE",
};

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

struct sockopt {
	int level, name, value;
};

/* One socket per daemon on the host may listen (SO_REUSEADDR): broadcasts reach them all. */
static const struct sockopt opts4[] = {
	{SOL_SOCKET, SO_REUSEADDR, 1},
	{SOL_SOCKET, SO_BROADCAST, 1},
	{IPPROTO_IP, IP_TTL, 1},
	{IPPROTO_IP, IP_PKTINFO, 1},
};
/* clang-format off */
static const struct sockopt opts6[] = {
	{SOL_SOCKET, SO_REUSEADDR, 1},
	{IPPROTO_IPV6, IPV6_V6ONLY, 1},
	{IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 1},
	{IPPROTO_IPV6, IPV6_UNICAST_HOPS, 1},
	{IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0},
	{IPPROTO_IPV6, IPV6_RECVPKTINFO, 1},
};
/* clang-format on */

/* The LAN port's UDP socket of family (AF_INET or AF_INET6), or -errno. */
static int open_family(int family)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} sa = {0};
	bool v4 = family == AF_INET;
	const struct sockopt *o = v4 ? opts4 : opts6;
	size_t n = v4 ? sizeof(opts4) / sizeof(opts4[0]) : sizeof(opts6) / sizeof(opts6[0]);
	socklen_t salen = v4 ? sizeof(sa.in) : sizeof(sa.in6);
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -errno;
	if (v4) {
		sa.in.sin_family = AF_INET;
		sa.in.sin_port = htons(SS_LAN_PORT);
	} else {
		sa.in6.sin6_family = AF_INET6;
		sa.in6.sin6_port = htons(SS_LAN_PORT);
	}
	for (size_t i = 0; i < n; i++)
		if (setsockopt(fd, o[i].level, o[i].name, &o[i].value, sizeof(o[i].value)) < 0)
			goto fail;
	if (bind(fd, &sa.sa, salen) == 0)
		return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

/* ---- our interfaces and their prefixes (rtnetlink dump) ---- */

struct dump {
	ss_lan *l;
	int tun;
};

static void add_if(uint32_t *ifs, size_t *n, uint32_t ifindex)
{
	for (size_t i = 0; i < *n; i++)
		if (ifs[i] == ifindex)
			return;
	if (*n < SS_LAN_MAX_IFACES)
		ifs[(*n)++] = ifindex;
}

static int addr_cb(const struct nlmsghdr *h, void *arg)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(h);
	struct dump *dp = arg;
	ss_lan *l = dp->l;
	const struct nlattr *a, *local = NULL, *addr = NULL;
	ss_lan_prefix *p;

	if (h->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index == dp->tun ||
	    ifa->ifa_scope == RT_SCOPE_HOST)
		return MNL_CB_OK;
	mnl_attr_for_each(a, h, sizeof(*ifa))
	{
		if (mnl_attr_get_type(a) == IFA_LOCAL)
			local = a;
		else if (mnl_attr_get_type(a) == IFA_ADDRESS)
			addr = a;
	}
	a = local ? local : addr;
	if (!a || l->npfx == SS_LAN_MAX_PREFIXES)
		return MNL_CB_OK;
	p = &l->pfx[l->npfx];
	memset(p, 0, sizeof(*p));
	p->ifindex = ifa->ifa_index;
	if (ifa->ifa_family == AF_INET && mnl_attr_get_payload_len(a) == 4) {
		memcpy(p->addr, v4mapped, 12);
		memcpy(p->addr + 12, mnl_attr_get_payload(a), 4);
		p->len = (uint8_t)(96 + ifa->ifa_prefixlen);
		add_if(l->ifs4, &l->nifs4, ifa->ifa_index);
	} else if (ifa->ifa_family == AF_INET6 && mnl_attr_get_payload_len(a) == 16) {
		memcpy(p->addr, mnl_attr_get_payload(a), 16);
		p->len = ifa->ifa_prefixlen;
		if (ifa->ifa_scope == RT_SCOPE_LINK)
			add_if(l->ifs6, &l->nifs6, ifa->ifa_index);
	} else {
		return MNL_CB_OK;
	}
	l->npfx++;
	return MNL_CB_OK;
}

static int dump_addrs(ss_lan *l, int tun)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	struct dump dp = {l, tun};
	unsigned seq = (unsigned)time(NULL);
	struct ifaddrmsg *ifa;
	int ret;

	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	if (sendto(l->nl, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	l->npfx = l->nifs4 = l->nifs6 = 0;
	do {
		ssize_t n = recv(l->nl, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		ret = mnl_cb_run(buf, (size_t)n, seq, 0, addr_cb, &dp);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

/* Join the IPv6 group on every interface with a link-local address (again is harmless). */
static void join6(ss_lan *l)
{
	struct ipv6_mreq mr;

	if (l->fd6 < 0)
		return;
	inet_pton(AF_INET6, SS_LAN_GROUP6, &mr.ipv6mr_multiaddr);
	for (size_t i = 0; i < l->nifs6; i++) {
		mr.ipv6mr_interface = l->ifs6[i];
		if (setsockopt(l->fd6, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)) < 0 &&
		    errno != EADDRINUSE)
			ss_log(LOG_INFO, "LanDiscovery: joining %s on interface %u: %s",
			       SS_LAN_GROUP6, l->ifs6[i], strerror(errno));
	}
}

static void refresh(ss_daemon *d)
{
	int ret = dump_addrs(&d->lan, d->ifindex);

	if (ret)
		ss_log(LOG_WARNING, "LanDiscovery: listing addresses: %s", strerror(-ret));
	join6(&d->lan);
}

int ss_lan_open(ss_daemon *d, char *err, size_t errlen)
{
	ss_lan *l = &d->lan;
	int ret;

	l->mode = d->conf->lan_discovery;
	if (l->mode == SS_LAN_OFF)
		return 0;
	l->fd4 = open_family(AF_INET);
	l->fd6 = open_family(AF_INET6);
	l->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ret = ss_rl_create(&l->rl, 1024, SS_LAN_SRC_PER_SEC, SS_LAN_SRC_BURST, NULL);
	if (!ret)
		ret = ss_rl_rate_init(&l->all, SS_LAN_PER_SEC, SS_LAN_PER_SEC);
	if ((l->fd4 < 0 && l->fd6 < 0) || l->nl < 0 || ret) {
		snprintf(err, errlen, "LanDiscovery: UDP port %u: %s", SS_LAN_PORT,
			 ret	      ? ss_strerror(ret)
			 : l->fd4 < 0 ? strerror(-l->fd4)
				      : strerror(errno));
		return SS_ERR_IO;
	}
	refresh(d);
	l->next_announce = 0;
	d->next_deadline = 0;
	return 0;
}

void ss_lan_close(ss_lan *l)
{
	if (l->fd4 >= 0)
		close(l->fd4);
	if (l->fd6 >= 0)
		close(l->fd6);
	if (l->nl >= 0)
		close(l->nl);
	ss_rl_free(l->rl);
	l->fd4 = l->fd6 = l->nl = -1;
	l->rl = NULL;
}

/* ---- sending ---- */

static void send4(ss_lan *l, const uint8_t *pkt, size_t len, uint32_t ifindex)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(SS_LAN_PORT)};
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {(void *)pkt, len};
	struct msghdr m = {.msg_name = &sa,
			   .msg_namelen = sizeof(sa),
			   .msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl.buf,
			   .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	struct in_pktinfo pi = {.ipi_ifindex = (int)ifindex};

	sa.sin_addr.s_addr = htonl(INADDR_BROADCAST);
	memset(ctl.buf, 0, sizeof(ctl.buf));
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	if (sendmsg(l->fd4, &m, 0) == (ssize_t)len)
		l->announced++;
}

static void send6(ss_lan *l, const uint8_t *pkt, size_t len, uint32_t ifindex)
{
	struct sockaddr_in6 sa = {
		.sin6_family = AF_INET6, .sin6_port = htons(SS_LAN_PORT), .sin6_scope_id = ifindex};

	inet_pton(AF_INET6, SS_LAN_GROUP6, &sa.sin6_addr);
	if (sendto(l->fd6, pkt, len, 0, (struct sockaddr *)&sa, sizeof(sa)) == (ssize_t)len)
		l->announced++;
}

/* One announcement per send, each with its own time: a peer that hears us on two
 * interfaces or families takes both (times must increase per peer). */
static void announce(ss_daemon *d)
{
	ss_lan *l = &d->lan;
	uint8_t pkt[SS_LAN_OPEN_LEN];
	/* Raw IP has no port, but the field must not be zero: ours by default. */
	uint16_t port = d->tr.port ? d->tr.port : SS_CONF_DEFAULT_PORT;
	enum ss_lan_mode mode = l->mode == SS_LAN_MODE_OPEN ? SS_LAN_OPEN : SS_LAN_PEERS;
	size_t len;

	for (size_t i = 0; l->fd4 >= 0 && i < l->nifs4; i++)
		if (!ss_lan_build(d->ctx, mode, port, pkt, sizeof(pkt), &len))
			send4(l, pkt, len, l->ifs4[i]);
	for (size_t i = 0; l->fd6 >= 0 && i < l->nifs6; i++)
		if (!ss_lan_build(d->ctx, mode, port, pkt, sizeof(pkt), &len))
			send6(l, pkt, len, l->ifs6[i]);
}

uint64_t ss_lan_tick(ss_daemon *d, uint64_t now)
{
	ss_lan *l = &d->lan;

	if (l->mode == SS_LAN_OFF)
		return UINT64_MAX;
	if (now >= l->next_announce) {
		announce(d);
		l->last_announce = now;
		l->next_announce = now + SS_LAN_INTERVAL;
	}
	return l->next_announce;
}

void ss_lan_addrs_changed(ss_daemon *d)
{
	ss_lan *l = &d->lan;
	uint64_t now = ss_mono_ns(), at;

	if (l->mode == SS_LAN_OFF)
		return;
	refresh(d);
	/* Renumbering comes in bursts of events: one announcement for the burst. */
	at = l->last_announce + SS_LAN_CHANGE_GAP > now ? l->last_announce + SS_LAN_CHANGE_GAP
							: now;
	if (at < l->next_announce)
		l->next_announce = at;
	if (at < d->next_deadline)
		d->next_deadline = at;
}

/* ---- receiving ---- */

static void drop(ss_lan *l, int code)
{
	switch (code) {
	case SS_ERR_MALFORMED:
		l->drops[SS_LAN_D_MALFORMED]++;
		break;
	case SS_ERR_REACH_RATE:
		l->drops[SS_LAN_D_RATE]++;
		break;
	case SS_ERR_REFLECTION:
		l->drops[SS_LAN_D_REFLECTION]++;
		break;
	case SS_ERR_CANDIDATE:
		l->drops[SS_LAN_D_CANDIDATE]++;
		break;
	default:
		l->drops[SS_LAN_D_SPOOF]++;
	}
}

/* Cheapest first: the rates come before any cryptography (PROTOCOL.md 16.9 step 2). */
static int admit(ss_lan *l, const uint8_t addr[16], uint64_t now)
{
	ss_rl_key k;

	if (!ss_rl_bucket_ready(&l->all, l->tat, now))
		return SS_ERR_REACH_RATE;
	if (ss_rl_key_ip(&k, AF_INET6, addr) || !ss_rl_allow(l->rl, &k, now))
		return SS_ERR_REACH_RATE;
	(void)ss_rl_bucket_take(&l->all, &l->tat, now);
	return 0;
}

/*
 * A configured peer announced itself at addr: its address and announced port become a
 * candidate. Times must increase per peer, so a replayed announcement changes nothing.
 */
static int offer(ss_daemon *d, const ss_lan_info *info, const uint8_t addr[16], uint32_t ifindex)
{
	ss_dpeer *p = ss_peer_user(info->peer);
	ss_flow flow;
	int ret;

	if (!p)
		return SS_ERR_LAN_SPOOF;
	if (info->time_ns <= p->lan_time_ns)
		return SS_ERR_LAN_SPOOF;
	p->lan_time_ns = info->time_ns;
	memset(&flow, 0, sizeof(flow));
	memcpy(flow.remote_addr, addr, 16);
	flow.proto = d->tr.kind == SS_TRANSPORT_UDP ? IPPROTO_UDP : SS_IP_PROTO;
	flow.remote_port = d->tr.kind == SS_TRANSPORT_UDP ? info->port : 0;
	flow.local_port = d->tr.port;
	if (ss_flow_link_local(&flow))
		ss_store_be32(flow.local_addr + 12, ifindex);
	ret = ss_daemon_offer_candidate(d, p, &flow, SS_CAND_LAN);
	/* A set full of confirmed paths keeps them: counted for the peer by reach.c. */
	return ret == SS_ERR_FULL ? 0 : ret;
}

static void on_packet(ss_daemon *d, const uint8_t *pkt, size_t len, const uint8_t addr[16],
		      uint32_t ifindex)
{
	ss_lan *l = &d->lan;
	uint64_t now = ss_mono_ns();
	ss_lan_info info;
	int ret;

	l->heard++;
	if (len != SS_LAN_PEERS_LEN && len != SS_LAN_OPEN_LEN) {
		drop(l, SS_ERR_MALFORMED);
		return;
	}
	if ((int)ifindex == d->ifindex || !ss_lan_onlink(l->pfx, l->npfx, ifindex, addr)) {
		l->drops[SS_LAN_D_OFFLINK]++;
		return;
	}
	ret = admit(l, addr, now);
	if (!ret)
		ret = ss_lan_recognise(d->ctx, pkt, len, &info);
	/* In peers mode we only ever look for peers: an open announcement of one is fine. */
	if (!ret && info.peer)
		ret = offer(d, &info, addr, ifindex);
	else if (!ret && l->mode == SS_LAN_MODE_OPEN)
		ss_lan_table_note(&l->table, info.identity, addr, info.port, ifindex, now);
	else if (!ret)
		ret = SS_ERR_LAN_SPOOF;
	if (ret)
		drop(l, ret);
	else
		l->recognised++;
}

static void read4(ss_daemon *d, uint8_t *buf, size_t cap)
{
	struct sockaddr_in sa;
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {buf, cap};
	struct msghdr m = {.msg_name = &sa, .msg_iov = &iov, .msg_iovlen = 1};

	for (int i = 0; i < SS_TUN_BATCH; i++) {
		uint8_t addr[16];
		uint32_t ifindex = 0;
		ssize_t n;

		m.msg_namelen = sizeof(sa);
		m.msg_control = ctl.buf;
		m.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(d->lan.fd4, &m, 0);
		if (n < 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
				ifindex =
					(uint32_t)((struct in_pktinfo *)CMSG_DATA(c))->ipi_ifindex;
		memcpy(addr, v4mapped, 12);
		memcpy(addr + 12, &sa.sin_addr, 4);
		on_packet(d, buf, (size_t)n, addr, ifindex);
	}
}

static void read6(ss_daemon *d, uint8_t *buf, size_t cap)
{
	struct sockaddr_in6 sa;
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {buf, cap};
	struct msghdr m = {.msg_name = &sa, .msg_iov = &iov, .msg_iovlen = 1};

	for (int i = 0; i < SS_TUN_BATCH; i++) {
		uint32_t ifindex = 0;
		ssize_t n;

		m.msg_namelen = sizeof(sa);
		m.msg_control = ctl.buf;
		m.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(d->lan.fd6, &m, 0);
		if (n < 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)
				ifindex = ((struct in6_pktinfo *)CMSG_DATA(c))->ipi6_ifindex;
		/* A link-local source must have come in on the interface it is scoped to. */
		if (sa.sin6_scope_id && sa.sin6_scope_id != ifindex)
			ifindex = 0;
		on_packet(d, buf, (size_t)n, sa.sin6_addr.s6_addr, ifindex);
	}
}

void ss_lan_read(ss_daemon *d, int fam)
{
	/* One byte more than the longest announcement: a longer datagram shows as such. */
	uint8_t buf[SS_LAN_OPEN_LEN + 1];

	if (fam == 4 && d->lan.fd4 >= 0)
		read4(d, buf, sizeof(buf));
	else if (fam == 6 && d->lan.fd6 >= 0)
		read6(d, buf, sizeof(buf));
}

/* ---- the control socket ---- */

void ss_lan_show(ss_daemon *d, FILE *f)
{
	static const char *const modes[] = {"off", "peers", "open"};
	ss_lan *l = &d->lan;

	fprintf(f, "lan_discovery=%s\n", modes[l->mode]);
	if (l->mode == SS_LAN_OFF)
		return;
	fprintf(f, "lan_announced=%llu\nlan_heard=%llu\nlan_recognised=%llu\n",
		(unsigned long long)l->announced, (unsigned long long)l->heard,
		(unsigned long long)l->recognised);
	for (int i = 0; i < SS_LAN_D_COUNT; i++)
		if (l->drops[i])
			fprintf(f, "lan_drop=%s:%llu\n", drop_names[i],
				(unsigned long long)l->drops[i]);
}

void ss_lan_discover(ss_daemon *d, FILE *f)
{
	ss_lan *l = &d->lan;
	uint64_t now = ss_mono_ns();

	fprintf(f, "lan_discovery=%s\n",
		l->mode == SS_LAN_MODE_OPEN    ? "open"
		: l->mode == SS_LAN_MODE_PEERS ? "peers"
					       : "off");
	ss_lan_table_expire(&l->table, now);
	for (size_t i = 0; i < SS_LAN_OPEN_TABLE; i++) {
		const ss_lan_entry *e = &l->table.e[i];
		char fp[SS_FINGERPRINT_LEN], b64[SS_B64_KEY_LEN], a[80];
		ss_flow flow;

		if (!e->used)
			continue;
		memset(&flow, 0, sizeof(flow));
		memcpy(flow.remote_addr, e->addr, 16);
		flow.remote_port = e->port;
		flow.proto = IPPROTO_UDP;
		if (ss_flow_link_local(&flow))
			ss_store_be32(flow.local_addr + 12, e->ifindex);
		ss_flow_format(&flow, a, sizeof(a));
		ss_fingerprint(e->identity, fp);
		ss_key_to_base64(e->identity, b64);
		/* The interface by index: its name would need a socket the sandbox refuses. */
		fprintf(f, "discovered=%s %s %s %u %llu\n", fp, b64, a, e->ifindex,
			(unsigned long long)((now - e->last_ns) / SS_NS_PER_SEC));
	}
}

/* ---- LanDiscovery changed at run time (syncconf) ---- */

int ss_lan_set_mode(ss_daemon *d, enum ss_lan_discovery mode, char *err, size_t errlen)
{
	static const char *const modes[] = {"off", "peers", "open"};
	ss_lan *l = &d->lan;

	if (mode == l->mode)
		return 0;
	if (mode == SS_LAN_OFF) {
		/* Port 51998 is let go; closing the sockets takes them out of the epoll set. */
		ss_lan_close(l);
		memset(&l->table, 0, sizeof(l->table));
		l->mode = SS_LAN_OFF;
		return 0;
	}
	/* The sockets exist only if it was on at start (and not turned off): the sandbox
	 * refuses new ones, and seccomp would kill the process for trying. */
	if (l->fd4 < 0 && l->fd6 < 0) {
		snprintf(err, errlen,
			 "LanDiscovery = %s: not applied: silosecd holds no LAN discovery socket "
			 "(off at start, or turned off since) and its sandbox cannot open UDP "
			 "port %u now; restart silosecd to apply it",
			 modes[mode], SS_LAN_PORT);
		return SS_ERR_PERM;
	}
	/* peers <-> open: the same sockets; announce in the new mode at once. */
	l->mode = mode;
	l->next_announce = 0;
	d->next_deadline = 0;
	return 0;
}
