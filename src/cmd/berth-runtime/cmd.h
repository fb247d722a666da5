/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BERTH_RUNTIME_CMD_H
#define BERTH_RUNTIME_CMD_H

#include "runtime/runtime.h"

struct command {
	const char *name;
	int (*fn)(const struct runtime_ctx *ctx, int argc, char **argv, char **envp);
	const char *help;
};

/* Print "berth-runtime: <msg>" (and to the --log file), free err, return 1. */
int fail(struct error *err);
int usage_error(const char *fmt, ...) _printf_(1, 2);

#define DECLARE_CMD(n) int n(const struct runtime_ctx *ctx, int argc, char **argv, char **envp)
DECLARE_CMD(cmd_create);
DECLARE_CMD(cmd_start);
DECLARE_CMD(cmd_run);
DECLARE_CMD(cmd_state);
DECLARE_CMD(cmd_kill);
DECLARE_CMD(cmd_delete);
DECLARE_CMD(cmd_exec);
DECLARE_CMD(cmd_ps);
DECLARE_CMD(cmd_list);
DECLARE_CMD(cmd_pause);
DECLARE_CMD(cmd_resume);
DECLARE_CMD(cmd_update);
DECLARE_CMD(cmd_events);
DECLARE_CMD(cmd_spec);
DECLARE_CMD(cmd_features);

/* The single ID argument left after options, or NULL with a usage error printed. */
const char *arg_id(int argc, char **argv, const char *cmd);
/* Signal by name ("KILL", "SIGKILL") or number; -1 when unknown. */
int parse_signal(const char *s);

#endif
