/* farm: the scheduler (rank 0) and the worker loop (every rank) of a sweep.
 *
 * The point state machine.  The authoritative state of point k is row k of
 * the archive's /status table; only rank 0 writes it, and only the functions
 * named here move a point:
 *
 *     pending ----assign()----> running ----finish()----> done
 *                                  |  \---finish()----> failed
 *                                  \------finish()----> interrupted
 *
 *   pending      the fill value of /status: nobody has touched the point.
 *   running      assign() (rank 0) writes it, with attempt + 1 and the rank,
 *                BEFORE the point is handed out (a message to a worker, or a
 *                direct call on rank 0), so a point is never worked on while
 *                the archive says pending.  progress() rewrites the row with
 *                t reached, rows, wall time, chi and discard while running.
 *   done         finish() writes it when the worker's outcome arrives.  The
 *                worker sends its outcome only after worker_run_point() has
 *                returned, i.e. after every row and the provenance row are in
 *                the file (independent writes complete on return), so
 *                "done" is never visible before the data it vouches for.
 *   failed       finish(), with the worker's message (kernel error, NaN,
 *                norm loss, allocation failure, "injected fault", ...).  The
 *                rows measured so far stay; the others keep the NaN fill.
 *   interrupted  finish(), when a stop signal made the worker end early.
 *
 * Invariants: a point is assigned at most once per run (the queue hands out
 * each id once); done/failed/interrupted are final within a run (resubmit
 * is the only way back to running, as a new attempt); every running point
 * reaches a final state before farm_run() returns, because the scheduler
 * stops a rank only once it has reported its outcome.
 *
 * Messages (one tag, on a private duplicate of the communicator so nothing
 * else can match them; MPI keeps their order per sender):
 *   worker -> 0:  READY (first, idle), PROGRESS (after each row), DONE
 *                 (outcome; also means idle again)
 *   0 -> worker:  ASSIGN (point, attempt), STOP (no more work), INTERRUPT
 *                 (end the current point early)
 *
 * Rank 0 works too (unless --dedicated-scheduler): between its own
 * measurement rows it drains messages, hands out points and prints progress
 * (local_report).  So a waiting worker waits at most one of rank 0's
 * measurement intervals; to keep those short, with several ranks rank 0
 * takes the cheapest remaining point (the queue's tail) while workers take
 * the most expensive (its head) -- the longest-processing-time-first order
 * for everyone else.  With one rank it simply runs the queue from the head.
 */
#include "farm.h"

#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kz.h"
#include "worker.h"

#define FARM_TAG 4242

enum {
	MSG_READY = 1,
	MSG_ASSIGN,
	MSG_STOP,
	MSG_PROGRESS,
	MSG_DONE,
	MSG_INTERRUPT,
};

typedef struct {
	int32_t kind, point, attempt, row, chi, state, rows;
	int32_t stop; /* worker -> 0: this rank got a stop signal */
	double t, wall_s, discarded_max, discarded_total;
	char message[ARCHIVE_MSGLEN];
} farm_msg_t;

/* Set by the signal handler.  A signal handler can only talk to the program
 * through a static flag; this is the one global of the module. */
static volatile sig_atomic_t farm_stop_flag = 0;

static void on_signal(int sig)
{
	(void)sig;
	farm_stop_flag = 1;
}

