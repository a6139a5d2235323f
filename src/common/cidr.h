/* SPDX-License-Identifier: MIT */
/*
 * Address prefixes as written in configuration files, control requests and capability
 * rules ("10.0.0.1/24", "fd00::1/64"). Shared by the tunnel's configuration and the
 * capability-rule parser, so the rule parser does not need the tunnel.
 */
#ifndef SS_COMMON_CIDR_H
#define SS_COMMON_CIDR_H

#include <stddef.h>
#include <stdint.h>

typedef struct ss_cidr {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* IPv4 in the first 4 bytes; host bits as written */
	uint8_t prefix;
} ss_cidr;

/* "10.0.0.1/24", "fd00::1/64", a bare address means /32 or /128. 0 or SS_ERR_FORMAT. */
int ss_cidr_parse(const char *s, ss_cidr *out);
/* Formats as written ("10.0.0.1/24"); buf of 64 bytes is enough. */
void ss_cidr_format(const ss_cidr *c, char *buf, size_t len);

#endif
