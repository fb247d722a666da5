/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: exec --process bytes -> JSON -> OCI process. */
#include "oci/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *doc = NULL;
	struct oci_process *p = NULL;
	struct error *err = NULL;

	if (json_parse_buffer((const char *)data, size, &doc, &err) >= 0) {
		if (oci_process_parse(doc, &p, &err) >= 0)
			oci_process_free(p);
		json_object_put(doc);
	}
	error_free(err);
	return 0;
}
