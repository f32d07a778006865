/* fit: the numerics of the post-stage -- least-squares lines, the maxima of
 * the energy-current profile (the internal light cone of the paper's
 * Fig. 3c), agreement times between runs, trace distances of three-site
 * density matrices, thermal-table inversions.  API and conventions in fit.h;
 * the rules and why they were chosen in engine/POSTSTAGE.md. */
#include "fit.h"
#include "eu.h"
#include "kz.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- least squares ------------------------------------------------------ */

int fit_line(const double *x, const double *y, const double *sigma, int n,
	     fit_line_t *f, char *err)
{
	double S = 0, xm = 0, ym = 0, sxx = 0, sxy = 0, rss = 0;

	if (!x || !y || !f)
		return eu_err(err, "fit_line: invalid arguments");
	memset(f, 0, sizeof *f);
	if (n < (sigma ? 2 : 3))
		return eu_err(err,
			    "%d point%s: a line with standard deviations "
			    "needs at least %d",
			    n, n == 1 ? "" : "s", sigma ? 2 : 3);
	for (int i = 0; i < n; i++) {
		if (!isfinite(x[i]) || !isfinite(y[i]))
			return eu_err(err, "point %d is not finite (x = %g, "
					 "y = %g)",
				    i, x[i], y[i]);
		if (sigma && !(isfinite(sigma[i]) && sigma[i] > 0))
			return eu_err(err,
				    "point %d: standard error %g is not "
				    "finite and positive (weighted fit)",
				    i, sigma[i]);
	}
	/* weighted means, then centred sums (stable for large x) */
	for (int i = 0; i < n; i++) {
		double w = sigma ? 1 / (sigma[i] * sigma[i]) : 1;
		S += w;
		xm += w * x[i];
		ym += w * y[i];
	}
	xm /= S;
	ym /= S;
	for (int i = 0; i < n; i++) {
		double w = sigma ? 1 / (sigma[i] * sigma[i]) : 1;
		sxx += w * (x[i] - xm) * (x[i] - xm);
		sxy += w * (x[i] - xm) * (y[i] - ym);
	}
	if (!(sxx > 0))
		return eu_err(err, "all %d x values are equal (%g): no slope",
			    n, x[0]);
	f->n = n;
	f->weighted = sigma != NULL;
	f->slope = sxy / sxx;
	f->intercept = ym - f->slope * xm;
	for (int i = 0; i < n; i++) {
		double w = sigma ? 1 / (sigma[i] * sigma[i]) : 1;
		double r = y[i] - f->slope * x[i] - f->intercept;
		rss += w * r * r;
	}
	f->rss = rss;
	/* cov = s2 (X^T W X)^-1; s2 = 1 for absolute sigmas */
	double s2 = sigma ? 1 : rss / (n - 2);
	f->slope_sd = sqrt(s2 / sxx);
	f->intercept_sd = sqrt(s2 * (1 / S + xm * xm / sxx));
	f->cov = -s2 * xm / sxx;
	return 0;
}

/* ---- the internal light cone -------------------------------------------- */

void fit_peak_opts_default(fit_peak_opts_t *o)
{
	o->smooth = 3;
	o->rel_height = 0.5;
	o->floor = 1e-8;
	o->min_dip = 0.01;
	o->refine = 1;
}

/* vertex offset of the parabola through (-1, a), (0, b), (1, c), b the
 * maximum: in [-1/2, 1/2] */
static double vertex(double a, double b, double c)
{
	double den = a - 2 * b + c;
	double d = den < 0 ? 0.5 * (a - c) / den : 0;
	return d > 0.5 ? 0.5 : d < -0.5 ? -0.5 : d;
}

double fit_smooth(const double *f, int nb, int smooth, double *s)
{
	double M = -INFINITY;
	/* centred moving average, truncated at the ends */
	for (int i = 0, h = smooth / 2; i < nb; i++) {
		int a = i - h < 0 ? 0 : i - h, b = i + h >= nb ? nb - 1 : i + h;
		double acc = 0;
		for (int k = a; k <= b; k++)
			acc += f[k];
		s[i] = acc / (b - a + 1);
		M = fmax(M, s[i]);
	}
	return M;
}

