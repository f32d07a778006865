/* ghd: `kapitza ghd ARCHIVE.h5` -- the paper's analytic side beside the
 * numerics of an archive (engine/POSTSTAGE.md "kapitza ghd"): the model of
 * an extended chaotic junction (paper Fig. 6; kernels/tba/junction.h)
 * between the XX half at the top of its band (the left half of |Psi1>) and
 * the XXZ half at gamma = pi/P in its ground state, solved with generalized
 * hydrodynamics for a list of boundary resistances R, and the light-cone
 * edges v_L = 1, v_R = (pi/2) sin(gamma)/gamma of the homogeneous chains.
 * Writes /analysis/ghd (ARCHIVE.md; its names are schema.h's, its datasets
 * written by analysis.h's an_write_ds), never touching /points or what
 * `kapitza fit` writes; prints the junction's temperatures and currents.
 *
 * Serial; the archive is opened read-write with the sec2 driver by this one
 * process, and, as for `fit`, a run still writing it (a point in state
 * running) makes it refuse unless --force.
 *
 * Exit status: 0 done; 1 some R had no solution (the others are written);
 * 2 bad command line or the archive could not be read or written. */
#include <cblas.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis.h"
#include "archive.h"
#include "cmd.h"
#include "eu.h"
#include "h5x.h"
#include "schema.h"
#include "tba/junction.h"
#include "version.h"

#define GHD_MAXR 32

typedef struct {
	const char *path;
	int P, rays, npan, ng;
	int nR;
	double R[GHD_MAXR];
	double zmin, zmax, bmax;
	int force, no_write, quiet, help;
} ghd_opts_t;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kapitza ghd ARCHIVE.h5 [options]\n"
		"  -P, --P P            right half at gamma = pi/P, Delta = "
		"cos(pi/P), P in 2..12\n"
		"                       (default 4: the paper's Fig. 6)\n"
		"  -R, --R R1,R2,...    boundary resistances, >= 0 (default "
		"0,10,100,1000,10000)\n"
		"      --rays N         rays zeta = x/t (default 400)\n"
		"      --zeta A:B       their range (default -1.25:1.2 v_R, "
		"v_R = pi sin(g)/2g)\n"
		"      --grid NPAN:NG   rapidity quadrature (default 8:12)\n"
		"      --bmax B         largest |beta| of the junction's edges "
		"(default 80)\n"
		"  -n, --no-write       print only; open the archive "
		"read-only\n"
		"  -f, --force          even if points are marked running\n"
		"  -q, --quiet          no table on stdout\n"
		"Writes /analysis/ghd (engine/POSTSTAGE.md, engine/ARCHIVE.md); "
		"`kapitza plot`\ndraws it as fig6 and the light-cone edges on "
		"fig2 and fig3.\n"
		"Exit status: 0 done, 1 some R without solution, 2 error.\n");
}

/* "A:B" into two doubles */
static int parse_pair(const char *v, double *a, double *b)
{
	char buf[128], *c;
	snprintf(buf, sizeof buf, "%s", v);
	c = strchr(buf, ':');
	if (!c)
		return -1;
	*c = 0;
	return eu_parse_double(buf, a) || eu_parse_double(c + 1, b) ? -1 : 0;
}

static int parse_list(const char *v, ghd_opts_t *o, char *err)
{
	char buf[1024];
	snprintf(buf, sizeof buf, "%s", v);
	o->nR = 0;
	for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
		double x;
		if (o->nR == GHD_MAXR)
			return eu_err(err, "--R: at most %d values", GHD_MAXR);
		if (eu_parse_double(t, &x) || x < 0)
			return eu_err(err, "--R: '%s' is not a finite R >= 0",
				    t);
		o->R[o->nR++] = x;
	}
	if (!o->nR)
		return eu_err(err, "--R needs at least one value");
	return 0;
}

