/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "runtime/cgroup.h"
#include "test.h"

/* ---- fixtures ------------------------------------------------------------------- */

/* Every control-file write, as "path=value", in order. */
static char **trace;

static void trace_write(const char *path, const char *value, void *userdata)
{
	char *s = xasprintf("%s=%s", path, value);
	trace = strv_append(trace, s);
	free(s);
}

static void trace_reset(void)
{
	strv_free(trace);
	trace = NULL;
}

static int trace_index(const char *entry)
{
	for (size_t i = 0; trace && trace[i]; i++)
		if (streq(trace[i], entry))
			return (int)i;
	return -1;
}

static bool traced(const char *entry)
{
	return trace_index(entry) >= 0;
}

static size_t trace_count_prefix(const char *prefix)
{
	size_t n = 0;
	for (size_t i = 0; trace && trace[i]; i++)
		n += startswith(trace[i], prefix) != NULL;
	return n;
}

static void dump_trace(void)
{
	for (size_t i = 0; trace && trace[i]; i++)
		fprintf(stderr, "    trace: %s\n", trace[i]);
}

/* A temp dir removed at scope exit, whatever the checks said. */
static void rm_tmp(char **p)
{
	if (*p) {
		rm_rf(*p);
		free(*p);
	}
}
#define _cleanup_tmp_ _cleanup_(rm_tmp)

static char *make_tmp(void)
{
	char t[] = "/tmp/berth-cgroup-XXXXXX";
	if (!mkdtemp(t))
		abort();
	return xstrdup(t);
}

/* Create root/rel (and its parents) holding content. */
static void put(const char *root, const char *rel, const char *content)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
	_cleanup_free_ char *dir = xstrdup(p);
	int fd;

	*strrchr(dir, '/') = 0;
	mkdir_p(dir, 0755);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	if (loop_write(fd, content, strlen(content)) < 0)
		abort();
	close(fd);
}

static char *get(const char *root, const char *rel)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
	char *s = NULL;
	if (read_file_at(AT_FDCWD, p, 1 << 20, &s, NULL) < 0)
		return NULL;
	return s;
}

static bool exists(const char *root, const char *rel)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
	struct stat st;
	return lstat(p, &st) == 0;
}

#define CHECK_FILE(root, rel, want)                                                                \
	do {                                                                                       \
		_cleanup_free_ char *got_ = get(root, rel);                                        \
		CHECK_STREQ(got_, want);                                                           \
	} while (0)

static void put_v1_common(const char *root, const char *hier)
{
	_cleanup_free_ char *a = xasprintf("%s/cgroup.procs", hier);
	_cleanup_free_ char *b = xasprintf("%s/tasks", hier);
	put(root, a, "");
	put(root, b, "");
}

/* v1: cpu,cpuacct co-mounted (with alias symlinks), the usual others, hugetlb. */
static char *fake_v1(bool with_hugetlb)
{
	char *root = make_tmp();
	static const char *const hiers[] = {"cpu,cpuacct", "cpuset", "memory", "devices",
					    "freezer",	   "blkio",  "pids",   "systemd"};
	_cleanup_free_ char *l1 = NULL, *l2 = NULL;

	for (size_t i = 0; i < ELEMENTSOF(hiers); i++)
		put_v1_common(root, hiers[i]);
	l1 = xasprintf("%s/cpu", root);
	l2 = xasprintf("%s/cpuacct", root);
	CHECK(symlink("cpu,cpuacct", l1) == 0);
	CHECK(symlink("cpu,cpuacct", l2) == 0);
	put(root, "cpu,cpuacct/cpu.shares", "1024");
	put(root, "cpu,cpuacct/cpu.cfs_quota_us", "-1");
	put(root, "cpu,cpuacct/cpu.cfs_period_us", "100000");
	put(root, "cpu,cpuacct/cpu.cfs_burst_us", "0");
	put(root, "cpu,cpuacct/cpu.rt_runtime_us", "0");
	put(root, "cpu,cpuacct/cpu.rt_period_us", "1000000");
	put(root, "cpu,cpuacct/cpu.stat", "nr_periods 10\nnr_throttled 2\nthrottled_time 3000\n");
	put(root, "cpu,cpuacct/cpuacct.usage", "5000000000");
	put(root, "cpu,cpuacct/cpuacct.usage_percpu", "3000000000 2000000000 \n");
	put(root, "cpu,cpuacct/cpuacct.stat", "user 300\nsystem 200\n");
	put(root, "cpuset/cpuset.cpus", "0-3\n");
	put(root, "cpuset/cpuset.mems", "0\n");
	put(root, "memory/memory.limit_in_bytes", "9223372036854771712\n");
	put(root, "memory/memory.memsw.limit_in_bytes", "9223372036854771712\n");
	put(root, "memory/memory.soft_limit_in_bytes", "9223372036854771712\n");
	put(root, "memory/memory.usage_in_bytes", "1048576\n");
	put(root, "memory/memory.max_usage_in_bytes", "2097152\n");
	put(root, "memory/memory.failcnt", "0\n");
	put(root, "memory/memory.swappiness", "60\n");
	put(root, "memory/memory.oom_control", "oom_kill_disable 0\n");
	put(root, "memory/memory.stat", "cache 4096\nrss 8192\n");
	put(root, "devices/devices.allow", "");
	put(root, "devices/devices.deny", "");
	put(root, "freezer/freezer.state", "THAWED\n");
	put(root, "blkio/blkio.weight", "500");
	put(root, "blkio/blkio.leaf_weight", "500");
	put(root, "blkio/blkio.weight_device", "");
	put(root, "blkio/blkio.leaf_weight_device", "");
	put(root, "blkio/blkio.throttle.read_bps_device", "");
	put(root, "blkio/blkio.throttle.write_bps_device", "");
	put(root, "blkio/blkio.throttle.read_iops_device", "");
	put(root, "blkio/blkio.throttle.write_iops_device", "");
	put(root, "blkio/blkio.throttle.io_service_bytes_recursive",
	    "8:0 Read 100\n8:0 Write 200\nTotal 300\n");
	put(root, "blkio/blkio.throttle.io_serviced_recursive", "8:0 Read 1\n8:0 Write 2\n");
	put(root, "pids/pids.max", "max\n");
	put(root, "pids/pids.current", "3\n");
	if (with_hugetlb) {
		put_v1_common(root, "hugetlb");
		put(root, "hugetlb/hugetlb.2MB.limit_in_bytes", "9223372036854771712");
	}
	return root;
}

