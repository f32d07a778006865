/* test_ref: the two exact references (ed.c, ff.c) held against each other
 * and against identities: ED = FF at Delta = 0 for every observable, ground
 * states, conservation of energy and Sz, the continuity equations that fix
 * the sign conventions of the energy and spin currents, rho3 sanity,
 * the exact XX domain-wall profile (Bessel functions), and failure paths. */
#include "check.h"

#include "chain.h"
#include "ed.h"
#include "ff.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static char err[KZ_ERRLEN];

/* a chain with bond couplings J[i] = s(i) * (1 + 0.4 sin(1.3 i + 0.2)) (a
 * generic non-uniform chain) or plain J = 1; s = -1 on the left half (the
 * paper's lambda_n of H') when flip_left; Delta = delta_left/right as in the
 * junction */
static chain_t *make_chain(int L, int nonuniform, int flip_left,
			   double delta_left, double delta_right)
{
	double J[256], D[256];
	chain_t *c = NULL;
	for (int i = 0; i < L - 1; i++) {
		int left = chain_site_n(L, i) <= 0;
		J[i] = nonuniform ? 1 + 0.4 * sin(1.3 * i + 0.2) : 1.0;
		if (flip_left && left)
			J[i] = -J[i];
		D[i] = left ? delta_left : delta_right;
	}
	OK(chain_create(&c, L, J, D, err));
	return c;
}

static void domain_wall(int L, int *up)
{
	for (int i = 0; i < L; i++)
		up[i] = i < L / 2;
}

/* Tr(rho O) for O = h_{i+p} (p = 0, 1) embedded in the three sites, with h
 * from chain_bond_matrix(): an independent route to <h> */
static double rho3_bond(const kz_cplx *rho, const double h[16], int p)
{
	double s = 0;
	for (int a = 0; a < 8; a++)
		for (int b = 0; b < 8; b++) {
			int pa = p ? (a & 3) : (a >> 1), pb = p ? (b & 3) : (b >> 1);
			int ra = p ? (a >> 2) : (a & 1), rb = p ? (b >> 2) : (b & 1);
			if (ra != rb)
				continue;
			s += creal(rho[a + 8 * b] * h[pb + 4 * pa]);
		}
	return s;
}

static double rho3_sz(const kz_cplx *rho, int p)
{
	double s = 0;
	for (int a = 0; a < 8; a++)
		s += creal(rho[a + 8 * a]) *
		     (((a >> (2 - p)) & 1) - 0.5);
	return s;
}

/* trace 1, Hermitian, eigenvalues >= 0, and Sz, h from it = direct values */
static void check_rho3(const kz_cplx *rho, const chain_t *c, int i,
		       const double sz[3], const double hb[2], const char *tag)
{
	char what[160];
	kz_cplx tr = 0, A[64];
	double herm = 0, w[8];
	for (int a = 0; a < 8; a++)
		tr += rho[a + 8 * a];
	for (int a = 0; a < 64; a++) {
		int r = a % 8, s = a / 8;
		herm = fmax(herm, cabs(rho[r + 8 * s] - conj(rho[s + 8 * r])));
	}
	snprintf(what, sizeof what, "%s rho3(%d) trace", tag, i);
	CHECK_CLOSE(creal(tr), 1.0, 1e-12, what);
	CHECK_CLOSE(cimag(tr), 0.0, 1e-12, what);
	CHECK(herm <= 1e-13, "%s rho3(%d) not Hermitian: %g", tag, i, herm);
	memcpy(A, rho, sizeof A);
	CHECK(LAPACKE_zheev(LAPACK_COL_MAJOR, 'N', 'U', 8, A, 8, w) == 0,
	      "zheev");
	CHECK(w[0] >= -1e-12, "%s rho3(%d) eigenvalue %g < 0", tag, i, w[0]);
	for (int p = 0; p < 3; p++) {
		snprintf(what, sizeof what, "%s rho3(%d) Sz_%d", tag, i, i + p);
		CHECK_CLOSE(rho3_sz(rho, p), sz[p], 1e-12, what);
	}
	for (int p = 0; p < 2; p++) {
		double h[16];
		chain_bond_matrix(c, i + p, h);
		snprintf(what, sizeof what, "%s rho3(%d) h_%d", tag, i, i + p);
		CHECK_CLOSE(rho3_bond(rho, h, p), hb[p], 1e-12, what);
	}
}

