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
 * move at once.  The gates' measured seconds of the layers since the last
 * time are gathered too, for the statistics only (team_stats_t): how large
 * a share the busiest member had, and how small it could have been with
 * contiguous ranges (one gate cannot be split, and a few gates at the
 * junction can carry half of a layer).  The model decides, not the
 * measurement: tried, rebalancing by the measured seconds was no faster
 * (chi 256 bench) and made the partitions depend on the machine.
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
 * ScaLAPACK (team_set_scalapack): before a layer's other gates, those
 * holding a sector of min(rows, cols) >= svd_min are listed by their
 * owners, the lists gathered, and each such gate is applied by its owner
 * while all members decompose its large sectors together (psvd.h, through
 * the kernel's tebd_set_svd hook; the others serve); the other gates then
 * skip them.
 *
 * Measurement, gathering and statistics: team_measure.c.
 *
 * Errors: a step's local return codes are agreed on (team_agree_step)
 * before any communication whose pattern depends on success, so a failure
 * never leaves a member waiting; messages of a failing member are still sent (possibly
 * empty) and rejected by their receivers' checks.  Within team_run() the
 * agreement comes once, at the end (see do_run). */
#include "team.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eu.h"
#include "mps_io.h"
#include "team_impl.h"

/* layers between two rebalancings (deterministic on every member) */
#define REBALANCE_LAYERS 64
/* a new partition is taken only if it lowers the largest load by 5% */
#define REBALANCE_GAIN 0.95

/* ---- small helpers ----------------------------------------------------- */

int team_reserve(void *pbuf, size_t *cap, size_t n)
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
int team_agree_step(team_t *t, int rc, char *err)
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

/* The model's loads from the bond dimensions t->bdim. */
static void model_loads(team_t *t)
{
	for (int i = 0; i < t->L; i++)
		t->load[i] = i + 1 < t->L ? gate_cost(t->bdim, i) : 0;
}

/* Nominal boundaries balancing the loads t->load into nb[]: boundary r
 * where the prefix load comes closest to r/size of the total, every range
 * at least 2 sites (so that it keeps a site when a boundary moves). */
static void balance(team_t *t, int *nb)
{
	int L = t->L, R = t->size;
	double tot = 0;
	for (int i = 0; i < L; i++)
		tot += t->load[i];
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

/* The sends posted so far are complete (their buffers free again).  A
 * layer's sends are completed only when the buffers are refilled, not at
 * the next layer: waiting there held the sender until the receiver had
 * come to the next layer too (the receiver moves the data), which tied the
 * members together at every layer. */
static void sends_done(team_t *t)
{
	MPI_Waitall(t->nreq, t->req, MPI_STATUSES_IGNORE);
	t->nreq = 0;
}

/* Layouts: member r has sites [lo[r], hi[r]).  The sites of mine in the
 * layout f that the layout to[] gives to another member d are sent to it
 * (one message per member, non-blocking: t->req), packed back to back;
 * even on failure every expected message is sent (empty if need be). */
static int send_sites(team_t *t, const int *flo, const int *fhi,
		      const int *tlo, const int *thi, char *err)
{
	int rc = 0, me = t->rank;
	sends_done(t); /* the buffers are to be refilled */
	for (int d = 0; d < t->size; d++) {
		int a = flo[me] > tlo[d] ? flo[me] : tlo[d];
		int b = fhi[me] < thi[d] ? fhi[me] : thi[d];
		if (d == me || a >= b)
			continue;
		size_t n = 0;
		for (int i = a; i < b; i++)
			n += mps_site_bytes(t->m, i);
		if (team_reserve(&t->sbuf[d], &t->scap[d], n))
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
		if (team_reserve(&t->rbuf, &t->rcap, (size_t)n + 1)) {
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

/* Every member gets the sites of [nlo[r], nhi[r]) it does not own (its
 * own stay): a new partition, or ghost sites for measurements. */
int team_exchange(team_t *t, const int *nlo, const int *nhi,
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
	int rc = team_exchange(t, nb, nb + 1, err);
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
	free(t->nb);
	free(t->load);
	free(t->gsec);
	free(t->allsec);
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
	t->nb = calloc(R, sizeof(int));
	t->load = calloc(L, sizeof(double));
	t->gsec = calloc(L, sizeof(double));
	t->allsec = calloc(R * L, sizeof(double));
	t->sbuf = calloc(R, sizeof *t->sbuf);
	t->req = calloc(R, sizeof *t->req);
	t->nxt = calloc(R, sizeof(int));
	t->allbig = calloc(R * (MAXBIG + 1), sizeof(int));
	t->scap = calloc(R, sizeof *t->scap);
	if (!t->own || !t->nom || !t->need || !t->bdim || !t->load ||
	    !t->sbuf || !t->scap || !t->nb ||
	    !t->req || !t->nxt || !t->allbig || !t->gsec || !t->allsec)
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
	if ((rc = team_agree_step(t, rc, err)))
		return rc;
	/* the leader's bond dimensions give everyone the same partition */
	if (m)
		for (int b = 0; b <= t->L; b++)
			t->bdim[b] = mps_bond_dim(m, b);
	MPI_Bcast(t->bdim, t->L + 1, MPI_INT, 0, t->comm);
	model_loads(t);
	balance(t, t->nom);
	/* scatter: the leader owns everything, then hands out the ranges */
	for (int r = 1; r <= t->size; r++)
		t->own[r] = t->L;
	if (m) {
		mps_t *mine = t->m;
		t->m = (mps_t *)m; /* read only: exchange_ranges packs from it */
		rc = team_exchange(t, t->nom, t->nom + 1, err);
		t->m = mine;
		for (int i = t->nom[0]; i < t->nom[1] && !rc; i++) {
			size_t n = mps_site_bytes(m, i);
			if (team_reserve(&t->rbuf, &t->rcap, n) ||
			    mps_site_pack(m, i, t->rbuf, n, kerr) ||
			    mps_site_unpack(t->m, t->rbuf, n, NULL, kerr))
				rc = eu_err(err, "team: %s", kerr);
		}
		t->max_bond = mps_max_bond_dim(m);
	} else {
		rc = team_exchange(t, t->nom, t->nom + 1, err);
	}
	memcpy(t->own, t->nom, (size_t)(t->size + 1) * sizeof(int));
	return team_agree_step(t, rc, err);
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

static int do_run(team_t *t, int nsteps, long *done, char *err);
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
		case CMD_RUN: {
			long done;
			rc = do_run(t, cmd[1], &done, err);
			rc = rc == KZ_STOPPED ? 0 : rc; /* the leader decides */
			break;
		}
		case CMD_MEASURE:
			rc = team_do_measure(t, NULL, NULL, err);
			break;
		case CMD_GATHER: rc = team_do_gather(t, NULL, err); break;
		case CMD_STATS: team_do_stats(t, NULL, NULL); break;
		case CMD_SCALAPACK: rc = do_scalapack(t, cmd[1], err); break;
		default: rc = eu_err(err, "team: unknown command %d", cmd[0]);
		}
	}
	team_free(t);
	return rc;
}

/* Leader: the command to the members; refused once the team is broken. */
int team_command(team_t *t, int cmd, int arg, char *err)
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
		team_command(*pt, CMD_END, 0, NULL);
	team_free(*pt);
	*pt = NULL;
}

/* ---- evolution --------------------------------------------------------- */

/* The balance of the layers since the last call: the gates' measured
 * seconds summed over the members (each gate of a layer is applied by
 * one), the busiest member's under the partition that was used and under
 * the best one for these seconds (balance() on them), added up. */
void team_measure_balance(team_t *t)
{
	if (t->glayers == 0)
		return;
	MPI_Allgather(t->gsec, t->L, MPI_DOUBLE, t->allsec, t->L, MPI_DOUBLE,
		      t->comm);
	double tot = 0;
	for (int i = 0; i < t->L; i++) {
		t->load[i] = 0;
		for (int r = 0; r < t->size; r++)
			t->load[i] += t->allsec[(size_t)r * t->L + i];
		tot += t->load[i];
	}
	balance(t, t->nb);
	t->bal_total += tot;
	t->bal_used += max_load(t, t->nom, t->load);
	t->bal_best += max_load(t, t->nb, t->load);
	memset(t->gsec, 0, (size_t)t->L * sizeof *t->gsec);
	t->glayers = 0;
}

/* New nominal boundaries from the model of all bond dimensions (every
 * member contributes those it holds), if they pay. */
static void rebalance(team_t *t)
{
	team_measure_balance(t);
	for (int b = 0; b <= t->L; b++)
		t->bdim[b] = b >= team_lo(t) && b <= team_hi(t)
				     ? mps_bond_dim(t->m, b)
				     : 0;
	MPI_Allreduce(MPI_IN_PLACE, t->bdim, t->L + 1, MPI_INT, MPI_MAX,
		      t->comm);
	model_loads(t);
	balance(t, t->nb);
	if (max_load(t, t->nb, t->load) <
	    REBALANCE_GAIN * max_load(t, t->nom, t->load)) {
		memcpy(t->nom, t->nb, (size_t)(t->size + 1) * sizeof(int));
		t->rebalanced++;
	}
}

/* The leader's discard sums and largest bond after a run of nl layers
 * applied. */
static int run_results(team_t *t, int rc, size_t nl, char *err)
{
	size_t n = nl * (size_t)t->L;
	int mx = 0;
	for (int b = team_lo(t); b <= team_hi(t); b++)
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
		       c, t->gsec, kerr))
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
	int par = t->seq.par[l], lo = team_lo(t), hi = team_hi(t), K = MAXBIG + 1;
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
	int me = t->rank, lo = team_lo(t), hi = team_hi(t);
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

/* The stop agreement of do_run: before layer l >= 1 every member starts
 * a non-blocking MAX over the leader's hook answer (the others give 0) and
 * completes the one it started TEAM_STOP_LAG layers earlier: the members
 * are about a layer apart at most, so it is normally complete, and all of
 * them see the same answers at the same layers.  Returns 1: stop before
 * layer l. */
typedef struct {
	MPI_Request req[TEAM_STOP_LAG];
	int val[TEAM_STOP_LAG], out[TEAM_STOP_LAG];
	size_t started; /* layers 1..started have a request */
} stop_t;

static int stop_check(team_t *t, stop_t *s, size_t l)
{
	int k = (int)(l % TEAM_STOP_LAG);
	if (l > TEAM_STOP_LAG) {
		MPI_Wait(&s->req[k], MPI_STATUS_IGNORE);
		if (s->out[k])
			return 1;
	}
	s->val[k] = t->rank == 0 && t->hook && t->hook(t->hook_arg, (long)l);
	MPI_Iallreduce(&s->val[k], &s->out[k], 1, MPI_INT, MPI_MAX, t->comm,
		       &s->req[k]);
	s->started = l;
	return 0;
}

/* The requests still open at the end of a run (their answers unused). */
static void stop_end(stop_t *s)
{
	for (size_t l = s->started > TEAM_STOP_LAG ? s->started - TEAM_STOP_LAG + 1
						  : 1;
	     l <= s->started; l++)
		MPI_Wait(&s->req[l % TEAM_STOP_LAG], MPI_STATUS_IGNORE);
}

static int do_run(team_t *t, int nsteps, long *done, char *err)
{
	int rc = 0;
	*done = 0;
	if (nsteps <= 0)
		return team_agree_step(t, nsteps < 0 ? eu_err(err, "team: nsteps "
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
	if ((rc = team_agree_step(t, rc, err)))
		return rc;
	/* A failure is sticky but silent until the end: the member stops
	 * computing and keeps exchanging (its pieces stay well-formed, and a
	 * receiver checks what it unpacks), so the only per-layer
	 * synchronisation is the neighbours' messages, which were sent a
	 * whole layer of work before they are needed (layer_pipelined). */
	stop_t stop = {.started = 0};
	size_t l = 0;
	for (; l < nl; l++) {
		int x = 0;
		if (l > 0) { /* the sites the previous layer sent me */
			double w0 = MPI_Wtime();
			x = recv_sites(t, t->own, t->own + 1, t->nxt,
				       t->nxt + 1, rc ? NULL : err);
			t->wait_s += MPI_Wtime() - w0;
			memcpy(t->own, t->nxt, (size_t)(t->size + 1) * sizeof(int));
		}
		rc = rc ? rc : x;
		if (l > 0 && stop_check(t, &stop, l))
			break; /* the sites are where layer l wants them */
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
		t->glayers++;
	}
	stop_end(&stop);
	sends_done(t);
	rc = team_agree_step(t, rc, err);
	*done = (long)l;
	rc = run_results(t, rc, l, err);
	return rc ? rc : l < nl ? KZ_STOPPED : 0;
}

int team_run(team_t *t, int nsteps, long *done, char *err)
{
	long d = 0;
	int rc = team_command(t, CMD_RUN, nsteps, err);
	rc = rc ? rc : do_run(t, nsteps, &d, err);
	if (done)
		*done = d;
	return rc;
}

void team_set_hook(team_t *t, tebd_hook_fn hook, void *arg)
{
	t->hook = hook;
	t->hook_arg = arg;
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
int team_scalapack_min(const team_t *t) { return t->svd_min; }

/* ---- ScaLAPACK --------------------------------------------------------- */

/* block size of the grid (the ScaLAPACK Users' Guide's usual 64) */
#define PSVD_NB 64

static int do_scalapack(team_t *t, int min_dim, char *err)
{
	int rc = 0;
	/* A sector's rows (columns) are two charge blocks of its left (right)
	 * bond, so one of min_dim needs chi_max >= min_dim, and in practice
	 * (several charges per bond) chi_max >= 2 min_dim.  Below that the
	 * path stays off: no grid, and no per-layer exchange of the lists of
	 * large sectors (big_gates), which synchronises the members at every
	 * layer (measured at chi 256, min_dim 256, no sector that large:
	 * 0.345 against 0.243 s per saturated step).  Results are right
	 * either way; only speed and rounding depend on it. */
	if (2 * min_dim > t->p.chi_max)
		min_dim = 0;
	if (min_dim > 0 && !t->psvd)
		rc = psvd_create(&t->psvd, t->comm, PSVD_NB, err);
	t->svd_min = rc ? 0 : (min_dim > 0 ? min_dim : 0);
	return team_agree_step(t, rc, err);
}

int team_set_scalapack(team_t *t, int min_dim, char *err)
{
	int rc = team_command(t, CMD_SCALAPACK, min_dim, err);
	return rc ? rc : do_scalapack(t, min_dim, err);
}

long team_scalapack_sectors(const team_t *t) { return t->nsvd_total; }
