/* SPDX-License-Identifier: MIT */
/*
 * The knock's codes (knock.h) by name, for ss_err_name and ss_strerror. Registered when
 * the layer is linked in: its meson dependency links this file whole, so no program has
 * to remember to.
 */
#include "knock.h"

#include "common/errname.h"

static const ss_err_desc names[] = {
	{SS_ERR_KNOCK_SIZE, "SS_ERR_KNOCK_SIZE", "knock: datagram size out of range"},
	{SS_ERR_KNOCK_MALFORMED, "SS_ERR_KNOCK_MALFORMED", "knock: malformed packet"},
	{SS_ERR_KNOCK_RATE, "SS_ERR_KNOCK_RATE", "knock: source over its rate limit"},
	{SS_ERR_KNOCK_MAC, "SS_ERR_KNOCK_MAC", "knock: outer MAC invalid (junk or another server)"},
	{SS_ERR_KNOCK_DECRYPT, "SS_ERR_KNOCK_DECRYPT", "knock: decryption failed"},
	{SS_ERR_KNOCK_SIGNATURE, "SS_ERR_KNOCK_SIGNATURE", "knock: client signature invalid"},
	{SS_ERR_KNOCK_UNKNOWN_ID, "SS_ERR_KNOCK_UNKNOWN_ID", "knock: unknown client identity"},
	{SS_ERR_KNOCK_TIME, "SS_ERR_KNOCK_TIME", "knock: timestamp outside the window"},
	{SS_ERR_KNOCK_REPLAY, "SS_ERR_KNOCK_REPLAY", "knock: replayed challenge"},
	{SS_ERR_KNOCK_REPLAY_FULL, "SS_ERR_KNOCK_REPLAY_FULL", "knock: replay cache full"},
	{SS_ERR_KNOCK_ACTION, "SS_ERR_KNOCK_ACTION", "knock: action not allowed for identity"},
	{SS_ERR_KNOCK_PAYLOAD, "SS_ERR_KNOCK_PAYLOAD", "knock: payload refused by the action"},
	{SS_ERR_KNOCK_SOURCE, "SS_ERR_KNOCK_SOURCE",
	 "knock: source address differs from the signed one (or any not allowed)"},
	{SS_ERR_KNOCK_CLOCK, "SS_ERR_KNOCK_CLOCK",
	 "knock: our wall clock is behind the newest accepted knock by more than the window"},
	{SS_ERR_KNOCK_BUSY, "SS_ERR_KNOCK_BUSY",
	 "knock: over the daemon-wide budget of public-key work (a flood)"},
};

__attribute__((constructor)) static void register_names(void)
{
	ss_err_register(names, sizeof(names) / sizeof(names[0]));
}