/* Schmidt values of the cut after site i straight from the state vector:
 * the singular values of psi as a 2^(i+1) x 2^(L-i-1) matrix, descending
 * (psi normalised); returns how many. */
static int vector_schmidt(const ed_t *ed, const kz_cplx *psi, int L, int i,
			  double *sv)
{
	int ml = 1 << (i + 1), mr = 1 << (L - i - 1), k = ml < mr ? ml : mr;
	kz_cplx *M = kz_blas_alloc((size_t)ml * mr * sizeof *M);
	if (M)
		memset(M, 0, (size_t)ml * mr * sizeof *M);
	double nrm = ed_norm(ed, psi);
	for (size_t a = 0; M && a < ed_dim(ed); a++) {
		unsigned long b = ed_state(ed, a);
		M[(b & (unsigned long)(ml - 1)) + (size_t)ml * (b >> (i + 1))] =
			psi[a] / nrm;
	}
	if (!M || LAPACKE_zgesdd(LAPACK_COL_MAJOR, 'N', ml, mr, M, ml, sv,
				 NULL, 1, NULL, 1))
		k = 0;
	free(M);
	return k;
}

/* every observable of ED and FF at once; returns the largest |energy flow|
 * and |spin current| seen, so callers can assert the check was not vacuous */
static void compare(const ed_t *ed, const kz_cplx *psi, const ff_t *f,
		    const chain_t *c, const char *tag, double *maxflow,
		    double *maxcur, int *maxschmidt)
{
	char what[160];
	int L = c->L;
	double tol = 1e-10;
	for (int i = 0; i < L; i++) {
		snprintf(what, sizeof what, "%s Sz_%d", tag, i);
		CHECK_CLOSE(ed_sz(ed, psi, i), ff_sz(f, i), tol, what);
	}
	for (int i = 0; i < L - 1; i++) {
		snprintf(what, sizeof what, "%s h_%d", tag, i);
		CHECK_CLOSE(ed_bond_energy(ed, psi, i), ff_bond_energy(f, i),
			    tol, what);
		snprintf(what, sizeof what, "%s J^M_%d", tag, i);
		CHECK_CLOSE(ed_spin_current(ed, psi, i), ff_spin_current(f, i),
			    tol, what);
		*maxcur = fmax(*maxcur, fabs(ff_spin_current(f, i)));
		snprintf(what, sizeof what, "%s S_%d", tag, i);
		CHECK_CLOSE(ed_entropy(ed, psi, i), ff_entropy(f, i), tol,
			    what);
	}
	for (int b = 1; b < L - 1; b++) {
		snprintf(what, sizeof what, "%s j_%d", tag, b);
		CHECK_CLOSE(ed_energy_flow(ed, psi, b), ff_energy_flow(f, b),
			    tol, what);
		*maxflow = fmax(*maxflow, fabs(ff_energy_flow(f, b)));
	}
	/* the Schmidt spectrum at three cuts, as weights lambda^2: both sides
	 * have them to ~1e-16 absolute (a mode occupation of 1e-16 instead of
	 * 0 gives a Schmidt value of 1e-8) */
	int cuts[3] = {0, L / 2 - 1, L - 3};
	for (int s = 0; s < 3; s++) {
		double sv[128], lf[64];
		int n = vector_schmidt(ed, psi, L, cuts[s], sv);
		int nf = ff_schmidt_values(f, cuts[s], 64, lf, err);
		CHECK(n > 0 && nf == (n < 64 ? n : 64),
		      "%s Schmidt values at cut %d: %d from the vector, %d from "
		      "FF", tag, cuts[s], n, nf);
		double d = 0;
		int nonzero = 0;
		for (int a = 0; a < nf && a < n; a++) {
			d = fmax(d, fabs(sv[a] * sv[a] - lf[a] * lf[a]));
			nonzero += sv[a] * sv[a] > 1e-8;
		}
		CHECK(d <= 1e-13, "%s Schmidt weights at cut %d differ by %g",
		      tag, cuts[s], d);
		*maxschmidt = nonzero > *maxschmidt ? nonzero : *maxschmidt;
	}
	int sites[3] = {0, L / 2 - 2, L - 3};
	for (int s = 0; s < 3; s++) {
		int i = sites[s];
		kz_cplx re[64], rf[64];
		OK(ed_rho3(ed, psi, i, re, err));
		OK(ff_rho3(f, i, rf, err));
		double d = 0;
		for (int a = 0; a < 64; a++)
			d = fmax(d, cabs(re[a] - rf[a]));
		CHECK(d <= tol, "%s rho3(%d): ED vs FF differ by %g", tag, i, d);
		double sz[3], hb[2];
		for (int p = 0; p < 3; p++)
			sz[p] = ff_sz(f, i + p);
		for (int p = 0; p < 2; p++)
			hb[p] = ff_bond_energy(f, i + p);
		snprintf(what, sizeof what, "%s FF", tag);
		check_rho3(rf, c, i, sz, hb, what);
	}
	/* entropies must not all be trivially zero after t > 0 either; the
	 * caller checks currents */
}

