/* test_thermal: thermal equations of state by purification held
 * against exact answers:
 *   - the reduced density matrix of arbitrary MPS sites against a dense
 *     partial trace;
 *   - the purified centre rho3 of a small XXZ chain at (beta, mu), both signs
 *     of beta, against dense exact diagonalisation, and the Trotter error
 *     order (2 and 4) measured against it;
 *   - the XX chain: e(beta) on beta in [-5, 5] against the infinite-chain
 *     free-fermion integral, e(-beta) = -e(beta), rho3 at beta = +-1 and
 *     (beta, mu) != 0 against the Gaussian (Wick) three-site state, e and s^z
 *     at mu != 0;
 *   - the high-temperature slope e'(0) = -(2 + Delta^2) J^2 / 16;
 *   - e(beta) -> Bethe-ansatz ground-state energy as beta grows;
 *   - inversions (1D and 2D) round trips, a purified state at beta = 0.73
 *     inverted, errors outside the table;
 *   - bad arguments. */
#include "check.h"

#include "obs.h"
#include "mps_vector.h"
#include "thermal.h"

#include <complex.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static char err[KZ_ERRLEN];

static double max_diff(const kz_cplx *a, const kz_cplx *b, int n)
{
	double m = 0;
	for (int k = 0; k < n; k++)
		m = fmax(m, cabs(a[k] - b[k]));
	return m;
}

/* ---- free fermions on the infinite chain -------------------------------
 * h = (J/2)(c_j^dag c_{j+1} + h.c.), eps_k = J cos k, K = H - mu N_f (up to a
 * constant), so C_d = <c_j^dag c_{j+d}> = (1/2pi) int_{-pi}^{pi} cos(k d)
 * f(beta (J cos k - mu)) dk with f(x) = 1/(e^x + 1): e = J C_1, s^z = C_0 -
 * 1/2.  At mu = 0, e = -(J/2pi) int_0^pi cos k tanh(beta J cos k / 2) dk.
 * The midpoint rule on the periodic analytic integrand converges
 * exponentially (4096 points: far below 1e-12 for |beta| <= 5). */
static double fermi(double x)
{
	return x > 0 ? exp(-x) / (1 + exp(-x)) : 1 / (1 + exp(x));
}

static double ff_corr(double beta, double mu, double J, int d)
{
	const int M = 4096;
	double s = 0;
	for (int k = 0; k < M; k++) {
		double q = -PI + 2 * PI * (k + 0.5) / M;
		s += cos(q * d) * fermi(beta * (J * cos(q) - mu));
	}
	return s / M;
}

/* The Gaussian three-site state with C_ij = C_{|i-j|}: with G = V diag(n)
 * V^T and modes d_a = sum_j V_ja c_j (so <d_a^dag d_b> = n_a delta_ab),
 * rho = prod_a [n_a d_a^dag d_a + (1 - n_a) d_a d_a^dag].  c_j = Jordan-Wigner
 * (prod_{l<j} (-1)^{n_l}) sigma^-_j within the block (the string outside
 * cancels in every number-conserving element); basis a = 4 s0 + 2 s1 + s2. */
static void gaussian_rho3(double beta, double mu, double J, kz_cplx rho[64])
{
	double C[3] = {ff_corr(beta, mu, J, 0), ff_corr(beta, mu, J, 1),
		       ff_corr(beta, mu, J, 2)};
	double G[9], n[3];
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			G[i + 3 * j] = C[abs(i - j)];
	LAPACKE_dsyev(LAPACK_COL_MAJOR, 'V', 'U', 3, G, 3, n);
	double c[3][64], R[64], T[64];
	memset(c, 0, sizeof c);
	for (int j = 0; j < 3; j++)
		for (int a = 0; a < 8; a++) {
			int bit = (a >> (2 - j)) & 1;
			if (!bit)
				continue;
			int sign = 1;
			for (int l = 0; l < j; l++)
				if ((a >> (2 - l)) & 1)
					sign = -sign;
			c[j][(a & ~(1 << (2 - j))) + 8 * a] = sign;
		}
	memset(R, 0, sizeof R);
	for (int a = 0; a < 8; a++)
		R[a + 8 * a] = 1;
	for (int m = 0; m < 3; m++) {
		double d[64] = {0}, N[64] = {0}, F[64];
		for (int j = 0; j < 3; j++)
			for (int k = 0; k < 64; k++)
				d[k] += G[j + 3 * m] * c[j][k];
		/* N = d^T d = d^dag d (real) */
		for (int r = 0; r < 8; r++)
			for (int s = 0; s < 8; s++)
				for (int k = 0; k < 8; k++)
					N[r + 8 * s] +=
						d[k + 8 * r] * d[k + 8 * s];
		for (int k = 0; k < 64; k++)
			F[k] = n[m] * N[k] + (1 - n[m]) * ((k % 9 == 0) - N[k]);
		for (int r = 0; r < 8; r++)
			for (int s = 0; s < 8; s++) {
				double v = 0;
				for (int k = 0; k < 8; k++)
					v += R[r + 8 * k] * F[k + 8 * s];
				T[r + 8 * s] = v;
			}
		memcpy(R, T, sizeof R);
	}
	for (int k = 0; k < 64; k++)
		rho[k] = R[k];
}

