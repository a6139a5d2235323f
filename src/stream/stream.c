/* SPDX-License-Identifier: MIT */
/*
 * Secure streams: frames, keys, buffering and the seed-002 receive semantics
 * (docs/PROTOCOL.md section 13). A frame is
 *
 *   Seal(k, nonce(0, seq), "", header) || Seal(k, nonce(1, seq), header, payload)
 *
 * with the 16-byte header (length, code, seq, flags) sealed on its own so the receiver
 * learns the length first. seq is implicit in the nonce: a reordered, dropped, duplicated
 * or spliced frame fails to open. Nothing here allocates after ss_stream_new_*.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/endian.h"
#include "stream_internal.h"

/* Read-ahead beyond one frame: fewer system calls for small frames. */
#define READ_AHEAD (64 * 1024)

static uint64_t now_ms(void)
{
	return ss_mono_ns() / 1000000;
}

/* Absolute deadline in ms for one API call; UINT64_MAX = none. */
static uint64_t deadline_of(const ss_stream *s)
{
	return s->timeout_ms < 0 ? UINT64_MAX : now_ms() + (uint64_t)s->timeout_ms;
}

static int fail(ss_stream *s, int err)
{
	if (!s->dead) {
		s->dead = err;
		/* The stream is over: its keys go now, not when the caller frees it. */
		ss_wipe(s->tx_key, sizeof(s->tx_key));
		ss_wipe(s->rx_key, sizeof(s->rx_key));
		if (s->tx.c)
			EVP_CIPHER_CTX_reset(s->tx.c);
		if (s->rx.c)
			EVP_CIPHER_CTX_reset(s->rx.c);
		/* A handshake that failed half-way must not keep its ephemeral key either. */
		EVP_PKEY_free(s->eph);
		s->eph = NULL;
	}
	return err;
}

static bool is_fatal(int err)
{
	return err && err != SS_ERR_AGAIN && err != SS_ERR_PEER_SLOW && err != SS_ERR_BUFFER;
}

/* ---- transport ---- */

/* Wait for the fd until the deadline: 0, or SS_ERR_PEER_SLOW. */
static int wait_fd(ss_stream *s, short events, uint64_t deadline)
{
	struct pollfd p = {.fd = s->fd, .events = events};

	if (s->nonblock || deadline == UINT64_MAX)
		return 0;
	for (;;) {
		uint64_t now = now_ms();
		int n;

		if (now >= deadline)
			return SS_ERR_PEER_SLOW;
		n = poll(&p, 1, (int)(deadline - now > INT32_MAX ? INT32_MAX : deadline - now));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return SS_ERR_IO;
	}
}

