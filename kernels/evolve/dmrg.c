/* dmrg: two-site DMRG for the XXZ chains of chain.h in a fixed-nup sector,
 * with the result in the Vidal/Hastings form of mps.h (see dmrg.h for the
 * algorithm, its references and the stopping rule).
 *
 * Internal representation (real: H' is real symmetric).  Bond b = 0..L
 * carries the charges of mps_impl.h (q = ups left of the bond, range fixed by
 * L, b, nup) with dims dim[b][q]; site i holds blocks X_i^s[q], column-major
 * dim_i(q) x dim_{i+1}(q+s).  During a sweep the state is in mixed canonical
 * form: left-orthonormal A's left of the two-site centre, right-orthonormal
 * B's right of it.
 *
 * Environments.  The bond-dimension-5 MPO of sum_i J_i(S+S-/2 + S-S+/2 +
 * Delta_i Sz Sz) has, across a bond, the channels {identity, S+ open, S- open,
 * Sz open, complete}.  With orthonormal block bases the identity channel is
 * the unit matrix, so a left environment at bond b stores per charge q
 *   H_s[q] = H_left + J_{b-1} Delta_{b-1} (s - 1/2) Sz_{b-1}   (s = 0, 1:
 *            the spin of site b, so the Sz Sz coupling is already folded in)
 *   P[q]   = (J_{b-1}/2) <q+1| S+_{b-1} |q>  (S- open is P^T)
 * and a right environment at bond b the mirror images
 *   H_s[q] = H_right + J_{b-1} Delta_{b-1} (s - 1/2) Sz_b  (s: spin of b-1)
 *   P[q]   = (J_{b-1}/2) <q+1| S-_b |q>  (S- raises the charge of the bond).
 * The two-site effective Hamiltonian is assembled from these and h_i
 * [Schollwoeck, Ann. Phys. 326, 96 (2011), sec. 6, written out for this
 * MPO].
 *
 * Two-site state on sites i, i+1: blocks Theta[q, s1, s2] of dim_i(q) x
 * dim_{i+2}(q + s1 + s2), all of them (the middle bond's sectors are not
 * restricted, which is how the bond grows new charges). */
#include "dmrg_impl.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "contract.h"

/* Weight of the random admixture to the first sweep's Lanczos start. */
#define NOISE 1e-3

void dmrg_params_default(dmrg_params_t *p)
{
	p->chi_max = 64;
	p->chi_start = 16;
	p->cutoff = 1e-10;
	p->max_sweeps = 30;
	p->energy_tol = 1e-9;
	p->trunc_tol = 1e-6;
	p->lanczos_iter = 40;
	p->lanczos_tol = 1e-10;
	p->threads = 1;
	p->verbose = 0;
}

int dmrg_paper_chain(chain_t **c, int L, double J, double delta_left,
		     double delta_right, char *err)
{
	int rc = chain_create_junction(c, L, J, delta_left, delta_right, err);
	if (rc)
		return rc;
	/* lambda_n = -1 on the paper's bonds n <= 0 (kernel bonds i <=
	 * L/2 - 1): H' = sum_n lambda_n h_n is the chain with J -> lambda J */
	for (int i = 0; i < L - 1; i++)
		if (chain_site_n(L, i) <= 0)
			(*c)->J[i] = -(*c)->J[i];
	return KZ_OK;
}

/* ---- workspace ---------------------------------------------------------- */

int dmrg_site_layout(dmrg_t *w, blocks_t *st, int i)
{
	size_t tot = 0;
	for (int s = 0; s < 2; s++)
		for (int k = 0; k < w->nq[i]; k++) {
			int q = w->qlo[i] + k;
			st->off[s * w->nq[i] + k] = tot;
			tot += (size_t)bdim(w, i, q) * bdim(w, i + 1, q + s);
		}
	RESERVE(st->data, st->cap, tot);
	return KZ_OK;
}

/* xorshift64* [S. Vigna, ACM TOMS 42, 8 (2016)]: uniform in [-1, 1). */
static double rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	uint64_t r = *x * 0x2545F4914F6CDD1DULL;
	return (double)(r >> 11) * 0x1.0p-52 - 1.0;
}

