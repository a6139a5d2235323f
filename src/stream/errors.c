/* SPDX-License-Identifier: MIT */
/*
 * The stream's codes (stream.h) by name, for ss_err_name and ss_strerror. Registered when
 * the layer is linked in: its meson dependency links this file whole, so no program has
 * to remember to.
 */
#include "stream.h"

#include "common/errname.h"

static const ss_err_desc names[] = {
	{SS_ERR_AGAIN, "SS_ERR_AGAIN", "operation would block"},
	{SS_ERR_PEER_SLOW, "SS_ERR_PEER_SLOW", "timed out waiting for the peer"},
	{SS_ERR_TRUNCATED, "SS_ERR_TRUNCATED", "stream ended without an authenticated close"},
	{SS_ERR_CLOSED, "SS_ERR_CLOSED", "stream closed"},
};

__attribute__((constructor)) static void register_names(void)
{
	ss_err_register(names, sizeof(names) / sizeof(names[0]));
}
