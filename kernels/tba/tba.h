/* tba: thermodynamic Bethe ansatz of the gapless XXZ chain at the roots of
 * unity gamma = pi/P (integer P >= 2), in the form that generalized
 * hydrodynamics uses (string densities, dressing, effective velocities).
 *
 * Hamiltonian (the repository's, J = 1): H = sum_n h_n,
 *   h_n = Sx_n Sx_{n+1} + Sy_n Sy_{n+1} + Delta Sz_n Sz_{n+1},
 * Delta = cos(gamma), spin-1/2 operators; thermal ensembles
 * exp(-beta (H - h Sz_tot)).  Bethe states are built on the all-up state
 * (energy Delta/4 per bond); a magnon lowers Sz by 1.
 *
 * Strings (Takahashi and Suzuki, Prog. Theor. Phys. 48, 2187 (1972);
 * Takahashi, "Thermodynamics of One-Dimensional Solvable Models", ch. 9): for
 * gamma = pi/P there are P species j = 0..P-1 (Takahashi's j = 1..P) with
 * lengths n_j = j + 1 and parity +1 for j < P-1, and the negative-parity
 * 1-string n = 1, parity -1 for j = P-1; sigma_j = +1, except sigma_{P-1} =
 * -1.  With
 *   a^v_n(lam) = (v / pi) sin(gamma n) / (cosh(2 lam) - v cos(gamma n))
 * (zero when gamma n is a multiple of pi), a_j = a^{v_j}_{n_j}:
 *   bare momentum derivative   k'_j(lam) = 2 pi a_j(lam),
 *   bare energy                e_j(lam)  = -pi sin(gamma) a_j(lam),
 *   scattering kernel          T_jk = (1 - delta_{n_j n_k}) a^{v_j v_k}_{|n_j - n_k|}
 *        + 2 a^{v_j v_k}_{|n_j - n_k| + 2} + ... + 2 a^{v_j v_k}_{n_j + n_k - 2}
 *        + a^{v_j v_k}_{n_j + n_k},
 * the Bethe-Takahashi equations a_j = sigma_j (rho_j + rho^h_j) + sum_k T_jk *
 * rho_k (Takahashi's book, ch. 9, the string equations for gamma = pi/nu).  For a source s_j(lam) we call
 * "dressing" the solution X of
 *   sigma_j X_j + sum_k T_jk * (theta_k X_k) = s_j,
 * so rho^t = X[k'/2pi] and v rho^t = X[e'/2pi], v_j = X[e']_j / X[k']_j
 * (the dressing and effective velocity of Castro-Alvaredo, Doyon, Yoshimura,
 * PRX 6, 041065 (2016), and of Bertini, Collura, De Nardis, Fagotti, PRL
 * 117, 207201 (2016), written for the sigma_j of the XXZ strings; the
 * paper's eq. (22) and the dressing below it).
 * Densities and currents of a charge with one-particle eigenvalue q_j
 * (the paper's eqs. (24), (25)):
 *   <q> = sum_j int dlam theta_j X[k'/2pi]_j q_j,
 *   <J_q> = sum_j int dlam theta_j X[e'/2pi]_j q_j.
 * At P = 2 every T_jk vanishes: free fermions, cos k = -1/cosh(2 lam) on
 * species 0 and +1/cosh(2 lam) on species 1, both with velocity tanh(2 lam).
 *
 * Numerics: lam = 2 atanh(u), composite Gauss-Legendre in u on (-1, 1)
 * (every function of exp(-lam) is analytic in u at u = +-1, so the tails are
 * integrated without truncation), Nystrom discretisation of the integral
 * equations, dense LU (LAPACK).  A filling with jumps (GHD rays, ghd.h) is
 * integrated exactly by splitting the panels at the jumps. */
#ifndef TBA_H
#define TBA_H

#include "kz.h"

#define TBA_MAXP 12