static int parse_args(int argc, char **argv, ghd_opts_t *o, char *err)
{
	memset(o, 0, sizeof *o);
	o->P = 4;
	o->rays = 400;
	o->npan = 8;
	o->ng = 12;
	o->bmax = 80;
	o->zmin = o->zmax = NAN;
	const double R0[5] = {0, 10, 100, 1000, 10000};
	o->nR = 5;
	memcpy(o->R, R0, sizeof R0);
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		double a, b;
#define NEED                                                             \
	do {                                                             \
		if (!v)                                                  \
			return eu_err(err, "%s needs a value", s);         \
		i++;                                                     \
	} while (0)
		if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			o->help = 1;
		} else if (!strcmp(s, "-P") || !strcmp(s, "--P")) {
			NEED;
			if (eu_parse_int(v, &o->P) || o->P < 2 || o->P > TBA_MAXP)
				return eu_err(err, "--P '%s': an integer in "
						 "2..%d", v, TBA_MAXP);
		} else if (!strcmp(s, "-R") || !strcmp(s, "--R")) {
			NEED;
			if (parse_list(v, o, err))
				return -1;
		} else if (!strcmp(s, "--rays")) {
			NEED;
			if (eu_parse_int(v, &o->rays) || o->rays < 2 ||
			    o->rays > 100000)
				return eu_err(err, "--rays '%s': 2..100000", v);
		} else if (!strcmp(s, "--zeta")) {
			NEED;
			if (parse_pair(v, &a, &b) || !(b > a))
				return eu_err(err, "--zeta '%s': A:B with A < B",
					    v);
			o->zmin = a;
			o->zmax = b;
		} else if (!strcmp(s, "--grid")) {
			NEED;
			if (parse_pair(v, &a, &b) || a != floor(a) ||
			    b != floor(b) || a < 1 || a > 1000 || b < 2 ||
			    b > 64)
				return eu_err(err, "--grid '%s': NPAN:NG with "
						 "1 <= NPAN <= 1000, 2 <= NG "
						 "<= 64", v);
			o->npan = (int)a;
			o->ng = (int)b;
		} else if (!strcmp(s, "--bmax")) {
			NEED;
			if (eu_parse_double(v, &o->bmax) || !(o->bmax > 0) ||
			    o->bmax > 1000)
				return eu_err(err, "--bmax '%s': in (0, 1000]",
					    v);
		} else if (!strcmp(s, "-n") || !strcmp(s, "--no-write")) {
			o->no_write = 1;
		} else if (!strcmp(s, "-f") || !strcmp(s, "--force")) {
			o->force = 1;
		} else if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) {
			o->quiet = 1;
		} else if (s[0] == '-') {
			return eu_err(err, "unknown option '%s'", s);
		} else if (!o->path) {
			o->path = s;
		} else {
			return eu_err(err, "one archive only ('%s')", s);
		}
#undef NEED
	}
	if (!o->path && !o->help)
		return eu_err(err, "no archive given");
	return 0;
}

/* ---- the computation ---- */

typedef struct {
	kj_solution_t s[GHD_MAXR];
	int ok[GHD_MAXR];
	char msg[GHD_MAXR][KZ_ERRLEN];
	double *zeta;              /* [rays] */
	double *e, *je, *sz, *jm;  /* [nR][rays] */
	double v_right, cpu, wall;
} ghd_res_t;

static void res_free(ghd_res_t *r)
{
	free(r->zeta);
	free(r->e);
	r->zeta = r->e = NULL;
}

static int compute(const ghd_opts_t *o, ghd_res_t *res, char *err)
{
	char kerr[KZ_ERRLEN];
	tba_model_t mL, mR;
	tba_grid_t g = {o->npan, o->ng};
	if (tba_model_init(&mL, 2, kerr) || tba_model_init(&mR, o->P, kerr))
		return eu_err(err, "%s", kerr);
	res->v_right = M_PI * sin(mR.gamma) / (2 * mR.gamma);
	double zmin = isnan(o->zmin) ? -1.25 : o->zmin;
	double zmax = isnan(o->zmax) ? 1.2 * res->v_right : o->zmax;
	int n = o->rays, nR = o->nR;
	res->zeta = malloc(sizeof(double) * n);
	res->e = malloc(sizeof(double) * 4 * (size_t)n * nR);
	tba_obs_t *ob = malloc(sizeof(tba_obs_t) * n);
	if (!res->zeta || !res->e || !ob) {
		free(ob);
		return eu_err(err, "out of memory (%d rays)", n);
	}
	res->je = res->e + (size_t)n * nR;
	res->sz = res->je + (size_t)n * nR;
	res->jm = res->sz + (size_t)n * nR;
	/* cell centres: no ray on zeta = 0 itself, where E jumps */
	for (int i = 0; i < n; i++)
		res->zeta[i] = zmin + (zmax - zmin) * (i + 0.5) / n;
	/* left: the top of the XX band (species 1, cos k > 0, filled);
	 * right: the ground state of the XXZ half */
	const double top[2] = {0, 1};
	tba_state_t sL, sR;
	tba_state_const(&sL, &mL, top);
	if (tba_state_ground(&sR, &mR, &g, kerr)) {
		free(ob);
		return eu_err(err, "%s", kerr);
	}
	kj_problem_t p = {&mL, &mR, &sL, &sR, g, o->bmax};
	/* one core: the dense solves are small, BLAS threads only contend */
	int prev_blas = openblas_get_num_threads();
	openblas_set_num_threads(1);
	clock_t c0 = clock();
	double w0 = kz_wtime();
	for (int k = 0; k < nR; k++) {
		size_t off = (size_t)n * k;
		res->ok[k] = !kj_solve(&p, o->R[k], &res->s[k], kerr) &&
			     !kj_profile(&p, &res->s[k], n, res->zeta, ob,
					 kerr);
		if (!res->ok[k]) {
			snprintf(res->msg[k], sizeof res->msg[k], "%s", kerr);
			res->s[k].R = o->R[k];
			res->s[k].beta_minus = res->s[k].beta_plus = NAN;
			res->s[k].current = NAN;
		}
		for (int i = 0; i < n; i++) {
			res->e[off + i] = res->ok[k] ? ob[i].e : NAN;
			res->je[off + i] = res->ok[k] ? ob[i].je : NAN;
			res->sz[off + i] = res->ok[k] ? ob[i].sz : NAN;
			res->jm[off + i] = res->ok[k] ? ob[i].jm : NAN;
		}
	}
	res->cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
	res->wall = kz_wtime() - w0;
	openblas_set_num_threads(prev_blas);
	tba_state_free(&sR);
	free(ob);
	return 0;
}

