/* psvd: the singular value decomposition of one charge sector's matrix by
 * ScaLAPACK (pzgesvd) over the ranks of a communicator, for sectors too big
 * for one rank's LAPACK to be the faster (the crossover is measured by
 * `kapitza bench --scalapack`).
 *
 * What it computes is what a TEBD update needs of a sector Psi (m x n):
 * its singular values S and the rows of V^dag (Psi = U S V^dag; U is not
 * formed).  Rank 0 holds Psi and receives S and V^dag; the matrix is
 * redistributed block-cyclically (blocks of nb) over a pr x pc BLACS grid
 * of all ranks, pr the largest divisor of the size not above its square
 * root, and back (Cpzgemr2d).
 *
 * References: L. S. Blackford et al., ScaLAPACK Users' Guide (SIAM, 1997),
 * ch. 4 (descriptors, block-cyclic layout) and the PZGESVD documentation;
 * BLACS over an MPI communicator by Csys2blacs_handle. */
#ifndef PSVD_H
#define PSVD_H

#include <mpi.h>

#include "kz.h"

typedef struct psvd_s psvd_t;

/* Collective over comm: the grid (nb: block size, >= 1; 64 is usual). */
int psvd_create(psvd_t **p, MPI_Comm comm, int nb, char *err);
/* Collective over the communicator. */
void psvd_destroy(psvd_t **p);

/* Collective: S (min(m,n) values, descending) and V^dag (min(m,n) x n,
 * leading dimension ldvt) of rank 0's m x n column-major a (lda); a, s
 * and vt are read and written on rank 0 only (NULL elsewhere).  Every
 * rank returns the same code. */
int psvd_svd(psvd_t *p, int m, int n, const kz_cplx *a, int lda, double *s,
	     kz_cplx *vt, int ldvt, char *err);

/* The same with the matrix and the results on rank root (any rank of
 * the communicator); the other ranks call it with root too. */
int psvd_svd_at(psvd_t *p, int root, int m, int n, const kz_cplx *a,
		int lda, double *s, kz_cplx *vt, int ldvt, char *err);

/* A series of decompositions held by one rank, whose count only it knows:
 * the others call psvd_serve(p, root), which joins each psvd_svd_at() of
 * root until root calls psvd_end(); it returns the first failure's code
 * (0 if none).  psvd_svd_at() returns PSVD_END to a rank that receives
 * the end instead of a matrix. */
#define PSVD_END 1
int psvd_serve(psvd_t *p, int root, char *err);
void psvd_end(psvd_t *p);

/* The grid's shape (rows, columns of processes). */
void psvd_grid(const psvd_t *p, int *pr, int *pc);

#endif
