/* test_tebd: the U(1) MPS and TEBD held against exact diagonalisation. */
#include <complex.h>
#include <lapacke.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "check.h"
#include "ed.h"
#include "mps.h"
#include "mps_io.h"
#include "mps_vector.h"
#include "obs.h"
#include "tebd.h"

static char err[KZ_ERRLEN];

static void domain_wall(int L, int *up)
{
	for (int i = 0; i < L; i++)
		up[i] = i < L / 2;
}

/* || psi_mps - psi_exact || over the ED basis */
static double vec_error(const mps_t *m, const ed_t *ed, const kz_cplx *psi)
{
	double e = 0;
	for (size_t k = 0; k < ed_dim(ed); k++) {
		kz_cplx d = mps_amplitude(m, ed_state(ed, k)) - psi[k];
		e += creal(d * conj(d));
	}
	return sqrt(e);
}

static tebd_t *make_tebd(const chain_t *c, tebd_scheme_t s, double dt,
			 int chi, double cutoff, int threads)
{
	tebd_params_t p;
	tebd_params_default(&p);
	p.scheme = s;
	p.dt = dt;
	p.chi_max = chi;
	p.cutoff = cutoff;
	p.threads = threads;
	tebd_t *t = NULL;
	OK(tebd_create(&t, c, &p, err));
	return t;
}

/* Acceptance 1 and 5: L = 12 junction, every observable against ED. */
static void test_junction_vs_ed(int threads)
{
	const int L = 12;
	int up[L];
	domain_wall(L, up);
	chain_t *c;
	OK(chain_create_junction(&c, L, 1.0, 0.0, cos(M_PI / 4), err));
	ed_t *ed;
	OK(ed_create(&ed, c, L / 2, err));
	kz_cplx *psi = malloc(ed_dim(ed) * sizeof(kz_cplx));
	OK(ed_product_state(ed, up, psi, err));
	mps_t *m;
	OK(mps_create_product(&m, L, up, err));
	tebd_t *t = make_tebd(c, TEBD_FOREST_RUTH4, 0.01, 64, 0.0, threads);
	obs_t *o;
	OK(obs_create(&o, L, err));
	double tnow = 0;
	const double times[] = {1, 3, 5};
	for (int k = 0; k < 3; k++) {
		int n = (int)lround((times[k] - tnow) / 0.01);
		OK(tebd_run(t, m, n, err));
		OK(ed_evolve(ed, psi, times[k] - tnow, err));
		tnow = times[k];
		OK(obs_measure(o, m, c, err));
		double tol = 1e-8, szsum = 0;
		char what[64];
		for (int i = 0; i < L; i++) {
			snprintf(what, sizeof what, "t=%g sz[%d]", tnow, i);
			CHECK_CLOSE(o->sz[i], ed_sz(ed, psi, i), tol, what);
			szsum += o->sz[i];
		}
		CHECK_CLOSE(szsum, 0.0, 1e-12, "total Sz");
		for (int i = 0; i < L - 1; i++) {
			snprintf(what, sizeof what, "t=%g energy[%d]", tnow, i);
			CHECK_CLOSE(o->energy[i], ed_bond_energy(ed, psi, i),
				    tol, what);
			snprintf(what, sizeof what, "t=%g spin_cur[%d]", tnow,
				 i);
			CHECK_CLOSE(o->spin_current[i],
				    ed_spin_current(ed, psi, i), tol, what);
			snprintf(what, sizeof what, "t=%g entropy[%d]", tnow,
				 i);
			CHECK_CLOSE(o->entropy[i], ed_entropy(ed, psi, i), tol,
				    what);
			double jl = i > 0 ? ed_energy_flow(ed, psi, i) : 0;
			double jr = i + 1 < L - 1 ? ed_energy_flow(ed, psi, i + 1)
						  : 0;
			snprintf(what, sizeof what, "t=%g J^E[%d]", tnow, i);
			CHECK_CLOSE(o->energy_current[i], 0.5 * (jl + jr), tol,
				    what);
		}
		for (int b = 1; b < L - 1; b++) {
			snprintf(what, sizeof what, "t=%g j[%d]", tnow, b);
			CHECK_CLOSE(o->energy_flow[b],
				    ed_energy_flow(ed, psi, b), tol, what);
		}
		for (int i = 0; i + 2 < L; i++) {
			kz_cplx r1[64], r2[64];
			OK(mps_rho3(m, i, r1, err));
			OK(ed_rho3(ed, psi, i, r2, err));
			double mx = 0;
			for (int a = 0; a < 64; a++)
				mx = fmax(mx, cabs(r1[a] - r2[a]));
			snprintf(what, sizeof what, "t=%g rho3[%d]", tnow, i);
			CHECK_CLOSE(mx, 0.0, tol, what);
		}
		CHECK_CLOSE(o->norm, 1.0, 1e-10, "norm");
		/* the U(1) MPS equals the exact state (to Trotter accuracy
		 * at dt = 0.01: the whole vector) */
		double ve = vec_error(m, ed, psi);
		snprintf(what, sizeof what, "t=%g |psi_mps - psi_ed|", tnow);
		CHECK_CLOSE(ve, 0.0, 1e-8, what);
		printf("junction L=12 threads=%d t=%g: |psi error| = %.3e, "
		       "max bond %d\n",
		       threads, tnow, ve, mps_max_bond_dim(m));
	}
	/* only singular values under the noise floor (1e-14) are dropped */
	CHECK(tebd_discarded_total(t) < 1e-11,
	      "no truncation expected, discarded %g",
	      tebd_discarded_total(t));
	obs_destroy(&o);
	tebd_destroy(&t);
	mps_destroy(&m);
	free(psi);
	ed_destroy(&ed);
	chain_destroy(&c);
}

