/* test_chiconv: velocities converged in chi_max (engine/post/chiconv.c).
 * Five anisotropies of one group, each a ladder of chi_max rungs given out
 * of order, with velocities built so that the verdicts are known:
 *   delta 0.3: 8 -> 16 changes by 0.01, combined sd 0.0141: converged;
 *   delta 0.5: changes by 0.2 with sds 0.01: not converged (beyond the
 *              sds and the tolerance), named with the reason, left out;
 *   delta 0.7: changes by 0.03 within sds 0.05 but above --v-tol 0.02 in
 *              the second pass: not converged by the tolerance alone;
 *   delta 0.9: converged (three rungs; the lowest is far off and ignored:
 *              only the two largest count);
 *   delta 0.95: one chi_max: convergence unknown, left out;
 * plus a ladder whose top rung has no velocity, and a second group with
 * one-rung ladders only (no fit due).  A and B over the used ladders against
 * the closed form of the top rungs' velocities; --use-largest-chi uses
 * every top rung; v'_L enters the verdict with `left`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chiconv.h"
#include "check.h"
#include "fit.h"

static char err[EU_ERRLEN];

enum { NP = 14 };
static archive_point_row_t rows[NP];
static chiconv_point_t pts[NP];

static void point(int i, double delta, int chi, double vr, double sd,
		  int has_v, int L)
{
	archive_point_row_t *p = &rows[i];
	memset(p, 0, sizeof *p);
	p->id = i;
	p->L = L;
	p->J = 1;
	p->delta_right = delta;
	p->gamma_right = acos(delta);
	p->state = 0;
	p->dt = 0.1;
	p->t_max = 10;
	p->order = 2;
	p->measure_every = 0.5;
	p->chi_max = chi;
	p->cutoff = 1e-10;
	p->measure = 3;
	pts[i].p = p;
	pts[i].has_v = has_v;
	pts[i].v_right = vr;
	pts[i].v_right_sd = sd;
	pts[i].v_left = -0.7;
	pts[i].v_left_sd = 0.01;
	pts[i].why = has_v ? "" : "the window 4:10 is outside the data";
}

static const chiconv_ladder_t *find(const chiconv_ladder_t *l, int n,
				    double delta, int L)
{
	for (int k = 0; k < n; k++)
		if (l[k].delta_right == delta && l[k].L == L)
			return &l[k];
	return NULL;
}

static void build(void)
{
	point(0, 0.3, 16, 0.38, 0.01, 1, 40);
	point(1, 0.3, 8, 0.37, 0.01, 1, 40);
	point(2, 0.5, 8, 0.41, 0.01, 1, 40);
	point(3, 0.5, 16, 0.61, 0.01, 1, 40);
	point(4, 0.7, 16, 0.90, 0.05, 1, 40);
	point(5, 0.7, 8, 0.87, 0.05, 1, 40);
	point(6, 0.9, 4, 0.20, 0.01, 1, 40);
	point(7, 0.9, 16, 1.17, 0.02, 1, 40);
	point(8, 0.9, 8, 1.16, 0.02, 1, 40);
	point(9, 0.95, 16, 1.25, 0.02, 1, 40);
	point(10, 0.8, 8, 1.0, 0.02, 1, 40);
	point(11, 0.8, 16, NAN, NAN, 0, 40); /* top rung without velocity */
	point(12, 0.3, 8, 0.4, 0.01, 1, 60); /* another group, one rung */
	point(13, 0.5, 8, 0.6, 0.01, 1, 60);
}

