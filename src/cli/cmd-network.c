/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth network create / ls / rm / prune / connect / disconnect: the /networks
 * endpoints, with docker 28's request bodies, output and messages. (network inspect
 * lives with the other inspects in cmd-inspect.c.)
 */
#include <ctype.h>

#include "container-opts.h"

/* docker's FilterOpt.Set: "name=value", checked when the flag is parsed. */
static int check_filter(const char *v, char **ret, struct error **err)
{
	(void)ret;
	if (*v && !strchr(v, '='))
		return error_setx(err, -EINVAL, "bad format of filter (expected name=value)");
	return 0;
}

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A copy of o with its keys in byte order, as Go marshals a map. */
static json_object *json_sorted(json_object *o)
{
	json_object *out = json_object_new_object();
	size_t n = (size_t)json_object_object_length(o), k = 0;
	const char **keys = xnew0(const char *, n + 1);

	json_object_object_foreach(o, key, val)
	{
		(void)val;
		keys[k++] = key;
	}
	qsort(keys, k, sizeof(char *), strcmp_ptr);
	for (size_t i = 0; i < k; i++)
		json_object_object_add(out, keys[i],
				       json_object_get(json_object_object_get(o, keys[i])));
	free(keys);
	return out;
}

/* docker's MapOpts / ConvertKVStringsToMap: "k=v" (or bare "k" for ""), the last one wins. */
static json_object *kv_object(char **l)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	for (char **p = l; p && *p; p++) {
		size_t n = strcspn(*p, "=");
		_cleanup_free_ char *k = xstrndup(*p, n);
		json_add_str(o, k, (*p)[n] ? *p + n + 1 : "");
	}
	return json_sorted(o);
}

/* docker's PromptForConfirmation: msg and " [y/N] ", then a trimmed "y" or "Y" line. */
static bool confirm(const char *msg)
{
	char line[256] = {0};

	printf("%s [y/N] ", msg);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	char *s = line, *e = line + strlen(line);
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return strcasecmp(s, "y") == 0;
}

/* ---- create ------------------------------------------------------------------------------ */

/* One IPAM pool being put together from --subnet, --ip-range, --gateway, --aux-address. */
struct ipam_pool {
	const char *subnet, *range, *gateway;
	json_object *aux;
};

/* create.go's subnetMatches: is data (an address or a CIDR) inside subnet? */
static int subnet_matches(const char *subnet, const char *data, bool *ret, struct error **err)
{
	struct cli_ip net, ip;
	int bits, dbits;

	if (cli_cidr_parse(subnet, &net, &bits) < 0)
		return error_setx(err, -EINVAL, "invalid subnet: invalid CIDR address: %s", subnet);
	if (strchr(data, '/')) {
		if (cli_cidr_parse(data, &ip, &dbits) < 0)
			return error_setx(err, -EINVAL, "invalid CIDR address: %s", data);
		*ret = cli_cidr_contains(&net, bits, &ip);
	} else
		*ret = cli_ip_parse(data, &ip) >= 0 && cli_cidr_contains(&net, bits, &ip);
	return 0;
}

/* Find the pool whose subnet holds value; "what" names it in the messages. */
static int ipam_assign(struct ipam_pool *pools, size_t n, const char *value, const char *what,
		       bool is_range, struct error **err)
{
	bool match = false;
	int r;

	for (size_t i = 0; i < n; i++) {
		bool ok;
		struct cli_ip ip;
		int bits;
		if (is_range && cli_cidr_parse(value, &ip, &bits) < 0)
			return error_setx(err, -EINVAL, "invalid CIDR address: %s", value);
		r = subnet_matches(pools[i].subnet, value, &ok, err);
		if (r < 0)
			return r;
		if (!ok)
			continue;
		const char **slot = is_range ? &pools[i].range : &pools[i].gateway;
		if (*slot)
			return error_setx(err, -EINVAL,
					  is_range
					      ? "cannot configure multiple ranges (%s, %s) on "
						"the same subnet (%s)"
					      : "cannot configure multiple gateways (%s, %s) for "
						"the same subnet (%s)",
					  value, *slot, pools[i].subnet);
		*slot = value;
		match = true;
	}
	if (!match)
		return error_setx(err, -EINVAL, "no matching subnet for %s %s", what, value);
	return 0;
}

