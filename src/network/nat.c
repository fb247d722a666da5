/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NAT and published ports through nftables. berth owns one table and replaces it whole on
 * every change: the ruleset below starts by deleting it, so `nft -f` applies old-to-new in
 * one transaction, and a daemon that crashed with rules in place simply writes its table
 * again on startup.
 *
 * Published ports from the host's loopback: the output hook DNATs 127.0.0.1:PORT like any
 * local address; the packet keeps source 127.0.0.1, which the kernel routes out of a bridge
 * only with route_localnet on it (net_bridge_setup), and which the postrouting rule then
 * masquerades to the bridge's address. route_localnet would also let packets *to*
 * 127.0.0.0/8 in from the bridge, so the raw prerouting chain drops those (what Docker and
 * kube-proxy do for CVE-2020-8558).
 */
#include <arpa/inet.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "network.h"

extern char **environ;

static const char *proto_name(int proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : NULL;
}

int net_nat_ruleset(const struct net_nat_network *nets, size_t n_nets,
		    const struct net_nat_port *ports, size_t n_ports, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], p[NET_PREFIX_STRLEN];

	for (size_t i = 0; i < n_nets; i++)
		if (!net_ifname_valid(nets[i].bridge) || nets[i].subnet.len > 32)
			return -EINVAL;
	for (size_t i = 0; i < n_ports; i++)
		if (!proto_name(ports[i].proto) || !ports[i].host_port || !ports[i].container_port)
			return -EINVAL;

	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fputs("table ip " NET_NAT_TABLE "\n"
	      "delete table ip " NET_NAT_TABLE "\n"
	      "table ip " NET_NAT_TABLE " {\n",
	      f);

	fputs("\tchain ports {\n", f);
	for (size_t i = 0; i < n_ports; i++) {
		const struct net_nat_port *q = &ports[i];
		fputs("\t\t", f);
		if (q->host_ip.s_addr)
			fprintf(f, "ip daddr %s ", net_addr_to_string(q->host_ip, a));
		fprintf(f, "%s dport %u dnat to %s:%u\n", proto_name(q->proto), q->host_port,
			net_addr_to_string(q->container_ip, b), q->container_port);
	}
	fputs("\t}\n", f);

	fputs("\tchain prerouting {\n"
	      "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
	      "\t\tfib daddr type local jump ports\n"
	      "\t}\n"
	      "\tchain output {\n"
	      "\t\ttype nat hook output priority -100; policy accept;\n"
	      "\t\tfib daddr type local jump ports\n"
	      "\t}\n",
	      f);

	fputs("\tchain postrouting {\n"
	      "\t\ttype nat hook postrouting priority srcnat; policy accept;\n",
	      f);
	for (size_t i = 0; i < n_nets; i++) {
		const struct net_nat_network *n = &nets[i];
		struct net_prefix s = net_prefix_canonical(&n->subnet);
		net_prefix_to_string(&s, p);
		/* published ports reached from the host's loopback */
		fprintf(f, "\t\toifname \"%s\" ip saddr 127.0.0.0/8 masquerade\n", n->bridge);
		/* hairpin: a container reaching a published port of its own network */
		fprintf(f, "\t\toifname \"%s\" ip saddr %s ct status dnat masquerade\n", n->bridge,
			p);
		if (n->masquerade && !n->internal)
			fprintf(f, "\t\tip saddr %s oifname != \"%s\" masquerade\n", p, n->bridge);
	}
	fputs("\t}\n", f);

	fputs("\tchain forward {\n"
	      "\t\ttype filter hook forward priority filter; policy accept;\n",
	      f);
	/* Networks are isolated from each other, as Docker's DOCKER-ISOLATION chains do. */
	for (size_t i = 0; n_nets > 1 && i < n_nets; i++) {
		bool first = true;
		fprintf(f, "\t\tiifname \"%s\" oifname { ", nets[i].bridge);
		for (size_t j = 0; j < n_nets; j++) {
			if (j == i)
				continue;
			fprintf(f, "%s\"%s\"", first ? "" : ", ", nets[j].bridge);
			first = false;
		}
		fputs(" } drop\n", f);
	}
	for (size_t i = 0; i < n_nets; i++) {
		if (!nets[i].internal)
			continue;
		fprintf(f, "\t\tiifname \"%s\" oifname != \"%s\" drop\n", nets[i].bridge,
			nets[i].bridge);
		fprintf(f, "\t\toifname \"%s\" iifname != \"%s\" drop\n", nets[i].bridge,
			nets[i].bridge);
	}
	fputs("\t}\n", f);

	fputs("\tchain raw_prerouting {\n"
	      "\t\ttype filter hook prerouting priority raw; policy accept;\n",
	      f);
	for (size_t i = 0; i < n_nets; i++)
		fprintf(f, "\t\tiifname \"%s\" ip daddr 127.0.0.0/8 drop\n", nets[i].bridge);
	fputs("\t}\n}\n", f);

	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

