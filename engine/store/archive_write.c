/* archive_write: the archive's independent writes (archive.h): the fill
 * values at creation, measurement rows, thermal table rows, rho3, status,
 * provenance and history rows, and clearing rows for a new attempt.  None
 * touches HDF5 metadata (archive.c). */
#include "archive.h"
#include "archive_impl.h"
#include "eu.h"
#include "h5x.h"
#include "schema.h"

#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const schema_ds_t *archive_ds_def(const archive_t *a, int p, int k)
{
	return a->nbeta[p] ? &schema_table_ds[k] : &schema_point_ds[k];
}

int archive_ds_kind(const schema_ds_t *d)
{
	return d->is_int ? ARCHIVE_MT_INT
	       : d->cols == SC_WINDOWS || d->cols == SC_BETA_RHO
		       ? ARCHIVE_MT_CPLX
		       : ARCHIVE_MT_DOUBLE;
}

hid_t archive_mtype(const archive_t *a, int kind)
{
	return kind == ARCHIVE_MT_INT	 ? H5T_NATIVE_INT32
	       : kind == ARCHIVE_MT_CPLX ? a->cplx_t
					 : H5T_NATIVE_DOUBLE;
}

/* n fill values of each memory kind: NaN doubles (complex: pairs of them)
 * and -1 integers. */
typedef struct {
	double *d;
	int32_t *iv;
} fillbuf_t;

static int fillbuf_make(fillbuf_t *b, size_t n, char *err)
{
	b->d = malloc(n * sizeof *b->d);
	b->iv = malloc(n * sizeof *b->iv);
	if (!b->d || !b->iv)
		return eu_err(err, "archive: out of memory");
	for (size_t k = 0; k < n; k++) {
		b->d[k] = NAN;
		b->iv[k] = -1;
	}
	return 0;
}

static const void *fillbuf_for(const fillbuf_t *b, int kind)
{
	return kind == ARCHIVE_MT_INT ? (const void *)b->iv
				      : (const void *)b->d;
}

static void fillbuf_free(fillbuf_t *b)
{
	free(b->d);
	free(b->iv);
}

enum { FILL_CAP = 1 << 16 }; /* elements per write: 512 kB of doubles */

/* Writes buf (FILL_CAP fill values of memory type mt) over the whole of
 * dataset ds, a block of rows at a time (a row longer than the buffer -- a
 * thermal table's rho3 row holds nbeta x 64 complex numbers -- a block of
 * its axis-1 entries at a time).  0 or -1. */
static int fill_dataset(archive_t *a, hid_t ds, int kind, const void *buf)
{
	hid_t fs = H5Dget_space(ds), mt = archive_mtype(a, kind);
	hsize_t dims[4] = {1, 1, 1, 1}, start[4] = {0, 0, 0, 0};
	int rank = fs < 0 ? -1 : H5Sget_simple_extent_dims(fs, dims, NULL);
	/* elements of the memory type per index of axis 0 (a row) and per
	 * index of axis 1 */
	const hsize_t mult = kind == ARCHIVE_MT_CPLX ? 2 : 1;
	hsize_t row = mult, sub = mult;
	for (int j = 1; j < rank; j++)
		row *= dims[j];
	for (int j = 2; j < rank; j++)
		sub *= dims[j];
	const int split = rank >= 2 && row > FILL_CAP;
	const hsize_t per = split ? sub : row;
	const hsize_t blk = per >= FILL_CAP ? 1 : FILL_CAP / per;
	int ok = rank >= 1 && per <= FILL_CAP;
	for (hsize_t r0 = 0; ok && r0 < dims[0]; r0 += split ? 1 : blk)
		for (hsize_t c0 = 0; ok && c0 < dims[1];
		     c0 += split ? blk : dims[1]) {
			hsize_t cnt[4] = {1, dims[1], dims[2], dims[3]};
			hsize_t mcount = 1;
			if (split)
				cnt[1] = dims[1] - c0 < blk ? dims[1] - c0 : blk;
			else
				cnt[0] = dims[0] - r0 < blk ? dims[0] - r0 : blk;
			for (int j = 0; j < rank; j++)
				mcount *= cnt[j];
			start[0] = r0;
			start[1] = c0;
			hid_t ms = H5Screate_simple(1, &mcount, NULL);
			ok = ms >= 0 &&
			     H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL,
						 cnt, NULL) >= 0 &&
			     H5Dwrite(ds, mt, ms, fs, a->dxpl, buf) >= 0;
			if (ms >= 0)
				H5Sclose(ms);
		}
	if (fs >= 0)
		H5Sclose(fs);
	return ok ? 0 : -1;
}

