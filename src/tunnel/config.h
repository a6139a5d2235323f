/* SPDX-License-Identifier: MIT */
/*
 * The tunnel configuration file: a WireGuard-style INI file, parsed strictly. Every
 * error names the file and line ("FILE:LINE: message"). The parser does no I/O beyond
 * reading the file (no DNS): endpoints are kept as written; ss_conf_resolve (resolve.c)
 * looks them up on the privileged side, never in the sandboxed daemon.
 */
#ifndef SS_TUNNEL_CONFIG_H
#define SS_TUNNEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <silosec/wire.h>

#include "common/cidr.h"

#define SS_CONF_ERR_LEN 512
#define SS_CONF_MAX_LINE 4096
#define SS_CONF_MAX_PEERS 100000
#define SS_CONF_IFNAME_MAX 15 /* IFNAMSIZ - 1 */
#define SS_CONF_DEFAULT_MTU 1420
#define SS_CONF_DEFAULT_PORT 51999
#define SS_CONF_DEFAULT_CT_PER_PEER 4096
#define SS_ENDPOINT_MAX 64 /* "[v6 address]:port" and its NUL */

#define SS_CONF_TABLE_MAIN 254
#define SS_CONF_TABLE_DEFAULT 51820 /* wg-quick's: the full tunnel's table and fwmark */
#define SS_CONF_MAX_HOOKS 64	    /* lines per hook key */
#define SS_CONF_MAX_DNS 16

struct ss_cap_rule;

/* Table =: where AllowedIPs routes go (silosec.conf(5)). */
enum ss_table_mode {
	SS_TABLE_AUTO = 0, /* main; a /0 goes to its own table behind fwmark rules */
	SS_TABLE_OFF,	   /* no routes at all */
	SS_TABLE_NUM,	   /* every route in table `table`, no rules */
};

/* Hook keys, in the order `silosec up` and `silosec down` run them. */
enum ss_hook {
	SS_HOOK_PRE_UP,
	SS_HOOK_POST_UP,
	SS_HOOK_PRE_DOWN,
	SS_HOOK_POST_DOWN,
	SS_HOOK_COUNT
};

enum ss_transport {
	SS_TRANSPORT_UDP = 0,
	SS_TRANSPORT_IP = 1, /* raw IP protocol 99 */
};

/* Relay = on a [Peer] (PROTOCOL.md 16.7). */
enum ss_conf_relay {
	SS_CONF_RELAY_NO = 0,
	SS_CONF_RELAY_USE,   /* yes: this peer may carry our traffic to our other peers */
	SS_CONF_RELAY_SERVE, /* serve: we carry this peer's traffic to our other serve peers */
};

/* LanDiscovery (PROTOCOL.md 16.9): announce on the LAN and recognise announcements. */
enum ss_lan_discovery {
	SS_LAN_OFF = 0,
	SS_LAN_MODE_PEERS, /* a tag only hosts that know our identity recognise */
	SS_LAN_MODE_OPEN,  /* our identity in the clear, signed; unknown ones listed */
};

typedef struct ss_conf_peer {
	unsigned line; /* line of its [Peer] header */
	bool tofu;
	uint8_t identity[SS_IDENTITY_LEN]; /* when !tofu */
	char *endpoint;			   /* "host:port", "[v6]:port" or NULL */
	char *resolved;			   /* numeric form of endpoint (ss_conf_resolve) */
	ss_cidr *allowed;
	size_t nallowed;
	uint32_t keepalive; /* PersistentKeepalive seconds, 0 = off */
	bool has_allow;	    /* Allow = given (possibly several lines) */
	unsigned allow_line;
	struct ss_cap_rule *allow; /* effective rules: its own, then its groups' */
	size_t nallow;
	size_t nown;	/* allow[0..nown) are the peer's own Allow rules */
	bool own_allow; /* the peer itself has Allow (possibly none) */
	char **origin;	/* by rule: NULL (own) or the group it came from */
	char *label;	/* Name =: an operator's name for the peer, or NULL */
	char **groups;	/* Groups =, as written */
	size_t ngroups;
	unsigned groups_line; /* line of Groups =, for messages */
	uint8_t relay;	      /* Relay = (enum ss_conf_relay) */
	bool introducer; /* Introducer = yes: tells us where other peers are (PROTOCOL.md 16.4) */
	unsigned introducer_line;
	bool introduce; /* Introduce = yes: as an introducer, we may introduce this peer */
} ss_conf_peer;

/* A [Group NAME] section: Allow rules every peer listing NAME in Groups = gets. */
typedef struct ss_conf_group {
	char *name;
	unsigned line;
	bool has_allow;
	struct ss_cap_rule *allow;
	size_t nallow;
} ss_conf_group;

