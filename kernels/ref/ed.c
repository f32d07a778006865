/* ed: exact diagonalisation of the XXZ chain of chain.h in one sector of
 * fixed total Sz (nup up spins), L <= 16.  The reference the MPS code is held
 * against, so everything here is done the slow, obvious way:
 *
 *  - the basis is the list of L-bit patterns with nup bits set (bit i = site i
 *    up), increasing; a 2^L table maps a pattern back to its index;
 *  - h_i is applied by bit manipulation from its definition
 *      h_i = J_i [ (S+_i S-_{i+1} + S-_i S+_{i+1}) / 2 + Delta_i Sz_i Sz_{i+1} ]
 *    (Sx Sx' + Sy Sy' = (S+S-' + S-S+')/2), not from chain_bond_matrix(), so a
 *    mistake there is not silently shared;
 *  - exp(-iHt) and the ground state come from one dense real dsyevd of H in
 *    the sector, computed on first use and cached (psi <- V e^{-iEt} V^T psi);
 *  - every observable applies its operator to the state vector; the entropy
 *    takes the Schmidt values of psi reshaped (left, right), one block per
 *    number of up spins on the left.
 */
#include "ed.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Largest dense eigensolver footprint we accept: H (n^2 doubles) plus
 * dsyevd's workspace (1 + 6n + 2n^2 doubles).  L = 14 at half filling
 * (n = 3432) needs 0.28 GB; L = 16 at half filling (n = 12870) would need
 * 4 GB and is refused. */
#define ED_DENSE_MAX_BYTES (2.0 * 1024 * 1024 * 1024)

struct ed_s {
	chain_t *c;             /* own copy of the couplings */
	int L, nup;
	size_t dim;
	unsigned long *states;  /* [dim] bit patterns, increasing */
	long *index;            /* [2^L] pattern -> k, or -1 outside sector */
	/* dense eigendecomposition H = V diag(E) V^T, NULL until first needed */
	double *V;              /* [dim*dim] column-major, column k = vector k */
	double *E;              /* [dim] ascending */
	double *work;           /* [4*dim] ed_evolve workspace */
};

static int popcount(unsigned long x)
{
	int n = 0;
	for (; x; x &= x - 1)
		n++;
	return n;
}

static int bit(unsigned long x, int i) { return (int)((x >> i) & 1UL); }

int ed_create(ed_t **ed, const chain_t *c, int nup, char *err)
{
	ed_t *p = NULL;
	int rc = KZ_OK;

	*ed = NULL;
	if (!c)
		return kz_err(err, KZ_EINVAL, "ed: NULL chain");
	if (c->L > 16)
		return kz_err(err, KZ_EINVAL,
			      "ed: L=%d too large for exact diagonalisation "
			      "(L <= 16)", c->L);
	if (nup < 0 || nup > c->L)
		return kz_err(err, KZ_EINVAL, "ed: nup=%d outside [0, L=%d]",
			      nup, c->L);
	p = calloc(1, sizeof *p);
	if (!p) {
		rc = kz_err(err, KZ_ENOMEM, "ed: out of memory");
		goto out;
	}
	rc = chain_create(&p->c, c->L, c->J, c->Delta, err);
	if (rc)
		goto out;
	p->L = c->L;
	p->nup = nup;

	unsigned long npat = 1UL << p->L;
	p->index = malloc(npat * sizeof *p->index);
	size_t dim = 0;
	if (p->index)
		for (unsigned long x = 0; x < npat; x++)
			p->index[x] = popcount(x) == nup ? (long)dim++ : -1;
	p->dim = dim;
	p->states = malloc(dim * sizeof *p->states);
	if (!p->index || !p->states) {
		rc = kz_err(err, KZ_ENOMEM, "ed: out of memory");
		goto out;
	}
	for (unsigned long x = 0; x < npat; x++)
		if (p->index[x] >= 0)
			p->states[p->index[x]] = x;
	*ed = p;
	p = NULL;
out:
	ed_destroy(&p);
	return rc;
}

void ed_destroy(ed_t **ed)
{
	if (!ed || !*ed)
		return;
	chain_destroy(&(*ed)->c);
	free((*ed)->states);
	free((*ed)->index);
	free((*ed)->V);
	free((*ed)->E);
	free((*ed)->work);
	free(*ed);
	*ed = NULL;
}

size_t ed_dim(const ed_t *ed) { return ed->dim; }

unsigned long ed_state(const ed_t *ed, size_t k) { return ed->states[k]; }

long ed_index(const ed_t *ed, unsigned long bits)
{
	if (bits >> ed->L)
		return -1;
	return ed->index[bits];
}

