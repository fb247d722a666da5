/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The embedded resolver's thread. Listeners are UDP sockets made in containers'
 * namespaces; forwarded queries go out of sockets this thread makes, in the host's
 * namespace, one connected socket per query (so the reply's source is checked by the
 * kernel and the query id needs no rewriting). One mutex guards everything; events are
 * handled under it, and each is a non-blocking recv and a send or two.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "network.h"

#define MAX_PENDING 256
#define UPSTREAM_TIMEOUT_USEC (2 * 1000 * 1000ull)

enum { TAG_STOP = 1, TAG_LISTENER = 2, TAG_PENDING = 3 };
#define TAG(kind, v) (((uint64_t)(kind) << 56) | (v))

struct listener {
	char *id;
	int fd;
	uint64_t gen;
	char **networks;
	char **upstreams;
};

struct record {
	char *network;
	char *name;
	struct in_addr a;
};

struct pending {
	bool used;
	int fd;
	uint64_t listener_gen;
	struct sockaddr_storage client;
	socklen_t client_len;
	uint8_t query[NET_DNS_MAX_PACKET];
	size_t query_len;
	uint16_t id;
	size_t upstream; /* index of the one being tried */
	uint64_t deadline;
};

struct net_dns {
	pthread_mutex_t lock;
	pthread_t thread;
	bool started;
	int epfd, stopfd;
	uint64_t next_gen;
	struct listener *listeners;
	size_t n_listeners;
	struct record *records;
	size_t n_records;
	struct pending pending[MAX_PENDING];
};

/* ---- records and lookups (lock held) ---------------------------------- */

struct lookup_ctx {
	struct net_dns *dns;
	const struct listener *l;
};

static int lookup_cb(void *userdata, const char *name, struct in_addr *addrs, size_t max)
{
	struct lookup_ctx *c = userdata;
	size_t n = 0;
	bool found = false;

	for (size_t i = 0; i < c->dns->n_records; i++) {
		const struct record *r = &c->dns->records[i];
		if (!streq(r->name, name) || !strv_contains(c->l->networks, r->network))
			continue;
		found = true;
		bool dup = false;
		for (size_t j = 0; j < n; j++)
			dup |= addrs[j].s_addr == r->a.s_addr;
		if (!dup && n < max)
			addrs[n++] = r->a;
	}
	return found ? (int)n : -ENOENT;
}

static int reverse_cb(void *userdata, struct in_addr a, char *buf)
{
	struct lookup_ctx *c = userdata;

	/* the first name recorded for the address: the container's name */
	for (size_t i = 0; i < c->dns->n_records; i++) {
		const struct record *r = &c->dns->records[i];
		if (r->a.s_addr == a.s_addr && strv_contains(c->l->networks, r->network)) {
			snprintf(buf, 256, "%s", r->name);
			return 0;
		}
	}
	return -ENOENT;
}

