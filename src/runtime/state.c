/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "internal.h"

void rt_state_free(struct rt_state *s)
{
	if (!s)
		return;
	free(s->id);
	free(s->bundle);
	free(s->rootfs);
	free(s->created);
	free(s->cgroup_path);
	if (s->annotations)
		json_object_put(s->annotations);
	free(s);
}

char *rt_state_dir(const struct runtime_ctx *ctx, const char *id)
{
	return xasprintf("%s/%s", ctx->state_root, id);
}

int rt_state_save(const struct runtime_ctx *ctx, const struct rt_state *s, struct error **err)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	_cleanup_free_ char *dir = rt_state_dir(ctx, s->id);
	_cleanup_free_ char *path = xasprintf("%s/state.json", dir);
	const char *txt;
	int r;

	json_add_str(o, "id", s->id);
	json_add_int(o, "pid", s->pid);
	json_add_int(o, "pid_start", (int64_t)s->pid_start);
	json_add_str(o, "bundle", s->bundle);
	json_add_str(o, "rootfs", s->rootfs);
	json_add_str(o, "created", s->created);
	if (s->cgroup_path)
		json_add_str(o, "cgroup_path", s->cgroup_path);
	json_add_bool(o, "systemd_cgroup", s->systemd_cgroup);
	if (s->annotations)
		json_object_object_add(o, "annotations", json_object_get(s->annotations));
	txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	r = write_file_replace(path, txt, strlen(txt), 0600);
	if (r < 0)
		return error_set(err, r, "write state '%s'", path);
	return 0;
}

int rt_state_load(const struct runtime_ctx *ctx, const char *id, struct rt_state **ret,
		  struct error **err)
{
	_cleanup_free_ char *dir = NULL, *path = NULL;
	_cleanup_json_ json_object *o = NULL;
	_cleanup_(rt_state_freep) struct rt_state *s = NULL;
	_cleanup_free_ char *buf = NULL;
	json_object *v;
	size_t len;
	int r;

	if (!runtime_id_valid(id))
		return error_setx(err, -EINVAL, "invalid container id '%s'", id);
	dir = rt_state_dir(ctx, id);
	path = xasprintf("%s/state.json", dir);
	r = read_file_at(AT_FDCWD, path, 1 << 20, &buf, &len);
	if (r == -ENOENT)
		return error_setx(err, -ENOENT, "container '%s' does not exist", id);
	if (r < 0)
		return error_set(err, r, "read state of '%s'", id);
	r = json_parse_buffer(buf, len, &o, err);
	if (r < 0)
		return error_prefix(err, r, "state of '%s'", id);

	s = xnew0(struct rt_state, 1);
	s->id = xstrdup(id);
#define GETS(name, field)                                                                          \
	if (json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string))    \
		s->field = xstrdup(json_object_get_string(v));
	GETS("bundle", bundle);
	GETS("rootfs", rootfs);
	GETS("created", created);
	GETS("cgroup_path", cgroup_path);
#undef GETS
	if (json_object_object_get_ex(o, "pid", &v))
		s->pid = (pid_t)json_object_get_int(v);
	if (json_object_object_get_ex(o, "pid_start", &v))
		s->pid_start = json_object_get_uint64(v);
	if (json_object_object_get_ex(o, "systemd_cgroup", &v))
		s->systemd_cgroup = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "annotations", &v))
		s->annotations = json_object_get(v);
	*ret = TAKE_PTR(s);
	return 0;
}

uint64_t proc_start_time(pid_t pid, bool *zombie)
{
	char path[64], buf[1024];
	_cleanup_close_ int fd = -EBADF;
	ssize_t n;
	char *p;
	unsigned long long start = 0;
	char st;

	if (zombie)
		*zombie = false;
	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* comm may contain spaces and parentheses: parse from the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* fields after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime priority nice num_threads itrealvalue starttime(22) */
	if (sscanf(p + 2,
		   "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d "
		   "%*d %llu",
		   &st, &start) != 2)
		return 0;
	if (zombie)
		*zombie = st == 'Z' || st == 'X';
	return start;
}

const char *rt_status_name(enum rt_status s)
{
	static const char *const names[] = {"creating", "created", "running", "paused", "stopped"};
	return names[s];
}

enum rt_status rt_state_status(const struct runtime_ctx *ctx, const struct rt_state *s)
{
	_cleanup_free_ char *fifo = NULL;
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	bool zombie;
	uint64_t st;

	if (s->pid <= 0)
		return RT_STOPPED;
	st = proc_start_time(s->pid, &zombie);
	if (st == 0 || st != s->pid_start || zombie)
		return RT_STOPPED;
	fifo = xasprintf("%s/%s/exec.fifo", ctx->state_root, s->id);
	if (access(fifo, F_OK) == 0)
		return RT_CREATED;
	if (s->cgroup_path && cgroup_open(ctx->cgroup_root, s->cgroup_path, &cg) >= 0 &&
	    cgroup_is_frozen(cg) > 0)
		return RT_PAUSED;
	return RT_RUNNING;
}

json_object *rt_state_json(const struct rt_state *s, enum rt_status st)
{
	json_object *o = json_object_new_object();
	json_add_str(o, "ociVersion", OCI_VERSION);
	json_add_str(o, "id", s->id);
	json_add_int(o, "pid", st == RT_STOPPED ? 0 : s->pid);
	json_add_str(o, "status", rt_status_name(st));
	json_add_str(o, "bundle", s->bundle);
	json_add_str(o, "rootfs", s->rootfs);
	json_add_str(o, "created", s->created);
	json_add_str(o, "owner", "");
	json_object_object_add(o, "annotations",
			       s->annotations ? json_object_get(s->annotations)
					      : json_object_new_object());
	return o;
}

int runtime_list(const struct runtime_ctx *ctx, json_object **ret, struct error **err)
{
	json_object *a = json_object_new_array();
	DIR *d = opendir(ctx->state_root);
	struct dirent *de;

	if (!d) {
		if (errno == ENOENT) {
			*ret = a;
			return 0;
		}
		json_object_put(a);
		return error_set(err, -errno, "open '%s'", ctx->state_root);
	}
	while ((de = readdir(d))) {
		struct rt_state *s = NULL;
		if (de->d_name[0] == '.' || !runtime_id_valid(de->d_name))
			continue;
		if (rt_state_load(ctx, de->d_name, &s, NULL) < 0)
			continue;
		json_object_array_add(a, rt_state_json(s, rt_state_status(ctx, s)));
		rt_state_free(s);
	}
	closedir(d);
	*ret = a;
	return 0;
}
