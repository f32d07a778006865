/* status: `kapitza status ARCHIVE.h5` -- the table of a sweep's points from
 * the archive's /points_table and /status (archive_summary_read): parameters,
 * status, t reached, wall time, largest discarded weight, error message, an
 * ETA for running points, and the totals.  Serial, read-only, no MPI: it
 * opens the file with the sec2 driver and without file locking, so it can be
 * run while `kapitza run` is writing the archive.
 *
 * Exit status: 0 the archive was read (whatever the points' states), 2 it
 * could not be read or the command line is wrong. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "archive.h"
#include "cmd.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: kapitza status ARCHIVE.h5 [--totals]\n"
		   "  --totals   print only the counts per state\n"
		   "Reads the archive read-only; safe while a run writes "
		   "it.\n");
}

static void fmt_dur(char *buf, size_t n, double s)
{
	if (!isfinite(s) || s < 0)
		snprintf(buf, n, "-");
	else if (s < 60)
		snprintf(buf, n, "%.1fs", s);
	else if (s < 3600)
		snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
	else
		snprintf(buf, n, "%dh%02dm", (int)(s / 3600),
			 (int)fmod(s / 60, 60));
}

int cmd_status(int argc, char **argv)
{
	const char *path = NULL;
	int totals_only = 0;
	archive_summary_t *s = NULL;
	char err[ARCHIVE_ERRLEN] = "";
	int counts[ARCHIVE_NSTATES] = {0};

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--totals")) {
			totals_only = 1;
		} else if (argv[i][0] == '-' || path) {
			fprintf(stderr, "kapitza status: unexpected '%s'\n",
				argv[i]);
			usage(stderr);
			return 2;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		usage(stderr);
		return 2;
	}
	if (archive_summary_read(&s, path, err)) {
		fprintf(stderr, "kapitza status: %s\n", err);
		return 2;
	}

	printf("archive %s: sweep '%s', %d points, spec hash %s, kapitza %s, "
	       "created %s\n",
	       path, s->sweep, s->npoints, s->spec_hash, s->kapitza_version,
	       s->created);
	if (!totals_only)
		printf("%5s %5s %-12s %9s %5s %6s %7s  %-11s %3s %4s %9s %8s "
		       "%9s %8s  %s\n",
		       "id", "L", "state", "delta_r", "chi", "dt", "t_max",
		       "status", "att", "rank", "t", "wall", "max_disc", "ETA",
		       "message");
	for (int k = 0; k < s->npoints; k++) {
		const archive_point_row_t *p = &s->points[k];
		const archive_status_t *st = &s->status[k];
		int state = st->state >= 0 && st->state < ARCHIVE_NSTATES
				    ? st->state
				    : ARCHIVE_PENDING;
		counts[state]++;
		if (totals_only)
			continue;
		char wall[32], eta[32], tr[32], disc[32];
		double e = NAN;
		if (state == ARCHIVE_RUNNING && st->rows > 0 &&
		    st->t_reached > 0 && p->t_max > 0)
			e = st->wall_s * (p->t_max - st->t_reached) /
			    st->t_reached;
		fmt_dur(wall, sizeof wall, st->wall_s);
		fmt_dur(eta, sizeof eta, e);
		if (isfinite(st->t_reached))
			snprintf(tr, sizeof tr, "%.3f", st->t_reached);
		else
			snprintf(tr, sizeof tr, "-");
		if (isfinite(st->max_discarded))
			snprintf(disc, sizeof disc, "%.2e", st->max_discarded);
		else
			snprintf(disc, sizeof disc, "-");
		printf("%5d %5d %-12s %9.5f %5d %6g %7g  %-11s %3d %4d %9s "
		       "%8s %9s %8s  %s\n",
		       p->id, p->L,
		       p->state == 0 ? "ground_state" : "domain_wall",
		       p->delta_right, p->chi_max, p->dt, p->t_max,
		       archive_state_name(state), st->attempt, st->rank, tr,
		       wall, disc, eta, st->message);
	}
	printf("total: %d points: %d done, %d failed, %d running, %d "
	       "pending, %d interrupted\n",
	       s->npoints, counts[ARCHIVE_DONE], counts[ARCHIVE_FAILED],
	       counts[ARCHIVE_RUNNING], counts[ARCHIVE_PENDING],
	       counts[ARCHIVE_INTERRUPTED]);
	archive_summary_destroy(&s);
	return 0;
}
