/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Go text/template subset over json-c values: what docker's --format
 * strings use. The source is parsed once into a tree of nodes (text, actions,
 * if/range/with) whose actions are pipelines of commands; execution walks the
 * tree with "dot" and a stack of variables.
 *
 * Values during execution are owned json_object references; NULL is Go's nil.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>

#include "cli.h"

#define MAX_DEPTH 100

/* ---- the tree -------------------------------------------------------------- */

enum arg_type {
	ARG_DOT,    /* "." (fields may follow only through ARG_FIELD) */
	ARG_FIELD,  /* .A.B */
	ARG_VAR,    /* $x.A */
	ARG_STRING, /* "..." */
	ARG_NUMBER,
	ARG_BOOL,
	ARG_NIL,
	ARG_FUNC, /* a function name */
	ARG_PIPE, /* ( pipeline ).A */
};

struct pipe;

struct arg {
	enum arg_type type;
	char *str; /* string literal, function or variable name */
	char **fields;
	size_t n_fields;
	json_object *num;
	bool b;
	struct pipe *pipe;
	size_t pos, end; /* source span, for error messages */
};

struct cmd {
	struct arg *args;
	size_t n;
	size_t pos, end;
};

struct pipe {
	char *vars[2];
	size_t n_vars;
	bool decl; /* := (else =) */
	struct cmd *cmds;
	size_t n_cmds;
};

enum node_type { N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH, N_BREAK, N_CONTINUE };

struct node;
struct list {
	struct node **v;
	size_t n;
};

struct node {
	enum node_type type;
	char *text;
	size_t len;
	struct pipe *pipe;
	struct list list, else_list;
	size_t pos;
};

struct template
{
	char *src;
	struct list root;
};

/* ---- freeing ---------------------------------------------------------------- */

static void pipe_free(struct pipe *p);
static void list_release(struct list *l);

static void arg_release(struct arg *a)
{
	free(a->str);
	for (size_t i = 0; i < a->n_fields; i++)
		free(a->fields[i]);
	free(a->fields);
	json_object_put(a->num);
	pipe_free(a->pipe);
}

static void pipe_free(struct pipe *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_vars; i++)
		free(p->vars[i]);
	for (size_t i = 0; i < p->n_cmds; i++) {
		for (size_t j = 0; j < p->cmds[i].n; j++)
			arg_release(&p->cmds[i].args[j]);
		free(p->cmds[i].args);
	}
	free(p->cmds);
	free(p);
}

static void node_free(struct node *n)
{
	if (!n)
		return;
	free(n->text);
	pipe_free(n->pipe);
	list_release(&n->list);
	list_release(&n->else_list);
	free(n);
}

static void list_release(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		node_free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void list_add(struct list *l, struct node *n)
{
	l->v = xrealloc(l->v, sizeof(*l->v) * (l->n + 1));
	l->v[l->n++] = n;
}

struct template *template_free(struct template *t)
{
	if (!t)
		return NULL;
	list_release(&t->root);
	free(t->src);
	free(t);
	return NULL;
}

/* ---- lexing an action ---------------------------------------------------------- */

enum tok_type {
	TK_DOT,
	TK_FIELD,
	TK_VAR,
	TK_STRING,
	TK_NUMBER,
	TK_IDENT,
	TK_PIPE,
	TK_LPAREN,
	TK_RPAREN,
	TK_DECLARE,
	TK_ASSIGN,
	TK_COMMA,
};

struct tok {
	enum tok_type type;
	char *val;
	json_object *num;
	bool space_before;
	size_t pos, end;
};

struct action {
	struct tok *toks;
	size_t n;
	size_t pos; /* of the first token (or of the "{{") */
	bool comment;
};

static void action_release(struct action *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->toks[i].val);
		json_object_put(a->toks[i].num);
	}
	free(a->toks);
	*a = (struct action){0};
}

struct parser {
	const char *src;
	size_t len, pos;
	bool trim_next; /* the previous action ended with " -}}" */
	struct error **err;
	/* variables in scope, for "undefined variable" */
	char **vars;
	size_t n_vars;
	int range_depth;
	int depth;
};

static int line_of(const char *src, size_t pos)
{
	int line = 1;
	for (size_t i = 0; i < pos && src[i]; i++)
		if (src[i] == '\n')
			line++;
	return line;
}

