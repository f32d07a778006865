/* test_fit: the post-stage's numerics (engine/post/fit.c) held against closed
 * forms.
 *   1. fit_line, unweighted and weighted, against the textbook normal
 *      equations solved by Cramer's rule on raw (uncentred) sums -- a
 *      different algebra from fit.c's centred sums;
 *   2. the light cone end to end on synthetic profiles: for four Delta
 *      values, profiles whose two maxima sit at known sub-bond positions
 *      n'(t) = v t + c + eta(t) (eta a fixed zig-zag so that the standard
 *      errors are not zero), detected by fit_peaks, fitted over a window,
 *      then v'_R = A Delta + B -- slopes and standard errors must equal the
 *      closed-form values of the true positions;
 *   3. fit_peaks' rule: one maximum -> 0, 0; ripples of the XX profile
 *      (period ~3 bonds, 6% deep) are not two maxima; noise below the height
 *      threshold is ignored; errors;
 *   4. fit_agree_time on arrays with a known first disagreement;
 *   5. eigenvalues of Hermitian matrices with known spectra, trace distances
 *      with closed forms (diagonal, two pure states);
 *   6. thermal inversions: states purified at beta = 0.73 and -1.37 are
 *      inverted to 1e-6 through fit_beta_from_energy; energies beyond the
 *      grid (the ground-state energy densities of the two halves of |Psi1>,
 *      with signs) give -/+ infinity; (beta, mu) of a purified state at
 *      mu != 0 through fit_beta_mu_from. */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "synth_profile.h"
#include "fit.h"
#include "obs.h"
#include "thermal.h"

static char err[EU_ERRLEN];

/* ---- closed forms ---- */

/* y = a x + b: normal equations [S Sx; Sx Sxx] [b a]^T = [Sy Sxy]^T by
 * Cramer's rule on raw sums; unweighted sd from s^2 = rss/(n-2). */
static void cramer(const double *x, const double *y, const double *sig, int n,
		   double *a, double *b, double *sa, double *sb)
{
	double S = 0, Sx = 0, Sy = 0, Sxx = 0, Sxy = 0, rss = 0;
	for (int i = 0; i < n; i++) {
		double w = sig ? 1 / (sig[i] * sig[i]) : 1;
		S += w;
		Sx += w * x[i];
		Sy += w * y[i];
		Sxx += w * x[i] * x[i];
		Sxy += w * x[i] * y[i];
	}
	double D = S * Sxx - Sx * Sx;
	*a = (S * Sxy - Sx * Sy) / D;
	*b = (Sxx * Sy - Sx * Sxy) / D;
	for (int i = 0; i < n; i++) {
		double w = sig ? 1 / (sig[i] * sig[i]) : 1;
		rss += w * (y[i] - *a * x[i] - *b) * (y[i] - *a * x[i] - *b);
	}
	double s2 = sig ? 1 : rss / (n - 2);
	*sa = sqrt(s2 * S / D);
	*sb = sqrt(s2 * Sxx / D);
}