/* The fill value (NaN, -1, NaN+iNaN) into every dataset of the points this
 * rank owns for filling (id % size == rank).  A table's beta grid is
 * skipped: rank 0 writes the grid itself after the flush. */
int archive_fill_points(archive_t *a, char *err)
{
	fillbuf_t b;
	int rc = -1;
	if (fillbuf_make(&b, FILL_CAP, err))
		goto out;
	for (int p = a->rank; p < a->npoints; p += a->size)
		for (int k = 0; k < NDS; k++) {
			hid_t ds = a->ds[(size_t)p * NDS + k];
			if (ds < 0 || (a->nbeta[p] && k == TDS_BETA))
				continue;
			const int kind = archive_ds_kind(archive_ds_def(a, p, k));
			if (fill_dataset(a, ds, kind, fillbuf_for(&b, kind))) {
				h5x_err(err, "archive: writing the fill values");
				goto out;
			}
		}
	rc = 0;
out:
	fillbuf_free(&b);
	return rc;
}

/* ---- independent writes ------------------------------------------------ */

/* Writes rows row0 .. row0+n-1 of d, whole (every other axis), from the
 * contiguous buf of memory type mtype. */
int archive_write_rows(archive_t *a, hid_t d, int row0, int n, hid_t mtype,
		       const void *buf)
{
	hsize_t dims[4] = {1, 1, 1, 1}, start[4] = {(hsize_t)row0, 0, 0, 0};
	hsize_t mcount = 1;
	hid_t fs = H5Dget_space(d), ms = -1;
	int rank = fs < 0 ? -1 : H5Sget_simple_extent_dims(fs, dims, NULL);
	int rc = -1;
	if (rank < 1)
		goto out;
	dims[0] = (hsize_t)n;
	for (int j = 0; j < rank; j++)
		mcount *= dims[j];
	ms = H5Screate_simple(1, &mcount, NULL);
	if (ms < 0 ||
	    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, dims, NULL) <
		    0 ||
	    H5Dwrite(d, mtype, ms, fs, a->dxpl, buf) < 0)
		goto out;
	rc = 0;
out:
	if (fs >= 0)
		H5Sclose(fs);
	if (ms >= 0)
		H5Sclose(ms);
	return rc;
}

int archive_is_table(const archive_t *a, int point)
{
	return point >= 0 && point < a->npoints && a->nbeta[point] > 0;
}

int archive_write_table_rows(archive_t *a, int point, int row0, int n,
			     const double *mu, const double *e,
			     const double *sz, const double *rho,
			     const double *discarded, char *err)
{
	const hid_t *ds;
	if (!archive_is_table(a, point) || row0 < 0 || n < 1 ||
	    row0 + n > a->nmeas[point])
		return eu_err(err,
			    "archive: rows %d..%d of thermal table %d out of "
			    "range (or not a table)",
			    row0, row0 + n - 1, point);
	ds = a->ds + (size_t)point * NDS;
	/* mu last: a reader that sees mu[j] sees the whole row */
	if (archive_write_rows(a, ds[TDS_ENERGY], row0, n, H5T_NATIVE_DOUBLE, e) ||
	    archive_write_rows(a, ds[TDS_SZ], row0, n, H5T_NATIVE_DOUBLE, sz) ||
	    archive_write_rows(a, ds[TDS_RHO3], row0, n, a->cplx_t, rho) ||
	    archive_write_rows(a, ds[TDS_DISCARDED], row0, n, H5T_NATIVE_DOUBLE,
		       discarded) ||
	    archive_write_rows(a, ds[TDS_MU], row0, n, H5T_NATIVE_DOUBLE, mu))
		return h5x_err(err, "archive: writing thermal table rows");
	return 0;
}

