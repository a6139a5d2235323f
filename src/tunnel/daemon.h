/* SPDX-License-Identifier: MIT */
/* silosecd's state: one interface, its peers, sockets and the event loop. */
#ifndef SS_TUNNEL_DAEMON_H
#define SS_TUNNEL_DAEMON_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include <silosec/core.h>

#include "allowedips.h"
#include "common/clock.h"
#include "common/capability.h"
#include "config.h"
#include "tunring.h"
#include "conntrack.h"
#include "grant.h"
#include "lan.h"
#include "transport.h"
#include "reach.h"

#define SS_QUEUE_PER_PEER 128		    /* packets held while a handshake is under way */
#define SS_QUEUE_TOTAL 4096		    /* over all peers */
#define SS_TUN_BATCH 64			    /* packets read per wakeup and source, for fairness */
#define SS_STALE_AFTER (15 * SS_NS_PER_SEC) /* sent, nothing back: try a new handshake */

/* Daemon-level drop reasons (stable names: SS_TUN_*), next to the core's. */
enum ss_tun_drop {
	SS_TUN_SPOOFED = 0,  /* inner source not in the sending peer's AllowedIPs */
	SS_TUN_MALFORMED,    /* decrypted payload is not a well-formed IP packet */
	SS_TUN_NO_ROUTE,     /* packet from TUN to an address no peer owns */
	SS_TUN_NO_ENDPOINT,  /* peer has no endpoint and no session */
	SS_TUN_QUEUE_FULL,   /* handshake pending and the queue is full */
	SS_TUN_SEND_FAILED,  /* the socket refused the packet */
	SS_TUN_HS_TIMEOUT,   /* queued, but the handshake gave up (SS_REKEY_ATTEMPT_TIME) */
	SS_TUN_WRITE_FAILED, /* the TUN device refused a decrypted packet */
	SS_TUN_CAP_DENIED,   /* "SS_ERR_CAP_DENIED": no Allow rule, grant or tracked flow */
	SS_TUN_CT_FULL,	     /* "SS_ERR_CT_FULL": sent, but untracked: budget used up */
	SS_TUN_DROP_COUNT,
};
extern const char *const ss_tun_drop_names[SS_TUN_DROP_COUNT];

typedef struct ss_qpkt {
	struct ss_qpkt *next;
	uint32_t len;
	uint8_t data[];
} ss_qpkt;

typedef struct ss_dpeer {
	/* Ordered for size, not by subject: every configured peer has one (test_scale). */
	struct ss_dpeer *next;
	ss_peer *sp;
	char *name; /* the Endpoint as written: TOFU's key */
	ss_cidr *allowed;
	size_t nallowed;
	ss_qpkt *qhead, *qtail;
	uint32_t qlen;
	uint32_t keepalive;
	uint64_t last_tx_data_ns, last_rx_ns;
	uint64_t drops[SS_TUN_DROP_COUNT];
	ss_flow endpoint;  /* configured or last authenticated */
	bool has_endpoint; /* resolved */
	bool tofu;	   /* configured Identity = tofu */
	bool tofu_pinned;  /* the store already had an identity for it */
	bool init_unsent;  /* the socket refused our latest INIT (roaming: no address yet) */
	bool seen;	   /* reload bookkeeping */
	/* Capabilities: Allow rules; open = reaches everything (Policy = allow, no Allow). */
	bool has_allow, open;
	/* Relays (relay.c, PROTOCOL.md 16.7); their other fields are at the end. */
	uint8_t relay_mode;  /* Relay = (enum ss_conf_relay) */
	uint8_t relay_tries; /* asked without an answer (SS_QUERY_TRIES, then a pause) */
	bool relayed;	     /* the session rides a circuit */
	bool on_circuit;     /* new handshakes go through relay_circuit */
	ss_ct_owner ct;
	/* Last packet refused by the capability check (its first bytes), for show. */
	uint8_t denied_hdr[128];
	uint32_t denied_len;
	ss_cap_rule *rules;
	size_t nrules;
	uint64_t denied_ns, denied_logged_ns;
	uint64_t ct_full_logged_ns;
	/* Name =, Groups = ("a,b") and, by rule, the group it came from (NULL: own). */
	char *label, *groups;
	char **origin;
	ss_cands *cands; /* where the peer may be reached (reach.c) */
	ss_preach reach;
	struct ss_dpeer *relay_ask; /* the relay our RELAY_OPEN went to */
	uint64_t relay_asked_ns;    /* when (0: none outstanding) */
	struct ss_dpeer *relay_via; /* the newest circuit to this peer: its hop */
	uint64_t hs_since_ns;	    /* a handshake went out and no session came of it yet */
	uint64_t upgrade_ns;	    /* last try of a direct path */
	uint64_t lan_time_ns;	    /* newest LAN announcement accepted from it (wall clock) */
	uint32_t relay_txid;	    /* our RELAY_OPEN for this peer, awaiting RELAY_ACCEPT */
	uint32_t relay_circuit;	    /* ... and the id of relay_via's circuit (0: none) */
} ss_dpeer;

