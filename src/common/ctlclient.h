/* SPDX-License-Identifier: MIT */
/*
 * Client side of the control socket for programs other than `silosec show`: one request,
 * one answer, no printing. Used by `silosec grant/revoke` and the knock daemon's grant
 * action.
 */
#ifndef SS_COMMON_CTLCLIENT_H
#define SS_COMMON_CTLCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <silosec/wire.h>

/*
 * Send req (verb line, key=value lines, empty line) to iface's daemon and read the answer
 * into answer (NUL-terminated). 0 when the answer ends with "end"; SS_ERR_IO (connect or
 * I/O failed, errno kept), SS_ERR_BUFFER (answer too long), or SS_ERR_INVAL with the
 * daemon's "error=" message copied to err.
 */
int ss_ctl_call(const char *iface, const char *req, char *answer, size_t cap, char *err,
		size_t errlen);
/* grant: rule for seconds to identity; revoke: rule NULL means all of identity's grants. */
int ss_ctl_grant(const char *iface, const uint8_t identity[SS_IDENTITY_LEN], const char *rule,
		 uint32_t seconds, char *err, size_t errlen);
int ss_ctl_revoke(const char *iface, const uint8_t identity[SS_IDENTITY_LEN], const char *rule,
		  char *err, size_t errlen);

#endif
