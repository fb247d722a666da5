/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The layout of a layer tar, kept beside its diff dir, so that the very tar can be written
 * again: its digest is then the config's diff id, and an image pushed or saved keeps its id
 * (Docker keeps tar-split data for the same reason).
 *
 * While a layer is unpacked, the uncompressed stream also goes through a small tar parser
 * that records every byte that is not the content of a regular file (headers, pax and GNU
 * long-name records, padding, the end blocks and whatever follows them) as it is, and the
 * content of a regular file as a reference to its path. Writing the tar again replays the
 * record, reading file content from the diff dir. The record need not be right for the result
 * to be: what is written is always hashed and compared with the diff id, and a caller that
 * gets an error makes a tar from the diff dir instead. Replaying reads nothing but regular
 * files inside the diff dir, whatever the record says.
 *
 * The record is gzip compressed; after a magic line come records, integers little endian:
 *   'R' u32 n, n bytes     bytes of the tar as they are (n <= RAW_MAX)
 *   'F' u64 size, u16 n, n bytes of path
 *                          size bytes of the content of the regular file at path
 *   'E' 71 bytes           the diff id of the whole stream; the last record
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <zlib.h>

#include "internal.h"

#define MAGIC "berth tar-split 1\n"
#define BLOCK 512
#define RAW_MAX (64u << 10)
#define META_MAX (1u << 20) /* pax and GNU long-name records we parse */
#define NAME_MAX_LEN 65535u

enum ts_state { TS_HEADER, TS_SPARSE_EXT, TS_DATA, TS_PAD, TS_TRAILER };

struct tarsplit {
	gzFile gz;
	bool broken; /* write error, or a stream we do not follow: no record is kept */
	enum ts_state state;
	unsigned char blk[BLOCK];
	size_t blk_len;
	uint64_t left, pad_left;
	bool data_file; /* the entry's data is a regular file's content: an F record */
	bool data_meta; /* the entry's data is a pax or GNU long-name record: kept to parse */
	char meta_type;
	char *meta;
	size_t meta_len;
	/* what the records before the next header say about it */
	char *next_path;
	int64_t next_size; /* -1: the header's */
	bool next_sparse, next_pax;
	unsigned char raw[RAW_MAX];
	size_t raw_len;
};

static void put_u16(unsigned char *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

static uint64_t get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void gz_put(struct tarsplit *t, const void *p, size_t n)
{
	if (t->broken || n == 0)
		return;
	if (gzwrite(t->gz, p, (unsigned)n) != (int)n)
		t->broken = true;
}

static void raw_flush(struct tarsplit *t)
{
	unsigned char h[5];

	if (!t->raw_len)
		return;
	h[0] = 'R';
	put_u32(h + 1, (uint32_t)t->raw_len);
	gz_put(t, h, sizeof(h));
	gz_put(t, t->raw, t->raw_len);
	t->raw_len = 0;
}

static void raw_add(struct tarsplit *t, const void *p, size_t n)
{
	while (n) {
		size_t k = RAW_MAX - t->raw_len < n ? RAW_MAX - t->raw_len : n;
		memcpy(t->raw + t->raw_len, p, k);
		t->raw_len += k;
		p = (const char *)p + k;
		n -= k;
		if (t->raw_len == RAW_MAX)
			raw_flush(t);
	}
}

static void file_record(struct tarsplit *t, uint64_t size, const char *path)
{
	size_t n = strlen(path);
	unsigned char h[11];

	if (n > NAME_MAX_LEN) {
		t->broken = true;
		return;
	}
	raw_flush(t);
	h[0] = 'F';
	put_u64(h + 1, size);
	put_u16(h + 9, (uint16_t)n);
	gz_put(t, h, sizeof(h));
	gz_put(t, path, n);
}

int tarsplit_new(int fd, struct tarsplit **ret)
{
	_cleanup_close_ int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	struct tarsplit *t;

	if (dfd < 0)
		return -errno;
	t = xnew0(struct tarsplit, 1);
	t->gz = gzdopen(dfd, "wb6");
	if (!t->gz) {
		free(t);
		return -ENOMEM;
	}
	dfd = -EBADF; /* the gzFile owns it */
	t->next_size = -1;
	gz_put(t, MAGIC, strlen(MAGIC));
	*ret = t;
	return 0;
}

struct tarsplit *tarsplit_free(struct tarsplit *t)
{
	if (!t)
		return NULL;
	if (t->gz)
		gzclose(t->gz);
	free(t->meta);
	free(t->next_path);
	free(t);
	return NULL;
}

/* A numeric header field: octal (leading spaces or NULs allowed) or GNU base-256. */
static bool parse_number(const unsigned char *f, size_t n, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] != 0x80)
			return false; /* negative or too large for us */
		for (i = 1; i < n; i++) {
			if (v >> 56)
				return false;
			v = (v << 8) | f[i];
		}
		*ret = v;
		return true;
	}
	while (i < n && (f[i] == ' ' || f[i] == 0))
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return false;
		v = (v << 3) | (uint64_t)(f[i] - '0');
	}
	*ret = v;
	return true;
}

