/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's binds and mounts, read as dockerd reads them (moby's volume/mounts linux
 * parser and registerMountPoints): HostConfig.Binds ("/src:/dst[:mode]", what -v sends) and
 * HostConfig.Mounts (what --mount, docker-py's mounts= and compose's long syntax send) of
 * type bind or tmpfs. They are checked at create, listed by inspect and ps (.Mounts),
 * matched by ps --filter volume and made into OCI mounts at start, together with
 * HostConfig.Tmpfs (--tmpfs), which Docker mounts but does not list.
 *
 * berth has no volumes yet: a named or anonymous volume (and an image mount) is refused at
 * create with a 400, in the wording of moby's mount errors, rather than run without it.
 */
#include <inttypes.h>
#include <stddef.h>
#include <sys/stat.h>

#include "internal.h"

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;
	if (o && json_object_object_get_ex(o, k, &v) && !json_object_is_type(v, json_type_null))
		return v;
	return NULL;
}

static size_t array_length(json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* ---- paths and words ------------------------------------------------------------ */

/* Go's path.Clean: one slash between elements, no "." and no ".." that can be resolved
 * lexically, no trailing slash. */
static char *path_clean(const char *p)
{
	size_t n = strlen(p), o = 0, dotdot = 0;
	bool rooted = p[0] == '/';
	char *out = xzalloc(n + 2);

	if (rooted)
		out[o++] = '/', dotdot = 1;
	for (size_t r = 0; r < n;) {
		if (p[r] == '/') {
			r++;
		} else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
			r++;
		} else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
			r += 2;
			if (o > dotdot) {
				o--;
				while (o > dotdot && out[o] != '/')
					o--;
			} else if (!rooted) {
				if (o > 0)
					out[o++] = '/';
				out[o++] = '.';
				out[o++] = '.';
				dotdot = o;
			}
		} else {
			if (o != (rooted ? 1u : 0u))
				out[o++] = '/';
			while (r < n && p[r] != '/')
				out[o++] = p[r++];
		}
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = 0;
	return out;
}

static bool is_root(const char *p)
{
	_cleanup_free_ char *c = path_clean(p);
	return streq(c, "/");
}

