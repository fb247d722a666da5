/* SPDX-License-Identifier: Apache-2.0 */
/* The engine: open (directories, stores, reconciliation), close, version, info, df. */
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "internal.h"

struct image_store *engine_images(struct engine *e)
{
	return e->images;
}

const struct registry_config *engine_registry_config(struct engine *e)
{
	return &e->registry;
}

static char *self_dir(void)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;
	if (n <= 0)
		return xstrdup("/usr/bin");
	buf[n] = 0;
	slash = strrchr(buf, '/');
	if (slash)
		*slash = 0;
	return xstrdup(buf);
}

static char *daemon_id(const char *data_root)
{
	_cleanup_free_ char *p = xasprintf("%s/engine-id", data_root);
	char *txt = NULL;
	if (read_file_at(AT_FDCWD, p, 256, &txt, NULL) >= 0) {
		char *nl = strchr(txt, '\n');
		if (nl)
			*nl = 0;
		if (*txt)
			return txt;
		free(txt);
	}
	uint8_t b[16];
	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		memset(b, 0x42, sizeof(b));
	txt = xasprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
			b[12], b[13], b[14], b[15]);
	(void)write_file_atomic(p, txt, strlen(txt), 0600);
	return txt;
}

/* lifecycle.c: stop every running container, in parallel, for a daemon shutdown. */
void lifecycle_shutdown(struct engine *e);

int engine_open(const struct daemon_config *cfg, struct engine **ret, struct error **err)
{
	struct engine *e = xnew0(struct engine, 1);
	_cleanup_free_ char *cdir = NULL, *rdir = NULL, *dir = NULL;
	int r;

	e->cfg = cfg;
	pthread_mutex_init(&e->lock, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_cond_init(&e->cond, &ca);
	}
	e->start_ns = now_ns();
	e->monitor_epfd = -1;
	e->monitor_wake[0] = e->monitor_wake[1] = -1;
	/* data-root 0711 and containers/ 0710 (CVE-2021-41091) */
	r = mkdir_p(cfg->data_root, 0711);
	if (r >= 0)
		r = chmod(cfg->data_root, 0711) < 0 ? -errno : 0;
	cdir = xasprintf("%s/containers", cfg->data_root);
	if (r >= 0)
		r = mkdir_p(cdir, 0710);
	if (r >= 0)
		r = mkdir_p(cfg->exec_root, 0711);
	rdir = xasprintf("%s/c", cfg->exec_root);
	if (r >= 0)
		r = mkdir_p(rdir, 0700);
	if (r < 0) {
		error_set(err, r, "create '%s' and '%s'", cfg->data_root, cfg->exec_root);
		goto fail;
	}
	e->runtime_root = xasprintf("%s/runtime", cfg->exec_root);
	e->rt.state_root = e->runtime_root;
	e->rt.cgroup_root = "/sys/fs/cgroup";
	dir = self_dir();
	e->shim_path = cfg->shim_path ? xstrdup(cfg->shim_path) : xasprintf("%s/berth-shim", dir);
	if (access(e->shim_path, X_OK) < 0) {
		r = error_set(err, -errno, "berth-shim not found at '%s' (use --shim)",
			      e->shim_path);
		goto fail;
	}
	e->daemon_id = daemon_id(cfg->data_root);
	e->registry.mirrors = cfg->registry_mirrors;
	e->registry.insecure_registries = cfg->insecure_registries;
	e->registry.certs_dir = cfg->certs_dir;
	e->registry.max_concurrent_downloads = (unsigned)cfg->max_concurrent_downloads;
	e->registry.max_concurrent_uploads = (unsigned)cfg->max_concurrent_uploads;
	r = image_store_open(cfg->data_root, &e->images, err);
	if (r < 0)
		goto fail;
	if (cfg->max_layer_size)
		image_store_set_layer_limit(e->images, cfg->max_layer_size);
	r = store_open(e, err);
	if (r < 0)
		goto fail;
	r = janitor_start(e, err); /* after both databases are open: it trims their caches */
	if (r < 0)
		goto fail;
	(void)netpool_start(e); /* without it the runtime makes every namespace */
	r = store_load_all(e, err);
	if (r < 0)
		goto fail;
	r = network_init(e, err);
	if (r < 0)
		goto fail;
	r = monitor_start(e, err);
	if (r < 0)
		goto fail;
	lifecycle_reconcile(e);
	network_restore(e);
	*ret = e;
	return 0;
fail:
	engine_close(e);
	return r;
}

