/* SPDX-License-Identifier: MIT */
/*
 * Packet entry point: which incoming message goes where. Each handler checks its
 * message cheapest first and commits only after it verified.
 */
#include <string.h>

#include <silosec/core.h>

#include "internal.h"

/* A completed handshake answers with a keepalive, so the responder confirms the epoch at once. */
static int consume_response(ss_ctx *ctx, const ss_flow *flow, const uint8_t *pkt, size_t len,
			    uint8_t *out, size_t out_cap, ss_result *res)
{
	int ret;

	/* Room for the keepalive is checked before anything commits. */
	if (out_cap < SS_DATA_OVERHEAD)
		return SS_ERR_BUFFER;
	ret = ss_handshake_consume_response(ctx, flow, pkt, len, res);
	if (!ret)
		ret = ss_session_seal(ctx, res->peer, res->peer->current, SS_MSG_DATA, NULL, 0, out,
				      out_cap, &res->len);
	if (!ret)
		res->kind = SS_RESULT_REPLY;
	return ret;
}

int ss_ctx_consume(ss_ctx *ctx, const ss_flow *flow, const uint8_t *pkt, size_t len, uint8_t *out,
		   size_t out_cap, ss_result *res)
{
	int ret;

	if (!ctx || !flow || !pkt || !out || !res)
		return SS_ERR_INVAL;
	memset(res, 0, sizeof(*res));
	if (len < SS_PREFIX_LEN || pkt[1] != SS_VERSION || pkt[2] || pkt[3]) {
		ret = SS_ERR_MALFORMED;
		goto drop;
	}
	switch (pkt[0]) {
	case SS_MSG_INIT:
		ret = ss_handshake_consume_init(ctx, flow, pkt, len, out, out_cap, res);
		break;
	case SS_MSG_RESPONSE:
		ret = consume_response(ctx, flow, pkt, len, out, out_cap, res);
		break;
	case SS_MSG_COOKIE:
		ret = ss_cookie_consume_reply(ctx, pkt, len, res);
		break;
	case SS_MSG_DATA:
	case SS_MSG_CONTROL:
	case SS_MSG_RELAY:
		ret = ss_session_open_packet(ctx, flow, pkt, len, out, out_cap, res);
		break;
	default:
		ret = SS_ERR_MALFORMED;
	}
	if (!ret)
		return 0;
drop:
	ss_count_drop(ctx, res->peer, ret);
	if (ret != SS_ERR_UNKNOWN_PEER)
		memset(res->identity, 0, sizeof(res->identity));
	res->kind = SS_RESULT_NONE;
	res->len = 0;
	return ret;
}
