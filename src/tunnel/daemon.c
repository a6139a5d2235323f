/* SPDX-License-Identifier: MIT */
/*
 * silosecd's data path and peer table. The core decides everything about packets on the
 * wire; this file moves them between TUN and the sockets, applies cryptokey routing
 * (AllowedIPs) in both directions, queues packets while a handshake is under way and
 * drives the core's timers.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <sys/signalfd.h>
#include <signal.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "audit.h"
#include "common/ctlsock.h"
#include "daemon.h"
#include "log.h"
#include "netdev.h"
#include "offload.h"
#include "relay.h"
#include "common/truststore.h"

const char *const ss_tun_drop_names[SS_TUN_DROP_COUNT] = {
	"SS_TUN_SPOOFED",    "SS_TUN_MALFORMED",   "SS_TUN_NO_ROUTE",	"SS_TUN_NO_ENDPOINT",
	"SS_TUN_QUEUE_FULL", "SS_TUN_SEND_FAILED", "SS_TUN_HS_TIMEOUT", "SS_TUN_WRITE_FAILED",
	"SS_ERR_CAP_DENIED", "SS_ERR_CT_FULL",
};

static void fpr(const uint8_t *id, char out[SS_FINGERPRINT_LEN])
{
	if (id)
		ss_fingerprint(id, out);
	else
		snprintf(out, SS_FINGERPRINT_LEN, "(tofu, not yet seen)");
}

static const char *peer_label(const ss_dpeer *p, char buf[SS_FINGERPRINT_LEN + 80])
{
	char f[SS_FINGERPRINT_LEN];

	fpr(ss_peer_identity(p->sp), f);
	if (p->tofu)
		snprintf(buf, SS_FINGERPRINT_LEN + 80, "%s (%.64s)", f, p->name);
	else
		snprintf(buf, SS_FINGERPRINT_LEN + 80, "%s", f);
	return buf;
}

void ss_daemon_audit(ss_daemon *d, const char *event, const char *decision, int code,
		     const uint8_t *identity, const ss_flow *flow, const char *detail)
{
	struct sockaddr_storage ss;
	struct ss_audit_rec r = {.event = event,
				 .decision = decision,
				 .code = code,
				 .identity = identity,
				 .iface = d->conf->name,
				 .detail = detail};
	ss_dpeer *p = identity ? ss_daemon_find(d, identity) : NULL;

	r.name = p ? p->label : NULL;
	if (flow && ss_flow_to_sockaddr(flow, &ss))
		r.peer = (const struct sockaddr *)&ss;
	ss_audit(&r, ss_mono_ns());
}

void ss_daemon_touch(ss_daemon *d, ss_dpeer *p)
{
	uint64_t dl = ss_peer_deadline(p->sp), rd = ss_reach_deadline(d, p);

	if (rd < dl)
		dl = rd;
	if (dl < d->next_deadline)
		d->next_deadline = dl;
}

void ss_daemon_kick(ss_daemon *d, ss_dpeer *p)
{
	ss_peer_want_handshake(p->sp);
	ss_daemon_touch(d, p);
}

/* ---- sending ---- */

static void send_failed(ss_daemon *d, uint64_t *counter, unsigned n, int err)
{
	if (!n)
		return;
	*counter += n;
	ss_log_limited(SS_LOG_SEND_FAIL, ss_mono_ns(), LOG_WARNING,
		       "SS_TUN_SEND_FAILED: %u packet%s refused by the socket: %s", n,
		       n == 1 ? "" : "s", strerror(err));
	(void)d;
}

/* Queued in the send batch; the loop flushes it once per wakeup (or when full). */
static void xmit(ss_daemon *d, ss_dpeer *p, const ss_flow *flow, const uint8_t *pkt, size_t len)
{
	int err = 0;
	unsigned failed;

	if (ss_flow_virtual(flow)) {
		ss_relay_xmit(d, flow, pkt, len);
		return;
	}
	failed = ss_transport_queue(&d->tr, &d->txb, flow, pkt, len, &err);

	/* A refusal while flushing may belong to an earlier packet: close enough. */
	send_failed(d, p ? &p->drops[SS_TUN_SEND_FAILED] : &d->drops[SS_TUN_SEND_FAILED], failed,
		    err);
}

void ss_daemon_xmit(ss_daemon *d, ss_dpeer *p, const ss_flow *flow, const uint8_t *pkt, size_t len)
{
	xmit(d, p, flow, pkt, len);
}

