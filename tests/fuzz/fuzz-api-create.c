/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: bytes -> the body of POST /containers/create, parsed as the API
 * does (json_parse_buffer) and run through the create validation and merge
 * (container_config_check) over a fixed busybox-like image config. On success the
 * results must be what the rest of the daemon relies on: objects, a command made of
 * strings, Env of strings.
 */
#include "daemon/internal.h"

static json_object *image_config(void)
{
	static json_object *ic;
	if (!ic) {
		struct error *err = NULL;
		static const char text[] =
		    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
		    "\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/"
		    "bin\","
		    "\"HOME=/root\"],\"Cmd\":[\"sh\"],\"WorkingDir\":\"/\",\"User\":\"\","
		    "\"Labels\":{\"org.example\":\"busybox\"},\"ExposedPorts\":{\"80/tcp\":{}},"
		    "\"StopSignal\":\"SIGTERM\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
		if (json_parse_buffer(text, sizeof(text) - 1, &ic, &err) < 0)
			__builtin_trap();
	}
	return ic;
}

static void check_strv(json_object *a, bool nonempty)
{
	if (!a)
		return;
	if (!json_object_is_type(a, json_type_array))
		__builtin_trap();
	if (nonempty && json_object_array_length(a) == 0)
		__builtin_trap();
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (!json_object_is_type(json_object_array_get_idx(a, i), json_type_string))
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *body = NULL, *cfg = NULL, *hc = NULL, *ep = NULL, *cmd = NULL, *v = NULL;
	struct error *err = NULL;
	int r;

	if (json_parse_buffer((const char *)data, size, &body, &err) < 0) {
		error_free(err);
		return 0;
	}
	r = container_config_check(body, image_config(), &cfg, &hc, &err);
	if (r < 0) {
		if (!err || !err->msg || cfg || hc ||
		    (r != -EINVAL && r != -ENOENT && r != -ENOMEM))
			__builtin_trap();
		error_free(err);
		json_object_put(body);
		return 0;
	}
	if (err || !json_object_is_type(cfg, json_type_object) ||
	    !json_object_is_type(hc, json_type_object))
		__builtin_trap();
	json_object_object_get_ex(cfg, "Entrypoint", &ep);
	json_object_object_get_ex(cfg, "Cmd", &cmd);
	if (json_object_is_type(ep, json_type_null))
		ep = NULL;
	if (json_object_is_type(cmd, json_type_null))
		cmd = NULL;
	check_strv(ep, false);
	check_strv(cmd, false);
	if ((!ep || !json_object_array_length(ep)) && (!cmd || !json_object_array_length(cmd)))
		__builtin_trap();
	if (!json_object_object_get_ex(cfg, "Env", &v))
		__builtin_trap();
	check_strv(v, false);
	if (json_object_object_get_ex(cfg, "HostConfig", &v))
		__builtin_trap();
	/* the body is left alone */
	(void)json_object_to_json_string(body);
	(void)json_object_to_json_string(cfg);
	(void)json_object_to_json_string(hc);
	json_object_put(cfg);
	json_object_put(hc);
	json_object_put(body);
	return 0;
}
