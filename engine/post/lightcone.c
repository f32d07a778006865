/* lightcone: the internal light cone of a point -- the maxima n'_L(t) <
 * n'_R(t) of its energy-current profile and the velocities v'_R, v'_L of
 * least-squares lines over a time window (paper Fig. 3c) -- and, over the
 * points sharing every other parameter, the fit v'_R = A Delta + B
 * (Fig. 3d). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "eu.h"

/* The tracker's rows of a point (track.h) into *tr; NULL with --no-track
 * (fit_peaks reads every row on its own).  1: the rows cannot be tracked
 * (the reason in q->lc.message), -1: out of memory (err). */
static int track_rows(const double *je, pt_t *q, const an_opts_t *o,
		      track_row_t **tr, int *restarts, char *err)
{
	char ferr[EU_ERRLEN];
	int L = q->p->L;
	*tr = NULL;
	if (o->no_track)
		return 0;
	*tr = malloc((size_t)q->n * sizeof **tr);
	if (!*tr)
		return eu_err(err, "out of memory");
	if (track_profiles(je, q->n, L - 1, -L / 2 + 1, q->time, &o->track, *tr,
			   restarts, ferr)) {
		an_msg(q->lc.message, "%s", ferr);
		return 1;
	}
	return 0;
}

/* Appends to a point's message how often the tracker restarted. */
static void note_restarts(char *message, int restarts)
{
	size_t l = strlen(message);
	if (restarts)
		snprintf(message + l, SCHEMA_AN_MSGLEN - l,
			 "%strack of the maxima restarted %d time%s",
			 l ? "; " : "", restarts, restarts == 1 ? "" : "s");
}

/* The largest change of the slope through (x, y) when the m points are
 * cut to the first or the second half of the window, both halves holding
 * the times up to (from) the window's centre tm; NaN if a half has fewer
 * than 3 points.  The sd of v' measures the scatter of the maxima about
 * one line; this measures how much the line depends on the window, which
 * a drifting velocity (the light cone still forming, or a track bent by
 * truncation) shows and the sd does not. */
static double window_change(const double *x, const double *y, int m,
			    double tm, double v)
{
	fit_line_t a, b;
	char ferr[EU_ERRLEN];
	int na = 0;
	while (na < m && x[na] <= tm + TIME_EPS)
		na++;
	int nb0 = 0; /* first point of the second half */
	while (nb0 < m && x[nb0] < tm - TIME_EPS)
		nb0++;
	if (fit_line(x, y, NULL, na, &a, ferr) ||
	    fit_line(x + nb0, y + nb0, NULL, m - nb0, &b, ferr))
		return NAN;
	return fmax(fabs(a.slope - v), fabs(b.slope - v));
}

/* The lines n_R(t), n_L(t) through the m maxima (tw, yr, yl) of the fit
 * window into r (v', its sd and intercept, its change over the window's
 * halves, ok), or the reason in r->message why not; tlast: the latest
 * time the point reached. */
static void fit_window(lc_row_t *r, const an_opts_t *o, const double *tw,
		       const double *yr, const double *yl, int m,
		       double tlast, int restarts)
{
	fit_line_t fr, fl;
	char ferr[EU_ERRLEN];

	if (tlast < o->t1 - TIME_EPS) {
		an_msg(r->message,
		    "the window %g:%g is outside the data: the point reaches "
		    "t = %g",
		    o->t0, o->t1, isfinite(tlast) ? tlast : NAN);
		return;
	}
	if (fit_line(tw, yr, NULL, m, &fr, ferr) ||
	    fit_line(tw, yl, NULL, m, &fl, ferr)) {
		an_msg(r->message, "window %g:%g (%d time%s): %s",
		    o->t0, o->t1, m, m == 1 ? "" : "s", ferr);
		return;
	}
	r->v_right = fr.slope;
	r->v_right_sd = fr.slope_sd;
	r->c_right = fr.intercept;
	r->v_left = fl.slope;
	r->v_left_sd = fl.slope_sd;
	r->c_left = fl.intercept;
	double tm = 0.5 * (o->t0 + o->t1);
	r->v_right_win = window_change(tw, yr, m, tm, fr.slope);
	r->v_left_win = window_change(tw, yl, m, tm, fl.slope);
	r->ok = 1;
	/* fitted, but say so when every row had one maximum: v' = 0 then
	 * only means no slow region has formed (yet) in the window */
	if (!r->rows_found)
		an_msg(r->message,
		    "one maximum in every row of the window: n' = 0 "
		    "(no slow region around the junction before t = %g)",
		    o->t1);
	note_restarts(r->message, restarts);
}