static void pools_free(struct ipam_pool *pools, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_object_put(pools[i].aux);
	free(pools);
}

/* create.go's createIPAMConfig: the IPAM.Config list, one entry a subnet. */
static int ipam_config(char **subnets, char **ranges, char **gateways, char **aux,
		       json_object **ret, struct error **err)
{
	size_t n = strv_length(subnets);
	struct ipam_pool *pools = xnew0(struct ipam_pool, n + 1);
	_cleanup_json_ json_object *aux_map = NULL;
	int r = 0;

	if (n < strv_length(ranges) || n < strv_length(gateways)) {
		r = error_setx(err, -EINVAL,
			       "every ip-range or gateway must have a corresponding subnet");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < i; k++) {
			bool a, b;
			r = subnet_matches(subnets[i], pools[k].subnet, &a, err);
			if (r >= 0)
				r = subnet_matches(pools[k].subnet, subnets[i], &b, err);
			if (r < 0)
				goto out;
			if (a || b) {
				r = error_setx(err, -EINVAL,
					       "multiple overlapping subnet configuration is not "
					       "supported");
				goto out;
			}
		}
		pools[i].subnet = subnets[i];
	}
	for (char **p = ranges; p && *p; p++)
		if ((r = ipam_assign(pools, n, *p, "range", true, err)) < 0)
			goto out;
	for (char **p = gateways; p && *p; p++)
		if ((r = ipam_assign(pools, n, *p, "gateway", false, err)) < 0)
			goto out;
	/* --aux-address is a map: one address a name, the last one wins */
	aux_map = kv_object(aux);
	json_object_object_foreach(aux_map, name, addr)
	{
		bool match = false;
		const char *a = json_object_get_string(addr);
		for (size_t i = 0; i < n; i++) {
			bool ok;
			r = subnet_matches(pools[i].subnet, a, &ok, err);
			if (r < 0)
				goto out;
			if (!ok)
				continue;
			if (!pools[i].aux)
				pools[i].aux = json_object_new_object();
			json_add_str(pools[i].aux, name, a);
			match = true;
		}
		if (!match) {
			r = error_setx(err, -EINVAL, "no matching subnet for aux-address %s", a);
			goto out;
		}
	}

	json_object *list = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_new_object();
		json_add_str(c, "Subnet", pools[i].subnet);
		if (!isempty(pools[i].range))
			json_add_str(c, "IPRange", pools[i].range);
		if (!isempty(pools[i].gateway))
			json_add_str(c, "Gateway", pools[i].gateway);
		if (pools[i].aux)
			json_object_object_add(c, "AuxiliaryAddresses", json_sorted(pools[i].aux));
		json_object_array_add(list, c);
	}
	*ret = list;
out:
	pools_free(pools, n);
	return r;
}

