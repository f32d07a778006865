/* analysis: the archive side of `kapitza fit` (analysis.h) -- reading a
 * point's datasets, writing /analysis (never touching /points), printing
 * the results.  Rewriting /analysis unlinks the previous groups; HDF5 does
 * not reuse that space (h5repack reclaims it). */
#include <stdarg.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "eu.h"
#include "h5x.h"
#include "version.h"

/* ---- reading ---- */

void an_msg(char *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, SCHEMA_AN_MSGLEN, fmt, ap);
	va_end(ap);
}

int an_read_point_ds(hid_t f, int id, const char *ds, hid_t mtype,
		     size_t esize, size_t count, void **out, char *err)
{
	char path[96];
	hid_t d = -1, sp = -1;
	int rc = -1;
	*out = NULL;
	/* the leading '/' of the messages the command always printed */
	path[0] = '/';
	if (schema_point_path(path + 1, sizeof path - 1, id, ds))
		return eu_err(err, "dataset name too long: %s", ds);
	if (H5Lexists(f, path, H5P_DEFAULT) <= 0)
		return 1;
	d = H5Dopen2(f, path, H5P_DEFAULT);
	if (d < 0) {
		eu_err(err, "cannot open dataset %s", path);
		goto out;
	}
	sp = H5Dget_space(d);
	if (sp < 0 || (size_t)H5Sget_simple_extent_npoints(sp) != count) {
		eu_err(err, "dataset %s: expected %zu values", path, count);
		goto out;
	}
	*out = malloc(count * esize + 1);
	if (!*out) {
		eu_err(err, "out of memory reading %s", path);
		goto out;
	}
	if (H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
		eu_err(err, "cannot read dataset %s", path);
		free(*out);
		*out = NULL;
		goto out;
	}
	rc = 0;
out:
	if (sp >= 0)
		H5Sclose(sp);
	if (d >= 0)
		H5Dclose(d);
	return rc;
}

int an_read_doubles(hid_t f, int id, const char *ds, size_t count,
		    double **out, char *err)
{
	return an_read_point_ds(f, id, ds, H5T_NATIVE_DOUBLE, sizeof(double),
				count, (void **)out, err);
}

const char *an_state_str(int s)
{
	return s == SPEC_STATE_GROUND || s == SPEC_STATE_DOMAIN_WALL
		       ? spec_state_name(s)
		       : "?";
}

/* ---- writing /analysis ---- */

void an_command(char *buf, size_t n, int argc, char **argv)
{
	size_t off = 0;
	buf[0] = 0;
	for (int i = 0; i < argc && off < n; i++)
		off += (size_t)snprintf(buf + off, n - off, "%s%s",
					i ? " " : "kapitza ", argv[i]);
}

int an_write_ds(hid_t g, const char *name, int rank, const hsize_t *dims,
		hid_t ftype, hid_t mtype, const void *data, const char *units,
		const char *index0)
{
	hid_t sp = H5Screate_simple(rank, dims, NULL), d = -1;
	int rc = -1;
	if (sp < 0)
		goto out;
	d = H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT,
		       H5P_DEFAULT);
	if (d < 0 || H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
		goto out;
	if (units && h5x_attr_str(d, "units", units))
		goto out;
	if (index0 && h5x_attr_str(d, "index0", index0))
		goto out;
	rc = 0;
out:
	if (d >= 0)
		H5Dclose(d);
	if (sp >= 0)
		H5Sclose(sp);
	return rc;
}

/* Dataset schema_analysis_ds[k] of a point of n rows and L sites. */
static int write_an_ds(hid_t g, int k, int n, int L, const void *data)
{
	const schema_ds_t *d = &schema_analysis_ds[k];
	hsize_t dims[4];
	int rank = schema_dims(d, L, n, 0, dims);
	return an_write_ds(g, d->name, rank, dims,
			   d->is_int ? H5T_STD_I8LE : H5T_IEEE_F64LE,
			   d->is_int ? H5T_NATIVE_INT8 : H5T_NATIVE_DOUBLE,
			   data, d->units, d->index0);
}

