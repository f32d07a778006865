/* ghd: generalized hydrodynamics of the partitioning protocol (two
 * homogeneous states joined at x = 0 at t = 0, the same model on both sides)
 * on the TBA of tba.h.
 *
 * On the ray zeta = x/t the fillings are (the solution of the Riemann
 * problem in Castro-Alvaredo, Doyon, Yoshimura, PRX 6, 041065 (2016) and
 * Bertini, Collura, De Nardis, Fagotti, PRL 117, 207201 (2016); the paper's
 * eqs. (21), (23))
 *   theta_j(lam; zeta) = theta^L_j(lam) H(v_j(lam; zeta) - zeta)
 *                      + theta^R_j(lam) H(zeta - v_j(lam; zeta)),
 * with v_j the effective velocity of that very filling: a fixed point,
 * found by iterating on the rapidities where v_j = zeta (the jumps of
 * theta), each iteration dressing on a rule split at the current jumps so
 * that the piecewise-smooth integrands are integrated to quadrature
 * accuracy.  With a one-sided rule (ghd_ray_side) only one of the two
 * halves of a junction is described: at zeta -> 0-, say, the left
 * reservoir's filling moves right and the junction's moves left. */
#ifndef GHD_H
#define GHD_H

#include "tba.h"

/* State of the iteration, reused from ray to ray as a warm start (zeroed:
 * a cold start). */
typedef struct {
	int valid;               /* 0: cold start, 1: one ray, 2: two */
	int nbp[TBA_MAXP];       /* jumps of each species */
	double bp[TBA_MAXP][4];
	int side[TBA_MAXP][5];   /* 1 where v > zeta (left filling) */
	int iters;               /* iterations of the last ray */
	/* the ray before (for a linear extrapolation of the jumps) */
	double zeta[2];
	int nbp0[TBA_MAXP], side0[TBA_MAXP][5];
	double bp0[TBA_MAXP][4];
} ghd_ws_t;

/* Observables on the ray zeta (any real: outside the light cone the
 * reservoir values come out).  ws may be NULL. */
int ghd_ray(const tba_model_t *m, const tba_state_t *left,
	    const tba_state_t *right, const tba_grid_t *g, double zeta,
	    ghd_ws_t *ws, tba_obs_t *o, char *err);

/* The same for n rays zeta[0..n-1] (warm-started in order). */
int ghd_profile(const tba_model_t *m, const tba_state_t *left,
		const tba_state_t *right, const tba_grid_t *g, int n,
		const double *zeta, tba_obs_t *o, char *err);

/* The largest effective velocity of species j in a homogeneous state
 * (sup over lam of v_j, from a scan of lam in [-8, 8]). */
int ghd_max_velocity(const tba_state_t *s, const tba_grid_t *g, int j,
		     double *v, char *err);

#endif
