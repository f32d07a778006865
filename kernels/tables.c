/* tables: the thermal tables of thermal.h -- built from purification runs
 * (purify.h), or from data computed elsewhere -- and their interpolation
 * and inversion (beta from e at mu = 0; (beta, mu) from (e, s^z)). */
#include "thermal.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "obs.h"
#include "purify.h"

/* ---- building ---------------------------------------------------------- */

#define NV 2     /* e, sz per node */
#define NR 128   /* rho3 as 64 complex = 128 doubles per node */

struct thermal_table_s {
	thermal_params_t p;
	int nb, nm;
	double *beta, *mu;  /* [nb], [nm] */
	double *eos;        /* [NV * node], node = i + nb j */
	double *deos;       /* d/dbeta at the nodes */
	double *e, *sz;     /* [node], the same values for the accessors */
	kz_cplx *rho;       /* [64 * node] or NULL */
	kz_cplx *drho;
	int *mono;          /* [nm]: e strictly -1 decreasing, +1 increasing,
			     * 0 neither */
	int mu0;            /* row with mu = 0, or -1 */
	double *disc_mu;    /* [nm]: discarded weight of the two runs of each
			     * mu row */
};

static int check_grid(const double *x, int n, int nmin, const char *what,
		      char *err)
{
	if (!x || n < nmin)
		return kz_err(err, KZ_EINVAL,
			      "thermal: %d %s values: expected >= %d", n, what,
			      nmin);
	for (int i = 0; i < n; i++) {
		if (!isfinite(x[i]))
			return kz_err(err, KZ_EINVAL,
				      "thermal: %s[%d] = %g is not finite",
				      what, i, x[i]);
		if (i && !(x[i] > x[i - 1]))
			return kz_err(err, KZ_EINVAL,
				      "thermal: %s must increase strictly "
				      "(%s[%d] = %g after %g)",
				      what, what, i, x[i], x[i - 1]);
	}
	return KZ_OK;
}

static int table_alloc(thermal_table_t **out, const thermal_params_t *p,
		       const double *betas, int nb, const double *mus, int nm,
		       int with_rho, char *err)
{
	thermal_table_t *t = calloc(1, sizeof *t);
	if (!t)
		return kz_err(err, KZ_ENOMEM, "thermal: out of memory");
	if (p)
		t->p = *p;
	else
		thermal_params_default(&t->p);
	t->nb = nb;
	t->nm = nm;
	size_t nn = (size_t)nb * nm;
	t->beta = malloc((size_t)nb * sizeof(double));
	t->mu = malloc((size_t)nm * sizeof(double));
	t->eos = calloc(NV * nn, sizeof(double));
	t->deos = calloc(NV * nn, sizeof(double));
	t->e = calloc(nn, sizeof(double));
	t->sz = calloc(nn, sizeof(double));
	t->mono = calloc((size_t)nm, sizeof(int));
	t->disc_mu = calloc((size_t)nm, sizeof(double));
	if (with_rho) {
		t->rho = calloc(64 * nn, sizeof(kz_cplx));
		t->drho = calloc(64 * nn, sizeof(kz_cplx));
	}
	if (!t->beta || !t->mu || !t->eos || !t->deos || !t->e || !t->sz ||
	    !t->mono || !t->disc_mu ||
	    (with_rho && (!t->rho || !t->drho))) {
		thermal_table_destroy(&t);
		return kz_err(err, KZ_ENOMEM, "thermal: out of memory");
	}
	memcpy(t->beta, betas, (size_t)nb * sizeof(double));
	memcpy(t->mu, mus, (size_t)nm * sizeof(double));
	t->mu0 = -1;
	for (int j = 0; j < nm; j++)
		if (mus[j] == 0)
			t->mu0 = j;
	*out = t;
	return KZ_OK;
}

