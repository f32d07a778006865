/* test_tebd_qr: TEBD with the QR-based sector decomposition
 * (TEBD_DECOMP_QR, kernels/mps/qrdec.c) against the same evolution with the
 * SVD, on states where the bond saturates so that the QR path does the
 * work (checked through tebd_stats: sectors taken by QR, and how many of
 * them had to be redone by SVD).
 *
 *  - L = 140 homogeneous XX chain, domain wall, chi = 32, t = 10: S^z and
 *    the spin current against free fermions, for both paths; the QR run's
 *    error at most 1.5 times the SVD run's plus 1e-7 (both are truncation
 *    errors of the same size); the middle bond's Schmidt values and the
 *    profiles of the two runs against each other to 1e-4 (the
 *    truncation error of the runs at t = 10, measured 1e-5 for S^z); the
 *    accumulated discarded weight within 20% of the SVD run's; norm 1 to
 *    1e-8 (a checked consequence of Psi V = U S holding exactly).
 *  - the bench junction (Delta_right = cos(pi/4)), L = 60, chi = 24,
 *    2 threads against 1: bitwise identical Schmidt values and discarded
 *    weight with QR.
 * The L = 140 free-fermion comparison at chi = 64 and 96 to t = 20, at the
 * tolerances of test_ff140, is `test_ff140 --qr` (suite long). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "check.h"
#include "ff.h"
#include "mps.h"
#include "obs.h"
#include "tebd.h"

static char err[KZ_ERRLEN];

static tebd_t *make(const chain_t *c, int chi, int threads, tebd_decomp_t d)
{
	tebd_params_t p;
	tebd_params_default(&p);
	p.chi_max = chi;
	p.dt = 0.02;
	p.cutoff = 1e-10;
	p.threads = threads;
	p.decomp = d;
	tebd_t *t = NULL;
	OK(tebd_create(&t, c, &p, err));
	return t;
}

/* The decomposition time split by sector size (bench's histogram) adds up
 * to the decomposition time, and every gate decomposed a sector. */
static void check_bins(const tebd_stats_t *st, const char *what)
{
	double tot = 0;
	long n = 0;
	for (int b = 0; b < TEBD_SIZE_BINS; b++) {
		tot += st->size_s[b];
		n += st->size_n[b];
	}
	CHECK(fabs(tot - st->svd_s) <= 1e-9 * st->svd_s && st->svd_s > 0,
	      "%s: size bins sum to %.9g s, decomposition %.9g s", what, tot,
	      st->svd_s);
	CHECK(n >= st->gates, "%s: %ld sectors binned for %ld gates", what, n,
	      st->gates);
	/* the SVD path's three steps: all of the decomposition time on the
	 * SVD path, a part of it on the QR path (small and redone sectors) */
	double parts = st->brd_s + st->bdsvd_s + st->back_s;
	CHECK(st->brd_s > 0 && st->bdsvd_s > 0 && st->back_s > 0,
	      "%s: SVD steps %.3g %.3g %.3g s", what, st->brd_s, st->bdsvd_s,
	      st->back_s);
	if (st->qr_sectors)
		CHECK(parts < st->svd_s, "%s: SVD steps %.9g s of %.9g s", what,
		      parts, st->svd_s);
	else
		CHECK(fabs(parts - st->svd_s) <= 1e-9 * st->svd_s,
		      "%s: SVD steps sum to %.9g s, decomposition %.9g s", what,
		      parts, st->svd_s);
}

static int cmp_desc(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a < b) - (a > b);
}

