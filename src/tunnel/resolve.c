/* SPDX-License-Identifier: MIT */
/*
 * Endpoint names to addresses, on the privileged side only: silosecd resolves its file's
 * Endpoints before it enters the sandbox, and `silosec syncconf` / `silosec set` resolve
 * theirs before they send them. The sandboxed daemon takes numeric endpoints only, so its
 * seccomp filter needs no resolver (no new inet sockets, no /etc files).
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <silosec/error.h>

#include "config.h"

/* Split "host:port" / "[v6]:port" into host and port (checked by ss_endpoint_check). */
static int split(const char *endpoint, char *host, size_t cap, const char **port)
{
	const char *colon = strrchr(endpoint, ':');
	size_t hl;

	if (!colon || ss_endpoint_check(endpoint))
		return SS_ERR_FORMAT;
	hl = (size_t)(colon - endpoint);
	if (endpoint[0] == '[') {
		endpoint++;
		hl -= 2;
	}
	if (hl >= cap)
		return SS_ERR_FORMAT;
	memcpy(host, endpoint, hl);
	host[hl] = 0;
	*port = colon + 1;
	return 0;
}

int ss_endpoint_lookup(const char *endpoint, bool numeric, struct sockaddr_storage *out, char *err,
		       size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *ai;
	const char *port;
	char host[256];
	int ret;

	if (split(endpoint, host, sizeof(host), &port)) {
		snprintf(err, errlen, "endpoint '%s': expected host:port or [v6]:port", endpoint);
		return SS_ERR_FORMAT;
	}
	if (numeric)
		hints.ai_flags |= AI_NUMERICHOST;
	ret = getaddrinfo(host, port, &hints, &ai);
	if (ret) {
		snprintf(err, errlen, "endpoint '%s': %s", endpoint,
			 numeric && ret == EAI_NONAME ? "not a numeric address (host names are "
							"resolved before they reach silosecd)"
						      : gai_strerror(ret));
		return numeric ? SS_ERR_FORMAT : SS_ERR_NOT_FOUND;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
}

int ss_endpoint_resolve(const char *endpoint, char *out, size_t cap, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	char a[INET6_ADDRSTRLEN];
	int ret = ss_endpoint_lookup(endpoint, false, &sa, err, errlen), n;

	if (ret)
		return ret;
	if (sa.ss_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		n = snprintf(out, cap, "%s:%u", a, ntohs(s4->sin_port));
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		n = snprintf(out, cap, "[%s]:%u", a, ntohs(s6->sin6_port));
	}
	if (n < 0 || (size_t)n >= cap) {
		snprintf(err, errlen, "endpoint '%s': address too long", endpoint);
		return SS_ERR_BUFFER;
	}
	return 0;
}

int ss_conf_resolve(ss_conf *c, char *err, size_t errlen)
{
	char e[SS_CONF_ERR_LEN], a[SS_ENDPOINT_MAX];

	for (size_t i = 0; i < c->npeers; i++) {
		ss_conf_peer *p = &c->peers[i];
		int ret;

		if (!p->endpoint)
			continue;
		ret = ss_endpoint_resolve(p->endpoint, a, sizeof(a), e, sizeof(e));
		if (ret) {
			snprintf(err, errlen, "%s:%u: %s", c->path ? c->path : "<config>", p->line,
				 e);
			return ret;
		}
		free(p->resolved);
		p->resolved = strdup(a);
		if (!p->resolved) {
			snprintf(err, errlen, "out of memory");
			return SS_ERR_NOMEM;
		}
	}
	return 0;
}
