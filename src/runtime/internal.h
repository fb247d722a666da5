/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the runtime module. */
#ifndef BERTH_RUNTIME_INTERNAL_H
#define BERTH_RUNTIME_INTERNAL_H

#include <linux/filter.h>
#include <sys/types.h>

#include "cgroup.h"
#include "runtime.h"
#include "seccomp.h"

/* ---- the sync channel between the runtime and the container's init ---- */

enum sync_type {
	SYNC_GO = 1, /* parent -> child: continue */
	SYNC_HOOKS,  /* child -> parent: run createRuntime hooks now */
	SYNC_READY,  /* child -> parent: set up, waiting to exec */
	SYNC_ERROR,  /* child -> parent: failed, msg says why */
	SYNC_PTY,    /* child -> parent: pty master attached (SCM_RIGHTS) */
};

struct sync_msg {
	int type;
	int code;	/* errno for SYNC_ERROR */
	char msg[1024]; /* NUL-terminated */
};

int sync_send(int fd, int type, int code, const char *msg);
int sync_send_fd(int fd, int type, int passfd);
/* Receive one message (and an fd if any, into *ret_fd or -1). */
int sync_recv(int fd, struct sync_msg *m, int *ret_fd);

/* ---- state on disk ------------------------------------------------------ */

struct rt_state {
	char *id;
	pid_t pid;
	uint64_t pid_start; /* starttime from /proc/PID/stat: guards against pid reuse */
	char *bundle;
	char *rootfs;
	char *created; /* RFC 3339 */
	char *cgroup_path;
	bool systemd_cgroup;
	bool detached_exec_only;
	json_object *annotations; /* owned */
};

void rt_state_free(struct rt_state *s);
static inline void rt_state_freep(struct rt_state **s)
{
	rt_state_free(*s);
}
/* <state_root>/<id> */
char *rt_state_dir(const struct runtime_ctx *ctx, const char *id);
int rt_state_save(const struct runtime_ctx *ctx, const struct rt_state *s, struct error **err);
/* -ENOENT with Docker/runc wording "container does not exist" in err. */
int rt_state_load(const struct runtime_ctx *ctx, const char *id, struct rt_state **ret,
		  struct error **err);

enum rt_status { RT_CREATING, RT_CREATED, RT_RUNNING, RT_PAUSED, RT_STOPPED };
const char *rt_status_name(enum rt_status s);
enum rt_status rt_state_status(const struct runtime_ctx *ctx, const struct rt_state *s);
/* OCI state JSON. */
json_object *rt_state_json(const struct rt_state *s, enum rt_status st);

/* starttime (field 22) of /proc/PID/stat, 0 if gone; *zombie set when state is Z. */
uint64_t proc_start_time(pid_t pid, bool *zombie);

/* ---- hooks -------------------------------------------------------------- */

/* Run hooks in order with the state JSON on stdin; the first failure stops. */
int hooks_run(const struct oci_hook *hooks, size_t n, const char *state_json, const char *kind,
	      struct error **err);

/* ---- capabilities ------------------------------------------------------- */

/* Parsed capability sets (bit masks of CAP_*). */
struct caps_set {
	uint64_t bounding, effective, inheritable, permitted, ambient;
	bool present;
};
/* Names -> masks; unknown names are skipped with a warning, as runc does. */
void caps_parse(const struct oci_capabilities *c, struct caps_set *ret);
int caps_from_name(const char *name);
/* Drop bounding caps not in set (needs CAP_SETPCAP). */
int caps_apply_bounding(const struct caps_set *c);
/* Set effective/permitted/inheritable and raise ambient. */
int caps_apply(const struct caps_set *c);

/* ---- the container's process (init and exec share this) ----------------- */

