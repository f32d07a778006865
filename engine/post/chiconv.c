/* chiconv: light-cone velocities converged in chi_max (chiconv.h). */
#include "chiconv.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fit.h"
#include "h5x.h"

/* appends to a fixed buffer, truncating with "..." */
__attribute__((format(printf, 2, 3))) static void cat(char *buf,
						      const char *fmt, ...)
{
	size_t l = strlen(buf);
	va_list ap;
	if (l + 4 >= CHICONV_MSGLEN)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(buf + l, CHICONV_MSGLEN - l, fmt, ap);
	va_end(ap);
	if (n < 0 || l + (size_t)n >= CHICONV_MSGLEN)
		memcpy(buf + CHICONV_MSGLEN - 4, "...", 4);
}

const char *chiconv_verdict_name(int v)
{
	return v == CHICONV_CONVERGED       ? "converged"
	       : v == CHICONV_NOT_CONVERGED ? "not converged"
	       : v == CHICONV_ONE_RUNG      ? "one chi_max"
	       : v == CHICONV_NO_VELOCITY   ? "no velocity"
					    : "?";
}

void chiconv_opts_default(chiconv_opts_t *o)
{
	o->tol = 0.05;
	o->nsigma = 1;
	o->left = 0;
	o->use_largest = 0;
}

int chiconv_same_params(const archive_point_row_t *a,
			const archive_point_row_t *b, unsigned skip)
{
	if (!(skip & CHICONV_SKIP_CHI) && a->chi_max != b->chi_max)
		return 0;
	if (!(skip & CHICONV_SKIP_DELTA_R) &&
	    (a->delta_right != b->delta_right ||
	     a->gamma_right != b->gamma_right))
		return 0;
	return a->L == b->L && a->J == b->J && a->delta_left == b->delta_left &&
	       a->state == b->state && a->dt == b->dt &&
	       a->t_max == b->t_max && a->order == b->order &&
	       a->measure_every == b->measure_every &&
	       a->cutoff == b->cutoff && a->measure == b->measure;
}

int chiconv_same_ladder(const archive_point_row_t *a,
			const archive_point_row_t *b)
{
	return chiconv_same_params(a, b, CHICONV_SKIP_CHI);
}

/* every parameter but chi_max and the right anisotropy equal */
static int same_group(const archive_point_row_t *a,
		      const archive_point_row_t *b)
{
	return chiconv_same_params(a, b,
				   CHICONV_SKIP_CHI | CHICONV_SKIP_DELTA_R);
}

/* one velocity's part of the verdict: 1 within both bounds */
static int within(double dv, double sd, const chiconv_opts_t *o,
		  const char *name, char *reason)
{
	if (fabs(dv) <= o->nsigma * sd && fabs(dv) <= o->tol)
		return 1;
	cat(reason, "%s%s moved by %.3g", reason[0] ? "; " : "", name, dv);
	if (!(fabs(dv) <= o->nsigma * sd))
		cat(reason, " > %g x combined sd %.3g", o->nsigma, sd);
	if (!(fabs(dv) <= o->tol))
		cat(reason, "%s tol %g", fabs(dv) <= o->nsigma * sd ? " >" : ", >",
		    o->tol);
	return 0;
}

