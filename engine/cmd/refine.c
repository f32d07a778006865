/* refine: `kapitza refine ARCHIVE.h5 [--chi-step F] [--max-chi N] [--tol X]
 * [--nsigma K] [--verdict-left] [--dry-run]` -- the chi_max ladder that
 * extends itself (engine/POSTSTAGE.md, "Velocities converged in chi_max").
 *
 * From the light-cone velocities of the last `kapitza fit` (the table
 * /analysis/lightcone, so the fit's window and tracker), it judges every
 * ladder of points that differ only in chi_max (post/chiconv.h) with this
 * command's tolerance, and for each ladder that is not converged (or has a
 * single chi_max) adds the next rung, chi = max(chi + 1, ceil(F chi)) of its
 * largest chi_max, unless that exceeds --max-chi.  A rung is an entry of
 * the spec's `refine:` section (sweep/spec_refine.h) with the reason it was
 * added; the archive is rebuilt for the extended spec with every point it
 * held (store/extend.h), the new points pending, so that `kapitza resubmit
 * ARCHIVE.h5` (under mpirun, in SLURM, in shards through run --shard on the
 * new spec) computes them like any point.  Then fit and refine again, until
 * every ladder is converged or at the cap.
 *
 * Refused: points running (a run may be writing), an archive without
 * /analysis/lightcone or with points fit has not seen (run kapitza fit
 * first), checkpoints of unfinished points (they are tied to the spec hash,
 * which changes: finish them with kapitza resubmit first), shard files.
 *
 * Exit status: 0 rungs added, or every ladder converged; 1 nothing could be
 * added but some ladder is not converged (cap, no velocity); 2 error. */
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "checkpoint.h"
#include "chiconv.h"
#include "cmd.h"
#include "extend.h"
#include "h5x.h"
#include "schema.h"
#include "spec.h"

typedef struct {
	const char *path;
	double step;
	int max_chi;
	chiconv_opts_t chi;
	int dry_run, help;
} rf_args_t;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kapitza refine ARCHIVE.h5 [options]\n"
		"Adds the next chi_max to every ladder of points (same "
		"parameters but chi_max)\nwhose light-cone velocity v'_R is "
		"not converged, as new pending points of the\narchive; "
		"`kapitza resubmit ARCHIVE.h5` computes them.  Reads the "
		"velocities of the\nlast `kapitza fit`.\n"
		"      --chi-step F   next chi_max = max(chi + 1, ceil(F chi)) "
		"(default 1.5)\n"
		"      --max-chi N    never add a chi_max above N (default "
		"1024)\n"
		"      --tol X        converged: v'_R moves by <= X between the "
		"two largest chi_max\n"
		"                     (default 0.05) ...\n"
		"      --nsigma K     ... and by <= K combined sds (default 1)\n"
		"      --verdict-left v'_L must be converged too\n"
		"  -n, --dry-run      say what would be added; change nothing\n"
		"Exit status: 0 rungs added or all converged, 1 some ladder "
		"not converged but\nnothing to add (cap), 2 error.\n");
}

static int parse_args(int argc, char **argv, rf_args_t *a, char *err)
{
	memset(a, 0, sizeof *a);
	a->step = 1.5;
	a->max_chi = 1024;
	chiconv_opts_default(&a->chi);
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		double x = 0;
		int val = !strcmp(s, "--chi-step") || !strcmp(s, "--max-chi") ||
			  !strcmp(s, "--tol") || !strcmp(s, "--nsigma");
		if (val && (!v || eu_parse_double(v, &x)))
			return snprintf(err, EU_ERRLEN, "%s needs a number",
					s),
			       -1;
		if (val)
			i++;
		if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			a->help = 1;
		} else if (!strcmp(s, "--chi-step")) {
			if (!(x > 1 && x <= 10))
				return snprintf(err, EU_ERRLEN,
						"--chi-step must be in (1, 10]"),
				       -1;
			a->step = x;
		} else if (!strcmp(s, "--max-chi")) {
			if (x < 1 || x > 100000 || x != floor(x))
				return snprintf(err, EU_ERRLEN,
						"--max-chi must be an integer "
						"in [1, 100000]"),
				       -1;
			a->max_chi = (int)x;
		} else if (!strcmp(s, "--tol")) {
			if (x < 0)
				return snprintf(err, EU_ERRLEN,
						"--tol must be >= 0"),
				       -1;
			a->chi.tol = x;
		} else if (!strcmp(s, "--nsigma")) {
			if (x < 0)
				return snprintf(err, EU_ERRLEN,
						"--nsigma must be >= 0"),
				       -1;
			a->chi.nsigma = x;
		} else if (!strcmp(s, "--verdict-left")) {
			a->chi.left = 1;
		} else if (!strcmp(s, "-n") || !strcmp(s, "--dry-run")) {
			a->dry_run = 1;
		} else if (s[0] == '-' && s[1]) {
			return snprintf(err, EU_ERRLEN, "unknown option '%s'",
					s),
			       -1;
		} else if (!a->path) {
			a->path = s;
		} else {
			return snprintf(err, EU_ERRLEN, "one archive only"), -1;
		}
	}
	if (!a->help && !a->path)
		return snprintf(err, EU_ERRLEN, "no archive given"), -1;
	return 0;
}


