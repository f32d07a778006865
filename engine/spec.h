/* spec: the YAML sweep specification (format: DESIGN.md "The sweep spec",
 * documented in README.md), parsed with libyaml, validated, and expanded into
 * the Cartesian product of its axes.
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

#include <stdint.h>
#include <stddef.h>

#define SPEC_ERRLEN 1024

enum { SPEC_STATE_GROUND = 0, SPEC_STATE_DOMAIN_WALL = 1 };

/* measure: bit flags */
enum {
	SPEC_M_ENERGY = 1 << 0,
	SPEC_M_ENERGY_CURRENT = 1 << 1,
	SPEC_M_MAGNETIZATION = 1 << 2,
	SPEC_M_SPIN_CURRENT = 1 << 3,
	SPEC_M_ENTROPY = 1 << 4,
	SPEC_M_RHO3 = 1 << 5, /* three-site density matrices (64 reals x2) */
};

/* One point of the sweep: every parameter explicit (defaults filled in). */
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
} spec_point_t;

typedef struct {
	char *name;             /* sweep: */
	char *text;             /* the spec file's full text */
	uint64_t hash;          /* FNV-1a of text */
	char hash_hex[17];
	int npoints;
	spec_point_t *points;
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
 * (snprintf semantics). */
int spec_point_canonical(const spec_point_t *p, char *buf, size_t len);

/* Estimated cost in arbitrary units ~ L * chi_eff^3 * steps, used to order
 * points (largest first), and estimated peak memory and archive bytes. */
double spec_point_cost(const spec_point_t *p);
double spec_point_memory_bytes(const spec_point_t *p);
double spec_point_archive_bytes(const spec_point_t *p);

#endif
