/* spec_sections: the keys of a spec -- sweep, chain, state, evolve,
 * truncate, measure, thermal, references -- each value evaluated and range
 * checked where it is written, so that an error points at the offending
 * node (limits in engine/SPEC.md).  Keys of a mapping are checked (unknown,
 * duplicate) before its values, values in the fixed order of the keys. */
#include "spec_impl.h"

#include <math.h>
#include <stdlib.h>

const char *const sp_state_names[] = {"ground_state", "domain_wall"};
const char *const sp_measure_names[] = {
	"energy", "energy_current", "magnetization",
	"spin_current", "entropy", "rho3"};

static int eval_state(sp_parse_t *p, yaml_node_t *n, double *out)
{
	if (n->type == YAML_SCALAR_NODE && !sp_is_null(n))
		for (int k = 0; k < N_STATES; k++)
			if (sp_scalar_is(n, sp_state_names[k])) {
				*out = k;
				return 0;
			}
	if (n->type != YAML_SCALAR_NODE || sp_is_null(n))
		return FAIL(&p->c, n->start_mark,
			    "state: expected a state name (ground_state or "
			    "domain_wall), got %s",
			    sp_kind(n));
	return FAIL(&p->c, n->start_mark,
		    "unknown state '%.*s' (allowed: ground_state, domain_wall)",
		    sp_slen(n), sp_sval(n));
}

static int is_integer(double x)
{
	return isfinite(x) && x == floor(x);
}