/* archive_clear_rows of a thermal table: mu first, then the rest, one row
 * at a time (a rho3 row is nbeta x 64 complex numbers). */
static int clear_table_rows(archive_t *a, int point, int from, char *err)
{
	const hid_t *ds = a->ds + (size_t)point * NDS;
	const int n = a->nmeas[point] - from;
	/* the longest write: a rho3 row, or the mu rows */
	const size_t rho_row = (size_t)a->nbeta[point] * 128,
		     len = rho_row > (size_t)n ? rho_row : (size_t)n;
	double *d = malloc(len * sizeof *d);
	int rc = -1;
	if (!d)
		return eu_err(err, "archive: out of memory");
	for (size_t k = 0; k < len; k++)
		d[k] = NAN;
	if (archive_write_rows(a, ds[TDS_MU], from, n, H5T_NATIVE_DOUBLE, d) ||
	    archive_write_rows(a, ds[TDS_DISCARDED], from, n, H5T_NATIVE_DOUBLE, d))
		goto fail;
	for (int row = from; row < a->nmeas[point]; row++)
		if (archive_write_rows(a, ds[TDS_ENERGY], row, 1, H5T_NATIVE_DOUBLE,
			       d) ||
		    archive_write_rows(a, ds[TDS_SZ], row, 1, H5T_NATIVE_DOUBLE, d) ||
		    archive_write_rows(a, ds[TDS_RHO3], row, 1, a->cplx_t, d))
			goto fail;
	rc = 0;
	goto out;
fail:
	h5x_err(err, "archive: clearing a thermal table's rows");
out:
	free(d);
	return rc;
}

int archive_write_row(archive_t *a, int point, int row, double t,
		      const obs_t *o, double discarded_total,
		      double discarded_max, char *err)
{
	if (point < 0 || point >= a->npoints || row < 0 ||
	    row >= a->nmeas[point] || o->L != a->L[point] ||
	    a->nbeta[point])
		return eu_err(err,
			    "archive: row %d of point %d (L = %d) out of "
			    "range",
			    row, point, o->L);
	const hid_t *ds = a->ds + (size_t)point * NDS;
	const struct {
		int k;
		hid_t mt;
		const void *buf;
	} w[DS_RHO3] = {
		{DS_TIME, H5T_NATIVE_DOUBLE, &t},
		{DS_SZ, H5T_NATIVE_DOUBLE, o->sz},
		{DS_ENERGY, H5T_NATIVE_DOUBLE, o->energy},
		{DS_ENERGY_CURRENT, H5T_NATIVE_DOUBLE, o->energy_current},
		{DS_SPIN_CURRENT, H5T_NATIVE_DOUBLE, o->spin_current},
		{DS_ENERGY_FLOW, H5T_NATIVE_DOUBLE, o->energy_flow},
		{DS_ENTROPY, H5T_NATIVE_DOUBLE, o->entropy},
		{DS_BOND_DIM, H5T_NATIVE_INT, o->bond_dim},
		{DS_NORM, H5T_NATIVE_DOUBLE, &o->norm},
		{DS_DISCARDED, H5T_NATIVE_DOUBLE, &discarded_total},
		{DS_DISCARDED_MAX, H5T_NATIVE_DOUBLE, &discarded_max},
	};
	/* time last: a reader that sees time[row] sees the whole row */
	for (int j = DS_RHO3 - 1; j >= 0; j--)
		if (ds[w[j].k] >= 0 &&
		    archive_write_rows(a, ds[w[j].k], row, 1, w[j].mt, w[j].buf))
			return h5x_err(err, "archive: writing a measurement row");
	return 0;
}

int archive_wants_rho3(const archive_t *a, int point)
{
	return point >= 0 && point < a->npoints &&
	       (a->measure[point] & SPEC_M_RHO3) != 0;
}

