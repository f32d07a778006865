/* thermal: equations of state of the homogeneous XXZ chain at inverse
 * temperature beta and field mu, by purification with the U(1) MPS of mps.h,
 * and their inversion (the paper's Methods, "Effective local temperature and
 * chemical potential").
 *
 * Ensemble: rho(beta, mu) = exp(-beta K) / Z, K = H - mu Sz_tot, H = sum_n h_n
 * of an open chain of N physical sites, h_n as in chain.h with one (J, Delta)
 * on every bond.  beta may be negative (K is bounded: rho(-|beta|) is the
 * "inverted" ensemble of the paper's domain-wall dynamics).
 *
 * Purification.  The MPS has 2N sites, interleaved: MPS site 2j is physical
 * site j, MPS site 2j+1 its ancilla.  The ancilla is stored with its label
 * flipped (ancilla bit 1 = ancilla spin down), so the beta = 0 state
 *   prod_j (|up,up'> + |dn,dn'>)/sqrt2 = prod_j (|10> + |01>)/sqrt2
 * holds exactly one "up" bit per pair: total charge N.  K acts on physical
 * sites only and conserves their Sz, so |psi(beta)> = exp(-beta K/2)|psi(0)>
 * stays in that sector, and Tr_anc |psi><psi| = exp(-beta K)/Z: the grand
 * canonical ensemble over physical Sz, mu included, because the ancillas
 * compensate every change of the physical charge.  Label flips are invisible
 * to physical observables.
 *
 * Measurements: the reduced density matrix of the centre three physical
 * sites c-1, c, c+1 (c = N/2; MPS sites 2c-2, 2c, 2c+2, ancillas traced),
 * from which the site-centred energy e = (<h_{c-1,c}> + <h_{c,c+1}>)/2 (the
 * paper's E-bar_n of the block) and s^z = <Sz_c> (equal to <Sz_{c-1}> by
 * mirror symmetry).  Both estimate the infinite chain's bulk densities.  The
 * average of two bonds cancels the alternation of bond energies that the
 * open ends induce (Friedel-like, decaying as a power of N once the thermal
 * length exceeds N/2): at Delta = cos(pi/4), N = 32, beta = 16 a single
 * centre bond is off the bulk value by 1e-2, the average by 1e-4.  At
 * |beta| <= 5 finite-size effects at the centre decay like exp(-N/xi(beta));
 * choose N so that they are below the accuracy wanted
 * (tests/kernels/test_thermal.c measures it).
 *
 * Indices are kernel indices; rho3 conventions are those of mps_rho3:
 * basis a = 4 s0 + 2 s1 + s2 (s = 1 up), rho[a + 8 b] = <a|rho|b>. */
#ifndef THERMAL_H
#define THERMAL_H

#include "kz.h"
#include "mps.h"

typedef struct {
	double J, delta;  /* homogeneous couplings, finite */
	int n_sites;      /* physical sites N: even, >= 6 */
	int chi_max;      /* >= 1, truncation of every two-site update */
	double cutoff;    /* singular-value cutoff, 0 <= cutoff < 1 */
	double dtau;      /* largest imaginary-time step (> 0): one Trotter
			   * step applies exp(-dtau K), i.e. beta advances by
			   * 2 dtau */
	int order;        /* Trotter order, 2 (Strang) or 4 (Omelyan): the
			   * imaginary-time schemes of trotter.h */
	int threads;      /* >= 1: OpenMP threads over independent runs */
} thermal_params_t;

/* J = 1, delta = 0, N = 48, chi_max = 128, cutoff = 1e-10, dtau = 0.05,
 * order 4, 1 thread.  (Measured in tests/kernels/test_thermal.c: order 4 at
 * dtau = 0.1 already leaves Trotter errors ~1e-8 in rho3 at |beta| = 2; the
 * error falls as dtau^4.) */
void thermal_params_default(thermal_params_t *p);

/* ---- purification ------------------------------------------------------ */

/* The purified state at (beta, mu): a new MPS of 2N sites (owned by the
 * caller), normalised.  *discarded (may be NULL) receives the weight
 * discarded by truncation, summed over all updates. */
int thermal_purify(mps_t **m, const thermal_params_t *p, double beta,
		   double mu, double *discarded, char *err);

/* Reduced density matrix of the MPS sites sites[0] < ... < sites[n-1]
 * (1 <= n <= 4), every other site traced, by a full contraction (so it does
 * not rely on the canonical form, which imaginary time spoils), normalised to
 * trace 1.  Basis index a = sum_k s_k 2^(n-1-k) (first site most
 * significant), rho[a + 2^n b] = <a|rho|b>; rho has 4^n entries.  Any MPS.
 * (The name stays for its callers: this is mps_rho_sites of contract.h.) */
