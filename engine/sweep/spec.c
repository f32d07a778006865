/* spec: the YAML sweep specification (format: engine/SPEC.md).  The text
 * is parsed with libyaml's document API (never by hand), validated
 * completely, and expanded into the Cartesian product of its axes, so that
 * every problem is reported as "FILE:LINE:COLUMN: message" before any work
 * starts.
 *
 * Flow: spec_parse -> yaml_parser_load -> sp_parse_root (spec_sections.c:
 * keys, types, one value or a list per parameter; every value is evaluated
 * (expr.c) and range checked where it is written, so errors point at the
 * offending node) -> check_cross (relations between parameters:
 * measure_every / dt, number of points, memory per point) -> build_points
 * (fixed axis order, last axis fastest) -> archive total -> finish_thermal
 * (the thermal tables of the `thermal:` section appended as points, so that
 * the farm runs them like any point).  The first problem found is reported:
 * keys of a mapping are checked (unknown, duplicate) before its values,
 * values in the fixed order of the keys, relations last.  The cost model
 * (memory and archive limits) is cost.c. */
#include "spec_impl.h"
#include "spec_refine.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void fmt_bytes(double b, char *buf, size_t len)
{
	static const char *const unit[] = {"B",   "KiB", "MiB", "GiB",
					   "TiB", "PiB", "EiB"};
	int u = 0;

	while (b >= 1024.0 && u < 6) {
		b /= 1024.0;
		u++;
	}
	snprintf(buf, len, "%.3g %s", b, unit[u]);
}

/* ref < 0: the product point at idx; ref >= 0: the homogeneous reference
 * ref of the references: key (idx[AX_LEFT], idx[AX_RIGHT] unused). */
static void fill_point(const sp_parse_t *p, const int *idx, int ref, int id,
		       spec_point_t *pt)
{
	char buf[1024];
	int len;

	memset(pt, 0, sizeof *pt);
	pt->id = id;
	pt->L = (int)p->ax[AX_L].v[idx[AX_L]];
	pt->J = p->ax[AX_J].v[idx[AX_J]];
	if (ref >= 0) {
		pt->delta_left = pt->delta_right = p->ref_delta[ref];
		pt->gamma_right = isnan(p->ref_gamma[ref])
					  ? sp_nozero(acos(p->ref_delta[ref]))
					  : p->ref_gamma[ref];
	} else {
		double right = p->ax[AX_RIGHT].v[idx[AX_RIGHT]];
		double left = p->ax[AX_LEFT].v[idx[AX_LEFT]];
		pt->delta_left = p->left_gamma ? sp_nozero(cos(left)) : left;
		if (p->right_gamma) {
			pt->gamma_right = right;
			pt->delta_right = sp_nozero(cos(right));
		} else {
			pt->delta_right = right;
			pt->gamma_right = sp_nozero(acos(right));
		}
	}
	pt->state = (int)p->ax[AX_STATE].v[idx[AX_STATE]];
	pt->dt = p->ax[AX_DT].v[idx[AX_DT]];
	pt->t_max = p->ax[AX_TMAX].v[idx[AX_TMAX]];
	pt->order = (int)p->ax[AX_ORDER].v[idx[AX_ORDER]];
	pt->measure_every = p->ax[AX_ME].v[idx[AX_ME]];
	pt->chi_max = (int)p->ax[AX_CHI].v[idx[AX_CHI]];
	pt->cutoff = p->ax[AX_CUTOFF].v[idx[AX_CUTOFF]];
	pt->measure = p->measure;
	/* both counts were bounded by check_cross */
	pt->n_measure = (int)floor(pt->t_max / pt->measure_every + 1e-9) + 1;
	pt->steps_per_measure = (int)lround(pt->measure_every / pt->dt);
	len = spec_point_canonical(pt, buf, sizeof buf);
	pt->hash = eu_fnv1a(EU_FNV_INIT, buf, len < 0 ? 0 : (size_t)len);
	snprintf(pt->hash_hex, sizeof pt->hash_hex, "%016" PRIx64, pt->hash);
}

