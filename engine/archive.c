/* archive: the sweep's parallel-HDF5 file.  Layout and the reasons for it are
 * in archive.h and engine/ARCHIVE.md; this file keeps them in one place:
 *
 *   /                      attributes: format, format_version,
 *                          kapitza_version, sweep, spec_text, spec_hash,
 *                          created, npoints, units
 *   /points_table[np]      compound: id, hash, every parameter, cost
 *   /status[np]            compound: state (enum), attempt, rank, rows,
 *                          t_reached, wall_s, max_discarded, max_bond_dim,
 *                          message
 *   /provenance[np]        compound: who ran the point, where, with what
 *   /history[np][16]       compound: one slot per attempt (resubmission)
 *   /points/<id>/          attributes: the point's parameters
 *        time[n] sz[n][L] energy[n][L-1] energy_current[n][L-1]
 *        spin_current[n][L-1] energy_flow[n][L] entropy[n][L-1]
 *        bond_dim[n][L-1] norm[n] discarded[n] discarded_max[n]
 *   /points/<id>/          a thermal table (state thermal_table):
 *        beta[nb] mu[nm] energy[nm][nb] sz[nm][nb] rho3[nm][nb][8][8]
 *        discarded[nm]
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
#include "eu.h"
#include "h5x.h"

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

static int read_attr_str(hid_t obj, const char *name, char *buf, size_t cap);

/* The per-point datasets, in the order of the table below. */
enum {
	DS_TIME,
	DS_SZ,
	DS_ENERGY,
	DS_ENERGY_CURRENT,
	DS_SPIN_CURRENT,
	DS_ENERGY_FLOW,
	DS_ENTROPY,
	DS_BOND_DIM,
	DS_NORM,
	DS_DISCARDED,
	DS_DISCARDED_MAX,
	DS_RHO3,
	NDS
};

/* cols: 0 = one value per row, 1 = L (sites), 2 = L-1 (bonds), 3 = L-2
 * three-site windows of 8x8 complex matrices.  mask: the SPEC_M_* flag that
 * asks for the dataset (0: always there). */
static const struct {
	const char *name;
	int cols;
	int is_int;
	unsigned mask;
	const char *units;
} dsinfo[NDS] = {
	{"time", 0, 0, 0, "hbar/J (J = 1, hbar = 1)"},
	{"sz", 1, 0, SPEC_M_MAGNETIZATION,
	 "hbar (J = 1, hbar = 1); <S^z_n> in [-1/2, 1/2]"},
	{"energy", 2, 0, SPEC_M_ENERGY, "J (J = 1, hbar = 1); E_n = <h_n>"},
	{"energy_current", 2, 0, SPEC_M_ENERGY_CURRENT,
	 "J^2/hbar (J = 1, hbar = 1); J^E_n = (j_n + j_{n+1})/2, positive "
	 "towards larger n"},
	{"spin_current", 2, 0, SPEC_M_SPIN_CURRENT,
	 "J (J = 1, hbar = 1); J^M_n = J <Sx_n Sy_{n+1} - Sy_n Sx_{n+1}>, "
	 "positive towards larger n"},
	{"energy_flow", 1, 0, SPEC_M_ENERGY_CURRENT,
	 "J^2/hbar (J = 1, hbar = 1); j_n = i<[h_{n-1}, h_n]>, energy flowing "
	 "from bond n-1 into bond n through site n; 0 at both ends"},
	{"entropy", 2, 0, SPEC_M_ENTROPY, "nats (natural log); von Neumann entropy of the cut "
			  "at bond n"},
	{"bond_dim", 2, 1, 0, "dimensionless; MPS bond dimension at bond n"},
	{"norm", 0, 0, 0, "dimensionless; sqrt<psi|psi> by full contraction"},
	{"discarded", 0, 0, 0,
	 "dimensionless; truncated weight summed over all updates since t = 0"},
	{"discarded_max", 0, 0, 0,
	 "dimensionless; largest weight discarded by a single update since "
	 "t = 0"},
	{"rho3", 3, 0, SPEC_M_RHO3,
	 "dimensionless; rho3[k, w, a, b] = <a|rho|b> of sites w, w+1, w+2 "
	 "(trace 1), basis a = 4 s_w + 2 s_{w+1} + s_{w+2}, s = 1 for up"},
};

/* The datasets of a thermal table's group (a point of state thermal_table),
 * in the slots of ds[] that an evolution point's datasets use.  cols: 0 the
 * beta grid [nbeta], written when the archive is created (not per row);
 * 1 one value per mu row; 2 nbeta values per row; 3 nbeta 8x8 complex
 * matrices per row.  mu is the row marker (as time is for a point): a
 * finite mu[j] means row j is complete. */
enum {
	TDS_BETA,
	TDS_MU,
	TDS_ENERGY,
	TDS_SZ,
	TDS_RHO3,
	TDS_DISCARDED,
	NTDS
};
_Static_assert((int)NTDS <= (int)NDS,
	       "a table's datasets use the slots of a point's");

static const struct {
	const char *name;
	int cols;
	const char *units;
	const char *index0;
} tdsinfo[NTDS] = {
	{"beta", 0, "1/J (J = 1)",
	 "the grid: beta[i] is column i of energy, sz and rho3"},
	{"mu", 1, "J (J = 1)",
	 "row j holds the table at mu = mu[j]; NaN: row j not written"},
	{"energy", 2,
	 "J (J = 1); site-centred energy e = (<h_{c-1,c}> + <h_{c,c+1}>)/2 "
	 "of the purified chain's centre site c",
	 "energy[j][i]: mu[j], beta[i]"},
	{"sz", 2, "hbar (J = 1, hbar = 1); <S^z_c> of the centre site c",
	 "sz[j][i]: mu[j], beta[i]"},
	{"rho3", 3,
	 "dimensionless; rho3[j][i][a][b] = <a|rho|b> of the centre three "
	 "sites (trace 1), basis a = 4 s0 + 2 s1 + s2, s = 1 for up",
	 "rho3[j][i]: mu[j], beta[i]"},
	{"discarded", 1,
	 "dimensionless; truncated weight summed over the table's "
	 "imaginary-time runs",
	 "discarded[j]: the runs of rows 0..j; the last row holds the "
	 "table's total"},
};

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

/* ---- errors ------------------------------------------------------------ */

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
	/* innermost first (H5E_WALK_UPWARD): keep the first description */
	char *buf = data;
	if (n == 0 && e->desc)
		snprintf(buf, 256, "%s", e->desc);
	return 0;
}

/* The innermost message of the current HDF5 error stack ("" if none). */
static void h5why(char *buf)
{
	buf[0] = 0;
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, buf);
}

static int h5err(char *err, const char *what)
{
	char why[256];
	h5why(why);
	return eu_err(err, "%s%s%s", what, why[0] ? ": " : "", why);
}

/* Ranks agree: returns the smallest rc over comm (0 if all ok); when this
 * rank was fine but another was not, err says so. */
static int agree(MPI_Comm comm, int rc, char *err)
{
	int all = rc;
	MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm);
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

/* ---- types ------------------------------------------------------------- */

static hid_t state_enum_type(void)
{
	hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
	if (t < 0)
		return t;
	for (int8_t k = 0; k < ARCHIVE_NSTATES; k++)
		if (H5Tenum_insert(t, archive_state_name(k), &k) < 0) {
			H5Tclose(t);
			return -1;
		}
	return t;
}

