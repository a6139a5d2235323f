/* SPDX-License-Identifier: MIT */
/*
 * The tunnel configuration file. Strict on purpose: a tunnel that comes up with a
 * mistyped key silently ignored (a missing AllowedIPs, a TOFU peer pinned nowhere) is
 * worse than one that refuses to start, so anything not understood is an error that
 * names the file, the line, the key and the value.
 */
#include "config.h"
#include "capability.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#define MAX_FILE_SIZE ((size_t)16 << 20)
#define MAX_HOST_LEN 253 /* longest DNS name */

enum section { SEC_NONE, SEC_INTERFACE, SEC_PEER };

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
	K_IDENTITY,
	K_ENDPOINT,
	K_ALLOWED_IPS,
	K_KEEPALIVE,
	K_ALLOW,
	K_COUNT
};

struct parser {
	ss_conf *conf;
	const char *file; /* for messages */
	unsigned line;
	enum section sec;
	unsigned sec_line;	/* header line of the current section */
	unsigned iface_line;	/* header line of [Interface], 0 before it */
	unsigned seen[K_COUNT]; /* line each key was set on in the current section */
	unsigned mtu_line;
	unsigned *id_lines; /* line of each peer's Identity, for duplicate reports */
	char *err;
	size_t errlen;
};

struct key {
	const char *name;
	enum section sec;
	bool repeats; /* lists append; every other key may appear once per section */
	int (*set)(struct parser *p, const struct key *k, char *val);
};

static int fail(struct parser *p, unsigned line, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct parser *p, unsigned line, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->errlen)
		return code;
	n = snprintf(p->err, p->errlen, "%s:%u: ", p->file, line);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return code;
}

static int nomem(struct parser *p)
{
	return fail(p, p->line, SS_ERR_NOMEM, "out of memory");
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static char *trim(char *s)
{
	char *end = s + strlen(s);

	while (is_space(*s))
		s++;
	while (end > s && is_space(end[-1]))
		end--;
	*end = '\0';
	return s;
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

/* Decimal digits only, at most max; no sign, no spaces, no hex. */
static int parse_uint(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int ss_cidr_parse(const char *s, ss_cidr *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash;
	uint32_t prefix, max;
	size_t len;
	ss_cidr c = {0};

	if (!s || !out)
		return SS_ERR_FORMAT;
	slash = strchr(s, '/');
	len = slash ? (size_t)(slash - s) : strlen(s);
	if (len == 0 || len >= sizeof(addr))
		return SS_ERR_FORMAT;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, c.addr) == 1) {
		c.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c.addr) == 1) {
		c.family = AF_INET6;
		max = 128;
	} else {
		return SS_ERR_FORMAT;
	}
	prefix = max;
	if (slash && (strlen(slash + 1) > 3 || parse_uint(slash + 1, max, &prefix)))
		return SS_ERR_FORMAT;
	c.prefix = (uint8_t)prefix;
	*out = c;
	return 0;
}

void ss_cidr_format(const ss_cidr *c, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	if (!len)
		return;
	if (!c || (c->family != AF_INET && c->family != AF_INET6) ||
	    !inet_ntop(c->family, c->addr, addr, sizeof(addr))) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%s/%u", addr, c->prefix);
}

/* Why s is not a valid endpoint, or NULL if it is. */
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
	if (strlen(port) > 5 || parse_uint(port, 65535, &v) || v == 0)
		return "port must be a number 1..65535";
	return NULL;
}

int ss_endpoint_check(const char *s)
{
	return s && !endpoint_problem(s) ? 0 : SS_ERR_FORMAT;
}

