/* worker: one point of a sweep, start to finish (see worker.h).
 *
 * The evolution is the paper's protocol (Setup and Methods): the junction
 * chain (XX for bonds n <= 0, XXZ with Delta_right for n > 0), the domain
 * wall |Psi2> (up for n <= 0, i.e. kernel sites i <= L/2-1, down for n > 0),
 * TEBD of the spec's order, measured at t = 0 and every steps_per_measure
 * steps.  Each tebd_run() call covers exactly one measurement interval on
 * every rank, so a point gives bit-identical data whichever rank runs it
 * (merging of half-layers happens inside one call only).
 *
 * Checkpoints and exact continuation.  A checkpoint (checkpoint.h) holds
 * the state right after a measurement row, so a resumed attempt continues
 * with the very tebd_run() calls an uninterrupted one makes.  The kernel's
 * discarded-weight accumulators are reset before each interval and the
 * worker sums the interval totals itself (discarded = sum over intervals,
 * discarded_max = max over intervals): that sum is what a checkpoint
 * records and restores, so a resumed run adds up exactly the same numbers.
 * Everything else the kernel does depends on the state alone.
 *
 * A point fails -- recorded, not fatal to the sweep -- on a kernel error, an
 * allocation failure, a NaN in the observables or a norm off 1 by more than
 * 1e-6 plus the weight discarded so far; the row that shows the problem is written first, so the archive
 * holds the evidence.
 *
 * A thermal table (a point of state thermal_table, from the spec's
 * `thermal:` section) is computed by the kernel's thermal_table_create
 * (kernels/thermal.h) a few mu values at a time -- as many as keep the
 * threads busy, two imaginary-time runs per mu -- and written row by row
 * (one row per mu), so the scheduler gets progress and a stop signal ends
 * the table after the current mu values.  It has no checkpoint: every
 * attempt computes the whole table (a table is short next to a point).
 * The runs are independent, so the rows do not depend on how the mu values
 * are grouped. */
#include "worker.h"

#include <complex.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "checkpoint.h"
#include "eu.h"
#include "dmrg.h"
#include "kz.h"
#include "mps.h"
#include "obs.h"
#include "tebd.h"
#include "thermal.h"
#include "version.h"

#ifndef KAPITZA_BUILD_FLAGS
#define KAPITZA_BUILD_FLAGS "unknown build flags"
#endif
#if defined(__clang__)
#define WORKER_CC "clang " __clang_version__
#elif defined(__GNUC__)
#define WORKER_CC "gcc " __VERSION__
#else
#define WORKER_CC "unknown compiler"
#endif

#define NORM_TOL 1e-6

