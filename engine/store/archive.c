/* archive: the collective half of the sweep's parallel-HDF5 file --
 * creation, opening for a resubmission, closing.  The layout is declared
 * once in schema.c (what each table and dataset is: engine/ARCHIVE.md); the
 * independent writes are in archive_write.c, the serial reader in
 * summary.c.
 *
 * Every dataset is contiguous with space allocated and filled (NaN, -1) at
 * creation, so after the collective archive_create() no write ever touches
 * HDF5 metadata: writes are independent (H5FD_MPIO_INDEPENDENT) and go
 * straight through MPI-IO into the file.  That is also why no H5Fflush is
 * needed after a status write for readers to see it (H5Fflush is collective
 * under the mpio driver, so rank 0 could not call it alone anyway): the
 * mpio driver keeps no raw-data cache, and the metadata on disk is complete
 * from the flush at the end of archive_create().
 *
 * The file is built under a temporary name and linked (renamed, with force)
 * to its name only when complete, so a kill during creation leaves no half
 * archive.  archive_open() (resubmission) opens an existing archive
 * collectively and changes no metadata either: every table a later attempt
 * needs (/status, /provenance, /history) exists from creation. */
#include "archive.h"
#include "agree.h"
#include "archive_impl.h"
#include "eu.h"
#include "h5x.h"
#include "schema.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "version.h"

/* Ranks agree: returns the smallest rc over comm (0 if all ok); when this
 * rank was fine but another was not, err says so. */
static int agree(MPI_Comm comm, int rc, char *err)
{
	int all = agree_all(comm, rc);
	if (all && !rc)
		eu_err(err, "archive: another rank failed while creating the "
			  "archive");
	return all;
}

const char *archive_state_name(int state)
{
	static const char *names[ARCHIVE_NSTATES] = {
		"pending", "running", "done", "failed", "interrupted",
		"other-shard"};
	return state >= 0 && state < ARCHIVE_NSTATES ? names[state] : "?";
}

void archive_status_init(archive_status_t *st)
{
	memset(st, 0, sizeof *st);
	st->state = ARCHIVE_PENDING;
	st->attempt = 0;
	st->rank = -1;
	st->rows = 0;
	st->t_reached = NAN;
	st->wall_s = NAN;
	st->max_discarded = NAN;
	st->max_bond_dim = -1;
	st->t_resumed = NAN;
}

void archive_history_init(archive_history_t *h)
{
	memset(h, 0, sizeof *h);
	h->outcome = ARCHIVE_PENDING;
	h->rank = h->mpi_size = -1;
	h->t_resumed = h->t_reached = h->wall_s = NAN;
}

int archive_history_slot(int attempt)
{
	if (attempt < 1)
		return 0;
	return attempt < ARCHIVE_HISTORY ? attempt - 1 : ARCHIVE_HISTORY - 1;
}

/* ---- creation ----------------------------------------------------------- */

static void row_from_point(archive_point_row_t *r, const spec_point_t *p)
{
	memset(r, 0, sizeof *r);
	r->id = p->id;
	memcpy(r->hash, p->hash_hex, 17);
	r->hash[16] = 0;
	r->L = p->L;
	r->J = p->J;
	r->delta_left = p->delta_left;
	r->delta_right = p->delta_right;
	r->gamma_right = p->gamma_right;
	r->state = (int8_t)p->state;
	r->dt = p->dt;
	r->t_max = p->t_max;
	r->measure_every = p->measure_every;
	r->order = p->order;
	r->chi_max = p->chi_max;
	r->cutoff = p->cutoff;
	r->n_measure = p->n_measure;
	r->steps_per_measure = p->steps_per_measure;
	r->measure = p->measure;
	r->cost = spec_point_cost(p);
}

/* A table dataset of n rows (times `cols` columns if cols > 0) of compound
 * type t, filled with fill. */
/* Table t of n rows (times `cols` columns if cols > 0), compound type ty,
 * contiguous, allocated and filled with fill at creation. */
