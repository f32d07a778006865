/* fit: `kapitza fit ARCHIVE.h5` -- the post-stage on an archive
 * (engine/POSTSTAGE.md; the algorithms in engine/post, analysis.h).  For every point it reads the
 * measured rows from /points/<id>, computes
 *   - the maxima n'_L(t) < n'_R(t) of the energy-current profile and the
 *     velocities v'_R, v'_L of least-squares lines over a time window
 *     (paper Fig. 3c), and, over the points sharing every other parameter,
 *     the fit v'_R = A Delta + B (Fig. 3d);
 *   - the agreement time with the next larger chi_max (convergence);
 *   - from the thermal tables of the archive (the points of state
 *     thermal_table that `kapitza run` farms from the spec's `thermal:`
 *     section; this command never computes one), the effective
 *     beta_eff_n(t), mu_eff_n(t) and the trace distance d_n(t) to the
 *     thermal three-site state (Fig. 4, Fig. 7, Methods); with
 *     --beta-from tba, beta_eff from the Bethe-ansatz e(beta) instead;
 * writes everything under /analysis (never touching /points) and prints it.
 *
 * Serial and not collective: the archive is opened read-write with the sec2
 * driver by this one process.  A run that is still writing the archive (a
 * point in state running) makes it refuse, unless --force (for archives of
 * killed runs); so does the archive lock held by another process (a run or
 * resubmission at work: the lock dies with its process), --force or not.
 *
 * Exit status: 0 every requested fit done; 1 some fit could not be done (the
 * reasons are printed and stored in /analysis); 2 bad command line or the
 * archive could not be read or written. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis.h"
#include "archive.h"
#include "checkpoint.h"
#include "cmd.h"
#include "eu.h"

/* ---- command line ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kapitza fit ARCHIVE.h5 [options]\n"
		"  -w, --window T0:T1   time window of the light-cone fits "
		"(default 30:40)\n"
		"      --smooth W       moving average of the profile, odd "
		"bonds (default 3)\n"
		"      --height F       maxima below F x the global maximum "
		"are ignored (0.5)\n"
		"      --dip F          two maxima need a dip of F between "
		"them (0.01)\n"
		"      --floor X        profiles below X have no maximum "
		"(1e-8)\n"
		"      --no-refine      integer bond positions (default: "
		"parabolic vertex)\n"
		"      --tol X          convergence tolerance, absolute "
		"(default 1e-3)\n"
		"      --prominence K   maxima need a prominence of K x the "
		"profile's local noise (3)\n"
		"      --gate B:S       a tracked maximum moves at most B + S "
		"|dt| bonds per row (2:2)\n"
		"      --no-track       read every row on its own (no tracking, "
		"no prominence)\n"
		"      --v-tol X        v' converged in chi_max if it moves by "
		"<= X (0.05) ...\n"
		"      --v-nsigma K     ... and by <= K combined sds (1) between "
		"the two largest\n"
		"      --verdict-left   the verdict needs v'_L converged too\n"
		"      --use-largest-chi  A, B from every largest chi_max, "
		"converged or not\n"
		"  -n, --no-write       print only; open the archive "
		"read-only\n"
		"  -f, --force          even if points are marked running\n"
		"  -q, --quiet          no tables on stdout\n"
		"Writes /analysis (engine/POSTSTAGE.md); never modifies "
		"/points.\n"
		"beta_eff, mu_eff and d_n use the archive's thermal tables, "
		"which `kapitza run`\n"
		"computes as items of the sweep (the spec's thermal: "
		"section).\n"
		"      --tables T.h5    take the thermal tables from archive "
		"T.h5 instead (e.g. a\n"
		"                       run of the same thermal: section "
		"beside a sweep without one)\n"
		"      --beta-from S    beta_eff from S = tables (default) or "
		"tba: the Bethe-ansatz\n"
		"                       e(beta) at mu = 0 (ground_state points; "
		"anisotropies\n"
		"                       gamma = pi/P, P = 2..12, only; "
		"|beta| <= 10, beyond: +-inf);\n"
		"                       tables, where present, give d_n and "
		"max|dbeta| against them\n"
		"Exit status: 0 all fits done, 1 some fit not done (see the "
		"messages), 2 error.\n");
}

/* The options of the peak search (fit.h's fit_peak_opts_t): 0 not one of
 * them, 1 a flag, 2 an option and its value (v), -1 an error (err). */
