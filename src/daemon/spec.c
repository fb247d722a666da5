/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OCI spec of a container from its Config and HostConfig, with Docker's
 * defaults as the floor (DESIGN §9, security-notes §1): 14 capabilities,
 * Docker's seccomp profile, masked and read-only paths, default devices,
 * /dev/shm 64 MiB.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

#include "internal.h"
#include "runtime/runtime.h"
#include "runtime/seccomp.h"

/* Docker's default seccomp profile, embedded at build time. */
__asm__(".section .rodata\n"
	".global berth_docker_seccomp_profile\n"
	"berth_docker_seccomp_profile:\n"
	".incbin \"src/runtime/profiles/docker-default-seccomp.json\"\n"
	".byte 0\n"
	".previous\n");
extern const char berth_docker_seccomp_profile[];

static const char *const default_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",	       "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",	       "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",	   "CAP_AUDIT_WRITE",
};

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;
	if (o && json_object_object_get_ex(o, k, &v) && !json_object_is_type(v, json_type_null))
		return v;
	return NULL;
}

static const char *get_s(json_object *o, const char *k)
{
	json_object *v = get(o, k);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int64_t get_i(json_object *o, const char *k, int64_t def)
{
	json_object *v = get(o, k);
	return v ? json_object_get_int64(v) : def;
}

static bool get_b(json_object *o, const char *k)
{
	json_object *v = get(o, k);
	return v && json_object_get_boolean(v);
}

static char *cap_name(const char *in)
{
	char *s = startswith(in, "CAP_") || startswith(in, "cap_") ? xstrdup(in)
								   : xasprintf("CAP_%s", in);
	for (char *p = s; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	return s;
}

static bool known_cap(const char *c)
{
	for (size_t i = 0; i < runtime_n_caps; i++)
		if (streq(runtime_all_caps[i], c))
			return true;
	return false;
}

/* Docker's capability arithmetic: defaults, then adds, then drops ("ALL" allowed). */
static int build_caps(json_object *hc, char ***ret, struct error **err)
{
	char **caps = NULL;
	json_object *add = get(hc, "CapAdd"), *drop = get(hc, "CapDrop");
	bool add_all = false, drop_all = false;

	if (get_b(hc, "Privileged")) {
		for (size_t i = 0; i < runtime_n_caps; i++)
			caps = strv_append(caps, runtime_all_caps[i]);
		*ret = caps;
		return 0;
	}
	for (size_t i = 0; add && i < json_object_array_length(add); i++) {
		_cleanup_free_ char *n =
		    cap_name(json_object_get_string(json_object_array_get_idx(add, i)));
		if (streq(n, "CAP_ALL"))
			add_all = true;
		else if (!known_cap(n))
			return error_setx(err, -EINVAL, "unknown capability: \"%s\"", n);
	}
	for (size_t i = 0; drop && i < json_object_array_length(drop); i++) {
		_cleanup_free_ char *n =
		    cap_name(json_object_get_string(json_object_array_get_idx(drop, i)));
		if (streq(n, "CAP_ALL"))
			drop_all = true;
		else if (!known_cap(n))
			return error_setx(err, -EINVAL, "unknown capability: \"%s\"", n);
	}
	if (!drop_all) {
		const char *const *base = add_all ? runtime_all_caps : default_caps;
		size_t nb = add_all ? runtime_n_caps : ELEMENTSOF(default_caps);
		for (size_t i = 0; i < nb; i++)
			caps = strv_append(caps, base[i]);
	}
	for (size_t i = 0; add && i < json_object_array_length(add); i++) {
		_cleanup_free_ char *n =
		    cap_name(json_object_get_string(json_object_array_get_idx(add, i)));
		if (!streq(n, "CAP_ALL") && !strv_contains(caps, n))
			caps = strv_append(caps, n);
	}
	if (!drop_all && drop) {
		char **kept = NULL;
		for (char **p = caps; p && *p; p++) {
			bool dropped = false;
			for (size_t i = 0; i < json_object_array_length(drop); i++) {
				_cleanup_free_ char *n = cap_name(
				    json_object_get_string(json_object_array_get_idx(drop, i)));
				dropped |= streq(n, *p);
			}
			/* An explicit add wins over a drop of the same cap only when both... Docker
			 * applies drops after adds. */
			if (!dropped)
				kept = strv_append(kept, *p);
		}
		strv_free(caps);
		caps = kept;
	}
	*ret = caps ? caps : xnew0(char *, 1);
	return 0;
}

/* ---- users: /etc/passwd and /etc/group of the image, read by us (no NSS) -------- */

static int open_in_rootfs(const char *rootfs, const char *path)
{
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	_cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd;
	if (root < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

static char *read_rootfs_file(const char *rootfs, const char *path)
{
	_cleanup_close_ int fd = open_in_rootfs(rootfs, path);
	char *buf = NULL;
	if (fd < 0)
		return NULL;
	if (read_file_at(fd, "", 4 << 20, &buf, NULL) < 0) {
		/* read_file_at wants a path: use /proc/self/fd */
		char p[64];
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		if (read_file_at(AT_FDCWD, p, 4 << 20, &buf, NULL) < 0)
			return NULL;
	}
	return buf;
}

/* Find name or uid in passwd: fields name:x:uid:gid:gecos:home:shell. */
static bool passwd_lookup(const char *passwd, const char *who, bool by_id, uint32_t *uid,
			  uint32_t *gid, char **name)
{
	_cleanup_free_ char *copy = xstrdup(passwd ? passwd : "");
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[7] = {0}, *s = line;
		int n = 0;
		for (char *t = strsep(&s, ":"); t && n < 7; t = strsep(&s, ":"))
			f[n++] = t;
		if (n < 4)
			continue;
		if (by_id ? streq(f[2], who) : streq(f[0], who)) {
			*uid = (uint32_t)strtoul(f[2], NULL, 10);
			*gid = (uint32_t)strtoul(f[3], NULL, 10);
			if (name)
				*name = xstrdup(f[0]);
			return true;
		}
	}
	return false;
}

static bool group_lookup(const char *group, const char *who, uint32_t *gid)
{
	_cleanup_free_ char *copy = xstrdup(group ? group : "");
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[4] = {0}, *s = line;
		int n = 0;
		for (char *t = strsep(&s, ":"); t && n < 4; t = strsep(&s, ":"))
			f[n++] = t;
		if (n >= 3 && streq(f[0], who)) {
			*gid = (uint32_t)strtoul(f[2], NULL, 10);
			return true;
		}
	}
	return false;
}

/* Supplementary groups of a user name from /etc/group. */
static json_object *member_groups(const char *group, const char *user, uint32_t primary)
{
	json_object *a = json_object_new_array();
	_cleanup_free_ char *copy = xstrdup(group ? group : "");
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line && user;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[4] = {0}, *s = line;
		int n = 0;
		for (char *t = strsep(&s, ":"); t && n < 4; t = strsep(&s, ":"))
			f[n++] = t;
		if (n < 4)
			continue;
		for (char *sv = NULL, *m = strtok_r(f[3], ",", &sv); m;
		     m = strtok_r(NULL, ",", &sv))
			if (streq(m, user) && (uint32_t)strtoul(f[2], NULL, 10) != primary)
				json_object_array_add(
				    a, json_object_new_int64(strtoul(f[2], NULL, 10)));
	}
	return a;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Docker's user resolution: "", "name", "uid", "name:group", "uid:gid". */
static int resolve_user(const char *rootfs, const char *spec, json_object *group_add,
			json_object **ret, struct error **err)
{
	_cleanup_free_ char *passwd = read_rootfs_file(rootfs, "etc/passwd");
	_cleanup_free_ char *group = read_rootfs_file(rootfs, "etc/group");
	_cleanup_free_ char *u = xstrdup(spec ? spec : "");
	_cleanup_free_ char *name = NULL;
	char *g = strchr(u, ':');
	uint32_t uid = 0, gid = 0;
	json_object *o = json_object_new_object(), *extra;

	if (g)
		*g++ = 0;
	if (*u) {
		if (all_digits(u)) {
			uint64_t v;
			if (safe_atou64(u, &v) < 0 || v > UINT32_MAX - 1) {
				json_object_put(o);
				return error_setx(err, -EINVAL, "invalid user: %s", spec);
			}
			uid = (uint32_t)v;
			if (!passwd_lookup(passwd, u, true, &uid, &gid, &name))
				gid = 0;
		} else if (!passwd_lookup(passwd, u, false, &uid, &gid, &name)) {
			json_object_put(o);
			return error_setx(
			    err, -EINVAL,
			    "unable to find user %s: no matching entries in passwd file", u);
		}
	} else {
		passwd_lookup(passwd, "0", true, &uid, &gid, &name);
		uid = 0;
		gid = 0;
	}
	if (g && *g) {
		if (all_digits(g)) {
			uint64_t v;
			if (safe_atou64(g, &v) < 0 || v > UINT32_MAX - 1) {
				json_object_put(o);
				return error_setx(err, -EINVAL, "invalid group: %s", g);
			}
			gid = (uint32_t)v;
		} else if (!group_lookup(group, g, &gid)) {
			json_object_put(o);
			return error_setx(
			    err, -EINVAL,
			    "unable to find group %s: no matching entries in group file", g);
		}
	}
	json_add_int(o, "uid", uid);
	json_add_int(o, "gid", gid);
	extra = member_groups(group, name, gid);
	for (size_t i = 0; group_add && i < json_object_array_length(group_add); i++) {
		const char *ga = json_object_get_string(json_object_array_get_idx(group_add, i));
		uint32_t x;
		if (all_digits(ga))
			json_object_array_add(extra, json_object_new_int64(strtoul(ga, NULL, 10)));
		else if (group_lookup(group, ga, &x))
			json_object_array_add(extra, json_object_new_int64(x));
		else {
			json_object_put(o);
			json_object_put(extra);
			return error_setx(
			    err, -EINVAL,
			    "unable to find group %s: no matching entries in group file", ga);
		}
	}
	if (json_object_array_length(extra))
		json_object_object_add(o, "additionalGids", extra);
	else
		json_object_put(extra);
	*ret = o;
	return 0;
}

/* ---- seccomp ---------------------------------------------------------------- */

static json_object *oci_seccomp_json(const struct oci_seccomp *sc)
{
	json_object *o = json_object_new_object(), *calls = json_object_new_array();
	json_add_str(o, "defaultAction", sc->default_action);
	if (sc->default_errno_ret.set)
		json_add_int(o, "defaultErrnoRet", (int64_t)sc->default_errno_ret.v);
	json_object_object_add(o, "architectures", json_strv_new(sc->architectures));
	if (sc->flags)
		json_object_object_add(o, "flags", json_strv_new(sc->flags));
	for (size_t i = 0; i < sc->n_syscalls; i++) {
		const struct oci_seccomp_syscall *s = &sc->syscalls[i];
		json_object *x = json_object_new_object(), *args = json_object_new_array();
		json_object_object_add(x, "names", json_strv_new(s->names));
		json_add_str(x, "action", s->action);
		if (s->errno_ret.set)
			json_add_int(x, "errnoRet", (int64_t)s->errno_ret.v);
		for (size_t j = 0; j < s->n_args; j++) {
			json_object *a = json_object_new_object();
			json_add_int(a, "index", s->args[j].index);
			json_object_object_add(a, "value",
					       json_object_new_uint64(s->args[j].value));
			json_object_object_add(a, "valueTwo",
					       json_object_new_uint64(s->args[j].value_two));
			json_add_str(a, "op", s->args[j].op);
			json_object_array_add(args, a);
		}
		json_object_object_add(x, "args", args);
		json_object_array_add(calls, x);
	}
	json_object_object_add(o, "syscalls", calls);
	return o;
}

static int build_seccomp(struct engine *e, json_object *hc, char **caps, json_object **ret,
			 struct error **err)
{
	json_object *so = get(hc, "SecurityOpt");
	const char *profile = NULL;
	_cleanup_json_ json_object *doc = NULL;
	struct oci_seccomp *sc = NULL;
	int r;

	*ret = NULL;
	for (size_t i = 0; so && i < json_object_array_length(so); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(so, i));
		const char *v = s ? (startswith(s, "seccomp=")	 ? s + 8
				     : startswith(s, "seccomp:") ? s + 8
								 : NULL)
				  : NULL;
		if (v)
			profile = v;
	}
	if (profile && streq(profile, "unconfined"))
		return 0;
	if (!profile && get_b(hc, "Privileged"))
		return 0;
	if (!profile && e->cfg->seccomp_profile) {
		if (streq(e->cfg->seccomp_profile, "unconfined"))
			return 0;
		r = json_parse_file(e->cfg->seccomp_profile, 4 << 20, &doc, err);
		if (r < 0)
			return error_prefix(err, r, "daemon seccomp profile");
	} else if (profile) {
		/* The CLI sends the profile's content, not its path. */
		r = json_parse_buffer(profile, strlen(profile), &doc, err);
		if (r < 0)
			return error_prefix(err, r, "Decoding seccomp profile failed");
	} else {
		/* The builtin profile for a capability set is the same every time: keep the last
		 * one (as text; json-c objects are not shared across threads). */
		static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
		static char *cached_key, *cached_json;
		_cleanup_free_ char *key = xstrdup("");
		for (char **c = caps; c && *c; c++) {
			char *k = xasprintf("%s%s,", key, *c);
			free(key);
			key = k;
		}
		pthread_mutex_lock(&lock);
		if (cached_key && streq(cached_key, key)) {
			*ret = json_tokener_parse(cached_json);
			pthread_mutex_unlock(&lock);
			if (*ret)
				return 0;
		} else {
			pthread_mutex_unlock(&lock);
		}
		r = json_parse_buffer(berth_docker_seccomp_profile,
				      strlen(berth_docker_seccomp_profile), &doc, err);
		if (r < 0)
			return r;
		r = seccomp_docker_profile_to_oci(doc, caps, &sc, err);
		if (r < 0)
			return error_prefix(err, r, "seccomp profile");
		*ret = oci_seccomp_json(sc);
		seccomp_oci_free(sc);
		pthread_mutex_lock(&lock);
		free(cached_key);
		free(cached_json);
		cached_key = TAKE_PTR(key);
		cached_json = xstrdup(json_object_to_json_string_ext(*ret, JSON_C_TO_STRING_PLAIN));
		pthread_mutex_unlock(&lock);
		return 0;
	}
	r = seccomp_docker_profile_to_oci(doc, caps, &sc, err);
	if (r < 0)
		return error_prefix(err, r, "seccomp profile");
	*ret = oci_seccomp_json(sc);
	seccomp_oci_free(sc);
	return 0;
}

/* ---- mounts ---------------------------------------------------------------- */

static void add_mount(json_object *mounts, const char *dest, const char *type, const char *src,
		      const char *opts_csv)
{
	json_object *m = json_object_new_object(), *opts = json_object_new_array();
	_cleanup_free_ char *copy = xstrdup(opts_csv ? opts_csv : "");
	json_add_str(m, "destination", dest);
	json_add_str(m, "type", type);
	json_add_str(m, "source", src);
	for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		json_object_array_add(opts, json_object_new_string(t));
	json_object_object_add(m, "options", opts);
	json_object_array_add(mounts, m);
}

static bool cgroup_v2(void)
{
	struct statfs sf;
	return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == 0x63677270;
}

int spec_build(struct engine *e, struct container *c, const char *rootfs, json_object **ret,
	       struct error **err)
{
	json_object *cfg = c->config, *hc = c->host_config;
	json_object *spec = json_object_new_object(), *proc = json_object_new_object();
	json_object *lx = json_object_new_object(), *mounts = json_object_new_array();
	json_object *ns = json_object_new_array(), *res = json_object_new_object();
	json_object *env, *user = NULL, *seccomp = NULL;
	_cleanup_strv_free_ char **caps = NULL;
	const char *netmode = get_s(hc, "NetworkMode");
	const char *root_propagation;
	bool privileged = get_b(hc, "Privileged");
	bool tty = get_b(cfg, "Tty");
	_cleanup_free_ char *dir = container_dir(e, c->id);
	int r;

	r = build_caps(hc, &caps, err);
	if (r >= 0)
		r = resolve_user(rootfs, get_s(cfg, "User"), get(hc, "GroupAdd"), &user, err);
	if (r >= 0)
		r = build_seccomp(e, hc, caps, &seccomp, err);
	if (r < 0) {
		json_object_put(spec);
		json_object_put(proc);
		json_object_put(lx);
		json_object_put(mounts);
		json_object_put(ns);
		json_object_put(res);
		if (user)
			json_object_put(user);
		return r;
	}

	json_add_str(spec, "ociVersion", "1.2.0");
	/* process */
	{
		json_object *args = json_object_new_array();
		if (get_b(hc, "Init")) {
			/* --init: berth-init (bind-mounted below) runs the command as its child. */
			json_object_array_add(args, json_object_new_string("/sbin/docker-init"));
			json_object_array_add(args, json_object_new_string("--"));
		}
		json_object_array_add(args, json_object_new_string(c->path));
		for (char **a = c->args; a && *a; a++)
			json_object_array_add(args, json_object_new_string(*a));
		json_add_bool(proc, "terminal", tty);
		json_object *cs = get(hc, "ConsoleSize");
		if (tty && cs && json_object_array_length(cs) == 2 &&
		    json_object_get_int(json_object_array_get_idx(cs, 0)) > 0) {
			json_object *size = json_object_new_object();
			json_add_int(size, "height",
				     json_object_get_int(json_object_array_get_idx(cs, 0)));
			json_add_int(size, "width",
				     json_object_get_int(json_object_array_get_idx(cs, 1)));
			json_object_object_add(proc, "consoleSize", size);
		}
		json_object_object_add(proc, "user", user);
		json_object_object_add(proc, "args", args);
		env = json_object_new_array();
		{
			json_object *ce = get(cfg, "Env");
			bool has_path = false, has_term = false, has_host = false;
			for (size_t i = 0; ce && i < json_object_array_length(ce); i++) {
				const char *kv =
				    json_object_get_string(json_object_array_get_idx(ce, i));
				has_path |= startswith(kv, "PATH=") != NULL;
				has_term |= startswith(kv, "TERM=") != NULL;
				has_host |= startswith(kv, "HOSTNAME=") != NULL;
			}
			if (!has_path)
				json_object_array_add(
				    env,
				    json_object_new_string("PATH=/usr/local/sbin:/usr/local/bin:"
							   "/usr/sbin:/usr/bin:/sbin:/bin"));
			if (!has_host) {
				_cleanup_free_ char *h =
				    xasprintf("HOSTNAME=%s", get_s(cfg, "Hostname"));
				json_object_array_add(env, json_object_new_string(h));
			}
			if (tty && !has_term)
				json_object_array_add(env, json_object_new_string("TERM=xterm"));
			/* the legacy links' variables, before the container's own (dockerd's order)
			 */
			for (char **l = c->link_env; l && *l; l++)
				json_object_array_add(env, json_object_new_string(*l));
			for (size_t i = 0; ce && i < json_object_array_length(ce); i++) {
				const char *kv =
				    json_object_get_string(json_object_array_get_idx(ce, i));
				if (strchr(kv, '='))
					json_object_array_add(env, json_object_new_string(kv));
			}
		}
		json_object_object_add(proc, "env", env);
		json_add_str(proc, "cwd",
			     !isempty(get_s(cfg, "WorkingDir")) ? get_s(cfg, "WorkingDir") : "/");
		{
			json_object *capo = json_object_new_object();
			bool nonroot = json_object_get_int64(get(user, "uid")) != 0;
			json_object_object_add(capo, "bounding", json_strv_new(caps));
			/* Docker: a non-root user keeps no effective or permitted caps. */
			json_object_object_add(capo, "effective",
					       json_strv_new(nonroot ? NULL : caps));
			json_object_object_add(capo, "permitted",
					       json_strv_new(nonroot ? NULL : caps));
			json_object_object_add(proc, "capabilities", capo);
		}
		{
			json_object *rl = json_object_new_array();
			json_object *ul = get(hc, "Ulimits");
			char **defaults = e->cfg->default_ulimits;
			for (size_t i = 0; ul && i < json_object_array_length(ul); i++) {
				json_object *u = json_object_array_get_idx(ul, i), *x;
				_cleanup_free_ char *t = NULL;
				const char *name = get_s(u, "Name");
				if (!name)
					continue;
				t = xasprintf("RLIMIT_%s", name);
				for (char *p = t; *p; p++)
					if (*p >= 'a' && *p <= 'z')
						*p = (char)(*p - 32);
				x = json_object_new_object();
				json_add_str(x, "type", t);
				json_object_object_add(
				    x, "hard",
				    json_object_new_uint64((uint64_t)get_i(u, "Hard", 0)));
				json_object_object_add(
				    x, "soft",
				    json_object_new_uint64((uint64_t)get_i(u, "Soft", 0)));
				json_object_array_add(rl, x);
			}
			for (char **d = defaults; d && *d; d++) {
				_cleanup_free_ char *copy = xstrdup(*d);
				char *eq = strchr(copy, '='), *colon;
				uint64_t soft, hard;
				if (!eq)
					continue;
				*eq = 0;
				colon = strchr(eq + 1, ':');
				soft = strtoull(eq + 1, NULL, 10);
				hard = colon ? strtoull(colon + 1, NULL, 10) : soft;
				_cleanup_free_ char *t = xasprintf("RLIMIT_%s", copy);
				for (char *p = t; *p; p++)
					if (*p >= 'a' && *p <= 'z')
						*p = (char)(*p - 32);
				bool dup = false;
				for (size_t i = 0; i < json_object_array_length(rl); i++)
					dup |= streq(
					    get_s(json_object_array_get_idx(rl, i), "type"), t);
				if (dup)
					continue;
				json_object *x = json_object_new_object();
				json_add_str(x, "type", t);
				json_object_object_add(x, "hard", json_object_new_uint64(hard));
				json_object_object_add(x, "soft", json_object_new_uint64(soft));
				json_object_array_add(rl, x);
			}
			json_object_object_add(proc, "rlimits", rl);
		}
		{
			bool nnp = e->cfg->no_new_privileges;
			json_object *so = get(hc, "SecurityOpt");
			for (size_t i = 0; so && i < json_object_array_length(so); i++) {
				const char *s =
				    json_object_get_string(json_object_array_get_idx(so, i));
				if (streq(s, "no-new-privileges") ||
				    streq(s, "no-new-privileges:true") ||
				    streq(s, "no-new-privileges=true"))
					nnp = true;
				else if (streq(s, "no-new-privileges:false") ||
					 streq(s, "no-new-privileges=false"))
					nnp = false;
			}
			json_add_bool(proc, "noNewPrivileges", nnp);
		}
		if (get(hc, "OomScoreAdj") && get_i(hc, "OomScoreAdj", 0) != 0)
			json_add_int(proc, "oomScoreAdj", get_i(hc, "OomScoreAdj", 0));
	}
	json_object_object_add(spec, "process", proc);
	{
		json_object *root = json_object_new_object();
		json_add_str(root, "path", rootfs);
		json_add_bool(root, "readonly", get_b(hc, "ReadonlyRootfs"));
		json_object_object_add(spec, "root", root);
	}
	json_add_str(spec, "hostname", get_s(cfg, "Hostname"));
	if (!isempty(get_s(cfg, "Domainname")))
		json_add_str(spec, "domainname", get_s(cfg, "Domainname"));

	/* mounts: Docker's defaults, then the container's files, then binds, mounts and tmpfs. */
	add_mount(mounts, "/proc", "proc", "proc", "nosuid,noexec,nodev");
	add_mount(mounts, "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k");
	add_mount(mounts, "/dev/pts", "devpts", "devpts",
		  "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5");
	add_mount(mounts, "/sys", "sysfs", "sysfs",
		  privileged ? "nosuid,noexec,nodev,rw" : "nosuid,noexec,nodev,ro");
	add_mount(mounts, "/sys/fs/cgroup", "cgroup", "cgroup",
		  privileged ? "nosuid,noexec,nodev,relatime,rw"
			     : "nosuid,noexec,nodev,relatime,ro");
	add_mount(mounts, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
	{
		int64_t shm = get_i(hc, "ShmSize", 0);
		_cleanup_free_ char *o = xasprintf("nosuid,noexec,nodev,mode=1777,size=%" PRId64,
						   shm > 0 ? shm : 64 * 1024 * 1024);
		add_mount(mounts, "/dev/shm", "tmpfs", "shm", o);
	}
	{
		static const char *const files[] = {"resolv.conf", "hostname", "hosts"};
		for (size_t i = 0; i < ELEMENTSOF(files); i++) {
			_cleanup_free_ char *src = xasprintf("%s/%s", dir, files[i]);
			_cleanup_free_ char *dst = xasprintf("/etc/%s", files[i]);
			add_mount(mounts, dst, "bind", src, "rbind,rprivate");
		}
	}
	if (get_b(hc, "Init")) {
		_cleanup_free_ char *bindir = xstrdup(e->shim_path);
		char *slash = strrchr(bindir, '/');
		if (slash)
			*slash = 0;
		_cleanup_free_ char *init = xasprintf("%s/berth-init", bindir);
		add_mount(mounts, "/sbin/docker-init", "bind", init, "bind,ro");
	}
	root_propagation = mounts_spec(hc, mounts);
	json_object_object_add(spec, "mounts", mounts);

	/* linux */
	{
		const char *pidmode = get_s(hc, "PidMode"), *ipcmode = get_s(hc, "IpcMode");
		const char *utsmode = get_s(hc, "UTSMode");
		const char *types[] = {"mount", "pid", "ipc", "uts", "network", "cgroup"};
		for (size_t i = 0; i < ELEMENTSOF(types); i++) {
			json_object *n;
			if (streq(types[i], "pid") && pidmode && streq(pidmode, "host"))
				continue;
			if (streq(types[i], "ipc") && ipcmode && streq(ipcmode, "host"))
				continue;
			if (streq(types[i], "uts") && utsmode && streq(utsmode, "host"))
				continue;
			if (streq(types[i], "network") && netmode && streq(netmode, "host"))
				continue;
			if (streq(types[i], "cgroup") && !cgroup_v2())
				continue;
			n = json_object_new_object();
			json_add_str(n, "type", types[i]);
			if (streq(types[i], "network") && netmode &&
			    startswith(netmode, "container:")) {
				struct container *o = container_find(e, netmode + 10);
				if (o && o->pid > 0) {
					_cleanup_free_ char *p =
					    xasprintf("/proc/%d/ns/net", (int)o->pid);
					json_add_str(n, "path", p);
				}
			}
			json_object_array_add(ns, n);
		}
		json_object_object_add(lx, "namespaces", ns);
	}
	{
		json_object *mem = json_object_new_object(), *cpu = json_object_new_object();
		int64_t m = get_i(hc, "Memory", 0), sw = get_i(hc, "MemorySwap", 0);
		if (m > 0) {
			json_add_int(mem, "limit", m);
			/* Docker: swap defaults to twice the memory; -1 is unlimited. */
			json_add_int(mem, "swap", sw == 0 ? 2 * m : sw);
		}
		if (get_i(hc, "MemoryReservation", 0) > 0)
			json_add_int(mem, "reservation", get_i(hc, "MemoryReservation", 0));
		if (get(hc, "MemorySwappiness") && get_i(hc, "MemorySwappiness", -1) >= 0)
			json_add_int(mem, "swappiness", get_i(hc, "MemorySwappiness", -1));
		if (get_b(hc, "OomKillDisable"))
			json_add_bool(mem, "disableOOMKiller", true);
		json_object_object_add(res, "memory", mem);
		if (get_i(hc, "CpuShares", 0) > 0)
			json_add_int(cpu, "shares", get_i(hc, "CpuShares", 0));
		if (get_i(hc, "NanoCpus", 0) > 0) {
			json_add_int(cpu, "period", 100000);
			json_add_int(cpu, "quota", get_i(hc, "NanoCpus", 0) * 100000 / 1000000000);
		} else {
			if (get_i(hc, "CpuQuota", 0) > 0)
				json_add_int(cpu, "quota", get_i(hc, "CpuQuota", 0));
			if (get_i(hc, "CpuPeriod", 0) > 0)
				json_add_int(cpu, "period", get_i(hc, "CpuPeriod", 0));
		}
		if (!isempty(get_s(hc, "CpusetCpus")))
			json_add_str(cpu, "cpus", get_s(hc, "CpusetCpus"));
		if (!isempty(get_s(hc, "CpusetMems")))
			json_add_str(cpu, "mems", get_s(hc, "CpusetMems"));
		json_object_object_add(res, "cpu", cpu);
		if (get_i(hc, "PidsLimit", 0) > 0) {
			json_object *p = json_object_new_object();
			json_add_int(p, "limit", get_i(hc, "PidsLimit", 0));
			json_object_object_add(res, "pids", p);
		}
		{
			json_object *devs = json_object_new_array(), *d = json_object_new_object();
			json_add_bool(d, "allow", privileged);
			json_add_str(d, "access", "rwm");
			json_object_array_add(devs, d);
			if (!privileged) {
				/* fuse stays denied explicitly, as in Docker */
				json_object *f = json_object_new_object();
				json_add_bool(f, "allow", false);
				json_add_str(f, "type", "c");
				json_add_int(f, "major", 10);
				json_add_int(f, "minor", 229);
				json_add_str(f, "access", "rwm");
				json_object_array_add(devs, f);
			}
			json_object_object_add(res, "devices", devs);
		}
		json_object_object_add(lx, "resources", res);
	}
	{
		_cleanup_free_ char *cg = xasprintf("%s/%s", e->cfg->cgroup_parent, c->id);
		json_add_str(lx, "cgroupsPath", cg);
	}
	{
		json_object *sys = json_object_new_object();
		json_object *hs = get(hc, "Sysctls");
		if (!netmode || !streq(netmode, "host")) {
			json_add_str(sys, "net.ipv4.ip_unprivileged_port_start", "0");
			json_add_str(sys, "net.ipv4.ping_group_range", "0 2147483647");
		}
		if (hs && json_object_is_type(hs, json_type_object)) {
			json_object_object_foreach(hs, k, v)
			{
				json_add_str(sys, k, json_object_get_string(v));
			}
		}
		json_object_object_add(lx, "sysctl", sys);
	}
	if (!privileged) {
		static const char *const masked[] = {"/proc/acpi",
						     "/proc/asound",
						     "/proc/interrupts",
						     "/proc/kcore",
						     "/proc/keys",
						     "/proc/latency_stats",
						     "/proc/sched_debug",
						     "/proc/scsi",
						     "/proc/timer_list",
						     "/proc/timer_stats",
						     "/sys/devices/virtual/powercap",
						     "/sys/firmware"};
		static const char *const ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
						 "/proc/sysrq-trigger"};
		json_object *mp = json_object_new_array(), *rp = json_object_new_array();
		for (size_t i = 0; i < ELEMENTSOF(masked); i++)
			json_object_array_add(mp, json_object_new_string(masked[i]));
		for (long cpu = 0; cpu < sysconf(_SC_NPROCESSORS_CONF); cpu++) {
			_cleanup_free_ char *t =
			    xasprintf("/sys/devices/system/cpu/cpu%ld/thermal_throttle", cpu);
			if (access(t, F_OK) == 0)
				json_object_array_add(mp, json_object_new_string(t));
		}
		for (size_t i = 0; i < ELEMENTSOF(ro); i++)
			json_object_array_add(rp, json_object_new_string(ro[i]));
		json_object_object_add(lx, "maskedPaths", mp);
		json_object_object_add(lx, "readonlyPaths", rp);
	}
	if (seccomp)
		json_object_object_add(lx, "seccomp", seccomp);
	if (root_propagation)
		json_add_str(lx, "rootfsPropagation", root_propagation);
	json_object_object_add(spec, "linux", lx);
	*ret = spec;
	return 0;
}

int spec_exec_process(struct engine *e, struct container *c, json_object *body, json_object **ret,
		      struct error **err)
{
	_cleanup_free_ char *run = container_rundir(e, c->id);
	_cleanup_free_ char *cfgpath = xasprintf("%s/config.json", run);
	_cleanup_json_ json_object *spec = NULL;
	_cleanup_free_ char *rootfs = NULL;
	json_object *proc, *p, *cmd = get(body, "Cmd");
	int r;

	r = json_parse_file(cfgpath, 16 << 20, &spec, err);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(spec, "process", &proc))
		return error_setx(err, -EINVAL, "container has no process");
	p = json_tokener_parse(json_object_to_json_string(proc));
	if (!cmd || !json_object_is_type(cmd, json_type_array) || !json_object_array_length(cmd)) {
		json_object_put(p);
		return error_setx(err, -EINVAL, "No exec command specified");
	}
	json_object_object_add(p, "args", json_object_get(cmd));
	json_add_bool(p, "terminal", get_b(body, "Tty"));
	json_object_object_del(p, "consoleSize");
	if (!isempty(get_s(body, "WorkingDir")))
		json_add_str(p, "cwd", get_s(body, "WorkingDir"));
	if (get(body, "Env")) {
		json_object *env = get(p, "env"), *more = get(body, "Env");
		for (size_t i = 0; i < json_object_array_length(more); i++)
			json_object_array_add(env,
					      json_object_get(json_object_array_get_idx(more, i)));
	}
	if (!isempty(get_s(body, "User"))) {
		json_object *u = NULL;
		rootfs = xasprintf("/proc/%d/root", (int)c->pid);
		r = resolve_user(rootfs, get_s(body, "User"), NULL, &u, err);
		if (r < 0) {
			json_object_put(p);
			return r;
		}
		json_object_object_add(p, "user", u);
		if (json_object_get_int64(get(u, "uid")) != 0) {
			json_object *capo = get(p, "capabilities");
			if (capo) {
				json_object_object_add(capo, "effective", json_object_new_array());
				json_object_object_add(capo, "permitted", json_object_new_array());
			}
		}
	}
	if (get_b(body, "Privileged")) {
		json_object *capo = json_object_new_object();
		char **all = NULL;
		for (size_t i = 0; i < runtime_n_caps; i++)
			all = strv_append(all, runtime_all_caps[i]);
		json_object_object_add(capo, "bounding", json_strv_new(all));
		json_object_object_add(capo, "effective", json_strv_new(all));
		json_object_object_add(capo, "permitted", json_strv_new(all));
		json_object_object_add(p, "capabilities", capo);
		strv_free(all);
	}
	*ret = p;
	return 0;
}

static json_object *spec_namespace(json_object *spec, const char *type)
{
	json_object *lx, *ns;

	if (!json_object_object_get_ex(spec, "linux", &lx) ||
	    !json_object_object_get_ex(lx, "namespaces", &ns) ||
	    !json_object_is_type(ns, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(ns); i++) {
		json_object *n = json_object_array_get_idx(ns, i);
		if (streq(get_s(n, "type") ?: "", type))
			return n;
	}
	return NULL;
}

bool spec_new_netns(json_object *spec)
{
	json_object *n = spec_namespace(spec, "network");
	return n && !get(n, "path") && !spec_namespace(spec, "user");
}

void spec_set_netns_path(json_object *spec, int fd)
{
	json_object *n = spec_namespace(spec, "network");
	if (n) {
		_cleanup_free_ char *p = xasprintf("/proc/%d/fd/%d", (int)getpid(), fd);
		json_add_str(n, "path", p);
	}
}