void engine_close(struct engine *e)
{
	if (!e)
		return;
	if (!e->cfg->live_restore && e->containers && e->db)
		/* Without live-restore, containers stop with the daemon (as dockerd does). */
		lifecycle_shutdown(e);
	pthread_mutex_lock(&e->lock);
	e->closing = true;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	if (e->monitor_wake[1] >= 0) {
		(void)!write(e->monitor_wake[1], "x", 1);
		pthread_join(e->monitor, NULL);
	}
	health_shutdown(e);
	network_shutdown(e);
	janitor_stop(e);
	netpool_stop(e);
	while (e->containers) {
		struct container *c = e->containers;
		e->containers = c->next;
		container_free(c);
	}
	for (size_t i = 0; i < EVENT_RING; i++)
		free(e->events[i]);
	if (e->db)
		sqlite3_close(e->db);
	if (e->images)
		image_store_close(e->images);
	if (e->monitor_epfd >= 0)
		close(e->monitor_epfd);
	if (e->monitor_wake[0] >= 0) {
		close(e->monitor_wake[0]);
		close(e->monitor_wake[1]);
	}
	free(e->runtime_root);
	free(e->shim_path);
	free(e->daemon_id);
	free(e);
}

/* ---- version, info, df ----------------------------------------------------------- */

json_object *engine_version_json(struct engine *e)
{
	struct utsname u;
	json_object *o = json_object_new_object(), *plat = json_object_new_object();
	json_object *comps = json_object_new_array(), *eng = json_object_new_object();
	json_object *det = json_object_new_object();
	uname(&u);
	json_add_str(plat, "Name", "berth");
	json_object_object_add(o, "Platform", plat);
	json_add_str(det, "ApiVersion", BERTH_API_VERSION);
	json_add_str(det, "MinAPIVersion", BERTH_MIN_API_VERSION);
	json_add_str(det, "GitCommit", "berth");
	json_add_str(det, "GoVersion", "n/a (C)");
	json_add_str(det, "Os", "linux");
	json_add_str(det, "Arch", "amd64");
	json_add_str(det, "KernelVersion", u.release);
	json_add_str(det, "Experimental", "false");
	json_add_str(det, "BuildTime", "2026-11-28T00:00:00.000000000+00:00");
	json_add_str(eng, "Name", "Engine");
	json_add_str(eng, "Version", BERTH_VERSION);
	json_object_object_add(eng, "Details", det);
	json_object_array_add(comps, eng);
	json_object_object_add(o, "Components", comps);
	json_add_str(o, "Version", BERTH_VERSION);
	json_add_str(o, "ApiVersion", BERTH_API_VERSION);
	json_add_str(o, "MinAPIVersion", BERTH_MIN_API_VERSION);
	json_add_str(o, "GitCommit", "berth");
	json_add_str(o, "GoVersion", "n/a (C)");
	json_add_str(o, "Os", "linux");
	json_add_str(o, "Arch", "amd64");
	json_add_str(o, "KernelVersion", u.release);
	json_add_str(o, "BuildTime", "2026-11-28T00:00:00.000000000+00:00");
	(void)e;
	return o;
}

