/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: `docker load` metadata. The input becomes manifest.json (when it
 * starts with "[") or index.json of an archive that also holds a small valid config and layer,
 * loaded into a store made once per process; the input is also parsed as an image config.
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/mman.h>

#include "image/image.h"
#include "image/internal.h"

static struct image_store *store;
static char store_dir[] = "/tmp/fuzz-image-manifest-XXXXXX";

static void cleanup(void)
{
	store = image_store_close(store);
	rm_rf(store_dir);
}

static void add(struct archive *a, const char *name, const void *p, size_t n)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_copy_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, n);
	archive_write_header(a, e);
	archive_write_data(a, p, n);
	archive_entry_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char cfg[] =
	    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{}}";
	struct error *err = NULL;
	json_object *o = NULL;
	char **ids = NULL, **loaded = NULL;
	struct archive *a;
	int fd;

	if (!store) {
		if (!mkdtemp(store_dir) || image_store_open(store_dir, &store, NULL) < 0)
			abort();
		atexit(cleanup);
	}
	if (parse_json_limited((const char *)data, size, &o, "config", &err) >= 0) {
		(void)config_diff_ids(o, &ids, &err);
		(void)config_created(o);
		json_object *c = json_object_new_object();
		json_object *ch = NULL;
		if (json_object_object_get_ex(o, "changes", &ch))
			(void)config_apply_changes(c, ch, &err);
		json_object_put(c);
		strv_free(ids);
		json_object_put(o);
	}
	error_free(err);
	err = NULL;

	fd = memfd_create("fuzz", MFD_CLOEXEC);
	a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_open_fd(a, fd);
	add(a, size && data[0] == '[' ? "manifest.json" : "index.json", data, size);
	add(a, "c.json", cfg, strlen(cfg));
	add(a, "blobs/sha256/3b8f1b0a2f5c9f1f7b07c5b4ea7d1c0d2c6b1d7a59f1b7a9c9e1d6d1b2a3c4d5", cfg,
	    strlen(cfg));
	archive_write_close(a);
	archive_write_free(a);
	lseek(fd, 0, SEEK_SET);
	(void)image_load(store, fd, NULL, NULL, &loaded, &err);
	strv_free(loaded);
	error_free(err);
	close(fd);
	return 0;
}
