/* test_dmrg: the two-site DMRG ground state |Psi1> held against exact
 * answers: free fermions at L = 140, exact
 * diagonalisation at L = 12, 14 (also other sectors and random couplings),
 * the Bethe-ansatz energy density of the homogeneous XXZ chain, TEBD from
 * the DMRG state against ED evolution, and the failure paths. */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "check.h"
#include "dmrg.h"
#include "ed.h"
#include "ff.h"
#include "mps.h"
#include "mps_impl.h"
#include "obs.h"
#include "tebd.h"

static char err[KZ_ERRLEN];

static dmrg_params_t params(int chi)
{
	dmrg_params_t p;
	dmrg_params_default(&p);
	p.chi_max = chi;
	p.energy_tol = 1e-10;
	p.trunc_tol = 1e-8;
	return p;
}

/* The form tebd.h requires, checked on the stored tensors: sum_s B B^dag
 * = 1 on every site, sum_s B^dag Lambda_i^2 B = Lambda_{i+1}^2 (the left
 * states are orthogonal with norms Lambda: Schmidt values), Lambda_0 =
 * Lambda_L = 1.  Returns the largest deviation. */
static double canonical_error(const mps_t *m)
{
	double worst = 0;
	for (int i = 0; i < m->L; i++) {
		const mps_bond_t *lb = &m->bond[i], *rb = &m->bond[i + 1];
		for (int k = 0; k < lb->nq; k++) {
			int q = lb->qlo + k, d = lb->dim[k];
			for (int a = 0; a < d; a++)
				for (int b = 0; b < d; b++) {
					kz_cplx acc = 0;
					for (int s = 0; s < 2; s++) {
						int dr = mps_qdim(rb, q + s);
						const kz_cplx *B =
							mps_block(m, i, s, q);
						for (int x = 0; x < dr; x++)
							acc += B[a + d * x] *
							       conj(B[b + d * x]);
					}
					worst = fmax(worst,
						     cabs(acc - (a == b)));
				}
		}
		for (int k = 0; k < rb->nq; k++) {
			int qp = rb->qlo + k, d = rb->dim[k];
			const double *lr = d ? mps_qlam(rb, qp) : NULL;
			for (int a = 0; a < d; a++)
				for (int b = 0; b < d; b++) {
					kz_cplx acc = 0;
					for (int s = 0; s < 2; s++) {
						int dl = mps_qdim(lb, qp - s);
						if (!dl)
							continue;
						const kz_cplx *B = mps_block(
							m, i, s, qp - s);
						const double *l =
							mps_qlam(lb, qp - s);
						for (int x = 0; x < dl; x++)
							acc += conj(B[x + dl * a]) *
							       l[x] * l[x] *
							       B[x + dl * b];
					}
					double want = a == b ? lr[a] * lr[a] : 0;
					worst = fmax(worst, cabs(acc - want));
				}
		}
	}
	worst = fmax(worst, fabs(m->bond[0].lam[0] - 1));
	worst = fmax(worst, fabs(m->bond[m->L].lam[0] - 1));
	return worst;
}

