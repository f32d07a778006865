/* worker_table: one attempt at a thermal-table point (worker.h,
 * worker_run_point): the purification's table built one chunk of mu rows
 * at a time (kernels/tables.c), each chunk written to the archive, judged
 * (NaN) and reported; a table is computed whole, so an interrupted one
 * starts again.  The time evolution is worker.c. */
#include "worker_impl.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz.h"
#include "params.h"
#include "schema.h"
#include "thermal.h"

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
	schema_rho_swap(rho, (const double *)r, (size_t)n * nb);
}

/* Buffers of up to `chunk` mu rows of a thermal table. */
typedef struct {
	double *e, *sz, *rho, *disc;
} table_buf_t;

static int table_buf_alloc(table_buf_t *b, int chunk, int nb)
{
	b->e = malloc((size_t)chunk * nb * sizeof *b->e);
	b->sz = malloc((size_t)chunk * nb * sizeof *b->sz);
	b->rho = malloc((size_t)chunk * nb * 128 * sizeof *b->rho);
	b->disc = malloc((size_t)chunk * sizeof *b->disc);
	return b->e && b->sz && b->rho && b->disc ? 0 : -1;
}

static void table_buf_free(table_buf_t *b)
{
	free(b->e);
	free(b->sz);
	free(b->rho);
	free(b->disc);
}

/* Reports mu rows up to j0 + n - 1 of table p; returns 1 (the point
 * interrupted, res says so) if report() asks to stop before the last row. */
static int table_report(const spec_point_t *p, int attempt, int j0, int n,
			double dsum, worker_report_fn report, void *arg,
			worker_result_t *res)
{
	const spec_thermal_t *th = p->thermal;
	const int last = j0 + n >= th->nmu;
	if (!report)
		return 0;
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
		return 1;
	}
	return 0;
}

/* worker_run_point for a thermal table (see the top of the file): rows are
 * mu values, and `t` in the progress reports is NaN. */
void worker_run_table(archive_t *a, const spec_point_t *p, int attempt,
		      const worker_opts_t *o, worker_report_fn report,
		      void *arg, worker_result_t *res)
{
	const spec_thermal_t *th = p->thermal;
	const double t0 = kz_wtime();
	thermal_table_t *tb = NULL;
	thermal_params_t tp;
	table_buf_t b = {0};
	char kerr[KZ_ERRLEN] = "", aerrbuf[EU_ERRLEN] = "";
	double dsum = 0;
	int chunk, nb;

	res->max_bond_dim = -1; /* the kernel does not report it */
	if (!th || !archive_is_table(a, p->id)) {
		worker_fail(res, "thermal table %d: no thermal section", p->id);
		return;
	}
	nb = th->nbeta;
	/* two runs per mu: enough mu values for every thread */
	chunk = (o->threads + 1) / 2;
	if (chunk > th->nmu)
		chunk = th->nmu;
	if (table_buf_alloc(&b, chunk, nb)) {
		worker_fail(res, "allocation failure: thermal table buffers");
		goto out;
	}
	/* an earlier attempt's rows go: the table is computed whole */
	if (attempt > 1 && archive_clear_rows(a, p->id, 0, aerrbuf)) {
		worker_fail(res, "%s", aerrbuf);
		goto out;
	}
	params_thermal(p, o->threads, &tp);
	for (int j0 = 0; j0 < th->nmu; j0 += chunk) {
		const int n = th->nmu - j0 < chunk ? th->nmu - j0 : chunk;
		int rc = thermal_table_create(&tb, &tp, th->betas, nb,
					      th->mus + j0, n, kerr);
		if (rc) {
			worker_fail(res, "%sthermal table at mu = %g%s: %s", worker_kind(rc),
			     th->mus[j0], n > 1 ? " .." : "", kerr);
			goto out;
		}
		/* row by row, so that the values do not depend on the chunks */
		for (int j = 0; j < n; j++) {
			dsum += thermal_table_discarded_mu(tb)[j];
			b.disc[j] = dsum;
		}
		table_rows(tb, n, b.e, b.sz, b.rho);
		thermal_table_destroy(&tb);
		if (archive_write_table_rows(a, p->id, j0, n, th->mus + j0,
					     b.e, b.sz, b.rho, b.disc,
					     aerrbuf)) {
			worker_fail(res, "%s", aerrbuf);
			goto out;
		}
		res->rows = j0 + n;
		res->max_discarded = dsum;
		res->wall_s = kz_wtime() - t0;
		/* the rows are in the archive; now judge them */
		for (size_t k = 0; k < (size_t)n * nb; k++)
			if (!isfinite(b.e[k]) || !isfinite(b.sz[k])) {
				worker_fail(res, "NaN in the thermal table at mu = %g",
				     th->mus[j0 + (int)(k / (size_t)nb)]);
				goto out;
			}
		if (o->fault_point == p->id) {
			worker_fail(res, "injected fault");
			goto out;
		}
		if (table_report(p, attempt, j0, n, dsum, report, arg, res))
			goto out;
	}
	res->state = ARCHIVE_DONE;
	res->message[0] = 0;
out:
	thermal_table_destroy(&tb);
	table_buf_free(&b);
}
