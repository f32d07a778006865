/* agree: rank 0 decides, every rank agrees (see agree.h). */
#include "agree.h"

#include <stdio.h>

int agree_rank0(MPI_Comm c, int rc, const char *who, const char *err)
{
	int rank;
	MPI_Comm_rank(c, &rank);
	MPI_Bcast(&rc, 1, MPI_INT, 0, c);
	if (rc && who && rank == 0)
		fprintf(stderr, "%s: %s\n", who, err ? err : "");
	return rc;
}

int agree_all(MPI_Comm c, int rc)
{
	MPI_Allreduce(MPI_IN_PLACE, &rc, 1, MPI_INT, MPI_MIN, c);
	return rc;
}

void agree_bytes(MPI_Comm c, void *buf, int n)
{
	MPI_Bcast(buf, n, MPI_BYTE, 0, c);
}
