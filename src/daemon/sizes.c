/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Containers' sizes, as dockerd's overlay2 reports them (GetContainerLayerSize): SizeRw is
 * what the writable layer (the overlay's upper dir) holds, counted as moby's
 * directory.Size counts it (dir_size_at); SizeRootFs adds the image's size. Walking a
 * layer can take long, so the engine lock only covers picking the paths; a container
 * removed meanwhile has no upper dir any more and counts 0, as one whose layer was never
 * made does.
 */
#include <fcntl.h>
#include <inttypes.h>

#include "internal.h"

struct size_job {
	json_object *o; /* the caller's reply, with SizeRw and SizeRootFs placeholders */
	char *upper;
	char *image_id;
	int64_t image_size; /* -1: not looked up yet */
};

void size_jobs_add_locked(struct engine *e, struct size_jobs *j, const struct container *c,
			  json_object *o)
{
	_cleanup_free_ char *dir = container_dir(e, c->id);

	if (j->n == j->cap) {
		j->cap = j->cap ? 2 * j->cap : 8;
		j->v = xrealloc(j->v, j->cap * sizeof(*j->v));
	}
	j->v[j->n++] = (struct size_job){
	    .o = o,
	    .upper = xasprintf("%s/upper", dir),
	    .image_id = xstrdup(c->image_id),
	    .image_size = -1,
	};
}

static int64_t image_size(struct engine *e, struct size_jobs *j, size_t i)
{
	_cleanup_(image_info_freep) struct image_info *img = NULL;

	/* Containers of one image share its lookup. */
	for (size_t k = 0; k < i; k++)
		if (j->v[k].image_size >= 0 && streq(j->v[k].image_id, j->v[i].image_id))
			return j->v[k].image_size;
	/* Images in use cannot be removed; should one be gone anyway, its size is unknown. */
	if (image_lookup(e->images, j->v[i].image_id, &img, NULL) < 0)
		return 0;
	return img->size;
}

void size_jobs_run(struct engine *e, struct size_jobs *j, bool omit_zero)
{
	for (size_t i = 0; i < j->n; i++) {
		struct size_job *s = &j->v[i];
		uint64_t rw = 0;
		int64_t size_rw, size_rootfs;
		int r;

		s->image_size = image_size(e, j, i);
		r = dir_size_at(AT_FDCWD, s->upper, &rw);
		if (r == -ENOENT)
			rw = 0;
		else if (r < 0)
			log_warn("failed to compute the size of '%s': %s", s->upper, strerror(-r));
		/* dockerd: -1 when the layer's size is unknown, and then the image's size alone */
		size_rw = r < 0 && r != -ENOENT ? -1 : (int64_t)rw;
		size_rootfs = s->image_size + (size_rw > 0 ? size_rw : 0);
		/* ps and system df: moby's Summary omits them when 0 (omitempty); inspect
		 * (pointers there) has them whenever asked */
		if (omit_zero && size_rw == 0)
			json_object_object_del(s->o, "SizeRw");
		else
			json_add_int(s->o, "SizeRw", size_rw);
		if (omit_zero && size_rootfs == 0)
			json_object_object_del(s->o, "SizeRootFs");
		else
			json_add_int(s->o, "SizeRootFs", size_rootfs);
	}
	/* only now: image_size() looks back at the jobs done */
	for (size_t i = 0; i < j->n; i++) {
		free(j->v[i].upper);
		free(j->v[i].image_id);
	}
	free(j->v);
	*j = (struct size_jobs){0};
}
