/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Two things in one binary:
 *  - with no arguments, a unit test of the netlink code inside network namespaces it
 *    makes for itself (root; skipped otherwise): a bridge, a veth pair into a second
 *    namespace, addresses, routes, the sweep;
 *  - with arguments, a driver for tests/integration/test_network.py, which runs it inside
 *    the namespace standing in for the host:
 *      bridge-up NAME GW/LEN | bridge-down NAME | sweep BRIDGE [KEEP...]
 *      attach BRIDGE HOSTIF NETNS_PATH ADDR/LEN GW [hairpin]  | detach HOSTIF
 *      pick-subnet | forwarding
 *      nat BRIDGE SUBNET [tcp|udp:HOSTPORT:IP:PORT...] | nat-remove
 *      dns UPSTREAM [record NETWORK NAME IP]... [listen ID NETNS_PATH NETWORK]...
 *        (serves until stdin closes; prints "ready" once listening)
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>

#include "network/network.h"
#include "test.h"

static int fail(struct error *err, int r)
{
	fprintf(stderr, "test-network-tool: %s\n", err && err->msg ? err->msg : strerror(-r));
	error_free(err);
	return 1;
}

static int parse_port(const char *s, struct net_nat_port *p)
{
	char proto[8], ip[INET_ADDRSTRLEN];
	unsigned hp, cp;

	if (sscanf(s, "%7[a-z]:%u:%15[0-9.]:%u", proto, &hp, ip, &cp) != 4 || !hp || hp > 65535 ||
	    !cp || cp > 65535 || net_addr_parse(ip, &p->container_ip) < 0)
		return -EINVAL;
	p->proto = streq(proto, "tcp") ? IPPROTO_TCP : streq(proto, "udp") ? IPPROTO_UDP : -1;
	p->host_ip.s_addr = 0;
	p->host_port = (uint16_t)hp;
	p->container_port = (uint16_t)cp;
	return p->proto < 0 ? -EINVAL : 0;
}

static int cmd_dns(int argc, char **argv)
{
	struct error *err = NULL;
	struct net_dns *dns = NULL;
	char *up[] = {argv[0], NULL};
	int r;

	r = net_dns_new(&dns, &err);
	if (r < 0)
		return fail(err, r);
	for (int i = 1; i < argc;) {
		if (streq(argv[i], "record") && i + 3 < argc) {
			struct in_addr a;
			if (net_addr_parse(argv[i + 3], &a) < 0 ||
			    net_dns_add_record(dns, argv[i + 1], argv[i + 2], a) < 0)
				return fail(NULL, -EINVAL);
			i += 4;
		} else if (streq(argv[i], "listen") && i + 3 < argc) {
			_cleanup_close_ int ns = open(argv[i + 2], O_RDONLY | O_CLOEXEC);
			char *nets[] = {argv[i + 3], NULL};
			if (ns < 0)
				return fail(NULL, -errno);
			int fd = net_dns_listen_socket(ns, &err);
			if (fd < 0)
				return fail(err, fd);
			r = net_dns_add_listener(dns, argv[i + 1], fd, nets, up);
			if (r < 0)
				return fail(NULL, r);
			i += 4;
		} else
			return fail(NULL, -EINVAL);
	}
	printf("ready\n");
	fflush(stdout);
	char buf[64];
	while (read(0, buf, sizeof(buf)) > 0)
		;
	net_dns_free(dns);
	return 0;
}

