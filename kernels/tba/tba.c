/* tba: strings, kernels, quadrature and dressing (see tba.h).  The thermal
 * and ground states are in tba_state.c. */
#include "tba.h"
#include "tba_impl.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int tba_model_init(tba_model_t *m, int P, char *err)
{
	if (!m)
		return kz_err(err, KZ_EINVAL, "tba: model is NULL");
	if (P < 2 || P > TBA_MAXP)
		return kz_err(err, KZ_EINVAL,
			      "tba: P = %d outside [2, %d] (gamma = pi/P)", P,
			      TBA_MAXP);
	memset(m, 0, sizeof *m);
	m->P = P;
	m->gamma = M_PI / P;
	m->delta = cos(m->gamma);
	for (int j = 0; j < P; j++) {
		m->n[j] = j + 1;
		m->par[j] = 1;
		m->sig[j] = 1;
	}
	m->n[P - 1] = 1;
	m->par[P - 1] = -1;
	m->sig[P - 1] = -1;
	for (int n = 0; n <= 2 * P; n++) {
		m->sn[n] = n % P == 0 ? 0 : sin(m->gamma * n);
		m->cn[n] = cos(m->gamma * n);
	}
	for (int j = 0; j < P; j++)
		for (int k = 0; k < P; k++) {
			int nj = m->n[j], nk = m->n[k], lo = abs(nj - nk);
			int v = m->par[j] * m->par[k];
			double t = 0;
			for (int n = lo; n <= nj + nk; n += 2)
				if (n > 0)
					t += (n == lo || n == nj + nk ? 1 : 2) *
					     tba_a_integral(m, n, v);
			m->tint[j][k] = t;
		}
	return KZ_OK;
}

double tba_a_integral(const tba_model_t *m, int n, int v)
{
	if (n <= 0 || n % m->P == 0)
		return 0;
	double x = fmod(m->gamma * n, 2 * M_PI);
	if (v > 0)
		return 1 - x / M_PI;
	if (x > M_PI)
		x -= 2 * M_PI;
	return -x / M_PI;
}

/* gamma n reduced to a multiple of pi: sin(gamma n) is exactly zero there,
 * and a^v_n is defined as zero (its phase is a constant) */
static int on_pi(const tba_model_t *m, int n)
{
	return m->sn[n % (2 * m->P)] == 0;
}

double tba_a(const tba_model_t *m, int n, int v, double lam)
{
	if (n <= 0 || on_pi(m, n))
		return 0;
	double gn = m->gamma * n;
	return v * sin(gn) / (M_PI * (cosh(2 * lam) - v * cos(gn)));
}

double tba_da(const tba_model_t *m, int n, int v, double lam)
{
	if (n <= 0 || on_pi(m, n))
		return 0;
	double gn = m->gamma * n, d = cosh(2 * lam) - v * cos(gn);
	return -v * sin(gn) * 2 * sinh(2 * lam) / (M_PI * d * d);
}

double tba_kernel_c(const tba_model_t *m, int j, int k, double c2)
{
	int nj = m->n[j], nk = m->n[k], v = m->par[j] * m->par[k];
	int lo = abs(nj - nk), hi = nj + nk;
	double s = 0;
	/* the sum of tba_a terms with one cosh */
	for (int n = lo; n <= hi; n += 2) {
		if (m->sn[n] == 0)
			continue;
		double a = v * m->sn[n] / (c2 - v * m->cn[n]);
		s += (n == lo || n == hi) ? a : 2 * a;
	}
	return s / M_PI;
}

double tba_kernel(const tba_model_t *m, int j, int k, double lam)
{
	return tba_kernel_c(m, j, k, cosh(2 * lam));
}

double tba_kp(const tba_model_t *m, int j, double lam)
{
	return 2 * M_PI * tba_a(m, m->n[j], m->par[j], lam);
}

double tba_e(const tba_model_t *m, int j, double lam)
{
	return -M_PI * sin(m->gamma) * tba_a(m, m->n[j], m->par[j], lam);
}

double tba_ep(const tba_model_t *m, int j, double lam)
{
	return -M_PI * sin(m->gamma) * tba_da(m, m->n[j], m->par[j], lam);
}

/* ---- quadrature -------------------------------------------------------- */

void tba_grid_default(tba_grid_t *g)
{
	g->npan = 8;
	g->ng = 12;
}

