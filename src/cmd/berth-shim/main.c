/* SPDX-License-Identifier: Apache-2.0 */
/* berth-shim: the per-container monitor that berthd starts (src/shim/shim.h). */
#include "shim/shim.h"

int main(int argc, char **argv)
{
	struct shim_opts o;
	struct error *err = NULL;

	if (shim_parse_args(argc, argv, &o, &err) < 0) {
		fprintf(stderr, "berth-shim: %s\n", err->msg);
		error_free(err);
		return 2;
	}
	return shim_main(&o);
}
