/* SPDX-License-Identifier: MIT */
/*
 * The tunnel configuration file. Strict on purpose: a tunnel that comes up with a
 * mistyped key silently ignored (a missing AllowedIPs, a TOFU peer pinned nowhere) is
 * worse than one that refuses to start, so anything not understood is an error that
 * names the file, the line, the key and the value.
 */
#include "config.h"
#include "common/ctlsock.h"
#include "common/capability.h"
#include "common/decimal.h"
#include "common/ini.h"
#include "common/wipe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#define MAX_FILE_SIZE ((size_t)16 << 20)
#define MAX_HOST_LEN 253 /* longest DNS name */

enum section { SEC_INTERFACE = 1, SEC_PEER, SEC_GROUP };

enum key_id {
	K_NAME,
	K_PRIVATE_KEY_FILE,
	K_PRIVATE_KEY,
	K_ADDRESS,
	K_LISTEN_PORT,
	K_TRANSPORT,
	K_MTU,
	K_TRUST_STORE,
	K_ACCEPT_TOFU,
	K_POLICY,
	K_TUN_RING,
	K_CT_PER_PEER,
	K_LAN_DISCOVERY,
	K_TABLE,
	K_FWMARK,
	K_DNS,
	K_PRE_UP,
	K_POST_UP,
	K_PRE_DOWN,
	K_POST_DOWN,
	K_CAND_ALLOW,
	K_ADVERTISE_LOCAL,
	K_PRIVATE,
	K_IDENTITY,
	K_ENDPOINT,
	K_ALLOWED_IPS,
	K_KEEPALIVE,
	K_ALLOW,
	K_SAVE_CONFIG,
	K_PEER_NAME,
	K_GROUPS,
	K_GROUP_ALLOW,
	K_RELAY,
	K_INTRODUCER,
	K_INTRODUCE,
	K_COUNT
};

struct parser {
	struct ss_ini ini; /* file, line, section, keys seen */
	ss_conf *conf;
	unsigned iface_line; /* header line of [Interface], 0 before it */
	unsigned mtu_line;
	unsigned *id_lines; /* line of each peer's Identity, for duplicate reports */
};

static int fail(struct parser *p, unsigned line, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct parser *p, unsigned line, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = ss_ini_vfail(&p->ini, line, code, fmt, ap);
	va_end(ap);
	return code;
}

static int nomem(struct parser *p)
{
	return fail(p, p->ini.line, SS_ERR_NOMEM, "out of memory");
}

/*
 * Arrays hold n elements in a capacity of max(4, the next power of two above n), so
 * growing needs no capacity field: it happens exactly when n reaches such a size.
 */
static int grow(void **arr, size_t n, size_t size)
{
	size_t cap = n < 4 ? 4 : n * 2;
	void *q;

	if (n >= 4 && (n & (n - 1)))
		return 0;
	if (cap > SIZE_MAX / size)
		return SS_ERR_NOMEM;
	q = realloc(*arr, cap * size);
	if (!q)
		return SS_ERR_NOMEM;
	*arr = q;
	return 0;
}

static const char *endpoint_problem(const char *s)
{
	const char *colon, *port;
	uint32_t v;

	if (s[0] == '[') {
		char addr[INET6_ADDRSTRLEN];
		uint8_t bin[16];
		const char *close = strchr(s, ']');
		size_t len = close ? (size_t)(close - s - 1) : 0;

		if (!close)
			return "missing ']' after the IPv6 address";
		if (len == 0 || len >= sizeof(addr))
			return "not an IPv6 address inside [ ]";
		memcpy(addr, s + 1, len);
		addr[len] = '\0';
		if (inet_pton(AF_INET6, addr, bin) != 1)
			return "not an IPv6 address inside [ ]";
		if (close[1] != ':')
			return "expected ':PORT' after ']'";
		port = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return "expected HOST:PORT";
		if (colon == s)
			return "empty host";
		if ((size_t)(colon - s) > MAX_HOST_LEN)
			return "host name longer than 253 characters";
		for (const char *h = s; h < colon; h++) {
			if (*h == ':')
				return "an IPv6 address needs brackets: [ADDRESS]:PORT";
			if ((unsigned char)*h <= ' ' || *h == 0x7f || *h == '[' || *h == ']')
				return "host contains a space, control character or bracket";
		}
		port = colon + 1;
	}
	if (strlen(port) > 5 || ss_decimal_parse(port, 65535, &v) || v == 0)
		return "port must be a number 1..65535";
	return NULL;
}

int ss_endpoint_check(const char *s)
{
	return s && !endpoint_problem(s) ? 0 : SS_ERR_FORMAT;
}