/* ---- dense exact thermal state of a small open chain -------------------
 * Full index x = sum_i s_i 2^(N-1-i) (site 0 most significant). */
static void exact_rho3(int N, double J, double D, double beta, double mu,
		       int i0, kz_cplx rho3[64])
{
	int dim = 1 << N;
	double *K = calloc((size_t)dim * dim, sizeof(double));
	double *w = malloc((size_t)dim * sizeof(double));
	double *rho = calloc((size_t)dim * dim, sizeof(double));
	for (int x = 0; x < dim; x++) {
		double diag = 0;
		for (int i = 0; i < N; i++) {
			int si = (x >> (N - 1 - i)) & 1;
			diag -= mu * (si - 0.5);
			if (i + 1 == N)
				continue;
			int sj = (x >> (N - 2 - i)) & 1;
			diag += J * D * (si - 0.5) * (sj - 0.5);
			if (si != sj) {
				int y = x ^ (3 << (N - 2 - i));
				K[y + (size_t)dim * x] += J / 2;
			}
		}
		K[x + (size_t)dim * x] += diag;
	}
	LAPACKE_dsyev(LAPACK_COL_MAJOR, 'V', 'U', dim, K, dim, w);
	double wref = beta > 0 ? w[0] : w[dim - 1], Z = 0;
	for (int k = 0; k < dim; k++) {
		double p = exp(-beta * (w[k] - wref));
		Z += p;
		for (int x = 0; x < dim; x++)
			for (int y = 0; y < dim; y++)
				rho[x + (size_t)dim * y] +=
					p * K[x + (size_t)dim * k] *
					K[y + (size_t)dim * k];
	}
	memset(rho3, 0, 64 * sizeof(kz_cplx));
	int sh = N - 3 - i0, mask = 7 << sh;
	for (int x = 0; x < dim; x++)
		for (int y = 0; y < dim; y++) {
			if ((x & ~mask) != (y & ~mask))
				continue;
			int a = (x >> sh) & 7, b = (y >> sh) & 7;
			rho3[a + 8 * b] += rho[x + (size_t)dim * y] / Z;
		}
	free(K);
	free(w);
	free(rho);
}

static thermal_params_t params(double delta, int N, int chi, double dtau,
			       int order)
{
	thermal_params_t p;
	thermal_params_default(&p);
	p.delta = delta;
	p.n_sites = N;
	p.chi_max = chi;
	p.dtau = dtau;
	p.order = order;
	return p;
}

/* ---- 1. reduced density matrices of arbitrary sites -------------------- */

static void test_rho_sites(void)
{
	const int L = 8, nup = 4;
	unsigned long bits[70];
	kz_cplx amp[70];
	size_t n = 0;
	for (unsigned long x = 0; x < (1ul << L); x++)
		if (__builtin_popcountl(x) == nup) {
			bits[n] = x;
			amp[n] = sin(1.7 * n + 0.3) +
				 I * cos(0.9 * n * n + 1.1);
			n++;
		}
	mps_t *m = NULL;
	OK(mps_create_from_vector(&m, L, nup, n, bits, amp, err));
	const int sets[4][4] = {{1, 3, 6}, {0, 2, 5, 7}, {4}, {0, 1}};
	const int ns[4] = {3, 4, 1, 2};
	double nrm = 0;
	for (size_t k = 0; k < n; k++)
		nrm += creal(amp[k] * conj(amp[k]));
	for (int c = 0; c < 4; c++) {
		int D = 1 << ns[c];
		kz_cplx rho[256], ref[256] = {0};
		unsigned long mask = 0;
		for (int k = 0; k < ns[c]; k++)
			mask |= 1ul << sets[c][k];
		for (size_t x = 0; x < n; x++)
			for (size_t y = 0; y < n; y++) {
				if ((bits[x] & ~mask) != (bits[y] & ~mask))
					continue;
				int a = 0, b = 0;
				for (int k = 0; k < ns[c]; k++) {
					int sh = sets[c][k];
					a = 2 * a + (int)((bits[x] >> sh) & 1);
					b = 2 * b + (int)((bits[y] >> sh) & 1);
				}
				ref[a + D * b] += amp[x] * conj(amp[y]) / nrm;
			}
		OK(thermal_rho_sites(m, ns[c], sets[c], rho, err));
		char what[64];
		snprintf(what, sizeof what, "rho of %d sites, set %d", ns[c],
			 c);
		CHECK_CLOSE(max_diff(rho, ref, D * D), 0, 1e-13, what);
	}
	mps_destroy(&m);
}