static int peak_option(const char *s, const char *v, fit_peak_opts_t *pk,
		       char *err)
{
	double x;
#define NEED                                                             \
	do {                                                             \
		if (!v)                                                  \
			return eu_err(err, "%s needs a value", s);       \
	} while (0)
	if (!strcmp(s, "--smooth")) {
		NEED;
		if (eu_parse_double(v, &x) || x < 1 || x != floor(x) ||
		    fmod(x, 2) == 0 || x > 99)
			return eu_err(err,
				      "--smooth needs an odd integer in "
				      "[1, 99], not '%s'",
				      v);
		pk->smooth = (int)x;
	} else if (!strcmp(s, "--height")) {
		NEED;
		if (eu_parse_double(v, &x) || x < 0 || x > 1)
			return eu_err(err,
				      "--height needs a number in [0, "
				      "1], not '%s'",
				      v);
		pk->rel_height = x;
	} else if (!strcmp(s, "--dip")) {
		NEED;
		if (eu_parse_double(v, &x) || x < 0 || x >= 1)
			return eu_err(err,
				      "--dip needs a number in [0, 1), "
				      "not '%s'",
				      v);
		pk->min_dip = x;
	} else if (!strcmp(s, "--floor")) {
		NEED;
		if (eu_parse_double(v, &x) || x < 0)
			return eu_err(err,
				      "--floor needs a number >= 0, not "
				      "'%s'",
				      v);
		pk->floor = x;
	} else if (!strcmp(s, "--no-refine")) {
		pk->refine = 0;
	} else {
		return 0;
	}
#undef NEED
	return strcmp(s, "--no-refine") ? 2 : 1;
}

/* The options of the tracker and of the velocities' convergence in
 * chi_max (track.h, chiconv.h): 0 not one of them, 1 a flag, 2 an option
 * and its value (v), -1 an error (err). */
static int post_option(const char *s, const char *v, an_opts_t *o, char *err)
{
	int val = !strcmp(s, "--prominence") || !strcmp(s, "--gate") ||
		  !strcmp(s, "--v-tol") || !strcmp(s, "--v-nsigma");
	if (val && !v)
		return eu_err(err, "%s needs a value", s);
	if (!strcmp(s, "--prominence")) {
		if (eu_parse_double(v, &o->track.prominence) ||
		    o->track.prominence < 0)
			return eu_err(err,
				      "--prominence needs a number >= 0, not "
				      "'%s'",
				      v);
	} else if (!strcmp(s, "--gate")) {
		char buf[128], *c;
		snprintf(buf, sizeof buf, "%s", v);
		c = strchr(buf, ':');
		if (c)
			*c = 0;
		if (!c || eu_parse_double(buf, &o->track.gate_bonds) ||
		    eu_parse_double(c + 1, &o->track.gate_speed) ||
		    o->track.gate_bonds < 0 || o->track.gate_speed < 0)
			return eu_err(err,
				      "--gate takes BONDS:SPEED, both >= 0, "
				      "not '%s'",
				      v);
	} else if (!strcmp(s, "--v-tol")) {
		if (eu_parse_double(v, &o->chi.tol) || !(o->chi.tol >= 0))
			return eu_err(err,
				      "--v-tol needs a number >= 0, not '%s'",
				      v);
	} else if (!strcmp(s, "--v-nsigma")) {
		if (eu_parse_double(v, &o->chi.nsigma) || !(o->chi.nsigma >= 0))
			return eu_err(err,
				      "--v-nsigma needs a number >= 0, not '%s'",
				      v);
	} else if (!strcmp(s, "--no-track")) {
		o->no_track = 1;
	} else if (!strcmp(s, "--verdict-left")) {
		o->chi.left = 1;
	} else if (!strcmp(s, "--use-largest-chi")) {
		o->chi.use_largest = 1;
	} else {
		return 0;
	}
	return val ? 2 : 1;
}

