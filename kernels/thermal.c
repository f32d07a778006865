/* thermal: equations of state by purification, and their inversion (see
 * thermal.h for the ensemble, the layout of the purified MPS and the
 * measurements).
 *
 * Imaginary time.  |psi(beta)> = exp(-beta K/2)|psi(0)>, K = sum_n k_n, is
 * built from symmetric Trotter steps of exp(-tau K) (tau = dtau or less, of
 * the sign of beta) exactly as tebd.c builds exp(-i H dt): K = K_even +
 * K_odd over physical bonds, Strang or Omelyan-Mryglod-Folk 4th order,
 * consecutive even half-layers merged.  A physical bond (j, j+1) lives on MPS
 * sites 2j and 2j+2 with the ancilla 2j+1 in between, so its gate is applied
 * as swap(2j+1, 2j+2), gate on (2j, 2j+1), swap back; gates of one layer
 * touch disjoint MPS sites 2j..2j+2.
 *
 * The field.  Sz_tot commutes with every h_n, so exp(-tau (H - mu Sz_tot)) =
 * exp(-tau H) exp(tau mu Sz_tot) exactly.  The even-bond layers of one step
 * have coefficients summing to 1 and, N being even, cover every physical site
 * exactly once; so the even-bond gates carry k_n = h_n - mu (Sz_n +
 * Sz_{n+1}) and the odd ones k_n = h_n.  Each even layer then equals
 * exp(-c tau H_even) exp(c tau mu Sz_tot), whose field factor commutes with
 * everything: the field adds no Trotter error and is uniform up to the
 * ends.
 *
 * Canonical form.  tebd_apply keeps the Vidal/Hastings form exact only for
 * unitary gates; with exp(-tau k) the right-orthonormality of the updated
 * left tensor is off by O(tau) until the next layer re-orthonormalises it.
 * The state B_0 ... B_{L-1} itself stays exact (up to truncation), so every
 * measurement here is a full contraction normalised by the trace, never the
 * canonical-form shortcut of mps_rho3.
 */
#include "thermal.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "mps_impl.h"
#include "obs.h"
#include "tebd.h"

/* ---- parameters -------------------------------------------------------- */

void thermal_params_default(thermal_params_t *p)
{
	p->J = 1.0;
	p->delta = 0.0;
	p->n_sites = 48;
	p->chi_max = 128;
	p->cutoff = 1e-10;
	p->dtau = 0.05;
	p->order = 4;
	p->threads = 1;
}

static int check_params(const thermal_params_t *p, char *err)
{
	if (!p)
		return kz_err(err, KZ_EINVAL, "thermal: NULL parameters");
	if (!isfinite(p->J) || p->J == 0)
		return kz_err(err, KZ_EINVAL,
			      "thermal: J=%g: expected a finite non-zero "
			      "number",
			      p->J);
	if (!isfinite(p->delta))
		return kz_err(err, KZ_EINVAL,
			      "thermal: delta=%g: expected a finite number",
			      p->delta);
	if (p->n_sites < 6 || p->n_sites % 2 || p->n_sites > 100000)
		return kz_err(err, KZ_EINVAL,
			      "thermal: n_sites=%d: expected an even number "
			      ">= 6",
			      p->n_sites);
	if (p->chi_max < 1)
		return kz_err(err, KZ_EINVAL,
			      "thermal: chi_max=%d: expected >= 1",
			      p->chi_max);
	if (!(p->cutoff >= 0) || !(p->cutoff < 1))
		return kz_err(err, KZ_EINVAL,
			      "thermal: cutoff=%g: expected 0 <= cutoff < 1",
			      p->cutoff);
	if (!(p->dtau > 0) || !(p->dtau <= 1))
		return kz_err(err, KZ_EINVAL,
			      "thermal: dtau=%g: expected 0 < dtau <= 1",
			      p->dtau);
	if (p->order != 2 && p->order != 4)
		return kz_err(err, KZ_EINVAL,
			      "thermal: Trotter order %d: expected 2 or 4",
			      p->order);
	if (p->threads < 1 || p->threads > 1024)
		return kz_err(err, KZ_EINVAL,
			      "thermal: threads=%d: expected 1..1024",
			      p->threads);
	return KZ_OK;
}

/* ---- Trotter schemes (coefficients as in tebd.c) ----------------------- */

#define OMF_XI 0.1786178958448091
#define OMF_LAMBDA (-0.2123418310626054)
#define OMF_CHI (-0.06626458266981849)

/* exponentials alternating even, odd, ..., even bonds */
typedef struct {
	int n;
	double a[9];
} scheme_t;

static const scheme_t strang = {3, {0.5, 1.0, 0.5}};
/* Omelyan, Mryglod, Folk, Comput. Phys. Commun. 146, 188 (2002), Eq. (20);
 * negative coefficients are harmless in imaginary time on a finite chain
 * (they are exp(+|c| tau k) with |c| tau small). */
static const scheme_t omelyan = {
	9,
	{OMF_XI, (1 - 2 * OMF_LAMBDA) / 2, OMF_CHI, OMF_LAMBDA,
	 1 - 2 * (OMF_CHI + OMF_XI), OMF_LAMBDA, OMF_CHI,
	 (1 - 2 * OMF_LAMBDA) / 2, OMF_XI}};

/* ---- gates (basis 2 s_i + s_{i+1}, column-major g[r + 4c]) ------------- */

/* beta = 0 pair: |10> -> (|10> + |01>)/sqrt2 (physical up with ancilla up,
 * plus both down, in the flipped ancilla labels).  Only the (|01>, |10>)
 * block is non-zero; tebd_apply renormalises. */
static void gate_pair(kz_cplx g[16])
{
	memset(g, 0, 16 * sizeof(kz_cplx));
	g[1 + 4 * 2] = g[2 + 4 * 2] = M_SQRT1_2;
	g[1 + 4 * 1] = g[2 + 4 * 1] = M_SQRT1_2;
}

static void gate_swap(kz_cplx g[16])
{
	memset(g, 0, 16 * sizeof(kz_cplx));
	g[0] = g[15] = 1;
	g[1 + 4 * 2] = g[2 + 4 * 1] = 1;
}

/* exp(-tau k), k = h - f (Sz_i + Sz_{i+1}), h = J (SxSx + SySy + D SzSz):
 * |00> has k = J D/4 + f, |11> has J D/4 - f, and on (|01>, |10>)
 * k = -J D/4 + (J/2) sigma_x, so exp(-tau k) = e^{tau J D/4}
 * (cosh(tau J/2) - sinh(tau J/2) sigma_x) there. */
