/* team_measure: a team's observables, whole state and statistics
 * (team.h).  Every quantity is computed where the tensors are, with the
 * kernels' own functions, and gathered by the leader, so the numbers are
 * those of obs_measure() on one rank bit for bit: the norm's contraction is
 * passed from member to member (mps_norm_env, the same products in the
 * same order), each member forms the rho3 windows that start on its sites
 * (the two sites past its range fetched first), the leader fills the
 * observables from the gathered windows (obs_fill_window). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eu.h"
#include "mps_io.h"
#include "schema.h"
#include "team_impl.h"

/* ---- measurement ------------------------------------------------------- */

/* <psi|psi> by the left-to-right contraction passed along the members (as
 * mps_norm(): the same products in the same order). */
static int norm_pass(team_t *t, double *norm, char *err)
{
	char kerr[KZ_ERRLEN] = "";
	int lo = team_lo(t), hi = team_hi(t), rc = 0;
	size_t nin = mps_env_size(t->m, lo), nout = mps_env_size(t->m, hi);
	kz_cplx *ein = calloc(nin + 1, sizeof(kz_cplx));
	kz_cplx *eout = calloc(nout + 1, sizeof(kz_cplx));
	if (!ein || !eout)
		rc = eu_err(err, "team: out of memory");
	if (t->rank == 0) {
		if (ein)
			ein[0] = 1.0;
	} else {
		MPI_Status st;
		int n = 0;
		MPI_Probe(t->rank - 1, TAG_ENV, t->comm, &st);
		MPI_Get_count(&st, MPI_C_DOUBLE_COMPLEX, &n);
		kz_cplx *x = malloc(((size_t)n + 1) * sizeof(kz_cplx));
		MPI_Recv(x, x ? n : 0, MPI_C_DOUBLE_COMPLEX, t->rank - 1,
			 TAG_ENV, t->comm, MPI_STATUS_IGNORE);
		if (!rc && (!x || (size_t)n != nin))
			rc = eu_err(err, "team: environment of %d numbers, "
					 "%zu expected",
				    n, nin);
		if (!rc)
			memcpy(ein, x, nin * sizeof(kz_cplx));
		free(x);
	}
	if (!rc && mps_norm_env(t->m, lo, hi, ein, eout, kerr))
		rc = eu_err(err, "team: %s", kerr);
	double v = 0;
	if (t->rank + 1 < t->size)
		MPI_Send(eout, rc ? 0 : (int)nout, MPI_C_DOUBLE_COMPLEX,
			 t->rank + 1, TAG_ENV, t->comm);
	else if (!rc)
		v = sqrt(fabs(creal(eout[0])));
	free(ein);
	free(eout);
	if (!rc && t->rank == t->size - 1 && !isfinite(v))
		rc = eu_err(err, "team: mps_norm: not finite");
	/* the last member's value to the leader */
	if (t->size > 1) {
		if (t->rank == t->size - 1)
			MPI_Send(&v, 1, MPI_DOUBLE, 0, TAG_ENV, t->comm);
		else if (t->rank == 0)
			MPI_Recv(&v, 1, MPI_DOUBLE, t->size - 1, TAG_ENV,
				 t->comm, MPI_STATUS_IGNORE);
	}
	*norm = v;
	return rc;
}

/* Windows [lo, min(hi, L-2)) and bonds [lo, min(hi, L-1)) of this member
 * into rho (64 complex each) and ent/dim; the two sites past hi are
 * fetched first (ghosts: windows across the boundary). */
static int local_measure(team_t *t, kz_cplx *rho, double *ent, int *dim,
			 char *err)
{
	int *nlo = t->need, *nhi = t->need + t->size + 1;
	for (int r = 0; r < t->size; r++) {
		nlo[r] = t->own[r];
		nhi[r] = t->own[r + 1] + 2 < t->L ? t->own[r + 1] + 2 : t->L;
	}
	int rc = team_exchange(t, nlo, nhi, err);
	if ((rc = team_agree_step(t, rc, err)))
		return rc;
	char kerr[KZ_ERRLEN] = "";
	int lo = team_lo(t), hi = team_hi(t);
	for (int i = lo; i < hi && i + 2 < t->L && !rc; i++)
		if (obs_rho3_window(t->m, i, rho + 64 * (size_t)(i - lo), kerr))
			rc = eu_err(err, "team: %s", kerr);
	for (int i = lo; i < hi && i + 1 < t->L; i++) {
		ent[i - lo] = mps_entropy(t->m, i);
		dim[i - lo] = mps_bond_dim(t->m, i + 1);
	}
	return rc;
}

/* Gathers each member's consecutive items (count(r) items of `per`
 * elements of type ty, ranges own[]) at the leader. */
static void gather_ranges(team_t *t, const void *mine, void *all, int per,
			  int limit, MPI_Datatype ty)
{
	int *cnt = malloc(2 * (size_t)t->size * sizeof(int));
	int *dsp = cnt + t->size;
	for (int r = 0; r < t->size; r++) {
		int a = t->own[r], b = t->own[r + 1] < limit ? t->own[r + 1]
							     : limit;
		cnt[r] = b > a ? (b - a) * per : 0;
		dsp[r] = a * per;
	}
	MPI_Gatherv(mine, cnt[t->rank], ty, all, cnt, dsp, ty, 0, t->comm);
	free(cnt);
}

