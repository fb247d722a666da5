/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: resolv.conf from the host's file and /etc/hosts from extra hosts. The
 * outputs must not contain what the inputs could smuggle in: a line of ours never starts
 * mid-way through a value (no newline inside an extra host's line).
 */
#include "network/network.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size), *out = NULL;
	char **up = NULL;
	struct net_resolv_config rc = {.host_resolv = s, .internal_dns = size & 1};

	if (net_resolv_build(&rc, &out, &up) < 0)
		abort();
	free(out);
	strv_free(up);
	out = NULL;

	char *extra[] = {s, NULL};
	struct net_hosts_config hc = {
	    .hostname = "h",
	    .addr = "172.17.0.2",
	    .extra_hosts = extra,
	    .host_gateway = "172.17.0.1",
	};
	if (net_hosts_build(&hc, &out) == 0) {
		/* localhost, the extra host, our own line */
		size_t lines = 0;
		for (char *p = out; *p; p++)
			lines += *p == '\n';
		if (lines != 3)
			abort();
		free(out);
	}
	free(s);
	return 0;
}
