/* analysis: what the parts of `kapitza fit` share (engine/POSTSTAGE.md):
 * the options, the per-point state, the thermal tables read back, and the
 * algorithms, one file each --
 *   lightcone.c    maxima of the energy-current profile (followed in time
 *                  by track.h), v'_R, v'_L and
 *                  the fit v'_R = A Delta + B (paper Fig. 3c,d);
 *   convergence.c  agreement time with the next larger chi_max, and the
 *                  velocities' verdicts in chi_max (chiconv.h);
 *   thermal_eff.c  beta_eff, mu_eff and the trace distance d_n from the
 *                  archive's thermal tables (Fig. 4, Fig. 7, Methods);
 *   analysis.c     reading /points, writing /analysis, printing;
 * the command itself is engine/cmd/fit.c.  Serial, no MPI. */
#ifndef ANALYSIS_H
#define ANALYSIS_H

#include <hdf5.h>
#include <stdint.h>

#include "archive.h"
#include "chiconv.h"
#include "fit.h"
#include "schema.h"
#include "tba/tba_eos.h"
#include "thermal.h"
#include "track.h"

#define TIME_EPS 1e-9

typedef struct {
	const char *path;
	const char *tables;      /* --tables: the archive holding the tables */
	double t0, t1;           /* the fit window */
	fit_peak_opts_t peaks;
	double tol;              /* convergence tolerance (absolute) */
	int force, no_write, quiet, help;
	/* the tracker of the maxima and the velocities' convergence in
	 * chi_max (track.h, chiconv.h) */
	track_opts_t track;      /* .peaks is copied from `peaks` */
	int no_track;            /* --no-track: fit_peaks row by row */
	chiconv_opts_t chi;
	int beta_tba;            /* --beta-from tba: beta_eff from the TBA's
				  * e(beta) (kernels/tba/tba_eos.h) */
} an_opts_t;

/* One point's state through the analysis. */
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

/* ---- analysis.c: reading and writing ---- */

/* printf into a message field of the /analysis tables (SCHEMA_AN_MSGLEN
 * bytes, truncated): what a fit could not do is data, not an error. */
void an_msg(char *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Dataset `ds` of point `id` (count elements of mtype, esize bytes each)
 * into a new buffer.  Returns 0, 1 if the dataset does not exist, -1 on
 * error (err). */
int an_read_point_ds(hid_t f, int id, const char *ds, hid_t mtype,
		     size_t esize, size_t count, void **out, char *err);
/* The same for doubles. */
int an_read_doubles(hid_t f, int id, const char *ds, size_t count,
		    double **out, char *err);
/* "ground_state", "domain_wall" or "?". */
const char *an_state_str(int s);
/* "kapitza " and the subcommand's argv[0..argc) joined by spaces into buf
 * (n bytes, truncated): the `command` attribute of what a command writes. */
void an_command(char *buf, size_t n, int argc, char **argv);
/* Writes a new dataset `name` in group g: rank dims, memory type mtype,
 * file type ftype; attributes units and index0 where not NULL.  0 or -1.
 * (Also kapitza ghd's writer of /analysis/ghd.) */
int an_write_ds(hid_t g, const char *name, int rank, const hsize_t *dims,
		hid_t ftype, hid_t mtype, const void *data, const char *units,
		const char *index0);
/* Writes /analysis (replacing the previous one). */
int an_write(hid_t f, const an_opts_t *o, int argc, char **argv, pt_t *pts,
	     int np, const vf_row_t *vf, int nvf, const cv_row_t *cv, int ncv,
	     char *err);
void an_print(const an_opts_t *o, pt_t *pts, int np, const vf_row_t *vf,
	      int nvf, const cv_row_t *cv, int ncv, const tab_t *tabs,
	      int ntab);

/* ---- lightcone.c ---- */

/* Maxima at every written row of point q, then the lines over the
 * window; a fit that cannot be done is a message in q->lc, not an error. */
int lightcone_point(hid_t f, pt_t *q, const an_opts_t *o, char *err);
/* v'_R = A Delta + B over the groups of points sharing every other
 * parameter; *out new (caller frees). */
int velocity_groups(pt_t *pts, int np, vf_row_t **out, int *nout, char *err);

/* ---- convergence.c ---- */

int convergence(hid_t f, pt_t *pts, int np, double tol, cv_row_t **out,
		int *nout, char *err);

/* The velocities' convergence in chi_max (chiconv.h): the points with an
 * energy current, their ladders, verdicts and fits. */
typedef struct {
	chiconv_point_t *in;
	chiconv_ladder_t *lad;
	chiconv_fit_t *fit;
	int nin, nlad, nfit;
} chi_t;

int chi_verdicts(const pt_t *pts, int np, const an_opts_t *o, chi_t *c,
		 char *err);
void chi_free(chi_t *c);
/* The verdict tables and the tracker's options under /analysis. */
int chi_write(hid_t f, const an_opts_t *o, const chi_t *c, char *err);

/* ---- thermal_eff.c ---- */

void tabs_free(tab_t *t, int n);
/* The tables of the open archive f (summary sum), or, with --tables, those
 * of archive `other`, opened read-only for the purpose. */
int tables_from(hid_t f, const archive_summary_t *sum, const char *other,
		hid_t fapl, tab_t **out, int *nout, char *err);
/* Why table t cannot be used, and the command that fixes it. */
void table_missing(const tab_t *t, const char *archive, char *buf);
/* --beta-from tba: the TBA's e(beta) per anisotropy, built on first use;
 * a refused anisotropy (not gamma = pi/P) keeps its message. */
typedef struct {
	double delta;
	tba_eos_t *eos;          /* NULL: refused, see msg */
	char msg[SCHEMA_AN_MSGLEN];
} eos_entry_t;
typedef struct {
	eos_entry_t *e;
	int n;
} eos_cache_t;
void eos_cache_free(eos_cache_t *c);
/* beta_eff, mu_eff and d_n of point q; from the tables, or with eos (not
 * NULL) beta_eff from the TBA, compared with the tables where they exist. */
int thermal_point(hid_t f, const char *archive, pt_t *q, const tab_t *tabs,
		  int ntab, eos_cache_t *eos, char *err);

#endif
