/* farm: runs a sweep's points over the ranks of a communicator.  Rank 0
 * schedules (most expensive point first, the next point to whichever rank is
 * free, by MPI point-to-point messages), writes the /status rows and prints
 * progress; every rank, rank 0 included, runs points with worker_run_point().
 * The point state machine is written down in farm.c, with the table of its
 * legal transitions. */
#ifndef FARM_H
#define FARM_H

#include <mpi.h>
#include <stdio.h>

#include "archive.h"
#include "spec.h"

/* What a run does with each point (rank 0 reads it; the other ranks may
 * pass NULL pointers).  All arrays [npoints], by id, borrowed. */
typedef struct {
	const archive_status_t *initial; /* the /status rows when the run
	                                    starts (attempt numbers, states of
	                                    the points not run); NULL: all
	                                    pending, attempt 0 */
	const unsigned char *todo;       /* 1: run the point; NULL: all */
	const double *resume_t;          /* finite: resume the point from its
	                                    checkpoint of that time; NaN or
	                                    NULL: from t = 0 */
} farm_plan_t;

typedef struct {
	int threads;         /* kernel threads per rank, >= 1 */
	int fault_point;     /* KAPITZA_FAULT_POINT test switch, -1 = none */
	double progress_s;   /* seconds between progress reports; < 0: none */
	int dedicated;       /* rank 0 only schedules (if size > 1) */
	FILE *out;           /* rank 0's progress stream (borrowed) */
	const char *ckpt_dir;   /* checkpoint directory (borrowed, created by
	                           the caller); NULL: no checkpoints */
	double ckpt_every_s;    /* periodic checkpoints; <= 0: only on a stop
	                           signal */
	const char *archive_path; /* synced before checkpoints (borrowed) */
	farm_plan_t plan;       /* default: every point, from t = 0 */
	int team_size;          /* ranks per team point (>= 1; 1: no teams) */
	double team_min_core_hours; /* a point whose modelled core hours
	                               (spec_point_core_hours) reach this runs
	                               on a team of team_size ranks */
	int team_scalapack;     /* > 0: a team decomposes the charge sectors of
	                           min(rows, cols) >= this by ScaLAPACK
	                           (team_set_scalapack); 0: never */
} farm_opts_t;

/* Fills o with the defaults: 1 thread, no fault, progress every 5 s, rank 0
 * works, out = stdout, no checkpoints, every point from t = 0, no teams. */
void farm_opts_default(farm_opts_t *o);

/* Installs the stop-signal handlers (SIGTERM, SIGINT, SIGUSR1, SIGUSR2) for
 * the rest of the process's life; idempotent.  Call it first thing, so a
 * signal that arrives while MPI starts or the archive is created is not
 * fatal: the farm then stops before its first point.  farm_run() calls it
 * too. */
void farm_signals_catch(void);

/* Whether a stop signal has arrived (on this rank). */
int farm_signalled(void);

/* Whether rank 0, which schedules between its own measurement rows, takes
 * point p when it is the most expensive one left: yes unless p's rows are
 * estimated at over a minute each (spec_point_core_hours over its rows, an
 * upper end), which could keep idle workers waiting that long; it then
 * takes the cheapest point instead. */
int farm_rank0_may_take(const spec_point_t *p);

/* The most ranks a team may have in a farm of `size` ranks: all of them,
 * or all but rank 0 when it only schedules (dedicated); a team point never
 * waits for more ranks than the job has. */
int farm_team_cap(int size, int dedicated);

/* The team size of point p under o in a farm of `size` ranks: 1 (one rank
 * alone) unless o->team_size > 1, p is a time evolution (a thermal table
 * always runs alone) whose spec_point_core_hours() reach
 * o->team_min_core_hours; then o->team_size, capped by farm_team_cap()
 * (a cap below 2 means alone). */
int farm_point_team(const farm_opts_t *o, const spec_point_t *p, int size);

/* The share of point p's work (spec_point_cost) that a run starting it
 * from t_resumed still has to do: 1 - spec_done_share(t_resumed) for a
 * time evolution resumed from a checkpoint, 1 from the start (t_resumed
 * NaN) and for a thermal table.  The sweep's ETA counts only this share, so a
 * resumed point is not taken for work the run has done. */
double farm_todo_share(const spec_point_t *p, double t_resumed);

/* Splits the points of s (borrowed) into nshards disjoint shards, writing
 * each point's shard to shard_of[npoints] (caller-owned): the points sorted
 * by cost (largest first, ties by id) go one by one to the shard with the
 * least cost so far (ties: the lowest index).  Depends only on the spec,
 * so every job of an array computes the same split. */
void farm_shard_assign(const spec_t *s, int nshards, int *shard_of);

/* The one mover of the point state machine: *state (an archive_state_t)
 * becomes `to` and the per-state counts[] follow, if the transition is in
 * the table of legal ones (farm.c); otherwise -1 and nothing changes. */
int farm_point_move(int8_t *state, int counts[ARCHIVE_NSTATES], int to);

typedef struct {
	int counts[ARCHIVE_NSTATES]; /* points per final state */
	int npoints;
	int resumed;                 /* attempts resumed from checkpoints */
	double elapsed_s;
	int interrupted;             /* a stop signal arrived */
} farm_summary_t;

/* Collective over comm.  Runs every point of s (borrowed) into a (borrowed,
 * created by archive_create on the same comm) and fills *sum, identical on
 * all ranks.  Failed points are outcomes, not errors: the return value is 0
 * unless the farm itself could not work (rank 0 could not write the status
 * table, ...), in which case it is negative on every rank and err says why.
 * SIGTERM, SIGINT, SIGUSR1 and SIGUSR2 (received during the call or
 * before it, once farm_signals_catch() ran) stop the sweep cleanly after
 * the current measurement: running points are checkpointed (if o->ckpt_dir)
 * and become interrupted, the rest stay as they were.
 * With o->ckpt_dir, rank 0 removes a point's checkpoint once the point is
 * done. */
int farm_run(MPI_Comm comm, archive_t *a, const spec_t *s,
	     const farm_opts_t *o, farm_summary_t *sum, char *err);

/* Collective over c.  Rank 0's spec text (borrowed; ignored on the other
 * ranks) is broadcast and parsed by every rank into a new *s (owned by the
 * caller), `name` standing for the file in messages.  All ranks return the
 * same status; a sweep without points is an error. */
int farm_spec_share(MPI_Comm c, const char *name, const char *text,
		    spec_t **s, char *err);

#endif
