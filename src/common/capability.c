/* SPDX-License-Identifier: MIT */
#include "common/capability.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <silosec/error.h>

#define IPPROTO_ICMPV6_ 58
#define MAX_EXT_HEADERS 8 /* IPv6 extension headers walked before giving up */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Next whitespace-separated token of *s, NUL-terminated in place; NULL at the end. */
static char *token(char **s)
{
	char *t = *s;

	while (is_blank(*t))
		t++;
	if (!*t)
		return NULL;
	*s = t;
	while (**s && !is_blank(**s))
		(*s)++;
	if (**s)
		*(*s)++ = '\0';
	return t;
}

static int parse_port(const char *s, const char **end, uint16_t *out)
{
	uint32_t v = 0;
	const char *p = s;

	while (*p >= '0' && *p <= '9' && p - s < 6)
		v = v * 10 + (uint32_t)(*p++ - '0');
	if (p == s || v > 65535)
		return SS_ERR_FORMAT;
	*end = p;
	*out = (uint16_t)v;
	return 0;
}

static int parse_ports(const char *s, ss_cap_rule *r)
{
	const char *end;

	if (parse_port(s, &end, &r->port_lo))
		return SS_ERR_FORMAT;
	r->port_hi = r->port_lo;
	if (*end == '-' && parse_port(end + 1, &end, &r->port_hi))
		return SS_ERR_FORMAT;
	return *end || r->port_hi < r->port_lo ? SS_ERR_FORMAT : 0;
}

static int parse_proto(const char *s, uint8_t *proto)
{
	static const struct {
		const char *name;
		uint8_t proto;
	} names[] = {{"any", SS_CAP_ANY},
		     {"tcp", SS_CAP_TCP},
		     {"udp", SS_CAP_UDP},
		     {"icmp", SS_CAP_ICMP}};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(s, names[i].name)) {
			*proto = names[i].proto;
			return 0;
		}
	}
	return SS_ERR_FORMAT;
}

static void mask_cidr(ss_cidr *c)
{
	int n = c->family == AF_INET ? 4 : 16;

	for (int i = 0; i < 16; i++) {
		int bits = c->prefix - i * 8;

		if (i >= n || bits <= 0)
			c->addr[i] = 0;
		else if (bits < 8)
			c->addr[i] &= (uint8_t)(0xff << (8 - bits));
	}
}

static int rule_fail(char *err, size_t errlen, const char *why, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "%s '%.64s'", why, what);
	return SS_ERR_FORMAT;
}

static int parse_rule_tokens(char *s, ss_cap_rule *r, char *err, size_t errlen)
{
	char *t = token(&s);

	if (!t)
		return rule_fail(err, errlen, "empty rule", "");
	if (parse_proto(t, &r->proto))
		return rule_fail(err, errlen, "expected tcp, udp, icmp or any, got", t);
	t = token(&s);
	if (t && t[0] >= '0' && t[0] <= '9') {
		if (r->proto != SS_CAP_TCP && r->proto != SS_CAP_UDP)
			return rule_fail(err, errlen, "ports only go with tcp or udp, got", t);
		if (parse_ports(t, r))
			return rule_fail(err, errlen, "expected PORT or PORT-PORT (0-65535), got",
					 t);
		t = token(&s);
	}
	if (t && !strcasecmp(t, "to")) {
		t = token(&s);
		if (!t || ss_cidr_parse(t, &r->dst))
			return rule_fail(err, errlen, "'to' needs ADDR/PREFIX, got", t ? t : "");
		mask_cidr(&r->dst);
		r->has_dst = true;
		t = token(&s);
	}
	if (t)
		return rule_fail(err, errlen, "unexpected", t);
	return 0;
}

int ss_cap_rule_parse(const char *s, ss_cap_rule *out, char *err, size_t errlen)
{
	char buf[256];
	ss_cap_rule r = {.port_hi = 65535};
	char *slash;
	int ret;

	if (strlen(s) >= sizeof(buf))
		return rule_fail(err, errlen, "rule too long", s);
	memcpy(buf, s, strlen(s) + 1);
	/* knockd's "tcp/22" is the same rule as "tcp 22": one syntax wherever rules are. */
	slash = strpbrk(buf, "/ \t");
	if (slash && *slash == '/')
		*slash = ' ';
	ret = parse_rule_tokens(buf, &r, err, errlen);
	if (!ret)
		*out = r;
	return ret;
}

