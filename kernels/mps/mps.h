/* mps: matrix-product states of L spin-1/2 sites with a U(1) charge.
 *
 * Form (Vidal/Hastings): the state is |psi> = sum B_0^{s_0} ... B_{L-1}^{s_{L-1}}
 * with every B right-orthonormal (sum_s B^s B^s^dag = 1) and the Schmidt
 * values Lambda_b kept on every bond b = 0..L (bond b sits left of site b;
 * Lambda_0 = Lambda_L = 1).  So Lambda_i B_i B_{i+1} is the two-site
 * wavefunction in the Schmidt bases of its outer bonds, and updates need no
 * division by small singular values [M. B. Hastings, J. Math. Phys. 50,
 * 095207 (2009)].
 *
 * Charges: the charge of a bond state is the number of up spins to its left,
 * so B^s maps bond charge q to q + s and only blocks (q, s) with non-empty
 * rows and columns are stored, each a dense column-major matrix.  The total
 * number of up spins nup is fixed for the life of the state.
 *
 * Internal sites i = 0..L-1, bonds as above; the paper's labels are in
 * chain.h.  "Bond i" in measurement routines means the bond joining sites i
 * and i+1, i.e. MPS bond index i+1. */
#ifndef MPS_H
#define MPS_H

#include "kz.h"

typedef struct mps_s mps_t;

/* Product state, up[i] in {0,1} (1 = up).  L even, >= 4. */
int mps_create_product(mps_t **m, int L, const int *up, char *err);

/* Deep copy. */
int mps_copy(mps_t **dst, const mps_t *src, char *err);

void mps_destroy(mps_t **m);

int mps_length(const mps_t *m);
int mps_nup(const mps_t *m);
/* Dimension of MPS bond b = 0..L (sum over its charge sectors). */
int mps_bond_dim(const mps_t *m, int b);
int mps_max_bond_dim(const mps_t *m);
/* Schmidt values of MPS bond b, all sectors, written to lam (capacity
 * mps_bond_dim); returns the count. */
int mps_schmidt_values(const mps_t *m, int b, double *lam);

/* Entanglement entropy -sum lambda^2 ln lambda^2 across kernel bond i
 * (sites 0..i | i+1..L-1), from the stored Schmidt values. */
double mps_entropy(const mps_t *m, int i);

/* Amplitude <bits|psi>; 0 if bits has the wrong number of up spins. */
kz_cplx mps_amplitude(const mps_t *m, unsigned long bits);

/* sqrt(<psi|psi>) by a full contraction (does not assume canonical form). */
int mps_norm(const mps_t *m, double *norm, char *err);

/* The same contraction in pieces, for a state split over several owners
 * of contiguous site ranges (engine/team): E_b packed sector by sector
 * (sector k of bond b is a dim_k x dim_k column-major matrix, after those
 * of the sectors before it; mps_env_size(m, b) numbers).  mps_norm_env
 * takes E_lo (ein) through sites lo..hi-1 to E_hi (eout); E_0 = {1}, and
 * <psi|psi> is the real part of E_L's one number.  Reads only sites
 * lo..hi-1 and bonds lo..hi. */
size_t mps_env_size(const mps_t *m, int b);
int mps_norm_env(const mps_t *m, int lo, int hi, const kz_cplx *ein,
		 kz_cplx *eout, char *err);

/* Reduced density matrices assuming the canonical form above.  rho2 of sites
 * i, i+1 (basis a = 2 s_i + s_{i+1}); rho3 of sites i..i+2 (a = 4 s_i + 2
 * s_{i+1} + s_{i+2}).  Stored rho[a + d*b] = <a|rho|b>.  Not normalised:
 * the trace is <psi|psi> as seen from the canonical form. */
int mps_rho2(const mps_t *m, int i, kz_cplx rho[16], char *err);
int mps_rho3(const mps_t *m, int i, kz_cplx rho[64], char *err);

/* Total bytes held by the state's tensors (for memory estimates). */
size_t mps_bytes(const mps_t *m);

#endif
