/* dmrg_vidal: the converged DMRG state (mixed canonical, real) as an mps_t
 * in the Vidal/Hastings form of mps.h. */
#include "dmrg_impl.h"

#include <math.h>
#include <stdlib.h>

#include "mps_impl.h"

/* From C_0 B_1 ... B_{L-1} (all B right-orthonormal) to the Schmidt bases:
 * at each bond b, left to right, the SVD of M = Lambda_{b-1} B_{b-1} (rows
 * (left Schmidt state, s), columns the right basis of bond b) is U S W^T;
 * S are the Schmidt values of bond b, and the orthogonal rotation W of the
 * bond's basis (B_{b-1} <- B_{b-1} W, B_b <- W^T B_b) keeps every B
 * right-orthonormal without dividing by any Schmidt value [G. Vidal, PRL
 * 91, 147902 (2003); Hastings, J. Math. Phys. 50, 095207 (2009)].  Values
 * below TRUNC_SV_FLOOR carry no weight and their states are dropped. */
/* Lambda = 1 on bonds 0 and L (one state each); C_0 normalised into B_0. */
static int vidal_ends(dmrg_t *w)
{
	int L = w->L;
	for (int b = 0; b <= L; b += L) {
		RESERVE(w->lam[b], w->lam_cap[b], 1);
		w->lam[b][0] = 1;
	}
	double n2 = 0;
	size_t sz = 0;
	for (int s = 0; s < 2; s++)
		for (int q = w->qlo[0]; q < w->qlo[0] + w->nq[0]; q++)
			sz += (size_t)bdim(w, 0, q) * bdim(w, 1, q + s);
	for (size_t k = 0; k < sz; k++)
		n2 += w->site[0].data[k] * w->site[0].data[k];
	if (!(n2 > 0) || !isfinite(n2))
		return kz_err(w->err, KZ_ENUM,
			      "dmrg: final state has norm^2 %g", n2);
	cblas_dscal((int)sz, 1 / sqrt(n2), w->site[0].data, 1);
	return KZ_OK;
}

/* The SVD shapes of bond b: M's sector c has rows (left state, s) and the
 * columns of bond b's old basis. */
static int vidal_layout(dmrg_t *w, int b)
{
	int nq = w->nq[b], qlo = w->qlo[b];
	for (int k = 0; k < nq; k++) {
		int c = qlo + k;
		w->smr[k] = bdim(w, b - 1, c) + bdim(w, b - 1, c - 1);
		w->snc[k] = bdim(w, b, c);
	}
	return dmrg_svd_layout(w, nq);
}

/* SVD of sector k (charge c) of M = Lambda_{b-1} B_{b-1} at bond b; adds
 * its squared singular values to *tot. */
static int vidal_sector(dmrg_t *w, int b, int k, double *tot)
{
	int c = w->qlo[b] + k, d = bdim(w, b, c), mn = w->mn[k], rc;
	int r0 = bdim(w, b - 1, c), r1 = bdim(w, b - 1, c - 1);
	int mr = r0 + r1;
	for (int s = 0; s < 2; s++) {
		int dl = s ? r1 : r0;
		if (!dl)
			continue;
		const double *lam = w->lam[b - 1];
		size_t lo = 0; /* offset of charge c-s in lam */
		for (int q = w->qlo[b - 1]; q < c - s; q++)
			lo += (size_t)bdim(w, b - 1, q);
		const double *X = sblk(w, &w->site[b - 1], b - 1, s, c - s);
		for (int col = 0; col < d; col++)
			for (int r = 0; r < dl; r++)
				w->a[(s ? r0 : 0) + r + (size_t)mr * col] =
					lam[lo + r] * X[r + (size_t)dl * col];
	}
	if ((rc = dmrg_svd(w, mr, d, w->uoff[k], w->soff[k], w->vtoff[k])))
		return rc;
	for (int a = 0; a < mn; a++)
		*tot += w->s[w->soff[k] + a] * w->s[w->soff[k] + a];
	return KZ_OK;
}

/* Bond b keeps the values >= TRUNC_SV_FLOOR |S| (w->keep; the old dims go
 * to w->olddim) and stores them normalised as its Schmidt values. */
