/* bench: `kapitza bench`, the kernel's reference workload: L = 140
 * junction, Delta_right = cos(pi/4), domain wall, dt = 0.02, singular values
 * below 1e-10 dropped, truncation to chi, from t = 0 to t_end.  Prints
 * figures; it never judges them. */
#include <cblas.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mpi.h>

#include "blascore.h"
#include "chain.h"
#include "cmd.h"
#include "eu.h"
#include "mps.h"
#include "team.h"
#include "tebd.h"

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void bench_usage(FILE *f)
{
	fprintf(f,
		"usage: kapitza bench [--chi N] [--threads T] [--t-end T] "
		"[--order 2|4] [--scheme NAME] [--length L]\n"
		"  [--decomp svd|qr] [--peak]\n"
		"  Reference TEBD workload: L=140 XX/XXZ junction, "
		"Delta_right=cos(pi/4),\n"
		"  domain wall, dt=0.02, cutoff 1e-10.  Defaults: --chi 128 "
		"--threads 1\n"
		"  --t-end 20 --order 4.  --scheme trotter2|suzuki4|omelyan4 "
		"overrides --order.\n"
		"  --decomp qr: QR-based sector decompositions (default svd).\n"
		"  --peak: only the core's zgemm rate (1 thread), the limit the\n"
		"  final line's peak_frac compares with.\n"
		"  --team: under mpirun, the same workload on a team of all "
		"ranks (bond-parallel;\n"
		"  --threads per rank); the final line adds team=R.  "
		"--scalapack-min N: with --team,\n"
		"  sectors of min(rows, cols) >= N are decomposed by "
		"ScaLAPACK on all ranks\n"
		"  (default 256, as kapitza run --team-scalapack; 0: never).\n"
		"  --scalapack instead measures the ScaLAPACK crossover (see "
		"kapitza bench --scalapack --help).\n"
		"  --dmrg instead times the DMRG ground state |Psi1> (see "
		"kapitza bench --dmrg --help).\n"
		"  Prints progress, the time split (the SVD path's by LAPACK "
		"step) and the\n  decomposition time by sector size to stderr, "
		"and one final line of figures.\n");
}

typedef struct {
	int chi, threads, order, L;
	double t_end, dt;
	const char *scheme_name;
	const char *decomp; /* "svd" or "qr" */
	int team;           /* --team: all MPI ranks evolve the state */
	int svd_min;        /* --scalapack-min: the team's ScaLAPACK sectors */
} bench_opts_t;

