/* schema: every table, dataset and path of the archive (engine/ARCHIVE.md)
 * and of its /analysis group (engine/POSTSTAGE.md), declared once.
 *
 * A compound table is a field table -- names, offsets, types -- the way
 * the HDF5 high-level table API (H5TBmake_table) declares one; schema_type()
 * builds the HDF5 compound from it, and the same type serves as memory and
 * file type (so a file's layout is the C struct's).  The per-point datasets
 * are tables of names, shapes, units and index texts that the writer
 * (archive.c), the readers (summary.c, the post-stage), merge and the
 * plotting script (through schema_json) all take their names from. */
#ifndef SCHEMA_H
#define SCHEMA_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "archive.h"

/* ---- paths -------------------------------------------------------------- */

#define SCHEMA_POINTS_TABLE "points_table"
#define SCHEMA_STATUS "status"
#define SCHEMA_PROVENANCE "provenance"
#define SCHEMA_HISTORY "history"
#define SCHEMA_POINTS "points"           /* group of /points/<id> groups */
#define SCHEMA_ANALYSIS "analysis"       /* kapitza fit's group */
#define SCHEMA_AN_POINTS "points"        /* /analysis/points/<id> */
#define SCHEMA_AN_LIGHTCONE "lightcone"
#define SCHEMA_AN_VELOCITY_FIT "velocity_fit"
#define SCHEMA_AN_CONVERGENCE "convergence"
#define SCHEMA_AN_THERMAL_PROFILES "thermal_profiles"
#define SCHEMA_AN_CHI_VERDICT "chi_verdict"          /* chiconv.h */
#define SCHEMA_AN_VELOCITY_FIT_CHI "velocity_fit_chi"
#define SCHEMA_AN_GHD "ghd"              /* kapitza ghd's group */

/* "points/<id>" (ds NULL) or "points/<id>/<ds>" into buf; -1 if too long. */
int schema_point_path(char *buf, size_t n, int id, const char *ds);
/* "analysis/<name>" or "analysis/points/<id>/<name>" (id >= 0). */
int schema_analysis_path(char *buf, size_t n, int id, const char *name);

/* ---- compound tables ---------------------------------------------------- */

typedef enum {
	SF_INT,        /* signed integer of the field's size (1 or 4 bytes) */
	SF_UINT,       /* unsigned 32-bit */
	SF_F64,        /* double */
	SF_STR,        /* NUL-terminated string of the field's size */
	SF_STATE,      /* int8 enum of archive_state_t names */
	SF_SPEC_STATE, /* int8 enum of spec states (ground_state, ...) */
} schema_kind_t;

typedef struct {
	const char *name;
	size_t offset, size;
	schema_kind_t kind;
	int late; /* 1: added after archives without it were written: the
		   * validating reader accepts its absence, and a read leaves
		   * it as the reader's buffer had it (zero) */
} schema_field_t;

typedef struct {
	const char *name;        /* the dataset's name (in its group) */
	size_t size;             /* sizeof the row struct */
	const schema_field_t *fields;
	int nfields;
} schema_table_t;

/* The compound tables: four of the archive, six of /analysis (the
 * convergence and chi_verdict tables are written by kapitza fit and read by
 * kapitza status through the same declaration). */
extern const schema_table_t schema_status, schema_points_table,
	schema_provenance, schema_history, schema_lightcone,
	schema_velocity_fit, schema_convergence, schema_thermal_profiles,
	schema_chi_verdict, schema_velocity_fit_chi;

/* The HDF5 compound of table t (caller closes); negative on failure. */
hid_t schema_type(const schema_table_t *t);

/* ---- the datasets of a point --------------------------------------------- */

/* A time-evolution point's datasets, in the order of schema_point_ds. */
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

/* Columns of a dataset: one value per row, per site (L), per bond (L-1),
 * per three-site window (L-2 8x8 complex matrices); a thermal table's: its
 * beta grid (no rows), one per mu row, nbeta per row, nbeta 8x8 complex
 * matrices per row. */
