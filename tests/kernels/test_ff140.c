/* test_ff140: issue 2 acceptance 2.  L = 140 homogeneous XX chain, domain
 * wall, dt = 0.02, order 4, up to t = 20, against free fermions.
 *
 * chi_max = 64 is at the edge of what the exact state allows at t = 20: its
 * Schmidt weight beyond the 64 largest values at the middle bond is 9.9e-10
 * (computed from the free-fermion entanglement spectrum), and TEBD
 * accumulates such truncations over 8000 layers (total 8e-9), so S^z_n and
 * J^M_n agree to 4.6e-6 there, not 1e-6.  We assert 1e-5 at chi = 64 and
 * the 1e-6 at chi = 96; the middle entropy to 1e-5 at both.  Up to
 * t = 10 the chi = 64 run agrees to 1e-8 (truncation negligible). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "chain.h"
#include "check.h"
#include "ff.h"
#include "mps.h"
#include "obs.h"
#include "tebd.h"

static void run(int chi, double tol20)
{
	enum { L = 140 };
	char err[KZ_ERRLEN];
	int up[L];
	for (int i = 0; i < L; i++)
		up[i] = i < L / 2;
	chain_t *c = NULL;
	mps_t *m = NULL;
	tebd_t *t = NULL;
	ff_t *f = NULL;
	obs_t *o = NULL;
	tebd_params_t p;
	tebd_params_default(&p);
	p.chi_max = chi;
	p.dt = 0.02;
	p.cutoff = 1e-10;
	if (chain_create_junction(&c, L, 1.0, 0.0, 0.0, err) ||
	    mps_create_product(&m, L, up, err) || tebd_create(&t, c, &p, err) ||
	    ff_create(&f, c, err) || ff_set_product(f, up, err) ||
	    obs_create(&o, L, err)) {
		fprintf(stderr, "setup: %s\n", err);
		exit(1);
	}
	double tnow = 0;
	const double times[] = {5, 10, 20};
	for (int k = 0; k < 3; k++) {
		int n = (int)lround((times[k] - tnow) / p.dt);
		if (tebd_run(t, m, n, err) || ff_evolve(f, times[k] - tnow, err) ||
		    obs_measure(o, m, c, err)) {
			fprintf(stderr, "t=%g: %s\n", times[k], err);
			exit(1);
		}
		tnow = times[k];
		double esz = 0, ejm = 0, sztot = 0;
		for (int i = 0; i < L; i++) {
			esz = fmax(esz, fabs(o->sz[i] - ff_sz(f, i)));
			sztot += o->sz[i];
		}
		for (int i = 0; i < L - 1; i++)
			ejm = fmax(ejm, fabs(o->spin_current[i] -
					     ff_spin_current(f, i)));
		double smid = o->entropy[L / 2 - 1];
		double sff = ff_entropy(f, L / 2 - 1);
		printf("chi=%d t=%4.1f  max|dSz|=%.2e  max|dJM|=%.2e  S_mid=%.8f "
		       "(ff %.8f)  max bond %d  discarded %.2e\n",
		       chi, tnow, esz, ejm, smid, sff, mps_max_bond_dim(m),
		       tebd_discarded_total(t));
		double tol = tnow <= 10 ? 1e-8 : tol20;
		CHECK_CLOSE(esz, 0, tol, "Sz vs free fermions");
		CHECK_CLOSE(ejm, 0, tol, "J^M vs free fermions");
		CHECK_CLOSE(smid, sff, 1e-5, "middle entropy vs free fermions");
		/* the state is exactly in the Sz = 0 sector; the local values
		 * assume the canonical form, which truncation keeps only to
		 * ~1e-11 */
		CHECK_CLOSE(sztot, 0, 1e-10, "total Sz");
		CHECK_CLOSE(o->norm, 1, 1e-8, "norm");
	}
	/* the front has moved: Sz is no longer a step at the centre */
	CHECK(fabs(o->sz[L / 2] + 0.5) > 0.1, "front did not move");
	obs_destroy(&o);
	ff_destroy(&f);
	tebd_destroy(&t);
	mps_destroy(&m);
	chain_destroy(&c);
}

int main(void)
{
	run(64, 1e-5);
	run(96, 1e-6);
	return check_done("test_ff140");
}
