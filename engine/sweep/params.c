/* params: a spec point -> kernel parameters (see params.h). */
#include "params.h"

int params_tebd(const spec_point_t *p, int threads, tebd_params_t *tp,
		char *err)
{
	tebd_params_default(tp);
	int rc = tebd_scheme_for_order(p->order, &tp->scheme, err);
	if (rc)
		return rc;
	tp->dt = p->dt;
	tp->chi_max = p->chi_max;
	tp->cutoff = p->cutoff;
	tp->threads = threads;
	return 0;
}

void params_dmrg(const spec_point_t *p, dmrg_params_t *dp)
{
	dmrg_params_default(dp);
	dp->chi_max = p->chi_max;
	dp->cutoff = p->cutoff;
}

void params_thermal_of(double J, double delta, int L, int chi_max,
		       double cutoff, double dt, int order, int threads,
		       thermal_params_t *tp)
{
	thermal_params_default(tp);
	tp->J = J;
	tp->delta = delta;
	tp->n_sites = L;
	tp->chi_max = chi_max;
	tp->cutoff = cutoff;
	tp->dtau = dt;
	tp->order = order;
	if (threads >= 1)
		tp->threads = threads;
}

void params_thermal(const spec_point_t *p, int threads, thermal_params_t *tp)
{
	params_thermal_of(p->J, p->delta_right, p->L, p->chi_max, p->cutoff,
			  p->dt, p->order, threads, tp);
}
