/* ghd: the partitioning protocol ray by ray (see ghd.h). */
#include "ghd.h"
#include "tba_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* the rapidity in (a, b) where v_j = zeta, v_j - zeta changing sign there,
 * by bisection (the velocity is the Nystrom interpolation of the current
 * dressing) */
static double crossing(const tba_dressed_t *d, int j, double zeta, double a,
		       double b)
{
	/* Illinois regula falsi, bisection when it stalls */
	double fa = tba_velocity_at(d, j, a) - zeta;
	double fb = tba_velocity_at(d, j, b) - zeta;
	int side = 0;
	for (int it = 0; it < 200 && b - a > 1e-14 * (1 + fabs(a)); it++) {
		double c = (a * fb - b * fa) / (fb - fa);
		if (!(c > a && c < b) || it % 8 == 7)
			c = (a + b) / 2;
		double fc = tba_velocity_at(d, j, c) - zeta;
		if (fc == 0)
			return c;
		tba_illinois_step(&a, &fa, &b, &fb, &side, c, fc);
	}
	return (a + b) / 2;
}

/* Jumps of species j on the nodes of d (at most 4), and the side of every
 * interval between them: side[b] = 1 if v > zeta (left filling).  Nodes
 * where the species has (almost) no density (|X[k']| below thr, 1e-5 of
 * the largest of all species: e.g. the strings of length > 1 in and near
 * the ground state at h = 0, whose total density vanishes identically there)
 * have no velocity worth the name: they are skipped, so that rounding
 * cannot make jumps appear and disappear there (without it the iteration
 * can cycle near the light cone; the filling then assigned to them moves
 * the observables by < 1e-11 in the rays measured). */
static int find_jumps(const tba_dressed_t *d, int j, double zeta,
		      double thr, double *bp, int *side)
{
	const tba_rule_t *r = &d->r;
	int nb = 0, o = r->off[j], have = 0, iprev = 0;
	double prev = 0;
	side[0] = 1;
	for (int i = 0; i < r->cnt[j]; i++) {
		if (!(fabs(d->xk[o + i]) > thr))
			continue;
		double v = d->xe[o + i] / d->xk[o + i] - zeta;
		if (!have)
			side[0] = v > 0;
		else if ((v > 0) != (prev > 0) && nb < 4) {
			bp[nb] = crossing(d, j, zeta, r->lam[o + iprev],
					  r->lam[o + i]);
			side[++nb] = v > 0;
		}
		have = 1;
		prev = v;
		iprev = i;
	}
	return nb;
}

/* theta on the rule r (split at the jumps bp/side of each species) */
static void fill(const tba_model_t *m, const tba_state_t *L,
		 const tba_state_t *R, const tba_rule_t *r, const int *nbp,
		 double (*bp)[4], int (*side)[5], double *th)
{
	for (int j = 0; j < m->P; j++) {
		int b = 0;
		for (int i = r->off[j]; i < r->off[j] + r->cnt[j]; i++) {
			double lam = r->lam[i];
			while (b < nbp[j] && lam > bp[j][b])
				b++;
			th[i] = tba_state_theta_node(side[j][b] ? L : R, j,
						     lam, r->base[i]);
		}
	}
}