static bool valid_ifname(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > SS_CONF_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/* Relative paths are relative to the configuration file, not the daemon's cwd. */
static int resolve(struct parser *p, const char *val, char **out)
{
	const char *slash = strrchr(p->file, '/');
	size_t dirlen = slash ? (size_t)(slash - p->file) : 0;
	char *s;

	if (val[0] == '/' || !slash) {
		s = strdup(val);
	} else {
		s = malloc(dirlen + strlen(val) + 2);
		if (s)
			sprintf(s, "%.*s/%s", (int)dirlen, p->file, val);
	}
	if (!s)
		return nomem(p);
	*out = s;
	return 0;
}

static int set_name(struct parser *p, const struct key *k, char *val)
{
	if (!valid_ifname(val))
		return fail(p, p->line, SS_ERR_FORMAT,
			    "%s: \"%s\" is not an interface name (1..%d characters of "
			    "A-Z a-z 0-9 _ . -, not \".\" or \"..\")",
			    k->name, val, SS_CONF_IFNAME_MAX);
	strcpy(p->conf->name, val);
	return 0;
}

static int conflicting_key(struct parser *p, const struct key *k, enum key_id other)
{
	if (!p->seen[other])
		return 0;
	return fail(p, p->line, SS_ERR_FORMAT,
		    "%s: PrivateKey and PrivateKeyFile are exclusive (the other is on line %u)",
		    k->name, p->seen[other]);
}

static int set_private_key_file(struct parser *p, const struct key *k, char *val)
{
	int ret = conflicting_key(p, k, K_PRIVATE_KEY);

	return ret ? ret : resolve(p, val, &p->conf->private_key_file);
}

/* The value is a secret: messages never quote it. */
static int set_private_key(struct parser *p, const struct key *k, char *val)
{
	int ret = conflicting_key(p, k, K_PRIVATE_KEY_FILE);

	if (ret)
		return ret;
	if (ss_key_from_base64(val, p->conf->private_key))
		return fail(p, p->line, SS_ERR_FORMAT,
			    "%s: value is not a base64 32-byte key (44 characters ending in '=')",
			    k->name);
	p->conf->has_private_key = true;
	return 0;
}

/* Appends each CIDR of a comma-separated list. */
static int add_cidrs(struct parser *p, const struct key *k, char *val, ss_cidr **arr, size_t *n)
{
	char *item, *next;

	for (item = val; item; item = next) {
		ss_cidr c;

		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		item = trim(item);
		if (!*item)
			return fail(p, p->line, SS_ERR_FORMAT, "%s: empty item in the list",
				    k->name);
		if (ss_cidr_parse(item, &c))
			return fail(p, p->line, SS_ERR_FORMAT,
				    "%s: \"%s\" is not an address or ADDRESS/PREFIX", k->name,
				    item);
		if (grow((void **)arr, *n, sizeof(**arr)))
			return nomem(p);
		(*arr)[(*n)++] = c;
	}
	return 0;
}

static int set_address(struct parser *p, const struct key *k, char *val)
{
	return add_cidrs(p, k, val, &p->conf->addrs, &p->conf->naddrs);
}

static int set_listen_port(struct parser *p, const struct key *k, char *val)
{
	uint32_t v;

	if (parse_uint(val, 65535, &v) || v == 0)
		return fail(p, p->line, SS_ERR_FORMAT, "%s: \"%s\" is not a port (1..65535)",
			    k->name, val);
	p->conf->listen_port = (uint16_t)v;
	return 0;
}

static int set_transport(struct parser *p, const struct key *k, char *val)
{
	if (!strcasecmp(val, "udp"))
		p->conf->transport = SS_TRANSPORT_UDP;
	else if (!strcasecmp(val, "ip"))
		p->conf->transport = SS_TRANSPORT_IP;
	else
		return fail(p, p->line, SS_ERR_FORMAT, "%s: \"%s\" is not udp or ip", k->name, val);
	return 0;
}

/* The IPv6 minimum depends on Address lines that may follow: checked again at the end. */
static int set_mtu(struct parser *p, const struct key *k, char *val)
{
	if (parse_uint(val, 65535, &p->conf->mtu) || p->conf->mtu < 576)
		return fail(p, p->line, SS_ERR_FORMAT, "%s: \"%s\" is not a number 576..65535",
			    k->name, val);
	p->mtu_line = p->line;
	return 0;
}

static int set_trust_store(struct parser *p, const struct key *k, char *val)
{
	(void)k;
	return resolve(p, val, &p->conf->trust_store);
}

static int parse_bool(struct parser *p, const struct key *k, const char *val, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(val, yes[i]) || !strcasecmp(val, no[i])) {
			*out = !strcasecmp(val, yes[i]);
			return 0;
		}
	}
	return fail(p, p->line, SS_ERR_FORMAT, "%s: \"%s\" is not yes/no/true/false/on/off/1/0",
		    k->name, val);
}

