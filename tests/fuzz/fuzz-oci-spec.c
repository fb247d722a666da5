/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: config.json bytes -> JSON -> OCI spec -> validation. */
#include "oci/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *doc = NULL;
	struct oci_spec *spec = NULL;
	struct error *err = NULL;

	if (json_parse_buffer((const char *)data, size, &doc, &err) >= 0) {
		if (oci_spec_parse(doc, &spec, &err) >= 0)
			(void)oci_spec_validate(spec, &err);
		oci_spec_free(spec);
		json_object_put(doc);
	}
	error_free(err);
	return 0;
}
