/* tebd: time-evolving block decimation on the U(1) MPS of mps_impl.h.
 *
 * One two-site update on bond i (sites i, i+1; MPS bonds i, i+1, i+2):
 *   Phi_c = G (B_i B_{i+1})     grouped by the new middle charge c,
 *   Lambda_i Phi_c = U S V^dag  one SVD per charge sector,
 *   B_{i+1} <- V^dag,  B_i <- Phi V / |S_kept|,  Lambda_{i+1} <- S / |S_kept|
 * which keeps every B right-orthonormal without dividing by Schmidt values
 * (Hastings, J. Math. Phys. 50, 095207 (2009), Eq. 12ff).  Phi's sector c
 * has rows (s1, q_l = c - s1) and columns (s2, q_r = c + s2); its (s1, s2)
 * block is B_i^{s1}[c - s1] B_{i+1}^{s2}[c - s1 + s1], so the products are
 * written straight into place and the gate, which only mixes |01> and |10>,
 * is applied elementwise afterwards.
 *
 * The layers come from trotter.h, the truncation rule from trunc.h.  With
 * TEBD_DECOMP_QR a sector may instead be decomposed by tebd_qr.h (qrdec.h,
 * Unfried, Hauschild, Pollmann, PRB 107, 155133 (2023)): its discarded
 * weight outside the trial space (rest) enters the truncation, and it gives
 * Phi V directly.
 *
 * The file is longer than the usual 900 lines: one gate's pipeline (layout,
 * products, decomposition, truncation, write-back) and the layers that
 * schedule it share the private per-thread workspace, which a split would
 * have to expose to another file.
 */
#include "tebd.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "mps_impl.h"
#include "tebd_qr.h"
#include "trunc.h"

/* ---- parameters -------------------------------------------------------- */

void tebd_params_default(tebd_params_t *p)
{
	p->scheme = TEBD_FOREST_RUTH4;
	p->dt = 0.02;
	p->chi_max = 64;
	p->cutoff = 1e-10;
	p->threads = 1;
	p->decomp = TEBD_DECOMP_SVD;
}

int tebd_scheme_for_order(int order, tebd_scheme_t *s, char *err)
{
	return trotter_scheme_for_order(order, TROTTER_REAL, s, "tebd", err);
}

const char *tebd_scheme_name(tebd_scheme_t s) { return trotter_name(s); }

int tebd_scheme_layers(tebd_scheme_t s) { return trotter_layers(s); }

/* ---- workspace --------------------------------------------------------- */

/* One thread's buffers; they only grow. */
typedef struct {
	kz_cplx *phi, *a, *u, *vt, *work, *taup;
	size_t phi_cap, a_cap, u_cap, vt_cap, work_cap, taup_cap;
	double *s, *rwork, *vb, kept_norm;
	size_t s_cap, rwork_cap, vb_cap;
	int *iwork;
	size_t iwork_cap;
	trunc_ws_t tr;
	/* per middle-charge sector bookkeeping, [L+1] each */
	int *r0, *rows, *c0, *cols, *kfull, *keep, *vtdone;
	size_t *phioff, *vtoff, *soff, *vboff;
	double t_svd, t_gemm, t_other, f_gemm, f_svd;
	/* QR-based sectors (tebd_qr.h): trial dimension kt (0 = SVD sector),
	 * weight outside the trial space, left factors Phi V at lfoff */
	tebd_qr_t qr;
	int *kt;
	double *rest;
	size_t *lfoff, lf_cap;
	kz_cplx *lf;
	long n_qr, n_redone;
	long gates;
	double t_brd, t_bd, t_back; /* the SVD path's part of t_svd */
	double size_s[TEBD_SIZE_BINS]; /* t_svd by sector size */
	long size_n[TEBD_SIZE_BINS];
	int rc;
	char err[KZ_ERRLEN];
} ws_t;

struct tebd_s {
	const chain_t *chain;
	tebd_params_t p;
	int L, nth;
	ws_t *ws;
	double *disc_bond;
	double disc_total, disc_max, wall;
	trotter_seq_t seq; /* merged layer sequence */
	tebd_svd_fn svd_fn; /* outside decomposition of large sectors */
	void *svd_ctx;
	int svd_min;
	int *gorder;       /* gates of a layer, most expensive first */
	double *gcost, *gdisc; /* per gate of a layer: cost, discard */
	tebd_hook_fn hook; /* asked between layers whether to stop */
	void *hook_arg;
};

static void ws_free(ws_t *w)
{
	free(w->phi), free(w->a), free(w->u), free(w->vt), free(w->work);
	free(w->s), free(w->rwork), free(w->iwork);
	trunc_ws_free(&w->tr);
	free(w->vb), free(w->taup);
	free(w->r0), free(w->rows), free(w->c0), free(w->cols);
	free(w->kfull), free(w->keep), free(w->vtdone);
	free(w->phioff), free(w->vtoff), free(w->soff), free(w->vboff);
	tebd_qr_free(&w->qr);
	free(w->kt), free(w->rest), free(w->lfoff), free(w->lf);
}

static int ws_init(ws_t *w, int L)
{
	size_t n = (size_t)L + 2;
	memset(w, 0, sizeof *w);
	w->r0 = calloc(n, sizeof(int));
	w->rows = calloc(n, sizeof(int));
	w->c0 = calloc(n, sizeof(int));
	w->cols = calloc(n, sizeof(int));
	w->kfull = calloc(n, sizeof(int));
	w->keep = calloc(n, sizeof(int));
	w->vtdone = calloc(n, sizeof(int));
	w->phioff = calloc(n, sizeof(size_t));
	w->vtoff = calloc(n, sizeof(size_t));
	w->soff = calloc(n, sizeof(size_t));
	w->vboff = calloc(n, sizeof(size_t));
	w->kt = calloc(n, sizeof(int));
	w->rest = calloc(n, sizeof(double));
	w->lfoff = calloc(n, sizeof(size_t));
	if (tebd_qr_init(&w->qr) || !w->kt || !w->rest || !w->lfoff)
		return KZ_ENOMEM;
	if (!w->r0 || !w->rows || !w->c0 || !w->cols || !w->kfull ||
	    !w->keep || !w->vtdone || !w->phioff || !w->vtoff || !w->soff ||
	    !w->vboff)
		return KZ_ENOMEM;
	return KZ_OK;
}

