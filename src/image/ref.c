/* SPDX-License-Identifier: Apache-2.0 */
/* Image references, normalised as Docker's distribution/reference does. */
#include <ctype.h>

#include "internal.h"

#define NAME_MAX_TOTAL 255

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* path-component := [a-z0-9]+ ( ( [_.] | __ | [-]+ ) [a-z0-9]+ )* */
static bool path_component_valid(const char *p, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_lower_alnum(p[0]) || !is_lower_alnum(p[n - 1]))
		return false;
	while (i < n) {
		if (is_lower_alnum(p[i])) {
			i++;
			continue;
		}
		if (p[i] == '.' || (p[i] == '_' && (i + 1 >= n || p[i + 1] != '_'))) {
			i++;
		} else if (p[i] == '_') {
			i += 2;
		} else if (p[i] == '-') {
			while (i < n && p[i] == '-')
				i++;
		} else {
			return false;
		}
		if (i >= n || !is_lower_alnum(p[i]))
			return false;
	}
	return true;
}

/* domain := component ( '.' component )* [ ':' port ], component [a-zA-Z0-9]([a-zA-Z0-9-]*
 * [a-zA-Z0-9])?; or an IPv6 literal in brackets. */
static bool domain_valid(const char *p, size_t n)
{
	size_t i = 0, start;

	if (n == 0)
		return false;
	if (p[0] == '[') {
		while (i < n && p[i] != ']')
			i++;
		if (i >= n || i < 3)
			return false;
		for (size_t k = 1; k < i; k++)
			if (!isxdigit((unsigned char)p[k]) && p[k] != ':')
				return false;
		i++;
	} else {
		for (;;) {
			start = i;
			while (i < n && (is_alnum(p[i]) || p[i] == '-'))
				i++;
			if (i == start || p[start] == '-' || p[i - 1] == '-')
				return false;
			if (i < n && p[i] == '.') {
				i++;
				continue;
			}
			break;
		}
	}
	if (i == n)
		return true;
	if (p[i] != ':' || i + 1 == n)
		return false;
	for (i++; i < n; i++)
		if (!isdigit((unsigned char)p[i]))
			return false;
	return true;
}

/* tag := [\w][\w.-]{0,127} */
static bool tag_valid(const char *t)
{
	size_t n = strlen(t), i;

	if (n == 0 || n > 128 || !(is_alnum(t[0]) || t[0] == '_'))
		return false;
	for (i = 1; i < n; i++)
		if (!(is_alnum(t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
			return false;
	return true;
}

static int bad_ref(struct error **err)
{
	return error_setx(err, -EINVAL, "invalid reference format");
}

int ref_normalize(const char *in, char **ret, struct error **err)
{
	_cleanup_free_ char *s = NULL, *name = NULL;
	const char *tag = NULL, *digest = NULL, *remote, *slash;
	char *at, *colon, *last_slash;
	_cleanup_free_ char *domain = NULL;
	size_t i;

	if (isempty(in) || strlen(in) > 4096)
		return bad_ref(err);
	if (strlen(in) == 64 && hex64_valid(in))
		return error_setx(
		    err, -EINVAL,
		    "invalid repository name (%s), cannot specify 64-byte hexadecimal "
		    "strings",
		    in);
	s = xstrdup(in);
	at = strchr(s, '@');
	if (at) {
		*at = 0;
		digest = at + 1;
		if (!digest_valid(digest))
			return bad_ref(err);
	}
	last_slash = strrchr(s, '/');
	colon = strrchr(last_slash ? last_slash : s, ':');
	if (colon) {
		*colon = 0;
		tag = colon + 1;
		if (!tag_valid(tag))
			return bad_ref(err);
	}

	/* Split the domain off as Docker's splitDockerDomain does. */
	slash = strchr(s, '/');
	if (slash && (memchr(s, '.', slash - s) || memchr(s, ':', slash - s) ||
		      (slash - s == 9 && strncmp(s, "localhost", 9) == 0) || ({
			      bool upper = false;
			      for (const char *p = s; p < slash; p++)
				      upper = upper || (*p >= 'A' && *p <= 'Z');
			      upper;
		      }))) {
		domain = xstrndup(s, slash - s);
		remote = slash + 1;
		if (streq(domain, "index.docker.io")) {
			free(domain);
			domain = xstrdup("docker.io");
		}
	} else {
		domain = xstrdup("docker.io");
		remote = s;
	}
	if (!domain_valid(domain, strlen(domain)))
		return bad_ref(err);
	for (i = 0; remote[i]; i++)
		if (remote[i] >= 'A' && remote[i] <= 'Z')
			return error_setx(err, -EINVAL,
					  "invalid reference format: repository name (%s) must be "
					  "lowercase",
					  remote);
	if (streq(domain, "docker.io") && !strchr(remote, '/'))
		name = xasprintf("%s/library/%s", domain, remote);
	else
		name = xasprintf("%s/%s", domain, remote);

	/* Every path component of the remote name must be valid. */
	for (const char *p = remote;;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (!path_component_valid(p, n))
			return bad_ref(err);
		if (!e)
			break;
		p = e + 1;
	}
	if (strlen(name) > NAME_MAX_TOTAL)
		return error_setx(err, -EINVAL,
				  "invalid reference format: repository name must "
				  "not be more than 255 characters");

	if (digest)
		*ret = tag ? xasprintf("%s:%s@%s", name, tag, digest)
			   : xasprintf("%s@%s", name, digest);
	else
		*ret = xasprintf("%s:%s", name, tag ? tag : "latest");
	return 0;
}

int ref_split(const char *normalized, char **ret_name, char **ret_tag, char **ret_digest)
{
	_cleanup_free_ char *s = xstrdup(normalized);
	char *at = strchr(s, '@'), *slash, *colon;

	if (at)
		*at = 0;
	slash = strrchr(s, '/');
	colon = strrchr(slash ? slash : s, ':');
	if (colon)
		*colon = 0;
	if (ret_name)
		*ret_name = xstrdup(s);
	if (ret_tag)
		*ret_tag = colon ? xstrdup(colon + 1) : NULL;
	if (ret_digest)
		*ret_digest = at ? xstrdup(at + 1) : NULL;
	return 0;
}

char *ref_familiar(const char *normalized)
{
	const char *r = startswith(normalized, "docker.io/");
	const char *l;

	if (!r)
		return xstrdup(normalized);
	l = startswith(r, "library/");
	if (l) {
		/* library/x stays library/x/y when there are more components */
		const char *end = strpbrk(l, ":@");
		size_t n = end ? (size_t)(end - l) : strlen(l);
		if (!memchr(l, '/', n))
			return xstrdup(l);
	}
	return xstrdup(r);
}
