/* obs: the paper's observables on an MPS, every local one from three-site
 * reduced density matrices (conventions in obs.h; the identities behind the
 * signs are checked numerically in tests/kernels/test_tebd.c). */
#include "obs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int obs_create(obs_t **out, int L, char *err)
{
	*out = NULL;
	if (L < 4 || L % 2)
		return kz_err(err, KZ_EINVAL,
			      "obs: length L=%d: expected an even number >= 4",
			      L);
	obs_t *o = calloc(1, sizeof *o);
	if (!o)
		return kz_err(err, KZ_ENOMEM, "obs: out of memory");
	o->L = L;
	o->sz = calloc((size_t)L, sizeof(double));
	o->energy = calloc((size_t)L, sizeof(double));
	o->spin_current = calloc((size_t)L, sizeof(double));
	o->energy_flow = calloc((size_t)L, sizeof(double));
	o->energy_current = calloc((size_t)L, sizeof(double));
	o->entropy = calloc((size_t)L, sizeof(double));
	o->bond_dim = calloc((size_t)L, sizeof(int));
	if (!o->sz || !o->energy || !o->spin_current || !o->energy_flow ||
	    !o->energy_current || !o->entropy || !o->bond_dim) {
		obs_destroy(&o);
		return kz_err(err, KZ_ENOMEM, "obs: out of memory");
	}
	*out = o;
	return KZ_OK;
}

void obs_destroy(obs_t **po)
{
	if (!po || !*po)
		return;
	obs_t *o = *po;
	free(o->sz);
	free(o->energy);
	free(o->spin_current);
	free(o->energy_flow);
	free(o->energy_current);
	free(o->entropy);
	free(o->bond_dim);
	free(o);
	*po = NULL;
}

/* bit of site k (0,1,2) in the three-site basis index a = 4 s0 + 2 s1 + s2 */
static int bit(int a, int k) { return (a >> (2 - k)) & 1; }

/* Tr(rho O) for a two-site operator o (4x4, o[r + 4c], basis 2 s_k +
 * s_{k+1}) on sites k, k+1 of the three. */
static kz_cplx expect2(const kz_cplx rho[64], int k, const kz_cplx o[16])
{
	int other = k == 0 ? 2 : 0;
	kz_cplx v = 0;
	for (int a = 0; a < 8; a++)
		for (int b = 0; b < 8; b++) {
			if (bit(a, other) != bit(b, other))
				continue;
			int pa = 2 * bit(a, k) + bit(a, k + 1);
			int pb = 2 * bit(b, k) + bit(b, k + 1);
			/* Tr(rho O) = sum_ab rho_ab O_ba */
			v += rho[a + 8 * b] * o[pb + 4 * pa];
		}
	return v;
}

double obs_rho3_sz(const kz_cplx rho[64], int k)
{
	double v = 0;
	for (int a = 0; a < 8; a++)
		v += creal(rho[a + 8 * a]) * (bit(a, k) - 0.5);
	return v;
}

static void bond_op(double J, double D, kz_cplx o[16])
{
	memset(o, 0, 16 * sizeof(kz_cplx));
	o[0] = o[15] = J * D / 4;
	o[5] = o[10] = -J * D / 4;
	o[1 + 4 * 2] = o[2 + 4 * 1] = J / 2;
}

double obs_rho3_bond_energy(const kz_cplx rho[64], int k, double J,
			    double Delta)
{
	kz_cplx o[16];
	bond_op(J, Delta, o);
	return creal(expect2(rho, k, o));
}

double obs_rho3_spin_current(const kz_cplx rho[64], int k, double J)
{
	/* J (Sx Sy' - Sy Sx') = (i J / 2)(S+ S-' - S- S+'):
	 * S+S-' takes |01> to |10>, S-S+' takes |10> to |01>. */
	kz_cplx o[16] = {0};
	o[2 + 4 * 1] = I * J / 2;
	o[1 + 4 * 2] = -I * J / 2;
	return creal(expect2(rho, k, o));
}

