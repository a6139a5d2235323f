/* SPDX-License-Identifier: MIT */
#include <linux/filter.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <silosec/error.h>
#include "knock/knock.h"
#include <silosec/wire.h>

#include "prefilter.h"

/* A UDP socket's filter sees the datagram from its UDP header on. */
#define UDP_HDR 8

int ss_knock_prefilter_attach(int fd)
{
	/* Jump offsets count instructions after the current one: 6 is DROP. */
	struct sock_filter prog[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, UDP_HDR + SS_KNOCK_MIN_LEN, 0, 4),
		/* 2 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, UDP_HDR + SS_KNOCK_MAX_LEN, 3, 0),
		/* 3: type, version and the two reserved bytes, big-endian */
		/* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, UDP_HDR),
		/* 4 */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			 (uint32_t)SS_MSG_KNOCK << 24 | (uint32_t)SS_VERSION << 16, 0, 1),
		/* 5 */ BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
		/* 6 */ BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog fp = {.len = sizeof(prog) / sizeof(prog[0]), .filter = prog};

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) < 0)
		return SS_ERR_IO;
	/* Nobody may swap the filter later, not even this process after a compromise. */
	(void)setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &(int){1}, sizeof(int));
	return 0;
}

uint64_t ss_knock_prefilter_drops(int fd)
{
	uint32_t mem[SK_MEMINFO_VARS] = {0};
	socklen_t len = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 ||
	    len < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t))
		return 0;
	return mem[SK_MEMINFO_DROPS];
}
