/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

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
	static const char *const hiers[] = {"cpu,cpuacct", "cpuset", "memory", "devices", "freezer",
					    "blkio",	   "pids",   "systemd"};
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
	put(root, "cpu.stat", "usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_periods 5\n"
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
	r->devices[0] = (struct oci_device_cgroup){false, NULL, {false, 0}, {false, 0},
						    xstrdup("rwm")};
	r->devices[1] = (struct oci_device_cgroup){true, xstrdup("c"), {true, 1}, {true, 3},
						    xstrdup("rwm")};
	r->devices[2] = (struct oci_device_cgroup){true, xstrdup("b"), {true, -1}, {false, 0},
						    xstrdup("m")};
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
	CHECK_INT(trace_count_prefix("") , 8 + 1);
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
		_cleanup_free_ char *p = xasprintf("%s/memory/berth/v/memory.memsw.limit_in_bytes",
						   root);
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

	mkdir_p(xasprintf_keep: NULL, 0); /* placeholder, replaced below */
}
