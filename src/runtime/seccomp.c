/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compile an OCI seccomp profile with libseccomp, cache the BPF on disk, and
 * install it with a bare seccomp(2).
 *
 * The program the kernel gets is [ENOSYS stub][libseccomp's filter]. The stub
 * (runc's patchbpf idea) makes syscalls numbered above the highest syscall the
 * profile names return ENOSYS instead of the default errno, so that a libc
 * running on a newer kernel than the profile falls back instead of failing.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "seccomp-internal.h"
#include "seccomp.h"

#define FIELD "linux.seccomp"

/* ---- names ------------------------------------------------------------ */

#ifndef SCMP_ARCH_LOONGARCH64
#define SCMP_ARCH_LOONGARCH64 0
#endif
#ifndef SCMP_ARCH_M68K
#define SCMP_ARCH_M68K 0
#endif
#ifndef SCMP_ARCH_SH
#define SCMP_ARCH_SH 0
#endif
#ifndef SCMP_ARCH_SHEB
#define SCMP_ARCH_SHEB 0
#endif

static const struct seccomp_arch_info arch_table[] = {
    {"SCMP_ARCH_X86", "386", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", "amd64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", NULL, SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", "arm", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", "arm64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", "mips", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", "mips64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", NULL, SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", "mipsle", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", "mips64le", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", NULL, SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", "ppc", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", "ppc64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", "ppc64le", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", "s390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", "s390x", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", NULL, SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", NULL, SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", "riscv64", SCMP_ARCH_RISCV64},
    {"SCMP_ARCH_LOONGARCH64", "loong64", SCMP_ARCH_LOONGARCH64},
    {"SCMP_ARCH_M68K", NULL, SCMP_ARCH_M68K},
    {"SCMP_ARCH_SH", NULL, SCMP_ARCH_SH},
    {"SCMP_ARCH_SHEB", NULL, SCMP_ARCH_SHEB},
};

const struct seccomp_arch_info *seccomp_arch_by_name(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(arch_table); i++)
		if (streq(arch_table[i].name, name))
			return &arch_table[i];
	return NULL;
}

const struct seccomp_arch_info *seccomp_arch_native_info(void)
{
	uint32_t native = seccomp_arch_native();

	for (size_t i = 0; i < ELEMENTSOF(arch_table); i++)
		if (arch_table[i].token != 0 && arch_table[i].token == native)
			return &arch_table[i];
	return NULL;
}

static const struct {
	const char *name;
	unsigned int flag;
} flag_table[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
#ifdef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
#endif
};

static const struct {
	const char *name;
	enum scmp_compare op;
} op_table[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

enum action_kind { ACT_PLAIN, ACT_ERRNO, ACT_TRACE };

static const struct {
	const char *name;
	uint32_t action;
	enum action_kind kind;
} action_table[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL, ACT_PLAIN},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, ACT_PLAIN},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, ACT_PLAIN},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, ACT_PLAIN},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), ACT_ERRNO},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), ACT_TRACE},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, ACT_PLAIN},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, ACT_PLAIN},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, ACT_PLAIN},
};

/* The kernel caps an errno at MAX_ERRNO; a trace message has 16 bits. */
#define ERRNO_MAX 4095
#define TRACE_MSG_MAX 0xffff

/*
 * path names the action field, errno_path the errnoRet beside it. Without
 * errnoRet, ERRNO and TRACE use EPERM, as runc does.
 */
