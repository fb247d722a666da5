/* SPDX-License-Identifier: Apache-2.0 */
/* /networks/... */
#include "api.h"

#define ID (r->params[0])

int api_networks_list(struct api_req *r)
{
	_cleanup_json_ json_object *filters = NULL;
	_cleanup_error_ struct error *err = NULL;
	json_object *out = NULL;
	int k;

	if (api_filters(r, &filters) < 0)
		return -EINVAL;
	k = engine_network_list(r->e, filters, &out, &err);
	if (k < 0)
		return api_error(r, k, err);
	return api_json(r, 200, out);
}

int api_networks_inspect(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *scope = api_query(r, "scope");
	json_object *out = NULL;
	int k;

	if (scope && !streq(scope, "local") && !streq(scope, ""))
		return api_errorf(r, 404, "network %s not found", ID);
	k = engine_network_inspect(r->e, ID, &out, &err);
	if (k < 0)
		return api_error(r, k, err);
	return api_json(r, 200, out);
}

int api_networks_create(struct api_req *r)
{
	_cleanup_json_ json_object *body = NULL;
	_cleanup_error_ struct error *err = NULL;
	json_object *out = NULL;
	int k;

	if (api_body_json(r, &body, true) < 0)
		return -EINVAL;
	k = engine_network_create(r->e, body, &out, &err);
	if (k < 0)
		return api_error(r, k, err);
	return api_json(r, 201, out);
}

int api_networks_delete(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	int k = engine_network_remove(r->e, ID, &err);
	if (k < 0)
		return api_error(r, k, err);
	return api_no_content(r, 204);
}

int api_networks_prune(struct api_req *r)
{
	_cleanup_json_ json_object *filters = NULL;
	_cleanup_error_ struct error *err = NULL;
	json_object *out = NULL;
	int k;

	if (api_filters(r, &filters) < 0)
		return -EINVAL;
	k = engine_network_prune(r->e, filters, &out, &err);
	if (k < 0)
		return api_error(r, k, err);
	return api_json(r, 200, out);
}

static int connect_common(struct api_req *r, bool connect)
{
	_cleanup_json_ json_object *body = NULL;
	_cleanup_error_ struct error *err = NULL;
	int k;

	if (api_body_json(r, &body, true) < 0)
		return -EINVAL;
	if (!json_object_is_type(body, json_type_object))
		return api_errorf(r, 400, "invalid JSON body");
	k = connect ? engine_network_connect(r->e, ID, body, &err)
		    : engine_network_disconnect(r->e, ID, body, &err);
	if (k < 0)
		return api_error(r, k, err);
	return api_no_content(r, 200);
}

int api_networks_connect(struct api_req *r)
{
	return connect_common(r, true);
}

int api_networks_disconnect(struct api_req *r)
{
	return connect_common(r, false);
}