static void test_line(void)
{
	double x[9], y[9], s[9], a, b, sa, sb;
	fit_line_t f;
	for (int i = 0; i < 9; i++) {
		x[i] = 30 + 1.25 * i;
		y[i] = 0.93 * x[i] - 4.1 + 0.3 * sin(2.7 * i + 0.4);
		s[i] = 0.05 + 0.02 * (i % 3);
	}
	CHECK(!fit_line(x, y, NULL, 9, &f, err), "%s", err);
	cramer(x, y, NULL, 9, &a, &b, &sa, &sb);
	CHECK_CLOSE(f.slope, a, 1e-12, "OLS slope");
	CHECK_CLOSE(f.intercept, b, 1e-10, "OLS intercept");
	CHECK_CLOSE(f.slope_sd, sa, 1e-12, "OLS sd(slope)");
	CHECK_CLOSE(f.intercept_sd, sb, 1e-10, "OLS sd(intercept)");
	CHECK(f.slope_sd > 1e-3, "the data have scatter (%g)", f.slope_sd);
	CHECK(!fit_line(x, y, s, 9, &f, err), "%s", err);
	cramer(x, y, s, 9, &a, &b, &sa, &sb);
	CHECK_CLOSE(f.slope, a, 1e-12, "WLS slope");
	CHECK_CLOSE(f.intercept, b, 1e-10, "WLS intercept");
	CHECK_CLOSE(f.slope_sd, sa, 1e-12, "WLS sd(slope)");
	CHECK_CLOSE(f.intercept_sd, sb, 1e-10, "WLS sd(intercept)");
	/* exact line: zero residual, zero sd */
	for (int i = 0; i < 9; i++)
		y[i] = -2 * x[i] + 1;
	CHECK(!fit_line(x, y, NULL, 9, &f, err), "%s", err);
	CHECK_CLOSE(f.slope, -2, 1e-13, "exact slope");
	CHECK_CLOSE(f.slope_sd, 0, 1e-12, "exact line: sd 0");
	/* errors */
	err[0] = 0;
	CHECK(fit_line(x, y, NULL, 2, &f, err) && strstr(err, "at least 3"),
	      "two points unweighted: %s", err);
	CHECK(!fit_line(x, y, s, 2, &f, err), "two points weighted: %s", err);
	double xe[4] = {1, 1, 1, 1};
	CHECK(fit_line(xe, y, NULL, 4, &f, err) && strstr(err, "equal"),
	      "equal x: %s", err);
	y[3] = NAN;
	CHECK(fit_line(x, y, NULL, 9, &f, err) && strstr(err, "not finite"),
	      "NaN: %s", err);
	s[2] = 0;
	y[3] = 0;
	CHECK(fit_line(x, y, s, 9, &f, err) && strstr(err, "standard error"),
	      "sigma 0: %s", err);
}

/* ---- synthetic light cones ---- */

/* the profiles: synth_profile.h */

