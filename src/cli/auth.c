/* SPDX-License-Identifier: Apache-2.0 */
/* Registry credentials of the client: <config dir>/config.json "auths" as docker keeps them
 * ({"auths": {"host": {"auth": base64(user:pass)}}}), and the X-Registry-Auth header. */
#include <sys/stat.h>

#include "container-opts.h"

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *cli_base64(const void *data, size_t n, bool url)
{
	const unsigned char *p = data;
	const char *tbl = url ? b64_url : b64_std;
	char *out = xmalloc(4 * ((n + 2) / 3) + 1), *o = out;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*o++ = tbl[(v >> 18) & 63];
		*o++ = tbl[(v >> 12) & 63];
		*o++ = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? tbl[v & 63] : '=';
	}
	*o = 0;
	return out;
}

static int b64_val(char c)
{
	const char *p;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	p = strchr(b64_std, c);
	return c && p ? (int)(p - b64_std) : -1;
}

/* Standard or URL alphabet, padding optional. NULL when malformed. */
static char *b64_decode(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(n + 1), *o = out;
	unsigned v = 0;
	int bits = 0;

	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int d = b64_val(s[i]);
		if (d < 0) {
			free(out);
			return NULL;
		}
		v = (v << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (char)((v >> bits) & 0xff);
		}
	}
	*o = 0;
	return out;
}

/* docker's registry.ConvertToHostname: strip the scheme and any path. */
static char *to_hostname(const char *s)
{
	if (startswith(s, "https://"))
		s += 8;
	else if (startswith(s, "http://"))
		s += 7;
	const char *slash = strchr(s, '/');
	return slash ? xstrndup(s, (size_t)(slash - s)) : xstrdup(s);
}

char *cli_registry_key(const char *server)
{
	_cleanup_free_ char *h = NULL;
	if (isempty(server))
		return xstrdup(CLI_DOCKER_IO_KEY);
	h = to_hostname(server);
	if (streq(h, "docker.io") || streq(h, "index.docker.io") ||
	    streq(h, "registry-1.docker.io"))
		return xstrdup(CLI_DOCKER_IO_KEY);
	return xstrdup(server);
}

char *cli_registry_of_ref(const char *ref)
{
	_cleanup_free_ char *name = NULL, *tag = NULL;
	if (image_ref_split(ref, &name, &tag) < 0)
		return xstrdup(CLI_DOCKER_IO_KEY);
	const char *slash = strchr(name, '/');
	_cleanup_free_ char *domain = slash ? xstrndup(name, (size_t)(slash - name)) : NULL;
	return cli_registry_key(domain);
}

static char *config_path(struct cli *cli)
{
	return xasprintf("%s/config.json", cli->config_dir);
}

int cli_config_load(struct cli *cli, json_object **ret, struct error **err)
{
	_cleanup_free_ char *path = config_path(cli);
	json_object *doc = NULL;
	int r;

	if (access(path, F_OK) < 0) {
		*ret = json_object_new_object();
		return 0;
	}
	r = json_parse_file(path, 16 << 20, &doc, err);
	if (r < 0)
		return r;
	if (!json_object_is_type(doc, json_type_object)) {
		json_object_put(doc);
		return error_setx(err, -EINVAL, "%s: not a JSON object", path);
	}
	*ret = doc;
	return 0;
}

int cli_config_save(struct cli *cli, json_object *doc, struct error **err)
{
	_cleanup_free_ char *path = config_path(cli);
	const char *s =
	    json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						    JSON_C_TO_STRING_NOSLASHESCAPE);
	int r = mkdir_p(cli->config_dir, 0700);
	if (r < 0)
		return error_set(err, r, "create %s", cli->config_dir);
	_cleanup_free_ char *text = xasprintf("%s\n", s);
	r = write_file_atomic(path, text, strlen(text), 0600);
	if (r < 0)
		return error_set(err, r, "write %s", path);
	return 0;
}

int cli_auth_get(struct cli *cli, const char *key, char **ret_user, char **ret_pass)
{
	_cleanup_json_ json_object *doc = NULL;
	_cleanup_free_ char *want = to_hostname(key);
	json_object *auths, *ent = NULL;

	*ret_user = *ret_pass = NULL;
	if (cli_config_load(cli, &doc, NULL) < 0)
		return 0;
	auths = jget(doc, "auths");
	if (!auths || !json_object_is_type(auths, json_type_object))
		return 0;
	if (!json_object_object_get_ex(auths, key, &ent)) {
		json_object_object_foreach(auths, k, v)
		{
			_cleanup_free_ char *h = to_hostname(k);
			if (streq(h, want) ||
			    (streq(key, CLI_DOCKER_IO_KEY) && (streq(h, "docker.io"))))
				ent = v;
		}
	}
	if (!ent || !json_object_is_type(ent, json_type_object))
		return 0;
	_cleanup_free_ char *plain = b64_decode(jstr(ent, "auth"));
	char *colon = plain ? strchr(plain, ':') : NULL;
	if (!colon)
		return 0;
	*ret_user = xstrndup(plain, (size_t)(colon - plain));
	*ret_pass = xstrdup(colon + 1);
	return 1;
}

char *cli_auth_header(struct cli *cli, const char *key)
{
	_cleanup_free_ char *user = NULL, *pass = NULL;
	if (cli_auth_get(cli, key, &user, &pass) <= 0)
		return xstrdup("X-Registry-Auth: e30=\r\n");
	_cleanup_json_ json_object *o = json_object_new_object();
	json_add_str(o, "username", user);
	json_add_str(o, "password", pass);
	json_add_str(o, "serveraddress", key);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	_cleanup_free_ char *b = cli_base64(s, strlen(s), true);
	explicit_bzero(pass, strlen(pass));
	return xasprintf("X-Registry-Auth: %s\r\n", b);
}
