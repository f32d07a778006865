/* qrdec: the QR-based truncated decomposition of qrdec.h.
 *
 * Why the subspace is taken on the right and Psi Q_B is formed: the kernels
 * keep B tensors right-orthonormal without inverting Schmidt values
 * (B_left = Phi V, Hastings, J. Math. Phys. 50, 095207 (2009)), which is
 * exact only if Psi V = U S for the V kept.  Building the core from Psi Q_B
 * makes that identity hold for the QR scheme too, at the price of one more
 * product and QR than the scheme of Unfried, Hauschild and Pollmann (Phys.
 * Rev. B 107, 155133 (2023), Sec. III), which orthonormalises Psi Y0^dag and
 * takes the core from Q_A^dag Psi.  Orthonormalising Psi Y0^dag before the
 * second product (instead of forming Psi^dag Psi Y0^dag) keeps directions
 * with singular values down to ~eps * ||Psi|| instead of sqrt(eps) ||Psi||.
 *
 * Flop count (complex: 8 per multiply-add; Golub & Van Loan, 4th ed.,
 * Sec. 5.2 and 8.6): zgemm 8 m n k; zgeqrf and zungqr of m x k, each
 * 4 (2 m k^2 - 2/3 k^3); the k x k SVD as its bidiagonalisation,
 * 4 (4 k^3 - 4/3 k^3), plus zunmbr's 4 (2 k^3) (the real bidiagonal SVD not
 * counted, as in tebd.c). */
#include "qrdec.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct qrd_ws_s {
	kz_cplx *qa, *z, *p, *r, *u, *wt, *tau, *work;
	size_t qa_cap, z_cap, p_cap, r_cap, u_cap, wt_cap, tau_cap, work_cap;
	double *rn, *rwork;
	size_t rn_cap, rwork_cap;
	int *iwork;
	size_t iwork_cap;
	struct rowv {
		double v;
		int i;
	} *rows;
	size_t rows_cap;
};

int qrd_ws_create(qrd_ws_t **w)
{
	*w = calloc(1, sizeof **w);
	return *w ? KZ_OK : KZ_ENOMEM;
}

void qrd_ws_destroy(qrd_ws_t **pw)
{
	if (!pw || !*pw)
		return;
	qrd_ws_t *w = *pw;
	free(w->qa), free(w->z), free(w->p), free(w->r), free(w->u);
	free(w->wt), free(w->tau), free(w->work), free(w->rn);
	free(w->rwork), free(w->iwork), free(w->rows);
	free(w);
	*pw = NULL;
}

int qrd_dim(int m, int n, int k0, int kext)
{
	int mn = m < n ? m : n, k = k0 + kext;
	if (k < 1)
		k = 1;
	return k < mn ? k : mn;
}

#define RES(buf, cap, n)                                                    \
	do {                                                                \
		if (kz_reserve((void **)&(buf), &(cap), (n), sizeof *(buf))) \
			return kz_err(err, KZ_ENOMEM, "qrdec: out of memory"); \
	} while (0)

/* Larger residual first; ties by the smaller row index (determinism). */
static int cmp_rowv(const void *x, const void *y)
{
	const struct rowv *a = x, *b = y;
	if (a->v != b->v)
		return a->v < b->v ? 1 : -1;
	return a->i - b->i;
}

static void scale_rows(kz_cplx *x, int m, int k, int ld, const double *d)
{
	if (!d)
		return;
	for (int c = 0; c < k; c++)
		for (int r = 0; r < m; r++)
			x[r + (size_t)ld * c] *= d[r];
}

/* QR of the m x k matrix x in place; with form, x becomes Q.  lwork from
 * the shape only (block size <= 64). */
static int qr(qrd_ws_t *w, int m, int k, kz_cplx *x, int form, char *err)
{
	size_t lwork = 64 * (size_t)k + 64;
	RES(w->work, w->work_cap, lwork);
	RES(w->tau, w->tau_cap, (size_t)k);
	int info = LAPACKE_zgeqrf_work(LAPACK_COL_MAJOR, m, k, x, m, w->tau,
				       w->work, (int)lwork);
	if (!info && form)
		info = LAPACKE_zungqr_work(LAPACK_COL_MAJOR, m, k, k, x, m,
					   w->tau, w->work, (int)lwork);
	if (info)
		return kz_err(err, KZ_ELAPACK, "qrdec: QR of %d x %d failed "
			      "(info %d)", m, k, info);
	return KZ_OK;
}

