/* SPDX-License-Identifier: MIT */
#include "pipe.h"

#include <stdlib.h>
#include <string.h>

#include "helpers.h"

int pipe_read(void *arg, uint8_t *buf, size_t len, size_t *got)
{
	pipe_buf *p = ((pipe_end *)arg)->in;
	size_t n = p->len - p->off;

	*got = 0;
	if (!n)
		return p->eof ? 0 : SS_ERR_AGAIN;
	n = n < len ? n : len;
	memcpy(buf, p->data + p->off, n);
	p->off += n;
	*got = n;
	return 0;
}

void pipe_put(pipe_buf *p, const uint8_t *buf, size_t len)
{
	if (p->len + len > p->cap) {
		p->cap = (p->len + len) * 2 + 64;
		p->data = realloc(p->data, p->cap);
		assert_non_null(p->data);
	}
	if (len)
		memcpy(p->data + p->len, buf, len);
	p->len += len;
}

int pipe_write(void *arg, const uint8_t *buf, size_t len, size_t *put)
{
	pipe_buf *p = ((pipe_end *)arg)->out;
	size_t n = p->limited && p->write_limit < len ? p->write_limit : len;

	*put = 0;
	if (p->limited && !n)
		return SS_ERR_AGAIN;
	pipe_put(p, buf, n);
	if (p->limited)
		p->write_limit -= n;
	*put = n;
	return 0;
}

void pipe_reset(pipe_buf *p)
{
	p->len = p->off = 0;
	p->eof = false;
}
