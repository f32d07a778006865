/* analysis: `kapitza fit ARCHIVE.h5` -- the post-stage on an archive
 * (engine/POSTSTAGE.md; DESIGN.md "Analysis").  For every point it reads the
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
 *     thermal three-site state (Fig. 4, Fig. 7, Methods);
 * writes everything under /analysis (never touching /points) and prints it.
 *
 * Serial and not collective: the archive is opened read-write with the sec2
 * driver by this one process.  A run that is still writing the archive (a
 * point in state running) makes it refuse, unless --force (for archives of
 * killed runs).  Rewriting /analysis unlinks the previous groups; HDF5 does
 * not reuse that space (h5repack reclaims it).
 *
 * Exit status: 0 every requested fit done; 1 some fit could not be done (the
 * reasons are printed and stored in /analysis); 2 bad command line or the
 * archive could not be read or written. */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive.h"
#include "chiconv.h"
#include "cmd.h"
#include "fit.h"
#include "h5x.h"
#include "spec.h"
#include "thermal.h"
#include "track.h"
#include "version.h"

#define AN_ERRLEN 1024
#define AN_MSGLEN 256
#define AN_FORMAT "kapitza-analysis"
#define AN_FORMAT_VERSION 1
#define TIME_EPS 1e-9

typedef struct {
	const char *path;
	const char *tables;      /* --tables: the archive holding the tables */
	double t0, t1;           /* the fit window */
	fit_peak_opts_t peaks;
	double tol;              /* convergence tolerance (absolute) */
	int force, no_write, quiet, help;
	/* --- the tracker of the maxima and the velocities' convergence in
	 * chi_max (post/track.h, post/chiconv.h) --- */
	track_opts_t track;      /* .peaks is copied from `peaks` */
	int no_track;            /* --no-track: fit_peaks row by row */
	chiconv_opts_t chi;
} an_opts_t;

/* ---- rows of the /analysis tables (HDF5 compounds of the same names) ---- */

typedef struct {
	int32_t point_id;
	int8_t state;
	int32_t L, chi_max;
	double delta_left, delta_right;
	int32_t rows;            /* measurement times in the window */
	int32_t rows_found;      /* ... with two maxima */
	double v_right, v_right_sd, c_right;
	double v_left, v_left_sd, c_left;
	int8_t ok;
	char message[AN_MSGLEN];
} lc_row_t;

typedef struct {
	int32_t group;
	int8_t state;
	int32_t L, order, chi_max;
	double J, delta_left, dt, t_max, measure_every, cutoff;
	int32_t npoints;
	char point_ids[AN_MSGLEN];
	double A, A_sd, B, B_sd, cov;
	double A_w, A_w_sd, B_w, B_w_sd, cov_w;
	int8_t ok;
	char message[AN_MSGLEN];
} vf_row_t;

#define N_CONV 5
static const char *const conv_ds[N_CONV] = {"energy", "energy_current", "sz",
					    "spin_current", "entropy"};
typedef struct {
	int32_t point_id, ref_point_id, chi_max, ref_chi_max;
	double tol;
	double t_energy, t_energy_current, t_sz, t_spin_current, t_entropy;
	double t_all;            /* the smallest of the measured ones */
	int8_t full;             /* 1: agree as far as both runs go */
	double max_diff;         /* largest difference seen (to t_all's
	                            first disagreeing row) */
} cv_row_t;

typedef struct {
	int32_t point_id;
	int8_t with_mu;          /* 1: (beta, mu) from (e, s^z) */
	int8_t with_distance;    /* 1: d_n from rho3 */
	int32_t values;          /* windows x rows inverted */
	int32_t finite, beyond_cold, beyond_hot, no_solution;
	double d_max;
	char message[AN_MSGLEN];
} th_row_t;

/* ---- per point state ---- */

typedef struct {
	const archive_point_row_t *p;
	const archive_status_t *st;
	int n;                   /* rows (n_measure) */
	int nw;                  /* rows with a finite time */
	double *time;
	/* light cone */
	int has_je;
	double *n_left, *n_right;
	int8_t *found;
	lc_row_t lc;
	/* thermal */
	double *beta, *mu, *dist;
	th_row_t th;
	int th_done;
} pt_t;

/* A thermal table of the archive (a point of state thermal_table). */
typedef struct {
	double delta;
	int point;               /* its point id */
	int state;               /* its /status state */
	thermal_table_t *t;      /* read back if done, else NULL */
} tab_t;

__attribute__((format(printf, 2, 3))) static int an_err(char *err,
							const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, AN_ERRLEN, fmt, ap);
	va_end(ap);
	return -1;
}

__attribute__((format(printf, 3, 4))) static void msg(char *buf, size_t n,
						      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

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
		"Exit status: 0 all fits done, 1 some fit not done (see the "
		"messages), 2 error.\n");
}

static int parse_double(const char *s, double *v)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	return errno || end == s || *end || !isfinite(*v) ? -1 : 0;
}

/* --- the options of the tracker and of the velocities' convergence in
 * chi_max: 0 not one of them, 1 a flag, 2 an option and its value (v),
 * -1 an error (err) --- */
