/* test_tba: the thermodynamic Bethe ansatz, the GHD of the partitioning
 * protocol and the junction model (kernels/tba/) held against exact answers:
 *   - P = 2 (free fermions): e(beta) and s^z(beta, h) against the
 *     free-fermion integrals on beta in [-10, 10]; GHD profiles of the
 *     state |Psi1> and of the domain wall on the homogeneous XX chain against
 *     their closed forms;
 *   - ground state: e0 at gamma = pi/3 (-3/8) and pi/4 (Takahashi's integral
 *     by independent quadrature), the dressed velocity against its closed
 *     form (pi sin g / 2g) tanh(pi lam / g) and its maximum; the finite-beta
 *     TBA approaches e0 as the c = 1 law pi T^2 / (6 v);
 *   - high temperature: e = -beta (2 + Delta^2)/16 - (3 Delta / 64) beta^2
 *     + O(beta^3) (derivation below) at beta = +-0.01;
 *   - the purification tables of kernels/thermal.c at gamma = pi/4, pi/3;
 *   - the c = 1 law pi T^2 / (6 v) of the thermal TBA at large beta;
 *   - the junction model (XX top of band | XXZ pi/4 ground state): equal
 *     edge currents, Fourier's law, J decreasing in R and vanishing as R
 *     grows, energy conservation of the profiles on both halves;
 *   - the interpolated equation of state e(beta) (tba_eos.h) against direct
 *     TBA solves, its inversion, and the anisotropies it refuses. */
#include "check.h"

#include "tba/ghd.h"
#include "tba/junction.h"
#include "tba/tba.h"
#include "tba/tba_eos.h"
#include "thermal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PI 3.14159265358979323846

static char err[KZ_ERRLEN];

static double fermi(double x)
{
	return x > 0 ? exp(-x) / (1 + exp(-x)) : 1 / (1 + exp(x));
}

/* Free fermions: h_n = (1/2)(c_n^dag c_{n+1} + h.c.) after Jordan-Wigner,
 * eps_k = cos k, K = H - h Sz = sum_k (cos k - h) n_k + const, so per bond
 * e = (1/2pi) int cos k f(beta (cos k - h)) dk and s^z = (1/2pi) int
 * f(beta (cos k - h)) dk - 1/2, f(x) = 1/(e^x + 1).  Midpoint rule on the
 * periodic analytic integrand: exponential convergence (at |beta| = 10 the
 * integrand's nearest complex singularity is at distance ~ pi/(2 beta) from
 * the real axis, so 8192 points leave < 1e-14). */
static void ff_thermal(double beta, double h, double *e, double *sz)
{
	const int M = 8192;
	double se = 0, sn = 0;
	for (int k = 0; k < M; k++) {
		double q = -PI + 2 * PI * (k + 0.5) / M;
		double f = fermi(beta * (cos(q) - h));
		se += cos(q) * f;
		sn += f;
	}
	*e = se / M;
	*sz = sn / M - 0.5;
}

/* Takahashi's ground-state energy per bond (book, ch. 4):
 * e0 = Delta/4 - sin(g) int_0^inf dx sinh((pi - g) x) / (sinh(pi x)
 * cosh(g x)), by Gauss-Legendre panels on [0, 60] (the integrand decays as
 * exp(-g x) or faster and is analytic near the real axis). */
static double bethe_e0(double g)
{
	double x[16], w[16], s = 0;
	tba_gauss_legendre(16, x, w);
	for (int p = 0; p < 600; p++) {
		double a = 0.1 * p, b = a + 0.1;
		for (int i = 0; i < 16; i++) {
			double t = (a + b) / 2 + (b - a) / 2 * x[i];
			double v = t == 0 ? (PI - g) / PI
					  : sinh((PI - g) * t) /
						    (sinh(PI * t) * cosh(g * t));
			s += (b - a) / 2 * w[i] * v;
		}
	}
	return cos(g) / 4 - sin(g) * s;
}

/* ---- 1. free fermions: thermodynamics --------------------------------- */

