/* chain: the Hamiltonian H = sum_n h_n of an open spin-1/2 chain,
 *   h_n = J_n (Sx_n Sx_{n+1} + Sy_n Sy_{n+1} + Delta_n Sz_n Sz_{n+1}),
 * one (J, Delta) per bond.  The junction of the paper is one special case.
 *
 * Indexing inside the kernel: sites i = 0..L-1, bond i joins sites i and i+1
 * (i = 0..L-2).  The paper's site n = i - L/2 + 1, so its junction bond n = 0
 * (sites 0 and 1) is bond i = L/2 - 1; chain_site_n() converts. */
#ifndef CHAIN_H
#define CHAIN_H

#include "kz.h"

typedef struct {
	int L;          /* number of sites, even, >= 4 */
	double *J;      /* [L-1] coupling of bond i */
	double *Delta;  /* [L-1] anisotropy of bond i */
} chain_t;

/* A chain with explicit per-bond couplings (copied).  L even, >= 4, all values
 * finite. */
int chain_create(chain_t **c, int L, const double *J, const double *Delta,
		 char *err);

/* The paper's junction: J on every bond, Delta_left on bonds n <= 0 (i <=
 * L/2-1), Delta_right on bonds n > 0.  Homogeneous chains: equal deltas. */
int chain_create_junction(chain_t **c, int L, double J, double delta_left,
			  double delta_right, char *err);

void chain_destroy(chain_t **c);

/* Paper's site label n of kernel site i. */
static inline int chain_site_n(int L, int i) { return i - L / 2 + 1; }

/* The two-site bond Hamiltonian h_i as a 4x4 matrix in the basis
 * |s_i s_{i+1}>, index 2*s_i + s_{i+1}, s = 1 for up; column-major (it is
 * real symmetric, so the order does not matter). */
void chain_bond_matrix(const chain_t *c, int i, double h[16]);

#endif