_printf_(3, 4) static int parse_error(struct parser *p, size_t pos, const char *fmt, ...)
{
	_cleanup_free_ char *m = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	return error_setx(p->err, -EINVAL, "template: :%d: %s", line_of(p->src, pos),
			  m ? m : "error");
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alnum_(char c)
{
	return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

static void tok_add(struct action *a, enum tok_type type, char *val, bool space, size_t pos,
		    size_t end)
{
	a->toks = xrealloc(a->toks, sizeof(*a->toks) * (a->n + 1));
	a->toks[a->n++] = (struct tok){type, val, NULL, space, pos, end};
}

/* Decode a Go quoted string starting at s[0] == '"'; returns the length consumed or -1. */
static ssize_t lex_quoted(const char *s, size_t len, char **ret)
{
	struct sbuf b = {0};
	size_t i = 1;

	for (;;) {
		if (i >= len || s[i] == '\n') {
			sbuf_release(&b);
			return -1;
		}
		char c = s[i];
		if (c == '"')
			break;
		if (c != '\\') {
			sbuf_add(&b, &c, 1);
			i++;
			continue;
		}
		if (++i >= len) {
			sbuf_release(&b);
			return -1;
		}
		c = s[i++];
		switch (c) {
		case 'n':
			sbuf_add(&b, "\n", 1);
			break;
		case 't':
			sbuf_add(&b, "\t", 1);
			break;
		case 'r':
			sbuf_add(&b, "\r", 1);
			break;
		case 'a':
			sbuf_add(&b, "\a", 1);
			break;
		case 'b':
			sbuf_add(&b, "\b", 1);
			break;
		case 'f':
			sbuf_add(&b, "\f", 1);
			break;
		case 'v':
			sbuf_add(&b, "\v", 1);
			break;
		case '\\':
		case '"':
		case '\'':
			sbuf_add(&b, &c, 1);
			break;
		case 'x': {
			char hex[3] = {0};
			if (i + 2 > len || !isxdigit((unsigned char)s[i]) ||
			    !isxdigit((unsigned char)s[i + 1])) {
				sbuf_release(&b);
				return -1;
			}
			memcpy(hex, s + i, 2);
			char v = (char)strtol(hex, NULL, 16);
			sbuf_add(&b, &v, 1);
			i += 2;
			break;
		}
		default:
			sbuf_release(&b);
			return -1;
		}
	}
	*ret = sbuf_take(&b);
	return (ssize_t)i + 1;
}

/*
 * Lex one action starting just after "{{" (and a "- " trim marker). On success
 * p->pos is after the closing "}}" and p->trim_next tells about " -}}".
 */
static int lex_action(struct parser *p, struct action *a)
{
	const char *s = p->src;
	size_t i = p->pos;
	bool space = false;

	/* comments: {{/ * ... * /}} */
	if (i + 1 < p->len && s[i] == '/' && s[i + 1] == '*') {
		const char *e = strstr(s + i + 2, "*/");
		if (!e)
			return parse_error(p, i, "unclosed comment");
		i = (size_t)(e - s) + 2;
		if (startswith(s + i, "}}")) {
			p->pos = i + 2;
			p->trim_next = false;
		} else if (i + 4 <= p->len && is_space(s[i]) && startswith(s + i + 1, "-}}")) {
			p->pos = i + 4;
			p->trim_next = true;
		} else
			return parse_error(p, i, "comment ends before closing delimiter");
		a->comment = true;
		return 0;
	}

	a->pos = i;
	for (;;) {
		if (i >= p->len)
			return parse_error(p, i, "unclosed action");
		char c = s[i];
		size_t start = i;
		if (is_space(c)) {
			while (i < p->len && is_space(s[i]))
				i++;
			if (startswith(s + i, "-}}")) {
				p->pos = i + 3;
				p->trim_next = true;
				return 0;
			}
			space = true;
			continue;
		}
		if (c == '}' && i + 1 < p->len && s[i + 1] == '}') {
			p->pos = i + 2;
			p->trim_next = false;
			return 0;
		}
		if (c == '.' && !(i + 1 < p->len && isdigit((unsigned char)s[i + 1]))) {
			i++;
			while (i < p->len && is_alnum_(s[i]))
				i++;
			if (i == start + 1)
				tok_add(a, TK_DOT, NULL, space, start, i);
			else
				tok_add(a, TK_FIELD, xstrndup(s + start + 1, i - start - 1), space,
					start, i);
		} else if (c == '$') {
			i++;
			while (i < p->len && is_alnum_(s[i]))
				i++;
			tok_add(a, TK_VAR, xstrndup(s + start, i - start), space, start, i);
		} else if (c == '"') {
			char *v = NULL;
			ssize_t n = lex_quoted(s + i, p->len - i, &v);
			if (n < 0)
				return parse_error(p, i, "unterminated quoted string");
			i += (size_t)n;
			tok_add(a, TK_STRING, v, space, start, i);
		} else if (c == '`') {
			const char *e = memchr(s + i + 1, '`', p->len - i - 1);
			if (!e)
				return parse_error(p, i, "unterminated raw quoted string");
			tok_add(a, TK_STRING, xstrndup(s + i + 1, (size_t)(e - s) - i - 1), space,
				start, (size_t)(e - s) + 1);
			i = (size_t)(e - s) + 1;
		} else if (c == '\'') {
			/* a character constant is a number */
			if (i + 2 < p->len && s[i + 2] == '\'' && s[i + 1] != '\\') {
				tok_add(a, TK_NUMBER, NULL, space, start, i + 3);
				a->toks[a->n - 1].num =
				    json_object_new_int64((unsigned char)s[i + 1]);
				i += 3;
			} else
				return parse_error(p, i, "unterminated character constant");
		} else if (isdigit((unsigned char)c) ||
			   ((c == '-' || c == '+' || c == '.') && i + 1 < p->len &&
			    (isdigit((unsigned char)s[i + 1]) || s[i + 1] == '.'))) {
			i++;
			while (i < p->len && (is_alnum_(s[i]) || s[i] == '.' ||
					      ((s[i] == '-' || s[i] == '+') &&
					       (s[i - 1] == 'e' || s[i - 1] == 'E'))))
				i++;
			_cleanup_free_ char *t = xstrndup(s + start, i - start);
			char *tmp = xstrndup(t, strlen(t)), *w = tmp;
			for (char *r = t; *r; r++)
				if (*r != '_')
					*w++ = *r;
			*w = 0;
			char *end;
			errno = 0;
			long long ll = strtoll(tmp, &end, 0);
			json_object *num = NULL;
			if (!*end && errno == 0)
				num = json_object_new_int64(ll);
			else {
				errno = 0;
				double d = strtod(tmp, &end);
				if (!*end && errno == 0)
					num = json_object_new_double(d);
			}
			free(tmp);
			if (!num)
				return parse_error(p, start, "bad number syntax: \"%s\"", t);
			tok_add(a, TK_NUMBER, NULL, space, start, i);
			a->toks[a->n - 1].num = num;
		} else if (is_alnum_(c)) {
			while (i < p->len && is_alnum_(s[i]))
				i++;
			tok_add(a, TK_IDENT, xstrndup(s + start, i - start), space, start, i);
		} else if (c == '|') {
			i++;
			tok_add(a, TK_PIPE, NULL, space, start, i);
		} else if (c == '(') {
			i++;
			tok_add(a, TK_LPAREN, NULL, space, start, i);
		} else if (c == ')') {
			i++;
			tok_add(a, TK_RPAREN, NULL, space, start, i);
		} else if (c == ',') {
			i++;
			tok_add(a, TK_COMMA, NULL, space, start, i);
		} else if (c == ':' && i + 1 < p->len && s[i + 1] == '=') {
			i += 2;
			tok_add(a, TK_DECLARE, NULL, space, start, i);
		} else if (c == '=') {
			i++;
			tok_add(a, TK_ASSIGN, NULL, space, start, i);
		} else {
			if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
				return parse_error(p, i, "unexpected \"%c\" in command", c);
			return parse_error(p, i, "unexpected bad character U+%04X in command",
					   (unsigned char)c);
		}
		space = false;
	}
}

/* ---- parsing ------------------------------------------------------------------- */

static const char *const builtin_funcs[] = {
    "json",  "join",	"split", "upper", "lower", "title", "pad", "truncate", "printf",
    "print", "println", "index", "len",	  "eq",	   "ne",    "lt",  "le",       "gt",
    "ge",    "and",	"or",	 "not",	  "slice", "html",  "js",  "urlquery", "call",
};

static bool func_known(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(builtin_funcs); i++)
		if (streq(builtin_funcs[i], name))
			return true;
	return false;
}

static bool var_known(struct parser *p, const char *name)
{
	for (size_t i = 0; i < p->n_vars; i++)
		if (streq(p->vars[i], name))
			return true;
	return false;
}

static void var_push(struct parser *p, const char *name)
{
	p->vars = xrealloc(p->vars, sizeof(char *) * (p->n_vars + 1));
	p->vars[p->n_vars++] = xstrdup(name);
}

static void vars_pop_to(struct parser *p, size_t n)
{
	while (p->n_vars > n)
		free(p->vars[--p->n_vars]);
}

struct cursor {
	struct action *a;
	size_t i;
};

static int parse_pipeline(struct parser *p, struct cursor *c, bool in_paren, bool allow_decl,
			  struct pipe **ret);

static const char *tok_desc(const struct tok *t)
{
	switch (t->type) {
	case TK_PIPE:
		return "|";
	case TK_LPAREN:
		return "(";
	case TK_RPAREN:
		return ")";
	case TK_COMMA:
		return ",";
	case TK_DECLARE:
		return ":=";
	case TK_ASSIGN:
		return "=";
	default:
		return t->val ? t->val : ".";
	}
}

static int parse_operand_inner(struct parser *p, struct cursor *c, struct arg *a)
{
	struct tok *t = &c->a->toks[c->i];
	int r;

	*a = (struct arg){.pos = t->pos, .end = t->end};
	switch (t->type) {
	case TK_DOT:
		a->type = ARG_DOT;
		c->i++;
		break;
	case TK_FIELD:
		a->type = ARG_FIELD;
		a->fields = xnew0(char *, 1);
		a->fields[a->n_fields++] = xstrdup(t->val);
		c->i++;
		break;
	case TK_VAR:
		if (!var_known(p, t->val))
			return parse_error(p, t->pos, "undefined variable \"%s\"", t->val);
		a->type = ARG_VAR;
		a->str = xstrdup(t->val);
		c->i++;
		break;
	case TK_STRING:
		a->type = ARG_STRING;
		a->str = xstrdup(t->val);
		c->i++;
		break;
	case TK_NUMBER:
		a->type = ARG_NUMBER;
		a->num = json_object_get(t->num);
		c->i++;
		break;
	case TK_IDENT:
		if (streq(t->val, "true") || streq(t->val, "false")) {
			a->type = ARG_BOOL;
			a->b = streq(t->val, "true");
		} else if (streq(t->val, "nil")) {
			a->type = ARG_NIL;
		} else {
			if (!func_known(t->val))
				return parse_error(p, t->pos, "function \"%s\" not defined",
						   t->val);
			a->type = ARG_FUNC;
			a->str = xstrdup(t->val);
		}
		c->i++;
		break;
	case TK_LPAREN:
		c->i++;
		a->type = ARG_PIPE;
		r = parse_pipeline(p, c, true, false, &a->pipe);
		if (r < 0)
			return r;
		if (c->i >= c->a->n || c->a->toks[c->i].type != TK_RPAREN)
			return parse_error(p, t->pos, "unclosed left paren");
		a->end = c->a->toks[c->i].end;
		c->i++;
		break;
	default:
		return parse_error(p, t->pos, "unexpected \"%s\" in operand", tok_desc(t));
	}
	/* adjacent fields chain onto the term: $x.A, (pipe).A, .A.B */
	while (c->i < c->a->n && c->a->toks[c->i].type == TK_FIELD &&
	       !c->a->toks[c->i].space_before) {
		if (a->type == ARG_STRING || a->type == ARG_NUMBER || a->type == ARG_BOOL ||
		    a->type == ARG_NIL || a->type == ARG_FUNC || a->type == ARG_DOT)
			return parse_error(p, c->a->toks[c->i].pos,
					   "unexpected . after term \"%s\"",
					   tok_desc(&c->a->toks[c->i - 1]));
		a->fields = xrealloc(a->fields, sizeof(char *) * (a->n_fields + 1));
		a->fields[a->n_fields++] = xstrdup(c->a->toks[c->i].val);
		a->end = c->a->toks[c->i].end;
		c->i++;
	}
	return 0;
}

static int parse_operand(struct parser *p, struct cursor *c, struct arg *a)
{
	int r = parse_operand_inner(p, c, a);
	if (r < 0) {
		arg_release(a);
		*a = (struct arg){0};
	}
	return r;
}

static int parse_pipeline(struct parser *p, struct cursor *c, bool in_paren, bool allow_decl,
			  struct pipe **ret)
{
	struct pipe *pp = xnew0(struct pipe, 1);
	struct tok *t = c->a->toks;
	size_t n = c->a->n, start_pos = c->i < n ? t[c->i].pos : c->a->pos;
	int r;

	if (++p->depth > MAX_DEPTH) {
		p->depth--;
		pipe_free(pp);
		return parse_error(p, start_pos, "template nesting too deep");
	}

	/* declarations: $x := / $x = / $i, $v := */
	if (c->i + 1 < n && t[c->i].type == TK_VAR &&
	    (t[c->i + 1].type == TK_DECLARE || t[c->i + 1].type == TK_ASSIGN)) {
		pp->vars[pp->n_vars++] = xstrdup(t[c->i].val);
		pp->decl = t[c->i + 1].type == TK_DECLARE;
		c->i += 2;
	} else if (allow_decl && c->i + 3 < n && t[c->i].type == TK_VAR &&
		   t[c->i + 1].type == TK_COMMA && t[c->i + 2].type == TK_VAR &&
		   (t[c->i + 3].type == TK_DECLARE || t[c->i + 3].type == TK_ASSIGN)) {
		pp->vars[pp->n_vars++] = xstrdup(t[c->i].val);
		pp->vars[pp->n_vars++] = xstrdup(t[c->i + 2].val);
		pp->decl = t[c->i + 3].type == TK_DECLARE;
		c->i += 4;
	}
	for (size_t k = 0; k < pp->n_vars; k++) {
		if (!pp->decl && !var_known(p, pp->vars[k])) {
			r = parse_error(p, start_pos, "undefined variable \"%s\"", pp->vars[k]);
			goto fail;
		}
	}

	for (;;) {
		struct cmd cmd = {0};
		cmd.pos = c->i < n ? t[c->i].pos : start_pos;
		while (c->i < n && t[c->i].type != TK_PIPE && t[c->i].type != TK_RPAREN) {
			struct arg a;
			r = parse_operand(p, c, &a);
			if (r < 0) {
				for (size_t k = 0; k < cmd.n; k++)
					arg_release(&cmd.args[k]);
				free(cmd.args);
				goto fail;
			}
			cmd.args = xrealloc(cmd.args, sizeof(*cmd.args) * (cmd.n + 1));
			cmd.args[cmd.n++] = a;
			cmd.end = a.end;
		}
		if (cmd.n == 0) {
			r = parse_error(p, cmd.pos,
					pp->n_cmds ? "missing command after |"
						   : "missing value for command");
			goto fail;
		}
		if (cmd.n > 1 && cmd.args[0].type != ARG_FUNC && cmd.args[0].type != ARG_FIELD &&
		    cmd.args[0].type != ARG_VAR && cmd.args[0].type != ARG_PIPE) {
			r = parse_error(p, cmd.pos, "can't give argument to non-function %.*s",
					(int)(cmd.args[0].end - cmd.args[0].pos),
					p->src + cmd.args[0].pos);
			for (size_t k = 0; k < cmd.n; k++)
				arg_release(&cmd.args[k]);
			free(cmd.args);
			goto fail;
		}
		pp->cmds = xrealloc(pp->cmds, sizeof(*pp->cmds) * (pp->n_cmds + 1));
		pp->cmds[pp->n_cmds++] = cmd;
		if (c->i < n && t[c->i].type == TK_PIPE) {
			c->i++;
			continue;
		}
		break;
	}
	if (c->i < n && t[c->i].type == TK_RPAREN && !in_paren) {
		r = parse_error(p, t[c->i].pos, "unexpected right paren");
		goto fail;
	}
	if (pp->decl)
		for (size_t k = 0; k < pp->n_vars; k++)
			var_push(p, pp->vars[k]);
	p->depth--;
	*ret = pp;
	return 0;
fail:
	p->depth--;
	pipe_free(pp);
	return r;
}

enum item_kind { ITEM_EOF, ITEM_TEXT, ITEM_ACTION };

/* The next piece of the source: text up to "{{", or one action. */
static int next_item(struct parser *p, enum item_kind *kind, struct action *a, size_t *text_start,
		     size_t *text_len)
{
	const char *s = p->src;

	*a = (struct action){0};
	if (p->pos >= p->len) {
		*kind = ITEM_EOF;
		return 0;
	}
	if (startswith(s + p->pos, "{{")) {
		size_t i = p->pos + 2;
		if (i + 1 < p->len && s[i] == '-' && is_space(s[i + 1]))
			i += 2;
		p->pos = i;
		*kind = ITEM_ACTION;
		return lex_action(p, a);
	}
	const char *e = strstr(s + p->pos, "{{");
	size_t start = p->pos, end = e ? (size_t)(e - s) : p->len;
	p->pos = end;
	if (p->trim_next) {
		while (start < end && is_space(s[start]))
			start++;
		p->trim_next = false;
	}
	if (e && end + 3 < p->len + 1 && s[end + 2] == '-' && end + 3 < p->len &&
	    is_space(s[end + 3]))
		while (end > start && is_space(s[end - 1]))
			end--;
	*kind = ITEM_TEXT;
	*text_start = start;
	*text_len = end - start;
	return 0;
}

enum list_end { END_EOF, END_END, END_ELSE };

static int parse_list(struct parser *p, struct list *l, enum list_end *how, struct action *end_a);

static bool action_is(struct action *a, const char *kw)
{
	return a->n > 0 && a->toks[0].type == TK_IDENT && streq(a->toks[0].val, kw);
}

/* if/range/with: the pipeline in a (after its keyword at index kw_i), the body, else, end. */
static int parse_control(struct parser *p, enum node_type type, struct action *a, size_t kw_i,
			 struct node **ret)
{
	struct node *n = xnew0(struct node, 1);
	struct cursor c = {a, kw_i + 1};
	size_t vars_mark = p->n_vars;
	_cleanup_(action_release) struct action end_a = {0};
	enum list_end how;
	int r;

	n->type = type;
	n->pos = a->toks[kw_i].pos;
	if (c.i >= a->n) {
		r = parse_error(p, a->pos, "missing value for %s", a->toks[kw_i].val);
		goto fail;
	}
	r = parse_pipeline(p, &c, false, type == N_RANGE, &n->pipe);
	if (r < 0)
		goto fail;
	if (c.i < a->n) {
		r = parse_error(p, a->toks[c.i].pos, "unexpected \"%s\" in %s",
				tok_desc(&a->toks[c.i]), a->toks[kw_i].val);
		goto fail;
	}
	if (type == N_RANGE)
		p->range_depth++;
	r = parse_list(p, &n->list, &how, &end_a);
	if (type == N_RANGE)
		p->range_depth--;
	if (r < 0)
		goto fail;
	if (how == END_EOF) {
		r = parse_error(p, p->len, "unexpected EOF");
		goto fail;
	}
	if (how == END_ELSE) {
		if (end_a.n > 1 && end_a.toks[1].type == TK_IDENT &&
		    (streq(end_a.toks[1].val, "if") || streq(end_a.toks[1].val, "with")) &&
		    type != N_RANGE) {
			/* {{else if x}}: a nested if that consumes our {{end}} */
			struct node *inner = NULL;
			p->n_vars = p->n_vars; /* the else branch sees the same scope */
			r = parse_control(p, streq(end_a.toks[1].val, "if") ? N_IF : N_WITH, &end_a,
					  1, &inner);
			if (r < 0)
				goto fail;
			list_add(&n->else_list, inner);
		} else {
			if (end_a.n > 1) {
				r = parse_error(p, end_a.pos, "unexpected \"%s\" in else",
						tok_desc(&end_a.toks[1]));
				goto fail;
			}
			action_release(&end_a);
			r = parse_list(p, &n->else_list, &how, &end_a);
			if (r < 0)
				goto fail;
			if (how == END_EOF) {
				r = parse_error(p, p->len, "unexpected EOF");
				goto fail;
			}
			if (how == END_ELSE) {
				r = parse_error(p, end_a.pos, "expected end; found {{else}}");
				goto fail;
			}
		}
	}
	if (how == END_END && end_a.n > 1) {
		r = parse_error(p, end_a.pos, "unexpected \"%s\" in end", tok_desc(&end_a.toks[1]));
		goto fail;
	}
	vars_pop_to(p, vars_mark);
	*ret = n;
	return 0;
fail:
	vars_pop_to(p, vars_mark);
	node_free(n);
	return r;
}

static int parse_list(struct parser *p, struct list *l, enum list_end *how, struct action *end_a)
{
	int r;

	if (++p->depth > MAX_DEPTH) {
		p->depth--;
		return parse_error(p, p->pos, "template nesting too deep");
	}
	for (;;) {
		enum item_kind kind;
		struct action a;
		size_t ts = 0, tl = 0;
		struct node *n = NULL;

		r = next_item(p, &kind, &a, &ts, &tl);
		if (r < 0) {
			action_release(&a);
			break;
		}
		if (kind == ITEM_EOF) {
			*how = END_EOF;
			break;
		}
		if (kind == ITEM_TEXT) {
			if (tl > 0) {
				n = xnew0(struct node, 1);
				n->type = N_TEXT;
				n->text = xstrndup(p->src + ts, tl);
				n->len = tl;
				n->pos = ts;
				list_add(l, n);
			}
			continue;
		}
		if (a.comment) {
			action_release(&a);
			continue;
		}
		if (a.n == 0) {
			r = parse_error(p, a.pos, "missing value for command");
			action_release(&a);
			break;
		}
		if (action_is(&a, "end") || action_is(&a, "else")) {
			*how = action_is(&a, "end") ? END_END : END_ELSE;
			*end_a = a;
			break;
		}
		if (action_is(&a, "if") || action_is(&a, "range") || action_is(&a, "with")) {
			enum node_type t = action_is(&a, "if")	    ? N_IF
					   : action_is(&a, "range") ? N_RANGE
								    : N_WITH;
			r = parse_control(p, t, &a, 0, &n);
			action_release(&a);
			if (r < 0)
				break;
			list_add(l, n);
			continue;
		}
		if (action_is(&a, "break") || action_is(&a, "continue")) {
			if (p->range_depth == 0) {
				r = parse_error(p, a.pos, "{{%s}} outside {{range}}",
						a.toks[0].val);
				action_release(&a);
				break;
			}
			n = xnew0(struct node, 1);
			n->type = action_is(&a, "break") ? N_BREAK : N_CONTINUE;
			n->pos = a.pos;
			action_release(&a);
			list_add(l, n);
			continue;
		}
		if (action_is(&a, "define") || action_is(&a, "template") ||
		    action_is(&a, "block")) {
			r = parse_error(p, a.pos, "{{%s}} is not supported", a.toks[0].val);
			action_release(&a);
			break;
		}
		n = xnew0(struct node, 1);
		n->type = N_ACTION;
		n->pos = a.pos;
		struct cursor c = {&a, 0};
		r = parse_pipeline(p, &c, false, false, &n->pipe);
		if (r >= 0 && c.i < a.n)
			r = parse_error(p, a.toks[c.i].pos, "unexpected \"%s\" in command",
					tok_desc(&a.toks[c.i]));
		action_release(&a);
		if (r < 0) {
			node_free(n);
			break;
		}
		list_add(l, n);
	}
	p->depth--;
	return r < 0 ? r : 0;
}

int template_parse(const char *src, struct template **ret, struct error **err)
{
	struct template *t = xnew0(struct template, 1);
	struct parser p = {.src = src, .len = strlen(src), .err = err};
	_cleanup_(action_release) struct action end_a = {0};
	enum list_end how = END_EOF;
	int r;

	t->src = xstrdup(src);
	p.src = t->src;
	var_push(&p, "$");
	r = parse_list(&p, &t->root, &how, &end_a);
	if (r >= 0 && how != END_EOF)
		r = parse_error(&p, end_a.pos, "unexpected {{%s}}",
				how == END_END ? "end" : "else");
	vars_pop_to(&p, 0);
	free(p.vars);
	if (r < 0) {
		template_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

/* ---- printing values ------------------------------------------------------------- */

/* Go's strconv.FormatFloat(f, 'g', -1, 64) as fmt's %v prints it. */
static void print_float(struct sbuf *out, double d)
{
	char buf[64];
	int prec;

	if (isnan(d)) {
		sbuf_puts(out, "NaN");
		return;
	}
	if (isinf(d)) {
		sbuf_puts(out, d > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (d == 0) {
		sbuf_puts(out, signbit(d) ? "-0" : "0");
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
	int exp = atoi(strchr(buf, 'e') + 1);
	/* shortest %g decides with precision 6: 1e+06, 123456, 1.5e-05 */
	if (exp < -4 || exp >= 6) {
		sbuf_puts(out, buf);
		return;
	}
	snprintf(buf, sizeof(buf), "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, d);
	sbuf_puts(out, buf);
}

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_value(struct sbuf *out, json_object *v, bool nested)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		sbuf_puts(out, nested ? "<nil>" : "<no value>");
		break;
	case json_type_boolean:
		sbuf_puts(out, json_object_get_boolean(v) ? "true" : "false");
		break;
	case json_type_int:
		sbuf_printf(out, "%" PRId64, json_object_get_int64(v));
		break;
	case json_type_double:
		print_float(out, json_object_get_double(v));
		break;
	case json_type_string:
		sbuf_add(out, json_object_get_string(v), (size_t)json_object_get_string_len(v));
		break;
	case json_type_array:
		sbuf_puts(out, "[");
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			if (i)
				sbuf_puts(out, " ");
			print_value(out, json_object_array_get_idx(v, i), true);
		}
		sbuf_puts(out, "]");
		break;
	case json_type_object: {
		size_t n = (size_t)json_object_object_length(v), k = 0;
		const char **keys = xnew0(const char *, n + 1);
		json_object_object_foreach(v, key, val)
		{
			(void)val;
			keys[k++] = key;
		}
		qsort(keys, k, sizeof(char *), strcmp_ptr);
		sbuf_puts(out, "map[");
		for (size_t i = 0; i < k; i++) {
			if (i)
				sbuf_puts(out, " ");
			sbuf_puts(out, keys[i]);
			sbuf_puts(out, ":");
			print_value(out, json_object_object_get(v, keys[i]), true);
		}
		sbuf_puts(out, "]");
		free(keys);
		break;
	}
	}
}

void template_print_value(struct sbuf *out, json_object *v)
{
	print_value(out, v, false);
}

/* ---- execution ------------------------------------------------------------------ */

struct var {
	const char *name;
	json_object *v;
};

struct exec {
	struct template *t;
	struct sbuf *out;
	unsigned flags;
	json_object *root;
	struct var *vars;
	size_t n_vars;
	struct error **err;
	int ctl; /* 1 break, 2 continue */
	int depth;
};

_printf_(4, 5) static int exec_error(struct exec *x, size_t pos, size_t end, const char *fmt, ...)
{
	_cleanup_free_ char *m = NULL;
	const char *src = x->t->src;
	const char *nl = NULL;
	va_list ap;
	size_t col;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	for (size_t i = 0; i < pos && src[i]; i++)
		if (src[i] == '\n')
			nl = src + i;
	col = nl ? pos - (size_t)(nl - src) - 1 : pos;
	return error_setx(x->err, -EINVAL, "template: :%d:%zu: executing \"\" at <%.*s>: %s",
			  line_of(src, pos), col, (int)(end - pos), src + pos, m ? m : "error");
}

static const char *go_type(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "interface {}";
	case json_type_boolean:
		return "bool";
	case json_type_int:
		return "int";
	case json_type_double:
		return "float64";
	case json_type_string:
		return "string";
	case json_type_array:
		return "[]interface {}";
	case json_type_object:
		return "map[string]interface {}";
	}
	return "interface {}";
}

static bool truthy(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return false;
	case json_type_boolean:
		return json_object_get_boolean(v);
	case json_type_int:
		return json_object_get_int64(v) != 0;
	case json_type_double:
		return json_object_get_double(v) != 0;
	case json_type_string:
		return json_object_get_string_len(v) > 0;
	case json_type_array:
		return json_object_array_length(v) > 0;
	case json_type_object:
		return json_object_object_length(v) > 0;
	}
	return false;
}

static char *value_string(json_object *v)
{
	struct sbuf b = {0};
	print_value(&b, v, false);
	return sbuf_take(&b);
}

static json_object *var_get(struct exec *x, const char *name)
{
	for (size_t i = x->n_vars; i > 0; i--)
		if (streq(x->vars[i - 1].name, name))
			return x->vars[i - 1].v;
	return NULL;
}

static void var_push_value(struct exec *x, const char *name, json_object *v)
{
	x->vars = xrealloc(x->vars, sizeof(*x->vars) * (x->n_vars + 1));
	x->vars[x->n_vars++] = (struct var){name, json_object_get(v)};
}

static void var_set(struct exec *x, const char *name, json_object *v)
{
	for (size_t i = x->n_vars; i > 0; i--)
		if (streq(x->vars[i - 1].name, name)) {
			json_object_put(x->vars[i - 1].v);
			x->vars[i - 1].v = json_object_get(v);
			return;
		}
}

static void vars_pop(struct exec *x, size_t mark)
{
	while (x->n_vars > mark)
		json_object_put(x->vars[--x->n_vars].v);
}

/* Apply a field chain to v (owned); *ret is owned. */
/* Docker executes templates over Go structs, whose field names differ from their JSON
 * keys in a few places (ID `json:"Id"`); the JSON key answers for the Go name. */
static const char *go_field_json_key(const char *f)
{
	if (streq(f, "ID"))
		return "Id";
	if (streq(f, "APIVersion"))
		return "ApiVersion";
	return NULL;
}

static int apply_fields(struct exec *x, const struct arg *a, json_object *v, json_object **ret)
{
	for (size_t i = 0; i < a->n_fields; i++) {
		const char *f = a->fields[i];
		if (json_object_get_type(v) == json_type_object) {
			json_object *m = NULL;
			const char *alias = go_field_json_key(f);
			if (!json_object_object_get_ex(v, f, &m) &&
			    !(alias && json_object_object_get_ex(v, alias, &m))) {
				if ((x->flags & TEMPLATE_STRICT) && v == x->root) {
					json_object_put(v);
					return exec_error(x, a->pos, a->end,
							  "can't evaluate field %s in type "
							  "*formatter.Context",
							  f);
				}
				m = NULL;
			}
			json_object *next = json_object_get(m);
			json_object_put(v);
			v = next;
			continue;
		}
		if (!v) {
			if (x->flags & TEMPLATE_HEADER)
				continue;
			return exec_error(x, a->pos, a->end,
					  "nil pointer evaluating interface {}.%s", f);
		}
		int r = exec_error(x, a->pos, a->end, "can't evaluate field %s in type %s", f,
				   go_type(v));
		json_object_put(v);
		return r;
	}
	*ret = v;
	return 0;
}

static int eval_pipe(struct exec *x, json_object *dot, struct pipe *p, bool bind,
		     json_object **ret);
static int call_func(struct exec *x, const struct cmd *c, const char *name, json_object **args,
		     size_t n, json_object **ret);

static int eval_arg(struct exec *x, json_object *dot, const struct arg *a, json_object **ret)
{
	json_object *v = NULL;
	int r;

	switch (a->type) {
	case ARG_DOT:
	case ARG_FIELD:
		v = json_object_get(dot);
		break;
	case ARG_VAR:
		v = json_object_get(var_get(x, a->str));
		break;
	case ARG_STRING:
		*ret = json_object_new_string(a->str);
		return 0;
	case ARG_NUMBER:
		*ret = json_object_get(a->num);
		return 0;
	case ARG_BOOL:
		*ret = json_object_new_boolean(a->b);
		return 0;
	case ARG_NIL:
		*ret = NULL;
		return 0;
	case ARG_FUNC: {
		struct cmd c = {(struct arg *)a, 1, a->pos, a->end};
		return call_func(x, &c, a->str, NULL, 0, ret);
	}
	case ARG_PIPE:
		r = eval_pipe(x, dot, a->pipe, true, &v);
		if (r < 0)
			return r;
		break;
	}
	return apply_fields(x, a, v, ret);
}

static void put_args(json_object **args, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_object_put(args[i]);
	free(args);
}

static int eval_cmd(struct exec *x, json_object *dot, const struct cmd *c, bool has_final,
		    json_object *final, json_object **ret)
{
	const struct arg *a0 = &c->args[0];
	size_t n_extra = c->n - 1 + (has_final ? 1 : 0);
	json_object **args = NULL;
	size_t n = 0;
	int r;

	if (a0->type == ARG_FUNC && (streq(a0->str, "and") || streq(a0->str, "or"))) {
		bool is_and = streq(a0->str, "and");
		json_object *v = NULL;
		if (n_extra < 1)
			return exec_error(x, c->pos, c->end,
					  "wrong number of args for %s: want at least 1 got 0",
					  a0->str);
		for (size_t i = 1; i <= n_extra; i++) {
			json_object_put(v);
			v = NULL;
			if (i < c->n) {
				r = eval_arg(x, dot, &c->args[i], &v);
				if (r < 0)
					return r;
			} else
				v = json_object_get(final);
			if (truthy(v) != is_and)
				break;
		}
		*ret = v;
		return 0;
	}

	if (a0->type != ARG_FUNC && n_extra == 0)
		return eval_arg(x, dot, a0, ret);

	args = xnew0(json_object *, n_extra + 1);
	for (size_t i = 1; i < c->n; i++) {
		r = eval_arg(x, dot, &c->args[i], &args[n]);
		if (r < 0) {
			put_args(args, n);
			return r;
		}
		n++;
	}
	if (has_final)
		args[n++] = json_object_get(final);

	if (a0->type == ARG_FUNC) {
		r = call_func(x, c, a0->str, args, n, ret);
		put_args(args, n);
		return r;
	}

	/* A field with arguments: docker's contexts have methods like .Label "key"; an
	 * object indexed by its argument stands in for them. */
	json_object *v = NULL;
	r = eval_arg(x, dot, a0, &v);
	if (r < 0) {
		put_args(args, n);
		return r;
	}
	if (json_object_get_type(v) == json_type_object && n == 1 &&
	    json_object_is_type(args[0], json_type_string)) {
		json_object *m = NULL;
		/* the methods are Go's func(string) string: a missing key is "" */
		if (json_object_object_get_ex(v, json_object_get_string(args[0]), &m))
			*ret = json_object_get(m);
		else
			*ret = json_object_new_string("");
		json_object_put(v);
		put_args(args, n);
		return 0;
	}
	if ((x->flags & TEMPLATE_HEADER) && (json_object_is_type(v, json_type_string) || !v)) {
		*ret = v;
		put_args(args, n);
		return 0;
	}
	json_object_put(v);
	put_args(args, n);
	return exec_error(x, a0->pos, a0->end, "can't give argument to non-function %.*s",
			  (int)(a0->end - a0->pos), x->t->src + a0->pos);
}

static int eval_pipe(struct exec *x, json_object *dot, struct pipe *p, bool bind, json_object **ret)
{
	json_object *v = NULL;
	int r;

	if (++x->depth > MAX_DEPTH) {
		x->depth--;
		return error_setx(x->err, -EINVAL, "template: exceeded maximum nesting depth");
	}
	for (size_t i = 0; i < p->n_cmds; i++) {
		json_object *next = NULL;
		r = eval_cmd(x, dot, &p->cmds[i], i > 0, v, &next);
		json_object_put(v);
		if (r < 0) {
			x->depth--;
			return r;
		}
		v = next;
	}
	x->depth--;
	if (bind && p->n_vars == 1) {
		if (p->decl)
			var_push_value(x, p->vars[0], v);
		else
			var_set(x, p->vars[0], v);
	}
	*ret = v;
	return 0;
}

/* ---- functions ----------------------------------------------------------------- */

static size_t utf8_len(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

/* Byte offset of the first `runes` code points. */
static size_t utf8_prefix(const char *s, size_t n, size_t runes)
{
	size_t c = 0, i;
	for (i = 0; i < n; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (c == runes)
				break;
			c++;
		}
	}
	return i;
}

static bool as_int(json_object *v, int64_t *ret)
{
	if (json_object_is_type(v, json_type_int)) {
		*ret = json_object_get_int64(v);
		return true;
	}
	if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);
		if (d > -9e18 && d < 9e18 && (double)(int64_t)d == d) {
			*ret = (int64_t)d;
			return true;
		}
	}
	return false;
}