/* An errno as Go prints it ("permission denied"). */
static char *go_strerror(int e)
{
	char *s = xstrdup(strerror(e));
	if (s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z'))
		s[0] = (char)(s[0] - 'A' + 'a');
	return s;
}

static bool is_propagation(const char *s)
{
	static const char *const modes[] = {"private", "rprivate", "slave",
					    "rslave",  "shared",   "rshared"};
	for (size_t i = 0; i < ELEMENTSOF(modes); i++)
		if (streq(s, modes[i]))
			return true;
	return false;
}

/* moby's linuxValidMountMode: comma-separated words, at most one of each kind. */
static bool valid_mode(const char *mode)
{
	static const char *const kinds[][6] = {
	    {"rw", "ro", "ro-non-recursive", "ro-force-recursive", "rro"},
	    {"z", "Z"},
	    {"private", "rprivate", "slave", "rslave", "shared", "rshared"},
	    {"nocopy"},
	    {"consistent", "cached", "delegated"},
	};
	_cleanup_free_ char *copy = xstrdup(mode);
	unsigned count[ELEMENTSOF(kinds)] = {0};

	if (!*mode)
		return true;
	for (char *w = copy, *next; w; w = next) {
		bool known = false;
		next = strchr(w, ',');
		if (next)
			*next++ = 0;
		for (size_t k = 0; k < ELEMENTSOF(kinds) && !known; k++)
			for (size_t i = 0; i < ELEMENTSOF(kinds[k]) && kinds[k][i]; i++)
				if (streq(w, kinds[k][i])) {
					known = true;
					if (++count[k] > 1)
						return false;
					break;
				}
		if (!known)
			return false;
	}
	return true;
}

/* The word of mode (comma-separated) for which pred holds, or NULL. */
static const char *mode_word(const char *mode, bool (*pred)(const char *w), char *buf, size_t n)
{
	for (const char *w = mode; *w;) {
		size_t len = strcspn(w, ",");
		if (len < n) {
			memcpy(buf, w, len);
			buf[len] = 0;
			if (pred(buf))
				return buf;
		}
		w += len;
		if (*w == ',')
			w++;
	}
	return NULL;
}

static bool is_ro(const char *w)
{
	return streq(w, "ro") || startswith(w, "ro-") || streq(w, "rro");
}

static bool is_rro(const char *w)
{
	return streq(w, "rro") || streq(w, "ro-force-recursive");
}

static bool is_nocopy(const char *w)
{
	return streq(w, "nocopy");
}

/* ---- HostConfig.Mounts entries, as the API sends them ----------------------------- */

struct bind_options {
	bool present;
	char *propagation;
	bool non_recursive;
	bool create_mountpoint;
	bool ro_non_recursive;
	bool ro_force_recursive;
};

struct tmpfs_options {
	bool present;
	int64_t size_bytes;
	uint32_t mode;	      /* Go's os.FileMode: the permission bits as a number */
	json_object *options; /* borrowed: [["exec"], ["noexec"]] */
};

struct api_mount {
	char *type;
	char *source;
	char *target;
	bool read_only;
	bool volume_options; /* VolumeOptions given */
	bool image_options;
	struct bind_options bind;
	struct tmpfs_options tmpfs;
};

static void api_mount_release(struct api_mount *m)
{
	free(m->type);
	free(m->source);
	free(m->target);
	free(m->bind.propagation);
}

#define F(name, type, st, member)                                                                  \
	{                                                                                          \
		name, type, offsetof(struct st, member), false, NULL, 0, 0                         \
	}
#define FO(name, st, member, fn)                                                                   \
	{                                                                                          \
		name, JF_OBJECT, offsetof(struct st, member), false, fn, 0, 0                      \
	}

static int parse_bind_options(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("Propagation", JF_STRING, bind_options, propagation),
	    F("NonRecursive", JF_BOOL, bind_options, non_recursive),
	    F("CreateMountpoint", JF_BOOL, bind_options, create_mountpoint),
	    F("ReadOnlyNonRecursive", JF_BOOL, bind_options, ro_non_recursive),
	    F("ReadOnlyForceRecursive", JF_BOOL, bind_options, ro_force_recursive),
	    JSON_FIELD_END,
	};
	((struct bind_options *)dst)->present = true;
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_tmpfs_options(json_object *o, void *dst, const char *path, struct error **err)
{
	static const struct json_field fields[] = {
	    F("SizeBytes", JF_INT64, tmpfs_options, size_bytes),
	    F("Mode", JF_UINT32, tmpfs_options, mode),
	    JSON_FIELD_END,
	};
	struct tmpfs_options *t = dst;
	t->present = true;
	t->options = get(o, "Options");
	return json_parse_fields(o, fields, dst, path, err);
}

static int parse_present(json_object *o, void *dst, const char *path, struct error **err)
{
	(void)o, (void)path, (void)err;
	*(bool *)dst = true;
	return 0;
}

static int api_mount_parse(json_object *o, const char *path, struct api_mount *m,
			   struct error **err)
{
	static const struct json_field fields[] = {
	    F("Type", JF_STRING, api_mount, type),
	    F("Source", JF_STRING, api_mount, source),
	    F("Target", JF_STRING, api_mount, target),
	    F("ReadOnly", JF_BOOL, api_mount, read_only),
	    FO("BindOptions", api_mount, bind, parse_bind_options),
	    FO("TmpfsOptions", api_mount, tmpfs, parse_tmpfs_options),
	    FO("VolumeOptions", api_mount, volume_options, parse_present),
	    FO("ImageOptions", api_mount, image_options, parse_present),
	    JSON_FIELD_END,
	};
	return json_parse_fields(o, fields, m, path, err);
}

static int mount_error(struct error **err, const char *type, const char *fmt, ...) _printf_(3, 4);
static int mount_error(struct error **err, const char *type, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return error_setx(err, -EINVAL, "invalid mount config for type \"%s\": %s", type, buf);
}

/* moby's ConvertTmpfsOptions: "ro,mode=1777,size=64m,exec". */
static int tmpfs_data(const struct api_mount *m, char **ret, struct error **err)
{
	_cleanup_free_ char *s = xstrdup(m->read_only ? "ro" : "");
	const struct tmpfs_options *t = &m->tmpfs;
	char *n;

	if (t->mode) {
		n = xasprintf("%s%smode=%o", s, *s ? "," : "", t->mode);
		free(s), s = n;
	}
	if (t->size_bytes) {
		static const struct {
			char suffix;
			int64_t div;
		} units[] = {{'g', 1LL << 30}, {'m', 1LL << 20}, {'k', 1LL << 10}};
		int64_t size = t->size_bytes;
		char suffix[2] = "";
		for (size_t i = 0; i < ELEMENTSOF(units); i++)
			if (size % units[i].div == 0) {
				size /= units[i].div;
				suffix[0] = units[i].suffix;
				break;
			}
		n = xasprintf("%s%ssize=%" PRId64 "%s", s, *s ? "," : "", size, suffix);
		free(s), s = n;
	}
	for (size_t i = 0; i < array_length(t->options); i++) {
		json_object *opt = json_object_array_get_idx(t->options, i);
		size_t len = array_length(opt);
		const char *k, *v;
		if (len < 1 || len > 2)
			return mount_error(err, m->type, "invalid option array length");
		k = json_object_get_string(json_object_array_get_idx(opt, 0));
		v = len == 2 ? json_object_get_string(json_object_array_get_idx(opt, 1)) : NULL;
		if (!k || !(streq(k, "exec") || streq(k, "noexec")))
			return mount_error(err, m->type, "invalid option: %s", k ? k : "");
		n = xasprintf("%s%s%s%s%s", s, *s ? "," : "", k, v ? "=" : "", v ? v : "");
		free(s), s = n;
	}
	*ret = TAKE_PTR(s);
	return 0;
}

/* moby's validateMountConfigImpl, with berth's refusal of volumes. */
static int api_mount_check(const struct api_mount *m, bool check_source, struct error **err)
{
	const char *type = m->type ? m->type : "";
	const char *target = m->target ? m->target : "";
	const char *source = m->source ? m->source : "";

	if (!*target)
		return mount_error(err, type, "field Target must not be empty");
	if (is_root(target))
		return mount_error(err, type, "invalid specification: destination can't be '/'");
	if (target[0] != '/')
		return mount_error(err, type,
				   "invalid mount path: '%s' mount path must be absolute", target);
	if (streq(type, "bind")) {
		if (!*source)
			return mount_error(err, type, "field Source must not be empty");
		if (!isempty(m->bind.propagation) && !is_propagation(m->bind.propagation))
			return mount_error(err, type, "invalid propagation mode: %s",
					   m->bind.propagation);
		if (m->volume_options)
			return mount_error(err, type, "field VolumeOptions must not be specified");
		if (source[0] != '/')
			return mount_error(err, type,
					   "invalid mount path: '%s' mount path must be absolute",
					   source);
		if (m->bind.ro_non_recursive && m->bind.ro_force_recursive)
			return mount_error(err, type,
					   "mount options conflict: ReadOnlyNonRecursive && "
					   "ReadOnlyForceRecursive");
		if (check_source && !m->bind.create_mountpoint) {
			struct stat st;
			if (stat(source, &st) < 0) {
				int saved = errno;
				_cleanup_free_ char *e = go_strerror(saved);
				if (saved == ENOENT)
					return mount_error(err, type,
							   "bind source path does not exist: %s",
							   source);
				return mount_error(err, type, "stat %s: %s", source, e);
			}
		}
		return 0;
	}
	if (streq(type, "tmpfs")) {
		_cleanup_free_ char *data = NULL;
		if (m->bind.present)
			return mount_error(err, type, "field BindOptions must not be specified");
		if (*source)
			return mount_error(err, type, "field Source must not be specified");
		return tmpfs_data(m, &data, err);
	}
	if (streq(type, "volume")) {
		if (m->bind.present)
			return mount_error(err, type, "field BindOptions must not be specified");
		/* Not implemented yet: refused, not silently left out. */
		return mount_error(err, type, "%s volumes are not supported by berth yet",
				   *source ? "named" : "anonymous");
	}
	if (streq(type, "image"))
		return mount_error(err, type, "image mounts are not supported by berth yet");
	return mount_error(err, type, "mount type unknown");
}

/* ---- mount points ------------------------------------------------------------------ */

struct mount_point {
	bool tmpfs;
	char *source;	   /* a bind's host path, cleaned */
	char *destination; /* cleaned */
	char *mode;	   /* Binds: what follows the second ':'; "" otherwise */
	bool rw;
	const char *ro_option; /* "ro" or "rro" when read-only */
	char *propagation;     /* a bind's: as asked or "rprivate"; NULL for tmpfs */
	bool non_recursive;    /* "bind" rather than "rbind" */
	bool create_source;    /* made at start when missing: Binds, CreateMountpoint */
	char *data;	       /* tmpfs options ("size=64m,mode=1777") */
	size_t index;	       /* the order given, for a stable sort */
};

struct mount_points {
	struct mount_point *v;
	size_t n;
};

static void mount_point_release(struct mount_point *mp)
{
	free(mp->source);
	free(mp->destination);
	free(mp->mode);
	free(mp->propagation);
	free(mp->data);
}

static void mount_points_release(struct mount_points *mps)
{
	for (size_t i = 0; i < mps->n; i++)
		mount_point_release(&mps->v[i]);
	free(mps->v);
	mps->v = NULL;
	mps->n = 0;
}

/* Takes what mp holds. */
static void mount_points_append(struct mount_points *mps, struct mount_point *mp)
{
	mps->v = xrealloc(mps->v, sizeof(*mps->v) * (mps->n + 1));
	mp->index = mps->n;
	mps->v[mps->n++] = *mp;
	*mp = (struct mount_point){0};
}

static bool mount_points_has(const struct mount_points *mps, const char *dest)
{
	for (size_t i = 0; i < mps->n; i++)
		if (streq(mps->v[i].destination, dest))
			return true;
	return false;
}

static bool tmpfs_has(json_object *hc, const char *dest)
{
	json_object *t = get(hc, "Tmpfs");
	if (!t || !json_object_is_type(t, json_type_object))
		return false;
	json_object_object_foreach(t, k, v)
	{
		_cleanup_free_ char *c = path_clean(k);
		(void)v;
		if (streq(c, dest))
			return true;
	}
	return false;
}

/* A Mounts entry (checked) as a mount point. */
static void mount_point_from_api(struct mount_point *mp, const struct api_mount *m)
{
	mp->destination = path_clean(m->target);
	mp->mode = xstrdup("");
	mp->rw = !m->read_only;
	if (streq(m->type, "tmpfs")) {
		mp->tmpfs = true;
		(void)tmpfs_data(m, &mp->data, NULL);
		return;
	}
	mp->source = path_clean(m->source);
	mp->propagation = xstrdup(!isempty(m->bind.propagation) ? m->bind.propagation : "rprivate");
	mp->non_recursive = m->bind.non_recursive;
	mp->create_source = m->bind.create_mountpoint;
	/* Docker makes a plain read-only bind recursively read-only where it can (API 1.44);
	 * berth keeps it read-only at the top, unless asked for rro. */
	mp->ro_option = m->bind.ro_force_recursive ? "rro" : "ro";
}

/* moby's ParseMountRaw for one Binds entry. */
static int parse_bind(const char *raw, struct mount_point *mp, struct error **err)
{
	_cleanup_free_ char *copy = xstrdup(raw);
	char *part[4] = {copy};
	size_t n = 1;
	const char *source = "", *target = "", *mode = "";
	bool bind, propagation_given;
	char w[32];

	for (char *c = copy; n < 4 && (c = strchr(c, ':')); n++) {
		*c++ = 0;
		part[n] = c;
	}
	if (!*part[0] || n == 4)
		return error_setx(err, -EINVAL, "invalid volume specification: '%s'", raw);
	if (n == 1) {
		target = part[0];
	} else if (n == 2) {
		if (valid_mode(part[1]))
			return error_setx(err, -EINVAL, "invalid volume specification: '%s'", raw);
		source = part[0];
		target = part[1];
	} else {
		source = part[0];
		target = part[1];
		mode = part[2];
	}
	if (!valid_mode(mode))
		return error_setx(err, -EINVAL, "invalid mode: %s", mode);
	bind = source[0] == '/';
	propagation_given = mode_word(mode, is_propagation, w, sizeof(w)) != NULL;
	if (!bind && mode_word(mode, is_ro, w, sizeof(w)) && (startswith(w, "ro-") || is_rro(w)))
		return error_setx(err, -EINVAL,
				  "mount mode \"%s\" requires a bind mount: invalid volume "
				  "specification: '%s'",
				  mode, raw);

	/* parseMountSpec, its errors after the spec's */
	{
		const char *type = bind ? "bind" : "volume";
		_cleanup_error_ struct error *e = NULL;
		int r = 0;
		if (!*target)
			r = mount_error(&e, type, "field Target must not be empty");
		else if (is_root(target))
			r = mount_error(&e, type,
					"invalid specification: destination can't be '/'");
		else if (target[0] != '/')
			r = mount_error(&e, type,
					"invalid mount path: '%s' mount path must be absolute",
					target);
		else if (bind && mode_word(mode, is_nocopy, w, sizeof(w)))
			r = mount_error(&e, type, "field VolumeOptions must not be specified");
		else if (!bind && propagation_given)
			r = mount_error(&e, type, "field BindOptions must not be specified");
		else if (!bind)
			/* Not implemented yet: refused, not silently left out. */
			r = mount_error(&e, type, "%s volumes are not supported by berth yet",
					*source ? "named" : "anonymous");
		if (r < 0)
			return error_setx(err, r, "invalid volume specification: '%s': %s", raw,
					  e->msg);
	}
	mp->source = path_clean(source);
	mp->destination = path_clean(target);
	mp->mode = xstrdup(mode);
	mp->rw = !mode_word(mode, is_ro, w, sizeof(w));
	mp->ro_option = mode_word(mode, is_rro, w, sizeof(w)) ? "rro" : "ro";
	mp->propagation =
	    xstrdup(propagation_given ? mode_word(mode, is_propagation, w, sizeof(w)) : "rprivate");
	mp->create_source = true;
	return 0;
}

/*
 * The container's Binds then Mounts. strict (create): every entry is checked, the source
 * of a bind from Mounts must exist, no destination may repeat (nor one of Tmpfs); the first
 * error is the answer. Otherwise (inspect, ps, start) entries that do not parse are left
 * out: a container stored by an older berthd may hold Mounts it never checked.
 */
static int mount_points_parse(json_object *hc, bool strict, struct mount_points *mps,
			      struct error **err)
{
	json_object *binds = get(hc, "Binds"), *mounts = get(hc, "Mounts");
	size_t nm = array_length(mounts);
	int r;

	/* validateHostConfig: each Mounts entry on its own, before the binds */
	for (size_t i = 0; strict && i < nm; i++) {
		struct api_mount m = {0};
		_cleanup_free_ char *path = xasprintf("HostConfig.Mounts[%zu]", i);
		r = api_mount_parse(json_object_array_get_idx(mounts, i), path, &m, err);
		if (r < 0)
			r = -EINVAL; /* a number out of range too: a 400 */
		else
			r = api_mount_check(&m, true, err);
		api_mount_release(&m);
		if (r < 0)
			return r;
	}
	/* registerMountPoints: the binds, then the mounts, no destination twice */
	for (size_t i = 0; i < array_length(binds); i++) {
		const char *raw = json_object_get_string(json_object_array_get_idx(binds, i));
		struct mount_point mp = {0};
		r = parse_bind(raw ? raw : "", &mp, strict ? err : NULL);
		if (r >= 0 && strict &&
		    (mount_points_has(mps, mp.destination) || tmpfs_has(hc, mp.destination)))
			r = error_setx(err, -EINVAL, "Duplicate mount point: %s", mp.destination);
		if (r < 0) {
			mount_point_release(&mp);
			if (strict)
				return r;
			continue;
		}
		mount_points_append(mps, &mp);
	}
	for (size_t i = 0; i < nm; i++) {
		struct api_mount m = {0};
		_cleanup_free_ char *path = xasprintf("HostConfig.Mounts[%zu]", i);
		_cleanup_free_ char *dest = NULL;
		r = api_mount_parse(json_object_array_get_idx(mounts, i), path, &m, NULL);
		if (r >= 0)
			r = api_mount_check(&m, false, NULL);
		if (r >= 0) {
			struct mount_point mp = {0};
			dest = path_clean(m.target);
			/* dockerd lets a tmpfs at the same place win over a bind from Mounts at
			 * start (and fails a tmpfs there); berth says so at create. */
			if (strict && (mount_points_has(mps, dest) || tmpfs_has(hc, dest))) {
				r = error_setx(err, -EINVAL, "Duplicate mount point: %s", m.target);
				api_mount_release(&m);
				return r;
			}
			mount_point_from_api(&mp, &m);
			mount_points_append(mps, &mp);
		}
		api_mount_release(&m);
	}
	return 0;
}

/* Nothing to read: the common case costs two lookups. */
static bool no_mounts(json_object *hc)
{
	return array_length(get(hc, "Binds")) == 0 && array_length(get(hc, "Mounts")) == 0;
}

int mounts_check(json_object *hc, struct error **err)
{
	struct mount_points mps = {0};
	int r;

	if (no_mounts(hc))
		return 0;
	r = mount_points_parse(hc, true, &mps, err);
	mount_points_release(&mps);
	return r;
}

json_object *mounts_list(json_object *hc)
{
	struct mount_points mps = {0};
	json_object *a = json_object_new_array();

	if (no_mounts(hc))
		return a;
	(void)mount_points_parse(hc, false, &mps, NULL);
	for (size_t i = 0; i < mps.n; i++) {
		const struct mount_point *mp = &mps.v[i];
		json_object *o = json_object_new_object();
		/* moby's types.MountPoint; Name and Driver are for volumes (omitempty) */
		json_add_str(o, "Type", mp->tmpfs ? "tmpfs" : "bind");
		json_add_str(o, "Source", mp->tmpfs ? "" : mp->source);
		json_add_str(o, "Destination", mp->destination);
		json_add_str(o, "Mode", mp->mode);
		json_add_bool(o, "RW", mp->rw);
		json_add_str(o, "Propagation", mp->tmpfs ? "" : mp->propagation);
		json_object_array_add(a, o);
	}
	mount_points_release(&mps);
	return a;
}

bool mounts_match_volume(json_object *hc, const char *value)
{
	struct mount_points mps = {0};
	bool found = false;

	if (no_mounts(hc))
		return false;
	(void)mount_points_parse(hc, false, &mps, NULL);
	for (size_t i = 0; i < mps.n && !found; i++)
		found = streq(mps.v[i].destination, value) ||
			(mps.v[i].source && streq(mps.v[i].source, value));
	mount_points_release(&mps);
	return found;
}

int mounts_make_sources(json_object *hc, struct error **err)
{
	struct mount_points mps = {0};
	int r = 0;

	if (no_mounts(hc))
		return 0;
	(void)mount_points_parse(hc, false, &mps, NULL);
	for (size_t i = 0; i < mps.n && r >= 0; i++) {
		const struct mount_point *mp = &mps.v[i];
		struct stat st;
		if (!mp->create_source || stat(mp->source, &st) == 0 || errno != ENOENT)
			continue;
		/* moby's MkdirAllAndChownNew(source, 0755); an existing file is fine */
		r = mkdir_p(mp->source, 0755);
		if (r < 0) {
			_cleanup_free_ char *e = go_strerror(-r);
			/* EIO: a start error, whatever the errno (not a 403 or a 404) */
			r = error_setx(err, -EIO,
				       "error while creating mount source path '%s': mkdir %s: %s",
				       mp->source, mp->source, e);
		}
	}
	mount_points_release(&mps);
	return r;
}

static size_t depth(const char *path)
{
	size_t n = 0;
	for (; *path; path++)
		n += *path == '/';
	return n;
}

static int cmp_depth(const void *a, const void *b)
{
	const struct mount_point *x = a, *y = b;
	size_t dx = depth(x->destination), dy = depth(y->destination);
	if (dx != dy)
		return dx < dy ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void add_oci_mount(json_object *mounts, const char *dest, const char *type,
			  const char *source, char **opts)
{
	json_object *m = json_object_new_object();
	json_add_str(m, "destination", dest);
	json_add_str(m, "type", type);
	json_add_str(m, "source", source);
	json_object_object_add(m, "options", json_strv_new(opts));
	json_object_array_add(mounts, m);
}

/* "a,b" onto the list, word by word. */
static char **strv_append_csv(char **l, const char *csv)
{
	_cleanup_free_ char *copy = xstrdup(csv ? csv : "");
	for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		l = strv_append(l, t);
	return l;
}

const char *mounts_spec(json_object *hc, json_object *mounts)
{
	json_object *t = get(hc, "Tmpfs");
	struct mount_points mps = {0};
	const char *root_propagation = NULL;

	if (no_mounts(hc) && (!t || json_object_object_length(t) == 0))
		return NULL;
	(void)mount_points_parse(hc, false, &mps, NULL);
	if (t && json_object_is_type(t, json_type_object)) {
		json_object_object_foreach(t, dest, o)
		{
			struct mount_point mp = {.tmpfs = true, .rw = true};
			mp.destination = xstrdup(dest); /* as given: never cleaned */
			mp.data =
			    xstrdup(json_object_get_string(o) ? json_object_get_string(o) : "");
			mount_points_append(&mps, &mp);
		}
	}
	/* Docker mounts by depth, so that /a is in place before /a/b. */
	qsort(mps.v, mps.n, sizeof(*mps.v), cmp_depth);
	for (size_t i = 0; i < mps.n; i++) {
		const struct mount_point *mp = &mps.v[i];
		_cleanup_strv_free_ char **opts = NULL;
		if (mp->tmpfs) {
			opts = strv_append_csv(NULL, "nosuid,nodev,noexec");
			opts = strv_append_csv(opts, mp->data);
			add_oci_mount(mounts, mp->destination, "tmpfs", "tmpfs", opts);
			continue;
		}
		opts = strv_append(NULL, mp->non_recursive ? "bind" : "rbind");
		if (!mp->rw)
			opts = strv_append(opts, mp->ro_option);
		opts = strv_append(opts, mp->propagation);
		add_oci_mount(mounts, mp->destination, "bind", mp->source, opts);
		/* As dockerd: a shared bind needs a shared root to reach the host, a slave
		 * one a slave root (the default) at least. */
		if (strstr(mp->propagation, "shared"))
			root_propagation = "shared";
		else if (strstr(mp->propagation, "slave") && !root_propagation)
			root_propagation = "rslave";
	}
	mount_points_release(&mps);
	return root_propagation;
}
