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
 * the state right after a measurement row, or -- when a stop signal came
 * in the middle of an interval -- after some layer of the interval's
 * merged layer sequence (the kernel asks the worker's layer hook between
 * layers and stops there: tebd.h, tebd_run_from).  A resumed attempt
 * continues with the very layers an uninterrupted one applies: the rest of
 * the stopped interval's sequence, then whole intervals.  The kernel's
 * discarded-weight accumulators are reset before each interval and the
 * worker sums the interval totals itself (discarded = sum over intervals,
 * discarded_max = max over intervals): those sums, and for a mid-interval
 * stop the kernel's own sums of the interval so far, are what a checkpoint
 * records and restores, so a resumed run adds up exactly the same numbers.
 * Everything else the kernel does depends on the state alone.
 *
 * A point fails -- recorded, not fatal to the sweep -- on a kernel error, an
 * allocation failure, a NaN in the observables or a norm off 1 by more than
 * 1e-6 plus the weight discarded so far; the row that shows the problem is
 * written first, so the archive holds the evidence.
 *
 * worker_run_point in named steps: prepare (chain, initial state or
 * checkpoint, kernel objects), then per measurement row evolve_row (one
 * interval of TEBD), write_row (observables into the archive), judge_row
 * (NaN, norm, injected fault) and after_row (progress, checkpoint, stop).
 *
 * A thermal table (a point of state thermal_table, from the spec's
 * `thermal:` section; engine/farm/worker_table.c) is computed by the
 * kernel's thermal_table_create (kernels/thermal.h) a few mu values at a
 * time -- as many as keep the threads busy, two imaginary-time runs per mu -- and written row by row
 * (one row per mu), so the scheduler gets progress and a stop signal ends
 * the table after the current mu values.  It has no checkpoint: every
 * attempt computes the whole table (a table is short next to a point).
 * The runs are independent, so the rows do not depend on how the mu values
 * are grouped. */
#include "worker.h"
#include "worker_impl.h"

#include <complex.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agree.h"
#include "blascore.h"
#include "chain.h"
#include "checkpoint.h"
#include "eu.h"
#include "dmrg.h"
#include "kz.h"
#include "mps.h"
#include "obs.h"
#include "params.h"
#include "schema.h"
#include "team.h"
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

#define NORM_TOL CKPT_NORM_TOL /* rows and resumptions alike */

void worker_fail(worker_result_t *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
	r->state = ARCHIVE_FAILED;
}

/* Test switch KAPITZA_TEST_HOLD_AT_ROW=k: every point writes a checkpoint
 * after its row k and then holds until a stop signal (then it stops there,
 * interrupted, as after any row) or until killed.  A test waits for that
 * checkpoint file to appear and then kills or signals the job, so a crash
 * or a stop with a checkpoint on disk happens on any machine, however
 * fast. */
static int test_hold_row(void)
{
	const char *v = getenv("KAPITZA_TEST_HOLD_AT_ROW");
	return v && *v ? atoi(v) : -1;
}


/* Test switch KAPITZA_TEST_HOLD_AT_STEP=k (k >= 1): every point, once its
 * TEBD has done step k (inside the kernel's interval: the layer boundary
 * where step k's layers, but for the half-layer merged with step k+1, are
 * applied), says so on stderr and waits -- polling the stop flag, i.e.
 * waiting for the event -- until a stop signal reaches its rank; then it
 * takes the normal stop path and checkpoints there.  So a row that takes
 * arbitrarily long is the same on any machine. */
static long test_hold_step(void)
{
	const char *v = getenv("KAPITZA_TEST_HOLD_AT_STEP");
	return v && *v ? atol(v) : -1;
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
	/* the BLAS kernel set too: results round differently on each */
	snprintf(pv->compiler, sizeof pv->compiler, "%s; %s; openblas=%s",
		 WORKER_CC, KAPITZA_BUILD_FLAGS, blascore_name());
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
		int rc = obs_rho3_window(m, w, rho, err);
		if (rc)
			return rc;
		schema_rho_swap(out + 128 * w, (const double *)rho, 1);
	}
	return 0;
}