static char *lower(const char *s)
{
	char *d = xstrdup(s);
	for (char *p = d; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 32;
	if (*d && d[strlen(d) - 1] == '.')
		d[strlen(d) - 1] = 0;
	return d;
}

int net_dns_add_record(struct net_dns *dns, const char *network, const char *name, struct in_addr a)
{
	_cleanup_free_ char *n = NULL;

	if (isempty(network) || isempty(name) || strlen(name) > 253)
		return -EINVAL;
	n = lower(name);
	pthread_mutex_lock(&dns->lock);
	for (size_t i = 0; i < dns->n_records; i++) {
		struct record *r = &dns->records[i];
		if (streq(r->network, network) && streq(r->name, n) && r->a.s_addr == a.s_addr) {
			pthread_mutex_unlock(&dns->lock);
			return 0;
		}
	}
	dns->records = xrealloc(dns->records, (dns->n_records + 1) * sizeof(*dns->records));
	dns->records[dns->n_records++] = (struct record){xstrdup(network), TAKE_PTR(n), a};
	pthread_mutex_unlock(&dns->lock);
	return 0;
}

int net_dns_remove_records(struct net_dns *dns, const char *network, struct in_addr a)
{
	int gone = 0;
	size_t k = 0;

	pthread_mutex_lock(&dns->lock);
	for (size_t i = 0; i < dns->n_records; i++) {
		struct record *r = &dns->records[i];
		if (streq(r->network, network) && r->a.s_addr == a.s_addr) {
			free(r->network);
			free(r->name);
			gone++;
		} else
			dns->records[k++] = *r;
	}
	dns->n_records = k;
	pthread_mutex_unlock(&dns->lock);
	return gone;
}

/* ---- listeners -------------------------------------------------------- */

static struct listener *listener_by_id(struct net_dns *dns, const char *id)
{
	for (size_t i = 0; i < dns->n_listeners; i++)
		if (streq(dns->listeners[i].id, id))
			return &dns->listeners[i];
	return NULL;
}

static struct listener *listener_by_gen(struct net_dns *dns, uint64_t gen)
{
	for (size_t i = 0; i < dns->n_listeners; i++)
		if (dns->listeners[i].gen == gen)
			return &dns->listeners[i];
	return NULL;
}

static void listener_drop(struct net_dns *dns, struct listener *l)
{
	(void)epoll_ctl(dns->epfd, EPOLL_CTL_DEL, l->fd, NULL);
	close(l->fd);
	free(l->id);
	strv_free(l->networks);
	strv_free(l->upstreams);
	*l = dns->listeners[--dns->n_listeners];
}

int net_dns_listen_socket(int netns_fd, struct error **err)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
	int one = 1;

	inet_pton(AF_INET, NET_DNS_ADDR, &sa.sin_addr);
	_cleanup_close_ int fd = net_netns_socket(netns_fd, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return error_set(err, fd, "failed to create the DNS socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return error_set(err, -errno, "failed to bind the DNS socket to %s:53",
				 NET_DNS_ADDR);
	return TAKE_FD(fd);
}

int net_dns_add_listener(struct net_dns *dns, const char *id, int fd, char *const *networks,
			 char *const *upstreams)
{
	struct epoll_event ev = {.events = EPOLLIN};

	if (fd < 0 || isempty(id)) {
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	pthread_mutex_lock(&dns->lock);
	struct listener *old = listener_by_id(dns, id);
	if (old)
		listener_drop(dns, old);
	uint64_t gen = ++dns->next_gen;
	ev.data.u64 = TAG(TAG_LISTENER, gen);
	if (epoll_ctl(dns->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = -errno;
		pthread_mutex_unlock(&dns->lock);
		close(fd);
		return r;
	}
	dns->listeners = xrealloc(dns->listeners, (dns->n_listeners + 1) * sizeof(*dns->listeners));
	dns->listeners[dns->n_listeners++] = (struct listener){
	    xstrdup(id), fd, gen, strv_copy(networks), strv_copy(upstreams),
	};
	pthread_mutex_unlock(&dns->lock);
	return 0;
}

int net_dns_set_networks(struct net_dns *dns, const char *id, char *const *networks)
{
	int r = -ENOENT;

	pthread_mutex_lock(&dns->lock);
	struct listener *l = listener_by_id(dns, id);
	if (l) {
		strv_free(l->networks);
		l->networks = strv_copy(networks);
		r = 0;
	}
	pthread_mutex_unlock(&dns->lock);
	return r;
}

int net_dns_remove_listener(struct net_dns *dns, const char *id)
{
	int r = -ENOENT;

	pthread_mutex_lock(&dns->lock);
	struct listener *l = listener_by_id(dns, id);
	if (l) {
		listener_drop(dns, l);
		r = 0;
	}
	pthread_mutex_unlock(&dns->lock);
	return r;
}

/* ---- forwarding ------------------------------------------------------- */

/* "1.2.3.4", "1.2.3.4:53", "::1", "[::1]:53" */
static int parse_upstream(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL;
	size_t hl;
	int p = 53;

	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (!e)
			return -EINVAL;
		hl = (size_t)(e - s - 1);
		s++;
		if (e[1] == ':')
			port = e + 2;
		else if (e[1])
			return -EINVAL;
	} else {
		const char *c = strchr(s, ':');
		if (c && !strchr(c + 1, ':')) {
			hl = (size_t)(c - s);
			port = c + 1;
		} else
			hl = strlen(s);
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = 0;
	if (port && (safe_atoi(port, &p) < 0 || p <= 0 || p > 65535))
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)p);
		*len = sizeof(*in);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*in6);
	} else
		return -EINVAL;
	return 0;
}

