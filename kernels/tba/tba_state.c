/* tba_state: thermal and ground states of the TBA (see tba.h). */
#include "tba.h"
#include "tba_impl.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void tba_state_const(tba_state_t *s, const tba_model_t *m, const double *c)
{
	memset(s, 0, sizeof *s);
	s->m = m;
	s->kind = TBA_CONST;
	for (int j = 0; j < m->P; j++)
		s->c[j] = c[j];
}

void tba_state_free(tba_state_t *s)
{
	if (s->kind == TBA_THERMAL)
		tba_rule_free(&s->r);
	free(s->lg);
	s->lg = NULL;
}

/* driving term beta (e_j + h n_j) */
static double drive(const tba_model_t *m, int j, double beta, double h,
		    double lam)
{
	return beta * (tba_e(m, j, lam) + h * m->n[j]);
}

/* eps_j(lam) from ln(1 + exp(-eps)) at the nodes (the TBA equation itself
 * used as Nystrom interpolation) */
static double eps_at(const tba_state_t *s, int j, double lam)
{
	const tba_model_t *m = s->m;
	const tba_rule_t *r = &s->r;
	double e = drive(m, j, s->beta, s->h, lam);
	for (int k = 0; k < m->P; k++)
		for (int c = r->off[k]; c < r->off[k] + r->cnt[k]; c++)
			e += m->sig[k] * r->w[c] *
			     tba_kernel(m, j, k, lam - r->lam[c]) * s->lg[c];
	return e;
}

double tba_state_theta(const tba_state_t *s, int j, double lam)
{
	if (s->kind == TBA_CONST)
		return s->c[j];
	return tba_fermi(eps_at(s, j, lam));
}

/* Newton's method for the TBA at (beta, h) from the guess eps (in/out).
 * M[i + N c] = sigma_k w_c T_jk(lam_i - lam_c) is fixed. */
static int newton(const tba_model_t *m, const tba_rule_t *r, const double *M,
		  double beta, double h, double *eps, char *err)
{
	int N = r->ntot, rc = KZ_OK;
	double *A = malloc(sizeof(double) * N * N);
	double *g = malloc(sizeof(double) * N * 3);
	lapack_int *ipiv = malloc(sizeof(lapack_int) * N);
	if (!A || !g || !ipiv) {
		rc = kz_err(err, KZ_ENOMEM, "tba: out of memory");
		goto out;
	}
	double *L = g + N, *th = g + 2 * N;
	for (int it = 0; it < 60; it++) {
		for (int c = 0; c < N; c++) {
			L[c] = tba_log1pexp_neg(eps[c]);
			th[c] = tba_fermi(eps[c]);
		}
		/* residual G = eps - drive - M L, Jacobian I + M diag(theta) */
		for (int j = 0; j < m->P; j++)
			for (int i = r->off[j]; i < r->off[j] + r->cnt[j]; i++)
				g[i] = eps[i] - drive(m, j, beta, h, r->lam[i]);
		for (int c = 0; c < N; c++) {
			const double *Mc = M + (size_t)N * c;
			double *Ac = A + (size_t)N * c;
			for (int i = 0; i < N; i++) {
				g[i] -= Mc[i] * L[c];
				Ac[i] = Mc[i] * th[c];
			}
			Ac[c] += 1;
		}
		double res = 0;
		for (int i = 0; i < N; i++)
			res = fmax(res, fabs(g[i]));
		lapack_int info = LAPACKE_dgesv(LAPACK_COL_MAJOR, N, 1, A, N,
						ipiv, g, N);
		if (info) {
			rc = kz_err(err, KZ_ELAPACK, "tba: dgesv info %d",
				    (int)info);
			goto out;
		}
		double step = 0, big = 1;
		for (int i = 0; i < N; i++) {
			step = fmax(step, fabs(g[i]));
			big = fmax(big, fabs(eps[i]));
		}
		/* damp large steps (far from the solution) */
		double f = step > 5 ? 5 / step : 1;
		for (int i = 0; i < N; i++)
			eps[i] -= f * g[i];
		if (f == 1 && step < 1e-13 * big && res < 1e-12 * big)
			goto out;
	}
	rc = kz_err(err, KZ_ENUM, "tba: Newton did not converge at beta = %g",
		    beta);
out:
	free(A);
	free(g);
	free(ipiv);
	return rc;
}

