/* SPDX-License-Identifier: MIT */
/*
 * knockd.conf parser. Strict for the same reason as the tunnel's: a knock daemon that
 * starts with a mistyped Open = silently ignored would leave a port closed or, worse,
 * an action reachable by the wrong identity. Every error names FILE:LINE.
 */
#include "kconf.h"
#include "capability.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#define MAX_FILE_SIZE ((size_t)4 << 20)
#define MAX_LINE 4096
#define MAX_CLIENTS 100000
#define MAX_ACTIONS 1024
#define MAX_DURATION (7 * 86400u)

enum section { SEC_NONE, SEC_SERVER, SEC_ACTION, SEC_CLIENT };

struct parser {
	ss_kconf *c;
	const char *file;
	unsigned line;
	enum section sec;
	unsigned seen[32]; /* line each key was set on in the current section */
	char **pending;	   /* client action names, resolved at the end */
	unsigned *pending_line;
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->errlen)
		return SS_ERR_FORMAT;
	n = snprintf(p->err, p->errlen, "%s:%u: ", p->file, line);
	if (n < 0 || (size_t)n >= p->errlen)
		return SS_ERR_FORMAT;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return SS_ERR_FORMAT;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int parse_u32(struct parser *p, const char *key, const char *v, uint32_t min, uint32_t max,
		     uint32_t *out)
{
	char *end;
	unsigned long long x;

	errno = 0;
	if (*v < '0' || *v > '9')
		return fail(p, p->line, "%s: '%s' is not a number", key, v);
	x = strtoull(v, &end, 10);
	if (errno || *end || x < min || x > max)
		return fail(p, p->line, "%s: '%s' is not in %u..%u", key, v, min, max);
	*out = (uint32_t)x;
	return 0;
}

static int parse_bool(struct parser *p, const char *key, const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on")) {
		*out = true;
	} else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off")) {
		*out = false;
	} else {
		return fail(p, p->line, "%s: '%s' is not yes or no", key, v);
	}
	return 0;
}

/* Paths in the file are relative to the file's directory, not the daemon's cwd. */
static int resolve(struct parser *p, const char *v, char **out)
{
	const char *slash = strrchr(p->c->path, '/');
	size_t dl = slash ? (size_t)(slash - p->c->path) + 1 : 0;

	if (!*v)
		return fail(p, p->line, "empty path");
	free(*out);
	*out = malloc(dl + strlen(v) + 1);
	if (!*out)
		return SS_ERR_NOMEM;
	if (v[0] == '/')
		dl = 0;
	memcpy(*out, p->c->path, dl);
	strcpy(*out + dl, v);
	return 0;
}

