/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Docker's seccomp profile format (moby/profiles seccomp/default.json) to the
 * OCI form, following moby's seccomp_linux.go setupSeccomp(): archMap picks
 * the native architecture's entry, and a rule group is kept only when its
 * includes all hold and none of its excludes does.
 */
#include <strings.h>
#include <sys/utsname.h>

#include "seccomp-internal.h"
#include "seccomp.h"

struct dp_filter {
	char **arches;
	char **caps;
	char *min_kernel;
};

struct dp_syscall {
	char *name;
	char **names;
	char *action;
	struct opt_u64 errno_ret;
	struct oci_seccomp_arg *args;
	size_t n_args;
	struct dp_filter includes;
	struct dp_filter excludes;
};

struct dp_arch_map {
	char *arch;
	char **sub_arches;
};

struct dp_profile {
	char *default_action;
	struct opt_u64 default_errno_ret;
	char **architectures;
	struct dp_arch_map *arch_map;
	size_t n_arch_map;
	struct dp_syscall *syscalls;
	size_t n_syscalls;
	char **flags;
	char *listener_path;
	char *listener_metadata;
};

#define F(n, t, s, m, req)                                                                         \
	{                                                                                          \
		n, t, offsetof(struct s, m), req, NULL, 0, 0                                       \
	}
#define FO(n, s, m, fn)                                                                            \
	{                                                                                          \
		n, JF_OBJECT, offsetof(struct s, m), false, fn, 0, 0                               \
	}