static char *fake_v2(void)
{
	char *root = make_tmp();

	put(root, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma\n");
	put(root, "cgroup.subtree_control", "");
	put(root, "cgroup.procs", "");
	put(root, "cgroup.freeze", "0");
	put(root, "cgroup.events", "populated 0\nfrozen 0\n");
	put(root, "cgroup.kill", "");
	put(root, "cgroup.max.depth", "max");
	put(root, "memory.max", "max\n");
	put(root, "memory.high", "max\n");
	put(root, "memory.low", "0\n");
	put(root, "memory.swap.max", "max\n");
	put(root, "memory.current", "0\n");
	put(root, "memory.swap.current", "0\n");
	put(root, "memory.peak", "0\n");
	put(root, "memory.events", "low 0\nhigh 0\nmax 7\noom 0\n");
	put(root, "memory.stat", "anon 100\nfile 200\n");
	put(root, "cpu.weight", "100\n");
	put(root, "cpu.max", "max 100000\n");
	put(root, "cpu.max.burst", "0\n");
	put(root, "cpu.stat",
	    "usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_periods 5\n"
	    "nr_throttled 1\nthrottled_usec 2\n");
	put(root, "cpuset.cpus", "");
	put(root, "cpuset.mems", "");
	put(root, "pids.max", "max\n");
	put(root, "pids.current", "2\n");
	put(root, "io.weight", "default 100\n");
	put(root, "io.max", "");
	put(root, "io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");
	put(root, "hugetlb.2MB.max", "max\n");
	return root;
}

static char *fake_hybrid(void)
{
	char *root = fake_v1(false);

	put(root, "unified/cgroup.controllers", "hugetlb\n");
	put(root, "unified/cgroup.subtree_control", "");
	put(root, "unified/cgroup.procs", "");
	put(root, "unified/cgroup.freeze", "0");
	put(root, "unified/cgroup.events", "populated 0\nfrozen 0\n");
	put(root, "unified/hugetlb.2MB.max", "max\n");
	put(root, "unified/memory.pressure", "");
	return root;
}

/* ---- detection and paths -------------------------------------------------------- */

static void test_detect(void)
{
	_cleanup_tmp_ char *v1 = fake_v1(true), *v2 = fake_v2(), *hy = fake_hybrid();
	_cleanup_tmp_ char *empty = make_tmp();
	enum cgroup_mode m;

	CHECK_INT(cgroup_detect(v1, &m), 0);
	CHECK_INT(m, CGROUP_MODE_V1);
	CHECK_INT(cgroup_detect(v2, &m), 0);
	CHECK_INT(m, CGROUP_MODE_V2);
	CHECK_INT(cgroup_detect(hy, &m), 0);
	CHECK_INT(m, CGROUP_MODE_HYBRID);
	CHECK_INT(cgroup_detect(empty, &m), -ENOMEDIUM);
	CHECK(cgroup_detect("/nonexistent-berth", &m) == -ENOENT);

	/* this machine: whatever it is, it must be recognised */
	if (access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0 &&
	    access("/sys/fs/cgroup/memory", F_OK) == 0) {
		CHECK_INT(cgroup_detect("/sys/fs/cgroup/", &m), 0);
		CHECK_INT(m, CGROUP_MODE_HYBRID);
	}
}

static void check_resolve(const char *in, const char *id, bool systemd, int want_r,
			  const char *want)
{
	_cleanup_free_ char *got = NULL;
	_cleanup_error_ struct error *err = NULL;
	int r = cgroup_resolve_path(in, id, systemd, &got, &err);

	if (r != want_r)
		fprintf(stderr, "  resolve '%s': %d (%s)\n", in ? in : "(null)", r,
			err ? err->msg : "");
	CHECK_INT(r, want_r);
	if (want_r == 0)
		CHECK_STREQ(got, want);
	else
		CHECK(err && err->msg && *err->msg);
}

static void test_resolve_path(void)
{
	_cleanup_free_ char *rel = NULL;
	_cleanup_error_ struct error *err = NULL;

	check_resolve(NULL, "abc", false, 0, "/berth/abc");
	check_resolve("", "abc", false, 0, "/berth/abc");
	check_resolve("/a/b", "abc", false, 0, "/a/b");
	check_resolve("//a///b/", "abc", false, 0, "/a/b");
	check_resolve("/a/./b", "abc", false, 0, "/a/b");
	check_resolve("/a/../b", "abc", false, -EINVAL, NULL);
	check_resolve("/..", "abc", false, -EINVAL, NULL);
	check_resolve("/", "abc", false, -EINVAL, NULL);
	check_resolve("/a\nb", "abc", false, -EINVAL, NULL);
	check_resolve(NULL, "a/b", false, -EINVAL, NULL);
	check_resolve(NULL, "..", false, -EINVAL, NULL);
	check_resolve(NULL, "", false, -EINVAL, NULL);

	/* relative: below the caller's own cgroup */
	CHECK_INT(cgroup_resolve_path("a/b", "x", false, &rel, &err), 0);
	CHECK(rel && rel[0] == '/' && endswith(rel, "/a/b"));
	CHECK(rel && !strstr(rel, "//"));

	check_resolve("machine.slice:libpod:abc", "x", true, 0, "/machine.slice/libpod-abc.scope");
	check_resolve(":berth:abc", "x", true, 0, "/system.slice/berth-abc.scope");
	check_resolve(NULL, "abc", true, 0, "/system.slice/berth-abc.scope");
	check_resolve("a-b.slice:p:n", "x", true, 0, "/a.slice/a-b.slice/p-n.scope");
	check_resolve("a-b-c.slice:p:n", "x", true, 0, "/a.slice/a-b.slice/a-b-c.slice/p-n.scope");
	check_resolve("-.slice:p:n", "x", true, 0, "/p-n.scope");
	check_resolve("user.slice::n", "x", true, 0, "/user.slice/n.scope");
	check_resolve("user.slice:p:sub.slice", "x", true, 0, "/user.slice/sub.slice");
	check_resolve("bad:p:n", "x", true, -EINVAL, NULL);
	check_resolve("a--b.slice:p:n", "x", true, -EINVAL, NULL);
	check_resolve("a-.slice:p:n", "x", true, -EINVAL, NULL);
	check_resolve("-a.slice:p:n", "x", true, -EINVAL, NULL);
	check_resolve("a/b.slice:p:n", "x", true, -EINVAL, NULL);
	check_resolve("system.slice:p", "x", true, -EINVAL, NULL);
	check_resolve("system.slice:p:n:m", "x", true, -EINVAL, NULL);
	check_resolve("system.slice:p:", "x", true, -EINVAL, NULL);
	check_resolve("system.slice:p:../../x", "x", true, -EINVAL, NULL);
	check_resolve("system.slice:../..:x", "x", true, -EINVAL, NULL);
	check_resolve("system.slice:p:..", "x", true, -EINVAL, NULL);
}

/* ---- v1 ------------------------------------------------------------------------- */

static struct oci_resources *full_resources(void)
{
	struct oci_resources *r = xnew0(struct oci_resources, 1);

	r->memory.limit = (struct opt_i64){true, 64 << 20};
	r->memory.swap = (struct opt_i64){true, 128 << 20};
	r->memory.reservation = (struct opt_i64){true, 32 << 20};
	r->memory.swappiness = (struct opt_u64){true, 10};
	r->memory.kernel = (struct opt_i64){true, 1 << 20};
	r->memory.disable_oom_killer = true;
	r->cpu.shares = (struct opt_u64){true, 512};
	r->cpu.quota = (struct opt_i64){true, 50000};
	r->cpu.period = (struct opt_u64){true, 100000};
	r->cpu.cpus = xstrdup("0-1");
	r->cpu.mems = xstrdup("0");
	r->pids.limit = (struct opt_i64){true, 100};
	r->block_io.weight = (struct opt_u64){true, 500};
	r->block_io.n_weight_device = 1;
	r->block_io.weight_device = xnew0(struct oci_weight_device, 1);
	r->block_io.weight_device[0] = (struct oci_weight_device){8, 0, {true, 300}, {false, 0}};
	r->block_io.n_throttle_read_bps = 1;
	r->block_io.throttle_read_bps = xnew0(struct oci_throttle_device, 1);
	r->block_io.throttle_read_bps[0] = (struct oci_throttle_device){8, 0, 1048576};
	r->block_io.n_throttle_write_iops = 2;
	r->block_io.throttle_write_iops = xnew0(struct oci_throttle_device, 2);
	r->block_io.throttle_write_iops[0] = (struct oci_throttle_device){8, 0, 100};
	r->block_io.throttle_write_iops[1] = (struct oci_throttle_device){8, 16, 200};
	r->n_hugepage_limits = 1;
	r->hugepage_limits = xnew0(struct oci_hugepage_limit, 1);
	r->hugepage_limits[0] = (struct oci_hugepage_limit){xstrdup("2MB"), 4 << 20};
	r->n_devices = 3;
	r->devices = xnew0(struct oci_device_cgroup, 3);
	r->devices[0] =
	    (struct oci_device_cgroup){false, NULL, {false, 0}, {false, 0}, xstrdup("rwm")};
	r->devices[1] =
	    (struct oci_device_cgroup){true, xstrdup("c"), {true, 1}, {true, 3}, xstrdup("rwm")};
	r->devices[2] =
	    (struct oci_device_cgroup){true, xstrdup("b"), {true, -1}, {false, 0}, xstrdup("m")};
	return r;
}

static void free_resources(struct oci_resources *r)
{
	if (!r)
		return;
	free(r->cpu.cpus);
	free(r->cpu.mems);
	free(r->block_io.weight_device);
	free(r->block_io.throttle_read_bps);
	free(r->block_io.throttle_write_iops);
	for (size_t i = 0; i < r->n_hugepage_limits; i++)
		free(r->hugepage_limits[i].page_size);
	free(r->hugepage_limits);
	for (size_t i = 0; i < r->n_devices; i++) {
		free(r->devices[i].type);
		free(r->devices[i].access);
	}
	free(r->devices);
	kv_list_release(&r->unified);
	free(r);
}
static void free_resourcesp(struct oci_resources **r)
{
	free_resources(*r);
}
#define _cleanup_res_ _cleanup_(free_resourcesp)

static void test_v1_create_and_resources(void)
{
	_cleanup_tmp_ char *root = fake_v1(true);
	_cleanup_res_ struct oci_resources *res = full_resources();
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	_cleanup_error_ struct error *err = NULL;

	trace_reset();
	CHECK_INT(cgroup_create(root, "/berth/x", res, &cg, &err), 0);
	if (err)
		fprintf(stderr, "  %s\n", err->msg);
	if (!cg)
		return;
	CHECK_INT(cg->mode, CGROUP_MODE_V1);
	CHECK(cg->fake);

	/* every hierarchy, co-mounted cpu,cpuacct once, none through the alias symlinks */
	CHECK(exists(root, "cpu,cpuacct/berth/x"));
	CHECK(exists(root, "systemd/berth/x"));
	CHECK(exists(root, "hugetlb/berth/x"));
	CHECK(exists(root, "pids/berth/x/pids.max"));

	/* cpuset: parent values copied at each new level, then the spec's */
	CHECK(traced("cpuset/berth/cpuset.cpus=0-3"));
	CHECK(traced("cpuset/berth/cpuset.mems=0"));
	CHECK(traced("cpuset/berth/x/cpuset.cpus=0-3"));
	CHECK(trace_index("cpuset/berth/x/cpuset.cpus=0-3") <
	      trace_index("cpuset/berth/x/cpuset.cpus=0-1"));
	CHECK_FILE(root, "cpuset/berth/x/cpuset.cpus", "0-1");
	CHECK_FILE(root, "cpuset/berth/x/cpuset.mems", "0");

	/* memory: limit first (current limit is above the new swap), then memsw */
	CHECK(trace_index("memory/berth/x/memory.limit_in_bytes=67108864") <
	      trace_index("memory/berth/x/memory.memsw.limit_in_bytes=134217728"));
	CHECK(trace_index("memory/berth/x/memory.limit_in_bytes=67108864") >= 0);
	CHECK_FILE(root, "memory/berth/x/memory.soft_limit_in_bytes", "33554432");
	CHECK_FILE(root, "memory/berth/x/memory.swappiness", "10");
	CHECK_FILE(root, "memory/berth/x/memory.oom_control", "1");
	CHECK_INT(trace_count_prefix("memory/berth/x/memory.kmem"), 0);

	CHECK_FILE(root, "cpu,cpuacct/berth/x/cpu.shares", "512");
	CHECK_FILE(root, "cpu,cpuacct/berth/x/cpu.cfs_quota_us", "50000");
	CHECK_FILE(root, "cpu,cpuacct/berth/x/cpu.cfs_period_us", "100000");
	CHECK_INT(trace_count_prefix("cpu,cpuacct/berth/x/cpu.rt_"), 0);
	CHECK_FILE(root, "pids/berth/x/pids.max", "100");

	CHECK_FILE(root, "blkio/berth/x/blkio.weight", "500");
	CHECK_FILE(root, "blkio/berth/x/blkio.weight_device", "8:0 300");
	CHECK_FILE(root, "blkio/berth/x/blkio.throttle.read_bps_device", "8:0 1048576");
	CHECK(traced("blkio/berth/x/blkio.throttle.write_iops_device=8:0 100"));
	CHECK(traced("blkio/berth/x/blkio.throttle.write_iops_device=8:16 200"));
	CHECK_FILE(root, "hugetlb/berth/x/hugetlb.2MB.limit_in_bytes", "4194304");

	/* devices: reset to deny-all, then the rules in order */
	{
		int a = trace_index("devices/berth/x/devices.deny=a");
		int b = trace_index("devices/berth/x/devices.deny=a") + 1;
		CHECK(a >= 0);
		CHECK(trace && (size_t)b < strv_length(trace) &&
		      streq(trace[b], "devices/berth/x/devices.deny=a"));
		CHECK(trace && (size_t)b + 2 < strv_length(trace) &&
		      streq(trace[b + 1], "devices/berth/x/devices.allow=c 1:3 rwm") &&
		      streq(trace[b + 2], "devices/berth/x/devices.allow=b *:* m"));
	}

	/* update: the swap limit grows past the current limit, so memsw goes first */
	trace_reset();
	{
		struct oci_resources upd = {};
		upd.memory.limit = (struct opt_i64){true, 256 << 20};
		upd.memory.swap = (struct opt_i64){true, 512 << 20};
		CHECK_INT(cgroup_apply(cg, &upd, &err), 0);
		CHECK_INT(strv_length(trace), 2);
		CHECK(traced("memory/berth/x/memory.memsw.limit_in_bytes=536870912"));
		CHECK(trace_index("memory/berth/x/memory.memsw.limit_in_bytes=536870912") <
		      trace_index("memory/berth/x/memory.limit_in_bytes=268435456"));
		/* -1 alone: unlimited, swap too, memsw first */
		trace_reset();
		upd.memory.limit = (struct opt_i64){true, -1};
		upd.memory.swap = (struct opt_i64){false, 0};
		CHECK_INT(cgroup_apply(cg, &upd, &err), 0);
		CHECK(trace && strv_length(trace) == 2 &&
		      streq(trace[0], "memory/berth/x/memory.memsw.limit_in_bytes=-1") &&
		      streq(trace[1], "memory/berth/x/memory.limit_in_bytes=-1"));
		/* pids 0 and -1 mean unlimited */
		trace_reset();
		upd = (struct oci_resources){};
		upd.pids.limit = (struct opt_i64){true, 0};
		CHECK_INT(cgroup_apply(cg, &upd, &err), 0);
		CHECK_FILE(root, "pids/berth/x/pids.max", "max");
	}

	/* enter writes the pid everywhere, including the named systemd hierarchy */
	trace_reset();
	CHECK_INT(cgroup_enter(cg, 4242, &err), 0);
	CHECK_INT(trace_count_prefix(""), 8 + 1);
	CHECK_FILE(root, "systemd/berth/x/cgroup.procs", "4242");
	CHECK_FILE(root, "cpu,cpuacct/berth/x/cgroup.procs", "4242");

	/* freezer: written and read back */
	CHECK_INT(cgroup_freeze(cg, true, &err), 0);
	CHECK_FILE(root, "freezer/berth/x/freezer.state", "FROZEN");
	CHECK_INT(cgroup_is_frozen(cg), 1);
	CHECK_INT(cgroup_freeze(cg, false, &err), 0);
	CHECK_INT(cgroup_is_frozen(cg), 0);

	/* destroy: every hierarchy, leaving the parents the caller owns */
	put(root, "memory/berth/x/child/cgroup.procs", "");
	CHECK_INT(cgroup_destroy(cg), 0);
	CHECK(!exists(root, "memory/berth/x"));
	CHECK(!exists(root, "cpu,cpuacct/berth/x"));
	CHECK(!exists(root, "hugetlb/berth/x"));
	CHECK(exists(root, "memory/berth"));
	CHECK_INT(cgroup_destroy(cg), 0); /* ENOENT is fine */
	if (test_failures_)
		dump_trace();
}

static void test_v1_validation(void)
{
	_cleanup_tmp_ char *root = fake_v1(false);
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	struct oci_resources r = {};
	struct error *err = NULL;

	CHECK_INT(cgroup_create(root, "/berth/v", NULL, &cg, &err), 0);
	if (!cg)
		return;
	trace_reset();

	r.cpu.shares = (struct opt_u64){true, 1};
	CHECK_INT(cgroup_apply(cg, &r, &err), -EINVAL);
	CHECK(err && strstr(err->msg, "cpu shares 1"));
	error_free(err), err = NULL;

	r = (struct oci_resources){};
	r.memory.limit = (struct opt_i64){true, -5};
	CHECK_INT(cgroup_apply(cg, &r, &err), -EINVAL);
	CHECK(err && strstr(err->msg, "memory limit -5"));
	error_free(err), err = NULL;

	r.memory.limit = (struct opt_i64){true, 64 << 20};
	r.memory.swap = (struct opt_i64){true, 32 << 20};
	CHECK_INT(cgroup_apply(cg, &r, &err), -EINVAL);
	CHECK(err && strstr(err->msg, "memory+swap"));
	error_free(err), err = NULL;

	r = (struct oci_resources){};
	r.cpu.quota = (struct opt_i64){true, 500};
	CHECK_INT(cgroup_apply(cg, &r, &err), -EINVAL);
	CHECK(err && strstr(err->msg, "cpu quota 500"));
	error_free(err), err = NULL;

	r = (struct oci_resources){};
	r.block_io.weight = (struct opt_u64){true, 5};
	CHECK_INT(cgroup_apply(cg, &r, &err), -EINVAL);
	error_free(err), err = NULL;

	/* no hugetlb hierarchy here */
	r = (struct oci_resources){};
	struct oci_hugepage_limit hl = {(char *)"2MB", 1};
	r.hugepage_limits = &hl;
	r.n_hugepage_limits = 1;
	CHECK_INT(cgroup_apply(cg, &r, &err), -EOPNOTSUPP);
	CHECK(err && strstr(err->msg, "hugetlb"));
	error_free(err), err = NULL;

	/* unified is v2 only */
	r = (struct oci_resources){};
	struct kv kv = {(char *)"memory.high", (char *)"1"};
	r.unified = (struct kv_list){&kv, 1};
	CHECK_INT(cgroup_apply(cg, &r, &err), -EOPNOTSUPP);
	error_free(err), err = NULL;

	/* swap without memsw accounting: only "same as limit" or -1 pass */
	{
		_cleanup_free_ char *p =
		    xasprintf("%s/memory/berth/v/memory.memsw.limit_in_bytes", root);
		unlink(p);
	}
	r = (struct oci_resources){};
	r.memory.limit = (struct opt_i64){true, 64 << 20};
	r.memory.swap = (struct opt_i64){true, 64 << 20};
	CHECK_INT(cgroup_apply(cg, &r, &err), 0);
	r.memory.swap = (struct opt_i64){true, 128 << 20};
	CHECK_INT(cgroup_apply(cg, &r, &err), -EOPNOTSUPP);
	CHECK(err && strstr(err->msg, "memory.memsw.limit_in_bytes"));
	error_free(err), err = NULL;

	/* a write the "kernel" refuses names the file and the directory */
	{
		_cleanup_free_ char *p = xasprintf("%s/pids/berth/v/pids.max", root);
		unlink(p);
	}
	r = (struct oci_resources){};
	r.pids.limit = (struct opt_i64){true, 5};
	CHECK_INT(cgroup_apply(cg, &r, &err), -ENOENT);
	CHECK(err && strstr(err->msg, "write 'pids.max' in '") &&
	      strstr(err->msg, "/pids/berth/v': No such file or directory"));
	error_free(err), err = NULL;

	/* no write happened for the refused values */
	CHECK_INT(trace_count_prefix("cpu"), 0);
	CHECK_INT(cgroup_destroy(cg), 0);
}

static void test_v1_create_failure_cleans_up(void)
{
	_cleanup_tmp_ char *root = fake_v1(true);
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	_cleanup_error_ struct error *err = NULL;
	struct oci_resources r = {};
	struct oci_hugepage_limit hl = {(char *)"1GB", 1};

	/* "berth" exists already (someone else's): only what create made goes */
	put(root, "memory/berth/other/cgroup.procs", "");
	put(root, "memory/berth/memory.limit_in_bytes", "9223372036854771712\n");
	r.memory.limit = (struct opt_i64){true, 1 << 20};
	r.hugepage_limits = &hl;
	r.n_hugepage_limits = 1;
	CHECK_INT(cgroup_create(root, "/berth/y/z", &r, &cg, &err), -EINVAL);
	CHECK(cg == NULL);
	CHECK(err && strstr(err->msg, "create cgroup '/berth/y/z'") && strstr(err->msg, "1GB"));
	CHECK(!exists(root, "memory/berth/y"));
	CHECK(exists(root, "memory/berth/other"));
	CHECK(!exists(root, "cpu,cpuacct/berth"));
	CHECK(!exists(root, "hugetlb/berth"));
	CHECK(!exists(root, "systemd/berth"));

	/* bad paths never touch the tree */
	error_free(TAKE_PTR(err));
	CHECK_INT(cgroup_create(root, "/a/../../etc", NULL, &cg, &err), -EINVAL);
	CHECK_INT(cgroup_create(root, "relative", NULL, &cg, &err), -EINVAL);
	CHECK_INT(cgroup_create(root, "/", NULL, &cg, &err), -EINVAL);
}

static void test_v1_kill_freezes(void)
{
	_cleanup_tmp_ char *root = fake_v1(false);
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	pid_t child;
	int status = 0;
	char buf[32];

	CHECK_INT(cgroup_create(root, "/k", NULL, &cg, &err), 0);
	if (!cg)
		return;
	child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	snprintf(buf, sizeof(buf), "%d\n", (int)child);
	put(root, "pids/k/cgroup.procs", buf);
	put(root, "pids/k/sub/cgroup.procs", "");
	CHECK_INT(cgroup_pids(cg, &pids, &n), 0);
	CHECK(n == 1 && pids && pids[0] == child);

	trace_reset();
	CHECK_INT(cgroup_kill(cg, SIGKILL), 0);
	CHECK(trace && strv_length(trace) == 2 &&
	      streq(trace[0], "freezer/k/freezer.state=FROZEN") &&
	      streq(trace[1], "freezer/k/freezer.state=THAWED"));
	CHECK(waitpid(child, &status, 0) == child);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	put(root, "pids/k/cgroup.procs", "");
	CHECK_INT(cgroup_destroy(cg), 0);
	CHECK(!exists(root, "pids/k"));
}

static void test_v1_stats(void)
{
	_cleanup_tmp_ char *root = fake_v1(false);
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *st = NULL;
	json_object *o;
	long tck = sysconf(_SC_CLK_TCK);

	CHECK_INT(cgroup_create(root, "/s", NULL, &cg, &err), 0);
	if (!cg)
		return;
	CHECK_INT(cgroup_stats(cg, &st), 0);
	if (!st)
		goto out;
	CHECK(json_object_object_get_ex(st, "cpu", &o));
	CHECK(json_object_object_get_ex(o, "usage", &o));
	CHECK(json_object_get_uint64(json_object_object_get(o, "total")) == 5000000000ULL);
	CHECK(json_object_array_length(json_object_object_get(o, "percpu")) == 2);
	CHECK(json_object_get_uint64(json_object_object_get(o, "user")) ==
	      300ULL * 1000000000ULL / (uint64_t)tck);
	o = json_object_object_get(json_object_object_get(st, "cpu"), "throttling");
	CHECK(json_object_get_uint64(json_object_object_get(o, "throttledPeriods")) == 2);
	o = json_object_object_get(st, "memory");
	CHECK(json_object_get_uint64(json_object_object_get(o, "cache")) == 4096);
	CHECK(json_object_get_uint64(
		  json_object_object_get(json_object_object_get(o, "usage"), "max")) == 2097152);
	CHECK(json_object_get_uint64(
		  json_object_object_get(json_object_object_get(o, "raw"), "rss")) == 8192);
	o = json_object_object_get(st, "pids");
	CHECK(json_object_get_uint64(json_object_object_get(o, "current")) == 3);
	CHECK(json_object_get_uint64(json_object_object_get(o, "limit")) == 0);
	o = json_object_object_get(json_object_object_get(st, "blkio"), "ioServiceBytesRecursive");
	CHECK(json_object_array_length(o) == 2);
out:
	CHECK_INT(cgroup_destroy(cg), 0);
}

/* ---- v2 ------------------------------------------------------------------------- */

static void test_v2_create_and_resources(void)
{
	_cleanup_tmp_ char *root = fake_v2();
	_cleanup_res_ struct oci_resources *res = full_resources();
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	_cleanup_error_ struct error *err = NULL;
	int fd;

	res->unified.items = xnew0(struct kv, 2);
	res->unified.items[0] = (struct kv){xstrdup("memory.high"), xstrdup("50000000")};
	res->unified.items[1] = (struct kv){xstrdup("cgroup.max.depth"), xstrdup("3")};
	res->unified.n = 2;
	res->memory.swappiness = (struct opt_u64){false, 0};

	trace_reset();
	CHECK_INT(cgroup_create(root, "/berth/x", res, &cg, &err), 0);
	if (err)
		fprintf(stderr, "  %s\n", err->msg);
	if (!cg)
		return;
	CHECK_INT(cg->mode, CGROUP_MODE_V2);

	/* controllers enabled in every ancestor, not in the leaf; rdma not wanted */
	CHECK_FILE(root, "cgroup.subtree_control", "+cpuset +cpu +io +memory +hugetlb +pids");
	CHECK_FILE(root, "berth/cgroup.subtree_control", "+cpuset +cpu +io +memory +hugetlb +pids");
	CHECK_FILE(root, "berth/x/cgroup.subtree_control", "");
	CHECK_INT(trace_index("cgroup.subtree_control=+cpuset +cpu +io +memory +hugetlb +pids"), 0);

	CHECK_FILE(root, "berth/x/memory.max", "67108864");
	CHECK_FILE(root, "berth/x/memory.swap.max", "67108864");
	CHECK_FILE(root, "berth/x/memory.low", "33554432");
	CHECK_FILE(root, "berth/x/cpu.weight", "20");
	CHECK_FILE(root, "berth/x/cpu.max", "50000 100000");
	CHECK_FILE(root, "berth/x/cpuset.cpus", "0-1");
	CHECK_FILE(root, "berth/x/cpuset.mems", "0");
	CHECK_FILE(root, "berth/x/pids.max", "100");
	CHECK(traced("berth/x/io.weight=4950"));
	CHECK(traced("berth/x/io.weight=8:0 2930"));
	CHECK(traced("berth/x/io.max=8:0 rbps=1048576 wiops=100"));
	CHECK(traced("berth/x/io.max=8:16 wiops=200"));
	CHECK_FILE(root, "berth/x/hugetlb.2MB.max", "4194304");
	CHECK_FILE(root, "berth/x/cgroup.max.depth", "3");
	/* unified comes last */
	CHECK(trace && streq(trace[strv_length(trace) - 2], "berth/x/memory.high=50000000"));
	CHECK_INT(trace_count_prefix("berth/x/memory.swappiness"), 0);

	/* cpu shares at the ends of the range, quota alone */
	{
		struct oci_resources u = {};
		u.cpu.shares = (struct opt_u64){true, 2};
		CHECK_INT(cgroup_apply(cg, &u, &err), 0);
		CHECK_FILE(root, "berth/x/cpu.weight", "1");
		u.cpu.shares = (struct opt_u64){true, 262144};
		CHECK_INT(cgroup_apply(cg, &u, &err), 0);
		CHECK_FILE(root, "berth/x/cpu.weight", "10000");
		u.cpu.shares = (struct opt_u64){true, 1024};
		CHECK_INT(cgroup_apply(cg, &u, &err), 0);
		CHECK_FILE(root, "berth/x/cpu.weight", "39");
		u = (struct oci_resources){};
		u.cpu.quota = (struct opt_i64){true, -1};
		u.cpu.period = (struct opt_u64){true, 50000};
		CHECK_INT(cgroup_apply(cg, &u, &err), 0);
		CHECK_FILE(root, "berth/x/cpu.max", "max 50000");
		u = (struct oci_resources){};
		u.memory.limit = (struct opt_i64){true, -1};
		CHECK_INT(cgroup_apply(cg, &u, &err), 0);
		CHECK_FILE(root, "berth/x/memory.max", "max");
		CHECK_FILE(root, "berth/x/memory.swap.max", "max");
		/* swap == limit: no swap */
		u.memory.limit = (struct opt_i64){true, 1 << 20};
		u.memory.swap = (struct opt_i64){true, 1 << 20};
		CHECK_INT(cgroup_apply(cg, &u, &err), 0);
		CHECK_FILE(root, "berth/x/memory.swap.max", "0");
		/* swap without a memory limit */
		u.memory.limit = (struct opt_i64){false, 0};
		CHECK_INT(cgroup_apply(cg, &u, &err), -EINVAL);
		CHECK(err && strstr(err->msg, "without memory limit"));
		error_free(TAKE_PTR(err));
		/* realtime is v1 only */
		u = (struct oci_resources){};
		u.cpu.realtime_runtime = (struct opt_i64){true, 1000};
		CHECK_INT(cgroup_apply(cg, &u, &err), -EOPNOTSUPP);
		error_free(TAKE_PTR(err));
		/* below the current usage */
		put(root, "berth/x/memory.current", "104857600\n");
		u = (struct oci_resources){};
		u.memory.limit = (struct opt_i64){true, 64 << 20};
		CHECK_INT(cgroup_apply(cg, &u, &err), -EBUSY);
		CHECK(err && strstr(err->msg, "current usage: 104857600"));
		error_free(TAKE_PTR(err));
	}

	/* the v2 fd for CLONE_INTO_CGROUP */
	fd = cgroup_open_v2_fd(cg);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
		close(fd);
	}

	/* enter: only the one hierarchy */
	trace_reset();
	CHECK_INT(cgroup_enter(cg, 77, &err), 0);
	CHECK(trace && strv_length(trace) == 1 && streq(trace[0], "berth/x/cgroup.procs=77"));

	/* freeze: cgroup.freeze, then wait for cgroup.events to say so */
	put(root, "berth/x/cgroup.events", "populated 1\nfrozen 1\n");
	CHECK_INT(cgroup_freeze(cg, true, &err), 0);
	CHECK_FILE(root, "berth/x/cgroup.freeze", "1");
	CHECK_INT(cgroup_is_frozen(cg), 1);
	put(root, "berth/x/cgroup.events", "populated 1\nfrozen 0\n");
	CHECK_INT(cgroup_freeze(cg, false, &err), 0);
	CHECK_FILE(root, "berth/x/cgroup.freeze", "0");
	CHECK_INT(cgroup_is_frozen(cg), 0);

	/* SIGKILL through cgroup.kill */
	trace_reset();
	CHECK_INT(cgroup_kill(cg, SIGKILL), 0);
	CHECK(trace && strv_length(trace) == 1 && streq(trace[0], "berth/x/cgroup.kill=1"));

	CHECK_INT(cgroup_destroy(cg), 0);
	CHECK(!exists(root, "berth/x"));
	CHECK(exists(root, "berth"));
	if (test_failures_)
		dump_trace();
}

