/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small rtnetlink client: one request at a time, each acknowledged, with the kernel's
 * extended-ack message kept for the caller's error. Requests are built in a fixed buffer
 * (the largest, a veth pair, is a few hundred bytes).
 */
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "network.h"

#define NL_BUF 8192

struct net_nl {
	int fd;
	uint32_t seq;
	char *last_error;
};

struct nl_req {
	union {
		struct nlmsghdr nh;
		uint8_t buf[NL_BUF];
	};
};

/* ---- building --------------------------------------------------------- */

static void *req_put(struct nl_req *r, size_t len)
{
	size_t at = NLMSG_ALIGN(r->nh.nlmsg_len);
	if (at + NLMSG_ALIGN(len) > sizeof(r->buf))
		abort(); /* fixed-size requests: a bug, not an input */
	void *p = r->buf + at;
	memset(p, 0, NLMSG_ALIGN(len));
	r->nh.nlmsg_len = at + len;
	return p;
}

static void req_init(struct nl_req *r, uint16_t type, uint16_t flags, const void *hdr, size_t len)
{
	memset(&r->nh, 0, sizeof(r->nh));
	r->nh.nlmsg_len = NLMSG_HDRLEN;
	r->nh.nlmsg_type = type;
	r->nh.nlmsg_flags = NLM_F_REQUEST | flags;
	memcpy(req_put(r, len), hdr, len);
}

static struct rtattr *attr_put(struct nl_req *r, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = req_put(r, RTA_LENGTH(len));
	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	return a;
}

static void attr_put_u32(struct nl_req *r, uint16_t type, uint32_t v)
{
	attr_put(r, type, &v, sizeof(v));
}

static void attr_put_str(struct nl_req *r, uint16_t type, const char *s)
{
	attr_put(r, type, s, strlen(s) + 1);
}

static struct rtattr *nest_start(struct nl_req *r, uint16_t type)
{
	return attr_put(r, type | NLA_F_NESTED, NULL, 0);
}

static void nest_end(struct nl_req *r, struct rtattr *a)
{
	a->rta_len = (uint8_t *)r->buf + r->nh.nlmsg_len - (uint8_t *)a;
}

/* ---- talking ---------------------------------------------------------- */

static int nl_socket(void)
{
	int one = 1;
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	/* Best effort: older kernels lack these. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	/* the kernel always answers; a bound on the wait keeps a bug from hanging berthd */
	struct timeval tv = {.tv_sec = 10};
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return TAKE_FD(fd);
}

struct ns_socket_args {
	int netns_fd, domain, type, protocol;
	bool netlink;
	int result;
};

static void *ns_socket_thread(void *p)
{
	struct ns_socket_args *a = p;

	/* Only this thread changes namespace, and it ends right after. */
	if (setns(a->netns_fd, CLONE_NEWNET) < 0) {
		a->result = -errno;
		return NULL;
	}
	if (a->netlink)
		a->result = nl_socket();
	else {
		a->result = socket(a->domain, a->type | SOCK_CLOEXEC, a->protocol);
		if (a->result < 0)
			a->result = -errno;
	}
	return NULL;
}

static int socket_in_netns(struct ns_socket_args *a)
{
	pthread_t t;
	int r;

	r = pthread_create(&t, NULL, ns_socket_thread, a);
	if (r != 0)
		return -r;
	pthread_join(t, NULL);
	return a->result;
}

int net_netns_socket(int netns_fd, int domain, int type, int protocol)
{
	struct ns_socket_args a = {netns_fd, domain, type, protocol, false, -EIO};
	int fd;

	if (netns_fd < 0) {
		fd = socket(domain, type | SOCK_CLOEXEC, protocol);
		return fd < 0 ? -errno : fd;
	}
	return socket_in_netns(&a);
}

int net_nl_open(int netns_fd, struct net_nl **ret)
{
	struct ns_socket_args a = {netns_fd, 0, 0, 0, true, -EIO};
	int fd = netns_fd < 0 ? nl_socket() : socket_in_netns(&a);
	if (fd < 0)
		return fd;
	struct net_nl *nl = xnew0(struct net_nl, 1);
	nl->fd = fd;
	nl->seq = (uint32_t)now_usec(CLOCK_MONOTONIC);
	*ret = nl;
	return 0;
}

struct net_nl *net_nl_free(struct net_nl *nl)
{
	if (nl) {
		closep(&nl->fd);
		free(nl->last_error);
		free(nl);
	}
	return NULL;
}

const char *net_nl_last_error(const struct net_nl *nl)
{
	return nl ? nl->last_error : NULL;
}