/* The command line into o; 0, or the exit status (help: -1 -> 0). */
static int bench_args(int argc, char **argv, bench_opts_t *o)
{
	static const struct option opts[] = {
		{"chi", required_argument, 0, 'c'},
		{"threads", required_argument, 0, 'T'},
		{"t-end", required_argument, 0, 't'},
		{"order", required_argument, 0, 'o'},
		{"scheme", required_argument, 0, 's'},
		{"length", required_argument, 0, 'L'},
		{"decomp", required_argument, 0, 'd'},
		{"team", no_argument, 0, 'm'},
		{"scalapack-min", required_argument, 0, 'M'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end = NULL;
		switch (ch) {
		case 'c': o->chi = (int)strtol(optarg, &end, 10); break;
		case 'T': o->threads = (int)strtol(optarg, &end, 10); break;
		case 't': o->t_end = strtod(optarg, &end); break;
		case 'o': o->order = (int)strtol(optarg, &end, 10); break;
		case 'L': o->L = (int)strtol(optarg, &end, 10); break;
		case 's': o->scheme_name = optarg; end = optarg + strlen(optarg); break;
		case 'd': o->decomp = optarg; end = optarg + strlen(optarg); break;
		case 'm': o->team = 1; end = ""; break;
		case 'M': o->svd_min = (int)strtol(optarg, &end, 10); break;
		case 'h': bench_usage(stdout); return -1;
		default: bench_usage(stderr); return 2;
		}
		if (!end || *end) {
			fprintf(stderr, "kapitza bench: bad number '%s'\n",
				optarg);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kapitza bench: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (!(o->t_end >= 0) || !isfinite(o->t_end)) {
		fprintf(stderr, "kapitza bench: --t-end must be >= 0\n");
		return 2;
	}
	return 0;
}

/* The TEBD parameters of o (scheme by name, else by order); 0 or 2. */
static int bench_params(const bench_opts_t *o, tebd_params_t *p)
{
	char err[KZ_ERRLEN] = "";
	tebd_params_default(p);
	p->dt = o->dt;
	p->chi_max = o->chi;
	p->threads = o->threads;
	p->cutoff = 1e-10;
	if (strcmp(o->decomp, "svd") && strcmp(o->decomp, "qr")) {
		fprintf(stderr, "kapitza bench: --decomp %s: expected svd or qr\n",
			o->decomp);
		return 2;
	}
	p->decomp = strcmp(o->decomp, "qr") ? TEBD_DECOMP_SVD : TEBD_DECOMP_QR;
	if (o->scheme_name) {
		int found = 0;
		for (int s = TEBD_TROTTER2; s <= TEBD_LAST; s++)
			if (!strcmp(o->scheme_name, tebd_scheme_name(s))) {
				p->scheme = (tebd_scheme_t)s;
				found = 1;
			}
		if (!found) {
			fprintf(stderr, "kapitza bench: unknown scheme '%s'\n",
				o->scheme_name);
			return 2;
		}
	} else if (tebd_scheme_for_order(o->order, &p->scheme, err)) {
		fprintf(stderr, "kapitza bench: %s\n", err);
		return 2;
	}
	return 0;
}

/* Process CPU seconds (robust on a shared machine). */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* The core's complex matrix-product rate: one-thread zgemm of n x n
 * matrices, n = 128, 256, 512, each repeated for >= 0.3 CPU seconds,
 * 8 n^3 flops a product; the best rate in GFLOP/s (0 if out of memory). */
static double bench_peak(int verbose)
{
	const int nmax = 512;
	size_t nn = (size_t)nmax * nmax;
	kz_cplx *a = malloc(3 * nn * sizeof *a), one = 1, zero = 0;
	if (!a)
		return 0;
	for (size_t k = 0; k < 3 * nn; k++)
		a[k] = cos(0.7 * k) + I * sin(0.3 * k);
	int prev = openblas_get_num_threads();
	openblas_set_num_threads(1);
	double best = 0;
	for (int n = 128; n <= nmax; n *= 2) {
		long reps = 0;
		double c0 = cpu_now(), c = 0;
		do {
			cblas_zgemm(CblasColMajor, CblasNoTrans, CblasNoTrans,
				    n, n, n, &one, a, n, a + nn, n, &zero,
				    a + 2 * nn, n);
			reps++;
		} while ((c = cpu_now() - c0) < 0.3);
		double r = 8.0 * n * n * (double)n * reps / c / 1e9;
		if (verbose)
			fprintf(stderr, "  zgemm n=%d: %.1f GFLOP/s\n", n, r);
		best = r > best ? r : best;
	}
	openblas_set_num_threads(prev);
	free(a);
	return best;
}

/* the last steps, whose bonds are saturated: sat_gflops and
 * s_per_step_last30 */
#define SAT_STEPS 30

/* One step of the workload, alone (t) or on a team (tm); the state's
 * largest bond and the discarded weight so far for the progress line. */
typedef struct {
	tebd_t *t;
	mps_t *m;
	team_t *tm;
} bench_run_t;

static int bench_step(bench_run_t *b, char *err)
{
	return b->tm ? team_run(b->tm, 1, NULL, err)
		     : tebd_run(b->t, b->m, 1, err);
}

static int bench_max_bond(const bench_run_t *b)
{
	return b->tm ? team_max_bond_dim(b->tm) : mps_max_bond_dim(b->m);
}

static double bench_discarded(const bench_run_t *b)
{
	return b->tm ? team_discarded_total(b->tm)
		     : tebd_discarded_total(b->t);
}

/* nsteps single steps of b, each timed into step_s (its cumulative counted
 * flops into step_f: alone every step, on a team the two that
 * bench_report reads), with progress on stderr; 0 or 1. */
static int bench_steps(bench_run_t *b, int nsteps, double dt, double *step_s,
		       double *step_f, double *wall)
{
	char err[EU_ERRLEN] = "";
	double w0 = kz_wtime(), last_print = w0;
	for (int s = 0; s < nsteps; s++) {
		double a = kz_wtime();
		if (bench_step(b, err)) {
			fprintf(stderr, "kapitza bench: step %d: %s\n", s, err);
			return 1;
		}
		double e = kz_wtime();
		step_s[s] = e - a;
		if (step_f && b->t) {
			tebd_stats_t st;
			tebd_stats(b->t, &st);
			step_f[s] = st.gemm_flops + st.svd_flops;
		} else if (step_f &&
			   (s == nsteps - 1 || s == nsteps - SAT_STEPS - 1)) {
			/* a team's counts are collective: only where
			 * bench_report reads them */
			tebd_stats_t st;
			team_stats_t ts;
			if (team_stats(b->tm, &st, &ts, err)) {
				fprintf(stderr, "kapitza bench: %s\n", err);
				return 1;
			}
			step_f[s] = st.gemm_flops + st.svd_flops;
		}
		if (e - last_print > 5 || s == nsteps - 1) {
			fprintf(stderr,
				"  t=%6.2f  max_bond=%4d  discarded=%.3e  "
				"step=%.4fs  elapsed=%.1fs\n",
				(s + 1) * dt, bench_max_bond(b),
				bench_discarded(b), step_s[s], e - w0);
			last_print = e;
		}
	}
	*wall = kz_wtime() - w0;
	return 0;
}

/* The decomposition time by sector size n = min(rows, cols), one line on
 * stderr: per bin, its share of the decomposition time, the sectors
 * decomposed and the microseconds per sector (what says whether small
 * sectors are worth batching).  Nothing on a team (its members' sectors
 * are not binned). */
static void size_report(const tebd_stats_t *st)
{
	double tot = 0;
	for (int b = 0; b < TEBD_SIZE_BINS; b++)
		tot += st->size_s[b];
	if (!(tot > 0))
		return;
	fprintf(stderr, "decomposition by sector size:");
	for (int b = 0; b < TEBD_SIZE_BINS; b++) {
		char n[24];
		if (!st->size_n[b])
			continue;
		if (b == TEBD_SIZE_BINS - 1)
			snprintf(n, sizeof n, ">%d", 1 << (b - 1));
		else if (b < 2)
			snprintf(n, sizeof n, "%d", 1 << b);
		else
			snprintf(n, sizeof n, "%d-%d", (1 << (b - 1)) + 1,
				 1 << b);
		fprintf(stderr, "  n %s: %.0f%% (%ld, %.3g us)", n,
			100 * st->size_s[b] / tot, st->size_n[b],
			1e6 * st->size_s[b] / st->size_n[b]);
	}
	fprintf(stderr, "\n");
}

/* The time split on stderr and the one line of figures on stdout: sat_gflops
 * is the counted flops of the last 30 steps (the saturated ones, once the
 * bonds are at chi) over their wall time (on a team, all members' flops),
 * peak_frac its fraction of one core's zgemm rate (bench_peak, measured
 * after the run; with several threads or ranks it can pass 1). */
static void bench_report(const bench_opts_t *o, const tebd_params_t *p,
			 const tebd_stats_t *stp, double discarded,
			 const mps_t *m, double *step_s, const double *step_f,
			 int nsteps, double wall, double cpu, int team)
{
	int nlast = nsteps < SAT_STEPS ? nsteps : SAT_STEPS;
	double med = 0, sat_s = 0, sat_f = 0;
	for (int s = nsteps - nlast; s < nsteps; s++)
		sat_s += step_s[s];
	if (nlast && step_f)
		sat_f = step_f[nsteps - 1] -
			(nsteps > nlast ? step_f[nsteps - nlast - 1] : 0);
	double sat = sat_s > 0 ? sat_f / sat_s / 1e9 : 0;
	if (nlast) {
		qsort(step_s + nsteps - nlast, (size_t)nlast, sizeof(double),
		      cmp_d);
		med = step_s[nsteps - nlast + nlast / 2];
	}
	int at_chi = 0;
	for (int b = 1; b < o->L; b++)
		at_chi += mps_bond_dim(m, b) >= o->chi;
	tebd_stats_t st = *stp;
	double flops = st.gemm_flops + st.svd_flops;
	fprintf(stderr,
		"time split (thread-seconds): decomposition %.2f  gemm %.2f  "
		"other %.2f  | gates %ld, %.1f us/gate; flops: gemm %.3g, "
		"decomposition %.3g\n",
		st.svd_s, st.gemm_s, st.other_s, st.gates,
		st.gates ? 1e6 * (st.svd_s + st.gemm_s + st.other_s) / st.gates
			 : 0,
		st.gemm_flops, st.svd_flops);
	if (st.brd_s > 0)
		fprintf(stderr,
			"SVD sectors (thread-seconds): bidiagonalisation %.2f  "
			"bidiagonal SVD %.2f  back-transformation %.2f\n",
			st.brd_s, st.bdsvd_s, st.back_s);
	if (p->decomp == TEBD_DECOMP_QR)
		fprintf(stderr, "QR sectors %ld, of them redone by SVD %ld\n",
			st.qr_sectors, st.qr_redone);
	size_report(&st);
	printf("bench L=%d chi=%d threads=%d order=%d decomp=%s t_end=%g "
	       "wall_s=%.2f s_per_step_last30=%.4f bonds_at_chi=%d "
	       "max_bond=%d discarded=%.4e gflops=%.2f cpu_s=%.2f "
	       "sat_gflops=%.2f",
	       o->L, o->chi, o->threads, p->scheme == TEBD_TROTTER2 ? 2 : 4,
	       o->decomp, o->t_end, wall, med, at_chi, mps_max_bond_dim(m),
	       discarded, wall > 0 ? flops / wall / 1e9 : 0, cpu, sat);
	double peak = bench_peak(0);
	printf(" peak_gflops=%.2f peak_frac=%.3f blas=%s", peak,
	       peak > 0 ? sat / peak : 0, blascore_name());
	if (team)
		printf(" team=%d", team);
	printf("\n");
}

/* The workload on a team of all ranks: rank 0 leads (and reports), the
 * others serve; MPI is started and ended here. */
static int bench_team(const bench_opts_t *o, const tebd_params_t *p,
		      const chain_t *c, const mps_t *m0, double *step_s,
		      double *step_f, int nsteps)
{
	int provided, inited, rank, size, rc = 1;
	char err[EU_ERRLEN] = "";
	MPI_Initialized(&inited);
	if (!inited)
		MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (rank) {
		rc = team_serve(MPI_COMM_WORLD, c, p, err) != 0;
		if (rc)
			fprintf(stderr, "kapitza bench: rank %d: %s\n", rank,
				err);
		MPI_Finalize();
		return rc;
	}
	bench_run_t b = {0};
	mps_t *m = NULL;
	tebd_stats_t st;
	double wall = 0;
	if (team_create(&b.tm, MPI_COMM_WORLD, c, p, m0, err)) {
		fprintf(stderr, "kapitza bench: %s\n", err);
		goto out;
	}
	if (o->svd_min > 0 && team_set_scalapack(b.tm, o->svd_min, err)) {
		fprintf(stderr, "kapitza bench: %s\n", err);
		goto out;
	}
	fprintf(stderr, "bench: a team of %d ranks, %d threads each%s\n",
		size, o->threads,
		team_scalapack_min(b.tm) ? ", ScaLAPACK for large sectors"
		: o->svd_min > 0 ? ", no ScaLAPACK (chi_max < 2 "
				   "--scalapack-min)"
				 : ", no ScaLAPACK");
	double cpu0 = cpu_now();
	if (bench_steps(&b, nsteps, o->dt, step_s, step_f, &wall))
		goto out;
	double cpu = cpu_now() - cpu0;
	team_stats_t ts;
	if (team_stats(b.tm, &st, &ts, err) || team_gather(b.tm, &m, err)) {
		fprintf(stderr, "kapitza bench: %s\n", err);
		goto out;
	}
	fprintf(stderr, "team: %d ranks waited %.2f s for each other's "
			"sites (summed), rebalanced %d times, %ld sectors by "
			"ScaLAPACK\n",
		size, ts.wait_s, team_rebalanced(b.tm),
		team_scalapack_sectors(b.tm));
	fprintf(stderr, "team: the busiest rank had %.1f%% of the measured "
			"gate seconds (%.1f%% with ranges balanced on those "
			"seconds, %.1f%% even)\n",
		100 * ts.busiest, 100 * ts.busiest_best, 100.0 / size);
	bench_report(o, p, &st, team_discarded_total(b.tm), m, step_s,
		     step_f, nsteps, wall, cpu, size);
	rc = 0;
out:
	team_destroy(&b.tm);
	mps_destroy(&m);
	MPI_Finalize();
	return rc;
}

int cmd_bench(int argc, char **argv)
{
	bench_opts_t o = {.chi = 128, .threads = 1, .order = 4, .L = 140,
			  .t_end = 20, .dt = 0.02, .decomp = "svd",
			  .svd_min = TEAM_SCALAPACK_MIN};
	int rc = 1;
	for (int k = 1; k < argc; k++)
		if (!strcmp(argv[k], "--dmrg"))
			return dmrg_bench_main(argc, argv);
		else if (!strcmp(argv[k], "--scalapack"))
			return scalapack_bench_main(argc, argv);
		else if (!strcmp(argv[k], "--peak")) {
			double r = bench_peak(1);
			printf("peak blas=%s zgemm_gflops=%.2f (1 thread, best "
			       "of n=128,256,512)\n",
			       blascore_name(), r);
			return r > 0 ? 0 : 1;
		}
	tebd_params_t p;
	int a = bench_args(argc, argv, &o);
	if (a)
		return a < 0 ? 0 : a;
	if ((a = bench_params(&o, &p)))
		return a;
	char err[KZ_ERRLEN] = "";
	chain_t *c = NULL;
	mps_t *m = NULL;
	tebd_t *t = NULL;
	int L = o.L, *up = NULL, nsteps = (int)lround(o.t_end / o.dt);
	double *step_s = NULL, *step_f = NULL, wall = 0;
	up = malloc((size_t)(L > 0 ? L : 1) * sizeof(int));
	step_s = malloc((size_t)(nsteps + 1) * sizeof(double));
	step_f = malloc((size_t)(nsteps + 1) * sizeof(double));
	if (!up || !step_s || !step_f) {
		fprintf(stderr, "kapitza bench: out of memory\n");
		goto out;
	}
	for (int i = 0; i < L; i++)
		up[i] = i < L / 2;
	if (chain_create_junction(&c, L, 1.0, 0.0, cos(M_PI / 4), err) ||
	    mps_create_product(&m, L, up, err)) {
		fprintf(stderr, "kapitza bench: %s\n", err);
		goto out;
	}
	if (o.team) {
		rc = bench_team(&o, &p, c, m, step_s, step_f, nsteps);
		goto out;
	}
	if (tebd_create(&t, c, &p, err)) {
		fprintf(stderr, "kapitza bench: %s\n", err);
		goto out;
	}
	fprintf(stderr,
		"bench: L=%d chi=%d threads=%d scheme=%s (%d layers/step) "
		"dt=%g steps=%d decomp=%s\n",
		L, o.chi, o.threads, tebd_scheme_name(p.scheme),
		tebd_scheme_layers(p.scheme), o.dt, nsteps, o.decomp);
	bench_run_t b = {.t = t, .m = m};
	double cpu0 = cpu_now();
	if (bench_steps(&b, nsteps, o.dt, step_s, step_f, &wall))
		goto out;
	double cpu = cpu_now() - cpu0;
	tebd_stats_t st;
	tebd_stats(t, &st);
	bench_report(&o, &p, &st, tebd_discarded_total(t), m, step_s, step_f,
		     nsteps, wall, cpu, 0);
	rc = 0;
out:
	tebd_destroy(&t);
	mps_destroy(&m);
	chain_destroy(&c);
	free(up);
	free(step_s);
	free(step_f);
	return rc;
}