static void free_argv(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

/* Split on blanks: commands are run with execve, never through a shell. */
static int parse_argv(struct parser *p, const char *key, char *v, char ***out)
{
	char **argv = calloc(SS_KCONF_MAX_ARGS + 1, sizeof(char *));
	size_t n = 0;
	char *save = NULL, *t;

	if (!argv)
		return SS_ERR_NOMEM;
	for (t = strtok_r(v, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == SS_KCONF_MAX_ARGS) {
			free_argv(argv);
			return fail(p, p->line, "%s: more than %d arguments", key,
				    SS_KCONF_MAX_ARGS);
		}
		if (strpbrk(t, "\"'`$|;&<>\\")) {
			free_argv(argv);
			return fail(
				p, p->line,
				"%s: '%s': no shell runs commands, so quotes, $, |, ;, &, <, >, "
				"` and \\ are refused",
				key, t);
		}
		argv[n] = strdup(t);
		if (!argv[n++]) {
			free_argv(argv);
			return SS_ERR_NOMEM;
		}
	}
	if (n == 0 || argv[0][0] != '/') {
		free_argv(argv);
		return fail(p, p->line, "%s: needs an absolute program path", key);
	}
	free_argv(*out);
	*out = argv;
	return 0;
}

/* "tcp/22", "udp/53", "tcp/8000-8010", comma separated. */
static int parse_ports(struct parser *p, char *v, ss_kaction *a)
{
	char *save = NULL, *t;

	for (t = strtok_r(v, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *s = trim(t), *slash = strchr(s, '/'), *dash, *end;
		unsigned long lo, hi;
		ss_kport *pt;

		if (a->nports == SS_KCONF_MAX_PORTS)
			return fail(p, p->line, "Open: more than %d entries", SS_KCONF_MAX_PORTS);
		pt = &a->ports[a->nports];
		if (!slash)
			return fail(p, p->line, "Open: '%s' is not tcp/PORT or udp/PORT[-PORT]", s);
		*slash = '\0';
		if (!strcmp(s, "tcp"))
			pt->proto = IPPROTO_TCP;
		else if (!strcmp(s, "udp"))
			pt->proto = IPPROTO_UDP;
		else
			return fail(p, p->line, "Open: protocol '%s' is not tcp or udp", s);
		s = slash + 1;
		dash = strchr(s, '-');
		if (dash)
			*dash = '\0';
		errno = 0;
		lo = strtoul(s, &end, 10);
		if (*s < '0' || *s > '9' || *end || errno || lo < 1 || lo > 65535)
			return fail(p, p->line, "Open: port '%s' is not in 1..65535", s);
		hi = lo;
		if (dash) {
			s = dash + 1;
			hi = strtoul(s, &end, 10);
			if (*s < '0' || *s > '9' || *end || errno || hi < lo || hi > 65535)
				return fail(p, p->line, "Open: range end '%s' is not in %lu..65535",
					    s, lo);
		}
		pt->lo = (uint16_t)lo;
		pt->hi = (uint16_t)hi;
		a->nports++;
	}
	if (!a->nports)
		return fail(p, p->line, "Open: empty list");
	return 0;
}

static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n < 1 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

static int once(struct parser *p, int k, const char *key)
{
	if (p->seen[k])
		return fail(p, p->line, "%s set twice in this section (first on line %u)", key,
			    p->seen[k]);
	p->seen[k] = p->line;
	return 0;
}

static int server_key(struct parser *p, const char *k, char *v)
{
	ss_kconf *c = p->c;
	uint32_t x;
	int ret;

	if (!strcasecmp(k, "PrivateKeyFile")) {
		if ((ret = once(p, 0, k)))
			return ret;
		return resolve(p, v, &c->private_key_file);
	}
	if (!strcasecmp(k, "Listen")) {
		if (c->nlisten == SS_KCONF_MAX_LISTEN)
			return fail(p, p->line, "Listen: at most %d", SS_KCONF_MAX_LISTEN);
		c->listen[c->nlisten] = strdup(v);
		if (!c->listen[c->nlisten])
			return SS_ERR_NOMEM;
		c->nlisten++;
		return 0;
	}
	if (!strcasecmp(k, "Window")) {
		if ((ret = once(p, 1, k)) || (ret = parse_u32(p, k, v, 1, 3600, &x)))
			return ret;
		c->window_ms = (uint64_t)x * 1000;
		return 0;
	}
	if (!strcasecmp(k, "ReplayFile")) {
		if ((ret = once(p, 2, k)))
			return ret;
		return resolve(p, v, &c->replay_file);
	}
	if (!strcasecmp(k, "ReplayCapacity"))
		return (ret = once(p, 3, k))
			       ? ret
			       : parse_u32(p, k, v, 16, 1u << 20, &c->replay_capacity);
	if (!strcasecmp(k, "RateLimit"))
		return (ret = once(p, 4, k)) ? ret : parse_u32(p, k, v, 1, 1000000, &c->rate);
	if (!strcasecmp(k, "Burst"))
		return (ret = once(p, 5, k)) ? ret : parse_u32(p, k, v, 1, 1000000, &c->burst);
	if (!strcasecmp(k, "RateLimitSources"))
		return (ret = once(p, 6, k)) ? ret
					     : parse_u32(p, k, v, 64, 1u << 22, &c->rate_sources);
	if (!strcasecmp(k, "LogInterval"))
		return (ret = once(p, 7, k)) ? ret : parse_u32(p, k, v, 1, 86400, &c->log_interval);
	if (!strcasecmp(k, "NftTable")) {
		if ((ret = once(p, 8, k)))
			return ret;
		if (!name_ok(v, sizeof(c->nft_table) - 1) || strchr(v, '.') || strchr(v, '-'))
			return fail(p, p->line, "NftTable: '%s' is not [A-Za-z0-9_]{1,31}", v);
		strcpy(c->nft_table, v);
		return 0;
	}
	if (!strcasecmp(k, "GuardPorts"))
		return (ret = once(p, 9, k)) ? ret : parse_bool(p, k, v, &c->guard);
	return fail(p, p->line, "unknown key '%s' in [Server]", k);
}

static int parse_iface(struct parser *p, const char *v, ss_kaction *a)
{
	if (!name_ok(v, SS_KCONF_IFACE_MAX) || strchr(v, '/') || !strcmp(v, ".") ||
	    !strcmp(v, ".."))
		return fail(p, p->line, "Interface: '%s' is not an interface name", v);
	strcpy(a->iface, v);
	return 0;
}

/* The rule is checked here so a typo fails at start-up, not at the first knock. */
static int parse_rule(struct parser *p, const char *v, ss_kaction *a)
{
	ss_cap_rule r;
	char why[160];

	if (ss_cap_rule_parse(v, &r, why, sizeof(why)))
		return fail(p, p->line, "Rule: %s", why);
	ss_cap_rule_format(&r, a->rule, sizeof(a->rule));
	return 0;
}

static int action_key(struct parser *p, const char *k, char *v)
{
	ss_kaction *a = &p->c->actions[p->c->nactions - 1];
	int ret;

	if (!strcasecmp(k, "Type")) {
		if ((ret = once(p, 0, k)))
			return ret;
		if (!strcmp(v, "command"))
			a->type = SS_KACT_COMMAND;
		else if (!strcmp(v, "open"))
			a->type = SS_KACT_OPEN;
		else if (!strcmp(v, "cycle"))
			a->type = SS_KACT_CYCLE;
		else if (!strcmp(v, "grant"))
			a->type = SS_KACT_GRANT;
		else
			return fail(p, p->line, "Type: '%s' is not command, open, cycle or grant",
				    v);
		return 0;
	}
	if (!strcasecmp(k, "Command"))
		return (ret = once(p, 1, k)) ? ret : parse_argv(p, k, v, &a->argv);
	if (!strcasecmp(k, "CloseCommand"))
		return (ret = once(p, 2, k)) ? ret : parse_argv(p, k, v, &a->close_argv);
	if (!strcasecmp(k, "Open"))
		return (ret = once(p, 3, k)) ? ret : parse_ports(p, v, a);
	if (!strcasecmp(k, "Duration"))
		return (ret = once(p, 4, k)) ? ret
					     : parse_u32(p, k, v, 1, MAX_DURATION, &a->duration);
	if (!strcasecmp(k, "MaxDuration"))
		return (ret = once(p, 5, k))
			       ? ret
			       : parse_u32(p, k, v, 1, MAX_DURATION, &a->max_duration);
	if (!strcasecmp(k, "Timeout"))
		return (ret = once(p, 6, k)) ? ret : parse_u32(p, k, v, 1, 86400, &a->timeout);
	if (!strcasecmp(k, "User")) {
		if ((ret = once(p, 7, k)))
			return ret;
		if (!name_ok(v, 32))
			return fail(p, p->line, "User: '%s' is not a user name", v);
		a->user = strdup(v);
		return a->user ? 0 : SS_ERR_NOMEM;
	}
	if (!strcasecmp(k, "Interface"))
		return (ret = once(p, 9, k)) ? ret : parse_iface(p, v, a);
	if (!strcasecmp(k, "Rule"))
		return (ret = once(p, 10, k)) ? ret : parse_rule(p, v, a);
	if (!strcasecmp(k, "Payload")) {
		if ((ret = once(p, 8, k)))
			return ret;
		if (!strcmp(v, "base64"))
			a->payload = SS_KPAY_BASE64;
		else if (!strcmp(v, "ascii"))
			a->payload = SS_KPAY_ASCII;
		else if (!strcmp(v, "none"))
			a->payload = SS_KPAY_NONE;
		else
			return fail(p, p->line, "Payload: '%s' is not base64, ascii or none", v);
		return 0;
	}
	return fail(p, p->line, "unknown key '%s' in [Action %s]", k, a->name);
}

static int client_key(struct parser *p, const char *k, char *v)
{
	ss_kclient *cl = &p->c->clients[p->c->nclients - 1];
	char *save = NULL, *t;
	int ret;

	if (!strcasecmp(k, "Identity")) {
		if ((ret = once(p, 0, k)))
			return ret;
		if (ss_key_from_base64(v, cl->identity))
			return fail(p, p->line, "Identity: '%s' is not a base64 identity", v);
		if (ss_identity_check_pub(cl->identity))
			return fail(
				p, p->line,
				"Identity: '%s' is a weak key (small-order or non-canonical point)",
				v);
		return 0;
	}
	if (!strcasecmp(k, "Actions")) {
		if ((ret = once(p, 1, k)))
			return ret;
		for (t = strtok_r(v, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			char *n = trim(t);
			size_t *na;
			char **np;
			unsigned *nl;

			/* Names resolve to actions at the end: actions may follow clients. */
			na = realloc(cl->actions, (cl->nactions + 1) * sizeof(*na));
			if (!na)
				return SS_ERR_NOMEM;
			cl->actions = na;
			np = realloc(p->pending, (cl->nactions + 1) * sizeof(*np));
			if (!np)
				return SS_ERR_NOMEM;
			p->pending = np;
			nl = realloc(p->pending_line, (cl->nactions + 1) * sizeof(*nl));
			if (!nl)
				return SS_ERR_NOMEM;
			p->pending_line = nl;
			if (!name_ok(n, SS_KNOCK_MAX_ACTION))
				return fail(p, p->line, "Actions: '%s' is not an action name", n);
			p->pending[cl->nactions] = n;
			cl->actions[cl->nactions] = SIZE_MAX;
			cl->nactions++;
		}
		if (!cl->nactions)
			return fail(p, p->line, "Actions: empty list");
		return 0;
	}
	if (!strcasecmp(k, "AllowAnySource"))
		return (ret = once(p, 2, k)) ? ret : parse_bool(p, k, v, &cl->allow_any_source);
	return fail(p, p->line, "unknown key '%s' in [Client %s]", k, cl->name);
}

static int check_client(struct parser *p)
{
	ss_kclient *cl;

	if (p->sec != SEC_CLIENT)
		return 0;
	cl = &p->c->clients[p->c->nclients - 1];
	if (!p->seen[0])
		return fail(p, cl->line, "[Client %s] has no Identity", cl->name);
	for (size_t i = 0; i + 1 < p->c->nclients; i++)
		if (!memcmp(p->c->clients[i].identity, cl->identity, SS_IDENTITY_LEN))
			return fail(p, p->seen[0],
				    "identity already used by [Client %s] on line %u",
				    p->c->clients[i].name, p->c->clients[i].line);
	/* Resolved later against the full action list; remember names now. */
	return 0;
}

static int check_action(struct parser *p)
{
	ss_kaction *a;

	if (p->sec != SEC_ACTION)
		return 0;
	a = &p->c->actions[p->c->nactions - 1];
	if (!p->seen[0])
		return fail(p, a->line, "[Action %s] has no Type", a->name);
	if (!a->timeout)
		a->timeout = 30;
	switch (a->type) {
	case SS_KACT_COMMAND:
		if (!a->argv)
			return fail(p, a->line, "[Action %s] Type = command needs Command",
				    a->name);
		if (a->nports || a->close_argv)
			return fail(p, a->line,
				    "[Action %s] Type = command takes no Open or CloseCommand",
				    a->name);
		break;
	case SS_KACT_OPEN:
		if (!a->nports)
			return fail(p, a->line, "[Action %s] Type = open needs Open", a->name);
		if (a->argv || a->close_argv || a->user)
			return fail(p, a->line, "[Action %s] Type = open runs no command", a->name);
		if (!a->duration)
			a->duration = 30;
		break;
	case SS_KACT_CYCLE:
		if (!a->argv || !a->close_argv || !a->duration)
			return fail(
				p, a->line,
				"[Action %s] Type = cycle needs Command, CloseCommand and Duration",
				a->name);
		break;
	case SS_KACT_GRANT:
		if (!*a->iface || !*a->rule || !a->duration)
			return fail(p, a->line,
				    "[Action %s] Type = grant needs Interface, Rule and Duration",
				    a->name);
		if (a->argv || a->close_argv || a->nports || a->user)
			return fail(p, a->line,
				    "[Action %s] Type = grant runs no command and opens "
				    "no port (Rule says what)",
				    a->name);
		if (a->duration > SS_KCONF_GRANT_MAX || a->max_duration > SS_KCONF_GRANT_MAX)
			return fail(
				p, a->line,
				"[Action %s] Type = grant: Duration and MaxDuration are at most "
				"%u s (SS_ERR_GRANT_LIMIT)",
				a->name, SS_KCONF_GRANT_MAX);
		break;
	}
	if (!a->max_duration)
		a->max_duration = a->duration;
	if (a->duration > a->max_duration)
		return fail(p, a->line, "[Action %s] Duration is over MaxDuration", a->name);
	return 0;
}

static int end_section(struct parser *p)
{
	int ret = check_client(p);

	if (!ret)
		ret = check_action(p);
	memset(p->seen, 0, sizeof(p->seen));
	return ret;
}

static int header(struct parser *p, char *s)
{
	ss_kconf *c = p->c;
	char *name;
	int ret = end_section(p);

	if (ret)
		return ret;
	if (!strcmp(s, "Server")) {
		if (p->sec != SEC_NONE || c->nactions || c->nclients)
			return fail(p, p->line, "[Server] must come first, once");
		p->sec = SEC_SERVER;
		return 0;
	}
	name = strchr(s, ' ');
	if (!name)
		return fail(p, p->line, "unknown section [%s]", s);
	*name++ = '\0';
	name = trim(name);
	if (!strcmp(s, "Action")) {
		ss_kaction *na;

		if (!name_ok(name, SS_KNOCK_MAX_ACTION))
			return fail(p, p->line, "action name '%s' is not [A-Za-z0-9._-]{1,32}",
				    name);
		for (size_t i = 0; i < c->nactions; i++)
			if (!strcmp(c->actions[i].name, name))
				return fail(p, p->line, "[Action %s] already defined on line %u",
					    name, c->actions[i].line);
		if (c->nactions == MAX_ACTIONS)
			return fail(p, p->line, "more than %d actions", MAX_ACTIONS);
		na = realloc(c->actions, (c->nactions + 1) * sizeof(*na));
		if (!na)
			return SS_ERR_NOMEM;
		c->actions = na;
		memset(&na[c->nactions], 0, sizeof(*na));
		na[c->nactions].line = p->line;
		strcpy(na[c->nactions].name, name);
		c->nactions++;
		p->sec = SEC_ACTION;
		return 0;
	}
	if (!strcmp(s, "Client")) {
		ss_kclient *nc;

		if (!name_ok(name, SS_KCONF_NAME_MAX))
			return fail(p, p->line, "client name '%s' is not [A-Za-z0-9._-]{1,64}",
				    name);
		if (c->nclients == MAX_CLIENTS)
			return fail(p, p->line, "more than %d clients", MAX_CLIENTS);
		nc = realloc(c->clients, (c->nclients + 1) * sizeof(*nc));
		if (!nc)
			return SS_ERR_NOMEM;
		c->clients = nc;
		memset(&nc[c->nclients], 0, sizeof(*nc));
		nc[c->nclients].line = p->line;
		strcpy(nc[c->nclients].name, name);
		c->nclients++;
		p->sec = SEC_CLIENT;
		return 0;
	}
	return fail(p, p->line, "unknown section [%s %s]", s, name);
}

/* Client action names are only known once the whole file is read. */
struct pend {
	size_t client, idx;
	unsigned line;
	char name[SS_KNOCK_MAX_ACTION + 1];
};

int ss_kconf_parse(const char *text, size_t len, const char *path, ss_kconf **out, char *err,
		   size_t errlen)
{
	struct parser p = {.file = path, .err = err, .errlen = errlen};
	struct pend *pend = NULL;
	size_t npend = 0, off = 0;
	char line[MAX_LINE + 2];
	ss_kconf *c;
	int ret = 0;

	if (err && errlen)
		err[0] = '\0';
	c = calloc(1, sizeof(*c));
	if (!c)
		return SS_ERR_NOMEM;
	p.c = c;
	c->path = strdup(path);
	if (!c->path) {
		ret = SS_ERR_NOMEM;
		goto out;
	}
	c->window_ms = SS_KNOCK_DEFAULT_WINDOW_MS;
	c->replay_capacity = 65536;
	c->rate = 2;
	c->burst = 5;
	c->rate_sources = 65536;
	c->log_interval = 10;
	c->guard = true;
	strcpy(c->nft_table, "silosec_knock");

	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - text - off) : len - off;
		char *s, *eq;

		p.line++;
		if (ll > MAX_LINE) {
			ret = fail(&p, p.line, "line longer than %d bytes", MAX_LINE);
			goto out;
		}
		memcpy(line, text + off, ll);
		line[ll] = '\0';
		off += ll + 1;
		if (memchr(line, '\0', ll)) {
			ret = fail(&p, p.line, "NUL byte");
			goto out;
		}
		s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');

			if (!e || *trim(e + 1)) {
				ret = fail(&p, p.line, "bad section header");
				goto out;
			}
			*e = '\0';
			ret = header(&p, trim(s + 1));
			if (ret)
				goto out;
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			ret = fail(&p, p.line, "expected 'Key = Value'");
			goto out;
		}
		*eq = '\0';
		if (!*trim(eq + 1)) {
			ret = fail(&p, p.line, "%s: empty value", trim(s));
			goto out;
		}
		switch (p.sec) {
		case SEC_NONE:
			ret = fail(&p, p.line, "'%s' outside any section", trim(s));
			break;
		case SEC_SERVER:
			ret = server_key(&p, trim(s), trim(eq + 1));
			break;
		case SEC_ACTION:
			ret = action_key(&p, trim(s), trim(eq + 1));
			break;
		case SEC_CLIENT: {
			ss_kclient *cl = &c->clients[c->nclients - 1];
			size_t before = cl->nactions;

			ret = client_key(&p, trim(s), trim(eq + 1));
			for (size_t i = before; !ret && i < cl->nactions; i++) {
				struct pend *np = realloc(pend, (npend + 1) * sizeof(*np));

				if (!np) {
					ret = SS_ERR_NOMEM;
					break;
				}
				pend = np;
				pend[npend].client = c->nclients - 1;
				pend[npend].idx = i;
				pend[npend].line = p.line;
				snprintf(pend[npend].name, sizeof(pend[npend].name), "%s",
					 p.pending[i]);
				npend++;
			}
			break;
		}
		}
		if (ret)
			goto out;
	}
	p.line++;
	ret = end_section(&p);
	if (ret)
		goto out;
	if (p.sec == SEC_NONE && !c->nclients) {
		ret = fail(&p, 1, "no [Server] section");
		goto out;
	}
	if (!c->private_key_file) {
		ret = fail(&p, 1, "[Server] needs PrivateKeyFile");
		goto out;
	}
	if (c->burst < 1)
		c->burst = 1;
	if (!c->nlisten) {
		c->listen[0] = strdup("[::]:62201");
		if (!c->listen[0]) {
			ret = SS_ERR_NOMEM;
			goto out;
		}
		c->nlisten = 1;
	}
	for (size_t i = 0; i < npend; i++) {
		ss_kclient *cl = &c->clients[pend[i].client];
		size_t j;

		for (j = 0; j < c->nactions; j++)
			if (!strcmp(c->actions[j].name, pend[i].name))
				break;
		if (j == c->nactions) {
			ret = fail(&p, pend[i].line, "[Client %s]: no [Action %s]", cl->name,
				   pend[i].name);
			goto out;
		}
		cl->actions[pend[i].idx] = j;
	}
	for (size_t i = 0; i < c->nclients; i++)
		if (!c->clients[i].nactions) {
			ret = fail(&p, c->clients[i].line, "[Client %s] has no Actions",
				   c->clients[i].name);
			goto out;
		}
out:
	free(pend);
	free(p.pending);
	free(p.pending_line);
	if (ret) {
		ss_kconf_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

int ss_kconf_load(const char *path, ss_kconf **out, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > MAX_FILE_SIZE) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path,
				 fd < 0 ? strerror(errno) : "not a regular file under 4 MiB");
		if (fd >= 0)
			close(fd);
		return SS_ERR_IO;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return SS_ERR_NOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	ret = ss_kconf_parse(buf, got, path, out, err, errlen);
	free(buf);
	return ret;
}

void ss_kconf_free(ss_kconf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nactions; i++) {
		free_argv(c->actions[i].argv);
		free_argv(c->actions[i].close_argv);
		free(c->actions[i].user);
	}
	for (size_t i = 0; i < c->nclients; i++)
		free(c->clients[i].actions);
	for (size_t i = 0; i < c->nlisten; i++)
		free(c->listen[i]);
	free(c->actions);
	free(c->clients);
	free(c->private_key_file);
	free(c->replay_file);
	free(c->path);
	free(c);
}

const ss_kclient *ss_kconf_client(const ss_kconf *c, const uint8_t id[SS_IDENTITY_LEN])
{
	for (size_t i = 0; i < c->nclients; i++)
		if (!memcmp(c->clients[i].identity, id, SS_IDENTITY_LEN))
			return &c->clients[i];
	return NULL;
}

const ss_kaction *ss_kconf_allowed(const ss_kconf *c, const ss_kclient *cl, const char *name)
{
	for (size_t i = 0; i < cl->nactions; i++)
		if (!strcmp(c->actions[cl->actions[i]].name, name))
			return &c->actions[cl->actions[i]];
	return NULL;
}
