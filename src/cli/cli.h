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

/* util.c: what every subcommand says the same way. Those returning int return the exit status. */
int cli_version(void);
int cli_see_help(const char *cmd);
int cli_extra(const char *cmd, const char *arg);
/* Seconds in (0, max] from "2", "0.5", "30s", "5m"; -1 after saying what is wrong. */
double cli_seconds(const char *what, const char *arg, unsigned max);
/* Why the key file at path could not be loaded (errno still that of the failure). */
void cli_key_error(const char *cmd, const char *path, int ret);
/* ctl.c's request to one daemon (NULL: failed, message printed); metrics.c. */
char *ctl_transact(const char *iface, const char *req);
int show_prometheus(const char *iface, const char *output);

#endif
