/* farm_msg: the messages between the scheduler (rank 0) and the remote
 * workers, and the remote worker's loop (farm_remote.c).  Private to
 * engine/farm/; the protocol is described at the top of farm.c. */
#ifndef FARM_MSG_H
#define FARM_MSG_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "spec.h"
#include "worker.h"

#define FARM_TAG 4242

enum {
	MSG_READY = 1,
	MSG_ASSIGN,
	MSG_STOP,
	MSG_PROGRESS,
	MSG_DONE,
	MSG_INTERRUPT,
	MSG_FREE, /* a team member: the team ended, idle again */
};

/* The largest team a message can describe. */
#define FARM_TEAM_MAX 128

/* The worker's own records travel whole: every rank runs the same
 * executable, so the bytes mean the same everywhere. */
typedef struct {
	int32_t kind, point, attempt;
	int32_t stop;   /* worker -> 0: this rank got a stop signal */
	int32_t resume; /* ASSIGN: continue from the point's checkpoint */
	worker_progress_t progress; /* PROGRESS */
	worker_result_t result;     /* DONE */
	/* ASSIGN of a team point: its size (1: alone) and ranks, the
	 * leader first; each receiver is the leader or a member */
	int32_t team_size;
	int32_t team[FARM_TEAM_MAX];
} farm_msg_t;

/* A point id and its cost (spec_point_cost), for sorting. */
typedef struct {
	double cost;
	int id;
} farm_costed_t;

/* qsort order of farm_costed_t: largest cost first, equal costs by id, so
 * the order is reproducible (farm_plan.c). */
int farm_cmp_costed(const void *x, const void *y);

/* The ranks[0..nr-1] of a team as text into buf[n] (farm_plan.c): leader
 * first, runs of 3 or more as ranges ("0-2,5"), cut with "..." at the
 * buffer's end; /history's team_ranks. */
void farm_team_text(char *buf, size_t n, const int *ranks, int nr);

/* Sleeps s seconds (idle ranks back off). */
void farm_nap(double s);
/* Sends m to rank `to` (blocking standard send). */
void farm_send(MPI_Comm c, int to, farm_msg_t *m);
/* Receive a message if one is waiting (returns 1), else 0; never blocks.
 * *source (if not NULL): its sender. */
int farm_try_recv(MPI_Comm c, int from, farm_msg_t *m, int *source);

/* Collective over the n ranks of c listed in ranks[] (only them: the other
 * ranks of c may be busy): *team becomes their communicator, ranks[0] its
 * rank 0 (the leader).  MPI_Comm_create_group, tagged with `tag` (the
 * point id), needs no call from the ranks outside the team.  Non-zero (and
 * *team = MPI_COMM_NULL) on failure. */
int farm_team_comm(MPI_Comm c, const int32_t *ranks, int n, int tag,
		   MPI_Comm *team);

/* A rank > 0: READY, then runs the points rank 0 assigns until STOP: alone,
 * as a team's leader (reporting like a single worker) or as a member
 * (worker_serve_team, then FREE). */
void farm_remote_loop(MPI_Comm c, archive_t *a, const spec_t *s,
		      const worker_opts_t *wo);

#endif
