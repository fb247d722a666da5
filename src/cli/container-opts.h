/* SPDX-License-Identifier: Apache-2.0 */
/* The options run and create share (docker's container/opts.go). */
#ifndef BERTH_CLI_CONTAINER_OPTS_H
#define BERTH_CLI_CONTAINER_OPTS_H

#include "internal.h"

struct container_opts {
	char **attach, **add_host, **cap_add, **cap_drop, **devices, **dns, **env, **env_file,
	    **expose, **group_add, **labels, **log_opts, **publish, **security_opt, **sysctls,
	    **tmpfs, **ulimits, **volumes, **volumes_from;
	/* networking: --network (repeatable, docker's NetworkOpt syntax), the options that
	 * apply to the first network, and the container's resolver and hosts settings */
	char **networks, **net_aliases, **links, **link_local_ips, **dns_options, **dns_search;
	char *ip, *ip6, *mac_address, *domainname;
	char *cpus, *cpuset_cpus, *cpuset_mems, *detach_keys, *entrypoint, *hostname, *ipc,
	    *log_driver, *memory, *memory_reservation, *memory_swap, *name, *pid, *platform, *pull,
	    *restart, *runtime, *shm_size, *stop_signal, *user, *userns, *uts, *workdir, *cidfile;
	int64_t cpu_shares, oom_score_adj, pids_limit, stop_timeout, memory_swappiness;
	bool pids_limit_set, stop_timeout_set, memory_swappiness_set;
	bool detach, init, interactive, oom_kill_disable, privileged, publish_all, quiet, read_only,
	    rm, tty, sig_proxy;
	/* --mount: each the JSON of its HostConfig.Mounts entry (cli_check_mount) */
	char **mounts;
	/* Config.Healthcheck: durations in ns */
	char *health_cmd;
	int64_t health_interval, health_timeout, health_start_period, health_start_interval,
	    health_retries;
	bool no_healthcheck;
	/* results of container_opts_body */
	bool attach_stdin, attach_stdout, attach_stderr;
};

void container_opts_release(struct container_opts *o);
/* --network's validator: a name, or docker's "name=n,alias=a,ip=...,driver-opt=k=v" form. */
int container_check_network(const char *v, char **ret, struct error **err);

/* --mount's validator (docker 28's MountOpt, mount-opt.c): *ret is the value's
 * HostConfig.Mounts entry as JSON text, which is what o->mounts holds; docker's reason in
 * err ("target is required") otherwise. Warns on stderr as docker does (bind-nonrecursive). */
int cli_check_mount(const char *v, char **ret, struct error **err);

