/* SPDX-License-Identifier: Apache-2.0 */
#include "oci/oci.h"
#include "test.h"

static int parse(const char *js, struct oci_spec **ret, char **msg)
{
	_cleanup_json_ json_object *doc = NULL;
	_cleanup_error_ struct error *err = NULL;
	int r = json_parse_buffer(js, strlen(js), &doc, &err);
	if (r >= 0)
		r = oci_spec_parse(doc, ret, &err);
	if (r >= 0)
		r = oci_spec_validate(*ret, &err);
	if (msg)
		*msg = err ? xstrdup(err->msg) : NULL;
	return r;
}

#define MIN "\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}"

static void test_default_spec_parses(void)
{
	_cleanup_json_ json_object *o = oci_spec_default(false);
	_cleanup_(oci_spec_freep) struct oci_spec *s = NULL;
	_cleanup_error_ struct error *err = NULL;
	CHECK(oci_spec_parse(o, &s, &err) == 0);
	CHECK(s && oci_spec_validate(s, &err) == 0);
	CHECK(s && s->process && s->process->terminal);
	CHECK(s && s->linux.n_namespaces == 6);
	CHECK(s && strv_length(s->linux.masked_paths) == 12);
	CHECK(s && s->n_mounts == 7);
}

static void test_rootless_default_spec(void)
{
	_cleanup_json_ json_object *o = oci_spec_default(true);
	_cleanup_(oci_spec_freep) struct oci_spec *s = NULL;
	_cleanup_error_ struct error *err = NULL;
	CHECK(oci_spec_parse(o, &s, &err) == 0);
	CHECK(s && oci_spec_validate(s, &err) == 0);
	CHECK(s && oci_spec_find_ns(s, OCI_NS_USER) != NULL);
	CHECK(s && oci_spec_find_ns(s, OCI_NS_NET) == NULL);
	CHECK(s && s->linux.n_uid_mappings == 1);
}

static void test_wrong_type_names_field(void)
{
	struct oci_spec *s = NULL;
	_cleanup_free_ char *msg = NULL;
	CHECK(parse("{" MIN
		    ",\"process\":{\"cwd\":\"/\",\"args\":[\"a\"],\"user\":{\"uid\":\"x\"}}}",
		    &s, &msg) == -EINVAL);
	CHECK(msg && strstr(msg, "process.user.uid"));
	oci_spec_free(s);
}

static void test_missing_required(void)
{
	struct oci_spec *s = NULL;
	_cleanup_free_ char *msg = NULL;
	CHECK(parse("{\"root\":{\"path\":\"r\"}}", &s, &msg) < 0);
	CHECK(msg && strstr(msg, "ociVersion"));
	oci_spec_free(s);
}

static void test_negative_uid(void)
{
	struct oci_spec *s = NULL;
	_cleanup_free_ char *msg = NULL;
	CHECK(parse("{" MIN ",\"process\":{\"cwd\":\"/\",\"args\":[\"a\"],\"user\":{\"uid\":-1}}}",
		    &s, &msg) < 0);
	CHECK(msg && strstr(msg, "process.user.uid"));
	oci_spec_free(s);
	s = NULL;
	free(msg);
	msg = NULL;
	CHECK(parse("{" MIN
		    ",\"process\":{\"cwd\":\"/\",\"args\":[\"a\"],\"user\":{\"uid\":4294967296}}}",
		    &s, &msg) < 0);
	oci_spec_free(s);
}

static void test_array_element_path(void)
{
	struct oci_spec *s = NULL;
	_cleanup_free_ char *msg = NULL;
	CHECK(parse("{" MIN ",\"mounts\":[{\"destination\":\"/a\"},{\"destination\":5}]}", &s,
		    &msg) < 0);
	CHECK(msg && strstr(msg, "mounts[1].destination"));
	oci_spec_free(s);
}

static void test_contradictions(void)
{
	static const struct {
		const char *json;
		const char *needle;
	} cases[] = {
	    {"{" MIN ",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}}",
	     "duplicate"},
	    {"{" MIN ",\"linux\":{\"namespaces\":[{\"type\":\"bogus\"}]}}", "bogus"},
	    {"{" MIN ",\"hostname\":\"x\"}", "hostname"},
	    {"{" MIN ",\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}}",
	     "uidMappings"},
	    {"{" MIN ",\"linux\":{\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}}}", "network"},
	    {"{" MIN ",\"process\":{\"cwd\":\"rel\",\"args\":[\"a\"]}}", "process.cwd"},
	    {"{" MIN ",\"process\":{\"cwd\":\"/\",\"args\":[]}}", "process.args"},
	    {"{" MIN ",\"process\":{\"cwd\":\"/\",\"args\":[\"a\"],\"rlimits\":[{\"type\":"
	     "\"RLIMIT_BOGUS\",\"hard\":1,\"soft\":1}]}}",
	     "RLIMIT_BOGUS"},
	    {"{" MIN ",\"process\":{\"cwd\":\"/\",\"args\":[\"a\"],\"rlimits\":[{\"type\":"
	     "\"RLIMIT_NOFILE\",\"hard\":1,\"soft\":2}]}}",
	     "soft"},
	    {"{" MIN ",\"process\":{\"cwd\":\"/\",\"args\":[\"a\"],\"oomScoreAdj\":5000}}",
	     "oomScoreAdj"},
	    {"{\"ociVersion\":\"2.0.0\",\"root\":{\"path\":\"r\"}}", "ociVersion"},
	    {"{" MIN ",\"linux\":{\"devices\":[{\"type\":\"q\",\"path\":\"/dev/x\"}]}}",
	     "devices[0].type"},
	};
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct oci_spec *s = NULL;
		_cleanup_free_ char *msg = NULL;
		int r = parse(cases[i].json, &s, &msg);
		if (r >= 0 || !msg || !strstr(msg, cases[i].needle)) {
			fprintf(stderr, "  case %zu: r=%d msg=%s\n", i, r, msg ? msg : "(none)");
			CHECK(0);
		}
		oci_spec_free(s);
	}
}

static void test_garbage_json(void)
{
	const char *bad[] = {"", "{", "[1,2", "{\"ociVersion\":}", "{} x", "nul"};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		struct oci_spec *s = NULL;
		_cleanup_free_ char *msg = NULL;
		CHECK(parse(bad[i], &s, &msg) < 0);
		CHECK(msg != NULL);
		oci_spec_free(s);
	}
}

int main(void)
{
	RUN(test_default_spec_parses);
	RUN(test_rootless_default_spec);
	RUN(test_wrong_type_names_field);
	RUN(test_missing_required);
	RUN(test_negative_uid);
	RUN(test_array_element_path);
	RUN(test_contradictions);
	RUN(test_garbage_json);
	return TEST_SUMMARY();
}