int ss_cap_list_parse(const char *s, ss_cap_rule *rules, size_t max, size_t *n, char *err,
		      size_t errlen)
{
	char item[256];

	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		int ret;

		if (len >= sizeof(item))
			return rule_fail(err, errlen, "rule too long", s);
		memcpy(item, s, len);
		item[len] = '\0';
		if (*n >= max) {
			if (err && errlen)
				snprintf(err, errlen, "more than %zu rules", max);
			return SS_ERR_FORMAT;
		}
		ret = ss_cap_rule_parse(item, &rules[*n], err, errlen);
		if (ret)
			return ret;
		(*n)++;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

static const char *proto_name(uint8_t proto)
{
	return proto == SS_CAP_TCP    ? "tcp"
	       : proto == SS_CAP_UDP  ? "udp"
	       : proto == SS_CAP_ICMP ? "icmp"
				      : "any";
}

void ss_cap_rule_format(const ss_cap_rule *r, char *buf, size_t len)
{
	char ports[16] = "", dst[64] = "";

	if (r->port_lo != 0 || r->port_hi != 65535) {
		if (r->port_lo == r->port_hi)
			snprintf(ports, sizeof(ports), " %u", r->port_lo);
		else
			snprintf(ports, sizeof(ports), " %u-%u", r->port_lo, r->port_hi);
	}
	if (r->has_dst) {
		strcpy(dst, " to ");
		ss_cidr_format(&r->dst, dst + 4, sizeof(dst) - 4);
	}
	snprintf(buf, len, "%s%s%s", proto_name(r->proto), ports, dst);
}

bool ss_cap_rule_equal(const ss_cap_rule *a, const ss_cap_rule *b)
{
	return a->proto == b->proto && a->port_lo == b->port_lo && a->port_hi == b->port_hi &&
	       a->has_dst == b->has_dst &&
	       (!a->has_dst || (a->dst.family == b->dst.family && a->dst.prefix == b->dst.prefix &&
				!memcmp(a->dst.addr, b->dst.addr, 16)));
}

/* ---- packets ---- */

static bool icmp_error(uint8_t proto, uint8_t type)
{
	if (proto == IPPROTO_ICMP)
		return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	return type >= 1 && type <= 4;
}

static bool icmp_echo(uint8_t proto, uint8_t type)
{
	if (proto == IPPROTO_ICMP)
		return type == 8 || type == 0;
	return type == 128 || type == 129;
}

static void parse_l4(const uint8_t *pkt, size_t len, size_t off, ss_pkt_info *pi)
{
	const uint8_t *l4 = pkt + off;
	size_t rem = len - off;

	if (pi->later_frag)
		return;
	/* Ports need 4 bytes: an ICMP error may quote no more of a TCP header than that. */
	if ((pi->proto == IPPROTO_TCP || pi->proto == IPPROTO_UDP) && rem >= 4) {
		pi->sport = (uint16_t)(l4[0] << 8 | l4[1]);
		pi->dport = (uint16_t)(l4[2] << 8 | l4[3]);
		pi->tcp_flags = pi->proto == IPPROTO_TCP && rem >= 14 ? l4[13] : 0;
		pi->has_ports = true;
	} else if ((pi->proto == IPPROTO_ICMP || pi->proto == IPPROTO_ICMPV6_) && rem >= 8) {
		pi->icmp_type = l4[0];
		pi->has_ports = true;
		if (icmp_echo(pi->proto, l4[0]))
			pi->sport = pi->dport = (uint16_t)(l4[4] << 8 | l4[5]);
		if (icmp_error(pi->proto, l4[0])) {
			pi->inner = l4 + 8;
			pi->inner_len = rem - 8;
		}
	}
}

/*
 * IPv4 options: source routing (LSRR 0x83, SSRR 0x89) names the next hop after the header's
 * destination, so the address the rules checked would not be where the packet goes if this
 * host forwards. Refused, as are options the kernel itself would reject as malformed.
 */
static int check_v4_options(const uint8_t *pkt, size_t ihl)
{
	size_t i = 20;

	while (i < ihl) {
		uint8_t type = pkt[i];

		if (type == 0) /* end of list */
			break;
		if (type == 1) { /* no-op */
			i++;
			continue;
		}
		if (i + 2 > ihl || pkt[i + 1] < 2 || i + pkt[i + 1] > ihl)
			return SS_ERR_MALFORMED;
		if (type == 0x83 || type == 0x89)
			return SS_ERR_MALFORMED;
		i += pkt[i + 1];
	}
	return 0;
}

static int parse_v4(const uint8_t *pkt, size_t len, ss_pkt_info *pi)
{
	size_t ihl = (size_t)(pkt[0] & 15) * 4;

	if (len < 20 || ihl < 20 || ihl > len || check_v4_options(pkt, ihl))
		return SS_ERR_MALFORMED;
	pi->family = 4;
	pi->proto = pkt[9];
	pi->src = pkt + 12;
	pi->dst = pkt + 16;
	pi->later_frag = ((pkt[6] & 0x1f) << 8 | pkt[7]) != 0;
	parse_l4(pkt, len, ihl, pi);
	return 0;
}

static bool v6_ext_header(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 60 || nh == 44 || nh == 51;
}

/*
 * Fail secure on the extension-header chain: a chain longer than MAX_EXT_HEADERS is
 * refused (its last "protocol" would be an extension header), and so is a routing header
 * with segments left, which sends the packet on to an address the rules never saw. After
 * the fragment header of a later fragment the bytes are payload, not headers: the walk
 * stops there.
 */
static int parse_v6(const uint8_t *pkt, size_t len, ss_pkt_info *pi)
{
	size_t off = 40;
	uint8_t nh;

	if (len < 40)
		return SS_ERR_MALFORMED;
	pi->family = 6;
	pi->src = pkt + 8;
	pi->dst = pkt + 24;
	nh = pkt[6];
	for (int k = 0; k < MAX_EXT_HEADERS && v6_ext_header(nh); k++) {
		if (off + 8 > len)
			return SS_ERR_MALFORMED;
		if (nh == 43 && pkt[off + 3] != 0)
			return SS_ERR_MALFORMED;
		if (nh == 44 && ((pkt[off + 2] << 8 | pkt[off + 3]) & 0xfff8))
			pi->later_frag = true;
		size_t hl = nh == 44   ? 8
			    : nh == 51 ? ((size_t)pkt[off + 1] + 2) * 4
				       : ((size_t)pkt[off + 1] + 1) * 8;
		nh = pkt[off];
		off += hl;
		if (off > len)
			return SS_ERR_MALFORMED;
		if (pi->later_frag)
			break;
	}
	if (v6_ext_header(nh) && !pi->later_frag)
		return SS_ERR_MALFORMED;
	pi->proto = nh;
	parse_l4(pkt, len, off, pi);
	return 0;
}

int ss_pkt_parse(const uint8_t *pkt, size_t len, ss_pkt_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 1)
		return SS_ERR_MALFORMED;
	if (pkt[0] >> 4 == 4)
		return parse_v4(pkt, len, out);
	if (pkt[0] >> 4 == 6)
		return parse_v6(pkt, len, out);
	return SS_ERR_MALFORMED;
}

