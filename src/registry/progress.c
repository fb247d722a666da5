/* SPDX-License-Identifier: Apache-2.0 */
/* Docker's JSON progress messages, serialised for the workers of a pull or push. */
#include "internal.h"

void reg_progress_init(struct reg_progress *p, image_progress_cb cb, void *ud)
{
	p->cb = cb;
	p->ud = ud;
	pthread_mutex_init(&p->lock, NULL);
}

void reg_progress_release(struct reg_progress *p)
{
	pthread_mutex_destroy(&p->lock);
}

/* Docker's bar: "[=====>      ]  1.2MB/3.4MB" (50 columns, decimal units) */
static char *bar(int64_t cur, int64_t total)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	char fill[51];
	double c = (double)cur, t = (double)total;
	int n = total > 0 ? (int)(50.0 * c / t) : 0, uc = 0, ut = 0;

	if (n > 50)
		n = 50;
	for (int i = 0; i < 50; i++)
		fill[i] = i < n ? '=' : (i == n ? '>' : ' ');
	fill[50] = 0;
	if (n == 50)
		fill[49] = '=';
	while (c >= 1000 && uc < 4)
		c /= 1000, uc++;
	while (t >= 1000 && ut < 4)
		t /= 1000, ut++;
	return xasprintf("[%s] %7.4g%s/%.4g%s", fill, c, units[uc], t, units[ut]);
}

void reg_progress(struct reg_progress *p, const char *id, const char *status, int64_t current,
		  int64_t total)
{
	json_object *o;

	if (!p || !p->cb)
		return;
	o = json_object_new_object();
	json_add_str(o, "status", status);
	if (id) {
		json_object *d = json_object_new_object();
		if (current >= 0) {
			json_add_int(d, "current", current);
			if (total > 0) {
				_cleanup_free_ char *b = bar(current, total);
				json_add_int(d, "total", total);
				json_object_object_add(o, "progressDetail", d);
				json_add_str(o, "progress", b);
				d = NULL;
			}
		}
		if (d)
			json_object_object_add(o, "progressDetail", d);
		json_add_str(o, "id", id);
	}
	reg_progress_obj(p, o);
}

void reg_progress_obj(struct reg_progress *p, json_object *o)
{
	if (p && p->cb) {
		pthread_mutex_lock(&p->lock);
		p->cb(p->ud, o);
		pthread_mutex_unlock(&p->lock);
	}
	json_object_put(o);
}
