/* SPDX-License-Identifier: Apache-2.0 */
/* References, registry URLs, insecure hosts and platforms. */
#include <arpa/inet.h>
#include <ctype.h>

#include "internal.h"

int reg_ref_parse(const char *in, struct reg_ref *ret, struct error **err)
{
	_cleanup_free_ char *norm = NULL, *name = NULL, *tag = NULL, *digest = NULL;
	const char *slash;
	int r;

	*ret = (struct reg_ref){0};
	r = ref_normalize(in, &norm, err);
	if (r < 0)
		return r;
	ref_split(norm, &name, &tag, &digest);
	if (digest && !image_digest_valid(digest))
		return error_setx(err, -EINVAL, "invalid reference format");
	slash = strchr(name, '/');
	if (!slash)
		return error_setx(err, -EINVAL, "invalid reference format");
	ret->domain = xstrndup(name, slash - name);
	ret->repo = xstrdup(slash + 1);
	ret->normalized = TAKE_PTR(norm);
	ret->name = TAKE_PTR(name);
	/* a digest pins the content: a tag given with it is only a label, as in Docker */
	if (digest)
		ret->digest = TAKE_PTR(digest);
	else
		ret->tag = TAKE_PTR(tag);
	return 0;
}

void reg_ref_release(struct reg_ref *r)
{
	free(r->normalized);
	free(r->domain);
	free(r->repo);
	free(r->name);
	free(r->tag);
	free(r->digest);
	*r = (struct reg_ref){0};
}

const char *reg_domain_host(const char *domain)
{
	return streq(domain, "docker.io") ? "registry-1.docker.io" : domain;
}

char *reg_server_domain(const char *server)
{
	_cleanup_free_ char *s = NULL;
	const char *p;
	char *slash;

	if (isempty(server))
		return xstrdup("docker.io");
	p = server;
	if (startswith(p, "https://"))
		p += 8;
	else if (startswith(p, "http://"))
		p += 7;
	s = xstrdup(p);
	slash = strchr(s, '/');
	if (slash)
		*slash = 0;
	for (char *c = s; *c; c++)
		*c = tolower((unsigned char)*c);
	if (!*s || strchr(s, '@') || strpbrk(s, " \t\r\n?#"))
		return NULL;
	if (streq(s, "index.docker.io") || streq(s, "registry-1.docker.io") ||
	    streq(s, "registry.hub.docker.com"))
		return xstrdup("docker.io");
	return TAKE_PTR(s);
}

static bool tag_ok(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
			return false;
	return true;
}

char *reg_url(const char *base, const char *repo, const char *kind, const char *ref)
{
	if (!ref || (!image_digest_valid(ref) && !tag_ok(ref)))
		return NULL;
	return xasprintf("%s/v2/%s/%s/%s", base, repo, kind, ref);
}

static void curlu_freep(CURLU **h)
{
	if (*h)
		curl_url_cleanup(*h);
}

static char *url_part(CURLU *h, CURLUPart what, unsigned flags)
{
	char *v = NULL, *out;

	if (curl_url_get(h, what, &v, flags) != CURLUE_OK)
		return NULL;
	out = xstrdup(v);
	curl_free(v);
	return out;
}

char *reg_url_origin(const char *url)
{
	_cleanup_(curlu_freep) CURLU *h = curl_url();
	_cleanup_free_ char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;

	if (!h || !url || curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK)
		return NULL;
	/* userinfo in a URL would be sent as credentials: no such URL is used */
	user = url_part(h, CURLUPART_USER, 0);
	if (user)
		return NULL;
	scheme = url_part(h, CURLUPART_SCHEME, 0);
	host = url_part(h, CURLUPART_HOST, 0);
	port = url_part(h, CURLUPART_PORT, CURLU_DEFAULT_PORT);
	if (!scheme || !host || !port || (!streq(scheme, "http") && !streq(scheme, "https")))
		return NULL;
	for (char *c = host; *c; c++)
		*c = tolower((unsigned char)*c);
	return xasprintf("%s://%s:%s", scheme, host, port);
}

