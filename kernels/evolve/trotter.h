/* trotter: the splitting schemes of exp(-z (A + B)), A = the even bonds,
 * B = the odd ones, for real time (TEBD, z = i dt) and imaginary time (the
 * purification, z = dtau), and the merged sequence of layers a run applies.
 *
 * A scheme is a symmetric product of n exponentials alternating A, B, ...,
 * A; the last A of one step and the first of the next merge into one layer,
 * so a step costs n - 1 layers.  Coefficients and references in trotter.c:
 *   TROTTER_STRANG2       Strang, order 2, 2 layers/step
 *   TROTTER_FOREST_RUTH4  Forest-Ruth, order 4, 6 layers/step
 *   TROTTER_OMELYAN4      Omelyan-Mryglod-Folk, order 4, 8 layers/step
 *   TROTTER_SUZUKI4       Suzuki's five-stage fractal, order 4, 10 layers
 * "Order 4" is Forest-Ruth in real time and Omelyan in imaginary time
 * (trotter_scheme_for_order; the reasons are in trotter.c). */
#ifndef TROTTER_H
#define TROTTER_H

#include <stddef.h>

typedef enum {
	TROTTER_STRANG2 = 0,
	TROTTER_SUZUKI4 = 1,
	TROTTER_OMELYAN4 = 2,
	TROTTER_FOREST_RUTH4 = 3,
	TROTTER_LAST = TROTTER_FOREST_RUTH4,
} trotter_scheme_t;

typedef enum {
	TROTTER_REAL,      /* TEBD */
	TROTTER_IMAGINARY, /* purification */
} trotter_time_t;

/* The scheme of a Trotter order (2 or 4) for the kind of time; error
 * otherwise.  `who` prefixes the message (e.g. "tebd"). */
int trotter_scheme_for_order(int order, trotter_time_t kind,
			     trotter_scheme_t *s, const char *who, char *err);
/* Its name ("?" for an unknown scheme) and layers per merged step (0 for
 * an unknown scheme). */
const char *trotter_name(trotter_scheme_t s);
int trotter_layers(trotter_scheme_t s);
/* Layers per step of the order's scheme for the kind of time; 0 if the
 * order has none. */
int trotter_layers_for_order(int order, trotter_time_t kind);

/* The merged layer sequence of nsteps steps: layer l acts on the bonds of
 * parity par[l] (0 even, 1 odd) with coefficient coef[l] (times the step).
 * Buffers only grow. */
typedef struct {
	int *par;
	double *coef;
	size_t n, par_cap, coef_cap;
} trotter_seq_t;

/* Fills q for nsteps >= 1 steps of scheme s; KZ_OK or KZ_ENOMEM. */
int trotter_seq_build(trotter_seq_t *q, trotter_scheme_t s, int nsteps);
void trotter_seq_free(trotter_seq_t *q);

#endif
