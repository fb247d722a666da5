/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup resources: the OCI linux.resources written to the v1 files, the v2 files,
 * or, on hybrid, wherever each controller is mounted (runc's mappings, crun's for
 * cpu.weight). Values are checked before anything is written where that is possible.
 */
#include <fcntl.h>
#include <linux/bpf.h>

#include "cgroup-internal.h"

/* Where a controller's files are for this cgroup: its v1 dir, its v2 dir, or nowhere. */
static char *ctl_dir(const struct cgroup *cg, const char *v1name, const char *v2name,
		     const char *v2avail, bool *ret_v2)
{
	const struct cgroup_hierarchy *h = v1name ? cg_find_hier(cg, v1name) : NULL;

	*ret_v2 = false;
	if (h)
		return cg_hier_dir(cg, h);
	if (cg->mode == CGROUP_MODE_V1 || !v2name || !cg_has_token(v2avail, v2name))
		return NULL;
	*ret_v2 = true;
	return cg_v2_dir(cg);
}

static int check_limit(const char *what, int64_t v, struct error **err)
{
	if (v < -1)
		return error_setx(err, -EINVAL, "invalid %s %lld", what, (long long)v);
	return 0;
}

static int write_i64(const struct cgroup *cg, const char *dir, const char *file, int64_t v,
		     struct error **err)
{
	return cg_writef(cg, dir, file, err, "%lld", (long long)v);
}

/* v1 memory.limit_in_bytes, with the usage in the message when the kernel says EBUSY. */
static int v1_set_memory(const struct cgroup *cg, const char *dir, int64_t limit,
			 struct error **err)
{
	_cleanup_error_ struct error *e = NULL;
	uint64_t usage = 0, peak = 0;
	int r = write_i64(cg, dir, "memory.limit_in_bytes", limit, &e);

	if (r != -EBUSY) {
		if (r < 0 && err && !*err)
			*err = TAKE_PTR(e);
		return r;
	}
	(void)cg_read_u64(dir, "memory.usage_in_bytes", &usage);
	(void)cg_read_u64(dir, "memory.max_usage_in_bytes", &peak);
	return error_setx(err, r,
			  "unable to set memory limit to %lld in '%s' (current usage: %llu, peak "
			  "usage: %llu)",
			  (long long)limit, dir, (unsigned long long)usage,
			  (unsigned long long)peak);
}

static int apply_memory_v1(const struct cgroup *cg, const char *dir, const struct oci_memory *m,
			   struct error **err)
{
	int64_t limit = m->limit.set ? m->limit.v : 0, swap = m->swap.set ? m->swap.v : 0;
	int64_t resv = m->reservation.set ? m->reservation.v : 0;
	bool has_memsw = cg_exists(dir, "memory.memsw.limit_in_bytes");
	bool swap_first = false;
	int r;