static unsigned flush(ss_daemon *d)
{
	int err = 0;
	/* Before the call below reads err: argument order is unspecified. */
	unsigned failed = ss_transport_flush(&d->txb, &err);

	send_failed(d, &d->drops[SS_TUN_SEND_FAILED], failed, err);
	return failed;
}

/* Unlinks the oldest queued packet (there is one) and hands it to the caller. */
static ss_qpkt *dequeue(ss_daemon *d, ss_dpeer *p)
{
	ss_qpkt *q = p->qhead;

	p->qhead = q->next;
	if (!p->qhead)
		p->qtail = NULL;
	p->qlen--;
	d->queued--;
	return q;
}

static void queue_drop_all(ss_daemon *d, ss_dpeer *p)
{
	while (p->qhead) {
		free(dequeue(d, p));
		p->drops[SS_TUN_HS_TIMEOUT]++;
	}
}

static void enqueue(ss_daemon *d, ss_dpeer *p, const uint8_t *pkt, size_t len)
{
	ss_qpkt *q;

	/* Keep the newest packets: a TCP retransmission is worth more than its original. */
	if (p->qlen >= SS_QUEUE_PER_PEER || d->queued >= SS_QUEUE_TOTAL) {
		p->drops[SS_TUN_QUEUE_FULL]++;
		if (!p->qhead)
			return;
		free(dequeue(d, p));
	}
	q = malloc(sizeof(*q) + len);
	if (!q) {
		p->drops[SS_TUN_QUEUE_FULL]++;
		return;
	}
	q->next = NULL;
	q->len = (uint32_t)len;
	memcpy(q->data, pkt, len);
	if (p->qtail)
		p->qtail->next = q;
	else
		p->qhead = q;
	p->qtail = q;
	p->qlen++;
	d->queued++;
}

/* Seal and send; 1 if the packet needs a session first, 0 otherwise. */
static int seal_send(ss_daemon *d, ss_dpeer *p, const uint8_t *pkt, size_t len)
{
	ss_flow flow;
	size_t olen;
	int ret;

	ret = ss_peer_seal(d->ctx, p->sp, pkt, len, d->buf_out, SS_MAX_PACKET, &olen, &flow);
	if (ret == SS_ERR_NO_SESSION)
		return 1;
	if (ret) {
		ss_log_limited(SS_LOG_SEND_FAIL, ss_mono_ns(), LOG_WARNING,
			       "%s: sealing for a peer failed: %s", ss_err_name(ret),
			       ss_strerror(ret));
		return 0;
	}
	xmit(d, p, &flow, d->buf_out, olen);
	if (len)
		p->last_tx_data_ns = ss_mono_ns();
	return 0;
}

static void send_data(ss_daemon *d, ss_dpeer *p, const uint8_t *pkt, size_t len)
{
	/* Order: nothing overtakes packets already waiting for the handshake. */
	if (p->qhead || seal_send(d, p, pkt, len)) {
		if (!p->has_endpoint && !ss_peer_has_session(p->sp) && !ss_reach_want_path(d, p) &&
		    !ss_relay_fallback(d, p)) {
			p->drops[SS_TUN_NO_ENDPOINT]++;
			return;
		}
		enqueue(d, p, pkt, len);
		ss_peer_want_handshake(p->sp);
	}
	ss_daemon_touch(d, p);
}

static void flush_queue(ss_daemon *d, ss_dpeer *p)
{
	bool sent = false;

	while (p->qhead) {
		ss_qpkt *q = p->qhead;

		if (seal_send(d, p, q->data, q->len))
			break;
		sent = true;
		free(dequeue(d, p));
	}
	/* The responder uses the session only once we speak on it: confirm at once. */
	if (!sent && ss_peer_has_session(p->sp))
		(void)seal_send(d, p, NULL, 0);
}

/* ---- TUN -> wire ---- */

static int inner_addr(const uint8_t *pkt, size_t len, bool src, int *family, const uint8_t **a)
{
	if (len >= 20 && pkt[0] >> 4 == 4) {
		*family = AF_INET;
		*a = pkt + (src ? 12 : 16);
		return 0;
	}
	if (len >= 40 && pkt[0] >> 4 == 6) {
		*family = AF_INET6;
		*a = pkt + (src ? 8 : 24);
		return 0;
	}
	return -1;
}

/* ---- capabilities and connection tracking ---- */