static int post_option(const char *s, const char *v, an_opts_t *o, char *err)
{
	int val = !strcmp(s, "--prominence") || !strcmp(s, "--gate") ||
		  !strcmp(s, "--v-tol") || !strcmp(s, "--v-nsigma");
	if (val && !v)
		return an_err(err, "%s needs a value", s);
	if (!strcmp(s, "--prominence")) {
		if (parse_double(v, &o->track.prominence) ||
		    o->track.prominence < 0)
			return an_err(err,
				      "--prominence needs a number >= 0, not "
				      "'%s'",
				      v);
	} else if (!strcmp(s, "--gate")) {
		char buf[128], *c;
		snprintf(buf, sizeof buf, "%s", v);
		c = strchr(buf, ':');
		if (c)
			*c = 0;
		if (!c || parse_double(buf, &o->track.gate_bonds) ||
		    parse_double(c + 1, &o->track.gate_speed) ||
		    o->track.gate_bonds < 0 || o->track.gate_speed < 0)
			return an_err(err,
				      "--gate takes BONDS:SPEED, both >= 0, "
				      "not '%s'",
				      v);
	} else if (!strcmp(s, "--v-tol")) {
		if (parse_double(v, &o->chi.tol) || !(o->chi.tol >= 0))
			return an_err(err,
				      "--v-tol needs a number >= 0, not '%s'",
				      v);
	} else if (!strcmp(s, "--v-nsigma")) {
		if (parse_double(v, &o->chi.nsigma) || !(o->chi.nsigma >= 0))
			return an_err(err,
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
/* --- */

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
		double x;
		int po;
#define NEED                                                             \
	do {                                                             \
		if (!v)                                                  \
			return an_err(err, "%s needs a value", s);       \
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
				return an_err(err,
					      "--window takes T0:T1, not '%s'",
					      v);
			*c = 0;
			if (parse_double(buf, &o->t0) ||
			    parse_double(c + 1, &o->t1) || o->t0 < 0 ||
			    !(o->t1 > o->t0))
				return an_err(err,
					      "--window '%s': need 0 <= T0 < "
					      "T1, finite",
					      v);
		} else if (!strcmp(s, "--smooth")) {
			NEED;
			if (parse_double(v, &x) || x < 1 || x != floor(x) ||
			    fmod(x, 2) == 0 || x > 99)
				return an_err(err,
					      "--smooth needs an odd integer in "
					      "[1, 99], not '%s'",
					      v);
			o->peaks.smooth = (int)x;
		} else if (!strcmp(s, "--height")) {
			NEED;
			if (parse_double(v, &x) || x < 0 || x > 1)
				return an_err(err,
					      "--height needs a number in [0, "
					      "1], not '%s'",
					      v);
			o->peaks.rel_height = x;
		} else if (!strcmp(s, "--dip")) {
			NEED;
			if (parse_double(v, &x) || x < 0 || x >= 1)
				return an_err(err,
					      "--dip needs a number in [0, 1), "
					      "not '%s'",
					      v);
			o->peaks.min_dip = x;
		} else if (!strcmp(s, "--floor")) {
			NEED;
			if (parse_double(v, &x) || x < 0)
				return an_err(err,
					      "--floor needs a number >= 0, not "
					      "'%s'",
					      v);
			o->peaks.floor = x;
		} else if (!strcmp(s, "--no-refine")) {
			o->peaks.refine = 0;
		} else if (!strcmp(s, "--tol")) {
			NEED;
			if (parse_double(v, &o->tol) || !(o->tol > 0))
				return an_err(err,
					      "--tol needs a number > 0, not "
					      "'%s'",
					      v);
		/* --- tracker and chi convergence (post_option) --- */
		} else if ((po = post_option(s, v, o, err)) != 0) {
			if (po < 0)
				return -1;
			i += po > 1;
		/* --- */
		} else if (!strcmp(s, "--thermal") ||
			   !strcmp(s, "--thermal-spec") || !strcmp(s, "-t") ||
			   !strcmp(s, "--threads")) {
			/* the options of the former table computation */
			return an_err(err,
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
		} else if (!strcmp(s, "-n") || !strcmp(s, "--no-write")) {
			o->no_write = 1;
		} else if (!strcmp(s, "-f") || !strcmp(s, "--force")) {
			o->force = 1;
		} else if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) {
			o->quiet = 1;
		} else if (s[0] == '-' && s[1]) {
			return an_err(err, "unknown option '%s'", s);
		} else if (!o->path) {
			o->path = s;
		} else {
			return an_err(err, "one archive only ('%s' and '%s')",
				      o->path, s);
		}
#undef NEED
	}
	if (!o->help && !o->path)
		return an_err(err, "no archive given");
	o->track.peaks = o->peaks;
	return 0;
}

/* ---- HDF5 helpers ---- */

/* Reads dataset `path` (n0 x n1 x ... of `count` elements of mtype) into a
 * new buffer.  Returns 0, 1 if the dataset does not exist, -1 on error. */
static int read_ds(hid_t f, const char *path, hid_t mtype, size_t esize,
		   size_t count, void **out, char *err)
{
	hid_t d = -1, sp = -1;
	int rc = -1;
	*out = NULL;
	if (H5Lexists(f, path, H5P_DEFAULT) <= 0)
		return 1;
	d = H5Dopen2(f, path, H5P_DEFAULT);
	if (d < 0) {
		an_err(err, "cannot open dataset %s", path);
		goto out;
	}
	sp = H5Dget_space(d);
	if (sp < 0 || (size_t)H5Sget_simple_extent_npoints(sp) != count) {
		an_err(err, "dataset %s: expected %zu values", path, count);
		goto out;
	}
	*out = malloc(count * esize + 1);
	if (!*out) {
		an_err(err, "out of memory reading %s", path);
		goto out;
	}
	if (H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
		an_err(err, "cannot read dataset %s", path);
		free(*out);
		*out = NULL;
		goto out;
	}
	rc = 0;
out:
	if (sp >= 0)
		H5Sclose(sp);
	if (d >= 0)
		H5Dclose(d);
	return rc;
}

static int read_doubles(hid_t f, const char *path, size_t count, double **out,
			char *err)
{
	return read_ds(f, path, H5T_NATIVE_DOUBLE, sizeof(double), count,
		       (void **)out, err);
}

/* Writes a new dataset name in group g: rank dims, memory type mtype, file
 * type ftype; optional attributes units and index0. */
static int write_ds(hid_t g, const char *name, int rank, const hsize_t *dims,
		    hid_t ftype, hid_t mtype, const void *data,
		    const char *units, const char *index0)
{
	hid_t sp = H5Screate_simple(rank, dims, NULL), d = -1;
	int rc = -1;
	if (sp < 0)
		goto out;
	d = H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT,
		       H5P_DEFAULT);
	if (d < 0 || H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
		goto out;
	if (units && h5x_attr_str(d, "units", units))
		goto out;
	if (index0 && h5x_attr_str(d, "index0", index0))
		goto out;
	rc = 0;
out:
	if (d >= 0)
		H5Dclose(d);
	if (sp >= 0)
		H5Sclose(sp);
	return rc;
}

static int write_dbl(hid_t g, const char *name, int rank, const hsize_t *dims,
		     const double *data, const char *units, const char *index0)
{
	return write_ds(g, name, rank, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
			data, units, index0);
}

/* ---- compound types of the tables ---- */


static hid_t lc_type(void)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(lc_row_t)),
	      s = h5x_str_type(AN_MSGLEN);
	int ok = t >= 0 && s >= 0;
	H5X_INS(t, ok, lc_row_t, point_id, H5T_NATIVE_INT32);
	H5X_INS(t, ok, lc_row_t, state, H5T_NATIVE_INT8);
	H5X_INS(t, ok, lc_row_t, L, H5T_NATIVE_INT32);
	H5X_INS(t, ok, lc_row_t, chi_max, H5T_NATIVE_INT32);
	H5X_INS(t, ok, lc_row_t, delta_left, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, lc_row_t, delta_right, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, lc_row_t, rows, H5T_NATIVE_INT32);
	H5X_INS(t, ok, lc_row_t, rows_found, H5T_NATIVE_INT32);
	H5X_INS(t, ok, lc_row_t, v_right, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, lc_row_t, v_right_sd, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, lc_row_t, c_right, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, lc_row_t, v_left, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, lc_row_t, v_left_sd, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, lc_row_t, c_left, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, lc_row_t, ok, H5T_NATIVE_INT8);
	H5X_INS(t, ok, lc_row_t, message, s);
	if (s >= 0)
		H5Tclose(s);
	if (!ok && t >= 0) {
		H5Tclose(t);
		t = -1;
	}
	return t;
}

static hid_t vf_type(void)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(vf_row_t)),
	      s = h5x_str_type(AN_MSGLEN);
	int ok = t >= 0 && s >= 0;
	H5X_INS(t, ok, vf_row_t, group, H5T_NATIVE_INT32);
	H5X_INS(t, ok, vf_row_t, state, H5T_NATIVE_INT8);
	H5X_INS(t, ok, vf_row_t, L, H5T_NATIVE_INT32);
	H5X_INS(t, ok, vf_row_t, order, H5T_NATIVE_INT32);
	H5X_INS(t, ok, vf_row_t, chi_max, H5T_NATIVE_INT32);
	H5X_INS(t, ok, vf_row_t, J, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, vf_row_t, delta_left, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, vf_row_t, dt, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, vf_row_t, t_max, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, vf_row_t, measure_every, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, vf_row_t, cutoff, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, vf_row_t, npoints, H5T_NATIVE_INT32);
	H5X_INS(t, ok, vf_row_t, point_ids, s);
	H5X_INS(t, ok, vf_row_t, A, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, vf_row_t, A_sd, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, vf_row_t, B, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, vf_row_t, B_sd, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, vf_row_t, cov, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, vf_row_t, A_w, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, vf_row_t, A_w_sd, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, vf_row_t, B_w, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, vf_row_t, B_w_sd, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, vf_row_t, cov_w, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, vf_row_t, ok, H5T_NATIVE_INT8);
	H5X_INS(t, ok, vf_row_t, message, s);
	if (s >= 0)
		H5Tclose(s);
	if (!ok && t >= 0) {
		H5Tclose(t);
		t = -1;
	}
	return t;
}

static hid_t cv_type(void)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(cv_row_t));
	int ok = t >= 0;
	H5X_INS(t, ok, cv_row_t, point_id, H5T_NATIVE_INT32);
	H5X_INS(t, ok, cv_row_t, ref_point_id, H5T_NATIVE_INT32);
	H5X_INS(t, ok, cv_row_t, chi_max, H5T_NATIVE_INT32);
	H5X_INS(t, ok, cv_row_t, ref_chi_max, H5T_NATIVE_INT32);
	H5X_INS(t, ok, cv_row_t, tol, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, cv_row_t, t_energy, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, cv_row_t, t_energy_current, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, cv_row_t, t_sz, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, cv_row_t, t_spin_current, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, cv_row_t, t_entropy, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, cv_row_t, t_all, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, cv_row_t, full, H5T_NATIVE_INT8);
	H5X_INS(t, ok, cv_row_t, max_diff, H5T_NATIVE_DOUBLE);
	if (!ok && t >= 0) {
		H5Tclose(t);
		t = -1;
	}
	return t;
}