/* ---- writing /analysis/ghd ---- */

/* The datasets of /analysis/ghd (schema_ghd_ds), in their order. */
static int write_ghd_ds(hid_t g, const ghd_opts_t *o, const ghd_res_t *r)
{
	double Rs[GHD_MAXR], bm[GHD_MAXR], bp[GHD_MAXR], cur[GHD_MAXR],
		em[GHD_MAXR], ep[GHD_MAXR], okd[GHD_MAXR];
	for (int k = 0; k < o->nR; k++) {
		Rs[k] = o->R[k];
		bm[k] = r->s[k].beta_minus;
		bp[k] = r->s[k].beta_plus;
		cur[k] = r->s[k].current;
		em[k] = r->ok[k] ? r->s[k].e_minus : NAN;
		ep[k] = r->ok[k] ? r->s[k].e_plus : NAN;
		okd[k] = r->ok[k];
	}
	const double *data[N_GHD_DS] = {
		[GHD_ZETA] = r->zeta, [GHD_R] = Rs, [GHD_OK] = okd,
		[GHD_BETA_MINUS] = bm, [GHD_BETA_PLUS] = bp,
		[GHD_CURRENT] = cur, [GHD_ENERGY_MINUS] = em,
		[GHD_ENERGY_PLUS] = ep, [GHD_ENERGY] = r->e,
		[GHD_ENERGY_CURRENT] = r->je, [GHD_SZ] = r->sz,
		[GHD_SPIN_CURRENT] = r->jm,
	};
	for (int k = 0; k < N_GHD_DS; k++) {
		const schema_ds_t *d = &schema_ghd_ds[k];
		hsize_t dims[2];
		int rank = schema_ghd_dims(d, o->nR, o->rays, dims);
		if (an_write_ds(g, d->name, rank, dims, H5T_IEEE_F64LE,
				H5T_NATIVE_DOUBLE, data[k], d->units,
				d->index0))
			return -1;
	}
	return 0;
}

static int write_ghd(hid_t f, const ghd_opts_t *o, const ghd_res_t *r,
		     int argc, char **argv, char *err)
{
	char cmd[1024], now[32];
	eu_utc_now(now, sizeof now);
	an_command(cmd, sizeof cmd, argc, argv);
	hid_t an = H5Lexists(f, SCHEMA_ANALYSIS, H5P_DEFAULT) > 0
		? H5Gopen2(f, SCHEMA_ANALYSIS, H5P_DEFAULT)
		: H5Gcreate2(f, SCHEMA_ANALYSIS, H5P_DEFAULT, H5P_DEFAULT,
			     H5P_DEFAULT);
	if (an < 0)
		return eu_err(err, "cannot open or create /analysis");
	if (H5Lexists(an, SCHEMA_AN_GHD, H5P_DEFAULT) > 0 &&
	    H5Ldelete(an, SCHEMA_AN_GHD, H5P_DEFAULT) < 0) {
		H5Gclose(an);
		return eu_err(err, "cannot replace /analysis/ghd");
	}
	hid_t g = H5Gcreate2(an, SCHEMA_AN_GHD, H5P_DEFAULT, H5P_DEFAULT,
			     H5P_DEFAULT);
	H5Gclose(an);
	if (g < 0)
		return eu_err(err, "cannot create /analysis/ghd");
	double gamma = M_PI / o->P;
	int bad =
		h5x_attr_str(g, "format", SCHEMA_GHD_FORMAT) ||
		h5x_attr_int(g, "format_version", SCHEMA_GHD_FORMAT_VERSION) ||
		h5x_attr_str(g, "kapitza_version", KAPITZA_VERSION) ||
		h5x_attr_str(g, "created", now) ||
		h5x_attr_str(g, "command", cmd) ||
		h5x_attr_int(g, "P", o->P) || h5x_attr_dbl(g, "gamma", gamma) ||
		h5x_attr_dbl(g, "delta_left", 0) ||
		h5x_attr_dbl(g, "delta_right", cos(gamma)) ||
		h5x_attr_str(g, "left_state", "xx_top_of_band") ||
		h5x_attr_str(g, "right_state", "ground_state") ||
		h5x_attr_dbl(g, "v_left", 1) ||
		h5x_attr_dbl(g, "v_right", r->v_right) ||
		h5x_attr_str(g, "fourier_law",
			     "current = (beta_plus - beta_minus) / R") ||
		h5x_attr_int(g, "npan", o->npan) ||
		h5x_attr_int(g, "ng", o->ng) ||
		h5x_attr_dbl(g, "bmax", o->bmax) ||
		h5x_attr_dbl(g, "cpu_seconds", r->cpu) ||
		write_ghd_ds(g, o, r);
	H5Gclose(g);
	return bad ? eu_err(err, "cannot write /analysis/ghd") : 0;
}

