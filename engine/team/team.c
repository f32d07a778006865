/* team: one point's TEBD over the ranks of a communicator (team.h).
 *
 * Partition.  Member r owns the sites [own[r], own[r+1]) and keeps valid
 * copies of the bonds own[r]..own[r+1] (the two end bonds are shared with
 * its neighbours); its local mps_t has the whole chain's shape, the other
 * sites being stale.  The nominal boundaries nom[] balance the bonds' cost;
 * within a layer of parity p a boundary b whose gate (sites b-1, b) is in
 * the layer moves to b+1, so that no gate of the layer straddles two
 * members: between layers of different parity each boundary hands one
 * site (with its two bonds) across, and the gate is applied by one member,
 * with the same code as on one rank (tebd_layer), hence bitwise the same
 * state.  A boundary bond is never changed by a layer (only a gate across
 * it would), so the shared copies stay equal.
 *
 * Rebalancing: at each team_run() and every REBALANCE_LAYERS layers the
 * members gather all bond dimensions and every one computes the same new
 * nominal boundaries (deterministic, no leader decision needed); the sites
 * move at once.
 *
 * Overlap: the sites that leave a member after a layer are those of its
 * first gates in that layer, sent as soon as they are done; the receiver
 * needs them only at the start of the next layer, so the messages travel
 * while both sides do the rest of their gates.
 *
 * Discarded weight: each member records its gates' discards per layer; at
 * the end of team_run() they are reduced to the leader, which sums them in
 * tebd_run()'s order (tebd_accumulate), so the totals are bitwise those of
 * one rank too.
 *
 * Errors: a step's local return codes are agreed on (agree_step) before any
 * communication whose pattern depends on success, so a failure never leaves
 * a member waiting; messages of a failing member are still sent (possibly
 * empty) and rejected by their receivers' checks.  Within team_run() the
 * agreement comes once, at the end (see do_run). */
#include "team.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eu.h"
#include "mps_io.h"
#include "psvd.h"
#include "schema.h"
#include "trotter.h"

/* layers between two rebalancings (deterministic on every member) */
#define REBALANCE_LAYERS 64
/* a new partition is taken only if it lowers the largest load by 5% */
#define REBALANCE_GAIN 0.95

enum {
	CMD_RUN = 1,
	CMD_MEASURE,
	CMD_GATHER,
	CMD_STATS,
	CMD_SCALAPACK,
	CMD_END
};

/* big gates of one member in one layer that go to ScaLAPACK (more go to
 * LAPACK) */
#define MAXBIG 8

/* message tags */
enum { TAG_SITES = 101, TAG_ENV = 102 };

struct team_s {
	MPI_Comm comm;
	int rank, size, L, nup;
	const chain_t *c;
	tebd_params_t p;
	tebd_t *tebd;     /* this member's gates; the leader's sums discards */
	mps_t *m;         /* local copy: sites [own[rank], own[rank+1]) valid */
	int *own, *nom;   /* [size+1] current and nominal boundaries */
	int *need;        /* [2 (size+1)] scratch: ranges an exchange wants */
	int *nb, *cnt;    /* [size+1], [2 size] scratch */
	int *bdim;        /* [L+1] all bond dimensions at the last rebalance */
	int *mydim;       /* [L+1] scratch: this member's bond dimensions */
	double *load;     /* [L] scratch: cost of the gate left on each site */
	trotter_seq_t seq;
	double *disc, *cost; /* [layers * L]: this member's gates of a run */
	unsigned char **sbuf; /* [size] send buffers */
	MPI_Request *req;     /* [size] their sends */
	int nreq;
	int *nxt;             /* [size+1] the next layer's boundaries */
	size_t *scap;
	unsigned char *rbuf;
	size_t rcap;
	int max_bond;     /* leader: after the last step */
	int broken;       /* a step failed: the members have left team_serve */
	int rebalanced;   /* times the nominal partition changed */
	double wait_s;    /* seconds spent waiting for the neighbours' sites */
	/* ScaLAPACK for sectors with min(rows, cols) >= svd_min (0: off) */
	psvd_t *psvd;
	int svd_min;
	int big[MAXBIG], nbig; /* this layer's gates done with it */
	int *allbig;           /* [size (MAXBIG+1)] scratch */
	long nsvd, nsvd_total; /* sectors it decomposed (total: leader) */
};

/* ---- small helpers ----------------------------------------------------- */

