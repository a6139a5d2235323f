/* SPDX-License-Identifier: MIT */
/*
 * The TUN packet ring: walking frames the kernel filled (in order, wrap-around, oversize
 * packets read whole from the socket, truncated ones counted), and, as root in a private
 * network namespace, the real thing: what the host sends into a TUN device appears in the
 * ring and not on the TUN queue, what is written into TUN does not, and closing the ring
 * gives the queue back.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>

#include "helpers.h"
#include "tunring.h"

#define NFRAMES 8

/* A ring in ordinary memory, laid out as the kernel lays out TPACKET_V2 frames. */
struct fake {
	ss_tunring r;
	uint8_t *map;
	uint8_t buf[64];
	size_t len;
};

static int fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	if (!f || !(f->map = calloc(NFRAMES, SS_RING_FRAME))) {
		free(f);
		return -1;
	}
	f->r.fd = -1;
	f->r.map = f->map;
	f->r.nframes = NFRAMES;
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;

	free(f->map);
	free(f);
	return 0;
}

#define fake_test(fn) cmocka_unit_test_setup_teardown(fn, fake_setup, fake_teardown)

/* The next frame into f's 64-byte buffer (ss_tunring_next). */
static uint8_t *next(struct fake *f)
{
	return ss_tunring_next(&f->r, f->buf, sizeof(f->buf), &f->len);
}

static void put(uint8_t *map, uint32_t i, uint32_t status, uint8_t fill, uint32_t len,
		uint32_t snap)
{
	struct tpacket2_hdr *h = (struct tpacket2_hdr *)(map + (size_t)i * SS_RING_FRAME);

	h->tp_mac = h->tp_net = 64;
	h->tp_len = len;
	h->tp_snaplen = snap;
	memset((uint8_t *)h + h->tp_mac, fill, snap);
	h->tp_status = status;
}

static uint32_t status_of(uint8_t *map, uint32_t i)
{
	return ((struct tpacket2_hdr *)(map + (size_t)i * SS_RING_FRAME))->tp_status;
}

static void walk_in_order(void **state)
{
	struct fake *f = *state;
	uint8_t *p;

	put(f->map, 0, TP_STATUS_USER, 0xa0, 100, 100);
	put(f->map, 1, TP_STATUS_USER, 0xa1, 60, 60);
	p = next(f);
	assert_non_null(p);
	assert_int_equal(f->len, 100);
	assert_int_equal(p[0], 0xa0);
	assert_int_equal(p[99], 0xa0);
	/* Not released yet: asking again gives the same frame. */
	assert_ptr_equal(next(f), p);
	ss_tunring_release(&f->r);
	assert_int_equal(status_of(f->map, 0), TP_STATUS_KERNEL);
	p = next(f);
	assert_non_null(p);
	assert_int_equal(f->len, 60);
	assert_int_equal(p[0], 0xa1);
	ss_tunring_release(&f->r);
	/* Frame 2 still belongs to the kernel: the ring is empty. */
	assert_null(next(f));
	assert_int_equal(f->r.next, 2);
}

static void wraps_around(void **state)
{
	struct fake *f = *state;

	for (uint32_t i = 0; i < NFRAMES + 3; i++) {
		put(f->map, i % NFRAMES, TP_STATUS_USER, (uint8_t)i, 40, 40);
		uint8_t *p = next(f);

		assert_non_null(p);
		assert_int_equal(p[0], (uint8_t)i);
		ss_tunring_release(&f->r);
	}
	assert_int_equal(f->r.next, 3);
}

/* With virtio headers, the header sits right before the packet and is part of it. */
static void vnet_header_included(void **state)
{
	struct fake *f = *state;
	uint8_t *p;

	f->r.vnet = true;
	put(f->map, 0, TP_STATUS_USER, 0x45, 84, 84);
	memset(f->map + 64 - 10, 0x01, 10);
	p = next(f);
	assert_non_null(p);
	assert_int_equal(f->len, 94);
	assert_int_equal(p[0], 0x01);
	assert_int_equal(p[9], 0x01);
	assert_int_equal(p[10], 0x45);
}

/* A frame the kernel had to cut, with no copy queued, is skipped and counted. */
static void truncated_skipped(void **state)
{
	struct fake *f = *state;
	uint8_t *p;

	put(f->map, 0, TP_STATUS_USER, 0xee, 5000, SS_RING_FRAME - 64);
	put(f->map, 1, TP_STATUS_USER | TP_STATUS_LOSING, 0xb1, 70, 70);
	p = next(f);
	assert_non_null(p);
	assert_int_equal(p[0], 0xb1);
	assert_int_equal(f->r.truncated, 1);
	assert_int_equal(status_of(f->map, 0), TP_STATUS_KERNEL);
}