bool ss_conf_name_chars(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

static bool valid_ifname(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > SS_CONF_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	return ss_conf_name_chars(s);
}

/* Relative paths are relative to the configuration file, not the daemon's cwd. */
static int resolve(struct parser *p, const char *val, char **out)
{
	const char *slash = strrchr(p->ini.file, '/');
	size_t dirlen = slash ? (size_t)(slash - p->ini.file) : 0;
	char *s;

	if (val[0] == '/' || !slash) {
		s = strdup(val);
	} else {
		s = malloc(dirlen + strlen(val) + 2);
		if (s)
			sprintf(s, "%.*s/%s", (int)dirlen, p->ini.file, val);
	}
	if (!s)
		return nomem(p);
	*out = s;
	return 0;
}

static int set_name(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	if (!valid_ifname(val))
		return fail(p, p->ini.line, SS_ERR_FORMAT,
			    "%s: \"%s\" is not an interface name (1..%d characters of "
			    "A-Z a-z 0-9 _ . -, not \".\" or \"..\")",
			    k->name, val, SS_CONF_IFNAME_MAX);
	strcpy(p->conf->name, val);
	return 0;
}

static int conflicting_key(struct parser *p, const struct ss_ini_key *k, enum key_id other)
{
	if (!ss_ini_seen(&p->ini, other))
		return 0;
	return fail(p, p->ini.line, SS_ERR_FORMAT,
		    "%s: PrivateKey and PrivateKeyFile are exclusive (the other is on line %u)",
		    k->name, ss_ini_seen(&p->ini, other));
}

static int set_private_key_file(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	int ret = conflicting_key(p, k, K_PRIVATE_KEY);

	return ret ? ret : resolve(p, val, &p->conf->private_key_file);
}

/* The value is a secret: messages never quote it. */
static int set_private_key(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	int ret = conflicting_key(p, k, K_PRIVATE_KEY_FILE);

	if (ret)
		return ret;
	if (ss_key_from_base64(val, p->conf->private_key))
		return fail(p, p->ini.line, SS_ERR_FORMAT,
			    "%s: value is not a base64 32-byte key (44 characters ending in '=')",
			    k->name);
	p->conf->has_private_key = true;
	return 0;
}

/* The next item of a comma-separated list, trimmed; *rest moves past it (NULL after the last). */
static char *next_item(char **rest)
{
	char *item = *rest, *comma = strchr(item, ',');

	if (comma)
		*comma++ = '\0';
	*rest = comma;
	return ss_ini_trim(item);
}

/* Appends each CIDR of a comma-separated list. */
static int add_cidrs(struct parser *p, const struct ss_ini_key *k, char *val, ss_cidr **arr,
		     size_t *n)
{
	for (char *rest = val; rest;) {
		char *item = next_item(&rest);
		ss_cidr c;

		if (!*item)
			return fail(p, p->ini.line, SS_ERR_FORMAT, "%s: empty item in the list",
				    k->name);
		if (ss_cidr_parse(item, &c))
			return fail(p, p->ini.line, SS_ERR_FORMAT,
				    "%s: \"%s\" is not an address or ADDRESS/PREFIX", k->name,
				    item);
		if (grow((void **)arr, *n, sizeof(**arr)))
			return nomem(p);
		(*arr)[(*n)++] = c;
	}
	return 0;
}

static int set_address(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	return add_cidrs(p, k, val, &p->conf->addrs, &p->conf->naddrs);
}

static int set_listen_port(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	uint32_t v;

	if (ss_decimal_parse(val, 65535, &v) || v == 0)
		return fail(p, p->ini.line, SS_ERR_FORMAT, "%s: \"%s\" is not a port (1..65535)",
			    k->name, val);
	p->conf->listen_port = (uint16_t)v;
	return 0;
}

static int set_transport(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	if (!strcasecmp(val, "udp"))
		p->conf->transport = SS_TRANSPORT_UDP;
	else if (!strcasecmp(val, "ip"))
		p->conf->transport = SS_TRANSPORT_IP;
	else
		return fail(p, p->ini.line, SS_ERR_FORMAT, "%s: \"%s\" is not udp or ip", k->name,
			    val);
	return 0;
}

/* The IPv6 minimum depends on Address lines that may follow: checked again at the end. */
static int set_mtu(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	if (ss_decimal_parse(val, 65535, &p->conf->mtu) || p->conf->mtu < 576)
		return fail(p, p->ini.line, SS_ERR_FORMAT, "%s: \"%s\" is not a number 576..65535",
			    k->name, val);
	p->mtu_line = p->ini.line;
	return 0;
}

/* Kept as written here; finish() puts a relative one in the interface's state dir. */
static int set_trust_store(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	(void)k;
	p->conf->trust_store = strdup(val);
	return p->conf->trust_store ? 0 : nomem(p);
}

/*
 * A relative TrustStore lives in the interface's state directory, which silosecd gives to
 * its user: pins are saved by a rename there, with no file-permission override.
 */
static int trust_store_path(struct parser *p)
{
	char dir[PATH_MAX], *s;
	ss_conf *c = p->conf;

	if (!c->trust_store || c->trust_store[0] == '/')
		return 0;
	if (ss_state_dir(c->name, dir, sizeof(dir)) ||
	    !(s = malloc(strlen(dir) + strlen(c->trust_store) + 2)))
		return nomem(p);
	sprintf(s, "%s/%s", dir, c->trust_store);
	free(c->trust_store);
	c->trust_store = s;
	return 0;
}

static int parse_bool(struct parser *p, const struct ss_ini_key *k, const char *val, bool *out)
{
	if (ss_ini_bool(val, out))
		return fail(p, p->ini.line, SS_ERR_FORMAT, "%s: \"%s\" is not %s", k->name, val,
			    SS_INI_BOOL_FORMS);
	return 0;
}

static int set_accept_tofu(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	return parse_bool(p, k, val, &p->conf->accept_anonymous);
}

static int set_tun_ring(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	return parse_bool(p, k, val, &p->conf->tun_ring);
}

static int set_policy(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	if (strcasecmp(val, "allow") && strcasecmp(val, "deny"))
		return fail(p, p->ini.line, SS_ERR_FORMAT, "%s: \"%s\" is neither allow nor deny",
			    k->name, val);
	p->conf->policy_allow = !strcasecmp(val, "allow");
	return 0;
}

static int set_ct_per_peer(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	if (ss_decimal_parse(val, 1000000, &p->conf->ct_per_peer) || !p->conf->ct_per_peer)
		return fail(p, p->ini.line, SS_ERR_FORMAT,
			    "%s: \"%s\" is not a number of connections 1..1000000", k->name, val);
	return 0;
}

/* "auto", "off", "main" or a table number (wg-quick's values). */
static int set_table(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	ss_conf *c = p->conf;

	if (!strcasecmp(val, "auto"))
		c->table_mode = SS_TABLE_AUTO;
	else if (!strcasecmp(val, "off"))
		c->table_mode = SS_TABLE_OFF;
	else if (!strcasecmp(val, "main"))
		c->table_mode = SS_TABLE_NUM, c->table = SS_CONF_TABLE_MAIN;
	else if (!ss_decimal_parse(val, UINT32_MAX, &c->table) && c->table)
		c->table_mode = SS_TABLE_NUM;
	else
		return fail(p, p->ini.line, SS_ERR_FORMAT,
			    "%s: \"%s\" is not auto, off, main or a table number 1..4294967295",
			    k->name, val);
	return 0;
}

/* Decimal or 0x hexadecimal, as `ip rule` and wg(8) take it; "off" or 0: no mark. */
static int set_fwmark(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	unsigned long long v = 0;
	char *end = NULL;

	if (strcasecmp(val, "off")) {
		errno = 0;
		v = strtoull(val, &end, 0);
		if (val[0] == '-' || val[0] == '+' || !*val || *end || errno || v > UINT32_MAX)
			return fail(p, p->ini.line, SS_ERR_FORMAT,
				    "%s: \"%s\" is not off or a mark 0..0xffffffff", k->name, val);
	}
	p->conf->fwmark = (uint32_t)v;
	return 0;
}

static bool valid_domain(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '_'))
			return false;
	return true;
}