/* Q_A = orth(Psi Y0^dag | unit vectors of the rows with the largest weight
 * outside span(Y0)) into w->qa (m x k); *tot = ||Psi||_F^2. */
static int start_basis(qrd_ws_t *w, const qrd_in_t *in, int k, int k0,
		       double *tot, char *err)
{
	int m = in->m, n = in->n;
	const kz_cplx one = 1, zero = 0;
	RES(w->qa, w->qa_cap, (size_t)m * k);
	RES(w->rn, w->rn_cap, (size_t)m);
	RES(w->rows, w->rows_cap, (size_t)m);
	double t = 0;
	for (int r = 0; r < m; r++)
		w->rn[r] = 0;
	for (int c = 0; c < n; c++)
		for (int r = 0; r < m; r++) {
			kz_cplx v = in->a[r + (size_t)in->lda * c];
			w->rn[r] += creal(v) * creal(v) + cimag(v) * cimag(v);
		}
	for (int r = 0; r < m; r++) {
		if (in->d)
			w->rn[r] *= in->d[r] * in->d[r];
		t += w->rn[r];
	}
	*tot = t;
	if (k0) {
		cblas_zgemm(CblasColMajor, CblasNoTrans, CblasConjTrans, m, k0,
			    n, &one, in->a, in->lda, in->y0, in->ldy0, &zero,
			    w->qa, m);
		scale_rows(w->qa, m, k0, m, in->d);
	}
	for (int r = 0; r < m; r++) {
		double v = w->rn[r];
		for (int c = 0; c < k0; c++) {
			kz_cplx y = w->qa[r + (size_t)m * c];
			v -= creal(y) * creal(y) + cimag(y) * cimag(y);
		}
		w->rows[r].v = v;
		w->rows[r].i = r;
	}
	if (k > k0) {
		qsort(w->rows, (size_t)m, sizeof *w->rows, cmp_rowv);
		memset(w->qa + (size_t)m * k0, 0,
		       (size_t)m * (k - k0) * sizeof(kz_cplx));
		for (int e = 0; e < k - k0; e++)
			w->qa[w->rows[e].i + (size_t)m * (k0 + e)] = 1;
	}
	return qr(w, m, k, w->qa, 1, err);
}

/* SVD of the k x k core R (upper triangle of x, leading dimension m): s and
 * W^dag into w->wt.  Only S and W are needed, so instead of zgesvd/zgesdd
 * (which form U, or rotate complex vectors): Householder bidiagonalisation
 * R = Q B P^dag (zgebrd), the real SVD B = U_B S V_B^T with V_B^T alone by
 * QR iteration (dbdsqr) up to CORE_BDSQR_MAX, by divide and conquer
 * (dbdsdc, which forms U_B too) above, and W^dag = V_B^T P^dag (zunmbr). */
#define CORE_BDSQR_MAX 32

static int core_svd(qrd_ws_t *w, int m, int k, const kz_cplx *x, double *s,
		    char *err)
{
	size_t kk = (size_t)k * k, lwork = 64 * 2 * (size_t)k + 64;
	RES(w->r, w->r_cap, kk);
	RES(w->u, w->u_cap, 2 * (size_t)k);  /* tauq, taup */
	RES(w->wt, w->wt_cap, kk);
	RES(w->work, w->work_cap, lwork);
	RES(w->rwork, w->rwork_cap, 2 * kk + 3 * kk + 5 * (size_t)k + 64);
	RES(w->iwork, w->iwork_cap, 8 * (size_t)k);
	for (int c = 0; c < k; c++)
		for (int r = 0; r < k; r++)
			w->r[r + (size_t)k * c] =
				r <= c ? x[r + (size_t)m * c] : 0;
	double *e = w->rwork, *vb = e + k, *ub = vb + kk, *bw = ub + kk;
	kz_cplx *tauq = w->u, *taup = w->u + k;
	int info = LAPACKE_zgebrd_work(LAPACK_COL_MAJOR, k, k, w->r, k, s, e,
				       tauq, taup, w->work, (int)lwork);
	if (!info && k <= CORE_BDSQR_MAX) {
		memset(vb, 0, kk * sizeof *vb);
		for (size_t a = 0; a < (size_t)k; a++)
			vb[a * (k + 1)] = 1;
		info = LAPACKE_dbdsqr_work(LAPACK_COL_MAJOR, 'U', k, k, 0, 0, s,
					   e, vb, k, NULL, 1, NULL, 1, bw);
	} else if (!info) {
		info = LAPACKE_dbdsdc_work(LAPACK_COL_MAJOR, 'U', 'I', k, s, e,
					   ub, k, vb, k, NULL, NULL, bw,
					   w->iwork);
	}
	if (!info) {
		for (size_t a = 0; a < kk; a++)
			w->wt[a] = vb[a];
		info = LAPACKE_zunmbr_work(LAPACK_COL_MAJOR, 'P', 'R', 'C', k,
					   k, k, w->r, k, taup, w->wt, k,
					   w->work, (int)lwork);
	}
	if (info)
		return kz_err(err, KZ_ELAPACK,
			      "qrdec: SVD of the %d x %d core failed (info %d)",
			      k, k, info);
	return KZ_OK;
}

