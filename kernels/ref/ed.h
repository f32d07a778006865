/* ed: exact diagonalisation reference for the XXZ chain of chain.h, in one
 * fixed-magnetisation sector (nup up spins), for L <= 16.  Slow and obviously
 * correct: tests hold the MPS/TEBD code against it.  Observables here are
 * computed by applying operators to the state vector, never through the MPS
 * code's formulas, so a comparison is an independent check.
 *
 * Basis: state k of the sector is a bit pattern (bit i set = site i up),
 * patterns in increasing numerical order.  Vectors are kz_cplx[ed_dim()]. */
#ifndef ED_H
#define ED_H

#include "chain.h"
#include "kz.h"

typedef struct ed_s ed_t;

/* Builds the sector basis and H for chain c (copied; c is borrowed).
 * Errors: L > 16, nup outside [0, L]. */
int ed_create(ed_t **ed, const chain_t *c, int nup, char *err);
void ed_destroy(ed_t **ed);

size_t ed_dim(const ed_t *ed);
unsigned long ed_state(const ed_t *ed, size_t k);     /* bits of state k */
long ed_index(const ed_t *ed, unsigned long bits);    /* -1 if not in sector */

/* psi = the product state with up[i] in {0,1}; error if sum(up) != nup. */
int ed_product_state(const ed_t *ed, const int *up, kz_cplx *psi, char *err);

/* psi <- H psi (out must not alias in). */
void ed_apply_h(const ed_t *ed, const kz_cplx *in, kz_cplx *out);

/* Exact evolution psi <- exp(-i H t) psi through the full eigendecomposition
 * of H in the sector (computed once, cached in ed). */
int ed_evolve(ed_t *ed, kz_cplx *psi, double t, char *err);

/* Lowest eigenvector of H in the sector (phase: largest-modulus component
 * real positive) and its energy; error if the ground state is degenerate
 * within 1e-10. */
int ed_ground_state(ed_t *ed, kz_cplx *psi, double *energy, char *err);

/* Expectation values in psi (psi need not be normalised; results are divided
 * by <psi|psi>).  i is a kernel site/bond index as in chain.h. */
double ed_norm(const ed_t *ed, const kz_cplx *psi);            /* sqrt<psi|psi> */
double ed_sz(const ed_t *ed, const kz_cplx *psi, int i);       /* <Sz_i> */
double ed_bond_energy(const ed_t *ed, const kz_cplx *psi, int i); /* <h_i> */
/* J_i <Sx_i Sy_{i+1} - Sy_i Sx_{i+1}>, i = 0..L-2 */
double ed_spin_current(const ed_t *ed, const kz_cplx *psi, int i);
/* j_b = i <[h_{b-1}, h_b]>, b = 1..L-2 (energy flowing from bond b-1 into b) */
double ed_energy_flow(const ed_t *ed, const kz_cplx *psi, int b);
/* von Neumann entropy (natural log) of sites 0..i against i+1..L-1 */
double ed_entropy(const ed_t *ed, const kz_cplx *psi, int i);
/* Reduced density matrix of sites i, i+1, i+2 (i = 0..L-3), normalised to
 * trace 1, basis index a = 4 s_i + 2 s_{i+1} + s_{i+2}, stored
 * rho[a + 8 b] = <a|rho|b>. */
int ed_rho3(const ed_t *ed, const kz_cplx *psi, int i, kz_cplx rho[64],
	    char *err);

#endif
