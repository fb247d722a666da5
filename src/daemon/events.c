/* SPDX-License-Identifier: Apache-2.0 */
/* Events: a ring of the last EVENT_RING events; subscribers wait on the engine's cond. */
#include <time.h>

#include "internal.h"

void event_add_labels(json_object *attrs, const struct container *c)
{
	json_object *labels = c && c->config ? json_object_object_get(c->config, "Labels") : NULL;
	if (!attrs || !labels || !json_object_is_type(labels, json_type_object))
		return;
	json_object_object_foreach(labels, k, v)
	{
		if (!json_object_object_get_ex(attrs, k, NULL))
			json_object_object_add(attrs, k, json_object_get(v));
	}
}

void event_emit_locked(struct engine *e, const char *type, const char *action, const char *id,
		       json_object *attributes)
{
	json_object *ev = json_object_new_object(), *actor = json_object_new_object();
	int64_t t = now_ns();
	size_t slot = e->event_seq % EVENT_RING;

	/* As dockerd: a container's events carry its labels (compose filters on them). */
	if (streq(type, "container") && attributes && id)
		for (struct container *c = e->containers; c; c = c->next)
			if (streq(c->id, id)) {
				event_add_labels(attributes, c);
				break;
			}

	json_add_str(ev, "Type", type);
	json_add_str(ev, "Action", action);
	json_add_str(actor, "ID", id ? id : "");
	json_object_object_add(actor, "Attributes",
			       attributes ? attributes : json_object_new_object());
	json_object_object_add(ev, "Actor", actor);
	json_add_str(ev, "scope", "local");
	json_add_int(ev, "time", t / 1000000000LL);
	json_add_int(ev, "timeNano", t);
	/* Pre-1.22 fields the CLI still reads for containers. */
	if (streq(type, "container")) {
		json_object *img;
		json_add_str(ev, "status", action);
		json_add_str(ev, "id", id ? id : "");
		if (attributes && json_object_object_get_ex(attributes, "image", &img))
			json_add_str(ev, "from", json_object_get_string(img));
	}
	free(e->events[slot]);
	e->events[slot] = xstrdup(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
	json_object_put(ev);
	e->event_time[slot] = t;
	e->event_seq++;
	pthread_cond_broadcast(&e->cond);
}

static bool event_matches(json_object *ev, json_object *filters)
{
	static const char *const keys[] = {"type",    "event",	"container", "image",  "label",
					   "network", "volume", "plugin",    "daemon", "node",
					   "service", "secret", "config",    "scope"};
	json_object *v, *actor = NULL, *attrs = NULL;
	const char *type = "", *action = "", *id = "";
	if (json_object_object_get_ex(ev, "Type", &v))
		type = json_object_get_string(v);
	if (json_object_object_get_ex(ev, "Action", &v))
		action = json_object_get_string(v);
	if (json_object_object_get_ex(ev, "Actor", &actor)) {
		if (json_object_object_get_ex(actor, "ID", &v))
			id = json_object_get_string(v);
		json_object_object_get_ex(actor, "Attributes", &attrs);
	}
	for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
		_cleanup_strv_free_ char **want = filter_values(filters, keys[k]);
		bool ok = false, fuzzy = false;
		if (!want)
			continue;
		/* moby: with health_status, exec_create or exec_start (whose actions go on with
		 * ": ..."), every event value matches as a prefix */
		if (streq(keys[k], "event"))
			for (char **w = want; *w; w++)
				fuzzy |= streq(*w, "health_status") || streq(*w, "exec_create") ||
					 streq(*w, "exec_start");
		for (char **w = want; *w; w++) {
			if (streq(keys[k], "type"))
				ok |= streq(*w, type);
			else if (streq(keys[k], "event"))
				ok |= fuzzy ? startswith(action, *w) != NULL : streq(*w, action);
			else if (streq(keys[k], "container") || streq(keys[k], "image")) {
				json_object *n = NULL;
				if (streq(keys[k], "container") && !streq(type, "container"))
					continue;
				if (streq(keys[k], "image") && !streq(type, "image") &&
				    !(attrs && json_object_object_get_ex(attrs, "image", &n)))
					continue;
				ok |= startswith(id, *w) != NULL;
				if (attrs && json_object_object_get_ex(attrs, "name", &n))
					ok |= streq(json_object_get_string(n), *w);
				if (attrs && json_object_object_get_ex(attrs, "image", &n))
					ok |= streq(json_object_get_string(n), *w);
			} else if (streq(keys[k], "scope")) {
				ok |= streq(*w, "local");
			} else if (!streq(keys[k], "label")) {
				/* dockerd's FuzzyMatch: a prefix of the actor's id or name */
				json_object *n = NULL;
				ok |= startswith(id, *w) != NULL;
				if (attrs && json_object_object_get_ex(attrs, "name", &n))
					ok |= startswith(json_object_get_string(n), *w) != NULL;
			} else {
				_cleanup_free_ char *kv = xstrdup(*w);
				char *eq = strchr(kv, '=');
				json_object *lv;
				if (eq)
					*eq = 0;
				if (attrs && json_object_object_get_ex(attrs, kv, &lv))
					ok |= !eq || streq(json_object_get_string(lv), eq + 1);
			}
		}
		if (!ok)
			return false;
	}
	return true;
}

int engine_events(struct engine *e, int64_t since_ns, int64_t until_ns, json_object *filters,
		  engine_event_cb cb, void *ud, volatile bool *cancel, struct error **err)
{
	uint64_t next;
	pthread_mutex_lock(&e->lock);
	/* Replay what the ring still holds from since on. */
	next = e->event_seq > EVENT_RING ? e->event_seq - EVENT_RING : 0;
	if (since_ns <= 0)
		next = e->event_seq;
	for (;;) {
		while (next < e->event_seq) {
			size_t slot = next % EVENT_RING;
			int64_t t = e->event_time[slot];
			json_object *ev;
			next++;
			if (since_ns > 0 && t < since_ns)
				continue;
			ev = json_tokener_parse(e->events[slot]);
			if (!ev || !event_matches(ev, filters)) {
				json_object_put(ev);
				continue;
			}
			if (until_ns > 0 && t > until_ns) {
				json_object_put(ev);
				pthread_mutex_unlock(&e->lock);
				return 0;
			}
			pthread_mutex_unlock(&e->lock);
			int r = cb(ud, ev);
			json_object_put(ev);
			if (r < 0)
				return 0; /* the client went away */
			pthread_mutex_lock(&e->lock);
		}
		if ((cancel && *cancel) || e->closing)
			break;
		if (until_ns > 0 && now_ns() >= until_ns)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&e->cond, &e->lock, &ts);
	}
	pthread_mutex_unlock(&e->lock);
	return 0;
}

void engine_image_event(struct engine *e, const char *action, const char *id, const char *name)
{
	json_object *attrs = json_object_new_object();
	if (name)
		json_add_str(attrs, "name", name);
	pthread_mutex_lock(&e->lock);
	event_emit_locked(e, "image", action, id, attrs);
	pthread_mutex_unlock(&e->lock);
}

void engine_container_event(struct engine *e, const char *ref, const char *action, const char *key,
			    const char *value, const char *key2, const char *value2)
{
	struct container *c;

	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (c) {
		json_object *attrs = json_object_new_object();
		json_add_str(attrs, "image", c->image);
		json_add_str(attrs, "name", c->name + 1);
		if (key && value)
			json_add_str(attrs, key, value);
		if (key2 && value2)
			json_add_str(attrs, key2, value2);
		event_emit_locked(e, "container", action, c->id, attrs);
	}
	pthread_mutex_unlock(&e->lock);
}