/* ---- 2. small chain against exact diagonalisation ---------------------- */

static double small_error(double delta, double beta, double mu, double dtau,
			  int order)
{
	const int N = 8;
	thermal_params_t p = params(delta, N, 256, dtau, order);
	p.cutoff = 0;
	mps_t *m = NULL;
	double disc;
	kz_cplx rho[64], ref[64];
	OK(thermal_purify(&m, &p, beta, mu, &disc, err));
	OK(thermal_centre_rho3(m, rho, err));
	exact_rho3(N, p.J, delta, beta, mu, N / 2 - 1, ref);
	double nrm;
	OK(mps_norm(m, &nrm, err));
	CHECK_CLOSE(nrm, 1.0, 1e-12, "purified state normalised");
	/* only singular values under tebd's noise floor (1e-14) go */
	CHECK(disc < 1e-12, "no truncation expected, discarded %g", disc);
	mps_destroy(&m);
	return max_diff(rho, ref, 64);
}

static void test_small_exact(void)
{
	const double D = cos(PI / 4);
	const double pts[4][2] = {{1.0, 0.0}, {-1.3, 0.4}, {2.0, -0.7},
				  {0.45, 1.5}};
	for (int k = 0; k < 4; k++) {
		double e = small_error(D, pts[k][0], pts[k][1], 0.05, 4);
		char what[80];
		snprintf(what, sizeof what,
			 "N=8 XXZ rho3 vs ED at beta=%g mu=%g", pts[k][0],
			 pts[k][1]);
		CHECK_CLOSE(e, 0, 1e-8, what);
		printf("small chain beta=%5.2f mu=%5.2f: |rho3 - exact| = "
		       "%.2e\n",
		       pts[k][0], pts[k][1], e);
	}
	/* Trotter error order: halving dtau divides the error by 2^order */
	double e2a = small_error(D, 2.0, 0.3, 0.1, 2);
	double e2b = small_error(D, 2.0, 0.3, 0.05, 2);
	double e4a = small_error(D, 2.0, 0.3, 0.2, 4);
	double e4b = small_error(D, 2.0, 0.3, 0.1, 4);
	printf("Trotter: order 2 errors %.3e %.3e (ratio %.2f), order 4 "
	       "%.3e %.3e (ratio %.2f)\n",
	       e2a, e2b, e2a / e2b, e4a, e4b, e4a / e4b);
	CHECK(e2a / e2b > 3.5 && e2a / e2b < 4.5, "order 2 ratio %g",
	      e2a / e2b);
	CHECK(e4a / e4b > 12 && e4a / e4b < 20, "order 4 ratio %g",
	      e4a / e4b);
}

/* ---- 3. XX chain against free fermions --------------------------------- */

