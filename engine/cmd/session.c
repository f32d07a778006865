/* session: what run and resubmit share (see session.h). */
#include "session.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agree.h"
#include "cli.h"
#include "eu.h"
#include "team.h"

void session_opts_default(session_opts_t *o)
{
	memset(o, 0, sizeof *o);
	o->progress_s = 5;
	o->ckpt_every_min = 30;
	o->fault_point = -1;
	o->team_size = 1;
	o->team_min_core_hours = 0;
	o->team_scalapack = TEAM_SCALAPACK_MIN;
	o->progress_unit = "a number";
	o->ckpt_unit = "a number";
	o->progress_finite = 1;
}

/* --progress S, --checkpoint-every MIN: a number >= 0. */
static int opt_number(session_opts_t *o, const char *s, const char *val,
		      char *err)
{
	const int prog = !strcmp(s, "--progress");
	char *end;
	double x = strtod(val, &end);
	if (end == val || *end || !(x >= 0) ||
	    ((!prog || o->progress_finite) && !isfinite(x)))
		return eu_err(err, "%s needs %s >= 0, not '%s'", s,
			      prog ? o->progress_unit : o->ckpt_unit, val);
	if (prog) {
		o->progress_s = x;
	} else {
		o->ckpt_every_min = x;
		o->have_ckpt_every = 1;
	}
	return 0;
}

/* --team-size R (an integer >= 1), --team-min-core-hours X (>= 0),
 * --team-scalapack N (>= 0). */
static int opt_team(session_opts_t *o, const char *s, const char *val,
		    char *err)
{
	if (!strcmp(s, "--team-size")) {
		if (cli_parse_int(val, &o->team_size) || o->team_size < 1)
			return eu_err(err, "--team-size needs a positive "
					   "integer, not '%s'", val);
	} else if (!strcmp(s, "--team-scalapack")) {
		if (cli_parse_int(val, &o->team_scalapack) ||
		    o->team_scalapack < 0)
			return eu_err(err, "--team-scalapack needs an integer "
					   ">= 0, not '%s'", val);
	} else {
		char *end;
		double x = strtod(val, &end);
		if (end == val || *end || !(x >= 0) || !isfinite(x))
			return eu_err(err, "--team-min-core-hours needs a "
					   "number >= 0, not '%s'", val);
		o->team_min_core_hours = x;
	}
	o->have_team = 1;
	return 0;
}

int session_opt(session_opts_t *o, int argc, char **argv, int *i,
		char *err)
{
	const char *s = argv[*i];
	const char *val = *i + 1 < argc ? argv[*i + 1] : NULL;
	if (!strcmp(s, "--team-size") || !strcmp(s, "--team-min-core-hours") ||
	    !strcmp(s, "--team-scalapack")) {
		if (!val)
			return eu_err(err, "%s needs a value", s);
		if (opt_team(o, s, val, err))
			return -1;
		(*i)++;
	} else if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
		o->help = 1;
	} else if (!strcmp(s, "-n") || !strcmp(s, "--dry-run")) {
		o->dry_run = 1;
	} else if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) {
		o->quiet = 1;
	} else if (!strcmp(s, "--dedicated-scheduler")) {
		o->dedicated = 1;
	} else if (!strcmp(s, "-t") || !strcmp(s, "--threads") ||
		   !strcmp(s, "--progress") ||
		   !strcmp(s, "--checkpoint-every")) {
		const int threads = !strcmp(s, "-t") || !strcmp(s, "--threads");
		if (!val)
			return eu_err(err, "%s needs a value", s);
		if (!threads) {
			if (opt_number(o, s, val, err))
				return -1;
		} else if (cli_parse_int(val, &o->threads) || o->threads < 1) {
			return eu_err(err, "--threads needs a positive integer, "
					   "not '%s'",
				      val);
		} else {
			o->have_threads = 1;
		}
		(*i)++;
	} else {
		return 0;
	}
	return 1;
}

