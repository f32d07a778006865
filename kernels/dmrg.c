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
#include "dmrg.h"

#include "mps_impl.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Schmidt values below this are double-precision noise of the SVD of a
 * normalised state (the floor tebd.c uses too). */
#define SV_FLOOR 1e-14
/* Weight of the random admixture to the first sweep's Lanczos start. */
#define NOISE 1e-3

typedef struct {
	double *data;
	size_t cap;
	size_t *off;
} blocks_t;

typedef struct {
	double s;
	int k;
} sv_t;

typedef struct {
	const chain_t *c;
	dmrg_params_t p;
	int L, nup, qmax;
	char *err;
	int *qlo, *nq; /* [L+1] */
	int *dim;      /* [(L+1) * qmax] */
	blocks_t *site, spare;   /* site off: [2 * qmax] */
	blocks_t *left, *right;  /* [L+1], off: [3 * qmax] */
	double **lam;  /* [L+1] Schmidt values, filled by to_vidal() */
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
	sv_t *sel;
	size_t sel_cap;
	size_t *uoff, *soff, *vtoff; /* [qmax] */
	long matvecs;
	double t_lanczos, t_split, t_env;
	int *mn, *keep, *olddim;     /* [qmax] */
} dmrg_t;

#define RESERVE(buf, cap, n)                                                \
	do {                                                                \
		size_t n_ = (n);                                            \
		if (kz_reserve((void **)&(buf), &(cap), n_ ? n_ : 1,        \
			       sizeof *(buf)))                              \
			return kz_err(w->err, KZ_ENOMEM,                    \
				      "dmrg: out of memory");               \
	} while (0)

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

/* ---- small helpers ------------------------------------------------------ */

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
static void mm(int ta, int tb, int m, int n, int k, double alpha,
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

static int site_layout(dmrg_t *w, blocks_t *st, int i)
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

/* xorshift64* [S. Vigna, ACM TOMS 42, 8 (2016)]: uniform in [-1, 1). */
static double rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	uint64_t r = *x * 0x2545F4914F6CDD1DULL;
	return (double)(r >> 11) * 0x1.0p-52 - 1.0;
}

/* ---- workspace ---------------------------------------------------------- */

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
	free(w->sel);
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
	w->mn = malloc(3 * (size_t)qm * sizeof(int));
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
		if ((rc = site_layout(w, &w->site[i], i)))
			return rc;
		*sblk(w, &w->site[i], i, up[i], q) = 1.0;
		q += up[i];
	}
	return KZ_OK;
}

/* ---- environments ------------------------------------------------------- */

/* Boundary environments: empty blocks, no operators. */
static int env_boundary(dmrg_t *w, blocks_t *e, int b)
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