int team_do_measure(team_t *t, obs_t *o, double *rho3, char *err)
{
	int L = t->L, n = team_hi(t) - team_lo(t), rc = 0;
	kz_cplx *rho = calloc(64 * (size_t)n + 1, sizeof(kz_cplx));
	double *ent = calloc((size_t)n + 1, sizeof(double));
	int *dim = calloc((size_t)n + 1, sizeof(int));
	kz_cplx *allrho = NULL;
	if (t->rank == 0)
		allrho = calloc(64 * (size_t)L, sizeof(kz_cplx));
	if (!rho || !ent || !dim || (t->rank == 0 && !allrho))
		rc = eu_err(err, "team: out of memory");
	if ((rc = team_agree_step(t, rc, err)))
		goto out;
	double norm = 0;
	rc = norm_pass(t, &norm, err);
	if ((rc = team_agree_step(t, rc, err)))
		goto out;
	rc = local_measure(t, rho, ent, dim, err);
	if (rc)
		goto out; /* agreed inside */
	rc = team_agree_step(t, 0, err);
	if (rc)
		goto out;
	gather_ranges(t, rho, allrho, 64, L - 2, MPI_C_DOUBLE_COMPLEX);
	gather_ranges(t, ent, o ? o->entropy : NULL, 1, L - 1, MPI_DOUBLE);
	gather_ranges(t, dim, o ? o->bond_dim : NULL, 1, L - 1, MPI_INT);
	if (t->rank == 0) {
		o->norm = norm;
		for (int i = 0; i + 2 < L; i++) {
			obs_fill_window(o, t->c, i, allrho + 64 * (size_t)i);
			if (rho3)
				schema_rho_swap(rho3 + 128 * (size_t)i,
						(const double *)(allrho +
								 64 * (size_t)i),
						1);
		}
		obs_currents(o);
	}
out:
	free(rho), free(ent), free(dim), free(allrho);
	return rc;
}

int team_measure(team_t *t, obs_t *o, double *rho3, char *err)
{
	if (t && (!o || o->L != t->L))
		return eu_err(err, "team_measure: observables of the wrong "
				   "length");
	int rc = team_command(t, CMD_MEASURE, rho3 != NULL, err);
	return rc ? rc : team_do_measure(t, o, rho3, err);
}

/* ---- the whole state --------------------------------------------------- */

int team_do_gather(team_t *t, mps_t **out, char *err)
{
	char kerr[KZ_ERRLEN] = "";
	int *all = t->need, *none = t->need + t->size + 1;
	/* the leader needs everything, the others nothing new */
	for (int r = 0; r < t->size; r++) {
		all[r] = r ? t->own[r] : 0;
		none[r] = r ? t->own[r + 1] : t->L;
	}
	mps_t *m = NULL;
	int rc = 0;
	if (t->rank == 0 && mps_create_blank(&m, t->L, t->nup, kerr))
		rc = eu_err(err, "team: %s", kerr);
	if ((rc = team_agree_step(t, rc, err)))
		return rc;
	/* the leader's own sites first, into the blank state */
	if (t->rank == 0) {
		for (int i = team_lo(t); i < team_hi(t) && !rc; i++) {
			size_t n = mps_site_bytes(t->m, i);
			if (team_reserve(&t->rbuf, &t->rcap, n) ||
			    mps_site_pack(t->m, i, t->rbuf, n, kerr) ||
			    mps_site_unpack(m, t->rbuf, n, NULL, kerr))
				rc = eu_err(err, "team: %s", kerr);
		}
		mps_t *mine = t->m;
		t->m = m;
		int rc2 = team_exchange(t, all, none, err);
		t->m = mine;
		rc = rc ? rc : rc2;
	} else {
		rc = team_exchange(t, all, none, err);
	}
	if ((rc = team_agree_step(t, rc, err))) {
		mps_destroy(&m);
		return rc;
	}
	if (out) {
		mps_destroy(out);
		*out = m;
	}
	return 0;
}

int team_gather(team_t *t, mps_t **m, char *err)
{
	if (t && !m)
		return eu_err(err, "team_gather: NULL state");
	int rc = team_command(t, CMD_GATHER, 0, err);
	return rc ? rc : team_do_gather(t, m, err);
}

/* ---- statistics -------------------------------------------------------- */

void team_do_stats(team_t *t, tebd_stats_t *s, team_stats_t *ts)
{
	tebd_stats_t mine, sum;
	team_measure_balance(t);
	tebd_stats(t->tebd, &mine);
	double v[9] = {mine.svd_s,      mine.gemm_s,    mine.other_s,
		       mine.gemm_flops, mine.svd_flops, (double)mine.gates,
		       (double)mine.qr_sectors, (double)mine.qr_redone,
		       t->wait_s};
	double r[9] = {0};
	MPI_Reduce(v, r, 9, MPI_DOUBLE, MPI_SUM, 0, t->comm);
	double w = 0;
	MPI_Reduce(&mine.wall_s, &w, 1, MPI_DOUBLE, MPI_MAX, 0, t->comm);
	if (!s)
		return;
	double tot = t->bal_total > 0 ? t->bal_total : 1;
	*ts = (team_stats_t){r[8], t->bal_used / tot, t->bal_best / tot};
	/* the size bins and the SVD path's split stay 0: a team's sectors are
	 * split over members */
	sum = (tebd_stats_t){.svd_s = r[0], .gemm_s = r[1], .other_s = r[2],
			     .wall_s = w, .gemm_flops = r[3],
			     .svd_flops = r[4], .gates = (long)r[5],
			     .qr_sectors = (long)r[6], .qr_redone = (long)r[7]};
	*s = sum;
}

int team_stats(team_t *t, tebd_stats_t *s, team_stats_t *ts, char *err)
{
	int rc = team_command(t, CMD_STATS, 0, err);
	if (!rc)
		team_do_stats(t, s, ts);
	return rc;
}
