/* junction: the extended chaotic junction between two GHD halves (see
 * junction.h). */
#include "junction.h"
#include "tba_impl.h"

#include <math.h>
#include <string.h>

static int edge(const kj_problem_t *p, int right, double beta, double *cur,
		double *e, ghd_ws_t *ws, char *err)
{
	const tba_model_t *m = right ? p->mR : p->mL;
	tba_state_t th;
	int rc = tba_state_thermal(&th, m, beta, 0, &p->g, err);
	if (rc)
		return rc;
	tba_obs_t o;
	/* the ray zeta = 0 itself: jumps where v = 0, the reservoir's filling
	 * for the particles moving away from the junction */
	rc = right ? ghd_ray(m, &th, p->sR, &p->g, 0, ws, &o, err)
		   : ghd_ray(m, p->sL, &th, &p->g, 0, ws, &o, err);
	tba_state_free(&th);
	if (rc)
		return rc;
	*cur = o.je;
	if (e)
		*e = o.e;
	return KZ_OK;
}

int kj_left_edge(const kj_problem_t *p, double beta_minus, double *current,
		 double *e, char *err)
{
	return edge(p, 0, beta_minus, current, e, NULL, err);
}

int kj_right_edge(const kj_problem_t *p, double beta_plus, double *current,
		  double *e, char *err)
{
	return edge(p, 1, beta_plus, current, e, NULL, err);
}

/* Illinois regula falsi for an increasing f on [a, b] with f(a) = fa < 0 <
 * fb = f(b); f(x, ctx, &y, err) */
typedef int (*kj_fn)(double x, void *ctx, double *y, char *err);

static int root(kj_fn f, void *ctx, double a, double fa, double b, double fb,
		double tol, double *x, char *err)
{
	int side = 0;
	for (int it = 0; it < 200; it++) {
		double c = (a * fb - b * fa) / (fb - fa);
		if (!(c > a && c < b))
			c = (a + b) / 2;
		double fc;
		int rc = f(c, ctx, &fc, err);
		if (rc)
			return rc;
		if (fc == 0 || b - a < tol) {
			*x = c;
			return KZ_OK;
		}
		/* fa < 0 throughout: the step moves a where fc < 0 */
		tba_illinois_step(&a, &fa, &b, &fb, &side, c, fc);
		if (b - a < tol) {
			*x = (a * fb - b * fa) / (fb - fa);
			return KZ_OK;
		}
	}
	return kz_err(err, KZ_ENUM, "junction: root finding did not converge");
}

typedef struct {
	const kj_problem_t *p;
	double target, R;
	double jlo, jhi;     /* J_left(-bmax), J_left(bmax) */
	int evals, have_bm;
	double last_beta_minus, last_current;
	ghd_ws_t wl, wr;     /* warm starts of the edge rays */
} kj_ctx;

/* J_left(beta) - target: increasing in beta (a hotter source sends back
 * more energy) */
static int left_resid(double beta, void *v, double *y, char *err)
{
	kj_ctx *c = v;
	double j;
	int rc = edge(c->p, 0, beta, &j, NULL, &c->wl, err);
	*y = j - c->target;
	return rc;
}

/* beta_minus(J), clamped to [-bmax, bmax] outside the reachable currents */
static int beta_minus_of(kj_ctx *c, double J, double *bm, char *err)
{
	double bmax = c->p->bmax;
	if (J <= c->jlo) {
		*bm = -bmax;
		return KZ_OK;
	}
	if (J >= c->jhi) {
		*bm = bmax;
		return KZ_OK;
	}
	c->target = J;
	/* bracket around the previous beta_minus (successive calls come
	 * from a converging outer iteration), widening by factors of 2 */
	double a = -bmax, fa = c->jlo - J, b = bmax, fb = c->jhi - J;
	if (c->have_bm) {
		double step = 0.25;
		double x0 = fmax(-bmax, fmin(bmax, c->last_beta_minus));
		double f0;
		int rc = left_resid(x0, c, &f0, err);
		if (rc)
			return rc;
		if (f0 == 0) {
			*bm = x0;
			return KZ_OK;
		}
		for (;;) {
			double x1 = f0 < 0 ? fmin(bmax, x0 + step)
					   : fmax(-bmax, x0 - step), f1;
			if ((rc = left_resid(x1, c, &f1, err)))
				return rc;
			if ((f1 > 0) != (f0 > 0) || x1 == bmax || x1 == -bmax) {
				if ((f1 > 0) != (f0 > 0)) {
					a = f0 < 0 ? x0 : x1;
					b = f0 < 0 ? x1 : x0;
					fa = f0 < 0 ? f0 : f1;
					fb = f0 < 0 ? f1 : f0;
				}
				break;
			}
			x0 = x1;
			f0 = f1;
			step *= 2;
		}
	}
	return root(left_resid, c, a, fa, b, fb, 1e-12, bm, err);
}