/* Acceptance 2 (and more sectors, random couplings): DMRG against ED. */
static void check_vs_ed(const chain_t *c, int nup, const char *name)
{
	int L = c->L;
	dmrg_params_t p = params(256);
	mps_t *m;
	dmrg_result_t r;
	double t0 = kz_wtime();
	OK(dmrg_ground_state(c, nup, &p, &m, &r, err));
	double t1 = kz_wtime();
	ed_t *ed;
	OK(ed_create(&ed, c, nup, err));
	kz_cplx *psi = malloc(ed_dim(ed) * sizeof(kz_cplx));
	double e0;
	OK(ed_ground_state(ed, psi, &e0, err));
	char what[96];
	snprintf(what, sizeof what, "%s: energy vs ED", name);
	CHECK_CLOSE(r.energy, e0, 1e-10, what);
	snprintf(what, sizeof what, "%s: variance", name);
	CHECK(fabs(r.variance) < 1e-11, "%s %g", what, r.variance);
	obs_t *o;
	OK(obs_create(&o, L, err));
	OK(obs_measure(o, m, c, err));
	double esum = 0;
	for (int i = 0; i < L - 1; i++) {
		snprintf(what, sizeof what, "%s: <h_%d>", name, i);
		CHECK_CLOSE(o->energy[i], ed_bond_energy(ed, psi, i), 1e-8,
			    what);
		snprintf(what, sizeof what, "%s: entropy[%d]", name, i);
		CHECK_CLOSE(o->entropy[i], ed_entropy(ed, psi, i), 1e-8, what);
		esum += o->energy[i];
	}
	for (int i = 0; i < L; i++) {
		snprintf(what, sizeof what, "%s: Sz[%d]", name, i);
		CHECK_CLOSE(o->sz[i], ed_sz(ed, psi, i), 1e-8, what);
	}
	snprintf(what, sizeof what, "%s: sum <h_i> = E", name);
	CHECK_CLOSE(esum, r.energy, 1e-10, what);
	snprintf(what, sizeof what, "%s: norm", name);
	CHECK_CLOSE(o->norm, 1.0, 1e-12, what);
	/* the whole vector, up to the global phase */
	kz_cplx ov = 0;
	for (size_t k = 0; k < ed_dim(ed); k++)
		ov += conj(psi[k]) * mps_amplitude(m, ed_state(ed, k));
	snprintf(what, sizeof what, "%s: |<psi_ED|psi_DMRG>|", name);
	CHECK_CLOSE(cabs(ov), 1.0, 1e-12, what);
	double ce = canonical_error(m);
	CHECK(ce < 1e-12, "%s: canonical form error %g", name, ce);
	printf("%s: L=%d nup=%d E=%.14f (ED %.14f) var=%.2e sweeps=%d "
	       "max_bond=%d canon_err=%.1e %.2fs\n",
	       name, L, nup, r.energy, e0, r.variance, r.sweeps, r.max_bond,
	       ce, t1 - t0);
	obs_destroy(&o);
	free(psi);
	ed_destroy(&ed);
	mps_destroy(&m);
}

static void test_junction_ed(void)
{
	for (int L = 12; L <= 14; L += 2) {
		chain_t *c;
		OK(dmrg_paper_chain(&c, L, 1.0, 0.0, cos(M_PI / 4), err));
		/* the lambda-scaled chain: J = -1 left of the junction */
		CHECK(c->J[L / 2 - 1] == -1 && c->J[L / 2] == 1 &&
			      c->Delta[L / 2 - 1] == 0 &&
			      c->Delta[L / 2] == cos(M_PI / 4),
		      "dmrg_paper_chain: junction bond couplings");
		check_vs_ed(c, L / 2, "junction");
		chain_destroy(&c);
	}
}

/* Any per-bond J_i, Delta_i and any sector. */
static void test_general_ed(void)
{
	enum { L = 12 };
	double J[L - 1], D[L - 1];
	for (int i = 0; i < L - 1; i++) {
		J[i] = 1.0 + 0.3 * sin(1.7 * i + 0.4);
		D[i] = 0.9 * cos(2.3 * i + 1.0);
	}
	chain_t *c;
	OK(chain_create(&c, L, J, D, err));
	check_vs_ed(c, 6, "random couplings");
	check_vs_ed(c, 4, "random couplings, nup=4");
	check_vs_ed(c, 1, "random couplings, nup=1");
	check_vs_ed(c, 11, "random couplings, nup=11");
	chain_destroy(&c);
	/* the shortest chains: two-site updates cover the whole chain */
	for (int l = 4; l <= 6; l += 2) {
		OK(chain_create(&c, l, J, D, err));
		check_vs_ed(c, l / 2, "random couplings, short");
		chain_destroy(&c);
	}
}

/* A truncated state (chi_max = 4, L = 12) is not an eigenstate, so it
 * tests what the exact ones cannot: the MPO energy and variance against ED
 * applied to the MPS's own vector, and the observables of obs.h on a state
 * whose bonds have empty charge sectors between filled ones. */