static char *field_str(const unsigned char *f, size_t n)
{
	return xstrndup((const char *)f, strnlen((const char *)f, n));
}

/* pax records "len key=value\n" */
static void parse_pax(struct tarsplit *t, bool global)
{
	size_t off = 0;

	while (off < t->meta_len) {
		const char *rec = t->meta + off, *sp, *eq;
		uint64_t len = 0;
		size_t i;

		for (i = 0; off + i < t->meta_len && rec[i] >= '0' && rec[i] <= '9' && i < 20; i++)
			len = len * 10 + (uint64_t)(rec[i] - '0');
		sp = rec + i;
		if (i == 0 || len <= i + 1 || len > t->meta_len - off || *sp != ' ' ||
		    rec[len - 1] != '\n') {
			t->broken = true;
			return;
		}
		eq = memchr(sp + 1, '=', rec + len - 1 - (sp + 1));
		if (!eq) {
			t->broken = true;
			return;
		}
		{
			_cleanup_free_ char *key = xstrndup(sp + 1, eq - (sp + 1));
			_cleanup_free_ char *val = xstrndup(eq + 1, rec + len - 1 - (eq + 1));
			if (global && (streq(key, "path") || streq(key, "size") ||
				       startswith(key, "GNU.sparse."))) {
				/* applies to every entry after it: not worth following */
				t->broken = true;
				return;
			}
			if (streq(key, "path")) {
				free(t->next_path);
				t->next_path = TAKE_PTR(val);
			} else if (streq(key, "size")) {
				uint64_t v;
				if (safe_atou64(val, &v) < 0 || v > INT64_MAX) {
					t->broken = true;
					return;
				}
				t->next_size = (int64_t)v;
			} else if (startswith(key, "GNU.sparse.")) {
				t->next_sparse = true;
			}
		}
		off += len;
	}
}

static void meta_done(struct tarsplit *t)
{
	switch (t->meta_type) {
	case 'x':
		t->next_pax = true;
		parse_pax(t, false);
		break;
	case 'g':
		parse_pax(t, true);
		break;
	case 'L':
		free(t->next_path);
		t->next_path = xstrndup(t->meta, strnlen(t->meta, t->meta_len));
		break;
	default: /* 'K': a long link name, nothing we need */
		break;
	}
	free(t->meta);
	t->meta = NULL;
	t->meta_len = 0;
}

static void entry_done(struct tarsplit *t)
{
	free(t->next_path);
	t->next_path = NULL;
	t->next_size = -1;
	t->next_sparse = t->next_pax = false;
}

