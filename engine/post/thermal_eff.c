/* thermal_eff: effective temperatures from the archive's thermal tables
 * (the points of state thermal_table that `kapitza run` farms from the
 * spec's `thermal:` section; kapitza fit never computes one): per point and
 * three-site window, beta_eff_n(t), mu_eff_n(t) and the trace distance d_n(t)
 * to the thermal three-site state (paper Fig. 4, Fig. 7, Methods).  With
 * --beta-from tba, beta_eff of the ground_state points comes from the
 * TBA's e(beta) instead (kernels/tba/tba_eos.h; gamma = pi/P only), and
 * the tables, where they exist, give d_n and the difference of the two
 * inversions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "eu.h"
#include "h5x.h"
#include "params.h"

void tabs_free(tab_t *t, int n)
{
	for (int k = 0; t && k < n; k++)
		thermal_table_destroy(&t[k].t);
	free(t);
}

/* Table point p (done) from /points/<id> (engine/ARCHIVE.md) into a kernel
 * table: the archive keeps rho3[j][i][a][b] = <a|rho|b>, the kernel
 * <a|rho|b> at a + 8 b. */
static int table_load(hid_t f, const archive_point_row_t *p,
		      thermal_table_t **out, char *err)
{
	hid_t cplx = h5x_complex_type(), g = -1;
	double *b = NULL, *mu = NULL, *e = NULL, *sz = NULL;
	kz_cplx *rho = NULL, *kr = NULL;
	int nb = 0, nm = 0, rc = -1;
	char path[96], kerr[KZ_ERRLEN];

	if (cplx < 0)
		return eu_err(err, "HDF5: complex type");
	path[0] = '/';
	schema_point_path(path + 1, sizeof path - 1, p->id, NULL);
	g = H5Gopen2(f, path, H5P_DEFAULT);
	if (g < 0 || h5x_attr_read_int(g, "nbeta", &nb) ||
	    h5x_attr_read_int(g, "nmu", &nm) || nb < 2 || nm < 1) {
		eu_err(err, "%s: not a thermal table (attributes nbeta, nmu)",
		       path);
		goto out;
	}
	const size_t nn = (size_t)nb * nm;
	const struct {
		int k;
		hid_t mt;
		size_t esz, cnt;
		void **buf;
	} rd[] = {
		{TDS_BETA, H5T_NATIVE_DOUBLE, 8, (size_t)nb, (void **)&b},
		{TDS_MU, H5T_NATIVE_DOUBLE, 8, (size_t)nm, (void **)&mu},
		{TDS_ENERGY, H5T_NATIVE_DOUBLE, 8, nn, (void **)&e},
		{TDS_SZ, H5T_NATIVE_DOUBLE, 8, nn, (void **)&sz},
		{TDS_RHO3, cplx, sizeof(kz_cplx), nn * 64, (void **)&rho},
	};
	for (size_t k = 0; k < sizeof rd / sizeof *rd; k++) {
		const char *name = schema_table_ds[rd[k].k].name;
		int r = an_read_point_ds(f, p->id, name, rd[k].mt, rd[k].esz,
					 rd[k].cnt, rd[k].buf, err);
		if (r > 0)
			eu_err(err, "%s/%s: a thermal table's dataset is "
				    "missing",
			       path, name);
		if (r)
			goto out;
	}
	kr = malloc(nn * 64 * sizeof *kr);
	if (!kr) {
		eu_err(err, "out of memory");
		goto out;
	}
	schema_rho_swap((double *)kr, (const double *)rho, nn);
	thermal_params_t tp;
	params_thermal_of(p->J, p->delta_right, p->L, p->chi_max, p->cutoff,
			  p->dt, p->order, 0, &tp);
	if (thermal_table_create_from(out, &tp, b, nb, mu, nm, e, sz, kr,
				      kerr)) {
		eu_err(err, "thermal table (point %d, delta = %.6g): %s",
		       p->id, p->delta_right, kerr);
		goto out;
	}
	rc = 0;
out:
	if (g >= 0)
		H5Gclose(g);
	H5Tclose(cplx);
	free(b);
	free(mu);
	free(e);
	free(sz);
	free(rho);
	free(kr);
	return rc;
}

/* The archive's thermal tables: every point of state thermal_table, read
 * back if it is done.  *nout = 0 when the spec had no thermal: section. */
static int tables_read(hid_t f, const archive_summary_t *sum, tab_t **out,
		       int *nout, char *err)
{
	tab_t *t = calloc((size_t)sum->npoints + 1, sizeof *t);
	int n = 0;

	*out = NULL;
	*nout = 0;
	if (!t)
		return eu_err(err, "out of memory");
	for (int k = 0; k < sum->npoints; k++) {
		const archive_point_row_t *p = &sum->points[k];
		if (p->state != SPEC_STATE_THERMAL)
			continue;
		t[n].delta = p->delta_right;
		t[n].point = p->id;
		t[n].state = sum->status[k].state;
		if (t[n].state == ARCHIVE_DONE &&
		    table_load(f, p, &t[n].t, err)) {
			tabs_free(t, n + 1);
			return -1;
		}
		n++;
	}
	*out = t;
	*nout = n;
	return 0;
}