static hid_t spec_state_enum_type(void)
{
	hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
	int8_t g = SPEC_STATE_GROUND, d = SPEC_STATE_DOMAIN_WALL,
	       th = SPEC_STATE_THERMAL;
	if (t < 0)
		return t;
	/* archives from before the thermal tables have the first two only;
	 * HDF5 converts enums by name, so they still read */
	if (H5Tenum_insert(t, spec_state_name(g), &g) < 0 ||
	    H5Tenum_insert(t, spec_state_name(d), &d) < 0 ||
	    H5Tenum_insert(t, spec_state_name(th), &th) < 0) {
		H5Tclose(t);
		return -1;
	}
	return t;
}


static hid_t status_type(void)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(archive_status_t));
	hid_t e = state_enum_type(), s = h5x_str_type(ARCHIVE_MSGLEN);
	int ok = t >= 0 && e >= 0 && s >= 0;
	if (ok) {
		H5X_INS(t, ok, archive_status_t, state, e);
		H5X_INS(t, ok, archive_status_t, attempt, H5T_NATIVE_INT32);
		H5X_INS(t, ok, archive_status_t, rank, H5T_NATIVE_INT32);
		H5X_INS(t, ok, archive_status_t, rows, H5T_NATIVE_INT32);
		H5X_INS(t, ok, archive_status_t, t_reached, H5T_NATIVE_DOUBLE);
		H5X_INS(t, ok, archive_status_t, wall_s, H5T_NATIVE_DOUBLE);
		H5X_INS(t, ok, archive_status_t, max_discarded, H5T_NATIVE_DOUBLE);
		H5X_INS(t, ok, archive_status_t, max_bond_dim, H5T_NATIVE_INT32);
		H5X_INS(t, ok, archive_status_t, message, s);
		H5X_INS(t, ok, archive_status_t, t_resumed, H5T_NATIVE_DOUBLE);
	}
	if (e >= 0)
		H5Tclose(e);
	if (s >= 0)
		H5Tclose(s);
	if (!ok && t >= 0) {
		H5Tclose(t);
		t = -1;
	}
	return t;
}

static hid_t table_type(void)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(archive_point_row_t));
	hid_t e = spec_state_enum_type(), s = h5x_str_type(17);
	int ok = t >= 0 && e >= 0 && s >= 0;
	if (ok) {
		H5X_INS(t, ok, archive_point_row_t, id, H5T_NATIVE_INT32);
		H5X_INS(t, ok, archive_point_row_t, hash, s);
		H5X_INS(t, ok, archive_point_row_t, L, H5T_NATIVE_INT32);
		H5X_INS(t, ok, archive_point_row_t, J, H5T_NATIVE_DOUBLE);
		H5X_INS(t, ok, archive_point_row_t, delta_left, H5T_NATIVE_DOUBLE);
		H5X_INS(t, ok, archive_point_row_t, delta_right, H5T_NATIVE_DOUBLE);
		H5X_INS(t, ok, archive_point_row_t, gamma_right, H5T_NATIVE_DOUBLE);
		H5X_INS(t, ok, archive_point_row_t, state, e);
		H5X_INS(t, ok, archive_point_row_t, dt, H5T_NATIVE_DOUBLE);
		H5X_INS(t, ok, archive_point_row_t, t_max, H5T_NATIVE_DOUBLE);
		H5X_INS(t, ok, archive_point_row_t, measure_every,
		    H5T_NATIVE_DOUBLE);
		H5X_INS(t, ok, archive_point_row_t, order, H5T_NATIVE_INT32);
		H5X_INS(t, ok, archive_point_row_t, chi_max, H5T_NATIVE_INT32);
		H5X_INS(t, ok, archive_point_row_t, cutoff, H5T_NATIVE_DOUBLE);
		H5X_INS(t, ok, archive_point_row_t, n_measure, H5T_NATIVE_INT32);
		H5X_INS(t, ok, archive_point_row_t, steps_per_measure,
		    H5T_NATIVE_INT32);
		H5X_INS(t, ok, archive_point_row_t, measure, H5T_NATIVE_UINT32);
		H5X_INS(t, ok, archive_point_row_t, cost, H5T_NATIVE_DOUBLE);
	}
	if (e >= 0)
		H5Tclose(e);
	if (s >= 0)
		H5Tclose(s);
	if (!ok && t >= 0) {
		H5Tclose(t);
		t = -1;
	}
	return t;
}

static hid_t prov_type(void)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(archive_prov_t));
	int ok = t >= 0;
#define INSS(f)                                                          \
	do {                                                             \
		hid_t s_ = h5x_str_type(sizeof(((archive_prov_t *)0)->f));   \
		ok = ok && s_ >= 0 &&                                    \
		     H5Tinsert(t, #f, HOFFSET(archive_prov_t, f), s_) >= 0; \
		if (s_ >= 0)                                             \
			H5Tclose(s_);                                    \
	} while (0)
	H5X_INS(t, ok, archive_prov_t, attempt, H5T_NATIVE_INT32);
	H5X_INS(t, ok, archive_prov_t, mpi_size, H5T_NATIVE_INT32);
	H5X_INS(t, ok, archive_prov_t, rank, H5T_NATIVE_INT32);
	H5X_INS(t, ok, archive_prov_t, threads, H5T_NATIVE_INT32);
	INSS(host);
	INSS(omp_num_threads);
	INSS(openblas_num_threads);
	INSS(slurm_job_id);
	INSS(slurm_array_task_id);
	INSS(start_time);
	INSS(end_time);
	H5X_INS(t, ok, archive_prov_t, wall_s, H5T_NATIVE_DOUBLE);
	INSS(version);
	INSS(compiler);
#undef INSS
	if (!ok && t >= 0) {
		H5Tclose(t);
		t = -1;
	}
	return t;
}

static hid_t history_type(void)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(archive_history_t));
	hid_t e = state_enum_type();
	hid_t sj = h5x_str_type(48), st = h5x_str_type(32), sm = h5x_str_type(ARCHIVE_HMSGLEN);
	int ok = t >= 0 && e >= 0 && sj >= 0 && st >= 0 && sm >= 0;
	if (ok) {
		H5X_INS(t, ok, archive_history_t, attempt, H5T_NATIVE_INT32);
		H5X_INS(t, ok, archive_history_t, outcome, e);
		H5X_INS(t, ok, archive_history_t, rank, H5T_NATIVE_INT32);
		H5X_INS(t, ok, archive_history_t, mpi_size, H5T_NATIVE_INT32);
		H5X_INS(t, ok, archive_history_t, job, sj);
		H5X_INS(t, ok, archive_history_t, start_time, st);
		H5X_INS(t, ok, archive_history_t, end_time, st);
		H5X_INS(t, ok, archive_history_t, t_resumed, H5T_NATIVE_DOUBLE);
		H5X_INS(t, ok, archive_history_t, t_reached, H5T_NATIVE_DOUBLE);
		H5X_INS(t, ok, archive_history_t, rows, H5T_NATIVE_INT32);
		H5X_INS(t, ok, archive_history_t, wall_s, H5T_NATIVE_DOUBLE);
		H5X_INS(t, ok, archive_history_t, message, sm);
	}
	if (e >= 0)
		H5Tclose(e);
	if (sj >= 0)
		H5Tclose(sj);
	if (st >= 0)
		H5Tclose(st);
	if (sm >= 0)
		H5Tclose(sm);
	if (!ok && t >= 0) {
		H5Tclose(t);
		t = -1;
	}
	return t;
}