/* Addresses are servers, anything else a search domain (wg-quick's rule). */
static int set_dns(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	ss_conf *c = p->conf;

	for (char *rest = val; rest;) {
		char *item = next_item(&rest);
		ss_cidr cidr;
		bool server;

		server = !strchr(item, '/') && !ss_cidr_parse(item, &cidr);
		if (!server && !valid_domain(item))
			return fail(p, p->ini.line, SS_ERR_FORMAT,
				    "%s: \"%s\" is neither an address nor a search domain", k->name,
				    item);
		if ((server ? c->ndns_servers : c->ndns_search) >= SS_CONF_MAX_DNS)
			return fail(p, p->ini.line, SS_ERR_FORMAT, "%s: more than %d %s", k->name,
				    SS_CONF_MAX_DNS, server ? "servers" : "domains");
		item = strdup(item);
		if (!item)
			return nomem(p);
		if (server)
			c->dns_servers[c->ndns_servers++] = item;
		else
			c->dns_search[c->ndns_search++] = item;
	}
	return 0;
}

/* Kept verbatim (%i is expanded when the hook runs); k->off is the hook's kind. */
static int set_hook(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	size_t *n = &p->conf->nhooks[k->off];

	if (*n >= SS_CONF_MAX_HOOKS)
		return fail(p, p->ini.line, SS_ERR_FORMAT, "%s: more than %d lines", k->name,
			    SS_CONF_MAX_HOOKS);
	p->conf->hooks[k->off][*n] = strdup(val);
	if (!p->conf->hooks[k->off][*n])
		return nomem(p);
	(*n)++;
	return 0;
}

static int set_lan_discovery(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	static const char *const modes[] = {
		[SS_LAN_OFF] = "off", [SS_LAN_MODE_PEERS] = "peers", [SS_LAN_MODE_OPEN] = "open"};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (!strcasecmp(val, modes[i])) {
			p->conf->lan_discovery = (enum ss_lan_discovery)i;
			return 0;
		}
	}
	return fail(p, p->ini.line, SS_ERR_FORMAT, "%s: \"%s\" is not off, peers or open", k->name,
		    val);
}