static void judge(const chiconv_point_t *pts, chiconv_ladder_t *l,
		  const chiconv_opts_t *o)
{
	const chiconv_point_t *t = &pts[l->rung[l->nrungs - 1]];
	l->point_id = t->p->id;
	l->chi_max = t->p->chi_max;
	l->v_right = t->has_v ? t->v_right : NAN;
	l->v_right_sd = t->has_v ? t->v_right_sd : NAN;
	l->v_left = t->has_v ? t->v_left : NAN;
	l->v_left_sd = t->has_v ? t->v_left_sd : NAN;
	l->dv_right = l->sd_right = l->dv_left = l->sd_left = NAN;
	l->prev_point_id = l->prev_chi_max = -1;
	l->tol = o->tol;
	l->nsigma = o->nsigma;
	if (!t->has_v) {
		l->verdict = CHICONV_NO_VELOCITY;
		cat(l->reason, "chi_max %d (point %d) has no velocity: %s",
		    l->chi_max, l->point_id, t->why ? t->why : "");
		return;
	}
	if (l->nrungs < 2) {
		l->verdict = CHICONV_ONE_RUNG;
		cat(l->reason, "convergence not checked (chi_max %d only)",
		    l->chi_max);
		return;
	}
	const chiconv_point_t *q = &pts[l->rung[l->nrungs - 2]];
	l->prev_point_id = q->p->id;
	l->prev_chi_max = q->p->chi_max;
	if (!q->has_v) {
		l->verdict = CHICONV_NO_VELOCITY;
		cat(l->reason, "chi_max %d (point %d) has no velocity: %s",
		    l->prev_chi_max, l->prev_point_id, q->why ? q->why : "");
		return;
	}
	l->dv_right = t->v_right - q->v_right;
	l->sd_right = hypot(t->v_right_sd, q->v_right_sd);
	l->dv_left = t->v_left - q->v_left;
	l->sd_left = hypot(t->v_left_sd, q->v_left_sd);
	int ok = within(l->dv_right, l->sd_right, o, "v'_R", l->reason);
	if (o->left)
		ok &= within(l->dv_left, l->sd_left, o, "v'_L", l->reason);
	l->verdict = ok ? CHICONV_CONVERGED : CHICONV_NOT_CONVERGED;
	if (!ok) {
		char r[CHICONV_MSGLEN];
		memcpy(r, l->reason, sizeof r);
		l->reason[0] = 0;
		cat(l->reason, "chi_max %d -> %d: %s", l->prev_chi_max,
		    l->chi_max, r);
	}
}

int chiconv_ladders(const chiconv_point_t *pts, int np,
		    const chiconv_opts_t *o, chiconv_ladder_t **out, int *nout,
		    char *err)
{
	chiconv_ladder_t *lad = calloc(np ? (size_t)np : 1, sizeof *lad);
	int nl = 0;
	*out = NULL;
	*nout = 0;
	if (!lad)
		return eu_err(err, "chiconv: out of memory");
	for (int i = 0; i < np; i++) {
		int k = 0;
		while (k < nl &&
		       !chiconv_same_ladder(pts[lad[k].rung[0]].p, pts[i].p))
			k++;
		chiconv_ladder_t *l = &lad[k];
		if (k == nl) {
			nl++;
			l->ladder = k;
			l->state = pts[i].p->state;
			l->L = pts[i].p->L;
			l->delta_left = pts[i].p->delta_left;
			l->delta_right = pts[i].p->delta_right;
		}
		if (l->nrungs == CHICONV_MAXRUNG) {
			free(lad);
			return eu_err(err,
				    "chiconv: more than %d chi_max for point "
				    "%d's parameters",
				    CHICONV_MAXRUNG, pts[i].p->id);
		}
		/* insert by ascending chi_max */
		int j = l->nrungs++;
		while (j > 0 && pts[l->rung[j - 1]].p->chi_max >
					pts[i].p->chi_max) {
			l->rung[j] = l->rung[j - 1];
			j--;
		}
		l->rung[j] = i;
	}
	for (int k = 0; k < nl; k++) {
		chiconv_ladder_t *l = &lad[k];
		for (int j = 0; j < l->nrungs; j++) {
			cat(l->chi_list, "%s%d", j ? "," : "",
			    pts[l->rung[j]].p->chi_max);
			cat(l->point_ids, "%s%d", j ? "," : "",
			    pts[l->rung[j]].p->id);
		}
		judge(pts, l, o);
	}
	*out = lad;
	*nout = nl;
	return 0;
}

/* one group's fit */
/* one group's fit; returns 1 if the group has a ladder of two rungs (a
 * fit that was due) */
