/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "internal.h"

static int last_cap(void)
{
	static int last = -1;
	if (last < 0) {
		/* The kernel's answer wins over what libcap was built with. */
		char *s = NULL;
		int v;
		if (read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", 64, &s, NULL) >= 0 &&
		    safe_atoi(strtok(s, "\n"), &v) >= 0)
			last = v;
		else
			last = CAP_LAST_CAP;
		free(s);
		if (last > 63)
			last = 63;
	}
	return last;
}

int caps_from_name(const char *name)
{
	cap_value_t v;
	const char *n = name;
	char lower[64];
	size_t i;

	/* libcap wants "cap_chown"; OCI says "CAP_CHOWN". */
	for (i = 0; n[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (char)((n[i] >= 'A' && n[i] <= 'Z') ? n[i] + 32 : n[i]);
	lower[i] = 0;
	if (!startswith(lower, "cap_"))
		return -EINVAL;
	if (cap_from_name(lower, &v) < 0)
		return -EINVAL;
	if (v > last_cap())
		return -EOPNOTSUPP;
	return v;
}

static uint64_t mask_of(char **names)
{
	uint64_t m = 0;
	for (char **p = names; p && *p; p++) {
		int c = caps_from_name(*p);
		if (c < 0) {
			log_warn("warning: ignoring unknown or unsupported capability '%s'", *p);
			continue;
		}
		m |= 1ULL << c;
	}
	return m;
}

void caps_parse(const struct oci_capabilities *c, struct caps_set *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->present = c->present;
	if (!c->present)
		return;
	ret->bounding = mask_of(c->bounding);
	ret->effective = mask_of(c->effective);
	ret->inheritable = mask_of(c->inheritable);
	ret->permitted = mask_of(c->permitted);
	ret->ambient = mask_of(c->ambient);
}

int caps_apply_bounding(const struct caps_set *c)
{
	int last = last_cap();
	if (!c->present)
		return 0;
	for (int i = 0; i <= last; i++) {
		if (c->bounding & (1ULL << i))
			continue;
		if (prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	}
	return 0;
}

int caps_apply(const struct caps_set *c)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];
	int last = last_cap();

	if (!c->present)
		return 0;
	d[0].effective = (uint32_t)c->effective;
	d[1].effective = (uint32_t)(c->effective >> 32);
	d[0].permitted = (uint32_t)c->permitted;
	d[1].permitted = (uint32_t)(c->permitted >> 32);
	d[0].inheritable = (uint32_t)c->inheritable;
	d[1].inheritable = (uint32_t)(c->inheritable >> 32);
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	for (int i = 0; i <= last; i++)
		if ((c->ambient & (1ULL << i)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0)
			log_debug("cannot raise ambient capability %d: %m", i);
	return 0;
}

/* Every capability name berth knows, in the kernel's order. */
const char *const runtime_all_caps[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
const size_t runtime_n_caps = ELEMENTSOF(runtime_all_caps);
