/* SPDX-License-Identifier: MIT */
/*
 * In-memory transport for the stream suites: one growable byte queue per direction,
 * read and written through ss_stream's callbacks. Defined in pipe.c.
 */
#ifndef SS_TEST_PIPE_H
#define SS_TEST_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream/stream.h" /* SS_ERR_AGAIN */

typedef struct pipe_buf {
	uint8_t *data;
	size_t len, off, cap;
	bool eof;
	/* With limited: bytes the writer may still add (0: it would block). */
	bool limited;
	size_t write_limit;
} pipe_buf;

/* One side of a connection: what it reads, where it writes. */
typedef struct pipe_end {
	pipe_buf *in, *out;
} pipe_end;

/* ss_stream read/write callbacks; arg is a pipe_end. */
int pipe_read(void *arg, uint8_t *buf, size_t len, size_t *got);
int pipe_write(void *arg, const uint8_t *buf, size_t len, size_t *put);
/* Append len bytes to p, whatever its limit. */
void pipe_put(pipe_buf *p, const uint8_t *buf, size_t len);
void pipe_reset(pipe_buf *p);

#endif