static void test_lightcone(void)
{
	enum { L = 160, NB = L - 1, NT = 21 };
	const double A = 1.33, B = -0.03, deltas[4] = {0.3, 0.5, 0.7071, 0.9};
	const double t0 = 30; /* the window 30:40 at measure_every 0.5 */
	double vdet[4], sdet[4], vtrue[4], strue[4];
	double f[NB];
	fit_peak_opts_t o;
	fit_peak_opts_default(&o);
	for (int d = 0; d < 4; d++) {
		double v = A * deltas[d] + B, vl = -0.7;
		double t[NT], yr[NT], yl[NT], pr[NT], pl[NT];
		for (int k = 0; k < NT; k++) {
			t[k] = t0 + 0.5 * k;
			/* a zig-zag eta, different for every Delta: the
			 * standard errors of v'_R, A and B are not zero */
			double eta = 0.23 * (((k + d) % 3) - 1) +
				     0.05 * ((k * (d + 1)) % 2);
			pr[k] = v * t[k] + 2.5 + eta;
			pl[k] = vl * t[k] - 1.5 - 0.5 * eta;
			synth_profile(f, NB, -L / 2 + 1, pl[k], pr[k], 0.11,
				      0.13);
			fit_peaks_t r;
			CHECK(!fit_peaks(f, NB, -L / 2 + 1, &o, &r, err), "%s",
			      err);
			CHECK(r.found == 1, "Delta %g t %g: two maxima",
			      deltas[d], t[k]);
			CHECK_CLOSE(r.n_right, pr[k], 1e-9, "n'_R position");
			CHECK_CLOSE(r.n_left, pl[k], 1e-9, "n'_L position");
			yr[k] = r.n_right;
			yl[k] = r.n_left;
		}
		fit_line_t fr, fl;
		double a, b, sa, sb;
		CHECK(!fit_line(t, yr, NULL, NT, &fr, err), "%s", err);
		CHECK(!fit_line(t, yl, NULL, NT, &fl, err), "%s", err);
		cramer(t, pr, NULL, NT, &a, &b, &sa, &sb); /* true positions */
		CHECK_CLOSE(fr.slope, a, 1e-9, "v'_R against the closed form");
		CHECK_CLOSE(fr.slope_sd, sa, 1e-9, "sd(v'_R), closed form");
		CHECK_CLOSE(fr.slope, v, 0.02, "v'_R near the built velocity");
		CHECK(sa > 1e-3, "sd(v'_R) = %g is not trivial", sa);
		cramer(t, pl, NULL, NT, &a, &b, &sa, &sb);
		CHECK_CLOSE(fl.slope, a, 1e-9, "v'_L against the closed form");
		CHECK_CLOSE(fl.slope_sd, sa, 1e-9, "sd(v'_L), closed form");
		vdet[d] = fr.slope;
		sdet[d] = fr.slope_sd;
		cramer(t, pr, NULL, NT, &vtrue[d], &b, &strue[d], &sb);
	}
	/* v'_R = A Delta + B over the four points */
	fit_line_t g;
	double a, b, sa, sb;
	CHECK(!fit_line(deltas, vdet, NULL, 4, &g, err), "%s", err);
	cramer(deltas, vtrue, NULL, 4, &a, &b, &sa, &sb);
	CHECK_CLOSE(g.slope, a, 1e-9, "A against the closed form");
	CHECK_CLOSE(g.intercept, b, 1e-9, "B against the closed form");
	CHECK_CLOSE(g.slope_sd, sa, 1e-9, "sd(A) against the closed form");
	CHECK_CLOSE(g.intercept_sd, sb, 1e-9, "sd(B) against the closed form");
	CHECK_CLOSE(g.slope, A, 0.05, "A near the built 1.33");
	CHECK_CLOSE(g.intercept, B, 0.05, "B near the built -0.03");
	CHECK(sa > 1e-3 && sb > 1e-3, "sd(A) = %g, sd(B) = %g not trivial", sa,
	      sb);
	printf("synthetic light cone: A = %.4f +- %.4f, B = %.4f +- %.4f\n",
	       g.slope, g.slope_sd, g.intercept, g.intercept_sd);
	CHECK(!fit_line(deltas, vdet, sdet, 4, &g, err), "%s", err);
	cramer(deltas, vtrue, strue, 4, &a, &b, &sa, &sb);
	CHECK_CLOSE(g.slope, a, 1e-8, "weighted A against the closed form");
	CHECK_CLOSE(g.slope_sd, sa, 1e-8, "weighted sd(A), closed form");
}

