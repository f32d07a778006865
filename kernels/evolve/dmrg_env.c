/* dmrg_env: the block environments of the DMRG kernel and the two-site
 * effective Hamiltonian assembled from them (the channels and blocks are
 * described at the top of dmrg.c). */
#include "dmrg_impl.h"

static int env_layout(dmrg_t *w, blocks_t *e, int b, size_t *size)
{
	size_t tot = 0;
	int nq = w->nq[b];
	for (int k = 0; k < nq; k++) {
		int q = w->qlo[b] + k;
		size_t d = (size_t)bdim(w, b, q);
		e->off[k] = tot;
		tot += d * d;
		e->off[nq + k] = tot;
		tot += d * d;
		e->off[2 * nq + k] = tot;
		tot += d * (size_t)bdim(w, b, q + 1);
	}
	RESERVE(e->data, e->cap, tot);
	if (size)
		*size = tot;
	return KZ_OK;
}

/* Boundary environments: empty blocks, no operators. */
int dmrg_env_boundary(dmrg_t *w, blocks_t *e, int b)
{
	size_t tot;
	int rc = env_layout(w, e, b, &tot);
	if (rc)
		return rc;
	memset(e->data, 0, tot * sizeof(double));
	return KZ_OK;
}

/* H0 = Hr - x Z, H1 = Hr + x Z (H0 holds Hr on entry). */
static void fold_sz(double *H0, double *H1, const double *Z, size_t n2,
		    double x)
{
	for (size_t k = 0; k < n2; k++) {
		H1[k] = H0[k] + x * Z[k];
		H0[k] -= x * Z[k];
	}
}

/* X += Y + Y^T (d x d). */
static void add_sym(double *X, const double *Y, int d)
{
	for (int b = 0; b < d; b++)
		for (int a = 0; a < d; a++)
			X[a + (size_t)d * b] +=
				Y[a + (size_t)d * b] + Y[b + (size_t)d * a];
}

/* Largest sector dimension of bond b. */
static int max_dim(dmrg_t *w, int b)
{
	int mx = 0;
	for (int k = 0; k < w->nq[b]; k++)
		mx = bdims(w, b)[k] > mx ? bdims(w, b)[k] : mx;
	return mx;
}

/* Scratch for an environment update onto bond bnew from bond bold:
 * t1 holds an old x new block, t2 two new x new ones; *dmx = the largest
 * new dimension. */
static int env_scratch(dmrg_t *w, int bnew, int bold, int *dmx)
{
	int d = max_dim(w, bnew), o = max_dim(w, bold);
	RESERVE(w->t1, w->t1_cap, (size_t)o * d);
	RESERVE(w->t2, w->t2_cap, 2 * (size_t)d * d);
	*dmx = d;
	return KZ_OK;
}

/* left[i+1] from left[i] and the left-orthonormal A of site i. */
int dmrg_build_left(dmrg_t *w, int i)
{
	int b = i + 1, rc;
	const blocks_t *F = &w->left[i], *A = &w->site[i];
	blocks_t *E = &w->left[b];
	if ((rc = env_layout(w, E, b, NULL)))
		return rc;
	double J = i < w->L - 1 ? w->c->J[i] : 0;
	double D = i < w->L - 1 ? w->c->Delta[i] : 0;
	int dmx;
	if ((rc = env_scratch(w, b, i, &dmx)))
		return rc;
	double *Z = w->t2, *X = w->t2 + (size_t)dmx * dmx;
	for (int k = 0; k < w->nq[b]; k++) {
		int qp = w->qlo[b] + k, d = bdim(w, b, qp);
		if (!d)
			continue;
		double *H0 = eblk(w, E, b, 0, qp), *H1 = eblk(w, E, b, 1, qp);
		memset(H0, 0, (size_t)d * d * sizeof(double));
		memset(Z, 0, (size_t)d * d * sizeof(double));
		for (int s = 0; s < 2; s++) {
			int q = qp - s, dl = bdim(w, i, q);
			if (!dl)
				continue;
			const double *As = sblk(w, A, i, s, q);
			/* H' += A^T H_s A, the site's own spin s closing the
			 * Sz Sz term of bond i-1 */
			mm(0, 0, dl, d, dl, 1, eblk(w, F, i, s, q), As, 0, w->t1);
			mm(1, 0, d, d, dl, 1, As, w->t1, 1, H0);
			mm(1, 0, d, d, dl, s - 0.5, As, As, 1, Z);
		}
		int d0 = bdim(w, i, qp), d1 = bdim(w, i, qp - 1);
		if (d0 && d1) {
			/* (J/2)(S+_{i-1} S-_i + h.c.): A^0^T P A^1 + transpose */
			mm(0, 0, d0, d, d1, 1, eblk(w, F, i, 2, qp - 1),
			   sblk(w, A, i, 1, qp - 1), 0, w->t1);
			mm(1, 0, d, d, d0, 1, sblk(w, A, i, 0, qp), w->t1, 0,
			   X);
			add_sym(H0, X, d);
		}
		fold_sz(H0, H1, Z, (size_t)d * d, 0.5 * J * D);
		/* P'[q'] = (J_i/2) <q'+1| S+_i |q'> = (J/2) A^1[q']^T A^0[q'] */
		int du = bdim(w, b, qp + 1);
		if (du)
			mm(1, 0, du, d, d0, 0.5 * J,
			   d0 ? sblk(w, A, i, 1, qp) : NULL,
			   d0 ? sblk(w, A, i, 0, qp) : NULL, 0,
			   eblk(w, E, b, 2, qp));
	}
	return KZ_OK;
}