static void test_ff_thermal(void)
{
	tba_model_t m;
	tba_grid_t g;
	tba_grid_default(&g);
	OK(tba_model_init(&m, 2, err));
	double worst = 0, worst_s = 0;
	for (int i = -20; i <= 20; i++) {
		double beta = 0.5 * i, e, ex, sx;
		OK(tba_energy(&m, beta, &g, &e, err));
		ff_thermal(beta, 0, &ex, &sx);
		worst = fmax(worst, fabs(e - ex));
	}
	printf("P=2 e(beta) vs free fermions on [-10, 10]: %.2e\n", worst);
	CHECK_CLOSE(worst, 0, 1e-10, "P=2 TBA e(beta) vs free fermions");
	/* with a field: e and s^z */
	const double bh[4][2] = {{1, 0.3}, {-2, 0.5}, {5, -0.7}, {10, 0.2}};
	for (int k = 0; k < 4; k++) {
		tba_state_t s;
		tba_obs_t o;
		double ex, sx;
		OK(tba_state_thermal(&s, &m, bh[k][0], bh[k][1], &g, err));
		OK(tba_state_obs(&s, &g, &o, err));
		tba_state_free(&s);
		ff_thermal(bh[k][0], bh[k][1], &ex, &sx);
		worst = fmax(worst, fabs(o.e - ex));
		worst_s = fmax(worst_s, fabs(o.sz - sx));
		CHECK_CLOSE(o.je, 0, 1e-14, "thermal state carries no current");
	}
	printf("P=2 (beta, h): e error %.2e, s^z error %.2e\n", worst,
	       worst_s);
	CHECK_CLOSE(worst, 0, 1e-10, "P=2 e(beta, h) vs free fermions");
	CHECK_CLOSE(worst_s, 0, 1e-10, "P=2 s^z(beta, h) vs free fermions");
}

/* ---- 2. ground state and velocities ------------------------------------ */

static void test_ground(void)
{
	tba_grid_t g;
	tba_grid_default(&g);
	CHECK_CLOSE(bethe_e0(PI / 2), -1 / PI, 1e-13, "Takahashi e0, Delta=0");
	CHECK_CLOSE(bethe_e0(PI / 3), -0.375, 1e-13,
		    "Takahashi e0, Delta=1/2");
	const int Ps[4] = {2, 3, 4, 6};
	for (int q = 0; q < 4; q++) {
		tba_model_t m;
		tba_state_t s;
		tba_dressed_t d;
		tba_obs_t o;
		OK(tba_model_init(&m, Ps[q], err));
		OK(tba_state_ground(&s, &m, &g, err));
		OK(tba_state_dress(&s, &g, &d, err));
		tba_dressed_obs(&d, &o);
		double gm = m.gamma, e0 = bethe_e0(gm);
		double vmax = PI * sin(gm) / (2 * gm), wv = 0;
		/* on |lam| <= 12/P, where the dressed densities ~ exp(-P lam)
		 * are above ~1e-5 of their maximum: beyond, v is the ratio of
		 * two quantities that cancel to exp(-(P - 2) lam) relative
		 * accuracy in the Nystrom interpolation */
		double lmax = 12.0 / Ps[q];
		for (int i = 0; i <= 30; i++) {
			double lam = -lmax + lmax / 15 * i;
			double v = tba_velocity_at(&d, 0, lam);
			wv = fmax(wv, fabs(v - vmax * tanh(PI * lam / gm)));
		}
		/* the maximum over a scan of lam in [0, 12/P] (the velocity
		 * increases to its limit at lam -> infinity, reached within
		 * 2 exp(-2 P lam) < 1e-10 at lam = 12/P) */
		double vinf = 0;
		for (int i = 0; i <= 100; i++)
			vinf = fmax(vinf,
				    tba_velocity_at(&d, 0, lmax / 100 * i));
		printf("P=%d ground state: e0 = %.12f (Takahashi %.12f), "
		       "s^z = %.1e, velocity error %.1e, max v = %.10f vs "
		       "%.10f\n",
		       Ps[q], o.e, e0, o.sz, wv, vinf, vmax);
		char what[96];
		snprintf(what, sizeof what, "P=%d ground-state e0", Ps[q]);
		CHECK_CLOSE(o.e, e0, 1e-8, what);
		if (Ps[q] == 3)
			CHECK_CLOSE(o.e, -0.375, 1e-8, "e0 = -3/8 at pi/3");
		CHECK_CLOSE(o.sz, 0, 1e-9, "ground state has s^z = 0");
		CHECK_CLOSE(wv, 0, 1e-8, "dressed velocity closed form");
		CHECK_CLOSE(vinf, vmax, 1e-6, "maximal dressed velocity");
		tba_dressed_free(&d);
		tba_state_free(&s);
	}
}

