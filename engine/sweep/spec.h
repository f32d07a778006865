/* spec: the YAML sweep specification (format: engine/SPEC.md), parsed with
 * libyaml, validated, and expanded into the Cartesian product of its axes
 * (spec.c; the keys: spec_sections.c; numbers: expr.c; cost model: cost.c;
 * a point's kernel parameters: params.h).
 *
 * Every problem is reported as "FILE:LINE:COLUMN: what was expected" (1-based
 * line and column of the offending node) before any work starts.
 *
 * Point order is stable: axes vary in the fixed order listed below (first
 * axis slowest), values in the order written.  Each point has a stable id
 * (its index in that order) and a hash of its canonical parameters (FNV-1a
 * 64-bit of a canonical text, see spec_point_canonical), which is what keys
 * checkpoints and resubmission, never the id. */
#ifndef SPEC_H
#define SPEC_H

#include "eu.h"

#include <stdint.h>
#include <stddef.h>


enum {
	SPEC_STATE_GROUND = 0,
	SPEC_STATE_DOMAIN_WALL = 1,
	/* not a value of `state:`: the kind of the farmed items that the
	 * `thermal:` section adds after the time-evolution points, one
	 * thermal table per anisotropy (see spec_t.ntables) */
	SPEC_STATE_THERMAL = 2,
};

/* measure: bit flags */
enum {
	SPEC_M_ENERGY = 1 << 0,
	SPEC_M_ENERGY_CURRENT = 1 << 1,
	SPEC_M_MAGNETIZATION = 1 << 2,
	SPEC_M_SPIN_CURRENT = 1 << 3,
	SPEC_M_ENTROPY = 1 << 4,
	SPEC_M_RHO3 = 1 << 5, /* three-site density matrices (64 reals x2) */
};

/* The optional `thermal:` section: the grid of the purification tables of
 * the post-stage (engine/POSTSTAGE.md), farmed by `kapitza run` as items of
 * the sweep (one per anisotropy, after the time-evolution points).  Tables
 * are computed at J = 1 (a point with coupling J uses beta J and mu / J). */
typedef struct {
	int ndelta;
	double *delta;          /* anisotropies, ascending, distinct (|a-b| >
	                           1e-12); default: every delta_left and
	                           delta_right of the points */
	int delta_given;        /* 0: the default above */
	int nbeta;
	double *betas;          /* min + k step, ascending, a value within
	                           1e-9 step of 0 is exactly 0 */
	int nmu;
	double *mus;            /* the same; always contains 0 (default: {0}) */
	int length;             /* physical sites N of the purified chain */
	int chi_max;
	double cutoff;          /* default 1e-10 */
	double dtau;            /* largest imaginary-time step, default 0.05 */
	int order;              /* Trotter order 2 or 4, default 4 */
} spec_thermal_t;

/* One point of the sweep: every parameter explicit (defaults filled in).
 * A thermal table (state SPEC_STATE_THERMAL) is a point too, so that the
 * farm, the archive's status, resubmission and shards treat it like any
 * other; its fields then mean: L = thermal.length (physical sites N), J = 1,
 * delta_left = delta_right = its anisotropy, gamma_right = acos(delta),
 * dt = thermal.dtau, order, chi_max, cutoff as in the section, t_max =
 * measure_every = 0, measure = 0, n_measure = the number of mu values (a
 * table is written one mu row at a time), steps_per_measure = 0, and
 * `thermal` points to the section (its grids). */