static void fail(worker_result_t *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fail(worker_result_t *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
	r->state = ARCHIVE_FAILED;
}

/* Test switch KAPITZA_TEST_HOLD_AT_ROW=k: every point writes a checkpoint
 * after its row k and then holds (sleeps until killed).  A test waits for
 * that checkpoint file to appear and kills the job, so a crash with a
 * checkpoint on disk happens on any machine, however fast. */
static int test_hold_row(void)
{
	const char *v = getenv("KAPITZA_TEST_HOLD_AT_ROW");
	return v && *v ? atoi(v) : -1;
}

static void hold_forever(int rank, int point, int row)
{
	fprintf(stderr, "kapitza: rank %d: point %d: holding after the "
		"checkpoint of row %d (KAPITZA_TEST_HOLD_AT_ROW)\n", rank,
		point, row);
	for (;;)
		pause();
}

static void env_copy(char *dst, size_t n, const char *name)
{
	const char *v = getenv(name);
	snprintf(dst, n, "%s", v ? v : "");
}

static void prov_begin(archive_prov_t *pv, int attempt, const worker_opts_t *o)
{
	memset(pv, 0, sizeof *pv);
	pv->attempt = attempt;
	pv->mpi_size = o->mpi_size;
	pv->rank = o->rank;
	pv->threads = o->threads;
	if (gethostname(pv->host, sizeof pv->host - 1))
		snprintf(pv->host, sizeof pv->host, "?");
	pv->host[sizeof pv->host - 1] = 0;
	env_copy(pv->omp_num_threads, sizeof pv->omp_num_threads,
		 "OMP_NUM_THREADS");
	env_copy(pv->openblas_num_threads, sizeof pv->openblas_num_threads,
		 "OPENBLAS_NUM_THREADS");
	env_copy(pv->slurm_job_id, sizeof pv->slurm_job_id, "SLURM_JOB_ID");
	env_copy(pv->slurm_array_task_id, sizeof pv->slurm_array_task_id,
		 "SLURM_ARRAY_TASK_ID");
	eu_utc_now(pv->start_time, sizeof pv->start_time);
	snprintf(pv->version, sizeof pv->version, "%s", KAPITZA_VERSION);
	snprintf(pv->compiler, sizeof pv->compiler, "%s; %s", WORKER_CC,
		 KAPITZA_BUILD_FLAGS);
}

static int has_nan(const obs_t *o)
{
	const int L = o->L;
	if (!isfinite(o->norm))
		return 1;
	for (int i = 0; i < L; i++)
		if (!isfinite(o->sz[i]) || !isfinite(o->energy_flow[i]))
			return 1;
	for (int i = 0; i < L - 1; i++)
		if (!isfinite(o->energy[i]) || !isfinite(o->spin_current[i]) ||
		    !isfinite(o->energy_current[i]) ||
		    !isfinite(o->entropy[i]))
			return 1;
	return 0;
}

/* The (L-2) three-site density matrices of m, normalised to trace 1, in the
 * archive's layout (archive_write_rho3): out[2*(64 w + 8 a + b)] = Re<a|rho|b>
 * while mps_rho3 stores rho[a + 8 b] = <a|rho|b>. */
static int measure_rho3(const mps_t *m, int L, double *out, char *err)
{
	kz_cplx rho[64];
	for (int w = 0; w < L - 2; w++) {
		int rc = mps_rho3(m, w, rho, err);
		if (rc)
			return rc;
		double tr = 0;
		for (int a = 0; a < 8; a++)
			tr += creal(rho[a + 8 * a]);
		for (int a = 0; a < 8; a++)
			for (int b = 0; b < 8; b++) {
				kz_cplx x = rho[a + 8 * b] / tr;
				double *o = out + 2 * (64 * w + 8 * a + b);
				o[0] = creal(x);
				o[1] = cimag(x);
			}
	}
	return 0;
}

static const char *kind(int kz)
{
	return kz == KZ_ENOMEM ? "allocation failure in " : "";
}

/* One measurement interval; its discarded weight is added to the worker's
 * accumulators (see the top of the file). */
static int interval(tebd_t *t, mps_t *m, int nsteps, double *disc_total,
		    double *disc_max, char *kerr)
{
	tebd_reset_discarded(t);
	int rc = tebd_run(t, m, nsteps, kerr);
	if (!rc) {
		*disc_total += tebd_discarded_total(t);
		*disc_max = fmax(*disc_max, tebd_discarded_max(t));
	}
	return rc;
}

/* The initial state of p on chain c: |Psi1>, the ground state of
 * H' = sum lambda_n h_n (lambda = -1 for n <= 0) in the Sz = 0 sector, by
 * DMRG at the point's chi_max and cutoff (not converging fails the point);
 * or the domain wall |Psi2>, up on paper sites n <= 0 = kernel sites
 * i <= L/2-1. */
static int initial_state(const spec_point_t *p, mps_t **m,
			 worker_result_t *res)
{
	char kerr[KZ_ERRLEN] = "";
	int rc;
	if (p->state == SPEC_STATE_GROUND) {
		chain_t *cp = NULL;
		dmrg_params_t dp;
		dmrg_result_t dr;
		dmrg_params_default(&dp);
		dp.chi_max = p->chi_max;
		dp.cutoff = p->cutoff;
		rc = dmrg_paper_chain(&cp, p->L, p->J, p->delta_left,
				      p->delta_right, kerr);
		if (!rc)
			rc = dmrg_ground_state(cp, p->L / 2, &dp, m, &dr, kerr);
		chain_destroy(&cp);
		if (rc) {
			fail(res, "%sground state: %s", kind(rc), kerr);
			return -1;
		}
		return 0;
	}
	int *up = malloc((size_t)p->L * sizeof *up);
	if (!up) {
		fail(res, "allocation failure: initial state");
		return -1;
	}
	for (int i = 0; i < p->L; i++)
		up[i] = i <= p->L / 2 - 1;
	rc = mps_create_product(m, p->L, up, kerr);
	free(up);
	if (rc) {
		fail(res, "%sinitial state: %s", kind(rc), kerr);
		return -1;
	}
	return 0;
}

/* Checkpoint of the state m right after row `row` of attempt `attempt`. */
static int checkpoint(const worker_opts_t *o, const spec_point_t *p,
		      int attempt, int row, const mps_t *m, double dtot,
		      double dmax, int chi, char *err)
{
	ckpt_header_t h;
	memset(&h, 0, sizeof h);
	snprintf(h.spec_hash, sizeof h.spec_hash, "%s", o->spec_hash);
	snprintf(h.point_hash, sizeof h.point_hash, "%s", p->hash_hex);
	h.point_id = p->id;
	h.attempt = attempt;
	h.L = p->L;
	h.nup = mps_nup(m);
	h.row = row;
	h.steps_per_measure = p->steps_per_measure;
	h.steps = (int64_t)row * p->steps_per_measure;
	h.t = (double)row * (double)p->steps_per_measure * p->dt;
	h.dt = p->dt;
	h.discarded_total = dtot;
	h.discarded_max = dmax;
	h.max_bond_dim = chi;
	return ckpt_write(o->ckpt_dir, &h, m, o->sync_path, err);
}

/* The kernel's table of mu values mus[0..n-1] into the archive's layout:
 * rows of e, sz (nbeta each) and rho3 (nbeta 8x8 complex matrices, as
 * (re, im) with <a|rho|b> at 8 a + b, where the kernel keeps it at a + 8 b). */
static void table_rows(const thermal_table_t *tb, int n, double *e,
		       double *sz, double *rho)
{
	const int nb = thermal_table_nbeta(tb);
	const kz_cplx *r = thermal_table_rho3(tb);
	memcpy(e, thermal_table_energy(tb), (size_t)n * nb * sizeof *e);
	memcpy(sz, thermal_table_sz(tb), (size_t)n * nb * sizeof *sz);
	for (size_t node = 0; node < (size_t)n * nb; node++)
		for (int x = 0; x < 8; x++)
			for (int y = 0; y < 8; y++) {
				kz_cplx v = r[64 * node + x + 8 * y];
				double *out = rho + 2 * (64 * node + 8 * x + y);
				out[0] = creal(v);
				out[1] = cimag(v);
			}
}

/* worker_run_point for a thermal table (see the top of the file): rows are
 * mu values, and `t` in the progress reports is NaN. */
static void run_table(archive_t *a, const spec_point_t *p, int attempt,
		      const worker_opts_t *o, worker_report_fn report,
		      void *arg, worker_result_t *res)
{
	const spec_thermal_t *th = p->thermal;
	const double t0 = kz_wtime();
	thermal_table_t *tb = NULL;
	thermal_params_t tp;
	char kerr[KZ_ERRLEN] = "", aerrbuf[EU_ERRLEN] = "";
	double *e = NULL, *sz = NULL, *rho = NULL, *disc = NULL, dsum = 0;
	int chunk, nb;

	res->max_bond_dim = -1; /* the kernel does not report it */
	if (!th || !archive_is_table(a, p->id)) {
		fail(res, "thermal table %d: no thermal section", p->id);
		return;
	}
	nb = th->nbeta;
	/* two runs per mu: enough mu values for every thread */
	chunk = (o->threads + 1) / 2;
	if (chunk > th->nmu)
		chunk = th->nmu;
	e = malloc((size_t)chunk * nb * sizeof *e);
	sz = malloc((size_t)chunk * nb * sizeof *sz);
	rho = malloc((size_t)chunk * nb * 128 * sizeof *rho);
	disc = malloc((size_t)chunk * sizeof *disc);
	if (!e || !sz || !rho || !disc) {
		fail(res, "allocation failure: thermal table buffers");
		goto out;
	}
	/* an earlier attempt's rows go: the table is computed whole */
	if (attempt > 1 && archive_clear_rows(a, p->id, 0, aerrbuf)) {
		fail(res, "%s", aerrbuf);
		goto out;
	}
	thermal_params_default(&tp);
	tp.J = p->J;
	tp.delta = p->delta_right;
	tp.n_sites = p->L;
	tp.chi_max = p->chi_max;
	tp.cutoff = p->cutoff;
	tp.dtau = p->dt;
	tp.order = p->order;
	tp.threads = o->threads;
	for (int j0 = 0; j0 < th->nmu; j0 += chunk) {
		const int n = th->nmu - j0 < chunk ? th->nmu - j0 : chunk;
		int rc = thermal_table_create(&tb, &tp, th->betas, nb,
					      th->mus + j0, n, kerr);
		if (rc) {
			fail(res, "%sthermal table at mu = %g%s: %s", kind(rc),
			     th->mus[j0], n > 1 ? " .." : "", kerr);
			goto out;
		}
		/* row by row, so that the values do not depend on the chunks */
		for (int j = 0; j < n; j++) {
			dsum += thermal_table_discarded_mu(tb)[j];
			disc[j] = dsum;
		}
		table_rows(tb, n, e, sz, rho);
		thermal_table_destroy(&tb);
		if (archive_write_table_rows(a, p->id, j0, n, th->mus + j0, e,
					     sz, rho, disc, aerrbuf)) {
			fail(res, "%s", aerrbuf);
			goto out;
		}
		res->rows = j0 + n;
		res->max_discarded = dsum;
		res->wall_s = kz_wtime() - t0;
		/* the rows are in the archive; now judge them */
		for (size_t k = 0; k < (size_t)n * nb; k++)
			if (!isfinite(e[k]) || !isfinite(sz[k])) {
				fail(res, "NaN in the thermal table at mu = %g",
				     th->mus[j0 + (int)(k / (size_t)nb)]);
				goto out;
			}
		if (o->fault_point == p->id) {
			fail(res, "injected fault");
			goto out;
		}
		const int last = j0 + n >= th->nmu;
		if (report) {
			worker_progress_t pr = {
				.point = p->id,
				.attempt = attempt,
				.row = j0 + n - 1,
				.chi = -1,
				.t = NAN,
				.wall_s = res->wall_s,
				.discarded_max = dsum,
				.discarded_total = dsum,
			};
			if (report(arg, &pr) && !last) {
				res->state = ARCHIVE_INTERRUPTED;
				snprintf(res->message, sizeof res->message,
					 "interrupted after %d of %d mu rows "
					 "(a table is computed whole: "
					 "resubmit runs it again)",
					 j0 + n, th->nmu);
				goto out;
			}
		}
	}
	res->state = ARCHIVE_DONE;
	res->message[0] = 0;
out:
	thermal_table_destroy(&tb);
	free(e);
	free(sz);
	free(rho);
	free(disc);
}

int worker_run_point(archive_t *a, const spec_point_t *p, int attempt,
		     int resume, const worker_opts_t *o,
		     worker_report_fn report, void *arg,
		     worker_result_t *res)
{
	chain_t *c = NULL;
	mps_t *m = NULL;
	tebd_t *t = NULL;
	obs_t *ob = NULL;
	double *rho3 = NULL;
	char kerr[KZ_ERRLEN] = "", aerrbuf[EU_ERRLEN] = "";
	char note[EU_ERRLEN] = "";
	archive_prov_t pv;
	tebd_params_t tp;
	const double t0 = kz_wtime();
	double dtot = 0, dmax = 0, last_ckpt = t0;
	const int hold_row = test_hold_row();
	int rc, row0 = 0;

	if (!a || !p || !o || !res || o->threads < 1 ||
	    (resume && (!o->ckpt_dir || !o->spec_hash)))
		return -1;
	memset(res, 0, sizeof *res);
	res->state = ARCHIVE_FAILED;
	res->t_reached = NAN;
	res->t_resumed = NAN;
	res->t_ckpt = NAN;
	res->max_discarded = 0;
	prov_begin(&pv, attempt, o);

	if (p->state == SPEC_STATE_THERMAL) {
		if (resume)
			fail(res, "a thermal table has no checkpoint to resume "
				  "from");
		else
			run_table(a, p, attempt, o, report, arg, res);
		goto out;
	}
	if (p->state != SPEC_STATE_DOMAIN_WALL &&
	    p->state != SPEC_STATE_GROUND) {
		fail(res, "unknown initial state %d", p->state);
		goto out;
	}
	rc = chain_create_junction(&c, p->L, p->J, p->delta_left,
				   p->delta_right, kerr);
	if (rc) {
		fail(res, "%schain: %s", kind(rc), kerr);
		goto out;
	}
	if (resume) {
		char path[4096], cerrbuf[EU_ERRLEN] = "";
		ckpt_header_t h;
		if (ckpt_file_of(path, sizeof path, o->ckpt_dir, p->hash_hex) ||
		    ckpt_read(path, &h, &m, cerrbuf) ||
		    ckpt_match(&h, o->spec_hash, p, cerrbuf)) {
			fail(res, "cannot resume: %s", cerrbuf);
			goto out;
		}
		if (mps_length(m) != p->L) {
			fail(res, "cannot resume: checkpoint state of length %d",
			     mps_length(m));
			goto out;
		}
		row0 = h.row + 1;
		dtot = h.discarded_total;
		dmax = h.discarded_max;
		res->rows = h.row + 1;
		res->t_reached = h.t;
		res->t_resumed = h.t;
		res->max_discarded = dmax;
		res->max_bond_dim = h.max_bond_dim;
	} else if (initial_state(p, &m, res)) {
		goto out;
	}
	/* rows after the starting point are rewritten: clear what an
	 * earlier attempt left there */
	if ((resume || attempt > 1) &&
	    archive_clear_rows(a, p->id, row0, aerrbuf)) {
		fail(res, "%s", aerrbuf);
		goto out;
	}
	if (archive_wants_rho3(a, p->id)) {
		rho3 = malloc((size_t)(p->L - 2) * 128 * sizeof *rho3);
		if (!rho3) {
			fail(res, "allocation failure: rho3 buffer");
			goto out;
		}
	}
	tebd_params_default(&tp);
	rc = tebd_scheme_for_order(p->order, &tp.scheme, kerr);
	if (rc) {
		fail(res, "tebd: %s", kerr);
		goto out;
	}
	tp.dt = p->dt;
	tp.chi_max = p->chi_max;
	tp.cutoff = p->cutoff;
	tp.threads = o->threads;
	rc = tebd_create(&t, c, &tp, kerr);
	if (rc) {
		fail(res, "%stebd: %s", kind(rc), kerr);
		goto out;
	}
	rc = obs_create(&ob, p->L, kerr);
	if (rc) {
		fail(res, "%sobservables: %s", kind(rc), kerr);
		goto out;
	}

	for (int row = row0; row < p->n_measure; row++) {
		if (row > 0) {
			rc = interval(t, m, p->steps_per_measure, &dtot, &dmax,
				      kerr);
			if (rc) {
				fail(res, "%stebd at t = %g: %s", kind(rc),
				     res->t_reached, kerr);
				goto out;
			}
		}
		rc = obs_measure(ob, m, c, kerr);
		if (rc) {
			fail(res, "%smeasurement: %s", kind(rc), kerr);
			goto out;
		}
		const double time =
			(double)row * (double)p->steps_per_measure * p->dt;
		if (rho3) {
			rc = measure_rho3(m, p->L, rho3, kerr);
			if (rc) {
				fail(res, "%srho3: %s", kind(rc), kerr);
				goto out;
			}
			if (archive_write_rho3(a, p->id, row, rho3, aerrbuf)) {
				fail(res, "%s", aerrbuf);
				goto out;
			}
		}
		if (archive_write_row(a, p->id, row, time, ob, dtot, dmax,
				      aerrbuf)) {
			fail(res, "%s", aerrbuf);
			goto out;
		}
		const int chi = mps_max_bond_dim(m);
		res->rows = row + 1;
		res->t_reached = time;
		res->max_discarded = dmax;
		if (chi > res->max_bond_dim)
			res->max_bond_dim = chi;
		res->wall_s = kz_wtime() - t0;

		/* the row is in the archive; now judge it */
		if (has_nan(ob)) {
			fail(res, "NaN in the observables at t = %g", time);
			goto out;
		}
		/* Truncation renormalises the Schmidt spectrum but leaves the
		 * tensors only approximately orthonormal, so the contracted
		 * norm may drift by about the weight discarded so far: that
		 * much is allowed on top of NORM_TOL. */
		const double ntol = NORM_TOL + dtot;
		if (!(fabs(ob->norm - 1.0) <= ntol)) {
			fail(res, "norm %.10g off 1 by more than %g at t = %g "
			     "(discarded weight so far %g)",
			     ob->norm, ntol, time, dtot);
			goto out;
		}
		if (o->fault_point == p->id) {
			fail(res, "injected fault");
			goto out;
		}
		const int last = row + 1 >= p->n_measure;
		int stop = 0;
		if (report) {
			worker_progress_t pr = {
				.point = p->id,
				.attempt = attempt,
				.row = row,
				.chi = chi,
				.t = time,
				.wall_s = res->wall_s,
				.discarded_max = dmax,
				.discarded_total = dtot,
			};
			stop = report(arg, &pr) && !last;
		}
		const int hold = row == hold_row;
		if (o->ckpt_dir && !last &&
		    (stop || hold ||
		     (o->ckpt_every_s > 0 &&
		      kz_wtime() - last_ckpt >= o->ckpt_every_s))) {
			char cerrbuf[EU_ERRLEN] = "";
			if (checkpoint(o, p, attempt, row, m, dtot, dmax,
				       res->max_bond_dim, cerrbuf)) {
				/* the point goes on; a later checkpoint may
				 * work, and without one it restarts */
				fprintf(stderr,
					"kapitza: rank %d: point %d: %s\n",
					o->rank, p->id, cerrbuf);
				snprintf(note, sizeof note,
					 " (no checkpoint: %.200s)", cerrbuf);
			} else {
				res->t_ckpt = time;
				last_ckpt = kz_wtime();
				note[0] = 0;
				if (hold)
					hold_forever(o->rank, p->id, row);
			}
		}
		if (stop) {
			res->state = ARCHIVE_INTERRUPTED;
			snprintf(res->message, sizeof res->message,
				 "interrupted at t = %g%s", time,
				 res->t_ckpt == time ? " (checkpoint written)"
						     : note);
			goto out;
		}
	}
	res->state = ARCHIVE_DONE;
	res->message[0] = 0;
out:
	res->wall_s = kz_wtime() - t0;
	pv.wall_s = res->wall_s;
	eu_utc_now(pv.end_time, sizeof pv.end_time);
	if (archive_write_provenance(a, p->id, &pv, aerrbuf) &&
	    res->state != ARCHIVE_FAILED)
		fail(res, "%s", aerrbuf);
	obs_destroy(&ob);
	tebd_destroy(&t);
	mps_destroy(&m);
	chain_destroy(&c);
	free(rho3);
	return 0;
}