static int reserve(void *pbuf, size_t *cap, size_t n)
{
	unsigned char **buf = pbuf;
	if (n <= *cap)
		return 0;
	size_t c = *cap ? *cap : 4096;
	while (c < n)
		c *= 2;
	unsigned char *x = realloc(*buf, c);
	if (!x)
		return -1;
	*buf = x;
	*cap = c;
	return 0;
}

/* The step's outcome on every member: 0, or the first failing member's
 * code, with err = "team member R: why" (err: EU_ERRLEN, may be NULL). */
static int agree_step(team_t *t, int rc, char *err)
{
	int mine = rc ? t->rank : t->size, first = t->size;
	MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, t->comm);
	if (first == t->size)
		return 0;
	char msg[EU_ERRLEN] = "";
	int code = rc;
	if (t->rank == first && err)
		snprintf(msg, sizeof msg, "%s", err);
	MPI_Bcast(msg, EU_ERRLEN, MPI_CHAR, first, t->comm);
	MPI_Bcast(&code, 1, MPI_INT, first, t->comm);
	msg[EU_ERRLEN - 1] = 0;
	eu_err(err, "team member %d of %d: %s", first, t->size, msg);
	t->broken = 1;
	return code ? code : -1;
}

static int lo_of(const team_t *t) { return t->own[t->rank]; }
static int hi_of(const team_t *t) { return t->own[t->rank + 1]; }

/* ---- partition --------------------------------------------------------- */

/* Cost of the gate on sites i, i+1 from the bond dimensions d[]: its
 * decomposition (2 dl x 2 dr matrices, ~ dl dr min(dl, dr)) and products
 * (dl dm dr); 1 so that a product state splits by sites. */
static double gate_cost(const int *d, int i)
{
	double a = d[i], m = d[i + 1], b = d[i + 2];
	return a * b * (fmin(a, b) + m) + 1;
}

/* The largest member load of the boundaries nb[] under the loads w[]. */
static double max_load(const team_t *t, const int *nb, const double *w)
{
	double mx = 0;
	for (int r = 0; r < t->size; r++) {
		double s = 0;
		for (int i = nb[r]; i < nb[r + 1]; i++)
			s += w[i];
		mx = fmax(mx, s);
	}
	return mx;
}

/* Nominal boundaries balancing the loads of t->bdim into nb[]: boundary r
 * where the prefix load comes closest to r/size of the total, every range
 * at least 2 sites (so that it keeps a site when a boundary moves). */
static void balance(team_t *t, int *nb)
{
	int L = t->L, R = t->size;
	double tot = 0;
	for (int i = 0; i < L; i++) {
		t->load[i] = i + 1 < L ? gate_cost(t->bdim, i) : 0;
		tot += t->load[i];
	}
	nb[0] = 0;
	nb[R] = L;
	double pre = 0;
	int j = 0;
	for (int r = 1; r < R; r++) {
		double goal = tot * r / R;
		int lo = nb[r - 1] + 2, hi = L - 2 * (R - r);
		while (j < lo) /* pre = load of sites [0, j) */
			pre += t->load[j++];
		while (j < hi && pre + t->load[j] / 2 < goal)
			pre += t->load[j++];
		nb[r] = j;
	}
}

/* The boundaries of a layer of parity par from the nominal ones. */
static void layer_bounds(const team_t *t, int par, int *nb)
{
	for (int r = 0; r <= t->size; r++) {
		int b = t->nom[r];
		nb[r] = (r > 0 && r < t->size && ((b - 1) & 1) == (par & 1))
				? b + 1
				: b;
	}
}

/* ---- moving sites ------------------------------------------------------ */

/* Layouts: member r has sites [lo[r], hi[r]).  The sites of mine in the
 * layout f that the layout to[] gives to another member d are sent to it
 * (one message per member, non-blocking: t->req), packed back to back;
 * even on failure every expected message is sent (empty if need be). */