/* right[i] from right[i+1] and the right-orthonormal B of site i. */
int dmrg_build_right(dmrg_t *w, int i)
{
	int rc;
	const blocks_t *F = &w->right[i + 1], *B = &w->site[i];
	blocks_t *E = &w->right[i];
	if ((rc = env_layout(w, E, i, NULL)))
		return rc;
	double J = i > 0 ? w->c->J[i - 1] : 0;
	double D = i > 0 ? w->c->Delta[i - 1] : 0;
	int dmx;
	if ((rc = env_scratch(w, i, i + 1, &dmx)))
		return rc;
	double *Z = w->t2, *X = w->t2 + (size_t)dmx * dmx;
	for (int k = 0; k < w->nq[i]; k++) {
		int q = w->qlo[i] + k, d = bdim(w, i, q);
		if (!d)
			continue;
		double *H0 = eblk(w, E, i, 0, q), *H1 = eblk(w, E, i, 1, q);
		memset(H0, 0, (size_t)d * d * sizeof(double));
		memset(Z, 0, (size_t)d * d * sizeof(double));
		for (int s = 0; s < 2; s++) {
			int dr = bdim(w, i + 1, q + s);
			if (!dr)
				continue;
			const double *Bs = sblk(w, B, i, s, q);
			/* H' += B H_s B^T, H_s of bond i+1 with site i's spin */
			mm(0, 0, d, dr, dr, 1, Bs,
			   eblk(w, F, i + 1, s, q + s), 0, w->t1);
			mm(0, 1, d, d, dr, 1, w->t1, Bs, 1, H0);
			mm(0, 1, d, d, dr, s - 0.5, Bs, Bs, 1, Z);
		}
		int r0 = bdim(w, i + 1, q), r1 = bdim(w, i + 1, q + 1);
		if (r0 && r1) {
			/* (J_i/2)(S+_i S-_{i+1} + h.c.): B^1 P B^0^T + transp. */
			mm(0, 0, d, r0, r1, 1, sblk(w, B, i, 1, q),
			   eblk(w, F, i + 1, 2, q), 0, w->t1);
			mm(0, 1, d, d, r0, 1, w->t1, sblk(w, B, i, 0, q), 0,
			   X);
			add_sym(H0, X, d);
		}
		fold_sz(H0, H1, Z, (size_t)d * d, 0.5 * J * D);
		/* P'[q] = (J_{i-1}/2) <q+1| S-_i |q> = (J/2) B^0[q+1] B^1[q]^T */
		int du = bdim(w, i, q + 1);
		if (du)
			mm(0, 1, du, d, r1, 0.5 * J,
			   r1 ? sblk(w, B, i, 0, q + 1) : NULL,
			   r1 ? sblk(w, B, i, 1, q) : NULL, 0,
			   eblk(w, E, i, 2, q));
	}
	return KZ_OK;
}

/* ---- effective Hamiltonian ---------------------------------------------- */

/* y = H_eff x on sites i, i+1 (gather form: each block of y is written
 * by its own iteration). */
void dmrg_apply_h(const dmrg_t *w, int i, const double *x, double *y)
{
	const blocks_t *Le = &w->left[i], *Re = &w->right[i + 2];
	double J = w->c->J[i], D = w->c->Delta[i];
	for (int k = 0; k < w->nblk; k++) {
		int q = w->bq[k], s1 = w->bs[k] >> 1, s2 = w->bs[k] & 1;
		int r = q + s1 + s2;
		int dl = bdim(w, i, q), dr = bdim(w, i + 2, r);
		const double *X = x + w->boff[k];
		double *Y = y + w->boff[k];
		/* left block (+ Sz Sz of bond i-1), right block (+ bond i+1) */
		mm(0, 0, dl, dr, dl, 1, eblk(w, Le, i, s1, q), X, 0, Y);
		mm(0, 1, dl, dr, dr, 1, X, eblk(w, Re, i + 2, s2, r), 1, Y);
		/* bond i: J Delta Sz Sz and (J/2) flips |01> <-> |10> */
		cblas_daxpy(dl * dr, J * D * (s1 - 0.5) * (s2 - 0.5), X, 1, Y,
			    1);
		int src;
		if (s1 != s2 && (src = blk_of(w, i, q, s2, s1)) >= 0)
			cblas_daxpy(dl * dr, 0.5 * J, x + w->boff[src], 1, Y, 1);
		/* bond i-1: S+_{i-1} S-_i takes (q-1, s1=1) to (q, 0) with P[q-1];
		 * S-_{i-1} S+_i takes (q+1, 0) to (q, 1) with P[q]^T */
		if (s1 == 0 && (src = blk_of(w, i, q - 1, 1, s2)) >= 0)
			mm(0, 0, dl, dr, bdim(w, i, q - 1), 1,
			   eblk(w, Le, i, 2, q - 1), x + w->boff[src], 1, Y);
		if (s1 == 1 && (src = blk_of(w, i, q + 1, 0, s2)) >= 0)
			mm(1, 0, dl, dr, bdim(w, i, q + 1), 1,
			   eblk(w, Le, i, 2, q), x + w->boff[src], 1, Y);
		/* bond i+1: S+_{i+1} S-_{i+2} takes s2=0 (right charge r-1) to
		 * s2=1 with P[r-1]^T; S-_{i+1} S+_{i+2} the reverse with P[r] */
		if (s2 == 1 && (src = blk_of(w, i, q, s1, 0)) >= 0)
			mm(0, 1, dl, dr, bdim(w, i + 2, r - 1), 1,
			   x + w->boff[src], eblk(w, Re, i + 2, 2, r - 1), 1, Y);
		if (s2 == 0 && (src = blk_of(w, i, q, s1, 1)) >= 0)
			mm(0, 0, dl, dr, bdim(w, i + 2, r + 1), 1,
			   x + w->boff[src], eblk(w, Re, i + 2, 2, r), 1, Y);
	}
}

