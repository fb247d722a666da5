/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: reference normalisation; a normalised ref must normalise to itself. */
#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size), *out = NULL, *again = NULL, *fam;
	struct error *err = NULL;

	if (ref_normalize(s, &out, &err) >= 0) {
		if (ref_normalize(out, &again, NULL) < 0 || strcmp(out, again) != 0)
			abort();
		/* not an invariant: docker.io/a.b/c is familiar "a.b/c", another registry, in
		 * Docker too */
		fam = ref_familiar(out);
		free(fam);
		free(again);
		free(out);
	}
	error_free(err);
	free(s);
	return 0;
}