static void test_v2_freeze_timeout(void)
{
	_cleanup_tmp_ char *root = fake_v2();
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	_cleanup_error_ struct error *err = NULL;
	uint64_t t0;

	CHECK_INT(cgroup_create(root, "/f", NULL, &cg, &err), 0);
	if (!cg)
		return;
	/* cgroup.events never says frozen: give up after ~2 s, and undo */
	t0 = now_usec(CLOCK_MONOTONIC);
	CHECK_INT(cgroup_freeze(cg, true, &err), -ETIMEDOUT);
	CHECK(now_usec(CLOCK_MONOTONIC) - t0 < 3000000);
	CHECK_FILE(root, "f/cgroup.freeze", "0");
	CHECK(err && strstr(err->msg, "cgroup.events"));
	CHECK_INT(cgroup_destroy(cg), 0);
}

static void test_v2_unified_rejects(void)
{
	static const char *const bad[] = {"../x",
					  "a/b",
					  "cgroup.procs",
					  "cgroup.threads",
					  "cgroup.subtree_control",
					  "cgroup.kill",
					  "cgroup.freeze",
					  "nodot",
					  "",
					  "..",
					  ".hidden"};
	_cleanup_tmp_ char *root = fake_v2();
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	_cleanup_error_ struct error *err = NULL;

	CHECK_INT(cgroup_create(root, "/u", NULL, &cg, &err), 0);
	if (!cg)
		return;
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		struct kv kv[2] = {{(char *)"memory.high", (char *)"1"},
				   {(char *)bad[i], (char *)"1"}};
		struct oci_resources r = {};
		r.unified = (struct kv_list){kv, 2};
		trace_reset();
		CHECK_INT(cgroup_apply(cg, &r, &err), -EINVAL);
		CHECK(err && strstr(err->msg, "unified key"));
		CHECK(trace == NULL); /* nothing written, not even the good key */
		error_free(TAKE_PTR(err));
	}
	CHECK_INT(cgroup_destroy(cg), 0);
}