int cmd_network_create(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL, **aux = NULL, **gateways = NULL, **ranges = NULL,
				 **subnets = NULL, **ipam_opts = NULL, **labels = NULL,
				 **opts = NULL;
	_cleanup_free_ char *driver = NULL, *scope = NULL, *ipam_driver = NULL, *config_from = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *body = NULL, *resp = NULL;
	json_object *ipam_list = NULL;
	bool attachable = false, config_only = false, ingress = false, internal = false;
	bool ipv4 = true, ipv6 = false, ipv4_set = false, ipv6_set = false;
	const struct flag flags[] = {
	    {"attachable", 0, FLAG_BOOL, &attachable, "Enable manual container attachment"},
	    {"aux-address", 0, FLAG_LIST, &aux,
	     "Auxiliary IPv4 or IPv6 addresses used by Network driver (default map[])", "map"},
	    {"config-from", 0, FLAG_STRING, &config_from,
	     "The network from which to copy the configuration"},
	    {"config-only", 0, FLAG_BOOL, &config_only, "Create a configuration only network"},
	    {"driver", 'd', FLAG_STRING, &driver,
	     "Driver to manage the Network (default \"bridge\")"},
	    {"gateway", 0, FLAG_CSV, &gateways, "IPv4 or IPv6 Gateway for the master subnet"},
	    {"ingress", 0, FLAG_BOOL, &ingress, "Create swarm routing-mesh network"},
	    {"internal", 0, FLAG_BOOL, &internal, "Restrict external access to the network"},
	    {"ip-range", 0, FLAG_CSV, &ranges, "Allocate container ip from a sub-range"},
	    {"ipam-driver", 0, FLAG_STRING, &ipam_driver,
	     "IP Address Management Driver (default \"default\")"},
	    {"ipam-opt", 0, FLAG_LIST, &ipam_opts,
	     "Set IPAM driver specific options (default map[])", "map"},
	    {"ipv4", 0, FLAG_BOOL, &ipv4,
	     "Enable or disable IPv4 address assignment (default true)", NULL, &ipv4_set},
	    {"ipv6", 0, FLAG_BOOL, &ipv6, "Enable or disable IPv6 address assignment", NULL,
	     &ipv6_set},
	    {"label", 0, FLAG_LIST, &labels, "Set metadata on a network", NULL, NULL,
	     cli_check_label},
	    {"opt", 'o', FLAG_LIST, &opts, "Set driver specific options (default map[])", "map"},
	    {"scope", 0, FLAG_STRING, &scope, "Control the network's scope"},
	    {"subnet", 0, FLAG_CSV, &subnets,
	     "Subnet in CIDR format that represents a network segment"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 1));
	if (ipam_config(subnets, ranges, gateways, aux, &ipam_list, &err) < 0)
		return cli_fail(cli, err);

	/* NetworkCreateRequest, members in docker's order */
	body = json_object_new_object();
	json_add_str(body, "Driver", driver ? driver : "bridge");
	json_add_str(body, "Scope", scope ? scope : "");
	if (ipv4_set)
		json_add_bool(body, "EnableIPv4", ipv4);
	if (ipv6_set)
		json_add_bool(body, "EnableIPv6", ipv6);
	json_object *ipam = json_object_new_object();
	json_add_str(ipam, "Driver", ipam_driver ? ipam_driver : "default");
	json_object_object_add(ipam, "Options", kv_object(ipam_opts));
	json_object_object_add(ipam, "Config", ipam_list);
	json_object_object_add(body, "IPAM", ipam);
	json_add_bool(body, "Internal", internal);
	json_add_bool(body, "Attachable", attachable);
	json_add_bool(body, "Ingress", ingress);
	json_add_bool(body, "ConfigOnly", config_only);
	if (!isempty(config_from)) {
		json_object *cf = json_object_new_object();
		json_add_str(cf, "Network", config_from);
		json_object_object_add(body, "ConfigFrom", cf);
	} else
		json_object_object_add(body, "ConfigFrom", NULL);
	json_object_object_add(body, "Options", kv_object(opts));
	json_object_object_add(body, "Labels", kv_object(labels));
	json_add_str(body, "Name", args[0]);

	if (cli_call(cli, "POST", "/networks/create", body, &resp, NULL, &err) < 0)
		return cli_fail(cli, err);
	printf("%s\n", jstr(resp, "Id"));
	return 0;
}

/* ---- ls ---------------------------------------------------------------------------------- */

#define NETWORKS_DEFAULT "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
#define NETWORKS_RAW                                                                               \
	"network_id: {{.ID}}\\nname: {{.Name}}\\ndriver: {{.Driver}}\\nscope: {{.Scope}}\\n"

static json_object *networks_header(void)
{
	json_object *h = json_object_new_object();
	static const char *const kv[][2] = {
	    {"ID", "NETWORK ID"},     {"Name", "NAME"},	    {"Driver", "DRIVER"},
	    {"Scope", "SCOPE"},	      {"IPv4", "IPV4"},	    {"IPv6", "IPV6"},
	    {"Internal", "INTERNAL"}, {"Labels", "LABELS"}, {"CreatedAt", "CREATED AT"},
	};
	for (size_t i = 0; i < ELEMENTSOF(kv); i++)
		json_add_str(h, kv[i][0], kv[i][1]);
	return h;
}

/* Go's time.Time.String() of an RFC 3339 time, in the zone it was written in:
 * "2025-01-02T03:04:05.120Z" -> "2025-01-02 03:04:05.12 +0000 UTC". */
