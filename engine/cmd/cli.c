/* cli: command-line helpers shared by run and resubmit (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eu.h"

int cli_parse_int(const char *s, int *v)
{
	char *end;
	errno = 0;
	long x = strtol(s, &end, 10);
	if (errno || end == s || *end || x < INT_MIN || x > INT_MAX)
		return -1;
	*v = (int)x;
	return 0;
}

int cli_default_threads(int *t, char *err)
{
	static const char *vars[] = {"SLURM_CPUS_PER_TASK", "OMP_NUM_THREADS"};
	*t = 1;
	for (int k = 0; k < 2; k++) {
		const char *v = getenv(vars[k]);
		if (!v || !*v)
			continue;
		/* OMP_NUM_THREADS may be a list for nested levels: the
		 * first entry is ours */
		char buf[32];
		snprintf(buf, sizeof buf, "%s", v);
		buf[strcspn(buf, ",")] = 0;
		if (cli_parse_int(buf, t) || *t < 1) {
			return eu_err(err,
				      "%s='%s' is not a positive thread count",
				      vars[k], v);
		}
		return 0;
	}
	return 0;
}
