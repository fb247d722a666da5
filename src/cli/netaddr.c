/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IP addresses the way the docker CLI checks them: Go's net.ParseIP, net.ParseCIDR and
 * IPNet.Contains, and the flag validators built on them (opts.ValidateIPAddress,
 * ValidateExtraHost, ValidateDNSSearch, ValidateLabel, ValidateLink).
 */
#include <arpa/inet.h>
#include <ctype.h>

#include "internal.h"

static const unsigned char v4_in_v6[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int cli_ip_parse(const char *s, struct cli_ip *ret)
{
	struct cli_ip ip = {0};

	if (inet_pton(AF_INET, s, ip.a) == 1) {
		ip.family = 4;
	} else if (inet_pton(AF_INET6, s, ip.a) == 1) {
		ip.family = 6;
		/* Go's To4(): a v4-in-v6 address is an IPv4 one */
		if (memcmp(ip.a, v4_in_v6, sizeof(v4_in_v6)) == 0) {
			memmove(ip.a, ip.a + 12, 4);
			memset(ip.a + 4, 0, 12);
			ip.family = 4;
		}
	} else
		return -EINVAL;
	if (ret)
		*ret = ip;
	return 0;
}

int cli_cidr_parse(const char *s, struct cli_ip *ret_ip, int *ret_bits)
{
	const char *slash = strchr(s, '/');
	struct cli_ip ip;
	int bits = 0;

	if (!slash || !slash[1])
		return -EINVAL;
	_cleanup_free_ char *addr = xstrndup(s, (size_t)(slash - s));
	if (cli_ip_parse(addr, &ip) < 0)
		return -EINVAL;
	for (const char *p = slash + 1; *p; p++) {
		if (!isdigit((unsigned char)*p) || bits > 1000)
			return -EINVAL;
		bits = bits * 10 + (*p - '0');
	}
	/* a v4-in-v6 text keeps its IPv6 length, as netip.ParseAddr does */
	if (bits > (strchr(addr, ':') ? 128 : 32))
		return -EINVAL;
	if (ip.family == 4 && strchr(addr, ':'))
		bits = bits >= 96 ? bits - 96 : 0;
	*ret_ip = ip;
	*ret_bits = bits;
	return 0;
}

bool cli_cidr_contains(const struct cli_ip *net, int bits, const struct cli_ip *ip)
{
	if (!ip || net->family != ip->family)
		return false;
	for (int i = 0; i < (net->family == 4 ? 4 : 16); i++) {
		int b = bits - i * 8;
		unsigned char m = b >= 8 ? 0xff : b <= 0 ? 0 : (unsigned char)(0xff << (8 - b));
		if ((net->a[i] & m) != (ip->a[i] & m))
			return false;
	}
	return true;
}

int cli_check_ip(const char *v, char **ret, struct error **err)
{
	(void)ret;
	_cleanup_free_ char *s = xstrdup(v);
	/* ValidateIPAddress trims spaces */
	char *b = s, *e = s + strlen(s);
	while (*b == ' ' || *b == '\t' || *b == '\n')
		b++;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
		*--e = 0;
	if (cli_ip_parse(b, NULL) < 0)
		return error_setx(err, -EINVAL, "IP address is not correctly formatted: %s", v);
	return 0;
}

int cli_check_extra_host(const char *v, char **ret, struct error **err)
{
	const char *sep = strchr(v, '=');
	if (!sep)
		sep = strchr(v, ':');
	if (!sep || sep == v || memchr(v, ':', (size_t)(sep - v)))
		return error_setx(err, -EINVAL, "bad format for add-host: \"%s\"", v);
	_cleanup_free_ char *name = xstrndup(v, (size_t)(sep - v));
	const char *addr = sep + 1;
	_cleanup_free_ char *bare = NULL;
	if (!streq(addr, "host-gateway")) {
		size_t n = strlen(addr);
		if (n > 2 && addr[0] == '[' && addr[n - 1] == ']')
			addr = bare = xstrndup(addr + 1, n - 2);
		if (cli_ip_parse(addr, NULL) < 0)
			return error_setx(err, -EINVAL, "invalid IP address in add-host: \"%s\"",
					  addr);
	}
	/* the API takes "name:address", without brackets */
	*ret = xasprintf("%s:%s", name, addr);
	return 0;
}

/* docker's domainRegexp: labels of [A-Za-z0-9-] not starting or ending with '-', dot
 * separated, an optional final dot. */
static bool valid_domain(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 255)
		return false;
	if (s[n - 1] == '.')
		n--;
	size_t label = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
		if (label == 0 && s[i] == '-')
			return false;
		label++;
	}
	return true;
}