static hid_t th_type(void)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(th_row_t)),
	      s = h5x_str_type(AN_MSGLEN);
	int ok = t >= 0 && s >= 0;
	H5X_INS(t, ok, th_row_t, point_id, H5T_NATIVE_INT32);
	H5X_INS(t, ok, th_row_t, with_mu, H5T_NATIVE_INT8);
	H5X_INS(t, ok, th_row_t, with_distance, H5T_NATIVE_INT8);
	H5X_INS(t, ok, th_row_t, values, H5T_NATIVE_INT32);
	H5X_INS(t, ok, th_row_t, finite, H5T_NATIVE_INT32);
	H5X_INS(t, ok, th_row_t, beyond_cold, H5T_NATIVE_INT32);
	H5X_INS(t, ok, th_row_t, beyond_hot, H5T_NATIVE_INT32);
	H5X_INS(t, ok, th_row_t, no_solution, H5T_NATIVE_INT32);
	H5X_INS(t, ok, th_row_t, d_max, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, th_row_t, message, s);
	if (s >= 0)
		H5Tclose(s);
	if (!ok && t >= 0) {
		H5Tclose(t);
		t = -1;
	}
	return t;
}

static int write_table(hid_t g, const char *name, hid_t t, size_t n,
		       const void *rows)
{
	hsize_t dim = n;
	return write_ds(g, name, 1, &dim, t, t, rows, NULL, NULL);
}

/* ---- the light cone ---- */

static const char *state_str(int s)
{
	return s == SPEC_STATE_GROUND ? "ground_state"
	       : s == SPEC_STATE_DOMAIN_WALL ? "domain_wall"
					     : "?";
}

/* --- the tracker's rows of a point (post/track.h) into *tr; NULL with
 * --no-track (fit_peaks reads every row on its own).  1: the rows cannot be
 * tracked (the reason in q->lc.message), -1: out of memory (err) --- */
static int track_rows(const double *je, pt_t *q, const an_opts_t *o,
		      track_row_t **tr, int *restarts, char *err)
{
	char ferr[EU_ERRLEN];
	int L = q->p->L;
	*tr = NULL;
	if (o->no_track)
		return 0;
	*tr = malloc((size_t)q->n * sizeof **tr);
	if (!*tr)
		return an_err(err, "out of memory");
	if (track_profiles(je, q->n, L - 1, -L / 2 + 1, q->time, &o->track, *tr,
			   restarts, ferr)) {
		msg(q->lc.message, AN_MSGLEN, "%s", ferr);
		return 1;
	}
	return 0;
}
/* --- */

/* Maxima at every written row, then the lines over the window. */
static int lightcone_point(hid_t f, pt_t *q, const an_opts_t *o, char *err)
{
	const archive_point_row_t *p = q->p;
	lc_row_t *r = &q->lc;
	char path[64];
	double *je = NULL, *tw = NULL, *yr = NULL, *yl = NULL;
	track_row_t *tr = NULL;
	int L = p->L, nb = L - 1, rc = -1, m = 0;
	double tlast = -INFINITY;
	fit_line_t fr, fl;
	char ferr[EU_ERRLEN];

	memset(r, 0, sizeof *r);
	r->point_id = p->id;
	r->state = p->state;
	r->L = L;
	r->chi_max = p->chi_max;
	r->delta_left = p->delta_left;
	r->delta_right = p->delta_right;
	r->v_right = r->v_right_sd = r->c_right = NAN;
	r->v_left = r->v_left_sd = r->c_left = NAN;
	snprintf(path, sizeof path, "/points/%d/energy_current", p->id);
	int e = read_doubles(f, path, (size_t)q->n * nb, &je, err);
	if (e < 0)
		goto out;
	if (e == 1) {
		msg(r->message, AN_MSGLEN, "energy_current not measured");
		rc = 0;
		goto out;
	}
	q->has_je = 1;
	if (!q->nw) {
		msg(r->message, AN_MSGLEN, "no rows measured (the point is %s%s%s)",
		    archive_state_name(q->st->state),
		    q->st->message[0] ? ": " : "", q->st->message);
		rc = 0;
		goto out;
	}
	q->n_left = malloc((size_t)q->n * sizeof *q->n_left);
	q->n_right = malloc((size_t)q->n * sizeof *q->n_right);
	q->found = malloc((size_t)q->n);
	tw = malloc((size_t)q->n * sizeof *tw);
	yr = malloc((size_t)q->n * sizeof *yr);
	yl = malloc((size_t)q->n * sizeof *yl);
	if (!q->n_left || !q->n_right || !q->found || !tw || !yr || !yl) {
		an_err(err, "out of memory");
		goto out;
	}
	/* --- the maxima followed in time (post/track.h) --- */
	int restarts = 0;
	e = track_rows(je, q, o, &tr, &restarts, err);
	if (e) {
		rc = e > 0 ? 0 : -1; /* > 0: the reason is in the message */
		goto out;
	}
	/* --- */
	for (int k = 0; k < q->n; k++) {
		fit_peaks_t pk;
		q->n_left[k] = q->n_right[k] = NAN;
		q->found[k] = -1; /* unwritten row */
		if (!isfinite(q->time[k]))
			continue;
		if (tr) {
			pk.n_left = tr[k].n_left;
			pk.n_right = tr[k].n_right;
			pk.found = tr[k].found;
		} else if (fit_peaks(je + (size_t)k * nb, nb, -L / 2 + 1,
				     &o->peaks, &pk, ferr)) {
			msg(r->message, AN_MSGLEN, "t = %g: %s", q->time[k],
			    ferr);
			rc = 0;
			goto out;
		}
		q->n_left[k] = pk.n_left;
		q->n_right[k] = pk.n_right;
		q->found[k] = (int8_t)pk.found;
		tlast = fmax(tlast, q->time[k]);
		if (q->time[k] >= o->t0 - TIME_EPS &&
		    q->time[k] <= o->t1 + TIME_EPS) {
			tw[m] = q->time[k];
			yr[m] = pk.n_right;
			yl[m] = pk.n_left;
			r->rows_found += pk.found;
			m++;
		}
	}
	r->rows = m;
	rc = 0;
	if (tlast < o->t1 - TIME_EPS) {
		msg(r->message, AN_MSGLEN,
		    "the window %g:%g is outside the data: the point reaches "
		    "t = %g",
		    o->t0, o->t1, isfinite(tlast) ? tlast : NAN);
		goto out;
	}
	if (fit_line(tw, yr, NULL, m, &fr, ferr) ||
	    fit_line(tw, yl, NULL, m, &fl, ferr)) {
		msg(r->message, AN_MSGLEN, "window %g:%g (%d time%s): %s",
		    o->t0, o->t1, m, m == 1 ? "" : "s", ferr);
		goto out;
	}
	r->v_right = fr.slope;
	r->v_right_sd = fr.slope_sd;
	r->c_right = fr.intercept;
	r->v_left = fl.slope;
	r->v_left_sd = fl.slope_sd;
	r->c_left = fl.intercept;
	r->ok = 1;
	/* fitted, but say so when every row had one maximum: v' = 0 then
	 * only means no slow region has formed (yet) in the window */
	if (!r->rows_found)
		msg(r->message, AN_MSGLEN,
		    "one maximum in every row of the window: n' = 0 "
		    "(no slow region around the junction before t = %g)",
		    o->t1);
	if (restarts) {
		size_t l = strlen(r->message);
		snprintf(r->message + l, AN_MSGLEN - l,
			 "%strack of the maxima restarted %d time%s",
			 l ? "; " : "", restarts, restarts == 1 ? "" : "s");
	}
out:
	free(tr);
	free(je);
	free(tw);
	free(yr);
	free(yl);
	return rc;
}

/* Two points belong to one v'_R(Delta) group if every parameter but
 * delta_right (and gamma_right) is equal. */
