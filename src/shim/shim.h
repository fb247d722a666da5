/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shim: the per-container monitor (DESIGN §3). berthd starts one berth-shim
 * per container (and one per exec); it double-forks into its own session,
 * creates the process through the runtime library, holds its stdio (pipes or
 * the pty master), writes the json-file log, records the exit status, and
 * serves a unix socket. It outlives berthd restarts.
 *
 * Start-up: the shim writes one line to the status fd and closes it:
 *   "ready <shim pid>\n"  (the container is created, or the exec is prepared)
 *   "error <message>\n"
 *
 * The socket (<dir>/shim.sock, or <dir>/x-<first 12 of the exec id>.sock) speaks one command
 * line per connection:
 *   "START\n"            -> "OK <pid>\n" | "ERR <message>\n" (creates the exec /
 *                            releases the container; attach first so no output is lost)
 *   "ATTACH [i][o][e]\n" -> then frames both ways: [stream u8][len u32 BE][payload];
 *                            shim->client: 1 stdout, 2 stderr, 9 exit (payload: code);
 *                            client->shim: 0 stdin data, 4 stdin closed
 *   "RESIZE <h> <w>\n"   -> "OK\n"
 *   "WAIT\n"             -> "EXIT <code> <finished unix ns>\n" once it has exited
 *   "CLOSESTDIN\n"       -> "OK\n"
 * After the process exits the shim writes <dir>/exit (or x-<id>.exit) as
 * "<code> <finished unix ns>\n", answers the waiters and exits.
 *
 * Half a second after START (a process that is done by then never pays for it), berth-shim
 * execve()s berth-shim-monitor from its own folder (the same pid, still the process's parent,
 * argv[0] still "berth-shim"): a static binary that holds the same fds and serves the same
 * socket without the runtime library and the shared libraries the create needed, so a
 * running container costs well under 1 MiB of RSS (monitor.h). After the exit, the monitor
 * execve()s berth-shim --delete, which removes the container from the runtime. Without
 * berth-shim-monitor, berth-shim serves to the end itself.
 */
#ifndef BERTH_SHIM_H
#define BERTH_SHIM_H

#include "basic/basic.h"

struct shim_opts {
	const char *id;
	const char *bundle;
	const char *dir;	  /* where the socket and the exit file live (0700) */
	const char *runtime_root; /* state root of the runtime library */
	const char *cgroup_root;  /* NULL: "/sys/fs/cgroup" */
	bool systemd_cgroup;
	const char *log_path;  /* json-file log, NULL for none */
	uint64_t log_max_size; /* 0: unlimited */
	int log_max_files;     /* >= 1 */
	bool tty;
	bool open_stdin;
	bool stdin_once;
	const char *exec_id;	  /* exec mode: run process_path in container id */
	const char *process_path; /* exec mode: OCI process JSON */
	int status_fd;
	int handover_fd;  /* berth-shim-monitor: the state berth-shim handed over, -1 */
	bool delete_only; /* --delete: remove the container from the runtime and exit */
};

/* Parse berth-shim's (and berth-shim-monitor's) command line. */
int shim_parse_args(int argc, char **argv, struct shim_opts *o, struct error **err);
/* Run the shim; returns the process exit code. */
int shim_main(const struct shim_opts *o);
/* berth-shim-monitor's main: take over from berth-shim (--handover-fd) and serve to the end. */
int shim_monitor_main(int argc, char **argv);

#endif
