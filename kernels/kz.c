/* kz: shared helpers for the kernel library (errors, buffers, clock). */
#include "kz.h"

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