static bool is_number(json_object *v)
{
	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

static double as_double(json_object *v)
{
	return json_object_is_type(v, json_type_int) ? (double)json_object_get_int64(v)
						     : json_object_get_double(v);
}

static void pad_to(struct sbuf *out, const char *s, size_t len, long width, bool left)
{
	size_t w = utf8_len(s, len);
	if (!left)
		for (size_t i = w; (long)i < width; i++)
			sbuf_add(out, " ", 1);
	sbuf_add(out, s, len);
	if (left)
		for (size_t i = w; (long)i < width; i++)
			sbuf_add(out, " ", 1);
}

/* snprintf with a format built at run time from a Go verb's flags (checked by the caller). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void c_format(struct sbuf *out, const char *cfmt, int width, int prec, bool is_int,
		     long long iv, double dv)
{
	char buf[512];
	if (is_int) {
		if (width >= 0 && prec >= 0)
			snprintf(buf, sizeof(buf), cfmt, width, prec, iv);
		else if (width >= 0)
			snprintf(buf, sizeof(buf), cfmt, width, iv);
		else if (prec >= 0)
			snprintf(buf, sizeof(buf), cfmt, prec, iv);
		else
			snprintf(buf, sizeof(buf), cfmt, iv);
	} else {
		if (width >= 0 && prec >= 0)
			snprintf(buf, sizeof(buf), cfmt, width, prec, dv);
		else if (width >= 0)
			snprintf(buf, sizeof(buf), cfmt, width, dv);
		else if (prec >= 0)
			snprintf(buf, sizeof(buf), cfmt, prec, dv);
		else
			snprintf(buf, sizeof(buf), cfmt, dv);
	}
	sbuf_puts(out, buf);
}
#pragma GCC diagnostic pop

static void go_sprintf(struct sbuf *out, const char *fmt, json_object **args, size_t n)
{
	size_t ai = 0;

	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			sbuf_add(out, p, 1);
			continue;
		}
		char flags[8] = {0};
		size_t nf = 0;
		long width = -1, prec = -1;
		p++;
		while (*p && strchr("-+# 0", *p)) {
			if (nf < sizeof(flags) - 1 && !strchr(flags, *p))
				flags[nf++] = *p;
			p++;
		}
		if (isdigit((unsigned char)*p)) {
			width = 0;
			while (isdigit((unsigned char)*p) && width < 10000)
				width = width * 10 + (*p++ - '0');
		}
		if (*p == '.') {
			p++;
			prec = 0;
			while (isdigit((unsigned char)*p) && prec < 10000)
				prec = prec * 10 + (*p++ - '0');
		}
		char verb = *p;
		if (!verb) {
			sbuf_puts(out, "%!(NOVERB)");
			break;
		}
		if (verb == '%') {
			sbuf_add(out, "%", 1);
			continue;
		}
		if (ai >= n) {
			sbuf_printf(out, "%%!%c(MISSING)", verb);
			continue;
		}
		json_object *v = args[ai++];
		bool left = strchr(flags, '-') != NULL;
		char cfmt[64];
		int64_t iv;

		switch (verb) {
		case 'v':
		case 's': {
			struct sbuf t = {0};
			if (verb == 's' && !v) {
				sbuf_puts(out, "%!s(<nil>)");
				break;
			}
			print_value(&t, v, true);
			size_t len = t.len;
			if (prec >= 0)
				len = utf8_prefix(t.s ? t.s : "", t.len, (size_t)prec);
			pad_to(out, t.s ? t.s : "", len, width, left);
			sbuf_release(&t);
			break;
		}
		case 'q': {
			_cleanup_free_ char *s = value_string(v);
			_cleanup_free_ char *q = format_quote(s);
			pad_to(out, q, strlen(q), width, left);
			break;
		}
		case 't':
			if (json_object_is_type(v, json_type_boolean))
				pad_to(out, json_object_get_boolean(v) ? "true" : "false",
				       json_object_get_boolean(v) ? 4 : 5, width, left);
			else {
				_cleanup_free_ char *s = value_string(v);
				sbuf_printf(out, "%%!t(%s=%s)", go_type(v), s);
			}
			break;
		case 'd':
		case 'x':
		case 'X':
		case 'o':
		case 'b':
		case 'c':
			if (as_int(v, &iv) && json_object_is_type(v, json_type_int)) {
				if (verb == 'b') {
					char bits[70];
					int k = 0;
					uint64_t u = iv < 0 ? (uint64_t)-iv : (uint64_t)iv;
					do {
						bits[k++] = (char)('0' + (u & 1));
						u >>= 1;
					} while (u && k < 66);
					struct sbuf t = {0};
					if (iv < 0)
						sbuf_add(&t, "-", 1);
					while (k > 0)
						sbuf_add(&t, &bits[--k], 1);
					pad_to(out, t.s, t.len, width, left);
					sbuf_release(&t);
					break;
				}
				if (verb == 'c') {
					char ch = (char)iv;
					pad_to(out, &ch, 1, width, left);
					break;
				}
				snprintf(cfmt, sizeof(cfmt), "%%%s%s%s%s%s%c", flags,
					 width >= 0 ? "*" : "", "", prec >= 0 ? ".*" : "", "ll",
					 verb);
				c_format(out, cfmt, (int)width, (int)prec, true, iv, 0);
			} else if ((verb == 'x' || verb == 'X') &&
				   json_object_is_type(v, json_type_string)) {
				const char *s = json_object_get_string(v);
				for (; *s; s++)
					sbuf_printf(out, verb == 'x' ? "%02x" : "%02X",
						    (unsigned char)*s);
			} else {
				_cleanup_free_ char *s = value_string(v);
				sbuf_printf(out, "%%!%c(%s=%s)", verb, go_type(v), s);
			}
			break;
		case 'e':
		case 'E':
		case 'f':
		case 'F':
		case 'g':
		case 'G':
			if (is_number(v)) {
				snprintf(cfmt, sizeof(cfmt), "%%%s%s%s%c", flags,
					 width >= 0 ? "*" : "", prec >= 0 ? ".*" : "", verb);
				c_format(out, cfmt, (int)width, (int)prec, false, 0, as_double(v));
			} else {
				_cleanup_free_ char *s = value_string(v);
				sbuf_printf(out, "%%!%c(%s=%s)", verb, go_type(v), s);
			}
			break;
		default: {
			_cleanup_free_ char *s = value_string(v);
			sbuf_printf(out, "%%!%c(%s=%s)", verb, go_type(v), s);
		}
		}
	}
	if (ai < n) {
		sbuf_puts(out, "%!(EXTRA ");
		for (size_t i = ai; i < n; i++) {
			_cleanup_free_ char *s = value_string(args[i]);
			sbuf_printf(out, "%s%s=%s", i > ai ? ", " : "", go_type(args[i]), s);
		}
		sbuf_puts(out, ")");
	}
}

/* Go's fmt.Sprint: spaces between operands when neither is a string. */
static void go_sprint(struct sbuf *out, json_object **args, size_t n, bool ln)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && (ln || (!json_object_is_type(args[i], json_type_string) &&
				     !json_object_is_type(args[i - 1], json_type_string))))
			sbuf_add(out, " ", 1);
		print_value(out, args[i], true);
	}
	if (ln)
		sbuf_add(out, "\n", 1);
}

