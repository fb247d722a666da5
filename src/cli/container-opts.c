/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The options run and create share: docker's flags, turned into the
 * POST /containers/create body the docker CLI sends, and the create call with
 * docker's pull-on-missing-image dance.
 */
#include <ctype.h>
#include <math.h>

#include "container-opts.h"

void container_opts_release(struct container_opts *o)
{
	strv_free(o->attach);
	strv_free(o->add_host);
	strv_free(o->cap_add);
	strv_free(o->cap_drop);
	free(o->cpus);
	free(o->cpuset_cpus);
	free(o->cpuset_mems);
	free(o->detach_keys);
	strv_free(o->devices);
	strv_free(o->dns);
	free(o->entrypoint);
	strv_free(o->env);
	strv_free(o->env_file);
	strv_free(o->expose);
	strv_free(o->group_add);
	free(o->hostname);
	free(o->ipc);
	strv_free(o->labels);
	free(o->log_driver);
	strv_free(o->log_opts);
	free(o->memory);
	free(o->memory_reservation);
	free(o->memory_swap);
	free(o->name);
	strv_free(o->networks);
	strv_free(o->net_aliases);
	strv_free(o->links);
	strv_free(o->link_local_ips);
	strv_free(o->dns_options);
	strv_free(o->dns_search);
	free(o->ip);
	free(o->ip6);
	free(o->mac_address);
	free(o->domainname);
	free(o->pid);
	free(o->platform);
	strv_free(o->publish);
	free(o->pull);
	free(o->restart);
	free(o->runtime);
	strv_free(o->security_opt);
	free(o->shm_size);
	free(o->stop_signal);
	strv_free(o->sysctls);
	strv_free(o->tmpfs);
	free(o->user);
	strv_free(o->ulimits);
	free(o->userns);
	free(o->uts);
	strv_free(o->volumes);
	strv_free(o->volumes_from);
	free(o->workdir);
	free(o->cidfile);
	strv_free(o->mounts);
	free(o->health_cmd);
	*o = (struct container_opts){0};
}

/* Go's flag titles for error messages. */
static int bad_flag(struct error **err, const char *title, const char *value, const char *why)
{
	_cleanup_free_ char *q = format_quote(value);
	return error_setx(err, -EINVAL, "invalid argument %s for \"%s\" flag: %s", q, title, why);
}

static json_object *strv_or_null(char **l)
{
	return l && l[0] ? json_strv_new(l) : NULL;
}

static int parse_mem(const char *v, const char *title, int64_t *ret, struct error **err)
{
	_cleanup_free_ char *why = NULL;
	if (!v) {
		*ret = 0;
		return 0;
	}
	if (streq(v, "-1")) {
		*ret = -1;
		return 0;
	}
	if (parse_size(v, true, ret) < 0) {
		why = xasprintf("invalid size: '%s'", v);
		return bad_flag(err, title, v, why);
	}
	return 0;
}

static int read_env_file(const char *path, char ***env, struct error **err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return error_set(err, -errno, "open %s", path);
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			const char *v = getenv(s);
			if (v) {
				_cleanup_free_ char *kv = xasprintf("%s=%s", s, v);
				*env = strv_append(*env, kv);
			}
			continue;
		}
		if (eq == s) {
			free(line);
			return error_setx(err, -EINVAL, "invalid environment variable: %s", s);
		}
		*env = strv_append(*env, s);
	}
	free(line);
	return 0;
}

/* go-connections' ParsePortRange: "80" or "8000-8010", each 0..65535. Returns the strconv
 * error text docker shows for --expose. */
static int parse_port_range(const char *s, uint64_t *ret_start, uint64_t *ret_end,
			    struct error **err)
{
	uint64_t v[2] = {0, 0};
	const char *dash = strchr(s, '-');
	int n = dash ? 2 : 1;

	if (!*s)
		return error_setx(err, -EINVAL, "empty string specified for ports");
	for (int i = 0; i < n; i++) {
		const char *b = i == 0 ? s : dash + 1;
		size_t len = i == 0 && dash ? (size_t)(dash - s) : strcspn(b, "-");
		_cleanup_free_ char *part = xstrndup(b, len);
		if (!*part || strspn(part, "0123456789") != len)
			return error_setx(err, -EINVAL,
					  "strconv.ParseUint: parsing \"%s\": invalid syntax",
					  part);
		if (safe_atou64(part, &v[i]) < 0 || v[i] > 65535)
			return error_setx(err, -ERANGE,
					  "strconv.ParseUint: parsing \"%s\": value out of range",
					  part);
	}
	if (n == 1)
		v[1] = v[0];
	if (v[1] < v[0])
		return error_setx(err, -EINVAL, "invalid range specified for port: %s", s);
	*ret_start = v[0];
	*ret_end = v[1];
	return 0;
}

/* nat.SplitProtoPort: "80/udp" -> "udp", "80"; "80" -> "tcp", "80"; "" or "/x" -> "", "". */
static void split_proto_port(const char *s, char **ret_proto, char **ret_port)
{
	const char *slash = strchr(s, '/');
	if (!*s || s[0] == '/') {
		*ret_proto = xstrdup("");
		*ret_port = xstrdup("");
		return;
	}
	if (!slash) {
		*ret_proto = xstrdup("tcp");
		*ret_port = xstrdup(s);
		return;
	}
	*ret_port = xstrndup(s, (size_t)(slash - s));
	size_t n = strcspn(slash + 1, "/");
	*ret_proto = n ? xstrndup(slash + 1, n) : xstrdup("tcp");
}

static void add_binding(json_object *exposed, json_object *bindings, const char *key,
			const char *ip, const char *hostport)
{
	json_object *arr;
	json_object_object_add(exposed, key, json_object_new_object());
	if (!json_object_object_get_ex(bindings, key, &arr)) {
		arr = json_object_new_array();
		json_object_object_add(bindings, key, arr);
	}
	json_object *b = json_object_new_object();
	json_add_str(b, "HostIp", ip);
	json_add_str(b, "HostPort", hostport);
	json_object_array_add(arr, b);
}

