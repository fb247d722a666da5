/* SPDX-License-Identifier: Apache-2.0 */
#include <sched.h>
#include <inttypes.h>
#include <stddef.h>

#include "oci.h"

#define F(name, type, st, member, req)                                                             \
	{                                                                                          \
		name, type, offsetof(struct st, member), req, NULL, 0, 0                           \
	}
#define FO(name, st, member, fn)                                                                   \
	{                                                                                          \
		name, JF_OBJECT, offsetof(struct st, member), false, fn, 0, 0                      \
	}
#define FA(name, st, member, elem, fn)                                                             \
	{                                                                                          \
		name, JF_ARRAY, offsetof(struct st, member), false, fn, sizeof(struct elem),       \
		    offsetof(struct st, n_##member)                                                \
	}

/* ---- element parsers -------------------------------------------------- */

static int parse_u32_array(json_object *o, uint32_t **ret, size_t *n, const char *path,
			   struct error **err)
{
	size_t len;
	if (!json_object_is_type(o, json_type_array))
		return error_setx(err, -EINVAL, "invalid value for '%s': must be an array", path);
	len = json_object_array_length(o);
	*ret = xnew0(uint32_t, len + 1);
	*n = len;
	for (size_t i = 0; i < len; i++) {
		json_object *e = json_object_array_get_idx(o, i);
		int64_t v;
		if (!json_object_is_type(e, json_type_int) || (v = json_object_get_int64(e)) < 0 ||
		    v > UINT32_MAX) {
			_cleanup_free_ char *ip = json_path_index(path, i);
			return error_setx(err, -EINVAL, "invalid value for '%s': must be a uint32",
					  ip);
		}
		(*ret)[i] = (uint32_t)v;
	}
	return 0;
}

static int parse_user(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("uid", JF_UINT32, oci_user, uid, false),
	    F("gid", JF_UINT32, oci_user, gid, false),
	    F("umask", JF_OPT_U64, oci_user, umask, false),
	    F("username", JF_STRING, oci_user, username, false),
	    JSON_FIELD_END,
	};
	struct oci_user *u = dst;
	json_object *g;
	int r = json_parse_fields(o, fields, dst, path, err);
	if (r < 0)
		return r;
	if (json_object_object_get_ex(o, "additionalGids", &g) && g) {
		_cleanup_free_ char *p = json_path_join(path, "additionalGids");
		r = parse_u32_array(g, &u->additional_gids, &u->n_additional_gids, p, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_console_size(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("height", JF_UINT32, oci_console_size, height, true),
	    F("width", JF_UINT32, oci_console_size, width, true),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_rlimit(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("type", JF_STRING, oci_rlimit, type, true),
	    F("hard", JF_UINT64, oci_rlimit, hard, true),
	    F("soft", JF_UINT64, oci_rlimit, soft, true),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_caps(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("bounding", JF_STRV, oci_capabilities, bounding, false),
	    F("effective", JF_STRV, oci_capabilities, effective, false),
	    F("inheritable", JF_STRV, oci_capabilities, inheritable, false),
	    F("permitted", JF_STRV, oci_capabilities, permitted, false),
	    F("ambient", JF_STRV, oci_capabilities, ambient, false),
	    JSON_FIELD_END,
	};
	((struct oci_capabilities *)dst)->present = true;
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_io_priority(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("class", JF_STRING, oci_io_priority, class, true),
	    F("priority", JF_INT, oci_io_priority, priority, false),
	    JSON_FIELD_END,
	};
	((struct oci_io_priority *)dst)->present = true;
	return json_parse_fields(o, fields, dst, path, err);
}

static const struct json_field process_fields[] = {
    F("terminal", JF_BOOL, oci_process, terminal, false),
    FO("consoleSize", oci_process, console_size, parse_console_size),
    FO("user", oci_process, user, parse_user),
    F("args", JF_STRV, oci_process, args, false),
    F("commandLine", JF_STRING, oci_process, command_line, false),
    F("env", JF_STRV, oci_process, env, false),
    F("cwd", JF_STRING, oci_process, cwd, true),
    FO("capabilities", oci_process, capabilities, parse_caps),
    FA("rlimits", oci_process, rlimits, oci_rlimit, parse_rlimit),
    F("noNewPrivileges", JF_BOOL, oci_process, no_new_privileges, false),
    F("apparmorProfile", JF_STRING, oci_process, apparmor_profile, false),
    F("oomScoreAdj", JF_OPT_I64, oci_process, oom_score_adj, false),
    F("selinuxLabel", JF_STRING, oci_process, selinux_label, false),
    FO("ioPriority", oci_process, io_priority, parse_io_priority),
    JSON_FIELD_END,
};

static int parse_process_into(json_object *o, struct oci_process *p, const char *path,
			      struct error **err)
{
	json_object *cs;
	int r = json_parse_fields(o, process_fields, p, path, err);
	if (r < 0)
		return r;
	p->has_console_size = json_object_object_get_ex(o, "consoleSize", &cs) && cs;
	return 0;
}

static int parse_process(json_object *o, void *dst, const char *path, struct error **err)
{
	struct oci_process **pp = dst;
	*pp = xnew0(struct oci_process, 1);
	return parse_process_into(o, *pp, path, err);
}

static int parse_root(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("path", JF_STRING, oci_root, path, true),
	    F("readonly", JF_BOOL, oci_root, readonly, false),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_id_mapping(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("containerID", JF_UINT32, oci_id_mapping, container_id, true),
	    F("hostID", JF_UINT32, oci_id_mapping, host_id, true),
	    F("size", JF_UINT32, oci_id_mapping, size, true),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_mount(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("destination", JF_STRING, oci_mount, destination, true),
	    F("type", JF_STRING, oci_mount, type, false),
	    F("source", JF_STRING, oci_mount, source, false),
	    F("options", JF_STRV, oci_mount, options, false),
	    FA("uidMappings", oci_mount, uid_mappings, oci_id_mapping, parse_id_mapping),
	    FA("gidMappings", oci_mount, gid_mappings, oci_id_mapping, parse_id_mapping),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_hook(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("path", JF_STRING, oci_hook, path, true),
	    F("args", JF_STRV, oci_hook, args, false),
	    F("env", JF_STRV, oci_hook, env, false),
	    F("timeout", JF_OPT_I64, oci_hook, timeout, false),
	    JSON_FIELD_END,
	};
	struct oci_hook *h = dst;
	int r = json_parse_fields(o, fields, dst, path, err);
	if (r < 0)
		return r;
	if (h->timeout.set && h->timeout.v <= 0) {
		_cleanup_free_ char *p = json_path_join(path, "timeout");
		return error_setx(err, -EINVAL, "invalid value for '%s': must be positive", p);
	}
	return 0;
}

static int parse_hooks(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    FA("prestart", oci_hooks, prestart, oci_hook, parse_hook),
	    FA("createRuntime", oci_hooks, create_runtime, oci_hook, parse_hook),
	    FA("createContainer", oci_hooks, create_container, oci_hook, parse_hook),
	    FA("startContainer", oci_hooks, start_container, oci_hook, parse_hook),
	    FA("poststart", oci_hooks, poststart, oci_hook, parse_hook),
	    FA("poststop", oci_hooks, poststop, oci_hook, parse_hook),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_namespace(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("type", JF_STRING, oci_namespace, type, true),
	    F("path", JF_STRING, oci_namespace, path, false),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_device(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("type", JF_STRING, oci_device, type, true),
	    F("path", JF_STRING, oci_device, path, true),
	    F("major", JF_INT64, oci_device, major, false),
	    F("minor", JF_INT64, oci_device, minor, false),
	    F("fileMode", JF_OPT_U64, oci_device, file_mode, false),
	    F("uid", JF_OPT_U64, oci_device, uid, false),
	    F("gid", JF_OPT_U64, oci_device, gid, false),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_device_cgroup(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("allow", JF_BOOL, oci_device_cgroup, allow, true),
	    F("type", JF_STRING, oci_device_cgroup, type, false),
	    F("major", JF_OPT_I64, oci_device_cgroup, major, false),
	    F("minor", JF_OPT_I64, oci_device_cgroup, minor, false),
	    F("access", JF_STRING, oci_device_cgroup, access, false),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_memory(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("limit", JF_OPT_I64, oci_memory, limit, false),
	    F("reservation", JF_OPT_I64, oci_memory, reservation, false),
	    F("swap", JF_OPT_I64, oci_memory, swap, false),
	    F("kernel", JF_OPT_I64, oci_memory, kernel, false),
	    F("kernelTCP", JF_OPT_I64, oci_memory, kernel_tcp, false),
	    F("swappiness", JF_OPT_U64, oci_memory, swappiness, false),
	    F("disableOOMKiller", JF_BOOL, oci_memory, disable_oom_killer, false),
	    F("useHierarchy", JF_BOOL, oci_memory, use_hierarchy, false),
	    F("checkBeforeUpdate", JF_BOOL, oci_memory, check_before_update, false),
	    JSON_FIELD_END,
	};
	((struct oci_memory *)dst)->present = true;
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_cpu(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("shares", JF_OPT_U64, oci_cpu, shares, false),
	    F("quota", JF_OPT_I64, oci_cpu, quota, false),
	    F("burst", JF_OPT_U64, oci_cpu, burst, false),
	    F("period", JF_OPT_U64, oci_cpu, period, false),
	    F("realtimeRuntime", JF_OPT_I64, oci_cpu, realtime_runtime, false),
	    F("realtimePeriod", JF_OPT_U64, oci_cpu, realtime_period, false),
	    F("cpus", JF_STRING, oci_cpu, cpus, false),
	    F("mems", JF_STRING, oci_cpu, mems, false),
	    F("idle", JF_OPT_I64, oci_cpu, idle, false),
	    JSON_FIELD_END,
	};
	((struct oci_cpu *)dst)->present = true;
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_pids(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("limit", JF_OPT_I64, oci_pids, limit, false),
	    JSON_FIELD_END,
	};
	((struct oci_pids *)dst)->present = true;
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_weight_device(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("major", JF_INT64, oci_weight_device, major, true),
	    F("minor", JF_INT64, oci_weight_device, minor, true),
	    F("weight", JF_OPT_U64, oci_weight_device, weight, false),
	    F("leafWeight", JF_OPT_U64, oci_weight_device, leaf_weight, false),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_throttle_device(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("major", JF_INT64, oci_throttle_device, major, true),
	    F("minor", JF_INT64, oci_throttle_device, minor, true),
	    F("rate", JF_UINT64, oci_throttle_device, rate, true),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_block_io(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("weight", JF_OPT_U64, oci_block_io, weight, false),
	    F("leafWeight", JF_OPT_U64, oci_block_io, leaf_weight, false),
	    FA("weightDevice", oci_block_io, weight_device, oci_weight_device, parse_weight_device),
	    FA("throttleReadBpsDevice", oci_block_io, throttle_read_bps, oci_throttle_device,
	       parse_throttle_device),
	    FA("throttleWriteBpsDevice", oci_block_io, throttle_write_bps, oci_throttle_device,
	       parse_throttle_device),
	    FA("throttleReadIOPSDevice", oci_block_io, throttle_read_iops, oci_throttle_device,
	       parse_throttle_device),
	    FA("throttleWriteIOPSDevice", oci_block_io, throttle_write_iops, oci_throttle_device,
	       parse_throttle_device),
	    JSON_FIELD_END,
	};
	((struct oci_block_io *)dst)->present = true;
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_hugepage(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("pageSize", JF_STRING, oci_hugepage_limit, page_size, true),
	    F("limit", JF_UINT64, oci_hugepage_limit, limit, true),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_resources(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    FA("devices", oci_resources, devices, oci_device_cgroup, parse_device_cgroup),
	    FO("memory", oci_resources, memory, parse_memory),
	    FO("cpu", oci_resources, cpu, parse_cpu),
	    FO("pids", oci_resources, pids, parse_pids),
	    FO("blockIO", oci_resources, block_io, parse_block_io),
	    FA("hugepageLimits", oci_resources, hugepage_limits, oci_hugepage_limit,
	       parse_hugepage),
	    F("unified", JF_STRMAP, oci_resources, unified, false),
	    JSON_FIELD_END,
	};
	((struct oci_resources *)dst)->present = true;
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_seccomp_arg(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("index", JF_UINT32, oci_seccomp_arg, index, true),
	    F("value", JF_UINT64, oci_seccomp_arg, value, true),
	    F("valueTwo", JF_UINT64, oci_seccomp_arg, value_two, false),
	    F("op", JF_STRING, oci_seccomp_arg, op, true),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_seccomp_syscall(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("names", JF_STRV, oci_seccomp_syscall, names, true),
	    F("action", JF_STRING, oci_seccomp_syscall, action, true),
	    F("errnoRet", JF_OPT_U64, oci_seccomp_syscall, errno_ret, false),
	    FA("args", oci_seccomp_syscall, args, oci_seccomp_arg, parse_seccomp_arg),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_seccomp(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("defaultAction", JF_STRING, oci_seccomp, default_action, true),
	    F("defaultErrnoRet", JF_OPT_U64, oci_seccomp, default_errno_ret, false),
	    F("architectures", JF_STRV, oci_seccomp, architectures, false),
	    F("flags", JF_STRV, oci_seccomp, flags, false),
	    F("listenerPath", JF_STRING, oci_seccomp, listener_path, false),
	    F("listenerMetadata", JF_STRING, oci_seccomp, listener_metadata, false),
	    FA("syscalls", oci_seccomp, syscalls, oci_seccomp_syscall, parse_seccomp_syscall),
	    JSON_FIELD_END,
	};
	struct oci_seccomp **sp = dst;
	*sp = xnew0(struct oci_seccomp, 1);
	return json_parse_fields(o, fields, *sp, path, err);
}

static int parse_personality(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("domain", JF_STRING, oci_personality, domain, true),
	    F("flags", JF_STRV, oci_personality, flags, false),
	    JSON_FIELD_END,
	};
	struct oci_personality **pp = dst;
	*pp = xnew0(struct oci_personality, 1);
	return json_parse_fields(o, fields, *pp, path, err);
}

static int parse_time_offsets(json_object *o, void *dst, const char *path, struct error **err)
{
	struct kv_list *l = dst;
	l->items = xnew0(struct kv, (size_t)json_object_object_length(o) + 1);
	json_object_object_foreach(o, key, val)
	{
		_cleanup_free_ char *kp = json_path_join(path, key);
		json_object *s, *ns;
		int64_t secs = 0, nsecs = 0;
		if (!json_object_is_type(val, json_type_object))
			return error_setx(err, -EINVAL, "invalid value for '%s': must be an object",
					  kp);
		if (json_object_object_get_ex(val, "secs", &s))
			secs = json_object_get_int64(s);
		if (json_object_object_get_ex(val, "nanosecs", &ns))
			nsecs = json_object_get_int64(ns);
		l->items[l->n].key = xstrdup(key);
		l->items[l->n].value = xasprintf("%" PRId64 " %" PRId64, secs, nsecs);
		l->n++;
	}
	return 0;
}

static int parse_linux(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    FA("namespaces", oci_linux, namespaces, oci_namespace, parse_namespace),
	    FA("uidMappings", oci_linux, uid_mappings, oci_id_mapping, parse_id_mapping),
	    FA("gidMappings", oci_linux, gid_mappings, oci_id_mapping, parse_id_mapping),
	    FA("devices", oci_linux, devices, oci_device, parse_device),
	    F("cgroupsPath", JF_STRING, oci_linux, cgroups_path, false),
	    FO("resources", oci_linux, resources, parse_resources),
	    F("rootfsPropagation", JF_STRING, oci_linux, rootfs_propagation, false),
	    FO("seccomp", oci_linux, seccomp, parse_seccomp),
	    F("sysctl", JF_STRMAP, oci_linux, sysctl, false),
	    F("maskedPaths", JF_STRV, oci_linux, masked_paths, false),
	    F("readonlyPaths", JF_STRV, oci_linux, readonly_paths, false),
	    F("mountLabel", JF_STRING, oci_linux, mount_label, false),
	    FO("personality", oci_linux, personality, parse_personality),
	    FO("timeOffsets", oci_linux, time_offsets, parse_time_offsets),
	    JSON_FIELD_END,
	};
	((struct oci_linux *)dst)->present = true;
	return json_parse_fields(o, fields, dst, path, err);
}

static const struct json_field spec_fields[] = {
    F("ociVersion", JF_STRING, oci_spec, oci_version, true),
    FO("root", oci_spec, root, parse_root),
    FA("mounts", oci_spec, mounts, oci_mount, parse_mount),
    FO("process", oci_spec, process, parse_process),
    F("hostname", JF_STRING, oci_spec, hostname, false),
    F("domainname", JF_STRING, oci_spec, domainname, false),
    FO("hooks", oci_spec, hooks, parse_hooks),
    F("annotations", JF_STRMAP, oci_spec, annotations, false),
    FO("linux", oci_spec, linux, parse_linux),
    JSON_FIELD_END,
};

int oci_spec_parse(json_object *doc, struct oci_spec **ret, struct error **err)
{
	_cleanup_(oci_spec_freep) struct oci_spec *s = xnew0(struct oci_spec, 1);
	int r = json_parse_fields(doc, spec_fields, s, "", err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

int oci_spec_load(const char *path, struct oci_spec **ret, struct error **err)
{
	_cleanup_json_ json_object *doc = NULL;
	int r = json_parse_file(path, 16 << 20, &doc, err);
	if (r < 0)
		return r;
	r = oci_spec_parse(doc, ret, err);
	if (r < 0)
		return error_prefix(err, r, "invalid config '%s'", path);
	return 0;
}

int oci_process_parse(json_object *doc, struct oci_process **ret, struct error **err)
{
	struct oci_process *p = xnew0(struct oci_process, 1);
	int r = parse_process_into(doc, p, "", err);
	if (r < 0) {
		oci_process_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

/* ---- release ---------------------------------------------------------- */

static void process_release(struct oci_process *p)
{
	free(p->user.additional_gids);
	free(p->user.username);
	strv_free(p->args);
	free(p->command_line);
	strv_free(p->env);
	free(p->cwd);
	strv_free(p->capabilities.bounding);
	strv_free(p->capabilities.effective);
	strv_free(p->capabilities.inheritable);
	strv_free(p->capabilities.permitted);
	strv_free(p->capabilities.ambient);
	for (size_t i = 0; i < p->n_rlimits; i++)
		free(p->rlimits[i].type);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p->io_priority.class);
}

void oci_process_free(struct oci_process *p)
{
	if (!p)
		return;
	process_release(p);
	free(p);
}

static void hooks_release(struct oci_hook *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].path);
		strv_free(h[i].args);
		strv_free(h[i].env);
	}
	free(h);
}

static void seccomp_free(struct oci_seccomp *s)
{
	if (!s)
		return;
	free(s->default_action);
	strv_free(s->architectures);
	strv_free(s->flags);
	free(s->listener_path);
	free(s->listener_metadata);
	for (size_t i = 0; i < s->n_syscalls; i++) {
		strv_free(s->syscalls[i].names);
		free(s->syscalls[i].action);
		for (size_t j = 0; j < s->syscalls[i].n_args; j++)
			free(s->syscalls[i].args[j].op);
		free(s->syscalls[i].args);
	}
	free(s->syscalls);
	free(s);
}

void oci_spec_free(struct oci_spec *s)
{
	struct oci_linux *l;
	struct oci_resources *res;

	if (!s)
		return;
	free(s->oci_version);
	free(s->root.path);
	for (size_t i = 0; i < s->n_mounts; i++) {
		free(s->mounts[i].destination);
		free(s->mounts[i].type);
		free(s->mounts[i].source);
		strv_free(s->mounts[i].options);
		free(s->mounts[i].uid_mappings);
		free(s->mounts[i].gid_mappings);
	}
	free(s->mounts);
	oci_process_free(s->process);
	free(s->hostname);
	free(s->domainname);
	hooks_release(s->hooks.prestart, s->hooks.n_prestart);
	hooks_release(s->hooks.create_runtime, s->hooks.n_create_runtime);
	hooks_release(s->hooks.create_container, s->hooks.n_create_container);
	hooks_release(s->hooks.start_container, s->hooks.n_start_container);
	hooks_release(s->hooks.poststart, s->hooks.n_poststart);
	hooks_release(s->hooks.poststop, s->hooks.n_poststop);
	kv_list_release(&s->annotations);

	l = &s->linux;
	for (size_t i = 0; i < l->n_namespaces; i++) {
		free(l->namespaces[i].type);
		free(l->namespaces[i].path);
	}
	free(l->namespaces);
	free(l->uid_mappings);
	free(l->gid_mappings);
	for (size_t i = 0; i < l->n_devices; i++) {
		free(l->devices[i].type);
		free(l->devices[i].path);
	}
	free(l->devices);
	free(l->cgroups_path);
	res = &l->resources;
	for (size_t i = 0; i < res->n_devices; i++) {
		free(res->devices[i].type);
		free(res->devices[i].access);
	}
	free(res->devices);
	free(res->cpu.cpus);
	free(res->cpu.mems);
	free(res->block_io.weight_device);
	free(res->block_io.throttle_read_bps);
	free(res->block_io.throttle_write_bps);
	free(res->block_io.throttle_read_iops);
	free(res->block_io.throttle_write_iops);
	for (size_t i = 0; i < res->n_hugepage_limits; i++)
		free(res->hugepage_limits[i].page_size);
	free(res->hugepage_limits);
	kv_list_release(&res->unified);
	free(l->rootfs_propagation);
	seccomp_free(l->seccomp);
	kv_list_release(&l->sysctl);
	strv_free(l->masked_paths);
	strv_free(l->readonly_paths);
	free(l->mount_label);
	if (l->personality) {
		free(l->personality->domain);
		strv_free(l->personality->flags);
		free(l->personality);
	}
	kv_list_release(&l->time_offsets);
	free(s);
}

/* ---- namespaces ------------------------------------------------------- */

static const struct {
	const char *name;
	const char *proc;
	int flag;
} ns_table[_OCI_NS_MAX] = {
    [OCI_NS_PID] = {"pid", "pid", CLONE_NEWPID},
    [OCI_NS_NET] = {"network", "net", CLONE_NEWNET},
    [OCI_NS_MNT] = {"mount", "mnt", CLONE_NEWNS},
    [OCI_NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
    [OCI_NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
    [OCI_NS_USER] = {"user", "user", CLONE_NEWUSER},
    [OCI_NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
    [OCI_NS_TIME] = {"time", "time", 0x00000080 /* CLONE_NEWTIME */},
};

int oci_ns_from_string(const char *s)
{
	for (int i = 0; i < _OCI_NS_MAX; i++)
		if (streq(ns_table[i].name, s))
			return i;
	return -1;
}

const char *oci_ns_to_string(enum oci_ns ns)
{
	return ns_table[ns].name;
}

int oci_ns_clone_flag(enum oci_ns ns)
{
	return ns_table[ns].flag;
}

const char *oci_ns_proc_name(enum oci_ns ns)
{
	return ns_table[ns].proc;
}

const struct oci_namespace *oci_spec_find_ns(const struct oci_spec *s, enum oci_ns ns)
{
	for (size_t i = 0; i < s->linux.n_namespaces; i++)
		if (oci_ns_from_string(s->linux.namespaces[i].type) == (int)ns)
			return &s->linux.namespaces[i];
	return NULL;
}
