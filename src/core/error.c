/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include <silosec/error.h>

#include "common/errname.h"

/* The core's codes; the layers above register theirs (common/errname.h). */
static const ss_err_desc errors[] = {
	{SS_OK, "SS_OK", "success"},
	{SS_ERR_INVAL, "SS_ERR_INVAL", "invalid argument"},
	{SS_ERR_NOMEM, "SS_ERR_NOMEM", "out of memory"},
	{SS_ERR_CRYPTO, "SS_ERR_CRYPTO", "crypto library failure"},
	{SS_ERR_IO, "SS_ERR_IO", "input/output error"},
	{SS_ERR_PERM, "SS_ERR_PERM", "key file is accessible by group or others (chmod 600)"},
	{SS_ERR_FORMAT, "SS_ERR_FORMAT", "malformed key or file contents"},
	{SS_ERR_BUFFER, "SS_ERR_BUFFER", "output buffer too small"},
	{SS_ERR_NO_SESSION, "SS_ERR_NO_SESSION", "no session with peer: handshake needed"},
	{SS_ERR_EXISTS, "SS_ERR_EXISTS", "already exists"},
	{SS_ERR_NOT_FOUND, "SS_ERR_NOT_FOUND", "not found"},
	{SS_ERR_FULL, "SS_ERR_FULL", "table full"},
	{SS_ERR_BAD_KEY, "SS_ERR_BAD_KEY",
	 "public key refused: small-order or non-canonical Ed25519 point"},
	{SS_ERR_MALFORMED, "SS_ERR_MALFORMED", "malformed packet"},
	{SS_ERR_MAC1, "SS_ERR_MAC1", "handshake mac1 invalid"},
	{SS_ERR_COOKIE, "SS_ERR_COOKIE", "under load: cookie required"},
	{SS_ERR_UNKNOWN_INDEX, "SS_ERR_UNKNOWN_INDEX", "unknown receiver index"},
	{SS_ERR_UNKNOWN_PEER, "SS_ERR_UNKNOWN_PEER", "handshake from unknown identity"},
	{SS_ERR_STALE, "SS_ERR_STALE", "handshake timestamp not newer (replay)"},
	{SS_ERR_RATE_LIMIT, "SS_ERR_RATE_LIMIT", "handshakes from peer or source too frequent"},
	{SS_ERR_SIGNATURE, "SS_ERR_SIGNATURE", "handshake signature invalid"},
	{SS_ERR_IDENTITY, "SS_ERR_IDENTITY", "peer identity differs from the expected one"},
	{SS_ERR_CONFIRM, "SS_ERR_CONFIRM", "key confirmation failed"},
	{SS_ERR_DECRYPT, "SS_ERR_DECRYPT", "packet authentication failed"},
	{SS_ERR_REPLAY, "SS_ERR_REPLAY", "replayed packet"},
	{SS_ERR_TOO_OLD, "SS_ERR_TOO_OLD", "packet counter left of replay window"},
	{SS_ERR_EXPIRED, "SS_ERR_EXPIRED", "session expired or superseded"},
	{SS_ERR_FLOW, "SS_ERR_FLOW", "packet on another flow than its session"},
	{SS_ERR_DIVERGENCE, "SS_ERR_DIVERGENCE", "echoed counter state diverged"},
	{SS_ERR_REFLECTION, "SS_ERR_REFLECTION", "own handshake reflected back"},
	{SS_ERR_UNEXPECTED, "SS_ERR_UNEXPECTED", "no handshake waiting for this message"},
	{SS_ERR_KEY_EXHAUSTED, "SS_ERR_KEY_EXHAUSTED", "session message limit reached"},
	{SS_ERR_REACH_DENIED, "SS_ERR_REACH_DENIED", "introduction or relay not allowed for peer"},
	{SS_ERR_REACH_RATE, "SS_ERR_REACH_RATE", "reachability messages too frequent"},
	{SS_ERR_CANDIDATE, "SS_ERR_CANDIDATE", "candidate endpoint refused by the allow list"},
	{SS_ERR_LAN_SPOOF, "SS_ERR_LAN_SPOOF", "LAN announcement not recognised, stale or forged"},
	{SS_ERR_RELAY, "SS_ERR_RELAY", "relayed datagram refused"},
};

static const ss_err_desc *find(int code)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == code)
			return &errors[i];
	return ss_err_find(code);
}

int ss_drop_index(int code)
{
	if (code > SS_DROP_FIRST || code < SS_DROP_LAST)
		return -1;
	return SS_DROP_FIRST - code;
}

const char *ss_err_name(int code)
{
	const ss_err_desc *d = find(code);

	return d ? d->name : "SS_ERR_UNKNOWN";
}

const char *ss_strerror(int code)
{
	const ss_err_desc *d = find(code);

	return d ? d->text : "unknown error";
}
