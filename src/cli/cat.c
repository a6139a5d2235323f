/* SPDX-License-Identifier: MIT */
/* silosec cat (secure streams): placeholder until its work item lands. */
#include <stdio.h>

#include "cli.h"

int cmd_cat(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "%s: cat: not available in this build\n", prog);
	return 1;
}
