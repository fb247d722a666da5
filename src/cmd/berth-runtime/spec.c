/* SPDX-License-Identifier: Apache-2.0 */
/* spec, features */
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>

#include "cmd.h"

int cmd_spec(const struct runtime_ctx *ctx, int argc, char **argv, char **envp)
{
	static const struct option opts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"rootless", no_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	const char *bundle = ".";
	bool rootless = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long_only(argc, argv, "b:", opts, NULL)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else if (c == 'r')
			rootless = true;
		else
			return 1;
	}
	_cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
	if (access(path, F_OK) == 0)
		return usage_error("File %s exists. Remove it first", path);
	json_object *o = oci_spec_default(rootless);
	const char *txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								JSON_C_TO_STRING_NOSLASHESCAPE);
	_cleanup_free_ char *withnl = xasprintf("%s\n", txt);
	r = write_file_atomic(path, withnl, strlen(withnl), 0666 & ~0022);
	json_object_put(o);
	if (r < 0)
		return usage_error("write '%s': %s", path, strerror(-r));
	return 0;
}

int cmd_features(const struct runtime_ctx *ctx, int argc, char **argv, char **envp)
{
	static const char *const ns[] = {"cgroup", "ipc",  "mount", "network",
					 "pid",	   "time", "user",  "uts"};
	static const char *const mount_options[] = {
	    "async",	   "atime",	 "bind",	  "defaults",	 "dev",
	    "diratime",	   "dirsync",	 "exec",	  "lazytime",	 "mand",
	    "noatime",	   "nodev",	 "nodiratime",	  "noexec",	 "nolazytime",
	    "nomand",	   "norelatime", "nostrictatime", "nosuid",	 "nosymfollow",
	    "private",	   "rbind",	 "relatime",	  "remount",	 "ro",
	    "rprivate",	   "rshared",	 "rslave",	  "runbindable", "rw",
	    "shared",	   "slave",	 "strictatime",	  "suid",	 "symfollow",
	    "sync",	   "unbindable", "rro",		  "rrw",	 "rnosuid",
	    "rsuid",	   "rnodev",	 "rdev",	  "rnoexec",	 "rexec",
	    "rnodiratime", "rdiratime",	 "rnosymfollow",  "rsymfollow"};
	static const char *const hooks[] = {"prestart",	      "createRuntime", "createContainer",
					    "startContainer", "poststart",     "poststop"};
	static const char *const actions[] = {
	    "SCMP_ACT_ALLOW",	     "SCMP_ACT_ERRNO",	     "SCMP_ACT_KILL",
	    "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
	    "SCMP_ACT_NOTIFY",	     "SCMP_ACT_TRACE",	     "SCMP_ACT_TRAP"};
	static const char *const ops[] = {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
					  "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
					  "SCMP_CMP_NE"};
	static const char *const arches[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
					     "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
#define A(...) json_strv_new((char **)(const char *[]){__VA_ARGS__, NULL})
	json_object *o = json_object_new_object(), *l = json_object_new_object();
	json_object *cg = json_object_new_object(), *sc = json_object_new_object();
	json_object *a;

	json_add_str(o, "ociVersionMin", "1.0.0");
	json_add_str(o, "ociVersionMax", OCI_VERSION);
	a = json_object_new_array();
	for (size_t i = 0; i < ELEMENTSOF(hooks); i++)
		json_object_array_add(a, json_object_new_string(hooks[i]));
	json_object_object_add(o, "hooks", a);
	a = json_object_new_array();
	for (size_t i = 0; i < ELEMENTSOF(mount_options); i++)
		json_object_array_add(a, json_object_new_string(mount_options[i]));
	json_object_object_add(o, "mountOptions", a);

	a = json_object_new_array();
	for (size_t i = 0; i < ELEMENTSOF(ns); i++)
		json_object_array_add(a, json_object_new_string(ns[i]));
	json_object_object_add(l, "namespaces", a);
	a = json_object_new_array();
	for (size_t i = 0; i < runtime_n_caps; i++)
		json_object_array_add(a, json_object_new_string(runtime_all_caps[i]));
	json_object_object_add(l, "capabilities", a);
	json_add_bool(cg, "v1", true);
	json_add_bool(cg, "v2", true);
	json_add_bool(cg, "systemd", false);
	json_add_bool(cg, "systemdUser", false);
	json_add_bool(cg, "rdma", false);
	json_object_object_add(l, "cgroup", cg);
	json_add_bool(sc, "enabled", true);
	a = json_object_new_array();
	for (size_t i = 0; i < ELEMENTSOF(actions); i++)
		json_object_array_add(a, json_object_new_string(actions[i]));
	json_object_object_add(sc, "actions", a);
	a = json_object_new_array();
	for (size_t i = 0; i < ELEMENTSOF(ops); i++)
		json_object_array_add(a, json_object_new_string(ops[i]));
	json_object_object_add(sc, "operators", a);
	a = json_object_new_array();
	for (size_t i = 0; i < ELEMENTSOF(arches); i++)
		json_object_array_add(a, json_object_new_string(arches[i]));
	json_object_object_add(sc, "archs", a);
	json_object_object_add(sc, "knownFlags",
			       A("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
				 "SECCOMP_FILTER_FLAG_SPEC_ALLOW"));
	json_object_object_add(l, "seccomp", sc);
	json_object *ap = json_object_new_object();
	json_add_bool(ap, "enabled", false);
	json_object_object_add(l, "apparmor", ap);
	json_object *se = json_object_new_object();
	json_add_bool(se, "enabled", false);
	json_object_object_add(l, "selinux", se);
	json_object *im = json_object_new_object();
	json_add_bool(im, "enabled", false);
	json_object_object_add(l, "mountExtensions", json_object_new_object());
	json_object_object_add(l, "intelRdt", im);
	json_object_object_add(o, "linux", l);
	json_object *ann = json_object_new_object();
	json_add_str(ann, "org.opencontainers.runc.version", "berth-runtime 0.1.0");
	json_object_object_add(o, "annotations", ann);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}
