/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup: a container's control group on cgroup v1, v2 or the hybrid layout
 * (v1 controllers plus a v2 hierarchy at <root>/unified).
 *
 * The cgroupfs root is a parameter ("/sys/fs/cgroup" in production) so the
 * tests can point the code at a fake tree of plain files and assert on what
 * it wrote. Nothing here forks. Every function allocates (paths are built with
 * malloc): call them from the single-threaded shim or before fork, not from a
 * child of a threaded process.
 *
 * Detection (cgroup_detect):
 * - a real cgroupfs is recognised by statfs (CGROUP2_SUPER_MAGIC at root: v2) or by
 *   cgroup / cgroup2 mounts directly below root in /proc/self/mountinfo (v1, or hybrid
 *   when a cgroup2 is mounted at <root>/unified). v1 hierarchies are taken from
 *   mountinfo: a co-mounted "cpu,cpuacct" is one hierarchy serving both names, and
 *   "name=systemd" is known as "systemd".
 * - anything else is a fake tree (tests), which declares its layout: a v2 fake root
 *   has a cgroup.controllers file at its top; a v1 fake root has one subdirectory per
 *   hierarchy (named like the mount point, "cpu,cpuacct" serving both; symlinks are
 *   skipped as aliases); a hybrid fake root has those plus unified/cgroup.controllers.
 *   In a fake tree a new cgroup directory gets a copy of each regular file of its
 *   parent, standing in for the control files the kernel would create (cgroup.procs,
 *   tasks, cgroup.subtree_control and v1 cpuset.cpus / cpuset.mems start empty, as
 *   the kernel's do); writes truncate; removal unlinks those files; and nothing that
 *   needs the kernel is attempted (the v2 device eBPF program is generated, checked
 *   and not attached).
 *
 * Resource mapping follows runc (and crun for cpu.weight): 0 means "unset" for memory,
 * swap, reservation, cpu shares/quota/period; -1 means unlimited; pids limit <= 0 is
 * "max". Out-of-range values are refused with a message naming the value. On hybrid,
 * each controller is driven where it is mounted: its v1 hierarchy when it has one,
 * else <root>/unified/<path> (hugetlb here); `unified` keys go to <root>/unified too,
 * and are refused on pure v1.
 */
#ifndef BERTH_RUNTIME_CGROUP_H
#define BERTH_RUNTIME_CGROUP_H

#include "oci/oci.h"

enum cgroup_mode {
	CGROUP_MODE_V1,	    /* only v1 hierarchies */
	CGROUP_MODE_HYBRID, /* v1 controllers + v2 at <root>/unified */
	CGROUP_MODE_V2,	    /* unified */
};

/* Detect the layout under root. */
int cgroup_detect(const char *root, enum cgroup_mode *ret);

/*
 * Turn an OCI cgroupsPath into a path relative to each hierarchy's root.
 * - NULL or "" -> "/berth/<id>" (runc's default is similar)
 * - "/a/b" -> "/a/b"; a relative "a/b" is taken relative to the caller's own cgroup
 *   (as runc does) unless that is "/", then "/a/b"
 * - with systemd == true, "slice:prefix:name" -> "/<slice expanded>/<prefix>-<name>.scope"
 *   (system.slice for an empty slice; "a-b.slice" expands to "a.slice/a-b.slice"),
 *   as crun and runc do when they cannot reach systemd over D-Bus.
 * The returned path always starts with '/' and has no "..".
 */
int cgroup_resolve_path(const char *cgroups_path, const char *id, bool systemd, char **ret,
			struct error **err);

struct cgroup_hierarchy;

struct cgroup {
	char *root; /* "/sys/fs/cgroup" */
	enum cgroup_mode mode;
	char *path; /* relative path, e.g. "/berth/abc" */

	/* private to cgroup.c */
	bool fake;		       /* root is a plain directory tree (tests) */
	struct cgroup_hierarchy *hier; /* v1 hierarchies (v1 and hybrid) */
	size_t n_hier;
};

/*
 * Create the cgroup (every mounted v1 hierarchy, or the v2 directory with the
 * needed controllers enabled in the parents' cgroup.subtree_control), and apply
 * the resources. On failure nothing created is left behind.
 */
int cgroup_create(const char *root, const char *path, const struct oci_resources *res,
		  struct cgroup **ret, struct error **err);
/*
 * Moving a process into a v1 cgroup through cgroup.procs takes cgroup_threadgroup_rwsem for
 * writing, whose first writer waits for an RCU grace period (5-25 ms per container here).
 * A single thread moving itself (writing "0" to `tasks`) skips that lock. So the runtime
 * opens each v1 hierarchy's `tasks` of the container's cgroup for the init, which moves
 * itself once its rootfs is set up; on the hybrid layout the init is born into the unified
 * (v2) part with CLONE_INTO_CGROUP (cgroup_open_unified_fd). -EOPNOTSUPP on v2 and on fake
 * trees (tests), where cgroup_enter and cgroup_open_v2_fd apply.
 */
int cgroup_open_self_enter(const struct cgroup *cg, int **ret_fds, size_t *ret_n);
int cgroup_open_unified_fd(const struct cgroup *cg);
/* Open an existing one (no checks beyond the mode). */
int cgroup_open(const char *root, const char *path, struct cgroup **ret);
void cgroup_free(struct cgroup *cg);
static inline void cgroup_freep(struct cgroup **cg)
{
	cgroup_free(*cg);
}

/*
 * A directory fd of the v2 cgroup, for clone3(CLONE_INTO_CGROUP); -EOPNOTSUPP
 * when the mode is not v2.
 */
int cgroup_open_v2_fd(const struct cgroup *cg);

/* Move pid into the cgroup in every hierarchy. */
int cgroup_enter(const struct cgroup *cg, pid_t pid, struct error **err);

/* (Re)apply resources: create and `update` use this. Unset members are left alone. */
int cgroup_apply(const struct cgroup *cg, const struct oci_resources *res, struct error **err);

/* Freeze or thaw (v1 freezer / v2 cgroup.freeze); waits until the state is reached. */
int cgroup_freeze(const struct cgroup *cg, bool frozen, struct error **err);
/* 1 when frozen, 0 when not, -errno. */
int cgroup_is_frozen(const struct cgroup *cg);

/* Every pid in the cgroup (and below). Caller frees *ret. */
int cgroup_pids(const struct cgroup *cg, pid_t **ret, size_t *n);

/* Send sig to every process (v2 cgroup.kill for SIGKILL when available). */
int cgroup_kill(const struct cgroup *cg, int sig);

/* Remove the directories (after the processes are gone; retries briefly on EBUSY). */
int cgroup_destroy(const struct cgroup *cg);

/* Statistics in the shape of `runc events --stats` "data" (cpu, memory, pids, blkio). */
int cgroup_stats(const struct cgroup *cg, json_object **ret);

/*
 * Tests only: when set, every successful control-file write is reported with the
 * file's path relative to the cgroupfs root ("memory/berth/x/memory.limit_in_bytes")
 * and the value written, in order. Not thread-safe; NULL turns it off.
 */
typedef void (*cgroup_write_trace_fn)(const char *path, const char *value, void *userdata);
void cgroup_set_write_trace(cgroup_write_trace_fn fn, void *userdata);

/* ---- v2 device control (cgroup-devices-bpf.c) ---------------------------------- */

struct bpf_insn;

/*
 * Compile OCI device rules to a BPF_PROG_TYPE_CGROUP_DEVICE program, as runc's
 * devicefilter does: the last rule that matches a request decides, and a request no
 * rule matches is denied. A type of NULL or "a" matches every device, whatever the
 * major, minor and access (as "a" does in v1's devices.allow); an unset or negative
 * major / minor is a wildcard; a NULL or empty access means "rwm". An allow rule
 * matches a request whose access bits are all in the rule's; a deny rule matches one
 * that asks for any of the rule's bits. Rules after an unconditional one are dropped
 * (the verifier refuses unreachable code). Pure: no syscalls.
 */
int cgroup_devices_bpf_generate(const struct oci_device_cgroup *rules, size_t n,
				struct bpf_insn **ret, size_t *ret_n, struct error **err);

/*
 * Load insns and attach them to the cgroup v2 directory cgroup_fd (BPF_CGROUP_DEVICE,
 * BPF_F_ALLOW_MULTI), then detach the device programs that were attached before, so
 * that re-applying replaces the rules.
 */
int cgroup_devices_bpf_attach(int cgroup_fd, const struct bpf_insn *insns, size_t n,
			      struct error **err);

#endif