struct proc_plan {
	const struct oci_process *p;
	struct caps_set caps;
	struct seccomp_program seccomp;
	bool has_seccomp;
	bool in_userns;	 /* setgroups may be denied */
	char *exec_path; /* resolved args[0] */
	int preserve_fds;
	int listen_fds;			       /* from LISTEN_FDS */
	const struct oci_seccomp *seccomp_cfg; /* for the notify listener */
	const char *state_json;		       /* sent with the listener fd */
	int listener_sock;		       /* connected to listenerPath before the clone */
};

/* Connect to the profile's listenerPath (in the runtime, before the container's root
 * hides the host's paths). */
int seccomp_connect_listener(const struct oci_seccomp *sc, struct error **err);

/* Send a SCMP_ACT_NOTIFY listener fd to the profile's listenerPath (then close it). */
int seccomp_send_listener(const struct proc_plan *plan, int listener, char *errbuf, size_t errlen);

/*
 * After the root is in place: rlimits, oom_score_adj, umask, cwd, user and
 * groups, capabilities, no_new_privs, seccomp, in runc's order. Then
 * proc_exec() closes what must not leak and execs. On failure writes a
 * message into errbuf and returns -errno.
 */
int proc_finalize(struct proc_plan *plan, char *errbuf, size_t errlen);
/* Find args[0] on the PATH of the process environment, inside the current root. */
int proc_resolve_exec(struct proc_plan *plan, char *errbuf, size_t errlen);
int proc_exec(struct proc_plan *plan, char *errbuf, size_t errlen);
int proc_set_rlimits(const struct oci_process *p, char *errbuf, size_t errlen);

/* ---- the root filesystem (linux.c) -------------------------------------- */

struct rootfs_ctx {
	const struct oci_spec *spec;
	const char *bundle;
	char *rootfs;		 /* absolute path */
	const struct cgroup *cg; /* container cgroup, for cgroup mounts */
	bool userns;
	bool new_mntns;
	bool no_pivot;	      /* --no-pivot: MS_MOVE + chroot instead of pivot_root */
	int console_socket;   /* -1 or connected socket */
	int sync_fd;	      /* to send the pty master when there is no console socket */
	int devnull_fd;	      /* host /dev/null, opened before pivot_root, verified */
	int null_tree;	      /* a clone of the host's /dev/null mount (open_tree), or -1 */
	bool null_attached;   /* null_tree is mounted over the first masked file */
	const int *idmap_fds; /* per spec mount: a user namespace fd for an idmapped mount, or -1 */
};

/* Does this mount ask for an idmapped mount ("idmap"/"ridmap" or its own mappings)? */
bool mount_wants_idmap(const struct oci_mount *m);

/* Mounts, devices, console, pivot_root, masked and read-only paths, sysctls. */
int rootfs_setup(struct rootfs_ctx *rc, char *errbuf, size_t errlen);
/* Move into the rootfs: pivot_root (or chroot without a mount namespace). */
int rootfs_pivot(struct rootfs_ctx *rc, char *errbuf, size_t errlen);
/* After pivot: masked/ro paths, root.readonly, propagation, sysctls. */
int rootfs_finish(struct rootfs_ctx *rc, char *errbuf, size_t errlen);

/* Open PATH (relative to rootfd) creating missing parents as directories, confined
 * to rootfd; the last component is made a directory or an empty file. Returns an
 * O_PATH fd. */
int mkdir_open_in_root(int rootfd, const char *path, bool file, mode_t mode);

/* Create a pty in the container's devpts, make it the controlling terminal on
 * 0,1,2 and send the master to sock. */
int terminal_setup(int ptmx_dirfd, int console_sock, int sync_fd, const struct oci_process *p,
		   char *errbuf, size_t errlen);
/* Connect to a console socket path. */
int terminal_connect_socket(const char *path, struct error **err);
/* Send fd over sock with SCM_RIGHTS. */
int send_fd(int sock, int fd, const char *name);

/* Wait for pid, forwarding signals; with pty >= 0 copy stdin/stdout through it in raw
 * mode. *ret_status is the shell's exit status (128+signal when killed). */
int wait_foreground(pid_t pid, int pty, int *ret_status);

#endif