static void test_peaks_rule(void)
{
	enum { NB = 59 };
	const int n0 = -29; /* bonds -29 .. 29 */
	double f[NB];
	fit_peaks_t r;
	fit_peak_opts_t o;
	fit_peak_opts_default(&o);
	/* one smooth dome centred between bonds 0 and 1 (the XX profile's
	 * symmetry centre): one maximum */
	for (int i = 0; i < NB; i++) {
		double x = n0 + i - 0.5;
		f[i] = fmax(0, 0.15 * (1 - x * x / 400));
	}
	CHECK(!fit_peaks(f, NB, n0, &o, &r, err), "%s", err);
	CHECK(r.found == 0 && r.n_left == 0 && r.n_right == 0 && r.nmax == 1,
	      "dome: one maximum (found %d, nmax %d, %g %g)", r.found, r.nmax,
	      r.n_left, r.n_right);
	/* the same with the lattice ripple of the homogeneous XX chain at
	 * t ~ 7 (maxima at bonds -1 and 2, 6% deep between them): the
	 * 3-bond average removes it */
	for (int i = 0; i < NB; i++) {
		double x = n0 + i - 0.5;
		f[i] = fmax(0, 0.15 * (1 - x * x / 400)) +
		       0.006 * cos(2 * 3.14159265358979 * x / 3.0);
	}
	fit_peak_opts_t raw = o;
	raw.smooth = 1;
	CHECK(!fit_peaks(f, NB, n0, &raw, &r, err), "%s", err);
	CHECK(r.found == 1, "unsmoothed, the ripple looks like two maxima");
	CHECK(!fit_peaks(f, NB, n0, &o, &r, err), "%s", err);
	CHECK(r.found == 0 && r.n_left == 0 && r.n_right == 0,
	      "smoothed ripple: one maximum (%g %g)", r.n_left, r.n_right);
	/* two maxima but a dip below min_dip: one broad maximum */
	for (int i = 0; i < NB; i++) {
		double n = n0 + i;
		f[i] = 0.1 + 0.0004 * (fabs(n - 0.5) < 6 ? cos(n) : -36);
	}
	CHECK(!fit_peaks(f, NB, n0, &o, &r, err), "%s", err);
	CHECK(r.found == 0, "a 0.4%% dip is not two maxima");
	/* a small bump far out (below half the global maximum) is ignored;
	 * the real pair is found */
	synth_profile(f, NB, n0, -8.3, 12.2, 0.1, 0.12);
	f[2] += 0.04;
	CHECK(!fit_peaks(f, NB, n0, &o, &r, err), "%s", err);
	CHECK(r.found == 1, "pair with a side bump");
	CHECK_CLOSE(r.n_left, -8.3, 1e-9, "n'_L with a side bump");
	CHECK_CLOSE(r.n_right, 12.2, 1e-9, "n'_R with a side bump");
	o.refine = 0;
	CHECK(!fit_peaks(f, NB, n0, &o, &r, err), "%s", err);
	CHECK(r.n_left == -8 && r.n_right == 12, "integer positions %g %g",
	      r.n_left, r.n_right);
	/* no current */
	memset(f, 0, sizeof f);
	CHECK(!fit_peaks(f, NB, n0, NULL, &r, err) && r.nmax == 0 &&
		      r.found == 0,
	      "zero profile: no maximum");
	/* errors */
	f[3] = NAN;
	CHECK(fit_peaks(f, NB, n0, NULL, &r, err) && strstr(err, "finite"),
	      "NaN profile: %s", err);
	f[3] = 0;
	CHECK(fit_peaks(f, NB, 2, NULL, &r, err) && strstr(err, "junction"),
	      "profile without the junction: %s", err);
	o.smooth = 4;
	CHECK(fit_peaks(f, NB, n0, &o, &r, err) && strstr(err, "odd"),
	      "even smoothing: %s", err);
}

static void test_agree(void)
{
	enum { NR = 6, NC = 4 };
	double a[NR * NC], b[NR * NC], t[NR] = {0, 0.5, 1, 1.5, 2, NAN};
	double ta, md;
	int full;
	for (int k = 0; k < NR * NC; k++) {
		a[k] = sin(k);
		b[k] = a[k] + (k / NC >= 3 ? 2e-3 : 1e-4) * (k % 2 ? 1 : -1);
	}
	CHECK(!fit_agree_time(a, b, NR, NC, t, 1e-3, &ta, &full, &md, err),
	      "%s", err);
	CHECK(ta == 1 && !full, "first disagreement at row 3: t_agree %g", ta);
	CHECK_CLOSE(md, 2e-3, 1e-15, "max difference");
	CHECK(!fit_agree_time(a, b, NR, NC, t, 1e-2, &ta, &full, &md, err),
	      "%s", err);
	CHECK(ta == 2 && full, "agree as far as both go (NaN row 5): %g", ta);
	CHECK(!fit_agree_time(a, b, NR, NC, t, 1e-5, &ta, &full, &md, err) &&
		      isnan(ta) && !full,
	      "apart at t = 0: NaN");
}