typedef struct ss_conf {
	char *path;
	char name[SS_CONF_IFNAME_MAX + 1]; /* Name =, else the file's base name sans ".conf" */
	char *private_key_file;		   /* PrivateKeyFile =, resolved against the file's dir */
	bool has_private_key;		   /* PrivateKey = (inline base64 seed) */
	uint8_t private_key[SS_SEED_LEN];
	ss_cidr *addrs;
	size_t naddrs;
	uint16_t listen_port; /* 0 = not set (udp: SS_CONF_DEFAULT_PORT is used) */
	enum ss_transport transport;
	uint32_t mtu;	       /* SS_RELAY_MTU by default when a peer has Relay = yes */
	char *trust_store;     /* TrustStore =, resolved against the file's dir, or NULL */
	bool accept_anonymous; /* AcceptTofu = yes: answer initiators that do not know us */
	bool policy_allow;     /* Policy = allow: peers without Allow reach everything */
	bool tun_ring;	       /* TunRing = yes: read TUN through a packet ring (silosecd(8)) */
	uint32_t ct_per_peer;  /* ConntrackPerPeer: tracked connections per peer */
	enum ss_table_mode table_mode;
	uint32_t table;	 /* Table = N (SS_TABLE_NUM) */
	uint32_t fwmark; /* FwMark =, 0 = off */
	/* PreUp/PostUp/PreDown/PostDown: shell commands run by root (silosec hook), not the daemon
	 */
	char *hooks[SS_HOOK_COUNT][SS_CONF_MAX_HOOKS];
	size_t nhooks[SS_HOOK_COUNT];
	/* DNS =: servers (numeric addresses) and search domains, as written */
	char *dns_servers[SS_CONF_MAX_DNS], *dns_search[SS_CONF_MAX_DNS];
	size_t ndns_servers, ndns_search;
	bool save_config;    /* SaveConfig = yes: `silosec saveconf` writes run-time changes back */
	ss_cidr *cand_allow; /* CandidateAllow: where candidates may be (none: anywhere) */
	size_t ncand_allow;
	bool advertise_local; /* AdvertiseLocal = yes: local addresses go to introducers */
	bool private_host;    /* Private = yes: introducers never disclose our addresses */
	enum ss_lan_discovery lan_discovery;
	ss_conf_peer *peers;
	size_t npeers;
	ss_conf_group *groups;
	size_t ngroups;
} ss_conf;

/* Parse a file. On error returns <0 and err holds "FILE:LINE: message". */
int ss_conf_load(const char *path, ss_conf **out, char *err, size_t errlen);
/* Parse text; name is used in messages and for the default interface name. */
int ss_conf_parse(const char *text, size_t len, const char *name, ss_conf **out, char *err,
		  size_t errlen);
/* Wipes the inline private key. */
void ss_conf_free(ss_conf *conf);

/*
 * The full tunnel's table and the transport's fwmark: FwMark when set; in Table = auto
 * with a /0 among the peers' AllowedIPs, SS_CONF_TABLE_DEFAULT; else 0 (no mark).
 */
uint32_t ss_conf_fwmark(const ss_conf *c);
/* Whether any peer has a /0 in AllowedIPs (a full tunnel). */
bool ss_conf_full_tunnel(const ss_conf *c);

/*
 * groups.c: a peer's effective rules are its own Allow rules, then each of its groups'
 * (in Groups = order, repeats dropped), each with its origin. Refuses an unknown group
 * or more than SS_CAP_MAX_RULES rules with "FILE:LINE: message" in err.
 */
int ss_conf_effective_rules(ss_conf *c, const char *file, char *err, size_t errlen);
/* Appends a copy of name to p's Groups: 0 or SS_ERR_NOMEM. */
int ss_conf_add_group(ss_conf_peer *p, const char *name);
/* Index of the peer whose Name = is label, or -1. */
long ss_conf_find_label(const ss_conf *c, const char *label);
/* Name = of peers and groups: 1..32 of A-Z a-z 0-9 _ . - and not a base64 key. */
bool ss_conf_valid_label(const char *s);
/* Interface, peer and group names: only A-Z a-z 0-9 _ . - (true for ""). */
bool ss_conf_name_chars(const char *s);

/*
 * confget.c: replace c's peers with those of a daemon's "get" answer (modified in place),
 * each with only its own Allow rules. 0 or a negative code with a message in err.
 */
int ss_conf_peers_from_get(ss_conf *c, char *answer, char *err, size_t errlen);

/*
 * conflint.c: warnings for a configuration that loads but will likely surprise (a peer
 * reaching nothing, a /0 without a full-tunnel table, overlapping AllowedIPs, this host
 * listed as a peer). own_identity may be NULL. Calls fn per warning; returns their count.
 */
typedef void (*ss_conf_warn_fn)(void *arg, unsigned line, const char *msg);
size_t ss_conf_lint(const ss_conf *c, const uint8_t *own_identity, ss_conf_warn_fn fn, void *arg);
/* The interface's identity from PrivateKey or PrivateKeyFile; err says why not. */
struct ss_identity;
int ss_conf_load_identity(const ss_conf *c, struct ss_identity **id, char *err, size_t errlen);
/* confwrite.c: c as silosec.conf text (PrivateKeyFile only: never an inline key). */
int ss_conf_write(const ss_conf *c, FILE *f);

/* Checks "host:port" / "[v6addr]:port" syntax, port 1..65535. 0 or SS_ERR_FORMAT. */
int ss_endpoint_check(const char *s);

/* resolve.c: the name lookups, done before the sandbox (silosecd) or by the CLI as root. */
/* Endpoint to address; numeric: refuse host names (SS_ERR_FORMAT). Message in err. */
int ss_endpoint_lookup(const char *endpoint, bool numeric, struct sockaddr_storage *out, char *err,
		       size_t errlen);
/* Endpoint to its numeric "a.b.c.d:port" / "[v6]:port" form (DNS allowed). */
int ss_endpoint_resolve(const char *endpoint, char *out, size_t cap, char *err, size_t errlen);
/* Fill every peer's resolved from its endpoint; err "FILE:LINE: message". */
int ss_conf_resolve(ss_conf *c, char *err, size_t errlen);

#endif
