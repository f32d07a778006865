/* mps: U(1)-symmetric matrix-product states of spin-1/2 chains in the
 * Vidal/Hastings form described in mps.h; storage in mps_impl.h.
 * Construction of product states, copies, amplitudes, norms and reduced
 * density matrices from the canonical form (full contractions that do not
 * assume it are in contract.c; exact states from vectors in the test-only
 * reference library, ref/mps_vector.c). */
#include "mps_impl.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const kz_cplx one = 1.0, zero = 0.0;

/* ---- layout ------------------------------------------------------------ */

static int popcount_ul(unsigned long x) { return __builtin_popcountl(x); }

/* Allocates the bond and site arrays with every sector empty. */
int mps_alloc(mps_t **out, int L, int nup, char *err)
{
	int rc = KZ_OK;
	mps_t *m = calloc(1, sizeof *m);
	if (!m)
		return kz_err(err, KZ_ENOMEM, "mps: out of memory");
	m->L = L;
	m->nup = nup;
	m->bond = calloc((size_t)L + 1, sizeof *m->bond);
	m->site = calloc((size_t)L, sizeof *m->site);
	if (!m->bond || !m->site) {
		rc = kz_err(err, KZ_ENOMEM, "mps: out of memory");
		goto out;
	}
	for (int b = 0; b <= L; b++) {
		mps_bond_t *bd = &m->bond[b];
		int lo = nup - (L - b) > 0 ? nup - (L - b) : 0;
		int hi = b < nup ? b : nup;
		bd->qlo = lo;
		bd->nq = hi - lo + 1;
		bd->dim = calloc((size_t)bd->nq, sizeof(int));
		bd->off = calloc((size_t)bd->nq, sizeof(size_t));
		if (!bd->dim || !bd->off) {
			rc = kz_err(err, KZ_ENOMEM, "mps: out of memory");
			goto out;
		}
	}
	for (int i = 0; i < L; i++) {
		m->site[i].off =
			calloc(2 * (size_t)m->bond[i].nq, sizeof(size_t));
		if (!m->site[i].off) {
			rc = kz_err(err, KZ_ENOMEM, "mps: out of memory");
			goto out;
		}
	}
out:
	if (rc)
		mps_destroy(&m);
	*out = m;
	return rc;
}

int mps_bond_resize(mps_t *m, int b, const int *dims)
{
	mps_bond_t *bd = &m->bond[b];
	size_t tot = 0;
	for (int k = 0; k < bd->nq; k++) {
		bd->dim[k] = dims[k];
		bd->off[k] = tot;
		tot += (size_t)dims[k];
	}
	bd->total = (int)tot;
	return kz_reserve((void **)&bd->lam, &bd->cap, tot ? tot : 1,
			  sizeof(double));
}

int mps_site_layout(mps_t *m, int i)
{
	const mps_bond_t *l = &m->bond[i], *r = &m->bond[i + 1];
	mps_site_t *st = &m->site[i];
	size_t tot = 0;
	for (int s = 0; s < 2; s++)
		for (int k = 0; k < l->nq; k++) {
			int q = l->qlo + k;
			st->off[s * l->nq + k] = tot;
			tot += (size_t)l->dim[k] * (size_t)mps_qdim(r, q + s);
		}
	st->size = tot;
	return kz_reserve((void **)&st->data, &st->cap, tot ? tot : 1,
			  sizeof(kz_cplx));
}

static int check_L(int L, char *err)
{
	if (L < 4 || L % 2)
		return kz_err(err, KZ_EINVAL,
			      "mps: length L=%d: expected an even number >= 4",
			      L);
	return KZ_OK;
}

/* ---- construction ------------------------------------------------------ */

