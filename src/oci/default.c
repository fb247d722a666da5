/* SPDX-License-Identifier: Apache-2.0 */
#include "oci.h"

/* What `berth-runtime spec` writes: runc's example config, with Docker's masked paths. */
static const char default_spec[] =
    "{\"ociVersion\":\"" OCI_VERSION "\","
    "\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},"
    "\"args\":[\"sh\"],"
    "\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/"
    "bin\",\"TERM=xterm\"],"
    "\"cwd\":\"/\","
    "\"capabilities\":{"
    "\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
    "\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
    "\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
    "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
    "\"noNewPrivileges\":true},"
    "\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
    "\"hostname\":\"berth\","
    "\"mounts\":["
    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
    "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
    "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]}"
    ","
    "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
    "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
    "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
    "\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
    "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
    "{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"}],"
    "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/interrupts\",\"/proc/kcore\","
    "\"/proc/keys\",\"/proc/latency_stats\",\"/proc/sched_debug\",\"/proc/scsi\","
    "\"/proc/timer_list\",\"/proc/timer_stats\",\"/sys/devices/virtual/powercap\","
    "\"/sys/firmware\"],"
    "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
    "\"/proc/sysrq-trigger\"]}}";

json_object *oci_spec_default(bool rootless)
{
	json_object *o = json_tokener_parse(default_spec);
	json_object *linux_o, *ns, *mounts;

	if (!o)
		abort();
	if (!rootless)
		return o;

	/* Rootless: a user namespace mapping the caller, no network namespace, /sys bound. */
	json_object_object_get_ex(o, "linux", &linux_o);
	json_object_object_del(linux_o, "resources");
	ns = json_object_new_array();
	const char *types[] = {"pid", "ipc", "uts", "mount", "cgroup", "user"};
	for (size_t i = 0; i < ELEMENTSOF(types); i++) {
		json_object *n = json_object_new_object();
		json_add_str(n, "type", types[i]);
		json_object_array_add(ns, n);
	}
	json_object_object_add(linux_o, "namespaces", ns);
	const char *ids[] = {"uidMappings", "gidMappings"};
	for (size_t i = 0; i < 2; i++) {
		json_object *a = json_object_new_array(), *m = json_object_new_object();
		json_add_int(m, "containerID", 0);
		json_add_int(m, "hostID", i == 0 ? (int64_t)getuid() : (int64_t)getgid());
		json_add_int(m, "size", 1);
		json_object_array_add(a, m);
		json_object_object_add(linux_o, ids[i], a);
	}
	json_object_object_get_ex(o, "mounts", &mounts);
	for (size_t i = 0; i < json_object_array_length(mounts); i++) {
		json_object *m = json_object_array_get_idx(mounts, i), *d;
		json_object_object_get_ex(m, "destination", &d);
		if (streq(json_object_get_string(d), "/sys")) {
			json_object *opts = json_strv_new(
			    (char *[]){"rbind", "nosuid", "noexec", "nodev", "ro", NULL});
			json_add_str(m, "type", "none");
			json_add_str(m, "source", "/sys");
			json_object_object_add(m, "options", opts);
		} else if (streq(json_object_get_string(d), "/dev/pts")) {
			json_object *opts = json_strv_new((char *[]){
			    "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", NULL});
			json_object_object_add(m, "options", opts);
		} else if (streq(json_object_get_string(d), "/sys/fs/cgroup")) {
			json_object_array_del_idx(mounts, i, 1);
			i--;
		}
	}
	return o;
}