static void test_v2_create_failure_cleans_up(void)
{
	_cleanup_tmp_ char *root = fake_v2();
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	_cleanup_error_ struct error *err = NULL;
	struct oci_resources r = {};

	r.cpu.shares = (struct opt_u64){true, 1};
	CHECK_INT(cgroup_create(root, "/a/b/c", &r, &cg, &err), -EINVAL);
	CHECK(!cg);
	CHECK(!exists(root, "a"));
	error_free(TAKE_PTR(err));

	/* a write failing midway: no io.max file for the throttle */
	{
		_cleanup_free_ char *p = xasprintf("%s/io.max", root);
		unlink(p);
	}
	r = (struct oci_resources){};
	struct oci_throttle_device td = {8, 0, 1};
	r.memory.limit = (struct opt_i64){true, 1 << 20};
	r.block_io.throttle_read_bps = &td;
	r.block_io.n_throttle_read_bps = 1;
	CHECK_INT(cgroup_create(root, "/a/b", &r, &cg, &err), -ENOENT);
	CHECK(err && strstr(err->msg, "write 'io.max' in '"));
	CHECK(!exists(root, "a"));
}

static void test_v2_stats(void)
{
	_cleanup_tmp_ char *root = fake_v2();
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *st = NULL;
	json_object *o;

	CHECK_INT(cgroup_create(root, "/s", NULL, &cg, &err), 0);
	if (!cg)
		return;
	CHECK_INT(cgroup_stats(cg, &st), 0);
	if (st) {
		o = json_object_object_get(json_object_object_get(st, "cpu"), "usage");
		CHECK(json_object_get_uint64(json_object_object_get(o, "total")) == 10000);
		CHECK(json_object_get_uint64(json_object_object_get(o, "kernel")) == 4000);
		o = json_object_object_get(st, "memory");
		CHECK(json_object_get_uint64(json_object_object_get(o, "cache")) == 200);
		o = json_object_object_get(o, "usage");
		CHECK(json_object_get_uint64(json_object_object_get(o, "limit")) == UINT64_MAX);
		CHECK(json_object_get_uint64(json_object_object_get(o, "failcnt")) == 7);
		o = json_object_object_get(st, "pids");
		CHECK(json_object_get_uint64(json_object_object_get(o, "current")) == 2);
		o = json_object_object_get(json_object_object_get(st, "blkio"),
					   "ioServicedRecursive");
		CHECK(json_object_array_length(o) == 2);
	}
	CHECK_INT(cgroup_destroy(cg), 0);
}

