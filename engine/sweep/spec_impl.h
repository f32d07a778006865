/* spec_impl: what the files of the spec parser share (spec.c, spec_yaml.c,
 * spec_sections.c): the limits, the axes, the parse state and the YAML
 * helpers.  Not for use outside engine/sweep/. */
#ifndef SPEC_IMPL_H
#define SPEC_IMPL_H

#include <stddef.h>
#include <string.h>
#include <yaml.h>

#include "eu.h"
#include "spec.h"

#define SPEC_PI 3.14159265358979323846

/* Limits, documented in engine/SPEC.md. */
#define L_MIN 4
#define L_MAX 10000
#define CHI_LIMIT 100000
#define POINTS_LIMIT 100000
#define TIB (1024.0 * 1024.0 * 1024.0 * 1024.0)
#define MEMORY_LIMIT (1.0 * TIB)   /* per point */
#define ARCHIVE_LIMIT (10.0 * TIB) /* whole sweep */
#define COUNT_LIMIT 1e9            /* measurement times, steps per measure */
#define MULTIPLE_RTOL 1e-9         /* measure_every = k * dt */
#define FILE_LIMIT (16L << 20)     /* a spec is a few hundred bytes */
#define NAME_LIMIT 200
#define SHOW 60 /* characters of a scalar quoted in a message */

/* The axes, in the fixed point order (first slowest). */
enum {
	AX_L,
	AX_J,
	AX_LEFT,
	AX_RIGHT,
	AX_STATE,
	AX_DT,
	AX_TMAX,
	AX_ORDER,
	AX_ME,
	AX_CHI,
	AX_CUTOFF,
	AX_N
};

extern const char *const sp_state_names[];
extern const char *const sp_measure_names[];
#define N_STATES 2
#define N_MEASURES 6
#define MEASURE_DEFAULT                                                  \
	(SPEC_M_ENERGY | SPEC_M_ENERGY_CURRENT | SPEC_M_MAGNETIZATION |  \
	 SPEC_M_SPIN_CURRENT | SPEC_M_ENTROPY)

#define THERMAL_GRID_LIMIT 10001 /* values of one grid axis */
#define THERMAL_N_MAX 1000       /* physical sites of a purified chain */
#define THERMAL_CHI_MAX 4096

/* errors: "FILE:LINE:COLUMN: message" into err */
typedef struct {
	const char *fname;
	char *err; /* EU_ERRLEN bytes, caller-owned */
} sp_ctx_t;

__attribute__((format(printf, 4, 5))) int
sp_fail_at(const sp_ctx_t *c, size_t line, size_t col, const char *fmt, ...);

/* libyaml marks are 0-based; messages are 1-based. */
#define FAIL(c, mark, ...)                                                   \
	sp_fail_at((c), (mark).line + 1, (mark).column + 1, __VA_ARGS__)


static inline yaml_node_t *sp_node(yaml_document_t *d, int i)
{
	return yaml_document_get_node(d, i);
}

static inline const char *sp_sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static inline int sp_slen(const yaml_node_t *n)
{
	size_t l = n->data.scalar.length;
	return l > SHOW ? SHOW : (int)l;
}

static inline int sp_is_null(const yaml_node_t *n)
{
	const char *v;
	size_t l;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	v = sp_sval(n);
	l = n->data.scalar.length;
	return l == 0 || (l == 1 && v[0] == '~') ||
	       (l == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) ||
			   !memcmp(v, "NULL", 4)));
}

static inline const char *sp_kind(const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (sp_is_null(n))
		return "an empty value";
	return "a scalar";
}

static inline int sp_scalar_is(const yaml_node_t *n, const char *s)
{
	size_t l = strlen(s);
	return n->type == YAML_SCALAR_NODE && n->data.scalar.length == l &&
	       !memcmp(sp_sval(n), s, l);
}

static inline double sp_nozero(double x)
{
	return x == 0 ? 0.0 : x; /* -0 -> +0: one canonical text per value */
}

typedef struct {
	int n;
	double *v;          /* evaluated values (state: SPEC_STATE_*) */
	yaml_mark_t *mark;  /* where each value is written */
	int given;          /* 0: the default, mark = enclosing mapping */
} sp_axis_t;

typedef struct {
	sp_ctx_t c;
	yaml_document_t *doc;
	yaml_mark_t root_mark;
	sp_axis_t ax[AX_N];
	const char *path[AX_N];
	int left_gamma, right_gamma; /* side given as gamma */
	unsigned measure;
	char *name;
	/* references: homogeneous chains appended after the product */
	int nref;
	double *ref_delta, *ref_gamma; /* gamma: NaN when given as delta */
	yaml_mark_t *ref_mark;
	/* thermal: (NULL if absent) */
	spec_thermal_t *thermal;
	yaml_mark_t thermal_mark, thermal_chi_mark; /* section, chi_max */
	yaml_node_t *refine;   /* refine: extra chi_max rungs (spec_refine.h) */
} sp_parse_t;

typedef struct {
	const char *key;
	yaml_node_t *val;
	yaml_mark_t key_mark;
	int order;
} sp_slot_t;

/* spec_yaml.c: mappings, numbers, lists, grids, syntax errors */
int sp_walk_map(sp_parse_t *p, yaml_node_t *map, const char *where, sp_slot_t *slots,
	     int nslots);
int sp_expect_map(sp_parse_t *p, yaml_node_t *n, const char *where,
	       const char *example);
int sp_missing(sp_parse_t *p, yaml_node_t *map, const char *where, const char *key,
	    const char *what);
int sp_eval_number(sp_parse_t *p, yaml_node_t *n, const char *path, double *out);
int sp_one_number(sp_parse_t *p, yaml_node_t *n, const char *path, double *x);
int sp_anisotropy_list(sp_parse_t *p, yaml_node_t *v, const char *path, int gamma,
		    double **out, yaml_mark_t **marks, int *n);
int sp_parse_grid(sp_parse_t *p, yaml_node_t *v, const char *path, double **out,
	       int *n);
int sp_int_value(sp_parse_t *p, yaml_node_t *n, const char *path, int lo, int hi,
	      int *out);
int sp_syntax_error(const sp_ctx_t *c, const yaml_parser_t *ps, const char *text,
		 size_t len);

/* spec_sections.c: the keys of the spec, each where it is written */
int sp_parse_root(sp_parse_t *p, yaml_node_t *root);
void sp_thermal_free(spec_thermal_t **t);

#endif