void tba_gauss_legendre(int n, double *x, double *w)
{
	/* Newton on P_n from Tricomi's initial guesses */
	for (int i = 0; i < n; i++) {
		double z = cos(M_PI * (i + 0.75) / (n + 0.5)), dp = 1;
		for (int it = 0; it < 100; it++) {
			double p0 = 1, p1 = z;
			for (int k = 2; k <= n; k++) {
				double p2 = ((2 * k - 1) * z * p1 -
					     (k - 1) * p0) / k;
				p0 = p1;
				p1 = p2;
			}
			if (n == 1)
				p0 = 1, p1 = z;
			dp = n * (z * p1 - p0) / (z * z - 1);
			double dz = p1 / dp;
			z -= dz;
			if (fabs(dz) < 1e-16)
				break;
		}
		x[n - 1 - i] = z;
		w[n - 1 - i] = 2 / ((1 - z * z) * dp * dp);
	}
}

static int rule_alloc(tba_rule_t *r, int ns, int per, char *err)
{
	memset(r, 0, sizeof *r);
	r->ns = ns;
	r->lam = malloc(sizeof(double) * ns * per);
	r->w = malloc(sizeof(double) * ns * per);
	r->base = malloc(sizeof(int) * ns * per);
	if (!r->lam || !r->w || !r->base) {
		tba_rule_free(r);
		return kz_err(err, KZ_ENOMEM, "tba: out of memory");
	}
	return KZ_OK;
}

static int check_grid(const tba_grid_t *g, char *err)
{
	if (!g || g->npan < 1 || g->npan > 1000 || g->ng < 2 || g->ng > 64)
		return kz_err(err, KZ_EINVAL,
			      "tba: grid needs 1 <= npan <= 1000 and 2 <= ng "
			      "<= 64");
	return KZ_OK;
}

/* append the ng nodes of [u0, u1] mapped to lam = 2 atanh(u) */
static void panel(tba_rule_t *r, int *k, double u0, double u1, int ng,
		  const double *x, const double *w, int base0)
{
	double c = (u0 + u1) / 2, hw = (u1 - u0) / 2;
	for (int i = 0; i < ng; i++) {
		double u = c + hw * x[i];
		r->lam[*k] = 2 * atanh(u);
		r->w[*k] = hw * w[i] * 2 / (1 - u * u);
		r->base[*k] = base0 < 0 ? -1 : base0 + i;
		(*k)++;
	}
}

int tba_rule_split(tba_rule_t *r, int ns, const tba_grid_t *g,
		   const int *nbp, double (*bp)[4], char *err)
{
	int rc = check_grid(g, err);
	if (rc)
		return rc;
	if (ns < 1 || ns > TBA_MAXP)
		return kz_err(err, KZ_EINVAL, "tba: %d species", ns);
	int per = g->ng * (g->npan + 4);
	if ((rc = rule_alloc(r, ns, per, err)))
		return rc;
	double x[64], w[64];
	tba_gauss_legendre(g->ng, x, w);
	int k = 0;
	for (int j = 0; j < ns; j++) {
		double ub[4];
		int nb = nbp ? nbp[j] : 0;
		if (nb > 4)
			nb = 4;
		for (int b = 0; b < nb; b++)
			ub[b] = tanh(bp[j][b] / 2);
		/* sort the split points */
		for (int a = 1; a < nb; a++)
			for (int b = a; b > 0 && ub[b] < ub[b - 1]; b--) {
				double t = ub[b];
				ub[b] = ub[b - 1];
				ub[b - 1] = t;
			}
		r->off[j] = k;
		int ib = 0;
		for (int p = 0; p < g->npan; p++) {
			double u0 = -1 + 2.0 * p / g->npan;
			double u1 = -1 + 2.0 * (p + 1) / g->npan;
			double lo = u0;
			while (ib < nb && ub[ib] <= u0)
				ib++;
			int whole = 1;
			while (ib < nb && ub[ib] < u1) {
				if (ub[ib] > lo)
					panel(r, &k, lo, ub[ib], g->ng, x, w,
					      -1);
				lo = ub[ib++];
				whole = 0;
			}
			panel(r, &k, lo, u1, g->ng, x, w,
			      whole ? p * g->ng : -1);
		}
		r->cnt[j] = k - r->off[j];
	}
	r->ntot = k;
	return KZ_OK;
}

int tba_rule_base(tba_rule_t *r, int ns, const tba_grid_t *g, char *err)
{
	return tba_rule_split(r, ns, g, NULL, NULL, err);
}

