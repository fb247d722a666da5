/* SPDX-License-Identifier: Apache-2.0 */
/* berthd's configuration: dockerd's flags and daemon.json. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <unistd.h>

#include "internal.h"

void daemon_config_release(struct daemon_config *c)
{
	free(c->data_root);
	free(c->exec_root);
	strv_free(c->hosts);
	free(c->pidfile);
	free(c->config_file);
	free(c->log_driver);
	kv_list_release(&c->log_opts);
	free(c->seccomp_profile);
	free(c->cgroup_parent);
	free(c->shim_path);
	free(c->group);
	strv_free(c->default_ulimits);
	strv_free(c->registry_mirrors);
	strv_free(c->insecure_registries);
	free(c->certs_dir);
	free(c->bridge);
	free(c->bip);
	strv_free(c->address_pools);
	free(c->tls_ca);
	free(c->tls_cert);
	free(c->tls_key);
	memset(c, 0, sizeof(*c));
}

static void kv_add(struct kv_list *l, const char *k, const char *v)
{
	l->items = xrealloc(l->items, sizeof(struct kv) * (l->n + 1));
	l->items[l->n].key = xstrdup(k);
	l->items[l->n].value = xstrdup(v);
	l->n++;
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

/* Flags seen on the command line, to find keys given both ways. */
struct seen {
	char **names;
};

