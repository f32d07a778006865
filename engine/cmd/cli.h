/* cli: command-line helpers shared by the MPI commands (run, resubmit). */
#ifndef CLI_H
#define CLI_H

/* A whole decimal int; 0 or -1. */
int cli_parse_int(const char *s, int *v);

/* Kernel threads per rank when no flag gives them: SLURM_CPUS_PER_TASK,
 * else OMP_NUM_THREADS (its first entry), else 1.  -1 with a message in err
 * (EU_ERRLEN bytes) if a variable is not a positive count. */
int cli_default_threads(int *t, char *err);

#endif
