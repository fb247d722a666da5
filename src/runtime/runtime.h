/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime: turns an OCI bundle into an isolated process and manages it
 * afterwards (the library behind berth-runtime and berth-shim).
 *
 * The calling process must be single-threaded when it calls runtime_create,
 * runtime_run or runtime_exec: they clone() the container from it.
 */
#ifndef BERTH_RUNTIME_H
#define BERTH_RUNTIME_H

#include "oci/oci.h"

struct runtime_ctx {
	const char *state_root;	 /* --root, e.g. /run/berth-runtime */
	const char *cgroup_root; /* "/sys/fs/cgroup" unless testing */
	bool systemd_cgroup;	 /* cgroupsPath is "slice:prefix:name" */
	bool debug;
};

struct runtime_create_opts {
	const char *id;
	const char *bundle;	    /* directory holding config.json */
	const char *config_path;    /* default: <bundle>/config.json */
	const char *console_socket; /* unix socket that receives the pty master */
	bool use_console_fd;	    /* console_fd instead of console_socket (berth-shim) */
	int console_fd;		    /* a connected socket: the pty master goes there */
	const char *pid_file;
	int preserve_fds; /* fds 3..3+n-1 pass into the container */
	bool detach;	  /* run: do not wait */
	bool no_pivot;
	bool no_new_keyring;
	bool keep; /* run: do not delete after exit */
};

/* Every capability name ("CAP_CHOWN" ...), in the kernel's order. */
extern const char *const runtime_all_caps[];
extern const size_t runtime_n_caps;

/* Is id a valid container id ([A-Za-z0-9][A-Za-z0-9_.+-]*, at most 1024 chars)? */
bool runtime_id_valid(const char *id);

/* create: the container waits for start. */
int runtime_create(const struct runtime_ctx *ctx, const struct runtime_create_opts *o,
		   struct error **err);
/* start: release a created container; runs poststart hooks. */
int runtime_start(const struct runtime_ctx *ctx, const char *id, struct error **err);
/*
 * run: create + start. Without detach, waits and returns the exit status as
 * the shell would (128+signal for a killed process) in *ret_status, then
 * deletes the container.
 */
int runtime_run(const struct runtime_ctx *ctx, const struct runtime_create_opts *o, int *ret_status,
		struct error **err);

/* The OCI state document: ociVersion id status pid bundle annotations ... */
int runtime_state(const struct runtime_ctx *ctx, const char *id, json_object **ret,
		  struct error **err);
/* All containers under the state root, as state documents. */
int runtime_list(const struct runtime_ctx *ctx, json_object **ret, struct error **err);

int runtime_kill(const struct runtime_ctx *ctx, const char *id, int sig, bool all,
		 struct error **err);
int runtime_delete(const struct runtime_ctx *ctx, const char *id, bool force, struct error **err);

int runtime_pause(const struct runtime_ctx *ctx, const char *id, struct error **err);
int runtime_resume(const struct runtime_ctx *ctx, const char *id, struct error **err);

/* Apply new resources to a running container (update). */
int runtime_update(const struct runtime_ctx *ctx, const char *id, const struct oci_resources *res,
		   struct error **err);

/* Pids in the container's cgroup. */
int runtime_ps(const struct runtime_ctx *ctx, const char *id, pid_t **ret, size_t *n,
	       struct error **err);

/* Cgroup statistics (events --stats). */
int runtime_stats(const struct runtime_ctx *ctx, const char *id, json_object **ret,
		  struct error **err);

struct runtime_exec_opts {
	const char *console_socket;
	bool use_console_fd; /* console_fd instead of console_socket (berth-shim) */
	int console_fd;
	const char *pid_file;
	int preserve_fds;
	bool detach;
};

/*
 * exec: run process p inside the container. Without detach, waits and
 * returns the exit status in *ret_status.
 */
int runtime_exec(const struct runtime_ctx *ctx, const char *id, const struct oci_process *p,
		 const struct runtime_exec_opts *o, int *ret_status, struct error **err);

/*
 * The spec's process of a container (to build an exec process from, as runc
 * does when no --process is given). Caller frees with oci_spec_free.
 */
int runtime_load_spec(const struct runtime_ctx *ctx, const char *id, struct oci_spec **ret,
		      struct error **err);

/*
 * CVE-2019-5736: make sure the running binary is a sealed memfd copy, so a
 * container process cannot overwrite the host binary via /proc/PID/exe.
 * Re-executes the program from the copy the first time (does not return then);
 * returns 0 when already running from a sealed copy, -errno on failure.
 */
int runtime_ensure_cloned_binary(char **argv, char **envp);

#endif