/* Maxima at every written row, then the lines over the window. */
int lightcone_point(hid_t f, pt_t *q, const an_opts_t *o, char *err)
{
	const archive_point_row_t *p = q->p;
	lc_row_t *r = &q->lc;
	double *je = NULL, *disc = NULL, *tw = NULL, *yr = NULL, *yl = NULL;
	track_row_t *tr = NULL;
	int L = p->L, nb = L - 1, rc = -1, m = 0, restarts = 0;
	double tlast = -INFINITY;
	char ferr[EU_ERRLEN];

	memset(r, 0, sizeof *r);
	r->point_id = p->id;
	r->state = p->state;
	r->L = L;
	r->chi_max = p->chi_max;
	r->delta_left = p->delta_left;
	r->delta_right = p->delta_right;
	r->v_right = r->v_right_sd = r->c_right = NAN;
	r->v_left = r->v_left_sd = r->c_left = NAN;
	r->v_right_win = r->v_left_win = r->discarded = NAN;
	int e = an_read_doubles(f, p->id,
				schema_point_ds[DS_ENERGY_CURRENT].name,
				(size_t)q->n * nb, &je, err);
	if (e < 0)
		goto out;
	if (e == 1) {
		an_msg(r->message, "energy_current not measured");
		rc = 0;
		goto out;
	}
	q->has_je = 1;
	if (!q->nw) {
		an_msg(r->message, "no rows measured (the point is %s%s%s)",
		    archive_state_name(q->st->state),
		    q->st->message[0] ? ": " : "", q->st->message);
		rc = 0;
		goto out;
	}
	e = an_read_doubles(f, p->id, schema_point_ds[DS_DISCARDED].name,
			    (size_t)q->n, &disc, err);
	if (e < 0)
		goto out;
	q->n_left = malloc((size_t)q->n * sizeof *q->n_left);
	q->n_right = malloc((size_t)q->n * sizeof *q->n_right);
	q->found = malloc((size_t)q->n);
	tw = malloc((size_t)q->n * sizeof *tw);
	yr = malloc((size_t)q->n * sizeof *yr);
	yl = malloc((size_t)q->n * sizeof *yl);
	if (!q->n_left || !q->n_right || !q->found || !tw || !yr || !yl) {
		eu_err(err, "out of memory");
		goto out;
	}
	/* the maxima followed in time (track.h) */
	e = track_rows(je, q, o, &tr, &restarts, err);
	if (e) {
		rc = e > 0 ? 0 : -1; /* > 0: the reason is in the message */
		goto out;
	}
	for (int k = 0; k < q->n; k++) {
		fit_peaks_t pk;
		q->n_left[k] = q->n_right[k] = NAN;
		q->found[k] = -1; /* unwritten row */
		if (!isfinite(q->time[k]))
			continue;
		if (tr) {
			pk.n_left = tr[k].n_left;
			pk.n_right = tr[k].n_right;
			pk.found = tr[k].found;
		} else if (fit_peaks(je + (size_t)k * nb, nb, -L / 2 + 1,
				     &o->peaks, &pk, ferr)) {
			an_msg(r->message, "t = %g: %s", q->time[k],
			    ferr);
			rc = 0;
			goto out;
		}
		q->n_left[k] = pk.n_left;
		q->n_right[k] = pk.n_right;
		q->found[k] = (int8_t)pk.found;
		tlast = fmax(tlast, q->time[k]);
		if (q->time[k] >= o->t0 - TIME_EPS &&
		    q->time[k] <= o->t1 + TIME_EPS) {
			tw[m] = q->time[k];
			yr[m] = pk.n_right;
			yl[m] = pk.n_left;
			r->rows_found += pk.found;
			if (disc) /* summed so far: the window's last row */
				r->discarded = disc[k];
			m++;
		}
	}
	r->rows = m;
	rc = 0;
	fit_window(r, o, tw, yr, yl, m, tlast, restarts);
out:
	free(tr);
	free(je);
	free(disc);
	free(tw);
	free(yr);
	free(yl);
	return rc;
}

/* Two points belong to one v'_R(Delta) group if every parameter but
 * delta_right (and gamma_right) is equal. */
static int same_group(const archive_point_row_t *a,
		      const archive_point_row_t *b)
{
	return chiconv_same_params(a, b, CHICONV_SKIP_DELTA_R);
}

/* Row r of group g (points i with gid[i] == g): the group's parameters
 * and point ids, and into x, y, s (delta_right, v'_R, sd) the points with
 * a light-cone fit; returns their number, *excluded those without, *dup
 * whether two share a delta_right. */
