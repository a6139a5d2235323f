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

struct ss_cap_rule;

enum ss_transport {
	SS_TRANSPORT_UDP = 0,
	SS_TRANSPORT_IP = 1, /* raw IP protocol 99 */
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
	struct ss_cap_rule *allow; /* capability rules (capability.h) */
	size_t nallow;
	bool introducer; /* Introducer = yes: tells us where other peers are (PROTOCOL.md 16.4) */
	unsigned introducer_line;
	bool introduce; /* Introduce = yes: as an introducer, we may introduce this peer */
} ss_conf_peer;

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
	uint32_t mtu;
	char *trust_store;     /* TrustStore =, resolved against the file's dir, or NULL */
	bool accept_anonymous; /* AcceptTofu = yes: answer initiators that do not know us */
	bool policy_allow;     /* Policy = allow: peers without Allow reach everything */
	bool tun_ring;	       /* TunRing = yes: read TUN through a packet ring (silosecd(8)) */
	uint32_t ct_per_peer;  /* ConntrackPerPeer: tracked connections per peer */
	ss_cidr *cand_allow;   /* CandidateAllow: where candidates may be (none: anywhere) */
	size_t ncand_allow;
	bool advertise_local; /* AdvertiseLocal = yes: local addresses go to introducers */
	enum ss_lan_discovery lan_discovery;
	ss_conf_peer *peers;
	size_t npeers;
} ss_conf;

/* Parse a file. On error returns <0 and err holds "FILE:LINE: message". */
int ss_conf_load(const char *path, ss_conf **out, char *err, size_t errlen);
/* Parse text; name is used in messages and for the default interface name. */
int ss_conf_parse(const char *text, size_t len, const char *name, ss_conf **out, char *err,
		  size_t errlen);
/* Wipes the inline private key. */
void ss_conf_free(ss_conf *conf);

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
