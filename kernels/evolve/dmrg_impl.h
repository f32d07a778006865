/* dmrg_impl: the workspace of the DMRG kernel shared by its files --
 * dmrg.c (workspace, two-site updates, sweeps), dmrg_env.c (block
 * environments and the effective Hamiltonian) and dmrg_vidal.c (the result
 * in the Vidal form of mps.h).  Not part of the public API; the layout is
 * described at the top of dmrg.c. */
#ifndef DMRG_IMPL_H
#define DMRG_IMPL_H

#include <cblas.h>
#include <stdint.h>
#include <string.h>

#include "dmrg.h"
#include "trunc.h"

/* Real blocks addressed by offsets (a site's X^s[q], an environment's
 * H_s[q] and P[q]): the real-arithmetic twin of mps_blocks_t. */
typedef struct {
	double *data;
	size_t cap;
	size_t *off;
} blocks_t;

typedef struct {
	const chain_t *c;
	dmrg_params_t p;
	int L, nup, qmax;
	char *err;
	int *qlo, *nq; /* [L+1] */
	int *dim;      /* [(L+1) * qmax] */
	blocks_t *site, spare;   /* site off: [2 * qmax] */
	blocks_t *left, *right;  /* [L+1], off: [3 * qmax] */
	double **lam;  /* [L+1] Schmidt values, filled by dmrg_to_vidal() */
	size_t *lam_cap;
	uint64_t rng;
	/* two-site vector: block k = (bq, bs = 2 s1 + s2) at boff */
	int nblk;
	int *bq, *bs, *bidx; /* [4 * qmax] */
	size_t *boff;
	size_t n;
	double *kry, *gs;    /* Krylov basis [(m+1) n], ground vector [n] */
	size_t kry_cap, gs_cap;
	double *alpha, *beta, *tz, *twork; /* tridiagonal */
	/* environment scratch */
	double *t1, *t2;
	size_t t1_cap, t2_cap;
	/* SVD per sector */
	double *a, *acopy, *u, *s, *vt, *work;
	size_t a_cap, acopy_cap, u_cap, s_cap, vt_cap, work_cap;
	int *iwork;
	size_t iwork_cap;
	trunc_ws_t tr;
	size_t *uoff, *soff, *vtoff; /* [qmax] */
	long matvecs;
	double ltol; /* this sweep's Lanczos residual bound */
	double t_lanczos, t_split, t_env;
	int *mn, *keep, *olddim;     /* [qmax] */
	int *smr, *snc;              /* [qmax] SVD shapes (dmrg_svd_layout) */
} dmrg_t;

#define RESERVE(buf, cap, n) KZ_RESERVE(buf, cap, n, w->err, "dmrg")

static inline int bdim(const dmrg_t *w, int b, int q)
{
	int k = q - w->qlo[b];
	return (k < 0 || k >= w->nq[b]) ? 0 : w->dim[(size_t)b * w->qmax + k];
}

static inline int *bdims(dmrg_t *w, int b)
{
	return w->dim + (size_t)b * w->qmax;
}

/* Block X_i^s[q] of a site-like container laid out for site i (q must be in
 * bond i's range). */
static inline double *sblk(const dmrg_t *w, const blocks_t *st, int i, int s,
			   int q)
{
	return st->data + st->off[s * w->nq[i] + q - w->qlo[i]];
}

/* Environment block at bond b: kind 0, 1 = H_s, 2 = P (q in range). */
static inline double *eblk(const dmrg_t *w, const blocks_t *e, int b,
			   int kind, int q)
{
	return e->data + e->off[kind * w->nq[b] + q - w->qlo[b]];
}

/* C (m x n) = alpha op(A) op(B) + beta C for contiguous column-major blocks
 * (op(A) m x k, op(B) k x n); k = 0 gives beta C. */
static inline void mm(int ta, int tb, int m, int n, int k, double alpha,
	       const double *A, const double *B, double beta, double *C)
{
	if (m <= 0 || n <= 0)
		return;
	if (k <= 0) {
		if (beta == 0)
			memset(C, 0, (size_t)m * n * sizeof(double));
		else if (beta != 1)
			cblas_dscal(m * n, beta, C, 1);
		return;
	}
	cblas_dgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans,
		    tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, A,
		    ta ? k : m, B, tb ? n : k, beta, C, m);
}

/* Index of the two-site block (q, s1, s2), or -1. */
static inline int blk_of(const dmrg_t *w, int i, int q, int s1, int s2)
{
	int k = q - w->qlo[i];
	if (k < 0 || k >= w->nq[i])
		return -1;
	return w->bidx[4 * k + 2 * s1 + s2];
}

/* Offsets of site i's blocks in st (bond dims as they stand), and room. */
int dmrg_site_layout(dmrg_t *w, blocks_t *st, int i);
/* Offsets of the SVD factors of nq sector matrices, sector k of w->smr[k]
 * x w->snc[k] (w->mn, uoff, soff, vtoff), and room for them and for the
 * largest matrix in w->a. */
int dmrg_svd_layout(dmrg_t *w, int nq);
/* SVD of the column-major mr x nc matrix in w->a (destroyed) into u, s, vt
 * at the given offsets. */
int dmrg_svd(dmrg_t *w, int mr, int nc, size_t uo, size_t so, size_t vto);

/* dmrg_env.c */
int dmrg_env_boundary(dmrg_t *w, blocks_t *e, int b);
int dmrg_build_left(dmrg_t *w, int i);
int dmrg_build_right(dmrg_t *w, int i);
void dmrg_apply_h(const dmrg_t *w, int i, const double *x, double *y);

/* dmrg_vidal.c */
int dmrg_to_vidal(dmrg_t *w);
int dmrg_to_mps(dmrg_t *w, const int *up, mps_t **out);

#endif
