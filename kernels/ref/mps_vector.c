/* mps_vector: exact MPS of a state vector by successive SVDs from the
 * right.  Psi_b[q] is the matrix (configurations of sites 0..b-1 with q
 * ups) x (right Schmidt states of charge q on bond b); splitting off site
 * b-1 and an SVD per charge gives right-orthonormal B_{b-1} (rows of V^dag)
 * and the Schmidt values of bond b-1, since the right states are
 * orthonormal by induction. */
#include "mps_vector.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mps_impl.h"

static int popcount_ul(unsigned long x) { return __builtin_popcountl(x); }

static long binom(int n, int k)
{
	if (k < 0 || k > n)
		return 0;
	long r = 1;
	for (int j = 1; j <= k; j++)
		r = r * (n - k + j) / j;
	return r;
}

/* The state being split: Psi_b per charge q of bond b, the next bond's in
 * npsi, and the rank of each prefix pattern among those of its popcount. */
typedef struct {
	int L, nup;
	long *row;
	kz_cplx **psi, **npsi; /* [L + 2] */
} vec_t;

/* One sector's factors after the SVD: keep values, V^dag rows, S. */
typedef struct {
	int *kdim;
	kz_cplx **vt;
	double **sv;
} split_t;

/* row[p] = rank of the b-site prefix p among prefixes with its popcount,
 * in increasing order. */
static void rank_prefixes(long *row, int b)
{
	long cnt[64] = {0};
	for (unsigned long p = 0; p < ((unsigned long)1 << b); p++)
		row[p] = cnt[popcount_ul(p)]++;
}

static void vec_free(vec_t *v)
{
	for (int q = 0; v->psi && q <= v->L; q++)
		free(v->psi[q]);
	for (int q = 0; v->npsi && q <= v->L; q++)
		free(v->npsi[q]);
	free(v->psi);
	free(v->npsi);
	free(v->row);
}

/* Psi_L: the normalised column vector over configurations with nup ups;
 * bond L gets its single state. */
static int vec_load(vec_t *v, mps_t *m, size_t n, const unsigned long *bits,
		    const kz_cplx *amp, char *err)
{
	size_t nconf = (size_t)1 << v->L, nrows = 0;
	int nup = v->nup;
	rank_prefixes(v->row, v->L);
	for (unsigned long p = 0; p < nconf; p++)
		if (popcount_ul(p) == nup)
			nrows++;
	if (!(v->psi[nup] = calloc(nrows, sizeof(kz_cplx))))
		return kz_err(err, KZ_ENOMEM, "mps: out of memory");
	double nrm = 0;
	for (size_t k = 0; k < n; k++) {
		if (bits[k] >= nconf || popcount_ul(bits[k]) != nup)
			return kz_err(err, KZ_EINVAL,
				      "mps_create_from_vector: entry %zu: "
				      "pattern %#lx is not in the sector of %d "
				      "ups on %d sites",
				      k, bits[k], nup, v->L);
		v->psi[nup][v->row[bits[k]]] += amp[k];
		nrm += creal(amp[k] * conj(amp[k]));
	}
	if (!(nrm > 0) || !isfinite(nrm))
		return kz_err(err, KZ_EINVAL,
			      "mps_create_from_vector: zero or non-finite "
			      "vector");
	int one = 1; /* bond L has the single charge nup */
	if (mps_bond_resize(m, v->L, &one))
		return kz_err(err, KZ_ENOMEM, "mps: out of memory");
	m->bond[v->L].lam[0] = 1.0;
	for (size_t k = 0; k < nrows; k++)
		v->psi[nup][k] /= sqrt(nrm);
	return KZ_OK;
}

/* M[prefix, (s, alpha)] = Psi_b[q+s][prefix + s << site] for the prefixes
 * of b-1 sites with q ups (mr x (c0 + c1)). */
