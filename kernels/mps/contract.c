/* contract: full contractions of an MPS with its conjugate, which assume
 * no canonical form (imaginary time and MPO checks spoil or bypass it):
 * reduced density matrices of any few sites, and expectation values of the
 * XXZ Hamiltonian's MPO. */
#include "contract.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mps_impl.h"

/* ---- reduced density matrices of any sites ------------------------------ */

/* An environment at one MPS bond: for a pair (a, b) of ket and bra
 * configurations of the open sites passed so far, the blocks
 *   F[q](beta, alpha) = sum over traced configurations of
 *                       conj(psi_bra(beta)) psi_ket(alpha),
 * alpha a ket bond state of charge q, beta a bra one of charge q - delta
 * (delta = ups in a minus ups in b), dims dim(q - delta) x dim(q). */
typedef struct {
	int delta;
	mps_blocks_t b;  /* off [nq of the bond]; exact size, cap unused */
} env_t;

static void env_free(env_t *e)
{
	free(e->b.off);
	free(e->b.data);
	memset(e, 0, sizeof *e);
}

static void env_free_all(env_t **e, int *n)
{
	for (int p = 0; *e && p < *n; p++)
		env_free(&(*e)[p]);
	free(*e);
	*e = NULL;
	*n = 0;
}

static int env_init(env_t *e, const mps_bond_t *bd, int delta)
{
	memset(e, 0, sizeof *e);
	e->delta = delta;
	e->b.off = malloc((size_t)bd->nq * sizeof(size_t));
	if (!e->b.off)
		return KZ_ENOMEM;
	for (int k = 0; k < bd->nq; k++) {
		int q = bd->qlo + k;
		e->b.off[k] = e->b.size;
		e->b.size +=
			(size_t)mps_qdim(bd, q - delta) * (size_t)bd->dim[k];
	}
	if (e->b.size && !(e->b.data = calloc(e->b.size, sizeof(kz_cplx))))
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
	if (!F->b.size || !Fo->b.size)
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
			    dk1, dk, &one, F->b.data + F->b.off[k], db,
			    mps_block(m, i, s, q), dk, &zero, *T, db);
		cblas_zgemm(CblasColMajor, CblasConjTrans, CblasNoTrans, db1,
			    dk1, db, &one, mps_block(m, i, t, q - d), db, *T,
			    db, &one, Fo->b.data + Fo->b.off[q + s - br->qlo],
			    db1);
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
				    R->b.data + R->b.off[q + s - br->qlo], dr,
				    &zero, *T, dl);
			cblas_zgemm(CblasColMajor, CblasNoTrans,
				    CblasConjTrans, dl, dl, dr, &one, *T, dl,
				    B, dl, &one, Ro->b.data + Ro->b.off[k], dl);
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



/* The pair environments on bond last+1 of the open sites[0..n-1]: the left
 * part of the contraction, *cur ([*ncur], D^2 pairs). */
static int rho_left(const mps_t *m, int n, const int *sites, env_t **cur,
		    int *ncur, kz_cplx **T, size_t *Tcap, char *err)
{
	env_t *nxt = NULL;
	int nnxt = 0;
	/* bond 0 holds the single state of charge 0 */
	*ncur = 1;
	*cur = calloc(1, sizeof **cur);
	if (!*cur || env_init(&(*cur)[0], &m->bond[0], 0))
		return KZ_ENOMEM;
	if ((*cur)[0].b.size != 1)
		return kz_err(err, KZ_EINVAL,
			      "mps_rho_sites: malformed MPS (left bond)");
	(*cur)[0].b.data[0] = 1;
	for (int i = 0, k = 0; i <= sites[n - 1]; i++) {
		int open = k < n && sites[k] == i;
		nnxt = open ? 4 * *ncur : *ncur;
		nxt = calloc((size_t)nnxt, sizeof *nxt);
		if (!nxt ||
		    env_site(m, i, open, 1 << k, *cur, *ncur, nxt, T, Tcap)) {
			env_free_all(&nxt, &nnxt);
			return KZ_ENOMEM;
		}
		env_free_all(cur, ncur);
		*cur = nxt;
		*ncur = nnxt;
		k += open;
	}
	return KZ_OK;
}

/* The traced right part R on bond last+1 (delta 0). */
static int rho_right(const mps_t *m, int last, env_t *R, kz_cplx **T,
		     size_t *Tcap, char *err)
{
	env_t R2 = {0};
	/* bond L holds the single state of charge nup */
	if (env_init(R, &m->bond[m->L], 0))
		return KZ_ENOMEM;
	if (R->b.size != 1)
		return kz_err(err, KZ_EINVAL,
			      "mps_rho_sites: malformed MPS (right bond)");
	R->b.data[0] = 1;
	for (int i = m->L - 1; i > last; i--) {
		if (env_init(&R2, &m->bond[i], 0) ||
		    env_step_right(m, i, R, &R2, T, Tcap)) {
			env_free(&R2);
			return KZ_ENOMEM;
		}
		env_free(R);
		*R = R2;
		memset(&R2, 0, sizeof R2);
	}
	return KZ_OK;
}