char *reg_url_resolve(const char *base, const char *location)
{
	_cleanup_(curlu_freep) CURLU *h = curl_url();
	_cleanup_free_ char *out = NULL, *origin = NULL;

	if (!h || !location || curl_url_set(h, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(h, CURLUPART_URL, location, 0) != CURLUE_OK)
		return NULL;
	out = url_part(h, CURLUPART_URL, 0);
	origin = out ? reg_url_origin(out) : NULL;
	return origin ? TAKE_PTR(out) : NULL;
}

char *reg_url_add_query(const char *url, const char *key, const char *value)
{
	_cleanup_(curlu_freep) CURLU *h = curl_url();
	_cleanup_free_ char *q = xasprintf("%s=%s", key, value);

	if (!h || curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_set(h, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
		return NULL;
	return url_part(h, CURLUPART_URL, 0);
}

/* host without its port; brackets of an IPv6 literal removed */
static char *host_only(const char *host)
{
	const char *c;

	if (host[0] == '[') {
		c = strchr(host, ']');
		return c ? xstrndup(host + 1, c - host - 1) : xstrdup(host);
	}
	c = strrchr(host, ':');
	return c ? xstrndup(host, c - host) : xstrdup(host);
}

static bool in_cidr(const char *ip, const char *cidr)
{
	_cleanup_free_ char *net = NULL;
	unsigned char a[16], b[16];
	const char *slash = strchr(cidr, '/');
	int bits, fam, len;

	if (!slash || safe_atoi(slash + 1, &bits) < 0)
		return false;
	net = xstrndup(cidr, slash - cidr);
	fam = strchr(net, ':') ? AF_INET6 : AF_INET;
	len = fam == AF_INET6 ? 16 : 4;
	if (bits < 0 || bits > len * 8 || inet_pton(fam, net, b) != 1 || inet_pton(fam, ip, a) != 1)
		return false;
	for (int i = 0; i < len && bits > 0; i++, bits -= 8) {
		unsigned char m = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));
		if ((a[i] & m) != (b[i] & m))
			return false;
	}
	return true;
}

bool reg_host_insecure(const struct registry_config *cfg, const char *host)
{
	_cleanup_free_ char *h = host_only(host);
	const char *ip = streq(h, "localhost") ? "127.0.0.1" : h;

	if (!cfg->no_default_insecure && (in_cidr(ip, "127.0.0.0/8") || in_cidr(ip, "::1/128")))
		return true;
	for (char **p = cfg->insecure_registries; p && *p; p++) {
		if (strcasecmp(*p, host) == 0 || strcasecmp(*p, h) == 0)
			return true;
		if (strchr(*p, '/') && in_cidr(ip, *p))
			return true;
	}
	return false;
}

static const char *host_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__arm__)
	return "arm";
#elif defined(__i386__)
	return "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	return "unknown";
#endif
}

int reg_platform_parse(const char *s, struct reg_platform *ret, struct error **err)
{
	_cleanup_free_ char *copy = NULL;
	char *parts[4] = {0}, *save = NULL, *t;
	size_t n = 0;

	*ret = (struct reg_platform){0};
	if (isempty(s)) {
		ret->os = xstrdup("linux");
		ret->arch = xstrdup(host_arch());
		return 0;
	}
	copy = xstrdup(s);
	for (char *c = copy; *c; c++)
		*c = tolower((unsigned char)*c);
	for (t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (n == 3)
			return error_setx(err, -EINVAL,
					  "\"%s\": unknown operating system or "
					  "architecture: invalid argument",
					  s);
		parts[n++] = t;
	}
	if (n < 2 || !*parts[0] || !*parts[1])
		return error_setx(err, -EINVAL,
				  "\"%s\": unknown operating system or architecture: invalid "
				  "argument",
				  s);
	ret->os = xstrdup(parts[0]);
	if (streq(parts[1], "x86_64") || streq(parts[1], "x86-64"))
		ret->arch = xstrdup("amd64");
	else if (streq(parts[1], "aarch64"))
		ret->arch = xstrdup("arm64");
	else
		ret->arch = xstrdup(parts[1]);
	ret->variant = n == 3 ? xstrdup(parts[2]) : NULL;
	return 0;
}

void reg_platform_release(struct reg_platform *p)
{
	free(p->os);
	free(p->arch);
	free(p->variant);
	*p = (struct reg_platform){0};
}