/* A packet too big for a frame is read whole from the socket, in its place in the ring. */
static void copy_read_from_socket(void **state)
{
	struct fake *f = *state;
	uint8_t big[5000], buf[6000], small[8], *map = f->map, *p;
	ss_tunring *r = &f->r;
	size_t len;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	r->fd = sv[0];
	memset(big, 0xc0, sizeof(big));
	assert_int_equal(send(sv[1], big, sizeof(big), 0), (ssize_t)sizeof(big));
	put(map, 0, TP_STATUS_USER, 0xa0, 50, 50);
	put(map, 1, TP_STATUS_USER | TP_STATUS_COPY, 0xc0, 5000, SS_RING_FRAME - 64);
	put(map, 2, TP_STATUS_USER, 0xa2, 50, 50);
	p = ss_tunring_next(r, buf, sizeof(buf), &len);
	assert_int_equal(p[0], 0xa0);
	ss_tunring_release(r);
	p = ss_tunring_next(r, buf, sizeof(buf), &len);
	assert_ptr_equal(p, buf);
	assert_int_equal(len, 5000);
	assert_int_equal(buf[4999], 0xc0);
	ss_tunring_release(r);
	p = ss_tunring_next(r, buf, sizeof(buf), &len);
	assert_int_equal(p[0], 0xa2);
	ss_tunring_release(r);
	/* A copy larger than the caller's buffer is lost, not cut short. */
	assert_int_equal(send(sv[1], big, sizeof(big), 0), (ssize_t)sizeof(big));
	put(map, 3, TP_STATUS_USER | TP_STATUS_COPY, 0xc0, 5000, SS_RING_FRAME - 64);
	assert_null(ss_tunring_next(r, small, sizeof(small), &len));
	assert_int_equal(r->truncated, 1);
	close(sv[0]);
	close(sv[1]);
}

/* ---- the kernel's ring, as root in a private network namespace ---- */

static void no_ipv6(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		(void)!write(fd, "1", 1);
		close(fd);
	}
}

static int tun_up(const char *name, int *ifindex)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK), s = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
	strcpy(ifr.ifr_name, name);
	if (fd < 0 || s < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -1;
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, "10.9.9.1", &sin->sin_addr);
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		return -1;
	inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
	if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
		return -1;
	ifr.ifr_mtu = 9000;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
		return -1;
	/* No IPv6 on the device: its own packets (MLD reports) would show up in the ring. */
	no_ipv6(name);
	ifr.ifr_flags = IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return -1;
	close(s);
	*ifindex = (int)if_nametoindex(name);
	return fd;
}

static void send_udp(size_t len, uint8_t fill)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
	uint8_t msg[6000];
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	memset(msg, fill, len);
	inet_pton(AF_INET, "10.9.9.2", &to.sin_addr);
	sendto(s, msg, len, 0, (struct sockaddr *)&to, sizeof(to));
	close(s);
}

/* The next packet from the ring, waiting up to a second; its UDP payload's first byte. */
static int ring_payload(ss_tunring *r, size_t *iplen)
{
	uint8_t buf[10000], *p = NULL;
	size_t len = 0;
	int b;

	for (int i = 0; i < 1000 && !(p = ss_tunring_next(r, buf, sizeof(buf), &len)); i++)
		usleep(1000);
	if (!p || len < 10 + 28)
		return -1;
	*iplen = len - 10;
	b = p[10 + 28];
	ss_tunring_release(r);
	return b;
}

/* Exit codes name the step that failed. */
static int kernel_ring_child(void)
{
	uint8_t in[10 + 28 + 4] = {0}, buf[10000];
	ss_tunring r;
	size_t iplen;
	int tun, ifindex;

	if (unshare(CLONE_NEWNET) < 0 || (tun = tun_up("ssring0", &ifindex)) < 0)
		return 10;
	if (ss_tunring_open(&r, tun, ifindex, true))
		return 11;
	send_udp(100, 0x5a);
	if (ring_payload(&r, &iplen) != 0x5a || iplen != 128)
		return 12;
	/* Too big for a frame (MTU 9000): read whole through the socket, in order. */
	send_udp(5000, 0x6b);
	send_udp(30, 0x7c);
	if (ring_payload(&r, &iplen) != 0x6b || iplen != 5028)
		return 13;
	if (ring_payload(&r, &iplen) != 0x7c || iplen != 58)
		return 14;
	/* The TUN queue is closed while the ring is open. */
	if (read(tun, buf, sizeof(buf)) >= 0 || errno != EAGAIN)
		return 15;
	/* What the daemon writes into TUN is incoming: never in the ring (marked 0x3c). */
	in[10] = 0x45;
	in[10 + 3] = sizeof(in) - 10;
	in[10 + 8] = 64;
	in[10 + 9] = 17;
	memset(in + 10 + 28, 0x3c, 4);
	if (write(tun, in, sizeof(in)) != (ssize_t)sizeof(in))
		return 16;
	usleep(20000);
	for (uint8_t *p; (p = ss_tunring_next(&r, buf, sizeof(buf), &iplen));) {
		if (iplen == sizeof(in) && !memcmp(p + 10 + 28, in + 10 + 28, 4))
			return 17;
		ss_tunring_release(&r);
	}
	if (ss_tunring_drops(&r) != 0)
		return 18;
	/* Closed again: packets go to the TUN queue for a plain reader. */
	ss_tunring_close(&r, tun);
	send_udp(20, 0x11);
	usleep(20000);
	if (read(tun, buf, sizeof(buf)) != 10 + 48 || buf[10 + 28] != 0x11)
		return 19;
	return 0;
}

static void kernel_ring(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK))
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(kernel_ring_child());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		fake_test(walk_in_order),	  fake_test(wraps_around),
		fake_test(vnet_header_included),  fake_test(truncated_skipped),
		fake_test(copy_read_from_socket), cmocka_unit_test(kernel_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
