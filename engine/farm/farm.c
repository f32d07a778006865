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
 *   other-shard  set when a --shard archive is created (archive.c) for the
 *                points another shard runs; never run, never changed.
 *
 * The legal transitions, the table `legal` below, checked by
 * farm_point_move() (set_state() on rank 0 goes through it; an illegal move
 * is refused, the point keeps its state, and the run ends with an error):
 *
 *     from \ to    pending running done failed interrupted other-shard
 *     pending         -      yes     -     -        -           -
 *     running         -      yes    yes   yes      yes          -
 *     done            -       -      -     -        -           -
 *     failed          -      yes     -     -        -           -
 *     interrupted     -      yes     -     -        -           -
 *     other-shard     -       -      -     -        -           -
 *
 * running -> running is a new attempt at a point whose job died (below).
 *
 * A thermal table of the spec's `thermal:` section is a point of state
 * thermal_table and goes through the same machine: its rows are mu values
 * (progress counts them), and it never has a checkpoint, so resubmission
 * runs it again whole.
 *
 * Between runs: `kapitza resubmit` (resubmit.c) starts a new run over the
 * points that are not done -- failed, interrupted, pending, or running in a
 * job that died -- passing their /status rows as the plan's initial rows,
 * so assign() moves them to running as attempt + 1:
 *
 *     failed | interrupted | pending | running(dead job) --assign()--> running
 *
 * and, if the point has a checkpoint that matches it, with resume_t: the
 * worker then continues from the checkpoint (rows up to it stay, later rows
 * are rewritten) instead of from t = 0.
 *
 * Checkpoints (o->ckpt_dir): a worker writes its point's checkpoint after
 * a row, every o->ckpt_every_s, and when it is told to stop: a stop
 * signal on its rank (the flag below, which the kernel's layer hook reads)
 * or an INTERRUPT (read between layers by the poll) ends the point between
 * two TEBD layers, checkpointed there (worker.h); finish()
 * removes a point's checkpoint once the point is done (after the status
 * row says so), and keeps it otherwise, for resubmission.
 *
 * History: assign() writes the attempt's /history slot (outcome running,
 * start time, resume time, job) before the point is handed out, finish()
 * rewrites it with the outcome.  So a slot that still says running after
 * the run belongs to a job that died.
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
 *                 (outcome; also means idle again), FREE (a team member:
 *                 its team ended, idle again)
 *   0 -> worker:  ASSIGN (point, attempt, its team), STOP (no more work),
 *                 INTERRUPT (end the current point early; to a team's
 *                 leader, never to a member: it follows its leader)
 *
 * Teams (farm_opts_t.team_size > 1): a time-evolution point whose modelled
 * core-hours reach team_min_core_hours runs on a team of team_size ranks
 * (farm_point_team(), fixed per point when the run starts).  assign() hands
 * it to the lowest idle ranks at once -- the lowest leads, its rank is the
 * point's rank in /status and /history, and /history records the team --
 * by one ASSIGN to each, naming the team; they make its communicator with
 * farm_team_comm() (farm_remote.c: MPI_Comm_create_group, collective over
 * the team only, while the other ranks go on with their points).  The
 * leader runs worker_run_point() on the team and reports PROGRESS and DONE
 * like a single worker; the members run worker_serve_team() and send FREE
 * when the point ends.  Largest first: a team point at the queue's head
 * keeps the ranks that fall idle until it has enough (hand_out()); rank 0,
 * when free, completes a team that the remote ranks alone cannot, as its
 * leader, or meanwhile takes the queue's tail if that point runs alone
 * (rank0_pick()).  A team is never larger than farm_team_cap(), so no point
 * waits for ranks the job does not have.  A point's checkpoint holds its
 * whole state (the leader gathers it), so it resumes on a team of any size
 * or alone.
 *
 * Rank 0 works too (unless --dedicated-scheduler): between its own
 * measurement rows it drains messages, hands out points and prints progress
 * (local_report), and between the layers of its own TEBD (at most about
 * once a millisecond) it drains messages and hands out points (local_poll).
 * So a waiting worker waits at most about one of rank 0's layers.  Every rank takes the most expensive remaining
 * point (the queue's head: longest processing time first), except that
 * rank 0 takes the cheapest (the tail) when the head's measurement interval
 * is estimated at over RANK0_ROW_S seconds (spec_point_core_hours over its
 * rows: an upper end), so that workers never wait long for their next
 * point.  (The old rule -- rank 0 always took the tail -- cost the reduced
 * paper run, two ranks and eight points, about 6 of its 94 minutes,
 * estimated from the points' wall times.)
 */
#include "farm.h"

#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include "agree.h"
#include "checkpoint.h"
#include "eu.h"
#include "kz.h"
#include "farm_msg.h"
#include "worker.h"

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

void farm_signals_catch(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (int k = 0; k < NSIG_STOP; k++)
		sigaction(stop_signals[k], &sa, NULL);
}

int farm_signalled(void)
{
	return farm_stop_flag != 0;
}

void farm_opts_default(farm_opts_t *o)
{
	memset(o, 0, sizeof *o);
	o->threads = 1;
	o->fault_point = -1;
	o->progress_s = 5.0;
	o->dedicated = 0;
	o->out = stdout;
	o->ckpt_dir = NULL;
	o->ckpt_every_s = 0;
	o->team_size = 1;
	o->team_min_core_hours = 0;
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
	archive_history_t *hist; /* the running attempt's /history slot */
	double *resume_t;        /* per point: checkpoint time, NaN none */
	char job[48];            /* this job, for /history */
	int nresumed;
	double *cost;
	double cost_total, cost_done;
	int *busy;               /* per rank: point id or -1 */
	int *member;             /* per rank: serves a team it does not lead */
	int *nteam;              /* per point: its team size (1: alone) */
	int *idle;               /* per remote rank: waiting for work */
	int *stopped;            /* per remote rank: sent STOP */
	int *interrupt_sent;     /* per remote rank */
	int *ids;                /* [size]: scratch for idle_ranks() */
	int nstopped;
	int stopping;            /* a stop signal reached some rank */
	int counts[ARCHIVE_NSTATES];
	double t0, last_print;
	int io_rc;
	char io_err[EU_ERRLEN];
} sched_t;


static int sort_queue(sched_t *S)
{
	const int n = S->s->npoints;
	farm_costed_t *c = malloc(((size_t)n + 1) * sizeof *c);
	if (!c)
		return -1;
	for (int k = 0; k < n; k++)
		c[k] = (farm_costed_t){S->cost[k], k};
	qsort(c, (size_t)n, sizeof *c, farm_cmp_costed);
	for (int k = 0; k < n; k++)
		S->queue[k] = c[k].id;
	free(c);
	return 0;
}

static void io_fail(sched_t *S, const char *msg)
{
	if (!S->io_rc) {
		S->io_rc = -1;
		eu_err(S->io_err, "%s", msg);
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
	char err[EU_ERRLEN];
	if (archive_write_status(S->a, k, &S->st[k], err))
		io_fail(S, err);
}

/* Fraction of point k's work done, from its status row (a thermal table:
 * its mu rows). */
static double frac_done(const sched_t *S, int k)
{
	const spec_point_t *p = &S->s->points[k];
	const archive_status_t *st = &S->st[k];
	if (st->state != ARCHIVE_RUNNING || !(st->rows > 0))
		return 0;
	if (p->state == SPEC_STATE_THERMAL)
		return fmin(1.0, (double)st->rows / p->n_measure);
	return spec_done_share(p->state, p->L, p->t_max, st->t_reached);
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
		char team[ARCHIVE_TEAMLEN + 16] = "";
		if (S->hist[k].team_size > 1)
			snprintf(team, sizeof team, "  (team %s)",
				 S->hist[k].team_ranks);
		double fr = frac_done(S, k);
		/* a resumed attempt has done only the part after t_resumed */
		double f0 = 1 - farm_todo_share(p, st->t_resumed);
		progressed += fmax(0.0, fr - f0) * S->cost[k];
		double eta = fr > f0 ? st->wall_s * (1 - fr) / (fr - f0) : NAN;
		eu_fmt_dur(e1, sizeof e1, eta);
		if (p->state == SPEC_STATE_THERMAL)
			fprintf(f,
				"  table %4d rank %3d  delta = %-8.5g mu rows "
				"%d / %d  disc %.2e  ETA %s\n",
				k, st->rank, p->delta_right, st->rows,
				p->n_measure,
				st->rows > 0 ? st->max_discarded : 0.0, e1);
		else if (st->rows > 0)
			fprintf(f,
				"  point %4d rank %3d  t = %8.3f / %-8.3g  chi "
				"%4d  disc %.2e  ETA %s%s%s\n",
				k, st->rank, st->t_reached, p->t_max,
				st->max_bond_dim, st->max_discarded, e1,
				isfinite(st->t_resumed) ? "  (resumed)" : "",
				team);
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
	eu_fmt_dur(e1, sizeof e1, el);
	eu_fmt_dur(e2, sizeof e2, eta);
	fprintf(f,
		"[%s] %d done, %d failed, %d running, %d pending%s; elapsed "
		"%s, ETA %s\n",
		e1, S->counts[ARCHIVE_DONE], S->counts[ARCHIVE_FAILED],
		S->counts[ARCHIVE_RUNNING], S->counts[ARCHIVE_PENDING],
		S->stopping ? " (stopping)" : "", e1, e2);
	fflush(f);
}

/* legal[from][to]: the table at the top of the file. */
static const unsigned char legal[ARCHIVE_NSTATES][ARCHIVE_NSTATES] = {
	[ARCHIVE_PENDING] = {[ARCHIVE_RUNNING] = 1},
	[ARCHIVE_RUNNING] = {[ARCHIVE_RUNNING] = 1, [ARCHIVE_DONE] = 1,
			     [ARCHIVE_FAILED] = 1, [ARCHIVE_INTERRUPTED] = 1},
	[ARCHIVE_FAILED] = {[ARCHIVE_RUNNING] = 1},
	[ARCHIVE_INTERRUPTED] = {[ARCHIVE_RUNNING] = 1},
};

int farm_point_move(int8_t *state, int counts[ARCHIVE_NSTATES], int to)
{
	const int from = *state;
	if (from < 0 || from >= ARCHIVE_NSTATES || to < 0 ||
	    to >= ARCHIVE_NSTATES || !legal[from][to])
		return -1;
	counts[from]--;
	*state = (int8_t)to;
	counts[to]++;
	return 0;
}

/* Moves point k (rank 0's copy of its status row); an illegal transition
 * is refused and fails the run (io_fail). */
static int set_state(sched_t *S, int k, int state)
{
	const int from = S->st[k].state;
	char msg[EU_ERRLEN];
	if (!farm_point_move(&S->st[k].state, S->counts, state))
		return 0;
	eu_err(msg, "point %d: illegal state transition %s -> %s", k,
	       archive_state_name(from), archive_state_name(state));
	io_fail(S, msg);
	return -1;
}

static void put_history(sched_t *S, int k)
{
	char err[EU_ERRLEN];
	if (archive_write_history(S->a, k,
				  archive_history_slot(S->hist[k].attempt),
				  &S->hist[k], err))
		io_fail(S, err);
}

/* The ASSIGN of point k to remote rank `to`, with its team. */
static void send_assign(sched_t *S, int k, int to, const int *ranks, int n,
			int resume)
{
	farm_msg_t m;
	memset(&m, 0, sizeof m);
	m.kind = MSG_ASSIGN;
	m.point = k;
	m.attempt = S->st[k].attempt;
	m.resume = resume;
	m.team_size = n;
	for (int j = 0; j < n; j++)
		m.team[j] = ranks[j];
	S->idle[to] = 0;
	farm_send(S->comm, to, &m);
}

/* pending (or not done, on resubmission) -> running: write the status row
 * and the history slot, then hand the point to the team ranks[0..n-1]
 * (n = 1: one rank alone), led by ranks[0].  Non-zero (nothing handed out)
 * if the transition is illegal. */
static int assign(sched_t *S, int k, const int *ranks, int n)
{
	const int rank = ranks[0];
	archive_status_t *st = &S->st[k];
	archive_history_t *h = &S->hist[k];
	/* the counter saturates: an archive resubmitted 2^31 times (or
	 * damaged to say so) keeps INT32_MAX instead of overflowing */
	const int attempt = st->attempt < INT32_MAX ? st->attempt + 1
						    : INT32_MAX;
	const int prev = st->state;
	const double tr = S->resume_t[k];
	const archive_status_t before = *st;
	archive_status_init(st);
	st->state = (int8_t)prev; /* set_state() moves the count */
	st->attempt = attempt;
	st->rank = rank;
	st->wall_s = 0;
	st->t_resumed = tr;
	if (isfinite(tr)) {
		/* rows 0..row of the checkpoint stay in the archive */
		const spec_point_t *p = &S->s->points[k];
		st->rows = (int)llround(tr / ((double)p->steps_per_measure *
					      p->dt)) +
			   1;
		st->t_reached = tr;
	}
	if (set_state(S, k, ARCHIVE_RUNNING)) {
		*st = before;
		return -1;
	}
	put_status(S, k);
	archive_history_init(h);
	h->attempt = attempt;
	h->outcome = ARCHIVE_RUNNING;
	h->rank = rank;
	h->mpi_size = S->size;
	snprintf(h->job, sizeof h->job, "%s", S->job);
	h->team_size = n;
	farm_team_text(h->team_ranks, sizeof h->team_ranks, ranks, n);
	eu_utc_now(h->start_time, sizeof h->start_time);
	h->t_resumed = tr;
	put_history(S, k);
	if (isfinite(tr)) {
		S->nresumed++;
		if (S->o->out && S->o->progress_s >= 0) {
			fprintf(S->o->out,
				"  point %d (attempt %d) resumes from its "
				"checkpoint at t = %g on rank %d\n",
				k, attempt, tr, rank);
			fflush(S->o->out);
		}
	}
	for (int j = 0; j < n; j++) {
		S->busy[ranks[j]] = k;
		S->member[ranks[j]] = j > 0;
		if (ranks[j] != 0)
			send_assign(S, k, ranks[j], ranks, n, isfinite(tr));
	}
	return 0;
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
	{
		archive_history_t *h = &S->hist[k];
		h->outcome = (int8_t)r->state;
		eu_utc_now(h->end_time, sizeof h->end_time);
		h->t_reached = st->t_reached;
		h->rows = st->rows;
		h->wall_s = st->wall_s;
		snprintf(h->message, sizeof h->message, "%.127s", r->message);
		put_history(S, k);
	}
	/* done, and the status row says so: the checkpoint has served */
	if (r->state == ARCHIVE_DONE && S->o->ckpt_dir)
		ckpt_remove(S->o->ckpt_dir, S->s->points[k].hash_hex);
	S->cost_done +=
		S->cost[k] * farm_todo_share(&S->s->points[k], S->resume_t[k]);
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
		worker_progress_t p = m->progress;
		if (m->point >= 0 && m->point < S->s->npoints &&
		    S->busy[from] == m->point)
			progress(S, &p);
		break;
	}
	case MSG_FREE: /* a member: its team ended */
		if (S->member[from]) {
			S->member[from] = 0;
			S->busy[from] = -1;
		}
		S->idle[from] = 1;
		break;
	case MSG_DONE: {
		worker_result_t r = m->result;
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

/* The idle remote ranks (not stopped), ascending, into ids; their count. */
static int idle_ranks(const sched_t *S, int *ids)
{
	int n = 0;
	for (int r = 1; r < S->size; r++)
		if (S->idle[r] && !S->stopped[r])
			ids[n++] = r;
	return n;
}

/* The queue's head goes to idle remote ranks as long as there are enough
 * of them for its team (the lowest idle ranks, the lowest leading): a
 * team point waits at the head, keeping the ranks that fall idle, until
 * its team is complete (largest first), or until rank 0 completes it
 * (sched_run) when the remote ranks alone are too few. */
static void hand_out(sched_t *S)
{
	while (!stopping(S) && S->head < S->tail) {
		const int k = S->queue[S->head];
		int n = idle_ranks(S, S->ids);
		if (n < S->nteam[k])
			break;
		S->head++;
		assign(S, k, S->ids, S->nteam[k]);
	}
}

/* Drain waiting messages, hand out work to idle remote ranks, stop those
 * that will get none, pass a stop request on (to the ranks that run a
 * point alone or lead a team: a member follows its leader). */
static void service(sched_t *S)
{
	farm_msg_t m;
	int from;
	while (farm_try_recv(S->comm, MPI_ANY_SOURCE, &m, &from))
		handle(S, from, &m);
	hand_out(S);
	for (int r = 1; r < S->size; r++) {
		if (S->stopped[r])
			continue;
		if (stopping(S) && S->busy[r] >= 0 && !S->member[r] &&
		    !S->interrupt_sent[r]) {
			memset(&m, 0, sizeof m);
			m.kind = MSG_INTERRUPT;
			farm_send(S->comm, r, &m);
			S->interrupt_sent[r] = 1;
		}
		if (!S->idle[r])
			continue;
		if (stopping(S) || S->head >= S->tail) {
			memset(&m, 0, sizeof m);
			m.kind = MSG_STOP;
			farm_send(S->comm, r, &m);
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

/* Rank 0's worker_poll_fn, between layers of its own point: serve the
 * other ranks (their messages, idle ranks' next points, stop requests). */
static int local_poll(void *arg)
{
	sched_t *S = arg;
	service(S);
	return stopping(S);
}

#define RANK0_ROW_S 60.0

int farm_rank0_may_take(const spec_point_t *p)
{
	int rows = p->n_measure > 0 ? p->n_measure : 1;
	return spec_point_core_hours(p) * 3600 / rows <= RANK0_ROW_S;
}

/* Whether rank 0 works on the queue's head (see the header comment). */
static int rank0_takes_head(const sched_t *S)
{
	return S->size == 1 ||
	       farm_rank0_may_take(&S->s->points[S->queue[S->head]]);
}

/* Rank 0's next point, *k, and its team ranks[0..*n-1] (ranks[0] = 0):
 * the head or the tail (above) when the head runs alone; when the head
 * needs a team that the remote ranks alone cannot complete now (service()
 * hands it out otherwise), rank 0 leads it with idle remote ranks if there
 * are enough, else takes the tail point if that runs alone.  0: nothing for
 * rank 0 now. */
static int rank0_pick(sched_t *S, int *k, int *ranks, int *n)
{
	const int head = S->queue[S->head];
	const int need = S->nteam[head];
	ranks[0] = 0;
	*n = 1;
	if (need == 1) {
		*k = rank0_takes_head(S) ? S->queue[S->head++]
					 : S->queue[--S->tail];
		return 1;
	}
	if (idle_ranks(S, S->ids) >= need - 1) {
		for (int j = 1; j < need; j++)
			ranks[j] = S->ids[j - 1];
		*n = need;
		*k = S->queue[S->head++];
		return 1;
	}
	if (S->nteam[S->queue[S->tail - 1]] == 1) {
		*k = S->queue[--S->tail];
		return 1;
	}
	return 0;
}

/* Rank 0 runs point k alone or leads its team ranks[0..n-1] (assigned). */
static void run_rank0(sched_t *S, int k, const int *ranks, int n,
		      const worker_opts_t *wo)
{
	worker_opts_t w = *wo;
	worker_result_t r;
	w.team_size = 1;
	if (n > 1 && farm_team_comm(S->comm, ranks, n, k, &w.team) == 0)
		w.team_size = n;
	if (n > 1 && w.team_size == 1) {
		/* MPI's errors are fatal by default: not reached in practice */
		memset(&r, 0, sizeof r);
		r.state = ARCHIVE_FAILED;
		r.t_reached = r.t_resumed = r.t_ckpt = NAN;
		snprintf(r.message, sizeof r.message,
			 "cannot create the team's communicator");
	} else {
		worker_run_point(S->a, &S->s->points[k], S->st[k].attempt,
				 isfinite(S->resume_t[k]), &w, local_report, S,
				 &r);
	}
	finish(S, 0, k, &r);
	if (w.team_size > 1)
		MPI_Comm_free(&w.team);
}

static int sched_run(sched_t *S, const worker_opts_t *wo)
{
	const int works = S->size == 1 || !S->o->dedicated;
	double sleep_s = 1e-5;
	for (;;) {
		service(S);
		print_progress(S, 0);
		int k, ranks[FARM_TEAM_MAX], n;
		if (works && !stopping(S) && S->head < S->tail &&
		    rank0_pick(S, &k, ranks, &n)) {
			/* see the header comment for head vs tail */
			if (assign(S, k, ranks, n))
				continue;
			run_rank0(S, k, ranks, n, wo);
			sleep_s = 1e-5;
			continue;
		}
		if (S->nstopped == S->size - 1)
			break;
		/* idle: back off gently, to at most 2 ms */
		farm_nap(sleep_s);
		sleep_s = fmin(2e-3, sleep_s * 2);
		farm_msg_t m;
		int from;
		if (farm_try_recv(S->comm, MPI_ANY_SOURCE, &m, &from)) {
			handle(S, from, &m);
			sleep_s = 1e-5;
		}
	}
	return S->io_rc;
}

/* This job's name for /history: ARRAYID_TASK for a job array (as SLURM's
 * %A_%a), the job id under SLURM, else host:pid. */
static void job_name(char *job, size_t n)
{
	const char *aid = getenv("SLURM_ARRAY_JOB_ID");
	const char *tid = getenv("SLURM_ARRAY_TASK_ID");
	const char *jid = aid && *aid && tid && *tid ? aid
						     : getenv("SLURM_JOB_ID");
	char host[64] = "?";
	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = 0;
	if (jid && *jid)
		snprintf(job, n, "%.20s%s%.12s", jid, tid && *tid ? "_" : "",
			 tid && *tid ? tid : "");
	else
		snprintf(job, n, "%.32s:%ld", host, (long)getpid());
}

/* Rank 0's scheduler state: the status rows, costs and the queue of the
 * points to run (most expensive first). */
static int sched_init(sched_t *S, MPI_Comm c, int size, archive_t *a,
		      const spec_t *s, const farm_opts_t *o, double t0,
		      char *err)
{
	const int n = s->npoints;
	const farm_plan_t *pl = &o->plan;
	S->comm = c;
	S->size = size;
	S->a = a;
	S->s = s;
	S->o = o;
	S->t0 = S->last_print = t0;
	S->queue = malloc(((size_t)n + 1) * sizeof *S->queue);
	S->st = malloc(((size_t)n + 1) * sizeof *S->st);
	S->hist = malloc(((size_t)n + 1) * sizeof *S->hist);
	S->resume_t = malloc(((size_t)n + 1) * sizeof *S->resume_t);
	S->cost = malloc(((size_t)n + 1) * sizeof *S->cost);
	S->busy = malloc((size_t)size * sizeof *S->busy);
	S->member = calloc((size_t)size, sizeof *S->member);
	S->ids = malloc((size_t)size * sizeof *S->ids);
	S->nteam = malloc(((size_t)n + 1) * sizeof *S->nteam);
	S->idle = calloc((size_t)size, sizeof *S->idle);
	S->stopped = calloc((size_t)size, sizeof *S->stopped);
	S->interrupt_sent = calloc((size_t)size, sizeof *S->interrupt_sent);
	if (!S->queue || !S->st || !S->hist || !S->resume_t || !S->cost ||
	    !S->busy || !S->idle || !S->stopped || !S->interrupt_sent ||
	    !S->member || !S->ids || !S->nteam)
		return eu_err(err, "farm: out of memory");
	job_name(S->job, sizeof S->job);
	for (int k = 0; k < n; k++) {
		const int todo = !pl->todo || pl->todo[k];
		S->cost[k] = spec_point_cost(&s->points[k]);
		S->nteam[k] = farm_point_team(o, &s->points[k], size);
		S->resume_t[k] = pl->resume_t && todo ? pl->resume_t[k] : NAN;
		if (todo)
			S->cost_total +=
				S->cost[k] *
				farm_todo_share(&s->points[k], S->resume_t[k]);
		if (pl->initial)
			S->st[k] = pl->initial[k];
		else
			archive_status_init(&S->st[k]);
		if (S->st[k].state < 0 || S->st[k].state >= ARCHIVE_NSTATES)
			S->st[k].state = ARCHIVE_PENDING;
		S->counts[S->st[k].state]++;
		archive_history_init(&S->hist[k]);
	}
	for (int r = 0; r < size; r++)
		S->busy[r] = -1;
	S->head = 0;
	S->tail = 0;
	if (sort_queue(S))
		return eu_err(err, "farm: out of memory");
	/* only the points to run stay in the queue, in order */
	for (int j = 0; j < n; j++)
		if (!pl->todo || pl->todo[S->queue[j]])
			S->queue[S->tail++] = S->queue[j];
	return 0;
}

/* ---- farm_run ------------------------------------------------------------ */

int farm_run(MPI_Comm comm, archive_t *a, const spec_t *s,
	     const farm_opts_t *o, farm_summary_t *sum, char *err)
{
	MPI_Comm c = MPI_COMM_NULL;
	sched_t S;
	worker_opts_t wo;
	int rank, size, rc = 0, n = s->npoints;
	int info[ARCHIVE_NSTATES + 4];
	const double t0 = kz_wtime();

	memset(&S, 0, sizeof S);
	memset(sum, 0, sizeof *sum);
	MPI_Comm_dup(comm, &c);
	MPI_Comm_rank(c, &rank);
	MPI_Comm_size(c, &size);
	memset(&wo, 0, sizeof wo);
	wo.threads = o->threads;
	wo.fault_point = o->fault_point;
	wo.mpi_size = size;
	wo.rank = rank;
	wo.ckpt_dir = o->ckpt_dir;
	wo.spec_hash = s->hash_hex;
	wo.ckpt_every_s = o->ckpt_every_s;
	wo.sync_path = o->archive_path;
	wo.stop_flag = &farm_stop_flag;
	wo.poll = rank == 0 ? local_poll : NULL; /* others: farm_remote.c */
	wo.team_size = 1;
	wo.team = MPI_COMM_NULL;
	wo.team_scalapack = o->team_scalapack;

	/* a signal that came before this call still counts: the handlers are
	 * never reset, so neither is the flag */
	farm_signals_catch();

	if (rank == 0)
		rc = sched_init(&S, c, size, a, s, o, t0, err);
	/* ranks agree before the message exchange starts */
	rc = agree_all(c, rc);
	if (rc) {
		if (rank != 0)
			eu_err(err, "farm: rank 0 could not start");
		goto out;
	}

	if (rank == 0) {
		rc = sched_run(&S, &wo);
		print_progress(&S, 1);
		if (rc)
			eu_err(err, "%s", S.io_err);
		memcpy(info, S.counts, sizeof S.counts);
	} else {
		farm_remote_loop(c, a, s, &wo);
	}
	info[ARCHIVE_NSTATES] = rc;
	info[ARCHIVE_NSTATES + 1] = rank == 0 ? S.stopping || farm_stop_flag
					      : 0;
	info[ARCHIVE_NSTATES + 2] = n;
	info[ARCHIVE_NSTATES + 3] = S.nresumed;
	agree_bytes(c, info, (int)sizeof info);
	memcpy(sum->counts, info, sizeof sum->counts);
	rc = info[ARCHIVE_NSTATES];
	sum->interrupted = info[ARCHIVE_NSTATES + 1];
	sum->npoints = info[ARCHIVE_NSTATES + 2];
	sum->resumed = info[ARCHIVE_NSTATES + 3];
	if (rc && rank != 0)
		eu_err(err, "farm: rank 0 could not write the status table");
out:
	sum->elapsed_s = kz_wtime() - t0;
	free(S.queue);
	free(S.st);
	free(S.hist);
	free(S.resume_t);
	free(S.cost);
	free(S.busy);
	free(S.member);
	free(S.ids);
	free(S.nteam);
	free(S.idle);
	free(S.stopped);
	free(S.interrupt_sent);
	if (c != MPI_COMM_NULL)
		MPI_Comm_free(&c);
	return rc;
}
