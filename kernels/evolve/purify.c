/* purify: the purified thermal state of thermal.h by imaginary-time
 * evolution, and its centre rho3 (thermal.h describes the ensemble, the
 * layout of the purified MPS and the measurements; tables.c builds the
 * tables from it).
 *
 * Imaginary time.  |psi(beta)> = exp(-beta K/2)|psi(0)>, K = sum_n k_n, is
 * built from symmetric Trotter steps of exp(-tau K) (tau = dtau or less, of
 * the sign of beta) exactly as tebd.c builds exp(-i H dt): K = K_even +
 * K_odd over physical bonds, the imaginary-time scheme of trotter.h (Strang
 * or Omelyan-Mryglod-Folk 4th order), consecutive even half-layers merged.  A physical bond (j, j+1) lives on MPS
 * sites 2j and 2j+2 with the ancilla 2j+1 in between, so its gate is applied
 * as swap(2j+1, 2j+2), gate on (2j, 2j+1), swap back; gates of one layer
 * touch disjoint MPS sites 2j..2j+2.
 *
 * The field.  Sz_tot commutes with every h_n, so exp(-tau (H - mu Sz_tot)) =
 * exp(-tau H) exp(tau mu Sz_tot) exactly.  The even-bond layers of one step
 * have coefficients summing to 1 and, N being even, cover every physical site
 * exactly once; so the even-bond gates carry k_n = h_n - mu (Sz_n +
 * Sz_{n+1}) and the odd ones k_n = h_n.  Each even layer then equals
 * exp(-c tau H_even) exp(c tau mu Sz_tot), whose field factor commutes with
 * everything: the field adds no Trotter error and is uniform up to the
 * ends.
 *
 * Canonical form.  tebd_apply keeps the Vidal/Hastings form exact only for
 * unitary gates; with exp(-tau k) the right-orthonormality of the updated
 * left tensor is off by O(tau) until the next layer re-orthonormalises it.
 * The state B_0 ... B_{L-1} itself stays exact (up to truncation), so every
 * measurement here is a full contraction normalised by the trace, never the
 * canonical-form shortcut of mps_rho3.
 */
#include "purify.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "mps_impl.h"

/* ---- parameters -------------------------------------------------------- */

void thermal_params_default(thermal_params_t *p)
{
	p->J = 1.0;
	p->delta = 0.0;
	p->n_sites = 48;
	p->chi_max = 128;
	p->cutoff = 1e-10;
	p->dtau = 0.05;
	p->order = 4;
	p->threads = 1;
}

int purify_check_params(const thermal_params_t *p, char *err)
{
	if (!p)
		return kz_err(err, KZ_EINVAL, "thermal: NULL parameters");
	if (!isfinite(p->J) || p->J == 0)
		return kz_err(err, KZ_EINVAL,
			      "thermal: J=%g: expected a finite non-zero "
			      "number",
			      p->J);
	if (!isfinite(p->delta))
		return kz_err(err, KZ_EINVAL,
			      "thermal: delta=%g: expected a finite number",
			      p->delta);
	if (p->n_sites < 6 || p->n_sites % 2 || p->n_sites > 100000)
		return kz_err(err, KZ_EINVAL,
			      "thermal: n_sites=%d: expected an even number "
			      ">= 6",
			      p->n_sites);
	if (p->chi_max < 1)
		return kz_err(err, KZ_EINVAL,
			      "thermal: chi_max=%d: expected >= 1",
			      p->chi_max);
	if (!(p->cutoff >= 0) || !(p->cutoff < 1))
		return kz_err(err, KZ_EINVAL,
			      "thermal: cutoff=%g: expected 0 <= cutoff < 1",
			      p->cutoff);
	if (!(p->dtau > 0) || !(p->dtau <= 1))
		return kz_err(err, KZ_EINVAL,
			      "thermal: dtau=%g: expected 0 < dtau <= 1",
			      p->dtau);
	trotter_scheme_t sc;
	int rc = trotter_scheme_for_order(p->order, TROTTER_IMAGINARY, &sc,
					  "thermal", err);
	if (rc)
		return rc;
	if (p->threads < 1 || p->threads > 1024)
		return kz_err(err, KZ_EINVAL,
			      "thermal: threads=%d: expected 1..1024",
			      p->threads);
	return KZ_OK;
}

