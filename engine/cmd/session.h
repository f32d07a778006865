/* session: what the MPI commands (`kapitza run`, `kapitza resubmit`)
 * share -- their common options, the stop signals and MPI, rank 0's errors
 * and the ranks' agreement on them, the farm's options, the farm run with
 * the archive closed after it, its summary counts and the exit status.
 *
 * Exit status of both commands:
 *   0  every point (of the shard) done;
 *   1  some point failed or could not run, or the run itself failed;
 *   2  bad command line, spec or output path, or a refused resubmission
 *      (nothing was written);
 *   3  stopped by a signal (SIGTERM, SIGUSR1, ...): the running points were
 *      checkpointed and marked interrupted; `kapitza resubmit` continues. */
#ifndef SESSION_H
#define SESSION_H

#include <mpi.h>
#include <stddef.h>
#include <stdio.h>

#include "archive.h"
#include "farm.h"
#include "spec.h"

/* The options run and resubmit share. */
typedef struct {
	int threads, have_threads; /* -t; default cli_default_threads */
	int dry_run, help, quiet, dedicated;
	double progress_s;         /* --progress, default 5 */
	double ckpt_every_min;     /* --checkpoint-every, default 30 */
	int have_ckpt_every;
	int fault_point;           /* KAPITZA_FAULT_POINT, -1 = none */
	int team_size;             /* --team-size R, default 1 (no teams) */
	double team_min_core_hours; /* --team-min-core-hours X, default 0 */
	int team_scalapack;        /* --team-scalapack N, default 0 (off) */
	int have_team;             /* either was given */
	/* the wording of a bad --progress / --checkpoint-every value ("needs
	 * UNIT >= 0"), and whether --progress must be finite: run's messages
	 * and resubmit's differ, and both stay as they were */
	const char *progress_unit, *ckpt_unit;
	int progress_finite;
} session_opts_t;

/* The defaults above, with resubmit's wording ("a number", finite). */
void session_opts_default(session_opts_t *o);
/* Whether argv[*i] is one of the shared options: 1 (taken, *i moved past
 * its value), 0 (not one of them), -1 (a bad value; err says why). */
int session_opt(session_opts_t *o, int argc, char **argv, int *i,
		char *err);
/* After the command line: the default thread count (no -t) and the
 * KAPITZA_FAULT_POINT test switch; -1 with err if either is bad. */
int session_opts_finish(session_opts_t *o, char *err);

typedef struct {
	const char *who; /* "kapitza run": the prefix of rank 0's messages */
	MPI_Comm comm;   /* MPI_COMM_WORLD */
	int rank, size;  /* 0, 1 without MPI */
	int mpi;         /* MPI was started (session_end finalises it) */
} session_t;

/* Catches the stop signals (a signal from here on stops the run cleanly),
 * then, if mpi, starts MPI (unless it runs already). */
void session_begin(session_t *S, const char *who, int mpi, int *argc,
		   char ***argv);
/* Finalises MPI if the session started it; returns status. */
int session_end(session_t *S, int status);

/* Rank 0 prints "WHO: ERR" on stderr. */
void session_error(const session_t *S, const char *err);
/* Rank 0 decides (agree_rank0, or just rc without MPI): every rank returns
 * rank 0's rc; if it is non-zero, rank 0 prints "WHO: ERR". */
int session_agree(const session_t *S, int rc, const char *err);

/* The farm's options: the shared options, rank 0's progress on stdout,
 * checkpoints in ckdir, the archive at archive_path (both borrowed). */
void session_farm_opts(const session_t *S, const session_opts_t *o,
		       const char *ckdir, const char *archive_path,
		       farm_opts_t *fo);
/* Collective: farm_run on *a, then the archive closed; rank 0 prints every
 * error.  Non-zero if the farm or the close failed. */
int session_farm(const session_t *S, archive_t **a, const spec_t *s,
		 const farm_opts_t *fo, farm_summary_t *sum, char *err);

/* ", teams of R ranks for points of >= X core-hours" when teams are asked
 * for (--team-size R > 1), else "". */
void session_team_note(char *buf, size_t n, const session_opts_t *o);
/* The team options as arguments (" --team-size R --team-min-core-hours X")
 * if given, for a script that runs the command again; else nothing. */
void session_team_args(FILE *f, const session_opts_t *o);

/* "N points: D done, F failed, I interrupted, P pending" of a summary. */
void session_counts(char *buf, size_t n, const farm_summary_t *sum);
/* Whether every point is done (or belongs to another shard). */
int session_all_done(const farm_summary_t *sum);
/* The exit status (top of the file): 3 if stopped, else 0 if all done,
 * else 1. */
int session_status(int stopped, int all_done);

#endif
