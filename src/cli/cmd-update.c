/* SPDX-License-Identifier: Apache-2.0 */
/* berth update: POST /containers/<id>/update with the resources that were given. */
#include <math.h>

#include "internal.h"

static int update_one(struct cli *cli, const char *id, void *userdata, struct error **err)
{
	_cleanup_free_ char *e = url_escape(id, true);
	_cleanup_free_ char *path = xasprintf("/containers/%s/update", e);
	_cleanup_json_ json_object *resp = NULL;
	int r = cli_call(cli, "POST", path, userdata, &resp, NULL, err);
	if (r >= 0) {
		json_object *w = jget(resp, "Warnings");
		for (size_t i = 0; w && i < json_object_array_length(w); i++)
			fprintf(stderr, "%s\n",
				json_object_get_string(json_object_array_get_idx(w, i)));
	}
	return r;
}

int cmd_update(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_free_ char *memory = NULL, *memory_swap = NULL, *memory_res = NULL, *cpus = NULL,
			    *cpuset_cpus = NULL, *cpuset_mems = NULL, *restart = NULL;
	int64_t cpu_shares = 0, pids_limit = 0, blkio = 0, cpu_period = 0, cpu_quota = 0;
	bool s_cpu_shares = false, s_pids = false, s_blkio = false, s_period = false,
	     s_quota = false;
	_cleanup_json_ json_object *body = json_object_new_object();
	const struct flag flags[] = {
	    {"blkio-weight", 0, FLAG_INT, &blkio,
	     "Block IO (relative weight), between 10 and 1000, "
	     "or 0 to disable",
	     "uint16", &s_blkio},
	    {"cpu-period", 0, FLAG_INT, &cpu_period,
	     "Limit CPU CFS (Completely Fair Scheduler) "
	     "period",
	     NULL, &s_period},
	    {"cpu-quota", 0, FLAG_INT, &cpu_quota,
	     "Limit CPU CFS (Completely Fair Scheduler) quota", NULL, &s_quota},
	    {"cpu-shares", 'c', FLAG_INT, &cpu_shares, "CPU shares (relative weight)", NULL,
	     &s_cpu_shares},
	    {"cpus", 0, FLAG_STRING, &cpus, "Number of CPUs", "decimal"},
	    {"cpuset-cpus", 0, FLAG_STRING, &cpuset_cpus,
	     "CPUs in which to allow execution (0-3, "
	     "0,1)"},
	    {"cpuset-mems", 0, FLAG_STRING, &cpuset_mems,
	     "MEMs in which to allow execution (0-3, "
	     "0,1)"},
	    {"memory", 'm', FLAG_STRING, &memory, "Memory limit", "bytes"},
	    {"memory-reservation", 0, FLAG_STRING, &memory_res, "Memory soft limit", "bytes"},
	    {"memory-swap", 0, FLAG_STRING, &memory_swap,
	     "Swap limit equal to memory plus swap: -1 to enable unlimited swap", "bytes"},
	    {"pids-limit", 0, FLAG_INT, &pids_limit,
	     "Tune container pids limit (set -1 for "
	     "unlimited)",
	     NULL, &s_pids},
	    {"restart", 0, FLAG_STRING, &restart, "Restart policy to apply when a container exits"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_min(cli, args, 1));
	struct {
		const char *v, *key, *title;
	} mems[] = {{memory, "Memory", "-m, --memory"},
		    {memory_res, "MemoryReservation", "--memory-reservation"},
		    {memory_swap, "MemorySwap", "--memory-swap"}};
	for (size_t i = 0; i < ELEMENTSOF(mems); i++) {
		int64_t v;
		if (!mems[i].v)
			continue;
		if (streq(mems[i].v, "-1"))
			v = -1;
		else if (parse_size(mems[i].v, true, &v) < 0) {
			fprintf(stderr,
				"invalid argument \"%s\" for \"%s\" flag: invalid size: '%s'\n",
				mems[i].v, mems[i].title, mems[i].v);
			return EXIT_CLI;
		}
		json_add_int(body, mems[i].key, v);
	}
	if (cpus) {
		char *end;
		double c = strtod(cpus, &end);
		if (*end || end == cpus || c < 0) {
			fprintf(
			    stderr,
			    "invalid argument \"%s\" for \"--cpus\" flag: failed to parse %s as a "
			    "rational number\n",
			    cpus, cpus);
			return EXIT_CLI;
		}
		json_add_int(body, "NanoCpus", (int64_t)(c * 1e9 + 0.5));
	}
	if (s_cpu_shares)
		json_add_int(body, "CpuShares", cpu_shares);
	if (s_period)
		json_add_int(body, "CpuPeriod", cpu_period);
	if (s_quota)
		json_add_int(body, "CpuQuota", cpu_quota);
	if (s_blkio)
		json_add_int(body, "BlkioWeight", blkio);
	if (cpuset_cpus)
		json_add_str(body, "CpusetCpus", cpuset_cpus);
	if (cpuset_mems)
		json_add_str(body, "CpusetMems", cpuset_mems);
	if (s_pids)
		json_add_int(body, "PidsLimit", pids_limit);
	if (restart) {
		json_object *rp = json_object_new_object();
		const char *colon = strchr(restart, ':');
		_cleanup_free_ char *name =
		    colon ? xstrndup(restart, (size_t)(colon - restart)) : xstrdup(restart);
		int64_t max = 0;
		if (colon)
			(void)safe_atoi64(colon + 1, &max);
		json_add_str(rp, "Name", name);
		json_add_int(rp, "MaximumRetryCount", max);
		json_object_object_add(body, "RestartPolicy", rp);
	}
	if (json_object_object_length(body) == 0) {
		fprintf(stderr, "you must provide one or more flags when using this command\n");
		return 1;
	}
	return for_each_container(cli, args, true, update_one, body);
}
