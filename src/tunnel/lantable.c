/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "lantable.h"

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool in_prefix(const uint8_t a[16], const ss_lan_prefix *p)
{
	unsigned full = p->len / 8, bits = p->len % 8;

	if (p->len > 128 || memcmp(a, p->addr, full))
		return false;
	return !bits || ((a[full] ^ p->addr[full]) & (uint8_t)(0xff << (8 - bits))) == 0;
}

/* Sources no host sends from: unspecified, multicast, IPv4 broadcast and 0/8. */
static bool never_source(const uint8_t a[16])
{
	static const uint8_t zero[16];

	if (!memcmp(a, v4mapped, sizeof(v4mapped)))
		return a[12] == 0 || a[12] >= 224;
	return !memcmp(a, zero, 16) || a[0] == 0xff;
}

bool ss_lan_onlink(const ss_lan_prefix *p, size_t n, uint32_t ifindex, const uint8_t addr[16])
{
	if (!ifindex || never_source(addr))
		return false;
	if (addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80)
		return true;
	for (size_t i = 0; i < n; i++)
		if (p[i].ifindex == ifindex && in_prefix(addr, &p[i]))
			return true;
	return false;
}

void ss_lan_table_note(ss_lan_table *t, const uint8_t identity[SS_IDENTITY_LEN],
		       const uint8_t addr[16], uint16_t port, uint32_t ifindex, uint64_t now_ns)
{
	ss_lan_entry *e = NULL;

	ss_lan_table_expire(t, now_ns);
	for (size_t i = 0; i < SS_LAN_OPEN_TABLE && !e; i++)
		if (t->e[i].used && !memcmp(t->e[i].identity, identity, SS_IDENTITY_LEN))
			e = &t->e[i];
	for (size_t i = 0; i < SS_LAN_OPEN_TABLE && !e; i++)
		if (!t->e[i].used)
			e = &t->e[i];
	if (!e) {
		e = &t->e[0];
		for (size_t i = 1; i < SS_LAN_OPEN_TABLE; i++)
			if (t->e[i].last_ns < e->last_ns)
				e = &t->e[i];
		e->used = false;
	}
	if (!e->used) {
		memset(e, 0, sizeof(*e));
		e->used = true;
		memcpy(e->identity, identity, SS_IDENTITY_LEN);
		e->first_ns = now_ns;
	}
	memcpy(e->addr, addr, 16);
	e->port = port;
	e->ifindex = ifindex;
	e->last_ns = now_ns;
}

size_t ss_lan_table_expire(ss_lan_table *t, uint64_t now_ns)
{
	size_t n = 0;

	for (size_t i = 0; i < SS_LAN_OPEN_TABLE; i++) {
		ss_lan_entry *e = &t->e[i];

		if (e->used && now_ns - e->last_ns >= SS_LAN_LIFETIME)
			memset(e, 0, sizeof(*e));
		n += e->used;
	}
	return n;
}