/* Acceptance 5: the MPS machinery itself is exact.  Strang splitting
 * applied to the ED vector gate by gate (gates from an independent 4x4
 * eigendecomposition) equals TEBD without truncation to round-off. */
static void apply_gate_vec(const ed_t *ed, const chain_t *c, int i,
			   double tau, kz_cplx *psi)
{
	/* exp(-i tau h) on the 4x4 block by its spectral decomposition:
	 * h = diag(JD/4) on |00>,|11>; on (|01>,|10>) eigenvalues -JD/4 +- J/2
	 * with eigenvectors (1, +-1)/sqrt2. */
	double J = c->J[i], D = c->Delta[i];
	kz_cplx ed0 = cexp(-I * tau * J * D / 4);
	kz_cplx ep = cexp(-I * tau * (-J * D / 4 + J / 2));
	kz_cplx em = cexp(-I * tau * (-J * D / 4 - J / 2));
	size_t n = ed_dim(ed);
	kz_cplx *out = calloc(n, sizeof(kz_cplx));
	for (size_t k = 0; k < n; k++) {
		unsigned long b = ed_state(ed, k);
		int s1 = (b >> i) & 1, s2 = (b >> (i + 1)) & 1;
		if (s1 == s2) {
			out[k] += ed0 * psi[k];
		} else {
			unsigned long f = b ^ (3UL << i);
			long kf = ed_index(ed, f);
			out[k] += 0.5 * (ep + em) * psi[k];
			out[kf] += 0.5 * (ep - em) * psi[k];
		}
	}
	memcpy(psi, out, n * sizeof(kz_cplx));
	free(out);
}