static int check_cross(sp_parse_t *p)
{
	const sp_axis_t *dt = &p->ax[AX_DT], *me = &p->ax[AX_ME],
		     *tm = &p->ax[AX_TMAX], *L = &p->ax[AX_L],
		     *chi = &p->ax[AX_CHI];
	char desc[512], mem[32];
	double np = 1;

	for (int i = 0; i < dt->n; i++)
		for (int j = 0; j < me->n; j++) {
			double r = me->v[j] / dt->v[i], k = floor(r + 0.5);
			yaml_mark_t m = me->given ? me->mark[j] : dt->mark[i];
			if (k < 1 || fabs(me->v[j] - k * dt->v[i]) >
					     MULTIPLE_RTOL * me->v[j])
				return FAIL(&p->c, m,
					    "evolve.measure_every = %g is not a "
					    "positive multiple of evolve.dt = "
					    "%g%s",
					    me->v[j], dt->v[i],
					    me->given ? ""
						      : " (measure_every "
							"defaults to 0.5; set "
							"it)");
			if (k > COUNT_LIMIT)
				return FAIL(&p->c, m,
					    "evolve.measure_every / evolve.dt "
					    "= %.3g steps between measurements "
					    "(at most %.0g)",
					    k, COUNT_LIMIT);
		}
	/* t_max > 0 below one interval would measure only t = 0 and evolve
	 * to t_max for nothing: refused (t_max = 0 asks for t = 0 alone) */
	for (int t = 0; t < tm->n; t++)
		for (int j = 0; j < me->n; j++)
			if (tm->v[t] > 0 &&
			    me->v[j] > tm->v[t] * (1 + MULTIPLE_RTOL))
				return FAIL(&p->c,
					    me->given ? me->mark[j]
						      : tm->mark[t],
					    "evolve.measure_every = %g exceeds "
					    "evolve.t_max = %g: only t = 0 "
					    "would be measured",
					    me->v[j], tm->v[t]);
	for (int t = 0; t < tm->n; t++)
		for (int j = 0; j < me->n; j++)
			if (tm->v[t] / me->v[j] + 1 > COUNT_LIMIT)
				return FAIL(&p->c, tm->mark[t],
					    "evolve.t_max / "
					    "evolve.measure_every = %.3g "
					    "measurement times (at most %.0g)",
					    tm->v[t] / me->v[j], COUNT_LIMIT);
	for (int a = 0; a < AX_N; a++)
		np *= p->ax[a].n;
	if (p->nref) /* references: every axis but left and right */
		np += np / (p->ax[AX_LEFT].n * p->ax[AX_RIGHT].n) * p->nref;
	if (np > POINTS_LIMIT) {
		size_t off = 0;
		desc[0] = '\0';
		for (int a = 0; a < AX_N && off < sizeof desc; a++)
			if (p->ax[a].n > 1)
				off += (size_t)snprintf(
					desc + off, sizeof desc - off,
					"%s%s (%d)", off ? " x " : "",
					p->path[a], p->ax[a].n);
		if (p->nref && off < sizeof desc)
			snprintf(desc + off, sizeof desc - off,
				 " + %d references", p->nref);
		return FAIL(&p->c, p->root_mark,
			    "the sweep has %.0f points, more than the limit "
			    "of %d: %s",
			    np, POINTS_LIMIT, desc);
	}
	for (int i = 0; i < L->n; i++)
		for (int j = 0; j < chi->n; j++) {
			spec_point_t pt;
			double b;
			memset(&pt, 0, sizeof pt);
			pt.L = (int)L->v[i];
			pt.chi_max = (int)chi->v[j];
			b = spec_point_memory_bytes(&pt);
			if (b > MEMORY_LIMIT) {
				fmt_bytes(b, mem, sizeof mem);
				return FAIL(&p->c, chi->mark[j],
					    "truncate.chi_max = %d with "
					    "chain.length = %d needs an "
					    "estimated %s of memory per point "
					    "(limit 1 TiB)",
					    pt.chi_max, pt.L, mem);
			}
		}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* A reference equal to a product point (or to another reference) would run
 * the same simulation twice under one hash: refuse it. */
static int check_ref_duplicates(sp_parse_t *p, const spec_t *s)
{
	uint64_t *h;
	int dup = 0, rc = 0;

	if (s->npoints == s->nproduct)
		return 0;
	h = malloc((size_t)s->npoints * sizeof *h);
	if (!h)
		return FAIL(&p->c, p->root_mark, "out of memory");
	for (int k = 0; k < s->npoints; k++)
		h[k] = s->points[k].hash;
	qsort(h, (size_t)s->npoints, sizeof *h, cmp_u64);
	for (int k = 1; k < s->npoints && !dup; k++)
		dup = h[k] == h[k - 1];
	if (dup) {
		int per = (s->npoints - s->nproduct) / p->nref;
		for (int k = s->nproduct; k < s->npoints && !rc; k++)
			for (int j = 0; j < k && !rc; j++)
				if (s->points[j].hash == s->points[k].hash)
					rc = FAIL(&p->c,
						  p->ref_mark[(k - s->nproduct) /
							      per],
						  "references: the homogeneous "
						  "chain delta = %.17g is "
						  "already point %d of the "
						  "sweep",
						  s->points[k].delta_right, j);
	}
	free(h);
	return rc;
}

static int build_points(sp_parse_t *p, spec_t *s)
{
	int idx[AX_N], np = 1, nother = 1, big = 0;
	double total = 0, b, bmax = -1;
	char tot[32];

	for (int a = 0; a < AX_N; a++)
		np *= p->ax[a].n; /* <= POINTS_LIMIT, checked */
	nother = np / (p->ax[AX_LEFT].n * p->ax[AX_RIGHT].n);
	s->nproduct = np;
	np += p->nref * nother;
	s->points = calloc((size_t)np, sizeof *s->points);
	if (!s->points)
		return FAIL(&p->c, p->root_mark, "out of memory");
	s->npoints = np;
	for (int id = 0; id < np; id++) {
		int r = id, ref = -1;
		if (id >= s->nproduct) { /* reference value slowest */
			r = id - s->nproduct;
			ref = r / nother;
			r %= nother;
		}
		for (int a = AX_N - 1; a >= 0; a--) { /* last axis fastest */
			if (ref >= 0 && (a == AX_LEFT || a == AX_RIGHT)) {
				idx[a] = 0;
				continue;
			}
			idx[a] = r % p->ax[a].n;
			r /= p->ax[a].n;
		}
		fill_point(p, idx, ref, id, &s->points[id]);
		b = spec_point_archive_bytes(&s->points[id]);
		total += b;
		if (b > bmax) {
			bmax = b;
			big = id;
		}
	}
	if (total > ARCHIVE_LIMIT) {
		const spec_point_t *q = &s->points[big];
		fmt_bytes(total, tot, sizeof tot);
		return FAIL(&p->c, p->root_mark,
			    "the archive would need an estimated %s (limit 10 "
			    "TiB) for %d points; the largest point has L = "
			    "%d, %d measurement times%s",
			    tot, np, q->L, q->n_measure,
			    (q->measure & SPEC_M_RHO3) ? " and rho3" : "");
	}
	return check_ref_duplicates(p, s);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Thermal table k of section t as point `id` (spec_point_t: what its
 * fields mean for a table). */
static void fill_table(const spec_thermal_t *t, int k, int id,
		       spec_point_t *pt)
{
	char buf[1024];
	int len;

	memset(pt, 0, sizeof *pt);
	pt->id = id;
	pt->L = t->length;
	pt->J = 1;
	pt->delta_left = pt->delta_right = t->delta[k];
	pt->gamma_right = sp_nozero(acos(t->delta[k]));
	pt->state = SPEC_STATE_THERMAL;
	pt->dt = t->dtau;
	pt->order = t->order;
	pt->chi_max = t->chi_max;
	pt->cutoff = t->cutoff;
	pt->n_measure = t->nmu;
	pt->thermal = t;
	len = spec_point_canonical(pt, buf, sizeof buf);
	pt->hash = eu_fnv1a(EU_FNV_INIT, buf, len < 0 ? 0 : (size_t)len);
	snprintf(pt->hash_hex, sizeof pt->hash_hex, "%016" PRIx64, pt->hash);
}

/* The thermal section's anisotropies: sorted, merged within 1e-12 (cos(pi/2)
 * = 6e-17 and 0 are one table); by default every delta of the points.  Each
 * becomes a thermal table appended to the points, so the farm runs it like
 * any point; the limits on points, memory and archive size count them. */
static int finish_thermal(sp_parse_t *p, spec_t *s)
{
	spec_thermal_t *t = p->thermal;
	spec_point_t *pts;
	double *d, total = 0;
	char buf[32];
	int n = 0, m = 0, n0 = s->npoints;

	if (!t)
		return 0;
	if (!t->delta_given) {
		t->delta = malloc(2 * (size_t)s->npoints * sizeof *t->delta);
		if (!t->delta)
			return FAIL(&p->c, p->root_mark, "out of memory");
		for (int k = 0; k < s->npoints; k++) {
			t->delta[n++] = s->points[k].delta_left;
			t->delta[n++] = s->points[k].delta_right;
		}
		t->ndelta = n;
	}
	d = t->delta;
	qsort(d, (size_t)t->ndelta, sizeof *d, cmp_double);
	for (int k = 0; k < t->ndelta; k++)
		if (!m || d[k] - d[m - 1] > 1e-12)
			d[m++] = d[k];
	t->ndelta = m;
	s->thermal = t;
	p->thermal = NULL;

	if ((double)n0 + m > POINTS_LIMIT)
		return FAIL(&p->c, p->thermal_mark,
			    "the sweep has %d points and %d thermal tables, "
			    "more than the limit of %d together",
			    n0, m, POINTS_LIMIT);
	pts = realloc(s->points, ((size_t)n0 + (size_t)m) * sizeof *pts);
	if (!pts)
		return FAIL(&p->c, p->thermal_mark, "out of memory");
	s->points = pts;
	for (int k = 0; k < m; k++)
		fill_table(t, k, n0 + k, &pts[n0 + k]);
	s->npoints = n0 + m;
	s->ntables = m;
	if (m && spec_point_memory_bytes(&pts[n0]) > MEMORY_LIMIT) {
		fmt_bytes(spec_point_memory_bytes(&pts[n0]), buf, sizeof buf);
		return FAIL(&p->c, p->thermal_chi_mark,
			    "thermal.chi_max = %d with thermal.length = %d "
			    "needs an estimated %s of memory per imaginary-"
			    "time run (limit 1 TiB)",
			    t->chi_max, t->length, buf);
	}
	for (int k = 0; k < s->npoints; k++)
		total += spec_point_archive_bytes(&pts[k]);
	if (total > ARCHIVE_LIMIT) {
		fmt_bytes(total, buf, sizeof buf);
		return FAIL(&p->c, p->thermal_mark,
			    "the archive would need an estimated %s (limit 10 "
			    "TiB) with the %d thermal tables of %d x %d (beta "
			    "x mu) values each",
			    buf, m, t->nbeta, t->nmu);
	}
	return 0;
}

int spec_parse(spec_t **out, const char *name, const char *text, size_t len,
	       char *err)
{
	char errbuf[EU_ERRLEN];
	yaml_parser_t ps;
	yaml_document_t doc, doc2;
	int have_ps = 0, have_doc = 0, have_doc2 = 0, rc = -1;
	sp_parse_t p;
	spec_t *s = NULL;
	yaml_node_t *root;

	memset(&p, 0, sizeof p);
	p.c.fname = name ? name : "<spec>";
	p.c.err = err ? err : errbuf;
	p.c.err[0] = '\0';
	p.path[AX_L] = "chain.length";
	p.path[AX_J] = "chain.coupling";
	p.path[AX_LEFT] = "chain.left.delta";
	p.path[AX_RIGHT] = "chain.right.delta";
	p.path[AX_STATE] = "state";
	p.path[AX_DT] = "evolve.dt";
	p.path[AX_TMAX] = "evolve.t_max";
	p.path[AX_ORDER] = "evolve.order";
	p.path[AX_ME] = "evolve.measure_every";
	p.path[AX_CHI] = "truncate.chi_max";
	p.path[AX_CUTOFF] = "truncate.cutoff";
	if (!out || (!text && len)) {
		sp_fail_at(&p.c, 1, 1, "spec_parse: invalid arguments");
		goto out;
	}
	*out = NULL;
	if (!text)
		text = "";

	s = calloc(1, sizeof *s);
	if (!s || !(s->text = malloc(len + 1))) {
		sp_fail_at(&p.c, 1, 1, "out of memory");
		goto out;
	}
	memcpy(s->text, text, len);
	s->text[len] = '\0';
	s->hash = eu_fnv1a(EU_FNV_INIT, text, len);
	snprintf(s->hash_hex, sizeof s->hash_hex, "%016" PRIx64, s->hash);

	if (!yaml_parser_initialize(&ps)) {
		sp_fail_at(&p.c, 1, 1, "out of memory");
		goto out;
	}
	have_ps = 1;
	yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
	if (!yaml_parser_load(&ps, &doc)) {
		sp_syntax_error(&p.c, &ps, text, len);
		goto out;
	}
	have_doc = 1;
	p.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		sp_fail_at(&p.c, 1, 1,
			"empty spec: expected a mapping with the keys sweep, "
			"chain, state, evolve, truncate (and measure)");
		goto out;
	}
	/* a second document would be silently ignored: refuse it */
	if (!yaml_parser_load(&ps, &doc2)) {
		sp_syntax_error(&p.c, &ps, text, len);
		goto out;
	}
	have_doc2 = 1;
	if (yaml_document_get_root_node(&doc2)) {
		FAIL(&p.c, yaml_document_get_root_node(&doc2)->start_mark,
		     "a spec is one YAML document; found a second one");
		goto out;
	}
	p.root_mark = root->start_mark;
	if (sp_parse_root(&p, root) || check_cross(&p) || build_points(&p, s) ||
	    spec_refine_apply(s, p.doc, p.refine, p.c.fname, p.c.err) ||
	    finish_thermal(&p, s))
		goto out;
	s->name = p.name;
	p.name = NULL;
	*out = s;
	s = NULL;
	rc = 0;
out:
	for (int a = 0; a < AX_N; a++) {
		free(p.ax[a].v);
		free(p.ax[a].mark);
	}
	free(p.name);
	free(p.ref_delta);
	free(p.ref_gamma);
	free(p.ref_mark);
	sp_thermal_free(&p.thermal);
	if (have_doc2)
		yaml_document_delete(&doc2);
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_ps)
		yaml_parser_delete(&ps);
	spec_destroy(&s);
	return rc;
}