static int compare(struct exec *x, const struct cmd *c, const char *name, json_object *a,
		   json_object *b, int *ret)
{
	if (is_number(a) && is_number(b)) {
		if (json_object_is_type(a, json_type_int) &&
		    json_object_is_type(b, json_type_int)) {
			int64_t ia = json_object_get_int64(a), ib = json_object_get_int64(b);
			*ret = ia < ib ? -1 : ia > ib;
		} else {
			double da = as_double(a), db = as_double(b);
			*ret = da < db ? -1 : da > db;
		}
		return 0;
	}
	if (json_object_is_type(a, json_type_string) && json_object_is_type(b, json_type_string)) {
		int k = strcmp(json_object_get_string(a), json_object_get_string(b));
		*ret = k < 0 ? -1 : k > 0;
		return 0;
	}
	if (json_object_is_type(a, json_type_boolean) &&
	    json_object_is_type(b, json_type_boolean) && (streq(name, "eq") || streq(name, "ne"))) {
		*ret = json_object_get_boolean(a) != json_object_get_boolean(b);
		return 0;
	}
	if (!a && !b && (streq(name, "eq") || streq(name, "ne"))) {
		*ret = 0;
		return 0;
	}
	return exec_error(x, c->pos, c->end, "error calling %s: incompatible types for comparison",
			  name);
}