static int tool(int argc, char **argv)
{
	struct error *err = NULL;
	const char *c = argv[1];
	int r = -EINVAL;

	if (streq(c, "bridge-up") && argc == 4) {
		struct net_bridge_config bc = {.name = argv[2], .route_localnet = true};
		if (net_prefix_parse(argv[3], &bc.gateway) < 0)
			return fail(NULL, -EINVAL);
		r = net_bridge_setup(&bc, &err);
	} else if (streq(c, "bridge-down") && argc == 3) {
		r = net_bridge_remove(argv[2], &err);
	} else if (streq(c, "sweep") && argc >= 3) {
		r = net_bridge_sweep(argv[2], argv + 3, &err);
		if (r >= 0)
			printf("%d\n", r);
	} else if (streq(c, "attach") && (argc == 7 || argc == 8)) {
		struct net_endpoint_config ec = {
		    .bridge = argv[2],
		    .host_ifname = argv[3],
		    .ifname = "eth0",
		    .default_route = true,
		    .hairpin = argc == 8 && streq(argv[7], "hairpin"),
		};
		_cleanup_close_ int ns = open(argv[4], O_RDONLY | O_CLOEXEC);
		if (ns < 0)
			return fail(NULL, -errno);
		if (net_prefix_parse(argv[5], &ec.addr) < 0 ||
		    net_addr_parse(argv[6], &ec.gateway) < 0)
			return fail(NULL, -EINVAL);
		r = net_endpoint_attach(&ec, ns, &err);
	} else if (streq(c, "detach") && argc == 3) {
		r = net_endpoint_detach(argv[2], &err);
	} else if (streq(c, "pick-subnet") && argc == 2) {
		_cleanup_(net_nl_freep) struct net_nl *nl = NULL;
		_cleanup_free_ struct net_prefix *routes = NULL;
		struct net_prefix got;
		size_t n = 0;
		char buf[NET_PREFIX_STRLEN];
		r = net_nl_open(-1, &nl);
		if (r >= 0)
			r = net_nl_routes(nl, &routes, &n);
		if (r >= 0)
			r = net_pools_pick(net_default_pools, net_default_pools_n, routes, n, &got);
		if (r >= 0)
			printf("%s\n", net_prefix_to_string(&got, buf));
	} else if (streq(c, "forwarding") && argc == 2) {
		r = net_sysctl_set("ipv4/ip_forward", "1");
	} else if (streq(c, "nat") && argc >= 4) {
		struct net_nat_network net = {.bridge = argv[2], .masquerade = true};
		size_t np = (size_t)argc - 4;
		_cleanup_free_ struct net_nat_port *ports = xnew0(struct net_nat_port, np + 1);
		if (net_prefix_parse(argv[3], &net.subnet) < 0)
			return fail(NULL, -EINVAL);
		for (size_t i = 0; i < np; i++)
			if (parse_port(argv[4 + i], &ports[i]) < 0)
				return fail(NULL, -EINVAL);
		r = net_nat_apply(&net, 1, ports, np, &err);
	} else if (streq(c, "nat-remove") && argc == 2) {
		r = net_nat_remove(&err);
	} else if (streq(c, "dns") && argc >= 3) {
		return cmd_dns(argc - 2, argv + 2);
	}
	if (r < 0)
		return fail(err, r);
	return 0;
}

/* ---- the self-test ---------------------------------------------------- */

static void *new_netns_thread(void *p)
{
	int *ret = p;
	if (unshare(CLONE_NEWNET) < 0) {
		*ret = -errno;
		return NULL;
	}
	*ret = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*ret < 0)
		*ret = -errno;
	return NULL;
}

/* An fd of a new, empty network namespace; the caller stays where it is. */
static int new_netns(void)
{
	pthread_t t;
	int fd = -EIO;
	if (pthread_create(&t, NULL, new_netns_thread, &fd) != 0)
		return -EAGAIN;
	pthread_join(t, NULL);
	return fd;
}

