/* SPDX-License-Identifier: MIT */
/*
 * The sandbox's code (sandbox.h) by name, for ss_err_name and ss_strerror. Registered when
 * the layer is linked in: its meson dependency links this file whole, so no program has
 * to remember to.
 */
#include "sandbox.h"

#include "common/errname.h"

static const ss_err_desc names[] = {
	{SS_ERR_SANDBOX, "SS_ERR_SANDBOX", "sandbox set-up failed or forbidden system call"},
};

__attribute__((constructor)) static void register_names(void)
{
	ss_err_register(names, sizeof(names) / sizeof(names[0]));
}