static void ct_full(ss_daemon *d, ss_dpeer *p, uint64_t now)
{
	char detail[96];

	p->drops[SS_TUN_CT_FULL]++;
	if (now - p->ct_full_logged_ns < SS_NS_PER_SEC / 10 && p->ct_full_logged_ns)
		return;
	p->ct_full_logged_ns = now;
	snprintf(detail, sizeof(detail), "connection-tracking budget of %u entries used up",
		 p->ct.budget);
	ss_daemon_audit(d, "conntrack", "drop", SS_ERR_CT_FULL, ss_peer_identity(p->sp),
			p->has_endpoint ? &p->endpoint : NULL, detail);
}

/*
 * A packet this host sends to p: remember its flow so the reply passes. Replies the
 * peer's rules admit anyway need no entry, which keeps the peer's budget for the rest.
 * Nor do replies a live grant admits: that flow is the peer's, not one this host opened,
 * and an entry would keep it open after the grant expires or is revoked.
 */
static void track_out(ss_daemon *d, ss_dpeer *p, const uint8_t *pkt, size_t len)
{
	const uint8_t *id;
	ss_pkt_info pi, rev;
	uint64_t now;

	if (p->open || ss_pkt_parse(pkt, len, &pi))
		return;
	rev = pi;
	rev.src = pi.dst;
	rev.dst = pi.src;
	rev.sport = pi.dport;
	rev.dport = pi.sport;
	if (ss_cap_match(p->rules, p->nrules, &rev))
		return;
	now = ss_mono_ns();
	id = ss_peer_identity(p->sp);
	if (id && d->grants->n && ss_grant_match(d->grants, id, &rev, now))
		return;
	if (ss_ct_track(d->ct, &pi, &p->ct, now) == SS_ERR_CT_FULL)
		ct_full(d, p, now);
}

static void cap_denied(ss_daemon *d, ss_dpeer *p, const uint8_t *pkt, size_t len,
		       const ss_pkt_info *pi, uint64_t now)
{
	char flow[128], detail[200];

	p->drops[SS_TUN_CAP_DENIED]++;
	p->denied_len = (uint32_t)(len < sizeof(p->denied_hdr) ? len : sizeof(p->denied_hdr));
	memcpy(p->denied_hdr, pkt, p->denied_len);
	p->denied_ns = now;
	/* The audit trail limits lines per source too; this spares the formatting. */
	if (p->denied_logged_ns && now - p->denied_logged_ns < SS_NS_PER_SEC / 50)
		return;
	p->denied_logged_ns = now;
	ss_pkt_format(pi, flow, sizeof(flow));
	snprintf(detail, sizeof(detail), "%s: no Allow rule, grant or tracked connection", flow);
	ss_daemon_audit(d, "cap_denied", "drop", SS_ERR_CAP_DENIED, ss_peer_identity(p->sp),
			p->has_endpoint ? &p->endpoint : NULL, detail);
}

/* May this decrypted packet from p enter the host? Rules, then replies, then grants. */
static bool admitted(ss_daemon *d, ss_dpeer *p, const uint8_t *pkt, size_t len)
{
	const uint8_t *id;
	ss_pkt_info pi;
	uint64_t now;

	if (p->open)
		return true;
	now = ss_mono_ns();
	if (ss_pkt_parse(pkt, len, &pi)) {
		cap_denied(d, p, pkt, len, &pi, now);
		return false;
	}
	if (ss_cap_match(p->rules, p->nrules, &pi))
		return true;
	if (ss_ct_reply(d->ct, &pi, &p->ct, now))
		return true;
	id = ss_peer_identity(p->sp);
	if (id && d->grants->n && ss_grant_match(d->grants, id, &pi, now))
		return true;
	cap_denied(d, p, pkt, len, &pi, now);
	return false;
}

static void handle_outbound(ss_daemon *d, const uint8_t *pkt, size_t len, bool track)
{
	const uint8_t *dst;
	ss_dpeer *p;
	int family;

	if (inner_addr(pkt, len, false, &family, &dst)) {
		d->drops[SS_TUN_MALFORMED]++;
		return;
	}
	p = ss_allowedips_lookup(d->aips, family, dst);
	if (!p) {
		d->drops[SS_TUN_NO_ROUTE]++;
		return;
	}
	if (track)
		track_out(d, p, pkt, len);
	send_data(d, p, pkt, len);
}

/* A TSO super-packet is one flow: track it once, before it is cut into segments. */
static void track_super(ss_daemon *d, const uint8_t *pkt, size_t len)
{
	const uint8_t *dst;
	ss_dpeer *p;
	int family;

	if (!inner_addr(pkt, len, false, &family, &dst) &&
	    (p = ss_allowedips_lookup(d->aips, family, dst)))
		track_out(d, p, pkt, len);
}

