/* SPDX-License-Identifier: Apache-2.0 */
/* berth images: GET /images/json, a row per repository:tag like docker's image formatter. */
#include "container-opts.h"

#define IMAGES_DEFAULT "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
#define IMAGES_DIGESTS                                                                             \
	"table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"

static json_object *images_header(void)
{
	json_object *h = json_object_new_object();
	static const char *const kv[][2] = {
	    {"ID", "IMAGE ID"},
	    {"Repository", "REPOSITORY"},
	    {"Tag", "TAG"},
	    {"Digest", "DIGEST"},
	    {"CreatedSince", "CREATED"},
	    {"CreatedAt", "CREATED AT"},
	    {"Size", "SIZE"},
	    {"Containers", "CONTAINERS"},
	    {"VirtualSize", "VIRTUAL SIZE"},
	    {"SharedSize", "SHARED SIZE"},
	    {"UniqueSize", "UNIQUE SIZE"},
	};
	for (size_t i = 0; i < ELEMENTSOF(kv); i++)
		json_add_str(h, kv[i][0], kv[i][1]);
	return h;
}

/* reference.FamiliarName: docker.io/library/x → x, docker.io/x/y → x/y */
char *image_familiar_name(const char *name)
{
	const char *s;
	if ((s = startswith(name, "docker.io/library/")) && !strchr(s, '/'))
		return xstrdup(s);
	if ((s = startswith(name, "docker.io/")))
		return xstrdup(s);
	return xstrdup(name);
}

/* Split "repo:tag" or "repo@digest" into its familiar repository and the rest. */
static void split_ref(const char *ref, char sep, char **repo, char **rest)
{
	const char *slash = strrchr(ref, '/');
	const char *p = sep == '@' ? strchr(ref, '@') : strrchr(ref, ':');
	if (!p || (sep == ':' && slash && p < slash)) {
		*repo = image_familiar_name(ref);
		*rest = NULL;
		return;
	}
	_cleanup_free_ char *n = xstrndup(ref, (size_t)(p - ref));
	_cleanup_free_ char *name = NULL, *tag = NULL;
	/* normalise first so that "busybox" and "docker.io/library/busybox" agree */
	if (image_ref_split(n, &name, &tag) < 0)
		name = xstrdup(n);
	*repo = image_familiar_name(name);
	*rest = xstrdup(p + 1);
}

static json_object *image_row(json_object *img, const char *repo, const char *tag,
			      const char *digest, bool trunc, int64_t now)
{
	json_object *row = json_object_new_object();
	const char *id = jstr(img, "Id");
	_cleanup_free_ char *tid = format_truncate_id(id);
	json_add_str(row, "ID", trunc ? tid : id);
	json_add_str(row, "Repository", repo);
	json_add_str(row, "Tag", tag);
	json_add_str(row, "Digest", digest);
	int64_t created = jint(img, "Created");
	_cleanup_free_ char *d = format_human_duration(now - created * 1000000000LL);
	_cleanup_free_ char *since = xasprintf("%s ago", d);
	json_add_str(row, "CreatedSince", since);
	_cleanup_free_ char *at = format_go_time(created);
	json_add_str(row, "CreatedAt", at);
	_cleanup_free_ char *size = format_human_size((double)jint(img, "Size"), 3);
	json_add_str(row, "Size", size);
	_cleanup_free_ char *vsize = format_human_size((double)jint(img, "Size"), 4);
	json_add_str(row, "VirtualSize", vsize); /* docker: HumanSize, 4 digits */
	int64_t shared = jget(img, "SharedSize") ? jint(img, "SharedSize") : -1;
	_cleanup_free_ char *ss =
	    shared < 0 ? xstrdup("N/A") : format_human_size((double)shared, 3);
	json_add_str(row, "SharedSize", ss);
	_cleanup_free_ char *us = shared < 0
				      ? xstrdup("N/A")
				      : format_human_size((double)(jint(img, "Size") - shared), 3);
	json_add_str(row, "UniqueSize", us);
	int64_t cont = jget(img, "Containers") ? jint(img, "Containers") : -1;
	_cleanup_free_ char *cs = cont < 0 ? xstrdup("N/A") : xasprintf("%" PRId64, cont);
	json_add_str(row, "Containers", cs);
	return row;
}

static int add_rows(struct formatter *f, json_object *img, bool digests, bool trunc, int64_t now,
		    struct error **err)
{
	json_object *tags = jget(img, "RepoTags"), *dg = jget(img, "RepoDigests");
	size_t nt = json_object_is_type(tags, json_type_array) ? json_object_array_length(tags) : 0;
	size_t nd = json_object_is_type(dg, json_type_array) ? json_object_array_length(dg) : 0;
	bool dangling =
	    (nt == 0 && nd == 0) ||
	    (nt == 1 && nd == 1 &&
	     streq(json_object_get_string(json_object_array_get_idx(tags, 0)), "<none>:<none>") &&
	     streq(json_object_get_string(json_object_array_get_idx(dg, 0)), "<none>@<none>"));
	int r;

