/* convergence: for every point with a partner that differs only in a
 * larger chi_max (the next larger one), the time up to which each
 * observable of schema_conv_ds agrees within a tolerance; and the
 * velocities' verdicts in chi_max (chiconv.h) over the chi_max ladders. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "chiconv.h"
#include "eu.h"
#include "h5x.h"

int convergence(hid_t f, pt_t *pts, int np, double tol, cv_row_t **out,
		       int *nout, char *err)
{
	cv_row_t *rows = calloc(np ? (size_t)np : 1, sizeof *rows);
	int n = 0, rc = -1;

	*out = NULL;
	*nout = 0;
	if (!rows)
		return eu_err(err, "out of memory");
	for (int i = 0; i < np; i++) {
		const archive_point_row_t *p = pts[i].p;
		int ref = -1;
		for (int j = 0; j < np; j++)
			if (pts[j].p->chi_max > p->chi_max &&
			    chiconv_same_ladder(p, pts[j].p) &&
			    (ref < 0 || pts[j].p->chi_max < pts[ref].p->chi_max))
				ref = j;
		if (ref < 0 || pts[i].nw == 0 || pts[ref].nw == 0)
			continue;
		cv_row_t *r = &rows[n++];
		double *tv[N_CONV] = {&r->t_energy, &r->t_energy_current,
				      &r->t_sz, &r->t_spin_current,
				      &r->t_entropy};
		r->point_id = p->id;
		r->ref_point_id = pts[ref].p->id;
		r->chi_max = p->chi_max;
		r->ref_chi_max = pts[ref].p->chi_max;
		r->tol = tol;
		r->t_all = INFINITY;
		r->full = 1;
		r->max_diff = 0;
		int nrow = pts[i].n < pts[ref].n ? pts[i].n : pts[ref].n;
		int any = 0;
		for (int k = 0; k < N_CONV; k++) {
			double *a = NULL, *b = NULL, t, md;
			int full, ea, eb;
			const int cols =
				schema_point_ds[schema_conv_ds[k]].cols ==
						SC_SITES
					? p->L
					: p->L - 1;
			*tv[k] = NAN;
			const char *ds = schema_point_ds[schema_conv_ds[k]].name;
			ea = an_read_doubles(f, p->id, ds,
					     (size_t)pts[i].n * cols, &a, err);
			eb = ea ? 1
				: an_read_doubles(f, pts[ref].p->id, ds,
						  (size_t)pts[ref].n * cols, &b,
						  err);
			if (ea < 0 || eb < 0) {
				free(a);
				free(b);
				goto out;
			}
			if (ea == 0 && eb == 0 &&
			    !fit_agree_time(a, b, nrow, cols, pts[i].time,
					    tol, &t, &full, &md, err)) {
				*tv[k] = t;
				any = 1;
				r->t_all = isnan(t) || isnan(r->t_all)
						   ? NAN
						   : fmin(r->t_all, t);
				r->full &= (int8_t)full;
				r->max_diff = fmax(r->max_diff, md);
			}
			free(a);
			free(b);
		}
		if (!any) {
			r->t_all = NAN;
			r->full = 0;
		}
	}
	*out = rows;
	*nout = n;
	rows = NULL;
	rc = 0;
out:
	free(rows);
	return rc;
}

/* ---- the velocities' convergence in chi_max (chiconv.h) ---- */

int chi_verdicts(const pt_t *pts, int np, const an_opts_t *o, chi_t *c,
		 char *err)
{
	int nfail = 0;
	memset(c, 0, sizeof *c);
	c->in = calloc(np ? (size_t)np : 1, sizeof *c->in);
	if (!c->in)
		return eu_err(err, "out of memory");
	for (int i = 0; i < np; i++) {
		const pt_t *q = &pts[i];
		if (!q->has_je)
			continue;
		chiconv_point_t *x = &c->in[c->nin++];
		x->p = q->p;
		x->has_v = q->lc.ok;
		x->v_right = q->lc.v_right;
		x->v_right_sd = q->lc.v_right_sd;
		x->v_right_win = q->lc.v_right_win;
		x->v_left = q->lc.v_left;
		x->v_left_sd = q->lc.v_left_sd;
		x->why = q->lc.message;
	}
	if (chiconv_ladders(c->in, c->nin, &o->chi, &c->lad, &c->nlad, err) ||
	    chiconv_fits(c->in, c->lad, c->nlad, &o->chi, &c->fit, &c->nfit,
			 &nfail, err))
		return -1;
	return 0;
}

void chi_free(chi_t *c)
{
	free(c->in);
	free(c->lad);
	free(c->fit);
}

int chi_write(hid_t f, const an_opts_t *o, const chi_t *c, char *err)
{
	hid_t an = H5Gopen2(f, "/" SCHEMA_ANALYSIS, H5P_DEFAULT);
	int rc = an < 0 ? eu_err(err, "cannot open /" SCHEMA_ANALYSIS) : 0;
	static const char *const attrs[] = {"track", "prominence",
					    "gate_bonds", "gate_speed"};
	for (size_t k = 0; !rc && k < sizeof attrs / sizeof *attrs; k++)
		if (H5Aexists(an, attrs[k]) > 0)
			H5Adelete(an, attrs[k]);
	if (!rc && (h5x_attr_int(an, "track", !o->no_track) ||
		    h5x_attr_dbl(an, "prominence", o->track.prominence) ||
		    h5x_attr_dbl(an, "gate_bonds", o->track.gate_bonds) ||
		    h5x_attr_dbl(an, "gate_speed", o->track.gate_speed)))
		rc = eu_err(err, "cannot write the tracker's attributes");
	if (!rc)
		rc = chiconv_write(an, &o->chi, c->lad, c->nlad, c->fit,
				   c->nfit, err);
	if (an >= 0)
		H5Gclose(an);
	return rc;
}
