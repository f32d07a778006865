/* psvd: ScaLAPACK's pzgesvd over a communicator (psvd.h).
 *
 * ScaLAPACK and BLACS ship no C headers here: the prototypes below are
 * those of their Fortran (and C BLACS) interfaces, with gfortran's hidden
 * string lengths after the arguments. */
#include "psvd.h"

#include <stdlib.h>
#include <string.h>

#include "eu.h"

/* BLACS (C interface) */
extern int Csys2blacs_handle(MPI_Comm comm);
extern void Cfree_blacs_system_handle(int handle);
extern void Cblacs_pinfo(int *me, int *np);
extern void Cblacs_gridinit(int *ctxt, const char *order, int nprow,
			    int npcol);
extern void Cblacs_gridinfo(int ctxt, int *nprow, int *npcol, int *myrow,
			    int *mycol);
extern void Cblacs_gridexit(int ctxt);
extern void Cblacs_gridmap(int *ctxt, int *usermap, int ldumap, int nprow,
			   int npcol);
/* ScaLAPACK (Fortran interface) */
extern int numroc_(const int *n, const int *nb, const int *iproc,
		   const int *isrc, const int *nprocs);
extern void descinit_(int *desc, const int *m, const int *n, const int *mb,
		      const int *nb, const int *irsrc, const int *icsrc,
		      const int *ctxt, const int *lld, int *info);
extern void pzgesvd_(const char *jobu, const char *jobvt, const int *m,
		     const int *n, kz_cplx *a, const int *ia, const int *ja,
		     const int *desca, double *s, kz_cplx *u, const int *iu,
		     const int *ju, const int *descu, kz_cplx *vt,
		     const int *ivt, const int *jvt, const int *descvt,
		     kz_cplx *work, const int *lwork, double *rwork,
		     int *info, size_t ljobu, size_t ljobvt);
extern void Cpzgemr2d(int m, int n, kz_cplx *a, int ia, int ja, int *desca,
		      kz_cplx *b, int ib, int jb, int *descb, int gcontext);

struct psvd_s {
	MPI_Comm comm;
	int rank, size, nb;
	int handle, *handle1; /* BLACS system handles of comm */
	int ctxt;             /* the pr x pc grid of all ranks */
	int *ctxt1;           /* [size]: rank r alone (-1 elsewhere) */
	int pr, pc, myr, myc;
};

/* Any rank's failure, on every rank. */
static int agree_bad(MPI_Comm comm, int bad)
{
	int any = 0;
	MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, comm);
	return any;
}

int psvd_create(psvd_t **out, MPI_Comm comm, int nb, char *err)
{
	*out = NULL;
	if (nb < 1)
		return eu_err(err, "psvd: block size %d < 1", nb);
	psvd_t *p = calloc(1, sizeof *p);
	if (agree_bad(comm, !p)) {
		free(p);
		return eu_err(err, "psvd: out of memory");
	}
	int me, np;
	Cblacs_pinfo(&me, &np);
	p->comm = comm;
	p->nb = nb;
	MPI_Comm_rank(comm, &p->rank);
	MPI_Comm_size(comm, &p->size);
	p->pr = 1;
	for (int d = 1; d * d <= p->size; d++)
		if (p->size % d == 0)
			p->pr = d;
	p->pc = p->size / p->pr;
	p->handle = Csys2blacs_handle(comm);
	p->ctxt = p->handle;
	Cblacs_gridinit(&p->ctxt, "R", p->pr, p->pc);
	Cblacs_gridinfo(p->ctxt, &p->pr, &p->pc, &p->myr, &p->myc);
	p->handle1 = calloc((size_t)p->size, sizeof(int));
	p->ctxt1 = calloc((size_t)p->size, sizeof(int));
	if (agree_bad(comm, !p->handle1 || !p->ctxt1)) {
		free(p->handle1), free(p->ctxt1);
		Cblacs_gridexit(p->ctxt);
		Cfree_blacs_system_handle(p->handle);
		free(p);
		return eu_err(err, "psvd: out of memory");
	}
	for (int r = 0; r < p->size; r++) {
		p->handle1[r] = Csys2blacs_handle(comm);
		p->ctxt1[r] = p->handle1[r];
		int map = r;
		Cblacs_gridmap(&p->ctxt1[r], &map, 1, 1, 1);
	}
	*out = p;
	return 0;
}

void psvd_destroy(psvd_t **pp)
{
	if (!pp || !*pp)
		return;
	psvd_t *p = *pp;
	for (int r = 0; r < p->size; r++) {
		if (p->rank == r)
			Cblacs_gridexit(p->ctxt1[r]);
		Cfree_blacs_system_handle(p->handle1[r]);
	}
	Cblacs_gridexit(p->ctxt);
	Cfree_blacs_system_handle(p->handle);
	free(p->handle1), free(p->ctxt1);
	free(p);
	*pp = NULL;
}

void psvd_grid(const psvd_t *p, int *pr, int *pc)
{
	*pr = p->pr;
	*pc = p->pc;
}

/* Local buffer of a distributed m x n matrix and its descriptor. */
typedef struct {
	int desc[9];
	kz_cplx *x;
	int lld;
} dist_t;