int mps_create_product(mps_t **out, int L, const int *up, char *err)
{
	*out = NULL;
	int rc = check_L(L, err);
	if (rc)
		return rc;
	if (!up)
		return kz_err(err, KZ_EINVAL, "mps: NULL product state");
	int nup = 0;
	for (int i = 0; i < L; i++) {
		if (up[i] != 0 && up[i] != 1)
			return kz_err(err, KZ_EINVAL,
				      "mps: site %d: spin %d, expected 0 "
				      "(down) or 1 (up)",
				      i, up[i]);
		nup += up[i];
	}
	mps_t *m = NULL;
	int *dims = NULL;
	if ((rc = mps_alloc(&m, L, nup, err)))
		goto out;
	dims = calloc((size_t)L + 2, sizeof(int));
	if (!dims) {
		rc = kz_err(err, KZ_ENOMEM, "mps: out of memory");
		goto out;
	}
	/* bond b holds the single state of charge (ups left of b) */
	for (int b = 0, q = 0; b <= L; b++) {
		mps_bond_t *bd = &m->bond[b];
		memset(dims, 0, (size_t)bd->nq * sizeof(int));
		dims[q - bd->qlo] = 1;
		if (mps_bond_resize(m, b, dims)) {
			rc = kz_err(err, KZ_ENOMEM, "mps: out of memory");
			goto out;
		}
		bd->lam[0] = 1.0;
		if (b < L)
			q += up[b];
	}
	for (int i = 0, q = 0; i < L; i++) {
		if (mps_site_layout(m, i)) {
			rc = kz_err(err, KZ_ENOMEM, "mps: out of memory");
			goto out;
		}
		*mps_block(m, i, up[i], q) = 1.0;
		q += up[i];
	}
out:
	free(dims);
	if (rc)
		mps_destroy(&m);
	*out = m;
	return rc;
}

int mps_copy(mps_t **dst, const mps_t *src, char *err)
{
	*dst = NULL;
	mps_t *m = NULL;
	int rc = mps_alloc(&m, src->L, src->nup, err);
	if (rc)
		return rc;
	for (int b = 0; b <= src->L; b++) {
		if (mps_bond_resize(m, b, src->bond[b].dim)) {
			rc = kz_err(err, KZ_ENOMEM, "mps: out of memory");
			goto out;
		}
		memcpy(m->bond[b].lam, src->bond[b].lam,
		       (size_t)src->bond[b].total * sizeof(double));
	}
	for (int i = 0; i < src->L; i++) {
		if (mps_site_layout(m, i)) {
			rc = kz_err(err, KZ_ENOMEM, "mps: out of memory");
			goto out;
		}
		memcpy(m->site[i].data, src->site[i].data,
		       src->site[i].size * sizeof(kz_cplx));
	}
out:
	if (rc)
		mps_destroy(&m);
	*dst = m;
	return rc;
}

void mps_destroy(mps_t **pm)
{
	if (!pm || !*pm)
		return;
	mps_t *m = *pm;
	if (m->bond)
		for (int b = 0; b <= m->L; b++) {
			free(m->bond[b].dim);
			free(m->bond[b].off);
			free(m->bond[b].lam);
		}
	if (m->site)
		for (int i = 0; i < m->L; i++) {
			free(m->site[i].off);
			free(m->site[i].data);
		}
	free(m->bond);
	free(m->site);
	free(m);
	*pm = NULL;
}

/* ---- queries ----------------------------------------------------------- */

int mps_length(const mps_t *m) { return m->L; }
int mps_nup(const mps_t *m) { return m->nup; }

int mps_bond_dim(const mps_t *m, int b)
{
	return (b < 0 || b > m->L) ? 0 : m->bond[b].total;
}

int mps_max_bond_dim(const mps_t *m)
{
	int mx = 0;
	for (int b = 0; b <= m->L; b++)
		if (m->bond[b].total > mx)
			mx = m->bond[b].total;
	return mx;
}

int mps_schmidt_values(const mps_t *m, int b, double *lam)
{
	if (b < 0 || b > m->L)
		return 0;
	memcpy(lam, m->bond[b].lam, (size_t)m->bond[b].total * sizeof(double));
	return m->bond[b].total;
}

double mps_entropy(const mps_t *m, int i)
{
	if (i < 0 || i > m->L - 2)
		return NAN;
	const mps_bond_t *b = &m->bond[i + 1];
	double s = 0;
	for (int k = 0; k < b->total; k++) {
		double p = b->lam[k] * b->lam[k];
		if (p > 0)
			s -= p * log(p);
	}
	return s;
}

size_t mps_bytes(const mps_t *m)
{
	size_t t = 0;
	for (int i = 0; i < m->L; i++)
		t += m->site[i].cap * sizeof(kz_cplx);
	for (int b = 0; b <= m->L; b++)
		t += m->bond[b].cap * sizeof(double);
	return t;
}