static bool prefix_match(const ss_cidr *c, const ss_pkt_info *pi)
{
	unsigned bits = c->prefix, full = bits / 8;

	if ((c->family == AF_INET) != (pi->family == 4))
		return false;
	if (memcmp(c->addr, pi->dst, full))
		return false;
	return !(bits % 8) || !((c->addr[full] ^ pi->dst[full]) & (0xff << (8 - bits % 8)));
}

bool ss_cap_rule_match(const ss_cap_rule *r, const ss_pkt_info *pi)
{
	if (r->proto == SS_CAP_ICMP) {
		if (pi->proto != IPPROTO_ICMP && pi->proto != IPPROTO_ICMPV6_)
			return false;
	} else if (r->proto != SS_CAP_ANY && r->proto != pi->proto) {
		return false;
	}
	/* Fail secure: a later fragment has no ports, so only port-less rules admit it. */
	if ((r->port_lo != 0 || r->port_hi != 65535) &&
	    (!pi->has_ports || pi->dport < r->port_lo || pi->dport > r->port_hi))
		return false;
	return !r->has_dst || prefix_match(&r->dst, pi);
}

bool ss_cap_match(const ss_cap_rule *rules, size_t n, const ss_pkt_info *pi)
{
	for (size_t i = 0; i < n; i++)
		if (ss_cap_rule_match(&rules[i], pi))
			return true;
	return false;
}

void ss_pkt_format(const ss_pkt_info *pi, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN] = "?", d[INET6_ADDRSTRLEN] = "?", proto[16];
	int af = pi->family == 4 ? AF_INET : AF_INET6;
	bool ports = pi->has_ports && (pi->proto == IPPROTO_TCP || pi->proto == IPPROTO_UDP);

	if (pi->src)
		inet_ntop(af, pi->src, s, sizeof(s));
	if (pi->dst)
		inet_ntop(af, pi->dst, d, sizeof(d));
	if (pi->proto == IPPROTO_TCP || pi->proto == IPPROTO_UDP)
		snprintf(proto, sizeof(proto), "%s", proto_name(pi->proto));
	else if (pi->proto == IPPROTO_ICMP || pi->proto == IPPROTO_ICMPV6_)
		snprintf(proto, sizeof(proto), "icmp type %u", pi->icmp_type);
	else
		snprintf(proto, sizeof(proto), "proto %u", pi->proto);
	if (ports && af == AF_INET6)
		snprintf(buf, len, "%s [%s]:%u -> [%s]:%u", proto, s, pi->sport, d, pi->dport);
	else if (ports)
		snprintf(buf, len, "%s %s:%u -> %s:%u", proto, s, pi->sport, d, pi->dport);
	else
		snprintf(buf, len, "%s %s -> %s", proto, s, d);
}

int ss_duration_parse(const char *s, uint32_t *seconds)
{
	uint64_t v = 0, mult = 1;
	const char *p = s;

	while (*p >= '0' && *p <= '9' && v < 100000000)
		v = v * 10 + (uint64_t)(*p++ - '0');
	if (p == s)
		return SS_ERR_FORMAT;
	if (*p && p[1])
		return SS_ERR_FORMAT;
	switch (*p) {
	case '\0':
	case 's':
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	default:
		return SS_ERR_FORMAT;
	}
	v *= mult;
	if (!v || v > UINT32_MAX)
		return SS_ERR_FORMAT;
	*seconds = (uint32_t)v;
	return 0;
}
