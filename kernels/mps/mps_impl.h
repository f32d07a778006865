/* mps_impl: the storage layout of mps_t, shared by the kernel modules that
 * read or write tensors in place: mps.c, mps_io.c, contract.c, tebd.c,
 * purify.c, dmrg_vidal.c and the reference library's mps_vector.c (and
 * tests that inspect the layout).  Not part of the public API.
 *
 * Bond b (0..L) carries charges q = qlo..qlo+nq-1 (q = number of up spins
 * left of the bond; the range is fixed by L, b and nup), sector q has dim[q -
 * qlo] states (possibly 0) and its Schmidt values at lam + off[q - qlo].
 * Site i holds blocks B^s[q] for s = 0,1 and left charges q of bond i, each
 * a column-major dim_i(q) x dim_{i+1}(q+s) matrix at data + off[s*nq_i + q -
 * qlo_i].  Buffers only grow (kz_reserve), so a saturated evolution
 * allocates nothing. */
#ifndef MPS_IMPL_H
#define MPS_IMPL_H

#include "mps.h"

typedef struct {
	int qlo, nq;
	int *dim;       /* [nq] */
	size_t *off;    /* [nq] into lam */
	double *lam;
	size_t cap;
	int total;      /* sum of dim */
} mps_bond_t;

/* Complex blocks addressed by offsets into one buffer: a site's B^s[q]
 * (off [2 * nq of the left bond]) and contract.c's environments. */
typedef struct {
	size_t *off;
	kz_cplx *data;
	size_t cap, size;
} mps_blocks_t;

typedef mps_blocks_t mps_site_t;

struct mps_s {
	int L, nup;
	mps_bond_t *bond;  /* [L+1] */
	mps_site_t *site;  /* [L] */
};

/* Dimension of charge q on bond b (0 outside the range). */
static inline int mps_qdim(const mps_bond_t *b, int q)
{
	int k = q - b->qlo;
	return (k < 0 || k >= b->nq) ? 0 : b->dim[k];
}

/* Schmidt values of sector q of bond b (NULL-safe only for valid q). */
static inline double *mps_qlam(const mps_bond_t *b, int q)
{
	return b->lam + b->off[q - b->qlo];
}

/* Block B^s[q] of site i; its shape is mps_qdim(bond i, q) x
 * mps_qdim(bond i+1, q+s).  q must be in bond i's range. */
static inline kz_cplx *mps_block(const mps_t *m, int i, int s, int q)
{
	const mps_bond_t *b = &m->bond[i];
	return m->site[i].data + m->site[i].off[s * b->nq + q - b->qlo];
}

/* An MPS of L sites and nup ups with the charge ranges of every bond set
 * and every sector empty. */
int mps_alloc(mps_t **m, int L, int nup, char *err);

/* Set the sector dimensions of bond b (dims[nq]) and make room for its
 * Schmidt values (contents undefined afterwards). */
int mps_bond_resize(mps_t *m, int b, const int *dims);

/* Recompute site i's block offsets from the current dims of bonds i and i+1
 * and make room (block contents undefined afterwards). */
int mps_site_layout(mps_t *m, int i);

#endif
