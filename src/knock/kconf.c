/* SPDX-License-Identifier: MIT */
/*
 * knockd.conf parser. Strict for the same reason as the tunnel's: a knock daemon that
 * starts with a mistyped Open = silently ignored would leave a port closed or, worse,
 * an action reachable by the wrong identity. Every error names FILE:LINE.
 */
#include "kconf.h"
#include "common/capability.h"
#include "common/ini.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
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

enum section { SEC_SERVER = 1, SEC_ACTION, SEC_CLIENT };

enum key_id {
	K_PRIVATE_KEY_FILE,
	K_LISTEN,
	K_WINDOW,
	K_REPLAY_FILE,
	K_REPLAY_CAPACITY,
	K_RATE_LIMIT,
	K_BURST,
	K_RATE_SOURCES,
	K_LOG_INTERVAL,
	K_NFT_TABLE,
	K_GUARD_PORTS,
	K_STATE_FILE,
	K_TYPE,
	K_COMMAND,
	K_CLOSE_COMMAND,
	K_OPEN,
	K_DURATION,
	K_MAX_DURATION,
	K_TIMEOUT,
	K_USER,
	K_PAYLOAD,
	K_INTERFACE,
	K_RULE,
	K_IDENTITY,
	K_ACTIONS,
	K_ALLOW_ANY_SOURCE,
	K_COUNT
};

/* Client action names are only known once the whole file is read. */
struct pend {
	size_t client, idx;
	unsigned line;
	char name[SS_KNOCK_MAX_ACTION + 1];
};

struct parser {
	struct ss_ini ini; /* file, line, section, keys seen */
	ss_kconf *c;
	struct pend *pend;
	size_t npend;
};

static int fail(struct parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = ss_ini_vfail(&p->ini, line, SS_ERR_FORMAT, fmt, ap);
	va_end(ap);
	return ret;
}

static int parse_u32(struct parser *p, const char *key, const char *v, uint32_t min, uint32_t max,
		     uint32_t *out)
{
	char *end;
	unsigned long long x;

	errno = 0;
	if (*v < '0' || *v > '9')
		return fail(p, p->ini.line, "%s: '%s' is not a number", key, v);
	x = strtoull(v, &end, 10);
	if (errno || *end || x < min || x > max)
		return fail(p, p->ini.line, "%s: '%s' is not in %u..%u", key, v, min, max);
	*out = (uint32_t)x;
	return 0;
}

static int parse_bool(struct parser *p, const char *key, const char *v, bool *out)
{
	if (ss_ini_bool(v, out))
		return fail(p, p->ini.line, "%s: '%s' is not %s", key, v, SS_INI_BOOL_FORMS);
	return 0;
}

/* Paths in the file are relative to the file's directory, not the daemon's cwd. */
static int resolve(struct parser *p, const char *v, char **out)
{
	const char *slash = strrchr(p->c->path, '/');
	size_t dl = slash ? (size_t)(slash - p->c->path) + 1 : 0;

	if (!*v)
		return fail(p, p->ini.line, "empty path");
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
			return fail(p, p->ini.line, "%s: more than %d arguments", key,
				    SS_KCONF_MAX_ARGS);
		}
		if (strpbrk(t, "\"'`$|;&<>\\")) {
			free_argv(argv);
			return fail(
				p, p->ini.line,
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
		return fail(p, p->ini.line, "%s: needs an absolute program path", key);
	}
	free_argv(*out);
	*out = argv;
	return 0;
}

/*
 * "tcp/22, udp 53, tcp/8000-8010": the capability rule syntax of Rule = and silosec grant
 * (either spelling), limited to what a firewall port opening means: tcp or udp with ports.
 */
