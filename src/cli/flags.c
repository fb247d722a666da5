/* SPDX-License-Identifier: Apache-2.0 */
/* Flag parsing with pflag's (cobra's) rules and messages. */
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
		else {
			_cleanup_free_ char *t = flag_title(f);
			return error_setx(
			    err, -EINVAL,
			    "invalid argument \"%s\" for \"%s\" flag: strconv.ParseBool: "
			    "parsing \"%s\": invalid syntax",
			    v, t, v);
		}
		*(bool *)f->dst = b;
		return 0;
	}
	case FLAG_STRING:
	case FLAG_LIST: {
		_cleanup_free_ char *checked = NULL;
		if (f->check) {
			struct error *why = NULL;
			if (f->check(v, &checked, &why) < 0) {
				_cleanup_free_ char *t = flag_title(f);
				int r = error_setx(err, -EINVAL,
						   "invalid argument \"%s\" for \"%s\" flag: %s", v,
						   t, why && why->msg ? why->msg : "invalid value");
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
		if (safe_atoi64(v, &i) < 0) {
			_cleanup_free_ char *t = flag_title(f);
			return error_setx(
			    err, -EINVAL,
			    "invalid argument \"%s\" for \"%s\" flag: strconv.ParseInt: "
			    "parsing \"%s\": invalid syntax",
			    v, t, v);
		}
		*(int64_t *)f->dst = i;
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
			mv = flags[i].type == FLAG_STRING ? "string"
			     : flags[i].type == FLAG_LIST ? "list"
			     : flags[i].type == FLAG_CSV  ? "strings"
			     : flags[i].type == FLAG_INT  ? "int"
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
