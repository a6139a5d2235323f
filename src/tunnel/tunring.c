/* SPDX-License-Identifier: MIT */
/* The TUN device's outgoing packets through a TPACKET_V2 ring (see tunring.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>

#include "tunring.h"

#ifndef SO_LOCK_FILTER
#define SO_LOCK_FILTER 44
#endif

/* The ring also sees what the daemon writes into TUN (incoming); only outgoing counts. */
static struct sock_filter outgoing_only[] = {
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0x40000),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

/*
 * Closes the TUN queue: every packet is already in the ring. TUN takes classic filters
 * only on TAP devices, so this is the one-instruction eBPF program "return 0" (TUN keeps
 * its own reference; the program's fd is closed again).
 */
static int close_tun_queue(int tun)
{
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	union bpf_attr attr;
	int prog, ret = 0;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = 2;
	attr.license = (uint64_t)(uintptr_t) "MIT";
	prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (prog < 0)
		return -errno;
	if (ioctl(tun, TUNSETFILTEREBPF, &prog) < 0)
		ret = -errno;
	close(prog);
	return ret;
}

static int setopt(int fd, int level, int name, const void *v, socklen_t len)
{
	return setsockopt(fd, level, name, v, len) < 0 ? -errno : 0;
}

static int configure(int fd, int ifindex, bool vnet)
{
	struct sock_fprog prog = {.len = sizeof(outgoing_only) / sizeof(outgoing_only[0]),
				  .filter = outgoing_only};
	struct tpacket_req req = {.tp_block_size = SS_RING_BLOCK,
				  .tp_block_nr = SS_RING_BLOCKS,
				  .tp_frame_size = SS_RING_FRAME,
				  .tp_frame_nr = SS_RING_FRAMES};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex};
	int one = 1, version = TPACKET_V2, rcvbuf = 4 << 20, ret;

	/* Big packets are queued on the socket as well; its buffer bounds how many. */
	ret = setopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
	if (!ret)
		ret = setopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof(one));
	if (!ret && setopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		ret = setopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (!ret && vnet)
		ret = setopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one));
	if (!ret)
		ret = setopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version));
	if (!ret)
		ret = setopt(fd, SOL_PACKET, PACKET_COPY_THRESH, &one, sizeof(one));
	if (!ret)
		ret = setopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req));
	if (!ret && bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		ret = -errno;
	return ret;
}

int ss_tunring_open(ss_tunring *r, int tun, int ifindex, bool vnet)
{
	int fd, ret;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	/* Protocol 0: nothing is captured until bind, after the filter and ring are in place. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	ret = configure(fd, ifindex, vnet);
	if (!ret) {
		r->map_len = (size_t)SS_RING_BLOCK * SS_RING_BLOCKS;
		r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (r->map == MAP_FAILED) {
			r->map = NULL;
			ret = -errno;
		}
	}
	if (!ret)
		ret = close_tun_queue(tun);
	if (ret) {
		if (r->map)
			munmap(r->map, r->map_len);
		close(fd);
		memset(r, 0, sizeof(*r));
		r->fd = -1;
		return ret;
	}
	r->fd = fd;
	r->vnet = vnet;
	r->nframes = SS_RING_FRAMES;
	return 0;
}

void ss_tunring_reset_tun(int tun)
{
	int none = -1;

	if (tun >= 0)
		(void)ioctl(tun, TUNSETFILTEREBPF, &none);
}

void ss_tunring_close(ss_tunring *r, int tun)
{
	if (r->fd < 0)
		return;
	ss_tunring_reset_tun(tun);
	munmap(r->map, r->map_len);
	close(r->fd);
	r->fd = -1;
	r->map = NULL;
}

static struct tpacket2_hdr *frame(ss_tunring *r, uint32_t i)
{
	return (struct tpacket2_hdr *)(r->map + (size_t)i * SS_RING_FRAME);
}

/* A packet too big for its frame: the whole of it waits on the socket, in ring order. */
static uint8_t *copied(ss_tunring *r, uint8_t *buf, size_t cap, size_t *len)
{
	ssize_t n = recv(r->fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC);

	/*
	 * A pending socket error (ENETDOWN after the link went down) is returned, and
	 * cleared, before anything is dequeued: the copy is still there, and skipping it
	 * would put every later copy one packet behind its frame.
	 */
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		n = recv(r->fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC);

	if (n < 0 || (size_t)n > cap) {
		r->truncated++;
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

uint8_t *ss_tunring_next(ss_tunring *r, uint8_t *buf, size_t cap, size_t *len)
{
	for (;;) {
		struct tpacket2_hdr *h = frame(r, r->next);
		uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
		size_t hdr = r->vnet ? 10 : 0; /* struct virtio_net_hdr */
		uint8_t *p;

		if (!(status & TP_STATUS_USER))
			return NULL;
		if (status & TP_STATUS_COPY) {
			p = copied(r, buf, cap, len);
		} else if (h->tp_snaplen < h->tp_len || h->tp_mac < hdr ||
			   (size_t)h->tp_mac + h->tp_snaplen > SS_RING_FRAME) {
			r->truncated++;
			p = NULL;
		} else {
			p = (uint8_t *)h + h->tp_mac - hdr;
			*len = h->tp_snaplen + hdr;
		}
		if (p)
			return p;
		ss_tunring_release(r);
	}
}

void ss_tunring_release(ss_tunring *r)
{
	__atomic_store_n(&frame(r, r->next)->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	r->next = (r->next + 1) % r->nframes;
}

void ss_tunring_clear_error(ss_tunring *r)
{
	socklen_t len = sizeof(int);
	int err;

	if (r->fd >= 0)
		(void)getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len);
}

uint64_t ss_tunring_drops(ss_tunring *r)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	/* PACKET_STATISTICS resets the kernel's counters on each read; keep the sum. */
	if (r->fd >= 0 && getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		r->ring_full += st.tp_drops;
	return r->ring_full + r->truncated;
}
