/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CVE-2019-5736: while the runtime joins a container, a process in it can open
 * /proc/<runtime pid>/exe and, once the runtime exits, write through it to the
 * host binary. The defence (as in runc and crun): run from a sealed memfd copy
 * of the binary, so /proc/PID/exe is the memfd, which cannot be written.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include "internal.h"

#define ALL_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static bool running_sealed(void)
{
	_cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int seals;
	if (fd < 0)
		return false;
	seals = fcntl(fd, F_GET_SEALS);
	return seals >= 0 && (seals & ALL_SEALS) == ALL_SEALS;
}

int runtime_ensure_cloned_binary(char **argv, char **envp)
{
	_cleanup_close_ int exe = -EBADF, mfd = -EBADF;
	struct stat st;
	off_t off = 0;

	if (running_sealed())
		return 0;
	exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe < 0 || fstat(exe, &st) < 0)
		return -errno;
	mfd = memfd_create("berth-runtime:cloned", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return -errno;
	while (off < st.st_size) {
		ssize_t n = sendfile(mfd, exe, &off, (size_t)(st.st_size - off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
	}
	if (fcntl(mfd, F_ADD_SEALS, ALL_SEALS) < 0)
		return -errno;
	/* An ELF binary execs fine from a close-on-exec fd. */
	fexecve(mfd, argv, envp);
	return -errno;
}