int fit_peaks(const double *f, int nb, int n0, const fit_peak_opts_t *o,
	      fit_peaks_t *r, char *err)
{
	fit_peak_opts_t def;
	double *s = NULL;
	double M = -INFINITY, lo;
	int iL = -1, iR = -1, j0, rc = 0;

	if (!f || !r || nb < 3)
		return eu_err(err, "fit_peaks: invalid arguments (nb = %d)", nb);
	memset(r, 0, sizeof *r);
	r->height_left = r->height_right = NAN;
	if (!o) {
		fit_peak_opts_default(&def);
		o = &def;
	}
	if (o->smooth < 1 || o->smooth % 2 == 0 || o->smooth > nb ||
	    !(o->rel_height >= 0 && o->rel_height <= 1) ||
	    !(o->min_dip >= 0 && o->min_dip < 1) || !(o->floor >= 0))
		return eu_err(err,
			    "fit_peaks: bad options (smooth %d must be odd in "
			    "[1, %d], rel_height %g and min_dip %g in [0, 1], "
			    "floor %g >= 0)",
			    o->smooth, nb, o->rel_height, o->min_dip, o->floor);
	if (n0 > 0 || n0 + nb - 1 < 1)
		return eu_err(err,
			    "fit_peaks: bonds %d .. %d do not contain the "
			    "junction (bonds 0 and 1)",
			    n0, n0 + nb - 1);
	j0 = -n0; /* index of bond n = 0: the last bond of the left half */
	for (int i = 0; i < nb; i++)
		if (!isfinite(f[i]))
			return eu_err(err, "fit_peaks: bond %d is not finite",
				    n0 + i);
	s = malloc((size_t)nb * sizeof *s);
	if (!s)
		return eu_err(err, "fit_peaks: out of memory");
	M = fit_smooth(f, nb, o->smooth, s);
	if (!(M > o->floor))
		goto out; /* no current: no maximum */
	/* local maxima (the first bond of a plateau), highest per half */
	for (int i = 0; i < nb; i++) {
		double lft = i > 0 ? s[i - 1] : -INFINITY;
		double rgt = i < nb - 1 ? s[i + 1] : -INFINITY;
		if (!(s[i] > lft && s[i] >= rgt && s[i] >= o->rel_height * M))
			continue;
		r->nmax++;
		if (i <= j0 && (iL < 0 || s[i] > s[iL]))
			iL = i;
		if (i > j0 && (iR < 0 || s[i] > s[iR]))
			iR = i;
	}
	if (iL < 0 || iR < 0)
		goto out; /* one maximum: n'_L = n'_R = 0 */
	lo = s[iL + 1];
	for (int i = iL + 1; i < iR; i++)
		lo = fmin(lo, s[i]);
	if (!(lo <= (1 - o->min_dip) * fmin(s[iL], s[iR])))
		goto out; /* no dip between them: one broad maximum */
	r->found = 1;
	r->n_left = n0 + iL;
	r->n_right = n0 + iR;
	if (o->refine) {
		if (iL > 0 && iL < nb - 1)
			r->n_left += vertex(s[iL - 1], s[iL], s[iL + 1]);
		if (iR > 0 && iR < nb - 1)
			r->n_right += vertex(s[iR - 1], s[iR], s[iR + 1]);
	}
	r->height_left = s[iL];
	r->height_right = s[iR];
out:
	free(s);
	return rc;
}

/* ---- convergence --------------------------------------------------------- */

int fit_agree_time(const double *a, const double *b, int nrow, int ncol,
		   const double *time, double tol, double *t_agree, int *full,
		   double *maxdiff, char *err)
{
	double worst = 0;
	int k;

	if (!a || !b || !time || !t_agree || !full || nrow < 0 || ncol < 1 ||
	    !(tol >= 0))
		return eu_err(err, "fit_agree_time: invalid arguments");
	*t_agree = NAN;
	*full = 0;
	for (k = 0; k < nrow; k++) {
		double d = 0;
		int fin = isfinite(time[k]);
		for (int i = 0; i < ncol && fin; i++) {
			double x = a[(size_t)k * ncol + i],
			       y = b[(size_t)k * ncol + i];
			if (!isfinite(x) || !isfinite(y))
				fin = 0;
			else
				d = fmax(d, fabs(x - y));
		}
		if (!fin)
			break; /* an unwritten row: as far as both go */
		worst = fmax(worst, d);
		if (d > tol)
			goto out;
		*t_agree = time[k];
	}
	*full = k > 0;
out:
	if (maxdiff)
		*maxdiff = worst;
	return 0;
}

