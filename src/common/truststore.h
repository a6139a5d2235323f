/* SPDX-License-Identifier: MIT */
/*
 * Trust on first use: a known_hosts-like file mapping a peer name (the Endpoint as
 * written in the config) to the identity first seen there. Lines are
 * "NAME IDENTITY-BASE64"; '#' starts a comment. Saving is atomic (temporary file in the
 * same directory, fsync, rename) and the file is 0600.
 */
#ifndef SS_COMMON_TRUSTSTORE_H
#define SS_COMMON_TRUSTSTORE_H

#include <stddef.h>
#include <stdint.h>

#include <silosec/wire.h>

#define SS_TRUST_NAME_MAX 255

typedef struct ss_trust_entry {
	char *name;
	uint8_t identity[SS_IDENTITY_LEN];
} ss_trust_entry;

typedef struct ss_truststore {
	char *path;
	ss_trust_entry *entries;
	size_t n;
} ss_truststore;

/* A missing file is an empty store. Errors: "FILE:LINE: message" in err. */
int ss_trust_load(const char *path, ss_truststore **out, char *err, size_t errlen);
void ss_trust_free(ss_truststore *ts);
/* 0 and the identity, or SS_ERR_NOT_FOUND. */
int ss_trust_lookup(const ss_truststore *ts, const char *name, uint8_t identity[SS_IDENTITY_LEN]);
/* 0 (new or same), SS_ERR_EXISTS if name is pinned to another identity, SS_ERR_INVAL
 * for a name with whitespace or control characters. In memory only: call save. */
int ss_trust_pin(ss_truststore *ts, const char *name, const uint8_t identity[SS_IDENTITY_LEN]);
int ss_trust_forget(ss_truststore *ts, const char *name);
int ss_trust_save(const ss_truststore *ts);

#endif