static int set_accept_tofu(struct parser *p, const struct key *k, char *val)
{
	return parse_bool(p, k, val, &p->conf->accept_anonymous);
}

static int set_tun_ring(struct parser *p, const struct key *k, char *val)
{
	return parse_bool(p, k, val, &p->conf->tun_ring);
}

static int set_policy(struct parser *p, const struct key *k, char *val)
{
	if (strcasecmp(val, "allow") && strcasecmp(val, "deny"))
		return fail(p, p->line, SS_ERR_FORMAT, "%s: \"%s\" is neither allow nor deny",
			    k->name, val);
	p->conf->policy_allow = !strcasecmp(val, "allow");
	return 0;
}

static int set_ct_per_peer(struct parser *p, const struct key *k, char *val)
{
	if (parse_uint(val, 1000000, &p->conf->ct_per_peer) || !p->conf->ct_per_peer)
		return fail(p, p->line, SS_ERR_FORMAT,
			    "%s: \"%s\" is not a number of connections 1..1000000", k->name, val);
	return 0;
}

static ss_conf_peer *cur_peer(struct parser *p)
{
	return &p->conf->peers[p->conf->npeers - 1];
}

static int set_identity(struct parser *p, const struct key *k, char *val)
{
	ss_conf_peer *peer = cur_peer(p);

	p->id_lines[p->conf->npeers - 1] = p->line;
	if (!strcasecmp(val, "tofu")) {
		peer->tofu = true;
		return 0;
	}
	if (ss_key_from_base64(val, peer->identity))
		return fail(p, p->line, SS_ERR_FORMAT,
			    "%s: \"%s\" is neither tofu nor a base64 32-byte key", k->name, val);
	if (ss_identity_check_pub(peer->identity))
		return fail(p, p->line, SS_ERR_BAD_KEY,
			    "%s: \"%s\" is a weak key (small-order or non-canonical point)",
			    k->name, val);
	return 0;
}

static int set_endpoint(struct parser *p, const struct key *k, char *val)
{
	const char *why = endpoint_problem(val);

	if (why)
		return fail(p, p->line, SS_ERR_FORMAT, "%s: \"%s\": %s", k->name, val, why);
	cur_peer(p)->endpoint = strdup(val);
	return cur_peer(p)->endpoint ? 0 : nomem(p);
}

static int set_allowed_ips(struct parser *p, const struct key *k, char *val)
{
	ss_conf_peer *peer = cur_peer(p);

	return add_cidrs(p, k, val, &peer->allowed, &peer->nallowed);
}

static int set_allow(struct parser *p, const struct key *k, char *val)
{
	ss_conf_peer *peer = cur_peer(p);
	char why[160];

	if (!peer->allow) {
		peer->allow = calloc(SS_CAP_MAX_RULES, sizeof(*peer->allow));
		if (!peer->allow)
			return nomem(p);
	}
	peer->has_allow = true;
	peer->allow_line = p->line;
	/* "none": this peer reaches nothing even under Policy = allow (grants still work). */
	if (!strcasecmp(val, "none"))
		return 0;
	if (ss_cap_list_parse(val, peer->allow, SS_CAP_MAX_RULES, &peer->nallow, why, sizeof(why)))
		return fail(p, p->line, SS_ERR_FORMAT, "%s: %s", k->name, why);
	return 0;
}

static int set_keepalive(struct parser *p, const struct key *k, char *val)
{
	uint32_t v = 0;

	if (strcasecmp(val, "off") && parse_uint(val, 65535, &v))
		return fail(p, p->line, SS_ERR_FORMAT,
			    "%s: \"%s\" is not off or a number of seconds 0..65535", k->name, val);
	cur_peer(p)->keepalive = v;
	return 0;
}

