/* SPDX-License-Identifier: Apache-2.0 */
/* The --format template engine and table output, against Go text/template's and docker's
 * behaviour. */
#include "cli/cli.h"
#include "test.h"

static const char *DATA =
    "{\"Id\":\"sha256:0123456789abcdef0123\",\"Name\":\"/web\",\"Count\":3,\"Zero\":0,"
    "\"Float\":1.5,\"Big\":1000000.0,\"T\":true,\"F\":false,\"Null\":null,\"Empty\":\"\","
    "\"Config\":{\"Image\":\"busybox\",\"Env\":[\"A=1\",\"B=2\"],\"Labels\":{\"b\":\"2\","
    "\"a\":\"1\",\"com.x.y\":\"z\"},\"Cmd\":[\"sh\",\"-c\",\"echo hi\"]},"
    "\"List\":[],\"Map\":{},\"Nums\":[1,2,3],\"Html\":\"<a&b>\"}";

static char *run(const char *tmpl, unsigned flags, char **ret_err)
{
	struct template *t = NULL;
	struct error *err = NULL;
	struct sbuf out = {0};
	json_object *data = json_tokener_parse(DATA);
	char *res = NULL;

	if (ret_err)
		*ret_err = NULL;
	if (template_parse(tmpl, &t, &err) < 0 ||
	    template_execute(t, data, flags, &out, &err) < 0) {
		if (ret_err)
			*ret_err = xstrdup(err->msg);
		error_free(err);
		sbuf_release(&out);
	} else
		res = sbuf_take(&out);
	template_free(t);
	json_object_put(data);
	return res;
}

#define T(tmpl, want)                                                                              \
	do {                                                                                       \
		char *e_ = NULL;                                                                   \
		char *got_ = run(tmpl, 0, &e_);                                                    \
		if (!got_)                                                                         \
			fprintf(stderr, "  %s: error %s\n", tmpl, e_);                             \
		CHECK_STREQ(got_, want);                                                           \
		free(got_);                                                                        \
		free(e_);                                                                          \
	} while (0)

#define TERR(tmpl, want)                                                                           \
	do {                                                                                       \
		char *e_ = NULL;                                                                   \
		char *got_ = run(tmpl, 0, &e_);                                                    \
		CHECK(got_ == NULL);                                                               \
		CHECK_STREQ(e_, want);                                                             \
		free(got_);                                                                        \
		free(e_);                                                                          \
	} while (0)

static void test_fields(void)
{
	T("{{.Name}}", "/web");
	T("x{{.Config.Image}}y", "xbusyboxy");
	T("{{.Count}} {{.Float}} {{.Big}} {{.T}} {{.F}}", "3 1.5 1e+06 true false");
	T("{{.Missing}}", "<no value>");
	T("{{.Null}}", "<no value>");
	T("{{.Config.Env}}", "[A=1 B=2]");
	T("{{.Config.Labels}}", "map[a:1 b:2 com.x.y:z]");
	T("{{.List}} {{.Map}}", "[] map[]");
	T("{{.}}", "map[Big:1e+06 Config:map[Cmd:[sh -c echo hi] Env:[A=1 B=2] Image:busybox "
		   "Labels:map[a:1 b:2 com.x.y:z]] Count:3 Empty: F:false Float:1.5 Html:<a&b> "
		   "Id:sha256:0123456789abcdef0123 List:[] Map:map[] Name:/web Null:<nil> Nums:[1 "
		   "2 3] T:true Zero:0]");
	T("{{.Config.Labels.b}}", "2");
	T("{{index .Config.Labels \"com.x.y\"}}", "z");
	T("{{index .Config.Env 1}}", "B=2");
	T("{{index .Config.Labels \"nope\"}}", "<no value>");
	T("{{(index .Config.Env 0)}}", "A=1");
	T("{{$x := .Config}}{{$x.Image}}", "busybox");
	T("{{$.Name}}", "/web");
}