static char *go_time_string(const char *s)
{
	size_t n = strlen(s);
	if (n < 20 || s[10] != 'T' || s[19] == 0)
		return xstrdup(s);
	struct sbuf b = {0};
	sbuf_add(&b, s, 10);
	sbuf_puts(&b, " ");
	sbuf_add(&b, s + 11, 8);
	const char *p = s + 19;
	if (*p == '.') {
		size_t digits = strspn(p + 1, "0123456789");
		size_t keep = digits > 9 ? 9 : digits;
		while (keep > 0 && p[keep] == '0')
			keep--;
		if (keep > 0)
			sbuf_add(&b, p, keep + 1);
		p += 1 + digits;
	}
	if (*p == 'Z')
		sbuf_puts(&b, " +0000 UTC");
	else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		/* a fixed zone without a name: Go prints the offset twice */
		sbuf_printf(&b, " %c%.2s%.2s %c%.2s%.2s", p[0], p + 1, p + 4, p[0], p + 1, p + 4);
	}
	return sbuf_take(&b);
}

static json_object *network_row(json_object *n, bool trunc)
{
	json_object *row = json_object_new_object();
	const char *id = jstr(n, "Id");
	_cleanup_free_ char *tid = format_truncate_id(id);
	json_add_str(row, "ID", trunc ? tid : id);
	json_add_str(row, "Name", jstr(n, "Name"));
	json_add_str(row, "Driver", jstr(n, "Driver"));
	json_add_str(row, "Scope", jstr(n, "Scope"));
	json_add_str(row, "IPv4", jbool(n, "EnableIPv4") ? "true" : "false");
	json_add_str(row, "IPv6", jbool(n, "EnableIPv6") ? "true" : "false");
	json_add_str(row, "Internal", jbool(n, "Internal") ? "true" : "false");
	json_object *labels = jget(n, "Labels");
	_cleanup_free_ char *ls = format_labels(labels);
	json_add_str(row, "Labels", ls);
	/* .Label "k": "" for a missing label, as the Go map lookup gives */
	json_object *lab = json_object_new_object();
	if (json_object_is_type(labels, json_type_object)) {
		json_object_object_foreach(labels, k, v)
		{
			json_add_str(lab, k, json_object_get_string(v));
		}
	}
	json_object_object_add(row, "Label", lab);
	_cleanup_free_ char *created = go_time_string(jstr(n, "Created"));
	json_add_str(row, "CreatedAt", created);
	return row;
}

static int network_name_cmp(const void *a, const void *b)
{
	json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
	return natural_cmp(jstr(x, "Name"), jstr(y, "Name"));
}

/* A template error as docker words it: its context type, not the generic one. */
static int fail_template(struct error *err)
{
	const char *m = err && err->msg ? err->msg : "error";
	const char *at = strstr(m, "*formatter.Context");
	if (at)
		fprintf(stderr, "template parsing error: %.*s*network.networkContext%s\n",
			(int)(at - m), m, at + strlen("*formatter.Context"));
	else if (startswith(m, "template parsing error"))
		fprintf(stderr, "%s\n", m);
	else
		fprintf(stderr, "template parsing error: %s\n", m);
	return 1;
}

int cmd_network_ls(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL, **filters = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *list = NULL, *hdr = networks_header();
	_cleanup_free_ char *format = NULL, *fjson = NULL, *path = NULL;
	_cleanup_(formatter_freep) struct formatter *f = NULL;
	bool quiet = false, no_trunc = false;
	struct query q = {0};
	const struct flag flags[] = {
	    {"filter", 'f', FLAG_LIST, &filters, "Provide filter values (e.g. \"driver=bridge\")",
	     "filter", NULL, check_filter},
	    {"format", 0, FLAG_STRING, &format, "Format output using a custom template"},
	    {"no-trunc", 0, FLAG_BOOL, &no_trunc, "Do not truncate the output"},
	    {"quiet", 'q', FLAG_BOOL, &quiet, "Only display network IDs"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 0));
	if (filters_json(filters, &fjson, &err) < 0)
		return cli_fail(cli, err);
	if (fjson)
		query_add(&q, "filters", fjson);
	path = query_finish(&q, "/networks");
	if (cli_call(cli, "GET", path, NULL, &list, NULL, &err) < 0)
		return cli_fail(cli, err);

	if (isempty(format) && !quiet) {
		_cleanup_json_ json_object *cfg = NULL;
		if (cli_config_load(cli, &cfg, NULL) >= 0 && *jstr(cfg, "networksFormat")) {
			free(format);
			format = xstrdup(jstr(cfg, "networksFormat"));
		}
	}
	const char *fmt = format;
	if (isempty(fmt) || streq(fmt, "table"))
		fmt = quiet ? "{{.ID}}" : NETWORKS_DEFAULT;
	else if (streq(fmt, "raw"))
		fmt = quiet ? "network_id: {{.ID}}" : NETWORKS_RAW;
	if (formatter_new(fmt, NETWORKS_DEFAULT, hdr, TEMPLATE_STRICT, &f, &err) < 0)
		return fail_template(err);

	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	json_object **sorted = xnew0(json_object *, n + 1);
	for (size_t i = 0; i < n; i++)
		sorted[i] = json_object_array_get_idx(list, i);
	qsort(sorted, n, sizeof(*sorted), network_name_cmp);
	for (size_t i = 0; i < n; i++) {
		_cleanup_json_ json_object *row = network_row(sorted[i], !no_trunc);
		if (formatter_row(f, row, &err) < 0) {
			free(sorted);
			return fail_template(err);
		}
	}
	free(sorted);
	formatter_finish(f, stdout);
	return 0;
}