static void ws_destroy(dmrg_t *w)
{
	if (w->site)
		for (int i = 0; i < w->L; i++) {
			free(w->site[i].data);
			free(w->site[i].off);
		}
	for (int b = 0; b <= w->L; b++) {
		if (w->left) {
			free(w->left[b].data);
			free(w->left[b].off);
		}
		if (w->right) {
			free(w->right[b].data);
			free(w->right[b].off);
		}
	}
	if (w->lam)
		for (int b = 0; b <= w->L; b++)
			free(w->lam[b]);
	free(w->spare.data);
	free(w->spare.off);
	free(w->site);
	free(w->left);
	free(w->right);
	free(w->lam);
	free(w->lam_cap);
	free(w->qlo);
	free(w->nq);
	free(w->dim);
	free(w->bq);
	free(w->bs);
	free(w->bidx);
	free(w->boff);
	free(w->kry);
	free(w->gs);
	free(w->alpha);
	free(w->t1);
	free(w->t2);
	free(w->a);
	free(w->acopy);
	free(w->u);
	free(w->s);
	free(w->vt);
	free(w->work);
	free(w->iwork);
	trunc_ws_free(&w->tr);
	free(w->uoff);
	free(w->mn);
}

/* Neel-like product state with nup ups spread evenly (for nup = L/2 the
 * pattern down, up, down, up, ...). */
static void spread_ups(int L, int nup, int *up)
{
	for (int i = 0; i < L; i++)
		up[i] = (int)(((long)(i + 1) * nup) / L -
			      ((long)i * nup) / L);
}

static int ws_create(dmrg_t *w, const chain_t *c, int nup,
		     const dmrg_params_t *p, char *err)
{
	memset(w, 0, sizeof *w);
	int L = c->L;
	w->c = c;
	w->p = *p;
	w->L = L;
	w->nup = nup;
	w->qmax = nup + 1;
	w->err = err;
	w->rng = 0x9E3779B97F4A7C15ULL; /* fixed seed: runs are reproducible */
	int qm = w->qmax, m = p->lanczos_iter;
	w->qlo = calloc((size_t)L + 1, sizeof(int));
	w->nq = calloc((size_t)L + 1, sizeof(int));
	w->dim = calloc((size_t)(L + 1) * qm, sizeof(int));
	w->site = calloc((size_t)L, sizeof *w->site);
	w->left = calloc((size_t)L + 1, sizeof *w->left);
	w->right = calloc((size_t)L + 1, sizeof *w->right);
	w->lam = calloc((size_t)L + 1, sizeof *w->lam);
	w->lam_cap = calloc((size_t)L + 1, sizeof *w->lam_cap);
	w->spare.off = calloc(2 * (size_t)qm, sizeof(size_t));
	w->bq = malloc(4 * (size_t)qm * sizeof(int));
	w->bs = malloc(4 * (size_t)qm * sizeof(int));
	w->bidx = malloc(4 * (size_t)qm * sizeof(int));
	w->boff = malloc(4 * (size_t)qm * sizeof(size_t));
	/* tridiagonal problem: alpha, beta, z [m]; work [9m]; h [m]; then
	 * 6m ints (iblock, isplit, iwork [3m], ifail) */
	w->alpha = malloc(13 * (size_t)m * sizeof(double) +
			  6 * (size_t)m * sizeof(int));
	w->uoff = malloc(3 * (size_t)qm * sizeof(size_t));
	w->mn = malloc(5 * (size_t)qm * sizeof(int));
	if (!w->qlo || !w->nq || !w->dim || !w->site || !w->left ||
	    !w->right || !w->lam || !w->lam_cap || !w->spare.off || !w->bq ||
	    !w->bs || !w->bidx || !w->boff || !w->alpha || !w->uoff || !w->mn)
		return kz_err(err, KZ_ENOMEM, "dmrg: out of memory");
	w->beta = w->alpha + m;
	w->tz = w->beta + m;
	w->twork = w->tz + m;
	w->soff = w->uoff + qm;
	w->vtoff = w->soff + qm;
	w->keep = w->mn + qm;
	w->olddim = w->keep + qm;
	w->smr = w->olddim + qm;
	w->snc = w->smr + qm;
	for (int b = 0; b <= L; b++) {
		int lo = nup - (L - b) > 0 ? nup - (L - b) : 0;
		int hi = b < nup ? b : nup;
		w->qlo[b] = lo;
		w->nq[b] = hi - lo + 1;
		w->left[b].off = calloc(3 * (size_t)qm, sizeof(size_t));
		w->right[b].off = calloc(3 * (size_t)qm, sizeof(size_t));
		if (!w->left[b].off || !w->right[b].off)
			return kz_err(err, KZ_ENOMEM, "dmrg: out of memory");
	}
	for (int i = 0; i < L; i++) {
		w->site[i].off = calloc(2 * (size_t)qm, sizeof(size_t));
		if (!w->site[i].off)
			return kz_err(err, KZ_ENOMEM, "dmrg: out of memory");
	}
	return KZ_OK;
}

