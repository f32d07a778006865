/* kernel_profile: a direct kernel run of one domain-wall point, no engine, no
 * MPI, no HDF5 -- the reference the archive's numbers are held against
 * (test_farm_reader.py).  It evolves exactly as a worker does (one
 * tebd_run() per measurement interval) and prints the last measurement:
 *
 *   kernel_profile L delta_left delta_right order dt chi_max cutoff
 *                  steps_per_measure n_measure
 *
 * Output, one value per line, %.17g:  "t T", then "sz i V" for every site,
 * "energy i V" and "entropy i V" for every bond, "norm V". */
#include <stdio.h>
#include <stdlib.h>

#include "chain.h"
#include "mps.h"
#include "obs.h"
#include "tebd.h"

int main(int argc, char **argv)
{
	char err[KZ_ERRLEN] = "";
	chain_t *c = NULL;
	mps_t *m = NULL;
	tebd_t *t = NULL;
	obs_t *o = NULL;
	int *up = NULL, rc = 1;
	tebd_params_t p;

	if (argc != 10) {
		fprintf(stderr, "usage: kernel_profile L delta_left "
				"delta_right order dt chi_max cutoff "
				"steps_per_measure n_measure\n");
		return 2;
	}
	const int L = atoi(argv[1]), order = atoi(argv[4]);
	const double dl = atof(argv[2]), dr = atof(argv[3]), dt = atof(argv[5]);
	const int chi = atoi(argv[6]), spm = atoi(argv[8]), nm = atoi(argv[9]);
	const double cutoff = atof(argv[7]);

	up = malloc((size_t)L * sizeof *up);
	if (!up)
		goto out;
	for (int i = 0; i < L; i++)
		up[i] = i <= L / 2 - 1; /* domain wall: up for n <= 0 */
	tebd_params_default(&p);
	p.dt = dt;
	p.chi_max = chi;
	p.cutoff = cutoff;
	p.threads = 1;
	if (chain_create_junction(&c, L, 1.0, dl, dr, err) ||
	    mps_create_product(&m, L, up, err) ||
	    tebd_scheme_for_order(order, &p.scheme, err) ||
	    tebd_create(&t, c, &p, err) || obs_create(&o, L, err))
		goto out;
	for (int row = 1; row < nm; row++)
		if (tebd_run(t, m, spm, err))
			goto out;
	if (obs_measure(o, m, c, err))
		goto out;
	printf("t %.17g\n", (double)(nm - 1) * (double)spm * dt);
	for (int i = 0; i < L; i++)
		printf("sz %d %.17g\n", i, o->sz[i]);
	for (int i = 0; i < L - 1; i++)
		printf("energy %d %.17g\n", i, o->energy[i]);
	for (int i = 0; i < L - 1; i++)
		printf("entropy %d %.17g\n", i, o->entropy[i]);
	printf("norm %.17g\n", o->norm);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "kernel_profile: %s\n", err);
	obs_destroy(&o);
	tebd_destroy(&t);
	mps_destroy(&m);
	chain_destroy(&c);
	free(up);
	return rc;
}