static void gate_bond(kz_cplx g[16], double J, double D, double f,
		      double tau)
{
	memset(g, 0, 16 * sizeof(kz_cplx));
	g[0] = exp(-tau * (J * D / 4 + f));
	g[15] = exp(-tau * (J * D / 4 - f));
	double e = exp(tau * J * D / 4);
	g[1 + 4 * 1] = g[2 + 4 * 2] = e * cosh(tau * J / 2);
	g[1 + 4 * 2] = g[2 + 4 * 1] = -e * sinh(tau * J / 2);
}

/* ---- the purifier ------------------------------------------------------ */

typedef struct {
	thermal_params_t p;
	const scheme_t *sc;
	chain_t *chain;   /* 2N sites; its couplings are not used */
	tebd_t *tebd;
	mps_t *m;
	double disc;      /* discarded weight so far */
} pur_t;

static void pur_free(pur_t *u)
{
	tebd_destroy(&u->tebd);
	chain_destroy(&u->chain);
	mps_destroy(&u->m);
}

static int pur_apply(pur_t *u, int i, const kz_cplx g[16], char *err)
{
	double d = 0;
	int rc = tebd_apply(u->tebd, u->m, i, g, &d, err);
	u->disc += d;
	return rc;
}

/* The beta = 0 state: product of (|10> + |01>)/sqrt2 on MPS pairs. */
static int pur_init(pur_t *u, const thermal_params_t *p, char *err)
{
	int rc = KZ_OK, N = p->n_sites, L = 2 * N;
	double *J = NULL, *D = NULL;
	int *up = NULL;
	memset(u, 0, sizeof *u);
	u->p = *p;
	u->sc = p->order == 4 ? &omelyan : &strang;
	J = malloc((size_t)L * sizeof(double));
	D = malloc((size_t)L * sizeof(double));
	up = malloc((size_t)L * sizeof(int));
	if (!J || !D || !up) {
		rc = kz_err(err, KZ_ENOMEM, "thermal: out of memory");
		goto out;
	}
	for (int i = 0; i < L; i++) {
		J[i] = 1;
		D[i] = 0;
		up[i] = !(i % 2);
	}
	if ((rc = chain_create(&u->chain, L, J, D, err)))
		goto out;
	tebd_params_t tp;
	tebd_params_default(&tp);
	tp.dt = p->dtau; /* unused by tebd_apply */
	tp.chi_max = p->chi_max;
	tp.cutoff = p->cutoff;
	tp.threads = 1;
	if ((rc = tebd_create(&u->tebd, u->chain, &tp, err)))
		goto out;
	if ((rc = mps_create_product(&u->m, L, up, err)))
		goto out;
	kz_cplx g[16];
	gate_pair(g);
	for (int j = 0; j < N; j++)
		if ((rc = pur_apply(u, 2 * j, g, err)))
			goto out;
out:
	free(J);
	free(D);
	free(up);
	if (rc)
		pur_free(u);
	return rc;
}

/* One layer: exp(-tau k_j) on physical bonds j of parity par. */
static int pur_layer(pur_t *u, int par, double tau, double mu, char *err)
{
	kz_cplx g[16], sw[16];
	gate_swap(sw);
	gate_bond(g, u->p.J, u->p.delta, par ? 0.0 : mu, tau);
	int rc = KZ_OK;
	for (int j = par; j + 1 < u->p.n_sites; j += 2) {
		if ((rc = pur_apply(u, 2 * j + 1, sw, err)) ||
		    (rc = pur_apply(u, 2 * j, g, err)) ||
		    (rc = pur_apply(u, 2 * j + 1, sw, err)))
			return rc;
	}
	return rc;
}

/* From beta to beta + db (signed): |db|/2 of imaginary time in n equal
 * steps of at most dtau, the even half-layers of consecutive steps merged. */
static int pur_evolve(pur_t *u, double db, double mu, char *err)
{
	double tau = fabs(db) / 2;
	if (tau == 0)
		return KZ_OK;
	int n = (int)ceil(tau / u->p.dtau * (1 - 1e-12));
	if (n < 1)
		n = 1;
	double step = (db / 2) / n;
	const scheme_t *sc = u->sc;
	for (int s = 0; s < n; s++)
		for (int k = s ? 1 : 0; k < sc->n; k++) {
			double c = sc->a[k];
			if (k == sc->n - 1 && s + 1 < n)
				c += sc->a[0];
			int rc = pur_layer(u, k % 2, c * step, mu, err);
			if (rc)
				return rc;
		}
	return KZ_OK;
}

/* ---- reduced density matrices by full contraction ---------------------- */

/* An environment at one MPS bond: for a pair (a, b) of ket and bra
 * configurations of the open sites passed so far, the blocks
 *   F[q](beta, alpha) = sum over traced configurations of
 *                       conj(psi_bra(beta)) psi_ket(alpha),
 * alpha a ket bond state of charge q, beta a bra one of charge q - delta
 * (delta = ups in a minus ups in b), dims dim(q - delta) x dim(q). */
typedef struct {
	int delta;
	size_t *off;  /* [nq of the bond] */
	kz_cplx *data;
	size_t size;
} env_t;

static void env_free(env_t *e)
{
	free(e->off);
	free(e->data);
	memset(e, 0, sizeof *e);
}

static int env_init(env_t *e, const mps_bond_t *b, int delta)
{
	memset(e, 0, sizeof *e);
	e->delta = delta;
	e->off = malloc((size_t)b->nq * sizeof(size_t));
	if (!e->off)
		return KZ_ENOMEM;
	for (int k = 0; k < b->nq; k++) {
		int q = b->qlo + k;
		e->off[k] = e->size;
		e->size += (size_t)mps_qdim(b, q - delta) * (size_t)b->dim[k];
	}
	if (e->size && !(e->data = calloc(e->size, sizeof(kz_cplx))))
		return KZ_ENOMEM;
	return KZ_OK;
}

/* Fo += contribution of site i with ket spin s and bra spin t:
 *   Fo[q+s] += B^t[q - delta]^dag F[q] B^s[q].
 * Fo lives on bond i+1 with delta + s - t.  T is a grown workspace. */
static int env_step(const mps_t *m, int i, const env_t *F, int s, int t,
		    env_t *Fo, kz_cplx **T, size_t *Tcap)
{
	const mps_bond_t *bl = &m->bond[i], *br = &m->bond[i + 1];
	const kz_cplx one = 1, zero = 0;
	int d = F->delta;
	if (!F->size || !Fo->size)
		return KZ_OK;
	for (int k = 0; k < bl->nq; k++) {
		int q = bl->qlo + k;
		int dk = bl->dim[k], db = mps_qdim(bl, q - d);
		int dk1 = mps_qdim(br, q + s), db1 = mps_qdim(br, q - d + t);
		if (!dk || !db || !dk1 || !db1)
			continue;
		if (kz_reserve((void **)T, Tcap, (size_t)db * dk1,
			       sizeof(kz_cplx)))
			return KZ_ENOMEM;
		cblas_zgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, db,
			    dk1, dk, &one, F->data + F->off[k], db,
			    mps_block(m, i, s, q), dk, &zero, *T, db);
		cblas_zgemm(CblasColMajor, CblasConjTrans, CblasNoTrans, db1,
			    dk1, db, &one, mps_block(m, i, t, q - d), db, *T,
			    db, &one, Fo->data + Fo->off[q + s - br->qlo], db1);
	}
	return KZ_OK;
}

