/* SPDX-License-Identifier: Apache-2.0 */
/* network: prefixes, IPAM, hosts/resolv.conf, DNS packets, the nft ruleset. No root. */
#include <arpa/inet.h>

#include "network/network.h"
#include "test.h"

static struct in_addr A(const char *s) {
	struct in_addr a = {0};
	if (net_addr_parse(s, &a) < 0)
		abort();
	return a;
}

static struct net_prefix
PFX(const char *s) {
	struct net_prefix p;
	if (net_prefix_parse(s, &p) < 0)
		abort();
	return p;
}

static void
test_prefix(void)
{
	struct net_prefix p, q;
	char buf[NET_PREFIX_STRLEN];

	CHECK_INT(net_prefix_parse("172.17.0.1/16", &p), 0);
	CHECK_STREQ(net_prefix_to_string(&p, buf), "172.17.0.1/16");
	q = net_prefix_canonical(&p);
	CHECK_STREQ(net_prefix_to_string(&q, buf), "172.17.0.0/16");
	CHECK(net_prefix_parse("172.17.0.0", &p) < 0);
	CHECK(net_prefix_parse("172.17.0.0/33", &p) < 0);
	CHECK(net_prefix_parse("172.17.0.0/+8", &p) < 0);
	CHECK(net_prefix_parse("172.17.0.0/", &p) < 0);
	CHECK(net_prefix_parse("1.2.3/8", &p) < 0);
	p = PFX("10.0.0.0/8");
	q = PFX("10.1.2.0/24");
	CHECK(net_prefix_overlaps(&p, &q));
	CHECK(net_prefix_overlaps(&q, &p));
	q = PFX("11.0.0.0/24");
	CHECK(!net_prefix_overlaps(&p, &q));
	CHECK(net_prefix_contains(&p, A("10.255.255.255")));
	CHECK(!net_prefix_contains(&p, A("9.255.255.255")));
	char a[INET_ADDRSTRLEN];
	CHECK_STREQ(net_addr_to_string(net_prefix_nth(&p, 1), a), "10.0.0.1");

	uint8_t mac[6];
	net_mac_from_addr(A("172.17.0.2"), mac);
	CHECK(mac[0] == 0x02 && mac[1] == 0x42 && mac[2] == 172 && mac[3] == 17 && mac[5] == 2);

	CHECK(net_ifname_valid("br-0123456789ab"));
	CHECK(net_ifname_valid("berth0"));
	CHECK(!net_ifname_valid("br-0123456789abc"));
	CHECK(!net_ifname_valid("a\"b"));
	CHECK(!net_ifname_valid("a b"));
	CHECK(!net_ifname_valid(".."));
	CHECK(!net_ifname_valid(""));

	char v1[IFNAMSIZ], v2[IFNAMSIZ], v3[IFNAMSIZ];
	net_veth_name("c1", "n1", v1);
	net_veth_name("c1", "n1", v2);
	net_veth_name("c1", "n2", v3);
	CHECK_STREQ(v1, v2);
	CHECK(!streq(v1, v3));
	CHECK(net_ifname_valid(v1));
	CHECK_INT(strlen(v1), 11);
}

static void test_pools(void)
{
	struct net_prefix got, used[3];
	char buf[NET_PREFIX_STRLEN];

	CHECK_INT(net_pools_pick(net_default_pools, net_default_pools_n, NULL, 0, &got), 0);
	CHECK_STREQ(net_prefix_to_string(&got, buf), "172.17.0.0/16");

	/* a host route inside 172.17/16 and the default bridge's own subnet in use */
	used[0] = PFX("172.17.5.0/24");
	used[1] = PFX("172.18.0.0/16");
	CHECK_INT(net_pools_pick(net_default_pools, net_default_pools_n, used, 2, &got), 0);
	CHECK_STREQ(net_prefix_to_string(&got, buf), "172.19.0.0/16");

	/* 172.16/12 taken whole: the /20s of 192.168/16 */
	used[0] = PFX("172.16.0.0/12");
	used[1] = PFX("192.168.0.0/20");
	CHECK_INT(net_pools_pick(net_default_pools, net_default_pools_n, used, 2, &got), 0);
	CHECK_STREQ(net_prefix_to_string(&got, buf), "192.168.16.0/20");

	used[2] = PFX("192.168.0.0/16");
	CHECK_INT(net_pools_pick(net_default_pools, net_default_pools_n, used, 3, &got), -ENOSPC);

	struct net_pool custom[] = {{PFX("10.10.0.0/16"), 24}};
	used[0] = PFX("10.10.0.0/24");
	CHECK_INT(net_pools_pick(custom, 1, used, 1, &got), 0);
	CHECK_STREQ(net_prefix_to_string(&got, buf), "10.10.1.0/24");
}