static int send_sites(team_t *t, const int *flo, const int *fhi,
		      const int *tlo, const int *thi, char *err)
{
	int rc = 0, me = t->rank;
	for (int d = 0; d < t->size; d++) {
		int a = flo[me] > tlo[d] ? flo[me] : tlo[d];
		int b = fhi[me] < thi[d] ? fhi[me] : thi[d];
		if (d == me || a >= b)
			continue;
		size_t n = 0;
		for (int i = a; i < b; i++)
			n += mps_site_bytes(t->m, i);
		if (reserve(&t->sbuf[d], &t->scap[d], n))
			rc = eu_err(err, "team: out of memory");
		size_t off = 0;
		for (int i = a; i < b && !rc; i++) {
			if (mps_site_pack(t->m, i, t->sbuf[d] + off, n - off,
					  err))
				rc = -1;
			off += mps_site_bytes(t->m, i);
		}
		if (rc || n > (size_t)1 << 30) {
			rc = rc ? rc : eu_err(err, "team: message too big");
			n = 0;
		}
		MPI_Isend(t->sbuf[d], (int)n, MPI_BYTE, d, TAG_SITES, t->comm,
			  &t->req[t->nreq++]);
	}
	return rc;
}

/* The counterpart of send_sites(): the sites that the layout to[] gives
 * me and f gave to another member, unpacked into my state. */
static int recv_sites(team_t *t, const int *flo, const int *fhi,
		      const int *tlo, const int *thi, char *err)
{
	int rc = 0, me = t->rank;
	for (int s = 0; s < t->size; s++) {
		int a = flo[s] > tlo[me] ? flo[s] : tlo[me];
		int b = fhi[s] < thi[me] ? fhi[s] : thi[me];
		if (s == me || a >= b)
			continue;
		MPI_Status st;
		int n = 0;
		MPI_Probe(s, TAG_SITES, t->comm, &st);
		MPI_Get_count(&st, MPI_BYTE, &n);
		if (reserve(&t->rbuf, &t->rcap, (size_t)n + 1)) {
			/* cannot hold it: take it nowhere, fail */
			MPI_Recv(NULL, 0, MPI_BYTE, s, TAG_SITES, t->comm,
				 MPI_STATUS_IGNORE);
			rc = rc ? rc : eu_err(err, "team: out of memory");
			continue;
		}
		MPI_Recv(t->rbuf, n, MPI_BYTE, s, TAG_SITES, t->comm,
			 MPI_STATUS_IGNORE);
		size_t off = 0;
		for (int i = a; i < b && !rc; i++) {
			size_t used = 0;
			if (mps_site_unpack(t->m, t->rbuf + off, (size_t)n - off,
					    &used, err))
				rc = -1;
			off += used;
		}
		if (!rc && off != (size_t)n)
			rc = eu_err(err, "team: %d bytes from member %d, %zu "
					 "read",
				    n, s, off);
	}
	return rc;
}

/* The sends posted so far are complete (their buffers free again). */
static void sends_done(team_t *t)
{
	MPI_Waitall(t->nreq, t->req, MPI_STATUSES_IGNORE);
	t->nreq = 0;
}

/* Every member gets the sites of [nlo[r], nhi[r]) it does not own (its
 * own stay): a new partition, or ghost sites for measurements. */
static int exchange_ranges(team_t *t, const int *nlo, const int *nhi,
			   char *err)
{
	int rc = send_sites(t, t->own, t->own + 1, nlo, nhi, err);
	int rc2 = recv_sites(t, t->own, t->own + 1, nlo, nhi,
			     rc ? NULL : err);
	sends_done(t);
	return rc ? rc : rc2;
}

/* Every member gets the ranges nb[] (sites move to their new owners). */
static int redistribute(team_t *t, const int *nb, char *err)
{
	int same = 1;
	for (int r = 0; r <= t->size; r++)
		same &= nb[r] == t->own[r];
	if (same)
		return 0;
	int rc = exchange_ranges(t, nb, nb + 1, err);
	memcpy(t->own, nb, (size_t)(t->size + 1) * sizeof(int));
	return rc;
}

/* ---- creation and the command loop ------------------------------------- */

static void team_free(team_t *t)
{
	if (!t)
		return;
	tebd_destroy(&t->tebd);
	mps_destroy(&t->m);
	free(t->own), free(t->nom), free(t->need), free(t->bdim);
	free(t->mydim), free(t->nb), free(t->cnt);
	free(t->load);
	trotter_seq_free(&t->seq);
	free(t->disc), free(t->cost);
	if (t->sbuf)
		for (int r = 0; r < t->size; r++)
			free(t->sbuf[r]);
	free(t->sbuf), free(t->scap), free(t->rbuf);
	free(t->req), free(t->nxt);
	psvd_destroy(&t->psvd);
	free(t->allbig);
	free(t);
}

/* The parameters every member must share (threads may differ: they only
 * change who applies a gate, not its result). */
typedef struct {
	int L, nup, scheme, chi_max, decomp;
	double dt, cutoff;
} hdr_t;

