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

int tba_solve_dressing(const tba_model_t *m, const tba_rule_t *r,
		       const double *theta, int nrhs, double *b, char *err)
{
	int N = r->ntot;
	double *A = malloc(sizeof(double) * N * N);
	lapack_int *ipiv = malloc(sizeof(lapack_int) * N);
	if (!A || !ipiv) {
		free(A);
		free(ipiv);
		return kz_err(err, KZ_ENOMEM, "tba: out of memory (%d)", N);
	}
	/* A[(j,i), (k,m)] = sigma_j delta + w_km T_jk(lam_ji - lam_km) th_km,
	 * column-major; cosh(2 (lam_i - lam_c)) is tabulated once for the
	 * nodes of the base rule, which every species shares */
	int nb = 0;
	for (int i = 0; i < N; i++)
		if (r->base[i] >= nb)
			nb = r->base[i] + 1;
	double *C = malloc(sizeof(double) * (nb > 0 ? nb : 1) * nb);
	if (!C) {
		free(A);
		free(ipiv);
		return kz_err(err, KZ_ENOMEM, "tba: out of memory (%d)", N);
	}
	for (int i = 0; i < N; i++)
		if (r->base[i] >= 0)
			for (int c = 0; c < N; c++)
				if (r->base[c] >= 0)
					C[r->base[i] + nb * r->base[c]] =
						cosh(2 * (r->lam[i] - r->lam[c]));
	for (int k = 0; k < m->P; k++)
		for (int c = r->off[k]; c < r->off[k] + r->cnt[k]; c++) {
			double wt = r->w[c] * theta[c], *col = A + (size_t)N * c;
			int bc = r->base[c];
			for (int j = 0; j < m->P; j++)
				for (int i = r->off[j];
				     i < r->off[j] + r->cnt[j]; i++) {
					if (wt == 0) {
						col[i] = 0;
						continue;
					}
					int bi = r->base[i];
					double c2 = bi >= 0 && bc >= 0
						? C[bi + nb * bc]
						: cosh(2 * (r->lam[i] - r->lam[c]));
					col[i] = wt * tba_kernel_c(m, j, k, c2);
				}
			/* the diagonal: row c of species k */
			col[c] += m->sig[k];
		}
	free(C);
	lapack_int info = LAPACKE_dgesv(LAPACK_COL_MAJOR, N, nrhs, A, N, ipiv,
					b, N);
	free(A);
	free(ipiv);
	if (info)
		return kz_err(err, KZ_ELAPACK, "tba: dgesv info %d (N = %d)",
			      (int)info, N);
	return KZ_OK;
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
