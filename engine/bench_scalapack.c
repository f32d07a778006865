/* bench_scalapack: `kapitza bench --scalapack` (under mpirun -n R), the
 * crossover between one rank's LAPACK and ScaLAPACK on all R ranks for the
 * decomposition a TEBD update does on one charge sector: singular values
 * and V^dag of an n x n complex matrix, U not formed (zgesvd 'N','S' on
 * rank 0 against psvd_svd(): pzgesvd 'N','V' with the matrix scattered from
 * rank 0 and V^dag gathered back, both included in its time).  Prints the
 * wall and CPU seconds of each (medians of --repeat runs; rank 0's CPU
 * clock) and, last, the smallest size from which ScaLAPACK stays faster.
 * BLAS runs one thread per rank on both sides.  Figures only: on a shared
 * machine they are indicative. */
#include <cblas.h>
#include <complex.h>
#include <getopt.h>
#include <lapacke.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "eu.h"
#include "psvd.h"

#define MAXSIZES 16

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_d);
	return v[n / 2];
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mpirun -n R kapitza bench --scalapack [--sizes "
		   "128,256,...] [--repeat N] [--nb B]\n"
		   "  One sector's SVD (values and V^dag) of n x n: LAPACK on "
		   "rank 0 vs ScaLAPACK\n"
		   "  on all R ranks.  Defaults: --sizes "
		   "128,256,512,1024,2048 --repeat 3 (1 from 1024) --nb 64.\n");
}

typedef struct {
	int sizes[MAXSIZES], nsizes, repeat, nb;
} opts_t;