/* The tables of the open archive f (summary sum), or, with --tables,
 * those of archive `other`, opened read-only for the purpose. */
int tables_from(hid_t f, const archive_summary_t *sum,
		       const char *other, hid_t fapl, tab_t **out, int *nout,
		       char *err)
{
	if (!other)
		return tables_read(f, sum, out, nout, err);
	archive_summary_t *os = NULL;
	int rc = -1;
	hid_t of = -1;
	if (archive_summary_read(&os, other, err))
		goto done;
	of = H5Fopen(other, H5F_ACC_RDONLY, fapl);
	if (of < 0) {
		eu_err(err, "--tables: cannot open '%s' for reading", other);
		goto done;
	}
	if ((rc = tables_read(of, os, out, nout, err)))
		goto done;
	if (!*nout) {
		eu_err(err, "--tables: '%s' holds no thermal tables (its spec "
			    "has no thermal: section)", other);
		tabs_free(*out, 0);
		*out = NULL;
		rc = -1;
	}
done:
	if (of >= 0)
		H5Fclose(of);
	archive_summary_destroy(&os);
	return rc;
}

static const tab_t *table_for(const tab_t *t, int n, double delta)
{
	for (int k = 0; k < n; k++)
		if (fabs(t[k].delta - delta) <= 1e-12)
			return &t[k];
	return NULL;
}

/* Why table t cannot be used, and the command that fixes it. */
void table_missing(const tab_t *t, const char *archive, char *buf)
{
	if (t->state == ARCHIVE_OTHER_SHARD)
		an_msg(buf,
		    "the thermal table for delta = %.6g (point %d) is in "
		    "another shard: merge the shards (kapitza merge) and fit "
		    "the merged archive",
		    t->delta, t->point);
	else
		an_msg(buf,
		    "the thermal table for delta = %.6g (point %d) is %s: "
		    "`kapitza resubmit %s` computes it",
		    t->delta, t->point, archive_state_name(t->state),
		    archive);
}

/* The observables of one point that the inversion reads: the energy
 * rows E, with mu the magnetization S, the measured rho3 R (NULL: not
 * measured). */
typedef struct {
	double *E, *S;
	kz_cplx *R;
} th_data_t;

/* beta_eff (J = 1) of the window energy eb from the TBA's e(beta) eos,
 * and, with a table t, the table's inversion compared with it: the largest
 * difference where both are finite goes to r->beta_diff_max.  0, or 1
 * with a message in ferr. */
static int beta_tba(th_row_t *r, const tba_eos_t *eos,
		    const thermal_table_t *t, double eb, double *b, char *ferr)
{
	*b = tba_eos_beta(eos, eb);
	if (!t)
		return 0;
	double bt;
	if (fit_beta_from_energy(t, eb, &bt, ferr))
		return 1;
	if (isfinite(*b) && isfinite(bt)) {
		double d = fabs(*b - bt);
		r->beta_diff_max = isnan(r->beta_diff_max)
					   ? d
					   : fmax(r->beta_diff_max, d);
	}
	return 0;
}

/* beta_eff, mu_eff and d_n of window w at row k of point q, from table t
 * (the left or the right half's), or with eos (--beta-from tba) beta_eff
 * from the TBA and d_n from t (may then be NULL) where its grid covers
 * beta_eff; 0, or 1 with a message in q->th that ends the point's
 * inversion. */
