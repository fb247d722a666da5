/* SPDX-License-Identifier: Apache-2.0 */
/* IPv4 prefixes, interface names, sysctls. */
#include <arpa/inet.h>
#include <fcntl.h>

#include "network.h"

static uint32_t mask_of(uint8_t len)
{
	return len ? 0xffffffffu << (32 - len) : 0;
}

int net_addr_parse(const char *s, struct in_addr *ret)
{
	if (!s || inet_pton(AF_INET, s, ret) != 1)
		return -EINVAL;
	return 0;
}

int net_prefix_parse(const char *s, struct net_prefix *ret)
{
	char buf[INET_ADDRSTRLEN];
	const char *slash;
	int len;

	if (!s || !(slash = strchr(s, '/')) || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, slash - s);
	buf[slash - s] = 0;
	if (net_addr_parse(buf, &ret->addr) < 0)
		return -EINVAL;
	/* digits only: safe_atoi would take "+8" or " 8" */
	if (!slash[1] || strlen(slash + 1) > 2 ||
	    strspn(slash + 1, "0123456789") != strlen(slash + 1))
		return -EINVAL;
	len = atoi(slash + 1);
	if (len > 32)
		return -EINVAL;
	ret->len = (uint8_t)len;
	return 0;
}

const char *net_addr_to_string(struct in_addr a, char *buf)
{
	if (!inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN))
		strcpy(buf, "?");
	return buf;
}

const char *net_prefix_to_string(const struct net_prefix *p, char *buf)
{
	char a[INET_ADDRSTRLEN];
	snprintf(buf, NET_PREFIX_STRLEN, "%s/%u", net_addr_to_string(p->addr, a), p->len);
	return buf;
}

struct net_prefix net_prefix_canonical(const struct net_prefix *p)
{
	struct net_prefix c = *p;
	c.addr.s_addr = htonl(ntohl(p->addr.s_addr) & mask_of(p->len));
	return c;
}

bool net_prefix_contains(const struct net_prefix *p, struct in_addr a)
{
	uint32_t m = mask_of(p->len);
	return (ntohl(a.s_addr) & m) == (ntohl(p->addr.s_addr) & m);
}

bool net_prefix_overlaps(const struct net_prefix *a, const struct net_prefix *b)
{
	/* Two prefixes overlap when the shorter contains the longer's network. */
	uint32_t m = mask_of(a->len < b->len ? a->len : b->len);
	return (ntohl(a->addr.s_addr) & m) == (ntohl(b->addr.s_addr) & m);
}

struct in_addr net_prefix_nth(const struct net_prefix *p, uint32_t n)
{
	struct in_addr a = {htonl((ntohl(p->addr.s_addr) & mask_of(p->len)) + n)};
	return a;
}

void net_mac_from_addr(struct in_addr a, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x42;
	memcpy(mac + 2, &a.s_addr, 4);
}

bool net_ifname_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n >= IFNAMSIZ || streq(name, ".") || streq(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

const char *net_veth_name(const char *container_id, const char *network_id, char *buf)
{
	/* FNV-1a over both ids: stable across restarts, spread enough for 28 bits. */
	uint32_t h = 2166136261u;
	for (const char *s = container_id; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (const char *s = network_id; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	snprintf(buf, IFNAMSIZ, "veth%07x", h & 0xfffffff);
	return buf;
}

int net_sysctl_set(const char *key, const char *value)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -EBADF;

	if (strstr(key, ".."))
		return -EINVAL;
	path = xasprintf("/proc/sys/net/%s", key);
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	ssize_t k = loop_write(fd, value, strlen(value));
	return k < 0 ? (int)k : 0;
}