static int same_group(const archive_point_row_t *a,
		      const archive_point_row_t *b)
{
	return a->L == b->L && a->J == b->J && a->delta_left == b->delta_left &&
	       a->state == b->state && a->dt == b->dt &&
	       a->t_max == b->t_max && a->order == b->order &&
	       a->measure_every == b->measure_every &&
	       a->chi_max == b->chi_max && a->cutoff == b->cutoff &&
	       a->measure == b->measure;
}

/* Same but chi_max (convergence pairs). */
static int same_but_chi(const archive_point_row_t *a,
			const archive_point_row_t *b)
{
	return a->L == b->L && a->J == b->J && a->delta_left == b->delta_left &&
	       a->delta_right == b->delta_right &&
	       a->gamma_right == b->gamma_right && a->state == b->state &&
	       a->dt == b->dt && a->t_max == b->t_max &&
	       a->order == b->order && a->measure_every == b->measure_every &&
	       a->cutoff == b->cutoff && a->measure == b->measure;
}

static int velocity_groups(pt_t *pts, int np, vf_row_t **out, int *nout,
			   char *err)
{
	int *gid = malloc((size_t)np * sizeof *gid), ng = 0, rc = -1;
	vf_row_t *rows = NULL;
	double *x = malloc((size_t)np * sizeof *x),
	       *y = malloc((size_t)np * sizeof *y),
	       *s = malloc((size_t)np * sizeof *s);

	*out = NULL;
	*nout = 0;
	if (!gid || !x || !y || !s) {
		an_err(err, "out of memory");
		goto out;
	}
	for (int i = 0; i < np; i++) {
		gid[i] = -1;
		if (!pts[i].has_je)
			continue;
		for (int j = 0; j < i && gid[i] < 0; j++)
			if (gid[j] >= 0 && same_group(pts[i].p, pts[j].p))
				gid[i] = gid[j];
		if (gid[i] < 0)
			gid[i] = ng++;
	}
	rows = calloc(ng ? (size_t)ng : 1, sizeof *rows);
	if (!rows) {
		an_err(err, "out of memory");
		goto out;
	}
	for (int g = 0; g < ng; g++) {
		vf_row_t *r = &rows[g];
		int m = 0, first = -1, off = 0, excluded = 0, dup = 0;
		fit_line_t f, fw;
		char ferr[EU_ERRLEN];
		r->group = g;
		r->A = r->A_sd = r->B = r->B_sd = r->cov = NAN;
		r->A_w = r->A_w_sd = r->B_w = r->B_w_sd = r->cov_w = NAN;
		for (int i = 0; i < np; i++) {
			if (gid[i] != g)
				continue;
			const archive_point_row_t *p = pts[i].p;
			if (first < 0) {
				first = i;
				r->state = p->state;
				r->L = p->L;
				r->order = p->order;
				r->chi_max = p->chi_max;
				r->J = p->J;
				r->delta_left = p->delta_left;
				r->dt = p->dt;
				r->t_max = p->t_max;
				r->measure_every = p->measure_every;
				r->cutoff = p->cutoff;
			}
			r->npoints++;
			if (off < AN_MSGLEN - 12)
				off += snprintf(r->point_ids + off,
						(size_t)(AN_MSGLEN - off),
						"%s%d", off ? "," : "", p->id);
			if (!pts[i].lc.ok) {
				excluded++;
				continue;
			}
			for (int k = 0; k < m; k++)
				dup |= x[k] == p->delta_right;
			x[m] = p->delta_right;
			y[m] = pts[i].lc.v_right;
			s[m] = pts[i].lc.v_right_sd;
			m++;
		}
		if (r->npoints < 2) {
			msg(r->message, AN_MSGLEN,
			    "one point: no v'_R(Delta) fit");
			continue;
		}
		if (dup) {
			msg(r->message, AN_MSGLEN,
			    "two points with the same delta_right");
			continue;
		}
		if (fit_line(x, y, NULL, m, &f, ferr)) {
			msg(r->message, AN_MSGLEN,
			    "%d of %d points have v'_R: %s", m, r->npoints,
			    ferr);
			continue;
		}
		r->A = f.slope;
		r->A_sd = f.slope_sd;
		r->B = f.intercept;
		r->B_sd = f.intercept_sd;
		r->cov = f.cov;
		r->ok = 1;
		int zero = 0;
		for (int k = 0; k < m; k++)
			zero += !(s[k] > 0);
		if (zero) {
			msg(r->message, AN_MSGLEN,
			    "no weighted fit: %d point%s with sd(v'_R) = 0",
			    zero, zero == 1 ? "" : "s");
		} else if (!fit_line(x, y, s, m, &fw, ferr)) {
			r->A_w = fw.slope;
			r->A_w_sd = fw.slope_sd;
			r->B_w = fw.intercept;
			r->B_w_sd = fw.intercept_sd;
			r->cov_w = fw.cov;
		} else {
			msg(r->message, AN_MSGLEN, "weighted fit: %s", ferr);
		}
		if (excluded) {
			size_t l = strlen(r->message);
			snprintf(r->message + l, AN_MSGLEN - l,
				 "%s%d point%s without v'_R left out",
				 l ? "; " : "", excluded,
				 excluded == 1 ? "" : "s");
		}
	}
	*out = rows;
	*nout = ng;
	rows = NULL;
	rc = 0;
out:
	free(rows);
	free(gid);
	free(x);
	free(y);
	free(s);
	return rc;
}

/* --- the velocities' convergence in chi_max (post/chiconv.h): the
 * points with an energy current, their ladders, verdicts and fits --- */
typedef struct {
	chiconv_point_t *in;
	chiconv_ladder_t *lad;
	chiconv_fit_t *fit;
	int nin, nlad, nfit;
} chi_t;

static int chi_verdicts(const pt_t *pts, int np, const an_opts_t *o,
			chi_t *c, char *err)
{
	int nfail = 0;
	memset(c, 0, sizeof *c);
	c->in = calloc(np ? (size_t)np : 1, sizeof *c->in);
	if (!c->in)
		return an_err(err, "out of memory");
	for (int i = 0; i < np; i++) {
		const pt_t *q = &pts[i];
		if (!q->has_je)
			continue;
		chiconv_point_t *x = &c->in[c->nin++];
		x->p = q->p;
		x->has_v = q->lc.ok;
		x->v_right = q->lc.v_right;
		x->v_right_sd = q->lc.v_right_sd;
		x->v_left = q->lc.v_left;
		x->v_left_sd = q->lc.v_left_sd;
		x->why = q->lc.message;
	}
	if (chiconv_ladders(c->in, c->nin, &o->chi, &c->lad, &c->nlad, err) ||
	    chiconv_fits(c->in, c->lad, c->nlad, &o->chi, &c->fit, &c->nfit,
			 &nfail, err))
		return -1;
	return 0;
}

static void chi_free(chi_t *c)
{
	free(c->in);
	free(c->lad);
	free(c->fit);
}

/* the tables and the tracker's options under /analysis */
static int chi_write(hid_t f, const an_opts_t *o, const chi_t *c, char *err)
{
	hid_t an = H5Gopen2(f, "/analysis", H5P_DEFAULT);
	int rc = an < 0 ? an_err(err, "cannot open /analysis") : 0;
	static const char *const attrs[] = {"track", "prominence",
					    "gate_bonds", "gate_speed"};
	for (size_t k = 0; !rc && k < sizeof attrs / sizeof *attrs; k++)
		if (H5Aexists(an, attrs[k]) > 0)
			H5Adelete(an, attrs[k]);
	if (!rc && (h5x_attr_int(an, "track", !o->no_track) ||
		    h5x_attr_dbl(an, "prominence", o->track.prominence) ||
		    h5x_attr_dbl(an, "gate_bonds", o->track.gate_bonds) ||
		    h5x_attr_dbl(an, "gate_speed", o->track.gate_speed)))
		rc = an_err(err, "cannot write the tracker's attributes");
	if (!rc)
		rc = chiconv_write(an, &o->chi, c->lad, c->nlad, c->fit,
				   c->nfit, err);
	if (an >= 0)
		H5Gclose(an);
	return rc;
}
/* --- */

/* ---- convergence ---- */

