/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the WWW-Authenticate parser of the registry client. */
#include "registry/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reg_challenge c = {0};
	char *s = xstrndup((const char *)data, size);

	if (reg_challenge_parse(s, &c) == 0) {
		if (c.scheme != REG_AUTH_BASIC && c.scheme != REG_AUTH_BEARER)
			abort();
		if (c.scheme == REG_AUTH_BEARER && (!c.realm || !*c.realm))
			abort();
		reg_challenge_release(&c);
	} else if (c.realm || c.service || c.scope || c.error) {
		abort(); /* nothing handed out on failure */
	}
	free(s);
	return 0;
}
