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

#include <stdbool.h>
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

/*
 * The way back: consecutive in-order segments of one TCP connection, decrypted in one
 * batch, are joined into one super-packet and handed to the TUN device in one write
 * (virtio GSO header); the kernel treats it as if its own GRO had merged them. With
 * USO (ss_gro_set_uso), consecutive UDP datagrams of one 5-tuple, all of one size but
 * the last, with valid checksums and consecutive IPv4 IDs, are joined likewise
 * (VIRTIO_NET_HDR_GSO_UDP_L4): the kernel cuts them back into exactly the datagrams that
 * were joined. Anything else goes out as it came. The result of each write is passed
 * to the caller's fn.
 */
#define SS_GRO_MAX 65535
#define SS_GRO_UDP_SEGS 64 /* the kernel's UDP_MAX_SEGMENTS on older kernels */

typedef void (*ss_write_fn)(void *arg, const uint8_t *vnet_pkt, size_t len, void *owner);

typedef struct ss_gro {
	uint8_t buf[SS_VNET_HDR_LEN + SS_GRO_MAX];
	size_t len; /* IP bytes in buf after the virtio header; 0 = empty */
	size_t l4, hdr, mss;
	uint32_t next_seq; /* TCP: the next segment's sequence number */
	uint16_t next_id;  /* UDP over IPv4: the next datagram's IP ID */
	uint8_t proto;	   /* IPPROTO_TCP or IPPROTO_UDP */
	int nseg;
	bool closed; /* a shorter or PSH segment ended it */
	bool uso;    /* the TUN device takes UDP GSO writes (TUN_F_USO4/6) */
	void *owner; /* whoever the packets came from, for the caller's accounting */
} ss_gro;

void ss_gro_init(ss_gro *g);
/* Join UDP datagrams too; only when the TUN device accepted TUN_F_USO4 | TUN_F_USO6. */
void ss_gro_set_uso(ss_gro *g, bool on);
/* Add one complete IP packet (checksums valid); may write out what it cannot join. */
void ss_gro_add(ss_gro *g, const uint8_t *pkt, size_t len, void *owner, ss_write_fn fn, void *arg);
void ss_gro_flush(ss_gro *g, ss_write_fn fn, void *arg);

/* The 16-bit ones'-complement Internet checksum of buf, starting from sum. */
uint16_t ss_inet_csum(const uint8_t *buf, size_t len, uint32_t sum);

#endif