void thermal_table_destroy(thermal_table_t **pt)
{
	if (!pt || !*pt)
		return;
	thermal_table_t *t = *pt;
	free(t->beta);
	free(t->mu);
	free(t->eos);
	free(t->deos);
	free(t->e);
	free(t->sz);
	free(t->rho);
	free(t->drho);
	free(t->mono);
	free(t->disc_mu);
	free(t);
	*pt = NULL;
}

/* Slope weights at node i of x[0..n-1]: the derivative at x_i of the
 * Lagrange polynomial through the min(n, 5) nodes x[*start ..] nearest i
 * (centred where the grid allows), sum_m w[m] f[*start + m].
 *   L_p'(x_i) = prod_{r != p,i} (x_i - x_r) / prod_{r != p} (x_p - x_r),
 *   L_i'(x_i) = sum_{r != i} 1 / (x_i - x_r).  Returns the node count. */
static int fd_weights(const double *x, int n, int i, int *start, double w[5])
{
	int m = n < 5 ? n : 5;
	int s = i - m / 2;
	if (s < 0)
		s = 0;
	if (s > n - m)
		s = n - m;
	*start = s;
	for (int p = 0; p < m; p++) {
		int P = s + p;
		if (P == i) {
			double v = 0;
			for (int r = s; r < s + m; r++)
				if (r != i)
					v += 1 / (x[i] - x[r]);
			w[p] = v;
			continue;
		}
		double num = 1, den = 1;
		for (int r = s; r < s + m; r++) {
			if (r != P)
				den *= x[P] - x[r];
			if (r != P && r != i)
				num *= x[i] - x[r];
		}
		w[p] = num / den;
	}
	return m;
}

/* Node slopes along beta of nval values per node (f[nval * node + v]). */
static void beta_slopes(const thermal_table_t *t, int nval, const double *f,
			double *d)
{
	double w[5];
	int s;
	for (int j = 0; j < t->nm; j++)
		for (int i = 0; i < t->nb; i++) {
			int m = fd_weights(t->beta, t->nb, i, &s, w);
			size_t node = (size_t)i + (size_t)t->nb * j;
			for (int v = 0; v < nval; v++) {
				double a = 0;
				for (int k = 0; k < m; k++)
					a += w[k] *
					     f[(size_t)nval *
						       ((size_t)(s + k) +
							(size_t)t->nb * j) +
					       v];
				d[(size_t)nval * node + v] = a;
			}
		}
}

/* Fritsch-Carlson limiting of e's slopes on rows where e is strictly
 * monotone [F. N. Fritsch, R. E. Carlson, SIAM J. Numer. Anal. 17, 238
 * (1980)]: slopes of the wrong sign become 0, and on each interval
 * (alpha, beta) = (d_k, d_{k+1}) / secant is pulled into the circle of
 * radius 3, which makes each cubic piece monotone.  Smooth, well-sampled
 * data are left untouched. */
static void limit_energy(thermal_table_t *t)
{
	for (int j = 0; j < t->nm; j++) {
		const double *e = t->eos + (size_t)NV * t->nb * j;
		double *d = t->deos + (size_t)NV * t->nb * j;
		int sgn = 0;
		for (int i = 0; i + 1 < t->nb; i++) {
			double de = e[NV * (i + 1)] - e[NV * i];
			int si = de > 0 ? 1 : (de < 0 ? -1 : 0);
			if (!i)
				sgn = si;
			if (si == 0 || si != sgn) {
				sgn = 0;
				break;
			}
		}
		t->mono[j] = sgn;
		if (!sgn)
			continue;
		for (int i = 0; i + 1 < t->nb; i++) {
			double h = t->beta[i + 1] - t->beta[i];
			double sec = (e[NV * (i + 1)] - e[NV * i]) / h;
			double a = d[NV * i] / sec, b = d[NV * (i + 1)] / sec;
			if (a < 0)
				a = 0;
			if (b < 0)
				b = 0;
			double r2 = a * a + b * b;
			if (r2 > 9) {
				double tau = 3 / sqrt(r2);
				a *= tau;
				b *= tau;
			}
			d[NV * i] = a * sec;
			d[NV * (i + 1)] = b * sec;
		}
	}
}