static bool has_link(struct net_nl *nl, const char *name, const char *kind)
{
	_cleanup_free_ struct net_link *l = NULL;
	size_t n = 0;
	bool found = false;
	if (net_nl_links(nl, &l, &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		found |= streq(l[i].name, name) && (!kind || streq(l[i].kind, kind));
	return found;
}

static bool has_route(struct net_nl *nl, const char *prefix)
{
	_cleanup_free_ struct net_prefix *r = NULL;
	size_t n = 0;
	char buf[NET_PREFIX_STRLEN];
	bool found = false;
	if (net_nl_routes(nl, &r, &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		found |= streq(net_prefix_to_string(&r[i], buf), prefix);
	return found;
}

static void test_netlink_bridge_and_veth(void)
{
	_cleanup_(net_nl_freep) struct net_nl *host = NULL, *inner = NULL;
	_cleanup_close_ int ns = new_netns();
	_cleanup_error_ struct error *err = NULL;
	struct net_bridge_config bc = {.name = "br-test", .route_localnet = true};
	struct net_endpoint_config ec = {
	    .bridge = "br-test",
	    .host_ifname = "veth-test",
	    .ifname = "eth0",
	    .mtu = 1400,
	    .hairpin = true,
	    .default_route = true,
	};

	CHECK(ns >= 0);
	CHECK_INT(net_nl_open(-1, &host), 0);
	CHECK_INT(net_nl_open(ns, &inner), 0);
	if (!host || !inner || ns < 0)
		return;
	CHECK_INT(net_prefix_parse("10.77.0.1/24", &bc.gateway), 0);
	CHECK_INT(net_bridge_setup(&bc, &err), 0);
	CHECK_INT(net_bridge_setup(&bc, &err), 0); /* idempotent */
	CHECK(has_link(host, "br-test", "bridge"));
	CHECK(has_route(host, "10.77.0.0/24"));

	CHECK_INT(net_prefix_parse("10.77.0.2/24", &ec.addr), 0);
	CHECK_INT(net_addr_parse("10.77.0.1", &ec.gateway), 0);
	CHECK_INT(net_endpoint_attach(&ec, ns, &err), 0);
	if (err)
		fprintf(stderr, "  %s\n", err->msg);
	CHECK(has_link(host, "veth-test", "veth"));
	CHECK(has_link(inner, "eth0", "veth"));
	CHECK(!has_link(host, "eth0", NULL));
	CHECK(has_route(inner, "10.77.0.0/24"));
	CHECK(net_nl_link_index(inner, "eth0") > 0);
	CHECK_INT(net_nl_link_index(inner, "nope"), -ENODEV);

	/* the same host name again (a pair whose namespace the kernel has not torn down
	 * yet): the old pair is replaced */
	CHECK_INT(net_endpoint_attach(&ec, ns, NULL), 0);
	CHECK(has_link(host, "veth-test", "veth"));
	CHECK(has_link(inner, "eth0", "veth"));

	/* a second endpoint failing inside (a second default route) leaves no host end */
	struct net_endpoint_config e2 = ec;
	e2.host_ifname = "veth-test2";
	e2.ifname = "eth1";
	CHECK_INT(net_prefix_parse("10.77.0.3/24", &e2.addr), 0);
	CHECK(net_endpoint_attach(&e2, ns, NULL) < 0);
	CHECK(!has_link(host, "veth-test2", NULL));
	CHECK(!has_link(inner, "eth1", NULL));

	/* lower-level calls: rename a down link, MTU, netns move */
	int idx = net_nl_link_index(inner, "eth0");
	CHECK_INT(net_nl_link_set_up(inner, idx, false), 0);
	CHECK_INT(net_nl_link_set_name(inner, idx, "eth9"), 0);
	CHECK_INT(net_nl_link_set_mtu(inner, idx, 1300), 0);
	CHECK(has_link(inner, "eth9", "veth"));
	CHECK(net_nl_link_set_name(inner, idx, "bad name") < 0);

	/* the sweep removes veths of the bridge except those kept */
	char *keep[] = {(char *)"veth-test", NULL};
	CHECK_INT(net_bridge_sweep("br-test", keep, &err), 0);
	CHECK(has_link(host, "veth-test", NULL));
	CHECK_INT(net_bridge_sweep("br-test", NULL, &err), 1);
	CHECK(!has_link(host, "veth-test", NULL));
	CHECK(!has_link(inner, "eth9", NULL));
	CHECK_INT(net_endpoint_detach("veth-test", &err), 0); /* gone already: fine */

	CHECK_INT(net_bridge_remove("br-test", &err), 0);
	CHECK(!has_link(host, "br-test", NULL));
	CHECK_INT(net_bridge_remove("br-test", &err), 0);
	CHECK(!has_route(host, "10.77.0.0/24"));
}

static void test_netlink_errors(void)
{
	_cleanup_(net_nl_freep) struct net_nl *nl = NULL;
	struct net_prefix p;

	CHECK_INT(net_nl_open(-1, &nl), 0);
	if (!nl)
		return;
	CHECK_INT(net_nl_link_del(nl, "no-such-link"), -ENODEV);
	CHECK_INT(net_nl_bridge_add(nl, "br-a", 0), 0);
	CHECK_INT(net_nl_bridge_add(nl, "br-a", 0), -EEXIST);
	int idx = net_nl_link_index(nl, "br-a");
	CHECK(idx > 0);
	CHECK_INT(net_prefix_parse("10.78.0.1/16", &p), 0);
	CHECK_INT(net_nl_addr_add(nl, idx, &p), 0);
	CHECK_INT(net_nl_addr_add(nl, idx, &p), -EEXIST);
	/* a gateway that no route reaches */
	struct net_prefix any = {{0}, 0};
	struct in_addr gw;
	net_addr_parse("10.79.0.1", &gw);
	CHECK(net_nl_route_add(nl, &any, gw, idx) < 0);
	CHECK_INT(net_nl_link_set_master(nl, idx, 999999) < 0, 1);
	CHECK_INT(net_nl_link_del(nl, "br-a"), 0);
}

static void test_netns_socket(void)
{
	_cleanup_close_ int ns = new_netns();
	struct in_addr lo;
	_cleanup_(net_nl_freep) struct net_nl *nl = NULL;

	CHECK(ns >= 0);
	/* 127.0.0.11 needs lo up in that namespace */
	CHECK_INT(net_nl_open(ns, &nl), 0);
	if (nl)
		CHECK_INT(net_nl_link_set_up(nl, net_nl_link_index(nl, "lo"), true), 0);
	int fd = net_dns_listen_socket(ns, NULL);
	CHECK(fd >= 0);
	/* the same address in our namespace is another socket's to take: the first one
	 * really is in the other namespace */
	_cleanup_(net_nl_freep) struct net_nl *here_nl = NULL;
	CHECK_INT(net_nl_open(-1, &here_nl), 0);
	if (here_nl)
		CHECK_INT(net_nl_link_set_up(here_nl, net_nl_link_index(here_nl, "lo"), true), 0);
	_cleanup_close_ int here = net_netns_socket(-1, AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
	net_addr_parse(NET_DNS_ADDR, &lo);
	sa.sin_addr = lo;
	CHECK(here >= 0);
	CHECK_INT(bind(here, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (fd >= 0)
		close(fd);
}

static int self_test(void)
{
	int status;

	if (geteuid() != 0) {
		printf("# skipped: not root\n");
		return TEST_SUMMARY();
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		/* the child's own namespace plays the host */
		if (unshare(CLONE_NEWNET) < 0) {
			printf("# skipped: unshare(CLONE_NEWNET): %s\n", strerror(errno));
			printf("0 passed, 0 failed\n");
			_exit(0);
		}
		RUN(test_netlink_bridge_and_veth);
		RUN(test_netlink_errors);
		RUN(test_netns_socket);
		int r = TEST_SUMMARY();
		fflush(stdout);
		_exit(r);
	}
	if (waitpid(pid, &status, 0) < 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return tool(argc, argv);
	return self_test();
}