static int parse_action(const char *name, const struct opt_u64 *errno_ret, const char *path,
			const char *errno_path, uint32_t *ret, struct error **err)
{
	if (!name)
		return error_setx(err, -EINVAL, "missing required field '%s'", path);
	for (size_t i = 0; i < ELEMENTSOF(action_table); i++) {
		if (!streq(action_table[i].name, name))
			continue;
		switch (action_table[i].kind) {
		case ACT_PLAIN:
			if (errno_ret->set)
				return error_setx(err, -EINVAL,
						  "invalid value for '%s': only SCMP_ACT_ERRNO and "
						  "SCMP_ACT_TRACE take an errno, not '%s'",
						  errno_path, name);
			*ret = action_table[i].action;
			return 0;
		case ACT_ERRNO:
			if (errno_ret->set && errno_ret->v > ERRNO_MAX)
				return error_setx(err, -ERANGE,
						  "invalid value for '%s': %" PRIu64
						  " is not an errno (at most %d)",
						  errno_path, errno_ret->v, ERRNO_MAX);
			*ret = SCMP_ACT_ERRNO(errno_ret->set ? (uint32_t)errno_ret->v : EPERM);
			return 0;
		case ACT_TRACE:
			if (errno_ret->set && errno_ret->v > TRACE_MSG_MAX)
				return error_setx(err, -ERANGE,
						  "invalid value for '%s': %" PRIu64
						  " does not fit in a trace message (at most %d)",
						  errno_path, errno_ret->v, TRACE_MSG_MAX);
			*ret = SCMP_ACT_TRACE(errno_ret->set ? (uint32_t)errno_ret->v : EPERM);
			return 0;
		}
	}
	return error_setx(err, -EINVAL, "invalid value for '%s': unknown action '%s'", path, name);
}

static int parse_flags(const struct oci_seccomp *sc, unsigned int *ret, struct error **err)
{
	unsigned int flags = 0;

	for (size_t i = 0; sc->flags && sc->flags[i]; i++) {
		size_t j;
		for (j = 0; j < ELEMENTSOF(flag_table); j++)
			if (streq(flag_table[j].name, sc->flags[i]))
				break;
		if (j == ELEMENTSOF(flag_table))
			return error_setx(err, -EINVAL,
					  "invalid value for '" FIELD
					  ".flags[%zu]': unknown flag '%s'",
					  i, sc->flags[i]);
		flags |= flag_table[j].flag;
	}
	*ret = flags;
	return 0;
}

static bool profile_notifies(const struct oci_seccomp *sc)
{
	for (size_t i = 0; i < sc->n_syscalls; i++)
		if (streq_ptr(sc->syscalls[i].action, "SCMP_ACT_NOTIFY"))
			return true;
	return false;
}

/* ---- canonical serialisation and hashing ------------------------------ */

struct buf {
	char *p;
	size_t n, cap;
};

