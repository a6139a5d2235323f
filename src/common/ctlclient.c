/* SPDX-License-Identifier: MIT */
#include "common/ctlclient.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "common/ctlsock.h"
#include "common/fdio.h"

#define TIMEOUT_MS 5000

/* Read until EOF with a deadline per read: a wedged daemon must not wedge the caller. */
static int read_all(int fd, char *answer, size_t cap)
{
	size_t len = 0;

	for (;;) {
		ssize_t n;

		if (len + 1 >= cap)
			return SS_ERR_BUFFER;
		n = ss_read_append(fd, answer, &len, cap, TIMEOUT_MS);
		if (n <= 0)
			return (int)n;
	}
}

int ss_ctl_call(const char *iface, const char *req, char *answer, size_t cap, char *err,
		size_t errlen)
{
	int fd = ss_ctl_connect(iface), ret;

	if (err && errlen)
		err[0] = '\0';
	if (fd < 0) {
		errno = -fd;
		return SS_ERR_IO;
	}
	ret = ss_write_all(fd, req, strlen(req));
	if (!ret && shutdown(fd, SHUT_WR) < 0)
		ret = SS_ERR_IO;
	if (!ret)
		ret = read_all(fd, answer, cap);
	close(fd);
	if (ret)
		return ret;
	if (!strncmp(answer, "error=", 6)) {
		size_t n = strcspn(answer + 6, "\n");

		if (err && errlen)
			snprintf(err, errlen, "%.*s", (int)n, answer + 6);
		return SS_ERR_INVAL;
	}
	return strstr(answer, "end\n") ? 0 : SS_ERR_IO;
}

static int call_small(const char *iface, const char *req, char *err, size_t errlen)
{
	char answer[1024];

	return ss_ctl_call(iface, req, answer, sizeof(answer), err, errlen);
}

int ss_ctl_grant(const char *iface, const uint8_t identity[SS_IDENTITY_LEN], const char *rule,
		 uint32_t seconds, char *err, size_t errlen)
{
	char b64[SS_B64_KEY_LEN], req[512];
	int n;

	ss_key_to_base64(identity, b64);
	n = snprintf(req, sizeof(req), "grant\npeer=%s\nrule=%s\nseconds=%u\n\n", b64, rule,
		     seconds);
	if (n < 0 || (size_t)n >= sizeof(req) || strchr(rule, '\n'))
		return SS_ERR_INVAL;
	return call_small(iface, req, err, errlen);
}

int ss_ctl_revoke(const char *iface, const uint8_t identity[SS_IDENTITY_LEN], const char *rule,
		  char *err, size_t errlen)
{
	char b64[SS_B64_KEY_LEN], req[512];
	int n;

	ss_key_to_base64(identity, b64);
	n = snprintf(req, sizeof(req), "revoke\npeer=%s\n%s%s%s\n", b64, rule ? "rule=" : "",
		     rule ? rule : "", rule ? "\n" : "");
	if (n < 0 || (size_t)n >= sizeof(req) || (rule && strchr(rule, '\n')))
		return SS_ERR_INVAL;
	return call_small(iface, req, err, errlen);
}