/* ---- 3. free fermions: GHD closed forms -------------------------------- */

/* |Psi1> on the homogeneous XX chain: the left half at the top of the band
 * (species 1, cos k > 0, filled), the right half in the ground state
 * (species 0 filled); n(k; zeta) = n_L H(v - zeta) + n_R H(zeta - v) with
 * v = -sin k gives E = -zeta/pi, J^E = (1 - zeta^2)/(2 pi) inside the light
 * cone |zeta| < 1.  The domain wall (up for x < 0: no magnons; down: all
 * filled) gives S^z = -arcsin(zeta)/pi, J^M = sqrt(1 - zeta^2)/pi. */
static void test_ff_ghd(void)
{
	tba_model_t m;
	tba_grid_t g;
	tba_grid_default(&g);
	OK(tba_model_init(&m, 2, err));
	const double top[2] = {0, 1}, gs[2] = {1, 0}, up[2] = {0, 0},
		     dn[2] = {1, 1};
	tba_state_t sL, sR, su, sd;
	tba_state_const(&sL, &m, top);
	tba_state_const(&sR, &m, gs);
	tba_state_const(&su, &m, up);
	tba_state_const(&sd, &m, dn);
	double we = 0, wj = 0, ws = 0, wm = 0;
	int iters = 0;
	for (int i = 0; i <= 48; i++) {
		double z = -1.2 + 0.05 * i;
		tba_obs_t o;
		ghd_ws_t w;
		memset(&w, 0, sizeof w);
		OK(ghd_ray(&m, &sL, &sR, &g, z, &w, &o, err));
		iters = w.iters > iters ? w.iters : iters;
		double zc = fmax(-1, fmin(1, z));
		we = fmax(we, fabs(o.e + zc / PI));
		wj = fmax(wj, fabs(o.je - (1 - zc * zc) / (2 * PI)));
		OK(ghd_ray(&m, &su, &sd, &g, z, NULL, &o, err));
		ws = fmax(ws, fabs(o.sz + asin(zc) / PI));
		wm = fmax(wm, fabs(o.jm - sqrt(1 - zc * zc) / PI));
	}
	printf("XX |Psi1> GHD: E error %.2e, J^E error %.2e; domain wall: "
	       "S^z error %.2e, J^M error %.2e (<= %d iterations)\n",
	       we, wj, ws, wm, iters);
	CHECK_CLOSE(we, 0, 1e-8, "XX |Psi1>: E(zeta) = -zeta/pi");
	CHECK_CLOSE(wj, 0, 1e-8, "XX |Psi1>: J^E = (1 - zeta^2)/2pi");
	CHECK_CLOSE(ws, 0, 1e-8, "XX domain wall: S^z = -asin(zeta)/pi");
	CHECK_CLOSE(wm, 0, 1e-8, "XX domain wall: J^M = sqrt(1-zeta^2)/pi");
}

/* ---- 4. high temperature ----------------------------------------------
 * <h_0>_beta = sum_n (-beta)^n / n! <h_0; H; ...; H>_c (cumulants at beta =
 * 0, where <X> = Tr X / 2^L).  <H> = <h_0> = 0.  First order: -beta
 * <h_0 H> = -beta <h_0^2> (different bonds are uncorrelated and traceless).
 * Second order: (beta^2/2) <h_0 H H>_c = (beta^2/2) sum_{m,m'} <h_0 h_m
 * h_m'> (the disconnected terms vanish with <h> = <H> = 0); a product with
 * a spin operator appearing once on some site has zero trace, which kills
 * every term except m = m' = 0: <h_0^3>.  On the two spins of a bond h has
 * the eigenvalues Delta/4 (twice, |up up>, |dn dn>), 1/2 - Delta/4 (the
 * triplet's Sz = 0 member) and -1/2 - Delta/4 (singlet), so
 *   <h^2> = (1/4)(2 Delta^2/16 + (1/2 - Delta/4)^2 + (1/2 + Delta/4)^2)
 *         = (2 + Delta^2)/16,
 *   <h^3> = (1/4)(2 Delta^3/64 + (1/2 - Delta/4)^3 - (1/2 + Delta/4)^3)
 *         = -3 Delta / 32,
 * e(beta) = -beta (2 + Delta^2)/16 - (3 Delta/64) beta^2 + O(beta^3):
 * c2 = -3 Delta/64, zero at Delta = 0 where e is odd in beta.  The beta^3
 * term (beta^3/128 at Delta = 0) leaves ~1e-8 at beta = 0.01, while c2
 * beta^2 is 3e-6 at Delta = cos(pi/4): the test resolves c2. */