/* ---- gates (basis 2 s_i + s_{i+1}, column-major g[r + 4c]) ------------- */

/* beta = 0 pair: |10> -> (|10> + |01>)/sqrt2 (physical up with ancilla up,
 * plus both down, in the flipped ancilla labels).  Only the (|01>, |10>)
 * block is non-zero; tebd_apply renormalises. */
static void gate_pair(kz_cplx g[16])
{
	memset(g, 0, 16 * sizeof(kz_cplx));
	g[1 + 4 * 2] = g[2 + 4 * 2] = M_SQRT1_2;
	g[1 + 4 * 1] = g[2 + 4 * 1] = M_SQRT1_2;
}

static void gate_swap(kz_cplx g[16])
{
	memset(g, 0, 16 * sizeof(kz_cplx));
	g[0] = g[15] = 1;
	g[1 + 4 * 2] = g[2 + 4 * 1] = 1;
}

/* exp(-tau k), k = h - f (Sz_i + Sz_{i+1}), h = J (SxSx + SySy + D SzSz):
 * |00> has k = J D/4 + f, |11> has J D/4 - f, and on (|01>, |10>)
 * k = -J D/4 + (J/2) sigma_x, so exp(-tau k) = e^{tau J D/4}
 * (cosh(tau J/2) - sinh(tau J/2) sigma_x) there. */
static void gate_bond(kz_cplx g[16], double J, double D, double f,
		      double tau)
{
	memset(g, 0, 16 * sizeof(kz_cplx));
	g[0] = exp(-tau * (J * D / 4 + f));
	g[15] = exp(-tau * (J * D / 4 - f));
	double e = exp(tau * J * D / 4);
	g[1 + 4 * 1] = g[2 + 4 * 2] = e * cosh(tau * J / 2);
	g[1 + 4 * 2] = g[2 + 4 * 1] = -e * sinh(tau * J / 2);
}

/* ---- the purifier ------------------------------------------------------ */

void purify_free(purify_t *u)
{
	trotter_seq_free(&u->seq);
	tebd_destroy(&u->tebd);
	chain_destroy(&u->chain);
	mps_destroy(&u->m);
}

static int purify_apply(purify_t *u, int i, const kz_cplx g[16], char *err)
{
	double d = 0;
	int rc = tebd_apply(u->tebd, u->m, i, g, &d, err);
	u->disc += d;
	return rc;
}

/* The beta = 0 state: product of (|10> + |01>)/sqrt2 on MPS pairs. */
int purify_init(purify_t *u, const thermal_params_t *p, char *err)
{
	int rc = KZ_OK, N = p->n_sites, L = 2 * N;
	double *J = NULL, *D = NULL;
	int *up = NULL;
	memset(u, 0, sizeof *u);
	u->p = *p;
	trotter_scheme_for_order(p->order, TROTTER_IMAGINARY, &u->scheme,
				 "thermal", NULL);
	J = malloc((size_t)L * sizeof(double));
	D = malloc((size_t)L * sizeof(double));
	up = malloc((size_t)L * sizeof(int));
	if (!J || !D || !up) {
		rc = kz_err(err, KZ_ENOMEM, "thermal: out of memory");
		goto out;
	}
	for (int i = 0; i < L; i++) {
		J[i] = 1;
		D[i] = 0;
		up[i] = !(i % 2);
	}
	if ((rc = chain_create(&u->chain, L, J, D, err)))
		goto out;
	tebd_params_t tp;
	tebd_params_default(&tp);
	tp.dt = p->dtau; /* unused by tebd_apply */
	tp.chi_max = p->chi_max;
	tp.cutoff = p->cutoff;
	tp.threads = 1;
	if ((rc = tebd_create(&u->tebd, u->chain, &tp, err)))
		goto out;
	if ((rc = mps_create_product(&u->m, L, up, err)))
		goto out;
	kz_cplx g[16];
	gate_pair(g);
	for (int j = 0; j < N; j++)
		if ((rc = purify_apply(u, 2 * j, g, err)))
			goto out;
out:
	free(J);
	free(D);
	free(up);
	if (rc)
		purify_free(u);
	return rc;
}