static void test_strang_exact(void)
{
	enum { L = 10 };
	int up[L] = {1, 0, 1, 1, 0, 0, 1, 0, 1, 0};
	double J[L - 1], D[L - 1];
	for (int i = 0; i < L - 1; i++) {
		J[i] = 1.0 + 0.1 * i;
		D[i] = 0.3 * sin(i + 1.0);
	}
	chain_t *c;
	OK(chain_create(&c, L, J, D, err));
	ed_t *ed;
	OK(ed_create(&ed, c, 5, err));
	kz_cplx *psi = malloc(ed_dim(ed) * sizeof(kz_cplx));
	OK(ed_product_state(ed, up, psi, err));
	mps_t *m;
	OK(mps_create_product(&m, L, up, err));
	const double dt = 0.13;
	const int nsteps = 12;
	tebd_t *t = make_tebd(c, TEBD_TROTTER2, dt, 1000, 0.0, 1);
	OK(tebd_run(t, m, nsteps, err));
	for (int s = 0; s < nsteps; s++) {
		for (int i = 0; i < L - 1; i += 2)
			apply_gate_vec(ed, c, i, dt / 2, psi);
		for (int i = 1; i < L - 1; i += 2)
			apply_gate_vec(ed, c, i, dt, psi);
		for (int i = 0; i < L - 1; i += 2)
			apply_gate_vec(ed, c, i, dt / 2, psi);
	}
	double e = vec_error(m, ed, psi);
	printf("Strang, gate by gate on the vector vs TEBD: %.3e\n", e);
	CHECK_CLOSE(e, 0.0, 1e-12, "TEBD equals the exact Trotter product");
	/* and an exact state handed in through mps_create_from_vector */
	mps_t *m2;
	size_t n = ed_dim(ed);
	unsigned long *bits = malloc(n * sizeof *bits);
	for (size_t k = 0; k < n; k++)
		bits[k] = ed_state(ed, k);
	OK(mps_create_from_vector(&m2, L, 5, n, bits, psi, err));
	CHECK_CLOSE(vec_error(m2, ed, psi), 0.0, 1e-12,
		    "mps_create_from_vector reproduces the vector");
	for (int i = 0; i < L - 1; i++)
		CHECK_CLOSE(mps_entropy(m2, i), ed_entropy(ed, psi, i), 1e-10,
			    "entropy of a handed-in state");
	/* evolving it further equals evolving the TEBD state */
	OK(tebd_run(t, m, 3, err));
	tebd_t *t2 = make_tebd(c, TEBD_TROTTER2, dt, 1000, 0.0, 1);
	OK(tebd_run(t2, m2, 3, err));
	double d = 0;
	for (size_t k = 0; k < n; k++)
		d = fmax(d, cabs(mps_amplitude(m, bits[k]) -
				 mps_amplitude(m2, bits[k])));
	CHECK_CLOSE(d, 0.0, 1e-12, "handed-in MPS evolves like the original");
	tebd_destroy(&t2);
	mps_destroy(&m2);
	free(bits);
	tebd_destroy(&t);
	mps_destroy(&m);
	free(psi);
	ed_destroy(&ed);
	chain_destroy(&c);
}

/* Acceptance 4: Trotter error orders and the shipped scheme's error. */
static double trotter_error(tebd_scheme_t s, double dt, double tend, int L)
{
	int up[32];
	domain_wall(L, up);
	chain_t *c;
	OK(chain_create_junction(&c, L, 1.0, 0.0, cos(M_PI / 4), err));
	ed_t *ed;
	OK(ed_create(&ed, c, L / 2, err));
	kz_cplx *psi = malloc(ed_dim(ed) * sizeof(kz_cplx));
	OK(ed_product_state(ed, up, psi, err));
	OK(ed_evolve(ed, psi, tend, err));
	mps_t *m;
	OK(mps_create_product(&m, L, up, err));
	tebd_t *t = make_tebd(c, s, dt, 1000, 0.0, 1);
	OK(tebd_run(t, m, (int)lround(tend / dt), err));
	double e = vec_error(m, ed, psi);
	tebd_destroy(&t);
	mps_destroy(&m);
	free(psi);
	ed_destroy(&ed);
	chain_destroy(&c);
	return e;
}

