/* dmrg: ground states of the chains of chain.h by two-site DMRG with U(1)
 * (fixed number of up spins) block sparsity, delivered as an mps_t in the
 * Vidal/Hastings form that tebd.h consumes directly.  This prepares the
 * paper's initial state |Psi1>, the ground state of H' = sum_n lambda_n h_n
 * with lambda_n = -1 on bonds n <= 0 and +1 on bonds n > 0: H' is the chain
 * with J_n -> lambda_n J_n, built by dmrg_paper_chain().
 *
 * Algorithm [S. R. White, PRL 69, 2863 (1992); U. Schollwoeck, Ann. Phys.
 * 326, 96 (2011), secs. 6.3-6.4]: the Hamiltonian enters through left and
 * right block environments (the operator content of the bond-dimension-5
 * XXZ MPO: block Hamiltonian and the edge operators S+, S-, Sz with the
 * next bond's couplings folded in); each two-site update solves the local
 * eigenproblem by Lanczos with full reorthogonalisation, applied
 * matrix-free on the charge blocks; the two-site state is split by one SVD
 * per charge sector and truncated to chi Schmidt values (chi doubling from
 * chi_start each sweep up to chi_max, values below `cutoff` dropped).
 * Everything is real arithmetic (H' is real symmetric); the result is
 * converted to complex at the end.  Start: the Neel-like product state with
 * the ups spread evenly, plus a small deterministic (fixed-seed) random
 * admixture in the first sweep so that no symmetry of the start state can
 * hide the ground state.
 *
 * A sweep is one left-to-right plus one right-to-left pass.  Converged when,
 * after a sweep, |E_sweep - E_previous| < energy_tol (absolute, total energy)
 * AND the largest discarded weight of that sweep < trunc_tol; if that has
 * not happened after max_sweeps sweeps the call fails with "not converged:
 * ...".  Energy and variance are then measured honestly on the returned
 * state by contracting <psi|H'|psi> and <psi|(H'-E)^2|psi> with the MPO. */
#ifndef DMRG_H
#define DMRG_H

#include "chain.h"
#include "kz.h"
#include "mps.h"

typedef struct {
	int chi_max;       /* >= 1: largest bond dimension */
	int chi_start;     /* >= 1: bond dimension of the first sweep */
	double cutoff;     /* >= 0: drop Schmidt values below this (absolute,
			      on the normalised spectrum, as in tebd.h) */
	int max_sweeps;    /* >= 1 */
	double energy_tol; /* > 0: energy change per sweep */
	double trunc_tol;  /* > 0: largest discarded weight in the sweep */
	int lanczos_iter;  /* >= 2: Krylov vectors per local update */
	double lanczos_tol;/* > 0: stop Lanczos at residual ||H x - E x||
			      below max(lanczos_tol, DMRG_LANCZOS_FRAC x
			      sqrt(largest discarded weight of the previous
			      sweep)): no tighter than the state the sweep
			      keeps (dmrg.c, lanczos_tol_of) */
	int threads;       /* >= 1: BLAS threads during the call (restored
			      after).  The charge blocks are small, so 1 is
			      fastest: 2 took 2.8x longer at L=140, chi=128 */
	int verbose;       /* 1: one line per sweep on stderr */
} dmrg_params_t;

/* chi_max 64, chi_start 16, cutoff 1e-10, max_sweeps 30, energy_tol 1e-9,
 * trunc_tol 1e-6, lanczos_iter 40, lanczos_tol 1e-10, 1 thread, quiet. */
void dmrg_params_default(dmrg_params_t *p);

typedef struct {
	double energy;        /* <psi|H'|psi> of the returned state */
	double variance;      /* <psi|(H' - energy)^2|psi> */
	double max_discarded; /* largest discarded weight, last sweep */
	double sweep_energy;  /* Lanczos energy at the end of the last sweep */
	double energy_change; /* |E_sweep - E_previous| of the last sweep */
	int sweeps;           /* sweeps done */
	int max_bond;         /* largest bond dimension of the result */
	double seconds;       /* wall time of the call */
	/* where the time went: local eigenproblems, SVD splits, environment
	 * updates (seconds), and the number of H_eff applications */
	double lanczos_s, svd_s, env_s;
	long matvecs;
} dmrg_result_t;

/* Ground state of the chain c (borrowed; its J_i, Delta_i as given, so for
 * |Psi1> pass dmrg_paper_chain()) among states with nup up spins.  On
 * success *out is a new state owned by the caller (mps_destroy), every B
 * right-orthonormal and the Schmidt values stored on every bond; res (may
 * be NULL) receives the figures above.  On failure *out is NULL and res,
 * if given, still holds the figures reached (the "not converged" case).
 * Errors: nup outside [0, L], bad parameters, no convergence (KZ_ENUM). */
int dmrg_ground_state(const chain_t *c, int nup, const dmrg_params_t *p,
		      mps_t **out, dmrg_result_t *res, char *err);

/* The chain of H' for the paper's |Psi1>: J_i = -J on kernel bonds i <=
 * L/2-1 (paper bonds n <= 0), +J on the others; Delta_i = delta_left on the
 * left bonds, delta_right on the right ones (as chain_create_junction). */
int dmrg_paper_chain(chain_t **c, int L, double J, double delta_left,
		     double delta_right, char *err);

/* <psi|H|psi> / <psi|psi> and <psi|(H - E)^2|psi> / <psi|psi> of any m
 * (no canonical form assumed) by MPO contraction; for checks of states from
 * anywhere (e.g. after TEBD).  variance may be NULL. */
int dmrg_energy_variance(const mps_t *m, const chain_t *c, double *energy,
			 double *variance, char *err);

#endif
