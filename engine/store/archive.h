/* archive: the sweep's one parallel-HDF5 file (schema: engine/ARCHIVE.md).
 *
 * Parallel HDF5 makes every metadata operation collective, while workers
 * finish at different times.  So archive_create() builds the whole file --
 * root attributes, the points table, the status and provenance tables and
 * every per-point group and dataset, contiguous and allocated early, filled
 * with NaN (-1 for integers) -- in one collective pass, flushes it, and from
 * then on the file's metadata never changes: every later write
 * (archive_write_row, archive_write_status, archive_write_provenance) is an
 * independent raw-data write into space that already exists.  Two things
 * follow: a reader (kapitza status, h5py) opening the file with the sec2
 * driver sees rows as soon as they are written, and a killed run leaves a
 * file that still opens, with every finished point intact.
 *
 * A thermal table of the spec's `thermal:` section is a point too (state
 * thermal_table): its own datasets in /points/<id>, written one mu row at a
 * time (archive_write_table_rows), and the same status, provenance and
 * history rows as any point.
 *
 * Point status is data (the /status table, one row per point id), never an
 * attribute changed later.  Only rank 0 writes /status; a worker writes its
 * own point's rows and its /provenance row.
 *
 * The reading side (archive_summary_read) is serial and does not need MPI. */
#ifndef ARCHIVE_H
#define ARCHIVE_H

#include "eu.h"

#include <mpi.h>
#include <stdint.h>

#include "obs.h"
#include "spec.h"

#define ARCHIVE_FORMAT "kapitza-archive"
#define ARCHIVE_FORMAT_VERSION 1
#define ARCHIVE_MSGLEN 256 /* error message stored in /status, NUL incl. */

/* The point state machine (see farm.c for who moves a point). */
typedef enum {
	ARCHIVE_PENDING = 0,
	ARCHIVE_RUNNING = 1,
	ARCHIVE_DONE = 2,
	ARCHIVE_FAILED = 3,
	ARCHIVE_INTERRUPTED = 4,
	ARCHIVE_OTHER_SHARD = 5, /* a shard file: another shard runs it */
} archive_state_t;
#define ARCHIVE_NSTATES 6

/* "pending", "running", ...; "?" for anything else. */
const char *archive_state_name(int state);

/* One row of /status (HDF5 compound of the same field names). */
typedef struct {
	int8_t state;            /* archive_state_t */
	int32_t attempt;         /* 0 = never started, 1 = first run, ... */
	int32_t rank;            /* MPI rank that ran the attempt, -1 none */
	int32_t rows;            /* measurement rows written */
	double t_reached;        /* time of the last row written (NaN: none) */
	double wall_s;           /* wall time of the attempt so far */
	double max_discarded;    /* largest single-truncation discard */
	int32_t max_bond_dim;    /* largest bond dimension reached */
	char message[ARCHIVE_MSGLEN]; /* error message of a failed point */
	double t_resumed;        /* the attempt resumed from a checkpoint of
	                            this time; NaN: it started from t = 0 */
} archive_status_t;

/* One slot of /history[point][slot]: attempt a of a point is slot
 * min(a, ARCHIVE_HISTORY) - 1 (so beyond ARCHIVE_HISTORY attempts the last
 * slot holds the latest).  Written by rank 0 when the attempt starts
 * (outcome running) and when it ends. */
#define ARCHIVE_HISTORY 16
#define ARCHIVE_HMSGLEN 128
#define ARCHIVE_TEAMLEN 64
typedef struct {
	int32_t attempt;         /* 0: slot unused */
	int8_t outcome;          /* archive_state_t; running: still running,
	                            or its job died */
	int32_t rank, mpi_size;  /* rank that ran it, ranks of the job */
	char job[48];            /* SLURM_JOB_ID[_ARRAY_TASK_ID], or
	                            host:pid outside SLURM */
	char start_time[32], end_time[32]; /* ISO 8601 UTC ("" not yet) */
	double t_resumed;        /* checkpoint time resumed from; NaN: t = 0 */
	double t_reached;        /* time of the last row written */
	int32_t rows;            /* rows present after the attempt */
	double wall_s;
	char message[ARCHIVE_HMSGLEN];
	/* the team that ran the attempt (kapitza run --team-size): its size
	 * (1: one rank alone; 0: not recorded, an archive from before teams)
	 * and its ranks, leader (= rank) first, as "3,1,2" (ranges "1-4") */
	int32_t team_size;
	char team_ranks[ARCHIVE_TEAMLEN];
} archive_history_t;

