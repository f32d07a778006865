/* tba_eos: the thermal equation of state e(beta) of the XXZ chain at
 * gamma = pi/P (h = 0) from the TBA of tba.h, as an interpolant that can be
 * inverted many times cheaply (beta_eff of every window and row of a run).
 *
 * e(beta) is analytic on the real beta axis (a thermodynamic-limit free
 * energy of a gapless chain; its nearest complex singularities lie at
 * |Im beta| of order pi), so a single Chebyshev interpolant on
 * [-bmax, bmax] converges geometrically: with bmax = 10 and 129
 * Chebyshev-Lobatto nodes (one TBA solve each) it holds e(beta) to ~1e-12
 * at P = 4 (measured; 80 nodes give 1e-8, 48 give 1e-5).  The interpolation
 * error is estimated a posteriori from the nodes themselves, as the
 * largest of the last eight Chebyshev coefficients (geometric decay).
 * Barycentric evaluation (Berrut and Trefethen, SIAM Review 46, 501
 * (2004)). */
#ifndef TBA_EOS_H
#define TBA_EOS_H

#include "tba.h"

#define TBA_EOS_NODES 129
#define TBA_EOS_BMAX 10.0

typedef struct {
	int P;
	double delta, bmax;
	double x[TBA_EOS_NODES];  /* Chebyshev-Lobatto nodes, descending */
	double e[TBA_EOS_NODES];  /* e(x) per bond, J = 1 */
	double err_est;           /* estimated interpolation error of e */
} tba_eos_t;

/* P with cos(pi / P) = delta to 1e-10, 2 <= P <= TBA_MAXP; 0 if there is
 * none (the TBA of tba.h is built for gamma = pi/P only). */
int tba_p_of_delta(double delta);

/* The interpolant for delta = cos(pi/P) (KZ_EINVAL with a message naming
 * delta if it is not such an anisotropy), one TBA solve per node on the
 * default grid; KZ_ENUM if e is not decreasing in beta on the nodes. */
int tba_eos_build(tba_eos_t *t, double delta, char *err);

/* e(beta) per bond at J = 1, for |beta| <= bmax. */
double tba_eos_energy(const tba_eos_t *t, double beta);

/* beta with e(beta) = e on [-bmax, bmax]; -inf for e above e(-bmax) (hotter
 * than the range, beyond infinite temperature), +inf below e(bmax); NaN
 * for a non-finite e.  Safeguarded Newton on the interpolant to 1e-13. */
double tba_eos_beta(const tba_eos_t *t, double e);

#endif