static int team_alloc(team_t **out, MPI_Comm comm, const chain_t *c,
		      const tebd_params_t *p, char *err)
{
	team_t *t = calloc(1, sizeof *t);
	*out = t;
	if (!t)
		return eu_err(err, "team: out of memory");
	t->comm = comm;
	MPI_Comm_rank(comm, &t->rank);
	MPI_Comm_size(comm, &t->size);
	t->c = c;
	t->p = *p;
	t->L = c->L;
	size_t R = (size_t)t->size + 1, L = (size_t)t->L + 1;
	t->own = calloc(R, sizeof(int));
	t->nom = calloc(R, sizeof(int));
	t->need = calloc(2 * R, sizeof(int));
	t->bdim = calloc(L + 1, sizeof(int));
	t->mydim = calloc(L + 1, sizeof(int));
	t->nb = calloc(R, sizeof(int));
	t->cnt = calloc(2 * R, sizeof(int));
	t->load = calloc(L, sizeof(double));
	t->sbuf = calloc(R, sizeof *t->sbuf);
	t->req = calloc(R, sizeof *t->req);
	t->nxt = calloc(R, sizeof(int));
	t->allbig = calloc(R * (MAXBIG + 1), sizeof(int));
	t->scap = calloc(R, sizeof *t->scap);
	if (!t->own || !t->nom || !t->need || !t->bdim || !t->load ||
	    !t->sbuf || !t->scap || !t->mydim || !t->nb || !t->cnt ||
	    !t->req || !t->nxt || !t->allbig)
		return eu_err(err, "team: out of memory");
	if (t->L < 2 * t->size)
		return eu_err(err, "team: %d sites cannot be split over %d "
				   "members (2 sites each at least)",
			      t->L, t->size);
	char kerr[KZ_ERRLEN] = "";
	if (tebd_create(&t->tebd, c, p, kerr))
		return eu_err(err, "team: %s", kerr);
	return 0;
}

/* Collective part of the creation: header check, partition, scatter of
 * m (leader only; NULL elsewhere). */
static int team_start(team_t *t, int rc, const mps_t *m, char *err)
{
	hdr_t h = {t->L, 0, (int)t->p.scheme, t->p.chi_max, (int)t->p.decomp,
		   t->p.dt, t->p.cutoff};
	if (m)
		h.nup = mps_nup(m);
	hdr_t h0 = h;
	MPI_Bcast(&h0, (int)sizeof h0, MPI_BYTE, 0, t->comm);
	if (!rc && t->rank &&
	    (h0.L != h.L || h0.scheme != h.scheme || h0.chi_max != h.chi_max ||
	     h0.decomp != h.decomp || h0.dt != h.dt || h0.cutoff != h.cutoff))
		rc = eu_err(err, "team: this member's chain or TEBD "
				 "parameters differ from the leader's (L %d "
				 "vs %d, chi_max %d vs %d)",
			    h.L, h0.L, h.chi_max, h0.chi_max);
	t->nup = h0.nup;
	char kerr[KZ_ERRLEN] = "";
	if (!rc && mps_create_blank(&t->m, t->L, t->nup, kerr))
		rc = eu_err(err, "team: %s", kerr);
	if ((rc = agree_step(t, rc, err)))
		return rc;
	/* the leader's bond dimensions give everyone the same partition */
	if (m)
		for (int b = 0; b <= t->L; b++)
			t->bdim[b] = mps_bond_dim(m, b);
	MPI_Bcast(t->bdim, t->L + 1, MPI_INT, 0, t->comm);
	balance(t, t->nom);
	/* scatter: the leader owns everything, then hands out the ranges */
	for (int r = 1; r <= t->size; r++)
		t->own[r] = t->L;
	if (m) {
		mps_t *mine = t->m;
		t->m = (mps_t *)m; /* read only: exchange_ranges packs from it */
		rc = exchange_ranges(t, t->nom, t->nom + 1, err);
		t->m = mine;
		for (int i = t->nom[0]; i < t->nom[1] && !rc; i++) {
			size_t n = mps_site_bytes(m, i);
			if (reserve(&t->rbuf, &t->rcap, n) ||
			    mps_site_pack(m, i, t->rbuf, n, kerr) ||
			    mps_site_unpack(t->m, t->rbuf, n, NULL, kerr))
				rc = eu_err(err, "team: %s", kerr);
		}
		t->max_bond = mps_max_bond_dim(m);
	} else {
		rc = exchange_ranges(t, t->nom, t->nom + 1, err);
	}
	memcpy(t->own, t->nom, (size_t)(t->size + 1) * sizeof(int));
	return agree_step(t, rc, err);
}