/* ---- attributes (collective when the file is parallel) --------------- */

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
static hid_t create_table2(hid_t file, const char *name, hid_t t, hsize_t n,
			   hsize_t cols, const void *fill)
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
	    (fill && H5Pset_fill_value(dcpl, t, fill) < 0))
		goto out;
	d = H5Dcreate2(file, name, t, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
out:
	if (sp >= 0)
		H5Sclose(sp);
	if (dcpl >= 0)
		H5Pclose(dcpl);
	return d;
}

static hid_t create_table(hid_t file, const char *name, hid_t t, hsize_t n,
			  const void *fill)
{
	return create_table2(file, name, t, n, 0, fill);
}

static const char *site_index0 =
	"index 0 is site n = -L/2+1 (paper labels: index i is site "
	"n = i - L/2 + 1; the junction is between sites n = 0 and n = 1)";
static const char *bond_index0 =
	"index 0 is bond n = -L/2+1 (bond n joins sites n and n+1; index i is "
	"bond n = i - L/2 + 1; the junction is bond n = 0, index L/2-1)";

/* A dataset creation property list: contiguous, space allocated now, the
 * fill value recorded (type t) but written by fill_points(): HDF5's own
 * fill-at-allocation is a collective write per dataset, which made
 * creation ~5x slower on 4 ranks; fill_points() spreads the same bytes
 * over the ranks with independent writes. */
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

/* dcpl[] of create_point: [0] doubles, [1] integers, [2] complex; NaN (-1
 * for integers) marks rows not yet written (point_dcpl). */
enum { DCPL_DOUBLE, DCPL_INT, DCPL_CPLX, NDCPL };

/* A thermal table's attributes and datasets (tdsinfo) in its group g. */
static int table_datasets(hid_t g, const spec_point_t *p, hid_t cplx,
			  const hid_t *dcpl, hid_t *ds, char *err)
{
	const spec_thermal_t *t = p->thermal;
	if (h5x_attr_dbl(g, "delta", p->delta_right) ||
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
			 "computed by kapitza run as an item of the sweep"))
		return h5err(err, "archive: writing thermal table attributes");
	for (int k = 0; k < NTDS; k++) {
		hsize_t dims[4] = {(hsize_t)t->nmu, (hsize_t)t->nbeta, 8, 8};
		int rank = tdsinfo[k].cols == 3 ? 4 : tdsinfo[k].cols == 2 ? 2 : 1;
		if (tdsinfo[k].cols == 0)
			dims[0] = (hsize_t)t->nbeta;
		hid_t sp = H5Screate_simple(rank, dims, NULL);
		if (sp < 0)
			return h5err(err, "archive: creating a thermal table's "
					  "datasets");
		ds[k] = H5Dcreate2(g, tdsinfo[k].name,
				   k == TDS_RHO3 ? cplx : H5T_IEEE_F64LE, sp,
				   H5P_DEFAULT,
				   dcpl[k == TDS_RHO3 ? DCPL_CPLX : DCPL_DOUBLE],
				   H5P_DEFAULT);
		H5Sclose(sp);
		if (ds[k] < 0 ||
		    h5x_attr_str(ds[k], "units", tdsinfo[k].units) ||
		    h5x_attr_str(ds[k], "index0", tdsinfo[k].index0))
			return h5err(err, "archive: creating a thermal table's "
					  "datasets");
	}
	return 0;
}

/* A time-evolution point's attributes and datasets (dsinfo; -1 for the
 * observables the spec did not ask for) in its group g. */
static int evolution_datasets(hid_t g, const spec_point_t *p, hid_t cplx,
			      const hid_t *dcpl, hid_t *ds, char *err)
{
	if (h5x_attr_int(g, "L", p->L) || h5x_attr_dbl(g, "J", p->J) ||
	    h5x_attr_dbl(g, "delta_left", p->delta_left) ||
	    h5x_attr_dbl(g, "delta_right", p->delta_right) ||
	    h5x_attr_dbl(g, "gamma_right", p->gamma_right) ||
	    h5x_attr_dbl(g, "dt", p->dt) || h5x_attr_dbl(g, "t_max", p->t_max) ||
	    h5x_attr_dbl(g, "measure_every", p->measure_every) ||
	    h5x_attr_int(g, "order", p->order) ||
	    h5x_attr_int(g, "chi_max", p->chi_max) ||
	    h5x_attr_dbl(g, "cutoff", p->cutoff) ||
	    h5x_attr_int(g, "n_measure", p->n_measure) ||
	    h5x_attr_int(g, "first_site_n", -p->L / 2 + 1))
		return h5err(err, "archive: writing point attributes");
	for (int k = 0; k < NDS; k++) {
		hsize_t dims[4] = {(hsize_t)p->n_measure, 0, 8, 8};
		int rank = 1, kind = dsinfo[k].is_int ? DCPL_INT : DCPL_DOUBLE;
		hid_t ftype = dsinfo[k].is_int ? H5T_STD_I32LE : H5T_IEEE_F64LE;
		const char *idx0 =
			"row k is measurement k at t = time[k] = k * "
			"measure_every";
		if (dsinfo[k].mask && !(p->measure & dsinfo[k].mask))
			continue;
		if (dsinfo[k].cols == 1 || dsinfo[k].cols == 2) {
			rank = 2;
			dims[1] = (hsize_t)(dsinfo[k].cols == 1 ? p->L
								: p->L - 1);
			idx0 = dsinfo[k].cols == 1 ? site_index0 : bond_index0;
		} else if (dsinfo[k].cols == 3) {
			rank = 4;
			dims[1] = (hsize_t)(p->L - 2);
			kind = DCPL_CPLX;
			ftype = cplx;
			idx0 = "index 0 of axis 1 is the window of sites n = "
			       "-L/2+1, -L/2+2, -L/2+3 (window w starts at "
			       "site n = w - L/2 + 1)";
		}
		hid_t sp = H5Screate_simple(rank, dims, NULL);
		if (sp < 0)
			return h5err(err, "archive: creating a point's datasets");
		ds[k] = H5Dcreate2(g, dsinfo[k].name, ftype, sp, H5P_DEFAULT,
				   dcpl[kind], H5P_DEFAULT);
		H5Sclose(sp);
		if (ds[k] < 0 || h5x_attr_str(ds[k], "units", dsinfo[k].units) ||
		    h5x_attr_str(ds[k], "index0", idx0))
			return h5err(err, "archive: creating a point's datasets");
	}
	return 0;
}

/* Group /points/<id> with its attributes and datasets, a thermal table's
 * or a time-evolution point's; ids into ds[NDS], -1 where none. */