static void test_truncated_vs_vector(void)
{
	const int L = 12;
	chain_t *c;
	OK(dmrg_paper_chain(&c, L, 1.0, 0.0, cos(M_PI / 4), err));
	dmrg_params_t p = params(4);
	p.trunc_tol = 1; /* truncation is the point here */
	mps_t *m;
	dmrg_result_t r;
	OK(dmrg_ground_state(c, L / 2, &p, &m, &r, err));
	ed_t *ed;
	OK(ed_create(&ed, c, L / 2, err));
	size_t n = ed_dim(ed);
	kz_cplx *v = malloc(n * sizeof(kz_cplx)), *hv = malloc(n * sizeof(kz_cplx));
	for (size_t k = 0; k < n; k++)
		v[k] = mps_amplitude(m, ed_state(ed, k));
	ed_apply_h(ed, v, hv);
	double nn = 0, eh = 0, hh = 0;
	for (size_t k = 0; k < n; k++) {
		nn += creal(conj(v[k]) * v[k]);
		eh += creal(conj(v[k]) * hv[k]);
		hh += creal(conj(hv[k]) * hv[k]);
	}
	eh /= nn;
	hh /= nn;
	CHECK_CLOSE(nn, 1.0, 1e-12, "chi=4: norm of the MPS vector");
	CHECK_CLOSE(r.energy, eh, 1e-12, "chi=4: MPO energy vs ED on vector");
	CHECK_CLOSE(r.variance, hh - eh * eh, 1e-12,
		    "chi=4: MPO variance vs ED on vector");
	CHECK(r.variance > 1e-4 && r.max_discarded > 1e-6,
	      "chi=4: truncated (variance %g, discarded %g)", r.variance,
	      r.max_discarded);
	CHECK(canonical_error(m) < 1e-12, "chi=4: canonical form error %g",
	      canonical_error(m));
	obs_t *o;
	OK(obs_create(&o, L, err));
	OK(obs_measure(o, m, c, err));
	char what[64];
	for (int i = 0; i < L - 1; i++) {
		snprintf(what, sizeof what, "chi=4: obs <h_%d> vs ED on vector",
			 i);
		CHECK_CLOSE(o->energy[i], ed_bond_energy(ed, v, i), 1e-10,
			    what);
		snprintf(what, sizeof what, "chi=4: entropy[%d]", i);
		CHECK_CLOSE(o->entropy[i], ed_entropy(ed, v, i), 1e-10, what);
	}
	printf("truncated chi=4 L=12: E=%.12f (ED on vector %.12f) var=%.3e "
	       "(%.3e) disc=%.1e\n",
	       r.energy, eh, r.variance, hh - eh * eh, r.max_discarded);
	obs_destroy(&o);
	free(v);
	free(hv);
	ed_destroy(&ed);
	mps_destroy(&m);
	chain_destroy(&c);
}

/* Acceptance 1: Delta = 0 with the paper's lambda is a free-fermion chain
 * (hopping -1 on the left, +1 on the right); its half-filled Slater
 * determinant is the exact |Psi1>. */