static void nl_keep_ext_ack(struct net_nl *nl, const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	size_t off = sizeof(*e);

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
	if (NLMSG_HDRLEN + off > h->nlmsg_len)
		return;
	const uint8_t *p = (const uint8_t *)NLMSG_DATA(h) + off;
	size_t left = h->nlmsg_len - NLMSG_HDRLEN - off;
	while (left >= sizeof(struct nlattr)) {
		const struct nlattr *a = (const struct nlattr *)p;
		if (a->nla_len < sizeof(*a) || a->nla_len > left)
			return;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG && a->nla_len > sizeof(*a)) {
			free(nl->last_error);
			nl->last_error = xstrndup((const char *)(a + 1), a->nla_len - sizeof(*a));
			return;
		}
		size_t step = NLA_ALIGN(a->nla_len);
		if (step >= left)
			return;
		p += step;
		left -= step;
	}
}

/*
 * Send r and read until its ack (or, for a dump, NLMSG_DONE), handing every other
 * message of ours to cb. Returns the kernel's -errno, or cb's first negative return.
 */
static int nl_call(struct net_nl *nl, struct nl_req *r, int (*cb)(const struct nlmsghdr *, void *),
		   void *userdata)
{
	static const size_t bufsize = 32768;
	_cleanup_free_ uint8_t *buf = xmalloc(bufsize);
	/* NLM_F_DUMP's bits mean NLM_F_EXCL and NLM_F_CREATE on a NEW request */
	bool dump = (r->nh.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP && r->nh.nlmsg_type % 4 == 2;
	int cb_r = 0;

	r->nh.nlmsg_seq = ++nl->seq;
	r->nh.nlmsg_flags |= NLM_F_ACK;
	free(nl->last_error);
	nl->last_error = NULL;

	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	if (sendto(nl->fd, r->buf, r->nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;

	for (;;) {
		ssize_t n = recv(nl->fd, buf, bufsize, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		if (n == 0)
			return -EIO;
		size_t left = (size_t)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != nl->seq)
				continue; /* a late answer to an earlier, failed call */
			if (h->nlmsg_type == NLMSG_DONE)
				return cb_r;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EBADMSG;
				if (e->error == 0 && dump)
					continue;
				nl_keep_ext_ack(nl, h);
				return e->error < 0 ? e->error : cb_r;
			}
			if (cb && cb_r >= 0) {
				int k = cb(h, userdata);
				if (k < 0)
					cb_r = k;
			}
		}
	}
}

static void parse_attrs(struct rtattr **tb, int max, struct rtattr *a, size_t len)
{
	memset(tb, 0, sizeof(*tb) * (max + 1));
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		int t = a->rta_type & NLA_TYPE_MASK;
		if (t <= max && !tb[t])
			tb[t] = a;
	}
}

/* ---- links ------------------------------------------------------------ */