static void test_funcs(void)
{
	T("{{json .Config.Env}}", "[\"A=1\",\"B=2\"]");
	T("{{json .Html}}", "\"<a&b>\"");
	T("{{json .Null}}", "null");
	T("{{json .Config.Labels}}", "{\"b\":\"2\",\"a\":\"1\",\"com.x.y\":\"z\"}");
	T("{{.Config.Env | json}}", "[\"A=1\",\"B=2\"]");
	T("{{join .Config.Env \",\"}}", "A=1,B=2");
	T("{{join .Config.Cmd \" \"}}", "sh -c echo hi");
	T("{{upper .Config.Image}} {{lower \"ABC\"}} {{title \"hello world\"}}",
	  "BUSYBOX abc Hello World");
	T("{{printf \"%s-%d\" .Config.Image .Count}}", "busybox-3");
	T("{{printf \"%-10s|\" .Config.Image}}", "busybox   |");
	T("{{printf \"%5d|%05d|%x\" .Count .Count 255}}", "    3|00003|ff");
	T("{{printf \"%q\" .Name}}", "\"/web\"");
	T("{{printf \"%.2f\" .Float}}", "1.50");
	T("{{printf \"%v %t\" .Config.Env .T}}", "[A=1 B=2] true");
	T("{{printf \"%s\"}}", "%!s(MISSING)");
	T("{{printf \"%d\" .Name}}", "%!d(string=/web)");
	T("{{println .Name}}", "/web\n");
	T("{{print 1 2 \"a\" \"b\"}}", "1 2ab");
	T("{{len .Config.Env}} {{len .Name}} {{len .Map}}", "2 4 0");
	T("{{split \"a:b:c\" \":\"}}", "[a b c]");
	T("{{pad .Config.Image 1 2}}|", " busybox  |");
	T("{{truncate .Config.Image 3}}", "bus");
	T("{{.Name | printf \"%s!\"}}", "/web!");
	T("{{.Config.Image | upper | printf \"<%s>\"}}", "<BUSYBOX>");
	T("{{slice .Name 1}} {{slice .Nums 1 2}}", "web [2]");
	T("{{html .Html}}", "&#60;a&#38;b&#62;");
}

static void test_control(void)
{
	T("{{if .T}}yes{{else}}no{{end}}", "yes");
	T("{{if .F}}yes{{else}}no{{end}}", "no");
	T("{{if .Missing}}yes{{else}}no{{end}}", "no");
	T("{{if .Empty}}a{{else if .Zero}}b{{else if .Count}}c{{end}}", "c");
	T("{{if not .List}}empty{{end}}", "empty");
	T("{{if and .T .Count}}1{{end}}{{if or .F .Zero}}2{{else}}3{{end}}", "13");
	T("{{if eq .Count 3}}three{{end}}", "three");
	T("{{if eq .Config.Image \"alpine\" \"busybox\"}}ok{{end}}", "ok");
	T("{{if ne .Name \"/web\"}}x{{else}}y{{end}}", "y");
	T("{{if lt .Zero .Count}}lt{{end}}{{if ge .Count 3}}ge{{end}}", "ltge");
	T("{{range .Config.Env}}[{{.}}]{{end}}", "[A=1][B=2]");
	T("{{range $i, $e := .Config.Env}}{{$i}}={{$e}};{{end}}", "0=A=1;1=B=2;");
	T("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}},{{end}}", "a:1,b:2,com.x.y:z,");
	T("{{range .Config.Labels}}{{.}}{{end}}", "12z");
	T("{{range .List}}x{{else}}none{{end}}", "none");
	T("{{range .Nums}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}", "13");
	T("{{range .Nums}}{{if eq . 2}}{{break}}{{end}}{{.}}{{end}}", "1");
	T("{{range .Missing}}x{{end}}", "");
	T("{{with .Config}}{{.Image}}{{end}}", "busybox");
	T("{{with .Missing}}x{{else}}y{{end}}", "y");
	T("{{range .Config.Env}}{{$.Name}}{{end}}", "/web/web");
	T("{{$n := 0}}{{range .Nums}}{{$n = .}}{{end}}{{$n}}", "3");
}

static void test_trim_comments(void)
{
	T("a  {{- .Name -}}  b", "a/webb");
	T("a\n{{- /* comment */ -}}\nb", "ab");
	T("{{/* c */}}x", "x");
	T("{{range .Config.Env -}}\n  {{.}}\n{{- end}}", "A=1B=2");
	T("{{-3}}", "-3");
	T("{{.Name}}\\t{{.Count}}", "/web\\t3");
}

static void test_errors(void)
{
	TERR("{{.Name", "template: :1: unclosed action");
	TERR("{{foo .Name}}", "template: :1: function \"foo\" not defined");
	TERR("{{if .T}}x", "template: :1: unexpected EOF");
	TERR("{{end}}", "template: :1: unexpected {{end}}");
	TERR("{{else}}", "template: :1: unexpected {{else}}");
	TERR("{{}}", "template: :1: missing value for command");
	TERR("{{$x}}", "template: :1: undefined variable \"$x\"");
	TERR("{{\"abc}}", "template: :1: unterminated quoted string");
	TERR("a\n{{.Name.Foo}}",
	     "template: :2:2: executing \"\" at <.Name.Foo>: can't evaluate field Foo in type "
	     "string");
	TERR("{{.Missing.Foo}}",
	     "template: :1:2: executing \"\" at <.Missing.Foo>: nil pointer evaluating interface "
	     "{}.Foo");
	TERR("{{index .Config.Env 5}}", "template: :1:2: executing \"\" at <index .Config.Env 5>: "
					"error calling index: index out of range: 5");
	TERR("{{join .Name \",\"}}",
	     "template: :1:2: executing \"\" at <join .Name \",\">: error calling join: wrong type "
	     "for value; expected []string; got string");
	TERR("{{json}}", "template: :1:2: executing \"\" at <json>: wrong number of args for json: "
			 "want 1 got 0");
	TERR("{{.Count 1}}", "template: :1:2: executing \"\" at <.Count>: can't give argument to "
			     "non-function .Count");
}

