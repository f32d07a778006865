/* test_psvd: the ScaLAPACK sector decomposition (engine/team/psvd.c) on all
 * ranks against LAPACK's zgesvd on rank 0, for square, wide and tall
 * complex matrices spread over several blocks (block size 8): singular
 * values to 1e-12 of the largest, and each right singular vector equal up
 * to a phase (|<v_lapack, v_scalapack>| = 1 to 1e-10; random matrices have
 * well separated singular values); also with the matrix on the last rank
 * and the others joining through psvd_serve().  Run under mpirun with 1..4
 * ranks. */
#include <cblas.h>
#include <complex.h>
#include <lapacke.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "eu.h"
#include "psvd.h"

static char err[EU_ERRLEN];

static void random_matrix(kz_cplx *a, int m, int n, unsigned long seed)
{
	unsigned long x = seed;
	for (size_t k = 0; k < (size_t)m * n; k++) {
		x = x * 6364136223846793005UL + 1442695040888963407UL;
		double re = (double)(x >> 11) / 9007199254740992.0;
		x = x * 6364136223846793005UL + 1442695040888963407UL;
		double im = (double)(x >> 11) / 9007199254740992.0;
		a[k] = (re - 0.5) + I * (im - 0.5);
	}
}

/* root: the rank holding the matrix; with serve, the others join through
 * psvd_serve() and root ends the series after this one matrix. */
static void one_shape_at(psvd_t *p, int rank, int root, int serve, int m,
			 int n)
{
	int k = m < n ? m : n;
	kz_cplx *a = NULL, *b = NULL, *v1 = NULL, *v2 = NULL;
	double *s1 = NULL, *s2 = NULL, *sup = NULL;
	if (rank == root) {
		a = malloc((size_t)m * n * sizeof *a);
		b = kz_blas_alloc((size_t)m * n * sizeof *b); /* zgesvd */
		v1 = kz_blas_alloc((size_t)k * n * sizeof *v1);
		v2 = malloc((size_t)k * n * sizeof *v2);
		s1 = malloc((size_t)k * sizeof *s1);
		s2 = malloc((size_t)k * sizeof *s2);
		sup = malloc((size_t)k * sizeof *sup);
		random_matrix(a, m, n, 1000u * m + n);
		memcpy(b, a, (size_t)m * n * sizeof *a);
		CHECK(LAPACKE_zgesvd(LAPACK_COL_MAJOR, 'N', 'S', m, n, b, m, s1,
				     NULL, 1, v1, k, sup) == 0,
		      "zgesvd %dx%d", m, n);
	}
	int rc;
	if (serve && rank != root) {
		rc = psvd_serve(p, root, err);
	} else {
		rc = psvd_svd_at(p, root, m, n, a, m, s2, v2, k, err);
		if (serve)
			psvd_end(p);
	}
	CHECK(rc == 0, "psvd %dx%d on rank %d: %s", m, n, rank, err);
	if (rank == root && rc == 0) {
		double ds = 0, dv = 0;
		for (int i = 0; i < k; i++) {
			ds = fmax(ds, fabs(s1[i] - s2[i]) / s1[0]);
			kz_cplx d = 0;
			for (int c = 0; c < n; c++)
				d += conj(v1[i + (size_t)k * c]) *
				     v2[i + (size_t)k * c];
			dv = fmax(dv, fabs(cabs(d) - 1));
		}
		CHECK(ds <= 1e-12, "%dx%d: singular values differ by %.2e", m,
		      n, ds);
		CHECK(dv <= 1e-10, "%dx%d: singular vectors differ by %.2e", m,
		      n, dv);
		printf("%dx%d: singular values %.1e, vectors %.1e\n", m, n, ds,
		       dv);
	}
	free(a), free(b), free(v1), free(v2), free(s1), free(s2), free(sup);
}

static void one_shape(psvd_t *p, int rank, int m, int n)
{
	one_shape_at(p, rank, 0, 0, m, n);
}

int main(int argc, char **argv)
{
	int provided, rank, size;
	MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	openblas_set_num_threads(1);
	psvd_t *p = NULL;
	int nb = argc > 1 ? atoi(argv[1]) : 8;
	int rc = psvd_create(&p, MPI_COMM_WORLD, nb, err);
	CHECK(rc == 0, "psvd_create: %s", err);
	if (!rc) {
		int pr, pc;
		psvd_grid(p, &pr, &pc);
		CHECK(pr * pc == size && pr <= pc, "grid %dx%d for %d ranks",
		      pr, pc, size);
		one_shape(p, rank, 40, 40);
		one_shape(p, rank, 37, 53);
		one_shape(p, rank, 70, 25);
		one_shape(p, rank, 128, 96);
		/* held by the last rank, the others serving */
		one_shape_at(p, rank, size - 1, 1, 45, 33);
		/* an empty matrix is refused on every rank */
		CHECK(psvd_svd(p, 0, 5, NULL, 1, NULL, NULL, 1, err) != 0,
		      "empty matrix accepted on rank %d", rank);
		psvd_destroy(&p);
	}
	char name[64];
	snprintf(name, sizeof name, "test_psvd rank %d of %d", rank, size);
	rc = check_done(name);
	int any = 0;
	MPI_Allreduce(&rc, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	MPI_Finalize();
	return any;
}
