/* chain: per-bond couplings of the XXZ chain (see chain.h). */
#include "chain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int chain_create(chain_t **c, int L, const double *J, const double *Delta,
		 char *err)
{
	*c = NULL;
	if (L < 4 || L % 2)
		return kz_err(err, KZ_EINVAL,
			      "chain length L=%d: expected an even number >= 4",
			      L);
	if (!J || !Delta)
		return kz_err(err, KZ_EINVAL, "chain: NULL coupling array");
	for (int i = 0; i < L - 1; i++)
		if (!isfinite(J[i]) || !isfinite(Delta[i]))
			return kz_err(err, KZ_EINVAL,
				      "chain: bond %d has a non-finite J or Delta",
				      i);
	chain_t *p = calloc(1, sizeof *p);
	if (!p)
		return kz_err(err, KZ_ENOMEM, "chain: out of memory");
	p->L = L;
	p->J = malloc((size_t)(L - 1) * sizeof(double));
	p->Delta = malloc((size_t)(L - 1) * sizeof(double));
	if (!p->J || !p->Delta) {
		chain_destroy(&p);
		return kz_err(err, KZ_ENOMEM, "chain: out of memory");
	}
	memcpy(p->J, J, (size_t)(L - 1) * sizeof(double));
	memcpy(p->Delta, Delta, (size_t)(L - 1) * sizeof(double));
	*c = p;
	return KZ_OK;
}

int chain_create_junction(chain_t **c, int L, double J, double delta_left,
			  double delta_right, char *err)
{
	*c = NULL;
	if (L < 4 || L % 2)
		return kz_err(err, KZ_EINVAL,
			      "chain length L=%d: expected an even number >= 4",
			      L);
	double *Jv = malloc((size_t)(L - 1) * sizeof(double));
	double *Dv = malloc((size_t)(L - 1) * sizeof(double));
	int rc;
	if (!Jv || !Dv) {
		rc = kz_err(err, KZ_ENOMEM, "chain: out of memory");
		goto out;
	}
	for (int i = 0; i < L - 1; i++) {
		Jv[i] = J;
		/* bond i is the paper's bond n = i - L/2 + 1; n <= 0 is the left */
		Dv[i] = (chain_site_n(L, i) <= 0) ? delta_left : delta_right;
	}
	rc = chain_create(c, L, Jv, Dv, err);
out:
	free(Jv);
	free(Dv);
	return rc;
}

void chain_destroy(chain_t **c)
{
	if (!c || !*c)
		return;
	free((*c)->J);
	free((*c)->Delta);
	free(*c);
	*c = NULL;
}

void chain_bond_matrix(const chain_t *c, int i, double h[16])
{
	double J = c->J[i], D = c->Delta[i];
	memset(h, 0, 16 * sizeof(double));
	/* Sx Sx + Sy Sy = (S+S- + S-S+)/2 flips |01> <-> |10> with weight 1/2;
	 * Sz Sz = +1/4 on |00>,|11> and -1/4 on |01>,|10>. */
	h[0 + 4 * 0] = J * D / 4;
	h[1 + 4 * 1] = -J * D / 4;
	h[2 + 4 * 2] = -J * D / 4;
	h[3 + 4 * 3] = J * D / 4;
	h[1 + 4 * 2] = J / 2;
	h[2 + 4 * 1] = J / 2;
}