int spec_load(spec_t **out, const char *path, char *err)
{
	char errbuf[EU_ERRLEN];
	char *e = err ? err : errbuf;
	FILE *f = NULL;
	char *buf = NULL;
	long size;
	size_t got;
	int rc = -1;

	if (out)
		*out = NULL;
	if (!out || !path) {
		eu_err(e, "spec_load: invalid arguments");
		goto out;
	}
	f = fopen(path, "rb");
	if (!f) {
		eu_err(e, "%s: cannot open: %s", path,
		       strerror(errno));
		goto out;
	}
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		eu_err(e, "%s: cannot read: %s", path,
		       strerror(errno));
		goto out;
	}
	if (size > FILE_LIMIT) {
		eu_err(e, "%s: %ld bytes is too large for a spec (limit %ld)",
		       path, size, FILE_LIMIT);
		goto out;
	}
	buf = malloc((size_t)size + 1);
	if (!buf) {
		eu_err(e, "%s: out of memory", path);
		goto out;
	}
	got = fread(buf, 1, (size_t)size, f);
	if (got != (size_t)size || ferror(f)) {
		eu_err(e, "%s: cannot read: %s", path,
		       ferror(f) ? strerror(errno) : "short read");
		goto out;
	}
	rc = spec_parse(out, path, buf, got, e);