int tebd_create(tebd_t **out, const chain_t *c, const tebd_params_t *p,
		char *err)
{
	*out = NULL;
	if (!c || !p)
		return kz_err(err, KZ_EINVAL, "tebd: NULL chain or parameters");
	if (!(p->dt > 0) || !isfinite(p->dt))
		return kz_err(err, KZ_EINVAL,
			      "tebd: time step dt=%g: expected a finite "
			      "number > 0",
			      p->dt);
	if (p->chi_max < 1)
		return kz_err(err, KZ_EINVAL,
			      "tebd: chi_max=%d: expected >= 1", p->chi_max);
	if (!(p->cutoff >= 0) || !(p->cutoff < 1))
		return kz_err(err, KZ_EINVAL,
			      "tebd: cutoff=%g: expected 0 <= cutoff < 1",
			      p->cutoff);
	if (p->threads < 1 || p->threads > 1024)
		return kz_err(err, KZ_EINVAL,
			      "tebd: threads=%d: expected 1..1024", p->threads);
	if (p->decomp != TEBD_DECOMP_SVD && p->decomp != TEBD_DECOMP_QR)
		return kz_err(err, KZ_EINVAL, "tebd: unknown decomposition %d",
			      (int)p->decomp);
	if ((int)p->scheme < 0 || p->scheme > TEBD_LAST)
		return kz_err(err, KZ_EINVAL, "tebd: unknown scheme %d",
			      (int)p->scheme);
	int rc = KZ_OK;
	tebd_t *t = calloc(1, sizeof *t);
	if (!t)
		return kz_err(err, KZ_ENOMEM, "tebd: out of memory");
	t->chain = c;
	t->p = *p;
	t->L = c->L;
	t->nth = p->threads;
	t->ws = calloc((size_t)t->nth, sizeof(ws_t));
	t->disc_bond = calloc((size_t)t->L, sizeof(double));
	t->gorder = calloc((size_t)t->L, sizeof(int));
	t->gcost = calloc((size_t)t->L, sizeof(double));
	t->gdisc = calloc((size_t)t->L, sizeof(double));
	if (!t->ws || !t->disc_bond || !t->gorder || !t->gcost || !t->gdisc) {
		rc = kz_err(err, KZ_ENOMEM, "tebd: out of memory");
		goto out;
	}
	for (int k = 0; k < t->nth; k++)
		if (ws_init(&t->ws[k], t->L)) {
			rc = kz_err(err, KZ_ENOMEM, "tebd: out of memory");
			goto out;
		}
out:
	if (rc)
		tebd_destroy(&t);
	*out = t;
	return rc;
}

void tebd_destroy(tebd_t **pt)
{
	if (!pt || !*pt)
		return;
	tebd_t *t = *pt;
	if (t->ws)
		for (int k = 0; k < t->nth; k++)
			ws_free(&t->ws[k]);
	free(t->ws);
	free(t->disc_bond);
	trotter_seq_free(&t->seq);
	free(t->gorder);
	free(t->gcost);
	free(t->gdisc);
	free(t);
	*pt = NULL;
}

double tebd_discarded_total(const tebd_t *t) { return t->disc_total; }
const double *tebd_discarded_bond(const tebd_t *t) { return t->disc_bond; }
double tebd_discarded_max(const tebd_t *t) { return t->disc_max; }

void tebd_reset_discarded(tebd_t *t)
{
	memset(t->disc_bond, 0, (size_t)t->L * sizeof(double));
	t->disc_total = 0;
	t->disc_max = 0;
}

void tebd_restore_discarded(tebd_t *t, double total, double max)
{
	tebd_reset_discarded(t);
	t->disc_total = total;
	t->disc_max = max;
}

void tebd_set_hook(tebd_t *t, tebd_hook_fn hook, void *arg)
{
	t->hook = hook;
	t->hook_arg = arg;
}

long tebd_layers(const tebd_t *t, int nsteps)
{
	return (long)tebd_scheme_layers(t->p.scheme) * nsteps + 1;
}

void tebd_stats(const tebd_t *t, tebd_stats_t *s)
{
	memset(s, 0, sizeof *s);
	for (int k = 0; k < t->nth; k++) {
		s->svd_s += t->ws[k].t_svd;
		s->gemm_s += t->ws[k].t_gemm;
		s->other_s += t->ws[k].t_other;
		s->gemm_flops += t->ws[k].f_gemm;
		s->svd_flops += t->ws[k].f_svd;
		s->gates += t->ws[k].gates;
		s->qr_sectors += t->ws[k].n_qr;
		s->qr_redone += t->ws[k].n_redone;
		s->brd_s += t->ws[k].t_brd;
		s->bdsvd_s += t->ws[k].t_bd;
		s->back_s += t->ws[k].t_back;
		for (int b = 0; b < TEBD_SIZE_BINS; b++) {
			s->size_s[b] += t->ws[k].size_s[b];
			s->size_n[b] += t->ws[k].size_n[b];
		}
	}
	s->wall_s = t->wall;
}

/* ---- one gate ---------------------------------------------------------- */

#define RESERVE(buf, cap, n) KZ_RESERVE(buf, cap, n, w->err, "tebd")

