/* SPDX-License-Identifier: Apache-2.0 */
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lazy.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

struct lib {
	const char *soname;
	void *handle;
	void ***slots; /* the stubs' caches of this library's functions */
	size_t n_slots, cap_slots;
};

static struct lib libs[5]; /* curl, archive, crypto, ssl, z */
static bool loaded_any;

/*
 * The libraries closed once no request uses them (lazy_trim). libarchive brings libxml2,
 * ICU, nettle and five compressors: about 200 KiB of relocated data that stays resident
 * while it is mapped. libcurl (GnuTLS, Kerberos, global init) and libssl stay loaded once
 * loaded. libstdc++ and libgcc_s, which ICU pulls in, never unload (glibc marks them
 * NODELETE); they are small.
 */
static const char *const closable[] = {"libarchive.so.13", "libz.so.1"};
static unsigned users;	   /* requests in flight: lazy_enter .. lazy_leave */
static bool close_pending; /* a lazy_trim came while users > 0 */

/* The files mapped before the first dlopen: libraries berthd was linked with stay. */
#define MAX_STARTUP 64
static char *startup[MAX_STARTUP];
static size_t n_startup;

static void note_startup(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/');
		bool seen = false;
		if (!path)
			continue;
		path[strcspn(path, "\n")] = 0;
		for (size_t i = 0; i < n_startup; i++)
			seen |= strcmp(startup[i], path) == 0;
		if (!seen && n_startup < MAX_STARTUP)
			startup[n_startup++] = strdup(path);
	}
	fclose(f);
}

static bool is_startup(const char *path)
{
	for (size_t i = 0; i < n_startup; i++)
		if (startup[i] && strcmp(startup[i], path) == 0)
			return true;
	return false;
}

static bool is_closable(const char *soname)
{
	for (size_t i = 0; i < sizeof(closable) / sizeof(closable[0]); i++)
		if (strcmp(closable[i], soname) == 0)
			return true;
	return false;
}

/* Under lock, with no request in flight: no stub is running and no object of these
 * libraries is alive, so their stubs' caches are cleared (the next call loads the library
 * again) and the libraries closed. */
static void close_idle_locked(void)
{
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		struct lib *l = &libs[i];
		if (!l->soname || !l->handle || !is_closable(l->soname))
			continue;
		for (size_t k = 0; k < l->n_slots; k++)
			__atomic_store_n(l->slots[k], NULL, __ATOMIC_RELEASE);
		l->n_slots = 0;
		(void)dlclose(l->handle);
		l->handle = NULL;
	}
	close_pending = false;
}

/* Under lock: unmap the unwritten pages of the libraries loaded since start-up. */
static void drop_pages_locked(void)
{
	FILE *f;
	char line[512], path[400] = "";
	uintptr_t lo = 0, hi = 0;
	bool candidate = false;

	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return;
	/* Each mapping: its header line, then fields; "Anonymous:" says how much of it was
	 * written (copied on write: relocations, data). Only mappings that were never written
	 * and are not writable are unmapped: their pages equal the file's. */
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		char perms[5];
		unsigned long anon;
		if (sscanf(line, "%lx-%lx %4s", &a, &b, perms) == 3 && strchr(line, ' ')) {
			char *p = strchr(line, '/');
			lo = a;
			hi = b;
			candidate = p && perms[1] == '-' && perms[3] == 'p';
			if (candidate) {
				p[strcspn(p, "\n")] = 0;
				snprintf(path, sizeof(path), "%s", p);
				candidate = !is_startup(path);
			}
			continue;
		}
		if (candidate && sscanf(line, "Anonymous: %lu kB", &anon) == 1) {
			if (anon == 0)
				(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
			candidate = false;
		}
	}
	fclose(f);
}

static void trim_locked(void)
{
	if (users == 0)
		close_idle_locked();
	else
		close_pending = true;
	drop_pages_locked();
}

void lazy_trim(void)
{
	pthread_mutex_lock(&lock);
	if (!loaded_any) {
		pthread_mutex_unlock(&lock);
		return;
	}
	trim_locked();
	pthread_mutex_unlock(&lock);
	/* and the heap those libraries' work grew (buffers freed by now) */
	malloc_trim(0);
}

void lazy_enter(void)
{
	pthread_mutex_lock(&lock);
	users++;
	pthread_mutex_unlock(&lock);
}

void lazy_leave(void)
{
	bool closed = false;
	pthread_mutex_lock(&lock);
	if (users > 0 && --users == 0 && close_pending) {
		close_idle_locked();
		closed = true;
	}
	pthread_mutex_unlock(&lock);
	if (closed)
		malloc_trim(0);
}

void *lazy_sym(const char *soname, const char *name, void **slot)
{
	struct lib *l = NULL;
	void *p;

	pthread_mutex_lock(&lock);
	/* another thread may have resolved it since the caller looked */
	p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (p) {
		pthread_mutex_unlock(&lock);
		return p;
	}
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]) && !l; i++)
		if (!libs[i].soname || strcmp(libs[i].soname, soname) == 0)
			l = &libs[i];
	if (!l)
		abort();
	if (!l->handle) {
		if (!loaded_any)
			note_startup();
		loaded_any = true;
		l->handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
		if (!l->handle) {
			fprintf(stderr, "berthd: cannot load %s: %s\n", soname, dlerror());
			abort();
		}
		l->soname = soname;
	}
	p = dlsym(l->handle, name);
	if (!p) {
		fprintf(stderr, "berthd: %s has no %s\n", soname, name);
		abort();
	}
	if (l->n_slots == l->cap_slots) {
		size_t cap = l->cap_slots ? 2 * l->cap_slots : 32;
		void ***n = realloc(l->slots, cap * sizeof(*n));
		if (!n)
			abort();
		l->slots = n;
		l->cap_slots = cap;
	}
	l->slots[l->n_slots++] = slot;
	__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lock);
	return p;
}