/* The start: product state, one state per bond. */
static int init_product(dmrg_t *w, const int *up)
{
	int rc;
	for (int b = 0, q = 0; b <= w->L; b++) {
		bdims(w, b)[q - w->qlo[b]] = 1;
		if (b < w->L)
			q += up[b];
	}
	for (int i = 0, q = 0; i < w->L; i++) {
		if ((rc = dmrg_site_layout(w, &w->site[i], i)))
			return rc;
		*sblk(w, &w->site[i], i, up[i], q) = 1.0;
		q += up[i];
	}
	return KZ_OK;
}

/* ---- two-site problem --------------------------------------------------- */

static int theta_layout(dmrg_t *w, int i)
{
	w->nblk = 0;
	w->n = 0;
	for (int k = 0; k < w->nq[i]; k++) {
		int q = w->qlo[i] + k, dl = bdim(w, i, q);
		for (int s = 0; s < 4; s++) {
			int r = q + (s >> 1) + (s & 1), dr = bdim(w, i + 2, r);
			w->bidx[4 * k + s] = -1;
			if (!dl || !dr)
				continue;
			w->bidx[4 * k + s] = w->nblk;
			w->bq[w->nblk] = q;
			w->bs[w->nblk] = s;
			w->boff[w->nblk] = w->n;
			w->nblk++;
			w->n += (size_t)dl * dr;
		}
	}
	size_t m = (size_t)w->p.lanczos_iter;
	RESERVE(w->kry, w->kry_cap, (m + 1) * w->n);
	RESERVE(w->gs, w->gs_cap, w->n);
	return KZ_OK;
}

/* Theta = X_i X_{i+1} into the first Krylov slot. */
static void theta_build(dmrg_t *w, int i)
{
	for (int k = 0; k < w->nblk; k++) {
		int q = w->bq[k], s1 = w->bs[k] >> 1, s2 = w->bs[k] & 1;
		int dl = bdim(w, i, q), dm = bdim(w, i + 1, q + s1);
		int dr = bdim(w, i + 2, q + s1 + s2);
		mm(0, 0, dl, dr, dm, 1, sblk(w, &w->site[i], i, s1, q),
		   sblk(w, &w->site[i + 1], i + 1, s2, q + s1), 0,
		   w->kry + w->boff[k]);
	}
}

/* Lowest eigenpair of H_eff by Lanczos with full reorthogonalisation
 * (classical Gram-Schmidt applied twice, as matrix-vector products) from
 * the start vector in kry[0..n); the normalised Ritz vector goes to gs.
 * Stops at residual ||H x - theta x|| = beta_j |y_j| < w->ltol, at an
 * invariant subspace, or after lanczos_iter vectors [Golub & Van Loan,
 * Matrix Computations, 4th ed., secs. 10.1-10.3].  The lowest Ritz pair of
 * the tridiagonal matrix comes from bisection and inverse iteration
 * (dstebz + dstein, O(j) per step), not a full eigendecomposition. */