/* Lambda_i Phi_c of sector k (middle charge c) into its place in w->a
 * (laid out like w->phi): the rows of s1 = 0 (left charge c) and s1 = 1
 * (left charge c-1) scaled by their Schmidt values. */
static void build_psi(ws_t *w, const mps_bond_t *bl, int k, int c)
{
	int mr = w->rows[k], nc = w->cols[k];
	const double *l0 = w->r0[k] ? mps_qlam(bl, c) : NULL;
	const double *l1 = mr > w->r0[k] ? mps_qlam(bl, c - 1) : NULL;
	const kz_cplx *P = w->phi + w->phioff[k];
	for (int col = 0; col < nc; col++) {
		kz_cplx *dst = w->a + w->phioff[k] + (size_t)mr * col;
		const kz_cplx *src = P + (size_t)mr * col;
		int r = 0;
		for (; r < w->r0[k]; r++)
			dst[r] = l0[r] * src[r];
		for (; r < mr; r++)
			dst[r] = l1[r - w->r0[k]] * src[r];
	}
}

/* Bidiagonal problems up to this size go to QR iteration (dbdsqr), which
 * can rotate V^T alone; larger ones to divide and conquer (dbdsdc), which
 * always forms both U and V^T but wins from about 40 on (measured). */
#define BDSQR_MAX 32

/* LAPACK's blocked workspaces, block size <= 64.  Computed from the shape,
 * never from a buffer's capacity: LAPACK may choose its algorithm by lwork,
 * and results must not depend on which thread's history a gate lands on. */
#define LWORK(m, n) (64 * ((size_t)(m) + (size_t)(n)) + 64)

/* Singular values of sector k, and what its V^dag is made of.  Only S and
 * the kept rows of V^dag are needed (B_{i+1} = V^dag, B_i = Phi V), so
 * instead of zgesdd this runs its pieces without what it would waste time
 * on: the left back-transformation that builds U, the max-norm scaling pass
 * (zlange: a hypot per element, 8% of a run), which guards against an
 * overflow a normalised state cannot reach, and the right back-
 * transformation of rows that truncation then drops.  Here: Householder
 * bidiagonalisation Psi = Q B P^dag (zgebrd, in place in w->a) and the real
 * SVD B = U_B S V_B^T, whose V_B^T stays in w->vb until the truncation
 * has chosen the rows (vt_rows).  The singular values are bitwise those of
 * zgesdd's own path.  If the bidiagonal SVD fails to converge, zgesvd
 * finishes the sector and vtdone says so. */
static int sector_svd(ws_t *w, const mps_bond_t *bl, int k, int c, int bond)
{
	int mr = w->rows[k], nc = w->cols[k], mn = w->kfull[k];
	size_t n = (size_t)mn, lwork = LWORK(mr, nc);
	double ta = kz_wtime();
	build_psi(w, bl, k, c);
	RESERVE(w->work, w->work_cap, lwork + n);
	RESERVE(w->rwork, w->rwork_cap, n + n * n + 3 * n * n + 4 * n + 64);
	RESERVE(w->iwork, w->iwork_cap, 8 * n);
	kz_cplx *A = w->a + w->phioff[k], *tauq = w->work + lwork;
	double *d = w->s + w->soff[k], *e = w->rwork, *ub = e + n,
	       *bw = ub + n * n, *vb = w->vb + w->vboff[k];
	double tb = kz_wtime();
	w->t_other += tb - ta;
	w->vtdone[k] = 0;
	int info = LAPACKE_zgebrd_work(LAPACK_COL_MAJOR, mr, nc, A, mr, d, e,
				       tauq, w->taup + w->soff[k], w->work,
				       (int)lwork);
	double tc = kz_wtime();
	char uplo = mr >= nc ? 'U' : 'L';
	if (!info && mn <= BDSQR_MAX) {
		memset(vb, 0, n * n * sizeof *vb);
		for (size_t a = 0; a < n; a++)
			vb[a * (n + 1)] = 1;
		info = LAPACKE_dbdsqr_work(LAPACK_COL_MAJOR, uplo, mn, mn, 0, 0,
					   d, e, vb, mn, NULL, 1, NULL, 1, bw);
	} else if (!info) {
		info = LAPACKE_dbdsdc_work(LAPACK_COL_MAJOR, uplo, 'I', mn, d, e,
					   ub, mn, vb, mn, NULL, NULL, bw,
					   w->iwork);
	}
	if (info) {
		build_psi(w, bl, k, c);
		size_t lw = 2 * (n * n + 2 * n + (size_t)(mr > nc ? mr : nc));
		RESERVE(w->u, w->u_cap, (size_t)mr * n);
		RESERVE(w->work, w->work_cap, lw);
		RESERVE(w->rwork, w->rwork_cap, 5 * n);
		info = LAPACKE_zgesvd_work(LAPACK_COL_MAJOR, 'S', 'S', mr, nc, A,
					   mr, d, w->u, mr,
					   w->vt + w->vtoff[k], mn, w->work,
					   (int)lw, w->rwork);
		if (info)
			return kz_err(w->err, KZ_ELAPACK,
				      "tebd: SVD failed on bond %d (info %d)",
				      bond, info);
		w->vtdone[k] = 1;
	}
	double te = kz_wtime();
	w->t_brd += tc - tb;
	w->t_bd += te - tc;
	w->t_svd += te - tb;
	double M = mr > nc ? mr : nc, N = mn;
	/* bidiagonalisation 4 M N^2 - 4/3 N^3 (Golub & Van Loan), times 4
	 * for complex arithmetic; the real bidiagonal SVD not counted */
	w->f_svd += 4.0 * (4 * M * N * N - 4.0 / 3 * N * N * N);
	return KZ_OK;
}