static void test_ipam(void)
{
	_cleanup_(net_ipam_freep) struct net_ipam *m = NULL, *m2 = NULL;
	struct net_prefix s = PFX("10.5.0.0/29"); /* .1 gateway, .2-.6 hosts, .7 broadcast */
	struct in_addr a, gw = {0};
	char buf[INET_ADDRSTRLEN];

	CHECK_INT(net_ipam_new(&s, NULL, gw, &m), 0);
	CHECK_STREQ(net_addr_to_string(net_ipam_gateway(m), buf), "10.5.0.1");
	CHECK_INT(net_ipam_alloc(m, &a), 0);
	CHECK_STREQ(net_addr_to_string(a, buf), "10.5.0.2");
	CHECK_INT(net_ipam_alloc(m, &a), 0);
	CHECK_STREQ(net_addr_to_string(a, buf), "10.5.0.3");
	CHECK_INT(net_ipam_reserve(m, A("10.5.0.5")), 0);
	CHECK_INT(net_ipam_reserve(m, A("10.5.0.5")), -EEXIST);
	CHECK_INT(net_ipam_reserve(m, A("10.5.0.1")), -EINVAL);
	CHECK_INT(net_ipam_reserve(m, A("10.5.0.7")), -EINVAL);
	CHECK_INT(net_ipam_reserve(m, A("10.6.0.2")), -EINVAL);
	CHECK_INT(net_ipam_alloc(m, &a), 0);
	CHECK_STREQ(net_addr_to_string(a, buf), "10.5.0.4");
	/* released addresses are not reused at once */
	CHECK_INT(net_ipam_release(m, A("10.5.0.2")), 0);
	CHECK_INT(net_ipam_release(m, A("10.5.0.2")), -ENOENT);
	CHECK_INT(net_ipam_alloc(m, &a), 0);
	CHECK_STREQ(net_addr_to_string(a, buf), "10.5.0.6");
	CHECK_INT(net_ipam_alloc(m, &a), 0);
	CHECK_STREQ(net_addr_to_string(a, buf), "10.5.0.2");
	CHECK_INT(net_ipam_alloc(m, &a), -ENOSPC);
	CHECK_INT(net_ipam_count(m), 5);

	/* round trip through JSON */
	_cleanup_free_ char *js = net_ipam_to_json(m);
	_cleanup_error_ struct error *err = NULL;
	CHECK_INT(net_ipam_from_json(js, &m2, &err), 0);
	if (m2) {
		CHECK_INT(net_ipam_count(m2), 5);
		CHECK(net_ipam_in_use(m2, A("10.5.0.6")));
		CHECK_INT(net_ipam_release(m2, A("10.5.0.3")), 0);
		CHECK_INT(net_ipam_alloc(m2, &a), 0);
		CHECK_STREQ(net_addr_to_string(a, buf), "10.5.0.3");
	}
	struct net_ipam *bad = NULL;
	CHECK(net_ipam_from_json("{\"Subnet\":\"10.0.0.0/24\",\"Gateway\":\"10.0.1.1\"}", &bad,
				 NULL) < 0);
	CHECK(net_ipam_from_json("{\"Subnet\":\"10.0.0.0/24\",\"Gateway\":\"10.0.0.1\","
				 "\"Allocated\":[\"10.0.0.1\"]}",
				 &bad, NULL) < 0);
	CHECK(net_ipam_from_json("[]", &bad, NULL) < 0);
	CHECK(bad == NULL);

	/* --ip-range and a given gateway */
	_cleanup_(net_ipam_freep) struct net_ipam *r = NULL;
	struct net_prefix sub = PFX("192.168.50.0/24"), range = PFX("192.168.50.128/25");
	CHECK_INT(net_ipam_new(&sub, &range, A("192.168.50.254"), &r), 0);
	CHECK_INT(net_ipam_alloc(r, &a), 0);
	CHECK_STREQ(net_addr_to_string(a, buf), "192.168.50.128");
	CHECK_INT(net_ipam_reserve(r, A("192.168.50.10")), 0);
	struct net_ipam *x = NULL;
	range = PFX("192.168.51.0/25");
	CHECK_INT(net_ipam_new(&sub, &range, gw, &x), -EINVAL);
	s = PFX("10.0.0.0/31");
	CHECK_INT(net_ipam_new(&s, NULL, gw, &x), -EINVAL);

	/* a big subnet costs nothing up front */
	_cleanup_(net_ipam_freep) struct net_ipam *big = NULL;
	s = PFX("10.0.0.0/8");
	CHECK_INT(net_ipam_new(&s, NULL, gw, &big), 0);
	for (int i = 0; i < 1000; i++)
		CHECK_INT(net_ipam_alloc(big, &a), 0);
	CHECK_STREQ(net_addr_to_string(a, buf), "10.0.3.233");
}

