/* SPDX-License-Identifier: MIT */
/*
 * What `silosecd -t` warns about: configurations that load but will not do what their
 * author most likely meant. Pure: no I/O, the caller prints (and tests count) warnings.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "common/ini.h"
#include "config.h"

static void peer_name(const ss_conf_peer *p, char *buf, size_t len)
{
	char f[SS_FINGERPRINT_LEN];

	if (p->label)
		snprintf(buf, len, "%s", p->label);
	else if (p->tofu)
		snprintf(buf, len, "(tofu, line %u)", p->line);
	else {
		ss_fingerprint(p->identity, f);
		snprintf(buf, len, "%s", f);
	}
}

/* One prefix contains the other: equal under the shorter prefix. */
static bool cidr_overlap(const ss_cidr *a, const ss_cidr *b)
{
	unsigned bits = a->prefix < b->prefix ? a->prefix : b->prefix, i;
	uint8_t mask;

	if (a->family != b->family)
		return false;
	for (i = 0; i < bits / 8; i++)
		if (a->addr[i] != b->addr[i])
			return false;
	if (bits % 8 == 0)
		return true;
	mask = (uint8_t)(0xff00 >> (bits % 8));
	return (a->addr[i] & mask) == (b->addr[i] & mask);
}

static size_t warn(ss_conf_warn_fn fn, void *arg, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t warn(ss_conf_warn_fn fn, void *arg, unsigned line, const char *fmt, ...)
{
	char msg[SS_CONF_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (fn)
		fn(arg, line, msg);
	return 1;
}

/* Checks on one peer alone. */
static size_t lint_peer(const ss_conf *c, const ss_conf_peer *p, const uint8_t *own,
			ss_conf_warn_fn fn, void *arg)
{
	char name[64], a[64];
	size_t n = 0, i;

	peer_name(p, name, sizeof(name));
	if (own && !p->tofu && !memcmp(p->identity, own, SS_IDENTITY_LEN))
		n += warn(fn, arg, p->line, "peer %s is this host's own identity", name);
	if (!c->policy_allow && !p->has_allow && !p->nallow)
		n += warn(fn, arg, p->line,
			  "peer %s has no Allow and Policy = deny: it reaches nothing on this "
			  "host except replies (add Allow = ...)",
			  name);
	if (c->table_mode == SS_TABLE_AUTO)
		return n;
	for (i = 0; i < p->nallowed; i++) {
		if (p->allowed[i].prefix)
			continue;
		ss_cidr_format(&p->allowed[i], a, sizeof(a));
		n += warn(fn, arg, p->line,
			  "peer %s: AllowedIPs %s with Table = %s: no full-tunnel routing is set "
			  "up (Table = auto does)",
			  name, a, c->table_mode == SS_TABLE_OFF ? "off" : "a number");
	}
	return n;
}

/* The first prefix of p that overlaps one of q's, with both formatted. */
static bool peers_overlap(const ss_conf_peer *p, const ss_conf_peer *q, char *a, char *b)
{
	size_t i, j;

	for (i = 0; i < p->nallowed; i++)
		for (j = 0; j < q->nallowed; j++)
			if (cidr_overlap(&p->allowed[i], &q->allowed[j])) {
				ss_cidr_format(&p->allowed[i], a, 64);
				ss_cidr_format(&q->allowed[j], b, 64);
				return true;
			}
	return false;
}

size_t ss_conf_lint(const ss_conf *c, const uint8_t *own_identity, ss_conf_warn_fn fn, void *arg)
{
	char n1[64], n2[64], a[64], b[64];
	size_t n = 0, i, j;

	for (i = 0; i < c->npeers; i++)
		n += lint_peer(c, &c->peers[i], own_identity, fn, arg);
	for (i = 0; i < c->npeers; i++)
		for (j = i + 1; j < c->npeers; j++) {
			if (!peers_overlap(&c->peers[i], &c->peers[j], a, b))
				continue;
			peer_name(&c->peers[i], n1, sizeof(n1));
			peer_name(&c->peers[j], n2, sizeof(n2));
			n += warn(fn, arg, c->peers[j].line,
				  "peer %s: AllowedIPs %s overlaps %s of peer %s (line %u): one "
				  "address goes to one peer only",
				  n2, b, a, n1, c->peers[i].line);
		}
	return n;
}

int ss_conf_load_identity(const ss_conf *c, ss_identity **id, char *err, size_t errlen)
{
	int ret;

	if (c->has_private_key) {
		ret = ss_identity_from_seed(id, c->private_key);
		if (ret)
			snprintf(err, errlen, "%s: PrivateKey: %s", c->path, ss_strerror(ret));
		return ret;
	}
	ret = ss_keyfile_load(c->private_key_file, id);
	if (ret == SS_ERR_PERM)
		snprintf(err, errlen,
			 "%s: readable by group or others; refusing to use it (chmod 600 %s)",
			 c->private_key_file, c->private_key_file);
	else if (ret == SS_ERR_IO)
		snprintf(err, errlen, "%s: %s", c->private_key_file, strerror(errno));
	else if (ret == SS_ERR_FORMAT && ss_ini_file_has_cr(c->private_key_file))
		snprintf(err, errlen,
			 "%s: not a SiloSec private key: Windows line endings (CRLF); convert "
			 "with dos2unix",
			 c->private_key_file);
	else if (ret)
		snprintf(err, errlen, "%s: not a SiloSec private key (%s)", c->private_key_file,
			 ss_strerror(ret));
	return ret;
}