static int create_point(hid_t points, const spec_point_t *p, hid_t cplx,
			hid_t *ds, char *err)
{
	char name[32], canon[1024];
	hid_t g = -1, dcpl[NDCPL] = {-1, -1, -1};
	const double nan = NAN, cnan[2] = {NAN, NAN};
	const int32_t minus1 = -1;
	int rc = -1;

	for (int k = 0; k < NDS; k++)
		ds[k] = -1;
	if (p->state == SPEC_STATE_THERMAL && !p->thermal)
		return eu_err(err, "archive: thermal table %d without its "
				 "section",
			    p->id);
	snprintf(name, sizeof name, "%d", p->id);
	g = H5Gcreate2(points, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (g < 0) {
		h5err(err, "archive: creating group /points/<id>");
		goto out;
	}
	spec_point_canonical(p, canon, sizeof canon);
	if (h5x_attr_int(g, "id", p->id) || h5x_attr_str(g, "hash", p->hash_hex) ||
	    h5x_attr_str(g, "canonical", canon) ||
	    h5x_attr_str(g, "state", spec_state_name(p->state))) {
		h5err(err, "archive: writing point attributes");
		goto out;
	}
	dcpl[DCPL_DOUBLE] = point_dcpl(H5T_NATIVE_DOUBLE, &nan);
	dcpl[DCPL_INT] = point_dcpl(H5T_NATIVE_INT32, &minus1);
	dcpl[DCPL_CPLX] = point_dcpl(cplx, cnan);
	if (dcpl[DCPL_DOUBLE] < 0 || dcpl[DCPL_INT] < 0 || dcpl[DCPL_CPLX] < 0) {
		h5err(err, "archive: dataset creation properties");
		goto out;
	}
	rc = p->state == SPEC_STATE_THERMAL
		     ? table_datasets(g, p, cplx, dcpl, ds, err)
		     : evolution_datasets(g, p, cplx, dcpl, ds, err);
out:
	if (rc)
		for (int k = 0; k < NDS; k++)
			if (ds[k] >= 0) {
				H5Dclose(ds[k]);
				ds[k] = -1;
			}
	for (int k = 0; k < NDCPL; k++)
		if (dcpl[k] >= 0)
			H5Pclose(dcpl[k]);
	if (g >= 0)
		H5Gclose(g);
	return rc;
}

/* The memory type of dataset slot k of point p. */
enum { MT_DOUBLE, MT_INT, MT_CPLX };
static int ds_kind(const archive_t *a, int p, int k)
{
	if (a->nbeta[p])
		return k == TDS_RHO3 ? MT_CPLX : MT_DOUBLE;
	return dsinfo[k].is_int ? MT_INT
	       : dsinfo[k].cols == 3 ? MT_CPLX
				     : MT_DOUBLE;
}

/* Writes the fill value (NaN, -1, NaN+iNaN) into every dataset of the
 * points this rank owns for filling (id % size == rank), a block of rows at
 * a time (a row longer than the buffer -- a thermal table's rho3 row holds
 * nbeta x 64 complex numbers -- a block of its axis-1 entries at a time).
 * Independent; called before the collective flush.  A table's beta grid is
 * skipped: rank 0 writes the grid itself after the flush. */
static int fill_points(archive_t *a, char *err)
{
	enum { CAP = 1 << 16 }; /* elements per write: 512 kB of doubles */
	double *d = malloc(CAP * sizeof *d);
	int32_t *iv = malloc(CAP * sizeof *iv);
	int rc = -1;
	if (!d || !iv) {
		eu_err(err, "archive: out of memory");
		goto out;
	}
	for (int k = 0; k < CAP; k++) {
		d[k] = NAN;
		iv[k] = -1;
	}
	for (int p = a->rank; p < a->npoints; p += a->size) {
		for (int k = 0; k < NDS; k++) {
			hid_t ds = a->ds[(size_t)p * NDS + k];
			if (ds < 0 || (a->nbeta[p] && k == TDS_BETA))
				continue;
			const int kind = ds_kind(a, p, k);
			hid_t fs = H5Dget_space(ds);
			hsize_t dims[4] = {1, 1, 1, 1}, start[4] = {0, 0, 0, 0};
			int rank = fs < 0 ? -1 : H5Sget_simple_extent_dims(fs, dims, NULL);
			/* elements of the memory type per index of axis 0
			 * (a row) and per index of axis 1 */
			const hsize_t mult = kind == MT_CPLX ? 2 : 1;
			hsize_t row = mult, sub = mult;
			for (int j = 1; j < rank; j++)
				row *= dims[j];
			for (int j = 2; j < rank; j++)
				sub *= dims[j];
			const int split = rank >= 2 && row > CAP;
			const hsize_t per = split ? sub : row;
			const hsize_t blk = per >= CAP ? 1 : CAP / per;
			hid_t mt = kind == MT_INT    ? H5T_NATIVE_INT32
				   : kind == MT_CPLX ? a->cplx_t
						     : H5T_NATIVE_DOUBLE;
			const void *buf = kind == MT_INT ? (void *)iv : (void *)d;
			int ok = rank >= 1 && per <= CAP;
			for (hsize_t r0 = 0; ok && r0 < dims[0];
			     r0 += split ? 1 : blk)
				for (hsize_t c0 = 0; ok && c0 < dims[1];
				     c0 += split ? blk : dims[1]) {
					hsize_t cnt[4] = {1, dims[1], dims[2],
							  dims[3]};
					hsize_t mcount = 1;
					if (split)
						cnt[1] = dims[1] - c0 < blk
								 ? dims[1] - c0
								 : blk;
					else
						cnt[0] = dims[0] - r0 < blk
								 ? dims[0] - r0
								 : blk;
					for (int j = 0; j < rank; j++)
						mcount *= cnt[j];
					start[0] = r0;
					start[1] = c0;
					hid_t ms = H5Screate_simple(1, &mcount,
								    NULL);
					ok = ms >= 0 &&
					     H5Sselect_hyperslab(
						     fs, H5S_SELECT_SET, start,
						     NULL, cnt, NULL) >= 0 &&
					     H5Dwrite(ds, mt, ms, fs, a->dxpl,
						      buf) >= 0;
					if (ms >= 0)
						H5Sclose(ms);
				}
			if (fs >= 0)
				H5Sclose(fs);
			if (!ok) {
				h5err(err, "archive: writing the fill values");
				goto out;
			}
		}
	}
	rc = 0;
out:
	free(d);
	free(iv);
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
	a->status_t = status_type();
	a->prov_t = prov_type();
	a->table_t = table_type();
	a->hist_t = history_type();
	a->cplx_t = h5x_complex_type();
	a->dxpl = H5Pcreate(H5P_DATASET_XFER);
	*fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (a->status_t < 0 || a->prov_t < 0 || a->table_t < 0 ||
	    a->hist_t < 0 || a->cplx_t < 0 || a->dxpl < 0 || *fapl < 0 ||
	    H5Pset_dxpl_mpio(a->dxpl, H5FD_MPIO_INDEPENDENT) < 0 ||
	    H5Pset_fapl_mpio(*fapl, a->comm, MPI_INFO_NULL) < 0)
		return h5err(err, "archive: setting up HDF5 types and properties");
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

int archive_create_ex(archive_t **ap, MPI_Comm comm, const char *path,
		      const spec_t *s, const archive_create_opts_t *o,
		      char *err)
{
	archive_t *a = NULL;
	hid_t fapl = -1, points = -1;
	char created[32] = "", tmp[4096] = "";
	int rc = 0, have_tmp = 0, rank = 0;

	*ap = NULL;
	MPI_Comm_rank(comm, &rank);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	a = archive_alloc(comm, s);
	if (!a)
		rc = eu_err(err, "archive: out of memory");
	else if (s->text && strlen(s->text) > 60000)
		rc = eu_err(err, "archive: the spec text is %zu bytes; at most "
			       "60000 fit in an attribute",
			  strlen(s->text));
	else if (o->shard_count < 1 || o->shard_index < 0 ||
		 o->shard_index >= o->shard_count)
		rc = eu_err(err, "archive: shard %d of %d", o->shard_index,
			  o->shard_count);
	if ((rc = agree(comm, rc, err)))
		goto out;

	/* identical attribute values and names on every rank: rank 0's */
	if (rank == 0) {
		struct stat sb;
		eu_utc_now(created, sizeof created);
		if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path,
			     (long)getpid()) >= (int)sizeof tmp)
			rc = eu_err(err, "archive path too long: '%s'", path);
		else if (!o->force && stat(path, &sb) == 0)
			rc = eu_err(err, "cannot create archive '%s': it exists "
				       "(an existing archive is only replaced "
				       "with --force)",
				  path);
	}
	MPI_Bcast(created, sizeof created, MPI_CHAR, 0, comm);
	MPI_Bcast(tmp, sizeof tmp, MPI_CHAR, 0, comm);
	if ((rc = agree(comm, rc, err)))
		goto out;

	rc = setup_types(a, &fapl, err);
	if ((rc = agree(comm, rc, err)))
		goto out;

	a->file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
	if (a->file < 0) {
		char why[256];
		h5why(why);
		rc = eu_err(err, "cannot create archive '%s'%s%s%s", path,
			  why[0] ? ": " : "", why,
			  o->force ? "" : " (an existing archive is only "
					  "replaced with --force)");
	}
	have_tmp = a->file >= 0;
	if ((rc = agree(comm, rc, err)))
		goto out;

	if (root_attrs(a->file, s, created, o))
		rc = h5err(err, "archive: writing root attributes");
	if ((rc = agree(comm, rc, err)))
		goto out;

	{
		archive_status_t fill;
		archive_prov_t pfill;
		archive_history_t hfill;
		archive_status_init(&fill);
		archive_history_init(&hfill);
		memset(&pfill, 0, sizeof pfill);
		pfill.rank = -1;
		a->table_ds = create_table(a->file, "points_table", a->table_t,
					   (hsize_t)s->npoints, NULL);
		a->status_ds = create_table(a->file, "status", a->status_t,
					    (hsize_t)s->npoints, &fill);
		a->prov_ds = create_table(a->file, "provenance", a->prov_t,
					  (hsize_t)s->npoints, &pfill);
		a->hist_ds = create_table2(a->file, "history", a->hist_t,
					   (hsize_t)s->npoints, ARCHIVE_HISTORY,
					   &hfill);
		if (a->table_ds < 0 || a->status_ds < 0 || a->prov_ds < 0 ||
		    a->hist_ds < 0)
			rc = h5err(err, "archive: creating the tables");
		else if (h5x_attr_str(a->status_ds, "state_values",
				  "0 pending, 1 running, 2 done, 3 failed, "
				  "4 interrupted, 5 other-shard") ||
			 h5x_attr_str(a->status_ds, "index0",
				  "row k is point id k") ||
			 h5x_attr_str(a->hist_ds, "index0",
				  "history[k, j] is attempt j+1 of point id k "
				  "(attempts beyond the last column overwrite "
				  "it); attempt 0 marks an unused slot"))
			rc = h5err(err, "archive: writing table attributes");
	}
	if ((rc = agree(comm, rc, err)))
		goto out;

	points = H5Gcreate2(a->file, "points", H5P_DEFAULT, H5P_DEFAULT,
			    H5P_DEFAULT);
	if (points < 0)
		rc = h5err(err, "archive: creating /points");
	if ((rc = agree(comm, rc, err)))
		goto out;
	for (int i = 0; i < s->npoints; i++) {
		rc = create_point(points, &s->points[i], a->cplx_t,
				  a->ds + (size_t)i * NDS, err);
		if ((rc = agree(comm, rc, err)))
			goto out;
	}

	rc = fill_points(a, err);
	if ((rc = agree(comm, rc, err)))
		goto out;

	/* all metadata on disk now; from here on it never changes */
	if (H5Fflush(a->file, H5F_SCOPE_GLOBAL) < 0)
		rc = h5err(err, "archive: flushing the new archive");
	if ((rc = agree(comm, rc, err)))
		goto out;

	if (rank == 0) {
		archive_point_row_t *rows = calloc((size_t)s->npoints + 1,
						   sizeof *rows);
		if (!rows) {
			rc = eu_err(err, "archive: out of memory");
		} else {
			for (int i = 0; i < s->npoints; i++)
				row_from_point(&rows[i], &s->points[i]);
			if (H5Dwrite(a->table_ds, a->table_t, H5S_ALL, H5S_ALL,
				     a->dxpl, rows) < 0)
				rc = h5err(err, "archive: writing the points "
						"table");
			free(rows);
		}
		/* the tables' beta grids: data, but known from the spec, so
		 * every table group says what it is from the start */
		for (int i = 0; !rc && i < s->npoints; i++) {
			if (!a->nbeta[i])
				continue;
			if (H5Dwrite(a->ds[(size_t)i * NDS + TDS_BETA],
				     H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
				     a->dxpl, s->points[i].thermal->betas) < 0)
				rc = h5err(err, "archive: writing a thermal "
						"table's beta grid");
		}
		/* a shard's points of other shards say so from the start */
		for (int i = 0; !rc && o->in_shard && i < s->npoints; i++) {
			archive_status_t st;
			if (o->in_shard[i])
				continue;
			archive_status_init(&st);
			st.state = ARCHIVE_OTHER_SHARD;
			rc = archive_write_status(a, i, &st, err);
		}
	}
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
	if (points >= 0)
		H5Gclose(points);
	if (fapl >= 0)
		H5Pclose(fapl);
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

/* Opens the datasets of thermal table i (group g) into a->ds and checks
 * their shapes against p; 0, or 1 + the slot of the first that fails. */
static int open_table(archive_t *a, hid_t g, int i, const spec_point_t *p)
{
	const hsize_t nb = (hsize_t)p->thermal->nbeta,
		      nm = (hsize_t)p->thermal->nmu;
	for (int k = 0; k < NTDS; k++) {
		hid_t *d = &a->ds[(size_t)i * NDS + k];
		const int rank = tdsinfo[k].cols == 3   ? 4
				 : tdsinfo[k].cols == 2 ? 2
							: 1;
		const hsize_t want[4] = {tdsinfo[k].cols ? nm : nb, nb, 8, 8};
		hsize_t dims[4] = {0, 0, 0, 0};
		*d = H5Dopen2(g, tdsinfo[k].name, H5P_DEFAULT);
		hid_t sp = *d >= 0 ? H5Dget_space(*d) : -1;
		int r = sp >= 0 ? H5Sget_simple_extent_dims(sp, dims, NULL) : -1;
		if (sp >= 0)
			H5Sclose(sp);
		if (r != rank)
			return k + 1;
		for (int j = 0; j < rank; j++)
			if (dims[j] != want[j])
				return k + 1;
	}
	return 0;
}

/* Rank-local checks of an opened file against s; 0 or -1 with err. */
static int check_open(archive_t *a, const char *path, const spec_t *s,
		      char *err)
{
	char fmt[32] = "", hash[32] = "";
	int version = -1, np = -1, rc = -1;
	archive_point_row_t *rows = NULL;
	hid_t pts = -1;

	if (read_attr_str(a->file, "format", fmt, sizeof fmt) ||
	    strcmp(fmt, ARCHIVE_FORMAT))
		return eu_err(err, "'%s' is not a kapitza archive (no root "
				 "attribute format = \"%s\")",
			    path, ARCHIVE_FORMAT);
	if (h5x_attr_read_int(a->file, "format_version", &version) ||
	    version != ARCHIVE_FORMAT_VERSION)
		return eu_err(err, "'%s': archive format version %d, this "
				 "kapitza writes version %d",
			    path, version, ARCHIVE_FORMAT_VERSION);
	read_attr_str(a->file, "spec_hash", hash, sizeof hash);
	if (strcmp(hash, s->hash_hex))
		return eu_err(err, "'%s' is an archive of the spec with hash %s, "
				 "not of this spec (hash %s)",
			    path, hash, s->hash_hex);
	if (h5x_attr_read_int(a->file, "npoints", &np) || np != s->npoints)
		return eu_err(err, "'%s' has %d points, the spec %d", path, np,
			    s->npoints);
	a->table_ds = H5Dopen2(a->file, "points_table", H5P_DEFAULT);
	a->status_ds = H5Dopen2(a->file, "status", H5P_DEFAULT);
	a->prov_ds = H5Dopen2(a->file, "provenance", H5P_DEFAULT);
	if (H5Lexists(a->file, "history", H5P_DEFAULT) > 0)
		a->hist_ds = H5Dopen2(a->file, "history", H5P_DEFAULT);
	if (a->table_ds < 0 || a->status_ds < 0 || a->prov_ds < 0)
		return h5err(err, "archive: opening the tables");
	rows = calloc((size_t)np + 1, sizeof *rows);
	if (!rows)
		return eu_err(err, "archive: out of memory");
	if (H5Dread(a->table_ds, a->table_t, H5S_ALL, H5S_ALL, H5P_DEFAULT,
		    rows) < 0) {
		h5err(err, "archive: reading the points table");
		goto out;
	}
	for (int i = 0; i < np; i++)
		if (rows[i].id != i || strcmp(rows[i].hash, s->points[i].hash_hex)) {
			eu_err(err, "'%s': point %d has hash %s in the archive but "
				  "%s in its spec as this kapitza reads it",
			     path, i, rows[i].hash, s->points[i].hash_hex);
			goto out;
		}
	pts = H5Gopen2(a->file, "points", H5P_DEFAULT);
	if (pts < 0) {
		h5err(err, "archive: opening /points");
		goto out;
	}
	for (int i = 0; i < np; i++) {
		const spec_point_t *p = &s->points[i];
		char name[32];
		hid_t g;
		snprintf(name, sizeof name, "%d", i);
		g = H5Gopen2(pts, name, H5P_DEFAULT);
		if (g < 0) {
			h5err(err, "archive: opening a point group");
			goto out;
		}
		if (a->nbeta[i]) {
			int bad = open_table(a, g, i, p);
			H5Gclose(g);
			if (bad) {
				eu_err(err, "'%s': /points/%d/%s is missing or has "
					  "the wrong shape",
				     path, i, tdsinfo[bad - 1].name);
				goto out;
			}
			continue;
		}
		for (int k = 0; k < NDS; k++) {
			hid_t *d = &a->ds[(size_t)i * NDS + k];
			hsize_t dims[4] = {0, 0, 0, 0};
			hsize_t want = dsinfo[k].cols == 1   ? (hsize_t)p->L
				       : dsinfo[k].cols == 2 ? (hsize_t)p->L - 1
				       : dsinfo[k].cols == 3 ? (hsize_t)p->L - 2
							     : 0;
			if (dsinfo[k].mask && !(p->measure & dsinfo[k].mask))
				continue;
			*d = H5Dopen2(g, dsinfo[k].name, H5P_DEFAULT);
			hid_t sp = *d >= 0 ? H5Dget_space(*d) : -1;
			int r = sp >= 0 ? H5Sget_simple_extent_dims(sp, dims,
								     NULL)
					: -1;
			if (sp >= 0)
				H5Sclose(sp);
			if (r < 1 || dims[0] != (hsize_t)p->n_measure ||
			    (want && dims[1] != want)) {
				H5Gclose(g);
				eu_err(err, "'%s': /points/%d/%s is missing or has "
					  "the wrong shape",
				     path, i, dsinfo[k].name);
				goto out;
			}
		}
		H5Gclose(g);
	}
	rc = 0;
out:
	if (pts >= 0)
		H5Gclose(pts);
	free(rows);
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
	if ((rc = agree(comm, rc, err)))
		goto out;
	a->file = H5Fopen(path, H5F_ACC_RDWR, fapl);
	if (a->file < 0) {
		char why[256];
		h5why(why);
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
	if (a->table_ds >= 0)
		H5Dclose(a->table_ds);
	if (a->status_ds >= 0)
		H5Dclose(a->status_ds);
	if (a->prov_ds >= 0)
		H5Dclose(a->prov_ds);
	if (a->hist_ds >= 0)
		H5Dclose(a->hist_ds);
	if (a->status_t >= 0)
		H5Tclose(a->status_t);
	if (a->prov_t >= 0)
		H5Tclose(a->prov_t);
	if (a->table_t >= 0)
		H5Tclose(a->table_t);
	if (a->hist_t >= 0)
		H5Tclose(a->hist_t);
	if (a->cplx_t >= 0)
		H5Tclose(a->cplx_t);
	if (a->dxpl >= 0)
		H5Pclose(a->dxpl);
	if (a->file >= 0 && H5Fclose(a->file) < 0)
		rc = h5err(err, "archive: closing the archive");
	free(a->ds);
	free(a->L);
	free(a->nmeas);
	free(a->measure);
	free(a->nbeta);
	free(a);
	*ap = NULL;
	return rc;
}

/* ---- independent writes ------------------------------------------------ */

/* Writes rows row0 .. row0+n-1 of d, whole (every other axis), from the
 * contiguous buf of memory type mtype. */
static int write_rows(archive_t *a, hid_t d, int row0, int n, hid_t mtype,
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
	if (write_rows(a, ds[TDS_ENERGY], row0, n, H5T_NATIVE_DOUBLE, e) ||
	    write_rows(a, ds[TDS_SZ], row0, n, H5T_NATIVE_DOUBLE, sz) ||
	    write_rows(a, ds[TDS_RHO3], row0, n, a->cplx_t, rho) ||
	    write_rows(a, ds[TDS_DISCARDED], row0, n, H5T_NATIVE_DOUBLE,
		       discarded) ||
	    write_rows(a, ds[TDS_MU], row0, n, H5T_NATIVE_DOUBLE, mu))
		return h5err(err, "archive: writing thermal table rows");
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
	if (write_rows(a, ds[TDS_MU], from, n, H5T_NATIVE_DOUBLE, d) ||
	    write_rows(a, ds[TDS_DISCARDED], from, n, H5T_NATIVE_DOUBLE, d))
		goto fail;
	for (int row = from; row < a->nmeas[point]; row++)
		if (write_rows(a, ds[TDS_ENERGY], row, 1, H5T_NATIVE_DOUBLE,
			       d) ||
		    write_rows(a, ds[TDS_SZ], row, 1, H5T_NATIVE_DOUBLE, d) ||
		    write_rows(a, ds[TDS_RHO3], row, 1, a->cplx_t, d))
			goto fail;
	rc = 0;
	goto out;
fail:
	h5err(err, "archive: clearing a thermal table's rows");
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
		    write_rows(a, ds[w[j].k], row, 1, w[j].mt, w[j].buf))
			return h5err(err, "archive: writing a measurement row");
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
	if (write_rows(a, a->ds[(size_t)point * NDS + DS_RHO3], row, 1,
		       a->cplx_t, rho))
		return h5err(err, "archive: writing rho3");
	return 0;
}

static int write_table_row(archive_t *a, hid_t d, hid_t t, int point,
			   const void *row, char *err, const char *what)
{
	hsize_t start = (hsize_t)point, count = 1;
	hid_t fs = -1, ms = -1;
	int rc = -1;
	if (point < 0 || point >= a->npoints)
		return eu_err(err, "archive: point %d out of range", point);
	fs = H5Dget_space(d);
	ms = H5Screate_simple(1, &count, NULL);
	if (fs < 0 || ms < 0 ||
	    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count,
				NULL) < 0 ||
	    H5Dwrite(d, t, ms, fs, a->dxpl, row) < 0) {
		h5err(err, what);
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
	hsize_t start[2] = {(hsize_t)point, (hsize_t)slot}, count[2] = {1, 1};
	hsize_t one = 1;
	hid_t fs = -1, ms = -1;
	int rc = -1;
	if (a->hist_ds < 0)
		return 0; /* an archive from before /history: nothing kept */
	if (point < 0 || point >= a->npoints || slot < 0 ||
	    slot >= ARCHIVE_HISTORY)
		return eu_err(err, "archive: history slot %d of point %d out of "
				 "range",
			    slot, point);
	fs = H5Dget_space(a->hist_ds);
	ms = H5Screate_simple(1, &one, NULL);
	if (fs < 0 || ms < 0 ||
	    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count,
				NULL) < 0 ||
	    H5Dwrite(a->hist_ds, a->hist_t, ms, fs, a->dxpl, h) < 0) {
		h5err(err, "archive: writing a history row");
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

int archive_clear_rows(archive_t *a, int point, int from, char *err)
{
	double *d = NULL;
	int32_t *iv = NULL;
	size_t cap;
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
	cap = (size_t)(a->L[point] > 2 ? a->L[point] - 2 : 1) * 128 +
	      (size_t)a->L[point];
	d = malloc(cap * sizeof *d);
	iv = malloc(cap * sizeof *iv);
	if (!d || !iv) {
		eu_err(err, "archive: out of memory");
		goto out;
	}
	for (size_t k = 0; k < cap; k++) {
		d[k] = NAN;
		iv[k] = -1;
	}
	/* time first: afterwards no cleared row looks complete */
	for (int row = from; row < a->nmeas[point]; row++)
		for (int k = 0; k < NDS; k++) {
			hid_t ds = a->ds[(size_t)point * NDS + k];
			const int kind = ds_kind(a, point, k);
			if (ds < 0)
				continue;
			if (write_rows(a, ds, row, 1,
				       kind == MT_INT    ? H5T_NATIVE_INT32
				       : kind == MT_CPLX ? a->cplx_t
							 : H5T_NATIVE_DOUBLE,
				       kind == MT_INT ? (void *)iv : (void *)d)) {
				h5err(err, "archive: clearing a row");
				goto out;
			}
		}
	rc = 0;
out:
	free(d);
	free(iv);
	return rc;
}

int archive_write_status(archive_t *a, int point, const archive_status_t *st,
			 char *err)
{
	return write_table_row(a, a->status_ds, a->status_t, point, st, err,
			       "archive: writing a status row");
}

int archive_write_provenance(archive_t *a, int point,
			     const archive_prov_t *pv, char *err)
{
	return write_table_row(a, a->prov_ds, a->prov_t, point, pv, err,
			       "archive: writing a provenance row");
}

/* ---- reading ----------------------------------------------------------- */

static int read_attr_str(hid_t obj, const char *name, char *buf, size_t cap)
{
	hid_t a = H5Aopen(obj, name, H5P_DEFAULT), ft = -1, mt = -1;
	char *tmp = NULL;
	int rc = -1;
	buf[0] = 0;
	if (a < 0)
		goto out;
	ft = H5Aget_type(a);
	if (ft < 0 || H5Tget_class(ft) != H5T_STRING || H5Tis_variable_str(ft))
		goto out;
	size_t n = H5Tget_size(ft);
	mt = h5x_str_type(n + 1);
	tmp = calloc(n + 2, 1);
	if (mt < 0 || !tmp || H5Aread(a, mt, tmp) < 0)
		goto out;
	snprintf(buf, cap, "%s", tmp);
	rc = 0;
out:
	free(tmp);
	if (mt >= 0)
		H5Tclose(mt);
	if (ft >= 0)
		H5Tclose(ft);
	if (a >= 0)
		H5Aclose(a);
	return rc;
}

static int read_table(hid_t file, const char *name, hid_t t, int n, void *buf)
{
	hid_t d = H5Dopen2(file, name, H5P_DEFAULT), sp = -1;
	int rc = -1;
	if (d < 0)
		goto out;
	sp = H5Dget_space(d);
	if (sp < 0 || H5Sget_simple_extent_npoints(sp) != n)
		goto out;
	if (H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
		goto out;
	rc = 0;
out:
	if (sp >= 0)
		H5Sclose(sp);
	if (d >= 0)
		H5Dclose(d);
	return rc;
}

int archive_summary_read(archive_summary_t **sp, const char *path, char *err)
{
	archive_summary_t *s = NULL;
	hid_t fapl = -1, f = -1, st = -1, tt = -1, ht = -1;
	int rc = -1;

	*sp = NULL;
	/* HDF5 1.10 locks files by default; the writer (mpio) does not, and a
	 * reader must not wait for or block it */
	setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (fapl < 0 || H5Pset_fapl_sec2(fapl) < 0) {
		h5err(err, "archive: setting up the file access");
		goto out;
	}
#if H5_VERSION_GE(1, 10, 7)
	H5Pset_file_locking(fapl, 0, 1);
#endif
	f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
	if (f < 0) {
		char why[256];
		h5why(why);
		eu_err(err, "cannot open archive '%s'%s%s", path,
		     why[0] ? ": " : "", why);
		goto out;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		eu_err(err, "out of memory");
		goto out;
	}
	if (read_attr_str(f, "format", s->format, sizeof s->format) ||
	    strcmp(s->format, ARCHIVE_FORMAT)) {
		eu_err(err, "'%s' is not a kapitza archive (no root attribute "
			  "format = \"%s\")",
		     path, ARCHIVE_FORMAT);
		goto out;
	}
	if (h5x_attr_read_int(f, "format_version", &s->format_version) ||
	    s->format_version != ARCHIVE_FORMAT_VERSION) {
		eu_err(err, "'%s': archive format version %d, this kapitza reads "
			  "version %d",
		     path, s->format_version, ARCHIVE_FORMAT_VERSION);
		goto out;
	}
	read_attr_str(f, "kapitza_version", s->kapitza_version,
		      sizeof s->kapitza_version);
	read_attr_str(f, "sweep", s->sweep, sizeof s->sweep);
	read_attr_str(f, "spec_hash", s->spec_hash, sizeof s->spec_hash);
	read_attr_str(f, "created", s->created, sizeof s->created);
	if (h5x_attr_read_int(f, "npoints", &s->npoints) || s->npoints < 0) {
		eu_err(err, "'%s': no valid npoints attribute", path);
		goto out;
	}
	s->shard_index = 0;
	s->shard_count = 1;
	h5x_attr_read_int(f, "shard_index", &s->shard_index);
	h5x_attr_read_int(f, "shard_count", &s->shard_count);
	{
		size_t n = 0;
		hid_t at = H5Aopen(f, "spec_text", H5P_DEFAULT), ft = -1;
		if (at >= 0 && (ft = H5Aget_type(at)) >= 0)
			n = H5Tget_size(ft);
		if (ft >= 0)
			H5Tclose(ft);
		if (at >= 0)
			H5Aclose(at);
		s->spec_text = calloc(n + 2, 1);
		if (!s->spec_text ||
		    read_attr_str(f, "spec_text", s->spec_text, n + 2)) {
			eu_err(err, "'%s': no spec_text attribute", path);
			goto out;
		}
	}
	s->points = calloc((size_t)s->npoints + 1, sizeof *s->points);
	s->status = calloc((size_t)s->npoints + 1, sizeof *s->status);
	st = status_type();
	tt = table_type();
	ht = history_type();
	if (!s->points || !s->status || st < 0 || tt < 0 || ht < 0) {
		eu_err(err, "out of memory");
		goto out;
	}
	if (read_table(f, "points_table", tt, s->npoints, s->points) ||
	    read_table(f, "status", st, s->npoints, s->status)) {
		h5err(err, "archive: reading /points_table and /status");
		goto out;
	}
	if (H5Lexists(f, "history", H5P_DEFAULT) > 0) {
		s->history = calloc((size_t)s->npoints * ARCHIVE_HISTORY + 1,
				    sizeof *s->history);
		if (!s->history ||
		    read_table(f, "history", ht, s->npoints * ARCHIVE_HISTORY,
			       s->history)) {
			h5err(err, "archive: reading /history");
			goto out;
		}
	}
	rc = 0;
out:
	if (st >= 0)
		H5Tclose(st);
	if (tt >= 0)
		H5Tclose(tt);
	if (ht >= 0)
		H5Tclose(ht);
	if (f >= 0)
		H5Fclose(f);
	if (fapl >= 0)
		H5Pclose(fapl);
	if (rc)
		archive_summary_destroy(&s);
	*sp = s;
	return rc;
}

void archive_summary_destroy(archive_summary_t **sp)
{
	if (!sp || !*sp)
		return;
	free((*sp)->points);
	free((*sp)->status);
	free((*sp)->spec_text);
	free((*sp)->history);
	free((*sp)->rows_present);
	free((*sp)->conv);
	free(*sp);
	*sp = NULL;
}

/* Opens path read-only without locking (as archive_summary_read). */
static hid_t open_ro(const char *path, char *err)
{
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = -1;
	setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	if (fapl < 0 || H5Pset_fapl_sec2(fapl) < 0) {
		h5err(err, "archive: setting up the file access");
		goto out;
	}
#if H5_VERSION_GE(1, 10, 7)
	H5Pset_file_locking(fapl, 0, 1);
#endif
	f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
	if (f < 0) {
		char why[256];
		h5why(why);
		eu_err(err, "cannot open archive '%s'%s%s", path,
		     why[0] ? ": " : "", why);
	}
out:
	if (fapl >= 0)
		H5Pclose(fapl);
	return f;
}

/* The fields of /analysis/convergence that status shows, converted by name
 * from the file's compound (engine/POSTSTAGE.md); absent is not an error. */
static int read_convergence(hid_t f, archive_summary_t *s)
{
	free(s->conv);
	s->conv = NULL;
	s->nconv = 0;
	if (H5Lexists(f, "analysis", H5P_DEFAULT) <= 0 ||
	    H5Lexists(f, "analysis/convergence", H5P_DEFAULT) <= 0)
		return 0;
	hid_t d = H5Dopen2(f, "analysis/convergence", H5P_DEFAULT), sp = -1;
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(archive_convergence_t));
	int ok = d >= 0 && t >= 0, rc = -1;
	H5X_INS(t, ok, archive_convergence_t, point_id, H5T_NATIVE_INT);
	H5X_INS(t, ok, archive_convergence_t, ref_point_id, H5T_NATIVE_INT);
	H5X_INS(t, ok, archive_convergence_t, chi_max, H5T_NATIVE_INT);
	H5X_INS(t, ok, archive_convergence_t, ref_chi_max, H5T_NATIVE_INT);
	H5X_INS(t, ok, archive_convergence_t, tol, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, archive_convergence_t, t_all, H5T_NATIVE_DOUBLE);
	H5X_INS(t, ok, archive_convergence_t, full, H5T_NATIVE_INT);
	if (!ok || (sp = H5Dget_space(d)) < 0)
		goto out;
	hssize_t n = H5Sget_simple_extent_npoints(sp);
	if (n < 0)
		goto out;
	s->conv = calloc((size_t)n + 1, sizeof *s->conv);
	if (!s->conv ||
	    (n && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s->conv) < 0))
		goto out;
	s->nconv = (int)n;
	rc = 0;
out:
	if (sp >= 0)
		H5Sclose(sp);
	if (t >= 0)
		H5Tclose(t);
	if (d >= 0)
		H5Dclose(d);
	return rc;
}

int archive_summary_convergence(archive_summary_t *s, const char *path,
				char *err)
{
	hid_t f = open_ro(path, err);
	if (f < 0)
		return -1;
	int rc = read_convergence(f, s);
	if (rc)
		h5err(err, "archive: reading /analysis/convergence");
	H5Fclose(f);
	return rc;
}

int archive_summary_rows(archive_summary_t *s, const char *path, char *err)
{
	hid_t f = -1;
	double *t = NULL;
	int rc = -1, cap = 0;

	free(s->rows_present);
	s->rows_present = calloc((size_t)s->npoints + 1,
				 sizeof *s->rows_present);
	if (!s->rows_present)
		return eu_err(err, "out of memory");
	for (int k = 0; k < s->npoints; k++)
		cap = s->points[k].n_measure > cap ? s->points[k].n_measure
						   : cap;
	t = malloc(((size_t)cap + 1) * sizeof *t);
	if (!t) {
		eu_err(err, "out of memory");
		goto out;
	}
	f = open_ro(path, err);
	if (f < 0)
		goto out;
	for (int k = 0; k < s->npoints; k++) {
		char name[64];
		const int n = s->points[k].n_measure;
		hid_t d, sp;
		hssize_t got;
		if (s->status[k].state == ARCHIVE_DONE) {
			s->rows_present[k] = n;
			continue;
		}
		/* the row marker: time, or mu of a thermal table */
		snprintf(name, sizeof name, "points/%d/%s", k,
			 s->points[k].state == SPEC_STATE_THERMAL ? "mu"
								  : "time");
		d = H5Dopen2(f, name, H5P_DEFAULT);
		sp = d >= 0 ? H5Dget_space(d) : -1;
		got = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
		if (got != n || H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
					H5P_DEFAULT, t) < 0) {
			if (sp >= 0)
				H5Sclose(sp);
			if (d >= 0)
				H5Dclose(d);
			h5err(err, "archive: reading a point's times");
			goto out;
		}
		H5Sclose(sp);
		H5Dclose(d);
		int r = 0;
		while (r < n && isfinite(t[r]))
			r++;
		s->rows_present[k] = r;
	}
	rc = 0;
out:
	if (f >= 0)
		H5Fclose(f);
	free(t);
	return rc;
}
