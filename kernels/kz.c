/* kz: shared helpers for the kernel library (errors, buffers, clock). */
#include "kz.h"

#include <lapacke.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

int kz_err(char *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, KZ_ERRLEN, fmt, ap);
		va_end(ap);
	}
	return code;
}

size_t kz_blas_pad(size_t bytes)
{
	return (4096 + bytes / 16 + 63) / 64 * 64; /* keeps what follows aligned */
}

void *kz_blas_alloc(size_t bytes)
{
	return malloc(bytes + kz_blas_pad(bytes));
}

int kz_zheev(char jobz, int n, kz_cplx *a, int lda, double *w)
{
	kz_cplx q;
	size_t nr = n > 1 ? 3 * (size_t)n - 2 : 1;
	double *rw = kz_blas_alloc(nr * sizeof *rw);
	if (!rw)
		return KZ_ENOMEM;
	int info = LAPACKE_zheev_work(LAPACK_COL_MAJOR, jobz, 'U', n, a, lda,
				      w, &q, -1, rw);
	size_t lw = (size_t)creal(q);
	kz_cplx *wk = info ? NULL : kz_blas_alloc((lw ? lw : 1) * sizeof *wk);
	if (!info && !wk)
		info = KZ_ENOMEM;
	if (!info)
		info = LAPACKE_zheev_work(LAPACK_COL_MAJOR, jobz, 'U', n, a,
					  lda, w, wk, (int)lw, rw);
	free(wk);
	free(rw);
	return info;
}

int kz_reserve(void **buf, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap && *buf)
		return KZ_OK;
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap += ncap / 2 + 16;
	void *p = realloc(*buf, ncap * size + kz_blas_pad(ncap * size));
	if (!p)
		return KZ_ENOMEM;
	*buf = p;
	*cap = ncap;
	return KZ_OK;
}

double kz_wtime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int kz_max_threads(void)
{
#ifdef _OPENMP
	return omp_get_max_threads();
#else
	return 1;
#endif
}
