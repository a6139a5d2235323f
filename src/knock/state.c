/* SPDX-License-Identifier: MIT */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <silosec/error.h>

#include "common/prom.h"

void ss_knock_state_add(ss_knock_state *s, const ss_knock_opening *o)
{
	size_t at = s->nopen, soonest = 0;

	for (size_t i = 0; i < s->nopen; i++) {
		const ss_knock_opening *e = &s->open[i];

		if (!strcmp(e->action, o->action) && !strcmp(e->source, o->source) &&
		    !memcmp(e->identity, o->identity, SS_IDENTITY_LEN))
			at = i;
		if (e->expires_s < s->open[soonest].expires_s)
			soonest = i;
	}
	if (at == SS_KNOCK_STATE_MAX_OPEN)
		at = soonest;
	else if (at == s->nopen)
		s->nopen++;
	s->open[at] = *o;
}

bool ss_knock_state_expire(ss_knock_state *s, uint64_t now_s)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->nopen; i++)
		if (s->open[i].expires_s > now_s)
			s->open[kept++] = s->open[i];
	if (kept == s->nopen)
		return false;
	s->nopen = kept;
	return true;
}

/* key=value lines, as on silosecd's control socket; the drops by their stable names. */
void ss_knock_state_format(FILE *f, const ss_knock_state *s)
{
	char id[SS_B64_KEY_LEN];

	fprintf(f, "version=1\npid=%ld\nstarted=%" PRIu64 "\nupdated=%" PRIu64 "\n", s->pid,
		s->started_s, s->updated_s);
	fprintf(f, "accepted=%" PRIu64 "\n", s->accepted);
	for (int i = 0; i < SS_KNOCK_DROP_COUNT; i++)
		fprintf(f, "drop=%s:%" PRIu64 "\n", ss_err_name(SS_KNOCK_DROP_FIRST - i),
			s->drops[i]);
	fprintf(f,
		"pk_ops=%" PRIu64 "\ncopies=%" PRIu64 "\nkernel_drops=%" PRIu64 "\nrefused=%" PRIu64
		"\nactions=%" PRIu64 "\naction_failures=%" PRIu64 "\nparser_restarts=%" PRIu64 "\n",
		s->pk_ops, s->copies, s->kernel_drops, s->refused, s->actions, s->action_failures,
		s->parser_restarts);
	for (size_t i = 0; i < s->nopen; i++) {
		const ss_knock_opening *o = &s->open[i];

		ss_key_to_base64(o->identity, id);
		fprintf(f, "open=%" PRIu64 " %" PRIu64 " %s %s %s %s %s\n", o->expires_s,
			o->opened_s, o->action, o->client, o->source, id, o->what);
	}
	fputs("end\n", f);
}

static int parse_open(const char *v, ss_knock_opening *o)
{
	char id[SS_B64_KEY_LEN + 1];
	int off = 0;

	memset(o, 0, sizeof(*o));
	if (sscanf(v, "%" SCNu64 " %" SCNu64 " %32s %64s %63s %44s %n", &o->expires_s, &o->opened_s,
		   o->action, o->client, o->source, id, &off) != 6 ||
	    !off || ss_key_from_base64(id, o->identity))
		return SS_ERR_FORMAT;
	snprintf(o->what, sizeof(o->what), "%s", v + off);
	return 0;
}

static int parse_line(ss_knock_state *s, const char *k, const char *v)
{
	struct {
		const char *key;
		uint64_t *num;
	} nums[] = {
		{"started", &s->started_s},
		{"updated", &s->updated_s},
		{"accepted", &s->accepted},
		{"pk_ops", &s->pk_ops},
		{"copies", &s->copies},
		{"kernel_drops", &s->kernel_drops},
		{"refused", &s->refused},
		{"actions", &s->actions},
		{"action_failures", &s->action_failures},
		{"parser_restarts", &s->parser_restarts},
	};

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (!strcmp(k, nums[i].key)) {
			*nums[i].num = strtoull(v, NULL, 10);
			return 0;
		}
	if (!strcmp(k, "pid")) {
		s->pid = strtol(v, NULL, 10);
	} else if (!strcmp(k, "drop")) {
		const char *c = strrchr(v, ':');

		for (int i = 0; c && i < SS_KNOCK_DROP_COUNT; i++)
			if (!strncmp(v, ss_err_name(SS_KNOCK_DROP_FIRST - i), (size_t)(c - v)) &&
			    !ss_err_name(SS_KNOCK_DROP_FIRST - i)[c - v])
				s->drops[i] = strtoull(c + 1, NULL, 10);
	} else if (!strcmp(k, "open")) {
		if (s->nopen == SS_KNOCK_STATE_MAX_OPEN || parse_open(v, &s->open[s->nopen]))
			return SS_ERR_FORMAT;
		s->nopen++;
	} else if (!strcmp(k, "version") && strcmp(v, "1")) {
		return SS_ERR_FORMAT;
	}
	return 0;
}

