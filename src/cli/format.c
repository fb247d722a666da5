/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker's human units: go-units durations and sizes, TruncateID, Ellipsis,
 * strconv.Quote, DisplayablePorts, container status strings, and the time
 * and size arguments the commands accept.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <time.h>

#include "cli.h"

#define NSEC_PER_SEC ((int64_t)1000000000)

char *format_human_duration(int64_t nsec)
{
	int64_t seconds = nsec / NSEC_PER_SEC;
	int64_t minutes = nsec / (60 * NSEC_PER_SEC);
	/* int(d.Hours() + 0.5) */
	int64_t hours = (int64_t)((double)nsec / (3600.0 * NSEC_PER_SEC) + 0.5);

	if (seconds < 1)
		return xstrdup("Less than a second");
	if (seconds == 1)
		return xstrdup("1 second");
	if (seconds < 60)
		return xasprintf("%" PRId64 " seconds", seconds);
	if (minutes == 1)
		return xstrdup("About a minute");
	if (minutes < 60)
		return xasprintf("%" PRId64 " minutes", minutes);
	if (hours == 1)
		return xstrdup("About an hour");
	if (hours < 48)
		return xasprintf("%" PRId64 " hours", hours);
	if (hours < 24 * 7 * 2)
		return xasprintf("%" PRId64 " days", hours / 24);
	if (hours < 24 * 30 * 2)
		return xasprintf("%" PRId64 " weeks", hours / 24 / 7);
	if (hours < 24 * 365 * 2)
		return xasprintf("%" PRId64 " months", hours / 24 / 30);
	return xasprintf("%" PRId64 " years",
			 (int64_t)((double)nsec / (3600.0 * NSEC_PER_SEC)) / 24 / 365);
}

/* Go's %.*g: C's, except that Go never prints "-0" differently; close enough for sizes. */
static char *size_fmt(double size, double base, const char *const *units, size_t n_units,
		      int precision)
{
	size_t i = 0;
	char buf[64];

	while (size >= base && i < n_units - 1) {
		size /= base;
		i++;
	}
	snprintf(buf, sizeof(buf), "%.*g%s", precision, size, units[i]);
	return xstrdup(buf);
}

static const char *const decimal_units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
static const char *const binary_units[] = {"B",	  "KiB", "MiB", "GiB", "TiB",
					   "PiB", "EiB", "ZiB", "YiB"};

char *format_human_size(double size, int precision)
{
	return size_fmt(size, 1000.0, decimal_units, ELEMENTSOF(decimal_units), precision);
}

char *format_bytes_size(double size)
{
	return size_fmt(size, 1024.0, binary_units, ELEMENTSOF(binary_units), 4);
}

int parse_size(const char *s, bool binary, int64_t *ret)
{
	const char *p = s;
	char *end;
	double v;
	double mult = 1, base = binary ? 1024 : 1000;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	v = strtod(p, &end);
	if (errno || end == p)
		return -EINVAL;
	p = end;
	if (*p == ' ')
		p++;
	switch (tolower((unsigned char)*p)) {
	case 'k':
		mult = base;
		p++;
		break;
	case 'm':
		mult = base * base;
		p++;
		break;
	case 'g':
		mult = base * base * base;
		p++;
		break;
	case 't':
		mult = base * base * base * base;
		p++;
		break;
	case 'p':
		mult = base * base * base * base * base;
		p++;
		break;
	}
	if (mult > 1 && (*p == 'i' || *p == 'I'))
		p++;
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p)
		return -EINVAL;
	v *= mult;
	if (v > 9.2e18)
		return -ERANGE;
	*ret = (int64_t)v;
	return 0;
}

char *format_truncate_id(const char *id)
{
	const char *c = strchr(id, ':');
	if (c)
		id = c + 1;
	return xstrndup(id, 12);
}

static size_t utf8_count(const char *s)
{
	size_t c = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			c++;
	return c;
}

char *format_ellipsis(const char *s, size_t max)
{
	size_t n = utf8_count(s), c = 0, i;

	if (max == 0)
		return xstrdup("");
	if (n <= max)
		return xstrdup(s);
	if (max == 1)
		return xstrdup("…");
	for (i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (c == max - 1)
				break;
			c++;
		}
	}
	return xasprintf("%.*s…", (int)i, s);
}

