/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device access control on cgroup v2: OCI device rules compiled to a
 * BPF_PROG_TYPE_CGROUP_DEVICE program (the shape of runc's devicefilter), loaded
 * with bpf(2) and attached to the cgroup directory.
 *
 * The program reads struct bpf_cgroup_dev_ctx into registers once:
 *   R2 = device type (BPF_DEVCG_DEV_*), R3 = requested access (BPF_DEVCG_ACC_*),
 *   R4 = major, R5 = minor
 * then tests the rules from the last to the first, each as a block that jumps to
 * the next block on a mismatch and returns the rule's verdict on a match. The
 * final block returns 0 (deny).
 */
#include <linux/bpf.h>
#include <sys/syscall.h>

#include "cgroup.h"

#define INSN(c, d, s, o, i)                                                                        \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

#define ACC_ALL (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)

struct insn_buf {
	struct bpf_insn *v;
	size_t n;
};

static void emit(struct insn_buf *b, struct bpf_insn i)
{
	b->v = xrealloc(b->v, sizeof(*b->v) * (b->n + 1));
	b->v[b->n++] = i;
}

static int parse_access(const char *access, int *ret)
{
	int acc = 0;

	if (isempty(access)) {
		*ret = ACC_ALL;
		return 0;
	}
	for (const char *p = access; *p; p++) {
		switch (*p) {
		case 'r':
			acc |= BPF_DEVCG_ACC_READ;
			break;
		case 'w':
			acc |= BPF_DEVCG_ACC_WRITE;
			break;
		case 'm':
			acc |= BPF_DEVCG_ACC_MKNOD;
			break;
		default:
			return -EINVAL;
		}
	}
	*ret = acc;
	return 0;
}

/* Emit one rule's block. Returns 1 when the rule matches unconditionally. */
static int emit_rule(struct insn_buf *b, const struct oci_device_cgroup *r, size_t idx,
		     struct error **err)
{
	bool all = !r->type || streq(r->type, "a");
	bool has_major = !all && r->major.set && r->major.v >= 0;
	bool has_minor = !all && r->minor.set && r->minor.v >= 0;
	int type = 0, acc = ACC_ALL;
	size_t len, k = 0;

	if (!all) {
		if (streq(r->type, "c"))
			type = BPF_DEVCG_DEV_CHAR;
		else if (streq(r->type, "b"))
			type = BPF_DEVCG_DEV_BLOCK;
		else
			return error_setx(err, -EINVAL, "invalid device rule %zu: type '%s'", idx,
					  r->type);
		if (parse_access(r->access, &acc) < 0)
			return error_setx(err, -EINVAL, "invalid device rule %zu: access '%s'", idx,
					  r->access);
	}
	if ((has_major && r->major.v > INT32_MAX) || (has_minor && r->minor.v > INT32_MAX))
		return error_setx(err, -EINVAL, "invalid device rule %zu: major/minor out of range",
				  idx);

	/* checks + "mov r0" + "exit" */
	len = (size_t)(!all) + (acc != ACC_ALL ? 3 : 0) + has_major + has_minor + 2;
	if (!all)
		emit(b, INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, (short)(len - ++k), type));
	if (acc != ACC_ALL) {
		emit(b, INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0));
		emit(b, INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, acc));
		k += 2;
		if (r->allow)
			/* every requested bit must be allowed: (R3 & acc) == R3 */
			emit(b, INSN(BPF_JMP | BPF_JNE | BPF_X, BPF_REG_1, BPF_REG_3,
				     (short)(len - ++k), 0));
		else
			/* any requested bit that is denied: (R3 & acc) != 0 */
			emit(b,
			     INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_1, 0, (short)(len - ++k), 0));
	}
	if (has_major)
		emit(b, INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, (short)(len - ++k),
			     (int)r->major.v));
	if (has_minor)
		emit(b, INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, (short)(len - ++k),
			     (int)r->minor.v));
	emit(b, INSN(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r->allow ? 1 : 0));
	emit(b, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	return len == 2;
}

int cgroup_devices_bpf_generate(const struct oci_device_cgroup *rules, size_t n,
				struct bpf_insn **ret, size_t *ret_n, struct error **err)
{
	struct insn_buf b = {};
	bool terminated = false;
	int r;

	/* R2 = type (low 16 bits), R3 = access (high 16 bits), R4 = major, R5 = minor */
	emit(&b, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0));
	emit(&b, INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff));
	emit(&b, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 0, 0));
	emit(&b, INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16));
	emit(&b, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0));
	emit(&b, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0));

	for (size_t i = n; i > 0; i--) {
		r = emit_rule(&b, &rules[i - 1], i - 1, err);
		if (r < 0) {
			free(b.v);
			return r;
		}
		if (r > 0) {
			terminated = true;
			break;
		}
	}
	if (!terminated) {
		emit(&b, INSN(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
		emit(&b, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	}
	*ret = b.v;
	*ret_n = b.n;
	return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

int cgroup_devices_bpf_attach(int cgroup_fd, const struct bpf_insn *insns, size_t n,
			      struct error **err)
{
	_cleanup_close_ int prog = -EBADF;
	char log[4096] = "";
	uint32_t old_ids[64];
	uint32_t n_old = 0;
	union bpf_attr a;

	/* the programs attached now, to detach once the new one is in place */
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)cgroup_fd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)old_ids;
	a.query.prog_cnt = ELEMENTSOF(old_ids);
	if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
		return error_set(err, -errno, "query device programs of the cgroup");
	n_old = a.query.prog_cnt;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t) "Apache";
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	prog = sys_bpf(BPF_PROG_LOAD, &a);
	if (prog < 0 && errno == ENOSPC) {
		/* the verifier log did not fit: load again without it */
		a.log_buf = 0;
		a.log_size = 0;
		a.log_level = 0;
		prog = sys_bpf(BPF_PROG_LOAD, &a);
	}
	if (prog < 0) {
		int e = -errno;
		size_t l = strlen(log);
		while (l > 0 && log[l - 1] == '\n')
			log[--l] = 0;
		if (l > 0)
			return error_set(err, e, "load device filter (verifier: %s)", log);
		return error_set(err, e, "load device filter");
	}

	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgroup_fd;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
		return error_set(err, -errno, "attach device filter");

	for (uint32_t i = 0; i < n_old && i < ELEMENTSOF(old_ids); i++) {
		_cleanup_close_ int old = -EBADF;

		memset(&a, 0, sizeof(a));
		a.prog_id = old_ids[i];
		a.open_flags = 0;
		old = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
		if (old < 0) {
			if (errno == ENOENT)
				continue;
			return error_set(err, -errno, "open old device filter %u", old_ids[i]);
		}
		memset(&a, 0, sizeof(a));
		a.target_fd = (uint32_t)cgroup_fd;
		a.attach_bpf_fd = (uint32_t)old;
		a.attach_type = BPF_CGROUP_DEVICE;
		if (sys_bpf(BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
			return error_set(err, -errno, "detach old device filter %u", old_ids[i]);
	}
	return 0;
}