static void pending_close(struct net_dns *dns, struct pending *p)
{
	if (p->fd >= 0) {
		(void)epoll_ctl(dns->epfd, EPOLL_CTL_DEL, p->fd, NULL);
		close(p->fd);
	}
	p->fd = -1;
	p->used = false;
}

static void reply_error(struct net_dns *dns, struct pending *p, int rcode)
{
	uint8_t out[512];
	struct listener *l = listener_by_gen(dns, p->listener_gen);
	int n = net_dns_error_reply(p->query, p->query_len, rcode, out, sizeof(out));
	if (l && n > 0)
		(void)sendto(l->fd, out, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&p->client,
			     p->client_len);
}

/* Send p's query to its current upstream, moving on past the ones that fail at once. */
static void pending_send(struct net_dns *dns, struct pending *p)
{
	struct listener *l = listener_by_gen(dns, p->listener_gen);
	size_t n_up = l ? strv_length(l->upstreams) : 0;

	for (; p->upstream < n_up; p->upstream++) {
		struct sockaddr_storage ss;
		socklen_t sl;
		struct epoll_event ev = {.events = EPOLLIN};

		if (p->fd >= 0) {
			(void)epoll_ctl(dns->epfd, EPOLL_CTL_DEL, p->fd, NULL);
			close(p->fd);
			p->fd = -1;
		}
		if (parse_upstream(l->upstreams[p->upstream], &ss, &sl) < 0)
			continue;
		p->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (p->fd < 0)
			continue;
		ev.data.u64 = TAG(TAG_PENDING, (uint64_t)(p - dns->pending));
		if (connect(p->fd, (struct sockaddr *)&ss, sl) < 0 ||
		    send(p->fd, p->query, p->query_len, 0) < 0 ||
		    epoll_ctl(dns->epfd, EPOLL_CTL_ADD, p->fd, &ev) < 0)
			continue;
		p->deadline = now_usec(CLOCK_MONOTONIC) + UPSTREAM_TIMEOUT_USEC;
		return;
	}
	reply_error(dns, p, 2 /* SERVFAIL */);
	pending_close(dns, p);
}

static void forward(struct net_dns *dns, const struct listener *l, const uint8_t *q, size_t n,
		    const struct sockaddr_storage *client, socklen_t client_len)
{
	struct pending *p = NULL;

	for (size_t i = 0; i < MAX_PENDING && !p; i++)
		if (!dns->pending[i].used)
			p = &dns->pending[i];
	if (!p)
		return; /* full: drop, the client retries */
	memset(p, 0, offsetof(struct pending, query));
	p->used = true;
	p->fd = -1;
	p->listener_gen = l->gen;
	p->client = *client;
	p->client_len = client_len;
	memcpy(p->query, q, n);
	p->query_len = n;
	p->id = (uint16_t)(q[0] << 8 | q[1]);
	p->upstream = 0;
	pending_send(dns, p);
}

/* ---- the thread ------------------------------------------------------- */

static void on_listener(struct net_dns *dns, uint64_t gen)
{
	uint8_t q[NET_DNS_MAX_PACKET], out[512];
	struct sockaddr_storage client;

	/* a bounded batch, so one busy container cannot starve the others */
	for (int batch = 0; batch < 32; batch++) {
		struct listener *l = listener_by_gen(dns, gen);
		socklen_t cl = sizeof(client);
		if (!l)
			return;
		ssize_t n =
		    recvfrom(l->fd, q, sizeof(q), MSG_DONTWAIT, (struct sockaddr *)&client, &cl);
		if (n < 0)
			return;
		struct lookup_ctx ctx = {dns, l};
		struct net_dns_lookup lk = {lookup_cb, reverse_cb, &ctx};
		int r = net_dns_respond(q, (size_t)n, &lk, out, sizeof(out));
		if (r > 0)
			(void)sendto(l->fd, out, (size_t)r, MSG_DONTWAIT,
				     (struct sockaddr *)&client, cl);
		else if (r == 0)
			forward(dns, l, q, (size_t)n, &client, cl);
	}
}