static int group_fit(const chiconv_point_t *pts, chiconv_ladder_t *lad,
		     int nl, int g, const chiconv_opts_t *o, chiconv_fit_t *r,
		     double *x, double *y)
{
	int m = 0, two = 0, dup = 0;
	char ferr[EU_ERRLEN];
	r->A = r->A_sd = r->B = r->B_sd = r->cov = NAN;
	r->forced = (int8_t)o->use_largest;
	for (int k = 0; k < nl; k++) {
		chiconv_ladder_t *l = &lad[k];
		if (l->group != g)
			continue;
		const archive_point_row_t *p = pts[l->rung[0]].p;
		if (!r->nladders) {
			r->state = p->state;
			r->L = p->L;
			r->delta_left = p->delta_left;
		}
		r->nladders++;
		two |= l->nrungs >= 2;
		int use = l->verdict == CHICONV_CONVERGED ||
			  (o->use_largest && l->verdict != CHICONV_NO_VELOCITY);
		if (!use) {
			cat(r->left_out, "%s%d (%s)", r->left_out[0] ? "; " : "",
			    l->point_id, l->reason);
			continue;
		}
		for (int j = 0; j < m; j++)
			dup |= x[j] == l->delta_right;
		l->used = 1;
		x[m] = l->delta_right;
		y[m] = l->v_right;
		m++;
		cat(r->used_ids, "%s%d", r->used_ids[0] ? "," : "",
		    l->point_id);
	}
	r->nused = m;
	if (!two) {
		for (int k = 0; k < nl; k++)
			if (lad[k].group == g)
				lad[k].used = 0;
		r->nused = 0;
		r->used_ids[0] = r->left_out[0] = 0;
		snprintf(r->message, CHICONV_MSGLEN,
			 "no point with two chi_max: convergence not checked "
			 "(velocity_fit has the fit per chi_max)");
		return 0;
	}
	if (dup) {
		snprintf(r->message, CHICONV_MSGLEN,
			 "two ladders with the same delta_right");
		return 1;
	}
	fit_line_t f;
	if (fit_line(x, y, NULL, m, &f, ferr)) {
		r->message[0] = 0;
		cat(r->message, "%d of %d %s: %s", m, r->nladders,
		    o->use_largest ? "with a velocity" : "converged", ferr);
		return 1;
	}
	r->A = f.slope;
	r->A_sd = f.slope_sd;
	r->B = f.intercept;
	r->B_sd = f.intercept_sd;
	r->cov = f.cov;
	r->ok = 1;
	snprintf(r->message, CHICONV_MSGLEN, "%d of %d %s", m, r->nladders,
		 o->use_largest ? "at their largest chi_max (forced)"
				: "converged");
	return 1;
}

int chiconv_fits(const chiconv_point_t *pts, chiconv_ladder_t *lad, int nl,
		 const chiconv_opts_t *o, chiconv_fit_t **out, int *nout,
		 int *nfail, char *err)
{
	int ng = 0;
	*out = NULL;
	*nout = *nfail = 0;
	for (int k = 0; k < nl; k++) {
		int g = 0;
		while (g < k && !same_group(pts[lad[g].rung[0]].p,
					    pts[lad[k].rung[0]].p))
			g++;
		lad[k].group = g < k ? lad[g].group : ng++;
		lad[k].used = 0;
	}
	chiconv_fit_t *fits = calloc(ng ? (size_t)ng : 1, sizeof *fits);
	double *x = malloc((nl ? (size_t)nl : 1) * sizeof *x),
	       *y = malloc((nl ? (size_t)nl : 1) * sizeof *y);
	if (!fits || !x || !y) {
		free(fits);
		free(x);
		free(y);
		return eu_err(err, "chiconv: out of memory");
	}
	for (int g = 0; g < ng; g++) {
		fits[g].group = g;
		if (group_fit(pts, lad, nl, g, o, &fits[g], x, y) &&
		    !fits[g].ok)
			(*nfail)++;
	}
	free(x);
	free(y);
	*out = fits;
	*nout = ng;
	return 0;
}

