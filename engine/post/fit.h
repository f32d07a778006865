/* fit: the numerics of the post-stage (engine/POSTSTAGE.md; the paper's
 * Fig. 3c,d, Fig. 4, Fig. 7 and Methods) -- pure functions on arrays, no
 * HDF5, no MPI, so that every one of them can be held against a closed form
 * in tests/engine/test_fit.c.  The archive side (reading /points, writing
 * /analysis) is engine/post/analysis.h, the command engine/cmd/fit.c.
 *
 *   - fit_line: least-squares line with standard deviations of its
 *     parameters (unweighted: from the residual variance; weighted: from the
 *     given standard errors);
 *   - fit_peaks: the maxima n'_L < n'_R of an energy-current profile that
 *     bound the slow region around the junction (the internal light cone);
 *   - fit_agree_time: up to which time two runs agree (convergence in
 *     chi_max);
 *   - fit_hermitian_eigvals, fit_trace_distance: ||rho1 - rho2||_1 of 8x8
 *     density matrices (eigenvalues by LAPACK's zheev);
 *   - fit_beta_from_energy, fit_beta_mu_from: thermal-table inversions with
 *     the post-stage's conventions beyond the grid (kernels/thermal.h does
 *     the interpolation).
 *
 * Every function returns 0 or a negative status and fills a caller-owned
 * message of EU_ERRLEN bytes (may be NULL). */
#ifndef FIT_H
#define FIT_H

#include "eu.h"

#include <complex.h>

#include "thermal.h"


/* ---- least squares ----------------------------------------------------- */

typedef struct {
	int n;                 /* points used */
	int weighted;          /* 1: sigma was given */
	double slope, intercept;
	double slope_sd, intercept_sd;
	double cov;            /* covariance of slope and intercept */
	double rss;            /* residual sum of squares (weighted: chi^2) */
} fit_line_t;

/* y = slope x + intercept by least squares over n points.
 * sigma == NULL: ordinary least squares; the parameters' standard deviations
 *   come from the residual variance s^2 = rss / (n - 2): var(slope) =
 *   s^2 / Sxx, var(intercept) = s^2 (1/n + xbar^2 / Sxx); needs n >= 3.
 * sigma != NULL: weights 1/sigma_i^2 (every sigma_i finite and > 0), the
 *   sigmas taken as absolute: cov = (X^T W X)^-1; needs n >= 2.
 * Errors: too few points, all x equal, non-finite input. */
int fit_line(const double *x, const double *y, const double *sigma, int n,
	     fit_line_t *f, char *err);

/* ---- the internal light cone (paper Fig. 3c) ---------------------------- */

typedef struct {
	int smooth;          /* moving-average width in bonds (odd >= 1;
	                        default 3) */
	double rel_height;   /* a maximum counts if >= rel_height * global
	                        maximum (default 0.5) */
	double floor;        /* a profile whose smoothed maximum is <= floor
	                        has no maximum (default 1e-8: the energy
	                        current of the XX domain wall vanishes
	                        identically, up to rounding) */
	double min_dip;      /* the two maxima are distinct only if the profile
	                        between them falls below (1 - min_dip) times
	                        the lower one (default 0.01) */
	int refine;          /* parabolic sub-bond position (default 1) */
} fit_peak_opts_t;

void fit_peak_opts_default(fit_peak_opts_t *o);

typedef struct {
	int found;           /* 1: two distinct maxima, 0: one (or none) */
	int nmax;            /* local maxima above the height threshold */
	double n_left;       /* bond label of the left maximum (n <= 0), 0 if
	                        !found */
	double n_right;      /* bond label of the right maximum (n >= 1), 0 if
	                        !found */
	double height_left, height_right; /* smoothed profile there (NaN if
	                        !found) */
} fit_peaks_t;

/* The maxima of the energy-current profile f[nb] over bonds, index i being
 * bond label n = n0 + i (the archive: n0 = -L/2 + 1; the junction is n = 0).
 * Rule (engine/POSTSTAGE.md): smooth with a centred moving average of
 * o->smooth bonds; local maxima at least rel_height times the global maximum;
 * the highest one among bonds n <= 0 and the highest among n >= 1; they are
 * two maxima only if the smoothed profile dips between them by min_dip;
 * otherwise "only one maximum is detected" and n_left = n_right = 0 (the
 * paper's rule).  A profile whose maximum is <= o->floor has no maximum.
 * o may be NULL (defaults).  Errors: non-finite values, nb < 3, n0 + nb - 1
 * < 1 or n0 > 0 (the profile must contain the junction), bad options. */
int fit_peaks(const double *f, int nb, int n0, const fit_peak_opts_t *o,
	      fit_peaks_t *r, char *err);

/* The rule's smoothing, shared with the tracker (track.c): s[i] = the mean
 * of f over the `smooth` bonds centred on i (smooth / 2 either side),
 * truncated at the ends.  Returns the largest s[i] (-inf if nb = 0). */
double fit_smooth(const double *f, int nb, int smooth, double *s);

/* ---- convergence in chi_max --------------------------------------------- */

/* a, b: [nrow][ncol] (row-major), time[nrow].  *t_agree = time of the last
 * row k such that every row k' <= k has max_i |a - b| <= tol; rows are used
 * while both are finite (an unwritten row ends the comparison).  *full = 1
 * if no row disagreed (the runs agree as far as both go), and *t_agree is
 * then the last compared time.  If row 0 already disagrees (or no row is
 * finite) *t_agree = NaN.  *maxdiff (may be NULL) = the largest difference
 * over the rows compared up to the first disagreeing one included. */
int fit_agree_time(const double *a, const double *b, int nrow, int ncol,
		   const double *time, double tol, double *t_agree, int *full,
		   double *maxdiff, char *err);

/* ---- trace distance ------------------------------------------------------ */

/* Eigenvalues (ascending) of the Hermitian n x n matrix a (a[i + n j] =
 * row i, column j; only the upper triangle is read), 1 <= n <= 16, by
 * LAPACK's zheev.  a is not modified. */
int fit_hermitian_eigvals(int n, const double complex *a, double *w,
			  char *err);

/* d = ||r1 - r2||_1 = sum |eigenvalues of r1 - r2| of 8x8 density matrices
 * (layout of mps_rho3: r[a + 8 b] = <a|rho|b>).  The difference is
 * Hermitised ((D + D^+)/2) first. */
int fit_trace_distance(const double complex *r1, const double complex *r2,
		       double *d, char *err);

/* ---- thermal inversions -------------------------------------------------- */

/* beta with e(beta, mu = 0) = e on table t (J = 1).  Beyond the grid the
 * answer is an infinity, not an error: e below e(beta_max) (colder than the
 * grid) gives +INFINITY, e above e(beta_min) gives -INFINITY (|Psi1> far from
 * the junction is the beta -> -/+inf limit).  NaN e is an error. */
int fit_beta_from_energy(const thermal_table_t *t, double e, double *beta,
			 char *err);

/* (beta, mu) with e(beta, mu) = e and s^z(beta, mu) = sz; *ok = 0 (and NaN
 * outputs) where no solution lies on the grid (thermal_beta_mu_from's
 * error), which is an outcome, not an error.  Needs nmu >= 2. */
int fit_beta_mu_from(const thermal_table_t *t, double e, double sz,
		     double *beta, double *mu, int *ok, char *err);

#endif