static int parse_ports(struct parser *p, char *v, ss_kaction *a)
{
	char *save = NULL, *t, why[160];

	for (t = strtok_r(v, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *s = ss_ini_trim(t);
		ss_cap_rule r;

		if (a->nports == SS_KCONF_MAX_PORTS)
			return fail(p, p->ini.line, "Open: more than %d entries",
				    SS_KCONF_MAX_PORTS);
		if (ss_cap_rule_parse(s, &r, why, sizeof(why)))
			return fail(p, p->ini.line, "Open: %s", why);
		if (r.proto != SS_CAP_TCP && r.proto != SS_CAP_UDP)
			return fail(p, p->ini.line, "Open: '%s': only tcp or udp ports open", s);
		if (r.has_dst)
			return fail(p, p->ini.line, "Open: '%s': 'to' does not go with Open", s);
		if (r.port_lo == 0)
			return fail(p, p->ini.line,
				    "Open: '%s' needs ports in 1..65535 (tcp/PORT[-PORT])", s);
		a->ports[a->nports].proto = r.proto == SS_CAP_TCP ? IPPROTO_TCP : IPPROTO_UDP;
		a->ports[a->nports].lo = r.port_lo;
		a->ports[a->nports].hi = r.port_hi;
		a->nports++;
	}
	if (!a->nports)
		return fail(p, p->ini.line, "Open: empty list");
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

static ss_kaction *cur_action(struct parser *p)
{
	return &p->c->actions[p->c->nactions - 1];
}

static ss_kclient *cur_client(struct parser *p)
{
	return &p->c->clients[p->c->nclients - 1];
}

/* Numeric keys: the range and where the value goes, by key; durations take units (5m). */
static const struct u32_field {
	uint32_t min, max;
	bool in_action; /* a field of the current action, else of the configuration */
	size_t off;
	bool duration;
} u32_fields[K_COUNT] = {
	[K_REPLAY_CAPACITY] = {16, 1u << 20, false, offsetof(ss_kconf, replay_capacity), false},
	[K_RATE_LIMIT] = {1, 1000000, false, offsetof(ss_kconf, rate), false},
	[K_BURST] = {1, 1000000, false, offsetof(ss_kconf, burst), false},
	[K_RATE_SOURCES] = {64, 1u << 22, false, offsetof(ss_kconf, rate_sources), false},
	[K_LOG_INTERVAL] = {1, 86400, false, offsetof(ss_kconf, log_interval), true},
	[K_DURATION] = {1, MAX_DURATION, true, offsetof(ss_kaction, duration), true},
	[K_MAX_DURATION] = {1, MAX_DURATION, true, offsetof(ss_kaction, max_duration), true},
	[K_TIMEOUT] = {1, 86400, true, offsetof(ss_kaction, timeout), true},
};

static const struct ss_ini_key keys[K_COUNT];

static int parse_seconds(struct parser *p, const char *key, const char *v, uint32_t min,
			 uint32_t max, uint32_t *out)
{
	uint32_t x;

	if (*v && strspn(v, "0123456789") == strlen(v))
		return parse_u32(p, key, v, min, max, out); /* plain seconds: its range message */
	if (ss_duration_parse(v, &x))
		return fail(p, p->ini.line, "%s: '%s' is not a duration (30, 30s, 5m, 1h, 1d)", key,
			    v);
	if (x < min || x > max)
		return fail(p, p->ini.line, "%s: '%s' is not in %u..%u seconds", key, v, min, max);
	*out = x;
	return 0;
}

static int set_u32(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct parser *p = ctx;
	const struct u32_field *f = &u32_fields[k - keys];
	char *base = f->in_action ? (char *)cur_action(p) : (char *)p->c;
	uint32_t *out = (uint32_t *)(void *)(base + f->off);

	if (f->duration)
		return parse_seconds(p, k->name, v, f->min, f->max, out);
	return parse_u32(p, k->name, v, f->min, f->max, out);
}

static int set_private_key_file(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct parser *p = ctx;

	(void)k;
	return resolve(p, v, &p->c->private_key_file);
}

static int set_replay_file(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct parser *p = ctx;

	(void)k;
	return resolve(p, v, &p->c->replay_file);
}

static int set_state_file(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct parser *p = ctx;

	(void)k;
	return resolve(p, v, &p->c->state_file);
}

static int set_listen(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct parser *p = ctx;
	ss_kconf *c = p->c;

	if (c->nlisten == SS_KCONF_MAX_LISTEN)
		return fail(p, p->ini.line, "%s: at most %d", k->name, SS_KCONF_MAX_LISTEN);
	c->listen[c->nlisten] = strdup(v);
	if (!c->listen[c->nlisten])
		return SS_ERR_NOMEM;
	c->nlisten++;
	return 0;
}

static int set_window(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct parser *p = ctx;
	uint32_t x = 0;
	int ret = parse_seconds(p, k->name, v, 1, 3600, &x);

	if (!ret)
		p->c->window_ms = (uint64_t)x * 1000;
	return ret;
}

static int set_nft_table(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct parser *p = ctx;
	ss_kconf *c = p->c;

	if (!name_ok(v, sizeof(c->nft_table) - 1) || strchr(v, '.') || strchr(v, '-'))
		return fail(p, p->ini.line, "%s: '%s' is not [A-Za-z0-9_]{1,31}", k->name, v);
	strcpy(c->nft_table, v);
	return 0;
}

static int set_guard_ports(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct parser *p = ctx;

	return parse_bool(p, k->name, v, &p->c->guard);
}

/* One of names[], stored as its index; the message lists them all. */
static int set_choice(struct parser *p, const char *key, const char *v, const char *const *names,
		      size_t n, unsigned *out)
{
	char list[80] = "";

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v, names[i])) {
			*out = (unsigned)i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 i == 0	     ? ""
			 : i + 1 < n ? ", "
				     : " or ",
			 names[i]);
	}
	return fail(p, p->ini.line, "%s: '%s' is not %s", key, v, list);
}