/* ED vs FF dynamics at Delta = 0 on a non-uniform chain: the domain wall
 * (Sz, J^M, S non-trivial) and the quench from the ground state of H' (the
 * paper's |Psi1>; <h>, j non-trivial). */
static void test_ed_ff_dynamics(int L)
{
	chain_t *c = make_chain(L, 1, 0, 0, 0);
	chain_t *c0 = make_chain(L, 1, 1, 0, 0);
	ed_t *ed = NULL, *ed0 = NULL;
	ff_t *f = NULL;
	int up[64];
	char tag[64];
	double e_ed, e_ff;

	OK(ed_create(&ed, c, L / 2, err));
	OK(ed_create(&ed0, c0, L / 2, err));
	OK(ff_create(&f, c, err));
	kz_cplx *psi = malloc(ed_dim(ed) * sizeof *psi);

	for (int init = 0; init < 2; init++) {
		double maxflow = 0, maxcur = 0;
		int maxschmidt = 0;
		if (init == 0) {
			domain_wall(L, up);
			OK(ed_product_state(ed, up, psi, err));
			OK(ff_set_product(f, up, err));
		} else {
			OK(ed_ground_state(ed0, psi, &e_ed, err));
			OK(ff_set_ground_state_of(f, c0, L / 2, &e_ff, err));
			CHECK_CLOSE(e_ed, e_ff, 1e-10, "H' ground energy");
		}
		const double times[] = {0, 0.7, 2.3, 5};
		for (int k = 0; k < 4; k++) {
			double dt = k ? times[k] - times[k - 1] : 0;
			OK(ed_evolve(ed, psi, dt, err));
			OK(ff_evolve(f, dt, err));
			snprintf(tag, sizeof tag, "L=%d %s t=%g", L,
				 init ? "Psi1" : "DW", times[k]);
			compare(ed, psi, f, c, tag, &maxflow, &maxcur,
				&maxschmidt);
		}
		CHECK_CLOSE(ed_norm(ed, psi), 1.0, 1e-12, "ED norm");
		/* not vacuous: a spectrum with many values was compared */
		CHECK(maxschmidt >= 8, "L=%d: at most %d Schmidt weights > 1e-8",
		      L, maxschmidt);
		/* not vacuous: the non-trivial currents of each state */
		if (init == 0)
			CHECK(maxcur > 0.05, "L=%d DW: spin current %g", L,
			      maxcur);
		else
			CHECK(maxflow > 0.01, "L=%d Psi1: energy flow %g", L,
			      maxflow);
	}
	free(psi);
	ed_destroy(&ed);
	ed_destroy(&ed0);
	ff_destroy(&f);
	chain_destroy(&c);
	chain_destroy(&c0);
}

/* ED ground state = FF Slater determinant, for the non-uniform chain and for
 * H' (lambda = -1 on the left half, uniform J). */