/* left[i+1] from left[i] and the left-orthonormal A of site i. */
static int build_left(dmrg_t *w, int i)
{
	int b = i + 1, rc;
	const blocks_t *F = &w->left[i], *A = &w->site[i];
	blocks_t *E = &w->left[b];
	if ((rc = env_layout(w, E, b, NULL)))
		return rc;
	double J = i < w->L - 1 ? w->c->J[i] : 0;
	double D = i < w->L - 1 ? w->c->Delta[i] : 0;
	int dmx = 0, lmx = 0;
	for (int k = 0; k < w->nq[b]; k++)
		dmx = bdims(w, b)[k] > dmx ? bdims(w, b)[k] : dmx;
	for (int k = 0; k < w->nq[i]; k++)
		lmx = bdims(w, i)[k] > lmx ? bdims(w, i)[k] : lmx;
	RESERVE(w->t1, w->t1_cap, (size_t)lmx * dmx);
	RESERVE(w->t2, w->t2_cap, 2 * (size_t)dmx * dmx);
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
static int build_right(dmrg_t *w, int i)
{
	int rc;
	const blocks_t *F = &w->right[i + 1], *B = &w->site[i];
	blocks_t *E = &w->right[i];
	if ((rc = env_layout(w, E, i, NULL)))
		return rc;
	double J = i > 0 ? w->c->J[i - 1] : 0;
	double D = i > 0 ? w->c->Delta[i - 1] : 0;
	int dmx = 0, rmx = 0;
	for (int k = 0; k < w->nq[i]; k++)
		dmx = bdims(w, i)[k] > dmx ? bdims(w, i)[k] : dmx;
	for (int k = 0; k < w->nq[i + 1]; k++)
		rmx = bdims(w, i + 1)[k] > rmx ? bdims(w, i + 1)[k] : rmx;
	RESERVE(w->t1, w->t1_cap, (size_t)rmx * dmx);
	RESERVE(w->t2, w->t2_cap, 2 * (size_t)dmx * dmx);
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

/* ---- two-site problem --------------------------------------------------- */

static inline int blk_of(const dmrg_t *w, int i, int q, int s1, int s2)
{
	int k = q - w->qlo[i];
	if (k < 0 || k >= w->nq[i])
		return -1;
	return w->bidx[4 * k + 2 * s1 + s2];
}

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

/* y = H_eff x on sites i, i+1 (gather form: each block of y is written
 * by its own iteration). */
static void apply_h(const dmrg_t *w, int i, const double *x, double *y)
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

/* Lowest eigenpair of H_eff by Lanczos with full reorthogonalisation
 * (classical Gram-Schmidt applied twice, as matrix-vector products) from
 * the start vector in kry[0..n); the normalised Ritz vector goes to gs.
 * Stops at residual ||H x - theta x|| = beta_j |y_j| < lanczos_tol, at an
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
		apply_h(w, i, v, f);
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
		if (res < w->p.lanczos_tol || j + 1 >= m || (size_t)j + 1 >= n ||
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

static int cmp_sv(const void *a, const void *b)
{
	double x = ((const sv_t *)a)->s, y = ((const sv_t *)b)->s;
	return (x < y) - (x > y); /* descending */
}

/* SVD of the column-major mr x nc matrix in w->a (destroyed) into u, s, vt
 * at the given offsets: divide and conquer, QR iteration as fallback. */
static int svd(dmrg_t *w, int mr, int nc, size_t uo, size_t so, size_t vto)
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

/* Split the ground vector gs of sites i, i+1 by one SVD per charge c of the
 * middle bond: rows (q = c - s1, s1), columns (s2, r = c + s2); keep the chi
 * largest Schmidt values over all sectors that are >= max(cutoff, floor),
 * renormalise.  dir > 0: A_i = U, X_{i+1} = S V^T (centre moves right);
 * dir < 0: X_i = U S, B_{i+1} = V^T. */
static int split(dmrg_t *w, int i, int dir, int chi, double *disc)
{
	int b = i + 1, nq = w->nq[b], qlo = w->qlo[b], rc;
	size_t nu = 0, ns = 0, nvt = 0, amax = 0;
	for (int k = 0; k < nq; k++) {
		int c = qlo + k;
		int mr = bdim(w, i, c) + bdim(w, i, c - 1);
		int nc = bdim(w, i + 2, c) + bdim(w, i + 2, c + 1);
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
	RESERVE(w->sel, w->sel_cap, ns);
	RESERVE(w->a, w->a_cap, amax);
	int nsel = 0;
	double tot = 0;
	for (int k = 0; k < nq; k++) {
		int c = qlo + k, mn = w->mn[k];
		if (!mn)
			continue;
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
			double *dst = w->a + (s1 ? r0 : 0) +
				      (size_t)mr * (s2 ? c0 : 0);
			for (int col = 0; col < dr; col++)
				memcpy(dst + (size_t)mr * col, X + (size_t)dl * col,
				       (size_t)dl * sizeof(double));
		}
		if ((rc = svd(w, mr, nc, w->uoff[k], w->soff[k], w->vtoff[k])))
			return rc;
		for (int a = 0; a < mn; a++) {
			double sv = w->s[w->soff[k] + a];
			tot += sv * sv;
			w->sel[nsel].s = sv;
			w->sel[nsel].k = k;
			nsel++;
		}
	}
	if (!(tot > 0) || !isfinite(tot))
		return kz_err(w->err, KZ_ENUM,
			      "dmrg: bond %d: two-site state has norm^2 %g", i,
			      tot);
	qsort(w->sel, (size_t)nsel, sizeof *w->sel, cmp_sv);
	double thr = (w->p.cutoff > SV_FLOOR ? w->p.cutoff : SV_FLOOR) *
		     sqrt(tot);
	int nkeep = 0;
	while (nkeep < nsel && nkeep < chi && w->sel[nkeep].s >= thr)
		nkeep++;
	if (nkeep == 0)
		nkeep = 1;
	int *kk = bdims(w, b);
	memset(kk, 0, (size_t)nq * sizeof(int));
	double kept = 0;
	for (int a = 0; a < nkeep; a++) {
		kk[w->sel[a].k]++;
		kept += w->sel[a].s * w->sel[a].s;
	}
	*disc = (tot - kept) / tot > 0 ? (tot - kept) / tot : 0;
	double nk = 1 / sqrt(kept);
	/* new bond b; sites i and i+1 around it */
	if ((rc = site_layout(w, &w->site[i], i)) ||
	    (rc = site_layout(w, &w->site[i + 1], i + 1)))
		return rc;
	for (int k = 0; k < nq; k++) {
		int c = qlo + k, kp = kk[k], mn = w->mn[k];
		if (!kp)
			continue;
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
				const double *src = U + (size_t)mr * a +
						    (s1 ? r0 : 0);
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
						VT[a + (size_t)mn *
							       (col + (s2 ? c0 : 0))];
		}
	}
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
	rc = dir > 0 ? build_left(w, i) : build_right(w, i + 1);
	double t3 = kz_wtime();
	w->t_lanczos += t1 - t0;
	w->t_split += t2 - t1;
	w->t_env += t3 - t2;
	return rc;
}