static void test_trotter_order(void)
{
	double e2a = trotter_error(TEBD_TROTTER2, 0.1, 2.0, 10);
	double e2b = trotter_error(TEBD_TROTTER2, 0.05, 2.0, 10);
	printf("trotter2: err(0.1) = %.3e, err(0.05) = %.3e, ratio %.2f\n", e2a,
	       e2b, e2a / e2b);
	CHECK(fabs(e2a / e2b - 4) < 0.4, "order 2 ratio %g", e2a / e2b);
	const tebd_scheme_t four[] = {TEBD_FOREST_RUTH4, TEBD_OMELYAN4,
				      TEBD_SUZUKI4};
	double e002[3];
	for (int k = 0; k < 3; k++) {
		double a = trotter_error(four[k], 0.2, 2.0, 10);
		double b = trotter_error(four[k], 0.1, 2.0, 10);
		e002[k] = trotter_error(four[k], 0.02, 5.0, 12);
		printf("%-13s err(0.2) = %.3e, err(0.1) = %.3e, ratio %.2f; "
		       "dt=0.02 L=12 t=5: %.3e (%d layers/step)\n",
		       tebd_scheme_name(four[k]), a, b, a / b, e002[k],
		       tebd_scheme_layers(four[k]));
		CHECK(fabs(a / b - 16) < 2.5, "%s ratio %g",
		      tebd_scheme_name(four[k]), a / b);
	}
	/* the shipped order-4 scheme: error below 1e-6 at dt = 0.02 and no
	 * scheme that also meets that bound has fewer layers */
	tebd_scheme_t shipped;
	OK(tebd_scheme_for_order(4, &shipped, err));
	CHECK(shipped == TEBD_FOREST_RUTH4, "order 4 ships %s",
	      tebd_scheme_name(shipped));
	CHECK(e002[0] < 1e-6, "shipped order-4 error %g >= 1e-6", e002[0]);
	for (int k = 1; k < 3; k++)
		CHECK(e002[k] >= 1e-6 || tebd_scheme_layers(four[k]) >=
						 tebd_scheme_layers(shipped),
		      "%s is as accurate enough with fewer layers",
		      tebd_scheme_name(four[k]));
}

/* Acceptance 3: continuity equations from the evolution itself. */
static void test_continuity(void)
{
	const int L = 16;
	int up[L];
	domain_wall(L, up);
	up[3] = 0, up[12] = 1; /* less symmetric */
	chain_t *c;
	OK(chain_create_junction(&c, L, 1.0, 0.0, cos(M_PI / 3), err));
	mps_t *m;
	OK(mps_create_product(&m, L, up, err));
	const double h = 0.002;
	tebd_t *t = make_tebd(c, TEBD_FOREST_RUTH4, h, 200, 1e-12, 1);
	OK(tebd_run(t, m, 500, err)); /* t = 1 - h */
	obs_t *o0, *o1, *o2;
	OK(obs_create(&o0, L, err));
	OK(obs_create(&o1, L, err));
	OK(obs_create(&o2, L, err));
	OK(obs_measure(o0, m, c, err));
	OK(tebd_run(t, m, 1, err));
	OK(obs_measure(o1, m, c, err));
	OK(tebd_run(t, m, 1, err));
	OK(obs_measure(o2, m, c, err));
	double msz = 0, me = 0, scale = 0;
	for (int i = 0; i < L; i++) {
		double d = (o2->sz[i] - o0->sz[i]) / (2 * h);
		double jl = i > 0 ? o1->spin_current[i - 1] : 0;
		double jr = i < L - 1 ? o1->spin_current[i] : 0;
		msz = fmax(msz, fabs(d - (jl - jr)));
		scale = fmax(scale, fabs(d));
	}
	for (int i = 0; i < L - 1; i++) {
		double d = (o2->energy[i] - o0->energy[i]) / (2 * h);
		me = fmax(me, fabs(d - (o1->energy_flow[i] -
					o1->energy_flow[i + 1])));
		scale = fmax(scale, fabs(d));
	}
	printf("continuity: max |dSz/dt - (J_{i-1}-J_i)| = %.2e, max |dh/dt "
	       "- (j_i - j_{i+1})| = %.2e (largest rate %.2f)\n",
	       msz, me, scale);
	CHECK(scale > 0.05, "rates too small to test: %g", scale);
	CHECK_CLOSE(msz, 0.0, 1e-5, "spin continuity");
	CHECK_CLOSE(me, 0.0, 1e-5, "energy continuity");
	/* and the wrong sign would fail: */
	double wrong = 0;
	for (int i = 1; i < L - 1; i++) {
		double d = (o2->sz[i] - o0->sz[i]) / (2 * h);
		wrong = fmax(wrong, fabs(d + (o1->spin_current[i - 1] -
					      o1->spin_current[i])));
	}
	CHECK(wrong > 1e-2, "sign test is not sensitive (%g)", wrong);
	obs_destroy(&o0);
	obs_destroy(&o1);
	obs_destroy(&o2);
	tebd_destroy(&t);
	mps_destroy(&m);
	chain_destroy(&c);
}

