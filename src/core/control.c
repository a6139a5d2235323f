/* SPDX-License-Identifier: MIT */
/*
 * The echoed-counter control message (invariant 7): each side periodically tells the
 * other, under the session key, how far it has received. A claim the other side can
 * prove false (a counter it never sent, or state going backwards) means the two
 * ends no longer share one session state, and the session is torn down.
 */
#include <string.h>

#include <silosec/core.h>

#include "common/endian.h"
#include "internal.h"

int ss_control_handle(ss_ctx *ctx, ss_peer *peer, ss_session *s, const uint8_t *pt, size_t len,
		      uint64_t counter)
{
	uint64_t rx_next, rx_packets;

	(void)ctx;
	(void)peer;
	if (len == SS_REACH_LEN) {
		ss_reach_msg m;

		/* Checked here, before the commit; the caller acts on it (PROTOCOL.md 16). */
		return ss_reach_decode(pt, len, &m);
	}
	if (len != SS_CTL_LEN || pt[SS_CTL_OFF_TYPE] != SS_CTL_ECHO)
		return SS_ERR_MALFORMED;
	for (int i = 1; i < SS_CTL_OFF_RX_NEXT; i++)
		if (pt[i])
			return SS_ERR_MALFORMED;
	rx_next = ss_load_be64(pt + SS_CTL_OFF_RX_NEXT);
	rx_packets = ss_load_be64(pt + SS_CTL_OFF_RX_PACKETS);
	/* Echoes can be reordered; only a newer echo is compared against the last one. */
	if (s->echo_seen && counter < s->echo_counter)
		return 0;
	if (rx_next > s->tx_next || rx_packets > s->tx_next || rx_packets > rx_next)
		return SS_ERR_DIVERGENCE;
	if (s->echo_seen && (rx_next < s->echo_rx_next || rx_packets < s->echo_rx_packets))
		return SS_ERR_DIVERGENCE;
	s->echo_seen = true;
	s->echo_counter = counter;
	s->echo_rx_next = rx_next;
	s->echo_rx_packets = rx_packets;
	return 0;
}

/* Only DATA makes an echo due: echoes answering echoes would never stop. */
bool ss_control_echo_due(const ss_session *s, uint64_t now_ns)
{
	return s->echo_pending &&
	       (s->echo_sent_ns == 0 || now_ns - s->echo_sent_ns >= SS_ECHO_INTERVAL);
}

uint64_t ss_control_echo_deadline(const ss_session *s)
{
	if (!s->echo_pending)
		return UINT64_MAX;
	return s->echo_sent_ns == 0 ? 0 : s->echo_sent_ns + SS_ECHO_INTERVAL;
}

int ss_control_create_echo(ss_ctx *ctx, ss_peer *peer, ss_session *s, uint8_t *out, size_t out_cap,
			   size_t *out_len)
{
	uint8_t pt[SS_CTL_LEN] = {SS_CTL_ECHO};
	ss_time now;
	int ret;

	ss_store_be64(pt + SS_CTL_OFF_RX_NEXT, s->rx_window.next);
	ss_store_be64(pt + SS_CTL_OFF_RX_PACKETS, s->rx_packets);
	ret = ss_session_seal(ctx, peer, s, SS_MSG_CONTROL, pt, sizeof(pt), out, out_cap, out_len);
	if (ret)
		return ret;
	ss_now(ctx, &now);
	s->echo_sent_ns = now.mono_ns ? now.mono_ns : 1;
	s->echo_pending = false;
	return 0;
}