/* ---- Vidal form --------------------------------------------------------- */

/* From C_0 B_1 ... B_{L-1} (all B right-orthonormal) to the Schmidt bases:
 * at each bond b, left to right, the SVD of M = Lambda_{b-1} B_{b-1} (rows
 * (left Schmidt state, s), columns the right basis of bond b) is U S W^T;
 * S are the Schmidt values of bond b, and the orthogonal rotation W of the
 * bond's basis (B_{b-1} <- B_{b-1} W, B_b <- W^T B_b) keeps every B
 * right-orthonormal without dividing by any Schmidt value [G. Vidal, PRL
 * 91, 147902 (2003); Hastings, J. Math. Phys. 50, 095207 (2009)].  Values
 * below SV_FLOOR carry no weight and their states are dropped. */
static int to_vidal(dmrg_t *w)
{
	int L = w->L, rc;
	/* bond 0 and L: one state, Lambda = 1; normalise C_0 into B_0 */
	for (int b = 0; b <= L; b += L) {
		RESERVE(w->lam[b], w->lam_cap[b], 1);
		w->lam[b][0] = 1;
	}
	{
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
	}
	for (int b = 1; b < L; b++) {
		int nq = w->nq[b], qlo = w->qlo[b];
		size_t ns = 0, nvt = 0, amax = 0, nu = 0;
		for (int k = 0; k < nq; k++) {
			int c = qlo + k, d = bdim(w, b, c);
			int mr = bdim(w, b - 1, c) + bdim(w, b - 1, c - 1);
			int mn = mr < d ? mr : d;
			w->mn[k] = mn;
			w->soff[k] = ns;
			w->vtoff[k] = nvt;
			w->uoff[k] = nu;
			ns += (size_t)mn;
			nvt += (size_t)mn * d;
			nu += (size_t)mr * mn;
			if ((size_t)mr * d > amax)
				amax = (size_t)mr * d;
		}
		RESERVE(w->u, w->u_cap, nu);
		RESERVE(w->s, w->s_cap, ns);
		RESERVE(w->vt, w->vt_cap, nvt);
		RESERVE(w->a, w->a_cap, amax);
		double tot = 0;
		for (int k = 0; k < nq; k++) {
			int c = qlo + k, d = bdim(w, b, c), mn = w->mn[k];
			if (!mn)
				continue;
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
				const double *X =
					sblk(w, &w->site[b - 1], b - 1, s, c - s);
				for (int col = 0; col < d; col++)
					for (int r = 0; r < dl; r++)
						w->a[(s ? r0 : 0) + r +
						     (size_t)mr * col] =
							lam[lo + r] *
							X[r + (size_t)dl * col];
			}
			if ((rc = svd(w, mr, d, w->uoff[k], w->soff[k],
				      w->vtoff[k])))
				return rc;
			for (int a = 0; a < mn; a++)
				tot += w->s[w->soff[k] + a] * w->s[w->soff[k] + a];
		}
		if (!(tot > 0) || !isfinite(tot))
			return kz_err(w->err, KZ_ENUM,
				      "dmrg: bond %d: norm^2 %g in the Vidal "
				      "conversion", b, tot);
		double nrm = sqrt(tot);
		int total = 0;
		for (int k = 0; k < nq; k++) {
			int kp = 0;
			while (kp < w->mn[k] &&
			       w->s[w->soff[k] + kp] >= SV_FLOOR * nrm)
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
		/* B_{b-1} <- B_{b-1} W and B_b <- W^T B_b; W^T = the first
		 * keep rows of V^T, leading dimension mn */
		for (int side = 0; side < 2; side++) {
			int site = b - 1 + side;
			if ((rc = site_layout(w, &w->spare, site)))
				return rc;
			for (int s = 0; s < 2; s++)
				for (int kq = 0; kq < w->nq[site]; kq++) {
					int q = w->qlo[site] + kq;
					int c = side ? q : q + s; /* bond b */
					int k = c - qlo;
					if (k < 0 || k >= nq || !w->keep[k])
						continue;
					int kp = w->keep[k], od = w->olddim[k];
					int mn = w->mn[k];
					const double *VT = w->vt + w->vtoff[k];
					if (!side) {
						int dl = bdim(w, site, q);
						if (!dl)
							continue;
						/* old block dl x od, uses old
						 * offsets of site */
						cblas_dgemm(
							CblasColMajor,
							CblasNoTrans,
							CblasTrans, dl, kp, od,
							1,
							sblk(w, &w->site[site],
							     site, s, q),
							dl, VT, mn, 0,
							sblk(w, &w->spare, site,
							     s, q),
							dl);
					} else {
						int dr = bdim(w, site + 1,
							      q + s);
						if (!dr)
							continue;
						cblas_dgemm(
							CblasColMajor,
							CblasNoTrans,
							CblasNoTrans, kp, dr,
							od, 1, VT, mn,
							sblk(w, &w->site[site],
							     site, s, q),
							od, 0,
							sblk(w, &w->spare, site,
							     s, q),
							kp);
					}
				}
			blocks_t t = w->site[site];
			w->site[site] = w->spare;
			w->spare = t;
		}
	}
	return KZ_OK;
}