/* The flag rows, pointing into o. */
#define CONTAINER_FLAGS(o)                                                                         \
	{"add-host",                                                                               \
	 0,                                                                                        \
	 FLAG_LIST,                                                                                \
	 &(o)->add_host,                                                                           \
	 "Add a custom host-to-IP mapping (host:ip)",                                              \
	 NULL,                                                                                     \
	 NULL,                                                                                     \
	 cli_check_extra_host},                                                                    \
	    {"attach", 'a', FLAG_LIST, &(o)->attach, "Attach to STDIN, STDOUT or STDERR"},         \
	    {"cap-add", 0, FLAG_LIST, &(o)->cap_add, "Add Linux capabilities"},                    \
	    {"cap-drop", 0, FLAG_LIST, &(o)->cap_drop, "Drop Linux capabilities"},                 \
	    {"cidfile", 0, FLAG_STRING, &(o)->cidfile, "Write the container ID to the file"},      \
	    {"cpu-shares", 'c', FLAG_INT, &(o)->cpu_shares, "CPU shares (relative weight)"},       \
	    {"cpus", 0, FLAG_STRING, &(o)->cpus, "Number of CPUs", "decimal"},                     \
	    {"cpuset-cpus", 0, FLAG_STRING, &(o)->cpuset_cpus,                                     \
	     "CPUs in which to allow execution (0-3, 0,1)"},                                       \
	    {"cpuset-mems", 0, FLAG_STRING, &(o)->cpuset_mems,                                     \
	     "MEMs in which to allow execution (0-3, 0,1)"},                                       \
	    {"detach-keys", 0, FLAG_STRING, &(o)->detach_keys,                                     \
	     "Override the key sequence for detaching a container"},                               \
	    {"device", 0, FLAG_LIST, &(o)->devices, "Add a host device to the container"},         \
	    {"dns", 0, FLAG_LIST, &(o)->dns, "Set custom DNS servers", NULL, NULL, cli_check_ip},  \
	    {"dns-opt", 0, FLAG_LIST, &(o)->dns_options, NULL},                                    \
	    {"dns-option", 0, FLAG_LIST, &(o)->dns_options, "Set DNS options"},                    \
	    {"dns-search",                                                                         \
	     0,                                                                                    \
	     FLAG_LIST,                                                                            \
	     &(o)->dns_search,                                                                     \
	     "Set custom DNS search domains",                                                      \
	     NULL,                                                                                 \
	     NULL,                                                                                 \
	     cli_check_dns_search},                                                                \
	    {"domainname", 0, FLAG_STRING, &(o)->domainname, "Container NIS domain name"},         \
	    {"entrypoint", 0, FLAG_STRING, &(o)->entrypoint,                                       \
	     "Overwrite the default ENTRYPOINT of the image"},                                     \
	    {"env", 'e', FLAG_LIST, &(o)->env, "Set environment variables"},                       \
	    {"env-file", 0, FLAG_LIST, &(o)->env_file, "Read in a file of environment variables"}, \
	    {"expose", 0, FLAG_LIST, &(o)->expose, "Expose a port or a range of ports"},           \
	    {"group-add", 0, FLAG_LIST, &(o)->group_add, "Add additional groups to join"},         \
	    {"health-cmd", 0, FLAG_STRING, &(o)->health_cmd, "Command to run to check health"},    \
	    {"health-interval", 0, FLAG_DURATION, &(o)->health_interval,                           \
	     "Time between running the check (ms|s|m|h) (default 0s)"},                            \
	    {"health-retries", 0, FLAG_INT, &(o)->health_retries,                                  \
	     "Consecutive failures needed to report unhealthy"},                                   \
	    {"health-start-interval", 0, FLAG_DURATION, &(o)->health_start_interval,               \
	     "Time between running the check during the start period (ms|s|m|h) (default 0s)"},    \
	    {"health-start-period", 0, FLAG_DURATION, &(o)->health_start_period,                   \
	     "Start period for the container to initialize before starting health-retries "        \
	     "countdown (ms|s|m|h) (default 0s)"},                                                 \
	    {"health-timeout", 0, FLAG_DURATION, &(o)->health_timeout,                             \
	     "Maximum time to allow one check to run (ms|s|m|h) (default 0s)"},                    \
	    {"hostname", 'h', FLAG_STRING, &(o)->hostname, "Container host name"},                 \
	    {"init", 0, FLAG_BOOL, &(o)->init,                                                     \
	     "Run an init inside the container that forwards signals and reaps processes"},        \
	    {"interactive", 'i', FLAG_BOOL, &(o)->interactive,                                     \
	     "Keep STDIN open even if not attached"},                                              \
	    {"ip", 0, FLAG_STRING, &(o)->ip, "IPv4 address (e.g., 172.30.100.104)"},               \
	    {"ip6", 0, FLAG_STRING, &(o)->ip6, "IPv6 address (e.g., 2001:db8::33)"},               \
	    {"ipc", 0, FLAG_STRING, &(o)->ipc, "IPC mode to use"},                                 \
	    {"label", 'l', FLAG_LIST, &(o)->labels, "Set meta data on a container"},               \
	    {"link", 0,	   FLAG_LIST,	  &(o)->links, "Add link to another container",            \
	     NULL,   NULL, cli_check_link},                                                        \
	    {"link-local-ip", 0, FLAG_LIST, &(o)->link_local_ips,                                  \
	     "Container IPv4/IPv6 link-local addresses"},                                          \
	    {"log-driver", 0, FLAG_STRING, &(o)->log_driver, "Logging driver for the container"},  \
	    {"log-opt", 0, FLAG_LIST, &(o)->log_opts, "Log driver options"},                       \
	    {"mac-address", 0, FLAG_STRING, &(o)->mac_address,                                     \
	     "Container MAC address (e.g., 92:d0:c6:0a:29:33)"},                                   \
	    {"memory", 'm', FLAG_STRING, &(o)->memory, "Memory limit", "bytes"},                   \
	    {"memory-reservation", 0,	   FLAG_STRING, &(o)->memory_reservation,                  \
	     "Memory soft limit",  "bytes"},                                                       \
	    {"memory-swap",                                                                        \
	     0,                                                                                    \
	     FLAG_STRING,                                                                          \
	     &(o)->memory_swap,                                                                    \
	     "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",                \
	     "bytes"},                                                                             \
	    {"memory-swappiness",                                                                  \
	     0,                                                                                    \
	     FLAG_INT,                                                                             \
	     &(o)->memory_swappiness,                                                              \
	     "Tune container memory swappiness (0 to 100)",                                        \
	     NULL,                                                                                 \
	     &(o)->memory_swappiness_set},                                                         \
	    {"mount",                                                                              \
	     0,                                                                                    \
	     FLAG_LIST,                                                                            \
	     &(o)->mounts,                                                                         \
	     "Attach a filesystem mount to the container",                                         \
	     "mount",                                                                              \
	     NULL,                                                                                 \
	     cli_check_mount},                                                                     \
	    {"name", 0, FLAG_STRING, &(o)->name, "Assign a name to the container"},                \
	    {"net", 0, FLAG_LIST, &(o)->networks, NULL, NULL, NULL, container_check_network},      \
	    {"net-alias", 0, FLAG_LIST, &(o)->net_aliases, NULL},                                  \
	    {"network",                                                                            \
	     0,                                                                                    \
	     FLAG_LIST,                                                                            \
	     &(o)->networks,                                                                       \
	     "Connect a container to a network",                                                   \
	     "network",                                                                            \
	     NULL,                                                                                 \
	     container_check_network},                                                             \
	    {"network-alias", 0, FLAG_LIST, &(o)->net_aliases,                                     \
	     "Add network-scoped alias for the container"},                                        \
	    {"no-healthcheck", 0, FLAG_BOOL, &(o)->no_healthcheck,                                 \
	     "Disable any container-specified HEALTHCHECK"},                                       \
	    {"oom-kill-disable", 0, FLAG_BOOL, &(o)->oom_kill_disable, "Disable OOM Killer"},      \
	    {"oom-score-adj", 0, FLAG_INT, &(o)->oom_score_adj,                                    \
	     "Tune host's OOM preferences (-1000 to 1000)"},                                       \
	    {"pid", 0, FLAG_STRING, &(o)->pid, "PID namespace to use"},                            \
	    {"pids-limit",                                                                         \
	     0,                                                                                    \
	     FLAG_INT,                                                                             \
	     &(o)->pids_limit,                                                                     \
	     "Tune container pids limit (set -1 for unlimited)",                                   \
	     NULL,                                                                                 \
	     &(o)->pids_limit_set},                                                                \
	    {"platform", 0, FLAG_STRING, &(o)->platform,                                           \
	     "Set platform if server is multi-platform "                                           \
	     "capable"},                                                                           \
	    {"privileged", 0, FLAG_BOOL, &(o)->privileged,                                         \
	     "Give extended privileges to this container"},                                        \
	    {"publish", 'p', FLAG_LIST, &(o)->publish,                                             \
	     "Publish a container's port(s) to the host"},                                         \
	    {"publish-all", 'P', FLAG_BOOL, &(o)->publish_all,                                     \
	     "Publish all exposed ports to random ports"},                                         \
	    {"pull", 0, FLAG_STRING, &(o)->pull,                                                   \
	     "Pull image before creating (\"always\", \"missing\", \"never\")"},                   \
	    {"quiet", 'q', FLAG_BOOL, &(o)->quiet, "Suppress the pull output"},                    \
	    {"read-only", 0, FLAG_BOOL, &(o)->read_only,                                           \
	     "Mount the container's root filesystem as read only"},                                \
	    {"restart", 0, FLAG_STRING, &(o)->restart,                                             \
	     "Restart policy to apply when a container exits (default \"no\")"},                   \
	    {"rm", 0, FLAG_BOOL, &(o)->rm,                                                         \
	     "Automatically remove the container and its associated anonymous volumes when it "    \
	     "exits"},                                                                             \
	    {"runtime", 0, FLAG_STRING, &(o)->runtime, "Runtime to use for this container"},       \
	    {"security-opt", 0, FLAG_LIST, &(o)->security_opt, "Security Options"},                \
	    {"shm-size", 0, FLAG_STRING, &(o)->shm_size, "Size of /dev/shm", "bytes"},             \
	    {"stop-signal", 0, FLAG_STRING, &(o)->stop_signal, "Signal to stop the container"},    \
	    {"stop-timeout",                                                                       \
	     0,                                                                                    \
	     FLAG_INT,                                                                             \
	     &(o)->stop_timeout,                                                                   \
	     "Timeout (in seconds) to stop a container",                                           \
	     NULL,                                                                                 \
	     &(o)->stop_timeout_set},                                                              \
	    {"sysctl", 0, FLAG_LIST, &(o)->sysctls, "Sysctl options", "map"},                      \
	    {"tmpfs", 0, FLAG_LIST, &(o)->tmpfs, "Mount a tmpfs directory"},                       \
	    {"tty", 't', FLAG_BOOL, &(o)->tty, "Allocate a pseudo-TTY"},                           \
	    {"ulimit", 0, FLAG_LIST, &(o)->ulimits, "Ulimit options", "ulimit"},                   \
	    {"user", 'u', FLAG_STRING, &(o)->user,                                                 \
	     "Username or UID (format: <name|uid>[:<group|gid>])"},                                \
	    {"userns", 0, FLAG_STRING, &(o)->userns, "User namespace to use"},                     \
	    {"uts", 0, FLAG_STRING, &(o)->uts, "UTS namespace to use"},                            \
	    {"volume", 'v', FLAG_LIST, &(o)->volumes, "Bind mount a volume"},                      \
	    {"volumes-from", 0, FLAG_LIST, &(o)->volumes_from,                                     \
	     "Mount volumes from the specified container(s)"},                                     \
	{                                                                                          \
		"workdir", 'w', FLAG_STRING, &(o)->workdir,                                        \
		    "Working directory inside the container"                                       \
	}

