/* worker: runs one point of a sweep with the kernel -- chain, initial state,
 * TEBD, measurements -- and streams every measurement row into the archive
 * as it is produced.  It knows nothing of MPI messages: progress goes to a
 * callback the farm supplies (a message to rank 0, or, on rank 0 itself, a
 * direct call into the scheduler), so the same code runs a point on any
 * rank and the data cannot depend on which rank ran it. */
#ifndef WORKER_H
#define WORKER_H

#include "archive.h"
#include "spec.h"

/* Progress after each measurement row. */
typedef struct {
	int point, attempt, row, chi; /* chi: largest bond dimension now */
	double t, wall_s;             /* wall_s: since the point started */
	double discarded_max, discarded_total;
} worker_progress_t;

/* Called after each row is in the archive; returns non-zero to ask the
 * worker to stop (the point becomes interrupted). */
typedef int (*worker_report_fn)(void *arg, const worker_progress_t *p);

typedef struct {
	int threads;     /* OpenMP threads of the kernel (>= 1) */
	int fault_point; /* test switch: this point id fails with "injected
	                    fault" after its first measurement; -1 = none */
	int mpi_size, rank;
} worker_opts_t;

/* The outcome of one attempt at a point. */
typedef struct {
	int state;          /* ARCHIVE_DONE, ARCHIVE_FAILED or
	                       ARCHIVE_INTERRUPTED */
	int rows;           /* rows written */
	int max_bond_dim;
	double t_reached;   /* NaN if no row was written */
	double wall_s;
	double max_discarded;
	char message[ARCHIVE_MSGLEN]; /* why it failed ("" if done) */
} worker_result_t;

/* Independent (no collective call).  Runs attempt `attempt` of point p
 * (borrowed) into archive a (borrowed), writes its rows and its provenance
 * row, reporting each row to report(arg, ...).  A failing point is not an
 * error of this function: it returns 0 and res->state says what happened
 * (failed, with res->message); it returns non-zero only for invalid
 * arguments. */
int worker_run_point(archive_t *a, const spec_point_t *p, int attempt,
		     const worker_opts_t *o, worker_report_fn report,
		     void *arg, worker_result_t *res);

#endif