/* Right environment of bond i from R on bond i+1 (both delta 0, blocks
 * R[q](alpha, beta) = sum psi_ket(alpha) conj(psi_bra(beta))):
 *   Ro[q] = sum_s B^s[q] R[q+s] B^s[q]^dag. */
static int env_step_right(const mps_t *m, int i, const env_t *R, env_t *Ro,
			  kz_cplx **T, size_t *Tcap)
{
	const mps_bond_t *bl = &m->bond[i], *br = &m->bond[i + 1];
	const kz_cplx one = 1, zero = 0;
	for (int k = 0; k < bl->nq; k++) {
		int q = bl->qlo + k, dl = bl->dim[k];
		for (int s = 0; s < 2; s++) {
			int dr = mps_qdim(br, q + s);
			if (!dl || !dr)
				continue;
			if (kz_reserve((void **)T, Tcap, (size_t)dl * dr,
				       sizeof(kz_cplx)))
				return KZ_ENOMEM;
			const kz_cplx *B = mps_block(m, i, s, q);
			cblas_zgemm(CblasColMajor, CblasNoTrans, CblasNoTrans,
				    dl, dr, dr, &one, B, dl,
				    R->data + R->off[q + s - br->qlo], dr,
				    &zero, *T, dl);
			cblas_zgemm(CblasColMajor, CblasNoTrans,
				    CblasConjTrans, dl, dl, dr, &one, *T, dl,
				    B, dl, &one, Ro->data + Ro->off[k], dl);
		}
	}
	return KZ_OK;
}

static int popcount(int a)
{
	int c = 0;
	for (; a; a >>= 1)
		c += a & 1;
	return c;
}

#define RHO_MAX_SITES 4

/* Environments on bond i+1 from those on bond i (ncur pairs, w = 2^(open
 * sites so far), pair index a + w b): through a traced site each pair
 * continues with s = t; through an open one pair (a, b) branches into
 * (2a + s, 2b + t), index (2a + s) + 2w (2b + t).  nxt: zeroed array of
 * 4 ncur (open) or ncur entries. */
static int env_site(const mps_t *m, int i, int open, int w, const env_t *cur,
		    int ncur, env_t *nxt, kz_cplx **T, size_t *Tcap)
{
	int nnxt = open ? 4 * ncur : ncur;
	for (int p = 0; p < nnxt; p++) {
		int delta = open ? popcount(p % (2 * w)) - popcount(p / (2 * w))
				 : cur[p].delta;
		if (env_init(&nxt[p], &m->bond[i + 1], delta))
			return KZ_ENOMEM;
	}
	for (int p = 0; p < ncur; p++) {
		int a = p % w, b = p / w;
		for (int s = 0; s < 2; s++)
			for (int t = 0; t < 2; t++) {
				if (!open && s != t)
					continue;
				env_t *o = open ? &nxt[(2 * a + s) +
						       2 * w * (2 * b + t)]
						: &nxt[p];
				if (env_step(m, i, &cur[p], s, t, o, T, Tcap))
					return KZ_ENOMEM;
			}
	}
	return KZ_OK;
}

static void env_free_all(env_t **e, int *n)
{
	for (int p = 0; *e && p < *n; p++)
		env_free(&(*e)[p]);
	free(*e);
	*e = NULL;
	*n = 0;
}

int thermal_rho_sites(const mps_t *m, int n, const int *sites, kz_cplx *rho,
		      char *err)
{
	int rc = KZ_OK;
	env_t *cur = NULL, *nxt = NULL, R = {0}, R2 = {0};
	int ncur = 0, nnxt = 0;
	kz_cplx *T = NULL;
	size_t Tcap = 0;
	if (!m || !sites || !rho)
		return kz_err(err, KZ_EINVAL,
			      "thermal_rho_sites: NULL argument");
	if (n < 1 || n > RHO_MAX_SITES)
		return kz_err(err, KZ_EINVAL,
			      "thermal_rho_sites: %d sites: expected 1..%d", n,
			      RHO_MAX_SITES);
	const int L = m->L;
	for (int k = 0; k < n; k++)
		if (sites[k] < 0 || sites[k] >= L ||
		    (k && sites[k] <= sites[k - 1]))
			return kz_err(err, KZ_EINVAL,
				      "thermal_rho_sites: sites must increase "
				      "within [0, %d] (site %d at %d)",
				      L - 1, sites[k], k);
	const int D = 1 << n, last = sites[n - 1];

	/* left: bond 0 holds the single state of charge 0 */
	ncur = 1;
	cur = calloc(1, sizeof *cur);
	if (!cur || env_init(&cur[0], &m->bond[0], 0)) {
		rc = KZ_ENOMEM;
		goto out;
	}
	if (cur[0].size != 1) {
		rc = kz_err(err, KZ_EINVAL,
			    "thermal_rho_sites: malformed MPS (left bond)");
		goto out;
	}
	cur[0].data[0] = 1;
	for (int i = 0, k = 0; i <= last; i++) {
		int open = k < n && sites[k] == i;
		nnxt = open ? 4 * ncur : ncur;
		nxt = calloc((size_t)nnxt, sizeof *nxt);
		if (!nxt ||
		    env_site(m, i, open, 1 << k, cur, ncur, nxt, &T, &Tcap)) {
			rc = KZ_ENOMEM;
			goto out;
		}
		env_free_all(&cur, &ncur);
		cur = nxt;
		ncur = nnxt;
		nxt = NULL;
		nnxt = 0;
		k += open;
	}

	/* right: bond L holds the single state of charge nup */
	if (env_init(&R, &m->bond[L], 0)) {
		rc = KZ_ENOMEM;
		goto out;
	}
	if (R.size != 1) {
		rc = kz_err(err, KZ_EINVAL,
			    "thermal_rho_sites: malformed MPS (right bond)");
		goto out;
	}
	R.data[0] = 1;
	for (int i = L - 1; i > last; i--) {
		if (env_init(&R2, &m->bond[i], 0) ||
		    env_step_right(m, i, &R, &R2, &T, &Tcap)) {
			rc = KZ_ENOMEM;
			goto out;
		}
		env_free(&R);
		R = R2;
		memset(&R2, 0, sizeof R2);
	}

	/* rho[a + D b] = sum_q tr(F_ab[q] R[q]); only delta = 0 survives the
	 * traced right part */
	const mps_bond_t *bd = &m->bond[last + 1];
	double tr = 0;
	for (int p = 0; p < ncur; p++) {
		const env_t *F = &cur[p];
		int a = p % D, b = p / D;
		kz_cplx v = 0;
		for (int k = 0; F->delta == 0 && F->size && k < bd->nq; k++) {
			size_t d = (size_t)bd->dim[k];
			const kz_cplx *Fq = F->data + F->off[k];
			const kz_cplx *Rq = R.data + R.off[k];
			for (size_t al = 0; al < d; al++)
				for (size_t be = 0; be < d; be++)
					v += Fq[be + d * al] * Rq[al + d * be];
		}
		rho[a + D * b] = v;
		if (a == b)
			tr += creal(v);
	}
	if (!isfinite(tr) || !(tr > 0)) {
		rc = kz_err(err, KZ_ENUM,
			    "thermal_rho_sites: trace %g of the reduced "
			    "density matrix",
			    tr);
		goto out;
	}
	for (int a = 0; a < D * D; a++)
		rho[a] /= tr;
out:
	if (rc == KZ_ENOMEM)
		kz_err(err, rc, "thermal_rho_sites: out of memory");
	env_free_all(&cur, &ncur);
	env_free_all(&nxt, &nnxt);
	env_free(&R);
	env_free(&R2);
	free(T);
	return rc;
}