out:
	free(buf);
	if (f)
		fclose(f);
	return rc;
}

void spec_destroy(spec_t **s)
{
	if (!s || !*s)
		return;
	free((*s)->name);
	free((*s)->text);
	free((*s)->points);
	sp_thermal_free(&(*s)->thermal);
	free(*s);
	*s = NULL;
}

const char *spec_state_name(int state)
{
	if (state >= 0 && state < N_STATES)
		return sp_state_names[state];
	return state == SPEC_STATE_THERMAL ? "thermal_table" : "?";
}

/* "n,first,last,FNV" of a grid: the hash (FNV-1a 64 of the %.17g texts of
 * every value, comma-separated) makes two grids that differ anywhere two
 * texts, whatever the byte order of the machine. */
static int grid_canonical(const double *v, int n, char *buf, size_t len)
{
	char x[40];
	uint64_t h = EU_FNV_INIT;

	for (int k = 0; k < n; k++) {
		int l = snprintf(x, sizeof x, "%s%.17g", k ? "," : "", v[k]);
		h = eu_fnv1a(h, x, (size_t)l);
	}
	return snprintf(buf, len, "%d,%.17g,%.17g,%016" PRIx64, n, v[0],
			v[n - 1], h);
}

/* A thermal table: its parameters and both grids (J = 1 always, written
 * out so that the text says what the table is). */