static void outbound_seg(void *arg, const uint8_t *pkt, size_t len)
{
	handle_outbound(arg, pkt, len, false);
}

/* One packet the host sent into TUN, with its virtio header when offloading. */
static void outbound(ss_daemon *d, uint8_t *pkt, size_t n)
{
	if (!d->offload) {
		handle_outbound(d, pkt, n, true);
		return;
	}
	if (n > SS_VNET_HDR_LEN)
		track_super(d, pkt + SS_VNET_HDR_LEN, n - SS_VNET_HDR_LEN);
	if (ss_offload_split(pkt, n, d->seg, SS_MAX_PLAINTEXT, outbound_seg, d) < 0)
		d->drops[SS_TUN_MALFORMED]++;
}

static void ring_read(ss_daemon *d)
{
	const size_t cap = SS_MAX_PLAINTEXT + SS_VNET_HDR_LEN;
	uint8_t *pkt;
	size_t n;

	for (int i = 0; i < SS_TUN_BATCH && (pkt = ss_tunring_next(&d->ring, d->buf_in, cap, &n));
	     i++) {
		outbound(d, pkt, n);
		ss_tunring_release(&d->ring);
	}
}

static void tun_read(ss_daemon *d)
{
	if (d->ring.fd >= 0) {
		ring_read(d);
		return;
	}
	for (int i = 0; i < SS_TUN_BATCH; i++) {
		ssize_t n = read(d->tun, d->buf_in, SS_MAX_PLAINTEXT + SS_VNET_HDR_LEN);

		if (n <= 0)
			break;
		outbound(d, d->buf_in, (size_t)n);
	}
}

static void gro_write(void *arg, const uint8_t *pkt, size_t len, void *owner)
{
	ss_daemon *d = arg;
	ss_dpeer *p = owner;

	if (write(d->tun, pkt, len) < 0 && ++p->drops[SS_TUN_WRITE_FAILED])
		ss_log_limited(SS_LOG_TUN_DROP, ss_mono_ns(), LOG_WARNING, "writing to TUN: %s",
			       strerror(errno));
}

void ss_daemon_tun_flush(ss_daemon *d)
{
	if (d->offload && d->gro)
		ss_gro_flush(d->gro, gro_write, d);
}

static void tun_write(ss_daemon *d, ss_dpeer *p, const uint8_t *pkt, size_t len)
{
	if (d->offload)
		ss_gro_add(d->gro, pkt, len, p, gro_write, d);
	else if (write(d->tun, pkt, len) < 0 && ++p->drops[SS_TUN_WRITE_FAILED])
		ss_log_limited(SS_LOG_TUN_DROP, ss_mono_ns(), LOG_WARNING, "writing to TUN: %s",
			       strerror(errno));
}

/* ---- wire -> TUN ---- */

/* The IP packet's own length; padding after it is cut, a short packet refused. */
static size_t inner_len(const uint8_t *pkt, size_t len)
{
	size_t n;

	if (pkt[0] >> 4 == 4) {
		n = (size_t)pkt[2] << 8 | pkt[3];
		return n >= 20 && n <= len && (size_t)(pkt[0] & 15) * 4 >= 20 ? n : 0;
	}
	n = 40 + ((size_t)pkt[4] << 8 | pkt[5]);
	return n <= len ? n : 0;
}

static void deliver(ss_daemon *d, ss_dpeer *p, const uint8_t *pkt, size_t len)
{
	const uint8_t *src;
	int family;
	size_t n;

	if (inner_addr(pkt, len, true, &family, &src) || !(n = inner_len(pkt, len))) {
		p->drops[SS_TUN_MALFORMED]++;
		return;
	}
	/* Cryptokey routing: a peer speaks only for the addresses it owns. */
	if (ss_allowedips_lookup(d->aips, family, src) != p) {
		char a[INET6_ADDRSTRLEN], l[SS_FINGERPRINT_LEN + 80];

		p->drops[SS_TUN_SPOOFED]++;
		inet_ntop(family, src, a, sizeof(a));
		ss_log_limited(SS_LOG_TUN_DROP, ss_mono_ns(), LOG_WARNING,
			       "SS_TUN_SPOOFED: peer %s sent a packet from %s, outside its "
			       "AllowedIPs; dropped",
			       peer_label(p, l), a);
		return;
	}
	if (!admitted(d, p, pkt, n))
		return;
	tun_write(d, p, pkt, n);
}

