/* SPDX-License-Identifier: Apache-2.0 */
/* Bridges and the veth endpoints of containers on them. */
#include "network.h"

_printf_(4, 5) static int nl_fail(struct net_nl *nl, struct error **err, int r, const char *fmt,
				  ...)
{
	_cleanup_free_ char *what = NULL;
	const char *m = net_nl_last_error(nl);
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	if (m)
		return error_set(err, r, "%s (%s)", what ? what : "netlink", m);
	return error_set(err, r, "%s", what ? what : "netlink");
}

int net_bridge_setup(const struct net_bridge_config *c, struct error **err)
{
	_cleanup_(net_nl_freep) struct net_nl *nl = NULL;
	char buf[NET_PREFIX_STRLEN];
	int r, idx;

	if (!net_ifname_valid(c->name))
		return error_setx(err, -EINVAL, "invalid bridge name '%s'", c->name);
	r = net_nl_open(-1, &nl);
	if (r < 0)
		return error_set(err, r, "failed to open netlink socket");
	r = net_nl_bridge_add(nl, c->name, c->mtu);
	if (r < 0 && r != -EEXIST)
		return nl_fail(nl, err, r, "failed to create bridge '%s'", c->name);
	idx = net_nl_link_index(nl, c->name);
	if (idx < 0)
		return nl_fail(nl, err, idx, "failed to find bridge '%s'", c->name);
	r = net_nl_addr_add(nl, idx, &c->gateway);
	if (r < 0 && r != -EEXIST)
		return nl_fail(nl, err, r, "failed to add address %s to bridge '%s'",
			       net_prefix_to_string(&c->gateway, buf), c->name);
	r = net_nl_link_set_up(nl, idx, true);
	if (r < 0)
		return nl_fail(nl, err, r, "failed to set bridge '%s' up", c->name);
	if (c->route_localnet) {
		_cleanup_free_ char *key = xasprintf("ipv4/conf/%s/route_localnet", c->name);
		r = net_sysctl_set(key, "1");
		if (r < 0)
			return error_set(err, r, "failed to set %s", key);
	}
	return 0;
}

int net_bridge_remove(const char *name, struct error **err)
{
	_cleanup_(net_nl_freep) struct net_nl *nl = NULL;
	int r;

	r = net_nl_open(-1, &nl);
	if (r < 0)
		return error_set(err, r, "failed to open netlink socket");
	r = net_nl_link_del(nl, name);
	if (r < 0 && r != -ENODEV)
		return nl_fail(nl, err, r, "failed to delete bridge '%s'", name);
	return 0;
}

int net_bridge_sweep(const char *bridge, char *const *keep, struct error **err)
{
	_cleanup_(net_nl_freep) struct net_nl *nl = NULL;
	_cleanup_free_ struct net_link *links = NULL;
	size_t n = 0;
	int r, idx, gone = 0;

	r = net_nl_open(-1, &nl);
	if (r < 0)
		return error_set(err, r, "failed to open netlink socket");
	idx = net_nl_link_index(nl, bridge);
	if (idx == -ENODEV)
		return 0;
	if (idx < 0)
		return nl_fail(nl, err, idx, "failed to find bridge '%s'", bridge);
	r = net_nl_links(nl, &links, &n);
	if (r < 0)
		return nl_fail(nl, err, r, "failed to list links");
	for (size_t i = 0; i < n; i++) {
		if (links[i].master != idx || !streq(links[i].kind, "veth") ||
		    strv_contains(keep, links[i].name))
			continue;
		r = net_nl_link_del(nl, links[i].name);
		if (r < 0 && r != -ENODEV)
			return nl_fail(nl, err, r, "failed to delete '%s'", links[i].name);
		gone++;
	}
	return gone;
}

