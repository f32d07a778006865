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
	free(s->eps);
	s->lg = s->eps = NULL;
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
	for (int k = 0; k < m->P; k++) {
		e += m->sig[k] * m->tint[j][k] * s->linf[k];
		for (int c = r->off[k]; c < r->off[k] + r->cnt[k]; c++)
			e += m->sig[k] * r->w[c] *
			     tba_kernel(m, j, k, lam - r->lam[c]) * s->lg[c];
	}
	return e;
}

double tba_state_theta(const tba_state_t *s, int j, double lam)
{
	if (s->kind == TBA_CONST)
		return s->c[j];
	return tba_fermi(eps_at(s, j, lam));
}

double tba_state_theta_node(const tba_state_t *s, int j, double lam,
			    int base)
{
	if (s->kind == TBA_CONST)
		return s->c[j];
	if (base >= 0)
		return tba_fermi(s->eps[s->r.off[j] + base]);
	return tba_fermi(eps_at(s, j, lam));
}

/* The constants eps_j(inf) = beta h n_j + sum_k sigma_k t_jk L(eps_k(inf)),
 * L(x) = ln(1 + exp(-x)), by damped Newton from eps = beta h n. */
static int asymptotics(const tba_model_t *m, double beta, double h,
		       double *einf, char *err)
{
	int P = m->P;
	for (int j = 0; j < P; j++)
		einf[j] = beta * h * m->n[j];
	for (int it = 0; it < 200; it++) {
		double A[TBA_MAXP * TBA_MAXP], g[TBA_MAXP], big = 1, step = 0;
		lapack_int ipiv[TBA_MAXP];
		for (int j = 0; j < P; j++) {
			g[j] = einf[j] - beta * h * m->n[j];
			for (int k = 0; k < P; k++) {
				double t = m->sig[k] * m->tint[j][k];
				g[j] -= t * tba_log1pexp_neg(einf[k]);
				A[j + P * k] = (j == k) +
					       t * tba_fermi(einf[k]);
			}
		}
		if (LAPACKE_dgesv(LAPACK_COL_MAJOR, P, 1, A, P, ipiv, g, P))
			break;
		for (int j = 0; j < P; j++) {
			step = fmax(step, fabs(g[j]));
			big = fmax(big, fabs(einf[j]));
		}
		double f = step > 2 ? 2 / step : 1;
		for (int j = 0; j < P; j++)
			einf[j] -= f * g[j];
		if (f == 1 && step < 1e-14 * big)
			return KZ_OK;
	}
	return kz_err(err, KZ_ENUM,
		      "tba: no asymptotic solution at beta h = %g", beta * h);
}

/* Newton's method for the TBA at (beta, h) from the guess eps (in/out).
 * M[i + N c] = sigma_k w_c T_jk(lam_i - lam_c) is fixed. */
/* Newton's method for the TBA at (beta, h) from the guess eps (in/out).
 * M[i + N c] = sigma_k w_c T_jk(lam_i - lam_c) is fixed.  The Jacobian
 * I + M diag(theta) is factorised again only when the residual stops
 * falling fast (chord iterations in between). */