/* One row of /points_table: the point's parameters (spec_point_t). */
typedef struct {
	int32_t id;
	char hash[17];
	int32_t L;
	double J, delta_left, delta_right, gamma_right;
	int8_t state;            /* SPEC_STATE_*: 0 ground_state, 1 domain_wall */
	double dt, t_max, measure_every;
	int32_t order, chi_max;
	double cutoff;
	int32_t n_measure, steps_per_measure;
	uint32_t measure;        /* SPEC_M_* mask */
	double cost;             /* spec_point_cost */
} archive_point_row_t;

/* One row of /provenance, written by the worker that ran the point. */
typedef struct {
	int32_t attempt, mpi_size, rank, threads;
	char host[64];
	char omp_num_threads[16];      /* environment, "" if unset */
	char openblas_num_threads[16];
	char slurm_job_id[32];
	char slurm_array_task_id[16];
	char start_time[32];           /* ISO 8601 UTC */
	char end_time[32];
	double wall_s;
	char version[64];              /* git describe */
	char compiler[256];            /* compiler and build flags */
} archive_prov_t;

typedef struct archive_s archive_t;

/* Collective over comm.  Creates `path` (truncating an existing file only if
 * force) with the complete layout for spec s (borrowed, read only during the
 * call), writes the root attributes and the points table, flushes.  The ranks
 * agree on every error before each collective step, so all return the same
 * status; on error *a = NULL and err holds the message (every rank).
 * The file is built under a temporary name beside `path` and appears under
 * `path` only once complete, so a killed creation leaves no half archive
 * (and, with force, the old archive intact). */
int archive_create(archive_t **a, MPI_Comm comm, const char *path,
		   const spec_t *s, int force, char *err);

/* Options of archive_create_ex. */
typedef struct {
	int force;                     /* replace an existing file */
	int shard_index, shard_count;  /* --shard I/N; 0, 1: the whole sweep */
	const unsigned char *in_shard; /* [npoints] 1 = this shard's point;
	                                  the others are created with status
	                                  other-shard.  NULL: all (borrowed) */
	const char *merged_from;       /* root attribute `merged_from` of a
	                                  merged archive; NULL: none */
} archive_create_opts_t;

/* force 0, not a shard, nothing merged. */
void archive_create_opts_default(archive_create_opts_t *o);

/* Collective: archive_create with options (o borrowed). */
int archive_create_ex(archive_t **a, MPI_Comm comm, const char *path,
		      const spec_t *s, const archive_create_opts_t *o,
		      char *err);

/* Collective over comm.  Opens the existing archive `path` for writing
 * (resubmission): checks that it is a kapitza archive of spec s (borrowed:
 * same spec hash, same number of points, same point hashes and dataset
 * shapes) and opens every table and dataset.  Changes nothing in the file:
 * afterwards, as after archive_create, only raw data is written.  On error
 * *a = NULL and err (every rank) says why. */
int archive_open(archive_t **a, MPI_Comm comm, const char *path,
		 const spec_t *s, char *err);

/* Independent.  Writes the fill values (NaN, -1) over rows from..n-1 of
 * every dataset of `point`, time first (so no reader ever sees a finite
 * time[k] with stale data in row k): a resumed attempt rewrites the rows
 * after its checkpoint, a restarted one all rows.  A thermal table: its mu
 * rows, mu first (its beta grid stays). */
int archive_clear_rows(archive_t *a, int point, int from, char *err);

/* Independent.  Writes slot `slot` (0..ARCHIVE_HISTORY-1) of the /history
 * row of `point` (h borrowed).  Rank 0, by convention. */
int archive_write_history(archive_t *a, int point, int slot,
			  const archive_history_t *h, char *err);

/* Collective: closes everything and frees *a; NULL or *a == NULL is a no-op.
 * Returns 0 or a negative status (message in err, may be NULL). */
int archive_destroy(archive_t **a, char *err);

/* Independent.  Writes measurement row `row` of point `point`: t, all
 * observables of o (borrowed), the summed and the largest single discarded
 * weight.  Only the rank running the point calls it. */
int archive_write_row(archive_t *a, int point, int row, double t,
		      const obs_t *o, double discarded_total,
		      double discarded_max, char *err);

/* Whether point `point` is a thermal table (state thermal_table). */
int archive_is_table(const archive_t *a, int point);