int ed_product_state(const ed_t *ed, const int *up, kz_cplx *psi, char *err)
{
	unsigned long bits = 0;
	int n = 0;
	for (int i = 0; i < ed->L; i++) {
		if (up[i] != 0 && up[i] != 1)
			return kz_err(err, KZ_EINVAL,
				      "ed: up[%d]=%d is not 0 or 1", i, up[i]);
		n += up[i];
		bits |= (unsigned long)up[i] << i;
	}
	if (n != ed->nup)
		return kz_err(err, KZ_EINVAL,
			      "ed: product state has %d up spins, sector has %d",
			      n, ed->nup);
	memset(psi, 0, ed->dim * sizeof *psi);
	psi[ed->index[bits]] = 1;
	return KZ_OK;
}

/* out += coef * h_i in, straight from the definition of h_i (purpose block). */
static void bond_add(const ed_t *ed, int i, double coef, const kz_cplx *in,
		     kz_cplx *out)
{
	double J = coef * ed->c->J[i], D = ed->c->Delta[i];
	unsigned long flip = 3UL << i;
	for (size_t k = 0; k < ed->dim; k++) {
		unsigned long x = ed->states[k];
		int same = bit(x, i) == bit(x, i + 1);
		/* Sz Sz' = +1/4 for parallel, -1/4 for antiparallel spins */
		out[k] += J * D * (same ? 0.25 : -0.25) * in[k];
		/* S+S-' + S-S+' swaps antiparallel neighbours, amplitude 1 */
		if (!same)
			out[ed->index[x ^ flip]] += 0.5 * J * in[k];
	}
}

void ed_apply_h(const ed_t *ed, const kz_cplx *in, kz_cplx *out)
{
	memset(out, 0, ed->dim * sizeof *out);
	for (int i = 0; i < ed->L - 1; i++)
		bond_add(ed, i, 1.0, in, out);
}

/* Dense H in the sector and its full eigendecomposition, once. */
static int ensure_eig(ed_t *ed, char *err)
{
	size_t n = ed->dim;
	int rc = KZ_OK;

	if (ed->V)
		return KZ_OK;
	double bytes = 8.0 * ((double)n * n + 1.0 + 6.0 * n +
			      2.0 * (double)n * n);
	if (bytes > ED_DENSE_MAX_BYTES)
		return kz_err(err, KZ_ENOMEM,
			      "ed: dense diagonalisation of dim %zu needs "
			      "%.1f GB (limit %.1f GB)",
			      n, bytes / 1073741824.0,
			      ED_DENSE_MAX_BYTES / 1073741824.0);
	double *V = calloc(n * n, sizeof *V);
	double *E = malloc(n * sizeof *E);
	double *work = malloc(4 * n * sizeof *work);
	if (!V || !E || !work) {
		rc = kz_err(err, KZ_ENOMEM, "ed: out of memory (dim %zu)", n);
		goto out;
	}
	/* the same matrix elements as bond_add, written into a real array */
	for (int i = 0; i < ed->L - 1; i++) {
		double J = ed->c->J[i], D = ed->c->Delta[i];
		unsigned long flip = 3UL << i;
		for (size_t k = 0; k < n; k++) {
			unsigned long x = ed->states[k];
			int same = bit(x, i) == bit(x, i + 1);
			V[k + n * k] += J * D * (same ? 0.25 : -0.25);
			if (!same)
				V[(size_t)ed->index[x ^ flip] + n * k] +=
					0.5 * J;
		}
	}
	lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U',
					 (lapack_int)n, V, (lapack_int)n, E);
	if (info) {
		rc = kz_err(err, KZ_ELAPACK, "ed: dsyevd failed, info=%d",
			    (int)info);
		goto out;
	}
	ed->V = V;
	ed->E = E;
	ed->work = work;
	V = E = work = NULL;
out:
	free(V);
	free(E);
	free(work);
	return rc;
}

int ed_evolve(ed_t *ed, kz_cplx *psi, double t, char *err)
{
	int rc = ensure_eig(ed, err);
	if (rc)
		return rc;
	size_t n = ed->dim;
	double *x = ed->work, *y = ed->work + 2 * n;
	/* V is real: transform the real and imaginary parts as two columns */
	for (size_t k = 0; k < n; k++) {
		x[k] = creal(psi[k]);
		x[k + n] = cimag(psi[k]);
	}
	cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)n, 2, (int)n,
		    1.0, ed->V, (int)n, x, (int)n, 0.0, y, (int)n);
	for (size_t k = 0; k < n; k++) {
		kz_cplx ck = (y[k] + I * y[k + n]) * cexp(-I * ed->E[k] * t);
		y[k] = creal(ck);
		y[k + n] = cimag(ck);
	}
	cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)n, 2,
		    (int)n, 1.0, ed->V, (int)n, y, (int)n, 0.0, x, (int)n);
	for (size_t k = 0; k < n; k++)
		psi[k] = x[k] + I * x[k + n];
	return KZ_OK;
}