/* The result as an mps_t (complex copy of the real Vidal tensors). */
static int to_mps(dmrg_t *w, const int *up, mps_t **out)
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

/* ---- honest energy and variance by MPO contraction ---------------------- */

/* One nonzero entry of the MPO W_i[from][to] = coefficient times a spin
 * operator that maps |s> to |s + shift> with weight c[s]. */
typedef struct {
	int from, to, shift;
	double c[2];
} mpo_el_t;

/* Charge shift carried by MPO channel a: 0 identity, 1 S+ open, 2 S- open,
 * 3 Sz open, 4 complete. */
static const int ch_shift[5] = {0, 1, -1, 0, 0};

/* W_i of H - e (the constant spread as -e/L on every site), lower
 * triangular: the term of bond i-1 closes on site i. */
static int mpo_site(const chain_t *c, int i, double e, mpo_el_t *el)
{
	double J = i > 0 ? c->J[i - 1] : 0, D = i > 0 ? c->Delta[i - 1] : 0;
	double x = -e / c->L;
	const mpo_el_t w[9] = {
		{0, 0, 0, {1, 1}},           {0, 1, 1, {1, 0}},
		{0, 2, -1, {0, 1}},          {0, 3, 0, {-0.5, 0.5}},
		{0, 4, 0, {x, x}},           {1, 4, -1, {0, 0.5 * J}},
		{2, 4, 1, {0.5 * J, 0}},     {3, 4, 0, {-0.5 * J * D, 0.5 * J * D}},
		{4, 4, 0, {1, 1}},
	};
	memcpy(el, w, sizeof w);
	return 9;
}