const char *worker_kind(int kz)
{
	return kz == KZ_ENOMEM ? "allocation failure in " : "";
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
		params_dmrg(p, &dp);
		rc = dmrg_paper_chain(&cp, p->L, p->J, p->delta_left,
				      p->delta_right, kerr);
		if (!rc)
			rc = dmrg_ground_state(cp, p->L / 2, &dp, m, &dr, kerr);
		chain_destroy(&cp);
		if (rc) {
			worker_fail(res, "%sground state: %s", worker_kind(rc), kerr);
			return -1;
		}
		return 0;
	}
	int *up = malloc((size_t)p->L * sizeof *up);
	if (!up) {
		worker_fail(res, "allocation failure: initial state");
		return -1;
	}
	for (int i = 0; i < p->L; i++)
		up[i] = i <= p->L / 2 - 1;
	rc = mps_create_product(m, p->L, up, kerr);
	free(up);
	if (rc) {
		worker_fail(res, "%sinitial state: %s", worker_kind(rc), kerr);
		return -1;
	}
	return 0;
}

/* Where a checkpoint's state is: after row `row`, `layer` layers into the
 * next interval, with the kernel's discard sums of those layers. */
typedef struct {
	int row;
	long layer;
	double ldtot, ldmax;
} ckpt_pos_t;

/* Checkpoint of the state m at position at of attempt `attempt`. */
static int checkpoint(const worker_opts_t *o, const spec_point_t *p,
		      int attempt, const ckpt_pos_t *at, int lps,
		      const mps_t *m, double dtot, double dmax, int chi,
		      char *err)
{
	const int row = at->row;
	ckpt_header_t h;
	memset(&h, 0, sizeof h);
	snprintf(h.spec_hash, sizeof h.spec_hash, "%s", o->spec_hash);
	snprintf(h.point_hash, sizeof h.point_hash, "%s", p->hash_hex);
	h.point_id = p->id;
	h.attempt = attempt;
	h.L = p->L;
	h.nup = mps_nup(m);
	h.row = row;
	h.layer = (int)at->layer;
	h.layer_discarded_total = at->ldtot;
	h.layer_discarded_max = at->ldmax;
	h.steps_per_measure = p->steps_per_measure;
	h.steps = (int64_t)row * p->steps_per_measure + at->layer / lps;
	h.t = (double)row * (double)p->steps_per_measure * p->dt;
	h.dt = p->dt;
	h.discarded_total = dtot;
	h.discarded_max = dmax;
	h.max_bond_dim = chi;
	return ckpt_write(o->ckpt_dir, &h, m, o->sync_path, err);
}


/* One attempt at a time-evolution point: what its steps share. */
typedef struct {
	archive_t *a;
	const spec_point_t *p;
	const worker_opts_t *o;
	int attempt;
	worker_report_fn report;
	void *arg;
	worker_result_t *res;
	chain_t *c;
	mps_t *m;      /* on a team: the leader's copy, current after a gather */
	tebd_t *t;     /* NULL on a team */
	team_t *team;  /* a team point's evolution (below); NULL alone */
	tebd_params_t tp;
	obs_t *ob;
	double *rho3;  /* NULL unless the point measures rho3 */
	double t0, dtot, dmax, last_ckpt;
	int row0;      /* the first row this attempt writes */
	long layer0;   /* layers of the interval before row0 already applied
	                  (a checkpoint inside an interval), else 0 */
	double ldtot0, ldmax0; /* the kernel's discard sums at layer0 */
	int row0_ready; /* the state is already at row0 (finish_alone) */
	int row;       /* the row the running interval leads to */
	int hold_row;  /* KAPITZA_TEST_HOLD_AT_ROW */
	long hold_step; /* KAPITZA_TEST_HOLD_AT_STEP */
	int lps;       /* layers per Trotter step */
	double last_poll; /* when o->poll was last called */
	char note[EU_ERRLEN]; /* why the last checkpoint was not written */
} pt_run_t;

static int layer_hook(void *arg, long done);

/* ---- a team point (worker_opts_t.team_size > 1; worker.h) --------------
 * The leader prepares the point as alone -- chain, initial state or
 * checkpoint, archive rows, TEBD parameters -- and each member builds the
 * same chain and parameters from the same spec point (worker_serve_team).
 * Leader and members then agree on success (agree_all over the team), and
 * only then call team_create() / team_serve(), so that a failure on either
 * side never leaves the other waiting in a collective.  The rows go as
 * alone, with the kernel's calls replaced by the team's: team_run() for an
 * interval (its discarded weight summed as interval() does), team_measure()
 * for a row, team_gather() into R->m before a checkpoint.  The checkpoint is
 * the whole state, as alone, so a resumption may use any team size.  The
 * leader's layer_hook is the team's (team_set_hook): a stop inside an
 * interval takes effect TEAM_STOP_LAG layers after it is seen, and is
 * checkpointed at that layer like one alone. */