kz_cplx mps_amplitude(const mps_t *m, unsigned long bits)
{
	if (popcount_ul(bits) != m->nup ||
	    (m->L < 64 && (bits >> m->L) != 0))
		return 0;
	int mx = mps_max_bond_dim(m);
	kz_cplx *v = malloc(2 * (size_t)(mx ? mx : 1) * sizeof(kz_cplx));
	if (!v)
		return NAN;
	kz_cplx *w = v + mx;
	v[0] = 1.0;
	int q = 0;
	for (int i = 0; i < m->L; i++) {
		int s = (int)((bits >> i) & 1);
		int dl = mps_qdim(&m->bond[i], q);
		int dr = mps_qdim(&m->bond[i + 1], q + s);
		if (!dl || !dr) {
			free(v);
			return 0;
		}
		/* w = v^T B (row vector times matrix) */
		cblas_zgemv(CblasColMajor, CblasTrans, dl, dr, &one,
			    mps_block(m, i, s, q), dl, v, 1, &zero, w, 1);
		memcpy(v, w, (size_t)dr * sizeof(kz_cplx));
		q += s;
	}
	kz_cplx a = v[0];
	free(v);
	return a;
}

/* <psi|psi> = E_L with E_0 = 1, E_{i+1}[q+s] = sum_s B^s[q]^dag E_i[q]
 * B^s[q]: the honest norm, independent of the canonical form.  E_b is
 * packed sector by sector (mps_env_size). */
size_t mps_env_size(const mps_t *m, int b)
{
	size_t n = 0;
	for (int k = 0; k < m->bond[b].nq; k++)
		n += (size_t)m->bond[b].dim[k] * (size_t)m->bond[b].dim[k];
	return n;
}

/* Offsets of the packed sectors of bond bd into off[nq]. */
static void env_offsets(const mps_bond_t *bd, size_t *off)
{
	size_t n = 0;
	for (int k = 0; k < bd->nq; k++) {
		off[k] = n;
		n += (size_t)bd->dim[k] * (size_t)bd->dim[k];
	}
}

/* One site: F (bond i+1) from E (bond i); T: scratch of mx^2. */
static void env_site(const mps_t *m, int i, const kz_cplx *E, kz_cplx *F,
		     kz_cplx *T, size_t *eoff, size_t *foff)
{
	const mps_bond_t *l = &m->bond[i], *r = &m->bond[i + 1];
	env_offsets(l, eoff);
	env_offsets(r, foff);
	memset(F, 0, mps_env_size(m, i + 1) * sizeof(kz_cplx));
	for (int k = 0; k < l->nq; k++) {
		int q = l->qlo + k, dl = l->dim[k];
		if (!dl)
			continue;
		for (int s = 0; s < 2; s++) {
			int dr = mps_qdim(r, q + s);
			if (!dr)
				continue;
			const kz_cplx *B = mps_block(m, i, s, q);
			/* T = E[q] B ; F[q+s] += B^dag T */
			cblas_zgemm(CblasColMajor, CblasNoTrans, CblasNoTrans,
				    dl, dr, dl, &one, E + eoff[k], dl, B, dl,
				    &zero, T, dl);
			cblas_zgemm(CblasColMajor, CblasConjTrans,
				    CblasNoTrans, dr, dr, dl, &one, B, dl, T,
				    dl, &one, F + foff[q + s - r->qlo], dr);
		}
	}
}

int mps_norm_env(const mps_t *m, int lo, int hi, const kz_cplx *ein,
		 kz_cplx *eout, char *err)
{
	if (!m || !ein || !eout || lo < 0 || hi > m->L || lo > hi)
		return kz_err(err, KZ_EINVAL, "mps_norm_env: bad argument");
	size_t mx = 1, nmax = 1;
	int nq = 1;
	for (int b = lo; b <= hi; b++) {
		if ((size_t)m->bond[b].total > mx)
			mx = (size_t)m->bond[b].total;
		if (mps_env_size(m, b) > nmax)
			nmax = mps_env_size(m, b);
		if (m->bond[b].nq > nq)
			nq = m->bond[b].nq;
	}
	int rc = KZ_OK;
	kz_cplx *E = malloc(nmax * sizeof(kz_cplx)),
		*F = malloc(nmax * sizeof(kz_cplx)),
		*T = malloc(mx * mx * sizeof(kz_cplx));
	size_t *off = malloc(2 * (size_t)nq * sizeof(size_t));
	if (!E || !F || !T || !off) {
		rc = kz_err(err, KZ_ENOMEM, "mps_norm: out of memory");
		goto out;
	}
	memcpy(E, ein, mps_env_size(m, lo) * sizeof(kz_cplx));
	for (int i = lo; i < hi; i++) {
		env_site(m, i, E, F, T, off, off + nq);
		kz_cplx *x = E;
		E = F;
		F = x;
	}
	memcpy(eout, E, mps_env_size(m, hi) * sizeof(kz_cplx));
out:
	free(E);
	free(F);
	free(T);
	free(off);
	return rc;
}