/* nat.ParsePortSpec: "[ip:][hostport:]containerport[/proto]", ranges on both sides
 * ("8000-8002:80-82"), a host range for a single container port ("8000-8010:80"), and
 * docker's "published=8080,target=80,protocol=udp" form. */
static int parse_publish(const char *spec, json_object *exposed, json_object *bindings,
			 struct error **err)
{
	_cleanup_free_ char *std = NULL, *proto = NULL, *cport = NULL;
	_cleanup_strv_free_ char **parts = NULL;
	const char *raw = spec;

	if (strchr(spec, '=')) {
		/* convertToStandardNotation */
		_cleanup_free_ char *published = NULL, *target = NULL, *protocol = NULL;
		_cleanup_free_ char *copy = xstrdup(spec);
		for (char *save = NULL, *f = strtok_r(copy, ",", &save); f;
		     f = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(f, '=');
			if (!eq || eq == f)
				return error_setx(
				    err, -EINVAL,
				    "invalid publish opts format (should be name=value "
				    "but got '%s')",
				    f);
			*eq = 0;
			char **dst = streq(f, "published")  ? &published
				     : streq(f, "target")   ? &target
				     : streq(f, "protocol") ? &protocol
							    : NULL;
			if (dst) {
				free(*dst);
				*dst = xstrdup(eq + 1);
			}
		}
		raw = std = xasprintf("%s:%s/%s", published ? published : "", target ? target : "",
				      protocol ? protocol : "tcp");
	}

	/* splitParts: the last two ':'-fields are the ports, anything before is the IP */
	for (const char *p = raw;;) {
		size_t n = strcspn(p, ":");
		_cleanup_free_ char *f = xstrndup(p, n);
		parts = strv_append(parts, f);
		if (!p[n])
			break;
		p += n + 1;
	}
	size_t n = strv_length(parts);
	_cleanup_free_ char *ip = NULL;
	const char *hostport = n >= 2 ? parts[n - 2] : "";
	if (n >= 3) {
		struct sbuf b = {0};
		for (size_t i = 0; i < n - 2; i++) {
			if (i)
				sbuf_puts(&b, ":");
			sbuf_puts(&b, parts[i]);
		}
		ip = sbuf_take(&b);
	} else
		ip = xstrdup("");
	split_proto_port(parts[n - 1], &proto, &cport);

	if (ip[0] == '[') {
		size_t l = strlen(ip);
		/* net.SplitHostPort(ip + ":") */
		const char *rb = strchr(ip, ']');
		if (!rb)
			return error_setx(
			    err, -EINVAL,
			    "invalid IP address %s: address %s:: missing ']' in address", ip, ip);
		if (rb != ip + l - 1 || strchr(ip + 1, '['))
			return error_setx(err, -EINVAL, "invalid IP address %s: address %s:: %s",
					  ip, ip,
					  rb != ip + l - 1 ? "missing port in address"
							   : "unexpected '[' in address");
		memmove(ip, ip + 1, l - 2);
		ip[l - 2] = 0;
	}
	if (*ip && cli_ip_parse(ip, NULL) < 0)
		return error_setx(err, -EINVAL, "invalid IP address: %s", ip);
	if (!*cport)
		return error_setx(err, -EINVAL, "no port specified: %s<empty>", raw);

	uint64_t start, end, hstart = 0, hend = 0;
	if (parse_port_range(cport, &start, &end, NULL) < 0)
		return error_setx(err, -EINVAL, "invalid containerPort: %s", cport);
	if (*hostport && parse_port_range(hostport, &hstart, &hend, NULL) < 0)
		return error_setx(err, -EINVAL, "invalid hostPort: %s", hostport);
	/* a host range for a single container port is the range to allocate from */
	if (*hostport && end - start != hend - hstart && end != start)
		return error_setx(
		    err, -EINVAL,
		    "invalid ranges specified for container and host Ports: %s and %s", cport,
		    hostport);
	for (char *c = proto; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!streq(proto, "tcp") && !streq(proto, "udp") && !streq(proto, "sctp"))
		return error_setx(err, -EINVAL, "invalid proto: %s", proto);

	for (uint64_t i = 0; i <= end - start; i++) {
		_cleanup_free_ char *key = xasprintf("%" PRIu64 "/%s", start + i, proto);
		_cleanup_free_ char *hp = NULL;
		if (!*hostport)
			hp = xstrdup("");
		else if (start == end && hstart != hend)
			hp = xasprintf("%" PRIu64 "-%" PRIu64, hstart, hend);
		else
			hp = xasprintf("%" PRIu64, hstart + i);
		add_binding(exposed, bindings, key, ip, hp);
	}
	return 0;
}

/* --expose: "80", "80/udp", "8000-8010/tcp"; no host part. */
static int parse_expose(const char *spec, json_object *exposed, struct error **err)
{
	_cleanup_free_ char *proto = NULL, *port = NULL;
	_cleanup_error_ struct error *why = NULL;
	uint64_t start, end;

	if (strchr(spec, ':'))
		return error_setx(err, -EINVAL, "invalid port format for --expose: %s", spec);
	split_proto_port(spec, &proto, &port);
	if (parse_port_range(port, &start, &end, &why) < 0)
		return error_setx(err, -EINVAL, "invalid range format for --expose: %s, error: %s",
				  spec, why->msg);
	for (uint64_t i = start; i <= end; i++) {
		_cleanup_free_ char *key = xasprintf("%" PRIu64 "/%s", i, proto);
		json_object_object_add(exposed, key, json_object_new_object());
	}
	return 0;
}