static void test_high_t(void)
{
	tba_grid_t g;
	tba_grid_default(&g);
	const int Ps[4] = {2, 3, 4, 6};
	for (int q = 0; q < 4; q++) {
		tba_model_t m;
		OK(tba_model_init(&m, Ps[q], err));
		double D = m.delta;
		for (int s = -1; s <= 1; s += 2) {
			double b = 0.01 * s, e;
			OK(tba_energy(&m, b, &g, &e, err));
			double ex = -b * (2 + D * D) / 16 - 3 * D / 64 * b * b;
			char what[96];
			snprintf(what, sizeof what,
				 "P=%d high-T expansion at beta=%g", Ps[q], b);
			printf("%s: e = %.12f, expansion %.12f (diff %.1e, "
			       "c2 term %.1e)\n",
			       what, e, ex, e - ex, 3 * D / 64 * b * b);
			CHECK_CLOSE(e, ex, 1e-7, what);
		}
	}
}

/* ---- 5. the purification tables of kernels/thermal.c --------------------
 * N = 24, chi = 64, dtau = 0.1 (order 4) on beta in [-2, 2]: at |beta| <= 2
 * the correlation length is a few sites, and test_thermal measures
 * finite-size, truncation and Trotter errors each below 1e-8 at N = 32 up to
 * |beta| = 5 on the XX chain: the tables' stated accuracy, asserted here
 * as 3e-8 (the three sources together; measured 7.7e-9 at pi/4, 5.0e-9 at
 * pi/3, where the TBA's own error is ~1e-9: e(0) = -4e-10). */
static void test_tables(void)
{
	tba_grid_t g;
	tba_grid_default(&g);
	const int Ps[2] = {4, 3};
	for (int q = 0; q < 2; q++) {
		tba_model_t m;
		OK(tba_model_init(&m, Ps[q], err));
		thermal_params_t p;
		thermal_params_default(&p);
		p.delta = m.delta;
		p.n_sites = 24;
		p.chi_max = 64;
		p.dtau = 0.1;
		double betas[9], mu0 = 0;
		for (int i = 0; i < 9; i++)
			betas[i] = -2 + 0.5 * i;
		thermal_table_t *t = NULL;
		double t0 = kz_wtime();
		OK(thermal_table_create(&t, &p, betas, 9, &mu0, 1, err));
		const double *et = thermal_table_energy(t);
		double worst = 0;
		for (int i = 0; i < 9; i++) {
			double e;
			OK(tba_energy(&m, betas[i], &g, &e, err));
			worst = fmax(worst, fabs(e - et[i]));
		}
		printf("P=%d TBA e(beta) vs purification table (N=24, chi=64) "
		       "on [-2, 2]: max diff %.2e (%.1f s)\n",
		       Ps[q], worst, kz_wtime() - t0);
		CHECK_CLOSE(worst, 0, 3e-8, "TBA vs purification table");
		thermal_table_destroy(&t);
	}
}

/* ---- 6. low temperature: the c = 1 law ----------------------------------
 * A Luttinger liquid has e(T) - e0 = pi T^2 / (6 v) + o(T^2), v = pi sin(g)
 * / (2 g): the thermal TBA at large beta against the ground state. */