int ed_ground_state(ed_t *ed, kz_cplx *psi, double *energy, char *err)
{
	int rc = ensure_eig(ed, err);
	if (rc)
		return rc;
	size_t n = ed->dim;
	if (n > 1 && ed->E[1] - ed->E[0] <= 1e-10)
		return kz_err(err, KZ_ENUM,
			      "ed: ground state degenerate (gap %.3g)",
			      ed->E[1] - ed->E[0]);
	size_t kmax = 0;
	for (size_t k = 1; k < n; k++)
		if (fabs(ed->V[k]) > fabs(ed->V[kmax]))
			kmax = k;
	double sign = ed->V[kmax] < 0 ? -1.0 : 1.0;
	for (size_t k = 0; k < n; k++)
		psi[k] = sign * ed->V[k];
	*energy = ed->E[0];
	return KZ_OK;
}

static double norm2(const ed_t *ed, const kz_cplx *psi)
{
	double s = 0;
	for (size_t k = 0; k < ed->dim; k++)
		s += creal(psi[k]) * creal(psi[k]) +
		     cimag(psi[k]) * cimag(psi[k]);
	return s;
}

double ed_norm(const ed_t *ed, const kz_cplx *psi)
{
	return sqrt(norm2(ed, psi));
}

double ed_sz(const ed_t *ed, const kz_cplx *psi, int i)
{
	if (i < 0 || i >= ed->L)
		return NAN;
	double s = 0;
	for (size_t k = 0; k < ed->dim; k++) {
		double w = creal(psi[k] * conj(psi[k]));
		s += bit(ed->states[k], i) ? 0.5 * w : -0.5 * w;
	}
	return s / norm2(ed, psi);
}

double ed_bond_energy(const ed_t *ed, const kz_cplx *psi, int i)
{
	if (i < 0 || i >= ed->L - 1)
		return NAN;
	double J = ed->c->J[i], D = ed->c->Delta[i];
	unsigned long flip = 3UL << i;
	kz_cplx s = 0;
	/* <psi|h_i|psi> = sum_k conj(psi_k') (h_i)_{k'k} psi_k */
	for (size_t k = 0; k < ed->dim; k++) {
		unsigned long x = ed->states[k];
		int same = bit(x, i) == bit(x, i + 1);
		s += J * D * (same ? 0.25 : -0.25) * conj(psi[k]) * psi[k];
		if (!same)
			s += 0.5 * J * conj(psi[ed->index[x ^ flip]]) * psi[k];
	}
	return creal(s) / norm2(ed, psi);
}

double ed_spin_current(const ed_t *ed, const kz_cplx *psi, int i)
{
	if (i < 0 || i >= ed->L - 1)
		return NAN;
	unsigned long flip = 3UL << i;
	kz_cplx pm = 0, mp = 0;
	/* Sx Sy' - Sy Sx' = (i/2)(S+S-' - S-S+').  S+_i S-_{i+1} takes
	 * (s_i, s_{i+1}) = (down, up) to (up, down) with amplitude 1. */
	for (size_t k = 0; k < ed->dim; k++) {
		unsigned long x = ed->states[k];
		int si = bit(x, i), sj = bit(x, i + 1);
		if (si == sj)
			continue;
		kz_cplx a = conj(psi[ed->index[x ^ flip]]) * psi[k];
		if (!si)
			pm += a;    /* <.|S+_i S-_{i+1}|.> */
		else
			mp += a;    /* <.|S-_i S+_{i+1}|.> */
	}
	return ed->c->J[i] * creal(0.5 * I * (pm - mp)) / norm2(ed, psi);
}

double ed_energy_flow(const ed_t *ed, const kz_cplx *psi, int b)
{
	if (b < 1 || b >= ed->L - 1)
		return NAN;
	size_t n = ed->dim;
	double r = NAN;
	kz_cplx *t1 = calloc(n, sizeof *t1);
	kz_cplx *t2 = calloc(n, sizeof *t2);
	if (!t1 || !t2)
		goto out;
	/* t2 = (h_{b-1} h_b - h_b h_{b-1}) psi */
	bond_add(ed, b, 1.0, psi, t1);
	bond_add(ed, b - 1, 1.0, t1, t2);
	memset(t1, 0, n * sizeof *t1);
	bond_add(ed, b - 1, 1.0, psi, t1);
	bond_add(ed, b, -1.0, t1, t2);
	kz_cplx s = 0;
	for (size_t k = 0; k < n; k++)
		s += conj(psi[k]) * t2[k];
	/* <[h,h']> is imaginary for Hermitian h, h'; i<[.,.]> = -Im<[.,.]> */
	r = -cimag(s) / norm2(ed, psi);
out:
	free(t1);
	free(t2);
	return r;
}