static void test_free_fermions_140(void)
{
	const int L = 140;
	chain_t *c;
	OK(dmrg_paper_chain(&c, L, 1.0, 0.0, 0.0, err));
	dmrg_params_t p = params(128);
	mps_t *m;
	dmrg_result_t r;
	OK(dmrg_ground_state(c, L / 2, &p, &m, &r, err));
	ff_t *f;
	OK(ff_create(&f, c, err));
	double e0;
	OK(ff_set_ground_state(f, L / 2, &e0, err));
	CHECK(fabs(r.energy - e0) <= 1e-8 * fabs(e0),
	      "L=140 XX: DMRG energy %.14f vs free fermions %.14f (rel %.2e)",
	      r.energy, e0, fabs(r.energy - e0) / fabs(e0));
	obs_t *o;
	OK(obs_create(&o, L, err));
	OK(obs_measure(o, m, c, err));
	double dh = 0, dsz = 0, ds = 0;
	char what[64];
	for (int i = 0; i < L - 1; i++) {
		snprintf(what, sizeof what, "L=140 XX <h_%d>", i);
		CHECK_CLOSE(o->energy[i], ff_bond_energy(f, i), 1e-6, what);
		dh = fmax(dh, fabs(o->energy[i] - ff_bond_energy(f, i)));
		ds = fmax(ds, fabs(o->entropy[i] - ff_entropy(f, i)));
	}
	for (int i = 0; i < L; i++) {
		snprintf(what, sizeof what, "L=140 XX Sz[%d]", i);
		CHECK_CLOSE(o->sz[i], ff_sz(f, i), 1e-6, what);
		dsz = fmax(dsz, fabs(o->sz[i] - ff_sz(f, i)));
	}
	/* <lambda_i h_i> is near the ground-state density -1/pi on both
	 * sides, so the physical <h_i> = -<lambda_i h_i> is positive on the
	 * left: locally the highest state of the XX chain */
	CHECK(fabs(o->energy[10] + 1 / M_PI) < 0.05 &&
		      fabs(o->energy[L - 12] + 1 / M_PI) < 0.05,
	      "L=140 XX: <lambda h> left %g right %g", o->energy[10],
	      o->energy[L - 12]);
	CHECK(ds < 1e-4, "L=140 XX: entropy error %g", ds);
	CHECK(r.variance >= -1e-9 && r.variance < 1e-6,
	      "L=140 XX: variance %g", r.variance);
	printf("free fermions L=140 chi=%d: E=%.12f (FF %.12f, rel %.1e) "
	       "var=%.2e max|dh|=%.1e max|dSz|=%.1e max|dS|=%.1e "
	       "sweeps=%d disc=%.1e %.1fs\n",
	       p.chi_max, r.energy, e0, fabs(r.energy - e0) / fabs(e0),
	       r.variance, dh, dsz, ds, r.sweeps, r.max_discarded,
	       r.seconds);
	obs_destroy(&o);
	ff_destroy(&f);
	mps_destroy(&m);
	chain_destroy(&c);
}

/* Bethe-ansatz ground-state energy per bond of the infinite XXZ chain
 * h = J (Sx Sx + Sy Sy + Delta Sz Sz), J = 1, Delta = cos(gamma), 0 < gamma
 * < pi [C. N. Yang and C. P. Yang, Phys. Rev. 150, 327 (1966); M.
 * Takahashi, Thermodynamics of One-Dimensional Solvable Models (CUP 1999),
 * ch. 4]:
 *   e(Delta) = Delta/4 - (sin gamma / 2) Int_{-inf}^{inf} dx
 *              sinh((pi - gamma) x) / (sinh(pi x) cosh(gamma x)).
 * Checked below at three known points: gamma = pi/2 gives -1/pi (XX),
 * gamma = pi/3 gives -3/8 (Delta = 1/2, the Razumov-Stroganov point), gamma
 * -> 0 gives 1/4 - ln 2 (Hulthen).  The integrand is even and analytic and
 * decays like 2 exp(-2 gamma x); written with exponentials of negative
 * arguments it cannot overflow, and the trapezoidal rule on [0, 40/gamma]
 * converges geometrically. */
static double bethe_energy(double gamma)
{
	const double h = 1e-3, xmax = 40.0 / gamma;
	double s = 0.5 * (M_PI - gamma) / M_PI; /* x = 0 limit, weight 1/2 */
	for (int k = 1; k * h <= xmax; k++) {
		double x = k * h;
		/* sinh((pi-g)x) / (sinh(pi x) cosh(g x)) */
		s += 2 * exp(-2 * gamma * x) * -expm1(-2 * (M_PI - gamma) * x) /
		     (-expm1(-2 * M_PI * x) * (1 + exp(-2 * gamma * x)));
	}
	return cos(gamma) / 4 - 0.5 * sin(gamma) * 2 * h * s;
}

