/* SPDX-License-Identifier: Apache-2.0 */
/*
 * daemon: berthd's engine — the container object model and its state machine,
 * persistence (SQLite + files, DESIGN §4), the shims, events, restart
 * policies, startup reconciliation and daemon.json.
 *
 * Threading: berthd serves every connection on its own thread. All engine
 * state is guarded by one mutex inside struct engine; functions here take it
 * themselves and never hold it across blocking waits (wait, attach, logs and
 * events streams block without it).
 *
 * Errors: negative errno plus a message in Docker's words in *err. The API
 * maps ENOENT->404, EEXIST/EBUSY->409, EINVAL->400, EPERM/EACCES->403,
 * EALREADY->304 (not modified), anything else 500.
 */
#ifndef BERTH_DAEMON_H
#define BERTH_DAEMON_H

#include <pthread.h>

#include "json/json.h"

#define BERTH_VERSION "0.1.0"
#define BERTH_API_VERSION "1.50"
#define BERTH_MIN_API_VERSION "1.24"

struct daemon_config {
	char *data_root;   /* --data-root, /var/lib/berth */
	char *exec_root;   /* --exec-root, /run/berth */
	char **hosts;	   /* -H/--host, default unix:///run/berth/berthd.sock */
	char *pidfile;	   /* --pidfile, /run/berth/berthd.pid */
	char *config_file; /* --config-file, /etc/berth/daemon.json */
	bool debug;
	bool live_restore;
	char *log_driver; /* json-file */
	struct kv_list log_opts;
	bool no_new_privileges;
	char *seccomp_profile;	    /* path, "unconfined" or NULL (builtin) */
	char *cgroup_parent;	    /* default "/berth" */
	char *shim_path;	    /* berth-shim binary (default: beside berthd) */
	char *group;		    /* socket group, default "berth" when it exists */
	int shutdown_timeout;	    /* seconds, default 15 */
	char **default_ulimits;	    /* "nofile=1024:2048" */
	char **registry_mirrors;    /* for docker.io */
	char **insecure_registries; /* hosts or CIDRs; 127.0.0.0/8 always */
	char *certs_dir;	    /* certs.d (default /etc/berth/certs.d) */
	int max_concurrent_downloads;
	int max_concurrent_uploads;
	uint64_t max_layer_size; /* uncompressed bytes of one layer (0: the store's default) */
	/* TCP listeners need TLS (dockerd's --tls/--tlsverify and the cert files). */
	bool tls;
	bool tls_verify;
	char *tls_ca, *tls_cert, *tls_key;
	/* networks (DESIGN §7) */
	char *bridge; /* -b/--bridge: the default bridge's interface; "none": no default bridge */
	char *bip;    /* --bip: the default bridge's address, "172.26.0.1/16" */
	char **address_pools; /* default-address-pools: "base=10.10.0.0/16,size=24" */
	bool no_iptables;     /* --iptables=false: no NAT rules */
	bool no_ip_forward;   /* --ip-forward=false */
	int mtu;	      /* --mtu, 0: the kernel's */
};

/* Parse dockerd-style flags, then daemon.json (flags win; a key given both ways is an
 * error, as dockerd says "the following directives are specified both as a flag and in
 * the configuration file"). */
int daemon_config_load(int argc, char **argv, struct daemon_config *cfg, struct error **err);
void daemon_config_release(struct daemon_config *cfg);

struct engine;

int engine_open(const struct daemon_config *cfg, struct engine **ret, struct error **err);
/* Stop serving: with live-restore containers keep running, else they are stopped. */
void engine_close(struct engine *e);

/* ---- system --------------------------------------------------------------- */
json_object *engine_version_json(struct engine *e);
json_object *engine_info_json(struct engine *e);
int engine_system_df(struct engine *e, json_object **ret, struct error **err);

/* ---- containers ----------------------------------------------------------- */
/* POST /containers/create body; name may be NULL. *ret = {"Id","Warnings"}. */
int engine_container_create(struct engine *e, const char *name, json_object *body,
			    json_object **ret, struct error **err);
/* size: with SizeRw and SizeRootFs (the writable layer is walked, without the lock). */
int engine_container_inspect(struct engine *e, const char *ref, bool size, json_object **ret,
			     struct error **err);
/* GET /containers/json; size: SizeRw and SizeRootFs, which walks the writable layers. */
int engine_container_list(struct engine *e, bool all, int limit, bool size, json_object *filters,
			  json_object **ret, struct error **err);
/* Resolve a reference (id, id prefix, name, /name) to the full id. */
int engine_container_resolve(struct engine *e, const char *ref, char **ret_id, struct error **err);
/* -EALREADY when already running (304). */
int engine_container_start(struct engine *e, const char *ref, struct error **err);
/* timeout < 0: the container's StopTimeout or 10 s. -EALREADY when not running. */
int engine_container_stop(struct engine *e, const char *ref, int timeout, const char *signal,
			  struct error **err);
int engine_container_restart(struct engine *e, const char *ref, int timeout, const char *signal,
			     struct error **err);
int engine_container_kill(struct engine *e, const char *ref, const char *signal,
			  struct error **err);
/* `rm --link /parent/alias`: removes the legacy link, not a container. */
int engine_link_remove(struct engine *e, const char *ref, struct error **err);
int engine_container_remove(struct engine *e, const char *ref, bool force, bool volumes,
			    struct error **err);