static int thermal_window(pt_t *q, const thermal_table_t *t,
			  const tba_eos_t *eos, const th_data_t *x, int k,
			  int w)
{
	const int L = q->p->L, nw = L - 2;
	const double J = q->p->J;
	th_row_t *r = &q->th;
	const size_t o = (size_t)k * nw + w;
	char ferr[EU_ERRLEN];
	/* Methods: Ebar_n = (E_n + E_{n+1}) / 2 of the window's two bonds;
	 * tables are at J = 1 */
	double eb = 0.5 * (x->E[(size_t)k * (L - 1) + w] +
			   x->E[(size_t)k * (L - 1) + w + 1]) / J;
	double b = NAN, m = 0;
	int ok = 1;
	r->values++;
	if (!isfinite(eb)) {
		r->no_solution++;
		return 0;
	}
	if (eos) {
		if (beta_tba(r, eos, t, eb, &b, ferr))
			goto stop;
	} else if (r->with_mu) {
		/* s^z of the window's centre site, the site whose energy Ebar
		 * is */
		double sz = x->S[(size_t)k * L + w + 1];
		if (fit_beta_mu_from(t, eb, sz, &b, &m, &ok, ferr))
			goto stop;
	} else if (fit_beta_from_energy(t, eb, &b, ferr)) {
		goto stop;
	}
	if (!ok || isnan(b)) {
		r->no_solution++;
		return 0;
	}
	if (isinf(b)) {
		if (b > 0)
			r->beyond_cold++;
		else
			r->beyond_hot++;
		q->beta[o] = b;
		q->mu[o] = NAN;
		return 0;
	}
	r->finite++;
	q->beta[o] = b / J;
	q->mu[o] = m * J;
	const double *tb = t ? thermal_table_betas(t) : NULL;
	if (r->with_distance &&
	    (!eos || (b >= tb[0] && b <= tb[thermal_table_nbeta(t) - 1]))) {
		kz_cplx th[64];
		double d;
		if (thermal_rho3_at(t, b, m, th, ferr) ||
		    fit_trace_distance(x->R + o * 64, th, &d, ferr))
			goto stop;
		q->dist[o] = d;
		r->d_max = isnan(r->d_max) ? d : fmax(r->d_max, d);
	}
	return 0;
stop:
	an_msg(r->message, "%s", ferr);
	return 1;
}

void eos_cache_free(eos_cache_t *c)
{
	for (int k = 0; c && k < c->n; k++)
		free(c->e[k].eos);
	if (c) {
		free(c->e);
		c->e = NULL;
		c->n = 0;
	}
}

/* The TBA's e(beta) of anisotropy delta (built on first use, one TBA
 * solve per interpolation node), or NULL with the reason in msg (delta is
 * not cos(pi/P)); -1 on error (err). */
static int eos_get(eos_cache_t *c, double delta, const tba_eos_t **out,
		   char *msg, char *err)
{
	eos_entry_t *e = NULL;
	for (int k = 0; k < c->n && !e; k++)
		if (fabs(c->e[k].delta - delta) <= 1e-12)
			e = &c->e[k];
	if (!e) {
		eos_entry_t *ne = realloc(c->e, (size_t)(c->n + 1) * sizeof *ne);
		if (!ne)
			return eu_err(err, "out of memory");
		c->e = ne;
		e = &c->e[c->n++];
		memset(e, 0, sizeof *e);
		e->delta = delta;
		char kerr[KZ_ERRLEN];
		int P = tba_p_of_delta(delta);
		e->eos = P ? malloc(sizeof *e->eos) : NULL;
		if (P && !e->eos)
			return eu_err(err, "out of memory");
		if (P && tba_eos_build(e->eos, delta, kerr))
			return eu_err(err, "TBA e(beta) at delta = %.12g: %s",
				      delta, kerr);
		if (!P)
			an_msg(e->msg,
			       "--beta-from tba: delta = %.12g is not cos(pi/P) "
			       "for an integer P in 2..%d (the TBA is built "
			       "for gamma = pi/P only): use the thermal tables",
			       delta, TBA_MAXP);
	}
	*out = e->eos;
	if (!e->eos)
		an_msg(msg, "%s", e->msg);
	return 0;
}

/* --beta-from tba: the eos of both halves of q into *el, *er and its
 * tables, where they exist, into *tl, *tr (for the comparison and d_n);
 * 0, 1 with the reason in q->th.message, -1 on error. */
static int thermal_eos_of(pt_t *q, const tab_t *tabs, int ntab,
			  eos_cache_t *c, const tba_eos_t **el,
			  const tba_eos_t **er, const thermal_table_t **tl,
			  const thermal_table_t **tr, char *err)
{
	const archive_point_row_t *p = q->p;
	th_row_t *r = &q->th;
	if (p->state == SPEC_STATE_DOMAIN_WALL) {
		an_msg(r->message,
		       "--beta-from tba: the TBA inversion is at mu = 0; "
		       "domain_wall needs (beta, mu): use the thermal tables");
		return 1;
	}
	if (eos_get(c, p->delta_left, el, r->message, err) ||
	    eos_get(c, p->delta_right, er, r->message, err))
		return -1;
	if (!*el || !*er)
		return 1;
	const tab_t *ttl = table_for(tabs, ntab, p->delta_left);
	const tab_t *ttr = table_for(tabs, ntab, p->delta_right);
	*tl = ttl ? ttl->t : NULL;
	*tr = ttr ? ttr->t : NULL;
	return 0;
}

/* The left and right tables of point q into *tl, *tr and whether mu_eff
 * is wanted; 0, or 1 with the reason in q->th.message. */