static void test_ground_states(void)
{
	for (int which = 0; which < 3; which++) {
		int L = which == 2 ? 10 : (which ? 12 : 10);
		chain_t *c = which == 2 ? make_chain(L, 0, 1, 0, 0)
					: make_chain(L, 1, 0, 0, 0);
		ed_t *ed = NULL;
		ff_t *f = NULL;
		double e_ed, e_ff, maxflow = 0, maxcur = 0;
		int maxschmidt = 0;
		char tag[64];
		OK(ed_create(&ed, c, L / 2, err));
		OK(ff_create(&f, c, err));
		size_t n = ed_dim(ed);
		kz_cplx *psi = malloc(n * sizeof *psi);
		kz_cplx *hpsi = malloc(n * sizeof *hpsi);
		OK(ed_ground_state(ed, psi, &e_ed, err));
		OK(ff_set_ground_state(f, L / 2, &e_ff, err));
		snprintf(tag, sizeof tag, "GS %s L=%d",
			 which == 2 ? "H'" : "nonuniform", L);
		CHECK_CLOSE(e_ed, e_ff, 1e-10, tag);
		/* it is an eigenvector, and <H> = sum <h_i> */
		ed_apply_h(ed, psi, hpsi);
		double res = 0, esum = 0;
		for (size_t k = 0; k < n; k++)
			res = fmax(res, cabs(hpsi[k] - e_ed * psi[k]));
		CHECK(res <= 1e-10, "%s: residual %g", tag, res);
		for (int i = 0; i < L - 1; i++)
			esum += ed_bond_energy(ed, psi, i);
		CHECK_CLOSE(esum, e_ed, 1e-10, tag);
		compare(ed, psi, f, c, tag, &maxflow, &maxcur, &maxschmidt);
		free(psi);
		free(hpsi);
		ed_destroy(&ed);
		ff_destroy(&f);
		chain_destroy(&c);
	}
}

/* the energy <H> as a sum of bond energies, and the total Sz */
static void totals(const ed_t *ed, const kz_cplx *psi, int L, double *E,
		   double *Sz)
{
	*E = *Sz = 0;
	for (int i = 0; i < L - 1; i++)
		*E += ed_bond_energy(ed, psi, i);
	for (int i = 0; i < L; i++)
		*Sz += ed_sz(ed, psi, i);
}

/* Conservation and the continuity equations on the junction, Delta_right =
 * cos(pi/4), by centred differences of the exact ED evolution:
 *   d<Sz_i>/dt = J^M_{i-1} - J^M_i,   d<h_i>/dt = j_i - j_{i+1},
 * with J^M_{-1} = J^M_{L-1} = 0 and j_0 = j_{L-1} = 0 at the open ends. */