/* F(beta_plus) = beta_plus - beta_minus(J_right(beta_plus)) - R J:
 * increasing in beta_plus */
static int outer_resid(double bp, void *v, double *y, char *err)
{
	kj_ctx *c = v;
	double J, bm = 0;
	int rc = edge(c->p, 1, bp, &J, NULL, &c->wr, err);
	if (!rc)
		rc = beta_minus_of(c, J, &bm, err);
	if (rc)
		return rc;
	c->evals++;
	c->last_beta_minus = bm;
	c->have_bm = 1;
	c->last_current = J;
	*y = bp - bm - c->R * J;
	return KZ_OK;
}

int kj_solve(const kj_problem_t *p, double R, kj_solution_t *s, char *err)
{
	if (!p || !s || !p->mL || !p->mR || !p->sL || !p->sR)
		return kz_err(err, KZ_EINVAL, "junction: NULL argument");
	if (!(R >= 0) || !isfinite(R) || !(p->bmax > 0))
		return kz_err(err, KZ_EINVAL,
			      "junction: R = %g, bmax = %g (need R >= 0, "
			      "bmax > 0)",
			      R, p->bmax);
	kj_ctx c;
	memset(&c, 0, sizeof c);
	c.p = p;
	c.R = R;
	int rc = kj_left_edge(p, -p->bmax, &c.jlo, NULL, err);
	if (!rc)
		rc = kj_left_edge(p, p->bmax, &c.jhi, NULL, err);
	if (rc)
		return rc;
	/* F is increasing: bracket from beta_plus = 1, steps doubling */
	double a = 1, fa, b, fb, bp = 0, step = 1;
	if ((rc = outer_resid(a, &c, &fa, err)))
		return rc;
	for (;;) {
		b = fa < 0 ? fmin(p->bmax, a + step) : fmax(-p->bmax, a - step);
		if ((rc = outer_resid(b, &c, &fb, err)))
			return rc;
		if ((fb > 0) != (fa > 0))
			break;
		if (b == p->bmax || b == -p->bmax)
			return kz_err(err, KZ_ENUM,
				      "junction: no solution with |beta| <= "
				      "%g at R = %g",
				      p->bmax, R);
		a = b;
		fa = fb;
		step *= 2;
	}
	if (fa > 0) {
		double t = a, ft = fa;
		a = b;
		fa = fb;
		b = t;
		fb = ft;
	}
	if ((rc = root(outer_resid, &c, a, fa, b, fb, 1e-11, &bp, err)))
		return rc;
	/* the state at the root itself */
	double y;
	if ((rc = outer_resid(bp, &c, &y, err)))
		return rc;
	memset(s, 0, sizeof *s);
	s->R = R;
	s->beta_plus = bp;
	s->beta_minus = c.last_beta_minus;
	s->current = c.last_current;
	s->evals = c.evals;
	double jm;
	rc = kj_left_edge(p, s->beta_minus, &jm, &s->e_minus, err);
	if (!rc)
		rc = kj_right_edge(p, bp, &y, &s->e_plus, err);
	return rc;
}

int kj_profile(const kj_problem_t *p, const kj_solution_t *s, int n,
	       const double *zeta, tba_obs_t *o, char *err)
{
	tba_state_t tm, tp;
	int rc = tba_state_thermal(&tm, p->mL, s->beta_minus, 0, &p->g, err);
	if (rc)
		return rc;
	if ((rc = tba_state_thermal(&tp, p->mR, s->beta_plus, 0, &p->g,
				    err))) {
		tba_state_free(&tm);
		return rc;
	}
	ghd_ws_t wl, wr;
	memset(&wl, 0, sizeof wl);
	memset(&wr, 0, sizeof wr);
	for (int i = 0; i < n && !rc; i++)
		rc = zeta[i] < 0 ? ghd_ray(p->mL, p->sL, &tm, &p->g, zeta[i],
					   &wl, o + i, err)
				 : ghd_ray(p->mR, &tp, p->sR, &p->g, zeta[i],
					   &wr, o + i, err);
	tba_state_free(&tm);
	tba_state_free(&tp);
	return rc;
}