static void on_pending(struct net_dns *dns, size_t i)
{
	uint8_t buf[NET_DNS_MAX_PACKET];
	struct pending *p = &dns->pending[i];

	if (i >= MAX_PENDING || !p->used || p->fd < 0)
		return;
	ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		/* ICMP unreachable on the connected socket: try the next upstream */
		p->upstream++;
		pending_send(dns, p);
		return;
	}
	if (n < 12 || (uint16_t)(buf[0] << 8 | buf[1]) != p->id || !(buf[2] & 0x80))
		return; /* not the answer to this query: keep waiting */
	struct listener *l = listener_by_gen(dns, p->listener_gen);
	if (l)
		(void)sendto(l->fd, buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&p->client,
			     p->client_len);
	pending_close(dns, p);
}

static int expire(struct net_dns *dns)
{
	uint64_t now = now_usec(CLOCK_MONOTONIC), next = UINT64_MAX;

	for (size_t i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &dns->pending[i];
		if (!p->used)
			continue;
		if (p->deadline <= now) {
			p->upstream++;
			pending_send(dns, p);
		}
		if (p->used && p->deadline < next)
			next = p->deadline;
	}
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)((next - now + 999) / 1000);
}

static void *dns_thread(void *userdata)
{
	struct net_dns *dns = userdata;
	struct epoll_event evs[16];
	int timeout = -1;

	for (;;) {
		int n = epoll_wait(dns->epfd, evs, ELEMENTSOF(evs), timeout);
		if (n < 0 && errno != EINTR)
			return NULL;
		pthread_mutex_lock(&dns->lock);
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64 >> 56,
				 v = evs[i].data.u64 & ((1ull << 56) - 1);
			if (tag == TAG_STOP) {
				pthread_mutex_unlock(&dns->lock);
				return NULL;
			}
			if (tag == TAG_LISTENER)
				on_listener(dns, v);
			else if (tag == TAG_PENDING)
				on_pending(dns, (size_t)v);
		}
		timeout = expire(dns);
		pthread_mutex_unlock(&dns->lock);
	}
}

int net_dns_new(struct net_dns **ret, struct error **err)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(TAG_STOP, 0)};
	struct net_dns *dns = xnew0(struct net_dns, 1);
	int r;

	pthread_mutex_init(&dns->lock, NULL);
	dns->epfd = epoll_create1(EPOLL_CLOEXEC);
	dns->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	for (size_t i = 0; i < MAX_PENDING; i++)
		dns->pending[i].fd = -1;
	if (dns->epfd < 0 || dns->stopfd < 0 ||
	    epoll_ctl(dns->epfd, EPOLL_CTL_ADD, dns->stopfd, &ev) < 0) {
		r = error_set(err, -errno, "failed to set up the DNS server");
		net_dns_free(dns);
		return r;
	}
	r = pthread_create(&dns->thread, NULL, dns_thread, dns);
	if (r != 0) {
		r = error_set(err, -r, "failed to start the DNS server thread");
		net_dns_free(dns);
		return r;
	}
	dns->started = true;
	*ret = dns;
	return 0;
}

struct net_dns *net_dns_free(struct net_dns *dns)
{
	uint64_t one = 1;

	if (!dns)
		return NULL;
	if (dns->started) {
		(void)!write(dns->stopfd, &one, sizeof(one));
		pthread_join(dns->thread, NULL);
	}
	while (dns->n_listeners)
		listener_drop(dns, &dns->listeners[0]);
	for (size_t i = 0; i < MAX_PENDING; i++)
		if (dns->pending[i].used)
			pending_close(dns, &dns->pending[i]);
	for (size_t i = 0; i < dns->n_records; i++) {
		free(dns->records[i].network);
		free(dns->records[i].name);
	}
	free(dns->records);
	free(dns->listeners);
	closep(&dns->epfd);
	closep(&dns->stopfd);
	pthread_mutex_destroy(&dns->lock);
	free(dns);
	return NULL;
}