static int read_lightcone(const char *path, lc_row_t **out, int *n, double *t0,
			  double *t1, char *err)
{
	hid_t f = h5x_open_serial(path, H5F_ACC_RDONLY), t = -1, a = -1;
	int rc = -1;
	*out = NULL;
	*n = 0;
	if (f < 0) {
		snprintf(err, EU_ERRLEN, "cannot open '%s'", path);
		goto out;
	}
	if (H5Lexists(f, "/" SCHEMA_ANALYSIS, H5P_DEFAULT) <= 0 ||
	    H5Lexists(f, "/" SCHEMA_ANALYSIS "/" SCHEMA_AN_LIGHTCONE,
		      H5P_DEFAULT) <= 0) {
		snprintf(err, EU_ERRLEN,
			 "'%s' has no /analysis/lightcone: run `kapitza fit "
			 "%s` first (refine judges its velocities)",
			 path, path);
		goto out;
	}
	t = schema_type(&schema_lightcone); /* the rows kapitza fit wrote */
	if (t < 0 ||
	    h5x_read_rows(f, "/" SCHEMA_ANALYSIS "/" SCHEMA_AN_LIGHTCONE, t,
			  sizeof **out, (void **)out, n)) {
		snprintf(err, EU_ERRLEN, "cannot read /analysis/lightcone");
		goto out;
	}
	*t0 = *t1 = NAN;
	a = H5Aopen_by_name(f, "/" SCHEMA_ANALYSIS, "window_t0", H5P_DEFAULT,
			    H5P_DEFAULT);
	if (a >= 0) {
		H5Aread(a, H5T_NATIVE_DOUBLE, t0);
		H5Aclose(a);
	}
	a = H5Aopen_by_name(f, "/" SCHEMA_ANALYSIS, "window_t1", H5P_DEFAULT,
			    H5P_DEFAULT);
	if (a >= 0) {
		H5Aread(a, H5T_NATIVE_DOUBLE, t1);
		H5Aclose(a);
	}
	rc = 0;
out:
	if (rc) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	if (t >= 0)
		H5Tclose(t);
	if (f >= 0)
		H5Fclose(f);
	return rc;
}

/* a YAML double-quoted scalar of s */
static void quoted(FILE *m, const char *s)
{
	fputc('"', m);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', m);
		fputc((unsigned char)*s >= 32 ? *s : ' ', m);
	}
	fputc('"', m);
}

/* 1 if a line of text starts with the top-level key "refine:" */
static int has_refine_key(const char *text)
{
	for (const char *p = text; p; p = strchr(p, '\n')) {
		p += *p == '\n';
		if (!strncmp(p, "refine:", 7))
			return 1;
	}
	return 0;
}

/* Checkpoints of unfinished points are tied to the spec hash: refuse. */
static int check_ckpts(const archive_summary_t *sum, const char *path,
		       char *err)
{
	char dir[PATH_MAX], file[PATH_MAX];
	if (ckpt_dir_of(dir, sizeof dir, path))
		return snprintf(err, EU_ERRLEN, "path too long"), -1;
	for (int i = 0; i < sum->npoints; i++) {
		if (sum->status[i].state == ARCHIVE_DONE ||
		    ckpt_file_of(file, sizeof file, dir, sum->points[i].hash) ||
		    access(file, F_OK))
			continue;
		return snprintf(err, EU_ERRLEN,
				"point %d is %s with a checkpoint (%.200s), "
				"which is tied to the spec that refine "
				"changes: finish it with `kapitza resubmit "
				"%.200s` first",
				i, archive_state_name(sum->status[i].state),
				file, path),
		       -1;
	}
	return 0;
}