static int on_team(const pt_run_t *R)
{
	return R->o->team_size > 1;
}

/* A checkpoint inside an interval (R->layer0 > 0): the team evolves whole
 * intervals only, so the leader finishes this one alone, from the same
 * layer and with the same discard sums as an uninterrupted run, before the
 * team starts (the members wait meanwhile); evolve() then writes row0
 * without another interval.  0, or -1 with res saying why. */
static int finish_alone(pt_run_t *R)
{
	char kerr[KZ_ERRLEN] = "";
	tebd_t *t = NULL;
	int rc = tebd_create(&t, R->c, &R->tp, kerr);
	if (!rc) {
		tebd_restore_discarded(t, R->ldtot0, R->ldmax0);
		rc = tebd_run_from(t, R->m, R->p->steps_per_measure,
				   R->layer0, NULL, kerr);
	}
	if (!rc) {
		R->dtot += tebd_discarded_total(t);
		R->dmax = fmax(R->dmax, tebd_discarded_max(t));
		R->layer0 = 0;
		R->row0_ready = 1;
	}
	tebd_destroy(&t);
	if (rc)
		worker_fail(R->res, "%stebd (the rest of a checkpointed interval): %s",
		     worker_kind(rc), kerr);
	return rc ? -1 : 0;
}

/* After prepare() (prepared: it succeeded): agree over the team and start
 * its evolution from R->m.  Alone: nothing to do.  Non-zero: the point
 * failed (res says why) and the members have gone home. */
static int team_begin(pt_run_t *R, int prepared)
{
	char kerr[EU_ERRLEN] = ""; /* team.h writes EU_ERRLEN */
	if (!on_team(R))
		return 0;
	if (prepared && R->layer0 > 0 && finish_alone(R))
		prepared = 0;
	if (agree_all(R->o->team, prepared ? 0 : -1)) {
		if (prepared)
			worker_fail(R->res, "team: a member could not prepare point %d",
			     R->p->id);
		return -1;
	}
	int rc = team_create(&R->team, R->o->team, R->c, &R->tp, R->m, kerr);
	if (!rc)
		team_set_hook(R->team, layer_hook, R);
	if (!rc && R->o->team_scalapack > 0)
		rc = team_set_scalapack(R->team, R->o->team_scalapack, kerr);
	if (rc) {
		worker_fail(R->res, "%steam of %d: %s", worker_kind(rc), R->o->team_size,
		     kerr);
		return -1;
	}
	return 0;
}

/* The team's end, with a line on stderr when ScaLAPACK was on (how many
 * sectors it decomposed). */
static void team_end(pt_run_t *R)
{
	if (R->team && R->o->team_scalapack > 0)
		fprintf(stderr, "kapitza: rank %d: point %d: team of %d, %ld "
			"sectors by ScaLAPACK (from %d)\n", R->o->rank,
			R->p->id, R->o->team_size,
			team_scalapack_sectors(R->team), R->o->team_scalapack);
	team_destroy(&R->team);
}

/* The measurement interval leading to row `row` on the team (as
 * interval() alone; a team always starts an interval at its first layer,
 * see finish_alone).  KZ_STOPPED: the stop flag stopped it after *done
 * layers. */
static int team_interval(pt_run_t *R, int row, long *done, char *kerr)
{
	team_reset_discarded(R->team);
	R->row = row;
	int rc = team_run(R->team, R->p->steps_per_measure, done, kerr);
	if (!rc) {
		R->dtot += team_discarded_total(R->team);
		R->dmax = fmax(R->dmax, team_discarded_max(R->team));
	}
	return rc;
}

/* The largest bond dimension of the state now. */
static int state_chi(const pt_run_t *R)
{
	return R->team ? team_max_bond_dim(R->team) : mps_max_bond_dim(R->m);
}