static json_object *new_string_len(const char *s, size_t n)
{
	return json_object_new_string_len(s, (int)n);
}

static int call_func(struct exec *x, const struct cmd *c, const char *name, json_object **args,
		     size_t n, json_object **ret)
{
	bool header = x->flags & TEMPLATE_HEADER;
	struct sbuf b = {0};
	int r;

#define WANT(k)                                                                                    \
	do {                                                                                       \
		if (n != (k))                                                                      \
			return exec_error(x, c->pos, c->end,                                       \
					  "wrong number of args for %s: want %d got %zu", name,    \
					  (int)(k), n);                                            \
	} while (0)
#define WANT_MIN(k)                                                                                \
	do {                                                                                       \
		if (n < (k))                                                                       \
			return exec_error(x, c->pos, c->end,                                       \
					  "wrong number of args for %s: want at least %d got %zu", \
					  name, (int)(k), n);                                      \
	} while (0)

	/* docker's HeaderFunctions: formatting functions pass the column title through */
	if (header && (streq(name, "json") || streq(name, "join") || streq(name, "split") ||
		       streq(name, "upper") || streq(name, "lower") || streq(name, "title") ||
		       streq(name, "pad") || streq(name, "truncate"))) {
		WANT_MIN(1);
		*ret = json_object_is_type(args[0], json_type_string) ? json_object_get(args[0])
								      : NULL;
		return 0;
	}

	if (streq(name, "json")) {
		WANT(1);
		_cleanup_json_ json_object *sorted = NULL;
		json_object *v = args[0];
		/* A formatter row stands for a Go context, which json marshals as a map:
		 * keys sorted, methods that take arguments (.Label "k") left out. */
		if (json_object_is_type(v, json_type_object) &&
		    json_object_get_userdata(v) == TEMPLATE_CONTEXT_MARK) {
			size_t nk = (size_t)json_object_object_length(v), k = 0;
			const char **keys = xnew0(const char *, nk + 1);
			json_object_object_foreach(v, key, val)
			{
				(void)val;
				if (!streq(key, "Label"))
					keys[k++] = key;
			}
			qsort(keys, k, sizeof(char *), strcmp_ptr);
			sorted = json_object_new_object();
			for (size_t i = 0; i < k; i++)
				json_object_object_add(
				    sorted, keys[i],
				    json_object_get(json_object_object_get(v, keys[i])));
			free(keys);
			v = sorted;
		}
		const char *s = json_object_to_json_string_ext(
		    v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		/* docker's json func doesn't escape HTML, but a context's MarshalJSON
		 * (json.Marshal) escapes <, > and & (only ever inside strings) */
		for (; *s; s++) {
			if (!sorted)
				sbuf_add(&b, s, 1);
			else if (*s == '<')
				sbuf_puts(&b, "\\u003c");
			else if (*s == '>')
				sbuf_puts(&b, "\\u003e");
			else if (*s == '&')
				sbuf_puts(&b, "\\u0026");
			else
				sbuf_add(&b, s, 1);
		}
		*ret = new_string_len(b.s ? b.s : "", b.len);
		sbuf_release(&b);
		return 0;
	}
	if (streq(name, "join")) {
		WANT(2);
		if (!json_object_is_type(args[0], json_type_array) && !(args[0] == NULL && header))
			return exec_error(x, c->pos, c->end,
					  "error calling join: wrong type for value; expected "
					  "[]string; got %s",
					  go_type(args[0]));
		_cleanup_free_ char *sep = value_string(args[1]);
		for (size_t i = 0; i < json_object_array_length(args[0]); i++) {
			if (i)
				sbuf_puts(&b, sep);
			print_value(&b, json_object_array_get_idx(args[0], i), true);
		}
		*ret = new_string_len(b.s ? b.s : "", b.len);
		sbuf_release(&b);
		return 0;
	}
	if (streq(name, "split")) {
		WANT(2);
		_cleanup_free_ char *s = value_string(args[0]);
		_cleanup_free_ char *sep = value_string(args[1]);
		json_object *arr = json_object_new_array();
		size_t sl = strlen(sep);
		const char *p = s;
		if (sl == 0) {
			for (size_t i = 0; s[i];) {
				size_t k = utf8_prefix(s + i, strlen(s + i), 1);
				json_object_array_add(arr, new_string_len(s + i, k));
				i += k ? k : 1;
			}
		} else {
			for (;;) {
				const char *e = strstr(p, sep);
				if (!e) {
					json_object_array_add(arr, json_object_new_string(p));
					break;
				}
				json_object_array_add(arr, new_string_len(p, (size_t)(e - p)));
				p = e + sl;
			}
		}
		*ret = arr;
		return 0;
	}
	if (streq(name, "upper") || streq(name, "lower") || streq(name, "title")) {
		WANT(1);
		char *s = value_string(args[0]);
		bool word_start = true;
		for (char *p = s; *p; p++) {
			if (streq(name, "upper"))
				*p = (char)toupper((unsigned char)*p);
			else if (streq(name, "lower"))
				*p = (char)tolower((unsigned char)*p);
			else {
				if (word_start && islower((unsigned char)*p))
					*p = (char)toupper((unsigned char)*p);
				word_start = !isalnum((unsigned char)*p) && *p != '\'' &&
					     (unsigned char)*p < 0x80;
			}
		}
		*ret = json_object_new_string(s);
		free(s);
		return 0;
	}
	if (streq(name, "pad")) {
		int64_t before, after;
		WANT(3);
		if (!as_int(args[1], &before) || !as_int(args[2], &after) || before < 0 ||
		    after < 0 || before > 10000 || after > 10000)
			return exec_error(x, c->pos, c->end,
					  "error calling pad: wrong type for value; expected int");
		_cleanup_free_ char *s = value_string(args[0]);
		for (int64_t i = 0; i < before; i++)
			sbuf_add(&b, " ", 1);
		sbuf_puts(&b, s);
		for (int64_t i = 0; i < after; i++)
			sbuf_add(&b, " ", 1);
		*ret = json_object_new_string(b.s);
		sbuf_release(&b);
		return 0;
	}
	if (streq(name, "truncate")) {
		int64_t len;
		WANT(2);
		if (!as_int(args[1], &len) || len < 0)
			return exec_error(
			    x, c->pos, c->end,
			    "error calling truncate: wrong type for value; expected int");
		_cleanup_free_ char *s = value_string(args[0]);
		if ((int64_t)strlen(s) > len)
			s[len] = 0;
		*ret = json_object_new_string(s);
		return 0;
	}
	if (streq(name, "printf")) {
		WANT_MIN(1);
		if (!json_object_is_type(args[0], json_type_string))
			return exec_error(x, c->pos, c->end,
					  "wrong type for value; expected string; got %s",
					  go_type(args[0]));
		go_sprintf(&b, json_object_get_string(args[0]), args + 1, n - 1);
		*ret = new_string_len(b.s ? b.s : "", b.len);
		sbuf_release(&b);
		return 0;
	}
	if (streq(name, "print") || streq(name, "println")) {
		go_sprint(&b, args, n, streq(name, "println"));
		*ret = new_string_len(b.s ? b.s : "", b.len);
		sbuf_release(&b);
		return 0;
	}
	if (streq(name, "index")) {
		WANT_MIN(1);
		json_object *v = args[0];
		for (size_t i = 1; i < n; i++) {
			int64_t k;
			if (json_object_is_type(v, json_type_object)) {
				if (!json_object_is_type(args[i], json_type_string))
					return exec_error(x, c->pos, c->end,
							  "error calling index: value has type %s; "
							  "should be string",
							  go_type(args[i]));
				json_object *m = NULL;
				json_object_object_get_ex(v, json_object_get_string(args[i]), &m);
				v = m;
			} else if (json_object_is_type(v, json_type_array) ||
				   json_object_is_type(v, json_type_string)) {
				if (!as_int(args[i], &k))
					return exec_error(x, c->pos, c->end,
							  "error calling index: cannot index slice/"
							  "array with type %s",
							  go_type(args[i]));
				size_t len = json_object_is_type(v, json_type_array)
						 ? json_object_array_length(v)
						 : (size_t)json_object_get_string_len(v);
				if (k < 0 || (size_t)k >= len)
					return exec_error(
					    x, c->pos, c->end,
					    "error calling index: index out of range: "
					    "%" PRId64,
					    k);
				if (json_object_is_type(v, json_type_string)) {
					*ret = json_object_new_int(
					    (unsigned char)json_object_get_string(v)[k]);
					return 0;
				}
				v = json_object_array_get_idx(v, (size_t)k);
			} else if (!v) {
				return exec_error(x, c->pos, c->end,
						  "error calling index: index of untyped nil");
			} else
				return exec_error(
				    x, c->pos, c->end,
				    "error calling index: can't index item of type %s", go_type(v));
		}
		*ret = json_object_get(v);
		return 0;
	}
	if (streq(name, "slice")) {
		int64_t lo = 0, hi;
		WANT_MIN(1);
		json_object *v = args[0];
		size_t len;
		if (json_object_is_type(v, json_type_string))
			len = (size_t)json_object_get_string_len(v);
		else if (json_object_is_type(v, json_type_array))
			len = json_object_array_length(v);
		else
			return exec_error(x, c->pos, c->end,
					  "error calling slice: can't slice item "
					  "of type %s",
					  go_type(v));
		hi = (int64_t)len;
		if ((n > 1 && !as_int(args[1], &lo)) || (n > 2 && !as_int(args[2], &hi)) || n > 3 ||
		    lo < 0 || hi < lo || hi > (int64_t)len)
			return exec_error(x, c->pos, c->end,
					  "error calling slice: index out of range");
		if (json_object_is_type(v, json_type_string)) {
			*ret = new_string_len(json_object_get_string(v) + lo, (size_t)(hi - lo));
		} else {
			json_object *arr = json_object_new_array();
			for (int64_t i = lo; i < hi; i++)
				json_object_array_add(
				    arr, json_object_get(json_object_array_get_idx(v, (size_t)i)));
			*ret = arr;
		}
		return 0;
	}
	if (streq(name, "len")) {
		WANT(1);
		switch (json_object_get_type(args[0])) {
		case json_type_string:
			*ret = json_object_new_int64(json_object_get_string_len(args[0]));
			return 0;
		case json_type_array:
			*ret = json_object_new_int64((int64_t)json_object_array_length(args[0]));
			return 0;
		case json_type_object:
			*ret = json_object_new_int64(json_object_object_length(args[0]));
			return 0;
		default:
			return exec_error(x, c->pos, c->end, "error calling len: len of type %s",
					  go_type(args[0]));
		}
	}
	if (streq(name, "not")) {
		WANT(1);
		*ret = json_object_new_boolean(!truthy(args[0]));
		return 0;
	}
	if (streq(name, "eq")) {
		WANT_MIN(2);
		bool eq = false;
		for (size_t i = 1; i < n && !eq; i++) {
			int k;
			r = compare(x, c, name, args[0], args[i], &k);
			if (r < 0)
				return r;
			eq = k == 0;
		}
		*ret = json_object_new_boolean(eq);
		return 0;
	}
	if (streq(name, "ne") || streq(name, "lt") || streq(name, "le") || streq(name, "gt") ||
	    streq(name, "ge")) {
		int k;
		WANT(2);
		if (!streq(name, "ne") && (json_object_is_type(args[0], json_type_boolean) ||
					   json_object_is_type(args[1], json_type_boolean)))
			return exec_error(x, c->pos, c->end,
					  "error calling %s: invalid type for comparison", name);
		r = compare(x, c, name, args[0], args[1], &k);
		if (r < 0)
			return r;
		bool v = streq(name, "ne")   ? k != 0
			 : streq(name, "lt") ? k < 0
			 : streq(name, "le") ? k <= 0
			 : streq(name, "gt") ? k > 0
					     : k >= 0;
		*ret = json_object_new_boolean(v);
		return 0;
	}
	if (streq(name, "html") || streq(name, "js") || streq(name, "urlquery")) {
		go_sprint(&b, args, n, false);
		struct sbuf o = {0};
		for (size_t i = 0; i < b.len; i++) {
			unsigned char ch = (unsigned char)b.s[i];
			if (streq(name, "html") && strchr("<>&'\"", ch) && ch)
				sbuf_printf(&o, "&#%d;", ch);
			else if (streq(name, "js") && strchr("\\'\"<>&=", ch) && ch)
				sbuf_printf(&o, "\\u%04X", ch);
			else if (streq(name, "urlquery") && !isalnum(ch) && !strchr("-_.~", ch))
				sbuf_printf(&o, ch == ' ' ? "+" : "%%%02X", ch);
			else
				sbuf_add(&o, (char *)&ch, 1);
		}
		*ret = new_string_len(o.s ? o.s : "", o.len);
		sbuf_release(&o);
		sbuf_release(&b);
		return 0;
	}
	return exec_error(x, c->pos, c->end, "function \"%s\" not supported", name);
#undef WANT
#undef WANT_MIN
}

/* ---- walking the tree ---------------------------------------------------------- */

static int exec_list(struct exec *x, json_object *dot, struct list *l);

static int exec_range(struct exec *x, json_object *dot, struct node *nd)
{
	json_object *v = NULL;
	size_t mark = x->n_vars;
	size_t count = 0;
	struct pipe *p = nd->pipe;
	int r;

	r = eval_pipe(x, dot, p, false, &v);
	if (r < 0)
		return r;
	const char *kv = p->n_vars == 2 ? p->vars[0] : NULL;
	const char *vv = p->n_vars == 2 ? p->vars[1] : p->n_vars == 1 ? p->vars[0] : NULL;

	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *e = json_object_array_get_idx(v, i);
			size_t m = x->n_vars;
			count++;
			if (kv) {
				json_object *idx = json_object_new_int64((int64_t)i);
				var_push_value(x, kv, idx);
				json_object_put(idx);
			}
			if (vv)
				var_push_value(x, vv, e);
			r = exec_list(x, e, &nd->list);
			vars_pop(x, m);
			if (r < 0)
				goto out;
			if (x->ctl == 1) {
				x->ctl = 0;
				break;
			}
			x->ctl = 0;
		}
	} else if (json_object_is_type(v, json_type_object)) {
		size_t n = (size_t)json_object_object_length(v), k = 0;
		const char **keys = xnew0(const char *, n + 1);
		json_object_object_foreach(v, key, val)
		{
			(void)val;
			keys[k++] = key;
		}
		qsort(keys, k, sizeof(char *), strcmp_ptr);
		for (size_t i = 0; i < k; i++) {
			json_object *e = json_object_object_get(v, keys[i]);
			size_t m = x->n_vars;
			count++;
			if (kv) {
				json_object *ks = json_object_new_string(keys[i]);
				var_push_value(x, kv, ks);
				json_object_put(ks);
			}
			if (vv)
				var_push_value(x, vv, e);
			r = exec_list(x, e, &nd->list);
			vars_pop(x, m);
			if (r < 0) {
				free(keys);
				goto out;
			}
			if (x->ctl == 1) {
				x->ctl = 0;
				break;
			}
			x->ctl = 0;
		}
		free(keys);
	} else if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0) {
		int64_t lim = json_object_get_int64(v);
		for (int64_t i = 0; i < lim && i < 1000000; i++) {
			json_object *e = json_object_new_int64(i);
			size_t m = x->n_vars;
			count++;
			if (vv)
				var_push_value(x, vv, e);
			r = exec_list(x, e, &nd->list);
			vars_pop(x, m);
			json_object_put(e);
			if (r < 0)
				goto out;
			if (x->ctl == 1) {
				x->ctl = 0;
				break;
			}
			x->ctl = 0;
		}
	} else if (v) {
		r = exec_error(x, nd->pos, nd->pos + 5, "range can't iterate over %s",
			       json_object_get_string(v));
		goto out;
	}
	r = 0;
	if (count == 0)
		r = exec_list(x, dot, &nd->else_list);
