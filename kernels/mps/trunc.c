/* trunc: the truncation rule of trunc.h. */
#include "trunc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kz.h"

void trunc_ws_free(trunc_ws_t *w)
{
	free(w->sel);
	w->sel = NULL;
	w->cap = 0;
}

/* descending in s; ties by sector: deterministic */
static int cmp_sv(const void *x, const void *y)
{
	const trunc_sv_t *a = x, *b = y;
	if (a->s != b->s)
		return a->s < b->s ? 1 : -1;
	return a->k - b->k;
}

int trunc_select(trunc_ws_t *w, const double *s, const size_t *soff,
		 const int *kfull, const double *rest, int nq, int chi_max,
		 double cutoff,
		 int *keep, double *kept, double *disc)
{
	size_t ns = 0;
	for (int k = 0; k < nq; k++)
		ns += (size_t)kfull[k];
	if (kz_reserve((void **)&w->sel, &w->cap, ns + 1, sizeof *w->sel))
		return KZ_ENOMEM;
	int nsel = 0;
	double tot = 0;
	for (int k = 0; k < nq; k++) {
		/* skipped, not added as 0, without rest: nothing else changes
		 * for the SVD callers, bit for bit */
		if (rest)
			tot += rest[k];
		for (int a = 0; a < kfull[k]; a++) {
			double v = s[soff[k] + a];
			tot += v * v;
			w->sel[nsel].s = v;
			w->sel[nsel].k = k;
			nsel++;
		}
	}
	if (!isfinite(tot) || !(tot > 0)) {
		*disc = tot;
		return KZ_ENUM;
	}
	qsort(w->sel, (size_t)nsel, sizeof *w->sel, cmp_sv);
	double floor = cutoff > TRUNC_SV_FLOOR ? cutoff : TRUNC_SV_FLOOR;
	int nkeep = 0;
	while (nkeep < nsel && nkeep < chi_max && w->sel[nkeep].s >= floor)
		nkeep++;
	if (nkeep == 0)
		nkeep = 1;
	memset(keep, 0, (size_t)nq * sizeof(int));
	double kw = 0;
	for (int a = 0; a < nkeep; a++) {
		keep[w->sel[a].k]++;
		kw += w->sel[a].s * w->sel[a].s;
	}
	*disc = (tot - kw) / tot;
	if (*disc < 0)
		*disc = 0;
	*kept = kw;
	return nkeep;
}