static const struct key keys[K_COUNT] = {
	[K_NAME] = {"Name", SEC_INTERFACE, false, set_name},
	[K_PRIVATE_KEY_FILE] = {"PrivateKeyFile", SEC_INTERFACE, false, set_private_key_file},
	[K_PRIVATE_KEY] = {"PrivateKey", SEC_INTERFACE, false, set_private_key},
	[K_ADDRESS] = {"Address", SEC_INTERFACE, true, set_address},
	[K_LISTEN_PORT] = {"ListenPort", SEC_INTERFACE, false, set_listen_port},
	[K_TRANSPORT] = {"Transport", SEC_INTERFACE, false, set_transport},
	[K_MTU] = {"MTU", SEC_INTERFACE, false, set_mtu},
	[K_TRUST_STORE] = {"TrustStore", SEC_INTERFACE, false, set_trust_store},
	[K_ACCEPT_TOFU] = {"AcceptTofu", SEC_INTERFACE, false, set_accept_tofu},
	[K_POLICY] = {"Policy", SEC_INTERFACE, false, set_policy},
	[K_TUN_RING] = {"TunRing", SEC_INTERFACE, false, set_tun_ring},
	[K_CT_PER_PEER] = {"ConntrackPerPeer", SEC_INTERFACE, false, set_ct_per_peer},
	[K_IDENTITY] = {"Identity", SEC_PEER, false, set_identity},
	[K_ENDPOINT] = {"Endpoint", SEC_PEER, false, set_endpoint},
	[K_ALLOWED_IPS] = {"AllowedIPs", SEC_PEER, true, set_allowed_ips},
	[K_KEEPALIVE] = {"PersistentKeepalive", SEC_PEER, false, set_keepalive},
	[K_ALLOW] = {"Allow", SEC_PEER, true, set_allow},
};

static const char *section_name(enum section s)
{
	return s == SEC_INTERFACE ? "[Interface]" : "[Peer]";
}

/* Checks that need the whole section, run when the next one starts or at the end. */
static int finish_section(struct parser *p)
{
	if (p->sec == SEC_INTERFACE && !p->seen[K_PRIVATE_KEY] && !p->seen[K_PRIVATE_KEY_FILE])
		return fail(p, p->sec_line, SS_ERR_FORMAT,
			    "[Interface]: needs PrivateKey or PrivateKeyFile");
	if (p->sec != SEC_PEER)
		return 0;
	if (!p->seen[K_IDENTITY])
		return fail(p, p->sec_line, SS_ERR_FORMAT, "[Peer]: Identity is missing");
	if (cur_peer(p)->tofu && !cur_peer(p)->endpoint)
		return fail(p, p->sec_line, SS_ERR_FORMAT,
			    "[Peer]: Identity = tofu needs an Endpoint (TOFU pins by endpoint)");
	return 0;
}

static int start_peer(struct parser *p)
{
	ss_conf *c = p->conf;

	if (c->npeers >= SS_CONF_MAX_PEERS)
		return fail(p, p->line, SS_ERR_FORMAT, "[Peer]: more than %d peers",
			    SS_CONF_MAX_PEERS);
	if (grow((void **)&c->peers, c->npeers, sizeof(*c->peers)) ||
	    grow((void **)&p->id_lines, c->npeers, sizeof(*p->id_lines)))
		return nomem(p);
	memset(&c->peers[c->npeers], 0, sizeof(c->peers[0]));
	c->peers[c->npeers].line = p->line;
	c->npeers++;
	return 0;
}

static int parse_header(struct parser *p, char *s)
{
	char *close = strchr(s, ']');
	int ret;

	if (!close || close[1])
		return fail(p, p->line, SS_ERR_FORMAT,
			    "section header \"%s\" is not of the form [Name]", s);
	*close = '\0';
	ret = finish_section(p);
	if (ret)
		return ret;
	memset(p->seen, 0, sizeof(p->seen));
	p->sec_line = p->line;
	if (!strcasecmp(s + 1, "Interface")) {
		if (p->iface_line)
			return fail(p, p->line, SS_ERR_FORMAT,
				    "[Interface]: second [Interface] section (first on line %u)",
				    p->iface_line);
		p->sec = SEC_INTERFACE;
		p->iface_line = p->line;
		return 0;
	}
	if (!strcasecmp(s + 1, "Peer")) {
		p->sec = SEC_PEER;
		return start_peer(p);
	}
	return fail(p, p->line, SS_ERR_FORMAT, "unknown section \"[%s]\"", s + 1);
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < K_COUNT; i++)
		if (!strcasecmp(name, keys[i].name))
			return &keys[i];
	return NULL;
}

