/* thermal_ref: the thermal tables of a spec's `thermal:` section computed
 * directly with the kernel (thermal_table_create over the whole mu grid in
 * one call, one thread -- what `kapitza fit --thermal` did before the
 * tables became farmed items of `kapitza run`), printed as text, so that
 * test_thermal_farm.py can compare the tables the farm wrote into the
 * archive with an independent computation.
 *
 * usage: thermal_ref SPEC.yaml
 * Output, per anisotropy (ascending, as the spec's tables):
 *   table DELTA NBETA NMU DISCARDED
 * then one line per grid node, mu slowest and beta fastest:
 *   e sz re(rho[0]) im(rho[0]) ... re(rho[63]) im(rho[63])
 * with rho in the kernel's layout, rho[a + 8 b] = <a|rho|b>; every number
 * %.17g (exact round trip).  Exit status 0, or 1 with a message.
 * It runs on the OpenBLAS kernels kapitza runs on (blascore_fix, as
 * kapitza's main does): the comparison is bitwise. */
#include <complex.h>
#include <stdio.h>

#include "blascore.h"
#include "spec.h"
#include "thermal.h"

int main(int argc, char **argv)
{
	char err[EU_ERRLEN], kerr[KZ_ERRLEN];
	spec_t *s = NULL;

	blascore_fix(argv);
	if (argc != 2) {
		fprintf(stderr, "usage: thermal_ref SPEC.yaml\n");
		return 1;
	}
	if (spec_load(&s, argv[1], err)) {
		fprintf(stderr, "thermal_ref: %s\n", err);
		return 1;
	}
	const spec_thermal_t *th = s->thermal;
	if (!th) {
		fprintf(stderr, "thermal_ref: %s has no thermal: section\n",
			argv[1]);
		spec_destroy(&s);
		return 1;
	}
	for (int k = 0; k < th->ndelta; k++) {
		thermal_params_t p;
		thermal_table_t *t = NULL;
		thermal_params_default(&p);
		p.J = 1;
		p.delta = th->delta[k];
		p.n_sites = th->length;
		p.chi_max = th->chi_max;
		p.cutoff = th->cutoff;
		p.dtau = th->dtau;
		p.order = th->order;
		p.threads = 1;
		if (thermal_table_create(&t, &p, th->betas, th->nbeta, th->mus,
					 th->nmu, kerr)) {
			fprintf(stderr, "thermal_ref: delta = %g: %s\n",
				th->delta[k], kerr);
			spec_destroy(&s);
			return 1;
		}
		const double *e = thermal_table_energy(t);
		const double *sz = thermal_table_sz(t);
		const kz_cplx *rho = thermal_table_rho3(t);
		printf("table %.17g %d %d %.17g\n", th->delta[k], th->nbeta,
		       th->nmu, thermal_table_discarded(t));
		for (int n = 0; n < th->nbeta * th->nmu; n++) {
			printf("%.17g %.17g", e[n], sz[n]);
			for (int x = 0; x < 64; x++)
				printf(" %.17g %.17g", creal(rho[64 * n + x]),
				       cimag(rho[64 * n + x]));
			printf("\n");
		}
		thermal_table_destroy(&t);
	}
	spec_destroy(&s);
	return 0;
}