static void tofu_learned(ss_daemon *d, ss_dpeer *p, const uint8_t *identity)
{
	char err[SS_CONF_ERR_LEN], f[SS_FINGERPRINT_LEN];
	ss_truststore *ts;
	int ret;

	ss_fingerprint(identity, f);
	ret = ss_trust_load(d->conf->trust_store, &ts, err, sizeof(err));
	if (ret) {
		ss_log(LOG_ERR, "SS_TUN_TRUSTSTORE: %s; identity %s for %s not pinned", err, f,
		       p->name);
		return;
	}
	ret = ss_trust_pin(ts, p->name, identity);
	if (ret == SS_ERR_EXISTS) {
		/* Pinned by hand while we were handshaking: the store wins. */
		ss_log(LOG_ALERT,
		       "SS_ERR_IDENTITY: SECURITY ALERT: %s answered as %s but the trust store "
		       "pins another identity; session refused",
		       p->name, f);
		ss_daemon_audit(d, "identity_change", "refuse", SS_ERR_IDENTITY, identity,
				p->has_endpoint ? &p->endpoint : NULL,
				"TOFU: the trust store pins another identity for this endpoint");
		ss_trust_free(ts);
		ss_daemon_remove_peer(d, p);
		return;
	}
	if (!ret)
		ret = ss_trust_save(ts);
	if (ret)
		ss_log(LOG_ERR, "SS_TUN_TRUSTSTORE: saving %s: %s", d->conf->trust_store,
		       ret == SS_ERR_IO ? strerror(errno) : ss_strerror(ret));
	else
		ss_log(LOG_NOTICE, "SS_TUN_TOFU_PINNED: %s is %s, pinned in %s", p->name, f,
		       d->conf->trust_store);
	ss_daemon_audit(d, "tofu_pin", ret ? "accept_unsaved" : "accept", ret, identity,
			p->has_endpoint ? &p->endpoint : NULL, p->name);
	p->tofu_pinned = true;
	ss_trust_free(ts);
}

/* The TOFU peer configured at this address, if any. */
static ss_dpeer *tofu_at(ss_daemon *d, const ss_flow *flow)
{
	for (ss_dpeer *p = d->peers; p; p = p->next)
		if (p->tofu && p->has_endpoint &&
		    !memcmp(p->endpoint.remote_addr, flow->remote_addr, 16) &&
		    p->endpoint.remote_port == flow->remote_port)
			return p;
	return NULL;
}

/* Handshake refusals are security decisions; other wire drops are only counted. */
static void audit_refusal(ss_daemon *d, ss_dpeer *p, int code, const ss_flow *flow,
			  const ss_result *res)
{
	const uint8_t *id = p ? ss_peer_identity(p->sp) : NULL;
	const char *event = "handshake";

	switch (code) {
	case SS_ERR_UNKNOWN_PEER:
		id = res->identity;
		/* A spoofed source proves no key change (PROTOCOL 4.3): only a reachable one. */
		if ((res->flags & SS_RESULT_F_REACHABLE) && tofu_at(d, flow))
			event = "identity_change";
		break;
	case SS_ERR_IDENTITY:
		event = "identity_change";
		break;
	case SS_ERR_STALE:
	case SS_ERR_RATE_LIMIT:
	case SS_ERR_SIGNATURE:
	case SS_ERR_CONFIRM:
	case SS_ERR_REFLECTION:
	case SS_ERR_COOKIE:
		break;
	default:
		return;
	}
	ss_daemon_audit(d, event, "refuse", code, id, flow, ss_strerror(code));
}

static void wire_drop(ss_daemon *d, ss_dpeer *p, int code, const ss_flow *flow,
		      const ss_result *res)
{
	ss_dpeer *t;
	char a[64], f[SS_FINGERPRINT_LEN], l[SS_FINGERPRINT_LEN + 80];
	uint64_t now = ss_mono_ns();

	ss_flow_format(flow, a, sizeof(a));
	audit_refusal(d, p, code, flow, res);
	if (code == SS_ERR_IDENTITY && p && p->tofu) {
		ss_log_limited(SS_LOG_ALERT, now, LOG_ALERT,
			       "SS_ERR_IDENTITY: SECURITY ALERT: %s at %s answered with an "
			       "identity other than the pinned %s; refused (if the key change is "
			       "expected: silosec trust forget)",
			       p->name, a, peer_label(p, l));
	} else if (code == SS_ERR_UNKNOWN_PEER && (res->flags & SS_RESULT_F_REACHABLE) &&
		   (t = tofu_at(d, flow)) && t->tofu_pinned) {
		ss_fingerprint(res->identity, f);
		ss_log_limited(SS_LOG_ALERT, now, LOG_ALERT,
			       "SS_ERR_IDENTITY: SECURITY ALERT: %s now presents identity %s, "
			       "not the pinned %s; refused (if the key change is expected: "
			       "silosec trust forget)",
			       a, f, peer_label(t, l));
	} else if (code == SS_ERR_UNKNOWN_PEER) {
		ss_fingerprint(res->identity, f);
		ss_log_limited(SS_LOG_UNKNOWN_PEER, now, LOG_NOTICE,
			       "SS_ERR_UNKNOWN_PEER: handshake from unknown identity %s at %s "
			       "refused",
			       f, a);
	} else {
		ss_log_limited(SS_LOG_WIRE_DROP, now, LOG_INFO,
			       "%s: dropped packet from %s%s%s: %s", ss_err_name(code), a,
			       p ? " for peer " : "", p ? peer_label(p, l) : "", ss_strerror(code));
	}
}

