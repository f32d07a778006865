/* status: placeholder until the archive lands (issue 4). */
#include <stdio.h>

#include "cmd.h"

int cmd_status(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "kapitza status: not implemented yet\n");
	return 2;
}
