/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Address management: subnets from pools, addresses within a subnet. A network's taken
 * addresses are a sorted array (as many as its containers), not a bitmap of the subnet,
 * so a /8 costs no more than a /24.
 */
#include <arpa/inet.h>
#include <fcntl.h>

#include "json/json.h"
#include "network.h"

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BE32(x) __builtin_bswap32(x)
#else
#define BE32(x) (x)
#endif
#define P(a, b, c, d, l)                                                                           \
	{                                                                                          \
		{BE32(((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))}, l                  \
	}
const struct net_pool net_default_pools[] = {
    {P(172, 17, 0, 0, 16), 16},	 {P(172, 18, 0, 0, 16), 16}, {P(172, 19, 0, 0, 16), 16},
    {P(172, 20, 0, 0, 14), 16},	 {P(172, 24, 0, 0, 14), 16}, {P(172, 28, 0, 0, 14), 16},
    {P(192, 168, 0, 0, 16), 20},
};
#undef P
#undef BE32
const size_t net_default_pools_n = ELEMENTSOF(net_default_pools);

int net_pools_pick(const struct net_pool *pools, size_t n_pools, const struct net_prefix *used,
		   size_t n_used, struct net_prefix *ret)
{
	for (size_t i = 0; i < n_pools; i++) {
		const struct net_pool *p = &pools[i];
		if (p->size < p->base.len || p->size > 30)
			continue;
		struct net_prefix base = net_prefix_canonical(&p->base);
		uint64_t count = 1ull << (p->size - p->base.len);
		uint32_t step = p->size ? 1u << (32 - p->size) : 0;
		for (uint64_t k = 0; k < count; k++) {
			struct net_prefix c = {
			    {htonl(ntohl(base.addr.s_addr) + (uint32_t)k * step)}, p->size};
			bool clash = false;
			for (size_t j = 0; j < n_used && !clash; j++)
				clash = net_prefix_overlaps(&c, &used[j]);
			if (!clash) {
				*ret = c;
				return 0;
			}
		}
	}
	return -ENOSPC;
}

struct net_ipam {
	struct net_prefix subnet, range;
	uint32_t gateway; /* host order, like everything below */
	uint32_t last;	  /* the last address handed out; 0: none yet */
	uint32_t *used;	  /* sorted */
	size_t n, cap;
};

static uint32_t mask_of(uint8_t len)
{
	return len ? 0xffffffffu << (32 - len) : 0;
}

static uint32_t first_of(const struct net_prefix *p)
{
	return ntohl(p->addr.s_addr) & mask_of(p->len);
}

static uint32_t last_of(const struct net_prefix *p)
{
	return first_of(p) | ~mask_of(p->len);
}

int net_ipam_new(const struct net_prefix *subnet, const struct net_prefix *range,
		 struct in_addr gateway, struct net_ipam **ret)
{
	struct net_prefix s = net_prefix_canonical(subnet);
	struct net_prefix r = range ? net_prefix_canonical(range) : s;

	if (s.len < 8 || s.len > 30)
		return -EINVAL;
	if (r.len < s.len || !net_prefix_contains(&s, r.addr) || r.len > 31)
		return -EINVAL;
	if (gateway.s_addr && !net_prefix_contains(&s, gateway))
		return -EINVAL;
	struct net_ipam *m = xnew0(struct net_ipam, 1);
	m->subnet = s;
	m->range = r;
	m->gateway = gateway.s_addr ? ntohl(gateway.s_addr) : first_of(&s) + 1;
	if (m->gateway == first_of(&s) || m->gateway == last_of(&s)) {
		free(m);
		return -EINVAL;
	}
	*ret = m;
	return 0;
}

struct net_ipam *net_ipam_free(struct net_ipam *ipam)
{
	if (ipam) {
		free(ipam->used);
		free(ipam);
	}
	return NULL;
}

struct net_prefix net_ipam_subnet(const struct net_ipam *ipam)
{
	return ipam->subnet;
}

struct in_addr net_ipam_gateway(const struct net_ipam *ipam)
{
	struct in_addr a = {htonl(ipam->gateway)};
	return a;
}

size_t net_ipam_count(const struct net_ipam *ipam)
{
	return ipam->n;
}

/* Index of the first element >= v. */
static size_t lower_bound(const struct net_ipam *m, uint32_t v)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->used[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool taken(const struct net_ipam *m, uint32_t v)
{
	size_t i = lower_bound(m, v);
	return i < m->n && m->used[i] == v;
}

static bool reserved(const struct net_ipam *m, uint32_t v)
{
	return v == m->gateway || v == first_of(&m->subnet) || v == last_of(&m->subnet);
}

static void insert(struct net_ipam *m, uint32_t v)
{
	size_t i = lower_bound(m, v);
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->used = xrealloc(m->used, m->cap * sizeof(*m->used));
	}
	memmove(m->used + i + 1, m->used + i, (m->n - i) * sizeof(*m->used));
	m->used[i] = v;
	m->n++;
}

bool net_ipam_in_use(const struct net_ipam *ipam, struct in_addr a)
{
	return taken(ipam, ntohl(a.s_addr));
}

int net_ipam_reserve(struct net_ipam *ipam, struct in_addr a)
{
	uint32_t v = ntohl(a.s_addr);

	if (!net_prefix_contains(&ipam->subnet, a) || reserved(ipam, v))
		return -EINVAL;
	if (taken(ipam, v))
		return -EEXIST;
	insert(ipam, v);
	return 0;
}

int net_ipam_alloc(struct net_ipam *ipam, struct in_addr *ret)
{
	uint32_t lo = first_of(&ipam->range), hi = last_of(&ipam->range);
	uint64_t size = (uint64_t)hi - lo + 1;
	uint32_t v = ipam->last >= lo && ipam->last < hi ? ipam->last + 1 : lo;

	/* At most n + 3 candidates are taken or reserved, so this ends quickly. */
	for (uint64_t k = 0; k < size && k <= ipam->n + 3; k++) {
		if (!reserved(ipam, v) && !taken(ipam, v)) {
			insert(ipam, v);
			ipam->last = v;
			ret->s_addr = htonl(v);
			return 0;
		}
		v = v == hi ? lo : v + 1;
	}
	return -ENOSPC;
}

int net_ipam_release(struct net_ipam *ipam, struct in_addr a)
{
	uint32_t v = ntohl(a.s_addr);
	size_t i = lower_bound(ipam, v);

	if (i >= ipam->n || ipam->used[i] != v)
		return -ENOENT;
	memmove(ipam->used + i, ipam->used + i + 1, (ipam->n - i - 1) * sizeof(*ipam->used));
	ipam->n--;
	return 0;
}

/* ---- state ------------------------------------------------------------ */

static void add_addr(json_object *o, const char *k, uint32_t v)
{
	char buf[INET_ADDRSTRLEN];
	struct in_addr a = {htonl(v)};
	json_add_str(o, k, net_addr_to_string(a, buf));
}

char *net_ipam_to_json(const struct net_ipam *ipam)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	char buf[NET_PREFIX_STRLEN];

	json_add_str(o, "Subnet", net_prefix_to_string(&ipam->subnet, buf));
	json_add_str(o, "IPRange", net_prefix_to_string(&ipam->range, buf));
	add_addr(o, "Gateway", ipam->gateway);
	if (ipam->last)
		add_addr(o, "Last", ipam->last);
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < ipam->n; i++) {
		struct in_addr a = {htonl(ipam->used[i])};
		json_object_array_add(arr, json_object_new_string(net_addr_to_string(a, buf)));
	}
	json_object_object_add(o, "Allocated", arr);
	return xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

