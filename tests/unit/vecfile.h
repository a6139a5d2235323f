/* SPDX-License-Identifier: MIT */
/*
 * Pinned vector files (tests/vectors/NAME.vec): a suite generates "key = value" lines from
 * fixed inputs and compares them with the file, so any change to the wire format shows up
 * as a diff. SS_VECTOR_DIR names the directory (tests/vectors when unset); with
 * SS_VECTOR_WRITE set the comparison rewrites the file instead. Defined in vecfile.c.
 */
#ifndef SS_TEST_VECFILE_H
#define SS_TEST_VECFILE_H

#include <stddef.h>
#include <stdint.h>

#include <silosec/identity.h>

#include "helpers.h"

#define VEC_MAX_LINES 64
#define VEC_LINE_LEN 1200
/* The longest value vec_emit takes: its hex fills VEC_LINE_LEN less the key. */
#define VEC_MAX_BYTES 512

typedef struct vec_set {
	char line[VEC_MAX_LINES][VEC_LINE_LEN];
	int n;
} vec_set;

/*
 * The identity seed and random stream of the vectors' node label ("alice", "bob"): the
 * SHA-256 of "LABEL identity", and test_rng_init of "LABEL rng".
 */
void vec_node_keys(const char *label, uint8_t seed[SS_SEED_LEN], test_rng *rng);
/* Appends "key = <hex of data>" to v. */
void vec_emit(vec_set *v, const char *key, const uint8_t *data, size_t len);
/* Appends one line, formatted. */
void vec_emitf(vec_set *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Fails the test unless the pinned file name holds exactly v's lines (comments and blank
 * lines aside); with SS_VECTOR_WRITE set, writes header and then v's lines to it.
 */
void vec_check_pinned(const vec_set *v, const char *name, const char *header);
/* Copies the value of the pinned file's last "key = value" line; fails the test if none. */
void vec_pinned_value(const char *name, const char *key, char *out, size_t cap);
/* The same value decoded from hex into out[0..max), its length in *len. */
void vec_pinned_bytes(const char *name, const char *key, uint8_t *out, size_t max, size_t *len);

#endif
