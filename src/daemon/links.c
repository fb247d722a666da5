/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Legacy links (`--link name:alias`), as dockerd keeps them: HostConfig.Links holds
 * "/child:/parent/alias"; at each start of the parent, a running child's address goes into
 * its /etc/hosts (alias, the child's hostname and name) and, on the default bridge, the
 * link's variables into its environment (ALIAS_PORT_80_TCP_ADDR=..., ALIAS_NAME=/parent/alias,
 * ALIAS_ENV_X=... of the child's environment but HOME and PATH).
 */
#include <ctype.h>

#include "internal.h"

static json_object *get(json_object *o, const char *k)
{
	json_object *v;
	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *get_s(json_object *o, const char *k)
{
	json_object *v = get(o, k);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static char **strv_append_take(char **l, char *s)
{
	l = strv_append(l, s);
	free(s);
	return l;
}

/* "name[:alias]" (either with a leading '/'); alias defaults to the name. */
static void parse_link(const char *s, char **ret_name, char **ret_alias)
{
	const char *colon = strchr(s, ':');
	_cleanup_free_ char *n = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
	const char *a = colon ? colon + 1 : n;
	const char *slash = strrchr(a, '/');

	*ret_alias = xstrdup(slash ? slash + 1 : a);
	*ret_name = xstrdup(n[0] == '/' ? n + 1 : n);
}

int links_check_locked(struct engine *e, const char *parent_name, json_object *hc,
		       struct error **err)
{
	json_object *links = get(hc, "Links"), *out;

	if (!links || !json_object_is_type(links, json_type_array) ||
	    json_object_array_length(links) == 0)
		return 0;
	{
		const char *mode = get_s(hc, "NetworkMode");
		if (mode && streq(mode, "host"))
			return error_setx(err, -EINVAL,
					  "conflicting options: host type networking can't be used "
					  "with links. This would result in undefined behavior");
	}
	out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(links); i++) {
		const char *l = json_object_get_string(json_object_array_get_idx(links, i));
		_cleanup_free_ char *name = NULL, *alias = NULL;
		struct container *child;
		const char *cmode;

		parse_link(l ? l : "", &name, &alias);
		child = isempty(name) ? NULL : container_find(e, name);
		/* 400 and not dockerd's 404: the docker CLI takes any 404 from create for a
		 * missing image and pulls */
		if (!child || isempty(alias)) {
			json_object_put(out);
			return error_setx(err, -EINVAL, "could not get container for %s", name);
		}
		cmode = get_s(child->host_config, "NetworkMode");
		if (cmode && streq(cmode, "host")) {
			json_object_put(out);
			return error_setx(err, -EINVAL,
					  "conflicting options: host type networking can't be used "
					  "with links. This would result in undefined behavior");
		}
		{
			_cleanup_free_ char *norm =
			    xasprintf("%s:%s/%s", child->name, parent_name, alias);
			json_object_array_add(out, json_object_new_string(norm));
		}
	}
	json_object_object_add(hc, "Links", out);
	return 0;
}

/* The child's address on network net, or on the first network it has one. */
static const char *child_ip(struct container *child, const char *net)
{
	json_object *nets = get(child->net, "Networks");
	const char *ip = net ? get_s(get(nets, net), "IPAddress") : NULL;
	return !isempty(ip) ? ip : container_first_ip(child);
}

struct port {
	int num;
	char proto[8];
};

static int cmp_port(const void *a, const void *b)
{
	const struct port *x = a, *y = b;
	if (x->num != y->num)
		return x->num < y->num ? -1 : 1;
	/* the same number: tcp first */
	return strcmp(x->proto, "tcp") == 0 ? -1 : strcmp(y->proto, "tcp") == 0 ? 1 : 0;
}

static void upper_proto(char *dst, const char *src, size_t n)
{
	size_t i = 0;
	for (; src[i] && i + 1 < n; i++)
		dst[i] = (char)toupper((unsigned char)src[i]);
	dst[i] = 0;
}

static char **link_env(char **env, const char *link_name, const char *alias, const char *ip,
		       struct container *child)
{
	json_object *exposed = get(child->config, "ExposedPorts"),
		    *cenv = get(child->config, "Env");
	_cleanup_free_ struct port *ports = NULL;
	_cleanup_free_ char *pre = xstrdup(alias);
	size_t n = 0;

	for (char *p = pre; *p; p++)
		*p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	if (exposed && json_object_is_type(exposed, json_type_object)) {
		ports = xnew0(struct port, (size_t)json_object_object_length(exposed) + 1);
		json_object_object_foreach(exposed, k, v)
		{
			const char *slash = strchr(k, '/');
			(void)v;
			ports[n].num = atoi(k);
			snprintf(ports[n].proto, sizeof(ports[n].proto), "%s",
				 slash ? slash + 1 : "tcp");
			if (ports[n].num > 0)
				n++;
		}
		qsort(ports, n, sizeof(*ports), cmp_port);
	}
	if (n > 0)
		env = strv_append_take(
		    env, xasprintf("%s_PORT=%s://%s:%d", pre, ports[0].proto, ip, ports[0].num));
	/* A run of three or more consecutive numbers is also given as a range (_START, _END),
	 * named after its first port, as dockerd does. */
	for (size_t i = 0; i < n;) {
		size_t j = i;
		char up[8], upq[8];
		while (j + 1 < n && ports[j + 1].num <= ports[j].num + 1)
			j++;
		if (j <= i + 1) {
			i++;
			continue;
		}
		upper_proto(up, ports[i].proto, sizeof(up));
		upper_proto(upq, ports[j].proto, sizeof(upq));
		env = strv_append_take(env, xasprintf("%s_PORT_%d_%s_START=%s://%s:%d", pre,
						      ports[i].num, up, ports[i].proto, ip,
						      ports[i].num));
		env = strv_append_take(
		    env, xasprintf("%s_PORT_%d_%s_ADDR=%s", pre, ports[i].num, up, ip));
		env = strv_append_take(env, xasprintf("%s_PORT_%d_%s_PROTO=%s", pre, ports[i].num,
						      up, ports[i].proto));
		env = strv_append_take(env, xasprintf("%s_PORT_%d_%s_PORT_START=%d", pre,
						      ports[i].num, up, ports[i].num));
		env = strv_append_take(env,
				       xasprintf("%s_PORT_%d_%s_END=%s://%s:%d", pre, ports[i].num,
						 upq, ports[j].proto, ip, ports[j].num));
		env = strv_append_take(env, xasprintf("%s_PORT_%d_%s_PORT_END=%d", pre,
						      ports[i].num, upq, ports[j].num));
		i = j + 1;
	}
	for (size_t i = 0; i < n; i++) {
		char up[8];
		upper_proto(up, ports[i].proto, sizeof(up));
		env = strv_append_take(env, xasprintf("%s_PORT_%d_%s=%s://%s:%d", pre, ports[i].num,
						      up, ports[i].proto, ip, ports[i].num));
		env = strv_append_take(
		    env, xasprintf("%s_PORT_%d_%s_ADDR=%s", pre, ports[i].num, up, ip));
		env = strv_append_take(
		    env, xasprintf("%s_PORT_%d_%s_PORT=%d", pre, ports[i].num, up, ports[i].num));
		env = strv_append_take(env, xasprintf("%s_PORT_%d_%s_PROTO=%s", pre, ports[i].num,
						      up, ports[i].proto));
	}
	env = strv_append_take(env, xasprintf("%s_NAME=%s", pre, link_name));
	for (size_t i = 0; cenv && i < json_object_array_length(cenv); i++) {
		const char *kv = json_object_get_string(json_object_array_get_idx(cenv, i));
		const char *eq = kv ? strchr(kv, '=') : NULL;
		if (!eq || startswith(kv, "HOME=") || startswith(kv, "PATH="))
			continue;
		env = strv_append_take(env, xasprintf("%s_ENV_%s", pre, kv));
	}
	return env;
}

int links_for_start_locked(struct engine *e, struct container *c, char ***ret_env, char **ret_hosts,
			   struct error **err)
{
	json_object *links = get(c->host_config, "Links");
	json_object *nets = get(c->net, "Networks");
	bool bridge = get(nets, "bridge") != NULL;
	const char *net = NULL;
	char **env = NULL, *hosts;

	*ret_env = NULL;
	*ret_hosts = NULL;
	if (!links || json_object_array_length(links) == 0)
		return 0; /* every start comes here: nothing to do without links */
	hosts = xstrdup("");
	if (nets) {
		json_object_object_foreach(nets, k, v)
		{
			(void)v;
			net = k;
			break;
		}
	}
	for (size_t i = 0; i < json_object_array_length(links); i++) {
		const char *l = json_object_get_string(json_object_array_get_idx(links, i));
		const char *colon = l ? strchr(l, ':') : NULL;
		_cleanup_free_ char *child_name = colon ? xstrndup(l, (size_t)(colon - l)) : NULL;
		const char *link_name = colon ? colon + 1 : NULL;
		const char *alias = link_name ? strrchr(link_name, '/') : NULL;
		struct container *child;
		const char *ip;

		if (!child_name || !alias)
			continue;
		alias++;
		child = container_find(e, child_name + (child_name[0] == '/'));
		if (!child)
			continue; /* removed since: the link went with it */
		if (child->status != C_RUNNING && child->status != C_PAUSED) {
			strv_free(env);
			free(hosts);
			return error_setx(err, -EINVAL,
					  "Cannot link to a non running container: %s AS %s",
					  child->name, link_name);
		}
		ip = child_ip(child, net);
		if (!ip)
			continue; /* no network of its own (none): nothing to name */
		{
			const char *hn = get_s(child->config, "Hostname");
			bool same = streq(alias, child->name + 1);
			char *more =
			    xasprintf("%s%s\t%s%s%s%s%s\n", hosts, ip, alias, hn ? " " : "",
				      hn ? hn : "", same ? "" : " ", same ? "" : child->name + 1);
			free(hosts);
			hosts = more;
		}
		if (bridge)
			env = link_env(env, link_name, alias, ip, child);
	}
	*ret_env = env;
	*ret_hosts = hosts;
	return 0;
}

int engine_link_remove(struct engine *e, const char *ref, struct error **err)
{
	_cleanup_free_ char *full = ref[0] == '/' ? xstrdup(ref) : xasprintf("/%s", ref);
	char *slash = strrchr(full, '/');
	struct container *parent;
	json_object *links, *keep;
	bool found = false;

	if (slash == full)
		return error_setx(err, -EEXIST,
				  "Conflict, cannot remove the default link name of the container");
	pthread_mutex_lock(&e->lock);
	*slash = 0;
	parent = container_find(e, full + 1);
	*slash = '/';
	if (!parent) {
		pthread_mutex_unlock(&e->lock);
		*slash = 0;
		return error_setx(err, -ENOENT, "Cannot get parent %s for link name %s", full, ref);
	}
	links = get(parent->host_config, "Links");
	keep = json_object_new_array();
	for (size_t i = 0; links && i < json_object_array_length(links); i++) {
		json_object *l = json_object_array_get_idx(links, i);
		const char *colon = strchr(json_object_get_string(l), ':');
		if (colon && streq(colon + 1, full)) {
			found = true;
			continue;
		}
		json_object_array_add(keep, json_object_get(l));
	}
	if (!found) {
		json_object_put(keep);
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -ENOENT, "No such container: %s", ref);
	}
	json_object_object_add(parent->host_config, "Links",
			       json_object_array_length(keep) ? keep : NULL);
	if (!json_object_array_length(keep))
		json_object_put(keep);
	store_save(e, parent);
	pthread_mutex_unlock(&e->lock);
	return 0;
}