#define FA(n, s, m, elem, fn)                                                                      \
	{                                                                                          \
		n, JF_ARRAY, offsetof(struct s, m), false, fn, sizeof(struct elem),                \
		    offsetof(struct s, n_##m)                                                      \
	}

static int parse_filter(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("arches", JF_STRV, dp_filter, arches, false),
	    F("caps", JF_STRV, dp_filter, caps, false),
	    F("minKernel", JF_STRING, dp_filter, min_kernel, false),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_arg(json_object *o, void *dst, const char *path, struct error **err)
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

static int parse_syscall(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("name", JF_STRING, dp_syscall, name, false),
	    F("names", JF_STRV, dp_syscall, names, false),
	    F("action", JF_STRING, dp_syscall, action, true),
	    F("errnoRet", JF_OPT_U64, dp_syscall, errno_ret, false),
	    FA("args", dp_syscall, args, oci_seccomp_arg, parse_arg),
	    FO("includes", dp_syscall, includes, parse_filter),
	    FO("excludes", dp_syscall, excludes, parse_filter),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_arch_map(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("architecture", JF_STRING, dp_arch_map, arch, true),
	    F("subArchitectures", JF_STRV, dp_arch_map, sub_arches, false),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, dst, path, err);
}

static const struct json_field profile_fields[] = {
    F("defaultAction", JF_STRING, dp_profile, default_action, true),
    F("defaultErrnoRet", JF_OPT_U64, dp_profile, default_errno_ret, false),
    F("architectures", JF_STRV, dp_profile, architectures, false),
    FA("archMap", dp_profile, arch_map, dp_arch_map, parse_arch_map),
    FA("syscalls", dp_profile, syscalls, dp_syscall, parse_syscall),
    F("flags", JF_STRV, dp_profile, flags, false),
    F("listenerPath", JF_STRING, dp_profile, listener_path, false),
    F("listenerMetadata", JF_STRING, dp_profile, listener_metadata, false),
    JSON_FIELD_END,
};

static void dp_filter_release(struct dp_filter *f)
{
	strv_free(f->arches);
	strv_free(f->caps);
	free(f->min_kernel);
}

static void args_free(struct oci_seccomp_arg *args, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(args[i].op);
	free(args);
}

static void dp_profile_release(struct dp_profile *p)
{
	free(p->default_action);
	strv_free(p->architectures);
	for (size_t i = 0; i < p->n_arch_map; i++) {
		free(p->arch_map[i].arch);
		strv_free(p->arch_map[i].sub_arches);
	}
	free(p->arch_map);
	for (size_t i = 0; i < p->n_syscalls; i++) {
		struct dp_syscall *s = &p->syscalls[i];
		free(s->name);
		strv_free(s->names);
		free(s->action);
		args_free(s->args, s->n_args);
		dp_filter_release(&s->includes);
		dp_filter_release(&s->excludes);
	}
	free(p->syscalls);
	strv_free(p->flags);
	free(p->listener_path);
	free(p->listener_metadata);
}

void seccomp_oci_free(struct oci_seccomp *sc)
{
	/* Released through the spec, so that one function knows the struct. */
	struct oci_spec *s;

	if (!sc)
		return;
	s = xnew0(struct oci_spec, 1);
	s->linux.seccomp = sc;
	oci_spec_free(s);
}

/* Docker's "major.minor" (moby parseKernelVersion). */
static int parse_kernel_version(const char *s, unsigned int *major, unsigned int *minor)
{
	char tail;

	if (sscanf(s, "%u.%u%c", major, minor, &tail) != 2)
		return -EINVAL;
	return 0;
}

static int kernel_at_least(const char *min, const char *path, bool *ret, struct error **err)
{
	unsigned int want_major, want_minor, major, minor;
	struct utsname u;

	if (parse_kernel_version(min, &want_major, &want_minor) < 0)
		return error_setx(err, -EINVAL,
				  "invalid value for '%s': '%s' is not a kernel version "
				  "(expected <major>.<minor>)",
				  path, min);
	if (uname(&u) < 0)
		return error_set(err, -errno, "failed to get the kernel version");
	/* "6.1.0-18-amd64": the suffix after the minor number does not matter. */
	if (sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return error_setx(err, -EINVAL, "cannot parse kernel release '%s'", u.release);
	*ret = major > want_major || (major == want_major && minor >= want_minor);
	return 0;
}

static bool caps_contain(char *const *caps, const char *cap)
{
	for (char *const *c = caps; c && *c; c++)
		if (strcasecmp(*c, cap) == 0)
			return true;
	return false;
}

/* Does the rule group apply to this container? */
static int syscall_applies(const struct dp_syscall *s, const char *goarch, char *const *caps,
			   const char *path, bool *ret, struct error **err)
{
	_cleanup_free_ char *kpath = NULL;
	bool ok;
	int r;

	*ret = false;
	if (s->excludes.arches && goarch && strv_contains(s->excludes.arches, goarch))
		return 0;
	if (s->includes.arches && (!goarch || !strv_contains(s->includes.arches, goarch)))
		return 0;
	for (char *const *c = s->excludes.caps; c && *c; c++)
		if (caps_contain(caps, *c))
			return 0;
	for (char *const *c = s->includes.caps; c && *c; c++)
		if (!caps_contain(caps, *c))
			return 0;
	if (!isempty(s->excludes.min_kernel)) {
		kpath = xasprintf("%s.excludes.minKernel", path);
		r = kernel_at_least(s->excludes.min_kernel, kpath, &ok, err);
		if (r < 0)
			return r;
		if (ok)
			return 0;
	}
	if (!isempty(s->includes.min_kernel)) {
		free(kpath);
		kpath = xasprintf("%s.includes.minKernel", path);
		r = kernel_at_least(s->includes.min_kernel, kpath, &ok, err);
		if (r < 0)
			return r;
		if (!ok)
			return 0;
	}
	*ret = true;
	return 0;
}

static void syscall_copy(struct oci_seccomp_syscall *dst, const struct dp_syscall *s)
{
	if (s->name)
		dst->names = strv_append(NULL, s->name);
	else
		dst->names = strv_copy(s->names);
	dst->action = xstrdup(s->action);
	dst->errno_ret = s->errno_ret;
	dst->args = xnew0(struct oci_seccomp_arg, s->n_args ? s->n_args : 1);
	dst->n_args = s->n_args;
	for (size_t i = 0; i < s->n_args; i++) {
		dst->args[i] = s->args[i];
		dst->args[i].op = xstrdup(s->args[i].op);
	}
}

static char **native_architectures(const struct dp_profile *p)
{
	const struct seccomp_arch_info *native = seccomp_arch_native_info();
	char **l = strv_copy(p->architectures);

	if (!native)
		return l;
	for (size_t i = 0; i < p->n_arch_map; i++) {
		if (!streq(p->arch_map[i].arch, native->name))
			continue;
		l = strv_append(l, p->arch_map[i].arch);
		for (char *const *sa = p->arch_map[i].sub_arches; sa && *sa; sa++)
			l = strv_append(l, *sa);
		break;
	}
	return l;
}

int seccomp_docker_profile_to_oci(json_object *docker_profile, char *const *caps_bounding,
				  struct oci_seccomp **ret, struct error **err)
{
	_cleanup_(dp_profile_release) struct dp_profile p = {0};
	_cleanup_(seccomp_oci_freep) struct oci_seccomp *sc = NULL;
	const struct seccomp_arch_info *native = seccomp_arch_native_info();
	const char *goarch = native ? native->goarch : NULL;
	int r;

	r = json_parse_fields(docker_profile, profile_fields, &p, "", err);
	if (r < 0)
		return r;
	if (p.architectures && p.n_arch_map > 0)
		return error_setx(err, -EINVAL,
				  "invalid value for 'archMap': both 'architectures' and 'archMap' "
				  "are given, use one of them");

	sc = xnew0(struct oci_seccomp, 1);
	sc->default_action = xstrdup(p.default_action);
	sc->default_errno_ret = p.default_errno_ret;
	sc->architectures = native_architectures(&p);
	sc->flags = strv_copy(p.flags);
	sc->listener_path = p.listener_path ? xstrdup(p.listener_path) : NULL;
	sc->listener_metadata = p.listener_metadata ? xstrdup(p.listener_metadata) : NULL;
	sc->syscalls = xnew0(struct oci_seccomp_syscall, p.n_syscalls ? p.n_syscalls : 1);

	for (size_t i = 0; i < p.n_syscalls; i++) {
		const struct dp_syscall *s = &p.syscalls[i];
		_cleanup_free_ char *path = xasprintf("syscalls[%zu]", i);
		bool applies;

		if (s->name && s->names)
			return error_setx(
			    err, -EINVAL,
			    "invalid value for '%s': both 'name' and 'names' are given, "
			    "use one of them",
			    path);
		if (!s->name && !s->names)
			return error_setx(err, -EINVAL, "missing required field '%s.names'", path);
		r = syscall_applies(s, goarch, caps_bounding, path, &applies, err);
		if (r < 0)
			return r;
		if (!applies)
			continue;
		syscall_copy(&sc->syscalls[sc->n_syscalls++], s);
	}

	*ret = TAKE_PTR(sc);
	return 0;
}