typedef struct ss_daemon {
	ss_conf *conf;
	const char *conf_path;
	ss_identity *id;
	ss_ctx *ctx;
	ss_allowedips *aips;
	ss_dpeer *peers, **peers_tail;
	uint32_t npeers;
	uint32_t queued;
	int tun, nl, nl_events, ctl, epfd, sigfd, ifindex;
	ss_transport_socks tr;
	uint32_t fwmark;    /* SO_MARK on the transport, the full tunnel's table (routes.c) */
	bool full_rules[2]; /* wg-quick's rules are in place: IPv4, IPv6 */
	uint64_t drops[SS_TUN_DROP_COUNT];
	uint64_t next_deadline;
	bool running;
	uint8_t *buf_in, *buf_out;
	ss_txbatch txb;
	ss_rxbatch rxb;
	bool offload;	    /* TUN hands us TSO super-packets with virtio headers */
	ss_tunring ring;    /* outgoing packets without a read() each (ring.fd < 0: read TUN) */
	struct ss_gro *gro; /* segments joined on their way back into TUN */
	uint8_t *seg;	    /* one segment cut out of a super-packet */
	ss_ct *ct;	    /* replies to what this host sent */
	ss_grants *grants;  /* time-limited grants, by identity */
	uint64_t next_sweep;
	struct ss_relay *relay; /* circuits (relay.c) */
	uint64_t next_relay_sweep;
	uint64_t reach_drops[SS_DROP_COUNT]; /* reachability drops for no known peer */
	ss_dreach reach;
	ss_lan lan; /* LanDiscovery */
} ss_daemon;

int ss_daemon_init(ss_daemon *d, ss_conf *conf, const char *conf_path, char *err, size_t errlen);
int ss_daemon_run(ss_daemon *d);
void ss_daemon_free(ss_daemon *d);

/* Peers (daemon.c); the control server and reload use these. */
ss_dpeer *ss_daemon_find(ss_daemon *d, const uint8_t identity[SS_IDENTITY_LEN]);
int ss_daemon_add_peer(ss_daemon *d, const ss_conf_peer *cp, ss_dpeer **out, char *err,
		       size_t errlen);
void ss_daemon_remove_peer(ss_daemon *d, ss_dpeer *p);
int ss_daemon_set_endpoint(ss_daemon *d, ss_dpeer *p, const char *endpoint, char *err,
			   size_t errlen);
int ss_daemon_set_allowed(ss_daemon *d, ss_dpeer *p, const ss_cidr *c, size_t n, char *err,
			  size_t errlen);
void ss_daemon_set_keepalive(ss_daemon *d, ss_dpeer *p, uint32_t seconds);
/* Replace the peer's Allow rules (has_allow false: the interface Policy applies). */
int ss_daemon_set_caps(ss_daemon *d, ss_dpeer *p, bool has_allow, const ss_cap_rule *rules,
		       size_t n);
/* Startup warning for a peer that reaches nothing (no Allow, Policy = deny). */
void ss_daemon_warn_unreachable(ss_daemon *d, ss_dpeer *p);
/* peermeta.c: a peer's Name, Groups and rule origins, from its configuration. */
int ss_daemon_set_meta(ss_dpeer *p, const ss_conf_peer *cp);
void ss_daemon_free_meta(ss_dpeer *p);
/* The peer called label (Name =), or NULL. */
ss_dpeer *ss_daemon_find_label(ss_daemon *d, const char *label);
/* Re-read the TrustStore pin of the TOFU peer for endpoint name (silosec trust). */
int ss_daemon_trust_reload(ss_daemon *d, const char *name, char *err, size_t errlen);
/* Grants (ctlserver.c and the timer pass): add/revoke with audit lines. */
int ss_daemon_grant(ss_daemon *d, const uint8_t identity[SS_IDENTITY_LEN], const ss_cap_rule *rule,
		    uint32_t seconds);
int ss_daemon_revoke(ss_daemon *d, const uint8_t identity[SS_IDENTITY_LEN],
		     const ss_cap_rule *rule);
/* One audit line (audit.h) about this interface; flow and identity may be NULL. */
void ss_daemon_audit(ss_daemon *d, const char *event, const char *decision, int code,
		     const uint8_t *identity, const ss_flow *flow, const char *detail);
/* `silosec syncconf`: take r's peers and Policy, warn (to f too) of other [Interface] changes. */
struct ss_ctl_sync_req;
int ss_daemon_sync(ss_daemon *d, const struct ss_ctl_sync_req *r, FILE *f);
void ss_daemon_kick(ss_daemon *d, ss_dpeer *p);
/* Queue one datagram for flow (flushed once per wakeup); a virtual flow goes through its
 * relay circuit (relay.c). */
void ss_daemon_xmit(ss_daemon *d, ss_dpeer *p, const ss_flow *flow, const uint8_t *pkt, size_t len);
/* Re-read the peer's next timer after a change. */
void ss_daemon_touch(ss_daemon *d, ss_dpeer *p);
/* Write out segments waiting to be joined (before a peer they came from goes away). */
void ss_daemon_tun_flush(ss_daemon *d);

/* Handle one datagram as if it arrived on flow (relay.c: an inner datagram). */
void ss_daemon_inbound(ss_daemon *d, const ss_flow *flow, const uint8_t *pkt, size_t len);

/* Control server (ctlserver.c). */
void ss_ctl_serve(ss_daemon *d, int fd);

/* routes.c: AllowedIPs routes by Table =, the full tunnel's rules and mark. */
void ss_routes_update(ss_daemon *d, const ss_cidr *c, bool add);
/* Removes the full tunnel's rules (the routes go with the device). */
void ss_routes_cleanup(ss_daemon *d);
/* SO_MARK on the transport sockets (before the sandbox); 0 or -errno. */
int ss_routes_mark(ss_daemon *d);

#endif