json_object *engine_info_json(struct engine *e)
{
	struct utsname u;
	struct statfs sf;
	json_object *o = json_object_new_object();
	int running = 0, paused = 0, stopped = 0, total = 0;
	char host[256] = "";
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	bool v2 = statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == 0x63677270;

	uname(&u);
	gethostname(host, sizeof(host) - 1);
	pthread_mutex_lock(&e->lock);
	for (struct container *c = e->containers; c; c = c->next) {
		total++;
		if (c->status == C_RUNNING || c->status == C_RESTARTING)
			running++;
		else if (c->status == C_PAUSED)
			paused++;
		else
			stopped++;
	}
	pthread_mutex_unlock(&e->lock);
	json_add_str(o, "ID", e->daemon_id);
	json_add_int(o, "Containers", total);
	json_add_int(o, "ContainersRunning", running);
	json_add_int(o, "ContainersPaused", paused);
	json_add_int(o, "ContainersStopped", stopped);
	json_add_int(o, "Images", image_count(e->images));
	json_add_str(o, "Driver", "overlay2");
	json_object_object_add(o, "DriverStatus",
			       json_tokener_parse("[[\"Backing Filesystem\",\"extfs\"],"
						  "[\"Supports d_type\",\"true\"]]"));
	json_object *plugins = json_object_new_object();
	json_object_object_add(plugins, "Volume", json_tokener_parse("[\"local\"]"));
	json_object_object_add(plugins, "Network", json_tokener_parse("[\"host\",\"null\"]"));
	json_object_object_add(plugins, "Authorization", NULL);
	json_object_object_add(plugins, "Log", json_tokener_parse("[\"json-file\",\"none\"]"));
	json_object_object_add(o, "Plugins", plugins);
	json_add_bool(o, "MemoryLimit", true);
	json_add_bool(o, "SwapLimit", true);
	json_add_bool(o, "CpuCfsPeriod", true);
	json_add_bool(o, "CpuCfsQuota", true);
	json_add_bool(o, "CPUShares", true);
	json_add_bool(o, "CPUSet", true);
	json_add_bool(o, "PidsLimit", true);
	json_add_bool(o, "IPv4Forwarding", true);
	json_add_bool(o, "Debug", e->cfg->debug);
	json_add_int(o, "NFd", 0);
	json_add_bool(o, "OomKillDisable", !v2);
	json_add_int(o, "NGoroutines", 0);
	{
		_cleanup_free_ char *t = format_time_ns(now_ns());
		json_add_str(o, "SystemTime", t);
	}
	json_add_str(o, "LoggingDriver", e->cfg->log_driver);
	json_add_str(o, "CgroupDriver", "cgroupfs");
	json_add_str(o, "CgroupVersion", v2 ? "2" : "1");
	json_add_int(o, "NEventsListener", 0);
	json_add_str(o, "KernelVersion", u.release);
	json_add_str(o, "OperatingSystem", "Debian GNU/Linux 12 (bookworm)");
	json_add_str(o, "OSVersion", "12");
	json_add_str(o, "OSType", "linux");
	json_add_str(o, "Architecture", u.machine);
	json_add_str(o, "IndexServerAddress", "https://index.docker.io/v1/");
	json_object_object_add(
	    o, "RegistryConfig",
	    json_tokener_parse("{\"InsecureRegistryCIDRs\":[\"127.0.0.0/8\"],"
			       "\"IndexConfigs\":{\"docker.io\":{\"Name\":\"docker.io\","
			       "\"Mirrors\":[],\"Secure\":true,\"Official\":true}},"
			       "\"Mirrors\":[]}"));
	json_add_int(o, "NCPU", sysconf(_SC_NPROCESSORS_ONLN));
	json_add_int(o, "MemTotal", (int64_t)pages * psz);
	json_add_str(o, "DockerRootDir", e->cfg->data_root);
	json_add_str(o, "HttpProxy", "");
	json_add_str(o, "HttpsProxy", "");
	json_add_str(o, "NoProxy", "");
	json_add_str(o, "Name", host);
	json_object_object_add(o, "Labels", json_object_new_array());
	json_add_bool(o, "ExperimentalBuild", false);
	json_add_str(o, "ServerVersion", BERTH_VERSION);
	{
		json_object *rts = json_object_new_object(), *rt = json_object_new_object();
		json_add_str(rt, "path", "berth-runtime");
		json_object_object_add(rts, "berth", rt);
		json_object_object_add(o, "Runtimes", rts);
	}
	json_add_str(o, "DefaultRuntime", "berth");
	json_object_object_add(
	    o, "Swarm",
	    json_tokener_parse("{\"NodeID\":\"\",\"NodeAddr\":\"\","
			       "\"LocalNodeState\":\"inactive\",\"ControlAvailable\":"
			       "false,\"Error\":\"\",\"RemoteManagers\":null}"));
	json_add_bool(o, "LiveRestoreEnabled", e->cfg->live_restore);
	json_add_str(o, "Isolation", "");
	json_add_str(o, "InitBinary", "");
	json_object_object_add(o, "ContainerdCommit", json_tokener_parse("{\"ID\":\"\"}"));
	json_object_object_add(o, "RuncCommit", json_tokener_parse("{\"ID\":\"berth-runtime\"}"));
	json_object_object_add(o, "InitCommit", json_tokener_parse("{\"ID\":\"\"}"));
	{
		json_object *so = json_object_new_array();
		json_object_array_add(so, json_object_new_string("name=seccomp,profile=builtin"));
		if (v2)
			json_object_array_add(so, json_object_new_string("name=cgroupns"));
		json_object_object_add(o, "SecurityOptions", so);
	}
	json_object_object_add(o, "Warnings", json_object_new_array());
	return o;
}

int engine_system_df(struct engine *e, json_object **ret, struct error **err)
{
	json_object *o = NULL, *containers = NULL;
	int r = image_disk_usage_json(e->images, &o, err);
	if (r < 0)
		return r;
	r = engine_container_list(e, true, 0, true, NULL, &containers, err);
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	{
		/* How many containers use each image (the image store cannot know). */
		json_object *imgs = NULL;
		if (json_object_object_get_ex(o, "Images", &imgs) &&
		    json_object_is_type(imgs, json_type_array)) {
			pthread_mutex_lock(&e->lock);
			for (size_t i = 0; i < json_object_array_length(imgs); i++) {
				json_object *im = json_object_array_get_idx(imgs, i), *idv;
				int n = 0;
				if (!json_object_object_get_ex(im, "Id", &idv))
					continue;
				for (struct container *c = e->containers; c; c = c->next)
					n += streq(c->image_id, json_object_get_string(idv));
				json_add_int(im, "Containers", n);
			}
			pthread_mutex_unlock(&e->lock);
		}
	}
	json_object_object_add(o, "Containers", containers);
	json_object_object_add(o, "Volumes", json_object_new_array());
	json_object_object_add(o, "BuildCache", json_object_new_array());
	*ret = o;
	return 0;
}
