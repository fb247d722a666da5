/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oci: the OCI runtime-spec 1.2 (Linux) configuration as C types, parsed from
 * config.json through field tables, plus the state document.
 *
 * Every pointer member is owned by the struct; oci_spec_free() releases it all.
 * Absent optional members are NULL / 0 / .set == false.
 */
#ifndef BERTH_OCI_H
#define BERTH_OCI_H

#include "json/json.h"

#define OCI_VERSION "1.2.0"

struct oci_user {
	uint32_t uid;
	uint32_t gid;
	struct opt_u64 umask;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	char *username;
};

struct oci_rlimit {
	char *type; /* "RLIMIT_NOFILE" */
	uint64_t hard;
	uint64_t soft;
};

struct oci_capabilities {
	char **bounding;
	char **effective;
	char **inheritable;
	char **permitted;
	char **ambient;
	bool present; /* the "capabilities" member was given */
};

struct oci_console_size {
	uint32_t height;
	uint32_t width;
};

struct oci_io_priority {
	char *class;
	int priority;
	bool present;
};

struct oci_process {
	bool terminal;
	struct oci_console_size console_size;
	bool has_console_size;
	struct oci_user user;
	char **args;
	char *command_line;
	char **env;
	char *cwd;
	struct oci_capabilities capabilities;
	struct oci_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	char *apparmor_profile;
	struct opt_i64 oom_score_adj;
	char *selinux_label;
	struct oci_io_priority io_priority;
};

struct oci_root {
	char *path;
	bool readonly;
};

struct oci_mount {
	char *destination;
	char *type;
	char *source;
	char **options;
	/* uid/gid mappings for idmapped mounts */
	struct oci_id_mapping *uid_mappings;
	size_t n_uid_mappings;
	struct oci_id_mapping *gid_mappings;
	size_t n_gid_mappings;
};

struct oci_hook {
	char *path;
	char **args;
	char **env;
	struct opt_i64 timeout;
};

struct oci_hooks {
	struct oci_hook *prestart;
	size_t n_prestart;
	struct oci_hook *create_runtime;
	size_t n_create_runtime;
	struct oci_hook *create_container;
	size_t n_create_container;
	struct oci_hook *start_container;
	size_t n_start_container;
	struct oci_hook *poststart;
	size_t n_poststart;
	struct oci_hook *poststop;
	size_t n_poststop;
};

struct oci_namespace {
	char *type; /* pid network mount ipc uts user cgroup time */
	char *path;
};

struct oci_id_mapping {
	uint32_t container_id;
	uint32_t host_id;
	uint32_t size;
};

struct oci_device {
	char *type; /* c b u p */
	char *path;
	int64_t major;
	int64_t minor;
	struct opt_u64 file_mode;
	struct opt_u64 uid;
	struct opt_u64 gid;
};

struct oci_device_cgroup {
	bool allow;
	char *type; /* a c b, NULL = all */
	struct opt_i64 major;
	struct opt_i64 minor;
	char *access;
};

struct oci_memory {
	struct opt_i64 limit;
	struct opt_i64 reservation;
	struct opt_i64 swap;
	struct opt_i64 kernel;
	struct opt_i64 kernel_tcp;
	struct opt_u64 swappiness;
	bool disable_oom_killer;
	bool use_hierarchy;
	bool check_before_update;
	bool present;
};

struct oci_cpu {
	struct opt_u64 shares;
	struct opt_i64 quota;
	struct opt_u64 burst;
	struct opt_u64 period;
	struct opt_i64 realtime_runtime;
	struct opt_u64 realtime_period;
	char *cpus;
	char *mems;
	struct opt_i64 idle;
	bool present;
};

struct oci_pids {
	struct opt_i64 limit;
	bool present;
};

struct oci_weight_device {
	int64_t major;
	int64_t minor;
	struct opt_u64 weight;
	struct opt_u64 leaf_weight;
};

struct oci_throttle_device {
	int64_t major;
	int64_t minor;
	uint64_t rate;
};

struct oci_block_io {
	struct opt_u64 weight;
	struct opt_u64 leaf_weight;
	struct oci_weight_device *weight_device;
	size_t n_weight_device;
	struct oci_throttle_device *throttle_read_bps;
	size_t n_throttle_read_bps;
	struct oci_throttle_device *throttle_write_bps;
	size_t n_throttle_write_bps;
	struct oci_throttle_device *throttle_read_iops;
	size_t n_throttle_read_iops;
	struct oci_throttle_device *throttle_write_iops;
	size_t n_throttle_write_iops;
	bool present;
};