static int dist_init(const psvd_t *p, dist_t *d, int m, int n)
{
	const int zero = 0;
	int info = 0;
	int lr = numroc_(&m, &p->nb, &p->myr, &zero, &p->pr);
	int lc = numroc_(&n, &p->nb, &p->myc, &zero, &p->pc);
	d->lld = lr > 1 ? lr : 1;
	d->x = kz_blas_alloc((size_t)d->lld * (size_t)(lc > 1 ? lc : 1) *
			     sizeof(kz_cplx)); /* local BLAS reads past it */
	descinit_(d->desc, &m, &n, &p->nb, &p->nb, &zero, &zero, &p->ctxt,
		  &d->lld, &info);
	return !d->x || info;
}

/* The whole matrix on rank root alone: a descriptor in its 1 x 1 grid
 * (ctxt -1 on the other ranks, as Cpzgemr2d wants). */
static void desc1(const psvd_t *p, int root, int *desc, int m, int n, int ld)
{
	const int zero = 0;
	int info = 0, mb = m > 0 ? m : 1, nbk = n > 0 ? n : 1;
	if (p->rank == root) {
		descinit_(desc, &m, &n, &mb, &nbk, &zero, &zero,
			  &p->ctxt1[root], &ld, &info);
	} else {
		memset(desc, 0, 9 * sizeof(int));
		desc[1] = -1;
	}
}

/* The agreed failure of any rank (0 if none). */
static int agree(const psvd_t *p, int bad)
{
	return agree_bad(p->comm, bad);
}

int psvd_svd(psvd_t *p, int m, int n, const kz_cplx *a, int lda, double *s,
	     kz_cplx *vt, int ldvt, char *err)
{
	return psvd_svd_at(p, 0, m, n, a, lda, s, vt, ldvt, err);
}

void psvd_end(psvd_t *p)
{
	int dims[2] = {-1, -1};
	MPI_Bcast(dims, 2, MPI_INT, p->rank, p->comm);
}

int psvd_serve(psvd_t *p, int root, char *err)
{
	int first = 0;
	for (;;) {
		int rc = psvd_svd_at(p, root, 0, 0, NULL, 1, NULL, NULL, 1,
				     first ? NULL : err);
		if (rc == PSVD_END)
			return first;
		first = first ? first : rc;
	}
}

int psvd_svd_at(psvd_t *p, int root, int m, int n, const kz_cplx *a,
		int lda, double *s, kz_cplx *vt, int ldvt, char *err)
{
	int dims[2] = {m, n};
	MPI_Bcast(dims, 2, MPI_INT, root, p->comm);
	m = dims[0];
	n = dims[1];
	if (m == -1 && n == -1)
		return PSVD_END;
	int k = m < n ? m : n, rc = 0;
	if (m < 1 || n < 1)
		return eu_err(err, "psvd: empty %d x %d matrix", m, n);
	dist_t A = {0}, V = {0};
	double *sv = malloc((size_t)k * sizeof(double));
	int bad = dist_init(p, &A, m, n) | dist_init(p, &V, k, n) | !sv;
	if (agree(p, bad)) {
		rc = eu_err(err, "psvd: out of memory or bad descriptor (%d x "
				 "%d)",
			    m, n);
		goto out;
	}
	int d0[9], dv0[9];
	desc1(p, root, d0, m, n, lda);
	desc1(p, root, dv0, k, n, ldvt);
	Cpzgemr2d(m, n, (kz_cplx *)a, 1, 1, d0, A.x, 1, 1, A.desc, p->ctxt);
	const int one = 1;
	int info = 0, lwork = -1, udesc[9];
	memcpy(udesc, A.desc, sizeof udesc);
	kz_cplx wq = 0;
	double rq = 0;
	pzgesvd_("N", "V", &m, &n, A.x, &one, &one, A.desc, sv, NULL, &one,
		 &one, udesc, V.x, &one, &one, V.desc, &wq, &lwork, &rq, &info,
		 1, 1);
	lwork = (int)creal(wq) + 1;
	size_t lrw = (size_t)rq + 1;
	/* slack after both, as after every buffer kapitza hands to LAPACK
	 * (kz.h): OpenBLAS 0.3.21's zgemv, called by pzlabrd, reads past the
	 * ends of buffers (ScaLAPACK's own ones too: tests/sanitize.sh) */
	kz_cplx *work = kz_blas_alloc((size_t)lwork * sizeof(kz_cplx));
	double *rwork = kz_blas_alloc(lrw * sizeof(double));
	if (agree(p, info || !work || !rwork)) {
		rc = eu_err(err, "psvd: workspace query failed (info %d)",
			    info);
	} else {
		pzgesvd_("N", "V", &m, &n, A.x, &one, &one, A.desc, sv, NULL,
			 &one, &one, udesc, V.x, &one, &one, V.desc, work,
			 &lwork, rwork, &info, 1, 1);
		if (agree(p, info != 0))
			rc = eu_err(err, "psvd: pzgesvd failed (info %d)",
				    info);
	}
	free(work);
	free(rwork);
	if (!rc) {
		Cpzgemr2d(k, n, V.x, 1, 1, V.desc, vt, 1, 1, dv0, p->ctxt);
		if (p->rank == root)
			memcpy(s, sv, (size_t)k * sizeof(double));
	}
out:
	free(A.x);
	free(V.x);
	free(sv);
	return rc;
}
