/* test_fit_spec: the post-stage's sections of the sweep spec
 * (engine/sweep/spec_sections.c, engine/SPEC.md): `thermal:` (the grids of the thermal tables) and
 * `references:` (homogeneous reference chains appended after the product),
 * and the core-hours estimate of `kapitza run --dry-run`.
 *   - a thermal section is parsed into exact grids (0 exactly on the grid),
 *     its anisotropies default to every delta of the sweep (cos(pi/2) and 0
 *     merged), explicit delta/gamma lists are honoured;
 *   - each anisotropy becomes a thermal table appended after the points
 *     (state thermal_table, its own canonical text and hash, a cost), and
 *     the points keep the ids and hashes they have without the section;
 *   - references add one homogeneous point per value and per combination of
 *     the other axes, after the product, with the same hash as the same
 *     chain written as a product point; a reference equal to a product point
 *     is refused;
 *   - every malformed section is rejected at its FILE:LINE:COLUMN;
 *   - core-hours grow like L chi^3 t_max / dt and are positive. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "farm.h"
#include "spec.h"

#define PI 3.14159265358979323846

static const char *head =
	"sweep: t\n"
	"chain: { length: 20, right: { gamma: [pi/2, pi/4] } }\n"
	"state: [ground_state, domain_wall]\n"
	"evolve: { t_max: 2 }\n"
	"truncate: { chi_max: [8, 16] }\n";

static spec_t *parse(const char *tail, char *err)
{
	char text[4096];
	spec_t *s = NULL;
	snprintf(text, sizeof text, "%s%s", head, tail);
	if (spec_parse(&s, "x.yaml", text, strlen(text), err))
		return NULL;
	return s;
}

static void test_thermal(void)
{
	char err[EU_ERRLEN];
	spec_t *s = parse("thermal:\n"
			  "  beta: { min: -5, max: 5, step: 0.1 }\n"
			  "  mu: { min: -1, max: 1, step: 0.25 }\n"
			  "  length: 24\n"
			  "  chi_max: 64\n",
			  err);
	CHECK(s && s->thermal, "thermal section: %s", s ? "" : err);
	if (!s)
		return;
	const spec_thermal_t *t = s->thermal;
	CHECK(t->nbeta == 101 && t->betas[0] == -5 && t->betas[100] == 5 &&
		      t->betas[50] == 0,
	      "beta grid: %d values, [50] = %g", t->nbeta, t->betas[50]);
	CHECK_CLOSE(t->betas[73], 2.3, 1e-12, "beta[73]");
	CHECK(t->nmu == 9 && t->mus[4] == 0, "mu grid with exact 0");
	CHECK(t->length == 24 && t->chi_max == 64 && t->order == 4 &&
		      t->dtau == 0.05 && t->cutoff == 1e-10,
	      "defaults");
	/* default deltas: 0 (left, and cos(pi/2) = 6e-17 merged) and
	 * cos(pi/4) */
	CHECK(t->ndelta == 2 && t->delta[0] == 0 &&
		      fabs(t->delta[1] - cos(PI / 4)) < 1e-15,
	      "default deltas: %d", t->ndelta);
	/* the tables are farmed items after the 8 points */
	CHECK(s->npoints == 10 && s->nproduct == 8 && s->ntables == 2,
	      "8 points + 2 tables: %d, %d, %d", s->npoints, s->nproduct,
	      s->ntables);
	spec_t *bare = parse("", err);
	for (int k = 0; bare && k < 8; k++)
		CHECK(s->points[k].hash == bare->points[k].hash &&
			      s->points[k].id == k,
		      "point %d: the hash does not depend on the section", k);
	for (int k = 0; k < 2; k++) {
		const spec_point_t *q = &s->points[8 + k];
		char canon[1024];
		spec_point_canonical(q, canon, sizeof canon);
		CHECK(q->id == 8 + k && q->state == SPEC_STATE_THERMAL &&
			      q->thermal == t && q->delta_left == t->delta[k] &&
			      q->delta_right == t->delta[k] && q->L == 24 &&
			      q->chi_max == 64 && q->dt == 0.05 &&
			      q->order == 4 && q->n_measure == 9 &&
			      q->measure == 0 && q->J == 1,
		      "table %d: fields", k);
		CHECK(!strncmp(canon, "kapitza-thermal-v1;N=24;J=1;delta=",
			       34) &&
			      strstr(canon, ";beta=101,-5,5,") &&
			      strstr(canon, ";mu=9,-1,1,"),
		      "table %d: canonical text %s", k, canon);
		CHECK(spec_point_cost(q) > 0 &&
			      spec_point_archive_bytes(q) > 9 * 101 * 1024.0,
		      "table %d: cost and archive size", k);
		CHECK(!strcmp(spec_state_name(q->state), "thermal_table"),
		      "state name");
	}
	CHECK(s->points[8].hash != s->points[9].hash &&
		      s->points[8].hash != s->points[0].hash,
	      "distinct hashes");
	spec_destroy(&bare);
	/* a different grid (or parameter) is a different table */
	spec_t *s2 = parse("thermal:\n"
			   "  beta: { min: -5, max: 5, step: 0.1 }\n"
			   "  mu: { min: -1, max: 1, step: 0.5 }\n"
			   "  length: 24\n"
			   "  chi_max: 64\n",
			   err);
	CHECK(s2 && s2->points[8].hash != s->points[8].hash,
	      "another mu grid, another hash");
	spec_destroy(&s2);
	spec_destroy(&s);
	s = parse("thermal: { gamma: [pi/3, pi/2], beta: { min: 0, max: 2, "
		  "step: 0.5 }, length: 10, chi_max: 8, dtau: 0.1, order: 2 "
		  "}\n",
		  err);
	CHECK(s && s->thermal && s->thermal->ndelta == 2 &&
		      fabs(s->thermal->delta[0]) < 1e-16 &&
		      fabs(s->thermal->delta[1] - 0.5) < 1e-15 &&
		      s->thermal->nmu == 1 && s->thermal->mus[0] == 0 &&
		      s->thermal->order == 2,
	      "explicit gammas, no mu grid: %s", s ? "" : err);
	spec_destroy(&s);
	s = parse("", err);
	CHECK(s && !s->thermal, "no thermal section: NULL");
	spec_destroy(&s);
}