static int apply_json(struct daemon_config *c, json_object *o, struct seen *seen,
		      struct error **err)
{
	json_object_object_foreach(o, key, v)
	{
		const char *flag = key;
		if (streq(key, "hosts"))
			flag = "host";
		else if (streq(key, "log-opts"))
			flag = "log-opt";
		else if (streq(key, "default-ulimits"))
			flag = "default-ulimit";
		else if (streq(key, "registry-mirrors"))
			flag = "registry-mirror";
		else if (streq(key, "insecure-registries"))
			flag = "insecure-registry";
		if (strv_contains(seen->names, flag))
			return error_setx(
			    err, -EINVAL,
			    "the following directives are specified both as a flag and "
			    "in the configuration file: %s: (from flag: set, from file: "
			    "%s)",
			    key, json_object_to_json_string(v));
#define WANT(t)                                                                                    \
	if (!json_object_is_type(v, t))                                                            \
		return error_setx(err, -EINVAL, "invalid value for daemon.json key '%s'", key);
		if (streq(key, "data-root")) {
			WANT(json_type_string);
			set_str(&c->data_root, json_object_get_string(v));
		} else if (streq(key, "exec-root")) {
			WANT(json_type_string);
			set_str(&c->exec_root, json_object_get_string(v));
		} else if (streq(key, "pidfile")) {
			WANT(json_type_string);
			set_str(&c->pidfile, json_object_get_string(v));
		} else if (streq(key, "hosts")) {
			WANT(json_type_array);
			strv_free(c->hosts);
			c->hosts = NULL;
			for (size_t i = 0; i < json_object_array_length(v); i++)
				c->hosts = strv_append(
				    c->hosts,
				    json_object_get_string(json_object_array_get_idx(v, i)));
		} else if (streq(key, "debug")) {
			WANT(json_type_boolean);
			c->debug = json_object_get_boolean(v);
		} else if (streq(key, "live-restore")) {
			WANT(json_type_boolean);
			c->live_restore = json_object_get_boolean(v);
		} else if (streq(key, "no-new-privileges")) {
			WANT(json_type_boolean);
			c->no_new_privileges = json_object_get_boolean(v);
		} else if (streq(key, "log-driver")) {
			WANT(json_type_string);
			set_str(&c->log_driver, json_object_get_string(v));
		} else if (streq(key, "log-opts")) {
			WANT(json_type_object);
			json_object_object_foreach(v, k2, v2)
			{
				kv_add(&c->log_opts, k2, json_object_get_string(v2));
			}
		} else if (streq(key, "seccomp-profile")) {
			WANT(json_type_string);
			set_str(&c->seccomp_profile, json_object_get_string(v));
		} else if (streq(key, "cgroup-parent")) {
			WANT(json_type_string);
			set_str(&c->cgroup_parent, json_object_get_string(v));
		} else if (streq(key, "group")) {
			WANT(json_type_string);
			set_str(&c->group, json_object_get_string(v));
		} else if (streq(key, "shutdown-timeout")) {
			WANT(json_type_int);
			c->shutdown_timeout = json_object_get_int(v);
		} else if (streq(key, "registry-mirrors") || streq(key, "insecure-registries")) {
			char ***dst = streq(key, "registry-mirrors") ? &c->registry_mirrors
								     : &c->insecure_registries;
			WANT(json_type_array);
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				json_object *x = json_object_array_get_idx(v, i);
				if (!json_object_is_type(x, json_type_string))
					return error_setx(err, -EINVAL,
							  "invalid value for daemon.json key '%s'",
							  key);
				*dst = strv_append(*dst, json_object_get_string(x));
			}
		} else if (streq(key, "tls") || streq(key, "tlsverify")) {
			WANT(json_type_boolean);
			if (streq(key, "tls"))
				c->tls = json_object_get_boolean(v);
			else
				c->tls_verify = json_object_get_boolean(v);
		} else if (streq(key, "tlscacert") || streq(key, "tlscert") ||
			   streq(key, "tlskey")) {
			WANT(json_type_string);
			set_str(streq(key, "tlscacert") ? &c->tls_ca
				: streq(key, "tlscert") ? &c->tls_cert
							: &c->tls_key,
				json_object_get_string(v));
		} else if (streq(key, "max-concurrent-downloads")) {
			WANT(json_type_int);
			c->max_concurrent_downloads = json_object_get_int(v);
		} else if (streq(key, "certs-dir")) {
			WANT(json_type_string);
			set_str(&c->certs_dir, json_object_get_string(v));
		} else if (streq(key, "max-layer-size")) {
			WANT(json_type_int);
			if (json_object_get_int64(v) < 0)
				return error_setx(err, -EINVAL,
						  "invalid value for daemon.json key '%s'", key);
			c->max_layer_size = (uint64_t)json_object_get_int64(v);
		} else if (streq(key, "max-concurrent-uploads")) {
			WANT(json_type_int);
			c->max_concurrent_uploads = json_object_get_int(v);
		} else if (streq(key, "default-ulimits")) {
			WANT(json_type_object);
			json_object_object_foreach(v, name, u)
			{
				json_object *h, *s;
				if (!json_object_object_get_ex(u, "Hard", &h) ||
				    !json_object_object_get_ex(u, "Soft", &s))
					return error_setx(err, -EINVAL,
							  "invalid default-ulimits '%s'", name);
				_cleanup_free_ char *x =
				    xasprintf("%s=%" PRId64 ":%" PRId64, name,
					      json_object_get_int64(s), json_object_get_int64(h));
				c->default_ulimits = strv_append(c->default_ulimits, x);
			}
		} else if (streq(key, "bridge") || streq(key, "bip")) {
			WANT(json_type_string);
			set_str(streq(key, "bridge") ? &c->bridge : &c->bip,
				json_object_get_string(v));
		} else if (streq(key, "iptables") || streq(key, "ip-forward")) {
			WANT(json_type_boolean);
			*(streq(key, "iptables") ? &c->no_iptables : &c->no_ip_forward) =
			    !json_object_get_boolean(v);
		} else if (streq(key, "mtu")) {
			WANT(json_type_int);
			c->mtu = json_object_get_int(v);
		} else if (streq(key, "default-address-pools")) {
			WANT(json_type_array);
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				json_object *x = json_object_array_get_idx(v, i), *b, *sz;
				if (!json_object_object_get_ex(x, "base", &b) ||
				    !json_object_object_get_ex(x, "size", &sz))
					return error_setx(err, -EINVAL,
							  "invalid default-address-pools entry");
				_cleanup_free_ char *pool =
				    xasprintf("base=%s,size=%d", json_object_get_string(b),
					      json_object_get_int(sz));
				c->address_pools = strv_append(c->address_pools, pool);
			}
		}
		/* Other dockerd keys are accepted as dockerd accepts them. */
#undef WANT
	}
	return 0;
}