static int thermal_tables_of(pt_t *q, const char *archive, const tab_t *tabs,
			     int ntab, const thermal_table_t **tl,
			     const thermal_table_t **tr)
{
	const archive_point_row_t *p = q->p;
	th_row_t *r = &q->th;
	const tab_t *ttl = table_for(tabs, ntab, p->delta_left);
	const tab_t *ttr = table_for(tabs, ntab, p->delta_right);
	if (!ttl || !ttr) {
		an_msg(r->message,
		       "no thermal table for delta = %.17g: the spec's "
		       "thermal.delta does not list it",
		       ttl ? p->delta_right : p->delta_left);
		return 1;
	}
	if (!ttl->t || !ttr->t) {
		table_missing(ttl->t ? ttr : ttl, archive, r->message);
		return 1;
	}
	*tl = ttl->t;
	*tr = ttr->t;
	r->with_mu = p->state == SPEC_STATE_DOMAIN_WALL;
	if (r->with_mu &&
	    (thermal_table_nmu(*tl) < 2 || thermal_table_nmu(*tr) < 2)) {
		an_msg(r->message,
		       "domain_wall needs (beta, mu): the thermal tables have "
		       "no mu grid (thermal.mu)");
		return 1;
	}
	return 0;
}

/* The energy (and with mu the magnetization, and rho3 if measured) of
 * point q into x; 0, 1 with the reason in q->th.message, -1 on error. */
static int thermal_read(hid_t f, pt_t *q, hid_t cplx, th_data_t *x,
			char *err)
{
	const archive_point_row_t *p = q->p;
	const int L = p->L;
	int e = an_read_doubles(f, p->id, schema_point_ds[DS_ENERGY].name,
				(size_t)q->n * (L - 1), &x->E, err);
	if (e == 1)
		an_msg(q->th.message, "energy not measured");
	if (e)
		return e;
	if (q->th.with_mu) {
		e = an_read_doubles(f, p->id, schema_point_ds[DS_SZ].name,
				    (size_t)q->n * L, &x->S, err);
		if (e == 1)
			an_msg(q->th.message,
			       "magnetization not measured: no mu_eff");
		if (e)
			return e;
	}
	e = an_read_point_ds(f, p->id, schema_point_ds[DS_RHO3].name, cplx,
			     sizeof(kz_cplx), (size_t)q->n * (L - 2) * 64,
			     (void **)&x->R, err);
	return e < 0 ? -1 : 0;
}

/* beta_eff, mu_eff and d_n of one point (window w = sites w, w+1, w+2;
 * the left table for windows starting at n <= 0, the paper's rule). */
int thermal_point(hid_t f, const char *archive, pt_t *q, const tab_t *tabs,
		  int ntab, eos_cache_t *eos, char *err)
{
	const archive_point_row_t *p = q->p;
	th_row_t *r = &q->th;
	const int L = p->L, nw = L - 2;
	th_data_t x = {NULL, NULL, NULL};
	const thermal_table_t *tl = NULL, *tr = NULL;
	const tba_eos_t *el = NULL, *er = NULL;
	hid_t cplx = h5x_complex_type();
	int rc = -1;

	memset(r, 0, sizeof *r);
	r->point_id = p->id;
	r->d_max = r->beta_diff_max = NAN;
	if (cplx < 0)
		return eu_err(err, "HDF5: complex type");
	if (eos) {
		int e = thermal_eos_of(q, tabs, ntab, eos, &el, &er, &tl, &tr,
				       err);
		if (e) {
			rc = e > 0 ? 0 : -1;
			goto out;
		}
	} else if (thermal_tables_of(q, archive, tabs, ntab, &tl, &tr)) {
		rc = 0;
		goto out;
	}
	int e = thermal_read(f, q, cplx, &x, err);
	if (e) {
		rc = e > 0 ? 0 : -1;
		goto out;
	}
	r->with_distance = x.R && tl && tr && thermal_table_rho3(tl) &&
			   thermal_table_rho3(tr);
	size_t tot = (size_t)q->n * nw;
	q->beta = malloc(tot * sizeof *q->beta);
	q->mu = malloc(tot * sizeof *q->mu);
	q->dist = malloc(tot * sizeof *q->dist);
	if (!q->beta || !q->mu || !q->dist) {
		eu_err(err, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < tot; k++)
		q->beta[k] = q->mu[k] = q->dist[k] = NAN;
	rc = 0;
	for (int k = 0; k < q->n; k++)
		for (int w = 0; isfinite(q->time[k]) && w < nw; w++)
			if (thermal_window(q, w - L / 2 + 1 <= 0 ? tl : tr,
					   eos ? (w - L / 2 + 1 <= 0 ? el : er)
					       : NULL,
					   &x, k, w))
				goto out;
	q->th_done = 1;
out:
	free(x.E);
	free(x.S);
	free(x.R);
	H5Tclose(cplx);
	return rc;
}