static int write_table(hid_t g, const schema_table_t *t, size_t n,
		       const void *rows)
{
	hsize_t dim = n;
	hid_t ty = schema_type(t);
	int rc = ty < 0 ? -1
			: an_write_ds(g, t->name, 1, &dim, ty, ty, rows, NULL,
				      NULL);
	if (ty >= 0)
		H5Tclose(ty);
	return rc;
}

/* /analysis, emptied of what kapitza fit writes (a /analysis/thermal of an
 * older kapitza, which computed tables here, is left as it is), with this
 * run's attributes; negative on failure. */
static hid_t an_group(hid_t f, const an_opts_t *o, int argc, char **argv)
{
	char cmd[1024], now[32];
	hid_t an;

	eu_utc_now(now, sizeof now);
	an_command(cmd, sizeof cmd, argc, argv);
	if (H5Lexists(f, SCHEMA_ANALYSIS, H5P_DEFAULT) > 0) {
		an = H5Gopen2(f, SCHEMA_ANALYSIS, H5P_DEFAULT);
		for (int k = 0; an >= 0 && k <= SCHEMA_AN_NTABLES; k++) {
			const char *name = k < SCHEMA_AN_NTABLES
						   ? schema_analysis_tables[k]->name
						 : SCHEMA_AN_POINTS;
			if (H5Lexists(an, name, H5P_DEFAULT) > 0 &&
			    H5Ldelete(an, name, H5P_DEFAULT) < 0) {
				H5Gclose(an);
				return -1;
			}
		}
		for (size_t k = 0; an >= 0 && k < sizeof schema_analysis_attrs /
						       sizeof *schema_analysis_attrs;
		     k++)
			if (H5Aexists(an, schema_analysis_attrs[k]) > 0)
				H5Adelete(an, schema_analysis_attrs[k]);
	} else {
		an = H5Gcreate2(f, SCHEMA_ANALYSIS, H5P_DEFAULT, H5P_DEFAULT,
				H5P_DEFAULT);
	}
	if (an >= 0 &&
	    (h5x_attr_str(an, "format", SCHEMA_AN_FORMAT) ||
	     h5x_attr_int(an, "format_version", SCHEMA_AN_FORMAT_VERSION) ||
	     h5x_attr_str(an, "kapitza_version", KAPITZA_VERSION) ||
	     h5x_attr_str(an, "created", now) ||
	     h5x_attr_str(an, "command", cmd) ||
	     h5x_attr_dbl(an, "window_t0", o->t0) ||
	     h5x_attr_dbl(an, "window_t1", o->t1) ||
	     h5x_attr_int(an, "smooth", o->peaks.smooth) ||
	     h5x_attr_dbl(an, "rel_height", o->peaks.rel_height) ||
	     h5x_attr_dbl(an, "min_dip", o->peaks.min_dip) ||
	     h5x_attr_dbl(an, "floor", o->peaks.floor) ||
	     h5x_attr_int(an, "refine", o->peaks.refine) ||
	     h5x_attr_dbl(an, "tol", o->tol) ||
	     h5x_attr_str(an, "beta_from", o->beta_tba ? "tba" : "tables"))) {
		H5Gclose(an);
		return -1;
	}
	return an;
}