int archive_write_rho3(archive_t *a, int point, int row, const double *rho,
		       char *err)
{
	if (!archive_wants_rho3(a, point) || row < 0 ||
	    row >= a->nmeas[point])
		return eu_err(err, "archive: rho3 row %d of point %d out of "
				 "range (or not requested)",
			    row, point);
	if (archive_write_rows(a, a->ds[(size_t)point * NDS + DS_RHO3], row, 1,
		       a->cplx_t, rho))
		return h5x_err(err, "archive: writing rho3");
	return 0;
}

/* Writes one element (a compound row, of type t) of table d: row `point`,
 * and of a 2-D table (slot >= 0) column `slot`. */
static int write_table_row(archive_t *a, hid_t d, hid_t t, int point,
			   int slot, const void *row, char *err,
			   const char *what)
{
	hsize_t start[2] = {(hsize_t)point, (hsize_t)(slot < 0 ? 0 : slot)};
	hsize_t count[2] = {1, 1}, one = 1;
	hid_t fs = -1, ms = -1;
	int rc = -1;
	if (point < 0 || point >= a->npoints)
		return eu_err(err, "archive: point %d out of range", point);
	fs = H5Dget_space(d);
	ms = H5Screate_simple(1, &one, NULL);
	if (fs < 0 || ms < 0 ||
	    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count,
				NULL) < 0 ||
	    H5Dwrite(d, t, ms, fs, a->dxpl, row) < 0) {
		h5x_err(err, what);
		goto out;
	}
	rc = 0;
out:
	if (fs >= 0)
		H5Sclose(fs);
	if (ms >= 0)
		H5Sclose(ms);
	return rc;
}

int archive_write_history(archive_t *a, int point, int slot,
			  const archive_history_t *h, char *err)
{
	if (a->hist_ds < 0)
		return 0; /* an archive from before /history: nothing kept */
	if (point < 0 || point >= a->npoints || slot < 0 ||
	    slot >= ARCHIVE_HISTORY)
		return eu_err(err, "archive: history slot %d of point %d out of "
				   "range",
			      slot, point);
	return write_table_row(a, a->hist_ds, a->hist_t, point, slot, h, err,
			       "archive: writing a history row");
}

int archive_clear_rows(archive_t *a, int point, int from, char *err)
{
	fillbuf_t b;
	int rc = -1;
	if (point < 0 || point >= a->npoints || from < 0)
		return eu_err(err, "archive: clearing rows %d.. of point %d: out "
				   "of range",
			      from, point);
	if (from >= a->nmeas[point])
		return 0;
	if (a->nbeta[point])
		return clear_table_rows(a, point, from, err);
	/* the longest row: rho3, (L-2) 8x8 complex numbers */
	if (fillbuf_make(&b, (size_t)(a->L[point] > 2 ? a->L[point] - 2 : 1) *
					 128 +
				 (size_t)a->L[point],
			 err))
		goto out;
	/* time first: afterwards no cleared row looks complete */
	for (int row = from; row < a->nmeas[point]; row++)
		for (int k = 0; k < NDS; k++) {
			hid_t ds = a->ds[(size_t)point * NDS + k];
			const int kind =
				archive_ds_kind(archive_ds_def(a, point, k));
			if (ds >= 0 &&
			    archive_write_rows(a, ds, row, 1,
					       archive_mtype(a, kind),
					       fillbuf_for(&b, kind))) {
				h5x_err(err, "archive: clearing a row");
				goto out;
			}
		}
	rc = 0;
out:
	fillbuf_free(&b);
	return rc;
}

int archive_write_status(archive_t *a, int point, const archive_status_t *st,
			 char *err)
{
	return write_table_row(a, a->status_ds, a->status_t, point, -1, st, err,
			       "archive: writing a status row");
}

int archive_write_provenance(archive_t *a, int point,
			     const archive_prov_t *pv, char *err)
{
	return write_table_row(a, a->prov_ds, a->prov_t, point, -1, pv, err,
			       "archive: writing a provenance row");
}


