/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the time values of Docker's filters (src/basic/timestamp.c). */
#include "basic/basic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	int64_t ns;
	(void)parse_timestamp(s, &ns);
	free(s);
	return 0;
}