struct ipam_json {
	char *subnet, *range, *gateway, *last;
	char **allocated;
};

static const struct json_field ipam_fields[] = {
    {"Subnet", JF_STRING, offsetof(struct ipam_json, subnet), true},
    {"IPRange", JF_STRING, offsetof(struct ipam_json, range), false},
    {"Gateway", JF_STRING, offsetof(struct ipam_json, gateway), true},
    {"Last", JF_STRING, offsetof(struct ipam_json, last), false},
    {"Allocated", JF_STRV, offsetof(struct ipam_json, allocated), false},
    JSON_FIELD_END,
};

static void ipam_json_release(struct ipam_json *j)
{
	free(j->subnet);
	free(j->range);
	free(j->gateway);
	free(j->last);
	strv_free(j->allocated);
}

static int ipam_from_fields(const struct ipam_json *j, struct net_ipam **ret, struct error **err)
{
	_cleanup_(net_ipam_freep) struct net_ipam *m = NULL;
	struct net_prefix subnet, range;
	struct in_addr gw, last = {0};
	int r;

	if (net_prefix_parse(j->subnet, &subnet) < 0 ||
	    (j->range && net_prefix_parse(j->range, &range) < 0) ||
	    net_addr_parse(j->gateway, &gw) < 0 || (j->last && net_addr_parse(j->last, &last) < 0))
		return error_setx(err, -EINVAL, "invalid address in IPAM state");
	r = net_ipam_new(&subnet, j->range ? &range : NULL, gw, &m);
	if (r < 0)
		return error_setx(err, r, "invalid IPAM state for subnet %s", j->subnet);
	for (char **a = j->allocated; a && *a; a++) {
		struct in_addr x;
		if (net_addr_parse(*a, &x) < 0 || net_ipam_reserve(m, x) < 0)
			return error_setx(err, -EINVAL, "invalid allocated address '%s'", *a);
	}
	m->last = ntohl(last.s_addr);
	*ret = TAKE_PTR(m);
	return 0;
}

int net_ipam_from_json(const char *s, struct net_ipam **ret, struct error **err)
{
	_cleanup_json_ json_object *o = NULL;
	struct ipam_json j = {0};
	int r;

	r = json_parse_buffer(s, strlen(s), &o, err);
	if (r < 0)
		return r;
	if (!json_object_is_type(o, json_type_object))
		return error_setx(err, -EINVAL, "IPAM state is not an object");
	r = json_parse_fields(o, ipam_fields, &j, "", err);
	if (r >= 0)
		r = ipam_from_fields(&j, ret, err);
	ipam_json_release(&j);
	return r;
}

int net_ipam_save(const struct net_ipam *ipam, const char *path)
{
	_cleanup_free_ char *s = net_ipam_to_json(ipam);
	return write_file_atomic(path, s, strlen(s), 0600);
}

int net_ipam_load(const char *path, struct net_ipam **ret, struct error **err)
{
	_cleanup_free_ char *s = NULL;
	int r = read_file_at(AT_FDCWD, path, 1 << 24, &s, NULL);
	if (r < 0)
		return error_set(err, r, "failed to read '%s'", path);
	r = net_ipam_from_json(s, ret, err);
	if (r < 0)
		return error_prefix(err, r, "'%s'", path);
	return 0;
}
