/* schema: the archive's tables and datasets, declared once (schema.h). */
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>

#include "h5x.h"
#include "spec.h"

int schema_point_path(char *buf, size_t n, int id, const char *ds)
{
	int k = ds ? snprintf(buf, n, SCHEMA_POINTS "/%d/%s", id, ds)
		   : snprintf(buf, n, SCHEMA_POINTS "/%d", id);
	return k < 0 || (size_t)k >= n ? -1 : 0;
}

int schema_analysis_path(char *buf, size_t n, int id, const char *name)
{
	int k = id >= 0 ? snprintf(buf, n,
				   SCHEMA_ANALYSIS "/" SCHEMA_AN_POINTS
						   "/%d/%s",
				   id, name)
			: snprintf(buf, n, SCHEMA_ANALYSIS "/%s", name);
	return k < 0 || (size_t)k >= n ? -1 : 0;
}

/* ---- compound tables ---------------------------------------------------- */

/* One field of struct S: its name, offset, size and kind; FL: one added
 * after archives without it were written (readers accept its absence). */
#define FIELD(S, f, kind, late)                                           \
	{#f, offsetof(S, f), sizeof(((S *)0)->f), kind, late}
#define F(S, f, kind) FIELD(S, f, kind, 0)
#define FL(S, f, kind) FIELD(S, f, kind, 1)
#define TABLE(var, dsname, S, fields)                                     \
	const schema_table_t var = {dsname, sizeof(S), fields,            \
				    (int)(sizeof fields / sizeof *fields)}

static const schema_field_t status_f[] = {
	F(archive_status_t, state, SF_STATE),
	F(archive_status_t, attempt, SF_INT),
	F(archive_status_t, rank, SF_INT),
	F(archive_status_t, rows, SF_INT),
	F(archive_status_t, t_reached, SF_F64),
	F(archive_status_t, wall_s, SF_F64),
	F(archive_status_t, max_discarded, SF_F64),
	F(archive_status_t, max_bond_dim, SF_INT),
	F(archive_status_t, message, SF_STR),
	F(archive_status_t, t_resumed, SF_F64),
};
TABLE(schema_status, SCHEMA_STATUS, archive_status_t, status_f);

static const schema_field_t points_f[] = {
	F(archive_point_row_t, id, SF_INT),
	F(archive_point_row_t, hash, SF_STR),
	F(archive_point_row_t, L, SF_INT),
	F(archive_point_row_t, J, SF_F64),
	F(archive_point_row_t, delta_left, SF_F64),
	F(archive_point_row_t, delta_right, SF_F64),
	F(archive_point_row_t, gamma_right, SF_F64),
	F(archive_point_row_t, state, SF_SPEC_STATE),
	F(archive_point_row_t, dt, SF_F64),
	F(archive_point_row_t, t_max, SF_F64),
	F(archive_point_row_t, measure_every, SF_F64),
	F(archive_point_row_t, order, SF_INT),
	F(archive_point_row_t, chi_max, SF_INT),
	F(archive_point_row_t, cutoff, SF_F64),
	F(archive_point_row_t, n_measure, SF_INT),
	F(archive_point_row_t, steps_per_measure, SF_INT),
	F(archive_point_row_t, measure, SF_UINT),
	F(archive_point_row_t, cost, SF_F64),
};
TABLE(schema_points_table, SCHEMA_POINTS_TABLE, archive_point_row_t,
      points_f);

static const schema_field_t prov_f[] = {
	F(archive_prov_t, attempt, SF_INT),
	F(archive_prov_t, mpi_size, SF_INT),
	F(archive_prov_t, rank, SF_INT),
	F(archive_prov_t, threads, SF_INT),
	F(archive_prov_t, host, SF_STR),
	F(archive_prov_t, omp_num_threads, SF_STR),
	F(archive_prov_t, openblas_num_threads, SF_STR),
	F(archive_prov_t, slurm_job_id, SF_STR),
	F(archive_prov_t, slurm_array_task_id, SF_STR),
	F(archive_prov_t, start_time, SF_STR),
	F(archive_prov_t, end_time, SF_STR),
	F(archive_prov_t, wall_s, SF_F64),
	F(archive_prov_t, version, SF_STR),
	F(archive_prov_t, compiler, SF_STR),
};
TABLE(schema_provenance, SCHEMA_PROVENANCE, archive_prov_t, prov_f);

static const schema_field_t history_f[] = {
	F(archive_history_t, attempt, SF_INT),
	F(archive_history_t, outcome, SF_STATE),
	F(archive_history_t, rank, SF_INT),
	F(archive_history_t, mpi_size, SF_INT),
	F(archive_history_t, job, SF_STR),
	F(archive_history_t, start_time, SF_STR),
	F(archive_history_t, end_time, SF_STR),
	F(archive_history_t, t_resumed, SF_F64),
	F(archive_history_t, t_reached, SF_F64),
	F(archive_history_t, rows, SF_INT),
	F(archive_history_t, wall_s, SF_F64),
	F(archive_history_t, message, SF_STR),
	/* the team of an attempt came after the first archives with
	 * /history: theirs read as team_size 0, team_ranks "" */
	FL(archive_history_t, team_size, SF_INT),
	FL(archive_history_t, team_ranks, SF_STR),
};
TABLE(schema_history, SCHEMA_HISTORY, archive_history_t, history_f);

static const schema_field_t lc_f[] = {
	F(lc_row_t, point_id, SF_INT),
	F(lc_row_t, state, SF_INT),
	F(lc_row_t, L, SF_INT),
	F(lc_row_t, chi_max, SF_INT),
	F(lc_row_t, delta_left, SF_F64),
	F(lc_row_t, delta_right, SF_F64),
	F(lc_row_t, rows, SF_INT),
	F(lc_row_t, rows_found, SF_INT),
	F(lc_row_t, v_right, SF_F64),
	F(lc_row_t, v_right_sd, SF_F64),
	F(lc_row_t, c_right, SF_F64),
	F(lc_row_t, v_left, SF_F64),
	F(lc_row_t, v_left_sd, SF_F64),
	F(lc_row_t, c_left, SF_F64),
	/* came after the first /analysis tables: theirs lack them until fit
	 * runs again */
	FL(lc_row_t, v_right_win, SF_F64),
	FL(lc_row_t, v_left_win, SF_F64),
	FL(lc_row_t, discarded, SF_F64),
	F(lc_row_t, ok, SF_INT),
	F(lc_row_t, message, SF_STR),
};
TABLE(schema_lightcone, SCHEMA_AN_LIGHTCONE, lc_row_t, lc_f);

static const schema_field_t vf_f[] = {
	F(vf_row_t, group, SF_INT),
	F(vf_row_t, state, SF_INT),
	F(vf_row_t, L, SF_INT),
	F(vf_row_t, order, SF_INT),
	F(vf_row_t, chi_max, SF_INT),
	F(vf_row_t, J, SF_F64),
	F(vf_row_t, delta_left, SF_F64),
	F(vf_row_t, dt, SF_F64),
	F(vf_row_t, t_max, SF_F64),
	F(vf_row_t, measure_every, SF_F64),
	F(vf_row_t, cutoff, SF_F64),
	F(vf_row_t, npoints, SF_INT),
	F(vf_row_t, point_ids, SF_STR),
	F(vf_row_t, A, SF_F64),
	F(vf_row_t, A_sd, SF_F64),
	F(vf_row_t, B, SF_F64),
	F(vf_row_t, B_sd, SF_F64),
	F(vf_row_t, cov, SF_F64),
	F(vf_row_t, A_w, SF_F64),
	F(vf_row_t, A_w_sd, SF_F64),
	F(vf_row_t, B_w, SF_F64),
	F(vf_row_t, B_w_sd, SF_F64),
	F(vf_row_t, cov_w, SF_F64),
	F(vf_row_t, ok, SF_INT),
	F(vf_row_t, message, SF_STR),
};
TABLE(schema_velocity_fit, SCHEMA_AN_VELOCITY_FIT, vf_row_t, vf_f);

static const schema_field_t cv_f[] = {
	F(cv_row_t, point_id, SF_INT),
	F(cv_row_t, ref_point_id, SF_INT),
	F(cv_row_t, chi_max, SF_INT),
	F(cv_row_t, ref_chi_max, SF_INT),
	F(cv_row_t, tol, SF_F64),
	F(cv_row_t, t_energy, SF_F64),
	F(cv_row_t, t_energy_current, SF_F64),
	F(cv_row_t, t_sz, SF_F64),
	F(cv_row_t, t_spin_current, SF_F64),
	F(cv_row_t, t_entropy, SF_F64),
	F(cv_row_t, t_all, SF_F64),
	F(cv_row_t, full, SF_INT),
	F(cv_row_t, max_diff, SF_F64),
};
TABLE(schema_convergence, SCHEMA_AN_CONVERGENCE, cv_row_t, cv_f);

static const schema_field_t th_f[] = {
	F(th_row_t, point_id, SF_INT),
	F(th_row_t, with_mu, SF_INT),
	F(th_row_t, with_distance, SF_INT),
	F(th_row_t, values, SF_INT),
	F(th_row_t, finite, SF_INT),
	F(th_row_t, beyond_cold, SF_INT),
	F(th_row_t, beyond_hot, SF_INT),
	F(th_row_t, no_solution, SF_INT),
	F(th_row_t, d_max, SF_F64),
	F(th_row_t, beta_diff_max, SF_F64),
	F(th_row_t, message, SF_STR),
};
TABLE(schema_thermal_profiles, SCHEMA_AN_THERMAL_PROFILES, th_row_t, th_f);

/* the velocities' convergence in chi_max (chiconv.h); the ladder's
 * rung[] and group are working fields, not stored */
static const schema_field_t chi_f[] = {
	F(chiconv_ladder_t, ladder, SF_INT),
	F(chiconv_ladder_t, state, SF_INT),
	F(chiconv_ladder_t, L, SF_INT),
	F(chiconv_ladder_t, delta_left, SF_F64),
	F(chiconv_ladder_t, delta_right, SF_F64),
	F(chiconv_ladder_t, nrungs, SF_INT),
	F(chiconv_ladder_t, chi_list, SF_STR),
	F(chiconv_ladder_t, point_ids, SF_STR),
	F(chiconv_ladder_t, point_id, SF_INT),
	F(chiconv_ladder_t, chi_max, SF_INT),
	F(chiconv_ladder_t, prev_point_id, SF_INT),
	F(chiconv_ladder_t, prev_chi_max, SF_INT),
	F(chiconv_ladder_t, v_right, SF_F64),
	F(chiconv_ladder_t, v_right_sd, SF_F64),
	F(chiconv_ladder_t, v_left, SF_F64),
	F(chiconv_ladder_t, v_left_sd, SF_F64),
	F(chiconv_ladder_t, dv_right, SF_F64),
	F(chiconv_ladder_t, sd_right, SF_F64),
	F(chiconv_ladder_t, dv_left, SF_F64),
	F(chiconv_ladder_t, sd_left, SF_F64),
	F(chiconv_ladder_t, tol, SF_F64),
	F(chiconv_ladder_t, nsigma, SF_F64),
	F(chiconv_ladder_t, verdict, SF_INT),
	F(chiconv_ladder_t, used, SF_INT),
	F(chiconv_ladder_t, reason, SF_STR),
};
TABLE(schema_chi_verdict, SCHEMA_AN_CHI_VERDICT, chiconv_ladder_t, chi_f);

static const schema_field_t vfc_f[] = {
	F(chiconv_fit_t, group, SF_INT),
	F(chiconv_fit_t, state, SF_INT),
	F(chiconv_fit_t, L, SF_INT),
	F(chiconv_fit_t, delta_left, SF_F64),
	F(chiconv_fit_t, nladders, SF_INT),
	F(chiconv_fit_t, nused, SF_INT),
	F(chiconv_fit_t, used_ids, SF_STR),
	F(chiconv_fit_t, left_out, SF_STR),
	F(chiconv_fit_t, forced, SF_INT),
	F(chiconv_fit_t, A, SF_F64),
	F(chiconv_fit_t, A_sd, SF_F64),
	F(chiconv_fit_t, B, SF_F64),
	F(chiconv_fit_t, B_sd, SF_F64),
	F(chiconv_fit_t, cov, SF_F64),
	F(chiconv_fit_t, ok, SF_INT),
	F(chiconv_fit_t, message, SF_STR),
};
TABLE(schema_velocity_fit_chi, SCHEMA_AN_VELOCITY_FIT_CHI, chiconv_fit_t,
      vfc_f);

#undef F
#undef TABLE

const schema_table_t *const schema_analysis_tables[SCHEMA_AN_NTABLES] = {
	&schema_lightcone,        &schema_velocity_fit,
	&schema_convergence,      &schema_thermal_profiles,
	&schema_chi_verdict,      &schema_velocity_fit_chi};

/* An int8 enum of names[0..n-1] = 0..n-1. */
static hid_t enum_type(const char *(*name)(int), int n)
{
	hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
	for (int8_t k = 0; t >= 0 && k < n; k++)
		if (H5Tenum_insert(t, name(k), &k) < 0) {
			H5Tclose(t);
			return -1;
		}
	return t;
}

/* The HDF5 type of field f (caller closes it). */
static hid_t field_type(const schema_field_t *f)
{
	switch (f->kind) {
	case SF_INT:
		return H5Tcopy(f->size == 1 ? H5T_NATIVE_INT8
					    : H5T_NATIVE_INT32);
	case SF_UINT:
		return H5Tcopy(H5T_NATIVE_UINT32);
	case SF_F64:
		return H5Tcopy(H5T_NATIVE_DOUBLE);
	case SF_STR:
		return h5x_str_type(f->size);
	case SF_STATE:
		return enum_type(archive_state_name, ARCHIVE_NSTATES);
	case SF_SPEC_STATE:
		/* archives from before the thermal tables have the first two
		 * only; HDF5 converts enums by name, so they still read */
		return enum_type(spec_state_name, SPEC_STATE_THERMAL + 1);
	}
	return -1;
}

hid_t schema_type(const schema_table_t *t)
{
	hid_t c = H5Tcreate(H5T_COMPOUND, t->size);
	for (int k = 0; c >= 0 && k < t->nfields; k++) {
		const schema_field_t *f = &t->fields[k];
		hid_t ft = field_type(f);
		int ok = ft >= 0 && H5Tinsert(c, f->name, f->offset, ft) >= 0;
		if (ft >= 0)
			H5Tclose(ft);
		if (!ok) {
			H5Tclose(c);
			c = -1;
		}
	}
	return c;
}

/* ---- datasets ----------------------------------------------------------- */

const schema_ds_t schema_point_ds[NDS] = {
	{"time", SC_SCALAR, 0, 0, "hbar/J (J = 1, hbar = 1)", NULL},
	{"sz", SC_SITES, 0, SPEC_M_MAGNETIZATION,
	 "hbar (J = 1, hbar = 1); <S^z_n> in [-1/2, 1/2]", NULL},
	{"energy", SC_BONDS, 0, SPEC_M_ENERGY,
	 "J (J = 1, hbar = 1); E_n = <h_n>", NULL},
	{"energy_current", SC_BONDS, 0, SPEC_M_ENERGY_CURRENT,
	 "J^2/hbar (J = 1, hbar = 1); J^E_n = (j_n + j_{n+1})/2, positive "
	 "towards larger n",
	 NULL},
	{"spin_current", SC_BONDS, 0, SPEC_M_SPIN_CURRENT,
	 "J (J = 1, hbar = 1); J^M_n = J <Sx_n Sy_{n+1} - Sy_n Sx_{n+1}>, "
	 "positive towards larger n",
	 NULL},
	{"energy_flow", SC_SITES, 0, SPEC_M_ENERGY_CURRENT,
	 "J^2/hbar (J = 1, hbar = 1); j_n = i<[h_{n-1}, h_n]>, energy flowing "
	 "from bond n-1 into bond n through site n; 0 at both ends",
	 NULL},
	{"entropy", SC_BONDS, 0, SPEC_M_ENTROPY,
	 "nats (natural log); von Neumann entropy of the cut at bond n", NULL},
	{"bond_dim", SC_BONDS, 1, 0,
	 "dimensionless; MPS bond dimension at bond n", NULL},
	{"norm", SC_SCALAR, 0, 0,
	 "dimensionless; sqrt<psi|psi> by full contraction", NULL},
	{"discarded", SC_SCALAR, 0, 0,
	 "dimensionless; truncated weight summed over all updates since t = 0",
	 NULL},
	{"discarded_max", SC_SCALAR, 0, 0,
	 "dimensionless; largest weight discarded by a single update since "
	 "t = 0",
	 NULL},
	{"rho3", SC_WINDOWS, 0, SPEC_M_RHO3,
	 "dimensionless; rho3[k, w, a, b] = <a|rho|b> of sites w, w+1, w+2 "
	 "(trace 1), basis a = 4 s_w + 2 s_{w+1} + s_{w+2}, s = 1 for up",
	 "index 0 of axis 1 is the window of sites n = -L/2+1, -L/2+2, "
	 "-L/2+3 (window w starts at site n = w - L/2 + 1)"},
};

/* The beta grid is written when the archive is created (not per row); mu
 * is the row marker (as time is for a point): a finite mu[j] means row j
 * is complete. */
const schema_ds_t schema_table_ds[NTDS] = {
	{"beta", SC_GRID, 0, 0, "1/J (J = 1)",
	 "the grid: beta[i] is column i of energy, sz and rho3"},
	{"mu", SC_ROW, 0, 0, "J (J = 1)",
	 "row j holds the table at mu = mu[j]; NaN: row j not written"},
	{"energy", SC_BETA, 0, 0,
	 "J (J = 1); site-centred energy e = (<h_{c-1,c}> + <h_{c,c+1}>)/2 "
	 "of the purified chain's centre site c",
	 "energy[j][i]: mu[j], beta[i]"},
	{"sz", SC_BETA, 0, 0,
	 "hbar (J = 1, hbar = 1); <S^z_c> of the centre site c",
	 "sz[j][i]: mu[j], beta[i]"},
	{"rho3", SC_BETA_RHO, 0, 0,
	 "dimensionless; rho3[j][i][a][b] = <a|rho|b> of the centre three "
	 "sites (trace 1), basis a = 4 s0 + 2 s1 + s2, s = 1 for up",
	 "rho3[j][i]: mu[j], beta[i]"},
	{"discarded", SC_ROW, 0, 0,
	 "dimensionless; truncated weight summed over the table's "
	 "imaginary-time runs",
	 "discarded[j]: the runs of rows 0..j; the last row holds the "
	 "table's total"},
};

const char *schema_index0(const schema_ds_t *d)
{
	if (d->index0)
		return d->index0;
	if (d->cols == SC_SCALAR)
		return "row k is measurement k at t = time[k] = k * "
		       "measure_every";
	return d->cols == SC_SITES
		       ? "index 0 is site n = -L/2+1 (paper labels: index i is "
			 "site n = i - L/2 + 1; the junction is between sites "
			 "n = 0 and n = 1)"
		       : "index 0 is bond n = -L/2+1 (bond n joins sites n and "
			 "n+1; index i is bond n = i - L/2 + 1; the junction "
			 "is bond n = 0, index L/2-1)";
}

int schema_dims(const schema_ds_t *d, int L, int n, int nbeta,
		hsize_t dims[4])
{
	dims[0] = (hsize_t)n;
	dims[2] = dims[3] = 8;
	switch (d->cols) {
	case SC_SCALAR:
	case SC_ROW:
		return 1;
	case SC_GRID:
		dims[0] = (hsize_t)nbeta;
		return 1;
	case SC_SITES:
		dims[1] = (hsize_t)L;
		return 2;
	case SC_BONDS:
		dims[1] = (hsize_t)(L - 1);
		return 2;
	case SC_BETA:
		dims[1] = (hsize_t)nbeta;
		return 2;
	case SC_WINDOWS:
		dims[1] = (hsize_t)(L - 2);
		return 4;
	case SC_WINDOW_VALUES:
		dims[1] = (hsize_t)(L - 2);
		return 2;
	case SC_BETA_RHO:
		dims[1] = (hsize_t)nbeta;
		return 4;
	case SC_GHD_R:
	case SC_GHD_RAYS:
	case SC_GHD_R_RAYS:
		break;
	}
	return -1;
}

/* ---- /analysis ---------------------------------------------------------- */

const int schema_conv_ds[N_CONV] = {DS_ENERGY, DS_ENERGY_CURRENT, DS_SZ,
				    DS_SPIN_CURRENT, DS_ENTROPY};

#define WINDOW_INDEX0                                                        \
	"index 0 is the window of sites n = -L/2+1, -L/2+2, -L/2+3 (window w " \
	"starts at site n = w - L/2 + 1; the left half's table is used for "   \
	"n <= 0)"
#define ROW_INDEX0 "row k is t = /points/<id>/time[k]; 0 when one maximum"

const schema_ds_t schema_analysis_ds[N_AN_DS] = {
	{"n_left", SC_SCALAR, 0, 0, "bond label", ROW_INDEX0},
	{"n_right", SC_SCALAR, 0, 0, "bond label", ROW_INDEX0},
	{"peaks_found", SC_SCALAR, 1, 0,
	 "1 two maxima, 0 one, -1 row unwritten", NULL},
	{"beta_eff", SC_WINDOW_VALUES, 0, 0, "1/J", WINDOW_INDEX0},
	{"mu_eff", SC_WINDOW_VALUES, 0, 0, "J", WINDOW_INDEX0},
	{"trace_distance", SC_WINDOW_VALUES, 0, 0, "1", WINDOW_INDEX0},
};

const char *const schema_analysis_attrs[14] = {
	"format", "format_version", "kapitza_version", "created", "command",
	"window_t0", "window_t1", "smooth", "rel_height", "min_dip", "floor",
	"refine", "tol", "beta_from"};

#define GHD_INDEX0                                                       \
	"index 0: the first R of the R dataset; index 1: the rays of the " \
	"zeta dataset"
/* /analysis/ghd, in the order kapitza ghd writes it */
const schema_ds_t schema_ghd_ds[N_GHD_DS] = {
	{"zeta", SC_GHD_RAYS, 0, 0, NULL, NULL},
	{"R", SC_GHD_R, 0, 0, NULL, NULL},
	{"ok", SC_GHD_R, 0, 0, NULL, NULL},
	{"beta_minus", SC_GHD_R, 0, 0, NULL, NULL},
	{"beta_plus", SC_GHD_R, 0, 0, NULL, NULL},
	{"current", SC_GHD_R, 0, 0, NULL, NULL},
	{"energy_minus", SC_GHD_R, 0, 0, NULL, NULL},
	{"energy_plus", SC_GHD_R, 0, 0, NULL, NULL},
	{"energy", SC_GHD_R_RAYS, 0, 0, NULL, GHD_INDEX0},
	{"energy_current", SC_GHD_R_RAYS, 0, 0, NULL, GHD_INDEX0},
	{"sz", SC_GHD_R_RAYS, 0, 0, NULL, GHD_INDEX0},
	{"spin_current", SC_GHD_R_RAYS, 0, 0, NULL, GHD_INDEX0},
};

int schema_ghd_dims(const schema_ds_t *d, int nR, int rays, hsize_t dims[2])
{
	dims[0] = (hsize_t)(d->cols == SC_GHD_RAYS ? rays : nR);
	dims[1] = (hsize_t)rays;
	return d->cols == SC_GHD_R_RAYS ? 2 : 1;
}

/* ---- rho3 --------------------------------------------------------------- */

void schema_rho_swap(double *out, const double *in, size_t n)
{
	for (size_t m = 0; m < n; m++)
		for (int a = 0; a < 8; a++)
			for (int b = 0; b < 8; b++) {
				const double *x = in + 2 * (64 * m + a + 8 * b);
				double *y = out + 2 * (64 * m + 8 * a + b);
				y[0] = x[0];
				y[1] = x[1];
			}
}

/* ---- JSON for the plotting script ----------------------------------------- */

static void json_names(FILE *f, const char *key, const schema_ds_t *d, int n)
{
	fprintf(f, ", \"%s\": {", key);
	for (int k = 0; k < n; k++)
		fprintf(f, "%s\"%s\": \"%s\"", k ? ", " : "", d[k].name,
			d[k].name);
	fprintf(f, "}");
}

char *schema_json(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "{\"format\": \"%s\", \"format_version\": %d",
		ARCHIVE_FORMAT, ARCHIVE_FORMAT_VERSION);
	fprintf(f, ", \"paths\": {\"points_table\": \"%s\", \"status\": "
		   "\"%s\", \"points\": \"%s\", \"analysis\": \"%s\", "
		   "\"analysis_points\": \"%s/%s\"",
		SCHEMA_POINTS_TABLE, SCHEMA_STATUS, SCHEMA_POINTS,
		SCHEMA_ANALYSIS, SCHEMA_ANALYSIS, SCHEMA_AN_POINTS);
	for (int k = 0; k < SCHEMA_AN_NTABLES; k++)
		fprintf(f, ", \"%s\": \"%s/%s\"", schema_analysis_tables[k]->name,
			SCHEMA_ANALYSIS, schema_analysis_tables[k]->name);
	fprintf(f, ", \"ghd\": \"%s/%s\"}", SCHEMA_ANALYSIS, SCHEMA_AN_GHD);
	json_names(f, "point", schema_point_ds, NDS);
	json_names(f, "table", schema_table_ds, NTDS);
	json_names(f, "analysis_point", schema_analysis_ds, N_AN_DS);
	json_names(f, "ghd", schema_ghd_ds, N_GHD_DS);
	fprintf(f, ", \"state\": {");
	for (int k = 0; k < ARCHIVE_NSTATES; k++)
		fprintf(f, "%s\"%s\": %d", k ? ", " : "", archive_state_name(k),
			k);
	fprintf(f, "}, \"spec_state\": {");
	for (int k = 0; k <= SPEC_STATE_THERMAL; k++)
		fprintf(f, "%s\"%s\": %d", k ? ", " : "", spec_state_name(k), k);
	fprintf(f, "}}\n");
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}