int session_opts_finish(session_opts_t *o, char *err)
{
	if (!o->have_threads && cli_default_threads(&o->threads, err))
		return -1;
	o->fault_point = -1;
	const char *fp = getenv("KAPITZA_FAULT_POINT");
	if (fp && *fp &&
	    (cli_parse_int(fp, &o->fault_point) || o->fault_point < 0))
		return eu_err(err, "KAPITZA_FAULT_POINT='%s' is not a point id",
			      fp);
	return 0;
}

void session_begin(session_t *S, const char *who, int mpi, int *argc,
		   char ***argv)
{
	int inited = 0, provided;
	memset(S, 0, sizeof *S);
	S->who = who;
	S->comm = MPI_COMM_WORLD;
	S->size = 1;
	/* a stop signal from here on stops the run cleanly (exit 3) */
	farm_signals_catch();
	if (!mpi)
		return;
	S->mpi = 1;
	MPI_Initialized(&inited);
	if (!inited)
		MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
	MPI_Comm_rank(S->comm, &S->rank);
	MPI_Comm_size(S->comm, &S->size);
}

int session_end(session_t *S, int status)
{
	if (S->mpi)
		MPI_Finalize();
	S->mpi = 0;
	return status;
}

void session_error(const session_t *S, const char *err)
{
	if (S->rank == 0)
		fprintf(stderr, "%s: %s\n", S->who, err);
}

int session_agree(const session_t *S, int rc, const char *err)
{
	if (S->mpi)
		return agree_rank0(S->comm, rc, S->who, err);
	if (rc)
		session_error(S, err);
	return rc;
}

void session_farm_opts(const session_t *S, const session_opts_t *o,
		       const char *ckdir, const char *archive_path,
		       farm_opts_t *fo)
{
	farm_opts_default(fo);
	fo->threads = o->threads;
	fo->progress_s = o->quiet ? -1 : o->progress_s;
	fo->dedicated = o->dedicated;
	fo->out = S->rank == 0 ? stdout : NULL;
	fo->fault_point = o->fault_point;
	fo->ckpt_dir = ckdir;
	fo->ckpt_every_s = o->ckpt_every_min * 60;
	fo->archive_path = archive_path;
	fo->team_size = o->team_size;
	fo->team_min_core_hours = o->team_min_core_hours;
	fo->team_scalapack = o->team_scalapack;
}

int session_farm(const session_t *S, archive_t **a, const spec_t *s,
		 const farm_opts_t *fo, farm_summary_t *sum, char *err)
{
	int rc = farm_run(S->comm, *a, s, fo, sum, err);
	if (rc)
		session_error(S, err);
	if (archive_destroy(a, err)) {
		rc = -1;
		session_error(S, err);
	}
	return rc;
}

void session_team_note(char *buf, size_t n, const session_opts_t *o)
{
	if (o->team_size > 1 && o->team_scalapack == 0)
		snprintf(buf, n, ", teams of %d ranks for points of >= %g "
			 "core-hours", o->team_size, o->team_min_core_hours);
	else if (o->team_size > 1)
		snprintf(buf, n, ", teams of %d ranks for points of >= %g "
			 "core-hours (ScaLAPACK for sectors of >= %d where "
			 "chi_max >= %d)", o->team_size, o->team_min_core_hours,
			 o->team_scalapack, 2 * o->team_scalapack);
	else if (n)
		buf[0] = 0;
}

void session_team_args(FILE *f, const session_opts_t *o)
{
	if (o->have_team)
		fprintf(f, " --team-size %d --team-min-core-hours %.17g "
			"--team-scalapack %d", o->team_size,
			o->team_min_core_hours, o->team_scalapack);
}

void session_counts(char *buf, size_t n, const farm_summary_t *sum)
{
	snprintf(buf, n,
		 "%d points: %d done, %d failed, %d interrupted, %d pending",
		 sum->npoints, sum->counts[ARCHIVE_DONE],
		 sum->counts[ARCHIVE_FAILED], sum->counts[ARCHIVE_INTERRUPTED],
		 sum->counts[ARCHIVE_PENDING]);
}

int session_all_done(const farm_summary_t *sum)
{
	return sum->counts[ARCHIVE_DONE] + sum->counts[ARCHIVE_OTHER_SHARD] ==
	       sum->npoints;
}

int session_status(int stopped, int all_done)
{
	return stopped ? 3 : all_done ? 0 : 1;
}