static void test_references(void)
{
	char err[EU_ERRLEN];
	spec_t *s = parse("references: { gamma: [pi/4], delta: [0] }\n", err);
	CHECK(s != NULL, "references: %s", err);
	if (!s)
		return;
	/* product 2 x 2 x 2 = 8, references 2 values x (state 2 x chi 2) */
	CHECK(s->nproduct == 8 && s->npoints == 16, "%d points, %d product",
	      s->npoints, s->nproduct);
	/* delta values first, then gamma; other axes in the fixed order */
	const spec_point_t *p = &s->points[8];
	CHECK(p->delta_left == 0 && p->delta_right == 0 &&
		      p->state == SPEC_STATE_GROUND && p->chi_max == 8 &&
		      p->id == 8,
	      "reference 8: delta 0, ground_state, chi 8");
	p = &s->points[11];
	CHECK(p->delta_left == 0 && p->state == SPEC_STATE_DOMAIN_WALL &&
		      p->chi_max == 16,
	      "reference 11: domain_wall, chi 16");
	p = &s->points[12];
	CHECK(fabs(p->delta_left - cos(PI / 4)) < 1e-16 &&
		      p->delta_left == p->delta_right &&
		      p->gamma_right == PI / 4,
	      "reference 12: homogeneous cos(pi/4)");
	/* the same chain written as a product point has the same hash */
	char err2[EU_ERRLEN];
	spec_t *q = NULL;
	const char *hom = "sweep: h\n"
			  "chain: { length: 20, left: { gamma: pi/4 }, right: "
			  "{ gamma: pi/4 } }\n"
			  "state: ground_state\n"
			  "evolve: { t_max: 2 }\n"
			  "truncate: { chi_max: 8 }\n";
	CHECK(!spec_parse(&q, "h.yaml", hom, strlen(hom), err2), "%s", err2);
	if (q)
		CHECK(q->points[0].hash == s->points[12].hash,
		      "reference hash = product hash of the same chain");
	spec_destroy(&q);
	spec_destroy(&s);
}

typedef struct {
	const char *tail, *pos, *msg;
} bad_t;