/* rho[a + D b] = sum_q tr(F_ab[q] R[q]) / trace; only delta = 0 survives
 * the traced right part. */
static int rho_close(const mps_bond_t *bd, const env_t *cur, int ncur, int D,
		     const env_t *R, kz_cplx *rho, char *err)
{
	double tr = 0;
	for (int p = 0; p < ncur; p++) {
		const env_t *F = &cur[p];
		int a = p % D, b = p / D;
		kz_cplx v = 0;
		for (int k = 0; F->delta == 0 && F->b.size && k < bd->nq;
		     k++) {
			size_t d = (size_t)bd->dim[k];
			const kz_cplx *Fq = F->b.data + F->b.off[k];
			const kz_cplx *Rq = R->b.data + R->b.off[k];
			for (size_t al = 0; al < d; al++)
				for (size_t be = 0; be < d; be++)
					v += Fq[be + d * al] * Rq[al + d * be];
		}
		rho[a + D * b] = v;
		if (a == b)
			tr += creal(v);
	}
	if (!isfinite(tr) || !(tr > 0))
		return kz_err(err, KZ_ENUM,
			      "mps_rho_sites: trace %g of the reduced "
			      "density matrix",
			      tr);
	for (int a = 0; a < D * D; a++)
		rho[a] /= tr;
	return KZ_OK;
}

int mps_rho_sites(const mps_t *m, int n, const int *sites, kz_cplx *rho,
		  char *err)
{
	if (!m || !sites || !rho)
		return kz_err(err, KZ_EINVAL, "mps_rho_sites: NULL argument");
	if (n < 1 || n > MPS_RHO_MAX_SITES)
		return kz_err(err, KZ_EINVAL,
			      "mps_rho_sites: %d sites: expected 1..%d", n,
			      MPS_RHO_MAX_SITES);
	for (int k = 0; k < n; k++)
		if (sites[k] < 0 || sites[k] >= m->L ||
		    (k && sites[k] <= sites[k - 1]))
			return kz_err(err, KZ_EINVAL,
				      "mps_rho_sites: sites must increase "
				      "within [0, %d] (site %d at %d)",
				      m->L - 1, sites[k], k);
	env_t *cur = NULL, R = {0};
	int ncur = 0, last = sites[n - 1];
	kz_cplx *T = NULL;
	size_t Tcap = 0;
	int rc = rho_left(m, n, sites, &cur, &ncur, &T, &Tcap, err);
	if (!rc)
		rc = rho_right(m, last, &R, &T, &Tcap, err);
	if (!rc)
		rc = rho_close(&m->bond[last + 1], cur, ncur, 1 << n, &R, rho,
			       err);
	if (rc == KZ_ENOMEM)
		kz_err(err, rc, "mps_rho_sites: out of memory");
	env_free_all(&cur, &ncur);
	env_free(&R);
	free(T);
	return rc;
}

/* ---- expectation values of the XXZ MPO --------------------------------- */

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

/* The left environment E[(a, c)][q] of the contraction on one bond: bra
 * charge q + shift(a) + shift(c) by ket charge q, a the top layer's MPO
 * channel, c the bottom one's; act[pc] says which channel pairs are set. */
typedef struct {
	kz_cplx *data;
	size_t cap;
	size_t *off; /* [npc * qmax] */
	char *act;   /* [npc] */
} mpo_env_t;

typedef struct {
	const mps_t *m;
	int top, bot, nb, npc, qmax;
	mpo_el_t elt[9], elb[9];
	int net, neb;
	mpo_env_t E, F; /* on the bonds left and right of the current site */
	kz_cplx *T;
	size_t tcap;
} mpo_run_t;

static int pc_shift(const mpo_run_t *x, int pc)
{
	return (x->top ? ch_shift[pc / x->nb] : 0) +
	       (x->bot ? ch_shift[pc % x->nb] : 0);
}

/* Offsets of bond b's environment blocks into e; room for them, zeroed. */
static int mpo_env_layout(mpo_run_t *x, mpo_env_t *e, int b)
{
	const mps_bond_t *bd = &x->m->bond[b];
	size_t tot = 0;
	for (int pc = 0; pc < x->npc; pc++)
		for (int k = 0; k < bd->nq; k++) {
			int q = bd->qlo + k;
			e->off[(size_t)pc * x->qmax + k] = tot;
			tot += (size_t)bd->dim[k] *
			       mps_qdim(bd, q + pc_shift(x, pc));
		}
	if (kz_reserve((void **)&e->data, &e->cap, tot + 1, sizeof(kz_cplx)))
		return KZ_ENOMEM;
	memset(e->data, 0, tot * sizeof(kz_cplx));
	memset(e->act, 0, (size_t)x->npc);
	return KZ_OK;
}

/* F[(a', c')] += cf B^{sb}[p]^dag T for every MPO entry pair leaving
 * channels (a, c) of pc, T = E[(a, c)][q] B^s[q] (dp x dr). */