static void test_ipam_file(void)
{
	char dir[] = "/tmp/berth-test-ipam.XXXXXX";
	_cleanup_(net_ipam_freep) struct net_ipam *m = NULL, *m2 = NULL;
	struct net_prefix s = PFX("172.20.0.0/16");
	struct in_addr a, gw = {0};

	CHECK(mkdtemp(dir) != NULL);
	_cleanup_free_ char *path = xasprintf("%s/ipam.json", dir);
	CHECK_INT(net_ipam_new(&s, NULL, gw, &m), 0);
	CHECK_INT(net_ipam_alloc(m, &a), 0);
	CHECK_INT(net_ipam_save(m, path), 0);
	CHECK_INT(net_ipam_load(path, &m2, NULL), 0);
	if (m2)
		CHECK(net_ipam_in_use(m2, a));
	rm_rf(dir);
}

static void test_hosts(void)
{
	_cleanup_free_ char *h = NULL, *h2 = NULL;
	char *extra[] = {(char *)"db:10.0.0.5", (char *)"gw:host-gateway", (char *)"v6:[::1]",
			 NULL};
	struct net_hosts_config c = {
	    .hostname = "a1b2c3d4e5f6",
	    .addr = "172.17.0.2",
	    .extra_hosts = extra,
	    .host_gateway = "172.17.0.1",
	    .ipv6 = true,
	};

	CHECK_INT(net_hosts_build(&c, &h), 0);
	CHECK_STREQ(h, "127.0.0.1\tlocalhost\n"
		       "::1\tlocalhost ip6-localhost ip6-loopback\n"
		       "fe00::0\tip6-localnet\n"
		       "ff00::0\tip6-mcastprefix\n"
		       "ff02::1\tip6-allnodes\n"
		       "ff02::2\tip6-allrouters\n"
		       "10.0.0.5\tdb\n"
		       "172.17.0.1\tgw\n"
		       "::1\tv6\n"
		       "172.17.0.2\ta1b2c3d4e5f6\n");
	c.extra_hosts = NULL;
	c.ipv6 = false;
	c.domainname = "example.com";
	CHECK_INT(net_hosts_build(&c, &h2), 0);
	CHECK_STREQ(h2, "127.0.0.1\tlocalhost\n"
			"172.17.0.2\ta1b2c3d4e5f6.example.com a1b2c3d4e5f6\n");

	char *bad1[] = {(char *)"db:notanip", NULL};
	char *bad2[] = {(char *)"nocolon", NULL};
	char *bad3[] = {(char *)"x y:1.2.3.4", NULL};
	char *bad4[] = {(char *)"gw:host-gateway", NULL};
	char *out = NULL;
	c.extra_hosts = bad1;
	CHECK_INT(net_hosts_build(&c, &out), -EINVAL);
	c.extra_hosts = bad2;
	CHECK_INT(net_hosts_build(&c, &out), -EINVAL);
	c.extra_hosts = bad3;
	CHECK_INT(net_hosts_build(&c, &out), -EINVAL);
	c.extra_hosts = bad4;
	c.host_gateway = NULL;
	CHECK_INT(net_hosts_build(&c, &out), -EINVAL);
	c.extra_hosts = NULL;
	c.hostname = "bad name";
	CHECK_INT(net_hosts_build(&c, &out), -EINVAL);
	CHECK(out == NULL);
}

static const char *HOST_RESOLV = "# a comment\n"
				 "nameserver 127.0.0.53\n"
				 "nameserver 10.0.0.2 ; trailing\n"
				 "nameserver 2001:db8::1\n"
				 "search corp.example example.com\n"
				 "options edns0 trust-ad\n";