static int io_read(ss_stream *s, uint8_t *buf, size_t len, size_t *got, uint64_t deadline)
{
	ssize_t n;
	int ret;

	*got = 0;
	if (s->rd)
		return s->rd(s->arg, buf, len, got);
	ret = wait_fd(s, POLLIN, deadline);
	if (ret)
		return ret;
	do
		n = read(s->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? SS_ERR_AGAIN : SS_ERR_IO;
	*got = (size_t)n;
	return 0;
}

static int io_write(ss_stream *s, const uint8_t *buf, size_t len, size_t *put, uint64_t deadline)
{
	ssize_t n;
	int ret;

	*put = 0;
	if (s->wr)
		return s->wr(s->arg, buf, len, put);
	ret = wait_fd(s, POLLOUT, deadline);
	if (ret)
		return ret;
	do
		/* A peer that went away must give an error, not SIGPIPE the process. */
		n = s->is_socket ? send(s->fd, buf, len, MSG_NOSIGNAL) : write(s->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? SS_ERR_AGAIN : SS_ERR_IO;
	*put = (size_t)n;
	return 0;
}

static int flush_out(ss_stream *s, uint64_t deadline)
{
	while (s->out_off < s->out_len) {
		size_t put;
		int ret = io_write(s, s->out + s->out_off, s->out_len - s->out_off, &put, deadline);

		if (ret)
			return ret;
		if (!put)
			return SS_ERR_IO;
		s->out_off += put;
		s->stats.wire_sent += put;
	}
	s->out_off = s->out_len = 0;
	return 0;
}

/*
 * Make need bytes available at in + in_off. Returns 0, SS_ERR_AGAIN, SS_ERR_PEER_SLOW,
 * SS_ERR_IO, or SS_ERR_TRUNCATED when the transport ends first. With nowait, only
 * bytes already buffered count (SS_ERR_AGAIN otherwise).
 */
static int fill(ss_stream *s, size_t need, uint64_t deadline, bool nowait)
{
	while (s->in_len < need) {
		size_t got;
		int ret;

		if (nowait)
			return SS_ERR_AGAIN;
		if (s->in_off + need > s->in_cap) {
			memmove(s->in, s->in + s->in_off, s->in_len);
			s->in_off = 0;
		}
		ret = io_read(s, s->in + s->in_off + s->in_len, s->in_cap - s->in_off - s->in_len,
			      &got, deadline);
		if (ret)
			return ret;
		if (!got)
			return SS_ERR_TRUNCATED;
		s->in_len += got;
		s->stats.wire_received += got;
	}
	return 0;
}

static void consume(ss_stream *s, size_t n)
{
	s->in_off += n;
	s->in_len -= n;
	if (!s->in_len)
		s->in_off = 0;
}

/* ---- keys and frames ---- */

static void make_nonce(uint8_t nonce[SS_NONCE_LEN], uint8_t part, uint64_t seq)
{
	nonce[0] = part;
	nonce[1] = nonce[2] = nonce[3] = 0;
	ss_store_be64(nonce + 4, seq);
}

int ss_stream_set_keys(ss_stream *s, const uint8_t k_send[SS_KEY_LEN],
		       const uint8_t k_recv[SS_KEY_LEN])
{
	int ret = ss_aead_setkeys(&s->tx, &s->rx, k_send, k_recv);

	if (ret)
		return ret;
	memcpy(s->tx_key, k_send, SS_KEY_LEN);
	memcpy(s->rx_key, k_recv, SS_KEY_LEN);
	s->tx_seq = s->rx_seq = 1;
	s->tx_bytes = s->rx_bytes = 0;
	return 0;
}

/* k' = HKDF-Expand(k, LABEL_KEY_UPDATE, 32); the old key is wiped (forward secrecy). */
static int key_update(ss_aead *a, uint8_t key[SS_KEY_LEN], int enc)
{
	static const char label[] = SS_STREAM_LABEL_KEY_UPDATE;
	uint8_t next[SS_KEY_LEN];
	int ret;

	ret = ss_hkdf_expand(next, sizeof(next), key, (const uint8_t *)label, sizeof(label) - 1);
	if (!ret)
		ret = ss_aead_setkey(a, next, enc);
	if (!ret)
		memcpy(key, next, SS_KEY_LEN);
	ss_wipe(next, sizeof(next));
	return ret;
}

/* Seal one frame at the end of the output buffer (room checked by the caller). */
static int seal_one(ss_stream *s, uint32_t code, uint32_t flags, const uint8_t *pt, uint32_t len)
{
	uint8_t hdr[SS_STREAM_HDR_LEN], nonce[SS_NONCE_LEN];
	uint8_t *o = s->out + s->out_len;
	int ret;

	if (s->tx_seq >= SS_STREAM_SEQ_LIMIT)
		return SS_ERR_KEY_EXHAUSTED; /* unreachable: key updates come first */
	ss_store_be32(hdr, len);
	ss_store_be32(hdr + 4, code);
	ss_store_be32(hdr + 8, (uint32_t)s->tx_seq);
	ss_store_be32(hdr + 12, flags);
	make_nonce(nonce, 0, s->tx_seq);
	ret = ss_aead_seal(&s->tx, nonce, NULL, 0, hdr, sizeof(hdr), o);
	if (ret)
		return ret;
	make_nonce(nonce, 1, s->tx_seq);
	ret = ss_aead_seal(&s->tx, nonce, hdr, sizeof(hdr), pt, len, o + SS_STREAM_SEALED_HDR_LEN);
	if (ret)
		return ret;
	/* The sequence number is spent even if the frame is never written. */
	s->tx_seq++;
	s->tx_bytes += len;
	s->out_len += SS_STREAM_OVERHEAD + (size_t)len;
	s->stats.frames_sent++;
	s->stats.bytes_sent += len;
	return 0;
}

/*
 * Seal a frame, preceded by a key update when this key has carried its share: the
 * KEY_UPDATE frame is the last under the old key, the next starts again at seq 1.
 */
static int seal_frame(ss_stream *s, uint32_t code, uint32_t flags, const uint8_t *pt, uint32_t len)
{
	int ret;

	if (s->tx_seq >= s->rekey_frames || s->tx_bytes >= SS_STREAM_REKEY_BYTES) {
		ret = seal_one(s, 0, SS_STREAM_F_KEY_UPDATE, NULL, 0);
		if (!ret)
			ret = key_update(&s->tx, s->tx_key, 1);
		if (ret)
			return ret;
		s->tx_seq = 1;
		s->tx_bytes = 0;
		s->stats.tx_epoch++;
	}
	return seal_one(s, code, flags, pt, len);
}

/* Open the next frame's header (once; kept across calls that time out mid-frame). */
static int open_header(ss_stream *s, uint64_t deadline, bool nowait)
{
	uint8_t nonce[SS_NONCE_LEN];
	uint32_t seq, flags, ctl;
	int ret;

	if (s->rx_hdr)
		return 0;
	ret = fill(s, SS_STREAM_SEALED_HDR_LEN, deadline, nowait);
	if (ret)
		return ret;
	make_nonce(nonce, 0, s->rx_seq);
	ret = ss_aead_open(&s->rx, nonce, NULL, 0, s->in + s->in_off, SS_STREAM_HDR_LEN,
			   s->rx_hdr_pt);
	if (ret)
		return ret;
	s->rx_len = ss_load_be32(s->rx_hdr_pt);
	s->rx_fcode = ss_load_be32(s->rx_hdr_pt + 4);
	seq = ss_load_be32(s->rx_hdr_pt + 8);
	flags = ss_load_be32(s->rx_hdr_pt + 12);
	ctl = flags & (SS_STREAM_F_CLOSE | SS_STREAM_F_KEY_UPDATE | SS_STREAM_F_CONFIRM);
	/* Authentic but wrong: a broken or hostile peer, and the stream dies all the same. */
	if (seq != (uint32_t)s->rx_seq || (flags & ~SS_STREAM_F_ALL) ||
	    s->rx_len > s->max_recv_frame)
		return SS_ERR_MALFORMED;
	if (ctl && (s->rx_len || s->rx_fcode || flags != ctl || (ctl & (ctl - 1))))
		return SS_ERR_MALFORMED; /* one control flag alone, on an empty frame */
	if (ctl == SS_STREAM_F_CONFIRM ? s->state != ST_WAIT_CONFIRM : s->state == ST_WAIT_CONFIRM)
		return SS_ERR_MALFORMED; /* confirm is the initiator's first frame, and only that */
	if (s->rx_mid && (ctl == SS_STREAM_F_CLOSE || (!ctl && s->rx_fcode != s->rx_code)))
		return SS_ERR_MALFORMED; /* a message is not closed or re-coded halfway */
	if (!(flags & SS_STREAM_F_KEY_UPDATE) &&
	    (s->rx_seq >= SS_STREAM_REKEY_FRAMES || s->rx_bytes >= SS_STREAM_REKEY_BYTES))
		return SS_ERR_MALFORMED; /* the peer skipped its key update */
	s->rx_flags = flags;
	s->rx_hdr = true;
	consume(s, SS_STREAM_SEALED_HDR_LEN);
	return 0;
}

/* Open the pending frame's payload into dst (len bytes; dst unused when empty). */
static int open_payload(ss_stream *s, uint8_t *dst, uint64_t deadline, bool nowait)
{
	uint8_t nonce[SS_NONCE_LEN], empty[1];
	int ret;

	ret = fill(s, (size_t)s->rx_len + SS_TAG_LEN, deadline, nowait);
	if (ret)
		return ret;
	make_nonce(nonce, 1, s->rx_seq);
	ret = ss_aead_open(&s->rx, nonce, s->rx_hdr_pt, SS_STREAM_HDR_LEN, s->in + s->in_off,
			   s->rx_len, s->rx_len ? dst : empty);
	if (ret)
		return ret;
	consume(s, (size_t)s->rx_len + SS_TAG_LEN);
	s->rx_hdr = false;
	s->rx_seq++;
	s->rx_bytes += s->rx_len;
	s->stats.frames_received++;
	s->stats.bytes_received += s->rx_len;
	if (s->rx_flags & SS_STREAM_F_KEY_UPDATE) {
		ret = key_update(&s->rx, s->rx_key, 0);
		if (ret)
			return ret;
		s->rx_seq = 1;
		s->rx_bytes = 0;
		s->stats.rx_epoch++;
	}
	return 0;
}

/* ---- handshake driver: resumable after SS_ERR_AGAIN or SS_ERR_PEER_SLOW ---- */

static int handshake_step(ss_stream *s, uint64_t deadline)
{
	int ret;

	for (;;) {
		switch (s->state) {
		case ST_START:
			if (!s->initiator) {
				s->state = ST_WAIT_INIT;
				break;
			}
			ret = ss_stream_hs_init(s, s->out);
			if (ret)
				return ret;
			s->out_off = 0;
			s->out_len = SS_INIT_LEN;
			s->state = ST_SEND_INIT;
			break;
		case ST_SEND_INIT:
			ret = flush_out(s, deadline);
			if (ret)
				return ret;
			s->state = ST_WAIT_RESP;
			break;
		case ST_WAIT_RESP:
			ret = fill(s, SS_RESP_LEN, deadline, false);
			if (ret)
				return ret;
			ret = ss_stream_hs_finish(s, s->in + s->in_off);
			if (ret)
				return ret;
			consume(s, SS_RESP_LEN);
			/* Key confirmation for the responder: the first frame, always empty. */
			s->state = ST_OPEN;
			ret = seal_frame(s, 0, SS_STREAM_F_CONFIRM, NULL, 0);
			if (ret)
				return ret;
			/* Queued; it goes out with the next write, or now when blocking. */
			ret = flush_out(s, deadline);
			return ret == SS_ERR_AGAIN ? 0 : ret;
		case ST_WAIT_INIT:
			ret = fill(s, SS_INIT_LEN, deadline, false);
			if (ret)
				return ret;
			ret = ss_stream_hs_respond(s, s->in + s->in_off, s->out);
			if (ret)
				return ret;
			consume(s, SS_INIT_LEN);
			s->out_off = 0;
			s->out_len = SS_RESP_LEN;
			s->state = ST_WAIT_CONFIRM;
			break;
		case ST_WAIT_CONFIRM:
			ret = flush_out(s, deadline);
			if (!ret)
				ret = open_header(s, deadline, false);
			if (!ret)
				ret = open_payload(s, NULL, deadline, false);
			/* The initiator holds the keys: now its identity counts, and may be pinned.
			 */
			if (!ret)
				ret = ss_stream_check_peer(s, s->peer_id, true);
			if (ret)
				return ret;
			s->have_peer = true;
			s->state = ST_OPEN;
			return 0;
		case ST_OPEN:
			return 0;
		}
	}
}

static int ensure_open(ss_stream *s, uint64_t deadline)
{
	int ret;

	if (s->dead)
		return s->dead;
	if (s->state == ST_OPEN)
		return 0;
	/* Any handshake failure, a cut connection included, is final. */
	ret = handshake_step(s, deadline);
	return is_fatal(ret) ? fail(s, ret) : ret;
}

int ss_stream_handshake(ss_stream *s)
{
	if (!s)
		return SS_ERR_INVAL;
	return ensure_open(s, deadline_of(s));
}

const uint8_t *ss_stream_peer_identity(const ss_stream *s)
{
	return s && s->have_peer ? s->peer_id : NULL;
}

bool ss_stream_peer_learned(const ss_stream *s)
{
	return s && s->learned;
}

/* ---- sending ---- */

int ss_stream_flush(ss_stream *s)
{
	int ret;

	if (!s)
		return SS_ERR_INVAL;
	if (s->dead)
		return s->dead;
	ret = flush_out(s, deadline_of(s));
	return is_fatal(ret) ? fail(s, ret) : ret;
}

bool ss_stream_want_write(const ss_stream *s)
{
	return s && s->out_off < s->out_len;
}

int ss_stream_send(ss_stream *s, uint32_t code, const void *buf, size_t len, size_t *sent)
{
	const uint8_t *p = buf;
	uint64_t deadline;
	size_t off = 0;
	int ret;

	if (sent)
		*sent = 0;
	if (!s || (!buf && len))
		return SS_ERR_INVAL;
	deadline = deadline_of(s);
	ret = ensure_open(s, deadline);
	if (ret)
		return ret;
	if (s->tx_closed)
		return SS_ERR_CLOSED;
	if (s->tx_mid && code != s->tx_code)
		return SS_ERR_INVAL; /* finish the interrupted message first */
	/* Room for one frame, plus a key update before it, is guaranteed only when empty. */
	ret = flush_out(s, deadline);
	if (ret)
		return is_fatal(ret) ? fail(s, ret) : ret;
	do {
		uint32_t n = len - off > s->max_frame ? s->max_frame : (uint32_t)(len - off);
		bool more = off + n < len;

		ret = seal_frame(s, code, more ? SS_STREAM_F_MORE : 0, p + off, n);
		if (ret)
			return fail(s, ret);
		off += n;
		s->tx_mid = more;
		s->tx_code = code;
		if (sent)
			*sent = off;
		ret = flush_out(s, deadline);
		if (ret)
			return is_fatal(ret) ? fail(s, ret) : ret;
	} while (off < len);
	return 0;
}

int ss_stream_close(ss_stream *s)
{
	uint64_t deadline;
	int ret;

	if (!s)
		return SS_ERR_INVAL;
	deadline = deadline_of(s);
	ret = ensure_open(s, deadline);
	if (ret)
		return ret;
	if (s->tx_mid)
		return SS_ERR_INVAL;
	if (!s->tx_closed) {
		/* Queued behind any pending frame: the buffer always has room for both. */
		ret = seal_frame(s, 0, SS_STREAM_F_CLOSE, NULL, 0);
		if (ret)
			return fail(s, ret);
		s->tx_closed = true;
	}
	ret = flush_out(s, deadline);
	return is_fatal(ret) ? fail(s, ret) : ret;
}

/* ---- receiving ---- */

int ss_stream_recv(ss_stream *s, void *buf, size_t cap, size_t *got, ss_stream_info *info,
		   unsigned flags)
{
	ss_stream_info dummy;
	uint8_t *dst = buf;
	uint64_t deadline;
	bool nowait = false;
	int ret;

	if (got)
		*got = 0;
	if (!info)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	if (!s || !got || (!buf && cap))
		return SS_ERR_INVAL;
	deadline = deadline_of(s);
	ret = ensure_open(s, deadline);
	if (ret)
		return ret;
	/* Pending output (a confirm frame, the rest of a message) must not wait for us. */
	if (s->out_len) {
		ret = flush_out(s, deadline);
		if (is_fatal(ret))
			return fail(s, ret);
	}
	info->code = s->rx_code;
	for (;;) {
		if (s->rx_closed) {
			info->eof = *got == 0;
			return 0;
		}
		ret = open_header(s, deadline, nowait);
		if (!ret && !(s->rx_flags & ~SS_STREAM_F_MORE) && s->rx_len > cap - *got) {
			if (*got)
				return 0; /* ends on the last whole frame that fits */
			info->need = s->rx_len;
			return SS_ERR_BUFFER;
		}
		if (!ret)
			ret = open_payload(s, dst + *got, deadline, nowait);
		if (ret) {
			/* Without RECV_ALL, after a frame, we only took what was already here. */
			if (nowait && ret == SS_ERR_AGAIN)
				return 0;
			/* A clean EOF between frames is still a truncation: no close was seen. */
			return is_fatal(ret) ? fail(s, ret) : ret;
		}
		if (s->rx_flags & SS_STREAM_F_CLOSE) {
			s->rx_closed = true;
			continue;
		}
		if (s->rx_flags & SS_STREAM_F_KEY_UPDATE)
			continue;
		if (!s->rx_mid) {
			s->rx_code = s->rx_fcode;
			info->code = s->rx_fcode;
		}
		*got += s->rx_len;
		s->rx_mid = s->rx_flags & SS_STREAM_F_MORE;
		if (!s->rx_mid) {
			info->end = true;
			return 0;
		}
		if (!(flags & SS_STREAM_RECV_ALL))
			nowait = true;
	}
}

/* ---- lifetime ---- */

static int stream_new(ss_stream **out, const ss_stream_config *cfg)
{
	uint32_t rf = cfg->max_recv_frame ? cfg->max_recv_frame : SS_STREAM_DEFAULT_RECV_FRAME;
	uint32_t sf = cfg->max_frame ? cfg->max_frame : SS_STREAM_DEFAULT_FRAME;
	ss_stream *s;
	int ret = SS_ERR_NOMEM;

	if (!out || !cfg || !cfg->identity || sf > SS_STREAM_MAX_FRAME || rf > SS_STREAM_MAX_FRAME)
		return SS_ERR_INVAL;
	if ((cfg->npeers && !cfg->peers) || (cfg->known_hosts && !cfg->peer_name) ||
	    (!cfg->npeers && !cfg->known_hosts && !cfg->accept_any))
		return SS_ERR_INVAL; /* no peer policy: refuse rather than talk to anyone */
	if (cfg->rekey_frames == 1 || cfg->rekey_frames > SS_STREAM_REKEY_FRAMES)
		return SS_ERR_INVAL;
	for (size_t i = 0; i < cfg->npeers; i++)
		if (ss_identity_check_pub(cfg->peers[i]))
			return SS_ERR_BAD_KEY; /* anyone could sign as it */
	s = calloc(1, sizeof(*s));
	if (!s)
		return SS_ERR_NOMEM;
	s->fd = -1;
	s->id = cfg->identity;
	s->initiator = cfg->initiator;
	s->accept_any = cfg->accept_any;
	s->max_frame = sf;
	s->max_recv_frame = rf;
	s->rekey_frames = cfg->rekey_frames ? cfg->rekey_frames : SS_STREAM_REKEY_FRAMES;
	s->timeout_ms = cfg->timeout_ms;
	s->timestamp_ns = cfg->timestamp_ns;
	s->random = cfg->random ? cfg->random : ss_random_system;
	s->random_arg = cfg->random_arg;
	if (cfg->npeers) {
		s->peers = calloc(cfg->npeers, SS_IDENTITY_LEN);
		if (!s->peers)
			goto fail;
		memcpy(s->peers, cfg->peers, cfg->npeers * SS_IDENTITY_LEN);
		s->npeers = cfg->npeers;
	}
	if (cfg->known_hosts) {
		s->known_hosts = strdup(cfg->known_hosts);
		s->peer_name = strdup(cfg->peer_name);
		if (!s->known_hosts || !s->peer_name)
			goto fail;
	}
	/* One whole frame plus read-ahead in, two frames (and a key update) out. */
	s->in_cap = SS_STREAM_OVERHEAD + (size_t)rf + READ_AHEAD;
	s->out_cap = 3 * SS_STREAM_OVERHEAD + (size_t)sf + SS_INIT_LEN;
	s->in = malloc(s->in_cap);
	s->out = malloc(s->out_cap);
	if (!s->in || !s->out)
		goto fail;
	ret = ss_aead_init(&s->tx);
	if (!ret)
		ret = ss_aead_init(&s->rx);
	if (ret)
		goto fail;
	*out = s;
	return 0;
fail:
	ss_stream_free(s);
	return ret;
}

int ss_stream_new_fd(ss_stream **out, const ss_stream_config *cfg, int fd)
{
	struct stat st;
	int ret, fl;

	if (fd < 0 || fstat(fd, &st) < 0 || (fl = fcntl(fd, F_GETFL)) < 0)
		return SS_ERR_INVAL;
	ret = stream_new(out, cfg);
	if (ret)
		return ret;
	(*out)->fd = fd;
	(*out)->nonblock = fl & O_NONBLOCK;
	(*out)->is_socket = S_ISSOCK(st.st_mode);
	return 0;
}

int ss_stream_new_cb(ss_stream **out, const ss_stream_config *cfg, ss_stream_read_fn rd,
		     ss_stream_write_fn wr, void *arg)
{
	int ret;

	if (!rd || !wr)
		return SS_ERR_INVAL;
	ret = stream_new(out, cfg);
	if (ret)
		return ret;
	(*out)->rd = rd;
	(*out)->wr = wr;
	(*out)->arg = arg;
	return 0;
}

int ss_stream_test_open(ss_stream *s, const uint8_t k_send[SS_KEY_LEN],
			const uint8_t k_recv[SS_KEY_LEN])
{
	int ret = ss_stream_set_keys(s, k_send, k_recv);

	if (ret)
		return ret;
	s->state = ST_OPEN;
	return 0;
}

void ss_stream_get_stats(const ss_stream *s, ss_stream_stats *out)
{
	*out = s->stats;
}

void ss_stream_free(ss_stream *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->eph);
	/* EVP_CIPHER_CTX_free cleanses the expanded keys; the raw ones are wiped below. */
	ss_aead_free(&s->tx);
	ss_aead_free(&s->rx);
	if (s->in)
		ss_wipe(s->in, s->in_cap);
	if (s->out)
		ss_wipe(s->out, s->out_cap);
	free(s->in);
	free(s->out);
	free(s->peers);
	free(s->known_hosts);
	free(s->peer_name);
	ss_wipe(s, sizeof(*s));
	free(s);
}
