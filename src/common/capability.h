/* SPDX-License-Identifier: MIT */
/*
 * Identity capabilities: what one peer may reach on this host through the tunnel.
 *
 * A rule is "PROTO [PORT|PORT-PORT] [to ADDR/PREFIX]" with PROTO one of tcp, udp, icmp
 * (ICMP and ICMPv6) or any; a list is comma-separated ("tcp 22, udp 53, icmp"). Rules are
 * checked against the destination of a decrypted packet: a linear scan over a few
 * fixed-size structs, no allocation, no string work on the packet path.
 */
#ifndef SS_COMMON_CAPABILITY_H
#define SS_COMMON_CAPABILITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cidr.h"

#define SS_CAP_MAX_RULES 64 /* per peer */
#define SS_CAP_RULE_STR 80  /* formatted rule, NUL included */

enum ss_cap_proto {
	SS_CAP_ANY = 0,
	SS_CAP_ICMP = 1, /* matches ICMP (1) and ICMPv6 (58) */
	SS_CAP_TCP = 6,
	SS_CAP_UDP = 17,
};

typedef struct ss_cap_rule {
	uint8_t proto; /* enum ss_cap_proto */
	bool has_dst;
	uint16_t port_lo, port_hi; /* 0-65535 when no port was given */
	ss_cidr dst;		   /* host bits cleared */
} ss_cap_rule;

/* The fields of an inner IP packet the rules and the connection tracker look at. */
typedef struct ss_pkt_info {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;	/* IP protocol number after IPv6 extension headers */
	bool has_ports; /* TCP/UDP first fragment (ports), or ICMP (type/id) */
	bool later_frag;
	uint8_t tcp_flags;
	uint8_t icmp_type;
	uint16_t sport, dport; /* ICMP echo: dport = sport = identifier */
	const uint8_t *src, *dst;
	const uint8_t *inner; /* ICMP error: the quoted packet, else NULL */
	size_t inner_len;
} ss_pkt_info;

/*
 * One rule ("tcp 8000-8080 to 10.0.0.1/32"; "tcp/8000-8080" is the same as "tcp 8000-8080").
 * 0 or SS_ERR_FORMAT with a reason in err.
 */
int ss_cap_rule_parse(const char *s, ss_cap_rule *out, char *err, size_t errlen);
/* A comma-separated list, appended to rules[*n..max). */
int ss_cap_list_parse(const char *s, ss_cap_rule *rules, size_t max, size_t *n, char *err,
		      size_t errlen);
/* Canonical text of a rule ("tcp 22", "any to 10.0.0.0/24"); SS_CAP_RULE_STR is enough. */
void ss_cap_rule_format(const ss_cap_rule *r, char *buf, size_t len);
bool ss_cap_rule_equal(const ss_cap_rule *a, const ss_cap_rule *b);

/* Parse an IP packet's header fields; 0 or SS_ERR_MALFORMED. Never reads past len. */
int ss_pkt_parse(const uint8_t *pkt, size_t len, ss_pkt_info *out);
/* Does this rule admit a packet to pi's destination? */
bool ss_cap_rule_match(const ss_cap_rule *r, const ss_pkt_info *pi);
bool ss_cap_match(const ss_cap_rule *rules, size_t n, const ss_pkt_info *pi);
/* "tcp 10.0.0.2:40000 -> 10.0.0.1:80"; 128 bytes is enough. */
void ss_pkt_format(const ss_pkt_info *pi, char *buf, size_t len);

/* Durations: "300", "300s", "5m", "1h", "1d"; 0 or SS_ERR_FORMAT (0 s is refused). */
int ss_duration_parse(const char *s, uint32_t *seconds);

#endif