static ss_conf_peer *cur_peer(struct parser *p)
{
	return &p->conf->peers[p->conf->npeers - 1];
}

static int set_identity(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	ss_conf_peer *peer = cur_peer(p);

	p->id_lines[p->conf->npeers - 1] = p->ini.line;
	if (!strcasecmp(val, "tofu")) {
		peer->tofu = true;
		return 0;
	}
	if (ss_key_from_base64(val, peer->identity))
		return fail(p, p->ini.line, SS_ERR_FORMAT,
			    "%s: \"%s\" is neither tofu nor a base64 32-byte key", k->name, val);
	if (ss_identity_check_pub(peer->identity))
		return fail(p, p->ini.line, SS_ERR_BAD_KEY,
			    "%s: \"%s\" is a weak key (small-order or non-canonical point)",
			    k->name, val);
	return 0;
}

static int set_endpoint(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	const char *why = endpoint_problem(val);

	if (why)
		return fail(p, p->ini.line, SS_ERR_FORMAT, "%s: \"%s\": %s", k->name, val, why);
	cur_peer(p)->endpoint = strdup(val);
	return cur_peer(p)->endpoint ? 0 : nomem(p);
}

static int set_allowed_ips(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	ss_conf_peer *peer = cur_peer(p);

	return add_cidrs(p, k, val, &peer->allowed, &peer->nallowed);
}

static int set_allow(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	ss_conf_peer *peer = cur_peer(p);
	char why[160];

	if (!peer->allow) {
		peer->allow = calloc(SS_CAP_MAX_RULES, sizeof(*peer->allow));
		if (!peer->allow)
			return nomem(p);
	}
	peer->has_allow = true;
	peer->allow_line = p->ini.line;
	/* "none": this peer reaches nothing even under Policy = allow (grants still work). */
	if (!strcasecmp(val, "none"))
		return 0;
	if (ss_cap_list_parse(val, peer->allow, SS_CAP_MAX_RULES, &peer->nallow, why, sizeof(why)))
		return fail(p, p->ini.line, SS_ERR_FORMAT, "%s: %s", k->name, why);
	return 0;
}

static int set_keepalive(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	uint32_t v = 0;

	/* 0 and off turn it off; other durations take units like everywhere (25s, 1m). */
	if (strcasecmp(val, "off") && ss_decimal_parse(val, 65535, &v) &&
	    (ss_duration_parse(val, &v) || v > 65535))
		return fail(p, p->ini.line, SS_ERR_FORMAT,
			    "%s: \"%s\" is not off or a duration of 0..65535 seconds (25, 25s, 1m)",
			    k->name, val);
	cur_peer(p)->keepalive = v;
	return 0;
}

static int set_save_config(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	return parse_bool(p, k, val, &p->conf->save_config);
}

static int set_peer_name(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;

	if (!ss_conf_valid_label(val))
		return fail(p, p->ini.line, SS_ERR_FORMAT,
			    "%s: \"%s\" is not a peer name (1..32 characters of A-Z a-z 0-9 _ . -, "
			    "not a base64 key)",
			    k->name, val);
	if (ss_conf_find_label(p->conf, val) >= 0)
		return fail(p, p->ini.line, SS_ERR_FORMAT,
			    "%s: \"%s\" is already the name of the peer on line %u", k->name, val,
			    p->conf->peers[ss_conf_find_label(p->conf, val)].line);
	cur_peer(p)->label = strdup(val);
	return cur_peer(p)->label ? 0 : nomem(p);
}

static int set_groups(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	ss_conf_peer *peer = cur_peer(p);

	peer->groups_line = p->ini.line;
	for (char *rest = val; rest;) {
		char *item = next_item(&rest);

		if (!ss_conf_valid_label(item))
			return fail(p, p->ini.line, SS_ERR_FORMAT,
				    "%s: \"%s\" is not a group name (1..32 characters of A-Z a-z "
				    "0-9 _ . -)",
				    k->name, item);
		if (ss_conf_add_group(peer, item))
			return nomem(p);
	}
	return 0;
}

static int set_group_allow(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	ss_conf_group *g = &p->conf->groups[p->conf->ngroups - 1];
	char why[160];

	if (!g->allow && !(g->allow = calloc(SS_CAP_MAX_RULES, sizeof(*g->allow))))
		return nomem(p);
	g->has_allow = true;
	if (!strcasecmp(val, "none"))
		return 0;
	if (ss_cap_list_parse(val, g->allow, SS_CAP_MAX_RULES, &g->nallow, why, sizeof(why)))
		return fail(p, p->ini.line, SS_ERR_FORMAT, "%s: %s", k->name, why);
	return 0;
}

