/* SPDX-License-Identifier: Apache-2.0 */
/* base64 (RFC 4648): HTTP Basic credentials, X-Registry-Auth headers. */
#ifndef BERTH_BASIC_BASE64_H
#define BERTH_BASIC_BASE64_H

#include <stddef.h>

/* The length of the base64 of n bytes, padding included (not the NUL). */
#define BASE64_LEN(n) (4 * (((n) + 2) / 3))

/* Write the base64 of p[0..n) in the standard alphabet with padding, and a NUL, to out
 * (BASE64_LEN(n) + 1 bytes); returns BASE64_LEN(n). */
size_t base64_encode(char *out, const void *p, size_t n);

/*
 * Decode s[0..n): the standard alphabet and the URL-safe one ('-' and '_' for '+' and '/'),
 * even mixed; the '=' padding may be missing, or part of it. *ret gets the bytes, malloc'd and
 * followed by a NUL (not counted in *ret_len). -EINVAL for a character of neither alphabet
 * (whitespace too), a '=' anywhere but in the padding of a last group of 2 or 3, or a length
 * no encoding has (4k + 1).
 */
int base64_decode(const char *s, size_t n, char **ret, size_t *ret_len);

#endif
