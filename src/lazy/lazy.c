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
};

static struct lib libs[5]; /* curl, archive, crypto, ssl, z */
static bool loaded_any;

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

void lazy_trim(void)
{
	FILE *f;
	char line[512], path[400] = "";
	uintptr_t lo = 0, hi = 0;
	bool candidate = false;

	pthread_mutex_lock(&lock);
	if (!loaded_any) {
		pthread_mutex_unlock(&lock);
		return;
	}
	f = fopen("/proc/self/smaps", "re");
	if (!f) {
		pthread_mutex_unlock(&lock);
		return;
	}
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
	pthread_mutex_unlock(&lock);
	/* and the heap those libraries' work grew (buffers freed by now) */
	malloc_trim(0);
}

void *lazy_sym(const char *soname, const char *name)
{
	void *h = NULL, *p;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		if (libs[i].soname && strcmp(libs[i].soname, soname) == 0) {
			h = libs[i].handle;
			break;
		}
		if (!libs[i].soname) {
			if (!loaded_any)
				note_startup();
			loaded_any = true;
			h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
			if (!h) {
				fprintf(stderr, "berthd: cannot load %s: %s\n", soname, dlerror());
				abort();
			}
			libs[i].soname = soname;
			libs[i].handle = h;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	if (!h)
		abort();
	p = dlsym(h, name);
	if (!p) {
		fprintf(stderr, "berthd: %s has no %s\n", soname, name);
		abort();
	}
	return p;
}