typedef struct {
	int id;                 /* index in the stable order */
	uint64_t hash;          /* FNV-1a of the canonical text */
	char hash_hex[17];      /* the hash as 16 hex digits */
	int L;                  /* chain.length (even, >= 4) */
	double J;               /* chain.coupling */
	double delta_left;      /* chain.left.delta (or cos(left.gamma)) */
	double delta_right;     /* chain.right.delta (or cos(right.gamma)) */
	double gamma_right;     /* right.gamma if given, else acos(delta_right) */
	int state;              /* SPEC_STATE_* */
	double dt, t_max, measure_every;
	int order;              /* 2 or 4 */
	int chi_max;
	double cutoff;
	unsigned measure;       /* SPEC_M_* mask */
	int n_measure;          /* number of measurement times incl. t = 0:
	                           floor(t_max/measure_every + 1e-9) + 1 */
	int steps_per_measure;  /* round(measure_every / dt), exact multiple */
	const spec_thermal_t *thermal; /* a thermal table: the section (owned
	                                  by the spec_t); NULL otherwise */
} spec_point_t;

typedef struct {
	char *name;             /* sweep: */
	char *text;             /* the spec file's full text */
	uint64_t hash;          /* FNV-1a of text */
	char hash_hex[17];
	int npoints;
	spec_point_t *points;
	int nproduct;           /* points [0, nproduct) are the Cartesian
	                           product; then the homogeneous references of
	                           the `references:` key */
	int ntables;            /* the last ntables points, [npoints -
	                           ntables, npoints), are the thermal tables
	                           of the `thermal:` section, by ascending
	                           delta (0 without the section) */
	spec_thermal_t *thermal; /* the `thermal:` section, NULL if absent */
} spec_t;

/* Parse and validate a file.  On error returns non-zero, *s = NULL, and err
 * holds "FILE:LINE:COL: message". */
int spec_load(spec_t **s, const char *path, char *err);
/* Same from a string; `name` stands for the file name in messages. */
int spec_parse(spec_t **s, const char *name, const char *text, size_t len,
	       char *err);
void spec_destroy(spec_t **s);

/* Canonical text of a point's parameters (all fields above except id and
 * hash, fixed formats, %.17g for doubles); returns the length written
 * (snprintf semantics).  A thermal table has its own text
 * ("kapitza-thermal-v1;..."): its parameters and grids (engine/SPEC.md). */
int spec_point_canonical(const spec_point_t *p, char *buf, size_t len);

/* "ground_state", "domain_wall", "thermal_table"; "?" for anything else. */
const char *spec_state_name(int state);

/* Estimated cost in arbitrary units ~ L * chi_eff^3 * steps, used to order
 * points (largest first), and estimated peak memory and archive bytes.  A
 * thermal table's cost is in the same units (its imaginary-time steps over
 * 2N sites, scaled by the calibrated cost ratio of the two kernels); its
 * memory is that of one imaginary-time run (a rank runs up to `threads` of
 * them at once). */
double spec_point_cost(const spec_point_t *p);
double spec_point_memory_bytes(const spec_point_t *p);
double spec_point_archive_bytes(const spec_point_t *p);

/* Estimated core-hours of a point on one core: TEBD steps at the
 * bond-dimension cap (the paper's regime: chi_max saturates early) plus the
 * DMRG of |Psi1>, calibrated with `kapitza bench` (engine/POSTSTAGE.md).  An
 * upper-end planning figure, not a promise: U(1) blocks and unsaturated
 * bonds make real runs cheaper. */
double spec_point_core_hours(const spec_point_t *p);
/* The share (0..1) of the time evolution of a point (state SPEC_STATE_*,
 * L sites, to t_max) done when it has reached time t, by the model of
 * spec_point_core_hours: the domain wall's steps get dearer as its light
 * cone spreads, |Psi1>'s all cost the same.  Used for ETAs.  Where the
 * cone does not fill the chain the model puts a quarter of the work before
 * t_max / 2, t / t_max would say half, and the bench (L = 140, t = 20)
 * measures 16% at chi 64, 13% at 128 and 4% at 256, where the bonds also
 * grow in dimension: a domain wall's early ETA is still low, but less so.
 * Not for thermal tables (their share is their mu rows). */
double spec_done_share(int state, int L, double t_max, double t);
/* The sum of spec_point_core_hours over the thermal tables (0 if none):
 * per anisotropy and mu, two imaginary-time runs over the beta range. */
double spec_thermal_core_hours(const spec_t *s);

#endif
