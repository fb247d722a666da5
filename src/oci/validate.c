/* SPDX-License-Identifier: Apache-2.0 */
#include <sys/resource.h>

#include "oci.h"

static const char *const rlimit_names[] = {
    "RLIMIT_AS",     "RLIMIT_CORE",   "RLIMIT_CPU",	   "RLIMIT_DATA",
    "RLIMIT_FSIZE",  "RLIMIT_LOCKS",  "RLIMIT_MEMLOCK",	   "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",   "RLIMIT_NOFILE", "RLIMIT_NPROC",	   "RLIMIT_RSS",
    "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK",
};

static bool known_rlimit(const char *s)
{
	for (size_t i = 0; i < ELEMENTSOF(rlimit_names); i++)
		if (streq(rlimit_names[i], s))
			return true;
	return false;
}

/* A namespace the container gets a new instance of (listed, without a path). */
static bool ns_private(const struct oci_spec *s, enum oci_ns ns)
{
	const struct oci_namespace *n = oci_spec_find_ns(s, ns);
	return n && isempty(n->path);
}

static int validate_sysctl(const struct oci_spec *s, const char *key, struct error **err)
{
	static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",	    "kernel.msgmni",
					  "kernel.sem",	   "kernel.shmall",	    "kernel.shmmax",
					  "kernel.shmmni", "kernel.shm_rmid_forced"};
	if (strchr(key, '/') || strstr(key, ".."))
		return error_setx(err, -EINVAL, "invalid value for 'linux.sysctl': bad key '%s'",
				  key);
	for (size_t i = 0; i < ELEMENTSOF(ipc); i++)
		if (streq(key, ipc[i])) {
			if (!oci_spec_find_ns(s, OCI_NS_IPC))
				return error_setx(
				    err, -EINVAL,
				    "sysctl '%s' is not allowed in the host's ipc namespace", key);
			return 0;
		}
	if (startswith(key, "fs.mqueue.")) {
		if (!oci_spec_find_ns(s, OCI_NS_IPC))
			return error_setx(err, -EINVAL,
					  "sysctl '%s' is not allowed in the host's ipc namespace",
					  key);
		return 0;
	}
	if (startswith(key, "net.")) {
		if (!oci_spec_find_ns(s, OCI_NS_NET))
			return error_setx(
			    err, -EINVAL,
			    "sysctl '%s' is not allowed in the host's network namespace", key);
		return 0;
	}
	if (streq(key, "kernel.hostname") || streq(key, "kernel.domainname")) {
		if (!oci_spec_find_ns(s, OCI_NS_UTS))
			return error_setx(err, -EINVAL,
					  "sysctl '%s' is not allowed in the host's uts namespace",
					  key);
		return 0;
	}
	return error_setx(err, -EINVAL, "sysctl '%s' is not in a separate kernel namespace", key);
}

static int validate_process(const struct oci_process *p, const char *path, struct error **err)
{
	if (strv_length(p->args) == 0 && isempty(p->command_line))
		return error_setx(err, -EINVAL, "invalid value for '%sargs': must not be empty",
				  path);
	if (isempty(p->cwd) || p->cwd[0] != '/')
		return error_setx(err, -EINVAL,
				  "invalid value for '%scwd': must be an absolute path", path);
	for (size_t i = 0; i < p->n_rlimits; i++) {
		if (!known_rlimit(p->rlimits[i].type))
			return error_setx(
			    err, -EINVAL,
			    "invalid value for '%srlimits[%zu].type': unknown rlimit '%s'", path, i,
			    p->rlimits[i].type);
		if (p->rlimits[i].soft > p->rlimits[i].hard)
			return error_setx(err, -EINVAL,
					  "invalid value for '%srlimits[%zu]': soft limit is above "
					  "the hard limit",
					  path, i);
		for (size_t j = 0; j < i; j++)
			if (streq(p->rlimits[i].type, p->rlimits[j].type))
				return error_setx(err, -EINVAL,
						  "invalid value for '%srlimits': duplicate '%s'",
						  path, p->rlimits[i].type);
	}
	if (p->oom_score_adj.set && (p->oom_score_adj.v < -1000 || p->oom_score_adj.v > 1000))
		return error_setx(
		    err, -EINVAL,
		    "invalid value for '%soomScoreAdj': must be between -1000 and 1000", path);
	if (p->terminal && p->has_console_size &&
	    (p->console_size.height > 65535 || p->console_size.width > 65535))
		return error_setx(err, -EINVAL, "invalid value for '%sconsoleSize': too large",
				  path);
	return 0;
}