/* Range check of one value of axis `ax`, written at node n. */
static int check_value(sp_parse_t *p, int ax, double x, yaml_node_t *n)
{
	const char *path = p->path[ax];
	yaml_mark_t m = n->start_mark;

	if (ax != AX_STATE && !isfinite(x))
		return FAIL(&p->c, m, "%s must be a finite number, got '%.*s'",
			    path, sp_slen(n), sp_sval(n));
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
static int parse_axis(sp_parse_t *p, int ax, yaml_node_t *v)
{
	sp_axis_t *a = &p->ax[ax];
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
		yaml_node_t *it = items ? sp_node(p->doc, items[k]) : v;
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
				    : sp_eval_number(p, it, path, &x);
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
					  sp_slen(it), sp_sval(it), path,
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

static int set_default(sp_parse_t *p, int ax, double x, yaml_mark_t m)
{
	sp_axis_t *a = &p->ax[ax];

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
static int parse_side(sp_parse_t *p, yaml_node_t *v, int ax)
{
	const char *where = ax == AX_LEFT ? "chain.left" : "chain.right";
	sp_slot_t s[2] = {{.key = "delta"}, {.key = "gamma"}};
	int rc, g;

	if (v->type != YAML_MAPPING_NODE)
		return FAIL(&p->c, v->start_mark,
			    "%s: expected a mapping with one of delta or "
			    "gamma (e.g. { delta: 0 }), got %s",
			    where, sp_kind(v));
	rc = sp_walk_map(p, v, where, s, 2);
	if (rc)
		return rc;
	if (s[0].val && s[1].val) {
		sp_slot_t *later = s[0].order > s[1].order ? &s[0] : &s[1];
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

static int parse_chain(sp_parse_t *p, yaml_node_t *v)
{
	sp_slot_t s[4] = {{.key = "length"},
		       {.key = "coupling"},
		       {.key = "left"},
		       {.key = "right"}};
	int rc;

	rc = sp_expect_map(p, v, "chain", "{ length: 140, right: { delta: 0.5 } }");
	if (!rc)
		rc = sp_walk_map(p, v, "chain", s, 4);
	if (rc)
		return rc;
	if (!s[0].val)
		return sp_missing(p, v, "chain", "length",
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
		return sp_missing(p, v, "chain", "right",
			       "{ delta: ... } or { gamma: ... }");
	return parse_side(p, s[3].val, AX_RIGHT);
}

static int parse_evolve(sp_parse_t *p, yaml_node_t *v)
{
	sp_slot_t s[4] = {{.key = "dt"},
		       {.key = "t_max"},
		       {.key = "order"},
		       {.key = "measure_every"}};
	int rc;

	rc = sp_expect_map(p, v, "evolve", "{ t_max: 10, dt: 0.02 }");
	if (!rc)
		rc = sp_walk_map(p, v, "evolve", s, 4);
	if (rc)
		return rc;
	rc = s[0].val ? parse_axis(p, AX_DT, s[0].val)
		      : set_default(p, AX_DT, 0.02, v->start_mark);
	if (rc)
		return rc;
	if (!s[1].val)
		return sp_missing(p, v, "evolve", "t_max", "a number >= 0");
	rc = parse_axis(p, AX_TMAX, s[1].val);
	if (!rc)
		rc = s[2].val ? parse_axis(p, AX_ORDER, s[2].val)
			      : set_default(p, AX_ORDER, 4, v->start_mark);
	if (!rc)
		rc = s[3].val ? parse_axis(p, AX_ME, s[3].val)
			      : set_default(p, AX_ME, 0.5, v->start_mark);
	return rc;
}

static int parse_truncate(sp_parse_t *p, yaml_node_t *v)
{
	sp_slot_t s[2] = {{.key = "chi_max"}, {.key = "cutoff"}};
	int rc;

	rc = sp_expect_map(p, v, "truncate", "{ chi_max: 64 }");
	if (!rc)
		rc = sp_walk_map(p, v, "truncate", s, 2);
	if (rc)
		return rc;
	if (!s[0].val)
		return sp_missing(p, v, "truncate", "chi_max",
			       "an integer in [1, 100000]");
	rc = parse_axis(p, AX_CHI, s[0].val);
	if (!rc)
		rc = s[1].val ? parse_axis(p, AX_CUTOFF, s[1].val)
			      : set_default(p, AX_CUTOFF, 1e-10, v->start_mark);
	return rc;
}

static int parse_measure(sp_parse_t *p, yaml_node_t *v)
{
	yaml_node_item_t *items = NULL;
	yaml_mark_t seen[N_MEASURES];
	int n = 1;

	if (v->type == YAML_MAPPING_NODE || sp_is_null(v))
		return FAIL(&p->c, v->start_mark,
			    "measure: expected a list of names, got %s",
			    sp_kind(v));
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
		yaml_node_t *it = items ? sp_node(p->doc, items[k]) : v;
		int j;
		if (it->type != YAML_SCALAR_NODE || sp_is_null(it))
			return FAIL(&p->c, it->start_mark,
				    "measure: expected an observable name, "
				    "got %s",
				    it->type == YAML_SEQUENCE_NODE
					    ? "a nested list"
					    : sp_kind(it));
		for (j = 0; j < N_MEASURES; j++)
			if (sp_scalar_is(it, sp_measure_names[j]))
				break;
		if (j == N_MEASURES)
			return FAIL(&p->c, it->start_mark,
				    "unknown measure '%.*s' (allowed: energy, "
				    "energy_current, magnetization, "
				    "spin_current, entropy, rho3)",
				    sp_slen(it), sp_sval(it));
		if (p->measure & (1u << j))
			return FAIL(&p->c, it->start_mark,
				    "duplicate measure '%s' (first at %zu:%zu)",
				    sp_measure_names[j], seen[j].line + 1,
				    seen[j].column + 1);
		p->measure |= 1u << j;
		seen[j] = it->start_mark;
	}
	return 0;
}

static int parse_name(sp_parse_t *p, yaml_node_t *v)
{
	size_t l;

	if (v->type != YAML_SCALAR_NODE || sp_is_null(v))
		return FAIL(&p->c, v->start_mark,
			    "sweep: expected a name, got %s", sp_kind(v));
	l = v->data.scalar.length;
	if (l > NAME_LIMIT)
		return FAIL(&p->c, v->start_mark,
			    "sweep: the name is longer than %d bytes",
			    NAME_LIMIT);
	for (size_t k = 0; k < l; k++)
		if ((unsigned char)sp_sval(v)[k] < 0x20 || sp_sval(v)[k] == 0x7f)
			return FAIL(&p->c, v->start_mark,
				    "sweep: the name contains a control "
				    "character");
	p->name = malloc(l + 1);
	if (!p->name)
		return FAIL(&p->c, v->start_mark, "out of memory");
	memcpy(p->name, sp_sval(v), l);
	p->name[l] = '\0';
	return 0;
}

void sp_thermal_free(spec_thermal_t **t)
{
	if (!t || !*t)
		return;
	free((*t)->delta);
	free((*t)->betas);
	free((*t)->mus);
	free(*t);
	*t = NULL;
}

static int parse_thermal(sp_parse_t *p, yaml_node_t *v)
{
	sp_slot_t s[9] = {{.key = "delta"},   {.key = "gamma"},
		       {.key = "beta"},    {.key = "mu"},
		       {.key = "length"},  {.key = "chi_max"},
		       {.key = "cutoff"},  {.key = "dtau"},
		       {.key = "order"}};
	spec_thermal_t *t;
	yaml_mark_t *marks = NULL;
	int rc, zero = 0;

	rc = sp_expect_map(p, v, "thermal",
			"{ beta: { min: -5, max: 5, step: 0.1 }, length: 32, "
			"chi_max: 64 }");
	if (!rc)
		rc = sp_walk_map(p, v, "thermal", s, 9);
	if (rc)
		return rc;
	t = p->thermal = calloc(1, sizeof *t);
	if (!t)
		return FAIL(&p->c, v->start_mark, "out of memory");
	p->thermal_mark = v->start_mark;
	if (s[0].val && s[1].val) {
		sp_slot_t *later = s[0].order > s[1].order ? &s[0] : &s[1];
		return FAIL(&p->c, later->key_mark,
			    "thermal takes at most one of delta or gamma "
			    "(delta = cos(gamma))");
	}
	if (s[0].val || s[1].val) {
		int g = s[1].val != NULL;
		rc = sp_anisotropy_list(p, g ? s[1].val : s[0].val,
				     g ? "thermal.gamma" : "thermal.delta", g,
				     &t->delta, &marks, &t->ndelta);
		free(marks);
		if (rc)
			return rc;
		if (g)
			for (int k = 0; k < t->ndelta; k++)
				t->delta[k] = sp_nozero(cos(t->delta[k]));
		t->delta_given = 1;
	}
	if (!s[2].val)
		return sp_missing(p, v, "thermal", "beta",
			       "{ min: ..., max: ..., step: ... }");
	rc = sp_parse_grid(p, s[2].val, "thermal.beta", &t->betas, &t->nbeta);
	if (rc)
		return rc;
	if (t->nbeta < 2)
		return FAIL(&p->c, s[2].val->start_mark,
			    "thermal.beta needs at least 2 values");
	if (s[3].val) {
		rc = sp_parse_grid(p, s[3].val, "thermal.mu", &t->mus, &t->nmu);
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
		return sp_missing(p, v, "thermal", "length",
			       "the purified chain's sites, even, >= 6");
	rc = sp_int_value(p, s[4].val, "thermal.length", 6, THERMAL_N_MAX,
		       &t->length);
	if (rc)
		return rc;
	if (t->length % 2)
		return FAIL(&p->c, s[4].val->start_mark,
			    "thermal.length must be even, got %d", t->length);
	if (!s[5].val)
		return sp_missing(p, v, "thermal", "chi_max", "an integer >= 1");
	rc = sp_int_value(p, s[5].val, "thermal.chi_max", 1, THERMAL_CHI_MAX,
		       &t->chi_max);
	if (rc)
		return rc;
	p->thermal_chi_mark = s[5].val->start_mark;
	t->cutoff = 1e-10;
	if (s[6].val) {
		if (sp_one_number(p, s[6].val, "thermal.cutoff", &t->cutoff))
			return -1;
		if (t->cutoff < 0 || t->cutoff >= 1)
			return FAIL(&p->c, s[6].val->start_mark,
				    "thermal.cutoff must be in [0, 1), got %g",
				    t->cutoff);
	}
	t->dtau = 0.05;
	if (s[7].val) {
		if (sp_one_number(p, s[7].val, "thermal.dtau", &t->dtau))
			return -1;
		if (!(t->dtau > 0) || t->dtau > 1)
			return FAIL(&p->c, s[7].val->start_mark,
				    "thermal.dtau must be in (0, 1], got %g",
				    t->dtau);
	}
	t->order = 4;
	if (s[8].val) {
		rc = sp_int_value(p, s[8].val, "thermal.order", 2, 4, &t->order);
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
static int parse_references(sp_parse_t *p, yaml_node_t *v)
{
	sp_slot_t s[2] = {{.key = "delta"}, {.key = "gamma"}};
	double *vals[2] = {NULL, NULL};
	yaml_mark_t *marks[2] = {NULL, NULL};
	int n[2] = {0, 0}, rc;

	rc = sp_expect_map(p, v, "references", "{ gamma: [pi/4] }");
	if (!rc)
		rc = sp_walk_map(p, v, "references", s, 2);
	if (rc)
		return rc;
	if (!s[0].val && !s[1].val)
		return FAIL(&p->c, v->start_mark,
			    "references: needs delta or gamma (the "
			    "anisotropy of both halves)");
	for (int g = 0; g < 2; g++)
		if (s[g].val &&
		    sp_anisotropy_list(p, s[g].val,
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
		p->ref_delta[n[0] + k] = sp_nozero(cos(vals[1][k]));
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

int sp_parse_root(sp_parse_t *p, yaml_node_t *root)
{
	sp_slot_t s[9] = {{.key = "sweep"},    {.key = "chain"},
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
			    sp_kind(root));
	rc = sp_walk_map(p, root, "the top level", s, 9);
	if (rc)
		return rc;
	if (!s[0].val)
		return sp_missing(p, root, "top level", "sweep", "the sweep's name");
	rc = parse_name(p, s[0].val);
	if (rc)
		return rc;
	if (!s[1].val)
		return sp_missing(p, root, "top level", "chain",
			       "{ length: ..., right: ... }");
	rc = parse_chain(p, s[1].val);
	if (rc)
		return rc;
	if (!s[2].val)
		return sp_missing(p, root, "top level", "state",
			       "ground_state, domain_wall or a list of them");
	rc = parse_axis(p, AX_STATE, s[2].val);
	if (rc)
		return rc;
	if (!s[3].val)
		return sp_missing(p, root, "top level", "evolve",
			       "{ t_max: ... } at least");
	rc = parse_evolve(p, s[3].val);
	if (rc)
		return rc;
	if (!s[4].val)
		return sp_missing(p, root, "top level", "truncate",
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
	p->refine = s[8].val; /* applied after the references (spec.c) */
	return rc;
}