/* Acceptance 3: homogeneous XXZ, Delta = cos(pi/4), L = 140. */
static void test_bethe_140(void)
{
	CHECK_CLOSE(bethe_energy(M_PI / 2), -1 / M_PI, 1e-12,
		    "Bethe integral at Delta=0");
	CHECK_CLOSE(bethe_energy(M_PI / 3), -0.375, 1e-12,
		    "Bethe integral at Delta=1/2");
	CHECK_CLOSE(bethe_energy(0.02), 0.25 - log(2.0), 1e-4,
		    "Bethe integral near Delta=1");
	const int L = 140;
	const double gamma = M_PI / 4, var_tol = 1e-6;
	double eba = bethe_energy(gamma);
	chain_t *c;
	OK(chain_create_junction(&c, L, 1.0, cos(gamma), cos(gamma), err));
	dmrg_params_t p = params(128);
	mps_t *m;
	dmrg_result_t r;
	OK(dmrg_ground_state(c, L / 2, &p, &m, &r, err));
	obs_t *o;
	OK(obs_create(&o, L, err));
	OK(obs_measure(o, m, c, err));
	/* The open ends induce a bond-alternating (Friedel) part of <h_i>
	 * that decays only as a power of the distance to the ends: about
	 * +-0.02 at the middle of L = 140, so a single bond cannot be held
	 * to 1e-3.  The filter (h_{m-1} + 2 h_m + h_{m+1})/4 removes the
	 * (-1)^i part exactly and leaves the uniform density, e + O(1/L^2). */
	int mid = L / 2 - 1;
	double hm = 0.25 * (o->energy[mid - 1] + 2 * o->energy[mid] +
			    o->energy[mid + 1]);
	CHECK(fabs(hm - eba) < 1e-4,
	      "XXZ L=140: middle energy density %.8f vs Bethe ansatz %.8f",
	      hm, eba);
	CHECK(fabs(r.variance) < var_tol, "XXZ L=140: variance %g >= %g",
	      r.variance, var_tol);
	printf("XXZ Delta=cos(pi/4) L=140 chi=%d: E=%.12f var=%.2e; middle "
	       "bonds %.6f %.6f %.6f, filtered %.8f, Bethe ansatz %.8f "
	       "(diff %.1e); sweeps=%d disc=%.1e %.1fs\n",
	       p.chi_max, r.energy, r.variance, o->energy[mid - 1],
	       o->energy[mid], o->energy[mid + 1], hm, eba, hm - eba, r.sweeps,
	       r.max_discarded, r.seconds);
	obs_destroy(&o);
	mps_destroy(&m);
	chain_destroy(&c);
}

/* Acceptance 4: TEBD (order 4, dt = 0.01, no truncation) from the DMRG
 * |Psi1> of the L = 12 junction against ED evolution of the ED ground
 * state, both under the junction chain WITHOUT lambda. */