static hid_t create_table(hid_t file, const schema_table_t *t, hid_t ty,
			  hsize_t n, hsize_t cols, const void *fill)
{
	hsize_t dims[2] = {n, cols};
	hid_t sp = H5Screate_simple(cols ? 2 : 1, dims, NULL);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	hid_t d = -1;
	if (sp < 0 || dcpl < 0)
		goto out;
	if (H5Pset_layout(dcpl, H5D_CONTIGUOUS) < 0 ||
	    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
	    H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC) < 0 ||
	    (fill && H5Pset_fill_value(dcpl, ty, fill) < 0))
		goto out;
	d = H5Dcreate2(file, t->name, ty, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
out:
	if (sp >= 0)
		H5Sclose(sp);
	if (dcpl >= 0)
		H5Pclose(dcpl);
	return d;
}

/* A dataset creation property list: contiguous, space allocated now, the
 * fill value recorded (type t) but written by archive_fill_points(): HDF5's
 * own fill-at-allocation is a collective write per dataset, which made
 * creation ~5x slower on 4 ranks; archive_fill_points() spreads the same
 * bytes over the ranks with independent writes. */
static hid_t point_dcpl(hid_t t, const void *fill)
{
	hid_t d = H5Pcreate(H5P_DATASET_CREATE);
	if (d < 0)
		return -1;
	if (H5Pset_layout(d, H5D_CONTIGUOUS) < 0 ||
	    H5Pset_alloc_time(d, H5D_ALLOC_TIME_EARLY) < 0 ||
	    H5Pset_fill_time(d, H5D_FILL_TIME_NEVER) < 0 ||
	    H5Pset_fill_value(d, t, fill) < 0) {
		H5Pclose(d);
		return -1;
	}
	return d;
}

/* A thermal table's group attributes. */
static int table_attrs(hid_t g, const spec_point_t *p)
{
	const spec_thermal_t *t = p->thermal;
	return h5x_attr_dbl(g, "delta", p->delta_right) ||
	       h5x_attr_dbl(g, "J", p->J) || h5x_attr_int(g, "length", p->L) ||
	       h5x_attr_int(g, "chi_max", p->chi_max) ||
	       h5x_attr_dbl(g, "cutoff", p->cutoff) ||
	       h5x_attr_dbl(g, "dtau", p->dt) ||
	       h5x_attr_int(g, "order", p->order) ||
	       h5x_attr_int(g, "nbeta", t->nbeta) ||
	       h5x_attr_int(g, "nmu", t->nmu) ||
	       h5x_attr_str(g, "about",
			    "equations of state of the homogeneous XXZ chain "
			    "(J = 1, anisotropy delta) by purification of a "
			    "chain of `length` sites (kernels/thermal.h), "
			    "computed by kapitza run as an item of the sweep");
}

/* A time-evolution point's group attributes. */
static int evolution_attrs(hid_t g, const spec_point_t *p)
{
	return h5x_attr_int(g, "L", p->L) || h5x_attr_dbl(g, "J", p->J) ||
	       h5x_attr_dbl(g, "delta_left", p->delta_left) ||
	       h5x_attr_dbl(g, "delta_right", p->delta_right) ||
	       h5x_attr_dbl(g, "gamma_right", p->gamma_right) ||
	       h5x_attr_dbl(g, "dt", p->dt) ||
	       h5x_attr_dbl(g, "t_max", p->t_max) ||
	       h5x_attr_dbl(g, "measure_every", p->measure_every) ||
	       h5x_attr_int(g, "order", p->order) ||
	       h5x_attr_int(g, "chi_max", p->chi_max) ||
	       h5x_attr_dbl(g, "cutoff", p->cutoff) ||
	       h5x_attr_int(g, "n_measure", p->n_measure) ||
	       h5x_attr_int(g, "first_site_n", -p->L / 2 + 1);
}

/* The datasets of point p in its group g (ds[k] = -1 for an observable
 * the spec did not ask for), from the schema's declarations. */
