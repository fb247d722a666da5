/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup-internal: helpers shared by cgroup.c and cgroup-stats.c (private to the
 * runtime module).
 */
#ifndef BERTH_RUNTIME_CGROUP_INTERNAL_H
#define BERTH_RUNTIME_CGROUP_INTERNAL_H

#include "cgroup.h"

/* One v1 hierarchy: its mount point and the names it serves. */
struct cgroup_hierarchy {
	char *dir;	    /* "/sys/fs/cgroup/cpu,cpuacct" */
	char **controllers; /* "cpu", "cpuacct"; "systemd" for name=systemd */
};

/* "a/b", with b's leading slashes dropped. Caller frees. */
char *cg_join(const char *a, const char *b);
/* Read dir/file with trailing whitespace stripped. */
int cg_read(const char *dir, const char *file, char **ret);
/* Read a number; "max" reads as UINT64_MAX. */
int cg_read_u64(const char *dir, const char *file, uint64_t *ret);
bool cg_exists(const char *dir, const char *file);

/*
 * Write value to dir/file in one write(2), as cgroupfs parses each write on its own;
 * the error names the file and the directory. Reports to the write trace.
 */
int cg_write(const struct cgroup *cg, const char *dir, const char *file, const char *value,
	     struct error **err);
int cg_writef(const struct cgroup *cg, const char *dir, const char *file, struct error **err,
	      const char *fmt, ...) _printf_(5, 6);
/* A whitespace-separated list (a leading '+' ignored) holds tok. */
bool cg_has_token(const char *s, const char *tok);
bool cg_has_control_chars(const char *s);
/* -EOPNOTSUPP with "the NAME controller is not available under ROOT". */
int cg_no_controller(const struct cgroup *cg, const char *name, struct error **err);
/* The controllers of the v2 hierarchy's root (cgroup.controllers); "" on v1. */
char *cg_v2_controllers(const struct cgroup *cg);

/* The v1 hierarchy serving controller, or NULL. */
const struct cgroup_hierarchy *cg_find_hier(const struct cgroup *cg, const char *controller);
/* The cgroup's directory in hierarchy h. Caller frees. */
char *cg_hier_dir(const struct cgroup *cg, const struct cgroup_hierarchy *h);
/* The cgroup's v2 directory (v2: <root>/<path>; hybrid: <root>/unified/<path>); NULL on v1. */
char *cg_v2_dir(const struct cgroup *cg);

#endif
