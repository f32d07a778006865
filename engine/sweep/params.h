/* params: the step from a spec point to the kernels' parameters, written
 * once.  Each function fills the kernel's defaults first and then sets
 * exactly what the point decides, so that every caller (the worker, the
 * post-stage reading tables back) gives the kernel the same numbers. */
#ifndef PARAMS_H
#define PARAMS_H

#include "dmrg.h"
#include "spec.h"
#include "tebd.h"
#include "thermal.h"

/* The real-time evolution of a point: the Trotter scheme of its order, dt,
 * chi_max, cutoff, and `threads` (>= 1) OpenMP threads.  Non-zero (a
 * kernel error code, message in err of KZ_ERRLEN bytes) if the order has no
 * scheme. */
int params_tebd(const spec_point_t *p, int threads, tebd_params_t *tp,
		char *err);

/* The DMRG of a ground-state point's |Psi1>: its chi_max and cutoff, every
 * other setting the kernel's default. */
void params_dmrg(const spec_point_t *p, dmrg_params_t *dp);

/* The purification of a thermal-table point (state SPEC_STATE_THERMAL):
 * J, delta = delta_right, N = L, chi_max, cutoff, dtau = dt, order;
 * `threads` OpenMP threads if >= 1, else the kernel's default. */
void params_thermal(const spec_point_t *p, int threads, thermal_params_t *tp);

/* The same from the fields themselves (delta is the point's delta_right,
 * L its length, dt its step): for a table's point read back from the
 * archive's /points_table (engine/post/thermal_eff.c), which holds the same
 * fields as the spec point it was made from. */
void params_thermal_of(double J, double delta, int L, int chi_max,
		       double cutoff, double dt, int order, int threads,
		       thermal_params_t *tp);

#endif