/* On a team: the team's state gathered into R->m (for a checkpoint). */
static int team_state(pt_run_t *R, char *err)
{
	char kerr[EU_ERRLEN] = ""; /* team.h writes EU_ERRLEN */
	if (!R->team)
		return 0;
	if (team_gather(R->team, &R->m, kerr))
		return eu_err(err, "team: gathering the state: %s", kerr);
	return 0;
}

int worker_serve_team(const spec_point_t *p, const worker_opts_t *o,
		      char *err)
{
	char kerr[EU_ERRLEN] = ""; /* team.h writes EU_ERRLEN */
	chain_t *c = NULL;
	tebd_params_t tp;
	int rc = o->team_size > 1 ? 0 : -1;
	if (rc) {
		/* no team: nobody to serve, and no collective to join */
		return eu_err(err, "point %d: no team to serve", p->id);
	}
	rc = chain_create_junction(&c, p->L, p->J, p->delta_left,
				   p->delta_right, kerr);
	if (!rc)
		rc = params_tebd(p, o->threads, &tp, kerr);
	if (rc)
		eu_err(err, "point %d: %s", p->id, kerr);
	/* the leader's prepare() and ours */
	if (!agree_all(o->team, rc ? -1 : 0)) {
		rc = team_serve(o->team, c, &tp, kerr);
		if (rc)
			eu_err(err, "point %d: team: %s", p->id, kerr);
	}
	chain_destroy(&c);
	return rc;
}

/* Continue from the point's checkpoint: the state, the first row, the
 * discarded-weight sums and what the result already holds. */
static int resume_state(pt_run_t *R)
{
	const spec_point_t *p = R->p;
	worker_result_t *res = R->res;
	char path[4096], cerrbuf[EU_ERRLEN] = "";
	ckpt_header_t h;
	if (ckpt_file_of(path, sizeof path, R->o->ckpt_dir, p->hash_hex) ||
	    ckpt_load(path, R->o->spec_hash, p, &h, &R->m, cerrbuf)) {
		worker_fail(res, "cannot resume: %s", cerrbuf);
		return -1;
	}
	R->row0 = h.row + 1;
	R->layer0 = h.layer;
	R->ldtot0 = h.layer_discarded_total;
	R->ldmax0 = h.layer_discarded_max;
	R->dtot = h.discarded_total;
	R->dmax = h.discarded_max;
	res->rows = h.row + 1;
	res->t_reached = h.t;
	res->t_resumed = h.t;
	res->max_discarded = R->dmax;
	res->max_bond_dim = h.max_bond_dim;
	return 0;
}

/* The chain, the state (initial or from the checkpoint), the archive rows
 * to rewrite cleared, and the kernel objects. */
static int prepare(pt_run_t *R, int resume)
{
	const spec_point_t *p = R->p;
	worker_result_t *res = R->res;
	char kerr[KZ_ERRLEN] = "", aerrbuf[EU_ERRLEN] = "";
	tebd_params_t tp;
	int rc = chain_create_junction(&R->c, p->L, p->J, p->delta_left,
				       p->delta_right, kerr);
	if (rc) {
		worker_fail(res, "%schain: %s", worker_kind(rc), kerr);
		return -1;
	}
	if (resume ? resume_state(R) : initial_state(p, &R->m, res))
		return -1;
	/* rows after the starting point are rewritten: clear what an
	 * earlier attempt left there */
	if ((resume || R->attempt > 1) &&
	    archive_clear_rows(R->a, p->id, R->row0, aerrbuf)) {
		worker_fail(res, "%s", aerrbuf);
		return -1;
	}
	if (archive_wants_rho3(R->a, p->id)) {
		R->rho3 = malloc((size_t)(p->L - 2) * 128 * sizeof *R->rho3);
		if (!R->rho3) {
			worker_fail(res, "allocation failure: rho3 buffer");
			return -1;
		}
	}
	rc = params_tebd(p, R->o->threads, &tp, kerr);
	if (rc) {
		worker_fail(res, "tebd: %s", kerr);
		return -1;
	}
	R->tp = tp;
	rc = on_team(R) ? 0 : tebd_create(&R->t, R->c, &tp, kerr);
	if (rc) {
		worker_fail(res, "%stebd: %s", worker_kind(rc), kerr);
		return -1;
	}
	R->lps = tebd_scheme_layers(tp.scheme);
	if (R->t)
		tebd_set_hook(R->t, layer_hook, R);
	rc = obs_create(&R->ob, p->L, kerr);
	if (rc) {
		worker_fail(res, "%sobservables: %s", worker_kind(rc), kerr);
		return -1;
	}
	return 0;
}