static void test_xx(thermal_table_t **keep)
{
	/* N = 32, chi = 64, dtau = 0.1 (order 4): finite-size, truncation
	 * and Trotter errors each below 1e-8 at |beta| <= 5 (measured while
	 * choosing them: N = 24 gives 2e-7 at beta = 5, dtau = 0.05 changes
	 * e by < 1e-8) */
	thermal_params_t p = params(0.0, 32, 64, 0.1, 4);
	double betas[101], mu0 = 0;
	for (int i = 0; i <= 100; i++)
		betas[i] = -5 + 0.1 * i;
	betas[50] = 0;
	thermal_table_t *t = NULL;
	double t0 = kz_wtime();
	OK(thermal_table_create(&t, &p, betas, 101, &mu0, 1, err));
	printf("XX table N=32 chi=64, beta in [-5,5]: %.1f s, discarded "
	       "%.2e\n",
	       kz_wtime() - t0, thermal_table_discarded(t));
	const double *e = thermal_table_energy(t);
	double worst = 0, odd = 0;
	for (int i = 0; i <= 100; i++) {
		double ex = ff_corr(betas[i], 0, 1.0, 1);
		worst = fmax(worst, fabs(e[i] - ex));
		odd = fmax(odd, fabs(e[i] + e[100 - i]));
	}
	printf("XX e(beta) vs free fermions: max error %.2e, |e(b)+e(-b)| "
	       "<= %.2e\n",
	       worst, odd);
	CHECK_CLOSE(worst, 0, 1e-6, "XX e(beta) vs free fermions");
	/* sublattice rotation: U H U^dag = -H, so e is odd in beta */
	CHECK_CLOSE(odd, 0, 1e-9, "XX e(-beta) = -e(beta)");
	CHECK_CLOSE(e[50], 0, 1e-14, "e(0) = 0");
	const int idx[2] = {60, 40}; /* beta = 1, -1 */
	for (int k = 0; k < 2; k++) {
		kz_cplx ref[64];
		gaussian_rho3(betas[idx[k]], 0, 1.0, ref);
		double d = max_diff(thermal_table_rho3(t) + 64 * idx[k], ref,
				    64);
		char what[64];
		snprintf(what, sizeof what, "XX rho3 at beta=%g vs Wick",
			 betas[idx[k]]);
		printf("%s: %.2e\n", what, d);
		CHECK_CLOSE(d, 0, 1e-6, what);
	}
	*keep = t;
}

static void test_xx_mu(void)
{
	thermal_params_t p = params(0.0, 32, 64, 0.1, 4);
	const double betas[5] = {-2, -1, 0, 1, 2}, mus[2] = {-0.6, 0.5};
	thermal_table_t *t = NULL;
	double t0 = kz_wtime();
	OK(thermal_table_create(&t, &p, betas, 5, mus, 2, err));
	const double *e = thermal_table_energy(t), *sz = thermal_table_sz(t);
	double we = 0, ws = 0, wr = 0;
	for (int j = 0; j < 2; j++)
		for (int i = 0; i < 5; i++) {
			int n = i + 5 * j;
			double c0 = ff_corr(betas[i], mus[j], 1, 0);
			double c1 = ff_corr(betas[i], mus[j], 1, 1);
			we = fmax(we, fabs(e[n] - c1));
			ws = fmax(ws, fabs(sz[n] - (c0 - 0.5)));
			kz_cplx ref[64];
			gaussian_rho3(betas[i], mus[j], 1.0, ref);
			wr = fmax(wr, max_diff(thermal_table_rho3(t) + 64 * n,
					       ref, 64));
		}
	printf("XX with mu (%.1f s): max errors e %.2e, sz %.2e, rho3 %.2e\n",
	       kz_wtime() - t0, we, ws, wr);
	CHECK_CLOSE(we, 0, 1e-6, "XX e(beta, mu) vs free fermions");
	CHECK_CLOSE(ws, 0, 1e-6, "XX sz(beta, mu) vs free fermions");
	CHECK_CLOSE(wr, 0, 1e-6, "XX rho3(beta, mu) vs Wick");
	/* the field polarises along its sign for beta > 0 and against it
	 * for beta < 0 */
	CHECK(sz[3 + 5] > 0.05 && sz[1 + 5] < -0.05 && sz[3] < -0.05,
	      "signs of s^z: %g %g %g", sz[3 + 5], sz[1 + 5], sz[3]);
	thermal_table_destroy(&t);
}

/* ---- 4. high-temperature slope ------------------------------------------ */

static void test_high_t(void)
{
	/* e(beta) = -beta <h^2>_inf + O(beta^2), <h^2>_inf = J^2 (2 +
	 * Delta^2) / 16 (the other bonds are traceless against h).  The
	 * O(beta^2) term is <h H^2>_inf / 2 != 0 for Delta != 0 (no
	 * sublattice symmetry), so use centred differences: D(b) = (e(b) -
	 * e(-b)) / 2b = slope + O(b^2), and Richardson (4 D(b) - D(2b)) / 3 =
	 * slope + O(b^4). */
	const double D = cos(PI / 4), slope = -(2 + D * D) / 16;
	thermal_params_t p = params(D, 12, 64, 0.005, 4);
	const double betas[5] = {-0.02, -0.01, 0, 0.01, 0.02}, mu = 0;
	thermal_table_t *t = NULL;
	OK(thermal_table_create(&t, &p, betas, 5, &mu, 1, err));
	const double *e = thermal_table_energy(t);
	double d1 = (e[3] - e[1]) / 0.02, d2 = (e[4] - e[0]) / 0.04;
	double rich = (4 * d1 - d2) / 3, even = (e[3] + e[1]) / 2;
	printf("high T: slope %.10f, centred %.10f, Richardson %.10f; even "
	       "part at 0.01: %.3e\n",
	       slope, d1, rich, even);
	CHECK_CLOSE(d1, slope, 1e-5, "centred slope at beta = 0.01");
	CHECK_CLOSE(rich, slope, 1e-8, "Richardson slope");
	CHECK(fabs(even) > 1e-7, "XXZ: e(beta) has an even part (%g)", even);
	thermal_table_destroy(&t);
}

