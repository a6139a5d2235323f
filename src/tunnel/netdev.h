/* SPDX-License-Identifier: MIT */
/* The TUN device and its rtnetlink configuration (addresses, MTU, link state, routes). */
#ifndef SS_TUNNEL_NETDEV_H
#define SS_TUNNEL_NETDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/*
 * Opens (creates) TUN device name, non-blocking; returns the fd or -errno. With
 * *offload set, asks for virtio headers and TCP segmentation/checksum offloads and
 * clears *offload if the kernel refuses them (reads and writes are then plain).
 */
int ss_tun_open(const char *name, bool *offload);
/* Whether TUN fd (from ss_tun_open) also takes and gives UDP GSO packets (USO, 6.2+). */
bool ss_tun_uso(int fd);

/* rtnetlink. Each returns 0 or -errno. */
int ss_nl_open(void);
void ss_nl_close(int nl);
int ss_nl_ifindex(const char *name);
int ss_nl_link_up(int nl, int ifindex, unsigned mtu);
int ss_nl_addr_add(int nl, int ifindex, const ss_cidr *c);
/* Route prefix c through the device in table; an existing identical route is not an error. */
int ss_nl_route_add(int nl, int ifindex, const ss_cidr *c, uint32_t table);
int ss_nl_route_del(int nl, int ifindex, const ss_cidr *c, uint32_t table);
/*
 * wg-quick's full-tunnel rules for one family: `not fwmark MARK table MARK` and
 * `table main suppress_prefixlength 0`. Adding existing ones or removing absent ones is
 * not an error.
 */
int ss_nl_full_tunnel_rules(int nl, int family, uint32_t mark, bool add);

#endif
