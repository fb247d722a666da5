/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: bytes -> the body of POST /networks/create, parsed as the API does
 * (json_parse_buffer) and run through the pure part of network create
 * (network_parse_create: name, driver, options, labels, IPAM config). On success the
 * network must be one the rest of the daemon can use: a valid name and bridge interface
 * name (it is interpolated into nft rulesets), a gateway inside its subnet, an IP range
 * inside it.
 */
#include "daemon/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *body = NULL;
	struct error *err = NULL;
	struct network *n = NULL;

	if (json_parse_buffer((const char *)data, size, &body, &err) < 0) {
		error_free(err);
		return 0;
	}
	if (network_parse_create(body, &n, &err) >= 0) {
		if (!network_parsed_valid(n))
			__builtin_trap();
		network_parsed_free(n);
	} else if (!err || !err->msg) {
		__builtin_trap();
	}
	error_free(err);
	json_object_put(body);
	return 0;
}