int ghd_ray(const tba_model_t *m, const tba_state_t *left,
	    const tba_state_t *right, const tba_grid_t *g, double zeta,
	    ghd_ws_t *ws, tba_obs_t *o, char *err)
{
	if (!m || !left || !right || !g || !o || !isfinite(zeta))
		return kz_err(err, KZ_EINVAL, "ghd: bad argument");
	ghd_ws_t local;
	if (!ws)
		ws = &local;
	if (ws == &local || !ws->valid) {
		/* cold start: the left filling everywhere */
		memset(ws, 0, sizeof *ws);
		for (int j = 0; j < m->P; j++)
			ws->side[j][0] = 1;
	}
	/* the jumps of the previous ray, for the next extrapolation */
	int nbp0[TBA_MAXP], side0[TBA_MAXP][5];
	double bp0[TBA_MAXP][4];
	memcpy(nbp0, ws->nbp, sizeof nbp0);
	memcpy(side0, ws->side, sizeof side0);
	memcpy(bp0, ws->bp, sizeof bp0);
	double f = ws->valid > 1 && ws->zeta[1] != ws->zeta[0]
		? (zeta - ws->zeta[1]) / (ws->zeta[1] - ws->zeta[0]) : 0;
	if (fabs(f) <= 2) {
		/* warm start: the jumps extrapolated linearly from the last
		 * two rays where their structure is the same (rays in
		 * order, not too far apart) */
		for (int j = 0; j < m->P; j++)
			if (ws->nbp0[j] == ws->nbp[j] &&
			    !memcmp(ws->side0[j], ws->side[j],
				    sizeof(int) * (ws->nbp[j] + 1)))
				for (int b = 0; b < ws->nbp[j]; b++)
					ws->bp[j][b] += f * (ws->bp[j][b] -
							     ws->bp0[j][b]);
	}
	/* iterate: dress the filling of the current jumps, find the jumps of
	 * its velocities; converged when the jumps stop moving or, since a
	 * jump at the far tail (or of a species of vanishing density, whose
	 * velocity is rounding) can appear and disappear, when the
	 * observables stop changing */
	int rc = KZ_OK, it;
	tba_obs_t prev = {0, 0, 0, 0};
	for (it = 0; it < 100; it++) {
		tba_rule_t r;
		tba_dressed_t d;
		if ((rc = tba_rule_split(&r, m->P, g, ws->nbp, ws->bp, err)))
			return rc;
		double *th = malloc(sizeof(double) * r.ntot);
		if (!th) {
			tba_rule_free(&r);
			return kz_err(err, KZ_ENOMEM, "ghd: out of memory");
		}
		fill(m, left, right, &r, ws->nbp, ws->bp, ws->side, th);
		rc = tba_dress(&d, m, &r, th, err);
		tba_rule_free(&r);
		free(th);
		if (rc)
			return rc;
		tba_obs_t now;
		tba_dressed_obs(&d, &now);
		int nbp[TBA_MAXP], side[TBA_MAXP][5], same = 1;
		double bp[TBA_MAXP][4], dmax = 0;
		double thr = 0;
		for (int i = 0; i < d.r.ntot; i++)
			thr = fmax(thr, fabs(d.xk[i]));
		thr *= 1e-5;
		for (int j = 0; j < m->P; j++) {
			nbp[j] = find_jumps(&d, j, zeta, thr, bp[j], side[j]);
			if (nbp[j] != ws->nbp[j] ||
			    memcmp(side[j], ws->side[j],
				   sizeof(int) * (nbp[j] + 1)))
				same = 0;
			for (int b = 0; b < nbp[j] && same; b++)
				dmax = fmax(dmax, fabs(bp[j][b] - ws->bp[j][b]));
		}
		tba_dressed_free(&d);
		double dobs = fabs(now.e - prev.e) + fabs(now.je - prev.je) +
			      fabs(now.sz - prev.sz) + fabs(now.jm - prev.jm);
		prev = now;
		/* jumps within 1e-10 move the observables by less (the
		 * filling jumps by O(1) over a density O(1)) */
		int done = (same && dmax < 1e-10) || (it > 0 && dobs < 1e-13);
		if (!done && same && it >= 8) {
			/* no convergence yet with the same jump structure:
			 * damp (the plain iteration can cycle between two
			 * positions of the jumps of the longer strings) */
			for (int j = 0; j < m->P; j++)
				for (int b = 0; b < nbp[j]; b++)
					ws->bp[j][b] = 0.5 * (ws->bp[j][b] +
							      bp[j][b]);
		} else if (!done) {
			memcpy(ws->nbp, nbp, sizeof nbp);
			memcpy(ws->bp, bp, sizeof bp);
			memcpy(ws->side, side, sizeof side);
		}
		if (done)
			break;
	}
	ws->iters = it + 1;
	if (ws->valid) {
		memcpy(ws->nbp0, nbp0, sizeof nbp0);
		memcpy(ws->side0, side0, sizeof side0);
		memcpy(ws->bp0, bp0, sizeof bp0);
		ws->zeta[0] = ws->zeta[1];
	}
	ws->zeta[1] = zeta;
	ws->valid = ws->valid ? 2 : 1;
	if (it == 100)
		return kz_err(err, KZ_ENUM,
			      "ghd: no self-consistent filling at zeta = %g",
			      zeta);
	*o = prev;
	return KZ_OK;
}

int ghd_profile(const tba_model_t *m, const tba_state_t *left,
		const tba_state_t *right, const tba_grid_t *g, int n,
		const double *zeta, tba_obs_t *o, char *err)
{
	ghd_ws_t ws;
	memset(&ws, 0, sizeof ws);
	for (int i = 0; i < n; i++) {
		int rc = ghd_ray(m, left, right, g, zeta[i], &ws, o + i, err);
		if (rc)
			return rc;
	}
	return KZ_OK;
}

int ghd_max_velocity(const tba_state_t *s, const tba_grid_t *g, int j,
		     double *v, char *err)
{
	tba_dressed_t d;
	int rc = tba_state_dress(s, g, &d, err);
	if (rc)
		return rc;
	double best = -HUGE_VAL;
	for (int i = 0; i <= 1600; i++)
		best = fmax(best, tba_velocity_at(&d, j, -8 + 0.01 * i));
	tba_dressed_free(&d);
	*v = best;
	return KZ_OK;
}
