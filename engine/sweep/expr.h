/* expr: the expression language of the spec's numbers -- a YAML number or a
 * product of numbers, pi, unary signs, parentheses and cos, sin, sqrt
 * (`pi/4`, `2*pi/3`, `cos(pi/4)`); .nan and .inf are read so that the
 * range checks can name the parameter they break. */
#ifndef EXPR_H
#define EXPR_H

#include <stddef.h>

/* Evaluates s[0..n) completely.  Returns 0, or -1 with the reason (and the
 * character it was found at) in msg (EU_ERRLEN bytes). */
int expr_eval(const char *s, size_t n, double *out, char *msg);

#endif