/* ---- 5. low temperature: Bethe ansatz ------------------------------------ */

/* e0 = J [Delta/4 - (sin g / 2) int dx sinh((pi - g) x) / (sinh(pi x)
 * cosh(g x))], Delta = cos g (Takahashi, "Thermodynamics of one-dimensional
 * solvable models", ch. 4); checks: g = pi/2 gives -1/pi (free fermions),
 * g = pi/3 gives -3/8 (the combinatorial point Delta = 1/2, mapped by the
 * sublattice rotation from Razumov-Stroganov's Delta = -1/2).  Trapezoid on
 * the smooth, exponentially decaying integrand. */
static double bethe_e0(double g)
{
	double h = 1e-3, s = (PI - g) / PI; /* x = 0 limit */
	for (int k = 1; k < 200000; k++) {
		double x = k * h;
		double v = sinh((PI - g) * x) / (sinh(PI * x) * cosh(g * x));
		s += 2 * v;
		if (v < 1e-18)
			break;
	}
	return cos(g) / 4 - sin(g) / 2 * s * h;
}

static void test_bethe(void)
{
	CHECK_CLOSE(bethe_e0(PI / 2), -1 / PI, 1e-12, "Bethe e0 at Delta=0");
	CHECK_CLOSE(bethe_e0(PI / 3), -0.375, 1e-12, "Bethe e0 at Delta=1/2");
	const double g = PI / 4, e0 = bethe_e0(g);
	thermal_params_t p = params(cos(g), 32, 64, 0.1, 4);
	const double betas[7] = {0, 5, 6, 7, 8, 9, 10}, mu = 0;
	thermal_table_t *t = NULL;
	double t0 = kz_wtime();
	OK(thermal_table_create(&t, &p, betas, 7, &mu, 1, err));
	const double *e = thermal_table_energy(t);
	printf("Bethe ansatz e0(Delta=cos pi/4) = %.8f; (%.1f s)\n", e0,
	       kz_wtime() - t0);
	for (int i = 1; i < 7; i++) {
		printf("  beta=%4.1f e=%.8f e-e0=%.3e\n", betas[i], e[i],
		       e[i] - e0);
		if (i > 1)
			CHECK(e[i] < e[i - 1], "e decreasing: %g then %g",
			      e[i - 1], e[i]);
		CHECK(e[i] > e0 - 1e-3, "e(%g) = %g above e0 = %g", betas[i],
		      e[i], e0);
	}
	CHECK_CLOSE(e[6], e0, 1e-2, "e(10) vs Bethe ansatz");
	/* and the approach itself: a c = 1 Luttinger liquid has e(T) - e0 =
	 * pi T^2 / (6 v) + ..., v = pi sin(g) / (2 g) (the site-centred
	 * energy of thermal.h follows it to beta = 20 at N = 32; a single
	 * centre bond would not, see thermal.h) */
	double v = PI * sin(g) / (2 * g), cft = PI / (6 * v * 100);
	printf("  e(10) - e0 = %.4e, pi T^2/(6 v) = %.4e\n", e[6] - e0, cft);
	CHECK_CLOSE((e[6] - e0) / cft, 1, 0.1, "e(10) - e0 vs CFT");
	thermal_table_destroy(&t);
}

/* ---- 6. inversion ------------------------------------------------------- */