/* A virtual flow is a circuit, not where the peer is: the endpoint stays a real address. */
static void learn_endpoint(ss_dpeer *p, const ss_flow *flow)
{
	if (ss_flow_virtual(flow))
		return;
	p->endpoint = *flow;
	p->has_endpoint = true;
}

/* Reachability plaintexts and relayed datagrams (PROTOCOL.md 16): intro.c, relay.c. */
static void reach_inbound(ss_daemon *d, ss_dpeer *p, const ss_flow *flow, const ss_result *res)
{
	ss_reach_msg m;

	p->last_rx_ns = ss_mono_ns();
	if (res->kind == SS_RESULT_RELAY)
		ss_relay_datagram(d, p, d->buf_out, res->len);
	else if (ss_reach_decode(d->buf_out, res->len, &m))
		ss_reach_drop(d, p, SS_ERR_MALFORMED);
	else if (m.type >= SS_CTL_RELAY_OPEN)
		ss_relay_control(d, p, &m);
	else
		ss_intro_control(d, p, flow, d->buf_out, res->len);
	ss_daemon_touch(d, p);
}

static void handle_inbound(ss_daemon *d, const ss_flow *flow, const uint8_t *pkt, size_t len)
{
	ss_result res;
	ss_dpeer *p;
	int ret;

	/*
	 * No limit of our own before the core: it charges a source only for an INIT with a
	 * valid mac1 and mac2 under load, which a spoofer of that source cannot send.
	 */
	memset(&res, 0, sizeof(res));
	ret = ss_ctx_consume(d->ctx, flow, pkt, len, d->buf_out, SS_MAX_PACKET, &res);
	p = res.peer ? ss_peer_user(res.peer) : NULL;
	if (p && len)
		ss_reach_observe(d, p, flow, pkt[0], ret);
	if (ret) {
		wire_drop(d, p, ret, flow, &res);
		return;
	}
	if (res.kind == SS_RESULT_REPLY)
		xmit(d, p, flow, d->buf_out, res.len);
	if (!p)
		return;
	if (res.flags & SS_RESULT_F_LEARNED) {
		tofu_learned(d, p, res.identity);
		/* tofu_learned may have refused and removed the peer. */
		if (!ss_daemon_find(d, res.identity))
			return;
	}
	if (res.kind == SS_RESULT_CONTROL || res.kind == SS_RESULT_RELAY)
		reach_inbound(d, p, flow, &res);
	if (res.kind == SS_RESULT_DATA) {
		learn_endpoint(p, flow);
		p->last_rx_ns = ss_mono_ns();
		if (res.len)
			deliver(d, p, d->buf_out, res.len);
	}
	if (res.flags & SS_RESULT_F_HANDSHAKE) {
		char l[SS_FINGERPRINT_LEN + 80], a[64];

		learn_endpoint(p, flow);
		ss_relay_path(d, p, flow);
		p->last_rx_ns = ss_mono_ns();
		ss_flow_format(flow, a, sizeof(a));
		ss_log(LOG_INFO, "SS_TUN_HANDSHAKE: session with %s at %s", peer_label(p, l), a);
		ss_daemon_audit(d, "handshake", "accept", 0, ss_peer_identity(p->sp), flow, NULL);
		ss_reach_on_handshake(d, p, flow);
		flush_queue(d, p);
	}
	if (res.flags & SS_RESULT_F_REKEY)
		ss_peer_want_handshake(p->sp);
	ss_daemon_touch(d, p);
}

void ss_daemon_inbound(ss_daemon *d, const ss_flow *flow, const uint8_t *pkt, size_t len)
{
	handle_inbound(d, flow, pkt, len);
}