double obs_rho3_energy_flow(const kz_cplx rho[64], double J0, double D0,
			    double J1, double D1)
{
	/* 8x8 matrices of h_0 (sites 0,1) and h_1 (sites 1,2), then
	 * i Tr(rho [h_0, h_1]). */
	kz_cplx o0[16], o1[16], H0[64] = {0}, H1[64] = {0};
	bond_op(J0, D0, o0);
	bond_op(J1, D1, o1);
	for (int a = 0; a < 8; a++)
		for (int b = 0; b < 8; b++) {
			if (bit(a, 2) == bit(b, 2))
				H0[a + 8 * b] = o0[(2 * bit(a, 0) + bit(a, 1)) +
						   4 * (2 * bit(b, 0) + bit(b, 1))];
			if (bit(a, 0) == bit(b, 0))
				H1[a + 8 * b] = o1[(2 * bit(a, 1) + bit(a, 2)) +
						   4 * (2 * bit(b, 1) + bit(b, 2))];
		}
	kz_cplx v = 0;
	for (int a = 0; a < 8; a++)
		for (int b = 0; b < 8; b++) {
			kz_cplx c = 0; /* [H0, H1]_ba */
			for (int x = 0; x < 8; x++)
				c += H0[b + 8 * x] * H1[x + 8 * a] -
				     H1[b + 8 * x] * H0[x + 8 * a];
			v += rho[a + 8 * b] * c;
		}
	return creal(I * v);
}

int obs_rho3_window(const mps_t *m, int i, kz_cplx rho[64], char *err)
{
	int rc = mps_rho3(m, i, rho, err);
	if (rc)
		return rc;
	double tr = 0;
	for (int a = 0; a < 8; a++)
		tr += creal(rho[a + 8 * a]);
	if (!(tr > 0) || !isfinite(tr))
		return kz_err(err, KZ_ENUM,
			      "obs: density matrix at site %d has trace %g", i,
			      tr);
	for (int a = 0; a < 64; a++)
		rho[a] /= tr;
	return KZ_OK;
}

/* every quantity is taken from the first window that contains it */
void obs_fill_window(obs_t *o, const chain_t *c, int i,
		     const kz_cplx rho[64])
{
	int k0 = i == 0 ? 0 : 2; /* sites to fill from this window */
	for (int k = k0; k < 3; k++)
		o->sz[i + k] = obs_rho3_sz(rho, k);
	int b0 = i == 0 ? 0 : 1;
	for (int k = b0; k < 2; k++) {
		o->energy[i + k] = obs_rho3_bond_energy(rho, k, c->J[i + k],
							c->Delta[i + k]);
		o->spin_current[i + k] =
			obs_rho3_spin_current(rho, k, c->J[i + k]);
	}
	o->energy_flow[i + 1] = obs_rho3_energy_flow(
		rho, c->J[i], c->Delta[i], c->J[i + 1], c->Delta[i + 1]);
}

void obs_currents(obs_t *o)
{
	int L = o->L;
	o->energy_flow[0] = 0;
	o->energy_flow[L - 1] = 0;
	for (int i = 0; i < L - 1; i++)
		o->energy_current[i] =
			0.5 * (o->energy_flow[i] + o->energy_flow[i + 1]);
}

int obs_measure(obs_t *o, const mps_t *m, const chain_t *c, char *err)
{
	int L = o->L;
	if (mps_length(m) != L || c->L != L)
		return kz_err(err, KZ_EINVAL,
			      "obs_measure: lengths differ (obs %d, state %d, "
			      "chain %d)",
			      L, mps_length(m), c->L);
	int rc = mps_norm(m, &o->norm, err);
	if (rc)
		return rc;
	kz_cplx rho[64];
	/* window i covers sites i..i+2, bonds i, i+1 and the flow j_{i+1} */
	for (int i = 0; i + 2 < L; i++) {
		if ((rc = obs_rho3_window(m, i, rho, err)))
			return rc;
		obs_fill_window(o, c, i, rho);
	}
	obs_currents(o);
	for (int i = 0; i < L - 1; i++) {
		o->entropy[i] = mps_entropy(m, i);
		o->bond_dim[i] = mps_bond_dim(m, i + 1);
	}
	return KZ_OK;
}