static void test_l140_vs_svd(void)
{
	enum { L = 140, CHI = 32 };
	const double tend = 10;
	int up[L];
	for (int i = 0; i < L; i++)
		up[i] = i < L / 2;
	chain_t *c;
	ff_t *f;
	OK(chain_create_junction(&c, L, 1.0, 0.0, 0.0, err));
	OK(ff_create(&f, c, err));
	OK(ff_set_product(f, up, err));
	OK(ff_evolve(f, tend, err));
	mps_t *m[2];
	tebd_t *t[2];
	obs_t *o[2];
	double esz[2], ejm[2], lam[2][CHI];
	int nl[2];
	for (int d = 0; d < 2; d++) {
		OK(mps_create_product(&m[d], L, up, err));
		t[d] = make(c, CHI, 1, d ? TEBD_DECOMP_QR : TEBD_DECOMP_SVD);
		OK(obs_create(&o[d], L, err));
		OK(tebd_run(t[d], m[d], (int)lround(tend / 0.02), err));
		OK(obs_measure(o[d], m[d], c, err));
		esz[d] = ejm[d] = 0;
		for (int i = 0; i < L; i++)
			esz[d] = fmax(esz[d], fabs(o[d]->sz[i] - ff_sz(f, i)));
		for (int i = 0; i < L - 1; i++)
			ejm[d] = fmax(ejm[d], fabs(o[d]->spin_current[i] -
						   ff_spin_current(f, i)));
		nl[d] = mps_schmidt_values(m[d], L / 2, lam[d]);
		qsort(lam[d], (size_t)nl[d], sizeof(double), cmp_desc);
		CHECK_CLOSE(o[d]->norm, 1, 1e-8, d ? "norm, QR" : "norm, SVD");
	}
	tebd_stats_t st;
	tebd_stats(t[0], &st);
	check_bins(&st, "SVD");
	tebd_stats(t[1], &st);
	check_bins(&st, "QR");
	double dsz = 0, djm = 0, dlam = 0;
	for (int i = 0; i < L; i++)
		dsz = fmax(dsz, fabs(o[0]->sz[i] - o[1]->sz[i]));
	for (int i = 0; i < L - 1; i++)
		djm = fmax(djm, fabs(o[0]->spin_current[i] -
				     o[1]->spin_current[i]));
	for (int a = 0; a < CHI; a++)
		dlam = fmax(dlam, fabs((a < nl[0] ? lam[0][a] : 0) -
				       (a < nl[1] ? lam[1][a] : 0)));
	double d0 = tebd_discarded_total(t[0]), d1 = tebd_discarded_total(t[1]);
	printf("L=140 chi=%d t=%g: |Sz - ff| svd %.2e qr %.2e, |JM - ff| svd "
	       "%.2e qr %.2e; qr vs svd: Sz %.2e JM %.2e middle Schmidt %.2e; "
	       "discarded svd %.4e qr %.4e; QR sectors %ld, redone %ld\n",
	       CHI, tend, esz[0], esz[1], ejm[0], ejm[1], dsz, djm, dlam, d0,
	       d1, st.qr_sectors, st.qr_redone);
	CHECK(st.qr_sectors > 1000 && st.qr_redone < st.qr_sectors / 2,
	      "QR path hardly used: %ld sectors, %ld redone", st.qr_sectors,
	      st.qr_redone);
	CHECK(esz[1] <= 1.5 * esz[0] + 1e-7, "Sz error qr %g vs svd %g",
	      esz[1], esz[0]);
	CHECK(ejm[1] <= 1.5 * ejm[0] + 1e-7, "JM error qr %g vs svd %g",
	      ejm[1], ejm[0]);
	CHECK_CLOSE(dsz, 0, 1e-4, "Sz, qr vs svd");
	CHECK_CLOSE(djm, 0, 1e-4, "JM, qr vs svd");
	CHECK_CLOSE(dlam, 0, 1e-4, "middle Schmidt values, qr vs svd");
	CHECK(d0 > 0 && fabs(d1 - d0) <= 0.2 * d0,
	      "discarded weight qr %g vs svd %g", d1, d0);
	CHECK(mps_max_bond_dim(m[1]) == CHI, "QR run saturated: %d",
	      mps_max_bond_dim(m[1]));
	for (int d = 0; d < 2; d++) {
		obs_destroy(&o[d]);
		tebd_destroy(&t[d]);
		mps_destroy(&m[d]);
	}
	ff_destroy(&f);
	chain_destroy(&c);
}

static void test_threads_identical(void)
{
	enum { L = 60, CHI = 24 };
	int up[L];
	for (int i = 0; i < L; i++)
		up[i] = i < L / 2;
	chain_t *c;
	OK(chain_create_junction(&c, L, 1.0, 0.0, cos(M_PI / 4), err));
	mps_t *m1, *m2;
	OK(mps_create_product(&m1, L, up, err));
	OK(mps_create_product(&m2, L, up, err));
	tebd_t *t1 = make(c, CHI, 1, TEBD_DECOMP_QR);
	tebd_t *t2 = make(c, CHI, 2, TEBD_DECOMP_QR);
	OK(tebd_run(t1, m1, 300, err));
	OK(tebd_run(t2, m2, 300, err));
	int same = 1;
	double l1[CHI], l2[CHI];
	for (int b = 0; b <= L; b++) {
		int n1 = mps_schmidt_values(m1, b, l1);
		int n2 = mps_schmidt_values(m2, b, l2);
		if (n1 != n2 || memcmp(l1, l2, (size_t)n1 * sizeof(double)))
			same = 0;
	}
	tebd_stats_t st;
	tebd_stats(t1, &st);
	CHECK(st.qr_sectors > st.qr_redone, "QR path not used (%ld, %ld)",
	      st.qr_sectors, st.qr_redone);
	CHECK(same, "QR: 1 and 2 threads give bitwise different states");
	CHECK(tebd_discarded_total(t1) == tebd_discarded_total(t2) &&
		      tebd_discarded_total(t1) > 0,
	      "QR: discarded weight %g vs %g", tebd_discarded_total(t1),
	      tebd_discarded_total(t2));
	tebd_destroy(&t1);
	tebd_destroy(&t2);
	mps_destroy(&m1);
	mps_destroy(&m2);
	chain_destroy(&c);
}

int main(void)
{
	test_threads_identical();
	test_l140_vs_svd();
	/* an unknown decomposition is refused */
	chain_t *c;
	OK(chain_create_junction(&c, 4, 1.0, 0.0, 0.0, err));
	tebd_params_t p;
	tebd_params_default(&p);
	CHECK(p.decomp == TEBD_DECOMP_SVD, "default decomposition not SVD");
	p.decomp = (tebd_decomp_t)7;
	tebd_t *t = NULL;
	CHECK(tebd_create(&t, c, &p, err) == KZ_EINVAL && !t,
	      "decomp 7 accepted");
	chain_destroy(&c);
	return check_done("test_tebd_qr");
}