static int parse(int argc, char **argv, opts_t *o)
{
	static const struct option opts[] = {
		{"scalapack", no_argument, 0, 'S'},
		{"sizes", required_argument, 0, 's'},
		{"repeat", required_argument, 0, 'r'},
		{"nb", required_argument, 0, 'b'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end = "";
		switch (ch) {
		case 'S': break;
		case 's':
			o->nsizes = 0;
			for (char *p = optarg; *p && o->nsizes < MAXSIZES;) {
				o->sizes[o->nsizes++] = (int)strtol(p, &end, 10);
				if (*end != ',' && *end)
					break;
				p = *end ? end + 1 : end;
			}
			break;
		case 'r': o->repeat = (int)strtol(optarg, &end, 10); break;
		case 'b': o->nb = (int)strtol(optarg, &end, 10); break;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return 2;
		}
		if (*end) {
			fprintf(stderr, "kapitza bench: bad number '%s'\n",
				optarg);
			return 2;
		}
	}
	for (int k = 0; k < o->nsizes; k++)
		if (o->sizes[k] < 1 || o->sizes[k] > 16384) {
			fprintf(stderr, "kapitza bench: size %d outside "
					"1..16384\n",
				o->sizes[k]);
			return 2;
		}
	return 0;
}

/* One size: medians of LAPACK (rank 0) and ScaLAPACK (all) wall and CPU
 * seconds into w[4]; the largest singular-value difference into *sdiff. */
static int one_size(psvd_t *p, int n, int repeat, double *w, double *sdiff,
		    char *err)
{
	int rank;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	size_t nn = (size_t)n * n;
	kz_cplx *a = NULL, *b = NULL, *vt = NULL;
	double *s1 = NULL, *s2 = NULL, t[4][8];
	int rc = 0;
	if (rank == 0) {
		a = kz_blas_alloc(nn * sizeof *a), b = kz_blas_alloc(nn * sizeof *b);
		vt = kz_blas_alloc(nn * sizeof *vt); /* zungbr reads past it */
		s1 = malloc((size_t)n * sizeof *s1);
		s2 = malloc((size_t)n * sizeof *s2);
		if (!a || !b || !vt || !s1 || !s2)
			rc = eu_err(err, "out of memory (n = %d)", n);
		unsigned long x = 12345;
		for (size_t k = 0; a && k < nn; k++) {
			x = x * 6364136223846793005UL + 1442695040888963407UL;
			double re = (double)(x >> 11) / 9007199254740992.0;
			x = x * 6364136223846793005UL + 1442695040888963407UL;
			double im = (double)(x >> 11) / 9007199254740992.0;
			a[k] = (re - 0.5) + I * (im - 0.5);
		}
	}
	MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
	for (int r = 0; r < repeat && !rc; r++) {
		MPI_Barrier(MPI_COMM_WORLD);
		double w0 = MPI_Wtime(), c0 = cpu_now();
		if (rank == 0) {
			memcpy(b, a, nn * sizeof *a);
			double *sup = malloc((size_t)n * sizeof *sup);
			int info = sup ? LAPACKE_zgesvd(LAPACK_COL_MAJOR, 'N',
							'S', n, n, b, n, s1,
							NULL, 1, vt, n, sup)
				       : -1;
			free(sup);
			if (info)
				rc = eu_err(err, "zgesvd failed (info %d)",
					    info);
		}
		t[0][r] = MPI_Wtime() - w0, t[1][r] = cpu_now() - c0;
		MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
		if (rc)
			break;
		MPI_Barrier(MPI_COMM_WORLD);
		w0 = MPI_Wtime(), c0 = cpu_now();
		rc = psvd_svd(p, n, n, a, n, s2, vt, n, err);
		t[2][r] = MPI_Wtime() - w0, t[3][r] = cpu_now() - c0;
	}
	if (!rc) {
		for (int k = 0; k < 4; k++)
			w[k] = median(t[k], repeat);
		*sdiff = 0;
		for (int k = 0; rank == 0 && k < n; k++)
			*sdiff = fmax(*sdiff, fabs(s1[k] - s2[k]) / s1[0]);
	}
	free(a), free(b), free(vt), free(s1), free(s2);
	return rc;
}

int scalapack_bench_main(int argc, char **argv)
{
	opts_t o = {{128, 256, 512, 1024, 2048}, 5, 3, 64};
	int a = parse(argc, argv, &o);
	if (a)
		return a < 0 ? 0 : a;
	if (o.repeat < 1 || o.repeat > 8 || o.nb < 1) {
		fprintf(stderr, "kapitza bench: --repeat 1..8, --nb >= 1\n");
		return 2;
	}
	int provided, inited, rank, size, rc = 0;
	char err[EU_ERRLEN] = "";
	MPI_Initialized(&inited);
	if (!inited)
		MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	/* one core per rank on both sides of the comparison */
	openblas_set_num_threads(1);
	psvd_t *p = NULL;
	if ((rc = psvd_create(&p, MPI_COMM_WORLD, o.nb, err))) {
		if (rank == 0)
			fprintf(stderr, "kapitza bench: %s\n", err);
		MPI_Finalize();
		return 1;
	}
	int pr, pc, cross = 0;
	psvd_grid(p, &pr, &pc);
	for (int k = 0; k < o.nsizes && !rc; k++) {
		double w[4], sdiff = 0;
		int n = o.sizes[k], rep = n >= 1024 ? 1 : o.repeat;
		rc = one_size(p, n, rep, w, &sdiff, err);
		if (rc || rank)
			continue;
		double gain = w[0] / w[2];
		if (gain > 1 && !cross)
			cross = n;
		else if (gain <= 1)
			cross = 0;
		printf("scalapack n=%d lapack_wall=%.3f lapack_cpu=%.3f "
		       "scalapack_wall=%.3f scalapack_cpu_rank0=%.3f "
		       "speedup=%.2f max_rel_sdiff=%.1e\n",
		       n, w[0], w[1], w[2], w[3], gain, sdiff);
		fflush(stdout);
	}
	if (rc && rank == 0)
		fprintf(stderr, "kapitza bench: %s\n", err);
	if (!rc && rank == 0) {
		if (cross)
			printf("scalapack crossover ranks=%d grid=%dx%d nb=%d "
			       "n=%d\n",
			       size, pr, pc, o.nb, cross);
		else
			printf("scalapack crossover ranks=%d grid=%dx%d nb=%d "
			       "n=none (LAPACK on one rank faster up to %d)\n",
			       size, pr, pc, o.nb, o.sizes[o.nsizes - 1]);
	}
	psvd_destroy(&p);
	MPI_Finalize();
	return rc != 0;
}