static int convergence(hid_t f, pt_t *pts, int np, double tol, cv_row_t **out,
		       int *nout, char *err)
{
	cv_row_t *rows = calloc(np ? (size_t)np : 1, sizeof *rows);
	int n = 0, rc = -1;

	*out = NULL;
	*nout = 0;
	if (!rows)
		return an_err(err, "out of memory");
	for (int i = 0; i < np; i++) {
		const archive_point_row_t *p = pts[i].p;
		int ref = -1;
		for (int j = 0; j < np; j++)
			if (pts[j].p->chi_max > p->chi_max &&
			    same_but_chi(p, pts[j].p) &&
			    (ref < 0 || pts[j].p->chi_max < pts[ref].p->chi_max))
				ref = j;
		if (ref < 0 || pts[i].nw == 0 || pts[ref].nw == 0)
			continue;
		cv_row_t *r = &rows[n++];
		double *tv[N_CONV] = {&r->t_energy, &r->t_energy_current,
				      &r->t_sz, &r->t_spin_current,
				      &r->t_entropy};
		r->point_id = p->id;
		r->ref_point_id = pts[ref].p->id;
		r->chi_max = p->chi_max;
		r->ref_chi_max = pts[ref].p->chi_max;
		r->tol = tol;
		r->t_all = INFINITY;
		r->full = 1;
		r->max_diff = 0;
		int nrow = pts[i].n < pts[ref].n ? pts[i].n : pts[ref].n;
		int any = 0;
		for (int k = 0; k < N_CONV; k++) {
			char pa[80], pb[80];
			double *a = NULL, *b = NULL, t, md;
			int full, cols = k == 2 ? p->L : p->L - 1, ea, eb;
			*tv[k] = NAN;
			snprintf(pa, sizeof pa, "/points/%d/%s", p->id,
				 conv_ds[k]);
			snprintf(pb, sizeof pb, "/points/%d/%s",
				 pts[ref].p->id, conv_ds[k]);
			ea = read_doubles(f, pa, (size_t)pts[i].n * cols, &a,
					  err);
			eb = ea ? 1
				: read_doubles(f, pb,
					       (size_t)pts[ref].n * cols, &b,
					       err);
			if (ea < 0 || eb < 0) {
				free(a);
				free(b);
				goto out;
			}
			if (ea == 0 && eb == 0 &&
			    !fit_agree_time(a, b, nrow, cols, pts[i].time,
					    tol, &t, &full, &md, err)) {
				*tv[k] = t;
				any = 1;
				r->t_all = isnan(t) || isnan(r->t_all)
						   ? NAN
						   : fmin(r->t_all, t);
				r->full &= (int8_t)full;
				r->max_diff = fmax(r->max_diff, md);
			}
			free(a);
			free(b);
		}
		if (!any) {
			r->t_all = NAN;
			r->full = 0;
		}
	}
	*out = rows;
	*nout = n;
	rows = NULL;
	rc = 0;
out:
	free(rows);
	return rc;
}

/* ---- thermal tables ---- */

static void tabs_free(tab_t *t, int n)
{
	for (int k = 0; t && k < n; k++)
		thermal_table_destroy(&t[k].t);
	free(t);
}

/* Table point p (done) from /points/<id> (engine/ARCHIVE.md) into a kernel
 * table: the archive keeps rho3[j][i][a][b] = <a|rho|b>, the kernel
 * <a|rho|b> at a + 8 b. */
static int table_load(hid_t f, const archive_point_row_t *p,
		      thermal_table_t **out, char *err)
{
	hid_t cplx = h5x_complex_type(), g = -1;
	double *b = NULL, *mu = NULL, *e = NULL, *sz = NULL;
	kz_cplx *rho = NULL, *kr = NULL;
	int nb = 0, nm = 0, rc = -1;
	char path[96], kerr[KZ_ERRLEN];

	if (cplx < 0)
		return an_err(err, "HDF5: complex type");
	snprintf(path, sizeof path, "/points/%d", p->id);
	g = H5Gopen2(f, path, H5P_DEFAULT);
	if (g < 0 || h5x_attr_read_int(g, "nbeta", &nb) ||
	    h5x_attr_read_int(g, "nmu", &nm) || nb < 2 || nm < 1) {
		an_err(err, "%s: not a thermal table (attributes nbeta, nmu)",
		       path);
		goto out;
	}
	const size_t nn = (size_t)nb * nm;
#define RD(name, type, esz, cnt, ptr)                                        \
	(snprintf(path, sizeof path, "/points/%d/%s", p->id, name),          \
	 read_ds(f, path, type, esz, cnt, (void **)(ptr), err))
	int r = RD("beta", H5T_NATIVE_DOUBLE, 8, (size_t)nb, &b);
	r = r ? r : RD("mu", H5T_NATIVE_DOUBLE, 8, (size_t)nm, &mu);
	r = r ? r : RD("energy", H5T_NATIVE_DOUBLE, 8, nn, &e);
	r = r ? r : RD("sz", H5T_NATIVE_DOUBLE, 8, nn, &sz);
	r = r ? r : RD("rho3", cplx, sizeof(kz_cplx), nn * 64, &rho);
#undef RD
	if (r) {
		if (r > 0)
			an_err(err, "%s: a thermal table's dataset is missing",
			       path);
		goto out;
	}
	kr = malloc(nn * 64 * sizeof *kr);
	if (!kr) {
		an_err(err, "out of memory");
		goto out;
	}
	for (size_t node = 0; node < nn; node++)
		for (int x = 0; x < 8; x++)
			for (int y = 0; y < 8; y++)
				kr[64 * node + x + 8 * y] =
					rho[64 * node + 8 * x + y];
	thermal_params_t tp;
	thermal_params_default(&tp);
	tp.J = p->J;
	tp.delta = p->delta_right;
	tp.n_sites = p->L;
	tp.chi_max = p->chi_max;
	tp.cutoff = p->cutoff;
	tp.dtau = p->dt;
	tp.order = p->order;
	if (thermal_table_create_from(out, &tp, b, nb, mu, nm, e, sz, kr,
				      kerr)) {
		an_err(err, "thermal table (point %d, delta = %.6g): %s",
		       p->id, p->delta_right, kerr);
		goto out;
	}
	rc = 0;
out:
	if (g >= 0)
		H5Gclose(g);
	H5Tclose(cplx);
	free(b);
	free(mu);
	free(e);
	free(sz);
	free(rho);
	free(kr);
	return rc;
}

/* The archive's thermal tables: every point of state thermal_table, read
 * back if it is done.  *nout = 0 when the spec had no thermal: section. */
static int tables_read(hid_t f, const archive_summary_t *sum, tab_t **out,
		       int *nout, char *err)
{
	tab_t *t = calloc((size_t)sum->npoints + 1, sizeof *t);
	int n = 0;

	*out = NULL;
	*nout = 0;
	if (!t)
		return an_err(err, "out of memory");
	for (int k = 0; k < sum->npoints; k++) {
		const archive_point_row_t *p = &sum->points[k];
		if (p->state != SPEC_STATE_THERMAL)
			continue;
		t[n].delta = p->delta_right;
		t[n].point = p->id;
		t[n].state = sum->status[k].state;
		if (t[n].state == ARCHIVE_DONE &&
		    table_load(f, p, &t[n].t, err)) {
			tabs_free(t, n + 1);
			return -1;
		}
		n++;
	}
	*out = t;
	*nout = n;
	return 0;
}

/* The tables of the open archive f (summary sum), or, with --tables,
 * those of archive `other`, opened read-only for the purpose. */
static int tables_from(hid_t f, const archive_summary_t *sum,
		       const char *other, hid_t fapl, tab_t **out, int *nout,
		       char *err)
{
	if (!other)
		return tables_read(f, sum, out, nout, err);
	archive_summary_t *os = NULL;
	int rc = -1;
	hid_t of = -1;
	if (archive_summary_read(&os, other, err))
		goto done;
	of = H5Fopen(other, H5F_ACC_RDONLY, fapl);
	if (of < 0) {
		an_err(err, "--tables: cannot open '%s' for reading", other);
		goto done;
	}
	if ((rc = tables_read(of, os, out, nout, err)))
		goto done;
	if (!*nout) {
		an_err(err, "--tables: '%s' holds no thermal tables (its spec "
			    "has no thermal: section)", other);
		tabs_free(*out, 0);
		*out = NULL;
		rc = -1;
	}
done:
	if (of >= 0)
		H5Fclose(of);
	archive_summary_destroy(&os);
	return rc;
}

