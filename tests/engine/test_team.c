/* test_team: a team evolution (engine/team) equals the single-rank one
 * bitwise.  Run under mpirun with any number of ranks (2..4 here): rank 0
 * evolves the point alone with tebd_run(), measuring after every interval,
 * then leads a team of all ranks through the same intervals; every
 * observable, the rho3 windows, the discarded weights and finally the
 * gathered state (serialised) must be identical bit for bit.
 *
 * Points: an L = 48 XX/XXZ junction at chi_max = 64 from the domain wall
 * (bond dimensions grow in the middle first: the partition must rebalance,
 * also within a run)
 * and from the Neel state (entanglement grows everywhere and saturates
 * chi_max = 64: truncation on every bond).  Then the failure path: a member
 * whose parameters differ makes team_create() fail on every rank, with the
 * member named.
 *
 * With --scalapack=N instead: the domain wall with the ScaLAPACK path
 * forced on for every sector of N and more (all members decompose it
 * together), equal to the serial run to 1e-12 in every observable (the
 * discarded weight to 1e-14); the path must have been taken. */
#include <complex.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "eu.h"
#include "mps_io.h"
#include "obs.h"
#include "schema.h"
#include "team.h"

#define L_CHAIN 48
#define NINT 4    /* measurement intervals */
/* steps of each: the domain wall's intervals are longer than the
 * rebalancing period inside a run (64 layers), the Neel state's shorter */
#define NSTEP_DW 25
#define NSTEP_NEEL 12

static char err[EU_ERRLEN];

typedef struct {
	obs_t *o[NINT];
	double *rho3[NINT];
	double dtot[NINT], dmax[NINT];
	int maxb[NINT];
	int nstep, rebalanced;
	int svd_min;  /* team: ScaLAPACK from this sector size (0: off) */
	long nsvd;
	unsigned char *state;
	size_t nstate;
} record_t;

static void rho3_all(const mps_t *m, double *out)
{
	kz_cplx rho[64];
	for (int i = 0; i + 2 < L_CHAIN; i++) {
		OK(obs_rho3_window(m, i, rho, err));
		schema_rho_swap(out + 128 * i, (const double *)rho, 1);
	}
}

static void record_alloc(record_t *r)
{
	memset(r, 0, sizeof *r);
	for (int k = 0; k < NINT; k++) {
		OK(obs_create(&r->o[k], L_CHAIN, err));
		r->rho3[k] = calloc(128 * L_CHAIN, sizeof(double));
	}
}

static void record_free(record_t *r)
{
	for (int k = 0; k < NINT; k++) {
		obs_destroy(&r->o[k]);
		free(r->rho3[k]);
	}
	free(r->state);
}

static void serialise(const mps_t *m, record_t *r)
{
	r->nstate = mps_serial_bytes(m);
	r->state = malloc(r->nstate);
	OK(mps_serialise(m, r->state, r->nstate, err));
}

static void serial_run(const chain_t *c, const tebd_params_t *p,
		       const mps_t *m0, record_t *r)
{
	tebd_t *t = NULL;
	mps_t *m = NULL;
	OK(tebd_create(&t, c, p, err));
	OK(mps_copy(&m, m0, err));
	for (int k = 0; k < NINT; k++) {
		tebd_reset_discarded(t);
		OK(tebd_run(t, m, r->nstep, err));
		r->dtot[k] = tebd_discarded_total(t);
		r->dmax[k] = tebd_discarded_max(t);
		r->maxb[k] = mps_max_bond_dim(m);
		OK(obs_measure(r->o[k], m, c, err));
		rho3_all(m, r->rho3[k]);
	}
	serialise(m, r);
	mps_destroy(&m);
	tebd_destroy(&t);
}

static void team_lead(MPI_Comm comm, const chain_t *c,
		      const tebd_params_t *p, const mps_t *m0, record_t *r)
{
	team_t *t = NULL;
	mps_t *m = NULL;
	OK(team_create(&t, comm, c, p, m0, err));
	if (r->svd_min)
		OK(team_set_scalapack(t, r->svd_min, err));
	CHECK(team_size(t) > 0, "team size %d", team_size(t));
	for (int k = 0; k < NINT; k++) {
		team_reset_discarded(t);
		OK(team_run(t, r->nstep, NULL, err));
		r->dtot[k] = team_discarded_total(t);
		r->dmax[k] = team_discarded_max(t);
		r->maxb[k] = team_max_bond_dim(t);
		OK(team_measure(t, r->o[k], r->rho3[k], err));
	}
	OK(team_gather(t, &m, err));
	/* the balance figures are shares: even <= balanced, both <= 1; for 2
	 * members the balanced ranges are the best, so at most as run */
	tebd_stats_t st;
	team_stats_t ts;
	OK(team_stats(t, &st, &ts, err));
	int size = team_size(t);
	CHECK(ts.busiest_best >= 1.0 / size - 1e-12 && ts.busiest <= 1 + 1e-12 &&
		      ts.busiest_best <= 1 + 1e-12,
	      "balance shares %g, %g with %d members", ts.busiest,
	      ts.busiest_best, size);
	CHECK(size != 2 || ts.busiest_best <= ts.busiest + 1e-12,
	      "2 members: balanced share %g above the share as run %g",
	      ts.busiest_best, ts.busiest);
	CHECK(st.gates > 0 && ts.wait_s >= 0, "team statistics: %ld gates, "
	      "waited %g s", st.gates, ts.wait_s);
	r->rebalanced = team_rebalanced(t);
	r->nsvd = team_scalapack_sectors(t);
	serialise(m, r);
	mps_destroy(&m);
	team_destroy(&t);
}

