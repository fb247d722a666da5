/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: a --format template is parsed, then executed against a fixed document,
 * plainly, as a table header and strictly. */
#include "cli/cli.h"

static const char DOC[] =
    "{\"Id\":\"sha256:0123456789abcdef\",\"Name\":\"/web\",\"Count\":3,\"Float\":1.5,"
    "\"T\":true,\"Null\":null,\"Config\":{\"Image\":\"busybox\",\"Env\":[\"A=1\",\"B=2\"],"
    "\"Labels\":{\"a\":\"1\",\"b\":\"2\"}},\"List\":[],\"Nums\":[1,2,3]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_object *doc;
	struct template *t = NULL;
	struct error *err = NULL;
	char *src;

	if (size > 4096)
		return 0;
	if (!doc)
		doc = json_tokener_parse(DOC);
	src = xstrndup((const char *)data, size);
	if (template_parse(src, &t, &err) >= 0) {
		static const unsigned flags[] = {0, TEMPLATE_HEADER, TEMPLATE_STRICT};
		for (size_t i = 0; i < ELEMENTSOF(flags); i++) {
			struct sbuf out = {0};
			struct error *e = NULL;
			(void)template_execute(t, doc, flags[i], &out, &e);
			sbuf_release(&out);
			error_free(e);
		}
		template_free(t);
	}
	error_free(err);
	free(src);
	return 0;
}