static void header(struct tarsplit *t)
{
	const unsigned char *b = t->blk;
	char type = (char)b[156];
	uint64_t size = 0;
	bool zero = true;

	raw_add(t, b, BLOCK);
	for (size_t i = 0; i < BLOCK && zero; i++)
		zero = b[i] == 0;
	if (zero) {
		/* the end of the archive, for libarchive as for us: the rest is kept as it is */
		t->state = TS_TRAILER;
		return;
	}
	if (!parse_number(b + 124, 12, &size)) {
		t->broken = true;
		return;
	}
	if (t->next_size >= 0 && type != 'x' && type != 'g' && type != 'L' && type != 'K')
		size = (uint64_t)t->next_size;
	t->data_file = t->data_meta = false;
	switch (type) {
	case 'x':
	case 'g':
	case 'L':
	case 'K':
		if (size > META_MAX) {
			t->broken = true;
			return;
		}
		t->data_meta = true;
		t->meta_type = type;
		t->meta = xmalloc(size + 1);
		t->meta_len = 0;
		break;
	case '0':
	case '\0':
	case '7':
		if (size > 0 && !t->next_sparse) {
			_cleanup_free_ char *path = NULL;
			if (t->next_path) {
				path = xstrdup(t->next_path);
			} else {
				_cleanup_free_ char *name = field_str(b, 100);
				/* POSIX ustar has a prefix; GNU's "ustar  " keeps other fields
				 * there */
				if (!memcmp(b + 257, "ustar\0", 6) && b[345]) {
					_cleanup_free_ char *prefix = field_str(b + 345, 155);
					path = xasprintf("%s/%s", prefix, name);
				} else {
					path = TAKE_PTR(name);
				}
			}
			file_record(t, size, path);
			t->data_file = true;
		}
		entry_done(t);
		break;
	case '1':
		/* libarchive reads the data of a hard link only in pax archives */
		if (!t->next_pax)
			size = 0;
		entry_done(t);
		break;
	default:
		entry_done(t);
		break;
	}
	t->left = size;
	t->pad_left = (BLOCK - size % BLOCK) % BLOCK;
	t->state = size ? TS_DATA : TS_HEADER;
	if (!size && t->data_meta)
		meta_done(t);
	/* an old GNU sparse header may be followed by more of its map before the data */
	if (type == 'S' && b[482])
		t->state = TS_SPARSE_EXT;
}

/* A block of an old GNU sparse map: kept as it is; its last byte says whether one more comes. */
static void sparse_ext(struct tarsplit *t)
{
	raw_add(t, t->blk, BLOCK);
	if (!t->blk[504])
		t->state = t->left ? TS_DATA : TS_HEADER;
}

void tarsplit_feed(struct tarsplit *t, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	while (n && !t->broken) {
		size_t k;

		switch (t->state) {
		case TS_HEADER:
		case TS_SPARSE_EXT:
			k = BLOCK - t->blk_len < n ? BLOCK - t->blk_len : n;
			memcpy(t->blk + t->blk_len, p, k);
			t->blk_len += k;
			if (t->blk_len == BLOCK) {
				t->blk_len = 0;
				if (t->state == TS_HEADER)
					header(t);
				else
					sparse_ext(t);
			}
			break;
		case TS_DATA:
			k = t->left < n ? (size_t)t->left : n;
			if (!t->data_file)
				raw_add(t, p, k);
			if (t->data_meta) {
				memcpy(t->meta + t->meta_len, p, k);
				t->meta_len += k;
			}
			t->left -= k;
			if (!t->left) {
				if (t->data_meta)
					meta_done(t);
				t->state = t->pad_left ? TS_PAD : TS_HEADER;
			}
			break;
		case TS_PAD:
			k = t->pad_left < n ? (size_t)t->pad_left : n;
			raw_add(t, p, k);
			t->pad_left -= k;
			if (!t->pad_left)
				t->state = TS_HEADER;
			break;
		default:
			k = n;
			raw_add(t, p, k);
			break;
		}
		p += k;
		n -= k;
	}
}

