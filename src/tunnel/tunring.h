/* SPDX-License-Identifier: MIT */
/*
 * Reading what the host sends into the TUN device without one read() per packet.
 *
 * Linux has no batched read for TUN (io_uring aside, which the sandbox excludes because
 * seccomp cannot see its operations). A packet socket bound to the device with a
 * TPACKET_V2 receive ring sees every packet the host transmits into it, before the TUN
 * queue; the kernel writes them into shared memory and the daemon walks that memory with
 * no system call per packet, only one epoll wakeup when the ring was empty. Frames are
 * SS_RING_FRAME bytes; a larger packet (a TSO super-packet) is marked TP_STATUS_COPY and
 * read whole from the socket's queue, in order. The TUN queue itself is then closed by a
 * drop-all socket filter: the ring already holds each packet.
 */
#ifndef SS_TUNNEL_TUNRING_H
#define SS_TUNNEL_TUNRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SS_RING_FRAME 2048  /* a full-MTU packet, its virtio header and the frame header */
#define SS_RING_BLOCK 65536 /* frames per block: 32 */
#define SS_RING_BLOCKS 16   /* 512 frames in all, like a TUN queue of 500 */
#define SS_RING_FRAMES (SS_RING_BLOCKS * (SS_RING_BLOCK / SS_RING_FRAME))

typedef struct ss_tunring {
	int fd;
	uint8_t *map;
	size_t map_len;
	uint32_t nframes, next;
	bool vnet;	    /* frames carry a virtio header before the packet */
	uint64_t truncated; /* too big for a frame and no copy queued: lost */
	uint64_t ring_full; /* the kernel found no free frame (summed PACKET_STATISTICS) */
} ss_tunring;

/*
 * Opens the ring on TUN device ifindex (fd tun); vnet when the TUN device was opened with
 * IFF_VNET_HDR (packets then come with the same virtio header a TUN read gives). Needs
 * CAP_NET_RAW, so it runs before the sandbox. Returns 0 or -errno; on failure nothing is
 * changed and the caller reads TUN as before.
 */
int ss_tunring_open(ss_tunring *r, int tun, int ifindex, bool vnet);
/* Unmaps and closes; reopens the TUN queue (tun >= 0) for a plain reader. */
void ss_tunring_close(ss_tunring *r, int tun);
/* Removes a TUN filter (ours, left on a persistent device by an earlier daemon), if any. */
void ss_tunring_reset_tun(int tun);

/*
 * The next packet the host sent, or NULL when the ring is empty. *len is its length,
 * virtio header included when vnet. The packet lives in the ring (or, for a packet too big
 * for a frame, in buf of size cap) until ss_tunring_release; it may be modified in place.
 */
uint8_t *ss_tunring_next(ss_tunring *r, uint8_t *buf, size_t cap, size_t *len);
/* Hands the frame ss_tunring_next returned back to the kernel. */
void ss_tunring_release(ss_tunring *r);
/*
 * Clears a pending socket error (ENETDOWN when the device went down); the error would
 * otherwise keep the socket ready for epoll. Call on EPOLLERR.
 */
void ss_tunring_clear_error(ss_tunring *r);
/* Packets the kernel could not place in the ring (it was full), from PACKET_STATISTICS. */
uint64_t ss_tunring_drops(ss_tunring *r);

#endif