static int parse_args(int argc, char **argv, an_opts_t *o, char *err)
{
	memset(o, 0, sizeof *o);
	o->t0 = 30;
	o->t1 = 40;
	o->tol = 1e-3;
	fit_peak_opts_default(&o->peaks);
	track_opts_default(&o->track);
	chiconv_opts_default(&o->chi);
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int po;
#define NEED                                                             \
	do {                                                             \
		if (!v)                                                  \
			return eu_err(err, "%s needs a value", s);       \
		i++;                                                     \
	} while (0)
		if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			o->help = 1;
		} else if (!strcmp(s, "-w") || !strcmp(s, "--window")) {
			NEED;
			char buf[128], *c;
			snprintf(buf, sizeof buf, "%s", v);
			c = strchr(buf, ':');
			if (!c)
				return eu_err(err,
					      "--window takes T0:T1, not '%s'",
					      v);
			*c = 0;
			if (eu_parse_double(buf, &o->t0) ||
			    eu_parse_double(c + 1, &o->t1) || o->t0 < 0 ||
			    !(o->t1 > o->t0))
				return eu_err(err,
					      "--window '%s': need 0 <= T0 < "
					      "T1, finite",
					      v);
		} else if ((po = peak_option(s, v, &o->peaks, err)) != 0) {
			if (po < 0)
				return -1;
			i += po > 1;
		} else if (!strcmp(s, "--tol")) {
			NEED;
			if (eu_parse_double(v, &o->tol) || !(o->tol > 0))
				return eu_err(err,
					      "--tol needs a number > 0, not "
					      "'%s'",
					      v);
		} else if ((po = post_option(s, v, o, err)) != 0) {
			if (po < 0)
				return -1;
			i += po > 1;
		} else if (!strcmp(s, "--thermal") ||
			   !strcmp(s, "--thermal-spec") || !strcmp(s, "-t") ||
			   !strcmp(s, "--threads")) {
			/* the options of the former table computation */
			return eu_err(err,
				      "%s: kapitza fit no longer computes "
				      "thermal tables: `kapitza run` farms "
				      "them as items of the sweep, from the "
				      "spec's thermal: section, and kapitza "
				      "fit reads them from the archive "
				      "(engine/POSTSTAGE.md)",
				      s);
		} else if (!strcmp(s, "--tables")) {
			NEED;
			o->tables = v;
		} else if (!strcmp(s, "--beta-from")) {
			NEED;
			if (strcmp(v, "tables") && strcmp(v, "tba"))
				return eu_err(err,
					      "--beta-from takes 'tables' or "
					      "'tba', not '%s'",
					      v);
			o->beta_tba = !strcmp(v, "tba");
		} else if (!strcmp(s, "-n") || !strcmp(s, "--no-write")) {
			o->no_write = 1;
		} else if (!strcmp(s, "-f") || !strcmp(s, "--force")) {
			o->force = 1;
		} else if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) {
			o->quiet = 1;
		} else if (s[0] == '-' && s[1]) {
			return eu_err(err, "unknown option '%s'", s);
		} else if (!o->path) {
			o->path = s;
		} else {
			return eu_err(err, "one archive only ('%s' and '%s')",
				      o->path, s);
		}
#undef NEED
	}
	if (!o->help && !o->path)
		return eu_err(err, "no archive given");
	o->track.peaks = o->peaks;
	return 0;
}

/* ---- the command ---- */

/* Everything one run of the command holds. */
typedef struct {
	an_opts_t o;
	archive_summary_t *sum;
	hid_t fapl, f;
	pt_t *pts;
	int np;
	vf_row_t *vf;
	cv_row_t *cv;
	tab_t *tabs;
	int nvf, ncv, ntab;
	eos_cache_t eos;       /* --beta-from tba: the TBA's e(beta) */
	chi_t chi;             /* the velocities' verdicts in chi_max */
	ckpt_lock_t *lock;     /* the archive lock, while /analysis is written */
} fit_run_t;

