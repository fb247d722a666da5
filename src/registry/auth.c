/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WWW-Authenticate (RFC 7235): challenge = scheme [ 1*SP auth-param *( "," auth-param ) ],
 * several challenges separated by commas. A token followed by "=" is a parameter of the
 * current challenge; a token that is not starts the next challenge.
 */
#include <ctype.h>

#include "basic/base64.h"
#include "internal.h"

#define CHALLENGE_MAX (16u << 10)

static bool is_tchar(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

static char *token(const char **p)
{
	const char *s = *p;
	while (is_tchar(**p))
		(*p)++;
	return *p > s ? xstrndup(s, *p - s) : NULL;
}

/* quoted-string with backslash escapes; *p is on the opening quote */
static char *quoted(const char **p)
{
	size_t n = 0, cap = 64;
	char *out = xmalloc(cap);

	(*p)++;
	for (;;) {
		char c = **p;
		if (!c) {
			free(out);
			return NULL;
		}
		(*p)++;
		if (c == '"')
			break;
		if (c == '\\') {
			c = **p;
			if (!c) {
				free(out);
				return NULL;
			}
			(*p)++;
		}
		if (n + 2 > cap)
			out = xrealloc(out, cap *= 2);
		out[n++] = c;
	}
	out[n] = 0;
	return out;
}

struct parsed {
	enum reg_auth_scheme scheme;
	char *realm, *service, *scope, *error;
};

static void parsed_release(struct parsed *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	*c = (struct parsed){0};
}

static void set_param(struct parsed *c, const char *k, char *v)
{
	char **dst = NULL;

	if (!strcasecmp(k, "realm"))
		dst = &c->realm;
	else if (!strcasecmp(k, "service"))
		dst = &c->service;
	else if (!strcasecmp(k, "scope"))
		dst = &c->scope;
	else if (!strcasecmp(k, "error"))
		dst = &c->error;
	if (dst && !*dst) {
		*dst = v;
		return;
	}
	free(v);
}

int reg_challenge_parse(const char *header, struct reg_challenge *ret)
{
	struct parsed cur = {0}, basic = {0}, bearer = {0};
	bool have_basic = false, have_bearer = false, in = false;
	const char *p = header;
	int r = 0;

	*ret = (struct reg_challenge){0};
	if (!header)
		return -ENOENT;
	if (strlen(header) > CHALLENGE_MAX)
		return -E2BIG;
	for (int guard = 0; guard < 4096; guard++) {
		_cleanup_free_ char *tok = NULL;

		skip_ws(&p);
		while (*p == ',') {
			p++;
			skip_ws(&p);
		}
		if (!*p)
			break;
		tok = token(&p);
		if (!tok) {
			r = -EINVAL;
			break;
		}
		skip_ws(&p);
		if (*p == '=' && in) {
			/* a parameter; token68 ("abc==") only right after the scheme */
			char *v;
			p++;
			skip_ws(&p);
			if (*p == '"') {
				v = quoted(&p);
			} else {
				v = token(&p);
				if (!v && (*p == '=' || *p == ',' || !*p)) {
					/* token68 ("abc==") of a scheme we do not use */
					while (*p == '=')
						p++;
					v = xstrdup("");
				}
			}
			if (!v) {
				r = -EINVAL;
				break;
			}
			set_param(&cur, tok, v);
			skip_ws(&p);
			if (*p && *p != ',') {
				r = -EINVAL;
				break;
			}
			continue;
		}
		/* a new challenge: finish the current one */
		if (in) {
			if (cur.scheme == REG_AUTH_BEARER && !have_bearer)
				bearer = cur, have_bearer = true;
			else if (cur.scheme == REG_AUTH_BASIC && !have_basic)
				basic = cur, have_basic = true;
			else
				parsed_release(&cur);
			cur = (struct parsed){0};
		}
		in = true;
		cur.scheme = !strcasecmp(tok, "bearer")	 ? REG_AUTH_BEARER
			     : !strcasecmp(tok, "basic") ? REG_AUTH_BASIC
							 : REG_AUTH_NONE;
		/* token68 credentials of another scheme: skip "abc==" */
		if (*p == '=') {
			while (*p == '=')
				p++;
			skip_ws(&p);
		}
	}
	if (in && r == 0) {
		if (cur.scheme == REG_AUTH_BEARER && !have_bearer)
			bearer = cur, have_bearer = true;
		else if (cur.scheme == REG_AUTH_BASIC && !have_basic)
			basic = cur, have_basic = true;
		else
			parsed_release(&cur);
	} else {
		parsed_release(&cur);
	}
	if (r == 0 && !have_bearer && !have_basic)
		r = -ENOENT;
	if (r == 0 && have_bearer && isempty(bearer.realm))
		r = -EINVAL; /* a token flow needs somewhere to get the token */
	if (r < 0) {
		parsed_release(&basic);
		parsed_release(&bearer);
		return r;
	}
	{
		struct parsed *w = have_bearer ? &bearer : &basic;
		ret->scheme = w->scheme;
		ret->realm = w->realm;
		ret->service = w->service;
		ret->scope = w->scope;
		ret->error = w->error;
		*w = (struct parsed){0};
	}
	parsed_release(&basic);
	parsed_release(&bearer);
	return 0;
}

void reg_challenge_release(struct reg_challenge *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	*c = (struct reg_challenge){0};
}

char *reg_basic_credentials(const char *user, const char *pass)
{
	_cleanup_free_ char *plain = xasprintf("%s:%s", user ? user : "", pass ? pass : "");
	size_t n = strlen(plain);
	char *out = xmalloc(6 + BASE64_LEN(n) + 1);

	memcpy(out, "Basic ", 6);
	base64_encode(out + 6, plain, n);
	explicit_bzero(plain, n);
	return out;
}