/* /analysis/points/<id> of point q (in g) if it has anything to show. */
static int write_point(hid_t g, const pt_t *q)
{
	const int with_lc = q->has_je && q->n_left; /* rows were analysed */
	const int n = q->n, L = q->p->L;
	char name[16];
	if (!with_lc && !q->th_done)
		return 0;
	snprintf(name, sizeof name, "%d", q->p->id);
	hid_t pg = H5Gcreate2(g, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	int bad = pg < 0 || h5x_attr_int(pg, "L", L);
	if (!bad && with_lc)
		bad = write_an_ds(pg, AN_N_LEFT, n, L, q->n_left) ||
		      write_an_ds(pg, AN_N_RIGHT, n, L, q->n_right) ||
		      write_an_ds(pg, AN_PEAKS_FOUND, n, L, q->found);
	if (!bad && q->th_done)
		bad = write_an_ds(pg, AN_BETA_EFF, n, L, q->beta) ||
		      (q->th.with_mu &&
		       write_an_ds(pg, AN_MU_EFF, n, L, q->mu)) ||
		      (q->th.with_distance &&
		       write_an_ds(pg, AN_TRACE_DISTANCE, n, L, q->dist));
	if (pg >= 0)
		H5Gclose(pg);
	return bad ? -1 : 0;
}

int an_write(hid_t f, const an_opts_t *o, int argc, char **argv, pt_t *pts,
	     int np, const vf_row_t *vf, int nvf, const cv_row_t *cv, int ncv,
	     char *err)
{
	hid_t an = -1, g = -1;
	int rc = -1, nlc = 0, nth = 0;
	lc_row_t *lc = calloc(np ? (size_t)np : 1, sizeof *lc);
	th_row_t *th = calloc(np ? (size_t)np : 1, sizeof *th);

	if (!lc || !th) {
		eu_err(err, "out of memory (analysis tables)");
		goto out;
	}
	an = an_group(f, o, argc, argv);
	if (an < 0) {
		eu_err(err, "cannot write /" SCHEMA_ANALYSIS);
		goto out;
	}
	g = H5Gcreate2(an, SCHEMA_AN_POINTS, H5P_DEFAULT, H5P_DEFAULT,
		       H5P_DEFAULT);
	if (g < 0) {
		eu_err(err, "cannot create /" SCHEMA_ANALYSIS
			    "/" SCHEMA_AN_POINTS);
		goto out;
	}
	for (int i = 0; i < np; i++) {
		if (pts[i].has_je)
			lc[nlc++] = pts[i].lc;
		if (pts[i].th.values || pts[i].th.message[0])
			th[nth++] = pts[i].th;
		if (write_point(g, &pts[i])) {
			eu_err(err, "cannot write /" SCHEMA_ANALYSIS
				    "/" SCHEMA_AN_POINTS "/%d",
			       pts[i].p->id);
			goto out;
		}
	}
	if (write_table(an, &schema_lightcone, (size_t)nlc, lc) ||
	    write_table(an, &schema_velocity_fit, (size_t)nvf, vf) ||
	    write_table(an, &schema_convergence, (size_t)ncv, cv) ||
	    write_table(an, &schema_thermal_profiles, (size_t)nth, th)) {
		eu_err(err, "cannot write the /" SCHEMA_ANALYSIS " tables");
		goto out;
	}
	rc = 0;
out:
	free(lc);
	free(th);
	if (g >= 0)
		H5Gclose(g);
	if (an >= 0)
		H5Gclose(an);
	return rc;
}

/* ---- printing ---- */

void an_print(const an_opts_t *o, pt_t *pts, int np, const vf_row_t *vf,
	      int nvf, const cv_row_t *cv, int ncv, const tab_t *tabs,
	      int ntab)
{
	printf("light cone: maxima of J^E (smooth %d, height >= %.2g max, "
	       "dip %.2g%s), lines over %g <= t <= %g\n",
	       o->peaks.smooth, o->peaks.rel_height, o->peaks.min_dip,
	       o->peaks.refine ? ", parabolic vertex" : "", o->t0, o->t1);
	if (o->no_track) /* the tracker (track.h) */
		printf("  (--no-track: every row read on its own)\n");
	else
		printf("  followed in time: prominence >= %g x local noise, gate "
		       "%g + %g |dt| bonds\n",
		       o->track.prominence, o->track.gate_bonds,
		       o->track.gate_speed);
	printf("  trust: win = largest change of v' over the window's halves, "
	       "disc = truncated weight summed up to t = %g\n", o->t1);
	printf("%5s %-12s %8s %8s %5s %5s %6s %17s %7s %17s %7s %9s  %s\n",
	       "id", "state", "delta_l", "delta_r", "chi", "rows", "found",
	       "v'_R +- sd", "win", "v'_L +- sd", "win", "disc", "message");
	for (int i = 0; i < np; i++) {
		const lc_row_t *r = &pts[i].lc;
		if (!pts[i].has_je)
			continue;
		printf("%5d %-12s %8.5f %8.5f %5d %5d %6d %8.4f +- %-6.4f "
		       "%7.4f %8.4f +- %-6.4f %7.4f %9.2e  %s\n",
		       r->point_id, an_state_str(r->state), r->delta_left,
		       r->delta_right, r->chi_max, r->rows, r->rows_found,
		       r->v_right, r->v_right_sd, r->v_right_win, r->v_left,
		       r->v_left_sd, r->v_left_win, r->discarded, r->message);
	}
	printf("\nv'_R = A Delta + B over points sharing every other "
	       "parameter (least squares; sd from the residuals; _w: "
	       "weighted by 1/sd(v'_R)^2)\n");
	printf("%5s %-12s %5s %5s %8s %7s %17s %17s %17s %17s  %s\n", "group",
	       "state", "L", "chi", "delta_l", "points", "A +- sd", "B +- sd",
	       "A_w +- sd", "B_w +- sd", "points / message");
	for (int g = 0; g < nvf; g++) {
		const vf_row_t *r = &vf[g];
		printf("%5d %-12s %5d %5d %8.5f %7d %8.4f +- %-6.4f %8.4f +- "
		       "%-6.4f %8.4f +- %-6.4f %8.4f +- %-6.4f  [%s] %s\n",
		       r->group, an_state_str(r->state), r->L, r->chi_max,
		       r->delta_left, r->npoints, r->A, r->A_sd, r->B, r->B_sd,
		       r->A_w, r->A_w_sd, r->B_w, r->B_w_sd, r->point_ids,
		       r->message);
	}
	printf("\nconvergence: time up to which each observable agrees with "
	       "the next larger chi_max within %g (absolute)\n",
	       o->tol);
	if (!ncv)
		printf("  (no points that differ only in chi_max)\n");
	else
		printf("%5s %5s %5s %5s %8s %8s %8s %8s %8s %8s %s\n", "id",
		       "chi", "ref", "chi", "energy", "J^E", "S^z", "J^M",
		       "entropy", "all", "max|diff|");
	for (int k = 0; k < ncv; k++) {
		const cv_row_t *r = &cv[k];
		printf("%5d %5d %5d %5d %8g %8g %8g %8g %8g %7g%s %.2e\n",
		       r->point_id, r->chi_max, r->ref_point_id, r->ref_chi_max,
		       r->t_energy, r->t_energy_current, r->t_sz,
		       r->t_spin_current, r->t_entropy, r->t_all,
		       r->full ? "+" : " ", r->max_diff);
	}
	if (ncv)
		printf("  (+: agree as far as both runs go; nan: not measured "
		       "or already apart at t = 0)\n");
	printf("\neffective temperature: ");
	if (!ntab && !o->beta_tba) {
		printf("no thermal tables (the archive's spec has no thermal: "
		       "section; kapitza run computes its tables as items of "
		       "the sweep)\n");
		return;
	}
	if (o->beta_tba)
		printf("beta_eff from the TBA's e(beta) (--beta-from tba, "
		       "ground_state points, |beta| <= %g), d_n with rho3 "
		       "where a table covers beta_eff; thermal tables:",
		       TBA_EOS_BMAX);
	else
		printf("beta_eff (and mu_eff for domain_wall), d_n with rho3; "
		       "thermal tables:");
	for (int k = 0; k < ntab; k++)
		printf("%s delta = %.6g (point %d%s%s)", k ? "," : "",
		       tabs[k].delta, tabs[k].point, tabs[k].t ? "" : ", ",
		       tabs[k].t ? "" : archive_state_name(tabs[k].state));
	printf("%s\n", ntab ? "" : " none");
	printf("%5s %-12s %8s %8s %8s %8s %8s %9s%s  %s\n", "id", "state",
	       "values", "finite", "+inf", "-inf", "none", "max d_n",
	       o->beta_tba ? " max|dbeta|" : "", "message");
	for (int i = 0; i < np; i++) {
		const th_row_t *r = &pts[i].th;
		if (!r->values && !r->message[0])
			continue;
		printf("%5d %-12s %8d %8d %8d %8d %8d %9.3g",
		       r->point_id, an_state_str(pts[i].p->state), r->values,
		       r->finite, r->beyond_cold, r->beyond_hot,
		       r->no_solution, r->d_max);
		if (o->beta_tba)
			printf(" %10.3g", r->beta_diff_max);
		printf("  %s\n", r->message);
	}
	if (o->beta_tba && ntab)
		printf("  (max|dbeta|: the TBA's beta_eff against the tables' "
		       "where both are finite)\n");
}