static void net_read(ss_daemon *d, int i)
{
	for (int round = 0; round < SS_TUN_BATCH / SS_BATCH; round++) {
		int n = ss_transport_recv_batch(&d->tr, i, &d->rxb);

		for (int k = 0; k < n; k++)
			handle_inbound(d, ss_rxbatch_flow(&d->rxb, k), d->rxb.pkt[k],
				       d->rxb.len[k]);
		if (n < SS_BATCH)
			break;
	}
	ss_daemon_tun_flush(d);
}

/* ---- timers ---- */

static void tick_peer(ss_daemon *d, ss_dpeer *p, uint64_t now)
{
	enum ss_tick_kind kind;
	ss_flow flow;
	size_t olen;

	ss_reach_tick(d, p, now);
	/* Sending into silence: the other end may have roamed or restarted. */
	if (ss_peer_has_session(p->sp) && p->last_tx_data_ns > p->last_rx_ns &&
	    p->last_tx_data_ns - p->last_rx_ns > SS_STALE_AFTER) {
		p->last_rx_ns = now;
		ss_peer_want_handshake(p->sp);
		ss_intro_on_stale(d, p);
	}
	/* PersistentKeepalive keeps a session up even when nothing else needs one. */
	if (p->keepalive && (p->has_endpoint || ss_reach_has_candidates(p)) &&
	    !ss_peer_has_session(p->sp))
		ss_peer_want_handshake(p->sp);
	for (int k = 0; k < 8; k++) {
		if (ss_peer_tick(d->ctx, p->sp, d->buf_out, SS_MAX_PACKET, &olen, &flow, &kind) ||
		    !olen)
			break;
		xmit(d, p, &flow, d->buf_out, olen);
		if (kind == SS_TICK_HANDSHAKE)
			ss_reach_on_init_made(d, p, d->buf_out, olen, &flow);
		/* Sent at once, to know whether it left: roaming restarts count from it. */
		if (kind == SS_TICK_HANDSHAKE) {
			p->init_unsent = flush(d) > 0;
			if (!p->hs_since_ns)
				p->hs_since_ns = now;
		}
	}
	/* Handshakes that gave up leave nothing to wait for: drop what was queued. */
	if (p->qhead && !ss_peer_has_session(p->sp) && ss_peer_deadline(p->sp) == UINT64_MAX)
		queue_drop_all(d, p);
}

static void grant_expired(void *arg, const ss_grant *g)
{
	char rule[SS_CAP_RULE_STR];

	ss_cap_rule_format(&g->rule, rule, sizeof(rule));
	ss_log(LOG_NOTICE, "SS_TUN_GRANT: grant of %s expired", rule);
	ss_daemon_audit(arg, "grant", "expire", 0, g->identity, NULL, rule);
}

/* Grants expire on time; conntrack entries are swept every few seconds. */
static void housekeeping(ss_daemon *d, uint64_t now)
{
	ss_grant_expire(d->grants, now, grant_expired, d);
	if (now >= d->next_sweep) {
		ss_ct_expire(d->ct, now);
		d->next_sweep = now + 5 * SS_NS_PER_SEC;
	}
	if (now >= d->next_relay_sweep)
		d->next_relay_sweep = ss_relay_sweep(d, now);
}

static void run_timers(ss_daemon *d)
{
	uint64_t now = ss_mono_ns();

	if (now < d->next_deadline)
		return;
	housekeeping(d, now);
	d->next_deadline = ss_grant_next(d->grants);
	for (ss_dpeer *p = d->peers; p; p = p->next) {
		if (ss_peer_deadline(p->sp) <= now || ss_reach_deadline(d, p) <= now ||
		    (p->keepalive && !ss_peer_has_session(p->sp)))
			tick_peer(d, p, now);
		ss_relay_tick_peer(d, p, now);
		ss_reach_trim(p, now); /* an idle peer gives back its reachability state */
		ss_daemon_touch(d, p);
	}
	if (d->next_relay_sweep < d->next_deadline)
		d->next_deadline = d->next_relay_sweep;
	{
		uint64_t lan = ss_lan_tick(d, now);

		if (lan < d->next_deadline)
			d->next_deadline = lan;
	}
	/* Stale-session checks piggyback on the timer pass; keep one at least every 5 s. */
	if (d->next_deadline > now + 5 * SS_NS_PER_SEC)
		d->next_deadline = now + 5 * SS_NS_PER_SEC;
}

