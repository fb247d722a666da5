/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Manifests and indexes (Docker v2 schema 2, manifest lists, OCI), parsed by field tables and
 * then checked: one kind per document (CVE-2021-41190), its mediaType in agreement with the
 * answer's Content-Type, every digest valid before it goes into a URL (CVE-2024-3727), sizes
 * bounded.
 */
#include <inttypes.h>

#include "internal.h"

struct raw_platform {
	char *os, *arch, *variant;
};

struct raw_desc {
	char *media_type, *digest;
	struct opt_i64 size;
	struct raw_platform platform;
};

struct raw_manifest {
	int64_t schema_version;
	char *media_type;
	struct raw_desc config;
	struct raw_desc *layers;
	size_t n_layers;
	struct raw_desc *manifests;
	size_t n_manifests;
};

static const struct json_field platform_fields[] = {
    {"os", JF_STRING, offsetof(struct raw_platform, os)},
    {"architecture", JF_STRING, offsetof(struct raw_platform, arch)},
    {"variant", JF_STRING, offsetof(struct raw_platform, variant)},
    JSON_FIELD_END,
};

static int parse_platform(json_object *o, void *dst, const char *path, struct error **err)
{
	return json_parse_fields(o, platform_fields, dst, path, err);
}

static const struct json_field desc_fields[] = {
    {"mediaType", JF_STRING, offsetof(struct raw_desc, media_type)},
    {"digest", JF_STRING, offsetof(struct raw_desc, digest), true},
    {"size", JF_OPT_I64, offsetof(struct raw_desc, size), true},
    {"platform", JF_OBJECT, offsetof(struct raw_desc, platform), false, parse_platform},
    JSON_FIELD_END,
};

static int parse_desc(json_object *o, void *dst, const char *path, struct error **err)
{
	if (!json_object_is_type(o, json_type_object))
		return error_setx(err, -EINVAL, "invalid value for '%s': must be an object", path);
	return json_parse_fields(o, desc_fields, dst, path, err);
}

static const struct json_field manifest_fields[] = {
    {"schemaVersion", JF_INT64, offsetof(struct raw_manifest, schema_version), true},
    {"mediaType", JF_STRING, offsetof(struct raw_manifest, media_type)},
    {"config", JF_OBJECT, offsetof(struct raw_manifest, config), false, parse_desc},
    {"layers", JF_ARRAY, offsetof(struct raw_manifest, layers), false, parse_desc,
     sizeof(struct raw_desc), offsetof(struct raw_manifest, n_layers)},
    {"manifests", JF_ARRAY, offsetof(struct raw_manifest, manifests), false, parse_desc,
     sizeof(struct raw_desc), offsetof(struct raw_manifest, n_manifests)},
    JSON_FIELD_END,
};

static void raw_desc_release(struct raw_desc *d)
{
	free(d->media_type);
	free(d->digest);
	free(d->platform.os);
	free(d->platform.arch);
	free(d->platform.variant);
}

