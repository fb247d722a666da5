/* SPDX-License-Identifier: Apache-2.0 */
/* Containers as objects: create, inspect, list, rename, remove, prune. */
#include <limits.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <regex.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "internal.h"

/* ---- time ------------------------------------------------------------------ */

int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

char *format_time_ns(int64_t ns)
{
	struct timespec ts;
	if (ns <= 0)
		return xstrdup("0001-01-01T00:00:00Z");
	ts.tv_sec = ns / 1000000000LL;
	ts.tv_nsec = ns % 1000000000LL;
	return format_rfc3339(&ts);
}

char *human_duration(int64_t ns)
{
	int64_t s = ns / 1000000000LL, m = s / 60;
	int64_t h = (int64_t)((double)ns / 3.6e12 + 0.5);
	if (s < 1)
		return xstrdup("Less than a second");
	if (s == 1)
		return xstrdup("1 second");
	if (s < 60)
		return xasprintf("%" PRId64 " seconds", s);
	if (m == 1)
		return xstrdup("About a minute");
	if (m < 60)
		return xasprintf("%" PRId64 " minutes", m);
	if (h == 1)
		return xstrdup("About an hour");
	if (h < 48)
		return xasprintf("%" PRId64 " hours", h);
	if (h < 24 * 7 * 2)
		return xasprintf("%" PRId64 " days", h / 24);
	if (h < 24 * 30 * 2)
		return xasprintf("%" PRId64 " weeks", h / 24 / 7);
	if (h < 24 * 365 * 2)
		return xasprintf("%" PRId64 " months", h / 24 / 30);
	return xasprintf("%" PRId64 " years", (int64_t)((double)ns / 3.6e12) / 24 / 365);
}

/* ---- objects ---------------------------------------------------------------- */

const char *cstatus_name(enum cstatus s)
{
	static const char *const n[] = {"created", "running",  "paused", "restarting",
					"exited",  "removing", "dead"};
	return n[s];
}

void container_free(struct container *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->name);
	free(c->image);
	free(c->image_id);
	if (c->config)
		json_object_put(c->config);
	if (c->host_config)
		json_object_put(c->host_config);
	strv_free(c->link_env);
	free(c->link_hosts);
	free(c->path);
	strv_free(c->args);
	free(c->error);
	if (c->watch_fd >= 0)
		close(c->watch_fd);
	if (c->net)
		json_object_put(c->net);
	for (size_t i = 0; i < c->n_port_fds; i++)
		close(c->port_fds[i]);
	free(c->port_fds);
	health_free(c->health);
	while (c->execs) {
		struct exec_proc *x = c->execs;
		c->execs = x->next;
		exec_proc_free(x);
	}
	free(c);
}

char *container_dir(struct engine *e, const char *id)
{
	return xasprintf("%s/containers/%s", e->cfg->data_root, id);
}

char *container_rundir(struct engine *e, const char *id)
{
	/* Short: sockets live here and sun_path holds 108 bytes. */
	return xasprintf("%s/c/%.16s", e->cfg->exec_root, id);
}

char *container_log_path(struct engine *e, const char *id)
{
	return xasprintf("%s/containers/%s/%s-json.log", e->cfg->data_root, id, id);
}

struct container *container_find(struct engine *e, const char *ref)
{
	struct container *found = NULL;
	size_t n;

	if (isempty(ref))
		return NULL;
	/* exact id, then exact name, then unique id prefix (as Docker resolves) */
	for (struct container *c = e->containers; c; c = c->next)
		if (streq(c->id, ref))
			return c;
	for (struct container *c = e->containers; c; c = c->next)
		if (streq(c->name + 1, ref[0] == '/' ? ref + 1 : ref))
			return c;
	n = strlen(ref);
	for (struct container *c = e->containers; c; c = c->next)
		if (strncmp(c->id, ref, n) == 0) {
			if (found)
				return NULL; /* ambiguous */
			found = c;
		}
	return found;
}

static int not_found(struct error **err, const char *ref)
{
	return error_setx(err, -ENOENT, "No such container: %s", ref);
}

int engine_container_resolve(struct engine *e, const char *ref, char **ret_id, struct error **err)
{
	struct container *c;
	int r = 0;
	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (c)
		*ret_id = xstrdup(c->id);
	else
		r = not_found(err, ref);
	pthread_mutex_unlock(&e->lock);
	return r;
}

int engine_container_tty(struct engine *e, const char *ref, bool *ret_tty, char **ret_id,
			 struct error **err)
{
	struct container *c;
	int r = 0;
	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (c) {
		*ret_tty = c->tty;
		if (ret_id)
			*ret_id = xstrdup(c->id);
	} else {
		r = not_found(err, ref);
	}
	pthread_mutex_unlock(&e->lock);
	return r;
}

/* ---- create ------------------------------------------------------------------ */

static const char *const adjectives[] = {
    "admiring", "agitated", "amazing",	"awesome",    "blissful",   "bold",	 "brave",
    "charming", "clever",   "cool",	"dazzling",   "determined", "eager",	 "ecstatic",
    "elegant",	"epic",	    "focused",	"friendly",   "gallant",    "gifted",	 "happy",
    "hopeful",	"jolly",    "keen",	"kind",	      "laughing",   "loving",	 "lucid",
    "modest",	"nice",	    "nifty",	"optimistic", "peaceful",   "practical", "quirky",
    "relaxed",	"serene",   "sharp",	"stoic",      "sweet",	    "tender",	 "trusting",
    "upbeat",	"vibrant",  "wizardly", "youthful",   "zealous",    "zen",
};
static const char *const surnames[] = {
    "albattani", "babbage",    "banach",  "bardeen",  "bell",	  "bohr",     "brahmagupta",
    "cannon",	 "curie",      "darwin",  "dijkstra", "einstein", "euclid",   "euler",
    "fermat",	 "feynman",    "gauss",	  "goldberg", "hamilton", "hopper",   "hypatia",
    "johnson",	 "kepler",     "knuth",	  "lamarr",   "leakey",	  "lovelace", "mccarthy",
    "meitner",	 "mirzakhani", "morse",	  "newton",   "noether",  "pascal",   "payne",
    "perlman",	 "ritchie",    "shannon", "sinoussi", "tesla",	  "thompson", "torvalds",
    "turing",	 "wozniak",    "wright",  "yalow",    "yonath",
};

static char *random_name(struct engine *e)
{
	for (int tries = 0; tries < 64; tries++) {
		uint32_t r[2];
		if (getrandom(r, sizeof(r), 0) != sizeof(r))
			r[0] = r[1] = (uint32_t)now_ns();
		char *n = xasprintf("%s_%s", adjectives[r[0] % ELEMENTSOF(adjectives)],
				    surnames[r[1] % ELEMENTSOF(surnames)]);
		_cleanup_free_ char *slash = xasprintf("/%s", n);
		if (!container_find(e, slash))
			return n;
		free(n);
	}
	return xasprintf("berth_%" PRId64, now_ns());
}

char *random_id(void)
{
	uint8_t b[32];
	char *s = xmalloc(65);
	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (uint8_t)(now_ns() >> (i % 8));
	for (size_t i = 0; i < 32; i++)
		sprintf(s + 2 * i, "%02x", b[i]);
	/* An all-digit prefix would read as a number in some tools: Docker avoids it too. */
	return s;
}