static void mpo_branch(mpo_run_t *x, int i, int pc, int q, int s, int dp,
		       int dr)
{
	const mps_t *m = x->m;
	const mps_bond_t *rb = &m->bond[i + 1];
	const kz_cplx one = 1;
	int a = pc / x->nb, cb = pc % x->nb, p = q + pc_shift(x, pc);
	for (int u = 0; u < x->net; u++) {
		const mpo_el_t *et = &x->elt[u];
		if (et->from != a)
			continue;
		for (int v = 0; v < x->neb; v++) {
			const mpo_el_t *eb = &x->elb[v];
			if (eb->from != cb)
				continue;
			int sm = s + eb->shift;
			if (sm < 0 || sm > 1 || eb->c[s] == 0)
				continue;
			int sb = sm + et->shift;
			if (sb < 0 || sb > 1 || et->c[sm] == 0)
				continue;
			int db = mps_qdim(rb, p + sb);
			if (!db)
				continue;
			int pn = et->to * x->nb + eb->to;
			kz_cplx cf = eb->c[s] * et->c[sm];
			kz_cplx *Fm = x->F.data +
				      x->F.off[(size_t)pn * x->qmax + q + s -
					       rb->qlo];
			cblas_zgemm(CblasColMajor, CblasConjTrans,
				    CblasNoTrans, db, dr, dp, &cf,
				    mps_block(m, i, sb, p), dp, x->T, dp, &one,
				    Fm, db);
			x->F.act[pn] = 1;
		}
	}
}

/* E on bond i -> F on bond i+1 through site i. */
static void mpo_site_step(mpo_run_t *x, int i)
{
	const mps_t *m = x->m;
	const mps_bond_t *lb = &m->bond[i], *rb = &m->bond[i + 1];
	const kz_cplx one = 1, zero = 0;
	for (int pc = 0; pc < x->npc; pc++) {
		if (!x->E.act[pc])
			continue;
		for (int k = 0; k < lb->nq; k++) {
			int q = lb->qlo + k, dq = lb->dim[k];
			int p = q + pc_shift(x, pc), dp = mps_qdim(lb, p);
			if (!dq || !dp)
				continue;
			const kz_cplx *Em =
				x->E.data + x->E.off[(size_t)pc * x->qmax + k];
			for (int s = 0; s < 2; s++) {
				int dr = mps_qdim(rb, q + s);
				if (!dr)
					continue;
				cblas_zgemm(CblasColMajor, CblasNoTrans,
					    CblasNoTrans, dp, dr, dq, &one, Em,
					    dp, mps_block(m, i, s, q), dq, &zero,
					    x->T, dp);
				mpo_branch(x, i, pc, q, s, dp, dr);
			}
		}
	}
}

/* The layers' MPO entries at site i (the identity where a layer is off). */
static void mpo_layers(mpo_run_t *x, const chain_t *c, int i, double e)
{
	static const mpo_el_t ident = {0, 0, 0, {1, 1}};
	if (x->top)
		x->net = mpo_site(c, i, e, x->elt);
	else
		x->elt[0] = ident;
	if (x->bot)
		x->neb = mpo_site(c, i, e, x->elb);
	else
		x->elb[0] = ident;
}

int mps_mpo_expect(const mps_t *m, const chain_t *c, double e, int top,
		   int bot, double *val, char *err)
{
	mpo_run_t x = {.m = m, .top = top, .bot = bot, .net = 1, .neb = 1};
	int rc = KZ_ENOMEM;
	x.nb = bot ? 5 : 1;
	x.npc = (top ? 5 : 1) * x.nb;
	x.qmax = m->nup + 1;
	size_t *offbuf = malloc(2 * (size_t)x.npc * x.qmax * sizeof(size_t));
	char *actbuf = calloc(2 * (size_t)x.npc, 1);
	if (!offbuf || !actbuf)
		goto out;
	x.E.off = offbuf;
	x.F.off = offbuf + (size_t)x.npc * x.qmax;
	x.E.act = actbuf;
	x.F.act = actbuf + x.npc;
	int mx = mps_max_bond_dim(m);
	if (mpo_env_layout(&x, &x.E, 0) ||
	    kz_reserve((void **)&x.T, &x.tcap, (size_t)mx * mx + 1,
		       sizeof(kz_cplx)))
		goto out;
	x.E.data[0] = 1; /* channel (0, 0), charge 0, 1 x 1 */
	x.E.act[0] = 1;
	for (int i = 0; i < m->L; i++) {
		mpo_layers(&x, c, i, e);
		if (mpo_env_layout(&x, &x.F, i + 1))
			goto out;
		mpo_site_step(&x, i);
		mpo_env_t t = x.E;
		x.E = x.F;
		x.F = t;
	}
	int pe = (top ? 4 : 0) * x.nb + (bot ? 4 : 0);
	*val = x.E.act[pe] ? creal(x.E.data[x.E.off[(size_t)pe * x.qmax]]) : 0;
	rc = KZ_OK;
out:
	if (rc)
		kz_err(err, rc, "mps_mpo_expect: out of memory");
	free(x.E.data);
	free(x.F.data);
	free(x.T);
	free(offbuf);
	free(actbuf);
	return rc;
}