/* ---- eigenvalues, trace distance ---- */

/* U = product of complex Givens rotations: a dense unitary */
static void unitary(double complex *U, int n, unsigned seed)
{
	for (int i = 0; i < n * n; i++)
		U[i] = (i % (n + 1)) == 0;
	for (int r = 0; r < 3 * n; r++) {
		int p = (int)((seed + 7u * r) % n), q = (int)((seed + 3u * r + 1) % n);
		if (p == q)
			q = (q + 1) % n;
		double th = 0.3 + 0.7 * r, ph = 1.1 * r + seed;
		double complex c = cos(th), s = sin(th) * cexp(I * ph);
		for (int k = 0; k < n; k++) {
			double complex x = U[k + n * p], y = U[k + n * q];
			U[k + n * p] = c * x - conj(s) * y;
			U[k + n * q] = s * x + c * y;
		}
	}
}

static void test_eig(void)
{
	double complex U[64], A[64], r1[64], r2[64];
	double lam[8] = {-1.5, -0.25, 0, 1e-3, 0.4, 0.4, 2, 3.75}, w[8], d;
	unitary(U, 8, 5);
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 8; j++) {
			double complex s = 0;
			for (int k = 0; k < 8; k++)
				s += U[i + 8 * k] * lam[k] * conj(U[j + 8 * k]);
			A[i + 8 * j] = s;
		}
	CHECK(!fit_hermitian_eigvals(8, A, w, err), "%s", err);
	for (int k = 0; k < 8; k++)
		CHECK_CLOSE(w[k], lam[k], 1e-13, "eigenvalue of U diag U^+");
	/* diagonal density matrices: d = sum |p - q| */
	memset(r1, 0, sizeof r1);
	memset(r2, 0, sizeof r2);
	double p[8] = {0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05},
	       q[8] = {0.125, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125};
	double want = 0;
	for (int k = 0; k < 8; k++) {
		r1[k + 8 * k] = p[k];
		r2[k + 8 * k] = q[k];
		want += fabs(p[k] - q[k]);
	}
	CHECK(!fit_trace_distance(r1, r2, &d, err), "%s", err);
	CHECK_CLOSE(d, want, 1e-14, "diagonal trace distance");
	/* two pure states: d = 2 sqrt(1 - |<a|b>|^2) */
	double complex va[8], vb[8], ov = 0;
	for (int k = 0; k < 8; k++) {
		va[k] = U[k + 8 * 2];
		vb[k] = (U[k + 8 * 2] + 0.7 * I * U[k + 8 * 5]) / sqrt(1.49);
	}
	for (int k = 0; k < 8; k++)
		ov += conj(va[k]) * vb[k];
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 8; j++) {
			r1[i + 8 * j] = va[i] * conj(va[j]);
			r2[i + 8 * j] = vb[i] * conj(vb[j]);
		}
	CHECK(!fit_trace_distance(r1, r2, &d, err), "%s", err);
	CHECK_CLOSE(d, 2 * sqrt(1 - creal(ov * conj(ov))), 1e-13,
		    "pure-state trace distance");
	CHECK(!fit_trace_distance(r1, r1, &d, err) && fabs(d) < 1e-15,
	      "d(rho, rho) = 0 (%g)", d);
	A[8 * 3] = NAN; /* row 0, column 3: the upper triangle is read */
	CHECK(fit_hermitian_eigvals(8, A, w, err) && strstr(err, "finite"),
	      "NaN matrix: %s", err);
}

/* ---- thermal inversions ---- */

static double centre_energy(const thermal_params_t *p, double beta, double mu,
			    double *sz)
{
	mps_t *m = NULL;
	kz_cplx rho[64];
	char kerr[KZ_ERRLEN];
	double e = NAN;
	if (thermal_purify(&m, p, beta, mu, NULL, kerr) ||
	    thermal_centre_rho3(m, rho, kerr)) {
		CHECK(0, "purify at beta %g: %s", beta, kerr);
		goto out;
	}
	e = 0.5 * (obs_rho3_bond_energy(rho, 0, p->J, p->delta) +
		   obs_rho3_bond_energy(rho, 1, p->J, p->delta));
	if (sz)
		*sz = obs_rho3_sz(rho, 1);
out:
	mps_destroy(&m);
	return e;
}