static void test_default(void)
{
	chiconv_opts_t o;
	chiconv_ladder_t *lad = NULL;
	chiconv_fit_t *fit = NULL;
	int nl = 0, nf = 0, nfail = -1;
	chiconv_opts_default(&o);
	CHECK(!chiconv_ladders(pts, NP, &o, &lad, &nl, err), "%s", err);
	CHECK(nl == 8, "8 ladders (%d)", nl);
	const chiconv_ladder_t *a = find(lad, nl, 0.3, 40),
			       *b = find(lad, nl, 0.5, 40),
			       *c = find(lad, nl, 0.7, 40),
			       *d = find(lad, nl, 0.9, 40),
			       *e = find(lad, nl, 0.95, 40),
			       *g = find(lad, nl, 0.8, 40);
	CHECK(a && b && c && d && e && g, "ladders found");
	if (!(a && b && c && d && e && g))
		return;
	CHECK(a->verdict == CHICONV_CONVERGED, "0.3 converged: %s", a->reason);
	CHECK(!strcmp(a->chi_list, "8,16") && !strcmp(a->point_ids, "1,0"),
	      "rungs by chi: %s / %s", a->chi_list, a->point_ids);
	CHECK(a->point_id == 0 && a->prev_point_id == 1 && a->chi_max == 16,
	      "top rung");
	CHECK_CLOSE(a->dv_right, 0.01, 1e-12, "change of v'_R");
	CHECK_CLOSE(a->sd_right, sqrt(2) * 0.01, 1e-12, "combined sd");
	CHECK(b->verdict == CHICONV_NOT_CONVERGED &&
		      strstr(b->reason, "chi_max 8 -> 16") &&
		      strstr(b->reason, "combined sd") &&
		      strstr(b->reason, "tol 0.05"),
	      "0.5 not converged: %s", b->reason);
	CHECK(c->verdict == CHICONV_CONVERGED, "0.7 within sds and 0.05: %s",
	      c->reason);
	CHECK(d->verdict == CHICONV_CONVERGED && d->nrungs == 3 &&
		      d->prev_chi_max == 8,
	      "0.9: the two largest of three rungs");
	CHECK(e->verdict == CHICONV_ONE_RUNG, "0.95: one chi_max");
	CHECK(g->verdict == CHICONV_NO_VELOCITY && strstr(g->reason, "outside"),
	      "0.8: no velocity: %s", g->reason);
	CHECK(!chiconv_fits(pts, lad, nl, &o, &fit, &nf, &nfail, err), "%s",
	      err);
	CHECK(nf == 2 && nfail == 0, "two groups, none failed (%d, %d)", nf,
	      nfail);
	const chiconv_fit_t *f = &fit[lad[0].group];
	CHECK(f->ok && f->nused == 3 && f->nladders == 6,
	      "fit over 3 of 6 ladders (%d of %d): %s", f->nused, f->nladders,
	      f->message);
	CHECK(strstr(f->left_out, "3 (chi_max 8 -> 16") &&
		      strstr(f->left_out, "9 (convergence not checked") &&
		      strstr(f->left_out, "11 (chi_max 16 (point 11) has no"),
	      "left out with reasons: %s", f->left_out);
	CHECK(!strcmp(f->used_ids, "0,4,7"), "used %s", f->used_ids);
	fit_line_t ref;
	double x[3] = {0.3, 0.7, 0.9}, y[3] = {0.38, 0.90, 1.17};
	CHECK(!fit_line(x, y, NULL, 3, &ref, err), "%s", err);
	CHECK_CLOSE(f->A, ref.slope, 1e-12, "A over the converged");
	CHECK_CLOSE(f->B, ref.intercept, 1e-12, "B over the converged");
	CHECK_CLOSE(f->A_sd, ref.slope_sd, 1e-12, "sd(A)");
	/* closed form of the slope through the three points */
	double xm = (0.3 + 0.7 + 0.9) / 3, ym = (0.38 + 0.90 + 1.17) / 3;
	double sxy = 0, sxx = 0;
	for (int k = 0; k < 3; k++) {
		sxy += (x[k] - xm) * (y[k] - ym);
		sxx += (x[k] - xm) * (x[k] - xm);
	}
	CHECK_CLOSE(f->A, sxy / sxx, 1e-12, "A closed form");
	const chiconv_fit_t *f2 = &fit[1 - lad[0].group];
	CHECK(!f2->ok && strstr(f2->message, "not checked") && !f2->nused,
	      "group without ladders: no fit due: %s", f2->message);
	CHECK(!lad[6].used && !lad[7].used, "their ladders unused");
	/* printing names the left-out points */
	char *buf = NULL;
	size_t len = 0;
	FILE *mf = open_memstream(&buf, &len);
	chiconv_print(mf, pts, &o, lad, nl, fit, nf);
	fclose(mf);
	CHECK(buf && strstr(buf, "not converged: chi_max 8 -> 16") &&
		      strstr(buf, "left out: 3 (") && strstr(buf, "[used]"),
	      "printed:\n%s", buf ? buf : "");
	free(buf);
	free(lad);
	free(fit);
}

static void test_options(void)
{
	chiconv_opts_t o;
	chiconv_ladder_t *lad = NULL;
	chiconv_fit_t *fit = NULL;
	int nl = 0, nf = 0, nfail = -1;
	/* a tighter tolerance: 0.7 (change 0.03) fails by the tol alone */
	chiconv_opts_default(&o);
	o.tol = 0.02;
	CHECK(!chiconv_ladders(pts, NP, &o, &lad, &nl, err), "%s", err);
	const chiconv_ladder_t *c = find(lad, nl, 0.7, 40);
	CHECK(c && c->verdict == CHICONV_NOT_CONVERGED &&
		      !strstr(c->reason, "combined sd") &&
		      strstr(c->reason, "tol 0.02"),
	      "0.7 beyond the tolerance only: %s", c ? c->reason : "");
	free(lad);
	/* --use-largest-chi: every top rung with a velocity */
	chiconv_opts_default(&o);
	o.use_largest = 1;
	CHECK(!chiconv_ladders(pts, NP, &o, &lad, &nl, err), "%s", err);
	CHECK(!chiconv_fits(pts, lad, nl, &o, &fit, &nf, &nfail, err), "%s",
	      err);
	const chiconv_fit_t *f = &fit[lad[0].group];
	CHECK(f->ok && f->forced && f->nused == 5 &&
		      !strcmp(f->used_ids, "0,3,4,7,9") &&
		      strstr(f->left_out, "11 ("),
	      "forced: %d used (%s), left out %s", f->nused, f->used_ids,
	      f->left_out);
	free(lad);
	free(fit);
	/* v'_L in the verdict: a moving v'_L spoils 0.3 */
	pts[0].v_left = -0.5;
	chiconv_opts_default(&o);
	o.left = 1;
	CHECK(!chiconv_ladders(pts, NP, &o, &lad, &nl, err), "%s", err);
	const chiconv_ladder_t *a = find(lad, nl, 0.3, 40);
	CHECK(a && a->verdict == CHICONV_NOT_CONVERGED &&
		      strstr(a->reason, "v'_L moved by 0.2"),
	      "v'_L: %s", a ? a->reason : "");
	free(lad);
	o.left = 0;
	CHECK(!chiconv_ladders(pts, NP, &o, &lad, &nl, err), "%s", err);
	a = find(lad, nl, 0.3, 40);
	CHECK(a && a->verdict == CHICONV_CONVERGED, "without v'_L: converged");
	free(lad);
	pts[0].v_left = -0.7;
}

int main(void)
{
	build();
	test_default();
	test_options();
	return check_done("test_chiconv");
}
