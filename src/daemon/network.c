/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Networks (DESIGN §7): the policy half. Which networks exist (table networks of
 * state.db), which container is on which with which address, and what is published;
 * src/network does the mechanisms (netlink, IPAM, nftables, /etc files, DNS).
 *
 * A container's network namespace is the one its runtime makes for it (none, bridge and
 * user networks alike): between create and START berthd puts the veths into
 * /proc/<init>/ns/net. So the namespace, and with it the container ends of the veths,
 * goes with the container's last process whatever happens to berthd; what berthd holds
 * (host ports, the DNS socket in the namespace, IPAM) is released at the exit and made
 * again from the persisted state after a restart, and a startup sweep deletes host-side
 * veths that belong to no running container.
 *
 * The default bridge ("bridge", interface berth0) has no name resolution, as in Docker;
 * user networks get the embedded resolver at 127.0.0.11. With --bridge none there is no
 * default bridge and the default mode gives an isolated namespace with lo only.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

struct network {
	char *id, *name;
	char *driver; /* "bridge", "host", "null" */
	int64_t created_ns;
	char *bridge; /* interface (bridge driver) */
	bool builtin, internal, ipv6, attachable;
	bool has_subnet;
	struct net_prefix subnet; /* canonical */
	struct in_addr gateway;
	bool has_range;
	struct net_prefix range;
	json_object *labels, *options, *ipam_options, *aux;
	struct net_ipam *ipam;
	bool up; /* the bridge was set up by this daemon */
	struct network *next;
};

#define DEFAULT_BRIDGE "berth0"

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;
	if (o && json_object_object_get_ex(o, k, &v) && !json_object_is_type(v, json_type_null))
		return v;
	return NULL;
}