/* The create body docker sends; also sets o->attach_* from -a/-i/-d. */
int container_opts_body(struct container_opts *o, const char *image, char **cmd, bool detach,
			json_object **ret, struct error **err);
/* POST /containers/create, pulling the image when it is missing (--pull). */
int container_create(struct cli *cli, struct container_opts *o, json_object *body,
		     const char *image, char **ret_id, struct error **err);
/* POST /images/create with the JSON progress printed to out. */
int image_pull(struct cli *cli, const char *ref, const char *platform, bool quiet, FILE *out,
	       struct error **err);
/* "busybox" -> "docker.io/library/busybox" + "latest"; digests go in tag. */
int image_ref_split(const char *ref, char **ret_name, char **ret_tag);
/* "busybox" -> "busybox:latest" (what "Unable to find image" prints). */
char *image_ref_familiar_tagged(const char *ref);
/* Push ref (POST /images/{name}/push?tag=) with the JSON progress printed to out. */
int image_push(struct cli *cli, const char *ref, bool quiet, FILE *out, struct error **err);

/* ---- registry credentials (auth.c) ---------------------------------------------------- */

/* docker.io's key in config.json "auths" */
#define CLI_DOCKER_IO_KEY "https://index.docker.io/v1/"
char *cli_base64(const void *data, size_t n, bool url);
/* The "auths" key of a login server argument (NULL/"" or docker.io: CLI_DOCKER_IO_KEY). */
char *cli_registry_key(const char *server);
/* The "auths" key of the registry an image reference names. */
char *cli_registry_of_ref(const char *ref);
/* <config dir>/config.json: an empty object when missing. */
int cli_config_load(struct cli *cli, json_object **ret, struct error **err);
int cli_config_save(struct cli *cli, json_object *doc, struct error **err);
/* Stored credentials for key (exact or same hostname): 1 found, 0 none. */
int cli_auth_get(struct cli *cli, const char *key, char **ret_user, char **ret_pass);
/* "X-Registry-Auth: <base64url JSON>\r\n" for key ("e30=" when none stored). */
char *cli_auth_header(struct cli *cli, const char *key);

#endif
