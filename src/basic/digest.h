/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SHA-256 digests as OCI writes them: "sha256:<64 lowercase hex>", for blobs, layers (diff
 * ids, chain ids) and manifests.
 *
 * Nettle computes the hash, not libcrypto: berthd links nettle (a few pages) and loads
 * libcrypto (1.4 MiB resident) only for a TLS listener (src/lazy), so image work does not
 * fault libcrypto in.
 *
 * struct digest is plain data: on the stack, in a struct or on the heap, with nothing to
 * release. digest_init, then digest_update any number of times, then digest_final.
 */
#ifndef BERTH_BASIC_DIGEST_H
#define BERTH_BASIC_DIGEST_H

#include <nettle/sha2.h>
#include <stddef.h>

#define DIGEST_LEN 71 /* strlen("sha256:") + 64 hex */

struct digest {
	struct sha256_ctx sha;
};

void digest_init(struct digest *d);
void digest_update(struct digest *d, const void *p, size_t n);
/* The "sha256:<hex>" of what was fed, malloc'd (DIGEST_LEN chars and a NUL); d starts over
 * (as digest_init left it). */
char *digest_final(struct digest *d);
/* The "sha256:<hex>" of a buffer, malloc'd. */
char *digest_buf(const void *p, size_t n);

#endif
