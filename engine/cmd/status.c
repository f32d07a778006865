/* status: `kapitza status ARCHIVE.h5 [SHARD.h5 ...]` -- the table of a
 * sweep's points from the archive's /points_table and /status
 * (archive_summary_read): parameters, status, t reached, wall time, largest
 * discarded weight, error message, an ETA for running points, the time a
 * resumed attempt started from, and the totals; then, once kapitza fit
 * has run, the convergence times in chi_max it stored.  The thermal tables of the
 * spec's `thermal:` section are rows too (state thermal_table: L is the
 * purified chain's N, dt its dtau, "t" the mu rows written, max_disc the
 * weight discarded so far).  Serial, read-only, no MPI:
 * it opens the file with the sec2 driver and without file locking, so it
 * can be run while `kapitza run` is writing the archive.
 *
 * Several files are a shard set (kapitza run --shard): they must be
 * archives of one spec; each point is shown from the file where it is done,
 * else from the file whose shard it belongs to (the most recent attempt),
 * with that file's number.  --history lists every attempt of every point
 * (/history: start, end, outcome, resume time, job).
 *
 * Exit status: 0 the archives were read (whatever the points' states), 2
 * one could not be read, they are not one sweep, or the command line is
 * wrong. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "chiconv.h"
#include "cmd.h"
#include "spec.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: kapitza status ARCHIVE.h5 [SHARD.h5 ...] "
		   "[--totals] [--history]\n"
		   "  --totals   print only the counts per state\n"
		   "  --history  also list every attempt of every point\n"
		   "Several archives: the shards of one sweep (kapitza run "
		   "--shard), shown as one.\n"
		   "Reads the archives read-only; safe while a run writes "
		   "them.\n");
}

static void fmt_t(char *buf, size_t n, double t)
{
	if (isfinite(t))
		snprintf(buf, n, "%.3f", t);
	else
		snprintf(buf, n, "-");
}

/* Which of the n summaries shows point k (see the top of the file). */
static int source_of(archive_summary_t **s, int n, int k)
{
	int best = -1;
	for (int i = 0; i < n; i++)
		if (s[i]->status[k].state == ARCHIVE_DONE)
			return i;
	for (int i = 0; i < n; i++) {
		const archive_status_t *st = &s[i]->status[k];
		if (st->state == ARCHIVE_OTHER_SHARD)
			continue;
		if (best < 0 || st->attempt > s[best]->status[k].attempt)
			best = i;
	}
	return best < 0 ? 0 : best;
}

static void print_history(archive_summary_t **s, int n, const int *src,
			  int npoints)
{
	printf("history (attempt, outcome, start, end, resumed from t, t "
	       "reached, rank/ranks, team (leader first), job, message):\n");
	for (int k = 0; k < npoints; k++) {
		const archive_summary_t *x = s[src[k]];
		if (!x->history)
			continue;
		for (int j = 0; j < ARCHIVE_HISTORY; j++) {
			const archive_history_t *h =
				&x->history[(size_t)k * ARCHIVE_HISTORY + j];
			char tr[32], tt[32], team[ARCHIVE_TEAMLEN + 16] = "";
			if (h->attempt < 1)
				continue;
			fmt_t(tr, sizeof tr, h->t_resumed);
			fmt_t(tt, sizeof tt, h->t_reached);
			if (h->team_size > 1)
				snprintf(team, sizeof team, "  team %s",
					 h->team_ranks);
			printf("  point %4d attempt %2d  %-11s %-20s %-20s "
			       "from %8s  to %8s  rank %d/%d%s  job %s%s%s\n",
			       k, h->attempt,
			       h->outcome == ARCHIVE_RUNNING
				       ? "running?"
				       : archive_state_name(h->outcome),
			       h->start_time, h->end_time[0] ? h->end_time : "-",
			       tr, tt, h->rank, h->mpi_size, team, h->job,
			       h->message[0] ? "  " : "", h->message);
		}
	}
	(void)n;
}

/* What kapitza fit found on convergence in chi_max (/analysis/convergence):
 * which part of each curve to believe. */
