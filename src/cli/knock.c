/* SPDX-License-Identifier: MIT */
/* silosec knock (single-packet authorization): placeholder until its work item lands. */
#include <stdio.h>

#include "cli.h"

int cmd_knock(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "%s: knock: not available in this build\n", prog);
	return 1;
}
