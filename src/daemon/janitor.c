/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The janitor: a removed container's files go after its removal was answered.
 *
 * Removing a container's writable layer costs milliseconds that a client should not wait
 * for: the unmount of its overlay syncs the upper filesystem (sync_filesystem, with a disk
 * cache flush), and deleting upper/ and work/ frees blocks (a discard on filesystems
 * mounted with it). `docker run --rm` waits for the removal, and all of it used to happen
 * under the engine lock. Now removal renames the container's directories into trash/
 * (one rename each, same filesystem), which is all the API needs: the id and name are
 * free, nothing lists the container. This thread then unmounts and deletes whatever is in
 * the trash, and also sweeps it at start-up, so a crash between the rename and the delete
 * leaves nothing behind for long.
 *
 * Image removal drains the janitor first (janitor_drain), so that no overlay of a removed
 * container still has an image's layers as its lower directories when they go.
 */
#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "internal.h"

struct janitor {
	struct engine *e;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running, stop;
	uint64_t requested, done; /* sweeps asked for, and finished */
	char *trash[2];		  /* data-root/trash, exec-root/trash */
};

bool is_mountpoint(const char *path)
{
	struct stat a, b;
	_cleanup_free_ char *parent = xasprintf("%s/..", path);
	if (stat(path, &a) < 0 || stat(parent, &b) < 0)
		return false;
	return a.st_dev != b.st_dev;
}

void unmount_all(const char *path)
{
	/* Stacked mounts (a crash between a mount and its record) go one by one. */
	for (int i = 0; i < 8 && is_mountpoint(path); i++)
		if (umount2(path, MNT_DETACH) < 0)
			break;
}

/* Unmount and delete every entry of one trash directory. */
static void sweep(const char *trash)
{
	DIR *d = opendir(trash);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *path = NULL, *merged = NULL;
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		path = xasprintf("%s/%s", trash, de->d_name);
		merged = xasprintf("%s/merged", path);
		unmount_all(merged);
		/* rm_rf stays on one filesystem: a mount that would not go is left alone. */
		(void)rm_rf(path);
	}
	closedir(d);
}

static void *janitor_main(void *arg)
{
	struct janitor *j = arg;

	pthread_mutex_lock(&j->lock);
	for (;;) {
		uint64_t want;
		while (j->done == j->requested && !j->stop)
			pthread_cond_wait(&j->cond, &j->lock);
		if (j->done == j->requested && j->stop)
			break;
		want = j->requested;
		pthread_mutex_unlock(&j->lock);
		for (size_t i = 0; i < ELEMENTSOF(j->trash); i++)
			sweep(j->trash[i]);
		/* A container's life leaves the heap fragmented (requests, specs, JSON): what is
		 * free goes back to the kernel here, off the path of any request, with the page
		 * caches of the two database connections (each invalidates the other's on every
		 * write, so they seldom save a read; the file's pages stay in the kernel's cache).
		 */
		(void)sqlite3_db_release_memory(j->e->db);
		image_store_release_memory(j->e->images);
		malloc_trim(0);
		pthread_mutex_lock(&j->lock);
		j->done = want;
		pthread_cond_broadcast(&j->cond);
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

int janitor_start(struct engine *e, struct error **err)
{
	struct janitor *j = xnew0(struct janitor, 1);
	int r;

	j->e = e;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	j->trash[0] = xasprintf("%s/trash", e->cfg->data_root);
	j->trash[1] = xasprintf("%s/trash", e->cfg->exec_root);
	for (size_t i = 0; i < ELEMENTSOF(j->trash); i++) {
		r = mkdir_p(j->trash[i], 0700);
		if (r < 0) {
			error_set(err, r, "create '%s'", j->trash[i]);
			goto fail;
		}
	}
	/* What a crash left in the trash goes first. */
	j->requested = 1;
	r = -pthread_create(&j->thread, NULL, janitor_main, j);
	if (r < 0) {
		error_set(err, r, "start the janitor thread");
		goto fail;
	}
	j->running = true;
	e->janitor = j;
	return 0;
fail:
	for (size_t i = 0; i < ELEMENTSOF(j->trash); i++)
		free(j->trash[i]);
	free(j);
	return r;
}

void janitor_stop(struct engine *e)
{
	struct janitor *j = e->janitor;

	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	j->stop = true;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
	if (j->running)
		pthread_join(j->thread, NULL);
	for (size_t i = 0; i < ELEMENTSOF(j->trash); i++)
		free(j->trash[i]);
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->cond);
	free(j);
	e->janitor = NULL;
}

/* Moves path into trash as name; false when it cannot (the caller deletes it itself). */
static bool to_trash(const char *trash, const char *path, const char *name)
{
	_cleanup_free_ char *dst = xasprintf("%s/%s", trash, name);
	if (rename(path, dst) == 0)
		return true;
	return errno == ENOENT; /* nothing to delete */
}

void janitor_discard(struct engine *e, const char *id)
{
	struct janitor *j = e->janitor;
	_cleanup_free_ char *dir = container_dir(e, id), *run = container_rundir(e, id);
	bool queued = false;

	if (j && to_trash(j->trash[0], dir, id))
		queued = true;
	else {
		/* no janitor (tests of the engine alone) or another filesystem: here and now */
		_cleanup_free_ char *merged = xasprintf("%s/merged", dir);
		unmount_all(merged);
		(void)rm_rf(dir);
	}
	if (j && to_trash(j->trash[1], run, id))
		queued = true;
	else
		(void)rm_rf(run);
	if (!queued)
		return;
	pthread_mutex_lock(&j->lock);
	j->requested++;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
}

void janitor_drain(struct engine *e)
{
	struct janitor *j = e->janitor;
	uint64_t target;

	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	target = j->requested;
	while (j->done < target && j->running)
		pthread_cond_wait(&j->cond, &j->lock);
	pthread_mutex_unlock(&j->lock);
}
