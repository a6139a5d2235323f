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

/* ctl.c's request to one daemon (NULL: failed, message printed); metrics.c. */
char *ctl_transact(const char *iface, const char *req);
int show_prometheus(const char *iface, const char *output);

#endif