typedef enum {
	SC_SCALAR,
	SC_SITES,
	SC_BONDS,
	SC_WINDOWS,
	SC_WINDOW_VALUES, /* one value per window (L-2): /analysis */
	SC_GRID,
	SC_ROW,
	SC_BETA,
	SC_BETA_RHO,
	SC_GHD_R,         /* /analysis/ghd: one value per R */
	SC_GHD_RAYS,      /* one per ray zeta */
	SC_GHD_R_RAYS,    /* one per R, per ray */
} schema_cols_t;

typedef struct {
	const char *name;
	schema_cols_t cols;
	int is_int;              /* integer: int32 in /points, int8 in
	                            /analysis (else double, or complex) */
	unsigned mask;           /* SPEC_M_* that asks for it; 0 always */
	const char *units;
	const char *index0;      /* NULL: the default of its cols */
} schema_ds_t;

extern const schema_ds_t schema_point_ds[NDS];

/* A thermal table's datasets (a point of state thermal_table). */
enum {
	TDS_BETA,
	TDS_MU,
	TDS_ENERGY,
	TDS_SZ,
	TDS_RHO3,
	TDS_DISCARDED,
	NTDS
};
extern const schema_ds_t schema_table_ds[NTDS];

/* The index0 text of a point dataset (its own, or its cols' default). */
const char *schema_index0(const schema_ds_t *d);

/* Rank and dimensions of a dataset d of a point of L sites and n rows, or
 * of a thermal table of nbeta x n (nmu) nodes.  Complex entries count one.
 * -1 for a dataset of /analysis/ghd (schema_ghd_dims). */
int schema_dims(const schema_ds_t *d, int L, int n, int nbeta,
		hsize_t dims[4]);

/* ---- /analysis ---------------------------------------------------------- */

#define SCHEMA_AN_FORMAT "kapitza-analysis"
#define SCHEMA_AN_FORMAT_VERSION 1
#define SCHEMA_AN_MSGLEN 256

/* /analysis/lightcone: the light cone of one point. */
typedef struct {
	int32_t point_id;
	int8_t state;
	int32_t L, chi_max;
	double delta_left, delta_right;
	int32_t rows;            /* measurement times in the window */
	int32_t rows_found;      /* ... with two maxima */
	double v_right, v_right_sd, c_right;
	double v_left, v_left_sd, c_left;
	/* how far v' can be trusted beyond its sd: the largest change of
	 * v' when the window is cut to either half (NaN: a half has fewer
	 * than 3 times), and the truncated weight summed up to the window's
	 * last time */
	double v_right_win, v_left_win, discarded;
	int8_t ok;
	char message[SCHEMA_AN_MSGLEN];
} lc_row_t;

/* /analysis/velocity_fit: v'_R = A Delta + B over one group of points. */
typedef struct {
	int32_t group;
	int8_t state;
	int32_t L, order, chi_max;
	double J, delta_left, dt, t_max, measure_every, cutoff;
	int32_t npoints;
	char point_ids[SCHEMA_AN_MSGLEN];
	double A, A_sd, B, B_sd, cov;
	double A_w, A_w_sd, B_w, B_w_sd, cov_w;
	int8_t ok;
	char message[SCHEMA_AN_MSGLEN];
} vf_row_t;

/* /analysis/convergence: agreement with the next larger chi_max, per
 * observable of schema_conv_ds. */
#define N_CONV 5
extern const int schema_conv_ds[N_CONV]; /* DS_* indices */
typedef archive_convergence_t cv_row_t; /* declared in archive.h */

/* /analysis/thermal_profiles: beta_eff, mu_eff, d_n of one point. */
typedef struct {
	int32_t point_id;
	int8_t with_mu;          /* 1: (beta, mu) from (e, s^z) */
	int8_t with_distance;    /* 1: d_n from rho3 */
	int32_t values;          /* windows x rows inverted */
	int32_t finite, beyond_cold, beyond_hot, no_solution;
	double d_max;
	/* --beta-from tba: max |beta_tba - beta_table| over the windows
	 * where both are finite (NaN: not compared) */
	double beta_diff_max;
	char message[SCHEMA_AN_MSGLEN];
} th_row_t;

/* /analysis/chi_verdict and /analysis/velocity_fit_chi: the light-cone
 * velocities' convergence in chi_max (engine/post/chiconv.h). */
#define CHICONV_MSGLEN 256
#define CHICONV_MAXRUNG 32