static int lanczos(dmrg_t *w, int i, double *energy)
{
	size_t n = w->n;
	int m = w->p.lanczos_iter;
	double *V = w->kry, *h = w->twork + 9 * (size_t)m;
	int *iw = (int *)(h + m); /* iblock, isplit, iwork, ifail */
	double nrm = cblas_dnrm2((int)n, V, 1);
	if (!(nrm > 0) || !isfinite(nrm))
		return kz_err(w->err, KZ_ENUM,
			      "dmrg: sites %d,%d: two-site state has norm %g", i,
			      i + 1, nrm);
	cblas_dscal((int)n, 1 / nrm, V, 1);
	int nk = 0;
	double theta = 0;
	for (int j = 0;; j++) {
		double *v = V + (size_t)j * n, *f = V + (size_t)(j + 1) * n;
		dmrg_apply_h(w, i, v, f);
		w->matvecs++;
		w->alpha[j] = cblas_ddot((int)n, v, 1, f, 1);
		for (int pass = 0; pass < 2; pass++) {
			/* h = V^T f, f -= V h over the j+1 basis vectors */
			cblas_dgemv(CblasColMajor, CblasTrans, (int)n, j + 1, 1,
				    V, (int)n, f, 1, 0, h, 1);
			cblas_dgemv(CblasColMajor, CblasNoTrans, (int)n, j + 1,
				    -1, V, (int)n, h, 1, 1, f, 1);
		}
		w->beta[j] = cblas_dnrm2((int)n, f, 1);
		int nf, nsplit, info;
		double vl = 0, vu = 0;
		info = LAPACKE_dstebz_work('I', 'B', j + 1, vl, vu, 1, 1, 0,
					   w->alpha, w->beta, &nf, &nsplit,
					   &theta, iw, iw + m, w->twork,
					   iw + 2 * m);
		if (!info && nf == 1)
			info = LAPACKE_dstein_work(LAPACK_COL_MAJOR, j + 1,
						   w->alpha, w->beta, 1, &theta,
						   iw, iw + m, w->tz, m,
						   w->twork, iw + 2 * m,
						   iw + 5 * m);
		if (info || nf != 1)
			return kz_err(w->err, KZ_ELAPACK,
				      "dmrg: tridiagonal eigenproblem failed "
				      "(info %d)", info);
		double res = w->beta[j] * fabs(w->tz[j]);
		if (!isfinite(theta) || !isfinite(res))
			return kz_err(w->err, KZ_ENUM,
				      "dmrg: sites %d,%d: Lanczos breakdown", i,
				      i + 1);
		if (res < w->ltol || j + 1 >= m || (size_t)j + 1 >= n ||
		    w->beta[j] <= 1e-13 * fmax(1.0, fabs(theta))) {
			nk = j + 1;
			break;
		}
		cblas_dscal((int)n, 1 / w->beta[j], f, 1);
	}
	cblas_dgemv(CblasColMajor, CblasNoTrans, (int)n, nk, 1, V, (int)n,
		    w->tz, 1, 0, w->gs, 1);
	nrm = cblas_dnrm2((int)n, w->gs, 1);
	cblas_dscal((int)n, 1 / nrm, w->gs, 1);
	*energy = theta;
	return KZ_OK;
}

/* dmrg_svd: divide and conquer, QR iteration as fallback. */
int dmrg_svd(dmrg_t *w, int mr, int nc, size_t uo, size_t so, size_t vto)
{
	int mn = mr < nc ? mr : nc;
	double q;
	int info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'S', mr, nc, w->a, mr,
				       w->s + so, w->u + uo, mr, w->vt + vto,
				       mn, &q, -1, w->iwork);
	size_t lw = (size_t)q + 1;
	size_t lw2 = 5 * (size_t)mn + (size_t)(mr > nc ? mr : nc) + 64;
	RESERVE(w->work, w->work_cap, lw > lw2 ? lw : lw2);
	RESERVE(w->iwork, w->iwork_cap, 8 * (size_t)mn);
	RESERVE(w->acopy, w->acopy_cap, (size_t)mr * nc);
	memcpy(w->acopy, w->a, (size_t)mr * nc * sizeof(double));
	info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'S', mr, nc, w->a, mr,
				   w->s + so, w->u + uo, mr, w->vt + vto, mn,
				   w->work, (int)w->work_cap, w->iwork);
	if (info) {
		info = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'S', 'S', mr, nc,
					   w->acopy, mr, w->s + so, w->u + uo,
					   mr, w->vt + vto, mn, w->work,
					   (int)w->work_cap);
		if (info)
			return kz_err(w->err, KZ_ELAPACK,
				      "dmrg: SVD failed (info %d)", info);
	}
	return KZ_OK;
}

