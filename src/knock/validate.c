/* SPDX-License-Identifier: MIT */
#include "validate.h"

#include <string.h>

#include "common/crypto.h"

int ss_knock_validator_init(ss_knock_validator *v, const ss_kconf *conf, const ss_identity *id,
			    uint64_t rl_seed, uint64_t wall_ms, uint64_t mono_ns)
{
	int ret;

	memset(v, 0, sizeof(*v));
	v->conf = conf;
	ret = ss_knock_server_new(&v->srv, id);
	if (!ret)
		ret = ss_knock_ratelimit_new(&v->rl, conf->rate_sources, conf->rate, conf->burst,
					     rl_seed);
	if (!ret)
		ret = ss_knock_replay_new(&v->rp, conf->replay_capacity, conf->replay_file, wall_ms,
					  mono_ns);
	if (!ret)
		ret = ss_knock_seen_new(&v->seen, SS_KNOCK_SEEN_SLOTS, rl_seed);
	if (!ret)
		ret = ss_rl_rate_init(&v->pk_rate, SS_KNOCK_PK_RATE, SS_KNOCK_PK_BURST);
	if (ret)
		ss_knock_validator_free(v);
	return ret;
}

void ss_knock_validator_free(ss_knock_validator *v)
{
	ss_knock_server_free(v->srv);
	ss_knock_ratelimit_free(v->rl);
	ss_knock_replay_free(v->rp);
	ss_knock_seen_free(v->seen);
	memset(v, 0, sizeof(*v));
}

static bool printable(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return true;
}

/* Steps 6 to 7 on an opened knock: what a copy found in the cache runs again. */
static int check_opened(ss_knock_validator *v, ss_knock_verdict *out, int family,
			const uint8_t *addr, uint64_t wall_ms)
{
	const ss_knock_msg *m = &out->msg;
	int ret;

	/* 6. A valid signature by an identity we do not know is still a stranger. */
	out->client = ss_kconf_client(v->conf, m->client);
	if (!out->client)
		return SS_ERR_KNOCK_UNKNOWN_ID;
	/*
	 * 6b. The signed source: before time and replay, so a copy re-sent from another
	 * address neither runs nor burns the challenge the real client's copy carries.
	 */
	ret = ss_knock_check_source(m, family, addr, out->client->allow_any_source);
	if (ret)
		return ret;
	/* 7a. A wall clock stepped back would reopen windows the cache has forgotten. */
	ret = ss_knock_replay_check_clock(v->rp, wall_ms, v->conf->window_ms);
	if (ret)
		return ret;
	/* 7. Timestamp window: bounds how long the replay cache must remember. */
	return ss_knock_check_time(m, wall_ms, v->conf->window_ms);
}

/*
 * 3b. A datagram opened before: its verdict from the cached fields, for the cost of a
 * lookup, unless it would now be accepted (then 0: it is opened anew, since the parent
 * needs the evidence). 1 if not in the cache.
 */
static int check_seen(ss_knock_validator *v, const uint8_t *pkt, size_t len, int family,
		      const uint8_t *addr, uint64_t mono_ns, uint64_t wall_ms,
		      ss_knock_verdict *out)
{
	ss_knock_msg *m = &out->msg;
	int ret;

	if (!ss_knock_seen_find(v->seen, pkt, len, &ret, m))
		return 1;
	if (!ret)
		ret = check_opened(v, out, family, addr, wall_ms);
	if (!ret)
		ret = ss_knock_replay_check(v->rp, m->challenge,
					    m->timestamp_ms + v->conf->window_ms + 1, wall_ms,
					    mono_ns);
	if (ret) {
		v->copies++;
		return ret;
	}
	memset(m, 0, sizeof(*m));
	out->client = NULL;
	return 0;
}

/*
 * 3b-5. The cache, the global budget, then the X25519 + AEAD and the client's signature:
 * the only expensive step, run at most SS_KNOCK_PK_RATE times a second whatever the
 * sources, and once per distinct datagram that is refused.
 */