static void test_invert_1d(const thermal_table_t *t)
{
	const double *b = thermal_table_betas(t), *e = thermal_table_energy(t);
	int nb = thermal_table_nbeta(t);
	double worst = 0, worst_node = 0;
	for (int i = 0; i < nb; i++) {
		double beta;
		OK(thermal_beta_from_energy(t, e[i], &beta, err));
		worst_node = fmax(worst_node, fabs(beta - b[i]));
	}
	for (int k = 0; k <= 1000; k++) {
		double x = e[nb - 1] + (e[0] - e[nb - 1]) * k / 1000.0, beta, y;
		OK(thermal_beta_from_energy(t, x, &beta, err));
		OK(thermal_eos_at(t, beta, 0, &y, NULL, err));
		worst = fmax(worst, fabs(y - x));
	}
	printf("1D inversion: nodes |dbeta| <= %.2e, e->beta->e <= %.2e\n",
	       worst_node, worst);
	CHECK_CLOSE(worst_node, 0, 1e-8, "beta_i -> e_i -> beta_i");
	CHECK_CLOSE(worst, 0, 1e-8, "e -> beta -> e round trip");
	double beta;
	FAILS(thermal_beta_from_energy(t, e[nb - 1] - 1e-6, &beta, err));
	CHECK(strstr(err, "outside") != NULL, "message: %s", err);
	FAILS(thermal_beta_from_energy(t, e[0] + 1e-6, &beta, err));
	FAILS(thermal_beta_from_energy(t, NAN, &beta, err));
	/* interpolation accuracy against the exact XX e(beta) between the
	 * grid points (spacing 0.1) */
	double wi = 0;
	for (double x = -4.95; x < 5; x += 0.1) {
		double y;
		OK(thermal_eos_at(t, x, 0, &y, NULL, err));
		wi = fmax(wi, fabs(y - ff_corr(x, 0, 1, 1)));
	}
	printf("XX e(beta) interpolated at mid-points: max error %.2e\n", wi);
	CHECK_CLOSE(wi, 0, 1e-6, "interpolated e(beta) vs free fermions");
}

/* a state purified at beta = 0.73 (between grid points) */
static void test_invert_073(const thermal_table_t *t)
{
	const thermal_params_t *p = thermal_table_params(t);
	mps_t *m = NULL;
	kz_cplx rho[64];
	double beta;
	OK(thermal_purify(&m, p, 0.73, 0, NULL, err));
	OK(thermal_centre_rho3(m, rho, err));
	double e = 0.5 * (obs_rho3_bond_energy(rho, 0, p->J, p->delta) +
			  obs_rho3_bond_energy(rho, 1, p->J, p->delta));
	OK(thermal_beta_from_energy(t, e, &beta, err));
	printf("purified at beta=0.73: e=%.12f, inverted beta=%.10f\n", e,
	       beta);
	CHECK_CLOSE(beta, 0.73, 1e-6, "inverted beta of a beta=0.73 state");
	kz_cplx ri[64];
	OK(thermal_rho3_at(t, beta, 0, ri, err));
	CHECK_CLOSE(max_diff(ri, rho, 64), 0, 1e-6,
		    "interpolated rho3 at the inverted beta");
	double tr = 0, herm = 0;
	for (int a = 0; a < 8; a++) {
		tr += creal(ri[a + 8 * a]);
		for (int b = 0; b < 8; b++)
			herm = fmax(herm,
				    cabs(ri[a + 8 * b] - conj(ri[b + 8 * a])));
	}
	CHECK_CLOSE(tr, 1, 1e-12, "interpolated rho3 has trace 1");
	CHECK(herm == 0, "interpolated rho3 Hermitian (%g)", herm);
	mps_destroy(&m);
}