static void buf_put(struct buf *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 256;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void buf_release(struct buf *b)
{
	free(b->p);
	*b = (struct buf){0};
}

static void buf_printf(struct buf *b, const char *fmt, ...) _printf_(2, 3);
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	if ((size_t)n < sizeof(tmp)) {
		buf_put(b, tmp, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	char *big = NULL;
	if (vasprintf(&big, fmt, ap) < 0)
		abort();
	va_end(ap);
	buf_put(b, big, strlen(big));
	free(big);
}

/* Strings are length-prefixed so no byte in a name can forge a field boundary. */
static void buf_str(struct buf *b, const char *tag, const char *s)
{
	if (!s) {
		buf_printf(b, "%s -\n", tag);
		return;
	}
	buf_printf(b, "%s %zu:", tag, strlen(s));
	buf_put(b, s, strlen(s));
	buf_put(b, "\n", 1);
}

static void buf_strv(struct buf *b, const char *tag, char *const *l)
{
	if (!l) {
		buf_printf(b, "%s -\n", tag);
		return;
	}
	buf_printf(b, "%s %zu\n", tag, strv_length(l));
	for (char *const *s = l; *s; s++)
		buf_str(b, "", *s);
}

static void buf_opt(struct buf *b, const char *tag, const struct opt_u64 *o)
{
	if (o->set)
		buf_printf(b, "%s %" PRIu64 "\n", tag, o->v);
	else
		buf_printf(b, "%s -\n", tag);
}

/*
 * Everything the compiled program depends on: the profile minus the listener
 * fields, the libseccomp version (its syscall tables), the kernel release (the
 * actions libseccomp probes as supported) and the native architecture.
 */
static void serialise(const struct oci_seccomp *sc, struct buf *b)
{
	const struct scmp_version *v = seccomp_version();
	struct utsname u;

	if (uname(&u) < 0)
		strcpy(u.release, "?");
	buf_printf(b, "berth-seccomp 1\nlibseccomp %u.%u.%u\n", v->major, v->minor, v->micro);
	buf_str(b, "kernel", u.release);
	buf_printf(b, "native %08x\n", seccomp_arch_native());
	buf_str(b, "defaultAction", sc->default_action);
	buf_opt(b, "defaultErrnoRet", &sc->default_errno_ret);
	buf_strv(b, "architectures", sc->architectures);
	buf_strv(b, "flags", sc->flags);
	buf_printf(b, "syscalls %zu\n", sc->n_syscalls);
	for (size_t i = 0; i < sc->n_syscalls; i++) {
		const struct oci_seccomp_syscall *s = &sc->syscalls[i];
		buf_strv(b, "names", s->names);
		buf_str(b, "action", s->action);
		buf_opt(b, "errnoRet", &s->errno_ret);
		buf_printf(b, "args %zu\n", s->n_args);
		for (size_t j = 0; j < s->n_args; j++) {
			const struct oci_seccomp_arg *a = &s->args[j];
			buf_printf(b, "arg %" PRIu32 " %" PRIu64 " %" PRIu64 "\n", a->index,
				   a->value, a->value_two);
			buf_str(b, "op", a->op);
		}
	}
}

/*
 * A 64-bit hash a word at a time: a cache key and a corruption check, not a
 * defence (the entry's serialisation is compared byte for byte anyway). Byte-wise
 * FNV-1a over the serialisation and program was half of a cache hit.
 */
#define HASH_SEED UINT64_C(0xcbf29ce484222325)
static uint64_t hash64(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;
	uint64_t w;

	h ^= n * UINT64_C(0x9e3779b97f4a7c15);
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 29;
	return h;
}

/* ---- the ENOSYS stub -------------------------------------------------- */

#define X32_SYSCALL_BIT 0x40000000U
#define STUB_MAX 256
#define L_ENOSYS (-1)
#define L_FILTER (-2)

struct stub {
	struct sock_filter insn[STUB_MAX];
	int jt[STUB_MAX], jf[STUB_MAX]; /* absolute targets or L_*, resolved at the end */
	size_t n;
};

static size_t stub_emit(struct stub *s, uint16_t code, uint32_t k, int jt, int jf)
{
	/* STUB_MAX bounds one block per table row; more cannot happen. */
	if (s->n >= STUB_MAX)
		abort();
	s->insn[s->n] = (struct sock_filter){.code = code, .k = k};
	s->jt[s->n] = jt;
	s->jf[s->n] = jf;
	return s->n++;
}

static int stub_resolve(struct stub *s)
{
	size_t enosys = s->n - 1, filter = s->n;

	for (size_t i = 0; i < s->n; i++) {
		struct sock_filter *f = &s->insn[i];
		long t[2];

		if (BPF_CLASS(f->code) != BPF_JMP)
			continue;
		for (int w = 0; w < 2; w++) {
			int lbl = w ? s->jf[i] : s->jt[i];
			size_t abs = lbl == L_ENOSYS   ? enosys
				     : lbl == L_FILTER ? filter
						       : (size_t)lbl;
			t[w] = (long)abs - (long)(i + 1);
			if (t[w] < 0 || (BPF_OP(f->code) != BPF_JA && t[w] > 255))
				return -E2BIG;
		}
		if (BPF_OP(f->code) == BPF_JA) {
			f->k = (uint32_t)t[0];
		} else {
			f->jt = (uint8_t)t[0];
			f->jf = (uint8_t)t[1];
		}
	}
	return 0;
}

/* The highest syscall number any name of the profile has on arch; -1 if none. */
static long max_syscall(const struct oci_seccomp *sc, uint32_t arch)
{
	long max = -1;

	for (size_t i = 0; i < sc->n_syscalls; i++)
		for (char *const *n = sc->syscalls[i].names; n && *n; n++) {
			int nr = seccomp_syscall_resolve_name_arch(arch, *n);
			if (nr >= 0 && nr > max)
				max = nr;
		}
	return max;
}

/*
 * Build the stub for the architectures in the filter. On x86_64 x32 syscalls
 * arrive with AUDIT_ARCH_X86_64 and X32_SYSCALL_BIT set in the number, so
 * they get their own limit inside the x86_64 block.
 */
static int stub_build(const struct oci_seccomp *sc, const uint32_t *arches, size_t n_arches,
		      struct stub *s)
{
	bool has_x32 = false;

	for (size_t i = 0; i < n_arches; i++)
		has_x32 = has_x32 || arches[i] == SCMP_ARCH_X32;

	stub_emit(s, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), 0, 0);
	for (size_t i = 0; i < n_arches; i++) {
		long max, max32 = -1;
		size_t jeq;

		if (arches[i] == SCMP_ARCH_X32)
			continue;
		max = max_syscall(sc, arches[i]);
		if (arches[i] == SCMP_ARCH_X86_64 && has_x32)
			max32 = max_syscall(sc, SCMP_ARCH_X32);
		if (max < 0 && max32 < 0)
			continue;

		jeq = stub_emit(s, BPF_JMP | BPF_JEQ | BPF_K, arches[i], 0, 0);
		s->jt[jeq] = (int)jeq + 1;
		stub_emit(s, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0);
		if (arches[i] == SCMP_ARCH_X86_64) {
			size_t jset =
			    stub_emit(s, BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 0, 0);
			s->jf[jset] = (int)jset + 1;
			if (max >= 0)
				stub_emit(s, BPF_JMP | BPF_JGT | BPF_K, (uint32_t)max, L_ENOSYS,
					  L_FILTER);
			else
				stub_emit(s, BPF_JMP | BPF_JA, 0, L_FILTER, L_FILTER);
			s->jt[jset] = (int)s->n;
			if (max32 >= 0)
				stub_emit(s, BPF_JMP | BPF_JGT | BPF_K, (uint32_t)max32, L_ENOSYS,
					  L_FILTER);
			else
				stub_emit(s, BPF_JMP | BPF_JA, 0, L_FILTER, L_FILTER);
		} else {
			stub_emit(s, BPF_JMP | BPF_JGT | BPF_K, (uint32_t)max, L_ENOSYS, L_FILTER);
		}
		/* Another architecture: the accumulator still holds the arch. */
		s->jf[jeq] = (int)s->n;
	}
	stub_emit(s, BPF_JMP | BPF_JA, 0, L_FILTER, L_FILTER);
	stub_emit(s, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS, 0, 0);
	return stub_resolve(s);
}

/* ---- compiling -------------------------------------------------------- */

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

static int add_arches(scmp_filter_ctx ctx, const struct oci_seccomp *sc, uint32_t *arches,
		      size_t *n_arches, struct error **err)
{
	arches[(*n_arches)++] = seccomp_arch_native();
	for (size_t i = 0; sc->architectures && sc->architectures[i]; i++) {
		const char *a = sc->architectures[i];
		const struct seccomp_arch_info *info = seccomp_arch_by_name(a);
		const struct scmp_version *v;
		bool seen = false;
		int r;

		if (!info)
			return error_setx(err, -EINVAL,
					  "invalid value for '" FIELD
					  ".architectures[%zu]': unknown architecture '%s'",
					  i, a);
		if (info->token == 0) {
			v = seccomp_version();
			return error_setx(
			    err, -EOPNOTSUPP,
			    "invalid value for '" FIELD
			    ".architectures[%zu]': architecture '%s' is not supported "
			    "by libseccomp %u.%u.%u",
			    i, a, v->major, v->minor, v->micro);
		}
		for (size_t j = 0; j < *n_arches; j++)
			seen = seen || arches[j] == info->token;
		if (seen)
			continue;
		r = seccomp_arch_add(ctx, info->token);
		if (r < 0 && r != -EEXIST)
			return error_set(err, r,
					 "failed to add architecture '%s' from '" FIELD
					 ".architectures[%zu]'",
					 a, i);
		arches[(*n_arches)++] = info->token;
	}
	return 0;
}

static int parse_args(const struct oci_seccomp_syscall *s, size_t idx, struct scmp_arg_cmp *cmps,
		      bool *ret_same_index, struct error **err)
{
	unsigned int count[6] = {0};

	*ret_same_index = false;
	for (size_t j = 0; j < s->n_args; j++) {
		const struct oci_seccomp_arg *a = &s->args[j];
		size_t k;

		if (a->index >= ELEMENTSOF(count))
			return error_setx(err, -EINVAL,
					  "invalid value for '" FIELD
					  ".syscalls[%zu].args[%zu].index': %" PRIu32
					  " is not a syscall argument (0 to 5)",
					  idx, j, a->index);
		for (k = 0; k < ELEMENTSOF(op_table); k++)
			if (streq_ptr(op_table[k].name, a->op))
				break;
		if (k == ELEMENTSOF(op_table))
			return error_setx(err, -EINVAL,
					  "invalid value for '" FIELD
					  ".syscalls[%zu].args[%zu].op': unknown operator '%s'",
					  idx, j, a->op ? a->op : "");
		cmps[j] = (struct scmp_arg_cmp){
		    .arg = a->index,
		    .op = op_table[k].op,
		    .datum_a = a->value,
		    .datum_b = a->value_two,
		};
		if (++count[a->index] > 1)
			*ret_same_index = true;
	}
	return 0;
}

static int add_syscall(scmp_filter_ctx ctx, const struct oci_seccomp_syscall *s, size_t idx,
		       uint32_t default_action, struct error **err)
{
	_cleanup_free_ char *path = xasprintf(FIELD ".syscalls[%zu].action", idx);
	_cleanup_free_ char *epath = xasprintf(FIELD ".syscalls[%zu].errnoRet", idx);
	_cleanup_free_ struct scmp_arg_cmp *cmps = NULL;
	bool same_index;
	uint32_t action;
	int r;

	r = parse_action(s->action, &s->errno_ret, path, epath, &action, err);
	if (r < 0)
		return r;
	cmps = xnew0(struct scmp_arg_cmp, s->n_args ? s->n_args : 1);
	r = parse_args(s, idx, cmps, &same_index, err);
	if (r < 0)
		return r;
	/* libseccomp refuses a rule whose action is the default; it is a no-op anyway. */
	if (action == default_action)
		return 0;

	for (size_t i = 0; s->names && s->names[i]; i++) {
		const char *n = s->names[i];
		int nr = seccomp_syscall_resolve_name(n);

		if (nr == __NR_SCMP_ERROR) {
			log_debug("seccomp: unknown syscall '%s' ignored", n);
			continue;
		}
		if (!same_index) {
			r = seccomp_rule_add_array(ctx, action, nr, (unsigned int)s->n_args, cmps);
		} else {
			/*
			 * libseccomp allows one comparison per argument in a rule. Like
			 * runc, fall back to one rule per comparison: they OR.
			 */
			r = 0;
			for (size_t j = 0; j < s->n_args && r >= 0; j++)
				r = seccomp_rule_add_array(ctx, action, nr, 1, &cmps[j]);
		}
		if (r < 0)
			return error_set(err, r,
					 "failed to add rule for syscall '%s' from '" FIELD
					 ".syscalls[%zu].names[%zu]'",
					 n, idx, i);
	}
	return 0;
}

static int export_bpf(scmp_filter_ctx ctx, const struct stub *stub, struct sock_filter **ret,
		      size_t *ret_len, struct error **err)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ struct sock_filter *prog = NULL;
	size_t pre = stub ? stub->n : 0, n;
	off_t size;
	ssize_t l;
	int r;

	fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return error_set(err, -errno, "failed to create memfd for seccomp filter");
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return error_set(err, r, "failed to export seccomp filter");
	size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		return error_set(err, -errno, "failed to size seccomp filter");
	if (size == 0 || size % sizeof(struct sock_filter) != 0)
		return error_setx(err, -EIO, "libseccomp exported a filter of %lld bytes",
				  (long long)size);
	n = (size_t)size / sizeof(struct sock_filter);
	if (pre + n > BPF_MAXINSNS)
		return error_setx(
		    err, -E2BIG, "seccomp filter has %zu instructions, the kernel takes at most %d",
		    pre + n, BPF_MAXINSNS);
	prog = xnew0(struct sock_filter, pre + n);
	if (pre)
		memcpy(prog, stub->insn, pre * sizeof(struct sock_filter));
	if (lseek(fd, 0, SEEK_SET) < 0)
		return error_set(err, -errno, "failed to rewind seccomp filter");
	l = loop_read(fd, prog + pre, (size_t)size);
	if (l < 0)
		return error_set(err, (int)l, "failed to read seccomp filter");
	if ((size_t)l != (size_t)size)
		return error_setx(err, -EIO, "short read of seccomp filter");
	*ret = TAKE_PTR(prog);
	*ret_len = pre + n;
	return 0;
}