/* Results must not depend on the number of threads. */
static void test_threads_identical(void)
{
	const int L = 40;
	int up[L];
	domain_wall(L, up);
	chain_t *c;
	OK(chain_create_junction(&c, L, 1.0, 0.0, cos(M_PI / 4), err));
	mps_t *m1, *m2;
	OK(mps_create_product(&m1, L, up, err));
	OK(mps_create_product(&m2, L, up, err));
	tebd_t *t1 = make_tebd(c, TEBD_FOREST_RUTH4, 0.05, 16, 1e-10, 1);
	tebd_t *t2 = make_tebd(c, TEBD_FOREST_RUTH4, 0.05, 16, 1e-10, 2);
	OK(tebd_run(t1, m1, 100, err));
	OK(tebd_run(t2, m2, 100, err));
	int same = 1;
	double l1[64], l2[64];
	for (int b = 0; b <= L; b++) {
		int n1 = mps_schmidt_values(m1, b, l1);
		int n2 = mps_schmidt_values(m2, b, l2);
		if (n1 != n2 || memcmp(l1, l2, (size_t)n1 * sizeof(double)))
			same = 0;
	}
	CHECK(same, "1 and 2 threads give bitwise different states");
	CHECK(tebd_discarded_total(t1) > 0, "truncation expected");
	CHECK(tebd_discarded_total(t1) == tebd_discarded_total(t2),
	      "discarded weight differs");
	CHECK(mps_max_bond_dim(m1) == 16, "chi_max reached: %d",
	      mps_max_bond_dim(m1));
	tebd_reset_discarded(t1);
	CHECK(tebd_discarded_total(t1) == 0 && tebd_discarded_max(t1) == 0 &&
		      tebd_discarded_bond(t1)[L / 2] == 0,
	      "discard accumulators not reset");
	tebd_destroy(&t1);
	tebd_destroy(&t2);
	mps_destroy(&m1);
	mps_destroy(&m2);
	chain_destroy(&c);
}

static int cmp_desc(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a < b) - (a > b);
}

/* The stored Schmidt values of every bond against the singular values of
 * the state vector itself, cut at that bond (zgesdd on the 2^b x 2^(L-b)
 * matrix), and the norm of that vector: a check of the sector SVDs and of
 * the kept rows of V^dag that needs no reference evolution.  Without
 * truncation (chi = 64 = 2^(L/2)) they agree to the cutoff; with it
 * (chi = 6) only to about the discarded weight, since truncating one bond
 * moves its neighbours slightly off canonical form (Vidal, PRL 91, 147902
 * (2003)): asserted below the discarded weight. */