/* Rows [0, kk) of sector k's V^dag = [V_B^T 0] P^dag (zunmbr applies the
 * reflectors of P kept in w->a). */
static int vt_rows(ws_t *w, int k, int kk)
{
	int mr = w->rows[k], nc = w->cols[k], mn = w->kfull[k];
	if (w->vtdone[k])
		return KZ_OK;
	size_t n = (size_t)mn, lwork = LWORK(kk, nc);
	RESERVE(w->work, w->work_cap, lwork);
	double tb = kz_wtime();
	const double *vb = w->vb + w->vboff[k];
	kz_cplx *VT = w->vt + w->vtoff[k];
	for (int col = 0; col < nc; col++)
		for (int a = 0; a < kk; a++)
			VT[a + n * col] = col < mn ? vb[a + n * col] : 0;
	int info = LAPACKE_zunmbr_work(
		LAPACK_COL_MAJOR, 'P', 'R', 'C', kk, nc, mr, w->a + w->phioff[k],
		mr, w->taup + w->soff[k], VT, mn, w->work, (int)lwork);
	if (info)
		return kz_err(w->err, KZ_ELAPACK,
			      "tebd: back-transformation failed (info %d)", info);
	double te = kz_wtime();
	w->t_back += te - tb;
	w->t_svd += te - tb;
	/* applying N reflectors to kk rows of length nc: 4 kk nc N, complex */
	w->f_svd += 4.0 * 4 * kk * nc * (double)mn;
	return KZ_OK;
}

/* A charge-conserving two-site gate: g00 on |00>, g33 on |11>, and the
 * 2x2 block [[g11, g12], [g21, g22]] on (|01>, |10>). */
typedef struct {
	kz_cplx g00, g11, g12, g21, g22, g33;
} gate_t;

/* exp(-i tau h_i): |00>,|11> get e^{-i tau J D/4}; on (|01>,|10>),
 * h = -J D/4 + (J/2) sigma_x, so exp = e^{i tau J D/4} (cos(tau J/2) -
 * i sin(tau J/2) sigma_x). */
static gate_t bond_gate(const chain_t *c, int i, double tau)
{
	double J = c->J[i], D = c->Delta[i];
	kz_cplx d = cexp(-I * tau * J * D / 4), e = cexp(I * tau * J * D / 4);
	gate_t g = {d, e * cos(tau * J / 2), -I * e * sin(tau * J / 2), 0, 0, d};
	g.g21 = g.g12;
	g.g22 = g.g11;
	return g;
}

/* Sector shapes of Phi by new middle charge c = qlo + k: rows (s1, q_l =
 * c - s1), columns (s2, q_r = c + s2).  Reserves Phi; *nphi = its size. */
static int phi_layout(ws_t *w, const mps_t *m, int i, size_t *nphi)
{
	const mps_bond_t *bl = &m->bond[i], *br = &m->bond[i + 2];
	const int nq = m->bond[i + 1].nq, qlo = m->bond[i + 1].qlo;
	size_t n = 0;
	for (int k = 0; k < nq; k++) {
		int c = qlo + k;
		w->r0[k] = mps_qdim(bl, c);
		w->rows[k] = w->r0[k] + mps_qdim(bl, c - 1);
		w->c0[k] = mps_qdim(br, c);
		w->cols[k] = w->c0[k] + mps_qdim(br, c + 1);
		w->phioff[k] = n;
		n += (size_t)w->rows[k] * (size_t)w->cols[k];
	}
	RESERVE(w->phi, w->phi_cap, n + 1);
	*nphi = n;
	return KZ_OK;
}

/* Phi blocks (s1, s2) = B_i^{s1}[q_l] B_{i+1}^{s2}[q_l + s1], written
 * straight into place (zero where the old middle sector is empty). */
static void phi_build(ws_t *w, const mps_t *m, int i)
{
	const mps_bond_t *bl = &m->bond[i], *br = &m->bond[i + 2];
	const mps_bond_t *bm = &m->bond[i + 1];
	const kz_cplx one = 1.0, zero = 0.0;
	for (int k = 0; k < bm->nq; k++) {
		int c = bm->qlo + k, ld = w->rows[k];
		if (!ld || !w->cols[k])
			continue;
		for (int s1 = 0; s1 < 2; s1++) {
			int ql = c - s1, dl = mps_qdim(bl, ql);
			int dm = mps_qdim(bm, c); /* old middle dims */
			if (!dl)
				continue;
			for (int s2 = 0; s2 < 2; s2++) {
				int dr = mps_qdim(br, c + s2);
				if (!dr)
					continue;
				kz_cplx *dst = w->phi + w->phioff[k] +
					       (s1 ? w->r0[k] : 0) +
					       (size_t)ld * (s2 ? w->c0[k] : 0);
				if (!dm) {
					for (int col = 0; col < dr; col++)
						memset(dst + (size_t)ld * col, 0,
						       (size_t)dl *
							       sizeof(kz_cplx));
					continue;
				}
				cblas_zgemm(CblasColMajor, CblasNoTrans,
					    CblasNoTrans, dl, dr, dm, &one,
					    mps_block(m, i, s1, ql), dl,
					    mps_block(m, i + 1, s2, c), dm,
					    &zero, dst, ld);
				w->f_gemm += 8.0 * dl * dr * dm;
			}
		}
	}
}

/* Apply the gate to Phi: (0,0) and (1,1) blocks scale, (0,1) of sector c
 * mixes with (1,0) of sector c+1. */
