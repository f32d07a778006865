/* tebd: real-time evolution exp(-i H t) of an MPS by time-evolving block
 * decimation with a symmetric split H = H_even + H_odd (bonds i even / odd).
 *
 * Schemes: the real-time ones of trotter.h (order 4 means Forest-Ruth, 6
 * layers per step; trotter.c gives coefficients, references and the
 * measured errors).
 *
 * Every two-site update is truncated by the rule of trunc.h (chi_max
 * Schmidt values, those below `cutoff` dropped, absolute on the normalised
 * spectrum), and the state is renormalised.  The weight discarded is
 * accumulated per bond.
 *
 * Threads: gates of one layer commute and touch disjoint tensors, so they run
 * in parallel over `threads` OpenMP threads, each with its own workspace and
 * single-threaded BLAS. */
#ifndef TEBD_H
#define TEBD_H

#include "chain.h"
#include "kz.h"
#include "mps.h"
#include "trotter.h"

/* The schemes are trotter.h's; these names stay for the callers. */
typedef trotter_scheme_t tebd_scheme_t;
#define TEBD_TROTTER2 TROTTER_STRANG2
#define TEBD_SUZUKI4 TROTTER_SUZUKI4
#define TEBD_OMELYAN4 TROTTER_OMELYAN4
#define TEBD_FOREST_RUTH4 TROTTER_FOREST_RUTH4
#define TEBD_LAST TROTTER_LAST

/* How each charge sector of a two-site update is decomposed: the SVD, or
 * the QR-based subspace iteration of qrdec.h started from the previous
 * right Schmidt basis (exact Schmidt values and discarded weight of what it
 * keeps; sectors too small for it to pay, and sectors whose trial states
 * are all kept, take the SVD). */
typedef enum {
	TEBD_DECOMP_SVD = 0,
	TEBD_DECOMP_QR = 1,
} tebd_decomp_t;

typedef struct {
	tebd_scheme_t scheme;
	double dt;       /* > 0, finite */
	int chi_max;     /* >= 1 */
	double cutoff;   /* >= 0 */
	int threads;     /* >= 1: OpenMP threads over gates */
	tebd_decomp_t decomp; /* TEBD_DECOMP_SVD (default) or _QR */
} tebd_params_t;

/* Fills p with the defaults: order 4 (Forest-Ruth), dt = 0.02, chi_max = 64, cutoff 1e-10,
 * 1 thread, SVD. */
void tebd_params_default(tebd_params_t *p);
/* The real-time scheme for a Trotter order (2 or 4); error otherwise.
 * Name and layers per merged step as trotter_name, trotter_layers. */
int tebd_scheme_for_order(int order, tebd_scheme_t *s, char *err);
const char *tebd_scheme_name(tebd_scheme_t s);
int tebd_scheme_layers(tebd_scheme_t s);

typedef struct tebd_s tebd_t;

/* The chain is borrowed and must outlive t. */
int tebd_create(tebd_t **t, const chain_t *c, const tebd_params_t *p,
		char *err);
void tebd_destroy(tebd_t **t);

/* Advance m by nsteps steps of dt.  m must have the chain's length.
 * Returns KZ_STOPPED (not an error) if the stop hook asked to stop; then m
 * is the state after some whole layers and only tebd_run_from() with the
 * same nsteps can finish the run. */
int tebd_run(tebd_t *t, mps_t *m, int nsteps, char *err);

/* Stops between layers.  One call of tebd_run applies the merged layer
 * sequence of its nsteps steps (trotter.h): tebd_layers(t, nsteps) layers,
 * where the closing half-layer of a step and the opening one of the next
 * are one layer.  The state after layer j of that sequence is well
 * defined, so a run can stop there and continue later, from a saved copy
 * of the state, bitwise as if it had never stopped.
 *
 * The hook (may be NULL: never stop) is called between two layers of a
 * call, never before its first or after its last, with the number of
 * layers of the sequence applied so far; it returns non-zero to stop
 * there.  It knows the caller's business (a signal flag, a test switch):
 * the kernel knows neither signals nor processes. */
typedef int (*tebd_hook_fn)(void *arg, long layers_done);
void tebd_set_hook(tebd_t *t, tebd_hook_fn hook, void *arg);

/* Layers of the merged sequence of nsteps >= 1 steps: (n-1) nsteps + 1
 * for a scheme of n exponentials per step, i.e. tebd_scheme_layers() x
 * nsteps + 1. */
long tebd_layers(const tebd_t *t, int nsteps);

/* The layers [first, tebd_layers(t, nsteps)) of the merged sequence of
 * nsteps steps: tebd_run(t, m, nsteps) is tebd_run_from(t, m, nsteps, 0,
 * ...).  *done (may be NULL) receives the layers of the sequence applied
 * when the call returns: all of them on KZ_OK, fewer on KZ_STOPPED.  To
 * continue a stopped run exactly, call it with the same nsteps, first =
 * *done, the state as it was, and the discarded-weight accumulators as
 * they were (tebd_restore_discarded). */
