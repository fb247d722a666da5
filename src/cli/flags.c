/* SPDX-License-Identifier: Apache-2.0 */
/* Flag parsing with pflag's (cobra's) rules and messages. */
#include <ctype.h>

#include "cli.h"

static const struct flag *find_long(const struct flag *flags, size_t n, const char *name,
				    size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
			return &flags[i];
	return NULL;
}

static const struct flag *find_short(const struct flag *flags, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (flags[i].short_name && flags[i].short_name == c)
			return &flags[i];
	return NULL;
}

static char *flag_title(const struct flag *f)
{
	if (f->short_name)
		return xasprintf("-%c, --%s", f->short_name, f->name);
	return xasprintf("--%s", f->name);
}

/* strconv's underscoreOK: each '_' sits between digits (a base prefix counts as one). */
static bool go_underscores_ok(const char *s)
{
	char saw = '^';
	bool hex = false;

	if (*s == '-' || *s == '+')
		s++;
	if (s[0] == '0' && s[1] && strchr("bBoOxX", s[1])) {
		hex = s[1] == 'x' || s[1] == 'X';
		saw = '0';
		s += 2;
	}
	for (; *s; s++) {
		if (isdigit((unsigned char)*s) || (hex && isxdigit((unsigned char)*s))) {
			saw = '0';
			continue;
		}
		if (*s == '_') {
			if (saw != '0')
				return false;
			saw = '_';
			continue;
		}
		if (saw == '_')
			return false;
		saw = '!';
	}
	return saw != '_';
}

/* pflag's int flags: strconv.ParseInt(s, 0, 64), with "0x", "0o", "0b", a leading 0 for octal
 * and '_' separators. -EINVAL for bad syntax, -ERANGE out of range. */