int thermal_rho_sites(const mps_t *m, int n, const int *sites, kz_cplx *rho,
		      char *err);

/* rho of the centre three physical sites of a purified state (N physical
 * sites, see above), normalised. */
int thermal_centre_rho3(const mps_t *m, kz_cplx rho[64], char *err);

/* ---- tables ------------------------------------------------------------ */

typedef struct thermal_table_s thermal_table_t;

/* Computes e, s^z and the centre rho3 on the grid betas[nbeta] x mus[nmu]
 * (each strictly increasing, finite; nbeta >= 2, nmu >= 1).  For every mu,
 * one imaginary-time run from beta = 0 up through the grid's positive betas
 * and one down through its negative ones (K -> -K), each interval split into
 * equal Trotter steps no longer than dtau, so every grid point is hit
 * exactly.  Runs are independent and spread over p->threads threads.  p is
 * copied. */
int thermal_table_create(thermal_table_t **t, const thermal_params_t *p,
			 const double *betas, int nbeta, const double *mus,
			 int nmu, char *err);

/* A table from data computed elsewhere (e.g. read back from an archive):
 * e[i + nbeta j], sz[i + nbeta j] at (betas[i], mus[j]); rho (may be NULL)
 * 64 entries per grid point, at rho + 64 (i + nbeta j).  All copied.  p may
 * be NULL (then thermal_table_params reports the defaults). */
int thermal_table_create_from(thermal_table_t **t, const thermal_params_t *p,
			      const double *betas, int nbeta,
			      const double *mus, int nmu, const double *e,
			      const double *sz, const kz_cplx *rho, char *err);

void thermal_table_destroy(thermal_table_t **t);

int thermal_table_nbeta(const thermal_table_t *t);
int thermal_table_nmu(const thermal_table_t *t);
const double *thermal_table_betas(const thermal_table_t *t);
const double *thermal_table_mus(const thermal_table_t *t);
const thermal_params_t *thermal_table_params(const thermal_table_t *t);
/* Grid values (borrowed; layouts as in thermal_table_create_from).  rho is
 * NULL for a table made without one. */
const double *thermal_table_energy(const thermal_table_t *t);
const double *thermal_table_sz(const thermal_table_t *t);
const kz_cplx *thermal_table_rho3(const thermal_table_t *t);
/* Weight discarded by truncation, summed over all runs (the sum of
 * thermal_table_discarded_mu in mu order; 0 for tables made from data). */
double thermal_table_discarded(const thermal_table_t *t);
/* The same per mu row ([nmu], borrowed; zeros for tables made from data):
 * independent of how the rows were grouped into tables or threads. */
const double *thermal_table_discarded_mu(const thermal_table_t *t);

/* ---- interpolation and inversion ----------------------------------------
 * The interpolant: along beta, on every mu row, a cubic Hermite spline whose
 * node slopes are the derivatives of the local quartic through five nodes
 * (fourth order; fewer nodes near short grids), with Fritsch-Carlson
 * limiting of e on rows where e is strictly monotone (so e(beta) at mu = 0
 * is monotone and invertible); along mu, the same Hermite construction
 * applied to the row values.  C^1, exact at grid points, error O(h^4) for
 * smooth data.  With nmu = 1 only mu = mus[0] can be evaluated.  Points
 * outside the grid are errors, never extrapolated. */

/* e and s^z at (beta, mu); either output may be NULL. */
int thermal_eos_at(const thermal_table_t *t, double beta, double mu,
		   double *e, double *sz, char *err);

/* The centre rho3 at (beta, mu), interpolated entrywise (Hermitian, trace 1;
 * positivity holds only to interpolation accuracy). */
int thermal_rho3_at(const thermal_table_t *t, double beta, double mu,
		    kz_cplx rho[64], char *err);

/* beta with e(beta, mu = 0) = e (the site-centred energy above), on the
 * table's mu = 0 row (which must exist and be strictly decreasing in beta).
 * Error if e is outside [e(beta_max), e(beta_min)]; a value within
 * THERMAL_EDGE_ULPS ulps (of the larger edge's magnitude) outside an edge is
 * clamped to it, so that an edge recomputed with other rounding is taken. */
#define THERMAL_EDGE_ULPS 8
int thermal_beta_from_energy(const thermal_table_t *t, double e,
			     double *beta, char *err);

/* (beta, mu) with e(beta, mu) = e and s^z(beta, mu) = sz, by damped Newton on
 * the interpolant from the best grid points.  Needs nmu >= 2.  Error if no
 * solution lies on the grid.  At beta = 0 every mu gives the same state
 * (s^z ~ beta mu / 4 for small beta), so mu is ill-conditioned near beta = 0
 * and undetermined at beta = 0 exactly (an error). */
int thermal_beta_mu_from(const thermal_table_t *t, double e, double sz,
			 double *beta, double *mu, char *err);

#endif