/* Length of a valid UTF-8 sequence at s, or 0. */
static size_t utf8_seq(const unsigned char *s)
{
	size_t n;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

char *format_quote(const char *s)
{
	struct sbuf b = {0};
	const unsigned char *p = (const unsigned char *)s;

	sbuf_add(&b, "\"", 1);
	while (*p) {
		unsigned char c = *p;
		switch (c) {
		case '\a':
			sbuf_puts(&b, "\\a");
			break;
		case '\b':
			sbuf_puts(&b, "\\b");
			break;
		case '\f':
			sbuf_puts(&b, "\\f");
			break;
		case '\n':
			sbuf_puts(&b, "\\n");
			break;
		case '\r':
			sbuf_puts(&b, "\\r");
			break;
		case '\t':
			sbuf_puts(&b, "\\t");
			break;
		case '\v':
			sbuf_puts(&b, "\\v");
			break;
		case '\\':
			sbuf_puts(&b, "\\\\");
			break;
		case '"':
			sbuf_puts(&b, "\\\"");
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				sbuf_printf(&b, "\\x%02x", c);
			} else if (c >= 0x80) {
				size_t n = utf8_seq(p);
				if (!n) {
					sbuf_printf(&b, "\\x%02x", c);
				} else {
					sbuf_add(&b, (const char *)p, n);
					p += n;
					continue;
				}
			} else
				sbuf_add(&b, (const char *)p, 1);
		}
		p++;
	}
	sbuf_add(&b, "\"", 1);
	return sbuf_take(&b);
}

char *format_container_status(const char *state, int exit_code, int64_t started_ns,
			      int64_t finished_ns, int64_t now_ns)
{
	_cleanup_free_ char *up = format_human_duration(now_ns - started_ns);
	_cleanup_free_ char *ago = format_human_duration(now_ns - finished_ns);

	if (streq(state, "running"))
		return xasprintf("Up %s", up);
	if (streq(state, "paused"))
		return xasprintf("Up %s (Paused)", up);
	if (streq(state, "restarting"))
		return xasprintf("Restarting (%d) %s ago", exit_code, ago);
	if (streq(state, "removing"))
		return xstrdup("Removal In Progress");
	if (streq(state, "dead"))
		return xstrdup("Dead");
	if (started_ns <= 0)
		return xstrdup("Created");
	if (finished_ns <= 0)
		return xstrdup("");
	return xasprintf("Exited (%d) %s ago", exit_code, ago);
}

/* ---- ports ---------------------------------------------------------------------- */

struct port {
	const char *ip, *type;
	int64_t priv, pub;
};

static int port_cmp(const void *a, const void *b)
{
	const struct port *i = a, *j = b;
	int c;
	if (i->priv != j->priv)
		return i->priv < j->priv ? -1 : 1;
	c = strcmp(i->ip, j->ip);
	if (c)
		return c;
	if (i->pub != j->pub)
		return i->pub < j->pub ? -1 : 1;
	return strcmp(i->type, j->type);
}

struct port_group {
	char *key;
	int64_t first, last;
};

static void form_group(struct sbuf *b, const char *key, int64_t first, int64_t last)
{
	const char *slash = strrchr(key, '/');
	_cleanup_free_ char *ip = NULL;
	_cleanup_free_ char *group = NULL;
	const char *type = key;

	if (slash) {
		ip = xstrndup(key, (size_t)(slash - key));
		type = slash + 1;
	}
	group = first == last ? xasprintf("%" PRId64, first)
			      : xasprintf("%" PRId64 "-%" PRId64, first, last);
	if (b->len)
		sbuf_puts(b, ", ");
	if (ip)
		sbuf_printf(b, "%s:%s->%s/%s", ip, group, group, type);
	else
		sbuf_printf(b, "%s/%s", group, type);
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;
	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static int64_t jint(json_object *o, const char *k)
{
	json_object *v;
	if (!json_object_object_get_ex(o, k, &v))
		return 0;
	return json_object_get_int64(v);
}

char *format_ports(json_object *ports)
{
	size_t n =
	    json_object_is_type(ports, json_type_array) ? json_object_array_length(ports) : 0;
	struct port *v = xnew0(struct port, n + 1);
	struct port_group *groups = xnew0(struct port_group, n + 1);
	size_t n_groups = 0;
	struct sbuf result = {0}, mappings = {0};

	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(ports, i);
		v[i] = (struct port){jstr(p, "IP"), jstr(p, "Type"), jint(p, "PrivatePort"),
				     jint(p, "PublicPort")};
	}
	qsort(v, n, sizeof(*v), port_cmp);

	for (size_t i = 0; i < n; i++) {
		char *key;
		if (*v[i].ip) {
			if (v[i].pub != v[i].priv) {
				bool v6 = strchr(v[i].ip, ':') != NULL;
				if (mappings.len)
					sbuf_puts(&mappings, ", ");
				sbuf_printf(&mappings, "%s%s%s:%" PRId64 "->%" PRId64 "/%s",
					    v6 ? "[" : "", v[i].ip, v6 ? "]" : "", v[i].pub,
					    v[i].priv, v[i].type);
				continue;
			}
			key = xasprintf("%s/%s", v[i].ip, v[i].type);
		} else
			key = xstrdup(v[i].type);
		struct port_group *g = NULL;
		for (size_t k = 0; k < n_groups; k++)
			if (streq(groups[k].key, key))
				g = &groups[k];
		if (!g) {
			groups[n_groups++] = (struct port_group){key, v[i].priv, v[i].priv};
			continue;
		}
		free(key);
		if (v[i].priv == g->last + 1) {
			g->last = v[i].priv;
			continue;
		}
		form_group(&result, g->key, g->first, g->last);
		g->first = g->last = v[i].priv;
	}
	for (size_t k = 0; k < n_groups; k++) {
		form_group(&result, groups[k].key, groups[k].first, groups[k].last);
		free(groups[k].key);
	}
	if (mappings.len) {
		if (result.len)
			sbuf_puts(&result, ", ");
		sbuf_add(&result, mappings.s, mappings.len);
	}
	sbuf_release(&mappings);
	free(groups);
	free(v);
	return sbuf_take(&result);
}

