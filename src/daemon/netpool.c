/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network namespaces made ahead of need.
 *
 * Creating a network namespace is the dearest part of a container's clone (setup_net:
 * the loopback device, the sysctl tables, every pernet subsystem), half a millisecond
 * here, on the start path of every container that has a network of its own. A thread
 * makes a few in advance, each held by an fd, with lo up as Docker has it in every
 * sandbox. A start takes one and hands the runtime its path (/proc/<berthd>/fd/<n>),
 * which joins it instead of making one; berthd closes its fd once the runtime has joined,
 * so the namespace lives exactly as long as the container. A namespace is never reused:
 * each goes to one container. When the pool is empty the runtime makes the namespace as
 * before, and container_net_attach sets its lo up.
 *
 * Only for containers whose spec has no user namespace (a namespace made here belongs to
 * the initial one).
 */
#include <fcntl.h>
#include <sched.h>

#include "internal.h"

/* How many are kept ready: BERTH_NETNS_POOL (0 to 8) in berthd's environment, else 2. */
#define POOL_MAX 8
#define POOL_DEFAULT 2

struct netpool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running, stop, failed;
	int fds[POOL_MAX];
	size_t n, size;
};

/* In the factory thread: a new namespace for this thread, lo up, and an fd of it. */
static int make_one(void)
{
	_cleanup_(net_nl_freep) struct net_nl *nl = NULL;
	_cleanup_close_ int fd = -EBADF;
	int lo, r;

	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = net_nl_open(-1, &nl);
	if (r < 0)
		return r;
	lo = net_nl_link_index(nl, "lo");
	if (lo < 0)
		return lo;
	r = net_nl_link_set_up(nl, lo, true);
	if (r < 0)
		return r;
	return TAKE_FD(fd);
}

static void *netpool_main(void *arg)
{
	struct netpool *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		int fd;
		if (p->n >= p->size) {
			pthread_cond_wait(&p->cond, &p->lock);
			continue;
		}
		pthread_mutex_unlock(&p->lock);
		fd = make_one();
		pthread_mutex_lock(&p->lock);
		if (fd < 0) {
			/* no namespaces to be had (a restricted daemon): the runtime makes them */
			log_debug("netpool: %s; containers get their namespaces from the runtime",
				  strerror(-fd));
			p->failed = true;
			break;
		}
		p->fds[p->n++] = fd;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int netpool_start(struct engine *e)
{
	const char *env = getenv("BERTH_NETNS_POOL");
	struct netpool *p;
	int size = POOL_DEFAULT;

	if (env && (safe_atoi(env, &size) < 0 || size < 0 || size > POOL_MAX)) {
		log_warn("BERTH_NETNS_POOL=%s: not a number from 0 to %d, using %d", env, POOL_MAX,
			 POOL_DEFAULT);
		size = POOL_DEFAULT;
	}
	if (size == 0)
		return 0;
	p = xnew0(struct netpool, 1);
	p->size = (size_t)size;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (pthread_create(&p->thread, NULL, netpool_main, p) != 0) {
		free(p);
		return -EAGAIN;
	}
	p->running = true;
	e->netpool = p;
	return 0;
}

void netpool_stop(struct engine *e)
{
	struct netpool *p = e->netpool;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (p->running)
		pthread_join(p->thread, NULL);
	for (size_t i = 0; i < p->n; i++)
		close(p->fds[i]);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
	e->netpool = NULL;
}

int netpool_take(struct engine *e)
{
	struct netpool *p = e->netpool;
	int fd = -1;

	if (!p)
		return -1;
	pthread_mutex_lock(&p->lock);
	if (p->n > 0) {
		fd = p->fds[--p->n];
		pthread_cond_signal(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return fd;
}
