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
	size_t len;	    /* instructions */
	unsigned int flags; /* SECCOMP_FILTER_FLAG_* from the profile's flags */
	bool notify;	    /* an action is SCMP_ACT_NOTIFY: install with NEW_LISTENER */
};

/*
 * Compile sc (already evaluated: Docker's includes/excludes are the daemon's
 * business, see seccomp_docker_profile_to_oci). cache_dir may be NULL (no
 * cache); it is created 0700 when missing, and cache write failures only cost
 * speed. Unknown syscall names are skipped, as runc and crun do; unknown
 * actions, operators, architectures or flags are errors that name the field.
 * With an ERRNO default, syscalls numbered above every syscall the profile
 * names return ENOSYS, so that libc falls back on kernels newer than the
 * profile (runc does the same).
 */
int seccomp_prepare(const struct oci_seccomp *sc, const char *cache_dir,
		    struct seccomp_program *ret, struct error **err);
void seccomp_program_release(struct seccomp_program *p);

/*
 * Install the program in the calling process (no allocation: safe in the
 * container's init). Returns the listener fd when p->notify, else 0; -errno.
 */
int seccomp_install(const struct seccomp_program *p);

/*
 * Evaluate a profile in Docker's own format (moby/profiles seccomp/default.json:
 * archMap, includes/excludes, minKernel, comment) into the OCI form the runtime
 * consumes, as the daemon does before it writes config.json: archMap keeps the
 * native architecture and its sub-architectures, includes/excludes "caps" are
 * matched against caps_bounding ("CAP_SYS_ADMIN"; may be NULL), "arches" against
 * the native architecture (Go names: "amd64"), "minKernel" against uname(2).
 * Free the result with seccomp_oci_free(). The error names the field.
 */
int seccomp_docker_profile_to_oci(json_object *docker_profile, char *const *caps_bounding,
				  struct oci_seccomp **ret, struct error **err);
void seccomp_oci_free(struct oci_seccomp *sc);
static inline void seccomp_oci_freep(struct oci_seccomp **sc)
{
	seccomp_oci_free(*sc);
}

#endif