/* ---- times ------------------------------------------------------------------------ */

static int parse_digits(const char **p, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return 0;
}

/* date[Thh:mm[:ss[.frac]]][Z|±hh:mm]; local says whether a zone was given. */
static int parse_time(const char *s, bool allow_partial, int64_t *ret, bool *ret_zoned)
{
	const char *p = s;
	struct tm tm = {0};
	int y, mo, d, h = 0, mi = 0, sec = 0;
	int64_t nanos = 0;
	bool zoned = false;
	int64_t off = 0;

	if (parse_digits(&p, 4, &y) < 0 || *p++ != '-' || parse_digits(&p, 2, &mo) < 0 ||
	    *p++ != '-' || parse_digits(&p, 2, &d) < 0)
		return -EINVAL;
	if (*p == 'T' || *p == 't' || (*p == ' ' && !allow_partial)) {
		p++;
		if (parse_digits(&p, 2, &h) < 0)
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (parse_digits(&p, 2, &mi) < 0)
				return -EINVAL;
			if (*p == ':') {
				p++;
				if (parse_digits(&p, 2, &sec) < 0)
					return -EINVAL;
				if (*p == '.' || *p == ',') {
					int k = 0;
					p++;
					if (!isdigit((unsigned char)*p))
						return -EINVAL;
					while (isdigit((unsigned char)*p)) {
						if (k < 9) {
							nanos = nanos * 10 + (*p - '0');
							k++;
						}
						p++;
					}
					while (k++ < 9)
						nanos *= 10;
				}
			} else if (!allow_partial)
				return -EINVAL;
		} else if (!allow_partial)
			return -EINVAL;
	} else if (!allow_partial)
		return -EINVAL;
	if (*p == 'Z' || *p == 'z') {
		zoned = true;
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		int sign = *p == '-' ? -1 : 1;
		p++;
		if (parse_digits(&p, 2, &oh) < 0)
			return -EINVAL;
		if (*p == ':')
			p++;
		if (parse_digits(&p, 2, &om) < 0)
			return -EINVAL;
		off = sign * (oh * 3600 + om * 60);
		zoned = true;
	}
	if (*p)
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t;
	if (zoned || !allow_partial)
		t = timegm(&tm) - off;
	else {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	*ret = (int64_t)t * NSEC_PER_SEC + nanos;
	if (ret_zoned)
		*ret_zoned = zoned;
	return 0;
}

int parse_rfc3339(const char *s, int64_t *ret_ns)
{
	/* Go's zero time: "0001-01-01T00:00:00Z" */
	if (startswith(s, "0001-01-01T00:00:00")) {
		*ret_ns = 0;
		return 0;
	}
	return parse_time(s, false, ret_ns, NULL);
}

int parse_timestamp_arg(const char *s, int64_t now_ns, char **ret)
{
	int64_t d, t;

	if (!streq(s, "0") && parse_go_duration(s, &d) >= 0) {
		*ret = xasprintf("%" PRId64, (now_ns - d) / NSEC_PER_SEC);
		return 0;
	}
	if (parse_time(s, true, &t, NULL) >= 0) {
		int64_t sec = t / NSEC_PER_SEC, ns = t % NSEC_PER_SEC;
		if (ns < 0) {
			ns += NSEC_PER_SEC;
			sec--;
		}
		*ret = xasprintf("%" PRId64 ".%09" PRId64, sec, ns);
		return 0;
	}
	if (strchr(s, '-'))
		return -EINVAL;
	/* seconds[.nanoseconds] go as they are */
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p)
		return -EINVAL;
	*ret = xstrdup(s);
	return 0;
}