int tarsplit_finish(struct tarsplit *t, const char *diff_id)
{
	int r;

	if (!t->broken && t->blk_len) /* a partial block at the end */
		raw_add(t, t->blk, t->blk_len);
	t->blk_len = 0;
	raw_flush(t);
	gz_put(t, "E", 1);
	gz_put(t, diff_id, strlen(diff_id));
	r = gzclose(t->gz);
	t->gz = NULL;
	if (t->broken || r != Z_OK)
		return -EBADMSG;
	return 0;
}

/* ---- writing the tar again ---------------------------------------------------- */

static int gz_get(gzFile gz, void *p, size_t n)
{
	int k = gzread(gz, p, (unsigned)n);
	return k == (int)n ? 0 : -EBADMSG;
}

static void gzclosep(gzFile *gz)
{
	if (*gz)
		gzclose(*gz);
}

struct out {
	int fd;
	struct digest *md;
};

static int out_write(struct out *o, const void *p, size_t n)
{
	if (loop_write(o->fd, p, n) < 0)
		return -errno;
	digest_update(o->md, p, n);
	return 0;
}

static int copy_file(struct out *o, int root_fd, const char *path, uint64_t size, char *buf,
		     struct error **err)
{
	/* only a regular file is opened for reading: a fifo or a device the layer has at that
	 * path (a tar may replace a file by one) would block or act */
	_cleanup_close_ int pfd = open_in_root(root_fd, path, O_PATH | O_NOFOLLOW), fd = -EBADF;
	struct stat st, st2;