/* ---- hybrid --------------------------------------------------------------------- */

static void test_hybrid(void)
{
	_cleanup_tmp_ char *root = fake_hybrid();
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	_cleanup_error_ struct error *err = NULL;
	struct oci_resources r = {};
	struct oci_hugepage_limit hl = {(char *)"2MB", 2 << 20};
	struct kv kv = {(char *)"memory.pressure", (char *)"x"};

	r.hugepage_limits = &hl;
	r.n_hugepage_limits = 1;
	r.pids.limit = (struct opt_i64){true, 10};
	r.unified = (struct kv_list){&kv, 1};
	trace_reset();
	CHECK_INT(cgroup_create(root, "/berth/h", &r, &cg, &err), 0);
	if (err)
		fprintf(stderr, "  %s\n", err->msg);
	if (!cg)
		return;
	CHECK_INT(cg->mode, CGROUP_MODE_HYBRID);
	CHECK(exists(root, "memory/berth/h"));
	CHECK(exists(root, "unified/berth/h"));
	CHECK_FILE(root, "unified/cgroup.subtree_control", "+hugetlb");
	CHECK_FILE(root, "unified/berth/cgroup.subtree_control", "+hugetlb");
	CHECK_FILE(root, "unified/berth/h/hugetlb.2MB.max", "2097152");
	CHECK_FILE(root, "pids/berth/h/pids.max", "10");
	CHECK_FILE(root, "unified/berth/h/memory.pressure", "x");
	CHECK_INT(cgroup_open_v2_fd(cg), -EOPNOTSUPP);

	trace_reset();
	CHECK_INT(cgroup_enter(cg, 99, &err), 0);
	CHECK_FILE(root, "unified/berth/h/cgroup.procs", "99");
	CHECK_FILE(root, "freezer/berth/h/cgroup.procs", "99");
	CHECK_INT(strv_length(trace), 9);

	/* the freezer is v1's here */
	CHECK_INT(cgroup_freeze(cg, true, &err), 0);
	CHECK_FILE(root, "freezer/berth/h/freezer.state", "FROZEN");
	CHECK_FILE(root, "unified/berth/h/cgroup.freeze", "0");
	CHECK_INT(cgroup_freeze(cg, false, &err), 0);

	CHECK_INT(cgroup_destroy(cg), 0);
	CHECK(!exists(root, "unified/berth/h"));
	CHECK(!exists(root, "memory/berth/h"));
}

