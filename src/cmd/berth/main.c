/* SPDX-License-Identifier: Apache-2.0 */
/* berth: the client (docker's command line). Everything lives in src/cli. */
#include "cli/cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
