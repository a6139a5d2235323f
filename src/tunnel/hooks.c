/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <silosec/error.h>

#include "hooks.h"

int ss_hook_expand(const char *cmd, const char *iface, char *out, size_t cap)
{
	size_t n = 0, ilen = strlen(iface);

	for (const char *s = cmd; *s; s++) {
		const char *piece = s;
		size_t len = 1;

		if (s[0] == '%' && s[1] == 'i') {
			piece = iface;
			len = ilen;
			s++;
		}
		if (n + len >= cap)
			return SS_ERR_BUFFER;
		memcpy(out + n, piece, len);
		n += len;
	}
	if (n >= cap)
		return SS_ERR_BUFFER;
	out[n] = '\0';
	return 0;
}