static int set_relay(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	bool b;

	if (!strcasecmp(val, "serve")) {
		cur_peer(p)->relay = SS_CONF_RELAY_SERVE;
		return 0;
	}
	if (strcasecmp(val, "yes") && strcasecmp(val, "no"))
		return fail(p, p->ini.line, SS_ERR_FORMAT, "%s: \"%s\" is not yes, serve or no",
			    k->name, val);
	(void)parse_bool(p, k, val, &b);
	cur_peer(p)->relay = b ? SS_CONF_RELAY_USE : SS_CONF_RELAY_NO;
	return 0;
}

static int set_cand_allow(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	int ret = add_cidrs(p, k, val, &p->conf->cand_allow, &p->conf->ncand_allow);

	if (!ret && p->conf->ncand_allow > SS_CAND_ALLOW_MAX)
		return fail(p, p->ini.line, SS_ERR_FORMAT, "%s: more than %d prefixes", k->name,
			    SS_CAND_ALLOW_MAX);
	return ret;
}

static int set_advertise_local(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	return parse_bool(p, k, val, &p->conf->advertise_local);
}

static int set_private(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	return parse_bool(p, k, val, &p->conf->private_host);
}

static int set_introducer(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;

	cur_peer(p)->introducer_line = p->ini.line;
	return parse_bool(p, k, val, &cur_peer(p)->introducer);
}

static int set_introduce(void *ctx, const struct ss_ini_key *k, char *val)
{
	struct parser *p = ctx;
	return parse_bool(p, k, val, &cur_peer(p)->introduce);
}

static const struct ss_ini_key keys[K_COUNT] = {
	[K_NAME] = {"Name", SEC_INTERFACE, false, set_name, 0},
	[K_PRIVATE_KEY_FILE] = {"PrivateKeyFile", SEC_INTERFACE, false, set_private_key_file, 0},
	[K_PRIVATE_KEY] = {"PrivateKey", SEC_INTERFACE, false, set_private_key, 0},
	[K_ADDRESS] = {"Address", SEC_INTERFACE, true, set_address, 0},
	[K_LISTEN_PORT] = {"ListenPort", SEC_INTERFACE, false, set_listen_port, 0},
	[K_TRANSPORT] = {"Transport", SEC_INTERFACE, false, set_transport, 0},
	[K_MTU] = {"MTU", SEC_INTERFACE, false, set_mtu, 0},
	[K_TRUST_STORE] = {"TrustStore", SEC_INTERFACE, false, set_trust_store, 0},
	[K_ACCEPT_TOFU] = {"AcceptTofu", SEC_INTERFACE, false, set_accept_tofu, 0},
	[K_POLICY] = {"Policy", SEC_INTERFACE, false, set_policy, 0},
	[K_TUN_RING] = {"TunRing", SEC_INTERFACE, false, set_tun_ring, 0},
	[K_CT_PER_PEER] = {"ConntrackPerPeer", SEC_INTERFACE, false, set_ct_per_peer, 0},
	[K_LAN_DISCOVERY] = {"LanDiscovery", SEC_INTERFACE, false, set_lan_discovery, 0},
	[K_TABLE] = {"Table", SEC_INTERFACE, false, set_table, 0},
	[K_FWMARK] = {"FwMark", SEC_INTERFACE, false, set_fwmark, 0},
	[K_DNS] = {"DNS", SEC_INTERFACE, true, set_dns, 0},
	[K_PRE_UP] = {"PreUp", SEC_INTERFACE, true, set_hook, SS_HOOK_PRE_UP},
	[K_POST_UP] = {"PostUp", SEC_INTERFACE, true, set_hook, SS_HOOK_POST_UP},
	[K_PRE_DOWN] = {"PreDown", SEC_INTERFACE, true, set_hook, SS_HOOK_PRE_DOWN},
	[K_POST_DOWN] = {"PostDown", SEC_INTERFACE, true, set_hook, SS_HOOK_POST_DOWN},
	[K_CAND_ALLOW] = {"CandidateAllow", SEC_INTERFACE, true, set_cand_allow, 0},
	[K_ADVERTISE_LOCAL] = {"AdvertiseLocal", SEC_INTERFACE, false, set_advertise_local, 0},
	[K_PRIVATE] = {"Private", SEC_INTERFACE, false, set_private, 0},
	[K_IDENTITY] = {"Identity", SEC_PEER, false, set_identity, 0},
	[K_ENDPOINT] = {"Endpoint", SEC_PEER, false, set_endpoint, 0},
	[K_ALLOWED_IPS] = {"AllowedIPs", SEC_PEER, true, set_allowed_ips, 0},
	[K_KEEPALIVE] = {"PersistentKeepalive", SEC_PEER, false, set_keepalive, 0},
	[K_ALLOW] = {"Allow", SEC_PEER, true, set_allow, 0},
	[K_SAVE_CONFIG] = {"SaveConfig", SEC_INTERFACE, false, set_save_config, 0},
	[K_PEER_NAME] = {"Name", SEC_PEER, false, set_peer_name, 0},
	[K_GROUPS] = {"Groups", SEC_PEER, false, set_groups, 0},
	[K_GROUP_ALLOW] = {"Allow", SEC_GROUP, true, set_group_allow, 0},
	[K_RELAY] = {"Relay", SEC_PEER, false, set_relay, 0},
	[K_INTRODUCER] = {"Introducer", SEC_PEER, false, set_introducer, 0},
	[K_INTRODUCE] = {"Introduce", SEC_PEER, false, set_introduce, 0},
};