static int table_canonical(const spec_point_t *p, char *buf, size_t len)
{
	const spec_thermal_t *t = p->thermal;
	char gb[128], gm[128];

	grid_canonical(t->betas, t->nbeta, gb, sizeof gb);
	grid_canonical(t->mus, t->nmu, gm, sizeof gm);
	return snprintf(buf, len,
			"kapitza-thermal-v1;N=%d;J=%.17g;delta=%.17g;"
			"chi_max=%d;cutoff=%.17g;dtau=%.17g;order=%d;beta=%s;"
			"mu=%s",
			p->L, p->J, p->delta_right, p->chi_max, p->cutoff,
			p->dt, p->order, gb, gm);
}

int spec_point_canonical(const spec_point_t *p, char *buf, size_t len)
{
	char meas[128];
	size_t off = 0;

	if (p->state == SPEC_STATE_THERMAL && p->thermal)
		return table_canonical(p, buf, len);

	meas[0] = '\0';
	for (int k = 0; k < N_MEASURES; k++)
		if (p->measure & (1u << k))
			off += (size_t)snprintf(meas + off, sizeof meas - off,
						"%s%s", off ? "," : "",
						sp_measure_names[k]);
	return snprintf(
		buf, len,
		"kapitza-point-v1;L=%d;J=%.17g;delta_left=%.17g;"
		"delta_right=%.17g;gamma_right=%.17g;state=%s;dt=%.17g;"
		"t_max=%.17g;measure_every=%.17g;order=%d;chi_max=%d;"
		"cutoff=%.17g;measure=%s;n_measure=%d;steps_per_measure=%d",
		p->L, p->J, p->delta_left, p->delta_right, p->gamma_right,
		p->state >= 0 && p->state < N_STATES ? sp_state_names[p->state]
						     : "?",
		p->dt, p->t_max, p->measure_every, p->order, p->chi_max,
		p->cutoff, meas, p->n_measure, p->steps_per_measure);
}
