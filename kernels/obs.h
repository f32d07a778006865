/* obs: the observables of the paper measured on an MPS.
 *
 * Conventions (kernel indices; chain.h maps them to the paper's n):
 *   sz[i]      = <Sz_i>, i = 0..L-1
 *   energy[i]  = E_i = <h_i>, bond i = 0..L-2
 *   spin_current[i] = J^M_i = J_i <Sx_i Sy_{i+1} - Sy_i Sx_{i+1}>, positive
 *                towards larger i; d<Sz_i>/dt = J^M_{i-1} - J^M_i
 *   energy_flow[b] = j_b = i <[h_{b-1}, h_b]>, b = 0..L-1 with j_0 =
 *                j_{L-1} = 0 (open ends); d<h_i>/dt = j_i - j_{i+1}
 *   energy_current[i] = J^E_i = (j_i + j_{i+1}) / 2, the paper's
 *                (i/2)<[h_i,h_{i+1}] - [h_i,h_{i-1}]>, bond i = 0..L-2
 *   entropy[i] = von Neumann entropy (natural log) across bond i
 *   bond_dim[i] = MPS dimension across bond i
 *   norm       = sqrt<psi|psi> by full contraction
 * All local quantities come from the three-site reduced density matrices. */
#ifndef OBS_H
#define OBS_H

#include "chain.h"
#include "kz.h"
#include "mps.h"

typedef struct {
	int L;
	double *sz;              /* [L]   */
	double *energy;          /* [L-1] */
	double *spin_current;    /* [L-1] */
	double *energy_flow;     /* [L]   */
	double *energy_current;  /* [L-1] */
	double *entropy;         /* [L-1] */
	int *bond_dim;           /* [L-1] */
	double norm;
} obs_t;

int obs_create(obs_t **o, int L, char *err);
void obs_destroy(obs_t **o);

/* Measure everything above on m (chain c gives J_i, Delta_i). */
int obs_measure(obs_t *o, const mps_t *m, const chain_t *c, char *err);

/* obs_measure() in pieces, for a state split over several owners of
 * contiguous site ranges (engine/team).  obs_rho3_window: the trace-1
 * density matrix of window i (sites i..i+2; reads sites i..i+2 and bonds
 * i..i+3).  obs_fill_window: the entries of o that window gives (sz[i+2];
 * energy, spin_current and energy_flow at i+1; window 0 also sz[0..1],
 * energy[0], spin_current[0]).  obs_currents: energy_current and the open
 * ends of energy_flow, once every window is in. */
int obs_rho3_window(const mps_t *m, int i, kz_cplx rho[64], char *err);
void obs_fill_window(obs_t *o, const chain_t *c, int i,
		     const kz_cplx rho[64]);
void obs_currents(obs_t *o);

/* Local operators on reduced density matrices (conventions of mps_rho3),
 * exposed so that any state representation can be measured the same way.
 * rho3 must be normalised to trace 1 by the caller. */
double obs_rho3_sz(const kz_cplx rho[64], int k);   /* <Sz> of site k=0,1,2 */
double obs_rho3_bond_energy(const kz_cplx rho[64], int k, double J,
			    double Delta);          /* <h> of bond k=0,1 */
double obs_rho3_spin_current(const kz_cplx rho[64], int k, double J);
/* i <[h_0, h_1]> for bonds (J0, D0) and (J1, D1) */
double obs_rho3_energy_flow(const kz_cplx rho[64], double J0, double D0,
			    double J1, double D1);

#endif