bool valid_name(const char *n)
{
	if (!n[0] || !((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= 'A' && n[0] <= 'Z') ||
		       (n[0] >= '0' && n[0] <= '9')))
		return false;
	for (const char *p = n + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
			return false;
	return strlen(n) >= 2 || true;
}

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

static bool strarray_nonempty(json_object *a)
{
	return a && json_object_is_type(a, json_type_array) && json_object_array_length(a) > 0;
}

/* Env merge: later entries override earlier ones with the same key. */
static json_object *merge_env(json_object *base, json_object *over)
{
	json_object *out = json_object_new_array();
	json_object *srcs[2] = {base, over};
	for (int s = 0; s < 2; s++) {
		if (!srcs[s] || !json_object_is_type(srcs[s], json_type_array))
			continue;
		for (size_t i = 0; i < json_object_array_length(srcs[s]); i++) {
			const char *kv =
			    json_object_get_string(json_object_array_get_idx(srcs[s], i));
			const char *eq = kv ? strchr(kv, '=') : NULL;
			size_t klen = eq ? (size_t)(eq - kv) : (kv ? strlen(kv) : 0);
			bool replaced = false;
			if (!kv)
				continue;
			for (size_t j = 0; j < json_object_array_length(out); j++) {
				const char *o =
				    json_object_get_string(json_object_array_get_idx(out, j));
				if (strncmp(o, kv, klen) == 0 && (o[klen] == '=' || o[klen] == 0)) {
					json_object_array_put_idx(out, j,
								  json_object_new_string(kv));
					replaced = true;
					break;
				}
			}
			if (!replaced)
				json_object_array_add(out, json_object_new_string(kv));
		}
	}
	return out;
}

static json_object *merge_obj(json_object *base, json_object *over)
{
	json_object *out = json_object_new_object();
	if (base && json_object_is_type(base, json_type_object)) {
		json_object_object_foreach(base, k, v)
		{
			json_object_object_add(out, k, json_object_get(v));
		}
	}
	if (over && json_object_is_type(over, json_type_object)) {
		json_object_object_foreach(over, k2, v2)
		{
			json_object_object_add(out, k2, json_object_get(v2));
		}
	}
	return out;
}

static int bad(struct error **err, const char *fmt, ...) _printf_(2, 3);
static int bad(struct error **err, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return error_setx(err, -EINVAL, "%s", buf);
}

const char *json_type_go(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_boolean:
		return "bool";
	case json_type_double:
	case json_type_int:
		return "number";
	case json_type_object:
		return "object";
	case json_type_array:
		return "array";
	case json_type_string:
		return "string";
	default:
		return "null";
	}
}

enum ftype {
	F_BOOL,
	F_INT,
	F_STR,
	F_STRV,	    /* []string */
	F_STRSLICE, /* strslice.StrSlice: a string or []string */
	F_OBJ,
	F_STRMAP, /* map[string]string */
	F_OBJV,	  /* []object */
	F_INTV,	  /* []int */
};

struct field {
	const char *name;
	enum ftype type;
};

static const struct field config_fields[] = {
    {"Hostname", F_STR},
    {"Domainname", F_STR},
    {"User", F_STR},
    {"AttachStdin", F_BOOL},
    {"AttachStdout", F_BOOL},
    {"AttachStderr", F_BOOL},
    {"Tty", F_BOOL},
    {"OpenStdin", F_BOOL},
    {"StdinOnce", F_BOOL},
    {"Env", F_STRV},
    {"Cmd", F_STRSLICE},
    {"Image", F_STR},
    {"Volumes", F_OBJ},
    {"WorkingDir", F_STR},
    {"Entrypoint", F_STRSLICE},
    {"OnBuild", F_STRV},
    {"Labels", F_STRMAP},
    {"ExposedPorts", F_OBJ},
    {"StopSignal", F_STR},
    {"StopTimeout", F_INT},
    {"Shell", F_STRSLICE},
    {"NetworkDisabled", F_BOOL},
    {"MacAddress", F_STR},
    {"ArgsEscaped", F_BOOL},
    {"Healthcheck", F_OBJ},
};

static const struct field host_config_fields[] = {
    {"Binds", F_STRV},
    {"ContainerIDFile", F_STR},
    {"LogConfig", F_OBJ},
    {"NetworkMode", F_STR},
    {"PortBindings", F_OBJ},
    {"RestartPolicy", F_OBJ},
    {"AutoRemove", F_BOOL},
    {"VolumeDriver", F_STR},
    {"VolumesFrom", F_STRV},
    {"ConsoleSize", F_INTV},
    {"Annotations", F_STRMAP},
    {"CapAdd", F_STRSLICE},
    {"CapDrop", F_STRSLICE},
    {"CgroupnsMode", F_STR},
    {"Dns", F_STRV},
    {"DnsOptions", F_STRV},
    {"DnsSearch", F_STRV},
    {"ExtraHosts", F_STRV},
    {"GroupAdd", F_STRV},
    {"IpcMode", F_STR},
    {"Cgroup", F_STR},
    {"Links", F_STRV},
    {"OomScoreAdj", F_INT},
    {"PidMode", F_STR},
    {"Privileged", F_BOOL},
    {"PublishAllPorts", F_BOOL},
    {"ReadonlyRootfs", F_BOOL},
    {"SecurityOpt", F_STRV},
    {"StorageOpt", F_STRMAP},
    {"Tmpfs", F_STRMAP},
    {"UTSMode", F_STR},
    {"UsernsMode", F_STR},
    {"ShmSize", F_INT},
    {"Sysctls", F_STRMAP},
    {"Runtime", F_STR},
    {"Isolation", F_STR},
    {"CpuShares", F_INT},
    {"Memory", F_INT},
    {"NanoCpus", F_INT},
    {"CgroupParent", F_STR},
    {"BlkioWeight", F_INT},
    {"BlkioWeightDevice", F_OBJV},
    {"BlkioDeviceReadBps", F_OBJV},
    {"BlkioDeviceWriteBps", F_OBJV},
    {"BlkioDeviceReadIOps", F_OBJV},
    {"BlkioDeviceWriteIOps", F_OBJV},
    {"CpuPeriod", F_INT},
    {"CpuQuota", F_INT},
    {"CpuRealtimePeriod", F_INT},
    {"CpuRealtimeRuntime", F_INT},
    {"CpusetCpus", F_STR},
    {"CpusetMems", F_STR},
    {"Devices", F_OBJV},
    {"DeviceCgroupRules", F_STRV},
    {"DeviceRequests", F_OBJV},
    {"MemoryReservation", F_INT},
    {"MemorySwap", F_INT},
    {"MemorySwappiness", F_INT},
    {"OomKillDisable", F_BOOL},
    {"PidsLimit", F_INT},
    {"Ulimits", F_OBJV},
    {"CpuCount", F_INT},
    {"CpuPercent", F_INT},
    {"IOMaximumIOps", F_INT},
    {"IOMaximumBandwidth", F_INT},
    {"Mounts", F_OBJV},
    {"MaskedPaths", F_STRV},
    {"ReadonlyPaths", F_STRV},
    {"Init", F_BOOL},
};

static int type_error(struct error **err, const char *where, const char *field, json_object *v,
		      const char *want)
{
	return error_setx(err, -EINVAL,
			  "json: cannot unmarshal %s into Go struct field %s.%s of type %s",
			  json_type_go(v), where, field, want);
}

static bool all_of(json_object *a, json_type t)
{
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (!json_object_is_type(json_object_array_get_idx(a, i), t))
			return false;
	return true;
}

/* The types json.Unmarshal would insist on (null is always fine): the rest of the daemon
 * (spec, lifecycle) reads these fields without checking. */
static int check_types(json_object *o, const struct field *fields, size_t n, const char *where,
		       struct error **err)
{
	for (size_t i = 0; i < n; i++) {
		json_object *v = get(o, fields[i].name);
		bool ok;
		if (!v)
			continue;
		switch (fields[i].type) {
		case F_BOOL:
			ok = json_object_is_type(v, json_type_boolean);
			break;
		case F_INT:
			ok = json_object_is_type(v, json_type_int);
			break;
		case F_STR:
			ok = json_object_is_type(v, json_type_string);
			break;
		case F_STRSLICE:
			ok = json_object_is_type(v, json_type_string) ||
			     (json_object_is_type(v, json_type_array) &&
			      all_of(v, json_type_string));
			break;
		case F_STRV:
			ok = json_object_is_type(v, json_type_array) && all_of(v, json_type_string);
			break;
		case F_INTV:
			ok = json_object_is_type(v, json_type_array) && all_of(v, json_type_int);
			break;
		case F_OBJV:
			ok = json_object_is_type(v, json_type_array) && all_of(v, json_type_object);
			break;
		case F_STRMAP:
			ok = json_object_is_type(v, json_type_object);
			if (ok) {
				json_object_object_foreach(v, k, x)
				{
					(void)k;
					ok &= json_object_is_type(x, json_type_string);
				}
			}
			break;
		case F_OBJ:
		default:
			ok = json_object_is_type(v, json_type_object);
			break;
		}
		if (!ok) {
			static const char *const go[] = {[F_BOOL] = "bool",
							 [F_INT] = "int64",
							 [F_STR] = "string",
							 [F_STRV] = "[]string",
							 [F_STRSLICE] = "strslice.StrSlice",
							 [F_OBJ] = "struct",
							 [F_STRMAP] = "map[string]string",
							 [F_OBJV] = "[]struct",
							 [F_INTV] = "[]uint"};
			return type_error(err, where, fields[i].name, v, go[fields[i].type]);
		}
	}
	return 0;
}