static void phi_gate(ws_t *w, int nq, const gate_t *G)
{
	for (int k = 0; k < nq; k++) {
		int ld = w->rows[k];
		kz_cplx *P = w->phi + w->phioff[k];
		/* (0,0): rows [0, r0), cols [0, c0); (1,1): rows [r0, rows),
		 * cols [c0, cols) */
		for (int col = 0; col < w->c0[k]; col++)
			for (int r = 0; r < w->r0[k]; r++)
				P[r + (size_t)ld * col] *= G->g00;
		for (int col = w->c0[k]; col < w->cols[k]; col++)
			for (int r = w->r0[k]; r < ld; r++)
				P[r + (size_t)ld * col] *= G->g33;
		/* mix x = Phi_c(0,1) with y = Phi_{c+1}(1,0): both are
		 * dl(c) x dr(c+1) */
		if (k + 1 >= nq)
			continue;
		int dl = w->r0[k], dr = w->cols[k] - w->c0[k];
		if (!dl || !dr)
			continue;
		int ld2 = w->rows[k + 1];
		kz_cplx *x = P + (size_t)ld * w->c0[k];
		kz_cplx *y = w->phi + w->phioff[k + 1] + w->r0[k + 1];
		for (int col = 0; col < dr; col++)
			for (int r = 0; r < dl; r++) {
				kz_cplx xv = x[r + (size_t)ld * col];
				kz_cplx yv = y[r + (size_t)ld2 * col];
				x[r + (size_t)ld * col] = G->g11 * xv + G->g12 * yv;
				y[r + (size_t)ld2 * col] = G->g21 * xv + G->g22 * yv;
			}
	}
}

/* Offsets of the per-sector SVD factors (and, with TEBD_DECOMP_QR, of the
 * QR sectors' Phi V), and room for them; every sector starts as an SVD
 * sector (kt = 0, rest = 0). */
static int svd_layout(ws_t *w, int nq, size_t nphi, int qr)
{
	size_t nvt = 0, ns = 0, nvb = 0, nlf = 0;
	for (int k = 0; k < nq; k++) {
		int mr = w->rows[k], nc = w->cols[k];
		w->kfull[k] = mr < nc ? mr : nc;
		w->vtoff[k] = nvt;
		w->soff[k] = ns;
		w->vboff[k] = nvb;
		nvt += (size_t)w->kfull[k] * nc;
		ns += (size_t)w->kfull[k];
		nvb += (size_t)w->kfull[k] * w->kfull[k];
		w->lfoff[k] = nlf;
		nlf += (size_t)w->rows[k] * w->kfull[k];
		w->kt[k] = 0;
		w->rest[k] = 0;
	}
	if (qr)
		RESERVE(w->lf, w->lf_cap, nlf + 1);
	RESERVE(w->a, w->a_cap, nphi + 1);
	RESERVE(w->vt, w->vt_cap, nvt + 1);
	RESERVE(w->vb, w->vb_cap, nvb + 1);
	RESERVE(w->s, w->s_cap, ns + 1);
	RESERVE(w->taup, w->taup_cap, ns + 1);
	return KZ_OK;
}

/* The truncation rule of trunc.h on all sectors' singular values (and the
 * QR sectors' weight outside their trial space; the SVD path passes none,
 * so its results are those of the rule alone): fills w->keep and
 * w->kept_norm, *disc = discarded weight. */
static int truncate_sectors(const tebd_t *t, ws_t *w, int nq, int bond,
			    double *disc)
{
	double kept = 0;
	const double *rest = t->p.decomp == TEBD_DECOMP_QR ? w->rest : NULL;
	int nkeep = trunc_select(&w->tr, w->s, w->soff, w->kfull, rest, nq,
				 t->p.chi_max, t->p.cutoff, w->keep, &kept,
				 disc);
	if (nkeep == KZ_ENOMEM)
		return kz_err(w->err, KZ_ENOMEM, "tebd: out of memory");
	if (nkeep < 0)
		return kz_err(w->err, KZ_ENUM,
			      "tebd: bond %d: two-site state has norm^2 %g",
			      bond, *disc);
	w->kept_norm = sqrt(kept);
	return KZ_OK;
}

/* ---- QR-based sector decomposition (tebd_qr.h) ------------------------ */

/* Sector k (middle charge c) of the update on bond i by QR (kt, rest, lf,
 * s, vt filled; vt complete, so vt_rows skips it). */
static int sector_qr(ws_t *w, const mps_t *m, int k, int c, int i)
{
	double tb = kz_wtime();
	qrd_out_t o = {.s = w->s + w->soff[k], .vt = w->vt + w->vtoff[k],
		       .ldvt = w->kfull[k], .lf = w->lf + w->lfoff[k],
		       .ldlf = w->rows[k]};
	int rc = tebd_qr_sector(&w->qr, m, i, c, w->phi + w->phioff[k],
				w->rows[k], w->r0[k], w->cols[k], w->c0[k], &o,
				w->err);
	if (rc)
		return rc;
	w->kt[k] = o.k;
	w->rest[k] = o.rest;
	w->vtdone[k] = 1;
	w->n_qr++;
	w->t_svd += kz_wtime() - tb;
	w->f_svd += o.flops;
	return KZ_OK;
}

/* Sector k (middle charge c) by the outside decomposition: S and the
 * whole V^dag at once (vt_rows skips it). */
static int sector_outside(const tebd_t *t, ws_t *w, const mps_bond_t *bl,
			  int k, int c, int bond)
{
	int mr = w->rows[k], nc = w->cols[k], mn = w->kfull[k];
	build_psi(w, bl, k, c);
	double tb = kz_wtime();
	int rc = t->svd_fn(t->svd_ctx, mr, nc, w->a + w->phioff[k], mr,
			   w->s + w->soff[k], w->vt + w->vtoff[k], mn, w->err);
	if (rc) {
		char why[KZ_ERRLEN];
		memcpy(why, w->err, sizeof why);
		why[KZ_ERRLEN - 1] = 0;
		return kz_err(w->err, KZ_ELAPACK, "tebd: bond %d: %s", bond,
			      why);
	}
	w->vtdone[k] = 1;
	w->t_svd += kz_wtime() - tb;
	double M = mr > nc ? mr : nc, N = mn;
	w->f_svd += 4.0 * (4 * M * N * N - 4.0 / 3 * N * N * N);
	return KZ_OK;
}