static const char *const section_names[] = {
	[SEC_INTERFACE] = "[Interface]",
	[SEC_PEER] = "[Peer]",
	[SEC_GROUP] = "[Group]",
};

/* Checks that need the whole section, run when the next one starts or at the end. */
static int finish_section(void *ctx)
{
	struct parser *p = ctx;

	if (p->ini.sec == SEC_INTERFACE && !ss_ini_seen(&p->ini, K_PRIVATE_KEY) &&
	    !ss_ini_seen(&p->ini, K_PRIVATE_KEY_FILE))
		return fail(p, p->ini.sec_line, SS_ERR_FORMAT,
			    "[Interface]: needs PrivateKey or PrivateKeyFile");
	if (p->ini.sec != SEC_PEER)
		return 0;
	if (!ss_ini_seen(&p->ini, K_IDENTITY))
		return fail(p, p->ini.sec_line, SS_ERR_FORMAT, "[Peer]: Identity is missing");
	if (cur_peer(p)->tofu && !cur_peer(p)->endpoint)
		return fail(p, p->ini.sec_line, SS_ERR_FORMAT,
			    "[Peer]: Identity = tofu needs an Endpoint (TOFU pins by endpoint)");
	/* Relays are trusted with metadata: configured identities only, never learned. */
	if (cur_peer(p)->tofu && cur_peer(p)->relay)
		return fail(p, ss_ini_seen(&p->ini, K_RELAY), SS_ERR_FORMAT,
			    "Relay: needs a configured Identity, not tofu");
	/* An introducer is trusted with metadata: it must be who the operator named. */
	if (cur_peer(p)->tofu && cur_peer(p)->introducer)
		return fail(p, cur_peer(p)->introducer_line, SS_ERR_FORMAT,
			    "Introducer: an introducer needs a configured Identity, not tofu");
	return 0;
}

static int start_peer(struct parser *p)
{
	ss_conf *c = p->conf;

	if (c->npeers >= SS_CONF_MAX_PEERS)
		return fail(p, p->ini.line, SS_ERR_FORMAT, "[Peer]: more than %d peers",
			    SS_CONF_MAX_PEERS);
	if (grow((void **)&c->peers, c->npeers, sizeof(*c->peers)) ||
	    grow((void **)&p->id_lines, c->npeers, sizeof(*p->id_lines)))
		return nomem(p);
	memset(&c->peers[c->npeers], 0, sizeof(c->peers[0]));
	c->peers[c->npeers].line = p->ini.line;
	c->npeers++;
	return 0;
}

static int start_group(struct parser *p, const char *name)
{
	ss_conf *c = p->conf;

	if (!ss_conf_valid_label(name))
		return fail(p, p->ini.line, SS_ERR_FORMAT,
			    "[Group %s]: not a group name (1..32 characters of A-Z a-z 0-9 _ . -)",
			    name);
	for (size_t i = 0; i < c->ngroups; i++)
		if (!strcmp(c->groups[i].name, name))
			return fail(p, p->ini.line, SS_ERR_FORMAT,
				    "[Group %s]: second section of that name (first on line %u)",
				    name, c->groups[i].line);
	if (grow((void **)&c->groups, c->ngroups, sizeof(*c->groups)))
		return nomem(p);
	memset(&c->groups[c->ngroups], 0, sizeof(c->groups[0]));
	c->groups[c->ngroups].line = p->ini.line;
	if (!(c->groups[c->ngroups].name = strdup(name)))
		return nomem(p);
	c->ngroups++;
	snprintf(p->ini.label, sizeof(p->ini.label), "[Group %s]", name);
	return 0;
}

/* Section names are matched case-insensitively, as written between the brackets. */
static int start_section(void *ctx, char *name, int *kind)
{
	struct parser *p = ctx;

	if (!strcasecmp(name, "Interface")) {
		if (p->iface_line)
			return fail(p, p->ini.line, SS_ERR_FORMAT,
				    "[Interface]: second [Interface] section (first on line %u)",
				    p->iface_line);
		*kind = SEC_INTERFACE;
		p->iface_line = p->ini.line;
	} else if (!strcasecmp(name, "Peer")) {
		*kind = SEC_PEER;
	} else if (!strncasecmp(name, "Group", 5) && (name[5] == ' ' || name[5] == '\t')) {
		*kind = SEC_GROUP;
		return start_group(p, ss_ini_trim(name + 5));
	} else {
		return fail(p, p->ini.line, SS_ERR_FORMAT, "unknown section \"[%s]\"", name);
	}
	snprintf(p->ini.label, sizeof(p->ini.label), "%s", section_names[*kind]);
	return *kind == SEC_PEER ? start_peer(p) : 0;
}