static int point_datasets(hid_t g, const spec_point_t *p, hid_t cplx,
			  const hid_t *dcpl, hid_t *ds, char *err)
{
	const int table = p->state == SPEC_STATE_THERMAL;
	const int nds = table ? NTDS : NDS;
	for (int k = 0; k < nds; k++) {
		const schema_ds_t *d = table ? &schema_table_ds[k]
					     : &schema_point_ds[k];
		hsize_t dims[4];
		const int kind = archive_ds_kind(d);
		const hid_t ftype = kind == ARCHIVE_MT_INT    ? H5T_STD_I32LE
				    : kind == ARCHIVE_MT_CPLX ? cplx
							      : H5T_IEEE_F64LE;
		if (d->mask && !(p->measure & d->mask))
			continue;
		int rank = schema_dims(d, p->L, p->n_measure,
				       table ? p->thermal->nbeta : 0, dims);
		hid_t sp = H5Screate_simple(rank, dims, NULL);
		if (sp < 0)
			return h5x_err(err, "archive: creating a point's "
					    "datasets");
		ds[k] = H5Dcreate2(g, d->name, ftype, sp, H5P_DEFAULT,
				   dcpl[kind], H5P_DEFAULT);
		H5Sclose(sp);
		if (ds[k] < 0 || h5x_attr_str(ds[k], "units", d->units) ||
		    h5x_attr_str(ds[k], "index0", schema_index0(d)))
			return h5x_err(err, "archive: creating a point's "
					    "datasets");
	}
	return 0;
}

/* Group /points/<id> with its attributes and datasets, a thermal table's
 * or a time-evolution point's; ids into ds[NDS], -1 where none. */