int engine_container_pause(struct engine *e, const char *ref, struct error **err);
int engine_container_unpause(struct engine *e, const char *ref, struct error **err);
int engine_container_rename(struct engine *e, const char *ref, const char *name,
			    struct error **err);
int engine_container_update(struct engine *e, const char *ref, json_object *body, json_object **ret,
			    struct error **err);
int engine_container_top(struct engine *e, const char *ref, const char *ps_args, json_object **ret,
			 struct error **err);
int engine_container_stats(struct engine *e, const char *ref, json_object **ret,
			   struct error **err);
int engine_container_prune(struct engine *e, json_object *filters, json_object **ret,
			   struct error **err);
int engine_container_resize(struct engine *e, const char *ref, int h, int w, struct error **err);

/*
 * wait: condition "not-running" (default), "next-exit", "removed". Blocks
 * (without the engine lock) until the condition holds or *cancel becomes true
 * (checked every 100 ms, e.g. the client hung up). *ret = {"StatusCode":N,"Error":null}.
 */
int engine_container_wait(struct engine *e, const char *ref, const char *condition,
			  volatile bool *cancel, json_object **ret, struct error **err);

/*
 * attach: streams. The engine connects to the container's shim when it runs
 * (before start, the attach waits for start). out_fd receives the output
 * (stdcopy frames unless the container has a TTY, raw otherwise); in_fd (-1 for
 * none) is read for stdin until EOF. Returns when the container exits or a side
 * closes. The caller has already answered the HTTP upgrade.
 */
struct attach_opts {
	bool stdin_, stdout_, stderr_;
	bool logs;   /* replay the log first */
	bool stream; /* follow live output */
	const char *detach_keys;
	const char *stdin_prefix; /* stdin bytes the HTTP layer had buffered already */
	size_t stdin_prefix_len;
};
/* Look up whether the container has a TTY (for the content type). */
int engine_container_tty(struct engine *e, const char *ref, bool *ret_tty, char **ret_id,
			 struct error **err);
int engine_container_attach(struct engine *e, const char *id, const struct attach_opts *o,
			    int in_fd, int out_fd, struct error **err);

/* logs: writes to out_fd (stdcopy frames unless TTY). */
struct logs_opts {
	bool stdout_, stderr_, follow, timestamps, details;
	int64_t since_ns, until_ns; /* 0: none */
	int64_t tail;		    /* -1: all */
};
int engine_container_logs(struct engine *e, const char *id, const struct logs_opts *o, int out_fd,
			  volatile bool *cancel, struct error **err);

/* ---- exec ------------------------------------------------------------------ */
int engine_exec_create(struct engine *e, const char *ref, json_object *body, json_object **ret,
		       struct error **err);
/* Returns whether the exec has a TTY and its container, for the response type. */
int engine_exec_lookup(struct engine *e, const char *exec_id, bool *ret_tty, struct error **err);
/* Start and stream (detach: start and return). in_fd -1 for no stdin. */
int engine_exec_start(struct engine *e, const char *exec_id, bool detach, int in_fd, int out_fd,
		      const char *stdin_prefix, size_t stdin_prefix_len, struct error **err);
int engine_exec_inspect(struct engine *e, const char *exec_id, json_object **ret,
			struct error **err);
int engine_exec_resize(struct engine *e, const char *exec_id, int h, int w, struct error **err);

/* ---- events ------------------------------------------------------------------ */
/* Stream events as JSON lines to out (via cb) from since to until (0: forever). */
typedef int (*engine_event_cb)(void *ud, json_object *ev);
int engine_events(struct engine *e, int64_t since_ns, int64_t until_ns, json_object *filters,
		  engine_event_cb cb, void *ud, volatile bool *cancel, struct error **err);

/* ---- images (thin layer over the image store, adding container awareness) --- */
struct image_store *engine_images(struct engine *e);

/* Networks (network.c). */
int engine_network_list(struct engine *e, json_object *filters, json_object **ret,
			struct error **err);
int engine_network_inspect(struct engine *e, const char *ref, json_object **ret,
			   struct error **err);
int engine_network_create(struct engine *e, json_object *body, json_object **ret,
			  struct error **err);
int engine_network_remove(struct engine *e, const char *ref, struct error **err);
int engine_network_prune(struct engine *e, json_object *filters, json_object **ret,
			 struct error **err);
int engine_network_connect(struct engine *e, const char *ref, json_object *body,
			   struct error **err);
int engine_network_disconnect(struct engine *e, const char *ref, json_object *body,
			      struct error **err);
/* The registry settings from daemon.json / flags (struct registry_config). */
const struct registry_config *engine_registry_config(struct engine *e);
/* Emit an image event (pull, load, tag, untag, delete, import, save). */
void engine_image_event(struct engine *e, const char *action, const char *id, const char *name);
/* A container event of dockerd's that no state change makes (attach, resize, top): with the
 * container's image and name, and up to two attributes more. Nothing when ref is gone. */
void engine_container_event(struct engine *e, const char *ref, const char *action, const char *key,
			    const char *value, const char *key2, const char *value2);
/* image_in_use_cb for rmi/prune (ud is the engine): 1 when a container uses image_id. */
int engine_image_in_use(const char *image_id, void *ud, char **ret_container, bool *ret_running);

#endif
