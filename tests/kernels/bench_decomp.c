/* bench_decomp: saturated TEBD steps with the SVD and the QR-based sector
 * decomposition, on the same state, alternately -- a measurement, not a
 * test (it asserts nothing).
 *
 * The state: `kapitza bench`'s workload (L = 140 junction, Delta_right =
 * cos(pi/4), domain wall, cutoff 1e-10, chi) evolved with the SVD to
 * t_prep at the coarse dt = 0.1 (entanglement grows with t, not with the
 * number of steps, so the bonds saturate at a fifth of the cost).  Then,
 * `rounds` times, for 1..THREADS threads, svd and qr alternately: a copy
 * of that state, `steps` steps of dt = 0.02, timed by the process CPU clock
 * (robust on a shared machine; with threads > 1 it sums the threads) and by
 * the wall clock.
 * Printed per run: seconds, GFLOP/s from the counted flops (tebd_stats:
 * zgemm 8 m n k, the decompositions' own counts) and, for qr, the largest
 * |S^z| difference and the discarded-weight ratio against the svd run.
 *
 * usage: bench_decomp CHI THREADS T_PREP STEPS ROUNDS */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "chain.h"
#include "mps.h"
#include "obs.h"
#include "tebd.h"

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void die(const char *what, const char *err)
{
	fprintf(stderr, "bench_decomp: %s: %s\n", what, err);
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: bench_decomp CHI THREADS T_PREP STEPS "
				"ROUNDS\n");
		return 2;
	}
	const int chi = atoi(argv[1]), threads = atoi(argv[2]);
	const double tprep = atof(argv[3]);
	const int steps = atoi(argv[4]), rounds = atoi(argv[5]), L = 140;
	char err[KZ_ERRLEN];
	int up[140];
	for (int i = 0; i < L; i++)
		up[i] = i < L / 2;
	chain_t *c;
	mps_t *m0;
	tebd_t *t;
	tebd_params_t p;
	tebd_params_default(&p);
	p.chi_max = chi;
	p.cutoff = 1e-10;
	p.dt = 0.1;
	p.threads = threads;
	if (chain_create_junction(&c, L, 1.0, 0.0, cos(M_PI / 4), err) ||
	    mps_create_product(&m0, L, up, err) || tebd_create(&t, c, &p, err) ||
	    tebd_run(t, m0, (int)lround(tprep / p.dt), err))
		die("prepare", err);
	tebd_destroy(&t);
	int at = 0;
	for (int b = 1; b < L; b++)
		at += mps_bond_dim(m0, b) >= chi;
	printf("chi=%d threads=%d: state at t=%g, %d bonds at chi, then %d "
	       "steps of dt=0.02\n",
	       chi, threads, tprep, at, steps);
	obs_t *o[2];
	if (obs_create(&o[0], L, err) || obs_create(&o[1], L, err))
		die("obs", err);
	p.dt = 0.02;
	for (int r = 0; r < rounds * threads; r++) {
		double disc[2];
		p.threads = 1 + r % threads;
		for (int d = 0; d < 2; d++) {
			mps_t *m;
			p.decomp = d ? TEBD_DECOMP_QR : TEBD_DECOMP_SVD;
			if (mps_copy(&m, m0, err) || tebd_create(&t, c, &p, err))
				die("setup", err);
			double c0 = cpu_now(), w0 = kz_wtime();
			if (tebd_run(t, m, steps, err))
				die("run", err);
			double cpu = cpu_now() - c0, wall = kz_wtime() - w0;
			tebd_stats_t st;
			tebd_stats(t, &st);
			disc[d] = tebd_discarded_total(t);
			if (obs_measure(o[d], m, c, err))
				die("measure", err);
			printf("round %d threads %d %s: cpu %.2f s wall %.2f s  decomp %.2f "
			       "gemm %.2f other %.2f (thread-s)  %.2f GFLOP/s "
			       "(cpu)  discarded %.4e",
			       r / threads, p.threads, d ? "qr " : "svd", cpu, wall, st.svd_s,
			       st.gemm_s, st.other_s,
			       (st.gemm_flops + st.svd_flops) / cpu / 1e9,
			       disc[d]);
			if (d) {
				double dsz = 0;
				for (int i = 0; i < L; i++)
					dsz = fmax(dsz, fabs(o[0]->sz[i] -
							     o[1]->sz[i]));
				printf("  QR sectors %ld redone %ld  |dSz| %.2e "
				       "disc ratio %.4f",
				       st.qr_sectors, st.qr_redone, dsz,
				       disc[1] / disc[0]);
			}
			printf("\n");
			fflush(stdout);
			tebd_destroy(&t);
			mps_destroy(&m);
		}
	}
	obs_destroy(&o[0]);
	obs_destroy(&o[1]);
	mps_destroy(&m0);
	chain_destroy(&c);
	return 0;
}
