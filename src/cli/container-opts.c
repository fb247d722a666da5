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
	free(o->network);
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
	*o = (struct container_opts){0};
}

/* Go's flag titles for error messages. */
static int bad_flag(struct error **err, const char *title, const char *value, const char *why)
{
	return error_setx(err, -EINVAL, "invalid argument \"%s\" for \"%s\" flag: %s", value, title,
			  why);
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

/* "[ip:][hostport:]containerport[/proto]", ranges not supported beyond a single port */
static int parse_publish(const char *spec, json_object *exposed, json_object *bindings,
			 struct error **err)
{
	_cleanup_free_ char *s = xstrdup(spec);
	char *proto = strrchr(s, '/');
	const char *ip = "", *hostport = "", *cport;
	char *parts[3];
	size_t n = 0;

	if (proto)
		*proto++ = 0;
	/* split on ':' from the right, keeping [v6] addresses intact */
	char *p = s;
	if (*p == '[') {
		char *rb = strchr(p, ']');
		if (!rb || rb[1] != ':')
			return error_setx(err, -EINVAL, "invalid port format: '%s'", spec);
		*rb = 0;
		parts[n++] = p + 1;
		p = rb + 2;
	}
	for (char *c; n < 3 && (c = strchr(p, ':'));) {
		*c = 0;
		parts[n++] = p;
		p = c + 1;
	}
	if (n >= 3)
		return error_setx(err, -EINVAL, "invalid port format: '%s'", spec);
	parts[n++] = p;
	if (n == 3) {
		ip = parts[0];
		hostport = parts[1];
	} else if (n == 2)
		hostport = parts[0];
	cport = parts[n - 1];
	if (!*cport || strspn(cport, "0123456789-") != strlen(cport))
		return error_setx(err, -EINVAL, "invalid containerPort: %s", cport);
	_cleanup_free_ char *key = xasprintf("%s/%s", cport, proto && *proto ? proto : "tcp");
	json_object_object_add(exposed, key, json_object_new_object());
	json_object *arr;
	if (!json_object_object_get_ex(bindings, key, &arr)) {
		arr = json_object_new_array();
		json_object_object_add(bindings, key, arr);
	}
	json_object *b = json_object_new_object();
	json_add_str(b, "HostIp", ip);
	json_add_str(b, "HostPort", hostport);
	json_object_array_add(arr, b);
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

int container_opts_body(struct container_opts *o, const char *image, char **cmd, bool detach,
			json_object **ret, struct error **err)
{
	_cleanup_json_ json_object *body = json_object_new_object();
	json_object *hc = json_object_new_object();
	json_object *exposed = json_object_new_object(), *bindings = json_object_new_object();
	_cleanup_strv_free_ char **env = NULL, **binds = NULL, **secopts = NULL;
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
		_cleanup_free_ char *k = strchr(*p, '/') ? xstrdup(*p) : xasprintf("%s/tcp", *p);
		json_object_object_add(exposed, k, json_object_new_object());
	}
	if (o->restart && o->rm && !streq(o->restart, "no")) {
		r = error_setx(err, -EINVAL, "Conflicting options: --restart and --rm");
		goto fail;
	}
	json_object *restart = NULL;
	r = parse_restart(o->restart, &restart, err);
	if (r < 0)
		goto fail;

	/* Config */
	json_add_str(body, "Hostname", o->hostname ? o->hostname : "");
	json_add_str(body, "Domainname", "");
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
	json_add_str(hc, "NetworkMode", o->network ? o->network : "default");
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
	json_object_object_add(hc, "DnsOptions", json_object_new_array());
	json_object_object_add(hc, "DnsSearch", json_object_new_array());
	json_object_object_add(hc, "ExtraHosts", strv_or_null(o->add_host));
	json_object_object_add(hc, "GroupAdd", strv_or_null(o->group_add));
	json_add_str(hc, "IpcMode", o->ipc ? o->ipc : "");
	json_add_str(hc, "Cgroup", "");
	json_object_object_add(hc, "Links", NULL);
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
	json_object_object_add(body, "HostConfig", hc);
	hc = NULL;

	json_object *nc = json_object_new_object(), *ec = json_object_new_object();
	json_object_object_add(ec, o->network ? o->network : "default", json_object_new_object());
	json_object_object_add(nc, "EndpointsConfig", ec);
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