static void test_tebd_from_dmrg(void)
{
	const int L = 12;
	const double dt = 0.01, tend = 2.0;
	chain_t *cp, *ce;
	OK(dmrg_paper_chain(&cp, L, 1.0, 0.0, cos(M_PI / 4), err));
	OK(chain_create_junction(&ce, L, 1.0, 0.0, cos(M_PI / 4), err));
	dmrg_params_t p = params(256);
	mps_t *m;
	dmrg_result_t r;
	OK(dmrg_ground_state(cp, L / 2, &p, &m, &r, err));
	ed_t *edp, *ede;
	OK(ed_create(&edp, cp, L / 2, err));
	OK(ed_create(&ede, ce, L / 2, err));
	kz_cplx *psi = malloc(ed_dim(edp) * sizeof(kz_cplx));
	double e0;
	OK(ed_ground_state(edp, psi, &e0, err));
	/* energy under the evolution chain: conserved, so checkable at t */
	double h0, v0, ht, vt;
	OK(dmrg_energy_variance(m, ce, &h0, &v0, err));
	tebd_params_t tp;
	tebd_params_default(&tp);
	OK(tebd_scheme_for_order(4, &tp.scheme, err));
	tp.dt = dt;
	tp.chi_max = 1000;
	tp.cutoff = 0;
	tebd_t *t;
	OK(tebd_create(&t, ce, &tp, err));
	OK(tebd_run(t, m, (int)lround(tend / dt), err));
	OK(ed_evolve(ede, psi, tend, err));
	obs_t *o;
	OK(obs_create(&o, L, err));
	OK(obs_measure(o, m, ce, err));
	char what[64];
	double dmax = 0;
	for (int i = 0; i < L - 1; i++) {
		double eh = ed_bond_energy(ede, psi, i);
		snprintf(what, sizeof what, "t=2 <h_%d>", i);
		CHECK_CLOSE(o->energy[i], eh, 1e-8, what);
		snprintf(what, sizeof what, "t=2 entropy[%d]", i);
		CHECK_CLOSE(o->entropy[i], ed_entropy(ede, psi, i), 1e-8, what);
		snprintf(what, sizeof what, "t=2 J^M[%d]", i);
		CHECK_CLOSE(o->spin_current[i], ed_spin_current(ede, psi, i),
			    1e-8, what);
		dmax = fmax(dmax, fabs(o->energy[i] - eh));
	}
	for (int b = 1; b < L - 1; b++) {
		snprintf(what, sizeof what, "t=2 j[%d]", b);
		CHECK_CLOSE(o->energy_flow[b], ed_energy_flow(ede, psi, b), 1e-8,
			    what);
	}
	/* the junction is not an eigenstate: something must flow */
	double jmax = 0;
	for (int b = 1; b < L - 1; b++)
		jmax = fmax(jmax, fabs(o->energy_flow[b]));
	CHECK(jmax > 1e-2, "t=2: energy flow %g, expected a current", jmax);
	/* MPO energy and variance of a complex (evolved) state: conserved,
	 * and equal to ED's */
	OK(dmrg_energy_variance(m, ce, &ht, &vt, err));
	size_t n = ed_dim(ede);
	kz_cplx *hpsi = malloc(n * sizeof(kz_cplx));
	ed_apply_h(ede, psi, hpsi);
	double eh = 0, hh = 0;
	for (size_t k = 0; k < n; k++) {
		eh += creal(conj(psi[k]) * hpsi[k]);
		hh += creal(conj(hpsi[k]) * hpsi[k]);
	}
	CHECK_CLOSE(ht, eh, 1e-9, "t=2: MPO <H> vs ED");
	CHECK_CLOSE(vt, hh - eh * eh, 1e-9, "t=2: MPO variance vs ED");
	CHECK_CLOSE(ht, h0, 1e-9, "energy conservation 0 -> 2");
	CHECK_CLOSE(vt, v0, 1e-8, "variance conservation 0 -> 2");
	CHECK(v0 > 0.1, "variance of |Psi1> under H: %g", v0);
	printf("TEBD from DMRG |Psi1>, L=12, t=2: max|dh|=%.1e vs ED; <H>=%.10f "
	       "var(H)=%.6f (ED %.10f, %.6f)\n",
	       dmax, ht, vt, eh, hh - eh * eh);
	free(hpsi);
	obs_destroy(&o);
	tebd_destroy(&t);
	free(psi);
	ed_destroy(&edp);
	ed_destroy(&ede);
	mps_destroy(&m);
	chain_destroy(&cp);
	chain_destroy(&ce);
}

/* Acceptance 5: no convergence and bad arguments are errors with messages,
 * never a silent result. */
static void expect_fail(int rc, int code, const char *needle, const char *what)
{
	CHECK(rc == code, "%s: rc %d, expected %d (%s)", what, rc, code, err);
	CHECK(strstr(err, needle) != NULL, "%s: message '%s' lacks '%s'", what,
	      err, needle);
}