static int link_index_cb(const struct nlmsghdr *h, void *userdata)
{
	if (h->nlmsg_type == RTM_NEWLINK && h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		*(int *)userdata = ((const struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
	return 0;
}

int net_nl_link_index(struct net_nl *nl, const char *name)
{
	struct nl_req r;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	int idx = 0, k;

	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	req_init(&r, RTM_GETLINK, 0, &ifi, sizeof(ifi));
	attr_put_u32(&r, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	attr_put_str(&r, IFLA_IFNAME, name);
	k = nl_call(nl, &r, link_index_cb, &idx);
	if (k < 0)
		return k;
	return idx > 0 ? idx : -ENODEV;
}

int net_nl_bridge_add(struct net_nl *nl, const char *name, uint32_t mtu)
{
	struct nl_req r;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};

	if (!net_ifname_valid(name))
		return -EINVAL;
	req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	attr_put_str(&r, IFLA_IFNAME, name);
	if (mtu)
		attr_put_u32(&r, IFLA_MTU, mtu);
	struct rtattr *li = nest_start(&r, IFLA_LINKINFO);
	attr_put_str(&r, IFLA_INFO_KIND, "bridge");
	nest_end(&r, li);
	return nl_call(nl, &r, NULL, NULL);
}

int net_nl_veth_add(struct net_nl *nl, const char *name, int master_ifindex, const char *peer_name,
		    int peer_netns_fd, uint32_t mtu, const uint8_t *mac)
{
	struct nl_req r;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	struct ifinfomsg peer = {.ifi_family = AF_UNSPEC};

	if (!net_ifname_valid(name) || !net_ifname_valid(peer_name))
		return -EINVAL;
	req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	attr_put_str(&r, IFLA_IFNAME, name);
	if (mtu)
		attr_put_u32(&r, IFLA_MTU, mtu);
	if (master_ifindex > 0)
		attr_put_u32(&r, IFLA_MASTER, (uint32_t)master_ifindex);
	struct rtattr *li = nest_start(&r, IFLA_LINKINFO);
	attr_put_str(&r, IFLA_INFO_KIND, "veth");
	struct rtattr *data = nest_start(&r, IFLA_INFO_DATA);
	struct rtattr *p = nest_start(&r, VETH_INFO_PEER);
	memcpy(req_put(&r, sizeof(peer)), &peer, sizeof(peer));
	attr_put_str(&r, IFLA_IFNAME, peer_name);
	if (mtu)
		attr_put_u32(&r, IFLA_MTU, mtu);
	if (mac)
		attr_put(&r, IFLA_ADDRESS, mac, 6);
	if (peer_netns_fd >= 0)
		attr_put_u32(&r, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	nest_end(&r, p);
	nest_end(&r, data);
	nest_end(&r, li);
	return nl_call(nl, &r, NULL, NULL);
}

int net_nl_link_del(struct net_nl *nl, const char *name)
{
	struct nl_req r;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};

	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	req_init(&r, RTM_DELLINK, 0, &ifi, sizeof(ifi));
	attr_put_str(&r, IFLA_IFNAME, name);
	return nl_call(nl, &r, NULL, NULL);
}

static void link_set_init(struct nl_req *r, int ifindex, unsigned flags, unsigned change)
{
	struct ifinfomsg ifi = {
	    .ifi_family = AF_UNSPEC,
	    .ifi_index = ifindex,
	    .ifi_flags = flags,
	    .ifi_change = change,
	};
	req_init(r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
}

int net_nl_link_set_up(struct net_nl *nl, int ifindex, bool up)
{
	struct nl_req r;
	link_set_init(&r, ifindex, up ? IFF_UP : 0, IFF_UP);
	return nl_call(nl, &r, NULL, NULL);
}

int net_nl_link_set_mtu(struct net_nl *nl, int ifindex, uint32_t mtu)
{
	struct nl_req r;
	link_set_init(&r, ifindex, 0, 0);
	attr_put_u32(&r, IFLA_MTU, mtu);
	return nl_call(nl, &r, NULL, NULL);
}

int net_nl_link_set_master(struct net_nl *nl, int ifindex, int master_ifindex)
{
	struct nl_req r;
	link_set_init(&r, ifindex, 0, 0);
	attr_put_u32(&r, IFLA_MASTER, (uint32_t)master_ifindex);
	return nl_call(nl, &r, NULL, NULL);
}

int net_nl_link_set_netns(struct net_nl *nl, int ifindex, int netns_fd)
{
	struct nl_req r;
	link_set_init(&r, ifindex, 0, 0);
	attr_put_u32(&r, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	return nl_call(nl, &r, NULL, NULL);
}

int net_nl_link_set_name(struct net_nl *nl, int ifindex, const char *name)
{
	struct nl_req r;
	if (!net_ifname_valid(name))
		return -EINVAL;
	link_set_init(&r, ifindex, 0, 0);
	attr_put_str(&r, IFLA_IFNAME, name);
	return nl_call(nl, &r, NULL, NULL);
}

int net_nl_bridge_port_hairpin(struct net_nl *nl, int ifindex, bool on)
{
	struct nl_req r;
	struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE, .ifi_index = ifindex};
	uint8_t v = on;

	req_init(&r, RTM_SETLINK, 0, &ifi, sizeof(ifi));
	struct rtattr *pi = nest_start(&r, IFLA_PROTINFO);
	attr_put(&r, IFLA_BRPORT_MODE, &v, sizeof(v));
	nest_end(&r, pi);
	return nl_call(nl, &r, NULL, NULL);
}

/* ---- addresses and routes --------------------------------------------- */

int net_nl_addr_add(struct net_nl *nl, int ifindex, const struct net_prefix *addr)
{
	struct nl_req r;
	struct ifaddrmsg ifa = {
	    .ifa_family = AF_INET,
	    .ifa_prefixlen = addr->len,
	    .ifa_index = (uint32_t)ifindex,
	};

	if (addr->len > 32)
		return -EINVAL;
	req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
	attr_put(&r, IFA_LOCAL, &addr->addr, 4);
	attr_put(&r, IFA_ADDRESS, &addr->addr, 4);
	if (addr->len < 31) {
		uint32_t host = addr->len ? 0xffffffffu >> addr->len : 0xffffffffu;
		struct in_addr b = {addr->addr.s_addr | htonl(host)};
		attr_put(&r, IFA_BROADCAST, &b, 4);
	}
	return nl_call(nl, &r, NULL, NULL);
}

int net_nl_route_add(struct net_nl *nl, const struct net_prefix *dst, struct in_addr gw,
		     int ifindex)
{
	struct nl_req r;
	struct rtmsg rt = {
	    .rtm_family = AF_INET,
	    .rtm_dst_len = dst->len,
	    .rtm_table = RT_TABLE_MAIN,
	    .rtm_protocol = RTPROT_BOOT,
	    .rtm_scope = gw.s_addr ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
	    .rtm_type = RTN_UNICAST,
	};

	if (dst->len > 32)
		return -EINVAL;
	req_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof(rt));
	if (dst->len) {
		struct net_prefix c = net_prefix_canonical(dst);
		attr_put(&r, RTA_DST, &c.addr, 4);
	}
	if (gw.s_addr)
		attr_put(&r, RTA_GATEWAY, &gw, 4);
	if (ifindex > 0)
		attr_put_u32(&r, RTA_OIF, (uint32_t)ifindex);
	return nl_call(nl, &r, NULL, NULL);
}

/* ---- dumps ------------------------------------------------------------ */

struct links_acc {
	struct net_link *v;
	size_t n;
};

static int links_cb(const struct nlmsghdr *h, void *userdata)
{
	struct links_acc *acc = userdata;
	struct rtattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1];

	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return 0;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	parse_attrs(tb, IFLA_MAX, IFLA_RTA(ifi), h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
	if (!tb[IFLA_IFNAME])
		return 0;
	acc->v = xrealloc(acc->v, (acc->n + 1) * sizeof(*acc->v));
	struct net_link *l = &acc->v[acc->n++];
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%.*s", (int)RTA_PAYLOAD(tb[IFLA_IFNAME]),
		 (const char *)RTA_DATA(tb[IFLA_IFNAME]));
	l->ifindex = ifi->ifi_index;
	l->up = ifi->ifi_flags & IFF_UP;
	if (tb[IFLA_MASTER] && RTA_PAYLOAD(tb[IFLA_MASTER]) >= 4)
		l->master = (int)*(const uint32_t *)RTA_DATA(tb[IFLA_MASTER]);
	if (tb[IFLA_LINKINFO]) {
		parse_attrs(li, IFLA_INFO_MAX, RTA_DATA(tb[IFLA_LINKINFO]),
			    RTA_PAYLOAD(tb[IFLA_LINKINFO]));
		if (li[IFLA_INFO_KIND])
			snprintf(l->kind, sizeof(l->kind), "%.*s",
				 (int)RTA_PAYLOAD(li[IFLA_INFO_KIND]),
				 (const char *)RTA_DATA(li[IFLA_INFO_KIND]));
	}
	return 0;
}

int net_nl_links(struct net_nl *nl, struct net_link **ret, size_t *ret_n)
{
	struct nl_req r;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct links_acc acc = {NULL, 0};

	req_init(&r, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi));
	attr_put_u32(&r, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	int k = nl_call(nl, &r, links_cb, &acc);
	if (k < 0) {
		free(acc.v);
		return k;
	}
	*ret = acc.v;
	*ret_n = acc.n;
	return 0;
}

struct routes_acc {
	struct net_prefix *v;
	size_t n;
};

static int routes_cb(const struct nlmsghdr *h, void *userdata)
{
	struct routes_acc *acc = userdata;
	struct rtattr *tb[RTA_MAX + 1];

	if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
		return 0;
	const struct rtmsg *rt = NLMSG_DATA(h);
	parse_attrs(tb, RTA_MAX, RTM_RTA(rt), h->nlmsg_len - NLMSG_LENGTH(sizeof(*rt)));
	uint32_t table = rt->rtm_table;
	if (tb[RTA_TABLE] && RTA_PAYLOAD(tb[RTA_TABLE]) >= 4)
		table = *(const uint32_t *)RTA_DATA(tb[RTA_TABLE]);
	if (rt->rtm_family != AF_INET || table != RT_TABLE_MAIN || rt->rtm_type != RTN_UNICAST ||
	    rt->rtm_dst_len == 0 || rt->rtm_dst_len > 32 || !tb[RTA_DST] ||
	    RTA_PAYLOAD(tb[RTA_DST]) < 4)
		return 0;
	acc->v = xrealloc(acc->v, (acc->n + 1) * sizeof(*acc->v));
	memcpy(&acc->v[acc->n].addr, RTA_DATA(tb[RTA_DST]), 4);
	acc->v[acc->n].len = rt->rtm_dst_len;
	acc->n++;
	return 0;
}

int net_nl_routes(struct net_nl *nl, struct net_prefix **ret, size_t *ret_n)
{
	struct nl_req r;
	struct rtmsg rt = {.rtm_family = AF_INET};
	struct routes_acc acc = {NULL, 0};

	req_init(&r, RTM_GETROUTE, NLM_F_DUMP, &rt, sizeof(rt));
	int k = nl_call(nl, &r, routes_cb, &acc);
	if (k < 0) {
		free(acc.v);
		return k;
	}
	*ret = acc.v;
	*ret_n = acc.n;
	return 0;
}