/* Independent.  Writes rows row0 .. row0+n-1 of thermal table `point`
 * (engine/ARCHIVE.md): mu[n], e[n][nbeta], sz[n][nbeta], discarded[n] and
 * rho[n][nbeta][8][8] complex numbers as (re, im) pairs, rho[2*(64 (nbeta j
 * + i) + 8 a + b) + {0,1}] = <a|rho|b> at (beta[i], mu[j]) (all borrowed),
 * mu last.  Only the rank computing the table calls it. */
int archive_write_table_rows(archive_t *a, int point, int row0, int n,
			     const double *mu, const double *e,
			     const double *sz, const double *rho,
			     const double *discarded, char *err);

/* Whether point `point` records three-site density matrices (rho3). */
int archive_wants_rho3(const archive_t *a, int point);

/* Independent.  Writes row `row` of /points/<point>/rho3: rho (borrowed)
 * holds (L-2) windows of 8x8 complex numbers as (re, im) pairs, window-major
 * then row-major: rho[2*(64 w + 8 a + b) + {0,1}] = <a|rho_w|b>. */
int archive_write_rho3(archive_t *a, int point, int row, const double *rho,
		       char *err);

/* Independent.  Overwrites the /status row of `point` (st borrowed).  Rank 0
 * only, by convention (the scheduler owns the status). */
int archive_write_status(archive_t *a, int point, const archive_status_t *st,
			 char *err);

/* Independent.  Overwrites the /provenance row of `point`; the worker. */
int archive_write_provenance(archive_t *a, int point,
			     const archive_prov_t *pv, char *err);

/* Fills *st with the state of a point nobody has touched (pending, attempt
 * 0, NaN times, -1 ranks): the fill value of /status. */
void archive_status_init(archive_status_t *st);

/* The fill value of /history: attempt 0, NaN times, -1 ranks. */
void archive_history_init(archive_history_t *h);

/* The slot of attempt `attempt` (>= 1) in /history. */
int archive_history_slot(int attempt);

/* --- reading (serial, no MPI) ------------------------------------------ */

/* One row of /analysis/convergence, the agreement of a point with the next
 * larger chi_max, per observable (written by kapitza fit, shown by kapitza
 * status; engine/POSTSTAGE.md; field table in schema.c). */
typedef struct {
	int32_t point_id, ref_point_id, chi_max, ref_chi_max;
	double tol;
	double t_energy, t_energy_current, t_sz, t_spin_current, t_entropy;
	double t_all;            /* the smallest of the measured ones: all
	                            observables agree up to here */
	int8_t full;             /* 1: agree as far as both runs go */
	double max_diff;         /* largest difference seen (to t_all's
	                            first disagreeing row) */
} archive_convergence_t;

typedef struct {
	char format[32];
	int format_version;
	char kapitza_version[64];
	char sweep[128];
	char spec_hash[17];
	char created[32];
	int npoints;
	archive_point_row_t *points;  /* [npoints], by id */
	archive_status_t *status;     /* [npoints], by id */
	char *spec_text;              /* the spec file, NUL-terminated */
	int shard_index, shard_count; /* 0, 1 unless a --shard file */
	archive_history_t *history;   /* [npoints * ARCHIVE_HISTORY], by id
	                                 then slot; NULL if the file has none */
	int *rows_present;            /* [npoints] leading rows whose time (mu) is
	                                 written; NULL until
	                                 archive_summary_rows() */
	archive_convergence_t *conv;  /* [nconv] from /analysis/convergence;
	                                 NULL, 0 until
	                                 archive_summary_convergence() (and
	                                 before kapitza fit) */
	int nconv;
} archive_summary_t;

/* Opens path read-only (sec2 driver, no file locking, so it can read while a
 * run writes), reads the root attributes, /points_table, /status and
 * /history into a new *s (owned by the caller: archive_summary_destroy).  Not collective. */
int archive_summary_read(archive_summary_t **s, const char *path, char *err);
void archive_summary_destroy(archive_summary_t **s);

/* Fills s->conv, s->nconv from path's /analysis/convergence, the table
 * kapitza fit writes (none: 0 rows); only `kapitza status` needs it. */
int archive_summary_convergence(archive_summary_t *s, const char *path,
				char *err);

/* Fills s->rows_present (allocated here, owned by s) from path (the file s
 * was read from): for each point not done, the number of leading rows k
 * with a finite time[k] (mu[k] for a thermal table), i.e. complete rows;
 * n_measure for done points.
 * Not collective. */
int archive_summary_rows(archive_summary_t *s, const char *path, char *err);

#endif
