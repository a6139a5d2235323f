/* SPDX-License-Identifier: MIT */
/*
 * LAN announcements (PROTOCOL.md 16.9). An announcement only ever yields a candidate:
 * the handshake that follows decides who is there. So the checks here are about cost
 * and about what strangers learn, not about trust: in peers mode the tag is recognisable
 * only by a host that knows the identity, and nothing is ever sent back.
 */
#include <string.h>

#include <silosec/core.h>

#include "common/endian.h"
#include "internal.h"

#define LABEL_TAG_LEN (sizeof(SS_LABEL_LAN_TAG) - 1)
#define LABEL_SIG_LEN (sizeof(SS_LABEL_LAN_SIG) - 1)

static int tag(uint8_t out[SS_HASH_LEN], const uint8_t id[SS_IDENTITY_LEN], const uint8_t *pkt)
{
	uint8_t key[SS_HASH_LEN];
	int ret = ss_sha256(key, SS_LABEL_LAN_TAG, LABEL_TAG_LEN, id, SS_IDENTITY_LEN, NULL, 0);

	if (!ret)
		ret = ss_hmac_sha256(out, key, sizeof(key), pkt, SS_LAN_OFF_ID);
	return ret;
}

static int sign_open(const ss_identity *id, uint8_t *pkt)
{
	uint8_t msg[LABEL_SIG_LEN + SS_LAN_OFF_SIG];

	memcpy(msg, SS_LABEL_LAN_SIG, LABEL_SIG_LEN);
	memcpy(msg + LABEL_SIG_LEN, pkt, SS_LAN_OFF_SIG);
	return ss_identity_sign(id, msg, sizeof(msg), pkt + SS_LAN_OFF_SIG);
}

int ss_lan_build(ss_ctx *ctx, enum ss_lan_mode mode, uint16_t port, uint8_t *out, size_t out_cap,
		 size_t *out_len)
{
	size_t len = mode == SS_LAN_OPEN ? SS_LAN_OPEN_LEN : SS_LAN_PEERS_LEN;
	const uint8_t *self;
	ss_time now;
	int ret;

	if (!ctx || !out || !out_len || port == 0 || (mode != SS_LAN_PEERS && mode != SS_LAN_OPEN))
		return SS_ERR_INVAL;
	if (out_cap < len)
		return SS_ERR_BUFFER;
	self = ss_identity_public(ctx->id);
	ss_now(ctx, &now);
	memset(out, 0, len);
	out[0] = (uint8_t)mode;
	out[1] = SS_VERSION;
	ss_store_be16(out + SS_LAN_OFF_PORT, port);
	ss_store_be64(out + SS_LAN_OFF_TIME, now.wall_ns);
	if (mode == SS_LAN_PEERS) {
		ret = tag(out + SS_LAN_OFF_ID, self, out);
	} else {
		memcpy(out + SS_LAN_OFF_ID, self, SS_IDENTITY_LEN);
		ret = sign_open(ctx->id, out);
	}
	*out_len = ret ? 0 : len;
	return ret;
}

/* Exact length, prefix, reserved bytes, port, and a time within the skew window. */
static int check_header(ss_ctx *ctx, const uint8_t *pkt, size_t len, ss_lan_info *info)
{
	size_t want = pkt[0] == SS_MSG_LAN_OPEN ? SS_LAN_OPEN_LEN : SS_LAN_PEERS_LEN;
	uint64_t t, d;
	ss_time now;

	if ((pkt[0] != SS_MSG_LAN_PEERS && pkt[0] != SS_MSG_LAN_OPEN) || len != want ||
	    pkt[1] != SS_VERSION || pkt[2] || pkt[3] || pkt[6] || pkt[7])
		return SS_ERR_MALFORMED;
	info->mode = (enum ss_lan_mode)pkt[0];
	info->port = ss_load_be16(pkt + SS_LAN_OFF_PORT);
	if (!info->port)
		return SS_ERR_MALFORMED;
	t = ss_load_be64(pkt + SS_LAN_OFF_TIME);
	ss_now(ctx, &now);
	d = t > now.wall_ns ? t - now.wall_ns : now.wall_ns - t;
	if (d > SS_LAN_MAX_SKEW)
		return SS_ERR_LAN_SPOOF;
	info->time_ns = t;
	return 0;
}

/* One HMAC per configured identity: the daemon bounds how many announcements get here. */
static int recognise_peers(ss_ctx *ctx, const uint8_t *pkt, ss_lan_info *info)
{
	uint8_t mac[SS_HASH_LEN];
	int ret = tag(mac, ss_identity_public(ctx->id), pkt);

	if (!ret && ss_ct_equal(mac, pkt + SS_LAN_OFF_ID, SS_HASH_LEN))
		return SS_ERR_REFLECTION; /* our own, looped back by multicast */
	for (ss_peer *p = ctx->peers; !ret && p; p = p->list_next) {
		if (!p->has_identity)
			continue;
		ret = tag(mac, p->identity, pkt);
		if (!ret && ss_ct_equal(mac, pkt + SS_LAN_OFF_ID, SS_HASH_LEN)) {
			memcpy(info->identity, p->identity, SS_IDENTITY_LEN);
			info->peer = p;
			return 0;
		}
	}
	return ret ? ret : SS_ERR_LAN_SPOOF;
}

static int recognise_open(ss_ctx *ctx, const uint8_t *pkt, ss_lan_info *info)
{
	uint8_t msg[LABEL_SIG_LEN + SS_LAN_OFF_SIG];
	const uint8_t *id = pkt + SS_LAN_OFF_ID;

	if (!memcmp(id, ss_identity_public(ctx->id), SS_IDENTITY_LEN))
		return SS_ERR_REFLECTION;
	memcpy(msg, SS_LABEL_LAN_SIG, LABEL_SIG_LEN);
	memcpy(msg + LABEL_SIG_LEN, pkt, SS_LAN_OFF_SIG);
	if (ss_identity_verify(id, msg, sizeof(msg), pkt + SS_LAN_OFF_SIG))
		return SS_ERR_LAN_SPOOF;
	memcpy(info->identity, id, SS_IDENTITY_LEN);
	info->peer = ss_peer_find(ctx, id);
	return 0;
}

int ss_lan_recognise(ss_ctx *ctx, const uint8_t *pkt, size_t len, ss_lan_info *info)
{
	int ret;

	if (!ctx || !pkt || !info)
		return SS_ERR_INVAL;
	memset(info, 0, sizeof(*info));
	if (len < SS_PREFIX_LEN)
		return SS_ERR_MALFORMED;
	ret = check_header(ctx, pkt, len, info);
	if (!ret)
		ret = pkt[0] == SS_MSG_LAN_PEERS ? recognise_peers(ctx, pkt, info)
						 : recognise_open(ctx, pkt, info);
	if (ret)
		memset(info, 0, sizeof(*info));
	return ret;
}