/* Measure the state and write row `row` (at `time`) into the archive. */
static int write_row(pt_run_t *R, int row, double time)
{
	const spec_point_t *p = R->p;
	worker_result_t *res = R->res;
	char kerr[EU_ERRLEN] = "", aerrbuf[EU_ERRLEN] = ""; /* team.h: EU_ */
	int rc = on_team(R) ? team_measure(R->team, R->ob, R->rho3, kerr)
			    : obs_measure(R->ob, R->m, R->c, kerr);
	if (rc) {
		worker_fail(res, "%smeasurement: %s", worker_kind(rc), kerr);
		return -1;
	}
	if (R->rho3) {
		rc = on_team(R) ? 0 : measure_rho3(R->m, p->L, R->rho3, kerr);
		if (rc) {
			worker_fail(res, "%srho3: %s", worker_kind(rc), kerr);
			return -1;
		}
		if (archive_write_rho3(R->a, p->id, row, R->rho3, aerrbuf)) {
			worker_fail(res, "%s", aerrbuf);
			return -1;
		}
	}
	if (archive_write_row(R->a, p->id, row, time, R->ob, R->dtot, R->dmax,
			      aerrbuf)) {
		worker_fail(res, "%s", aerrbuf);
		return -1;
	}
	const int chi = state_chi(R);
	res->rows = row + 1;
	res->t_reached = time;
	res->max_discarded = R->dmax;
	if (chi > res->max_bond_dim)
		res->max_bond_dim = chi;
	res->wall_s = kz_wtime() - R->t0;
	return 0;
}

/* The row is in the archive; now judge it. */
static int judge_row(pt_run_t *R, double time)
{
	const obs_t *ob = R->ob;
	if (has_nan(ob)) {
		worker_fail(R->res, "NaN in the observables at t = %g", time);
		return -1;
	}
	/* Truncation renormalises the Schmidt spectrum but leaves the tensors
	 * only approximately orthonormal, so the contracted norm may drift by
	 * about the weight discarded so far: that much is allowed on top of
	 * NORM_TOL. */
	const double ntol = NORM_TOL + R->dtot;
	if (!(fabs(ob->norm - 1.0) <= ntol)) {
		worker_fail(R->res, "norm %.10g off 1 by more than %g at t = %g "
		     "(discarded weight so far %g)",
		     ob->norm, ntol, time, R->dtot);
		return -1;
	}
	if (R->o->fault_point == R->p->id) {
		worker_fail(R->res, "injected fault");
		return -1;
	}
	return 0;
}

/* A checkpoint at position at (time: its row's); a failure is reported
 * and noted, and the point goes on (a later checkpoint may work, and
 * without one it restarts).  Returns 0 if it was written. */
static int try_checkpoint(pt_run_t *R, const ckpt_pos_t *at, double time)
{
	char cerrbuf[EU_ERRLEN] = "";
	if (team_state(R, cerrbuf) ||
	    checkpoint(R->o, R->p, R->attempt, at, R->lps, R->m, R->dtot,
		       R->dmax, R->res->max_bond_dim, cerrbuf)) {
		fprintf(stderr, "kapitza: rank %d: point %d: %s\n", R->o->rank,
			R->p->id, cerrbuf);
		snprintf(R->note, sizeof R->note, " (no checkpoint: %.200s)",
			 cerrbuf);
		return -1;
	}
	R->res->t_ckpt = time;
	R->last_ckpt = kz_wtime();
	R->note[0] = 0;
	return 0;
}

static int stop_requested(pt_run_t *R, int now);

/* KAPITZA_TEST_HOLD_AT_ROW (test_hold_row): after row's checkpoint, wait
 * for a stop (then 1: the point stops here) or for the end of the process
 * (without a stop flag or poll to wait on: until killed). */
static int hold_at_row(pt_run_t *R, int row)
{
	fprintf(stderr, "kapitza: rank %d: point %d: holding after the "
		"checkpoint of row %d (KAPITZA_TEST_HOLD_AT_ROW)\n",
		R->o->rank, R->p->id, row);
	fflush(stderr);
	if (!R->o->stop_flag && !(R->o->poll && R->report))
		for (;;)
			pause();
	while (!stop_requested(R, 1))
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	return 1;
}