static int uses_outside(const tebd_t *t, int rows, int cols)
{
	return t->svd_fn && (rows < cols ? rows : cols) >= t->svd_min;
}

/* Adds the decomposition time of sector k since t_svd was `before` to
 * the bin of its size kfull = min(rows, cols) (tebd_stats_t.size_s);
 * counts the sector if `count`. */
static void size_bin(ws_t *w, int k, double before, int count)
{
	int b = 0;
	while (b < TEBD_SIZE_BINS - 1 && (1 << b) < w->kfull[k])
		b++;
	w->size_s[b] += w->t_svd - before;
	w->size_n[b] += count;
}

/* The one switch between the decompositions: sector k of the update on
 * bond i by the outside decomposition when it is set and the sector is
 * large enough; else by QR where it is chosen and pays, else by SVD. */
static int sector_decompose(const tebd_t *t, ws_t *w, const mps_t *m, int k,
			    int c, int i)
{
	if (uses_outside(t, w->rows[k], w->cols[k]))
		return sector_outside(t, w, &m->bond[i], k, c, i);
	if (t->p.decomp == TEBD_DECOMP_QR &&
	    tebd_qr_pays(w->rows[k], w->cols[k], mps_qdim(&m->bond[i + 1], c)))
		return sector_qr(w, m, k, c, i);
	return sector_svd(w, &m->bond[i], k, c, i);
}

/* QR sectors whose trial states were all kept may have needed more than
 * the trial space holds: redo them by SVD, then truncate again. */
static int redo_full_sectors(const tebd_t *t, ws_t *w, const mps_t *m, int i,
			     double *disc)
{
	const mps_bond_t *bm = &m->bond[i + 1];
	int redo = 0;
	for (int k = 0; k < bm->nq; k++)
		if (w->kt[k] && w->keep[k] >= w->kt[k] &&
		    w->kt[k] < w->kfull[k]) {
			w->kt[k] = 0;
			w->rest[k] = 0;
			w->n_redone++;
			double before = w->t_svd;
			int rc = sector_svd(w, &m->bond[i], k, bm->qlo + k, i);
			if (rc)
				return rc;
			size_bin(w, k, before, 0);
			redo = 1;
		}
	return redo ? truncate_sectors(t, w, bm->nq, i, disc) : KZ_OK;
}

/* B_i^{s1}[c - s1] = (Phi V)(rows of s1) / nk from a QR sector's factor. */
static void left_from_qr(const ws_t *w, mps_t *m, int i, int k, int c,
			 double nk)
{
	int kk = w->keep[k], ld = w->rows[k];
	for (int s1 = 0; s1 < 2; s1++) {
		int r0 = s1 ? w->r0[k] : 0, dl = s1 ? ld - w->r0[k] : w->r0[k];
		if (!dl)
			continue;
		kz_cplx *B = mps_block(m, i, s1, c - s1);
		const kz_cplx *F = w->lf + w->lfoff[k] + r0;
		for (int a = 0; a < kk; a++)
			for (int r = 0; r < dl; r++)
				B[r + (size_t)dl * a] = F[r + (size_t)ld * a] / nk;
	}
}

/* The new middle bond and sites from the kept sector factors:
 * Lambda_{i+1} = S / nk, B_{i+1} = V^dag, B_i = Phi V / nk. */
static void write_back(ws_t *w, mps_t *m, int i)
{
	mps_bond_t *bm = &m->bond[i + 1];
	const kz_cplx zero = 0.0;
	double nk = w->kept_norm;
	for (int k = 0; k < bm->nq; k++) {
		int c = bm->qlo + k, kk = w->keep[k], mn = w->kfull[k];
		if (!kk)
			continue;
		double *lam = mps_qlam(bm, c);
		for (int a = 0; a < kk; a++)
			lam[a] = w->s[w->soff[k] + a] / nk;
		const kz_cplx *VT = w->vt + w->vtoff[k];
		/* B_{i+1}^{s2}[c] = rows [0, kk) of V^dag, columns of s2 */
		for (int s2 = 0; s2 < 2; s2++) {
			int cb = s2 ? w->c0[k] : 0;
			int dr = s2 ? w->cols[k] - w->c0[k] : w->c0[k];
			kz_cplx *B = mps_block(m, i + 1, s2, c);
			for (int col = 0; col < dr; col++)
				memcpy(B + (size_t)kk * col,
				       VT + (size_t)mn * (cb + col),
				       (size_t)kk * sizeof(kz_cplx));
		}
		/* B_i^{s1}[c - s1] = Phi_c(rows of s1) V / nk */
		kz_cplx alpha = 1.0 / nk;
		if (w->kt[k]) {
			left_from_qr(w, m, i, k, c, nk);
			continue;
		}
		for (int s1 = 0; s1 < 2; s1++) {
			int dl = s1 ? w->rows[k] - w->r0[k] : w->r0[k];
			if (!dl)
				continue;
			cblas_zgemm(CblasColMajor, CblasNoTrans,
				    CblasConjTrans, dl, kk, w->cols[k], &alpha,
				    w->phi + w->phioff[k] + (s1 ? w->r0[k] : 0),
				    w->rows[k], VT, mn, &zero,
				    mps_block(m, i, s1, c - s1), dl);
			w->f_gemm += 8.0 * dl * kk * w->cols[k];
		}
	}
}

/* Applies the gate to bond i of m and truncates.  Touches only sites i,
 * i+1, MPS bond i+1 and w, so gates on disjoint bonds run concurrently. */