static const char *find_nft(void)
{
	static const char *const paths[] = {"/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"};
	for (size_t i = 0; i < ELEMENTSOF(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

int net_nft_run(const char *nft, const char *ruleset, struct error **err)
{
	_cleanup_close_ int in = -EBADF, out = -EBADF;
	posix_spawn_file_actions_t fa;
	const char *path = nft ? nft : find_nft();
	char *argv[] = {(char *)"nft", (char *)"-f", (char *)"/dev/stdin", NULL};
	pid_t pid;
	int r, status;

	/* memfds, not pipes: nft reads all of its input before it writes, but a pipe could
	 * still fill both ways on a long ruleset with long errors. */
	in = memfd_create("berth-nft-in", MFD_CLOEXEC);
	out = memfd_create("berth-nft-out", MFD_CLOEXEC);
	if (in < 0 || out < 0)
		return error_set(err, -errno, "failed to create memfd");
	ssize_t k = loop_write(in, ruleset, strlen(ruleset));
	if (k < 0)
		return error_set(err, (int)k, "failed to write nft ruleset");
	if (lseek(in, 0, SEEK_SET) < 0)
		return error_set(err, -errno, "failed to rewind nft ruleset");

	r = posix_spawn_file_actions_init(&fa);
	if (r != 0)
		return error_set(err, -r, "posix_spawn_file_actions_init");
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, out, 2);
	if (path)
		r = posix_spawn(&pid, path, &fa, NULL, argv, environ);
	else
		r = posix_spawnp(&pid, "nft", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return error_set(err, -r, "failed to run nft");
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return error_set(err, -errno, "failed to wait for nft");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;

	char msg[1024] = "";
	if (lseek(out, 0, SEEK_SET) == 0) {
		ssize_t n = loop_read(out, msg, sizeof(msg) - 1);
		msg[n > 0 ? n : 0] = 0;
		/* first line: nft's error says where, the rest repeats the ruleset */
		msg[strcspn(msg, "\n")] = 0;
	}
	if (WIFEXITED(status))
		return error_setx(err, -EIO, "nft failed with exit code %d%s%s",
				  WEXITSTATUS(status), *msg ? ": " : "", msg);
	return error_setx(err, -EIO, "nft died");
}

int net_nat_apply(const struct net_nat_network *nets, size_t n_nets,
		  const struct net_nat_port *ports, size_t n_ports, struct error **err)
{
	_cleanup_free_ char *rs = NULL;
	int r = net_nat_ruleset(nets, n_nets, ports, n_ports, &rs);
	if (r < 0)
		return error_setx(err, r, "invalid network or port for the nft ruleset");
	r = net_nft_run(NULL, rs, err);
	if (r < 0)
		return error_prefix(err, r, "failed to set NAT rules");
	return 0;
}

int net_nat_remove(struct error **err)
{
	int r = net_nft_run(NULL,
			    "table ip " NET_NAT_TABLE "\n"
			    "delete table ip " NET_NAT_TABLE "\n",
			    err);
	if (r < 0)
		return error_prefix(err, r, "failed to remove NAT rules");
	return 0;
}

int net_port_reserve(int proto, struct in_addr host_ip, uint16_t port, uint16_t *ret_port)
{
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_addr = host_ip, .sin_port = htons(port)};
	socklen_t sl = sizeof(sa);
	int type = proto == IPPROTO_TCP ? SOCK_STREAM : proto == IPPROTO_UDP ? SOCK_DGRAM : -1;

	if (type < 0)
		return -EINVAL;
	_cleanup_close_ int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		return -errno;
	if (ret_port)
		*ret_port = ntohs(sa.sin_port);
	return TAKE_FD(fd);
}