static void test_low_t(void)
{
	tba_grid_t g;
	tba_grid_default(&g);
	tba_model_t m;
	OK(tba_model_init(&m, 4, err));
	tba_state_t gs;
	tba_obs_t o;
	OK(tba_state_ground(&gs, &m, &g, err));
	OK(tba_state_obs(&gs, &g, &o, err));
	double v = PI * sin(m.gamma) / (2 * m.gamma), prev = 0;
	const double betas[3] = {10, 20, 40};
	for (int i = 0; i < 3; i++) {
		double e;
		OK(tba_energy(&m, betas[i], &g, &e, err));
		double ratio = (e - o.e) * betas[i] * betas[i] / (PI / (6 * v));
		printf("P=4 beta=%g: (e - e0) / (pi T^2 / 6v) = %.6f\n",
		       betas[i], ratio);
		CHECK(fabs(ratio - 1) < 0.03, "c = 1 law at beta = %g: %g",
		      betas[i], ratio);
		if (i > 0)
			CHECK(fabs(ratio - 1) < fabs(prev - 1),
			      "approaches the c = 1 law: %g then %g", prev,
			      ratio);
		prev = ratio;
	}
}

/* ---- 7. the junction model ----------------------------------------------
 * Left: XX at the top of its band (|Psi1>'s left half), right: XXZ at
 * gamma = pi/4 in its ground state. */
typedef struct {
	const kj_problem_t *p;
	tba_state_t tm, tp;      /* the junction's thermal states */
	ghd_ws_t wl, wr;
	int rays, capped;        /* rays evaluated; intervals left at the
				  * depth cap without meeting the tolerance */
} zfun_t;

/* E(zeta) of the solved junction (kj_profile's rays, with the thermal
 * states built once) */
static double E_at(zfun_t *f, double z)
{
	tba_obs_t o;
	const kj_problem_t *p = f->p;
	f->rays++;
	if (z < 0)
		OK(ghd_ray(p->mL, p->sL, &f->tm, &p->g, z, &f->wl, &o, err));
	else
		OK(ghd_ray(p->mR, &f->tp, p->sR, &p->g, z, &f->wr, &o, err));
	return o.e;
}

/* adaptive Gauss-Kronrod (7, 15) of E(zeta) on [a, b], absolute tolerance
 * tol per interval scaled by its length (the profile has square-root kinks
 * at the edges of the fans of every species) */
static double gk15(zfun_t *f, double a, double b, double tol, int depth)
{
	static const double xk[8] = {
		0.991455371120812639, 0.949107912342758525,
		0.864864423359769073, 0.741531185599394440,
		0.586087235467691130, 0.405845151377397167,
		0.207784955007898468, 0.0};
	static const double wk[8] = {
		0.022935322010529225, 0.063092092629978553,
		0.104790010322250184, 0.140653259715525919,
		0.169004726639267903, 0.190350578064785410,
		0.204432940075298892, 0.209482141084727828};
	static const double wg[4] = {0.129484966168869693,
				     0.279705391489276668,
				     0.381830050505118945,
				     0.417959183673469388};
	double c = (a + b) / 2, h = (b - a) / 2, k = 0, gsum = 0;
	for (int i = 0; i < 8; i++) {
		double f1 = E_at(f, c - h * xk[i]);
		double f2 = i < 7 ? E_at(f, c + h * xk[i]) : 0;
		k += wk[i] * (f1 + f2);
		/* the Gauss nodes are the odd ones; i = 7 is the centre,
		 * counted once (f2 = 0 there) */
		if (i % 2 == 1)
			gsum += wg[i / 2] * (f1 + f2);
	}
	k *= h;
	gsum *= h;
	/* 1e-14: the rounding noise of E, below which a smaller interval
	 * cannot do better */
	if (fabs(k - gsum) < fmax(tol * (b - a), 1e-14))
		return k;
	if (depth > 10) {
		f->capped++;
		return k;
	}
	return gk15(f, a, c, tol, depth + 1) + gk15(f, c, b, tol, depth + 1);
}