static int compile(const struct oci_seccomp *sc, struct sock_filter **ret, size_t *ret_len,
		   struct error **err)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
	_cleanup_free_ uint32_t *arches = NULL;
	_cleanup_free_ struct stub *stub = NULL;
	size_t n_arches = 0;
	uint32_t def;
	int r;

	if (!sc->default_action)
		return error_setx(err, -EINVAL, "missing required field '" FIELD ".defaultAction'");
	r = parse_action(sc->default_action, &sc->default_errno_ret, FIELD ".defaultAction",
			 FIELD ".defaultErrnoRet", &def, err);
	if (r < 0)
		return r;
	if (def == SCMP_ACT_NOTIFY)
		return error_setx(err, -EINVAL,
				  "invalid value for '" FIELD ".defaultAction': "
				  "SCMP_ACT_NOTIFY cannot be the default action");

	ctx = seccomp_init(def);
	if (!ctx)
		return error_setx(err, -EINVAL,
				  "invalid value for '" FIELD ".defaultAction': "
				  "libseccomp or the kernel does not support '%s'",
				  sc->default_action);
	/* The runtime sets no_new_privs itself, when the spec asks for it. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		return error_set(err, r, "failed to configure seccomp filter");
	/*
	 * A binary tree over the syscall numbers instead of a linear scan: Docker's
	 * profile on x86_64+x86+x32 installs in about a third of the time (the
	 * kernel emulates the filter per syscall to fill its action cache) and
	 * costs each syscall O(log n) instead of O(n). Compiling is slower, but
	 * that is what the cache is for.
	 */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0)
		log_debug("seccomp: no binary tree optimisation: %s", strerror(-r));

	arches = xnew0(uint32_t, strv_length(sc->architectures) + 1);
	r = add_arches(ctx, sc, arches, &n_arches, err);
	if (r < 0)
		return r;

	for (size_t i = 0; i < sc->n_syscalls; i++) {
		r = add_syscall(ctx, &sc->syscalls[i], i, def, err);
		if (r < 0)
			return r;
	}

	/* Only an errno default needs translating; ENOSYS already is one. */
	if ((def & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO &&
	    (def & SECCOMP_RET_DATA) != ENOSYS) {
		stub = xnew0(struct stub, 1);
		r = stub_build(sc, arches, n_arches, stub);
		if (r < 0)
			return error_set(err, r, "failed to build the ENOSYS prologue");
	}
	return export_bpf(ctx, stub, ret, ret_len, err);
}

