/* SPDX-License-Identifier: Apache-2.0 */
#include "basic.h"
#include "digest.h"

void digest_init(struct digest *d)
{
	sha256_init(&d->sha);
}

void digest_update(struct digest *d, const void *p, size_t n)
{
	sha256_update(&d->sha, n, p);
}

char *digest_final(struct digest *d)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t md[SHA256_DIGEST_SIZE];
	char *s = xmalloc(DIGEST_LEN + 1), *o;

	sha256_digest(&d->sha, sizeof(md), md);
	o = stpcpy(s, "sha256:");
	for (size_t i = 0; i < sizeof(md); i++) {
		*o++ = hex[md[i] >> 4];
		*o++ = hex[md[i] & 15];
	}
	*o = 0;
	return s;
}

char *digest_buf(const void *p, size_t n)
{
	struct digest d;

	digest_init(&d);
	digest_update(&d, p, n);
	return digest_final(&d);
}