int dmrg_svd_layout(dmrg_t *w, int nq)
{
	size_t nu = 0, ns = 0, nvt = 0, amax = 0;
	for (int k = 0; k < nq; k++) {
		int mr = w->smr[k], nc = w->snc[k];
		int mn = mr < nc ? mr : nc;
		w->mn[k] = mn;
		w->uoff[k] = nu;
		w->soff[k] = ns;
		w->vtoff[k] = nvt;
		nu += (size_t)mr * mn;
		ns += (size_t)mn;
		nvt += (size_t)mn * nc;
		if ((size_t)mr * nc > amax)
			amax = (size_t)mr * nc;
	}
	RESERVE(w->u, w->u_cap, nu);
	RESERVE(w->s, w->s_cap, ns);
	RESERVE(w->vt, w->vt_cap, nvt);
	RESERVE(w->a, w->a_cap, amax);
	return KZ_OK;
}

/* The SVD shapes of the middle bond of sites i, i+1 (charge c: rows (q = c
 * - s1, s1), columns (s2, r = c + s2)). */
static int split_layout(dmrg_t *w, int i)
{
	int nq = w->nq[i + 1], qlo = w->qlo[i + 1];
	for (int k = 0; k < nq; k++) {
		int c = qlo + k;
		w->smr[k] = bdim(w, i, c) + bdim(w, i, c - 1);
		w->snc[k] = bdim(w, i + 2, c) + bdim(w, i + 2, c + 1);
	}
	return dmrg_svd_layout(w, nq);
}

/* Sector k (middle charge c) of gs as a matrix in w->a, and its SVD. */
static int split_sector(dmrg_t *w, int i, int k)
{
	int c = w->qlo[i + 1] + k;
	int r0 = bdim(w, i, c), c0 = bdim(w, i + 2, c);
	int mr = r0 + bdim(w, i, c - 1);
	int nc = c0 + bdim(w, i + 2, c + 1);
	memset(w->a, 0, (size_t)mr * nc * sizeof(double));
	for (int s = 0; s < 4; s++) {
		int s1 = s >> 1, s2 = s & 1;
		int src = blk_of(w, i, c - s1, s1, s2);
		if (src < 0)
			continue;
		int dl = bdim(w, i, c - s1), dr = bdim(w, i + 2, c + s2);
		const double *X = w->gs + w->boff[src];
		double *dst = w->a + (s1 ? r0 : 0) + (size_t)mr * (s2 ? c0 : 0);
		for (int col = 0; col < dr; col++)
			memcpy(dst + (size_t)mr * col, X + (size_t)dl * col,
			       (size_t)dl * sizeof(double));
	}
	return dmrg_svd(w, mr, nc, w->uoff[k], w->soff[k], w->vtoff[k]);
}

/* Sites i, i+1 from the kept factors of sector k (kp values), nk = 1 /
 * |S_kept|: dir > 0 A_i = U, X_{i+1} = S V^T; dir < 0 X_i = U S,
 * B_{i+1} = V^T. */
