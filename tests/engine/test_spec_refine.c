/* test_spec_refine: the spec's refine: section (engine/sweep/spec_refine.c).
 *   1. a sweep at chi_max 8 with refine entries for 12 (both anisotropies)
 *      and 18 (one, based on the 12 entry) holds the same points, by hash,
 *      as the sweep written with the chi_max lists; the entries follow the
 *      product, before the thermal tables (whose ids shift);
 *   2. errors at FILE:LINE:COLUMN: unknown hash, a point already in the
 *      sweep, chi_max out of range, a missing or unknown key, not a list,
 *      an unknown top-level key still refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "spec.h"

static char err[EU_ERRLEN];

#define BASE                                                              \
	"sweep: r\n"                                                      \
	"chain: { length: 40, right: { gamma: [pi/3, pi/4] } }\n"          \
	"state: domain_wall\n"                                            \
	"evolve: { dt: 0.05, t_max: 4, order: 2 }\n"                       \
	"thermal: { beta: { min: -1, max: 1, step: 0.5 }, length: 8, "     \
	"chi_max: 8 }\n"

static spec_t *parse(const char *text)
{
	spec_t *s = NULL;
	if (spec_parse(&s, "r.yaml", text, strlen(text), err))
		return NULL;
	return s;
}

static const spec_point_t *by_hash(const spec_t *s, const char *h)
{
	for (int i = 0; i < s->npoints; i++)
		if (!strcmp(s->points[i].hash_hex, h))
			return &s->points[i];
	return NULL;
}

static void test_same_points(void)
{
	spec_t *one = parse(BASE "truncate: { chi_max: 8 }\n");
	CHECK(one, "base: %s", err);
	if (!one)
		return;
	char text[2048];
	snprintf(text, sizeof text,
		 BASE "truncate: { chi_max: 8 }\n"
		      "refine:\n"
		      "  - { point: %s, chi_max: 12, reason: \"a \\\"why\\\"\" }\n"
		      "  - { point: %s, chi_max: 12, reason: \"one chi_max\" }\n",
		 one->points[0].hash_hex, one->points[1].hash_hex);
	spec_t *two = parse(text);
	CHECK(two, "two rungs: %s", err);
	if (!two) {
		spec_destroy(&one);
		return;
	}
	size_t l = strlen(text);
	snprintf(text + l, sizeof text - l,
		 "  - { point: %s, chi_max: 18, reason: \"not converged\" }\n",
		 two->points[3].hash_hex);
	spec_t *r = parse(text);
	spec_t *full = parse(BASE "truncate: { chi_max: [8, 12, 18] }\n");
	CHECK(r && full, "refined and full specs: %s", err);
	if (r && full) {
		CHECK(r->npoints == 5 + r->ntables && r->nproduct == 2,
		      "2 product points + 3 rungs + tables (%d, %d)",
		      r->npoints, r->ntables);
		CHECK(r->ntables == full->ntables && r->ntables >= 1,
		      "the same thermal tables");
		for (int i = 0; i < r->npoints; i++) {
			const spec_point_t *p = &r->points[i];
			CHECK(p->id == i, "ids in order");
			CHECK(by_hash(full, p->hash_hex),
			      "point %d (chi %d) is a point of the full sweep", i,
			      p->chi_max);
			if (i >= r->npoints - r->ntables)
				CHECK(p->state == SPEC_STATE_THERMAL,
				      "tables last");
		}
		CHECK(r->points[2].chi_max == 12 && r->points[3].chi_max == 12 &&
			      r->points[4].chi_max == 18 &&
			      r->points[4].delta_right ==
				      r->points[1].delta_right,
		      "rungs in the order written");
		const spec_point_t *f = by_hash(full, r->points[4].hash_hex);
		CHECK(f && f->chi_max == 18 && f->L == 40 &&
			      f->n_measure == r->points[4].n_measure,
		      "the 18 rung is the full sweep's point");
	}
	spec_destroy(&one);
	spec_destroy(&two);
	spec_destroy(&r);
	spec_destroy(&full);
}

static void bad(const char *tail, const char *pos, const char *what)
{
	char text[2048];
	snprintf(text, sizeof text, BASE "truncate: { chi_max: 8 }\n%s", tail);
	spec_t *s = parse(text);
	CHECK(!s && strstr(err, pos) && strstr(err, what),
	      "'%s': expected '%s' '%s', got '%s'", tail, pos, what, err);
	spec_destroy(&s);
}

static void test_errors(void)
{
	spec_t *one = parse(BASE "truncate: { chi_max: 8 }\n");
	if (!one)
		return;
	char t[512];
	const char *h = one->points[0].hash_hex;
	bad("refine:\n  - { point: 0123456789abcdef, chi_max: 12, reason: x }\n",
	    "r.yaml:8:5:", "no point of hash 0123456789abcdef");
	snprintf(t, sizeof t,
		 "refine:\n  - { point: %s, chi_max: 8, reason: x }\n", h);
	bad(t, "r.yaml:8:41:", "already point 0");
	snprintf(t, sizeof t,
		 "refine:\n  - { point: %s, chi_max: 2.5, reason: x }\n", h);
	bad(t, "r.yaml:8:41:", "chi_max must be an integer in [1, 100000]");
	snprintf(t, sizeof t, "refine:\n  - { point: %s, chi_max: 12 }\n", h);
	bad(t, "r.yaml:8:5:", "needs point, chi_max and reason");
	snprintf(t, sizeof t,
		 "refine:\n  - { point: %s, chi: 12, reason: x }\n", h);
	bad(t, "r.yaml:8:32:", "unknown key");
	bad("refine: { point: x }\n", "r.yaml:7:9:", "expected a list");
	bad("refine:\n  - { point: xyz, chi_max: 12, reason: x }\n",
	    "r.yaml:8:14:", "16 hex digits");
	bad("refines: []\n", "r.yaml:7:1:", "unknown key 'refines'");
	spec_destroy(&one);
}

int main(void)
{
	test_same_points();
	test_errors();
	return check_done("test_spec_refine");
}