/* Progress, checkpoint, stop: returns 1 if the point stops here
 * (interrupted, res says so). */
static int after_row(pt_run_t *R, int row, double time)
{
	const spec_point_t *p = R->p;
	const worker_opts_t *o = R->o;
	worker_result_t *res = R->res;
	const int last = row + 1 >= p->n_measure;
	int stop = 0;
	if (R->report) {
		worker_progress_t pr = {
			.point = p->id,
			.attempt = R->attempt,
			.row = row,
			.chi = state_chi(R),
			.t = time,
			.wall_s = res->wall_s,
			.discarded_max = R->dmax,
			.discarded_total = R->dtot,
		};
		stop = R->report(R->arg, &pr) && !last;
	}
	const int hold = row == R->hold_row;
	if (o->ckpt_dir && !last &&
	    (stop || hold ||
	     (o->ckpt_every_s > 0 &&
	      kz_wtime() - R->last_ckpt >= o->ckpt_every_s)))
		try_checkpoint(R, &(ckpt_pos_t){row, 0, 0, 0}, time);
	if (hold && !last)
		stop = hold_at_row(R, row);
	if (!stop)
		return 0;
	res->state = ARCHIVE_INTERRUPTED;
	snprintf(res->message, sizeof res->message, "interrupted at t = %g%.200s",
		 time, res->t_ckpt == time ? " (checkpoint written)" : R->note);
	return 1;
}

/* The measurement interval that leads to row `row` (from the layer a
 * checkpoint inside it reached, if that is where the attempt starts); its
 * discarded weight is added to the worker's accumulators (see the top of
 * the file).  KZ_STOPPED: the stop flag stopped it after *done layers. */
static int interval(pt_run_t *R, int row, long *done, char *kerr)
{
	const long first = row == R->row0 ? R->layer0 : 0;
	if (first)
		tebd_restore_discarded(R->t, R->ldtot0, R->ldmax0);
	else
		tebd_reset_discarded(R->t);
	R->row = row;
	int rc = tebd_run_from(R->t, R->m, R->p->steps_per_measure, first,
			       done, kerr);
	if (!rc) {
		R->dtot += tebd_discarded_total(R->t);
		R->dmax = fmax(R->dmax, tebd_discarded_max(R->t));
	}
	return rc;
}

/* Whether the point must stop now: the stop flag, or (at most every
 * POLL_S seconds, or always when `now`) the caller's poll. */
#define POLL_S 1e-3
static int stop_requested(pt_run_t *R, int now)
{
	if (R->o->stop_flag && *R->o->stop_flag)
		return 1;
	if (!R->o->poll || !R->report)
		return 0;
	const double w = kz_wtime();
	if (!now && w - R->last_poll < POLL_S)
		return 0;
	R->last_poll = w;
	return R->o->poll(R->arg) != 0;
}

/* The kernel's question between two layers of the interval leading to
 * R->row: stop here?  Also where KAPITZA_TEST_HOLD_AT_STEP holds (without
 * a stop flag or poll to wait on, it stops at once). */
static int layer_hook(void *arg, long done)
{
	pt_run_t *R = arg;
	const long step = (long)(R->row - 1) * R->p->steps_per_measure +
			  done / R->lps;
	if (R->hold_step > 0 && done % R->lps == 0 && step == R->hold_step) {
		fprintf(stderr, "kapitza: rank %d: point %d: holding after "
			"step %ld (layer %ld of the interval after row %d) "
			"until a stop signal (KAPITZA_TEST_HOLD_AT_STEP)\n",
			R->o->rank, R->p->id, step, done, R->row - 1);
		fflush(stderr);
		while (!stop_requested(R, 1) &&
		       (R->o->stop_flag || (R->o->poll && R->report)))
			nanosleep(&(struct timespec){0, 10000000}, NULL);
		return 1;
	}
	return stop_requested(R, 0);
}

/* The stop flag stopped the interval leading to `row` after `done`
 * layers: checkpoint that state (the row before it, the layer, the
 * kernel's discard sums so far) and end the point as interrupted. */