/* The ladders and what to add: the YAML entries in *yaml (NULL if none),
 * *nadd of them; *blocked ladders not converged with nothing to add. */
static int plan(const rf_args_t *a, const archive_summary_t *sum,
		const lc_row_t *lc, int nlc, char **yaml, int *nadd, int *blocked,
		char *err)
{
	chiconv_point_t *in = calloc(sum->npoints ? (size_t)sum->npoints : 1,
				     sizeof *in);
	chiconv_ladder_t *lad = NULL;
	size_t len = 0;
	int n = 0, nl = 0, rc = -1;
	FILE *m = open_memstream(yaml, &len);
	*nadd = *blocked = 0;
	if (!in || !m) {
		snprintf(err, EU_ERRLEN, "out of memory");
		goto out;
	}
	for (int i = 0; i < sum->npoints; i++) {
		const archive_point_row_t *p = &sum->points[i];
		if (p->state == SPEC_STATE_THERMAL ||
		    !(p->measure & SPEC_M_ENERGY_CURRENT))
			continue;
		const lc_row_t *r = NULL;
		for (int k = 0; k < nlc && !r; k++)
			if (lc[k].point_id == p->id)
				r = &lc[k];
		if (!r) {
			snprintf(err, EU_ERRLEN,
				 "point %d has no light-cone row: run `kapitza "
				 "fit %.300s` again (after the points are "
				 "computed)",
				 p->id, a->path);
			goto out;
		}
		in[n].p = p;
		in[n].has_v = r->ok;
		in[n].v_right = r->v_right;
		in[n].v_right_sd = r->v_right_sd;
		in[n].v_left = r->v_left;
		in[n].v_left_sd = r->v_left_sd;
		in[n].why = r->message;
		n++;
	}
	if (chiconv_ladders(in, n, &a->chi, &lad, &nl, err))
		goto out;
	for (int k = 0; k < nl; k++) {
		const chiconv_ladder_t *l = &lad[k];
		printf("  delta_r %.6g, chi_max %s (points %s): %s%s%s", 
		       l->delta_right, l->chi_list, l->point_ids,
		       chiconv_verdict_name(l->verdict),
		       l->verdict == CHICONV_CONVERGED ? "" : ": ",
		       l->verdict == CHICONV_CONVERGED ? "" : l->reason);
		if (l->verdict == CHICONV_CONVERGED) {
			printf("\n");
			continue;
		}
		if (l->verdict == CHICONV_NO_VELOCITY) {
			printf(" -> nothing added\n");
			(*blocked)++;
			continue;
		}
		int next = (int)ceil(a->step * l->chi_max - 1e-9);
		if (next < l->chi_max + 1)
			next = l->chi_max + 1;
		if (next > a->max_chi) {
			printf(" -> chi_max %d is above --max-chi %d: nothing "
			       "added\n",
			       next, a->max_chi);
			(*blocked)++;
			continue;
		}
		printf(" -> adds chi_max %d\n", next);
		char why[2 * CHICONV_MSGLEN];
		snprintf(why, sizeof why, "v'_R %s (tol %g, %g sd): %s",
			 chiconv_verdict_name(l->verdict), a->chi.tol,
			 a->chi.nsigma, l->reason);
		fprintf(m, "  - { point: %s, chi_max: %d, reason: ",
			sum->points[l->point_id].hash, next);
		quoted(m, why);
		fprintf(m, " }\n");
		(*nadd)++;
	}
	rc = 0;
out:
	if (m)
		fclose(m);
	free(in);
	free(lad);
	return rc;
}

/* The modelled core-hours (spec_point_core_hours) of the points of the
 * extended spec s that the archive does not hold yet. */
static double new_core_hours(const spec_t *s, const archive_summary_t *sum)
{
	double ch = 0;
	for (int k = 0; k < s->npoints - s->ntables; k++) {
		int known = 0;
		for (int i = 0; i < sum->npoints && !known; i++)
			known = !strcmp(s->points[k].hash_hex,
					sum->points[i].hash);
		if (!known)
			ch += spec_point_core_hours(&s->points[k]);
	}
	return ch;
}