typedef struct {
	int P;                   /* gamma = pi/P, 2 <= P <= TBA_MAXP */
	double gamma, delta;     /* delta = cos(gamma) */
	int n[TBA_MAXP];         /* string lengths */
	int par[TBA_MAXP];       /* parities +-1 */
	int sig[TBA_MAXP];       /* sigma_j */
	/* sin(gamma n), cos(gamma n) for n = 0..2P (sin set to 0 where
	 * gamma n is a multiple of pi) */
	double sn[2 * TBA_MAXP + 1], cn[2 * TBA_MAXP + 1];
	/* t_jk = int T_jk(lam) dlam over the real line */
	double tint[TBA_MAXP][TBA_MAXP];
} tba_model_t;

int tba_model_init(tba_model_t *m, int P, char *err);

/* a^v_n(lam) above and its lam-derivative */
double tba_a(const tba_model_t *m, int n, int v, double lam);
double tba_da(const tba_model_t *m, int n, int v, double lam);
/* T_jk(lam); tba_kernel_c takes c2 = cosh(2 lam) */
double tba_kernel(const tba_model_t *m, int j, int k, double lam);
double tba_kernel_c(const tba_model_t *m, int j, int k, double c2);
/* int a^v_n(lam) dlam over the real line: 1 - x/pi for v = +1, x = gamma n
 * mod 2pi in (0, 2pi); -y/pi for v = -1, y = gamma n reduced to (-pi, pi]
 * (from the antiderivatives (1/pi) arctan(cot(x/2) tanh lam) and
 * -(1/pi) arctan(tan(x/2) tanh lam)) */
double tba_a_integral(const tba_model_t *m, int n, int v);
/* bare k'_j, e_j, e'_j of species j */
double tba_kp(const tba_model_t *m, int j, double lam);
double tba_e(const tba_model_t *m, int j, double lam);
double tba_ep(const tba_model_t *m, int j, double lam);

/* ---- quadrature -------------------------------------------------------- */

/* npan panels of ng Gauss-Legendre nodes in u = tanh(lam/2) */
typedef struct {
	int npan, ng;
} tba_grid_t;

/* npan = 8, ng = 12 (convergence measured in tests/kernels/test_tba.c) */
void tba_grid_default(tba_grid_t *g);

/* Nodes and weights per species: species j has cnt[j] nodes lam[off[j] +
 * i], weights w[off[j] + i] (dlam included). */
typedef struct {
	int ns, ntot;
	int cnt[TBA_MAXP], off[TBA_MAXP];
	double *lam, *w;
	int *base;               /* index of the same node in the base rule's
				  * species 0, or -1 (nodes of split panels) */
} tba_rule_t;

/* The base rule (same nodes for every species), and one with species j's
 * panels split at the nbp[j] rapidities bp[j][0..nbp[j]-1] (any order). */
int tba_rule_base(tba_rule_t *r, int ns, const tba_grid_t *g, char *err);
int tba_rule_split(tba_rule_t *r, int ns, const tba_grid_t *g,
		   const int *nbp, double (*bp)[4], char *err);
void tba_rule_free(tba_rule_t *r);

/* Gauss-Legendre nodes/weights on [-1, 1] (n <= 64) */
void tba_gauss_legendre(int n, double *x, double *w);

/* ---- dressing ---------------------------------------------------------- */

/* A dressed filling: the rule, theta at its nodes, and the dressed k'/2pi
 * and e'/2pi (xk, xe) at the nodes; everything owned. */
typedef struct {
	const tba_model_t *m;
	tba_rule_t r;
	double *theta, *xk, *xe;
} tba_dressed_t;

/* Dress theta (given at r's nodes; r and theta are copied). */
int tba_dress(tba_dressed_t *d, const tba_model_t *m, const tba_rule_t *r,
	      const double *theta, char *err);
