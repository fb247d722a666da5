/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the daemon module. */
#ifndef BERTH_DAEMON_INTERNAL_H
#define BERTH_DAEMON_INTERNAL_H

#include <sqlite3.h>

#include "daemon.h"
#include "image/image.h"
#include "network/network.h"
#include "registry/registry.h"
#include "runtime/runtime.h"

enum cstatus {
	C_CREATED,
	C_RUNNING,
	C_PAUSED,
	C_RESTARTING,
	C_EXITED,
	C_REMOVING,
	C_DEAD,
};
const char *cstatus_name(enum cstatus s);

struct exec_proc;

/* State.Health (health.c), dockerd's: a container has one once it ran with a healthcheck. */
enum health_status { HEALTH_STARTING, HEALTH_HEALTHY, HEALTH_UNHEALTHY };
struct health {
	enum health_status status;
	int failing_streak;
	json_object *log; /* the last results (5), oldest first; NULL before the first */
	/* the probing, not persisted */
	bool monitoring; /* probes are due: the container runs and is not paused */
	bool probing;	 /* one is in flight */
	int64_t next_ns; /* when the next one is due (realtime) */
	uint64_t gen;	 /* bumps when probing stops or starts over: older results are dropped */
};

struct container {
	char *id;
	char *name; /* "/name" */
	int64_t created_ns;
	char *image;		  /* as given at create */
	char *image_id;		  /* sha256:... */
	json_object *config;	  /* Config, merged with the image's */
	json_object *host_config; /* HostConfig, defaults filled */
	char *path;		  /* the process: Path and Args as inspect shows them */
	char **args;

	/* state */
	enum cstatus status;
	bool starting; /* a start is in progress */
	bool stopping; /* a stop/kill by the user: no restart */
	bool removing;
	bool removed; /* gone: waiters on "removed" wake up */
	pid_t pid;
	pid_t shim_pid;
	pid_t old_shim_pid; /* the shim of the last run, cleaning up until it exits */
	int exit_code;
	char *error;
	int64_t started_ns, finished_ns;
	int restart_count;
	int64_t backoff_ms;    /* the restart policy's current delay */
	bool manually_stopped; /* unless-stopped */
	bool oom_killed;
	uint64_t exit_gen;  /* bumps at every exit (wait next-exit) */
	uint64_t start_gen; /* bumps at every start */
	int watch_fd;	    /* WAIT connection to the shim, -1 when none */
	int pending_attach; /* attaches waiting for the next start */
	int attached;	    /* of those, connected to the shim */
	bool tty;
	struct exec_proc *execs;
	/* Networks (network.c): {"Networks":{name: EndpointSettings}, "Ports": {...},
	 * "DNSUpstreams": [...], "SandboxID"}, persisted; port_fds hold the published host
	 * ports while it runs. */
	json_object *net;
	int *port_fds;
	size_t n_port_fds;
	bool dns_listening;
	/* links.c: what the legacy links give the start under way (env, /etc/hosts lines) */
	char **link_env;
	char *link_hosts;
	struct health *health; /* NULL: none (health.c) */

	struct container *next;
};

struct exec_proc {
	char *id;
	char *container_id;
	json_object *config;  /* the create body */
	json_object *process; /* OCI process */
	bool tty, open_stdin, open_stdout, open_stderr;
	bool running, started, exited;
	int exit_code;
	pid_t pid;
	char *dir;  /* shim dir of the container */
	bool probe; /* a health probe's: forgotten once it exited */
	/* What fails at start rather than at create, as in dockerd (the runtime resolves the
	 * user there): the message, for an exit code of 126. NULL: none. */
	char *start_error;
	struct exec_proc *next;
};

/* Past events a subscriber can replay (since=): as many as dockerd keeps (eventsLimit). */
#define EVENT_RING 256

struct network;

