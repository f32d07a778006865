/* farm_remote: the message helpers and the worker loop of a rank > 0 (see
 * farm_msg.h and the top of farm.c). */
#include "farm_msg.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "farm.h"

void farm_nap(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	nanosleep(&ts, NULL);
}

void farm_send(MPI_Comm c, int to, farm_msg_t *m)
{
	MPI_Send(m, (int)sizeof *m, MPI_BYTE, to, FARM_TAG, c);
}

/* Receive a message if one is waiting (returns 1), else 0; never blocks.
 * Probing rather than a blocking receive keeps idle ranks off the CPU
 * (Open MPI busy-polls inside MPI_Recv). */
int farm_try_recv(MPI_Comm c, int from, farm_msg_t *m, int *source)
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
	m.progress = *p;
	m.stop = farm_signalled();
	farm_send(R->comm, 0, &m);
	while (farm_try_recv(R->comm, 0, &m, NULL))
		if (m.kind == MSG_INTERRUPT)
			R->interrupted = 1;
	return R->interrupted || farm_signalled();
}

/* Between the kernel's layers: an INTERRUPT from rank 0 stops the point
 * there (other messages are not sent to a busy rank). */
static int remote_poll(void *arg)
{
	remote_t *R = arg;
	farm_msg_t m;
	while (farm_try_recv(R->comm, 0, &m, NULL))
		if (m.kind == MSG_INTERRUPT)
			R->interrupted = 1;
	return R->interrupted || farm_signalled();
}

void farm_remote_loop(MPI_Comm c, archive_t *a, const spec_t *s,
			const worker_opts_t *wo0)
{
	remote_t R = {c, 0};
	worker_opts_t wopts = *wo0;
	const worker_opts_t *wo = &wopts;
	wopts.poll = remote_poll;
	farm_msg_t m;
	memset(&m, 0, sizeof m);
	m.kind = MSG_READY;
	farm_send(c, 0, &m);
	for (;;) {
		double sleep_s = 1e-5;
		while (!farm_try_recv(c, 0, &m, NULL)) {
			farm_nap(sleep_s);
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
		int k = m.point, attempt = m.attempt, resume = m.resume;
		R.interrupted = 0;
		worker_run_point(a, &s->points[k], attempt, resume, wo,
				 remote_report, &R, &r);
		memset(&m, 0, sizeof m);
		m.kind = MSG_DONE;
		m.point = k;
		m.attempt = attempt;
		m.result = r;
		m.stop = farm_signalled();
		farm_send(c, 0, &m);
	}
}