double ed_entropy(const ed_t *ed, const kz_cplx *psi, int i)
{
	if (i < 0 || i >= ed->L - 1)
		return NAN;
	int nl = i + 1, nr = ed->L - nl;
	size_t n = ed->dim;
	double S = NAN;
	/* rank of a left (right) pattern among patterns of equal popcount */
	long *lrank = malloc(((size_t)1 << nl) * sizeof *lrank);
	long *rrank = malloc(((size_t)1 << nr) * sizeof *rrank);
	/* zgesdd reads past the last block (kz_blas_pad) */
	kz_cplx *M = kz_blas_alloc(n * sizeof *M);
	double *sv = malloc(n * sizeof *sv);
	long lcnt[17] = {0}, rcnt[17] = {0};
	size_t off[18] = {0};
	if (!lrank || !rrank || !M || !sv)
		goto out;
	for (unsigned long x = 0; x < (1UL << nl); x++)
		lrank[x] = lcnt[popcount(x)]++;
	for (unsigned long y = 0; y < (1UL << nr); y++)
		rrank[y] = rcnt[popcount(y)]++;
	/* block p = p up spins on the left: an lcnt[p] x rcnt[nup-p] matrix;
	 * the blocks partition the sector, so they fit in dim entries */
	for (int p = 0; p <= nl; p++) {
		int q = ed->nup - p;
		size_t sz = (q >= 0 && q <= nr) ?
				    (size_t)lcnt[p] * (size_t)rcnt[q] : 0;
		off[p + 1] = off[p] + sz;
	}
	for (size_t k = 0; k < n; k++) {
		unsigned long x = ed->states[k] & ((1UL << nl) - 1);
		unsigned long y = ed->states[k] >> nl;
		int p = popcount(x);
		M[off[p] + (size_t)lrank[x] + (size_t)lcnt[p] * (size_t)rrank[y]] =
			psi[k];
	}
	double nrm = norm2(ed, psi), s = 0;
	for (int p = 0; p <= nl; p++) {
		if (off[p + 1] == off[p])
			continue;
		lapack_int m = (lapack_int)lcnt[p];
		lapack_int nc = (lapack_int)rcnt[ed->nup - p];
		if (LAPACKE_zgesdd(LAPACK_COL_MAJOR, 'N', m, nc, M + off[p], m,
				   sv, NULL, 1, NULL, 1))
			goto out;
		for (lapack_int j = 0; j < (m < nc ? m : nc); j++) {
			double w = sv[j] * sv[j] / nrm;
			if (w > 0)
				s -= w * log(w);
		}
	}
	S = s;
out:
	free(lrank);
	free(rrank);
	free(M);
	free(sv);
	return S;
}

/* kernel bits (bit p = site i+p) -> rho3 index 4 s_i + 2 s_{i+1} + s_{i+2} */
static int blk_to_a(unsigned long blk)
{
	return (int)(((blk & 1UL) << 2) | (blk & 2UL) | ((blk >> 2) & 1UL));
}

int ed_rho3(const ed_t *ed, const kz_cplx *psi, int i, kz_cplx rho[64],
	    char *err)
{
	if (i < 0 || i > ed->L - 3)
		return kz_err(err, KZ_EINVAL,
			      "ed_rho3: site %d outside [0, L-3=%d]", i,
			      ed->L - 3);
	memset(rho, 0, 64 * sizeof *rho);
	unsigned long mask = 7UL << i;
	/* <a|rho|b> = sum_rest psi(a, rest) conj(psi(b, rest)) */
	for (size_t k = 0; k < ed->dim; k++) {
		unsigned long x = ed->states[k];
		unsigned long blk = (x & mask) >> i, rest = x & ~mask;
		int a = blk_to_a(blk);
		for (unsigned long bb = 0; bb < 8; bb++) {
			long k2 = ed_index(ed, rest | (bb << i));
			if (k2 < 0)
				continue;
			rho[a + 8 * blk_to_a(bb)] += psi[k] * conj(psi[k2]);
		}
	}
	double nrm = norm2(ed, psi);
	for (int a = 0; a < 64; a++)
		rho[a] /= nrm;
	return KZ_OK;
}