	if (pfd < 0)
		return error_set(err, pfd, "open \"%s\" in the layer", path);
	if (fstat(pfd, &st) < 0)
		return error_set(err, -errno, "stat \"%s\" in the layer", path);
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
		return error_setx(err, -EBADMSG, "\"%s\" in the layer is not what the tar had",
				  path);
	fd = open_in_root(root_fd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return error_set(err, fd, "open \"%s\" in the layer", path);
	if (fstat(fd, &st2) < 0 || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev)
		return error_setx(err, -EBADMSG, "\"%s\" in the layer changed", path);
	while (size) {
		ssize_t n = read(fd, buf, size < RAW_MAX ? (size_t)size : RAW_MAX);
		int r;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return error_set(err, n < 0 ? -errno : -EBADMSG, "read \"%s\" in the layer",
					 path);
		r = out_write(o, buf, (size_t)n);
		if (r < 0)
			return error_set(err, r, "write layer tar");
		size -= (uint64_t)n;
	}
	return 0;
}

int tarsplit_assemble(int split_fd, int root_fd, int out_fd, char **ret_diff_id, struct error **err)
{
	_cleanup_(gzclosep) gzFile gz = NULL;
	_cleanup_free_ char *buf = xmalloc(RAW_MAX + 1), *got = NULL;
	_cleanup_close_ int dfd = fcntl(split_fd, F_DUPFD_CLOEXEC, 3);
	struct digest md;
	struct out o = {.fd = out_fd, .md = &md};
	char magic[sizeof(MAGIC) - 1], want[DIGEST_LEN + 1];
	int r;

	digest_init(&md);
	if (dfd < 0)
		return error_set(err, -errno, "read tar layout");
	gz = gzdopen(dfd, "rb");
	if (!gz)
		return error_setx(err, -ENOMEM, "read tar layout");
	dfd = -EBADF;
	if (gz_get(gz, magic, sizeof(magic)) < 0 || memcmp(magic, MAGIC, sizeof(magic)))
		return error_setx(err, -EBADMSG, "invalid tar layout");
	for (;;) {
		unsigned char h[10];
		char type;

		if (gz_get(gz, &type, 1) < 0)
			return error_setx(err, -EBADMSG, "invalid tar layout: no end");
		if (type == 'R') {
			uint32_t n;
			if (gz_get(gz, h, 4) < 0)
				return error_setx(err, -EBADMSG, "invalid tar layout");
			n = (uint32_t)get_le(h, 4);
			if (n > RAW_MAX || gz_get(gz, buf, n) < 0)
				return error_setx(err, -EBADMSG, "invalid tar layout");
			r = out_write(&o, buf, n);
			if (r < 0)
				return error_set(err, r, "write layer tar");
		} else if (type == 'F') {
			uint64_t size;
			uint16_t n;
			if (gz_get(gz, h, 10) < 0)
				return error_setx(err, -EBADMSG, "invalid tar layout");
			size = get_le(h, 8);
			n = (uint16_t)get_le(h + 8, 2);
			if (gz_get(gz, buf, n) < 0)
				return error_setx(err, -EBADMSG, "invalid tar layout");
			buf[n] = 0;
			if (strlen(buf) != n)
				return error_setx(err, -EBADMSG, "invalid tar layout");
			{
				_cleanup_free_ char *path = xstrdup(buf);
				r = copy_file(&o, root_fd, path, size, buf, err);
				if (r < 0)
					return r;
			}
		} else if (type == 'E') {
			if (gz_get(gz, want, DIGEST_LEN) < 0)
				return error_setx(err, -EBADMSG, "invalid tar layout");
			want[DIGEST_LEN] = 0;
			break;
		} else {
			return error_setx(err, -EBADMSG, "invalid tar layout");
		}
	}
	got = digest_final(&md);
	if (!streq(got, want))
		return error_setx(err, -EBADMSG, "the layer tar written again is %s, not %s", got,
				  want);
	if (ret_diff_id)
		*ret_diff_id = TAKE_PTR(got);
	return 0;
}

/* ---- layers of images ------------------------------------------------------------ */

static const char *config_diff_id(const struct image_info *info, size_t idx)
{
	json_object *rootfs, *ids, *d;

	if (!json_object_object_get_ex(info->config, "rootfs", &rootfs) ||
	    !json_object_object_get_ex(rootfs, "diff_ids", &ids) ||
	    !json_object_is_type(ids, json_type_array) || idx >= json_object_array_length(ids))
		return NULL;
	d = json_object_array_get_idx(ids, idx);
	return json_object_is_type(d, json_type_string) ? json_object_get_string(d) : NULL;
}

int image_layer_tar(const struct image_info *info, size_t idx, int out_fd, char **ret_diff_id,
		    struct error **err)
{
	_cleanup_close_ int dfd = -EBADF, sfd = -EBADF;
	_cleanup_free_ char *split = NULL, *d = NULL;
	const char *want;
	int r;

	if (idx >= info->n_layers)
		return error_setx(err, -EINVAL, "image %s has no layer %zu", info->id, idx);
	dfd = open(info->layers[idx], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return error_set(err, -errno, "open layer of %s", info->id);
	want = config_diff_id(info, idx);
	split = xasprintf("%s/../" TAR_SPLIT, info->layers[idx]);
	sfd = open(split, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd >= 0 && want) {
		_cleanup_error_ struct error *e = NULL;
		r = tarsplit_assemble(sfd, dfd, out_fd, &d, &e);
		if (r >= 0 && streq(d, want)) {
			*ret_diff_id = TAKE_PTR(d);
			return 0;
		}
		log_warn("image %s: layer %s cannot be written as the tar it came from (%s): "
			 "making a new one",
			 info->id, want, r < 0 && e ? e->msg : "another diff id");
		free(d);
		d = NULL;
	}
	if (ftruncate(out_fd, 0) < 0 || lseek(out_fd, 0, SEEK_SET) < 0)
		return error_set(err, -errno, "write layer tar");
	r = image_tar_layer(dfd, out_fd, ret_diff_id, err);
	if (r < 0)
		return r;
	return 0;
}
