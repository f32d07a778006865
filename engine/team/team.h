/* team: one point's TEBD evolved by a team of MPI ranks (bond-parallel).
 *
 * The chain's sites are split into contiguous ranges, one per member,
 * balanced by the cost of their bonds and rebalanced as they grow; within a
 * Trotter layer a member applies the gates of its range, and a gate on a
 * bond that straddles two members is applied by one of them after a
 * point-to-point exchange of the boundary tensors.  The result equals
 * tebd_run() on one rank bitwise (same gates, same decomposition path).
 *
 * Protocol: the leader (rank 0 of comm) drives.  It calls team_create(),
 * then any sequence of team_run(), team_measure(), team_gather(), and
 * finally team_destroy(); each call first broadcasts a small command to the
 * other members, which sit in team_serve() and execute the same collective
 * step.  Every step ends with an agreement on its return code, so a failure
 * on any member fails the call on every member (and the leader's err says
 * which member and why).
 *
 * Layering: engine/team may include the kernels and MPI; engine/farm
 * includes engine/team. */
#ifndef TEAM_H
#define TEAM_H

#include <mpi.h>

#include "chain.h"
#include "mps.h"
#include "obs.h"
#include "tebd.h"

typedef struct team_s team_t;

/* Leader only (rank 0 of comm): start a team evolution of m (borrowed:
 * scattered to the members, then no longer read; the caller keeps it and
 * gets the evolved state back from team_gather()).  c and p are the point's
 * chain and TEBD parameters; the members must have built equal ones.
 * Collective with team_serve() on the other members. */
int team_create(team_t **t, MPI_Comm comm, const chain_t *c,
		const tebd_params_t *p, const mps_t *m, char *err);

/* Members other than the leader: serve the leader's commands until it
 * calls team_destroy() (returns 0) or a step fails (returns its code, err
 * says why).  c and p equal the leader's. */
int team_serve(MPI_Comm comm, const chain_t *c, const tebd_params_t *p,
	       char *err);

/* Leader: end the team (members return from team_serve()); *t = NULL. */
void team_destroy(team_t **t);

/* Leader: advance the team's state by nsteps steps of dt (as tebd_run()).
 * With a hook (team_set_hook) the run may stop inside: KZ_STOPPED, with
 * *done (may be NULL) = the layers of the merged sequence applied (as
 * tebd_run_from(); the leader finishes such an interval alone from a
 * gathered copy of the state, e.g. after a checkpoint). */
int team_run(team_t *t, int nsteps, long *done, char *err);

/* Leader: the hook (NULL: never stop) is asked between two layers of
 * team_run(), as tebd_set_hook()'s, whether to stop.  The members agree on
 * the answer without waiting for each other at every layer: a yes at layer
 * l stops every member before layer l + TEAM_STOP_LAG, or at the end of
 * the run if that comes first. */
void team_set_hook(team_t *t, tebd_hook_fn hook, void *arg);
#define TEAM_STOP_LAG 2

/* Leader: the observables of the team's state into o (as obs_measure()
 * with t's chain), and, when rho3 is not NULL, the (L-2) three-site density
 * matrices normalised to trace 1 in the archive's layout (128 doubles per
 * window, as the worker's measure_rho3()).  Each member measures its sites;
 * windows across a boundary are formed where the tensors meet. */
int team_measure(team_t *t, obs_t *o, double *rho3, char *err);

/* Leader: the team's whole state, replacing *m (destroyed first if not
 * NULL); e.g. for a checkpoint or the end of the point. */
int team_gather(team_t *t, mps_t **m, char *err);

/* Leader: discarded weight since the last reset, summed over the team
 * (total) and its largest single update; as tebd_reset_discarded() etc. */
void team_reset_discarded(team_t *t);
double team_discarded_total(const team_t *t);
double team_discarded_max(const team_t *t);

/* How the work was shared, from each gate's measured wall seconds: the
 * busiest member's share of all members' gate seconds with the partitions
 * used (summed over the rebalancing periods), and its share had the ranges
 * of each period been balanced on those seconds (for 2 members the
 * smallest contiguous ranges allow; 1/size would be even, but a gate
 * cannot be split, so a few heavy gates bound it). */
typedef struct {
	double wait_s;       /* waiting for each other's sites, summed */
	double busiest;      /* share of the busiest member, as run */
	double busiest_best; /* the same, ranges balanced on the seconds */
} team_stats_t;

/* Leader: tebd_stats() summed over the members (wall_s: the largest), and
 * the team's own figures above. */
int team_stats(team_t *t, tebd_stats_t *s, team_stats_t *ts, char *err);

/* Leader: from now on, every charge sector with min(rows, cols) >=
 * min_dim is decomposed by ScaLAPACK on all members (psvd.h); 0 turns it
 * off.  Before each layer the gates holding such sectors are done one
 * after the other by the whole team, the rest as usual.  The results then
 * equal the single-rank ones to rounding (not bitwise).  Set the
 * threshold from `kapitza bench --scalapack`'s crossover; a small one
 * forces the path (tests).  It stays off unless chi_max >= 2 min_dim
 * (a sector holds two charge blocks of a bond; see do_scalapack). */
int team_set_scalapack(team_t *t, int min_dim, char *err);
/* The runs' default min_dim (--team-scalapack): where ScaLAPACK on 2 ranks
 * beat one rank's LAPACK by a clear margin on the idle 2-core machine of
 * the README ("ScaLAPACK for one large sector": 1.13x at n = 192, 1.46x
 * at 256, 2.0-2.4x from 512 to 2048). */
#define TEAM_SCALAPACK_MIN 256
/* Leader: the threshold in effect (0: the path is off, also when chi_max
 * < 2 min_dim). */
int team_scalapack_min(const team_t *t);
/* Leader: sectors decomposed by ScaLAPACK so far (all members). */
long team_scalapack_sectors(const team_t *t);

/* Leader: the team's size and the state's current largest bond dimension. */
int team_size(const team_t *t);
int team_max_bond_dim(const team_t *t);

/* Leader: how many times the partition has been rebalanced so far. */
int team_rebalanced(const team_t *t);

#endif
