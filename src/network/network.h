/* SPDX-License-Identifier: Apache-2.0 */
/*
 * network: the mechanisms behind Docker's bridge networks (DESIGN §7). Policy (which
 * networks exist, which container is on which, what is published) stays in the daemon;
 * this module does what it is told and keeps no global state of its own.
 *
 *  - netlink (rtnetlink, NETLINK_ROUTE): bridges, veth pairs, addresses, routes. A
 *    handle is bound to one network namespace for its life: net_nl_open(netns_fd) makes
 *    its socket on a short-lived thread that joined that namespace, so the calling
 *    process (berthd, multi-threaded) never changes namespace.
 *  - IPAM: free subnets from address pools that do not clash with the host's routes,
 *    and addresses within a network, serialisable for the daemon's state.
 *  - NAT: one nftables table, `table ip berth`, generated whole from the daemon's
 *    networks and published ports and replaced atomically with `nft -f`; published
 *    ports work from the host's loopback through route_localnet on the bridges.
 *  - /etc/hosts and /etc/resolv.conf contents, as Docker writes them.
 *  - DNS: the embedded resolver of user-defined networks (127.0.0.11 inside each
 *    container's namespace, served by a thread in the host's), forwarding other names
 *    to the host's resolvers.
 *
 * All functions return >= 0 on success and -errno on failure unless said otherwise.
 * IPv4 addresses are struct in_addr in network byte order.
 */
#ifndef BERTH_NETWORK_H
#define BERTH_NETWORK_H

#include <net/if.h>
#include <netinet/in.h>

#include "basic/basic.h"

/* ---- addresses -------------------------------------------------------- */

struct net_prefix {
	struct in_addr addr;
	uint8_t len; /* 0..32 */
};

/* "a.b.c.d/len" plus the NUL. */
#define NET_PREFIX_STRLEN (INET_ADDRSTRLEN + 3)

/* Parse "a.b.c.d/len" (len required); host bits are kept: see net_prefix_canonical. */
int net_prefix_parse(const char *s, struct net_prefix *ret);
/* Parse a dotted quad. */
int net_addr_parse(const char *s, struct in_addr *ret);
/* Format into buf (NET_PREFIX_STRLEN / INET_ADDRSTRLEN bytes); returns buf. */
const char *net_prefix_to_string(const struct net_prefix *p, char *buf);
const char *net_addr_to_string(struct in_addr a, char *buf);
/* The prefix with its host bits cleared. */
struct net_prefix net_prefix_canonical(const struct net_prefix *p);
bool net_prefix_contains(const struct net_prefix *p, struct in_addr a);
bool net_prefix_overlaps(const struct net_prefix *a, const struct net_prefix *b);
/* The n-th address of p (n = 1: the first host, Docker's default gateway). */
struct in_addr net_prefix_nth(const struct net_prefix *p, uint32_t n);
/* Docker's MAC for an address: 02:42 followed by the four address bytes. */
void net_mac_from_addr(struct in_addr a, uint8_t mac[6]);

/*
 * Interface names berth makes: 1..15 of [A-Za-z0-9_.-], not "." or "..". Anything
 * interpolated into an nft ruleset passes this first.
 */
bool net_ifname_valid(const char *name);
/* A host-side veth name for (container, network): "veth" + 7 hex digits of a hash, so a
 * restarted daemon finds the same name again. buf holds IFNAMSIZ bytes. */
const char *net_veth_name(const char *container_id, const char *network_id, char *buf);

/* ---- netlink ---------------------------------------------------------- */

struct net_nl;

/*
 * Open an rtnetlink socket in the namespace of netns_fd (an fd of /proc/PID/ns/net or a
 * bind mount of one), or in the caller's when netns_fd < 0.
 */
int net_nl_open(int netns_fd, struct net_nl **ret);
struct net_nl *net_nl_free(struct net_nl *nl);
static inline void net_nl_freep(struct net_nl **nl)
{
	net_nl_free(*nl);
}
/* The kernel's message for the last failure (extended ack), or NULL. Borrowed. */
const char *net_nl_last_error(const struct net_nl *nl);

/* ifindex of name in the handle's namespace, or -ENODEV. */
int net_nl_link_index(struct net_nl *nl, const char *name);
int net_nl_bridge_add(struct net_nl *nl, const char *name, uint32_t mtu);
/*
 * A veth pair: name here (enslaved to master_ifindex when > 0, up), peer in the
 * namespace of peer_netns_fd (< 0: here) named peer_name, with mac when non-NULL. mtu 0
 * keeps the kernel's default. The peer is left down.
 */
