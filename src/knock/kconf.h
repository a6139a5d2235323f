/* SPDX-License-Identifier: MIT */
/*
 * knockd.conf: the knock daemon's configuration, parsed strictly (an unknown key, a
 * repeated key or an unusable value is an error naming FILE:LINE). See knockd.conf(5).
 */
#ifndef SS_KNOCK_KCONF_H
#define SS_KNOCK_KCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "knock/knock.h"

#define SS_KCONF_ERR_LEN 512
#define SS_KCONF_MAX_LISTEN 8
#define SS_KCONF_MAX_ARGS 64
#define SS_KCONF_MAX_PORTS 64
#define SS_KCONF_NAME_MAX 64

enum ss_kact_type { SS_KACT_COMMAND, SS_KACT_OPEN, SS_KACT_CYCLE, SS_KACT_GRANT };

#define SS_KCONF_IFACE_MAX 15	 /* IFNAMSIZ - 1 */
#define SS_KCONF_RULE_MAX 80	 /* a capability rule, as silosec grant takes it */
#define SS_KCONF_GRANT_MAX 86400 /* silosecd refuses longer grants (SS_ERR_GRANT_LIMIT) */

/* What reaches a command's environment. */
enum ss_kpayload {
	SS_KPAY_BASE64 = 0, /* SILOSEC_KNOCK_PAYLOAD, base64 (the default) */
	SS_KPAY_ASCII,	    /* refused unless printable ASCII; passed as is and in base64 */
	SS_KPAY_NONE,	    /* a knock with a payload is refused */
};

typedef struct ss_kport {
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t lo, hi;
} ss_kport;

typedef struct ss_kaction {
	unsigned line;
	char name[SS_KNOCK_MAX_ACTION + 1];
	enum ss_kact_type type;
	char **argv;	   /* Command, NULL-terminated; argv[0] absolute */
	char **close_argv; /* CloseCommand (cycle) */
	ss_kport ports[SS_KCONF_MAX_PORTS];
	size_t nports;
	uint32_t duration;     /* seconds: open time or cycle delay */
	uint32_t max_duration; /* cap on what a client may ask for */
	uint32_t timeout;      /* seconds a command may run */
	char *user;	       /* run commands as this user, or NULL */
	enum ss_kpayload payload;
	char iface[SS_KCONF_IFACE_MAX + 1]; /* grant: the silosecd interface */
	char rule[SS_KCONF_RULE_MAX];	    /* grant: canonical rule ("tcp 22") */
} ss_kaction;

typedef struct ss_kclient {
	unsigned line;
	char name[SS_KCONF_NAME_MAX + 1];
	uint8_t identity[SS_IDENTITY_LEN];
	size_t *actions; /* indices into conf->actions */
	size_t nactions;
	bool allow_any_source; /* accept knocks that sign "any" instead of an address */
} ss_kclient;

typedef struct ss_kconf {
	char *path;
	char *private_key_file;		   /* resolved against the file's directory */
	char *listen[SS_KCONF_MAX_LISTEN]; /* "host:port" / "[v6]:port" */
	size_t nlisten;
	uint64_t window_ms;
	char *replay_file; /* NULL = not persisted */
	char *state_file;  /* NULL = SS_KNOCK_STATE_DEFAULT (state.h) */
	uint32_t replay_capacity;
	uint32_t rate, burst, rate_sources;
	uint32_t log_interval; /* seconds between log lines per drop code */
	char nft_table[32];
	bool guard; /* drop guarded ports unless opened */
	ss_kaction *actions;
	size_t nactions;
	ss_kclient *clients;
	size_t nclients;
} ss_kconf;

int ss_kconf_load(const char *path, ss_kconf **out, char *err, size_t errlen);
int ss_kconf_parse(const char *text, size_t len, const char *path, ss_kconf **out, char *err,
		   size_t errlen);
void ss_kconf_free(ss_kconf *c);

const ss_kclient *ss_kconf_client(const ss_kconf *c, const uint8_t id[SS_IDENTITY_LEN]);
/* The action a client may run under this name, or NULL. */
const ss_kaction *ss_kconf_allowed(const ss_kconf *c, const ss_kclient *cl, const char *name);

#endif