static void gather(const vec_t *v, int b, int q, int mr, int c0, int c1,
		   kz_cplx *M)
{
	int site = b - 1;
	for (unsigned long p = 0; p < ((unsigned long)1 << site); p++) {
		if (popcount_ul(p) != q)
			continue;
		/* rank among b-1 prefixes: the same as among b prefixes
		 * without the top bit */
		long r = v->row[p];
		for (int s = 0; s < 2; s++) {
			int d = s ? c1 : c0;
			long rr = v->row[p | ((unsigned long)s << site)];
			const kz_cplx *src = v->psi[q + s];
			long ldp = binom(b, q + s); /* rows of Psi_b[q+s] */
			for (int a = 0; a < d; a++)
				M[r + (long)mr * (a + (s ? c0 : 0))] =
					src[rr + ldp * a];
		}
	}
}

/* SVD of charge q = lb->qlo + k of Psi_b with site b-1 split off: the kept
 * values and V^dag rows into sp, Psi_{b-1}[q] = U S into npsi. */
static int split_charge(vec_t *v, const mps_t *m, int b, int k, split_t *sp,
			char *err)
{
	const mps_bond_t *rb = &m->bond[b], *lb = &m->bond[b - 1];
	int q = lb->qlo + k, mr = (int)binom(b - 1, q);
	int c0 = mps_qdim(rb, q), c1 = mps_qdim(rb, q + 1), nc = c0 + c1;
	if (mr == 0 || nc == 0)
		return KZ_OK;
	int mn = mr < nc ? mr : nc, rc = KZ_OK;
	kz_cplx *M = kz_blas_alloc((size_t)mr * nc * sizeof(kz_cplx)); /* zgesdd */
	kz_cplx *U = kz_blas_alloc((size_t)mr * mn * sizeof(kz_cplx));
	kz_cplx *VT = kz_blas_alloc((size_t)mn * nc * sizeof(kz_cplx));
	double *S = malloc((size_t)mn * sizeof(double));
	if (!M || !U || !VT || !S) {
		rc = kz_err(err, KZ_ENOMEM, "mps: out of memory");
		goto out;
	}
	memset(M, 0, (size_t)mr * nc * sizeof(kz_cplx));
	gather(v, b, q, mr, c0, c1, M);
	int info = LAPACKE_zgesdd(LAPACK_COL_MAJOR, 'S', mr, nc, M, mr, S, U,
				  mr, VT, mn);
	if (info) {
		rc = kz_err(err, KZ_ELAPACK, "mps: zgesdd failed (info %d)",
			    info);
		goto out;
	}
	int keep = 0;
	while (keep < mn && S[keep] > 1e-14 * S[0])
		keep++;
	sp->kdim[k] = keep;
	v->npsi[q] = malloc((size_t)mr * (keep ? keep : 1) * sizeof(kz_cplx));
	sp->vt[k] = malloc((size_t)keep * nc * sizeof(kz_cplx) + 1);
	sp->sv[k] = malloc((size_t)(keep ? keep : 1) * sizeof(double));
	if (!v->npsi[q] || !sp->vt[k] || !sp->sv[k]) {
		rc = kz_err(err, KZ_ENOMEM, "mps: out of memory");
		goto out;
	}
	for (int a = 0; a < keep; a++) {
		sp->sv[k][a] = S[a];
		for (int r = 0; r < mr; r++)
			v->npsi[q][r + (long)mr * a] = U[r + (long)mr * a] * S[a];
		for (int c = 0; c < nc; c++)
			sp->vt[k][a + (long)keep * c] = VT[a + (long)mn * c];
	}
out:
	free(M), free(U), free(VT), free(S);
	return rc;
}