static void test_schmidt_vs_vector(int chi)
{
	const int L = 12;
	const size_t dim = (size_t)1 << L;
	int up[L];
	domain_wall(L, up);
	chain_t *c;
	OK(chain_create_junction(&c, L, 1.0, 0.0, cos(M_PI / 4), err));
	mps_t *m;
	OK(mps_create_product(&m, L, up, err));
	tebd_t *t = make_tebd(c, TEBD_FOREST_RUTH4, 0.02, chi, 1e-10, 1);
	OK(tebd_run(t, m, 200, err));
	kz_cplx *psi = malloc(dim * sizeof *psi), *a = kz_blas_alloc(dim * sizeof *a);
	double *s = malloc(64 * sizeof *s), lam[64], nrm = 0, d = 0;
	for (size_t x = 0; x < dim; x++) {
		psi[x] = mps_amplitude(m, x);
		nrm += creal(psi[x] * conj(psi[x]));
	}
	for (int b = 1; b < L; b++) {
		/* rows: sites 0..b-1 (low bits), columns: sites b..L-1 */
		int rows = 1 << b, cols = (int)(dim >> b);
		int mn = rows < cols ? rows : cols;
		memcpy(a, psi, dim * sizeof *a);
		if (LAPACKE_zgesdd(LAPACK_COL_MAJOR, 'N', rows, cols, a, rows, s,
				   NULL, 1, NULL, 1))
			CHECK(0, "zgesdd failed at bond %d", b);
		int n = mps_schmidt_values(m, b, lam);
		qsort(lam, (size_t)n, sizeof *lam, cmp_desc);
		CHECK(n <= chi, "bond %d has dimension %d > chi_max", b, n);
		for (int k = 0; k < mn; k++)
			d = fmax(d, fabs((k < n ? lam[k] : 0) - s[k]));
	}
	double disc = tebd_discarded_total(t);
	printf("L=12 chi=%d t=4, discarded %.2e: |norm^2-1| = %.1e, max "
	       "|lambda - singular value of the vector| = %.1e\n",
	       chi, disc, fabs(nrm - 1), d);
	CHECK_CLOSE(nrm, 1, 1e-12, "norm of the state vector");
	if (chi < 64) {
		CHECK(disc > 1e-6, "no truncation happened (%g)", disc);
		CHECK(d < disc, "Schmidt values vs the vector: %g", d);
	} else {
		CHECK_CLOSE(d, 0, 1e-10, "Schmidt values vs the vector");
	}
	free(psi);
	free(a);
	free(s);
	tebd_destroy(&t);
	mps_destroy(&m);
	chain_destroy(&c);
}

static void test_no_allocation_at_saturation(void)
{
	const int L = 40;
	int up[L];
	domain_wall(L, up);
	chain_t *c;
	OK(chain_create_junction(&c, L, 1.0, 0.0, cos(M_PI / 4), err));
	mps_t *m;
	OK(mps_create_product(&m, L, up, err));
	tebd_t *t = make_tebd(c, TEBD_FOREST_RUTH4, 0.05, 8, 1e-10, 2);
	OK(tebd_run(t, m, 600, err)); /* saturated everywhere it will be */
	OK(tebd_run(t, m, 10, err));
	struct mallinfo2 a = mallinfo2();
	OK(tebd_run(t, m, 50, err));
	struct mallinfo2 b = mallinfo2();
	printf("heap in use before/after 50 saturated steps: %zu / %zu bytes "
	       "(max bond %d)\n",
	       a.uordblks, b.uordblks, mps_max_bond_dim(m));
	CHECK(a.uordblks == b.uordblks && a.arena == b.arena,
	      "heap changed during saturated steps: %zu -> %zu", a.uordblks,
	      b.uordblks);
	tebd_destroy(&t);
	mps_destroy(&m);
	chain_destroy(&c);
}