static void test_resolv_bridge(void)
{
	_cleanup_free_ char *r = NULL, *r2 = NULL, *r3 = NULL;
	char **up = (char **)1;
	struct net_resolv_config c = {.host_resolv = HOST_RESOLV};

	CHECK_INT(net_resolv_build(&c, &r, &up), 0);
	CHECK(up == NULL);
	CHECK_STREQ(r, "# Generated by berth.\n"
		       "# This file can be edited; berth will not make further changes once it\n"
		       "# has been modified.\n"
		       "\n"
		       "nameserver 10.0.0.2\n"
		       "search corp.example example.com\n"
		       "options edns0 trust-ad\n"
		       "\n"
		       "# Based on host file: '/etc/resolv.conf'\n"
		       "# Overrides: []\n");

	/* only loopback resolvers on the host: Docker's defaults */
	c.host_resolv = "nameserver 127.0.0.53\n";
	CHECK_INT(net_resolv_build(&c, &r2, NULL), 0);
	CHECK(strstr(r2, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n") != NULL);
	CHECK(strstr(r2, "# Used default nameservers.\n") != NULL);
	CHECK(strstr(r2, "127.0.0.53") == NULL);

	char *dns[] = {(char *)"1.1.1.1", NULL};
	char *search[] = {(char *)".", NULL};
	char *opts[] = {(char *)"ndots:2", NULL};
	c.host_resolv = HOST_RESOLV;
	c.dns = dns;
	c.dns_search = search;
	c.dns_options = opts;
	CHECK_INT(net_resolv_build(&c, &r3, NULL), 0);
	CHECK(strstr(r3, "\nnameserver 1.1.1.1\noptions ndots:2\n\n") != NULL);
	CHECK(strstr(r3, "search") == NULL ||
	      strstr(r3, "Overrides: [nameservers search options]"));
	CHECK(strstr(r3, "# Overrides: [nameservers search options]\n") != NULL);
}

static void test_resolv_internal(void)
{
	_cleanup_free_ char *r = NULL, *r2 = NULL;
	_cleanup_strv_free_ char **up = NULL, **up2 = NULL;
	struct net_resolv_config c = {.host_resolv = HOST_RESOLV, .internal_dns = true};

	CHECK_INT(net_resolv_build(&c, &r, &up), 0);
	CHECK_STREQ(r, "# Generated by berth.\n"
		       "# This file can be edited; berth will not make further changes once it\n"
		       "# has been modified.\n"
		       "\n"
		       "nameserver 127.0.0.11\n"
		       "search corp.example example.com\n"
		       "options ndots:0 edns0 trust-ad\n"
		       "\n"
		       "# Based on host file: '/etc/resolv.conf' (internal resolver)\n"
		       "# ExtServers: [127.0.0.53 10.0.0.2 2001:db8::1]\n"
		       "# Overrides: []\n"
		       "# Option ndots from: internal\n");
	CHECK_INT(strv_length(up), 3);
	if (strv_length(up) == 3)
		CHECK_STREQ(up[0], "127.0.0.53");

	char *dns[] = {(char *)"9.9.9.9", NULL};
	char *opts[] = {(char *)"ndots:3", NULL};
	c.dns = dns;
	c.dns_options = opts;
	CHECK_INT(net_resolv_build(&c, &r2, &up2), 0);
	CHECK(strstr(r2, "options ndots:3\n") != NULL);
	CHECK(strstr(r2, "ndots from") == NULL);
	CHECK_INT(strv_length(up2), 1);
}

/* ---- DNS -------------------------------------------------------------- */

static size_t make_query(uint8_t *p, uint16_t id, const char *name, uint16_t type)
{
	size_t off = 12;
	memset(p, 0, 12);
	p[0] = id >> 8;
	p[1] = id & 0xff;
	p[2] = 0x01; /* RD */
	p[5] = 1;
	while (*name) {
		size_t l = strcspn(name, ".");
		p[off++] = (uint8_t)l;
		memcpy(p + off, name, l);
		off += l;
		name += l;
		if (*name)
			name++;
	}
	p[off++] = 0;
	p[off++] = type >> 8;
	p[off++] = type & 0xff;
	p[off++] = 0;
	p[off++] = 1;
	return off;
}

static int fake_lookup(void *userdata, const char *name, struct in_addr *addrs, size_t max)
{
	if (streq(name, "web") || streq(name, "web-alias")) {
		addrs[0] = A("172.18.0.2");
		return 1;
	}
	if (streq(name, "multi")) {
		for (size_t i = 0; i < 20 && i < max; i++)
			addrs[i].s_addr = htonl(0x0a000001 + i);
		return 20;
	}
	return -ENOENT;
}

static int fake_reverse(void *userdata, struct in_addr a, char *buf)
{
	if (a.s_addr != A("172.18.0.2").s_addr)
		return -ENOENT;
	strcpy(buf, "web");
	return 0;
}

static void test_dns_parse(void)
{
	uint8_t q[512];
	struct net_dns_question qq;
	size_t n = make_query(q, 0x1234, "Web.Example.", 1);

	CHECK_INT(net_dns_parse_query(q, n, &qq), 0);
	CHECK_STREQ(qq.name, "web.example");
	CHECK_INT(qq.id, 0x1234);
	CHECK_INT(qq.qtype, 1);
	CHECK_INT(qq.end, n);
	/* every truncation is refused */
	for (size_t k = 0; k < n; k++)
		CHECK(net_dns_parse_query(q, k, &qq) < 0);
	/* a response, two questions, a compression pointer, a dot inside a label */
	q[2] |= 0x80;
	CHECK(net_dns_parse_query(q, n, &qq) < 0);
	q[2] &= 0x7f;
	q[5] = 2;
	CHECK(net_dns_parse_query(q, n, &qq) < 0);
	q[5] = 1;
	q[12] = 0xc0;
	CHECK(net_dns_parse_query(q, n, &qq) < 0);
	n = make_query(q, 1, "a", 1);
	q[13] = '.';
	CHECK(net_dns_parse_query(q, n, &qq) < 0);
	/* the root */
	n = make_query(q, 1, "", 2);
	CHECK_INT(net_dns_parse_query(q, n, &qq), 0);
	CHECK_STREQ(qq.name, "");
	/* a name longer than 255 */
	uint8_t big[600] = {0};
	big[5] = 1;
	size_t off = 12;
	for (int i = 0; i < 8; i++) {
		big[off++] = 63;
		memset(big + off, 'a', 63);
		off += 63;
	}
	big[off++] = 0;
	off += 4;
	CHECK(net_dns_parse_query(big, off, &qq) < 0);
}

static void test_dns_respond(void)
{
	uint8_t q[512], out[512];
	struct net_dns_lookup l = {fake_lookup, fake_reverse, NULL};
	size_t n = make_query(q, 0xbeef, "WEB", 1);
	int r;

	r = net_dns_respond(q, n, &l, out, sizeof(out));
	CHECK_INT(r, (int)n + 16);
	CHECK(out[0] == 0xbe && out[1] == 0xef);
	CHECK(out[2] & 0x80);	     /* QR */
	CHECK(out[2] & 0x01);	     /* RD copied */
	CHECK((out[3] & 0x0f) == 0); /* NOERROR */
	CHECK(out[7] == 1);	     /* one answer */
	CHECK(memcmp(out + n, "\xc0\x0c\x00\x01\x00\x01", 6) == 0);
	CHECK(memcmp(out + n + 12, "\xac\x12\x00\x02", 4) == 0);

	/* AAAA of a known name: NOERROR, no records */
	n = make_query(q, 7, "web-alias", 28);
	r = net_dns_respond(q, n, &l, out, sizeof(out));
	CHECK_INT(r, (int)n);
	CHECK(out[7] == 0 && (out[3] & 0x0f) == 0);

	/* unknown: forward */
	n = make_query(q, 7, "example.org", 1);
	CHECK_INT(net_dns_respond(q, n, &l, out, sizeof(out)), 0);

	/* many addresses: capped at what the lookup buffer holds */
	n = make_query(q, 7, "multi", 1);
	r = net_dns_respond(q, n, &l, out, sizeof(out));
	CHECK_INT(out[7], 16);
	CHECK_INT(r, (int)n + 16 * 16);

	/* PTR */
	n = make_query(q, 9, "2.0.18.172.in-addr.arpa", 12);
	r = net_dns_respond(q, n, &l, out, sizeof(out));
	CHECK(r > (int)n);
	CHECK(out[7] == 1);
	CHECK(memcmp(out + n + 12, "\x03web\x00", 5) == 0);
	n = make_query(q, 9, "3.0.18.172.in-addr.arpa", 12);
	CHECK_INT(net_dns_respond(q, n, &l, out, sizeof(out)), 0);
	n = make_query(q, 9, "300.0.18.172.in-addr.arpa", 12);
	CHECK_INT(net_dns_respond(q, n, &l, out, sizeof(out)), 0);

	/* EDNS additional record after the question: answered without it */
	n = make_query(q, 5, "web", 1);
	q[11] = 1;
	memcpy(q + n, "\x00\x00\x29\x10\x00\x00\x00\x00\x00\x00\x00", 11);
	r = net_dns_respond(q, n + 11, &l, out, sizeof(out));
	CHECK_INT(r, (int)n + 16);
	CHECK(out[11] == 0);

	/* SERVFAIL */
	n = make_query(q, 5, "x", 1);
	r = net_dns_error_reply(q, n, 2, out, sizeof(out));
	CHECK_INT(r, (int)n);
	CHECK((out[3] & 0x0f) == 2 && (out[2] & 0x80));

	/* garbage */
	CHECK(net_dns_respond((const uint8_t *)"abc", 3, &l, out, sizeof(out)) < 0);
}

static void test_nat_ruleset(void)
{
	_cleanup_free_ char *rs = NULL;
	struct net_nat_network nets[] = {
	    {"berth0", PFX("172.17.0.0/16"), true, false},
	    {"br-internal", PFX("172.19.0.0/16"), true, true},
	};
	struct net_nat_port ports[] = {
	    {IPPROTO_TCP, {0}, 8080, A("172.17.0.2"), 80},
	    {IPPROTO_UDP, A("127.0.0.1"), 5353, A("172.17.0.2"), 53},
	};

	CHECK_INT(net_nat_ruleset(nets, 2, ports, 2, &rs), 0);
	CHECK(startswith(rs, "table ip berth\ndelete table ip berth\ntable ip berth {\n"));
	CHECK(strstr(rs, "\t\ttcp dport 8080 dnat to 172.17.0.2:80\n"));
	CHECK(strstr(rs, "\t\tip daddr 127.0.0.1 udp dport 5353 dnat to 172.17.0.2:53\n"));
	CHECK(strstr(rs, "ip saddr 172.17.0.0/16 oifname != \"berth0\" masquerade\n"));
	CHECK(!strstr(rs, "ip saddr 172.19.0.0/16 oifname != \"br-internal\" masquerade"));
	CHECK(strstr(rs, "iifname \"br-internal\" oifname != \"br-internal\" drop\n"));
	CHECK(strstr(rs, "oifname \"berth0\" ip saddr 127.0.0.0/8 masquerade\n"));
	CHECK(strstr(rs, "iifname \"berth0\" ip daddr 127.0.0.0/8 drop\n"));

	char *out = NULL;
	struct net_nat_network bad[] = {{"x\" ; flush ruleset", PFX("10.0.0.0/8"), true, false}};
	CHECK_INT(net_nat_ruleset(bad, 1, NULL, 0, &out), -EINVAL);
	struct net_nat_port badp[] = {{IPPROTO_ICMP, {0}, 1, A("10.0.0.2"), 1}};
	CHECK_INT(net_nat_ruleset(NULL, 0, badp, 1, &out), -EINVAL);
	CHECK(out == NULL);
}

static void test_port_reserve(void)
{
	uint16_t port = 0, port2 = 0;
	_cleanup_close_ int fd = net_port_reserve(IPPROTO_TCP, A("127.0.0.1"), 0, &port);
	CHECK(fd >= 0);
	CHECK(port != 0);
	/* taken while held */
	int fd2 = net_port_reserve(IPPROTO_TCP, A("127.0.0.1"), port, &port2);
	CHECK_INT(fd2, -EADDRINUSE);
	_cleanup_close_ int u = net_port_reserve(IPPROTO_UDP, A("127.0.0.1"), 0, &port2);
	CHECK(u >= 0);
	CHECK_INT(net_port_reserve(99, A("127.0.0.1"), 0, NULL), -EINVAL);
}

int main(void)
{
	RUN(test_prefix);
	RUN(test_pools);
	RUN(test_ipam);
	RUN(test_ipam_file);
	RUN(test_hosts);
	RUN(test_resolv_bridge);
	RUN(test_resolv_internal);
	RUN(test_dns_parse);
	RUN(test_dns_respond);
	RUN(test_nat_ruleset);
	RUN(test_port_reserve);
	return TEST_SUMMARY();
}