int tba_state_thermal(tba_state_t *s, const tba_model_t *m, double beta,
		      double h, const tba_grid_t *g, char *err)
{
	if (!s || !m)
		return kz_err(err, KZ_EINVAL, "tba: NULL argument");
	memset(s, 0, sizeof *s);
	if (!isfinite(beta) || !isfinite(h))
		return kz_err(err, KZ_EINVAL, "tba: beta = %g, h = %g", beta,
			      h);
	s->m = m;
	s->kind = TBA_THERMAL;
	s->beta = beta;
	s->h = h;
	int rc = tba_rule_base(&s->r, m->P, g, err);
	if (rc)
		return rc;
	const tba_rule_t *r = &s->r;
	int N = r->ntot;
	double *M = malloc(sizeof(double) * N * N);
	double *eps = malloc(sizeof(double) * N);
	s->lg = malloc(sizeof(double) * N);
	if (!M || !eps || !s->lg) {
		rc = kz_err(err, KZ_ENOMEM, "tba: out of memory");
		goto out;
	}
	for (int k = 0; k < m->P; k++)
		for (int c = r->off[k]; c < r->off[k] + r->cnt[k]; c++)
			for (int j = 0; j < m->P; j++)
				for (int i = r->off[j];
				     i < r->off[j] + r->cnt[j]; i++)
					M[i + (size_t)N * c] =
						m->sig[k] * r->w[c] *
						tba_kernel(m, j, k,
							   r->lam[i] -
								   r->lam[c]);
	/* continuation in beta: |beta| <= 1 directly, then doubling, each
	 * guess shifted by the change of the driving term */
	double b = fabs(beta) < 1 ? beta : copysign(1, beta), bprev = 0;
	for (int i = 0; i < N; i++)
		eps[i] = 0;
	for (;;) {
		for (int j = 0; j < m->P; j++)
			for (int i = r->off[j]; i < r->off[j] + r->cnt[j]; i++)
				eps[i] += (b - bprev) *
					  (tba_e(m, j, r->lam[i]) +
					   h * m->n[j]);
		if ((rc = newton(m, r, M, b, h, eps, err)))
			goto out;
		if (b == beta)
			break;
		bprev = b;
		b = fabs(2 * b) < fabs(beta) ? 2 * b : beta;
	}
	for (int i = 0; i < N; i++)
		s->lg[i] = tba_log1pexp_neg(eps[i]);
out:
	free(M);
	free(eps);
	if (rc)
		tba_state_free(s);
	return rc;
}

int tba_state_ground(tba_state_t *s, const tba_model_t *m,
		     const tba_grid_t *g, char *err)
{
	if (!s || !m)
		return kz_err(err, KZ_EINVAL, "tba: NULL argument");
	double c[TBA_MAXP] = {1};
	tba_state_const(s, m, c);
	/* check the filling: with theta = (1, 0, ...) the zero-temperature
	 * equations are linear, sigma_j X_j + T_j0 * X_0 = e_j with eps_0 =
	 * X_0 and eps_j = sigma_j X_j: the filling is the ground state iff
	 * eps_0 <= 0 and eps_j >= 0 (j > 0) everywhere */
	tba_rule_t r;
	int rc = tba_rule_base(&r, m->P, g, err);
	if (rc)
		return rc;
	double *th = malloc(sizeof(double) * r.ntot * 2);
	if (!th) {
		tba_rule_free(&r);
		return kz_err(err, KZ_ENOMEM, "tba: out of memory");
	}
	double *x = th + r.ntot;
	for (int j = 0; j < m->P; j++)
		for (int i = r.off[j]; i < r.off[j] + r.cnt[j]; i++) {
			th[i] = j == 0;
			x[i] = tba_e(m, j, r.lam[i]);
		}
	rc = tba_solve_dressing(m, &r, th, 1, x, err);
	for (int j = 0; j < m->P && !rc; j++)
		for (int i = r.off[j]; i < r.off[j] + r.cnt[j] && !rc; i++) {
			double e = m->sig[j] * x[i];
			if ((j == 0 && e > 1e-7) || (j > 0 && e < -1e-7))
				rc = kz_err(err, KZ_ENUM,
					    "tba: zero-temperature eps_%d(%g) "
					    "= %g contradicts the filling",
					    j, r.lam[i], e);
		}
	free(th);
	tba_rule_free(&r);
	return rc;
}

