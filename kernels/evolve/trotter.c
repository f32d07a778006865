/* trotter: the scheme table and the merged layer sequence of trotter.h.
 *
 * H = A + B with A the even bonds, B the odd ones; coefficients multiply
 * the step (dt or dtau):
 *  - Strang (order 2): A/2 B A/2.  2 layers.
 *  - Forest-Ruth (order 4), theta = 1/(2 - 2^{1/3}): A theta/2, B theta,
 *    A (1-theta)/2, B (1-2 theta), A (1-theta)/2, B theta, A theta/2
 *    [E. Forest, R. D. Ruth, Physica D 43, 105 (1990); H. Yoshida, Phys.
 *    Lett. A 150, 262 (1990)].  6 layers: the fewest of any symmetric
 *    fourth-order splitting.
 *  - Omelyan-Mryglod-Folk (order 4), Comput. Phys. Commun. 146, 188 (2002),
 *    Eq. (20): A xi, B (1-2 lambda)/2, A chi, B lambda, A (1-2(chi+xi)),
 *    B lambda, A chi, B (1-2 lambda)/2, A xi.  8 layers.
 *  - Suzuki's five-stage fractal (order 4): S2(p)^2 S2(1-4p) S2(p)^2,
 *    p = 1/(4 - 4^{1/3}) [M. Suzuki, Phys. Lett. A 146, 319 (1990)].
 *    10 layers.
 *
 * Real time ships Forest-Ruth as order 4.  Its error constant is ~35 times
 * Omelyan's, but at the paper's dt = 0.02 its error is already 1.1e-8 (L =
 * 12 junction, t = 5; Omelyan 3.2e-10, Suzuki 2.6e-10), far below the
 * truncation error of any chi the study can afford, and each step costs 6
 * layers instead of 8 or 10.  At fixed chi it is also the most accurate of
 * the three (L = 140 XX domain wall, chi = 64, t = 20: max |S^z| error
 * 3.7e-6 against Omelyan's 4.6e-6 and Suzuki's 7.6e-6, all of it truncation
 * error; the Trotter error there is 3e-9).  Measured in
 * tests/kernels/test_tebd.c and tests/kernels/test_ff140.c.
 *
 * Imaginary time ships Omelyan as order 4: its small error constant matters
 * at the large dtau of the purification (test_thermal.c: at dtau = 0.1 it
 * leaves ~1e-8 in rho3 at |beta| = 2); its negative coefficients are
 * harmless there (exp(+|c| tau k) with |c| tau small on a finite chain). */
#include "trotter.h"

#include <stdlib.h>

#include "kz.h"

typedef struct {
	const char *name;
	int n;            /* exponentials per step, alternating A, B, ..., A */
	double a[11];
} scheme_t;

#define SUZUKI_P 0.41449077179437573714 /* 1/(4 - 4^(1/3)) */
#define FR_THETA 1.35120719195965763405 /* 1/(2 - 2^(1/3)) */
#define OMF_XI 0.1786178958448091
#define OMF_LAMBDA (-0.2123418310626054)
#define OMF_CHI (-0.06626458266981849)

static const scheme_t schemes[] = {
	[TROTTER_STRANG2] = {"trotter2", 3, {0.5, 1.0, 0.5}},
	[TROTTER_SUZUKI4] = {"suzuki4",
			     11,
			     {SUZUKI_P / 2, SUZUKI_P, SUZUKI_P, SUZUKI_P,
			      (1 - 3 * SUZUKI_P) / 2, 1 - 4 * SUZUKI_P,
			      (1 - 3 * SUZUKI_P) / 2, SUZUKI_P, SUZUKI_P,
			      SUZUKI_P, SUZUKI_P / 2}},
	[TROTTER_FOREST_RUTH4] = {"forest-ruth4",
				  7,
				  {FR_THETA / 2, FR_THETA, (1 - FR_THETA) / 2,
				   1 - 2 * FR_THETA, (1 - FR_THETA) / 2,
				   FR_THETA, FR_THETA / 2}},
	[TROTTER_OMELYAN4] = {"omelyan4",
			      9,
			      {OMF_XI, (1 - 2 * OMF_LAMBDA) / 2, OMF_CHI,
			       OMF_LAMBDA, 1 - 2 * (OMF_CHI + OMF_XI),
			       OMF_LAMBDA, OMF_CHI, (1 - 2 * OMF_LAMBDA) / 2,
			       OMF_XI}},
};

static int known(trotter_scheme_t s)
{
	return (int)s >= 0 && s <= TROTTER_LAST;
}

int trotter_scheme_for_order(int order, trotter_time_t kind,
			     trotter_scheme_t *s, const char *who, char *err)
{
	if (order == 2)
		*s = TROTTER_STRANG2;
	else if (order == 4)
		*s = kind == TROTTER_REAL ? TROTTER_FOREST_RUTH4
					  : TROTTER_OMELYAN4;
	else
		return kz_err(err, KZ_EINVAL,
			      "%s: Trotter order %d: expected 2 or 4", who,
			      order);
	return KZ_OK;
}

const char *trotter_name(trotter_scheme_t s)
{
	return known(s) ? schemes[s].name : "?";
}

int trotter_layers(trotter_scheme_t s)
{
	return known(s) ? schemes[s].n - 1 : 0;
}

int trotter_layers_for_order(int order, trotter_time_t kind)
{
	trotter_scheme_t s;
	if (trotter_scheme_for_order(order, kind, &s, "", NULL))
		return 0;
	return trotter_layers(s);
}

int trotter_seq_build(trotter_seq_t *q, trotter_scheme_t s, int nsteps)
{
	const scheme_t *sc = &schemes[s];
	size_t nmax = (size_t)(sc->n - 1) * nsteps + 1, nl = 0;
	if (kz_reserve((void **)&q->par, &q->par_cap, nmax, sizeof(int)) ||
	    kz_reserve((void **)&q->coef, &q->coef_cap, nmax, sizeof(double)))
		return KZ_ENOMEM;
	for (int st = 0; st < nsteps; st++)
		for (int j = 0; j < sc->n; j++) {
			int par = j % 2;
			if (nl && q->par[nl - 1] == par) {
				q->coef[nl - 1] += sc->a[j];
			} else {
				q->par[nl] = par;
				q->coef[nl] = sc->a[j];
				nl++;
			}
		}
	q->n = nl;
	return KZ_OK;
}

void trotter_seq_free(trotter_seq_t *q)
{
	free(q->par);
	free(q->coef);
	q->par = NULL;
	q->coef = NULL;
	q->n = q->par_cap = q->coef_cap = 0;
}