int team_create(team_t **out, MPI_Comm comm, const chain_t *c,
		const tebd_params_t *p, const mps_t *m, char *err)
{
	*out = NULL;
	team_t *t = NULL;
	int rc = team_alloc(&t, comm, c, p, err);
	if (!rc && (!m || mps_length(m) != c->L))
		rc = eu_err(err, "team: the state does not fit the chain");
	if (t && (rc = team_start(t, rc, m, err))) {
		team_free(t);
		return rc;
	}
	if (!t)
		return rc;
	*out = t;
	return 0;
}

static int do_run(team_t *t, int nsteps, char *err);
static int do_measure(team_t *t, obs_t *o, double *rho3, char *err);
static int do_gather(team_t *t, mps_t **m, char *err);
static void do_stats(team_t *t, tebd_stats_t *s, double *wait_s);
static int do_scalapack(team_t *t, int min_dim, char *err);

int team_serve(MPI_Comm comm, const chain_t *c, const tebd_params_t *p,
	       char *err)
{
	team_t *t = NULL;
	int rc = team_alloc(&t, comm, c, p, err);
	if (t)
		rc = team_start(t, rc, NULL, err);
	while (!rc) {
		int cmd[2];
		MPI_Bcast(cmd, 2, MPI_INT, 0, comm);
		if (cmd[0] == CMD_END)
			break;
		switch (cmd[0]) {
		case CMD_RUN: rc = do_run(t, cmd[1], err); break;
		case CMD_MEASURE:
			rc = do_measure(t, NULL, NULL, err);
			break;
		case CMD_GATHER: rc = do_gather(t, NULL, err); break;
		case CMD_STATS: do_stats(t, NULL, NULL); break;
		case CMD_SCALAPACK: rc = do_scalapack(t, cmd[1], err); break;
		default: rc = eu_err(err, "team: unknown command %d", cmd[0]);
		}
	}
	team_free(t);
	return rc;
}

/* Leader: the command to the members; refused once the team is broken. */
static int command(team_t *t, int cmd, int arg, char *err)
{
	if (!t)
		return eu_err(err, "team: no team");
	if (t->broken)
		return eu_err(err, "team: an earlier step failed");
	int c[2] = {cmd, arg};
	MPI_Bcast(c, 2, MPI_INT, 0, t->comm);
	return 0;
}

void team_destroy(team_t **pt)
{
	if (!pt || !*pt)
		return;
	if (!(*pt)->broken)
		command(*pt, CMD_END, 0, NULL);
	team_free(*pt);
	*pt = NULL;
}

/* ---- evolution --------------------------------------------------------- */

/* All bond dimensions on every member, and new nominal boundaries if they
 * pay.  Member r contributes bonds [lo, hi) (the last also bond L). */
static void rebalance(team_t *t)
{
	int *cnt = t->cnt, *dsp = t->cnt + t->size;
	for (int r = 0; r < t->size; r++) {
		cnt[r] = t->own[r + 1] - t->own[r] + (r == t->size - 1);
		dsp[r] = t->own[r];
	}
	for (int k = 0; k < cnt[t->rank]; k++)
		t->mydim[k] = mps_bond_dim(t->m, lo_of(t) + k);
	MPI_Allgatherv(t->mydim, cnt[t->rank], MPI_INT, t->bdim, cnt, dsp,
		       MPI_INT, t->comm);
	balance(t, t->nb);
	if (max_load(t, t->nb, t->load) <
	    REBALANCE_GAIN * max_load(t, t->nom, t->load)) {
		memcpy(t->nom, t->nb, (size_t)(t->size + 1) * sizeof(int));
		t->rebalanced++;
	}
}

