/* SPDX-License-Identifier: MIT */
/*
 * silosec showconf / saveconf, and peer names on the command line (issue 15 items 4, 6).
 *
 * The running configuration is the file's [Interface] and [Group] sections with the
 * daemon's peers as they are now (after `silosec set`), read from its "get" answer.
 * SaveConfig is done here, by root, not by silosecd: the sandboxed daemon cannot write
 * /etc/silosec. The unit runs `silosec saveconf %i` as ExecStop, before the daemon stops;
 * the file is replaced atomically (a temporary file in the same directory, fsync, rename,
 * fsync of the directory), keeping its owner and mode.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <silosec/error.h>
#include <silosec/identity.h>

#include "cli.h"
#include "config.h"
#include "common/ctlsock.h"

#define CONF_DIR "/etc/silosec"

static int conf_arg(const char *iface, int argc, char **argv, char *path, size_t cap)
{
	if (argc == 3)
		snprintf(path, cap, "%s", argv[2]);
	else
		snprintf(path, cap, "%s/%s.conf", CONF_DIR, iface);
	return 0;
}

/* The file, with the running daemon's peers in place of its own. */
static int running_conf(const char *iface, const char *path, ss_conf **out)
{
	char err[SS_CONF_ERR_LEN], *answer;
	ss_conf *c;
	int ret;

	if (ss_conf_load(path, &c, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	if (strcmp(c->name, iface) || !c->private_key_file) {
		fprintf(stderr, "%s: %s: %s\n", prog, path,
			strcmp(c->name, iface) ? "configures another interface"
					       : "PrivateKey is inline; showconf writes keys only "
						 "as PrivateKeyFile "
						 "(move the key to a file, silosec.conf(5))");
		ss_conf_free(c);
		return 1;
	}
	answer = cli_transact(iface, "get\n\n");
	ret = answer ? ss_conf_peers_from_get(c, answer, err, sizeof(err)) : 1;
	if (answer && ret)
		fprintf(stderr, "%s: %s: %s\n", prog, iface, err);
	free(answer);
	if (ret) {
		ss_conf_free(c);
		return 1;
	}
	*out = c;
	return 0;
}

int cmd_showconf(int argc, char **argv)
{
	char path[PATH_MAX];
	ss_conf *c;
	int ret;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s showconf IFACE [FILE]\n", prog);
		return 2;
	}
	conf_arg(argv[1], argc, argv, path, sizeof(path));
	if (running_conf(argv[1], path, &c))
		return 1;
	ret = ss_conf_write(c, stdout);
	ss_conf_free(c);
	return ret ? 1 : 0;
}

static int sync_dir(const char *path)
{
	char copy[PATH_MAX];
	int fd, ret;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

/* Write c over path in one step, with path's owner and mode (0600 if it is new). */
static int save_atomic(const ss_conf *c, const char *path)
{
	char tmp[PATH_MAX];
	struct stat st = {.st_mode = 0600};
	FILE *f = NULL;
	int fd, ret = -1;

	if (stat(path, &st) && errno != ENOENT)
		return -1;
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return errno = ENAMETOOLONG, -1;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -1;
	if (fchmod(fd, st.st_mode & 07777) || fchown(fd, st.st_uid, st.st_gid) ||
	    !(f = fdopen(fd, "w")))
		goto out;
	fprintf(f, "# Written by silosec saveconf (SaveConfig = yes): edits made here while\n"
		   "# the interface is up are replaced when it stops.\n");
	if (ss_conf_write(c, f) || fflush(f) || fsync(fd))
		goto out;
	ret = rename(tmp, path) ? -1 : sync_dir(path);
out:
	if (f)
		fclose(f);
	else
		close(fd);
	if (ret)
		unlink(tmp);
	return ret;
}

int cmd_saveconf(int argc, char **argv)
{
	char path[PATH_MAX], err[SS_CONF_ERR_LEN];
	ss_conf *c;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s saveconf IFACE [FILE]\n", prog);
		return 2;
	}
	conf_arg(argv[1], argc, argv, path, sizeof(path));
	if (ss_conf_load(path, &c, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	if (!c->save_config) {
		ss_conf_free(c);
		return 0; /* SaveConfig is off: the file stays as written */
	}
	ss_conf_free(c);
	if (running_conf(argv[1], path, &c))
		return 1;
	c->save_config = true;
	if (save_atomic(c, path)) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		ss_conf_free(c);
		return 1;
	}
	ss_conf_free(c);
	return 0;
}

/* A base64 identity, or the Name = of a peer of the running daemon. */
int cli_peer_identity(const char *iface, const char *arg, uint8_t id[SS_IDENTITY_LEN])
{
	char *answer, *save, *l, *peer = NULL;
	int ret = 1;

	if (!ss_key_from_base64(arg, id))
		return 0;
	if (!ss_conf_valid_label(arg)) {
		fprintf(stderr, "%s: '%s' is neither a base64 identity nor a peer name\n", prog,
			arg);
		return 1;
	}
	answer = cli_transact(iface, "get\n\n");
	for (l = answer ? strtok_r(answer, "\n", &save) : NULL; l && ret;
	     l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, "peer=", 5))
			peer = l + 5;
		else if (!strncmp(l, "name=", 5) && !strcmp(l + 5, arg) && peer)
			ret = ss_key_from_base64(peer, id) ? 2 : 0;
	}
	if (answer && ret)
		fprintf(stderr,
			"%s: %s: '%s' is not a base64 identity, and no peer is named so%s\n", prog,
			iface, arg, ret == 2 ? " with a known identity yet (tofu)" : "");
	free(answer);
	return ret ? 1 : 0;
}

/*
 * `silosec trust CONFIG pin|forget NAME`: NAME may be a peer's Name = (its Endpoint is
 * the store's key). Fills iface with the tunnel's name, for cli_trust_notify.
 */
int cli_trust_target(const char *confarg, const char **name, char *iface, size_t icap)
{
	static char endpoint[SS_ENDPOINT_MAX + 256];
	char err[SS_CONF_ERR_LEN];
	size_t len = strlen(confarg);
	ss_conf *c;
	long i;

	iface[0] = '\0';
	if (len < 5 || strcmp(confarg + len - 5, ".conf"))
		return 0;
	if (ss_conf_load(confarg, &c, err, sizeof(err)))
		return 0; /* cmd_trust reports it */
	snprintf(iface, icap, "%s", c->name);
	i = ss_conf_find_label(c, *name);
	if (i >= 0 && !c->peers[i].tofu) {
		fprintf(stderr, "%s: peer '%s' is not Identity = tofu: it has no pin to change\n",
			prog, *name);
		ss_conf_free(c);
		return 1;
	}
	if (i >= 0) {
		snprintf(endpoint, sizeof(endpoint), "%s", c->peers[i].endpoint);
		*name = endpoint;
	}
	ss_conf_free(c);
	return 0;
}

/* Tell a running daemon that name's pin changed; no daemon: it reads the store at start. */
int cli_trust_notify(const char *iface, const char *name)
{
	char req[SS_ENDPOINT_MAX + 300], *answer;
	int fd;

	if (!iface[0])
		return 0;
	fd = ss_ctl_connect(iface);
	if (fd < 0)
		return 0;
	close(fd);
	snprintf(req, sizeof(req), "trust\nname=%s\n\n", name);
	answer = cli_transact(iface, req);
	free(answer);
	return answer ? 0 : 1;
}
