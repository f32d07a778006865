/* tebd_qr: the QR-based decomposition (qrdec.h) of one charge sector of a
 * TEBD two-site update, fed from the MPS: the row weights are the left
 * bond's Schmidt values and the start subspace is the sector's previous
 * right Schmidt basis, the old B_{i+1} blocks [B^0[c] | B^1[c]] (rows of
 * right-orthonormal tensors, so already orthonormal).  Private to the TEBD
 * kernel; tebd.c decides which sectors take this path.
 *
 * The expansion kext = max(TEBD_QR_EXT_MIN, TEBD_QR_EXT_FRAC * dim) lets a
 * sector grow by that many states per update; a sector whose trial states
 * are all kept may have needed more, and tebd.c then redoes it by SVD. */
#ifndef TEBD_QR_H
#define TEBD_QR_H

#include "mps_impl.h"
#include "qrdec.h"

#define TEBD_QR_EXT_MIN 2
#define TEBD_QR_EXT_FRAC 0.1

typedef struct {
	qrd_ws_t *q;
	kz_cplx *y0;
	double *d;
	size_t y0_cap, d_cap;
} tebd_qr_t;

int tebd_qr_init(tebd_qr_t *b);
void tebd_qr_free(tebd_qr_t *b);

/* Trial dimension for a rows x cols sector whose old middle dimension is dm. */
int tebd_qr_dim(int rows, int cols, int dm);

/* Whether the QR path is worth it for such a sector: the trial dimension
 * well below min(rows, cols) and the sector not tiny (thresholds measured,
 * see tebd_qr.c); otherwise the SVD is as cheap and exact. */
int tebd_qr_pays(int rows, int cols, int dm);

/* Sector c (middle charge) of bond i of m: phi is its rows x cols matrix
 * (leading dimension rows; rows [0, r0) have s1 = 0, columns [0, c0) s2 =
 * 0).  Fills out (s: the values then zeros up to min(rows, cols); vt with
 * leading dimension out->ldvt; lf = Phi V, rows x k). */
int tebd_qr_sector(tebd_qr_t *b, const mps_t *m, int i, int c,
		   const kz_cplx *phi, int rows, int r0, int cols, int c0,
		   qrd_out_t *out, char *err);

#endif
