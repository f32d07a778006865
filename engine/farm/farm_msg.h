/* farm_msg: the messages between the scheduler (rank 0) and the remote
 * workers, and the remote worker's loop (farm_remote.c).  Private to
 * engine/farm/; the protocol is described at the top of farm.c. */
#ifndef FARM_MSG_H
#define FARM_MSG_H

#include <mpi.h>
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
};

/* The worker's own records travel whole: every rank runs the same
 * executable, so the bytes mean the same everywhere. */
typedef struct {
	int32_t kind, point, attempt;
	int32_t stop;   /* worker -> 0: this rank got a stop signal */
	int32_t resume; /* ASSIGN: continue from the point's checkpoint */
	worker_progress_t progress; /* PROGRESS */
	worker_result_t result;     /* DONE */
} farm_msg_t;

/* Sleeps s seconds (idle ranks back off). */
void farm_nap(double s);
/* Sends m to rank `to` (blocking standard send). */
void farm_send(MPI_Comm c, int to, farm_msg_t *m);
/* Receive a message if one is waiting (returns 1), else 0; never blocks.
 * *source (if not NULL): its sender. */
int farm_try_recv(MPI_Comm c, int from, farm_msg_t *m, int *source);

/* A rank > 0: READY, then runs the points rank 0 assigns until STOP. */
void farm_remote_loop(MPI_Comm c, archive_t *a, const spec_t *s,
		      const worker_opts_t *wo);

#endif