static int set_type(void *ctx, const struct ss_ini_key *k, char *v)
{
	/* In enum ss_kact_type order. */
	static const char *const names[] = {"command", "open", "cycle", "grant"};
	struct parser *p = ctx;
	unsigned i;
	int ret = set_choice(p, k->name, v, names, 4, &i);

	if (!ret)
		cur_action(p)->type = (enum ss_kact_type)i;
	return ret;
}

static int set_payload(void *ctx, const struct ss_ini_key *k, char *v)
{
	/* In enum ss_kpayload order. */
	static const char *const names[] = {"base64", "ascii", "none"};
	struct parser *p = ctx;
	unsigned i;
	int ret = set_choice(p, k->name, v, names, 3, &i);

	if (!ret)
		cur_action(p)->payload = (enum ss_kpayload)i;
	return ret;
}

static int set_command(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct parser *p = ctx;

	return parse_argv(p, k->name, v, &cur_action(p)->argv);
}

static int set_close_command(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct parser *p = ctx;

	return parse_argv(p, k->name, v, &cur_action(p)->close_argv);
}

static int set_open(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct parser *p = ctx;

	(void)k;
	return parse_ports(p, v, cur_action(p));
}

static int set_user(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct parser *p = ctx;
	ss_kaction *a = cur_action(p);

	if (!name_ok(v, 32))
		return fail(p, p->ini.line, "%s: '%s' is not a user name", k->name, v);
	a->user = strdup(v);
	return a->user ? 0 : SS_ERR_NOMEM;
}

static int set_interface(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct parser *p = ctx;

	if (!name_ok(v, SS_KCONF_IFACE_MAX) || strchr(v, '/') || !strcmp(v, ".") ||
	    !strcmp(v, ".."))
		return fail(p, p->ini.line, "%s: '%s' is not an interface name", k->name, v);
	strcpy(cur_action(p)->iface, v);
	return 0;
}

/* The rule is checked here so a typo fails at start-up, not at the first knock. */
static int set_rule(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct parser *p = ctx;
	ss_kaction *a = cur_action(p);
	ss_cap_rule r;
	char why[160];

	if (ss_cap_rule_parse(v, &r, why, sizeof(why)))
		return fail(p, p->ini.line, "%s: %s", k->name, why);
	ss_cap_rule_format(&r, a->rule, sizeof(a->rule));
	return 0;
}

static int set_identity(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct parser *p = ctx;
	ss_kclient *cl = cur_client(p);

	if (ss_key_from_base64(v, cl->identity))
		return fail(p, p->ini.line, "%s: '%s' is not a base64 identity", k->name, v);
	if (ss_identity_check_pub(cl->identity))
		return fail(p, p->ini.line,
			    "%s: '%s' is a weak key (small-order or non-canonical point)", k->name,
			    v);
	return 0;
}

/* Names resolve to actions at the end: actions may follow clients. */
static int add_pending(struct parser *p, ss_kclient *cl, const char *name)
{
	size_t *na = realloc(cl->actions, (cl->nactions + 1) * sizeof(*na));
	struct pend *np;

	if (!na)
		return SS_ERR_NOMEM;
	cl->actions = na;
	np = realloc(p->pend, (p->npend + 1) * sizeof(*np));
	if (!np)
		return SS_ERR_NOMEM;
	p->pend = np;
	np[p->npend] = (struct pend){
		.client = p->c->nclients - 1, .idx = cl->nactions, .line = p->ini.line};
	snprintf(np[p->npend].name, sizeof(np[p->npend].name), "%s", name);
	p->npend++;
	cl->actions[cl->nactions++] = SIZE_MAX;
	return 0;
}