int net_nl_veth_add(struct net_nl *nl, const char *name, int master_ifindex, const char *peer_name,
		    int peer_netns_fd, uint32_t mtu, const uint8_t *mac);
int net_nl_link_del(struct net_nl *nl, const char *name);
int net_nl_link_set_up(struct net_nl *nl, int ifindex, bool up);
int net_nl_link_set_mtu(struct net_nl *nl, int ifindex, uint32_t mtu);
int net_nl_link_set_master(struct net_nl *nl, int ifindex, int master_ifindex);
int net_nl_link_set_netns(struct net_nl *nl, int ifindex, int netns_fd);
/* Rename (the link must be down). */
int net_nl_link_set_name(struct net_nl *nl, int ifindex, const char *name);
/* Hairpin mode of a bridge port: traffic may leave by the port it came in by. */
int net_nl_bridge_port_hairpin(struct net_nl *nl, int ifindex, bool on);
/* Add an IPv4 address (with its broadcast); -EEXIST when it is there. */
int net_nl_addr_add(struct net_nl *nl, int ifindex, const struct net_prefix *addr);
/* A route to dst (len 0: default) via gw (s_addr 0: on-link) out of ifindex. */
int net_nl_route_add(struct net_nl *nl, const struct net_prefix *dst, struct in_addr gw,
		     int ifindex);

struct net_link {
	char name[IFNAMSIZ];
	char kind[16]; /* "bridge", "veth", …; "" when the kernel gives none */
	int ifindex;
	int master; /* 0: none */
	bool up;
};
/* Every link of the namespace. */
int net_nl_links(struct net_nl *nl, struct net_link **ret, size_t *ret_n);
/* The destinations of the main table's IPv4 unicast routes, default route excluded. */
int net_nl_routes(struct net_nl *nl, struct net_prefix **ret, size_t *ret_n);

/* Make a socket in the namespace of netns_fd (socket(2)'s arguments; CLOEXEC added). */
int net_netns_socket(int netns_fd, int domain, int type, int protocol);

/* ---- bridges and endpoints -------------------------------------------- */

struct net_bridge_config {
	const char *name;	   /* net_ifname_valid */
	struct net_prefix gateway; /* the bridge's address and the subnet's length */
	uint32_t mtu;		   /* 0: default */
	bool route_localnet;	   /* published ports from the host's 127.0.0.1 */
};

/*
 * Create the bridge (or take the existing one: idempotent across daemon restarts), give it
 * its address, set it up, and set its route_localnet (in the caller's namespace).
 */
int net_bridge_setup(const struct net_bridge_config *c, struct error **err);
/* Delete the bridge; gone already is success. */
int net_bridge_remove(const char *name, struct error **err);
/*
 * Delete the veths enslaved to bridge whose names are not in keep (NULL: all): what a
 * crash left. Returns how many went.
 */
int net_bridge_sweep(const char *bridge, char *const *keep, struct error **err);

struct net_endpoint_config {
	const char *bridge;	 /* attach to this bridge, in the caller's namespace */
	const char *host_ifname; /* the host end: net_veth_name() */
	const char *ifname;	 /* the container end, "eth0" */
	struct net_prefix addr;	 /* the container's address and the subnet's length */
	struct in_addr gateway;	 /* default route via; s_addr 0: no default route */
	uint32_t mtu;		 /* 0: default */
	const uint8_t *mac;	 /* NULL: net_mac_from_addr(addr) */
	bool hairpin;		 /* reach its own published ports */
	bool default_route;	 /* add the default route (the first network only) */
};

/*
 * Give the namespace of netns_fd an interface on the bridge: the veth pair, the address,
 * lo up, the route. On failure nothing is left (the host end is deleted).
 */
int net_endpoint_attach(const struct net_endpoint_config *c, int netns_fd, struct error **err);
/* Delete the host end (the peer goes with it); gone already is success. */
int net_endpoint_detach(const char *host_ifname, struct error **err);

/* Write a sysctl under /proc/sys/net of the caller's namespace ("ipv4/ip_forward"). */
int net_sysctl_set(const char *key, const char *value);

/* ---- IPAM ------------------------------------------------------------- */

/* A pool: subnets of length size cut out of base (daemon.json default-address-pools). */
struct net_pool {
	struct net_prefix base;
	uint8_t size;
};
/* Docker's defaults: 172.17.0.0/16 … 172.31.0.0/16 as /16s, then 192.168.0.0/16 as /20s. */
extern const struct net_pool net_default_pools[];
extern const size_t net_default_pools_n;