int thermal_centre_rho3(const mps_t *m, kz_cplx rho[64], char *err)
{
	if (!m || !rho)
		return kz_err(err, KZ_EINVAL,
			      "thermal_centre_rho3: NULL argument");
	int N = m->L / 2;
	if (N < 6 || N % 2)
		return kz_err(err, KZ_EINVAL,
			      "thermal_centre_rho3: MPS of %d sites is not a "
			      "purified chain of even N >= 6",
			      m->L);
	int c = N / 2;
	int sites[3] = {2 * (c - 1), 2 * c, 2 * (c + 1)};
	return thermal_rho_sites(m, 3, sites, rho, err);
}

/* Scale the state to norm 1 (site 0 carries the norm). */
static int normalise(mps_t *m, char *err)
{
	double nrm;
	int rc = mps_norm(m, &nrm, err);
	if (rc)
		return rc;
	if (!isfinite(nrm) || !(nrm > 0))
		return kz_err(err, KZ_ENUM, "thermal: state has norm %g", nrm);
	for (size_t k = 0; k < m->site[0].size; k++)
		m->site[0].data[k] /= nrm;
	return KZ_OK;
}

int thermal_purify(mps_t **out, const thermal_params_t *p, double beta,
		   double mu, double *discarded, char *err)
{
	if (!out)
		return kz_err(err, KZ_EINVAL, "thermal_purify: NULL argument");
	*out = NULL;
	int rc = check_params(p, err);
	if (rc)
		return rc;
	if (!isfinite(beta) || !isfinite(mu))
		return kz_err(err, KZ_EINVAL,
			      "thermal_purify: beta=%g, mu=%g: expected finite "
			      "numbers",
			      beta, mu);
	pur_t u;
	if ((rc = pur_init(&u, p, err)))
		return rc;
	if ((rc = pur_evolve(&u, beta, mu, err)) ||
	    (rc = normalise(u.m, err)))
		goto out;
	if (discarded)
		*discarded = u.disc;
	*out = u.m;
	u.m = NULL;
out:
	pur_free(&u);
	return rc;
}

/* ---- tables ------------------------------------------------------------ */

#define NV 2     /* e, sz per node */
#define NR 128   /* rho3 as 64 complex = 128 doubles per node */

struct thermal_table_s {
	thermal_params_t p;
	int nb, nm;
	double *beta, *mu;  /* [nb], [nm] */
	double *eos;        /* [NV * node], node = i + nb j */
	double *deos;       /* d/dbeta at the nodes */
	double *e, *sz;     /* [node], the same values for the accessors */
	kz_cplx *rho;       /* [64 * node] or NULL */
	kz_cplx *drho;
	int *mono;          /* [nm]: e strictly -1 decreasing, +1 increasing,
			     * 0 neither */
	int mu0;            /* row with mu = 0, or -1 */
	double *disc_mu;    /* [nm]: discarded weight of the two runs of each
			     * mu row */
};

static int check_grid(const double *x, int n, int nmin, const char *what,
		      char *err)
{
	if (!x || n < nmin)
		return kz_err(err, KZ_EINVAL,
			      "thermal: %d %s values: expected >= %d", n, what,
			      nmin);
	for (int i = 0; i < n; i++) {
		if (!isfinite(x[i]))
			return kz_err(err, KZ_EINVAL,
				      "thermal: %s[%d] = %g is not finite",
				      what, i, x[i]);
		if (i && !(x[i] > x[i - 1]))
			return kz_err(err, KZ_EINVAL,
				      "thermal: %s must increase strictly "
				      "(%s[%d] = %g after %g)",
				      what, what, i, x[i], x[i - 1]);
	}
	return KZ_OK;
}

static int table_alloc(thermal_table_t **out, const thermal_params_t *p,
		       const double *betas, int nb, const double *mus, int nm,
		       int with_rho, char *err)
{
	thermal_table_t *t = calloc(1, sizeof *t);
	if (!t)
		return kz_err(err, KZ_ENOMEM, "thermal: out of memory");
	if (p)
		t->p = *p;
	else
		thermal_params_default(&t->p);
	t->nb = nb;
	t->nm = nm;
	size_t nn = (size_t)nb * nm;
	t->beta = malloc((size_t)nb * sizeof(double));
	t->mu = malloc((size_t)nm * sizeof(double));
	t->eos = calloc(NV * nn, sizeof(double));
	t->deos = calloc(NV * nn, sizeof(double));
	t->e = calloc(nn, sizeof(double));
	t->sz = calloc(nn, sizeof(double));
	t->mono = calloc((size_t)nm, sizeof(int));
	t->disc_mu = calloc((size_t)nm, sizeof(double));
	if (with_rho) {
		t->rho = calloc(64 * nn, sizeof(kz_cplx));
		t->drho = calloc(64 * nn, sizeof(kz_cplx));
	}
	if (!t->beta || !t->mu || !t->eos || !t->deos || !t->e || !t->sz ||
	    !t->mono || !t->disc_mu ||
	    (with_rho && (!t->rho || !t->drho))) {
		thermal_table_destroy(&t);
		return kz_err(err, KZ_ENOMEM, "thermal: out of memory");
	}
	memcpy(t->beta, betas, (size_t)nb * sizeof(double));
	memcpy(t->mu, mus, (size_t)nm * sizeof(double));
	t->mu0 = -1;
	for (int j = 0; j < nm; j++)
		if (mus[j] == 0)
			t->mu0 = j;
	*out = t;
	return KZ_OK;
}

