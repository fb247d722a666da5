/* SPDX-License-Identifier: Apache-2.0 */
/* The /etc/hosts and /etc/resolv.conf a container gets, in Docker's words and order. */
#include <arpa/inet.h>

#include "network.h"

static bool is_ip(const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;
	return inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1;
}

static bool host_name_ok(const char *s)
{
	if (isempty(s))
		return false;
	for (; *s; s++)
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '#')
			return false;
	return true;
}

int net_hosts_build(const struct net_hosts_config *c, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	int r = 0;

	if (!host_name_ok(c->hostname) || (!isempty(c->domainname) && !host_name_ok(c->domainname)))
		return -EINVAL;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fputs("127.0.0.1\tlocalhost\n", f);
	if (c->ipv6)
		fputs("::1\tlocalhost ip6-localhost ip6-loopback\n"
		      "fe00::0\tip6-localnet\n"
		      "ff00::0\tip6-mcastprefix\n"
		      "ff02::1\tip6-allnodes\n"
		      "ff02::2\tip6-allrouters\n",
		      f);
	for (char *const *e = c->extra_hosts; e && *e && r == 0; e++) {
		const char *colon = strchr(*e, ':');
		if (!colon || colon == *e) {
			r = -EINVAL;
			break;
		}
		_cleanup_free_ char *name = xstrndup(*e, colon - *e);
		const char *ip = colon + 1;
		if (streq(ip, "host-gateway"))
			ip = c->host_gateway;
		/* "[::1]" as the CLI may pass it */
		_cleanup_free_ char *unbracketed = NULL;
		if (ip && ip[0] == '[' && endswith(ip, "]"))
			ip = unbracketed = xstrndup(ip + 1, strlen(ip) - 2);
		if (!ip || !is_ip(ip) || !host_name_ok(name))
			r = -EINVAL;
		else
			fprintf(f, "%s\t%s\n", ip, name);
	}
	if (r == 0 && c->addr) {
		if (!isempty(c->domainname))
			fprintf(f, "%s\t%s.%s %s\n", c->addr, c->hostname, c->domainname,
				c->hostname);
		else
			fprintf(f, "%s\t%s\n", c->addr, c->hostname);
	}
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	return 0;
}

/* ---- resolv.conf ------------------------------------------------------ */

struct resolv {
	char **nameservers, **search, **options;
};

static void resolv_release(struct resolv *r)
{
	strv_free(r->nameservers);
	strv_free(r->search);
	strv_free(r->options);
}

static char **split_words(const char *s)
{
	char **l = NULL;
	while (*s) {
		size_t skip = strspn(s, " \t"), n;
		s += skip;
		n = strcspn(s, " \t");
		if (!n)
			break;
		_cleanup_free_ char *w = xstrndup(s, n);
		l = strv_append(l, w);
		s += n;
	}
	return l;
}

static void resolv_parse(const char *text, struct resolv *r)
{
	const char *line = text;

	while (line && *line) {
		size_t n = strcspn(line, "\n");
		_cleanup_free_ char *l = xstrndup(line, n);
		_cleanup_strv_free_ char **w = NULL;
		line = line[n] ? line + n + 1 : NULL;
		l[strcspn(l, "#;")] = 0;
		w = split_words(l);
		if (!w)
			continue;
		if (streq(w[0], "nameserver") && w[1] && is_ip(w[1]))
			r->nameservers = strv_append(r->nameservers, w[1]);
		else if (streq(w[0], "search") || streq(w[0], "domain")) {
			/* the last of search and domain wins, as in glibc */
			strv_free(r->search);
			r->search = strv_copy(w + 1);
		} else if (streq(w[0], "options"))
			for (char **o = w + 1; *o; o++)
				r->options = strv_append(r->options, *o);
	}
}

static bool is_loopback_ns(const char *s)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) == 1)
		return (ntohl(a.s_addr) >> 24) == 127;
	return streq(s, "::1");
}

static void put_list(FILE *f, const char *key, char *const *l)
{
	if (!l || !*l)
		return;
	fputs(key, f);
	for (; *l; l++)
		fprintf(f, " %s", *l);
	fputc('\n', f);
}

int net_resolv_build(const struct net_resolv_config *c, char **ret, char ***ret_upstreams)
{
	_cleanup_strv_free_ char **ns = NULL, **search = NULL, **options = NULL, **ext = NULL;
	struct resolv host = {0};
	const char *path = c->host_path ? c->host_path : "/etc/resolv.conf";
	bool used_defaults = false, ndots_internal = false;
	char *buf = NULL;
	size_t len = 0;

	resolv_parse(c->host_resolv ? c->host_resolv : "", &host);

	/* search and options: the overrides, else the host's ("." alone means none) */
	if (c->dns_search && *c->dns_search) {
		if (!(streq(c->dns_search[0], ".") && !c->dns_search[1]))
			search = strv_copy(c->dns_search);
	} else
		search = strv_copy(host.search);
	options = strv_copy(c->dns_options && *c->dns_options ? c->dns_options : host.options);

	if (c->internal_dns) {
		ext = strv_copy(c->dns && *c->dns ? c->dns : host.nameservers);
		ns = strv_append(NULL, NET_DNS_ADDR);
		bool has_ndots = false;
		for (char **o = options; o && *o; o++)
			has_ndots |= startswith(*o, "ndots:") != NULL;
		if (!has_ndots) {
			_cleanup_strv_free_ char **o2 = strv_append(NULL, "ndots:0");
			for (char **o = options; o && *o; o++)
				o2 = strv_append(o2, *o);
			strv_free(options);
			options = TAKE_PTR(o2);
			ndots_internal = true;
		}
	} else if (c->dns && *c->dns) {
		ns = strv_copy(c->dns);
	} else {
		/* the host's loopback resolvers are not reachable from the container's
		 * namespace, and the network has no IPv6 here */
		for (char **s = host.nameservers; s && *s; s++)
			if (!is_loopback_ns(*s) && !strchr(*s, ':'))
				ns = strv_append(ns, *s);
		if (!ns) {
			ns = strv_append(ns, "8.8.8.8");
			ns = strv_append(ns, "8.8.4.4");
			used_defaults = true;
		}
	}
	resolv_release(&host);

	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fputs("# Generated by berth.\n"
	      "# This file can be edited; berth will not make further changes once it\n"
	      "# has been modified.\n\n",
	      f);
	for (char **s = ns; s && *s; s++)
		fprintf(f, "nameserver %s\n", *s);
	put_list(f, "search", search);
	put_list(f, "options", options);
	fprintf(f, "\n# Based on host file: '%s'%s\n", path,
		c->internal_dns ? " (internal resolver)" : "");
	if (used_defaults)
		fputs("# Used default nameservers.\n", f);
	if (c->internal_dns) {
		fputs("# ExtServers: [", f);
		for (char **s = ext; s && *s; s++)
			fprintf(f, "%s%s", s == ext ? "" : " ", *s);
		fputs("]\n", f);
	}
	fputs("# Overrides: [", f);
	const char *sep = "";
	if (c->dns && *c->dns) {
		fputs("nameservers", f);
		sep = " ";
	}
	if (c->dns_search && *c->dns_search) {
		fprintf(f, "%ssearch", sep);
		sep = " ";
	}
	if (c->dns_options && *c->dns_options)
		fprintf(f, "%soptions", sep);
	fputs("]\n", f);
	if (ndots_internal)
		fputs("# Option ndots from: internal\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	if (ret_upstreams)
		*ret_upstreams = TAKE_PTR(ext);
	return 0;
}
