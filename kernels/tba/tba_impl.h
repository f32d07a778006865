/* tba_impl: what tba.c shares with tba_state.c, ghd.c and junction.c. */
#ifndef TBA_IMPL_H
#define TBA_IMPL_H

#include "tba.h"

#include <math.h>

/* Solve sigma_j X_j + sum_k T_jk * (theta_k X_k) = b_j on the rule r for
 * nrhs (1 or 2) right-hand sides stored column-major in b (r->ntot rows each),
 * overwritten by X. */
int tba_solve_dressing(const tba_model_t *m, const tba_rule_t *r,
		       const double *theta, int nrhs, double *b, char *err);

/* theta_j of s at lam, which is node `base` of the base rule when base >= 0
 * (then read from the stored solution, not interpolated) */
double tba_state_theta_node(const tba_state_t *s, int j, double lam,
			    int base);

/* 1 / (1 + exp(x)) and ln(1 + exp(-x)) without overflow */
static inline double tba_fermi(double x)
{
	return x > 0 ? exp(-x) / (1 + exp(-x)) : 1 / (1 + exp(x));
}

static inline double tba_log1pexp_neg(double x)
{
	return x > 0 ? log1p(exp(-x)) : -x + log1p(exp(x));
}

/* One step of the Illinois regula falsi (the root of f bracketed by [a, b],
 * f(a) = fa and f(b) = fb of opposite signs): c with fc = f(c) != 0
 * replaces the end whose value has fc's sign, and the value at the other
 * end is halved when the same end moved last time too (side: -1 a moved,
 * 1 b moved, 0 at the start), which keeps the convergence superlinear. */
static inline void tba_illinois_step(double *a, double *fa, double *b,
				     double *fb, int *side, double c,
				     double fc)
{
	if ((fc > 0) == (*fa > 0)) {
		*a = c;
		*fa = fc;
		if (*side == -1)
			*fb /= 2;
		*side = -1;
	} else {
		*b = c;
		*fb = fc;
		if (*side == 1)
			*fa /= 2;
		*side = 1;
	}
}

#endif