/* ---- /analysis ---- */

static int write_rows(hid_t an, const char *name, hid_t t, size_t n,
		      const void *rows)
{
	hsize_t dim = n;
	hid_t sp = H5Screate_simple(1, &dim, NULL), d = -1;
	int rc = -1;
	if (H5Lexists(an, name, H5P_DEFAULT) > 0 &&
	    H5Ldelete(an, name, H5P_DEFAULT) < 0)
		goto out;
	if (sp >= 0)
		d = H5Dcreate2(an, name, t, sp, H5P_DEFAULT, H5P_DEFAULT,
			       H5P_DEFAULT);
	if (d >= 0 && (!n || H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT,
				      rows) >= 0))
		rc = 0;
out:
	if (d >= 0)
		H5Dclose(d);
	if (sp >= 0)
		H5Sclose(sp);
	return rc;
}

static int set_attr_dbl(hid_t an, const char *name, double v)
{
	if (H5Aexists(an, name) > 0)
		H5Adelete(an, name);
	return h5x_attr_dbl(an, name, v);
}

static int set_attr_int(hid_t an, const char *name, int v)
{
	if (H5Aexists(an, name) > 0)
		H5Adelete(an, name);
	return h5x_attr_int(an, name, v);
}

int chiconv_write(hid_t an, const chiconv_opts_t *o,
		  const chiconv_ladder_t *lad, int nl, const chiconv_fit_t *fit,
		  int nfit, char *err)
{
	hid_t lt = schema_type(&schema_chi_verdict),
	      ft = schema_type(&schema_velocity_fit_chi);
	int rc = lt < 0 || ft < 0 ||
		 write_rows(an, schema_chi_verdict.name, lt, (size_t)nl, lad) ||
		 write_rows(an, schema_velocity_fit_chi.name, ft, (size_t)nfit, fit) ||
		 set_attr_dbl(an, "chi_tol", o->tol) ||
		 set_attr_dbl(an, "chi_nsigma", o->nsigma) ||
		 set_attr_int(an, "chi_left", o->left) ||
		 set_attr_int(an, "chi_use_largest", o->use_largest);
	if (lt >= 0)
		H5Tclose(lt);
	if (ft >= 0)
		H5Tclose(ft);
	return rc ? eu_err(err, "cannot write /" SCHEMA_ANALYSIS "/"
			      SCHEMA_AN_CHI_VERDICT " and /" SCHEMA_ANALYSIS
			      "/" SCHEMA_AN_VELOCITY_FIT_CHI)
		  : 0;
}

/* ---- printing ---- */

