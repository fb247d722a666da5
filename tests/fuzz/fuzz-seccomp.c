/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: arbitrary bytes as a linux.seccomp object, through the OCI
 * parser into seccomp_prepare (no cache, never installed); the same object
 * also goes through the Docker profile evaluator.
 */
#include "runtime/seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void prepare(const struct oci_seccomp *sc)
{
	_cleanup_error_ struct error *err = NULL;
	struct seccomp_program p;

	if (seccomp_prepare(sc, NULL, &p, &err) >= 0) {
		if (p.len == 0 || p.len > BPF_MAXINSNS || !p.filter)
			abort();
		seccomp_program_release(&p);
	} else if (!err || !err->msg) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *const caps[] = {"CAP_CHOWN", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", NULL};
	_cleanup_json_ json_object *obj = NULL, *doc = NULL;
	_cleanup_(oci_spec_freep) struct oci_spec *s = NULL;
	_cleanup_(seccomp_oci_freep) struct oci_seccomp *sc = NULL;
	_cleanup_error_ struct error *err = NULL, *err2 = NULL;
	json_object *root, *lnx;

	if (json_parse_buffer((const char *)data, size, &obj, NULL) < 0)
		return 0;

	doc = json_object_new_object();
	root = json_object_new_object();
	lnx = json_object_new_object();
	json_add_str(doc, "ociVersion", "1.2.0");
	json_add_str(root, "path", "rootfs");
	json_object_object_add(doc, "root", root);
	json_object_object_add(lnx, "seccomp", json_object_get(obj));
	json_object_object_add(doc, "linux", lnx);

	if (oci_spec_parse(doc, &s, &err) >= 0 && s->linux.seccomp)
		prepare(s->linux.seccomp);

	if (json_object_is_type(obj, json_type_object) &&
	    seccomp_docker_profile_to_oci(obj, caps, &sc, &err2) >= 0)
		prepare(sc);
	return 0;
}
