/* SPDX-License-Identifier: MIT */
#ifndef SS_CLI_H
#define SS_CLI_H

extern const char *prog;

int cmd_show(int argc, char **argv);
int cmd_discover(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_syncconf(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int cmd_grant(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_knock(int argc, char **argv);
/* up.c */
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_hook(int argc, char **argv);
int cmd_showconf(int argc, char **argv);
int cmd_saveconf(int argc, char **argv);

/* ctl.c: a request's whole answer (malloc'd), or NULL with a message printed. */
char *cli_transact(const char *iface, const char *req);
/* showconf.c: a base64 identity or a running peer's Name =; 0 or 1 (message printed). */
#include <stdint.h>
int cli_peer_identity(const char *iface, const char *arg, uint8_t id[32]);
/* showconf.c: trust by peer Name = in a CONFIG, and the running daemon told of it. */
int cli_trust_target(const char *confarg, const char **name, char *iface, size_t icap);
int cli_trust_notify(const char *iface, const char *name);
#include <stddef.h>

/* util.c: what every subcommand says the same way. Those returning int return the exit status. */
int cli_version(void);
int cli_see_help(const char *cmd);
int cli_extra(const char *cmd, const char *arg);
/* Seconds in (0, max] from "2", "0.5", "30s", "5m"; -1 after saying what is wrong. */
double cli_seconds(const char *what, const char *arg, unsigned max);
/* Why the key file at path could not be loaded (errno still that of the failure). */
void cli_key_error(const char *cmd, const char *path, int ret);
int show_prometheus(const char *iface, const char *output);

#endif