/* The summary, the running check and the archive opened for the fits
 * (read-write unless --no-write); 0 or -1 with err. */
static int fit_open(fit_run_t *r, char *err)
{
	const an_opts_t *o = &r->o;
	if (archive_summary_read(&r->sum, o->path, err))
		return -1;
	int running = 0;
	for (int i = 0; i < r->sum->npoints; i++)
		running += r->sum->status[i].state == ARCHIVE_RUNNING;
	if (running && !o->force && !o->no_write)
		return eu_err(err,
			      "%d point%s of '%s' %s marked running: a run may "
			      "still be writing the archive (kapitza status); "
			      "--force if that run is dead, or --no-write",
			      running, running == 1 ? "" : "s", o->path,
			      running == 1 ? "is" : "are");
	/* a run or resubmission holds the archive lock (in ARCHIVE.h5.ckpt/,
	 * made by the first run) while it writes; fit waits for no one and
	 * writes nothing then */
	char dir[4096];
	struct stat sb;
	if (!o->no_write && !ckpt_dir_of(dir, sizeof dir, o->path) &&
	    stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    ckpt_lock_create(&r->lock, dir, err))
		return -1;
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	r->fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (r->fapl < 0 || H5Pset_fapl_sec2(r->fapl) < 0)
		return eu_err(err, "HDF5: file access properties");
	r->f = H5Fopen(o->path, o->no_write ? H5F_ACC_RDONLY : H5F_ACC_RDWR,
		       r->fapl);
	if (r->f < 0)
		return eu_err(err, "cannot open '%s' %s", o->path,
			      o->no_write ? "for reading"
					  : "for writing (read-only file or "
					    "in use?)");
	r->np = r->sum->npoints;
	r->pts = calloc(r->np ? (size_t)r->np : 1, sizeof *r->pts);
	if (!r->pts)
		return eu_err(err, "out of memory");
	return 0;
}

/* The light cones, velocity fits and convergence; the exit status so far
 * (0, 1) or 2 with err. */
static int fit_lightcones(fit_run_t *r, char *err)
{
	int status = 0;
	for (int i = 0; i < r->np; i++) {
		pt_t *q = &r->pts[i];
		q->p = &r->sum->points[i];
		q->st = &r->sum->status[i];
		q->n = q->p->n_measure;
		if (q->p->state == SPEC_STATE_THERMAL)
			continue; /* a thermal table: tables_from */
		if (an_read_doubles(r->f, q->p->id,
				    schema_point_ds[DS_TIME].name, (size_t)q->n,
				    &q->time, err)) {
			if (!err[0])
				eu_err(err, "point %d has no time dataset",
				       q->p->id);
			return 2;
		}
		for (int k = 0; k < q->n; k++)
			q->nw += isfinite(q->time[k]);
		if (lightcone_point(r->f, q, &r->o, err))
			return 2;
		if (q->has_je && q->nw && !q->lc.ok)
			status = 1;
	}
	if (velocity_groups(r->pts, r->np, &r->vf, &r->nvf, err) ||
	    convergence(r->f, r->pts, r->np, r->o.tol, &r->cv, &r->ncv, err))
		return 2;
	for (int g = 0; g < r->nvf; g++)
		if (!r->vf[g].ok && r->vf[g].npoints >= 2)
			status = 1;
	return status;
}

/* The effective temperatures from the thermal tables that kapitza run
 * farmed (here or in the --tables archive); one that is not done is said
 * once, with the command that computes it.  0, 1 or 2 (err). */