static int same(const void *a, const void *b, size_t n)
{
	return memcmp(a, b, n) == 0;
}

static void compare(const char *what, const record_t *s, const record_t *t)
{
	size_t nd = L_CHAIN * sizeof(double), nb = (L_CHAIN - 1) * sizeof(double);
	for (int k = 0; k < NINT; k++) {
		const obs_t *a = s->o[k], *b = t->o[k];
		CHECK(same(a->sz, b->sz, nd), "%s interval %d: sz", what, k);
		CHECK(same(a->energy, b->energy, nb), "%s %d: energy", what, k);
		CHECK(same(a->spin_current, b->spin_current, nb),
		      "%s %d: spin current", what, k);
		CHECK(same(a->energy_flow, b->energy_flow, nd),
		      "%s %d: energy flow", what, k);
		CHECK(same(a->energy_current, b->energy_current, nb),
		      "%s %d: energy current", what, k);
		CHECK(same(a->entropy, b->entropy, nb), "%s %d: entropy", what,
		      k);
		CHECK(same(a->bond_dim, b->bond_dim,
			   (L_CHAIN - 1) * sizeof(int)),
		      "%s %d: bond dimensions", what, k);
		CHECK(same(&a->norm, &b->norm, sizeof(double)),
		      "%s %d: norm %.17g vs %.17g", what, k, a->norm, b->norm);
		CHECK(same(s->rho3[k], t->rho3[k],
			   128 * (L_CHAIN - 2) * sizeof(double)),
		      "%s %d: rho3", what, k);
		CHECK(same(&s->dtot[k], &t->dtot[k], sizeof(double)),
		      "%s %d: discarded %.17g vs %.17g", what, k, s->dtot[k],
		      t->dtot[k]);
		CHECK(s->dmax[k] == t->dmax[k], "%s %d: largest discard", what,
		      k);
		CHECK(s->maxb[k] == t->maxb[k], "%s %d: max bond %d vs %d",
		      what, k, s->maxb[k], t->maxb[k]);
	}
	CHECK(s->nstate == t->nstate && same(s->state, t->state, s->nstate),
	      "%s: gathered state differs from the serial one (%zu vs %zu "
	      "bytes)",
	      what, s->nstate, t->nstate);
	/* the point must have been a real test: truncation happened */
	printf("%s: max bond %d, discarded in the last interval %.3e\n", what,
	       s->maxb[NINT - 1], s->dtot[NINT - 1]);
}

/* |a - b| <= tol elementwise */
static double maxdiff(const double *a, const double *b, int n)
{
	double d = 0;
	for (int i = 0; i < n; i++)
		d = fmax(d, fabs(a[i] - b[i]));
	return d;
}

/* The ScaLAPACK path: every observable to 1e-12. */
static void compare_close(const char *what, const record_t *s,
			  const record_t *t)
{
	const double tol = 1e-12;
	int L = L_CHAIN;
	for (int k = 0; k < NINT; k++) {
		const obs_t *a = s->o[k], *b = t->o[k];
		double d = fmax(maxdiff(a->sz, b->sz, L),
				maxdiff(a->energy, b->energy, L - 1));
		d = fmax(d, maxdiff(a->spin_current, b->spin_current, L - 1));
		d = fmax(d, maxdiff(a->energy_flow, b->energy_flow, L));
		d = fmax(d, maxdiff(a->energy_current, b->energy_current,
				    L - 1));
		d = fmax(d, maxdiff(a->entropy, b->entropy, L - 1));
		d = fmax(d, fabs(a->norm - b->norm));
		d = fmax(d, maxdiff(s->rho3[k], t->rho3[k], 128 * (L - 2)));
		CHECK(d <= tol, "%s interval %d: observables differ by %.2e",
		      what, k, d);
		CHECK(same(a->bond_dim, b->bond_dim, (L - 1) * sizeof(int)),
		      "%s %d: bond dimensions", what, k);
		/* a sum of discarded squares: rounding is absolute, ~1e-16
		 * per update */
		CHECK_CLOSE(s->dtot[k], t->dtot[k], 1e-14, "discarded weight");
		if (k == NINT - 1)
			printf("%s: observables within %.1e of the serial "
			       "run, %ld sectors by ScaLAPACK\n",
			       what, d, t->nsvd);
	}
	CHECK(t->nsvd > 0, "%s: the ScaLAPACK path was never taken", what);
}

