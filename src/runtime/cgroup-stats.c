/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup statistics in the shape of `runc events --stats` "data": cpu, memory,
 * pids and blkio, read from the v1 hierarchies or the v2 directory. A file that
 * is missing (controller not mounted, older kernel) leaves its members at zero.
 */
#include <time.h>

#include "cgroup-internal.h"

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static json_object *add_obj(json_object *o, const char *k)
{
	json_object *n = json_object_new_object();
	json_object_object_add(o, k, n);
	return n;
}

/* "key value" lines: the value of key, or 0. */
static uint64_t kv_u64(const char *s, const char *key)
{
	size_t l = strlen(key);

	for (const char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, l) == 0 && p[l] == ' ')
			return strtoull(p + l + 1, NULL, 10);
	}
	return 0;
}

static uint64_t read_u64_or0(const char *dir, const char *file)
{
	uint64_t v = 0;
	if (!dir || cg_read_u64(dir, file, &v) < 0)
		return 0;
	return v;
}

static char *read_or_empty(const char *dir, const char *file)
{
	char *s = NULL;
	if (!dir || cg_read(dir, file, &s) < 0)
		return xstrdup("");
	return s;
}

static char *dir_of(const struct cgroup *cg, const char *controller)
{
	const struct cgroup_hierarchy *h = cg_find_hier(cg, controller);
	if (h)
		return cg_hier_dir(cg, h);
	return cg_v2_dir(cg);
}

