/* SPDX-License-Identifier: MIT */
/*
 * Knock evidence: what lets a process that does not hold the server's private key (the
 * knock daemon's privileged action runner) check a knock again, as the sandboxed parser
 * child saw it: the client's ephemeral key and the decrypted inner box, signature
 * included. The signature covers the server identity, the ephemeral and every inner field,
 * so a compromised parser can forward genuine knocks but cannot make one up or alter it.
 */
#ifndef SS_KNOCK_EVIDENCE_H
#define SS_KNOCK_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "knock/knock.h"
#include <silosec/wire.h>

typedef struct ss_knock_evidence {
	uint8_t eph[SS_DH_LEN];
	uint16_t ilen; /* bytes of inner */
	uint8_t inner[SS_KNOCK_INNER_MAX];
} ss_knock_evidence;

/* ss_knock_open, and on success the evidence for ss_knock_verify_evidence (else zeroed). */
int ss_knock_open_evidence(const ss_knock_server *s, const uint8_t *pkt, size_t len,
			   ss_knock_msg *msg, ss_knock_evidence *ev);
/*
 * Parse the inner box and verify the client's signature for this server identity: 0 and
 * msg filled, or SS_ERR_KNOCK_MALFORMED / SS_ERR_KNOCK_SIGNATURE (msg zeroed).
 */
int ss_knock_verify_evidence(const uint8_t server[SS_IDENTITY_LEN], const ss_knock_evidence *ev,
			     ss_knock_msg *msg);

#endif