static void print_convergence(const archive_summary_t *s)
{
	if (!s->nconv)
		return;
	printf("convergence in chi_max (kapitza fit, tolerance %g): all "
	       "observables agree with the next chi_max\n",
	       s->conv[0].tol);
	for (int k = 0; k < s->nconv; k++) {
		const archive_convergence_t *c = &s->conv[k];
		char t[32];
		fmt_t(t, sizeof t, c->t_all);
		printf("  point %d (chi %d) vs point %d (chi %d): up to t = "
		       "%s%s\n",
		       c->point_id, c->chi_max, c->ref_point_id, c->ref_chi_max,
		       t, c->full ? " (as far as both runs go)" : "");
	}
}

/* One point's row of the table (k, from summary x; file: the shard set's
 * index, "" for one archive). */
static void print_point(const archive_point_row_t *p,
			const archive_status_t *st, int state, const char *file)
{
	const int table = p->state == SPEC_STATE_THERMAL;
	char wall[32], eta[32], tr[32], disc[32], res[32], tmax[32];
	double e = NAN;
	if (state == ARCHIVE_RUNNING && st->rows > 0 && table) {
		e = st->wall_s * (p->n_measure - st->rows) / st->rows;
	} else if (state == ARCHIVE_RUNNING && st->rows > 0 &&
		   st->t_reached > 0 && p->t_max > 0) {
		/* this attempt's rate on the work it did (after t_resumed),
		 * the work by the cost model (spec_done_share) */
		double t0 = isfinite(st->t_resumed) ? st->t_resumed : 0;
		double f0 = spec_done_share(p->state, p->L, p->t_max, t0);
		double f = spec_done_share(p->state, p->L, p->t_max,
					   st->t_reached);
		if (f > f0)
			e = st->wall_s * (1 - f) / (f - f0);
	}
	eu_fmt_dur(wall, sizeof wall, st->wall_s);
	eu_fmt_dur(eta, sizeof eta, e);
	fmt_t(tr, sizeof tr, st->t_reached);
	fmt_t(res, sizeof res, st->t_resumed);
	snprintf(tmax, sizeof tmax, table ? "-" : "%g", p->t_max);
	if (table) /* a table's progress: mu rows */
		snprintf(tr, sizeof tr, "%d/%d mu", st->rows, p->n_measure);
	if (isfinite(st->max_discarded))
		snprintf(disc, sizeof disc, "%.2e", st->max_discarded);
	else
		snprintf(disc, sizeof disc, "-");
	printf("%5d %5d %-13s %9.5f %5d %6g %7s  %-11s %3d %4d %9s "
	       "%8s %9s %8s %8s  %s%s\n",
	       p->id, p->L, spec_state_name(p->state), p->delta_right,
	       p->chi_max, p->dt, tmax, archive_state_name(state), st->attempt,
	       st->rank, tr, wall, disc, eta, res, file, st->message);
}

/* The n archives' summaries (one sweep); 0 or -1 (said on stderr). */
static int read_all(archive_summary_t **s, const char **paths, int n)
{
	char err[EU_ERRLEN] = "";
	for (int i = 0; i < n; i++) {
		if (archive_summary_read(&s[i], paths[i], err)) {
			fprintf(stderr, "kapitza status: %s\n", err);
			return -1;
		}
		if (strcmp(s[i]->spec_hash, s[0]->spec_hash) ||
		    s[i]->npoints != s[0]->npoints) {
			fprintf(stderr,
				"kapitza status: '%s' (spec hash %s) and '%s' "
				"(spec hash %s) are not archives of one "
				"sweep\n",
				paths[0], s[0]->spec_hash, paths[i],
				s[i]->spec_hash);
			return -1;
		}
	}
	return 0;
}

static void print_header(archive_summary_t **s, const char **paths, int n,
			 int totals_only)
{
	for (int i = 0; i < n; i++) {
		char sh[48] = "";
		if (s[i]->shard_count > 1)
			snprintf(sh, sizeof sh, ", shard %d/%d",
				 s[i]->shard_index, s[i]->shard_count);
		printf("%sarchive %s: sweep '%s', %d points, spec hash %s, "
		       "kapitza %s, created %s%s\n",
		       n > 1 ? (i ? "      " : "shard set: ") : "", paths[i],
		       s[i]->sweep, s[i]->npoints, s[i]->spec_hash,
		       s[i]->kapitza_version, s[i]->created, sh);
		if (n > 1)
			printf("      [%d] = %s\n", i, paths[i]);
	}
	if (!totals_only)
		printf("%5s %5s %-13s %9s %5s %6s %7s  %-11s %3s %4s %9s %8s "
		       "%9s %8s %8s  %s\n",
		       "id", "L", "state", "delta_r", "chi", "dt", "t_max",
		       "status", "att", "rank", "t", "wall", "max_disc", "ETA",
		       "resumed", "message");
}