/* <psi| O_top O_bot |psi> with O = H - e (layer on) or the identity (layer
 * off), contracted left to right through E[(a, c)][q]: bra charge q +
 * shift(a) + shift(c) by ket charge q.  No canonical form is assumed. */
static int mpo_contract(const mps_t *m, const chain_t *c, double e, int top,
			int bot, double *val, char *err)
{
	int L = m->L, rc = KZ_OK;
	int nt = top ? 5 : 1, nb = bot ? 5 : 1, npc = nt * nb;
	int qmax = m->nup + 1;
	static const mpo_el_t ident = {0, 0, 0, {1, 1}};
	mpo_el_t elt[9], elb[9];
	int net = 1, neb = 1;
	kz_cplx *E = NULL, *F = NULL, *T = NULL;
	size_t ecap = 0, fcap = 0, tcap = 0;
	size_t *offbuf = malloc(2 * (size_t)npc * qmax * sizeof(size_t));
	char *actbuf = calloc(2 * (size_t)npc, 1);
	if (!offbuf || !actbuf) {
		rc = kz_err(err, KZ_ENOMEM, "dmrg: out of memory");
		goto out;
	}
	size_t *eoff = offbuf, *foff = offbuf + (size_t)npc * qmax;
	char *act = actbuf, *fact = actbuf + npc;
#define SH(pc) ((top ? ch_shift[(pc) / nb] : 0) + (bot ? ch_shift[(pc) % nb] : 0))
	/* layout of bond b into off; returns the size */
#define LAYOUT(off, b, tot)                                                 \
	do {                                                                \
		const mps_bond_t *bd_ = &m->bond[b];                        \
		tot = 0;                                                    \
		for (int pc_ = 0; pc_ < npc; pc_++)                         \
			for (int k_ = 0; k_ < bd_->nq; k_++) {              \
				int q_ = bd_->qlo + k_;                     \
				off[(size_t)pc_ * qmax + k_] = tot;         \
				tot += (size_t)bd_->dim[k_] *               \
				       mps_qdim(bd_, q_ + SH(pc_));         \
			}                                                   \
	} while (0)
	size_t tot;
	LAYOUT(eoff, 0, tot);
	if (kz_reserve((void **)&E, &ecap, tot + 1, sizeof(kz_cplx))) {
		rc = kz_err(err, KZ_ENOMEM, "dmrg: out of memory");
		goto out;
	}
	E[0] = 1; /* channel (0, 0), charge 0, 1 x 1 */
	act[0] = 1;
	int mx = mps_max_bond_dim(m);
	if (kz_reserve((void **)&T, &tcap, (size_t)mx * mx + 1,
		       sizeof(kz_cplx))) {
		rc = kz_err(err, KZ_ENOMEM, "dmrg: out of memory");
		goto out;
	}
	for (int i = 0; i < L; i++) {
		const mps_bond_t *lb = &m->bond[i], *rb = &m->bond[i + 1];
		if (top)
			net = mpo_site(c, i, e, elt);
		else
			elt[0] = ident;
		if (bot)
			neb = mpo_site(c, i, e, elb);
		else
			elb[0] = ident;
		LAYOUT(foff, i + 1, tot);
		if (kz_reserve((void **)&F, &fcap, tot + 1, sizeof(kz_cplx))) {
			rc = kz_err(err, KZ_ENOMEM, "dmrg: out of memory");
			goto out;
		}
		memset(F, 0, tot * sizeof(kz_cplx));
		memset(fact, 0, (size_t)npc);
		for (int pc = 0; pc < npc; pc++) {
			if (!act[pc])
				continue;
			int a = pc / nb, cb = pc % nb;
			for (int k = 0; k < lb->nq; k++) {
				int q = lb->qlo + k, dq = lb->dim[k];
				int p = q + SH(pc), dp = mps_qdim(lb, p);
				if (!dq || !dp)
					continue;
				const kz_cplx *Em = E + eoff[(size_t)pc * qmax + k];
				for (int s = 0; s < 2; s++) {
					int dr = mps_qdim(rb, q + s);
					if (!dr)
						continue;
					const kz_cplx one = 1, zero = 0;
					cblas_zgemm(CblasColMajor, CblasNoTrans,
						    CblasNoTrans, dp, dr, dq, &one,
						    Em, dp, mps_block(m, i, s, q),
						    dq, &zero, T, dp);
					for (int x = 0; x < net; x++) {
						if (elt[x].from != a)
							continue;
						for (int y = 0; y < neb; y++) {
							if (elb[y].from != cb)
								continue;
							int sm = s + elb[y].shift;
							if (sm < 0 || sm > 1 ||
							    elb[y].c[s] == 0)
								continue;
							int sb = sm + elt[x].shift;
							if (sb < 0 || sb > 1 ||
							    elt[x].c[sm] == 0)
								continue;
							int db = mps_qdim(rb, p + sb);
							if (!db)
								continue;
							int pn = elt[x].to * nb +
								 elb[y].to;
							kz_cplx cf = elb[y].c[s] *
								     elt[x].c[sm];
							kz_cplx *Fm =
								F +
								foff[(size_t)pn * qmax +
								     q + s - rb->qlo];
							cblas_zgemm(
								CblasColMajor,
								CblasConjTrans,
								CblasNoTrans, db,
								dr, dp, &cf,
								mps_block(m, i,
									  sb, p),
								dp, T, dp,
								&one, Fm, db);
							fact[pn] = 1;
						}
					}
				}
			}
		}
		kz_cplx *x = E;
		E = F;
		F = x;
		size_t xc = ecap;
		ecap = fcap;
		fcap = xc;
		size_t *xo = eoff;
		eoff = foff;
		foff = xo;
		char *xa = act;
		act = fact;
		fact = xa;
	}
	{
		int pe = (top ? 4 : 0) * nb + (bot ? 4 : 0);
		*val = act[pe] ? creal(E[eoff[(size_t)pe * qmax]]) : 0;
	}
#undef LAYOUT
#undef SH
out:
	free(E);
	free(F);
	free(T);
	free(offbuf);
	free(actbuf);
	return rc;
}