int tebd_run_from(tebd_t *t, mps_t *m, int nsteps, long first, long *done,
		  char *err);

/* One Trotter layer on part of the chain, for an evolution split over
 * several owners of contiguous site ranges (engine/team): the gates of
 * parity par (bonds i = par mod 2) whose two sites lie in [lo, hi), each
 * exp(-i coef dt h_i), over t's threads, exactly as tebd_run() applies
 * them.  disc and cost ([L-1] at least) receive, for each gate i applied,
 * its discarded weight and the product of its three bond dimensions before
 * it; the accumulators are not touched (tebd_accumulate).  secs (may be
 * NULL; [L-1]): each gate's wall seconds are added to secs[i] (engine/team
 * reports from them how evenly its members shared the work). */
int tebd_layer(tebd_t *t, mps_t *m, int par, double coef, int lo, int hi,
	       double *disc, double *cost, double *secs, char *err);

/* Adds one whole layer's discards (disc, cost of all its gates, as
 * tebd_layer() fills them) to the accumulators in the order tebd_run()
 * sums them, so that split runs give bitwise the same totals. */
void tebd_accumulate(tebd_t *t, int par, const double *disc,
		     const double *cost);

/* An outside decomposition of large sectors (engine/team: ScaLAPACK over
 * the ranks of a team; the kernel itself knows nothing of MPI): fn gets a
 * sector's m x n column-major matrix a (lda; it may overwrite it) and
 * returns its min(m, n) singular values in s (descending) and the rows of
 * V^dag in vt (ldvt), or an error code with a message in err (KZ_ERRLEN).
 * Every sector with min(m, n) >= min_dim goes to fn; fn NULL turns it off.
 * The results differ from LAPACK's at rounding level only.  fn is called
 * from the thread that called tebd_layer() when the range holds one gate
 * (the engine uses it so). */
typedef int (*tebd_svd_fn)(void *ctx, int m, int n, kz_cplx *a, int lda,
			   double *s, kz_cplx *vt, int ldvt, char *err);
void tebd_set_svd(tebd_t *t, tebd_svd_fn fn, void *ctx, int min_dim);
/* Whether the gate on bond i of m would call the outside decomposition
 * (reads bonds i..i+2 only). */
int tebd_gate_uses_svd(const tebd_t *t, const mps_t *m, int i);

/* Apply one arbitrary charge-conserving two-site gate g to bond i (sites i,
 * i+1) with the truncation of t (g: 4x4, basis 2 s_i + s_{i+1}, column-major
 * g[r + 4c]; elements between different numbers of up spins must be 0).  The
 * state is renormalised, so non-unitary gates (imaginary time) work too.
 * For swaps, imaginary-time and other custom sequences; t's chain is not
 * used.  *discarded (may be NULL) receives this update's discarded weight. */
int tebd_apply(tebd_t *t, mps_t *m, int i, const kz_cplx g[16],
	       double *discarded, char *err);

/* Discarded weight: summed over all updates so far, per kernel bond
 * ([L-1], summed), and the largest single-update discard. */
double tebd_discarded_total(const tebd_t *t);
const double *tebd_discarded_bond(const tebd_t *t);
double tebd_discarded_max(const tebd_t *t);

/* Zero the discarded-weight accumulators (total, per bond, max), e.g. at a
 * measurement so that sums restart from a checkpointable value. */
void tebd_reset_discarded(tebd_t *t);

/* Set the accumulators to a total and a largest single-update discard
 * saved earlier (tebd_discarded_total, _max), so that a run continued by
 * tebd_run_from adds up exactly what an uninterrupted one would.  The
 * per-bond sums restart from 0 (nothing saves them). */
void tebd_restore_discarded(tebd_t *t, double total, double max);

/* Bins of the decomposition time by sector size n = min(rows, cols):
 * bin 0 holds n = 1, bin b n in (2^(b-1), 2^b], the last bin all larger. */
#define TEBD_SIZE_BINS 10

/* Where the time went, seconds summed over threads since creation:
 * SVDs, matrix products, the rest of the updates; and counted flops. */
typedef struct {
	double svd_s, gemm_s, other_s, wall_s;
	double gemm_flops, svd_flops;   /* svd_flops: standard estimate */
	long gates;
	/* sectors decomposed by QR, and those of them redone by SVD */
	long qr_sectors, qr_redone;
	/* the SVD path's part of svd_s: the bidiagonalisation (zgebrd), the
	 * bidiagonal SVD (dbdsqr/dbdsdc; a zgesvd fallback counts here) and
	 * the back-transformation of the kept rows of V^dag (zunmbr) */
	double brd_s, bdsvd_s, back_s;
	/* svd_s split by sector size (TEBD_SIZE_BINS): seconds, sectors */
	double size_s[TEBD_SIZE_BINS];
	long size_n[TEBD_SIZE_BINS];
} tebd_stats_t;
void tebd_stats(const tebd_t *t, tebd_stats_t *s);

#endif