static int timeout_ms(const ss_daemon *d)
{
	uint64_t now = ss_mono_ns();

	if (d->next_deadline <= now)
		return 0;
	return (int)((d->next_deadline - now) / 1000000 + 1);
}

/* ---- roaming: our own addresses changed ---- */

/*
 * Only a usable address that came or went can move our end of a flow: link-local
 * addresses and the tunnel's own do not, nor an address still in duplicate detection,
 * nor a secondary IPv4 address (never a source; one promoted when the primary goes is
 * announced again without the flag). Ignoring the secondary that a renumbering adds
 * before it removes the old address spares a handshake from the old address, whose
 * successor the peer would refuse as too frequent.
 */
static bool addr_event_matters(const ss_daemon *d, const struct nlmsghdr *h)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);

	if (h->nlmsg_type != RTM_NEWADDR && h->nlmsg_type != RTM_DELADDR)
		return false;
	if ((int)ifa->ifa_index == d->ifindex || ifa->ifa_scope == RT_SCOPE_LINK ||
	    ifa->ifa_scope == RT_SCOPE_HOST)
		return false;
	if (ifa->ifa_family == AF_INET && (ifa->ifa_flags & IFA_F_SECONDARY))
		return false;
	return h->nlmsg_type == RTM_DELADDR || !(ifa->ifa_flags & IFA_F_TENTATIVE);
}

static void nl_events(ss_daemon *d)
{
	char buf[8192];
	bool changed = false, lan = false;
	ssize_t n;

	while ((n = recv(d->nl_events, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		int len = (int)n;

		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, len);
		     h = mnl_nlmsg_next(h, &len)) {
			if (addr_event_matters(d, h))
				changed = true;
			/* LAN discovery also minds link-local addresses (its IPv6 groups). */
			if ((h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR) &&
			    (int)((struct ifaddrmsg *)NLMSG_DATA(h))->ifa_index != d->ifindex)
				lan = true;
		}
	}
	if (lan)
		ss_lan_addrs_changed(d);
	if (!changed)
		return;
	ss_log(LOG_INFO, "SS_TUN_ROAM: local addresses changed; new handshakes with all peers");
	/*
	 * A session is bound to its 5-tuple: a new local address needs a new handshake, now,
	 * not after the retry timer of one sent from the old address (PROTOCOL.md 15.3).
	 */
	for (ss_dpeer *p = d->peers; p; p = p->next) {
		ss_peer_restart_handshake(p->sp, p->init_unsent);
		ss_daemon_touch(d, p);
	}
}

/* ---- the loop ---- */

/*
 * Log rotation: the file at the --audit path is opened anew if it was renamed. In the
 * interface's own log directory (silosecd gives it to its user) the daemon creates it;
 * elsewhere the rotation must create it for the daemon's user first (no CAP_DAC_OVERRIDE).
 * If neither works, the old file stays in use and says so (ss_audit_reopen), and so does
 * the log.
 */
static void audit_reopen(void)
{
	ss_audit_reopen_logged(ss_log, LOG_INFO);
}

static void signal_read(ss_daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		/* SIGHUP only reopens: the file is re-applied by `silosec syncconf` (root). */
		if (si.ssi_signo == SIGHUP) {
			audit_reopen();
		} else {
			d->running = false;
		}
	}
}

static void ctl_accept(ss_daemon *d)
{
	int fd;

	while ((fd = accept4(d->ctl, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		ss_ctl_serve(d, fd);
		close(fd);
	}
}

enum { EV_TUN = 1, EV_NET0, EV_NET1, EV_CTL, EV_SIG, EV_NL, EV_LAN4, EV_LAN6 };

int ss_daemon_run(ss_daemon *d)
{
	struct epoll_event ev[16];

	d->running = true;
	while (d->running) {
		int n = epoll_wait(d->epfd, ev, 16, timeout_ms(d));

		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			switch (ev[i].data.u32) {
			case EV_TUN:
				if (ev[i].events & EPOLLERR)
					ss_tunring_clear_error(&d->ring);
				tun_read(d);
				break;
			case EV_NET0:
				net_read(d, 0);
				break;
			case EV_NET1:
				net_read(d, 1);
				break;
			case EV_CTL:
				ctl_accept(d);
				break;
			case EV_SIG:
				signal_read(d);
				break;
			case EV_NL:
				nl_events(d);
				break;
			case EV_LAN4:
				ss_lan_read(d, 4);
				break;
			case EV_LAN6:
				ss_lan_read(d, 6);
				break;
			}
		}
		run_timers(d);
		flush(d);
	}
	return 0;
}
