/* The slack kz_blas_pad() leaves after a matrix is enough for every LAPACK
 * routine kapitza calls, on every OpenBLAS kernel set this CPU can run.
 *
 * OpenBLAS 0.3.21 reads past the end of a matrix with its Haswell and
 * SkylakeX kernels (zgebrd inside zgesdd/zgesvd, dsyev; see kz.h), and
 * zheev past the end of its work array (kz_zheev gives it slack).  Each
 * case here puts an m x n matrix so that it ends exactly `pad` bytes before
 * a page that cannot be read, runs the routine in a child process and
 * checks that the child was not killed.  The kernel set is chosen when the
 * library loads, so the test re-executes itself once per set with
 * OPENBLAS_CORETYPE.  Output matrices (U, V^dag) are placed so too.  It asserts that no case fails with the kz_blas_pad()
 * slack, and prints (without asserting: a fixed OpenBLAS is welcome) how
 * many cases fail with none. */
#include "check.h"
#include "kz.h"

#include <complex.h>
#include <lapacke.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

enum { ZGEBRD, ZGESDD_N, ZGESDD_S, ZGESVD, DGESDD, DSYEV, ZHEEV, ZGEQRF, DGESV, NOPS };
static const char *op_name[NOPS] = {"zgebrd", "zgesdd_N", "zgesdd_S", "zgesvd",
				    "dgesdd", "dsyev", "zheev", "zgeqrf", "dgesv"};
static const int sizes[] = {1, 7, 16, 33, 64, 100, 128, 200, 256, 300};
#define NS ((int)(sizeof sizes / sizeof *sizes))

static int is_real(int op) { return op == DGESDD || op == DSYEV || op == DGESV; }
static int is_square(int op) { return op == DSYEV || op == ZHEEV || op == DGESV; }

/* `bytes` of memory that end `pad` bytes before a page that cannot be read
 * (the whole pad when with_pad, none otherwise); NULL on failure. */
static void *guarded(size_t bytes, int with_pad)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t pad = with_pad ? kz_blas_pad(bytes) : 0;
	size_t tot = (bytes + pad + pg - 1) / pg * pg + pg;
	char *base = mmap(NULL, tot, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED || mprotect(base + tot - pg, pg, PROT_NONE))
		return NULL;
	return base + tot - pg - pad - bytes;
}

/* The routine on an m x n matrix, every matrix argument (input or output:
 * zungbr inside zgesvd reads past V^dag too) placed by guarded(); runs in
 * the child, returns LAPACK's info. */
static int run_case(int op, int m, int n, int with_pad)
{
	size_t el = is_real(op) ? sizeof(double) : sizeof(kz_cplx);
	size_t bytes = (size_t)m * n * el;
	int k = m < n ? m : n;
	char *a = guarded(bytes, with_pad);
	/* outputs: U (m x k) and V^dag (k x n) */
	char *u = guarded((size_t)m * k * el, with_pad);
	char *vt = guarded((size_t)k * n * el, with_pad);
	double *d = malloc(8 * (size_t)(m + n) * sizeof *d);
	kz_cplx *w = malloc(4 * (size_t)(m + n) * sizeof *w);
	lapack_int *ipiv = malloc((size_t)(m + 1) * sizeof *ipiv);
	if (!a || !u || !vt || !d || !w || !ipiv)
		return -1000;
	double *x = (double *)a;
	unsigned s = 12345u;
	for (size_t i = 0; i < bytes / sizeof(double); i++) {
		s = s * 1103515245u + 12345u;
		x[i] = (double)(s >> 8) / 16777216.0 - 0.5;
	}
	if (is_square(op)) /* symmetric or Hermitian: mirror the upper part */
		for (int j = 0; j < n; j++)
			for (int i = j; i < n; i++) {
				if (el == sizeof(double))
					x[i + (size_t)n * j] = x[j + (size_t)n * i];
				else
					((kz_cplx *)a)[i + (size_t)n * j] =
						conj(((kz_cplx *)a)[j + (size_t)n * i]);
			}
	kz_cplx *z = (kz_cplx *)a, *zu = (kz_cplx *)u, *zv = (kz_cplx *)vt;
	int info = -999;
	switch (op) {
	case ZGEBRD:
		info = LAPACKE_zgebrd(LAPACK_COL_MAJOR, m, n, z, m, d, d + k, w,
				      w + k);
		break;
	case ZGESDD_N:
		info = LAPACKE_zgesdd(LAPACK_COL_MAJOR, 'N', m, n, z, m, d, NULL, 1,
				      NULL, 1);
		break;
	case ZGESDD_S:
		info = LAPACKE_zgesdd(LAPACK_COL_MAJOR, 'S', m, n, z, m, d, zu, m,
				      zv, k);
		break;
	case ZGESVD:
		info = LAPACKE_zgesvd(LAPACK_COL_MAJOR, 'N', 'S', m, n, z, m, d, NULL,
				      1, zv, k, d + k);
		if (!info)
			info = LAPACKE_zgesvd(LAPACK_COL_MAJOR, 'S', 'S', m, n, z, m, d,
					      zu, m, zv, k, d + k);
		break;
	case DGESDD:
		info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'S', m, n, x, m, d,
				      (double *)u, m, (double *)vt, k);
		break;
	case DSYEV:
		info = LAPACKE_dsyev(LAPACK_COL_MAJOR, 'V', 'U', n, x, n, d);
		break;
	case ZHEEV: { /* its work array too: zhetrd reads past its end */
		kz_cplx q;
		info = LAPACKE_zheev_work(LAPACK_COL_MAJOR, 'N', 'U', n, z, n, d,
					  &q, -1, d + n);
		size_t lw = (size_t)creal(q);
		kz_cplx *wk = guarded(lw * sizeof *wk, with_pad);
		if (!info)
			info = wk ? LAPACKE_zheev_work(LAPACK_COL_MAJOR, 'N', 'U',
						       n, z, n, d, wk, (int)lw,
						       d + n)
				  : -1;
		break;
	}
	case ZGEQRF:
		info = LAPACKE_zgeqrf(LAPACK_COL_MAJOR, m, n, z, m, w);
		if (!info && m >= n)
			info = LAPACKE_zungqr(LAPACK_COL_MAJOR, m, n, n, z, m, w);
		break;
	case DGESV:
		for (int i = 0; i < n; i++)
			x[i + (size_t)n * i] += n; /* nonsingular */
		for (int i = 0; i < n; i++)
			d[i] = 1;
		info = LAPACKE_dgesv(LAPACK_COL_MAJOR, n, 1, x, n, ipiv, d, n);
		break;
	}
	return info;
}