static void stopped(pt_run_t *R, int row, long done)
{
	worker_result_t *res = R->res;
	const double time =
		(double)(row - 1) * (double)R->p->steps_per_measure * R->p->dt;
	const ckpt_pos_t at = {
		row - 1, done,
		R->team ? team_discarded_total(R->team)
			: tebd_discarded_total(R->t),
		R->team ? team_discarded_max(R->team)
			: tebd_discarded_max(R->t)};
	/* tebd_layers(), which a team point has no tebd_t for */
	const int layers = R->lps * R->p->steps_per_measure + 1;
	const int ok = R->o->ckpt_dir && !try_checkpoint(R, &at, time);
	res->state = ARCHIVE_INTERRUPTED;
	snprintf(res->message, sizeof res->message,
		 "interrupted at t = %g + %ld of %d layers%.160s", time, done,
		 layers, ok ? " (checkpoint written)"
		    : R->o->ckpt_dir ? R->note : " (no checkpoints)");
}

/* The rows from row0 on: an interval of TEBD before each (but row 0), then
 * the row written, judged and reported. */
static void evolve(pt_run_t *R)
{
	const spec_point_t *p = R->p;
	char kerr[EU_ERRLEN] = ""; /* team_run writes EU_ERRLEN */
	for (int row = R->row0; row < p->n_measure; row++) {
		if (row > 0 && !(row == R->row0 && R->row0_ready)) {
			long done = 0;
			int rc = on_team(R) ? team_interval(R, row, &done, kerr)
					    : interval(R, row, &done, kerr);
			if (rc == KZ_STOPPED) {
				stopped(R, row, done);
				return;
			}
			if (rc) {
				worker_fail(R->res, "%stebd at t = %g: %s", worker_kind(rc),
				     R->res->t_reached, kerr);
				return;
			}
		}
		const double time =
			(double)row * (double)p->steps_per_measure * p->dt;
		if (write_row(R, row, time) || judge_row(R, time) ||
		    after_row(R, row, time))
			return;
	}
	R->res->state = ARCHIVE_DONE;
	R->res->message[0] = 0;
}

int worker_run_point(archive_t *a, const spec_point_t *p, int attempt,
		     int resume, const worker_opts_t *o,
		     worker_report_fn report, void *arg,
		     worker_result_t *res)
{
	char aerrbuf[EU_ERRLEN] = "";
	archive_prov_t pv;

	if (!a || !p || !o || !res || o->threads < 1 ||
	    (resume && (!o->ckpt_dir || !o->spec_hash)))
		return -1;
	pt_run_t R = {
		.a = a, .p = p, .o = o, .attempt = attempt,
		.report = report, .arg = arg, .res = res,
		.t0 = kz_wtime(), .hold_row = test_hold_row(),
		.hold_step = test_hold_step(),
	};
	R.last_ckpt = R.t0;
	memset(res, 0, sizeof *res);
	res->state = ARCHIVE_FAILED;
	res->t_reached = NAN;
	res->t_resumed = NAN;
	res->t_ckpt = NAN;
	res->max_discarded = 0;
	prov_begin(&pv, attempt, o);

	if (on_team(&R) && p->state != SPEC_STATE_DOMAIN_WALL &&
	    p->state != SPEC_STATE_GROUND) {
		team_begin(&R, 0); /* the members go home */
		worker_fail(res, "point %d: only a time evolution runs on a team",
		     p->id);
	} else if (p->state == SPEC_STATE_THERMAL) {
		if (resume)
			worker_fail(res, "a thermal table has no checkpoint to resume "
				  "from");
		else
			worker_run_table(a, p, attempt, o, report, arg, res);
	} else if (p->state != SPEC_STATE_DOMAIN_WALL &&
		   p->state != SPEC_STATE_GROUND) {
		worker_fail(res, "unknown initial state %d", p->state);
	} else {
		const int ok = !prepare(&R, resume);
		if (!team_begin(&R, ok) && ok)
			evolve(&R);
	}
	res->wall_s = kz_wtime() - R.t0;
	pv.wall_s = res->wall_s;
	eu_utc_now(pv.end_time, sizeof pv.end_time);
	if (archive_write_provenance(a, p->id, &pv, aerrbuf) &&
	    res->state != ARCHIVE_FAILED)
		worker_fail(res, "%s", aerrbuf);
	team_end(&R);
	obs_destroy(&R.ob);
	tebd_destroy(&R.t);
	mps_destroy(&R.m);
	chain_destroy(&R.c);
	free(R.rho3);
	return 0;
}