void thermal_table_destroy(thermal_table_t **pt)
{
	if (!pt || !*pt)
		return;
	thermal_table_t *t = *pt;
	free(t->beta);
	free(t->mu);
	free(t->eos);
	free(t->deos);
	free(t->e);
	free(t->sz);
	free(t->rho);
	free(t->drho);
	free(t->mono);
	free(t->disc_mu);
	free(t);
	*pt = NULL;
}

/* Slope weights at node i of x[0..n-1]: the derivative at x_i of the
 * Lagrange polynomial through the min(n, 5) nodes x[*start ..] nearest i
 * (centred where the grid allows), sum_m w[m] f[*start + m].
 *   L_p'(x_i) = prod_{r != p,i} (x_i - x_r) / prod_{r != p} (x_p - x_r),
 *   L_i'(x_i) = sum_{r != i} 1 / (x_i - x_r).  Returns the node count. */
static int fd_weights(const double *x, int n, int i, int *start, double w[5])
{
	int m = n < 5 ? n : 5;
	int s = i - m / 2;
	if (s < 0)
		s = 0;
	if (s > n - m)
		s = n - m;
	*start = s;
	for (int p = 0; p < m; p++) {
		int P = s + p;
		if (P == i) {
			double v = 0;
			for (int r = s; r < s + m; r++)
				if (r != i)
					v += 1 / (x[i] - x[r]);
			w[p] = v;
			continue;
		}
		double num = 1, den = 1;
		for (int r = s; r < s + m; r++) {
			if (r != P)
				den *= x[P] - x[r];
			if (r != P && r != i)
				num *= x[i] - x[r];
		}
		w[p] = num / den;
	}
	return m;
}

/* Node slopes along beta of nval values per node (f[nval * node + v]). */
static void beta_slopes(const thermal_table_t *t, int nval, const double *f,
			double *d)
{
	double w[5];
	int s;
	for (int j = 0; j < t->nm; j++)
		for (int i = 0; i < t->nb; i++) {
			int m = fd_weights(t->beta, t->nb, i, &s, w);
			size_t node = (size_t)i + (size_t)t->nb * j;
			for (int v = 0; v < nval; v++) {
				double a = 0;
				for (int k = 0; k < m; k++)
					a += w[k] *
					     f[(size_t)nval *
						       ((size_t)(s + k) +
							(size_t)t->nb * j) +
					       v];
				d[(size_t)nval * node + v] = a;
			}
		}
}

/* Fritsch-Carlson limiting of e's slopes on rows where e is strictly
 * monotone [F. N. Fritsch, R. E. Carlson, SIAM J. Numer. Anal. 17, 238
 * (1980)]: slopes of the wrong sign become 0, and on each interval
 * (alpha, beta) = (d_k, d_{k+1}) / secant is pulled into the circle of
 * radius 3, which makes each cubic piece monotone.  Smooth, well-sampled
 * data are left untouched. */
static void limit_energy(thermal_table_t *t)
{
	for (int j = 0; j < t->nm; j++) {
		const double *e = t->eos + (size_t)NV * t->nb * j;
		double *d = t->deos + (size_t)NV * t->nb * j;
		int sgn = 0;
		for (int i = 0; i + 1 < t->nb; i++) {
			double de = e[NV * (i + 1)] - e[NV * i];
			int si = de > 0 ? 1 : (de < 0 ? -1 : 0);
			if (!i)
				sgn = si;
			if (si == 0 || si != sgn) {
				sgn = 0;
				break;
			}
		}
		t->mono[j] = sgn;
		if (!sgn)
			continue;
		for (int i = 0; i + 1 < t->nb; i++) {
			double h = t->beta[i + 1] - t->beta[i];
			double sec = (e[NV * (i + 1)] - e[NV * i]) / h;
			double a = d[NV * i] / sec, b = d[NV * (i + 1)] / sec;
			if (a < 0)
				a = 0;
			if (b < 0)
				b = 0;
			double r2 = a * a + b * b;
			if (r2 > 9) {
				double tau = 3 / sqrt(r2);
				a *= tau;
				b *= tau;
			}
			d[NV * i] = a * sec;
			d[NV * (i + 1)] = b * sec;
		}
	}
}

static void table_finish(thermal_table_t *t)
{
	for (size_t n = 0; n < (size_t)t->nb * t->nm; n++) {
		t->e[n] = t->eos[NV * n];
		t->sz[n] = t->eos[NV * n + 1];
	}
	beta_slopes(t, NV, t->eos, t->deos);
	if (t->rho)
		beta_slopes(t, NR, (const double *)t->rho, (double *)t->drho);
	limit_energy(t);
}

/* One run: row j, direction dir = +1 (beta >= 0, from 0 up) or -1 (beta < 0,
 * from 0 down). */
static int table_run(thermal_table_t *t, int j, int dir, double *disc,
		     char *err)
{
	int i0, i1, di; /* node range in the order visited */
	if (dir > 0) {
		for (i0 = 0; i0 < t->nb && t->beta[i0] < 0; i0++)
			;
		i1 = t->nb;
		di = 1;
	} else {
		for (i0 = t->nb - 1; i0 >= 0 && t->beta[i0] >= 0; i0--)
			;
		i1 = -1;
		di = -1;
	}
	*disc = 0;
	if (i0 == i1 || i0 < 0 || i0 >= t->nb)
		return KZ_OK;
	pur_t u;
	int rc = pur_init(&u, &t->p, err);
	if (rc)
		return rc;
	double cur = 0, mu = t->mu[j];
	for (int i = i0; i != i1; i += di) {
		size_t node = (size_t)i + (size_t)t->nb * j;
		kz_cplx *rho = t->rho + 64 * node;
		if ((rc = pur_evolve(&u, t->beta[i] - cur, mu, err)) ||
		    (rc = thermal_centre_rho3(u.m, rho, err)))
			goto out;
		cur = t->beta[i];
		/* site-centred energy (thermal.h: cancels the open chain's
		 * bond alternation) */
		double J = t->p.J, D = t->p.delta;
		t->eos[NV * node] = 0.5 * (obs_rho3_bond_energy(rho, 0, J, D) +
					   obs_rho3_bond_energy(rho, 1, J, D));
		t->eos[NV * node + 1] = obs_rho3_sz(rho, 1);
	}
out:
	*disc = u.disc;
	pur_free(&u);
	return rc;
}