/* One layer: exp(-tau k_j) on physical bonds j of parity par. */
static int purify_layer(purify_t *u, int par, double tau, double mu, char *err)
{
	kz_cplx g[16], sw[16];
	gate_swap(sw);
	gate_bond(g, u->p.J, u->p.delta, par ? 0.0 : mu, tau);
	int rc = KZ_OK;
	for (int j = par; j + 1 < u->p.n_sites; j += 2) {
		if ((rc = purify_apply(u, 2 * j + 1, sw, err)) ||
		    (rc = purify_apply(u, 2 * j, g, err)) ||
		    (rc = purify_apply(u, 2 * j + 1, sw, err)))
			return rc;
	}
	return rc;
}

/* From beta to beta + db (signed): |db|/2 of imaginary time in n equal
 * steps of at most dtau, the even half-layers of consecutive steps merged. */
int purify_evolve(purify_t *u, double db, double mu, char *err)
{
	double tau = fabs(db) / 2;
	if (tau == 0)
		return KZ_OK;
	int n = (int)ceil(tau / u->p.dtau * (1 - 1e-12));
	if (n < 1)
		n = 1;
	double step = (db / 2) / n;
	if (trotter_seq_build(&u->seq, u->scheme, n))
		return kz_err(err, KZ_ENOMEM, "thermal: out of memory");
	for (size_t l = 0; l < u->seq.n; l++) {
		int rc = purify_layer(u, u->seq.par[l], u->seq.coef[l] * step,
				      mu, err);
		if (rc)
			return rc;
	}
	return KZ_OK;
}

/* ---- measurements ------------------------------------------------------ */

int thermal_rho_sites(const mps_t *m, int n, const int *sites, kz_cplx *rho,
		      char *err)
{
	return mps_rho_sites(m, n, sites, rho, err);
}

int thermal_centre_rho3(const mps_t *m, kz_cplx rho[64], char *err)
{
	if (!m || !rho)
		return kz_err(err, KZ_EINVAL,
			      "thermal_centre_rho3: NULL argument");
	int N = m->L / 2;
	if (N < 6 || N % 2)
		return kz_err(err, KZ_EINVAL,
			      "thermal_centre_rho3: MPS of %d sites is not a "
			      "purified chain of even N >= 6",
			      m->L);
	int c = N / 2;
	int sites[3] = {2 * (c - 1), 2 * c, 2 * (c + 1)};
	return thermal_rho_sites(m, 3, sites, rho, err);
}

/* Scale the state to norm 1 (site 0 carries the norm). */
static int normalise(mps_t *m, char *err)
{
	double nrm;
	int rc = mps_norm(m, &nrm, err);
	if (rc)
		return rc;
	if (!isfinite(nrm) || !(nrm > 0))
		return kz_err(err, KZ_ENUM, "thermal: state has norm %g", nrm);
	for (size_t k = 0; k < m->site[0].size; k++)
		m->site[0].data[k] /= nrm;
	return KZ_OK;
}

int thermal_purify(mps_t **out, const thermal_params_t *p, double beta,
		   double mu, double *discarded, char *err)
{
	if (!out)
		return kz_err(err, KZ_EINVAL, "thermal_purify: NULL argument");
	*out = NULL;
	int rc = purify_check_params(p, err);
	if (rc)
		return rc;
	if (!isfinite(beta) || !isfinite(mu))
		return kz_err(err, KZ_EINVAL,
			      "thermal_purify: beta=%g, mu=%g: expected finite "
			      "numbers",
			      beta, mu);
	purify_t u;
	if ((rc = purify_init(&u, p, err)))
		return rc;
	if ((rc = purify_evolve(&u, beta, mu, err)) ||
	    (rc = normalise(u.m, err)))
		goto out;
	if (discarded)
		*discarded = u.disc;
	*out = u.m;
	u.m = NULL;
out:
	purify_free(&u);
	return rc;
}