/* One ladder: a row of /analysis/chi_verdict (members up to `reason` are
 * the compound's; the rest is bookkeeping). */
typedef struct {
	int32_t ladder;
	int8_t state;
	int32_t L;
	double delta_left, delta_right;
	int32_t nrungs;
	char chi_list[CHICONV_MSGLEN];  /* "8,12,16" ascending */
	char point_ids[CHICONV_MSGLEN]; /* the rungs' point ids, same order */
	int32_t point_id, chi_max;      /* top rung */
	int32_t prev_point_id, prev_chi_max; /* the rung below (-1 none) */
	double v_right, v_right_sd, v_left, v_left_sd; /* top rung */
	double dv_right, sd_right;      /* change top - prev, combined sd */
	double dv_left, sd_left;
	double tol, nsigma;
	int8_t verdict;                 /* CHICONV_* */
	int8_t used;                    /* in its group's A, B fit */
	char reason[CHICONV_MSGLEN];
	/* not stored */
	int rung[CHICONV_MAXRUNG];      /* indices into the input, by chi */
	int group;                      /* its A, B group */
} chiconv_ladder_t;

/* One A, B fit over the ladders of a group: a row of
 * /analysis/velocity_fit_chi. */
typedef struct {
	int32_t group;
	int8_t state;
	int32_t L;
	double delta_left;
	int32_t nladders, nused;
	char used_ids[CHICONV_MSGLEN];  /* top-rung point ids used */
	char left_out[CHICONV_MSGLEN];  /* "id (reason); ..." */
	int8_t forced;                  /* use_largest */
	double A, A_sd, B, B_sd, cov;
	int8_t ok;
	char message[CHICONV_MSGLEN];
} chiconv_fit_t;

/* The per-point datasets of /analysis/points/<id>. */
enum { AN_N_LEFT, AN_N_RIGHT, AN_PEAKS_FOUND, AN_BETA_EFF, AN_MU_EFF,
       AN_TRACE_DISTANCE, N_AN_DS };
extern const schema_ds_t schema_analysis_ds[N_AN_DS];

/* The /analysis tables (rewritten as a whole by kapitza fit) and its
 * attributes. */
#define SCHEMA_AN_NTABLES 6
extern const schema_table_t *const schema_analysis_tables[SCHEMA_AN_NTABLES];
extern const char *const schema_analysis_attrs[14];

/* /analysis/ghd: the GHD profiles of the junction model that `kapitza ghd`
 * writes (engine/post/ghd.c; engine/POSTSTAGE.md).  Not among the tables
 * above: `kapitza fit` rewrites those and leaves this group as it is, and
 * `kapitza ghd` replaces only this group. */
#define SCHEMA_GHD_FORMAT "kapitza-ghd"
#define SCHEMA_GHD_FORMAT_VERSION 1
enum { GHD_ZETA, GHD_R, GHD_OK, GHD_BETA_MINUS, GHD_BETA_PLUS, GHD_CURRENT,
       GHD_ENERGY_MINUS, GHD_ENERGY_PLUS, GHD_ENERGY, GHD_ENERGY_CURRENT,
       GHD_SZ, GHD_SPIN_CURRENT, N_GHD_DS };
extern const schema_ds_t schema_ghd_ds[N_GHD_DS];
/* Rank and dimensions of /analysis/ghd dataset d for nR values of R and
 * `rays` rays. */
int schema_ghd_dims(const schema_ds_t *d, int nR, int rays, hsize_t dims[2]);

/* ---- the rho3 index order ------------------------------------------------ */

/* The archive stores <a|rho|b> of a three-site matrix at 8 a + b (row-major,
 * numpy's order), the kernels at a + 8 b.  out[8 a + b] = in[a + 8 b] for
 * each of n consecutive 8x8 matrices (complex numbers as (re, im) pairs);
 * the same transposition turns either order into the other. */
void schema_rho_swap(double *out, const double *in, size_t n);

/* ---- the list the plotting script reads ---------------------------------- */

/* Every path, dataset name and state value above as one JSON object (the
 * plotting script's only source of names); a malloc'ed string, NULL if out
 * of memory. */
char *schema_json(void);

#endif