/* ---- device filter -------------------------------------------------------------- */

/* Run a generated program the way the kernel would on one request. */
static int bpf_run(const struct bpf_insn *p, size_t n, int type, int access, uint32_t major,
		   uint32_t minor, bool *ok)
{
	uint32_t ctx[3] = {(uint32_t)type | ((uint32_t)access << 16), major, minor};
	uint64_t reg[11] = {0};
	size_t pc = 0, steps = 0;

	reg[1] = (uint64_t)(uintptr_t)ctx;
	*ok = false;
	while (pc < n && steps++ < 10000) {
		const struct bpf_insn *i = &p[pc++];
		uint8_t cls = BPF_CLASS(i->code), op = BPF_OP(i->code);
		uint64_t src =
		    BPF_SRC(i->code) == BPF_X ? reg[i->src_reg] : (uint64_t)(int64_t)i->imm;

		if (i->code == (BPF_LDX | BPF_MEM | BPF_W)) {
			if (reg[i->src_reg] != (uint64_t)(uintptr_t)ctx || i->off < 0 ||
			    i->off > 8 || i->off % 4)
				return -1;
			reg[i->dst_reg] = ctx[i->off / 4];
		} else if (cls == BPF_ALU) {
			uint32_t d = (uint32_t)reg[i->dst_reg], s = (uint32_t)src;
			switch (op) {
			case BPF_MOV:
				d = s;
				break;
			case BPF_AND:
				d &= s;
				break;
			case BPF_RSH:
				d >>= s;
				break;
			default:
				return -1;
			}
			reg[i->dst_reg] = d;
		} else if (cls == BPF_JMP && op == BPF_EXIT) {
			*ok = true;
			return (int)reg[0];
		} else if (cls == BPF_JMP) {
			bool jump;
			switch (op) {
			case BPF_JNE:
				jump = reg[i->dst_reg] != src;
				break;
			case BPF_JEQ:
				jump = reg[i->dst_reg] == src;
				break;
			default:
				return -1;
			}
			if (jump)
				pc += (size_t)i->off;
		} else {
			return -1;
		}
	}
	return -1;
}

#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD
#define C BPF_DEVCG_DEV_CHAR
#define B BPF_DEVCG_DEV_BLOCK

static int verdict(const struct bpf_insn *p, size_t n, int type, int acc, uint32_t ma, uint32_t mi)
{
	bool ok;
	int v = bpf_run(p, n, type, acc, ma, mi, &ok);
	return ok ? v : -1;
}

static void check_structure(const struct bpf_insn *p, size_t n)
{
	CHECK(n > 0 && p[n - 1].code == (BPF_JMP | BPF_EXIT));
	for (size_t i = 0; i < n; i++)
		if (BPF_CLASS(p[i].code) == BPF_JMP && BPF_OP(p[i].code) != BPF_EXIT)
			CHECK(p[i].off >= 0 && i + 1 + (size_t)p[i].off < n);
}

