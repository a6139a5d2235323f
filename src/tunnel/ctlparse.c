/* SPDX-License-Identifier: MIT */
/*
 * Control-socket requests from bytes to structs (ctlparse.h). Kept apart from
 * ctlserver.c so the parsers can be unit-tested and fuzzed without a daemon.
 */
#include "ctlparse.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <unistd.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "common/fdio.h"

#define READ_TIMEOUT_MS 2000

ssize_t ss_ctl_read_request(int fd, char *buf, size_t cap)
{
	return ss_ctl_read_more(fd, buf, 0, cap);
}

ssize_t ss_ctl_read_more(int fd, char *buf, size_t len, size_t cap)
{
	while (len + 1 < cap) {
		/* The empty line may straddle two reads: look from the last old byte. */
		size_t from = len ? len - 1 : 0;
		ssize_t n = ss_read_append(fd, buf, &len, cap, READ_TIMEOUT_MS);

		if (n <= 0)
			return n < 0 ? n : (ssize_t)len;
		if (memmem(buf + from, len - from, "\n\n", 2))
			return (ssize_t)len;
	}
	/* Full without its end: a cut request could mean something else ("/24" as "/2"). */
	return SS_ERR_BUFFER;
}

static const struct {
	const char *name;
	enum ss_ctl_verb verb;
	bool body; /* needs key=value lines after the verb line */
} verbs[] = {
	{"get", SS_CTL_GET, false},	      {"set", SS_CTL_SET, true},
	{"grant", SS_CTL_GRANT, true},	      {"revoke", SS_CTL_REVOKE, true},
	{"sync", SS_CTL_SYNC, true},	      {"trust", SS_CTL_TRUST, true},
	{"discover", SS_CTL_DISCOVER, false},
};

int ss_ctl_split(char *buf, size_t len, enum ss_ctl_verb *verb, char **body, char *err,
		 size_t errlen)
{
	char *end = memmem(buf, len, "\n\n", 2);

	/* The request ends at its empty line: whatever follows is not part of it. */
	if (end)
		len = (size_t)(end - buf) + 1;
	/* A NUL would silently cut a value short; refuse rather than guess. */
	if (memchr(buf, '\0', len)) {
		snprintf(err, errlen, "request holds a NUL byte");
		return SS_ERR_FORMAT;
	}
	buf[len] = '\0';
	*body = strchr(buf, '\n');
	if (*body)
		*(*body)++ = '\0';
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(buf, verbs[i].name) || (verbs[i].body && !*body))
			continue;
		*verb = verbs[i].verb;
		if (!*body)
			*body = buf + len;
		return 0;
	}
	snprintf(err, errlen, "unknown request '%.32s'", buf);
	return SS_ERR_FORMAT;
}

typedef int (*kv_fn)(void *req, char *key, char *val, char *err, size_t errlen);