/* ---- cache ------------------------------------------------------------ */

#define CACHE_MAGIC "BRTHSCMP"
#define CACHE_VERSION 1

struct cache_header {
	char magic[8];
	uint32_t version;
	uint32_t n_insns;
	uint64_t ser_len;
	uint64_t checksum; /* hash64 of the program */
};

static uint64_t cache_checksum(const void *prog, size_t prog_size)
{
	return hash64(HASH_SEED ^ CACHE_VERSION, prog, prog_size);
}

/*
 * Returns 1 and the program on a valid entry, 0 when there is none or it is
 * not to be trusted (wrong owner or mode, wrong size, bad checksum, another
 * profile): the caller recompiles and overwrites it.
 */
static int cache_read(int fd, const struct buf *ser, struct sock_filter **ret, size_t *ret_len)
{
	_cleanup_free_ char *data = NULL;
	struct cache_header h;
	struct stat st;
	size_t size, prog_size;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) != 0)
		return 0;
	size = (size_t)st.st_size;
	if (size < sizeof(h) + ser->n + sizeof(struct sock_filter) ||
	    size > sizeof(h) + ser->n + BPF_MAXINSNS * sizeof(struct sock_filter))
		return 0;
	data = xmalloc(size);
	if (loop_read(fd, data, size) != (ssize_t)size)
		return 0;
	memcpy(&h, data, sizeof(h));
	prog_size = size - sizeof(h) - ser->n;
	if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) != 0 || h.version != CACHE_VERSION ||
	    h.ser_len != ser->n || prog_size % sizeof(struct sock_filter) != 0 ||
	    h.n_insns != prog_size / sizeof(struct sock_filter))
		return 0;
	if (memcmp(data + sizeof(h), ser->p, ser->n) != 0)
		return 0;
	if (h.checksum != cache_checksum(data + sizeof(h) + ser->n, prog_size))
		return 0;

	*ret = xmalloc(prog_size);
	memcpy(*ret, data + sizeof(h) + ser->n, prog_size);
	*ret_len = h.n_insns;
	return 1;
}

