/* SPDX-License-Identifier: MIT */
#ifndef SS_CLI_H
#define SS_CLI_H

extern const char *prog;

int cmd_show(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_syncconf(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int cmd_grant(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_knock(int argc, char **argv);
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

#endif