/* The body grammar shared by set, grant and revoke: KEY=VALUE lines, empty ones skipped. */
static int for_each_kv(char *body, kv_fn fn, void *req, char *err, size_t errlen)
{
	char *save, *line;

	for (line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		int ret;

		if (!eq) {
			snprintf(err, errlen, "malformed line '%.64s'", line);
			return SS_ERR_FORMAT;
		}
		*eq = '\0';
		ret = fn(req, line, eq + 1, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* Decode a peer= value; the same refusal of weak keys as the configuration file. */
static int parse_identity(const char *val, uint8_t id[SS_IDENTITY_LEN], char *err, size_t errlen)
{
	if (ss_key_from_base64(val, id))
		return SS_ERR_FORMAT;
	if (ss_identity_check_pub(id)) {
		snprintf(err, errlen,
			 "SS_ERR_BAD_KEY: peer '%.64s' has small order or is not canonical", val);
		return SS_ERR_BAD_KEY;
	}
	return 0;
}

/* ---- trust ---- */

int ss_ctl_parse_trust(char *body, char *name, size_t cap, char *err, size_t errlen)
{
	char *save, *line;
	bool have = false;

	for (line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "name=", 5) || have || ss_endpoint_check(line + 5) ||
		    strlen(line + 5) >= cap) {
			snprintf(err, errlen,
				 "trust: expected one line name=HOST:PORT, got '%.64s'", line);
			return SS_ERR_FORMAT;
		}
		strcpy(name, line + 5);
		have = true;
	}
	if (!have) {
		snprintf(err, errlen, "trust: name= is missing");
		return SS_ERR_FORMAT;
	}
	return 0;
}

/* ---- set ---- */

static int set_peer(ss_ctl_set_req *r, const char *val, char *err, size_t errlen)
{
	int ret = r->have_peer ? SS_ERR_FORMAT : parse_identity(val, r->identity, err, errlen);

	if (ret == SS_ERR_FORMAT)
		snprintf(err, errlen, "peer: '%s' is not a base64 identity (one per request)", val);
	if (!ret)
		r->have_peer = true;
	return ret;
}

static int set_allowed_ip(ss_ctl_set_req *r, const char *val, char *err, size_t errlen)
{
	if (r->nallowed == SS_CTL_MAX_ALLOWED) {
		snprintf(err, errlen, "allowed-ips: more than %d entries", SS_CTL_MAX_ALLOWED);
		return SS_ERR_FORMAT;
	}
	if (ss_cidr_parse(val, &r->allowed[r->nallowed])) {
		snprintf(err, errlen, "allowed-ips: '%s' is not an address/prefix", val);
		return SS_ERR_FORMAT;
	}
	r->nallowed++;
	r->replace_allowed = true;
	return 0;
}

/* The last allow= line wins, as endpoint= does: "allow=none" must not keep earlier rules. */
static int set_allow(ss_ctl_set_req *r, const char *val, char *err, size_t errlen)
{
	char why[160];

	r->have_allow = true;
	r->nallow = 0;
	if (strcmp(val, "none") &&
	    ss_cap_list_parse(val, r->allow, SS_CAP_MAX_RULES, &r->nallow, why, sizeof(why))) {
		snprintf(err, errlen, "allow: %s", why);
		return SS_ERR_FORMAT;
	}
	return 0;
}

static int set_keepalive(ss_ctl_set_req *r, const char *val, char *err, size_t errlen)
{
	char *end;
	unsigned long v = strtoul(val, &end, 10);

	if (!strcmp(val, "off")) {
		v = 0;
	} else if (*end || !*val || v > 65535) {
		snprintf(err, errlen, "persistent-keepalive: '%s' is not 0..65535 or off", val);
		return SS_ERR_FORMAT;
	}
	r->keepalive = (uint32_t)v;
	r->have_keepalive = true;
	return 0;
}

static int set_endpoint(ss_ctl_set_req *r, const char *val, char *err, size_t errlen)
{
	free(r->endpoint);
	r->endpoint = strdup(val);
	if (r->endpoint)
		return 0;
	snprintf(err, errlen, "out of memory");
	return SS_ERR_NOMEM;
}

static int set_line(void *req, char *key, char *val, char *err, size_t errlen)
{
	ss_ctl_set_req *r = req;

	/* Flags: only "true" sets one (PROTOCOL.md 15.5); any other value clears it. */
	if (!strcmp(key, "remove"))
		r->remove = !strcmp(val, "true");
	else if (!strcmp(key, "rekey"))
		r->rekey = !strcmp(val, "true");
	else if (!strcmp(key, "reset_timestamp"))
		r->reset_timestamp = !strcmp(val, "true");
	else if (!strcmp(key, "replace_allowed_ips"))
		r->replace_allowed = !strcmp(val, "true");
	else if (!strcmp(key, "peer"))
		return set_peer(r, val, err, errlen);
	else if (!strcmp(key, "endpoint"))
		return set_endpoint(r, val, err, errlen);
	else if (!strcmp(key, "allowed_ip"))
		return set_allowed_ip(r, val, err, errlen);
	else if (!strcmp(key, "allow"))
		return set_allow(r, val, err, errlen);
	else if (!strcmp(key, "persistent_keepalive"))
		return set_keepalive(r, val, err, errlen);
	else {
		snprintf(err, errlen, "unknown key '%s'", key);
		return SS_ERR_FORMAT;
	}
	return 0;
}

void ss_ctl_set_req_clear(ss_ctl_set_req *r)
{
	free(r->endpoint);
	r->endpoint = NULL;
}

int ss_ctl_parse_set(char *body, ss_ctl_set_req *r, char *err, size_t errlen)
{
	int ret;

	memset(r, 0, sizeof(*r));
	ret = for_each_kv(body, set_line, r, err, errlen);
	if (!ret && !r->have_peer) {
		snprintf(err, errlen, "set: no peer given");
		ret = SS_ERR_FORMAT;
	}
	if (ret)
		ss_ctl_set_req_clear(r);
	return ret;
}

/* ---- grant / revoke ---- */

static int grant_line(void *req, char *key, char *val, char *err, size_t errlen)
{
	ss_ctl_grant_req *r = req;
	char why[160];
	int ret;

	if (!strcmp(key, "peer")) {
		ret = r->have_peer ? SS_ERR_FORMAT : parse_identity(val, r->identity, err, errlen);
		if (ret == SS_ERR_FORMAT)
			snprintf(err, errlen, "peer: '%.64s' is not a base64 identity", val);
		if (!ret)
			r->have_peer = true;
		return ret;
	}
	if (!strcmp(key, "rule")) {
		if (r->have_rule || ss_cap_rule_parse(val, &r->rule, why, sizeof(why))) {
			snprintf(err, errlen, "rule: %s", r->have_rule ? "one per request" : why);
			return SS_ERR_FORMAT;
		}
		r->have_rule = true;
		return 0;
	}
	if (!strcmp(key, "seconds")) {
		if (!ss_duration_parse(val, &r->seconds))
			return 0;
		snprintf(err, errlen, "seconds: '%.32s' is not a duration", val);
		return SS_ERR_FORMAT;
	}
	snprintf(err, errlen, "unknown key '%.32s'", key);
	return SS_ERR_FORMAT;
}

int ss_ctl_parse_grant(char *body, bool grant, ss_ctl_grant_req *r, char *err, size_t errlen)
{
	int ret;

	memset(r, 0, sizeof(*r));
	ret = for_each_kv(body, grant_line, r, err, errlen);
	if (ret)
		return ret;
	if (!r->have_peer || (grant && (!r->have_rule || !r->seconds))) {
		snprintf(err, errlen, "%s: needs peer=%s", grant ? "grant" : "revoke",
			 grant ? ", rule= and seconds=" : "");
		return SS_ERR_FORMAT;
	}
	return 0;
}

/* ---- sync ---- */

static int sync_flag(const char *key, const char *val, bool *out, char *err, size_t errlen);

struct sync_state {
	ss_ctl_sync_req *r;
	size_t cap; /* peers allocated */
};

static int sync_nomem(char *err, size_t errlen)
{
	snprintf(err, errlen, "out of memory");
	return SS_ERR_NOMEM;
}

/* One address/prefix line appended to a list (Address, AllowedIPs, CandidateAllow). */
static int sync_cidr(const char *key, const char *val, ss_cidr **list, size_t *n, char *err,
		     size_t errlen)
{
	ss_cidr c, *na;

	if (ss_cidr_parse(val, &c)) {
		snprintf(err, errlen, "%s: '%.64s' is not an address/prefix", key, val);
		return SS_ERR_FORMAT;
	}
	na = realloc(*list, (*n + 1) * sizeof(*na));
	if (!na)
		return sync_nomem(err, errlen);
	*list = na;
	(*list)[(*n)++] = c;
	return 0;
}

static int sync_new_peer(struct sync_state *st, const char *key, const char *val, char *err,
			 size_t errlen)
{
	ss_conf *c = st->r->conf;
	ss_conf_peer *p;

	if (c->npeers == SS_CONF_MAX_PEERS) {
		snprintf(err, errlen, "sync: more than %d peers", SS_CONF_MAX_PEERS);
		return SS_ERR_FORMAT;
	}
	if (c->npeers == st->cap) {
		size_t ncap = st->cap ? 2 * st->cap : 16;
		ss_conf_peer *np = realloc(c->peers, ncap * sizeof(*np));

		if (!np)
			return sync_nomem(err, errlen);
		c->peers = np;
		st->cap = ncap;
	}
	p = &c->peers[c->npeers];
	memset(p, 0, sizeof(*p));
	p->line = (unsigned)c->npeers + 1;
	c->npeers++;
	if (!strcmp(key, "peer")) {
		int ret = parse_identity(val, p->identity, err, errlen);

		if (ret == SS_ERR_FORMAT)
			snprintf(err, errlen, "peer: '%.64s' is not a base64 identity", val);
		return ret;
	}
	p->tofu = true;
	if (ss_endpoint_check(val)) {
		snprintf(err, errlen, "tofu: '%.64s' is not HOST:PORT or [V6]:PORT", val);
		return SS_ERR_FORMAT;
	}
	p->endpoint = strdup(val);
	return p->endpoint ? 0 : sync_nomem(err, errlen);
}

static int sync_endpoint(ss_conf_peer *p, const char *val, char *err, size_t errlen)
{
	if (ss_endpoint_check(val)) {
		snprintf(err, errlen, "endpoint: '%.64s' is not ADDRESS:PORT or [V6]:PORT", val);
		return SS_ERR_FORMAT;
	}
	free(p->resolved);
	p->resolved = strdup(val);
	if (!p->resolved)
		return sync_nomem(err, errlen);
	if (p->tofu)
		return 0;
	free(p->endpoint);
	p->endpoint = strdup(val);
	return p->endpoint ? 0 : sync_nomem(err, errlen);
}

/* allow= lines add up, as Allow = lines do in the file; "none" alone means no rules. */
static int sync_allow(ss_conf_peer *p, const char *val, char *err, size_t errlen)
{
	char why[160];

	if (!p->allow && !(p->allow = calloc(SS_CAP_MAX_RULES, sizeof(*p->allow))))
		return sync_nomem(err, errlen);
	p->has_allow = true;
	if (!strcmp(val, "none"))
		return 0;
	if (ss_cap_list_parse(val, p->allow, SS_CAP_MAX_RULES, &p->nallow, why, sizeof(why))) {
		snprintf(err, errlen, "allow: %s", why);
		return SS_ERR_FORMAT;
	}
	p->nown = p->nallow;
	p->own_allow = true;
	return 0;
}

static int sync_groups(ss_conf_peer *p, char *val, char *err, size_t errlen)
{
	for (char *save, *g = strtok_r(val, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
		if (!ss_conf_valid_label(g)) {
			snprintf(err, errlen, "groups: '%.40s' is not a group name", g);
			return SS_ERR_FORMAT;
		}
		if (ss_conf_add_group(p, g))
			return sync_nomem(err, errlen);
	}
	return 0;
}

/* "group_allow=GROUP RULE": a rule the peer has from one of its groups (after groups=). */
static int sync_group_allow(ss_conf_peer *p, char *val, char *err, size_t errlen)
{
	char *sp = strchr(val, ' '), why[160];
	size_t g = 0;

	if (sp)
		*sp = '\0';
	while (g < p->ngroups && strcmp(p->groups[g], val))
		g++;
	if (!sp || g == p->ngroups) {
		snprintf(err, errlen, "group_allow: '%.40s' is not one of the peer's groups", val);
		return SS_ERR_FORMAT;
	}
	if ((!p->allow && !(p->allow = calloc(SS_CAP_MAX_RULES, sizeof(*p->allow)))) ||
	    (!p->origin && !(p->origin = calloc(SS_CAP_MAX_RULES, sizeof(*p->origin)))))
		return sync_nomem(err, errlen);
	if (p->nallow == SS_CAP_MAX_RULES ||
	    ss_cap_rule_parse(sp + 1, &p->allow[p->nallow], why, sizeof(why))) {
		snprintf(err, errlen, "group_allow: %s",
			 p->nallow == SS_CAP_MAX_RULES ? "too many rules" : why);
		return SS_ERR_FORMAT;
	}
	p->has_allow = true;
	p->origin[p->nallow++] = p->groups[g];
	return 0;
}

/* Name =, Groups = and the rules groups give: only for show, never for access. */
static int sync_meta(ss_conf_peer *p, const char *key, char *val, char *err, size_t errlen)
{
	if (!strcmp(key, "groups"))
		return sync_groups(p, val, err, errlen);
	if (!strcmp(key, "group_allow"))
		return sync_group_allow(p, val, err, errlen);
	if (!ss_conf_valid_label(val) || p->label) {
		snprintf(err, errlen, "name: '%.40s' is not a peer name", val);
		return SS_ERR_FORMAT;
	}
	p->label = strdup(val);
	return p->label ? 0 : sync_nomem(err, errlen);
}

/*
 * Introducer =, Introduce = and Relay = (PROTOCOL.md 16.4, 16.7); 1 when key is none of
 * them. A TOFU peer is never an introducer or a relay, as in the file.
 */
static int sync_peer_reach(ss_conf_peer *p, const char *key, const char *val, char *err,
			   size_t errlen)
{
	static const char *const relay[] = {[SS_CONF_RELAY_NO] = "no",
					    [SS_CONF_RELAY_USE] = "yes",
					    [SS_CONF_RELAY_SERVE] = "serve"};

	if (!strcmp(key, "introducer") || !strcmp(key, "introduce")) {
		bool *b = key[9] == 'r' ? &p->introducer : &p->introduce;
		int ret = sync_flag(key, val, b, err, errlen);

		if (!ret && p->tofu && p->introducer) {
			snprintf(err, errlen, "introducer: needs a configured identity, not tofu");
			return SS_ERR_FORMAT;
		}
		return ret;
	}
	if (strcmp(key, "relay"))
		return 1;
	for (uint8_t i = 0; i < sizeof(relay) / sizeof(relay[0]); i++)
		if (!strcmp(val, relay[i]) && (!p->tofu || i == SS_CONF_RELAY_NO)) {
			p->relay = i;
			return 0;
		}
	snprintf(err, errlen, "relay: '%.32s' is not yes, serve or no%s", val,
		 p->tofu ? " (a tofu peer: no only)" : "");
	return SS_ERR_FORMAT;
}

static int sync_peer_line(ss_conf_peer *p, const char *key, const char *val, char *err,
			  size_t errlen)
{
	int ret = sync_peer_reach(p, key, val, err, errlen);

	if (ret <= 0)
		return ret;
	if (!strcmp(key, "endpoint"))
		return sync_endpoint(p, val, err, errlen);
	if (!strcmp(key, "allowed_ip"))
		return sync_cidr(key, val, &p->allowed, &p->nallowed, err, errlen);
	if (!strcmp(key, "allow"))
		return sync_allow(p, val, err, errlen);
	if (!strcmp(key, "name") || !strcmp(key, "groups") || !strcmp(key, "group_allow"))
		return sync_meta(p, key, (char *)val, err, errlen);
	if (!strcmp(key, "persistent_keepalive")) {
		ss_ctl_set_req tmp;

		ret = set_keepalive(&tmp, val, err, errlen);
		p->keepalive = tmp.keepalive;
		return ret;
	}
	snprintf(err, errlen, "unknown key '%.32s'", key);
	return SS_ERR_FORMAT;
}

static int sync_number(const char *key, const char *val, uint32_t max, uint32_t *out, char *err,
		       size_t errlen)
{
	char *end;
	unsigned long v = strtoul(val, &end, 10);

	if (!*val || *end || v > max || *val == '-') {
		snprintf(err, errlen, "%s: '%.32s' is not 0..%u", key, val, max);
		return SS_ERR_FORMAT;
	}
	*out = (uint32_t)v;
	return 0;
}

static int sync_flag(const char *key, const char *val, bool *out, char *err, size_t errlen)
{
	if (strcmp(val, "yes") && strcmp(val, "no")) {
		snprintf(err, errlen, "%s: '%.32s' is not yes or no", key, val);
		return SS_ERR_FORMAT;
	}
	*out = !strcmp(val, "yes");
	return 0;
}

/* CandidateAllow: one prefix a line, at most SS_CAND_ALLOW_MAX; "none" alone means none. */
static int sync_cand_allow(ss_conf *c, const char *val, char *err, size_t errlen)
{
	if (!strcmp(val, "none"))
		return 0;
	if (c->ncand_allow == SS_CAND_ALLOW_MAX) {
		snprintf(err, errlen,
			 "candidate_allow: '%.64s' is not an address/prefix (or one too many)",
			 val);
		return SS_ERR_FORMAT;
	}
	return sync_cidr("candidate_allow", val, &c->cand_allow, &c->ncand_allow, err, errlen);
}

/* The reachability keys of [Interface] (PROTOCOL.md 16); 1 when key is none of them. */
static int sync_iface_reach(ss_ctl_sync_req *r, const char *key, const char *val, char *err,
			    size_t errlen)
{
	static const char *const modes[] = {
		[SS_LAN_OFF] = "off", [SS_LAN_MODE_PEERS] = "peers", [SS_LAN_MODE_OPEN] = "open"};
	ss_conf *c = r->conf;

	if (!strcmp(key, "advertise_local")) {
		r->given |= SS_SYNC_ADVERTISE_LOCAL;
		return sync_flag(key, val, &c->advertise_local, err, errlen);
	}
	if (!strcmp(key, "private")) {
		r->given |= SS_SYNC_PRIVATE;
		return sync_flag(key, val, &c->private_host, err, errlen);
	}
	if (!strcmp(key, "candidate_allow")) {
		r->given |= SS_SYNC_CAND_ALLOW;
		return sync_cand_allow(c, val, err, errlen);
	}
	if (strcmp(key, "lan_discovery"))
		return 1;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(val, modes[i])) {
			c->lan_discovery = (enum ss_lan_discovery)i;
			r->given |= SS_SYNC_LAN_DISCOVERY;
			return 0;
		}
	snprintf(err, errlen, "lan_discovery: '%.32s' is not off, peers or open", val);
	return SS_ERR_FORMAT;
}

/* The [Interface] part: what applies at once (policy) and what is only compared. */
static int sync_iface_line(ss_ctl_sync_req *r, const char *key, const char *val, char *err,
			   size_t errlen)
{
	ss_conf *c = r->conf;
	uint32_t v = 0;
	int ret = sync_iface_reach(r, key, val, err, errlen);

	if (ret <= 0)
		return ret;
	if (!strcmp(key, "identity")) {
		ret = parse_identity(val, r->identity, err, errlen);
		if (ret == SS_ERR_FORMAT)
			snprintf(err, errlen, "identity: '%.64s' is not a base64 identity", val);
		r->given |= ret ? 0 : SS_SYNC_IDENTITY;
		return ret;
	}
	if (!strcmp(key, "transport")) {
		if (strcmp(val, "udp") && strcmp(val, "ip")) {
			snprintf(err, errlen, "transport: '%.32s' is not udp or ip", val);
			return SS_ERR_FORMAT;
		}
		c->transport = strcmp(val, "udp") ? SS_TRANSPORT_IP : SS_TRANSPORT_UDP;
		r->given |= SS_SYNC_TRANSPORT;
		return 0;
	}
	if (!strcmp(key, "listen_port") || !strcmp(key, "mtu") ||
	    !strcmp(key, "conntrack_per_peer")) {
		ret = sync_number(key, val, key[0] == 'l' ? 65535 : UINT32_MAX, &v, err, errlen);
		if (ret)
			return ret;
		if (key[0] == 'l')
			c->listen_port = (uint16_t)v, r->given |= SS_SYNC_LISTEN_PORT;
		else if (key[0] == 'm')
			c->mtu = v, r->given |= SS_SYNC_MTU;
		else
			c->ct_per_peer = v, r->given |= SS_SYNC_CT_PER_PEER;
		return 0;
	}
	if (!strcmp(key, "address")) {
		r->given |= SS_SYNC_ADDRESS;
		return sync_cidr("address", val, &c->addrs, &c->naddrs, err, errlen);
	}
	if (!strcmp(key, "trust_store")) {
		free(c->trust_store);
		c->trust_store = strdup(val);
		r->given |= SS_SYNC_TRUST_STORE;
		return c->trust_store ? 0 : sync_nomem(err, errlen);
	}
	if (!strcmp(key, "accept_tofu") || !strcmp(key, "tun_ring")) {
		bool tofu = key[0] == 'a';

		r->given |= tofu ? SS_SYNC_ACCEPT_TOFU : SS_SYNC_TUN_RING;
		return sync_flag(key, val, tofu ? &c->accept_anonymous : &c->tun_ring, err, errlen);
	}
	if (!strcmp(key, "policy")) {
		if (strcmp(val, "allow") && strcmp(val, "deny")) {
			snprintf(err, errlen, "policy: '%.32s' is not allow or deny", val);
			return SS_ERR_FORMAT;
		}
		c->policy_allow = !strcmp(val, "allow");
		r->given |= SS_SYNC_POLICY;
		return 0;
	}
	snprintf(err, errlen, "unknown key '%.32s'", key);
	return SS_ERR_FORMAT;
}

static int sync_line(void *req, char *key, char *val, char *err, size_t errlen)
{
	struct sync_state *st = req;
	ss_conf *c = st->r->conf;

	if (!strcmp(key, "peer") || !strcmp(key, "tofu"))
		return sync_new_peer(st, key, val, err, errlen);
	if (c->npeers)
		return sync_peer_line(&c->peers[c->npeers - 1], key, val, err, errlen);
	return sync_iface_line(st->r, key, val, err, errlen);
}

void ss_ctl_sync_req_clear(ss_ctl_sync_req *r)
{
	ss_conf_free(r->conf);
	r->conf = NULL;
}

int ss_ctl_parse_sync(char *body, ss_ctl_sync_req *r, char *err, size_t errlen)
{
	struct sync_state st = {.r = r};
	int ret;

	memset(r, 0, sizeof(*r));
	r->conf = calloc(1, sizeof(*r->conf));
	if (!r->conf)
		return sync_nomem(err, errlen);
	r->conf->mtu = SS_CONF_DEFAULT_MTU;
	r->conf->ct_per_peer = SS_CONF_DEFAULT_CT_PER_PEER;
	ret = for_each_kv(body, sync_line, &st, err, errlen);
	if (ret)
		ss_ctl_sync_req_clear(r);
	return ret;
}

/* ---- writing a sync ---- */

struct buf {
	char *s;
	size_t len, cap;
	bool failed;
};

static void put(struct buf *b, const char *key, const char *val)
{
	size_t need = strlen(key) + strlen(val) + 3;

	if (b->failed)
		return;
	if (b->len + need > b->cap) {
		size_t ncap = b->cap ? b->cap : 4096;
		char *ns;

		while (b->len + need > ncap)
			ncap *= 2;
		ns = realloc(b->s, ncap);
		if (!ns) {
			b->failed = true;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
	b->len += (size_t)sprintf(b->s + b->len, "%s%s%s\n", key, *key ? "=" : "", val);
}

static void put_num(struct buf *b, const char *key, unsigned long v)
{
	char n[24];

	snprintf(n, sizeof(n), "%lu", v);
	put(b, key, n);
}

/* All of a peer's groups on one line, once (called with i = 0 .. ngroups - 1). */
static void put_groups(struct buf *b, const ss_conf_peer *p, size_t i)
{
	char line[SS_CONF_MAX_LINE] = "";
	size_t n = 0;

	if (i)
		return;
	for (size_t j = 0; j < p->ngroups && n < sizeof(line); j++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", j ? "," : "",
				      p->groups[j]);
	put(b, "groups", line);
}

static void put_sync_peer(struct buf *b, const ss_conf_peer *p)
{
	char s[SS_CAP_RULE_STR > 64 ? SS_CAP_RULE_STR : 64];

	if (p->tofu) {
		put(b, "tofu", p->endpoint);
	} else {
		ss_key_to_base64(p->identity, s);
		put(b, "peer", s);
	}
	if (p->resolved)
		put(b, "endpoint", p->resolved);
	else if (p->endpoint && !p->tofu)
		put(b, "endpoint", p->endpoint);
	for (size_t i = 0; i < p->nallowed; i++) {
		ss_cidr_format(&p->allowed[i], s, sizeof(s));
		put(b, "allowed_ip", s);
	}
	if (p->label)
		put(b, "name", p->label);
	for (size_t i = 0; i < p->ngroups; i++)
		put_groups(b, p, i);
	if ((p->has_allow && !p->nallow) || (p->own_allow && !p->nown))
		put(b, "allow", "none");
	for (size_t i = 0; i < p->nallow; i++) {
		const char *from = p->origin ? p->origin[i] : NULL;
		char g[SS_CAP_RULE_STR + 40];

		ss_cap_rule_format(&p->allow[i], s, sizeof(s));
		snprintf(g, sizeof(g), "%s %s", from ? from : "", s);
		put(b, from ? "group_allow" : "allow", from ? g : s);
	}
	put_num(b, "persistent_keepalive", p->keepalive);
	put(b, "introducer", p->introducer ? "yes" : "no");
	put(b, "introduce", p->introduce ? "yes" : "no");
	put(b, "relay",
	    p->relay == SS_CONF_RELAY_SERVE ? "serve"
	    : p->relay == SS_CONF_RELAY_USE ? "yes"
					    : "no");
}

static void put_sync_reach(struct buf *b, const ss_conf *c)
{
	static const char *const modes[] = {
		[SS_LAN_OFF] = "off", [SS_LAN_MODE_PEERS] = "peers", [SS_LAN_MODE_OPEN] = "open"};
	char s[64];

	put(b, "lan_discovery", modes[c->lan_discovery]);
	put(b, "advertise_local", c->advertise_local ? "yes" : "no");
	put(b, "private", c->private_host ? "yes" : "no");
	if (!c->ncand_allow)
		put(b, "candidate_allow", "none");
	for (size_t i = 0; i < c->ncand_allow; i++) {
		ss_cidr_format(&c->cand_allow[i], s, sizeof(s));
		put(b, "candidate_allow", s);
	}
}

char *ss_ctl_format_sync(const ss_conf *c, const uint8_t identity[SS_IDENTITY_LEN])
{
	struct buf b = {0};
	char s[64];

	put(&b, "", "sync");
	ss_key_to_base64(identity, s);
	put(&b, "identity", s);
	put(&b, "transport", c->transport == SS_TRANSPORT_UDP ? "udp" : "ip");
	put_num(&b, "listen_port", c->listen_port);
	put_num(&b, "mtu", c->mtu);
	for (size_t i = 0; i < c->naddrs; i++) {
		ss_cidr_format(&c->addrs[i], s, sizeof(s));
		put(&b, "address", s);
	}
	if (c->trust_store)
		put(&b, "trust_store", c->trust_store);
	put(&b, "accept_tofu", c->accept_anonymous ? "yes" : "no");
	put(&b, "tun_ring", c->tun_ring ? "yes" : "no");
	put(&b, "policy", c->policy_allow ? "allow" : "deny");
	put_num(&b, "conntrack_per_peer", c->ct_per_peer);
	put_sync_reach(&b, c);
	for (size_t i = 0; i < c->npeers; i++)
		put_sync_peer(&b, &c->peers[i]);
	put(&b, "", "");
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
