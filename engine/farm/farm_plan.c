/* farm_plan: what the farm decides from the spec alone, the same on every
 * rank -- the spec shared by all ranks, the split into shards, the team
 * size of each point -- apart from the scheduler (farm.c).  See farm.h. */
#include "farm.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agree.h"
#include "eu.h"
#include "farm_msg.h"

int farm_cmp_costed(const void *x, const void *y)
{
	const farm_costed_t *a = x, *b = y;
	if (a->cost != b->cost)
		return a->cost > b->cost ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

int farm_team_cap(int size, int dedicated)
{
	int cap = dedicated && size > 1 ? size - 1 : size;
	return cap < FARM_TEAM_MAX ? cap : FARM_TEAM_MAX;
}

int farm_point_team(const farm_opts_t *o, const spec_point_t *p, int size)
{
	if (o->team_size < 2 ||
	    (p->state != SPEC_STATE_DOMAIN_WALL &&
	     p->state != SPEC_STATE_GROUND) ||
	    !(spec_point_core_hours(p) >= o->team_min_core_hours))
		return 1;
	int cap = farm_team_cap(size, o->dedicated);
	int n = o->team_size < cap ? o->team_size : cap;
	return n >= 2 ? n : 1;
}

double farm_todo_share(const spec_point_t *p, double t_resumed)
{
	if (!isfinite(t_resumed) || p->state == SPEC_STATE_THERMAL ||
	    !(p->t_max > 0))
		return 1;
	return 1 - spec_done_share(p->state, p->L, p->t_max, t_resumed);
}

/* "1-3,7": the ranks of a team, leader first, runs of 3 or more as
 * ranges, cut at the buffer's end ("..."). */
void farm_team_text(char *buf, size_t n, const int *ranks, int nr)
{
	size_t at = 0;
	buf[0] = 0;
	for (int j = 0; j < nr && at < n; j++) {
		int e = j;
		while (e + 1 < nr && ranks[e + 1] == ranks[e] + 1)
			e++;
		int w = e - j >= 2
				? snprintf(buf + at, n - at, "%s%d-%d",
					   j ? "," : "", ranks[j], ranks[e])
				: snprintf(buf + at, n - at, "%s%d",
					   j ? "," : "", ranks[j]);
		if (e - j >= 2)
			j = e;
		if (w < 0 || (size_t)w >= n - at) {
			if (n >= 4)
				snprintf(buf + n - 4, 4, "...");
			return;
		}
		at += (size_t)w;
	}
}

void farm_shard_assign(const spec_t *s, int nshards, int *shard_of)
{
	const int n = s->npoints;
	farm_costed_t *c = malloc(((size_t)n + 1) * sizeof *c);
	double *load = calloc((size_t)(nshards > 0 ? nshards : 1),
			      sizeof *load);
	if (nshards < 1)
		nshards = 1;
	if (!c || !load) {
		/* no memory for the balanced split: id modulo N, as stable */
		for (int k = 0; k < n; k++)
			shard_of[k] = k % nshards;
		goto out;
	}
	for (int k = 0; k < n; k++)
		c[k] = (farm_costed_t){spec_point_cost(&s->points[k]), k};
	qsort(c, (size_t)n, sizeof *c, farm_cmp_costed);
	for (int j = 0; j < n; j++) {
		int best = 0;
		for (int i = 1; i < nshards; i++)
			if (load[i] < load[best])
				best = i;
		shard_of[c[j].id] = best;
		load[best] += c[j].cost;
	}
out:
	free(c);
	free(load);
}

int farm_spec_share(MPI_Comm c, const char *name, const char *text,
		    spec_t **s, char *err)
{
	char *buf = NULL;
	long len = 0;
	int rank, rc = 0;
	*s = NULL;
	MPI_Comm_rank(c, &rank);
	if (rank == 0)
		len = text ? (long)strlen(text) : -1;
	agree_bytes(c, &len, (int)sizeof len);
	if (len < 0 || len > INT_MAX - 1) {
		eu_err(err, "%s: no spec text", name);
		return -1;
	}
	buf = malloc((size_t)len + 1);
	rc = agree_all(c, buf ? 0 : -1);
	if (rc) {
		eu_err(err, "out of memory reading the spec");
		goto out;
	}
	if (rank == 0)
		memcpy(buf, text, (size_t)len + 1);
	agree_bytes(c, buf, (int)len + 1);
	{
		char serr[EU_ERRLEN] = "";
		rc = spec_parse(s, name, buf, (size_t)len, serr) ? -1 : 0;
		if (rc) {
			eu_err(err, "%s", serr);
			spec_destroy(s);
		}
	}
	rc = agree_all(c, rc);
	if (rc && *s) {
		spec_destroy(s);
		eu_err(err, "the spec did not parse on rank 0");
	}
	if (!rc && (*s)->npoints < 1) {
		eu_err(err, "%s: the sweep has no points", name);
		spec_destroy(s);
		rc = -1;
	}
out:
	free(buf);
	return rc;
}