/*
 * The first subnet of the pools, in order, that overlaps nothing in used (the daemon's
 * networks and the host's routes). -ENOSPC when none is left.
 */
int net_pools_pick(const struct net_pool *pools, size_t n_pools, const struct net_prefix *used,
		   size_t n_used, struct net_prefix *ret);

/* Addresses of one network. */
struct net_ipam;

/*
 * subnet: the network (length <= 30). range: where dynamic addresses come from (NULL: the
 * whole subnet; must lie inside it). gateway: reserved; s_addr 0 means the first host.
 */
int net_ipam_new(const struct net_prefix *subnet, const struct net_prefix *range,
		 struct in_addr gateway, struct net_ipam **ret);
struct net_ipam *net_ipam_free(struct net_ipam *ipam);
static inline void net_ipam_freep(struct net_ipam **p)
{
	net_ipam_free(*p);
}
struct net_prefix net_ipam_subnet(const struct net_ipam *ipam);
struct in_addr net_ipam_gateway(const struct net_ipam *ipam);
/* The next free address of the range after the last one handed out (so a released
 * address is not reused at once, as in Docker). -ENOSPC when full. */
int net_ipam_alloc(struct net_ipam *ipam, struct in_addr *ret);
/* Take a given address (--ip): -EINVAL outside the subnet or reserved, -EEXIST taken. */
int net_ipam_reserve(struct net_ipam *ipam, struct in_addr a);
/* Give an address back; -ENOENT when it was not taken. */
int net_ipam_release(struct net_ipam *ipam, struct in_addr a);
bool net_ipam_in_use(const struct net_ipam *ipam, struct in_addr a);
size_t net_ipam_count(const struct net_ipam *ipam);
/*
 * State as JSON: {"Subnet","IPRange","Gateway","Last","Allocated":[...]}. The daemon stores
 * it where it likes; net_ipam_load/save use a file (written atomically).
 */
char *net_ipam_to_json(const struct net_ipam *ipam);
int net_ipam_from_json(const char *s, struct net_ipam **ret, struct error **err);
int net_ipam_save(const struct net_ipam *ipam, const char *path);
int net_ipam_load(const char *path, struct net_ipam **ret, struct error **err);

/* ---- NAT and published ports (nftables) ------------------------------- */

struct net_nat_network {
	const char *bridge;	  /* net_ifname_valid */
	struct net_prefix subnet; /* canonical */
	bool masquerade; /* outbound NAT (com.docker.network.bridge.enable_ip_masquerade) */
	bool internal;	 /* --internal: no traffic to or from outside the bridge */
};

struct net_nat_port {
	int proto;		     /* IPPROTO_TCP or IPPROTO_UDP */
	struct in_addr host_ip;	     /* s_addr 0: every local address */
	uint16_t host_port;	     /* non-zero */
	struct in_addr container_ip; /* on one of the networks */
	uint16_t container_port;     /* non-zero */
};

/* The name of berth's table ("ip" family). */
#define NET_NAT_TABLE "berth"

/*
 * The ruleset text for `nft -f`: deletes `table ip berth` when present and defines it again
 * whole, so applying it is one atomic transaction whatever was there. -EINVAL on a bad
 * interface name or port.
 */
int net_nat_ruleset(const struct net_nat_network *nets, size_t n_nets,
		    const struct net_nat_port *ports, size_t n_ports, char **ret);
/* Run `nft -f` on a ruleset (nft: the binary; NULL finds /usr/sbin/nft or nft in PATH). */
int net_nft_run(const char *nft, const char *ruleset, struct error **err);
/* net_nat_ruleset + net_nft_run. */
int net_nat_apply(const struct net_nat_network *nets, size_t n_nets,
		  const struct net_nat_port *ports, size_t n_ports, struct error **err);
/* Remove berth's table; absent is success. */
int net_nat_remove(struct error **err);

/*
 * Hold a host port so nothing else binds it while it is published: a bound, never
 * listening socket (the traffic itself is DNATed before any socket sees it). port 0
 * picks a free one from the kernel's ephemeral range (-p 80). Returns the fd; the port in
 * *ret_port.
 */
int net_port_reserve(int proto, struct in_addr host_ip, uint16_t port, uint16_t *ret_port);

/* ---- /etc/hosts and /etc/resolv.conf ---------------------------------- */