static int gate(tebd_t *t, ws_t *w, mps_t *m, int i, const gate_t *G,
		double *disc)
{
	double t0 = kz_wtime();
	const int nq = m->bond[i + 1].nq, qlo = m->bond[i + 1].qlo;
	size_t nphi = 0;
	int rc = phi_layout(w, m, i, &nphi);
	if (rc)
		return rc;
	double t1 = kz_wtime();
	w->t_other += t1 - t0;
	phi_build(w, m, i);
	double t2 = kz_wtime();
	w->t_gemm += t2 - t1;
	phi_gate(w, nq, G);
	if ((rc = svd_layout(w, nq, nphi, t->p.decomp == TEBD_DECOMP_QR)))
		return rc;
	w->t_other += kz_wtime() - t2;
	for (int k = 0; k < nq; k++) {
		if (!w->kfull[k])
			continue;
		double before = w->t_svd;
		if ((rc = sector_decompose(t, w, m, k, qlo + k, i)))
			return rc;
		size_bin(w, k, before, 1);
	}
	double t3 = kz_wtime();
	if ((rc = truncate_sectors(t, w, nq, i, disc)))
		return rc;
	if (t->p.decomp == TEBD_DECOMP_QR &&
	    (rc = redo_full_sectors(t, w, m, i, disc)))
		return rc;
	w->t_other += kz_wtime() - t3;
	for (int k = 0; k < nq; k++) {
		double before = w->t_svd;
		if (w->keep[k] && (rc = vt_rows(w, k, w->keep[k])))
			return rc;
		size_bin(w, k, before, 0);
	}
	double t4 = kz_wtime();
	if (mps_bond_resize(m, i + 1, w->keep) || mps_site_layout(m, i) ||
	    mps_site_layout(m, i + 1))
		return kz_err(w->err, KZ_ENOMEM, "tebd: out of memory");
	double t5 = kz_wtime();
	w->t_other += t5 - t4;
	write_back(w, m, i);
	w->t_gemm += kz_wtime() - t5;
	w->gates++;
	return KZ_OK;
}

/* ---- layers and steps -------------------------------------------------- */

static int cmp_cost_desc(const void *x, const void *y, void *ctx)
{
	const double *c = ctx;
	int a = *(const int *)x, b = *(const int *)y;
	if (c[a] != c[b])
		return c[a] < c[b] ? 1 : -1;
	return a - b;
}

/* qsort_r is a GNU extension; a tiny insertion sort on <= L/2 gates will
 * do and keeps us in C11. */
static void sort_gates(int *g, int n, const double *cost)
{
	for (int a = 1; a < n; a++) {
		int x = g[a], b = a - 1;
		while (b >= 0 && cmp_cost_desc(&g[b], &x, (void *)cost) > 0) {
			g[b + 1] = g[b];
			b--;
		}
		g[b + 1] = x;
	}
}

/* The gates of parity par whose two sites lie in [lo, hi), of time
 * coef * dt, over t's threads (most expensive first when there are
 * several); cost[i] = the product of the gate's three bond dimensions
 * before it, disc[i] = its discarded weight.  Touches no accumulator. */
static int layer(tebd_t *t, mps_t *m, int par, double coef, int lo, int hi,
		 double *disc, double *cost, double *secs, char *err)
{
	int ng = 0, rc = KZ_OK;
	double tau = coef * t->p.dt;
	for (int k = 0; k < t->nth; k++)
		t->ws[k].rc = KZ_OK;
	int i0 = lo + ((lo & 1) != (par & 1));
	for (int i = i0; i + 1 < hi && i < t->L - 1; i += 2) {
		t->gorder[ng++] = i;
		cost[i] = (double)mps_bond_dim(m, i) * mps_bond_dim(m, i + 1) *
			  mps_bond_dim(m, i + 2);
	}
	if (t->nth > 1)
		sort_gates(t->gorder, ng, cost);
	/* one gate runs on the calling thread (an outside decomposition may
	 * need to be called from it) */
#pragma omp parallel for schedule(dynamic, 1) num_threads(t->nth) if (ng > 1)
	for (int g = 0; g < ng; g++) {
#ifdef _OPENMP
		ws_t *w = &t->ws[omp_get_thread_num()];
#else
		ws_t *w = &t->ws[0];
#endif
		if (w->rc)
			continue;
		int i = t->gorder[g];
		double d = 0, g0 = secs ? kz_wtime() : 0;
		gate_t G = bond_gate(t->chain, i, tau);
		w->rc = gate(t, w, m, i, &G, &d);
		disc[i] = d;
		if (secs)
			secs[i] += kz_wtime() - g0;
	}
	for (int k = 0; k < t->nth && !rc; k++)
		if (t->ws[k].rc)
			rc = kz_err(err, t->ws[k].rc, "%s", t->ws[k].err);
	return rc;
}

/* The gates of a layer of parity par in the order their discards are
 * summed: by bond, or most expensive first with several threads. */
static int layer_order(const tebd_t *t, int par, const double *cost, int *order)
{
	int ng = 0;
	for (int i = par & 1; i < t->L - 1; i += 2)
		order[ng++] = i;
	if (t->nth > 1)
		sort_gates(order, ng, cost);
	return ng;
}

/* The accumulators after one layer of parity par, in the order tebd_run()
 * always used (layer_order). */
static void accumulate(tebd_t *t, int par, const double *disc,
		       const double *cost)
{
	int ng = layer_order(t, par, cost, t->gorder);
	for (int g = 0; g < ng; g++) {
		int i = t->gorder[g];
		double d = disc[i];
		t->disc_bond[i] += d;
		t->disc_total += d;
		if (d > t->disc_max)
			t->disc_max = d;
	}
}