static int newton(const tba_model_t *m, const tba_rule_t *r, const double *M,
		  double beta, double h, const double *linf, double *eps,
		  char *err)
{
	int N = r->ntot, rc = KZ_OK, fresh = 0;
	double *A = malloc(sizeof(double) * N * N);
	double *g = malloc(sizeof(double) * N * 3);
	lapack_int *ipiv = malloc(sizeof(lapack_int) * N);
	if (!A || !g || !ipiv) {
		rc = kz_err(err, KZ_ENOMEM, "tba: out of memory");
		goto out;
	}
	double *L = g + N, *th = g + 2 * N, last = HUGE_VAL;
	for (int it = 0; it < 200; it++) {
		for (int k = 0; k < m->P; k++)
			for (int c = r->off[k]; c < r->off[k] + r->cnt[k];
			     c++) {
				L[c] = tba_log1pexp_neg(eps[c]) - linf[k];
				th[c] = tba_fermi(eps[c]);
			}
		/* residual G = eps - drive - t Linf - M (L - Linf) */
		for (int j = 0; j < m->P; j++) {
			double cst = 0;
			for (int k = 0; k < m->P; k++)
				cst += m->sig[k] * m->tint[j][k] * linf[k];
			for (int i = r->off[j]; i < r->off[j] + r->cnt[j]; i++)
				g[i] = eps[i] - drive(m, j, beta, h, r->lam[i]) -
				       cst;
		}
		for (int c = 0; c < N; c++) {
			const double *Mc = M + (size_t)N * c;
			for (int i = 0; i < N; i++)
				g[i] -= Mc[i] * L[c];
		}
		double res = 0, big = 1;
		for (int i = 0; i < N; i++) {
			res = fmax(res, fabs(g[i]));
			big = fmax(big, fabs(eps[i]));
		}
		if (res < 1e-13 * big)
			goto out;
		if (it == 0 || res > 0.1 * last) {
			/* Jacobian I + M diag(theta), factorised */
			for (int c = 0; c < N; c++) {
				const double *Mc = M + (size_t)N * c;
				double *Ac = A + (size_t)N * c;
				for (int i = 0; i < N; i++)
					Ac[i] = Mc[i] * th[c];
				Ac[c] += 1;
			}
			lapack_int info = LAPACKE_dgetrf_work(LAPACK_COL_MAJOR, N, N,
							 A, N, ipiv);
			if (info) {
				rc = kz_err(err, KZ_ELAPACK,
					    "tba: dgetrf info %d", (int)info);
				goto out;
			}
			fresh = 1;
		} else {
			fresh = 0;
		}
		last = res;
		LAPACKE_dgetrs_work(LAPACK_COL_MAJOR, 'N', N, 1, A, N, ipiv, g, N);
		double step = 0;
		for (int i = 0; i < N; i++)
			step = fmax(step, fabs(g[i]));
		/* damp large steps (far from the solution) */
		double f = step > 5 ? 5 / step : 1;
		for (int i = 0; i < N; i++)
			eps[i] -= f * g[i];
		(void)fresh;
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
	double *eps = malloc(sizeof(double) * N), einf[TBA_MAXP];
	s->lg = malloc(sizeof(double) * N);
	if (!M || !eps || !s->lg) {
		rc = kz_err(err, KZ_ENOMEM, "tba: out of memory");
		goto out;
	}
	if (m->P == 2) {
		/* free fermions: every T_jk vanishes, eps = the driving term */
		for (int j = 0; j < m->P; j++) {
			s->linf[j] = 0;
			for (int i = r->off[j]; i < r->off[j] + r->cnt[j]; i++)
				eps[i] = drive(m, j, beta, h, r->lam[i]);
		}
		goto done;
	}
	/* the base rule has the same nodes for every species: one cosh per
	 * pair of nodes */
	int nb = r->cnt[0];
	for (int bc = 0; bc < nb; bc++)
		for (int bi = 0; bi < nb; bi++) {
			double c2 = cosh(2 * (r->lam[bi] - r->lam[bc]));
			for (int k = 0; k < m->P; k++)
				for (int j = 0; j < m->P; j++)
					M[r->off[j] + bi +
					  (size_t)N * (r->off[k] + bc)] =
						m->sig[k] * r->w[bc] *
						tba_kernel_c(m, j, k, c2);
		}
	/* continuation in beta: |beta| <= 4 directly, then by factors of 4,
	 * each guess shifted by the change of the driving term */
	double b = fabs(beta) < 4 ? beta : copysign(4, beta), bprev = 0;
	for (int i = 0; i < N; i++)
		eps[i] = 0;
	if ((rc = asymptotics(m, beta, h, einf, err)))
		goto out;
	for (int k = 0; k < m->P; k++)
		s->linf[k] = tba_log1pexp_neg(einf[k]);
	for (;;) {
		for (int j = 0; j < m->P; j++)
			for (int i = r->off[j]; i < r->off[j] + r->cnt[j]; i++)
				eps[i] += (b - bprev) *
					  (tba_e(m, j, r->lam[i]) +
					   h * m->n[j]);
		if ((rc = newton(m, r, M, b, h, s->linf, eps, err)))
			goto out;
		if (b == beta)
			break;
		bprev = b;
		b = fabs(4 * b) < fabs(beta) ? 4 * b : beta;
	}
done:
	for (int k = 0; k < m->P; k++)
		for (int c = r->off[k]; c < r->off[k] + r->cnt[k]; c++)
			s->lg[c] = tba_log1pexp_neg(eps[c]) - s->linf[k];
	s->eps = eps;
	eps = NULL;
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
	 * eps_0 <= 0 and eps_j >= 0 (j > 0) everywhere.  At h = 0 the eps_j
	 * of the last two strings vanish identically (their sign is rounding,
	 * up to ~1e-7 at the far tails where the u-quadrature does not
	 * resolve the kernels), hence the tolerance. */
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
			if ((j == 0 && e > 1e-6) || (j > 0 && e < -1e-6))
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
			th[i] = tba_state_theta_node(s, j, r.lam[i],
						     r.base[i]);
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
