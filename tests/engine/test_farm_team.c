/* test_farm_team: which points run on teams, and of how many ranks
 * (farm_point_team, farm_team_cap; engine/farm/farm.c).  A sweep of three
 * domain-wall points, chi_max 8, 12 and 96 (modelled core-hours ~6e-5, ~6e-5
 * and ~3e-4):
 * - without --team-size (1) every point runs alone;
 * - --team-size 2 --team-min-core-hours 1e-4: only the chi 96 point is a
 *   team point; the threshold is inclusive (X = its own core-hours makes it
 *   one, the next double above does not); X = 0: all three;
 * - the team is capped at the job's ranks: 8 asked on 4 ranks gives 4, on
 *   4 ranks with a dedicated scheduler 3; a cap below 2 (1 rank; 2 ranks
 *   with a dedicated scheduler) means alone;
 * - a thermal table or an unknown state never runs on a team.
 * Also farm_todo_share (engine/farm/farm_plan.c), which keeps the sweep's
 * ETA from counting a resumed point's checkpointed part as work of the run:
 * from the start 1, resumed at t = 1 of t_max = 4 0.75, at t_max 0, and 1
 * for a thermal table. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "eu.h"
#include "farm.h"
#include "spec.h"

static const char *text =
	"sweep: teams\n"
	"chain:\n"
	"  length: [40]\n"
	"  left: { delta: 0 }\n"
	"  right: { delta: [0.5] }\n"
	"state: [domain_wall]\n"
	"evolve: { dt: 0.05, t_max: 4.0, order: 4, measure_every: 0.25 }\n"
	"truncate: { chi_max: [8, 12, 96], cutoff: 1.0e-10 }\n";

int main(void)
{
	char err[EU_ERRLEN] = "";
	spec_t *s = NULL;
	farm_opts_t o;
	int big = -1;

	CHECK(spec_parse(&s, "teams.yaml", text, strlen(text), err) == 0,
	      "spec: %s", err);
	if (!s)
		return check_done("farm_team");
	CHECK(s->npoints == 3, "%d points", s->npoints);
	for (int k = 0; k < s->npoints; k++)
		if (s->points[k].chi_max == 96)
			big = k;
	CHECK(big >= 0, "the chi 96 point");
	if (big < 0)
		goto out;
	const spec_point_t *pb = &s->points[big];
	const double hb = spec_point_core_hours(pb);
	CHECK(hb > 1e-4, "chi 96: %g core-hours", hb);
	for (int k = 0; k < s->npoints; k++)
		if (k != big)
			CHECK(spec_point_core_hours(&s->points[k]) < 1e-4,
			      "point %d: %g core-hours", k,
			      spec_point_core_hours(&s->points[k]));

	farm_opts_default(&o);
	for (int k = 0; k < s->npoints; k++)
		CHECK(farm_point_team(&o, &s->points[k], 4) == 1,
		      "default: point %d alone", k);

	o.team_size = 2;
	o.team_min_core_hours = 1e-4;
	for (int k = 0; k < s->npoints; k++)
		CHECK(farm_point_team(&o, &s->points[k], 4) == (k == big ? 2 : 1),
		      "team 2 from 1e-4 core-hours: point %d", k);
	o.team_min_core_hours = hb;
	CHECK(farm_point_team(&o, pb, 4) == 2, "threshold inclusive");
	o.team_min_core_hours = nextafter(hb, INFINITY);
	CHECK(farm_point_team(&o, pb, 4) == 1, "threshold above");
	o.team_min_core_hours = 0;
	for (int k = 0; k < s->npoints; k++)
		CHECK(farm_point_team(&o, &s->points[k], 4) == 2,
		      "threshold 0: point %d on a team", k);

	o.team_size = 8;
	CHECK(farm_team_cap(4, 0) == 4 && farm_point_team(&o, pb, 4) == 4,
	      "8 asked on 4 ranks: 4");
	o.dedicated = 1;
	CHECK(farm_team_cap(4, 1) == 3 && farm_point_team(&o, pb, 4) == 3,
	      "8 asked on 4 ranks, dedicated scheduler: 3");
	CHECK(farm_point_team(&o, pb, 2) == 1,
	      "2 ranks, dedicated scheduler: alone");
	o.dedicated = 0;
	CHECK(farm_team_cap(1, 0) == 1 && farm_point_team(&o, pb, 1) == 1,
	      "1 rank: alone");

	spec_point_t q = *pb;
	q.state = SPEC_STATE_THERMAL;
	CHECK(farm_point_team(&o, &q, 4) == 1, "a thermal table runs alone");
	q.state = 77;
	CHECK(farm_point_team(&o, &q, 4) == 1, "an unknown state runs alone");

	CHECK(farm_todo_share(pb, NAN) == 1, "share from the start: 1");
	/* L = 40, t_max = 4: the domain wall's light cone (1 + v t bonds,
	 * v = 1 + pi/2) does not fill the chain, so the work done by t is
	 * t + v t^2 / 2 */
	const double v = 1 + 3.14159265358979323846 / 2;
	const double todo = 1 - (1 + v / 2) / (4 + v * 8);
	CHECK(fabs(farm_todo_share(pb, 1.0) - todo) < 1e-15,
	      "share resumed at t = 1 of 4: %g, want %g",
	      farm_todo_share(pb, 1.0), todo);
	CHECK(farm_todo_share(pb, 4.0) == 0, "share resumed at t_max: 0");
	q.state = SPEC_STATE_THERMAL;
	CHECK(farm_todo_share(&q, 1.0) == 1, "a thermal table's share: 1");
out:
	spec_destroy(&s);
	return check_done("farm_team");
}