static int group_points(const pt_t *pts, int np, const int *gid, int g,
			vf_row_t *r, double *x, double *y, double *s,
			int *excluded, int *dup)
{
	int m = 0, first = -1, off = 0;
	for (int i = 0; i < np; i++) {
		if (gid[i] != g)
			continue;
		const archive_point_row_t *p = pts[i].p;
		if (first < 0) {
			first = i;
			r->state = p->state;
			r->L = p->L;
			r->order = p->order;
			r->chi_max = p->chi_max;
			r->J = p->J;
			r->delta_left = p->delta_left;
			r->dt = p->dt;
			r->t_max = p->t_max;
			r->measure_every = p->measure_every;
			r->cutoff = p->cutoff;
		}
		r->npoints++;
		if (off < SCHEMA_AN_MSGLEN - 12)
			off += snprintf(r->point_ids + off,
					(size_t)(SCHEMA_AN_MSGLEN - off), "%s%d",
					off ? "," : "", p->id);
		if (!pts[i].lc.ok) {
			(*excluded)++;
			continue;
		}
		for (int k = 0; k < m; k++)
			*dup |= x[k] == p->delta_right;
		x[m] = p->delta_right;
		y[m] = pts[i].lc.v_right;
		s[m] = pts[i].lc.v_right_sd;
		m++;
	}
	return m;
}

/* The fits of row r over its m points (x, y, s). */
static void group_fit(vf_row_t *r, const double *x, const double *y,
		      const double *s, int m, int excluded, int dup)
{
	fit_line_t f, fw;
	char ferr[EU_ERRLEN];
	if (r->npoints < 2) {
		an_msg(r->message, "one point: no v'_R(Delta) fit");
		return;
	}
	if (dup) {
		an_msg(r->message, "two points with the same delta_right");
		return;
	}
	if (fit_line(x, y, NULL, m, &f, ferr)) {
		an_msg(r->message, "%d of %d points have v'_R: %s", m,
		       r->npoints, ferr);
		return;
	}
	r->A = f.slope;
	r->A_sd = f.slope_sd;
	r->B = f.intercept;
	r->B_sd = f.intercept_sd;
	r->cov = f.cov;
	r->ok = 1;
	int zero = 0;
	for (int k = 0; k < m; k++)
		zero += !(s[k] > 0);
	if (zero) {
		an_msg(r->message, "no weighted fit: %d point%s with sd(v'_R) = 0",
		       zero, zero == 1 ? "" : "s");
	} else if (!fit_line(x, y, s, m, &fw, ferr)) {
		r->A_w = fw.slope;
		r->A_w_sd = fw.slope_sd;
		r->B_w = fw.intercept;
		r->B_w_sd = fw.intercept_sd;
		r->cov_w = fw.cov;
	} else {
		an_msg(r->message, "weighted fit: %s", ferr);
	}
	if (excluded) {
		size_t l = strlen(r->message);
		snprintf(r->message + l, SCHEMA_AN_MSGLEN - l,
			 "%s%d point%s without v'_R left out", l ? "; " : "",
			 excluded, excluded == 1 ? "" : "s");
	}
}

int velocity_groups(pt_t *pts, int np, vf_row_t **out, int *nout, char *err)
{
	int *gid = malloc((size_t)np * sizeof *gid), ng = 0, rc = -1;
	vf_row_t *rows = NULL;
	double *x = malloc((size_t)np * sizeof *x),
	       *y = malloc((size_t)np * sizeof *y),
	       *s = malloc((size_t)np * sizeof *s);

	*out = NULL;
	*nout = 0;
	if (!gid || !x || !y || !s) {
		eu_err(err, "out of memory");
		goto out;
	}
	for (int i = 0; i < np; i++) {
		gid[i] = -1;
		if (!pts[i].has_je)
			continue;
		for (int j = 0; j < i && gid[i] < 0; j++)
			if (gid[j] >= 0 && same_group(pts[i].p, pts[j].p))
				gid[i] = gid[j];
		if (gid[i] < 0)
			gid[i] = ng++;
	}
	rows = calloc(ng ? (size_t)ng : 1, sizeof *rows);
	if (!rows) {
		eu_err(err, "out of memory");
		goto out;
	}
	for (int g = 0; g < ng; g++) {
		vf_row_t *r = &rows[g];
		int excluded = 0, dup = 0;
		r->group = g;
		r->A = r->A_sd = r->B = r->B_sd = r->cov = NAN;
		r->A_w = r->A_w_sd = r->B_w = r->B_w_sd = r->cov_w = NAN;
		int m = group_points(pts, np, gid, g, r, x, y, s, &excluded,
				     &dup);
		group_fit(r, x, y, s, m, excluded, dup);
	}
	*out = rows;
	*nout = ng;
	rows = NULL;
	rc = 0;
out:
	free(rows);
	free(gid);
	free(x);
	free(y);
	free(s);
	return rc;
}