static const char *get_s(json_object *o, const char *k)
{
	json_object *v = get(o, k);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool get_b(json_object *o, const char *k)
{
	json_object *v = get(o, k);
	return v && json_object_get_boolean(v);
}

static bool is_bridge(const struct network *n)
{
	return streq(n->driver, "bridge");
}

/* A user network: names resolve on it. */
static bool is_user(const struct network *n)
{
	return is_bridge(n) && !n->builtin;
}

static void network_free(struct network *n)
{
	if (!n)
		return;
	free(n->id);
	free(n->name);
	free(n->driver);
	free(n->bridge);
	if (n->labels)
		json_object_put(n->labels);
	if (n->options)
		json_object_put(n->options);
	if (n->ipam_options)
		json_object_put(n->ipam_options);
	if (n->aux)
		json_object_put(n->aux);
	net_ipam_free(n->ipam);
	free(n);
}

/* By exact id, exact name, then unique id prefix (Docker's order). */
static struct network *network_find(struct engine *e, const char *ref)
{
	struct network *hit = NULL;
	size_t len;
	if (isempty(ref))
		return NULL;
	for (struct network *n = e->networks; n; n = n->next)
		if (streq(n->id, ref))
			return n;
	for (struct network *n = e->networks; n; n = n->next)
		if (streq(n->name, ref))
			return n;
	len = strlen(ref);
	for (struct network *n = e->networks; n; n = n->next)
		if (strncmp(n->id, ref, len) == 0) {
			if (hit)
				return NULL;
			hit = n;
		}
	return hit;
}

/* As network_find, with "default" for the default bridge (none with --bridge none). */
static struct network *network_resolve(struct engine *e, const char *ref)
{
	if (ref && (streq(ref, "default") || streq(ref, "bridge"))) {
		struct network *b = network_find(e, "bridge");
		return b ? b : network_find(e, "none");
	}
	return network_find(e, ref);
}

static struct network *network_by_id(struct engine *e, const char *id)
{
	for (struct network *n = e->networks; n; n = n->next)
		if (id && streq(n->id, id))
			return n;
	return NULL;
}

static int not_found(struct error **err, const char *ref)
{
	return error_setx(err, -ENOENT, "network %s not found", ref);
}

/* At container create: 400, not 404, or the docker CLI takes it for a missing image and
 * tries to pull one. */
static int not_found_create(struct error **err, const char *ref)
{
	return error_setx(err, -EINVAL, "network %s not found", ref);
}

/* ---- persistence -------------------------------------------------------------- */

static json_object *network_doc(const struct network *n)
{
	json_object *o = json_object_new_object();
	char buf[NET_PREFIX_STRLEN];
	json_add_str(o, "Id", n->id);
	json_add_str(o, "Name", n->name);
	json_add_str(o, "Driver", n->driver);
	json_add_int(o, "Created", n->created_ns);
	if (n->bridge)
		json_add_str(o, "Bridge", n->bridge);
	json_add_bool(o, "Builtin", n->builtin);
	json_add_bool(o, "Internal", n->internal);
	json_add_bool(o, "EnableIPv6", n->ipv6);
	json_add_bool(o, "Attachable", n->attachable);
	if (n->has_subnet) {
		json_add_str(o, "Subnet", net_prefix_to_string(&n->subnet, buf));
		json_add_str(o, "Gateway", net_addr_to_string(n->gateway, buf));
	}
	if (n->has_range)
		json_add_str(o, "IPRange", net_prefix_to_string(&n->range, buf));
	if (n->labels)
		json_object_object_add(o, "Labels", json_object_get(n->labels));
	if (n->options)
		json_object_object_add(o, "Options", json_object_get(n->options));
	if (n->ipam_options)
		json_object_object_add(o, "IPAMOptions", json_object_get(n->ipam_options));
	if (n->aux)
		json_object_object_add(o, "AuxAddresses", json_object_get(n->aux));
	return o;
}

static int network_save(struct engine *e, const struct network *n)
{
	_cleanup_json_ json_object *doc = network_doc(n);
	return store_put(e, "networks", n->id, n->name, doc);
}

static int network_unsave(struct engine *e, const char *id)
{
	return store_remove(e, "networks", id);
}

static int ipam_make(struct network *n)
{
	net_ipam_free(n->ipam);
	n->ipam = NULL;
	if (!n->has_subnet)
		return 0;
	return net_ipam_new(&n->subnet, n->has_range ? &n->range : NULL, n->gateway, &n->ipam);
}

static struct network *network_from_doc(json_object *doc)
{
	struct network *n = xnew0(struct network, 1);
	const char *s;
	json_object *v;
	n->id = xstrdup(get_s(doc, "Id") ? get_s(doc, "Id") : "");
	n->name = xstrdup(get_s(doc, "Name") ? get_s(doc, "Name") : "");
	n->driver = xstrdup(get_s(doc, "Driver") ? get_s(doc, "Driver") : "bridge");
	n->created_ns = get(doc, "Created") ? json_object_get_int64(get(doc, "Created")) : 0;
	if ((s = get_s(doc, "Bridge")))
		n->bridge = xstrdup(s);
	n->builtin = get_b(doc, "Builtin");
	n->internal = get_b(doc, "Internal");
	n->ipv6 = get_b(doc, "EnableIPv6");
	n->attachable = get_b(doc, "Attachable");
	if ((s = get_s(doc, "Subnet")) && net_prefix_parse(s, &n->subnet) >= 0) {
		n->subnet = net_prefix_canonical(&n->subnet);
		n->has_subnet = true;
		if (!get_s(doc, "Gateway") ||
		    net_addr_parse(get_s(doc, "Gateway"), &n->gateway) < 0)
			n->gateway = net_prefix_nth(&n->subnet, 1);
	}
	if ((s = get_s(doc, "IPRange")) && net_prefix_parse(s, &n->range) >= 0) {
		n->range = net_prefix_canonical(&n->range);
		n->has_range = true;
	}
	if ((v = get(doc, "Labels")))
		n->labels = json_object_get(v);
	if ((v = get(doc, "Options")))
		n->options = json_object_get(v);
	if ((v = get(doc, "IPAMOptions")))
		n->ipam_options = json_object_get(v);
	if ((v = get(doc, "AuxAddresses")))
		n->aux = json_object_get(v);
	if (ipam_make(n) < 0 || isempty(n->id) || isempty(n->name) ||
	    (is_bridge(n) && (!n->bridge || !n->has_subnet))) {
		network_free(n);
		return NULL;
	}
	return n;
}

/* ---- subnets -------------------------------------------------------------------- */

static int parse_pool(const char *s, struct net_pool *ret)
{
	_cleanup_free_ char *copy = xstrdup(s);
	bool has_base = false;
	int size = -1;
	for (char *save = NULL, *t = strtok_r(copy, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		if (startswith(t, "base=")) {
			if (net_prefix_parse(t + 5, &ret->base) < 0)
				return -EINVAL;
			ret->base = net_prefix_canonical(&ret->base);
			has_base = true;
		} else if (startswith(t, "size=")) {
			if (safe_atoi(t + 5, &size) < 0)
				return -EINVAL;
		} else
			return -EINVAL;
	}
	if (!has_base || size < ret->base.len || size > 30)
		return -EINVAL;
	ret->size = (uint8_t)size;
	return 0;
}

/* The host's routes and the other networks' subnets: what a new subnet must not overlap. */
static void used_subnets(struct engine *e, struct net_prefix **ret, size_t *ret_n)
{
	_cleanup_(net_nl_freep) struct net_nl *nl = NULL;
	struct net_prefix *routes = NULL;
	size_t n = 0;
	if (net_nl_open(-1, &nl) >= 0)
		(void)net_nl_routes(nl, &routes, &n);
	for (struct network *x = e->networks; x; x = x->next) {
		if (!x->has_subnet)
			continue;
		routes = xrealloc(routes, (n + 1) * sizeof(*routes));
		routes[n++] = x->subnet;
	}
	*ret = routes;
	*ret_n = n;
}

static int pick_subnet(struct engine *e, struct net_prefix *ret, struct error **err)
{
	_cleanup_free_ struct net_prefix *used = NULL;
	_cleanup_free_ struct net_pool *pools = NULL;
	size_t n_used = 0, n_pools = 0;
	int r;
	for (char **p = e->cfg->address_pools; p && *p; p++) {
		pools = xrealloc(pools, (n_pools + 1) * sizeof(*pools));
		if (parse_pool(*p, &pools[n_pools]) < 0)
			return error_setx(err, -EINVAL, "invalid default address pool '%s'", *p);
		n_pools++;
	}
	used_subnets(e, &used, &n_used);
	r = net_pools_pick(n_pools ? pools : net_default_pools,
			   n_pools ? n_pools : net_default_pools_n, used, n_used, ret);
	if (r < 0)
		return error_setx(err, -EPERM,
				  "all predefined address pools have been fully subnetted");
	return 0;
}

/* ---- bridges and NAT --------------------------------------------------------------- */

static uint32_t network_mtu(struct engine *e, const struct network *n)
{
	const char *m = get_s(n->options, "com.docker.network.driver.mtu");
	int v;
	if (m && safe_atoi(m, &v) >= 0 && v > 0)
		return (uint32_t)v;
	return e->cfg->mtu > 0 ? (uint32_t)e->cfg->mtu : 0;
}

static int bridge_up(struct engine *e, struct network *n, struct error **err)
{
	struct net_bridge_config bc = {
	    .name = n->bridge,
	    .gateway = {n->gateway, n->subnet.len},
	    .mtu = network_mtu(e, n),
	    .route_localnet = !n->internal,
	};
	int r;
	if (n->up)
		return 0;
	r = net_bridge_setup(&bc, err);
	if (r < 0)
		return r;
	if (!n->internal && !e->cfg->no_ip_forward && !e->ip_forward_done) {
		r = net_sysctl_set("ipv4/ip_forward", "1");
		if (r < 0)
			log_warn("warning: cannot enable IP forwarding: %s", strerror(-r));
		e->ip_forward_done = true;
	}
	n->up = true;
	return 0;
}

static bool running(const struct container *c)
{
	return c->status == C_RUNNING || c->status == C_PAUSED || c->starting;
}

static json_object *networks_of(struct container *c)
{
	return get(c->net, "Networks");
}

/*
 * Generate berth's nft table from the networks and the published ports of the running
 * containers and apply it when it changed. Without bridge networks (--bridge none and no
 * user networks) nft is left alone: another daemon may own the table of this namespace.
 */
static void nat_sync(struct engine *e)
{
	_cleanup_free_ struct net_nat_network *nets = NULL;
	_cleanup_free_ struct net_nat_port *ports = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *text = NULL;
	size_t n_nets = 0, n_ports = 0;

	if (e->cfg->no_iptables)
		return;
	for (struct network *n = e->networks; n; n = n->next) {
		if (!is_bridge(n) || !n->up)
			continue;
		const char *mq =
		    get_s(n->options, "com.docker.network.bridge.enable_ip_masquerade");
		nets = xrealloc(nets, (n_nets + 1) * sizeof(*nets));
		nets[n_nets++] = (struct net_nat_network){
		    .bridge = n->bridge,
		    .subnet = n->subnet,
		    .masquerade = !(mq && streq(mq, "false")),
		    .internal = n->internal,
		};
	}
	if (n_nets == 0 && !e->nat_applied)
		return;
	for (struct container *c = e->containers; c; c = c->next) {
		json_object *pm = get(c->net, "PortMap");
		for (size_t i = 0; pm && i < json_object_array_length(pm); i++) {
			json_object *p = json_object_array_get_idx(pm, i);
			struct net_nat_port np = {0};
			const char *proto = get_s(p, "Proto");
			np.proto = proto && streq(proto, "udp") ? IPPROTO_UDP : IPPROTO_TCP;
			if (net_addr_parse(get_s(p, "HostIp") ? get_s(p, "HostIp") : "",
					   &np.host_ip) < 0 ||
			    net_addr_parse(get_s(p, "ContainerIp") ? get_s(p, "ContainerIp") : "",
					   &np.container_ip) < 0)
				continue;
			np.host_port = (uint16_t)json_object_get_int(get(p, "HostPort"));
			np.container_port = (uint16_t)json_object_get_int(get(p, "ContainerPort"));
			ports = xrealloc(ports, (n_ports + 1) * sizeof(*ports));
			ports[n_ports++] = np;
		}
	}
	if (net_nat_ruleset(nets, n_nets, ports, n_ports, &text) < 0) {
		log_warn("warning: cannot generate the NAT rules");
		return;
	}
	if (e->nat_applied && streq(e->nat_applied, text))
		return;
	if (net_nft_run(NULL, text, &err) < 0) {
		log_warn("warning: NAT rules: %s", err ? err->msg : "nft failed");
		return;
	}
	free(e->nat_applied);
	e->nat_applied = TAKE_PTR(text);
}

/* ---- init ------------------------------------------------------------------------- */

static struct network *builtin(struct engine *e, const char *name, const char *driver)
{
	struct network *n = xnew0(struct network, 1);
	n->id = random_id();
	n->name = xstrdup(name);
	n->driver = xstrdup(driver);
	n->created_ns = now_ns();
	n->builtin = true;
	(void)e;
	return n;
}

static void network_link(struct engine *e, struct network *n)
{
	struct network **p = &e->networks;
	while (*p)
		p = &(*p)->next;
	*p = n;
}

static void network_unlink(struct engine *e, struct network *n)
{
	for (struct network **p = &e->networks; *p; p = &(*p)->next)
		if (*p == n) {
			*p = n->next;
			return;
		}
}

/* The default bridge as the configuration wants it (--bridge, --bip). */
static int default_bridge(struct engine *e, struct network *old, struct error **err)
{
	const char *ifname = e->cfg->bridge ? e->cfg->bridge : DEFAULT_BRIDGE;
	struct network *n = old;
	int r;
	if (!net_ifname_valid(ifname))
		return error_setx(err, -EINVAL, "invalid bridge name '%s'", ifname);
	if (!n) {
		n = builtin(e, "bridge", "bridge");
		n->options = json_object_new_object();
	}
	free(n->bridge);
	n->bridge = xstrdup(ifname);
	if (e->cfg->bip) {
		struct net_prefix p;
		if (net_prefix_parse(e->cfg->bip, &p) < 0 || p.len > 30 || p.len < 8) {
			if (!old)
				network_free(n);
			return error_setx(err, -EINVAL, "invalid bip '%s'", e->cfg->bip);
		}
		n->subnet = net_prefix_canonical(&p);
		n->gateway = p.addr;
		n->has_subnet = true;
	} else if (!n->has_subnet) {
		r = pick_subnet(e, &n->subnet, err);
		if (r < 0) {
			if (!old)
				network_free(n);
			return r;
		}
		n->gateway = net_prefix_nth(&n->subnet, 1);
		n->has_subnet = true;
	}
	n->has_range = false;
	{
		json_object *o = n->options;
		json_add_str(o, "com.docker.network.bridge.default_bridge", "true");
		json_add_str(o, "com.docker.network.bridge.enable_icc", "true");
		json_add_str(o, "com.docker.network.bridge.enable_ip_masquerade", "true");
		json_add_str(o, "com.docker.network.bridge.host_binding_ipv4", "0.0.0.0");
		json_add_str(o, "com.docker.network.bridge.name", ifname);
		char mtu[16];
		snprintf(mtu, sizeof(mtu), "%d", e->cfg->mtu > 0 ? e->cfg->mtu : 1500);
		json_add_str(o, "com.docker.network.driver.mtu", mtu);
	}
	r = ipam_make(n);
	if (r < 0) {
		if (!old)
			network_free(n);
		return error_set(err, r, "default bridge address pool");
	}
	if (!old)
		network_link(e, n);
	return network_save(e, n) < 0 ? error_setx(err, -EIO, "save network bridge") : 0;
}

/* Take the addresses of the containers that run again in their networks' IPAM. */
static void ipam_rebuild(struct engine *e)
{
	for (struct container *c = e->containers; c; c = c->next) {
		json_object *nets = networks_of(c);
		if (!nets || (c->status != C_RUNNING && c->status != C_PAUSED))
			continue;
		json_object_object_foreach(nets, name, ep)
		{
			struct network *n = network_by_id(e, get_s(ep, "NetworkID"));
			struct in_addr a;
			(void)name;
			if (n && n->ipam && get_s(ep, "IPAddress") &&
			    net_addr_parse(get_s(ep, "IPAddress"), &a) >= 0)
				(void)net_ipam_reserve(n->ipam, a);
		}
	}
}

int network_init(struct engine *e, struct error **err)
{
	sqlite3_stmt *st = NULL;
	char *msg = NULL;
	struct network *bridge = NULL;
	bool has_host = false, has_none = false;
	int r;

	if (sqlite3_exec(e->db,
			 "CREATE TABLE IF NOT EXISTS networks (id TEXT PRIMARY KEY, "
			 "name TEXT UNIQUE NOT NULL, doc TEXT NOT NULL);",
			 NULL, NULL, &msg) != SQLITE_OK) {
		r = error_setx(err, -EIO, "initialise networks: %s", msg ? msg : "?");
		sqlite3_free(msg);
		return r;
	}
	if (sqlite3_prepare_v2(e->db, "SELECT doc FROM networks ORDER BY rowid", -1, &st, NULL) !=
	    SQLITE_OK)
		return error_setx(err, -EIO, "read networks: %s", sqlite3_errmsg(e->db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		_cleanup_json_ json_object *doc =
		    json_tokener_parse((const char *)sqlite3_column_text(st, 0));
		struct network *n = doc ? network_from_doc(doc) : NULL;
		if (!n) {
			log_warn("warning: skipping a damaged network record");
			continue;
		}
		network_link(e, n);
	}
	sqlite3_finalize(st);

	for (struct network *n = e->networks; n; n = n->next) {
		if (n->builtin && streq(n->name, "bridge"))
			bridge = n;
		has_host |= n->builtin && streq(n->name, "host");
		has_none |= n->builtin && streq(n->name, "none");
	}
	if (!has_none) {
		struct network *n = builtin(e, "none", "null");
		network_link(e, n);
		network_save(e, n);
	}
	if (!has_host) {
		struct network *n = builtin(e, "host", "host");
		network_link(e, n);
		network_save(e, n);
	}
	if (e->cfg->bridge && streq(e->cfg->bridge, "none")) {
		if (bridge) {
			network_unsave(e, bridge->id);
			network_unlink(e, bridge);
			network_free(bridge);
		}
	} else {
		r = default_bridge(e, bridge, err);
		if (r < 0)
			return r;
	}
	ipam_rebuild(e);
	return 0;
}

/* ---- container create --------------------------------------------------------------- */

static json_object *endpoint_new(struct network *n, json_object *given)
{
	json_object *ep = json_object_new_object();
	json_object *v;
	json_object_object_add(ep, "IPAMConfig",
			       (v = get(given, "IPAMConfig")) ? json_object_get(v) : NULL);
	json_object_object_add(ep, "Links", (v = get(given, "Links")) ? json_object_get(v) : NULL);
	json_object_object_add(
	    ep, "Aliases",
	    (v = get(given, "Aliases")) && json_object_array_length(v) ? json_object_get(v) : NULL);
	json_add_str(ep, "MacAddress", "");
	json_object_object_add(ep, "DriverOpts",
			       (v = get(given, "DriverOpts")) ? json_object_get(v) : NULL);
	json_add_int(ep, "GwPriority", 0);
	json_add_str(ep, "NetworkID", n->id);
	json_add_str(ep, "EndpointID", "");
	json_add_str(ep, "Gateway", "");
	json_add_str(ep, "IPAddress", "");
	json_add_int(ep, "IPPrefixLen", 0);
	json_add_str(ep, "IPv6Gateway", "");
	json_add_str(ep, "GlobalIPv6Address", "");
	json_add_int(ep, "GlobalIPv6PrefixLen", 0);
	json_object_object_add(ep, "DNSNames", NULL);
	if (get_s(given, "MacAddress") && *get_s(given, "MacAddress"))
		json_add_str(ep, "BerthMac", get_s(given, "MacAddress"));
	return ep;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

/* Check what an endpoint asks for against its network (create and connect). */
static int endpoint_check(struct network *n, json_object *given, struct error **err)
{
	json_object *ipam = get(given, "IPAMConfig");
	const char *ip = get_s(ipam, "IPv4Address");
	const char *mac = get_s(given, "MacAddress");
	uint8_t m[6];
	if (!isempty(ip)) {
		struct in_addr a;
		if (!is_user(n))
			return error_setx(err, -EINVAL,
					  "user specified IP address is supported on user "
					  "defined networks only");
		if (net_addr_parse(ip, &a) < 0)
			return error_setx(err, -EINVAL, "invalid IPv4 address: %s", ip);
		if (!net_prefix_contains(&n->subnet, a))
			return error_setx(err, -EINVAL,
					  "no configured subnet or ip-range contain the IP "
					  "address %s",
					  ip);
	}
	if (!isempty(mac) && parse_mac(mac, m) < 0)
		return error_setx(err, -EINVAL, "invalid MAC address: %s", mac);
	if (get(given, "Aliases") && json_object_array_length(get(given, "Aliases")) > 0 &&
	    !is_user(n))
		return error_setx(err, -EINVAL,
				  "network-scoped alias is supported only for containers in "
				  "user defined networks");
	return 0;
}

int container_net_config(struct engine *e, json_object *hc, json_object *netcfg, json_object **ret,
			 struct error **err)
{
	const char *mode = get_s(hc, "NetworkMode");
	json_object *eps = get(netcfg, "EndpointsConfig");
	json_object *net = json_object_new_object(), *nets = json_object_new_object();
	struct network *first = NULL;
	int r;

	json_object_object_add(net, "Networks", nets);
	*ret = net;
	if (!mode || streq(mode, "default"))
		mode = "bridge";
	if (startswith(mode, "container:")) {
		struct container *other = container_find(e, mode + 10);
		if (!other)
			return error_setx(err, -ENOENT, "No such container: %s", mode + 10);
		if (eps && json_object_object_length(eps) > 0)
			return error_setx(err, -EINVAL,
					  "conflicting options: container type network can't be "
					  "used with multiple networks");
		return 0;
	}
	first = network_resolve(e, mode);
	if (!first)
		return not_found_create(err, mode);
	if (eps && !json_object_is_type(eps, json_type_object))
		return error_setx(err, -EINVAL, "invalid EndpointsConfig");
	{
		/* The endpoint of the mode's network, with its settings from EndpointsConfig
		 * when given there (by name or id). */
		json_object *given = NULL;
		if (eps) {
			json_object_object_foreach(eps, k, v)
			{
				if (network_resolve(e, k) == first)
					given = v;
			}
		}
		r = endpoint_check(first, given, err);
		if (r < 0)
			return r;
		json_object_object_add(nets, first->name, endpoint_new(first, given));
	}
	if (eps) {
		json_object_object_foreach(eps, k, v)
		{
			struct network *n = network_resolve(e, k);
			if (!n)
				return not_found_create(err, k);
			if (n == first)
				continue;
			if (!is_bridge(n) || !is_bridge(first))
				return error_setx(
				    err, -EINVAL,
				    "Container cannot be connected to network endpoints: "
				    "%s",
				    k);
			r = endpoint_check(n, v, err);
			if (r < 0)
				return r;
			json_object_object_add(nets, n->name, endpoint_new(n, v));
		}
	}
	return 0;
}

/* ---- start --------------------------------------------------------------------------- */

/* Next free ethN of the container. */
static void pick_ifname(json_object *nets, char buf[IFNAMSIZ])
{
	for (int i = 0; i < 1000; i++) {
		bool used = false;
		snprintf(buf, IFNAMSIZ, "eth%d", i);
		json_object_object_foreach(nets, k, ep)
		{
			(void)k;
			const char *f = get_s(ep, "BerthIf");
			used |= f && streq(f, buf);
		}
		if (!used)
			return;
	}
}

/* Give one endpoint its address, MAC, interface names and id. */
static int endpoint_alloc(struct engine *e, struct container *c, struct network *n, json_object *ep,
			  struct error **err)
{
	const char *want = get_s(get(ep, "IPAMConfig"), "IPv4Address");
	char buf[NET_PREFIX_STRLEN], ifname[IFNAMSIZ], hostif[IFNAMSIZ];
	struct in_addr a;
	uint8_t mac[6];
	int r;

	if (!is_bridge(n)) {
		_cleanup_free_ char *eid = random_id();
		json_add_str(ep, "EndpointID", eid);
		return 0;
	}
	if (!isempty(want)) {
		r = net_addr_parse(want, &a);
		if (r >= 0)
			r = net_ipam_reserve(n->ipam, a);
		if (r == -EEXIST)
			return error_setx(err, -EEXIST, "Address already in use");
		if (r < 0)
			return error_setx(err, -EINVAL, "invalid address %s for network %s", want,
					  n->name);
	} else {
		r = net_ipam_alloc(n->ipam, &a);
		if (r < 0)
			return error_setx(err, -EPERM,
					  "no available IPv4 addresses on this network's address "
					  "pools: %s (%s)",
					  n->name, n->id);
	}
	if (!get_s(ep, "BerthMac") || parse_mac(get_s(ep, "BerthMac"), mac) < 0)
		net_mac_from_addr(a, mac);
	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	json_add_str(ep, "MacAddress", buf);
	json_add_str(ep, "IPAddress", net_addr_to_string(a, buf));
	json_add_int(ep, "IPPrefixLen", n->subnet.len);
	json_add_str(ep, "Gateway", net_addr_to_string(n->gateway, buf));
	{
		_cleanup_free_ char *eid = random_id();
		json_add_str(ep, "EndpointID", eid);
	}
	pick_ifname(networks_of(c), ifname);
	json_add_str(ep, "BerthIf", ifname);
	json_add_str(ep, "BerthHostIf", net_veth_name(c->id, n->id, hostif));
	if (is_user(n)) {
		json_object *names = json_object_new_array();
		char shortid[13];
		json_object *al = get(ep, "Aliases");
		json_object_array_add(names, json_object_new_string(c->name + 1));
		snprintf(shortid, sizeof(shortid), "%.12s", c->id);
		json_object_array_add(names, json_object_new_string(shortid));
		for (size_t i = 0; al && i < json_object_array_length(al); i++)
			json_object_array_add(names,
					      json_object_get(json_object_array_get_idx(al, i)));
		json_object_object_add(ep, "DNSNames", names);
	}
	return 0;
}

/* Undo endpoint_alloc (and the interface, when there is one). */
static void endpoint_free(struct engine *e, struct container *c, struct network *n, json_object *ep,
			  bool delete_link)
{
	struct in_addr a;
	(void)c;
	if (n && n->ipam && get_s(ep, "IPAddress") &&
	    net_addr_parse(get_s(ep, "IPAddress"), &a) >= 0) {
		(void)net_ipam_release(n->ipam, a);
		if (e->dns && n)
			net_dns_remove_records(e->dns, n->id, a);
	}
	if (delete_link && get_s(ep, "BerthHostIf")) {
		_cleanup_error_ struct error *err = NULL;
		if (net_endpoint_detach(get_s(ep, "BerthHostIf"), &err) < 0)
			log_warn("warning: %s", err ? err->msg : "veth");
	}
	json_add_str(ep, "EndpointID", "");
	json_add_str(ep, "Gateway", "");
	json_add_str(ep, "IPAddress", "");
	json_add_int(ep, "IPPrefixLen", 0);
	json_add_str(ep, "MacAddress", "");
	json_object_object_del(ep, "BerthIf");
	json_object_object_del(ep, "BerthHostIf");
	json_object_object_add(ep, "DNSNames", NULL);
}

static void close_ports(struct container *c)
{
	for (size_t i = 0; i < c->n_port_fds; i++)
		if (c->port_fds[i] >= 0)
			close(c->port_fds[i]);
	free(c->port_fds);
	c->port_fds = NULL;
	c->n_port_fds = 0;
}

/* The container's address on its first bridge network: where published ports go. */
static const char *port_target(struct engine *e, struct container *c)
{
	json_object *nets = networks_of(c);
	if (!nets)
		return NULL;
	json_object_object_foreach(nets, k, ep)
	{
		(void)k;
		struct network *n = network_by_id(e, get_s(ep, "NetworkID"));
		if (n && is_bridge(n) && !isempty(get_s(ep, "IPAddress")))
			return get_s(ep, "IPAddress");
	}
	return NULL;
}

static int reserve_port(struct container *c, int proto, struct in_addr hip, uint16_t lo,
			uint16_t hi, uint16_t *ret, struct error **err)
{
	int fd = -EADDRINUSE;
	char ipbuf[INET_ADDRSTRLEN];
	for (uint32_t p = lo; p <= hi; p++) {
		fd = net_port_reserve(proto, hip, (uint16_t)p, ret);
		if (fd >= 0 || lo == 0)
			break;
	}
	if (fd < 0) {
		if (lo == hi || lo == 0)
			return error_setx(
			    err, -EPERM,
			    "driver failed programming external connectivity on "
			    "endpoint %s (%s): Bind for %s:%u failed: port is already "
			    "allocated",
			    c->name + 1, c->id, net_addr_to_string(hip, ipbuf), lo);
		return error_setx(err, -EPERM,
				  "driver failed programming external connectivity on endpoint "
				  "%s (%s): all ports are allocated",
				  c->name + 1, c->id);
	}
	c->port_fds = xrealloc(c->port_fds, (c->n_port_fds + 1) * sizeof(int));
	c->port_fds[c->n_port_fds++] = fd;
	return 0;
}

static int parse_port_key(const char *key, uint16_t *port, int *proto)
{
	char *end;
	unsigned long v = strtoul(key, &end, 10);
	if (end == key || v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	*proto = IPPROTO_TCP;
	if (*end == '/') {
		if (streq(end + 1, "udp"))
			*proto = IPPROTO_UDP;
		else if (!streq(end + 1, "tcp"))
			return -EINVAL; /* sctp: not published */
	} else if (*end)
		return -EINVAL;
	return 0;
}

static int parse_host_ports(const char *s, uint16_t *lo, uint16_t *hi)
{
	unsigned a = 0, b = 0;
	char tail;
	if (isempty(s)) {
		*lo = *hi = 0;
		return 0;
	}
	int k = sscanf(s, "%u-%u%c", &a, &b, &tail);
	if (k == 1)
		b = a;
	else if (k != 2)
		return -EINVAL;
	if (a > 65535 || b > 65535 || b < a)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

/* Reserve the host ports of PortBindings (and of -P the exposed ones): PortMap and Ports. */
static int ports_prepare(struct engine *e, struct container *c, struct error **err)
{
	json_object *pb = get(c->host_config, "PortBindings");
	json_object *exposed = get(c->config, "ExposedPorts");
	bool all = get_b(c->host_config, "PublishAllPorts");
	const char *target = port_target(e, c);
	json_object *map = json_object_new_array(), *ports = json_object_new_object();
	int r = 0;

	json_object_object_add(c->net, "PortMap", map);
	json_object_object_add(c->net, "Ports", ports);
	if (exposed) {
		json_object_object_foreach(exposed, k, v)
		{
			(void)v;
			json_object_object_add(ports, k, NULL);
		}
	}
	if (!target)
		return 0;
	/* every key: its bindings, or with -P one random port */
	_cleanup_json_ json_object *todo = json_object_new_object();
	if (pb) {
		json_object_object_foreach(pb, k, v)
		{
			json_object_object_add(todo, k, json_object_get(v));
		}
	}
	if (all && exposed) {
		json_object_object_foreach(exposed, k, v)
		{
			(void)v;
			if (!get(todo, k) || json_object_array_length(get(todo, k)) == 0) {
				json_object *one = json_object_new_array();
				json_object *b = json_object_new_object();
				json_add_str(b, "HostIp", "");
				json_add_str(b, "HostPort", "");
				json_object_array_add(one, b);
				json_object_object_add(todo, k, one);
			}
		}
	}
	json_object_object_foreach(todo, key, binds)
	{
		uint16_t cport;
		int proto;
		json_object *list = NULL;
		if (parse_port_key(key, &cport, &proto) < 0)
			continue;
		for (size_t i = 0; binds && json_object_is_type(binds, json_type_array) &&
				   i < json_object_array_length(binds);
		     i++) {
			json_object *b = json_object_array_get_idx(binds, i);
			const char *hip_s = get_s(b, "HostIp");
			struct in_addr hip = {0};
			uint16_t lo, hi, got = 0;
			char buf[INET_ADDRSTRLEN], pbuf[8];
			if (!isempty(hip_s) && strchr(hip_s, ':'))
				continue; /* IPv6: not published (no IPv6 NAT yet) */
			if (!isempty(hip_s) && net_addr_parse(hip_s, &hip) < 0) {
				r = error_setx(err, -EINVAL, "invalid host IP address: %s", hip_s);
				break;
			}
			if (parse_host_ports(get_s(b, "HostPort"), &lo, &hi) < 0) {
				r = error_setx(err, -EINVAL, "invalid port specification: \"%s\"",
					       get_s(b, "HostPort"));
				break;
			}
			r = reserve_port(c, proto, hip, lo, hi, &got, err);
			if (r < 0)
				break;
			json_object *m = json_object_new_object();
			json_add_str(m, "Proto", proto == IPPROTO_UDP ? "udp" : "tcp");
			json_add_str(m, "HostIp", net_addr_to_string(hip, buf));
			json_add_int(m, "HostPort", got);
			json_add_str(m, "ContainerIp", target);
			json_add_int(m, "ContainerPort", cport);
			json_object_array_add(map, m);
			if (!list)
				list = json_object_new_array();
			json_object *pub = json_object_new_object();
			json_add_str(pub, "HostIp", buf);
			snprintf(pbuf, sizeof(pbuf), "%u", got);
			json_add_str(pub, "HostPort", pbuf);
			json_object_array_add(list, pub);
		}
		if (r < 0) {
			if (list)
				json_object_put(list);
			break;
		}
		json_object_object_add(ports, key, list);
	}
	return r;
}

int container_net_prepare(struct engine *e, struct container *c, struct error **err)
{
	json_object *nets;
	const char *mode = get_s(c->host_config, "NetworkMode");
	int r = 0;

	if (mode && startswith(mode, "container:")) {
		struct container *o = container_find(e, mode + 10);
		if (!o || (o->status != C_RUNNING && o->status != C_PAUSED))
			return error_setx(
			    err, -EINVAL,
			    "cannot join network namespace of a non running container: "
			    "%s",
			    o ? o->id : mode + 10);
		return 0;
	}
	if (!c->net) {
		/* a container made before networks existed */
		r = container_net_config(e, c->host_config, NULL, &c->net, err);
		if (r < 0)
			return r;
	}
	nets = networks_of(c);
	/* What a start that berthd died in may have left in the record: not ours any more. */
	json_object_object_foreach(nets, k0, ep0)
	{
		(void)k0;
		json_object_object_del(ep0, "BerthIf");
		json_object_object_del(ep0, "BerthHostIf");
	}
	json_object_object_foreach(nets, name, ep)
	{
		struct network *n = network_by_id(e, get_s(ep, "NetworkID"));
		if (!n)
			n = network_find(e, name);
		if (!n) {
			r = not_found(err, name);
			break;
		}
		json_add_str(ep, "NetworkID", n->id);
		r = endpoint_alloc(e, c, n, ep, err);
		if (r < 0)
			break;
	}
	if (r >= 0) {
		_cleanup_free_ char *sb = random_id();
		json_add_str(c->net, "SandboxID", sb);
		r = ports_prepare(e, c, err);
	}
	if (r < 0)
		container_net_release(e, c);
	return r;
}

/* The first endpoint with an address: the one /etc/hosts names. */
const char *container_first_ip(struct container *c)
{
	json_object *nets = networks_of(c);
	if (nets) {
		json_object_object_foreach(nets, k, ep)
		{
			(void)k;
			if (!isempty(get_s(ep, "IPAddress")))
				return get_s(ep, "IPAddress");
		}
	}
	return NULL;
}

static bool on_user_network(struct engine *e, struct container *c)
{
	json_object *nets = networks_of(c);
	if (nets) {
		json_object_object_foreach(nets, k, ep)
		{
			(void)k;
			struct network *n = network_by_id(e, get_s(ep, "NetworkID"));
			if (n && is_user(n))
				return true;
		}
	}
	return false;
}

static char **strv_of(json_object *a)
{
	char **l = NULL;
	for (size_t i = 0;
	     a && json_object_is_type(a, json_type_array) && i < json_object_array_length(a); i++)
		l = strv_append(l, json_object_get_string(json_object_array_get_idx(a, i)));
	return l;
}

/* The container's resolv.conf from the host's and its --dns options. */
static int resolv_for(struct container *c, bool internal_dns, char **ret, char ***ret_upstreams)
{
	_cleanup_free_ char *host_resolv = NULL;
	_cleanup_strv_free_ char **dns = strv_of(get(c->host_config, "Dns"));
	_cleanup_strv_free_ char **search = strv_of(get(c->host_config, "DnsSearch"));
	_cleanup_strv_free_ char **opts = strv_of(get(c->host_config, "DnsOptions"));
	if (read_file_at(AT_FDCWD, "/etc/resolv.conf", 1 << 20, &host_resolv, NULL) < 0)
		host_resolv = xstrdup("");
	struct net_resolv_config rc = {
	    .host_resolv = host_resolv,
	    .host_path = "/etc/resolv.conf",
	    .internal_dns = internal_dns,
	    .dns = dns,
	    .dns_search = search,
	    .dns_options = opts,
	};
	return net_resolv_build(&rc, ret, ret_upstreams);
}

/* Rewrite a file a running container has bind-mounted: in place, not by rename. */
static int rewrite_in_place(const char *path, const char *data)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	size_t len = strlen(data);
	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int container_net_etc_files(struct engine *e, struct container *c, struct error **err)
{
	_cleanup_free_ char *dir = container_dir(e, c->id);
	_cleanup_free_ char *hn = xasprintf("%s/hostname", dir);
	_cleanup_free_ char *hs = xasprintf("%s/hosts", dir);
	_cleanup_free_ char *rc = xasprintf("%s/resolv.conf", dir);
	_cleanup_free_ char *hosts = NULL, *resolv = NULL;
	_cleanup_strv_free_ char **extra = NULL, **upstreams = NULL;
	const char *mode = get_s(c->host_config, "NetworkMode");
	const char *host = get_s(c->config, "Hostname");
	char gwbuf[INET_ADDRSTRLEN] = "";
	_cleanup_free_ char *hline = NULL;
	bool hostmode = mode && streq(mode, "host");
	bool internal_dns;
	int r;

	pthread_mutex_lock(&e->lock);
	internal_dns = on_user_network(e, c);
	{
		struct network *b = network_find(e, "bridge");
		if (b && b->builtin && b->has_subnet)
			net_addr_to_string(b->gateway, gwbuf);
	}
	const char *ip = container_first_ip(c);
	_cleanup_free_ char *ipcopy = ip ? xstrdup(ip) : NULL;
	pthread_mutex_unlock(&e->lock);

	extra = strv_of(get(c->host_config, "ExtraHosts"));

	if (hostmode) {
		char name[HOST_NAME_MAX + 1] = "";
		gethostname(name, sizeof(name) - 1);
		hline = xasprintf("%s\n", name);
		if (read_file_at(AT_FDCWD, "/etc/hosts", 1 << 20, &hosts, NULL) < 0)
			hosts = xstrdup("127.0.0.1\tlocalhost\n");
		/* the host's file, then the extra hosts (name:ip) */
		for (char **x = extra; x && *x; x++) {
			const char *colon = strchr(*x, ':');
			if (!colon)
				return error_setx(err, -EINVAL, "invalid extra host: %s", *x);
			_cleanup_free_ char *nm = xstrndup(*x, (size_t)(colon - *x));
			const char *xip = streq(colon + 1, "host-gateway") ? gwbuf : colon + 1;
			char *more = xasprintf("%s%s\t%s\n", hosts, xip, nm);
			free(hosts);
			hosts = more;
		}
		if (read_file_at(AT_FDCWD, "/etc/resolv.conf", 1 << 20, &resolv, NULL) < 0)
			resolv = xstrdup("");
	} else {
		struct net_hosts_config hc = {
		    .hostname = host ? host : "",
		    .domainname = get_s(c->config, "Domainname"),
		    .addr = ipcopy,
		    .extra_hosts = extra,
		    .host_gateway = gwbuf[0] ? gwbuf : NULL,
		    .ipv6 = true,
		};
		hline = xasprintf("%s\n", host ? host : "");
		r = net_hosts_build(&hc, &hosts);
		if (r < 0)
			return error_setx(err, -EINVAL, "invalid extra host in %s", c->name + 1);
		if (!isempty(c->link_hosts)) {
			char *more = xasprintf("%s%s", hosts, c->link_hosts);
			free(hosts);
			hosts = more;
		}
		r = resolv_for(c, internal_dns, &resolv, &upstreams);
		if (r < 0)
			return error_set(err, r, "resolv.conf");
	}
	/* These are made again at every start: no fsync on the start path. */
	r = write_file_replace(hn, hline, strlen(hline), 0644);
	if (r >= 0)
		r = write_file_replace(hs, hosts, strlen(hosts), 0644);
	if (r >= 0)
		r = write_file_replace(rc, resolv, strlen(resolv), 0644);
	if (r < 0)
		return error_set(err, r, "write hosts files");
	if (internal_dns) {
		pthread_mutex_lock(&e->lock);
		if (c->net)
			json_object_object_add(c->net, "DNSUpstreams", json_strv_new(upstreams));
		pthread_mutex_unlock(&e->lock);
	}
	return 0;
}

/* The user networks (ids) of c, for its DNS listener. */
static char **user_networks(struct engine *e, struct container *c)
{
	char **l = NULL;
	json_object *nets = networks_of(c);
	if (nets) {
		json_object_object_foreach(nets, k, ep)
		{
			(void)k;
			struct network *n = network_by_id(e, get_s(ep, "NetworkID"));
			if (n && is_user(n) && !isempty(get_s(ep, "IPAddress")))
				l = strv_append(l, n->id);
		}
	}
	return l;
}

static void dns_records(struct engine *e, struct network *n, json_object *ep)
{
	struct in_addr a;
	json_object *names = get(ep, "DNSNames");
	if (!e->dns || !is_user(n) ||
	    net_addr_parse(get_s(ep, "IPAddress") ? get_s(ep, "IPAddress") : "", &a) < 0)
		return;
	for (size_t i = 0; names && i < json_object_array_length(names); i++)
		net_dns_add_record(e->dns, n->id,
				   json_object_get_string(json_object_array_get_idx(names, i)), a);
}

/* The DNS listener in the container's namespace and its names (lock held). */
static int dns_setup(struct engine *e, struct container *c, pid_t pid, struct error **err)
{
	_cleanup_strv_free_ char **nets = user_networks(e, c);
	_cleanup_strv_free_ char **up = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int nsfd = -EBADF;
	int fd, r;

	if (!nets)
		return 0;
	if (!e->dns) {
		r = net_dns_new(&e->dns, err);
		if (r < 0)
			return r;
	}
	path = xasprintf("/proc/%d/ns/net", (int)pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return error_set(err, -errno, "open %s", path);
	fd = net_dns_listen_socket(nsfd, err);
	if (fd < 0)
		return fd;
	up = strv_of(get(c->net, "DNSUpstreams"));
	r = net_dns_add_listener(e->dns, c->id, fd, nets, up);
	if (r < 0)
		return error_set(err, r, "DNS listener");
	c->dns_listening = true;
	json_object_object_foreach(networks_of(c), k, ep)
	{
		(void)k;
		struct network *n = network_by_id(e, get_s(ep, "NetworkID"));
		if (n)
			dns_records(e, n, ep);
	}
	return 0;
}

/* One endpoint's interface in the namespace of nsfd (no lock: netlink only). */
static int endpoint_plumb(struct engine *e, const char *bridge, json_object *ep_copy, int nsfd,
			  bool default_route, uint32_t mtu, struct error **err)
{
	struct net_endpoint_config ec = {0};
	uint8_t mac[6];
	struct in_addr gw;
	(void)e;
	ec.bridge = bridge;
	ec.host_ifname = get_s(ep_copy, "BerthHostIf");
	ec.ifname = get_s(ep_copy, "BerthIf");
	if (!ec.host_ifname || !ec.ifname ||
	    net_addr_parse(get_s(ep_copy, "IPAddress"), &ec.addr.addr) < 0 ||
	    net_addr_parse(get_s(ep_copy, "Gateway"), &gw) < 0)
		return error_setx(err, -EINVAL, "endpoint without an address");
	ec.addr.len = (uint8_t)json_object_get_int(get(ep_copy, "IPPrefixLen"));
	ec.gateway = gw;
	ec.mtu = mtu;
	if (parse_mac(get_s(ep_copy, "MacAddress"), mac) >= 0)
		ec.mac = mac;
	ec.hairpin = true;
	ec.default_route = default_route;
	return net_endpoint_attach(&ec, nsfd, err);
}

struct plumb {
	char *bridge;
	json_object *ep; /* a copy */
	bool default_route;
	uint32_t mtu;
};

int container_net_attach(struct engine *e, struct container *c, pid_t pid, bool lo_up,
			 struct error **err)
{
	struct plumb todo[16];
	size_t n_todo = 0;
	_cleanup_close_ int nsfd = -EBADF;
	bool first = true;
	int r = 0;

	pthread_mutex_lock(&e->lock);
	json_object *nets = networks_of(c);
	if (nets) {
		json_object_object_foreach(nets, k, ep)
		{
			(void)k;
			struct network *n = network_by_id(e, get_s(ep, "NetworkID"));
			if (!n || !is_bridge(n) || n_todo == ELEMENTSOF(todo))
				continue;
			r = bridge_up(e, n, err);
			if (r < 0)
				break;
			todo[n_todo].bridge = xstrdup(n->bridge);
			todo[n_todo].ep = json_tokener_parse(json_object_to_json_string(ep));
			todo[n_todo].default_route = first && !n->internal;
			todo[n_todo].mtu = network_mtu(e, n);
			first = false;
			n_todo++;
		}
	}
	pthread_mutex_unlock(&e->lock);

	if (r >= 0 && (n_todo > 0 || lo_up) && pid <= 0) {
		/* the init's pid, from the runtime's state */
		_cleanup_json_ json_object *st = NULL;
		json_object *v;
		if (runtime_state(&e->rt, c->id, &st, NULL) >= 0 &&
		    json_object_object_get_ex(st, "pid", &v))
			pid = json_object_get_int(v);
		if (pid <= 0)
			r = error_setx(err, -ESRCH, "the container's process is gone");
	}
	if (r >= 0 && (n_todo > 0 || lo_up)) {
		_cleanup_free_ char *path = xasprintf("/proc/%d/ns/net", (int)pid);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0)
			r = error_set(err, -errno, "open %s", path);
	}
	if (r >= 0 && lo_up && n_todo == 0) {
		/* --network none: lo up, as Docker has it (a bridge endpoint does it itself) */
		_cleanup_(net_nl_freep) struct net_nl *nl = NULL;
		int lo;
		r = net_nl_open(nsfd, &nl);
		if (r >= 0 && (lo = net_nl_link_index(nl, "lo")) >= 0)
			r = net_nl_link_set_up(nl, lo, true);
		if (r < 0)
			r = error_set(err, r, "set lo up in the container's namespace");
	}
	for (size_t i = 0; i < n_todo; i++) {
		if (r >= 0)
			r = endpoint_plumb(e, todo[i].bridge, todo[i].ep, nsfd,
					   todo[i].default_route, todo[i].mtu, err);
		free(todo[i].bridge);
		json_object_put(todo[i].ep);
	}
	pthread_mutex_lock(&e->lock);
	if (r >= 0 && n_todo > 0)
		r = dns_setup(e, c, pid, err);
	if (r >= 0 && n_todo > 0)
		nat_sync(e);
	pthread_mutex_unlock(&e->lock);
	return r;
}

/* Another running container joined c's namespace (--network container:c): it outlives c's
 * process, and with it the interfaces. */
static bool namespace_shared(struct engine *e, struct container *c)
{
	for (struct container *o = e->containers; o; o = o->next) {
		const char *m = o == c ? NULL : get_s(o->host_config, "NetworkMode");
		if (m && startswith(m, "container:") && running(o) &&
		    container_find(e, m + 10) == c)
			return true;
	}
	return false;
}

void container_net_release(struct engine *e, struct container *c)
{
	json_object *nets = networks_of(c);
	bool had_ports = c->n_port_fds > 0;
	/* The veths go with the namespace when its last process has exited: the kernel tears
	 * it down in the background, which is far cheaper than deleting each link here
	 * (every unregistration waits for RCU). Only a namespace still in use needs them
	 * deleted now (a failed start has killed its process; attach cleans up after
	 * itself). */
	bool shared = namespace_shared(e, c);
	if (c->dns_listening && e->dns) {
		net_dns_remove_listener(e->dns, c->id);
		c->dns_listening = false;
	}
	if (nets) {
		json_object_object_foreach(nets, k, ep)
		{
			(void)k;
			struct network *n = network_by_id(e, get_s(ep, "NetworkID"));
			if (!isempty(get_s(ep, "EndpointID")) || get_s(ep, "BerthHostIf"))
				endpoint_free(e, c, n, ep, shared);
		}
	}
	close_ports(c);
	if (c->net) {
		bool published =
		    get(c->net, "PortMap") && json_object_array_length(get(c->net, "PortMap"));
		json_object_object_del(c->net, "PortMap");
		json_object_object_del(c->net, "Ports");
		json_object_object_del(c->net, "SandboxID");
		if (published || had_ports)
			nat_sync(e);
	}
}

/* ---- inspect ---------------------------------------------------------------------------- */

static json_object *endpoint_public(json_object *ep)
{
	json_object *o = json_object_new_object();
	json_object_object_foreach(ep, k, v)
	{
		if (startswith(k, "Berth"))
			continue;
		json_object_object_add(o, k, v ? json_object_get(v) : NULL);
	}
	return o;
}

json_object *container_net_settings(struct engine *e, struct container *c)
{
	json_object *ns = json_object_new_object(), *nets = json_object_new_object();
	json_object *bridge_ep = NULL;
	const char *sb = get_s(c->net, "SandboxID");
	bool up = c->status == C_RUNNING || c->status == C_PAUSED;
	json_object *ports = get(c->net, "Ports");
	json_add_str(ns, "Bridge", "");
	json_add_str(ns, "SandboxID", up && sb ? sb : "");
	json_add_bool(ns, "HairpinMode", false);
	json_add_str(ns, "LinkLocalIPv6Address", "");
	json_add_int(ns, "LinkLocalIPv6PrefixLen", 0);
	json_object_object_add(ns, "Ports",
			       ports && up ? json_object_get(ports) : json_object_new_object());
	{
		_cleanup_free_ char *key =
		    up && c->pid > 0 ? xasprintf("/proc/%d/ns/net", (int)c->pid) : NULL;
		const char *mode = get_s(c->host_config, "NetworkMode");
		json_add_str(ns, "SandboxKey", key && !(mode && streq(mode, "host")) ? key : "");
	}
	json_object_object_add(ns, "SecondaryIPAddresses", NULL);
	json_object_object_add(ns, "SecondaryIPv6Addresses", NULL);
	if (networks_of(c)) {
		json_object_object_foreach(networks_of(c), k, ep)
		{
			struct network *n = network_by_id(e, get_s(ep, "NetworkID"));
			json_object_object_add(nets, k, endpoint_public(ep));
			if (n && n->builtin && streq(n->name, "bridge"))
				bridge_ep = ep;
		}
	}
	/* The top-level fields describe the default bridge's endpoint (deprecated in the API,
	 * still sent by dockerd). */
	json_add_str(ns, "EndpointID", bridge_ep ? get_s(bridge_ep, "EndpointID") : "");
	json_add_str(ns, "Gateway", bridge_ep ? get_s(bridge_ep, "Gateway") : "");
	json_add_str(ns, "GlobalIPv6Address", "");
	json_add_int(ns, "GlobalIPv6PrefixLen", 0);
	json_add_str(ns, "IPAddress", bridge_ep ? get_s(bridge_ep, "IPAddress") : "");
	json_add_int(ns, "IPPrefixLen",
		     bridge_ep ? json_object_get_int(get(bridge_ep, "IPPrefixLen")) : 0);
	json_add_str(ns, "IPv6Gateway", "");
	json_add_str(ns, "MacAddress", bridge_ep ? get_s(bridge_ep, "MacAddress") : "");
	json_object_object_add(ns, "Networks", nets);
	return ns;
}

json_object *container_net_list_ports(struct container *c)
{
	json_object *out = json_object_new_array();
	json_object *pm = get(c->net, "PortMap");
	json_object *exposed = get(c->config, "ExposedPorts");
	bool up = c->status == C_RUNNING || c->status == C_PAUSED;
	_cleanup_json_ json_object *seen = json_object_new_object();
	for (size_t i = 0; up && pm && i < json_object_array_length(pm); i++) {
		json_object *m = json_object_array_get_idx(pm, i), *p = json_object_new_object();
		char key[32];
		json_add_str(p, "IP", get_s(m, "HostIp"));
		json_add_int(p, "PrivatePort", json_object_get_int(get(m, "ContainerPort")));
		json_add_int(p, "PublicPort", json_object_get_int(get(m, "HostPort")));
		json_add_str(p, "Type", get_s(m, "Proto"));
		json_object_array_add(out, p);
		snprintf(key, sizeof(key), "%d/%s", json_object_get_int(get(m, "ContainerPort")),
			 get_s(m, "Proto"));
		json_add_bool(seen, key, true);
	}
	if (exposed) {
		json_object_object_foreach(exposed, k, v)
		{
			(void)v;
			uint16_t port;
			int proto;
			if (get(seen, k) || parse_port_key(k, &port, &proto) < 0)
				continue;
			json_object *p = json_object_new_object();
			json_add_int(p, "PrivatePort", port);
			json_add_str(p, "Type", proto == IPPROTO_UDP ? "udp" : "tcp");
			json_object_array_add(out, p);
		}
	}
	return out;
}

json_object *container_net_list_settings(struct container *c)
{
	json_object *ns = json_object_new_object(), *nets = json_object_new_object();
	if (networks_of(c)) {
		json_object_object_foreach(networks_of(c), k, ep)
		{
			json_object_object_add(nets, k, endpoint_public(ep));
		}
	}
	json_object_object_add(ns, "Networks", nets);
	return ns;
}

bool container_net_on(struct engine *e, struct container *c, const char *ref)
{
	struct network *n = network_find(e, ref);
	json_object *nets = networks_of(c);
	if (!nets)
		return false;
	json_object_object_foreach(nets, k, ep)
	{
		if (streq(k, ref) ||
		    (n && streq(get_s(ep, "NetworkID") ? get_s(ep, "NetworkID") : "", n->id)))
			return true;
	}
	return false;
}

void container_net_renamed(struct engine *e, struct container *c, const char *old_name)
{
	json_object *nets = networks_of(c);
	if (!nets)
		return;
	json_object_object_foreach(nets, k, ep)
	{
		(void)k;
		json_object *names = get(ep, "DNSNames");
		struct network *n = network_by_id(e, get_s(ep, "NetworkID"));
		for (size_t i = 0; names && i < json_object_array_length(names); i++)
			if (streq(json_object_get_string(json_object_array_get_idx(names, i)),
				  old_name))
				json_object_array_put_idx(names, i,
							  json_object_new_string(c->name + 1));
		if (n && e->dns && running(c)) {
			struct in_addr a;
			if (net_addr_parse(get_s(ep, "IPAddress") ? get_s(ep, "IPAddress") : "",
					   &a) >= 0) {
				net_dns_remove_records(e->dns, n->id, a);
				dns_records(e, n, ep);
			}
		}
	}
}

/* ---- restart of berthd -------------------------------------------------------------- */

void network_restore(struct engine *e)
{
	pthread_mutex_lock(&e->lock);
	for (struct network *n = e->networks; n; n = n->next) {
		_cleanup_error_ struct error *err = NULL;
		if (!is_bridge(n))
			continue;
		/* The bridges come up again (they survive a crash; after a reboot they do not). */
		if (bridge_up(e, n, &err) < 0) {
			log_warn("warning: network %s: %s", n->name, err ? err->msg : "bridge");
			continue;
		}
		/* Veths of containers that do not run any more: what a crash left. */
		_cleanup_strv_free_ char **keep = NULL;
		for (struct container *c = e->containers; c; c = c->next) {
			json_object *nets = networks_of(c);
			if (!nets || (c->status != C_RUNNING && c->status != C_PAUSED))
				continue;
			json_object_object_foreach(nets, k, ep)
			{
				(void)k;
				if (streq(get_s(ep, "NetworkID") ? get_s(ep, "NetworkID") : "",
					  n->id) &&
				    get_s(ep, "BerthHostIf"))
					keep = strv_append(keep, get_s(ep, "BerthHostIf"));
			}
		}
		int gone = net_bridge_sweep(n->bridge, keep, &err);
		if (gone > 0)
			log_info("network %s: removed %d stale interfaces", n->name, gone);
	}
	for (struct container *c = e->containers; c; c = c->next) {
		_cleanup_error_ struct error *err = NULL;
		json_object *pm = get(c->net, "PortMap");
		if (c->status != C_RUNNING && c->status != C_PAUSED)
			continue;
		/* the host ports again */
		for (size_t i = 0; pm && i < json_object_array_length(pm); i++) {
			json_object *m = json_object_array_get_idx(pm, i);
			struct in_addr hip = {0};
			uint16_t got;
			const char *proto = get_s(m, "Proto");
			int hp = json_object_get_int(get(m, "HostPort"));
			(void)net_addr_parse(get_s(m, "HostIp") ? get_s(m, "HostIp") : "", &hip);
			if (reserve_port(c,
					 proto && streq(proto, "udp") ? IPPROTO_UDP : IPPROTO_TCP,
					 hip, (uint16_t)hp, (uint16_t)hp, &got, &err) < 0) {
				log_warn("warning: %s: %s", c->name + 1, err ? err->msg : "port");
				error_free(err);
				err = NULL;
			}
		}
		if (c->pid > 0 && dns_setup(e, c, c->pid, &err) < 0)
			log_warn("warning: %s: DNS: %s", c->name + 1, err ? err->msg : "failed");
	}
	nat_sync(e);
	pthread_mutex_unlock(&e->lock);
}

void network_shutdown(struct engine *e)
{
	if (e->dns) {
		net_dns_free(e->dns);
		e->dns = NULL;
	}
	for (struct container *c = e->containers; c; c = c->next)
		close_ports(c);
	while (e->networks) {
		struct network *n = e->networks;
		e->networks = n->next;
		network_free(n);
	}
	free(e->nat_applied);
	e->nat_applied = NULL;
}

/* ---- the /networks API ---------------------------------------------------------------- */

static json_object *network_json(struct engine *e, struct network *n, bool with_containers)
{
	json_object *o = json_object_new_object(), *ipam = json_object_new_object();
	json_object *conf = json_object_new_array(), *cont = json_object_new_object();
	_cleanup_free_ char *created = format_time_ns(n->created_ns);
	char buf[NET_PREFIX_STRLEN];
	json_add_str(o, "Name", n->name);
	json_add_str(o, "Id", n->id);
	json_add_str(o, "Created", created);
	json_add_str(o, "Scope", "local");
	json_add_str(o, "Driver", n->driver);
	json_add_bool(o, "EnableIPv4", true);
	json_add_bool(o, "EnableIPv6", n->ipv6);
	json_add_str(ipam, "Driver", "default");
	json_object_object_add(ipam, "Options",
			       n->ipam_options ? json_object_get(n->ipam_options) : NULL);
	if (n->has_subnet) {
		json_object *c = json_object_new_object();
		json_add_str(c, "Subnet", net_prefix_to_string(&n->subnet, buf));
		if (n->has_range)
			json_add_str(c, "IPRange", net_prefix_to_string(&n->range, buf));
		json_add_str(c, "Gateway", net_addr_to_string(n->gateway, buf));
		if (n->aux)
			json_object_object_add(c, "AuxiliaryAddresses", json_object_get(n->aux));
		json_object_array_add(conf, c);
	}
	json_object_object_add(ipam, "Config", conf);
	json_object_object_add(o, "IPAM", ipam);
	json_add_bool(o, "Internal", n->internal);
	json_add_bool(o, "Attachable", n->attachable);
	json_add_bool(o, "Ingress", false);
	{
		json_object *cf = json_object_new_object();
		json_add_str(cf, "Network", "");
		json_object_object_add(o, "ConfigFrom", cf);
	}
	json_add_bool(o, "ConfigOnly", false);
	for (struct container *c = e->containers; with_containers && c; c = c->next) {
		json_object *nets = networks_of(c);
		if (!nets || (c->status != C_RUNNING && c->status != C_PAUSED))
			continue;
		json_object_object_foreach(nets, k, ep)
		{
			(void)k;
			if (!streq(get_s(ep, "NetworkID") ? get_s(ep, "NetworkID") : "", n->id))
				continue;
			json_object *x = json_object_new_object();
			json_add_str(x, "Name", c->name + 1);
			json_add_str(x, "EndpointID",
				     get_s(ep, "EndpointID") ? get_s(ep, "EndpointID") : "");
			json_add_str(x, "MacAddress",
				     get_s(ep, "MacAddress") ? get_s(ep, "MacAddress") : "");
			if (!isempty(get_s(ep, "IPAddress"))) {
				_cleanup_free_ char *a =
				    xasprintf("%s/%d", get_s(ep, "IPAddress"),
					      json_object_get_int(get(ep, "IPPrefixLen")));
				json_add_str(x, "IPv4Address", a);
			} else
				json_add_str(x, "IPv4Address", "");
			json_add_str(x, "IPv6Address", "");
			json_object_object_add(cont, c->id, x);
		}
	}
	json_object_object_add(o, "Containers", cont);
	json_object_object_add(o, "Options",
			       n->options ? json_object_get(n->options) : json_object_new_object());
	json_object_object_add(o, "Labels",
			       n->labels ? json_object_get(n->labels) : json_object_new_object());
	return o;
}

static void network_event(struct engine *e, struct network *n, const char *action,
			  const char *container)
{
	json_object *a = json_object_new_object();
	json_add_str(a, "name", n->name);
	json_add_str(a, "type", n->driver);
	if (container)
		json_add_str(a, "container", container);
	event_emit_locked(e, "network", action, n->id, a);
}

static bool active(struct engine *e, struct network *n)
{
	for (struct container *c = e->containers; c; c = c->next) {
		json_object *nets = networks_of(c);
		if (!nets || !running(c))
			continue;
		json_object_object_foreach(nets, k, ep)
		{
			(void)k;
			if (streq(get_s(ep, "NetworkID") ? get_s(ep, "NetworkID") : "", n->id))
				return true;
		}
	}
	return false;
}

static bool label_match(json_object *labels, char **want)
{
	for (char **w = want; w && *w; w++) {
		const char *eq = strchr(*w, '=');
		_cleanup_free_ char *key = eq ? xstrndup(*w, (size_t)(eq - *w)) : xstrdup(*w);
		const char *have = get_s(labels, key);
		if (!have || (eq && !streq(have, eq + 1)))
			return false;
	}
	return true;
}

static bool network_matches(struct engine *e, struct network *n, json_object *filters)
{
	_cleanup_strv_free_ char **names = filter_values(filters, "name");
	_cleanup_strv_free_ char **ids = filter_values(filters, "id");
	_cleanup_strv_free_ char **drivers = filter_values(filters, "driver");
	_cleanup_strv_free_ char **labels = filter_values(filters, "label");
	_cleanup_strv_free_ char **types = filter_values(filters, "type");
	_cleanup_strv_free_ char **scopes = filter_values(filters, "scope");
	_cleanup_strv_free_ char **dangling = filter_values(filters, "dangling");
	bool ok;
	if (names) {
		ok = false;
		for (char **x = names; *x; x++)
			ok |= strstr(n->name, *x) != NULL;
		if (!ok)
			return false;
	}
	if (ids) {
		ok = false;
		for (char **x = ids; *x; x++)
			ok |= strstr(n->id, *x) != NULL;
		if (!ok)
			return false;
	}
	if (drivers && !strv_contains(drivers, n->driver))
		return false;
	if (labels && !label_match(n->labels, labels))
		return false;
	if (types) {
		ok = false;
		for (char **x = types; *x; x++)
			ok |= (streq(*x, "builtin") && n->builtin) ||
			      (streq(*x, "custom") && !n->builtin);
		if (!ok)
			return false;
	}
	if (scopes && !strv_contains(scopes, "local"))
		return false;
	if (dangling) {
		bool want = streq(dangling[0], "true") || streq(dangling[0], "1");
		bool used = n->builtin;
		for (struct container *c = e->containers; !used && c; c = c->next)
			used = container_net_on(e, c, n->id);
		if (want == used)
			return false;
	}
	return true;
}

int engine_network_list(struct engine *e, json_object *filters, json_object **ret,
			struct error **err)
{
	static const char *const allowed[] = {"name", "id",    "driver",   "label",
					      "type", "scope", "dangling", NULL};
	int r = json_filters_check(filters, allowed, err);
	json_object *out;
	if (r < 0)
		return r;
	_cleanup_strv_free_ char **dangling = filter_values(filters, "dangling");
	for (char **d = dangling; d && *d; d++)
		if (!streq(*d, "true") && !streq(*d, "false") && !streq(*d, "1") && !streq(*d, "0"))
			return error_setx(err, -EINVAL, "invalid filter 'dangling=%s'", *d);
	out = json_object_new_array();
	pthread_mutex_lock(&e->lock);
	for (struct network *n = e->networks; n; n = n->next)
		if (network_matches(e, n, filters))
			json_object_array_add(out, network_json(e, n, false));
	pthread_mutex_unlock(&e->lock);
	*ret = out;
	return 0;
}

int engine_network_inspect(struct engine *e, const char *ref, json_object **ret, struct error **err)
{
	struct network *n;
	pthread_mutex_lock(&e->lock);
	n = network_find(e, ref);
	if (!n) {
		pthread_mutex_unlock(&e->lock);
		return not_found(err, ref);
	}
	*ret = network_json(e, n, true);
	pthread_mutex_unlock(&e->lock);
	return 0;
}

/* IPAM.Config of a create body (the pure part: no engine). */
static int parse_ipam(json_object *body, struct network *n, struct error **err)
{
	json_object *ipam = get(body, "IPAM"), *conf = get(ipam, "Config");
	const char *drv = get_s(ipam, "Driver");
	if (drv && !isempty(drv) && !streq(drv, "default"))
		return error_setx(err, -ENOENT, "plugin \"%s\" not found", drv);
	if (get(ipam, "Options"))
		n->ipam_options = json_object_get(get(ipam, "Options"));
	if (conf && !json_object_is_type(conf, json_type_array))
		return error_setx(err, -EINVAL, "invalid IPAM config");
	for (size_t i = 0; conf && i < json_object_array_length(conf); i++) {
		json_object *c = json_object_array_get_idx(conf, i);
		const char *sub = get_s(c, "Subnet"), *range = get_s(c, "IPRange");
		const char *gw = get_s(c, "Gateway");
		struct net_prefix p;
		if (isempty(sub)) {
			if (!isempty(range) || !isempty(gw))
				return error_setx(err, -EINVAL,
						  "ip-range and gateway require a subnet");
			continue;
		}
		if (net_prefix_parse(sub, &p) < 0)
			return error_setx(err, -EINVAL,
					  "invalid subnet %s : invalid CIDR address: %s", sub, sub);
		if (strchr(sub, ':'))
			continue; /* IPv6 subnets: not yet */
		if (n->has_subnet)
			return error_setx(err, -EINVAL,
					  "only one IPv4 subnet per network is supported");
		if (p.len > 30)
			return error_setx(err, -EINVAL, "invalid subnet %s: too small", sub);
		n->subnet = net_prefix_canonical(&p);
		n->has_subnet = true;
		n->gateway = net_prefix_nth(&n->subnet, 1);
		if (!isempty(range)) {
			if (net_prefix_parse(range, &p) < 0)
				return error_setx(err, -EINVAL,
						  "invalid ip-range %s : invalid CIDR address: %s",
						  range, range);
			n->range = net_prefix_canonical(&p);
			if (!net_prefix_contains(&n->subnet, n->range.addr) ||
			    n->range.len < n->subnet.len)
				return error_setx(
				    err, -EINVAL,
				    "invalid ip-range %s: it must be within the subnet %s", range,
				    sub);
			n->has_range = true;
		}
		if (!isempty(gw)) {
			struct in_addr a;
			if (net_addr_parse(gw, &a) < 0)
				return error_setx(err, -EINVAL, "invalid gateway address %s", gw);
			if (!net_prefix_contains(&n->subnet, a))
				return error_setx(err, -EINVAL, "no matching subnet for gateway %s",
						  gw);
			n->gateway = a;
		}
		if (get(c, "AuxiliaryAddresses"))
			n->aux = json_object_get(get(c, "AuxiliaryAddresses"));
	}
	return 0;
}

/* A subnet from the pools when none was asked for, else a check that it overlaps no
 * other network's; then its IPAM. */
static int ipam_place(struct engine *e, struct network *n, struct error **err)
{
	if (!n->has_subnet) {
		int r = pick_subnet(e, &n->subnet, err);
		if (r < 0)
			return r;
		n->gateway = net_prefix_nth(&n->subnet, 1);
		n->has_subnet = true;
	} else {
		for (struct network *x = e->networks; x; x = x->next)
			if (x->has_subnet && net_prefix_overlaps(&x->subnet, &n->subnet))
				return error_setx(
				    err, -EPERM,
				    "invalid pool request: Pool overlaps with other one "
				    "on this address space");
	}
	int r = ipam_make(n);
	if (r < 0)
		return error_setx(err, -EINVAL, "invalid address configuration");
	if (n->aux) {
		json_object_object_foreach(n->aux, k, v)
		{
			struct in_addr a;
			(void)k;
			if (net_addr_parse(json_object_get_string(v), &a) >= 0)
				(void)net_ipam_reserve(n->ipam, a);
		}
	}
	return 0;
}

int network_parse_create(json_object *body, struct network **ret, struct error **err)
{
	const char *name = get_s(body, "Name");
	const char *driver = get_s(body, "Driver");
	struct network *n;
	int r;

	if (!body || !json_object_is_type(body, json_type_object))
		return error_setx(err, -EINVAL, "invalid network config");
	if (isempty(name))
		return error_setx(err, -EINVAL, "network name must not be empty");
	if (!valid_name(name))
		return error_setx(err, -EINVAL,
				  "invalid network name \"%s\", only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
				  "allowed",
				  name);
	if (isempty(driver))
		driver = "bridge";
	if (streq(driver, "host") || streq(driver, "null"))
		return error_setx(err, -EPERM, "only one instance of \"%s\" network is allowed",
				  driver);
	if (!streq(driver, "bridge"))
		return error_setx(err, -ENOENT, "plugin \"%s\" not found", driver);
	if (get(body, "Labels") && !json_object_is_type(get(body, "Labels"), json_type_object))
		return error_setx(err, -EINVAL, "invalid Labels");
	if (get(body, "Options") && !json_object_is_type(get(body, "Options"), json_type_object))
		return error_setx(err, -EINVAL, "invalid Options");

	n = xnew0(struct network, 1);
	n->id = random_id();
	n->name = xstrdup(name);
	n->driver = xstrdup(driver);
	n->created_ns = now_ns();
	n->internal = get_b(body, "Internal");
	n->ipv6 = get_b(body, "EnableIPv6");
	n->attachable = get_b(body, "Attachable");
	n->labels =
	    get(body, "Labels") ? json_object_get(get(body, "Labels")) : json_object_new_object();
	n->options =
	    get(body, "Options") ? json_object_get(get(body, "Options")) : json_object_new_object();
	{
		const char *bn = get_s(n->options, "com.docker.network.bridge.name");
		char buf[IFNAMSIZ];
		snprintf(buf, sizeof(buf), "br-%.12s", n->id);
		if (bn && !net_ifname_valid(bn)) {
			r = error_setx(err, -EINVAL, "invalid bridge name '%s'", bn);
			network_free(n);
			return r;
		}
		n->bridge = xstrdup(bn ? bn : buf);
	}
	r = parse_ipam(body, n, err);
	if (r < 0) {
		network_free(n);
		return r;
	}
	*ret = n;
	return 0;
}

bool network_parsed_valid(const struct network *n)
{
	if (!n->name || !valid_name(n->name) || !n->bridge || !net_ifname_valid(n->bridge))
		return false;
	if (n->has_subnet && (n->subnet.len > 30 || !net_prefix_contains(&n->subnet, n->gateway)))
		return false;
	if (n->has_range && (!n->has_subnet || n->range.len < n->subnet.len ||
			     !net_prefix_contains(&n->subnet, n->range.addr)))
		return false;
	return true;
}

void network_parsed_free(struct network *n)
{
	network_free(n);
}

int engine_network_create(struct engine *e, json_object *body, json_object **ret,
			  struct error **err)
{
	struct network *n = NULL;
	_cleanup_error_ struct error *e2 = NULL;
	_cleanup_free_ char *name = NULL;
	int r;

	r = network_parse_create(body, &n, err);
	if (r < 0)
		return r;
	name = xstrdup(n->name);
	pthread_mutex_lock(&e->lock);
	if (network_find(e, name) && streq(network_find(e, name)->name, name)) {
		pthread_mutex_unlock(&e->lock);
		network_free(n);
		return error_setx(err, -EEXIST, "network with name %s already exists", name);
	}
	for (struct network *x = e->networks; x; x = x->next)
		if (x->bridge && streq(x->bridge, n->bridge)) {
			pthread_mutex_unlock(&e->lock);
			r = error_setx(err, -EEXIST, "bridge name %s is already in use", n->bridge);
			network_free(n);
			return r;
		}
	r = ipam_place(e, n, err);
	if (r < 0) {
		pthread_mutex_unlock(&e->lock);
		network_free(n);
		return r;
	}
	/* The record first: a crash after it leaves a network whose bridge comes up at the
	 * next start; the other order could leave a bridge nobody knows. */
	r = network_save(e, n);
	if (r < 0) {
		pthread_mutex_unlock(&e->lock);
		network_free(n);
		return error_setx(err, r, "save network %s", name);
	}
	r = bridge_up(e, n, err);
	if (r < 0) {
		(void)net_bridge_remove(n->bridge, &e2);
		network_unsave(e, n->id);
		pthread_mutex_unlock(&e->lock);
		network_free(n);
		return r;
	}
	network_link(e, n);
	nat_sync(e);
	network_event(e, n, "create", NULL);
	{
		json_object *o = json_object_new_object();
		json_add_str(o, "Id", n->id);
		json_add_str(o, "Warning", "");
		*ret = o;
	}
	pthread_mutex_unlock(&e->lock);
	return 0;
}

static int network_remove_locked(struct engine *e, struct network *n, struct error **err)
{
	_cleanup_error_ struct error *e2 = NULL;
	if (n->builtin)
		return error_setx(err, -EPERM, "%s is a pre-defined network and cannot be removed",
				  n->name);
	if (active(e, n))
		return error_setx(err, -EPERM,
				  "error while removing network: network %s id %s has active "
				  "endpoints",
				  n->name, n->id);
	if (net_bridge_remove(n->bridge, &e2) < 0)
		log_warn("warning: %s", e2 ? e2->msg : "bridge");
	if (network_unsave(e, n->id) < 0)
		return error_setx(err, -EIO, "remove network %s", n->name);
	network_unlink(e, n);
	n->up = false;
	network_event(e, n, "destroy", NULL);
	network_free(n);
	nat_sync(e);
	return 0;
}

int engine_network_remove(struct engine *e, const char *ref, struct error **err)
{
	struct network *n;
	int r;
	pthread_mutex_lock(&e->lock);
	n = network_find(e, ref);
	r = n ? network_remove_locked(e, n, err) : not_found(err, ref);
	pthread_mutex_unlock(&e->lock);
	return r;
}

int engine_network_prune(struct engine *e, json_object *filters, json_object **ret,
			 struct error **err)
{
	static const char *const allowed[] = {"until", "label", "label!", NULL};
	json_object *out = json_object_new_object(), *gone = json_object_new_array();
	_cleanup_strv_free_ char **until = filter_values(filters, "until");
	_cleanup_strv_free_ char **labels = filter_values(filters, "label");
	_cleanup_strv_free_ char **nolabels = filter_values(filters, "label!");
	int64_t until_ns = 0;
	int r = json_filters_check(filters, allowed, err);
	if (r < 0) {
		json_object_put(out);
		json_object_put(gone);
		return r;
	}
	if (until && until[0] && parse_timestamp(until[0], &until_ns) < 0) {
		json_object_put(out);
		json_object_put(gone);
		return error_setx(err, -EINVAL, "failed to parse value as time or duration: \"%s\"",
				  until[0]);
	}
	pthread_mutex_lock(&e->lock);
	for (struct network *n = e->networks, *next; n; n = next) {
		_cleanup_error_ struct error *e2 = NULL;
		bool used = false;
		next = n->next;
		if (n->builtin)
			continue;
		if (until_ns && n->created_ns >= until_ns)
			continue;
		if (labels && !label_match(n->labels, labels))
			continue;
		if (nolabels && label_match(n->labels, nolabels))
			continue;
		for (struct container *c = e->containers; !used && c; c = c->next)
			used = container_net_on(e, c, n->id);
		if (used)
			continue;
		_cleanup_free_ char *name = xstrdup(n->name);
		if (network_remove_locked(e, n, &e2) >= 0)
			json_object_array_add(gone, json_object_new_string(name));
	}
	pthread_mutex_unlock(&e->lock);
	json_object_object_add(out, "NetworksDeleted", gone);
	*ret = out;
	return 0;
}

int engine_network_connect(struct engine *e, const char *ref, json_object *body, struct error **err)
{
	const char *cref = get_s(body, "Container");
	json_object *given = get(body, "EndpointConfig");
	struct network *n;
	struct container *c;
	json_object *ep;
	pid_t pid = 0;
	int r;

	if (isempty(cref))
		return error_setx(err, -EINVAL, "container is required");
	pthread_mutex_lock(&e->lock);
	n = network_find(e, ref);
	c = container_find(e, cref);
	if (!n) {
		pthread_mutex_unlock(&e->lock);
		return not_found(err, ref);
	}
	if (!c) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -ENOENT, "No such container: %s", cref);
	}
	{
		const char *mode = get_s(c->host_config, "NetworkMode");
		if (!is_bridge(n) || (mode && (streq(mode, "host") || streq(mode, "none") ||
					       startswith(mode, "container:")))) {
			pthread_mutex_unlock(&e->lock);
			return error_setx(err, -EPERM,
					  "container cannot be disconnected from host network or "
					  "connected to host network");
		}
	}
	if (!c->net)
		(void)container_net_config(e, c->host_config, NULL, &c->net, NULL);
	if (container_net_on(e, c, n->id)) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -EPERM, "endpoint with name %s already exists in network %s",
				  c->name + 1, n->name);
	}
	r = endpoint_check(n, given, err);
	if (r < 0) {
		pthread_mutex_unlock(&e->lock);
		return r;
	}
	ep = endpoint_new(n, given);
	json_object_object_add(networks_of(c), n->name, ep);
	if (c->status == C_RUNNING || c->status == C_PAUSED) {
		pid = c->pid;
		r = endpoint_alloc(e, c, n, ep, err);
		if (r >= 0)
			r = bridge_up(e, n, err);
		if (r >= 0) {
			_cleanup_json_ json_object *copy =
			    json_tokener_parse(json_object_to_json_string(ep));
			_cleanup_free_ char *bridge = xstrdup(n->bridge);
			_cleanup_free_ char *path = xasprintf("/proc/%d/ns/net", (int)pid);
			uint32_t mtu = network_mtu(e, n);
			pthread_mutex_unlock(&e->lock);
			_cleanup_close_ int nsfd = open(path, O_RDONLY | O_CLOEXEC);
			r = nsfd < 0 ? error_set(err, -errno, "open %s", path)
				     : endpoint_plumb(e, bridge, copy, nsfd, false, mtu, err);
			pthread_mutex_lock(&e->lock);
			c = container_find(e, cref);
			n = network_find(e, ref);
			ep = c ? get(networks_of(c), n ? n->name : "") : NULL;
		}
		if (r >= 0 && c && n && ep && is_user(n)) {
			if (c->dns_listening) {
				_cleanup_strv_free_ char **nets = user_networks(e, c);
				net_dns_set_networks(e->dns, c->id, nets);
				dns_records(e, n, ep);
			} else {
				/* Its first user network: the embedded resolver from now on. */
				_cleanup_free_ char *text = NULL, *dir = container_dir(e, c->id);
				_cleanup_free_ char *path = xasprintf("%s/resolv.conf", dir);
				_cleanup_strv_free_ char **up = NULL;
				if (resolv_for(c, true, &text, &up) >= 0) {
					json_object_object_add(c->net, "DNSUpstreams",
							       json_strv_new(up));
					if (rewrite_in_place(path, text) < 0)
						log_warn("warning: %s: cannot update resolv.conf",
							 c->name + 1);
				}
				r = dns_setup(e, c, pid, err);
			}
		}
		if (r < 0 && c && n && ep) {
			endpoint_free(e, c, n, ep, true);
			json_object_object_del(networks_of(c), n->name);
		}
	}
	if (r >= 0 && c && n) {
		store_save(e, c);
		network_event(e, n, "connect", c->id);
	}
	pthread_mutex_unlock(&e->lock);
	return r;
}

int engine_network_disconnect(struct engine *e, const char *ref, json_object *body,
			      struct error **err)
{
	const char *cref = get_s(body, "Container");
	struct network *n;
	struct container *c;
	json_object *ep = NULL;
	const char *key = NULL;

	if (isempty(cref))
		return error_setx(err, -EINVAL, "container is required");
	pthread_mutex_lock(&e->lock);
	n = network_find(e, ref);
	c = container_find(e, cref);
	if (!n) {
		pthread_mutex_unlock(&e->lock);
		return not_found(err, ref);
	}
	if (!c) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -ENOENT, "No such container: %s", cref);
	}
	if (networks_of(c)) {
		json_object_object_foreach(networks_of(c), k, v)
		{
			if (streq(get_s(v, "NetworkID") ? get_s(v, "NetworkID") : "", n->id) ||
			    streq(k, n->name)) {
				ep = v;
				key = k;
			}
		}
	}
	if (!ep) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -EPERM, "container %s is not connected to network %s", c->id,
				  n->name);
	}
	if (!is_bridge(n)) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -EPERM,
				  "container cannot be disconnected from host network or "
				  "connected to host network");
	}
	_cleanup_free_ char *k2 = xstrdup(key);
	endpoint_free(e, c, n, ep, true);
	if (c->dns_listening && e->dns) {
		_cleanup_strv_free_ char **nets = NULL;
		json_object_object_del(networks_of(c), k2);
		nets = user_networks(e, c);
		if (nets)
			net_dns_set_networks(e->dns, c->id, nets);
		else {
			net_dns_remove_listener(e->dns, c->id);
			c->dns_listening = false;
		}
	} else
		json_object_object_del(networks_of(c), k2);
	store_save(e, c);
	network_event(e, n, "disconnect", c->id);
	pthread_mutex_unlock(&e->lock);
	return 0;
}
