/* expr: the small expression language of the spec's numbers (see expr.h).
 * A recursive-descent parser of the grammar
 *   product := unary { ('*' | '/') unary }
 *   unary   := { '-' | '+' } primary
 *   primary := number | '.nan' | '.inf' | 'pi' | '(' product ')'
 *            | ('cos' | 'sin' | 'sqrt') '(' product ')'
 * Binary + and - are deliberately absent: a spec writes `pi/4`, `2*pi/3`,
 * `cos(pi/4)`, never sums. */
#include "expr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eu.h"

#define EXPR_PI 3.14159265358979323846
#define EXPR_DEPTH_LIMIT 64
#define SHOW 60 /* characters of a name quoted in a message */

typedef struct {
	const char *s;
	size_t n, i;
	int depth;
	char *msg; /* EU_ERRLEN bytes */
} ev_t;

#define ev_fail(e, ...) eu_err((e)->msg, __VA_ARGS__)

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
			*out = EXPR_PI;
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

int expr_eval(const char *s, size_t n, double *out, char *msg)
{
	ev_t ev, *e = &ev;
	int rc;

	e->msg = msg;
	e->s = s;
	e->n = n;
	e->i = 0;
	e->depth = 0;
	msg[0] = '\0';
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