/* ---- trace distance ------------------------------------------------------ */

int fit_hermitian_eigvals(int n, const double complex *a0, double *w,
			  char *err)
{
	double complex a[256];

	if (!a0 || !w || n < 1 || n > 16)
		return eu_err(err, "fit_hermitian_eigvals: invalid arguments "
				   "(n = %d)",
			      n);
	for (int j = 0; j < n; j++)
		for (int i = 0; i <= j; i++) {
			double complex v = a0[i + n * j];
			if (!isfinite(creal(v)) || !isfinite(cimag(v)))
				return eu_err(err, "fit_hermitian_eigvals: "
						   "entry (%d, %d) is not finite",
					      i, j);
			a[i + n * j] = v;
		}
	/* LAPACK zheev (eigenvalues only, upper triangle, ascending); the
	 * strictly lower triangle is workspace */
	int info = kz_zheev('N', n, a, n, w);
	if (info)
		return eu_err(err, "fit_hermitian_eigvals: zheev failed (info "
				   "%d)",
			      (int)info);
	return 0;
}

int fit_trace_distance(const double complex *r1, const double complex *r2,
		       double *d, char *err)
{
	double complex m[64];
	double w[8], sum = 0;

	if (!r1 || !r2 || !d)
		return eu_err(err, "fit_trace_distance: invalid arguments");
	for (int j = 0; j < 8; j++)
		for (int i = 0; i < 8; i++)
			m[i + 8 * j] = 0.5 * ((r1[i + 8 * j] - r2[i + 8 * j]) +
					      conj(r1[j + 8 * i] -
						   r2[j + 8 * i]));
	if (fit_hermitian_eigvals(8, m, w, err))
		return -1;
	for (int i = 0; i < 8; i++)
		sum += fabs(w[i]);
	*d = sum;
	return 0;
}

/* ---- thermal inversions -------------------------------------------------- */

int fit_beta_from_energy(const thermal_table_t *t, double e, double *beta,
			 char *err)
{
	char kerr[KZ_ERRLEN];
	int nb, nm, j0 = -1;
	const double *mus, *E;

	if (!t || !beta)
		return eu_err(err, "fit_beta_from_energy: invalid arguments");
	*beta = NAN;
	if (!isfinite(e))
		return eu_err(err, "energy %g is not finite", e);
	nb = thermal_table_nbeta(t);
	nm = thermal_table_nmu(t);
	mus = thermal_table_mus(t);
	E = thermal_table_energy(t);
	for (int j = 0; j < nm; j++)
		if (mus[j] == 0)
			j0 = j;
	if (j0 < 0)
		return eu_err(err, "the thermal table has no mu = 0 row");
	/* e(beta) decreases: e(beta_max) is the lowest energy on the grid */
	if (e < E[nb - 1 + (size_t)nb * j0]) {
		*beta = INFINITY;
		return 0;
	}
	if (e > E[(size_t)nb * j0]) {
		*beta = -INFINITY;
		return 0;
	}
	if (thermal_beta_from_energy(t, e, beta, kerr))
		return eu_err(err, "%s", kerr);
	return 0;
}

int fit_beta_mu_from(const thermal_table_t *t, double e, double sz,
		     double *beta, double *mu, int *ok, char *err)
{
	char kerr[KZ_ERRLEN];

	if (!t || !beta || !mu || !ok)
		return eu_err(err, "fit_beta_mu_from: invalid arguments");
	*beta = *mu = NAN;
	*ok = 0;
	if (thermal_table_nmu(t) < 2)
		return eu_err(err, "the thermal table has one mu value: (beta, "
				 "mu) needs a mu grid (thermal.mu in the "
				 "spec)");
	if (!isfinite(e) || !isfinite(sz))
		return eu_err(err, "e = %g, s^z = %g are not finite", e, sz);
	if (thermal_beta_mu_from(t, e, sz, beta, mu, kerr)) {
		*beta = *mu = NAN;
		return 0;
	}
	*ok = 1;
	return 0;
}
