/* SPDX-License-Identifier: Apache-2.0 */
/*
 * run/create --mount: docker 28's MountOpt (opts/mount.go). The value is one CSV record
 * (Go's encoding/csv: quoted fields, its errors) of "key=value" fields, turned into the
 * HostConfig.Mounts entry the docker CLI sends, omitted members and all.
 */
#include <ctype.h>
#include <sys/stat.h>
#include <time.h>

#include "container-opts.h"

/* ---- Go's encoding/csv, one record ----------------------------------------------------- */

struct csv_reader {
	const char *p; /* the rest of the input */
	int line;      /* lines read so far */
};

/* csv.Reader.readLine: up to and including '\n' ("\r\n" read as "\n"; a "\r" ending the
 * input dropped). Returns false at the end of the input. */
static bool csv_read_line(struct csv_reader *r, char **ret)
{
	size_t n = strcspn(r->p, "\n");
	bool nl = r->p[n] == '\n';
	char *line;

	r->line++;
	if (n == 0 && !nl) {
		*ret = xstrdup("");
		return false;
	}
	line = xstrndup(r->p, n + nl);
	r->p += n + nl;
	if (!nl && n > 0 && line[n - 1] == '\r')
		line[n - 1] = 0;
	else if (nl && n > 0 && line[n - 1] == '\r') {
		line[n - 1] = '\n';
		line[n] = 0;
	}
	*ret = line;
	return true;
}

static size_t length_nl(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && s[n - 1] == '\n';
}

static int csv_error(struct error **err, int start_line, int line, int col, const char *what)
{
	if (start_line != line)
		return error_setx(err, -EINVAL,
				  "record on line %d; parse error on line %d, column %d: %s",
				  start_line, line, col, what);
	return error_setx(err, -EINVAL, "parse error on line %d, column %d: %s", line, col, what);
}

#define ERR_BARE_QUOTE "bare \" in non-quoted-field"
#define ERR_QUOTE "extraneous or missing \" in quoted-field"

/* csv.Reader.Read with the defaults (',' separated, strict quotes): the first record of s,
 * skipping empty lines; "EOF" when there is none. */
static int csv_read_record(const char *s, char ***ret, struct error **err)
{
	struct csv_reader r = {.p = s};
	_cleanup_strv_free_ char **fields = NULL;
	char *line = NULL;
	bool more;
	int rec_line, col = 1, pos_line;

	for (;;) {
		more = csv_read_line(&r, &line);
		if (!more)
			break;
		if (strlen(line) == length_nl(line)) {
			free(line);
			continue;
		}
		break;
	}
	if (!more && !*line) {
		free(line);
		return error_setx(err, -EINVAL, "EOF");
	}
	_cleanup_free_ char *owned = line;
	const char *l = line;
	rec_line = pos_line = r.line;
	for (;;) {
		if (*l != '"') {
			const char *comma = strchr(l, ',');
			size_t n = comma ? (size_t)(comma - l) : strlen(l) - length_nl(l);
			const char *q = memchr(l, '"', n);
			if (q)
				return csv_error(err, rec_line, r.line, col + (int)(q - l),
						 ERR_BARE_QUOTE);
			_cleanup_free_ char *f = xstrndup(l, n);
			fields = strv_append(fields, f);
			if (!comma)
				break;
			l = comma + 1;
			col += (int)n + 1;
			continue;
		}
		/* a quoted field, perhaps over several lines */
		struct sbuf b = {0};
		l++;
		col++;
		for (;;) {
			const char *q = strchr(l, '"');
			if (q) {
				sbuf_add(&b, l, (size_t)(q - l));
				col += (int)(q - l) + 1;
				l = q + 1;
				if (*l == '"') {
					sbuf_add(&b, "\"", 1);
					l++;
					col++;
				} else if (*l == ',') {
					l++;
					col++;
					break;
				} else if (strlen(l) == length_nl(l)) {
					l = NULL;
					break;
				} else {
					free(sbuf_take(&b));
					return csv_error(err, rec_line, r.line, col - 1, ERR_QUOTE);
				}
			} else if (*l) {
				sbuf_puts(&b, l);
				col += (int)strlen(l);
				free(owned);
				owned = NULL;
				if (csv_read_line(&r, &owned) && *owned) {
					pos_line++;
					col = 1;
				}
				l = owned;
			} else {
				free(sbuf_take(&b));
				return csv_error(err, rec_line, pos_line, col, ERR_QUOTE);
			}
		}
		_cleanup_free_ char *field = sbuf_take(&b);
		fields = strv_append(fields, field ? field : "");
		if (!l)
			break;
	}
	*ret = TAKE_PTR(fields);
	return 0;
}