static int create_point(hid_t points, const spec_point_t *p, hid_t cplx,
			hid_t *ds, char *err)
{
	char name[32], canon[1024];
	hid_t g = -1, dcpl[ARCHIVE_NMT] = {-1, -1, -1};
	const double nan = NAN, cnan[2] = {NAN, NAN};
	const int32_t minus1 = -1;
	const int table = p->state == SPEC_STATE_THERMAL;
	int rc = -1;

	for (int k = 0; k < NDS; k++)
		ds[k] = -1;
	if (table && !p->thermal)
		return eu_err(err, "archive: thermal table %d without its "
				   "section",
			      p->id);
	snprintf(name, sizeof name, "%d", p->id);
	g = H5Gcreate2(points, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (g < 0) {
		h5x_err(err, "archive: creating group /points/<id>");
		goto out;
	}
	spec_point_canonical(p, canon, sizeof canon);
	if (h5x_attr_int(g, "id", p->id) || h5x_attr_str(g, "hash", p->hash_hex) ||
	    h5x_attr_str(g, "canonical", canon) ||
	    h5x_attr_str(g, "state", spec_state_name(p->state)) ||
	    (table ? table_attrs(g, p) : evolution_attrs(g, p))) {
		h5x_err(err, table ? "archive: writing thermal table attributes"
				   : "archive: writing point attributes");
		goto out;
	}
	dcpl[ARCHIVE_MT_DOUBLE] = point_dcpl(H5T_NATIVE_DOUBLE, &nan);
	dcpl[ARCHIVE_MT_INT] = point_dcpl(H5T_NATIVE_INT32, &minus1);
	dcpl[ARCHIVE_MT_CPLX] = point_dcpl(cplx, cnan);
	if (dcpl[0] < 0 || dcpl[1] < 0 || dcpl[2] < 0) {
		h5x_err(err, "archive: dataset creation properties");
		goto out;
	}
	rc = point_datasets(g, p, cplx, dcpl, ds, err);
out:
	if (rc)
		for (int k = 0; k < NDS; k++)
			if (ds[k] >= 0) {
				H5Dclose(ds[k]);
				ds[k] = -1;
			}
	for (int k = 0; k < ARCHIVE_NMT; k++)
		if (dcpl[k] >= 0)
			H5Pclose(dcpl[k]);
	if (g >= 0)
		H5Gclose(g);
	return rc;
}

static int root_attrs(hid_t file, const spec_t *s, const char *created,
		      const archive_create_opts_t *o)
{
	/* The default (earliest) file format keeps attributes in the object
	 * header, 64 KiB at most; the spec text is checked in archive_create */
	return h5x_attr_str(file, "format", ARCHIVE_FORMAT) ||
	       h5x_attr_int(file, "format_version", ARCHIVE_FORMAT_VERSION) ||
	       h5x_attr_str(file, "kapitza_version", KAPITZA_VERSION) ||
	       h5x_attr_str(file, "sweep", s->name ? s->name : "") ||
	       h5x_attr_str(file, "spec_text", s->text ? s->text : "") ||
	       h5x_attr_str(file, "spec_hash", s->hash_hex) ||
	       h5x_attr_str(file, "created", created) ||
	       h5x_attr_int(file, "npoints", s->npoints) ||
	       h5x_attr_int(file, "shard_index", o->shard_index) ||
	       h5x_attr_int(file, "shard_count", o->shard_count) ||
	       (o->merged_from &&
		h5x_attr_str(file, "merged_from", o->merged_from)) ||
	       h5x_attr_str(file, "units",
			"J = 1, hbar = 1: energies in J, times in hbar/J") ||
	       h5x_attr_str(file, "site_labels",
			"arrays over sites start at site n = -L/2+1, arrays "
			"over bonds at bond n = -L/2+1 (bond n joins sites n "
			"and n+1); the junction is bond n = 0");
}

/* A new archive_t for spec s, nothing open; NULL if out of memory. */
static archive_t *archive_alloc(MPI_Comm comm, const spec_t *s)
{
	archive_t *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->file = a->dxpl = -1;
	a->status_ds = a->prov_ds = a->table_ds = a->hist_ds = -1;
	a->status_t = a->prov_t = a->table_t = a->hist_t = a->cplx_t = -1;
	a->comm = comm;
	a->npoints = s->npoints;
	MPI_Comm_rank(comm, &a->rank);
	MPI_Comm_size(comm, &a->size);
	a->L = calloc((size_t)s->npoints + 1, sizeof *a->L);
	a->nmeas = calloc((size_t)s->npoints + 1, sizeof *a->nmeas);
	a->measure = calloc((size_t)s->npoints + 1, sizeof *a->measure);
	a->nbeta = calloc((size_t)s->npoints + 1, sizeof *a->nbeta);
	a->ds = malloc(((size_t)s->npoints * NDS + 1) * sizeof *a->ds);
	if (!a->L || !a->nmeas || !a->measure || !a->nbeta || !a->ds) {
		archive_destroy(&a, NULL);
		return NULL;
	}
	for (size_t k = 0; k < (size_t)s->npoints * NDS; k++)
		a->ds[k] = -1;
	for (int i = 0; i < s->npoints; i++) {
		a->L[i] = s->points[i].L;
		a->nmeas[i] = s->points[i].n_measure;
		a->measure[i] = s->points[i].measure;
		if (s->points[i].state == SPEC_STATE_THERMAL &&
		    s->points[i].thermal)
			a->nbeta[i] = s->points[i].thermal->nbeta;
	}
	return a;
}

/* The memory types and the property lists of a (collective file access on
 * comm, independent transfers). */
static int setup_types(archive_t *a, hid_t *fapl, char *err)
{
	a->status_t = schema_type(&schema_status);
	a->prov_t = schema_type(&schema_provenance);
	a->table_t = schema_type(&schema_points_table);
	a->hist_t = schema_type(&schema_history);
	a->cplx_t = h5x_complex_type();
	a->dxpl = H5Pcreate(H5P_DATASET_XFER);
	*fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (a->status_t < 0 || a->prov_t < 0 || a->table_t < 0 ||
	    a->hist_t < 0 || a->cplx_t < 0 || a->dxpl < 0 || *fapl < 0 ||
	    H5Pset_dxpl_mpio(a->dxpl, H5FD_MPIO_INDEPENDENT) < 0 ||
	    H5Pset_fapl_mpio(*fapl, a->comm, MPI_INFO_NULL) < 0)
		return h5x_err(err, "archive: setting up HDF5 types and properties");
	return 0;
}

void archive_create_opts_default(archive_create_opts_t *o)
{
	memset(o, 0, sizeof *o);
	o->shard_index = 0;
	o->shard_count = 1;
}

int archive_create(archive_t **ap, MPI_Comm comm, const char *path,
		   const spec_t *s, int force, char *err)
{
	archive_create_opts_t o;
	archive_create_opts_default(&o);
	o.force = force;
	return archive_create_ex(ap, comm, path, s, &o, err);
}

/* Rank 0: makes the finished temporary file visible as `path`.  Without
 * force, link() fails if `path` appeared meanwhile, so nothing is ever
 * replaced without --force (file systems without hard links fall back to a
 * check and a rename). */
static int publish(const char *tmp, const char *path, int force, char *err)
{
	struct stat sb;
	if (force) {
		if (rename(tmp, path))
			return eu_err(err, "cannot create archive '%s': %s", path,
				    strerror(errno));
		return 0;
	}
	if (link(tmp, path) == 0) {
		unlink(tmp);
		return 0;
	}
	if (errno == EEXIST)
		return eu_err(err, "cannot create archive '%s': it exists (an "
				 "existing archive is only replaced with "
				 "--force)",
			    path);
	if (stat(path, &sb) == 0)
		return eu_err(err, "cannot create archive '%s': it exists (an "
				 "existing archive is only replaced with "
				 "--force)",
			    path);
	if (rename(tmp, path))
		return eu_err(err, "cannot create archive '%s': %s", path,
			    strerror(errno));
	return 0;
}


/* Every rank: checks the arguments; rank 0: the creation time and the
 * temporary name, sent to every rank (identical attribute values and
 * names everywhere: rank 0's). */
static int create_names(archive_t *a, const char *path, const spec_t *s,
			const archive_create_opts_t *o, char *created,
			char *tmp, size_t ntmp, char *err)
{
	int rc = 0;
	if (s->text && strlen(s->text) > 60000)
		rc = eu_err(err, "archive: the spec text is %zu bytes; at most "
				 "60000 fit in an attribute",
			    strlen(s->text));
	else if (o->shard_count < 1 || o->shard_index < 0 ||
		 o->shard_index >= o->shard_count)
		rc = eu_err(err, "archive: shard %d of %d", o->shard_index,
			    o->shard_count);
	if ((rc = agree(a->comm, rc, err)))
		return rc;
	if (a->rank == 0) {
		struct stat sb;
		eu_utc_now(created, 32);
		if (snprintf(tmp, ntmp, "%s.tmp.%ld", path, (long)getpid()) >=
		    (int)ntmp)
			rc = eu_err(err, "archive path too long: '%s'", path);
		else if (!o->force && stat(path, &sb) == 0)
			rc = eu_err(err, "cannot create archive '%s': it exists "
					 "(an existing archive is only replaced "
					 "with --force)",
				    path);
	}
	agree_bytes(a->comm, created, 32);
	agree_bytes(a->comm, tmp, (int)ntmp);
	return agree(a->comm, rc, err);
}

/* Collective: the file under its temporary name, with its root
 * attributes. */
static int create_file(archive_t *a, const char *path, const char *tmp,
		       const spec_t *s, const archive_create_opts_t *o,
		       const char *created, int *have_tmp, char *err)
{
	hid_t fapl = -1;
	int rc = setup_types(a, &fapl, err);
	if ((rc = agree(a->comm, rc, err)))
		goto out;
	a->file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
	if (a->file < 0) {
		char why[EU_ERRLEN];
		h5x_why(why);
		rc = eu_err(err, "cannot create archive '%s'%s%s%s", path,
			    why[0] ? ": " : "", why,
			    o->force ? "" : " (an existing archive is only "
					    "replaced with --force)");
	}
	*have_tmp = a->file >= 0;
	if ((rc = agree(a->comm, rc, err)))
		goto out;
	if (root_attrs(a->file, s, created, o))
		rc = h5x_err(err, "archive: writing root attributes");
	rc = agree(a->comm, rc, err);
out:
	if (fapl >= 0)
		H5Pclose(fapl);
	return rc;
}

/* Collective: /points_table, /status, /provenance, /history. */
static int create_tables(archive_t *a, const spec_t *s, char *err)
{
	archive_status_t fill;
	archive_prov_t pfill;
	archive_history_t hfill;
	const hsize_t np = (hsize_t)s->npoints;
	int rc = 0;
	archive_status_init(&fill);
	archive_history_init(&hfill);
	memset(&pfill, 0, sizeof pfill);
	pfill.rank = -1;
	a->table_ds = create_table(a->file, &schema_points_table, a->table_t,
				   np, 0, NULL);
	a->status_ds = create_table(a->file, &schema_status, a->status_t, np,
				    0, &fill);
	a->prov_ds = create_table(a->file, &schema_provenance, a->prov_t, np,
				  0, &pfill);
	a->hist_ds = create_table(a->file, &schema_history, a->hist_t, np,
				  ARCHIVE_HISTORY, &hfill);
	if (a->table_ds < 0 || a->status_ds < 0 || a->prov_ds < 0 ||
	    a->hist_ds < 0)
		rc = h5x_err(err, "archive: creating the tables");
	else if (h5x_attr_str(a->status_ds, "state_values",
			      "0 pending, 1 running, 2 done, 3 failed, "
			      "4 interrupted, 5 other-shard") ||
		 h5x_attr_str(a->status_ds, "index0", "row k is point id k") ||
		 h5x_attr_str(a->hist_ds, "index0",
			      "history[k, j] is attempt j+1 of point id k "
			      "(attempts beyond the last column overwrite "
			      "it); attempt 0 marks an unused slot"))
		rc = h5x_err(err, "archive: writing table attributes");
	return agree(a->comm, rc, err);
}

/* Collective: /points and every point's group and datasets, their fill
 * values, then the flush after which the metadata never changes. */
static int create_points(archive_t *a, const spec_t *s, char *err)
{
	hid_t points = H5Gcreate2(a->file, SCHEMA_POINTS, H5P_DEFAULT,
				  H5P_DEFAULT, H5P_DEFAULT);
	int rc = 0;
	if (points < 0)
		rc = h5x_err(err, "archive: creating /" SCHEMA_POINTS);
	if ((rc = agree(a->comm, rc, err)))
		goto out;
	for (int i = 0; i < s->npoints; i++) {
		rc = create_point(points, &s->points[i], a->cplx_t,
				  a->ds + (size_t)i * NDS, err);
		if ((rc = agree(a->comm, rc, err)))
			goto out;
	}
	rc = archive_fill_points(a, err);
	if ((rc = agree(a->comm, rc, err)))
		goto out;
	/* all metadata on disk now; from here on it never changes */
	if (H5Fflush(a->file, H5F_SCOPE_GLOBAL) < 0)
		rc = h5x_err(err, "archive: flushing the new archive");
	rc = agree(a->comm, rc, err);
out:
	if (points >= 0)
		H5Gclose(points);
	return rc;
}

/* Rank 0, independent: the points table, the thermal tables' beta grids
 * (data, but known from the spec, so every table group says what it is
 * from the start) and the other-shard status of a shard's foreign
 * points. */
static int create_data(archive_t *a, const spec_t *s,
		       const archive_create_opts_t *o, char *err)
{
	archive_point_row_t *rows = calloc((size_t)s->npoints + 1,
					   sizeof *rows);
	int rc = 0;
	if (!rows)
		return eu_err(err, "archive: out of memory");
	for (int i = 0; i < s->npoints; i++)
		row_from_point(&rows[i], &s->points[i]);
	if (H5Dwrite(a->table_ds, a->table_t, H5S_ALL, H5S_ALL, a->dxpl,
		     rows) < 0)
		rc = h5x_err(err, "archive: writing the points table");
	free(rows);
	for (int i = 0; !rc && i < s->npoints; i++)
		if (a->nbeta[i] &&
		    H5Dwrite(a->ds[(size_t)i * NDS + TDS_BETA],
			     H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, a->dxpl,
			     s->points[i].thermal->betas) < 0)
			rc = h5x_err(err, "archive: writing a thermal table's "
					  "beta grid");
	for (int i = 0; !rc && o->in_shard && i < s->npoints; i++) {
		archive_status_t st;
		if (o->in_shard[i])
			continue;
		archive_status_init(&st);
		st.state = ARCHIVE_OTHER_SHARD;
		rc = archive_write_status(a, i, &st, err);
	}
	return rc;
}

int archive_create_ex(archive_t **ap, MPI_Comm comm, const char *path,
		      const spec_t *s, const archive_create_opts_t *o,
		      char *err)
{
	archive_t *a = NULL;
	char created[32] = "", tmp[4096] = "";
	int rc = 0, have_tmp = 0, rank = 0;

	*ap = NULL;
	MPI_Comm_rank(comm, &rank);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	a = archive_alloc(comm, s);
	if (!a)
		rc = eu_err(err, "archive: out of memory");
	if ((rc = agree(comm, rc, err)))
		goto out;
	if ((rc = create_names(a, path, s, o, created, tmp, sizeof tmp, err)) ||
	    (rc = create_file(a, path, tmp, s, o, created, &have_tmp, err)) ||
	    (rc = create_tables(a, s, err)) || (rc = create_points(a, s, err)))
		goto out;
	if (rank == 0)
		rc = create_data(a, s, o, err);
	if ((rc = agree(comm, rc, err)))
		goto out;
	/* complete: make it visible under its name */
	MPI_Barrier(comm);
	if (rank == 0)
		rc = publish(tmp, path, o->force, err);
	rc = agree(comm, rc, err);
	if (!rc)
		have_tmp = 0;
out:
	if (rc) {
		archive_destroy(&a, NULL);
		if (rank == 0 && have_tmp)
			unlink(tmp);
		return rc;
	}
	*ap = a;
	return 0;
}

/* ---- opening an existing archive (resubmission) ------------------------ */

/* Opens the datasets of point i (group g) into a->ds and checks their
 * types and shapes against the schema and p; 0, or 1 + the slot of the
 * first that is missing or another (why says how). */
static int open_point_ds(archive_t *a, hid_t g, int i, const spec_point_t *p,
			 char *why, size_t nwhy)
{
	const int table = a->nbeta[i] > 0;
	for (int k = 0; k < (table ? NTDS : NDS); k++) {
		const schema_ds_t *d = archive_ds_def(a, i, k);
		hid_t *h = &a->ds[(size_t)i * NDS + k];
		if (d->mask && !(p->measure & d->mask))
			continue;
		*h = H5Lexists(g, d->name, H5P_DEFAULT) > 0
			     ? H5Dopen2(g, d->name, H5P_DEFAULT)
			     : -1;
		if (*h < 0) {
			snprintf(why, nwhy, "is missing");
			return k + 1;
		}
		if (archive_check_dataset(*h, d, p->L, p->n_measure,
					  a->nbeta[i], why, nwhy))
			return k + 1;
	}
	return 0;
}

/* The root attributes of an opened file against s; 0 or -1 with err. */
static int check_root(archive_t *a, const char *path, const spec_t *s,
		      char *err)
{
	char fmt[32] = "", hash[32] = "";
	int version = -1, np = -1;
	if (h5x_attr_read_str(a->file, "format", fmt, sizeof fmt) ||
	    strcmp(fmt, ARCHIVE_FORMAT))
		return eu_err(err, "'%s' is not a kapitza archive (no root "
				   "attribute format = \"%s\")",
			      path, ARCHIVE_FORMAT);
	if (h5x_attr_read_int(a->file, "format_version", &version) ||
	    version != ARCHIVE_FORMAT_VERSION)
		return eu_err(err, "'%s': archive format version %d, this "
				   "kapitza writes version %d",
			      path, version, ARCHIVE_FORMAT_VERSION);
	h5x_attr_read_str(a->file, "spec_hash", hash, sizeof hash);
	if (strcmp(hash, s->hash_hex))
		return eu_err(err, "'%s' is an archive of the spec with hash %s, "
				   "not of this spec (hash %s)",
			      path, hash, s->hash_hex);
	if (h5x_attr_read_int(a->file, "npoints", &np) || np != s->npoints)
		return eu_err(err, "'%s' has %d points, the spec %d", path, np,
			      s->npoints);
	return 0;
}

/* Opens the tables and checks the points table's ids and hashes against
 * s; 0 or -1 with err. */
static int open_tables(archive_t *a, const char *path, const spec_t *s,
		       char *err)
{
	const int np = s->npoints;
	archive_point_row_t *rows = NULL;
	int rc = -1;
	a->table_ds = H5Dopen2(a->file, SCHEMA_POINTS_TABLE, H5P_DEFAULT);
	a->status_ds = H5Dopen2(a->file, SCHEMA_STATUS, H5P_DEFAULT);
	a->prov_ds = H5Dopen2(a->file, SCHEMA_PROVENANCE, H5P_DEFAULT);
	if (H5Lexists(a->file, SCHEMA_HISTORY, H5P_DEFAULT) > 0)
		a->hist_ds = H5Dopen2(a->file, SCHEMA_HISTORY, H5P_DEFAULT);
	if (a->table_ds < 0 || a->status_ds < 0 || a->prov_ds < 0)
		return h5x_err(err, "archive: opening the tables");
	rows = calloc((size_t)np + 1, sizeof *rows);
	if (!rows)
		return eu_err(err, "archive: out of memory");
	if (H5Dread(a->table_ds, a->table_t, H5S_ALL, H5S_ALL, H5P_DEFAULT,
		    rows) < 0) {
		h5x_err(err, "archive: reading the points table");
		goto out;
	}
	for (int i = 0; i < np; i++)
		if (rows[i].id != i || strcmp(rows[i].hash, s->points[i].hash_hex)) {
			eu_err(err, "'%s': point %d has hash %s in the archive "
				    "but %s in its spec as this kapitza reads it",
			       path, i, rows[i].hash, s->points[i].hash_hex);
			goto out;
		}
	rc = 0;
out:
	free(rows);
	return rc;
}

/* Rank-local checks of an opened file against s, opening every table and
 * dataset; 0 or -1 with err. */
static int check_open(archive_t *a, const char *path, const spec_t *s,
		      char *err)
{
	hid_t pts = -1;
	int rc = -1;
	if (check_root(a, path, s, err) ||
	    archive_check_tables(a->file, path, s->npoints, err) ||
	    open_tables(a, path, s, err))
		return -1;
	pts = H5Gopen2(a->file, SCHEMA_POINTS, H5P_DEFAULT);
	if (pts < 0)
		return h5x_err(err, "archive: opening /" SCHEMA_POINTS);
	for (int i = 0; i < s->npoints; i++) {
		char name[32];
		snprintf(name, sizeof name, "%d", i);
		hid_t g = H5Gopen2(pts, name, H5P_DEFAULT);
		if (g < 0) {
			h5x_err(err, "archive: opening a point group");
			goto out;
		}
		char why[160] = "";
		int bad = open_point_ds(a, g, i, &s->points[i], why,
					sizeof why);
		H5Gclose(g);
		if (bad) {
			eu_err(err, "'%s': /" SCHEMA_POINTS "/%d/%s %s", path, i,
			       archive_ds_def(a, i, bad - 1)->name, why);
			goto out;
		}
	}
	rc = 0;
out:
	H5Gclose(pts);
	return rc;
}

int archive_open(archive_t **ap, MPI_Comm comm, const char *path,
		 const spec_t *s, char *err)
{
	archive_t *a = NULL;
	hid_t fapl = -1;
	int rc = 0;

	*ap = NULL;
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	a = archive_alloc(comm, s);
	if (!a)
		rc = eu_err(err, "archive: out of memory");
	if ((rc = agree(comm, rc, err)))
		goto out;
	rc = setup_types(a, &fapl, err);
	if (!rc)
		rc = h5x_check_regular(path, err);
	/* access() sees read-only modes and the immutable attribute (even for
	 * root), which MPI-IO would only report as an unnamed error */
	if (!rc && access(path, W_OK))
		rc = eu_err(err, "cannot open archive '%s' for writing: %s "
				 "(a read-only or immutable file?)",
			    path, strerror(errno));
	if ((rc = agree(comm, rc, err)))
		goto out;
	a->file = H5Fopen(path, H5F_ACC_RDWR, fapl);
	if (a->file < 0) {
		char why[EU_ERRLEN];
		h5x_why(why);
		rc = eu_err(err, "cannot open archive '%s'%s%s", path,
			  why[0] ? ": " : "", why);
	}
	if ((rc = agree(comm, rc, err)))
		goto out;
	rc = check_open(a, path, s, err);
	rc = agree(comm, rc, err);
out:
	if (fapl >= 0)
		H5Pclose(fapl);
	if (rc) {
		archive_destroy(&a, NULL);
		return rc;
	}
	*ap = a;
	return 0;
}

int archive_destroy(archive_t **ap, char *err)
{
	archive_t *a = ap ? *ap : NULL;
	int rc = 0;
	if (!a)
		return 0;
	if (a->ds)
		for (size_t k = 0; k < (size_t)a->npoints * NDS; k++)
			if (a->ds[k] >= 0)
				H5Dclose(a->ds[k]);
	hid_t dsets[] = {a->table_ds, a->status_ds, a->prov_ds, a->hist_ds};
	hid_t types[] = {a->status_t, a->prov_t, a->table_t, a->hist_t,
			 a->cplx_t};
	for (size_t k = 0; k < sizeof dsets / sizeof *dsets; k++)
		if (dsets[k] >= 0)
			H5Dclose(dsets[k]);
	for (size_t k = 0; k < sizeof types / sizeof *types; k++)
		if (types[k] >= 0)
			H5Tclose(types[k]);
	if (a->dxpl >= 0)
		H5Pclose(a->dxpl);
	if (a->file >= 0 && H5Fclose(a->file) < 0)
		rc = h5x_err(err, "archive: closing the archive");
	free(a->ds);
	free(a->L);
	free(a->nmeas);
	free(a->measure);
	free(a->nbeta);
	free(a);
	*ap = NULL;
	return rc;
}