static void test_bad(void)
{
	/* head has 5 lines: the tail starts on line 6 */
	static const bad_t bad[] = {
		{"thermal: 3\n", "6:10", "thermal: expected a mapping"},
		{"thermal: { beta: { min: -1, max: 1, step: 0.5 }, length: 8 "
		 "}\n",
		 "6:10", "thermal: missing required key 'chi_max'"},
		{"thermal: { length: 8, chi_max: 4 }\n", "6:10",
		 "missing required key 'beta'"},
		{"thermal: { beta: { min: -1, max: 1, step: 0.3 }, length: 8, "
		 "chi_max: 4 }\n",
		 "6:43", "(max - min) / step = 6.66666666667 is not an integer"},
		{"thermal: { beta: { min: 1, max: -1, step: 0.5 }, length: 8, "
		 "chi_max: 4 }\n",
		 "6:33", "thermal.beta.max = -1 must be larger"},
		{"thermal: { beta: { min: -1, max: 1, step: 0 }, length: 8, "
		 "chi_max: 4 }\n",
		 "6:43", "thermal.beta.step must be > 0"},
		{"thermal: { beta: { min: -1, max: 1 }, length: 8, chi_max: 4 "
		 "}\n",
		 "6:18", "thermal.beta: missing required key 'step'"},
		{"thermal: { beta: { min: -1, max: 1, step: 1 }, mu: { min: "
		 "0.5, max: 1, step: 0.25 }, length: 8, chi_max: 4 }\n",
		 "6:52", "thermal.mu: the grid must contain mu = 0"},
		{"thermal: { beta: { min: -1, max: 1, step: 1 }, length: 7, "
		 "chi_max: 4 }\n",
		 "6:56", "thermal.length must be even"},
		{"thermal: { beta: { min: -1, max: 1, step: 1 }, length: 4, "
		 "chi_max: 4 }\n",
		 "6:56", "thermal.length must be in [6, 1000]"},
		{"thermal: { beta: { min: -1, max: 1, step: 1 }, length: 8, "
		 "chi_max: 0 }\n",
		 "6:68", "thermal.chi_max must be in [1, 4096]"},
		{"thermal: { beta: { min: -1, max: 1, step: 1 }, length: 8, "
		 "chi_max: 4, order: 3 }\n",
		 "6:78", "thermal.order must be 2 or 4"},
		{"thermal: { delta: [0, 2], beta: { min: -1, max: 1, step: 1 "
		 "}, length: 8, chi_max: 4 }\n",
		 "6:23", "thermal.delta must be in [-1, 1]"},
		{"thermal: { delta: 0, gamma: 1, beta: { min: -1, max: 1, "
		 "step: 1 }, length: 8, chi_max: 4 }\n",
		 "6:22", "at most one of delta or gamma"},
		{"thermal: { colour: 1 }\n", "6:12",
		 "unknown key 'colour' in thermal"},
		{"thermal: { beta: { min: -1, max: 1, step: 1 }, length: 1000, "
		 "chi_max: 4096 }\n",
		 "6:71", "needs an estimated 1.96 TiB of memory per imaginary-"
			 "time run"},
		{"references: { gamma: [pi/4, 0.7853981633974483] }\n", "6:29",
		 "duplicate value"},
		{"references: {}\n", "6:13", "references: needs delta or gamma"},
		{"references: { delta: 1.5 }\n", "6:22",
		 "references.delta must be in [-1, 1]"},
		{"references: [0]\n", "6:13", "references: expected a mapping"},
	};
	char err[EU_ERRLEN], want[64];
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		spec_t *s = parse(bad[k].tail, err);
		CHECK(!s, "accepted: %s", bad[k].tail);
		spec_destroy(&s);
		snprintf(want, sizeof want, "x.yaml:%s: ", bad[k].pos);
		CHECK(!strncmp(err, want, strlen(want)) &&
			      strstr(err, bad[k].msg),
		      "%s-> expected %s...%s, got: %s", bad[k].tail, want,
		      bad[k].msg, err);
	}
	/* a reference equal to a product point */
	const char *dup = "sweep: d\n"
			  "chain: { length: 20, left: { delta: [0, 0.5] }, "
			  "right: { delta: 0.5 } }\n"
			  "state: ground_state\n"
			  "evolve: { t_max: 2 }\n"
			  "truncate: { chi_max: 8 }\n"
			  "references: { delta: [0.5] }\n";
	spec_t *s = NULL;
	CHECK(spec_parse(&s, "d.yaml", dup, strlen(dup), err) &&
		      strstr(err, "d.yaml:6:23: ") &&
		      strstr(err, "already point 1"),
	      "duplicate reference: %s", err);
}

