/* worker_impl: what the two halves of one point's run share (private to
 * engine/farm: worker.c, the time evolution; worker_table.c, a thermal
 * table). */
#ifndef WORKER_IMPL_H
#define WORKER_IMPL_H

#include "worker.h"

/* r becomes failed with the formatted message. */
void worker_fail(worker_result_t *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "allocation failure in " for KZ_ENOMEM, else "": a message's prefix. */
const char *worker_kind(int kz);

/* worker_run_point() for a thermal-table point (worker_table.c). */
void worker_run_table(archive_t *a, const spec_point_t *p, int attempt,
		      const worker_opts_t *o, worker_report_fn report,
		      void *arg, worker_result_t *res);

#endif
