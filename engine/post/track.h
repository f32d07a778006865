/* track: the maxima n'_L(t) < 0 < n'_R(t) of the energy-current profiles of
 * one point followed in time (the internal light cone of the paper's
 * Fig. 3c; engine/POSTSTAGE.md, "Tracking the maxima").
 *
 * fit_peaks (fit.h) looks at one row at a time and takes the highest
 * maximum on each side; when two ripples of the profile have similar
 * heights, the pick hops between them from row to row.  The tracker:
 *
 *   1. candidates: local maxima of the smoothed profile (fit_peaks'
 *      smoothing, height threshold and floor) whose prominence is at least
 *      `prominence` times the local noise.  Prominence is the height above
 *      the higher of the two lowest points met walking left and right until
 *      the profile rises above the maximum (or ends).  The local noise at
 *      bond i is estimated from the profile itself: 1.4826 x the median,
 *      over bonds |j - i| <= noise_half, of |f_j - s_j|, the part of the raw
 *      profile f that the smoothing s removes (its lattice-scale content).
 *      With the defaults (3-bond smoothing, prominence 3) ripples of period
 *      up to ~6 bonds are not maxima; longer ones are, and step 2 keeps the
 *      track off them.  Position: the vertex of the least-squares parabola
 *      through the maximum's top (the bonds around it within the
 *      threshold, at least three), so that a plateau whose ripples trade
 *      places is one maximum at the vertex of its overall dome;
 *   2. linking: once a pair is found, the next row's maximum on each side
 *      is the candidate nearest to the prediction n_prev + v (t - t_prev)
 *      (v from the last two tracked rows, 0 after one) within the gate
 *      |n - prediction| <= gate_bonds + gate_speed |t - t_prev|;
 *   3. the pair counts only if the smoothed profile dips between them by
 *      min_dip (fit_peaks' rule); otherwise, or when a side has no
 *      candidate in its gate, the track ends and the row is read like
 *      fit_peaks reads it (highest candidate per side), which starts a new
 *      track when it finds a pair (a restart, counted); when the prominent
 *      candidates hold no pair, fit_peaks' rule on every maximum reads the
 *      row, so that a maximum the noise estimate hides is not taken for
 *      one maximum;
 *   4. a row with one maximum has n'_L = n'_R = 0 (the paper's rule) and
 *      ends the track.
 *
 * Pure functions on arrays (no HDF5): tests/engine/test_track.c. */
#ifndef TRACK_H
#define TRACK_H

#include "fit.h"

typedef struct {
	fit_peak_opts_t peaks;  /* smoothing, height, floor, dip, refine */
	double prominence;      /* in units of the local noise (default 3;
	                           0: every local maximum is a candidate) */
	int noise_half;         /* half-width of the noise window in bonds
	                           (default 8) */
	double gate_bonds;      /* gate at zero time step (default 2 bonds) */
	double gate_speed;      /* gate growth in bonds per unit time
	                           (default 2: above the fastest group
	                           velocity, pi/2 J, of the XXZ chains) */
} track_opts_t;

void track_opts_default(track_opts_t *o);

/* The candidates of one profile f[nb] (bond n = n0 + i): positions (refined
 * as fit_peaks refines them) and smoothed heights, ascending in n, at most
 * maxn of them (*nmax is the total).  s (may be NULL) receives the smoothed
 * profile [nb]. */
int track_candidates(const double *f, int nb, int n0, const track_opts_t *o,
		     double *pos, double *height, int maxn, int *nmax,
		     double *s, char *err);

/* One row of a track. */
typedef struct {
	int found;        /* 1 two maxima, 0 one (or none), -1 row skipped */
	double n_left, n_right; /* bond labels; 0 when found == 0, NaN when
	                           skipped */
	int linked;       /* 1: both maxima linked from the previous row */
} track_row_t;

/* Tracks nrow profiles f[nrow][nb] at times time[nrow]; rows with a
 * non-finite time are skipped (found = -1).  *restarts (may be NULL) counts
 * the tracks that ended because a side had no candidate in its gate or the
 * linked pair had no dip, and were replaced by a fresh pair.  o may be NULL
 * (defaults).  Errors: as fit_peaks (non-finite values in a row with a
 * finite time, nb < 3, no junction, bad options). */
int track_profiles(const double *f, int nrow, int nb, int n0,
		   const double *time, const track_opts_t *o,
		   track_row_t *out, int *restarts, char *err);

#endif