static void test_junction(void)
{
	tba_grid_t g;
	tba_grid_default(&g);
	tba_model_t mL, mR;
	OK(tba_model_init(&mL, 2, err));
	OK(tba_model_init(&mR, 4, err));
	const double top[2] = {0, 1};
	tba_state_t sL, sR;
	tba_state_const(&sL, &mL, top);
	OK(tba_state_ground(&sR, &mR, &g, err));
	kj_problem_t p = {&mL, &mR, &sL, &sR, g, 60};
	const double Rs[5] = {0, 3, 30, 300, 3000};
	kj_solution_t s[5];
	for (int i = 0; i < 5; i++) {
		OK(kj_solve(&p, Rs[i], &s[i], err));
		double jl, jr;
		OK(kj_left_edge(&p, s[i].beta_minus, &jl, NULL, err));
		OK(kj_right_edge(&p, s[i].beta_plus, &jr, NULL, err));
		printf("junction R=%g: beta- = %.8f, beta+ = %.8f, J = %.10f "
		       "(edges %.2e, %.2e apart)\n",
		       Rs[i], s[i].beta_minus, s[i].beta_plus, s[i].current,
		       jl - s[i].current, jr - s[i].current);
		CHECK_CLOSE(jl, s[i].current, 1e-10, "left edge current");
		CHECK_CLOSE(jr, s[i].current, 1e-10, "right edge current");
		CHECK_CLOSE(s[i].beta_plus - s[i].beta_minus,
			    Rs[i] * s[i].current, 1e-9,
			    "Fourier's law across the junction");
		if (i > 0)
			CHECK(s[i].current < s[i - 1].current,
			      "J decreases with R: %g then %g",
			      s[i - 1].current, s[i].current);
	}
	/* decoupling: J -> 0 as R -> infinity (J ~ R^(-2/3) since the edge
	 * currents vanish as T^2) */
	CHECK(s[4].current < 0.06 * s[0].current,
	      "R = 3000 nearly decouples: J = %g", s[4].current);
	kj_solution_t big;
	OK(kj_solve(&p, 3e5, &big, err));
	printf("junction R=3e5: J = %.3e\n", big.current);
	CHECK(big.current < 0.1 * s[4].current, "R = 3e5: J = %g",
	      big.current);
	/* energy conservation of the self-similar profiles: d_t E + d_x J = 0
	 * with E(x/t) gives J' = zeta E' in each half, so
	 *   int_a^0 E dzeta = -J(0-) - a E_L,  int_0^b E dzeta = J(0+) + b E_R
	 * for a, b outside the light cones (J = 0, E = the reservoirs'), on
	 * both halves and for every R (a few hundred rays each). */
	tba_obs_t oL, oR;
	OK(tba_state_obs(&sL, &g, &oL, err));
	OK(tba_state_obs(&sR, &g, &oR, err));
	for (int q = 0; q < 5; q++) {
		kj_solution_t *k = &s[q];
		zfun_t f;
		memset(&f, 0, sizeof f);
		f.p = &p;
		OK(tba_state_thermal(&f.tm, &mL, k->beta_minus, 0, &g, err));
		OK(tba_state_thermal(&f.tp, &mR, k->beta_plus, 0, &g, err));
		/* split at the light-cone edges -v_L = -1 and v_R, where
		 * E has square-root kinks that no interval containing
		 * them resolves to the tolerance */
		/* GK tolerance per unit length: 1e-8 leaves ~1e-11 in the
		 * balance, far below the 1e-6 asserted */
		const double TOL = 1e-8;
		double a = -1.2, b = 1.6, vr = PI * sin(PI / 4) / 2 / (PI / 4);
		clock_t c0 = clock();
		double il = gk15(&f, a, -1, TOL, 0) +
			    gk15(&f, -1, -1e-300, TOL, 0);
		double dl = il + a * oL.e + k->current;
		int rays_l = f.rays;
		double ir = gk15(&f, 0, vr, TOL, 0) + gk15(&f, vr, b, TOL, 0);
		double dr = ir - b * oR.e - k->current;
		CHECK_CLOSE(dl, 0, 1e-6, "energy conservation, left half");
		CHECK_CLOSE(dr, 0, 1e-6, "energy conservation, right half");
		CHECK(f.capped == 0, "%d quadrature intervals at the depth cap",
		      f.capped);
		printf("R=%g energy balance: left %.2e, right %.2e (%d + %d "
		       "rays, %.1f s CPU)\n",
		       k->R, dl, dr, rays_l, f.rays - rays_l,
		       (double)(clock() - c0) / CLOCKS_PER_SEC);
		tba_state_free(&f.tm);
		tba_state_free(&f.tp);
	}
	tba_state_free(&sR);
}