static int fit_thermal(fit_run_t *r, char *err)
{
	const char *tpath = r->o.tables ? r->o.tables : r->o.path;
	int status = 0;
	if (tables_from(r->f, r->sum, r->o.tables, r->fapl, &r->tabs,
			&r->ntab, err))
		return 2;
	for (int k = 0; k < r->ntab; k++)
		if (!r->tabs[k].t) {
			char why[SCHEMA_AN_MSGLEN];
			table_missing(&r->tabs[k], tpath, why);
			fprintf(stderr, "kapitza fit: %s\n", why);
		}
	for (int i = 0; (r->ntab || r->o.beta_tba) && i < r->np; i++) {
		if (!r->pts[i].nw)
			continue;
		if (thermal_point(r->f, tpath, &r->pts[i], r->tabs, r->ntab,
				  r->o.beta_tba ? &r->eos : NULL, err))
			return 2;
		if (r->pts[i].th.message[0])
			status = 1;
	}
	/* the anisotropies the TBA refused, once each */
	for (int k = 0; k < r->eos.n; k++)
		if (!r->eos.e[k].eos)
			fprintf(stderr, "kapitza fit: %s\n", r->eos.e[k].msg);
	return status;
}

/* Closes and frees everything; status, or 2 if closing failed. */
static int fit_close(fit_run_t *r, int status)
{
	if (r->f >= 0 && H5Fclose(r->f) < 0 && status != 2) {
		fprintf(stderr, "kapitza fit: closing '%s' failed\n",
			r->o.path);
		status = 2;
	}
	if (r->fapl >= 0)
		H5Pclose(r->fapl);
	for (int i = 0; r->pts && i < r->np; i++) {
		free(r->pts[i].time);
		free(r->pts[i].n_left);
		free(r->pts[i].n_right);
		free(r->pts[i].found);
		free(r->pts[i].beta);
		free(r->pts[i].mu);
		free(r->pts[i].dist);
	}
	free(r->pts);
	free(r->vf);
	free(r->cv);
	chi_free(&r->chi);
	tabs_free(r->tabs, r->ntab);
	eos_cache_free(&r->eos);
	archive_summary_destroy(&r->sum);
	ckpt_lock_destroy(&r->lock);
	fflush(stdout);
	return status;
}

int cmd_fit(int argc, char **argv)
{
	fit_run_t r;
	char err[EU_ERRLEN] = "";
	int status = 2, st;

	memset(&r, 0, sizeof r);
	r.fapl = r.f = -1;
	if (parse_args(argc, argv, &r.o, err)) {
		fprintf(stderr, "kapitza fit: %s\n", err);
		usage(stderr);
		return 2;
	}
	if (r.o.help) {
		usage(stdout);
		return 0;
	}
	if (fit_open(&r, err))
		goto out;
	if ((status = fit_lightcones(&r, err)) == 2)
		goto out;
	if (chi_verdicts(r.pts, r.np, &r.o, &r.chi, err)) {
		status = 2;
		goto out;
	}
	if ((st = fit_thermal(&r, err)) == 2) {
		status = 2;
		goto out;
	}
	status = status ? status : st;
	if (!r.o.no_write &&
	    (an_write(r.f, &r.o, argc, argv, r.pts, r.np, r.vf, r.nvf, r.cv,
		      r.ncv, err) ||
	     chi_write(r.f, &r.o, &r.chi, err))) {
		status = 2;
		goto out;
	}
	if (!r.o.quiet) {
		an_print(&r.o, r.pts, r.np, r.vf, r.nvf, r.cv, r.ncv, r.tabs,
			 r.ntab);
		chiconv_print(stdout, r.chi.in, &r.o.chi, r.chi.lad,
			      r.chi.nlad, r.chi.fit, r.chi.nfit);
		for (int k = 0; k < r.eos.n; k++)
			if (r.eos.e[k].eos)
				printf("TBA e(beta) at delta = %.6g: P = %d, "
				       "interpolation error ~%.1e\n",
				       r.eos.e[k].delta, r.eos.e[k].eos->P,
				       r.eos.e[k].eos->err_est);
		if (!r.o.no_write)
			printf("\nwritten: %s:/" SCHEMA_ANALYSIS "\n", r.o.path);
	}
out:
	if (err[0])
		fprintf(stderr, "kapitza fit: %s\n", err);
	return fit_close(&r, status);
}