void tebd_accumulate(tebd_t *t, int par, const double *disc,
		     const double *cost)
{
	accumulate(t, par, disc, cost);
}

int tebd_layer(tebd_t *t, mps_t *m, int par, double coef, int lo, int hi,
	       double *disc, double *cost, double *secs, char *err)
{
	if (!t || !m || !disc || !cost)
		return kz_err(err, KZ_EINVAL, "tebd_layer: NULL argument");
	if (lo < 0 || hi > t->L || lo > hi)
		return kz_err(err, KZ_EINVAL,
			      "tebd_layer: sites [%d, %d) outside [0, %d)", lo,
			      hi, t->L);
	int prev_blas = openblas_get_num_threads();
	openblas_set_num_threads(1);
	double w0 = kz_wtime();
	int rc = layer(t, m, par, coef, lo, hi, disc, cost, secs, err);
	t->wall += kz_wtime() - w0;
	openblas_set_num_threads(prev_blas);
	return rc;
}

int tebd_run(tebd_t *t, mps_t *m, int nsteps, char *err)
{
	return tebd_run_from(t, m, nsteps, 0, NULL, err);
}

int tebd_run_from(tebd_t *t, mps_t *m, int nsteps, long first, long *done,
		  char *err)
{
	if (done)
		*done = first;
	if (!t || !m)
		return kz_err(err, KZ_EINVAL, "tebd_run: NULL argument");
	if (mps_length(m) != t->L)
		return kz_err(err, KZ_EINVAL,
			      "tebd_run: state has L=%d, chain has L=%d",
			      mps_length(m), t->L);
	if (nsteps < 0)
		return kz_err(err, KZ_EINVAL,
			      "tebd_run: nsteps=%d: expected >= 0", nsteps);
	if (nsteps == 0 && first == 0)
		return KZ_OK;
	if (first < 0 || first >= tebd_layers(t, nsteps))
		return kz_err(err, KZ_EINVAL,
			      "tebd_run: first layer %ld outside the %ld "
			      "layers of %d steps",
			      first, tebd_layers(t, nsteps), nsteps);
	double w0 = kz_wtime();
	if (trotter_seq_build(&t->seq, t->p.scheme, nsteps))
		return kz_err(err, KZ_ENOMEM, "tebd: out of memory");
	const size_t nl = t->seq.n;

	int rc = KZ_OK, prev_blas = openblas_get_num_threads();
	/* kernel threads over gates; BLAS stays single-threaded inside */
	openblas_set_num_threads(1);
	size_t l = (size_t)first;
	for (; l < nl; l++) {
		if (l > (size_t)first && t->hook &&
		    t->hook(t->hook_arg, (long)l)) {
			rc = KZ_STOPPED;
			break;
		}
		int par = t->seq.par[l];
		rc = layer(t, m, par, t->seq.coef[l], 0, t->L, t->gdisc,
			   t->gcost, NULL, err);
		if (rc)
			break;
		accumulate(t, par, t->gdisc, t->gcost);
	}
	if (done && rc != KZ_OK && rc != KZ_STOPPED)
		*done = -1; /* a layer failed half-way: no position */
	else if (done)
		*done = (long)l;
	openblas_set_num_threads(prev_blas);
	t->wall += kz_wtime() - w0;
	return rc;
}

int tebd_apply(tebd_t *t, mps_t *m, int i, const kz_cplx g[16],
	       double *discarded, char *err)
{
	if (!t || !m || !g)
		return kz_err(err, KZ_EINVAL, "tebd_apply: NULL argument");
	if (mps_length(m) != t->L)
		return kz_err(err, KZ_EINVAL,
			      "tebd_apply: state has L=%d, tebd has L=%d",
			      mps_length(m), t->L);
	if (i < 0 || i > t->L - 2)
		return kz_err(err, KZ_EINVAL,
			      "tebd_apply: bond %d out of range [0, %d]", i,
			      t->L - 2);
	/* entries that change the charge must vanish */
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++) {
			int qr = (r >> 1) + (r & 1), qc = (c >> 1) + (c & 1);
			if (qr != qc && g[r + 4 * c] != 0)
				return kz_err(err, KZ_EINVAL,
					      "tebd_apply: gate element (%d,%d) "
					      "changes the charge",
					      r, c);
		}
	gate_t G = {g[0], g[1 + 4 * 1], g[1 + 4 * 2], g[2 + 4 * 1],
		    g[2 + 4 * 2], g[15]};
	int prev = openblas_get_num_threads();
	openblas_set_num_threads(1);
	ws_t *w = &t->ws[0];
	double d = 0;
	int rc = gate(t, w, m, i, &G, &d);
	openblas_set_num_threads(prev);
	if (rc)
		return kz_err(err, rc, "%s", w->err);
	t->disc_bond[i] += d;
	t->disc_total += d;
	if (d > t->disc_max)
		t->disc_max = d;
	if (discarded)
		*discarded = d;
	return KZ_OK;
}

void tebd_set_svd(tebd_t *t, tebd_svd_fn fn, void *ctx, int min_dim)
{
	t->svd_fn = fn;
	t->svd_ctx = ctx;
	t->svd_min = min_dim;
}

int tebd_gate_uses_svd(const tebd_t *t, const mps_t *m, int i)
{
	if (!t->svd_fn || i < 0 || i + 2 > m->L)
		return 0;
	const mps_bond_t *bl = &m->bond[i], *bm = &m->bond[i + 1],
			 *br = &m->bond[i + 2];
	for (int k = 0; k < bm->nq; k++) {
		int c = bm->qlo + k;
		int rows = mps_qdim(bl, c) + mps_qdim(bl, c - 1);
		int cols = mps_qdim(br, c) + mps_qdim(br, c + 1);
		if (uses_outside(t, rows, cols))
			return 1;
	}
	return 0;
}