/* One point on the team of all ranks; threads: each member's. */
static void one_point(MPI_Comm comm, const char *what, const int *up,
		      int nstep, int threads, int need_chi, int svd_min)
{
	int rank;
	MPI_Comm_rank(comm, &rank);
	chain_t *c = NULL;
	OK(chain_create_junction(&c, L_CHAIN, 1.0, 0.0, cos(M_PI / 4), err));
	tebd_params_t p;
	tebd_params_default(&p);
	p.dt = 0.05;
	p.chi_max = 64;
	p.threads = threads;
	if (rank == 0) {
		mps_t *m0 = NULL;
		record_t s, t;
		OK(mps_create_product(&m0, L_CHAIN, up, err));
		record_alloc(&s);
		record_alloc(&t);
		s.nstep = t.nstep = nstep;
		t.svd_min = svd_min;
		serial_run(c, &p, m0, &s);
		team_lead(comm, c, &p, m0, &t);
		if (svd_min)
			compare_close(what, &s, &t);
		else
			compare(what, &s, &t);
		int size;
		MPI_Comm_size(comm, &size);
		printf("%s: partition rebalanced %d times\n", what,
		       t.rebalanced);
		/* from a product state the bonds grow: the first partition,
		 * by sites, cannot stay the balanced one */
		CHECK(size == 1 || t.rebalanced > 0 || svd_min,
		      "%s: the partition never changed", what);
		if (need_chi)
			CHECK(s.maxb[NINT - 1] == p.chi_max,
			      "%s: chi_max not reached (%d)", what,
			      s.maxb[NINT - 1]);
		record_free(&s);
		record_free(&t);
		mps_destroy(&m0);
	} else {
		int rc = team_serve(comm, c, &p, err);
		CHECK(rc == 0, "%s: team_serve on rank %d: %s", what, rank,
		      err);
	}
	chain_destroy(&c);
}

/* A member with another chi_max: every rank's call fails, naming it. */
static void mismatch(MPI_Comm comm)
{
	int rank, size;
	MPI_Comm_rank(comm, &rank);
	MPI_Comm_size(comm, &size);
	chain_t *c = NULL;
	OK(chain_create_junction(&c, L_CHAIN, 1.0, 0.0, cos(M_PI / 4), err));
	tebd_params_t p;
	tebd_params_default(&p);
	if (rank == size - 1)
		p.chi_max = 32;
	int up[L_CHAIN];
	for (int i = 0; i < L_CHAIN; i++)
		up[i] = i < L_CHAIN / 2;
	if (rank == 0) {
		mps_t *m0 = NULL;
		team_t *t = NULL;
		OK(mps_create_product(&m0, L_CHAIN, up, err));
		int rc = team_create(&t, comm, c, &p, m0, err);
		char want[64];
		snprintf(want, sizeof want, "team member %d of %d", size - 1,
			 size);
		CHECK(rc != 0 && t == NULL && strstr(err, want) &&
			      strstr(err, "differ"),
		      "mismatched member: rc %d, err '%s'", rc, err);
		mps_destroy(&m0);
	} else {
		int rc = team_serve(comm, c, &p, err);
		CHECK(rc != 0, "rank %d: team_serve accepted a mismatch", rank);
	}
	chain_destroy(&c);
}

int main(int argc, char **argv)
{
	int provided, rank, size;
	MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	int threads = 1, svd_min = 0;
	for (int k = 1; k < argc; k++)
		if (!strncmp(argv[k], "--threads=", 10))
			threads = atoi(argv[k] + 10);
		else if (!strncmp(argv[k], "--scalapack=", 12))
			svd_min = atoi(argv[k] + 12);
	int up[L_CHAIN];
	for (int i = 0; i < L_CHAIN; i++)
		up[i] = i < L_CHAIN / 2;
	if (svd_min) {
		/* the ScaLAPACK path forced on for sectors of svd_min and
		 * more: a few per layer, around the junction */
		one_point(MPI_COMM_WORLD, "domain wall, ScaLAPACK", up,
			  NSTEP_DW, threads, 0, svd_min);
		goto done;
	}
	one_point(MPI_COMM_WORLD, "domain wall", up, NSTEP_DW, threads, 0, 0);
	for (int i = 0; i < L_CHAIN; i++)
		up[i] = i % 2;
	one_point(MPI_COMM_WORLD, "Neel", up, NSTEP_NEEL, threads, 1, 0);
	mismatch(MPI_COMM_WORLD);
done:;
	char name[64];
	snprintf(name, sizeof name, "test_team rank %d of %d", rank, size);
	int rc = check_done(name);
	int any = 0;
	MPI_Allreduce(&rc, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	MPI_Finalize();
	return any;
}
