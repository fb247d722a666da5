/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth-shim-monitor: what a shim becomes once its container (or exec) runs: berth-shim
 * execve()s it (src/shim/shim.h). Static, and linked with the shim's loop only, so that
 * the RSS a running container costs stays small.
 */
#include "shim/shim.h"

int main(int argc, char **argv)
{
	/* _exit(), as berth-shim ends: no exit handlers (in the sanitizer build, LeakSanitizer's
	 * check at exit stalls in this process). */
	_exit(shim_monitor_main(argc, argv));
}