static void test_core_hours(void)
{
	spec_point_t p;
	memset(&p, 0, sizeof p);
	p.L = 140;
	p.chi_max = 128;
	p.dt = 0.02;
	p.t_max = 40;
	p.state = SPEC_STATE_DOMAIN_WALL;
	double h1 = spec_point_core_hours(&p);
	p.chi_max = 256;
	double h2 = spec_point_core_hours(&p);
	p.t_max = 80; /* the light cone (v = 1 + pi/2) fills L = 140 at t ~ 54 */
	double h3 = spec_point_core_hours(&p);
	p.state = SPEC_STATE_GROUND; /* every bond at the cap from t = 0 */
	double h4 = spec_point_core_hours(&p);
	double per = 2.5e-9 * 256.0 * 256.0 * 256.0 + 4.0e-4;
	double dmrg = 10 * 1.4e-8 * 140 * 256.0 * 256.0 * 256.0;
	CHECK_CLOSE(h4 * 3600, 139 * per * 80 / 0.02 + dmrg, 1e-6 * h4 * 3600,
		    "ground_state: all 139 bonds at the cap, plus the DMRG");
	CHECK(h1 > 0 && isfinite(h1), "core-hours %g", h1);
	CHECK(h2 / h1 > 7 && h2 / h1 <= 8.0001, "chi x2 -> ~x8 (%g)", h2 / h1);
	/* t_max 40 -> 80: 1 + v t bonds, then all 139 from t = 53.7 */
	double v = 1 + PI / 2, ts = 138 / v;
	double want = ((ts + v * ts * ts / 2) + 139 * (80 - ts)) /
		      (40 + v * 40 * 40 / 2);
	CHECK_CLOSE(h3 / h2, want, 1e-9, "t_max x2: light-cone bond count");
	CHECK(h4 > h3, "ground_state adds the DMRG (%g > %g)", h4, h3);
	/* the share of the evolution done by t, by the same model */
	const int dw = SPEC_STATE_DOMAIN_WALL, gs = SPEC_STATE_GROUND;
	CHECK(spec_done_share(gs, 140, 80, 20) == 0.25,
	      "ground_state: constant cost per step (%g)",
	      spec_done_share(gs, 140, 80, 20));
	CHECK_CLOSE(spec_done_share(dw, 140, 40, 20),
		    (20 + v * 200) / (40 + v * 800), 1e-12,
		    "domain wall before the cone fills the chain");
	CHECK_CLOSE(spec_done_share(dw, 140, 80, 60),
		    ((ts + v * ts * ts / 2) + 139 * (60 - ts)) /
			    ((ts + v * ts * ts / 2) + 139 * (80 - ts)),
		    1e-12, "domain wall after the cone fills the chain");
	CHECK(spec_done_share(dw, 140, 80, 0) == 0 &&
		      spec_done_share(dw, 140, 80, NAN) == 0 &&
		      spec_done_share(dw, 140, 80, 80) == 1 &&
		      spec_done_share(dw, 140, 80, 90) == 1 &&
		      spec_done_share(dw, 140, 0, 1) == 0,
	      "share: 0 at the start or without t_max, 1 at and past t_max");
	/* rank 0 takes the most expensive point unless its rows are estimated
	 * at over a minute: the chi = 256 |Psi1> point with 2 rows (t_max 80:
	 * ~2.4 h each) is left to the workers, the same with 2001 rows (~9 s
	 * each) is not */
	p.n_measure = 2;
	CHECK(!farm_rank0_may_take(&p), "2 rows of %g s: rank 0 leaves it",
	      h4 * 3600 / 2);
	p.n_measure = 2001;
	CHECK(farm_rank0_may_take(&p), "2001 rows of %g s: rank 0 takes it",
	      h4 * 3600 / 2001);
	char err[EU_ERRLEN];
	spec_t *s = parse("thermal: { beta: { min: -5, max: 5, step: 0.1 }, "
			  "mu: { min: -1, max: 1, step: 0.5 }, length: 24, "
			  "chi_max: 64 }\n",
			  err);
	CHECK(s && spec_thermal_core_hours(s) > 0, "thermal core-hours %g",
	      s ? spec_thermal_core_hours(s) : -1.0);
	if (s) {
		/* per table: 5 mu x 100 steps of 2e-9 x 48 sites x 64^3 s */
		double one = 5 * 100 * 2e-9 * 48 * 64.0 * 64 * 64 / 3600;
		CHECK_CLOSE(spec_point_core_hours(&s->points[8]), one,
			    1e-9 * one, "one table's core-hours");
		CHECK_CLOSE(spec_thermal_core_hours(s), 2 * one, 1e-9 * one,
			    "the tables' core-hours: the sum");
	}
	spec_destroy(&s);
	s = parse("", err);
	CHECK(s && spec_thermal_core_hours(s) == 0, "no thermal: 0 hours");
	spec_destroy(&s);
}

int main(void)
{
	test_thermal();
	test_references();
	test_bad();
	test_core_hours();
	return check_done("test_fit_spec");
}