static void split_write(dmrg_t *w, int i, int k, int kp, int dir, double nk)
{
	int c = w->qlo[i + 1] + k, mn = w->mn[k];
	int r0 = bdim(w, i, c), r1 = bdim(w, i, c - 1), mr = r0 + r1;
	int c0 = bdim(w, i + 2, c), c1 = bdim(w, i + 2, c + 1);
	const double *U = w->u + w->uoff[k], *S = w->s + w->soff[k];
	const double *VT = w->vt + w->vtoff[k];
	for (int s1 = 0; s1 < 2; s1++) {
		int dl = s1 ? r1 : r0;
		if (!dl)
			continue;
		double *dst = sblk(w, &w->site[i], i, s1, c - s1);
		for (int a = 0; a < kp; a++) {
			double f = dir > 0 ? 1 : S[a] * nk;
			const double *src = U + (size_t)mr * a + (s1 ? r0 : 0);
			for (int r = 0; r < dl; r++)
				dst[r + (size_t)dl * a] = f * src[r];
		}
	}
	for (int s2 = 0; s2 < 2; s2++) {
		int dr = s2 ? c1 : c0;
		if (!dr)
			continue;
		double *dst = sblk(w, &w->site[i + 1], i + 1, s2, c);
		for (int col = 0; col < dr; col++)
			for (int a = 0; a < kp; a++)
				dst[a + (size_t)kp * col] =
					(dir > 0 ? S[a] * nk : 1) *
					VT[a + (size_t)mn * (col + (s2 ? c0 : 0))];
	}
}

/* Split the ground vector gs of sites i, i+1 by one SVD per charge of the
 * middle bond, truncate by the rule of trunc.h to chi values, renormalise
 * (split_write says which side takes S). */
static int split(dmrg_t *w, int i, int dir, int chi, double *disc)
{
	int b = i + 1, nq = w->nq[b], rc;
	if ((rc = split_layout(w, i)))
		return rc;
	for (int k = 0; k < nq; k++)
		if (w->mn[k] && (rc = split_sector(w, i, k)))
			return rc;
	int *kk = bdims(w, b);
	double kept = 0;
	int nkeep = trunc_select(&w->tr, w->s, w->soff, w->mn, NULL, nq, chi,
				 w->p.cutoff, kk, &kept, disc);
	if (nkeep == KZ_ENOMEM)
		return kz_err(w->err, KZ_ENOMEM, "dmrg: out of memory");
	if (nkeep < 0)
		return kz_err(w->err, KZ_ENUM,
			      "dmrg: bond %d: two-site state has norm^2 %g", i,
			      *disc);
	double nk = 1 / sqrt(kept);
	/* new bond b; sites i and i+1 around it */
	if ((rc = dmrg_site_layout(w, &w->site[i], i)) ||
	    (rc = dmrg_site_layout(w, &w->site[i + 1], i + 1)))
		return rc;
	for (int k = 0; k < nq; k++)
		if (kk[k])
			split_write(w, i, k, kk[k], dir, nk);
	return KZ_OK;
}

/* One two-site update at sites i, i+1 moving the centre in direction dir. */
static int step(dmrg_t *w, int i, int dir, int chi, int noise,
		double *energy, double *disc)
{
	int rc;
	if ((rc = theta_layout(w, i)))
		return rc;
	theta_build(w, i);
	if (noise)
		for (size_t k = 0; k < w->n; k++)
			w->kry[k] += NOISE * rnd(&w->rng);
	double t0 = kz_wtime();
	if ((rc = lanczos(w, i, energy)))
		return rc;
	double t1 = kz_wtime();
	if ((rc = split(w, i, dir, chi, disc)))
		return rc;
	double t2 = kz_wtime();
	rc = dir > 0 ? dmrg_build_left(w, i) : dmrg_build_right(w, i + 1);
	double t3 = kz_wtime();
	w->t_lanczos += t1 - t0;
	w->t_split += t2 - t1;
	w->t_env += t3 - t2;
	return rc;
}

/* ---- energy and variance ------------------------------------------------ */

int dmrg_energy_variance(const mps_t *m, const chain_t *c, double *energy,
			 double *variance, char *err)
{
	if (!m || !c || !energy)
		return kz_err(err, KZ_EINVAL, "dmrg_energy_variance: NULL "
					      "argument");
	if (mps_length(m) != c->L)
		return kz_err(err, KZ_EINVAL,
			      "dmrg_energy_variance: state has L=%d, chain "
			      "L=%d", mps_length(m), c->L);
	double n2, h, v;
	int rc;
	if ((rc = mps_mpo_expect(m, c, 0, 0, 0, &n2, err)))
		return rc;
	if (!(n2 > 0) || !isfinite(n2))
		return kz_err(err, KZ_ENUM,
			      "dmrg_energy_variance: norm^2 %g", n2);
	if ((rc = mps_mpo_expect(m, c, 0, 1, 0, &h, err)))
		return rc;
	*energy = h / n2;
	if (variance) {
		/* <(H - E)^2> directly: no cancellation between <H^2> and E^2 */
		if ((rc = mps_mpo_expect(m, c, *energy, 1, 1, &v, err)))
			return rc;
		*variance = v / n2;
	}
	return KZ_OK;
}