static int go_parse_int(const char *s0, int64_t *ret)
{
	const char *s = s0;
	bool neg = false, underscores = false;
	unsigned base = 10;
	uint64_t n = 0;

	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	if (!*s)
		return -EINVAL;
	if (s[0] == '0') {
		if (strlen(s) >= 3 && (s[1] == 'b' || s[1] == 'B'))
			base = 2, s += 2;
		else if (strlen(s) >= 3 && (s[1] == 'o' || s[1] == 'O'))
			base = 8, s += 2;
		else if (strlen(s) >= 3 && (s[1] == 'x' || s[1] == 'X'))
			base = 16, s += 2;
		else
			base = 8, s += 1;
	}
	for (; *s; s++) {
		unsigned d;
		if (*s == '_') {
			underscores = true;
			continue;
		}
		if (isdigit((unsigned char)*s))
			d = (unsigned)(*s - '0');
		else if (isalpha((unsigned char)*s))
			d = (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
		else
			return -EINVAL;
		if (d >= base)
			return -EINVAL;
		if (n > UINT64_MAX / base || n * base > UINT64_MAX - d)
			return -ERANGE;
		n = n * base + d;
	}
	if (underscores && !go_underscores_ok(s0))
		return -EINVAL;
	if (n > (neg ? UINT64_C(1) << 63 : (UINT64_C(1) << 63) - 1))
		return -ERANGE;
	*ret = neg ? (int64_t)(0 - n) : (int64_t)n;
	return 0;
}

/* pflag's `invalid argument %q for "--x" flag: why`. */
static int bad_value(struct error **err, const struct flag *f, const char *v, const char *why)
{
	_cleanup_free_ char *t = flag_title(f), *q = format_quote(v);
	return error_setx(err, -EINVAL, "invalid argument %s for \"%s\" flag: %s", q, t, why);
}

/* The same for a strconv failure: "strconv.ParseInt: parsing %q: invalid syntax". */
static int bad_number(struct error **err, const struct flag *f, const char *v, const char *func,
		      const char *why)
{
	_cleanup_free_ char *q = format_quote(v);
	_cleanup_free_ char *w = xasprintf("strconv.%s: parsing %s: %s", func, q, why);
	return bad_value(err, f, v, w);
}

static int set_value(const struct flag *f, const char *v, struct error **err)
{
	if (f->set)
		*f->set = true;
	switch (f->type) {
	case FLAG_BOOL: {
		bool b;
		if (!v || streq(v, "true") || streq(v, "1") || streq(v, "t") || streq(v, "T") ||
		    streq(v, "TRUE") || streq(v, "True"))
			b = true;
		else if (streq(v, "false") || streq(v, "0") || streq(v, "f") || streq(v, "F") ||
			 streq(v, "FALSE") || streq(v, "False"))
			b = false;
		else
			return bad_number(err, f, v, "ParseBool", "invalid syntax");
		*(bool *)f->dst = b;
		return 0;
	}
	case FLAG_STRING:
	case FLAG_LIST: {
		_cleanup_free_ char *checked = NULL;
		if (f->check) {
			struct error *why = NULL;
			if (f->check(v, &checked, &why) < 0) {
				int r = bad_value(err, f, v,
						  why && why->msg ? why->msg : "invalid value");
				error_free(why);
				return r;
			}
			if (checked)
				v = checked;
		}
		if (f->type == FLAG_STRING) {
			free(*(char **)f->dst);
			*(char **)f->dst = xstrdup(v);
		} else
			*(char ***)f->dst = strv_append(*(char ***)f->dst, v);
		return 0;
	}
	case FLAG_CSV: {
		/* pflag's StringSlice: "a,b" is two values; "" is none */
		const char *p = v;
		while (*p) {
			size_t n = strcspn(p, ",");
			_cleanup_free_ char *part = xstrndup(p, n);
			*(char ***)f->dst = strv_append(*(char ***)f->dst, part);
			p += n;
			if (*p == ',')
				p++;
		}
		return 0;
	}
	case FLAG_INT:
	case FLAG_COUNT: {
		int64_t i;
		int r = go_parse_int(v, &i);
		if (r < 0)
			return bad_number(err, f, v, "ParseInt",
					  r == -ERANGE ? "value out of range" : "invalid syntax");
		*(int64_t *)f->dst = i;
		return 0;
	}
	case FLAG_DURATION: {
		_cleanup_error_ struct error *why = NULL;
		int64_t ns;
		if (parse_go_duration_err(v, &ns, &why) < 0)
			return bad_value(err, f, v, why->msg);
		*(int64_t *)f->dst = ns;
		return 0;
	}
	}
	return -EINVAL;
}

int flags_parse(const struct flag *flags, size_t n, enum flags_mode mode, int argc, char **argv,
		char ***ret_args, bool *ret_help, struct error **err)
{
	_cleanup_strv_free_ char **args = NULL;
	bool only_args = false;
	int r;

	*ret_help = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (only_args || a[0] != '-' || a[1] == 0) {
			args = strv_append(args, a);
			if (mode == FLAGS_STOP_AT_ARG)
				only_args = true;
			continue;
		}
		if (streq(a, "--")) {
			only_args = true;
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const struct flag *f = find_long(flags, n, name, len);
			if (!f) {
				if (len == 4 && strncmp(name, "help", 4) == 0) {
					*ret_help = true;
					continue;
				}
				return error_setx(err, -EINVAL, "unknown flag: --%.*s", (int)len,
						  name);
			}
			if (f->type == FLAG_BOOL) {
				r = set_value(f, eq ? eq + 1 : NULL, err);
			} else if (eq) {
				r = set_value(f, eq + 1, err);
			} else {
				if (i + 1 >= argc)
					return error_setx(err, -EINVAL,
							  "flag needs an argument: --%s", f->name);
				r = set_value(f, argv[++i], err);
			}
			if (r < 0)
				return r;
			continue;
		}
		/* shorthands: -abc, -n5, -n 5, -n=5 */
		for (const char *p = a + 1; *p; p++) {
			const struct flag *f = find_short(flags, n, *p);
			if (!f) {
				if (*p == 'h') {
					*ret_help = true;
					continue;
				}
				return error_setx(err, -EINVAL,
						  "unknown shorthand flag: '%c' in %s", *p, a);
			}
			if (f->type == FLAG_BOOL) {
				if (p[1] == '=') {
					r = set_value(f, p + 2, err);
					if (r < 0)
						return r;
					break;
				}
				r = set_value(f, NULL, err);
				if (r < 0)
					return r;
				continue;
			}
			if (p[1]) {
				r = set_value(f, p[1] == '=' ? p + 2 : p + 1, err);
			} else {
				if (i + 1 >= argc)
					return error_setx(err, -EINVAL,
							  "flag needs an argument: '%c' in -%c", *p,
							  *p);
				r = set_value(f, argv[++i], err);
			}
			if (r < 0)
				return r;
			break;
		}
	}
	if (!args)
		args = xnew0(char *, 1);
	*ret_args = TAKE_PTR(args);
	return 0;
}

void flags_usage(const struct flag *flags, size_t n, FILE *f)
{
	size_t width = 0;
	char **lefts = xnew0(char *, n + 1);

	for (size_t i = 0; i < n; i++) {
		const char *mv = flags[i].metavar;
		if (!mv)
			mv = flags[i].type == FLAG_STRING     ? "string"
			     : flags[i].type == FLAG_LIST     ? "list"
			     : flags[i].type == FLAG_CSV      ? "strings"
			     : flags[i].type == FLAG_INT      ? "int"
			     : flags[i].type == FLAG_DURATION ? "duration"
							      : "";
		if (flags[i].short_name)
			lefts[i] = xasprintf("  -%c, --%s%s%s", flags[i].short_name, flags[i].name,
					     *mv ? " " : "", mv);
		else
			lefts[i] = xasprintf("      --%s%s%s", flags[i].name, *mv ? " " : "", mv);
		if (strlen(lefts[i]) > width)
			width = strlen(lefts[i]);
	}
	for (size_t i = 0; i < n; i++) {
		if (!flags[i].help) /* hidden */
			continue;
		fprintf(f, "%-*s   %s\n", (int)width, lefts[i], flags[i].help);
	}
	strv_free(lefts);
}
