/* SPDX-License-Identifier: MIT */
/*
 * TUN offloads (IFF_VNET_HDR): the kernel hands over TCP "super-packets" of up to 64 KiB
 * and packets whose transport checksum is left for us to fill in. One read then
 * carries dozens of segments; each is cut out here, completed with its own IP and TCP
 * headers and checksums, and sealed on its own, so what crosses the wire is exactly
 * what would have without offloads.
 */
#ifndef SS_TUNNEL_OFFLOAD_H
#define SS_TUNNEL_OFFLOAD_H

#include <stddef.h>
#include <stdint.h>

#define SS_VNET_HDR_LEN 10 /* struct virtio_net_hdr */

typedef void (*ss_seg_fn)(void *arg, const uint8_t *pkt, size_t len);

/*
 * pkt/len: what the TUN read returned, starting with the virtio header. Calls fn once
 * per resulting IP packet (pointing into pkt or scratch, valid during the call).
 * scratch needs 64 KiB. Returns the number of packets, or -1 if the offload request is
 * malformed (nothing is emitted then).
 */
int ss_offload_split(uint8_t *pkt, size_t len, uint8_t *scratch, size_t scratch_cap, ss_seg_fn fn,
		     void *arg);

/* The 16-bit ones'-complement Internet checksum of buf, starting from sum. */
uint16_t ss_inet_csum(const uint8_t *buf, size_t len, uint32_t sum);

#endif