/* ---- driver ------------------------------------------------------------- */

static int check_params(const chain_t *c, int nup, const dmrg_params_t *p,
			char *err)
{
	if (!c || !p)
		return kz_err(err, KZ_EINVAL, "dmrg: NULL chain or parameters");
	if (c->L < 4 || c->L % 2)
		return kz_err(err, KZ_EINVAL,
			      "dmrg: chain length L=%d: expected an even "
			      "number >= 4", c->L);
	if (nup < 0 || nup > c->L)
		return kz_err(err, KZ_EINVAL, "dmrg: nup=%d outside [0, %d]",
			      nup, c->L);
	if (p->chi_max < 1)
		return kz_err(err, KZ_EINVAL, "dmrg: chi_max=%d < 1",
			      p->chi_max);
	if (p->chi_start < 1)
		return kz_err(err, KZ_EINVAL, "dmrg: chi_start=%d < 1",
			      p->chi_start);
	if (!(p->cutoff >= 0) || !isfinite(p->cutoff))
		return kz_err(err, KZ_EINVAL, "dmrg: cutoff=%g: expected a "
					      "finite value >= 0", p->cutoff);
	if (p->max_sweeps < 1)
		return kz_err(err, KZ_EINVAL, "dmrg: max_sweeps=%d < 1",
			      p->max_sweeps);
	if (!(p->energy_tol > 0) || !isfinite(p->energy_tol))
		return kz_err(err, KZ_EINVAL, "dmrg: energy_tol=%g: expected a "
					      "finite value > 0", p->energy_tol);
	if (!(p->trunc_tol > 0) || !isfinite(p->trunc_tol))
		return kz_err(err, KZ_EINVAL, "dmrg: trunc_tol=%g: expected a "
					      "finite value > 0", p->trunc_tol);
	if (p->lanczos_iter < 2 || p->lanczos_iter > 1000)
		return kz_err(err, KZ_EINVAL,
			      "dmrg: lanczos_iter=%d outside [2, 1000]",
			      p->lanczos_iter);
	if (!(p->lanczos_tol > 0) || !isfinite(p->lanczos_tol))
		return kz_err(err, KZ_EINVAL, "dmrg: lanczos_tol=%g: expected "
					      "a finite value > 0", p->lanczos_tol);
	if (p->threads < 1)
		return kz_err(err, KZ_EINVAL, "dmrg: threads=%d < 1",
			      p->threads);
	return KZ_OK;
}

/* The Lanczos residual bound of a sweep after one whose largest discarded
 * weight was maxd (NaN before the first).  A local update whose vector is
 * then truncated by sqrt(maxd) in norm gains nothing from a residual far
 * below that: the bound follows the truncation, a tenth of it, and never
 * goes below lanczos_tol (which an untruncated state therefore keeps).
 * Measured against lanczos_tol alone (bench --dmrg, L = 140, interleaved
 * runs): chi 128 9.3-9.9 s -> 4.7-5.1 s, chi 256 23.5-25.1 s -> 10.3-11.1
 * s, the energies equal to 2e-12 relative (lower at chi 128) and the
 * variances unchanged; the full reorthogonalisation against up to 40
 * vectors made the long Lanczos runs cost more than their matvecs. */
#define DMRG_LANCZOS_FRAC 0.1

static double lanczos_tol_of(const dmrg_params_t *p, double maxd)
{
	double t = DMRG_LANCZOS_FRAC * sqrt(maxd);
	return isfinite(t) && t > p->lanczos_tol ? t : p->lanczos_tol;
}

