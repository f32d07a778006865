/* spec: the YAML sweep specification (format: engine/SPEC.md, DESIGN.md "The
 * sweep spec").  The text is parsed with libyaml's document API (never by
 * hand), validated completely, and expanded into the Cartesian product of its
 * axes, so that every problem is reported as "FILE:LINE:COLUMN: message"
 * before any work starts.
 *
 * Flow: spec_parse -> yaml_parser_load -> parse_root (structure: keys, types,
 * one value or a list per parameter; every value is evaluated and range
 * checked where it is written, so errors point at the offending node) ->
 * check_cross (relations between parameters: measure_every / dt, number of
 * points, memory per point) -> build_points (fixed axis order, last axis
 * fastest) -> archive total -> finish_thermal (the thermal tables of the
 * `thermal:` section appended as points, so that the farm runs them like
 * any point).  The first problem found is reported: keys of a
 * mapping are checked (unknown, duplicate) before its values, values in the
 * fixed order of the keys, relations last.
 *
 * Numbers are plain YAML scalars holding either a YAML number or a restricted
 * expression, evaluated by the small recursive-descent parser below:
 *   product := unary { ('*' | '/') unary }
 *   unary   := { '-' | '+' } primary
 *   primary := number | '.nan' | '.inf' | 'pi' | '(' product ')'
 *            | ('cos' | 'sin' | 'sqrt') '(' product ')'
 * Binary + and - are deliberately absent (DESIGN.md: `pi/4`, `2*pi/3`,
 * `cos(pi/4)`-style only). */
#include "spec.h"
#include "spec_refine.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "eu.h"

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
#define EXPR_DEPTH_LIMIT 64
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

static const char *const state_names[] = {"ground_state", "domain_wall"};
static const char *const measure_names[] = {
	"energy", "energy_current", "magnetization",
	"spin_current", "entropy", "rho3"};
#define N_STATES 2
#define N_MEASURES 6
#define MEASURE_DEFAULT                                                  \
	(SPEC_M_ENERGY | SPEC_M_ENERGY_CURRENT | SPEC_M_MAGNETIZATION |  \
	 SPEC_M_SPIN_CURRENT | SPEC_M_ENTROPY)

/* ------------------------------------------------------------------ */
/* errors                                                              */

typedef struct {
	const char *fname;
	char *err; /* EU_ERRLEN bytes, caller-owned */
} ctx_t;