static int cache_load(const char *path, const struct buf *ser, struct sock_filter **ret,
		      size_t *ret_len)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		if (errno != ENOENT)
			log_debug("seccomp: cannot open cache '%s': %s", path, strerror(errno));
		return 0;
	}
	r = cache_read(fd, ser, ret, ret_len);
	if (r == 0)
		log_debug("seccomp: ignoring invalid cache entry '%s'", path);
	return r;
}

static void cache_store(const char *cache_dir, const char *path, const struct buf *ser,
			const struct sock_filter *prog, size_t len)
{
	struct cache_header h = {.version = CACHE_VERSION, .n_insns = (uint32_t)len};
	_cleanup_(buf_release) struct buf b = {0};
	int r;

	memcpy(h.magic, CACHE_MAGIC, sizeof(h.magic));
	h.ser_len = ser->n;
	h.checksum = cache_checksum(prog, len * sizeof(*prog));
	buf_put(&b, &h, sizeof(h));
	buf_put(&b, ser->p, ser->n);
	buf_put(&b, prog, len * sizeof(*prog));

	r = mkdir_p(cache_dir, 0700);
	if (r >= 0)
		r = write_file_atomic(path, b.p, b.n, 0600);
	if (r < 0)
		log_debug("seccomp: cannot write cache '%s': %s", path, strerror(-r));
}

