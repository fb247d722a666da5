/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as a (maybe compressed) layer tar, extracted into a
 * fresh temp dir that is removed after every run. */
#include <fcntl.h>
#include <sys/mman.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[] = "/tmp/fuzz-image-tar-XXXXXX";
	struct error *err = NULL;
	int fd, dfd;

	fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (loop_write(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) < 0 || !mkdtemp(dir)) {
		close(fd);
		return 0;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		/* a small limit keeps runs fast and exercises the bomb check */
		(void)image_untar(fd, dfd, 4 << 20, NULL, NULL, &err);
		close(dfd);
	}
	rm_rf(dir);
	error_free(err);
	close(fd);
	return 0;
}
