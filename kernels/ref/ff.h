/* ff: free-fermion reference for chains with Delta = 0 on every bond (the XX
 * chain, any per-bond J_n, any L).  Jordan-Wigner maps
 *   S+_i S-_{i+1} = c_i^dag c_{i+1},   Sz_i = n_i - 1/2,
 * so h_i = (J_i/2)(c_i^dag c_{i+1} + h.c.) and a Gaussian state is fixed by
 * its correlation matrix C_ij = <c_i^dag c_j>, evolved exactly as
 * C(t) = e^{i h t} C e^{-i h t} (h the L x L hopping matrix, transposed
 * appropriately; see ff.c).  Used by tests at L = 140 and beyond.
 * Indices are kernel site/bond indices as in chain.h. */
#ifndef FF_H
#define FF_H

#include "chain.h"
#include "kz.h"

typedef struct ff_s ff_t;

/* Error if any Delta_i != 0.  c is borrowed (copied). */
int ff_create(ff_t **f, const chain_t *c, char *err);
void ff_destroy(ff_t **f);

/* Product state: up[i] in {0,1}. */
int ff_set_product(ff_t *f, const int *up, char *err);
/* Slater-determinant ground state with nup particles (lowest nup modes of the
 * hopping matrix); *energy its energy.  Error if the nup-th and (nup+1)-th
 * single-particle levels are degenerate within 1e-10. */
int ff_set_ground_state(ff_t *f, int nup, double *energy, char *err);
/* The same, for the hopping matrix of another chain c0 (borrowed; same L,
 * Delta = 0): the initial state of a quench evolved under f's chain, e.g.
 * |Psi1> = ground state of H' = sum lambda_n h_n.  *energy is its energy
 * under c0.  Product states are useless there: for them <h_i> and j_b vanish
 * identically (bipartite gauge), so only this exercises the energy flow. */
int ff_set_ground_state_of(ff_t *f, const chain_t *c0, int nup,
			   double *energy, char *err);
/* Exact evolution of the current state by time t. */
int ff_evolve(ff_t *f, double t, char *err);

double ff_sz(const ff_t *f, int i);
double ff_bond_energy(const ff_t *f, int i);
double ff_spin_current(const ff_t *f, int i);   /* as ed_spin_current */
double ff_energy_flow(const ff_t *f, int b);    /* as ed_energy_flow */
double ff_entropy(const ff_t *f, int i);        /* as ed_entropy */
/* The n largest Schmidt values of the cut after site i (sites 0..i | the
 * rest), descending, into lam[n]; returns how many were written: n, or
 * 2^min(i+1, L-i-1) when that is fewer (zeros counted); or a negative KZ
 * error code. */
int ff_schmidt_values(const ff_t *f, int i, int n, double *lam, char *err);
/* Three-site reduced density matrix by Wick's theorem, conventions of
 * ed_rho3. */
int ff_rho3(const ff_t *f, int i, kz_cplx rho[64], char *err);

#endif