static void stats_cpu(const struct cgroup *cg, json_object *root)
{
	json_object *cpu = add_obj(root, "cpu");
	json_object *usage = add_obj(cpu, "usage"), *thr = add_obj(cpu, "throttling");
	json_object *percpu = json_object_new_array();
	const struct cgroup_hierarchy *acct = cg_find_hier(cg, "cpuacct");
	_cleanup_free_ char *cpudir = dir_of(cg, "cpu"), *stat = NULL;

	json_object_object_add(usage, "percpu", percpu);
	if (acct) {
		_cleanup_free_ char *dir = cg_hier_dir(cg, acct), *pc = NULL, *st = NULL;
		long tck = sysconf(_SC_CLK_TCK);
		char *save = NULL;

		if (tck <= 0)
			tck = 100;
		add_u64(usage, "total", read_u64_or0(dir, "cpuacct.usage"));
		pc = read_or_empty(dir, "cpuacct.usage_percpu");
		for (char *t = strtok_r(pc, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
			json_object_array_add(percpu,
					      json_object_new_uint64(strtoull(t, NULL, 10)));
		st = read_or_empty(dir, "cpuacct.stat");
		add_u64(usage, "kernel", kv_u64(st, "system") * 1000000000ULL / (uint64_t)tck);
		add_u64(usage, "user", kv_u64(st, "user") * 1000000000ULL / (uint64_t)tck);
		stat = read_or_empty(cpudir, "cpu.stat");
		add_u64(thr, "periods", kv_u64(stat, "nr_periods"));
		add_u64(thr, "throttledPeriods", kv_u64(stat, "nr_throttled"));
		add_u64(thr, "throttledTime", kv_u64(stat, "throttled_time"));
		return;
	}
	stat = read_or_empty(cpudir, "cpu.stat");
	add_u64(usage, "total", kv_u64(stat, "usage_usec") * 1000);
	add_u64(usage, "kernel", kv_u64(stat, "system_usec") * 1000);
	add_u64(usage, "user", kv_u64(stat, "user_usec") * 1000);
	add_u64(thr, "periods", kv_u64(stat, "nr_periods"));
	add_u64(thr, "throttledPeriods", kv_u64(stat, "nr_throttled"));
	add_u64(thr, "throttledTime", kv_u64(stat, "throttled_usec") * 1000);
}

static void memory_entry(json_object *mem, const char *name, uint64_t limit, uint64_t usage,
			 uint64_t max, uint64_t failcnt)
{
	json_object *e = add_obj(mem, name);
	add_u64(e, "limit", limit);
	add_u64(e, "usage", usage);
	add_u64(e, "max", max);
	add_u64(e, "failcnt", failcnt);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void stats_memory(const struct cgroup *cg, json_object *root)
{
	json_object *mem = add_obj(root, "memory"), *raw;
	const struct cgroup_hierarchy *h = cg_find_hier(cg, "memory");
	_cleanup_free_ char *dir = dir_of(cg, "memory"), *stat = NULL;
	char *save = NULL;

	stat = read_or_empty(dir, "memory.stat");
	if (h) {
		add_u64(mem, "cache", kv_u64(stat, "cache"));
		memory_entry(mem, "usage", read_u64_or0(dir, "memory.limit_in_bytes"),
			     read_u64_or0(dir, "memory.usage_in_bytes"),
			     read_u64_or0(dir, "memory.max_usage_in_bytes"),
			     read_u64_or0(dir, "memory.failcnt"));
		memory_entry(mem, "swap", read_u64_or0(dir, "memory.memsw.limit_in_bytes"),
			     read_u64_or0(dir, "memory.memsw.usage_in_bytes"),
			     read_u64_or0(dir, "memory.memsw.max_usage_in_bytes"),
			     read_u64_or0(dir, "memory.memsw.failcnt"));
		memory_entry(mem, "kernel", read_u64_or0(dir, "memory.kmem.limit_in_bytes"),
			     read_u64_or0(dir, "memory.kmem.usage_in_bytes"),
			     read_u64_or0(dir, "memory.kmem.max_usage_in_bytes"),
			     read_u64_or0(dir, "memory.kmem.failcnt"));
	} else {
		_cleanup_free_ char *events = read_or_empty(dir, "memory.events");
		uint64_t cur = read_u64_or0(dir, "memory.current");
		uint64_t max = read_u64_or0(dir, "memory.max");

		add_u64(mem, "cache", kv_u64(stat, "file"));
		memory_entry(mem, "usage", max, cur, read_u64_or0(dir, "memory.peak"),
			     kv_u64(events, "max"));
		/* as runc: v1's memsw is memory + swap */
		memory_entry(mem, "swap", sat_add(max, read_u64_or0(dir, "memory.swap.max")),
			     sat_add(cur, read_u64_or0(dir, "memory.swap.current")), 0, 0);
	}
	raw = add_obj(mem, "raw");
	for (char *l = strtok_r(stat, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(l, ' ');
		if (!sp)
			continue;
		*sp = 0;
		add_u64(raw, l, strtoull(sp + 1, NULL, 10));
	}
}

static void stats_pids(const struct cgroup *cg, json_object *root)
{
	json_object *pids = add_obj(root, "pids");
	_cleanup_free_ char *dir = dir_of(cg, "pids");
	uint64_t limit = read_u64_or0(dir, "pids.max");

	add_u64(pids, "current", read_u64_or0(dir, "pids.current"));
	add_u64(pids, "limit", limit == UINT64_MAX ? 0 : limit);
}

static void blkio_entry(json_object *arr, unsigned long long major, unsigned long long minor,
			const char *op, uint64_t value)
{
	json_object *e = json_object_new_object();
	add_u64(e, "major", major);
	add_u64(e, "minor", minor);
	json_add_str(e, "op", op);
	add_u64(e, "value", value);
	json_object_array_add(arr, e);
}

/* v1 "8:0 Read 1234" lines; "Total" lines are skipped. */
static void blkio_v1_file(const char *dir, const char *file, json_object *arr)
{
	_cleanup_free_ char *s = read_or_empty(dir, file);
	char *save = NULL;

	for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		unsigned long long major, minor, v;
		char op[32];
		if (sscanf(l, "%llu:%llu %31s %llu", &major, &minor, op, &v) == 4)
			blkio_entry(arr, major, minor, op, v);
	}
}

static void stats_blkio(const struct cgroup *cg, json_object *root)
{
	json_object *blkio = add_obj(root, "blkio");
	json_object *bytes = json_object_new_array(), *ios = json_object_new_array();
	const struct cgroup_hierarchy *h = cg_find_hier(cg, "blkio");
	_cleanup_free_ char *dir = dir_of(cg, "blkio");

	json_object_object_add(blkio, "ioServiceBytesRecursive", bytes);
	json_object_object_add(blkio, "ioServicedRecursive", ios);
	if (h) {
		bool cfq = cg_exists(dir, "blkio.io_service_bytes_recursive");
		blkio_v1_file(dir,
			      cfq ? "blkio.io_service_bytes_recursive"
				  : "blkio.throttle.io_service_bytes_recursive",
			      bytes);
		blkio_v1_file(dir,
			      cfq ? "blkio.io_serviced_recursive"
				  : "blkio.throttle.io_serviced_recursive",
			      ios);
	} else {
		_cleanup_free_ char *s = read_or_empty(dir, "io.stat");
		char *save = NULL;

		for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			unsigned long long major, minor;
			char *kvs = strchr(l, ' ');
			if (!kvs || sscanf(l, "%llu:%llu", &major, &minor) != 2)
				continue;
			/* "rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" */
			for (char *t = kvs; t && *t; t = strchr(t, ' ')) {
				t += strspn(t, " ");
				const char *v = strchr(t, '=');
				uint64_t n;
				if (!v)
					break;
				n = strtoull(v + 1, NULL, 10);
				if (startswith(t, "rbytes="))
					blkio_entry(bytes, major, minor, "Read", n);
				else if (startswith(t, "wbytes="))
					blkio_entry(bytes, major, minor, "Write", n);
				else if (startswith(t, "rios="))
					blkio_entry(ios, major, minor, "Read", n);
				else if (startswith(t, "wios="))
					blkio_entry(ios, major, minor, "Write", n);
			}
		}
	}
}

int cgroup_stats(const struct cgroup *cg, json_object **ret)
{
	json_object *o = json_object_new_object();

	if (!o)
		return -ENOMEM;
	stats_cpu(cg, o);
	stats_memory(cg, o);
	stats_pids(cg, o);
	stats_blkio(cg, o);
	*ret = o;
	return 0;
}