static int parse_restart(const char *s, json_object **ret, struct error **err)
{
	json_object *o = json_object_new_object();
	const char *name = s ? s : "no";
	int64_t max = 0;
	_cleanup_free_ char *n = NULL;
	const char *colon = strchr(name, ':');

	if (colon) {
		n = xstrndup(name, (size_t)(colon - name));
		if (safe_atoi64(colon + 1, &max) < 0) {
			json_object_put(o);
			return error_setx(err, -EINVAL,
					  "invalid restart policy format: maximum retry "
					  "count must be an integer");
		}
		name = n;
	}
	if (!streq(name, "no") && !streq(name, "always") && !streq(name, "unless-stopped") &&
	    !streq(name, "on-failure")) {
		json_object_put(o);
		return error_setx(err, -EINVAL,
				  "invalid restart policy format: unknown policy '%s'", name);
	}
	if (colon && !streq(name, "on-failure")) {
		json_object_put(o);
		return error_setx(err, -EINVAL,
				  "invalid restart policy format: maximum retry count can only be "
				  "used with 'on-failure'");
	}
	json_add_str(o, "Name", name);
	json_add_int(o, "MaximumRetryCount", max);
	*ret = o;
	return 0;
}

static int parse_ulimit(const char *s, json_object *arr, struct error **err)
{
	const char *eq = strchr(s, '=');
	int64_t soft, hard;
	if (!eq)
		return error_setx(err, -EINVAL, "invalid ulimit argument: %s", s);
	_cleanup_free_ char *name = xstrndup(s, (size_t)(eq - s));
	_cleanup_free_ char *vals = xstrdup(eq + 1);
	char *colon = strchr(vals, ':');
	if (colon)
		*colon = 0;
	if (safe_atoi64(vals, &soft) < 0 || (colon && safe_atoi64(colon + 1, &hard) < 0))
		return error_setx(err, -EINVAL, "invalid ulimit argument: %s", s);
	if (!colon)
		hard = soft;
	if (soft > hard)
		return error_setx(
		    err, -EINVAL,
		    "ulimit soft limit must be less than or equal to hard limit: %" PRId64
		    " > %" PRId64,
		    soft, hard);
	json_object *u = json_object_new_object();
	json_add_str(u, "Name", name);
	json_add_int(u, "Hard", hard);
	json_add_int(u, "Soft", soft);
	json_object_array_add(arr, u);
	return 0;
}

static json_object *kv_map(char **l, bool allow_bare)
{
	json_object *o = json_object_new_object();
	for (char **p = l; p && *p; p++) {
		const char *eq = strchr(*p, '=');
		if (!eq) {
			if (allow_bare)
				json_add_str(o, *p, "");
			continue;
		}
		_cleanup_free_ char *k = xstrndup(*p, (size_t)(eq - *p));
		json_add_str(o, k, eq + 1);
	}
	return o;
}

/* Config.Healthcheck as docker's parse builds it: NULL without any health flag. */
static int parse_healthcheck(const struct container_opts *o, json_object **ret, struct error **err)
{
	bool have = !isempty(o->health_cmd) || o->health_interval || o->health_timeout ||
		    o->health_start_period || o->health_retries || o->health_start_interval;
	json_object *h;

	*ret = NULL;
	if (o->no_healthcheck) {
		if (have)
			return error_setx(err, -EINVAL,
					  "--no-healthcheck conflicts with --health-* options");
		h = json_object_new_object();
		char *none[] = {(char *)"NONE", NULL};
		json_object_object_add(h, "Test", json_strv_new(none));
		*ret = h;
		return 0;
	}
	if (!have)
		return 0;
	const struct {
		int64_t v;
		const char *flag;
	} neg[] = {
	    {o->health_interval, "interval"},
	    {o->health_timeout, "timeout"},
	    {o->health_retries, "retries"},
	    {o->health_start_period, "start-period"},
	    {o->health_start_interval, "start-interval"},
	};
	for (size_t i = 0; i < ELEMENTSOF(neg); i++)
		if (neg[i].v < 0)
			return error_setx(err, -EINVAL, "--health-%s cannot be negative",
					  neg[i].flag);
	/* every member is omitempty */
	h = json_object_new_object();
	if (!isempty(o->health_cmd)) {
		char *test[] = {(char *)"CMD-SHELL", o->health_cmd, NULL};
		json_object_object_add(h, "Test", json_strv_new(test));
	}
	if (o->health_interval)
		json_add_int(h, "Interval", o->health_interval);
	if (o->health_timeout)
		json_add_int(h, "Timeout", o->health_timeout);
	if (o->health_start_period)
		json_add_int(h, "StartPeriod", o->health_start_period);
	if (o->health_start_interval)
		json_add_int(h, "StartInterval", o->health_start_interval);
	if (o->health_retries)
		json_add_int(h, "Retries", o->health_retries);
	*ret = h;
	return 0;
}

/* ---- networks: docker's NetworkOpt and parseNetworkOpts ---------------------------------- */

/* One --network: a name, or the "name=n,alias=a,ip=..." form. */
struct net_attach {
	char *target, *ipv4, *ipv6, *mac;
	char **aliases, **links, **link_local_ips;
	json_object *driver_opts; /* NULL when none */
	int64_t gw_priority;
};

static void net_attach_release(struct net_attach *n)
{
	free(n->target);
	free(n->ipv4);
	free(n->ipv6);
	free(n->mac);
	strv_free(n->aliases);
	strv_free(n->links);
	strv_free(n->link_local_ips);
	json_object_put(n->driver_opts);
	*n = (struct net_attach){0};
}