static void test_continuity(void)
{
	const int L = 12;
	const double gam = PI / 4, dt = 1e-4, t0 = 1.3;
	chain_t *c = NULL;
	OK(chain_create_junction(&c, L, 1.0, 0.0, cos(gam), err));
	chain_t *c0 = make_chain(L, 0, 1, 0.0, cos(gam)); /* H' */
	ed_t *ed = NULL, *ed0 = NULL;
	OK(ed_create(&ed, c, L / 2, err));
	OK(ed_create(&ed0, c0, L / 2, err));
	size_t n = ed_dim(ed);
	kz_cplx *psi = malloc(n * sizeof *psi);
	kz_cplx *pm = malloc(n * sizeof *pm), *pp = malloc(n * sizeof *pp);
	int up[64];
	char what[128];

	for (int init = 0; init < 2; init++) {
		const char *name = init ? "Psi1" : "DW";
		double E0, Sz0, E, Sz, e;
		double maxdsz = 0, maxdh = 0;
		if (init == 0) {
			domain_wall(L, up);
			OK(ed_product_state(ed, up, psi, err));
		} else {
			OK(ed_ground_state(ed0, psi, &e, err));
		}
		totals(ed, psi, L, &E0, &Sz0);
		for (int k = 1; k <= 3; k++) {
			OK(ed_evolve(ed, psi, 2.5, err));
			totals(ed, psi, L, &E, &Sz);
			snprintf(what, sizeof what, "%s energy at t=%g", name,
				 2.5 * k);
			CHECK_CLOSE(E, E0, 1e-10, what);
			snprintf(what, sizeof what, "%s total Sz at t=%g", name,
				 2.5 * k);
			CHECK_CLOSE(Sz, Sz0, 1e-12, what);
		}
		/* now at t = 7.5; back to t0, then psi(t0 -+ dt) */
		OK(ed_evolve(ed, psi, t0 - 7.5, err));
		memcpy(pm, psi, n * sizeof *psi);
		memcpy(pp, psi, n * sizeof *psi);
		OK(ed_evolve(ed, pm, -dt, err));
		OK(ed_evolve(ed, pp, dt, err));
		for (int i = 0; i < L; i++) {
			double d = (ed_sz(ed, pp, i) - ed_sz(ed, pm, i)) / (2 * dt);
			double in = i > 0 ? ed_spin_current(ed, psi, i - 1) : 0;
			double outc = i < L - 1 ? ed_spin_current(ed, psi, i) : 0;
			snprintf(what, sizeof what, "%s dSz_%d/dt", name, i);
			CHECK_CLOSE(d, in - outc, 1e-6, what);
			maxdsz = fmax(maxdsz, fabs(d));
		}
		for (int i = 0; i < L - 1; i++) {
			double d = (ed_bond_energy(ed, pp, i) -
				    ed_bond_energy(ed, pm, i)) / (2 * dt);
			double in = i > 0 ? ed_energy_flow(ed, psi, i) : 0;
			double outc = i < L - 2 ? ed_energy_flow(ed, psi, i + 1)
						: 0;
			snprintf(what, sizeof what, "%s dh_%d/dt", name, i);
			CHECK_CLOSE(d, in - outc, 1e-6, what);
			maxdh = fmax(maxdh, fabs(d));
		}
		/* the DW moves spin, Psi1 (and the DW on the XXZ side) energy */
		if (init == 0)
			CHECK(maxdsz > 0.05, "DW: max dSz/dt %g", maxdsz);
		CHECK(maxdh > 0.01, "%s: max dh/dt %g", name, maxdh);
		/* rho3 of an interacting state: the same sanity and
		 * Sz/h consistency, h from chain_bond_matrix() */
		for (int i = 0; i < L - 2; i += 3) {
			kz_cplx rho[64];
			double sz[3], hb[2];
			OK(ed_rho3(ed, psi, i, rho, err));
			for (int p = 0; p < 3; p++)
				sz[p] = ed_sz(ed, psi, i + p);
			for (int p = 0; p < 2; p++)
				hb[p] = ed_bond_energy(ed, psi, i + p);
			snprintf(what, sizeof what, "ED XXZ %s", name);
			check_rho3(rho, c, i, sz, hb, what);
		}
	}
	free(psi);
	free(pm);
	free(pp);
	ed_destroy(&ed);
	ed_destroy(&ed0);
	chain_destroy(&c);
	chain_destroy(&c0);
}

/* FF at L = 140, homogeneous XX.  The domain wall (up on paper sites n <= 0)
 * on the infinite chain has n_n(t) = sum_{m >= n} J_m(t)^2 (one-particle
 * propagator U_jk = (-i)^{j-k} J_{j-k}(Jt) for hopping J/2); at t = 20 the
 * open ends (70 sites away) are still out of reach to ~1e-30.  Outside the
 * light cone |x| > t + margin the spins are still exactly +-1/2. */
