/* contract: full contractions <psi| ... |psi> of an MPS, which do not rely
 * on the canonical form of mps.h (imaginary time spoils it; checks of
 * states from anywhere must not assume it). */
#ifndef CONTRACT_H
#define CONTRACT_H

#include "chain.h"
#include "kz.h"
#include "mps.h"

#define MPS_RHO_MAX_SITES 4

/* Reduced density matrix of the MPS sites sites[0] < ... < sites[n-1]
 * (1 <= n <= MPS_RHO_MAX_SITES), every other site traced, normalised to
 * trace 1.  Basis index a = sum_k s_k 2^(n-1-k) (first site most
 * significant), rho[a + 2^n b] = <a|rho|b>; rho has 4^n entries. */
int mps_rho_sites(const mps_t *m, int n, const int *sites, kz_cplx *rho,
		  char *err);

/* <psi| O_top O_bot |psi> with O = H - e (top, bot = 1) or the identity
 * (0), H the chain c's Hamiltonian as the bond-dimension-5 XXZ MPO
 * (channels identity, S+ open, S- open, Sz open, complete), contracted left
 * to right; not normalised. */
int mps_mpo_expect(const mps_t *m, const chain_t *c, double e, int top,
		   int bot, double *val, char *err);

#endif