int cli_check_dns_search(const char *v, char **ret, struct error **err)
{
	(void)ret;
	if (streq(v, "."))
		return 0;
	if (!valid_domain(v))
		return error_setx(err, -EINVAL, "%s is not a valid domain", v);
	return 0;
}

int cli_check_label(const char *v, char **ret, struct error **err)
{
	(void)ret;
	size_t n = strcspn(v, "=");
	const char *b = v, *e = v + n;
	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	if (b == e)
		return error_setx(err, -EINVAL, "invalid label '%s': empty name", v);
	if (memchr(b, ' ', (size_t)(e - b)) || memchr(b, '\t', (size_t)(e - b)))
		return error_setx(err, -EINVAL, "label '%.*s' contains whitespaces", (int)(e - b),
				  b);
	return 0;
}

int cli_check_link(const char *v, char **ret, struct error **err)
{
	(void)ret;
	if (!*v)
		return error_setx(err, -EINVAL, "empty string specified for links");
	const char *c = strchr(v, ':');
	if (c && strchr(c + 1, ':'))
		return error_setx(err, -EINVAL, "bad format for links: %s", v);
	return 0;
}

bool cli_mac_valid(const char *s)
{
	/* net.ParseMAC: 6, 8 or 20 bytes as 01:23:45:67:89:ab, 01-23-... or 0123.4567.89ab */
	size_t n = strlen(s);
	if (n >= 14 && (s[2] == ':' || s[2] == '-')) {
		if ((n + 1) % 3 || ((n + 1) / 3 != 6 && (n + 1) / 3 != 8 && (n + 1) / 3 != 20))
			return false;
		for (size_t i = 0; i < n; i++)
			if (i % 3 == 2 ? s[i] != s[2] : !isxdigit((unsigned char)s[i]))
				return false;
		return true;
	}
	if (n >= 14 && s[4] == '.') {
		if ((n + 1) % 5 || ((n + 1) / 5 != 3 && (n + 1) / 5 != 4 && (n + 1) / 5 != 10))
			return false;
		for (size_t i = 0; i < n; i++)
			if (i % 5 == 4 ? s[i] != '.' : !isxdigit((unsigned char)s[i]))
				return false;
		return true;
	}
	return false;
}

int natural_cmp(const char *a, const char *b)
{
	size_t i = 0, j = 0, la = strlen(a), lb = strlen(b);

	while (i < la && j < lb) {
		bool da = isdigit((unsigned char)a[i]), db = isdigit((unsigned char)b[j]);
		if (da != db)
			return da ? -1 : 1; /* digits first */
		if (!da) {
			if (a[i] != b[j])
				return (unsigned char)a[i] < (unsigned char)b[j] ? -1 : 1;
			i++, j++;
			continue;
		}
		while (i < la && a[i] == '0')
			i++;
		while (j < lb && b[j] == '0')
			j++;
		size_t nz_a = i, nz_b = j;
		while (i < la && isdigit((unsigned char)a[i]))
			i++;
		while (j < lb && isdigit((unsigned char)b[j]))
			j++;
		if (i - nz_a != j - nz_b)
			return i - nz_a < j - nz_b ? -1 : 1;
		int c = strncmp(a + nz_a, b + nz_b, i - nz_a);
		if (c)
			return c;
		/* fewer leading zeros first */
		if (nz_a != nz_b)
			return nz_a < nz_b ? -1 : 1;
	}
	/* equal so far: the shorter string first (Go compares the whole lengths) */
	return la < lb ? -1 : la > lb ? 1 : 0;
}
