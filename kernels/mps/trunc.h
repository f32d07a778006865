/* trunc: the one truncation rule of every two-site update (TEBD, DMRG and
 * the purification).
 *
 * A two-site state split by one SVD per charge sector of the middle bond
 * has, in sector k, kfull[k] singular values in descending order.  Kept:
 * the chi_max largest over all sectors that are >= max(cutoff,
 * TRUNC_SV_FLOOR), at least one.  Equal values are ordered by sector (lower
 * sector first), so the choice never depends on the sort algorithm.  The
 * cutoff is absolute: callers pass the spectrum of a normalised state.  A
 * decomposition that computes only part of a sector's values (qrdec.h)
 * passes the weight it left out as rest: discarded, never chosen. */
#ifndef TRUNC_H
#define TRUNC_H

#include <stddef.h>

/* Below this a singular value is double-precision noise of the SVD of a
 * normalised state, kept or not; dropping it keeps product-like states at
 * small bond dimension. */
#define TRUNC_SV_FLOOR 1e-14

/* One singular value and its sector. */
typedef struct {
	double s;
	int k;
} trunc_sv_t;

/* Scratch of trunc_select; it only grows.  Zero-initialise, then
 * trunc_ws_free. */
typedef struct {
	trunc_sv_t *sel;
	size_t cap;
} trunc_ws_t;

void trunc_ws_free(trunc_ws_t *w);

/* The rule above on nq sectors, sector k's values at s + soff[k].  rest
 * (NULL for none): per sector, weight of the state outside the kfull[k]
 * values (a truncated decomposition such as qrdec.h that did not compute
 * them all); it is never kept, so it counts in the total and in the
 * discarded weight.  Writes keep[k] (values kept per sector), *kept (sum of
 * kept s^2) and *disc (the discarded weight relative to the total, >= 0).
 * Returns the number kept (>= 1); KZ_ENUM for a zero or non-finite total
 * (then *disc = the total s^2 + rest), KZ_ENOMEM. */
int trunc_select(trunc_ws_t *w, const double *s, const size_t *soff,
		 const int *kfull, const double *rest, int nq, int chi_max,
		 double cutoff, int *keep, double *kept, double *disc);

#endif
