/* SPDX-License-Identifier: MIT */
/* TUN and rtnetlink through libmnl: the daemon's privileged set-up. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "netdev.h"

/* UDP segmentation offload to and from TUN: Linux 6.2+, newer than Debian 12's headers. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

static int uso_fd = -1; /* the TUN fd that accepted TUN_F_USO4 | TUN_F_USO6 */

static int tun_create(const char *name, bool vnet)
{
	struct ifreq ifr;
	int fd, err;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int ss_tun_open(const char *name, bool *offload)
{
	unsigned features = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	int fd;

	uso_fd = -1;
	if (!*offload)
		return tun_create(name, false);
	fd = tun_create(name, true);
	/* USO first; kernels before 6.2 refuse the unknown bits with EINVAL. */
	if (fd >= 0 && !getenv("SILOSEC_NO_USO") &&
	    ioctl(fd, TUNSETOFFLOAD, features | TUN_F_USO4 | TUN_F_USO6) == 0) {
		uso_fd = fd;
		return fd;
	}
	if (fd >= 0 && ioctl(fd, TUNSETOFFLOAD, features) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	*offload = false;
	return tun_create(name, false);
}

bool ss_tun_uso(int fd)
{
	return fd >= 0 && fd == uso_fd;
}

int ss_nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	return fd < 0 ? -errno : fd;
}

void ss_nl_close(int nl)
{
	if (nl >= 0)
		close(nl);
}

int ss_nl_ifindex(const char *name)
{
	unsigned idx = if_nametoindex(name);

	return idx ? (int)idx : -errno;
}

/* Send one request and wait for its ACK; returns 0 or the kernel's -errno. */
static int transact(int nl, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	static unsigned seq;
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++seq + (unsigned)time(NULL);
	if (sendto(nl, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		int len;

		n = recv(nl, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		len = (int)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, len);
		     h = mnl_nlmsg_next(h, &len)) {
			if (h->nlmsg_seq != nlh->nlmsg_seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			return ((struct nlmsgerr *)mnl_nlmsg_get_payload(h))->error;
		}
	}
}

int ss_nl_link_up(int nl, int ifindex, unsigned mtu)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return transact(nl, nlh);
}

static int addr_len(const ss_cidr *c)
{
	return c->family == AF_INET ? 4 : 16;
}

int ss_nl_addr_add(int nl, int ifindex, const ss_cidr *c)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)c->family;
	ifa->ifa_prefixlen = c->prefix;
	ifa->ifa_index = (unsigned)ifindex;
	/* Tunnel addresses are not for duplicate address detection: no link layer. */
	ifa->ifa_flags = c->family == AF_INET6 ? IFA_F_NODAD : 0;
	mnl_attr_put(nlh, IFA_LOCAL, (size_t)addr_len(c), c->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, (size_t)addr_len(c), c->addr);
	return transact(nl, nlh);
}

static int route(int nl, int ifindex, const ss_cidr *c, uint32_t table, uint16_t type,
		 uint16_t flags)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	uint8_t dst[16] = {0};
	struct rtmsg *rtm;
	int n = addr_len(c);

	/* The kernel wants the network address, not a host inside it. */
	for (int i = 0; i < n; i++) {
		int bits = c->prefix - i * 8;

		dst[i] = bits >= 8 ? c->addr[i] : bits > 0 ? c->addr[i] & (0xff << (8 - bits)) : 0;
	}
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)c->family;
	rtm->rtm_dst_len = c->prefix;
	rtm->rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, (size_t)n, dst);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	return transact(nl, nlh);
}

int ss_nl_route_add(int nl, int ifindex, const ss_cidr *c, uint32_t table)
{
	int ret = route(nl, ifindex, c, table, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);

	return ret == -EEXIST ? 0 : ret;
}

int ss_nl_route_del(int nl, int ifindex, const ss_cidr *c, uint32_t table)
{
	int ret = route(nl, ifindex, c, table, RTM_DELROUTE, 0);

	return ret == -ESRCH ? 0 : ret;
}

/*
 * One of wg-quick's two rules. No FRA_PRIORITY: like `ip rule add`, the kernel puts each
 * new rule just above the last added, so "suppress_prefixlength 0" (added second) is
 * looked at before "not fwmark".
 */
static int rule(int nl, int family, uint32_t mark, bool suppress, uint16_t type)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct fib_rule_hdr *frh;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = type == RTM_NEWRULE ? NLM_F_CREATE | NLM_F_EXCL : 0;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = (unsigned char)family;
	frh->action = FR_ACT_TO_TBL;
	if (suppress) {
		frh->table = RT_TABLE_MAIN;
		mnl_attr_put_u32(nlh, FRA_TABLE, RT_TABLE_MAIN);
		mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, 0);
	} else {
		frh->flags = FIB_RULE_INVERT;
		frh->table = mark < 256 ? (unsigned char)mark : RT_TABLE_UNSPEC;
		mnl_attr_put_u32(nlh, FRA_TABLE, mark);
		mnl_attr_put_u32(nlh, FRA_FWMARK, mark);
		mnl_attr_put_u32(nlh, FRA_FWMASK, UINT32_MAX);
	}
	return transact(nl, nlh);
}

int ss_nl_full_tunnel_rules(int nl, int family, uint32_t mark, bool add)
{
	int ret;

	if (!add) {
		ret = rule(nl, family, mark, true, RTM_DELRULE);
		ret = rule(nl, family, mark, false, RTM_DELRULE) ?: ret;
		return ret == -ENOENT ? 0 : ret;
	}
	ret = rule(nl, family, mark, false, RTM_NEWRULE);
	if (ret && ret != -EEXIST)
		return ret;
	ret = rule(nl, family, mark, true, RTM_NEWRULE);
	return ret == -EEXIST ? 0 : ret;
}
