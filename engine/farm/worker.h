/* worker: runs one point of a sweep with the kernel -- chain, initial state,
 * TEBD, measurements -- and streams every measurement row into the archive
 * as it is produced; a thermal table (a point of state thermal_table) is
 * computed by the purification kernel and streamed one mu row at a time.  It knows nothing of MPI messages: progress goes to a
 * callback the farm supplies (a message to rank 0, or, on rank 0 itself, a
 * direct call into the scheduler), so the same code runs a point on any
 * rank and the data cannot depend on which rank ran it. */
#ifndef WORKER_H
#define WORKER_H

#include <signal.h>
#include <mpi.h>

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

/* Called (with report's arg) between the kernel's layers, at most about
 * once a millisecond: the caller's chance to do its other business (rank 0
 * serves the other ranks) and to say whether the point must stop now
 * (non-zero; it stops there, inside the interval, with a checkpoint). */
typedef int (*worker_poll_fn)(void *arg);

typedef struct {
	int threads;     /* OpenMP threads of the kernel (>= 1) */
	int fault_point; /* test switch: this point id fails with "injected
	                    fault" after its first measurement; -1 = none */
	int mpi_size, rank;
	const char *ckpt_dir;  /* checkpoint directory (borrowed); NULL: the
	                          worker never checkpoints */
	const char *spec_hash; /* the sweep's spec hash, 16 hex digits
	                          (borrowed): written into and checked
	                          against checkpoints */
	double ckpt_every_s;   /* a checkpoint after the first row that ends
	                          at least this long after the last one; <= 0:
	                          only when asked to stop */
	const char *sync_path; /* the archive file, flushed to disk before
	                          each checkpoint (borrowed, may be NULL) */
	const volatile sig_atomic_t *stop_flag; /* non-zero: stop now, also
	                          in the middle of an interval (borrowed, may
	                          be NULL: only report() stops) */
	worker_poll_fn poll;   /* may be NULL */
	int team_size;         /* > 1: the point runs on a team, `team` */
	MPI_Comm team;         /* the team's communicator, this rank its
	                          leader (rank 0) or a member; read only when
	                          team_size > 1 */
	int team_scalapack;    /* > 0: team_set_scalapack() threshold */
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
	double t_resumed;   /* checkpoint time the attempt resumed from; NaN:
	                       it started at t = 0 */
	double t_ckpt;      /* time of the last checkpoint it wrote (NaN) */
	char message[ARCHIVE_MSGLEN]; /* why it failed ("" if done) */
} worker_result_t;

/* Independent (no collective call).  Runs attempt `attempt` of point p
 * (borrowed) into archive a (borrowed), writes its rows and its provenance
 * row, reporting each row to report(arg, ...).  A failing point is not an
 * error of this function: it returns 0 and res->state says what happened
 * (failed, with res->message); it returns non-zero only for invalid
 * arguments.
 *
 * resume: continue from the point's checkpoint in o->ckpt_dir (rows up to
 * the checkpoint's stay in the archive, the later ones are rewritten); if
 * that checkpoint cannot be read or does not match the point, the attempt
 * fails with the reason (it never silently starts again from t = 0).  A
 * thermal table has no checkpoint: every attempt computes it whole.
 * Without resume, an attempt after the first clears the point's rows and
 * starts from t = 0.
 *
 * Checkpoints (when o->ckpt_dir is set) are written after a row: every
 * o->ckpt_every_s seconds, and when report() asks the worker to stop (the
 * point becomes interrupted, resumable at that row's time).  When
 * *o->stop_flag becomes non-zero inside a measurement interval, the kernel
 * stops at its next layer and the checkpoint holds the state there (the
 * row before and the layer reached), from which a resumption continues
 * bitwise as if nothing had stopped. */
int worker_run_point(archive_t *a, const spec_point_t *p, int attempt,
		     int resume, const worker_opts_t *o,
		     worker_report_fn report, void *arg,
		     worker_result_t *res);

/* A team point (o->team_size > 1): worker_run_point() on the team's
 * leader (rank 0 of o->team) does everything above -- rows, progress,
 * checkpoints (the leader gathers the state), the outcome -- with the
 * team's kernel (team.h); every other member calls this, collective with
 * the leader's worker_run_point(): it builds the point's chain and TEBD
 * parameters (params_tebd, o->threads) and serves the leader until the
 * point ends.  Only a time evolution runs on a team.  Returns 0, or
 * non-zero with err (EU_ERRLEN) when this member failed; the outcome of
 * the point is the leader's. */
int worker_serve_team(const spec_point_t *p, const worker_opts_t *o,
		      char *err);

#endif