int tba_state_dress(const tba_state_t *s, const tba_grid_t *g,
		    tba_dressed_t *d, char *err)
{
	tba_rule_t r;
	int rc = tba_rule_base(&r, s->m->P, g, err);
	if (rc)
		return rc;
	double *th = malloc(sizeof(double) * r.ntot);
	if (!th) {
		tba_rule_free(&r);
		return kz_err(err, KZ_ENOMEM, "tba: out of memory");
	}
	for (int j = 0; j < s->m->P; j++)
		for (int i = r.off[j]; i < r.off[j] + r.cnt[j]; i++)
			th[i] = tba_state_theta(s, j, r.lam[i]);
	rc = tba_dress(d, s->m, &r, th, err);
	free(th);
	tba_rule_free(&r);
	return rc;
}

int tba_state_obs(const tba_state_t *s, const tba_grid_t *g, tba_obs_t *o,
		  char *err)
{
	tba_dressed_t d;
	int rc = tba_state_dress(s, g, &d, err);
	if (rc)
		return rc;
	tba_dressed_obs(&d, o);
	tba_dressed_free(&d);
	return KZ_OK;
}

int tba_energy(const tba_model_t *m, double beta, const tba_grid_t *g,
	       double *e, char *err)
{
	tba_state_t s;
	int rc = tba_state_thermal(&s, m, beta, 0, g, err);
	if (rc)
		return rc;
	tba_obs_t o;
	rc = tba_state_obs(&s, g, &o, err);
	tba_state_free(&s);
	if (!rc)
		*e = o.e;
	return rc;
}

int tba_beta_from_energy(const tba_model_t *m, double e, double bmax,
			 const tba_grid_t *g, double *beta, char *err)
{
	if (!(bmax > 0) || !isfinite(e))
		return kz_err(err, KZ_EINVAL, "tba: bmax = %g, e = %g", bmax,
			      e);
	double lo = -bmax, hi = bmax, elo, ehi;
	int rc = tba_energy(m, lo, g, &elo, err);
	if (!rc)
		rc = tba_energy(m, hi, g, &ehi, err);
	if (rc)
		return rc;
	if (!(e <= elo && e >= ehi))
		return kz_err(err, KZ_EINVAL,
			      "tba: e = %g outside [%g, %g] (beta in +-%g)",
			      e, ehi, elo, bmax);
	/* e(beta) is decreasing: Illinois regula falsi on f = e(beta) - e */
	double flo = elo - e, fhi = ehi - e;
	int side = 0;
	for (int it = 0; it < 200; it++) {
		double b = (lo * fhi - hi * flo) / (fhi - flo);
		if (!(b > lo && b < hi))
			b = (lo + hi) / 2;
		double eb;
		if ((rc = tba_energy(m, b, g, &eb, err)))
			return rc;
		double f = eb - e;
		if (fabs(f) < 1e-14 || hi - lo < 1e-13) {
			*beta = b;
			return KZ_OK;
		}
		if ((f > 0) == (flo > 0)) {
			lo = b;
			flo = f;
			if (side == -1)
				fhi /= 2;
			side = -1;
		} else {
			hi = b;
			fhi = f;
			if (side == 1)
				flo /= 2;
			side = 1;
		}
	}
	*beta = (lo + hi) / 2;
	return KZ_OK;
}