/*
 * Key names are letters only, so none is ever echoed that is not: "PrivateKey <base64>="
 * without its '=' would otherwise print the secret as a "key" name.
 */
static const struct ss_ini_dialect dialect = {
	.keys = keys,
	.nkeys = K_COUNT,
	.max_line = SS_CONF_MAX_LINE,
	.inline_comments = true,
	.letters_only = true,
	.initial_section = SS_INI_NONE,
	.first_sections = "[Interface], [Peer] or [Group NAME]",
	.section_names = section_names,
	.nsection_names = sizeof(section_names) / sizeof(section_names[0]),
	.section = start_section,
	.end_section = finish_section,
};

struct id_ref {
	uint8_t id[SS_IDENTITY_LEN];
	size_t idx;
};

static int cmp_id_ref(const void *a, const void *b)
{
	const struct id_ref *x = a, *y = b;
	int c = memcmp(x->id, y->id, SS_IDENTITY_LEN);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Sorting keeps this O(n log n) at SS_CONF_MAX_PEERS; reports the earliest repeat. */
static int check_unique_identities(struct parser *p)
{
	const ss_conf *c = p->conf;
	struct id_ref *refs = malloc((c->npeers ? c->npeers : 1) * sizeof(*refs));
	size_t n = 0, dup = SIZE_MAX, first = 0;
	char b64[SS_B64_KEY_LEN];

	if (!refs)
		return nomem(p);
	for (size_t i = 0; i < c->npeers; i++) {
		if (c->peers[i].tofu)
			continue;
		memcpy(refs[n].id, c->peers[i].identity, SS_IDENTITY_LEN);
		refs[n++].idx = i;
	}
	qsort(refs, n, sizeof(*refs), cmp_id_ref);
	for (size_t i = 1; i < n; i++) {
		if (memcmp(refs[i - 1].id, refs[i].id, SS_IDENTITY_LEN))
			continue;
		if (dup == SIZE_MAX || refs[i].idx < dup) {
			dup = refs[i].idx;
			first = refs[i - 1].idx;
		}
	}
	free(refs);
	if (dup == SIZE_MAX)
		return 0;
	ss_key_to_base64(c->peers[dup].identity, b64);
	return fail(p, p->id_lines[dup], SS_ERR_FORMAT,
		    "Identity: \"%s\" is already the identity of the peer on line %u", b64,
		    c->peers[first].line);
}

static bool has_ipv6(const ss_conf *c)
{
	for (size_t i = 0; i < c->naddrs; i++)
		if (c->addrs[i].family == AF_INET6)
			return true;
	return false;
}

/* The interface name defaults to the file's base name without ".conf", like wg-quick. */
static int default_name(struct parser *p)
{
	const char *base = strrchr(p->ini.file, '/');
	char name[SS_CONF_IFNAME_MAX + 1];
	size_t len;

	base = base ? base + 1 : p->ini.file;
	len = strlen(base);
	if (len > 5 && !strcmp(base + len - 5, ".conf"))
		len -= 5;
	if (len > SS_CONF_IFNAME_MAX)
		len = SS_CONF_IFNAME_MAX + 1; /* too long: let valid_ifname refuse it */
	snprintf(name, sizeof(name), "%.*s", (int)len, base);
	if (len > SS_CONF_IFNAME_MAX || !valid_ifname(name))
		return fail(p, p->iface_line, SS_ERR_FORMAT,
			    "Name: not set, and the file name \"%s\" does not give a valid "
			    "interface name; add Name = ",
			    base);
	strcpy(p->conf->name, name);
	return 0;
}

static int finish(struct parser *p)
{
	ss_conf *c = p->conf;
	unsigned last = p->ini.line ? p->ini.line : 1;
	int ret;

	if (!p->iface_line)
		return fail(p, last, SS_ERR_FORMAT, "missing [Interface] section");
	/* A relayed datagram carries 36 bytes more (PROTOCOL.md 16.8): fit 1500-byte paths. */
	for (size_t i = 0; !p->mtu_line && i < c->npeers; i++)
		if (c->peers[i].relay == SS_CONF_RELAY_USE)
			c->mtu = SS_RELAY_MTU;
	if (c->mtu < 1280 && has_ipv6(c))
		return fail(p, p->mtu_line, SS_ERR_FORMAT,
			    "MTU: %u is below 1280, the IPv6 minimum (an Address is IPv6)", c->mtu);
	if (!c->name[0]) {
		ret = default_name(p);
		if (ret)
			return ret;
	}
	ret = trust_store_path(p);
	if (ret)
		return ret;
	if (c->save_config && !c->private_key_file)
		return fail(
			p, p->iface_line, SS_ERR_FORMAT,
			"SaveConfig: needs PrivateKeyFile (a saved file never holds a key inline)");
	ret = ss_conf_effective_rules(c, p->ini.file, p->ini.err, p->ini.errlen);
	if (ret)
		return ret;
	for (size_t i = 0; i < p->conf->npeers; i++)
		if (p->conf->peers[i].tofu && !p->conf->trust_store)
			return fail(
				p, p->conf->peers[i].line, SS_ERR_FORMAT,
				"[Peer]: Identity = tofu needs TrustStore in [Interface] (where "
				"first-seen identities are pinned)");
	return check_unique_identities(p);
}

int ss_conf_parse(const char *text, size_t len, const char *name, ss_conf **out, char *err,
		  size_t errlen)
{
	struct parser p = {.ini = {.file = name ? name : "<config>", .err = err, .errlen = errlen}};
	int ret;

	p.ini.ctx = &p;
	if (err && errlen)
		err[0] = '\0';
	if (!out || (!text && len))
		return fail(&p, 0, SS_ERR_INVAL, "invalid argument");
	*out = NULL;
	p.conf = calloc(1, sizeof(*p.conf));
	if (!p.conf)
		return nomem(&p);
	p.conf->mtu = SS_CONF_DEFAULT_MTU;
	p.conf->ct_per_peer = SS_CONF_DEFAULT_CT_PER_PEER;
	p.conf->transport = SS_TRANSPORT_UDP;
	p.conf->path = name ? strdup(name) : NULL;
	if (name && !p.conf->path)
		ret = nomem(&p);
	else
		ret = ss_ini_parse(&p.ini, &dialect, text, len);
	if (!ret)
		ret = finish(&p);
	free(p.id_lines);
	if (ret) {
		ss_conf_free(p.conf);
		return ret;
	}
	*out = p.conf;
	return 0;
}

static int load_error(const char *path, int code, int errnum, char *err, size_t errlen)
{
	const char *why = "out of memory";

	if (code == SS_ERR_IO)
		why = strerror(errnum);
	else if (code == SS_ERR_FORMAT)
		why = "larger than 16 MiB";
	else if (code == SS_ERR_INVAL)
		why = "invalid argument";

	if (err && errlen)
		snprintf(err, errlen, "%s: %s", path, why);
	return code;
}

int ss_conf_load(const char *path, ss_conf **out, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int fd, ret;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !out)
		return load_error("<config>", SS_ERR_INVAL, 0, err, errlen);
	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return load_error(path, SS_ERR_IO, errno, err, errlen);
	ret = ss_ini_read_fd(fd, MAX_FILE_SIZE, &buf, &len);
	if (ret) {
		int saved = errno;

		close(fd);
		return load_error(path, ret, saved, err, errlen);
	}
	close(fd);
	ret = ss_conf_parse(buf, len, path, out, err, errlen);
	/* The file may hold PrivateKey. */
	ss_wipe(buf, len);
	free(buf);
	return ret;
}

