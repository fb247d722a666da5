/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup: a container's control group on cgroup v1, v2 or the hybrid layout
 * (v1 controllers plus a v2 hierarchy at <root>/unified).
 *
 * The cgroupfs root is a parameter ("/sys/fs/cgroup" in production) so the
 * tests can point the code at a fake tree of plain files and assert on what
 * it wrote. Nothing here forks, and nothing here is async-signal-unsafe after
 * cgroup_open() / cgroup_create() returned, except where noted.
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

struct cgroup {
	char *root;          /* "/sys/fs/cgroup" */
	enum cgroup_mode mode;
	char *path;          /* relative path, e.g. "/berth/abc" */
};

/*
 * Create the cgroup (every mounted v1 hierarchy, or the v2 directory with the
 * needed controllers enabled in the parents' cgroup.subtree_control), and apply
 * the resources. On failure nothing created is left behind.
 */
int cgroup_create(const char *root, const char *path, const struct oci_resources *res,
		  struct cgroup **ret, struct error **err);
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

#endif
