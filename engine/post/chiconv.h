/* chiconv: convergence of the light-cone velocities in chi_max, and the
 * A Delta + B fit over converged velocities only (engine/POSTSTAGE.md,
 * "Velocities converged in chi_max").
 *
 * A *ladder* is the set of points that differ only in chi_max (every other
 * parameter of the points table equal).  Its verdict compares the two
 * largest chi_max (the top rung and the one below):
 *   converged      |dv'_R| <= nsigma sqrt(sd_top^2 + sd_prev^2) and
 *                  |dv'_R| <= tol (and the same for v'_L with `left`);
 *   not converged  otherwise (the reason says which bound failed);
 *   one rung       a single chi_max: convergence unknown;
 *   no velocity    one of the two top rungs has no fitted velocity (its
 *                  light-cone message is the reason).
 * The velocity of a ladder is that of its top rung.  The A, B fit runs over
 * the ladders sharing every parameter but delta_right (and chi_max): by
 * default over the converged ones only, naming the ones left out and why;
 * with `use_largest` over every ladder whose top rung has a velocity.
 * Groups without any ladder of two rungs are listed without a fit
 * (convergence not checked; the per-chi_max fits of /analysis/velocity_fit
 * stand for them).
 *
 * The numerics need no HDF5; chiconv_write stores the two tables under
 * /analysis (tests: tests/engine/test_chiconv.c, test_fit_chi.py). */
#ifndef CHICONV_H
#define CHICONV_H

#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>

#include "archive.h"
#include "schema.h" /* the rows of its two /analysis tables */


enum {
	CHICONV_CONVERGED = 1,
	CHICONV_NOT_CONVERGED = 0,
	CHICONV_ONE_RUNG = -1,
	CHICONV_NO_VELOCITY = -2,
};

/* "converged", "not converged", "one chi_max", "no velocity" */
const char *chiconv_verdict_name(int verdict);

typedef struct {
	double tol;      /* |change| bound, bonds per unit time (default 0.05) */
	double nsigma;   /* change within nsigma combined sds (default 1) */
	int left;        /* the verdict needs v'_L converged too (default 0) */
	int use_largest; /* A, B over the top rungs, converged or not */
} chiconv_opts_t;

void chiconv_opts_default(chiconv_opts_t *o);

/* The input: one point (borrowed) and its fitted velocities. */
typedef struct {
	const archive_point_row_t *p;
	int has_v;       /* 1: v'_R, v'_L fitted */
	double v_right, v_right_sd, v_left, v_left_sd;
	double v_right_win; /* v'_R's change over the window's halves (only
			     * printed: the verdict is by sd and tol) */
	const char *why; /* why not fitted (may be NULL) */
} chiconv_point_t;


/* Ladders of the points (thermal tables and points without energy current
 * are skipped by the caller), with verdicts; *out owned by the caller. */
int chiconv_ladders(const chiconv_point_t *pts, int np,
		    const chiconv_opts_t *o, chiconv_ladder_t **out, int *nout,
		    char *err);

/* The A, B fits over the ladders (marks lad[].used); *out owned by the
 * caller.  Fits of groups without any two-rung ladder are listed with
 * ok = 0 and a message, and are not failures: *nfail counts the groups that
 * have a ladder of two rungs but could not be fitted. */
int chiconv_fits(const chiconv_point_t *pts, chiconv_ladder_t *lad, int nl,
		 const chiconv_opts_t *o, chiconv_fit_t **out, int *nout,
		 int *nfail, char *err);

/* Writes /analysis/chi_verdict and /analysis/velocity_fit_chi into the
 * open group `an` (replacing them) and the attributes chi_tol,
 * chi_nsigma, chi_left, chi_use_largest. */
int chiconv_write(hid_t an, const chiconv_opts_t *o,
		  const chiconv_ladder_t *lad, int nl, const chiconv_fit_t *fit,
		  int nfit, char *err);

/* The per-chi table, verdicts and fits, as `kapitza fit` prints them. */
void chiconv_print(FILE *f, const chiconv_point_t *pts,
		   const chiconv_opts_t *o, const chiconv_ladder_t *lad,
		   int nl, const chiconv_fit_t *fit, int nfit);

/* `kapitza status`: the verdicts the last `kapitza fit` stored in
 * /analysis/chi_verdict of the archive at `path`, one line per ladder with
 * two chi_max or more; nothing if there are none (or no fit yet).  Returns
 * 0, or -1 if the table exists but cannot be read (message in err). */
int chiconv_status(FILE *f, const char *path, char *err);

/* Whether two points differ in chi_max alone (every other parameter of the
 * points table equal): the rungs of a ladder, and the pairs of the
 * convergence times (convergence.c). */
int chiconv_same_ladder(const archive_point_row_t *a,
			const archive_point_row_t *b);

/* Whether two points have every parameter of the points table equal but
 * those named in `skip`: chi_max (CHICONV_SKIP_CHI) and the right half's
 * anisotropy, delta_right and gamma_right (CHICONV_SKIP_DELTA_R).  The one
 * comparison behind a ladder (skip chi), a v'_R(Delta) group of
 * lightcone.c (skip delta_r) and an A, B group of ladders (both). */
#define CHICONV_SKIP_CHI 1u
#define CHICONV_SKIP_DELTA_R 2u
int chiconv_same_params(const archive_point_row_t *a,
			const archive_point_row_t *b, unsigned skip);

#endif