static bool all_letters(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return false;
	return true;
}

/*
 * A key that is not all letters is never echoed: "PrivateKey <base64>=" without its '='
 * would otherwise print the secret as a "key" name.
 */
static int parse_assignment(struct parser *p, char *s, char *eq)
{
	const struct key *k;
	char *name, *val;

	*eq = '\0';
	name = trim(s);
	val = trim(eq + 1);
	if (!*name || !all_letters(name))
		return fail(p, p->line, SS_ERR_FORMAT,
			    "expected \"Key = Value\" with a key name of letters only");
	if (p->sec == SEC_NONE)
		return fail(p, p->line, SS_ERR_FORMAT,
			    "%s: key outside of a section ([Interface] or [Peer] must come first)",
			    name);
	k = find_key(name);
	if (!k)
		return fail(p, p->line, SS_ERR_FORMAT, "%s: unknown key in %s", name,
			    section_name(p->sec));
	if (k->sec != p->sec)
		return fail(p, p->line, SS_ERR_FORMAT, "%s: belongs in %s, not in %s", k->name,
			    section_name(k->sec), section_name(p->sec));
	if (!k->repeats && p->seen[k - keys])
		return fail(p, p->line, SS_ERR_FORMAT, "%s: duplicate key (first on line %u)",
			    k->name, p->seen[k - keys]);
	if (!*val)
		return fail(p, p->line, SS_ERR_FORMAT, "%s: empty value", k->name);
	p->seen[k - keys] = p->line;
	return k->set(p, k, val);
}

static int parse_line(struct parser *p, char *line)
{
	char *hash = strchr(line, '#'), *s, *eq;

	if (hash)
		*hash = '\0';
	s = trim(line);
	if (!*s || *s == ';')
		return 0;
	if (*s == '[')
		return parse_header(p, s);
	eq = strchr(s, '=');
	if (!eq)
		return fail(p, p->line, SS_ERR_FORMAT, "expected \"Key = Value\" or \"[Section]\"");
	return parse_assignment(p, s, eq);
}

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
	const char *base = strrchr(p->file, '/');
	char name[SS_CONF_IFNAME_MAX + 1];
	size_t len;

	base = base ? base + 1 : p->file;
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
	unsigned last = p->line ? p->line : 1;
	int ret = finish_section(p);

	if (ret)
		return ret;
	if (!p->iface_line)
		return fail(p, last, SS_ERR_FORMAT, "missing [Interface] section");
	if (c->mtu < 1280 && has_ipv6(c))
		return fail(p, p->mtu_line, SS_ERR_FORMAT,
			    "MTU: %u is below 1280, the IPv6 minimum (an Address is IPv6)", c->mtu);
	if (!c->name[0]) {
		ret = default_name(p);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < p->conf->npeers; i++)
		if (p->conf->peers[i].tofu && !p->conf->trust_store)
			return fail(
				p, p->conf->peers[i].line, SS_ERR_FORMAT,
				"[Peer]: Identity = tofu needs TrustStore in [Interface] (where "
				"first-seen identities are pinned)");
	return check_unique_identities(p);
}

static int parse_lines(struct parser *p, const char *text, size_t len, char *buf)
{
	size_t off = 0;

	while (off < len) {
		const char *start = text + off, *nl = memchr(start, '\n', len - off);
		size_t n = nl ? (size_t)(nl - start) : len - off;
		int ret;

		p->line++;
		if (n > SS_CONF_MAX_LINE)
			return fail(p, p->line, SS_ERR_FORMAT, "line longer than %d bytes",
				    SS_CONF_MAX_LINE);
		if (memchr(start, '\0', n))
			return fail(p, p->line, SS_ERR_FORMAT, "NUL byte in line");
		memcpy(buf, start, n);
		buf[n] = '\0';
		ret = parse_line(p, buf);
		if (ret)
			return ret;
		off += n + 1;
	}
	return finish(p);
}