static void table_finish(thermal_table_t *t)
{
	for (size_t n = 0; n < (size_t)t->nb * t->nm; n++) {
		t->e[n] = t->eos[NV * n];
		t->sz[n] = t->eos[NV * n + 1];
	}
	beta_slopes(t, NV, t->eos, t->deos);
	if (t->rho)
		beta_slopes(t, NR, (const double *)t->rho, (double *)t->drho);
	limit_energy(t);
}

/* One run: row j, direction dir = +1 (beta >= 0, from 0 up) or -1 (beta < 0,
 * from 0 down). */
static int table_run(thermal_table_t *t, int j, int dir, double *disc,
		     char *err)
{
	int i0, i1, di; /* node range in the order visited */
	if (dir > 0) {
		for (i0 = 0; i0 < t->nb && t->beta[i0] < 0; i0++)
			;
		i1 = t->nb;
		di = 1;
	} else {
		for (i0 = t->nb - 1; i0 >= 0 && t->beta[i0] >= 0; i0--)
			;
		i1 = -1;
		di = -1;
	}
	*disc = 0;
	if (i0 == i1 || i0 < 0 || i0 >= t->nb)
		return KZ_OK;
	purify_t u;
	int rc = purify_init(&u, &t->p, err);
	if (rc)
		return rc;
	double cur = 0, mu = t->mu[j];
	for (int i = i0; i != i1; i += di) {
		size_t node = (size_t)i + (size_t)t->nb * j;
		kz_cplx *rho = t->rho + 64 * node;
		if ((rc = purify_evolve(&u, t->beta[i] - cur, mu, err)) ||
		    (rc = thermal_centre_rho3(u.m, rho, err)))
			goto out;
		cur = t->beta[i];
		/* site-centred energy (thermal.h: cancels the open chain's
		 * bond alternation) */
		double J = t->p.J, D = t->p.delta;
		t->eos[NV * node] = 0.5 * (obs_rho3_bond_energy(rho, 0, J, D) +
					   obs_rho3_bond_energy(rho, 1, J, D));
		t->eos[NV * node + 1] = obs_rho3_sz(rho, 1);
	}
out:
	*disc = u.disc;
	purify_free(&u);
	return rc;
}

int thermal_table_create(thermal_table_t **out, const thermal_params_t *p,
			 const double *betas, int nbeta, const double *mus,
			 int nmu, char *err)
{
	if (!out)
		return kz_err(err, KZ_EINVAL,
			      "thermal_table_create: NULL table");
	*out = NULL;
	int rc;
	if ((rc = purify_check_params(p, err)) ||
	    (rc = check_grid(betas, nbeta, 2, "beta", err)) ||
	    (rc = check_grid(mus, nmu, 1, "mu", err)))
		return rc;
	thermal_table_t *t = NULL;
	int nrun = 2 * nmu, *rcs = NULL;
	char *errs = NULL;
	double *disc = NULL;
	if ((rc = table_alloc(&t, p, betas, nbeta, mus, nmu, 1, err)))
		return rc;
	rcs = calloc((size_t)nrun, sizeof(int));
	errs = calloc((size_t)nrun, KZ_ERRLEN);
	disc = calloc((size_t)nrun, sizeof(double));
	if (!rcs || !errs || !disc) {
		rc = kz_err(err, KZ_ENOMEM, "thermal: out of memory");
		goto out;
	}
	/* runs write disjoint nodes; BLAS stays single-threaded inside
	 * (tebd_apply switches it per call, which is only race-free if it is
	 * already 1 everywhere) */
	int prev = openblas_get_num_threads();
	if (p->threads > 1)
		openblas_set_num_threads(1);
#pragma omp parallel for num_threads(p->threads) schedule(dynamic, 1)
	for (int r = 0; r < nrun; r++)
		rcs[r] = table_run(t, r / 2, r % 2 ? -1 : 1, &disc[r],
				   errs + (size_t)r * KZ_ERRLEN);
	if (p->threads > 1)
		openblas_set_num_threads(prev);
	for (int r = 0; r < nrun; r++) {
		t->disc_mu[r / 2] += disc[r];
		if (rcs[r] && !rc)
			rc = kz_err(err, rcs[r],
				    "thermal: mu=%g, beta %s 0: %s", mus[r / 2],
				    r % 2 ? "<" : ">=",
				    errs + (size_t)r * KZ_ERRLEN);
	}
	if (rc)
		goto out;
	table_finish(t);
out:
	free(rcs);
	free(errs);
	free(disc);
	if (rc)
		thermal_table_destroy(&t);
	*out = t;
	return rc;
}

