/* kz: the few things every kernel module shares -- the complex type, status
 * codes and the caller-owned error message.  Every public kernel function
 * returns an int status (KZ_OK or a negative KZ_E*) and, on error, writes a
 * one-line message into `err` (a buffer of KZ_ERRLEN chars, may be NULL). */
#ifndef KZ_H
#define KZ_H

#include <complex.h>
#include <stddef.h>

typedef double complex kz_cplx;

#define KZ_ERRLEN 512

enum {
	KZ_OK = 0,
	KZ_EINVAL = -1,  /* bad argument from the caller */
	KZ_ENOMEM = -2,  /* allocation failed */
	KZ_ELAPACK = -3, /* a LAPACK routine reported failure */
	KZ_ENUM = -4,    /* numerical breakdown: NaN, norm loss, no convergence */
	/* Not an error: a run stopped early because its caller asked it to
	 * (a stop hook, e.g. tebd_set_hook); the state is consistent and the
	 * function says how far it got. */
	KZ_STOPPED = 1,
};

/* Write a printf-style message into err (if not NULL) and return code. */
int kz_err(char *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Slack kept after every buffer that LAPACK or BLAS may read.  OpenBLAS
 * 0.3.21 (Debian 12) reads past the end of its matrix argument with its
 * Haswell and SkylakeX kernels: zgebrd (through zlabrd's zgemv, so zgesdd
 * and zgesvd too) by up to about 16 min(m, n) bytes, zungbr (zgesvd's
 * V^dag) and zheev on some shapes (OpenBLAS issue #5000; measured by
 * tests/kernels/test_blas_pad.c, which puts each matrix this far before a
 * page that cannot be read).  The values
 * are never used, but a matrix that ends next to an unmapped page (glibc
 * serves large blocks by mmap) makes the read a segfault.  Room for
 * 4096 + bytes/16: at least one column of any matrix of `bytes`. */
size_t kz_blas_pad(size_t bytes);

/* malloc(bytes) plus kz_blas_pad(bytes) of slack: for a matrix handed to
 * LAPACK.  Free with free(). */
void *kz_blas_alloc(size_t bytes);

/* LAPACK's zheev (jobz 'N': eigenvalues only, 'V': and eigenvectors into
 * a) on the upper triangle of the n x n Hermitian matrix a, eigenvalues
 * ascending into w, with kz_blas_alloc() workspaces: OpenBLAS 0.3.21's
 * zhetrd reads past the end of zheev's work array from n = 33 on
 * (test_blas_pad), and LAPACKE_zheev allocates it without slack.  Returns
 * LAPACK's info, or KZ_ENOMEM. */
int kz_zheev(char jobz, int n, kz_cplx *a, int lda, double *w);

/* malloc/realloc that grow a buffer to at least `need` elements of `size`
 * bytes, geometrically, so that repeated calls at saturation allocate
 * nothing, each with kz_blas_pad() bytes of slack after its capacity (the
 * kernels hand these buffers to LAPACK).  Returns 0 or KZ_ENOMEM (the old
 * buffer is kept on failure). */
int kz_reserve(void **buf, size_t *cap, size_t need, size_t size);

/* kz_reserve of at least max(n, 1) elements of a typed buffer, inside a
 * function that returns a kernel status: on failure "<who>: out of memory"
 * goes to errbuf and the function returns KZ_ENOMEM. */
#define KZ_RESERVE(buf, cap, n, errbuf, who)                                \
	do {                                                                \
		size_t kz_n_ = (n);                                         \
		if (kz_reserve((void **)&(buf), &(cap), kz_n_ ? kz_n_ : 1,  \
			       sizeof *(buf)))                              \
			return kz_err((errbuf), KZ_ENOMEM,                  \
				      "%s: out of memory", (who));          \
	} while (0)

/* Monotonic wall clock in seconds. */
double kz_wtime(void);

/* Threads: the kernel's own OpenMP threads over gates.  BLAS is always called
 * single-threaded from inside those regions (see tebd.c). */
int kz_max_threads(void);

#endif
