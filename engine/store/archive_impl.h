/* archive_impl: what the archive's two source files share -- the handle,
 * the memory kinds of the datasets, whole-row writes.  Private to
 * engine/store (archive.c: collective creation and opening; archive_write.c:
 * independent writes). */
#ifndef ARCHIVE_IMPL_H
#define ARCHIVE_IMPL_H

#include <hdf5.h>

#include "archive.h"
#include "schema.h"

struct archive_s {
	MPI_Comm comm;
	int rank, size;
	int npoints;
	hid_t file, dxpl;
	hid_t status_ds, prov_ds, table_ds, hist_ds;
	hid_t status_t, prov_t, table_t, hist_t; /* memory = file types */
	hid_t cplx_t;                    /* {r, i} doubles */
	unsigned *measure;               /* per point: SPEC_M_* mask */
	int *L, *nmeas;                  /* per point, for bounds checks */
	int *nbeta;                      /* per point: 0, or a thermal table
	                                    with nbeta columns */
	hid_t *ds;                       /* [npoints * NDS] */
};

/* The memory (and fill) kind of a dataset: doubles, int32, complex. */
enum { ARCHIVE_MT_DOUBLE, ARCHIVE_MT_INT, ARCHIVE_MT_CPLX, ARCHIVE_NMT };
int archive_ds_kind(const schema_ds_t *d);

/* The declaration of dataset slot k of point p (a thermal table's or a
 * time-evolution point's). */
const schema_ds_t *archive_ds_def(const archive_t *a, int p, int k);

/* The native memory type of a kind (a->cplx_t for complex). */
hid_t archive_mtype(const archive_t *a, int kind);

/* Independent: writes rows row0 .. row0+n-1 of d, whole (every other axis),
 * from the contiguous buf of memory type mtype. */
int archive_write_rows(archive_t *a, hid_t d, int row0, int n, hid_t mtype,
		       const void *buf);

/* ---- validate.c: the checks of every reader -------------------------- */

/* /points_table, /status, /provenance (and /history if present) of f:
 * compound tables holding every field of the schema with its class and
 * size, of npoints rows.  0 or -1 with err naming the object. */
int archive_check_tables(hid_t f, const char *path, int npoints, char *err);

/* Dataset d against declaration def for a point of L sites and n rows (a
 * thermal table: nbeta columns): type class and size, rank, shape.  0, or
 * -1 with what is wrong in why ("is ..., expected ..."). */
int archive_check_dataset(hid_t d, const schema_ds_t *def, int L, int n,
			  int nbeta, char *why, size_t nwhy);

/* What the summary s read from f must hold: ids, states and counters in
 * range; every point's group and datasets with their declared types and
 * shapes.  0 or -1 with err naming the object and what was expected. */
int archive_validate(hid_t f, const char *path, const archive_summary_t *s,
		     char *err);

/* Independent: the fill values of every dataset of the points this rank
 * fills (id % size == rank); called before the collective flush. */
int archive_fill_points(archive_t *a, char *err);

#endif