static void test_strict_and_header(void)
{
	char *e = NULL;
	char *got = run("{{.Nope}}", TEMPLATE_STRICT, &e);
	CHECK(got == NULL);
	CHECK(e && strstr(e, "can't evaluate field Nope"));
	free(e);
	free(got);
	got = run("{{json .Name}} {{upper .Config.Image}} {{.Nope}}|", TEMPLATE_HEADER, &e);
	CHECK_STREQ(got, "/web busybox |");
	free(got);
	/* a method-like field with an argument indexes an object */
	T("{{.Config.Labels \"a\"}}", "1");
}

static void test_tabwriter(void)
{
	struct sbuf out = {0};
	const char *in =
	    "CONTAINER ID\tIMAGE\tNAMES\nabc\tbusybox\tx\n0123456789ab\tverylongimagename\ty\n";
	tabwriter_format(in, strlen(in), 10, 3, &out);
	CHECK_STREQ(out.s, "CONTAINER ID   IMAGE               NAMES\n"
			   "abc            busybox             x\n"
			   "0123456789ab   verylongimagename   y\n");
	sbuf_release(&out);

	/* cells count code points; a line without tabs ends a column block */
	in = "a…\tb\nsingle line\nxx\ty\n";
	tabwriter_format(in, strlen(in), 1, 3, &out);
	CHECK_STREQ(out.s, "a…   b\nsingle line\nxx   y\n");
	sbuf_release(&out);

	/* minwidth */
	in = "A\tB\n";
	tabwriter_format(in, strlen(in), 10, 3, &out);
	CHECK_STREQ(out.s, "A         B\n");
	sbuf_release(&out);
}

static void test_formatter(void)
{
	struct formatter *f = NULL;
	struct error *err = NULL;
	json_object *hdr = json_tokener_parse("{\"ID\":\"CONTAINER ID\",\"Names\":\"NAMES\"}");
	json_object *r1 = json_tokener_parse("{\"ID\":\"0123456789ab\",\"Names\":\"web\"}");
	json_object *r2 =
	    json_tokener_parse("{\"ID\":\"ba9876543210\",\"Names\":\"a-much-longer\"}");
	char *buf = NULL;
	size_t len = 0;
	FILE *mf;

	CHECK(formatter_new("table {{.ID}}\\t{{.Names}}", "", hdr, TEMPLATE_STRICT, &f, &err) >= 0);
	CHECK(formatter_row(f, r1, &err) >= 0);
	CHECK(formatter_row(f, r2, &err) >= 0);
	mf = open_memstream(&buf, &len);
	CHECK_INT(formatter_finish(f, mf), 2);
	fclose(mf);
	CHECK_STREQ(buf,
		    "CONTAINER ID   NAMES\n0123456789ab   web\nba9876543210   a-much-longer\n");
	free(buf);
	formatter_free(f);

	CHECK(formatter_new("{{.Names}}", "", hdr, 0, &f, &err) >= 0);
	CHECK(formatter_row(f, r1, &err) >= 0);
	mf = open_memstream(&buf, &len);
	formatter_finish(f, mf);
	fclose(mf);
	CHECK_STREQ(buf, "web\n");
	free(buf);
	formatter_free(f);

	CHECK(formatter_new("json", "", hdr, 0, &f, &err) >= 0);
	CHECK(formatter_row(f, r1, &err) >= 0);
	mf = open_memstream(&buf, &len);
	formatter_finish(f, mf);
	fclose(mf);
	CHECK_STREQ(buf, "{\"ID\":\"0123456789ab\",\"Names\":\"web\"}\n");
	free(buf);
	formatter_free(f);

	CHECK(formatter_new("{{.Foo", "", hdr, 0, &f, &err) < 0);
	CHECK_STREQ(err ? err->msg : NULL, "template parsing error: template: :1: unclosed action");
	error_free(err);

	json_object_put(hdr);
	json_object_put(r1);
	json_object_put(r2);
}

int main(void)
{
	RUN(test_fields);
	RUN(test_funcs);
	RUN(test_control);
	RUN(test_trim_comments);
	RUN(test_errors);
	RUN(test_strict_and_header);
	RUN(test_tabwriter);
	RUN(test_formatter);
	return TEST_SUMMARY();
}