/* Bond b-1's Schmidt values and site b-1's blocks from the split. */
static int store_site(mps_t *m, int b, const split_t *sp, char *err)
{
	const mps_bond_t *rb = &m->bond[b];
	mps_bond_t *lb = &m->bond[b - 1];
	if (mps_bond_resize(m, b - 1, sp->kdim) || mps_site_layout(m, b - 1))
		return kz_err(err, KZ_ENOMEM, "mps: out of memory");
	for (int k = 0; k < lb->nq; k++) {
		int q = lb->qlo + k, keep = sp->kdim[k];
		if (!keep)
			continue;
		int c0 = mps_qdim(rb, q), c1 = mps_qdim(rb, q + 1);
		memcpy(mps_qlam(lb, q), sp->sv[k],
		       (size_t)keep * sizeof(double));
		if (c0)
			memcpy(mps_block(m, b - 1, 0, q), sp->vt[k],
			       (size_t)keep * c0 * sizeof(kz_cplx));
		if (c1)
			memcpy(mps_block(m, b - 1, 1, q),
			       sp->vt[k] + (size_t)keep * c0,
			       (size_t)keep * c1 * sizeof(kz_cplx));
	}
	return KZ_OK;
}

/* Split site b-1 off Psi_b: B_{b-1}, Lambda_{b-1} and Psi_{b-1}. */
static int split_site(vec_t *v, mps_t *m, int b, char *err)
{
	int nq = m->bond[b - 1].nq, rc = KZ_OK;
	split_t sp = {calloc((size_t)nq, sizeof(int)),
		      calloc((size_t)nq, sizeof(kz_cplx *)),
		      calloc((size_t)nq, sizeof(double *))};
	if (!sp.kdim || !sp.vt || !sp.sv)
		rc = kz_err(err, KZ_ENOMEM, "mps: out of memory");
	rank_prefixes(v->row, b);
	for (int k = 0; !rc && k < nq; k++)
		rc = split_charge(v, m, b, k, &sp, err);
	if (!rc)
		rc = store_site(m, b, &sp, err);
	for (int k = 0; sp.vt && sp.sv && k < nq; k++) {
		free(sp.vt[k]);
		free(sp.sv[k]);
	}
	free(sp.kdim), free(sp.vt), free(sp.sv);
	for (int q = 0; q <= v->L; q++) {
		free(v->psi[q]);
		v->psi[q] = v->npsi[q];
		v->npsi[q] = NULL;
	}
	return rc;
}

/* Bond 0: Psi_0 = U S is 1x1 = the global phase (norm 1); absorb it into
 * B_0 and set Lambda_0 = 1. */
static void absorb_phase(mps_t *m, kz_cplx ph)
{
	double a = cabs(ph);
	ph = a > 0 ? ph / a : 1.0;
	for (int s = 0; s < 2; s++) {
		int c = mps_qdim(&m->bond[1], s);
		kz_cplx *blk = mps_block(m, 0, s, 0);
		for (int k = 0; k < c; k++)
			blk[k] *= ph;
	}
	m->bond[0].lam[0] = 1.0;
}

int mps_create_from_vector(mps_t **out, int L, int nup, size_t n,
			   const unsigned long *bits, const kz_cplx *amp,
			   char *err)
{
	*out = NULL;
	if (L < 4 || L % 2 || L > 24)
		return kz_err(err, KZ_EINVAL,
			      "mps_create_from_vector: L=%d: expected an even "
			      "number in [4, 24]",
			      L);
	if (nup < 0 || nup > L)
		return kz_err(err, KZ_EINVAL, "mps: nup=%d outside [0, %d]",
			      nup, L);
	mps_t *m = NULL;
	vec_t v = {L, nup, NULL, NULL, NULL};
	int rc = mps_alloc(&m, L, nup, err);
	if (rc)
		goto out;
	v.row = malloc(((size_t)1 << L) * sizeof(long));
	v.psi = calloc((size_t)L + 2, sizeof *v.psi);
	v.npsi = calloc((size_t)L + 2, sizeof *v.npsi);
	if (!v.row || !v.psi || !v.npsi) {
		rc = kz_err(err, KZ_ENOMEM, "mps: out of memory");
		goto out;
	}
	if ((rc = vec_load(&v, m, n, bits, amp, err)))
		goto out;
	for (int b = L; b >= 1; b--)
		if ((rc = split_site(&v, m, b, err)))
			goto out;
	absorb_phase(m, v.psi[0][0]);
out:
	vec_free(&v);
	if (rc)
		mps_destroy(&m);
	*out = m;
	return rc;
}