struct engine {
	const struct daemon_config *cfg;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* state changes: exits, starts, removals, events */
	struct container *containers;
	sqlite3 *db;
	struct image_store *images;
	struct registry_config registry;
	struct runtime_ctx rt;
	char *runtime_root;
	char *shim_path;
	int monitor_epfd;
	int monitor_wake[2];
	pthread_t monitor;
	bool closing;
	/* events */
	char *events[EVENT_RING];	/* serialised: a json-c object costs several times more */
	int64_t event_time[EVENT_RING]; /* ns */
	uint64_t event_seq;		/* total emitted */
	int64_t start_ns;
	char *daemon_id;
	/* networks (network.c) */
	struct network *networks;
	struct net_dns *dns;
	char *nat_applied; /* the last ruleset given to nft */
	bool ip_forward_done;
	/* exit codes of recently removed containers, for waiters on "removed" */
	struct {
		char id[65];
		int code;
	} tombstones[64];
	unsigned n_tombstones;
	struct janitor *janitor; /* janitor.c */
	struct netpool *netpool; /* netpool.c */
	struct prober *prober;	 /* health.c */
};

/*
 * health.c: healthchecks as dockerd runs them (moby daemon/health.go). One thread runs the
 * probes of every container, while some container has a healthcheck; each probe is an exec
 * (exec_probe_start), run without the engine lock.
 */
/* Create: checks the request's Config.Healthcheck (dockerd's messages) and merges it over the
 * image's (image_hc may be NULL); *ret is a new reference or NULL for none. */
int health_config_merge(json_object *hc, json_object *image_hc, json_object **ret,
			struct error **err);
/* With the lock. A start or a re-adoption: the status starts over ("starting", its log
 * kept) and the probes begin, when the container has a healthcheck. */
void health_start_locked(struct engine *e, struct container *c);
/* With the lock. The container exited or was paused: no more probes, and the status is
 * "unhealthy", as dockerd's when its monitor stops. */
void health_stop_locked(struct engine *e, struct container *c);
/* With the lock. Unpaused: the probes go on (the status stays). */
void health_resume_locked(struct engine *e, struct container *c);
/* State.Health as inspect shows it and the store keeps it; NULL when none. */
json_object *health_json(const struct health *h);
/* From the store's document ("Health"), NULL when none. */
struct health *health_from_json(json_object *o);
void health_free(struct health *h);
/* "healthy", "unhealthy", "starting"; "none" for NULL (ps --filter health=). */
const char *health_status_name(const struct health *h);
/* engine_close: the thread stops, probes in flight are killed. */
void health_shutdown(struct engine *e);

/* exec.c for health.c: a probe is an exec of cmd (an array) as dockerd runs them: no stdin,
 * stdout and stderr attached, with the container's user, environment and working directory.
 * *ret_fd: the shim's ATTACH connection (output frames, then the exit frame); *ret_pid: the
 * process. The exec is listed (ExecIDs) until exec_probe_done(). */
int exec_probe_start(struct engine *e, const char *cid, json_object *cmd, char **ret_exec_id,
		     int *ret_fd, pid_t *ret_pid, struct error **err);
/* The probe's process exited with code: its exec_die event, and the exec goes. */
void exec_probe_done(struct engine *e, const char *exec_id, int code);

/* links.c: legacy links. At create, with the lock: checks HostConfig.Links and stores them
 * as dockerd does ("/child:/parent/alias"). At start, with the lock: the environment and
 * /etc/hosts lines they give (an error if a child does not run). rm --link. */
int links_check_locked(struct engine *e, const char *parent_name, json_object *hc,
		       struct error **err);
int links_for_start_locked(struct engine *e, struct container *c, char ***ret_env, char **ret_hosts,
			   struct error **err);

/* netpool.c: network namespaces made ahead of the starts that need one. */
int netpool_start(struct engine *e);
void netpool_stop(struct engine *e);
/* A namespace (an fd, lo up) for one container, or -1 when none is ready. */
int netpool_take(struct engine *e);

/* janitor.c: a removed container's files are deleted in the background. */
int janitor_start(struct engine *e, struct error **err);
/* Finishes the deletions asked for, then stops. */
void janitor_stop(struct engine *e);
/* With or without the lock: moves the container's directory and run directory into the
 * trash (unmounting and deleting them there later), or deletes them now when it cannot. */
void janitor_discard(struct engine *e, const char *id);
/* Waits until everything discarded so far is gone (before image layers are deleted). */
void janitor_drain(struct engine *e);
/* Whether path is a mount point (another device than its parent's). */
bool is_mountpoint(const char *path);
/* Detaches the mounts stacked on path (at most 8). */
void unmount_all(const char *path);