static char *trim_dup(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

static bool is_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static int net_attach_parse(const char *v, struct net_attach *ret, struct error **err)
{
	struct net_attach n = {0};
	bool long_syntax = false;

	/* docker's test: the regexp \w+=\w+ anywhere in the value */
	for (const char *e = strchr(v, '='); e; e = strchr(e + 1, '='))
		if (e > v && is_word(e[-1]) && is_word(e[1]))
			long_syntax = true;
	if (!long_syntax) {
		ret->target = xstrdup(v);
		return 0;
	}
	/* docker 28 lowercases the fields, values included */
	_cleanup_free_ char *low = xstrdup(v);
	for (char *c = low; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	for (const char *f = low;;) {
		size_t flen = strcspn(f, ",");
		const char *eq = memchr(f, '=', flen);
		if (!eq || eq == f) {
			error_setx(err, -EINVAL, "invalid field %.*s", (int)flen, f);
			goto fail;
		}
		_cleanup_free_ char *key = trim_dup(f, (size_t)(eq - f));
		_cleanup_free_ char *val = trim_dup(eq + 1, flen - (size_t)(eq + 1 - f));
		if (streq(key, "name")) {
			free(n.target);
			n.target = TAKE_PTR(val);
		} else if (streq(key, "alias"))
			n.aliases = strv_append(n.aliases, val);
		else if (streq(key, "ip")) {
			free(n.ipv4);
			n.ipv4 = TAKE_PTR(val);
		} else if (streq(key, "ip6")) {
			free(n.ipv6);
			n.ipv6 = TAKE_PTR(val);
		} else if (streq(key, "mac-address")) {
			free(n.mac);
			n.mac = TAKE_PTR(val);
		} else if (streq(key, "link-local-ip"))
			n.link_local_ips = strv_append(n.link_local_ips, val);
		else if (streq(key, "driver-opt")) {
			const char *deq = strchr(val, '=');
			if (!deq || deq == val) {
				error_setx(err, -EINVAL,
					   "invalid key value pair format in driver options");
				goto fail;
			}
			_cleanup_free_ char *dk = trim_dup(val, (size_t)(deq - val));
			_cleanup_free_ char *dv = trim_dup(deq + 1, strlen(deq + 1));
			if (!n.driver_opts)
				n.driver_opts = json_object_new_object();
			json_add_str(n.driver_opts, dk, dv);
		} else if (streq(key, "gw-priority")) {
			if (safe_atoi64(val, &n.gw_priority) < 0) {
				error_setx(err, -EINVAL, "invalid gw-priority (%s): invalid syntax",
					   val);
				goto fail;
			}
		} else {
			error_setx(err, -EINVAL, "invalid field key %s", key);
			goto fail;
		}
		if (!f[flen])
			break;
		f += flen + 1;
	}
	if (isempty(n.target)) {
		error_setx(err, -EINVAL, "network name/id is not specified");
		goto fail;
	}
	*ret = n;
	return 0;
fail:
	net_attach_release(&n);
	return -EINVAL;
}

int container_check_network(const char *v, char **ret, struct error **err)
{
	struct net_attach n = {0};
	(void)ret;
	int r = net_attach_parse(v, &n, err);
	net_attach_release(&n);
	return r;
}

/* container.NetworkMode.IsUserDefined */
static bool net_user_defined(const char *mode)
{
	return !streq(mode, "default") && !streq(mode, "bridge") && !streq(mode, "host") &&
	       !streq(mode, "none") && !startswith(mode, "container:");
}

/* applyContainerOptions: the plain flags (--ip, --network-alias, ...) go to the first
 * network; mixing them with the same per-network option is an error. */
static int net_apply_flags(struct net_attach *n, struct container_opts *o, struct error **err)
{
	if (n->aliases && o->net_aliases)
		return error_setx(err, -EINVAL,
				  "conflicting options: cannot specify both --network-alias and "
				  "per-network alias");
	if (n->ipv4 && o->ip)
		return error_setx(err, -EINVAL,
				  "conflicting options: cannot specify both --ip and per-network "
				  "IPv4 address");
	if (n->ipv6 && o->ip6)
		return error_setx(err, -EINVAL,
				  "conflicting options: cannot specify both --ip6 and per-network "
				  "IPv6 address");
	if (n->mac && o->mac_address)
		return error_setx(err, -EINVAL,
				  "conflicting options: cannot specify both --mac-address and "
				  "per-network MAC address");
	if (n->link_local_ips && o->link_local_ips)
		return error_setx(err, -EINVAL,
				  "conflicting options: cannot specify both --link-local-ip and "
				  "per-network link-local IP addresses");
	if (o->net_aliases) {
		strv_free(n->aliases);
		n->aliases = strv_copy(o->net_aliases);
	}
	/* on a user-defined network a link is an endpoint alias; on the default bridge it
	 * stays a legacy link (HostConfig.Links only) */
	if (net_user_defined(n->target) && o->links) {
		strv_free(n->links);
		n->links = strv_copy(o->links);
	}
	if (o->ip) {
		free(n->ipv4);
		n->ipv4 = xstrdup(o->ip);
	}
	if (o->ip6) {
		free(n->ipv6);
		n->ipv6 = xstrdup(o->ip6);
	}
	if (o->mac_address) {
		free(n->mac);
		n->mac = xstrdup(o->mac_address);
	}
	if (o->link_local_ips) {
		strv_free(n->link_local_ips);
		n->link_local_ips = strv_copy(o->link_local_ips);
	}
	return 0;
}

/*
 * parseNetworkAttachmentOpt: the endpoint settings, NULL when they are all zero. docker
 * sends every member of EndpointSettings; the zero ones are left out here, which the
 * daemon reads the same.
 */
static int net_endpoint(const struct net_attach *n, json_object **ret, struct error **err)
{
	_cleanup_json_ json_object *ep = json_object_new_object();

	*ret = NULL;
	if (isempty(n->target) || strspn(n->target, " \t\n\r\v\f") == strlen(n->target))
		return error_setx(err, -EINVAL, "no name set for network");
	if (!net_user_defined(n->target)) {
		if (n->aliases)
			return error_setx(err, -EINVAL,
					  "network-scoped aliases are only supported for "
					  "user-defined networks");
		if (n->links)
			return error_setx(err, -EINVAL,
					  "links are only supported for user-defined networks");
	}
	if (n->ipv4 || n->ipv6 || n->link_local_ips) {
		json_object *ipam = json_object_new_object();
		if (!isempty(n->ipv4))
			json_add_str(ipam, "IPv4Address", n->ipv4);
		if (!isempty(n->ipv6))
			json_add_str(ipam, "IPv6Address", n->ipv6);
		if (n->link_local_ips)
			json_object_object_add(ipam, "LinkLocalIPs",
					       json_strv_new(n->link_local_ips));
		json_object_object_add(ep, "IPAMConfig", ipam);
	}
	if (n->links)
		json_object_object_add(ep, "Links", json_strv_new(n->links));
	if (n->aliases)
		json_object_object_add(ep, "Aliases", json_strv_new(n->aliases));
	if (n->mac) {
		if (!cli_mac_valid(n->mac))
			return error_setx(err, -EINVAL, "%s is not a valid mac address", n->mac);
		/* API >= 1.44: the MAC address lives in the endpoint, not in Config */
		json_add_str(ep, "MacAddress", n->mac);
	}
	if (n->driver_opts)
		json_object_object_add(ep, "DriverOpts", json_object_get(n->driver_opts));
	if (n->gw_priority)
		json_add_int(ep, "GwPriority", n->gw_priority);
	if (json_object_object_length(ep) > 0)
		*ret = TAKE_PTR(ep);
	return 0;
}

/*
 * HostConfig.NetworkMode and NetworkingConfig.EndpointsConfig as docker 28 builds them:
 * no --network is the "default" endpoint (always sent); a single --network without
 * endpoint options sends no endpoint at all; several are each sent, the plain flags
 * applying to the first.
 */
static int network_endpoints(struct container_opts *o, char **ret_mode, json_object **ret,
			     struct error **err)
{
	_cleanup_json_ json_object *eps = json_object_new_object();
	size_t n_nets = strv_length(o->networks);
	bool user = false, builtin = false;
	int r;

	if (n_nets == 0) {
		struct net_attach n = {.target = xstrdup("default")};
		json_object *ep = NULL;
		r = net_apply_flags(&n, o, err);
		if (r >= 0)
			r = net_endpoint(&n, &ep, err);
		net_attach_release(&n);
		if (r < 0)
			return r;
		json_object_object_add(eps, "default", ep ? ep : json_object_new_object());
		*ret_mode = xstrdup("default");
		*ret = TAKE_PTR(eps);
		return 0;
	}
	for (size_t i = 0; i < n_nets; i++) {
		struct net_attach n = {0};
		json_object *ep = NULL;
		r = net_attach_parse(o->networks[i], &n, err);
		if (r < 0)
			return r;
		if (net_user_defined(n.target))
			user = true;
		else
			builtin = true;
		if (i == 0) {
			*ret_mode = xstrdup(n.target);
			r = net_apply_flags(&n, o, err);
		}
		if (r >= 0)
			r = net_endpoint(&n, &ep, err);
		if (r >= 0 && json_object_object_get_ex(eps, n.target, NULL))
			r = error_setx(err, -EINVAL, "network \"%s\" is specified multiple times",
				       n.target);
		if (r < 0) {
			json_object_put(ep);
			net_attach_release(&n);
			return r;
		}
		if (ep || n_nets > 1)
			json_object_object_add(eps, n.target, ep ? ep : json_object_new_object());
		net_attach_release(&n);
	}
	if (user && builtin)
		return error_setx(err, -EINVAL,
				  "conflicting options: cannot attach both user-defined and "
				  "non-user-defined network-modes");
	*ret = TAKE_PTR(eps);
	return 0;
}

int container_opts_body(struct container_opts *o, const char *image, char **cmd, bool detach,
			json_object **ret, struct error **err)
{
	_cleanup_json_ json_object *body = json_object_new_object();
	json_object *hc = json_object_new_object();
	json_object *exposed = json_object_new_object(), *bindings = json_object_new_object();
	_cleanup_strv_free_ char **env = NULL, **binds = NULL, **secopts = NULL;
	_cleanup_free_ char *net_mode = NULL;
	_cleanup_json_ json_object *endpoints = NULL, *health = NULL, *mounts = NULL;
	int64_t memory = 0, memory_swap = 0, memory_res = 0, shm = 0;
	int r;

	/* the attach streams: docker's defaults, or -a */
	bool a_in = o->interactive, a_out = true, a_err = true;
	if (o->attach) {
		a_in = a_out = a_err = false;
		for (char **a = o->attach; *a; a++) {
			if (strcasecmp(*a, "stdin") == 0)
				a_in = true;
			else if (strcasecmp(*a, "stdout") == 0)
				a_out = true;
			else if (strcasecmp(*a, "stderr") == 0)
				a_err = true;
			else {
				json_object_put(hc);
				json_object_put(exposed);
				json_object_put(bindings);
				return error_setx(
				    err, -EINVAL,
				    "invalid argument \"%s\" for \"-a, --attach\" flag: "
				    "valid streams are STDIN, STDOUT and STDERR",
				    *a);
			}
		}
	}
	if (detach)
		a_in = a_out = a_err = false;
	o->attach_stdin = a_in;
	o->attach_stdout = a_out;
	o->attach_stderr = a_err;

	for (char **f = o->env_file; f && *f; f++) {
		r = read_env_file(*f, &env, err);
		if (r < 0)
			goto fail;
	}
	for (char **e = o->env; e && *e; e++) {
		if (!strchr(*e, '=')) {
			const char *v = getenv(*e);
			if (v) {
				_cleanup_free_ char *kv = xasprintf("%s=%s", *e, v);
				env = strv_append(env, kv);
			}
			continue;
		}
		if (**e == '=') {
			r = error_setx(err, -EINVAL, "invalid environment variable: %s", *e);
			goto fail;
		}
		env = strv_append(env, *e);
	}

	r = parse_mem(o->memory, "-m, --memory", &memory, err);
	if (r < 0)
		goto fail;
	r = parse_mem(o->memory_swap, "--memory-swap", &memory_swap, err);
	if (r < 0)
		goto fail;
	r = parse_mem(o->memory_reservation, "--memory-reservation", &memory_res, err);
	if (r < 0)
		goto fail;
	r = parse_mem(o->shm_size, "--shm-size", &shm, err);
	if (r < 0)
		goto fail;
	int64_t nano_cpus = 0;
	if (o->cpus) {
		char *end;
		errno = 0;
		double c = strtod(o->cpus, &end);
		if (errno || *end || end == o->cpus || c < 0 || !isfinite(c)) {
			_cleanup_free_ char *why =
			    xasprintf("failed to parse %s as a rational number", o->cpus);
			r = bad_flag(err, "--cpus", o->cpus, why);
			goto fail;
		}
		nano_cpus = (int64_t)(c * 1e9 + 0.5);
	}
	for (char **p = o->publish; p && *p; p++) {
		r = parse_publish(*p, exposed, bindings, err);
		if (r < 0)
			goto fail;
	}
	for (char **p = o->expose; p && *p; p++) {
		r = parse_expose(*p, exposed, err);
		if (r < 0)
			goto fail;
	}
	if (o->restart && o->rm && !streq(o->restart, "no")) {
		r = error_setx(err, -EINVAL, "Conflicting options: --restart and --rm");
		goto fail;
	}
	if (o->mac_address && !cli_mac_valid(o->mac_address)) {
		r = error_setx(err, -EINVAL, "%s is not a valid mac address", o->mac_address);
		goto fail;
	}
	r = network_endpoints(o, &net_mode, &endpoints, err);
	if (r < 0)
		goto fail;
	r = parse_healthcheck(o, &health, err);
	if (r < 0)
		goto fail;
	for (char **m = o->mounts; m && *m; m++) {
		if (!mounts)
			mounts = json_object_new_array();
		json_object_array_add(mounts, json_tokener_parse(*m));
	}
	json_object *restart = NULL;
	r = parse_restart(o->restart, &restart, err);
	if (r < 0)
		goto fail;

	/* Config */
	json_add_str(body, "Hostname", o->hostname ? o->hostname : "");
	json_add_str(body, "Domainname", o->domainname ? o->domainname : "");
	json_add_str(body, "User", o->user ? o->user : "");
	json_add_bool(body, "AttachStdin", a_in);
	json_add_bool(body, "AttachStdout", a_out);
	json_add_bool(body, "AttachStderr", a_err);
	if (json_object_object_length(exposed) > 0)
		json_object_object_add(body, "ExposedPorts", json_object_get(exposed));
	json_add_bool(body, "Tty", o->tty);
	json_add_bool(body, "OpenStdin", o->interactive);
	json_add_bool(body, "StdinOnce", o->interactive && a_in && !detach);
	json_object_object_add(body, "Env", strv_or_null(env));
	json_object_object_add(body, "Cmd", strv_or_null(cmd));
	if (health)
		json_object_object_add(body, "Healthcheck", TAKE_PTR(health));
	json_add_str(body, "Image", image);
	json_object *vols = json_object_new_object();
	for (char **v = o->volumes; v && *v; v++) {
		/* "dst" alone is an anonymous volume; anything with a source is a bind */
		if (!strchr(*v, ':'))
			json_object_object_add(vols, *v, json_object_new_object());
		else
			binds = strv_append(binds, *v);
	}
	json_object_object_add(body, "Volumes", vols);
	json_add_str(body, "WorkingDir", o->workdir ? o->workdir : "");
	if (o->entrypoint) {
		json_object *ep = json_object_new_array();
		json_object_array_add(ep, json_object_new_string(o->entrypoint));
		json_object_object_add(body, "Entrypoint", ep);
	} else
		json_object_object_add(body, "Entrypoint", NULL);
	json_object_object_add(body, "OnBuild", NULL);
	json_object_object_add(body, "Labels", kv_map(o->labels, true));
	if (o->stop_signal)
		json_add_str(body, "StopSignal", o->stop_signal);
	if (o->stop_timeout_set)
		json_add_int(body, "StopTimeout", o->stop_timeout);

	/* HostConfig */
	json_object_object_add(hc, "Binds", strv_or_null(binds));
	json_add_str(hc, "ContainerIDFile", o->cidfile ? o->cidfile : "");
	json_object *lc = json_object_new_object();
	json_add_str(lc, "Type", o->log_driver ? o->log_driver : "");
	json_object_object_add(lc, "Config", kv_map(o->log_opts, false));
	json_object_object_add(hc, "LogConfig", lc);
	json_add_str(hc, "NetworkMode", net_mode);
	json_object_object_add(hc, "PortBindings", json_object_get(bindings));
	json_object_object_add(hc, "RestartPolicy", restart);
	json_add_bool(hc, "AutoRemove", o->rm);
	json_add_str(hc, "VolumeDriver", "");
	json_object_object_add(hc, "VolumesFrom", strv_or_null(o->volumes_from));
	json_object *cs = json_object_new_array();
	int rows = 0, cols = 0;
	if (o->tty && term_isatty(STDOUT_FILENO))
		(void)term_size(STDOUT_FILENO, &rows, &cols);
	json_object_array_add(cs, json_object_new_int(rows));
	json_object_array_add(cs, json_object_new_int(cols));
	json_object_object_add(hc, "ConsoleSize", cs);
	json_object_object_add(hc, "CapAdd", strv_or_null(o->cap_add));
	json_object_object_add(hc, "CapDrop", strv_or_null(o->cap_drop));
	json_add_str(hc, "CgroupnsMode", "");
	json_object_object_add(hc, "Dns", json_strv_new(o->dns));
	json_object_object_add(hc, "DnsOptions", json_strv_new(o->dns_options));
	json_object_object_add(hc, "DnsSearch", json_strv_new(o->dns_search));
	json_object_object_add(hc, "ExtraHosts", strv_or_null(o->add_host));
	json_object_object_add(hc, "GroupAdd", strv_or_null(o->group_add));
	json_add_str(hc, "IpcMode", o->ipc ? o->ipc : "");
	json_add_str(hc, "Cgroup", "");
	json_object_object_add(hc, "Links", strv_or_null(o->links));
	json_add_int(hc, "OomScoreAdj", o->oom_score_adj);
	json_add_str(hc, "PidMode", o->pid ? o->pid : "");
	json_add_bool(hc, "Privileged", o->privileged);
	json_add_bool(hc, "PublishAllPorts", o->publish_all);
	json_add_bool(hc, "ReadonlyRootfs", o->read_only);
	/* docker sends a seccomp profile's content, not its path */
	for (char **s = o->security_opt; s && *s; s++) {
		const char *path = startswith(*s, "seccomp=");
		if (!path)
			path = startswith(*s, "seccomp:");
		if (path && !streq(path, "unconfined") && !streq(path, "builtin")) {
			_cleanup_json_ json_object *prof = NULL;
			struct error *e = NULL;
			if (json_parse_file(path, 16 << 20, &prof, &e) < 0) {
				r = error_setx(err, -EINVAL,
					       "opening seccomp profile (%s) failed: %s", path,
					       e ? e->msg : "error");
				error_free(e);
				goto fail;
			}
			_cleanup_free_ char *kv =
			    xasprintf("seccomp=%s", json_object_to_json_string_ext(
							prof, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
			secopts = strv_append(secopts, kv);
		} else
			secopts = strv_append(secopts, *s);
	}
	json_object_object_add(hc, "SecurityOpt", strv_or_null(secopts));
	if (o->tmpfs) {
		json_object *t = json_object_new_object();
		for (char **p = o->tmpfs; *p; p++) {
			const char *colon = strchr(*p, ':');
			_cleanup_free_ char *dst =
			    colon ? xstrndup(*p, (size_t)(colon - *p)) : xstrdup(*p);
			json_add_str(t, dst, colon ? colon + 1 : "");
		}
		json_object_object_add(hc, "Tmpfs", t);
	}
	json_add_str(hc, "UTSMode", o->uts ? o->uts : "");
	json_add_str(hc, "UsernsMode", o->userns ? o->userns : "");
	json_add_int(hc, "ShmSize", shm);
	if (o->sysctls)
		json_object_object_add(hc, "Sysctls", kv_map(o->sysctls, false));
	if (o->init)
		json_add_bool(hc, "Init", true);
	if (o->runtime)
		json_add_str(hc, "Runtime", o->runtime);
	json_add_str(hc, "Isolation", "");
	json_add_int(hc, "CpuShares", o->cpu_shares);
	json_add_int(hc, "Memory", memory);
	json_add_int(hc, "NanoCpus", nano_cpus);
	json_add_str(hc, "CgroupParent", "");
	json_add_int(hc, "BlkioWeight", 0);
	json_add_str(hc, "CpusetCpus", o->cpuset_cpus ? o->cpuset_cpus : "");
	json_add_str(hc, "CpusetMems", o->cpuset_mems ? o->cpuset_mems : "");
	json_object *devs = json_object_new_array();
	for (char **d = o->devices; d && *d; d++) {
		_cleanup_free_ char *s = xstrdup(*d);
		char *p1 = strchr(s, ':'), *p2 = NULL;
		if (p1) {
			*p1++ = 0;
			p2 = strchr(p1, ':');
			if (p2)
				*p2++ = 0;
		}
		json_object *dv = json_object_new_object();
		json_add_str(dv, "PathOnHost", s);
		json_add_str(dv, "PathInContainer", p1 && *p1 ? p1 : s);
		json_add_str(dv, "CgroupPermissions", p2 && *p2 ? p2 : "rwm");
		json_object_array_add(devs, dv);
	}
	json_object_object_add(hc, "Devices", devs);
	json_add_int(hc, "MemoryReservation", memory_res);
	json_add_int(hc, "MemorySwap", memory_swap);
	json_add_int(hc, "MemorySwappiness", o->memory_swappiness_set ? o->memory_swappiness : -1);
	json_add_bool(hc, "OomKillDisable", o->oom_kill_disable);
	if (o->pids_limit_set)
		json_add_int(hc, "PidsLimit", o->pids_limit);
	json_object *ul = json_object_new_array();
	for (char **u = o->ulimits; u && *u; u++) {
		r = parse_ulimit(*u, ul, err);
		if (r < 0) {
			json_object_put(ul);
			json_object_object_add(body, "HostConfig", hc);
			hc = NULL;
			goto fail;
		}
	}
	json_object_object_add(hc, "Ulimits", json_object_array_length(ul) ? ul : NULL);
	if (!json_object_array_length(ul))
		json_object_put(ul);
	if (mounts)
		json_object_object_add(hc, "Mounts", TAKE_PTR(mounts));
	json_object_object_add(body, "HostConfig", hc);
	hc = NULL;

	json_object *nc = json_object_new_object();
	json_object_object_add(nc, "EndpointsConfig", TAKE_PTR(endpoints));
	json_object_object_add(body, "NetworkingConfig", nc);

	json_object_put(exposed);
	json_object_put(bindings);
	*ret = TAKE_PTR(body);
	return 0;
fail:
	json_object_put(hc);
	json_object_put(exposed);
	json_object_put(bindings);
	return r;
}

/* ---- image references ------------------------------------------------------------------ */

int image_ref_split(const char *ref, char **ret_name, char **ret_tag)
{
	const char *at = strchr(ref, '@');
	const char *slash = strrchr(ref, '/');
	const char *colon;
	_cleanup_free_ char *name = NULL;
	const char *first_end = strchr(ref, '/');
	_cleanup_free_ char *domain = NULL;
	const char *rest;

	if (!*ref)
		return -EINVAL;
	if (at) {
		name = xstrndup(ref, (size_t)(at - ref));
		*ret_tag = xstrdup(at + 1);
	} else {
		colon = strrchr(ref, ':');
		if (colon && (!slash || colon > slash)) {
			name = xstrndup(ref, (size_t)(colon - ref));
			*ret_tag = xstrdup(colon + 1);
		} else {
			name = xstrdup(ref);
			*ret_tag = xstrdup("latest");
		}
	}
	/* normalise the name like docker's reference.ParseNormalizedNamed */
	first_end = strchr(name, '/');
	if (first_end) {
		domain = xstrndup(name, (size_t)(first_end - name));
		rest = first_end + 1;
		if (!strchr(domain, '.') && !strchr(domain, ':') && !streq(domain, "localhost") &&
		    strcmp(domain, "") != 0 && islower((unsigned char)domain[0])) {
			*ret_name = xasprintf("docker.io/%s", name);
			return 0;
		}
		if (streq(domain, "index.docker.io"))
			*ret_name = xasprintf("docker.io/%s", rest);
		else
			*ret_name = xstrdup(name);
		return 0;
	}
	*ret_name = xasprintf("docker.io/library/%s", name);
	return 0;
}

char *image_ref_familiar_tagged(const char *ref)
{
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(ref, ':');
	if (strchr(ref, '@') || (colon && (!slash || colon > slash)))
		return xstrdup(ref);
	return xasprintf("%s:latest", ref);
}

int image_pull(struct cli *cli, const char *ref, const char *platform, bool quiet, FILE *out,
	       struct error **err)
{
	_cleanup_free_ char *name = NULL, *tag = NULL, *path = NULL;
	struct query q = {0};
	struct cli_resp r = {.fd = -1};
	int k;

	if (image_ref_split(ref, &name, &tag) < 0)
		return error_setx(err, -EINVAL, "invalid reference format");
	query_add(&q, "fromImage", name);
	query_add(&q, "tag", tag);
	if (platform)
		query_add(&q, "platform", platform);
	path = query_finish(&q, "/images/create");
	{
		_cleanup_free_ char *key = cli_registry_of_ref(ref);
		_cleanup_free_ char *hdr = cli_auth_header(cli, key);
		k = cli_request(cli, "POST", path, NULL, NULL, 0, -1, hdr, &r, err);
	}
	if (k < 0)
		return k;
	k = cli_resp_check(&r, err);
	if (k >= 0) {
		FILE *o = quiet ? fopen("/dev/null", "we") : out;
		k = stream_jsonmessages(&r.conn, o ? o : out, !quiet && term_isatty(fileno(out)),
					NULL, NULL, err);
		if (quiet && o)
			fclose(o);
	}
	cli_resp_close(&r);
	return k;
}

int image_push(struct cli *cli, const char *ref, bool quiet, FILE *out, struct error **err)
{
	_cleanup_free_ char *name = NULL, *tag = NULL, *path = NULL, *base = NULL, *esc = NULL;
	_cleanup_free_ char *key = NULL, *hdr = NULL;
	struct query q = {0};
	struct cli_resp r = {.fd = -1};
	const char *fam;
	int k;

	if (strchr(ref, '@') || image_ref_split(ref, &name, &tag) < 0)
		return error_setx(err, -EINVAL, "invalid reference format");
	/* docker sends the familiar name: "busybox", "user/x", "host:5000/x" */
	fam = name;
	if (startswith(fam, "docker.io/library/"))
		fam += strlen("docker.io/library/");
	else if (startswith(fam, "docker.io/"))
		fam += strlen("docker.io/");
	esc = url_escape(fam, true);
	query_add(&q, "tag", tag);
	base = xasprintf("/images/%s/push", esc);
	path = query_finish(&q, base);
	key = cli_registry_of_ref(ref);
	hdr = cli_auth_header(cli, key);
	k = cli_request(cli, "POST", path, NULL, NULL, 0, -1, hdr, &r, err);
	if (k < 0)
		return k;
	k = cli_resp_check(&r, err);
	if (k >= 0) {
		FILE *o = quiet ? fopen("/dev/null", "we") : out;
		k = stream_jsonmessages(&r.conn, o ? o : out, !quiet && term_isatty(fileno(out)),
					NULL, NULL, err);
		if (quiet && o)
			fclose(o);
	}
	cli_resp_close(&r);
	return k;
}

int container_create(struct cli *cli, struct container_opts *o, json_object *body,
		     const char *image, char **ret_id, struct error **err)
{
	struct query q = {0};
	_cleanup_free_ char *path = NULL;
	_cleanup_json_ json_object *resp = NULL;
	const char *pull = o->pull ? o->pull : "missing";
	int r;

	if (!streq(pull, "missing") && !streq(pull, "always") && !streq(pull, "never"))
		return error_setx(err, -EINVAL,
				  "invalid pull option: '%s': must be one of \"always\", "
				  "\"missing\" or \"never\"",
				  pull);
	if (o->name)
		query_add(&q, "name", o->name);
	if (o->platform)
		query_add(&q, "platform", o->platform);
	path = query_finish(&q, "/containers/create");

	if (streq(pull, "always")) {
		r = image_pull(cli, image, o->platform, o->quiet, stderr, err);
		if (r < 0)
			return r;
	}
	r = cli_call(cli, "POST", path, body, &resp, NULL, err);
	if (r == -ENOENT && streq(pull, "missing") && err && *err &&
	    strstr((*err)->msg, "No such image")) {
		_cleanup_free_ char *fam = image_ref_familiar_tagged(image);
		error_free(*err);
		*err = NULL;
		fprintf(stderr, "Unable to find image '%s' locally\n", fam);
		r = image_pull(cli, image, o->platform, o->quiet, stderr, err);
		if (r < 0)
			return r;
		r = cli_call(cli, "POST", path, body, &resp, NULL, err);
	}
	if (r < 0)
		return r;
	json_object *w = jget(resp, "Warnings");
	for (size_t i = 0; w && i < json_object_array_length(w); i++)
		fprintf(stderr, "WARNING: %s\n",
			json_object_get_string(json_object_array_get_idx(w, i)));
	if (!*jstr(resp, "Id"))
		return error_setx(err, -EBADMSG, "Error response from daemon: no container ID");
	*ret_id = xstrdup(jstr(resp, "Id"));
	if (o->cidfile) {
		_cleanup_fclose_ FILE *f = fopen(o->cidfile, "wxe");
		if (!f)
			return error_set(err, -errno, "failed to create the container ID file");
		fputs(*ret_id, f);
	}
	return 0;
}
