/* SPDX-License-Identifier: Apache-2.0 */
/* Registry credentials of the client: <config dir>/config.json "auths" as docker keeps them
 * ({"auths": {"host": {"auth": base64(user:pass)}}}), and the X-Registry-Auth header. */
#include <sys/stat.h>

#include "basic/base64.h"
#include "container-opts.h"

/* base64 of data (basic/base64.h), in the URL alphabet when url (padding kept, as Go's
 * base64.URLEncoding has it for X-Registry-Auth). */
char *cli_base64(const void *data, size_t n, bool url)
{
	char *out = xmalloc(BASE64_LEN(n) + 1);

	base64_encode(out, data, n);
	for (char *p = out; url && *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return out;
}

/* Standard or URL alphabet, padding optional. NULL when malformed. */
static char *b64_decode(const char *s)
{
	char *out = NULL;
	size_t len;

	return s && base64_decode(s, strlen(s), &out, &len) >= 0 ? out : NULL;
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