static void test_ff_large(void)
{
	const int L = 140;
	const double t = 20, margin = 12;
	chain_t *c = make_chain(L, 0, 0, 0, 0);
	chain_t *c0 = make_chain(L, 0, 1, 0, 0);
	ff_t *f = NULL;
	int up[140];
	char what[128];
	OK(ff_create(&f, c, err));
	domain_wall(L, up);
	OK(ff_set_product(f, up, err));
	for (int k = 0; k < 4; k++) {
		OK(ff_evolve(f, t / 4, err));
		double Sz = 0;
		for (int i = 0; i < L; i++)
			Sz += ff_sz(f, i);
		snprintf(what, sizeof what, "FF DW total Sz at t=%g",
			 (k + 1) * t / 4);
		CHECK_CLOSE(Sz, 0.0, 1e-10, what);
	}
	double maxbessel = 0, inside = 0;
	int outside = 0;
	for (int i = 0; i < L; i++) {
		int nn = chain_site_n(L, i);
		double nb = 0;
		for (int m = nn; m < nn + 200; m++)
			nb += jn(m, t) * jn(m, t);
		maxbessel = fmax(maxbessel, fabs(ff_sz(f, i) - (nb - 0.5)));
		double x = nn - 0.5; /* distance from the wall's centre */
		if (fabs(x) > t + margin) {
			outside++;
			CHECK_CLOSE(ff_sz(f, i), x < 0 ? 0.5 : -0.5, 1e-8,
				    "FF DW outside the light cone");
		}
		if (fabs(x) < t - 2)
			inside = fmax(inside, 0.5 - fabs(ff_sz(f, i)));
	}
	CHECK(maxbessel <= 1e-10, "FF DW vs Bessel profile: %g", maxbessel);
	CHECK(outside == 2 * (L / 2 - 32), "sites outside: %d", outside);
	CHECK(inside > 0.1, "FF DW inside the light cone: %g", inside);
	for (int i = 10; i < L - 2; i += 30) {
		kz_cplx rho[64];
		double sz[3], hb[2];
		OK(ff_rho3(f, i, rho, err));
		for (int p = 0; p < 3; p++)
			sz[p] = ff_sz(f, i + p);
		for (int p = 0; p < 2; p++)
			hb[p] = ff_bond_energy(f, i + p);
		check_rho3(rho, c, i, sz, hb, "FF L=140 DW");
	}

	/* quench from the ground state of H' under H: energy conserved,
	 * continuity of h by centred differences (evolve -dt, +2dt, -dt) */
	double e0, E0 = 0, E = 0, dt = 1e-4, maxflow = 0;
	OK(ff_set_ground_state_of(f, c0, L / 2, &e0, err));
	for (int i = 0; i < L - 1; i++)
		E0 += ff_bond_energy(f, i);
	OK(ff_evolve(f, 7.0, err));
	for (int i = 0; i < L - 1; i++)
		E += ff_bond_energy(f, i);
	CHECK_CLOSE(E, E0, 1e-10, "FF L=140 Psi1 energy conservation");
	double jb[140], hm[140], hp[140];
	for (int b = 1; b < L - 1; b++) {
		jb[b] = ff_energy_flow(f, b);
		maxflow = fmax(maxflow, fabs(jb[b]));
	}
	jb[0] = jb[L - 1] = 0;
	OK(ff_evolve(f, -dt, err));
	for (int i = 0; i < L - 1; i++)
		hm[i] = ff_bond_energy(f, i);
	OK(ff_evolve(f, 2 * dt, err));
	for (int i = 0; i < L - 1; i++)
		hp[i] = ff_bond_energy(f, i);
	for (int i = 0; i < L - 1; i++) {
		snprintf(what, sizeof what, "FF Psi1 dh_%d/dt", i);
		CHECK_CLOSE((hp[i] - hm[i]) / (2 * dt), jb[i] - jb[i + 1], 1e-6,
			    what);
	}
	CHECK(maxflow > 0.01, "FF Psi1 energy flow %g", maxflow);
	ff_destroy(&f);
	chain_destroy(&c);
	chain_destroy(&c0);
}