	if (check_limit("memory limit", limit, err) < 0 ||
	    check_limit("memory+swap limit", swap, err) < 0 ||
	    check_limit("memory reservation", resv, err) < 0)
		return -EINVAL;
	if (limit > 0 && swap > 0 && swap < limit)
		return error_setx(err, -EINVAL,
				  "memory+swap limit %lld should be >= memory limit %lld",
				  (long long)swap, (long long)limit);
	if (limit == -1 && swap == 0 && has_memsw)
		swap = -1;
	if (swap != 0 && !has_memsw) {
		if (swap != -1 && swap != limit)
			return error_setx(err, -EOPNOTSUPP,
					  "cannot limit swap to %lld: no swap accounting in '%s' "
					  "(memory.memsw.limit_in_bytes is missing)",
					  (long long)swap, dir);
		swap = 0;
	}
	if (limit != 0 && swap != 0) {
		/* the kernel wants memsw >= limit at every step: order the writes */
		uint64_t cur = 0;
		r = cg_read_u64(dir, "memory.limit_in_bytes", &cur);
		if (r < 0)
			return error_set(err, r, "read 'memory.limit_in_bytes' in '%s'", dir);
		swap_first = swap == -1 || cur < (uint64_t)swap;
	}
	if (swap_first) {
		r = write_i64(cg, dir, "memory.memsw.limit_in_bytes", swap, err);
		if (r < 0)
			return r;
	}
	if (limit != 0) {
		r = v1_set_memory(cg, dir, limit, err);
		if (r < 0)
			return r;
	}
	if (!swap_first && swap != 0) {
		r = write_i64(cg, dir, "memory.memsw.limit_in_bytes", swap, err);
		if (r < 0)
			return r;
	}
	if (resv != 0) {
		r = write_i64(cg, dir, "memory.soft_limit_in_bytes", resv, err);
		if (r < 0)
			return r;
	}
	if (m->swappiness.set && m->swappiness.v != UINT64_MAX) {
		if (m->swappiness.v > 100)
			return error_setx(err, -EINVAL, "invalid memory swappiness %llu (0-100)",
					  (unsigned long long)m->swappiness.v);
		r = cg_writef(cg, dir, "memory.swappiness", err, "%llu",
			      (unsigned long long)m->swappiness.v);
		if (r < 0)
			return r;
	}
	if (m->disable_oom_killer) {
		r = cg_write(cg, dir, "memory.oom_control", "1", err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_memory_v2(const struct cgroup *cg, const char *dir, const struct oci_memory *m,
			   struct error **err)
{
	int64_t limit = m->limit.set ? m->limit.v : 0, swap = m->swap.set ? m->swap.v : 0;
	int64_t resv = m->reservation.set ? m->reservation.v : 0, swap2;
	_cleanup_free_ char *swap_str = NULL;
	int r;

	if (check_limit("memory limit", limit, err) < 0 ||
	    check_limit("memory+swap limit", swap, err) < 0 ||
	    check_limit("memory reservation", resv, err) < 0)
		return -EINVAL;
	/* runc's conversion: v2 limits swap alone, OCI limits memory+swap */
	if (limit == -1 && swap == 0)
		swap2 = -1;
	else if (swap == -1 || swap == 0)
		swap2 = swap;
	else if (limit == 0 || limit == -1)
		return error_setx(err, -EINVAL, "unable to set swap limit without memory limit");
	else if (swap < limit)
		return error_setx(err, -EINVAL,
				  "memory+swap limit %lld should be >= memory limit %lld",
				  (long long)swap, (long long)limit);
	else
		swap2 = swap - limit;
	if (swap2 == -1)
		swap_str = xstrdup("max");
	else if (swap2 > 0 || swap > 0)
		swap_str = xasprintf("%lld", (long long)swap2);
	if (swap_str) {
		_cleanup_error_ struct error *e = NULL;
		r = cg_write(cg, dir, "memory.swap.max", swap_str, &e);
		/* without swap, "max" and "0" are what there is anyway */
		if (r < 0 && !(r == -ENOENT && (streq(swap_str, "max") || streq(swap_str, "0")))) {
			if (err && !*err)
				*err = TAKE_PTR(e);
			return r;
		}
	}
	if (limit > 0) {
		uint64_t cur;
		if (cg_read_u64(dir, "memory.current", &cur) >= 0 && cur > (uint64_t)limit)
			return error_setx(err, -EBUSY,
					  "unable to set memory limit to %lld in '%s' (current "
					  "usage: %llu)",
					  (long long)limit, dir, (unsigned long long)cur);
	}
	if (limit != 0) {
		r = limit == -1 ? cg_write(cg, dir, "memory.max", "max", err)
				: write_i64(cg, dir, "memory.max", limit, err);
		if (r < 0)
			return r;
	}
	if (resv != 0) {
		r = resv == -1 ? cg_write(cg, dir, "memory.low", "max", err)
			       : write_i64(cg, dir, "memory.low", resv, err);
		if (r < 0)
			return r;
	}
	if ((m->swappiness.set && m->swappiness.v != UINT64_MAX) || m->disable_oom_killer)
		log_debug("cgroup v2: memory swappiness and disableOOMKiller ignored");
	return 0;
}

static bool memory_set(const struct oci_memory *m)
{
	return (m->limit.set && m->limit.v) || (m->reservation.set && m->reservation.v) ||
	       (m->swap.set && m->swap.v) || (m->swappiness.set && m->swappiness.v != UINT64_MAX) ||
	       m->disable_oom_killer;
}

static int check_cpu(const struct oci_cpu *c, struct error **err)
{
	if (c->shares.set && c->shares.v != 0 && (c->shares.v < 2 || c->shares.v > 262144))
		return error_setx(err, -EINVAL, "invalid cpu shares %llu (2-262144)",
				  (unsigned long long)c->shares.v);
	if (c->quota.set && (c->quota.v < -1 || (c->quota.v > 0 && c->quota.v < 1000)))
		return error_setx(err, -EINVAL, "invalid cpu quota %lld (at least 1000us, or -1)",
				  (long long)c->quota.v);
	if (c->period.set && c->period.v != 0 && (c->period.v < 1000 || c->period.v > 1000000))
		return error_setx(err, -EINVAL, "invalid cpu period %llu (1000-1000000us)",
				  (unsigned long long)c->period.v);
	if (c->realtime_runtime.set && c->realtime_runtime.v < -1)
		return error_setx(err, -EINVAL, "invalid cpu realtime runtime %lld",
				  (long long)c->realtime_runtime.v);
	return 0;
}

static int apply_cpu_v1(const struct cgroup *cg, const char *dir, const struct oci_cpu *c,
			struct error **err)
{
	int64_t quota = c->quota.set ? c->quota.v : 0;
	uint64_t period = c->period.set ? c->period.v : 0;
	bool period_pending = false, burst_pending = false;
	int r;

	if (c->shares.set && c->shares.v) {
		uint64_t got;
		r = cg_writef(cg, dir, "cpu.shares", err, "%llu", (unsigned long long)c->shares.v);
		if (r < 0)
			return r;
		/* the kernel clamps silently: say so instead */
		if (!cg->fake && cg_read_u64(dir, "cpu.shares", &got) >= 0 && got != c->shares.v)
			return error_setx(
			    err, -EINVAL,
			    "cpu shares %llu not accepted by the kernel (it set %llu)",
			    (unsigned long long)c->shares.v, (unsigned long long)got);
	}
	if (c->realtime_period.set && c->realtime_period.v) {
		r = cg_writef(cg, dir, "cpu.rt_period_us", err, "%llu",
			      (unsigned long long)c->realtime_period.v);
		if (r < 0)
			return r;
	}
	if (c->realtime_runtime.set && c->realtime_runtime.v) {
		r = write_i64(cg, dir, "cpu.rt_runtime_us", c->realtime_runtime.v, err);
		if (r < 0)
			return r;
	}
	if (period) {
		_cleanup_error_ struct error *e = NULL;
		r = cg_writef(cg, dir, "cpu.cfs_period_us", &e, "%llu", (unsigned long long)period);
		/* a smaller period can fail until the new quota is in: retry after it */
		if (r == -EINVAL && quota != 0)
			period_pending = true;
		else if (r < 0) {
			if (err && !*err)
				*err = TAKE_PTR(e);
			return r;
		}
	}
	if (c->burst.set) {
		_cleanup_error_ struct error *e = NULL;
		r = cg_writef(cg, dir, "cpu.cfs_burst_us", &e, "%llu",
			      (unsigned long long)c->burst.v);
		if (r == -EINVAL && quota != 0)
			burst_pending = true;
		else if (r < 0) {
			if (err && !*err)
				*err = TAKE_PTR(e);
			return r;
		}
	}
	if (quota != 0) {
		r = write_i64(cg, dir, "cpu.cfs_quota_us", quota, err);
		if (r < 0)
			return r;
		if (period_pending) {
			r = cg_writef(cg, dir, "cpu.cfs_period_us", err, "%llu",
				      (unsigned long long)period);
			if (r < 0)
				return r;
		}
		if (burst_pending) {
			r = cg_writef(cg, dir, "cpu.cfs_burst_us", err, "%llu",
				      (unsigned long long)c->burst.v);
			if (r < 0)
				return r;
		}
	}
	if (c->idle.set) {
		r = write_i64(cg, dir, "cpu.idle", c->idle.v, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_cpu_v2(const struct cgroup *cg, const char *dir, const struct oci_cpu *c,
			struct error **err)
{
	int64_t quota = c->quota.set ? c->quota.v : 0;
	uint64_t period = c->period.set ? c->period.v : 0;
	bool burst_pending = false;
	int r;

	if ((c->realtime_runtime.set && c->realtime_runtime.v) ||
	    (c->realtime_period.set && c->realtime_period.v))
		return error_setx(err, -EOPNOTSUPP,
				  "realtime cpu limits are not supported on cgroup v2");
	if (c->shares.set && c->shares.v) {
		/* crun's conversion of [2, 262144] onto [1, 10000] */
		uint64_t w = 1 + ((c->shares.v - 2) * 9999) / 262142;
		r = cg_writef(cg, dir, "cpu.weight", err, "%llu", (unsigned long long)w);
		if (r < 0)
			return r;
	}
	if (c->burst.set) {
		_cleanup_error_ struct error *e = NULL;
		r = cg_writef(cg, dir, "cpu.max.burst", &e, "%llu", (unsigned long long)c->burst.v);
		if (r == -EINVAL && (quota != 0 || period != 0))
			burst_pending = true;
		else if (r < 0) {
			if (err && !*err)
				*err = TAKE_PTR(e);
			return r;
		}
	}
	if (quota != 0 || period != 0) {
		char buf[64];
		if (quota > 0)
			snprintf(buf, sizeof(buf), "%lld", (long long)quota);
		else
			snprintf(buf, sizeof(buf), "max");
		if (period)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %llu",
				 (unsigned long long)period);
		r = cg_write(cg, dir, "cpu.max", buf, err);
		if (r < 0)
			return r;
	}
	if (burst_pending) {
		r = cg_writef(cg, dir, "cpu.max.burst", err, "%llu",
			      (unsigned long long)c->burst.v);
		if (r < 0)
			return r;
	}
	if (c->idle.set) {
		r = write_i64(cg, dir, "cpu.idle", c->idle.v, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool cpu_set(const struct oci_cpu *c)
{
	return (c->shares.set && c->shares.v) || (c->quota.set && c->quota.v) ||
	       (c->period.set && c->period.v) || c->burst.set ||
	       (c->realtime_runtime.set && c->realtime_runtime.v) ||
	       (c->realtime_period.set && c->realtime_period.v) || c->idle.set;
}

static int check_dev_numbers(const char *what, int64_t major, int64_t minor, struct error **err)
{
	if (major < 0 || minor < 0 || major > UINT32_MAX || minor > UINT32_MAX)
		return error_setx(err, -EINVAL, "invalid device %lld:%lld in %s", (long long)major,
				  (long long)minor, what);
	return 0;
}

static int check_weight(const char *what, uint64_t w, struct error **err)
{
	if (w < 10 || w > 1000)
		return error_setx(err, -EINVAL, "invalid %s %llu (10-1000)", what,
				  (unsigned long long)w);
	return 0;
}

static const struct {
	const char *v1file;
	const char *v2key;
	size_t list_off, n_off;
} throttles[] = {
    {"blkio.throttle.read_bps_device", "rbps", offsetof(struct oci_block_io, throttle_read_bps),
     offsetof(struct oci_block_io, n_throttle_read_bps)},
    {"blkio.throttle.write_bps_device", "wbps", offsetof(struct oci_block_io, throttle_write_bps),
     offsetof(struct oci_block_io, n_throttle_write_bps)},
    {"blkio.throttle.read_iops_device", "riops", offsetof(struct oci_block_io, throttle_read_iops),
     offsetof(struct oci_block_io, n_throttle_read_iops)},
    {"blkio.throttle.write_iops_device", "wiops",
     offsetof(struct oci_block_io, throttle_write_iops),
     offsetof(struct oci_block_io, n_throttle_write_iops)},
};

static const struct oci_throttle_device *throttle_list(const struct oci_block_io *b, size_t i,
						       size_t *n)
{
	*n = *(const size_t *)((const char *)b + throttles[i].n_off);
	return *(struct oci_throttle_device *const *)((const char *)b + throttles[i].list_off);
}

static int check_blkio(const struct oci_block_io *b, struct error **err)
{
	int r;

	if (b->weight.set && (r = check_weight("blkio weight", b->weight.v, err)) < 0)
		return r;
	if (b->leaf_weight.set &&
	    (r = check_weight("blkio leaf weight", b->leaf_weight.v, err)) < 0)
		return r;
	for (size_t i = 0; i < b->n_weight_device; i++) {
		const struct oci_weight_device *w = &b->weight_device[i];
		if ((r = check_dev_numbers("blkio weightDevice", w->major, w->minor, err)) < 0)
			return r;
		if (w->weight.set && (r = check_weight("blkio weight", w->weight.v, err)) < 0)
			return r;
		if (w->leaf_weight.set &&
		    (r = check_weight("blkio leaf weight", w->leaf_weight.v, err)) < 0)
			return r;
	}
	for (size_t t = 0; t < ELEMENTSOF(throttles); t++) {
		size_t n;
		const struct oci_throttle_device *l = throttle_list(b, t, &n);
		for (size_t i = 0; i < n; i++)
			if ((r = check_dev_numbers(throttles[t].v1file, l[i].major, l[i].minor,
						   err)) < 0)
				return r;
	}
	return 0;
}

static int apply_blkio_v1(const struct cgroup *cg, const char *dir, const struct oci_block_io *b,
			  struct error **err)
{
	bool cfq = cg_exists(dir, "blkio.weight");
	int r;

	if (b->weight.set) {
		r = cg_writef(cg, dir, cfq ? "blkio.weight" : "blkio.bfq.weight", err, "%llu",
			      (unsigned long long)b->weight.v);
		if (r < 0)
			return r;
	}
	if (b->leaf_weight.set) {
		r = cg_writef(cg, dir, "blkio.leaf_weight", err, "%llu",
			      (unsigned long long)b->leaf_weight.v);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < b->n_weight_device; i++) {
		const struct oci_weight_device *w = &b->weight_device[i];
		if (w->weight.set) {
			r = cg_writef(cg, dir,
				      cfq ? "blkio.weight_device" : "blkio.bfq.weight_device", err,
				      "%lld:%lld %llu", (long long)w->major, (long long)w->minor,
				      (unsigned long long)w->weight.v);
			if (r < 0)
				return r;
		}
		if (w->leaf_weight.set) {
			r = cg_writef(cg, dir, "blkio.leaf_weight_device", err, "%lld:%lld %llu",
				      (long long)w->major, (long long)w->minor,
				      (unsigned long long)w->leaf_weight.v);
			if (r < 0)
				return r;
		}
	}
	for (size_t t = 0; t < ELEMENTSOF(throttles); t++) {
		size_t n;
		const struct oci_throttle_device *l = throttle_list(b, t, &n);
		for (size_t i = 0; i < n; i++) {
			r = cg_writef(cg, dir, throttles[t].v1file, err, "%lld:%lld %llu",
				      (long long)l[i].major, (long long)l[i].minor,
				      (unsigned long long)l[i].rate);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int apply_blkio_v2(const struct cgroup *cg, const char *dir, const struct oci_block_io *b,
			  struct error **err)
{
	bool bfq = cg_exists(dir, "io.bfq.weight");
	_cleanup_free_ int64_t(*devs)[2] = NULL;
	size_t n_devs = 0;
	int r;

	if (b->weight.set) {
		/* io.weight is [1, 10000]; blkio weights are [10, 1000] */
		uint64_t w = bfq ? b->weight.v : 1 + (b->weight.v - 10) * 9999 / 990;
		r = cg_writef(cg, dir, bfq ? "io.bfq.weight" : "io.weight", err, "%llu",
			      (unsigned long long)w);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < b->n_weight_device; i++) {
		const struct oci_weight_device *wd = &b->weight_device[i];
		uint64_t w;
		if (!wd->weight.set)
			continue;
		w = bfq ? wd->weight.v : 1 + (wd->weight.v - 10) * 9999 / 990;
		r = cg_writef(cg, dir, bfq ? "io.bfq.weight" : "io.weight", err, "%lld:%lld %llu",
			      (long long)wd->major, (long long)wd->minor, (unsigned long long)w);
		if (r < 0)
			return r;
	}
	if (b->leaf_weight.set)
		log_debug("cgroup v2: blkio leaf weight ignored");

	/* one io.max line per device, with every limit given for it */
	for (size_t t = 0; t < ELEMENTSOF(throttles); t++) {
		size_t n;
		const struct oci_throttle_device *l = throttle_list(b, t, &n);
		for (size_t i = 0; i < n; i++) {
			bool seen = false;
			for (size_t j = 0; j < n_devs && !seen; j++)
				seen = devs[j][0] == l[i].major && devs[j][1] == l[i].minor;
			if (seen)
				continue;
			devs = xrealloc(devs, sizeof(*devs) * (n_devs + 1));
			devs[n_devs][0] = l[i].major;
			devs[n_devs][1] = l[i].minor;
			n_devs++;
		}
	}
	for (size_t j = 0; j < n_devs; j++) {
		_cleanup_free_ char *line =
		    xasprintf("%lld:%lld", (long long)devs[j][0], (long long)devs[j][1]);
		for (size_t t = 0; t < ELEMENTSOF(throttles); t++) {
			size_t n;
			const struct oci_throttle_device *l = throttle_list(b, t, &n);
			for (size_t i = 0; i < n; i++) {
				char *nl;
				if (l[i].major != devs[j][0] || l[i].minor != devs[j][1])
					continue;
				if (l[i].rate)
					nl = xasprintf("%s %s=%llu", line, throttles[t].v2key,
						       (unsigned long long)l[i].rate);
				else
					nl = xasprintf("%s %s=max", line, throttles[t].v2key);
				free(line);
				line = nl;
			}
		}
		r = cg_write(cg, dir, "io.max", line, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool blkio_set(const struct oci_block_io *b)
{
	size_t n = 0;
	for (size_t t = 0; t < ELEMENTSOF(throttles); t++) {
		size_t k;
		(void)throttle_list(b, t, &k);
		n += k;
	}
	return b->weight.set || b->leaf_weight.set || b->n_weight_device || n;
}

static int apply_hugetlb(const struct cgroup *cg, const char *dir, bool v2,
			 const struct oci_resources *res, struct error **err)
{
	for (size_t i = 0; i < res->n_hugepage_limits; i++) {
		const struct oci_hugepage_limit *h = &res->hugepage_limits[i];
		_cleanup_free_ char *file = NULL;
		int r;

		if (isempty(h->page_size) ||
		    strspn(h->page_size, "0123456789abcdefghijklmnopqrstuvwxyz"
					 "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(h->page_size))
			return error_setx(err, -EINVAL, "invalid hugepage size '%s'",
					  h->page_size ? h->page_size : "");
		file = xasprintf("hugetlb.%s.%s", h->page_size, v2 ? "max" : "limit_in_bytes");
		if (!cg_exists(dir, file))
			return error_setx(
			    err, -EINVAL,
			    "hugepage size '%s' is not supported ('%s' missing in '%s')",
			    h->page_size, file, dir);
		r = cg_writef(cg, dir, file, err, "%llu", (unsigned long long)h->limit);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A v1 devices.allow / devices.deny line. */
static int v1_device_rule(const struct oci_device_cgroup *d, size_t idx, char **ret,
			  struct error **err)
{
	char major[24] = "*", minor[24] = "*";
	const char *acc = isempty(d->access) ? "rwm" : d->access;

	if (!d->type || streq(d->type, "a")) {
		*ret = xstrdup("a");
		return 0;
	}
	if (!streq(d->type, "c") && !streq(d->type, "b"))
		return error_setx(err, -EINVAL, "invalid device rule %zu: type '%s'", idx, d->type);
	if (strspn(acc, "rwm") != strlen(acc))
		return error_setx(err, -EINVAL, "invalid device rule %zu: access '%s'", idx, acc);
	if ((d->major.set && d->major.v > UINT32_MAX) || (d->minor.set && d->minor.v > UINT32_MAX))
		return error_setx(err, -EINVAL, "invalid device rule %zu: major/minor out of range",
				  idx);
	if (d->major.set && d->major.v >= 0)
		snprintf(major, sizeof(major), "%lld", (long long)d->major.v);
	if (d->minor.set && d->minor.v >= 0)
		snprintf(minor, sizeof(minor), "%lld", (long long)d->minor.v);
	*ret = xasprintf("%s %s:%s %s", d->type, major, minor, acc);
	return 0;
}

static int apply_devices(const struct cgroup *cg, const struct oci_resources *res,
			 struct error **err)
{
	const struct cgroup_hierarchy *h = cg_find_hier(cg, "devices");
	_cleanup_free_ char *dir = NULL;
	_cleanup_free_ struct bpf_insn *prog = NULL;
	_cleanup_close_ int fd = -EBADF;
	size_t n_prog = 0;
	int r;

	if (res->n_devices == 0)
		return 0;
	if (h) {
		_cleanup_strv_free_ char **lines = NULL;
		/* check all first: a bad rule must not leave "deny a" behind */
		for (size_t i = 0; i < res->n_devices; i++) {
			char *l = NULL;
			r = v1_device_rule(&res->devices[i], i, &l, err);
			if (r < 0)
				return r;
			lines = strv_append(lines, l);
			free(l);
		}
		dir = cg_hier_dir(cg, h);
		r = cg_write(cg, dir, "devices.deny", "a", err);
		if (r < 0)
			return r;
		for (size_t i = 0; i < res->n_devices; i++) {
			r = cg_write(cg, dir,
				     res->devices[i].allow ? "devices.allow" : "devices.deny",
				     lines[i], err);
			if (r < 0)
				return r;
		}
		return 0;
	}
	if (cg->mode == CGROUP_MODE_V1)
		return cg_no_controller(cg, "devices", err);
	r = cgroup_devices_bpf_generate(res->devices, res->n_devices, &prog, &n_prog, err);
	if (r < 0)
		return r;
	if (cg->fake)
		return 0; /* no kernel to attach to */
	dir = cg_v2_dir(cg);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, -errno, "open cgroup '%s'", dir);
	r = cgroup_devices_bpf_attach(fd, prog, n_prog, err);
	if (r < 0)
		return error_prefix(err, r, "cgroup '%s'", dir);
	return 0;
}

/* cgroup.* files a spec may set through `unified`; the rest belong to the runtime. */
static const char *const unified_cgroup_allowed[] = {"cgroup.max.depth", "cgroup.max.descendants"};

static int check_unified_key(const char *k, struct error **err)
{
	if (isempty(k) || strchr(k, '/') || streq(k, ".") || streq(k, "..") || !strchr(k, '.') ||
	    k[0] == '.' || cg_has_control_chars(k))
		return error_setx(err, -EINVAL, "invalid unified key '%s'", k ? k : "");
	if (startswith(k, "cgroup.")) {
		for (size_t i = 0; i < ELEMENTSOF(unified_cgroup_allowed); i++)
			if (streq(k, unified_cgroup_allowed[i]))
				return 0;
		return error_setx(err, -EINVAL, "unified key '%s' may not be set", k);
	}
	return 0;
}

static int apply_unified(const struct cgroup *cg, const struct kv_list *u, struct error **err)
{
	_cleanup_free_ char *dir = NULL;
	int r;

	if (u->n == 0)
		return 0;
	for (size_t i = 0; i < u->n; i++) {
		r = check_unified_key(u->items[i].key, err);
		if (r < 0)
			return r;
	}
	dir = cg_v2_dir(cg);
	if (!dir)
		return error_setx(err, -EOPNOTSUPP,
				  "unified resources need cgroup v2 (found v1 "
				  "under '%s')",
				  cg->root);
	for (size_t i = 0; i < u->n; i++) {
		r = cg_write(cg, dir, u->items[i].key, u->items[i].value ? u->items[i].value : "",
			     err);
		if (r < 0)
			return r;
	}
	return 0;
}

int cgroup_apply(const struct cgroup *cg, const struct oci_resources *res, struct error **err)
{
	_cleanup_free_ char *avail = cg_v2_controllers(cg);
	bool v2;
	int r;

	if (!res)
		return 0;

	/* validate what can be validated before writing anything */
	r = check_cpu(&res->cpu, err);
	if (r < 0)
		return r;
	r = check_blkio(&res->block_io, err);
	if (r < 0)
		return r;

	if (!isempty(res->cpu.cpus) || !isempty(res->cpu.mems)) {
		_cleanup_free_ char *dir = ctl_dir(cg, "cpuset", "cpuset", avail, &v2);
		if (!dir)
			return cg_no_controller(cg, "cpuset", err);
		if (!isempty(res->cpu.cpus) &&
		    (r = cg_write(cg, dir, "cpuset.cpus", res->cpu.cpus, err)) < 0)
			return r;
		if (!isempty(res->cpu.mems) &&
		    (r = cg_write(cg, dir, "cpuset.mems", res->cpu.mems, err)) < 0)
			return r;
	}

	r = apply_devices(cg, res, err);
	if (r < 0)
		return r;

	if (memory_set(&res->memory)) {
		_cleanup_free_ char *dir = ctl_dir(cg, "memory", "memory", avail, &v2);
		if (!dir)
			return cg_no_controller(cg, "memory", err);
		r = v2 ? apply_memory_v2(cg, dir, &res->memory, err)
		       : apply_memory_v1(cg, dir, &res->memory, err);
		if (r < 0)
			return r;
	}

	if (cpu_set(&res->cpu)) {
		_cleanup_free_ char *dir = ctl_dir(cg, "cpu", "cpu", avail, &v2);
		if (!dir)
			return cg_no_controller(cg, "cpu", err);
		r = v2 ? apply_cpu_v2(cg, dir, &res->cpu, err)
		       : apply_cpu_v1(cg, dir, &res->cpu, err);
		if (r < 0)
			return r;
	}

	if (res->pids.limit.set) {
		_cleanup_free_ char *dir = ctl_dir(cg, "pids", "pids", avail, &v2);
		if (!dir)
			return cg_no_controller(cg, "pids", err);
		r = res->pids.limit.v <= 0 ? cg_write(cg, dir, "pids.max", "max", err)
					   : write_i64(cg, dir, "pids.max", res->pids.limit.v, err);
		if (r < 0)
			return r;
	}

	if (blkio_set(&res->block_io)) {
		_cleanup_free_ char *dir = ctl_dir(cg, "blkio", "io", avail, &v2);
		if (!dir)
			return cg_no_controller(cg, "blkio", err);
		r = v2 ? apply_blkio_v2(cg, dir, &res->block_io, err)
		       : apply_blkio_v1(cg, dir, &res->block_io, err);
		if (r < 0)
			return r;
	}

	if (res->n_hugepage_limits) {
		_cleanup_free_ char *dir = ctl_dir(cg, "hugetlb", "hugetlb", avail, &v2);
		if (!dir)
			return cg_no_controller(cg, "hugetlb", err);
		r = apply_hugetlb(cg, dir, v2, res, err);
		if (r < 0)
			return r;
	}

	return apply_unified(cg, &res->unified, err);
}