void tba_dressed_free(tba_dressed_t *d);
/* The dressed k'/2pi, e'/2pi of species j at any lam (Nystrom
 * interpolation) and the effective velocity there. */
void tba_dressed_at(const tba_dressed_t *d, int j, double lam, double *xk,
		    double *xe);
double tba_velocity_at(const tba_dressed_t *d, int j, double lam);

/* Energy density per bond <h_n>, energy current, magnetization <Sz_n> and
 * spin current of a dressed filling. */
typedef struct {
	double e, je, sz, jm;
} tba_obs_t;
void tba_dressed_obs(const tba_dressed_t *d, tba_obs_t *o);

/* ---- states (generalized Gibbs ensembles given by their fillings) ------- */

enum { TBA_CONST = 0, TBA_THERMAL = 1 };

typedef struct {
	const tba_model_t *m;
	int kind;
	double c[TBA_MAXP];      /* TBA_CONST: theta_j = c[j] for all lam */
	double beta, h;          /* TBA_THERMAL */
	tba_rule_t r;            /* base rule of the thermal solution */
	/* ln(1 + exp(-eps_k)) = linf[k] + lg at r's nodes, linf its value at
	 * lam -> +-infinity; eps at the nodes */
	double *lg, *eps, linf[TBA_MAXP];
} tba_state_t;

/* theta_j = c[j] (e.g. the ground state at h = 0, the top of the band of
 * the XX chain, the all-down state). */
void tba_state_const(tba_state_t *s, const tba_model_t *m, const double *c);
/* Thermal state at (beta, h), from the TBA equations
 *   eps_j = beta (e_j + h n_j) + sum_k sigma_k T_jk * ln(1 + exp(-eps_k)),
 * theta_j = 1 / (1 + exp(eps_j)) (Takahashi's book, ch. 9, before the
 * partial decoupling; Yang-Yang minimisation of the free energy with the
 * Bethe-Takahashi equations above), by Newton's method with continuation in
 * beta.  ln(1 + exp(-eps)) tends to constants at lam -> +-infinity, where
 * the kernels' width is not resolved by the u-quadrature: the constants
 * (from the algebraic equations eps_j(inf) = beta h n_j + sum_k sigma_k
 * t_jk ln(1 + exp(-eps_k(inf)))) are convolved exactly, only the decaying
 * rest by quadrature.  Any finite beta (negative: the inverted ensemble). */
int tba_state_thermal(tba_state_t *s, const tba_model_t *m, double beta,
		      double h, const tba_grid_t *g, char *err);
/* The ground state (beta -> infinity) at h = 0: the zero-temperature limit
 * of the equations above, eps_j = e_j + sum_k sigma_k T_jk * max(-eps_k, 0),
 * solved by iteration; at h = 0 it fills species 0 on the whole line and
 * leaves the others empty (Takahashi's book, ch. 9), which is checked. */
int tba_state_ground(tba_state_t *s, const tba_model_t *m,
		     const tba_grid_t *g, char *err);
void tba_state_free(tba_state_t *s);
double tba_state_theta(const tba_state_t *s, int j, double lam);

/* Observables of a homogeneous state (on the base rule of g). */
int tba_state_obs(const tba_state_t *s, const tba_grid_t *g, tba_obs_t *o,
		  char *err);
/* The dressed state on the base rule (caller frees). */
int tba_state_dress(const tba_state_t *s, const tba_grid_t *g,
		    tba_dressed_t *d, char *err);

/* Energy density per bond of the thermal state at (beta, h = 0) */
int tba_energy(const tba_model_t *m, double beta, const tba_grid_t *g,
	       double *e, char *err);
/* beta with tba_energy(beta) = e, for e strictly between the ground-state
 * energy and the top of the band, by bracketing and bisection-secant in
 * beta in [-bmax, bmax]. */
int tba_beta_from_energy(const tba_model_t *m, double e, double bmax,
			 const tba_grid_t *g, double *beta, char *err);

#endif
