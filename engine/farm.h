/* farm: runs a sweep's points over the ranks of a communicator.  Rank 0
 * schedules (most expensive point first, the next point to whichever rank is
 * free, by MPI point-to-point messages), writes the /status rows and prints
 * progress; every rank, rank 0 included, runs points with worker_run_point().
 * The point state machine is written down in farm.c. */
#ifndef FARM_H
#define FARM_H

#include <mpi.h>
#include <stdio.h>

#include "archive.h"
#include "spec.h"

typedef struct {
	int threads;         /* kernel threads per rank, >= 1 */
	int fault_point;     /* KAPITZA_FAULT_POINT test switch, -1 = none */
	double progress_s;   /* seconds between progress reports; < 0: none */
	int dedicated;       /* rank 0 only schedules (if size > 1) */
	FILE *out;           /* rank 0's progress stream (borrowed) */
} farm_opts_t;

/* Fills o with the defaults: 1 thread, no fault, progress every 5 s, rank 0
 * works, out = stdout. */
void farm_opts_default(farm_opts_t *o);

typedef struct {
	int counts[ARCHIVE_NSTATES]; /* points per final state */
	int npoints;
	double elapsed_s;
	int interrupted;             /* a stop signal arrived */
} farm_summary_t;

/* Collective over comm.  Runs every point of s (borrowed) into a (borrowed,
 * created by archive_create on the same comm) and fills *sum, identical on
 * all ranks.  Failed points are outcomes, not errors: the return value is 0
 * unless the farm itself could not work (rank 0 could not write the status
 * table, ...), in which case it is negative on every rank and err says why.
 * SIGTERM, SIGINT, SIGUSR1 and SIGUSR2 received during the call stop the
 * sweep cleanly after the current measurement: running points become
 * interrupted, the rest stay pending. */
int farm_run(MPI_Comm comm, archive_t *a, const spec_t *s,
	     const farm_opts_t *o, farm_summary_t *sum, char *err);

#endif