out:
	vars_pop(x, mark);
	json_object_put(v);
	return r;
}

static int exec_node(struct exec *x, json_object *dot, struct node *nd)
{
	json_object *v = NULL;
	size_t mark;
	int r;

	switch (nd->type) {
	case N_TEXT:
		sbuf_add(x->out, nd->text, nd->len);
		return 0;
	case N_ACTION:
		r = eval_pipe(x, dot, nd->pipe, true, &v);
		if (r < 0)
			return r;
		if (nd->pipe->n_vars == 0) {
			if (!v && (x->flags & TEMPLATE_HEADER))
				; /* a missing column title prints nothing */
			else
				print_value(x->out, v, false);
		}
		json_object_put(v);
		return 0;
	case N_IF:
	case N_WITH:
		mark = x->n_vars;
		r = eval_pipe(x, dot, nd->pipe, true, &v);
		if (r < 0)
			return r;
		if (truthy(v))
			r = exec_list(x, nd->type == N_WITH ? v : dot, &nd->list);
		else
			r = exec_list(x, dot, &nd->else_list);
		vars_pop(x, mark);
		json_object_put(v);
		return r;
	case N_RANGE:
		return exec_range(x, dot, nd);
	case N_BREAK:
		x->ctl = 1;
		return 0;
	case N_CONTINUE:
		x->ctl = 2;
		return 0;
	}
	return 0;
}

static int exec_list(struct exec *x, json_object *dot, struct list *l)
{
	int r;

	if (++x->depth > MAX_DEPTH) {
		x->depth--;
		return error_setx(x->err, -EINVAL, "template: exceeded maximum nesting depth");
	}
	for (size_t i = 0; i < l->n; i++) {
		r = exec_node(x, dot, l->v[i]);
		if (r < 0) {
			x->depth--;
			return r;
		}
		if (x->ctl)
			break;
	}
	x->depth--;
	return 0;
}

int template_execute(struct template *t, json_object *data, unsigned flags, struct sbuf *out,
		     struct error **err)
{
	struct exec x = {.t = t, .out = out, .flags = flags, .root = data, .err = err};
	int r;

	var_push_value(&x, "$", data);
	r = exec_list(&x, data, &t->root);
	vars_pop(&x, 0);
	free(x.vars);
	return r;
}
