/* spec_yaml: the YAML side of the spec parser -- mappings walked key by
 * key, numbers (expr.h), lists of them, grids, and libyaml's syntax errors
 * turned into "FILE:LINE:COLUMN: message" (spec_impl.h). */
#include "spec_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "expr.h"

int sp_fail_at(const sp_ctx_t *c, size_t line, size_t col, const char *fmt, ...)
{
	char msg[EU_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return eu_err(c->err, "%s:%zu:%zu: %s", c->fname, line, col, msg);
}

/* Walk a mapping: every key a scalar named in slots[], none twice.  Fills
 * slots[i].val (NULL when absent). */
int sp_walk_map(sp_parse_t *p, yaml_node_t *map, const char *where,
		    sp_slot_t *slots, int nslots)
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
		yaml_node_t *key = sp_node(p->doc, pr->key);
		yaml_node_t *val = sp_node(p->doc, pr->value);
		if (key->type != YAML_SCALAR_NODE)
			return FAIL(&p->c, key->start_mark,
				    "%s: expected a key name, got %s", where,
				    sp_kind(key));
		for (i = 0; i < nslots; i++)
			if (sp_scalar_is(key, slots[i].key))
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
				    sp_slen(key), sp_sval(key), where, allowed);
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

int sp_expect_map(sp_parse_t *p, yaml_node_t *n, const char *where,
		      const char *example)
{
	if (n->type == YAML_MAPPING_NODE)
		return 0;
	return FAIL(&p->c, n->start_mark,
		    "%s: expected a mapping (e.g. %s), got %s", where, example,
		    sp_kind(n));
}

int sp_missing(sp_parse_t *p, yaml_node_t *map, const char *where,
		   const char *key, const char *what)
{
	return FAIL(&p->c, map->start_mark,
		    "%s: missing required key '%s' (%s)", where, key, what);
}

/* A number: a plain scalar holding a YAML number or an expression. */
int sp_eval_number(sp_parse_t *p, yaml_node_t *n, const char *path,
		       double *out)
{
	char msg[EU_ERRLEN];

	if (n->type != YAML_SCALAR_NODE)
		return FAIL(&p->c, n->start_mark,
			    "%s: expected a number, got %s", path, sp_kind(n));
	if (sp_is_null(n))
		return FAIL(&p->c, n->start_mark,
			    "%s: expected a number, got an empty value", path);
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return FAIL(&p->c, n->start_mark,
			    "%s: expected a number, got the quoted string "
			    "'%.*s' (write numbers and expressions unquoted)",
			    path, sp_slen(n), sp_sval(n));
	if (expr_eval(sp_sval(n), n->data.scalar.length, out, msg))
		return FAIL(&p->c, n->start_mark,
			    "%s: expected a number or an expression of "
			    "numbers, pi, * / unary -, ( ) and cos sin sqrt; "
			    "got '%.*s': %s",
			    path, sp_slen(n), sp_sval(n), msg);
	*out = sp_nozero(*out);
	return 0;
}

/* One number (not a list), with where it is written. */
int sp_one_number(sp_parse_t *p, yaml_node_t *n, const char *path,
		      double *x)
{
	int rc = sp_eval_number(p, n, path, x);
	if (!rc && !isfinite(*x))
		return FAIL(&p->c, n->start_mark,
			    "%s must be a finite number, got '%.*s'", path,
			    sp_slen(n), sp_sval(n));
	return rc;
}

/* A list of numbers (or one number) into a new array. */
static int number_list(sp_parse_t *p, yaml_node_t *v, const char *path,
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
		yaml_node_t *it = items ? sp_node(p->doc, items[k]) : v;
		if (it->type == YAML_SEQUENCE_NODE)
			return FAIL(&p->c, it->start_mark,
				    "nested lists are not allowed in %s", path);
		if (sp_one_number(p, it, path, &(*out)[k]))
			return -1;
		(*marks)[k] = it->start_mark;
		*n = k + 1;
	}
	return 0;
}

/* delta values in [-1, 1] or gamma values in [0, pi], none twice. */
int sp_anisotropy_list(sp_parse_t *p, yaml_node_t *v, const char *path,
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
int sp_parse_grid(sp_parse_t *p, yaml_node_t *v, const char *path,
		      double **out, int *n)
{
	sp_slot_t s[3] = {{.key = "min"}, {.key = "max"}, {.key = "step"}};
	double x[3];
	char sub[64];
	int rc;

	snprintf(sub, sizeof sub, "%s", path);
	rc = sp_expect_map(p, v, sub, "{ min: -5, max: 5, step: 0.1 }");
	if (!rc)
		rc = sp_walk_map(p, v, sub, s, 3);
	if (rc)
		return rc;
	for (int k = 0; k < 3; k++) {
		if (!s[k].val)
			return sp_missing(p, v, path, s[k].key, "a number");
		snprintf(sub, sizeof sub, "%s.%s", path, s[k].key);
		if (sp_one_number(p, s[k].val, sub, &x[k]))
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

int sp_int_value(sp_parse_t *p, yaml_node_t *n, const char *path, int lo,
		     int hi, int *out)
{
	double x;

	if (sp_one_number(p, n, path, &x))
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

int sp_syntax_error(const sp_ctx_t *c, const yaml_parser_t *ps,
			const char *text, size_t len)
{
	const char *what = ps->problem ? ps->problem : "unknown error";
	const char *hint = "";
	size_t line, col;

	if (ps->error == YAML_MEMORY_ERROR)
		return sp_fail_at(c, 1, 1, "out of memory while parsing YAML");
	if (ps->error == YAML_READER_ERROR) {
		offset_pos(text, len, ps->problem_offset, &line, &col);
		return sp_fail_at(c, line, col,
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