/* Validate HostConfig as dockerd does (moby verifyPlatformContainerResources,
 * verifyPlatformContainerSettings, validateHostConfig); fill defaults. Types are checked. */
/* "0-2,5": numbers below 1024; bits set in *ret. -EINVAL when malformed. */
static int cpuset_parse(const char *s, uint64_t ret[16])
{
	memset(ret, 0, 16 * sizeof(uint64_t));
	while (*s) {
		char *end;
		unsigned long lo = strtoul(s, &end, 10), hi;
		if (end == s || lo >= 1024)
			return -EINVAL;
		hi = lo;
		s = end;
		if (*s == '-') {
			hi = strtoul(s + 1, &end, 10);
			if (end == s + 1 || hi >= 1024 || hi < lo)
				return -EINVAL;
			s = end;
		}
		for (unsigned long i = lo; i <= hi; i++)
			ret[i / 64] |= 1ULL << (i % 64);
		if (*s == ',' && s[1])
			s++;
		else if (*s)
			return -EINVAL;
	}
	return 0;
}

/* want, a cpuset list, within the list in the file; -EINVAL (malformed), -ERANGE (not
 * available); 0 when the file cannot be read (the runtime will tell). */
static int cpuset_check(const char *want, const char *file)
{
	_cleanup_free_ char *have_s = NULL;
	uint64_t w[16], h[16];
	if (cpuset_parse(want, w) < 0)
		return -EINVAL;
	if (read_file_at(AT_FDCWD, file, 4096, &have_s, NULL) < 0)
		return 0;
	have_s[strcspn(have_s, "\n")] = 0;
	if (cpuset_parse(have_s, h) < 0)
		return 0;
	for (size_t i = 0; i < 16; i++)
		if (w[i] & ~h[i])
			return -ERANGE;
	return 0;
}

