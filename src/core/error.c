/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include <silosec/error.h>

struct err_desc {
	int code;
	const char *name;
	const char *text;
};

static const struct err_desc errors[] = {
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
	{SS_ERR_RATE_LIMIT, "SS_ERR_RATE_LIMIT", "handshakes from peer too frequent"},
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
	{SS_ERR_AGAIN, "SS_ERR_AGAIN", "operation would block"},
	{SS_ERR_PEER_SLOW, "SS_ERR_PEER_SLOW", "timed out waiting for the peer"},
	{SS_ERR_TRUNCATED, "SS_ERR_TRUNCATED", "stream ended without an authenticated close"},
	{SS_ERR_CLOSED, "SS_ERR_CLOSED", "stream closed"},
	{SS_ERR_CAP_DENIED, "SS_ERR_CAP_DENIED", "peer not allowed to reach this destination"},
	{SS_ERR_CT_FULL, "SS_ERR_CT_FULL", "peer's connection-tracking budget used up"},
	{SS_ERR_GRANT_LIMIT, "SS_ERR_GRANT_LIMIT", "grant refused: too long or too many grants"},
	{SS_ERR_SANDBOX, "SS_ERR_SANDBOX", "sandbox set-up failed or forbidden system call"},
};

static const struct err_desc *find(int code)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == code)
			return &errors[i];
	return NULL;
}

int ss_drop_index(int code)
{
	if (code > SS_DROP_FIRST || code < SS_DROP_LAST)
		return -1;
	return SS_DROP_FIRST - code;
}

const char *ss_err_name(int code)
{
	const struct err_desc *d = find(code);

	return d ? d->name : "SS_ERR_UNKNOWN";
}

const char *ss_strerror(int code)
{
	const struct err_desc *d = find(code);

	return d ? d->text : "unknown error";
}
