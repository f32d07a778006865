/* test_spec: the sweep spec parser (engine/sweep/, format engine/SPEC.md).
 *
 * Good specs: the example of engine/SPEC.md expands into 3 x 2 x 2 = 12 points in the
 * documented order with the right values; ids are the order, hashes are
 * distinct and independent of how the spec is written (key order, flow or
 * block style, expression or number, axis order); expressions evaluate to the
 * right doubles; defaults are filled in; all eleven axes vary in the fixed
 * order (first slowest).
 *
 * Bad specs: every file in tests/engine/specs/bad/ must be rejected with the
 * exact "FILE:LINE:COLUMN: " prefix and a distinctive part of the message
 * (table `bad` below).  argv[1] is the tests/ source directory (meson passes
 * it). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "spec.h"

#define PI 3.14159265358979323846

static const char *demo =
	"sweep: demo\n"
	"chain:\n"
	"  length: 140\n"
	"  coupling: 1.0\n"
	"  left:  { delta: 0 }\n"
	"  right: { gamma: [pi/2, pi/3, pi/4] }   # or delta: [...]\n"
	"state: [ground_state, domain_wall]\n"
	"evolve: { dt: 0.02, t_max: 10, order: 4, measure_every: 0.5 }\n"
	"truncate: { chi_max: [64, 128], cutoff: 1.0e-10 }\n"
	"measure: [energy, energy_current, magnetization, spin_current, "
	"entropy]\n";

/* The same sweep written differently: keys reordered, block instead of flow,
 * numbers instead of expressions, defaults left out, the chi axis and the
 * state axis reversed, the measure list reordered. */
static const char *demo_reordered =
	"measure: [entropy, spin_current, magnetization, energy_current,\n"
	"          energy]\n"
	"truncate:\n"
	"  chi_max: [128, 64]\n"
	"evolve:\n"
	"  t_max: 1.0e1\n"
	"  measure_every: 0.5\n"
	"state: [domain_wall, ground_state]\n"
	"chain:\n"
	"  right:\n"
	"    gamma: [1.5707963267948966, pi/3, 0.25*pi]\n"
	"  length: 140\n"
	"sweep: demo-again\n";