static void test_device_bpf(void)
{
	struct oci_device_cgroup rules[] = {
	    {false, (char *)"a", {false, 0}, {false, 0}, (char *)"rwm"},
	    {true, (char *)"c", {true, 1}, {true, 3}, (char *)"rwm"},
	    {true, (char *)"c", {true, 1}, {true, 5}, NULL},
	    {true, (char *)"c", {false, 0}, {false, 0}, (char *)"m"},
	    {true, (char *)"b", {true, -1}, {true, -1}, (char *)"m"},
	    {true, (char *)"c", {true, 136}, {false, 0}, (char *)"rw"},
	    {false, (char *)"c", {true, 1}, {true, 5}, (char *)"w"},
	};
	_cleanup_free_ struct bpf_insn *p = NULL;
	_cleanup_error_ struct error *err = NULL;
	size_t n = 0;

	CHECK_INT(cgroup_devices_bpf_generate(rules, ELEMENTSOF(rules), &p, &n, &err), 0);
	if (!p)
		return;
	check_structure(p, n);
	/* the leading "deny a" is unconditional: it ends the program, no default block */
	CHECK(n >= 2 && p[n - 2].code == (BPF_ALU | BPF_MOV | BPF_K) && p[n - 2].imm == 0);
	CHECK_INT(verdict(p, n, C, R | W, 1, 3), 1);
	CHECK_INT(verdict(p, n, C, R, 1, 5), 1);
	CHECK_INT(verdict(p, n, C, W, 1, 5), 0);     /* last matching rule: deny w */
	CHECK_INT(verdict(p, n, C, R | W, 1, 5), 0); /* asks for a denied bit */
	CHECK_INT(verdict(p, n, C, M, 4, 1), 1);     /* mknod any char */
	CHECK_INT(verdict(p, n, C, R, 4, 1), 0);
	CHECK_INT(verdict(p, n, B, M, 8, 0), 1);
	CHECK_INT(verdict(p, n, B, R, 8, 0), 0);
	CHECK_INT(verdict(p, n, C, R | W, 136, 7), 1); /* any minor */
	CHECK_INT(verdict(p, n, C, R | W | M, 136, 7), 0);
	CHECK_INT(verdict(p, n, C, R, 1, 4), 0);
	free(TAKE_PTR(p));

	/* no rules: deny everything */
	CHECK_INT(cgroup_devices_bpf_generate(NULL, 0, &p, &n, &err), 0);
	CHECK_INT(n, 8);
	if (p) {
		check_structure(p, n);
		CHECK_INT(verdict(p, n, C, R, 1, 3), 0);
	}
	free(TAKE_PTR(p));

	/* "allow a" last: everything, and the rules before it are dropped */
	{
		struct oci_device_cgroup r2[] = {
		    {false, (char *)"c", {true, 1}, {true, 3}, (char *)"rwm"},
		    {true, NULL, {false, 0}, {false, 0}, NULL},
		};
		CHECK_INT(cgroup_devices_bpf_generate(r2, 2, &p, &n, &err), 0);
		CHECK_INT(n, 8);
		if (p) {
			CHECK_INT(verdict(p, n, C, R, 1, 3), 1);
			CHECK_INT(verdict(p, n, B, M, 8, 1), 1);
		}
		free(TAKE_PTR(p));
	}

	/* bad rules name the rule */
	{
		struct oci_device_cgroup bad[] = {
		    {true, (char *)"x", {false, 0}, {false, 0}, NULL}};
		CHECK_INT(cgroup_devices_bpf_generate(bad, 1, &p, &n, &err), -EINVAL);
		CHECK(err && strstr(err->msg, "rule 0") && strstr(err->msg, "'x'"));
		error_free(TAKE_PTR(err));
		bad[0].type = (char *)"c";
		bad[0].access = (char *)"rwx";
		CHECK_INT(cgroup_devices_bpf_generate(bad, 1, &p, &n, &err), -EINVAL);
		error_free(TAKE_PTR(err));
	}
}

/* ---- this machine --------------------------------------------------------------- */

static bool real_usable(enum cgroup_mode *m)
{
	if (geteuid() != 0) {
		printf("# skip: not root\n");
		return false;
	}
	if (cgroup_detect("/sys/fs/cgroup", m) < 0) {
		printf("# skip: no cgroupfs at /sys/fs/cgroup\n");
		return false;
	}
	return true;
}

static char *read_str(const char *path)
{
	char *s = NULL;
	if (read_file_at(AT_FDCWD, path, 1 << 20, &s, NULL) < 0)
		return NULL;
	s[strcspn(s, "\n")] = 0;
	return s;
}

/* Remove whatever a real test left below every hierarchy; true when something was left. */
static bool sweep_real(const char *name)
{
	static const char *const dirs[] = {"cpu",	 "cpuacct",	"cpuset",  "memory",
					   "devices",	 "freezer",	"blkio",   "pids",
					   "systemd",	 "hugetlb",	"unified", "net_cls",
					   "perf_event", "cpu,cpuacct", ""};
	bool left = false;

	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		_cleanup_free_ char *p = xasprintf("/sys/fs/cgroup/%s/%s", dirs[i], name);
		if (access(p, F_OK) == 0) {
			left = true;
			rmdir(p);
		}
	}
	return left;
}

static void kill_wait(pid_t *child)
{
	if (*child > 0) {
		kill(*child, SIGKILL);
		waitpid(*child, NULL, 0);
	}
}