/* ---- the mount ------------------------------------------------------------------------- */

struct mount_spec {
	char *type, *source, *target, *consistency;
	bool read_only;
	/* which of docker's option structs exist (sent even when empty) */
	bool bind, volume, image, tmpfs;
	char *propagation;
	bool non_recursive, ro_non_recursive, ro_force_recursive;
	bool no_copy;
	json_object *labels, *driver_opts; /* driver_opts NULL until a volume-opt */
	char *subpath, *driver, *image_subpath;
	int64_t size_bytes;
	uint64_t mode;
};

static void mount_spec_release(struct mount_spec *m)
{
	free(m->type);
	free(m->source);
	free(m->target);
	free(m->consistency);
	free(m->propagation);
	json_object_put(m->labels);
	json_object_put(m->driver_opts);
	free(m->subpath);
	free(m->driver);
	free(m->image_subpath);
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

static char *ascii_lower(const char *s)
{
	char *l = xstrdup(s);
	for (char *c = l; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return l;
}

/* strconv.ParseBool */
static int go_parse_bool(const char *v, bool *ret)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (streq(v, yes[i]))
			return *ret = true, 0;
		if (streq(v, no[i]))
			return *ret = false, 0;
	}
	return -EINVAL;
}

/* strconv.ParseUint(v, 8, 32) */
static int parse_octal32(const char *v, uint64_t *ret)
{
	uint64_t n = 0;
	if (!*v)
		return -EINVAL;
	for (; *v; v++) {
		if (*v < '0' || *v > '7')
			return -EINVAL;
		n = n * 8 + (uint64_t)(*v - '0');
		if (n > UINT32_MAX)
			return -ERANGE;
	}
	*ret = n;
	return 0;
}

/* path.Clean */
static char *path_clean(const char *p)
{
	bool rooted = *p == '/';
	_cleanup_strv_free_ char **parts = NULL;
	struct sbuf b = {0};
	size_t n = 0;

	for (const char *s = p; *s;) {
		size_t len = strcspn(s, "/");
		_cleanup_free_ char *c = xstrndup(s, len);
		s += len;
		if (*s == '/')
			s++;
		if (!*c || streq(c, "."))
			continue;
		if (streq(c, "..")) {
			if (n > 0 && !streq(parts[n - 1], "..")) {
				free(parts[--n]);
				parts[n] = NULL;
			} else if (!rooted) {
				parts = strv_append(parts, c);
				n++;
			}
			continue;
		}
		parts = strv_append(parts, c);
		n++;
	}
	if (rooted)
		sbuf_puts(&b, "/");
	for (size_t i = 0; i < n; i++) {
		if (i)
			sbuf_puts(&b, "/");
		sbuf_puts(&b, parts[i]);
	}
	char *r = sbuf_take(&b);
	if (!r || !*r) {
		free(r);
		return xstrdup(rooted ? "/" : ".");
	}
	return r;
}

/* os.Getwd: $PWD when it names ".", as Go prefers it. */
static char *go_getwd(void)
{
	const char *pwd = getenv("PWD");
	struct stat dot, st;

	if (pwd && *pwd == '/' && stat(".", &dot) == 0 && stat(pwd, &st) == 0 &&
	    dot.st_dev == st.st_dev && dot.st_ino == st.st_ino)
		return xstrdup(pwd);
	return getcwd(NULL, 0);
}

/* filepath.Abs; the path itself when the working directory is unknown. */
static char *go_abs(const char *p)
{
	if (*p == '/')
		return path_clean(p);
	_cleanup_free_ char *wd = go_getwd();
	if (!wd)
		return xstrdup(p);
	_cleanup_free_ char *j = xasprintf("%s/%s", wd, p);
	return path_clean(j);
}