void chiconv_print(FILE *f, const chiconv_point_t *pts,
		   const chiconv_opts_t *o, const chiconv_ladder_t *lad,
		   int nl, const chiconv_fit_t *fit, int nfit)
{
	int multi = 0;
	for (int k = 0; k < nl; k++)
		multi += lad[k].nrungs >= 2;
	fprintf(f,
		"\nvelocities per chi_max: converged if the change between "
		"the two largest is within %g combined sd and below %g%s\n",
		o->nsigma, o->tol, o->left ? " (v'_R and v'_L)" : " (v'_R)");
	if (!multi) {
		fprintf(f, "  (no point at several chi_max: convergence not "
			   "checked)\n");
		return;
	}
	fprintf(f, "  (win: v'_R's change over the window's halves, shown beside "
		   "the sd the verdict uses)\n");
	fprintf(f, "%6s %8s %8s %5s %17s %7s %17s  %s\n", "ladder", "delta_r",
		"point", "chi", "v'_R +- sd", "win", "v'_L +- sd", "verdict");
	for (int k = 0; k < nl; k++) {
		const chiconv_ladder_t *l = &lad[k];
		for (int j = 0; j < l->nrungs; j++) {
			const chiconv_point_t *q = &pts[l->rung[j]];
			int top = j == l->nrungs - 1;
			fprintf(f, "%6d %8.5f %8d %5d ", l->ladder,
				l->delta_right, q->p->id, q->p->chi_max);
			if (q->has_v)
				fprintf(f, "%8.4f +- %-6.4f %7.4f %8.4f +- "
					   "%-6.4f",
					q->v_right, q->v_right_sd,
					q->v_right_win, q->v_left,
					q->v_left_sd);
			else
				fprintf(f, "%17s %7s %17s", "-", "-", "-");
			if (top)
				fprintf(f, "  %s%s%s%s", chiconv_verdict_name(
							      l->verdict),
					l->verdict != CHICONV_CONVERGED ? ": "
									: "",
					l->verdict != CHICONV_CONVERGED
						? l->reason
						: "",
					l->used ? " [used]" : "");
			fprintf(f, "\n");
		}
	}
	fprintf(f, "\nv'_R = A Delta + B over velocities converged in "
		   "chi_max%s\n",
		o->use_largest ? " (--use-largest-chi: every largest chi_max)"
			       : "");
	for (int g = 0; g < nfit; g++) {
		const chiconv_fit_t *r = &fit[g];
		fprintf(f, "  group %d (L %d, delta_l %.5g): ", r->group, r->L,
			r->delta_left);
		if (r->ok)
			fprintf(f, "A = %.4f +- %.4f, B = %.4f +- %.4f; ", r->A,
				r->A_sd, r->B, r->B_sd);
		fprintf(f, "%s", r->message);
		if (r->used_ids[0])
			fprintf(f, "; used points %s", r->used_ids);
		fprintf(f, "\n");
		if (r->left_out[0])
			fprintf(f, "    left out: %s\n", r->left_out);
	}
}

/* ---- kapitza status ---- */

#define CV_PATH "/" SCHEMA_ANALYSIS "/" SCHEMA_AN_CHI_VERDICT

int chiconv_status(FILE *out, const char *path, char *err)
{
	hid_t f = h5x_open_serial(path, H5F_ACC_RDONLY), t = -1;
	chiconv_ladder_t *l = NULL;
	int rc = 0, n = 0;
	if (f < 0 || H5Lexists(f, "/" SCHEMA_ANALYSIS, H5P_DEFAULT) <= 0 ||
	    H5Lexists(f, CV_PATH, H5P_DEFAULT) <= 0)
		goto out; /* no fit yet: nothing to say */
	t = schema_type(&schema_chi_verdict);
	if (t < 0 || h5x_read_rows(f, CV_PATH, t, sizeof *l, (void **)&l, &n)) {
		rc = eu_err(err, "cannot read %s:" CV_PATH, path);
		goto out;
	}
	int multi = 0;
	for (int k = 0; k < n; k++)
		multi += l[k].nrungs >= 2;
	if (!multi)
		goto out;
	fprintf(out,
		"light-cone velocities in chi_max (kapitza fit: converged if "
		"v' moves by <= %g and <= %g combined sd):\n",
		l[0].tol, l[0].nsigma);
	for (int k = 0; k < n; k++) {
		if (l[k].nrungs < 2)
			continue;
		fprintf(out, "  delta_r %.6g, chi_max %s (points %s): ",
			l[k].delta_right, l[k].chi_list, l[k].point_ids);
		if (l[k].verdict == CHICONV_CONVERGED)
			fprintf(out, "converged, v'_R = %.4f +- %.4f\n",
				l[k].v_right, l[k].v_right_sd);
		else
			fprintf(out, "%s: %s\n",
				chiconv_verdict_name(l[k].verdict),
				l[k].reason);
	}
out:
	free(l);
	if (t >= 0)
		H5Tclose(t);
	if (f >= 0)
		H5Fclose(f);
	return rc;
}