static const tab_t *table_for(const tab_t *t, int n, double delta)
{
	for (int k = 0; k < n; k++)
		if (fabs(t[k].delta - delta) <= 1e-12)
			return &t[k];
	return NULL;
}

/* Why table t cannot be used, and the command that fixes it. */
static void table_missing(const tab_t *t, const char *archive, char *buf,
			  size_t n)
{
	if (t->state == ARCHIVE_OTHER_SHARD)
		msg(buf, n,
		    "the thermal table for delta = %.6g (point %d) is in "
		    "another shard: merge the shards (kapitza merge) and fit "
		    "the merged archive",
		    t->delta, t->point);
	else
		msg(buf, n,
		    "the thermal table for delta = %.6g (point %d) is %s: "
		    "`kapitza resubmit %s` computes it",
		    t->delta, t->point, archive_state_name(t->state),
		    archive);
}

/* beta_eff, mu_eff and d_n of one point (window w = sites w, w+1, w+2;
 * the left table for windows starting at n <= 0, the paper's rule). */
static int thermal_point(hid_t f, const char *archive, pt_t *q,
			 const tab_t *tabs, int ntab, char *err)
{
	const archive_point_row_t *p = q->p;
	th_row_t *r = &q->th;
	int L = p->L, nw = L - 2, rc = -1;
	double *E = NULL, *S = NULL;
	kz_cplx *R = NULL;
	hid_t cplx = h5x_complex_type();
	const tab_t *ttl, *ttr;
	const thermal_table_t *tl, *tr;
	char path[80], ferr[EU_ERRLEN];
	double J = p->J;

	memset(r, 0, sizeof *r);
	r->point_id = p->id;
	r->d_max = NAN;
	if (cplx < 0)
		return an_err(err, "HDF5: complex type");
	ttl = table_for(tabs, ntab, p->delta_left);
	ttr = table_for(tabs, ntab, p->delta_right);
	if (!ttl || !ttr) {
		msg(r->message, AN_MSGLEN,
		    "no thermal table for delta = %.17g: the spec's "
		    "thermal.delta does not list it",
		    ttl ? p->delta_right : p->delta_left);
		rc = 0;
		goto out;
	}
	if (!ttl->t || !ttr->t) {
		table_missing(ttl->t ? ttr : ttl, archive, r->message,
			      AN_MSGLEN);
		rc = 0;
		goto out;
	}
	tl = ttl->t;
	tr = ttr->t;
	r->with_mu = p->state == SPEC_STATE_DOMAIN_WALL;
	if (r->with_mu && (thermal_table_nmu(tl) < 2 ||
			   thermal_table_nmu(tr) < 2)) {
		msg(r->message, AN_MSGLEN,
		    "domain_wall needs (beta, mu): the thermal tables have "
		    "no mu grid (thermal.mu)");
		rc = 0;
		goto out;
	}
	snprintf(path, sizeof path, "/points/%d/energy", p->id);
	int e = read_doubles(f, path, (size_t)q->n * (L - 1), &E, err);
	if (e < 0)
		goto out;
	if (e == 1) {
		msg(r->message, AN_MSGLEN, "energy not measured");
		rc = 0;
		goto out;
	}
	if (r->with_mu) {
		snprintf(path, sizeof path, "/points/%d/sz", p->id);
		e = read_doubles(f, path, (size_t)q->n * L, &S, err);
		if (e < 0)
			goto out;
		if (e == 1) {
			msg(r->message, AN_MSGLEN,
			    "magnetization not measured: no mu_eff");
			rc = 0;
			goto out;
		}
	}
	snprintf(path, sizeof path, "/points/%d/rho3", p->id);
	e = read_ds(f, path, cplx, sizeof(kz_cplx), (size_t)q->n * nw * 64,
		    (void **)&R, err);
	if (e < 0)
		goto out;
	r->with_distance = e == 0 && thermal_table_rho3(tl) &&
			   thermal_table_rho3(tr);
	size_t tot = (size_t)q->n * nw;
	q->beta = malloc(tot * sizeof *q->beta);
	q->mu = malloc(tot * sizeof *q->mu);
	q->dist = malloc(tot * sizeof *q->dist);
	if (!q->beta || !q->mu || !q->dist) {
		an_err(err, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < tot; k++)
		q->beta[k] = q->mu[k] = q->dist[k] = NAN;
	for (int k = 0; k < q->n; k++) {
		if (!isfinite(q->time[k]))
			continue;
		for (int w = 0; w < nw; w++) {
			size_t o = (size_t)k * nw + w;
			const thermal_table_t *t =
				w - L / 2 + 1 <= 0 ? tl : tr;
			/* Methods: Ebar_n = (E_n + E_{n+1}) / 2 of the
			 * window's two bonds; tables are at J = 1 */
			double eb = 0.5 * (E[(size_t)k * (L - 1) + w] +
					   E[(size_t)k * (L - 1) + w + 1]) / J;
			double b = NAN, m = 0;
			int ok = 1;
			r->values++;
			if (!isfinite(eb)) {
				r->no_solution++;
				continue;
			}
			if (r->with_mu) {
				/* s^z of the window's centre site, the
				 * site whose energy Ebar is */
				double sz = S[(size_t)k * L + w + 1];
				if (fit_beta_mu_from(t, eb, sz, &b, &m, &ok,
						     ferr)) {
					msg(r->message, AN_MSGLEN, "%s", ferr);
					rc = 0;
					goto out;
				}
			} else if (fit_beta_from_energy(t, eb, &b, ferr)) {
				msg(r->message, AN_MSGLEN, "%s", ferr);
				rc = 0;
				goto out;
			}
			if (!ok || isnan(b)) {
				r->no_solution++;
				continue;
			}
			if (isinf(b)) {
				if (b > 0)
					r->beyond_cold++;
				else
					r->beyond_hot++;
				q->beta[o] = b;
				q->mu[o] = NAN;
				continue;
			}
			r->finite++;
			q->beta[o] = b / J;
			q->mu[o] = m * J;
			if (r->with_distance) {
				kz_cplx th[64];
				double d;
				if (thermal_rho3_at(t, b, m, th, ferr) ||
				    fit_trace_distance(R + o * 64, th, &d,
						       ferr)) {
					msg(r->message, AN_MSGLEN, "%s", ferr);
					rc = 0;
					goto out;
				}
				q->dist[o] = d;
				r->d_max = isnan(r->d_max) ? d
							   : fmax(r->d_max, d);
			}
		}
	}
	q->th_done = 1;
	rc = 0;
out:
	free(E);
	free(S);
	free(R);
	H5Tclose(cplx);
	return rc;
}

/* ---- writing /analysis ---- */

static const char *window_index0 =
	"index 0 is the window of sites n = -L/2+1, -L/2+2, -L/2+3 (window w "
	"starts at site n = w - L/2 + 1; the left half's table is used for "
	"n <= 0)";

static int write_analysis(hid_t f, const an_opts_t *o, int argc, char **argv,
			  pt_t *pts, int np, const vf_row_t *vf, int nvf,
			  const cv_row_t *cv, int ncv, char *err)
{
	hid_t an = -1, g = -1, pg = -1, lt = -1, vt = -1, ct = -1, tt = -1;
	char cmd[1024], now[32];
	size_t off = 0;
	int rc = -1;
	lc_row_t *lc = NULL;
	th_row_t *th = NULL;
	int nlc = 0, nth = 0;
	time_t tnow = time(NULL);

	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tnow));
	cmd[0] = 0;
	for (int i = 0; i < argc && off < sizeof cmd; i++)
		off += (size_t)snprintf(cmd + off, sizeof cmd - off, "%s%s",
					i ? " " : "kapitza ", argv[i]);
	if (H5Lexists(f, "/analysis", H5P_DEFAULT) > 0) {
		an = H5Gopen2(f, "/analysis", H5P_DEFAULT);
		/* everything is rewritten (a /analysis/thermal of an older
		 * kapitza, which computed tables here, is left as it is) */
		static const char *const old[] = {
			"lightcone", "velocity_fit", "convergence",
			"thermal_profiles", "points"};
		for (size_t k = 0; an >= 0 && k < sizeof old / sizeof *old;
		     k++)
			if (H5Lexists(an, old[k], H5P_DEFAULT) > 0 &&
			    H5Ldelete(an, old[k], H5P_DEFAULT) < 0) {
				an_err(err, "cannot replace /analysis/%s",
				       old[k]);
				goto out;
			}
		static const char *const attrs[] = {
			"format", "format_version", "kapitza_version",
			"created", "command", "window_t0", "window_t1",
			"smooth", "rel_height", "min_dip", "floor", "refine",
			"tol"};
		for (size_t k = 0; an >= 0 && k < sizeof attrs / sizeof *attrs;
		     k++)
			if (H5Aexists(an, attrs[k]) > 0)
				H5Adelete(an, attrs[k]);
	} else {
		an = H5Gcreate2(f, "/analysis", H5P_DEFAULT, H5P_DEFAULT,
				H5P_DEFAULT);
	}
	if (an < 0 || h5x_attr_str(an, "format", AN_FORMAT) ||
	    h5x_attr_int(an, "format_version", AN_FORMAT_VERSION) ||
	    h5x_attr_str(an, "kapitza_version", KAPITZA_VERSION) ||
	    h5x_attr_str(an, "created", now) || h5x_attr_str(an, "command", cmd) ||
	    h5x_attr_dbl(an, "window_t0", o->t0) ||
	    h5x_attr_dbl(an, "window_t1", o->t1) ||
	    h5x_attr_int(an, "smooth", o->peaks.smooth) ||
	    h5x_attr_dbl(an, "rel_height", o->peaks.rel_height) ||
	    h5x_attr_dbl(an, "min_dip", o->peaks.min_dip) ||
	    h5x_attr_dbl(an, "floor", o->peaks.floor) ||
	    h5x_attr_int(an, "refine", o->peaks.refine) ||
	    h5x_attr_dbl(an, "tol", o->tol)) {
		an_err(err, "cannot write /analysis");
		goto out;
	}
	lc = calloc(np ? (size_t)np : 1, sizeof *lc);
	th = calloc(np ? (size_t)np : 1, sizeof *th);
	lt = lc_type();
	vt = vf_type();
	ct = cv_type();
	tt = th_type();
	if (!lc || !th || lt < 0 || vt < 0 || ct < 0 || tt < 0) {
		an_err(err, "out of memory (analysis tables)");
		goto out;
	}
	g = H5Gcreate2(an, "points", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (g < 0) {
		an_err(err, "cannot create /analysis/points");
		goto out;
	}
	for (int i = 0; i < np; i++) {
		pt_t *q = &pts[i];
		char name[16];
		if (q->has_je)
			lc[nlc++] = q->lc;
		if (q->th.values || q->th.message[0])
			th[nth++] = q->th;
		int with_lc = q->has_je && q->n_left; /* rows were analysed */
		if (!with_lc && !q->th_done)
			continue;
		snprintf(name, sizeof name, "%d", q->p->id);
		pg = H5Gcreate2(g, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
		hsize_t d1 = (hsize_t)q->n,
			d2[2] = {(hsize_t)q->n, (hsize_t)(q->p->L - 2)};
		int bad = pg < 0 || h5x_attr_int(pg, "L", q->p->L);
		if (!bad && with_lc)
			bad = write_dbl(pg, "n_left", 1, &d1, q->n_left,
					"bond label",
					"row k is t = /points/<id>/time[k]; "
					"0 when one maximum") ||
			      write_dbl(pg, "n_right", 1, &d1, q->n_right,
					"bond label",
					"row k is t = /points/<id>/time[k]; "
					"0 when one maximum") ||
			      write_ds(pg, "peaks_found", 1, &d1, H5T_STD_I8LE,
				       H5T_NATIVE_INT8, q->found,
				       "1 two maxima, 0 one, -1 row unwritten",
				       NULL);
		if (!bad && q->th_done) {
			bad = write_dbl(pg, "beta_eff", 2, d2, q->beta, "1/J",
					window_index0);
			if (!bad && q->th.with_mu)
				bad = write_dbl(pg, "mu_eff", 2, d2, q->mu, "J",
						window_index0);
			if (!bad && q->th.with_distance)
				bad = write_dbl(pg, "trace_distance", 2, d2,
						q->dist, "1", window_index0);
		}
		if (pg >= 0)
			H5Gclose(pg);
		pg = -1;
		if (bad) {
			an_err(err, "cannot write /analysis/points/%d",
			       q->p->id);
			goto out;
		}
	}
	if (write_table(an, "lightcone", lt, (size_t)nlc, lc) ||
	    write_table(an, "velocity_fit", vt, (size_t)nvf, vf) ||
	    write_table(an, "convergence", ct, (size_t)ncv, cv) ||
	    write_table(an, "thermal_profiles", tt, (size_t)nth, th)) {
		an_err(err, "cannot write the /analysis tables");
		goto out;
	}
	rc = 0;
out:
	free(lc);
	free(th);
	if (lt >= 0)
		H5Tclose(lt);
	if (vt >= 0)
		H5Tclose(vt);
	if (ct >= 0)
		H5Tclose(ct);
	if (tt >= 0)
		H5Tclose(tt);
	if (g >= 0)
		H5Gclose(g);
	if (an >= 0)
		H5Gclose(an);
	return rc;
}

/* ---- printing ---- */

static void print_results(const an_opts_t *o, pt_t *pts, int np,
			  const vf_row_t *vf, int nvf, const cv_row_t *cv,
			  int ncv, const tab_t *tabs, int ntab)
{
	printf("light cone: maxima of J^E (smooth %d, height >= %.2g max, "
	       "dip %.2g%s), lines over %g <= t <= %g\n",
	       o->peaks.smooth, o->peaks.rel_height, o->peaks.min_dip,
	       o->peaks.refine ? ", parabolic vertex" : "", o->t0, o->t1);
	/* --- the tracker (post/track.h) --- */
	if (o->no_track)
		printf("  (--no-track: every row read on its own)\n");
	else
		printf("  followed in time: prominence >= %g x local noise, gate "
		       "%g + %g |dt| bonds\n",
		       o->track.prominence, o->track.gate_bonds,
		       o->track.gate_speed);
	/* --- */
	printf("%5s %-12s %8s %8s %5s %5s %6s %17s %17s  %s\n", "id", "state",
	       "delta_l", "delta_r", "chi", "rows", "found", "v'_R +- sd",
	       "v'_L +- sd", "message");
	for (int i = 0; i < np; i++) {
		const lc_row_t *r = &pts[i].lc;
		if (!pts[i].has_je)
			continue;
		printf("%5d %-12s %8.5f %8.5f %5d %5d %6d %8.4f +- %-6.4f "
		       "%8.4f +- %-6.4f  %s\n",
		       r->point_id, state_str(r->state), r->delta_left,
		       r->delta_right, r->chi_max, r->rows, r->rows_found,
		       r->v_right, r->v_right_sd, r->v_left, r->v_left_sd,
		       r->message);
	}
	printf("\nv'_R = A Delta + B over points sharing every other "
	       "parameter (least squares; sd from the residuals; _w: "
	       "weighted by 1/sd(v'_R)^2)\n");
	printf("%5s %-12s %5s %5s %8s %7s %17s %17s %17s %17s  %s\n", "group",
	       "state", "L", "chi", "delta_l", "points", "A +- sd", "B +- sd",
	       "A_w +- sd", "B_w +- sd", "points / message");
	for (int g = 0; g < nvf; g++) {
		const vf_row_t *r = &vf[g];
		printf("%5d %-12s %5d %5d %8.5f %7d %8.4f +- %-6.4f %8.4f +- "
		       "%-6.4f %8.4f +- %-6.4f %8.4f +- %-6.4f  [%s] %s\n",
		       r->group, state_str(r->state), r->L, r->chi_max,
		       r->delta_left, r->npoints, r->A, r->A_sd, r->B, r->B_sd,
		       r->A_w, r->A_w_sd, r->B_w, r->B_w_sd, r->point_ids,
		       r->message);
	}
	printf("\nconvergence: time up to which each observable agrees with "
	       "the next larger chi_max within %g (absolute)\n",
	       o->tol);
	if (!ncv)
		printf("  (no points that differ only in chi_max)\n");
	else
		printf("%5s %5s %5s %5s %8s %8s %8s %8s %8s %8s %s\n", "id",
		       "chi", "ref", "chi", "energy", "J^E", "S^z", "J^M",
		       "entropy", "all", "max|diff|");
	for (int k = 0; k < ncv; k++) {
		const cv_row_t *r = &cv[k];
		printf("%5d %5d %5d %5d %8g %8g %8g %8g %8g %7g%s %.2e\n",
		       r->point_id, r->chi_max, r->ref_point_id, r->ref_chi_max,
		       r->t_energy, r->t_energy_current, r->t_sz,
		       r->t_spin_current, r->t_entropy, r->t_all,
		       r->full ? "+" : " ", r->max_diff);
	}
	if (ncv)
		printf("  (+: agree as far as both runs go; nan: not measured "
		       "or already apart at t = 0)\n");
	printf("\neffective temperature: ");
	if (!ntab) {
		printf("no thermal tables (the archive's spec has no thermal: "
		       "section; kapitza run computes its tables as items of "
		       "the sweep)\n");
		return;
	}
	printf("beta_eff (and mu_eff for domain_wall), d_n with rho3; "
	       "thermal tables:");
	for (int k = 0; k < ntab; k++)
		printf("%s delta = %.6g (point %d%s%s)", k ? "," : "",
		       tabs[k].delta, tabs[k].point, tabs[k].t ? "" : ", ",
		       tabs[k].t ? "" : archive_state_name(tabs[k].state));
	printf("\n");
	printf("%5s %-12s %8s %8s %8s %8s %8s %9s  %s\n", "id", "state",
	       "values", "finite", "+inf", "-inf", "none", "max d_n",
	       "message");
	for (int i = 0; i < np; i++) {
		const th_row_t *r = &pts[i].th;
		if (!r->values && !r->message[0])
			continue;
		printf("%5d %-12s %8d %8d %8d %8d %8d %9.3g  %s\n",
		       r->point_id, state_str(pts[i].p->state), r->values,
		       r->finite, r->beyond_cold, r->beyond_hot,
		       r->no_solution, r->d_max, r->message);
	}
}

/* ---- the command ---- */

int cmd_fit(int argc, char **argv)
{
	an_opts_t o;
	char err[AN_ERRLEN] = "";
	archive_summary_t *sum = NULL;
	pt_t *pts = NULL;
	vf_row_t *vf = NULL;
	cv_row_t *cv = NULL;
	chi_t chi = {0};
	tab_t *tabs = NULL;
	int np = 0, nvf = 0, ncv = 0, ntab = 0, status = 2;
	hid_t fapl = -1, f = -1;

	if (parse_args(argc, argv, &o, err)) {
		fprintf(stderr, "kapitza fit: %s\n", err);
		usage(stderr);
		return 2;
	}
	if (o.help) {
		usage(stdout);
		return 0;
	}
	if (archive_summary_read(&sum, o.path, err))
		goto out;
	int running = 0;
	for (int i = 0; i < sum->npoints; i++)
		running += sum->status[i].state == ARCHIVE_RUNNING;
	if (running && !o.force && !o.no_write) {
		an_err(err,
		       "%d point%s of '%s' %s marked running: a run may still "
		       "be writing the archive (kapitza status); --force if "
		       "that run is dead, or --no-write",
		       running, running == 1 ? "" : "s", o.path,
		       running == 1 ? "is" : "are");
		goto out;
	}
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (fapl < 0 || H5Pset_fapl_sec2(fapl) < 0) {
		an_err(err, "HDF5: file access properties");
		goto out;
	}
	f = H5Fopen(o.path, o.no_write ? H5F_ACC_RDONLY : H5F_ACC_RDWR, fapl);
	if (f < 0) {
		an_err(err, "cannot open '%s' %s", o.path,
		       o.no_write ? "for reading" : "for writing (read-only "
						    "file or in use?)");
		goto out;
	}
	np = sum->npoints;
	pts = calloc(np ? (size_t)np : 1, sizeof *pts);
	if (!pts) {
		an_err(err, "out of memory");
		goto out;
	}
	status = 0;
	for (int i = 0; i < np; i++) {
		pt_t *q = &pts[i];
		char path[64];
		q->p = &sum->points[i];
		q->st = &sum->status[i];
		q->n = q->p->n_measure;
		if (q->p->state == SPEC_STATE_THERMAL)
			continue; /* a thermal table: tables_read */
		snprintf(path, sizeof path, "/points/%d/time", q->p->id);
		if (read_doubles(f, path, (size_t)q->n, &q->time, err)) {
			if (!err[0])
				an_err(err, "point %d has no time dataset",
				       q->p->id);
			status = 2;
			goto out;
		}
		for (int k = 0; k < q->n; k++)
			q->nw += isfinite(q->time[k]);
		if (lightcone_point(f, q, &o, err)) {
			status = 2;
			goto out;
		}
		if (q->has_je && q->nw && !q->lc.ok)
			status = 1;
	}
	if (velocity_groups(pts, np, &vf, &nvf, err) ||
	    convergence(f, pts, np, o.tol, &cv, &ncv, err)) {
		status = 2;
		goto out;
	}
	for (int g = 0; g < nvf; g++)
		if (!vf[g].ok && vf[g].npoints >= 2)
			status = 1;
	if (chi_verdicts(pts, np, &o, &chi, err)) {
		status = 2;
		goto out;
	}
	/* the thermal tables that kapitza run farmed (here or in the
	 * --tables archive); one that is not done is said once, with the
	 * command that computes it */
	const char *tpath = o.tables ? o.tables : o.path;
	if (tables_from(f, sum, o.tables, fapl, &tabs, &ntab, err)) {
		status = 2;
		goto out;
	}
	for (int k = 0; k < ntab; k++)
		if (!tabs[k].t) {
			char why[AN_MSGLEN];
			table_missing(&tabs[k], tpath, why, sizeof why);
			fprintf(stderr, "kapitza fit: %s\n", why);
		}
	if (ntab)
		for (int i = 0; i < np; i++) {
			if (!pts[i].nw)
				continue;
			if (thermal_point(f, tpath, &pts[i], tabs, ntab,
					  err)) {
				status = 2;
				goto out;
			}
			if (pts[i].th.message[0])
				status = status ? status : 1;
		}
	if (!o.no_write &&
	    (write_analysis(f, &o, argc, argv, pts, np, vf, nvf, cv, ncv, err) ||
	     chi_write(f, &o, &chi, err))) {
		status = 2;
		goto out;
	}
	if (!o.quiet) {
		print_results(&o, pts, np, vf, nvf, cv, ncv, tabs, ntab);
		chiconv_print(stdout, chi.in, &o.chi, chi.lad, chi.nlad,
			      chi.fit, chi.nfit);
		if (!o.no_write)
			printf("\nwritten: %s:/analysis\n", o.path);
	}
out:
	if (err[0])
		fprintf(stderr, "kapitza fit: %s\n", err);
	if (f >= 0 && H5Fclose(f) < 0 && status != 2) {
		fprintf(stderr, "kapitza fit: closing '%s' failed\n", o.path);
		status = 2;
	}
	if (fapl >= 0)
		H5Pclose(fapl);
	for (int i = 0; pts && i < np; i++) {
		free(pts[i].time);
		free(pts[i].n_left);
		free(pts[i].n_right);
		free(pts[i].found);
		free(pts[i].beta);
		free(pts[i].mu);
		free(pts[i].dist);
	}
	free(pts);
	free(vf);
	free(cv);
	chi_free(&chi);
	tabs_free(tabs, ntab);
	archive_summary_destroy(&sum);
	fflush(stdout);
	return status;
}