	if (dangling) {
		_cleanup_json_ json_object *row =
		    image_row(img, "<none>", "<none>", "<none>", trunc, now);
		return formatter_row(f, row, err);
	}
	/* repositories in first-seen order, each with its tags and digests */
	_cleanup_strv_free_ char **repos = NULL;
	_cleanup_strv_free_ char **tag_of = NULL;    /* repo\0tag pairs flattened */
	_cleanup_strv_free_ char **digest_of = NULL; /* repo, digest pairs */
	for (size_t i = 0; i < nt; i++) {
		_cleanup_free_ char *repo = NULL, *tag = NULL;
		split_ref(json_object_get_string(json_object_array_get_idx(tags, i)), ':', &repo,
			  &tag);
		if (!tag)
			continue;
		if (!strv_contains(repos, repo))
			repos = strv_append(repos, repo);
		tag_of = strv_append(tag_of, repo);
		tag_of = strv_append(tag_of, tag);
	}
	for (size_t i = 0; i < nd; i++) {
		_cleanup_free_ char *repo = NULL, *d = NULL;
		split_ref(json_object_get_string(json_object_array_get_idx(dg, i)), '@', &repo, &d);
		if (!d)
			continue;
		digest_of = strv_append(digest_of, repo);
		digest_of = strv_append(digest_of, d);
	}
	for (char **repo = repos; repo && *repo; repo++) {
		for (char **t = tag_of; t && *t; t += 2) {
			if (!streq(t[0], *repo))
				continue;
			bool any = false;
			if (digests)
				for (char **d = digest_of; d && *d; d += 2) {
					if (!streq(d[0], *repo))
						continue;
					_cleanup_json_ json_object *row =
					    image_row(img, *repo, t[1], d[1], trunc, now);
					r = formatter_row(f, row, err);
					if (r < 0)
						return r;
					any = true;
				}
			if (!any) {
				_cleanup_json_ json_object *row =
				    image_row(img, *repo, t[1], "<none>", trunc, now);
				r = formatter_row(f, row, err);
				if (r < 0)
					return r;
			}
		}
	}
	/* digest-only repositories */
	_cleanup_strv_free_ char **done = NULL;
	for (char **d = digest_of; d && *d; d += 2) {
		if (strv_contains(repos, d[0]))
			continue;
		if (!digests && strv_contains(done, d[0]))
			continue;
		done = strv_append(done, d[0]);
		_cleanup_json_ json_object *row =
		    image_row(img, d[0], "<none>", digests ? d[1] : "", trunc, now);
		r = formatter_row(f, row, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int cmd_images(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL, **filters = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *list = NULL, *hdr = images_header();
	_cleanup_free_ char *format = NULL, *fjson = NULL, *path = NULL;
	_cleanup_(formatter_freep) struct formatter *f = NULL;
	bool all = false, quiet = false, digests = false, no_trunc = false, tree = false;
	struct query q = {0};
	const struct flag flags[] = {
	    {"all", 'a', FLAG_BOOL, &all, "Show all images (default hides intermediate images)"},
	    {"digests", 0, FLAG_BOOL, &digests, "Show digests"},
	    {"filter", 'f', FLAG_LIST, &filters, "Filter output based on conditions provided",
	     "filter"},
	    {"format", 0, FLAG_STRING, &format, "Format output using a custom template"},
	    {"no-trunc", 0, FLAG_BOOL, &no_trunc, "Don't truncate output"},
	    {"quiet", 'q', FLAG_BOOL, &quiet, "Only show image IDs"},
	    {"tree", 0, FLAG_BOOL, &tree, NULL},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_max(cli, args, 1));
	if (args[0]) {
		_cleanup_free_ char *ref = xasprintf("reference=%s", args[0]);
		filters = strv_append(filters, ref);
	}
	if (filters_json(filters, &fjson, &err) < 0)
		return cli_fail(cli, err);
	if (all)
		query_add(&q, "all", "1");
	if (fjson)
		query_add(&q, "filters", fjson);
	path = query_finish(&q, "/images/json");
	if (cli_call(cli, "GET", path, NULL, &list, NULL, &err) < 0)
		return cli_fail(cli, err);
	const char *fmt = quiet ? "{{.ID}}" : format;
	if (formatter_new(fmt, digests ? IMAGES_DIGESTS : IMAGES_DEFAULT, hdr, TEMPLATE_STRICT, &f,
			  &err) < 0)
		return cli_fail(cli, err);
	int64_t now = now_ns();
	for (size_t i = 0; list && i < json_object_array_length(list); i++)
		if (add_rows(f, json_object_array_get_idx(list, i), digests, !no_trunc, now, &err) <
		    0)
			return cli_fail(cli, err);
	formatter_finish(f, stdout);
	return 0;
}
