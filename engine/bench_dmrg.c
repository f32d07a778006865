/* bench_dmrg: `kapitza bench --dmrg`, the ground-state workload:
 * |Psi1> of the paper (ground state of H' = sum lambda_n h_n, lambda = -1
 * on bonds n <= 0) for the L = 140 junction, Delta_left = 0, Delta_right =
 * cos(pi/4), Sz = 0, by two-site DMRG at chi = 64 and 128.  Prints the time
 * to the ground state and the energy and variance reached; never judges
 * them.  Reached from cmd_bench() in bench.c when --dmrg is on its command
 * line. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "dmrg.h"
#include "mps.h"



static void usage(FILE *f)
{
	fprintf(f,
		"usage: kapitza bench --dmrg [--chi N]... [--length L] "
		"[--delta D] [--threads T]\n"
		"  Ground state |Psi1> of H' = sum lambda_n h_n (lambda = -1 "
		"on n <= 0) for the\n"
		"  XX/XXZ junction, Sz = 0, by two-site DMRG.  Defaults: --chi "
		"64 --chi 128\n"
		"  --length 140 --delta cos(pi/4) (Delta_right) --threads 1 "
		"(BLAS threads).\n"
		"  Stops at energy change < 1e-9 per sweep and discarded "
		"weight < 1e-6.\n"
		"  Per-sweep progress on stderr, one line of figures per chi "
		"on stdout.\n");
}

int dmrg_bench_main(int argc, char **argv)
{
	int chis[16], nchi = 0, L = 140, threads = 1, rc = 1;
	double delta = cos(M_PI / 4);
	static const struct option opts[] = {
		{"dmrg", no_argument, 0, 'd'},
		{"chi", required_argument, 0, 'c'},
		{"length", required_argument, 0, 'L'},
		{"delta", required_argument, 0, 'D'},
		{"threads", required_argument, 0, 'T'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	static char none[1]; /* "parsed completely" for flag options */
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end = NULL;
		switch (ch) {
		case 'd': end = none; break;
		case 'c':
			if (nchi == (int)(sizeof chis / sizeof *chis)) {
				fprintf(stderr, "kapitza bench --dmrg: at most "
						"16 --chi values\n");
				return 2;
			}
			chis[nchi++] = (int)strtol(optarg, &end, 10);
			break;
		case 'L': L = (int)strtol(optarg, &end, 10); break;
		case 'D': delta = strtod(optarg, &end); break;
		case 'T': threads = (int)strtol(optarg, &end, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (!end || *end) {
			fprintf(stderr, "kapitza bench --dmrg: bad number '%s'\n",
				optarg);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kapitza bench --dmrg: unexpected argument "
				"'%s'\n",
			argv[optind]);
		return 2;
	}
	if (!nchi) {
		chis[nchi++] = 64;
		chis[nchi++] = 128;
	}
	char err[KZ_ERRLEN] = "";
	chain_t *c = NULL;
	if (dmrg_paper_chain(&c, L, 1.0, 0.0, delta, err)) {
		fprintf(stderr, "kapitza bench --dmrg: %s\n", err);
		return 2;
	}
	for (int k = 0; k < nchi; k++) {
		dmrg_params_t p;
		dmrg_params_default(&p);
		p.chi_max = chis[k];
		p.threads = threads;
		p.verbose = 1;
		mps_t *m = NULL;
		dmrg_result_t r;
		fprintf(stderr, "bench --dmrg: L=%d Delta_right=%g chi=%d "
				"threads=%d\n",
			L, delta, chis[k], threads);
		if (dmrg_ground_state(c, L / 2, &p, &m, &r, err)) {
			fprintf(stderr, "kapitza bench --dmrg: chi=%d: %s\n",
				chis[k], err);
			goto out;
		}
		printf("bench_dmrg L=%d delta_right=%.6f chi=%d threads=%d "
		       "wall_s=%.2f sweeps=%d energy=%.12f variance=%.3e "
		       "max_discarded=%.3e max_bond=%d entropy_mid=%.6f "
		       "matvecs=%ld lanczos_s=%.2f svd_s=%.2f env_s=%.2f\n",
		       L, delta, chis[k], threads, r.seconds, r.sweeps, r.energy,
		       r.variance, r.max_discarded, r.max_bond,
		       mps_entropy(m, L / 2 - 1), r.matvecs, r.lanczos_s,
		       r.svd_s, r.env_s);
		fflush(stdout);
		mps_destroy(&m);
	}
	rc = 0;
out:
	chain_destroy(&c);
	return rc;
}