int ss_conf_parse(const char *text, size_t len, const char *name, ss_conf **out, char *err,
		  size_t errlen)
{
	struct parser p = {.file = name ? name : "<config>", .err = err, .errlen = errlen};
	char *line;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!out || (!text && len))
		return fail(&p, 0, SS_ERR_INVAL, "invalid argument");
	*out = NULL;
	p.conf = calloc(1, sizeof(*p.conf));
	line = malloc(SS_CONF_MAX_LINE + 1);
	if (!p.conf || !line) {
		free(p.conf);
		free(line);
		return nomem(&p);
	}
	p.conf->mtu = SS_CONF_DEFAULT_MTU;
	p.conf->ct_per_peer = SS_CONF_DEFAULT_CT_PER_PEER;
	p.conf->transport = SS_TRANSPORT_UDP;
	p.conf->path = name ? strdup(name) : NULL;
	if (name && !p.conf->path)
		ret = nomem(&p);
	else
		ret = parse_lines(&p, text, len, line);
	/* Lines held PrivateKey in clear. */
	OPENSSL_cleanse(line, SS_CONF_MAX_LINE + 1);
	free(line);
	free(p.id_lines);
	if (ret) {
		ss_conf_free(p.conf);
		return ret;
	}
	*out = p.conf;
	return 0;
}

/* Growing by copy, not realloc, so no freed block keeps a copy of the key. */
static int grow_secret(char **buf, size_t *cap, size_t len)
{
	size_t ncap = *cap > MAX_FILE_SIZE / 2 ? MAX_FILE_SIZE + 1 : *cap * 2;
	char *q = malloc(ncap);

	if (!q)
		return SS_ERR_NOMEM;
	memcpy(q, *buf, len);
	OPENSSL_cleanse(*buf, len);
	free(*buf);
	*buf = q;
	*cap = ncap;
	return 0;
}

/*
 * The size from fstat is a hint (the file may grow, or be a pipe): reading stops at
 * MAX_FILE_SIZE + 1 bytes so an oversized file is refused, not truncated.
 */
static int read_all(int fd, char **out, size_t *outlen)
{
	struct stat st;
	size_t cap = 4096, len = 0;
	char *buf;
	int ret = 0, saved;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((uint64_t)st.st_size > MAX_FILE_SIZE)
			return SS_ERR_FORMAT;
		cap = (size_t)st.st_size + 1;
	}
	buf = malloc(cap);
	if (!buf)
		return SS_ERR_NOMEM;
	while (!ret) {
		ssize_t r;

		if (len == cap) {
			ret = cap > MAX_FILE_SIZE ? SS_ERR_FORMAT : grow_secret(&buf, &cap, len);
			continue;
		}
		r = read(fd, buf + len, cap - len);
		if (r == 0) {
			*out = buf;
			*outlen = len;
			return 0;
		}
		if (r > 0)
			len += (size_t)r;
		else if (errno != EINTR)
			ret = SS_ERR_IO;
	}
	saved = errno; /* read()'s, for the message */
	OPENSSL_cleanse(buf, len);
	free(buf);
	errno = saved;
	return ret;
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
	ret = read_all(fd, &buf, &len);
	if (ret) {
		int saved = errno;

		close(fd);
		return load_error(path, ret, saved, err, errlen);
	}
	close(fd);
	ret = ss_conf_parse(buf, len, path, out, err, errlen);
	/* The file may hold PrivateKey. */
	OPENSSL_cleanse(buf, len);
	free(buf);
	return ret;
}

void ss_conf_free(ss_conf *conf)
{
	if (!conf)
		return;
	OPENSSL_cleanse(conf->private_key, sizeof(conf->private_key));
	for (size_t i = 0; i < conf->npeers; i++) {
		free(conf->peers[i].endpoint);
		free(conf->peers[i].allowed);
		free(conf->peers[i].allow);
	}
	free(conf->peers);
	free(conf->addrs);
	free(conf->private_key_file);
	free(conf->trust_store);
	free(conf->path);
	free(conf);
}