int oci_spec_validate(const struct oci_spec *s, struct error **err)
{
	const struct oci_linux *l = &s->linux;
	bool seen[_OCI_NS_MAX] = {false};
	int r;

	if (!startswith(s->oci_version, "1."))
		return error_setx(err, -EINVAL,
				  "invalid value for 'ociVersion': unsupported version '%s'",
				  s->oci_version);
	if (isempty(s->root.path))
		return error_setx(err, -EINVAL, "missing required field 'root.path'");
	if (s->process) {
		r = validate_process(s->process, "process.", err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < l->n_namespaces; i++) {
		int ns = oci_ns_from_string(l->namespaces[i].type);
		if (ns < 0)
			return error_setx(err, -EINVAL,
					  "invalid value for 'linux.namespaces[%zu].type': unknown "
					  "namespace '%s'",
					  i, l->namespaces[i].type);
		if (seen[ns])
			return error_setx(
			    err, -EINVAL,
			    "invalid value for 'linux.namespaces': duplicate namespace "
			    "'%s'",
			    l->namespaces[i].type);
		seen[ns] = true;
		if (l->namespaces[i].path && l->namespaces[i].path[0] != '/')
			return error_setx(
			    err, -EINVAL,
			    "invalid value for 'linux.namespaces[%zu].path': must be an "
			    "absolute path",
			    i);
	}
	if ((l->n_uid_mappings || l->n_gid_mappings) && !ns_private(s, OCI_NS_USER))
		return error_setx(err, -EINVAL,
				  "invalid value for 'linux.uidMappings': user namespace mappings "
				  "require a new user namespace");
	if (ns_private(s, OCI_NS_USER) && (!l->n_uid_mappings || !l->n_gid_mappings))
		return error_setx(
		    err, -EINVAL,
		    "invalid value for 'linux.uidMappings': a new user namespace needs "
		    "uid and gid mappings");
	if (!isempty(s->hostname) && !ns_private(s, OCI_NS_UTS))
		return error_setx(
		    err, -EINVAL,
		    "invalid value for 'hostname': setting the hostname requires a new "
		    "uts namespace");
	if (!isempty(s->domainname) && !ns_private(s, OCI_NS_UTS))
		return error_setx(
		    err, -EINVAL,
		    "invalid value for 'domainname': setting the domainname requires a "
		    "new uts namespace");
	if (l->time_offsets.n && !ns_private(s, OCI_NS_TIME))
		return error_setx(
		    err, -EINVAL,
		    "invalid value for 'linux.timeOffsets': time offsets require a new "
		    "time namespace");
	for (size_t i = 0; i < s->n_mounts; i++)
		if (isempty(s->mounts[i].destination))
			return error_setx(
			    err, -EINVAL,
			    "invalid value for 'mounts[%zu].destination': must not be "
			    "empty",
			    i);
	for (size_t i = 0; i < l->n_devices; i++) {
		const char *t = l->devices[i].type;
		if (!streq(t, "c") && !streq(t, "b") && !streq(t, "u") && !streq(t, "p"))
			return error_setx(
			    err, -EINVAL,
			    "invalid value for 'linux.devices[%zu].type': unknown type "
			    "'%s'",
			    i, t);
		if (l->devices[i].path[0] != '/' || !startswith(l->devices[i].path, "/dev/"))
			return error_setx(
			    err, -EINVAL,
			    "invalid value for 'linux.devices[%zu].path': must be under "
			    "/dev",
			    i);
	}
	for (size_t i = 0; i < l->resources.n_devices; i++) {
		const struct oci_device_cgroup *d = &l->resources.devices[i];
		if (d->type && !streq(d->type, "a") && !streq(d->type, "c") && !streq(d->type, "b"))
			return error_setx(err, -EINVAL,
					  "invalid value for 'linux.resources.devices[%zu].type': "
					  "unknown type '%s'",
					  i, d->type);
		if (d->access && strspn(d->access, "rwm") != strlen(d->access))
			return error_setx(
			    err, -EINVAL,
			    "invalid value for 'linux.resources.devices[%zu].access': "
			    "'%s'",
			    i, d->access);
	}
	if (l->rootfs_propagation) {
		static const char *const ok[] = {"private",    "rprivate",   "slave",
						 "rslave",     "shared",     "rshared",
						 "unbindable", "runbindable"};
		bool found = false;
		for (size_t i = 0; i < ELEMENTSOF(ok); i++)
			found |= streq(ok[i], l->rootfs_propagation);
		if (!found)
			return error_setx(err, -EINVAL,
					  "invalid value for 'linux.rootfsPropagation': '%s'",
					  l->rootfs_propagation);
	}
	for (size_t i = 0; i < l->sysctl.n; i++) {
		r = validate_sysctl(s, l->sysctl.items[i].key, err);
		if (r < 0)
			return r;
	}
	return 0;
}