struct net_hosts_config {
	const char *hostname;	  /* required */
	const char *domainname;	  /* NULL or "" */
	const char *addr;	  /* the container's address; NULL: no line (none, host) */
	char *const *extra_hosts; /* Docker's ExtraHosts: "name:ip" (ip may be IPv6) */
	const char *host_gateway; /* what "host-gateway" in extra_hosts stands for */
	bool ipv6;		  /* IPv6 localhost lines (Docker drops them when off) */
};
/* The file's contents, as Docker writes it. -EINVAL on a malformed extra host. */
int net_hosts_build(const struct net_hosts_config *c, char **ret);

struct net_resolv_config {
	const char *host_resolv;  /* the host's /etc/resolv.conf (NULL: empty) */
	const char *host_path;	  /* its path, for the comment ("/etc/resolv.conf") */
	bool internal_dns;	  /* user network: nameserver 127.0.0.11 */
	char *const *dns;	  /* --dns */
	char *const *dns_search;  /* --dns-search */
	char *const *dns_options; /* --dns-option */
};
/*
 * The container's resolv.conf. For internal_dns, *ret_upstreams (when non-NULL) gets the
 * servers the embedded resolver forwards to (--dns, else the host's, loopback ones
 * included: the resolver forwards from the host's namespace); otherwise NULL.
 */
int net_resolv_build(const struct net_resolv_config *c, char **ret, char ***ret_upstreams);

/* ---- DNS -------------------------------------------------------------- */

/* Docker's embedded resolver address. */
#define NET_DNS_ADDR "127.0.0.11"
#define NET_DNS_MAX_PACKET 4096

struct net_dns_question {
	uint16_t id;
	uint16_t flags;
	uint16_t qtype, qclass;
	char name[256]; /* lowercase, no trailing dot; "" for the root */
	size_t end;	/* offset just past the question */
};

/* Parse the header and the one question of a query; -EBADMSG when malformed. */
int net_dns_parse_query(const uint8_t *p, size_t n, struct net_dns_question *ret);

/*
 * The names the responder knows. lookup: the addresses of name (max at most), the count,
 * or -ENOENT when the name is not known (the query is forwarded). reverse: the name of an
 * address into buf (size 256), or -ENOENT.
 */
struct net_dns_lookup {
	int (*lookup)(void *userdata, const char *name, struct in_addr *addrs, size_t max);
	int (*reverse)(void *userdata, struct in_addr a, char *buf);
	void *userdata;
};

/*
 * Answer a query from the known names: > 0 is the length of the reply written to out
 * (out_size >= 512), 0 means forward the query as it is, -EBADMSG means drop it. A known
 * name answers A queries with its addresses and other types with no records (NOERROR).
 */
int net_dns_respond(const uint8_t *q, size_t n, const struct net_dns_lookup *l, uint8_t *out,
		    size_t out_size);
/* A reply with only the header and question and the given rcode (SERVFAIL = 2). */
int net_dns_error_reply(const uint8_t *q, size_t n, int rcode, uint8_t *out, size_t out_size);

/*
 * The embedded resolver: one thread serving UDP sockets that live in containers'
 * namespaces (net_dns_listen), answering from per-network records and forwarding the rest
 * to upstreams from the host's namespace. All calls are thread-safe.
 */
struct net_dns;

int net_dns_new(struct net_dns **ret, struct error **err);
/* Stop the thread and close every socket. */
struct net_dns *net_dns_free(struct net_dns *dns);
/* A UDP socket bound to 127.0.0.11:53 in the namespace of netns_fd (whose lo must be up). */
int net_dns_listen_socket(int netns_fd, struct error **err);
/*
 * Serve fd (taken, even on failure) for the container id: names of networks (network ids)
 * resolve; others go to upstreams ("ip" or "ip:port"; NULL or empty: answered SERVFAIL).
 * Replaces an earlier listener of the same id.
 */
int net_dns_add_listener(struct net_dns *dns, const char *id, int fd, char *const *networks,
			 char *const *upstreams);
/* Change the networks of a listener (connect, disconnect); -ENOENT when none. */
int net_dns_set_networks(struct net_dns *dns, const char *id, char *const *networks);
int net_dns_remove_listener(struct net_dns *dns, const char *id);
/* name (container name, alias, short id) resolves to a on network. */
int net_dns_add_record(struct net_dns *dns, const char *network, const char *name,
		       struct in_addr a);
/* Forget every name of a on network (the container left it). Returns how many went. */
int net_dns_remove_records(struct net_dns *dns, const char *network, struct in_addr a);

#endif