int thermal_table_create_from(thermal_table_t **out, const thermal_params_t *p,
			      const double *betas, int nbeta,
			      const double *mus, int nmu, const double *e,
			      const double *sz, const kz_cplx *rho, char *err)
{
	if (!out)
		return kz_err(err, KZ_EINVAL,
			      "thermal_table_create_from: NULL table");
	*out = NULL;
	int rc;
	if ((p && (rc = purify_check_params(p, err))) ||
	    (rc = check_grid(betas, nbeta, 2, "beta", err)) ||
	    (rc = check_grid(mus, nmu, 1, "mu", err)))
		return rc;
	if (!e || !sz)
		return kz_err(err, KZ_EINVAL,
			      "thermal_table_create_from: NULL e or sz");
	size_t nn = (size_t)nbeta * nmu;
	for (size_t k = 0; k < nn; k++)
		if (!isfinite(e[k]) || !isfinite(sz[k]))
			return kz_err(err, KZ_EINVAL,
				      "thermal_table_create_from: e or sz at "
				      "node %zu is not finite",
				      k);
	for (size_t k = 0; rho && k < 64 * nn; k++)
		if (!isfinite(creal(rho[k])) || !isfinite(cimag(rho[k])))
			return kz_err(err, KZ_EINVAL,
				      "thermal_table_create_from: rho at node "
				      "%zu is not finite",
				      k / 64);
	thermal_table_t *t = NULL;
	if ((rc = table_alloc(&t, p, betas, nbeta, mus, nmu, rho != NULL,
			      err)))
		return rc;
	for (size_t k = 0; k < nn; k++) {
		t->eos[NV * k] = e[k];
		t->eos[NV * k + 1] = sz[k];
	}
	if (rho)
		memcpy(t->rho, rho, 64 * nn * sizeof(kz_cplx));
	table_finish(t);
	*out = t;
	return KZ_OK;
}

int thermal_table_nbeta(const thermal_table_t *t) { return t ? t->nb : 0; }
int thermal_table_nmu(const thermal_table_t *t) { return t ? t->nm : 0; }
const double *thermal_table_betas(const thermal_table_t *t)
{
	return t ? t->beta : NULL;
}
const double *thermal_table_mus(const thermal_table_t *t)
{
	return t ? t->mu : NULL;
}
const thermal_params_t *thermal_table_params(const thermal_table_t *t)
{
	return t ? &t->p : NULL;
}
const kz_cplx *thermal_table_rho3(const thermal_table_t *t)
{
	return t ? t->rho : NULL;
}
double thermal_table_discarded(const thermal_table_t *t)
{
	double d = 0;
	for (int j = 0; t && j < t->nm; j++)
		d += t->disc_mu[j];
	return d;
}
const double *thermal_table_discarded_mu(const thermal_table_t *t)
{
	return t ? t->disc_mu : NULL;
}

const double *thermal_table_energy(const thermal_table_t *t)
{
	return t ? t->e : NULL;
}
const double *thermal_table_sz(const thermal_table_t *t)
{
	return t ? t->sz : NULL;
}

/* ---- interpolation ----------------------------------------------------- */