static void test_real_lifecycle(void)
{
	enum cgroup_mode mode;
	_cleanup_free_ char *name = NULL, *path = NULL, *mem = NULL;
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	_cleanup_(kill_wait) pid_t child = -1;
	struct oci_resources r = {};
	struct oci_device_cgroup devs[] = {
	    {false, NULL, {false, 0}, {false, 0}, (char *)"rwm"},
	    {true, (char *)"c", {true, 1}, {true, 3}, (char *)"rwm"},
	    {true, (char *)"c", {true, 1}, {true, 5}, (char *)"r"},
	};
	size_t n = 0;
	int status, go[2] = {-1, -1}, done[2] = {-1, -1};

	if (!real_usable(&mode))
		return;
	name = xasprintf("berth-test-%d", (int)getpid());
	path = xasprintf("/%s", name);
	r.memory.limit = (struct opt_i64){true, 64 << 20};
	r.pids.limit = (struct opt_i64){true, 32};
	r.cpu.shares = (struct opt_u64){true, 512};
	r.cpu.quota = (struct opt_i64){true, 50000};
	r.cpu.period = (struct opt_u64){true, 100000};
	if (mode != CGROUP_MODE_V2) {
		r.devices = devs;
		r.n_devices = ELEMENTSOF(devs);
	}

	CHECK_INT(cgroup_create("/sys/fs/cgroup", path, &r, &cg, &err), 0);
	if (err)
		fprintf(stderr, "  %s\n", err->msg);
	if (!cg)
		goto out;
	CHECK(!cg->fake);

	/* the child touches memory once inside, so that the cgroup is charged */
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0) {
		CHECK(false);
		goto out;
	}
	child = fork();
	if (child == 0) {
		char c;
		char *mem_block;
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		mem_block = malloc(8 << 20);
		if (!mem_block)
			_exit(1);
		memset(mem_block, 1, 8 << 20);
		if (write(done[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	CHECK(child > 0);
	CHECK_INT(cgroup_enter(cg, child, &err), 0);
	if (err)
		fprintf(stderr, "  %s\n", err->msg);
	{
		char c;
		CHECK(write(go[1], "x", 1) == 1);
		CHECK(read(done[0], &c, 1) == 1);
	}

	if (mode != CGROUP_MODE_V2) {
		_cleanup_free_ char *p1 =
		    xasprintf("/sys/fs/cgroup/memory/%s/memory.limit_in_bytes", name);
		_cleanup_free_ char *p2 = xasprintf("/sys/fs/cgroup/pids/%s/pids.max", name);
		_cleanup_free_ char *p3 = xasprintf("/sys/fs/cgroup/cpu/%s/cpu.shares", name);
		_cleanup_free_ char *p4 = xasprintf("/sys/fs/cgroup/cpu/%s/cpu.cfs_quota_us", name);
		_cleanup_free_ char *p5 = xasprintf("/sys/fs/cgroup/devices/%s/devices.list", name);
		_cleanup_free_ char *p6 = xasprintf("/proc/%d/cgroup", (int)child);
		_cleanup_free_ char *v1 = read_str(p1), *v2 = read_str(p2), *v3 = read_str(p3);
		_cleanup_free_ char *v4 = read_str(p4), *v6 = NULL, *want = NULL;
		char *v5 = NULL;

		CHECK_STREQ(v1, "67108864");
		CHECK_STREQ(v2, "32");
		CHECK_STREQ(v3, "512");
		CHECK_STREQ(v4, "50000");
		if (read_file_at(AT_FDCWD, p5, 4096, &v5, NULL) == 0)
			CHECK_STREQ(v5, "c 1:3 rwm\nc 1:5 r\n");
		free(v5);
		CHECK(read_file_at(AT_FDCWD, p6, 4096, &v6, NULL) == 0);
		want = xasprintf(":memory:%s\n", path);
		CHECK(v6 && strstr(v6, want));
		free(want);
		want = xasprintf(":name=systemd:%s\n", path);
		CHECK(v6 && strstr(v6, want));
		if (mode == CGROUP_MODE_HYBRID) {
			free(want);
			want = xasprintf("0::%s\n", path);
			CHECK(v6 && strstr(v6, want));
		}
	}

	CHECK_INT(cgroup_pids(cg, &pids, &n), 0);
	CHECK(n == 1 && pids && pids[0] == child);

	CHECK_INT(cgroup_freeze(cg, true, &err), 0);
	CHECK_INT(cgroup_is_frozen(cg), 1);
	CHECK_INT(cgroup_freeze(cg, false, &err), 0);
	CHECK_INT(cgroup_is_frozen(cg), 0);

	{
		_cleanup_json_ json_object *st = NULL;
		CHECK_INT(cgroup_stats(cg, &st), 0);
		if (st) {
			json_object *o = json_object_object_get(st, "pids");
			CHECK(json_object_get_uint64(json_object_object_get(o, "current")) == 1);
			CHECK(json_object_get_uint64(json_object_object_get(o, "limit")) == 32);
			o = json_object_object_get(json_object_object_get(st, "memory"), "usage");
			CHECK(json_object_get_uint64(json_object_object_get(o, "limit")) ==
			      64 << 20);
			CHECK(json_object_get_uint64(json_object_object_get(o, "usage")) > 0);
		}
	}

	/* update, then refusals: a limit below the usage, shares the kernel would clamp */
	{
		struct oci_resources u = {};
		u.memory.limit = (struct opt_i64){true, 32 << 20};
		CHECK_INT(cgroup_apply(cg, &u, &err), 0);
		if (mode != CGROUP_MODE_V2) {
			_cleanup_free_ char *p =
			    xasprintf("/sys/fs/cgroup/memory/%s/memory.limit_in_bytes", name);
			mem = read_str(p);
			CHECK_STREQ(mem, "33554432");
		}
		u.memory.limit = (struct opt_i64){true, 4096};
		CHECK_INT(cgroup_apply(cg, &u, &err), -EBUSY);
		CHECK(err && strstr(err->msg, "current usage"));
		error_free(TAKE_PTR(err));
		u = (struct oci_resources){};
		u.cpu.shares = (struct opt_u64){true, 1};
		CHECK_INT(cgroup_apply(cg, &u, &err), -EINVAL);
		error_free(TAKE_PTR(err));
	}

	CHECK_INT(cgroup_kill(cg, SIGKILL), 0);
	CHECK(waitpid(child, &status, 0) == child);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	child = -1;

	CHECK_INT(cgroup_destroy(cg), 0);
out:
	if (cg && child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
	}
	if (cg)
		(void)cgroup_destroy(cg);
	for (size_t i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (done[i] >= 0)
			close(done[i]);
	}
	CHECK(!sweep_real(name));
}

/* The v2 device filter in the kernel: /dev/null allowed, /dev/zero not. */
static void test_real_device_bpf(void)
{
	struct oci_device_cgroup rules[] = {
	    {false, NULL, {false, 0}, {false, 0}, NULL},
	    {true, (char *)"c", {true, 1}, {true, 3}, (char *)"rw"},
	    {true, (char *)"c", {true, 1}, {true, 5}, (char *)"m"},
	};
	struct oci_device_cgroup allow_all[] = {{true, NULL, {false, 0}, {false, 0}, NULL}};
	_cleanup_free_ struct bpf_insn *p = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *dir = NULL, *procs = NULL;
	_cleanup_close_ int fd = -EBADF;
	_cleanup_(kill_wait) pid_t child = -1;
	enum cgroup_mode mode;
	int pipefd[2], status = -1;
	size_t n;

	if (!real_usable(&mode))
		return;
	if (mode == CGROUP_MODE_V1) {
		printf("# skip: no cgroup v2 hierarchy\n");
		return;
	}
	dir = xasprintf("/sys/fs/cgroup/%sberth-bpf-%d",
			mode == CGROUP_MODE_HYBRID ? "unified/" : "", (int)getpid());
	if (mkdir(dir, 0755) < 0) {
		CHECK(false);
		return;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_INT(cgroup_devices_bpf_generate(rules, ELEMENTSOF(rules), &p, &n, &err), 0);
	CHECK_INT(cgroup_devices_bpf_attach(fd, p, n, &err), 0);
	if (err)
		fprintf(stderr, "  %s\n", err->msg);

	CHECK(pipe2(pipefd, O_CLOEXEC) == 0);
	child = fork();
	if (child == 0) {
		char c;
		int a, b;
		close(pipefd[1]);
		if (read(pipefd[0], &c, 1) != 1)
			_exit(10);
		a = open("/dev/null", O_RDWR | O_CLOEXEC);
		b = open("/dev/zero", O_RDONLY | O_CLOEXEC);
		_exit((a >= 0 ? 0 : 1) | (b < 0 && errno == EPERM ? 0 : 2));
	}
	close(pipefd[0]);
	procs = xasprintf("%s/cgroup.procs", dir);
	{
		char buf[24];
		snprintf(buf, sizeof(buf), "%d", (int)child);
		CHECK_INT(write_file_at(AT_FDCWD, procs, buf), 0);
	}
	CHECK(write(pipefd[1], "x", 1) == 1);
	close(pipefd[1]);
	CHECK(waitpid(child, &status, 0) == child);
	child = -1;
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);

	/* re-applying replaces the program instead of stacking another */
	free(TAKE_PTR(p));
	CHECK_INT(cgroup_devices_bpf_generate(allow_all, 1, &p, &n, &err), 0);
	CHECK_INT(cgroup_devices_bpf_attach(fd, p, n, &err), 0);
	{
		uint32_t ids[8];
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.query.target_fd = (uint32_t)fd;
		a.query.attach_type = BPF_CGROUP_DEVICE;
		a.query.prog_ids = (uint64_t)(uintptr_t)ids;
		a.query.prog_cnt = 8;
		CHECK(syscall(SYS_bpf, BPF_PROG_QUERY, &a, sizeof(a)) == 0);
		CHECK_INT(a.query.prog_cnt, 1);
	}
	CHECK(rmdir(dir) == 0);
}

int main(void)
{
	cgroup_set_write_trace(trace_write, NULL);
	RUN(test_detect);
	RUN(test_resolve_path);
	RUN(test_v1_create_and_resources);
	RUN(test_v1_validation);
	RUN(test_v1_create_failure_cleans_up);
	RUN(test_v1_kill_freezes);
	RUN(test_v1_stats);
	RUN(test_v2_create_and_resources);
	RUN(test_v2_freeze_timeout);
	RUN(test_v2_unified_rejects);
	RUN(test_v2_create_failure_cleans_up);
	RUN(test_v2_stats);
	RUN(test_hybrid);
	RUN(test_device_bpf);
	RUN(test_real_lifecycle);
	RUN(test_real_device_bpf);
	trace_reset();
	return TEST_SUMMARY();
}