static void print_res(const ghd_opts_t *o, const ghd_res_t *r)
{
	printf("GHD of the extended chaotic junction: XX top of band | XXZ "
	       "ground state, gamma = pi/%d (Delta = %.6f)\n",
	       o->P, cos(M_PI / o->P));
	printf("light-cone edges: v_L = 1, v_R = (pi/2) sin(g)/g = %.6f\n",
	       r->v_right);
	printf("%10s %12s %12s %12s %10s %10s  %s\n", "R", "beta-", "beta+",
	       "J(0)", "E(0-)", "E(0+)", "message");
	for (int k = 0; k < o->nR; k++)
		printf("%10g %12.6f %12.6f %12.8f %10.6f %10.6f  %s\n", o->R[k],
		       r->s[k].beta_minus, r->s[k].beta_plus, r->s[k].current,
		       r->ok[k] ? r->s[k].e_minus : NAN,
		       r->ok[k] ? r->s[k].e_plus : NAN, r->msg[k]);
	printf("%d values of R x %d rays: %.1f s CPU (%.1f s wall)\n", o->nR,
	       o->rays, r->cpu, r->wall);
}

/* ---- the command ---- */

int cmd_ghd(int argc, char **argv)
{
	ghd_opts_t o;
	ghd_res_t res;
	char err[EU_ERRLEN] = "";
	archive_summary_t *sum = NULL;
	hid_t fapl = -1, f = -1;
	int status = 2;
	memset(&res, 0, sizeof res);
	if (parse_args(argc, argv, &o, err)) {
		fprintf(stderr, "kapitza ghd: %s\n", err);
		usage(stderr);
		return 2;
	}
	if (o.help) {
		usage(stdout);
		return 0;
	}
	if (archive_summary_read(&sum, o.path, err))
		goto out;
	int running = 0;
	for (int i = 0; i < sum->npoints; i++)
		running += sum->status[i].state == ARCHIVE_RUNNING;
	if (running && !o.force && !o.no_write) {
		eu_err(err,
		     "%d point%s of '%s' marked running: a run may still be "
		     "writing the archive (kapitza status); --force if that "
		     "run is dead, or --no-write",
		     running, running == 1 ? "" : "s", o.path);
		goto out;
	}
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (fapl < 0 || H5Pset_fapl_sec2(fapl) < 0) {
		eu_err(err, "HDF5: file access properties");
		goto out;
	}
	/* opened before computing, so that a locked or read-only archive
	 * fails at once */
	f = H5Fopen(o.path, o.no_write ? H5F_ACC_RDONLY : H5F_ACC_RDWR, fapl);
	if (f < 0) {
		eu_err(err, "cannot open '%s' %s", o.path,
		     o.no_write ? "for reading"
				: "for writing (read-only file or in use?)");
		goto out;
	}
	if (compute(&o, &res, err))
		goto out;
	status = 0;
	for (int k = 0; k < o.nR; k++)
		if (!res.ok[k])
			status = 1;
	if (!o.no_write && write_ghd(f, &o, &res, argc, argv, err)) {
		status = 2;
		goto out;
	}
	if (!o.quiet) {
		print_res(&o, &res);
		if (!o.no_write)
			printf("written: %s:/analysis/ghd\n", o.path);
	}
out:
	if (err[0])
		fprintf(stderr, "kapitza ghd: %s\n", err);
	if (f >= 0 && H5Fclose(f) < 0 && status != 2) {
		fprintf(stderr, "kapitza ghd: closing '%s' failed\n", o.path);
		status = 2;
	}
	if (fapl >= 0)
		H5Pclose(fapl);
	res_free(&res);
	archive_summary_destroy(&sum);
	fflush(stdout);
	return status;
}