static void test_invert_2d(void)
{
	const double D = cos(PI / 4);
	thermal_params_t p = params(D, 16, 32, 0.1, 4);
	double betas[17], mus[9];
	for (int i = 0; i < 17; i++)
		betas[i] = -2 + 0.25 * i;
	for (int j = 0; j < 9; j++)
		mus[j] = -1 + 0.25 * j;
	thermal_table_t *t = NULL;
	double t0 = kz_wtime();
	OK(thermal_table_create(&t, &p, betas, 17, mus, 9, err));
	printf("2D table XXZ N=16: 17 x 9 in %.1f s\n", kz_wtime() - t0);
	const double *e = thermal_table_energy(t), *sz = thermal_table_sz(t);
	double wb = 0, wm = 0;
	for (int j = 0; j < 9; j++)
		for (int i = 0; i < 17; i++) {
			if (betas[i] == 0)
				continue;
			double b, m;
			int n = i + 17 * j;
			OK(thermal_beta_mu_from(t, e[n], sz[n], &b, &m, err));
			wb = fmax(wb, fabs(b - betas[i]));
			wm = fmax(wm, fabs(m - mus[j]));
		}
	printf("2D inversion at nodes: |dbeta| <= %.2e, |dmu| <= %.2e\n", wb,
	       wm);
	CHECK_CLOSE(wb, 0, 1e-8, "node beta round trip");
	CHECK_CLOSE(wm, 0, 1e-8, "node mu round trip");
	const double pts[6][2] = {{0.63, 0.37},  {-1.37, -0.81}, {1.9, 0.05},
				  {-0.4, 0.9},   {0.13, -0.55},  {1.11, -0.99}};
	wb = wm = 0;
	for (int k = 0; k < 6; k++) {
		double x, y, b, m;
		OK(thermal_eos_at(t, pts[k][0], pts[k][1], &x, &y, err));
		OK(thermal_beta_mu_from(t, x, y, &b, &m, err));
		wb = fmax(wb, fabs(b - pts[k][0]));
		wm = fmax(wm, fabs(m - pts[k][1]));
	}
	printf("2D inversion off the grid: |dbeta| <= %.2e, |dmu| <= %.2e\n",
	       wb, wm);
	CHECK_CLOSE(wb, 0, 1e-8, "off-grid beta round trip");
	CHECK_CLOSE(wm, 0, 1e-8, "off-grid mu round trip");
	/* the interpolant against a state purified off the grid */
	{
		mps_t *m = NULL;
		kz_cplx rho[64], ri[64];
		OK(thermal_purify(&m, &p, -0.85, 0.4, NULL, err));
		OK(thermal_centre_rho3(m, rho, err));
		OK(thermal_rho3_at(t, -0.85, 0.4, ri, err));
		double d = max_diff(rho, ri, 64);
		printf("2D rho3 interpolated at (-0.85, 0.4): error %.2e\n", d);
		CHECK_CLOSE(d, 0, 1e-4, "2D interpolated rho3");
		mps_destroy(&m);
	}
	double b, m;
	/* outside: energy below anything on the grid, and an impossible
	 * magnetisation */
	FAILS(thermal_beta_mu_from(t, -5.0, 0.0, &b, &m, err));
	FAILS(thermal_beta_mu_from(t, 0.0, 0.45, &b, &m, err));
	FAILS(thermal_eos_at(t, 2.5, 0, &b, &m, err));
	FAILS(thermal_eos_at(t, 0, -1.5, &b, &m, err));
	/* the beta = 0 point: every mu is the same state */
	FAILS(thermal_beta_mu_from(t, 0.0, 0.0, &b, &m, err));
	/* no mu = 0 row needed for 2D; the 1D inversion uses mu = 0 */
	OK(thermal_beta_from_energy(t, e[12 + 17 * 4], &b, err));
	CHECK_CLOSE(b, betas[12], 1e-8, "1D inversion on a 2D table");
	thermal_table_destroy(&t);
}

/* ---- 7. threads: independent runs, identical tables ------------------- */

static void test_threads(void)
{
	thermal_params_t p = params(0.3, 10, 32, 0.1, 4);
	const double betas[4] = {-1, -0.5, 0.5, 1}, mus[3] = {-0.5, 0, 0.5};
	thermal_table_t *t1 = NULL, *t2 = NULL;
	OK(thermal_table_create(&t1, &p, betas, 4, mus, 3, err));
	p.threads = 2;
	OK(thermal_table_create(&t2, &p, betas, 4, mus, 3, err));
	double d = max_diff(thermal_table_rho3(t1), thermal_table_rho3(t2),
			    64 * 12);
	CHECK(d == 0, "threads=2 table differs from threads=1 by %g", d);
	CHECK(thermal_table_discarded(t1) == thermal_table_discarded(t2),
	      "discarded weights differ");
	thermal_table_destroy(&t1);
	thermal_table_destroy(&t2);
}

/* ---- 8. bad arguments ---------------------------------------------------- */

