/* SPDX-License-Identifier: MIT */
/*
 * The tunnel's isolation codes (isolation.h) by name, for ss_err_name and ss_strerror. Registered
 * when the layer is linked in: its meson dependency links this file whole, so no program has to
 * remember to.
 */
#include "isolation.h"

#include "common/errname.h"

static const ss_err_desc names[] = {
	{SS_ERR_CAP_DENIED, "SS_ERR_CAP_DENIED", "peer not allowed to reach this destination"},
	{SS_ERR_CT_FULL, "SS_ERR_CT_FULL", "peer's connection-tracking budget used up"},
	{SS_ERR_GRANT_LIMIT, "SS_ERR_GRANT_LIMIT", "grant refused: too long or too many grants"},
};

__attribute__((constructor)) static void register_names(void)
{
	ss_err_register(names, sizeof(names) / sizeof(names[0]));
}