int dmrg_ground_state(const chain_t *c, int nup, const dmrg_params_t *p,
		      mps_t **out, dmrg_result_t *res, char *err)
{
	double t0 = kz_wtime();
	if (out)
		*out = NULL;
	if (res) {
		memset(res, 0, sizeof *res);
		res->energy = res->variance = NAN;
	}
	if (!out)
		return kz_err(err, KZ_EINVAL, "dmrg: NULL output");
	int rc = check_params(c, nup, p, err);
	if (rc)
		return rc;
	dmrg_t w;
	mps_t *m = NULL;
	int *up = NULL, L = c->L, prev_blas = openblas_get_num_threads();
	dmrg_result_t r = {.energy = NAN, .variance = NAN};
	openblas_set_num_threads(p->threads);
	if ((rc = ws_create(&w, c, nup, p, err)))
		goto out;
	up = malloc((size_t)L * sizeof(int));
	if (!up) {
		rc = kz_err(err, KZ_ENOMEM, "dmrg: out of memory");
		goto out;
	}
	spread_ups(L, nup, up);
	if ((rc = init_product(&w, up)) ||
	    (rc = dmrg_env_boundary(&w, &w.left[0], 0)) ||
	    (rc = dmrg_env_boundary(&w, &w.right[L], L)))
		goto out;
	for (int b = L - 1; b >= 1; b--)
		if ((rc = dmrg_build_right(&w, b)))
			goto out;
	double eprev = NAN;
	w.ltol = lanczos_tol_of(p, NAN);
	int converged = 0, chi = p->chi_start < p->chi_max ? p->chi_start
							  : p->chi_max;
	for (int sw = 1; sw <= p->max_sweeps && !converged; sw++) {
		double e = 0, d, maxd = 0;
		for (int i = 0; i <= L - 2; i++) {
			if ((rc = step(&w, i, +1, chi, sw == 1, &e, &d)))
				goto out;
			maxd = d > maxd ? d : maxd;
		}
		for (int i = L - 2; i >= 0; i--) {
			if ((rc = step(&w, i, -1, chi, 0, &e, &d)))
				goto out;
			maxd = d > maxd ? d : maxd;
		}
		r.sweeps = sw;
		r.sweep_energy = e;
		r.energy_change = fabs(e - eprev); /* NaN after sweep 1 */
		r.max_discarded = maxd;
		r.lanczos_s = w.t_lanczos;
		r.svd_s = w.t_split;
		r.env_s = w.t_env;
		r.matvecs = w.matvecs;
		converged = r.energy_change < p->energy_tol &&
			    maxd < p->trunc_tol;
		if (p->verbose)
			fprintf(stderr,
				"dmrg: sweep %2d chi %4d  E = %.14f  dE = %.3e  "
				"discarded %.3e  %.2fs (lanczos %.2fs, %ld "
				"matvecs; svd %.2fs; env %.2fs)\n",
				sw, chi, e, r.energy_change, maxd,
				kz_wtime() - t0, w.t_lanczos, w.matvecs,
				w.t_split, w.t_env);
		eprev = e;
		w.ltol = lanczos_tol_of(p, maxd);
		chi = chi > p->chi_max / 2 ? p->chi_max : 2 * chi;
	}
	if (!converged) {
		r.seconds = kz_wtime() - t0;
		rc = kz_err(err, KZ_ENUM,
			    "dmrg: not converged: after %d sweeps (max_sweeps) "
			    "energy change %.3g (energy_tol %.3g), max "
			    "discarded weight %.3g (trunc_tol %.3g) at chi_max "
			    "%d",
			    r.sweeps, r.energy_change, p->energy_tol,
			    r.max_discarded, p->trunc_tol, p->chi_max);
		goto out;
	}
	if ((rc = dmrg_to_vidal(&w)) || (rc = dmrg_to_mps(&w, up, &m)) ||
	    (rc = dmrg_energy_variance(m, c, &r.energy, &r.variance, err)))
		goto out;
	r.max_bond = mps_max_bond_dim(m);
	r.seconds = kz_wtime() - t0;
out:
	openblas_set_num_threads(prev_blas);
	ws_destroy(&w);
	free(up);
	if (rc)
		mps_destroy(&m);
	else
		*out = m;
	if (res)
		*res = r;
	return rc;
}