/* Every point's row (unless totals_only) and the totals; src[k] gets the
 * archive point k is shown from. */
static void print_points(archive_summary_t **s, int n, int *src,
			 int totals_only)
{
	const int np = s[0]->npoints;
	int counts[ARCHIVE_NSTATES] = {0}, ntables = 0;
	char tables[64] = "";
	for (int k = 0; k < np; k++) {
		src[k] = source_of(s, n, k);
		const archive_point_row_t *p = &s[src[k]]->points[k];
		const archive_status_t *st = &s[src[k]]->status[k];
		int state = st->state >= 0 && st->state < ARCHIVE_NSTATES
				    ? st->state
				    : ARCHIVE_PENDING;
		char file[16] = "";
		counts[state]++;
		ntables += p->state == SPEC_STATE_THERMAL;
		if (totals_only)
			continue;
		if (n > 1)
			snprintf(file, sizeof file, "[%d] ", src[k]);
		print_point(p, st, state, file);
	}
	if (ntables)
		snprintf(tables, sizeof tables, " (%d of them thermal table%s)",
			 ntables, ntables == 1 ? "" : "s");
	printf("total: %d points%s: %d done, %d failed, %d running, %d "
	       "pending, %d interrupted",
	       np, tables, counts[ARCHIVE_DONE], counts[ARCHIVE_FAILED],
	       counts[ARCHIVE_RUNNING], counts[ARCHIVE_PENDING],
	       counts[ARCHIVE_INTERRUPTED]);
	if (counts[ARCHIVE_OTHER_SHARD])
		printf(", %d other-shard", counts[ARCHIVE_OTHER_SHARD]);
	printf("\n");
}

int cmd_status(int argc, char **argv)
{
	const char **paths = calloc((size_t)argc + 1, sizeof *paths);
	archive_summary_t **s = NULL;
	int *src = NULL;
	int totals_only = 0, history = 0, n = 0, status = 2;
	char err[EU_ERRLEN] = "";

	if (!paths) {
		fprintf(stderr, "kapitza status: out of memory\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			status = 0;
			goto out;
		} else if (!strcmp(argv[i], "--totals")) {
			totals_only = 1;
		} else if (!strcmp(argv[i], "--history")) {
			history = 1;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "kapitza status: unexpected '%s'\n",
				argv[i]);
			usage(stderr);
			goto out;
		} else {
			paths[n++] = argv[i];
		}
	}
	if (!n) {
		usage(stderr);
		goto out;
	}
	s = calloc((size_t)n, sizeof *s);
	if (!s) {
		fprintf(stderr, "kapitza status: out of memory\n");
		goto out;
	}
	if (read_all(s, paths, n))
		goto out;
	src = calloc((size_t)s[0]->npoints + 1, sizeof *src);
	if (!src) {
		fprintf(stderr, "kapitza status: out of memory\n");
		goto out;
	}
	print_header(s, paths, n, totals_only);
	print_points(s, n, src, totals_only);
	if (!totals_only) {
		if (archive_summary_convergence(s[0], paths[0], err)) {
			fprintf(stderr, "kapitza status: %s\n", err);
			goto out;
		}
		print_convergence(s[0]);
		/* the velocities' verdicts in chi_max (post/chiconv.h) */
		if (chiconv_status(stdout, paths[0], err)) {
			fprintf(stderr, "kapitza status: %s\n", err);
			goto out;
		}
	}
	if (history)
		print_history(s, n, src, s[0]->npoints);
	status = 0;
out:
	if (s)
		for (int i = 0; i < n; i++)
			archive_summary_destroy(&s[i]);
	free(s);
	free(src);
	free(paths);
	return status;
}