/* Every case under one kernel set (this process's); returns the number of
 * children killed by a signal. */
static int run_all(int with_pad)
{
	int killed = 0, cases = 0;
	for (int op = 0; op < NOPS; op++) {
		int op_killed = 0;
		for (int a = 0; a < NS; a++)
			for (int b = 0; b < NS; b++) {
				int m = sizes[a], n = sizes[b];
				if (is_square(op) && m != n)
					continue;
				if (is_square(op) && a != b)
					continue;
				pid_t p = fork();
				if (p == 0) {
					int info = run_case(op, m, n, with_pad);
					_exit(info == 0 ? 0 : 2);
				}
				int st = 0;
				waitpid(p, &st, 0);
				cases++;
				if (WIFSIGNALED(st)) {
					op_killed++;
					if (with_pad)
						printf("  %s %d x %d: killed by signal %d\n",
						       op_name[op], m, n, WTERMSIG(st));
				} else if (WEXITSTATUS(st)) {
					printf("  %s %d x %d: LAPACK failed\n",
					       op_name[op], m, n);
					killed++;
				}
			}
		if (op_killed)
			printf("  %s: %d shapes read past a matrix or workspace"
			       "%s\n", op_name[op], op_killed,
			       with_pad ? " AND past the slack" : "");
		killed += op_killed;
	}
	printf("  %d cases\n", cases);
	return killed;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--child")) {
		int with_pad = atoi(argv[2]);
		return run_all(with_pad) ? 1 : 0;
	}
	/* The kernel sets this CPU can execute (OpenBLAS's names). */
	const char *sets[3] = {"Prescott", NULL, NULL};
	int nsets = 1;
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		sets[nsets++] = "Haswell";
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
		sets[nsets++] = "SkylakeX";
	for (int i = 0; i < nsets; i++)
		for (int with_pad = 0; with_pad <= 1; with_pad++) {
			printf("OPENBLAS_CORETYPE=%s, %s:\n", sets[i],
			       with_pad ? "with kz_blas_pad() slack" : "no slack");
			fflush(stdout);
			pid_t p = fork();
			if (p == 0) {
				setenv("OPENBLAS_CORETYPE", sets[i], 1);
				setenv("OPENBLAS_NUM_THREADS", "1", 1);
				char arg[2] = {(char)('0' + with_pad), 0};
				execl("/proc/self/exe", argv[0], "--child", arg, (char *)NULL);
				_exit(127);
			}
			int st = 0;
			waitpid(p, &st, 0);
			int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
			if (with_pad)
				CHECK(ok, "%s: every routine stays inside its matrix and "
					  "the kz_blas_pad() slack", sets[i]);
			else
				printf("  (informational: %s)\n",
				       ok ? "none read past" : "reads past the end seen");
		}
	return check_done("blas_pad");
}
