/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Containers persist as one JSON document each in state.db (table containers),
 * written in one statement at every state change, so a crash leaves the old
 * document or the new one.
 */
#include <inttypes.h>

#include "internal.h"

int store_open(struct engine *e, struct error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/state.db", e->cfg->data_root);
	char *msg = NULL;

	if (sqlite3_open_v2(path, &e->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK)
		return error_setx(err, -EIO, "open '%s': %s", path,
				  e->db ? sqlite3_errmsg(e->db) : "out of memory");
	sqlite3_busy_timeout(e->db, 5000);
	/* A 64 KiB page cache, not SQLite's 2 MiB: the database holds a few hundred rows, read
	 * once at start-up (lookaside and the bulk page cache are off for the whole process:
	 * berthd's main). */
	(void)sqlite3_exec(e->db, "PRAGMA cache_size=-64;", NULL, NULL, NULL);
	if (sqlite3_exec(e->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			 "CREATE TABLE IF NOT EXISTS containers (id TEXT PRIMARY KEY, "
			 "name TEXT UNIQUE NOT NULL, doc TEXT NOT NULL);",
			 NULL, NULL, &msg) != SQLITE_OK) {
		int r = error_setx(err, -EIO, "initialise '%s': %s", path, msg ? msg : "?");
		sqlite3_free(msg);
		return r;
	}
	return 0;
}

static json_object *container_doc(const struct container *c)
{
	json_object *o = json_object_new_object();
	json_add_str(o, "Id", c->id);
	json_add_str(o, "Name", c->name);
	json_add_int(o, "Created", c->created_ns);
	json_add_str(o, "Image", c->image);
	json_add_str(o, "ImageID", c->image_id);
	json_object_object_add(o, "Config", json_object_get(c->config));
	json_object_object_add(o, "HostConfig", json_object_get(c->host_config));
	json_add_str(o, "Path", c->path ? c->path : "");
	json_object_object_add(o, "Args", json_strv_new(c->args));
	json_add_int(o, "Status", c->status);
	json_add_int(o, "Pid", c->pid);
	json_add_int(o, "ShimPid", c->shim_pid);
	json_add_int(o, "ExitCode", c->exit_code);
	json_add_str(o, "Error", c->error ? c->error : "");
	json_add_int(o, "StartedAt", c->started_ns);
	json_add_int(o, "FinishedAt", c->finished_ns);
	json_add_int(o, "RestartCount", c->restart_count);
	json_add_bool(o, "ManuallyStopped", c->manually_stopped);
	json_add_bool(o, "Tty", c->tty);
	if (c->net)
		json_object_object_add(o, "Net", json_object_get(c->net));
	if (c->health)
		json_object_object_add(o, "Health", health_json(c->health));
	return o;
}

int store_put(struct engine *e, const char *table, const char *id, const char *name,
	      json_object *doc)
{
	const char *txt = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	_cleanup_free_ char *sql = xasprintf("INSERT INTO %s (id, name, doc) VALUES (?1, ?2, ?3) "
					     "ON CONFLICT(id) DO UPDATE SET name = ?2, doc = ?3",
					     table);
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(e->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, txt, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_error("save %s %s: %s", table, id, sqlite3_errmsg(e->db));
		return rc == SQLITE_CONSTRAINT ? -EEXIST : -EIO;
	}
	return 0;
}

int store_remove(struct engine *e, const char *table, const char *id)
{
	_cleanup_free_ char *sql = xasprintf("DELETE FROM %s WHERE id = ?1", table);
	sqlite3_stmt *st = NULL;
	int rc;
	if (sqlite3_prepare_v2(e->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int store_save(struct engine *e, struct container *c)
{
	_cleanup_json_ json_object *doc = container_doc(c);
	return store_put(e, "containers", c->id, c->name, doc);
}

int store_delete(struct engine *e, const char *id)
{
	return store_remove(e, "containers", id);
}

char **filter_values(json_object *filters, const char *name)
{
	json_object *v;
	char **out = NULL;
	if (!filters || !json_object_object_get_ex(filters, name, &v))
		return NULL;
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			out = strv_append(out,
					  json_object_get_string(json_object_array_get_idx(v, i)));
	} else if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, b)
		{
			(void)b;
			out = strv_append(out, k);
		}
	}
	return out;
}

static char *get_str(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		   ? xstrdup(json_object_get_string(v))
		   : NULL;
}

static int64_t get_int(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

int store_load_all(struct engine *e, struct error **err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(e->db, "SELECT doc FROM containers", -1, &st, NULL) != SQLITE_OK)
		return error_setx(err, -EIO, "read containers: %s", sqlite3_errmsg(e->db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *txt = (const char *)sqlite3_column_text(st, 0);
		_cleanup_json_ json_object *doc = json_tokener_parse(txt);
		struct container *c;
		json_object *v;
		if (!doc)
			continue;
		c = xnew0(struct container, 1);
		c->id = get_str(doc, "Id");
		c->name = get_str(doc, "Name");
		c->image = get_str(doc, "Image");
		c->image_id = get_str(doc, "ImageID");
		c->path = get_str(doc, "Path");
		c->error = get_str(doc, "Error");
		c->created_ns = get_int(doc, "Created");
		c->status = (enum cstatus)get_int(doc, "Status");
		c->pid = (pid_t)get_int(doc, "Pid");
		c->shim_pid = (pid_t)get_int(doc, "ShimPid");
		c->exit_code = (int)get_int(doc, "ExitCode");
		c->started_ns = get_int(doc, "StartedAt");
		c->finished_ns = get_int(doc, "FinishedAt");
		c->restart_count = (int)get_int(doc, "RestartCount");
		c->manually_stopped = get_int(doc, "ManuallyStopped");
		c->tty = get_int(doc, "Tty");
		if (json_object_object_get_ex(doc, "Config", &v))
			c->config = json_object_get(v);
		if (json_object_object_get_ex(doc, "HostConfig", &v))
			c->host_config = json_object_get(v);
		if (json_object_object_get_ex(doc, "Net", &v) &&
		    json_object_is_type(v, json_type_object))
			c->net = json_object_get(v);
		if (json_object_object_get_ex(doc, "Health", &v))
			c->health = health_from_json(v);
		if (json_object_object_get_ex(doc, "Args", &v))
			for (size_t i = 0; i < json_object_array_length(v); i++)
				c->args = strv_append(
				    c->args,
				    json_object_get_string(json_object_array_get_idx(v, i)));
		c->watch_fd = -1;
		if (!c->id || !c->name || !c->config || !c->host_config) {
			log_warn("warning: skipping a damaged container record");
			container_free(c);
			continue;
		}
		c->next = e->containers;
		e->containers = c;
	}
	sqlite3_finalize(st);
	return 0;
}