/* k with x[k] <= v <= x[k+1], or -1 outside [x[0], x[n-1]] (n >= 2). */
static int locate(const double *x, int n, double v)
{
	if (!(v >= x[0]) || !(v <= x[n - 1]))
		return -1;
	int lo = 0, hi = n - 1;
	while (hi - lo > 1) {
		int mid = (lo + hi) / 2;
		if (x[mid] <= v)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* cubic Hermite basis on t in [0, 1] and its t-derivative */
static void hermite(double t, double h[4], double dh[4])
{
	double t2 = t * t, t3 = t2 * t;
	h[0] = 2 * t3 - 3 * t2 + 1;
	h[1] = t3 - 2 * t2 + t;
	h[2] = -2 * t3 + 3 * t2;
	h[3] = t3 - t2;
	dh[0] = 6 * t2 - 6 * t;
	dh[1] = 3 * t2 - 4 * t + 1;
	dh[2] = -6 * t2 + 6 * t;
	dh[3] = 3 * t2 - 2 * t;
}

#define MAXROWS 12

/* Weights of the mu rows: value(mu) = sum_r c[r] v_{j0 + r}, d/dmu =
 * sum_r dc[r] v_{j0 + r}, where v_j are the row values at the same beta. */
static int mu_weights(const thermal_table_t *t, double mu, int *j0, int *nr,
		      double c[MAXROWS], double dc[MAXROWS], char *err)
{
	memset(c, 0, MAXROWS * sizeof(double));
	memset(dc, 0, MAXROWS * sizeof(double));
	if (t->nm == 1) {
		if (!(fabs(mu - t->mu[0]) <= 1e-12 * fmax(1, fabs(t->mu[0]))))
			return kz_err(err, KZ_EINVAL,
				      "thermal: mu=%g: the table holds only "
				      "mu=%g",
				      mu, t->mu[0]);
		*j0 = 0;
		*nr = 1;
		c[0] = 1;
		return KZ_OK;
	}
	int l = locate(t->mu, t->nm, mu);
	if (l < 0)
		return kz_err(err, KZ_EINVAL,
			      "thermal: mu=%g outside the table [%g, %g]", mu,
			      t->mu[0], t->mu[t->nm - 1]);
	double hm = t->mu[l + 1] - t->mu[l], h[4], dh[4], wl[5], wr[5];
	hermite((mu - t->mu[l]) / hm, h, dh);
	int sl, sr;
	int ml = fd_weights(t->mu, t->nm, l, &sl, wl);
	int mr = fd_weights(t->mu, t->nm, l + 1, &sr, wr);
	int lo = sl < l ? sl : l;
	int hi = sr + mr - 1 > l + 1 ? sr + mr - 1 : l + 1;
	*j0 = lo;
	*nr = hi - lo + 1;
	c[l - lo] += h[0];
	c[l + 1 - lo] += h[2];
	dc[l - lo] += dh[0] / hm;
	dc[l + 1 - lo] += dh[2] / hm;
	for (int m = 0; m < ml; m++) {
		c[sl + m - lo] += hm * h[1] * wl[m];
		dc[sl + m - lo] += dh[1] * wl[m];
	}
	for (int m = 0; m < mr; m++) {
		c[sr + m - lo] += hm * h[3] * wr[m];
		dc[sr + m - lo] += dh[3] * wr[m];
	}
	return KZ_OK;
}

/* Interpolate nval values per node (f, slopes d) at (beta, mu): out, and
 * (may be NULL) d/dbeta and d/dmu. */
static int interp(const thermal_table_t *t, double beta, double mu, int nval,
		  const double *f, const double *d, double *out, double *ob,
		  double *om, char *err)
{
	int k = locate(t->beta, t->nb, beta);
	if (k < 0)
		return kz_err(err, KZ_EINVAL,
			      "thermal: beta=%g outside the table [%g, %g]",
			      beta, t->beta[0], t->beta[t->nb - 1]);
	int j0, nr;
	double c[MAXROWS], dc[MAXROWS];
	int rc = mu_weights(t, mu, &j0, &nr, c, dc, err);
	if (rc)
		return rc;
	double hb = t->beta[k + 1] - t->beta[k], h[4], dh[4];
	hermite((beta - t->beta[k]) / hb, h, dh);
	for (int v = 0; v < nval; v++) {
		out[v] = 0;
		if (ob)
			ob[v] = 0;
		if (om)
			om[v] = 0;
	}
	for (int r = 0; r < nr; r++) {
		size_t n0 = (size_t)nval *
			    ((size_t)k + (size_t)t->nb * (size_t)(j0 + r));
		size_t n1 = n0 + (size_t)nval;
		for (int v = 0; v < nval; v++) {
			double row = h[0] * f[n0 + v] + h[1] * hb * d[n0 + v] +
				     h[2] * f[n1 + v] + h[3] * hb * d[n1 + v];
			double drow = (dh[0] * f[n0 + v] + dh[2] * f[n1 + v]) /
					      hb +
				      dh[1] * d[n0 + v] + dh[3] * d[n1 + v];
			out[v] += c[r] * row;
			if (ob)
				ob[v] += c[r] * drow;
			if (om)
				om[v] += dc[r] * row;
		}
	}
	return KZ_OK;
}

int thermal_eos_at(const thermal_table_t *t, double beta, double mu,
		   double *e, double *sz, char *err)
{
	if (!t)
		return kz_err(err, KZ_EINVAL, "thermal_eos_at: NULL table");
	double v[NV];
	int rc = interp(t, beta, mu, NV, t->eos, t->deos, v, NULL, NULL, err);
	if (rc)
		return rc;
	if (e)
		*e = v[0];
	if (sz)
		*sz = v[1];
	return KZ_OK;
}

int thermal_rho3_at(const thermal_table_t *t, double beta, double mu,
		    kz_cplx rho[64], char *err)
{
	if (!t || !rho)
		return kz_err(err, KZ_EINVAL, "thermal_rho3_at: NULL argument");
	if (!t->rho)
		return kz_err(err, KZ_EINVAL,
			      "thermal_rho3_at: the table holds no rho3");
	double v[NR];
	int rc = interp(t, beta, mu, NR, (const double *)t->rho,
			(const double *)t->drho, v, NULL, NULL, err);
	if (rc)
		return rc;
	/* the weights are real, so this is Hermitian up to rounding; make it
	 * exactly so */
	for (int a = 0; a < 8; a++)
		for (int b = 0; b < 8; b++) {
			const double *x = v + 2 * (a + 8 * b);
			const double *y = v + 2 * (b + 8 * a);
			rho[a + 8 * b] =
				0.5 * ((x[0] + y[0]) + I * (x[1] - y[1]));
		}
	return KZ_OK;
}

/* e on row j (a node row, so the mu interpolation is exact there) */
static double row_energy(const thermal_table_t *t, int j, int k, double u)
{
	double h[4], dh[4], hb = t->beta[k + 1] - t->beta[k];
	hermite(u, h, dh);
	size_t n0 = (size_t)NV * ((size_t)k + (size_t)t->nb * j);
	size_t n1 = n0 + NV;
	return h[0] * t->eos[n0] + h[1] * hb * t->deos[n0] +
	       h[2] * t->eos[n1] + h[3] * hb * t->deos[n1];
}

int thermal_beta_from_energy(const thermal_table_t *t, double e,
			     double *beta, char *err)
{
	if (!t || !beta)
		return kz_err(err, KZ_EINVAL,
			      "thermal_beta_from_energy: NULL argument");
	if (!isfinite(e))
		return kz_err(err, KZ_EINVAL,
			      "thermal_beta_from_energy: e=%g is not finite",
			      e);
	int j = t->mu0;
	if (j < 0)
		return kz_err(err, KZ_EINVAL,
			      "thermal_beta_from_energy: the table has no "
			      "mu = 0 row");
	if (t->mono[j] != -1)
		return kz_err(err, KZ_ENUM,
			      "thermal_beta_from_energy: e(beta) at mu = 0 is "
			      "not strictly decreasing on the table");
	const double *E = t->eos + (size_t)NV * t->nb * j;
	double emax = E[0], emin = E[NV * (t->nb - 1)];
	/* a value computed as an edge (e.g. a + (b - a)) may land a rounding
	 * step outside it: within THERMAL_EDGE_ULPS ulps it is the edge */
	double tol = THERMAL_EDGE_ULPS * DBL_EPSILON * fmax(fabs(emax), fabs(emin));
	if (e > emax && e <= emax + tol)
		e = emax;
	if (e < emin && e >= emin - tol)
		e = emin;
	if (!(e <= emax && e >= emin))
		return kz_err(err, KZ_EINVAL,
			      "thermal_beta_from_energy: e=%.10g outside the "
			      "table's range [%.10g, %.10g] (beta in [%g, %g])",
			      e, emin, emax, t->beta[0], t->beta[t->nb - 1]);
	/* the interval, then bisection on its monotone cubic */
	int k = 0;
	while (k + 2 < t->nb && E[NV * (k + 1)] > e)
		k++;
	double lo = 0, hi = 1;
	for (int it = 0; it < 200 && hi - lo > 1e-17; it++) {
		double mid = 0.5 * (lo + hi);
		if (row_energy(t, j, k, mid) > e)
			lo = mid;
		else
			hi = mid;
	}
	double u = fabs(row_energy(t, j, k, lo) - e) <
				   fabs(row_energy(t, j, k, hi) - e)
			   ? lo
			   : hi;
	*beta = t->beta[k] + u * (t->beta[k + 1] - t->beta[k]);
	return KZ_OK;
}

/* residual and Jacobian of (e, sz) - target at x = (beta, mu) */
static int newton_eval(const thermal_table_t *t, const double x[2],
		       const double tgt[2], double F[2], double Jm[4])
{
	double v[NV], vb[NV], vm[NV];
	int rc = interp(t, x[0], x[1], NV, t->eos, t->deos, v, vb, vm, NULL);
	if (rc)
		return rc;
	F[0] = v[0] - tgt[0];
	F[1] = v[1] - tgt[1];
	if (Jm) {
		Jm[0] = vb[0]; /* de/dbeta */
		Jm[1] = vm[0]; /* de/dmu */
		Jm[2] = vb[1];
		Jm[3] = vm[1];
	}
	return KZ_OK;
}

/* Damped Newton from x; 0 on convergence. */
static int newton(const thermal_table_t *t, double x[2], const double tgt[2],
		  const double scale[2])
{
	const double bl[2] = {t->beta[0], t->mu[0]};
	const double bh[2] = {t->beta[t->nb - 1], t->mu[t->nm - 1]};
	double F[2], Jm[4];
	if (newton_eval(t, x, tgt, F, Jm))
		return -1;
	for (int it = 0; it < 100; it++) {
		double r = fmax(fabs(F[0]) / scale[0], fabs(F[1]) / scale[1]);
		if (r < 1e-13)
			return 0;
		double det = Jm[0] * Jm[3] - Jm[1] * Jm[2];
		if (!isfinite(det) || det == 0)
			return -1;
		double dx[2] = {-(Jm[3] * F[0] - Jm[1] * F[1]) / det,
				-(-Jm[2] * F[0] + Jm[0] * F[1]) / det};
		double lam = 1, xn[2], Fn[2], Jn[4];
		int ok = 0;
		for (int ls = 0; ls < 50; ls++, lam /= 2) {
			for (int c = 0; c < 2; c++)
				xn[c] = fmin(fmax(x[c] + lam * dx[c], bl[c]),
					     bh[c]);
			if (newton_eval(t, xn, tgt, Fn, Jn))
				continue;
			double rn = fmax(fabs(Fn[0]) / scale[0],
					 fabs(Fn[1]) / scale[1]);
			if (rn < r) {
				ok = 1;
				break;
			}
		}
		if (!ok)
			return r < 1e-10 ? 0 : -1; /* stagnation at rounding */
		memcpy(x, xn, sizeof xn);
		memcpy(F, Fn, sizeof Fn);
		memcpy(Jm, Jn, sizeof Jn);
	}
	return fmax(fabs(F[0]) / scale[0], fabs(F[1]) / scale[1]) < 1e-10 ? 0
									 : -1;
}

#define NSTART 6

int thermal_beta_mu_from(const thermal_table_t *t, double e, double sz,
			 double *beta, double *mu, char *err)
{
	if (!t || !beta || !mu)
		return kz_err(err, KZ_EINVAL,
			      "thermal_beta_mu_from: NULL argument");
	if (!isfinite(e) || !isfinite(sz))
		return kz_err(err, KZ_EINVAL,
			      "thermal_beta_mu_from: e=%g, sz=%g: expected "
			      "finite numbers",
			      e, sz);
	if (t->nm < 2)
		return kz_err(err, KZ_EINVAL,
			      "thermal_beta_mu_from: the table has %d mu "
			      "value(s): expected >= 2",
			      t->nm);
	size_t nn = (size_t)t->nb * t->nm;
	double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
	for (size_t n = 0; n < nn; n++)
		for (int c = 0; c < 2; c++) {
			lo[c] = fmin(lo[c], t->eos[NV * n + c]);
			hi[c] = fmax(hi[c], t->eos[NV * n + c]);
		}
	double scale[2] = {fmax(hi[0] - lo[0], 1e-300),
			   fmax(hi[1] - lo[1], 1e-300)};
	const double tgt[2] = {e, sz};
	/* starting points: the NSTART nodes closest in scaled (e, sz), off
	 * beta = 0 where the mu direction degenerates */
	size_t best[NSTART];
	double bd[NSTART];
	int nbest = 0;
	for (size_t n = 0; n < nn; n++) {
		if (t->beta[n % t->nb] == 0)
			continue;
		double de = (t->eos[NV * n] - e) / scale[0];
		double ds = (t->eos[NV * n + 1] - sz) / scale[1];
		double dd = de * de + ds * ds;
		int pos;
		if (nbest < NSTART)
			pos = nbest++;
		else if (dd < bd[NSTART - 1])
			pos = NSTART - 1;
		else
			continue;
		while (pos > 0 && bd[pos - 1] > dd) {
			bd[pos] = bd[pos - 1];
			best[pos] = best[pos - 1];
			pos--;
		}
		bd[pos] = dd;
		best[pos] = n;
	}
	for (int s = 0; s < nbest; s++) {
		double x[2] = {t->beta[best[s] % t->nb],
			       t->mu[best[s] / t->nb]};
		if (!newton(t, x, tgt, scale)) {
			/* s^z ~ beta mu / 4: mu's error grows like 1/beta
			 * and is unbounded at beta = 0 */
			double bs = fmax(fabs(t->beta[0]),
					 fabs(t->beta[t->nb - 1]));
			if (fabs(x[0]) < 1e-8 * bs)
				return kz_err(err, KZ_EINVAL,
					      "thermal_beta_mu_from: (e, sz) "
					      "= (%.10g, %.10g) is the beta = "
					      "0 state, where mu is "
					      "undetermined",
					      e, sz);
			*beta = x[0];
			*mu = x[1];
			return KZ_OK;
		}
	}
	return kz_err(err, KZ_EINVAL,
		      "thermal_beta_mu_from: (e, sz) = (%.10g, %.10g) is not "
		      "reached on the table (beta in [%g, %g], mu in "
		      "[%g, %g]); or beta = 0, where mu is undetermined",
		      e, sz, t->beta[0], t->beta[t->nb - 1], t->mu[0],
		      t->mu[t->nm - 1]);
}