/* ---- 8. the equation of state as an interpolant (beta_eff) ------------- */
static void test_eos(void)
{
	CHECK(tba_p_of_delta(cos(PI / 2)) == 2, "P of cos(pi/2)");
	CHECK(tba_p_of_delta(0) == 2, "P of 0");
	CHECK(tba_p_of_delta(0.5) == 3, "P of 1/2");
	CHECK(tba_p_of_delta(cos(PI / 4)) == 4, "P of cos(pi/4)");
	CHECK(tba_p_of_delta(cos(PI / 12)) == 12, "P of cos(pi/12)");
	CHECK(tba_p_of_delta(0.7) == 0, "0.7 is no cos(pi/P)");
	CHECK(tba_p_of_delta(cos(2 * PI / 5)) == 0, "2 pi/5 is no pi/P");
	CHECK(tba_p_of_delta(1) == 0 && tba_p_of_delta(-0.5) == 0,
	      "Delta = 1, -1/2 refused");
	static tba_eos_t t;
	FAILS(tba_eos_build(&t, 0.7, err));
	CHECK(strstr(err, "0.7") && strstr(err, "pi/P"),
	      "the refusal names delta and pi/P: %s", err);
	const int Ps[2] = {2, 4};
	tba_grid_t g;
	tba_grid_default(&g);
	for (int q = 0; q < 2; q++) {
		tba_model_t m;
		OK(tba_model_init(&m, Ps[q], err));
		OK(tba_eos_build(&t, cos(PI / Ps[q]), err));
		CHECK(t.err_est < 1e-10, "P=%d interpolation error estimate %g",
		      Ps[q], t.err_est);
		double werr = 0, wrep = 0, wbeta = 0;
		/* off the nodes, both signs, hot and cold */
		const double bs[8] = {-9.37, -4.1, -1.3, -0.21, 0.33, 1.7,
				      4.6, 9.71};
		for (int i = 0; i < 8; i++) {
			double e, e2;
			OK(tba_energy(&m, bs[i], &g, &e, err));
			werr = fmax(werr, fabs(tba_eos_energy(&t, bs[i]) - e));
			double b = tba_eos_beta(&t, e);
			CHECK(isfinite(b), "P=%d beta(e(%g)) finite", Ps[q],
			      bs[i]);
			OK(tba_energy(&m, b, &g, &e2, err));
			wrep = fmax(wrep, fabs(e2 - e));
			if (fabs(bs[i]) <= 5)
				wbeta = fmax(wbeta, fabs(b - bs[i]));
		}
		printf("P=%d TBA e(beta) interpolant: error %.2e (estimate "
		       "%.2e), inverted beta reproduces e to %.2e, beta to "
		       "%.2e (|beta| <= 5)\n",
		       Ps[q], werr, t.err_est, wrep, wbeta);
		CHECK(werr < 1e-10, "P=%d interpolant error %g", Ps[q], werr);
		CHECK(wrep < 1e-10, "P=%d e(beta_inverted) error %g", Ps[q],
		      wrep);
		CHECK(wbeta < 1e-7, "P=%d beta error %g", Ps[q], wbeta);
		/* beyond the range: infinities; the ends are e(-+bmax) */
		const int n = TBA_EOS_NODES;
		CHECK(tba_eos_beta(&t, t.e[n - 1] + 1e-9) == -HUGE_VAL,
		      "hotter than beta = -bmax: -inf");
		CHECK(tba_eos_beta(&t, t.e[0] - 1e-9) == HUGE_VAL,
		      "colder than beta = bmax: +inf");
		CHECK(isnan(tba_eos_beta(&t, NAN)), "NaN energy: NaN");
		CHECK_CLOSE(tba_eos_beta(&t, t.e[n / 2]), 0, 1e-13,
			    "the middle node is beta = 0");
	}
}

int main(void)
{
	test_eos();
	test_junction();
	test_low_t();
	test_high_t();
	test_tables();
	test_ff_ghd();
	test_ff_thermal();
	test_ground();
	return check_done("test_tba");
}
