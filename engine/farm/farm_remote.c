/* farm_remote: the message helpers and the worker loop of a rank > 0 (see
 * farm_msg.h and the top of farm.c). */
#include "farm_msg.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include <stdio.h>

#include "eu.h"
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


/* ---- teams --------------------------------------------------------------
 * A team is made when its point is handed out, from ranks that are idle at
 * that moment while the others run their points: MPI_Comm_create_group is
 * collective over the new group only (MPI 3.0), so no busy rank has to take
 * part, unlike MPI_Comm_split or MPI_Comm_create over the farm's
 * communicator, which would wait for every rank to finish its point.  (A
 * split made once at the start into fixed teams would not need that, but
 * would fix the team size and take ranks from the single points for the
 * whole run.)  Each rank is in at most one team at a time, so the tag (the
 * point id) never has two creations to tell apart on one rank. */

int farm_team_comm(MPI_Comm c, const int32_t *ranks, int n, int tag,
		   MPI_Comm *team)
{
	MPI_Group all = MPI_GROUP_NULL, g = MPI_GROUP_NULL;
	int rk[FARM_TEAM_MAX], rc = -1;
	*team = MPI_COMM_NULL;
	if (n < 1 || n > FARM_TEAM_MAX)
		return -1;
	for (int j = 0; j < n; j++)
		rk[j] = ranks[j];
	if (MPI_Comm_group(c, &all) == MPI_SUCCESS &&
	    MPI_Group_incl(all, n, rk, &g) == MPI_SUCCESS &&
	    MPI_Comm_create_group(c, g, tag % 32768, team) == MPI_SUCCESS &&
	    *team != MPI_COMM_NULL)
		rc = 0;
	if (g != MPI_GROUP_NULL)
		MPI_Group_free(&g);
	if (all != MPI_GROUP_NULL)
		MPI_Group_free(&all);
	return rc;
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

/* An ASSIGN of a team point (m): joins the team.  A member serves it
 * to the end and reports FREE (returns 1); the leader gets the team in
 * w and runs the point as usual (returns 0).  If the team cannot be made
 * (MPI's errors are fatal by default: not in practice), the leader runs
 * the point alone and a member is free again. */
static int remote_team(MPI_Comm c, const farm_msg_t *m,
		       const spec_point_t *p, worker_opts_t *w)
{
	int me;
	MPI_Comm_rank(c, &me);
	const int lead = m->team[0] == me;
	if (farm_team_comm(c, m->team, m->team_size, m->point, &w->team)) {
		if (lead)
			return 0;
		goto free;
	}
	w->team_size = m->team_size;
	if (lead)
		return 0;
	{
		char err[EU_ERRLEN] = "";
		if (worker_serve_team(p, w, err))
			fprintf(stderr, "kapitza: rank %d: %s\n", me, err);
	}
	MPI_Comm_free(&w->team);
free:;
	farm_msg_t f;
	memset(&f, 0, sizeof f);
	f.kind = MSG_FREE;
	f.point = m->point;
	f.stop = farm_signalled();
	farm_send(c, 0, &f);
	return 1;
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
		worker_opts_t w = *wo;
		int k = m.point, attempt = m.attempt, resume = m.resume;
		R.interrupted = 0;
		if (m.team_size > 1 &&
		    remote_team(c, &m, &s->points[k], &w))
			continue; /* a member: the leader reports */
		worker_run_point(a, &s->points[k], attempt, resume, &w,
				 remote_report, &R, &r);
		if (w.team_size > 1)
			MPI_Comm_free(&w.team);
		memset(&m, 0, sizeof m);
		m.kind = MSG_DONE;
		m.point = k;
		m.attempt = attempt;
		m.result = r;
		m.stop = farm_signalled();
		farm_send(c, 0, &m);
	}
}
