/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the embedded resolver's packet handling (bytes from containers). A
 * reply is at most 512 bytes, carries the query's id and QR, and its question is the
 * query's.
 */
#include <arpa/inet.h>

#include "network/network.h"

static int lookup(void *userdata, const char *name, struct in_addr *addrs, size_t max)
{
	size_t n = strlen(name);
	if (n == 0 || name[0] == 'x')
		return -ENOENT;
	/* a deterministic number of answers, sometimes more than fit */
	size_t k = n % 24;
	for (size_t i = 0; i < k && i < max; i++)
		addrs[i].s_addr = htonl(0xac120000u + (uint32_t)i);
	return (int)k;
}

static int reverse(void *userdata, struct in_addr a, char *buf)
{
	if (ntohl(a.s_addr) & 1)
		return -ENOENT;
	/* a long name of long labels, and one with an empty label */
	if (ntohl(a.s_addr) & 2)
		snprintf(buf, 256, "%.63s.%.63s.%.63s.%.60s",
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			 "b", "c", "d");
	else
		snprintf(buf, 256, "web..x");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_dns_lookup l = {lookup, reverse, NULL};
	struct net_dns_question q;
	uint8_t out[NET_DNS_MAX_PACKET];
	int r;

	if (size > NET_DNS_MAX_PACKET)
		return 0;
	r = net_dns_respond(data, size, &l, out, sizeof(out));
	if (r > 0) {
		if (r > 512 || net_dns_parse_query(data, size, &q) < 0)
			abort();
		if (memcmp(out, data, 2) != 0 || !(out[2] & 0x80))
			abort();
		if ((size_t)r < q.end || memcmp(out + 12, data + 12, q.end - 12) != 0)
			abort();
	}
	r = net_dns_error_reply(data, size, 2, out, sizeof(out));
	if (r > 0 && (out[3] & 0x0f) != 2)
		abort();
	return 0;
}