static int set_actions(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct parser *p = ctx;
	ss_kclient *cl = cur_client(p);
	char *save = NULL, *t;
	int ret;

	for (t = strtok_r(v, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *n = ss_ini_trim(t);

		if (!name_ok(n, SS_KNOCK_MAX_ACTION))
			return fail(p, p->ini.line, "%s: '%s' is not an action name", k->name, n);
		if ((ret = add_pending(p, cl, n)))
			return ret;
	}
	if (!cl->nactions)
		return fail(p, p->ini.line, "%s: empty list", k->name);
	return 0;
}

static int set_allow_any_source(void *ctx, const struct ss_ini_key *k, char *v)
{
	struct parser *p = ctx;

	return parse_bool(p, k->name, v, &cur_client(p)->allow_any_source);
}

static const struct ss_ini_key keys[K_COUNT] = {
	[K_PRIVATE_KEY_FILE] = {"PrivateKeyFile", SEC_SERVER, false, set_private_key_file, 0},
	[K_LISTEN] = {"Listen", SEC_SERVER, true, set_listen, 0},
	[K_WINDOW] = {"Window", SEC_SERVER, false, set_window, 0},
	[K_REPLAY_FILE] = {"ReplayFile", SEC_SERVER, false, set_replay_file, 0},
	[K_REPLAY_CAPACITY] = {"ReplayCapacity", SEC_SERVER, false, set_u32, 0},
	[K_RATE_LIMIT] = {"RateLimit", SEC_SERVER, false, set_u32, 0},
	[K_BURST] = {"Burst", SEC_SERVER, false, set_u32, 0},
	[K_RATE_SOURCES] = {"RateLimitSources", SEC_SERVER, false, set_u32, 0},
	[K_LOG_INTERVAL] = {"LogInterval", SEC_SERVER, false, set_u32, 0},
	[K_NFT_TABLE] = {"NftTable", SEC_SERVER, false, set_nft_table, 0},
	[K_GUARD_PORTS] = {"GuardPorts", SEC_SERVER, false, set_guard_ports, 0},
	[K_STATE_FILE] = {"StateFile", SEC_SERVER, false, set_state_file, 0},
	[K_TYPE] = {"Type", SEC_ACTION, false, set_type, 0},
	[K_COMMAND] = {"Command", SEC_ACTION, false, set_command, 0},
	[K_CLOSE_COMMAND] = {"CloseCommand", SEC_ACTION, false, set_close_command, 0},
	[K_OPEN] = {"Open", SEC_ACTION, false, set_open, 0},
	[K_DURATION] = {"Duration", SEC_ACTION, false, set_u32, 0},
	[K_MAX_DURATION] = {"MaxDuration", SEC_ACTION, false, set_u32, 0},
	[K_TIMEOUT] = {"Timeout", SEC_ACTION, false, set_u32, 0},
	[K_USER] = {"User", SEC_ACTION, false, set_user, 0},
	[K_PAYLOAD] = {"Payload", SEC_ACTION, false, set_payload, 0},
	[K_INTERFACE] = {"Interface", SEC_ACTION, false, set_interface, 0},
	[K_RULE] = {"Rule", SEC_ACTION, false, set_rule, 0},
	[K_IDENTITY] = {"Identity", SEC_CLIENT, false, set_identity, 0},
	[K_ACTIONS] = {"Actions", SEC_CLIENT, false, set_actions, 0},
	[K_ALLOW_ANY_SOURCE] = {"AllowAnySource", SEC_CLIENT, false, set_allow_any_source, 0},
};

static int check_client(struct parser *p)
{
	ss_kclient *cl = cur_client(p);
	unsigned id_line = ss_ini_seen(&p->ini, K_IDENTITY);

	if (!id_line)
		return fail(p, cl->line, "[Client %s] has no Identity", cl->name);
	for (size_t i = 0; i + 1 < p->c->nclients; i++)
		if (!memcmp(p->c->clients[i].identity, cl->identity, SS_IDENTITY_LEN))
			return fail(p, id_line, "identity already used by [Client %s] on line %u",
				    p->c->clients[i].name, p->c->clients[i].line);
	return 0;
}

/* What each type needs and refuses. */
static int check_action_type(struct parser *p, ss_kaction *a)
{
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
	return 0;
}

static int check_action(struct parser *p)
{
	ss_kaction *a = cur_action(p);
	int ret;

	if (!ss_ini_seen(&p->ini, K_TYPE))
		return fail(p, a->line, "[Action %s] has no Type", a->name);
	if (!a->timeout)
		a->timeout = 30;
	if ((ret = check_action_type(p, a)))
		return ret;
	if (!a->max_duration)
		a->max_duration = a->duration;
	if (a->duration > a->max_duration)
		return fail(p, a->line, "[Action %s] Duration is over MaxDuration", a->name);
	return 0;
}

static int end_section(void *ctx)
{
	struct parser *p = ctx;

	if (p->ini.sec == SEC_CLIENT)
		return check_client(p);
	if (p->ini.sec == SEC_ACTION)
		return check_action(p);
	return 0;
}

/* One more zeroed element at the end of *arr (n long); NULL when out of memory. */
static void *append_zeroed(void *arr_p, size_t n, size_t size)
{
	void **arr = arr_p;
	char *na = realloc(*arr, (n + 1) * size);

	if (!na)
		return NULL;
	*arr = na;
	memset(na + n * size, 0, size);
	return na + n * size;
}

static int start_action(struct parser *p, const char *name)
{
	ss_kconf *c = p->c;
	ss_kaction *a;

	if (!name_ok(name, SS_KNOCK_MAX_ACTION))
		return fail(p, p->ini.line, "action name '%s' is not [A-Za-z0-9._-]{1,32}", name);
	for (size_t i = 0; i < c->nactions; i++)
		if (!strcmp(c->actions[i].name, name))
			return fail(p, p->ini.line, "[Action %s] already defined on line %u", name,
				    c->actions[i].line);
	if (c->nactions == MAX_ACTIONS)
		return fail(p, p->ini.line, "more than %d actions", MAX_ACTIONS);
	a = append_zeroed(&c->actions, c->nactions, sizeof(*a));
	if (!a)
		return SS_ERR_NOMEM;
	a->line = p->ini.line;
	strcpy(a->name, name);
	c->nactions++;
	return 0;
}

static int start_client(struct parser *p, const char *name)
{
	ss_kconf *c = p->c;
	ss_kclient *cl;

	if (!name_ok(name, SS_KCONF_NAME_MAX))
		return fail(p, p->ini.line, "client name '%s' is not [A-Za-z0-9._-]{1,64}", name);
	if (c->nclients == MAX_CLIENTS)
		return fail(p, p->ini.line, "more than %d clients", MAX_CLIENTS);
	cl = append_zeroed(&c->clients, c->nclients, sizeof(*cl));
	if (!cl)
		return SS_ERR_NOMEM;
	cl->line = p->ini.line;
	strcpy(cl->name, name);
	c->nclients++;
	return 0;
}

/* "[Server]" once and first, then "[Action NAME]" and "[Client NAME]", case-sensitive. */
static int start_section(void *ctx, char *s, int *kind)
{
	struct parser *p = ctx;
	char *name;
	int ret;

	s = ss_ini_trim(s);
	if (!strcmp(s, "Server")) {
		if (p->ini.sec != SS_INI_NONE || p->c->nactions || p->c->nclients)
			return fail(p, p->ini.line, "[Server] must come first, once");
		*kind = SEC_SERVER;
		snprintf(p->ini.label, sizeof(p->ini.label), "[Server]");
		return 0;
	}
	name = strchr(s, ' ');
	if (!name)
		return fail(p, p->ini.line, "unknown section [%s]", s);
	*name++ = '\0';
	name = ss_ini_trim(name);
	if (!strcmp(s, "Action")) {
		*kind = SEC_ACTION;
		ret = start_action(p, name);
	} else if (!strcmp(s, "Client")) {
		*kind = SEC_CLIENT;
		ret = start_client(p, name);
	} else {
		return fail(p, p->ini.line, "unknown section [%s %s]", s, name);
	}
	snprintf(p->ini.label, sizeof(p->ini.label), "[%s %s]", s, name);
	return ret;
}

static const char *const section_names[] = {
	[SEC_SERVER] = "[Server]",
	[SEC_ACTION] = "an [Action NAME] section",
	[SEC_CLIENT] = "a [Client NAME] section",
};

/* The wording knockd.conf has always used for these; the lexer's for the rest. */
static int describe(struct ss_ini *ini, const struct ss_ini_fault *f)
{
	switch (f->kind) {
	case SS_INI_OUTSIDE:
		return ss_ini_fail(ini, ini->line, SS_ERR_FORMAT, "'%s' outside any section",
				   f->text);
	case SS_INI_UNKNOWN_KEY:
		return ss_ini_fail(ini, ini->line, SS_ERR_FORMAT, "unknown key '%s' in %s", f->text,
				   ini->label);
	case SS_INI_WRONG_SECTION:
		return ss_ini_fail(ini, ini->line, SS_ERR_FORMAT,
				   "unknown key '%s' in %s (it belongs in %s)", f->text, ini->label,
				   section_names[f->key->section]);
	case SS_INI_DUPLICATE:
		return ss_ini_fail(ini, ini->line, SS_ERR_FORMAT,
				   "%s set twice in this section (first on line %u)", f->text,
				   f->first_line);
	default:
		return 1;
	}
}

static const struct ss_ini_dialect dialect = {
	.keys = keys,
	.nkeys = K_COUNT,
	.max_line = MAX_LINE,
	.initial_section = SS_INI_NONE,
	.section_names = section_names,
	.nsection_names = sizeof(section_names) / sizeof(section_names[0]),
	.section = start_section,
	.end_section = end_section,
	.describe = describe,
};

static int resolve_actions(struct parser *p)
{
	ss_kconf *c = p->c;

	for (size_t i = 0; i < p->npend; i++) {
		ss_kclient *cl = &c->clients[p->pend[i].client];
		size_t j;

		for (j = 0; j < c->nactions; j++)
			if (!strcmp(c->actions[j].name, p->pend[i].name))
				break;
		if (j == c->nactions)
			return fail(p, p->pend[i].line, "[Client %s]: no [Action %s]", cl->name,
				    p->pend[i].name);
		cl->actions[p->pend[i].idx] = j;
	}
	for (size_t i = 0; i < c->nclients; i++)
		if (!c->clients[i].nactions)
			return fail(p, c->clients[i].line, "[Client %s] has no Actions",
				    c->clients[i].name);
	return 0;
}

/* Whole-file checks and defaults, after the last section's own checks. */
static int finish(struct parser *p)
{
	ss_kconf *c = p->c;

	if (p->ini.sec == SS_INI_NONE && !c->nclients)
		return fail(p, 1, "no [Server] section");
	if (!c->private_key_file)
		return fail(p, 1, "[Server] needs PrivateKeyFile");
	if (c->burst < 1)
		c->burst = 1;
	if (!c->nlisten) {
		c->listen[0] = strdup("[::]:62201");
		if (!c->listen[0])
			return SS_ERR_NOMEM;
		c->nlisten = 1;
	}
	return resolve_actions(p);
}

static void set_defaults(ss_kconf *c)
{
	c->window_ms = SS_KNOCK_DEFAULT_WINDOW_MS;
	c->replay_capacity = 65536;
	c->rate = 2;
	c->burst = 5;
	c->rate_sources = 65536;
	c->log_interval = 10;
	c->guard = true;
	strcpy(c->nft_table, "silosec_knock");
}

int ss_kconf_parse(const char *text, size_t len, const char *path, ss_kconf **out, char *err,
		   size_t errlen)
{
	struct parser p = {.ini = {.file = path, .err = err, .errlen = errlen}};
	int ret;

	p.ini.ctx = &p;
	if (err && errlen)
		err[0] = '\0';
	p.c = calloc(1, sizeof(*p.c));
	if (!p.c)
		return SS_ERR_NOMEM;
	set_defaults(p.c);
	p.c->path = strdup(path);
	ret = p.c->path ? ss_ini_parse(&p.ini, &dialect, text, len) : SS_ERR_NOMEM;
	if (!ret)
		ret = finish(&p);
	free(p.pend);
	if (ret) {
		ss_kconf_free(p.c);
		return ret;
	}
	*out = p.c;
	return 0;
}

static int load_fail(const char *path, int code, const char *why, char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", path, why);
	return code;
}

int ss_kconf_load(const char *path, ss_kconf **out, char *err, size_t errlen)
{
	static const char not_regular[] = "not a regular file under 4 MiB";
	struct stat st;
	char *buf;
	size_t got;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return load_fail(path, SS_ERR_IO, strerror(errno), err, errlen);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > MAX_FILE_SIZE) {
		close(fd);
		return load_fail(path, SS_ERR_IO, not_regular, err, errlen);
	}
	ret = ss_ini_read_fd(fd, MAX_FILE_SIZE, &buf, &got);
	if (ret) {
		const char *why = ret == SS_ERR_IO ? strerror(errno) : "out of memory";

		close(fd);
		return load_fail(path, ret == SS_ERR_FORMAT ? SS_ERR_IO : ret,
				 ret == SS_ERR_FORMAT ? not_regular : why, err, errlen);
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
	free(c->state_file);
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
