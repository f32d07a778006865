/* kapitza: the command line.  One executable, one subcommand per job; each
 * subcommand lives in its own module and returns an exit status.  This is the
 * only file that may call exit(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blascore.h"
#include "cmd.h"
#include "version.h"

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
} commands[] = {
	{"run", cmd_run, "run SPEC.yaml -o ARCHIVE.h5   run a sweep (under mpirun)"},
	{"status", cmd_status, "status ARCHIVE.h5            table of points"},
	{"resubmit", cmd_resubmit, "resubmit ARCHIVE.h5 [...]     run what is not done, from checkpoints"},
	{"merge", cmd_merge, "merge SHARD.h5... -o A.h5     gather job-array shards"},
	{"fit", cmd_fit, "fit ARCHIVE.h5 [...]          light cones, v'_R(Delta), beta_eff"},
	{"refine", cmd_refine, "refine ARCHIVE.h5 [...]       add chi_max rungs where v'_R is not converged"},
	{"plot", cmd_plot, "plot ARCHIVE.h5 -o DIR        the paper's figures as PNG"},
	{"ghd", cmd_ghd, "ghd ARCHIVE.h5 [...]          GHD junction model (Fig. 6), light cones"},
	{"bench", cmd_bench, "bench [...]                   kernel benchmark"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: kapitza COMMAND [ARGS]   (kapitza COMMAND --help)\n");
	for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
		fprintf(f, "  kapitza %s\n", commands[k].help);
}

int main(int argc, char **argv)
{
	blascore_fix(argv);
	if (argc < 2) {
		usage(stderr);
		exit(2);
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		exit(0);
	}
	if (!strcmp(argv[1], "--version")) {
		printf("kapitza %s\n", KAPITZA_VERSION);
		exit(0);
	}
	for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
		if (!strcmp(argv[1], commands[k].name))
			exit(commands[k].main(argc - 1, argv + 1));
	fprintf(stderr, "kapitza: unknown command '%s'\n", argv[1]);
	usage(stderr);
	exit(2);
}