__attribute__((format(printf, 4, 5))) static int
fail_at(const ctx_t *c, size_t line, size_t col, const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(c->err, EU_ERRLEN, "%s:%zu:%zu: ", c->fname, line,
			 col);
	if (k < 0)
		k = 0;
	if ((size_t)k < EU_ERRLEN) {
		va_start(ap, fmt);
		vsnprintf(c->err + k, EU_ERRLEN - (size_t)k, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* libyaml marks are 0-based; messages are 1-based. */
#define FAIL(c, mark, ...)                                                   \
	fail_at((c), (mark).line + 1, (mark).column + 1, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static yaml_node_t *node_at(yaml_document_t *d, int i)
{
	return yaml_document_get_node(d, i);
}

static const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int slen(const yaml_node_t *n)
{
	size_t l = n->data.scalar.length;
	return l > SHOW ? SHOW : (int)l;
}

static int is_null(const yaml_node_t *n)
{
	const char *v;
	size_t l;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	v = sval(n);
	l = n->data.scalar.length;
	return l == 0 || (l == 1 && v[0] == '~') ||
	       (l == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) ||
			   !memcmp(v, "NULL", 4)));
}

static const char *kind(const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (is_null(n))
		return "an empty value";
	return "a scalar";
}

static int scalar_is(const yaml_node_t *n, const char *s)
{
	size_t l = strlen(s);
	return n->type == YAML_SCALAR_NODE && n->data.scalar.length == l &&
	       !memcmp(sval(n), s, l);
}

static double nozero(double x)
{
	return x == 0 ? 0.0 : x; /* -0 -> +0: one canonical text per value */
}

static void fmt_bytes(double b, char *buf, size_t len)
{
	static const char *const unit[] = {"B",   "KiB", "MiB", "GiB",
					   "TiB", "PiB", "EiB"};
	int u = 0;

	while (b >= 1024.0 && u < 6) {
		b /= 1024.0;
		u++;
	}
	snprintf(buf, len, "%.3g %s", b, unit[u]);
}

/* ------------------------------------------------------------------ */
/* the expression evaluator                                            */

typedef struct {
	const char *s;
	size_t n, i;
	int depth;
	char msg[256];
} ev_t;

__attribute__((format(printf, 2, 3))) static int ev_fail(ev_t *e,
							 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

static void ev_skip(ev_t *e)
{
	while (e->i < e->n && (e->s[e->i] == ' ' || e->s[e->i] == '\t'))
		e->i++;
}

static int ev_isdigit(ev_t *e, size_t i)
{
	return i < e->n && e->s[i] >= '0' && e->s[i] <= '9';
}

static int ev_isalpha(ev_t *e, size_t i)
{
	return i < e->n && (isalpha((unsigned char)e->s[i]) || e->s[i] == '_');
}

static int ev_unexpected(ev_t *e)
{
	unsigned char ch;

	if (e->i >= e->n)
		return ev_fail(e, "the expression ends where a number, pi, "
				  "cos(, sin(, sqrt( or '(' was expected");
	ch = (unsigned char)e->s[e->i];
	if (isprint(ch))
		return ev_fail(e, "unexpected '%c' at character %zu", ch,
			       e->i + 1);
	return ev_fail(e, "unexpected byte 0x%02x at character %zu", ch,
		       e->i + 1);
}

static int ev_product(ev_t *e, double *out);

/* decimal number: digits [. digits] [(e|E) [+|-] digits], or . digits */
static int ev_number(ev_t *e, double *out)
{
	size_t b = e->i, nd = 0;
	char buf[80];
	char *end;

	while (ev_isdigit(e, e->i)) {
		e->i++;
		nd++;
	}
	if (e->i < e->n && e->s[e->i] == '.') {
		e->i++;
		while (ev_isdigit(e, e->i)) {
			e->i++;
			nd++;
		}
	}
	if (!nd)
		return ev_fail(e, "malformed number at character %zu", b + 1);
	if (e->i < e->n && (e->s[e->i] == 'e' || e->s[e->i] == 'E')) {
		size_t j = e->i + 1;
		if (j < e->n && (e->s[j] == '+' || e->s[j] == '-'))
			j++;
		if (!ev_isdigit(e, j))
			return ev_fail(e, "malformed exponent at character %zu",
				       e->i + 1);
		while (ev_isdigit(e, j))
			j++;
		e->i = j;
	}
	if (e->i - b >= sizeof buf)
		return ev_fail(e, "number too long at character %zu", b + 1);
	memcpy(buf, e->s + b, e->i - b);
	buf[e->i - b] = '\0';
	errno = 0;
	*out = strtod(buf, &end);
	if (*end != '\0')
		return ev_fail(e, "malformed number at character %zu", b + 1);
	if (errno == ERANGE && fabs(*out) > 1.0)
		return ev_fail(e, "number out of range at character %zu",
			       b + 1);
	return 0;
}

static int ev_paren(ev_t *e, double *out, const char *what)
{
	int rc;

	/* e->i is just past '(' */
	if (++e->depth > EXPR_DEPTH_LIMIT)
		return ev_fail(e, "expression nested too deeply");
	rc = ev_product(e, out);
	if (rc)
		return rc;
	ev_skip(e);
	if (e->i >= e->n || e->s[e->i] != ')')
		return e->i >= e->n
			       ? ev_fail(e, "missing ')' to close %s", what)
			       : ev_fail(e,
					 "expected ')' to close %s at "
					 "character %zu",
					 what, e->i + 1);
	e->i++;
	e->depth--;
	return 0;
}

static int ev_primary(ev_t *e, double *out)
{
	size_t b;
	int rc;

	ev_skip(e);
	if (e->i >= e->n)
		return ev_unexpected(e);
	if (ev_isdigit(e, e->i) ||
	    (e->s[e->i] == '.' && ev_isdigit(e, e->i + 1)))
		return ev_number(e, out);
	if (e->s[e->i] == '.' && ev_isalpha(e, e->i + 1)) {
		/* YAML's special floats; range checks reject them later
		 * with a message naming the parameter */
		b = e->i++;
		while (ev_isalpha(e, e->i))
			e->i++;
		size_t l = e->i - b;
		const char *w = e->s + b;
		if (l == 4 && (!memcmp(w, ".nan", 4) || !memcmp(w, ".NaN", 4) ||
			       !memcmp(w, ".NAN", 4))) {
			*out = NAN;
			return 0;
		}
		if (l == 4 && (!memcmp(w, ".inf", 4) || !memcmp(w, ".Inf", 4) ||
			       !memcmp(w, ".INF", 4))) {
			*out = INFINITY;
			return 0;
		}
		return ev_fail(e, "unknown name '%.*s' at character %zu",
			       (int)(l > SHOW ? SHOW : l), w, b + 1);
	}
	if (e->s[e->i] == '(') {
		e->i++;
		return ev_paren(e, out, "'('");
	}
	if (ev_isalpha(e, e->i)) {
		b = e->i;
		while (ev_isalpha(e, e->i) || ev_isdigit(e, e->i))
			e->i++;
		size_t l = e->i - b;
		const char *w = e->s + b;
		int fn = -1; /* 0 cos, 1 sin, 2 sqrt */
		if (l == 2 && !memcmp(w, "pi", 2)) {
			*out = SPEC_PI;
			return 0;
		}
		if (l == 3 && !memcmp(w, "cos", 3))
			fn = 0;
		else if (l == 3 && !memcmp(w, "sin", 3))
			fn = 1;
		else if (l == 4 && !memcmp(w, "sqrt", 4))
			fn = 2;
		if (fn < 0)
			return ev_fail(e,
				       "unknown name '%.*s' at character %zu "
				       "(allowed: pi, cos, sin, sqrt)",
				       (int)(l > SHOW ? SHOW : l), w, b + 1);
		ev_skip(e);
		if (e->i >= e->n || e->s[e->i] != '(')
			return ev_fail(e, "expected '(' after '%.*s'", (int)l,
				       w);
		e->i++;
		rc = ev_paren(e, out, fn == 0 ? "cos(" : fn == 1 ? "sin(" : "sqrt(");
		if (rc)
			return rc;
		if (fn == 0) {
			*out = cos(*out);
		} else if (fn == 1) {
			*out = sin(*out);
		} else {
			if (*out < 0)
				return ev_fail(e, "sqrt of a negative number "
						  "(%g)", *out);
			*out = sqrt(*out);
		}
		return 0;
	}
	return ev_unexpected(e);
}

static int ev_unary(ev_t *e, double *out)
{
	int neg = 0, rc;

	for (;;) {
		ev_skip(e);
		if (e->i < e->n && (e->s[e->i] == '-' || e->s[e->i] == '+')) {
			neg ^= e->s[e->i] == '-';
			e->i++;
			continue;
		}
		break;
	}
	rc = ev_primary(e, out);
	if (!rc && neg)
		*out = -*out;
	return rc;
}

static int ev_product(ev_t *e, double *out)
{
	double a, b, r;
	char op;
	int rc;

	rc = ev_unary(e, &a);
	if (rc)
		return rc;
	for (;;) {
		ev_skip(e);
		if (e->i >= e->n || (e->s[e->i] != '*' && e->s[e->i] != '/'))
			break;
		op = e->s[e->i++];
		rc = ev_unary(e, &b);
		if (rc)
			return rc;
		if (op == '/' && b == 0)
			return ev_fail(e, "division by zero");
		r = op == '*' ? a * b : a / b;
		if (!isfinite(r) && isfinite(a) && isfinite(b))
			return ev_fail(e, "overflow");
		a = r;
	}
	*out = a;
	return 0;
}

/* Evaluate s[0..n) completely; on error fills e->msg. */
static int ev_eval(ev_t *e, const char *s, size_t n, double *out)
{
	int rc;

	e->s = s;
	e->n = n;
	e->i = 0;
	e->depth = 0;
	e->msg[0] = '\0';
	rc = ev_product(e, out);
	if (rc)
		return rc;
	ev_skip(e);
	if (e->i < e->n) {
		if (e->s[e->i] == ')')
			return ev_fail(e, "unmatched ')' at character %zu",
				       e->i + 1);
		return ev_unexpected(e);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* the parse state                                                     */

typedef struct {
	int n;
	double *v;          /* evaluated values (state: SPEC_STATE_*) */
	yaml_mark_t *mark;  /* where each value is written */
	int given;          /* 0: the default, mark = enclosing mapping */
} axis_t;

typedef struct {
	ctx_t c;
	yaml_document_t *doc;
	yaml_mark_t root_mark;
	axis_t ax[AX_N];
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
} parse_t;

typedef struct {
	const char *key;
	yaml_node_t *val;
	yaml_mark_t key_mark;
	int order;
} slot_t;

/* Walk a mapping: every key a scalar named in slots[], none twice.  Fills
 * slots[i].val (NULL when absent). */
static int walk_map(parse_t *p, yaml_node_t *map, const char *where,
		    slot_t *slots, int nslots)
{
	yaml_node_pair_t *pr;
	char allowed[256];
	size_t off = 0;
	int k = 0, i;

	for (i = 0; i < nslots; i++) {
		slots[i].val = NULL;
		slots[i].order = -1;
	}
	for (pr = map->data.mapping.pairs.start;
	     pr < map->data.mapping.pairs.top; pr++, k++) {
		yaml_node_t *key = node_at(p->doc, pr->key);
		yaml_node_t *val = node_at(p->doc, pr->value);
		if (key->type != YAML_SCALAR_NODE)
			return FAIL(&p->c, key->start_mark,
				    "%s: expected a key name, got %s", where,
				    kind(key));
		for (i = 0; i < nslots; i++)
			if (scalar_is(key, slots[i].key))
				break;
		if (i == nslots) {
			off = 0;
			allowed[0] = '\0';
			for (int j = 0; j < nslots && off < sizeof allowed; j++)
				off += (size_t)snprintf(allowed + off,
						       sizeof allowed - off,
						       "%s%s", j ? ", " : "",
						       slots[j].key);
			return FAIL(&p->c, key->start_mark,
				    "unknown key '%.*s' in %s (allowed: %s)",
				    slen(key), sval(key), where, allowed);
		}
		if (slots[i].val)
			return FAIL(&p->c, key->start_mark,
				    "duplicate key '%s' in %s (first at "
				    "%zu:%zu)",
				    slots[i].key, where,
				    slots[i].key_mark.line + 1,
				    slots[i].key_mark.column + 1);
		slots[i].val = val;
		slots[i].key_mark = key->start_mark;
		slots[i].order = k;
	}
	return 0;
}

static int expect_map(parse_t *p, yaml_node_t *n, const char *where,
		      const char *example)
{
	if (n->type == YAML_MAPPING_NODE)
		return 0;
	return FAIL(&p->c, n->start_mark,
		    "%s: expected a mapping (e.g. %s), got %s", where, example,
		    kind(n));
}

static int missing(parse_t *p, yaml_node_t *map, const char *where,
		   const char *key, const char *what)
{
	return FAIL(&p->c, map->start_mark,
		    "%s: missing required key '%s' (%s)", where, key, what);
}

/* A number: a plain scalar holding a YAML number or an expression. */
static int eval_number(parse_t *p, yaml_node_t *n, const char *path,
		       double *out)
{
	ev_t e;

	if (n->type != YAML_SCALAR_NODE)
		return FAIL(&p->c, n->start_mark,
			    "%s: expected a number, got %s", path, kind(n));
	if (is_null(n))
		return FAIL(&p->c, n->start_mark,
			    "%s: expected a number, got an empty value", path);
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return FAIL(&p->c, n->start_mark,
			    "%s: expected a number, got the quoted string "
			    "'%.*s' (write numbers and expressions unquoted)",
			    path, slen(n), sval(n));
	if (ev_eval(&e, sval(n), n->data.scalar.length, out))
		return FAIL(&p->c, n->start_mark,
			    "%s: expected a number or an expression of "
			    "numbers, pi, * / unary -, ( ) and cos sin sqrt; "
			    "got '%.*s': %s",
			    path, slen(n), sval(n), e.msg);
	*out = nozero(*out);
	return 0;
}

static int eval_state(parse_t *p, yaml_node_t *n, double *out)
{
	if (n->type == YAML_SCALAR_NODE && !is_null(n))
		for (int k = 0; k < N_STATES; k++)
			if (scalar_is(n, state_names[k])) {
				*out = k;
				return 0;
			}
	if (n->type != YAML_SCALAR_NODE || is_null(n))
		return FAIL(&p->c, n->start_mark,
			    "state: expected a state name (ground_state or "
			    "domain_wall), got %s",
			    kind(n));
	return FAIL(&p->c, n->start_mark,
		    "unknown state '%.*s' (allowed: ground_state, domain_wall)",
		    slen(n), sval(n));
}

static int is_integer(double x)
{
	return isfinite(x) && x == floor(x);
}

/* Range check of one value of axis `ax`, written at node n. */
static int check_value(parse_t *p, int ax, double x, yaml_node_t *n)
{
	const char *path = p->path[ax];
	yaml_mark_t m = n->start_mark;

	if (ax != AX_STATE && !isfinite(x))
		return FAIL(&p->c, m, "%s must be a finite number, got '%.*s'",
			    path, slen(n), sval(n));
	switch (ax) {
	case AX_L:
		if (!is_integer(x))
			return FAIL(&p->c, m, "%s must be an integer, got %g",
				    path, x);
		if (x < L_MIN)
			return FAIL(&p->c, m,
				    "%s must be at least %d, got %.0f", path,
				    L_MIN, x);
		if (x > L_MAX)
			return FAIL(&p->c, m, "%s must be at most %d, got %.0f",
				    path, L_MAX, x);
		if (fmod(x, 2.0) != 0)
			return FAIL(&p->c, m,
				    "%s must be even (sites -L/2+1 .. L/2), "
				    "got %.0f",
				    path, x);
		break;
	case AX_J:
		if (x <= 0)
			return FAIL(&p->c, m, "%s must be > 0, got %g", path, x);
		break;
	case AX_LEFT:
	case AX_RIGHT:
		if ((ax == AX_LEFT ? p->left_gamma : p->right_gamma)) {
			if (x < 0 || x > SPEC_PI)
				return FAIL(&p->c, m,
					    "%s must be in [0, pi] "
					    "(delta = cos(gamma)), got %.17g",
					    path, x);
		} else if (fabs(x) > 1) {
			return FAIL(&p->c, m,
				    "%s must be in [-1, 1] (|delta| <= 1), "
				    "got %g",
				    path, x);
		}
		break;
	case AX_DT:
		if (x <= 0)
			return FAIL(&p->c, m, "%s must be > 0, got %g", path, x);
		break;
	case AX_TMAX:
		if (x < 0)
			return FAIL(&p->c, m, "%s must be >= 0, got %g", path,
				    x);
		break;
	case AX_ORDER:
		if (x != 2 && x != 4)
			return FAIL(&p->c, m,
				    "%s must be 2 or 4 (Trotter order), got %g",
				    path, x);
		break;
	case AX_ME:
		if (x <= 0)
			return FAIL(&p->c, m,
				    "%s must be a positive multiple of "
				    "evolve.dt, got %g",
				    path, x);
		break;
	case AX_CHI:
		if (!is_integer(x))
			return FAIL(&p->c, m, "%s must be an integer, got %g",
				    path, x);
		if (x < 1 || x > CHI_LIMIT)
			return FAIL(&p->c, m, "%s must be in [1, %d], got %.0f",
				    path, CHI_LIMIT, x);
		break;
	case AX_CUTOFF:
		if (x < 0 || x >= 1)
			return FAIL(&p->c, m, "%s must be in [0, 1), got %g",
				    path, x);
		break;
	default:
		break;
	}
	return 0;
}

/* One parameter: a value or a list of values (a sweep axis). */
static int parse_axis(parse_t *p, int ax, yaml_node_t *v)
{
	axis_t *a = &p->ax[ax];
	const char *path = p->path[ax];
	const char *what = ax == AX_STATE ? "a state name" : "a number";
	yaml_node_item_t *items = NULL;
	int n = 1, rc = 0;

	if (v->type == YAML_MAPPING_NODE) {
		rc = FAIL(&p->c, v->start_mark,
			  "%s: expected %s or a list of them, got a mapping",
			  path, what);
		goto out;
	}
	if (v->type == YAML_SEQUENCE_NODE) {
		items = v->data.sequence.items.start;
		n = (int)(v->data.sequence.items.top - items);
		if (n == 0) {
			rc = FAIL(&p->c, v->start_mark,
				  "empty list: %s needs at least one value",
				  path);
			goto out;
		}
	}
	free(a->v);
	free(a->mark);
	a->n = 0;
	a->v = malloc((size_t)n * sizeof *a->v);
	a->mark = malloc((size_t)n * sizeof *a->mark);
	if (!a->v || !a->mark) {
		rc = FAIL(&p->c, v->start_mark, "out of memory");
		goto out;
	}
	for (int k = 0; k < n; k++) {
		yaml_node_t *it = items ? node_at(p->doc, items[k]) : v;
		double x = 0;
		if (it->type == YAML_SEQUENCE_NODE) {
			rc = FAIL(&p->c, it->start_mark,
				  "nested lists are not allowed: %s takes %s "
				  "or a list of them",
				  path, what);
			goto out;
		}
		if (it->type == YAML_MAPPING_NODE) {
			rc = FAIL(&p->c, it->start_mark,
				  "%s: expected %s, got a mapping", path, what);
			goto out;
		}
		rc = ax == AX_STATE ? eval_state(p, it, &x)
				    : eval_number(p, it, path, &x);
		if (rc)
			goto out;
		rc = check_value(p, ax, x, it);
		if (rc)
			goto out;
		for (int j = 0; j < k; j++)
			if (a->v[j] == x) {
				rc = FAIL(&p->c, it->start_mark,
					  "duplicate value '%.*s' in %s (same "
					  "as the value at %zu:%zu): the points "
					  "would be identical",
					  slen(it), sval(it), path,
					  a->mark[j].line + 1,
					  a->mark[j].column + 1);
				goto out;
			}
		a->v[k] = x;
		a->mark[k] = it->start_mark;
		a->n = k + 1;
	}
	a->given = 1;
out:
	return rc;
}

static int set_default(parse_t *p, int ax, double x, yaml_mark_t m)
{
	axis_t *a = &p->ax[ax];

	a->v = malloc(sizeof *a->v);
	a->mark = malloc(sizeof *a->mark);
	if (!a->v || !a->mark)
		return FAIL(&p->c, m, "out of memory");
	a->n = 1;
	a->v[0] = x;
	a->mark[0] = m;
	a->given = 0;
	return 0;
}

/* chain.left / chain.right: { delta: ... } or { gamma: ... } */
static int parse_side(parse_t *p, yaml_node_t *v, int ax)
{
	const char *where = ax == AX_LEFT ? "chain.left" : "chain.right";
	slot_t s[2] = {{.key = "delta"}, {.key = "gamma"}};
	int rc, g;

	if (v->type != YAML_MAPPING_NODE)
		return FAIL(&p->c, v->start_mark,
			    "%s: expected a mapping with one of delta or "
			    "gamma (e.g. { delta: 0 }), got %s",
			    where, kind(v));
	rc = walk_map(p, v, where, s, 2);
	if (rc)
		return rc;
	if (s[0].val && s[1].val) {
		slot_t *later = s[0].order > s[1].order ? &s[0] : &s[1];
		return FAIL(&p->c, later->key_mark,
			    "%s takes exactly one of delta or gamma, not both "
			    "(delta = cos(gamma))",
			    where);
	}
	if (!s[0].val && !s[1].val)
		return FAIL(&p->c, v->start_mark,
			    "%s: needs one of delta or gamma (delta = "
			    "cos(gamma))",
			    where);
	g = s[1].val != NULL;
	if (ax == AX_LEFT) {
		p->left_gamma = g;
		p->path[ax] = g ? "chain.left.gamma" : "chain.left.delta";
	} else {
		p->right_gamma = g;
		p->path[ax] = g ? "chain.right.gamma" : "chain.right.delta";
	}
	return parse_axis(p, ax, g ? s[1].val : s[0].val);
}

static int parse_chain(parse_t *p, yaml_node_t *v)
{
	slot_t s[4] = {{.key = "length"},
		       {.key = "coupling"},
		       {.key = "left"},
		       {.key = "right"}};
	int rc;

	rc = expect_map(p, v, "chain", "{ length: 140, right: { delta: 0.5 } }");
	if (!rc)
		rc = walk_map(p, v, "chain", s, 4);
	if (rc)
		return rc;
	if (!s[0].val)
		return missing(p, v, "chain", "length",
			       "an even integer in [4, 10000]");
	rc = parse_axis(p, AX_L, s[0].val);
	if (!rc)
		rc = s[1].val ? parse_axis(p, AX_J, s[1].val)
			      : set_default(p, AX_J, 1.0, v->start_mark);
	if (!rc)
		rc = s[2].val ? parse_side(p, s[2].val, AX_LEFT)
			      : set_default(p, AX_LEFT, 0.0, v->start_mark);
	if (rc)
		return rc;
	if (!s[3].val)
		return missing(p, v, "chain", "right",
			       "{ delta: ... } or { gamma: ... }");
	return parse_side(p, s[3].val, AX_RIGHT);
}

static int parse_evolve(parse_t *p, yaml_node_t *v)
{
	slot_t s[4] = {{.key = "dt"},
		       {.key = "t_max"},
		       {.key = "order"},
		       {.key = "measure_every"}};
	int rc;

	rc = expect_map(p, v, "evolve", "{ t_max: 10, dt: 0.02 }");
	if (!rc)
		rc = walk_map(p, v, "evolve", s, 4);
	if (rc)
		return rc;
	rc = s[0].val ? parse_axis(p, AX_DT, s[0].val)
		      : set_default(p, AX_DT, 0.02, v->start_mark);
	if (rc)
		return rc;
	if (!s[1].val)
		return missing(p, v, "evolve", "t_max", "a number >= 0");
	rc = parse_axis(p, AX_TMAX, s[1].val);
	if (!rc)
		rc = s[2].val ? parse_axis(p, AX_ORDER, s[2].val)
			      : set_default(p, AX_ORDER, 4, v->start_mark);
	if (!rc)
		rc = s[3].val ? parse_axis(p, AX_ME, s[3].val)
			      : set_default(p, AX_ME, 0.5, v->start_mark);
	return rc;
}

static int parse_truncate(parse_t *p, yaml_node_t *v)
{
	slot_t s[2] = {{.key = "chi_max"}, {.key = "cutoff"}};
	int rc;

	rc = expect_map(p, v, "truncate", "{ chi_max: 64 }");
	if (!rc)
		rc = walk_map(p, v, "truncate", s, 2);
	if (rc)
		return rc;
	if (!s[0].val)
		return missing(p, v, "truncate", "chi_max",
			       "an integer in [1, 100000]");
	rc = parse_axis(p, AX_CHI, s[0].val);
	if (!rc)
		rc = s[1].val ? parse_axis(p, AX_CUTOFF, s[1].val)
			      : set_default(p, AX_CUTOFF, 1e-10, v->start_mark);
	return rc;
}

static int parse_measure(parse_t *p, yaml_node_t *v)
{
	yaml_node_item_t *items = NULL;
	yaml_mark_t seen[N_MEASURES];
	int n = 1;

	if (v->type == YAML_MAPPING_NODE || is_null(v))
		return FAIL(&p->c, v->start_mark,
			    "measure: expected a list of names, got %s",
			    kind(v));
	if (v->type == YAML_SEQUENCE_NODE) {
		items = v->data.sequence.items.start;
		n = (int)(v->data.sequence.items.top - items);
		if (n == 0)
			return FAIL(&p->c, v->start_mark,
				    "empty list: measure needs at least one "
				    "name (leave it out for the default)");
	}
	p->measure = 0;
	for (int k = 0; k < n; k++) {
		yaml_node_t *it = items ? node_at(p->doc, items[k]) : v;
		int j;
		if (it->type != YAML_SCALAR_NODE || is_null(it))
			return FAIL(&p->c, it->start_mark,
				    "measure: expected an observable name, "
				    "got %s",
				    it->type == YAML_SEQUENCE_NODE
					    ? "a nested list"
					    : kind(it));
		for (j = 0; j < N_MEASURES; j++)
			if (scalar_is(it, measure_names[j]))
				break;
		if (j == N_MEASURES)
			return FAIL(&p->c, it->start_mark,
				    "unknown measure '%.*s' (allowed: energy, "
				    "energy_current, magnetization, "
				    "spin_current, entropy, rho3)",
				    slen(it), sval(it));
		if (p->measure & (1u << j))
			return FAIL(&p->c, it->start_mark,
				    "duplicate measure '%s' (first at %zu:%zu)",
				    measure_names[j], seen[j].line + 1,
				    seen[j].column + 1);
		p->measure |= 1u << j;
		seen[j] = it->start_mark;
	}
	return 0;
}

static int parse_name(parse_t *p, yaml_node_t *v)
{
	size_t l;

	if (v->type != YAML_SCALAR_NODE || is_null(v))
		return FAIL(&p->c, v->start_mark,
			    "sweep: expected a name, got %s", kind(v));
	l = v->data.scalar.length;
	if (l > NAME_LIMIT)
		return FAIL(&p->c, v->start_mark,
			    "sweep: the name is longer than %d bytes",
			    NAME_LIMIT);
	for (size_t k = 0; k < l; k++)
		if ((unsigned char)sval(v)[k] < 0x20 || sval(v)[k] == 0x7f)
			return FAIL(&p->c, v->start_mark,
				    "sweep: the name contains a control "
				    "character");
	p->name = malloc(l + 1);
	if (!p->name)
		return FAIL(&p->c, v->start_mark, "out of memory");
	memcpy(p->name, sval(v), l);
	p->name[l] = '\0';
	return 0;
}

/* ------------------------------------------------------------------ */
/* thermal: and references: (the post-stage, engine/POSTSTAGE.md)       */

#define THERMAL_GRID_LIMIT 10001 /* values of one grid axis */
#define THERMAL_N_MAX 1000       /* physical sites of a purified chain */
#define THERMAL_CHI_MAX 4096

/* One number (not a list), with where it is written. */
static int one_number(parse_t *p, yaml_node_t *n, const char *path,
		      double *x)
{
	int rc = eval_number(p, n, path, x);
	if (!rc && !isfinite(*x))
		return FAIL(&p->c, n->start_mark,
			    "%s must be a finite number, got '%.*s'", path,
			    slen(n), sval(n));
	return rc;
}

/* A list of numbers (or one number) into a new array. */
static int number_list(parse_t *p, yaml_node_t *v, const char *path,
		       double **out, yaml_mark_t **marks, int *n)
{
	yaml_node_item_t *items = NULL;
	int k, cnt = 1;

	*out = NULL;
	*marks = NULL;
	*n = 0;
	if (v->type == YAML_MAPPING_NODE)
		return FAIL(&p->c, v->start_mark,
			    "%s: expected a number or a list of numbers, got "
			    "a mapping",
			    path);
	if (v->type == YAML_SEQUENCE_NODE) {
		items = v->data.sequence.items.start;
		cnt = (int)(v->data.sequence.items.top - items);
		if (cnt == 0)
			return FAIL(&p->c, v->start_mark,
				    "empty list: %s needs at least one value",
				    path);
	}
	*out = malloc((size_t)cnt * sizeof **out);
	*marks = malloc((size_t)cnt * sizeof **marks);
	if (!*out || !*marks)
		return FAIL(&p->c, v->start_mark, "out of memory");
	for (k = 0; k < cnt; k++) {
		yaml_node_t *it = items ? node_at(p->doc, items[k]) : v;
		if (it->type == YAML_SEQUENCE_NODE)
			return FAIL(&p->c, it->start_mark,
				    "nested lists are not allowed in %s", path);
		if (one_number(p, it, path, &(*out)[k]))
			return -1;
		(*marks)[k] = it->start_mark;
		*n = k + 1;
	}
	return 0;
}

/* delta values in [-1, 1] or gamma values in [0, pi], none twice. */
static int anisotropy_list(parse_t *p, yaml_node_t *v, const char *path,
			   int gamma, double **out, yaml_mark_t **marks,
			   int *n)
{
	if (number_list(p, v, path, out, marks, n))
		return -1;
	for (int k = 0; k < *n; k++) {
		double x = (*out)[k];
		if (gamma ? (x < 0 || x > SPEC_PI) : fabs(x) > 1)
			return FAIL(&p->c, (*marks)[k],
				    gamma ? "%s must be in [0, pi] (delta = "
					    "cos(gamma)), got %.17g"
					  : "%s must be in [-1, 1] (|delta| <= "
					    "1), got %.17g",
				    path, x);
		for (int j = 0; j < k; j++)
			if ((*out)[j] == x)
				return FAIL(&p->c, (*marks)[k],
					    "duplicate value %.17g in %s (same "
					    "as the value at %zu:%zu)",
					    x, path, (*marks)[j].line + 1,
					    (*marks)[j].column + 1);
	}
	return 0;
}

/* { min: ..., max: ..., step: ... } -> min + k step, k = 0 .. n-1 */
static int parse_grid(parse_t *p, yaml_node_t *v, const char *path,
		      double **out, int *n)
{
	slot_t s[3] = {{.key = "min"}, {.key = "max"}, {.key = "step"}};
	double x[3];
	char sub[64];
	int rc;

	snprintf(sub, sizeof sub, "%s", path);
	rc = expect_map(p, v, sub, "{ min: -5, max: 5, step: 0.1 }");
	if (!rc)
		rc = walk_map(p, v, sub, s, 3);
	if (rc)
		return rc;
	for (int k = 0; k < 3; k++) {
		if (!s[k].val)
			return missing(p, v, path, s[k].key, "a number");
		snprintf(sub, sizeof sub, "%s.%s", path, s[k].key);
		if (one_number(p, s[k].val, sub, &x[k]))
			return -1;
	}
	if (!(x[1] > x[0]))
		return FAIL(&p->c, s[1].val->start_mark,
			    "%s.max = %g must be larger than %s.min = %g", path,
			    x[1], path, x[0]);
	if (!(x[2] > 0))
		return FAIL(&p->c, s[2].val->start_mark,
			    "%s.step must be > 0, got %g", path, x[2]);
	double r = (x[1] - x[0]) / x[2], k = floor(r + 0.5);
	if (fabs(r - k) > 1e-9 * fmax(1.0, r))
		return FAIL(&p->c, s[2].val->start_mark,
			    "%s: (max - min) / step = %.12g is not an integer "
			    "(the grid must end on max)",
			    path, r);
	if (k + 1 > THERMAL_GRID_LIMIT)
		return FAIL(&p->c, s[2].val->start_mark,
			    "%s has %.0f values (at most %d)", path, k + 1,
			    THERMAL_GRID_LIMIT);
	*n = (int)k + 1;
	*out = malloc((size_t)*n * sizeof **out);
	if (!*out)
		return FAIL(&p->c, v->start_mark, "out of memory");
	for (int i = 0; i < *n; i++) {
		double g = i == *n - 1 ? x[1] : x[0] + i * x[2];
		(*out)[i] = fabs(g) <= 1e-9 * x[2] ? 0.0 : g;
	}
	return 0;
}

static int int_value(parse_t *p, yaml_node_t *n, const char *path, int lo,
		     int hi, int *out)
{
	double x;

	if (one_number(p, n, path, &x))
		return -1;
	if (x != floor(x))
		return FAIL(&p->c, n->start_mark,
			    "%s must be an integer, got %g", path, x);
	if (x < lo || x > hi)
		return FAIL(&p->c, n->start_mark, "%s must be in [%d, %d], got %g",
			    path, lo, hi, x);
	*out = (int)x;
	return 0;
}

static void thermal_free(spec_thermal_t **t)
{
	if (!t || !*t)
		return;
	free((*t)->delta);
	free((*t)->betas);
	free((*t)->mus);
	free(*t);
	*t = NULL;
}

static int parse_thermal(parse_t *p, yaml_node_t *v)
{
	slot_t s[9] = {{.key = "delta"},   {.key = "gamma"},
		       {.key = "beta"},    {.key = "mu"},
		       {.key = "length"},  {.key = "chi_max"},
		       {.key = "cutoff"},  {.key = "dtau"},
		       {.key = "order"}};
	spec_thermal_t *t;
	yaml_mark_t *marks = NULL;
	int rc, zero = 0;

	rc = expect_map(p, v, "thermal",
			"{ beta: { min: -5, max: 5, step: 0.1 }, length: 32, "
			"chi_max: 64 }");
	if (!rc)
		rc = walk_map(p, v, "thermal", s, 9);
	if (rc)
		return rc;
	t = p->thermal = calloc(1, sizeof *t);
	if (!t)
		return FAIL(&p->c, v->start_mark, "out of memory");
	p->thermal_mark = v->start_mark;
	if (s[0].val && s[1].val) {
		slot_t *later = s[0].order > s[1].order ? &s[0] : &s[1];
		return FAIL(&p->c, later->key_mark,
			    "thermal takes at most one of delta or gamma "
			    "(delta = cos(gamma))");
	}
	if (s[0].val || s[1].val) {
		int g = s[1].val != NULL;
		rc = anisotropy_list(p, g ? s[1].val : s[0].val,
				     g ? "thermal.gamma" : "thermal.delta", g,
				     &t->delta, &marks, &t->ndelta);
		free(marks);
		if (rc)
			return rc;
		if (g)
			for (int k = 0; k < t->ndelta; k++)
				t->delta[k] = nozero(cos(t->delta[k]));
		t->delta_given = 1;
	}
	if (!s[2].val)
		return missing(p, v, "thermal", "beta",
			       "{ min: ..., max: ..., step: ... }");
	rc = parse_grid(p, s[2].val, "thermal.beta", &t->betas, &t->nbeta);
	if (rc)
		return rc;
	if (t->nbeta < 2)
		return FAIL(&p->c, s[2].val->start_mark,
			    "thermal.beta needs at least 2 values");
	if (s[3].val) {
		rc = parse_grid(p, s[3].val, "thermal.mu", &t->mus, &t->nmu);
		if (rc)
			return rc;
		for (int k = 0; k < t->nmu; k++)
			zero |= t->mus[k] == 0;
		if (!zero)
			return FAIL(&p->c, s[3].val->start_mark,
				    "thermal.mu: the grid must contain mu = 0 "
				    "(the beta-only inversion of |Psi1> uses "
				    "it)");
	} else {
		t->nmu = 1;
		t->mus = malloc(sizeof *t->mus);
		if (!t->mus)
			return FAIL(&p->c, v->start_mark, "out of memory");
		t->mus[0] = 0;
	}
	if (!s[4].val)
		return missing(p, v, "thermal", "length",
			       "the purified chain's sites, even, >= 6");
	rc = int_value(p, s[4].val, "thermal.length", 6, THERMAL_N_MAX,
		       &t->length);
	if (rc)
		return rc;
	if (t->length % 2)
		return FAIL(&p->c, s[4].val->start_mark,
			    "thermal.length must be even, got %d", t->length);
	if (!s[5].val)
		return missing(p, v, "thermal", "chi_max", "an integer >= 1");
	rc = int_value(p, s[5].val, "thermal.chi_max", 1, THERMAL_CHI_MAX,
		       &t->chi_max);
	if (rc)
		return rc;
	p->thermal_chi_mark = s[5].val->start_mark;
	t->cutoff = 1e-10;
	if (s[6].val) {
		if (one_number(p, s[6].val, "thermal.cutoff", &t->cutoff))
			return -1;
		if (t->cutoff < 0 || t->cutoff >= 1)
			return FAIL(&p->c, s[6].val->start_mark,
				    "thermal.cutoff must be in [0, 1), got %g",
				    t->cutoff);
	}
	t->dtau = 0.05;
	if (s[7].val) {
		if (one_number(p, s[7].val, "thermal.dtau", &t->dtau))
			return -1;
		if (!(t->dtau > 0) || t->dtau > 1)
			return FAIL(&p->c, s[7].val->start_mark,
				    "thermal.dtau must be in (0, 1], got %g",
				    t->dtau);
	}
	t->order = 4;
	if (s[8].val) {
		rc = int_value(p, s[8].val, "thermal.order", 2, 4, &t->order);
		if (rc)
			return rc;
		if (t->order == 3)
			return FAIL(&p->c, s[8].val->start_mark,
				    "thermal.order must be 2 or 4 (Trotter "
				    "order), got 3");
	}
	return 0;
}

/* references: { delta: [...], gamma: [...] } -- homogeneous chains (both
 * halves with that anisotropy), one per value and per combination of the
 * other axes, appended after the product. */
static int parse_references(parse_t *p, yaml_node_t *v)
{
	slot_t s[2] = {{.key = "delta"}, {.key = "gamma"}};
	double *vals[2] = {NULL, NULL};
	yaml_mark_t *marks[2] = {NULL, NULL};
	int n[2] = {0, 0}, rc;

	rc = expect_map(p, v, "references", "{ gamma: [pi/4] }");
	if (!rc)
		rc = walk_map(p, v, "references", s, 2);
	if (rc)
		return rc;
	if (!s[0].val && !s[1].val)
		return FAIL(&p->c, v->start_mark,
			    "references: needs delta or gamma (the "
			    "anisotropy of both halves)");
	for (int g = 0; g < 2; g++)
		if (s[g].val &&
		    anisotropy_list(p, s[g].val,
				    g ? "references.gamma" : "references.delta",
				    g, &vals[g], &marks[g], &n[g])) {
			rc = -1;
			goto out;
		}
	p->nref = n[0] + n[1];
	p->ref_delta = malloc((size_t)p->nref * sizeof *p->ref_delta);
	p->ref_gamma = malloc((size_t)p->nref * sizeof *p->ref_gamma);
	p->ref_mark = malloc((size_t)p->nref * sizeof *p->ref_mark);
	if (!p->ref_delta || !p->ref_gamma || !p->ref_mark) {
		rc = FAIL(&p->c, v->start_mark, "out of memory");
		goto out;
	}
	for (int k = 0; k < n[0]; k++) {
		p->ref_delta[k] = vals[0][k];
		p->ref_gamma[k] = NAN;
		p->ref_mark[k] = marks[0][k];
	}
	for (int k = 0; k < n[1]; k++) {
		p->ref_delta[n[0] + k] = nozero(cos(vals[1][k]));
		p->ref_gamma[n[0] + k] = vals[1][k];
		p->ref_mark[n[0] + k] = marks[1][k];
	}
out:
	for (int g = 0; g < 2; g++) {
		free(vals[g]);
		free(marks[g]);
	}
	return rc;
}

static int parse_root(parse_t *p, yaml_node_t *root)
{
	slot_t s[9] = {{.key = "sweep"},    {.key = "chain"},
		       {.key = "state"},    {.key = "evolve"},
		       {.key = "truncate"}, {.key = "measure"},
		       {.key = "thermal"},  {.key = "references"},
		       {.key = "refine"}};
	int rc;

	if (root->type != YAML_MAPPING_NODE)
		return FAIL(&p->c, root->start_mark,
			    "expected a mapping with the keys sweep, chain, "
			    "state, evolve, truncate, measure at the top "
			    "level, got %s",
			    kind(root));
	rc = walk_map(p, root, "the top level", s, 9);
	if (rc)
		return rc;
	if (!s[0].val)
		return missing(p, root, "top level", "sweep", "the sweep's name");
	rc = parse_name(p, s[0].val);
	if (rc)
		return rc;
	if (!s[1].val)
		return missing(p, root, "top level", "chain",
			       "{ length: ..., right: ... }");
	rc = parse_chain(p, s[1].val);
	if (rc)
		return rc;
	if (!s[2].val)
		return missing(p, root, "top level", "state",
			       "ground_state, domain_wall or a list of them");
	rc = parse_axis(p, AX_STATE, s[2].val);
	if (rc)
		return rc;
	if (!s[3].val)
		return missing(p, root, "top level", "evolve",
			       "{ t_max: ... } at least");
	rc = parse_evolve(p, s[3].val);
	if (rc)
		return rc;
	if (!s[4].val)
		return missing(p, root, "top level", "truncate",
			       "{ chi_max: ... } at least");
	rc = parse_truncate(p, s[4].val);
	if (rc)
		return rc;
	if (s[5].val)
		rc = parse_measure(p, s[5].val);
	else
		p->measure = MEASURE_DEFAULT;
	if (!rc && s[6].val)
		rc = parse_thermal(p, s[6].val);
	if (!rc && s[7].val)
		rc = parse_references(p, s[7].val);
	p->refine = s[8].val; /* applied after the references */
	return rc;
}

/* ------------------------------------------------------------------ */
/* relations between parameters, expansion                            */

/* ref < 0: the product point at idx; ref >= 0: the homogeneous reference
 * ref of the references: key (idx[AX_LEFT], idx[AX_RIGHT] unused). */
static void fill_point(const parse_t *p, const int *idx, int ref, int id,
		       spec_point_t *pt)
{
	char buf[1024];
	int len;

	memset(pt, 0, sizeof *pt);
	pt->id = id;
	pt->L = (int)p->ax[AX_L].v[idx[AX_L]];
	pt->J = p->ax[AX_J].v[idx[AX_J]];
	if (ref >= 0) {
		pt->delta_left = pt->delta_right = p->ref_delta[ref];
		pt->gamma_right = isnan(p->ref_gamma[ref])
					  ? nozero(acos(p->ref_delta[ref]))
					  : p->ref_gamma[ref];
	} else {
		double right = p->ax[AX_RIGHT].v[idx[AX_RIGHT]];
		double left = p->ax[AX_LEFT].v[idx[AX_LEFT]];
		pt->delta_left = p->left_gamma ? nozero(cos(left)) : left;
		if (p->right_gamma) {
			pt->gamma_right = right;
			pt->delta_right = nozero(cos(right));
		} else {
			pt->delta_right = right;
			pt->gamma_right = nozero(acos(right));
		}
	}
	pt->state = (int)p->ax[AX_STATE].v[idx[AX_STATE]];
	pt->dt = p->ax[AX_DT].v[idx[AX_DT]];
	pt->t_max = p->ax[AX_TMAX].v[idx[AX_TMAX]];
	pt->order = (int)p->ax[AX_ORDER].v[idx[AX_ORDER]];
	pt->measure_every = p->ax[AX_ME].v[idx[AX_ME]];
	pt->chi_max = (int)p->ax[AX_CHI].v[idx[AX_CHI]];
	pt->cutoff = p->ax[AX_CUTOFF].v[idx[AX_CUTOFF]];
	pt->measure = p->measure;
	/* both counts were bounded by check_cross */
	pt->n_measure = (int)floor(pt->t_max / pt->measure_every + 1e-9) + 1;
	pt->steps_per_measure = (int)lround(pt->measure_every / pt->dt);
	len = spec_point_canonical(pt, buf, sizeof buf);
	pt->hash = eu_fnv1a(EU_FNV_INIT, buf, len < 0 ? 0 : (size_t)len);
	snprintf(pt->hash_hex, sizeof pt->hash_hex, "%016" PRIx64, pt->hash);
}

static int check_cross(parse_t *p)
{
	const axis_t *dt = &p->ax[AX_DT], *me = &p->ax[AX_ME],
		     *tm = &p->ax[AX_TMAX], *L = &p->ax[AX_L],
		     *chi = &p->ax[AX_CHI];
	char desc[512], mem[32];
	double np = 1;

	for (int i = 0; i < dt->n; i++)
		for (int j = 0; j < me->n; j++) {
			double r = me->v[j] / dt->v[i], k = floor(r + 0.5);
			yaml_mark_t m = me->given ? me->mark[j] : dt->mark[i];
			if (k < 1 || fabs(me->v[j] - k * dt->v[i]) >
					     MULTIPLE_RTOL * me->v[j])
				return FAIL(&p->c, m,
					    "evolve.measure_every = %g is not a "
					    "positive multiple of evolve.dt = "
					    "%g%s",
					    me->v[j], dt->v[i],
					    me->given ? ""
						      : " (measure_every "
							"defaults to 0.5; set "
							"it)");
			if (k > COUNT_LIMIT)
				return FAIL(&p->c, m,
					    "evolve.measure_every / evolve.dt "
					    "= %.3g steps between measurements "
					    "(at most %.0g)",
					    k, COUNT_LIMIT);
		}
	for (int t = 0; t < tm->n; t++)
		for (int j = 0; j < me->n; j++)
			if (tm->v[t] / me->v[j] + 1 > COUNT_LIMIT)
				return FAIL(&p->c, tm->mark[t],
					    "evolve.t_max / "
					    "evolve.measure_every = %.3g "
					    "measurement times (at most %.0g)",
					    tm->v[t] / me->v[j], COUNT_LIMIT);
	for (int a = 0; a < AX_N; a++)
		np *= p->ax[a].n;
	if (p->nref) /* references: every axis but left and right */
		np += np / (p->ax[AX_LEFT].n * p->ax[AX_RIGHT].n) * p->nref;
	if (np > POINTS_LIMIT) {
		size_t off = 0;
		desc[0] = '\0';
		for (int a = 0; a < AX_N && off < sizeof desc; a++)
			if (p->ax[a].n > 1)
				off += (size_t)snprintf(
					desc + off, sizeof desc - off,
					"%s%s (%d)", off ? " x " : "",
					p->path[a], p->ax[a].n);
		if (p->nref && off < sizeof desc)
			snprintf(desc + off, sizeof desc - off,
				 " + %d references", p->nref);
		return FAIL(&p->c, p->root_mark,
			    "the sweep has %.0f points, more than the limit "
			    "of %d: %s",
			    np, POINTS_LIMIT, desc);
	}
	for (int i = 0; i < L->n; i++)
		for (int j = 0; j < chi->n; j++) {
			spec_point_t pt;
			double b;
			memset(&pt, 0, sizeof pt);
			pt.L = (int)L->v[i];
			pt.chi_max = (int)chi->v[j];
			b = spec_point_memory_bytes(&pt);
			if (b > MEMORY_LIMIT) {
				fmt_bytes(b, mem, sizeof mem);
				return FAIL(&p->c, chi->mark[j],
					    "truncate.chi_max = %d with "
					    "chain.length = %d needs an "
					    "estimated %s of memory per point "
					    "(limit 1 TiB)",
					    pt.chi_max, pt.L, mem);
			}
		}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* A reference equal to a product point (or to another reference) would run
 * the same simulation twice under one hash: refuse it. */
static int check_ref_duplicates(parse_t *p, const spec_t *s)
{
	uint64_t *h;
	int dup = 0, rc = 0;

	if (s->npoints == s->nproduct)
		return 0;
	h = malloc((size_t)s->npoints * sizeof *h);
	if (!h)
		return FAIL(&p->c, p->root_mark, "out of memory");
	for (int k = 0; k < s->npoints; k++)
		h[k] = s->points[k].hash;
	qsort(h, (size_t)s->npoints, sizeof *h, cmp_u64);
	for (int k = 1; k < s->npoints && !dup; k++)
		dup = h[k] == h[k - 1];
	if (dup) {
		int per = (s->npoints - s->nproduct) / p->nref;
		for (int k = s->nproduct; k < s->npoints && !rc; k++)
			for (int j = 0; j < k && !rc; j++)
				if (s->points[j].hash == s->points[k].hash)
					rc = FAIL(&p->c,
						  p->ref_mark[(k - s->nproduct) /
							      per],
						  "references: the homogeneous "
						  "chain delta = %.17g is "
						  "already point %d of the "
						  "sweep",
						  s->points[k].delta_right, j);
	}
	free(h);
	return rc;
}

static int build_points(parse_t *p, spec_t *s)
{
	int idx[AX_N], np = 1, nother = 1, big = 0;
	double total = 0, b, bmax = -1;
	char tot[32];

	for (int a = 0; a < AX_N; a++)
		np *= p->ax[a].n; /* <= POINTS_LIMIT, checked */
	nother = np / (p->ax[AX_LEFT].n * p->ax[AX_RIGHT].n);
	s->nproduct = np;
	np += p->nref * nother;
	s->points = calloc((size_t)np, sizeof *s->points);
	if (!s->points)
		return FAIL(&p->c, p->root_mark, "out of memory");
	s->npoints = np;
	for (int id = 0; id < np; id++) {
		int r = id, ref = -1;
		if (id >= s->nproduct) { /* reference value slowest */
			r = id - s->nproduct;
			ref = r / nother;
			r %= nother;
		}
		for (int a = AX_N - 1; a >= 0; a--) { /* last axis fastest */
			if (ref >= 0 && (a == AX_LEFT || a == AX_RIGHT)) {
				idx[a] = 0;
				continue;
			}
			idx[a] = r % p->ax[a].n;
			r /= p->ax[a].n;
		}
		fill_point(p, idx, ref, id, &s->points[id]);
		b = spec_point_archive_bytes(&s->points[id]);
		total += b;
		if (b > bmax) {
			bmax = b;
			big = id;
		}
	}
	if (total > ARCHIVE_LIMIT) {
		const spec_point_t *q = &s->points[big];
		fmt_bytes(total, tot, sizeof tot);
		return FAIL(&p->c, p->root_mark,
			    "the archive would need an estimated %s (limit 10 "
			    "TiB) for %d points; the largest point has L = "
			    "%d, %d measurement times%s",
			    tot, np, q->L, q->n_measure,
			    (q->measure & SPEC_M_RHO3) ? " and rho3" : "");
	}
	return check_ref_duplicates(p, s);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Thermal table k of section t as point `id` (spec_point_t: what its
 * fields mean for a table). */
static void fill_table(const spec_thermal_t *t, int k, int id,
		       spec_point_t *pt)
{
	char buf[1024];
	int len;

	memset(pt, 0, sizeof *pt);
	pt->id = id;
	pt->L = t->length;
	pt->J = 1;
	pt->delta_left = pt->delta_right = t->delta[k];
	pt->gamma_right = nozero(acos(t->delta[k]));
	pt->state = SPEC_STATE_THERMAL;
	pt->dt = t->dtau;
	pt->order = t->order;
	pt->chi_max = t->chi_max;
	pt->cutoff = t->cutoff;
	pt->n_measure = t->nmu;
	pt->thermal = t;
	len = spec_point_canonical(pt, buf, sizeof buf);
	pt->hash = eu_fnv1a(EU_FNV_INIT, buf, len < 0 ? 0 : (size_t)len);
	snprintf(pt->hash_hex, sizeof pt->hash_hex, "%016" PRIx64, pt->hash);
}

/* The thermal section's anisotropies: sorted, merged within 1e-12 (cos(pi/2)
 * = 6e-17 and 0 are one table); by default every delta of the points.  Each
 * becomes a thermal table appended to the points, so the farm runs it like
 * any point; the limits on points, memory and archive size count them. */
static int finish_thermal(parse_t *p, spec_t *s)
{
	spec_thermal_t *t = p->thermal;
	spec_point_t *pts;
	double *d, total = 0;
	char buf[32];
	int n = 0, m = 0, n0 = s->npoints;

	if (!t)
		return 0;
	if (!t->delta_given) {
		t->delta = malloc(2 * (size_t)s->npoints * sizeof *t->delta);
		if (!t->delta)
			return FAIL(&p->c, p->root_mark, "out of memory");
		for (int k = 0; k < s->npoints; k++) {
			t->delta[n++] = s->points[k].delta_left;
			t->delta[n++] = s->points[k].delta_right;
		}
		t->ndelta = n;
	}
	d = t->delta;
	qsort(d, (size_t)t->ndelta, sizeof *d, cmp_double);
	for (int k = 0; k < t->ndelta; k++)
		if (!m || d[k] - d[m - 1] > 1e-12)
			d[m++] = d[k];
	t->ndelta = m;
	s->thermal = t;
	p->thermal = NULL;

	if ((double)n0 + m > POINTS_LIMIT)
		return FAIL(&p->c, p->thermal_mark,
			    "the sweep has %d points and %d thermal tables, "
			    "more than the limit of %d together",
			    n0, m, POINTS_LIMIT);
	pts = realloc(s->points, ((size_t)n0 + (size_t)m) * sizeof *pts);
	if (!pts)
		return FAIL(&p->c, p->thermal_mark, "out of memory");
	s->points = pts;
	for (int k = 0; k < m; k++)
		fill_table(t, k, n0 + k, &pts[n0 + k]);
	s->npoints = n0 + m;
	s->ntables = m;
	if (m && spec_point_memory_bytes(&pts[n0]) > MEMORY_LIMIT) {
		fmt_bytes(spec_point_memory_bytes(&pts[n0]), buf, sizeof buf);
		return FAIL(&p->c, p->thermal_chi_mark,
			    "thermal.chi_max = %d with thermal.length = %d "
			    "needs an estimated %s of memory per imaginary-"
			    "time run (limit 1 TiB)",
			    t->chi_max, t->length, buf);
	}
	for (int k = 0; k < s->npoints; k++)
		total += spec_point_archive_bytes(&pts[k]);
	if (total > ARCHIVE_LIMIT) {
		fmt_bytes(total, buf, sizeof buf);
		return FAIL(&p->c, p->thermal_mark,
			    "the archive would need an estimated %s (limit 10 "
			    "TiB) with the %d thermal tables of %d x %d (beta "
			    "x mu) values each",
			    buf, m, t->nbeta, t->nmu);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* syntax errors                                                       */

/* 1-based line/column of a byte offset (reader errors carry only that). */
static void offset_pos(const char *text, size_t len, size_t off, size_t *line,
		       size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t k = 0; k < off && k < len; k++) {
		unsigned char ch = (unsigned char)text[k];
		if (ch == '\n') {
			(*line)++;
			*col = 1;
		} else if ((ch & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

/* Does 0-based line `line` of the text contain a tab? (hint only) */
static int line_has_tab(const char *text, size_t len, size_t line)
{
	size_t k = 0, l = 0;

	while (k < len && l < line)
		if (text[k++] == '\n')
			l++;
	for (; k < len && text[k] != '\n'; k++)
		if (text[k] == '\t')
			return 1;
	return 0;
}

static int syntax_error(const ctx_t *c, const yaml_parser_t *ps,
			const char *text, size_t len)
{
	const char *what = ps->problem ? ps->problem : "unknown error";
	const char *hint = "";
	size_t line, col;

	if (ps->error == YAML_MEMORY_ERROR)
		return fail_at(c, 1, 1, "out of memory while parsing YAML");
	if (ps->error == YAML_READER_ERROR) {
		offset_pos(text, len, ps->problem_offset, &line, &col);
		return fail_at(c, line, col,
			       "YAML syntax error: %s (the file must be "
			       "UTF-8 text)",
			       what);
	}
	if (line_has_tab(text, len, ps->problem_mark.line) ||
	    (ps->context && line_has_tab(text, len, ps->context_mark.line)))
		hint = "; YAML indentation must use spaces, not tabs";
	if (ps->context)
		return FAIL(c, ps->problem_mark,
			    "YAML syntax error: %s (%s at %zu:%zu)%s", what,
			    ps->context, ps->context_mark.line + 1,
			    ps->context_mark.column + 1, hint);
	return FAIL(c, ps->problem_mark, "YAML syntax error: %s%s", what, hint);
}

/* ------------------------------------------------------------------ */
/* public                                                              */

int spec_parse(spec_t **out, const char *name, const char *text, size_t len,
	       char *err)
{
	char errbuf[EU_ERRLEN];
	yaml_parser_t ps;
	yaml_document_t doc, doc2;
	int have_ps = 0, have_doc = 0, have_doc2 = 0, rc = -1;
	parse_t p;
	spec_t *s = NULL;
	yaml_node_t *root;

	memset(&p, 0, sizeof p);
	p.c.fname = name ? name : "<spec>";
	p.c.err = err ? err : errbuf;
	p.c.err[0] = '\0';
	p.path[AX_L] = "chain.length";
	p.path[AX_J] = "chain.coupling";
	p.path[AX_LEFT] = "chain.left.delta";
	p.path[AX_RIGHT] = "chain.right.delta";
	p.path[AX_STATE] = "state";
	p.path[AX_DT] = "evolve.dt";
	p.path[AX_TMAX] = "evolve.t_max";
	p.path[AX_ORDER] = "evolve.order";
	p.path[AX_ME] = "evolve.measure_every";
	p.path[AX_CHI] = "truncate.chi_max";
	p.path[AX_CUTOFF] = "truncate.cutoff";
	if (!out || (!text && len)) {
		fail_at(&p.c, 1, 1, "spec_parse: invalid arguments");
		goto out;
	}
	*out = NULL;
	if (!text)
		text = "";

	s = calloc(1, sizeof *s);
	if (!s || !(s->text = malloc(len + 1))) {
		fail_at(&p.c, 1, 1, "out of memory");
		goto out;
	}
	memcpy(s->text, text, len);
	s->text[len] = '\0';
	s->hash = eu_fnv1a(EU_FNV_INIT, text, len);
	snprintf(s->hash_hex, sizeof s->hash_hex, "%016" PRIx64, s->hash);

	if (!yaml_parser_initialize(&ps)) {
		fail_at(&p.c, 1, 1, "out of memory");
		goto out;
	}
	have_ps = 1;
	yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
	if (!yaml_parser_load(&ps, &doc)) {
		syntax_error(&p.c, &ps, text, len);
		goto out;
	}
	have_doc = 1;
	p.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		fail_at(&p.c, 1, 1,
			"empty spec: expected a mapping with the keys sweep, "
			"chain, state, evolve, truncate (and measure)");
		goto out;
	}
	/* a second document would be silently ignored: refuse it */
	if (!yaml_parser_load(&ps, &doc2)) {
		syntax_error(&p.c, &ps, text, len);
		goto out;
	}
	have_doc2 = 1;
	if (yaml_document_get_root_node(&doc2)) {
		FAIL(&p.c, yaml_document_get_root_node(&doc2)->start_mark,
		     "a spec is one YAML document; found a second one");
		goto out;
	}
	p.root_mark = root->start_mark;
	if (parse_root(&p, root) || check_cross(&p) || build_points(&p, s) ||
	    spec_refine_apply(s, p.doc, p.refine, p.c.fname, p.c.err) ||
	    finish_thermal(&p, s))
		goto out;
	s->name = p.name;
	p.name = NULL;
	*out = s;
	s = NULL;
	rc = 0;
out:
	for (int a = 0; a < AX_N; a++) {
		free(p.ax[a].v);
		free(p.ax[a].mark);
	}
	free(p.name);
	free(p.ref_delta);
	free(p.ref_gamma);
	free(p.ref_mark);
	thermal_free(&p.thermal);
	if (have_doc2)
		yaml_document_delete(&doc2);
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_ps)
		yaml_parser_delete(&ps);
	spec_destroy(&s);
	return rc;
}

int spec_load(spec_t **out, const char *path, char *err)
{
	char errbuf[EU_ERRLEN];
	char *e = err ? err : errbuf;
	FILE *f = NULL;
	char *buf = NULL;
	long size;
	size_t got;
	int rc = -1;

	if (out)
		*out = NULL;
	if (!out || !path) {
		snprintf(e, EU_ERRLEN, "spec_load: invalid arguments");
		goto out;
	}
	f = fopen(path, "rb");
	if (!f) {
		snprintf(e, EU_ERRLEN, "%s: cannot open: %s", path,
			 strerror(errno));
		goto out;
	}
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		snprintf(e, EU_ERRLEN, "%s: cannot read: %s", path,
			 strerror(errno));
		goto out;
	}
	if (size > FILE_LIMIT) {
		snprintf(e, EU_ERRLEN,
			 "%s: %ld bytes is too large for a spec (limit %ld)",
			 path, size, FILE_LIMIT);
		goto out;
	}
	buf = malloc((size_t)size + 1);
	if (!buf) {
		snprintf(e, EU_ERRLEN, "%s: out of memory", path);
		goto out;
	}
	got = fread(buf, 1, (size_t)size, f);
	if (got != (size_t)size || ferror(f)) {
		snprintf(e, EU_ERRLEN, "%s: cannot read: %s", path,
			 ferror(f) ? strerror(errno) : "short read");
		goto out;
	}
	rc = spec_parse(out, path, buf, got, e);
out:
	free(buf);
	if (f)
		fclose(f);
	return rc;
}

void spec_destroy(spec_t **s)
{
	if (!s || !*s)
		return;
	free((*s)->name);
	free((*s)->text);
	free((*s)->points);
	thermal_free(&(*s)->thermal);
	free(*s);
	*s = NULL;
}

const char *spec_state_name(int state)
{
	if (state >= 0 && state < N_STATES)
		return state_names[state];
	return state == SPEC_STATE_THERMAL ? "thermal_table" : "?";
}

/* "n,first,last,FNV" of a grid: the hash (FNV-1a 64 of the %.17g texts of
 * every value, comma-separated) makes two grids that differ anywhere two
 * texts, whatever the byte order of the machine. */
static int grid_canonical(const double *v, int n, char *buf, size_t len)
{
	char x[40];
	uint64_t h = EU_FNV_INIT;

	for (int k = 0; k < n; k++) {
		int l = snprintf(x, sizeof x, "%s%.17g", k ? "," : "", v[k]);
		h = eu_fnv1a(h, x, (size_t)l);
	}
	return snprintf(buf, len, "%d,%.17g,%.17g,%016" PRIx64, n, v[0],
			v[n - 1], h);
}

/* A thermal table: its parameters and both grids (J = 1 always, written
 * out so that the text says what the table is). */
static int table_canonical(const spec_point_t *p, char *buf, size_t len)
{
	const spec_thermal_t *t = p->thermal;
	char gb[128], gm[128];

	grid_canonical(t->betas, t->nbeta, gb, sizeof gb);
	grid_canonical(t->mus, t->nmu, gm, sizeof gm);
	return snprintf(buf, len,
			"kapitza-thermal-v1;N=%d;J=%.17g;delta=%.17g;"
			"chi_max=%d;cutoff=%.17g;dtau=%.17g;order=%d;beta=%s;"
			"mu=%s",
			p->L, p->J, p->delta_right, p->chi_max, p->cutoff,
			p->dt, p->order, gb, gm);
}

int spec_point_canonical(const spec_point_t *p, char *buf, size_t len)
{
	char meas[128];
	size_t off = 0;

	if (p->state == SPEC_STATE_THERMAL && p->thermal)
		return table_canonical(p, buf, len);

	meas[0] = '\0';
	for (int k = 0; k < N_MEASURES; k++)
		if (p->measure & (1u << k))
			off += (size_t)snprintf(meas + off, sizeof meas - off,
						"%s%s", off ? "," : "",
						measure_names[k]);
	return snprintf(
		buf, len,
		"kapitza-point-v1;L=%d;J=%.17g;delta_left=%.17g;"
		"delta_right=%.17g;gamma_right=%.17g;state=%s;dt=%.17g;"
		"t_max=%.17g;measure_every=%.17g;order=%d;chi_max=%d;"
		"cutoff=%.17g;measure=%s;n_measure=%d;steps_per_measure=%d",
		p->L, p->J, p->delta_left, p->delta_right, p->gamma_right,
		p->state >= 0 && p->state < N_STATES ? state_names[p->state]
						     : "?",
		p->dt, p->t_max, p->measure_every, p->order, p->chi_max,
		p->cutoff, meas, p->n_measure, p->steps_per_measure);
}

/* ---- core-hours (kapitza run --dry-run; engine/POSTSTAGE.md) ----------
 * Calibrated with `kapitza bench` on one core (OpenBLAS, U(1) blocks,
 * Forest-Ruth order 4): a bond at the bond-dimension cap costs about
 * TEBD_C chi^3 + TEBD_C0 seconds per time step (chi = 128: 0.107 s per
 * step with 19 bonds at the cap, L = 140, t = 20; 2026-11).  The domain
 * wall is a product state: the bonds inside its light cone, 1 + (1 + pi/2) t
 * of them (v_L = 1 for XX, v_R <= pi/2 for XXZ), are counted as saturated
 * from the moment they are reached (the bench's domain wall at t = 20 has 19
 * bonds at the cap where this counts 52: an upper-end figure).  |Psi1>
 * comes from DMRG at the cap on every bond, so all L - 1 bonds count from
 * t = 0.  DMRG: DMRG_SWEEPS sweeps of DMRG_C L chi^3 seconds (bench --dmrg:
 * chi = 64, L = 140, 8 sweeps in 4.0 s).  Order 2 steps cost about a third
 * of order 4 ones.  A thermal table: per mu, max(nbeta - 1, (beta_max - beta_min) / (2 dtau))
 * imaginary-time steps of THERMAL_C x 2N x chi^3 seconds (the four tables
 * of sweeps/paper-reduced-tables.yaml, N = 32, chi 128, 101 betas: 105 s on
 * one core, 2026-11). */
#define TEBD_C 2.5e-9
#define TEBD_C0 4.0e-4
#define DMRG_C 1.4e-8
#define DMRG_SWEEPS 10
#define THERMAL_C 2.0e-9 /* per site of the 2N-site purified chain */

static int is_table(const spec_point_t *p)
{
	return p->state == SPEC_STATE_THERMAL && p->thermal;
}

/* The Schmidt rank across any bond of L spins-1/2 is at most 2^(L/2), so a
 * chi_max above that is never reached: cost and memory use the cap.  A
 * thermal table's MPS has 2N sites (N = p->L): at most 2^N. */
static double chi_eff(const spec_point_t *p)
{
	double cap = ldexp(1.0, is_table(p) ? p->L : p->L / 2);
	return p->chi_max < cap ? (double)p->chi_max : cap;
}

/* A thermal table's imaginary-time work, in steps x sites x chi^3 (2N
 * sites), Trotter order included. */
static double table_work(const spec_point_t *p)
{
	const spec_thermal_t *t = p->thermal;
	double chi = chi_eff(p), steps;

	steps = (t->betas[t->nbeta - 1] - t->betas[0]) / (2 * p->dt);
	if (steps < t->nbeta - 1)
		steps = t->nbeta - 1;
	return t->nmu * steps * 2.0 * p->L * chi * chi * chi *
	       (p->order == 2 ? 1.0 / 3 : 1.0);
}

double spec_point_cost(const spec_point_t *p)
{
	double chi = chi_eff(p);
	double steps = p->dt > 0 ? p->t_max / p->dt : 0;
	/* in the units of a TEBD bond step: the kernels' calibrated ratio */
	if (is_table(p))
		return table_work(p) * THERMAL_C / TEBD_C;
	/* + 1: a t_max = 0 point still prepares its state */
	return (double)p->L * chi * chi * chi * (steps + 1);
}

double spec_point_memory_bytes(const spec_point_t *p)
{
	double chi = chi_eff(p);
	if (is_table(p)) /* one run: 2N sites */
		return 16.0 * chi * chi * (8.0 * p->L + 32.0);
	/* complex doubles (16 B): the MPS, L tensors chi x 2 x chi, twice
	 * (state + copy/environment), plus the two-site workspace (theta,
	 * its SVD factors and LAPACK work: ~32 chi^2) */
	return 16.0 * chi * chi * (4.0 * p->L + 32.0);
}

double spec_point_archive_bytes(const spec_point_t *p)
{
	double per_time = 3; /* time, discarded weight, norm */
	double bytes;

	if (is_table(p)) { /* beta; per mu: mu, discarded, e, sz, rho3 */
		double nb = p->thermal->nbeta;
		return 8.0 * nb + p->n_measure * (16.0 + nb * (16.0 + 1024.0));
	}
	per_time += p->L - 1; /* bond dimensions */
	for (int k = 0; k < 5; k++) /* per-site/bond observables */
		if (p->measure & (1u << k))
			per_time += p->L;
	bytes = 8.0 * per_time;
	if (p->measure & SPEC_M_RHO3) /* 64 complex per 3-site window */
		bytes += 64.0 * 16.0 * (p->L - 2);
	return (double)p->n_measure * bytes;
}

double spec_point_core_hours(const spec_point_t *p)
{
	double chi = chi_eff(p), steps, s = 0, v = 1 + SPEC_PI / 2;
	double per = TEBD_C * chi * chi * chi + TEBD_C0;

	if (is_table(p))
		return table_work(p) * THERMAL_C / 3600;
	if (!(p->dt > 0) || p->L < 2)
		return 0;
	steps = p->t_max / p->dt;
	/* sum over steps of the bonds in the light cone, in closed form:
	 * n(t) = min(L-1, 1 + v t); |Psi1> (DMRG) is at the cap on every bond
	 * from the start, the domain wall is a product state */
	double tsat = p->state == SPEC_STATE_GROUND ? 0 : (p->L - 2) / v;
	double t1 = p->t_max < tsat ? p->t_max : tsat;
	s = (t1 + v * t1 * t1 / 2) / p->dt;           /* growing part */
	if (p->t_max > tsat)
		s += (p->L - 1) * (p->t_max - tsat) / p->dt;
	s = s > steps * (p->L - 1) ? steps * (p->L - 1) : s;
	double sec = s * per * (p->order == 2 ? 1.0 / 3 : 1.0);
	if (p->state == SPEC_STATE_GROUND)
		sec += DMRG_SWEEPS * DMRG_C * p->L * chi * chi * chi;
	return sec / 3600;
}

double spec_thermal_core_hours(const spec_t *s)
{
	double h = 0;

	for (int k = s ? s->npoints - s->ntables : 0; s && k < s->npoints; k++)
		h += spec_point_core_hours(&s->points[k]);
	return h;
}