int thermal_table_create(thermal_table_t **out, const thermal_params_t *p,
			 const double *betas, int nbeta, const double *mus,
			 int nmu, char *err)
{
	if (!out)
		return kz_err(err, KZ_EINVAL,
			      "thermal_table_create: NULL table");
	*out = NULL;
	int rc;
	if ((rc = check_params(p, err)) ||
	    (rc = check_grid(betas, nbeta, 2, "beta", err)) ||
	    (rc = check_grid(mus, nmu, 1, "mu", err)))
		return rc;
	thermal_table_t *t = NULL;
	int nrun = 2 * nmu, *rcs = NULL;
	char *errs = NULL;
	double *disc = NULL;
	if ((rc = table_alloc(&t, p, betas, nbeta, mus, nmu, 1, err)))
		return rc;
	rcs = calloc((size_t)nrun, sizeof(int));
	errs = calloc((size_t)nrun, KZ_ERRLEN);
	disc = calloc((size_t)nrun, sizeof(double));
	if (!rcs || !errs || !disc) {
		rc = kz_err(err, KZ_ENOMEM, "thermal: out of memory");
		goto out;
	}
	/* runs write disjoint nodes; BLAS stays single-threaded inside
	 * (tebd_apply switches it per call, which is only race-free if it is
	 * already 1 everywhere) */
	int prev = openblas_get_num_threads();
	if (p->threads > 1)
		openblas_set_num_threads(1);
#pragma omp parallel for num_threads(p->threads) schedule(dynamic, 1)
	for (int r = 0; r < nrun; r++)
		rcs[r] = table_run(t, r / 2, r % 2 ? -1 : 1, &disc[r],
				   errs + (size_t)r * KZ_ERRLEN);
	if (p->threads > 1)
		openblas_set_num_threads(prev);
	for (int r = 0; r < nrun; r++) {
		t->disc_mu[r / 2] += disc[r];
		if (rcs[r] && !rc)
			rc = kz_err(err, rcs[r],
				    "thermal: mu=%g, beta %s 0: %s", mus[r / 2],
				    r % 2 ? "<" : ">=",
				    errs + (size_t)r * KZ_ERRLEN);
	}
	if (rc)
		goto out;
	table_finish(t);
out:
	free(rcs);
	free(errs);
	free(disc);
	if (rc)
		thermal_table_destroy(&t);
	*out = t;
	return rc;
}

int thermal_table_create_from(thermal_table_t **out, const thermal_params_t *p,
			      const double *betas, int nbeta,
			      const double *mus, int nmu, const double *e,
			      const double *sz, const kz_cplx *rho, char *err)
{
	if (!out)
		return kz_err(err, KZ_EINVAL,
			      "thermal_table_create_from: NULL table");
	*out = NULL;
	int rc;
	if ((p && (rc = check_params(p, err))) ||
	    (rc = check_grid(betas, nbeta, 2, "beta", err)) ||
	    (rc = check_grid(mus, nmu, 1, "mu", err)))
		return rc;
	if (!e || !sz)
		return kz_err(err, KZ_EINVAL,
			      "thermal_table_create_from: NULL e or sz");
	size_t nn = (size_t)nbeta * nmu;
	for (size_t k = 0; k < nn; k++)
		if (!isfinite(e[k]) || !isfinite(sz[k]))
			return kz_err(err, KZ_EINVAL,
				      "thermal_table_create_from: e or sz at "
				      "node %zu is not finite",
				      k);
	for (size_t k = 0; rho && k < 64 * nn; k++)
		if (!isfinite(creal(rho[k])) || !isfinite(cimag(rho[k])))
			return kz_err(err, KZ_EINVAL,
				      "thermal_table_create_from: rho at node "
				      "%zu is not finite",
				      k / 64);
	thermal_table_t *t = NULL;
	if ((rc = table_alloc(&t, p, betas, nbeta, mus, nmu, rho != NULL,
			      err)))
		return rc;
	for (size_t k = 0; k < nn; k++) {
		t->eos[NV * k] = e[k];
		t->eos[NV * k + 1] = sz[k];
	}
	if (rho)
		memcpy(t->rho, rho, 64 * nn * sizeof(kz_cplx));
	table_finish(t);
	*out = t;
	return KZ_OK;
}

int thermal_table_nbeta(const thermal_table_t *t) { return t ? t->nb : 0; }
int thermal_table_nmu(const thermal_table_t *t) { return t ? t->nm : 0; }
const double *thermal_table_betas(const thermal_table_t *t)
{
	return t ? t->beta : NULL;
}
const double *thermal_table_mus(const thermal_table_t *t)
{
	return t ? t->mu : NULL;
}
const thermal_params_t *thermal_table_params(const thermal_table_t *t)
{
	return t ? &t->p : NULL;
}
const kz_cplx *thermal_table_rho3(const thermal_table_t *t)
{
	return t ? t->rho : NULL;
}
double thermal_table_discarded(const thermal_table_t *t)
{
	double d = 0;
	for (int j = 0; t && j < t->nm; j++)
		d += t->disc_mu[j];
	return d;
}
const double *thermal_table_discarded_mu(const thermal_table_t *t)
{
	return t ? t->disc_mu : NULL;
}

const double *thermal_table_energy(const thermal_table_t *t)
{
	return t ? t->e : NULL;
}
const double *thermal_table_sz(const thermal_table_t *t)
{
	return t ? t->sz : NULL;
}

/* ---- interpolation ----------------------------------------------------- */