void ss_conf_free(ss_conf *conf)
{
	if (!conf)
		return;
	ss_wipe(conf->private_key, sizeof(conf->private_key));
	for (size_t i = 0; i < conf->npeers; i++) {
		free(conf->peers[i].endpoint);
		free(conf->peers[i].resolved);
		free(conf->peers[i].allowed);
		free(conf->peers[i].allow);
		free(conf->peers[i].origin);
		free(conf->peers[i].label);
		for (size_t j = 0; j < conf->peers[i].ngroups; j++)
			free(conf->peers[i].groups[j]);
		free(conf->peers[i].groups);
	}
	for (size_t i = 0; i < conf->ngroups; i++) {
		free(conf->groups[i].name);
		free(conf->groups[i].allow);
	}
	free(conf->groups);
	free(conf->peers);
	for (int h = 0; h < SS_HOOK_COUNT; h++)
		for (size_t i = 0; i < conf->nhooks[h]; i++)
			free(conf->hooks[h][i]);
	for (size_t i = 0; i < conf->ndns_servers; i++)
		free(conf->dns_servers[i]);
	for (size_t i = 0; i < conf->ndns_search; i++)
		free(conf->dns_search[i]);
	free(conf->addrs);
	free(conf->cand_allow);
	free(conf->private_key_file);
	free(conf->trust_store);
	free(conf->path);
	free(conf);
}

bool ss_conf_full_tunnel(const ss_conf *c)
{
	for (size_t i = 0; i < c->npeers; i++)
		for (size_t j = 0; j < c->peers[i].nallowed; j++)
			if (!c->peers[i].allowed[j].prefix)
				return true;
	return false;
}

uint32_t ss_conf_fwmark(const ss_conf *c)
{
	if (c->fwmark)
		return c->fwmark;
	return c->table_mode == SS_TABLE_AUTO && ss_conf_full_tunnel(c) ? SS_CONF_TABLE_DEFAULT : 0;
}
