/* junction: the paper's model of an extended chaotic junction (its
 * eqs. (10)-(14) and (20)-(25), Methods "Details on the chaotic model of the
 * junction", Fig. 6).  Two integrable halves (left: model mL in state sL,
 * right: model mR in state sR) are joined through a diffusive region of
 * length l that does not grow with time.  Seen from the rays zeta = x/t it
 * is a point that absorbs quasiparticles and emits thermal ones: at zeta ->
 * 0- the left half's left-movers are thermal at inverse temperature
 * beta_minus (of mL), at zeta -> 0+ the right half's right-movers thermal at
 * beta_plus (of mR); each half is then a partitioning protocol (ghd.h):
 *   left half:  reservoir sL for v > zeta, thermal(beta_minus) for v < zeta,
 *   right half: thermal(beta_plus) for v > zeta, reservoir sR for v < zeta.
 * The stationary junction carries the energy current of both edges,
 *   J = J_left(0-; beta_minus) = J_right(0+; beta_plus),
 * and Fourier's law across it fixes the temperature jump.
 *
 * Fourier's law.  The paper writes J = kappa0 (T- - T+)/l = (T- - T+)/R
 * (its eqs. (13), (14)) with constant conductivity, for weak temperature
 * variations.  Here the left edge lies above infinite temperature (the left
 * half of |Psi1> is the top of the XX band, beta_L = -infinity, and what it
 * emits is hotter than any positive temperature), so T jumps through
 * +-infinity across the junction and (T- - T+) changes sign there: with it
 * no R would decouple the halves.  We therefore use the same law in the
 * variable that is continuous (and ordered by hotness) through infinite
 * temperature, beta: with kappa(T) = L / T^2 (the high-temperature form of
 * the conductivity of a lattice system, L the Onsager coefficient),
 * J = -kappa dT/dx = L dbeta/dx, and across the junction
 *   J = (beta_plus - beta_minus) / R,   R = l / L,
 * which agrees with the paper's form up to the factor T^2 for weak
 * variations around any finite T.  R = 0 is the paper's limit beta_minus =
 * beta_plus at finite current (Fig. 6 caption); R -> infinity decouples the
 * halves (J -> 0, beta_minus -> -infinity, beta_plus -> +infinity). */
#ifndef KJ_JUNCTION_H
#define KJ_JUNCTION_H

#include "ghd.h"
#include "tba.h"

typedef struct {
	const tba_model_t *mL, *mR;
	const tba_state_t *sL, *sR;   /* the reservoirs (initial halves) */
	tba_grid_t g;
	double bmax;                  /* |beta_minus|, |beta_plus| <= bmax */
} kj_problem_t;

typedef struct {
	double R, beta_minus, beta_plus, current;
	double e_minus, e_plus;       /* E at zeta = 0- and 0+ */
	int evals;                    /* right-edge evaluations used */
} kj_solution_t;

/* The energy current at zeta = 0- (left half) for the junction's left
 * temperature beta_minus, and at 0+ (right half) for beta_plus; e (may be
 * NULL) receives the energy density there. */
int kj_left_edge(const kj_problem_t *p, double beta_minus, double *current,
		 double *e, char *err);
int kj_right_edge(const kj_problem_t *p, double beta_plus, double *current,
		  double *e, char *err);

/* The stationary state for resistance R >= 0. */
int kj_solve(const kj_problem_t *p, double R, kj_solution_t *s, char *err);

/* Profiles on the rays zeta[0..n-1] (zeta < 0: left half, zeta > 0: right
 * half, zeta = 0 counts as 0+) of the solution s. */
int kj_profile(const kj_problem_t *p, const kj_solution_t *s, int n,
	       const double *zeta, tba_obs_t *o, char *err);

#endif