int mps_norm(const mps_t *m, double *norm, char *err)
{
	/* bond L has the one sector nup of dimension 1 */
	const kz_cplx e0 = 1.0;
	kz_cplx eL = 0;
	int rc = mps_norm_env(m, 0, m->L, &e0, &eL, err);
	if (rc)
		return rc;
	*norm = sqrt(fabs(creal(eL)));
	if (!isfinite(*norm))
		return kz_err(err, KZ_ENUM, "mps_norm: not finite");
	return KZ_OK;
}

/* ---- reduced density matrices ------------------------------------------ */

/* X[sigma] = Lambda_i B_i^{s1} ... B_{i+k-1}^{sk} for left charge q, then
 * rho_{ab} = sum_q <X[b], X[a]>_F (the outer bonds are Schmidt bases). */
static int rho_k(const mps_t *m, int i, int k, kz_cplx *rho, char *err)
{
	int d = 1 << k;
	if (i < 0 || i + k > m->L)
		return kz_err(err, KZ_EINVAL,
			      "mps_rho%d: site %d out of range [0, %d]", k, i,
			      m->L - k);
	int rc = KZ_OK;
	int mx = mps_max_bond_dim(m);
	size_t n2 = (size_t)mx * mx;
	/* level j holds 2^j matrices of at most mx x mx */
	kz_cplx *X = malloc(n2 * (size_t)(2 * d) * sizeof(kz_cplx) + 1);
	int *cols = malloc((size_t)(2 * d) * sizeof(int));
	memset(rho, 0, (size_t)d * d * sizeof(kz_cplx));
	if (!X || !cols) {
		rc = kz_err(err, KZ_ENOMEM, "mps_rho: out of memory");
		goto out;
	}
	const mps_bond_t *lb = &m->bond[i];
	for (int kq = 0; kq < lb->nq; kq++) {
		int q = lb->qlo + kq, dl = lb->dim[kq];
		if (!dl)
			continue;
		/* node index: level j, pattern p (j bits) -> slot (1<<j)+p */
		kz_cplx *root = X + n2 * 1;
		memset(root, 0, (size_t)dl * dl * sizeof(kz_cplx));
		const double *lam = mps_qlam(lb, q);
		for (int a = 0; a < dl; a++)
			root[a + (size_t)dl * a] = lam[a];
		cols[1] = dl;
		for (int j = 0; j < k; j++) {
			for (int p = 0; p < (1 << j); p++) {
				int slot = (1 << j) + p;
				int qq = q + popcount_ul((unsigned long)p);
				for (int s = 0; s < 2; s++) {
					int ns = (1 << (j + 1)) + 2 * p + s;
					int din = cols[slot];
					int dout = mps_qdim(&m->bond[i + j + 1],
							    qq + s);
					/* an empty path stays empty */
					cols[ns] = din ? dout : 0;
					if (!din || !dout)
						continue;
					cblas_zgemm(CblasColMajor,
						    CblasNoTrans, CblasNoTrans,
						    dl, dout, din, &one,
						    X + n2 * slot, dl,
						    mps_block(m, i + j, s, qq),
						    din, &zero, X + n2 * ns, dl);
				}
			}
		}
		for (int a = 0; a < d; a++)
			for (int b = 0; b < d; b++) {
				int sa = d + a, sb = d + b;
				/* pattern bit order: first site is the most
				 * significant bit, as in the basis index */
				if (popcount_ul((unsigned long)a) !=
					    popcount_ul((unsigned long)b) ||
				    !cols[sa] || !cols[sb])
					continue;
				kz_cplx dot;
				cblas_zdotc_sub(dl * cols[sa], X + n2 * sb, 1,
						X + n2 * sa, 1, &dot);
				rho[a + d * b] += dot;
			}
	}
out:
	free(X);
	free(cols);
	return rc;
}

int mps_rho2(const mps_t *m, int i, kz_cplx rho[16], char *err)
{
	return rho_k(m, i, 2, rho, err);
}

int mps_rho3(const mps_t *m, int i, kz_cplx rho[64], char *err)
{
	return rho_k(m, i, 3, rho, err);
}