/* ---- rm ---------------------------------------------------------------------------------- */

int cmd_network_rm(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	bool force = false;
	int status = 0;
	const struct flag flags[] = {
	    {"force", 'f', FLAG_BOOL, &force, "Do not error if the network does not exist"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_min(cli, args, 1));
	for (char **a = args; *a; a++) {
		_cleanup_error_ struct error *err = NULL;
		_cleanup_json_ json_object *nw = NULL;
		_cleanup_free_ char *e = url_escape(*a, true);
		_cleanup_free_ char *path = xasprintf("/networks/%s", e);

		/* docker looks first: removing the ingress network needs a confirmation */
		if (cli_call(cli, "GET", path, NULL, &nw, NULL, NULL) >= 0 &&
		    jbool(nw, "Ingress") &&
		    !confirm("WARNING! Before removing the routing-mesh network, make sure all the "
			     "nodes in your swarm run the same docker engine version. Otherwise, "
			     "removal may not be effective and functionality of newly create "
			     "ingress networks will be impaired.\nAre you sure you want to "
			     "continue?"))
			continue;
		int r = cli_call(cli, "DELETE", path, NULL, NULL, NULL, &err);
		if (r < 0) {
			if (force && r == -ENOENT)
				continue;
			fprintf(stderr, "%s\n", err && err->msg ? err->msg : "error");
			status = 1;
			continue;
		}
		printf("%s\n", *a);
		fflush(stdout);
	}
	/* docker returns a bare cli.StatusError, which prints as "exit status 1" */
	if (status)
		fprintf(stderr, "exit status %d\n", status);
	return status;
}

/* ---- prune ------------------------------------------------------------------------------- */

int cmd_network_prune(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL, **filters = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *resp = NULL;
	_cleanup_free_ char *fjson = NULL, *path = NULL;
	bool force = false;
	struct query q = {0};
	const struct flag flags[] = {
	    {"filter", 0, FLAG_LIST, &filters, "Provide filter values (e.g. \"until=<timestamp>\")",
	     "filter", NULL, check_filter},
	    {"force", 'f', FLAG_BOOL, &force, "Do not prompt for confirmation"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 0));
	if (filters_json(filters, &fjson, &err) < 0)
		return cli_fail(cli, err);
	/* a "no" cancels quietly, with exit code 0 */
	if (!force && !confirm("WARNING! This will remove all custom networks not used by at least "
			       "one container.\nAre you sure you want to continue?"))
		return 0;
	if (fjson)
		query_add(&q, "filters", fjson);
	path = query_finish(&q, "/networks/prune");
	if (cli_call(cli, "POST", path, NULL, &resp, NULL, &err) < 0)
		return cli_fail(cli, err);
	json_object *l = jget(resp, "NetworksDeleted");
	if (json_object_is_type(l, json_type_array) && json_object_array_length(l) > 0) {
		printf("Deleted Networks:\n");
		for (size_t i = 0; i < json_object_array_length(l); i++)
			printf("%s\n", json_object_get_string(json_object_array_get_idx(l, i)));
		printf("\n");
	}
	return 0;
}

/* ---- connect / disconnect ---------------------------------------------------------------- */

int cmd_network_connect(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL, **aliases = NULL, **driver_opts = NULL,
				 **links = NULL, **link_local = NULL;
	_cleanup_free_ char *ip = NULL, *ip6 = NULL, *net = NULL, *path = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *body = NULL;
	int64_t gw_priority = 0;
	const struct flag flags[] = {
	    {"alias", 0, FLAG_CSV, &aliases, "Add network-scoped alias for the container"},
	    {"driver-opt", 0, FLAG_CSV, &driver_opts, "driver options for the network"},
	    {"gw-priority", 0, FLAG_INT, &gw_priority,
	     "Highest gw-priority provides the default gateway. Accepts positive and negative "
	     "values."},
	    {"ip", 0, FLAG_STRING, &ip, "IPv4 address (e.g., \"172.30.100.104\")"},
	    {"ip6", 0, FLAG_STRING, &ip6, "IPv6 address (e.g., \"2001:db8::33\")"},
	    {"link", 0, FLAG_LIST, &links, "Add link to another container", NULL, NULL,
	     cli_check_link},
	    {"link-local-ip", 0, FLAG_CSV, &link_local,
	     "Add a link-local address for the container"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 2));

	/* convertDriverOpt */
	_cleanup_json_ json_object *dopts = json_object_new_object();
	for (char **p = driver_opts; p && *p; p++) {
		const char *eq = strchr(*p, '=');
		const char *b = *p, *e = eq ? eq : *p + strlen(*p);
		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		if (!eq || b == e) {
			fprintf(stderr, "invalid key/value pair format in driver options\n");
			return 1;
		}
		_cleanup_free_ char *k = xstrndup(b, (size_t)(e - b));
		const char *vb = eq + 1, *ve = vb + strlen(vb);
		while (vb < ve && isspace((unsigned char)*vb))
			vb++;
		while (ve > vb && isspace((unsigned char)ve[-1]))
			ve--;
		_cleanup_free_ char *v = xstrndup(vb, (size_t)(ve - vb));
		json_add_str(dopts, k, v);
	}

	/* the full EndpointSettings, as docker sends it */
	json_object *ep = json_object_new_object();
	json_object *ipam = json_object_new_object();
	if (!isempty(ip))
		json_add_str(ipam, "IPv4Address", ip);
	if (!isempty(ip6))
		json_add_str(ipam, "IPv6Address", ip6);
	if (link_local)
		json_object_object_add(ipam, "LinkLocalIPs", json_strv_new(link_local));
	json_object_object_add(ep, "IPAMConfig", ipam);
	json_object_object_add(ep, "Links", links ? json_strv_new(links) : NULL);
	json_object_object_add(ep, "Aliases", json_strv_new(aliases));
	json_add_str(ep, "MacAddress", "");
	json_object_object_add(ep, "DriverOpts", json_sorted(dopts));
	json_add_int(ep, "GwPriority", gw_priority);
	json_add_str(ep, "NetworkID", "");
	json_add_str(ep, "EndpointID", "");
	json_add_str(ep, "Gateway", "");
	json_add_str(ep, "IPAddress", "");
	json_add_int(ep, "IPPrefixLen", 0);
	json_add_str(ep, "IPv6Gateway", "");
	json_add_str(ep, "GlobalIPv6Address", "");
	json_add_int(ep, "GlobalIPv6PrefixLen", 0);
	json_object_object_add(ep, "DNSNames", NULL);

	body = json_object_new_object();
	json_add_str(body, "Container", args[1]);
	json_object_object_add(body, "EndpointConfig", ep);
	net = url_escape(args[0], true);
	path = xasprintf("/networks/%s/connect", net);
	if (cli_call(cli, "POST", path, body, NULL, NULL, &err) < 0)
		return cli_fail(cli, err);
	return 0;
}

int cmd_network_disconnect(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_free_ char *net = NULL, *path = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *body = json_object_new_object();
	bool force = false;
	const struct flag flags[] = {
	    {"force", 'f', FLAG_BOOL, &force, "Force the container to disconnect from a network"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 2));
	json_add_str(body, "Container", args[1]);
	json_add_bool(body, "Force", force);
	net = url_escape(args[0], true);
	path = xasprintf("/networks/%s/disconnect", net);
	if (cli_call(cli, "POST", path, body, NULL, NULL, &err) < 0)
		return cli_fail(cli, err);
	return 0;
}
