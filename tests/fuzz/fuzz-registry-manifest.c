/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: manifests and indexes as the registry client parses them. The first byte
 * picks the answer's Content-Type, the rest is the document; an index is then asked for a
 * platform, and every digest handed out must be one that can go into a URL.
 */
#include "registry/internal.h"

static const char *const types[] = {
    NULL, MT_DOCKER_MANIFEST, MT_DOCKER_LIST, MT_OCI_MANIFEST, MT_OCI_INDEX, "text/plain",
};

static void check_desc(const struct reg_desc *d)
{
	_cleanup_free_ char *u = reg_url("https://h", "r", "blobs", d->digest);
	if (!image_digest_valid(d->digest) || d->size < 0 || !u)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reg_manifest m = {0};
	struct error *err = NULL;
	const char *ct;

	if (size < 1)
		return 0;
	ct = types[data[0] % ELEMENTSOF(types)];
	if (reg_manifest_parse((const char *)data + 1, size - 1, ct, &m, &err) == 0) {
		for (size_t i = 0; i < m.n_descs; i++)
			check_desc(&m.descs[i]);
		if (m.kind == REG_MANIFEST_IMAGE) {
			check_desc(&m.config);
		} else {
			static const char *const plats[] = {NULL, "linux/arm64/v8", "linux/arm"};
			for (size_t k = 0; k < ELEMENTSOF(plats); k++) {
				struct reg_platform p = {0};
				const struct reg_desc *d;
				if (reg_platform_parse(plats[k], &p, NULL) < 0)
					abort();
				d = reg_index_pick(&m, &p);
				if (d)
					check_desc(d);
				reg_platform_release(&p);
			}
		}
		reg_manifest_release(&m);
	} else if (!err) {
		abort(); /* a refusal always says why */
	}
	error_free(err);
	return 0;
}