/* The leader's discard sums and largest bond after a run. */
static int run_results(team_t *t, int rc, size_t nl, char *err)
{
	size_t n = nl * (size_t)t->L;
	int mx = 0;
	for (int b = lo_of(t); b <= hi_of(t); b++)
		if (mps_bond_dim(t->m, b) > mx)
			mx = mps_bond_dim(t->m, b);
	MPI_Reduce(&mx, &t->max_bond, 1, MPI_INT, MPI_MAX, 0, t->comm);
	MPI_Reduce(&t->nsvd, &t->nsvd_total, 1, MPI_LONG, MPI_SUM, 0, t->comm);
	if (rc)
		return rc;
	/* every gate had one owner, the others hold 0: the sums are exact */
	const size_t chunk = (size_t)1 << 24;
	for (size_t off = 0; off < n; off += chunk) {
		int k = (int)(n - off < chunk ? n - off : chunk);
		double *d = t->disc + off, *c = t->cost + off;
		MPI_Reduce(t->rank ? d : MPI_IN_PLACE, d, k, MPI_DOUBLE,
			   MPI_SUM, 0, t->comm);
		MPI_Reduce(t->rank ? c : MPI_IN_PLACE, c, k, MPI_DOUBLE,
			   MPI_SUM, 0, t->comm);
	}
	if (t->rank == 0)
		for (size_t l = 0; l < nl; l++)
			tebd_accumulate(t->tebd, t->seq.par[l],
					t->disc + l * t->L, t->cost + l * t->L);
	(void)err;
	return 0;
}

/* The gates of layer l on sites [a, b) (tebd_layer), unless rc. */
static int gates_range(team_t *t, size_t l, int a, int b, int rc,
		       char *err)
{
	char kerr[KZ_ERRLEN] = "";
	if (rc || a >= b)
		return rc;
	double *d = t->disc + l * t->L, *c = t->cost + l * t->L;
	if (tebd_layer(t->tebd, t->m, t->seq.par[l], t->seq.coef[l], a, b, d,
		       c, kerr))
		return eu_err(err, "%s", kerr);
	return 0;
}

/* The same without the gates already done by ScaLAPACK (t->big,
 * ascending): [c, g+1) and [g+1, ...) leave gate g (sites g, g+1) out. */
static int gates(team_t *t, size_t l, int a, int b, int rc, char *err)
{
	int c = a;
	for (int k = 0; k < t->nbig; k++) {
		int g = t->big[k];
		if (g < c || g + 1 >= b)
			continue;
		rc = gates_range(t, l, c, g + 1, rc, err);
		c = g + 1;
	}
	return gates_range(t, l, c, b, rc, err);
}

/* The outside decomposition of tebd_set_svd(): this member's sector on
 * the team's grid, the others serving (big_gates). */
static int team_svd(void *ctx, int m, int n, kz_cplx *a, int lda, double *s,
		    kz_cplx *vt, int ldvt, char *kerr)
{
	team_t *t = ctx;
	char e[EU_ERRLEN] = "";
	int rc = psvd_svd_at(t->psvd, t->rank, m, n, a, lda, s, vt, ldvt, e);
	t->nsvd++;
	if (rc)
		snprintf(kerr, KZ_ERRLEN, "%s", e);
	return rc ? KZ_ELAPACK : 0;
}

/* Before layer l's other gates: the gates whose sectors reach svd_min,
 * one after the other, each with all members on the ScaLAPACK grid (its
 * owner decomposes, the others serve).  Every member lists its own (they
 * know their bonds), the lists are gathered, so every member knows whom to
 * serve and in which order. */
static int big_gates(team_t *t, size_t l, int rc, char *err)
{
	int par = t->seq.par[l], lo = lo_of(t), hi = hi_of(t), K = MAXBIG + 1;
	int mine[MAXBIG + 1] = {0};
	t->nbig = 0;
	tebd_set_svd(t->tebd, team_svd, t, t->svd_min);
	for (int i = lo + ((lo & 1) != (par & 1)); i + 1 < hi && !rc; i += 2)
		if (mine[0] < MAXBIG && tebd_gate_uses_svd(t->tebd, t->m, i))
			mine[1 + mine[0]++] = i;
	tebd_set_svd(t->tebd, NULL, NULL, 0);
	MPI_Allgather(mine, K, MPI_INT, t->allbig, K, MPI_INT, t->comm);
	for (int r = 0; r < t->size; r++)
		for (int k = 0; k < t->allbig[r * K]; k++) {
			if (r != t->rank) {
				int x = psvd_serve(t->psvd, r,
						   rc ? NULL : err);
				rc = rc ? rc : x;
				continue;
			}
			int g = t->allbig[r * K + 1 + k];
			tebd_set_svd(t->tebd, team_svd, t, t->svd_min);
			rc = gates_range(t, l, g, g + 2, rc, err);
			tebd_set_svd(t->tebd, NULL, NULL, 0);
			psvd_end(t->psvd);
		}
	t->nbig = mine[0];
	memcpy(t->big, mine + 1, MAXBIG * sizeof(int));
	return rc;
}

