/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Go's text/tabwriter (the subset docker uses) and docker's formatter.Context:
 * --format strings with their "table" and "json" forms.
 */
#include "cli.h"

struct tw_cell {
	size_t off, len, width;
};

struct tw_line {
	struct tw_cell *cells;
	size_t n;
};

struct tw {
	const char *text;
	struct tw_line *lines;
	size_t n_lines;
	size_t *widths;
	size_t n_widths;
	size_t minwidth, padding;
	struct sbuf *out;
};

static size_t rune_count(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

static void tw_pad(struct tw *t, size_t textw, size_t cellw)
{
	for (size_t i = textw; i < cellw; i++)
		sbuf_add(t->out, " ", 1);
}

static void tw_write_lines(struct tw *t, size_t line0, size_t line1)
{
	for (size_t i = line0; i < line1; i++) {
		struct tw_line *l = &t->lines[i];
		for (size_t j = 0; j < l->n; j++) {
			struct tw_cell *c = &l->cells[j];
			if (c->len > 0)
				sbuf_add(t->out, t->text + c->off, c->len);
			if (j < t->n_widths)
				tw_pad(t, c->width, t->widths[j]);
		}
		if (i + 1 < t->n_lines)
			sbuf_add(t->out, "\n", 1);
	}
}

/* Go's (*Writer).format: column blocks, recursively to the right. */
static size_t tw_format(struct tw *t, size_t line0, size_t line1)
{
	size_t column = t->n_widths;

	for (size_t this = line0; this < line1; this ++) {
		struct tw_line *l = &t->lines[this];
		if (l->n == 0 || column >= l->n - 1)
			continue;
		tw_write_lines(t, line0, this);
		line0 = this;
		size_t width = t->minwidth;
		for (; this < line1; this ++) {
			l = &t->lines[this];
			if (l->n == 0 || column >= l->n - 1)
				break;
			size_t w = l->cells[column].width + t->padding;
			if (w > width)
				width = w;
		}
		t->widths = xrealloc(t->widths, sizeof(size_t) * (t->n_widths + 1));
		t->widths[t->n_widths++] = width;
		tw_format(t, line0, this);
		t->n_widths--;
		line0 = this;
		if (this >= line1)
			break;
		this --; /* the for loop's this++ revisits the line that ended the block */
	}
	tw_write_lines(t, line0, line1);
	return line1;
}

void tabwriter_format(const char *text, size_t len, size_t minwidth, size_t padding,
		      struct sbuf *out)
{
	struct tw t = {.text = text, .minwidth = minwidth, .padding = padding, .out = out};
	size_t start = 0;

	/* lines split on '\n'; the piece after the last newline is a line without one */
	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n')
			continue;
		struct tw_line l = {0};
		size_t cs = start;
		for (size_t k = start; k <= i; k++) {
			if (k < i && text[k] != '\t')
				continue;
			l.cells = xrealloc(l.cells, sizeof(*l.cells) * (l.n + 1));
			l.cells[l.n++] =
			    (struct tw_cell){cs, k - cs, rune_count(text + cs, k - cs)};
			cs = k + 1;
		}
		t.lines = xrealloc(t.lines, sizeof(*t.lines) * (t.n_lines + 1));
		t.lines[t.n_lines++] = l;
		start = i + 1;
	}
	tw_format(&t, 0, t.n_lines);
	for (size_t i = 0; i < t.n_lines; i++)
		free(t.lines[i].cells);
	free(t.lines);
	free(t.widths);
}

/* ---- formatter ------------------------------------------------------------------- */

struct formatter {
	struct template *tmpl;
	json_object *header;
	bool table;
	unsigned flags;
	struct sbuf buf;
	int rows;
};

struct formatter *formatter_free(struct formatter *f)
{
	if (!f)
		return NULL;
	template_free(f->tmpl);
	json_object_put(f->header);
	sbuf_release(&f->buf);
	free(f);
	return NULL;
}

int formatter_new(const char *format, const char *default_format, json_object *header,
		  unsigned flags, struct formatter **ret, struct error **err)
{
	struct formatter *f = xnew0(struct formatter, 1);
	struct sbuf src = {0};
	const char *s;
	int r;

	if (isempty(format) || streq(format, "table"))
		format = default_format;
	if (streq(format, "json"))
		format = "{{json .}}";
	s = format;
	if (startswith(s, "table")) {
		f->table = true;
		s += strlen("table");
	}
	while (*s == ' ')
		s++;
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == ' ')
		n--;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && (s[i + 1] == 't' || s[i + 1] == 'n')) {
			sbuf_add(&src, s[i + 1] == 't' ? "\t" : "\n", 1);
			i++;
		} else
			sbuf_add(&src, s + i, 1);
	}
	r = template_parse(src.s ? src.s : "", &f->tmpl, err);
	sbuf_release(&src);
	if (r < 0) {
		formatter_free(f);
		return error_prefix(err, r, "template parsing error");
	}
	f->header = json_object_get(header);
	f->flags = flags;
	*ret = f;
	return 0;
}

int formatter_row(struct formatter *f, json_object *row, struct error **err)
{
	if (json_object_is_type(row, json_type_object))
		json_object_set_userdata(row, TEMPLATE_CONTEXT_MARK, NULL);
	int r = template_execute(f->tmpl, row, f->flags, &f->buf, err);
	if (r < 0)
		return r;
	sbuf_add(&f->buf, "\n", 1);
	f->rows++;
	return 0;
}

int formatter_finish(struct formatter *f, FILE *out)
{
	if (f->table) {
		struct sbuf all = {0}, aligned = {0};
		json_object *h = f->header ? json_object_get(f->header) : json_object_new_object();
		(void)template_execute(f->tmpl, h, TEMPLATE_HEADER, &all, NULL);
		json_object_put(h);
		sbuf_add(&all, "\n", 1);
		if (f->buf.len)
			sbuf_add(&all, f->buf.s, f->buf.len);
		tabwriter_format(all.s, all.len, 10, 3, &aligned);
		if (aligned.len)
			fwrite(aligned.s, 1, aligned.len, out);
		sbuf_release(&all);
		sbuf_release(&aligned);
	} else if (f->buf.len)
		fwrite(f->buf.s, 1, f->buf.len, out);
	fflush(out);
	return f->rows;
}