static int endpoint_inside(const struct net_endpoint_config *c, int netns_fd, struct error **err)
{
	_cleanup_(net_nl_freep) struct net_nl *nl = NULL;
	char buf[NET_PREFIX_STRLEN];
	int r, lo, idx;

	r = net_nl_open(netns_fd, &nl);
	if (r < 0)
		return error_set(err, r,
				 "failed to open netlink socket in the container's namespace");
	lo = net_nl_link_index(nl, "lo");
	if (lo < 0)
		return nl_fail(nl, err, lo, "failed to find 'lo'");
	r = net_nl_link_set_up(nl, lo, true);
	if (r < 0)
		return nl_fail(nl, err, r, "failed to set 'lo' up");
	idx = net_nl_link_index(nl, c->ifname);
	if (idx < 0)
		return nl_fail(nl, err, idx, "failed to find '%s'", c->ifname);
	r = net_nl_addr_add(nl, idx, &c->addr);
	if (r < 0)
		return nl_fail(nl, err, r, "failed to add address %s to '%s'",
			       net_prefix_to_string(&c->addr, buf), c->ifname);
	r = net_nl_link_set_up(nl, idx, true);
	if (r < 0)
		return nl_fail(nl, err, r, "failed to set '%s' up", c->ifname);
	if (c->default_route && c->gateway.s_addr) {
		struct net_prefix any = {{0}, 0};
		r = net_nl_route_add(nl, &any, c->gateway, idx);
		if (r < 0)
			return nl_fail(nl, err, r, "failed to add the default route");
	}
	return 0;
}

static int endpoint_finish(struct net_nl *nl, const struct net_endpoint_config *c, int netns_fd,
			   struct error **err)
{
	if (c->hairpin) {
		int idx = net_nl_link_index(nl, c->host_ifname);
		int r = idx < 0 ? idx : net_nl_bridge_port_hairpin(nl, idx, true);
		if (r < 0)
			return nl_fail(nl, err, r, "failed to set hairpin mode on '%s'",
				       c->host_ifname);
	}
	return endpoint_inside(c, netns_fd, err);
}

int net_endpoint_attach(const struct net_endpoint_config *c, int netns_fd, struct error **err)
{
	_cleanup_(net_nl_freep) struct net_nl *nl = NULL;
	uint8_t mac[6];
	int r, master;

	if (!net_ifname_valid(c->host_ifname) || !net_ifname_valid(c->ifname))
		return error_setx(err, -EINVAL, "invalid interface name '%s' or '%s'",
				  c->host_ifname, c->ifname);
	r = net_nl_open(-1, &nl);
	if (r < 0)
		return error_set(err, r, "failed to open netlink socket");
	master = net_nl_link_index(nl, c->bridge);
	if (master < 0)
		return nl_fail(nl, err, master, "failed to find bridge '%s'", c->bridge);
	if (c->mac)
		memcpy(mac, c->mac, 6);
	else
		net_mac_from_addr(c->addr.addr, mac);
	r = net_nl_veth_add(nl, c->host_ifname, master, c->ifname, netns_fd, c->mtu, mac);
	if (r == -EEXIST) {
		/* The pair of an earlier run whose namespace the kernel has not torn down yet
		 * (that happens asynchronously after the last process left it): replace it. */
		(void)net_nl_link_del(nl, c->host_ifname);
		r = net_nl_veth_add(nl, c->host_ifname, master, c->ifname, netns_fd, c->mtu, mac);
	}
	if (r < 0)
		return nl_fail(nl, err, r, "failed to create veth pair '%s'", c->host_ifname);
	r = endpoint_finish(nl, c, netns_fd, err);
	if (r < 0)
		(void)net_nl_link_del(nl, c->host_ifname);
	return r;
}

int net_endpoint_detach(const char *host_ifname, struct error **err)
{
	_cleanup_(net_nl_freep) struct net_nl *nl = NULL;
	int r;

	r = net_nl_open(-1, &nl);
	if (r < 0)
		return error_set(err, r, "failed to open netlink socket");
	r = net_nl_link_del(nl, host_ifname);
	if (r < 0 && r != -ENODEV)
		return nl_fail(nl, err, r, "failed to delete '%s'", host_ifname);
	return 0;
}