/* Acceptance 6: bad arguments are errors with messages. */
static void test_bad_args(void)
{
	chain_t *c = NULL;
	mps_t *m = NULL;
	tebd_t *t = NULL;
	int up[8] = {1, 1, 1, 1, 0, 0, 0, 0};
	err[0] = 0;
	CHECK(chain_create_junction(&c, 7, 1, 0, 0.5, err) == KZ_EINVAL &&
		      strstr(err, "even"),
	      "odd L: %s", err);
	CHECK(chain_create_junction(&c, 2, 1, 0, 0.5, err) == KZ_EINVAL,
	      "tiny L");
	CHECK(mps_create_product(&m, 5, up, err) == KZ_EINVAL && !m,
	      "odd L product");
	int bad[8] = {1, 2, 0, 0, 0, 0, 0, 0};
	CHECK(mps_create_product(&m, 8, bad, err) == KZ_EINVAL, "spin 2");
	OK(chain_create_junction(&c, 8, 1, 0, 0.5, err));
	tebd_params_t p;
	tebd_params_default(&p);
	p.chi_max = 0;
	CHECK(tebd_create(&t, c, &p, err) == KZ_EINVAL && !t &&
		      strstr(err, "chi_max"),
	      "chi 0: %s", err);
	tebd_params_default(&p);
	p.dt = 0;
	CHECK(tebd_create(&t, c, &p, err) == KZ_EINVAL, "dt 0");
	p.dt = -0.1;
	CHECK(tebd_create(&t, c, &p, err) == KZ_EINVAL, "dt < 0");
	p.dt = NAN;
	CHECK(tebd_create(&t, c, &p, err) == KZ_EINVAL, "dt NaN");
	p.dt = INFINITY;
	CHECK(tebd_create(&t, c, &p, err) == KZ_EINVAL, "dt inf");
	tebd_params_default(&p);
	p.cutoff = -1;
	CHECK(tebd_create(&t, c, &p, err) == KZ_EINVAL, "cutoff < 0");
	tebd_scheme_t s;
	CHECK(tebd_scheme_for_order(3, &s, err) == KZ_EINVAL, "order 3");
	tebd_params_default(&p);
	OK(tebd_create(&t, c, &p, err));
	OK(mps_create_product(&m, 8, up, err));
	mps_t *m10;
	int up10[10] = {1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
	OK(mps_create_product(&m10, 10, up10, err));
	CHECK(tebd_run(t, m10, 1, err) == KZ_EINVAL, "length mismatch");
	CHECK(tebd_run(t, m, -1, err) == KZ_EINVAL, "negative steps");
	kz_cplx rho[64];
	CHECK(mps_rho3(m, 6, rho, err) == KZ_EINVAL && strstr(err, "range"),
	      "rho3 site out of range: %s", err);
	CHECK(mps_rho3(m, -1, rho, err) == KZ_EINVAL, "rho3 site -1");
	CHECK(mps_rho2(m, 7, rho, err) == KZ_EINVAL, "rho2 site 7");
	CHECK(isnan(mps_entropy(m, 7)), "entropy bond out of range");
	CHECK(mps_amplitude(m, 0x1) == 0, "wrong sector amplitude is 0");
	obs_t *o = NULL;
	CHECK(obs_create(&o, 9, err) == KZ_EINVAL, "obs odd L");
	mps_destroy(&m10);
	mps_destroy(&m);
	tebd_destroy(&t);
	chain_destroy(&c);
	/* destroy accepts NULL */
	mps_destroy(&m);
	tebd_destroy(NULL);
}

/* A stop hook that stops at layer `at` (once) and records what it saw. */
typedef struct {
	long at, calls, lo, hi;
} stop_at_t;

static int stop_at(void *arg, long done)
{
	stop_at_t *s = arg;
	s->calls++;
	s->lo = s->calls == 1 || done < s->lo ? done : s->lo;
	s->hi = done > s->hi ? done : s->hi;
	return done == s->at;
}

static unsigned char *serial(const mps_t *m, size_t *n)
{
	*n = mps_serial_bytes(m);
	unsigned char *b = malloc(*n);
	OK(mps_serialise(m, b, *n, err));
	return b;
}

/* Stopping between layers and continuing from a copy of the state (through
 * its serialised bytes, as a checkpoint does) with a new kernel object,
 * the discarded weight restored: bitwise the uninterrupted run, for stops
 * inside a step, at a merged layer between steps, and twice in one run. */
static void test_stop_resume(int threads)
{
	const int L = 24, nsteps = 5;
	int up[L];
	domain_wall(L, up);
	chain_t *c;
	OK(chain_create_junction(&c, L, 1.0, 0.0, 0.5, err));
	mps_t *ref;
	OK(mps_create_product(&ref, L, up, err));
	tebd_t *t = make_tebd(c, TEBD_FOREST_RUTH4, 0.1, 10, 1e-10, threads);
	/* past the first truncations, so the discard sums matter */
	OK(tebd_run(t, ref, 12, err));
	unsigned char *start = NULL;
	size_t nstart = 0;
	start = serial(ref, &nstart);
	tebd_reset_discarded(t);
	OK(tebd_run(t, ref, nsteps, err));
	const double dref = tebd_discarded_total(t), mref = tebd_discarded_max(t);
	size_t nr;
	unsigned char *want = serial(ref, &nr);
	const long nl = tebd_layers(t, nsteps);
	CHECK(nl == 6 * nsteps + 1, "Forest-Ruth: %ld layers for %d steps", nl,
	      nsteps);
	CHECK(dref > 0, "truncation expected");
	const long stops[][2] = {{1, -1}, {6, -1}, {7, 20}, {nl - 1, -1},
				 {13, 14}};
	for (size_t k = 0; k < sizeof stops / sizeof stops[0]; k++) {
		mps_t *m;
		OK(mps_deserialise(&m, start, nstart, err));
		long pos = 0, done = -5;
		double dt = 0, dm = 0;
		for (int leg = 0; leg < 3; leg++) {
			long at = leg < 2 ? stops[k][leg] : -1;
			stop_at_t sa = {at, 0, 0, 0};
			tebd_t *tk = make_tebd(c, TEBD_FOREST_RUTH4, 0.1, 10,
					       1e-10, threads);
			tebd_restore_discarded(tk, dt, dm);
			tebd_set_hook(tk, stop_at, &sa);
			int rc = tebd_run_from(tk, m, nsteps, pos, &done, err);
			CHECK(rc == (at > 0 ? KZ_STOPPED : KZ_OK) &&
				      done == (at > 0 ? at : nl),
			      "stop at %ld: rc %d, done %ld", at, rc, done);
			const long last = at > 0 ? at : nl - 1;
			CHECK(sa.calls == last - pos &&
				      (!sa.calls ||
				       (sa.lo == pos + 1 && sa.hi == last)),
			      "hook called between layers only: %ld calls, "
			      "%ld..%ld from %ld",
			      sa.calls, sa.lo, sa.hi, pos);
			dt = tebd_discarded_total(tk);
			dm = tebd_discarded_max(tk);
			tebd_destroy(&tk);
			/* through the bytes, as a checkpoint */
			size_t nb;
			unsigned char *b = serial(m, &nb);
			mps_destroy(&m);
			OK(mps_deserialise(&m, b, nb, err));
			free(b);
			pos = done;
			if (at < 0)
				break;
		}
		size_t ng;
		unsigned char *got = serial(m, &ng);
		CHECK(ng == nr && !memcmp(got, want, nr),
		      "stopped at %ld (then %ld), resumed: state bitwise the "
		      "uninterrupted one (%d threads)",
		      stops[k][0], stops[k][1], threads);
		CHECK(dt == dref && dm == mref,
		      "discarded %.17g / %.17g vs %.17g / %.17g", dt, dm, dref,
		      mref);
		free(got);
		mps_destroy(&m);
	}
	mps_t *m;
	OK(mps_deserialise(&m, start, nstart, err));
	CHECK(tebd_run_from(t, m, nsteps, nl, NULL, err) == KZ_EINVAL,
	      "a first layer past the sequence is refused");
	CHECK(tebd_run_from(t, m, nsteps, -1, NULL, err) == KZ_EINVAL,
	      "a negative first layer is refused");
	mps_destroy(&m);
	free(start);
	free(want);
	tebd_destroy(&t);
	mps_destroy(&ref);
	chain_destroy(&c);
}

int main(void)
{
	test_bad_args();
	test_strang_exact();
	test_junction_vs_ed(1);
	test_junction_vs_ed(2);
	test_trotter_order();
	test_continuity();
	test_threads_identical();
	test_stop_resume(1);
	test_stop_resume(2);
	test_schmidt_vs_vector(64);
	test_schmidt_vs_vector(6);
	test_no_allocation_at_saturation();
	return check_done("test_tebd");
}