static const int stop_signals[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
#define NSIG_STOP (int)(sizeof stop_signals / sizeof stop_signals[0])

void farm_opts_default(farm_opts_t *o)
{
	o->threads = 1;
	o->fault_point = -1;
	o->progress_s = 5.0;
	o->dedicated = 0;
	o->out = stdout;
}

static int ferr(char *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int ferr(char *err, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, ARCHIVE_ERRLEN, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void nap(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	nanosleep(&ts, NULL);
}

static void send_msg(MPI_Comm c, int to, farm_msg_t *m)
{
	MPI_Send(m, (int)sizeof *m, MPI_BYTE, to, FARM_TAG, c);
}

/* Receive a message if one is waiting (returns 1), else 0; never blocks.
 * Probing rather than a blocking receive keeps idle ranks off the CPU
 * (Open MPI busy-polls inside MPI_Recv). */
static int try_recv(MPI_Comm c, int from, farm_msg_t *m, int *source)
{
	int flag = 0;
	MPI_Status st;
	MPI_Iprobe(from, FARM_TAG, c, &flag, &st);
	if (!flag)
		return 0;
	MPI_Recv(m, (int)sizeof *m, MPI_BYTE, st.MPI_SOURCE, FARM_TAG, c,
		 MPI_STATUS_IGNORE);
	if (source)
		*source = st.MPI_SOURCE;
	return 1;
}

/* ---- the scheduler (rank 0) -------------------------------------------- */

typedef struct {
	MPI_Comm comm;
	int size;
	archive_t *a;
	const spec_t *s;
	const farm_opts_t *o;
	int *queue;              /* point ids, most expensive first */
	int head, tail;          /* still to hand out: queue[head..tail) */
	archive_status_t *st;    /* rank 0's copy of /status */
	double *cost;
	double cost_total, cost_done;
	int *busy;               /* per rank: point id or -1 */
	int *idle;               /* per remote rank: waiting for work */
	int *stopped;            /* per remote rank: sent STOP */
	int *interrupt_sent;     /* per remote rank */
	int nstopped;
	int stopping;            /* a stop signal reached some rank */
	int counts[ARCHIVE_NSTATES];
	double t0, last_print;
	int io_rc;
	char io_err[ARCHIVE_ERRLEN];
} sched_t;

typedef struct {
	double cost;
	int id;
} costed_t;

/* Largest cost first; equal costs by id, so the order is reproducible. */
static int cmp_costed(const void *x, const void *y)
{
	const costed_t *a = x, *b = y;
	if (a->cost != b->cost)
		return a->cost > b->cost ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

static int sort_queue(sched_t *S)
{
	const int n = S->s->npoints;
	costed_t *c = malloc(((size_t)n + 1) * sizeof *c);
	if (!c)
		return -1;
	for (int k = 0; k < n; k++)
		c[k] = (costed_t){S->cost[k], k};
	qsort(c, (size_t)n, sizeof *c, cmp_costed);
	for (int k = 0; k < n; k++)
		S->queue[k] = c[k].id;
	free(c);
	return 0;
}

static void io_fail(sched_t *S, const char *msg)
{
	if (!S->io_rc) {
		S->io_rc = -1;
		snprintf(S->io_err, sizeof S->io_err, "%s", msg);
		if (S->o->out)
			fprintf(S->o->out, "kapitza run: %s\n", msg);
	}
}

/* Whether the sweep is stopping: rank 0 got a signal, or a worker said it
 * got one (signals need not reach every rank). */
static int stopping(sched_t *S)
{
	if (farm_stop_flag)
		S->stopping = 1;
	return S->stopping;
}

static void put_status(sched_t *S, int k)
{
	char err[ARCHIVE_ERRLEN];
	if (archive_write_status(S->a, k, &S->st[k], err))
		io_fail(S, err);
}

static void fmt_dur(char *buf, size_t n, double s)
{
	if (!isfinite(s) || s < 0)
		snprintf(buf, n, "?");
	else if (s < 60)
		snprintf(buf, n, "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
	else
		snprintf(buf, n, "%dh%02dm", (int)(s / 3600),
			 (int)fmod(s / 60, 60));
}

/* Fraction of point k's work done, from its status row. */
static double frac_done(const sched_t *S, int k)
{
	const spec_point_t *p = &S->s->points[k];
	const archive_status_t *st = &S->st[k];
	if (st->state != ARCHIVE_RUNNING || !(st->rows > 0) || p->t_max <= 0)
		return 0;
	return fmin(1.0, st->t_reached / p->t_max);
}

static void print_progress(sched_t *S, int force)
{
	const double now = kz_wtime();
	char e1[32], e2[32];
	FILE *f = S->o->out;
	if (!f || S->o->progress_s < 0)
		return;
	if (!force && now - S->last_print < S->o->progress_s)
		return;
	S->last_print = now;
	double progressed = S->cost_done;
	for (int k = 0; k < S->s->npoints; k++) {
		const archive_status_t *st = &S->st[k];
		const spec_point_t *p = &S->s->points[k];
		if (st->state != ARCHIVE_RUNNING)
			continue;
		double fr = frac_done(S, k);
		progressed += fr * S->cost[k];
		double eta = fr > 0 ? st->wall_s * (1 - fr) / fr : NAN;
		fmt_dur(e1, sizeof e1, eta);
		if (st->rows > 0)
			fprintf(f,
				"  point %4d rank %3d  t = %8.3f / %-8.3g  chi "
				"%4d  disc %.2e  ETA %s\n",
				k, st->rank, st->t_reached, p->t_max,
				st->max_bond_dim, st->max_discarded, e1);
		else
			fprintf(f,
				"  point %4d rank %3d  starting (t_max %g)\n",
				k, st->rank, p->t_max);
	}
	const double el = now - S->t0;
	const double eta = progressed > 0 && el > 0
				   ? (S->cost_total - progressed) * el /
					     progressed
				   : NAN;
	fmt_dur(e1, sizeof e1, el);
	fmt_dur(e2, sizeof e2, eta);
	fprintf(f,
		"[%s] %d done, %d failed, %d running, %d pending%s; elapsed "
		"%s, ETA %s\n",
		e1, S->counts[ARCHIVE_DONE], S->counts[ARCHIVE_FAILED],
		S->counts[ARCHIVE_RUNNING], S->counts[ARCHIVE_PENDING],
		S->stopping ? " (stopping)" : "", e1, e2);
	fflush(f);
}

static void set_state(sched_t *S, int k, int state)
{
	S->counts[S->st[k].state]--;
	S->st[k].state = (int8_t)state;
	S->counts[state]++;
}

/* pending -> running: write the row, then hand the point to `rank`. */
static void assign(sched_t *S, int k, int rank)
{
	archive_status_t *st = &S->st[k];
	const int attempt = st->attempt + 1, prev = st->state;
	archive_status_init(st);
	st->state = (int8_t)prev; /* set_state() moves the count */
	st->attempt = attempt;
	st->rank = rank;
	st->wall_s = 0;
	set_state(S, k, ARCHIVE_RUNNING);
	put_status(S, k);
	S->busy[rank] = k;
	if (rank != 0) {
		farm_msg_t m;
		memset(&m, 0, sizeof m);
		m.kind = MSG_ASSIGN;
		m.point = k;
		m.attempt = attempt;
		S->idle[rank] = 0;
		send_msg(S->comm, rank, &m);
	}
}

/* running: record the progress of a row. */
static void progress(sched_t *S, const worker_progress_t *p)
{
	archive_status_t *st = &S->st[p->point];
	if (st->state != ARCHIVE_RUNNING)
		return;
	st->rows = p->row + 1;
	st->t_reached = p->t;
	st->wall_s = p->wall_s;
	st->max_bond_dim = p->chi > st->max_bond_dim ? p->chi
						      : st->max_bond_dim;
	st->max_discarded = p->discarded_max;
	put_status(S, p->point);
}

/* running -> done | failed | interrupted: the outcome is in. */
static void finish(sched_t *S, int rank, int k, const worker_result_t *r)
{
	archive_status_t *st = &S->st[k];
	st->rows = r->rows;
	st->t_reached = r->t_reached;
	st->wall_s = r->wall_s;
	st->max_discarded = r->rows ? r->max_discarded : NAN;
	st->max_bond_dim = r->rows ? r->max_bond_dim : -1;
	snprintf(st->message, sizeof st->message, "%s", r->message);
	set_state(S, k, r->state);
	put_status(S, k);
	S->cost_done += S->cost[k];
	S->busy[rank] = -1;
	if (r->state == ARCHIVE_FAILED && S->o->out) {
		fprintf(S->o->out, "  point %d FAILED on rank %d: %s\n", k, rank,
			r->message);
		fflush(S->o->out);
	}
}

static void handle(sched_t *S, int from, const farm_msg_t *m)
{
	if (m->stop)
		S->stopping = 1;
	switch (m->kind) {
	case MSG_READY:
		S->idle[from] = 1;
		break;
	case MSG_PROGRESS: {
		worker_progress_t p = {
			.point = m->point,
			.attempt = m->attempt,
			.row = m->row,
			.chi = m->chi,
			.t = m->t,
			.wall_s = m->wall_s,
			.discarded_max = m->discarded_max,
			.discarded_total = m->discarded_total,
		};
		if (m->point >= 0 && m->point < S->s->npoints &&
		    S->busy[from] == m->point)
			progress(S, &p);
		break;
	}
	case MSG_DONE: {
		worker_result_t r;
		memset(&r, 0, sizeof r);
		r.state = m->state;
		r.rows = m->rows;
		r.max_bond_dim = m->chi;
		r.t_reached = m->t;
		r.wall_s = m->wall_s;
		r.max_discarded = m->discarded_max;
		memcpy(r.message, m->message, sizeof r.message);
		r.message[sizeof r.message - 1] = 0;
		if (S->busy[from] == m->point)
			finish(S, from, m->point, &r);
		S->idle[from] = 1;
		break;
	}
	default:
		break;
	}
}

/* Drain waiting messages, hand out work to idle remote ranks, stop those
 * that will get none, pass a stop request on. */
static void service(sched_t *S)
{
	farm_msg_t m;
	int from;
	while (try_recv(S->comm, MPI_ANY_SOURCE, &m, &from))
		handle(S, from, &m);
	for (int r = 1; r < S->size; r++) {
		if (S->stopped[r])
			continue;
		if (stopping(S) && S->busy[r] >= 0 && !S->interrupt_sent[r]) {
			memset(&m, 0, sizeof m);
			m.kind = MSG_INTERRUPT;
			send_msg(S->comm, r, &m);
			S->interrupt_sent[r] = 1;
		}
		if (!S->idle[r])
			continue;
		if (!stopping(S) && S->head < S->tail) {
			assign(S, S->queue[S->head++], r);
		} else {
			memset(&m, 0, sizeof m);
			m.kind = MSG_STOP;
			send_msg(S->comm, r, &m);
			S->idle[r] = 0;
			S->stopped[r] = 1;
			S->nstopped++;
		}
	}
}

/* Rank 0's worker_report_fn: rank 0 is its own worker's rank 0. */
static int local_report(void *arg, const worker_progress_t *p)
{
	sched_t *S = arg;
	progress(S, p);
	service(S);
	print_progress(S, 0);
	return stopping(S);
}

static int sched_run(sched_t *S, const worker_opts_t *wo)
{
	const int works = S->size == 1 || !S->o->dedicated;
	double sleep_s = 1e-5;
	for (;;) {
		service(S);
		print_progress(S, 0);
		if (works && !stopping(S) && S->head < S->tail) {
			/* see the header comment for head vs tail */
			int k = S->size == 1 ? S->queue[S->head++]
					     : S->queue[--S->tail];
			worker_result_t r;
			assign(S, k, 0);
			worker_run_point(S->a, &S->s->points[k],
					 S->st[k].attempt, wo, local_report, S,
					 &r);
			finish(S, 0, k, &r);
			sleep_s = 1e-5;
			continue;
		}
		if (S->nstopped == S->size - 1)
			break;
		/* idle: back off gently, to at most 2 ms */
		nap(sleep_s);
		sleep_s = fmin(2e-3, sleep_s * 2);
		farm_msg_t m;
		int from;
		if (try_recv(S->comm, MPI_ANY_SOURCE, &m, &from)) {
			handle(S, from, &m);
			sleep_s = 1e-5;
		}
	}
	return S->io_rc;
}

/* ---- the remote worker (rank > 0) -------------------------------------- */

typedef struct {
	MPI_Comm comm;
	int interrupted;
} remote_t;

static int remote_report(void *arg, const worker_progress_t *p)
{
	remote_t *R = arg;
	farm_msg_t m;
	memset(&m, 0, sizeof m);
	m.kind = MSG_PROGRESS;
	m.point = p->point;
	m.attempt = p->attempt;
	m.row = p->row;
	m.chi = p->chi;
	m.t = p->t;
	m.wall_s = p->wall_s;
	m.discarded_max = p->discarded_max;
	m.discarded_total = p->discarded_total;
	m.stop = farm_stop_flag != 0;
	send_msg(R->comm, 0, &m);
	while (try_recv(R->comm, 0, &m, NULL))
		if (m.kind == MSG_INTERRUPT)
			R->interrupted = 1;
	return R->interrupted || farm_stop_flag;
}

static void remote_loop(MPI_Comm c, archive_t *a, const spec_t *s,
			const worker_opts_t *wo)
{
	remote_t R = {c, 0};
	farm_msg_t m;
	memset(&m, 0, sizeof m);
	m.kind = MSG_READY;
	send_msg(c, 0, &m);
	for (;;) {
		double sleep_s = 1e-5;
		while (!try_recv(c, 0, &m, NULL)) {
			nap(sleep_s);
			sleep_s = fmin(2e-3, sleep_s * 2);
		}
		if (m.kind == MSG_STOP)
			break;
		if (m.kind == MSG_INTERRUPT) {
			R.interrupted = 1; /* late: the point had finished */
			continue;
		}
		if (m.kind != MSG_ASSIGN || m.point < 0 || m.point >= s->npoints)
			continue;
		worker_result_t r;
		int k = m.point, attempt = m.attempt;
		R.interrupted = 0;
		worker_run_point(a, &s->points[k], attempt, wo, remote_report,
				 &R, &r);
		memset(&m, 0, sizeof m);
		m.kind = MSG_DONE;
		m.point = k;
		m.attempt = attempt;
		m.state = r.state;
		m.rows = r.rows;
		m.chi = r.max_bond_dim;
		m.t = r.t_reached;
		m.wall_s = r.wall_s;
		m.discarded_max = r.max_discarded;
		memcpy(m.message, r.message, sizeof m.message);
		m.stop = farm_stop_flag != 0;
		send_msg(c, 0, &m);
	}
}

/* ---- farm_run ------------------------------------------------------------ */

int farm_run(MPI_Comm comm, archive_t *a, const spec_t *s,
	     const farm_opts_t *o, farm_summary_t *sum, char *err)
{
	MPI_Comm c = MPI_COMM_NULL;
	struct sigaction old[NSIG_STOP], sa;
	sched_t S;
	worker_opts_t wo;
	int rank, size, rc = 0, n = s->npoints;
	int info[ARCHIVE_NSTATES + 3];
	const double t0 = kz_wtime();

	memset(&S, 0, sizeof S);
	memset(sum, 0, sizeof *sum);
	MPI_Comm_dup(comm, &c);
	MPI_Comm_rank(c, &rank);
	MPI_Comm_size(c, &size);
	wo.threads = o->threads;
	wo.fault_point = o->fault_point;
	wo.mpi_size = size;
	wo.rank = rank;

	farm_stop_flag = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (int k = 0; k < NSIG_STOP; k++)
		sigaction(stop_signals[k], &sa, &old[k]);

	if (rank == 0) {
		S.comm = c;
		S.size = size;
		S.a = a;
		S.s = s;
		S.o = o;
		S.t0 = S.last_print = t0;
		S.queue = malloc(((size_t)n + 1) * sizeof *S.queue);
		S.st = malloc(((size_t)n + 1) * sizeof *S.st);
		S.cost = malloc(((size_t)n + 1) * sizeof *S.cost);
		S.busy = malloc((size_t)size * sizeof *S.busy);
		S.idle = calloc((size_t)size, sizeof *S.idle);
		S.stopped = calloc((size_t)size, sizeof *S.stopped);
		S.interrupt_sent = calloc((size_t)size,
					  sizeof *S.interrupt_sent);
		if (!S.queue || !S.st || !S.cost || !S.busy || !S.idle ||
		    !S.stopped || !S.interrupt_sent) {
			rc = ferr(err, "farm: out of memory");
		} else {
			for (int k = 0; k < n; k++) {
				S.cost[k] = spec_point_cost(&s->points[k]);
				S.cost_total += S.cost[k];
				archive_status_init(&S.st[k]);
			}
			for (int r = 0; r < size; r++)
				S.busy[r] = -1;
			S.counts[ARCHIVE_PENDING] = n;
			S.head = 0;
			S.tail = n;
			if (sort_queue(&S))
				rc = ferr(err, "farm: out of memory");
		}
	}
	/* ranks agree before the message exchange starts */
	MPI_Allreduce(MPI_IN_PLACE, &rc, 1, MPI_INT, MPI_MIN, c);
	if (rc) {
		if (rank != 0)
			ferr(err, "farm: rank 0 could not start");
		goto out;
	}

	if (rank == 0) {
		rc = sched_run(&S, &wo);
		print_progress(&S, 1);
		if (rc)
			snprintf(err, ARCHIVE_ERRLEN, "%s", S.io_err);
		memcpy(info, S.counts, sizeof S.counts);
	} else {
		remote_loop(c, a, s, &wo);
	}
	info[ARCHIVE_NSTATES] = rc;
	info[ARCHIVE_NSTATES + 1] = rank == 0 ? S.stopping || farm_stop_flag
					      : 0;
	info[ARCHIVE_NSTATES + 2] = n;
	MPI_Bcast(info, ARCHIVE_NSTATES + 3, MPI_INT, 0, c);
	memcpy(sum->counts, info, sizeof sum->counts);
	rc = info[ARCHIVE_NSTATES];
	sum->interrupted = info[ARCHIVE_NSTATES + 1];
	sum->npoints = info[ARCHIVE_NSTATES + 2];
	if (rc && rank != 0)
		ferr(err, "farm: rank 0 could not write the status table");
out:
	sum->elapsed_s = kz_wtime() - t0;
	for (int k = 0; k < NSIG_STOP; k++)
		sigaction(stop_signals[k], &old[k], NULL);
	free(S.queue);
	free(S.st);
	free(S.cost);
	free(S.busy);
	free(S.idle);
	free(S.stopped);
	free(S.interrupt_sent);
	if (c != MPI_COMM_NULL)
		MPI_Comm_free(&c);
	return rc;
}
