/* track: maxima of the energy-current profile followed in time (track.h;
 * engine/POSTSTAGE.md, "Tracking the maxima"). */
#include "track.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void track_opts_default(track_opts_t *o)
{
	fit_peak_opts_default(&o->peaks);
	o->prominence = 3;
	o->noise_half = 8;
	o->gate_bonds = 2;
	o->gate_speed = 2;
}

static int check_opts(const track_opts_t *o, int nb, int n0, char *err)
{
	const fit_peak_opts_t *p = &o->peaks;
	if (p->smooth < 1 || p->smooth % 2 == 0 || p->smooth > nb ||
	    !(p->rel_height >= 0 && p->rel_height <= 1) ||
	    !(p->min_dip >= 0 && p->min_dip < 1) || !(p->floor >= 0) ||
	    !(o->prominence >= 0) || o->noise_half < 1 ||
	    !(o->gate_bonds >= 0) || !(o->gate_speed >= 0))
		return eu_err(err,
			    "track: bad options (smooth %d odd in [1, %d], "
			    "height %g and dip %g in [0, 1], floor %g, "
			    "prominence %g, gate %g + %g t >= 0, noise "
			    "window %d >= 1)",
			    p->smooth, nb, p->rel_height, p->min_dip, p->floor,
			    o->prominence, o->gate_bonds, o->gate_speed,
			    o->noise_half);
	if (n0 > 0 || n0 + nb - 1 < 1)
		return eu_err(err,
			    "track: bonds %d .. %d do not contain the junction "
			    "(bonds 0 and 1)",
			    n0, n0 + nb - 1);
	return 0;
}

/* Position of the maximum at i of s[nb] (bond n0 + i): the vertex of the
 * least-squares parabola through s over the maximum's top -- the run of
 * bonds around i with s >= s[i] - thr, and at least i - 1 .. i + 1 --
 * clamped to the top +- 1/2.  With a top of three bonds this is the
 * vertex through the maximum and its neighbours (fit_peaks' refinement,
 * exact for a parabolic cap); a wider top (a plateau whose ripples are
 * below the threshold) is one maximum at the vertex of its overall dome,
 * which moves smoothly while the ripples trade places.  A top without a
 * downward curvature is located at its weighted centroid. */