int dmrg_energy_variance(const mps_t *m, const chain_t *c, double *energy,
			 double *variance, char *err)
{
	if (!m || !c || !energy)
		return kz_err(err, KZ_EINVAL, "dmrg_energy_variance: NULL "
					      "argument");
	if (m->L != c->L)
		return kz_err(err, KZ_EINVAL,
			      "dmrg_energy_variance: state has L=%d, chain "
			      "L=%d", m->L, c->L);
	double n2, h, v;
	int rc;
	if ((rc = mpo_contract(m, c, 0, 0, 0, &n2, err)))
		return rc;
	if (!(n2 > 0) || !isfinite(n2))
		return kz_err(err, KZ_ENUM,
			      "dmrg_energy_variance: norm^2 %g", n2);
	if ((rc = mpo_contract(m, c, 0, 1, 0, &h, err)))
		return rc;
	*energy = h / n2;
	if (variance) {
		/* <(H - E)^2> directly: no cancellation between <H^2> and E^2 */
		if ((rc = mpo_contract(m, c, *energy, 1, 1, &v, err)))
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
	    (rc = env_boundary(&w, &w.left[0], 0)) ||
	    (rc = env_boundary(&w, &w.right[L], L)))
		goto out;
	for (int b = L - 1; b >= 1; b--)
		if ((rc = build_right(&w, b)))
			goto out;
	double eprev = NAN;
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
	if ((rc = to_vidal(&w)) || (rc = to_mps(&w, up, &m)) ||
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