static void test_failures(void)
{
	const int L = 12;
	chain_t *c;
	OK(dmrg_paper_chain(&c, L, 1.0, 0.0, cos(M_PI / 4), err));
	dmrg_params_t p = params(64);
	mps_t *m = NULL;
	dmrg_result_t r;
	p.max_sweeps = 1;
	err[0] = 0;
	expect_fail(dmrg_ground_state(c, L / 2, &p, &m, &r, err), KZ_ENUM,
		    "not converged", "max_sweeps = 1");
	CHECK(m == NULL, "not converged: no state returned");
	CHECK(r.sweeps == 1 && isfinite(r.sweep_energy) && isnan(r.energy),
	      "not converged: figures reached (sweeps %d, E %g)", r.sweeps,
	      r.sweep_energy);
	/* a discarded-weight target chi_max cannot reach */
	p = params(2);
	p.max_sweeps = 6;
	p.trunc_tol = 1e-12;
	expect_fail(dmrg_ground_state(c, L / 2, &p, &m, &r, err), KZ_ENUM,
		    "not converged", "chi_max = 2");
	CHECK(r.max_discarded > 1e-12, "chi_max=2: discarded %g",
	      r.max_discarded);

	p = params(64);
	expect_fail(dmrg_ground_state(c, -1, &p, &m, &r, err), KZ_EINVAL,
		    "nup", "nup = -1");
	expect_fail(dmrg_ground_state(c, L + 1, &p, &m, &r, err), KZ_EINVAL,
		    "nup", "nup = L+1");
	p.chi_max = 0;
	expect_fail(dmrg_ground_state(c, L / 2, &p, &m, &r, err), KZ_EINVAL,
		    "chi_max", "chi_max = 0");
	p = params(64);
	p.max_sweeps = 0;
	expect_fail(dmrg_ground_state(c, L / 2, &p, &m, &r, err), KZ_EINVAL,
		    "max_sweeps", "max_sweeps = 0");
	p = params(64);
	p.energy_tol = 0;
	expect_fail(dmrg_ground_state(c, L / 2, &p, &m, &r, err), KZ_EINVAL,
		    "energy_tol", "energy_tol = 0");
	p = params(64);
	p.trunc_tol = NAN;
	expect_fail(dmrg_ground_state(c, L / 2, &p, &m, &r, err), KZ_EINVAL,
		    "trunc_tol", "trunc_tol = NaN");
	p = params(64);
	p.cutoff = -1;
	expect_fail(dmrg_ground_state(c, L / 2, &p, &m, &r, err), KZ_EINVAL,
		    "cutoff", "cutoff = -1");
	p = params(64);
	p.lanczos_iter = 1;
	expect_fail(dmrg_ground_state(c, L / 2, &p, &m, &r, err), KZ_EINVAL,
		    "lanczos_iter", "lanczos_iter = 1");
	p = params(64);
	expect_fail(dmrg_ground_state(NULL, L / 2, &p, &m, &r, err),
		    KZ_EINVAL, "NULL", "NULL chain");
	/* odd L: chain_create refuses it, so hand-build the struct */
	double J[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, D[10] = {0};
	chain_t odd = {.L = 11, .J = J, .Delta = D};
	expect_fail(dmrg_ground_state(&odd, 5, &p, &m, &r, err), KZ_EINVAL,
		    "L=11", "odd L");
	chain_t *c2 = NULL;
	expect_fail(dmrg_paper_chain(&c2, 11, 1.0, 0.0, 0.5, err), KZ_EINVAL,
		    "L=11", "dmrg_paper_chain odd L");
	CHECK(c2 == NULL, "dmrg_paper_chain: no chain on error");
	CHECK(m == NULL, "failures leave *out NULL");
	/* the trivial sectors work */
	p = params(8);
	OK(dmrg_ground_state(c, 0, &p, &m, &r, err));
	CHECK_CLOSE(r.energy, 0.25 * (L / 2 - 1) * cos(M_PI / 4), 1e-12,
		    "all down: E = sum J Delta / 4");
	mps_destroy(&m);
	chain_destroy(&c);
}

int main(void)
{
	double t0 = kz_wtime();
	test_failures();
	test_junction_ed();
	test_general_ed();
	test_truncated_vs_vector();
	test_tebd_from_dmrg();
	printf("small tests: %.1fs\n", kz_wtime() - t0);
	test_free_fermions_140();
	test_bethe_140();
	printf("total: %.1fs\n", kz_wtime() - t0);
	return check_done("test_dmrg");
}