/* A map member as Go's setValueOnMap: "k=v", "k" (empty value); an empty key is dropped. */
static void map_set(json_object *map, const char *kv)
{
	const char *eq = strchr(kv, '=');
	_cleanup_free_ char *k = eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
	if (*k)
		json_add_str(map, k, eq ? eq + 1 : "");
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A copy with the keys sorted, as encoding/json writes a map; NULL when empty (omitempty). */
static json_object *sorted_map(json_object *map)
{
	_cleanup_strv_free_ char **keys = NULL;
	size_t n = 0;

	if (!map || json_object_object_length(map) == 0)
		return NULL;
	json_object_object_foreach(map, k, v)
	{
		(void)v;
		keys = strv_append(keys, k);
		n++;
	}
	qsort(keys, n, sizeof(*keys), cmp_keys);
	json_object *o = json_object_new_object();
	for (size_t i = 0; i < n; i++)
		json_object_object_add(o, keys[i], json_object_get(jget(map, keys[i])));
	return o;
}

/* What the docker CLI's logrus.Warn prints on stderr, a terminal or not:
 * `time="<RFC 3339, local>" level=warning msg="msg"`. */
static void logrus_warn(const char *msg)
{
	time_t now = time(NULL);
	struct tm tm;
	char when[32], zone[8];
	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	_cleanup_free_ char *q = format_quote(msg);
	if (streq(zone, "+0000"))
		fprintf(stderr, "time=\"%sZ\" level=warning msg=%s\n", when, q);
	else
		fprintf(stderr, "time=\"%s%.3s:%.2s\" level=warning msg=%s\n", when, zone, zone + 3,
			q);
}

static int invalid_value(struct error **err, const char *key, const char *val)
{
	return error_setx(err, -EINVAL, "invalid value for %s: %s", key, val);
}

static int mount_field(struct mount_spec *m, const char *field, struct error **err)
{
	const char *eq = strchr(field, '=');
	_cleanup_free_ char *raw = eq ? xstrndup(field, (size_t)(eq - field)) : xstrdup(field);
	_cleanup_free_ char *key = ascii_lower(raw);
	const char *val = eq ? eq + 1 : NULL;
	bool b;

	if (!val) {
		if (streq(key, "readonly") || streq(key, "ro"))
			m->read_only = true;
		else if (streq(key, "volume-nocopy"))
			m->volume = m->no_copy = true;
		else if (streq(key, "bind-nonrecursive"))
			m->bind = m->non_recursive = true;
		else
			return error_setx(err, -EINVAL,
					  "invalid field '%s' must be a key=value pair", field);
		return 0;
	}

	if (streq(key, "type")) {
		free(m->type);
		m->type = ascii_lower(val);
	} else if (streq(key, "source") || streq(key, "src")) {
		free(m->source);
		m->source = *val == '.' ? go_abs(val) : xstrdup(val);
	} else if (streq(key, "target") || streq(key, "dst") || streq(key, "destination"))
		set_str(&m->target, val);
	else if (streq(key, "readonly") || streq(key, "ro")) {
		if (go_parse_bool(val, &m->read_only) < 0)
			return invalid_value(err, key, val);
	} else if (streq(key, "consistency")) {
		free(m->consistency);
		m->consistency = ascii_lower(val);
	} else if (streq(key, "bind-propagation")) {
		m->bind = true;
		free(m->propagation);
		m->propagation = ascii_lower(val);
	} else if (streq(key, "bind-nonrecursive")) {
		m->bind = true;
		if (go_parse_bool(val, &m->non_recursive) < 0)
			return invalid_value(err, key, val);
		logrus_warn("bind-nonrecursive is deprecated, use bind-recursive=disabled instead");
	} else if (streq(key, "bind-recursive")) {
		if (streq(val, "enabled"))
			; /* the default */
		else if (streq(val, "disabled"))
			m->bind = m->non_recursive = true;
		else if (streq(val, "writable"))
			m->bind = m->ro_non_recursive = true;
		else if (streq(val, "readonly"))
			m->bind = m->ro_force_recursive = true;
		else
			return error_setx(err, -EINVAL,
					  "invalid value for %s: %s (must be \"enabled\", "
					  "\"disabled\", \"writable\", or \"readonly\")",
					  key, val);
	} else if (streq(key, "volume-subpath")) {
		m->volume = true;
		set_str(&m->subpath, val);
	} else if (streq(key, "volume-nocopy")) {
		m->volume = true;
		if (go_parse_bool(val, &b) < 0)
			return error_setx(err, -EINVAL, "invalid value for volume-nocopy: %s", val);
		m->no_copy = b;
	} else if (streq(key, "volume-label")) {
		m->volume = true;
		map_set(m->labels, val);
	} else if (streq(key, "volume-driver")) {
		m->volume = true;
		set_str(&m->driver, val);
	} else if (streq(key, "volume-opt")) {
		m->volume = true;
		if (!m->driver_opts)
			m->driver_opts = json_object_new_object();
		map_set(m->driver_opts, val);
	} else if (streq(key, "image-subpath")) {
		m->image = true;
		set_str(&m->image_subpath, val);
	} else if (streq(key, "tmpfs-size")) {
		if (parse_size(val, true, &m->size_bytes) < 0)
			return invalid_value(err, key, val);
		m->tmpfs = true;
	} else if (streq(key, "tmpfs-mode")) {
		if (parse_octal32(val, &m->mode) < 0)
			return invalid_value(err, key, val);
		m->tmpfs = true;
	} else
		return error_setx(err, -EINVAL, "unexpected key '%s' in '%s'", key, field);
	return 0;
}

static json_object *mount_json(const struct mount_spec *m)
{
	json_object *o = json_object_new_object();

	json_add_str(o, "Type", m->type);
	if (!isempty(m->source))
		json_add_str(o, "Source", m->source);
	json_add_str(o, "Target", m->target);
	if (m->read_only)
		json_add_bool(o, "ReadOnly", true);
	if (!isempty(m->consistency))
		json_add_str(o, "Consistency", m->consistency);
	if (m->bind) {
		json_object *b = json_object_new_object();
		if (!isempty(m->propagation))
			json_add_str(b, "Propagation", m->propagation);
		if (m->non_recursive)
			json_add_bool(b, "NonRecursive", true);
		if (m->ro_non_recursive)
			json_add_bool(b, "ReadOnlyNonRecursive", true);
		if (m->ro_force_recursive)
			json_add_bool(b, "ReadOnlyForceRecursive", true);
		json_object_object_add(o, "BindOptions", b);
	}
	if (m->volume) {
		json_object *v = json_object_new_object(), *d = json_object_new_object(), *x;
		if (m->no_copy)
			json_add_bool(v, "NoCopy", true);
		if ((x = sorted_map(m->labels)))
			json_object_object_add(v, "Labels", x);
		if (!isempty(m->subpath))
			json_add_str(v, "Subpath", m->subpath);
		if (!isempty(m->driver))
			json_add_str(d, "Name", m->driver);
		if ((x = sorted_map(m->driver_opts)))
			json_object_object_add(d, "Options", x);
		json_object_object_add(v, "DriverConfig", d);
		json_object_object_add(o, "VolumeOptions", v);
	}
	if (m->image) {
		json_object *i = json_object_new_object();
		if (!isempty(m->image_subpath))
			json_add_str(i, "Subpath", m->image_subpath);
		json_object_object_add(o, "ImageOptions", i);
	}
	if (m->tmpfs) {
		json_object *t = json_object_new_object();
		if (m->size_bytes)
			json_add_int(t, "SizeBytes", m->size_bytes);
		if (m->mode)
			json_add_int(t, "Mode", (int64_t)m->mode);
		json_object_object_add(o, "TmpfsOptions", t);
	}
	return o;
}

/* One --mount value: its HostConfig.Mounts entry, or docker's reason in err. */
static int mount_parse(const char *v, json_object **ret, struct error **err)
{
	_cleanup_strv_free_ char **fields = NULL;
	struct mount_spec m = {.type = xstrdup("volume"), .labels = json_object_new_object()};
	int r;

	r = csv_read_record(v, &fields, err);
	for (char **f = fields; r >= 0 && *f; f++)
		r = mount_field(&m, *f, err);
	if (r < 0)
		goto out;

	r = -EINVAL;
	if (isempty(m.type))
		error_setx(err, r, "type is required");
	else if (isempty(m.target))
		error_setx(err, r, "target is required");
	else if (m.volume && !streq(m.type, "volume"))
		error_setx(err, r, "cannot mix 'volume-*' options with mount type '%s'", m.type);
	else if (m.image && !streq(m.type, "image"))
		error_setx(err, r, "cannot mix 'image-*' options with mount type '%s'", m.type);
	else if (m.bind && !streq(m.type, "bind"))
		error_setx(err, r, "cannot mix 'bind-*' options with mount type '%s'", m.type);
	else if (m.tmpfs && !streq(m.type, "tmpfs"))
		error_setx(err, r, "cannot mix 'tmpfs-*' options with mount type '%s'", m.type);
	else if (m.ro_non_recursive && !m.read_only)
		error_setx(
		    err, r,
		    "option 'bind-recursive=writable' requires 'readonly' to be specified in "
		    "conjunction");
	else if (m.ro_force_recursive && !m.read_only)
		error_setx(
		    err, r,
		    "option 'bind-recursive=readonly' requires 'readonly' to be specified in "
		    "conjunction");
	else if (m.ro_force_recursive && !streq_ptr(m.propagation, "rprivate"))
		error_setx(err, r,
			   "option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' "
			   "to be specified in conjunction");
	else {
		r = 0;
		*ret = mount_json(&m);
	}
out:
	mount_spec_release(&m);
	return r;
}

int cli_check_mount(const char *v, char **ret, struct error **err)
{
	_cleanup_json_ json_object *m = NULL;
	int r = mount_parse(v, &m, err);
	if (r < 0)
		return r;
	*ret = xstrdup(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	return 0;
}