/*
 * sizes.c: SizeRw and SizeRootFs of containers (ps -s, inspect -s, system df). The walks
 * of their writable layers run without the lock: size_jobs_add_locked notes, with the lock
 * held, a container and the reply object o (holding SizeRw and SizeRootFs placeholders, in
 * the place dockerd puts them) to fill; size_jobs_run, after the lock is released, fills
 * each o (omit_zero: a 0 leaves its key out, as moby's list does) and empties j.
 */
struct size_jobs {
	struct size_job *v;
	size_t n, cap;
};
void size_jobs_add_locked(struct engine *e, struct size_jobs *j, const struct container *c,
			  json_object *o);
void size_jobs_run(struct engine *e, struct size_jobs *j, bool omit_zero);

/* The exit code a removed container left, or -1. With the lock held. */
int tombstone_code(struct engine *e, const char *id);

/* Persistence (store.c). */
int store_open(struct engine *e, struct error **err);
int store_save(struct engine *e, struct container *c);
int store_delete(struct engine *e, const char *id);
int store_load_all(struct engine *e, struct error **err);
/* One JSON document per row of table (containers, networks): insert or replace; delete. */
int store_put(struct engine *e, const char *table, const char *id, const char *name,
	      json_object *doc);
int store_remove(struct engine *e, const char *table, const char *id);
/* Docker's filters arrive as {"name":{"x":true}} (CLI) or {"name":["x"]} (docker-py). */
char **filter_values(json_object *filters, const char *name);

/* Lookup with the lock held. */
struct container *container_find(struct engine *e, const char *ref);
/* Paths. Caller frees. */
char *container_dir(struct engine *e, const char *id);	  /* data_root/containers/<id> */
char *container_rundir(struct engine *e, const char *id); /* exec_root/containers/<id> */
char *container_log_path(struct engine *e, const char *id);
void container_free(struct container *c);
json_object *container_state_json(const struct container *c);
/* "Up 5 seconds" ... */
char *container_status_text(const struct container *c);

/*
 * The pure part of container create: validate a create body (types as json.Unmarshal would
 * insist on, HostConfig as dockerd does) and merge it over the image's config (image_config
 * is the image's config JSON, the one with "config" in it; NULL for none). On success
 * *ret_config (Config without HostConfig/NetworkingConfig, Cmd/Entrypoint as arrays, Env,
 * Labels, ... merged) and *ret_host_config (defaults filled, except LogConfig) are new
 * references. Errors: -EINVAL (400), -ENOENT for an unknown network (404).
 */
int container_config_check(json_object *body, json_object *image_config, json_object **ret_config,
			   json_object **ret_host_config, struct error **err);

/*
 * Binds and mounts (mounts.c): HostConfig.Binds and HostConfig.Mounts as dockerd reads them.
 * mounts_check: at create, dockerd's checks and messages (-EINVAL); a bind source from
 * Mounts must exist. mounts_list: .Mounts of inspect and ps (a new array).
 * mounts_match_volume: ps --filter volume= (a source or a destination).
 * mounts_make_sources: at start, without the lock: a missing Binds source is made, as
 * dockerd does. mounts_spec: the OCI mounts of Binds, Mounts and Tmpfs onto mounts, by
 * depth; returns the root propagation their propagation needs, or NULL. None of them costs
 * a syscall for a container without binds or mounts.
 */
int mounts_check(json_object *hc, struct error **err);
json_object *mounts_list(json_object *hc);
bool mounts_match_volume(json_object *hc, const char *value);
int mounts_make_sources(json_object *hc, struct error **err);
const char *mounts_spec(json_object *hc, json_object *mounts);

/* OCI spec for a container (spec.c). rootfs is the mounted overlay. */
int spec_build(struct engine *e, struct container *c, const char *rootfs, json_object **ret,
	       struct error **err);
/* Whether the spec makes a network namespace of its own (no path, no user namespace). */
bool spec_new_netns(json_object *spec);
/* Has the runtime join the namespace berthd holds as fd instead of making one. */
void spec_set_netns_path(json_object *spec, int fd);
/* An OCI process for exec from the container's spec. */
int spec_exec_process(struct engine *e, struct container *c, json_object *body, json_object **ret,
		      struct error **err);