static void test_errors(void)
{
	chain_t *c = NULL;
	ed_t *ed = NULL;
	ff_t *f = NULL;
	int up[64];
	double e;

	/* ED: L > 16, nup outside [0, L], wrong nup, bad site, the dense
	 * limit at L = 16 half filling (12870^2 doubles + dsyevd workspace) */
	OK(chain_create_junction(&c, 18, 1.0, 0, 0, err));
	CHECK(ed_create(&ed, c, 9, err) == KZ_EINVAL && !ed, "ED L=18");
	chain_destroy(&c);
	OK(chain_create_junction(&c, 16, 1.0, 0, 0.5, err));
	OK(ed_create(&ed, c, 8, err));
	kz_cplx *psi = calloc(ed_dim(ed), sizeof *psi);
	domain_wall(16, up);
	OK(ed_product_state(ed, up, psi, err));
	CHECK(ed_evolve(ed, psi, 1.0, err) == KZ_ENOMEM, "ED L=16 dense");
	CHECK(ed_ground_state(ed, psi, &e, err) == KZ_ENOMEM, "ED L=16 GS");
	free(psi);
	ed_destroy(&ed);
	ed_destroy(&ed); /* NULL is fine */
	CHECK(ed_create(&ed, c, 17, err) == KZ_EINVAL, "ED nup=17");
	CHECK(ed_create(&ed, c, -1, err) == KZ_EINVAL, "ED nup=-1");
	chain_destroy(&c);
	OK(chain_create_junction(&c, 6, 1.0, 0, 0.5, err));
	OK(ed_create(&ed, c, 3, err));
	psi = calloc(ed_dim(ed), sizeof *psi);
	int up4[6] = {1, 1, 1, 1, 0, 0}, up2[6] = {1, 2, 0, 0, 0, 0};
	CHECK(ed_product_state(ed, up4, psi, err) == KZ_EINVAL, "ED wrong nup");
	CHECK(ed_product_state(ed, up2, psi, err) == KZ_EINVAL, "ED up=2");
	kz_cplx rho[64];
	CHECK(ed_rho3(ed, psi, 4, rho, err) == KZ_EINVAL, "ED rho3 site 4");
	CHECK(isnan(ed_sz(ed, psi, 6)), "ED Sz out of range");
	/* FF: Delta != 0 anywhere */
	CHECK(ff_create(&f, c, err) == KZ_EINVAL && !f, "FF Delta != 0");
	free(psi);
	ed_destroy(&ed);
	chain_destroy(&c);

	/* two decoupled halves (J = 0 in the middle): every level twice, so
	 * one particle (one up spin) has no unique ground state */
	double J[3] = {1, 0, 1}, D[3] = {0, 0, 0};
	OK(chain_create(&c, 4, J, D, err));
	OK(ff_create(&f, c, err));
	CHECK(ff_set_ground_state(f, 1, &e, err) == KZ_ENUM, "FF degenerate");
	CHECK(ff_set_ground_state(f, 5, &e, err) == KZ_EINVAL, "FF nup=5");
	CHECK(ff_rho3(f, 2, rho, err) == KZ_EINVAL, "FF rho3 site 2");
	double lam[4];
	CHECK(ff_schmidt_values(f, 3, 4, lam, err) == KZ_EINVAL &&
		      strstr(err, "bond 3"),
	      "FF Schmidt values at cut 3 of L = 4: %s", err);
	CHECK(ff_schmidt_values(f, -1, 4, lam, err) == KZ_EINVAL, "cut -1");
	CHECK(ff_schmidt_values(f, 1, 0, lam, err) == KZ_EINVAL, "n = 0");
	OK(ed_create(&ed, c, 1, err));
	psi = calloc(ed_dim(ed), sizeof *psi);
	CHECK(ed_ground_state(ed, psi, &e, err) == KZ_ENUM, "ED degenerate");
	int up3[4] = {1, 0, 1, 1};
	CHECK(ff_set_product(f, up3, err) == KZ_OK, "FF any nup product");
	chain_t *c8 = make_chain(8, 0, 0, 0, 0);
	CHECK(ff_set_ground_state_of(f, c8, 2, &e, err) == KZ_EINVAL,
	      "FF quench from another L");
	chain_destroy(&c8);
	free(psi);
	ed_destroy(&ed);
	ff_destroy(&f);
	ff_destroy(&f);
	chain_destroy(&c);
}

int main(void)
{
	double t0 = kz_wtime();
	test_ed_ff_dynamics(10);
	test_ed_ff_dynamics(12);
	test_ground_states();
	test_continuity();
	test_ff_large();
	test_errors();
	printf("ref: %.2f s\n", kz_wtime() - t0);
	return check_done("ref");
}