int ss_knock_state_parse(const char *text, ss_knock_state *s)
{
	char *copy = strdup(text), *save;
	bool end = false;
	int ret = copy ? 0 : SS_ERR_NOMEM;

	memset(s, 0, sizeof(*s));
	for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; l && !ret;
	     l = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(l, '=');

		if (!strcmp(l, "end")) {
			end = true;
			break;
		}
		if (!eq) {
			ret = SS_ERR_FORMAT;
			break;
		}
		*eq = 0;
		ret = parse_line(s, l, eq + 1);
	}
	free(copy);
	return ret ? ret : end ? 0 : SS_ERR_FORMAT;
}

static int mkdir_for(const char *path)
{
	char dir[4096];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	return mkdir(dir, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

int ss_knock_state_save(const char *path, const ss_knock_state *s)
{
	char tmp[4096];
	FILE *f;
	int fd, bad;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp) || mkdir_for(path))
		return SS_ERR_IO;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return SS_ERR_IO;
	}
	ss_knock_state_format(f, s);
	bad = fflush(f) || ferror(f);
	bad |= fclose(f);
	if (bad || rename(tmp, path) < 0) {
		unlink(tmp);
		return SS_ERR_IO;
	}
	return 0;
}

int ss_knock_state_load(const char *path, ss_knock_state *s)
{
	char buf[SS_KNOCK_STATE_MAX_OPEN * 512 + 8192];
	size_t len;
	FILE *f = fopen(path, "re");

	if (!f)
		return errno == ENOENT ? SS_ERR_NOT_FOUND : SS_ERR_IO;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	return ss_knock_state_parse(buf, s);
}

void ss_knock_state_list(FILE *f, const ss_knock_state *s, uint64_t now_s)
{
	char fp[SS_FINGERPRINT_LEN], when[32];
	size_t shown = 0;

	fprintf(f, "%-12s %-10s %-18s %-29s %-20s %8s  %s\n", "ACTION", "CLIENT", "SOURCE",
		"IDENTITY", "EXPIRES (UTC)", "LEFT", "OPENS");
	for (size_t i = 0; i < s->nopen; i++) {
		const ss_knock_opening *o = &s->open[i];
		time_t t = (time_t)o->expires_s;
		struct tm tm;

		if (o->expires_s <= now_s)
			continue;
		ss_fingerprint(o->identity, fp);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
		fprintf(f, "%-12s %-10s %-18s %-29s %-20s %7" PRIu64 "s  %s\n", o->action,
			o->client, o->source, fp, when, o->expires_s - now_s, o->what);
		shown++;
	}
	if (!shown)
		fprintf(f, "(nothing open)\n");
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	struct ss_prom_family fam = {name, "counter", help, false};

	ss_prom_sample_u64(f, &fam, NULL, 0, v);
}

void ss_knock_state_metrics(FILE *f, const ss_knock_state *s, bool up, uint64_t now_s)
{
	struct ss_prom_family
		upf = {"silosec_knockd_up", "gauge",
		       "1 if the silosec-knockd that wrote the state file is running.", false},
		start = {"silosec_knockd_start_time_seconds", "gauge",
			 "Unix time the daemon started.", false},
		drops = {"silosec_knockd_drops_total", "counter",
			 "Datagrams dropped by the packet parser, by reason.", false},
		open = {"silosec_knockd_open", "gauge",
			"Openings (ports, grants, cycles) not yet expired.", false};
	uint64_t n = 0;

	ss_prom_sample_u64(f, &upf, NULL, 0, up);
	ss_prom_sample_u64(f, &start, NULL, 0, s->started_s);
	counter(f, "silosec_knockd_accepted_total", "Knocks the packet parser accepted.",
		s->accepted);
	for (int i = 0; i < SS_KNOCK_DROP_COUNT; i++) {
		struct ss_prom_label l = {"reason", ss_err_name(SS_KNOCK_DROP_FIRST - i)};

		ss_prom_sample_u64(f, &drops, &l, 1, s->drops[i]);
	}
	counter(f, "silosec_knockd_kernel_drops_total",
		"Datagrams the listening sockets' kernel pre-filter (or a full buffer) dropped.",
		s->kernel_drops);
	counter(f, "silosec_knockd_public_key_operations_total", "Datagrams that reached X25519.",
		s->pk_ops);
	counter(f, "silosec_knockd_copies_dropped_total",
		"Copies of an opened datagram dropped before X25519.", s->copies);
	counter(f, "silosec_knockd_recheck_refused_total",
		"Accepted knocks the privileged re-check refused.", s->refused);
	counter(f, "silosec_knockd_actions_total", "Actions run for accepted knocks.", s->actions);
	counter(f, "silosec_knockd_action_failures_total", "Actions that failed to run.",
		s->action_failures);
	counter(f, "silosec_knockd_parser_restarts_total",
		"Times the packet parser child was restarted.", s->parser_restarts);
	for (size_t i = 0; i < s->nopen; i++)
		n += s->open[i].expires_s > now_s;
	ss_prom_sample_u64(f, &open, NULL, 0, n);
}
