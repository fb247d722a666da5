/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the seccomp files: the architecture table shared by the OCI
 * compiler (seccomp.c) and the Docker profile evaluator (seccomp-profile.c).
 */
#ifndef BERTH_RUNTIME_SECCOMP_INTERNAL_H
#define BERTH_RUNTIME_SECCOMP_INTERNAL_H

#include <stdint.h>

struct seccomp_arch_info {
	const char *name;   /* OCI / Docker: "SCMP_ARCH_X86_64" */
	const char *goarch; /* Docker includes/excludes "arches": "amd64", NULL if none */
	uint32_t token;	    /* SCMP_ARCH_*, 0 when this libseccomp does not know it */
};

/* NULL when the name is not an architecture at all. */
const struct seccomp_arch_info *seccomp_arch_by_name(const char *name);
/* The entry for seccomp_arch_native(); NULL on an architecture the table lacks. */
const struct seccomp_arch_info *seccomp_arch_native_info(void);

#endif