static int check_host_config(json_object *hc, struct error **err)
{
	const char *nm = get_s(hc, "NetworkMode");
	json_object *rp = get(hc, "RestartPolicy");
	const char *rpn = rp ? get_s(rp, "Name") : NULL;
	int64_t mem = get_i(hc, "Memory", 0), swap = get_i(hc, "MemorySwap", 0);
	int64_t res = get_i(hc, "MemoryReservation", 0), nano = get_i(hc, "NanoCpus", 0);
	int64_t period = get_i(hc, "CpuPeriod", 0), quota = get_i(hc, "CpuQuota", 0);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int r;

	if (ncpu < 1)
		ncpu = 1;
	if (mem != 0 && mem < 6 * 1024 * 1024)
		return bad(err, "Minimum memory limit allowed is 6MB");
	if (mem > 0 && swap > 0 && swap < mem)
		return bad(err, "Minimum memoryswap limit should be larger than memory limit, see "
				"usage");
	if (mem == 0 && swap > 0)
		return bad(err,
			   "You should always set the Memory limit when using Memoryswap limit, "
			   "see usage");
	if (swap < -1)
		return bad(err, "invalid memory swap limit");
	if (get(hc, "MemorySwappiness") && get_i(hc, "MemorySwappiness", -1) != -1 &&
	    (get_i(hc, "MemorySwappiness", -1) < 0 || get_i(hc, "MemorySwappiness", -1) > 100))
		return bad(err,
			   "Invalid value: %" PRId64 ", valid memory swappiness range is 0-100",
			   get_i(hc, "MemorySwappiness", -1));
	if (res > 0 && res < 6 * 1024 * 1024)
		return bad(err, "Minimum memory reservation allowed is 6MB");
	if (mem > 0 && res > 0 && mem < res)
		return bad(err, "Minimum memory limit can not be less than memory reservation "
				"limit, see usage");
	if (nano > 0 && period > 0)
		return bad(err, "Conflicting options: Nano CPUs and CPU Period cannot both be set");
	if (nano > 0 && quota > 0)
		return bad(err, "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
	if (nano < 0 || nano > (int64_t)ncpu * 1000000000LL)
		return bad(err,
			   "Range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs "
			   "available",
			   ncpu, ncpu);
	if (!isempty(get_s(hc, "CpusetCpus"))) {
		const char *want = get_s(hc, "CpusetCpus");
		int k = cpuset_check(want, "/sys/devices/system/cpu/online");
		if (k == -EINVAL)
			return bad(err, "Invalid value %s for cpuset cpus", want);
		if (k < 0) {
			_cleanup_free_ char *online = NULL;
			if (read_file_at(AT_FDCWD, "/sys/devices/system/cpu/online", 4096, &online,
					 NULL) >= 0)
				online[strcspn(online, "\n")] = 0;
			return bad(err,
				   "Requested CPUs are not available - requested %s, available: %s",
				   want, online ? online : "");
		}
	}
	if (period != 0 && (period < 1000 || period > 1000000))
		return bad(err, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger "
				"than 1s (i.e. 1000000)");
	if (quota > 0 && quota < 1000)
		return bad(err, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
	/* dockerd lets a negative value through to the runtime; refuse it here. */
	if (get_i(hc, "CpuShares", 0) < 0)
		return bad(err, "invalid CPU shares: must not be negative");
	if (get_i(hc, "ShmSize", 0) < 0)
		return bad(err, "SHM size can not be less than 0");
	if (get_i(hc, "OomScoreAdj", 0) < -1000 || get_i(hc, "OomScoreAdj", 0) > 1000)
		return bad(err,
			   "Invalid value %" PRId64 ", range for oom score adj is [-1000, 1000]",
			   get_i(hc, "OomScoreAdj", 0));
	/* Network names are checked by the engine (container_net_config). */
	if (nm && streq(nm, "container:"))
		return bad(err, "invalid container format container:<name|id>");
	if (rp && get(rp, "Name") && !rpn)
		return type_error(err, "RestartPolicy", "Name", get(rp, "Name"), "string");
	if (rp && get(rp, "MaximumRetryCount") &&
	    !json_object_is_type(get(rp, "MaximumRetryCount"), json_type_int))
		return type_error(err, "RestartPolicy", "MaximumRetryCount",
				  get(rp, "MaximumRetryCount"), "int");
	if (get_b(hc, "AutoRemove") && rpn && !streq(rpn, "") && !streq(rpn, "no"))
		return bad(err, "can't create 'AutoRemove' container with restart policy");
	if (rpn && (streq(rpn, "always") || streq(rpn, "unless-stopped") || streq(rpn, "no")) &&
	    get_i(rp, "MaximumRetryCount", 0) != 0)
		return bad(err,
			   "invalid restart policy: maximum retry count can only be used with "
			   "'on-failure'%s",
			   get_i(rp, "MaximumRetryCount", 0) < 0 ? " and cannot be negative" : "");
	if (rpn && streq(rpn, "on-failure") && get_i(rp, "MaximumRetryCount", 0) < 0)
		return bad(err, "invalid restart policy: maximum retry count cannot be negative");
	if (rpn && !streq(rpn, "") && !streq(rpn, "no") && !streq(rpn, "always") &&
	    !streq(rpn, "on-failure") && !streq(rpn, "unless-stopped"))
		return bad(err,
			   "invalid restart policy: unknown policy '%s'; use one of 'no', "
			   "'always', 'on-failure', or 'unless-stopped'",
			   rpn);
	r = mounts_check(hc, err);
	if (r < 0)
		return r;
	{
		json_object *u = get(hc, "Ulimits");
		for (size_t i = 0; u && i < json_object_array_length(u); i++) {
			json_object *x = json_object_array_get_idx(u, i);
			if (!get_s(x, "Name"))
				return bad(err, "invalid ulimit: a name is required");
			if (get(x, "Soft") && !json_object_is_type(get(x, "Soft"), json_type_int))
				return type_error(err, "Ulimit", "Soft", get(x, "Soft"), "int64");
			if (get(x, "Hard") && !json_object_is_type(get(x, "Hard"), json_type_int))
				return type_error(err, "Ulimit", "Hard", get(x, "Hard"), "int64");
			if (get_i(x, "Soft", 0) > get_i(x, "Hard", 0))
				return bad(err,
					   "ulimit soft limit must be less than or equal to hard "
					   "limit: %" PRId64 " > %" PRId64,
					   get_i(x, "Soft", 0), get_i(x, "Hard", 0));
		}
	}
	/* moby: 0 and any negative PidsLimit mean unlimited */
	if (get(hc, "PidsLimit") && get_i(hc, "PidsLimit", 0) <= 0)
		json_object_object_del(hc, "PidsLimit");
	return 0;
}

int container_config_check(json_object *body, json_object *image_config, json_object **ret_config,
			   json_object **ret_host_config, struct error **err)
{
	json_object *iconf, *hc_in, *cfg = NULL, *hc = NULL, *ep, *cmd;
	const char *image;
	int r;

	*ret_config = *ret_host_config = NULL;
	if (!body || !json_object_is_type(body, json_type_object))
		return bad(err, "config cannot be empty in order to create a container");
	r = check_types(body, config_fields, ELEMENTSOF(config_fields), "ContainerConfigWrapper",
			err);
	if (r < 0)
		return r;
	image = get_s(body, "Image");
	if (isempty(image))
		return bad(err, "config cannot be empty in order to create a container");
	hc_in = get(body, "HostConfig");
	if (hc_in && !json_object_is_type(hc_in, json_type_object))
		return type_error(err, "ContainerConfigWrapper", "HostConfig", hc_in, "struct");
	if (get(body, "NetworkingConfig") &&
	    !json_object_is_type(get(body, "NetworkingConfig"), json_type_object))
		return type_error(err, "ContainerConfigWrapper", "NetworkingConfig",
				  get(body, "NetworkingConfig"), "struct");
	if (hc_in) {
		r = check_types(hc_in, host_config_fields, ELEMENTSOF(host_config_fields),
				"HostConfig", err);
		if (r < 0)
			return r;
	}
	hc = NULL;
	if (hc_in && json_object_deep_copy(hc_in, &hc, NULL) < 0)
		return error_setx(err, -ENOMEM, "copy HostConfig");
	if (!hc)
		hc = json_object_new_object();
	/* strslice.StrSlice: a lone string is a list of one */
	for (const char *const *k = (const char *const[]){"CapAdd", "CapDrop", NULL}; *k; k++) {
		json_object *v = get(hc, *k);
		if (v && json_object_is_type(v, json_type_string)) {
			json_object *a = json_object_new_array();
			json_object_array_add(a, json_object_new_string(json_object_get_string(v)));
			json_object_object_add(hc, *k, a);
		}
	}
	r = check_host_config(hc, err);
	if (r < 0)
		goto fail;

	/* Config: the request's fields over the image's (Docker's merge rules). */
	iconf = image_config ? get(image_config, "config") : NULL;
	if (iconf && !json_object_is_type(iconf, json_type_object))
		iconf = NULL;
	if (json_object_deep_copy(body, &cfg, NULL) < 0) {
		r = error_setx(err, -ENOMEM, "copy Config");
		goto fail;
	}
	json_object_object_del(cfg, "HostConfig");
	json_object_object_del(cfg, "NetworkingConfig");
	ep = get(cfg, "Entrypoint");
	cmd = get(cfg, "Cmd");
	if (ep && json_object_is_type(ep, json_type_string)) {
		/* docker-py may send a string */
		json_object *a = json_object_new_array();
		json_object_array_add(a, json_object_new_string(json_object_get_string(ep)));
		json_object_object_add(cfg, "Entrypoint", a);
		ep = a;
	}
	if (cmd && json_object_is_type(cmd, json_type_string)) {
		json_object *a = json_object_new_array();
		json_object_array_add(a, json_object_new_string(json_object_get_string(cmd)));
		json_object_object_add(cfg, "Cmd", a);
		cmd = a;
	}
	if (!strarray_nonempty(ep)) {
		json_object *iep = get(iconf, "Entrypoint");
		if (!strarray_nonempty(iep) || !all_of(iep, json_type_string))
			iep = NULL;
		json_object_object_add(cfg, "Entrypoint", iep ? json_object_get(iep) : NULL);
		if (!strarray_nonempty(cmd)) {
			json_object *icmd = get(iconf, "Cmd");
			if (!strarray_nonempty(icmd) || !all_of(icmd, json_type_string))
				icmd = NULL;
			json_object_object_add(cfg, "Cmd", icmd ? json_object_get(icmd) : NULL);
		}
	}
	/* --entrypoint '' sends [""]: no entrypoint, not the image's (and not its Cmd either,
	 * as dockerd merges) */
	ep = get(cfg, "Entrypoint");
	if (ep && json_object_is_type(ep, json_type_array) && json_object_array_length(ep) == 1 &&
	    isempty(json_object_get_string(json_object_array_get_idx(ep, 0))))
		json_object_object_add(cfg, "Entrypoint", NULL);
	if (!strarray_nonempty(get(cfg, "Entrypoint")) && !strarray_nonempty(get(cfg, "Cmd"))) {
		r = bad(err, "no command specified");
		goto fail;
	}
	json_object_object_add(cfg, "Env", merge_env(get(iconf, "Env"), get(cfg, "Env")));
	json_object_object_add(cfg, "Labels", merge_obj(get(iconf, "Labels"), get(cfg, "Labels")));
	json_object_object_add(cfg, "ExposedPorts",
			       merge_obj(get(iconf, "ExposedPorts"), get(cfg, "ExposedPorts")));
	json_object_object_add(cfg, "Volumes",
			       merge_obj(get(iconf, "Volumes"), get(cfg, "Volumes")));
	if (isempty(get_s(cfg, "WorkingDir")))
		json_add_str(cfg, "WorkingDir",
			     get_s(iconf, "WorkingDir") ? get_s(iconf, "WorkingDir") : "");
	if (isempty(get_s(cfg, "User")))
		json_add_str(cfg, "User", get_s(iconf, "User") ? get_s(iconf, "User") : "");
	if (isempty(get_s(cfg, "StopSignal")) && get_s(iconf, "StopSignal"))
		json_add_str(cfg, "StopSignal", get_s(iconf, "StopSignal"));
	/* what dockerd refuses at create rather than at start */
	if (!isempty(get_s(cfg, "WorkingDir")) && get_s(cfg, "WorkingDir")[0] != '/') {
		r = bad(err,
			"the working directory '%s' is invalid, it needs to be an absolute path",
			get_s(cfg, "WorkingDir"));
		goto fail;
	}
	if (!isempty(get_s(cfg, "StopSignal")) && signal_parse(get_s(cfg, "StopSignal")) < 0) {
		r = bad(err, "Invalid signal: %s", get_s(cfg, "StopSignal"));
		goto fail;
	}
	{
		static const char *const json_file_opts[] = {
		    "max-size", "max-file",  "compress", "labels", "labels-regex",
		    "env",	"env-regex", "tag",	 "mode",   "max-buffer-size"};
		json_object *lc = get(hc, "LogConfig"), *opts = lc ? get(lc, "Config") : NULL;
		const char *type = lc ? get_s(lc, "Type") : NULL;
		/* the drivers berth has: json-file (its shim writes it) and none */
		if (!isempty(type) && !streq(type, "json-file") && !streq(type, "none")) {
			r = bad(err, "logger: no log driver named '%s' is registered", type);
			goto fail;
		}
		if (opts && json_object_is_type(opts, json_type_object) &&
		    (isempty(type) || streq(type, "json-file"))) {
			json_object_object_foreach(opts, k, v)
			{
				bool known = false;
				(void)v;
				for (size_t i = 0; i < ELEMENTSOF(json_file_opts) && !known; i++)
					known = streq(k, json_file_opts[i]);
				if (!known) {
					r = bad(err,
						"unknown log opt '%s' for json-file log driver", k);
					goto fail;
				}
			}
		}
	}
	{
		json_object *health = NULL;
		r = health_config_merge(get(cfg, "Healthcheck"), get(iconf, "Healthcheck"), &health,
					err);
		if (r < 0)
			goto fail;
		json_object_object_del(cfg, "Healthcheck");
		if (health)
			json_object_object_add(cfg, "Healthcheck", health);
	}
	if (!get(cfg, "Tty"))
		json_add_bool(cfg, "Tty", false);
	{
		const char *nm = get_s(hc, "NetworkMode");
		if (!nm || streq(nm, "") || streq(nm, "default"))
			json_add_str(hc, "NetworkMode", "bridge");
		if (!get(hc, "RestartPolicy")) {
			json_object *rp = json_object_new_object();
			json_add_str(rp, "Name", "no");
			json_add_int(rp, "MaximumRetryCount", 0);
			json_object_object_add(hc, "RestartPolicy", rp);
		}
	}
	*ret_config = cfg;
	*ret_host_config = hc;
	return 0;
fail:
	if (cfg)
		json_object_put(cfg);
	json_object_put(hc);
	return r;
}

int engine_container_create(struct engine *e, const char *name, json_object *body,
			    json_object **ret, struct error **err)
{
	_cleanup_(image_info_freep) struct image_info *img = NULL;
	_cleanup_free_ char *id = NULL, *gen_name = NULL;
	const char *image;
	json_object *cfg, *hc, *warnings;
	struct container *c;
	int r;

	if (!body || !json_object_is_type(body, json_type_object))
		return bad(err, "config cannot be empty in order to create a container");
	image = get_s(body, "Image");
	if (isempty(image))
		return bad(err, "config cannot be empty in order to create a container");
	if (name && name[0] == '/')
		name++;
	if (name && *name && !valid_name(name))
		return bad(err,
			   "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
			   "allowed",
			   name);
	r = image_lookup(e->images, image, &img, err);
	if (r < 0)
		return r;
	r = container_config_check(body, img->config, &cfg, &hc, err);
	if (r < 0)
		return r;
	json_add_str(cfg, "Image", image);

	id = random_id();
	/* dockerd: host networking shares the host's name; a container's own is its short id */
	if (isempty(get_s(cfg, "Hostname")) && streq_ptr(get_s(hc, "NetworkMode"), "host")) {
		char h[HOST_NAME_MAX + 1] = "";
		if (gethostname(h, sizeof(h)) == 0 && *h)
			json_add_str(cfg, "Hostname", h);
	}
	/* dockerd: a memory limit without a swap limit gets twice as much memory+swap, and the
	 * container's HostConfig says so (docker update checks against it) */
	if (get_i(hc, "Memory", 0) > 0 && get_i(hc, "MemorySwap", 0) == 0)
		json_add_int(hc, "MemorySwap", 2 * get_i(hc, "Memory", 0));
	if (isempty(get_s(cfg, "Hostname"))) {
		char h[13];
		snprintf(h, sizeof(h), "%.12s", id);
		json_add_str(cfg, "Hostname", h);
	}
	if (!get(hc, "LogConfig") || isempty(get_s(get(hc, "LogConfig"), "Type"))) {
		json_object *lc = json_object_new_object();
		json_add_str(lc, "Type", e->cfg->log_driver);
		json_object *opts = json_object_new_object();
		json_object *old = get(hc, "LogConfig");
		if (old && get(old, "Config"))
			json_object_put(opts), opts = json_object_get(get(old, "Config"));
		json_object_object_add(lc, "Config", opts);
		json_object_object_add(hc, "LogConfig", lc);
	}
	pthread_mutex_lock(&e->lock);
	if (name && *name) {
		_cleanup_free_ char *slash = xasprintf("/%s", name);
		struct container *other = NULL;
		for (struct container *x = e->containers; x; x = x->next)
			if (streq(x->name, slash))
				other = x;
		if (other) {
			r = error_setx(
			    err, -EEXIST,
			    "Conflict. The container name \"/%s\" is already in use by "
			    "container \"%s\". You have to remove (or rename) that container "
			    "to be able to reuse that name.",
			    name, other->id);
			pthread_mutex_unlock(&e->lock);
			json_object_put(cfg);
			json_object_put(hc);
			return r;
		}
	} else {
		gen_name = random_name(e);
		name = gen_name;
	}
	{
		_cleanup_free_ char *slash = xasprintf("/%s", name);
		r = links_check_locked(e, slash, hc, err);
		if (r < 0) {
			pthread_mutex_unlock(&e->lock);
			json_object_put(cfg);
			json_object_put(hc);
			return r;
		}
	}
	c = xnew0(struct container, 1);
	c->id = TAKE_PTR(id);
	c->name = xasprintf("/%s", name);
	c->created_ns = now_ns();
	c->image = xstrdup(image);
	c->image_id = xstrdup(img->id);
	c->config = cfg;
	c->host_config = hc;
	c->status = C_CREATED;
	c->watch_fd = -1;
	{
		json_object *tty = get(cfg, "Tty");
		c->tty = tty && json_object_get_boolean(tty);
	}
	{
		json_object *e_ = get(cfg, "Entrypoint"), *c_ = get(cfg, "Cmd");
		char **all = NULL;
		for (int k = 0; k < 2; k++) {
			json_object *a = k ? c_ : e_;
			for (size_t i = 0; a && i < json_object_array_length(a); i++)
				all = strv_append(
				    all, json_object_get_string(json_object_array_get_idx(a, i)));
		}
		c->path = xstrdup(all && all[0] ? all[0] : "");
		c->args = all ? strv_copy(all + 1) : strv_append(NULL, "");
		if (!all)
			c->args[0] = (free(c->args[0]), NULL);
		strv_free(all);
	}

	r = container_net_config(e, c->host_config, get(body, "NetworkingConfig"), &c->net, err);
	if (r < 0) {
		pthread_mutex_unlock(&e->lock);
		container_free(c);
		return r;
	}
	/* The container's directory (0710, CVE-2021-41091) and its overlay dirs. */
	{
		_cleanup_free_ char *dir = container_dir(e, c->id);
		_cleanup_free_ char *up = xasprintf("%s/upper", dir);
		_cleanup_free_ char *wk = xasprintf("%s/work", dir);
		_cleanup_free_ char *mg = xasprintf("%s/merged", dir);
		if (mkdir(dir, 0710) < 0 || mkdir(up, 0755) < 0 || mkdir(wk, 0700) < 0 ||
		    mkdir(mg, 0755) < 0) {
			r = error_set(err, -errno, "create container directory");
			rm_rf(dir);
			pthread_mutex_unlock(&e->lock);
			container_free(c);
			return r;
		}
	}
	r = store_save(e, c);
	if (r < 0) {
		_cleanup_free_ char *dir = container_dir(e, c->id);
		rm_rf(dir);
		pthread_mutex_unlock(&e->lock);
		container_free(c);
		return error_set(err, r, "save container");
	}
	c->next = e->containers;
	e->containers = c;
	{
		json_object *attrs = json_object_new_object();
		json_add_str(attrs, "image", image);
		json_add_str(attrs, "name", name);
		event_emit_locked(e, "container", "create", c->id, attrs);
	}
	*ret = json_object_new_object();
	json_add_str(*ret, "Id", c->id);
	warnings = json_object_new_array();
	json_object_object_add(*ret, "Warnings", warnings);
	pthread_mutex_unlock(&e->lock);
	return 0;
}

/* ---- inspect ---------------------------------------------------------------- */

json_object *container_state_json(const struct container *c)
{
	json_object *s = json_object_new_object();
	const char *status = c->removing ? "removing" : cstatus_name(c->status);
	_cleanup_free_ char *st = format_time_ns(c->started_ns);
	_cleanup_free_ char *ft = format_time_ns(c->finished_ns);
	json_add_str(s, "Status", status);
	json_add_bool(s, "Running", c->status == C_RUNNING || c->status == C_PAUSED);
	json_add_bool(s, "Paused", c->status == C_PAUSED);
	json_add_bool(s, "Restarting", c->status == C_RESTARTING);
	json_add_bool(s, "OOMKilled", c->oom_killed);
	json_add_bool(s, "Dead", c->status == C_DEAD);
	json_add_int(s, "Pid", c->status == C_RUNNING || c->status == C_PAUSED ? c->pid : 0);
	json_add_int(s, "ExitCode", c->exit_code);
	json_add_str(s, "Error", c->error ? c->error : "");
	json_add_str(s, "StartedAt", st);
	json_add_str(s, "FinishedAt", ft);
	if (c->health)
		json_object_object_add(s, "Health", health_json(c->health));
	return s;
}

char *container_status_text(const struct container *c)
{
	int64_t now = now_ns();
	if (c->removing)
		return xstrdup("Removal In Progress");
	switch (c->status) {
	case C_RUNNING:
	case C_PAUSED: {
		_cleanup_free_ char *d = human_duration(now - c->started_ns);
		if (c->status == C_PAUSED)
			return xasprintf("Up %s (Paused)", d);
		if (c->health)
			return xasprintf("Up %s (%s%s)", d,
					 c->health->status == HEALTH_STARTING ? "health: " : "",
					 health_status_name(c->health));
		return xasprintf("Up %s", d);
	}
	case C_RESTARTING: {
		_cleanup_free_ char *d = human_duration(now - c->finished_ns);
		return xasprintf("Restarting (%d) %s ago", c->exit_code, d);
	}
	case C_EXITED: {
		_cleanup_free_ char *d = human_duration(now - c->finished_ns);
		return xasprintf("Exited (%d) %s ago", c->exit_code, d);
	}
	case C_DEAD:
		return xstrdup("Dead");
	case C_CREATED:
	default:
		return xstrdup("Created");
	}
}

int engine_container_inspect(struct engine *e, const char *ref, bool size, json_object **ret,
			     struct error **err)
{
	struct size_jobs sizes = {0};
	struct container *c;
	json_object *o;

	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (!c) {
		pthread_mutex_unlock(&e->lock);
		return not_found(err, ref);
	}
	o = json_object_new_object();
	{
		_cleanup_free_ char *created = format_time_ns(c->created_ns);
		_cleanup_free_ char *dir = container_dir(e, c->id);
		_cleanup_free_ char *log = container_log_path(e, c->id);
		_cleanup_free_ char *rc = xasprintf("%s/resolv.conf", dir);
		_cleanup_free_ char *hn = xasprintf("%s/hostname", dir);
		_cleanup_free_ char *hs = xasprintf("%s/hosts", dir);
		json_object *gd = json_object_new_object(), *gdd = json_object_new_object();
		json_object *execs = json_object_new_array();
		json_add_str(o, "Id", c->id);
		json_add_str(o, "Created", created);
		json_add_str(o, "Path", c->path ? c->path : "");
		json_object_object_add(o, "Args", json_strv_new(c->args));
		json_object_object_add(o, "State", container_state_json(c));
		json_add_str(o, "Image", c->image_id);
		json_add_str(o, "ResolvConfPath", rc);
		json_add_str(o, "HostnamePath", hn);
		json_add_str(o, "HostsPath", hs);
		json_add_str(o, "LogPath", log);
		json_add_str(o, "Name", c->name);
		json_add_int(o, "RestartCount", c->restart_count);
		json_add_str(o, "Driver", "overlay2");
		json_add_str(o, "Platform", "linux");
		json_add_str(o, "MountLabel", "");
		json_add_str(o, "ProcessLabel", "");
		json_add_str(o, "AppArmorProfile", "");
		for (struct exec_proc *x = c->execs; x; x = x->next)
			json_object_array_add(execs, json_object_new_string(x->id));
		json_object_object_add(
		    o, "ExecIDs",
		    json_object_array_length(execs) ? execs : (json_object_put(execs), NULL));
		json_object_object_add(o, "HostConfig", json_object_get(c->host_config));
		_cleanup_free_ char *up = xasprintf("%s/upper", dir);
		_cleanup_free_ char *wk = xasprintf("%s/work", dir);
		_cleanup_free_ char *mg = xasprintf("%s/merged", dir);
		json_add_str(gdd, "UpperDir", up);
		json_add_str(gdd, "WorkDir", wk);
		json_add_str(gdd, "MergedDir", mg);
		json_add_str(gd, "Name", "overlay2");
		json_object_object_add(gd, "Data", gdd);
		json_object_object_add(o, "GraphDriver", gd);
		if (size) {
			json_add_int(o, "SizeRw", 0);
			json_add_int(o, "SizeRootFs", 0);
			size_jobs_add_locked(e, &sizes, c, o);
		}
		json_object_object_add(o, "Mounts", mounts_list(c->host_config));
		json_object_object_add(o, "Config", json_object_get(c->config));
		json_object_object_add(o, "NetworkSettings", container_net_settings(e, c));
	}
	pthread_mutex_unlock(&e->lock);
	size_jobs_run(e, &sizes, false);
	*ret = o;
	return 0;
}

/* ---- list ------------------------------------------------------------------- */

static bool match_label(json_object *labels, const char *want)
{
	_cleanup_free_ char *k = xstrdup(want);
	char *eq = strchr(k, '=');
	json_object *v;
	if (eq)
		*eq = 0;
	if (!labels || !json_object_object_get_ex(labels, k, &v))
		return false;
	return !eq || streq(json_object_get_string(v), eq + 1);
}

/* "80", "80/udp", "8000-8010", "8000-8010/tcp" against a "port/proto" key. */
static bool port_filter_matches(const char *want, const char *key)
{
	unsigned lo, hi, port;
	char proto[8] = "tcp", kproto[8] = "";
	int n;

	if (sscanf(key, "%u/%7s", &port, kproto) != 2)
		return false;
	n = sscanf(want, "%u-%u/%7s", &lo, &hi, proto);
	if (n < 2) {
		strcpy(proto, "tcp");
		n = sscanf(want, "%u/%7s", &lo, proto);
		if (n < 1)
			return false;
		hi = lo;
	}
	return port >= lo && port <= hi && streq(proto, kproto);
}

static bool ports_match(char **wants, json_object *keys_a, json_object *keys_b)
{
	for (char **p = wants; *p; p++) {
		bool ok = false;
		json_object *sets[] = {keys_a, keys_b};
		for (size_t i = 0; i < ELEMENTSOF(sets) && !ok; i++) {
			if (!sets[i] || !json_object_is_type(sets[i], json_type_object))
				continue;
			json_object_object_foreach(sets[i], k, v)
			{
				(void)v;
				ok = ok || port_filter_matches(*p, k);
			}
		}
		if (!ok)
			return false;
	}
	return true;
}

/* Docker's name filter: a regular expression (Go's RE2; POSIX extended covers what people
 * write), tried on the name with and without its slash. */
static bool name_matches(const char *pattern, const char *name)
{
	regex_t re;
	bool ok;
	if (streq(pattern, name) || streq(pattern, name + 1))
		return true;
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	ok = regexec(&re, name, 0, NULL, 0) == 0 || regexec(&re, name + 1, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* The values dockerd refuses before it lists anything. */
static int check_list_filters(json_object *filters, struct error **err)
{
	static const char *const allowed[] = {
	    "id",      "name",	 "label",  "status",  "exited", "ancestor", "before",	 "since",
	    "network", "volume", "health", "is-task", "expose", "publish",  "isolation", NULL};
	static const char *const states[] = {"created", "restarting", "running", "removing",
					     "paused",	"exited",     "dead"};
	_cleanup_strv_free_ char **status = filter_values(filters, "status");
	_cleanup_strv_free_ char **exited = filter_values(filters, "exited");
	_cleanup_strv_free_ char **task = filter_values(filters, "is-task");
	int r = json_filters_check(filters, allowed, err);

	if (r < 0)
		return r;
	for (char **p = status; p && *p; p++) {
		bool ok = false;
		for (size_t i = 0; i < ELEMENTSOF(states) && !ok; i++)
			ok = streq(*p, states[i]);
		if (!ok)
			return error_setx(err, -EINVAL, "invalid filter 'status=%s'", *p);
	}
	for (char **p = exited; p && *p; p++) {
		int v;
		if (safe_atoi(*p, &v) < 0)
			return error_setx(err, -EINVAL,
					  "strconv.Atoi: parsing \"%s\": invalid syntax", *p);
	}
	for (char **p = task; p && *p; p++)
		if (!streq(*p, "true") && !streq(*p, "false"))
			return error_setx(err, -EINVAL, "Invalid filter 'is-task=%s'", *p);
	return 0;
}

static bool container_matches(struct engine *e, struct container *c, json_object *filters)
{
	_cleanup_strv_free_ char **ids = filter_values(filters, "id");
	_cleanup_strv_free_ char **names = filter_values(filters, "name");
	_cleanup_strv_free_ char **labels = filter_values(filters, "label");
	_cleanup_strv_free_ char **status = filter_values(filters, "status");
	_cleanup_strv_free_ char **exited = filter_values(filters, "exited");
	_cleanup_strv_free_ char **anc = filter_values(filters, "ancestor");
	_cleanup_strv_free_ char **nets = filter_values(filters, "network");
	_cleanup_strv_free_ char **publish = filter_values(filters, "publish");
	_cleanup_strv_free_ char **expose = filter_values(filters, "expose");
	_cleanup_strv_free_ char **task = filter_values(filters, "is-task");
	_cleanup_strv_free_ char **isolation = filter_values(filters, "isolation");
	_cleanup_strv_free_ char **health = filter_values(filters, "health");
	_cleanup_strv_free_ char **vols = filter_values(filters, "volume");
	/* berth runs no swarm tasks */
	if (task && strv_contains(task, "true"))
		return false;
	if (isolation && !strv_contains(isolation, "default"))
		return false;
	if (publish && !ports_match(publish, get(c->host_config, "PortBindings"), NULL))
		return false;
	if (expose && !ports_match(expose, get(c->config, "ExposedPorts"),
				   get(c->host_config, "PortBindings")))
		return false;
	if (health && !strv_contains(health, health_status_name(c->health)))
		return false;
	if (vols) {
		bool ok = false;
		for (char **p = vols; *p && !ok; p++)
			ok = mounts_match_volume(c->host_config, *p);
		if (!ok)
			return false;
	}
	if (nets) {
		bool ok = false;
		for (char **p = nets; *p; p++)
			ok |= container_net_on(e, c, *p);
		if (!ok)
			return false;
	}
	if (ids) {
		bool ok = false;
		for (char **p = ids; *p; p++)
			ok |= startswith(c->id, *p) != NULL;
		if (!ok)
			return false;
	}
	if (names) {
		bool ok = false;
		for (char **p = names; *p && !ok; p++)
			ok = name_matches(*p, c->name);
		if (!ok)
			return false;
	}
	for (char **p = labels; p && *p; p++)
		if (!match_label(get(c->config, "Labels"), *p))
			return false;
	if (status) {
		bool ok = false;
		for (char **p = status; *p; p++)
			ok |= streq(*p, cstatus_name(c->status));
		if (!ok)
			return false;
	}
	if (exited) {
		bool ok = false;
		for (char **p = exited; *p; p++)
			ok |= c->status == C_EXITED && atoi(*p) == c->exit_code;
		if (!ok)
			return false;
	}
	if (anc) {
		bool ok = false;
		for (char **p = anc; *p; p++) {
			_cleanup_(image_info_freep) struct image_info *img = NULL;
			if (image_lookup(e->images, *p, &img, NULL) >= 0)
				ok |= streq(img->id, c->image_id);
			ok |= streq(*p, c->image);
		}
		if (!ok)
			return false;
	}
	return true;
}

/* size: with SizeRw and SizeRootFs placeholders where moby's Summary has them. */
static json_object *container_summary(struct container *c, const char *image, bool size)
{
	json_object *o = json_object_new_object(), *names = json_object_new_array();
	_cleanup_free_ char *status = container_status_text(c);
	_cleanup_free_ char *cmd = NULL;
	json_object *hc = json_object_new_object();
	json_add_str(o, "Id", c->id);
	json_object_array_add(names, json_object_new_string(c->name));
	json_object_object_add(o, "Names", names);
	json_add_str(o, "Image", image);
	json_add_str(o, "ImageID", c->image_id);
	{
		size_t len = strlen(c->path ? c->path : "") + 1;
		for (char **a = c->args; a && *a; a++)
			len += strlen(*a) + 1;
		cmd = xzalloc(len + 1);
		strcat(cmd, c->path ? c->path : "");
		for (char **a = c->args; a && *a; a++) {
			strcat(cmd, " ");
			strcat(cmd, *a);
		}
	}
	json_add_str(o, "Command", cmd);
	json_add_int(o, "Created", c->created_ns / 1000000000LL);
	json_object_object_add(o, "Ports", container_net_list_ports(c));
	if (size) {
		json_add_int(o, "SizeRw", 0);
		json_add_int(o, "SizeRootFs", 0);
	}
	json_object_object_add(o, "Labels", json_object_get(get(c->config, "Labels")));
	json_add_str(o, "State", cstatus_name(c->status));
	json_add_str(o, "Status", status);
	json_add_str(hc, "NetworkMode",
		     get_s(c->host_config, "NetworkMode") ? get_s(c->host_config, "NetworkMode")
							  : "bridge");
	json_object_object_add(o, "HostConfig", hc);
	json_object_object_add(o, "NetworkSettings", container_net_list_settings(c));
	json_object_object_add(o, "Mounts", mounts_list(c->host_config));
	return o;
}

/* The image references one listing resolved: ref, then its id ("" when it resolves to
 * nothing), pairs in a strv. */
struct seen_refs {
	char **pairs;
};

/*
 * What ps shows as a container's image: the reference it was created from while that still
 * names the same image, else the image's id (dockerd's list: after an untag, a retag or a
 * pull moved the tag). One lookup per distinct reference and listing.
 */
static const char *listed_image(struct engine *e, const struct container *c, struct seen_refs *seen)
{
	const char *id = NULL;
	if (isempty(c->image) || isempty(c->image_id) || streq(c->image, c->image_id))
		return c->image ? c->image : "";
	for (char **p = seen->pairs; p && p[0] && p[1] && !id; p += 2)
		if (streq(p[0], c->image))
			id = p[1];
	if (!id) {
		_cleanup_(image_info_freep) struct image_info *img = NULL;
		seen->pairs = strv_append(seen->pairs, c->image);
		seen->pairs = strv_append(
		    seen->pairs, image_lookup(e->images, c->image, &img, NULL) >= 0 ? img->id : "");
		id = seen->pairs[strv_length(seen->pairs) - 1];
	}
	return streq(id, c->image_id) ? c->image : c->image_id;
}

static int cmp_created(const void *a, const void *b)
{
	const struct container *x = *(struct container *const *)a;
	const struct container *y = *(struct container *const *)b;
	return x->created_ns < y->created_ns ? 1 : x->created_ns > y->created_ns ? -1 : 0;
}

int engine_container_list(struct engine *e, bool all, int limit, bool size, json_object *filters,
			  json_object **ret, struct error **err)
{
	json_object *a = json_object_new_array();
	struct container **v = NULL;
	struct size_jobs sizes = {0};
	size_t n = 0;
	int64_t before = 0, since = 0;
	_cleanup_strv_free_ char **bef = filter_values(filters, "before");
	_cleanup_strv_free_ char **sin = filter_values(filters, "since");
	struct seen_refs seen = {0};
	_cleanup_strv_free_ char **health = filter_values(filters, "health");

	if (check_list_filters(filters, err) < 0) {
		json_object_put(a);
		return -EINVAL;
	}
	for (char **p = health; p && *p; p++)
		if (!streq(*p, "starting") && !streq(*p, "healthy") && !streq(*p, "unhealthy") &&
		    !streq(*p, "none")) {
			json_object_put(a);
			return bad(err, "Unrecognised filter value for health: %s", *p);
		}
	pthread_mutex_lock(&e->lock);
	if (bef && bef[0]) {
		struct container *b = container_find(e, bef[0]);
		if (!b) {
			pthread_mutex_unlock(&e->lock);
			json_object_put(a);
			return not_found(err, bef[0]);
		}
		before = b->created_ns;
	}
	if (sin && sin[0]) {
		struct container *s = container_find(e, sin[0]);
		if (!s) {
			pthread_mutex_unlock(&e->lock);
			json_object_put(a);
			return not_found(err, sin[0]);
		}
		since = s->created_ns;
	}
	for (struct container *c = e->containers; c; c = c->next)
		n++;
	v = xnew0(struct container *, n + 1);
	n = 0;
	for (struct container *c = e->containers; c; c = c->next)
		v[n++] = c;
	qsort(v, n, sizeof(*v), cmp_created);
	for (size_t i = 0; i < n; i++) {
		struct container *c = v[i];
		bool running =
		    c->status == C_RUNNING || c->status == C_PAUSED || c->status == C_RESTARTING;
		if (!all && !running && limit <= 0 &&
		    !(filters && filter_values(filters, "status")))
			continue;
		if (before && c->created_ns >= before)
			continue;
		if (since && c->created_ns <= since)
			continue;
		if (!container_matches(e, c, filters))
			continue;
		if (limit > 0 && (int)json_object_array_length(a) >= limit)
			break;
		json_object *s = container_summary(c, listed_image(e, c, &seen), size);
		if (size)
			size_jobs_add_locked(e, &sizes, c, s);
		json_object_array_add(a, s);
	}
	pthread_mutex_unlock(&e->lock);
	strv_free(seen.pairs);
	free(v);
	size_jobs_run(e, &sizes, true);
	*ret = a;
	return 0;
}

/* ---- rename, remove, prune ------------------------------------------------------ */

int engine_container_rename(struct engine *e, const char *ref, const char *name, struct error **err)
{
	struct container *c;
	_cleanup_free_ char *slash = NULL, *old = NULL;
	int r = 0;

	if (name && name[0] == '/')
		name++;
	if (isempty(name))
		return bad(err, "Neither old nor new names may be empty");
	if (!valid_name(name))
		return bad(err,
			   "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
			   "allowed",
			   name);
	slash = xasprintf("/%s", name);
	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (!c) {
		r = not_found(err, ref);
		goto out;
	}
	if (streq(c->name, slash)) {
		r = bad(err, "Renaming a container with the same name as its current name");
		goto out;
	}
	for (struct container *x = e->containers; x; x = x->next)
		if (streq(x->name, slash)) {
			r = error_setx(
			    err, -EEXIST,
			    "Conflict. The container name \"%s\" is already in use by "
			    "container \"%s\". You have to remove (or rename) that container "
			    "to be able to reuse that name.",
			    slash, x->id);
			goto out;
		}
	old = c->name;
	c->name = xstrdup(slash);
	if (store_save(e, c) < 0) {
		free(c->name);
		c->name = TAKE_PTR(old);
		r = error_setx(err, -EIO, "rename: cannot save the container");
		goto out;
	}
	{
		json_object *attrs = json_object_new_object();
		json_add_str(attrs, "name", name);
		json_add_str(attrs, "oldName", old);
		event_emit_locked(e, "container", "rename", c->id, attrs);
	}
	container_net_renamed(e, c, old + 1);
out:
	pthread_mutex_unlock(&e->lock);
	return r;
}

/* With the lock held; the container is stopped. Frees it. */
static void container_destroy_locked(struct engine *e, struct container *c)
{
	struct container **pp;

	/* The files go in the background (janitor.c); the container is gone now. */
	janitor_discard(e, c->id);
	store_delete(e, c->id);
	for (pp = &e->containers; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	{
		json_object *attrs = json_object_new_object();
		json_add_str(attrs, "name", c->name + 1);
		json_add_str(attrs, "image", c->image);
		event_add_labels(attrs, c); /* no longer listed: event_emit_locked can't find it */
		event_emit_locked(e, "container", "destroy", c->id, attrs);
	}
	c->removed = true;
	{
		unsigned slot = e->n_tombstones++ % ELEMENTSOF(e->tombstones);
		snprintf(e->tombstones[slot].id, sizeof(e->tombstones[slot].id), "%s", c->id);
		e->tombstones[slot].code = c->exit_code;
	}
	pthread_cond_broadcast(&e->cond);
	container_free(c);
}

int tombstone_code(struct engine *e, const char *id)
{
	for (unsigned i = 0; i < ELEMENTSOF(e->tombstones) && i < e->n_tombstones; i++)
		if (streq(e->tombstones[i].id, id))
			return e->tombstones[i].code;
	return -1;
}

void container_remove_locked(struct engine *e, struct container *c);
void container_remove_locked(struct engine *e, struct container *c)
{
	container_destroy_locked(e, c);
}

int engine_container_remove(struct engine *e, const char *ref, bool force, bool volumes,
			    struct error **err)
{
	struct container *c;
	_cleanup_free_ char *id = NULL;
	int r;

	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (!c) {
		pthread_mutex_unlock(&e->lock);
		return not_found(err, ref);
	}
	if (c->removing) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -EEXIST, "removal of container %s is already in progress",
				  ref);
	}
	id = xstrdup(c->id);
	if (c->status == C_RUNNING || c->status == C_PAUSED || c->status == C_RESTARTING ||
	    c->starting) {
		if (!force) {
			r = error_setx(err, -EEXIST,
				       "cannot remove container \"%s\": container is %s: stop the "
				       "container before removing or force remove",
				       c->name, c->status == C_PAUSED ? "paused" : "running");
			pthread_mutex_unlock(&e->lock);
			return r;
		}
		c->removing = true;
		pthread_mutex_unlock(&e->lock);
		/* Force: kill and wait for the exit to be recorded. */
		(void)engine_container_kill(e, id, "KILL", NULL);
		{
			json_object *w = NULL;
			volatile bool cancel = false;
			(void)engine_container_wait(e, id, "not-running", &cancel, &w, NULL);
			if (w)
				json_object_put(w);
		}
		pthread_mutex_lock(&e->lock);
		c = container_find(e, id);
		if (!c) {
			pthread_mutex_unlock(&e->lock);
			return 0; /* AutoRemove got there first */
		}
	}
	container_destroy_locked(e, c);
	pthread_mutex_unlock(&e->lock);
	(void)volumes;
	return 0;
}

static bool prune_eligible(const struct container *c, char **labels, char **nolabels,
			   int64_t until_ns)
{
	bool ok = true;
	if (c->status != C_EXITED && c->status != C_CREATED && c->status != C_DEAD)
		return false;
	if (c->starting || c->removing)
		return false;
	for (char **p = labels; p && *p; p++)
		ok &= match_label(get(c->config, "Labels"), *p);
	/* label!=k or k=v: any match keeps the container */
	for (char **p = nolabels; p && *p; p++)
		ok &= !match_label(get(c->config, "Labels"), *p);
	if (until_ns && c->created_ns >= until_ns)
		ok = false;
	return ok;
}

/*
 * As dockerd: the space reclaimed is the sum of the removed containers' writable layers,
 * measured before they go. The walks run without the lock (they may be long): the
 * candidates are picked, measured, then removed if they still qualify.
 */
int engine_container_prune(struct engine *e, json_object *filters, json_object **ret,
			   struct error **err)
{
	static const char *const allowed[] = {"until", "label", "label!", NULL};
	json_object *deleted;
	_cleanup_strv_free_ char **labels = filter_values(filters, "label");
	_cleanup_strv_free_ char **nolabels = filter_values(filters, "label!");
	_cleanup_strv_free_ char **until = filter_values(filters, "until");
	_cleanup_strv_free_ char **ids = NULL, **uppers = NULL;
	uint64_t *sizes = NULL;
	int64_t until_ns = 0, reclaimed = 0;
	size_t n;
	int r;

	/* an unknown key must not widen what is deleted */
	r = json_filters_check(filters, allowed, err);
	if (r < 0)
		return r;
	if (until && until[0] && parse_timestamp(until[0], &until_ns) < 0)
		return bad(err, "failed to parse value as time or duration: \"%s\"", until[0]);
	pthread_mutex_lock(&e->lock);
	for (struct container *c = e->containers; c; c = c->next)
		if (prune_eligible(c, labels, nolabels, until_ns)) {
			_cleanup_free_ char *dir = container_dir(e, c->id);
			_cleanup_free_ char *upper = xasprintf("%s/upper", dir);
			ids = strv_append(ids, c->id);
			uppers = strv_append(uppers, upper);
		}
	pthread_mutex_unlock(&e->lock);
	n = strv_length(ids);
	sizes = xnew0(uint64_t, n + 1);
	for (size_t i = 0; i < n; i++)
		if (dir_size_at(AT_FDCWD, uppers[i], &sizes[i]) < 0)
			sizes[i] = 0;
	deleted = json_object_new_array();
	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < n; i++) {
		struct container *c = NULL;
		for (struct container *x = e->containers; x && !c; x = x->next)
			if (streq(x->id, ids[i]))
				c = x;
		if (!c || !prune_eligible(c, labels, nolabels, until_ns))
			continue;
		json_object_array_add(deleted, json_object_new_string(c->id));
		reclaimed += (int64_t)sizes[i];
		container_destroy_locked(e, c);
	}
	{
		json_object *attrs = json_object_new_object();
		_cleanup_free_ char *v = xasprintf("%" PRId64, reclaimed);
		json_add_str(attrs, "reclaimed", v);
		event_emit_locked(e, "container", "prune", "", attrs);
	}
	pthread_mutex_unlock(&e->lock);
	free(sizes);
	*ret = json_object_new_object();
	json_object_object_add(
	    *ret, "ContainersDeleted",
	    json_object_array_length(deleted) ? deleted : (json_object_put(deleted), NULL));
	json_add_int(*ret, "SpaceReclaimed", reclaimed);
	return 0;
}

int engine_image_in_use(const char *image_id, void *ud, char **ret_container, bool *ret_running)
{
	struct engine *e = ud;
	int used = 0;
	/* No overlay of a removed container may still stand on the image's layers. */
	janitor_drain(e);
	pthread_mutex_lock(&e->lock);
	for (struct container *c = e->containers; c; c = c->next)
		if (streq(c->image_id, image_id)) {
			if (ret_container)
				*ret_container = xstrdup(c->id);
			if (ret_running)
				*ret_running = c->status == C_RUNNING || c->status == C_PAUSED;
			used = 1;
			break;
		}
	pthread_mutex_unlock(&e->lock);
	return used;
}
