/* qrdec: truncated decomposition of one matrix by a QR-based subspace
 * iteration instead of its full SVD.
 *
 * Input: Psi = diag(d) A, an m x n column-major complex matrix (A; the row
 * weights d may be NULL for all ones), and a starting right subspace: k0
 * rows Y0 (k0 x n, e.g. the previous right Schmidt basis of the bond), plus
 * kext more directions chosen here (the unit vectors of the rows of Psi
 * with the largest weight outside that subspace, so the bond can grow).
 * With k = min(k0 + kext, m, n):
 *   Q_A = orth(Psi Y0^dag | e_J)    (QR, m x k)
 *   Q_B = orth(Psi^dag Q_A)         (QR, n x k)  one subspace-iteration step
 *   Psi Q_B = Q_X R,  R = U S W^dag (QR of m x k, SVD of the k x k core)
 * Returned: s (k values, descending), V^dag = W^dag Q_B^dag (k x n,
 * orthonormal rows) and the left factor A V = (A Q_B) W (m x k; the
 * UNweighted A, so a caller holding Psi = Lambda Phi gets Phi V without
 * dividing by Lambda).  The scheme is that of J. Unfried, J. Hauschild,
 * F. Pollmann, Phys. Rev. B 107, 155133 (2023), with the subspace taken on
 * the right and one more product (Psi Q_B) so that the result is exact for
 * what it keeps:
 *   Psi V_j = (Q_X U_j) S_j  for the first j columns V_j of V, exactly,
 * so truncating to j values gives the state Psi V_j V_j^dag, whose Schmidt
 * values are s_0..s_{j-1} and whose discarded weight
 *   ||Psi||_F^2 - ||Psi V_j||_F^2 = rest + sum_{a >= j} s_a^2,
 * rest = ||Psi||_F^2 - sum_{a < k} s_a^2 >= 0 (returned), with no
 * approximation beyond rounding (the s_a are lower bounds of Psi's own
 * singular values, by interlacing; how close they are depends on the start
 * subspace, and a caller that must not lose a value above its cutoff
 * redoes the SVD when all k values are kept).
 *
 * Cost with m ~ n: three products m n k (zgemm), three QRs of m x k and the
 * SVD of k x k, against the bidiagonalisation of m x n (largely BLAS-2) of
 * the SVD.  Deterministic: the same input gives bitwise the same output
 * (LAPACK workspaces depend on the shape only; ties broken by index); BLAS
 * must run single-threaded, as everywhere in the kernels. */
#ifndef QRDEC_H
#define QRDEC_H

#include "kz.h"

typedef struct qrd_ws_s qrd_ws_t;

/* One workspace per thread; its buffers only grow. */
int qrd_ws_create(qrd_ws_t **w);
void qrd_ws_destroy(qrd_ws_t **w);

typedef struct {
	int m, n;
	const kz_cplx *a;   /* A, m x n, leading dimension lda */
	int lda;
	const double *d;    /* row weights [m], or NULL */
	const kz_cplx *y0;  /* start rows, k0 x n, leading dimension ldy0 */
	int k0, ldy0;       /* k0 may be 0 (y0 unused) */
	int kext;           /* >= 0: directions added to the start subspace */
} qrd_in_t;

typedef struct {
	int k;              /* number of values and vectors returned */
	double *s;          /* [>= min(m, n)], caller's */
	kz_cplx *vt;        /* V^dag, k x n, leading dimension ldvt >= k */
	int ldvt;
	kz_cplx *lf;        /* A V, m x k, leading dimension ldlf >= m; or NULL */
	int ldlf;
	double rest;        /* ||Psi||_F^2 - sum s^2, clamped at 0 */
	double flops;       /* counted floating point operations (see qrdec.c) */
} qrd_out_t;

/* The trial dimension qrd_decompose will use. */
int qrd_dim(int m, int n, int k0, int kext);

/* Decompose in->(d, a) as described above into out (its s, vt, lf buffers
 * must hold min(m, n) values, k x n and m x k).  KZ_OK, KZ_EINVAL, KZ_ENOMEM
 * or KZ_ELAPACK (with a message in err). */
int qrd_decompose(qrd_ws_t *w, const qrd_in_t *in, qrd_out_t *out, char *err);

#endif