static void test_bad_args(void)
{
	thermal_params_t p = params(0.5, 8, 16, 0.1, 4), q;
	const double betas[3] = {-1, 0, 1}, mu0 = 0, mus2[2] = {0, 0};
	thermal_table_t *t = NULL;
	mps_t *m = NULL;
	double x, y;
#define BAD(field, val)                                                     \
	do {                                                                \
		q = p;                                                      \
		q.field = val;                                              \
		FAILS(thermal_table_create(&t, &q, betas, 3, &mu0, 1, err)); \
		CHECK(t == NULL, "no table on failure");                    \
		FAILS(thermal_purify(&m, &q, 1, 0, NULL, err));             \
		CHECK(m == NULL, "no state on failure");                    \
	} while (0)
	BAD(n_sites, 7);
	BAD(n_sites, 4);
	BAD(chi_max, 0);
	BAD(cutoff, -1);
	BAD(dtau, 0);
	BAD(dtau, NAN);
	BAD(order, 3);
	BAD(threads, 0);
	BAD(J, 0);
	BAD(delta, INFINITY);
#undef BAD
	FAILS(thermal_table_create(&t, NULL, betas, 3, &mu0, 1, err));
	FAILS(thermal_table_create(NULL, &p, betas, 3, &mu0, 1, err));
	FAILS(thermal_table_create(&t, &p, betas, 1, &mu0, 1, err));
	FAILS(thermal_table_create(&t, &p, betas, 3, &mu0, 0, err));
	FAILS(thermal_table_create(&t, &p, betas, 3, mus2, 2, err));
	const double bad_b[3] = {0, -1, 1}, nan_b[3] = {-1, NAN, 1};
	FAILS(thermal_table_create(&t, &p, bad_b, 3, &mu0, 1, err));
	FAILS(thermal_table_create(&t, &p, nan_b, 3, &mu0, 1, err));
	FAILS(thermal_purify(&m, &p, NAN, 0, NULL, err));
	FAILS(thermal_purify(&m, &p, 1, INFINITY, NULL, err));
	FAILS(thermal_purify(NULL, &p, 1, 0, NULL, err));

	/* tables from data: a mu = 0 row that is not monotone, no rho */
	const double e3[3] = {0.1, -0.2, 0.0}, s3[3] = {0, 0, 0};
	FAILS(thermal_table_create_from(&t, NULL, betas, 3, &mu0, 1, NULL,
					s3, NULL, err));
	const double enan[3] = {0.1, NAN, 0};
	FAILS(thermal_table_create_from(&t, NULL, betas, 3, &mu0, 1, enan,
					s3, NULL, err));
	OK(thermal_table_create_from(&t, NULL, betas, 3, &mu0, 1, e3, s3,
				     NULL, err));
	FAILS(thermal_beta_from_energy(t, -0.1, &x, err));
	kz_cplx rho[64];
	FAILS(thermal_rho3_at(t, 0, 0, rho, err));
	FAILS(thermal_beta_mu_from(t, -0.1, 0, &x, &y, err));
	FAILS(thermal_eos_at(t, 0, 0.1, &x, &y, err)); /* only mu = 0 */
	OK(thermal_eos_at(t, 0.5, 0, &x, &y, err));
	FAILS(thermal_eos_at(NULL, 0.5, 0, &x, &y, err));
	thermal_table_destroy(&t);
	thermal_table_destroy(&t); /* NULL is fine */
	thermal_table_destroy(NULL);
	/* a table without a mu = 0 row */
	const double mu1 = 0.3;
	OK(thermal_table_create_from(&t, NULL, betas, 3, &mu1, 1, e3, s3,
				     NULL, err));
	FAILS(thermal_beta_from_energy(t, -0.1, &x, err));
	thermal_table_destroy(&t);

	/* reduced density matrices */
	OK(thermal_purify(&m, &p, 0.5, 0, NULL, err));
	kz_cplx r[256];
	const int s_bad[3] = {2, 1, 4}, s_out[2] = {3, 16}, s5[5] = {0, 1, 2,
								     3, 4};
	FAILS(thermal_rho_sites(m, 3, s_bad, r, err));
	FAILS(thermal_rho_sites(m, 2, s_out, r, err));
	FAILS(thermal_rho_sites(m, 5, s5, r, err));
	FAILS(thermal_rho_sites(m, 0, s5, r, err));
	FAILS(thermal_rho_sites(NULL, 1, s5, r, err));
	FAILS(thermal_centre_rho3(NULL, r, err));
	mps_destroy(&m);
	int up[8] = {1, 0, 1, 0, 1, 0, 1, 0};
	OK(mps_create_product(&m, 8, up, err));
	FAILS(thermal_centre_rho3(m, r, err)); /* N = 4: not a purified chain */
	mps_destroy(&m);
}

int main(void)
{
	double t0 = kz_wtime();
	test_bad_args();
	test_rho_sites();
	test_threads();
	test_small_exact();
	test_high_t();
	thermal_table_t *xx = NULL;
	test_xx(&xx);
	test_invert_1d(xx);
	test_invert_073(xx);
	thermal_table_destroy(&xx);
	test_xx_mu();
	test_invert_2d();
	test_bethe();
	printf("total %.1f s\n", kz_wtime() - t0);
	return check_done("test_thermal");
}