static double position(const double *s, int nb, int n0, int i, double thr)
{
	int a = i, b = i;
	double base = s[i] - thr;
	while (a > 0 && s[a - 1] >= base)
		a--;
	while (b < nb - 1 && s[b + 1] >= base)
		b++;
	if (a == i && i > 0)
		a = i - 1;
	if (b == i && i < nb - 1)
		b = i + 1;
	if (b - a < 2)
		return n0 + i; /* at an end of the profile */
	/* normal equations of y = c0 + c1 x + c2 x^2, x = j - i */
	double S[5] = {0}, T[3] = {0}, wsum = 0, nsum = 0;
	for (int j = a; j <= b; j++) {
		double x = j - i, xk = 1;
		for (int k = 0; k < 5; k++, xk *= x) {
			S[k] += xk;
			if (k < 3)
				T[k] += xk * s[j];
		}
		wsum += fmax(s[j] - base, 0);
		nsum += fmax(s[j] - base, 0) * (n0 + j);
	}
	/* Cramer's rule on [S0 S1 S2; S1 S2 S3; S2 S3 S4] c = T */
	double D = S[0] * (S[2] * S[4] - S[3] * S[3]) -
		   S[1] * (S[1] * S[4] - S[3] * S[2]) +
		   S[2] * (S[1] * S[3] - S[2] * S[2]);
	double D1 = S[0] * (T[1] * S[4] - S[3] * T[2]) -
		    T[0] * (S[1] * S[4] - S[3] * S[2]) +
		    S[2] * (S[1] * T[2] - T[1] * S[2]);
	double D2 = S[0] * (S[2] * T[2] - T[1] * S[3]) -
		    S[1] * (S[1] * T[2] - T[1] * S[2]) +
		    T[0] * (S[1] * S[3] - S[2] * S[2]);
	if (!(D != 0) || !(D2 / D < 0))
		return wsum > 0 ? nsum / wsum : n0 + i;
	double x = -0.5 * (D1 / D) / (D2 / D);
	double lo = a - i - 0.5, hi = b - i + 0.5;
	return n0 + i + (x < lo ? lo : x > hi ? hi : x);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Prominence of the maximum at i of s[nb]: s[i] minus the higher of the
 * minima met walking each way until s rises above s[i] (or ends). */
static double prominence(const double *s, int nb, int i)
{
	double lo_l = s[i], lo_r = s[i];
	for (int j = i - 1; j >= 0 && s[j] <= s[i]; j--)
		lo_l = fmin(lo_l, s[j]);
	for (int j = i + 1; j < nb && s[j] <= s[i]; j++)
		lo_r = fmin(lo_r, s[j]);
	return s[i] - fmax(lo_l, lo_r);
}

/* Candidates as indices (idx) and refined positions; s, r, w: workspace of
 * nb (smoothed profile, residual, window) */
static int candidates(const double *f, int nb, int n0, const track_opts_t *o,
		      double *s, double *r, double *w, int *idx, double *pos,
		      char *err)
{
	const fit_peak_opts_t *p = &o->peaks;
	double M = -INFINITY;
	int n = 0;
	for (int i = 0; i < nb; i++)
		if (!isfinite(f[i]))
			return eu_err(err, "track: bond %d is not finite",
				    n0 + i);
	/* fit_peaks' smoothing, and the residual */
	M = fit_smooth(f, nb, p->smooth, s);
	for (int i = 0; i < nb; i++)
		r[i] = fabs(f[i] - s[i]);
	if (!(M > p->floor))
		return 0;
	for (int i = 0; i < nb; i++) {
		double lft = i > 0 ? s[i - 1] : -INFINITY;
		double rgt = i < nb - 1 ? s[i + 1] : -INFINITY;
		if (!(s[i] > lft && s[i] >= rgt && s[i] >= p->rel_height * M))
			continue;
		double thr = 0; /* the prominence a maximum needs */
		if (o->prominence > 0) {
			int a = i - o->noise_half < 0 ? 0 : i - o->noise_half;
			int b = i + o->noise_half >= nb ? nb - 1
							: i + o->noise_half;
			int m = b - a + 1;
			memcpy(w, r + a, (size_t)m * sizeof *w);
			qsort(w, (size_t)m, sizeof *w, cmp_dbl);
			double med = m % 2 ? w[m / 2]
					   : 0.5 * (w[m / 2 - 1] + w[m / 2]);
			thr = o->prominence * 1.4826 * med;
			if (prominence(s, nb, i) < thr)
				continue;
		}
		idx[n] = i;
		pos[n] = n0 + i;
		if (p->refine)
			pos[n] = position(s, nb, n0, i, thr);
		n++;
	}
	return n;
}

/* the workspace of candidates(): 4 nb doubles (smoothed profile, residual,
 * noise window, positions) and nb indices */
static int work_alloc(int nb, double **ws, int **idx, char *err)
{
	*ws = malloc(4 * (size_t)nb * sizeof **ws);
	*idx = malloc((size_t)nb * sizeof **idx);
	if (*ws && *idx)
		return 0;
	free(*ws);
	free(*idx);
	return eu_err(err, "track: out of memory");
}

int track_candidates(const double *f, int nb, int n0, const track_opts_t *o,
		     double *pos, double *height, int maxn, int *nmax,
		     double *s, char *err)
{
	track_opts_t def;
	if (!o) {
		track_opts_default(&def);
		o = &def;
	}
	if (!f || nb < 3 || !nmax || (maxn > 0 && (!pos || !height)))
		return eu_err(err, "track_candidates: invalid arguments");
	if (check_opts(o, nb, n0, err))
		return -1;
	double *ws;
	int *idx;
	if (work_alloc(nb, &ws, &idx, err))
		return -1;
	int n = candidates(f, nb, n0, o, ws, ws + nb, ws + 2 * nb, idx,
			   ws + 3 * nb, err);
	for (int k = 0; k < n && k < maxn; k++) {
		pos[k] = ws[3 * nb + k];
		height[k] = ws[idx[k]];
	}
	if (s && n >= 0)
		memcpy(s, ws, (size_t)nb * sizeof *s);
	if (n >= 0)
		*nmax = n;
	free(ws);
	free(idx);
	return n < 0 ? -1 : 0;
}

/* fit_peaks' dip rule between candidate indices a < b */
static int has_dip(const double *s, int a, int b, double min_dip)
{
	double lo = s[a + 1];
	for (int i = a + 1; i < b; i++)
		lo = fmin(lo, s[i]);
	return b > a + 1 && lo <= (1 - min_dip) * fmin(s[a], s[b]);
}

/* the static reading (fit_peaks' rule on the candidates): highest on each
 * side; -1 where a side has none */
static void highest(const double *s, const int *idx, int n, int j0, int *l,
		    int *r)
{
	*l = *r = -1;
	for (int k = 0; k < n; k++) {
		int i = idx[k];
		if (i <= j0 && (*l < 0 || s[i] > s[idx[*l]]))
			*l = k;
		if (i > j0 && (*r < 0 || s[i] > s[idx[*r]]))
			*r = k;
	}
}

/* the candidate on the side (left: index <= j0) nearest to pred within
 * gate; -1 if none */
static int nearest(const int *idx, const double *pos, int n, int j0, int left,
		   double pred, double gate)
{
	int best = -1;
	for (int k = 0; k < n; k++) {
		if ((idx[k] <= j0) != left)
			continue;
		double d = fabs(pos[k] - pred);
		if (d <= gate && (best < 0 || d < fabs(pos[best] - pred)))
			best = k;
	}
	return best;
}

typedef struct {
	int on;            /* a track is active */
	double t, nl, nr;  /* last tracked row */
	double vl, vr;     /* velocities from the last two tracked rows */
	int rows;          /* tracked rows so far */
} state_t;

static void track_set(state_t *st, double t, double nl, double nr)
{
	if (st->on && st->rows > 0 && t > st->t) {
		st->vl = (nl - st->nl) / (t - st->t);
		st->vr = (nr - st->nr) / (t - st->t);
	} else if (!st->on) {
		st->vl = st->vr = 0;
		st->rows = 0;
	}
	st->on = 1;
	st->t = t;
	st->nl = nl;
	st->nr = nr;
	st->rows++;
}

/* The row f read by fit_peaks' rule on every maximum, prominent or not,
 * when the candidates hold no pair: a maximum that only the noise estimate
 * hides is not taken for one maximum (n' = 0, the paper's rule for a
 * profile without a slow region).  1 and the positions if it finds a
 * pair. */
static int plain_pair(const double *f, int nb, int n0, const track_opts_t *o,
		      double *nl, double *nr)
{
	fit_peaks_t p;
	if (!(o->prominence > 0) || fit_peaks(f, nb, n0, &o->peaks, &p, NULL) ||
	    p.found != 1)
		return 0;
	*nl = p.n_left;
	*nr = p.n_right;
	return 1;
}

int track_profiles(const double *f, int nrow, int nb, int n0,
		   const double *time, const track_opts_t *o,
		   track_row_t *out, int *restarts, char *err)
{
	track_opts_t def;
	state_t st = {0};
	int nres = 0, rc = 0, j0 = -n0;
	if (!o) {
		track_opts_default(&def);
		o = &def;
	}
	if (!f || !time || !out || nrow < 0 || nb < 3)
		return eu_err(err, "track_profiles: invalid arguments");
	if (check_opts(o, nb, n0, err))
		return -1;
	double *ws;
	int *idx;
	if (work_alloc(nb, &ws, &idx, err))
		return -1;
	double *s = ws, *pos = ws + 3 * nb;
	for (int k = 0; k < nrow; k++) {
		track_row_t *r = &out[k];
		r->found = -1;
		r->n_left = r->n_right = NAN;
		r->linked = 0;
		if (!isfinite(time[k]))
			continue;
		int n = candidates(f + (size_t)k * nb, nb, n0, o, s, ws + nb,
				   ws + 2 * nb, idx, pos, err);
		if (n < 0) {
			char why[EU_ERRLEN];
			snprintf(why, sizeof why, "%s", err ? err : "");
			rc = eu_err(err, "t = %g: %s", time[k], why);
			break;
		}
		int l = -1, rr = -1, was_on = st.on;
		if (st.on) {
			double dt = time[k] - st.t;
			double gate = o->gate_bonds + o->gate_speed * fabs(dt);
			l = nearest(idx, pos, n, j0, 1, st.nl + st.vl * dt,
				    gate);
			rr = nearest(idx, pos, n, j0, 0, st.nr + st.vr * dt,
				     gate);
			if (l >= 0 && rr >= 0 &&
			    has_dip(s, idx[l], idx[rr], o->peaks.min_dip)) {
				r->found = 1;
				r->linked = 1;
				r->n_left = pos[l];
				r->n_right = pos[rr];
				track_set(&st, time[k], pos[l], pos[rr]);
				continue;
			}
			st.on = 0; /* lost: read the row afresh */
		}
		highest(s, idx, n, j0, &l, &rr);
		double nl, nr;
		if (l >= 0 && rr >= 0 &&
		    has_dip(s, idx[l], idx[rr], o->peaks.min_dip)) {
			nl = pos[l];
			nr = pos[rr];
		} else if (!plain_pair(f + (size_t)k * nb, nb, n0, o, &nl,
				       &nr)) {
			r->found = 0;
			r->n_left = r->n_right = 0;
			continue;
		}
		r->found = 1;
		r->n_left = nl;
		r->n_right = nr;
		nres += was_on;
		track_set(&st, time[k], nl, nr);
	}
	if (restarts)
		*restarts = nres;
	free(ws);
	free(idx);
	return rc;
}
