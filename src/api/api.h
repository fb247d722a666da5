/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api: the Docker Engine API over HTTP/1.1: one handler file per resource
 * (system.c, containers.c, images.c, exec.c), registered in one table
 * (router.c). Request -> engine call -> response, errors in Docker's shape.
 */
#ifndef BERTH_API_H
#define BERTH_API_H

#include "daemon/daemon.h"
#include "http/http.h"

/* Serve one client connection until it closes (runs on its own thread). */
void api_serve_connection(struct engine *e, int fd);

/* Set the headers every response carries (Server, Api-Version, ...). Call once. */
void api_init(void);

/* ---- for handlers ----------------------------------------------------------- */

struct api_req {
	struct engine *e;
	struct http_conn *c;
	struct http_request *req;
	const char *path;  /* without the /vX.Y prefix */
	int version_minor; /* 1.<minor> the client speaks */
	char *params[4];   /* {name}/{id} captures in order */
	bool keep_alive;
	bool hijacked; /* the connection now belongs to a stream: close afterwards */
};

typedef int (*api_handler)(struct api_req *r);

/* Watch a streaming connection: cancel becomes true when the client hangs up. */
struct api_watch {
	int fd;
	volatile bool cancel;
	volatile bool done;
	pthread_t t;
	bool started;
	int wake[2];
};
void api_watch_start(struct api_watch *w, int fd);
void api_watch_stop(struct api_watch *w);

/* Answer an engine error with Docker's status and {"message":...}. */
int api_error(struct api_req *r, int code, const struct error *err);
int api_errorf(struct api_req *r, int status, const char *fmt, ...) _printf_(3, 4);
int api_json(struct api_req *r, int status, json_object *body);
int api_no_content(struct api_req *r, int status);
/* The request body as JSON (Content-Type application/json, or empty -> NULL). */
int api_body_json(struct api_req *r, json_object **ret, bool required);
/* The decoded `filters` query parameter (NULL when absent); -EINVAL answered. */
int api_filters(struct api_req *r, json_object **ret);
char *api_query(struct api_req *r, const char *name);
bool api_query_bool(struct api_req *r, const char *name, bool def);

int api_system_ping(struct api_req *r);
int api_system_version(struct api_req *r);
int api_system_info(struct api_req *r);
int api_system_events(struct api_req *r);
int api_system_df(struct api_req *r);
int api_system_prune_empty(struct api_req *r);
int api_volumes_list(struct api_req *r);
int api_volumes_get(struct api_req *r);
int api_volumes_delete(struct api_req *r);
int api_volumes_create(struct api_req *r);

int api_containers_create(struct api_req *r);
int api_containers_list(struct api_req *r);
int api_containers_inspect(struct api_req *r);
int api_containers_start(struct api_req *r);
int api_containers_stop(struct api_req *r);
int api_containers_restart(struct api_req *r);
int api_containers_kill(struct api_req *r);
int api_containers_wait(struct api_req *r);
int api_containers_attach(struct api_req *r);
int api_containers_logs(struct api_req *r);
int api_containers_top(struct api_req *r);
int api_containers_stats(struct api_req *r);
int api_containers_resize(struct api_req *r);
int api_containers_pause(struct api_req *r);
int api_containers_unpause(struct api_req *r);
int api_containers_rename(struct api_req *r);
int api_containers_update(struct api_req *r);
int api_containers_delete(struct api_req *r);
int api_containers_prune(struct api_req *r);

int api_exec_create(struct api_req *r);
int api_exec_start(struct api_req *r);
int api_exec_resize(struct api_req *r);
int api_exec_inspect(struct api_req *r);

int api_images_list(struct api_req *r);
int api_images_inspect(struct api_req *r);
int api_images_history(struct api_req *r);
int api_images_tag(struct api_req *r);
int api_images_delete(struct api_req *r);
int api_images_prune(struct api_req *r);
int api_images_load(struct api_req *r);
int api_images_get(struct api_req *r);
int api_images_create(struct api_req *r);
int api_images_pull(struct api_req *r, const char *from_image);
int api_images_push(struct api_req *r);
int api_images_search(struct api_req *r);
int api_auth(struct api_req *r);
int api_networks_list(struct api_req *r);
int api_networks_inspect(struct api_req *r);
int api_networks_create(struct api_req *r);
int api_networks_delete(struct api_req *r);
int api_networks_prune(struct api_req *r);
int api_networks_connect(struct api_req *r);
int api_networks_disconnect(struct api_req *r);

#endif