int qrd_decompose(qrd_ws_t *w, const qrd_in_t *in, qrd_out_t *out, char *err)
{
	if (!w || !in || !out || !in->a || !out->s || !out->vt)
		return kz_err(err, KZ_EINVAL, "qrdec: NULL argument");
	int m = in->m, n = in->n;
	if (m < 1 || n < 1 || in->lda < m || in->k0 < 0 || in->kext < 0 ||
	    (in->k0 > 0 && (!in->y0 || in->ldy0 < in->k0)))
		return kz_err(err, KZ_EINVAL,
			      "qrdec: bad shape m=%d n=%d lda=%d k0=%d ldy0=%d "
			      "kext=%d",
			      m, n, in->lda, in->k0, in->ldy0, in->kext);
	int k = qrd_dim(m, n, in->k0, in->kext);
	int k0 = in->k0 < k ? in->k0 : k;
	if (out->ldvt < k || (out->lf && out->ldlf < m))
		return kz_err(err, KZ_EINVAL, "qrdec: output too small");
	const kz_cplx one = 1, zero = 0;
	double tot = 0, M = m, N = n, K = k;
	int rc = start_basis(w, in, k, k0, &tot, err);
	if (rc)
		return rc;
	/* Q_B = orth(A^dag D Q_A) */
	RES(w->z, w->z_cap, (size_t)n * k);
	scale_rows(w->qa, m, k, m, in->d);
	cblas_zgemm(CblasColMajor, CblasConjTrans, CblasNoTrans, n, k, m, &one,
		    in->a, in->lda, w->qa, m, &zero, w->z, n);
	if ((rc = qr(w, n, k, w->z, 1, err)))
		return rc;
	/* P = A Q_B, and Psi Q_B = D P = Q_X R into w->qa */
	RES(w->p, w->p_cap, (size_t)m * k);
	cblas_zgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, k, n, &one,
		    in->a, in->lda, w->z, n, &zero, w->p, m);
	memcpy(w->qa, w->p, (size_t)m * k * sizeof(kz_cplx));
	scale_rows(w->qa, m, k, m, in->d);
	if ((rc = qr(w, m, k, w->qa, 0, err)) ||
	    (rc = core_svd(w, m, k, w->qa, out->s, err)))
		return rc;
	/* V^dag = W^dag Q_B^dag, A V = P W */
	cblas_zgemm(CblasColMajor, CblasNoTrans, CblasConjTrans, k, n, k, &one,
		    w->wt, k, w->z, n, &zero, out->vt, out->ldvt);
	if (out->lf)
		cblas_zgemm(CblasColMajor, CblasNoTrans, CblasConjTrans, m, k,
			    k, &one, w->p, m, w->wt, k, &zero, out->lf,
			    out->ldlf);
	double kept = 0;
	for (int a = 0; a < k; a++)
		kept += out->s[a] * out->s[a];
	out->k = k;
	out->rest = tot - kept > 0 ? tot - kept : 0;
	double qrf = 4 * (2 * M * K * K - 2.0 / 3 * K * K * K);
	double qrn = 4 * (2 * N * K * K - 2.0 / 3 * K * K * K);
	out->flops = 8 * M * N * (k0 + 2 * K) + 8 * K * K * N +
		     (out->lf ? 8 * M * K * K : 0) + 3 * qrf + 2 * qrn +
		     4 * (4 - 4.0 / 3) * K * K * K + 8 * K * K * K;
	return KZ_OK;
}