int daemon_config_load(int argc, char **argv, struct daemon_config *c, struct error **err)
{
	static const struct option opts[] = {
	    {"data-root", required_argument, NULL, 'g'},
	    {"exec-root", required_argument, NULL, 'x'},
	    {"host", required_argument, NULL, 'H'},
	    {"config-file", required_argument, NULL, 'C'},
	    {"pidfile", required_argument, NULL, 'p'},
	    {"debug", no_argument, NULL, 'D'},
	    {"log-level", required_argument, NULL, 'l'},
	    {"live-restore", no_argument, NULL, 'L'},
	    {"log-driver", required_argument, NULL, 'd'},
	    {"log-opt", required_argument, NULL, 'o'},
	    {"no-new-privileges", no_argument, NULL, 'N'},
	    {"seccomp-profile", required_argument, NULL, 's'},
	    {"cgroup-parent", required_argument, NULL, 'c'},
	    {"group", required_argument, NULL, 'G'},
	    {"shutdown-timeout", required_argument, NULL, 't'},
	    {"default-ulimit", required_argument, NULL, 'u'},
	    {"shim", required_argument, NULL, 'S'},
	    {"registry-mirror", required_argument, NULL, 'M'},
	    {"insecure-registry", required_argument, NULL, 'I'},
	    {"max-concurrent-downloads", required_argument, NULL, 'W'},
	    {"max-concurrent-uploads", required_argument, NULL, 'U'},
	    {"tls", no_argument, NULL, 1001},
	    {"tlsverify", no_argument, NULL, 1002},
	    {"tlscacert", required_argument, NULL, 1003},
	    {"tlscert", required_argument, NULL, 1004},
	    {"tlskey", required_argument, NULL, 1005},
	    {"bridge", required_argument, NULL, 'b'},
	    {"bip", required_argument, NULL, 1010},
	    {"default-address-pool", required_argument, NULL, 1011},
	    {"iptables", optional_argument, NULL, 1012},
	    {"ip-forward", optional_argument, NULL, 1013},
	    {"mtu", required_argument, NULL, 1014},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0},
	};
	struct seen seen = {NULL};
	bool hosts_from_flags = false;
	int ch, r = 0;

	memset(c, 0, sizeof(*c));
	c->shutdown_timeout = 15;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "H:p:Dl:G:b:hv", opts, NULL)) != -1) {
		const char *name = NULL;
		for (const struct option *o = opts; o->name; o++)
			if (o->val == ch)
				name = o->name;
		if (name && !strv_contains(seen.names, name))
			seen.names = strv_append(seen.names, name);
		switch (ch) {
		case 'g':
			set_str(&c->data_root, optarg);
			break;
		case 'x':
			set_str(&c->exec_root, optarg);
			break;
		case 'H':
			if (!hosts_from_flags) {
				strv_free(c->hosts);
				c->hosts = NULL;
				hosts_from_flags = true;
			}
			c->hosts = strv_append(c->hosts, optarg);
			break;
		case 'C':
			set_str(&c->config_file, optarg);
			break;
		case 'p':
			set_str(&c->pidfile, optarg);
			break;
		case 'D':
			c->debug = true;
			break;
		case 'l':
			c->debug = c->debug || streq(optarg, "debug");
			break;
		case 'L':
			c->live_restore = true;
			break;
		case 'd':
			set_str(&c->log_driver, optarg);
			break;
		case 'o': {
			_cleanup_free_ char *kv = xstrdup(optarg);
			char *eq = strchr(kv, '=');
			if (!eq) {
				r = error_setx(err, -EINVAL, "invalid --log-opt '%s'", optarg);
				goto out;
			}
			*eq = 0;
			kv_add(&c->log_opts, kv, eq + 1);
			break;
		}
		case 'N':
			c->no_new_privileges = true;
			break;
		case 's':
			set_str(&c->seccomp_profile, optarg);
			break;
		case 'c':
			set_str(&c->cgroup_parent, optarg);
			break;
		case 'G':
			set_str(&c->group, optarg);
			break;
		case 't':
			if (safe_atoi(optarg, &c->shutdown_timeout) < 0) {
				r = error_setx(err, -EINVAL, "invalid --shutdown-timeout '%s'",
					       optarg);
				goto out;
			}
			break;
		case 'u':
			c->default_ulimits = strv_append(c->default_ulimits, optarg);
			break;
		case 'S':
			set_str(&c->shim_path, optarg);
			break;
		case 'M':
			c->registry_mirrors = strv_append(c->registry_mirrors, optarg);
			break;
		case 1001:
			c->tls = true;
			break;
		case 1002:
			c->tls_verify = true;
			break;
		case 1003:
			set_str(&c->tls_ca, optarg);
			break;
		case 1004:
			set_str(&c->tls_cert, optarg);
			break;
		case 1005:
			set_str(&c->tls_key, optarg);
			break;
		case 'b':
			set_str(&c->bridge, optarg);
			break;
		case 1010:
			set_str(&c->bip, optarg);
			break;
		case 1011:
			c->address_pools = strv_append(c->address_pools, optarg);
			break;
		case 1012:
		case 1013: {
			bool off = optarg && (streq(optarg, "false") || streq(optarg, "0"));
			if (optarg && !off && !streq(optarg, "true") && !streq(optarg, "1")) {
				r = error_setx(err, -EINVAL, "invalid boolean value '%s'", optarg);
				goto out;
			}
			*(ch == 1012 ? &c->no_iptables : &c->no_ip_forward) = off;
			break;
		}
		case 1014:
			if (safe_atoi(optarg, &c->mtu) < 0 || c->mtu < 0 || c->mtu > 65535) {
				r = error_setx(err, -EINVAL, "invalid --mtu '%s'", optarg);
				goto out;
			}
			break;
		case 'I':
			c->insecure_registries = strv_append(c->insecure_registries, optarg);
			break;
		case 'W':
		case 'U':
			if (safe_atoi(optarg, ch == 'W' ? &c->max_concurrent_downloads
							: &c->max_concurrent_uploads) < 0) {
				r = error_setx(err, -EINVAL, "invalid value '%s'", optarg);
				goto out;
			}
			break;
		case 'h':
			r = error_setx(
			    err, -ECANCELED,
			    "Usage: berthd [--data-root DIR] [--exec-root DIR] [-H SOCKET] "
			    "[--config-file FILE] [--pidfile FILE] [--debug] [--live-restore]");
			goto out;
		case 'v':
			r = error_setx(err, -ECANCELED, "berthd version %s", BERTH_VERSION);
			goto out;
		default:
			r = error_setx(err, -EINVAL, "unknown flag (see berthd --help)");
			goto out;
		}
	}
	if (optind < argc) {
		r = error_setx(err, -EINVAL, "berthd takes no arguments, got '%s'", argv[optind]);
		goto out;
	}
	{
		const char *path = c->config_file ? c->config_file : "/etc/berth/daemon.json";
		_cleanup_json_ json_object *doc = NULL;
		if (access(path, F_OK) == 0 || c->config_file) {
			r = json_parse_file(path, 1 << 20, &doc, err);
			if (r < 0)
				goto out;
			if (!json_object_is_type(doc, json_type_object)) {
				r = error_setx(err, -EINVAL, "invalid configuration file '%s'",
					       path);
				goto out;
			}
			r = apply_json(c, doc, &seen, err);
			if (r < 0)
				goto out;
		}
	}
	if (!c->data_root)
		c->data_root = xstrdup("/var/lib/berth");
	if (!c->exec_root)
		c->exec_root = xstrdup("/run/berth");
	if (!c->hosts) {
		_cleanup_free_ char *h = xasprintf("unix://%s/berthd.sock", c->exec_root);
		c->hosts = strv_append(NULL, h);
	}
	if (!c->pidfile)
		c->pidfile = xasprintf("%s/berthd.pid", c->exec_root);
	if (!c->log_driver)
		c->log_driver = xstrdup("json-file");
	if (!c->cgroup_parent)
		c->cgroup_parent = xstrdup("/berth");
	if (!c->certs_dir)
		c->certs_dir = xstrdup("/etc/berth/certs.d");
	if (!streq(c->log_driver, "json-file") && !streq(c->log_driver, "none")) {
		r = error_setx(err, -EINVAL, "logging driver '%s' is not supported", c->log_driver);
		goto out;
	}
out:
	strv_free(seen.names);
	return r;
}
