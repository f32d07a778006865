/* agree: "rank 0 decides, every rank agrees", written once.  Whatever only
 * rank 0 can judge (a file it read, a path it checked, a lock it took) is
 * decided there and broadcast, so that every rank takes the same branch and
 * no collective call is left waiting; whatever every rank can fail at (an
 * allocation, a parse) is agreed on by a reduction. */
#ifndef AGREE_H
#define AGREE_H

#include <mpi.h>

/* Collective over c.  rc is rank 0's verdict (the other ranks' value is
 * ignored); every rank returns it.  If it is non-zero and `who` is not
 * NULL, rank 0 prints "WHO: ERR" on stderr (err: rank 0's message). */
int agree_rank0(MPI_Comm c, int rc, const char *who, const char *err);

/* Collective over c: the smallest rc of all ranks, on every rank (so a
 * failure, rc < 0, anywhere is a failure everywhere). */
int agree_all(MPI_Comm c, int rc);

/* Collective over c: rank 0's n bytes at buf, on every rank. */
void agree_bytes(MPI_Comm c, void *buf, int n);

#endif
