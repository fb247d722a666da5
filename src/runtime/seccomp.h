/* SPDX-License-Identifier: Apache-2.0 */
/*
 * seccomp: compile an OCI seccomp profile to a BPF program with libseccomp,
 * in the runtime process before it clones the container, and install it in
 * the container's init right before execve.
 *
 * Compiling Docker's default profile costs milliseconds, so programs are
 * cached on disk (DESIGN §5: compiled once per profile): the cache key is a
 * hash of a canonical serialisation of the profile plus the kernel's and
 * libseccomp's versions; a cache entry stores that serialisation too and is
 * used only when it matches byte for byte, so a hash collision cannot pick a
 * wrong filter.
 */
#ifndef BERTH_RUNTIME_SECCOMP_H
#define BERTH_RUNTIME_SECCOMP_H

#include <linux/filter.h>

#include "oci/oci.h"

struct seccomp_program {
	struct sock_filter *filter;
	size_t len;        /* instructions */
	unsigned int flags; /* SECCOMP_FILTER_FLAG_* from the profile's flags */
	bool notify;       /* an action is SCMP_ACT_NOTIFY: install with NEW_LISTENER */
};

/*
 * Compile sc. caps is the container's bounding set (capability names), used
 * for nothing today but kept so profile "includes" can be honoured later.
 * cache_dir may be NULL (no cache). Unknown syscall names are skipped, as runc
 * and crun do; unknown actions, operators, architectures or flags are errors
 * that name the field.
 */
int seccomp_prepare(const struct oci_seccomp *sc, const char *cache_dir,
		    struct seccomp_program *ret, struct error **err);
void seccomp_program_release(struct seccomp_program *p);

/*
 * Install the program in the calling process (no allocation: safe in the
 * container's init). Returns the listener fd when p->notify, else 0; -errno.
 */
int seccomp_install(const struct seccomp_program *p);

#endif
