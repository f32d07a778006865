/* cost: the cost model of a point -- the order in which the farm hands
 * points out, the --dry-run table, the per-point memory and archive limits
 * of the spec, and the calibrated core-hours (see spec.h). */
#include "spec.h"

#include "trotter.h"

#include <math.h>

#define SPEC_PI 3.14159265358979323846

/* ---- core-hours (kapitza run --dry-run; engine/POSTSTAGE.md) ----------
 * Calibrated with `kapitza bench` on one core (OpenBLAS, U(1) blocks,
 * Forest-Ruth order 4): a bond at the bond-dimension cap costs about
 * TEBD_C chi^3 + TEBD_C0 seconds per time step (chi = 128: 0.107 s per
 * step with 19 bonds at the cap, L = 140, t = 20; 2026-11).  The domain
 * wall is a product state: the bonds inside its light cone, 1 + (1 + pi/2) t
 * of them (v_L = 1 for XX, v_R <= pi/2 for XXZ), are counted as saturated
 * from the moment they are reached (the bench's domain wall at t = 20 has 19
 * bonds at the cap where this counts 52: an upper-end figure).  |Psi1>
 * comes from DMRG at the cap on every bond, so all L - 1 bonds count from
 * t = 0.  DMRG: DMRG_SWEEPS sweeps of DMRG_C L chi^3 seconds (bench --dmrg:
 * chi = 64, L = 140, 8 sweeps in 4.0 s).  A step of another Trotter order
 * costs in proportion to its layers (trotter.h: order 2 has 2 layers, order
 * 4 6 in real time and 8 in imaginary time).  A thermal table: per mu, max(nbeta - 1, (beta_max - beta_min) / (2 dtau))
 * imaginary-time steps of THERMAL_C x 2N x chi^3 seconds (the four tables
 * of sweeps/paper-reduced-tables.yaml, N = 32, chi 128, 101 betas: 105 s on
 * one core, 2026-11). */
#define TEBD_C 2.5e-9
#define TEBD_C0 4.0e-4
#define DMRG_C 1.4e-8
#define DMRG_SWEEPS 10
#define THERMAL_C 2.0e-9 /* per site of the 2N-site purified chain */

/* Cost of a Trotter step of order `order` relative to the calibrated order
 * 4 of the same kind of time: the ratio of their layers per step. */
static double order_factor(int order, trotter_time_t kind)
{
	int ref = trotter_layers_for_order(4, kind);
	int n = trotter_layers_for_order(order, kind);
	return n > 0 ? (double)n / ref : 1.0;
}

static int is_table(const spec_point_t *p)
{
	return p->state == SPEC_STATE_THERMAL && p->thermal;
}

/* The Schmidt rank across any bond of L spins-1/2 is at most 2^(L/2), so a
 * chi_max above that is never reached: cost and memory use the cap.  A
 * thermal table's MPS has 2N sites (N = p->L): at most 2^N. */
static double chi_eff(const spec_point_t *p)
{
	double cap = ldexp(1.0, is_table(p) ? p->L : p->L / 2);
	return p->chi_max < cap ? (double)p->chi_max : cap;
}

/* A thermal table's imaginary-time work, in steps x sites x chi^3 (2N
 * sites), Trotter order included. */
static double table_work(const spec_point_t *p)
{
	const spec_thermal_t *t = p->thermal;
	double chi = chi_eff(p), steps;

	steps = (t->betas[t->nbeta - 1] - t->betas[0]) / (2 * p->dt);
	if (steps < t->nbeta - 1)
		steps = t->nbeta - 1;
	return t->nmu * steps * 2.0 * p->L * chi * chi * chi *
	       order_factor(p->order, TROTTER_IMAGINARY);
}

double spec_point_cost(const spec_point_t *p)
{
	double chi = chi_eff(p);
	double steps = p->dt > 0 ? p->t_max / p->dt : 0;
	/* in the units of a TEBD bond step: the kernels' calibrated ratio */
	if (is_table(p))
		return table_work(p) * THERMAL_C / TEBD_C;
	/* + 1: a t_max = 0 point still prepares its state */
	return (double)p->L * chi * chi * chi * (steps + 1);
}

double spec_point_memory_bytes(const spec_point_t *p)
{
	double chi = chi_eff(p);
	if (is_table(p)) /* one run: 2N sites */
		return 16.0 * chi * chi * (8.0 * p->L + 32.0);
	/* complex doubles (16 B): the MPS, L tensors chi x 2 x chi, twice
	 * (state + copy/environment), plus the two-site workspace (theta,
	 * its SVD factors and LAPACK work: ~32 chi^2) */
	return 16.0 * chi * chi * (4.0 * p->L + 32.0);
}

double spec_point_archive_bytes(const spec_point_t *p)
{
	double per_time = 3; /* time, discarded weight, norm */
	double bytes;

	if (is_table(p)) { /* beta; per mu: mu, discarded, e, sz, rho3 */
		double nb = p->thermal->nbeta;
		return 8.0 * nb + p->n_measure * (16.0 + nb * (16.0 + 1024.0));
	}
	per_time += p->L - 1; /* bond dimensions */
	for (int k = 0; k < 5; k++) /* per-site/bond observables */
		if (p->measure & (1u << k))
			per_time += p->L;
	bytes = 8.0 * per_time;
	if (p->measure & SPEC_M_RHO3) /* 64 complex per 3-site window */
		bytes += 64.0 * 16.0 * (p->L - 2);
	return (double)p->n_measure * bytes;
}

/* Bonds at the cap summed over time from 0 to t (bond x time units): n(t)
 * = min(L-1, 1 + v t) bonds for the domain wall, a product state whose
 * light cone (v = 1 + pi/2: v_L = 1 for XX, v_R <= pi/2 for XXZ) fills
 * the chain at tsat; all L - 1 from t = 0 for |Psi1> (DMRG at the cap). */
static double bond_time(int state, int L, double t)
{
	const double v = 1 + SPEC_PI / 2;
	double tsat = state == SPEC_STATE_GROUND ? 0 : (L - 2) / v;
	double t1 = t < tsat ? t : tsat;
	double s = t1 + v * t1 * t1 / 2; /* growing part */
	if (t > tsat)
		s += (L - 1) * (t - tsat);
	return s;
}

double spec_point_core_hours(const spec_point_t *p)
{
	double chi = chi_eff(p);
	double per = TEBD_C * chi * chi * chi + TEBD_C0;

	if (is_table(p))
		return table_work(p) * THERMAL_C / 3600;
	if (!(p->dt > 0) || p->L < 2)
		return 0;
	double sec = bond_time(p->state, p->L, p->t_max) / p->dt * per *
		     order_factor(p->order, TROTTER_REAL);
	if (p->state == SPEC_STATE_GROUND)
		sec += DMRG_SWEEPS * DMRG_C * p->L * chi * chi * chi;
	return sec / 3600;
}

double spec_done_share(int state, int L, double t_max, double t)
{
	if (!(t_max > 0) || L < 2 || !(t > 0))
		return 0;
	if (t >= t_max)
		return 1;
	return bond_time(state, L, t) / bond_time(state, L, t_max);
}

double spec_thermal_core_hours(const spec_t *s)
{
	double h = 0;

	for (int k = s ? s->npoints - s->ntables : 0; s && k < s->npoints; k++)
		h += spec_point_core_hours(&s->points[k]);
	return h;
}
