/* SPDX-License-Identifier: MIT */
/* The send path: seal data for a peer on its current session, asking for a rekey when due. */
#include <silosec/core.h>

#include "internal.h"

bool ss_session_need_rekey(const ss_session *s, uint64_t now_ns)
{
	uint64_t age = now_ns - s->created_ns;

	if (s->tx_next >= SS_REKEY_AFTER_MESSAGES)
		return true;
	/* The initiator rekeys first; the responder only if the initiator went quiet. */
	if (s->initiator)
		return age >= SS_REKEY_AFTER_TIME;
	return age >= SS_REKEY_AFTER_TIME + 2 * SS_REKEY_TIMEOUT;
}

int ss_peer_seal(ss_ctx *ctx, ss_peer *peer, const uint8_t *pt, size_t len, uint8_t *out,
		 size_t out_cap, size_t *out_len, ss_flow *flow_out)
{
	ss_session *s;
	uint64_t now;
	int ret;

	if (!ctx || !peer || (!pt && len) || !out || !out_len)
		return SS_ERR_INVAL;
	s = peer->current;
	now = ss_ctx_mono(ctx);
	if (!ss_session_usable_tx(s, now)) {
		peer->want_handshake = true;
		return SS_ERR_NO_SESSION;
	}
	if (ss_session_need_rekey(s, now))
		peer->want_handshake = true;
	if (s->tx_next >= SS_REJECT_AFTER_MESSAGES)
		return SS_ERR_KEY_EXHAUSTED;
	ret = ss_session_seal(ctx, peer, s, SS_MSG_DATA, pt, len, out, out_cap, out_len);
	if (!ret && flow_out)
		*flow_out = s->flow;
	return ret;
}

void ss_peer_want_handshake(ss_peer *peer)
{
	peer->want_handshake = true;
}

void ss_peer_restart_handshake(ss_peer *peer, bool last_unsent)
{
	uint64_t sent = last_unsent ? peer->prev_hs_ns : peer->last_hs_ns;
	uint64_t at = sent ? sent + SS_RESTART_INIT_SPACING : 0;

	if (peer->hs.active) {
		/* Not sooner than at, and never later than the retry already due. */
		if (at < peer->hs.retry_ns)
			peer->hs.retry_ns = at;
		return;
	}
	if (!peer->current || !peer->current->valid)
		return;
	peer->want_handshake = true;
	peer->hs_not_before_ns = at;
}