static void raw_manifest_release(struct raw_manifest *m)
{
	free(m->media_type);
	raw_desc_release(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		raw_desc_release(&m->layers[i]);
	free(m->layers);
	for (size_t i = 0; i < m->n_manifests; i++)
		raw_desc_release(&m->manifests[i]);
	free(m->manifests);
}

static bool is_manifest_type(const char *t)
{
	return t && (streq(t, MT_DOCKER_MANIFEST) || streq(t, MT_OCI_MANIFEST));
}

static bool is_index_type(const char *t)
{
	return t && (streq(t, MT_DOCKER_LIST) || streq(t, MT_OCI_INDEX));
}

static bool is_layer_type(const char *t)
{
	static const char *const types[] = {
	    MT_DOCKER_LAYER,	     MT_DOCKER_FOREIGN,	      MT_OCI_LAYER,
	    MT_OCI_LAYER_GZIP,	     MT_OCI_LAYER_ZSTD,	      MT_OCI_ND_LAYER,
	    MT_OCI_ND_LAYER "+gzip", MT_OCI_ND_LAYER "+zstd",
	};
	for (size_t i = 0; t && i < ELEMENTSOF(types); i++)
		if (streq(t, types[i]))
			return true;
	return false;
}

static int take_desc(struct raw_desc *r, struct reg_desc *d, const char *what, uint64_t max,
		     struct error **err)
{
	if (!image_digest_valid(r->digest))
		return error_setx(err, -EINVAL, "invalid manifest: %s: invalid digest \"%s\"", what,
				  r->digest ? r->digest : "");
	if (!r->size.set || r->size.v < 0 || (max && (uint64_t)r->size.v > max))
		return error_setx(err, -EINVAL, "invalid manifest: %s: invalid size", what);
	d->media_type = TAKE_PTR(r->media_type);
	d->digest = TAKE_PTR(r->digest);
	d->size = r->size.v;
	d->os = TAKE_PTR(r->platform.os);
	d->arch = TAKE_PTR(r->platform.arch);
	d->variant = TAKE_PTR(r->platform.variant);
	return 0;
}

int reg_manifest_parse(const char *buf, size_t len, const char *content_type,
		       struct reg_manifest *ret, struct error **err)
{
	_cleanup_json_ json_object *o = NULL;
	_cleanup_free_ char *ct = NULL;
	struct raw_manifest raw = {0};
	struct reg_manifest m = {0};
	bool has_layers, has_manifests, has_config;
	const char *mt;
	int r;

	*ret = (struct reg_manifest){0};
	if (len > REG_MANIFEST_MAX)
		return error_setx(err, -EFBIG, "manifest is too large (%zu bytes)", len);
	r = json_parse_buffer(buf, len, &o, err);
	if (r < 0)
		return error_prefix(err, r, "invalid manifest");
	if (!json_object_is_type(o, json_type_object))
		return error_setx(err, -EINVAL, "invalid manifest: not an object");
	has_layers = json_object_object_get_ex(o, "layers", NULL);
	has_manifests = json_object_object_get_ex(o, "manifests", NULL);
	has_config = json_object_object_get_ex(o, "config", NULL);
	if (has_manifests && (has_layers || has_config))
		return error_setx(err, -EINVAL,
				  "invalid manifest: both \"manifests\" and \"layers\" or "
				  "\"config\"");
	r = json_parse_fields(o, manifest_fields, &raw, "", err);
	if (r < 0) {
		raw_manifest_release(&raw);
		return error_prefix(err, r, "invalid manifest");
	}
	if (raw.schema_version != 2) {
		raw_manifest_release(&raw);
		return error_setx(err, -EINVAL,
				  "unsupported manifest format: schemaVersion %" PRId64,
				  raw.schema_version);
	}
	if (content_type) {
		ct = xstrdup(content_type);
		ct[strcspn(ct, "; \t")] = 0;
	}
	mt = raw.media_type;
	if (mt && (is_manifest_type(ct) || is_index_type(ct)) && !streq(mt, ct)) {
		r = error_setx(err, -EINVAL,
			       "invalid manifest: mediaType \"%s\" does not match Content-Type "
			       "\"%s\"",
			       mt, ct);
		goto out;
	}
	if (!mt)
		mt = ct;
	if (has_manifests) {
		if (mt && !is_index_type(mt) && (is_manifest_type(mt) || is_index_type(ct))) {
			r = error_setx(err, -EINVAL, "invalid manifest: an index of type \"%s\"",
				       mt);
			goto out;
		}
		m.kind = REG_MANIFEST_INDEX;
		m.media_type = xstrdup(is_index_type(mt) ? mt : MT_OCI_INDEX);
		if (raw.n_manifests > REG_MAX_LAYERS) {
			r = error_setx(err, -EINVAL, "invalid manifest: too many manifests");
			goto out;
		}
		m.descs = xnew0(struct reg_desc, raw.n_manifests ? raw.n_manifests : 1);
		for (size_t i = 0; i < raw.n_manifests; i++, m.n_descs++) {
			r = take_desc(&raw.manifests[i], &m.descs[i], "manifests", REG_MANIFEST_MAX,
				      err);
			if (r < 0)
				goto out;
		}
	} else {
		if (mt && !is_manifest_type(mt)) {
			r = error_setx(err, -EINVAL, "unsupported manifest media type \"%s\"", mt);
			goto out;
		}
		if (!has_config) {
			r = error_setx(err, -EINVAL, "invalid manifest: no config");
			goto out;
		}
		m.kind = REG_MANIFEST_IMAGE;
		m.media_type = xstrdup(mt ? mt : MT_OCI_MANIFEST);
		r = take_desc(&raw.config, &m.config, "config", REG_CONFIG_MAX, err);
		if (r < 0)
			goto out;
		if (m.config.media_type && !streq(m.config.media_type, MT_DOCKER_CONFIG) &&
		    !streq(m.config.media_type, MT_OCI_CONFIG)) {
			r = error_setx(err, -EINVAL, "unsupported image config media type \"%s\"",
				       m.config.media_type);
			goto out;
		}
		if (raw.n_layers > REG_MAX_LAYERS) {
			r = error_setx(err, -EINVAL, "invalid manifest: too many layers");
			goto out;
		}
		m.descs = xnew0(struct reg_desc, raw.n_layers ? raw.n_layers : 1);
		for (size_t i = 0; i < raw.n_layers; i++, m.n_descs++) {
			r = take_desc(&raw.layers[i], &m.descs[i], "layers", 0, err);
			if (r < 0)
				goto out;
			if (!is_layer_type(m.descs[i].media_type)) {
				r = error_setx(err, -EINVAL, "unsupported layer media type \"%s\"",
					       m.descs[i].media_type ? m.descs[i].media_type : "");
				m.n_descs++;
				goto out;
			}
		}
	}
	*ret = m;
	m = (struct reg_manifest){0};
	r = 0;
out:
	raw_manifest_release(&raw);
	reg_manifest_release(&m);
	return r;
}

static void desc_release(struct reg_desc *d)
{
	free(d->media_type);
	free(d->digest);
	free(d->os);
	free(d->arch);
	free(d->variant);
}

void reg_manifest_release(struct reg_manifest *m)
{
	free(m->media_type);
	desc_release(&m->config);
	for (size_t i = 0; i < m->n_descs; i++)
		desc_release(&m->descs[i]);
	free(m->descs);
	*m = (struct reg_manifest){0};
}

static bool variant_ok(const struct reg_desc *d, const struct reg_platform *p)
{
	if (!p->variant)
		return true;
	if (streq_ptr(d->variant, p->variant))
		return true;
	/* arm64 without a variant is v8 */
	return streq(p->arch, "arm64") && streq(p->variant, "v8") && !d->variant;
}

const struct reg_desc *reg_index_pick(const struct reg_manifest *idx, const struct reg_platform *p)
{
	const struct reg_desc *any = NULL;

	for (size_t i = 0; i < idx->n_descs; i++) {
		const struct reg_desc *d = &idx->descs[i];
		if (!d->os && !d->arch) {
			if (idx->n_descs == 1)
				return d;
			continue;
		}
		if (!streq_ptr(d->os, p->os) || !streq_ptr(d->arch, p->arch))
			continue;
		if (variant_ok(d, p))
			return d;
		if (!any && !p->variant)
			any = d;
	}
	return any;
}