static int open_knock(ss_knock_validator *v, const uint8_t *pkt, size_t len, int family,
		      const uint8_t *addr, uint64_t mono_ns, uint64_t wall_ms,
		      ss_knock_verdict *out)
{
	int ret = check_seen(v, pkt, len, family, addr, mono_ns, wall_ms, out);

	if (ret < 0)
		return ret;
	if (!ss_rl_bucket_take(&v->pk_rate, &v->pk_tat, mono_ns))
		return SS_ERR_KNOCK_BUSY;
	v->pk_ops++;
	ret = ss_knock_open_evidence(v->srv, pkt, len, &out->msg, &out->ev);
	/* Not a local failure (SS_ERR_CRYPTO...): that says nothing about the datagram. */
	if (!ret || ret == SS_ERR_KNOCK_DECRYPT || ret == SS_ERR_KNOCK_SIGNATURE ||
	    ret == SS_ERR_KNOCK_MALFORMED)
		ss_knock_seen_put(v->seen, pkt, len, ret, &out->msg);
	return ret;
}

static int check(ss_knock_validator *v, const uint8_t *pkt, size_t len, int family,
		 const uint8_t *addr, uint64_t mono_ns, uint64_t wall_ms, ss_knock_verdict *out)
{
	const ss_kconf *c = v->conf;
	ss_knock_msg *m = &out->msg;
	int ret;

	/* 1. Size and prefix: no state touched yet, so junk costs a compare. */
	ret = ss_knock_check_size(pkt, len);
	if (ret)
		return ret;
	/* 2. Rate limit before any hashing: a source over its rate costs one lookup. */
	ret = ss_knock_ratelimit_check(v->rl, family, addr, mono_ns);
	if (ret)
		return ret;
	/*
	 * 3. Outer MAC. Only datagrams that pass it pay a token: the bucket guards the
	 * public-key work, and a spoofer sending junk from a client's address (cheap to
	 * forge, off-path) must not be able to spend that client's budget.
	 */
	ret = ss_knock_check_mac(v->srv, pkt, len);
	if (!ret)
		ret = ss_knock_ratelimit_take(v->rl, family, addr, mono_ns);
	if (!ret)
		ret = open_knock(v, pkt, len, family, addr, mono_ns, wall_ms, out);
	if (!ret)
		ret = check_opened(v, out, family, addr, wall_ms);
	if (ret)
		return ret;
	/* 8. Replay: recorded (and persisted) before acting, so a crash cannot reopen it. */
	ret = ss_knock_replay_add(v->rp, m->challenge, m->timestamp_ms + c->window_ms + 1, wall_ms,
				  mono_ns);
	if (ret)
		return ret;
	/* 9. Only the actions this identity lists. */
	out->action = ss_kconf_allowed(c, out->client, m->action);
	if (!out->action)
		return SS_ERR_KNOCK_ACTION;
	if ((out->action->payload == SS_KPAY_NONE && m->payload_len) ||
	    (out->action->payload == SS_KPAY_ASCII && !printable(m->payload, m->payload_len)))
		return SS_ERR_KNOCK_PAYLOAD;
	/* The client may ask for less or more time, never more than the action's cap. */
	out->duration = m->duration ? m->duration : out->action->duration;
	if (out->duration > out->action->max_duration)
		out->duration = out->action->max_duration;
	return 0;
}

int ss_knock_validate(ss_knock_validator *v, const uint8_t *pkt, size_t len, int family,
		      const uint8_t *addr, uint64_t mono_ns, uint64_t wall_ms,
		      ss_knock_verdict *out)
{
	int ret, idx;

	memset(out, 0, sizeof(*out));
	ret = check(v, pkt, len, family, addr, mono_ns, wall_ms, out);
	if (!ret) {
		v->accepted++;
		return 0;
	}
	idx = ss_knock_drop_index(ret);
	if (idx >= 0)
		v->drops[idx]++;
	/* Identity and action name stay for the log line; the payload does not. */
	ss_wipe(out->msg.payload, sizeof(out->msg.payload));
	ss_wipe(&out->ev, sizeof(out->ev));
	out->msg.payload_len = 0;
	out->client = NULL;
	out->action = NULL;
	return ret;
}