/* rank 0's work; the exit status */
static int refine(const rf_args_t *a)
{
	archive_summary_t *sum = NULL;
	lc_row_t *lc = NULL;
	spec_t *s = NULL;
	char err[EU_ERRLEN] = "", *yaml = NULL, *text = NULL, ckdir[PATH_MAX];
	ckpt_lock_t *lock = NULL;
	int nlc = 0, nadd = 0, blocked = 0, status = 2, ncopied = 0;
	double t0, t1;

	if (archive_summary_read(&sum, a->path, err))
		goto out;
	if (sum->shard_count > 1) {
		snprintf(err, EU_ERRLEN,
			 "'%s' is shard %d of %d: merge the shards first",
			 a->path, sum->shard_index, sum->shard_count);
		goto out;
	}
	for (int i = 0; i < sum->npoints; i++)
		if (sum->status[i].state == ARCHIVE_RUNNING) {
			snprintf(err, EU_ERRLEN,
				 "point %d is marked running: a run may still "
				 "be writing '%s' (kapitza status)",
				 i, a->path);
			goto out;
		}
	if (read_lightcone(a->path, &lc, &nlc, &t0, &t1, err))
		goto out;
	printf("kapitza refine %s: velocities of the last kapitza fit "
	       "(window %g:%g); converged if v'_R moves by <= %g and <= %g "
	       "combined sd%s\n",
	       a->path, t0, t1, a->chi.tol, a->chi.nsigma,
	       a->chi.left ? " (v'_L too)" : "");
	if (plan(a, sum, lc, nlc, &yaml, &nadd, &blocked, err))
		goto out;
	if (!nadd) {
		printf("nothing to add: %s\n",
		       blocked ? "some ladders are not converged but at the "
				 "cap or without a velocity"
			       : "every ladder is converged");
		status = blocked ? 1 : 0;
		goto out;
	}
	size_t lt = strlen(sum->spec_text);
	int nl = lt && sum->spec_text[lt - 1] != '\n';
	int head = !has_refine_key(sum->spec_text);
	size_t tl = 0;
	FILE *tm = open_memstream(&text, &tl);
	if (tm) {
		fprintf(tm, "%s%s%s%s", sum->spec_text, nl ? "\n" : "",
			head ? "# chi_max rungs added by kapitza refine\n"
			       "refine:\n"
			     : "",
			yaml);
		fclose(tm);
	}
	if (!tm || !text) {
		snprintf(err, EU_ERRLEN, "out of memory");
		goto out;
	}
	if (spec_parse(&s, a->path, text, strlen(text), err))
		goto out;
	if (s->npoints != sum->npoints + nadd) {
		snprintf(err, EU_ERRLEN,
			 "the extended spec has %d points, not %d + %d: the "
			 "refine: section must be the last key of the spec",
			 s->npoints, sum->npoints, nadd);
		goto out;
	}
	double ch = new_core_hours(s, sum);
	if (a->dry_run) {
		printf("--dry-run: would add %d point%s (estimated %.3g "
		       "core-hours, as kapitza run --dry-run):\n%s",
		       nadd, nadd == 1 ? "" : "s", ch, yaml);
		status = 0;
		goto out;
	}
	if (check_ckpts(sum, a->path, err) ||
	    ckpt_dir_of(ckdir, sizeof ckdir, a->path) ||
	    ckpt_lock_create(&lock, ckdir, err) ||
	    archive_extend(a->path, s, &ncopied, err))
		goto out;
	printf("added %d point%s to %s (%d points kept, spec hash %s; "
	       "estimated %.3g core-hours, as kapitza run --dry-run); "
	       "compute them with `kapitza resubmit %s` (under mpirun), "
	       "then `kapitza fit` and `kapitza refine` again\n",
	       nadd, nadd == 1 ? "" : "s", a->path, ncopied, s->hash_hex, ch,
	       a->path);
	status = 0;
out:
	if (status == 2 && err[0])
		fprintf(stderr, "kapitza refine: %s\n", err);
	ckpt_lock_destroy(&lock);
	archive_summary_destroy(&sum);
	spec_destroy(&s);
	free(lc);
	free(yaml);
	free(text);
	return status;
}

int cmd_refine(int argc, char **argv)
{
	rf_args_t a;
	char err[EU_ERRLEN] = "";
	int rank = 0, inited = 0, provided, status;
	if (parse_args(argc, argv, &a, err) || a.help) {
		if (err[0])
			fprintf(stderr, "kapitza refine: %s\n", err);
		usage(err[0] ? stderr : stdout);
		return err[0] ? 2 : 0;
	}
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	/* archive_create (in archive_extend) needs MPI; one process works */
	MPI_Initialized(&inited);
	if (!inited)
		MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	status = rank == 0 ? refine(&a) : 0;
	MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
	MPI_Finalize();
	return status;
}
