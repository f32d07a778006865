/* tba_eos: e(beta) of the TBA as a Chebyshev interpolant (tba_eos.h). */
#include "tba_eos.h"

#include <math.h>

#define PI 3.14159265358979323846

int tba_p_of_delta(double delta)
{
	if (!(delta > -1 && delta < 1))
		return 0;
	int P = (int)lround(PI / acos(delta));
	if (P < 2 || P > TBA_MAXP || fabs(cos(PI / P) - delta) > 1e-10)
		return 0;
	return P;
}

/* barycentric interpolation through the n Chebyshev-Lobatto nodes x[0],
 * x[s], x[2s], ... (weights (-1)^j, halved at the ends); derivative in
 * *dp if dp */
static double bary(const double *x, const double *f, int n, int s, double b,
		   double *dp)
{
	double num = 0, den = 0, dnum = 0, dden = 0;
	for (int j = 0; j < n; j++) {
		double w = (j == 0 || j == n - 1) ? 0.5 : 1, d = b - x[j * s];
		if (j % 2)
			w = -w;
		if (d == 0) {
			if (dp) /* at a node: a neighbouring secant will do */
				*dp = NAN;
			return f[j * s];
		}
		num += w / d * f[j * s];
		den += w / d;
		dnum -= w / (d * d) * f[j * s];
		dden -= w / (d * d);
	}
	if (dp)
		*dp = (dnum * den - num * dden) / (den * den);
	return num / den;
}

int tba_eos_build(tba_eos_t *t, double delta, char *err)
{
	int P = tba_p_of_delta(delta);
	if (!P)
		return kz_err(err, KZ_EINVAL,
			      "delta = %.12g is not cos(pi/P) for an integer "
			      "P in 2..%d: the TBA is built for gamma = pi/P "
			      "only",
			      delta, TBA_MAXP);
	tba_model_t m;
	tba_grid_t g;
	int rc = tba_model_init(&m, P, err);
	if (rc)
		return rc;
	tba_grid_default(&g);
	t->P = P;
	t->delta = delta;
	t->bmax = TBA_EOS_BMAX;
	const int n = TBA_EOS_NODES;
	for (int j = 0; j < n; j++) {
		t->x[j] = t->bmax * cos(PI * j / (n - 1));
		if ((rc = tba_energy(&m, t->x[j], &g, &t->e[j], err)))
			return rc;
		/* x descends, so e ascends */
		if (j && !(t->e[j] > t->e[j - 1]))
			return kz_err(err, KZ_ENUM,
				      "tba: e(beta) not decreasing at beta = "
				      "%g (P = %d)",
				      t->x[j], P);
	}
	/* the Chebyshev coefficients' tail (Trefethen, "Approximation Theory
	 * and Approximation Practice", ch. 8): with geometric decay the
	 * error is of the order of the last coefficients */
	t->err_est = 0;
	for (int k = n - 8; k < n; k++) {
		double c = 0;
		for (int j = 0; j < n; j++)
			c += (j == 0 || j == n - 1 ? 0.5 : 1) * t->e[j] *
			     cos(PI * (double)j * k / (n - 1));
		c *= (k == n - 1 ? 1.0 : 2.0) / (n - 1);
		t->err_est = fmax(t->err_est, fabs(c));
	}
	return KZ_OK;
}

double tba_eos_energy(const tba_eos_t *t, double beta)
{
	return bary(t->x, t->e, TBA_EOS_NODES, 1, beta, NULL);
}

double tba_eos_beta(const tba_eos_t *t, double e)
{
	const int n = TBA_EOS_NODES;
	if (!isfinite(e))
		return NAN;
	if (e > t->e[n - 1])
		return -HUGE_VAL;
	if (e < t->e[0])
		return HUGE_VAL;
	/* bracket between two nodes (e ascending with j), then Newton kept
	 * inside the bracket, bisection when a step would leave it */
	int lo = 0, hi = n - 1;
	while (hi - lo > 1) {
		int mid = (lo + hi) / 2;
		if (t->e[mid] <= e)
			lo = mid;
		else
			hi = mid;
	}
	double a = t->x[hi], b = t->x[lo]; /* a < b, e(a) >= e >= e(b) */
	double beta = a + (b - a) * (e - t->e[hi]) / (t->e[lo] - t->e[hi]);
	for (int it = 0; it < 100; it++) {
		double d, f = bary(t->x, t->e, n, 1, beta, &d) - e;
		if (f == 0)
			return beta;
		if (f > 0)
			a = beta; /* e too high: colder (larger beta) */
		else
			b = beta;
		double nb = beta - f / d;
		if (!(nb > a && nb < b))
			nb = (a + b) / 2;
		if (fabs(nb - beta) < 1e-13 || b - a < 1e-13)
			return nb;
		beta = nb;
	}
	return beta;
}