/* Layer l on my sites: first the gates on the sites that leave me after
 * it (the runs [lo, y) and [x, hi) that t->nxt gives away), whose result
 * is sent at once, then the rest while the messages travel.  The gates
 * with both sites in [lo, hi) are those in [lo, y+1), [y, x) and
 * [x-1, hi), each once (tebd_layer takes a gate when both its sites are in
 * the range). */
static int layer_pipelined(team_t *t, size_t l, int rc, char *err)
{
	int me = t->rank, lo = lo_of(t), hi = hi_of(t);
	int y = t->nxt[me] > lo ? t->nxt[me] : lo;
	int x = t->nxt[me + 1] < hi ? t->nxt[me + 1] : hi;
	int split = (y > lo || x < hi) && y + 2 <= x;
	if (split) {
		if (y > lo)
			rc = gates(t, l, lo, y + 1, rc, err);
		if (x < hi)
			rc = gates(t, l, x - 1, hi, rc, err);
	} else {
		rc = gates(t, l, lo, hi, rc, err);
	}
	int s = send_sites(t, t->own, t->own + 1, t->nxt, t->nxt + 1,
			   rc ? NULL : err);
	rc = rc ? rc : s;
	if (split)
		rc = gates(t, l, y, x, rc, err);
	return rc;
}

static int do_run(team_t *t, int nsteps, char *err)
{
	int rc = 0;
	if (nsteps <= 0)
		return agree_step(t, nsteps < 0 ? eu_err(err, "team: nsteps "
								"%d < 0",
							 nsteps)
						: 0,
				  err);
	if (trotter_seq_build(&t->seq, t->p.scheme, nsteps))
		rc = eu_err(err, "team: out of memory");
	size_t nl = rc ? 0 : t->seq.n, n = nl * (size_t)t->L;
	free(t->disc), free(t->cost);
	t->disc = calloc(n + 1, sizeof(double));
	t->cost = calloc(n + 1, sizeof(double));
	if (!t->disc || !t->cost)
		rc = eu_err(err, "team: out of memory");
	if ((rc = agree_step(t, rc, err)))
		return rc;
	/* A failure is sticky but silent until the end: the member stops
	 * computing and keeps exchanging (its pieces stay well-formed, and a
	 * receiver checks what it unpacks), so the only per-layer
	 * synchronisation is the neighbours' messages, which were sent a
	 * whole layer of work before they are needed (layer_pipelined). */
	for (size_t l = 0; l < nl; l++) {
		int x = 0;
		if (l > 0) { /* the sites the previous layer sent me */
			double w0 = MPI_Wtime();
			x = recv_sites(t, t->own, t->own + 1, t->nxt,
				       t->nxt + 1, rc ? NULL : err);
			sends_done(t);
			t->wait_s += MPI_Wtime() - w0;
			memcpy(t->own, t->nxt, (size_t)(t->size + 1) * sizeof(int));
		}
		rc = rc ? rc : x;
		if (l % REBALANCE_LAYERS == 0) {
			rebalance(t);
			layer_bounds(t, t->seq.par[l], t->need);
			x = redistribute(t, t->need, rc ? NULL : err);
			rc = rc ? rc : x;
		}
		if (l + 1 < nl)
			layer_bounds(t, t->seq.par[l + 1], t->nxt);
		else
			memcpy(t->nxt, t->own, (size_t)(t->size + 1) * sizeof(int));
		t->nbig = 0;
		if (t->svd_min > 0)
			rc = big_gates(t, l, rc, err);
		rc = layer_pipelined(t, l, rc, err);
	}
	sends_done(t);
	rc = agree_step(t, rc, err);
	return run_results(t, rc, nl, err);
}

int team_run(team_t *t, int nsteps, char *err)
{
	int rc = command(t, CMD_RUN, nsteps, err);
	return rc ? rc : do_run(t, nsteps, err);
}

void team_reset_discarded(team_t *t) { tebd_reset_discarded(t->tebd); }
double team_discarded_total(const team_t *t)
{
	return tebd_discarded_total(t->tebd);
}
double team_discarded_max(const team_t *t)
{
	return tebd_discarded_max(t->tebd);
}
int team_size(const team_t *t) { return t->size; }
int team_max_bond_dim(const team_t *t) { return t->max_bond; }
int team_rebalanced(const team_t *t) { return t->rebalanced; }