struct oci_hugepage_limit {
	char *page_size;
	uint64_t limit;
};

struct oci_resources {
	struct oci_device_cgroup *devices;
	size_t n_devices;
	struct oci_memory memory;
	struct oci_cpu cpu;
	struct oci_pids pids;
	struct oci_block_io block_io;
	struct oci_hugepage_limit *hugepage_limits;
	size_t n_hugepage_limits;
	struct kv_list unified; /* cgroup v2 raw key/values */
	bool present;
};

struct oci_seccomp_arg {
	uint32_t index;
	uint64_t value;
	uint64_t value_two;
	char *op; /* SCMP_CMP_EQ ... */
};

struct oci_seccomp_syscall {
	char **names;
	char *action;
	struct opt_u64 errno_ret;
	struct oci_seccomp_arg *args;
	size_t n_args;
};

struct oci_seccomp {
	char *default_action;
	struct opt_u64 default_errno_ret;
	char **architectures;
	char **flags;
	char *listener_path;
	char *listener_metadata;
	struct oci_seccomp_syscall *syscalls;
	size_t n_syscalls;
};

struct oci_personality {
	char *domain;
	char **flags;
};

struct oci_linux {
	struct oci_namespace *namespaces;
	size_t n_namespaces;
	struct oci_id_mapping *uid_mappings;
	size_t n_uid_mappings;
	struct oci_id_mapping *gid_mappings;
	size_t n_gid_mappings;
	struct oci_device *devices;
	size_t n_devices;
	char *cgroups_path;
	struct oci_resources resources;
	char *rootfs_propagation;
	struct oci_seccomp *seccomp;
	struct kv_list sysctl;
	char **masked_paths;
	char **readonly_paths;
	char *mount_label;
	struct oci_personality *personality;
	struct kv_list time_offsets; /* "monotonic" -> "secs nanosecs" */
	bool present;
};

struct oci_spec {
	char *oci_version;
	struct oci_root root;
	struct oci_mount *mounts;
	size_t n_mounts;
	struct oci_process *process; /* NULL when absent (allowed for create only) */
	char *hostname;
	char *domainname;
	struct oci_hooks hooks;
	struct kv_list annotations;
	struct oci_linux linux;
};

/* Parse a config.json document. The error names the offending field. */
int oci_spec_parse(json_object *doc, struct oci_spec **ret, struct error **err);
int oci_spec_load(const char *path, struct oci_spec **ret, struct error **err);
void oci_spec_free(struct oci_spec *s);
static inline void oci_spec_freep(struct oci_spec **s)
{
	oci_spec_free(*s);
}

/*
 * Check the parsed spec for contradictions that the field tables cannot see
 * (duplicate namespaces, relative mount destinations, mappings without a user
 * namespace, unknown rlimits ...). The error names the field.
 */
int oci_spec_validate(const struct oci_spec *s, struct error **err);

/* Parse a process.json (exec --process) into *ret. */
int oci_process_parse(json_object *doc, struct oci_process **ret, struct error **err);
void oci_process_free(struct oci_process *p);

/* Namespace helpers. */
enum oci_ns {
	OCI_NS_PID,
	OCI_NS_NET,
	OCI_NS_MNT,
	OCI_NS_IPC,
	OCI_NS_UTS,
	OCI_NS_USER,
	OCI_NS_CGROUP,
	OCI_NS_TIME,
	_OCI_NS_MAX,
};
/* "network" -> OCI_NS_NET; -1 if unknown. */
int oci_ns_from_string(const char *s);
const char *oci_ns_to_string(enum oci_ns ns);
/* CLONE_NEW* flag; file name under /proc/PID/ns. */
int oci_ns_clone_flag(enum oci_ns ns);
const char *oci_ns_proc_name(enum oci_ns ns);
const struct oci_namespace *oci_spec_find_ns(const struct oci_spec *s, enum oci_ns ns);

/* The default spec, as `spec` prints it. rootless adds a user namespace. */
json_object *oci_spec_default(bool rootless);

#endif