static void test_thermal(void)
{
	thermal_params_t p;
	thermal_table_t *t = NULL, *t2 = NULL;
	char kerr[KZ_ERRLEN];
	double betas[41], mu0 = 0, beta, mu, sz;
	int ok;

	thermal_params_default(&p);
	p.delta = cos(3.14159265358979323846 / 4);
	p.n_sites = 12;
	p.chi_max = 32;
	p.dtau = 0.1;
	p.threads = 2;
	for (int i = 0; i <= 40; i++)
		betas[i] = -2 + 0.1 * i;
	betas[20] = 0;
	if (thermal_table_create(&t, &p, betas, 41, &mu0, 1, kerr)) {
		CHECK(0, "table: %s", kerr);
		return;
	}
	const double targets[2] = {0.73, -1.37};
	for (int k = 0; k < 2; k++) {
		double e = centre_energy(&p, targets[k], 0, NULL);
		CHECK(!fit_beta_from_energy(t, e, &beta, err), "%s", err);
		printf("purified at beta = %+.2f: e = %.10f, inverted beta = "
		       "%+.9f\n",
		       targets[k], e, beta);
		CHECK_CLOSE(beta, targets[k], 1e-6, "inverted beta");
	}
	/* |Psi1>: the left half near the top of the XX spectrum (+|e0| of
	 * XX, 1/pi), the right half in the XXZ ground state (e0 = -0.3871
	 * for Delta = cos(pi/4), below e(beta = 2)): -inf and +inf */
	CHECK(!fit_beta_from_energy(t, 1 / 3.14159265358979, &beta, err) &&
		      beta == -INFINITY,
	      "+|e0(XX)| -> beta = -inf (%g)", beta);
	CHECK(!fit_beta_from_energy(t, -0.3871, &beta, err) &&
		      beta == INFINITY,
	      "e0(XXZ) -> beta = +inf (%g)", beta);
	CHECK(fit_beta_from_energy(t, NAN, &beta, err), "NaN energy fails");
	CHECK(fit_beta_mu_from(t, -0.1, 0.01, &beta, &mu, &ok, err) &&
		      strstr(err, "mu grid"),
	      "(beta, mu) needs a mu grid: %s", err);
	/* (beta, mu) */
	double bs[9], ms[5] = {-0.5, -0.25, 0, 0.25, 0.5};
	for (int i = 0; i < 9; i++)
		bs[i] = -1 + 0.25 * i;
	if (thermal_table_create(&t2, &p, bs, 9, ms, 5, kerr)) {
		CHECK(0, "table: %s", kerr);
		goto out;
	}
	double e = centre_energy(&p, 0.5, 0.25, &sz); /* a grid point */
	CHECK(!fit_beta_mu_from(t2, e, sz, &beta, &mu, &ok, err) && ok, "%s",
	      err);
	CHECK_CLOSE(beta, 0.5, 1e-7, "beta of (0.5, 0.25)");
	CHECK_CLOSE(mu, 0.25, 1e-6, "mu of (0.5, 0.25)");
	CHECK(!fit_beta_mu_from(t2, 0.25, 0.5, &beta, &mu, &ok, err) && !ok &&
		      isnan(beta),
	      "no solution on the grid: ok = 0, NaN");
out:
	thermal_table_destroy(&t);
	thermal_table_destroy(&t2);
}

int main(void)
{
	test_line();
	test_lightcone();
	test_peaks_rule();
	test_agree();
	test_eig();
	test_thermal();
	return check_done("test_fit");
}