/* ---- public ----------------------------------------------------------- */

int seccomp_prepare(const struct oci_seccomp *sc, const char *cache_dir,
		    struct seccomp_program *ret, struct error **err)
{
	_cleanup_free_ struct sock_filter *prog = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_(buf_release) struct buf ser = {0};
	unsigned int flags = 0;
	bool cached = false;
	size_t len = 0;
	int r;

	*ret = (struct seccomp_program){0};
	r = parse_flags(sc, &flags, err);
	if (r < 0)
		return r;

	if (cache_dir) {
		serialise(sc, &ser);
		path =
		    xasprintf("%s/%016" PRIx64 ".bpf", cache_dir, hash64(HASH_SEED, ser.p, ser.n));
		cached = cache_load(path, &ser, &prog, &len) > 0;
	}
	if (!cached) {
		r = compile(sc, &prog, &len, err);
		if (r < 0)
			return r;
		if (cache_dir)
			cache_store(cache_dir, path, &ser, prog, len);
	}

	ret->filter = TAKE_PTR(prog);
	ret->len = len;
	ret->flags = flags;
	ret->notify = profile_notifies(sc);
	return 0;
}

void seccomp_program_release(struct seccomp_program *p)
{
	if (!p)
		return;
	free(p->filter);
	*p = (struct seccomp_program){0};
}

int seccomp_install(const struct seccomp_program *p)
{
	struct sock_fprog prog = {.len = (unsigned short)p->len, .filter = p->filter};
	unsigned int flags = p->flags;
	long r;

	if (p->len == 0 || p->len > BPF_MAXINSNS)
		return -EINVAL;
	if (p->notify) {
		flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
		/* TSYNC alone would return a thread id where the listener fd goes. */
		if (flags & SECCOMP_FILTER_FLAG_TSYNC)
			flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
	}
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (r < 0 && errno == ENOSYS && flags == 0)
		r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
	if (r < 0)
		return -errno;
	return p->notify ? (int)r : 0;
}