/* ---- measurement ------------------------------------------------------- */

/* <psi|psi> by the left-to-right contraction passed along the members (as
 * mps_norm(): the same products in the same order). */
static int norm_pass(team_t *t, double *norm, char *err)
{
	char kerr[KZ_ERRLEN] = "";
	int lo = lo_of(t), hi = hi_of(t), rc = 0;
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
	int rc = exchange_ranges(t, nlo, nhi, err);
	if ((rc = agree_step(t, rc, err)))
		return rc;
	char kerr[KZ_ERRLEN] = "";
	int lo = lo_of(t), hi = hi_of(t);
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

static int do_measure(team_t *t, obs_t *o, double *rho3, char *err)
{
	int L = t->L, n = hi_of(t) - lo_of(t), rc = 0;
	kz_cplx *rho = calloc(64 * (size_t)n + 1, sizeof(kz_cplx));
	double *ent = calloc((size_t)n + 1, sizeof(double));
	int *dim = calloc((size_t)n + 1, sizeof(int));
	kz_cplx *allrho = NULL;
	if (t->rank == 0)
		allrho = calloc(64 * (size_t)L, sizeof(kz_cplx));
	if (!rho || !ent || !dim || (t->rank == 0 && !allrho))
		rc = eu_err(err, "team: out of memory");
	if ((rc = agree_step(t, rc, err)))
		goto out;
	double norm = 0;
	rc = norm_pass(t, &norm, err);
	if ((rc = agree_step(t, rc, err)))
		goto out;
	rc = local_measure(t, rho, ent, dim, err);
	if (rc)
		goto out; /* agreed inside */
	rc = agree_step(t, 0, err);
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
	int rc = command(t, CMD_MEASURE, rho3 != NULL, err);
	return rc ? rc : do_measure(t, o, rho3, err);
}

/* ---- the whole state --------------------------------------------------- */

static int do_gather(team_t *t, mps_t **out, char *err)
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
	if ((rc = agree_step(t, rc, err)))
		return rc;
	/* the leader's own sites first, into the blank state */
	if (t->rank == 0) {
		for (int i = lo_of(t); i < hi_of(t) && !rc; i++) {
			size_t n = mps_site_bytes(t->m, i);
			if (reserve(&t->rbuf, &t->rcap, n) ||
			    mps_site_pack(t->m, i, t->rbuf, n, kerr) ||
			    mps_site_unpack(m, t->rbuf, n, NULL, kerr))
				rc = eu_err(err, "team: %s", kerr);
		}
		mps_t *mine = t->m;
		t->m = m;
		int rc2 = exchange_ranges(t, all, none, err);
		t->m = mine;
		rc = rc ? rc : rc2;
	} else {
		rc = exchange_ranges(t, all, none, err);
	}
	if ((rc = agree_step(t, rc, err))) {
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
	int rc = command(t, CMD_GATHER, 0, err);
	return rc ? rc : do_gather(t, m, err);
}

/* ---- statistics -------------------------------------------------------- */

static void do_stats(team_t *t, tebd_stats_t *s, double *wait_s)
{
	tebd_stats_t mine, sum;
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
	*wait_s = r[8];
	sum = (tebd_stats_t){r[0], r[1], r[2], w, r[3], r[4], (long)r[5],
			     (long)r[6], (long)r[7]};
	*s = sum;
}

int team_stats(team_t *t, tebd_stats_t *s, double *wait_s, char *err)
{
	int rc = command(t, CMD_STATS, 0, err);
	if (!rc)
		do_stats(t, s, wait_s);
	return rc;
}

/* ---- ScaLAPACK --------------------------------------------------------- */

/* block size of the grid (the ScaLAPACK Users' Guide's usual 64) */
#define PSVD_NB 64

static int do_scalapack(team_t *t, int min_dim, char *err)
{
	int rc = 0;
	if (min_dim > 0 && !t->psvd)
		rc = psvd_create(&t->psvd, t->comm, PSVD_NB, err);
	t->svd_min = rc ? 0 : (min_dim > 0 ? min_dim : 0);
	return agree_step(t, rc, err);
}

int team_set_scalapack(team_t *t, int min_dim, char *err)
{
	int rc = command(t, CMD_SCALAPACK, min_dim, err);
	return rc ? rc : do_scalapack(t, min_dim, err);
}

long team_scalapack_sectors(const team_t *t) { return t->nsvd_total; }