/* Events (events.c). With the lock held. */
/* container.c: Go's names for JSON types, for json.Unmarshal's wording. */
const char *json_type_go(json_object *v);
/* exec.c: free an exec (not linked anywhere any more). */
void exec_proc_free(struct exec_proc *x);
/* A signal by name (KILL, SIGKILL, sigkill) or number (1-64); -1 when it is neither. */
int signal_parse(const char *s);
/* Copy c's labels into an event's attributes (keys already there win). */
void event_add_labels(json_object *attrs, const struct container *c);
void event_emit_locked(struct engine *e, const char *type, const char *action, const char *id,
		       json_object *attributes /* taken */);

/* Lifecycle (lifecycle.c). */
int monitor_start(struct engine *e, struct error **err);
/* Watch a running container's shim; true when the container exited and is gone. */
bool monitor_watch(struct engine *e, struct container *c);
int lifecycle_reconcile(struct engine *e);
void container_unmount(struct engine *e, struct container *c);

/* Spawn a shim; reads its status line. *ret_pid is the shim's pid. */
int shim_spawn(struct engine *e, char *const *argv, pid_t *ret_pid, struct error **err);
/* Connect to a shim socket and send a command line. */
int shim_connect(const char *sock, const char *line, struct error **err);
/* One-shot request with a one-line reply. */
int shim_request(const char *sock, const char *line, char *reply, size_t n, struct error **err);

/* Streams through a shim's ATTACH connection (stream.c), for attach and exec alike. */
struct shim_pump {
	int in_fd, shim_fd;
	const char *prefix; /* stdin bytes already read by the HTTP layer go first */
	size_t prefix_len;
};
/* Thread body: client stdin to the shim as frames, a close frame at EOF. */
void *shim_stdin_pump(void *arg);
/* The shim's output frames to out_fd (stdcopy frames, or raw for a TTY) until it exits. */
int shim_relay_frames(int shim_fd, int out_fd, bool tty, bool want_out, bool want_err);

/* A random 64-hex id; a valid container or network name. */
char *random_id(void);
bool valid_name(const char *n);

/* Networks (network.c). With the lock held unless said otherwise. */
/* Load the networks and make the predefined ones; after the containers are loaded. */
int network_init(struct engine *e, struct error **err);
/* After lifecycle_reconcile: ports, DNS and NAT of the running containers; sweep. */
void network_restore(struct engine *e);
void network_shutdown(struct engine *e);
/* Container create: the networks of HostConfig.NetworkMode and NetworkingConfig; a new
 * reference in *ret ({"Networks":{...}}). */
int container_net_config(struct engine *e, json_object *hc, json_object *netcfg, json_object **ret,
			 struct error **err);
/* Start, before the rootfs: addresses, MACs, host ports. */
int container_net_prepare(struct engine *e, struct container *c, struct error **err);
/* Start, without the lock (c->starting holds it still): hosts, resolv.conf, hostname. */
int container_net_etc_files(struct engine *e, struct container *c, struct error **err);
/* Start, after create, without the lock: the interfaces in the namespace of pid, DNS, NAT;
 * lo_up: the namespace is new and its lo still down (it was not a pooled one). */
int container_net_attach(struct engine *e, struct container *c, pid_t pid, bool lo_up,
			 struct error **err);
/* The address of the container's first endpoint that has one, or NULL. With the lock. */
const char *container_first_ip(struct container *c);
/* Exit or a failed start: everything container_net_prepare/attach made goes. */
void container_net_release(struct engine *e, struct container *c);
/* Inspect's NetworkSettings and the list's Ports/NetworkSettings. */
json_object *container_net_settings(struct engine *e, struct container *c);
json_object *container_net_list_ports(struct container *c);
json_object *container_net_list_settings(struct container *c);
bool container_net_on(struct engine *e, struct container *c, const char *network_ref);
/* The pure part of POST /networks/create (for the fuzz target): the body's name, driver,
 * options and IPAM config; no subnet picked, no overlap checked. */
int network_parse_create(json_object *body, struct network **ret, struct error **err);
bool network_parsed_valid(const struct network *n);
void network_parsed_free(struct network *n);
/* The name changed: its DNS records follow. */
void container_net_renamed(struct engine *e, struct container *c, const char *old_name);

/* Time helpers. */
int64_t now_ns(void);
char *format_time_ns(int64_t ns); /* RFC 3339 nano, "0001-01-01T00:00:00Z" for 0 */
/* go-units HumanDuration. */
char *human_duration(int64_t ns);

#endif