void tba_rule_free(tba_rule_t *r)
{
	free(r->lam);
	free(r->w);
	free(r->base);
	r->lam = r->w = NULL;
	r->base = NULL;
}

static int rule_copy(tba_rule_t *d, const tba_rule_t *s, char *err)
{
	int rc = rule_alloc(d, s->ns, s->ntot > 0 ? s->ntot : 1, err);
	if (rc)
		return rc;
	d->ntot = s->ntot;
	memcpy(d->cnt, s->cnt, sizeof d->cnt);
	memcpy(d->off, s->off, sizeof d->off);
	memcpy(d->lam, s->lam, sizeof(double) * s->ntot);
	memcpy(d->w, s->w, sizeof(double) * s->ntot);
	memcpy(d->base, s->base, sizeof(int) * s->ntot);
	return KZ_OK;
}

/* ---- dressing ---------------------------------------------------------- */

/* T_jk(lam_i - lam_c) on the rule, with cosh(2 (lam_i - lam_c)) from the
 * table C of the base nodes when both are base nodes */
static double kern(const tba_model_t *m, const tba_rule_t *r, const int *sp,
		   const double *C, int nb, int i, int c)
{
	int bi = r->base[i], bc = r->base[c];
	double c2 = bi >= 0 && bc >= 0 ? C[bi + nb * bc]
				       : cosh(2 * (r->lam[i] - r->lam[c]));
	return tba_kernel_c(m, sp[i], sp[c], c2);
}

int tba_solve_dressing(const tba_model_t *m, const tba_rule_t *r,
		       const double *theta, int nrhs, double *b, char *err)
{
	int N = r->ntot, nb = 0, na = 0, rc = KZ_OK;
	if (nrhs < 1 || nrhs > 2)
		return kz_err(err, KZ_EINVAL, "tba: 1 or 2 right-hand sides");
	if (m->P == 2) {
		/* free fermions: every T_jk vanishes, X_j = sigma_j b_j */
		for (int j = 0; j < m->P; j++)
			for (int i = r->off[j]; i < r->off[j] + r->cnt[j]; i++)
				for (int k = 0; k < nrhs; k++)
					b[i + (size_t)N * k] *= m->sig[j];
		return KZ_OK;
	}
	for (int i = 0; i < N; i++)
		if (r->base[i] >= nb)
			nb = r->base[i] + 1;
	/* Only the nodes with w theta != 0 (the active ones, act[0..na-1])
	 * couple: solve there, then the others follow explicitly,
	 * X_i = sigma_i (b_i - sum_active w theta T X).  cosh(2 (lam_i -
	 * lam_c)) is tabulated once for the base rule's nodes, which every
	 * species shares. */
	int *sp = malloc(sizeof(int) * N * 2), *act = sp + N;
	double *C = malloc(sizeof(double) * (nb > 0 ? nb : 1) * (nb + 1));
	double *A = malloc(sizeof(double) * N * N + sizeof(double) * N * nrhs);
	lapack_int *ipiv = malloc(sizeof(lapack_int) * N);
	if (!sp || !C || !A || !ipiv) {
		rc = kz_err(err, KZ_ENOMEM, "tba: out of memory (%d)", N);
		goto out;
	}
	for (int j = 0; j < m->P; j++)
		for (int i = r->off[j]; i < r->off[j] + r->cnt[j]; i++) {
			sp[i] = j;
			if (r->w[i] * theta[i] != 0)
				act[na++] = i;
		}
	double *lb = A; /* scratch: the base nodes' rapidities */
	for (int i = 0; i < N; i++)
		if (r->base[i] >= 0)
			lb[r->base[i]] = r->lam[i];
	for (int bc = 0; bc < nb; bc++)
		for (int bi = 0; bi < nb; bi++)
			C[bi + nb * bc] = cosh(2 * (lb[bi] - lb[bc]));
	double *B = A + (size_t)N * N;
	for (int q = 0; q < na; q++) {
		int c = act[q];
		double wt = r->w[c] * theta[c], *col = A + (size_t)na * q;
		for (int p = 0; p < na; p++)
			col[p] = wt * kern(m, r, sp, C, nb, act[p], c);
		col[q] += m->sig[sp[c]];
		for (int k = 0; k < nrhs; k++)
			B[q + (size_t)na * k] = b[c + (size_t)N * k];
	}
	if (na > 0) {
		lapack_int info = LAPACKE_dgesv_work(LAPACK_COL_MAJOR, na, nrhs, A,
						na, ipiv, B, na);
		if (info) {
			rc = kz_err(err, KZ_ELAPACK,
				    "tba: dgesv info %d (N = %d)", (int)info,
				    na);
			goto out;
		}
	}
	/* inactive rows first (they read the original b), then the active */
	for (int i = 0, q = 0; i < N; i++) {
		if (q < na && act[q] == i) {
			q++;
			continue;
		}
		double v[2] = {0, 0};
		for (int p = 0; p < na; p++) {
			int c = act[p];
			double t = r->w[c] * theta[c] *
				   kern(m, r, sp, C, nb, i, c);
			for (int k = 0; k < nrhs && k < 2; k++)
				v[k] += t * B[p + (size_t)na * k];
		}
		for (int k = 0; k < nrhs && k < 2; k++)
			b[i + (size_t)N * k] = m->sig[sp[i]] *
					       (b[i + (size_t)N * k] - v[k]);
	}
	for (int p = 0; p < na; p++)
		for (int k = 0; k < nrhs; k++)
			b[act[p] + (size_t)N * k] = B[p + (size_t)na * k];
out:
	free(sp);
	free(C);
	free(A);
	free(ipiv);
	return rc;
}

