/* team_impl: the state of a team member, shared by team.c (protocol,
 * partition, evolution) and team_measure.c (measurement, gathering,
 * statistics).  Not part of the public API. */
#ifndef TEAM_IMPL_H
#define TEAM_IMPL_H

#include <stddef.h>

#include "psvd.h"
#include "team.h"
#include "trotter.h"

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
	int *nb;          /* [size+1] scratch */
	int *bdim;        /* [L+1] all bond dimensions at the last rebalance */
	double *load;     /* [L] scratch: cost of the gate left on each site */
	double *gsec;     /* [L] seconds of my gates since the last rebalance */
	double *allsec;   /* [size L] scratch: every member's gsec */
	long glayers;     /* layers gsec covers */
	/* measured gate seconds: all, the busiest member's, the busiest
	 * member's under ranges balanced on them (team_measure_balance) */
	double bal_total, bal_used, bal_best;
	trotter_seq_t seq;
	double *disc, *cost; /* [layers * L]: this member's gates of a run */
	unsigned char **sbuf; /* [size] send buffers */
	MPI_Request *req;     /* [size] their sends */
	int nreq;
	int *nxt;             /* [size+1] the next layer's boundaries */
	size_t *scap;
	unsigned char *rbuf;
	size_t rcap;
	tebd_hook_fn hook; /* leader: team_set_hook */
	void *hook_arg;
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

static inline int team_lo(const team_t *t) { return t->own[t->rank]; }
static inline int team_hi(const team_t *t) { return t->own[t->rank + 1]; }

/* Grows *pbuf (bytes) to n; 0 or -1. */
int team_reserve(void *pbuf, size_t *cap, size_t n);
/* The step's outcome on every member: 0, or the first failing member's
 * code, with err = "team member R of N: why"; marks the team broken. */
int team_agree_step(team_t *t, int rc, char *err);
/* Every member gets the sites of [nlo[r], nhi[r]) it does not own. */
int team_exchange(team_t *t, const int *nlo, const int *nhi, char *err);
/* Leader: broadcast a command (refused once the team is broken). */
int team_command(team_t *t, int cmd, int arg, char *err);
/* The collective steps of the commands, on every member (leader: o, m, s
 * are its outputs; NULL elsewhere). */
int team_do_measure(team_t *t, obs_t *o, double *rho3, char *err);
int team_do_gather(team_t *t, mps_t **m, char *err);
void team_do_stats(team_t *t, tebd_stats_t *s, team_stats_t *ts);
/* Adds the gate seconds measured since the last call to the balance
 * figures of team_stats_t (collective). */
void team_measure_balance(team_t *t);

#endif