static int vidal_keep(dmrg_t *w, int b, double tot)
{
	int nq = w->nq[b];
	if (!(tot > 0) || !isfinite(tot))
		return kz_err(w->err, KZ_ENUM,
			      "dmrg: bond %d: norm^2 %g in the Vidal "
			      "conversion", b, tot);
	double nrm = sqrt(tot);
	int total = 0;
	for (int k = 0; k < nq; k++) {
		int kp = 0;
		while (kp < w->mn[k] &&
		       w->s[w->soff[k] + kp] >= TRUNC_SV_FLOOR * nrm)
			kp++;
		w->keep[k] = kp;
		w->olddim[k] = bdims(w, b)[k];
		total += kp;
	}
	if (!total)
		return kz_err(w->err, KZ_ENUM,
			      "dmrg: bond %d: no Schmidt value left", b);
	memcpy(bdims(w, b), w->keep, (size_t)nq * sizeof(int));
	RESERVE(w->lam[b], w->lam_cap[b], (size_t)total);
	for (int k = 0, o = 0; k < nq; k++)
		for (int a = 0; a < w->keep[k]; a++)
			w->lam[b][o++] = w->s[w->soff[k] + a] / nrm;
	return KZ_OK;
}

/* side 0: B_{b-1} <- B_{b-1} W; side 1: B_b <- W^T B_b.  W^T = the first
 * keep rows of V^T (leading dimension mn); the old blocks keep the site's
 * old offsets, the new ones go to w->spare, which then swaps in. */
static int vidal_rotate(dmrg_t *w, int b, int side)
{
	int site = b - 1 + side, nq = w->nq[b], qlo = w->qlo[b], rc;
	if ((rc = dmrg_site_layout(w, &w->spare, site)))
		return rc;
	for (int s = 0; s < 2; s++)
		for (int kq = 0; kq < w->nq[site]; kq++) {
			int q = w->qlo[site] + kq;
			int k = (side ? q : q + s) - qlo; /* charge on bond b */
			if (k < 0 || k >= nq || !w->keep[k])
				continue;
			int kp = w->keep[k], od = w->olddim[k], mn = w->mn[k];
			const double *VT = w->vt + w->vtoff[k];
			const double *X = sblk(w, &w->site[site], site, s, q);
			double *Y = sblk(w, &w->spare, site, s, q);
			int dl = bdim(w, site, q), dr = bdim(w, site + 1, q + s);
			if (!side && dl) /* old block dl x od */
				cblas_dgemm(CblasColMajor, CblasNoTrans,
					    CblasTrans, dl, kp, od, 1, X, dl,
					    VT, mn, 0, Y, dl);
			else if (side && dr)
				cblas_dgemm(CblasColMajor, CblasNoTrans,
					    CblasNoTrans, kp, dr, od, 1, VT, mn,
					    X, od, 0, Y, kp);
		}
	blocks_t t = w->site[site];
	w->site[site] = w->spare;
	w->spare = t;
	return KZ_OK;
}

int dmrg_to_vidal(dmrg_t *w)
{
	int rc = vidal_ends(w);
	for (int b = 1; b < w->L && !rc; b++) {
		double tot = 0;
		if ((rc = vidal_layout(w, b)))
			break;
		for (int k = 0; k < w->nq[b] && !rc; k++)
			if (w->mn[k])
				rc = vidal_sector(w, b, k, &tot);
		if (!rc)
			rc = vidal_keep(w, b, tot);
		for (int side = 0; side < 2 && !rc; side++)
			rc = vidal_rotate(w, b, side);
	}
	return rc;
}

/* The result as an mps_t (complex copy of the real Vidal tensors). */
int dmrg_to_mps(dmrg_t *w, const int *up, mps_t **out)
{
	mps_t *m = NULL;
	int rc = mps_create_product(&m, w->L, up, w->err);
	if (rc)
		return rc;
	for (int b = 0; b <= w->L && !rc; b++) {
		if (m->bond[b].qlo != w->qlo[b] || m->bond[b].nq != w->nq[b]) {
			rc = kz_err(w->err, KZ_EINVAL,
				    "dmrg: charge ranges of bond %d differ from "
				    "mps.c's", b);
			break;
		}
		if (mps_bond_resize(m, b, bdims(w, b))) {
			rc = kz_err(w->err, KZ_ENOMEM, "dmrg: out of memory");
			break;
		}
		memcpy(m->bond[b].lam, w->lam[b],
		       (size_t)m->bond[b].total * sizeof(double));
	}
	for (int i = 0; i < w->L && !rc; i++) {
		if (mps_site_layout(m, i)) {
			rc = kz_err(w->err, KZ_ENOMEM, "dmrg: out of memory");
			break;
		}
		for (int s = 0; s < 2; s++)
			for (int k = 0; k < w->nq[i]; k++) {
				int q = w->qlo[i] + k;
				size_t sz = (size_t)bdim(w, i, q) *
					    bdim(w, i + 1, q + s);
				if (!sz)
					continue;
				const double *src =
					sblk(w, &w->site[i], i, s, q);
				kz_cplx *dst = mps_block(m, i, s, q);
				for (size_t e = 0; e < sz; e++)
					dst[e] = src[e];
			}
	}
	if (rc)
		mps_destroy(&m);
	*out = m;
	return rc;
}