int tba_dress(tba_dressed_t *d, const tba_model_t *m, const tba_rule_t *r,
	      const double *theta, char *err)
{
	memset(d, 0, sizeof *d);
	d->m = m;
	int rc = rule_copy(&d->r, r, err);
	if (rc)
		return rc;
	int N = r->ntot;
	d->theta = malloc(sizeof(double) * N);
	d->xk = malloc(sizeof(double) * 2 * N);
	if (!d->theta || !d->xk) {
		tba_dressed_free(d);
		return kz_err(err, KZ_ENOMEM, "tba: out of memory");
	}
	d->xe = d->xk + N;
	memcpy(d->theta, theta, sizeof(double) * N);
	for (int j = 0; j < m->P; j++)
		for (int i = r->off[j]; i < r->off[j] + r->cnt[j]; i++) {
			d->xk[i] = tba_kp(m, j, r->lam[i]) / (2 * M_PI);
			d->xe[i] = tba_ep(m, j, r->lam[i]) / (2 * M_PI);
		}
	if ((rc = tba_solve_dressing(m, r, theta, 2, d->xk, err)))
		tba_dressed_free(d);
	return rc;
}

void tba_dressed_free(tba_dressed_t *d)
{
	tba_rule_free(&d->r);
	free(d->theta);
	free(d->xk);
	d->theta = d->xk = d->xe = NULL;
}

void tba_dressed_at(const tba_dressed_t *d, int j, double lam, double *xk,
		    double *xe)
{
	const tba_model_t *m = d->m;
	const tba_rule_t *r = &d->r;
	double sk = tba_kp(m, j, lam) / (2 * M_PI);
	double se = tba_ep(m, j, lam) / (2 * M_PI);
	for (int k = 0; k < m->P; k++)
		for (int c = r->off[k]; c < r->off[k] + r->cnt[k]; c++) {
			double wt = r->w[c] * d->theta[c];
			if (wt == 0)
				continue;
			double t = wt * tba_kernel(m, j, k, lam - r->lam[c]);
			sk -= t * d->xk[c];
			se -= t * d->xe[c];
		}
	*xk = m->sig[j] * sk;
	*xe = m->sig[j] * se;
}

double tba_velocity_at(const tba_dressed_t *d, int j, double lam)
{
	double xk, xe;
	tba_dressed_at(d, j, lam, &xk, &xe);
	return xe / xk;
}

void tba_dressed_obs(const tba_dressed_t *d, tba_obs_t *o)
{
	const tba_model_t *m = d->m;
	const tba_rule_t *r = &d->r;
	double e = 0, je = 0, nk = 0, ne = 0;
	for (int j = 0; j < m->P; j++)
		for (int i = r->off[j]; i < r->off[j] + r->cnt[j]; i++) {
			double wt = r->w[i] * d->theta[i];
			if (wt == 0)
				continue;
			double ej = tba_e(m, j, r->lam[i]);
			e += wt * d->xk[i] * ej;
			je += wt * d->xe[i] * ej;
			nk += wt * d->xk[i] * m->n[j];
			ne += wt * d->xe[i] * m->n[j];
		}
	o->e = m->delta / 4 + e;
	o->je = je;
	o->sz = 0.5 - nk;
	o->jm = -ne;
}