/* k with x[k] <= v <= x[k+1], or -1 outside [x[0], x[n-1]] (n >= 2). */
static int locate(const double *x, int n, double v)
{
	if (!(v >= x[0]) || !(v <= x[n - 1]))
		return -1;
	int lo = 0, hi = n - 1;
	while (hi - lo > 1) {
		int mid = (lo + hi) / 2;
		if (x[mid] <= v)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* cubic Hermite basis on t in [0, 1] and its t-derivative */
static void hermite(double t, double h[4], double dh[4])
{
	double t2 = t * t, t3 = t2 * t;
	h[0] = 2 * t3 - 3 * t2 + 1;
	h[1] = t3 - 2 * t2 + t;
	h[2] = -2 * t3 + 3 * t2;
	h[3] = t3 - t2;
	dh[0] = 6 * t2 - 6 * t;
	dh[1] = 3 * t2 - 4 * t + 1;
	dh[2] = -6 * t2 + 6 * t;
	dh[3] = 3 * t2 - 2 * t;
}

#define MAXROWS 12

/* Weights of the mu rows: value(mu) = sum_r c[r] v_{j0 + r}, d/dmu =
 * sum_r dc[r] v_{j0 + r}, where v_j are the row values at the same beta. */
static int mu_weights(const thermal_table_t *t, double mu, int *j0, int *nr,
		      double c[MAXROWS], double dc[MAXROWS], char *err)
{
	memset(c, 0, MAXROWS * sizeof(double));
	memset(dc, 0, MAXROWS * sizeof(double));
	if (t->nm == 1) {
		if (!(fabs(mu - t->mu[0]) <= 1e-12 * fmax(1, fabs(t->mu[0]))))
			return kz_err(err, KZ_EINVAL,
				      "thermal: mu=%g: the table holds only "
				      "mu=%g",
				      mu, t->mu[0]);
		*j0 = 0;
		*nr = 1;
		c[0] = 1;
		return KZ_OK;
	}
	int l = locate(t->mu, t->nm, mu);
	if (l < 0)
		return kz_err(err, KZ_EINVAL,
			      "thermal: mu=%g outside the table [%g, %g]", mu,
			      t->mu[0], t->mu[t->nm - 1]);
	double hm = t->mu[l + 1] - t->mu[l], h[4], dh[4], wl[5], wr[5];
	hermite((mu - t->mu[l]) / hm, h, dh);
	int sl, sr;
	int ml = fd_weights(t->mu, t->nm, l, &sl, wl);
	int mr = fd_weights(t->mu, t->nm, l + 1, &sr, wr);
	int lo = sl < l ? sl : l;
	int hi = sr + mr - 1 > l + 1 ? sr + mr - 1 : l + 1;
	*j0 = lo;
	*nr = hi - lo + 1;
	c[l - lo] += h[0];
	c[l + 1 - lo] += h[2];
	dc[l - lo] += dh[0] / hm;
	dc[l + 1 - lo] += dh[2] / hm;
	for (int m = 0; m < ml; m++) {
		c[sl + m - lo] += hm * h[1] * wl[m];
		dc[sl + m - lo] += dh[1] * wl[m];
	}
	for (int m = 0; m < mr; m++) {
		c[sr + m - lo] += hm * h[3] * wr[m];
		dc[sr + m - lo] += dh[3] * wr[m];
	}
	return KZ_OK;
}

/* Interpolate nval values per node (f, slopes d) at (beta, mu): out, and
 * (may be NULL) d/dbeta and d/dmu. */
static int interp(const thermal_table_t *t, double beta, double mu, int nval,
		  const double *f, const double *d, double *out, double *ob,
		  double *om, char *err)
{
	int k = locate(t->beta, t->nb, beta);
	if (k < 0)
		return kz_err(err, KZ_EINVAL,
			      "thermal: beta=%g outside the table [%g, %g]",
			      beta, t->beta[0], t->beta[t->nb - 1]);
	int j0, nr;
	double c[MAXROWS], dc[MAXROWS];
	int rc = mu_weights(t, mu, &j0, &nr, c, dc, err);
	if (rc)
		return rc;
	double hb = t->beta[k + 1] - t->beta[k], h[4], dh[4];
	hermite((beta - t->beta[k]) / hb, h, dh);
	for (int v = 0; v < nval; v++) {
		out[v] = 0;
		if (ob)
			ob[v] = 0;
		if (om)
			om[v] = 0;
	}
	for (int r = 0; r < nr; r++) {
		size_t n0 = (size_t)nval *
			    ((size_t)k + (size_t)t->nb * (size_t)(j0 + r));
		size_t n1 = n0 + (size_t)nval;
		for (int v = 0; v < nval; v++) {
			double row = h[0] * f[n0 + v] + h[1] * hb * d[n0 + v] +
				     h[2] * f[n1 + v] + h[3] * hb * d[n1 + v];
			double drow = (dh[0] * f[n0 + v] + dh[2] * f[n1 + v]) /
					      hb +
				      dh[1] * d[n0 + v] + dh[3] * d[n1 + v];
			out[v] += c[r] * row;
			if (ob)
				ob[v] += c[r] * drow;
			if (om)
				om[v] += dc[r] * row;
		}
	}
	return KZ_OK;
}

int thermal_eos_at(const thermal_table_t *t, double beta, double mu,
		   double *e, double *sz, char *err)
{
	if (!t)
		return kz_err(err, KZ_EINVAL, "thermal_eos_at: NULL table");
	double v[NV];
	int rc = interp(t, beta, mu, NV, t->eos, t->deos, v, NULL, NULL, err);
	if (rc)
		return rc;
	if (e)
		*e = v[0];
	if (sz)
		*sz = v[1];
	return KZ_OK;
}

int thermal_rho3_at(const thermal_table_t *t, double beta, double mu,
		    kz_cplx rho[64], char *err)
{
	if (!t || !rho)
		return kz_err(err, KZ_EINVAL, "thermal_rho3_at: NULL argument");
	if (!t->rho)
		return kz_err(err, KZ_EINVAL,
			      "thermal_rho3_at: the table holds no rho3");
	double v[NR];
	int rc = interp(t, beta, mu, NR, (const double *)t->rho,
			(const double *)t->drho, v, NULL, NULL, err);
	if (rc)
		return rc;
	/* the weights are real, so this is Hermitian up to rounding; make it
	 * exactly so */
	for (int a = 0; a < 8; a++)
		for (int b = 0; b < 8; b++) {
			const double *x = v + 2 * (a + 8 * b);
			const double *y = v + 2 * (b + 8 * a);
			rho[a + 8 * b] =
				0.5 * ((x[0] + y[0]) + I * (x[1] - y[1]));
		}
	return KZ_OK;
}

/* e on row j (a node row, so the mu interpolation is exact there) */
static double row_energy(const thermal_table_t *t, int j, int k, double u)
{
	double h[4], dh[4], hb = t->beta[k + 1] - t->beta[k];
	hermite(u, h, dh);
	size_t n0 = (size_t)NV * ((size_t)k + (size_t)t->nb * j);
	size_t n1 = n0 + NV;
	return h[0] * t->eos[n0] + h[1] * hb * t->deos[n0] +
	       h[2] * t->eos[n1] + h[3] * hb * t->deos[n1];
}

int thermal_beta_from_energy(const thermal_table_t *t, double e,
			     double *beta, char *err)
{
	if (!t || !beta)
		return kz_err(err, KZ_EINVAL,
			      "thermal_beta_from_energy: NULL argument");
	if (!isfinite(e))
		return kz_err(err, KZ_EINVAL,
			      "thermal_beta_from_energy: e=%g is not finite",
			      e);
	int j = t->mu0;
	if (j < 0)
		return kz_err(err, KZ_EINVAL,
			      "thermal_beta_from_energy: the table has no "
			      "mu = 0 row");
	if (t->mono[j] != -1)
		return kz_err(err, KZ_ENUM,
			      "thermal_beta_from_energy: e(beta) at mu = 0 is "
			      "not strictly decreasing on the table");
	const double *E = t->eos + (size_t)NV * t->nb * j;
	double emax = E[0], emin = E[NV * (t->nb - 1)];
	/* a value computed as an edge (e.g. a + (b - a)) may land a rounding
	 * step outside it: within THERMAL_EDGE_ULPS ulps it is the edge */
	double tol = THERMAL_EDGE_ULPS * DBL_EPSILON * fmax(fabs(emax), fabs(emin));
	if (e > emax && e <= emax + tol)
		e = emax;
	if (e < emin && e >= emin - tol)
		e = emin;
	if (!(e <= emax && e >= emin))
		return kz_err(err, KZ_EINVAL,
			      "thermal_beta_from_energy: e=%.10g outside the "
			      "table's range [%.10g, %.10g] (beta in [%g, %g])",
			      e, emin, emax, t->beta[0], t->beta[t->nb - 1]);
	/* the interval, then bisection on its monotone cubic */
	int k = 0;
	while (k + 2 < t->nb && E[NV * (k + 1)] > e)
		k++;
	double lo = 0, hi = 1;
	for (int it = 0; it < 200 && hi - lo > 1e-17; it++) {
		double mid = 0.5 * (lo + hi);
		if (row_energy(t, j, k, mid) > e)
			lo = mid;
		else
			hi = mid;
	}
	double u = fabs(row_energy(t, j, k, lo) - e) <
				   fabs(row_energy(t, j, k, hi) - e)
			   ? lo
			   : hi;
	*beta = t->beta[k] + u * (t->beta[k + 1] - t->beta[k]);
	return KZ_OK;
}

/* residual and Jacobian of (e, sz) - target at x = (beta, mu) */
static int newton_eval(const thermal_table_t *t, const double x[2],
		       const double tgt[2], double F[2], double Jm[4])
{
	double v[NV], vb[NV], vm[NV];
	int rc = interp(t, x[0], x[1], NV, t->eos, t->deos, v, vb, vm, NULL);
	if (rc)
		return rc;
	F[0] = v[0] - tgt[0];
	F[1] = v[1] - tgt[1];
	if (Jm) {
		Jm[0] = vb[0]; /* de/dbeta */
		Jm[1] = vm[0]; /* de/dmu */
		Jm[2] = vb[1];
		Jm[3] = vm[1];
	}
	return KZ_OK;
}

/* Damped Newton from x; 0 on convergence. */
static int newton(const thermal_table_t *t, double x[2], const double tgt[2],
		  const double scale[2])
{
	const double bl[2] = {t->beta[0], t->mu[0]};
	const double bh[2] = {t->beta[t->nb - 1], t->mu[t->nm - 1]};
	double F[2], Jm[4];
	if (newton_eval(t, x, tgt, F, Jm))
		return -1;
	for (int it = 0; it < 100; it++) {
		double r = fmax(fabs(F[0]) / scale[0], fabs(F[1]) / scale[1]);
		if (r < 1e-13)
			return 0;
		double det = Jm[0] * Jm[3] - Jm[1] * Jm[2];
		if (!isfinite(det) || det == 0)
			return -1;
		double dx[2] = {-(Jm[3] * F[0] - Jm[1] * F[1]) / det,
				-(-Jm[2] * F[0] + Jm[0] * F[1]) / det};
		double lam = 1, xn[2], Fn[2], Jn[4];
		int ok = 0;
		for (int ls = 0; ls < 50; ls++, lam /= 2) {
			for (int c = 0; c < 2; c++)
				xn[c] = fmin(fmax(x[c] + lam * dx[c], bl[c]),
					     bh[c]);
			if (newton_eval(t, xn, tgt, Fn, Jn))
				continue;
			double rn = fmax(fabs(Fn[0]) / scale[0],
					 fabs(Fn[1]) / scale[1]);
			if (rn < r) {
				ok = 1;
				break;
			}
		}
		if (!ok)
			return r < 1e-10 ? 0 : -1; /* stagnation at rounding */
		memcpy(x, xn, sizeof xn);
		memcpy(F, Fn, sizeof Fn);
		memcpy(Jm, Jn, sizeof Jn);
	}
	return fmax(fabs(F[0]) / scale[0], fabs(F[1]) / scale[1]) < 1e-10 ? 0
									 : -1;
}

#define NSTART 6

int thermal_beta_mu_from(const thermal_table_t *t, double e, double sz,
			 double *beta, double *mu, char *err)
{
	if (!t || !beta || !mu)
		return kz_err(err, KZ_EINVAL,
			      "thermal_beta_mu_from: NULL argument");
	if (!isfinite(e) || !isfinite(sz))
		return kz_err(err, KZ_EINVAL,
			      "thermal_beta_mu_from: e=%g, sz=%g: expected "
			      "finite numbers",
			      e, sz);
	if (t->nm < 2)
		return kz_err(err, KZ_EINVAL,
			      "thermal_beta_mu_from: the table has %d mu "
			      "value(s): expected >= 2",
			      t->nm);
	size_t nn = (size_t)t->nb * t->nm;
	double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
	for (size_t n = 0; n < nn; n++)
		for (int c = 0; c < 2; c++) {
			lo[c] = fmin(lo[c], t->eos[NV * n + c]);
			hi[c] = fmax(hi[c], t->eos[NV * n + c]);
		}
	double scale[2] = {fmax(hi[0] - lo[0], 1e-300),
			   fmax(hi[1] - lo[1], 1e-300)};
	const double tgt[2] = {e, sz};
	/* starting points: the NSTART nodes closest in scaled (e, sz), off
	 * beta = 0 where the mu direction degenerates */
	size_t best[NSTART];
	double bd[NSTART];
	int nbest = 0;
	for (size_t n = 0; n < nn; n++) {
		if (t->beta[n % t->nb] == 0)
			continue;
		double de = (t->eos[NV * n] - e) / scale[0];
		double ds = (t->eos[NV * n + 1] - sz) / scale[1];
		double dd = de * de + ds * ds;
		int pos;
		if (nbest < NSTART)
			pos = nbest++;
		else if (dd < bd[NSTART - 1])
			pos = NSTART - 1;
		else
			continue;
		while (pos > 0 && bd[pos - 1] > dd) {
			bd[pos] = bd[pos - 1];
			best[pos] = best[pos - 1];
			pos--;
		}
		bd[pos] = dd;
		best[pos] = n;
	}
	for (int s = 0; s < nbest; s++) {
		double x[2] = {t->beta[best[s] % t->nb],
			       t->mu[best[s] / t->nb]};
		if (!newton(t, x, tgt, scale)) {
			/* s^z ~ beta mu / 4: mu's error grows like 1/beta
			 * and is unbounded at beta = 0 */
			double bs = fmax(fabs(t->beta[0]),
					 fabs(t->beta[t->nb - 1]));
			if (fabs(x[0]) < 1e-8 * bs)
				return kz_err(err, KZ_EINVAL,
					      "thermal_beta_mu_from: (e, sz) "
					      "= (%.10g, %.10g) is the beta = "
					      "0 state, where mu is "
					      "undetermined",
					      e, sz);
			*beta = x[0];
			*mu = x[1];
			return KZ_OK;
		}
	}
	return kz_err(err, KZ_EINVAL,
		      "thermal_beta_mu_from: (e, sz) = (%.10g, %.10g) is not "
		      "reached on the table (beta in [%g, %g], mu in "
		      "[%g, %g]); or beta = 0, where mu is undetermined",
		      e, sz, t->beta[0], t->beta[t->nb - 1], t->mu[0],
		      t->mu[t->nm - 1]);
}