static uint64_t fnv(const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static spec_t *parse(const char *text)
{
	char err[EU_ERRLEN];
	spec_t *s = NULL;
	int rc = spec_parse(&s, "inline.yaml", text, strlen(text), err);
	CHECK(rc == 0 && s, "good spec rejected: %s", err);
	return rc ? NULL : s;
}

static const spec_point_t *find_hash(const spec_t *s, uint64_t h)
{
	for (int k = 0; k < s->npoints; k++)
		if (s->points[k].hash == h)
			return &s->points[k];
	return NULL;
}

static void test_demo(void)
{
	const double gam[3] = {PI / 2, PI / 3, PI / 4};
	const int chi[2] = {64, 128};
	spec_t *s = parse(demo), *r = NULL;
	char buf[1024];

	if (!s)
		return;
	CHECK(!strcmp(s->name, "demo"), "name %s", s->name);
	CHECK(s->npoints == 12, "npoints %d", s->npoints);
	CHECK(!strcmp(s->text, demo), "text kept");
	CHECK(s->hash == fnv(demo), "spec hash is FNV-1a of the text");
	snprintf(buf, sizeof buf, "%016" PRIx64, s->hash);
	CHECK(!strcmp(buf, s->hash_hex), "spec hash_hex %s", s->hash_hex);
	for (int id = 0; id < s->npoints && s->npoints == 12; id++) {
		const spec_point_t *p = &s->points[id];
		int g = id / 4, st = (id / 2) % 2, c = id % 2;
		CHECK(p->id == id, "id %d at %d", p->id, id);
		CHECK(p->L == 140, "L %d", p->L);
		CHECK(p->J == 1.0, "J %g", p->J);
		CHECK(p->delta_left == 0.0, "delta_left %g", p->delta_left);
		CHECK(p->gamma_right == gam[g], "point %d gamma %.17g", id,
		      p->gamma_right);
		CHECK(p->delta_right == cos(gam[g]), "point %d delta %.17g", id,
		      p->delta_right);
		CHECK(p->state == (st ? SPEC_STATE_DOMAIN_WALL
				      : SPEC_STATE_GROUND),
		      "point %d state %d", id, p->state);
		CHECK(p->chi_max == chi[c], "point %d chi %d", id, p->chi_max);
		CHECK(p->dt == 0.02 && p->t_max == 10 && p->order == 4 &&
			      p->measure_every == 0.5 && p->cutoff == 1e-10,
		      "point %d evolve/truncate", id);
		CHECK(p->measure == 0x1fu, "measure %#x", p->measure);
		CHECK(p->n_measure == 21, "n_measure %d", p->n_measure);
		CHECK(p->steps_per_measure == 25, "steps %d",
		      p->steps_per_measure);
		int n = spec_point_canonical(p, buf, sizeof buf);
		CHECK(n > 0 && (size_t)n < sizeof buf, "canonical length %d",
		      n);
		CHECK(p->hash == fnv(buf), "point %d hash = FNV-1a(canonical)",
		      id);
		snprintf(buf, sizeof buf, "%016" PRIx64, p->hash);
		CHECK(!strcmp(buf, p->hash_hex), "hash_hex %s", p->hash_hex);
		for (int j = 0; j < id; j++)
			CHECK(s->points[j].hash != p->hash,
			      "points %d and %d share a hash", j, id);
	}
	/* canonical text: snprintf semantics, no id, no hash */
	if (s->npoints > 0) {
		char small[8];
		int full = spec_point_canonical(&s->points[0], buf, sizeof buf);
		int n = spec_point_canonical(&s->points[0], small, sizeof small);
		CHECK(n == full && strlen(small) == sizeof small - 1,
		      "truncated canonical returns the full length");
		CHECK(strstr(buf, "chi_max=64") && strstr(buf, "state=ground_state")
			      && strstr(buf, "gamma_right=1.5707963267948966"),
		      "canonical text %s", buf);
		spec_point_t q = s->points[0];
		q.id = 77;
		q.hash = 1;
		spec_point_canonical(&q, small, sizeof small);
		char buf2[1024];
		spec_point_canonical(&q, buf2, sizeof buf2);
		CHECK(!strcmp(buf, buf2), "canonical ignores id and hash");
	}

	/* stable hashes: the same points written differently */
	r = parse(demo_reordered);
	if (r) {
		CHECK(r->npoints == 12, "reordered npoints %d", r->npoints);
		CHECK(r->hash != s->hash, "different texts, different spec "
					  "hashes");
		for (int k = 0; k < s->npoints && r->npoints == 12; k++) {
			const spec_point_t *p = &s->points[k];
			const spec_point_t *q = find_hash(r, p->hash);
			CHECK(q != NULL, "point %d (%s) not found in the "
					 "reordered spec",
			      k, p->hash_hex);
			if (q)
				CHECK(q->gamma_right == p->gamma_right &&
					      q->state == p->state &&
					      q->chi_max == p->chi_max,
				      "same hash, same parameters");
		}
		/* and the order there follows the text: chi 128 first,
		 * domain_wall first */
		if (r->npoints == 12) {
			CHECK(r->points[0].chi_max == 128 &&
				      r->points[0].state ==
					      SPEC_STATE_DOMAIN_WALL &&
				      r->points[0].gamma_right == PI / 2,
			      "reordered point 0");
			CHECK(r->points[0].hash == s->points[3].hash,
			      "demo point 3 = reordered point 0");
			CHECK(r->points[11].hash == s->points[8].hash,
			      "demo point 8 = reordered point 11");
		}
	}
	spec_destroy(&r);
	CHECK(r == NULL, "destroy sets NULL");
	spec_destroy(&s);
	spec_destroy(&s); /* NULL is fine */
	spec_destroy(NULL);
}

/* any change of a parameter changes the hash */
static void test_hash_sensitivity(void)
{
	const char *base = "sweep: h\nchain: { length: 8, right: { delta: 0.5 } }\n"
			   "state: ground_state\nevolve: { t_max: 1 }\n"
			   "truncate: { chi_max: 16 }\n";
	const char *variants[] = {
		"sweep: h\nchain: { length: 8, right: { delta: 0.5 } }\n"
		"state: ground_state\nevolve: { t_max: 1 }\n"
		"truncate: { chi_max: 17 }\n",
		"sweep: h\nchain: { length: 8, right: { delta: 0.5 } }\n"
		"state: ground_state\nevolve: { t_max: 1 }\n"
		"truncate: { chi_max: 16 }\nmeasure: [energy]\n",
		"sweep: h\nchain: { length: 8, right: { delta: 0.5 } }\n"
		"state: domain_wall\nevolve: { t_max: 1 }\n"
		"truncate: { chi_max: 16 }\n",
		"sweep: h\nchain: { length: 8, right: { delta: 0.5 } }\n"
		"state: ground_state\nevolve: { t_max: 1, order: 2 }\n"
		"truncate: { chi_max: 16 }\n",
		"sweep: h\nchain: { length: 8, right: { delta: 0.5 },\n"
		"  left: { delta: 0.1 } }\n"
		"state: ground_state\nevolve: { t_max: 1 }\n"
		"truncate: { chi_max: 16 }\n",
		"sweep: h\nchain: { length: 8, right: { gamma: pi/3 } }\n"
		"state: ground_state\nevolve: { t_max: 1 }\n"
		"truncate: { chi_max: 16 }\n",
	};
	/* equal to base: explicit defaults, another name, -0 for 0 */
	const char *same =
		"sweep: other-name\n"
		"chain: { length: 8, coupling: 1, left: { delta: -0 },\n"
		"         right: { delta: 1/2 } }\n"
		"state: [ground_state]\n"
		"evolve: { t_max: 1, dt: 0.02, order: 4, measure_every: 0.5 }\n"
		"truncate: { chi_max: 16, cutoff: 1e-10 }\n"
		"measure: [energy, energy_current, magnetization, "
		"spin_current, entropy]\n";
	spec_t *b = parse(base), *v = NULL;

	if (!b)
		return;
	for (size_t k = 0; k < sizeof variants / sizeof variants[0]; k++) {
		v = parse(variants[k]);
		if (v)
			CHECK(v->points[0].hash != b->points[0].hash,
			      "variant %zu has the base hash", k);
		spec_destroy(&v);
	}
	v = parse(same);
	if (v)
		CHECK(v->points[0].hash == b->points[0].hash,
		      "explicit defaults change the hash");
	spec_destroy(&v);
	spec_destroy(&b);
}

static void test_expressions(void)
{
	/* every expression form, as coupling values (any positive number) */
	const char *text =
		"sweep: expr\n"
		"chain:\n"
		"  length: 8\n"
		"  coupling: [pi, pi/4, 2*pi/3, 0.5*pi, cos(pi/4), cos(2*pi/3)*-1,"
		" sqrt(2), -(-3), sin(pi/6) * 3, ( 1.5e-3 ), .25, 3/4/5,"
		" 2*(pi)/(5), +7, --8, sqrt(cos(0)*16), 1E2]\n"
		"  right: { delta: -cos(pi/3) }\n"
		"  left: { gamma: pi/2 }\n"
		"state: domain_wall\n"
		"evolve: { t_max: 1 }\n"
		"truncate: { chi_max: 4 }\n";
	const double want[] = {PI,     PI / 4,        2 * PI / 3,
			       0.5 * PI, cos(PI / 4),  -cos(2 * PI / 3),
			       sqrt(2.0), 3,           sin(PI / 6) * 3,
			       1.5e-3, 0.25,          3.0 / 4 / 5,
			       2 * PI / 5, 7,          8,
			       4,      100};
	const size_t n = sizeof want / sizeof want[0];
	char err[EU_ERRLEN];
	spec_t *s = parse(text);

	if (s) {
		CHECK(s->npoints == (int)n, "npoints %d", s->npoints);
		for (size_t k = 0; k < n && s->npoints == (int)n; k++)
			CHECK(fabs(s->points[k].J - want[k]) <=
				      1e-15 * fabs(want[k]),
			      "coupling %zu: %.17g vs %.17g", k,
			      s->points[k].J, want[k]);
		CHECK(s->points[0].J == PI, "pi is exact");
		CHECK(s->points[1].J == PI / 4, "pi/4 is exact");
		CHECK(s->points[0].delta_right == -cos(PI / 3),
		      "unary minus of a function");
		CHECK(s->points[0].gamma_right == acos(-cos(PI / 3)),
		      "gamma_right = acos(delta_right) when delta is given");
		CHECK(s->points[0].delta_left == cos(PI / 2),
		      "left gamma converted: delta_left = cos(gamma)");
	}
	spec_destroy(&s);

	/* values are compared after evaluation: 2*pi/3 and 2*(pi)/(3) are
	 * the same point */
	const char *dup = "sweep: d\nchain: { length: 8, coupling: [2*pi/3, "
			  "2*(pi)/(3)], right: { delta: 0 } }\n"
			  "state: domain_wall\nevolve: { t_max: 1 }\n"
			  "truncate: { chi_max: 4 }\n";
	CHECK(spec_parse(&s, "dup.yaml", dup, strlen(dup), err) != 0 && !s,
	      "equal expressions accepted twice");
	CHECK(strstr(err, "dup.yaml:2:40: duplicate value '2*(pi)/(3)'") != NULL,
	      "message: %s", err);
}

static void test_defaults(void)
{
	const char *text = "sweep: d\n"
			   "chain: { length: 4, right: { delta: 0.25 } }\n"
			   "state: ground_state\n"
			   "evolve: { t_max: 0 }\n"
			   "truncate: { chi_max: 1 }\n";
	spec_t *s = parse(text);
	const spec_point_t *p;

	if (!s)
		return;
	p = &s->points[0];
	CHECK(s->npoints == 1, "npoints %d", s->npoints);
	CHECK(p->J == 1.0, "default coupling %g", p->J);
	CHECK(p->delta_left == 0.0 && !signbit(p->delta_left),
	      "default left delta %g", p->delta_left);
	CHECK(p->dt == 0.02, "default dt %g", p->dt);
	CHECK(p->order == 4, "default order %d", p->order);
	CHECK(p->measure_every == 0.5, "default measure_every %g",
	      p->measure_every);
	CHECK(p->cutoff == 1e-10, "default cutoff %g", p->cutoff);
	CHECK(p->measure == (SPEC_M_ENERGY | SPEC_M_ENERGY_CURRENT |
			     SPEC_M_MAGNETIZATION | SPEC_M_SPIN_CURRENT |
			     SPEC_M_ENTROPY),
	      "default measure %#x", p->measure);
	CHECK(p->gamma_right == acos(0.25), "gamma_right %.17g",
	      p->gamma_right);
	CHECK(p->n_measure == 1, "t_max 0: one measurement, got %d",
	      p->n_measure);
	CHECK(p->steps_per_measure == 25, "steps %d", p->steps_per_measure);
	spec_destroy(&s);

	/* counts: t_max not a multiple of measure_every; dt = 0.1 and
	 * measure_every = 0.3 (0.3/0.1 = 2.9999999999999996 in doubles) */
	s = parse("sweep: c\nchain: { length: 6, right: { delta: 0 } }\n"
		  "state: domain_wall\n"
		  "evolve: { t_max: [1.25, 0.9], dt: 0.1, measure_every: 0.3,"
		  " order: 2 }\n"
		  "truncate: { chi_max: 8, cutoff: 0 }\n"
		  "measure: [rho3, energy]\n");
	if (!s)
		return;
	CHECK(s->npoints == 2, "npoints %d", s->npoints);
	if (s->npoints == 2) {
		CHECK(s->points[0].n_measure == 5, "1.25/0.3: 5 times, got %d",
		      s->points[0].n_measure);
		CHECK(s->points[1].n_measure == 4,
		      "0.9/0.3: 4 times, got %d", s->points[1].n_measure);
		CHECK(s->points[0].steps_per_measure == 3, "steps %d",
		      s->points[0].steps_per_measure);
		CHECK(s->points[0].measure == (SPEC_M_RHO3 | SPEC_M_ENERGY),
		      "measure %#x", s->points[0].measure);
		CHECK(s->points[0].order == 2 && s->points[0].cutoff == 0,
		      "order, cutoff");
		/* archive estimate: n_measure * (8 * (3 + (L-1) + L) +
		 * 64*16*(L-2)) for energy + rho3 */
		CHECK_CLOSE(spec_point_archive_bytes(&s->points[0]),
			    5.0 * (8.0 * (3 + 5 + 6) + 1024.0 * 4), 1e-9,
			    "archive bytes");
	}
	spec_destroy(&s);

	/* t_max/measure_every = 0.3/0.1 = 2.9999999999999996 in doubles:
	 * still 4 measurement times (t = 0, 0.1, 0.2, 0.3) */
	s = parse("sweep: c\nchain: { length: 6, right: { delta: 0 } }\n"
		  "state: domain_wall\n"
		  "evolve: { t_max: [0.3, 0.7], dt: 0.05, measure_every: 0.1 }\n"
		  "truncate: { chi_max: 8 }\n");
	if (!s)
		return;
	CHECK(s->npoints == 2 && s->points[0].n_measure == 4 &&
		      s->points[1].n_measure == 8,
	      "n_measure with rounding: %d, %d", s->points[0].n_measure,
	      s->npoints == 2 ? s->points[1].n_measure : -1);
	CHECK(s->points[0].steps_per_measure == 2, "steps %d",
	      s->points[0].steps_per_measure);
	spec_destroy(&s);
}

/* every axis with two values: 2^11 points, first axis slowest */
static void test_axis_order(void)
{
	const char *text =
		"sweep: all-axes\n"
		"chain:\n"
		"  length: [8, 10]\n"
		"  coupling: [1, 2]\n"
		"  left: { delta: [0, 0.1] }\n"
		"  right: { delta: [0.5, 0.6] }\n"
		"state: [ground_state, domain_wall]\n"
		"evolve:\n"
		"  dt: [0.01, 0.02]\n"
		"  t_max: [1, 2]\n"
		"  order: [2, 4]\n"
		"  measure_every: [0.5, 1]\n"
		"truncate: { chi_max: [8, 16], cutoff: [0, 1e-10] }\n";
	spec_t *s = parse(text);
	int bad = 0;

	if (!s)
		return;
	CHECK(s->npoints == 2048, "npoints %d", s->npoints);
	for (int id = 0; id < s->npoints && s->npoints == 2048; id++) {
		const spec_point_t *p = &s->points[id];
		int b[11];
		for (int a = 0; a < 11; a++)
			b[a] = (id >> (10 - a)) & 1;
		bad += p->id != id;
		bad += p->L != (b[0] ? 10 : 8);
		bad += p->J != (b[1] ? 2.0 : 1.0);
		bad += p->delta_left != (b[2] ? 0.1 : 0.0);
		bad += p->delta_right != (b[3] ? 0.6 : 0.5);
		bad += p->state != b[4];
		bad += p->dt != (b[5] ? 0.02 : 0.01);
		bad += p->t_max != (b[6] ? 2.0 : 1.0);
		bad += p->order != (b[7] ? 4 : 2);
		bad += p->measure_every != (b[8] ? 1.0 : 0.5);
		bad += p->chi_max != (b[9] ? 16 : 8);
		bad += p->cutoff != (b[10] ? 1e-10 : 0.0);
		bad += p->steps_per_measure !=
		       (int)lround(p->measure_every / p->dt);
	}
	CHECK(bad == 0, "%d field mismatches in the axis order", bad);
	/* hashes all distinct */
	int dup = 0;
	for (int i = 0; i < s->npoints; i++)
		for (int j = 0; j < i; j++)
			dup += s->points[i].hash == s->points[j].hash;
	CHECK(dup == 0, "%d duplicate hashes", dup);
	spec_destroy(&s);
}

static void test_estimates(void)
{
	spec_point_t p;

	memset(&p, 0, sizeof p);
	p.L = 140;
	p.chi_max = 64;
	p.dt = 0.02;
	p.t_max = 10;
	double c64 = spec_point_cost(&p);
	double m64 = spec_point_memory_bytes(&p);
	p.chi_max = 128;
	double c128 = spec_point_cost(&p);
	CHECK_CLOSE(c128 / c64, 8.0, 1e-12, "cost ~ chi^3");
	CHECK_CLOSE(spec_point_memory_bytes(&p) / m64, 4.0, 1e-12,
		    "memory ~ chi^2");
	CHECK_CLOSE(m64, 16.0 * 64 * 64 * (4 * 140 + 32), 1e-3,
		    "memory = 16 B chi^2 (4 L + 32), documented in SPEC.md");
	p.t_max = 20;
	CHECK_CLOSE(spec_point_cost(&p) / c128, 1001.0 / 501.0, 1e-12,
		    "cost ~ steps + 1");
	/* chi is capped at 2^(L/2): L = 8 cannot use more than 16 */
	p.L = 8;
	p.chi_max = 16;
	double c16 = spec_point_cost(&p);
	p.chi_max = 1000;
	CHECK(spec_point_cost(&p) == c16, "chi capped at 2^(L/2) in cost");
	/* the memory limit example: chi 90000 at L 10000 is far above 1 TiB */
	p.L = 10000;
	p.chi_max = 90000;
	CHECK(spec_point_memory_bytes(&p) > 1024.0 * 1024 * 1024 * 1024,
	      "absurd memory");
}

typedef struct {
	const char *file; /* tests/engine/specs/bad/FILE.yaml */
	const char *pos;  /* "LINE:COLUMN", 1-based */
	const char *msg;  /* distinctive part of the message */
} bad_t;

static const bad_t bad[] = {
	{"syntax", "3:1", "YAML syntax error: did not find expected ','"},
	{"tab_indent", "4:1", "spaces, not tabs"},
	{"empty", "1:1", "empty spec"},
	{"comment_only", "1:1", "empty spec"},
	{"not_utf8", "5:15", "UTF-8"},
	{"second_document", "9:1", "found a second one"},
	{"top_level_list", "1:1", "expected a mapping with the keys sweep"},
	{"unknown_top_key", "8:1",
	 "unknown key 'colour' in the top level (allowed: sweep, chain, "
	 "state, evolve, truncate, measure, thermal, references, refine)"},
	{"unknown_nested_key", "3:3",
	 "unknown key 'lenght' in chain (allowed: length, coupling, left, "
	 "right)"},
	{"duplicate_key", "5:3", "duplicate key 'length' in chain (first at 3:3)"},
	{"chain_is_list", "2:8", "chain: expected a mapping"},
	{"sweep_list", "1:8", "sweep: expected a name, got a list"},
	{"length_string", "3:11", "unknown name 'eight'"},
	{"length_quoted", "3:11", "got the quoted string '8'"},
	{"length_odd", "3:11", "chain.length must be even"},
	{"length_2", "3:11", "chain.length must be at least 4"},
	{"length_huge", "3:11", "chain.length must be at most 10000"},
	{"length_fraction", "3:15", "chain.length must be an integer"},
	{"missing_length", "3:3", "chain: missing required key 'length'"},
	{"missing_right", "3:3", "chain: missing required key 'right'"},
	{"coupling_zero", "4:17", "chain.coupling must be > 0"},
	{"left_empty", "5:9", "chain.left: needs one of delta or gamma"},
	{"delta_and_gamma", "4:24", "exactly one of delta or gamma"},
	{"delta_1_5", "4:25", "chain.right.delta must be in [-1, 1]"},
	{"gamma_out_of_range", "4:19", "chain.right.gamma must be in [0, pi]"},
	{"expr_trailing_slash", "4:19", "got 'pi/': the expression ends"},
	{"expr_open_cos", "4:19", "got 'cos(': the expression ends"},
	{"expr_unclosed", "4:19", "missing ')' to close cos("},
	{"expr_unknown_function", "4:19", "unknown name 'exp'"},
	{"expr_implicit_product", "4:19", "unexpected 'p' at character 2"},
	{"expr_binary_minus", "4:19", "unexpected '-' at character 3"},
	{"expr_division_by_zero", "4:19", "division by zero"},
	{"expr_sqrt_negative", "4:19", "sqrt of a negative number"},
	{"missing_state", "1:1", "missing required key 'state'"},
	{"unknown_state", "5:22", "unknown state 'neel'"},
	{"dt_negative", "6:25", "evolve.dt must be > 0"},
	{"dt_zero", "6:25", "evolve.dt must be > 0, got 0"},
	{"dt_nan", "6:25", "evolve.dt must be a finite number, got '.nan'"},
	{"measure_every_over_t_max", "6:45",
	 "evolve.measure_every = 2 exceeds evolve.t_max = 1: only t = 0"},
	{"t_max_negative", "6:18", "evolve.t_max must be >= 0"},
	{"t_max_missing", "6:9", "evolve: missing required key 't_max'"},
	{"t_max_empty", "7:9", "evolve.t_max: expected a number, got an empty"},
	{"order_3", "6:28", "evolve.order must be 2 or 4"},
	{"measure_every_not_multiple", "6:46",
	 "evolve.measure_every = 0.03 is not a positive multiple of "
	 "evolve.dt = 0.02"},
	{"measure_every_default_not_multiple", "6:25",
	 "measure_every defaults to 0.5"},
	{"chi_zero", "7:22", "truncate.chi_max must be in [1, 100000]"},
	{"chi_fraction", "7:22", "truncate.chi_max must be an integer"},
	{"empty_axis", "7:22", "empty list: truncate.chi_max"},
	{"nested_list", "7:23", "nested lists are not allowed"},
	{"duplicate_axis_value", "7:31",
	 "duplicate value '16' in truncate.chi_max (same as the value at 7:23)"},
	{"duplicate_axis_expression", "4:26",
	 "duplicate value '1.5707963267948966' in chain.right.gamma"},
	{"cutoff_2", "7:34", "truncate.cutoff must be in [0, 1)"},
	{"unknown_measure", "8:19", "unknown measure 'current'"},
	{"duplicate_measure", "8:28", "duplicate measure 'energy'"},
	{"memory_absurd", "7:27",
	 "truncate.chi_max = 90000 with chain.length = 10000 needs an "
	 "estimated"},
	{"too_many_points", "1:1",
	 "the sweep has 117649 points, more than the limit of 100000"},
	{"archive_absurd", "1:1", "the archive would need an estimated"},
};

static void test_bad(const char *srcdir)
{
	char path[4096], want[4200], err[EU_ERRLEN];
	size_t n = sizeof bad / sizeof bad[0];

	CHECK(n >= 30, "%zu bad specs", n);
	for (size_t k = 0; k < n; k++) {
		spec_t *s = (spec_t *)&s; /* must be reset to NULL */
		snprintf(path, sizeof path, "%s/engine/specs/bad/%s.yaml",
			 srcdir, bad[k].file);
		strcpy(err, "(untouched)");
		int rc = spec_load(&s, path, err);
		CHECK(rc != 0, "%s: accepted", bad[k].file);
		CHECK(s == NULL, "%s: *s not NULL on error", bad[k].file);
		snprintf(want, sizeof want, "%s:%s: ", path, bad[k].pos);
		CHECK(!strncmp(err, want, strlen(want)),
		      "%s: expected position %s, got: %s", bad[k].file,
		      bad[k].pos, err);
		CHECK(strstr(err, bad[k].msg) != NULL,
		      "%s: expected '%s' in: %s", bad[k].file, bad[k].msg, err);
		if (rc == 0)
			spec_destroy(&s);
	}
}

static void test_files(const char *srcdir)
{
	char path[4096], err[EU_ERRLEN];
	spec_t *s = NULL, *t;

	snprintf(path, sizeof path, "%s/engine/specs/good/demo.yaml", srcdir);
	CHECK(spec_load(&s, path, err) == 0, "demo.yaml: %s", err);
	t = parse(demo);
	if (s && t) {
		CHECK(s->npoints == 12, "demo.yaml points %d", s->npoints);
		for (int k = 0; k < s->npoints && k < t->npoints; k++)
			CHECK(s->points[k].hash == t->points[k].hash,
			      "file and string agree on point %d", k);
	}
	spec_destroy(&s);
	spec_destroy(&t);

	snprintf(path, sizeof path, "%s/engine/specs/bad/no-such-file.yaml",
		 srcdir);
	CHECK(spec_load(&s, path, err) != 0 && s == NULL, "missing file");
	CHECK(strstr(err, "cannot open") && strstr(err, "no-such-file"),
	      "missing file message: %s", err);

	/* the name given to spec_parse is the file in messages */
	CHECK(spec_parse(&s, "given-name.yaml", "sweep: x\ncolour: 1\n", 19,
			 err) != 0,
	      "error from a string");
	CHECK(!strncmp(err, "given-name.yaml:2:1: unknown key 'colour'", 41),
	      "name used: %s", err);
}

int main(int argc, char **argv)
{
	const char *srcdir = argc > 1 ? argv[1] : "tests";

	test_demo();
	test_hash_sensitivity();
	test_expressions();
	test_defaults();
	test_axis_order();
	test_estimates();
	test_bad(srcdir);
	test_files(srcdir);
	return check_done("test_spec");
}
