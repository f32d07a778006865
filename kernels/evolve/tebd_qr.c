/* tebd_qr: see tebd_qr.h. */
#include "tebd_qr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int tebd_qr_init(tebd_qr_t *b)
{
	memset(b, 0, sizeof *b);
	return qrd_ws_create(&b->q);
}

void tebd_qr_free(tebd_qr_t *b)
{
	qrd_ws_destroy(&b->q);
	free(b->y0), free(b->d);
}

static int ext(int dm)
{
	int e = (int)ceil(TEBD_QR_EXT_FRAC * dm);
	return e > TEBD_QR_EXT_MIN ? e : TEBD_QR_EXT_MIN;
}

int tebd_qr_dim(int rows, int cols, int dm)
{
	return qrd_dim(rows, cols, dm, ext(dm));
}

/* Below TEBD_QR_MIN_DIM rows or columns, or with a trial dimension above
 * TEBD_QR_MAX_FRAC of min(rows, cols), the sector SVD is used.  Measured
 * (2026-12, 1 thread, bench workload at chi = 128 saturated, each sector
 * decomposed both ways, CPU time): QR / SVD = 1.16 for min(rows, cols) in
 * [16, 24), 1.27 [24, 32), 1.14 [32, 48), 1.31 [48, 64), 1.43 [64, 96) --
 * with d = 2 the trial dimension is half the sector's, so the QR path does
 * as many flops as the SVD, and LAPACK's QRs below 128 columns are
 * unblocked.  No size pays on that machine, hence SVD is the default;
 * the threshold only keeps tiny sectors off the QR path. */
#define TEBD_QR_MIN_DIM 16
#define TEBD_QR_MAX_FRAC 0.75

int tebd_qr_pays(int rows, int cols, int dm)
{
	int mn = rows < cols ? rows : cols;
	return mn >= TEBD_QR_MIN_DIM &&
	       tebd_qr_dim(rows, cols, dm) <= TEBD_QR_MAX_FRAC * mn;
}

int tebd_qr_sector(tebd_qr_t *b, const mps_t *m, int i, int c,
		   const kz_cplx *phi, int rows, int r0, int cols, int c0,
		   qrd_out_t *out, char *err)
{
	const mps_bond_t *bl = &m->bond[i], *bm = &m->bond[i + 1];
	int dm = mps_qdim(bm, c), mn = rows < cols ? rows : cols;
	if (kz_reserve((void **)&b->d, &b->d_cap, (size_t)rows, sizeof *b->d) ||
	    kz_reserve((void **)&b->y0, &b->y0_cap, (size_t)dm * cols + 1,
		       sizeof *b->y0))
		return kz_err(err, KZ_ENOMEM, "tebd: out of memory");
	if (r0)
		memcpy(b->d, mps_qlam(bl, c), (size_t)r0 * sizeof *b->d);
	if (rows > r0)
		memcpy(b->d + r0, mps_qlam(bl, c - 1),
		       (size_t)(rows - r0) * sizeof *b->d);
	/* old right basis [B^0[c] | B^1[c]], dm x cols */
	for (int s2 = 0; s2 < 2 && dm; s2++) {
		int cb = s2 ? c0 : 0, dr = s2 ? cols - c0 : c0;
		if (dr)
			memcpy(b->y0 + (size_t)dm * cb,
			       mps_block(m, i + 1, s2, c),
			       (size_t)dm * dr * sizeof *b->y0);
	}
	qrd_in_t in = {.m = rows, .n = cols, .a = phi, .lda = rows,
		       .d = b->d, .y0 = b->y0, .k0 = dm, .ldy0 = dm ? dm : 1,
		       .kext = ext(dm)};
	int rc = qrd_decompose(b->q, &in, out, err);
	if (rc)
		return rc;
	for (int a = out->k; a < mn; a++)
		out->s[a] = 0;
	return KZ_OK;
}
