/* SPDX-License-Identifier: Apache-2.0 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazy.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

struct lib {
	const char *soname;
	void *handle;
};

static struct lib libs[4];

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
